/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP from worker callbacks and from application threads:
 *
 *   A (clients) --RSS memory wire, 2 queues each way-- B (servers)
 *
 * One runtime of 2 workers; worker q polls queue q of both stacks
 * (context q + 1 in each). This thread is the control thread: it only
 * polls.
 *
 * test_accept_in_callback: B's listener is homed on context 1 and its
 * callback accepts there (mpnet_accept on the listener's home worker) and
 * gives each accepted socket an echo callback; a callback of a socket on
 * context 2 calling accept on that listener gets -EBUSY. A's clients are
 * front-end sockets (mpnet_ts_*) of an application thread. Asserted: every
 * connection accepted on the worker, every echo the bytes sent.
 *
 * test_stream_front: one front-end connection, a sending and a receiving
 * application thread on it (the front end's contract), 1 MiB echoed
 * through it, compared byte by byte; over IPv4 and IPv6 (there 2 MiB,
 * with an 8 MiB SO_RCVBUF and a reader that starts late, so the home
 * stops at the receive ring's end). Then the client closes, the server sees EOF and
 * closes, every connection leaves and every buffer is back in the pool.
 *
 * test_linger_front: a blocking front-end close with SO_LINGER's time
 * waits for a reading peer's acknowledgements (no reset), and for a peer
 * that never reads, waits the time out and resets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "mpnet/thread.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "tcpnet_mt.h"
#include "mtnet.h"
#include "stack/stack_priv.h"
#include "ip6util.h"
#include "mpnet/ip6.h"

#define N_CONNS    8
#define SMALL      (8u << 10)
#define BULK       (2u << 20)
#define DEADLINE_S 120
#define MAX_SRV    16

/* ---- B: the echo servers, callbacks on context 1 ---- */

/* What the accepted sockets do: echo, read and discard, or read
 * nothing. Set before the listener is made. */
enum { MODE_ECHO, MODE_SINK, MODE_STALL };
static int g_mode;

struct echo {
        int fd;
        uint8_t pend[4096];
        uint32_t pend_n;
        bool eof;
};

struct server {
        int lfd;
        struct echo e[MAX_SRV];
        unsigned n;                /* the home's */
        _Atomic unsigned accepted; /* on the home, by the callback */
        _Atomic unsigned bad;
        _Atomic int busy_rc;   /* accept from context 2 */
        _Atomic uint64_t sunk; /* MODE_SINK: bytes read */
};

static struct server *g_srv;

static void cb_echo(struct mpnet_stack *s, int fd, void *arg)
{
        struct echo *e = arg;
        ssize_t r;

        for (;;) {
                if (e->pend_n > 0) {
                        r = mpnet_sendto(s, fd, e->pend, e->pend_n, 0, NULL, 0);
                        if (r == -EAGAIN)
                                return; /* EPOLLOUT calls again */
                        if (r <= 0)
                                return;
                        memmove(e->pend, e->pend + r, e->pend_n - (uint32_t)r);
                        e->pend_n -= (uint32_t)r;
                        continue;
                }
                if (e->eof)
                        break;
                r = mpnet_recvfrom(s, fd, e->pend, sizeof(e->pend), 0, NULL, NULL);
                if (r == -EAGAIN)
                        return;
                if (r < 0)
                        return;
                e->eof = r == 0;
                if (g_mode == MODE_SINK)
                        atomic_fetch_add(&g_srv->sunk, (uint64_t)r);
                else
                        e->pend_n = (uint32_t)r;
        }
        /* The peer's FIN, everything echoed: close from the callback. */
        e->fd = -1;
        mpnet_close(s, fd);
}

/* The listener's callback, on its home worker: accept every connection
 * waiting, each with an echo callback of its own. */
static void cb_accept(struct mpnet_stack *s, int lfd, void *arg)
{
        struct server *sv = arg;
        int fd;

        if (sock_caller(s) != 1)
                atomic_fetch_add(&sv->bad, 1);
        while ((fd = mpnet_accept(s, lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                struct echo *e;

                if (sv->n == MAX_SRV) {
                        atomic_fetch_add(&sv->bad, 1);
                        mpnet_close(s, fd);
                        continue;
                }
                e = &sv->e[sv->n++];
                memset(e, 0, sizeof(*e));
                e->fd = fd;
                atomic_fetch_add(&sv->accepted, 1);
                if (g_mode == MODE_STALL)
                        continue; /* never read: the window closes */
                if (mpnet_sock_set_cb(s, fd, cb_echo, e) != 0)
                        atomic_fetch_add(&sv->bad, 1);
                cb_echo(s, fd, e); /* what came before the callback was set */
        }
        if (fd != -EAGAIN)
                atomic_fetch_add(&sv->bad, 1);
}

/* On context 2: the listener is context 1's. */
static void cb_foreign_accept(struct mpnet_stack *s, int fd, void *arg)
{
        struct server *sv = arg;

        (void)fd;
        atomic_store(&sv->busy_rc, mpnet_accept(s, sv->lfd, NULL, NULL, 0));
}

static void server_start(struct tnet *n, struct server *sv)
{
        struct sockaddr_storage a;
        socklen_t al = sa_of(T_B_ADDR, &a);
        int ctx = 1, fd;

        memset(sv, 0, sizeof(*sv));
        g_srv = sv;
        fd = mpnet_socket(n->b, g_fam == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(n->b, fd, SOL_MPNET, MPNET_SO_HOME, &ctx, sizeof(ctx)),
                         0);
        assert_int_equal(mpnet_bind(n->b, fd, (struct sockaddr *)&a, al), 0);
        assert_int_equal(mpnet_listen(n->b, fd, 64), 0);
        assert_int_equal(mpnet_sock_set_cb(n->b, fd, cb_accept, sv), 0);
        sv->lfd = fd;
}

/* ---- A: the application threads ---- */

struct app {
        struct mpnet_stack *s;
        struct mpnet_tsock *ts;
        uint32_t bytes, seed;
        int rcvbuf;         /* app_bulk: SO_RCVBUF to set (0: the default) */
        bool late;          /* app_bulk: the receiver starts 200 ms late */
        uint64_t waited_ns; /* app_linger: in the close */
        _Atomic int fail;   /* the first failure's line */
        _Atomic bool done;
};

#define APP_CHECK(a, cond)                                                                         \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        int z_ = 0;                                                                \
                        atomic_compare_exchange_strong(&(a)->fail, &z_, __LINE__);                 \
                        goto out;                                                                  \
                }                                                                                  \
        } while (0)

static int ts_open(struct app *a)
{
        struct sockaddr_storage sa;
        socklen_t al = sa_of(T_B_ADDR, &sa);
        int home = MPNET_HOME_FLOW;
        int fd = mpnet_ts_socket(a->s, g_fam == 6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0, &a->ts);

        if (fd < 0)
                return fd;
        if (mpnet_ts_setsockopt(a->ts, SOL_MPNET, MPNET_SO_HOME, &home, sizeof(home)) != 0)
                return -1;
        if (a->rcvbuf != 0 &&
            mpnet_ts_setsockopt(a->ts, SOL_SOCKET, SO_RCVBUF, &a->rcvbuf, sizeof(a->rcvbuf)) != 0)
                return -1;
        return mpnet_ts_connect(a->ts, (struct sockaddr *)&sa, al);
}

static void *app_sender(void *arg)
{
        struct app *a = arg;
        uint8_t buf[3000];
        uint32_t x = a->seed, sent = 0;

        mpnet_thread_slot_acquire();
        while (sent < a->bytes) {
                uint32_t k = a->bytes - sent < sizeof(buf) ? a->bytes - sent : sizeof(buf);
                ssize_t r;

                for (uint32_t i = 0; i < k; i++)
                        buf[i] = next_byte(&x);
                r = mpnet_ts_sendto(a->ts, buf, k, 0, NULL, 0);
                APP_CHECK(a, r == (ssize_t)k);
                sent += k;
        }
out:
        mpnet_pool_flush_cache(a->s->pool);
        return NULL;
}

/* Receive the echo and compare it with the sender's stream. */
static void app_receive(struct app *a)
{
        uint8_t buf[5000];
        uint32_t x = a->seed, got = 0;

        while (got < a->bytes) {
                ssize_t r = mpnet_ts_recvfrom(a->ts, buf, sizeof(buf), 0, NULL, NULL);

                APP_CHECK(a, r > 0);
                for (ssize_t i = 0; i < r; i++)
                        APP_CHECK(a, buf[i] == next_byte(&x));
                got += (uint32_t)r;
        }
out:
        return;
}

/* Small echoes, one connection after another (test_accept_in_callback). */
static void *app_small(void *arg)
{
        struct app *a = arg;

        mpnet_thread_slot_acquire();
        for (unsigned i = 0; i < N_CONNS; i++) {
                pthread_t t;

                APP_CHECK(a, ts_open(a) == 0);
                a->seed = 1000 + i;
                a->bytes = SMALL;
                APP_CHECK(a, pthread_create(&t, NULL, app_sender, a) == 0);
                app_receive(a);
                pthread_join(t, NULL);
                APP_CHECK(a, atomic_load(&a->fail) == 0);
                APP_CHECK(a, mpnet_ts_close(a->ts) == 0);
        }
out:
        mpnet_pool_flush_cache(a->s->pool);
        atomic_store(&a->done, true);
        return NULL;
}

/* One bulk echo; then EOF from the server once we closed. */
static void *app_bulk(void *arg)
{
        struct app *a = arg;
        pthread_t t;

        mpnet_thread_slot_acquire();
        APP_CHECK(a, ts_open(a) == 0);
        a->seed = 77;
        a->bytes = a->late ? BULK : BULK / 2; /* the late reader: past the ring */
        APP_CHECK(a, pthread_create(&t, NULL, app_sender, a) == 0);
        if (a->late)
                usleep(200 * 1000); /* the echo fills the receive ring */
        app_receive(a);
        pthread_join(t, NULL);
        APP_CHECK(a, atomic_load(&a->fail) == 0);
        APP_CHECK(a, mpnet_ts_close(a->ts) == 0);
out:
        mpnet_pool_flush_cache(a->s->pool);
        atomic_store(&a->done, true);
        return NULL;
}

/* Send a->bytes, then close with SO_LINGER of a->seed seconds (a
 * blocking socket: the close waits). */
static void *app_linger(void *arg)
{
        struct app *a = arg;
        struct linger l = {.l_onoff = 1, .l_linger = (int)a->seed};
        static uint8_t buf[8192];
        uint32_t sent = 0;
        uint64_t t0;

        mpnet_thread_slot_acquire();
        APP_CHECK(a, ts_open(a) == 0);
        APP_CHECK(a, mpnet_ts_setsockopt(a->ts, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) == 0);
        memset(buf, 'l', sizeof(buf));
        while (sent < a->bytes) {
                ssize_t r = mpnet_ts_sendto(a->ts, buf, sizeof(buf), 0, NULL, 0);

                APP_CHECK(a, r == (ssize_t)sizeof(buf));
                sent += (uint32_t)r;
        }
        t0 = mpnet_monotonic_ns();
        APP_CHECK(a, mpnet_ts_close(a->ts) == 0);
        a->waited_ns = mpnet_monotonic_ns() - t0;
out:
        mpnet_pool_flush_cache(a->s->pool);
        atomic_store(&a->done, true);
        return NULL;
}

/* Run fn(a) on an application thread while this thread polls; then
 * every connection leaves (the servers close at EOF). */
static void run_app(struct tnet *n, struct server *sv, void *(*fn)(void *), unsigned n_conns,
                    struct app *a)
{
        uint64_t until = mpnet_clock_now(&n->clk) + (uint64_t)DEADLINE_S * MPNET_NS_PER_S;
        pthread_t t;

        a->s = n->a;
        assert_int_equal(pthread_create(&t, NULL, fn, a), 0);
        while (!atomic_load(&a->done)) {
                poll_both(n);
                assert_true(mpnet_clock_now(&n->clk) < until);
        }
        pthread_join(t, NULL);
        if (atomic_load(&a->fail) != 0)
                fail_msg("application thread failed at line %d", atomic_load(&a->fail));
        while (conns_left(n->a) + conns_left(n->b) != 0) {
                poll_both(n);
                usleep(1000);
                assert_true(mpnet_clock_now(&n->clk) < until);
        }
        assert_int_equal(atomic_load(&sv->accepted), n_conns);
        assert_int_equal(atomic_load(&sv->bad), 0);
}

static void test_accept_in_callback(void **state)
{
        struct sockaddr_in u = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(T_B_ADDR)};
        static struct server sv;
        struct tnet n;
        int ufd, two = 2;

        (void)state;
        g_fam = 4;
        tnet_init(&n, 91);
        server_start(&n, &sv);
        /* A socket on context 2, whose callback tries context 1's listener. */
        ufd = mpnet_socket(n.b, AF_INET, SOCK_DGRAM, 0);
        assert_true(ufd >= 0);
        assert_int_equal(mpnet_setsockopt(n.b, ufd, SOL_MPNET, MPNET_SO_HOME, &two, sizeof(two)),
                         0);
        assert_int_equal(mpnet_bind(n.b, ufd, (struct sockaddr *)&u, sizeof(u)), 0);
        atomic_store(&sv.busy_rc, 1);
        assert_int_equal(mpnet_sock_run(n.b, ufd, cb_foreign_accept, &sv), 0);
        assert_int_equal(atomic_load(&sv.busy_rc), -EBUSY);
        assert_int_equal(mpnet_close(n.b, ufd), 0);

        run_app(&n, &sv, app_small, N_CONNS, &(struct app){0});
        assert_int_equal(mpnet_close(n.b, sv.lfd), 0);
        tnet_fini(&n);
}

/* IPv6: a receive buffer larger than the receive ring holds (8 MiB,
 * doubled) and a reader that starts late: the home stops at the ring's
 * end and the reader's room brings it back. */
static void stream_front(int fam)
{
        static struct server sv;
        struct tnet n;

        g_fam = fam;
        tnet_init(&n, 93 + (uint64_t)fam);
        server_start(&n, &sv);
        run_app(&n, &sv, app_bulk, 1,
                &(struct app){.rcvbuf = fam == 6 ? 8 << 20 : 0, .late = fam == 6});
        assert_int_equal(mpnet_close(n.b, sv.lfd), 0);
        tnet_fini(&n);
        g_fam = 4;
}

/* SO_LINGER with a time on a blocking front-end socket: the close waits
 * for the peer's acknowledgements (a reader that keeps up: no reset), or
 * the time runs out (a reader that never reads: the reset). */
static void test_linger_front(void **state)
{
        static struct server sv;
        struct app a = {.bytes = 256u << 10, .seed = 30};
        struct tnet n;

        (void)state;
        g_fam = 4;
        g_mode = MODE_SINK;
        tnet_init(&n, 97);
        server_start(&n, &sv);
        run_app(&n, &sv, app_linger, 1, &a);
        /* Acknowledged means received by B: the sink reads it all. */
        while (atomic_load(&sv.sunk) != a.bytes)
                poll_both(&n);
        assert_int_equal(stk_ctr(n.a, "tcp_linger_abort"), 0);
        assert_int_equal(mpnet_close(n.b, sv.lfd), 0);
        tnet_fini(&n);

        g_mode = MODE_STALL;
        tnet_init(&n, 98);
        server_start(&n, &sv);
        memset(&a, 0, sizeof(a));
        a.bytes = 320u << 10; /* past B's window and A's send buffer */
        a.seed = 1;
        run_app(&n, &sv, app_linger, 1, &a);
        assert_true(a.waited_ns >= MPNET_NS_PER_S);
        assert_int_equal(stk_ctr(n.a, "tcp_linger_abort"), 1);
        assert_int_equal(mpnet_close(n.b, sv.lfd), 0);
        tnet_fini(&n);
        g_mode = MODE_ECHO;
}

static void test_stream_front(void **state)
{
        (void)state;
        stream_front(4);
}

static void test_stream_front6(void **state)
{
        (void)state;
        stream_front(6);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_accept_in_callback),
            cmocka_unit_test(test_stream_front),
            cmocka_unit_test(test_stream_front6),
            cmocka_unit_test(test_linger_front),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
