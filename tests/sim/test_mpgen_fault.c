/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen's trial runner against seeded fault links on a virtual clock: the
 * receiver must see exactly what the fault link did. 1 % loss reads as 1 %
 * per flow, a fixed delay reads as that latency at every percentile,
 * duplicates and reordering are counted one for one.
 *
 *   generator -- mem wire --> fault link (on the receiving end) --> receiver
 */
#include <math.h>

#include "mpgen/mpgen.h"

#include "testutil.h"

struct fenv {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b; /* b is the fault link */
        struct mpg_env env;
        struct mpg_runner rn;
};

static void fenv_init(struct fenv *e, const struct mpnet_fault_cfg *fc, uint32_t flows,
                      unsigned frame)
{
        struct mpnet_memwire_cfg wc = {.name = "fault", .ring_size = 4096};

        memset(e, 0, sizeof(*e));
        mpnet_clock_init_virtual(&e->clk, MPNET_NS_PER_S);
        e->pool = mpnet_pool_create("fault", 16384);
        assert_non_null(e->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &e->a, &e->b), 0);
        e->b = mpnet_fault_create(e->b, fc, &e->clk, e->pool);
        assert_non_null(e->b);
        e->env.clock = &e->clk;
        e->env.virtual_time = true;
        e->env.pool = e->pool;
        e->env.path.tx = e->a;
        e->env.path.rx = e->b;
        memcpy(e->env.path.src_mac, e->a->info.mac, 6);
        memcpy(e->env.path.dst_mac, e->b->info.mac, 6);
        e->env.path.speed_bps = e->a->info.speed_bps;
        mpg_flows_default(&e->env.flows, false);
        e->env.flows.n_dst = flows;
        e->env.settle_ns = 20 * MPNET_NS_PER_MS;
        e->env.valid_min = 0.99;
        assert_int_equal(mpg_runner_init(&e->rn, &e->env, frame), 0);
}

static void fenv_fini(struct fenv *e)
{
        mpg_runner_fini(&e->rn);
        mpnet_link_destroy(e->a);
        mpnet_link_destroy(e->b);
        assert_int_equal(mpnet_pool_in_use(e->pool), 0);
        mpnet_pool_destroy(e->pool);
}

static void run(struct fenv *e, struct mpg_trial *t, double rate, uint64_t count)
{
        memset(t, 0, sizeof(*t));
        t->kind = MPG_T_RUN;
        t->rate = rate;
        t->count = count;
        assert_int_equal(mpg_trial_run(&e->rn, t), 0);
        assert_true(t->valid);
        assert_int_equal(t->offered, count);
        assert_int_equal(t->tx, count);
        assert_int_equal(t->refused, 0);
        assert_true(fabs(t->offered_rate - rate) <= rate * 1e-3);
}

/* 1 % seeded loss: 1 % of every flow, and exactly the frames the link lost. */
static void test_loss_per_flow(void **state)
{
        struct mpnet_fault_cfg fc = {.seed = 2544, .loss_ppm = 10000};
        struct mpnet_fault_stats fs;
        struct mpg_trial t;
        struct fenv e;
        const uint32_t flows = 16, per_flow = 20000;

        (void)state;
        fenv_init(&e, &fc, flows, 64);
        run(&e, &t, 1e6, (uint64_t)flows * per_flow);
        assert_int_equal(mpnet_fault_get_stats(e.b, &fs), 0);
        assert_int_equal(t.lost, (int64_t)fs.lost);
        assert_int_equal(t.dup + t.reorder + t.other, 0);
        /* Binomial: sd of one flow's ratio = sqrt(0.01 * 0.99 / 20000) = 0.07 %. */
        assert_true(fabs(t.loss_ratio - 0.01) < 0.0006);
        assert_int_equal(t.flows_with_loss, flows);
        assert_true(t.flow_loss_min > 0.01 - 0.0025);
        assert_true(t.flow_loss_max < 0.01 + 0.0025);
        for (uint32_t f = 0; f < flows; f++) {
                const struct mpg_flow_rx *fr = &e.rn.rx.flow[f];
                double l = 1 - (double)(fr->rx - fr->dup) / e.rn.gen.seq[f];

                assert_int_equal(e.rn.gen.seq[f], per_flow);
                assert_true(fabs(l - 0.01) < 0.0025);
        }
        /* The same seed gives the same loss: a second link, a second run. */
        {
                struct fenv e2;
                struct mpg_trial t2;

                fenv_init(&e2, &fc, flows, 64);
                run(&e2, &t2, 1e6, (uint64_t)flows * per_flow);
                assert_int_equal(t2.lost, t.lost);
                assert_true(t2.flow_loss_max == t.flow_loss_max);
                fenv_fini(&e2);
        }
        fenv_fini(&e);
}

/* A fixed delay is the latency, at every percentile, on every frame size. */
static void test_fixed_delay(void **state)
{
        static const unsigned sizes[] = {64, 512, 1518};

        (void)state;
        for (unsigned i = 0; i < 3; i++) {
                struct mpnet_fault_cfg fc = {.seed = 1, .delay_ns = 250 * MPNET_NS_PER_US};
                struct mpg_trial t;
                struct fenv e;

                fenv_init(&e, &fc, 4, sizes[i]);
                run(&e, &t, 200000, 20000);
                assert_int_equal(t.lost, 0);
                assert_int_equal(t.lat.count, 20000);
                assert_true(t.lat.min == 250000 && t.lat.max == 250000);
                assert_true(t.lat.p50 == 250000 && t.lat.p99 == 250000 && t.lat.p999 == 250000);
                assert_true(t.lat.mean == 250000 && t.lat.pdv == 0);
                fenv_fini(&e);
        }
}

/* Delay with jitter: latency within [delay, delay + jitter], spread over it,
 * and the jitter reorders frames, as netem's does. */
static void test_jitter(void **state)
{
        struct mpnet_fault_cfg fc = {
            .seed = 7, .delay_ns = 100 * MPNET_NS_PER_US, .jitter_ns = 50 * MPNET_NS_PER_US};
        struct mpg_trial t;
        struct fenv e;

        (void)state;
        fenv_init(&e, &fc, 1, 128);
        run(&e, &t, 100000, 20000);
        assert_int_equal(t.lost, 0);
        assert_int_equal(t.dup, 0);
        assert_true(t.lat.min >= 100000 && t.lat.max <= 150000);
        assert_true(fabs(t.lat.p50 - 125000) < 2000);
        assert_true(fabs(t.lat.p90 - 145000) < 2000);
        assert_true(t.reorder > 1000); /* 10 us apart, jitter 50 us */
        fenv_fini(&e);
}

/* Duplicates and reordering, one for one with the fault link's counts. */
static void test_dup_reorder(void **state)
{
        struct mpnet_fault_cfg fc = {.seed = 99, .dup_ppm = 5000, .reorder_ppm = 3000};
        struct mpnet_fault_stats fs;
        struct mpg_trial t;
        struct fenv e;

        (void)state;
        fenv_init(&e, &fc, 1, 64);
        run(&e, &t, 1e6, 100000);
        assert_int_equal(mpnet_fault_get_stats(e.b, &fs), 0);
        assert_int_equal(t.lost, 0);
        assert_int_equal(t.unique, 100000);
        assert_int_equal(t.dup, fs.duplicated);
        assert_true(fs.duplicated > 300 && fs.reordered > 200);
        /* A frame both held back and duplicated arrives as its copy first,
         * then itself: in order, then a duplicate. With 0.5 % duplicates about
         * 1 in 200 reordered frames reads so; the last reordered frame may also
         * go out alone after the hold time. */
        assert_true(t.reorder <= fs.reordered && fs.reordered - t.reorder <= 5);
        fenv_fini(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_loss_per_flow),
            cmocka_unit_test(test_fixed_delay),
            cmocka_unit_test(test_jitter),
            cmocka_unit_test(test_dup_reorder),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
