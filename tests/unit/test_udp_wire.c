/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP wire layer (RFC 768, RFC 8200 8.1) against real frames:
 * - udp4: Linux 6.x, two network namespaces over a veth pair with transmit
 *   checksum offload off (ethtool -K va tx off), so the kernel computed the
 *   checksum: 192.0.2.1:40000 -> 192.0.2.2:7, payload "mpnet udp" (odd
 *   length), read from an AF_PACKET socket on the receiving end.
 * - udp6: test_wire6.c's udp_dstopts frame (2001:db8::1:33133 ->
 *   2001:db8::2:9 behind a destination options header, payload "dstopt").
 * Each is parsed, verified, and emitted again from its repr, which must give
 * back the captured bytes. Malformed cases are these datagrams with a field
 * changed, as each test says.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/udp.h"

static const uint8_t udp4_frame[51] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08,
    0x00, 0x45, 0x00, 0x00, 0x25, 0xb0, 0xec, 0x40, 0x00, 0x40, 0x11, 0x05, 0xd8,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x9c, 0x40, 0x00, 0x07, 0x00,
    0x11, 0xaa, 0x25, 0x6d, 0x70, 0x6e, 0x65, 0x74, 0x20, 0x75, 0x64, 0x70};

static const uint8_t udp6_frame[84] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
    0x60, 0x07, 0xdd, 0xc0, 0x00, 0x1e, 0x3c, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x01,
    0x1e, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x81, 0x6d, 0x00, 0x09, 0x00, 0x0e, 0xd9, 0x8f, 0x64, 0x73, 0x74, 0x6f, 0x70, 0x74};

#define UDP4_OFF 34 /* Ethernet 14 + IPv4 20 */
#define UDP4_LEN 17
#define UDP6_OFF 70 /* Ethernet 14 + IPv6 40 + destination options 16 */
#define UDP6_LEN 14
#define A1       0xc0000201u
#define A2       0xc0000202u

static uint8_t s6[16], d6[16];

static int setup(void **state)
{
        (void)state;
        memcpy(s6, udp6_frame + 22, 16);
        memcpy(d6, udp6_frame + 38, 16);
        return 0;
}

/* A copy at the end of a heap block, so ASan catches a read past the datagram. */
static uint8_t *tail_copy(const uint8_t *b, size_t n)
{
        uint8_t *c = malloc(n == 0 ? 1 : n);

        assert_non_null(c);
        memcpy(c, b, n);
        return c;
}

static void test_udp4_both_ways(void **state)
{
        uint8_t *d = tail_copy(udp4_frame + UDP4_OFF, UDP4_LEN), out[UDP4_LEN];
        struct mpnet_ip4_view ip;
        struct mpnet_udp_view v;
        struct mpnet_udp_repr r;

        (void)state;
        assert_int_equal(mpnet_ip4_view_check(udp4_frame + 14, sizeof(udp4_frame) - 14, &ip), 0);
        assert_int_equal(mpnet_ip4_proto(&ip), MPNET_IPPROTO_UDP);
        assert_int_equal(mpnet_ip4_payload_len(&ip), UDP4_LEN);
        assert_int_equal(mpnet_udp_view_check(d, UDP4_LEN, &v), 0);
        assert_int_equal(mpnet_udp_sport(&v), 40000);
        assert_int_equal(mpnet_udp_dport(&v), 7);
        assert_int_equal(mpnet_udp_len(&v), UDP4_LEN);
        assert_int_equal(mpnet_udp_csum(&v), 0xaa25);
        assert_int_equal(mpnet_udp_surplus(&v), 0);
        assert_int_equal(mpnet_udp_payload_len(&v), 9);
        assert_memory_equal(mpnet_udp_payload(&v), "mpnet udp", 9);
        assert_int_equal(mpnet_udp4_csum_check(&v, mpnet_ip4_src(&ip), mpnet_ip4_dst(&ip)), 0);
        mpnet_udp_repr_parse(&v, &r);
        assert_int_equal(r.sport, 40000);
        assert_int_equal(r.dport, 7);
        assert_int_equal(r.payload_len, 9);
        assert_int_equal(mpnet_udp_repr_len(&r), UDP4_LEN);
        memcpy(out + MPNET_UDP_HLEN, mpnet_udp_payload(&v), r.payload_len);
        mpnet_udp_repr_emit(&r, out);
        assert_int_equal(out[6] | out[7], 0);
        mpnet_udp4_csum_set(out, A1, A2);
        assert_memory_equal(out, udp4_frame + UDP4_OFF, UDP4_LEN);
        free(d);
}

static void test_udp6_both_ways(void **state)
{
        uint8_t *d = tail_copy(udp6_frame + UDP6_OFF, UDP6_LEN), out[UDP6_LEN];
        struct mpnet_udp_view v;
        struct mpnet_udp_repr r;

        (void)state;
        assert_int_equal(mpnet_udp_view_check(d, UDP6_LEN, &v), 0);
        assert_int_equal(mpnet_udp_sport(&v), 33133);
        assert_int_equal(mpnet_udp_dport(&v), 9);
        assert_int_equal(mpnet_udp_len(&v), UDP6_LEN);
        assert_int_equal(mpnet_udp_csum(&v), 0xd98f);
        assert_memory_equal(mpnet_udp_payload(&v), "dstopt", 6);
        assert_int_equal(mpnet_udp6_csum_check(&v, s6, d6), 0);
        mpnet_udp_repr_parse(&v, &r);
        memcpy(out + MPNET_UDP_HLEN, mpnet_udp_payload(&v), r.payload_len);
        mpnet_udp_repr_emit(&r, out);
        mpnet_udp6_csum_set(out, s6, d6);
        assert_memory_equal(out, udp6_frame + UDP6_OFF, UDP6_LEN);
        /* The pseudo-header binds the addresses: swapped ones do not verify
         * (the sum is symmetric in src and dst, so change one). */
        d6[15] ^= 1;
        assert_int_equal(mpnet_udp6_csum_check(&v, s6, d6), -MPNET_WIRE_BAD_CSUM);
        d6[15] ^= 1;
        free(d);
}

/* RFC 768: zero means the sender computed none, accepted over IPv4; RFC 8200
 * 8.1: over IPv6 it is discarded. The two results differ from a bad sum. */
static void test_zero_checksum(void **state)
{
        uint8_t *g4 = tail_copy(udp4_frame + UDP4_OFF, UDP4_LEN);
        uint8_t *g6 = tail_copy(udp6_frame + UDP6_OFF, UDP6_LEN);
        struct mpnet_udp_view v4, v6;

        (void)state;
        g4[6] = g4[7] = 0;
        g6[6] = g6[7] = 0;
        assert_int_equal(mpnet_udp_view_check(g4, UDP4_LEN, &v4), 0);
        assert_int_equal(mpnet_udp_view_check(g6, UDP6_LEN, &v6), 0);
        assert_int_equal(mpnet_udp4_csum_check(&v4, A1, A2), MPNET_UDP_CSUM_NONE);
        assert_int_equal(mpnet_udp6_csum_check(&v6, s6, d6), -MPNET_WIRE_BAD_FIELD);
        free(g4);
        free(g6);
}

static void test_bad_checksum(void **state)
{
        uint8_t *g4 = tail_copy(udp4_frame + UDP4_OFF, UDP4_LEN);
        uint8_t *g6 = tail_copy(udp6_frame + UDP6_OFF, UDP6_LEN);
        struct mpnet_udp_view v4, v6;

        (void)state;
        g4[UDP4_LEN - 1] ^= 0x20; /* the odd last byte counts as its word's high half */
        g6[MPNET_UDP_HLEN] ^= 0x01;
        assert_int_equal(mpnet_udp_view_check(g4, UDP4_LEN, &v4), 0);
        assert_int_equal(mpnet_udp_view_check(g6, UDP6_LEN, &v6), 0);
        assert_int_equal(mpnet_udp4_csum_check(&v4, A1, A2), -MPNET_WIRE_BAD_CSUM);
        assert_int_equal(mpnet_udp6_csum_check(&v6, s6, d6), -MPNET_WIRE_BAD_CSUM);
        /* Wrong addresses in the pseudo-header. */
        g4[UDP4_LEN - 1] ^= 0x20;
        assert_int_equal(mpnet_udp4_csum_check(&v4, A1, A2), 0);
        assert_int_equal(mpnet_udp4_csum_check(&v4, A1, A2 + 1), -MPNET_WIRE_BAD_CSUM);
        free(g4);
        free(g6);
}

/* RFC 768: a sum that comes out 0 is sent as all ones, which verifies. Make
 * one by adding the checksum into a payload word: the sum with the field
 * zero becomes S + ~S = 0xffff, whose complement is 0. */
static void test_computed_zero_sent_as_ones(void **state)
{
        uint8_t b[UDP4_LEN + 1];
        struct mpnet_udp_view v;
        uint32_t w;
        uint16_t c;

        (void)state;
        memcpy(b, udp4_frame + UDP4_OFF, UDP4_LEN);
        c = mpnet_get_be16(b + 6);
        w = (uint32_t)mpnet_get_be16(b + 8) + c;
        mpnet_put_be16(b + 8, (uint16_t)((w & 0xffff) + (w >> 16)));
        mpnet_udp4_csum_set(b, A1, A2);
        assert_int_equal(mpnet_get_be16(b + 6), 0xffff);
        assert_int_equal(mpnet_udp_view_check(b, UDP4_LEN, &v), 0);
        assert_int_equal(mpnet_udp4_csum_check(&v, A1, A2), 0);
        /* The same over IPv6. */
        memcpy(b, udp6_frame + UDP6_OFF, UDP6_LEN);
        c = mpnet_get_be16(b + 6);
        w = (uint32_t)mpnet_get_be16(b + 8) + c;
        mpnet_put_be16(b + 8, (uint16_t)((w & 0xffff) + (w >> 16)));
        mpnet_udp6_csum_set(b, s6, d6);
        assert_int_equal(mpnet_get_be16(b + 6), 0xffff);
        assert_int_equal(mpnet_udp_view_check(b, UDP6_LEN, &v), 0);
        assert_int_equal(mpnet_udp6_csum_check(&v, s6, d6), 0);
}

/* Every length shape: each fault has its own result. */
static void test_lengths(void **state)
{
        uint8_t b[UDP4_LEN + 5];
        struct mpnet_udp_view v;

        (void)state;
        memcpy(b, udp4_frame + UDP4_OFF, UDP4_LEN);
        memset(b + UDP4_LEN, 0xee, 5);
        for (size_t n = 0; n < MPNET_UDP_HLEN; n++) {
                uint8_t *d = tail_copy(b, n);

                assert_int_equal(mpnet_udp_view_check(d, n, &v), -MPNET_WIRE_TRUNCATED);
                free(d);
        }
        /* Length field below the header. */
        for (uint16_t len = 0; len < MPNET_UDP_HLEN; len++) {
                mpnet_put_be16(b + 4, len);
                assert_int_equal(mpnet_udp_view_check(b, UDP4_LEN, &v), -MPNET_WIRE_BAD_HLEN);
        }
        /* Beyond the IP payload, by one and by the most. */
        mpnet_put_be16(b + 4, UDP4_LEN + 1);
        assert_int_equal(mpnet_udp_view_check(b, UDP4_LEN, &v), -MPNET_WIRE_BAD_LEN);
        mpnet_put_be16(b + 4, 0xffff);
        assert_int_equal(mpnet_udp_view_check(b, UDP4_LEN, &v), -MPNET_WIRE_BAD_LEN);
        /* Exactly 8: an empty datagram. */
        mpnet_put_be16(b + 4, MPNET_UDP_HLEN);
        assert_int_equal(mpnet_udp_view_check(b, MPNET_UDP_HLEN, &v), 0);
        assert_int_equal(mpnet_udp_payload_len(&v), 0);
        assert_int_equal(mpnet_udp_surplus(&v), 0);
        /* Short of the IP payload: the view ends at the length field and says
         * how much it cut; the checksum covers the length field's bytes only. */
        mpnet_put_be16(b + 4, UDP4_LEN);
        assert_int_equal(mpnet_udp_view_check(b, UDP4_LEN + 5, &v), 0);
        assert_int_equal(mpnet_udp_len(&v), UDP4_LEN);
        assert_int_equal(mpnet_udp_surplus(&v), 5);
        assert_int_equal(mpnet_udp4_csum_check(&v, A1, A2), 0);
}

/* A checksum over a chain: the pseudo-header sum plus each segment (even
 * lengths except the last) equals the flat one. */
static void test_checksum_by_segments(void **state)
{
        uint8_t b[UDP4_LEN];
        uint64_t sum;

        (void)state;
        memcpy(b, udp4_frame + UDP4_OFF, UDP4_LEN);
        b[6] = b[7] = 0;
        sum = mpnet_udp4_pseudo(A1, A2, UDP4_LEN);
        sum = mpnet_csum_add(sum, b, MPNET_UDP_HLEN);
        sum = mpnet_csum_add(sum, b + MPNET_UDP_HLEN, 4);
        sum = mpnet_csum_add(sum, b + MPNET_UDP_HLEN + 4, UDP4_LEN - MPNET_UDP_HLEN - 4);
        assert_int_equal(mpnet_udp_csum_final(sum), 0xaa25);
        memcpy(b, udp6_frame + UDP6_OFF, UDP6_LEN);
        b[6] = b[7] = 0;
        sum = mpnet_udp6_pseudo(s6, d6, UDP6_LEN);
        sum = mpnet_csum_add(sum, b, 2);
        sum = mpnet_csum_add(sum, b + 2, UDP6_LEN - 2);
        assert_int_equal(mpnet_udp_csum_final(sum), 0xd98f);
}

/* RFC 8200 8.1: the IPv6 pseudo-header's length is 32 bits; its high half
 * counts (a jumbogram's, were one ever checked). */
static void test_pseudo6_long_length(void **state)
{
        uint8_t z[16] = {0};

        (void)state;
        assert_int_equal(mpnet_csum_fold(mpnet_udp6_pseudo(z, z, 0x10008)),
                         (uint16_t) ~(1 + 8 + MPNET_IPPROTO_UDP));
        assert_int_equal(mpnet_csum_fold(mpnet_udp4_pseudo(0, 0, 8)),
                         (uint16_t) ~(8 + MPNET_IPPROTO_UDP));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_udp4_both_ways),
            cmocka_unit_test(test_udp6_both_ways),
            cmocka_unit_test(test_zero_checksum),
            cmocka_unit_test(test_bad_checksum),
            cmocka_unit_test(test_computed_zero_sent_as_ones),
            cmocka_unit_test(test_lengths),
            cmocka_unit_test(test_checksum_by_segments),
            cmocka_unit_test(test_pseudo6_long_length),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
