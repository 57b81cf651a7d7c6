/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event sets, epoll-shaped: the design, the memory ordering and the life
 * cycle are in evset.h.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "mpnet/pkt.h" /* MPNET_CACHE_LINE */
#include "l4/evset.h"

_Static_assert(MPNET_EV_IN == EPOLLIN, "EPOLLIN");
_Static_assert(MPNET_EV_PRI == EPOLLPRI, "EPOLLPRI");
_Static_assert(MPNET_EV_OUT == EPOLLOUT, "EPOLLOUT");
_Static_assert(MPNET_EV_ERR == EPOLLERR, "EPOLLERR");
_Static_assert(MPNET_EV_HUP == EPOLLHUP, "EPOLLHUP");
_Static_assert(MPNET_EV_RDHUP == EPOLLRDHUP, "EPOLLRDHUP");
_Static_assert(MPNET_EV_ONESHOT == EPOLLONESHOT, "EPOLLONESHOT");
_Static_assert(MPNET_EV_ET == (uint32_t)EPOLLET, "EPOLLET");
_Static_assert(MPNET_EV_CTL_ADD == EPOLL_CTL_ADD && MPNET_EV_CTL_DEL == EPOLL_CTL_DEL &&
                   MPNET_EV_CTL_MOD == EPOLL_CTL_MOD,
               "EPOLL_CTL_*");

/* Reported whether asked for or not (epoll_ctl(2)). */
#define EV_ALWAYS (MPNET_EV_ERR | MPNET_EV_HUP)

/* mpnet_evset.wake */
#define WAKE_SIGNALLED (1u << 31) /* the eventfd was written since its last drain */
#define WAKE_EXPORTED  (1u << 30) /* the application has the fd */
#define WAKE_SLEEPERS  (WAKE_EXPORTED - 1)

struct ev_reg {
        struct ev_reg *_Atomic src_next; /* the source's list (control mutex) */
        struct mpnet_evset *set;         /* both fixed while registered */
        struct ev_src *src;
        _Atomic uint32_t events;            /* wanted events and flags (set mutex) */
        _Atomic bool disabled;              /* a oneshot that fired (set mutex) */
        _Atomic bool queued;                /* on the incoming stack or the ready list */
        bool on_ready;                      /* on the ready list (set mutex) */
        bool dead;                          /* deleted while on the incoming stack */
        struct ev_reg *in_next;             /* the incoming stack: written by its pusher */
        struct ev_reg *rd_next, *rd_prev;   /* the ready list (set mutex) */
        struct ev_reg *set_next, *set_prev; /* the set's registrations (set mutex) */
        uint64_t data;
};

struct mpnet_evset {
        /* What notifiers touch. */
        alignas(MPNET_CACHE_LINE) struct ev_reg *_Atomic incoming;
        _Atomic uint32_t wake;
        int efd;
        /* What waiters and the control path touch, under lock. */
        alignas(MPNET_CACHE_LINE) pthread_mutex_t lock;
        struct ev_reg *rd_head, *rd_tail;
        unsigned n_ready;
        struct ev_reg *all;
};

/* Registrations are linked into and out of sources under this one mutex,
 * taken before a set's. Never on the notify path. */
static pthread_mutex_t ev_ctl_mutex = PTHREAD_MUTEX_INITIALIZER;

/* ---- the ready list (set mutex) ------------------------------------------ */

static void rd_append(struct mpnet_evset *es, struct ev_reg *r)
{
        r->rd_next = NULL;
        r->rd_prev = es->rd_tail;
        if (es->rd_tail != NULL)
                es->rd_tail->rd_next = r;
        else
                es->rd_head = r;
        es->rd_tail = r;
        r->on_ready = true;
        es->n_ready++;
}

static void rd_remove(struct mpnet_evset *es, struct ev_reg *r)
{
        if (r->rd_prev != NULL)
                r->rd_prev->rd_next = r->rd_next;
        else
                es->rd_head = r->rd_next;
        if (r->rd_next != NULL)
                r->rd_next->rd_prev = r->rd_prev;
        else
                es->rd_tail = r->rd_prev;
        r->on_ready = false;
        es->n_ready--;
}

/* ---- waking -------------------------------------------------------------- */

/* Something is ready: make the eventfd readable if someone may be looking
 * and it is not yet. Any thread. */
static void set_kick(struct mpnet_evset *es)
{
        uint32_t w = atomic_load(&es->wake);
        uint64_t one = 1;

        if ((w & WAKE_SIGNALLED) || !(w & (WAKE_EXPORTED | WAKE_SLEEPERS)))
                return;
        if (atomic_fetch_or(&es->wake, WAKE_SIGNALLED) & WAKE_SIGNALLED)
                return;
        /* Cannot fail but for a counter at 2^64 - 2, which needs 2^64 kicks
         * without a drain; EINTR does not apply to a nonblocking eventfd. */
        (void)!write(es->efd, &one, sizeof(one));
}

static bool set_ready(struct mpnet_evset *es)
{
        return es->rd_head != NULL || atomic_load(&es->incoming) != NULL;
}

/*
 * Set mutex held, after a harvest: keep the eventfd readable if something is
 * still ready, otherwise drain it (when signalled, or always: drain) and look
 * again, since a notifier may have pushed after our look and found SIGNALLED
 * still set. @return whether something is ready.
 */
static bool set_settle(struct mpnet_evset *es, bool drain)
{
        uint64_t v;

        if (set_ready(es)) {
                set_kick(es);
                return true;
        }
        if (!drain && !(atomic_load(&es->wake) & WAKE_SIGNALLED))
                return false;
        (void)!read(es->efd, &v, sizeof(v)); /* EAGAIN when already 0 */
        atomic_fetch_and(&es->wake, ~WAKE_SIGNALLED);
        if (set_ready(es)) {
                set_kick(es);
                return true;
        }
        return false;
}

/* ---- sources ------------------------------------------------------------- */

void ev_src_init(struct ev_src *src, uint32_t (*poll)(void *obj), void *obj)
{
        src->poll = poll;
        src->obj = obj;
        atomic_init(&src->regs, NULL);
        atomic_init(&src->busy, 0);
}

static void ev_push(struct mpnet_evset *es, struct ev_reg *r)
{
        struct ev_reg *old = atomic_load_explicit(&es->incoming, memory_order_relaxed);

        do
                r->in_next = old;
        while (!atomic_compare_exchange_weak(&es->incoming, &old, r));
}

void ev_src_notify(struct ev_src *src, uint32_t events)
{
        struct ev_reg *r;

        /* seq_cst, after the source published its readiness: an ADD that
         * linked after this load polls and sees that readiness. */
        if (atomic_load(&src->regs) == NULL)
                return;
        atomic_fetch_add(&src->busy, 1);
        for (r = atomic_load(&src->regs); r != NULL;
             r = atomic_load_explicit(&r->src_next, memory_order_acquire)) {
                uint32_t want = atomic_load_explicit(&r->events, memory_order_relaxed);

                if (!(events & ((want & EV_EVENTS) | EV_ALWAYS)))
                        continue;
                if (atomic_load_explicit(&r->disabled, memory_order_relaxed))
                        continue;
                /* seq_cst load: pairs with the waiter's clear (evset.h). */
                if (atomic_load(&r->queued) || atomic_exchange(&r->queued, true))
                        continue;
                ev_push(r->set, r);
                set_kick(r->set);
        }
        atomic_fetch_sub_explicit(&src->busy, 1, memory_order_release);
}

/* Control mutex held: take r off its source's list and wait until no
 * notifier can still hold it. */
static void src_unlink(struct ev_reg *r)
{
        struct ev_src *src = r->src;
        struct ev_reg *_Atomic *pp = &src->regs;
        struct ev_reg *cur;
        unsigned spins = 0;

        while ((cur = atomic_load_explicit(pp, memory_order_relaxed)) != r)
                pp = &cur->src_next;
        atomic_store(pp, atomic_load_explicit(&r->src_next, memory_order_relaxed));
        /* seq_cst store, then seq_cst loads: a notifier that bumped busy
         * after this saw the list without r. */
        while (atomic_load(&src->busy) != 0) {
                if (++spins > 64)
                        sched_yield();
        }
}

/* Both mutexes held: r leaves the set and its source. */
static void reg_delete(struct mpnet_evset *es, struct ev_reg *r)
{
        src_unlink(r);
        if (r->set_prev != NULL)
                r->set_prev->set_next = r->set_next;
        else
                es->all = r->set_next;
        if (r->set_next != NULL)
                r->set_next->set_prev = r->set_prev;
        if (r->on_ready) {
                rd_remove(es, r);
                free(r);
        } else if (atomic_load_explicit(&r->queued, memory_order_relaxed)) {
                r->dead = true; /* on the incoming stack: the next harvest frees it */
                r->src = NULL;
        } else {
                free(r);
        }
}

void ev_src_fini(struct ev_src *src)
{
        struct ev_reg *r;

        pthread_mutex_lock(&ev_ctl_mutex);
        while ((r = atomic_load_explicit(&src->regs, memory_order_relaxed)) != NULL) {
                struct mpnet_evset *es = r->set;

                pthread_mutex_lock(&es->lock);
                reg_delete(es, r);
                pthread_mutex_unlock(&es->lock);
        }
        pthread_mutex_unlock(&ev_ctl_mutex);
}

/* ---- sets ---------------------------------------------------------------- */

struct mpnet_evset *ev_set_create(void)
{
        struct mpnet_evset *es = aligned_alloc(MPNET_CACHE_LINE, sizeof(*es));
        int err;

        if (es == NULL)
                return NULL;
        memset(es, 0, sizeof(*es));
        es->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (es->efd < 0) {
                err = errno;
                free(es);
                errno = err;
                return NULL;
        }
        atomic_init(&es->incoming, NULL);
        atomic_init(&es->wake, 0);
        pthread_mutex_init(&es->lock, NULL);
        return es;
}

void ev_set_destroy(struct mpnet_evset *es)
{
        struct ev_reg *r, *next;

        if (es == NULL)
                return;
        pthread_mutex_lock(&ev_ctl_mutex);
        pthread_mutex_lock(&es->lock);
        for (r = es->all; r != NULL; r = r->set_next)
                src_unlink(r);
        /* No notifier reaches the set any more. The dead ones on the
         * incoming stack are on no other list. */
        for (r = atomic_exchange(&es->incoming, NULL); r != NULL; r = next) {
                next = r->in_next;
                if (r->dead)
                        free(r);
        }
        for (r = es->all; r != NULL; r = next) {
                next = r->set_next;
                free(r);
        }
        pthread_mutex_unlock(&es->lock);
        pthread_mutex_unlock(&ev_ctl_mutex);
        pthread_mutex_destroy(&es->lock);
        close(es->efd);
        free(es);
}

int ev_set_fd(struct mpnet_evset *es)
{
        pthread_mutex_lock(&es->lock);
        atomic_fetch_or(&es->wake, WAKE_EXPORTED);
        if (set_ready(es))
                set_kick(es);
        pthread_mutex_unlock(&es->lock);
        return es->efd;
}

/* Set mutex held: queue r if its source is ready for it now (ADD, MOD). */
static void reg_arm(struct mpnet_evset *es, struct ev_reg *r)
{
        uint32_t want = atomic_load_explicit(&r->events, memory_order_relaxed);

        /* Pairs with the source's seq_cst publication (evset.h). */
        atomic_thread_fence(memory_order_seq_cst);
        if (!(r->src->poll(r->src->obj) & ((want & EV_EVENTS) | EV_ALWAYS)))
                return;
        if (!atomic_exchange(&r->queued, true))
                rd_append(es, r);
        set_kick(es);
}

static struct ev_reg *reg_find(struct ev_src *src, struct mpnet_evset *es)
{
        struct ev_reg *r = atomic_load_explicit(&src->regs, memory_order_relaxed);

        while (r != NULL && r->set != es)
                r = atomic_load_explicit(&r->src_next, memory_order_relaxed);
        return r;
}

void ev_ctl_lock(void)
{
        pthread_mutex_lock(&ev_ctl_mutex);
}

void ev_ctl_unlock(void)
{
        pthread_mutex_unlock(&ev_ctl_mutex);
}

int ev_set_ctl_locked(struct mpnet_evset *es, int op, struct ev_src *src, uint32_t events,
                      uint64_t data)
{
        struct ev_reg *r;
        int rc = 0;

        if (es == NULL || src == NULL)
                return -EINVAL;
        if (op != MPNET_EV_CTL_ADD && op != MPNET_EV_CTL_MOD && op != MPNET_EV_CTL_DEL)
                return -EINVAL;
        if (op != MPNET_EV_CTL_DEL && (events & ~(EV_EVENTS | EV_FLAGS)))
                return -EINVAL;
        pthread_mutex_lock(&es->lock);
        r = reg_find(src, es);
        switch (op) {
        case MPNET_EV_CTL_ADD:
                if (r != NULL) {
                        rc = -EEXIST;
                        break;
                }
                r = calloc(1, sizeof(*r));
                if (r == NULL) {
                        rc = -ENOMEM;
                        break;
                }
                r->set = es;
                r->src = src;
                r->data = data;
                atomic_init(&r->events, events);
                atomic_init(&r->disabled, false);
                atomic_init(&r->queued, false);
                r->set_next = es->all;
                if (es->all != NULL)
                        es->all->set_prev = r;
                es->all = r;
                atomic_init(&r->src_next, atomic_load_explicit(&src->regs, memory_order_relaxed));
                atomic_store(&src->regs, r); /* seq_cst: see ev_src_notify() */
                reg_arm(es, r);
                break;
        case MPNET_EV_CTL_MOD:
                if (r == NULL) {
                        rc = -ENOENT;
                        break;
                }
                r->data = data;
                atomic_store_explicit(&r->events, events, memory_order_relaxed);
                atomic_store_explicit(&r->disabled, false, memory_order_relaxed);
                reg_arm(es, r);
                break;
        default: /* MPNET_EV_CTL_DEL */
                if (r == NULL) {
                        rc = -ENOENT;
                        break;
                }
                reg_delete(es, r);
                break;
        }
        pthread_mutex_unlock(&es->lock);
        return rc;
}

int ev_set_ctl(struct mpnet_evset *es, int op, struct ev_src *src, uint32_t events, uint64_t data)
{
        int rc;

        pthread_mutex_lock(&ev_ctl_mutex);
        rc = ev_set_ctl_locked(es, op, src, events, data);
        pthread_mutex_unlock(&ev_ctl_mutex);
        return rc;
}

/*
 * Set mutex held: move the incoming stack to the ready list, then look at
 * each ready entry once, reporting at most max.
 */
static int ev_harvest(struct mpnet_evset *es, struct mpnet_event_ready *out, int max)
{
        struct ev_reg *r, *next, *fifo = NULL;
        unsigned len;
        int n = 0;

        for (r = atomic_exchange(&es->incoming, NULL); r != NULL; r = next) {
                next = r->in_next;
                r->in_next = fifo;
                fifo = r;
        }
        for (r = fifo; r != NULL; r = next) {
                next = r->in_next;
                if (r->dead)
                        free(r);
                else
                        rd_append(es, r);
        }
        for (len = es->n_ready; len > 0 && n < max; len--) {
                uint32_t want, ev;

                r = es->rd_head;
                rd_remove(es, r);
                atomic_store(&r->queued, false);
                /* A rise after this finds queued 0 and pushes again; one
                 * before it is seen by the poll below (evset.h). */
                atomic_thread_fence(memory_order_seq_cst);
                if (atomic_load_explicit(&r->disabled, memory_order_relaxed))
                        continue;
                want = atomic_load_explicit(&r->events, memory_order_relaxed);
                ev = r->src->poll(r->src->obj) & ((want & EV_EVENTS) | EV_ALWAYS);
                if (ev == 0)
                        continue;
                out[n].events = ev;
                out[n].data = r->data;
                n++;
                if (want & MPNET_EV_ONESHOT)
                        atomic_store_explicit(&r->disabled, true, memory_order_relaxed);
                else if (!(want & MPNET_EV_ET) && !atomic_exchange(&r->queued, true))
                        rd_append(es, r); /* level: again next time, behind the others */
        }
        return n;
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int ev_set_wait(struct mpnet_evset *es, struct mpnet_event_ready *out, int max, int timeout_ms)
{
        uint64_t deadline = 0;
        int n;

        if (es == NULL || out == NULL || max < 1)
                return -EINVAL;
        if (timeout_ms > 0)
                deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
        for (;;) {
                struct pollfd p = {.fd = es->efd, .events = POLLIN};
                int ms = -1;

                pthread_mutex_lock(&es->lock);
                n = ev_harvest(es, out, max);
                if (n > 0 || timeout_ms == 0) {
                        (void)set_settle(es, false);
                        pthread_mutex_unlock(&es->lock);
                        return n;
                }
                /* Asleep from here on for notifiers: they write the
                 * eventfd. Drained first, then the last look. */
                atomic_fetch_add(&es->wake, 1);
                if (set_settle(es, true)) {
                        atomic_fetch_sub(&es->wake, 1);
                        pthread_mutex_unlock(&es->lock);
                        continue;
                }
                pthread_mutex_unlock(&es->lock);
                if (timeout_ms > 0) {
                        uint64_t t = now_ns();

                        ms = t >= deadline ? 0 : (int)((deadline - t + 999999) / 1000000);
                }
                if (ms != 0)
                        (void)poll(&p, 1, ms); /* EINTR: look again */
                atomic_fetch_sub(&es->wake, 1);
                if (ms == 0 || (timeout_ms > 0 && now_ns() >= deadline)) {
                        pthread_mutex_lock(&es->lock);
                        n = ev_harvest(es, out, max);
                        (void)set_settle(es, false);
                        pthread_mutex_unlock(&es->lock);
                        return n;
                }
        }
}

/* ---- the public API ------------------------------------------------------ */

struct mpnet_evset *mpnet_evset_create(void)
{
        return ev_set_create();
}

void mpnet_evset_destroy(struct mpnet_evset *es)
{
        ev_set_destroy(es);
}

int mpnet_evset_fd(struct mpnet_evset *es)
{
        return es != NULL ? ev_set_fd(es) : -EINVAL;
}

int mpnet_evset_wait(struct mpnet_evset *es, struct mpnet_event_ready *out, int max, int timeout_ms)
{
        return ev_set_wait(es, out, max, timeout_ms);
}
