/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen in real time: one tester thread that sends and receives, and the
 * built-in router on a thread of its own (or on two workers of the runtime),
 * placed by the default thread layout (the _mt suffix runs this under
 * ThreadSanitizer too). Rates are low and every trial fits the receive ring, so the result does not
 * depend on how loaded the machine is: every frame the link accepted arrives,
 * once. Whether a trial is valid does depend on the scheduler (a tx thread
 * preempted near the end misses the 1 % rate check), so only the counts are
 * asserted.
 */
#include "mpgen/mpgen.h"
#include "mpnet/worker.h"

#include "testutil.h"

static void run_dut(enum mpg_dut_kind kind, unsigned workers)
{
        struct mpg_dut_cfg dc = {.kind = kind, .ring_size = 4096, .workers = workers};
        struct mpnet_clock clk;
        struct mpg_env env = {.settle_ns = 2 * MPNET_NS_PER_S, .valid_min = 0.99};
        struct mpg_layout layout;
        struct mpg_tsc tsc;
        struct mpg_runner rn;
        struct mpg_dut dut;

        mpnet_clock_init_monotonic(&clk);
        mpg_layout_default(&layout);
        mpg_tsc_init(&tsc);
        dc.layout = env.layout = &layout;
        env.tsc = &tsc;
        dc.clock = env.clock = &clk;
        dc.pool = env.pool = mpnet_pool_create("mt", 8192);
        assert_non_null(dc.pool);
        assert_int_equal(mpg_dut_create(&dc, &dut), 0);
        mpg_dut_path(&dut, &env.path);
        env.path.poll = NULL;
        mpg_flows_default(&env.flows, false);
        env.flows.n_dport = 10;
        assert_int_equal(mpg_dut_start(&dut), 0);
        assert_int_equal(mpg_runner_init(&rn, &env, 128), 0);
        for (unsigned i = 0; i < 3; i++) {
                struct mpg_trial t = {.kind = MPG_T_RUN, .rate = 50000, .count = 2000};

                assert_int_equal(mpg_trial_run(&rn, &t), 0);
                assert_int_equal(t.no, i + 1);
                assert_int_equal(t.offered, 2000);
                assert_int_equal(t.tx, 2000);
                assert_int_equal(t.unique, 2000);
                assert_int_equal(t.lost, 0);
                assert_int_equal(t.dup, 0);
                assert_int_equal(t.lat.count, 2000);
                assert_true(t.lat.min > 0 && t.lat.max < 2e9);
                assert_true(t.elapsed_ns >= 39 * MPNET_NS_PER_MS);
        }
        mpg_runner_fini(&rn);
        mpg_dut_stop(&dut);
        if (kind == MPG_DUT_BUILTIN)
                assert_int_equal(stk_ctr(dut.stack, "ip4_forwarded"), 6000);
        if (workers > 1) {
                /* RSS spread the 10 flows over the workers' queues. */
                for (unsigned w = 0; w < workers; w++) {
                        struct mpnet_worker_stats ws;

                        assert_int_equal(mpnet_runtime_worker_stats(dut.rt, w, &ws), 0);
                        print_message("worker %u: %llu frames\n", w, (unsigned long long)ws.pkts);
                        assert_true(ws.pkts > 0);
                }
        }
        mpg_dut_destroy(&dut);
        assert_int_equal(mpnet_pool_in_use(dc.pool), 0);
        mpnet_pool_destroy(dc.pool);
}

/* RFC 2544 26.6 on the builtin router: a reset (a new router stack) in the
 * middle of a stream; frames flow again after it, and the new stack counts
 * only what it forwarded. */
static void test_builtin_reset(void **state)
{
        struct mpg_dut_cfg dc = {.kind = MPG_DUT_BUILTIN, .ring_size = 4096, .workers = 1};
        struct mpnet_clock clk;
        struct mpg_env env = {.settle_ns = 2 * MPNET_NS_PER_S, .valid_min = 0.99};
        struct mpg_trial t = {.kind = MPG_T_RESET, .phase = -1, .rate = 50000, .count = 10000};
        struct mpg_runner rn;
        struct mpg_dut dut;

        (void)state;
        mpnet_clock_init_monotonic(&clk);
        dc.clock = env.clock = &clk;
        dc.pool = env.pool = mpnet_pool_create("rs", 8192);
        assert_int_equal(mpg_dut_create(&dc, &dut), 0);
        mpg_dut_path(&dut, &env.path);
        env.path.poll = NULL;
        env.action = mpg_dut_reset;
        env.action_arg = &dut;
        mpg_flows_default(&env.flows, false);
        assert_int_equal(mpg_dut_start(&dut), 0);
        assert_int_equal(mpg_runner_init(&rn, &env, 64), 0);
        t.action_ns = 40 * MPNET_NS_PER_MS;
        assert_int_equal(mpg_trial_run(&rn, &t), 0);
        print_message("reset: %llu received, %llu lost at the reset over %llu us\n",
                      (unsigned long long)t.unique, (unsigned long long)t.outage_lost,
                      (unsigned long long)t.outage_ns / 1000);
        assert_int_equal(t.action_err, 0);
        assert_true(t.recovered); /* the last frame came through */
        /* More than the 2000 sent before the reset (40 ms at 50 kfps):
         * frames after it came through, however slow the reset was
         * (under TSan on a loaded machine it may lose thousands). */
        assert_true(t.unique > 2000);
        mpg_runner_fini(&rn);
        mpg_dut_stop(&dut);
        assert_true(stk_ctr(dut.stack, "ip4_forwarded") < t.unique);
        assert_true(stk_ctr(dut.stack, "ip4_forwarded") > 0);
        /* A wire cannot be reset. */
        mpg_dut_destroy(&dut);
        dc.kind = MPG_DUT_WIRE;
        assert_int_equal(mpg_dut_create(&dc, &dut), 0);
        assert_int_equal(mpg_dut_reset(&dut), -ENOTSUP);
        mpg_dut_destroy(&dut);
        assert_int_equal(mpnet_pool_in_use(dc.pool), 0);
        mpnet_pool_destroy(dc.pool);
}

/* The tester's single loop unpaced (every frame due at once, as in the
 * ceiling trial) through a wire whose ring is smaller than the stream: it
 * must receive between its sends, or the ring would refuse frames. Every
 * frame is offered, accepted, received once and timestamped. */
static void test_single_loop_unpaced(void **state)
{
        struct mpg_dut_cfg dc = {.kind = MPG_DUT_WIRE, .ring_size = 256};
        struct mpnet_clock clk;
        struct mpg_env env = {.settle_ns = 2 * MPNET_NS_PER_S, .valid_min = 0.99};
        struct mpg_layout layout;
        struct mpg_tsc tsc;
        struct mpg_runner rn;
        struct mpg_dut dut;
        const uint64_t n = 200000;

        (void)state;
        mpnet_clock_init_monotonic(&clk);
        mpg_layout_default(&layout);
        mpg_tsc_init(&tsc);
        env.layout = &layout;
        env.tsc = &tsc;
        dc.clock = env.clock = &clk;
        dc.pool = env.pool = mpnet_pool_create("ul", 4096);
        assert_non_null(dc.pool);
        assert_int_equal(mpg_dut_create(&dc, &dut), 0);
        mpg_dut_path(&dut, &env.path);
        env.path.poll = NULL;
        mpg_flows_default(&env.flows, false);
        env.flows.n_sport = 7;
        assert_int_equal(mpg_runner_init(&rn, &env, 64), 0);
        for (unsigned i = 0; i < 2; i++) {
                struct mpg_trial t = {.kind = MPG_T_CEILING, .rate = 1e12, .count = n};

                assert_int_equal(mpg_trial_run(&rn, &t), 0);
                print_message("unpaced: %.2f Mfps offered, %.2f Mfps received\n",
                              t.offered_rate / 1e6, t.rx_rate / 1e6);
                assert_true(t.valid);
                assert_int_equal(t.offered, n);
                assert_int_equal(t.tx, n);
                assert_int_equal(t.refused, 0);
                assert_int_equal(t.unique, n);
                assert_int_equal(t.lost, 0);
                assert_int_equal(t.dup, 0);
                assert_int_equal(t.reorder, 0);
                assert_int_equal(t.other, 0);
                assert_int_equal(t.flows_with_loss, 0);
                assert_int_equal(t.lat.count, n);
                assert_true(t.lat.max < 2e9);
        }
        mpg_runner_fini(&rn);
        mpg_dut_destroy(&dut);
        assert_int_equal(mpnet_pool_in_use(dc.pool), 0);
        mpnet_pool_destroy(dc.pool);
}

static void test_wire(void **state)
{
        (void)state;
        run_dut(MPG_DUT_WIRE, 1);
}

static void test_builtin(void **state)
{
        (void)state;
        run_dut(MPG_DUT_BUILTIN, 1);
}

static void test_builtin_workers(void **state)
{
        (void)state;
        run_dut(MPG_DUT_BUILTIN, 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_single_loop_unpaced),
            cmocka_unit_test(test_wire),
            cmocka_unit_test(test_builtin),
            cmocka_unit_test(test_builtin_workers),
            cmocka_unit_test(test_builtin_reset),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
