/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event sets (src/l4/evset.c) against their Linux peer, an eventfd per
 * source watched by epoll, in the same run:
 *
 *  - wake: notify-to-wake latency across two threads. A ping-pong: thread A
 *    raises source 1 (in set 1) and waits on set 2; thread B waits on set 1
 *    (timeout -1), takes the event, clears it and raises source 2. Half a
 *    round trip is one notify-to-wake. Edge-triggered. The peer does the
 *    same with two eventfds, each in an epoll instance of its own: write
 *    one, epoll_wait the other, read (drain) what woke it.
 *  - notify: what a source pays to report a rise when nobody waits: the
 *    registration already queued (the set not yet waited on), which is the
 *    steady state of a busy socket; notify then wait(0) (a rise, a push and
 *    a harvest each round, no syscall); the same with the set's fd exported
 *    (each round writes and drains the eventfd). The peer: one eventfd
 *    write per rise.
 *
 * ns from CLOCK_MONOTONIC and TSC cycles, both around whole loops.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench_util.h"
#include "l4/evset.h"

struct cfg {
        uint64_t rounds, notifies, repeat;
        bool pin;
};

struct fake {
        _Atomic uint32_t mask;
        struct ev_src src;
};

static uint32_t fake_poll(void *obj)
{
        return atomic_load(&((struct fake *)obj)->mask);
}

static void raise_in(struct fake *f)
{
        atomic_fetch_or(&f->mask, MPNET_EV_IN);
        ev_src_notify(&f->src, MPNET_EV_IN);
}

/* ---- wake: mpnet --------------------------------------------------------- */

struct pp {
        const struct cfg *c;
        struct mpnet_evset *es[2];
        struct fake f[2];
        int efd[2], ep[2];
};

static void ev_take(struct mpnet_evset *es, struct fake *f)
{
        struct mpnet_event_ready ev[1];

        while (ev_set_wait(es, ev, 1, -1) != 1)
                ;
        atomic_fetch_and(&f->mask, ~MPNET_EV_IN);
}

static void *pp_echo(void *arg)
{
        struct pp *p = arg;

        if (p->c->pin)
                bench_pin_self(1);
        for (uint64_t i = 0; i < p->c->rounds; i++) {
                ev_take(p->es[0], &p->f[0]);
                raise_in(&p->f[1]);
        }
        return NULL;
}

static void efd_take(int ep, int efd)
{
        struct epoll_event e;
        uint64_t v;

        while (epoll_wait(ep, &e, 1, -1) != 1)
                ;
        if (read(efd, &v, sizeof(v)) != sizeof(v))
                bench_die("eventfd read: %d\n", errno);
}

static void efd_raise(int efd)
{
        uint64_t one = 1;

        if (write(efd, &one, sizeof(one)) != sizeof(one))
                bench_die("eventfd write: %d\n", errno);
}

static void *pp_echo_epoll(void *arg)
{
        struct pp *p = arg;

        if (p->c->pin)
                bench_pin_self(1);
        for (uint64_t i = 0; i < p->c->rounds; i++) {
                efd_take(p->ep[0], p->efd[0]);
                efd_raise(p->efd[1]);
        }
        return NULL;
}

/* One ping-pong; ns and cycles per notify-to-wake (half a round trip). */
static void run_wake(const struct cfg *c, bool peer, double *ns, double *cyc)
{
        struct pp p = {.c = c};
        pthread_t th;
        uint64_t t0, c0;

        for (int i = 0; i < 2; i++) {
                p.es[i] = ev_set_create();
                atomic_init(&p.f[i].mask, 0);
                ev_src_init(&p.f[i].src, fake_poll, &p.f[i]);
                if (p.es[i] == NULL || ev_set_ctl(p.es[i], MPNET_EV_CTL_ADD, &p.f[i].src,
                                                  MPNET_EV_IN | MPNET_EV_ET, (uint64_t)i) != 0)
                        bench_die("evset setup\n");
                p.efd[i] = eventfd(0, EFD_CLOEXEC);
                p.ep[i] = epoll_create1(EPOLL_CLOEXEC);
                struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
                if (p.efd[i] < 0 || p.ep[i] < 0 || epoll_ctl(p.ep[i], EPOLL_CTL_ADD, p.efd[i], &e))
                        bench_die("eventfd/epoll setup: %d\n", errno);
        }
        if (pthread_create(&th, NULL, peer ? pp_echo_epoll : pp_echo, &p))
                bench_die("pthread_create\n");
        t0 = bench_now_ns();
        c0 = bench_tsc();
        for (uint64_t i = 0; i < c->rounds; i++) {
                if (peer) {
                        efd_raise(p.efd[0]);
                        efd_take(p.ep[1], p.efd[1]);
                } else {
                        raise_in(&p.f[0]);
                        ev_take(p.es[1], &p.f[1]);
                }
        }
        *cyc = (double)(bench_tsc() - c0) / (2.0 * (double)c->rounds);
        *ns = (double)(bench_now_ns() - t0) / (2.0 * (double)c->rounds);
        pthread_join(th, NULL);
        for (int i = 0; i < 2; i++) {
                ev_set_destroy(p.es[i]);
                ev_src_fini(&p.f[i].src);
                close(p.efd[i]);
                close(p.ep[i]);
        }
}

/* ---- notify, nobody waiting ---------------------------------------------- */

enum { N_QUEUED, N_HARVEST, N_EXPORTED, N_EVENTFD, N_KINDS };

static void run_notify(const struct cfg *c, int kind, double *ns, double *cyc)
{
        struct mpnet_evset *es = ev_set_create();
        struct mpnet_event_ready ev[1];
        struct fake f;
        int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        uint64_t t0, c0, n = c->notifies, v;

        atomic_init(&f.mask, 0);
        ev_src_init(&f.src, fake_poll, &f);
        if (es == NULL || efd < 0 ||
            ev_set_ctl(es, MPNET_EV_CTL_ADD, &f.src, MPNET_EV_IN | MPNET_EV_ET, 1) != 0)
                bench_die("setup\n");
        if (kind == N_EXPORTED)
                (void)ev_set_fd(es);
        if (kind != N_QUEUED)
                n /= 10; /* each round costs more */
        t0 = bench_now_ns();
        c0 = bench_tsc();
        for (uint64_t i = 0; i < n; i++) {
                switch (kind) {
                case N_QUEUED:
                        raise_in(&f);
                        break;
                case N_HARVEST:
                case N_EXPORTED:
                        raise_in(&f);
                        if (ev_set_wait(es, ev, 1, 0) != 1)
                                bench_die("no event\n");
                        break;
                default:
                        efd_raise(efd);
                        break;
                }
        }
        *cyc = (double)(bench_tsc() - c0) / (double)n;
        *ns = (double)(bench_now_ns() - t0) / (double)n;
        (void)!read(efd, &v, sizeof(v));
        close(efd);
        ev_set_destroy(es);
        ev_src_fini(&f.src);
}

/* ---- main ---------------------------------------------------------------- */

enum { R_WAKE, R_WAKE_EPOLL, R_NOTIFY, R_NOTIFY_WAIT0, R_NOTIFY_WAIT0_FD, R_EVENTFD_WRITE, R_N };

static const char *const names[R_N] = {
    "wake", "epoll_wake", "notify_queued", "notify_wait0", "notify_wait0_fd", "eventfd_write",
};

int main(int argc, char **argv)
{
        struct cfg c = {.rounds = 5000, .notifies = 20000000, .repeat = 5};
        const struct bench_opt opts[] = {
            {"rounds", BENCH_OPT_U64, &c.rounds, 1, UINT64_MAX / 4, "ping-pong round trips"},
            {"notifies", BENCH_OPT_U64, &c.notifies, 10, UINT64_MAX / 4,
             "notifies per repeat (a tenth for the kinds that harvest or write)"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin the threads to CPUs 0 and 1"},
        };
        struct bench_json j;
        double hz;

        bench_parse_args(argc, argv,
                         "event sets: notify-to-wake latency and notify cost, against "
                         "eventfd + epoll",
                         opts, sizeof(opts) / sizeof(opts[0]));
        hz = bench_tsc_hz();
        if (c.pin)
                bench_pin_self(0);
        double ns[R_N][c.repeat], cyc[R_N][c.repeat], dummy[2];

        /* Untimed warm-up. */
        struct cfg w = c;
        w.rounds = c.rounds / 10 + 1;
        w.notifies = c.notifies / 10 + 10;
        run_wake(&w, false, &dummy[0], &dummy[1]);
        run_wake(&w, true, &dummy[0], &dummy[1]);
        for (uint64_t r = 0; r < c.repeat; r++) {
                /* Alternated, so drift hits both alike. */
                run_wake(&c, false, &ns[R_WAKE][r], &cyc[R_WAKE][r]);
                run_wake(&c, true, &ns[R_WAKE_EPOLL][r], &cyc[R_WAKE_EPOLL][r]);
                for (int k = 0; k < N_KINDS; k++)
                        run_notify(&c, k, &ns[R_NOTIFY + k][r], &cyc[R_NOTIFY + k][r]);
                fprintf(stderr,
                        "evset: repeat %llu: wake %.0f ns (epoll %.0f ns), notify %.1f ns, "
                        "notify+wait0 %.1f ns (fd exported %.1f ns), eventfd write %.1f ns\n",
                        (unsigned long long)r, ns[R_WAKE][r], ns[R_WAKE_EPOLL][r], ns[R_NOTIFY][r],
                        ns[R_NOTIFY_WAIT0][r], ns[R_NOTIFY_WAIT0_FD][r], ns[R_EVENTFD_WRITE][r]);
        }

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "evset");
        bench_json_u64(&j, "rounds", c.rounds);
        bench_json_u64(&j, "notifies", c.notifies);
        bench_json_u64(&j, "repeat", c.repeat);
        bench_json_bool(&j, "pin", c.pin);
        bench_json_num(&j, "tsc_hz", hz);
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t r = 0; r < c.repeat; r++) {
                char key[64];

                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < R_N; k++) {
                        snprintf(key, sizeof(key), "%s_ns", names[k]);
                        bench_json_num(&j, key, ns[k][r]);
                        snprintf(key, sizeof(key), "%s_cycles", names[k]);
                        bench_json_num(&j, key, cyc[k][r]);
                }
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < R_N; k++) {
                char key[64];

                snprintf(key, sizeof(key), "%s_ns", names[k]);
                bench_json_stat(&j, key, ns[k], c.repeat);
                snprintf(key, sizeof(key), "%s_cycles", names[k]);
                bench_json_stat(&j, key, cyc[k], c.repeat);
        }
        bench_json_obj_end(&j);
        return 0;
}
