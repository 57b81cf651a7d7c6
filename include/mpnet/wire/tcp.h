/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file tcp.h
 * The TCP header (RFC 9293 3.1), its options and its checksum over the IPv4
 * or IPv6 (RFC 8200 8.1) pseudo-header.
 *
 * The view is checked against the IP payload it came in (TCP has no length
 * field: the segment is the whole payload), so its three faults are told
 * apart: fewer than 20 bytes, a data offset below 5, and a data offset that
 * runs past the segment.
 *
 * Options (RFC 9293 3.2): EOL, NOP, MSS, window scale (RFC 7323 2.2),
 * SACK-permitted and SACK (RFC 2018), timestamps (RFC 7323 3.2). Others are
 * skipped by their length. A length below 2, one that runs past the option
 * space, or a known option whose length is not its fixed one is malformed
 * (RFC 9293 3.1: "be prepared to handle an illegal option length"); the
 * walk stops there without reading further, and the caller drops the
 * segment.
 */
#ifndef MPNET_WIRE_TCP_H
#define MPNET_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define MPNET_TCP_HLEN     20
#define MPNET_TCP_HLEN_MAX 60
#define MPNET_TCP_OPT_MAX  40

/* The flags (the header's 12 low bits of bytes 12-13, RFC 9293 3.1; ECE and
 * CWR from RFC 3168 6.1; AE, once NS, from RFC 3540 and AccECN). */
#define MPNET_TCP_FIN 0x001
#define MPNET_TCP_SYN 0x002
#define MPNET_TCP_RST 0x004
#define MPNET_TCP_PSH 0x008
#define MPNET_TCP_ACK 0x010
#define MPNET_TCP_URG 0x020
#define MPNET_TCP_ECE 0x040
#define MPNET_TCP_CWR 0x080
#define MPNET_TCP_AE  0x100

/* Option kinds (IANA "TCP Option Kind Numbers"). */
#define MPNET_TCPOPT_EOL       0
#define MPNET_TCPOPT_NOP       1
#define MPNET_TCPOPT_MSS       2
#define MPNET_TCPOPT_WSCALE    3
#define MPNET_TCPOPT_SACK_PERM 4
#define MPNET_TCPOPT_SACK      5
#define MPNET_TCPOPT_TS        8

/** RFC 7323 2.3: a shift above 14 is taken as 14. */
#define MPNET_TCP_WSCALE_MAX 14
/** The most SACK blocks that fit the 40 bytes of options (RFC 2018 3). */
#define MPNET_TCP_SACK_MAX 4

/** A checked segment: n is the IP payload length (header and data). */
struct mpnet_tcp_view {
        const uint8_t *b;
        size_t n;
};

/**
 * Check that b (the n bytes of IP payload) is a whole TCP segment.
 * @return 0; -MPNET_WIRE_TRUNCATED when n < 20; -MPNET_WIRE_BAD_HLEN when the
 * data offset is below 5; -MPNET_WIRE_BAD_LEN when the data offset is beyond
 * n. Neither the checksum nor the options are checked.
 */
MPNET_API int mpnet_tcp_view_check(const uint8_t *b, size_t n, struct mpnet_tcp_view *v);

static inline uint16_t mpnet_tcp_sport(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be16(v->b);
}
static inline uint16_t mpnet_tcp_dport(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be16(v->b + 2);
}
static inline uint32_t mpnet_tcp_seq(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be32(v->b + 4);
}
static inline uint32_t mpnet_tcp_ack(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be32(v->b + 8);
}
/** @return the header length in bytes (data offset times 4). */
static inline size_t mpnet_tcp_hlen(const struct mpnet_tcp_view *v)
{
        return (size_t)(v->b[12] >> 4) * 4;
}
/** @return the flags, MPNET_TCP_FIN ... MPNET_TCP_AE (reserved bits cleared). */
static inline uint16_t mpnet_tcp_flags(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be16(v->b + 12) & 0x1ff;
}
static inline uint16_t mpnet_tcp_window(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be16(v->b + 14);
}
static inline uint16_t mpnet_tcp_csum(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be16(v->b + 16);
}
static inline uint16_t mpnet_tcp_urg(const struct mpnet_tcp_view *v)
{
        return mpnet_get_be16(v->b + 18);
}
static inline const uint8_t *mpnet_tcp_opts(const struct mpnet_tcp_view *v)
{
        return v->b + MPNET_TCP_HLEN;
}
static inline size_t mpnet_tcp_opts_len(const struct mpnet_tcp_view *v)
{
        return mpnet_tcp_hlen(v) - MPNET_TCP_HLEN;
}
static inline const uint8_t *mpnet_tcp_payload(const struct mpnet_tcp_view *v)
{
        return v->b + mpnet_tcp_hlen(v);
}
static inline size_t mpnet_tcp_payload_len(const struct mpnet_tcp_view *v)
{
        return v->n - mpnet_tcp_hlen(v);
}
/** @return the sequence space the segment takes: its data, plus one each for
 * SYN and FIN (RFC 9293 3.4, SEG.LEN). */
static inline uint32_t mpnet_tcp_seg_len(const struct mpnet_tcp_view *v)
{
        uint16_t f = mpnet_tcp_flags(v);

        return (uint32_t)mpnet_tcp_payload_len(v) + !!(f & MPNET_TCP_SYN) + !!(f & MPNET_TCP_FIN);
}

/* mpnet_tcp_opts.present bits. */
#define MPNET_TCPO_MSS       0x01
#define MPNET_TCPO_WSCALE    0x02
#define MPNET_TCPO_SACK_PERM 0x04
#define MPNET_TCPO_SACK      0x08
#define MPNET_TCPO_TS        0x10

/** One SACK block: [left, right) in sequence space (RFC 2018 3). */
struct mpnet_tcp_sack {
        uint32_t left, right;
};

/** The options a segment carries. A field is meaningful when its bit is in
 * present; unknown options are counted, not kept. wscale is as received
 * (the user clamps it to MPNET_TCP_WSCALE_MAX). */
struct mpnet_tcp_opts {
        uint8_t present;
        uint8_t wscale;
        uint8_t sack_n;
        uint8_t unknown;
        uint16_t mss;
        uint32_t ts_val, ts_ecr;
        struct mpnet_tcp_sack sack[MPNET_TCP_SACK_MAX];
};

/**
 * Walk n bytes of options (at most MPNET_TCP_OPT_MAX) into o (cleared
 * first). A later option of a kind seen before replaces it.
 * @return 0; -MPNET_WIRE_BAD_OPTION for a malformed length (below 2, past
 * the end, or not the fixed length of MSS 4, window scale 3, SACK-permitted
 * 2, timestamps 10, SACK 2 + 8k with 1 <= k <= 4), o then holding what came
 * before it.
 */
MPNET_API int mpnet_tcp_opts_parse(const uint8_t *b, size_t n, struct mpnet_tcp_opts *o);

/**
 * @return the bytes mpnet_tcp_opts_emit() writes for o (a multiple of 4), or
 * -MPNET_WIRE_TOO_LONG when they exceed MPNET_TCP_OPT_MAX (timestamps leave
 * room for 3 SACK blocks, RFC 2018 3).
 */
MPNET_API int mpnet_tcp_opts_size(const struct mpnet_tcp_opts *o);
/**
 * Write o's options into b, 32-bit aligned, in the layout Linux sends (so a
 * Linux segment's options come back byte for byte): MSS; SACK-permitted and
 * timestamps together (4,2,8,10) or each behind two NOPs; NOP and window
 * scale; two NOPs and the SACK blocks. Unknown options are not written.
 * @return the bytes written (mpnet_tcp_opts_size()), or -MPNET_WIRE_TOO_LONG
 * with nothing written.
 */
MPNET_API int mpnet_tcp_opts_emit(const struct mpnet_tcp_opts *o, uint8_t *b);

/** A TCP header as fields. */
struct mpnet_tcp_repr {
        uint16_t sport, dport;
        uint32_t seq, ack;
        uint16_t flags;
        uint16_t window;
        uint16_t urg;
        size_t payload_len;
        struct mpnet_tcp_opts opts;
};

/**
 * Fill r from a checked view, options walked.
 * @return 0, or mpnet_tcp_opts_parse()'s error (r's other fields filled).
 */
MPNET_API int mpnet_tcp_repr_parse(const struct mpnet_tcp_view *v, struct mpnet_tcp_repr *r);
/** @return the header length r emits (20 plus its options), or
 * -MPNET_WIRE_TOO_LONG. */
static inline int mpnet_tcp_repr_hlen(const struct mpnet_tcp_repr *r)
{
        int n = mpnet_tcp_opts_size(&r->opts);

        return n < 0 ? n : MPNET_TCP_HLEN + n;
}
/**
 * Write the header and options into b with a zero checksum field (the
 * payload follows in place; fill the checksum with the calls below).
 * @return the header length, or -MPNET_WIRE_TOO_LONG with nothing written.
 */
MPNET_API int mpnet_tcp_repr_emit(const struct mpnet_tcp_repr *r, uint8_t *b);

/**
 * The pseudo-headers as running sums for mpnet_csum_add() (len: the TCP
 * length, header and data; addresses: IPv4 in host order, IPv6 as 16
 * bytes). RFC 9293 3.1 and RFC 8200 8.1.
 */
MPNET_API uint64_t mpnet_tcp4_pseudo(uint32_t src, uint32_t dst, uint16_t len);
MPNET_API uint64_t mpnet_tcp6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len);

/** @return 0 when the segment's checksum verifies, -MPNET_WIRE_BAD_CSUM
 * otherwise (a zero field is no exception in TCP). */
MPNET_API int mpnet_tcp4_csum_check(const struct mpnet_tcp_view *v, uint32_t src, uint32_t dst);
MPNET_API int mpnet_tcp6_csum_check(const struct mpnet_tcp_view *v, const uint8_t src[16],
                                    const uint8_t dst[16]);
/** Fill the checksum of the n-byte segment at b (header and payload). */
MPNET_API void mpnet_tcp4_csum_set(uint8_t *b, size_t n, uint32_t src, uint32_t dst);
MPNET_API void mpnet_tcp6_csum_set(uint8_t *b, size_t n, const uint8_t src[16],
                                   const uint8_t dst[16]);

#endif
