/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file icmp6.h
 * ICMPv6 (RFC 4443), Neighbour Discovery (RFC 4861 section 4, RDNSS from
 * RFC 8106) and MLDv2 (RFC 3810).
 *
 * Every message is checksummed over the IPv6 pseudo-header (RFC 8200 8.1),
 * so checks and emits take the source and destination addresses. Validation
 * that needs the IPv6 header (ND's hop limit 255, RFC 4861 6.1; MLD's
 * link-local source, RFC 3810 5) belongs to the caller. All functions are
 * pure: safe from any thread.
 */
#ifndef MPNET_WIRE_ICMP6_H
#define MPNET_WIRE_ICMP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/ipv6.h"

#define MPNET_ICMP6_HLEN 8

#define MPNET_ICMP6_DEST_UNREACH   1
#define MPNET_ICMP6_PACKET_TOO_BIG 2
#define MPNET_ICMP6_TIME_EXCEEDED  3
#define MPNET_ICMP6_PARAM_PROBLEM  4
#define MPNET_ICMP6_ECHO_REQUEST   128
#define MPNET_ICMP6_ECHO_REPLY     129
#define MPNET_ICMP6_MLD_QUERY      130
#define MPNET_ICMP6_ND_RS          133
#define MPNET_ICMP6_ND_RA          134
#define MPNET_ICMP6_ND_NS          135
#define MPNET_ICMP6_ND_NA          136
#define MPNET_ICMP6_ND_REDIRECT    137
#define MPNET_ICMP6_MLD2_REPORT    143

/* Parameter problem codes (RFC 4443 3.4, RFC 7112 5). */
#define MPNET_ICMP6_PARAM_HEADER      0
#define MPNET_ICMP6_PARAM_NEXT_HEADER 1
#define MPNET_ICMP6_PARAM_OPTION      2
#define MPNET_ICMP6_PARAM_CHAIN       3

struct mpnet_icmp6_view {
        const uint8_t *b;
        size_t n; /* the whole message */
};

/**
 * @return 0, or -MPNET_WIRE_TRUNCATED below 8 bytes (every message RFC 4443,
 * 4861 and 3810 define has at least 8).
 */
MPNET_API int mpnet_icmp6_view_check(const uint8_t *b, size_t n, struct mpnet_icmp6_view *v);

static inline uint8_t mpnet_icmp6_type(const struct mpnet_icmp6_view *v)
{
        return v->b[0];
}
static inline uint8_t mpnet_icmp6_code(const struct mpnet_icmp6_view *v)
{
        return v->b[1];
}
/** The second header word: echo id and sequence, MTU, pointer. */
static inline uint32_t mpnet_icmp6_rest(const struct mpnet_icmp6_view *v)
{
        return mpnet_get_be32(v->b + 4);
}
static inline const uint8_t *mpnet_icmp6_data(const struct mpnet_icmp6_view *v)
{
        return v->b + MPNET_ICMP6_HLEN;
}
static inline size_t mpnet_icmp6_data_len(const struct mpnet_icmp6_view *v)
{
        return v->n - MPNET_ICMP6_HLEN;
}

/** @return the checksum of msg (n bytes) with its pseudo-header: 0 when it verifies. */
MPNET_API uint16_t mpnet_icmp6_csum(const uint8_t *msg, size_t n, const uint8_t *src,
                                    const uint8_t *dst);

static inline bool mpnet_icmp6_csum_ok(const struct mpnet_icmp6_view *v, const uint8_t *src,
                                       const uint8_t *dst)
{
        return mpnet_icmp6_csum(v->b, v->n, src, dst) == 0;
}

/**
 * Echo and error messages as fields. For echo, id and seq are used; for the
 * others rest is the second word: the MTU of packet too big, the pointer of
 * parameter problem, 0 (unused) otherwise. data is the echo data or the
 * invoking packet; it may point into the buffer being emitted into.
 */
struct mpnet_icmp6_repr {
        uint8_t type;
        uint8_t code;
        uint16_t id, seq;
        uint32_t rest;
        const uint8_t *data;
        size_t data_len;
};

MPNET_API void mpnet_icmp6_repr_parse(const struct mpnet_icmp6_view *v, struct mpnet_icmp6_repr *r);
static inline size_t mpnet_icmp6_repr_len(const struct mpnet_icmp6_repr *r)
{
        return MPNET_ICMP6_HLEN + r->data_len;
}
/** Write header and data (moved if they overlap) with the checksum into b. */
MPNET_API void mpnet_icmp6_repr_emit(const struct mpnet_icmp6_repr *r, const uint8_t *src,
                                     const uint8_t *dst, uint8_t *b);

/* ---- Neighbour Discovery (RFC 4861 section 4) ---- */

#define MPNET_ND_OPT_SLLA       1
#define MPNET_ND_OPT_TLLA       2
#define MPNET_ND_OPT_PREFIX     3
#define MPNET_ND_OPT_REDIRECTED 4
#define MPNET_ND_OPT_MTU        5
#define MPNET_ND_OPT_NONCE      14 /* RFC 3971 5.3.2, used by RFC 7527 DAD */
#define MPNET_ND_OPT_RDNSS      25 /* RFC 8106 */

/**
 * An ND message as fields; each type uses its own. On parse, opts points at
 * the message's options (checked as TLVs, not by content); emit takes its
 * options from a struct mpnet_nd_opts instead.
 */
struct mpnet_nd_repr {
        uint8_t type;
        uint8_t cur_hop_limit;            /* RA */
        bool managed, other;              /* RA M and O flags */
        uint16_t router_lifetime;         /* RA, seconds */
        uint32_t reachable, retrans;      /* RA, milliseconds */
        bool router, solicited, override; /* NA R, S and O flags */
        uint8_t target[MPNET_IP6_ALEN];   /* NS, NA, redirect */
        uint8_t dst[MPNET_IP6_ALEN];      /* redirect */
        const uint8_t *opts;
        size_t opts_len;
};

/**
 * Parse RS, RA, NS, NA or redirect (RFC 4861 6.1, 7.1, 8.1 checks on the
 * message itself).
 * @return 0; -MPNET_WIRE_UNSUPPORTED for another type; -MPNET_WIRE_BAD_FIELD
 * for a code other than 0; -MPNET_WIRE_TRUNCATED when shorter than the
 * type's fixed part; or the option walk's error.
 */
MPNET_API int mpnet_nd_repr_parse(const struct mpnet_icmp6_view *v, struct mpnet_nd_repr *r);

/** One ND option: b is its type byte, n its whole length (len8 * 8). */
struct mpnet_nd_opt {
        uint8_t type;
        uint8_t len8;
        const uint8_t *b;
        size_t n;
};

struct mpnet_nd_opt_iter {
        const uint8_t *b;
        size_t pos, n;
};

static inline void mpnet_nd_opt_iter_init(struct mpnet_nd_opt_iter *it, const uint8_t *opts,
                                          size_t n)
{
        it->b = opts;
        it->pos = 0;
        it->n = n;
}
/**
 * @return 1 with o filled in; 0 at the end; -MPNET_WIRE_BAD_OPTION for a
 * length of 0 (RFC 4861 4.6: the whole packet is dropped);
 * -MPNET_WIRE_TRUNCATED when an option runs past the end. it->pos is then the
 * bad option's offset in the options.
 */
MPNET_API int mpnet_nd_opt_next(struct mpnet_nd_opt_iter *it, struct mpnet_nd_opt *o);

/** @return the Ethernet address in a source/target link-layer option, or NULL
 * when its length is not 1 (RFC 2464 section 8). */
static inline const uint8_t *mpnet_nd_opt_lladdr(const struct mpnet_nd_opt *o)
{
        return o->len8 == 1 ? o->b + 2 : NULL;
}

/** Prefix information (RFC 4861 4.6.2). */
struct mpnet_nd_prefix {
        uint8_t prefix_len;
        bool onlink;               /* L flag */
        bool autonomous;           /* A flag */
        uint32_t valid, preferred; /* lifetimes, seconds */
        uint8_t prefix[MPNET_IP6_ALEN];
};

/** RDNSS (RFC 8106 5.1): count addresses of 16 bytes at addrs. */
struct mpnet_nd_rdnss {
        uint32_t lifetime; /* seconds */
        const uint8_t *addrs;
        size_t count;
};

/* Decoders of one option's content. Each returns 0, or -MPNET_WIRE_BAD_OPTION
 * when the length is wrong for the type; RFC 4861 4.6 has the receiver skip
 * such an option, not drop the message. */
MPNET_API int mpnet_nd_opt_prefix(const struct mpnet_nd_opt *o, struct mpnet_nd_prefix *p);
MPNET_API int mpnet_nd_opt_mtu(const struct mpnet_nd_opt *o, uint32_t *mtu);
MPNET_API int mpnet_nd_opt_rdnss(const struct mpnet_nd_opt *o, struct mpnet_nd_rdnss *r);

/**
 * The options to emit, in this order. nonce is the 6 bytes of an enhanced
 * DAD probe (RFC 7527 4.1). redirected is the start of the invoking packet
 * for a redirect (RFC 4861 4.6.3), zero-padded to 8 bytes; the caller cuts
 * it so the message fits in the minimum MTU.
 */
struct mpnet_nd_opts {
        const uint8_t *slla; /* 6 bytes, or NULL */
        const uint8_t *tlla;
        const uint8_t *nonce; /* 6 bytes, or NULL */
        uint32_t mtu;         /* 0: none */
        const struct mpnet_nd_prefix *prefix;
        size_t n_prefix;
        struct mpnet_nd_rdnss rdnss; /* count 0: none */
        const uint8_t *redirected;
        size_t redirected_len;
};

/** @return the bytes emit writes for r with options o (o may be NULL). */
MPNET_API size_t mpnet_nd_repr_len(const struct mpnet_nd_repr *r, const struct mpnet_nd_opts *o);
/** Write the message, its options and its checksum into b. */
MPNET_API void mpnet_nd_repr_emit(const struct mpnet_nd_repr *r, const struct mpnet_nd_opts *o,
                                  const uint8_t *src, const uint8_t *dst, uint8_t *b);

/* ---- MLDv2 (RFC 3810) ---- */

#define MPNET_MLD2_MODE_IS_INCLUDE 1
#define MPNET_MLD2_MODE_IS_EXCLUDE 2
#define MPNET_MLD2_TO_INCLUDE      3
#define MPNET_MLD2_TO_EXCLUDE      4
#define MPNET_MLD2_ALLOW_NEW       5
#define MPNET_MLD2_BLOCK_OLD       6

/** A multicast listener query (RFC 3810 5.1). */
struct mpnet_mld_query {
        uint32_t max_resp;             /* milliseconds, decoded (5.1.3) */
        uint8_t group[MPNET_IP6_ALEN]; /* :: for a general query */
        bool v1;                       /* a 24-byte MLDv1 query: no fields below */
        bool suppress;                 /* S flag */
        uint8_t qrv;
        uint32_t qqi; /* seconds, decoded (5.1.9) */
        uint16_t n_src;
        const uint8_t *src; /* n_src addresses of 16 bytes */
};

/**
 * @return 0; -MPNET_WIRE_UNSUPPORTED unless type 130; -MPNET_WIRE_BAD_LEN
 * for a length neither 24 nor at least 28 (RFC 3810 8.1 ignores those);
 * -MPNET_WIRE_TRUNCATED when the sources run past the end.
 */
MPNET_API int mpnet_mld_query_parse(const struct mpnet_icmp6_view *v, struct mpnet_mld_query *q);

/** A multicast address record of a report (RFC 3810 5.2.4). */
struct mpnet_mld_record {
        uint8_t type;
        uint16_t n_src;
        const uint8_t *group; /* 16 bytes */
        const uint8_t *src;   /* n_src addresses of 16 bytes */
};

struct mpnet_mld_rec_iter {
        const uint8_t *b;
        size_t pos, n;
        uint16_t left;
};

/** @return 0, or -MPNET_WIRE_UNSUPPORTED unless v is an MLDv2 report. */
MPNET_API int mpnet_mld_report_iter_init(struct mpnet_mld_rec_iter *it,
                                         const struct mpnet_icmp6_view *v);
/**
 * Next record; auxiliary data is skipped (RFC 3810 5.2.10).
 * @return 1 with rec filled in; 0 after the last; -MPNET_WIRE_TRUNCATED
 * when a record runs past the message.
 */
MPNET_API int mpnet_mld_record_next(struct mpnet_mld_rec_iter *it, struct mpnet_mld_record *rec);

/** @return the length of a report of n records. */
MPNET_API size_t mpnet_mld_report_len(const struct mpnet_mld_record *recs, size_t n);
/** Write a report with its checksum into b; no auxiliary data (5.2.10). */
MPNET_API void mpnet_mld_report_emit(const struct mpnet_mld_record *recs, size_t n,
                                     const uint8_t *src, const uint8_t *dst, uint8_t *b);

#endif
