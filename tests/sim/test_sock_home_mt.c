/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sockets homed on workers (MPNET_SO_HOME, run-to-completion):
 *
 *   R (2 workers, worker q polls queue q) --RSS memory wire, 2 queues-- P
 *
 * R's connected sockets take the worker their reply flow reaches, or the
 * worker named, their ephemeral port steered there (RFC 6056 Algorithm 4
 * among the ports whose replies the RSS sends to it), so P's replies are
 * queued on that worker with no hand-off, and the callbacks there receive
 * and send.
 * Closing them, from the control thread or from their own callbacks,
 * while P's datagrams keep coming, leaves every datagram accounted for
 * and nothing touched after it was freed (TSan, ASan).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mpnet/rss.h"
#include "mpnet/socket.h"
#include "mpnet/wire/ipv4.h"
#include "mtnet.h"
#include "stack/stack_priv.h"

#define N_SOCK 8
#define P_PORT 7000
#define R_ADDR IP4(192, 0, 2, 1)
#define P_ADDR IP4(192, 0, 2, 2)
#define ROUNDS 200

struct hnet {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *lr, *lp;
        struct mpnet_stack *r, *p;
        struct mpnet_runtime *rt;
        int pfd;
};

struct hsock {
        int fd;
        unsigned rounds;      /* ping-pong: answer until this many came */
        bool close_self;      /* close from the callback once they came */
        _Atomic unsigned got; /* datagrams the callback received */
        _Atomic unsigned bad; /* calls that failed in the callback */
};

static void hnet_init(struct hnet *n, uint64_t seed)
{
        struct mpnet_memwire_cfg wc = {.n_queues = 2, .rss = true, .ring_size = 1024};
        struct mpnet_runtime_cfg rc = {.n_workers = 2};
        struct mpnet_stack_cfg sc = {.seed = seed};
        struct mpnet_reta *reta;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(P_PORT)};
        int big = 8 << 20;

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_monotonic(&n->clk);
        n->pool = mpnet_pool_create("home", 16384);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->lr, &n->lp), 0);
        /* P is one thread reading queue 0: every frame to it lands there. */
        reta = mpnet_memwire_reta(n->lp);
        assert_non_null(reta);
        for (uint32_t i = 0; i < mpnet_reta_size(reta); i++)
                assert_int_equal(mpnet_reta_set(reta, i, 0), 0);
        sc.clock = &n->clk;
        sc.pool = n->pool;
        sc.name = "R";
        n->r = mpnet_stack_create(&sc);
        sc.name = "P";
        sc.seed = seed + 1;
        n->p = mpnet_stack_create(&sc);
        assert_non_null(n->r);
        assert_non_null(n->p);
        assert_int_equal(mpnet_iface_attach(n->r, n->lr, "r"), 1);
        assert_int_equal(mpnet_iface_attach(n->p, n->lp, "p"), 1);
        assert_int_equal(mpnet_addr4_add(n->r, 1, R_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->p, 1, P_ADDR, 24), 0);
        assert_int_equal(mpnet_neigh4_add(n->r, 1, P_ADDR, n->lp->info.mac), 0);
        assert_int_equal(mpnet_neigh4_add(n->p, 1, R_ADDR, n->lr->info.mac), 0);
        n->rt = mpnet_runtime_create(&rc);
        assert_non_null(n->rt);
        assert_int_equal(mpnet_runtime_assign(n->rt, 0, n->r, 1, 0), 0);
        assert_int_equal(mpnet_runtime_assign(n->rt, 1, n->r, 1, 1), 0);
        assert_int_equal(mpnet_runtime_start(n->rt), 0);
        n->pfd = mpnet_socket(n->p, AF_INET, SOCK_DGRAM, 0);
        assert_true(n->pfd >= 0);
        assert_int_equal(mpnet_bind(n->p, n->pfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_setsockopt(n->p, n->pfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)),
                         0);
}

static void hnet_fini(struct hnet *n)
{
        mpnet_runtime_stop(n->rt);
        mpnet_runtime_destroy(n->rt);
        mpnet_stack_destroy(n->r);
        mpnet_stack_destroy(n->p);
        mpnet_link_destroy(n->lr);
        mpnet_link_destroy(n->lp);
        mpnet_pool_destroy(n->pool);
}

static void poll_both(struct hnet *n)
{
        mpnet_stack_poll(n->r, mpnet_clock_now(&n->clk));
        mpnet_stack_poll(n->p, mpnet_clock_now(&n->clk));
}

/* P answers every datagram to where it came from; @return how many. */
static unsigned p_echo(struct hnet *n)
{
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        uint8_t b[64];
        ssize_t r;
        unsigned k = 0;

        while ((r = mpnet_recvfrom(n->p, n->pfd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl)) >=
               0) {
                assert_int_equal(
                    mpnet_sendto(n->p, n->pfd, b, (size_t)r, 0, (struct sockaddr *)&from, fl), r);
                fl = sizeof(from);
                k++;
        }
        assert_int_equal(r, -EAGAIN);
        return k;
}

/* On the home worker: take what came, answer while rounds last. */
static void cb_pingpong(struct mpnet_stack *s, int fd, void *arg)
{
        struct hsock *h = arg;
        uint8_t b[64];
        ssize_t r;

        while ((r = mpnet_recvfrom(s, fd, b, sizeof(b), 0, NULL, NULL)) >= 0) {
                unsigned got = atomic_fetch_add(&h->got, 1) + 1;

                if (got < h->rounds) {
                        if (mpnet_sendto(s, fd, b, (size_t)r, 0, NULL, 0) != r)
                                atomic_fetch_add(&h->bad, 1);
                } else if (h->close_self && got == h->rounds) {
                        if (mpnet_close(s, fd) != 0)
                                atomic_fetch_add(&h->bad, 1);
                        return;
                }
        }
        if (r != -EAGAIN)
                atomic_fetch_add(&h->bad, 1);
}

/* Run on the home: the first datagram. */
static void first_send(struct mpnet_stack *s, int fd, void *arg)
{
        struct hsock *h = arg;

        if (mpnet_sendto(s, fd, "ping", 4, 0, NULL, 0) != 4)
                atomic_fetch_add(&h->bad, 1);
}

/* A socket of R homed where its flow to P lands (want MPNET_HOME_FLOW),
 * or on context want, its ephemeral port steered there. */
static void open_homed(struct hnet *n, struct hsock *h, int want)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(P_PORT)};
        int v = want, home = -1;
        socklen_t vl = sizeof(home);

        to.sin_addr.s_addr = htonl(P_ADDR);
        h->fd = mpnet_socket(n->r, AF_INET, SOCK_DGRAM, 0);
        assert_true(h->fd >= 0);
        assert_int_equal(mpnet_setsockopt(n->r, h->fd, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)), 0);
        assert_int_equal(mpnet_sock_set_cb(n->r, h->fd, cb_pingpong, h), 0);
        assert_int_equal(mpnet_connect(n->r, h->fd, (struct sockaddr *)&to, sizeof(to)), 0);
        assert_int_equal(mpnet_getsockopt(n->r, h->fd, SOL_MPNET, MPNET_SO_HOME, &home, &vl), 0);
        assert_true(home == 1 || home == 2);
        if (want > 0)
                assert_int_equal(home, want);
}

static void test_replies_on_home(void **state)
{
        struct hnet n;
        struct hsock h[N_SOCK];
        unsigned homes = 0, done;
        uint8_t b[8];

        (void)state;
        hnet_init(&n, 51);
        for (unsigned i = 0; i < N_SOCK; i++) {
                int home;
                socklen_t vl = sizeof(home);

                h[i] = (struct hsock){.rounds = ROUNDS};
                /* Half where their flows land, half on a worker named. */
                open_homed(&n, &h[i], i < N_SOCK / 2 ? MPNET_HOME_FLOW : 1 + (int)i % 2);
                assert_int_equal(
                    mpnet_getsockopt(n.r, h[i].fd, SOL_MPNET, MPNET_SO_HOME, &home, &vl), 0);
                homes |= 1u << home;
                /* Its data path is the home's now. */
                assert_int_equal(mpnet_recvfrom(n.r, h[i].fd, b, sizeof(b), 0, NULL, NULL), -EBUSY);
                assert_int_equal(mpnet_sendto(n.r, h[i].fd, "x", 1, 0, NULL, 0), -EBUSY);
                assert_int_equal(mpnet_sock_run(n.r, h[i].fd, first_send, &h[i]), 0);
        }
        assert_int_equal(homes, 1u << 1 | 1u << 2); /* both workers hold some */
        for (uint64_t end = mpnet_monotonic_ns() + 20 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end;) {
                poll_both(&n);
                p_echo(&n);
                done = 0;
                for (unsigned i = 0; i < N_SOCK; i++)
                        done += atomic_load(&h[i].got) == ROUNDS;
                if (done == N_SOCK)
                        break;
                usleep(50);
        }
        for (unsigned i = 0; i < N_SOCK; i++) {
                assert_int_equal(atomic_load(&h[i].got), ROUNDS);
                assert_int_equal(atomic_load(&h[i].bad), 0);
        }
        print_message("%u datagrams answered; hand-offs %llu\n", N_SOCK * ROUNDS,
                      (unsigned long long)stk_ctr(n.r, "handoff"));
        /* Every reply was received by its socket's home: none handed over. */
        assert_int_equal(stk_ctr(n.r, "udp_in"), N_SOCK * ROUNDS);
        assert_int_equal(stk_ctr(n.r, "udp_handoff"), 0);
        assert_int_equal(stk_ctr(n.r, "handoff"), 0);
        /* A worker-homed socket's association is fixed; its PCB options too. */
        {
                struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(1)};
                int one = 1, ttl = 7, got = 0;
                socklen_t gl = sizeof(got);

                to.sin_addr.s_addr = htonl(P_ADDR);
                assert_int_equal(mpnet_connect(n.r, h[0].fd, (struct sockaddr *)&to, sizeof(to)),
                                 -EISCONN);
                assert_int_equal(
                    mpnet_setsockopt(n.r, h[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
                    -EBUSY);
                /* A data-path option goes to the home and back. */
                assert_int_equal(
                    mpnet_setsockopt(n.r, h[0].fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
                assert_int_equal(mpnet_getsockopt(n.r, h[0].fd, IPPROTO_IP, IP_TTL, &got, &gl), 0);
                assert_int_equal(got, 7);
        }
        for (unsigned i = 0; i < N_SOCK; i++) {
                assert_int_equal(mpnet_close(n.r, h[i].fd), 0);
                assert_int_equal(mpnet_close(n.r, h[i].fd), -EBADF);
        }
        poll_both(&n);
        hnet_fini(&n);
}

/* P sends to each of R's sockets without waiting for answers (and echoes
 * what they answer) while the sockets close: half from the control
 * thread, half from their callbacks after some datagrams. Every datagram
 * P sent reached R's UDP and was queued, or dropped as closed or as no
 * port (what a full wire queue dropped never reached it). */
static void test_close_under_traffic(void **state)
{
        struct hnet n;
        struct hsock h[N_SOCK];
        struct sockaddr_in to[N_SOCK];
        uint64_t sent = 0, seen = 0, out = 0;

        (void)state;
        hnet_init(&n, 61);
        for (unsigned round = 0; round < 6; round++) {
                for (unsigned i = 0; i < N_SOCK; i++) {
                        socklen_t l = sizeof(to[i]);

                        h[i] = (struct hsock){.rounds = 200 + 30 * i, .close_self = i % 2 == 1};
                        open_homed(&n, &h[i], MPNET_HOME_FLOW);
                        assert_int_equal(
                            mpnet_getsockname(n.r, h[i].fd, (struct sockaddr *)&to[i], &l), 0);
                }
                for (unsigned k = 0; k < 400; k++) {
                        for (unsigned i = 0; i < N_SOCK; i++) {
                                assert_int_equal(mpnet_sendto(n.p, n.pfd, "data", 4, 0,
                                                              (struct sockaddr *)&to[i],
                                                              sizeof(to[i])),
                                                 4);
                                sent++;
                        }
                        if (k % 4 == 0)
                                poll_both(&n);
                        /* The control thread closes the even ones midway. */
                        if (k == 100 + 50 * round)
                                for (unsigned i = 0; i < N_SOCK; i += 2)
                                        assert_int_equal(mpnet_close(n.r, h[i].fd), 0);
                }
                /* Every callback that closes itself got its datagrams. */
                for (uint64_t end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
                     mpnet_monotonic_ns() < end;) {
                        unsigned left = 0;

                        poll_both(&n);
                        p_echo(&n);
                        for (unsigned i = 1; i < N_SOCK; i += 2)
                                left += atomic_load(&h[i].got) < h[i].rounds;
                        if (left == 0)
                                break;
                        usleep(100);
                }
                for (unsigned i = 0; i < N_SOCK; i++) {
                        assert_int_equal(atomic_load(&h[i].bad), 0);
                        if (i % 2 == 1) {
                                assert_int_equal(atomic_load(&h[i].got), h[i].rounds);
                                /* Closed by its callback: the descriptor is. */
                                poll_both(&n);
                                assert_int_equal(mpnet_close(n.r, h[i].fd), -EBADF);
                        }
                }
        }
        /* What left P reached R's UDP and was counted there once. */
        for (uint64_t end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(1000)) {
                poll_both(&n);
                p_echo(&n);
                seen = stk_ctr(n.r, "udp_in") + stk_ctr(n.r, "udp_rcvbuf_full") +
                       stk_ctr(n.r, "udp_no_port") + stk_ctr(n.r, "udp_stale");
                out = stk_ctr(n.r, "ip4_rx");
                if (seen == out)
                        break;
        }
        print_message("sent %llu, R received %llu: in %llu, closed/full %llu, no port %llu, "
                      "stale %llu\n",
                      (unsigned long long)sent, (unsigned long long)out,
                      (unsigned long long)stk_ctr(n.r, "udp_in"),
                      (unsigned long long)stk_ctr(n.r, "udp_rcvbuf_full"),
                      (unsigned long long)stk_ctr(n.r, "udp_no_port"),
                      (unsigned long long)stk_ctr(n.r, "udp_stale"));
        /* The wire drops what a full queue cannot take: count what came. */
        if (seen != out) {
                mt_print_counters(n.r);
                print_message("P:\n");
                mt_print_counters(n.p);
        }
        assert_true(stk_ctr(n.p, "udp_out") >= sent);
        assert_true(stk_ctr(n.r, "udp_in") > 0);
        assert_int_equal(seen, out);
        assert_true(stk_ctr(n.r, "udp_no_port") > 0);
        hnet_fini(&n);
}

/* A callback's calls and datagrams, on the home worker. */
struct vsock {
        _Atomic unsigned calls, got;
};

static void cb_count(struct mpnet_stack *s, int fd, void *arg)
{
        struct vsock *v = arg;
        uint8_t b[64];

        atomic_fetch_add(&v->calls, 1);
        while (mpnet_recvfrom(s, fd, b, sizeof(b), 0, NULL, NULL) >= 0)
                atomic_fetch_add(&v->got, 1);
}

/* A worker-homed socket's callback runs once the worker's received vector
 * is in, on every datagram of it (as a reader wakes once per batch), not
 * once per datagram: P's burst leaves in one transmit call onto a wire of
 * one queue, which the one worker takes whole. */
static void test_cb_once_per_vector(void **state)
{
        struct mpnet_memwire_cfg wc = {.n_queues = 1, .ring_size = 1024};
        struct mpnet_runtime_cfg rc = {.n_workers = 1};
        struct mpnet_stack_cfg sc = {.seed = 61};
        struct hnet n;
        struct vsock v = {0};
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(P_PORT)};
        int fd, home = 1;
        enum { BURST = 32, BURSTS = 4 };

        (void)state;
        memset(&n, 0, sizeof(n));
        mpnet_clock_init_monotonic(&n.clk);
        n.pool = mpnet_pool_create("vec", 4096);
        assert_non_null(n.pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n.lr, &n.lp), 0);
        sc.clock = &n.clk;
        sc.pool = n.pool;
        sc.name = "R";
        n.r = mpnet_stack_create(&sc);
        sc.name = "P";
        n.p = mpnet_stack_create(&sc);
        assert_non_null(n.r);
        assert_non_null(n.p);
        assert_int_equal(mpnet_iface_attach(n.r, n.lr, "r"), 1);
        assert_int_equal(mpnet_iface_attach(n.p, n.lp, "p"), 1);
        assert_int_equal(mpnet_addr4_add(n.r, 1, R_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n.p, 1, P_ADDR, 24), 0);
        assert_int_equal(mpnet_neigh4_add(n.r, 1, P_ADDR, n.lp->info.mac), 0);
        assert_int_equal(mpnet_neigh4_add(n.p, 1, R_ADDR, n.lr->info.mac), 0);
        n.rt = mpnet_runtime_create(&rc);
        assert_non_null(n.rt);
        assert_int_equal(mpnet_runtime_assign(n.rt, 0, n.r, 1, 0), 0);
        assert_int_equal(mpnet_runtime_start(n.rt), 0);
        fd = mpnet_socket(n.r, AF_INET, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(n.r, fd, SOL_MPNET, MPNET_SO_HOME, &home, sizeof(home)),
                         0);
        assert_int_equal(mpnet_bind(n.r, fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_sock_set_cb(n.r, fd, cb_count, &v), 0);
        n.pfd = mpnet_socket(n.p, AF_INET, SOCK_DGRAM, 0);
        assert_true(n.pfd >= 0);
        a.sin_addr.s_addr = htonl(R_ADDR);
        for (unsigned b = 0; b < BURSTS; b++) {
                /* P's sends leave with its poll, in one transmit call. */
                for (unsigned i = 0; i < BURST; i++)
                        assert_int_equal(
                            mpnet_sendto(n.p, n.pfd, "v", 1, 0, (struct sockaddr *)&a, sizeof(a)),
                            1);
                poll_both(&n);
                for (uint64_t end = mpnet_monotonic_ns() + 20 * MPNET_NS_PER_S;
                     atomic_load(&v.got) < (b + 1) * BURST && mpnet_monotonic_ns() < end;)
                        usleep(100);
                assert_int_equal(atomic_load(&v.got), (b + 1) * BURST);
        }
        print_message("%u datagrams in %u callbacks\n", atomic_load(&v.got), atomic_load(&v.calls));
        assert_int_equal(atomic_load(&v.calls), BURSTS);
        assert_int_equal(stk_ctr(n.r, "udp_in"), BURSTS * BURST);
        assert_int_equal(mpnet_close(n.r, fd), 0);
        poll_both(&n);
        hnet_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_replies_on_home),
            cmocka_unit_test(test_close_under_traffic),
            cmocka_unit_test(test_cb_once_per_vector),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
