/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP sequence arithmetic (RFC 9293 3.4), segment acceptability (3.10.7.4),
 * PAWS (RFC 7323 5.3) and the RFC 5961 rules, each near 0 and across the
 * wrap at 2^32.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "l4/tcp_seq.h"

static const uint32_t bases[] = {0, 1000, 0x7fffffff, 0xfffffff0u, 0xffffffffu};

static void test_compare(void **state)
{
        unsigned i;

        (void)state;
        for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
                uint32_t a = bases[i];

                assert_true(seq_lt(a, a + 1));
                assert_true(seq_lt(a, a + 0x7fffffff));
                assert_false(seq_lt(a, a));
                assert_true(seq_leq(a, a));
                assert_true(seq_gt(a + 1, a));
                assert_true(seq_geq(a, a));
                assert_false(seq_gt(a, a + 16));
                assert_true(seq_lt(a - 16, a));
                assert_int_equal(seq_max(a - 5, a + 5), a + 5);
                assert_int_equal(seq_min(a - 5, a + 5), a - 5);
        }
        /* Across the wrap: 0xfffffff0 is before 0x10. */
        assert_true(seq_lt(0xfffffff0u, 0x10));
        assert_true(seq_gt(0x10, 0xfffffff0u));
        assert_false(seq_lt(0x10, 0xfffffff0u));
        assert_true(seq_in(0x2, 0xfffffff0u, 0x10));
        assert_true(seq_in(0xfffffff0u, 0xfffffff0u, 0x10));
        assert_false(seq_in(0x10, 0xfffffff0u, 0x10));
        assert_false(seq_in(0xffffffefu, 0xfffffff0u, 0x10));
        assert_false(seq_in(5, 5, 5)); /* empty */
}

/* The four cases of RFC 9293 3.10.7.4, at each base. */
static void test_acceptable(void **state)
{
        unsigned i;

        (void)state;
        for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
                uint32_t n = bases[i];

                /* length 0, window 0: only SEG.SEQ = RCV.NXT */
                assert_true(tcp_seg_acceptable(n, 0, n, 0));
                assert_false(tcp_seg_acceptable(n, 0, n + 1, 0));
                assert_false(tcp_seg_acceptable(n, 0, n - 1, 0));
                /* length 0, window 100: RCV.NXT =< SEG.SEQ < RCV.NXT + 100 */
                assert_true(tcp_seg_acceptable(n, 100, n, 0));
                assert_true(tcp_seg_acceptable(n, 100, n + 99, 0));
                assert_false(tcp_seg_acceptable(n, 100, n + 100, 0));
                assert_false(tcp_seg_acceptable(n, 100, n - 1, 0));
                /* length > 0, window 0: never */
                assert_false(tcp_seg_acceptable(n, 0, n, 1));
                assert_false(tcp_seg_acceptable(n, 0, n - 10, 20));
                /* length > 0, window 100: first or last octet inside */
                assert_true(tcp_seg_acceptable(n, 100, n, 1));
                assert_true(tcp_seg_acceptable(n, 100, n + 99, 50));  /* starts inside */
                assert_true(tcp_seg_acceptable(n, 100, n - 10, 11));  /* ends at RCV.NXT */
                assert_false(tcp_seg_acceptable(n, 100, n - 10, 10)); /* ends before */
                assert_false(tcp_seg_acceptable(n, 100, n + 100, 5));
                assert_true(tcp_seg_acceptable(n, 100, n - 50, 200)); /* covers it */
                assert_false(tcp_seg_acceptable(n, 100, n - 1000, 10));
        }
}

static void test_paws(void **state)
{
        (void)state;
        assert_true(tcp_paws_ok(100, 100, 0, false));
        assert_true(tcp_paws_ok(101, 100, 0, false));
        assert_false(tcp_paws_ok(99, 100, 0, false));
        /* Across the wrap of the timestamp clock. */
        assert_true(tcp_paws_ok(5, 0xfffffff0u, 0, false));
        assert_false(tcp_paws_ok(0xfffffff0u, 5, 0, false));
        /* A RST passes; so does anything once TS.Recent is 24 days old. */
        assert_true(tcp_paws_ok(99, 100, 0, true));
        assert_false(tcp_paws_ok(99, 100, TCP_PAWS_IDLE_S - 1, false));
        assert_true(tcp_paws_ok(99, 100, TCP_PAWS_IDLE_S, false));
        /* TS.Recent taken from a segment at or before Last.ACK.sent only. */
        assert_true(tcp_ts_recent_take(200, 100, 5000, 5000));
        assert_true(tcp_ts_recent_take(100, 100, 4000, 5000));
        assert_false(tcp_ts_recent_take(200, 100, 5001, 5000));
        assert_false(tcp_ts_recent_take(99, 100, 5000, 5000));
        assert_true(tcp_ts_recent_take(1, 0xffffffffu, 0x10, 0xfffffff0u + 0x30));
}

/* RFC 5961 3.2: exact RST accepted, in-window challenged, outside dropped. */
static void test_rst(void **state)
{
        unsigned i;

        (void)state;
        for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
                uint32_t n = bases[i];

                assert_int_equal(tcp_rst_check(n, 1000, n), TCP_ACCEPT);
                assert_int_equal(tcp_rst_check(n, 1000, n + 1), TCP_CHALLENGE_ACK);
                assert_int_equal(tcp_rst_check(n, 1000, n + 999), TCP_CHALLENGE_ACK);
                assert_int_equal(tcp_rst_check(n, 1000, n + 1000), TCP_DROP);
                assert_int_equal(tcp_rst_check(n, 1000, n - 1), TCP_DROP);
                assert_int_equal(tcp_rst_check(n, 0, n), TCP_ACCEPT);
                assert_int_equal(tcp_rst_check(n, 0, n + 1), TCP_DROP);
        }
        assert_int_equal(tcp_syn_check(), TCP_CHALLENGE_ACK);
}

/* RFC 5961 5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT. */
static void test_ack(void **state)
{
        unsigned i;

        (void)state;
        for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
                uint32_t una = bases[i], nxt = una + 5000, w = 65535;

                assert_int_equal(tcp_ack_check(una, nxt, w, una), TCP_ACCEPT);
                assert_int_equal(tcp_ack_check(una, nxt, w, nxt), TCP_ACCEPT);
                assert_int_equal(tcp_ack_check(una, nxt, w, una + 1), TCP_ACCEPT);
                assert_int_equal(tcp_ack_check(una, nxt, w, una - w), TCP_ACCEPT);
                assert_int_equal(tcp_ack_check(una, nxt, w, nxt + 1), TCP_CHALLENGE_ACK);
                assert_int_equal(tcp_ack_check(una, nxt, w, una - w - 1), TCP_CHALLENGE_ACK);
                assert_int_equal(tcp_ack_check(una, nxt, w, una + 0x80000000u), TCP_CHALLENGE_ACK);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_compare), cmocka_unit_test(test_acceptable),
            cmocka_unit_test(test_paws),    cmocka_unit_test(test_rst),
            cmocka_unit_test(test_ack),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
