/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Clocks: the monotonic clock never goes back, and a virtual clock moves only
 * when told to, by exactly what it is told, and never backwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "mpnet/clock.h"

static void test_monotonic_ns_non_decreasing(void **state)
{
        uint64_t prev = mpnet_monotonic_ns();

        (void)state;
        assert_true(prev > 0);
        for (unsigned i = 0; i < 200000; i++) {
                uint64_t now = mpnet_monotonic_ns();

                assert_true(now >= prev);
                prev = now;
        }
}

static void test_monotonic_tracks_clock_gettime(void **state)
{
        struct timespec ts;
        uint64_t before, ref, after;

        (void)state;
        before = mpnet_monotonic_ns();
        clock_gettime(CLOCK_MONOTONIC, &ts);
        after = mpnet_monotonic_ns();
        ref = (uint64_t)ts.tv_sec * MPNET_NS_PER_S + (uint64_t)ts.tv_nsec;
        assert_true(before <= ref);
        assert_true(ref <= after);
}

static void test_monotonic_clock_moves_and_ignores_advance(void **state)
{
        struct mpnet_clock c;
        struct timespec nap = {.tv_sec = 0, .tv_nsec = 2 * (long)MPNET_NS_PER_MS};
        uint64_t t0, t1, t2;

        (void)state;
        mpnet_clock_init_monotonic(&c);
        assert_int_equal(c.kind, MPNET_CLOCK_MONOTONIC);
        t0 = mpnet_clock_now(&c);
        nanosleep(&nap, NULL);
        t1 = mpnet_clock_now(&c);
        assert_true(t1 >= t0 + 2 * MPNET_NS_PER_MS);

        /* advance and set drive virtual time only; real time is not moved. */
        mpnet_clock_advance(&c, 3600 * MPNET_NS_PER_S);
        mpnet_clock_set(&c, t1 + 3600 * MPNET_NS_PER_S);
        t2 = mpnet_clock_now(&c);
        assert_true(t2 >= t1);
        assert_true(t2 < t1 + 60 * MPNET_NS_PER_S);
        assert_true(mpnet_monotonic_ns() >= t2);
}

static void test_virtual_starts_where_told_and_stands_still(void **state)
{
        struct mpnet_clock c;

        (void)state;
        mpnet_clock_init_virtual(&c, 12345);
        assert_int_equal(c.kind, MPNET_CLOCK_VIRTUAL);
        for (unsigned i = 0; i < 1000; i++)
                assert_int_equal(mpnet_clock_now(&c), 12345);

        mpnet_clock_init_virtual(&c, 0);
        assert_int_equal(mpnet_clock_now(&c), 0);
}

static void test_virtual_advance_exact(void **state)
{
        struct mpnet_clock c;
        uint64_t expect = MPNET_NS_PER_S;

        (void)state;
        mpnet_clock_init_virtual(&c, expect);
        mpnet_clock_advance(&c, 0);
        assert_int_equal(mpnet_clock_now(&c), expect);
        mpnet_clock_advance(&c, 1);
        expect += 1;
        assert_int_equal(mpnet_clock_now(&c), expect);
        for (uint64_t i = 0; i < 10000; i++) {
                uint64_t step = (i * 7919u) % 100003u;

                mpnet_clock_advance(&c, step);
                expect += step;
                assert_int_equal(mpnet_clock_now(&c), expect);
        }
        mpnet_clock_advance(&c, 3600 * MPNET_NS_PER_S);
        expect += 3600 * MPNET_NS_PER_S;
        assert_int_equal(mpnet_clock_now(&c), expect);
}

static void test_virtual_set_forward_exact(void **state)
{
        struct mpnet_clock c;

        (void)state;
        mpnet_clock_init_virtual(&c, 100);
        mpnet_clock_set(&c, 101);
        assert_int_equal(mpnet_clock_now(&c), 101);
        mpnet_clock_set(&c, 5 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_clock_now(&c), 5 * MPNET_NS_PER_S);
        /* Setting to the current time is a no-op. */
        mpnet_clock_set(&c, 5 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_clock_now(&c), 5 * MPNET_NS_PER_S);
        /* The far end of the range is reachable. */
        mpnet_clock_set(&c, MPNET_TIME_NEVER - 1);
        assert_true(mpnet_clock_now(&c) == MPNET_TIME_NEVER - 1);
}

/* clock.h: set moves the clock only "if that is later than now". */
static void test_virtual_set_backwards_ignored(void **state)
{
        struct mpnet_clock c;

        (void)state;
        mpnet_clock_init_virtual(&c, 10 * MPNET_NS_PER_S);
        mpnet_clock_set(&c, 10 * MPNET_NS_PER_S - 1);
        assert_int_equal(mpnet_clock_now(&c), 10 * MPNET_NS_PER_S);
        mpnet_clock_set(&c, 0);
        assert_int_equal(mpnet_clock_now(&c), 10 * MPNET_NS_PER_S);

        mpnet_clock_advance(&c, 5);
        mpnet_clock_set(&c, 10 * MPNET_NS_PER_S + 4);
        assert_int_equal(mpnet_clock_now(&c), 10 * MPNET_NS_PER_S + 5);
        mpnet_clock_set(&c, 10 * MPNET_NS_PER_S + 6);
        assert_int_equal(mpnet_clock_now(&c), 10 * MPNET_NS_PER_S + 6);
}

/* A deterministic mix of advance and set (forward and backward): the clock
 * matches a model exactly and never decreases. */
static void test_virtual_never_goes_backwards(void **state)
{
        struct mpnet_clock c;
        uint64_t model = 1000, prev = 1000, x = 88172645463325252ull;

        (void)state;
        mpnet_clock_init_virtual(&c, model);
        for (unsigned i = 0; i < 100000; i++) {
                uint64_t now, arg;

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                arg = x % 2000;
                if (x & (1ull << 40)) {
                        mpnet_clock_advance(&c, arg);
                        model += arg;
                } else {
                        /* Aim around the current time, before and after it. */
                        arg = model + arg - 1000;
                        mpnet_clock_set(&c, arg);
                        if (arg > model)
                                model = arg;
                }
                now = mpnet_clock_now(&c);
                assert_int_equal(now, model);
                assert_true(now >= prev);
                prev = now;
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_monotonic_ns_non_decreasing),
            cmocka_unit_test(test_monotonic_tracks_clock_gettime),
            cmocka_unit_test(test_monotonic_clock_moves_and_ignores_advance),
            cmocka_unit_test(test_virtual_starts_where_told_and_stands_still),
            cmocka_unit_test(test_virtual_advance_exact),
            cmocka_unit_test(test_virtual_set_forward_exact),
            cmocka_unit_test(test_virtual_set_backwards_ignored),
            cmocka_unit_test(test_virtual_never_goes_backwards),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
