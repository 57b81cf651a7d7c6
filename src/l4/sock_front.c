/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The thread-safe front end (mpnet_ts_*, include/mpnet/socket.h): sockets
 * used by application threads that are neither the control thread nor a
 * worker.
 *
 * Data path, no lock: each front-end socket has two SPSC rings of packet
 * pointers between the application thread and the socket's home context.
 *  - Transmit (application -> home): the application builds the datagram
 *    in a buffer of the stack's pool (its payload, and the destination
 *    address in the front of the headroom), pushes it, and when the ring
 *    turned from drained to holding (tx_kicked, exchanged) posts a kick
 *    naming the socket by descriptor and generation on the home's command
 *    ring (l4/sock_home.c), which wakes the home's worker if it sleeps. The
 *    home exchanges tx_kicked back to 0 before it drains, so a push after
 *    its drain posts again (both exchanges acq_rel: whichever comes second
 *    sees the other). A worker home instead keeps a kicked datagram
 *    socket on its poll list, looks at the ring every loop with
 *    tx_kicked left at 1 (no post per send while the application keeps
 *    sending), and exchanges it to 0 and drains once more only after the
 *    ring stayed empty a while (sock_home.c).
 *  - Receive (home -> application): UDP input on the home pushes the
 *    datagram (sock_enqueue), charges the receive buffer with a byte count
 *    only it writes (rx_in) against what the application took (rx_out,
 *    only the application writes it; the home reads it afresh only when
 *    its last copy says the buffer is full), so no read-modify-write and
 *    no read of the application's line per datagram; then a seq_cst fence
 *    and a look at the readiness word:
 *    EPOLLIN is raised (and the event sets told) only when it was clear,
 *    and a sleeping reader (SOCK_EV_WAITER) is woken with a futex. The
 *    reader lowers EPOLLIN (seq_cst) only after finding the ring empty and
 *    looks again after: the fence pairs with it, so either the home sees
 *    EPOLLIN clear and raises it, or the reader sees the datagram. A
 *    non-blocking receive lowers it when it finds the ring empty, a
 *    blocking one only before it sleeps (after its spin): EPOLLIN may so
 *    stay up with the ring empty while a blocking reader keeps up, which
 *    a level-triggered watcher sees as a spurious readiness (its
 *    non-blocking receive gets -EAGAIN and lowers it).
 *    Blocking receives sleep on the readiness word (futex), SO_RCVTIMEO
 *    bounding the wait.
 * Batches (mpnet_ts_sendmmsg, mpnet_ts_recvmmsg) use the same rings: a
 * send batch's buffers come from one bulk allocation, go on the ring in
 * one burst and kick the home once; a receive pops bursts and gives their
 * charge back with one rx_out store, waiting for the first datagram only.
 * Control calls (socket, bind, connect, options, close) are handed to the
 * control thread through its command ring and wait for it: they are not
 * the data path, and the control thread (which must be polling the stack)
 * keeps every control call its own.
 *
 * Life cycle: the handle is the socket's struct sock_fe, made with it and
 * freed with it (sock_free, after the grace period close leads to), with
 * whatever its rings still hold; the application stops using the handle
 * when it calls mpnet_ts_close().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mpnet/clock.h"
#include "mpnet/socket.h"
#include "mpnet/wire/udp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"

#define FE_TX_RING      256  /* datagrams an application may have queued to send */
#define FE_RX_RING      1024 /* above what the default SO_RCVBUF holds (95) */
#define FE_SPIN         2048 /* pauses a blocking receive spins before it sleeps */
#define FE_HEADROOM_MIN (32 + MPNET_UDP_HLEN + 40 + 14)
#define FE_MMSG_CHUNK   64 /* messages a batched call builds and pushes at once */

struct sock_fe {
        struct mpnet_stack *s;
        struct mpnet_sock *so;
        struct mpnet_ring *txr, *rxr;
        bool stream; /* SOCK_STREAM: the rings carry a byte stream */
        /* The application's. */
        bool nonblock;
        int64_t rcvtimeo_ns;      /* 0: wait without end */
        struct mpnet_pkt *rx_cur; /* stream: the buffer being read */
        uint32_t rx_cur_off;
        int rx_err; /* recvmmsg: an error kept for the next receive */
        _Alignas(MPNET_CACHE_LINE) _Atomic uint8_t tx_kicked;
        /* Stream, set by the home (seq_cst): the receive ring was full and
         * bytes wait in TCP's buffer; the reader that makes room clears it
         * and kicks. */
        _Atomic uint8_t rx_full;
        /* Stream, set by the home: the peer's FIN was read (after the last
         * byte was pushed), a connection error (a positive errno). */
        _Atomic uint8_t rx_eof;
        _Atomic int err;
        /* The home's: bytes charged to the receive buffer so far; stream:
         * what it did not yet hand to TCP (pend[0] from pend_off on). */
        _Alignas(MPNET_CACHE_LINE) uint64_t rx_in;
        /* The home's copy of rx_out, read afresh only when the receive
         * buffer looks full by it (rx_out only grows, so the copy
         * overstates what is held): the application's line is not read
         * per datagram. */
        uint64_t rx_out_seen;
        struct mpnet_pkt *pend[32];
        unsigned n_pend;
        uint32_t pend_off;
        /* The application's: bytes it took (release: the home reads it). */
        _Alignas(MPNET_CACHE_LINE) _Atomic uint64_t rx_out;
};

/* The destination in the front of a transmit buffer's headroom. */
struct fe_txd {
        uint8_t alen; /* 0: the peer */
        uint8_t pad[3];
        union {
                struct sockaddr_in sin;
                struct sockaddr_in6 sin6;
        } a;
};

static void fe_futex_wait(_Atomic uint32_t *a, uint32_t v, int64_t ns)
{
        struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};

        (void)syscall(SYS_futex, (uint32_t *)a, FUTEX_WAIT_PRIVATE, v, ns >= 0 ? &ts : NULL, NULL,
                      0);
}

static void fe_futex_wake(_Atomic uint32_t *a)
{
        (void)syscall(SYS_futex, (uint32_t *)a, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
}

/* ---- the home's side ---- */

/* After a push (or the stream's EOF or error, stored first): raise
 * EPOLLIN unless it is up, wake a reader asleep on the word. */
static void fe_rx_signal(struct mpnet_sock *so)
{
        uint32_t ev, old;

        /* Pairs with the reader's lowering of EPOLLIN (the file comment). */
        atomic_thread_fence(memory_order_seq_cst);
        ev = atomic_load_explicit(&so->events, memory_order_relaxed);
        if ((ev & EPOLLIN) && !(ev & SOCK_EV_WAITER))
                return;
        old = atomic_fetch_or(&so->events, EPOLLIN);
        if (!(old & EPOLLIN) && ev_src_watched(&so->ev))
                ev_src_notify(&so->ev, EPOLLIN);
        if (old & SOCK_EV_WAITER) {
                atomic_fetch_and(&so->events, ~SOCK_EV_WAITER);
                fe_futex_wake(&so->events);
        }
}

bool sock_fe_enqueue(struct mpnet_sock *so, struct mpnet_pkt *p, uint32_t charge)
{
        struct sock_fe *fe = so->fe;
        uint32_t cap = atomic_load_explicit(&so->rcvbuf, memory_order_relaxed);
        uint64_t held = fe->rx_in - fe->rx_out_seen;

        if (held != 0 && held + charge > cap) {
                /* Full by the copy: what has the application taken since? */
                fe->rx_out_seen = atomic_load_explicit(&fe->rx_out, memory_order_acquire);
                held = fe->rx_in - fe->rx_out_seen;
        }
        if ((so->flags & (SOF_SHUT_RD | SOF_CLOSED)) || (held != 0 && held + charge > cap)) {
                mpnet_pkt_free(p);
                return false;
        }
        mpnet_pkt_adj(p, MPNET_UDP_HLEN);
        if (mpnet_ring_enqueue_burst(fe->rxr, (void *const *)&p, 1) != 1) {
                mpnet_pkt_free(p);
                return false;
        }
        fe->rx_in += charge;
        fe_rx_signal(so);
        return true;
}

/* ---- the home's side of a stream (TCP) ---- */

/* A connection error for both directions, once (TCP's calls take it). */
static void fe_err_take(struct sock_fe *fe, struct mpnet_sock *so)
{
        if (so->err != 0) {
                atomic_store(&fe->err, so->err);
                so->err = 0;
        }
}

/* The application's bytes to TCP's send buffer: pend, then the ring, at
 * most a ring's worth a call (what the application pushes meanwhile
 * kicks again), until the send buffer is full (room, which an
 * acknowledgement makes, brings the home back: sock_fe_pump). */
static void fe_stream_tx(struct wctx *w, struct sock_fe *fe, struct mpnet_sock *so)
{
        for (unsigned round = 0; round <= FE_TX_RING / 32; round++) {
                struct iovec iov[32];
                struct msghdr m = {.msg_iov = iov};
                ssize_t n;

                if (fe->n_pend == 0) {
                        fe->n_pend = mpnet_ring_dequeue_burst(fe->txr, (void **)fe->pend, 32);
                        fe->pend_off = 0;
                        if (fe->n_pend == 0)
                                return;
                }
                for (unsigned i = 0; i < fe->n_pend; i++) {
                        uint32_t off = i == 0 ? fe->pend_off : 0;

                        iov[i].iov_base = fe->pend[i]->data + off;
                        iov[i].iov_len = fe->pend[i]->len - off;
                }
                m.msg_iovlen = fe->n_pend;
                n = tcp_sendmsg(w->s, so, &m, 0);
                if (n == -EAGAIN)
                        return; /* full, or not yet established */
                if (n < 0) {
                        /* Gone or shut down: what is queued cannot go. */
                        int expect = 0;

                        atomic_compare_exchange_strong(&fe->err, &expect, (int)-n);
                        for (unsigned i = 0; i < fe->n_pend; i++)
                                mpnet_pkt_free(fe->pend[i]);
                        fe->n_pend = 0;
                        fe_rx_signal(so);
                        return;
                }
                {
                        unsigned k = 0;
                        uint64_t left = (uint64_t)n + fe->pend_off;

                        while (k < fe->n_pend && left >= fe->pend[k]->len) {
                                left -= fe->pend[k]->len;
                                mpnet_pkt_free(fe->pend[k]);
                                k++;
                        }
                        memmove(fe->pend, fe->pend + k, (fe->n_pend - k) * sizeof(fe->pend[0]));
                        fe->n_pend -= k;
                        fe->pend_off = (uint32_t)left;
                        if (fe->n_pend != 0)
                                return; /* the send buffer is full */
                }
        }
}

/* TCP's received bytes to the receive ring, while the application's
 * share of the receive buffer (SO_RCVBUF) has room. */
static void fe_stream_rx(struct wctx *w, struct sock_fe *fe, struct mpnet_sock *so)
{
        uint32_t cap = atomic_load_explicit(&so->rcvbuf, memory_order_relaxed);
        bool pushed = false;

        if (atomic_load_explicit(&fe->rx_eof, memory_order_relaxed) ||
            atomic_load_explicit(&fe->err, memory_order_relaxed) != 0)
                goto out;
        for (;;) {
                uint64_t held = fe->rx_in - atomic_load(&fe->rx_out);
                struct iovec iov;
                struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
                struct mpnet_pkt *p;
                ssize_t n;

                if (held >= cap || mpnet_ring_count(fe->rxr) >= mpnet_ring_capacity(fe->rxr)) {
                        /* No room (SO_RCVBUF's bytes, or the ring's
                         * buffers): Dekker with the reader's rx_out store
                         * and rx_full load, one of the two sees the other. */
                        atomic_store(&fe->rx_full, 1);
                        if (fe->rx_in - atomic_load(&fe->rx_out) >= cap ||
                            mpnet_ring_count(fe->rxr) >= mpnet_ring_capacity(fe->rxr))
                                break;
                        atomic_store(&fe->rx_full, 0);
                        continue;
                }
                p = mpnet_pkt_alloc(w->s->pool);
                if (p == NULL)
                        break; /* TCP keeps the bytes; the next segment retries */
                iov.iov_base = p->data;
                iov.iov_len = mpnet_pkt_tailroom(p);
                if (iov.iov_len > cap - held)
                        iov.iov_len = cap - held;
                n = tcp_recvmsg(w->s, so, &m, 0);
                if (n <= 0) {
                        mpnet_pkt_free(p);
                        if (n == 0)
                                atomic_store(&fe->rx_eof, 1);
                        else if (n != -EAGAIN)
                                atomic_store(&fe->err, (int)-n);
                        pushed |= n != -EAGAIN;
                        break;
                }
                mpnet_pkt_append(p, (uint32_t)n);
                if (mpnet_ring_enqueue_burst(fe->rxr, (void *const *)&p, 1) != 1) {
                        /* Cannot be: room was looked at above, and only
                         * this thread pushes. */
                        mpnet_pkt_free(p);
                        atomic_store(&fe->err, EIO);
                        pushed = true;
                        break;
                }
                fe->rx_in += (uint64_t)n;
                pushed = true;
        }
out:
        if (pushed)
                fe_rx_signal(so);
}

void sock_fe_pump(struct wctx *w, struct mpnet_sock *so)
{
        struct sock_fe *fe = so->fe;

        fe_err_take(fe, so);
        fe_stream_rx(w, fe, so);
        fe_stream_tx(w, fe, so);
        if (atomic_load_explicit(&fe->err, memory_order_relaxed) != 0)
                fe_rx_signal(so);
}

unsigned sock_fe_tx_drain(struct wctx *w, struct mpnet_sock *so, bool hold)
{
        struct sock_fe *fe = so->fe;
        struct mpnet_pkt *v[32];
        unsigned n, taken = 0;

        if (!hold || fe->stream)
                atomic_exchange_explicit(&fe->tx_kicked, 0, memory_order_acq_rel);
        if (fe->stream) {
                sock_fe_pump(w, so);
                return 0;
        }
        /* At most what the ring held at the exchange: the application's
         * later pushes kick again (a bounded drain: docs/MP-SAFETY.md). */
        for (unsigned round = 0;
             round < FE_TX_RING / 32 && (n = mpnet_ring_dequeue_burst(fe->txr, (void **)v, 32)) > 0;
             round++) {
                taken += n;
                for (unsigned i = 0; i < n; i++) {
                        struct fe_txd d;

                        memcpy(&d, mpnet_pkt_buf(v[i]), sizeof(d));
                        if (so->flags & SOF_CLOSED) {
                                mpnet_pkt_free(v[i]);
                                continue;
                        }
                        /* An error here drops and counts (send_common),
                         * as an asynchronous one: the call returned. */
                        (void)sock_send_home(so, v[i], d.alen != 0 ? (struct sockaddr *)&d.a : NULL,
                                             d.alen);
                }
        }
        return taken;
}

void sock_fe_tx_rehome(struct mpnet_sock *so)
{
        struct sock_fe *fe = so->fe;

        atomic_exchange_explicit(&fe->tx_kicked, 0, memory_order_acq_rel);
        if (mpnet_ring_count(fe->txr) != 0 &&
            atomic_exchange_explicit(&fe->tx_kicked, 1, memory_order_acq_rel) == 0)
                sock_post_tx(so);
}

void sock_fe_close_flush(struct wctx *w, struct mpnet_sock *so)
{
        if (so->fe != NULL && so->fe->stream)
                fe_stream_tx(w, so->fe, so);
}

void sock_fe_free(struct mpnet_sock *so)
{
        struct sock_fe *fe = so->fe;
        struct mpnet_pkt *p;

        while (mpnet_ring_dequeue_burst(fe->txr, (void **)&p, 1) == 1)
                mpnet_pkt_free(p);
        while (mpnet_ring_dequeue_burst(fe->rxr, (void **)&p, 1) == 1)
                mpnet_pkt_free(p);
        for (unsigned i = 0; i < fe->n_pend; i++)
                mpnet_pkt_free(fe->pend[i]);
        mpnet_pkt_free(fe->rx_cur);
        mpnet_ring_destroy(fe->txr);
        mpnet_ring_destroy(fe->rxr);
        free(fe);
}

/* ---- control calls: on the control thread ---- */

struct fe_open {
        int domain, type, protocol;
        struct sock_fe *fe;
};

static int fe_open_cmd(struct wctx *w, struct mpnet_sock *unused, void *arg)
{
        struct fe_open *o = arg;
        struct mpnet_sock *so;
        int fd = mpnet_socket(w->s, o->domain, o->type, o->protocol);

        (void)unused;
        if (fd < 0)
                return fd;
        so = sock_get(w->s, fd);
        /* Before any PCB entry leads input to it. */
        so->fe = o->fe;
        o->fe->so = so;
        return fd;
}

int mpnet_ts_socket(struct mpnet_stack *s, int domain, int type, int protocol,
                    struct mpnet_tsock **out)
{
        struct fe_open o = {domain, type, protocol, NULL};
        int fd;

        if (out == NULL)
                return -EFAULT;
        *out = NULL;
        o.fe = aligned_calloc(sizeof(*o.fe));
        if (o.fe == NULL)
                return -ENOMEM;
        o.fe->s = s;
        o.fe->nonblock = (type & SOCK_NONBLOCK) != 0;
        o.fe->stream = (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM;
        o.fe->txr = mpnet_ring_create(FE_TX_RING, MPNET_RING_SPSC);
        o.fe->rxr = mpnet_ring_create(FE_RX_RING, MPNET_RING_SPSC);
        if (o.fe->txr == NULL || o.fe->rxr == NULL) {
                mpnet_ring_destroy(o.fe->txr);
                mpnet_ring_destroy(o.fe->rxr);
                free(o.fe);
                return -ENOMEM;
        }
        fd = sock_ctl_call(s, fe_open_cmd, NULL, &o);
        if (fd < 0) {
                mpnet_ring_destroy(o.fe->txr);
                mpnet_ring_destroy(o.fe->rxr);
                free(o.fe);
                return fd;
        }
        *out = (struct mpnet_tsock *)o.fe;
        return fd;
}

int mpnet_ts_fd(const struct mpnet_tsock *ts)
{
        return ((const struct sock_fe *)ts)->so->fd;
}

struct fe_call {
        int op; /* 0 bind, 1 connect, 2 setsockopt, 3 getsockopt, 4 close, 5 linger */
        const struct sockaddr *a;
        socklen_t alen;
        int level, name;
        const void *val;
        void *oval;
        socklen_t len, *olen;
};

/* A lingering close's state, the application thread's (its steps run on
 * the home). */
struct fe_linger {
        uint64_t end; /* the home's clock: when the time runs out */
        bool shut;    /* our FIN queued */
};

/* On the home: one step of a close that lingers (SO_LINGER with a time,
 * a blocking socket): what the rings hold goes to the send buffer, then
 * our FIN. @return 1 once our data and FIN are acknowledged (or there is
 * nothing to wait for), 0 while waiting, -ETIMEDOUT once the time
 * passed. */
static int fe_linger_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        struct fe_linger *l = arg;
        struct sock_fe *fe = so->fe;
        struct tcp_conn *c = so->tcp;

        if (!(so->tcpo.flags & SOT_LINGER) || so->tcpo.linger == 0 || (so->flags & SOF_LISTEN) ||
            c == NULL || c->d == NULL)
                return 1;
        if (l->end == 0)
                l->end = ctx_now(w) + (uint64_t)so->tcpo.linger * MPNET_NS_PER_S;
        fe_stream_tx(w, fe, so);
        if (!l->shut && fe->n_pend == 0 && mpnet_ring_count(fe->txr) == 0) {
                (void)tcp_shutdown(w->s, so, SHUT_WR);
                l->shut = true;
        }
        if (l->shut && (so->tcp == NULL || tcp_opt_linger_done(c)))
                return 1;
        return ctx_now(w) >= l->end ? -ETIMEDOUT : 0;
}

static int fe_call_cmd(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        struct fe_call *c = arg;
        struct mpnet_stack *s = w->s;

        switch (c->op) {
        case 0:
                return mpnet_bind(s, so->fd, c->a, c->alen);
        case 1:
                return mpnet_connect(s, so->fd, c->a, c->alen);
        case 2:
                return mpnet_setsockopt(s, so->fd, c->level, c->name, c->val, c->len);
        case 3:
                return mpnet_getsockopt(s, so->fd, c->level, c->name, c->oval, c->olen);
        case 5:
                return so->closing ? -EBADF : sock_home_call(so, fe_linger_home, c->oval);
        default:
                return mpnet_close(s, so->fd);
        }
}

static int fe_call(struct mpnet_tsock *ts, struct fe_call *c)
{
        struct sock_fe *fe = (struct sock_fe *)ts;

        if (ts == NULL)
                return -EBADF;
        return sock_ctl_call(fe->s, fe_call_cmd, fe->so, c);
}

int mpnet_ts_bind(struct mpnet_tsock *ts, const struct sockaddr *addr, socklen_t len)
{
        return fe_call(ts, &(struct fe_call){.op = 0, .a = addr, .alen = len});
}

int mpnet_ts_connect(struct mpnet_tsock *ts, const struct sockaddr *addr, socklen_t len)
{
        struct sock_fe *fe = (struct sock_fe *)ts;
        int rc = fe_call(ts, &(struct fe_call){.op = 1, .a = addr, .alen = len}), err = 0;
        socklen_t elen = sizeof(err);

        if (rc != -EINPROGRESS || !fe->stream || fe->nonblock)
                return rc;
        /* A blocking stream: until established (EPOLLOUT) or failed. Not
         * the data path: the readiness word is looked at every 100 us. */
        while (!(atomic_load(&fe->so->events) & (EPOLLOUT | EPOLLERR | EPOLLHUP)) &&
               atomic_load(&fe->err) == 0)
                usleep(100);
        if ((err = atomic_load(&fe->err)) != 0)
                return -err;
        rc = mpnet_ts_getsockopt(ts, SOL_SOCKET, SO_ERROR, &err, &elen);
        return rc != 0 ? rc : -err;
}

int mpnet_ts_setsockopt(struct mpnet_tsock *ts, int level, int name, const void *val, socklen_t len)
{
        struct sock_fe *fe = (struct sock_fe *)ts;

        if (ts != NULL && level == SOL_SOCKET && name == SO_RCVTIMEO) {
                struct timeval tv;

                if (val == NULL || len < (socklen_t)sizeof(tv))
                        return -EINVAL;
                memcpy(&tv, val, sizeof(tv));
                if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
                        return -EDOM; /* as Linux */
                fe->rcvtimeo_ns = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
                return 0;
        }
        return fe_call(
            ts, &(struct fe_call){.op = 2, .level = level, .name = name, .val = val, .len = len});
}

int mpnet_ts_getsockopt(struct mpnet_tsock *ts, int level, int name, void *val, socklen_t *len)
{
        return fe_call(
            ts, &(struct fe_call){.op = 3, .level = level, .name = name, .oval = val, .olen = len});
}

/* A blocking stream with SO_LINGER's time waits here, in the application
 * thread, until its data and FIN are acknowledged or the time (on the
 * stack's clock) passed; then a reset (the BSDs' close). The control
 * thread never waits: its close, and a non-blocking socket's, linger in
 * the background (tcp_close_home). */
int mpnet_ts_close(struct mpnet_tsock *ts)
{
        struct sock_fe *fe = (struct sock_fe *)ts;

        if (ts != NULL && fe->stream && !fe->nonblock) {
                struct fe_linger l = {0};
                int r;

                while ((r = fe_call(ts, &(struct fe_call){.op = 5, .oval = &l})) == 0)
                        usleep(1000); /* not the data path: a look a millisecond */
                if (r == -ETIMEDOUT) {
                        struct linger z = {.l_onoff = 1, .l_linger = 0};

                        (void)fe_call(ts, &(struct fe_call){.op = 2,
                                                            .level = SOL_SOCKET,
                                                            .name = SO_LINGER,
                                                            .val = &z,
                                                            .len = sizeof(z)});
                }
        }
        return fe_call(ts, &(struct fe_call){.op = 4});
}

/* ---- the data path: the application thread ---- */

/* Have the home look at the socket (its transmit ring, a stream's
 * receive room): one post per turn of tx_kicked from 0 (the home
 * exchanges it back before it looks). */
static void fe_kick(struct sock_fe *fe)
{
        if (atomic_exchange_explicit(&fe->tx_kicked, 1, memory_order_acq_rel) == 0)
                sock_post_tx(fe->so);
}

/* A stream: the bytes in buffers of the pool, each pushed on the transmit
 * ring (a full ring is the send buffer's limit: wait, or what went). */
static ssize_t fe_stream_send(struct sock_fe *fe, const void *buf, size_t len, int flags)
{
        size_t off = 0;
        int err = atomic_load_explicit(&fe->err, memory_order_relaxed);

        if (err != 0)
                return -err;
        if (len > 0 && buf == NULL)
                return -EFAULT;
        while (off < len) {
                struct mpnet_pkt *p = mpnet_pkt_alloc(fe->s->pool);
                uint32_t n;

                if (p == NULL) {
                        if (off > 0)
                                break;
                        return -ENOBUFS;
                }
                n = len - off < mpnet_pkt_tailroom(p) ? (uint32_t)(len - off)
                                                      : mpnet_pkt_tailroom(p);
                memcpy(mpnet_pkt_append(p, n), (const uint8_t *)buf + off, n);
                while (mpnet_ring_enqueue_burst(fe->txr, (void *const *)&p, 1) != 1) {
                        if (fe->nonblock || (flags & MSG_DONTWAIT) ||
                            (err = atomic_load_explicit(&fe->err, memory_order_relaxed)) != 0) {
                                mpnet_pkt_free(p);
                                if (off > 0)
                                        goto out;
                                return err != 0 ? -err : -EAGAIN;
                        }
                        fe_kick(fe);
                        sched_yield(); /* the home takes it as the send buffer drains */
                }
                off += n;
        }
out:
        fe_kick(fe);
        return (ssize_t)off;
}

ssize_t mpnet_ts_sendto(struct mpnet_tsock *ts, const void *buf, size_t len, int flags,
                        const struct sockaddr *addr, socklen_t alen)
{
        struct sock_fe *fe = (struct sock_fe *)ts;
        struct mpnet_pkt *head = NULL, **tail = &head;
        struct fe_txd d = {0};
        size_t left = len, off = 0;
        uint16_t nseg = 0;

        if (ts == NULL)
                return -EBADF;
        if (fe->stream)
                return fe_stream_send(fe, buf, len, flags);
        if (len > 0 && buf == NULL)
                return -EFAULT;
        if (len > 65527)
                return -EMSGSIZE;
        if (addr != NULL) {
                if (alen > (socklen_t)sizeof(d.a) || alen < (socklen_t)sizeof(sa_family_t))
                        return -EINVAL;
                memcpy(&d.a, addr, alen);
                d.alen = (uint8_t)alen;
        }
        do {
                struct mpnet_pkt *p = mpnet_pkt_alloc(fe->s->pool);
                uint32_t n;

                if (p == NULL) {
                        mpnet_pkt_free(head);
                        return -ENOBUFS;
                }
                if (head != NULL)
                        p->data = mpnet_pkt_buf(p);
                n = left < mpnet_pkt_tailroom(p) ? (uint32_t)left : mpnet_pkt_tailroom(p);
                memcpy(mpnet_pkt_append(p, n), (const uint8_t *)buf + off, n);
                off += n;
                left -= n;
                *tail = p;
                tail = &p->next;
                nseg++;
        } while (left > 0);
        head->pkt_len = (uint32_t)len;
        head->nb_segs = nseg;
        if (mpnet_pkt_headroom(head) < FE_HEADROOM_MIN) {
                mpnet_pkt_free(head);
                return -ENOBUFS;
        }
        memcpy(mpnet_pkt_buf(head), &d, sizeof(d));
        while (mpnet_ring_enqueue_burst(fe->txr, (void *const *)&head, 1) != 1) {
                if (fe->nonblock || (flags & MSG_DONTWAIT)) {
                        mpnet_pkt_free(head);
                        return -EAGAIN;
                }
                sched_yield(); /* the home drains it on its next loop */
        }
        fe_kick(fe);
        return (ssize_t)len;
}

/* The first datagram of the receive ring, or NULL once it is empty, with
 * EPOLLIN lowered when lower (see the file comment). A blocking receive
 * does not lower it here: fe_rx_wait() does, before it sleeps, so a reader
 * that keeps up with the home neither lowers it nor has the home raise it
 * again per datagram (two read-modify-writes of the readiness word, whose
 * line would cross between the cores each time). */
static struct mpnet_pkt *fe_pop(struct sock_fe *fe, bool lower)
{
        struct mpnet_sock *so = fe->so;
        struct mpnet_pkt *p;

        for (;;) {
                if (mpnet_ring_dequeue_burst(fe->rxr, (void **)&p, 1) == 1) {
                        atomic_store_explicit(
                            &fe->rx_out,
                            atomic_load_explicit(&fe->rx_out, memory_order_relaxed) +
                                (uint64_t)p->nb_segs * SOCK_TRUESIZE,
                            memory_order_release);
                        return p;
                }
                if (!lower || !(atomic_load_explicit(&so->events, memory_order_relaxed) & EPOLLIN))
                        return NULL;
                atomic_fetch_and(&so->events, ~(uint32_t)EPOLLIN);
                if (mpnet_ring_count(fe->rxr) == 0)
                        return NULL;
                /* Came meanwhile: readiness stays true. */
                atomic_fetch_or(&so->events, EPOLLIN);
        }
}

/* Whether a stream has nothing more to wait for: EOF or an error. */
static bool fe_stream_end(struct sock_fe *fe)
{
        return atomic_load(&fe->rx_eof) || atomic_load(&fe->err) != 0;
}

/* Wait for the receive ring (or, stream, its end): spin a while, then
 * sleep on the readiness word. @return 0, or -EAGAIN once end (0: none)
 * passed. */
static int fe_rx_wait(struct sock_fe *fe, uint64_t *end)
{
        struct mpnet_sock *so = fe->so;
        uint64_t now = mpnet_monotonic_ns();
        uint32_t ev;

        if (fe->rcvtimeo_ns != 0 && *end == 0)
                *end = now + (uint64_t)fe->rcvtimeo_ns;
        if (*end != 0 && now >= *end)
                return -EAGAIN; /* SO_RCVTIMEO ran out, as Linux */
        /* Bytes in flight come within microseconds: spin a while before
         * the futex's two system calls. */
        for (unsigned i = 0; i < FE_SPIN && mpnet_ring_count(fe->rxr) == 0; i++)
                __builtin_ia32_pause();
        if (mpnet_ring_count(fe->rxr) != 0)
                return 0;
        /* Datagrams: the blocking receive left EPOLLIN up (fe_pop); lower
         * it before sleeping, then look again (the file comment). */
        if (!fe->stream && (atomic_load_explicit(&so->events, memory_order_relaxed) & EPOLLIN)) {
                atomic_fetch_and(&so->events, ~(uint32_t)EPOLLIN);
                if (mpnet_ring_count(fe->rxr) != 0) {
                        atomic_fetch_or(&so->events, EPOLLIN);
                        return 0;
                }
        }
        ev = atomic_fetch_or(&so->events, SOCK_EV_WAITER) | SOCK_EV_WAITER;
        if ((ev & EPOLLIN) || mpnet_ring_count(fe->rxr) != 0 || (fe->stream && fe_stream_end(fe)))
                return 0;
        fe_futex_wait(&so->events, ev, *end != 0 ? (int64_t)(*end - now) : -1);
        return 0;
}

/* A stream's bytes: from the buffer being read and the ring, as many as
 * fit buf; the home is kicked when it had stopped for want of room. */
static ssize_t fe_stream_recv(struct sock_fe *fe, void *buf, size_t len, int flags)
{
        struct mpnet_sock *so = fe->so;
        uint64_t end = 0;
        size_t got = 0;

        if (len > 0 && buf == NULL)
                return -EFAULT;
        if (flags & MSG_TRUNC)
                return -EOPNOTSUPP;
        for (;;) {
                while (got < len) {
                        struct mpnet_pkt *p = fe->rx_cur;
                        uint32_t n;

                        if (p == NULL) {
                                if (mpnet_ring_dequeue_burst(fe->rxr, (void **)&p, 1) != 1)
                                        break;
                                fe->rx_cur = p;
                                fe->rx_cur_off = 0;
                        }
                        n = p->len - fe->rx_cur_off;
                        if (n > len - got)
                                n = (uint32_t)(len - got);
                        memcpy((uint8_t *)buf + got, p->data + fe->rx_cur_off, n);
                        got += n;
                        fe->rx_cur_off += n;
                        if (fe->rx_cur_off == p->len) {
                                mpnet_pkt_free(p);
                                fe->rx_cur = NULL;
                        }
                }
                if (got > 0 || len == 0)
                        break;
                /* Empty: lower EPOLLIN, then look once more (fe_pop). */
                if (atomic_load_explicit(&so->events, memory_order_relaxed) & EPOLLIN) {
                        atomic_fetch_and(&so->events, ~(uint32_t)EPOLLIN);
                        if (mpnet_ring_count(fe->rxr) != 0) {
                                atomic_fetch_or(&so->events, EPOLLIN);
                                continue;
                        }
                }
                if (fe_stream_end(fe)) {
                        int err;

                        if (mpnet_ring_count(fe->rxr) != 0)
                                continue; /* pushed before the end was */
                        err = atomic_load(&fe->err);
                        /* The end stays readable (EOF, as a kernel socket). */
                        atomic_fetch_or(&so->events, EPOLLIN);
                        return err != 0 && !atomic_load(&fe->rx_eof) ? -err : 0;
                }
                if (fe->nonblock || (flags & MSG_DONTWAIT))
                        return -EAGAIN;
                if (fe_rx_wait(fe, &end) != 0)
                        return -EAGAIN;
        }
        if (got > 0) {
                /* Dekker with the home's rx_full store (fe_stream_rx). */
                atomic_store(&fe->rx_out, atomic_load_explicit(&fe->rx_out, memory_order_relaxed) +
                                              (uint64_t)got);
                if (atomic_load(&fe->rx_full) && atomic_exchange(&fe->rx_full, 0))
                        fe_kick(fe);
        }
        return (ssize_t)got;
}

ssize_t mpnet_ts_recvfrom(struct mpnet_tsock *ts, void *buf, size_t len, int flags,
                          struct sockaddr *addr, socklen_t *alen)
{
        struct sock_fe *fe = (struct sock_fe *)ts;
        struct mpnet_sock *so;
        struct mpnet_pkt *p;
        uint64_t end = 0;
        uint32_t n;
        bool nb;

        if (ts == NULL)
                return -EBADF;
        nb = fe->nonblock || (flags & MSG_DONTWAIT);
        if (flags & (MSG_PEEK | MSG_OOB | MSG_ERRQUEUE))
                return -EOPNOTSUPP;
        if (addr != NULL && alen == NULL)
                return -EFAULT;
        so = fe->so;
        if (fe->stream) {
                ssize_t r = fe_stream_recv(fe, buf, len, flags);

                if (r >= 0 && addr != NULL)
                        *alen = 0; /* a stream names no source (Linux's TCP) */
                return r;
        }
        while ((p = fe_pop(fe, nb)) == NULL) {
                if (nb)
                        return -EAGAIN;
                if (fe_rx_wait(fe, &end) != 0)
                        return -EAGAIN;
        }
        n = len < p->pkt_len ? (uint32_t)len : p->pkt_len;
        if (n > 0 && buf == NULL) {
                mpnet_pkt_free(p);
                return -EFAULT;
        }
        mpnet_pkt_read(p, 0, buf, n);
        if (addr != NULL)
                sock_rx_from(so, p, addr, alen);
        len = (flags & MSG_TRUNC) ? p->pkt_len : n;
        mpnet_pkt_free(p);
        return (ssize_t)len;
}

/* ---- batches (mpnet_ts_sendmmsg, mpnet_ts_recvmmsg) ---- */

/* A datagram's length from its iovecs. @return 0 or a negative errno. */
static int fe_iov_len(const struct msghdr *m, size_t *len)
{
        size_t t = 0;

        if (m->msg_iovlen > 0 && m->msg_iov == NULL)
                return -EFAULT;
        for (size_t i = 0; i < m->msg_iovlen; i++) {
                if (m->msg_iov[i].iov_len > 0 && m->msg_iov[i].iov_base == NULL)
                        return -EFAULT;
                t += m->msg_iov[i].iov_len;
                if (t > 65527)
                        return -EMSGSIZE;
        }
        *len = t;
        return 0;
}

/* Message m in p (a fresh buffer) and, past its tailroom, buffers chained
 * to it; the destination in the front of the headroom (struct fe_txd).
 * @return 0 or a negative errno (p then still the caller's to free). */
static int fe_msg_build(struct sock_fe *fe, const struct msghdr *m, struct mpnet_pkt *p)
{
        struct fe_txd d = {0};
        struct mpnet_pkt *seg = p;
        size_t len, iv = 0, ivoff = 0;
        uint16_t nseg = 1;
        int err = fe_iov_len(m, &len);

        if (err != 0)
                return err;
        if (m->msg_controllen != 0)
                return -EOPNOTSUPP; /* no ancillary data through the rings */
        if (m->msg_name != NULL && m->msg_namelen != 0) {
                if (m->msg_namelen > (socklen_t)sizeof(d.a) ||
                    m->msg_namelen < (socklen_t)sizeof(sa_family_t))
                        return -EINVAL;
                memcpy(&d.a, m->msg_name, m->msg_namelen);
                d.alen = (uint8_t)m->msg_namelen;
        }
        if (mpnet_pkt_headroom(p) < FE_HEADROOM_MIN)
                return -ENOBUFS;
        for (size_t left = len; left > 0;) {
                uint32_t room = mpnet_pkt_tailroom(seg), n = left < room ? (uint32_t)left : room;
                uint8_t *b = mpnet_pkt_append(seg, n);

                for (uint32_t k = 0; k < n;) {
                        const struct iovec *v = &m->msg_iov[iv];
                        size_t c = v->iov_len - ivoff < n - k ? v->iov_len - ivoff : n - k;

                        memcpy(b + k, (const uint8_t *)v->iov_base + ivoff, c);
                        k += (uint32_t)c;
                        ivoff += c;
                        if (ivoff == v->iov_len)
                                iv++, ivoff = 0;
                }
                left -= n;
                if (left > 0) {
                        struct mpnet_pkt *q = mpnet_pkt_alloc(fe->s->pool);

                        if (q == NULL)
                                return -ENOBUFS;    /* p's chain goes with p */
                        q->data = mpnet_pkt_buf(q); /* no headers ahead */
                        seg->next = q;
                        seg = q;
                        nseg++;
                }
        }
        p->pkt_len = (uint32_t)len;
        p->nb_segs = nseg;
        memcpy(mpnet_pkt_buf(p), &d, sizeof(d));
        return 0;
}

/* Push v[0..n) on the transmit ring, waiting for room unless told not
 * to. @return how many went (the rest is freed). */
static unsigned fe_tx_push(struct sock_fe *fe, struct mpnet_pkt **v, unsigned n, int flags)
{
        unsigned done = 0;

        while (done < n) {
                done += mpnet_ring_enqueue_burst(fe->txr, (void *const *)(v + done), n - done);
                if (done == n)
                        break;
                if (fe->nonblock || (flags & MSG_DONTWAIT)) {
                        mpnet_pkt_free_bulk(v + done, n - done);
                        break;
                }
                fe_kick(fe); /* what is queued must go for room to come */
                sched_yield();
        }
        return done;
}

int mpnet_ts_sendmmsg(struct mpnet_tsock *ts, struct mpnet_mmsghdr *vec, unsigned int vlen,
                      int flags)
{
        struct sock_fe *fe = (struct sock_fe *)ts;
        unsigned sent = 0;
        int err = 0;

        if (ts == NULL)
                return -EBADF;
        if (fe->stream)
                return -EOPNOTSUPP;
        if (vlen > MPNET_MMSG_MAX)
                vlen = MPNET_MMSG_MAX;
        if (vec == NULL && vlen > 0)
                return -EFAULT;
        while (sent < vlen && err == 0) {
                struct mpnet_pkt *v[FE_MMSG_CHUNK];
                unsigned want = vlen - sent < FE_MMSG_CHUNK ? vlen - sent : FE_MMSG_CHUNK;
                unsigned got = mpnet_pkt_alloc_bulk(fe->s->pool, v, want), built = 0, pushed;

                if (got == 0)
                        err = -ENOBUFS;
                for (; built < got; built++) {
                        err = fe_msg_build(fe, &vec[sent + built].msg_hdr, v[built]);
                        if (err != 0)
                                break;
                        vec[sent + built].msg_len = v[built]->pkt_len;
                }
                if (built < got)
                        mpnet_pkt_free_bulk(v + built, got - built);
                if (got < want && err == 0)
                        err = -ENOBUFS; /* the next message's: the pool ran dry */
                pushed = fe_tx_push(fe, v, built, flags);
                sent += pushed;
                if (pushed < built) {
                        err = -EAGAIN;
                        break;
                }
        }
        if (sent > 0)
                fe_kick(fe); /* once a batch: the home drains all of it */
        /* As Linux: the messages that went, else the first one's error. */
        return sent > 0 ? (int)sent : err;
}

/* Up to n datagrams off the receive ring, their buffers' charge given
 * back with one store; 0 once it is empty, with EPOLLIN lowered when lower
 * (fe_pop). */
static unsigned fe_pop_bulk(struct sock_fe *fe, struct mpnet_pkt **v, unsigned n, bool lower)
{
        struct mpnet_sock *so = fe->so;

        for (;;) {
                unsigned got = mpnet_ring_dequeue_burst(fe->rxr, (void **)v, n);

                if (got > 0) {
                        uint64_t charge = 0;

                        for (unsigned i = 0; i < got; i++)
                                charge += (uint64_t)v[i]->nb_segs * SOCK_TRUESIZE;
                        atomic_store_explicit(
                            &fe->rx_out,
                            atomic_load_explicit(&fe->rx_out, memory_order_relaxed) + charge,
                            memory_order_release);
                        return got;
                }
                if (!lower || !(atomic_load_explicit(&so->events, memory_order_relaxed) & EPOLLIN))
                        return 0;
                atomic_fetch_and(&so->events, ~(uint32_t)EPOLLIN);
                if (mpnet_ring_count(fe->rxr) == 0)
                        return 0;
                atomic_fetch_or(&so->events, EPOLLIN);
        }
}

/* Whether message m can take a datagram: its iovecs (the data is not
 * there yet to say which of them it reaches, so all are looked at). */
static bool fe_msg_ok(const struct msghdr *m)
{
        size_t len;

        return fe_iov_len(m, &len) != -EFAULT;
}

/* Datagram p into message vm; @return its length, as recvmsg. */
static unsigned fe_msg_fill(struct sock_fe *fe, struct mpnet_mmsghdr *vm, struct mpnet_pkt *p,
                            int flags)
{
        struct msghdr *m = &vm->msg_hdr;
        uint32_t off = 0;

        for (size_t i = 0; i < m->msg_iovlen && off < p->pkt_len; i++) {
                uint32_t n = m->msg_iov[i].iov_len < p->pkt_len - off
                                 ? (uint32_t)m->msg_iov[i].iov_len
                                 : p->pkt_len - off;

                mpnet_pkt_read(p, off, m->msg_iov[i].iov_base, n);
                off += n;
        }
        m->msg_flags = off < p->pkt_len ? MSG_TRUNC : 0;
        m->msg_controllen = 0;
        if (m->msg_name != NULL)
                sock_rx_from(fe->so, p, m->msg_name, &m->msg_namelen);
        else
                m->msg_namelen = 0;
        return (flags & MSG_TRUNC) ? p->pkt_len : off;
}

int mpnet_ts_recvmmsg(struct mpnet_tsock *ts, struct mpnet_mmsghdr *vec, unsigned int vlen,
                      int flags, struct timespec *timeout)
{
        struct sock_fe *fe = (struct sock_fe *)ts;
        uint64_t end = 0;
        unsigned got = 0, ok = 0;
        bool nb;

        if (ts == NULL)
                return -EBADF;
        nb = fe->nonblock || (flags & MSG_DONTWAIT);
        if (fe->stream || (flags & (MSG_PEEK | MSG_OOB | MSG_ERRQUEUE)))
                return -EOPNOTSUPP;
        if (vlen > MPNET_MMSG_MAX)
                vlen = MPNET_MMSG_MAX;
        if (vec == NULL && vlen > 0)
                return -EFAULT;
        if (fe->rx_err != 0) {
                int e = fe->rx_err;

                fe->rx_err = 0;
                return -e;
        }
        if (timeout != NULL) {
                if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)
                        return -EINVAL;
                end = mpnet_monotonic_ns() + (uint64_t)timeout->tv_sec * 1000000000 +
                      (uint64_t)timeout->tv_nsec;
        }
        /* Only as many as the messages that can take one: the datagram a
         * bad one would get stays queued. */
        while (ok < vlen && fe_msg_ok(&vec[ok].msg_hdr))
                ok++;
        if (vlen == 0)
                return 0;
        if (ok == 0)
                return -EFAULT;
        while (got < ok) {
                struct mpnet_pkt *v[32];
                unsigned n = fe_pop_bulk(fe, v, ok - got < 32 ? ok - got : 32, nb);

                if (n == 0) {
                        if (got > 0 || nb)
                                break;
                        if (fe_rx_wait(fe, &end) != 0)
                                return -EAGAIN;
                        continue;
                }
                for (unsigned i = 0; i < n; i++)
                        vec[got + i].msg_len = fe_msg_fill(fe, &vec[got + i], v[i], flags);
                mpnet_pkt_free_bulk(v, n);
                got += n;
        }
        if (got == 0)
                return -EAGAIN;
        if (got == ok && ok < vlen && mpnet_ring_count(fe->rxr) != 0)
                fe->rx_err = EFAULT; /* Linux: the next call reports it (sk_err) */
        return (int)got;
}
