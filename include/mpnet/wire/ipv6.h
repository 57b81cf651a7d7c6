/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ipv6.h
 * The IPv6 header (RFC 8200), address classes (RFC 4291), and a bounded walk
 * of the extension header chain with its option TLVs.
 *
 * Addresses are 16 bytes in network order, passed as pointers. All functions
 * are pure: safe from any thread.
 */
#ifndef MPNET_WIRE_IPV6_H
#define MPNET_WIRE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define MPNET_IP6_HLEN    40
#define MPNET_IP6_ALEN    16
#define MPNET_IP6_MIN_MTU 1280 /* RFC 8200 section 5 */

/* Next header values that the walker knows (IANA "IPv6 Extension Header Types"). */
#define MPNET_IPPROTO_HOPOPTS  0
#define MPNET_IPPROTO_ROUTING  43
#define MPNET_IPPROTO_FRAGMENT 44
#define MPNET_IPPROTO_ESP      50
#define MPNET_IPPROTO_AH       51
#define MPNET_IPPROTO_ICMPV6   58
#define MPNET_IPPROTO_NONE     59
#define MPNET_IPPROTO_DSTOPTS  60

/** A checked IPv6 packet: n is 40 plus the payload length (padding excluded). */
struct mpnet_ip6_view {
        const uint8_t *b;
        size_t n;
};

/**
 * Check that b holds a whole IPv6 packet.
 * @return 0; -MPNET_WIRE_TRUNCATED when n is shorter than the 40-byte header;
 * -MPNET_WIRE_BAD_VERSION when the version is not 6; -MPNET_WIRE_BAD_LEN when
 * the payload length runs past n. A payload length of 0 is taken as it reads
 * (jumbograms, RFC 2675, are not supported).
 */
MPNET_API int mpnet_ip6_view_check(const uint8_t *b, size_t n, struct mpnet_ip6_view *v);

static inline uint8_t mpnet_ip6_traffic_class(const struct mpnet_ip6_view *v)
{
        return (uint8_t)(mpnet_get_be16(v->b) >> 4);
}
static inline uint32_t mpnet_ip6_flow_label(const struct mpnet_ip6_view *v)
{
        return mpnet_get_be32(v->b) & 0xfffff;
}
static inline uint16_t mpnet_ip6_payload_len(const struct mpnet_ip6_view *v)
{
        return mpnet_get_be16(v->b + 4);
}
static inline uint8_t mpnet_ip6_next_header(const struct mpnet_ip6_view *v)
{
        return v->b[6];
}
static inline uint8_t mpnet_ip6_hop_limit(const struct mpnet_ip6_view *v)
{
        return v->b[7];
}
static inline const uint8_t *mpnet_ip6_src(const struct mpnet_ip6_view *v)
{
        return v->b + 8;
}
static inline const uint8_t *mpnet_ip6_dst(const struct mpnet_ip6_view *v)
{
        return v->b + 24;
}
static inline const uint8_t *mpnet_ip6_payload(const struct mpnet_ip6_view *v)
{
        return v->b + MPNET_IP6_HLEN;
}

/** An IPv6 header as fields. */
struct mpnet_ip6_repr {
        uint8_t src[MPNET_IP6_ALEN];
        uint8_t dst[MPNET_IP6_ALEN];
        uint32_t flow_label; /* 20 bits */
        uint16_t payload_len;
        uint8_t next_header;
        uint8_t hop_limit;
        uint8_t traffic_class;
};

MPNET_API void mpnet_ip6_repr_parse(const struct mpnet_ip6_view *v, struct mpnet_ip6_repr *r);
static inline size_t mpnet_ip6_repr_len(const struct mpnet_ip6_repr *r)
{
        (void)r;
        return MPNET_IP6_HLEN;
}
/** Write the 40-byte header into b. */
MPNET_API void mpnet_ip6_repr_emit(const struct mpnet_ip6_repr *r, uint8_t *b);

/**
 * RFC 8200 section 8.1: the unfolded sum of the upper-layer pseudo-header
 * (source, destination, 32-bit upper-layer length, next header). Add the
 * upper-layer message with mpnet_csum_add() and fold.
 */
MPNET_API uint64_t mpnet_ip6_pseudo_sum(const uint8_t *src, const uint8_t *dst, uint32_t len,
                                        uint8_t proto);

/* Multicast scopes (RFC 4291 2.7, RFC 7346). */
#define MPNET_IP6_SCOPE_INTERFACE 0x1
#define MPNET_IP6_SCOPE_LINK      0x2
#define MPNET_IP6_SCOPE_REALM     0x3
#define MPNET_IP6_SCOPE_ADMIN     0x4
#define MPNET_IP6_SCOPE_SITE      0x5
#define MPNET_IP6_SCOPE_ORG       0x8
#define MPNET_IP6_SCOPE_GLOBAL    0xe

/** :: (RFC 4291 2.5.2). */
MPNET_API bool mpnet_ip6_is_unspecified(const uint8_t *a);
/** ::1 (RFC 4291 2.5.3). */
MPNET_API bool mpnet_ip6_is_loopback(const uint8_t *a);
/** ff00::/8 (RFC 4291 2.7). */
static inline bool mpnet_ip6_is_multicast(const uint8_t *a)
{
        return a[0] == 0xff;
}
/** The scope field of a multicast address (low 4 bits of byte 1). */
static inline uint8_t mpnet_ip6_mc_scope(const uint8_t *a)
{
        return a[1] & 0x0f;
}
/** fe80::/10 (RFC 4291 2.5.6). */
static inline bool mpnet_ip6_is_link_local(const uint8_t *a)
{
        return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}
/** ff02::1:ff00:0/104 (RFC 4291 2.7.1). */
MPNET_API bool mpnet_ip6_is_solicited_node(const uint8_t *a);
/** Write the solicited-node multicast address of unicast address a into out. */
MPNET_API void mpnet_ip6_solicited_node(const uint8_t *a, uint8_t *out);
/** RFC 2464 section 7: the Ethernet address 33:33 + the last 4 bytes of a. */
MPNET_API void mpnet_ip6_mc_mac(const uint8_t *a, uint8_t *mac);

/*
 * The extension header chain. The walk stops at the first next header value
 * that is not hop-by-hop, routing, fragment, destination options or AH: that
 * is the upper-layer protocol (ESP and No Next Header included; the caller
 * decides what it does not know). It also stops after a fragment header whose
 * offset is not 0: what follows is the middle of the reassembled payload.
 *
 * Bounds: at most MPNET_IP6_EXT_MAX extension headers, and the chain must end
 * within the first MPNET_IP6_CHAIN_MAX bytes of the packet. RFC 7112 requires
 * the whole chain in the first fragment, which need not be longer than the
 * minimum MTU; RFC 8200 4.1's order has each header at most once (destination
 * options twice), six in all, so eight leaves room for AH and odd orders.
 */
#define MPNET_IP6_EXT_MAX   8
#define MPNET_IP6_CHAIN_MAX MPNET_IP6_MIN_MTU

/** One extension header: its protocol number and offset from the IPv6 header. */
struct mpnet_ip6_ext {
        uint8_t proto;
        uint16_t off;
        uint16_t len;
};

/**
 * The walked chain. Offsets count from the first byte of the IPv6 header,
 * which is what an ICMPv6 parameter problem pointer holds (RFC 4443 3.4).
 */
struct mpnet_ip6_chain {
        struct mpnet_ip6_ext ext[MPNET_IP6_EXT_MAX];
        uint8_t n_ext;
        uint8_t l4_proto; /* the final next header value */
        uint16_t l4_off;  /* where the upper-layer header starts */
        uint16_t err_off; /* on error: the offending byte */
        /* The routing header, when has_rh. */
        bool has_rh;
        uint8_t rh_type;
        uint8_t rh_segs_left;
        /* The fragment header, when has_frag. */
        bool has_frag;
        bool frag_more;    /* M flag */
        bool frag_atomic;  /* offset 0 and M clear: RFC 6946, not reassembled */
        uint16_t frag_off; /* fragment offset in bytes */
        uint32_t frag_id;
};

/**
 * Walk the extension headers of a checked packet.
 * @return 0 with l4_proto and l4_off set, or a negated wire error with
 * err_off set (the fields for headers already walked stay filled in):
 * - -MPNET_WIRE_TRUNCATED: a header runs past the payload; err_off is its
 *   first byte. In a first fragment (has_frag, frag_off 0) this is RFC 7112
 *   section 5's incomplete chain (parameter problem code 3).
 * - -MPNET_WIRE_BAD_ORDER: hop-by-hop after the IPv6 header (RFC 8200 4.1);
 *   err_off is the next header field that named it (code 1, as Linux does).
 * - -MPNET_WIRE_DEPRECATED: routing type 0 with segments left (RFC 5095 3,
 *   handled as an unknown type per RFC 8200 4.4); err_off is the routing
 *   type field (code 0). Type 0 with no segments left is walked past.
 * - -MPNET_WIRE_BAD_LEN: a fragment with M set whose length is not a
 *   multiple of 8 (err_off 4, the payload length field), or whose end is past
 *   65535 (err_off at the fragment offset field); RFC 8200 4.5, code 0.
 * - -MPNET_WIRE_TOO_LONG: past MPNET_IP6_EXT_MAX headers or
 *   MPNET_IP6_CHAIN_MAX bytes; err_off is the header that did not fit.
 * Options inside hop-by-hop and destination options are not looked at: walk
 * them with mpnet_ip6_opt_next().
 */
MPNET_API int mpnet_ip6_walk(const struct mpnet_ip6_view *v, struct mpnet_ip6_chain *c);

/* Options of hop-by-hop and destination options headers (RFC 8200 4.2). */
#define MPNET_IP6_OPT_PAD1         0x00
#define MPNET_IP6_OPT_PADN         0x01
#define MPNET_IP6_OPT_JUMBO        0xc2 /* RFC 2675 */
#define MPNET_IP6_OPT_ROUTER_ALERT 0x05 /* RFC 2711 */

/** The two high bits of an option type: what to do when it is not recognised. */
enum mpnet_ip6_opt_action {
        MPNET_IP6_OPT_SKIP = 0,              /* skip it, go on */
        MPNET_IP6_OPT_DISCARD = 1,           /* drop the packet silently */
        MPNET_IP6_OPT_DISCARD_ICMP = 2,      /* drop, parameter problem code 2 */
        MPNET_IP6_OPT_DISCARD_ICMP_UCAST = 3 /* same, unless dst is multicast */
};

static inline enum mpnet_ip6_opt_action mpnet_ip6_opt_action(uint8_t type)
{
        return (enum mpnet_ip6_opt_action)(type >> 6);
}
/** The third high bit: the option data may change en route (RFC 8200 4.2). */
static inline bool mpnet_ip6_opt_may_change(uint8_t type)
{
        return (type & 0x20) != 0;
}

/** One option; off is its type byte's offset from the IPv6 header. */
struct mpnet_ip6_opt {
        uint8_t type;
        uint8_t len;
        const uint8_t *data;
        uint16_t off;
};

/** Walks the options of one header that mpnet_ip6_walk() returned. */
struct mpnet_ip6_opt_iter {
        const uint8_t *pkt;
        size_t pos, end;
};

/** Start on the options of ext (a hop-by-hop or destination options header). */
MPNET_API void mpnet_ip6_opt_iter_init(struct mpnet_ip6_opt_iter *it,
                                       const struct mpnet_ip6_view *v,
                                       const struct mpnet_ip6_ext *ext);
/**
 * Next option other than Pad1 and PadN.
 * @return 1 with o filled in; 0 at the end of the header; -MPNET_WIRE_TRUNCATED
 * when an option runs past the header (o->off is then its type byte).
 */
MPNET_API int mpnet_ip6_opt_next(struct mpnet_ip6_opt_iter *it, struct mpnet_ip6_opt *o);

#endif
