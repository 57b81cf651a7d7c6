/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The event-set engine across threads (ThreadSanitizer): a producer thread
 * notifies while a waiter thread waits, with a handshake so that every round
 * needs the waiter to be woken: every rise is seen exactly once and no wait
 * with a long timeout ever ends empty (a lost wake-up would end one after 10
 * s). The same through the set's descriptor in poll(2), as an application
 * nesting it does. Deletion and set destruction racing notifiers (ASan, TSan:
 * no use after free). Two waiters sharing a set: each rise reported once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>

#include "l4/evset.h"
#include "mpnet/evset.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SLOW 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SLOW 1
#endif
#endif
#ifdef SLOW
#define ROUNDS 20000
#define CHURN  2000
#else
#define ROUNDS 30000
#define CHURN  20000
#endif

#define LONG_MS 10000 /* a wait this long ending empty is a lost wake-up */

struct fake {
        _Atomic uint32_t mask;
        struct ev_src src;
};

static uint32_t fake_poll(void *obj)
{
        return atomic_load(&((struct fake *)obj)->mask);
}

static void fake_init(struct fake *f)
{
        atomic_init(&f->mask, 0);
        ev_src_init(&f->src, fake_poll, f);
}

static void raise_ev(struct fake *f, uint32_t ev)
{
        atomic_fetch_or(&f->mask, ev);
        ev_src_notify(&f->src, ev);
}

static uint64_t ms_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- one producer, one waiter, a handshake per round --------------------- */

struct pingpong {
        struct mpnet_evset *es;
        struct fake f;
        _Atomic unsigned acked; /* rounds the waiter has seen */
        _Atomic unsigned fail;  /* 1 the producer stalled, 2 lost wake-up, 3 bad event */
        bool use_fd;
};

static void *producer(void *arg)
{
        struct pingpong *p = arg;

        for (unsigned i = 1; i <= ROUNDS && !atomic_load(&p->fail); i++) {
                uint64_t t0 = ms_now();

                /* The waiter took the last rise: it is waiting, or about
                 * to, when this one comes. */
                while (atomic_load(&p->acked) != i - 1) {
                        if (ms_now() - t0 > 2 * LONG_MS) {
                                atomic_store(&p->fail, 1);
                                return NULL;
                        }
                        sched_yield();
                }
                raise_ev(&p->f, MPNET_EV_IN);
        }
        return NULL;
}

static void *waiter(void *arg)
{
        struct pingpong *p = arg;
        static const int timeouts[] = {LONG_MS, 0, 1, LONG_MS, 2};
        struct mpnet_event_ready ev[4];
        unsigned got = 0, k = 0;
        int fd = p->use_fd ? mpnet_evset_fd(p->es) : -1;

        while (got < ROUNDS && !atomic_load(&p->fail)) {
                int t = timeouts[k++ % 5], n;

                if (p->use_fd) {
                        struct pollfd pf = {.fd = fd, .events = POLLIN};

                        if (poll(&pf, 1, LONG_MS) == 0) {
                                atomic_store(&p->fail, 2);
                                break;
                        }
                        n = mpnet_evset_wait(p->es, ev, 4, 0); /* may be 0: spurious */
                } else {
                        n = mpnet_evset_wait(p->es, ev, 4, t);
                        if (n == 0 && t == LONG_MS) {
                                atomic_store(&p->fail, 2);
                                break;
                        }
                }
                for (int i = 0; i < n; i++) {
                        if (ev[i].data != 77 || ev[i].events != MPNET_EV_IN) {
                                atomic_store(&p->fail, 3);
                                break;
                        }
                        atomic_fetch_and(&p->f.mask, ~MPNET_EV_IN);
                        got++;
                        atomic_store(&p->acked, got);
                }
        }
        return NULL;
}

static void run_pingpong(bool use_fd, uint32_t trig)
{
        struct pingpong p = {.use_fd = use_fd};
        struct mpnet_event_ready ev[4];
        pthread_t tp, tw;

        p.es = mpnet_evset_create();
        assert_non_null(p.es);
        fake_init(&p.f);
        atomic_init(&p.acked, 0);
        atomic_init(&p.fail, 0);
        assert_int_equal(ev_set_ctl(p.es, MPNET_EV_CTL_ADD, &p.f.src, MPNET_EV_IN | trig, 77), 0);
        assert_int_equal(pthread_create(&tw, NULL, waiter, &p), 0);
        assert_int_equal(pthread_create(&tp, NULL, producer, &p), 0);
        pthread_join(tp, NULL);
        pthread_join(tw, NULL);
        assert_int_equal(atomic_load(&p.fail), 0);
        assert_int_equal(atomic_load(&p.acked), ROUNDS); /* every rise, once */
        assert_int_equal(mpnet_evset_wait(p.es, ev, 4, 0), 0);
        mpnet_evset_destroy(p.es);
        ev_src_fini(&p.f.src);
}

static void test_no_lost_wakeup_et(void **state)
{
        run_pingpong(false, MPNET_EV_ET);
}

static void test_no_lost_wakeup_lt(void **state)
{
        run_pingpong(false, 0);
}

static void test_no_lost_wakeup_fd(void **state)
{
        run_pingpong(true, 0);
}

static void test_no_lost_wakeup_fd_et(void **state)
{
        run_pingpong(true, MPNET_EV_ET);
}

/* ---- deletion racing notifiers ------------------------------------------- */

#define NSRC 8

struct churn {
        struct fake f[NSRC];
        _Atomic bool stop;
        _Atomic unsigned long notifies;
};

static void *notifier(void *arg)
{
        struct churn *c = arg;
        unsigned long n = 0;

        while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
                for (int i = 0; i < NSRC; i++)
                        raise_ev(&c->f[i], i & 1 ? MPNET_EV_IN : MPNET_EV_OUT);
                n++;
        }
        atomic_store(&c->notifies, n);
        return NULL;
}

static void test_delete_races_notify(void **state)
{
        struct churn c;
        struct mpnet_evset *es = mpnet_evset_create(), *es2 = mpnet_evset_create();
        struct mpnet_event_ready ev[NSRC];
        pthread_t th;
        unsigned bad = 0, reported = 0;

        for (int i = 0; i < NSRC; i++)
                fake_init(&c.f[i]);
        atomic_init(&c.stop, false);
        atomic_init(&c.notifies, 0);
        assert_int_equal(pthread_create(&th, NULL, notifier, &c), 0);
        for (int it = 0; it < CHURN; it++) {
                uint32_t trig = (it & 1) ? MPNET_EV_ET : 0;
                int n;

                for (int i = 0; i < NSRC; i++) {
                        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &c.f[i].src,
                                                    MPNET_EV_IN | MPNET_EV_OUT | trig, (uint64_t)i),
                                         0);
                        if (i % 3 == 0)
                                assert_int_equal(ev_set_ctl(es2, MPNET_EV_CTL_ADD, &c.f[i].src,
                                                            MPNET_EV_IN | MPNET_EV_ET, 100),
                                                 0);
                }
                n = mpnet_evset_wait(es, ev, NSRC, it & 2 ? 0 : 1);
                for (int i = 0; i < n; i++)
                        bad += ev[i].data >= NSRC;
                reported += (unsigned)n;
                /* Half the time deleted one by one (some still on the
                 * incoming stack), half the time the set destroyed. */
                if (it & 4) {
                        for (int i = 0; i < NSRC; i++)
                                assert_int_equal(
                                    ev_set_ctl(es, MPNET_EV_CTL_DEL, &c.f[i].src, 0, 0), 0);
                        assert_int_equal(mpnet_evset_wait(es, ev, NSRC, 0), 0);
                } else {
                        mpnet_evset_destroy(es);
                        es = mpnet_evset_create();
                        assert_non_null(es);
                }
                if (it % 16 == 15) {
                        mpnet_evset_destroy(es2);
                        es2 = mpnet_evset_create();
                        assert_non_null(es2);
                } else {
                        for (int i = 0; i < NSRC; i += 3)
                                assert_int_equal(
                                    ev_set_ctl(es2, MPNET_EV_CTL_DEL, &c.f[i].src, 0, 0), 0);
                }
        }
        atomic_store(&c.stop, true);
        pthread_join(th, NULL);
        assert_int_equal(bad, 0);
        assert_true(reported > 0);
        assert_true(atomic_load(&c.notifies) > 0);
        for (int i = 0; i < NSRC; i++) {
                assert_false(ev_src_watched(&c.f[i].src));
                ev_src_fini(&c.f[i].src);
        }
        mpnet_evset_destroy(es);
        mpnet_evset_destroy(es2);
}

/* ---- two waiters on one set ----------------------------------------------- */

#define NSRC2 4

struct shared {
        struct mpnet_evset *es;
        struct fake f[NSRC2];
        _Atomic bool pending[NSRC2]; /* raised, not yet reported */
        _Atomic unsigned total, dup, stalled;
};

static void *producer2(void *arg)
{
        struct shared *s = arg;

        for (unsigned i = 0; i < ROUNDS && !atomic_load(&s->stalled); i++) {
                unsigned k = i % NSRC2;
                uint64_t t0 = ms_now();

                while (atomic_load(&s->pending[k])) {
                        if (ms_now() - t0 > 2 * LONG_MS) {
                                atomic_store(&s->stalled, 1);
                                return NULL;
                        }
                        sched_yield();
                }
                atomic_store(&s->pending[k], true);
                raise_ev(&s->f[k], MPNET_EV_IN);
        }
        return NULL;
}

static void *waiter2(void *arg)
{
        struct shared *s = arg;
        struct mpnet_event_ready ev[2];
        uint64_t last = ms_now();

        while (atomic_load(&s->total) < ROUNDS && !atomic_load(&s->stalled)) {
                int n = mpnet_evset_wait(s->es, ev, 2, 50);

                if (n > 0)
                        last = ms_now();
                else if (ms_now() - last > 2 * LONG_MS)
                        atomic_store(&s->stalled, 2); /* nobody progressed */
                for (int i = 0; i < n; i++) {
                        unsigned k = (unsigned)ev[i].data;

                        /* Cleared before pending drops: the next rise is a
                         * rise. */
                        atomic_fetch_and(&s->f[k].mask, ~MPNET_EV_IN);
                        if (!atomic_exchange(&s->pending[k], false))
                                atomic_fetch_add(&s->dup, 1);
                        atomic_fetch_add(&s->total, 1);
                }
        }
        return NULL;
}

static void test_two_waiters(void **state)
{
        struct shared s;
        pthread_t tp, tw[2];

        s.es = mpnet_evset_create();
        assert_non_null(s.es);
        for (int i = 0; i < NSRC2; i++) {
                fake_init(&s.f[i]);
                atomic_init(&s.pending[i], false);
                assert_int_equal(ev_set_ctl(s.es, MPNET_EV_CTL_ADD, &s.f[i].src,
                                            MPNET_EV_IN | MPNET_EV_ET, (uint64_t)i),
                                 0);
        }
        atomic_init(&s.total, 0);
        atomic_init(&s.dup, 0);
        atomic_init(&s.stalled, 0);
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&tw[i], NULL, waiter2, &s), 0);
        assert_int_equal(pthread_create(&tp, NULL, producer2, &s), 0);
        pthread_join(tp, NULL);
        for (int i = 0; i < 2; i++)
                pthread_join(tw[i], NULL);
        assert_int_equal(atomic_load(&s.stalled), 0);
        assert_int_equal(atomic_load(&s.dup), 0);
        assert_int_equal(atomic_load(&s.total), ROUNDS);
        mpnet_evset_destroy(s.es);
        for (int i = 0; i < NSRC2; i++)
                ev_src_fini(&s.f[i].src);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_no_lost_wakeup_et),   cmocka_unit_test(test_no_lost_wakeup_lt),
            cmocka_unit_test(test_no_lost_wakeup_fd),   cmocka_unit_test(test_no_lost_wakeup_fd_et),
            cmocka_unit_test(test_delete_races_notify), cmocka_unit_test(test_two_waiters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
