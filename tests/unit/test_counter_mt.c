/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-thread counters: threads with their own slots and threads without one
 * add concurrently while a reader sums; the totals are exact at the end and
 * a reader never sees a value go down. Runs under ThreadSanitizer too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "mpnet/counter.h"
#include "mpnet/thread.h"

#define NCTR    11 /* not a multiple of a cache line */
#define ADDS    200000
#define WRITERS 3

struct arg {
        struct mpnet_counters *c;
        int slot; /* -1: no slot */
};

static atomic_bool done, went_down;

static void *writer(void *p)
{
        struct arg *a = p;

        if (a->slot >= 0)
                mpnet_thread_set_slot((unsigned)a->slot);
        for (unsigned i = 0; i < ADDS; i++) {
                mpnet_counter_inc(a->c, i % NCTR);
                mpnet_counter_add(a->c, NCTR - 1, 2);
        }
        return NULL;
}

static void *reader(void *p)
{
        struct mpnet_counters *c = p;
        uint64_t last = 0;

        while (!atomic_load(&done)) {
                uint64_t v = mpnet_counter_read(c, NCTR - 1);

                /* cmocka asserts only on the main thread: record it. */
                if (v < last)
                        atomic_store(&went_down, true);
                last = v;
        }
        return NULL;
}

static void test_concurrent_exact(void **state)
{
        struct mpnet_counters *c = mpnet_counters_create(NCTR);
        struct arg args[WRITERS + 2];
        pthread_t th[WRITERS + 2], rd;
        uint64_t total = 0;

        (void)state;
        assert_non_null(c);
        atomic_store(&done, false);
        assert_int_equal(pthread_create(&rd, NULL, reader, c), 0);
        for (int i = 0; i < WRITERS + 2; i++) {
                /* Slots 0..2, and two slotless threads sharing the atomic row. */
                args[i] = (struct arg){.c = c, .slot = i < WRITERS ? i : -1};
                assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
        }
        for (int i = 0; i < WRITERS + 2; i++)
                pthread_join(th[i], NULL);
        atomic_store(&done, true);
        pthread_join(rd, NULL);
        assert_false(atomic_load(&went_down));
        for (unsigned i = 0; i < NCTR; i++)
                total += mpnet_counter_read(c, i);
        /* Each add: one inc and one add of 2. */
        assert_int_equal(total, (uint64_t)(WRITERS + 2) * ADDS * 3);
        assert_int_equal(mpnet_counter_read(c, 0),
                         (uint64_t)(WRITERS + 2) * ((ADDS + NCTR - 1) / NCTR));
        assert_int_equal(mpnet_counter_read(c, NCTR), 0); /* out of range */
        mpnet_counters_reset(c);
        assert_int_equal(mpnet_counter_read(c, NCTR - 1), 0);
        mpnet_counters_destroy(c);
}

static void test_bad_args(void **state)
{
        (void)state;
        assert_null(mpnet_counters_create(0));
        assert_int_equal(errno, EINVAL);
        mpnet_counters_destroy(NULL);
        assert_int_equal(mpnet_thread_set_slot(MPNET_MAX_SLOTS + 1), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_concurrent_exact),
            cmocka_unit_test(test_bad_args),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
