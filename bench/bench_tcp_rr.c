/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp_rr: request/response with 1-byte messages, netperf's two
 * shapes, mpnet to mpnet over a memory wire beside Linux over loopback
 * (127.0.0.1) in the same run, each driven from one thread (both ends on
 * one core), TCP_NODELAY on every socket.
 *
 * rr: one connection; a transaction is a 1-byte request from A to B and a
 * 1-byte response back (netperf TCP_RR).
 *
 * crr: a transaction is a new connection (A connects, B accepts), the
 * request, the response and the close of both ends (netperf TCP_CRR).
 * A's sockets are bound to successive ports (1024 on), so the TIME_WAIT
 * its closes leave never meets a new connection; fresh stacks each
 * repeat. Linux's client closes the same way and picks its ports itself
 * (net.ipv4.tcp_tw_reuse lets loopback reuse TIME_WAIT ports).
 *
 * mpnet drives both stacks by polling them in turn on the monotonic clock
 * (A, then B, until the step's outcome is there); Linux does the work
 * inside the calls (loopback delivers in the sender's call).
 *
 * Figures per repeat: transactions per second by the wall clock and per
 * second of the thread's CPU time (CLOCK_THREAD_CPUTIME_ID: a shared
 * machine's other load left out; Linux's loopback work runs inside the
 * calls and counts), cycles per transaction (that CPU time in TSC ticks),
 * and mpnet / Linux per CPU second. Medians over --repeat.
 *
 * Usage: bench_tcp_rr [--rr N] [--crr N] [--repeat N] [--no-linux]
 * [--csum-offload]
 * (--no-linux: mpnet alone, for a profiler; Linux's figures then repeat
 * mpnet's; --csum-offload: the memory wire's receive checksum offload, so
 * the receivers skip their checks as Linux's loopback does)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/socket.h"
#include "mpnet/stack.h"
#include "mpnet/tcp.h"
#include "mpnet/thread.h"

#define A_ADDR   0xc0000201u /* 192.0.2.1 */
#define B_ADDR   0xc0000202u /* 192.0.2.2 */
#define PORT     5001
#define REPS_MAX 64
#define SPINS    1000 /* polls a step may take before the run is given up */

static bool wire_csum_offload; /* --csum-offload */

struct run {
        double tps, cpu_tps, cyc;
};

struct net {
        struct mpnet_clock ck;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        int lfd;
};

static uint64_t cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct run figures(uint64_t n, uint64_t t0, uint64_t t1, uint64_t u0, uint64_t u1)
{
        struct run r;

        r.tps = (double)n * 1e9 / (double)(t1 - t0);
        r.cpu_tps = (double)n * 1e9 / (double)(u1 - u0);
        r.cyc = (double)(u1 - u0) * bench_tsc_hz() / 1e9 / (double)n;
        return r;
}

static struct mpnet_stack *stack_new(struct net *n, const char *name, struct mpnet_link *l,
                                     uint32_t addr, uint64_t seed)
{
        struct mpnet_stack_cfg sc = {.name = name, .clock = &n->ck, .pool = n->pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1 ||
            mpnet_addr4_add(s, 1, addr, 24) != 0)
                bench_die("stack %s\n", name);
        return s;
}

static void net_up(struct net *n)
{
        struct mpnet_memwire_cfg wc = {
            .name = "rr", .ring_size = 1024, .csum_offload = wire_csum_offload};
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};

        mpnet_clock_init_monotonic(&n->ck);
        n->pool = mpnet_pool_create("bench", 4096);
        if (n->pool == NULL || mpnet_memwire_create(&wc, &n->la, &n->lb) != 0)
                bench_die("pool or wire\n");
        n->a = stack_new(n, "A", n->la, A_ADDR, 1);
        n->b = stack_new(n, "B", n->lb, B_ADDR, 2);
        if (mpnet_neigh4_add(n->a, 1, B_ADDR, n->lb->info.mac) != 0 ||
            mpnet_neigh4_add(n->b, 1, A_ADDR, n->la->info.mac) != 0)
                bench_die("neighbours\n");
        n->lfd = mpnet_socket(n->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (mpnet_bind(n->b, n->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            mpnet_listen(n->b, n->lfd, 128) != 0)
                bench_die("listen\n");
        mpnet_tcp_set_rst_limit(n->a, 0, 0);
        mpnet_tcp_set_rst_limit(n->b, 0, 0);
}

static void net_down(struct net *n)
{
        mpnet_close(n->b, n->lfd);
        mpnet_stack_destroy(n->a);
        mpnet_stack_destroy(n->b);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        mpnet_pool_destroy(n->pool);
}

static void poll2(struct net *n)
{
        mpnet_stack_poll(n->a, mpnet_clock_now(&n->ck));
        mpnet_stack_poll(n->b, mpnet_clock_now(&n->ck));
}

static void nodelay(struct mpnet_stack *s, int fd)
{
        int one = 1;

        mpnet_setsockopt(s, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Poll until fd of s has its 1-byte message. */
static void mp_recv1(struct net *n, struct mpnet_stack *s, int fd)
{
        uint8_t c;

        for (int i = 0; i < SPINS; i++) {
                ssize_t k = mpnet_recvfrom(s, fd, &c, 1, 0, NULL, NULL);

                if (k == 1)
                        return;
                if (k != -EAGAIN)
                        bench_die("recv %zd\n", k);
                poll2(n);
        }
        bench_die("no message\n");
}

static void mp_send1(struct mpnet_stack *s, int fd)
{
        ssize_t k = mpnet_sendto(s, fd, "x", 1, 0, NULL, 0);

        if (k != 1)
                bench_die("send %zd\n", k);
}

/* A connected to B: @return B's accepted socket, *fa A's. */
static int mp_connect(struct net *n, uint16_t lport, int *fa)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(lport)};
        int fb = -1;

        to.sin_addr.s_addr = htonl(B_ADDR);
        me.sin_addr.s_addr = htonl(A_ADDR);
        *fa = mpnet_socket(n->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        nodelay(n->a, *fa);
        if (*fa < 0 || (lport != 0 && mpnet_bind(n->a, *fa, (struct sockaddr *)&me, sizeof(me))) ||
            mpnet_connect(n->a, *fa, (struct sockaddr *)&to, sizeof(to)) != -EINPROGRESS)
                bench_die("connect\n");
        for (int i = 0; i < SPINS && fb < 0; i++) {
                poll2(n);
                fb = mpnet_accept(n->b, n->lfd, NULL, NULL, 0);
        }
        if (fb < 0)
                bench_die("no connection\n");
        nodelay(n->b, fb);
        return fb;
}

static struct run mp_rr(uint64_t count)
{
        struct net n;
        uint64_t t0, t1, u0, u1;
        struct run r;
        int fa, fb;

        net_up(&n);
        fb = mp_connect(&n, 0, &fa);
        for (int i = 0; i < 4; i++) /* the handshake's last ACK */
                poll2(&n);
        t0 = bench_now_ns();
        u0 = cpu_ns();
        for (uint64_t i = 0; i < count; i++) {
                mp_send1(n.a, fa);
                mp_recv1(&n, n.b, fb);
                mp_send1(n.b, fb);
                mp_recv1(&n, n.a, fa);
        }
        u1 = cpu_ns();
        t1 = bench_now_ns();
        r = figures(count, t0, t1, u0, u1);
        mpnet_close(n.a, fa);
        mpnet_close(n.b, fb);
        net_down(&n);
        return r;
}

static struct run mp_crr(uint64_t count)
{
        struct net n;
        uint64_t t0, t1, u0, u1;
        struct run r;

        if (count > 64000)
                bench_die("--crr at most 64000 (one port each)\n");
        net_up(&n);
        t0 = bench_now_ns();
        u0 = cpu_ns();
        for (uint64_t i = 0; i < count; i++) {
                int fa, fb = mp_connect(&n, (uint16_t)(1024 + i), &fa);

                mp_send1(n.a, fa);
                mp_recv1(&n, n.b, fb);
                mp_send1(n.b, fb);
                mp_recv1(&n, n.a, fa);
                mpnet_close(n.a, fa);
                mpnet_close(n.b, fb);
        }
        /* The last closes' FINs and ACKs. */
        for (int i = 0; i < 4; i++)
                poll2(&n);
        u1 = cpu_ns();
        t1 = bench_now_ns();
        r = figures(count, t0, t1, u0, u1);
        if (bench_ctr(n.b, "tcp_accepted") != count)
                bench_die("accepted %llu of %llu\n",
                          (unsigned long long)bench_ctr(n.b, "tcp_accepted"),
                          (unsigned long long)count);
        net_down(&n);
        return r;
}

static void lx_send1(int fd)
{
        if (send(fd, "x", 1, 0) != 1)
                bench_die("linux send: %s\n", strerror(errno));
}

static void lx_recv1(int fd)
{
        uint8_t c;

        if (recv(fd, &c, 1, 0) != 1)
                bench_die("linux recv: %s\n", strerror(errno));
}

static int lx_listener(struct sockaddr_in *a)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        socklen_t l = sizeof(*a);

        *a = (struct sockaddr_in){.sin_family = AF_INET};
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) != 0 || listen(fd, 128) != 0 ||
            getsockname(fd, (struct sockaddr *)a, &l) != 0)
                bench_die("linux listener: %s\n", strerror(errno));
        return fd;
}

static int lx_connect(int lfd, const struct sockaddr_in *to, int *fa)
{
        int one = 1, fb;

        *fa = socket(AF_INET, SOCK_STREAM, 0);
        if (*fa < 0)
                bench_die("linux socket: %s\n", strerror(errno));
        setsockopt(*fa, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(*fa, (const struct sockaddr *)to, sizeof(*to)) != 0)
                bench_die("linux connect: %s\n", strerror(errno));
        fb = accept(lfd, NULL, NULL);
        if (fb < 0)
                bench_die("linux accept: %s\n", strerror(errno));
        setsockopt(fb, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fb;
}

static struct run lx_rr(uint64_t count)
{
        struct sockaddr_in to;
        int lfd = lx_listener(&to), fa, fb = lx_connect(lfd, &to, &fa);
        uint64_t t0, t1, u0, u1;

        t0 = bench_now_ns();
        u0 = cpu_ns();
        for (uint64_t i = 0; i < count; i++) {
                lx_send1(fa);
                lx_recv1(fb);
                lx_send1(fb);
                lx_recv1(fa);
        }
        u1 = cpu_ns();
        t1 = bench_now_ns();
        close(fa);
        close(fb);
        close(lfd);
        return figures(count, t0, t1, u0, u1);
}

static struct run lx_crr(uint64_t count)
{
        struct sockaddr_in to;
        int lfd = lx_listener(&to);
        uint64_t t0, t1, u0, u1;

        t0 = bench_now_ns();
        u0 = cpu_ns();
        for (uint64_t i = 0; i < count; i++) {
                int fa, fb = lx_connect(lfd, &to, &fa);

                lx_send1(fa);
                lx_recv1(fb);
                lx_send1(fb);
                lx_recv1(fa);
                close(fa);
                close(fb);
        }
        u1 = cpu_ns();
        t1 = bench_now_ns();
        close(lfd);
        return figures(count, t0, t1, u0, u1);
}

static void put(struct bench_json *j, const char *pfx, const struct run *r, uint64_t reps)
{
        double v[REPS_MAX];
        char k[64];

        for (uint64_t i = 0; i < reps; i++)
                v[i] = r[i].tps;
        snprintf(k, sizeof(k), "%s_per_s", pfx);
        bench_json_stat(j, k, v, reps);
        for (uint64_t i = 0; i < reps; i++)
                v[i] = r[i].cpu_tps;
        snprintf(k, sizeof(k), "%s_per_cpu_s", pfx);
        bench_json_stat(j, k, v, reps);
        for (uint64_t i = 0; i < reps; i++)
                v[i] = r[i].cyc;
        snprintf(k, sizeof(k), "%s_cycles", pfx);
        bench_json_stat(j, k, v, reps);
}

static void ratio(struct bench_json *j, const char *key, const struct run *m, const struct run *l,
                  uint64_t reps)
{
        double v[REPS_MAX];

        for (uint64_t i = 0; i < reps; i++)
                v[i] = m[i].cpu_tps / l[i].cpu_tps;
        bench_json_stat(j, key, v, reps);
}

int main(int argc, char **argv)
{
        uint64_t rr = 200000, crr = 20000, reps = 5;
        bool no_linux = false;
        const struct bench_opt opts[] = {
            {"rr", BENCH_OPT_U64, &rr, 0, 1ull << 32, "transactions per repeat, TCP_RR (0: skip)"},
            {"crr", BENCH_OPT_U64, &crr, 0, 64000, "transactions per repeat, TCP_CRR (0: skip)"},
            {"repeat", BENCH_OPT_U64, &reps, 1, REPS_MAX, "repeats"},
            {"no-linux", BENCH_OPT_FLAG, &no_linux, 0, 0, "mpnet alone (for a profiler)"},
            {"csum-offload", BENCH_OPT_FLAG, &wire_csum_offload, 0, 0,
             "the wire's receive checksum offload (receivers skip their checks, as on loopback)"},
        };
        static struct run mrr[REPS_MAX], lrr[REPS_MAX], mcrr[REPS_MAX], lcrr[REPS_MAX];
        struct bench_json j;

        bench_parse_args(argc, argv,
                         "1-byte request/response (TCP_RR) and connect/request/response/close "
                         "(TCP_CRR), mpnet over a memory wire beside Linux over loopback",
                         opts, sizeof(opts) / sizeof(opts[0]));
        mpnet_thread_set_slot(0);
        if (rr > 0) { /* warm-up */
                mp_rr(rr / 10 + 1);
                if (!no_linux)
                        lx_rr(rr / 10 + 1);
        }
        for (uint64_t i = 0; i < reps; i++) {
                if (rr > 0) {
                        mrr[i] = mp_rr(rr);
                        lrr[i] = no_linux ? mrr[i] : lx_rr(rr);
                }
                if (crr > 0) {
                        mcrr[i] = mp_crr(crr);
                        lcrr[i] = no_linux ? mcrr[i] : lx_crr(crr);
                }
                fprintf(stderr,
                        "repeat %llu: rr mpnet %.0f/cpu-s linux %.0f/cpu-s; crr mpnet %.0f/cpu-s "
                        "linux %.0f/cpu-s\n",
                        (unsigned long long)i, mrr[i].cpu_tps, lrr[i].cpu_tps, mcrr[i].cpu_tps,
                        lcrr[i].cpu_tps);
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_rr");
        bench_json_machine(&j);
        bench_json_u64(&j, "rr", rr);
        bench_json_u64(&j, "crr", crr);
        bench_json_u64(&j, "repeat", reps);
        bench_json_bool(&j, "csum_offload", wire_csum_offload);
        if (rr > 0) {
                put(&j, "rr_mpnet", mrr, reps);
                put(&j, "rr_linux_lo", lrr, reps);
                ratio(&j, "rr_ratio_per_cpu", mrr, lrr, reps);
        }
        if (crr > 0) {
                put(&j, "crr_mpnet", mcrr, reps);
                put(&j, "crr_linux_lo", lcrr, reps);
                ratio(&j, "crr_ratio_per_cpu", mcrr, lcrr, reps);
        }
        bench_json_obj_end(&j);
        putchar('\n');
        return 0;
}
