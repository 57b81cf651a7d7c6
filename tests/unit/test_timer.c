/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timer wheel against a reference: random arms, re-arms and cancels over
 * every level's range; each timer must fire exactly once, never before its
 * expiry and no later than the tick after it, and next() must never promise a
 * time later than the earliest pending expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "mpnet/clock.h"
#include "mpnet/timer.h"

#define TICK 1000000ull /* 1 ms */

struct rec {
        struct mpnet_timer t;
        uint64_t expire; /* ns, UINT64_MAX when not armed */
        unsigned fired;
        uint64_t fired_at;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void on_fire(struct mpnet_timer *t, void *arg, uint64_t now)
{
        struct rec *r = arg;

        (void)t;
        assert_true(r->expire != UINT64_MAX);
        /* Never early, and within a tick of the expiry rounded up. */
        assert_true(now >= r->expire);
        r->fired++;
        r->fired_at = now;
        r->expire = UINT64_MAX;
}

static void test_basic(void **state)
{
        struct mpnet_timer_wheel *w = mpnet_timer_wheel_create(TICK, 5 * TICK);
        struct rec r = {.expire = UINT64_MAX};

        (void)state;
        assert_non_null(w);
        mpnet_timer_init(&r.t, on_fire, &r);
        assert_false(mpnet_timer_pending(&r.t));
        assert_int_equal(mpnet_timer_wheel_next(w), MPNET_TIME_NEVER);
        r.expire = 7 * TICK + 1;
        mpnet_timer_arm(w, &r.t, r.expire);
        assert_true(mpnet_timer_pending(&r.t));
        /* Rounded up to the next tick, never earlier than asked. */
        assert_int_equal(mpnet_timer_wheel_next(w), 8 * TICK);
        assert_int_equal(mpnet_timer_wheel_run(w, 7 * TICK + 999), 0);
        assert_int_equal(mpnet_timer_wheel_run(w, 8 * TICK), 1);
        assert_int_equal(r.fired, 1);
        assert_false(mpnet_timer_pending(&r.t));
        /* In the past: fires on the next run without time moving. */
        r.expire = 0;
        mpnet_timer_arm(w, &r.t, 0);
        assert_true(mpnet_timer_wheel_next(w) <= 8 * TICK);
        assert_int_equal(mpnet_timer_wheel_run(w, 8 * TICK), 1);
        /* Cancel. */
        r.expire = 100 * TICK;
        mpnet_timer_arm(w, &r.t, r.expire);
        mpnet_timer_cancel(w, &r.t);
        mpnet_timer_cancel(w, &r.t);
        assert_int_equal(mpnet_timer_wheel_count(w), 0);
        assert_int_equal(mpnet_timer_wheel_run(w, 1000 * TICK), 0);
        assert_int_equal(r.fired, 2);
        mpnet_timer_wheel_destroy(w);
        assert_null(mpnet_timer_wheel_create(0, 0));
}

static struct mpnet_timer_wheel *chain_w;

static void rearm(struct mpnet_timer *t, void *arg, uint64_t now)
{
        unsigned *n = arg;

        if (++*n < 10)
                mpnet_timer_arm(chain_w, t, now + 3 * TICK);
}

static void test_rearm_from_callback(void **state)
{
        struct mpnet_timer t;
        unsigned n = 0;

        (void)state;
        chain_w = mpnet_timer_wheel_create(TICK, 0);
        mpnet_timer_init(&t, rearm, &n);
        mpnet_timer_arm(chain_w, &t, TICK);
        /* Following next() fires the chain, each link armed by the previous
         * one's callback, at 1, 4, 7, ... ms. */
        for (int i = 0; i < 100 && n < 10; i++) {
                uint64_t next = mpnet_timer_wheel_next(chain_w);

                assert_int_equal(next, (1 + 3 * (uint64_t)n) * TICK);
                assert_int_equal(mpnet_timer_wheel_run(chain_w, next), 1);
        }
        assert_int_equal(n, 10);
        assert_int_equal(mpnet_timer_wheel_next(chain_w), MPNET_TIME_NEVER);
        mpnet_timer_wheel_destroy(chain_w);
}

static void random_run(uint64_t max_delay, unsigned ntimers, unsigned steps)
{
        struct mpnet_timer_wheel *w;
        struct rec *r = calloc(ntimers, sizeof(*r));
        uint64_t now = rnd() % (1ull << 40);
        unsigned armed = 0;

        w = mpnet_timer_wheel_create(TICK, now);
        for (unsigned i = 0; i < ntimers; i++) {
                r[i].expire = UINT64_MAX;
                mpnet_timer_init(&r[i].t, on_fire, &r[i]);
        }
        for (unsigned s = 0; s < steps; s++) {
                unsigned i = (unsigned)(rnd() % ntimers);
                uint64_t earliest = UINT64_MAX, next;

                switch (rnd() % 4) {
                case 0:
                case 1:
                        r[i].expire = now + rnd() % max_delay;
                        mpnet_timer_arm(w, &r[i].t, r[i].expire);
                        break;
                case 2:
                        mpnet_timer_cancel(w, &r[i].t);
                        r[i].expire = UINT64_MAX;
                        break;
                default:
                        break;
                }
                armed = 0;
                for (unsigned j = 0; j < ntimers; j++) {
                        if (r[j].expire != UINT64_MAX) {
                                armed++;
                                if (r[j].expire < earliest)
                                        earliest = r[j].expire;
                        }
                }
                assert_int_equal(mpnet_timer_wheel_count(w), armed);
                next = mpnet_timer_wheel_next(w);
                if (armed == 0) {
                        assert_int_equal(next, MPNET_TIME_NEVER);
                } else {
                        /* Rounded up to a tick, but no later. */
                        uint64_t rounded = (earliest + TICK - 1) / TICK * TICK;

                        assert_true(next <= (rounded > now ? rounded : now));
                        /* Progress: later than now unless something is due. */
                        assert_true(next > now || earliest <= now);
                }
                /* Advance to next or by a random step, whichever is first. */
                uint64_t step = rnd() % (max_delay / 4 + 1);
                uint64_t to = now + step;

                if (next != MPNET_TIME_NEVER && next < to)
                        to = next > now ? next : now;
                mpnet_timer_wheel_run(w, to);
                now = to;
                /* Everything due by now fired. */
                for (unsigned j = 0; j < ntimers; j++) {
                        if (r[j].expire != UINT64_MAX)
                                assert_true((r[j].expire + TICK - 1) / TICK * TICK > now);
                }
        }
        mpnet_timer_wheel_destroy(w);
        free(r);
}

static void test_random_level0(void **state)
{
        (void)state;
        random_run(64 * TICK, 50, 20000);
}

static void test_random_all_levels(void **state)
{
        (void)state;
        random_run(20000ull * MPNET_NS_PER_S, 200, 20000);
}

static void test_random_beyond_top(void **state)
{
        (void)state;
        /* 2^24 ticks is the top level's span at 1 ms: go beyond it. */
        random_run(100000ull * MPNET_NS_PER_S, 20, 3000);
}

/* A cleared wheel is a new wheel at the time it was cleared to, even one
 * before its last run: nothing pending, nothing fires, and timers armed
 * again fire at their own expiry. */
static void test_clear(void **state)
{
        static const uint64_t delays[] = {0, 3, 100, 5000, 300000, 30000000};
        const unsigned n = sizeof(delays) / sizeof(delays[0]);
        uint64_t now = 1000 * TICK;
        struct mpnet_timer_wheel *w = mpnet_timer_wheel_create(TICK, now);
        struct rec r[sizeof(delays) / sizeof(delays[0])];

        (void)state;
        assert_non_null(w);
        for (unsigned i = 0; i < n; i++) {
                r[i] = (struct rec){.expire = now + delays[i] * TICK};
                mpnet_timer_init(&r[i].t, on_fire, &r[i]);
                mpnet_timer_arm(w, &r[i].t, r[i].expire);
        }
        assert_int_equal(mpnet_timer_wheel_run(w, now + 200 * TICK), 3);
        mpnet_timer_wheel_clear(w, 10 * TICK);
        assert_int_equal(mpnet_timer_wheel_count(w), 0);
        assert_int_equal(mpnet_timer_wheel_next(w), MPNET_TIME_NEVER);
        for (unsigned i = 0; i < n; i++)
                assert_false(mpnet_timer_pending(&r[i].t));
        assert_int_equal(mpnet_timer_wheel_run(w, 100000000ull * TICK), 0);
        mpnet_timer_wheel_clear(w, 10 * TICK);
        for (unsigned i = 0; i < n; i++) {
                r[i].fired = 0;
                r[i].expire = 10 * TICK + delays[i] * TICK;
                mpnet_timer_arm(w, &r[i].t, r[i].expire);
        }
        assert_int_equal(mpnet_timer_wheel_next(w), 10 * TICK);
        for (unsigned i = 0; i < n; i++) {
                uint64_t at = 10 * TICK + delays[i] * TICK;

                mpnet_timer_wheel_run(w, at);
                assert_int_equal(r[i].fired, 1);
                assert_int_equal(r[i].fired_at, at);
                if (i + 1 < n)
                        assert_int_equal(r[i + 1].fired, 0);
        }
        mpnet_timer_wheel_destroy(w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_basic),
            cmocka_unit_test(test_rearm_from_callback),
            cmocka_unit_test(test_random_level0),
            cmocka_unit_test(test_random_all_levels),
            cmocka_unit_test(test_random_beyond_top),
            cmocka_unit_test(test_clear),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
