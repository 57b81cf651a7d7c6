/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ipv4.h
 * The IPv4 header (RFC 791). Options are skipped, never interpreted: the
 * view checks IHL so that the payload starts past them.
 */
#ifndef MPNET_WIRE_IPV4_H
#define MPNET_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define MPNET_IP4_HLEN       20 /* without options */
#define MPNET_IP4_HLEN_MAX   60 /* with the most options (IHL 15) */
#define MPNET_IPPROTO_ICMP   1
#define MPNET_IPPROTO_TCP    6
#define MPNET_IPPROTO_UDP    17
#define MPNET_IP4_ADDRSTRLEN 16

/** A checked IPv4 packet: n is the total length field (padding excluded). */
struct mpnet_ip4_view {
        const uint8_t *b;
        size_t n;
};

/**
 * Check that b holds a whole IPv4 packet.
 * @return 0; -MPNET_WIRE_TRUNCATED when n is shorter than the header;
 * -MPNET_WIRE_BAD_VERSION when the version is not 4; -MPNET_WIRE_BAD_HLEN
 * when IHL < 5 or the header runs past the total length; -MPNET_WIRE_BAD_LEN
 * when the total length is below 20 or beyond n. The checksum is not checked (see
 * mpnet_ip4_csum_ok()).
 */
MPNET_API int mpnet_ip4_view_check(const uint8_t *b, size_t n, struct mpnet_ip4_view *v);

static inline size_t mpnet_ip4_hlen(const struct mpnet_ip4_view *v)
{
        return (size_t)(v->b[0] & 0x0f) * 4;
}
static inline uint8_t mpnet_ip4_tos(const struct mpnet_ip4_view *v)
{
        return v->b[1];
}
static inline uint16_t mpnet_ip4_total_len(const struct mpnet_ip4_view *v)
{
        return mpnet_get_be16(v->b + 2);
}
static inline uint16_t mpnet_ip4_id(const struct mpnet_ip4_view *v)
{
        return mpnet_get_be16(v->b + 4);
}
static inline bool mpnet_ip4_df(const struct mpnet_ip4_view *v)
{
        return (v->b[6] & 0x40) != 0;
}
static inline bool mpnet_ip4_mf(const struct mpnet_ip4_view *v)
{
        return (v->b[6] & 0x20) != 0;
}
/** @return the fragment offset in bytes. */
static inline uint16_t mpnet_ip4_frag_off(const struct mpnet_ip4_view *v)
{
        return (uint16_t)((mpnet_get_be16(v->b + 6) & 0x1fff) * 8);
}
static inline uint8_t mpnet_ip4_ttl(const struct mpnet_ip4_view *v)
{
        return v->b[8];
}
static inline uint8_t mpnet_ip4_proto(const struct mpnet_ip4_view *v)
{
        return v->b[9];
}
static inline uint16_t mpnet_ip4_csum(const struct mpnet_ip4_view *v)
{
        return mpnet_get_be16(v->b + 10);
}
static inline uint32_t mpnet_ip4_src(const struct mpnet_ip4_view *v)
{
        return mpnet_get_be32(v->b + 12);
}
static inline uint32_t mpnet_ip4_dst(const struct mpnet_ip4_view *v)
{
        return mpnet_get_be32(v->b + 16);
}
static inline const uint8_t *mpnet_ip4_payload(const struct mpnet_ip4_view *v)
{
        return v->b + mpnet_ip4_hlen(v);
}
static inline size_t mpnet_ip4_payload_len(const struct mpnet_ip4_view *v)
{
        return v->n - mpnet_ip4_hlen(v);
}
/** @return true when the header checksum verifies. */
static inline bool mpnet_ip4_csum_ok(const struct mpnet_ip4_view *v)
{
        return mpnet_csum(v->b, mpnet_ip4_hlen(v)) == 0;
}
/** @return true for any fragment (MF set or a non-zero offset). */
static inline bool mpnet_ip4_is_fragment(const struct mpnet_ip4_view *v)
{
        return (mpnet_get_be16(v->b + 6) & 0x3fff) != 0;
}

/** @return true when the header's options hold a loose or strict source
 * route (RFC 791 3.1: LSRR 131, SSRR 137); a malformed option list ends the
 * walk. */
MPNET_API bool mpnet_ip4_has_source_route(const struct mpnet_ip4_view *v);

/** An IPv4 header as fields; addresses in host order. Options are not kept. */
struct mpnet_ip4_repr {
        uint32_t src, dst;
        uint16_t id;
        uint16_t payload_len; /* bytes after the header */
        uint16_t frag_off;    /* in bytes, a multiple of 8 */
        uint8_t proto;
        uint8_t ttl;
        uint8_t tos;
        bool df, mf;
};

/** Parse a checked view; payload_len excludes the options. */
MPNET_API void mpnet_ip4_repr_parse(const struct mpnet_ip4_view *v, struct mpnet_ip4_repr *r);
static inline size_t mpnet_ip4_repr_len(const struct mpnet_ip4_repr *r)
{
        (void)r;
        return MPNET_IP4_HLEN;
}
/** Write a 20-byte header with its checksum into b. */
MPNET_API void mpnet_ip4_repr_emit(const struct mpnet_ip4_repr *r, uint8_t *b);

/* Address classes (host order). */
static inline bool mpnet_ip4_is_multicast(uint32_t a)
{
        return (a >> 28) == 0xe;
}
/** The Ethernet address of group a: 01:00:5e and its low 23 bits (RFC
 * 1112 6.4). */
static inline void mpnet_ip4_mc_mac(uint32_t a, uint8_t *mac)
{
        mac[0] = 0x01;
        mac[1] = 0x00;
        mac[2] = 0x5e;
        mac[3] = (uint8_t)((a >> 16) & 0x7f);
        mac[4] = (uint8_t)(a >> 8);
        mac[5] = (uint8_t)a;
}
static inline bool mpnet_ip4_is_limited_bcast(uint32_t a)
{
        return a == 0xffffffffu;
}
static inline bool mpnet_ip4_is_loopback(uint32_t a)
{
        return (a >> 24) == 127;
}
/** 0.0.0.0/8, "this network" (RFC 1122 3.2.1.3). */
static inline bool mpnet_ip4_is_zeronet(uint32_t a)
{
        return (a >> 24) == 0;
}
/** 240.0.0.0/4 except the limited broadcast. */
static inline bool mpnet_ip4_is_class_e(uint32_t a)
{
        return (a >> 28) == 0xf && a != 0xffffffffu;
}

/**
 * RFC 1122 3.2.1.3 and RFC 1812 5.3.7: a source no host may send from:
 * 0/8, 127/8, 224/4 (multicast) and 240/4 (class E, limited broadcast).
 */
static inline bool mpnet_ip4_is_martian_src(uint32_t a)
{
        uint32_t top = a >> 24;

        return top == 0 || top == 127 || top >= 224;
}

/**
 * Format a as dotted quad into buf (MPNET_IP4_ADDRSTRLEN bytes are enough).
 * @return buf.
 */
MPNET_API char *mpnet_ip4_ntop(uint32_t a, char *buf, size_t len);
/** Parse a dotted quad. @return 0, or -EINVAL. */
MPNET_API int mpnet_ip4_pton(const char *s, uint32_t *a);

#endif
