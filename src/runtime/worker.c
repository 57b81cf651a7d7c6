/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Worker threads (see worker.h). Each worker's assignment set is an
 * immutable array published with a release store (rcu_assign_pointer()); a
 * change builds a new array, publishes it and frees the old one after
 * synchronize_rcu().
 */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "mpnet/thread.h"
#include "mpnet/worker.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"
#include "stack/steer.h"

struct assign {
        struct mpnet_stack *s;
        struct mpnet_iface *ifp;
        struct wctx *w;
        uint16_t rxq;
};

struct assign_set {
        unsigned n;
        struct assign a[];
};

struct worker {
        struct mpnet_runtime *rt;
        unsigned idx;
        pthread_t th;
        bool running;
        struct assign_set *_Atomic set; /* RCU-published (release/acquire) */
        mpnet_stat_t loops, busy, pkts, sleeps, cpu_ns;
        mpnet_stat_t qs;       /* as wctx.qs, for the assignment sets */
        _Atomic unsigned slot; /* its thread slot; MPNET_SLOT_NONE: none */
        int wake_fd;           /* eventfd: the control thread wakes a sleeper */
        struct pollfd *pfd;    /* the worker's own: what it sleeps on */
        unsigned pfd_cap;
        struct mpnet_pkt *v[MPNET_VEC_MAX];
} __attribute__((aligned(64)));

struct mpnet_runtime {
        unsigned n;
        int cpus[MPNET_MAX_WORKERS];
        bool pin;
        atomic_bool stop;
        bool started;
        uint64_t busy_poll_ns, max_sleep_ns;
        int wait_max_ms;
        struct worker w[];
};

struct mpnet_runtime *mpnet_runtime_create(const struct mpnet_runtime_cfg *cfg)
{
        struct mpnet_runtime *rt;

        if (cfg == NULL || cfg->n_workers == 0 || cfg->n_workers > MPNET_MAX_WORKERS) {
                errno = EINVAL;
                return NULL;
        }
        rt = aligned_alloc(64,
                           (sizeof(*rt) + cfg->n_workers * sizeof(struct worker) + 63) / 64 * 64);
        if (rt == NULL)
                return NULL;
        memset(rt, 0, sizeof(*rt) + cfg->n_workers * sizeof(struct worker));
        rt->n = cfg->n_workers;
        rt->busy_poll_ns = cfg->busy_poll_ns ? cfg->busy_poll_ns : 200 * MPNET_NS_PER_US;
        rt->max_sleep_ns = cfg->max_sleep_ns ? cfg->max_sleep_ns : MPNET_NS_PER_MS;
        rt->wait_max_ms = cfg->wait_max_ns
                              ? (int)((cfg->wait_max_ns + MPNET_NS_PER_MS - 1) / MPNET_NS_PER_MS)
                              : 100;
        rt->pin = cfg->cpus != NULL;
        for (unsigned i = 0; i < rt->n; i++) {
                rt->w[i].rt = rt;
                rt->w[i].idx = i;
                rt->w[i].slot = MPNET_SLOT_NONE;
                if (rt->pin)
                        rt->cpus[i] = cfg->cpus[i];
                rt->w[i].wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
                if (rt->w[i].wake_fd < 0) {
                        int e = errno;

                        while (i-- > 0)
                                close(rt->w[i].wake_fd);
                        free(rt);
                        errno = e == EMFILE || e == ENFILE ? ENOMEM : e;
                        return NULL;
                }
        }
        return rt;
}

/* A worker's contexts: their own work (packets handed to them, timeouts),
 * then out with what they hold. @return whether a context has hand-offs
 * left over (a drain takes a ring's worth at a time): the worker comes
 * back at once, no sleep, since no new wake-up will come for them. */
static bool flush_all(struct assign_set *set)
{
        bool more = false;

        for (unsigned i = 0; i < set->n; i++) {
                bool seen = false;

                /* Once per context, not once per assignment. */
                for (unsigned j = 0; j < i && !seen; j++)
                        seen = set->a[j].w == set->a[i].w;
                if (!seen) {
                        (void)ctx_service(set->a[i].w);
                        ctx_tx_flush_all(set->a[i].w);
                        mpnet_stat_inc_release(&set->a[i].w->qs);
                        more |= atomic_load_explicit(&set->a[i].w->ho_pending,
                                                     memory_order_relaxed) != 0;
                }
        }
        return more;
}

static uint64_t thread_cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * MPNET_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Nothing to do, and a link that cannot wake us: nap offline (a grace
 * period need not wait for a sleeping worker), doubling the nap while it
 * stays idle. */
static void idle_sleep(struct worker *wk, uint64_t *sleep_ns)
{
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)*sleep_ns};

        rcu_thread_offline();
        nanosleep(&ts, NULL);
        rcu_thread_online();
        mpnet_stat_add(&wk->sleeps, 1);
        if (*sleep_ns < wk->rt->max_sleep_ns)
                *sleep_ns =
                    *sleep_ns * 2 < wk->rt->max_sleep_ns ? *sleep_ns * 2 : wk->rt->max_sleep_ns;
}

/* Nothing to do: arm every assigned queue and sleep until one of them (or
 * the control thread, through wake_fd) wakes us. The sleep is bounded by
 * wait_max_ms, so an interface set up while we sleep is polled soon after.
 * Falls back to idle_sleep() when a link cannot wake a sleeper. */
static void idle_wait(struct worker *wk, uint64_t *sleep_ns)
{
        /* Read afresh: the loop's copy is past its quiescent state. */
        struct assign_set *set = atomic_load_explicit(&wk->set, memory_order_acquire);
        unsigned n = 0, need = (set != NULL ? set->n : 0) + 1;
        uint64_t v;

        if (need > wk->pfd_cap) {
                struct pollfd *p = realloc(wk->pfd, need * sizeof(*p));

                if (p == NULL) {
                        idle_sleep(wk, sleep_ns);
                        return;
                }
                wk->pfd = p;
                wk->pfd_cap = need;
        }
        wk->pfd[n++] = (struct pollfd){.fd = wk->wake_fd, .events = POLLIN};
        for (unsigned i = 0; set != NULL && i < set->n; i++) {
                struct assign *a = &set->a[i];
                int fd;

                if (!atomic_load_explicit(&a->ifp->up, memory_order_relaxed))
                        continue;
                fd = mpnet_link_rx_wait_arm(a->ifp->link, a->rxq);
                if (fd == -EAGAIN)
                        return; /* a frame came in meanwhile */
                if (fd < 0) {
                        idle_sleep(wk, sleep_ns);
                        return;
                }
                wk->pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
        /* Kicks (ctx_kick) write the wake-up only to a context not awake:
         * clear the flags, then look for a kick that came before (both
         * seq_cst, against the kicker's exchange and load). */
        for (unsigned i = 0; set != NULL && i < set->n; i++)
                atomic_store(&set->a[i].w->awake, 0);
        for (unsigned i = 0; set != NULL && i < set->n; i++) {
                if (atomic_load(&set->a[i].w->svc_kick) != 0) {
                        for (unsigned k = 0; k < set->n; k++)
                                atomic_store_explicit(&set->a[k].w->awake, 1, memory_order_relaxed);
                        return;
                }
        }
        /* Offline: nothing RCU-protected (the set included) is read until
         * we are back online. The descriptors stay open while we poll them
         * even if their link goes meanwhile. */
        for (unsigned i = 0; set != NULL && i < set->n; i++)
                mpnet_stat_inc_release(&set->a[i].w->qs);
        mpnet_stat_inc_release(&wk->qs);
        rcu_thread_offline();
        (void)poll(wk->pfd, n, wk->rt->wait_max_ms);
        rcu_thread_online();
        /* Not ws[]: a stack may have gone while we were offline. The set
         * read afresh names live contexts until the next quiescent state;
         * a context left at 0 only costs its kickers a write. */
        set = atomic_load_explicit(&wk->set, memory_order_acquire);
        for (unsigned i = 0; set != NULL && i < set->n; i++)
                atomic_store_explicit(&set->a[i].w->awake, 1, memory_order_relaxed);
        (void)!read(wk->wake_fd, &v, sizeof(v));
        mpnet_stat_add(&wk->sleeps, 1);
}

/* Wake worker wk if it sleeps. */
static void wake(struct worker *wk)
{
        uint64_t one = 1;

        (void)!write(wk->wake_fd, &one, sizeof(one));
}

static void *worker_main(void *arg)
{
        struct worker *wk = arg;
        struct mpnet_runtime *rt = wk->rt;
        uint64_t idle_since = 0, sleep_ns = 1000;
        unsigned idle_loops = 0;
        bool slept = false;
        int slot;

        if (rt->pin) {
                cpu_set_t cs;

                CPU_ZERO(&cs);
                CPU_SET(rt->cpus[wk->idx], &cs);
                pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
        }
        /* Any free slot (another runtime, mpgen or the application may hold
         * some); with none left the worker uses the pools' and counters'
         * shared paths. */
        slot = mpnet_thread_slot_acquire();
        atomic_store_explicit(&wk->slot, slot >= 0 ? (unsigned)slot : MPNET_SLOT_NONE,
                              memory_order_relaxed);
        rcu_register_thread();
        while (!atomic_load_explicit(&rt->stop, memory_order_relaxed)) {
                struct assign_set *set = atomic_load_explicit(&wk->set, memory_order_acquire);
                bool busy = false;

                for (unsigned i = 0; set != NULL && i < set->n; i++) {
                        struct assign *a = &set->a[i];
                        uint16_t n;

                        if (!atomic_load_explicit(&a->ifp->up, memory_order_relaxed))
                                continue;
                        n = mpnet_link_rx_burst(a->ifp->link, a->rxq, wk->v, MPNET_VEC_MAX);
                        if (n == 0)
                                continue;
                        busy = true;
                        STK_ADD(a->s, rx_frames, n);
                        mpnet_stat_add(&wk->pkts, n);
                        ether_node(a->w, a->ifp, wk->v, n);
                }
                /* Flush, and mark the coming quiescent state on each context,
                 * then on the worker once nothing of the set is read any more. */
                if (set != NULL && flush_all(set))
                        busy = true;
                mpnet_stat_inc_release(&wk->qs);
                mpnet_stat_add(&wk->loops, 1);
                /* Nothing read before this point is used after it. */
                rcu_quiescent_state();
                if (busy) {
                        mpnet_stat_add(&wk->busy, 1);
                        idle_loops = 0;
                        sleep_ns = 1000;
                        slept = false;
                        continue;
                }
                /* Idle: busy-poll for busy_poll_ns (the clock read only every
                 * 64 empty loops), then sleep; once asleep, an empty loop
                 * sleeps again at once. */
                if (!slept) {
                        __builtin_ia32_pause();
                        if (++idle_loops % 64 != 0)
                                continue;
                        if (idle_loops == 64) {
                                idle_since = mpnet_monotonic_ns();
                                continue;
                        }
                        if (mpnet_monotonic_ns() - idle_since < rt->busy_poll_ns)
                                continue;
                }
                idle_wait(wk, &sleep_ns);
                slept = true;
                atomic_store_explicit(&wk->cpu_ns, thread_cpu_ns(), memory_order_relaxed);
        }
        rcu_unregister_thread();
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        atomic_store_explicit(&wk->slot, MPNET_SLOT_NONE, memory_order_relaxed);
        return NULL;
}

/* Replace worker w's set; the old one is freed after a grace period. */
static void publish(struct mpnet_runtime *rt, struct worker *wk, struct assign_set *set)
{
        struct assign_set *old = wk->set;

        /* rcu_assign_pointer(), in the C11 form ThreadSanitizer understands. */
        atomic_store_explicit(&wk->set, set, memory_order_release);
        if (rt->started) {
                wake(wk); /* a sleeper picks the new set up now */
                synchronize_rcu();
                /* For ThreadSanitizer: the worker's last loop on the old set
                 * happened before this free (see wctx.qs). */
                (void)atomic_load_explicit(&wk->qs, memory_order_acquire);
        }
        free(old);
}

static bool assigned(struct mpnet_runtime *rt, struct mpnet_stack *s, int ifindex, uint16_t rxq,
                     unsigned *wi, unsigned *ai)
{
        for (unsigned i = 0; i < rt->n; i++) {
                struct assign_set *set = rt->w[i].set;

                for (unsigned j = 0; set != NULL && j < set->n; j++) {
                        if (set->a[j].s == s && set->a[j].ifp->ifindex == ifindex &&
                            set->a[j].rxq == rxq) {
                                *wi = i;
                                *ai = j;
                                return true;
                        }
                }
        }
        return false;
}

int mpnet_runtime_assign(struct mpnet_runtime *rt, unsigned w, struct mpnet_stack *s, int ifindex,
                         uint16_t rxq)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct assign_set *old, *set;
        struct wctx *ctx;
        unsigned wi, ai, n;

        if (w >= rt->n)
                return -EINVAL;
        if (ifp == NULL)
                return -ENODEV;
        if (rxq >= ifp->link->info.n_rxq)
                return -EINVAL;
        if (assigned(rt, s, ifindex, rxq, &wi, &ai))
                return -EEXIST;
        ctx = stack_ctx_get(s, w + 1);
        if (ctx == NULL)
                return -ENOMEM;
        old = rt->w[w].set;
        n = old != NULL ? old->n : 0;
        set = malloc(sizeof(*set) + (n + 1) * sizeof(set->a[0]));
        if (set == NULL)
                return -ENOMEM;
        if (n != 0)
                memcpy(set->a, old->a, n * sizeof(set->a[0]));
        set->a[n] = (struct assign){.s = s, .ifp = ifp, .w = ctx, .rxq = rxq};
        set->n = n + 1;
        atomic_fetch_add(&ifp->n_assigned, 1); /* mpnet_iface_detach() waits for 0 */
        /* The context owns flows from now on (hand-offs wake this worker). */
        stack_ctx_queues(s, w + 1, 1, rt->w[w].wake_fd);
        /* Flows RSS steers to rxq reach this context (stack/steer.h). */
        stack_rxq_ctx(s, ifindex, rxq, (int)w + 1);
        /* From now on the stack's control thread leaves the links to us. */
        atomic_fetch_add_explicit(&s->n_workers, 1, memory_order_acq_rel);
        publish(rt, &rt->w[w], set);
        return 0;
}

int mpnet_runtime_unassign(struct mpnet_runtime *rt, struct mpnet_stack *s, int ifindex,
                           uint16_t rxq)
{
        struct assign_set *old, *set;
        struct wctx *ctx;
        struct mpnet_iface *ifp;
        unsigned wi, ai;

        if (!assigned(rt, s, ifindex, rxq, &wi, &ai))
                return -ENOENT;
        old = rt->w[wi].set;
        ctx = old->a[ai].w;
        ifp = old->a[ai].ifp;
        set = malloc(sizeof(*set) + old->n * sizeof(set->a[0]));
        if (set == NULL)
                return -ENOMEM;
        set->n = 0;
        for (unsigned j = 0; j < old->n; j++) {
                if (j != ai)
                        set->a[set->n++] = old->a[j];
        }
        stack_ctx_queues(s, wi + 1, -1, rt->w[wi].wake_fd);
        stack_rxq_ctx(s, ifindex, rxq, -1);
        publish(rt, &rt->w[wi], set);
        atomic_fetch_sub(&ifp->n_assigned, 1);
        /* The worker no longer runs this context: what it queued goes out. */
        if (!rt->started)
                ctx_tx_flush_all(ctx);
        atomic_fetch_sub_explicit(&s->n_workers, 1, memory_order_acq_rel);
        return 0;
}

int mpnet_runtime_start(struct mpnet_runtime *rt)
{
        if (rt->started)
                return -EALREADY;
        atomic_store(&rt->stop, false);
        rt->started = true;
        for (unsigned i = 0; i < rt->n; i++) {
                int err = pthread_create(&rt->w[i].th, NULL, worker_main, &rt->w[i]);

                if (err != 0) {
                        mpnet_runtime_stop(rt);
                        return -err;
                }
                rt->w[i].running = true;
        }
        return 0;
}

void mpnet_runtime_stop(struct mpnet_runtime *rt)
{
        if (!rt->started)
                return;
        atomic_store(&rt->stop, true);
        for (unsigned i = 0; i < rt->n; i++)
                wake(&rt->w[i]);
        for (unsigned i = 0; i < rt->n; i++) {
                if (rt->w[i].running)
                        pthread_join(rt->w[i].th, NULL);
                rt->w[i].running = false;
                if (rt->w[i].set != NULL)
                        flush_all(rt->w[i].set);
        }
        rt->started = false;
}

void mpnet_runtime_destroy(struct mpnet_runtime *rt)
{
        if (rt == NULL)
                return;
        mpnet_runtime_stop(rt);
        for (unsigned i = 0; i < rt->n; i++) {
                struct assign_set *set = rt->w[i].set;

                for (unsigned j = 0; set != NULL && j < set->n; j++) {
                        stack_rxq_ctx(set->a[j].s, set->a[j].ifp->ifindex, set->a[j].rxq, -1);
                        atomic_fetch_sub_explicit(&set->a[j].s->n_workers, 1, memory_order_acq_rel);
                        atomic_fetch_sub(&set->a[j].ifp->n_assigned, 1);
                }
                free(set);
                free(rt->w[i].pfd);
                close(rt->w[i].wake_fd);
        }
        free(rt);
}

int mpnet_runtime_worker_stats(struct mpnet_runtime *rt, unsigned w, struct mpnet_worker_stats *st)
{
        if (w >= rt->n)
                return -EINVAL;
        st->loops = mpnet_stat_read(&rt->w[w].loops);
        st->busy = mpnet_stat_read(&rt->w[w].busy);
        st->pkts = mpnet_stat_read(&rt->w[w].pkts);
        st->sleeps = mpnet_stat_read(&rt->w[w].sleeps);
        st->cpu_ns = mpnet_stat_read(&rt->w[w].cpu_ns);
        st->slot = atomic_load_explicit(&rt->w[w].slot, memory_order_relaxed);
        return 0;
}
