/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The thread-safe front end (mpnet_ts_*): application threads use sockets
 * of R, whose control thread is a thread of its own and whose two workers
 * poll an RSS memory wire to P (the test's main thread, an echo server):
 *
 *   app thread --rings-- R (2 workers, control thread) --wire-- P (echo)
 *
 * One application thread sends and receives 100,000 datagrams through a
 * socket homed on the worker its flow reaches, at most a window in flight
 * (below the buffers): every one comes back, once, none handed over,
 * none dropped. Then application threads close sockets with datagrams in
 * both rings and on the wire: every datagram that reached R is accounted
 * for, and ThreadSanitizer and ASan see nothing touched unsafely. The
 * batched calls (mpnet_ts_sendmmsg, mpnet_ts_recvmmsg) carry 8,000
 * datagrams in batches of 1 to 64 the same way, every one back once. Each
 * test runs over IPv4 and over IPv6 (the rig takes the family).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "mpnet/rss.h"
#include "mpnet/socket.h"
#include "mpnet/wire/ipv4.h"
#include "mtnet.h"
#include "stack/stack_priv.h"

#define N_SOCK  8
#define P_PORT  7000
#define R_ADDR  IP4(192, 0, 2, 1)
#define P_ADDR  IP4(192, 0, 2, 2)
#define R_ADDR6 "2001:db8::1"
#define P_ADDR6 "2001:db8::2"
#define ROUNDS  200

struct hnet {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *lr, *lp;
        struct mpnet_stack *r, *p;
        struct mpnet_runtime *rt;
        int pfd;
        int fam; /* AF_INET, AF_INET6: R's sockets and P's */
        /* P's socket, where R's sockets send (read by the app threads). */
        struct sockaddr_storage to;
        socklen_t to_len;
};

struct hsock {
        int fd;
        unsigned rounds;      /* ping-pong: answer until this many came */
        bool close_self;      /* close from the callback once they came */
        _Atomic unsigned got; /* datagrams the callback received */
        _Atomic unsigned bad; /* calls that failed in the callback */
};

/* R's and P's addresses and neighbours of family fam, and where P listens. */
static void hnet_addrs(struct hnet *n, int fam)
{
        n->fam = fam;
        if (fam == AF_INET) {
                struct sockaddr_in *to = (struct sockaddr_in *)&n->to;

                assert_int_equal(mpnet_addr4_add(n->r, 1, R_ADDR, 24), 0);
                assert_int_equal(mpnet_addr4_add(n->p, 1, P_ADDR, 24), 0);
                assert_int_equal(mpnet_neigh4_add(n->r, 1, P_ADDR, n->lp->info.mac), 0);
                assert_int_equal(mpnet_neigh4_add(n->p, 1, R_ADDR, n->lr->info.mac), 0);
                to->sin_family = AF_INET;
                to->sin_port = htons(P_PORT);
                to->sin_addr.s_addr = htonl(P_ADDR);
                n->to_len = sizeof(*to);
        } else {
                struct sockaddr_in6 *to = (struct sockaddr_in6 *)&n->to;

                assert_int_equal(mpnet_addr6_add(n->r, 1, A6(R_ADDR6), 64, MPNET_ADDR6_F_NODAD), 0);
                assert_int_equal(mpnet_addr6_add(n->p, 1, A6(P_ADDR6), 64, MPNET_ADDR6_F_NODAD), 0);
                assert_int_equal(mpnet_neigh6_add(n->r, 1, A6(P_ADDR6), n->lp->info.mac), 0);
                assert_int_equal(mpnet_neigh6_add(n->p, 1, A6(R_ADDR6), n->lr->info.mac), 0);
                to->sin6_family = AF_INET6;
                to->sin6_port = htons(P_PORT);
                memcpy(&to->sin6_addr, A6(P_ADDR6), 16);
                n->to_len = sizeof(*to);
        }
}

static void hnet_init(struct hnet *n, uint64_t seed, int fam)
{
        struct mpnet_memwire_cfg wc = {.n_queues = 2, .rss = true, .ring_size = 1024};
        struct mpnet_runtime_cfg rc = {.n_workers = 2};
        struct mpnet_stack_cfg sc = {.seed = seed};
        struct mpnet_reta *reta;
        struct sockaddr_storage a = {0};
        socklen_t al;
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
        hnet_addrs(n, fam);
        n->rt = mpnet_runtime_create(&rc);
        assert_non_null(n->rt);
        assert_int_equal(mpnet_runtime_assign(n->rt, 0, n->r, 1, 0), 0);
        assert_int_equal(mpnet_runtime_assign(n->rt, 1, n->r, 1, 1), 0);
        assert_int_equal(mpnet_runtime_start(n->rt), 0);
        /* P listens on the wildcard address, P_PORT. */
        memcpy(&a, &n->to, n->to_len);
        if (fam == AF_INET)
                ((struct sockaddr_in *)&a)->sin_addr.s_addr = 0;
        else
                memset(&((struct sockaddr_in6 *)&a)->sin6_addr, 0, 16);
        al = n->to_len;
        n->pfd = mpnet_socket(n->p, fam, SOCK_DGRAM, 0);
        assert_true(n->pfd >= 0);
        assert_int_equal(mpnet_bind(n->p, n->pfd, (struct sockaddr *)&a, al), 0);
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

/* P answers every datagram to where it came from; @return how many. */
static unsigned p_echo(struct hnet *n)
{
        struct sockaddr_storage from;
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

#define N_DGRAMS 100000
#define WINDOW   32

struct ctl {
        struct hnet *n;
        atomic_bool stop;
};

/* R's control thread: polls R until told to stop. */
static void *ctl_main(void *arg)
{
        struct ctl *c = arg;

        while (!atomic_load(&c->stop)) {
                mpnet_stack_poll(c->n->r, mpnet_clock_now(&c->n->clk));
                usleep(20);
        }
        return NULL;
}

struct app {
        struct hnet *n;
        _Atomic bool done;
        _Atomic int err; /* the first failure, by line */
        unsigned got, dup, home;
        uint8_t *seen;
};

#define APP_CHECK(a, cond)                                                                         \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        int z = 0;                                                                 \
                        atomic_compare_exchange_strong(&(a)->err, &z, __LINE__);                   \
                        goto out;                                                                  \
                }                                                                                  \
        } while (0)

/* Is from P's socket (address and port)? */
static bool from_p(const struct hnet *n, const struct sockaddr_storage *from)
{
        if (n->fam == AF_INET) {
                const struct sockaddr_in *f = (const void *)from, *t = (const void *)&n->to;

                return f->sin_family == AF_INET && f->sin_addr.s_addr == t->sin_addr.s_addr &&
                       f->sin_port == t->sin_port;
        } else {
                const struct sockaddr_in6 *f = (const void *)from, *t = (const void *)&n->to;

                return f->sin6_family == AF_INET6 &&
                       memcmp(&f->sin6_addr, &t->sin6_addr, 16) == 0 &&
                       f->sin6_port == t->sin6_port;
        }
}

/* 100,000 datagrams through a worker-homed front-end socket, WINDOW in
 * flight; then a control-homed one, addressed per datagram. */
static void *app_main(void *arg)
{
        struct app *a = arg;
        struct hnet *n = a->n;
        struct sockaddr_storage from;
        struct timeval tv = {.tv_sec = 10};
        struct mpnet_tsock *ts = NULL, *t0 = NULL;
        int v = MPNET_HOME_FLOW, home = -1;
        socklen_t vl = sizeof(home), fl;
        unsigned sent = 0;
        uint8_t b[64];
        ssize_t r;

        mpnet_thread_slot_acquire();
        APP_CHECK(a, mpnet_ts_socket(n->r, n->fam, SOCK_DGRAM, 0, &ts) >= 0);
        APP_CHECK(a, mpnet_ts_setsockopt(ts, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)) == 0);
        APP_CHECK(a, mpnet_ts_setsockopt(ts, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
        APP_CHECK(a, mpnet_ts_connect(ts, (struct sockaddr *)&n->to, n->to_len) == 0);
        APP_CHECK(a, mpnet_ts_getsockopt(ts, SOL_MPNET, MPNET_SO_HOME, &home, &vl) == 0);
        a->home = (unsigned)home;
        while (a->got < N_DGRAMS) {
                while (sent < N_DGRAMS && sent - a->got < WINDOW) {
                        memset(b, 0, 18);
                        memcpy(b, &sent, 4);
                        APP_CHECK(a, mpnet_ts_sendto(ts, b, 18, 0, NULL, 0) == 18);
                        sent++;
                }
                r = mpnet_ts_recvfrom(ts, b, sizeof(b), 0, NULL, NULL);
                APP_CHECK(a, r == 18);
                memcpy(&v, b, 4);
                APP_CHECK(a, v >= 0 && v < N_DGRAMS);
                if (a->seen[v])
                        a->dup++;
                a->seen[v] = 1;
                a->got++;
        }
        /* Nothing more: non-blocking is -EAGAIN, a short timeout too. */
        APP_CHECK(a, mpnet_ts_recvfrom(ts, b, sizeof(b), MSG_DONTWAIT, NULL, NULL) == -EAGAIN);
        tv = (struct timeval){.tv_usec = 20000};
        APP_CHECK(a, mpnet_ts_setsockopt(ts, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
        APP_CHECK(a, mpnet_ts_recvfrom(ts, b, sizeof(b), 0, NULL, NULL) == -EAGAIN);
        APP_CHECK(a, mpnet_ts_close(ts) == 0);
        /* On the control thread (the default home), sendto per datagram. */
        APP_CHECK(a, mpnet_ts_socket(n->r, n->fam, SOCK_DGRAM, 0, &t0) >= 0);
        tv = (struct timeval){.tv_sec = 10};
        APP_CHECK(a, mpnet_ts_setsockopt(t0, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
        for (unsigned i = 0; i < 1000; i++) {
                APP_CHECK(a, mpnet_ts_sendto(t0, "hello", 5, 0, (struct sockaddr *)&n->to,
                                             n->to_len) == 5);
                fl = sizeof(from);
                r = mpnet_ts_recvfrom(t0, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
                APP_CHECK(a, r == 5 && memcmp(b, "hello", 5) == 0);
                APP_CHECK(a, from_p(n, &from));
        }
        APP_CHECK(a, mpnet_ts_close(t0) == 0);
out:
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        atomic_store(&a->done, true);
        return NULL;
}

static void run_p(struct hnet *n, _Atomic bool *done, unsigned n_done)
{
        for (uint64_t end = mpnet_monotonic_ns() + 120 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end;) {
                unsigned k = 0;

                mpnet_stack_poll(n->p, mpnet_clock_now(&n->clk));
                if (p_echo(n) == 0)
                        usleep(10);
                for (unsigned i = 0; i < n_done; i++)
                        k += atomic_load(&done[i]);
                if (k == n_done)
                        return;
        }
        fail_msg("the application threads did not finish");
}

static void test_app_thread_100k(void **state)
{
        struct hnet n;
        struct ctl c = {.n = &n};
        struct app a = {.n = &n};
        pthread_t ct, at;

        hnet_init(&n, 71, *(const int *)*state);
        a.seen = calloc(N_DGRAMS, 1);
        assert_non_null(a.seen);
        assert_int_equal(pthread_create(&ct, NULL, ctl_main, &c), 0);
        assert_int_equal(pthread_create(&at, NULL, app_main, &a), 0);
        run_p(&n, &a.done, 1);
        assert_int_equal(pthread_join(at, NULL), 0);
        atomic_store(&c.stop, true);
        assert_int_equal(pthread_join(ct, NULL), 0);
        print_message("home %u: got %u, dup %u, err at line %d; hand-offs %llu\n", a.home, a.got,
                      a.dup, atomic_load(&a.err), (unsigned long long)stk_ctr(n.r, "handoff"));
        assert_int_equal(atomic_load(&a.err), 0);
        assert_true(a.home == 1 || a.home == 2);
        assert_int_equal(a.got, N_DGRAMS);
        assert_int_equal(a.dup, 0);
        /* Homed where its flow lands: no reply handed over (but the
         * control-homed socket's, received by the workers), nothing
         * dropped by R. */
        assert_int_equal(stk_ctr(n.r, "udp_handoff"), 1000); /* the control-homed one's */
        assert_int_equal(stk_ctr(n.r, "udp_in"), N_DGRAMS + 1000);
        assert_int_equal(stk_ctr(n.r, "udp_out"), N_DGRAMS + 1000);
        /* Over IPv6 R drops P's MLD reports (RFC 3810 5.2.14: to the
         * all-MLDv2-routers group, which R has not joined) as not its. */
        assert_int_equal(mt_drops(n.r), n.fam == AF_INET6 ? stk_ctr(n.p, "mld_report_tx") : 0);
        free(a.seen);
        hnet_fini(&n);
}

#define N_MMSG 8000

/* Batches: sends of 1 to 64 messages, receives of up to 64, WINDOW * 2
 * in flight; then the contract's edges (vlen, flags, a bad buffer,
 * truncation, timeouts). */
static void *mmsg_main(void *arg)
{
        struct app *a = arg;
        struct hnet *n = a->n;
        struct mpnet_mmsghdr m[64];
        struct iovec iov[64];
        struct sockaddr_storage from[64];
        uint8_t b[64][64];
        struct timeval tv = {.tv_sec = 10};
        struct timespec tmo = {.tv_nsec = 20000000};
        struct mpnet_tsock *ts = NULL;
        int v = MPNET_HOME_FLOW, r;
        unsigned sent = 0;

        mpnet_thread_slot_acquire();
        APP_CHECK(a, mpnet_ts_socket(n->r, n->fam, SOCK_DGRAM, 0, &ts) >= 0);
        APP_CHECK(a, mpnet_ts_setsockopt(ts, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)) == 0);
        APP_CHECK(a, mpnet_ts_setsockopt(ts, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
        APP_CHECK(a, mpnet_ts_connect(ts, (struct sockaddr *)&n->to, n->to_len) == 0);
        while (a->got < N_MMSG) {
                unsigned k = 1 + (sent * 7 + a->got) % 64;

                if (k > N_MMSG - sent)
                        k = N_MMSG - sent;
                if (k > 2 * WINDOW - (sent - a->got))
                        k = 2 * WINDOW - (sent - a->got);
                for (unsigned i = 0; i < k; i++) {
                        unsigned seq = sent + i;

                        memset(b[i], 0, 18);
                        memcpy(b[i], &seq, 4);
                        iov[i] = (struct iovec){b[i], 18};
                        m[i] = (struct mpnet_mmsghdr){
                            .msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
                }
                if (k > 0) {
                        APP_CHECK(a, mpnet_ts_sendmmsg(ts, m, k, 0) == (int)k);
                        for (unsigned i = 0; i < k; i++)
                                APP_CHECK(a, m[i].msg_len == 18);
                        sent += k;
                }
                for (unsigned i = 0; i < 64; i++) {
                        iov[i] = (struct iovec){b[i], sizeof(b[i])};
                        m[i] = (struct mpnet_mmsghdr){.msg_hdr = {.msg_name = &from[i],
                                                                  .msg_namelen = sizeof(from[i]),
                                                                  .msg_iov = &iov[i],
                                                                  .msg_iovlen = 1}};
                }
                r = mpnet_ts_recvmmsg(ts, m, 64, 0, NULL);
                APP_CHECK(a, r >= 1 && r <= 64);
                for (int i = 0; i < r; i++) {
                        unsigned seq;

                        APP_CHECK(a, m[i].msg_len == 18 && m[i].msg_hdr.msg_flags == 0);
                        APP_CHECK(a, from_p(n, &from[i]));
                        memcpy(&seq, b[i], 4);
                        APP_CHECK(a, seq < N_MMSG);
                        if (a->seen[seq])
                                a->dup++;
                        a->seen[seq] = 1;
                        a->got++;
                }
        }
        /* The edges: vlen 0, a NULL vector, flags the front end refuses, a
         * bad timeout, and nothing queued. */
        APP_CHECK(a, mpnet_ts_sendmmsg(ts, NULL, 0, 0) == 0);
        APP_CHECK(a, mpnet_ts_recvmmsg(ts, NULL, 0, 0, NULL) == 0);
        APP_CHECK(a, mpnet_ts_sendmmsg(ts, NULL, 5, 0) == -EFAULT);
        APP_CHECK(a, mpnet_ts_recvmmsg(ts, NULL, 5, 0, NULL) == -EFAULT);
        APP_CHECK(a, mpnet_ts_recvmmsg(ts, m, 1, MSG_PEEK, NULL) == -EOPNOTSUPP);
        APP_CHECK(a, mpnet_ts_recvmmsg(ts, m, 1, 0, &(struct timespec){.tv_nsec = -1}) == -EINVAL);
        APP_CHECK(a, mpnet_ts_recvmmsg(ts, m, 64, MSG_DONTWAIT, NULL) == -EAGAIN);
        APP_CHECK(a, mpnet_ts_recvmmsg(ts, m, 64, 0, &tmo) == -EAGAIN);
        /* A bad message mid-batch: those before it go; the retry from it
         * is its error. Ancillary data is not carried. */
        for (unsigned i = 0; i < 3; i++) {
                iov[i] = (struct iovec){b[i], 30 + 10 * i}; /* 30, 40, 50 */
                m[i] = (struct mpnet_mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        iov[3] = (struct iovec){NULL, 5};
        m[3] = (struct mpnet_mmsghdr){.msg_hdr = {.msg_iov = &iov[3], .msg_iovlen = 1}};
        APP_CHECK(a, mpnet_ts_sendmmsg(ts, m, 4, 0) == 3);
        APP_CHECK(a, mpnet_ts_sendmmsg(ts, m + 3, 1, 0) == -EFAULT);
        m[3].msg_hdr.msg_iov = &iov[0];
        m[3].msg_hdr.msg_control = b[9];
        m[3].msg_hdr.msg_controllen = 16;
        APP_CHECK(a, mpnet_ts_sendmmsg(ts, m + 3, 1, 0) == -EOPNOTSUPP);
        /* Receive them: a bad first message is -EFAULT and takes none;
         * then cut to 35 bytes: MSG_TRUNC per message, msg_len 30, 35,
         * 35 (or their lengths with the MSG_TRUNC flag). */
        iov[0] = (struct iovec){NULL, 35};
        m[0] = (struct mpnet_mmsghdr){.msg_hdr = {.msg_iov = &iov[0], .msg_iovlen = 1}};
        APP_CHECK(a, mpnet_ts_recvmmsg(ts, m, 1, 0, NULL) == -EFAULT);
        for (unsigned got = 0; got < 3;) {
                int fl = got == 0 ? 0 : MSG_TRUNC;

                for (unsigned i = 0; i < 3; i++) {
                        iov[i] = (struct iovec){b[i], 35};
                        m[i] = (struct mpnet_mmsghdr){
                            .msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
                }
                r = mpnet_ts_recvmmsg(ts, m, 3 - got, fl, NULL);
                APP_CHECK(a, r >= 1 && r <= (int)(3 - got));
                for (int i = 0; i < r; i++, got++) {
                        unsigned want = 30 + 10 * got;

                        APP_CHECK(a, m[i].msg_len == (fl != 0 || want < 35 ? want : 35));
                        APP_CHECK(a, m[i].msg_hdr.msg_flags == (want > 35 ? MSG_TRUNC : 0));
                }
        }
        APP_CHECK(a, mpnet_ts_close(ts) == 0);
out:
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        atomic_store(&a->done, true);
        return NULL;
}

static void test_app_mmsg(void **state)
{
        struct hnet n;
        struct ctl c = {.n = &n};
        struct app a = {.n = &n};
        pthread_t ct, at;

        hnet_init(&n, 91, *(const int *)*state);
        a.seen = calloc(N_MMSG, 1);
        assert_non_null(a.seen);
        assert_int_equal(pthread_create(&ct, NULL, ctl_main, &c), 0);
        assert_int_equal(pthread_create(&at, NULL, mmsg_main, &a), 0);
        run_p(&n, &a.done, 1);
        assert_int_equal(pthread_join(at, NULL), 0);
        atomic_store(&c.stop, true);
        assert_int_equal(pthread_join(ct, NULL), 0);
        print_message("mmsg: got %u, dup %u, err at line %d\n", a.got, a.dup, atomic_load(&a.err));
        assert_int_equal(atomic_load(&a.err), 0);
        assert_int_equal(a.got, N_MMSG);
        assert_int_equal(a.dup, 0);
        assert_int_equal(stk_ctr(n.r, "udp_out"), N_MMSG + 3);
        free(a.seen);
        hnet_fini(&n);
}

/* Sockets closed by their application threads while datagrams sit in
 * both rings and on the wire. */
static void *closer_main(void *arg)
{
        struct app *a = arg;
        struct hnet *n = a->n;
        uint8_t b[64];

        mpnet_thread_slot_acquire();
        for (unsigned round = 0; round < 20; round++) {
                struct mpnet_tsock *ts;
                int v = round % 3 == 0 ? MPNET_HOME_CONTROL : MPNET_HOME_FLOW;

                APP_CHECK(a,
                          mpnet_ts_socket(n->r, n->fam, SOCK_DGRAM | SOCK_NONBLOCK, 0, &ts) >= 0);
                APP_CHECK(a, mpnet_ts_setsockopt(ts, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)) == 0);
                APP_CHECK(a, mpnet_ts_connect(ts, (struct sockaddr *)&n->to, n->to_len) == 0);
                for (unsigned i = 0; i < 300; i++) {
                        ssize_t r = mpnet_ts_sendto(ts, "data", 4, 0, NULL, 0);

                        APP_CHECK(a, r == 4 || r == -EAGAIN);
                        if (i % 7 == 0)
                                while (mpnet_ts_recvfrom(ts, b, sizeof(b), 0, NULL, NULL) == 4)
                                        a->got++;
                }
                /* Take some of the echoes (at least one), close with the
                 * rest coming. */
                for (uint64_t t0 = mpnet_monotonic_ns(), took = 0;;) {
                        uint64_t el = mpnet_monotonic_ns() - t0;

                        if (mpnet_ts_recvfrom(ts, b, sizeof(b), 0, NULL, NULL) == 4)
                                a->got++, took++;
                        if ((took > 0 && el > (round + 1) * 100000ull) || el > 2 * MPNET_NS_PER_S)
                                break;
                }
                APP_CHECK(a, mpnet_ts_close(ts) == 0);
        }
out:
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        atomic_store(&a->done, true);
        return NULL;
}

static void test_close_races_traffic(void **state)
{
        struct hnet n;
        struct ctl c = {.n = &n};
        struct app a[2] = {{.n = &n}, {.n = &n}};
        pthread_t ct, at[2];
        uint64_t seen = 0, rx = 0;

        hnet_init(&n, 81, *(const int *)*state);
        assert_int_equal(pthread_create(&ct, NULL, ctl_main, &c), 0);
        for (unsigned i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&at[i], NULL, closer_main, &a[i]), 0);
        for (uint64_t end = mpnet_monotonic_ns() + 120 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end;) {
                mpnet_stack_poll(n.p, mpnet_clock_now(&n.clk));
                if (p_echo(&n) == 0)
                        usleep(10);
                if (atomic_load(&a[0].done) && atomic_load(&a[1].done))
                        break;
        }
        for (unsigned i = 0; i < 2; i++)
                assert_int_equal(pthread_join(at[i], NULL), 0);
        /* Let what is on the wire land: each datagram that reached R's
         * UDP was queued, or dropped (closed, no port, stale). */
        for (uint64_t end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(1000)) {
                mpnet_stack_poll(n.p, mpnet_clock_now(&n.clk));
                p_echo(&n);
                seen = stk_ctr(n.r, "udp_in") + stk_ctr(n.r, "udp_rcvbuf_full") +
                       stk_ctr(n.r, "udp_no_port") + stk_ctr(n.r, "udp_stale");
                /* Over IPv6 R also receives P's neighbour discovery and
                 * MLD, which are no datagrams of the test's. */
                rx = n.fam == AF_INET ? stk_ctr(n.r, "ip4_rx")
                                      : stk_ctr(n.r, "ip6_rx") - stk_ctr(n.r, "icmp6_rx");
                if (seen == rx)
                        break;
        }
        atomic_store(&c.stop, true);
        assert_int_equal(pthread_join(ct, NULL), 0);
        print_message("err %d/%d; R received %llu: in %llu (app took %u), closed/full %llu, no "
                      "port %llu, stale %llu\n",
                      atomic_load(&a[0].err), atomic_load(&a[1].err), (unsigned long long)rx,
                      (unsigned long long)stk_ctr(n.r, "udp_in"), a[0].got + a[1].got,
                      (unsigned long long)stk_ctr(n.r, "udp_rcvbuf_full"),
                      (unsigned long long)stk_ctr(n.r, "udp_no_port"),
                      (unsigned long long)stk_ctr(n.r, "udp_stale"));
        assert_int_equal(atomic_load(&a[0].err), 0);
        assert_int_equal(atomic_load(&a[1].err), 0);
        assert_int_equal(seen, rx);
        assert_true(a[0].got + a[1].got > 0);
        hnet_fini(&n);
}

/* P's next datagram into b (polling P), its source in from; @return its
 * length, or -1 when none came within 10 s. */
static ssize_t p_take(struct hnet *n, uint8_t *b, size_t len, struct sockaddr_storage *from)
{
        for (uint64_t end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end;) {
                socklen_t fl = sizeof(*from);
                ssize_t r;

                mpnet_stack_poll(n->p, mpnet_clock_now(&n->clk));
                r = mpnet_recvfrom(n->p, n->pfd, b, len, 0, (struct sockaddr *)from, &fl);
                if (r >= 0)
                        return r;
                usleep(100);
        }
        return -1;
}

/* The home's cached view of what the reader took (rx_out_seen): with the
 * smallest SO_RCVBUF (two datagrams' buffers) and no reader, 2 of 8
 * datagrams are queued and 6 dropped; once the reader took them the home
 * must see the room again, round after round (a home that went by a
 * stale copy would drop all 8). Then the worker's poll of the transmit
 * ring: it lets an idle socket go (the worker sleeps again) and a send
 * after that still kicks it (tx_kicked back at 0). */
static void test_rcvbuf_room_and_idle(void **state)
{
        struct hnet n;
        struct ctl c = {.n = &n};
        struct mpnet_tsock *ts = NULL;
        struct sockaddr_storage from, app;
        struct mpnet_worker_stats st0, st1;
        int v = MPNET_HOME_FLOW, one = 1, home = -1;
        socklen_t vl = sizeof(home);
        uint64_t full0;
        uint8_t b[64];
        pthread_t ct;

        hnet_init(&n, 73, *(const int *)*state);
        assert_int_equal(pthread_create(&ct, NULL, ctl_main, &c), 0);
        mpnet_thread_slot_acquire();
        assert_true(mpnet_ts_socket(n.r, n.fam, SOCK_DGRAM, 0, &ts) >= 0);
        assert_int_equal(mpnet_ts_setsockopt(ts, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)), 0);
        assert_int_equal(mpnet_ts_setsockopt(ts, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)), 0);
        assert_int_equal(mpnet_ts_connect(ts, (struct sockaddr *)&n.to, n.to_len), 0);
        assert_int_equal(mpnet_ts_getsockopt(ts, SOL_MPNET, MPNET_SO_HOME, &home, &vl), 0);
        assert_true(home == 1 || home == 2);
        assert_int_equal(mpnet_ts_sendto(ts, "hi", 2, 0, NULL, 0), 2);
        assert_int_equal(p_take(&n, b, sizeof(b), &app), 2);
        full0 = stk_ctr(n.r, "udp_rcvbuf_full");
        for (unsigned round = 1; round <= 3; round++) {
                unsigned k = 0;
                ssize_t r;

                for (unsigned i = 0; i < 8; i++)
                        assert_int_equal(mpnet_sendto(n.p, n.pfd, "dgram", 5, 0,
                                                      (struct sockaddr *)&app, n.to_len),
                                         5);
                for (uint64_t end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
                     stk_ctr(n.r, "udp_rcvbuf_full") - full0 < 6 * round &&
                     mpnet_monotonic_ns() < end;) {
                        mpnet_stack_poll(n.p, mpnet_clock_now(&n.clk)); /* P sends */
                        usleep(100);
                }
                while ((r = mpnet_ts_recvfrom(ts, b, sizeof(b), MSG_DONTWAIT, NULL, NULL)) == 5)
                        k++;
                print_message("round %u: %u received, %llu dropped in all\n", round, k,
                              (unsigned long long)(stk_ctr(n.r, "udp_rcvbuf_full") - full0));
                assert_int_equal(r, -EAGAIN);
                assert_int_equal(k, 2);
                assert_int_equal(stk_ctr(n.r, "udp_rcvbuf_full") - full0, 6 * round);
        }
        /* Idle: the home lets the ring go and sleeps; a send still goes. */
        assert_int_equal(mpnet_runtime_worker_stats(n.rt, (unsigned)home - 1, &st0), 0);
        /* Until it has slept once more; a loaded machine may keep the
         * worker off the CPU for a while: a generous deadline. */
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;;) {
                usleep(10 * 1000);
                assert_int_equal(mpnet_runtime_worker_stats(n.rt, (unsigned)home - 1, &st1), 0);
                if (st1.sleeps > st0.sleeps || mpnet_monotonic_ns() >= end)
                        break;
        }
        assert_true(st1.sleeps > st0.sleeps);
        assert_int_equal(mpnet_ts_sendto(ts, "bye", 3, 0, NULL, 0), 3);
        assert_int_equal(p_take(&n, b, sizeof(b), &from), 3);
        assert_memory_equal(b, "bye", 3);
        assert_int_equal(mpnet_ts_close(ts), 0);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        atomic_store(&c.stop, true);
        assert_int_equal(pthread_join(ct, NULL), 0);
        hnet_fini(&n);
}

static int fam4 = AF_INET, fam6 = AF_INET6;

/* A test of the rig over one family, named for it. */
#define FAM_TEST(f, fam)                                                                           \
        {                                                                                          \
#f "_" #fam, f, NULL, NULL, &fam                                                   \
        }

int main(void)
{
        const struct CMUnitTest tests[] = {
            FAM_TEST(test_app_thread_100k, fam4),
            FAM_TEST(test_close_races_traffic, fam4),
            FAM_TEST(test_app_mmsg, fam4),
            FAM_TEST(test_app_mmsg, fam6),
            FAM_TEST(test_app_thread_100k, fam6),
            FAM_TEST(test_close_races_traffic, fam6),
            FAM_TEST(test_rcvbuf_room_and_idle, fam4),
            FAM_TEST(test_rcvbuf_room_and_idle, fam6),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
