/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wire layer against real frames: an ARP exchange and a ping captured from
 * two Linux 6.x network namespaces over a veth pair (tcpdump, 192.0.2.1 and
 * 192.0.2.2). Each is parsed (view, repr) and re-emitted from its repr, which
 * must give back the captured bytes exactly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpnet/wire/arp.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"

static const uint8_t arp_request[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x02};

static const uint8_t arp_reply[42] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xc0, 0x00, 0x02, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01};

static const uint8_t echo_request[58] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x2c, 0x58, 0x29, 0x40, 0x00, 0x40, 0x01, 0x5e, 0xa4, 0xc0, 0x00, 0x02, 0x01,
    0xc0, 0x00, 0x02, 0x02, 0x08, 0x00, 0xd7, 0x9b, 0x1e, 0x0b, 0x00, 0x01, 0x97, 0x1f, 0x04,
    0x6b, 0x00, 0x00, 0x00, 0x00, 0x5a, 0xcd, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t echo_reply[58] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x2c, 0x0c, 0xbc, 0x00, 0x00, 0x40, 0x01, 0xea, 0x11, 0xc0, 0x00, 0x02, 0x02,
    0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0xdf, 0x9b, 0x1e, 0x0b, 0x00, 0x01, 0x97, 0x1f, 0x04,
    0x6b, 0x00, 0x00, 0x00, 0x00, 0x5a, 0xcd, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00};

#define A1 0xc0000201u /* 192.0.2.1 */
#define A2 0xc0000202u

/* A copy at the end of a heap block, so ASan catches a read past the frame. */
static uint8_t *tail_copy(const uint8_t *b, size_t n)
{
        uint8_t *c = malloc(n);

        assert_non_null(c);
        memcpy(c, b, n);
        return c;
}

static void test_ethernet_both_ways(void **state)
{
        static const uint8_t mac1[6] = {2, 0, 0, 0, 0, 1}, mac2[6] = {2, 0, 0, 0, 0, 2};
        struct mpnet_eth_view v;
        struct mpnet_eth_repr r;
        uint8_t out[MPNET_ETH_HLEN];

        (void)state;
        assert_int_equal(mpnet_eth_view_check(echo_request, sizeof(echo_request), &v), 0);
        assert_memory_equal(mpnet_eth_dst(&v), mac2, 6);
        assert_memory_equal(mpnet_eth_src(&v), mac1, 6);
        assert_int_equal(mpnet_eth_type(&v), MPNET_ETHERTYPE_IPV4);
        assert_int_equal(mpnet_eth_payload_len(&v), 44);
        assert_ptr_equal(mpnet_eth_payload(&v), echo_request + 14);
        mpnet_eth_repr_parse(&v, &r);
        mpnet_eth_repr_emit(&r, out);
        assert_memory_equal(out, echo_request, MPNET_ETH_HLEN);
        assert_int_equal(mpnet_eth_repr_len(&r), 14);

        assert_true(mpnet_eth_is_broadcast(arp_request));
        assert_true(mpnet_eth_is_multicast(arp_request));
        assert_false(mpnet_eth_is_broadcast(mac1));
        assert_false(mpnet_eth_is_multicast(mac1));
        assert_true(mpnet_eth_is_multicast((const uint8_t[]){0x01, 0, 0x5e, 0, 0, 1}));
        assert_true(mpnet_eth_is_zero((const uint8_t[6]){0}));
        assert_false(mpnet_eth_is_zero(mac1));
}

static void test_ethernet_truncated(void **state)
{
        struct mpnet_eth_view v;

        (void)state;
        for (size_t n = 0; n < MPNET_ETH_HLEN; n++) {
                uint8_t *c = tail_copy(echo_request, n == 0 ? 1 : n);

                assert_int_equal(mpnet_eth_view_check(c, n, &v), -MPNET_WIRE_TRUNCATED);
                free(c);
        }
        assert_int_equal(mpnet_eth_view_check(echo_request, MPNET_ETH_HLEN, &v), 0);
        assert_int_equal(mpnet_eth_payload_len(&v), 0);
}

static void check_arp(const uint8_t *frame, uint16_t op, uint32_t spa, uint32_t tpa)
{
        struct mpnet_arp_view v;
        struct mpnet_arp_repr r;
        uint8_t out[MPNET_ARP_LEN];

        assert_int_equal(mpnet_arp_view_check(frame + 14, 28, &v), 0);
        assert_int_equal(mpnet_arp_op(&v), op);
        assert_int_equal(mpnet_arp_spa(&v), spa);
        assert_int_equal(mpnet_arp_tpa(&v), tpa);
        mpnet_arp_repr_parse(&v, &r);
        assert_int_equal(r.op, op);
        assert_int_equal(r.spa, spa);
        assert_int_equal(r.tpa, tpa);
        assert_memory_equal(r.sha, frame + 6, 6);
        memset(out, 0xee, sizeof(out));
        mpnet_arp_repr_emit(&r, out);
        assert_memory_equal(out, frame + 14, MPNET_ARP_LEN);
}

static void test_arp_both_ways(void **state)
{
        (void)state;
        check_arp(arp_request, MPNET_ARP_OP_REQUEST, A1, A2);
        check_arp(arp_reply, MPNET_ARP_OP_REPLY, A2, A1);
}

static void test_arp_rejects(void **state)
{
        struct mpnet_arp_view v;
        uint8_t b[28];

        (void)state;
        for (size_t n = 0; n < 28; n++) {
                uint8_t *c = tail_copy(arp_request + 14, n == 0 ? 1 : n);

                assert_int_equal(mpnet_arp_view_check(c, n, &v), -MPNET_WIRE_TRUNCATED);
                free(c);
        }
        /* Each of htype, ptype, hlen, plen wrong in turn. */
        static const size_t at[] = {1, 2, 4, 5};
        for (size_t i = 0; i < 4; i++) {
                memcpy(b, arp_request + 14, 28);
                b[at[i]] ^= 0x10;
                assert_int_equal(mpnet_arp_view_check(b, 28, &v), -MPNET_WIRE_UNSUPPORTED);
        }
        /* Ethernet padding after the 28 bytes is not part of the view. */
        uint8_t padded[46] = {0};
        memcpy(padded, arp_request + 14, 28);
        assert_int_equal(mpnet_arp_view_check(padded, sizeof(padded), &v), 0);
        assert_int_equal(v.n, 28);
}

static void test_ipv4_both_ways(void **state)
{
        const uint8_t *ip = echo_request + 14;
        struct mpnet_ip4_view v;
        struct mpnet_ip4_repr r;
        uint8_t out[MPNET_IP4_HLEN];

        (void)state;
        assert_int_equal(mpnet_ip4_view_check(ip, 44, &v), 0);
        assert_true(mpnet_ip4_csum_ok(&v));
        assert_int_equal(mpnet_ip4_hlen(&v), 20);
        assert_int_equal(mpnet_ip4_total_len(&v), 44);
        assert_int_equal(mpnet_ip4_id(&v), 0x5829);
        assert_true(mpnet_ip4_df(&v));
        assert_false(mpnet_ip4_mf(&v));
        assert_false(mpnet_ip4_is_fragment(&v));
        assert_int_equal(mpnet_ip4_ttl(&v), 64);
        assert_int_equal(mpnet_ip4_proto(&v), MPNET_IPPROTO_ICMP);
        assert_int_equal(mpnet_ip4_csum(&v), 0x5ea4);
        assert_int_equal(mpnet_ip4_src(&v), A1);
        assert_int_equal(mpnet_ip4_dst(&v), A2);
        assert_int_equal(mpnet_ip4_payload_len(&v), 24);
        mpnet_ip4_repr_parse(&v, &r);
        assert_int_equal(r.payload_len, 24);
        assert_true(r.df);
        mpnet_ip4_repr_emit(&r, out);
        assert_memory_equal(out, ip, MPNET_IP4_HLEN);

        /* The reply: DF clear, its own id and checksum. */
        assert_int_equal(mpnet_ip4_view_check(echo_reply + 14, 44, &v), 0);
        mpnet_ip4_repr_parse(&v, &r);
        assert_false(r.df);
        assert_int_equal(r.id, 0x0cbc);
        mpnet_ip4_repr_emit(&r, out);
        assert_memory_equal(out, echo_reply + 14, MPNET_IP4_HLEN);
}

static void test_ipv4_errors(void **state)
{
        uint8_t b[64];
        struct mpnet_ip4_view v;

        (void)state;
        for (size_t n = 0; n < 44; n++) {
                uint8_t *c = tail_copy(echo_request + 14, n == 0 ? 1 : n);

                assert_int_equal(mpnet_ip4_view_check(c, n, &v),
                                 n < 20 ? -MPNET_WIRE_TRUNCATED : -MPNET_WIRE_BAD_LEN);
                free(c);
        }
        memcpy(b, echo_request + 14, 44);
        b[0] = 0x65;
        assert_int_equal(mpnet_ip4_view_check(b, 44, &v), -MPNET_WIRE_BAD_VERSION);
        for (uint8_t ihl = 0; ihl < 5; ihl++) {
                b[0] = (uint8_t)(0x40 | ihl);
                assert_int_equal(mpnet_ip4_view_check(b, 44, &v), -MPNET_WIRE_BAD_HLEN);
        }
        /* IHL 15 (60 bytes) beyond a 44-byte total length. */
        b[0] = 0x4f;
        assert_int_equal(mpnet_ip4_view_check(b, 44, &v), -MPNET_WIRE_BAD_HLEN);
        b[0] = 0x45;
        mpnet_put_be16(b + 2, 19);
        assert_int_equal(mpnet_ip4_view_check(b, 44, &v), -MPNET_WIRE_BAD_LEN);
        mpnet_put_be16(b + 2, 45);
        assert_int_equal(mpnet_ip4_view_check(b, 44, &v), -MPNET_WIRE_BAD_LEN);
        /* Ethernet padding: n beyond the total length is cut off. */
        memcpy(b, echo_request + 14, 44);
        memset(b + 44, 0, 20);
        assert_int_equal(mpnet_ip4_view_check(b, 64, &v), 0);
        assert_int_equal(v.n, 44);
        assert_true(mpnet_csum20_ok(echo_request + 14));
        assert_true(mpnet_csum20_ok(echo_reply + 14));
        /* Each single-bit error in the header fails the checksum. */
        for (int bit = 0; bit < 160; bit++) {
                if (bit / 8 == 0 || bit / 8 == 2 || bit / 8 == 3)
                        continue; /* version/IHL and length change what is checked */
                memcpy(b, echo_request + 14, 44);
                b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_equal(mpnet_ip4_view_check(b, 44, &v), 0);
                assert_false(mpnet_ip4_csum_ok(&v));
                assert_false(mpnet_csum20_ok(b));
        }
}

static void test_ipv4_options_skipped(void **state)
{
        /* IHL 6: a 4-byte option (NOP, NOP, NOP, EOL) before an 8-byte payload. */
        uint8_t b[32] = {0x46, 0,   0,   32,  0x12, 0x34, 0,   0,   9,   17, 0,
                         0,    198, 51,  100, 1,    198,  51,  100, 2,   1,  1,
                         1,    0,   'p', 'a', 'y',  'l',  'o', 'a', 'd', '!'};
        struct mpnet_ip4_view v;
        struct mpnet_ip4_repr r;

        (void)state;
        mpnet_put_be16(b + 10, mpnet_csum(b, 24));
        assert_int_equal(mpnet_ip4_view_check(b, sizeof(b), &v), 0);
        assert_true(mpnet_ip4_csum_ok(&v));
        assert_int_equal(mpnet_ip4_hlen(&v), 24);
        assert_int_equal(mpnet_ip4_payload_len(&v), 8);
        assert_memory_equal(mpnet_ip4_payload(&v), "payload!", 8);
        mpnet_ip4_repr_parse(&v, &r);
        assert_int_equal(r.payload_len, 8);
        assert_int_equal(r.proto, MPNET_IPPROTO_UDP);
        assert_int_equal(r.ttl, 9);
}

static void test_ipv4_fragment_fields(void **state)
{
        struct mpnet_ip4_repr r = {.src = A1,
                                   .dst = A2,
                                   .id = 7,
                                   .payload_len = 8,
                                   .frag_off = 1480,
                                   .proto = 1,
                                   .ttl = 64,
                                   .mf = true};
        struct mpnet_ip4_view v;
        uint8_t b[28] = {0};

        (void)state;
        mpnet_ip4_repr_emit(&r, b);
        assert_int_equal(mpnet_get_be16(b + 6), 0x2000 | 185);
        assert_int_equal(mpnet_ip4_view_check(b, sizeof(b), &v), 0);
        assert_true(mpnet_ip4_csum_ok(&v));
        assert_true(mpnet_ip4_is_fragment(&v));
        assert_true(mpnet_ip4_mf(&v));
        assert_int_equal(mpnet_ip4_frag_off(&v), 1480);
}

static void test_ipv4_addresses(void **state)
{
        char s[MPNET_IP4_ADDRSTRLEN];
        uint32_t a;

        (void)state;
        assert_string_equal(mpnet_ip4_ntop(0xc6336401u, s, sizeof(s)), "198.51.100.1");
        assert_string_equal(mpnet_ip4_ntop(0xffffffffu, s, sizeof(s)), "255.255.255.255");
        assert_int_equal(mpnet_ip4_pton("203.0.113.254", &a), 0);
        assert_int_equal(a, 0xcb0071feu);
        assert_int_equal(mpnet_ip4_pton("0.0.0.0", &a), 0);
        assert_int_equal(a, 0);
        static const char *bad[] = {"",         "1.2.3",    "1.2.3.4.5", "256.1.1.1",
                                    "1.2.3.4x", "01.2.3.4", "1..2.3",    "a.b.c.d",
                                    "1.2.3.",   " 1.2.3.4", "1000.1.1.1"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(mpnet_ip4_pton(bad[i], &a), -EINVAL);
        assert_true(mpnet_ip4_is_multicast(0xe0000001u));
        assert_true(mpnet_ip4_is_multicast(0xefffffffu));
        assert_false(mpnet_ip4_is_multicast(0xf0000000u));
        assert_true(mpnet_ip4_is_loopback(0x7f000001u));
        assert_true(mpnet_ip4_is_zeronet(0x00123456u));
        assert_true(mpnet_ip4_is_class_e(0xf0000001u));
        assert_false(mpnet_ip4_is_class_e(0xffffffffu));
        assert_true(mpnet_ip4_is_limited_bcast(0xffffffffu));
        assert_true(mpnet_ip4_is_martian_src(0x00000001u));
        assert_true(mpnet_ip4_is_martian_src(0x7f000001u));
        assert_true(mpnet_ip4_is_martian_src(0xe0000001u));
        assert_true(mpnet_ip4_is_martian_src(0xffffffffu));
        assert_false(mpnet_ip4_is_martian_src(0xc6336401u));
}

static void check_icmp(const uint8_t *frame, uint8_t type)
{
        const uint8_t *ic = frame + 34;
        struct mpnet_icmp4_view v;
        struct mpnet_icmp4_repr r;
        uint8_t out[24];

        assert_int_equal(mpnet_icmp4_view_check(ic, 24, &v), 0);
        assert_true(mpnet_icmp4_csum_ok(&v));
        assert_int_equal(mpnet_icmp4_type(&v), type);
        assert_int_equal(mpnet_icmp4_code(&v), 0);
        assert_int_equal(mpnet_icmp4_echo_id(&v), 0x1e0b);
        assert_int_equal(mpnet_icmp4_echo_seq(&v), 1);
        assert_int_equal(mpnet_icmp4_data_len(&v), 16);
        mpnet_icmp4_repr_parse(&v, &r);
        assert_int_equal(r.id, 0x1e0b);
        assert_int_equal(r.seq, 1);
        assert_int_equal(mpnet_icmp4_repr_len(&r), 24);
        mpnet_icmp4_repr_emit(&r, out);
        assert_memory_equal(out, ic, 24);
}

static void test_icmp4_both_ways(void **state)
{
        uint8_t b[24];
        struct mpnet_icmp4_view v;
        struct mpnet_icmp4_repr r;

        (void)state;
        check_icmp(echo_request, MPNET_ICMP4_ECHO_REQUEST);
        check_icmp(echo_reply, MPNET_ICMP4_ECHO_REPLY);
        /* In place, as the stack answers a request: turn it into the reply. */
        memcpy(b, echo_request + 34, 24);
        assert_int_equal(mpnet_icmp4_view_check(b, 24, &v), 0);
        mpnet_icmp4_repr_parse(&v, &r);
        r.type = MPNET_ICMP4_ECHO_REPLY;
        mpnet_icmp4_repr_emit(&r, b);
        assert_memory_equal(b, echo_reply + 34, 24);
        for (size_t n = 0; n < MPNET_ICMP4_HLEN; n++)
                assert_int_equal(mpnet_icmp4_view_check(b, n, &v), -MPNET_WIRE_TRUNCATED);
        b[10] ^= 4;
        assert_int_equal(mpnet_icmp4_view_check(b, 24, &v), 0);
        assert_false(mpnet_icmp4_csum_ok(&v));
}

static void test_icmp4_error_rest(void **state)
{
        /* Fragmentation needed with a next-hop MTU (RFC 1191): rest = MTU. */
        const uint8_t quoted[28] = {0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17};
        struct mpnet_icmp4_repr r = {.type = MPNET_ICMP4_DEST_UNREACH,
                                     .code = 4,
                                     .rest = 1400,
                                     .data = quoted,
                                     .data_len = sizeof(quoted)};
        struct mpnet_icmp4_view v;
        uint8_t b[36];

        (void)state;
        mpnet_icmp4_repr_emit(&r, b);
        assert_int_equal(mpnet_icmp4_view_check(b, sizeof(b), &v), 0);
        assert_true(mpnet_icmp4_csum_ok(&v));
        assert_int_equal(mpnet_icmp4_rest(&v), 1400);
        assert_memory_equal(mpnet_icmp4_data(&v), quoted, sizeof(quoted));
}

static uint16_t ref_csum(const uint8_t *b, size_t n)
{
        uint32_t s = 0;

        for (size_t i = 0; i + 1 < n; i += 2)
                s += (uint32_t)(b[i] << 8 | b[i + 1]);
        if (n & 1)
                s += (uint32_t)b[n - 1] << 8;
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint16_t)~s;
}

/* The fused copy sums as mpnet_csum_add and copies every byte: all
 * lengths around the 8- and 32-byte steps, all alignments, and all-ones
 * words whose carries must go round (RFC 1071 2(C)). */
static void test_checksum_copy(void **state)
{
        static uint8_t b[1600], d[1600 + 8];
        uint64_t x = 2463534242ull;

        (void)state;
        for (size_t i = 0; i < sizeof(b); i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                b[i] = (uint8_t)x;
        }
        for (int ones = 0; ones < 2; ones++) {
                if (ones)
                        memset(b, 0xff, sizeof(b));
                for (size_t n = 0; n < sizeof(b) - 8; n += (n < 100 ? 1 : 53)) {
                        for (size_t off = 0; off < 8; off++) {
                                uint64_t s;

                                memset(d, 0, sizeof(d));
                                s = mpnet_csum_copy(7, d + (7 - off), b + off, n);
                                assert_int_equal(mpnet_csum_fold(s),
                                                 mpnet_csum_fold(mpnet_csum_add(7, b + off, n)));
                                assert_int_equal(mpnet_csum_fold(s - 7), ref_csum(b + off, n));
                                assert_memory_equal(d + (7 - off), b + off, n);
                                assert_int_equal(d[7 - off + n], 0);
                        }
                }
        }
}

static void test_checksum(void **state)
{
        /* RFC 1071 section 3's example words sum to 0xddf2. */
        const uint8_t rfc[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
        uint8_t b[1600];
        uint64_t x = 88172645463325252ull;

        (void)state;
        assert_int_equal(mpnet_csum(rfc, 8), (uint16_t)~0xddf2);
        for (size_t i = 0; i < sizeof(b); i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                b[i] = (uint8_t)x;
        }
        for (size_t n = 0; n < sizeof(b); n += (n < 80 ? 1 : 37)) {
                for (size_t off = 0; off < 4; off++)
                        assert_int_equal(mpnet_csum(b + off, n), ref_csum(b + off, n));
        }
        /* Chained: even-length pieces sum like the whole. */
        assert_int_equal(mpnet_csum_fold(mpnet_csum_add(mpnet_csum_add(0, b, 100), b + 100, 201)),
                         ref_csum(b, 301));
        /* RFC 1624: decrementing TTL incrementally equals recomputing. */
        for (int i = 0; i < 1000; i++) {
                uint8_t h[20];
                uint16_t old, upd;

                memcpy(h, b + i, 20);
                h[0] = 0x45;
                h[8] |= 1; /* ttl > 0 */
                h[10] = h[11] = 0;
                mpnet_put_be16(h + 10, mpnet_csum(h, 20));
                old = mpnet_get_be16(h + 8);
                h[8]--;
                upd = mpnet_csum_update16(mpnet_get_be16(h + 10), old, mpnet_get_be16(h + 8));
                h[10] = h[11] = 0;
                assert_int_equal(upd, mpnet_csum(h, 20));
        }
}

/* mpnet_csum20() (the IPv4 header's checksum, set by
 * mpnet_ip4_repr_emit()) is mpnet_csum() of the 20 bytes: for zeros, all
 * ones, the captured echo request's header with its field zeroed, and
 * pseudo-random headers whose carries wrap. */
static void test_checksum20(void **state)
{
        uint8_t b[20];
        uint32_t x = 0x12345678;

        (void)state;
        memset(b, 0, sizeof(b));
        assert_int_equal(mpnet_csum20(b), mpnet_csum(b, 20));
        memset(b, 0xff, sizeof(b));
        assert_int_equal(mpnet_csum20(b), mpnet_csum(b, 20));
        memcpy(b, echo_request + 14, 20);
        assert_int_equal(mpnet_csum20(b), 0);
        b[10] = b[11] = 0;
        assert_int_equal(mpnet_csum20(b), mpnet_get_be16(echo_request + 14 + 10));
        for (unsigned k = 0; k < 10000; k++) {
                for (unsigned i = 0; i < 20; i++) {
                        x = x * 1103515245u + 12345u;
                        b[i] = (uint8_t)(k % 3 == 0 ? 0xf0 | (x >> 24) : x >> 24);
                }
                assert_int_equal(mpnet_csum20(b), mpnet_csum(b, 20));
        }
}

/* mpnet_csum_hdr() (a TCP header's sum, in and out) adds what
 * mpnet_csum_add() adds, for every length it takes (0 to 60 by 4), to a
 * running sum: zeros, all ones (the carries of every word), and
 * pseudo-random headers. */
static void test_checksum_hdr(void **state)
{
        uint8_t b[60];
        uint32_t x = 0x9abcdef0;

        (void)state;
        for (size_t n = 0; n <= sizeof(b); n += 4) {
                memset(b, 0, sizeof(b));
                assert_int_equal(mpnet_csum_fold(mpnet_csum_hdr(7, b, n)),
                                 mpnet_csum_fold(mpnet_csum_add(7, b, n)));
                memset(b, 0xff, sizeof(b));
                assert_int_equal(mpnet_csum_fold(mpnet_csum_hdr(0, b, n)),
                                 mpnet_csum_fold(mpnet_csum_add(0, b, n)));
                for (unsigned k = 0; k < 2000; k++) {
                        uint64_t sum = (uint64_t)x << 3;

                        for (size_t i = 0; i < n; i++) {
                                x = x * 1103515245u + 12345u;
                                b[i] = (uint8_t)(k % 3 == 0 ? 0xf0 | (x >> 24) : x >> 24);
                        }
                        assert_int_equal(mpnet_csum_fold(mpnet_csum_hdr(sum, b, n)),
                                         mpnet_csum_fold(mpnet_csum_add(sum, b, n)));
                }
        }
}

static void test_err_str(void **state)
{
        (void)state;
        assert_string_equal(mpnet_wire_err_str(-MPNET_WIRE_TRUNCATED), "truncated");
        assert_string_equal(mpnet_wire_err_str(MPNET_WIRE_BAD_CSUM), "bad checksum");
        assert_string_equal(mpnet_wire_err_str(999), "unknown error");
}

/* Source-route options (RFC 791 3.1) found among others; a malformed list
 * ends the walk without reading past the header. */
static void test_ipv4_source_route(void **state)
{
        /* IHL 7: 8 bytes of options after the 20-byte header. */
        uint8_t h[28] = {0x47, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 1};
        struct mpnet_ip4_view v = {.b = h, .n = sizeof(h)};
        static const uint8_t lsrr[8] = {1, 131, 7, 4, 192, 0, 2, 9};   /* NOP, LSRR */
        static const uint8_t ssrr[8] = {137, 7, 4, 192, 0, 2, 9, 0};   /* SSRR, EOL */
        static const uint8_t rr_eol[8] = {7, 3, 4, 0, 131, 3, 4, 0};   /* RR, EOL, LSRR after */
        static const uint8_t bad_len[8] = {68, 1, 131, 3, 4, 0, 0, 0}; /* length 1 */
        static const uint8_t past_end[8] = {1, 1, 1, 1, 1, 1, 1, 130}; /* type in the last byte */

        (void)state;
        memcpy(h + 20, lsrr, 8);
        assert_true(mpnet_ip4_has_source_route(&v));
        memcpy(h + 20, ssrr, 8);
        assert_true(mpnet_ip4_has_source_route(&v));
        memcpy(h + 20, rr_eol, 8);
        assert_false(mpnet_ip4_has_source_route(&v));
        memcpy(h + 20, bad_len, 8);
        assert_false(mpnet_ip4_has_source_route(&v));
        memcpy(h + 20, past_end, 8);
        assert_false(mpnet_ip4_has_source_route(&v));
        h[0] = 0x45; /* no options at all */
        assert_false(mpnet_ip4_has_source_route(&v));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ethernet_both_ways),
            cmocka_unit_test(test_ipv4_source_route),
            cmocka_unit_test(test_ethernet_truncated),
            cmocka_unit_test(test_arp_both_ways),
            cmocka_unit_test(test_arp_rejects),
            cmocka_unit_test(test_ipv4_both_ways),
            cmocka_unit_test(test_ipv4_errors),
            cmocka_unit_test(test_ipv4_options_skipped),
            cmocka_unit_test(test_ipv4_fragment_fields),
            cmocka_unit_test(test_ipv4_addresses),
            cmocka_unit_test(test_icmp4_both_ways),
            cmocka_unit_test(test_icmp4_error_rest),
            cmocka_unit_test(test_checksum),
            cmocka_unit_test(test_checksum_copy),
            cmocka_unit_test(test_checksum20),
            cmocka_unit_test(test_checksum_hdr),
            cmocka_unit_test(test_err_str),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
