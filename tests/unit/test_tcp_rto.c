/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The RTO estimator (RFC 6298) against values worked by hand from its
 * formulas: the first sample (2.2), later ones (2.3), the 1 s floor or a
 * 200 ms one, the 60 s ceiling, Karn's rule and the backoff.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "l4/tcp_rto.h"

static void test_formulas(void **state)
{
        struct tcp_rto r;

        (void)state;
        tcp_rto_init(&r, 200000);
        assert_int_equal(tcp_rto_us(&r), 1000000); /* 2.1 */
        /* 2.2: R = 100 ms: SRTT 100, RTTVAR 50, RTO 100 + 4 * 50 = 300 ms. */
        assert_true(tcp_rto_sample(&r, 100000, false));
        assert_int_equal(r.srtt_us, 100000);
        assert_int_equal(r.rttvar_us, 50000);
        assert_int_equal(tcp_rto_us(&r), 300000);
        /* 2.3: R' = 200 ms: RTTVAR = 3/4 50 + 1/4 |100 - 200| = 62.5,
         * SRTT = 7/8 100 + 1/8 200 = 112.5, RTO = 112.5 + 250 = 362.5 ms. */
        tcp_rto_sample(&r, 200000, false);
        assert_int_equal(r.rttvar_us, 62500);
        assert_int_equal(r.srtt_us, 112500);
        assert_int_equal(tcp_rto_us(&r), 362500);
        /* R' = 112.5 ms (no deviation): RTTVAR 46875, SRTT stays. */
        tcp_rto_sample(&r, 112500, false);
        assert_int_equal(r.rttvar_us, 46875);
        assert_int_equal(r.srtt_us, 112500);
        assert_int_equal(tcp_rto_us(&r), 112500 + 187500);
}

static void test_bounds(void **state)
{
        struct tcp_rto r;
        int i;

        (void)state;
        /* The RFC's floor of 1 s (2.4). */
        tcp_rto_init(&r, TCP_RTO_MIN_US);
        tcp_rto_sample(&r, 10000, false);
        assert_int_equal(tcp_rto_us(&r), 1000000);
        /* A LAN RTT with a 200 ms floor; G when RTTVAR has decayed to 0. */
        tcp_rto_init(&r, 200000);
        for (i = 0; i < 100; i++)
                tcp_rto_sample(&r, 1000, false);
        assert_int_equal(tcp_rto_us(&r), 200000);
        tcp_rto_init(&r, 0);
        for (i = 0; i < 100; i++)
                tcp_rto_sample(&r, 1000, false);
        assert_int_equal(r.rttvar_us, 0);
        assert_int_equal(tcp_rto_us(&r), 1000 + TCP_RTO_G_US);
        /* 2.5: at most 60 s. */
        tcp_rto_init(&r, 200000);
        tcp_rto_sample(&r, 30000000, false);
        assert_int_equal(tcp_rto_us(&r), 60000000);
}

static void test_karn_backoff(void **state)
{
        struct tcp_rto r;
        int i;

        (void)state;
        tcp_rto_init(&r, 200000);
        tcp_rto_sample(&r, 100000, false); /* RTO 300 ms */
        tcp_rto_backoff(&r);
        assert_int_equal(tcp_rto_us(&r), 600000);
        tcp_rto_backoff(&r);
        assert_int_equal(tcp_rto_us(&r), 1200000);
        /* Karn: the ACK of a retransmitted segment is no sample, and the
         * backoff stays. */
        assert_false(tcp_rto_sample(&r, 5000, true));
        assert_int_equal(r.srtt_us, 100000);
        assert_int_equal(tcp_rto_us(&r), 1200000);
        /* A valid sample recomputes RTO and clears the backoff. */
        assert_true(tcp_rto_sample(&r, 100000, false));
        assert_int_equal(tcp_rto_us(&r), 100000 + 4 * 37500);
        for (i = 0; i < 40; i++)
                tcp_rto_backoff(&r);
        assert_int_equal(tcp_rto_us(&r), TCP_RTO_MAX_US);
        /* 5.7: a lost SYN with no sample: 3 s; a sample keeps its RTO. */
        tcp_rto_init(&r, 200000);
        tcp_rto_backoff(&r);
        tcp_rto_syn_lost(&r);
        assert_int_equal(tcp_rto_us(&r), 3000000);
        tcp_rto_sample(&r, 100000, false);
        tcp_rto_syn_lost(&r);
        assert_int_equal(tcp_rto_us(&r), 300000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_formulas),
            cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_karn_backoff),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
