/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Thread slots (thread.h): no two threads ever hold one slot, whichever
 * runtime or program made them; slots come back when their threads exit.
 * Two runtimes in one process used to give their workers the same slots
 * (1..n each), so their pool caches and counter rows raced.
 */
#include <pthread.h>
#include <unistd.h>

#include "mpnet/clock.h"
#include "mpnet/thread.h"
#include "mpnet/worker.h"
#include "testutil.h"

#define NT MPNET_MAX_SLOTS

struct taker {
        pthread_barrier_t *bar;
        int slot;
};

static void *take(void *arg)
{
        struct taker *t = arg;

        t->slot = mpnet_thread_slot_acquire();
        /* Hold it until every taker has one. */
        pthread_barrier_wait(t->bar);
        return NULL; /* exits holding it: the slot goes back by itself */
}

static void *take_one(void *arg)
{
        *(int *)arg = mpnet_thread_slot_acquire();
        return NULL;
}

/* All slots taken at once by as many threads: each a different one; one
 * more finds none; all come back when the threads exit. */
static void test_acquire_all(void **state)
{
        pthread_barrier_t bar;
        struct taker t[NT];
        pthread_t th[NT], extra;
        uint64_t seen = 0;
        int more = 0;

        (void)state;
        assert_int_equal(mpnet_thread_slots_free(), NT);
        pthread_barrier_init(&bar, NULL, NT + 1);
        for (unsigned i = 0; i < NT; i++) {
                t[i] = (struct taker){.bar = &bar, .slot = -1};
                assert_int_equal(pthread_create(&th[i], NULL, take, &t[i]), 0);
        }
        /* Every taker has acquired once the last one reaches the barrier. */
        while (mpnet_thread_slots_free() != 0)
                usleep(1000);
        assert_int_equal(pthread_create(&extra, NULL, take_one, &more), 0);
        pthread_join(extra, NULL);
        assert_int_equal(more, -EBUSY);
        assert_int_equal(mpnet_thread_slot_acquire(), -EBUSY);
        assert_int_equal(mpnet_thread_slot(), MPNET_SLOT_NONE);
        pthread_barrier_wait(&bar);
        for (unsigned i = 0; i < NT; i++) {
                pthread_join(th[i], NULL);
                assert_true(t[i].slot >= 0 && t[i].slot < (int)NT);
                assert_false(seen & (1ull << t[i].slot));
                seen |= 1ull << t[i].slot;
        }
        pthread_barrier_destroy(&bar);
        assert_int_equal(mpnet_thread_slots_free(), NT);
}

/* A given slot held elsewhere is refused, and the caller keeps its own. */
static void test_set_held(void **state)
{
        int other = -1;
        pthread_t th;

        (void)state;
        assert_int_equal(mpnet_thread_set_slot(3), 0);
        assert_int_equal(mpnet_thread_set_slot(3), 0); /* its own again */
        assert_int_equal(pthread_create(&th, NULL, take_one, &other), 0);
        pthread_join(th, NULL);
        assert_int_equal(other, 0); /* the lowest free one */
        assert_int_equal(mpnet_thread_set_slot(5), 0);
        assert_int_equal(mpnet_thread_slots_free(), NT - 1); /* 3 went back */
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        assert_int_equal(mpnet_thread_slots_free(), NT);
        assert_int_equal(mpnet_thread_set_slot(NT + 1), -EINVAL);
}

static void *hold_until(void *arg)
{
        assert_int_equal(mpnet_thread_set_slot(7), 0);
        pthread_barrier_wait(arg);
        pthread_barrier_wait(arg);
        return NULL;
}

static void test_set_busy(void **state)
{
        pthread_barrier_t bar;
        pthread_t th;

        (void)state;
        pthread_barrier_init(&bar, NULL, 2);
        assert_int_equal(mpnet_thread_set_slot(2), 0);
        assert_int_equal(pthread_create(&th, NULL, hold_until, &bar), 0);
        pthread_barrier_wait(&bar);
        assert_int_equal(mpnet_thread_set_slot(7), -EBUSY);
        assert_int_equal(mpnet_thread_slot(), 2);
        pthread_barrier_wait(&bar);
        pthread_join(th, NULL);
        assert_int_equal(mpnet_thread_set_slot(7), 0);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        pthread_barrier_destroy(&bar);
}

/* Wait (generously) until every worker of rt has taken its slot. */
static void wait_slots(struct mpnet_runtime *rt, unsigned n, unsigned *slot)
{
        uint64_t t0 = mpnet_monotonic_ns();

        for (unsigned w = 0; w < n; w++) {
                struct mpnet_worker_stats st;

                for (;;) {
                        assert_int_equal(mpnet_runtime_worker_stats(rt, w, &st), 0);
                        if (st.slot != MPNET_SLOT_NONE ||
                            mpnet_monotonic_ns() - t0 > 30 * MPNET_NS_PER_S)
                                break;
                        usleep(1000);
                }
                slot[w] = st.slot;
        }
}

/* Two runtimes, and a runtime as big as the slots allow beside an
 * application thread: every worker its own slot, none the caller's. */
static void test_runtimes_share_slots(void **state)
{
        struct mpnet_runtime_cfg c2 = {.n_workers = 2}, cbig = {.n_workers = NT - 2};
        struct mpnet_runtime *a = mpnet_runtime_create(&c2), *b = mpnet_runtime_create(&c2), *big;
        unsigned sa[2], sb[2], sbig[NT - 2];
        uint64_t seen = 1; /* slot 0: this thread's */
        int other = 0;
        pthread_t th;

        (void)state;
        assert_int_equal(mpnet_thread_set_slot(0), 0);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(mpnet_runtime_start(a), 0);
        assert_int_equal(mpnet_runtime_start(b), 0);
        wait_slots(a, 2, sa);
        wait_slots(b, 2, sb);
        for (unsigned w = 0; w < 2; w++) {
                assert_true(sa[w] < NT && sb[w] < NT);
                assert_false(seen & (1ull << sa[w]));
                seen |= 1ull << sa[w];
                assert_false(seen & (1ull << sb[w]));
                seen |= 1ull << sb[w];
        }
        mpnet_runtime_destroy(a);
        mpnet_runtime_destroy(b);
        assert_int_equal(mpnet_thread_slots_free(), NT - 1);

        /* 62 workers and this thread: one slot left, for one more thread. */
        big = mpnet_runtime_create(&cbig);
        assert_non_null(big);
        assert_int_equal(mpnet_runtime_start(big), 0);
        wait_slots(big, NT - 2, sbig);
        seen = 1;
        for (unsigned w = 0; w < NT - 2; w++) {
                assert_true(sbig[w] < NT);
                assert_false(seen & (1ull << sbig[w]));
                seen |= 1ull << sbig[w];
        }
        assert_int_equal(mpnet_thread_slots_free(), 1);
        assert_int_equal(pthread_create(&th, NULL, take_one, &other), 0);
        pthread_join(th, NULL);
        assert_true(other > 0 && !(seen & (1ull << other)));
        mpnet_runtime_destroy(big);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        assert_int_equal(mpnet_thread_slots_free(), NT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_acquire_all),
            cmocka_unit_test(test_set_held),
            cmocka_unit_test(test_set_busy),
            cmocka_unit_test(test_runtimes_share_slots),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
