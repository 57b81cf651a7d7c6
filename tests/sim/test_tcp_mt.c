/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP connections owned by workers:
 *
 *   A (2 workers) --RSS memory wire, 2 queues each way-- B (2 workers)
 *
 * Worker q of one runtime polls queue q of both stacks (context q + 1 in
 * each). Each stack listens with an SO_REUSEPORT group of one listener per
 * worker (MPNET_SO_HOME), so a SYN is taken on the worker that receives it
 * and the connection is homed there; each stack's clients connect with
 * MPNET_HOME_FLOW, their ephemeral port (RFC 6056) steered so that the
 * replies come back to their home. Connections go both ways; every client
 * sends a pseudo-random stream, the server echoes it, the client compares
 * the SHA-256 of what came back with what it sent, then closes (its FIN
 * first, the server's after). Asserted: every home is
 * the worker the symmetric Toeplitz hash and the indirection table name,
 * both workers of each stack own connections, nothing was handed over,
 * every connection closes, every buffer is back in the pool. The socket
 * calls come from this thread (the control thread), as synchronous
 * commands to the homes.
 *
 * A second case homes sockets where their segments do NOT all arrive (one
 * side's clients on the control thread, the other's listener on one
 * worker), over IPv4 and IPv6: those segments are handed to their home
 * (tcp_handoff; none stale), and the data still match. A third echoes
 * from callbacks on the accepted sockets' homes, on the workers and on
 * the control thread. The second case again over a wire with TSO: the
 * super-segments, handed or not, are kept whole in the receive queues of
 * their homes (tcp_rcvq_take) and read from there.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "mpnet/rss.h"
#include "mpnet/socket.h"
#include "base/sha256.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "tcpnet_mt.h"
#include "mtnet.h"
#include "stack/stack_priv.h"
#include "ip6util.h"
#include "mpnet/ip6.h"

#define N_EACH     32 /* clients on each side */
#define BYTES      (16u << 10)
#define DEADLINE_S 120

struct conn {
        struct mpnet_stack *s;
        int fd;
        bool client;
        uint32_t rng;        /* the client's stream */
        uint64_t sent, got;  /* client: bytes sent, echoed back; server: in, out */
        uint8_t pend[16384]; /* server: received, not yet echoed */
        uint32_t pend_n;
        struct sha256 h_tx, h_rx;
        bool shut, eof, done;
};

static int home_of(struct mpnet_stack *s, int fd)
{
        int home = -1;
        socklen_t vl = sizeof(home);

        assert_int_equal(mpnet_getsockopt(s, fd, SOL_MPNET, MPNET_SO_HOME, &home, &vl), 0);
        return home;
}

/* The context the receiving end's RSS sends a flow to: its queue + 1. */
static int rss_ctx(struct mpnet_link *rx, uint32_t src, uint32_t dst, uint16_t sport,
                   uint16_t dport)
{
        struct mpnet_rss rss;

        assert_int_equal(mpnet_rss_init(&rss, mpnet_rss_key_sym, MPNET_RSS_KEY_LEN), 0);
        return 1 + mpnet_rss_queue(mpnet_memwire_reta(rx),
                                   mpnet_rss_ip4_l4(&rss, src, dst, sport, dport));
}

/* A listener of s on TNET_PORT homed on ctx (0: the control thread), in an
 * SO_REUSEPORT group. */
static int listener(struct mpnet_stack *s, uint32_t addr, int ctx)
{
        struct sockaddr_storage a;
        socklen_t al = sa_of(addr, &a);
        int fd = mpnet_socket(s, g_fam == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0),
            one = 1;

        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(s, fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
        assert_int_equal(mpnet_setsockopt(s, fd, SOL_MPNET, MPNET_SO_HOME, &ctx, sizeof(ctx)), 0);
        assert_int_equal(mpnet_bind(s, fd, (struct sockaddr *)&a, al), 0);
        assert_int_equal(mpnet_listen(s, fd, 64), 0);
        assert_int_equal(home_of(s, fd), ctx);
        return fd;
}

static void client(struct conn *c, struct mpnet_stack *s, uint32_t to, int want, uint32_t seed)
{
        struct sockaddr_storage a;
        socklen_t al = sa_of(to, &a);

        memset(c, 0, sizeof(*c));
        c->s = s;
        c->client = true;
        c->rng = seed;
        sha256_init(&c->h_tx);
        sha256_init(&c->h_rx);
        c->fd = mpnet_socket(s, g_fam == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(c->fd >= 0);
        assert_int_equal(mpnet_setsockopt(s, c->fd, SOL_MPNET, MPNET_SO_HOME, &want, sizeof(want)),
                         0);
        assert_int_equal(mpnet_connect(s, c->fd, (struct sockaddr *)&a, al), -EINPROGRESS);
}

/* The client: send its stream, take the echo, shut once all went. */
static void pump_client(struct conn *c)
{
        uint8_t b[8192];
        ssize_t r;

        while (c->sent < BYTES) {
                uint32_t k = BYTES - (uint32_t)c->sent < sizeof(b) ? BYTES - (uint32_t)c->sent
                                                                   : (uint32_t)sizeof(b);
                uint32_t save = c->rng;

                for (uint32_t i = 0; i < k; i++)
                        b[i] = next_byte(&c->rng);
                r = mpnet_sendto(c->s, c->fd, b, k, 0, NULL, 0);
                c->rng = save;
                if (r == -EAGAIN)
                        break;
                assert_true(r > 0);
                for (ssize_t i = 0; i < r; i++)
                        next_byte(&c->rng);
                sha256_update(&c->h_tx, b, (size_t)r);
                c->sent += (uint64_t)r;
        }
        while (!c->eof &&
               (r = mpnet_recvfrom(c->s, c->fd, b, sizeof(b), 0, NULL, NULL)) != -EAGAIN) {
                assert_true(r >= 0);
                if (r == 0)
                        c->eof = true;
                sha256_update(&c->h_rx, b, (size_t)r);
                c->got += (uint64_t)r;
        }
        /* The FIN once the whole echo is in: a connection that leaves
         * TIME_WAIT takes unread data with it, and this thread may read
         * late under a sanitizer. */
        if (c->got == BYTES && !c->shut) {
                assert_int_equal(mpnet_shutdown(c->s, c->fd, SHUT_WR), 0);
                c->shut = true;
        }
        c->done = c->eof;
}

/* The server: echo what came; at the client's EOF, shut ours. */
static void pump_server(struct conn *c)
{
        ssize_t r;

        for (;;) {
                if (c->pend_n > 0) {
                        r = mpnet_sendto(c->s, c->fd, c->pend, c->pend_n, 0, NULL, 0);
                        if (r == -EAGAIN)
                                break;
                        assert_true(r > 0);
                        memmove(c->pend, c->pend + r, c->pend_n - (uint32_t)r);
                        c->pend_n -= (uint32_t)r;
                        c->sent += (uint64_t)r;
                        continue;
                }
                if (c->eof)
                        break;
                r = mpnet_recvfrom(c->s, c->fd, c->pend, sizeof(c->pend), 0, NULL, NULL);
                if (r == -EAGAIN)
                        break;
                assert_true(r >= 0);
                if (r == 0)
                        c->eof = true;
                c->pend_n = (uint32_t)r;
                c->got += (uint64_t)r;
        }
        if (c->eof && c->pend_n == 0 && !c->shut) {
                assert_int_equal(mpnet_shutdown(c->s, c->fd, SHUT_WR), 0);
                c->shut = true;
                c->done = true;
        }
}

/* Accept what each listener holds into srv[*ns]. */
static void accept_all(struct mpnet_stack *s, const int *lfd, unsigned nl, struct conn *srv,
                       unsigned *ns, unsigned max)
{
        for (unsigned i = 0; i < nl; i++) {
                int fd = -EAGAIN;

                while (*ns < max && (fd = mpnet_accept(s, lfd[i], NULL, NULL, 0)) >= 0) {
                        struct conn *c = &srv[(*ns)++];

                        memset(c, 0, sizeof(*c));
                        c->s = s;
                        c->fd = fd;
                        /* The connection's home is its listener's. */
                        assert_int_equal(home_of(s, fd), home_of(s, lfd[i]));
                }
                assert_true(*ns == max || fd == -EAGAIN);
        }
}

static uint64_t ctr(struct mpnet_stack *s, const char *name)
{
        int id = mpnet_stack_counter_find(s, name);

        assert_true(id >= 0);
        return mpnet_stack_counter(s, (unsigned)id);
}

/* The connections of both stacks to the end: data echoed and compared,
 * closed, the tables empty. */
static void run_conns(struct tnet *n, struct conn *cl, unsigned ncl, const int *la, const int *lb,
                      unsigned nl, struct conn *srv)
{
        unsigned ns_a = 0, ns_b = 0, done;
        uint64_t until = mpnet_clock_now(&n->clk) + (uint64_t)DEADLINE_S * MPNET_NS_PER_S;

        do {
                poll_both(n);
                accept_all(n->a, la, nl, srv, &ns_a, ncl / 2);
                accept_all(n->b, lb, nl, srv + ncl / 2, &ns_b, ncl / 2);
                done = 0;
                for (unsigned i = 0; i < ncl; i++) {
                        if (!cl[i].done)
                                pump_client(&cl[i]);
                        done += cl[i].done;
                }
                for (unsigned i = 0; i < ns_a + ns_b; i++) {
                        struct conn *c = i < ns_a ? &srv[i] : &srv[ncl / 2 + i - ns_a];

                        if (!c->done)
                                pump_server(c);
                        done += c->done;
                }
                assert_true(mpnet_clock_now(&n->clk) < until);
        } while (done < 2 * ncl);
        for (unsigned i = 0; i < ncl; i++)
                if (getenv("TCPMT_DEBUG"))
                        printf(
                            "%u cl sent %llu got %llu home %d | srv got %llu sent %llu home %d\n",
                            i, (unsigned long long)cl[i].sent, (unsigned long long)cl[i].got,
                            home_of(cl[i].s, cl[i].fd), (unsigned long long)srv[i].got,
                            (unsigned long long)srv[i].sent, home_of(srv[i].s, srv[i].fd));
        for (unsigned i = 0; i < ncl; i++) {
                uint8_t d1[SHA256_LEN], d2[SHA256_LEN];

                assert_int_equal(cl[i].got, BYTES);
                sha256_final(&cl[i].h_tx, d1);
                sha256_final(&cl[i].h_rx, d2);
                assert_memory_equal(d1, d2, SHA256_LEN);
                assert_int_equal(srv[i].got, BYTES);
                assert_int_equal(srv[i].sent, BYTES);
        }
}

/* Close every socket; wait for every connection to leave (TIME_WAIT). */
static void close_all(struct tnet *n, struct conn *cl, struct conn *srv, unsigned ncl,
                      const int *la, const int *lb, unsigned nl)
{
        uint64_t until = mpnet_clock_now(&n->clk) + (uint64_t)DEADLINE_S * MPNET_NS_PER_S;

        for (unsigned i = 0; i < ncl; i++) {
                assert_int_equal(mpnet_close(cl[i].s, cl[i].fd), 0);
                assert_int_equal(mpnet_close(srv[i].s, srv[i].fd), 0);
        }
        for (unsigned i = 0; i < nl; i++) {
                assert_int_equal(mpnet_close(n->a, la[i]), 0);
                assert_int_equal(mpnet_close(n->b, lb[i]), 0);
        }
        while (conns_left(n->a) + conns_left(n->b) != 0) {
                poll_both(n);
                usleep(1000);
                assert_true(mpnet_clock_now(&n->clk) < until);
        }
}

static void test_homed_by_flow(void **state)
{
        static struct conn cl[2 * N_EACH], srv[2 * N_EACH];
        struct tnet n;
        int la[2], lb[2];
        unsigned per_a[3] = {0}, per_b[3] = {0};

        (void)state;
        tnet_init(&n, 71);
        for (int q = 0; q < 2; q++) {
                la[q] = listener(n.a, T_A_ADDR, q + 1);
                lb[q] = listener(n.b, T_B_ADDR, q + 1);
        }
        for (unsigned i = 0; i < N_EACH; i++) {
                client(&cl[i], n.a, T_B_ADDR, MPNET_HOME_FLOW, 1000 + i);
                client(&cl[N_EACH + i], n.b, T_A_ADDR, MPNET_HOME_FLOW, 2000 + i);
        }
        /* Servers: srv[0..N) on A (B's clients), srv[N..2N) on B. */
        run_conns(&n, cl, 2 * N_EACH, la, lb, 2, srv);
        for (unsigned i = 0; i < 2 * N_EACH; i++) {
                struct conn *c = &cl[i];
                bool on_a = c->s == n.a;
                struct sockaddr_in me, peer;
                socklen_t l1 = sizeof(me), l2 = sizeof(peer);
                int h = home_of(c->s, c->fd), want;

                assert_int_equal(mpnet_getsockname(c->s, c->fd, (struct sockaddr *)&me, &l1), 0);
                assert_int_equal(mpnet_getpeername(c->s, c->fd, (struct sockaddr *)&peer, &l2), 0);
                /* Replies to the client: from the peer to us. */
                want = rss_ctx(on_a ? n.la : n.lb, ntohl(peer.sin_addr.s_addr),
                               ntohl(me.sin_addr.s_addr), ntohs(peer.sin_port), ntohs(me.sin_port));
                assert_int_equal(h, want);
                (on_a ? per_a : per_b)[h]++;
                /* The server's end: where the client's segments land. */
                c = &srv[i];
                h = home_of(c->s, c->fd);
                assert_int_equal(mpnet_getsockname(c->s, c->fd, (struct sockaddr *)&me, &l1), 0);
                assert_int_equal(mpnet_getpeername(c->s, c->fd, (struct sockaddr *)&peer, &l2), 0);
                want = rss_ctx(c->s == n.a ? n.la : n.lb, ntohl(peer.sin_addr.s_addr),
                               ntohl(me.sin_addr.s_addr), ntohs(peer.sin_port), ntohs(me.sin_port));
                assert_int_equal(h, want);
                (c->s == n.a ? per_a : per_b)[h]++;
        }
        printf("homes: A %u/%u B %u/%u; handoffs A %llu B %llu\n", per_a[1], per_a[2], per_b[1],
               per_b[2], (unsigned long long)ctr(n.a, "tcp_handoff"),
               (unsigned long long)ctr(n.b, "tcp_handoff"));
        assert_int_equal(per_a[0] + per_b[0], 0);
        assert_true(per_a[1] > 0 && per_a[2] > 0);
        assert_true(per_b[1] > 0 && per_b[2] > 0);
        /* Every segment was received where its connection lives. */
        assert_int_equal(ctr(n.a, "tcp_handoff"), 0);
        assert_int_equal(ctr(n.b, "tcp_handoff"), 0);
        close_all(&n, cl, srv, 2 * N_EACH, la, lb, 2);
        tnet_fini(&n);
}

static void handed_home(int fam)
{
        static struct conn cl[N_EACH / 2], srv[N_EACH / 2];
        struct tnet n;
        int la, lb;

        g_fam = fam;
        tnet_init(&n, 73);
        /* A listens on its worker 1 only, B on its control thread: half of
         * the SYNs and segments land on the other context. */
        la = listener(n.a, T_A_ADDR, 1);
        lb = listener(n.b, T_B_ADDR, MPNET_HOME_CONTROL);
        for (unsigned i = 0; i < N_EACH / 4; i++) {
                client(&cl[i], n.a, T_B_ADDR, MPNET_HOME_CONTROL, 3000 + i);
                client(&cl[N_EACH / 4 + i], n.b, T_A_ADDR, 2, 4000 + i);
        }
        run_conns(&n, cl, N_EACH / 2, &la, &lb, 1, srv);
        for (unsigned i = 0; i < N_EACH / 2; i++) {
                assert_int_equal(home_of(cl[i].s, cl[i].fd), i < N_EACH / 4 ? 0 : 2);
                assert_int_equal(home_of(srv[i].s, srv[i].fd), srv[i].s == n.a ? 1 : 0);
        }
        assert_true(ctr(n.a, "tcp_handoff") > 0);
        assert_true(ctr(n.b, "tcp_handoff") > 0);
        assert_int_equal(ctr(n.a, "tcp_stale") + ctr(n.b, "tcp_stale"), 0);
        if (g_tso) {
                printf("tso: super-segments in %llu, kept whole %llu\n",
                       (unsigned long long)(ctr(n.a, "tcp_gro_in") + ctr(n.b, "tcp_gro_in")),
                       (unsigned long long)(ctr(n.a, "tcp_rcvq_take") + ctr(n.b, "tcp_rcvq_take")));
                assert_true(ctr(n.a, "tcp_rcvq_take") + ctr(n.b, "tcp_rcvq_take") > 0);
        }
        close_all(&n, cl, srv, N_EACH / 2, &la, &lb, 1);
        tnet_fini(&n);
}

static void test_handed_home(void **state)
{
        (void)state;
        handed_home(4);
}

/* The same over a wire with TSO: super-segments, some handed home, kept
 * whole in the receive queues of workers and of the control thread. */
static void test_handed_home_tso(void **state)
{
        (void)state;
        g_tso = true;
        handed_home(4);
        g_tso = false;
}

/* The hand-off node reads IPv6 addresses from the header it kept. */
static void test_handed_home6(void **state)
{
        (void)state;
        handed_home(6);
        g_fam = 4;
}

/* Callback mode: an accepted socket's callback echoes on its home. */
struct echo {
        int home;
        uint8_t pend[4096];
        uint32_t pend_n;
        bool eof, shut;
        _Atomic unsigned calls, bad;
        _Atomic bool done;
};

static void cb_echo(struct mpnet_stack *s, int fd, void *arg)
{
        struct echo *e = arg;
        ssize_t r;

        atomic_fetch_add(&e->calls, 1);
        if (sock_caller(s) != (unsigned)e->home)
                atomic_fetch_add(&e->bad, 1);
        for (;;) {
                if (e->pend_n > 0) {
                        r = mpnet_sendto(s, fd, e->pend, e->pend_n, 0, NULL, 0);
                        if (r == -EAGAIN)
                                return; /* EPOLLOUT calls again */
                        if (r <= 0) {
                                atomic_fetch_add(&e->bad, 1);
                                return;
                        }
                        memmove(e->pend, e->pend + r, e->pend_n - (uint32_t)r);
                        e->pend_n -= (uint32_t)r;
                        continue;
                }
                if (e->eof)
                        break;
                r = mpnet_recvfrom(s, fd, e->pend, sizeof(e->pend), 0, NULL, NULL);
                if (r == -EAGAIN)
                        return;
                if (r < 0) {
                        atomic_fetch_add(&e->bad, 1);
                        return;
                }
                e->eof = r == 0;
                e->pend_n = (uint32_t)r;
        }
        if (!e->shut) {
                e->shut = true;
                if (mpnet_shutdown(s, fd, SHUT_WR) != 0)
                        atomic_fetch_add(&e->bad, 1);
                atomic_store(&e->done, true);
        }
}

/* Callbacks on the accepted sockets' homes: the workers (a listener on
 * each), or the control thread (segments handed to it, the callback run
 * inside its poll). */
static void callbacks(bool on_workers)
{
        enum { N = 16 };
        static struct conn cl[N];
        static struct echo ec[N];
        int sfd[N], la[2];
        unsigned ns = 0, done;
        struct tnet n;
        uint64_t until;

        g_fam = 4; /* IPv4, even after an IPv6 case that failed */
        tnet_init(&n, 79);
        for (int q = 0; q < 2; q++)
                la[q] = listener(n.a, T_A_ADDR, on_workers ? q + 1 : MPNET_HOME_CONTROL);
        for (unsigned i = 0; i < N; i++)
                client(&cl[i], n.b, T_A_ADDR, MPNET_HOME_FLOW, 5000 + i);
        until = mpnet_clock_now(&n.clk) + (uint64_t)DEADLINE_S * MPNET_NS_PER_S;
        do {
                poll_both(&n);
                for (unsigned q = 0; q < 2 && ns < N; q++) {
                        int fd;

                        while (ns < N && (fd = mpnet_accept(n.a, la[q], NULL, NULL, 0)) >= 0) {
                                struct echo *e = &ec[ns];

                                memset(e, 0, sizeof(*e));
                                e->home = home_of(n.a, fd);
                                assert_true(on_workers ? e->home == 1 || e->home == 2
                                                       : e->home == 0);
                                sfd[ns++] = fd;
                                assert_int_equal(mpnet_sock_set_cb(n.a, fd, cb_echo, e), 0);
                                /* What came before the callback was set. */
                                assert_int_equal(mpnet_sock_run(n.a, fd, cb_echo, e), 0);
                        }
                }
                done = 0;
                for (unsigned i = 0; i < N; i++) {
                        if (!cl[i].done)
                                pump_client(&cl[i]);
                        done += cl[i].done;
                        done += i < ns && atomic_load(&ec[i].done);
                }
                assert_true(mpnet_clock_now(&n.clk) < until);
        } while (done < 2 * N);
        for (unsigned i = 0; i < N; i++) {
                uint8_t d1[SHA256_LEN], d2[SHA256_LEN];

                assert_int_equal(cl[i].got, BYTES);
                sha256_final(&cl[i].h_tx, d1);
                sha256_final(&cl[i].h_rx, d2);
                assert_memory_equal(d1, d2, SHA256_LEN);
                assert_true(atomic_load(&ec[i].calls) > 1);
                assert_int_equal(atomic_load(&ec[i].bad), 0);
                assert_int_equal(mpnet_close(n.a, sfd[i]), 0);
                assert_int_equal(mpnet_close(n.b, cl[i].fd), 0);
        }
        for (unsigned q = 0; q < 2; q++)
                assert_int_equal(mpnet_close(n.a, la[q]), 0);
        while (conns_left(n.a) + conns_left(n.b) != 0) {
                poll_both(&n);
                usleep(1000);
                assert_true(mpnet_clock_now(&n.clk) < until);
        }
        tnet_fini(&n);
}

static void test_callbacks(void **state)
{
        (void)state;
        callbacks(true);
}

static void test_callbacks_ctl(void **state)
{
        (void)state;
        callbacks(false);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_homed_by_flow), cmocka_unit_test(test_handed_home),
            cmocka_unit_test(test_handed_home6),  cmocka_unit_test(test_callbacks),
            cmocka_unit_test(test_callbacks_ctl), cmocka_unit_test(test_handed_home_tso),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
