/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The token-bucket link decorator (src/link/ratelimit.c) on its own, then as
 * a DUT of known capacity for mpgen on a virtual clock: the throughput search
 * converges to the set rate within its resolution, MLR's PDR lands where the
 * loss is the PDR ratio, frame loss follows 1 - rate / offered, and the
 * back-to-back search finds the bucket.
 *
 *   generator -- ratelimit (police) -- mem wire --> receiver
 */
#include <math.h>

#include "mpgen/mpgen.h"

#include "mpnet/ratelimit.h"
#include "testutil.h"

#define T0 MPNET_NS_PER_S

/* ---- the decorator ------------------------------------------------------- */

struct lenv {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b;
};

static void lenv_init(struct lenv *e, const struct mpnet_ratelimit_cfg *rc, uint32_t ring)
{
        struct mpnet_memwire_cfg wc = {.name = "rl", .ring_size = ring};

        mpnet_clock_init_virtual(&e->clk, T0);
        e->pool = mpnet_pool_create("rl", 4096);
        assert_non_null(e->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &e->a, &e->b), 0);
        e->a = mpnet_ratelimit_create(e->a, rc, &e->clk);
        assert_non_null(e->a);
}

static void lenv_fini(struct lenv *e)
{
        mpnet_link_destroy(e->a);
        mpnet_link_destroy(e->b);
        assert_int_equal(mpnet_pool_in_use(e->pool), 0);
        mpnet_pool_destroy(e->pool);
}

static unsigned burst(struct lenv *e, struct mpnet_pkt **v, unsigned n, uint32_t len)
{
        for (unsigned i = 0; i < n; i++) {
                v[i] = mpnet_pkt_alloc(e->pool);
                assert_non_null(v[i]);
                memset(mpnet_pkt_append(v[i], len), (int)i, len);
        }
        return n;
}

static unsigned drain(struct lenv *e)
{
        struct mpnet_pkt *v[256];
        unsigned got = 0, n;

        while ((n = mpnet_link_rx_burst(e->b, 0, v, 256)) > 0) {
                for (unsigned i = 0; i < n; i++)
                        assert_int_equal(v[i]->data[0], v[i]->data[v[i]->len - 1]);
                mpnet_pkt_free_bulk(v, n);
                got += n;
        }
        return got;
}

static void test_police_pps(void **state)
{
        struct mpnet_ratelimit_cfg rc = {.pps = 1000, .burst_pkts = 10};
        struct mpnet_ratelimit_stats st;
        struct mpnet_link_stats ls;
        struct mpnet_pkt *v[100];
        struct lenv e;

        (void)state;
        lenv_init(&e, &rc, 1024);
        /* A full bucket passes 10 of 100; the rest are taken and dropped. */
        assert_int_equal(mpnet_link_tx_burst(e.a, 0, v, (uint16_t)burst(&e, v, 100, 60)), 100);
        assert_int_equal(drain(&e), 10);
        /* 5 ms later, 5 more tokens; 2.5 ms after that, 2 (and a half). */
        mpnet_clock_advance(&e.clk, 5 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_link_tx_burst(e.a, 0, v, (uint16_t)burst(&e, v, 20, 60)), 20);
        assert_int_equal(drain(&e), 5);
        mpnet_clock_advance(&e.clk, 2500 * MPNET_NS_PER_US);
        assert_int_equal(mpnet_link_tx_burst(e.a, 0, v, (uint16_t)burst(&e, v, 20, 60)), 20);
        assert_int_equal(drain(&e), 2);
        mpnet_clock_advance(&e.clk, 500 * MPNET_NS_PER_US);
        assert_int_equal(mpnet_link_tx_burst(e.a, 0, v, (uint16_t)burst(&e, v, 1, 60)), 1);
        assert_int_equal(drain(&e), 1); /* the half token became a whole one */
        /* An hour idle fills the bucket only to its depth. */
        mpnet_clock_advance(&e.clk, 3600 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_link_tx_burst(e.a, 0, v, (uint16_t)burst(&e, v, 50, 60)), 50);
        assert_int_equal(drain(&e), 10);
        assert_int_equal(mpnet_ratelimit_get_stats(e.a, &st), 0);
        assert_int_equal(st.passed, 28);
        assert_int_equal(st.dropped, 163);
        assert_int_equal(st.refused, 0);
        mpnet_link_get_stats(e.a, &ls);
        assert_int_equal(ls.tx_pkts, 28);
        assert_int_equal(ls.tx_drops, 163);
        assert_string_equal(e.a->info.kind, "ratelimit");
        assert_int_equal(mpnet_ratelimit_get_stats(e.b, &st), -EINVAL);
        lenv_fini(&e);
}

/* A shaper leaves what does not conform with the caller, in order. */
static void test_shape_bps(void **state)
{
        /* 1 Mbit/s, 1000 bytes deep: 125-byte frames at 1000 per second. */
        struct mpnet_ratelimit_cfg rc = {.bps = 1000000, .burst_bytes = 1000, .shape = true};
        struct mpnet_ratelimit_stats st;
        struct mpnet_pkt *v[32];
        struct lenv e;
        uint16_t k;

        (void)state;
        lenv_init(&e, &rc, 1024);
        burst(&e, v, 32, 125);
        k = mpnet_link_tx_burst(e.a, 0, v, 32);
        assert_int_equal(k, 8);
        assert_int_equal(drain(&e), 8);
        /* The caller still owns v[8..31], unchanged and in order. */
        for (unsigned i = 8; i < 32; i++)
                assert_int_equal(v[i]->data[0], (uint8_t)i);
        mpnet_clock_advance(&e.clk, 4 * MPNET_NS_PER_MS);
        k = mpnet_link_tx_burst(e.a, 0, v + 8, 24);
        assert_int_equal(k, 4);
        assert_int_equal(drain(&e), 4);
        assert_int_equal(mpnet_ratelimit_get_stats(e.a, &st), 0);
        assert_int_equal(st.passed, 12);
        assert_int_equal(st.refused, 24 + 20);
        mpnet_pkt_free_bulk(v + 12, 20);
        lenv_fini(&e);
}

/* Frames the inner link refuses stay with the caller and keep their credit. */
static void test_inner_full(void **state)
{
        struct mpnet_ratelimit_cfg rc = {.pps = 1000000, .burst_pkts = 100};
        struct mpnet_pkt *v[100];
        struct lenv e;
        uint16_t k;

        (void)state;
        lenv_init(&e, &rc, 64);
        burst(&e, v, 100, 60);
        k = mpnet_link_tx_burst(e.a, 0, v, 100);
        assert_int_equal(k, 64); /* the ring holds 64 */
        assert_int_equal(drain(&e), 64);
        /* No time passed: the 36 kept frames still have their tokens. */
        assert_int_equal(mpnet_link_tx_burst(e.a, 0, v + 64, 36), 36);
        assert_int_equal(drain(&e), 36);
        lenv_fini(&e);
}

static void test_create_errors(void **state)
{
        struct mpnet_ratelimit_cfg none = {0}, deep = {.pps = 1, .burst_pkts = UINT32_MAX};
        struct mpnet_link *a, *b;

        (void)state;
        assert_int_equal(mpnet_memwire_create(NULL, &a, &b), 0);
        errno = 0;
        assert_null(mpnet_ratelimit_create(a, &none, NULL));
        assert_int_equal(errno, EINVAL);
        assert_null(mpnet_ratelimit_create(NULL, &deep, NULL));
        a = mpnet_ratelimit_create(a, &deep, NULL); /* 2^32 frames fits */
        assert_non_null(a);
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
}

/* ---- as a DUT ------------------------------------------------------------- */

struct denv {
        struct lenv l;
        struct mpg_env env;
        struct mpg_runner rn;
};

static int trial_fn(void *arg, struct mpg_trial *t)
{
        return mpg_trial_run(arg, t);
}

/* 100 Mbit/s virtual links: line rate for 64-byte frames is 148809 fps. */
static void denv_init(struct denv *d, uint64_t pps, uint32_t depth)
{
        struct mpnet_ratelimit_cfg rc = {.pps = pps, .burst_pkts = depth};
        struct mpnet_memwire_cfg wc = {.name = "rl", .ring_size = 4096, .speed_bps = 100000000};

        memset(d, 0, sizeof(*d));
        mpnet_clock_init_virtual(&d->l.clk, T0);
        d->l.pool = mpnet_pool_create("rl", 8192);
        assert_non_null(d->l.pool);
        assert_int_equal(mpnet_memwire_create(&wc, &d->l.a, &d->l.b), 0);
        d->l.a = mpnet_ratelimit_create(d->l.a, &rc, &d->l.clk);
        assert_non_null(d->l.a);
        d->env.clock = &d->l.clk;
        d->env.virtual_time = true;
        d->env.pool = d->l.pool;
        d->env.path.tx = d->l.a;
        d->env.path.rx = d->l.b;
        memcpy(d->env.path.dst_mac, d->l.b->info.mac, 6);
        d->env.path.speed_bps = d->l.a->info.speed_bps;
        mpg_flows_default(&d->env.flows, false);
        d->env.flows.n_sport = 4;
        d->env.settle_ns = 10 * MPNET_NS_PER_MS;
        d->env.rest_ns = MPNET_NS_PER_MS; /* refills the bucket between trials */
        d->env.valid_min = 0.99;
        assert_int_equal(mpg_runner_init(&d->rn, &d->env, 64), 0);
}

static void denv_fini(struct denv *d)
{
        mpg_runner_fini(&d->rn);
        lenv_fini(&d->l);
}

static void test_throughput_converges(void **state)
{
        static const uint64_t rates[] = {10000, 50000, 77777, 120000};

        (void)state;
        for (unsigned i = 0; i < sizeof(rates) / sizeof(*rates); i++) {
                const double p = (double)rates[i], res = 0.01;
                const uint64_t dur = 100 * MPNET_NS_PER_MS;
                struct denv d;
                struct mpg_search_res r;
                struct mpg_search_cfg c = {
                    .frame = 64, .resolution = res, .phases = 1, .duration_ns = dur};

                denv_init(&d, rates[i], 2);
                c.max_rate = mpg_line_rate(d.env.path.speed_bps, 64);
                c.min_rate = c.max_rate / 1000;
                assert_int_equal(mpg_search(&c, trial_fn, &d.rn, &r), 0);
                /* A pass means rate * T <= pps * T + depth: rate <= pps + 20. */
                assert_true(r.lo[0].valid && r.hi[0].valid);
                assert_true(r.rate[0] <= p + 2 / 0.1 + 1);
                assert_true(r.hi[0].rate > p);
                assert_true(fabs(r.rate[0] - p) <= res * r.hi[0].rate);
                assert_int_equal(r.invalid, 0);
                denv_fini(&d);
        }
}

static void test_mlr_pdr(void **state)
{
        const double p = 60000, res = 0.005;
        struct denv d;
        struct mpg_search_res r;
        struct mpg_search_cfg c = {.frame = 64,
                                   .resolution = res,
                                   .phases = 2,
                                   .mlr = true,
                                   .n_targets = 2,
                                   .pdr_loss = 0.01,
                                   .min_duration_ns = 50 * MPNET_NS_PER_MS,
                                   .duration_ns = 200 * MPNET_NS_PER_MS};

        (void)state;
        denv_init(&d, (uint64_t)p, 2);
        c.max_rate = mpg_line_rate(d.env.path.speed_bps, 64);
        c.min_rate = c.max_rate / 1000;
        assert_int_equal(mpg_search(&c, trial_fn, &d.rn, &r), 0);
        assert_true(fabs(r.rate[0] - p) <= res * r.hi[0].rate + 10);
        /* Loss 1 % at p / 0.99. */
        assert_true(fabs(r.rate[1] - p / 0.99) <= res * r.hi[1].rate + 10);
        denv_fini(&d);
}

static void test_frame_loss_rate(void **state)
{
        struct denv d;
        struct mpg_flr_res r;
        struct mpg_flr_cfg c = {.frame = 64, .step = 0.1, .duration_ns = 100 * MPNET_NS_PER_MS};

        (void)state;
        /* Two frames deep: with one, fractional credit beyond the depth is lost
         * between arrivals and the bucket passes less than its rate. */
        denv_init(&d, 45000, 2);
        c.line_rate = c.max_rate = mpg_line_rate(d.env.path.speed_bps, 64);
        assert_int_equal(mpg_flr(&c, trial_fn, &d.rn, &r), 0);
        assert_int_equal(r.n, 9); /* 100 % .. 20 %: 30 % and 20 % lose nothing */
        for (unsigned i = 0; i < r.n; i++) {
                double rate = c.line_rate * r.pct[i] / 100;
                double want = rate > 45000 ? 1 - 45000 / rate : 0;

                assert_true(r.valid[i]);
                assert_true(fabs(r.loss[i] - want) < 0.001);
        }
        denv_fini(&d);
}

/* A bucket of 500 frames at 50 kfps under line-rate bursts of 148.8 kfps
 * holds 500 / (1 - 50/148.8) = 753 frames. */
/* RFC 2544 26.5 against a policer at 50 kfps: 110 % loses frames until the
 * step, half the rate loses none after it (recovered at once); a step to
 * a rate still above the policer's loses to the end. */
static void test_system_recovery(void **state)
{
        const double p = 50000, dur = 0.2;
        struct denv d;
        struct mpg_trial t = {.kind = MPG_T_RECOVERY, .phase = -1, .rate = 1.1 * p};

        (void)state;
        denv_init(&d, (uint64_t)p, 2);
        t.step_rate = t.rate / 2;
        t.step_at = (uint64_t)(t.rate * dur);
        t.count = t.step_at + (uint64_t)(t.step_rate * dur);
        assert_int_equal(mpg_trial_run(&d.rn, &t), 0);
        print_message("step to 50 %%: lost %lld, recovered %d in %llu ns\n", (long long)t.lost,
                      t.recovered, (unsigned long long)t.recovery_ns);
        assert_true(t.valid);
        assert_true(t.lost > 0.08 * (double)t.step_at && t.lost < 0.1 * (double)t.step_at);
        assert_true(t.recovered);
        assert_true(t.recovery_ns <= 2e9 / t.step_rate);
        t = (struct mpg_trial){.kind = MPG_T_RECOVERY, .phase = -1, .rate = 1.1 * p};
        t.step_rate = 1.05 * p;
        t.step_at = (uint64_t)(t.rate * dur);
        t.count = t.step_at + (uint64_t)(t.step_rate * dur);
        assert_int_equal(mpg_trial_run(&d.rn, &t), 0);
        print_message("step to 105 %%: recovered %d, last loss %llu ns after the step\n",
                      t.recovered, (unsigned long long)t.recovery_ns);
        assert_true(!t.recovered || t.recovery_ns > 0.9 * dur * 1e9);
        denv_fini(&d);
}

static void test_back_to_back(void **state)
{
        struct denv d;
        struct mpg_b2b_res r;
        struct mpg_b2b_cfg c = {.frame = 64, .max_burst = 20000, .repeats = 2, .throughput = 50000};
        double want;

        (void)state;
        denv_init(&d, 50000, 500);
        d.env.rest_ns = 20 * MPNET_NS_PER_MS; /* a full bucket for each burst */
        c.line_rate = mpg_line_rate(d.env.path.speed_bps, 64);
        want = 500 / (1 - 50000 / c.line_rate);
        assert_int_equal(mpg_b2b(&c, trial_fn, &d.rn, &r), 0);
        assert_int_equal(r.repeats_done, 2);
        assert_true(fabs(r.mean - want) <= 2);
        assert_true(fabs(r.corrected_buffer_s - 500 / c.line_rate) < 3 / c.line_rate);
        denv_fini(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_police_pps),           cmocka_unit_test(test_shape_bps),
            cmocka_unit_test(test_inner_full),           cmocka_unit_test(test_create_errors),
            cmocka_unit_test(test_throughput_converges), cmocka_unit_test(test_mlr_pdr),
            cmocka_unit_test(test_frame_loss_rate),      cmocka_unit_test(test_back_to_back),
            cmocka_unit_test(test_system_recovery),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
