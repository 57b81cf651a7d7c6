/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Congestion control (src/l4/tcp_cc.h): cwnd trajectories for scripted ACK
 * and loss sequences against values worked by hand from RFC 5681, RFC 3465,
 * RFC 6582 and RFC 9438. An MSS of 1000 bytes keeps the arithmetic plain.
 * A "round" acknowledges one window in ACKs of a given size, spread evenly
 * over one RTT.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "l4/tcp_cc.h"

#define MSS 1000u

static uint64_t now;

static void round_of(struct tcp_cc *c, uint32_t per_ack, uint32_t rtt_us)
{
        uint32_t i, n = tcp_cc_cwnd(c) / per_ack;

        for (i = 0; i < n; i++) {
                now += rtt_us / n;
                c->ops->on_ack(c, per_ack, rtt_us, now);
        }
}

/* Run rounds until t_s seconds after start_us. */
static void run_until(struct tcp_cc *c, uint64_t start_us, double t_s, uint32_t rtt_us)
{
        while ((double)(now - start_us) * 1e-6 < t_s)
                round_of(c, MSS, rtt_us);
}

static void test_registry(void **state)
{
        static const struct tcp_cc_ops extra[7] = {{.name = "x0"}, {.name = "x1"}, {.name = "x2"},
                                                   {.name = "x3"}, {.name = "x4"}, {.name = "x5"},
                                                   {.name = "x6"}};
        unsigned i;

        (void)state;
        assert_ptr_equal(tcp_cc_find("cubic"), &tcp_cc_cubic);
        assert_ptr_equal(tcp_cc_find("newreno"), &tcp_cc_newreno);
        assert_ptr_equal(tcp_cc_default(), &tcp_cc_cubic);
        assert_null(tcp_cc_find("bbr"));
        assert_int_equal(tcp_cc_register(&tcp_cc_cubic), -EEXIST);
        for (i = 0; i < 6; i++)
                assert_int_equal(tcp_cc_register(&extra[i]), 0);
        assert_ptr_equal(tcp_cc_find("x3"), &extra[3]);
        assert_int_equal(tcp_cc_register(&extra[6]), -ENOSPC);
        /* One cache line: 56 bytes, and abc_max (a TSO sender's slow-start
         * cap) with its padding. */
        assert_int_equal(sizeof(struct tcp_cc), 64);
}

/* RFC 6928's initial window, slow start doubling per RTT whether every
 * segment or every second one is acknowledged, and the ABC limit. */
static void test_slow_start(void **state)
{
        struct tcp_cc c;

        (void)state;
        tcp_cc_init(&c, &tcp_cc_newreno, 1460, 0);
        assert_int_equal(tcp_cc_cwnd(&c), 14600);
        tcp_cc_init(&c, &tcp_cc_newreno, 9000, 0);
        assert_int_equal(tcp_cc_cwnd(&c), 18000);
        tcp_cc_init(&c, &tcp_cc_newreno, 536, 0);
        assert_int_equal(tcp_cc_cwnd(&c), 5360);
        tcp_cc_init(&c, &tcp_cc_newreno, MSS, 0);
        assert_int_equal(tcp_cc_cwnd(&c), 10000);
        assert_int_equal(tcp_cc_ssthresh(&c), UINT32_MAX);
        assert_true(tcp_cc_in_slow_start(&c));
        round_of(&c, MSS, 100000);
        assert_int_equal(tcp_cc_cwnd(&c), 20000);
        round_of(&c, 2 * MSS, 100000); /* delayed ACKs: still doubles */
        assert_int_equal(tcp_cc_cwnd(&c), 40000);
        round_of(&c, 2 * MSS, 100000);
        assert_int_equal(tcp_cc_cwnd(&c), 80000);
        /* RFC 3465 2.2, L = 2: a stretch ACK of 8 MSS grows cwnd by 2. */
        c.ops->on_ack(&c, 8 * MSS, 0, now);
        assert_int_equal(tcp_cc_cwnd(&c), 82000);
        /* The same for CUBIC, whose slow start is Reno's. */
        tcp_cc_init(&c, &tcp_cc_cubic, MSS, 0);
        round_of(&c, MSS, 100000);
        round_of(&c, MSS, 100000);
        assert_int_equal(tcp_cc_cwnd(&c), 40000);
}

/* NewReno: ssthresh max(FlightSize / 2, 2 SMSS); recovery with cwnd =
 * ssthresh; RFC 6582's exit; avoidance by one MSS per window acked. */
static void test_newreno(void **state)
{
        struct tcp_cc c;
        int i;

        (void)state;
        tcp_cc_init(&c, &tcp_cc_newreno, MSS, 0);
        round_of(&c, MSS, 100000);
        round_of(&c, MSS, 100000); /* 40000 */
        c.ops->on_loss(&c, TCP_CC_LOSS_FAST, 40000, now);
        assert_int_equal(tcp_cc_ssthresh(&c), 20000);
        assert_int_equal(tcp_cc_cwnd(&c), 20000);
        /* Full ACK with 5000 bytes still out: min(ssthresh, 5000 + MSS). */
        c.ops->on_recovery_exit(&c, 5000, now);
        assert_int_equal(tcp_cc_cwnd(&c), 6000);
        c.ops->on_loss(&c, TCP_CC_LOSS_FAST, 40000, now);
        c.ops->on_recovery_exit(&c, 30000, now);
        assert_int_equal(tcp_cc_cwnd(&c), 20000);
        assert_false(tcp_cc_in_slow_start(&c));
        /* 19 of 20 segments acked: no growth yet (byte counting). */
        for (i = 0; i < 19; i++)
                c.ops->on_ack(&c, MSS, 100000, now);
        assert_int_equal(tcp_cc_cwnd(&c), 20000);
        c.ops->on_ack(&c, MSS, 100000, now);
        assert_int_equal(tcp_cc_cwnd(&c), 21000);
        round_of(&c, MSS, 100000);
        assert_int_equal(tcp_cc_cwnd(&c), 22000);
        round_of(&c, 2 * MSS, 100000); /* delayed ACKs: the same MSS per RTT */
        assert_int_equal(tcp_cc_cwnd(&c), 23000);
        /* RTO: 1 SMSS, then slow start up to ssthresh, the rest counted
         * toward avoidance. */
        c.ops->on_loss(&c, TCP_CC_LOSS_RTO, 30000, now);
        assert_int_equal(tcp_cc_ssthresh(&c), 15000);
        assert_int_equal(tcp_cc_cwnd(&c), MSS);
        for (i = 0; i < 13; i++)
                c.ops->on_ack(&c, MSS, 100000, now);
        assert_int_equal(tcp_cc_cwnd(&c), 14000);
        c.ops->on_ack(&c, 2 * MSS, 100000, now);
        assert_int_equal(tcp_cc_cwnd(&c), 15000);
        assert_int_equal(c.acked_ca, 1000);
        /* The floor of 2 SMSS. */
        c.ops->on_loss(&c, TCP_CC_LOSS_FAST, 3000, now);
        assert_int_equal(tcp_cc_ssthresh(&c), 2000);
}

static void test_cubic_formula(void **state)
{
        double k = tcp_cubic_k(100, 70);

        (void)state;
        /* K = cbrt(100 * 0.3 / 0.4) = cbrt(75) = 4.21716 s. */
        assert_true(fabs(k - 4.21716) < 1e-4);
        assert_true(fabs(tcp_cubic_w(100, k, 0) - 70) < 1e-9);
        assert_true(fabs(tcp_cubic_w(100, k, k) - 100) < 1e-9);
        /* 0.4 (2 - 4.21716)^3 + 100 = 95.6403; 0.4 (6 - 4.21716)^3 + 100 =
         * 102.2667. */
        assert_true(fabs(tcp_cubic_w(100, k, 2) - 95.6403) < 1e-3);
        assert_true(fabs(tcp_cubic_w(100, k, 6) - 102.2667) < 1e-3);
}

/* Bring a CUBIC connection to cwnd w segments in avoidance. */
static void cubic_at(struct tcp_cc *c, uint32_t w)
{
        tcp_cc_init(c, &tcp_cc_cubic, MSS, 0);
        c->cwnd = w * MSS;
        c->ssthresh = w * MSS / 2;
}

/* A loss at W_max = 100 segments: cwnd 70, then the curve, one RTT
 * ahead: at t seconds cwnd is near W_cubic(t) (within 2 segments), 100 at
 * K = 4.217 s, then convex past it. */
static void test_cubic_curve(void **state)
{
        static const double ts[] = {0.5, 1, 2, 3, 4.21716, 5, 6};
        struct tcp_cc c;
        uint64_t t0;
        unsigned i;

        (void)state;
        now = 1000000;
        cubic_at(&c, 100);
        c.ops->on_loss(&c, TCP_CC_LOSS_FAST, 100 * MSS, now);
        assert_int_equal(tcp_cc_ssthresh(&c), 70000);
        assert_int_equal(tcp_cc_cwnd(&c), 70000);
        c.ops->on_recovery_exit(&c, 70000, now);
        t0 = now;
        for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
                double want = tcp_cubic_w(100, 4.21716, ts[i]), got;

                run_until(&c, t0, ts[i], 100000);
                got = (double)tcp_cc_cwnd(&c) / MSS;
                print_message("t %.2f s: cwnd %.2f, W_cubic %.2f\n", ts[i], got, want);
                assert_true(fabs(got - want) < 2.0);
        }
}

/* Fast convergence (4.7): a second loss below the last W_max (800 < 1000
 * segments) sets W_max = 800 (1 + 0.7) / 2 = 680; from cwnd 560 the
 * plateau is reached at K = cbrt((680 - 560) / 0.4) = cbrt(300) = 6.694 s
 * (with RTT 100 ms, W_est = 560 + 0.529 * 67 = 595 stays below: the cubic
 * region). Without fast convergence it would be 800. */
static void test_cubic_fast_convergence(void **state)
{
        struct tcp_cc c;
        uint64_t t0;

        (void)state;
        now = 1000000;
        cubic_at(&c, 1000);
        c.ops->on_loss(&c, TCP_CC_LOSS_FAST, 1000 * MSS, now);
        c.ops->on_recovery_exit(&c, 700000, now);
        c.cwnd = 800 * MSS;
        c.ops->on_loss(&c, TCP_CC_LOSS_FAST, 800 * MSS, now);
        assert_int_equal(tcp_cc_cwnd(&c), 560000);
        c.ops->on_recovery_exit(&c, 560000, now);
        t0 = now;
        run_until(&c, t0, 6.694, 100000);
        print_message("at K: cwnd %.2f segments (W_max 680)\n", (double)tcp_cc_cwnd(&c) / MSS);
        assert_true(fabs((double)tcp_cc_cwnd(&c) / MSS - 680) < 4.0);
}

/* The Reno-friendly region (4.3): a small window on a short path. W_max 10,
 * cwnd 7, RTT 10 ms: W_cubic(0.5 s) = 8.76, while W_est grows by alpha =
 * 0.529 per RTT until it reaches cwnd_prior = 10 (5.7 RTTs), then by 1:
 * 10 + 44.3 = 54.3 segments after 50 RTTs. */
static void test_cubic_reno_friendly(void **state)
{
        struct tcp_cc c;
        int r;

        (void)state;
        now = 1000000;
        cubic_at(&c, 10);
        c.ops->on_loss(&c, TCP_CC_LOSS_FAST, 10 * MSS, now);
        c.ops->on_recovery_exit(&c, 7000, now);
        for (r = 0; r < 50; r++)
                round_of(&c, MSS, 10000);
        print_message("after 50 RTTs: cwnd %.2f segments\n", (double)tcp_cc_cwnd(&c) / MSS);
        assert_true(tcp_cc_cwnd(&c) >= 51 * MSS && tcp_cc_cwnd(&c) <= 56 * MSS);
}

/* A timeout (4.8): 1 SMSS, ssthresh = 0.7 FlightSize, slow start back to
 * it, then an epoch with K = 0 and W_max the window there: convex
 * growth, cwnd(t) >= W_max + 0.4 t^3. */
static void test_cubic_rto(void **state)
{
        struct tcp_cc c;
        uint64_t t0;

        (void)state;
        now = 1000000;
        cubic_at(&c, 100);
        c.ops->on_loss(&c, TCP_CC_LOSS_RTO, 100 * MSS, now);
        assert_int_equal(tcp_cc_cwnd(&c), MSS);
        assert_int_equal(tcp_cc_ssthresh(&c), 70000);
        while (tcp_cc_in_slow_start(&c)) {
                now += 1000;
                c.ops->on_ack(&c, MSS, 100000, now);
        }
        assert_int_equal(tcp_cc_cwnd(&c), 70000);
        t0 = now;
        run_until(&c, t0, 3, 100000);
        assert_true((double)tcp_cc_cwnd(&c) / MSS >= 70 + 0.4 * 27 - 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_registry),
            cmocka_unit_test(test_slow_start),
            cmocka_unit_test(test_newreno),
            cmocka_unit_test(test_cubic_formula),
            cmocka_unit_test(test_cubic_curve),
            cmocka_unit_test(test_cubic_fast_convergence),
            cmocka_unit_test(test_cubic_reno_friendly),
            cmocka_unit_test(test_cubic_rto),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
