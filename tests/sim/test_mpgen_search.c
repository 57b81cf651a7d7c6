/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen's RFC 2544 procedures against fake DUTs (a trial is a formula, no
 * frames): the throughput search brackets the capacity within its resolution,
 * never takes an invalid trial for a pass, re-verifies with full-length trials;
 * the MLR search finds NDR and PDR in one pass; frame loss steps down until
 * two clean trials; back-to-back searches bursts.
 */
#include <math.h>

#include "mpgen/mpgen.h"

#include "testutil.h"

struct fake {
        double capacity;  /* fps forwarded without loss */
        double gen_limit; /* trials above it are invalid (0: none) */
        uint64_t buffer;  /* frames a burst may exceed the capacity by */
        unsigned trials;
        uint64_t durations[64]; /* ns per trial, in order */
        double rates[64];
};

static int fake_trial(void *arg, struct mpg_trial *t)
{
        struct fake *f = arg;
        double dur = (double)t->count / t->rate;
        double passed = f->capacity * dur + (double)f->buffer;

        if (f->trials < 64) {
                f->durations[f->trials] = (uint64_t)(dur * 1e9 + 0.5);
                f->rates[f->trials] = t->rate;
        }
        f->trials++;
        t->offered = t->count;
        t->valid = f->gen_limit == 0 || t->rate <= f->gen_limit;
        t->invalid_reason = t->valid ? NULL : "fake generator limit";
        t->unique = (double)t->count <= passed ? t->count : (uint64_t)passed;
        t->lost = (int64_t)(t->offered - t->unique);
        t->loss_ratio = (double)t->lost / (double)t->offered;
        t->rx_rate = (double)t->unique / dur;
        return 0;
}

static void test_binary(void **state)
{
        static const double caps[] = {1e3, 123456, 777777, 2.5e6, 14e6};

        (void)state;
        for (unsigned i = 0; i < sizeof(caps) / sizeof(*caps); i++) {
                struct fake f = {.capacity = caps[i]};
                struct mpg_search_cfg c = {.max_rate = 14880952,
                                           .min_rate = 14880,
                                           .resolution = 0.005,
                                           .phases = 1,
                                           .duration_ns = MPNET_NS_PER_S};
                struct mpg_search_res r;

                assert_int_equal(mpg_search(&c, fake_trial, &f, &r), 0);
                if (caps[i] < c.min_rate) {
                        assert_true(r.rate[0] == 0 && !r.lo[0].valid);
                        continue;
                }
                /* lo passed, hi failed, within the resolution. */
                assert_true(r.lo[0].valid && r.hi[0].valid);
                assert_true(r.lo[0].rate <= caps[i] && caps[i] < r.hi[0].rate);
                assert_true(r.hi[0].rate - r.lo[0].rate <= 0.005 * r.hi[0].rate);
                assert_true(r.rate[0] == r.lo[0].rate);
                assert_false(r.at_max[0] || r.gen_limited);
                /* RFC 2544 starts at the maximum rate. */
                assert_true(f.rates[0] == c.max_rate);
                assert_true(r.trials <= 20);
        }
}

/* A DUT faster than the maximum passes at the maximum: one trial, ">=". */
static void test_at_max(void **state)
{
        struct fake f = {.capacity = 20e6};
        struct mpg_search_cfg c = {.max_rate = 14880952,
                                   .min_rate = 14880,
                                   .resolution = 0.005,
                                   .duration_ns = MPNET_NS_PER_S};
        struct mpg_search_res r;

        (void)state;
        assert_int_equal(mpg_search(&c, fake_trial, &f, &r), 0);
        assert_int_equal(r.trials, 1);
        assert_true(r.at_max[0] && r.rate[0] == c.max_rate);
}

/* Trials the generator cannot offer never pass: the result stays at or below
 * the generator's limit and says it is generator-limited. */
static void test_invalid_never_passes(void **state)
{
        struct fake f = {.capacity = 2e6, .gen_limit = 1.5e6};
        struct mpg_search_cfg c = {.max_rate = 3e6,
                                   .min_rate = 3e3,
                                   .resolution = 0.01,
                                   .duration_ns = MPNET_NS_PER_S,
                                   .retries = 1};
        struct mpg_search_res r;

        (void)state;
        assert_int_equal(mpg_search(&c, fake_trial, &f, &r), 0);
        assert_true(r.rate[0] <= 1.5e6 && r.rate[0] >= 1.5e6 * 0.98);
        assert_true(r.gen_limited);
        assert_true(r.invalid >= 2); /* each invalid rate was tried twice */
        assert_true(f.rates[0] == 3e6 && f.rates[1] == 3e6);
}

/* A tester that cannot offer any rate: three invalid rates in a row and the
 * search gives up with no result, rather than halving on and on. */
static void test_gives_up(void **state)
{
        struct fake f = {.capacity = 2e6, .gen_limit = 1};
        struct mpg_search_cfg c = {.max_rate = 3e6,
                                   .min_rate = 3e3,
                                   .resolution = 0.01,
                                   .duration_ns = MPNET_NS_PER_S,
                                   .retries = 1};
        struct mpg_search_res r;

        (void)state;
        assert_int_equal(mpg_search(&c, fake_trial, &f, &r), 0);
        assert_true(r.gave_up && r.gen_limited);
        assert_false(r.lo[0].valid);
        assert_true(r.rate[0] == 0);
        assert_int_equal(r.trials, 6);
}

/* Two phases: short trials search, full-length ones decide (RFC 2544 24). */
static void test_phases(void **state)
{
        struct fake f = {.capacity = 1e6, .buffer = 20000};
        struct mpg_search_cfg c = {.max_rate = 14880952,
                                   .min_rate = 14880,
                                   .resolution = 0.005,
                                   .phases = 2,
                                   .min_duration_ns = MPNET_NS_PER_S / 10,
                                   .duration_ns = 2 * MPNET_NS_PER_S};
        struct mpg_search_res r;
        unsigned last_short = 0, full = 0;

        (void)state;
        /* The buffer makes short trials optimistic: 0.1 s passes up to 1.2 Mfps,
         * 2 s only up to 1.01 Mfps. */
        assert_int_equal(mpg_search(&c, fake_trial, &f, &r), 0);
        for (unsigned i = 0; i < f.trials && i < 64; i++) {
                if (f.durations[i] < 150 * MPNET_NS_PER_MS)
                        last_short = i;
                else
                        full++;
        }
        assert_true(full >= 1);
        for (unsigned i = last_short + 1; i < f.trials; i++)
                assert_true(f.durations[i] > 1900 * MPNET_NS_PER_MS);
        assert_true(r.rate[0] <= 1.01e6 && r.rate[0] >= 1.01e6 * 0.99);
}

static uint64_t total_ns(const struct fake *f)
{
        uint64_t t = 0;

        for (unsigned i = 0; i < f->trials && i < 64; i++)
                t += f->durations[i];
        return t;
}

/* MLR: NDR and PDR in one pass; the PDR of a capacity-limited DUT is the
 * rate whose loss is the PDR ratio: capacity / (1 - ratio). */
static void test_mlr(void **state)
{
        struct fake f = {.capacity = 3e6};
        struct mpg_search_cfg c = {.max_rate = 14880952,
                                   .min_rate = 14880,
                                   .resolution = 0.002,
                                   .n_targets = 2,
                                   .pdr_loss = 0.005,
                                   .phases = 3,
                                   .mlr = true,
                                   .min_duration_ns = MPNET_NS_PER_S / 10,
                                   .duration_ns = 10 * MPNET_NS_PER_S};
        struct mpg_search_res r, rb;
        struct fake fb = {.capacity = 3e6};
        struct mpg_search_cfg cb = c;
        double pdr = 3e6 / (1 - 0.005);

        (void)state;
        assert_int_equal(mpg_search(&c, fake_trial, &f, &r), 0);
        assert_true(r.lo[0].rate <= 3e6 && r.hi[0].rate > 3e6);
        assert_true(r.hi[0].rate - r.lo[0].rate <= 0.002 * r.hi[0].rate);
        assert_true(r.lo[1].rate <= pdr && r.hi[1].rate > pdr);
        assert_true(r.hi[1].rate - r.lo[1].rate <= 0.002 * r.hi[1].rate);
        /* After the first trial fails, the next rate is the forwarding rate it
         * measured. Short early trials make the search take less trial time
         * than bisection with full-length trials, though it finds two rates. */
        assert_true(f.rates[1] <= 3e6 && f.rates[1] > 3e6 * 0.98);
        cb.mlr = false;
        cb.n_targets = 1;
        cb.phases = 1;
        assert_int_equal(mpg_search(&cb, fake_trial, &fb, &rb), 0);
        assert_true(total_ns(&f) < total_ns(&fb) / 2);
}

static void test_frame_loss(void **state)
{
        struct fake f = {.capacity = 45e3};
        struct mpg_flr_cfg c = {.line_rate = 148809.5,
                                .max_rate = 148809.5,
                                .step = 0.1,
                                .duration_ns = MPNET_NS_PER_S};
        struct mpg_flr_res r;

        (void)state;
        assert_int_equal(mpg_flr(&c, fake_trial, &f, &r), 0);
        /* 100 % .. 40 % lose (40 % is 59.5 kfps), 30 % and 20 % do not: stop. */
        assert_int_equal(r.n, 9);
        for (unsigned i = 0; i < r.n; i++) {
                double rate = c.line_rate * r.pct[i] / 100;
                double want = rate > 45e3 ? 1 - 45e3 / rate : 0;

                assert_true(r.valid[i]);
                assert_true(fabs(r.loss[i] - want) < 1e-4);
        }
        assert_true(fabs(r.pct[8] - 20) < 1e-9);
        /* With a ceiling below line rate the steps above it are skipped. */
        c.max_rate = 0.55 * c.line_rate;
        assert_int_equal(mpg_flr(&c, fake_trial, &f, &r), 0);
        for (unsigned i = 0; i < 5; i++)
                assert_true(r.skipped[i] && !r.valid[i]);
        assert_true(r.valid[5] && fabs(r.pct[5] - 50) < 1e-9);
}

static void test_b2b(void **state)
{
        struct fake f = {.capacity = 50e3, .buffer = 500};
        struct mpg_b2b_cfg c = {
            .line_rate = 148809.5, .max_burst = 100000, .repeats = 3, .throughput = 50e3};
        struct mpg_b2b_res r;
        double want = 500 / (1 - 50e3 / 148809.5); /* 753 */

        (void)state;
        assert_int_equal(mpg_b2b(&c, fake_trial, &f, &r), 0);
        assert_int_equal(r.repeats_done, 3);
        assert_true(fabs(r.mean - floor(want)) <= 1);
        assert_true(r.min == r.max);
        assert_false(r.at_max);
        assert_true(fabs(r.implied_buffer_s - r.mean / c.line_rate) < 1e-12);
        /* Corrected for what the DUT forwarded meanwhile: its buffer, 500
         * frames, as time at line rate. */
        assert_true(fabs(r.corrected_buffer_s - 500 / c.line_rate) < 2 / c.line_rate);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_binary),
            cmocka_unit_test(test_at_max),
            cmocka_unit_test(test_invalid_never_passes),
            cmocka_unit_test(test_gives_up),
            cmocka_unit_test(test_phases),
            cmocka_unit_test(test_mlr),
            cmocka_unit_test(test_frame_loss),
            cmocka_unit_test(test_b2b),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
