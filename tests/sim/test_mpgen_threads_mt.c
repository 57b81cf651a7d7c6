/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen in real time: one tester thread that sends and receives, and the
 * built-in router on a thread of its own (or on two workers of the runtime),
 * placed by the default thread layout (the _mt suffix runs this under
 * ThreadSanitizer too). Rates are low and every trial fits the receive ring, so the result does not
 * depend on how loaded the machine is: every frame the link accepted arrives,
 * once. Whether a trial is valid does depend on the scheduler (a tx thread
 * preempted near the end misses the 1 % rate check), so only the counts are
 * asserted. A trial waits up to SETTLE_NS for the frames still on their way
 * (it ends as soon as all have come): on a loaded machine a DUT thread may
 * wait its turn for a long time.
 *
 * The DUT's threads run on the test's state: what a failed assertion leaves
 * running is stopped by the teardown, not left reading a dead stack frame.
 */
#include "mpgen/mpgen.h"
#include "mpnet/worker.h"

#include "testutil.h"

#define SETTLE_NS (4 * MPNET_NS_PER_S) /* within the 4.29 s a latency stamp spans */

/* What a test made, for the teardown (a failed assertion jumps out). */
static struct {
        struct mpnet_pool *pool;
        struct mpg_runner rn;
        struct mpg_dut dut;
        bool dut_made, dut_started, rn_made;
} T;

static int mt_teardown(void **state)
{
        (void)state;
        if (T.rn_made)
                mpg_runner_fini(&T.rn);
        if (T.dut_started)
                mpg_dut_stop(&T.dut);
        if (T.dut_made)
                mpg_dut_destroy(&T.dut);
        if (T.pool != NULL)
                mpnet_pool_destroy(T.pool);
        memset(&T, 0, sizeof(T));
        return 0;
}

/* What the DUT counted, printed when a trial lost frames: where they went. */
static void dump_dut(struct mpg_dut *dut, const struct mpg_trial *t)
{
        if (t->unique == t->offered || dut->stack == NULL)
                return;
        for (unsigned i = 0; i < mpnet_stack_counter_count(dut->stack); i++) {
                uint64_t v = mpnet_stack_counter(dut->stack, i);

                if (v != 0)
                        print_message("  dut %s %llu\n", mpnet_stack_counter_name(dut->stack, i),
                                      (unsigned long long)v);
        }
        for (unsigned w = 0; dut->rt != NULL && w < dut->cfg.workers; w++) {
                struct mpnet_worker_stats ws;

                if (mpnet_runtime_worker_stats(dut->rt, w, &ws) == 0)
                        print_message("  worker %u: loops %llu busy %llu frames %llu sleeps %llu\n",
                                      w, (unsigned long long)ws.loops, (unsigned long long)ws.busy,
                                      (unsigned long long)ws.pkts, (unsigned long long)ws.sleeps);
        }
}

static void run_dut(enum mpg_dut_kind kind, unsigned workers)
{
        struct mpg_dut_cfg dc = {.kind = kind, .ring_size = 4096, .workers = workers};
        struct mpnet_clock clk;
        struct mpg_env env = {.settle_ns = SETTLE_NS, .valid_min = 0.99};
        struct mpg_layout layout;
        struct mpg_tsc tsc;

        mpnet_clock_init_monotonic(&clk);
        mpg_layout_default(&layout);
        mpg_tsc_init(&tsc);
        dc.layout = env.layout = &layout;
        env.tsc = &tsc;
        dc.clock = env.clock = &clk;
        dc.pool = env.pool = T.pool = mpnet_pool_create("mt", 8192);
        assert_non_null(dc.pool);
        assert_int_equal(mpg_dut_create(&dc, &T.dut), 0);
        T.dut_made = true;
        mpg_dut_path(&T.dut, &env.path);
        env.path.poll = NULL;
        mpg_flows_default(&env.flows, false);
        env.flows.n_dport = 10;
        env.probe = mpg_dut_probe;
        env.probe_arg = &T.dut;
        assert_int_equal(mpg_dut_start(&T.dut), 0);
        T.dut_started = true;
        assert_int_equal(mpg_runner_init(&T.rn, &env, 128), 0);
        T.rn_made = true;
        for (unsigned i = 0; i < 3; i++) {
                struct mpg_trial t = {.kind = MPG_T_RUN, .rate = 50000, .count = 2000};

                assert_int_equal(mpg_trial_run(&T.rn, &t), 0);
                dump_dut(&T.dut, &t);
                assert_int_equal(t.no, i + 1);
                assert_int_equal(t.offered, 2000);
                assert_int_equal(t.tx, 2000);
                assert_int_equal(t.unique, 2000);
                assert_int_equal(t.lost, 0);
                assert_int_equal(t.dup, 0);
                assert_int_equal(t.lat.count, 2000);
                assert_true(t.lat.min > 0 && t.lat.max < SETTLE_NS);
                assert_true(t.elapsed_ns >= 39 * MPNET_NS_PER_MS);
                /* The router thread's own view of the trial: only a router
                 * that mpgen's thread polls (one thread, no runtime) has one;
                 * it polled during the trial, and its longest gap began
                 * after the trial did. */
                assert_int_equal(t.dut_probed, kind == MPG_DUT_BUILTIN && workers <= 1);
                if (t.dut_probed) {
                        print_message("router thread: longest gap %llu us at %llu us, longest "
                                      "poll %llu us, %llu ivcsw, %llu minflt, steal %llu ms\n",
                                      (unsigned long long)t.dut_gap_max_ns / 1000,
                                      (unsigned long long)t.dut_gap_at_ns / 1000,
                                      (unsigned long long)t.dut_poll_max_ns / 1000,
                                      (unsigned long long)t.dut_ivcsw,
                                      (unsigned long long)t.dut_minflt,
                                      (unsigned long long)t.steal_ms);
                        assert_true(t.dut_poll_max_ns > 0);
                        assert_true(t.dut_gap_max_ns <= t.dut_gap_at_ns);
                }
        }
        mpg_runner_fini(&T.rn);
        T.rn_made = false;
        mpg_dut_stop(&T.dut);
        T.dut_started = false;
        if (kind == MPG_DUT_BUILTIN)
                assert_int_equal(stk_ctr(T.dut.stack, "ip4_forwarded"), 6000);
        if (workers > 1) {
                /* RSS spread the 10 flows over the workers' queues. */
                for (unsigned w = 0; w < workers; w++) {
                        struct mpnet_worker_stats ws;

                        assert_int_equal(mpnet_runtime_worker_stats(T.dut.rt, w, &ws), 0);
                        print_message("worker %u: %llu frames\n", w, (unsigned long long)ws.pkts);
                        assert_true(ws.pkts > 0);
                }
        }
        mpg_dut_destroy(&T.dut);
        T.dut_made = false;
        assert_int_equal(mpnet_pool_in_use(dc.pool), 0);
        mpnet_pool_destroy(dc.pool);
        T.pool = NULL;
}

/* RFC 2544 26.6 on the builtin router: a reset (a new router stack) in the
 * middle of a stream; frames flow again after it, and the new stack counts
 * only what it forwarded. */
static void test_builtin_reset(void **state)
{
        struct mpg_dut_cfg dc = {.kind = MPG_DUT_BUILTIN, .ring_size = 4096, .workers = 1};
        struct mpnet_clock clk;
        struct mpg_env env = {.settle_ns = SETTLE_NS, .valid_min = 0.99};
        struct mpg_trial t = {.kind = MPG_T_RESET, .phase = -1, .rate = 50000, .count = 10000};

        (void)state;
        mpnet_clock_init_monotonic(&clk);
        dc.clock = env.clock = &clk;
        dc.pool = env.pool = T.pool = mpnet_pool_create("rs", 8192);
        assert_int_equal(mpg_dut_create(&dc, &T.dut), 0);
        T.dut_made = true;
        mpg_dut_path(&T.dut, &env.path);
        env.path.poll = NULL;
        env.action = mpg_dut_reset;
        env.action_arg = &T.dut;
        env.probe = mpg_dut_probe;
        env.probe_arg = &T.dut;
        mpg_flows_default(&env.flows, false);
        assert_int_equal(mpg_dut_start(&T.dut), 0);
        T.dut_started = true;
        assert_int_equal(mpg_runner_init(&T.rn, &env, 64), 0);
        T.rn_made = true;
        t.action_ns = 40 * MPNET_NS_PER_MS;
        assert_int_equal(mpg_trial_run(&T.rn, &t), 0);
        print_message("reset: %llu received, %llu lost at the reset over %llu us\n",
                      (unsigned long long)t.unique, (unsigned long long)t.outage_lost,
                      (unsigned long long)t.outage_ns / 1000);
        assert_int_equal(t.action_err, 0);
        /* The new router thread went on with the trial's probe. */
        assert_true(t.dut_probed);
        if (t.recovered) {
                /* The last frame, sent after the reset, came through: the
                 * new stack forwards. How many came before it is the
                 * machine's business (under TSan on a loaded machine the
                 * old or the new router may sit out thousands). */
                assert_true(t.unique > 0);
        } else {
                /* On a loaded machine the stream may end before the new
                 * stack is up: then a plain run after it crosses whole. */
                struct mpg_trial p = {.kind = MPG_T_RUN, .rate = 50000, .count = 2000};

                env.action = NULL;
                assert_int_equal(mpg_trial_run(&T.rn, &p), 0);
                print_message("after the reset: %llu of %llu\n", (unsigned long long)p.unique,
                              (unsigned long long)p.tx);
                assert_int_equal(p.unique, 2000);
                t.unique += p.unique;
        }
        mpg_runner_fini(&T.rn);
        T.rn_made = false;
        mpg_dut_stop(&T.dut);
        T.dut_started = false;
        /* The new stack counts only what it forwarded: what came through
         * before the reset is not in it. (On a loaded machine the stream
         * may start late, after the reset: then it forwarded it all.) */
        assert_true(stk_ctr(T.dut.stack, "ip4_forwarded") <= t.unique);
        assert_true(stk_ctr(T.dut.stack, "ip4_forwarded") > 0);
        /* A wire cannot be reset. */
        mpg_dut_destroy(&T.dut);
        T.dut_made = false;
        dc.kind = MPG_DUT_WIRE;
        assert_int_equal(mpg_dut_create(&dc, &T.dut), 0);
        T.dut_made = true;
        assert_int_equal(mpg_dut_reset(&T.dut), -ENOTSUP);
        mpg_dut_destroy(&T.dut);
        T.dut_made = false;
        assert_int_equal(mpnet_pool_in_use(dc.pool), 0);
        mpnet_pool_destroy(dc.pool);
        T.pool = NULL;
}

/* The tester's single loop unpaced (every frame due at once, as in the
 * ceiling trial) through a wire whose ring is smaller than the stream: it
 * must receive between its sends, or the ring would refuse frames. Every
 * frame is offered, accepted, received once and timestamped. */
static void test_single_loop_unpaced(void **state)
{
        struct mpg_dut_cfg dc = {.kind = MPG_DUT_WIRE, .ring_size = 256};
        struct mpnet_clock clk;
        struct mpg_env env = {.settle_ns = SETTLE_NS, .valid_min = 0.99};
        struct mpg_layout layout;
        struct mpg_tsc tsc;
        const uint64_t n = 200000;

        (void)state;
        mpnet_clock_init_monotonic(&clk);
        mpg_layout_default(&layout);
        mpg_tsc_init(&tsc);
        env.layout = &layout;
        env.tsc = &tsc;
        dc.clock = env.clock = &clk;
        dc.pool = env.pool = T.pool = mpnet_pool_create("ul", 4096);
        assert_non_null(dc.pool);
        assert_int_equal(mpg_dut_create(&dc, &T.dut), 0);
        T.dut_made = true;
        mpg_dut_path(&T.dut, &env.path);
        env.path.poll = NULL;
        mpg_flows_default(&env.flows, false);
        env.flows.n_sport = 7;
        assert_int_equal(mpg_runner_init(&T.rn, &env, 64), 0);
        T.rn_made = true;
        for (unsigned i = 0; i < 2; i++) {
                struct mpg_trial t = {.kind = MPG_T_CEILING, .rate = 1e12, .count = n};

                assert_int_equal(mpg_trial_run(&T.rn, &t), 0);
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
                assert_true(t.lat.max < SETTLE_NS);
        }
        mpg_runner_fini(&T.rn);
        T.rn_made = false;
        mpg_dut_destroy(&T.dut);
        T.dut_made = false;
        assert_int_equal(mpnet_pool_in_use(dc.pool), 0);
        mpnet_pool_destroy(dc.pool);
        T.pool = NULL;
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
            cmocka_unit_test_teardown(test_single_loop_unpaced, mt_teardown),
            cmocka_unit_test_teardown(test_wire, mt_teardown),
            cmocka_unit_test_teardown(test_builtin, mt_teardown),
            cmocka_unit_test_teardown(test_builtin_workers, mt_teardown),
            cmocka_unit_test_teardown(test_builtin_reset, mt_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
