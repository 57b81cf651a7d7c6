/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sockets homed on workers (run-to-completion, the Seastar / F-Stack
 * shape): the socket's callback runs on its home worker and may receive and
 * send there; what changes a worker-homed socket from another thread is
 * handed to the home.
 *
 * Each context has a command ring (MPSC, mod_sock's per-context state),
 * drained by the module's ctx_service hook, which ctx_kick() makes run on
 * the context's next loop (waking a sleeping worker):
 *  - a synchronous command (struct sock_cmd, on the poster's stack): fn
 *    runs on the home, then done is stored (release) and the poster, which
 *    waits on it with a futex, wakes. Posters are the control thread and
 *    application threads; a worker never waits (a worker's call on a socket
 *    homed elsewhere is refused).
 *  - a close to complete (a ring entry tagged TAG_CLOSE in its low bits,
 *    with the descriptor and generation, never a pointer), posted by a home
 *    worker whose callback closed its socket; the control thread unbinds
 *    it and frees it through stack_defer().
 *  - a front end's transmit ring to drain (TAG_TX, the descriptor and
 *    generation), posted by the application thread when the ring turned
 *    from drained to holding (l4/sock_front.c). A worker then keeps a
 *    datagram socket's ring on its poll list (struct sock_ctx, at most
 *    SOCK_FE_POLL): it looks at the ring every loop with tx_kicked left at
 *    1, so the application posts nothing while it keeps sending (no
 *    compare-and-swap on this ring, no exchange on svc_kick per send).
 *    After SOCK_FE_POLL_IDLE empty looks in a row the worker exchanges
 *    tx_kicked to 0, drains once more (what was pushed before the
 *    exchange: both exchanges acq_rel, the second sees the first) and
 *    lets the socket go; the next push kicks again. While it polls, the
 *    hook keeps svc_kick up, so the worker neither sleeps nor skips the
 *    hook (runtime/worker.c looks at svc_kick before it sleeps).
 * Entries name sockets by descriptor and generation, so one whose socket
 * was closed meanwhile finds nothing (sock_get() on the context: an RCU
 * reader) and is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "l4/socket.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

#define SOCK_CMD_RING 1024
#define TAG_CLOSE     1u
#define TAG_TX        3u

_Thread_local struct wctx *sock_cur;

struct sock_cmd {
        sock_cmd_fn fn;
        struct mpnet_sock *so;
        void *arg;
        int rc;
        _Atomic uint32_t done;
};

unsigned sock_caller(const struct mpnet_stack *s)
{
        if (sock_cur == NULL)
                return 0;
        /* A callback of another stack's socket is no context of s. */
        return sock_cur->s == s ? sock_cur->id : SOCK_CALLER_FOREIGN;
}

static struct sock_ctx *sctx(struct wctx *w)
{
        return w->mctx[MOD_sock];
}

static void futex_wait(_Atomic uint32_t *a, uint32_t v, long ns)
{
        struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};

        (void)syscall(SYS_futex, (uint32_t *)a, FUTEX_WAIT_PRIVATE, v, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *a)
{
        (void)syscall(SYS_futex, (uint32_t *)a, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Push v on context to's ring (waiting while it is full) and kick it. */
static void cmd_post(struct mpnet_stack *s, unsigned to, void *v)
{
        struct wctx *w = __atomic_load_n(&s->ctx[to], __ATOMIC_ACQUIRE);

        while (mpnet_ring_enqueue_burst(sctx(w)->cmd, &v, 1) != 1) {
                ctx_kick(s, to);
                sched_yield();
        }
        ctx_kick(s, to);
}

static int run_on(struct wctx *w, sock_cmd_fn fn, struct mpnet_sock *so, void *arg)
{
        struct wctx *prev = sock_cur;
        int rc;

        sock_cur = w;
        rc = fn(w, so, arg);
        sock_cur = prev;
        return rc;
}

int sock_home_call(struct mpnet_sock *so, sock_cmd_fn fn, void *arg)
{
        struct mpnet_stack *s = so->s;
        unsigned h = sock_home(so), me = sock_caller(so->s);
        struct wctx *w = __atomic_load_n(&s->ctx[h], __ATOMIC_ACQUIRE);
        struct sock_cmd c = {.fn = fn, .so = so, .arg = arg};

        if (h == me)
                return run_on(w, fn, so, arg);
        if (me != 0)
                return -EBUSY; /* a worker never waits for another context */
        /* No worker runs an orphaned context: the control thread (the
         * caller) does (stack_poll_slow), so it runs the command itself. */
        if (h < 64 && (s->ctx_orphans & (1ull << h)))
                return run_on(w, fn, so, arg);
        cmd_post(s, h, &c);
        while (atomic_load_explicit(&c.done, memory_order_acquire) == 0)
                futex_wait(&c.done, 0, 10 * 1000 * 1000);
        return c.rc;
}

static void *tag(const struct mpnet_sock *so, uintptr_t t)
{
        return (void *)((uintptr_t)so->gen << 32 | (uintptr_t)(uint32_t)so->fd << 2 | t);
}

void sock_post_close(struct mpnet_sock *so)
{
        cmd_post(so->s, 0, tag(so, TAG_CLOSE));
}

void sock_post_tx(struct mpnet_sock *so)
{
        cmd_post(so->s, sock_home(so), tag(so, TAG_TX));
}

int sock_ctl_call(struct mpnet_stack *s, sock_cmd_fn fn, struct mpnet_sock *so, void *arg)
{
        struct sock_cmd c = {.fn = fn, .so = so, .arg = arg};

        cmd_post(s, 0, &c);
        while (atomic_load_explicit(&c.done, memory_order_acquire) == 0)
                futex_wait(&c.done, 0, 10 * 1000 * 1000);
        return c.rc;
}

int sock_ctx_init(struct wctx *w, void *cs)
{
        struct sock_ctx *c = cs;

        (void)w;
        c->cmd = mpnet_ring_create(SOCK_CMD_RING, MPNET_RING_MPSC);
        return c->cmd != NULL ? 0 : -ENOMEM;
}

void sock_ctx_fini(struct wctx *w, void *cs)
{
        struct sock_ctx *c = cs;

        (void)w;
        /* The stack's end: no poster waits any more. */
        mpnet_ring_destroy(c->cmd);
}

/* The socket a command's tag names on context w, if it is still that one
 * and a front end homed here. */
static struct mpnet_sock *fe_of_tag(struct wctx *w, uintptr_t u)
{
        struct mpnet_sock *so = sock_get(w->s, (int)((u >> 2) & 0x3fffffff));

        if (so == NULL || so->gen != (uint32_t)(u >> 32) || so->fe == NULL ||
            sock_home(so) != w->id)
                return NULL;
        return so;
}

static unsigned fe_drain(struct wctx *w, struct mpnet_sock *so, bool hold)
{
        struct wctx *prev = sock_cur;
        unsigned n;

        sock_cur = w;
        n = sock_fe_tx_drain(w, so, hold);
        sock_cur = prev;
        return n;
}

/* A kick (TAG_TX) for so: a worker takes a datagram socket on its poll
 * list while there is room, holding tx_kicked at 1; else (the control
 * thread, a stream, a full list) it drains as the kick asks. */
static void fe_kicked(struct wctx *w, struct sock_ctx *c, struct mpnet_sock *so, uintptr_t u)
{
        bool hold = ctx_is_worker(w) && so->type != SOCK_STREAM;

        for (unsigned i = 0; hold && i < c->n_poll; i++) {
                if (c->poll[i] == u) {
                        c->poll_idle[i] = 0;
                        (void)fe_drain(w, so, true);
                        return;
                }
        }
        if (hold && c->n_poll < SOCK_FE_POLL) {
                c->poll[c->n_poll] = u;
                c->poll_idle[c->n_poll++] = 0;
        } else {
                hold = false;
        }
        (void)fe_drain(w, so, hold);
}

/* Every loop: the polled rings. One empty SOCK_FE_POLL_IDLE times in a
 * row is let go (tx_kicked to 0, one more drain); one closed, moved or
 * reused is dropped. */
static void fe_poll(struct wctx *w, struct sock_ctx *c)
{
        for (unsigned i = 0; i < c->n_poll;) {
                uintptr_t u = c->poll[i];
                struct mpnet_sock *so = fe_of_tag(w, u);
                bool keep = false;

                if (so == NULL) {
                        /* Moved to another home meanwhile: let it go
                         * there (closed or reused: nothing to do). */
                        so = sock_get(w->s, (int)((u >> 2) & 0x3fffffff));
                        if (so != NULL && so->gen == (uint32_t)(u >> 32) && so->fe != NULL)
                                sock_fe_tx_rehome(so);
                } else {
                        if (fe_drain(w, so, true) != 0)
                                c->poll_idle[i] = 0;
                        if (++c->poll_idle[i] < SOCK_FE_POLL_IDLE)
                                keep = true;
                        else
                                (void)fe_drain(w, so, false);
                }
                if (keep) {
                        i++;
                        continue;
                }
                c->n_poll--;
                c->poll[i] = c->poll[c->n_poll];
                c->poll_idle[i] = c->poll_idle[c->n_poll];
        }
        if (c->n_poll != 0)
                atomic_store_explicit(&w->svc_kick, 1, memory_order_relaxed);
}

uint64_t sock_ctx_service(struct wctx *w, void *cs, uint64_t now)
{
        struct sock_ctx *c = cs;
        void *v[32];
        unsigned n;

        if (c->n_poll != 0)
                fe_poll(w, c);

        /* At most a ring's worth a call: application threads refill the
         * ring as fast as this drains it; what is left comes next loop
         * (returning now), after the context's own queues and timers. */
        for (unsigned taken = 0;
             taken < SOCK_CMD_RING && (n = mpnet_ring_dequeue_burst(c->cmd, v, 32)) > 0;
             taken += n) {
                for (unsigned i = 0; i < n; i++) {
                        uintptr_t u = (uintptr_t)v[i];

                        if (u & 1) {
                                struct mpnet_sock *so =
                                    sock_get(w->s, (int)((u >> 2) & 0x3fffffff));

                                if (so == NULL || so->gen != (uint32_t)(u >> 32))
                                        continue; /* closed (perhaps reused) meanwhile */
                                if ((u & 3) == TAG_CLOSE) {
                                        /* The control thread's part of a
                                         * close a home worker began. */
                                        sock_close_ctl(w->s, so);
                                } else if (fe_of_tag(w, u) != NULL) {
                                        fe_kicked(w, c, so, u);
                                }
                        } else {
                                struct sock_cmd *cmd = v[i];

                                cmd->rc = run_on(w, cmd->fn, cmd->so, cmd->arg);
                                atomic_store_explicit(&cmd->done, 1, memory_order_release);
                                futex_wake(&cmd->done);
                        }
                }
        }
        return mpnet_ring_count(c->cmd) != 0 || c->n_poll != 0 ? now : MPNET_TIME_NEVER;
}

void sock_ctx_reset(struct wctx *w, void *cs)
{
        (void)w;
        (void)cs;
}
