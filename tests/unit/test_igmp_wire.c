/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IGMP wire layer (RFC 3376 4, RFC 2236 2, RFC 1112 appendix I):
 * - linux_report: Linux 6.x, a network namespace joining 233.252.0.1
 *   (IP_ADD_MEMBERSHIP) on a veth with 192.0.2.1/24, captured with tcpdump
 *   on the peer: the whole frame, IPv4 with its Router Alert option, then a
 *   v3 report of one record TO_EX(233.252.0.1, {}).
 * - the other messages are built from the RFCs' layouts, their checksums
 *   worked out by hand: v1, v2 and v3 queries (a group-and-source one with
 *   floating-point codes), v1 and v2 reports, a v2 leave, a v3 report of
 *   two records with a source and auxiliary data.
 * Each parses to its fields, and what is emitted from the fields gives the
 * bytes back. Malformed cases are these messages cut or changed, each
 * length fault with its own result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/igmp.h"
#include "mpnet/wire/ipv4.h"

#define G1 0xe9fc0001u /* 233.252.0.1 (MCAST-TEST-NET, RFC 5771) */
#define G2 0xe9fc0002u

static const uint8_t linux_report[54] = {
    0x01, 0x00, 0x5e, 0x00, 0x00, 0x16, 0x5a, 0x65, 0xb9, 0x3e, 0x2d, 0xd2, 0x08, 0x00,
    0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x41, 0xf8, 0xc0, 0x00,
    0x02, 0x01, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00, 0xf0, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0xe9, 0xfc, 0x00, 0x01};

static const uint8_t v1_query[8] = {0x11, 0x00, 0xee, 0xff, 0x00, 0x00, 0x00, 0x00};
static const uint8_t v2_query[8] = {0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00};
static const uint8_t v2_group_query[8] = {0x11, 0x0a, 0x04, 0xf8, 0xe9, 0xfc, 0x00, 0x01};
static const uint8_t v3_query[12] = {0x11, 0x64, 0xec, 0x1e, 0x00, 0x00,
                                     0x00, 0x00, 0x02, 0x7d, 0x00, 0x00};
/* Group-and-source: Max Resp Code 0x8c (224 ds), S set, QRV 2, QQIC 0x90
 * (256 s), sources 192.0.2.9 and 192.0.2.10. */
static const uint8_t v3_gs_query[20] = {0x11, 0x8c, 0x75, 0xcf, 0xe9, 0xfc, 0x00, 0x01, 0x0a, 0x90,
                                        0x00, 0x02, 0xc0, 0x00, 0x02, 0x09, 0xc0, 0x00, 0x02, 0x0a};
static const uint8_t v1_report[8] = {0x12, 0x00, 0x04, 0x02, 0xe9, 0xfc, 0x00, 0x01};
static const uint8_t v2_report[8] = {0x16, 0x00, 0x00, 0x02, 0xe9, 0xfc, 0x00, 0x01};
static const uint8_t v2_leave[8] = {0x17, 0x00, 0xff, 0x01, 0xe9, 0xfc, 0x00, 0x01};
/* IS_EX(233.252.0.1, {}), ALLOW(233.252.0.2, {192.0.2.9}) with one word of
 * auxiliary data. */
static const uint8_t v3_report2[32] = {
    0x22, 0x00, 0xa3, 0x57, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0xe9, 0xfc, 0x00, 0x01,
    0x05, 0x01, 0x00, 0x01, 0xe9, 0xfc, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x09, 0xde, 0xad, 0xbe, 0xef};

static void test_linux_report(void **state)
{
        const uint8_t *m = linux_report + MPNET_ETH_HLEN + 24;
        struct mpnet_igmp_record rec, out[1];
        struct mpnet_igmp_rec_iter it;
        struct mpnet_ip4_view ip;
        struct mpnet_ip4_repr r;
        struct mpnet_igmp_view v;
        uint8_t mac[6], b[16];

        (void)state;
        /* The frame: to 224.0.0.22's MAC (RFC 1112 6.4), IPv4 of 24 bytes
         * (Router Alert), TTL 1, protocol 2. */
        mpnet_ip4_mc_mac(MPNET_IGMP_V3_ROUTERS, mac);
        assert_memory_equal(mac, linux_report, 6);
        assert_int_equal(mpnet_ip4_view_check(linux_report + MPNET_ETH_HLEN, 40, &ip), 0);
        assert_int_equal(mpnet_ip4_hlen(&ip), 24);
        mpnet_ip4_repr_parse(&ip, &r);
        assert_int_equal(r.proto, MPNET_IPPROTO_IGMP);
        assert_int_equal(r.ttl, 1);
        assert_int_equal(r.dst, MPNET_IGMP_V3_ROUTERS);
        assert_int_equal(r.payload_len, 16);

        assert_int_equal(mpnet_igmp_view_check(m, 16, &v), 0);
        assert_int_equal(mpnet_igmp_type(&v), MPNET_IGMP_V3_REPORT);
        assert_int_equal(mpnet_igmp_report_iter_init(&it, &v), 0);
        assert_int_equal(mpnet_igmp_record_next(&it, &rec), 1);
        assert_int_equal(rec.type, MPNET_IGMP3_TO_EXCLUDE);
        assert_int_equal(rec.group, G1);
        assert_int_equal(rec.n_src, 0);
        assert_int_equal(mpnet_igmp_record_next(&it, &rec), 0);
        out[0] = (struct mpnet_igmp_record){.type = MPNET_IGMP3_TO_EXCLUDE, .group = G1};
        assert_int_equal(mpnet_igmp3_report_len(out, 1), 16);
        mpnet_igmp3_report_emit(out, 1, b);
        assert_memory_equal(b, m, 16);
}

static void test_queries(void **state)
{
        struct mpnet_igmp_query q;
        struct mpnet_igmp_view v;
        uint8_t b[32];

        (void)state;
        assert_int_equal(mpnet_igmp_view_check(v1_query, 8, &v), 0);
        assert_int_equal(mpnet_igmp_query_parse(&v, &q), 0);
        assert_int_equal(q.version, 1);
        assert_int_equal(q.max_resp_ds, 100); /* RFC 2236 4: 10 s */
        assert_int_equal(q.group, 0);
        assert_int_equal(mpnet_igmp_query_emit(&q, b), 8);
        assert_memory_equal(b, v1_query, 8);

        assert_int_equal(mpnet_igmp_view_check(v2_query, 8, &v), 0);
        assert_int_equal(mpnet_igmp_query_parse(&v, &q), 0);
        assert_int_equal(q.version, 2);
        assert_int_equal(q.max_resp_ds, 100);
        assert_int_equal(mpnet_igmp_query_emit(&q, b), 8);
        assert_memory_equal(b, v2_query, 8);

        assert_int_equal(mpnet_igmp_view_check(v2_group_query, 8, &v), 0);
        assert_int_equal(mpnet_igmp_query_parse(&v, &q), 0);
        assert_int_equal(q.version, 2);
        assert_int_equal(q.max_resp_ds, 10);
        assert_int_equal(q.group, G1);
        assert_int_equal(mpnet_igmp_query_emit(&q, b), 8);
        assert_memory_equal(b, v2_group_query, 8);

        assert_int_equal(mpnet_igmp_view_check(v3_query, 12, &v), 0);
        assert_int_equal(mpnet_igmp_query_parse(&v, &q), 0);
        assert_int_equal(q.version, 3);
        assert_int_equal(q.max_resp_ds, 100);
        assert_int_equal(q.qrv, 2);
        assert_int_equal(q.qqi, 125);
        assert_false(q.suppress);
        assert_int_equal(q.n_src, 0);
        assert_int_equal(mpnet_igmp_query_emit(&q, b), 12);
        assert_memory_equal(b, v3_query, 12);

        assert_int_equal(mpnet_igmp_view_check(v3_gs_query, 20, &v), 0);
        assert_int_equal(mpnet_igmp_query_parse(&v, &q), 0);
        assert_int_equal(q.version, 3);
        assert_int_equal(q.max_resp_ds, 224);
        assert_int_equal(q.group, G1);
        assert_true(q.suppress);
        assert_int_equal(q.qrv, 2);
        assert_int_equal(q.qqi, 256);
        assert_int_equal(q.n_src, 2);
        assert_int_equal(mpnet_get_be32(q.src + 4), 0xc000020a);
        assert_int_equal(mpnet_igmp3_query_len(&q), 20);
        assert_int_equal(mpnet_igmp_query_emit(&q, b), 20);
        assert_memory_equal(b, v3_gs_query, 20);

        /* Not a query. */
        assert_int_equal(mpnet_igmp_view_check(v2_report, 8, &v), 0);
        assert_int_equal(mpnet_igmp_query_parse(&v, &q), -MPNET_WIRE_UNSUPPORTED);
}

static void test_old_reports(void **state)
{
        struct mpnet_igmp_rec_iter it;
        struct mpnet_igmp_view v;
        uint8_t b[8];

        (void)state;
        assert_int_equal(mpnet_igmp_view_check(v1_report, 8, &v), 0);
        assert_int_equal(mpnet_igmp_type(&v), MPNET_IGMP_V1_REPORT);
        assert_int_equal(mpnet_igmp_group(&v), G1);
        assert_int_equal(mpnet_igmp_report_iter_init(&it, &v), -MPNET_WIRE_UNSUPPORTED);
        mpnet_igmp_emit(MPNET_IGMP_V1_REPORT, 0, G1, b);
        assert_memory_equal(b, v1_report, 8);
        assert_int_equal(mpnet_igmp_view_check(v2_report, 8, &v), 0);
        assert_int_equal(mpnet_igmp_type(&v), MPNET_IGMP_V2_REPORT);
        mpnet_igmp_emit(MPNET_IGMP_V2_REPORT, 0, G1, b);
        assert_memory_equal(b, v2_report, 8);
        assert_int_equal(mpnet_igmp_view_check(v2_leave, 8, &v), 0);
        assert_int_equal(mpnet_igmp_type(&v), MPNET_IGMP_V2_LEAVE);
        mpnet_igmp_emit(MPNET_IGMP_V2_LEAVE, 0, G1, b);
        assert_memory_equal(b, v2_leave, 8);
}

static void test_v3_report_records(void **state)
{
        struct mpnet_igmp_record rec, out[2];
        struct mpnet_igmp_rec_iter it;
        struct mpnet_igmp_view v;
        uint8_t b[32];

        (void)state;
        assert_int_equal(mpnet_igmp_view_check(v3_report2, 32, &v), 0);
        assert_int_equal(mpnet_igmp_report_iter_init(&it, &v), 0);
        assert_int_equal(mpnet_igmp_record_next(&it, &rec), 1);
        assert_int_equal(rec.type, MPNET_IGMP3_MODE_IS_EXCLUDE);
        assert_int_equal(rec.group, G1);
        assert_int_equal(rec.n_src, 0);
        out[0] = rec;
        assert_int_equal(mpnet_igmp_record_next(&it, &rec), 1);
        assert_int_equal(rec.type, MPNET_IGMP3_ALLOW_NEW);
        assert_int_equal(rec.group, G2);
        assert_int_equal(rec.n_src, 1);
        assert_int_equal(mpnet_get_be32(rec.src), 0xc0000209);
        out[1] = rec;
        assert_int_equal(mpnet_igmp_record_next(&it, &rec), 0);
        /* Emitted again without the auxiliary word (4.2.6: none sent). */
        assert_int_equal(mpnet_igmp3_report_len(out, 2), 28);
        mpnet_igmp3_report_emit(out, 2, b);
        assert_int_equal(mpnet_igmp_view_check(b, 28, &v), 0);
        assert_memory_equal(b + 4, v3_report2 + 4, 17 - 4);
        assert_int_equal(b[17], 0);
        assert_memory_equal(b + 18, v3_report2 + 18, 28 - 18);
}

/* Each length fault its own result; a bad checksum its own. */
static void test_malformed(void **state)
{
        struct mpnet_igmp_view v;
        uint8_t b[32];

        (void)state;
        assert_int_equal(mpnet_igmp_view_check(v2_query, 7, &v), -MPNET_WIRE_TRUNCATED);
        assert_int_equal(mpnet_igmp_view_check(v2_query, 0, &v), -MPNET_WIRE_TRUNCATED);
        /* RFC 3376 7.1: a query of 9 to 11 bytes is no version's. */
        memcpy(b, v3_query, 12);
        for (size_t n = 9; n < 12; n++)
                assert_int_equal(mpnet_igmp_view_check(b, n, &v), -MPNET_WIRE_BAD_LEN);
        /* Two sources announced, one there. */
        assert_int_equal(mpnet_igmp_view_check(v3_gs_query, 16, &v), -MPNET_WIRE_BAD_HLEN);
        /* Report records past the end: the second record cut, its
         * auxiliary word cut, one record more announced. */
        assert_int_equal(mpnet_igmp_view_check(v3_report2, 20, &v), -MPNET_WIRE_TOO_LONG);
        assert_int_equal(mpnet_igmp_view_check(v3_report2, 28, &v), -MPNET_WIRE_TOO_LONG);
        memcpy(b, v3_report2, 32);
        b[7] = 3;
        assert_int_equal(mpnet_igmp_view_check(b, 32, &v), -MPNET_WIRE_TOO_LONG);
        /* Checksum. */
        memcpy(b, v2_report, 8);
        b[7] ^= 1;
        assert_int_equal(mpnet_igmp_view_check(b, 8, &v), -MPNET_WIRE_BAD_CSUM);
        memcpy(b, v3_report2, 32);
        b[31] ^= 0x10;
        assert_int_equal(mpnet_igmp_view_check(b, 32, &v), -MPNET_WIRE_BAD_CSUM);
        /* Types a host does not know pass the view (RFC 3376 4: ignored
         * by the protocol, not malformed). */
        memcpy(b, v2_report, 8);
        b[0] = 0x30;
        b[2] = b[3] = 0;
        mpnet_put_be16(b + 2, mpnet_csum(b, 8));
        assert_int_equal(mpnet_igmp_view_check(b, 8, &v), 0);
}

/* RFC 3376 4.1.1 and 4.1.7: every code decodes to a value that encodes
 * back to it; values between codes round down. */
static void test_codes(void **state)
{
        (void)state;
        assert_int_equal(mpnet_igmp_code_decode(127), 127);
        assert_int_equal(mpnet_igmp_code_decode(0x80), 128);
        assert_int_equal(mpnet_igmp_code_decode(0xff), 31744);
        for (unsigned c = 0; c < 256; c++)
                assert_int_equal(mpnet_igmp_code_encode(mpnet_igmp_code_decode((uint8_t)c)), c);
        assert_int_equal(mpnet_igmp_code_decode(mpnet_igmp_code_encode(1000)), 992);
        assert_int_equal(mpnet_igmp_code_encode(1u << 30), 0xff);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_linux_report), cmocka_unit_test(test_queries),
            cmocka_unit_test(test_old_reports),  cmocka_unit_test(test_v3_report_records),
            cmocka_unit_test(test_malformed),    cmocka_unit_test(test_codes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
