/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The event-set engine (src/l4/evset.c) through its internal API, with
 * synthetic sources: a readiness mask the test raises and clears, as a
 * socket would. Level, edge and oneshot triggering, modify and delete,
 * several sources, one source in two sets, the set's descriptor readable
 * exactly while something is ready, timeouts, and epoll_ctl's errors.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "l4/evset.h"
#include "mpnet/evset.h"

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

/* Readiness rises: published (seq_cst), then notified, as evset.h asks. */
static void raise_ev(struct fake *f, uint32_t ev)
{
        atomic_fetch_or(&f->mask, ev);
        ev_src_notify(&f->src, ev);
}

static void clear_ev(struct fake *f, uint32_t ev)
{
        atomic_fetch_and(&f->mask, ~ev);
}

static int readable(int fd)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};

        assert_true(poll(&p, 1, 0) >= 0);
        return (p.revents & POLLIN) != 0;
}

static int wait0(struct mpnet_evset *es, struct mpnet_event_ready *out, int max)
{
        return mpnet_evset_wait(es, out, max, 0);
}

static void test_level(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f;

        assert_non_null(es);
        fake_init(&f);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 42), 0);
        assert_int_equal(wait0(es, ev, 4), 0);
        raise_ev(&f, MPNET_EV_IN);
        for (int i = 0; i < 3; i++) { /* reported while ready */
                assert_int_equal(wait0(es, ev, 4), 1);
                assert_int_equal(ev[0].events, MPNET_EV_IN);
                assert_int_equal(ev[0].data, 42);
        }
        clear_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 0);
        assert_int_equal(wait0(es, ev, 4), 0);
        /* A rise of an event not asked for reports nothing; ERR and HUP
         * are always reported. */
        raise_ev(&f, MPNET_EV_OUT);
        assert_int_equal(wait0(es, ev, 4), 0);
        raise_ev(&f, MPNET_EV_HUP);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev[0].events, MPNET_EV_HUP);
        clear_ev(&f, MPNET_EV_HUP);
        raise_ev(&f, MPNET_EV_ERR | MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev[0].events, MPNET_EV_ERR | MPNET_EV_IN);
        mpnet_evset_destroy(es);
        assert_false(ev_src_watched(&f.src));
        ev_src_fini(&f.src);
}

static void test_edge(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f;

        fake_init(&f);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN | MPNET_EV_ET, 7), 0);
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev[0].events, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 0); /* still ready, not reported again */
        raise_ev(&f, MPNET_EV_IN);             /* another rise (more data) */
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(wait0(es, ev, 4), 0);
        raise_ev(&f, MPNET_EV_IN); /* two rises before a wait: one report */
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(wait0(es, ev, 4), 0);
        /* A rise whose readiness fell before the wait: nothing to report. */
        raise_ev(&f, MPNET_EV_IN);
        clear_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 0);
        ev_src_fini(&f.src);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &f.src, 0, 0), -ENOENT);
        mpnet_evset_destroy(es);
}

static void test_oneshot(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f;
        uint32_t os = MPNET_EV_IN | MPNET_EV_ONESHOT;

        fake_init(&f);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, os, 1), 0);
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(wait0(es, ev, 4), 0); /* disabled, though level and ready */
        raise_ev(&f, MPNET_EV_IN | MPNET_EV_HUP);
        assert_int_equal(wait0(es, ev, 4), 0); /* ... even for HUP */
        /* Modified: armed again, and reported at once since it is ready. */
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_MOD, &f.src, os, 2), 0);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev[0].events, MPNET_EV_IN | MPNET_EV_HUP);
        assert_int_equal(ev[0].data, 2);
        assert_int_equal(wait0(es, ev, 4), 0);
        mpnet_evset_destroy(es);
        ev_src_fini(&f.src);
}

static void test_modify(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f;

        fake_init(&f);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 1), 0);
        raise_ev(&f, MPNET_EV_OUT);
        assert_int_equal(wait0(es, ev, 4), 0);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_MOD, &f.src, MPNET_EV_OUT, 2), 0);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev[0].events, MPNET_EV_OUT);
        assert_int_equal(ev[0].data, 2);
        assert_int_equal(
            ev_set_ctl(es, MPNET_EV_CTL_MOD, &f.src, MPNET_EV_IN | MPNET_EV_OUT, 0xffffffffffull),
            0);
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev[0].events, MPNET_EV_IN | MPNET_EV_OUT);
        assert_int_equal(ev[0].data, 0xffffffffffull);
        /* Down to nothing asked: only ERR and HUP would be reported. */
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_MOD, &f.src, 0, 3), 0);
        assert_int_equal(wait0(es, ev, 4), 0);
        raise_ev(&f, MPNET_EV_ERR);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev[0].events, MPNET_EV_ERR);
        mpnet_evset_destroy(es);
        ev_src_fini(&f.src);
}

static void test_delete(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f, g;

        fake_init(&f);
        fake_init(&g);
        /* Deleted while on the incoming stack (notified, not yet waited):
         * freed by the next wait (ASan checks). */
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 1), 0);
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &f.src, 0, 0), 0);
        assert_false(ev_src_watched(&f.src));
        assert_int_equal(wait0(es, ev, 4), 0);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &f.src, 0, 0), -ENOENT);
        /* Deleted while on the ready list (level, reported once). */
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 1), 0);
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &f.src, 0, 0), 0);
        assert_int_equal(wait0(es, ev, 4), 0);
        /* Deleted while on the incoming stack, the set destroyed before any
         * wait; and a source closed while in a set (ev_src_fini). */
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN | MPNET_EV_ET, 1), 0);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &g.src, MPNET_EV_IN, 2), 0);
        raise_ev(&g, MPNET_EV_IN);
        ev_src_fini(&g.src);
        assert_false(ev_src_watched(&g.src));
        assert_int_equal(wait0(es, ev, 4), 1); /* f: ready when added */
        assert_int_equal(ev[0].data, 1);
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &f.src, 0, 0), 0);
        mpnet_evset_destroy(es);
        ev_src_fini(&f.src);
}

static void test_several_sources(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[8];
        struct fake f[5];
        unsigned seen;

        for (int i = 0; i < 5; i++) {
                fake_init(&f[i]);
                assert_int_equal(
                    ev_set_ctl(es, MPNET_EV_CTL_ADD, &f[i].src, MPNET_EV_IN, 100 + (uint64_t)i), 0);
        }
        raise_ev(&f[1], MPNET_EV_IN);
        raise_ev(&f[3], MPNET_EV_IN);
        raise_ev(&f[4], MPNET_EV_OUT); /* not asked for */
        assert_int_equal(wait0(es, ev, 8), 2);
        assert_int_equal(ev[0].data, 101); /* in the order they rose */
        assert_int_equal(ev[1].data, 103);
        /* max 1: each wait takes the next, level-triggered ones go round. */
        raise_ev(&f[0], MPNET_EV_IN);
        seen = 0;
        for (int i = 0; i < 6; i++) {
                assert_int_equal(wait0(es, ev, 1), 1);
                seen |= 1u << (ev[0].data - 100);
        }
        assert_int_equal(seen, (1u << 0) | (1u << 1) | (1u << 3));
        for (int i = 0; i < 5; i++)
                ev_src_fini(&f[i].src);
        assert_int_equal(wait0(es, ev, 8), 0);
        mpnet_evset_destroy(es);
}

static void test_two_sets(void **state)
{
        struct mpnet_evset *a = mpnet_evset_create(), *b = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f;

        fake_init(&f);
        assert_int_equal(ev_set_ctl(a, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN | MPNET_EV_ET, 1), 0);
        assert_int_equal(ev_set_ctl(b, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN | MPNET_EV_ET, 2), 0);
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(a, ev, 4), 1);
        assert_int_equal(ev[0].data, 1);
        assert_int_equal(wait0(b, ev, 4), 1);
        assert_int_equal(ev[0].data, 2);
        assert_int_equal(ev_set_ctl(a, MPNET_EV_CTL_DEL, &f.src, 0, 0), 0);
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(a, ev, 4), 0);
        assert_int_equal(wait0(b, ev, 4), 1);
        assert_int_equal(ev[0].data, 2);
        mpnet_evset_destroy(b);
        assert_false(ev_src_watched(&f.src));
        mpnet_evset_destroy(a);
        ev_src_fini(&f.src);
}

static void test_fd(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f, g;
        int fd = mpnet_evset_fd(es);

        assert_true(fd >= 0);
        assert_int_equal(mpnet_evset_fd(es), fd);
        fake_init(&f);
        fake_init(&g);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN | MPNET_EV_ET, 1), 0);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &g.src, MPNET_EV_IN, 2), 0);
        assert_false(readable(fd));
        /* Edge-triggered: readable from the rise until the wait reports it. */
        raise_ev(&f, MPNET_EV_IN);
        assert_true(readable(fd));
        assert_true(readable(fd)); /* polling does not consume it */
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_false(readable(fd));
        /* Level-triggered: readable while ready, across waits. */
        raise_ev(&g, MPNET_EV_IN);
        assert_true(readable(fd));
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_true(readable(fd));
        assert_int_equal(wait0(es, ev, 4), 1);
        assert_true(readable(fd));
        /* Two ready, max 1: still readable after one is taken. */
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 1), 1);
        assert_true(readable(fd));
        assert_int_equal(wait0(es, ev, 4), 2);
        /* Drained: the next wait finds it not ready and the fd goes quiet. */
        clear_ev(&g, MPNET_EV_IN);
        assert_int_equal(wait0(es, ev, 4), 0);
        assert_false(readable(fd));
        /* A rise of an event nobody asked for leaves it quiet. */
        raise_ev(&g, MPNET_EV_OUT);
        assert_false(readable(fd));
        /* Added while ready: readable at once. */
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &g.src, 0, 0), 0);
        raise_ev(&g, MPNET_EV_IN);
        assert_false(readable(fd));
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &g.src, MPNET_EV_IN, 2), 0);
        assert_true(readable(fd));
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &g.src, 0, 0), 0);
        assert_int_equal(wait0(es, ev, 4), 0);
        assert_false(readable(fd));
        mpnet_evset_destroy(es);
        ev_src_fini(&f.src);
        ev_src_fini(&g.src);
}

/* The fd asked for after things became ready: readable at once. */
static void test_fd_late(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct fake f;

        fake_init(&f);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 1), 0);
        raise_ev(&f, MPNET_EV_IN);
        assert_true(readable(mpnet_evset_fd(es)));
        mpnet_evset_destroy(es);
        ev_src_fini(&f.src);
}

static uint64_t ms_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_timeout(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct fake f;
        uint64_t t0;

        fake_init(&f);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 1), 0);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 0);
        t0 = ms_now();
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 30), 0);
        assert_true(ms_now() - t0 >= 29); /* it did wait (ms clock granularity) */
        /* A rise nobody asked for does not end the wait early with a 0. */
        raise_ev(&f, MPNET_EV_OUT);
        t0 = ms_now();
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 20), 0);
        assert_true(ms_now() - t0 >= 19);
        /* Ready before a long wait: returns it. */
        raise_ev(&f, MPNET_EV_IN);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, -1), 1);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 10000), 1);
        mpnet_evset_destroy(es);
        ev_src_fini(&f.src);
}

static void test_errors(void **state)
{
        struct mpnet_evset *es = mpnet_evset_create();
        struct mpnet_event_ready ev[1];
        struct fake f;

        fake_init(&f);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_MOD, &f.src, MPNET_EV_IN, 0), -ENOENT);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &f.src, 0, 0), -ENOENT);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 0), 0);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_OUT, 0), -EEXIST);
        assert_int_equal(ev_set_ctl(es, 0, &f.src, MPNET_EV_IN, 0), -EINVAL);
        assert_int_equal(ev_set_ctl(es, 4, &f.src, MPNET_EV_IN, 0), -EINVAL);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_MOD, &f.src, 1u << 28, 0), -EINVAL);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_MOD, &f.src, 0x40, 0), -EINVAL);
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_ADD, NULL, MPNET_EV_IN, 0), -EINVAL);
        assert_int_equal(ev_set_ctl(NULL, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN, 0), -EINVAL);
        assert_int_equal(mpnet_evset_wait(es, ev, 0, 0), -EINVAL);
        assert_int_equal(mpnet_evset_wait(es, NULL, 1, 0), -EINVAL);
        assert_int_equal(mpnet_evset_wait(NULL, ev, 1, 0), -EINVAL);
        assert_int_equal(mpnet_evset_fd(NULL), -EINVAL);
        mpnet_evset_destroy(NULL);
        /* DEL ignores the events. */
        assert_int_equal(ev_set_ctl(es, MPNET_EV_CTL_DEL, &f.src, 0xffffffffu, 0), 0);
        mpnet_evset_destroy(es);
        ev_src_fini(&f.src);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_level),    cmocka_unit_test(test_edge),
            cmocka_unit_test(test_oneshot),  cmocka_unit_test(test_modify),
            cmocka_unit_test(test_delete),   cmocka_unit_test(test_several_sources),
            cmocka_unit_test(test_two_sets), cmocka_unit_test(test_fd),
            cmocka_unit_test(test_fd_late),  cmocka_unit_test(test_timeout),
            cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
