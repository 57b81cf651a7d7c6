/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP wire layer (RFC 9293 3.1, RFC 7323, RFC 2018) against segments Linux
 * 6.18 sent, captured with tcpdump between two network namespaces over a
 * veth pair with transmit checksum offload off (ETHTOOL_STXCSUM), each
 * checksum verified by tshark. The arrays are IP packets:
 * - syn4: socat's connect 192.0.2.1:53198 -> 192.0.2.2:7 (MSS, SACK-permitted,
 *   timestamps, window scale 10: the layout 02 04 / 04 02 08 0a / 01 03 03).
 * - synack4: Linux's SYN-ACK to a SYN from an AF_PACKET peer 192.0.2.3:40001.
 * - sackack4: its duplicate ACK after two out-of-order segments from that
 *   peer: timestamps and two SACK blocks (the newest first, RFC 2018 4).
 * - data4: its data segment ("mpnet data", FIN) carrying the same SACK blocks.
 * - syn6: socat's connect [2001:db8::1]:42158 -> [2001:db8::2]:8.
 * Each is parsed field by field and emitted back byte for byte from its repr.
 * Malformed cases are these segments with a field changed, as each test says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/tcp.h"

static const uint8_t syn4[60] = {
    0x45, 0x00, 0x00, 0x3c, 0x61, 0xb0, 0x40, 0x00, 0x40, 0x06, 0x55, 0x08, 0xc0, 0x00, 0x02,
    0x01, 0xc0, 0x00, 0x02, 0x02, 0xcf, 0xce, 0x00, 0x07, 0x1b, 0x66, 0x05, 0x7b, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0xd3, 0x89, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
    0x02, 0x08, 0x0a, 0xa1, 0x71, 0x63, 0x56, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t synack4[60] = {
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xb6, 0xb6, 0xc0, 0x00, 0x02,
    0x02, 0xc0, 0x00, 0x02, 0x03, 0x00, 0x07, 0x9c, 0x41, 0x56, 0xf2, 0x8c, 0xc6, 0x00, 0x00,
    0x10, 0x01, 0xa0, 0x12, 0xfe, 0x88, 0x8e, 0xfd, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
    0x02, 0x08, 0x0a, 0x7d, 0x89, 0x24, 0xed, 0x00, 0x00, 0x03, 0xe8, 0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t sackack4[72] = {
    0x45, 0x00, 0x00, 0x48, 0xd6, 0x2a, 0x40, 0x00, 0x40, 0x06, 0xe0, 0x7f, 0xc0, 0x00, 0x02,
    0x02, 0xc0, 0x00, 0x02, 0x03, 0x00, 0x07, 0x9c, 0x41, 0x56, 0xf2, 0x8c, 0xd2, 0x00, 0x00,
    0x10, 0x01, 0xd0, 0x10, 0x00, 0x40, 0x22, 0x0e, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x7d,
    0x89, 0x26, 0x4c, 0x00, 0x00, 0x03, 0xe9, 0x01, 0x01, 0x05, 0x12, 0x00, 0x00, 0x10, 0xc9,
    0x00, 0x00, 0x10, 0xd5, 0x00, 0x00, 0x10, 0x65, 0x00, 0x00, 0x10, 0x72,
};
static const uint8_t data4[82] = {
    0x45, 0x00, 0x00, 0x52, 0xd6, 0x2b, 0x40, 0x00, 0x40, 0x06, 0xe0, 0x74, 0xc0, 0x00,
    0x02, 0x02, 0xc0, 0x00, 0x02, 0x03, 0x00, 0x07, 0x9c, 0x41, 0x56, 0xf2, 0x8c, 0xc7,
    0x00, 0x00, 0x10, 0x01, 0xd0, 0x19, 0x00, 0x40, 0xf8, 0x2d, 0x00, 0x00, 0x01, 0x01,
    0x08, 0x0a, 0x7d, 0x89, 0x27, 0x6b, 0x00, 0x00, 0x03, 0xe9, 0x01, 0x01, 0x05, 0x12,
    0x00, 0x00, 0x10, 0xc9, 0x00, 0x00, 0x10, 0xd5, 0x00, 0x00, 0x10, 0x65, 0x00, 0x00,
    0x10, 0x72, 0x6d, 0x70, 0x6e, 0x65, 0x74, 0x20, 0x64, 0x61, 0x74, 0x61,
};
static const uint8_t syn6[80] = {
    0x60, 0x02, 0xd5, 0xca, 0x00, 0x28, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xa4, 0xae, 0x00, 0x08, 0x69, 0xeb, 0xd6, 0x4a,
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfd, 0x20, 0x55, 0x82, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0,
    0x04, 0x02, 0x08, 0x0a, 0x5b, 0x77, 0x59, 0x95, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

/* A copy at the end of a heap block, so ASan catches a read past it. */
static uint8_t *tail_copy(const uint8_t *b, size_t n)
{
        uint8_t *c = malloc(n == 0 ? 1 : n);

        assert_non_null(c);
        memcpy(c, b, n);
        return c;
}

/* The segment of an IPv4 packet, checked and verified, then emitted again
 * from its repr and checksummed: the same bytes. */
static void v4_round_trip(const uint8_t *pkt, size_t n, struct mpnet_tcp_repr *r)
{
        struct mpnet_ip4_view ip;
        struct mpnet_tcp_view v;
        uint8_t *seg, out[1500];
        size_t len;
        int hlen;

        assert_int_equal(mpnet_ip4_view_check(pkt, n, &ip), 0);
        assert_int_equal(mpnet_ip4_proto(&ip), MPNET_IPPROTO_TCP);
        len = mpnet_ip4_payload_len(&ip);
        seg = tail_copy(mpnet_ip4_payload(&ip), len);
        assert_int_equal(mpnet_tcp_view_check(seg, len, &v), 0);
        assert_int_equal(mpnet_tcp4_csum_check(&v, mpnet_ip4_src(&ip), mpnet_ip4_dst(&ip)), 0);
        assert_int_equal(mpnet_tcp_repr_parse(&v, r), 0);
        hlen = mpnet_tcp_repr_hlen(r);
        assert_int_equal(hlen, (int)mpnet_tcp_hlen(&v));
        memset(out, 0xee, sizeof(out));
        memcpy(out + hlen, mpnet_tcp_payload(&v), r->payload_len);
        assert_int_equal(mpnet_tcp_repr_emit(r, out), hlen);
        assert_int_equal(out[16] | out[17], 0);
        mpnet_tcp4_csum_set(out, len, mpnet_ip4_src(&ip), mpnet_ip4_dst(&ip));
        assert_memory_equal(out, seg, len);
        free(seg);
}

static void test_syn4(void **state)
{
        struct mpnet_tcp_repr r;

        (void)state;
        v4_round_trip(syn4, sizeof(syn4), &r);
        assert_int_equal(r.sport, 53198);
        assert_int_equal(r.dport, 7);
        assert_int_equal(r.seq, 0x1b66057b);
        assert_int_equal(r.ack, 0);
        assert_int_equal(r.flags, MPNET_TCP_SYN);
        assert_int_equal(r.window, 64240);
        assert_int_equal(r.urg, 0);
        assert_int_equal(r.payload_len, 0);
        assert_int_equal(r.opts.present,
                         MPNET_TCPO_MSS | MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS | MPNET_TCPO_WSCALE);
        assert_int_equal(r.opts.mss, 1460);
        assert_int_equal(r.opts.wscale, 10);
        assert_int_equal(r.opts.ts_val, 0xa1716356);
        assert_int_equal(r.opts.ts_ecr, 0);
        assert_int_equal(r.opts.unknown, 0);
}

static void test_synack4(void **state)
{
        struct mpnet_tcp_view v;
        struct mpnet_tcp_repr r;

        (void)state;
        v4_round_trip(synack4, sizeof(synack4), &r);
        assert_int_equal(r.sport, 7);
        assert_int_equal(r.dport, 40001);
        assert_int_equal(r.seq, 0x56f28cc6);
        assert_int_equal(r.ack, 4097);
        assert_int_equal(r.flags, MPNET_TCP_SYN | MPNET_TCP_ACK);
        assert_int_equal(r.window, 65160);
        assert_int_equal(r.opts.mss, 1460);
        assert_int_equal(r.opts.wscale, 10);
        assert_int_equal(r.opts.ts_val, 2106139885);
        assert_int_equal(r.opts.ts_ecr, 1000);
        assert_int_equal(mpnet_tcp_view_check(synack4 + 20, 40, &v), 0);
        assert_int_equal(mpnet_tcp_seg_len(&v), 1); /* the SYN takes one */
}

static void test_sackack4(void **state)
{
        struct mpnet_tcp_repr r;

        (void)state;
        v4_round_trip(sackack4, sizeof(sackack4), &r);
        assert_int_equal(r.flags, MPNET_TCP_ACK);
        assert_int_equal(r.seq, 0x56f28cd2);
        assert_int_equal(r.ack, 4097);
        assert_int_equal(r.window, 64);
        assert_int_equal(r.opts.present, MPNET_TCPO_TS | MPNET_TCPO_SACK);
        assert_int_equal(r.opts.ts_val, 0x7d89264c);
        assert_int_equal(r.opts.ts_ecr, 1001);
        assert_int_equal(r.opts.sack_n, 2);
        /* The newest block first (RFC 2018 4): 4297-4309, then 4197-4210. */
        assert_int_equal(r.opts.sack[0].left, 4297);
        assert_int_equal(r.opts.sack[0].right, 4309);
        assert_int_equal(r.opts.sack[1].left, 4197);
        assert_int_equal(r.opts.sack[1].right, 4210);
}

static void test_data4(void **state)
{
        struct mpnet_tcp_view v;
        struct mpnet_tcp_repr r;

        (void)state;
        v4_round_trip(data4, sizeof(data4), &r);
        assert_int_equal(r.flags, MPNET_TCP_FIN | MPNET_TCP_PSH | MPNET_TCP_ACK);
        assert_int_equal(r.seq, 0x56f28cc7);
        assert_int_equal(r.payload_len, 10);
        assert_int_equal(r.opts.sack_n, 2);
        assert_int_equal(r.opts.ts_val, 0x7d89276b);
        assert_int_equal(mpnet_tcp_view_check(data4 + 20, sizeof(data4) - 20, &v), 0);
        assert_int_equal(mpnet_tcp_hlen(&v), 52);
        assert_memory_equal(mpnet_tcp_payload(&v), "mpnet data", 10);
        assert_int_equal(mpnet_tcp_seg_len(&v), 11); /* data and FIN */
}

static void test_syn6(void **state)
{
        struct mpnet_ip6_view ip;
        struct mpnet_tcp_view v;
        struct mpnet_tcp_repr r;
        uint8_t *seg, out[40], d6[16];

        (void)state;
        assert_int_equal(mpnet_ip6_view_check(syn6, sizeof(syn6), &ip), 0);
        assert_int_equal(mpnet_ip6_next_header(&ip), MPNET_IPPROTO_TCP);
        seg = tail_copy(mpnet_ip6_payload(&ip), 40);
        assert_int_equal(mpnet_tcp_view_check(seg, 40, &v), 0);
        assert_int_equal(mpnet_tcp6_csum_check(&v, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip)), 0);
        assert_int_equal(mpnet_tcp_repr_parse(&v, &r), 0);
        assert_int_equal(r.sport, 42158);
        assert_int_equal(r.dport, 8);
        assert_int_equal(r.flags, MPNET_TCP_SYN);
        assert_int_equal(r.window, 64800);
        assert_int_equal(r.opts.mss, 1440);
        assert_int_equal(r.opts.ts_val, 0x5b775995);
        assert_int_equal(mpnet_tcp_repr_emit(&r, out), 40);
        mpnet_tcp6_csum_set(out, 40, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip));
        assert_memory_equal(out, seg, 40);
        /* The pseudo-header binds the addresses. */
        memcpy(d6, mpnet_ip6_dst(&ip), 16);
        d6[15] ^= 1;
        assert_int_equal(mpnet_tcp6_csum_check(&v, mpnet_ip6_src(&ip), d6), -MPNET_WIRE_BAD_CSUM);
        free(seg);
}

/* Each fault of the view is its own result; a header ending exactly at the
 * segment's end is whole. */
static void test_view_faults(void **state)
{
        uint8_t *s = tail_copy(syn4 + 20, 40);
        struct mpnet_tcp_view v;

        (void)state;
        assert_int_equal(mpnet_tcp_view_check(s, 19, &v), -MPNET_WIRE_TRUNCATED);
        assert_int_equal(mpnet_tcp_view_check(s, 0, &v), -MPNET_WIRE_TRUNCATED);
        s[12] = 0x40; /* data offset 4 */
        assert_int_equal(mpnet_tcp_view_check(s, 40, &v), -MPNET_WIRE_BAD_HLEN);
        s[12] = 0x00;
        assert_int_equal(mpnet_tcp_view_check(s, 40, &v), -MPNET_WIRE_BAD_HLEN);
        s[12] = 0xb0; /* 44 bytes of header in a 40-byte segment */
        assert_int_equal(mpnet_tcp_view_check(s, 40, &v), -MPNET_WIRE_BAD_LEN);
        s[12] = 0xf0;
        assert_int_equal(mpnet_tcp_view_check(s, 40, &v), -MPNET_WIRE_BAD_LEN);
        s[12] = 0xa0;
        assert_int_equal(mpnet_tcp_view_check(s, 39, &v), -MPNET_WIRE_BAD_LEN);
        assert_int_equal(mpnet_tcp_view_check(s, 40, &v), 0);
        assert_int_equal(mpnet_tcp_payload_len(&v), 0);
        s[12] = 0x50;
        assert_int_equal(mpnet_tcp_view_check(s, 20, &v), 0);
        assert_int_equal(mpnet_tcp_opts_len(&v), 0);
        free(s);
}

/* Reserved bits are not flags; AE (the old NS bit) is. A checksum with one
 * bit off does not verify. */
static void test_flags_and_csum(void **state)
{
        uint8_t *s = tail_copy(syn4 + 20, 40), out[40];
        struct mpnet_tcp_view v;
        struct mpnet_tcp_repr r;

        (void)state;
        s[12] |= 0x0e;
        assert_int_equal(mpnet_tcp_view_check(s, 40, &v), 0);
        assert_int_equal(mpnet_tcp_flags(&v), MPNET_TCP_SYN);
        s[12] |= 0x01;
        s[13] |= MPNET_TCP_ECE | MPNET_TCP_CWR;
        assert_int_equal(mpnet_tcp_flags(&v),
                         MPNET_TCP_SYN | MPNET_TCP_AE | MPNET_TCP_ECE | MPNET_TCP_CWR);
        assert_int_equal(mpnet_tcp_repr_parse(&v, &r), 0);
        assert_int_equal(mpnet_tcp_repr_emit(&r, out), 40);
        assert_int_equal(out[12], 0xa1);
        assert_int_equal(out[13], 0xc2);
        memcpy(s, syn4 + 20, 40);
        assert_int_equal(mpnet_tcp4_csum_check(&v, 0xc0000201, 0xc0000202), 0);
        s[39] ^= 0x10;
        assert_int_equal(mpnet_tcp4_csum_check(&v, 0xc0000201, 0xc0000202), -MPNET_WIRE_BAD_CSUM);
        s[39] ^= 0x10;
        assert_int_equal(mpnet_tcp4_csum_check(&v, 0xc0000201, 0xc0000203), -MPNET_WIRE_BAD_CSUM);
        free(s);
}

/* Option blocks parsed from a heap block of exactly their size. */
static int parse(const uint8_t *b, size_t n, struct mpnet_tcp_opts *o)
{
        uint8_t *c = tail_copy(b, n);
        int rc = mpnet_tcp_opts_parse(c, n, o);

        free(c);
        return rc;
}

#define PARSE(o, ...)                                                                              \
        parse((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), o)

/* Every malformed length is rejected, and no byte past the block is read
 * (ASan). */
static void test_opts_malformed(void **state)
{
        struct mpnet_tcp_opts o;

        (void)state;
        assert_int_equal(PARSE(&o, 2), -MPNET_WIRE_BAD_OPTION);           /* no length octet */
        assert_int_equal(PARSE(&o, 1, 1, 1, 30), -MPNET_WIRE_BAD_OPTION); /* unknown, too */
        assert_int_equal(PARSE(&o, 2, 4, 5), -MPNET_WIRE_BAD_OPTION);     /* past the end */
        assert_int_equal(PARSE(&o, 30, 0, 1, 1), -MPNET_WIRE_BAD_OPTION); /* length 0 */
        assert_int_equal(PARSE(&o, 30, 1, 1, 1), -MPNET_WIRE_BAD_OPTION); /* length 1 */
        assert_int_equal(PARSE(&o, 30, 5, 1, 1), -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(PARSE(&o, 2, 3, 5, 1), -MPNET_WIRE_BAD_OPTION); /* MSS not 4 */
        assert_int_equal(PARSE(&o, 2, 5, 5, 180, 0, 1, 1, 1), -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(PARSE(&o, 3, 4, 7, 0), -MPNET_WIRE_BAD_OPTION); /* wscale not 3 */
        assert_int_equal(PARSE(&o, 3, 2), -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(PARSE(&o, 4, 3, 0, 1), -MPNET_WIRE_BAD_OPTION); /* SACK-perm not 2 */
        assert_int_equal(PARSE(&o, 8, 8, 0, 0, 0, 1, 0, 0), -MPNET_WIRE_BAD_OPTION); /* TS */
        assert_int_equal(PARSE(&o, 5, 2, 1, 1), -MPNET_WIRE_BAD_OPTION);             /* no block */
        assert_int_equal(PARSE(&o, 5, 6, 0, 0, 0, 1), -MPNET_WIRE_BAD_OPTION);       /* half */
        assert_int_equal(PARSE(&o, 5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1), -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(PARSE(&o, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2), -MPNET_WIRE_BAD_OPTION);
        /* What came before the fault is kept. */
        assert_int_equal(PARSE(&o, 2, 4, 5, 180, 3, 3), -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(o.present, MPNET_TCPO_MSS);
        assert_int_equal(o.mss, 1460);
}

/* Unknown options are skipped by their length, NOPs pad, EOL ends the list
 * (what follows it is not read as options), a repeated kind replaces. */
static void test_opts_walk(void **state)
{
        struct mpnet_tcp_opts o;

        (void)state;
        assert_int_equal(PARSE(&o, 30, 6, 0xff, 0xff, 0xff, 0xff, 2, 4, 1, 0), 0);
        assert_int_equal(o.present, MPNET_TCPO_MSS);
        assert_int_equal(o.mss, 256);
        assert_int_equal(o.unknown, 1);
        assert_int_equal(PARSE(&o, 1, 1, 3, 3, 14, 0, 2, 4, 5, 180), 0);
        assert_int_equal(o.present, MPNET_TCPO_WSCALE);
        assert_int_equal(o.wscale, 14);
        assert_int_equal(PARSE(&o, 0, 2), 0); /* EOL, then a lone kind: not read */
        assert_int_equal(o.present, 0);
        assert_int_equal(PARSE(&o, 3, 3, 20, 3, 3, 7, 1, 1), 0);
        assert_int_equal(o.wscale, 7);
        assert_int_equal(PARSE(&o, 1, 1, 1, 1), 0);
        assert_int_equal(o.present, 0);
        /* Four SACK blocks, the most there is room for. */
        assert_int_equal(PARSE(&o, 1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0,
                               0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8),
                         0);
        assert_int_equal(o.sack_n, 4);
        assert_int_equal(o.sack[3].left, 7);
        assert_int_equal(o.sack[3].right, 8);
        assert_int_equal(mpnet_tcp_opts_parse(NULL, 0, &o), 0);
}

/* The two layouts read without the walk (NOP NOP TS; a SYN's MSS,
 * SACK-permitted, TS, NOP, window scale) give what the walk gives for the
 * same options in another order, and their near misses still walk. */
static void test_opts_fast(void **state)
{
        struct mpnet_tcp_opts o, w;

        (void)state;
        assert_int_equal(PARSE(&o, 1, 1, 8, 10, 0, 0, 0, 7, 0x80, 0, 0, 9), 0);
        assert_int_equal(PARSE(&w, 8, 10, 0, 0, 0, 7, 0x80, 0, 0, 9, 1, 1), 0);
        assert_memory_equal(&o, &w, sizeof(o));
        assert_int_equal(o.present, MPNET_TCPO_TS);
        assert_int_equal(o.ts_val, 7);
        assert_int_equal(o.ts_ecr, 0x80000009u);
        assert_int_equal(PARSE(&o, 2, 4, 5, 180, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7),
                         0);
        assert_int_equal(PARSE(&w, 1, 3, 3, 7, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 4, 2, 2, 4, 5, 180),
                         0);
        assert_memory_equal(&o, &w, sizeof(o));
        assert_int_equal(o.present,
                         MPNET_TCPO_MSS | MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS | MPNET_TCPO_WSCALE);
        assert_int_equal(o.mss, 1460);
        assert_int_equal(o.ts_val, 0x01020304u);
        assert_int_equal(o.ts_ecr, 0);
        assert_int_equal(o.wscale, 7);
        /* Near misses: a bad TS length, a bad window scale length, SACK
         * where SACK-permitted goes. */
        assert_int_equal(PARSE(&o, 1, 1, 8, 11, 0, 0, 0, 7, 0, 0, 0, 9), -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(PARSE(&o, 2, 4, 5, 180, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 4, 7),
                         -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(o.present, MPNET_TCPO_MSS | MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS);
        assert_int_equal(PARSE(&o, 2, 4, 5, 180, 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7),
                         0);
        assert_int_equal(o.present, MPNET_TCPO_MSS | MPNET_TCPO_TS | MPNET_TCPO_WSCALE);
}

/* The emitter's layouts, each 32-bit aligned, and the 40-byte limit. */
static void test_opts_emit(void **state)
{
        struct mpnet_tcp_opts o = {0}, p;
        uint8_t b[MPNET_TCP_OPT_MAX];
        unsigned k;

        (void)state;
        assert_int_equal(mpnet_tcp_opts_emit(&o, b), 0);
        o.present = MPNET_TCPO_MSS | MPNET_TCPO_SACK_PERM | MPNET_TCPO_WSCALE;
        o.mss = 1460;
        o.wscale = 7;
        assert_int_equal(mpnet_tcp_opts_emit(&o, b), 12);
        assert_memory_equal(b, ((const uint8_t[]){2, 4, 5, 180, 1, 1, 4, 2, 1, 3, 3, 7}), 12);
        o.present = MPNET_TCPO_TS;
        o.ts_val = 0x01020304;
        o.ts_ecr = 0x05060708;
        assert_int_equal(mpnet_tcp_opts_emit(&o, b), 12);
        assert_memory_equal(b, ((const uint8_t[]){1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8}), 12);
        /* Timestamps and three SACK blocks fill the 40 bytes; four do not fit. */
        o.present = MPNET_TCPO_TS | MPNET_TCPO_SACK;
        o.sack_n = 3;
        for (k = 0; k < 4; k++) {
                o.sack[k].left = 100 * k;
                o.sack[k].right = 100 * k + 50;
        }
        assert_int_equal(mpnet_tcp_opts_size(&o), 40);
        assert_int_equal(mpnet_tcp_opts_emit(&o, b), 40);
        assert_int_equal(mpnet_tcp_opts_parse(b, 40, &p), 0);
        assert_int_equal(p.present, o.present);
        assert_int_equal(p.sack_n, 3);
        assert_int_equal(p.sack[2].right, 250);
        assert_int_equal(p.ts_ecr, 0x05060708);
        o.sack_n = 4;
        assert_int_equal(mpnet_tcp_opts_size(&o), -MPNET_WIRE_TOO_LONG);
        memset(b, 0xab, sizeof(b));
        assert_int_equal(mpnet_tcp_opts_emit(&o, b), -MPNET_WIRE_TOO_LONG);
        assert_int_equal(b[0], 0xab);
        o.present = MPNET_TCPO_SACK;
        assert_int_equal(mpnet_tcp_opts_emit(&o, b), 36);
        o.sack_n = 0;
        assert_int_equal(mpnet_tcp_opts_size(&o), -MPNET_WIRE_TOO_LONG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_syn4),           cmocka_unit_test(test_synack4),
            cmocka_unit_test(test_sackack4),       cmocka_unit_test(test_data4),
            cmocka_unit_test(test_syn6),           cmocka_unit_test(test_view_faults),
            cmocka_unit_test(test_flags_and_csum), cmocka_unit_test(test_opts_malformed),
            cmocka_unit_test(test_opts_walk),      cmocka_unit_test(test_opts_emit),
            cmocka_unit_test(test_opts_fast),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
