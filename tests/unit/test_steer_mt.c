/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack_rx_ctx() and stack_rx_steer() read while the runtime assigns and
 * unassigns queues (running workers, so each change waits for a grace
 * period): every answer is a context that polls or polled the queue, or
 * unknown; once the churn stops the answers are the last assignment's.
 * Run under ThreadSanitizer (label concurrency).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpnet/wire/ipv4.h"
#include "steerutil.h"

struct reader {
        struct steer_net *n;
        _Atomic bool stop;
        _Atomic unsigned long asked; /* read by the main thread as it runs */
        unsigned long bad;
};

static void *reader_main(void *arg)
{
        struct reader *r = arg;
        uint64_t rng = 1;

        while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
                struct rx_tuple t;
                struct rx_steer st;
                int c;

                steer_rand_tuple(&t, &rng, rng & 1 ? 4 : 6, MPNET_IPPROTO_UDP);
                c = stack_rx_ctx(r->n->s, r->n->ifindex, &t);
                /* Every queue is polled by worker 0 or 1 (ctx 1 or 2) or none. */
                if (c != -ENOENT && c != 0 && c != 1 && c != 2)
                        r->bad++;
                c = stack_rx_steer(r->n->s, r->n->ifindex, 1 + (unsigned)(rng & 1), &st);
                if (c != 0 && c != -ESRCH)
                        r->bad++;
                atomic_fetch_add_explicit(&r->asked, 1, memory_order_relaxed);
        }
        return NULL;
}

static void test_assign_under_readers(void **state)
{
        struct steer_net n;
        struct reader r = {.n = &n};
        pthread_t th;
        uint64_t rng = 42;

        (void)state;
        steer_net_init(&n, 4, true, false);
        /* Worker 0 keeps queue 0 throughout, so the stack keeps workers. */
        assert_int_equal(mpnet_runtime_assign(n.rt, 0, n.s, n.ifindex, 0), 0);
        assert_int_equal(mpnet_runtime_start(n.rt), 0);
        assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
        /* The reader asks before the churn starts: on a busy machine it may
         * otherwise first run after the churn is over. */
        while (atomic_load_explicit(&r.asked, memory_order_relaxed) == 0)
                sched_yield();
        for (unsigned i = 0; i < 1500; i++) {
                uint16_t q = (uint16_t)(1 + i % 3);

                assert_int_equal(mpnet_runtime_assign(n.rt, q % 2, n.s, n.ifindex, q), 0);
                assert_int_equal(mpnet_runtime_unassign(n.rt, n.s, n.ifindex, q), 0);
        }
        /* End with queue q on worker q % 2. */
        for (uint16_t q = 1; q < 4; q++)
                assert_int_equal(mpnet_runtime_assign(n.rt, q % 2, n.s, n.ifindex, q), 0);
        atomic_store_explicit(&r.stop, true, memory_order_release);
        pthread_join(th, NULL);
        assert_true(r.asked > 0);
        assert_int_equal(r.bad, 0);
        /* Stopped workers leave the frames to us; the assignments stay. */
        mpnet_runtime_stop(n.rt);
        for (unsigned i = 0; i < 200; i++) {
                struct rx_tuple t;
                int q;

                steer_rand_tuple(&t, &rng, i % 2 ? 4 : 6, MPNET_IPPROTO_UDP);
                q = steer_wire_queue(&n, &t);
                assert_int_equal(stack_rx_ctx(n.s, n.ifindex, &t), q % 2 + 1);
        }
        steer_net_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_assign_under_readers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
