/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen's built-in DUT, an mpnet router between two memory wires, driven on a
 * virtual clock: every frame of every size is forwarded (so each arrives with
 * a valid IPv4 checksum after the TTL decrement), thousands of flows follow
 * the 198.19.0.0/16 route, an unrouted destination shows as loss with the
 * router's reason counter, and the throughput search passes at line rate
 * (virtual time gives the router all the CPU it wants).
 */
#include <math.h>

#include "mpgen/mpgen.h"
#include "mpnet/worker.h"

#include "testutil.h"

struct benv {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpg_dut dut;
        struct mpg_env env;
};

static void benv_init_mtu(struct benv *e, enum mpg_dut_kind kind, bool ip6, uint32_t mtu)
{
        struct mpg_dut_cfg dc = {
            .kind = kind, .ring_size = 4096, .workers = 1, .ip6 = ip6, .mtu = mtu};

        memset(e, 0, sizeof(*e));
        mpnet_clock_init_virtual(&e->clk, MPNET_NS_PER_S);
        e->pool = mpnet_pool_create("dut", 16384);
        assert_non_null(e->pool);
        dc.clock = &e->clk;
        dc.pool = e->pool;
        assert_int_equal(mpg_dut_create(&dc, &e->dut), 0);
        e->env.clock = &e->clk;
        e->env.virtual_time = true;
        e->env.pool = e->pool;
        mpg_dut_path(&e->dut, &e->env.path);
        mpg_flows_default(&e->env.flows, ip6);
        e->env.settle_ns = 10 * MPNET_NS_PER_MS;
        e->env.valid_min = 0.99;
}

static void benv_init6(struct benv *e, enum mpg_dut_kind kind, bool ip6)
{
        benv_init_mtu(e, kind, ip6, 0);
}

static void benv_init(struct benv *e, enum mpg_dut_kind kind)
{
        benv_init6(e, kind, false);
}

static void benv_fini(struct benv *e)
{
        mpg_dut_destroy(&e->dut);
        assert_int_equal(mpnet_pool_in_use(e->pool), 0);
        mpnet_pool_destroy(e->pool);
}

static uint64_t ctr(struct benv *e, const char *c)
{
        return stk_ctr(e->dut.stack, c);
}

static void run_one(struct benv *e, unsigned frame, double rate, uint64_t count,
                    struct mpg_trial *t)
{
        struct mpg_runner rn;

        assert_int_equal(mpg_runner_init(&rn, &e->env, frame), 0);
        memset(t, 0, sizeof(*t));
        t->kind = MPG_T_RUN;
        t->rate = rate;
        t->count = count;
        assert_int_equal(mpg_trial_run(&rn, t), 0);
        assert_true(t->valid);
        mpg_runner_fini(&rn);
}

static void test_every_size_forwarded(void **state)
{
        static const unsigned sizes[] = {64, 128, 256, 512, 1024, 1280, 1518};
        struct benv e;
        uint64_t total = 0;

        (void)state;
        benv_init(&e, MPG_DUT_BUILTIN);
        assert_int_equal(e.env.path.speed_bps, 10000000000ull);
        for (unsigned i = 0; i < 7; i++) {
                struct mpg_trial t;
                double line = mpg_line_rate(e.env.path.speed_bps, sizes[i]);

                run_one(&e, sizes[i], line, 5000, &t);
                assert_int_equal(t.lost, 0);
                assert_int_equal(t.unique, 5000);
                assert_int_equal(t.lat.count, 5000);
                total += 5000;
        }
        assert_int_equal(ctr(&e, "ip4_forwarded"), total);
        assert_int_equal(ctr(&e, "tx_link_full"), 0);
        benv_fini(&e);
}

/* Jumbo frames (9018 bytes, 5-buffer chains) through the router on links
 * of MTU 9000: every one forwarded, checksummed, none cut. */
static void test_jumbo_forwarded(void **state)
{
        struct benv e;
        struct mpg_trial t;

        (void)state;
        benv_init_mtu(&e, MPG_DUT_BUILTIN, false, mpg_mtu_for(MPG_FRAME_JUMBO));
        run_one(&e, MPG_FRAME_JUMBO, 1e5, 2000, &t);
        assert_int_equal(t.lost, 0);
        assert_int_equal(t.unique, 2000);
        assert_int_equal(ctr(&e, "ip4_forwarded"), 2000);
        assert_int_equal(ctr(&e, "ip4_fragmented"), 0);
        benv_fini(&e);
}

/* RFC 5180: IPv6 frames of every size through the router's IPv6 side
 * (2001:2::/64 in, 2001:2:0:1::/64 out), hop limit 63 on arrival. */
static void test_ip6_forwarded(void **state)
{
        static const unsigned sizes6[] = {78, 128, 256, 512, 1024, 1280, 1518};
        struct benv e;
        uint64_t total = 0;

        (void)state;
        benv_init6(&e, MPG_DUT_BUILTIN, true);
        for (unsigned i = 0; i < 7; i++) {
                struct mpg_trial t;

                run_one(&e, sizes6[i], 1e6, 3000, &t);
                assert_int_equal(t.lost, 0);
                assert_int_equal(t.unique, 3000);
                total += 3000;
        }
        assert_int_equal(ctr(&e, "ip6_forwarded"), total);
        assert_int_equal(ctr(&e, "ip4_forwarded"), 0);
        benv_fini(&e);
}

/* 8 sources x 256 destinations x 2 ports = 4096 flows, routed by the /16. */
static void test_many_flows(void **state)
{
        struct benv e;
        struct mpg_trial t;

        (void)state;
        benv_init(&e, MPG_DUT_BUILTIN);
        e.env.flows.n_src = 8;
        e.env.flows.dst4 = IP4(198, 19, 1, 0);
        e.env.flows.n_dst = 256;
        e.env.flows.n_dport = 2;
        run_one(&e, 128, 1e6, 40960, &t);
        assert_int_equal(t.lost, 0);
        assert_int_equal(t.flows_with_loss, 0);
        assert_int_equal(ctr(&e, "ip4_forwarded"), 40960);
        benv_fini(&e);
}

/* No route: every frame is lost, and the router says why. */
static void test_unrouted_is_loss(void **state)
{
        struct benv e;
        struct mpg_trial t;

        (void)state;
        benv_init(&e, MPG_DUT_BUILTIN);
        e.env.flows.dst4 = IP4(203, 0, 113, 7);
        run_one(&e, 64, 1e5, 1000, &t);
        assert_int_equal(t.lost, 1000);
        assert_true(t.loss_ratio == 1.0);
        assert_int_equal(ctr(&e, "ip4_no_route"), 1000);
        benv_fini(&e);
}

static int trial_fn(void *arg, struct mpg_trial *t)
{
        return mpg_trial_run(arg, t);
}

static void test_search_at_line_rate(void **state)
{
        struct benv e;
        struct mpg_runner rn;
        struct mpg_search_res r;
        struct mpg_search_cfg c = {
            .frame = 256, .resolution = 0.01, .phases = 1, .duration_ns = 5 * MPNET_NS_PER_MS};

        (void)state;
        benv_init(&e, MPG_DUT_BUILTIN);
        c.max_rate = mpg_line_rate(e.env.path.speed_bps, 256);
        c.min_rate = c.max_rate / 1000;
        assert_int_equal(mpg_runner_init(&rn, &e.env, 256), 0);
        assert_int_equal(mpg_search(&c, trial_fn, &rn, &r), 0);
        assert_true(r.at_max[0] && r.rate[0] == c.max_rate);
        assert_int_equal(r.trials, 1);
        mpg_runner_fini(&rn);
        benv_fini(&e);
}

static void test_wire_and_errors(void **state)
{
        struct mpg_dut_cfg dc = {.kind = MPG_DUT_BUILTIN, .workers = 2};
        struct mpnet_clock clk;
        struct mpg_dut d;
        struct benv e;
        struct mpg_trial t;

        (void)state;
        mpnet_clock_init_virtual(&clk, 0);
        dc.clock = &clk;
        dc.pool = mpnet_pool_create("x", 64);
        dc.workers = MPNET_MAX_WORKERS;
        assert_int_equal(mpg_dut_create(&dc, &d), -EINVAL);
        dc.workers = 1;
        dc.kind = 7;
        assert_int_equal(mpg_dut_create(&dc, &d), -EINVAL);
        mpnet_pool_destroy(dc.pool);
        /* The plain wire: no router, nothing lost. */
        benv_init(&e, MPG_DUT_WIRE);
        assert_null(e.env.path.poll);
        run_one(&e, 1518, mpg_line_rate(e.env.path.speed_bps, 1518), 3000, &t);
        assert_int_equal(t.lost, 0);
        assert_true(t.lat.max == 0); /* virtual time, nothing in between */
        benv_fini(&e);
        assert_string_equal(mpg_dut_name(MPG_DUT_BUILTIN), "builtin");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_size_forwarded), cmocka_unit_test(test_many_flows),
            cmocka_unit_test(test_unrouted_is_loss),     cmocka_unit_test(test_search_at_line_rate),
            cmocka_unit_test(test_wire_and_errors),      cmocka_unit_test(test_ip6_forwarded),
            cmocka_unit_test(test_jumbo_forwarded),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
