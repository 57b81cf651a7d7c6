/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_udp_rate: the datagram rate of UDP sockets, 18-byte payloads, over
 * a memory wire (2 queues, RSS) between stacks A and B, against Linux UDP
 * sockets over a veth pair in the same run.
 *
 *  - cb1: run-to-completion, one flow, one worker (CPU 1): A's socket and
 *    B's are homed on it (MPNET_SO_HOME); B's callback echoes each
 *    datagram, A's callback sends the next on each echo, WINDOW in flight.
 *  - fe1: the front end, one flow: an application thread (CPU 0) sends
 *    through A's socket (mpnet_ts_sendto) and takes the echoes
 *    (mpnet_ts_recvfrom), WINDOW in flight; the stacks run on the worker
 *    (CPU 1).
 *  - cb2: as cb1 with two flows on two workers (CPUs 0 and 1), B's
 *    sockets an SO_REUSEPORT group of one per worker, A's ports steered.
 *  - cb1b, fe1b: cb1 and fe1 with the batched calls, --batch datagrams a
 *    call at most: mpnet_recvmmsg and mpnet_sendmmsg in the callbacks,
 *    mpnet_ts_recvmmsg (waiting for the first) and mpnet_ts_sendmmsg on
 *    the application thread.
 *  - linux: one flow from a socket in namespace mpnb0 to one in mpnb1 over
 *    veth, sendmmsg (CPU 0) and recvmmsg (CPU 1) in batches of 32. Needs
 *    root (ip netns); skipped with a message otherwise.
 *
 * The rate is datagrams received per second: for mpnet both directions
 * (each datagram sent once and received once), for Linux the one
 * direction. Each mode runs --runs times for --ms milliseconds; the JSON
 * gives the medians, the ratios mpnet/Linux and cb2/cb1, and for cb1 the
 * worker's cycles per datagram (one send plus one receive). For cb1 and
 * cb2 it also gives the CPUs the process had (CPU time over wall time) and
 * the datagrams per CPU-second: on a shared machine the rates follow the
 * scheduler's share, and twice ratio_cb2_cb1_per_cpu is what two flows
 * give where each worker has a core; cb1_cpu_cycles_per_dgram is the TSC
 * cycles a datagram costs in the process's CPU time.
 *
 * The control thread (stacks A and B's mpnet_stack_poll) polls every
 * millisecond in fe1, whose control calls wait on it; in cb1 and cb2 it
 * sleeps until the stacks' next timer, at most --ctl-us.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/route.h"
#include "mpnet/socket.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"
#include "mpnet/worker.h"

#define A_ADDR  0xc0000201u /* 192.0.2.1 */
#define B_ADDR  0xc0000202u /* 192.0.2.2 */
#define B_PORT  9000
#define WINDOW  64
#define PAYLOAD 18

/* --modes: which to run. */
enum {
        MODE_CB1 = 1,
        MODE_FE1 = 2,
        MODE_CB2 = 4,
        MODE_LINUX = 8,
        MODE_CB1B = 16,
        MODE_FE1B = 32,
        MODE_ALL = 63
};
#define BATCH_MAX 64
/* Callback mode makes no control call while it runs and its stacks punt
 * nothing (static neighbours, one UDP port): the control thread sleeps
 * until the stacks' next timer, at most this long, so that it takes no
 * time from the workers' vCPUs. */
#define CTL_PARK_NS 100000000ull

static uint64_t ctl_park_ns = CTL_PARK_NS;
static uint64_t batch = 32; /* cb1b, fe1b: datagrams a batched call */
static const char payload[PAYLOAD] = "mpnet udp bench 18";

/* A cache line each: the two workers of cb2 count on their own lines. */
struct flow {
        _Alignas(64) int fa, fb;
        _Atomic uint64_t n; /* datagrams received (both ends), one writer */
        struct mpnet_stack *a;
};

struct rnet {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        struct mpnet_runtime *rt;
        struct flow f[2];
        unsigned n_flows;
        pthread_t ctl;
        atomic_bool stop_ctl;
        /* The control thread's longest sleep between polls: 1 ms where the
         * front end's control calls wait on it, CTL_PARK_NS in callback
         * mode. It sleeps on ctl_cv, which a stop signals. */
        uint64_t ctl_period_ns;
        pthread_mutex_t ctl_mu;
        pthread_cond_t ctl_cv;
};

static void die(const char *what, int err)
{
        fprintf(stderr, "bench_udp_rate: %s: %d\n", what, err);
        exit(1);
}

static struct mpnet_stack *stack_new(struct rnet *n, const char *name, struct mpnet_link *l,
                                     uint32_t addr, uint64_t seed)
{
        struct mpnet_stack_cfg sc = {.name = name, .clock = &n->clk, .pool = n->pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1 ||
            mpnet_addr4_add(s, 1, addr, 24) != 0)
                die("stack", 0);
        return s;
}

/* The control threads of A and B: what the front end's control calls,
 * the timers and the closes need. It polls, then sleeps until the earlier
 * of the stacks' next timer and ctl_period_ns on, or until a stop. */
static void *ctl_main(void *arg)
{
        struct rnet *n = arg;

        pthread_mutex_lock(&n->ctl_mu);
        while (!atomic_load(&n->stop_ctl)) {
                uint64_t now = mpnet_clock_now(&n->clk);
                uint64_t ta = mpnet_stack_poll(n->a, now);
                uint64_t tb = mpnet_stack_poll(n->b, now);
                uint64_t until = now + n->ctl_period_ns;
                struct timespec ts;

                if (ta < until)
                        until = ta;
                if (tb < until)
                        until = tb;
                if (until <= now || atomic_load(&n->stop_ctl))
                        continue;
                /* The stack's clock is CLOCK_MONOTONIC in ns, as ctl_cv's. */
                ts.tv_sec = (time_t)(until / 1000000000u);
                ts.tv_nsec = (long)(until % 1000000000u);
                pthread_cond_timedwait(&n->ctl_cv, &n->ctl_mu, &ts);
        }
        pthread_mutex_unlock(&n->ctl_mu);
        return NULL;
}

static void ctl_start(struct rnet *n)
{
        atomic_store(&n->stop_ctl, false);
        if (pthread_create(&n->ctl, NULL, ctl_main, n) != 0)
                die("ctl thread", 0);
}

static void ctl_stop(struct rnet *n)
{
        pthread_mutex_lock(&n->ctl_mu);
        atomic_store(&n->stop_ctl, true);
        pthread_cond_signal(&n->ctl_cv);
        pthread_mutex_unlock(&n->ctl_mu);
        pthread_join(n->ctl, NULL);
}

/* B, on its home worker: echo each datagram. */
static void b_echo(struct mpnet_stack *s, int fd, void *arg)
{
        struct flow *f = arg;
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        char buf[64];
        ssize_t r;
        uint64_t k = 0;

        while ((r = mpnet_recvfrom(s, fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) >=
               0) {
                mpnet_sendto(s, fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
                fl = sizeof(from);
                k++;
        }
        atomic_store_explicit(&f->n, atomic_load_explicit(&f->n, memory_order_relaxed) + k,
                              memory_order_relaxed);
}

/* A, on its home worker: each echo sends the next. */
static void a_next(struct mpnet_stack *s, int fd, void *arg)
{
        struct flow *f = arg;
        char buf[64];
        uint64_t k = 0;

        while (mpnet_recvfrom(s, fd, buf, sizeof(buf), 0, NULL, NULL) >= 0) {
                mpnet_sendto(s, fd, payload, PAYLOAD, 0, NULL, 0);
                k++;
        }
        atomic_store_explicit(&f->n, atomic_load_explicit(&f->n, memory_order_relaxed) + k,
                              memory_order_relaxed);
}

/* Vectors for the batched modes, set up once per thread: a receive's
 * (BATCH_MAX buffers of 64 bytes, names when asked) and a send's. */
struct mbatch {
        struct mpnet_mmsghdr rx[BATCH_MAX], tx[BATCH_MAX];
        struct iovec riov[BATCH_MAX], tiov[BATCH_MAX];
        struct sockaddr_in from[BATCH_MAX];
        char buf[BATCH_MAX][64];
        bool ready;
};

/* names: receive the sources and send back to them (B's echo); else
 * every send is the payload to the peer. */
static void mbatch_init(struct mbatch *b, bool names)
{
        for (unsigned i = 0; i < BATCH_MAX; i++) {
                b->riov[i] = (struct iovec){b->buf[i], sizeof(b->buf[i])};
                b->rx[i].msg_hdr = (struct msghdr){
                    .msg_name = names ? &b->from[i] : NULL,
                    .msg_namelen = names ? sizeof(b->from[i]) : 0,
                    .msg_iov = &b->riov[i],
                    .msg_iovlen = 1,
                };
                b->tiov[i] = (struct iovec){(void *)payload, PAYLOAD};
                b->tx[i].msg_hdr = (struct msghdr){
                    .msg_name = names ? &b->from[i] : NULL,
                    .msg_iov = &b->tiov[i],
                    .msg_iovlen = 1,
                };
        }
        b->ready = true;
}

/* cb1b: B echoes a batch at a time, each back to where it came from. */
static void b_echo_mmsg(struct mpnet_stack *s, int fd, void *arg)
{
        static _Thread_local struct mbatch b;
        struct flow *f = arg;
        uint64_t k = 0;
        int r;

        if (!b.ready)
                mbatch_init(&b, true);
        while ((r = mpnet_recvmmsg(s, fd, b.rx, (unsigned)batch, 0, NULL)) > 0) {
                for (int i = 0; i < r; i++) {
                        b.tiov[i] = (struct iovec){b.buf[i], b.rx[i].msg_len};
                        b.tx[i].msg_hdr.msg_namelen = b.rx[i].msg_hdr.msg_namelen;
                        b.rx[i].msg_hdr.msg_namelen = sizeof(b.from[i]);
                }
                mpnet_sendmmsg(s, fd, b.tx, (unsigned)r, 0);
                k += (uint64_t)r;
        }
        atomic_store_explicit(&f->n, atomic_load_explicit(&f->n, memory_order_relaxed) + k,
                              memory_order_relaxed);
}

/* cb1b: A sends as many as a batch brought back. */
static void a_next_mmsg(struct mpnet_stack *s, int fd, void *arg)
{
        static _Thread_local struct mbatch b;
        struct flow *f = arg;
        uint64_t k = 0;
        int r;

        if (!b.ready)
                mbatch_init(&b, false);
        while ((r = mpnet_recvmmsg(s, fd, b.rx, (unsigned)batch, 0, NULL)) > 0) {
                mpnet_sendmmsg(s, fd, b.tx, (unsigned)r, 0);
                k += (uint64_t)r;
        }
        atomic_store_explicit(&f->n, atomic_load_explicit(&f->n, memory_order_relaxed) + k,
                              memory_order_relaxed);
}

static void a_start(struct mpnet_stack *s, int fd, void *arg)
{
        (void)arg;
        for (int i = 0; i < WINDOW; i++)
                mpnet_sendto(s, fd, payload, PAYLOAD, 0, NULL, 0);
}

/* Two stacks on an RSS wire; worker w polls queue w of both, on cpus[w]. */
static void rnet_init(struct rnet *n, unsigned n_workers, const int *cpus, uint64_t ctl_period_ns)
{
        struct mpnet_memwire_cfg wc = {
            .name = "rate", .n_queues = 2, .rss = true, .ring_size = 4096};
        struct mpnet_runtime_cfg rc = {.n_workers = n_workers, .cpus = cpus};

        pthread_condattr_t ca;

        memset(n, 0, sizeof(*n));
        n->ctl_period_ns = ctl_period_ns;
        pthread_mutex_init(&n->ctl_mu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&n->ctl_cv, &ca);
        pthread_condattr_destroy(&ca);
        mpnet_clock_init_monotonic(&n->clk);
        n->pool = mpnet_pool_create("rate", 65536);
        if (n->pool == NULL || mpnet_memwire_create(&wc, &n->la, &n->lb) != 0)
                die("wire", 0);
        n->a = stack_new(n, "A", n->la, A_ADDR, 11);
        n->b = stack_new(n, "B", n->lb, B_ADDR, 12);
        mpnet_neigh4_add(n->a, 1, B_ADDR, n->lb->info.mac);
        mpnet_neigh4_add(n->b, 1, A_ADDR, n->la->info.mac);
        n->rt = mpnet_runtime_create(&rc);
        if (n->rt == NULL)
                die("runtime", 0);
        for (unsigned q = 0; q < 2; q++) {
                unsigned w = q % n_workers;

                if (mpnet_runtime_assign(n->rt, w, n->a, 1, (uint16_t)q) != 0 ||
                    mpnet_runtime_assign(n->rt, w, n->b, 1, (uint16_t)q) != 0)
                        die("assign", 0);
        }
        if (mpnet_runtime_start(n->rt) != 0)
                die("start", 0);
        ctl_start(n);
}

static void rnet_fini(struct rnet *n)
{
        ctl_stop(n);
        mpnet_runtime_stop(n->rt);
        mpnet_runtime_destroy(n->rt);
        mpnet_stack_destroy(n->a);
        mpnet_stack_destroy(n->b);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        mpnet_pool_destroy(n->pool);
        pthread_cond_destroy(&n->ctl_cv);
        pthread_mutex_destroy(&n->ctl_mu);
}

static void setopt_int(struct mpnet_stack *s, int fd, int level, int name, int v)
{
        int err = mpnet_setsockopt(s, fd, level, name, &v, sizeof(v));

        if (err != 0)
                die("setsockopt", err);
}

/* B's socket of flow i, homed on context home. (Called before the control
 * thread polls: bench setup is the control thread's.) */
static void b_open(struct rnet *n, struct flow *f, int home)
{
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(B_PORT)};
        int err;

        f->fb = mpnet_socket(n->b, AF_INET, SOCK_DGRAM, 0);
        setopt_int(n->b, f->fb, SOL_SOCKET, SO_REUSEPORT, 1);
        setopt_int(n->b, f->fb, SOL_SOCKET, SO_RCVBUF, 8 << 20);
        setopt_int(n->b, f->fb, SOL_MPNET, MPNET_SO_HOME, home);
        err = mpnet_bind(n->b, f->fb, (struct sockaddr *)&me, sizeof(me));
        if (err != 0)
                die("bind", err);
        if (mpnet_sock_set_cb(n->b, f->fb, b_echo, f) != 0)
                die("cb", 0);
}

static struct sockaddr_in b_addr(void)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(B_PORT)};

        to.sin_addr.s_addr = htonl(B_ADDR);
        return to;
}

static uint64_t proc_cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Callback mode: n_flows flows, flow i on worker i % n_workers. @return
 * datagrams a second; *cyc the TSC cycles per datagram of one worker (NULL:
 * not wanted); *cpu the CPUs the process had meanwhile (its CPU time over
 * the wall time: on a shared machine the scheduler's share, which the
 * rate follows). */
static double run_cb(unsigned n_flows, unsigned n_workers, uint64_t ms, double *cyc, double *cpu,
                     bool mmsg)
{
        static const int cpus[2] = {1, 0};
        struct rnet n;
        struct sockaddr_in to = b_addr();
        uint64_t t0, t1, c0, c1, p0, p1, d0 = 0, d1 = 0;
        int err;

        /* The control thread starts in rnet_init: set up before, as the
         * control thread, with the runtime running (contexts exist). */
        rnet_init(&n, n_workers, n_workers == 1 ? cpus : (const int[]){0, 1}, ctl_park_ns);
        ctl_stop(&n);
        for (unsigned i = 0; i < n_flows; i++) {
                struct flow *f = &n.f[i];
                int home = 1 + (int)(i % n_workers);

                b_open(&n, f, home);
                if (mmsg)
                        mpnet_sock_set_cb(n.b, f->fb, b_echo_mmsg, f);
                f->fa = mpnet_socket(n.a, AF_INET, SOCK_DGRAM, 0);
                setopt_int(n.a, f->fa, SOL_SOCKET, SO_RCVBUF, 8 << 20);
                setopt_int(n.a, f->fa, SOL_MPNET, MPNET_SO_HOME, home);
                err = mpnet_connect(n.a, f->fa, (struct sockaddr *)&to, sizeof(to));
                if (err != 0)
                        die("connect", err);
                mpnet_sock_set_cb(n.a, f->fa, mmsg ? a_next_mmsg : a_next, f);
        }
        ctl_start(&n);
        for (unsigned i = 0; i < n_flows; i++)
                mpnet_sock_run(n.a, n.f[i].fa, a_start, NULL);
        usleep(100000); /* warm */
        for (unsigned i = 0; i < n_flows; i++)
                d0 += atomic_load(&n.f[i].n);
        t0 = bench_now_ns();
        c0 = bench_tsc();
        p0 = proc_cpu_ns();
        usleep((useconds_t)(ms * 1000));
        for (unsigned i = 0; i < n_flows; i++)
                d1 += atomic_load(&n.f[i].n);
        t1 = bench_now_ns();
        c1 = bench_tsc();
        p1 = proc_cpu_ns();
        *cpu = (double)(p1 - p0) / (double)(t1 - t0);
        if (cyc != NULL)
                *cyc = (double)(c1 - c0) * n_workers / (double)(d1 - d0);
        rnet_fini(&n);
        return (double)(d1 - d0) * 1e9 / (double)(t1 - t0);
}

struct fe_app {
        struct rnet *n;
        uint64_t ms;
        bool mmsg;
        double rate, cpu;
        int err;
};

/* fe1b: take a batch (waiting for the first), send as many. @return how
 * many, or a negative errno. */
static int fe_turn_mmsg(struct mpnet_tsock *ts, struct mbatch *b)
{
        int r;

        if (!b->ready)
                mbatch_init(b, false);
        r = mpnet_ts_recvmmsg(ts, b->rx, (unsigned)batch, 0, NULL);
        if (r <= 0)
                return r < 0 ? r : -EIO;
        for (int i = 0; i < r; i++)
                if (b->rx[i].msg_len != PAYLOAD)
                        return -EIO;
        return mpnet_ts_sendmmsg(ts, b->tx, (unsigned)r, 0) == r ? r : -EIO;
}

/* The application thread of fe1 (CPU 0). */
static void *fe_main(void *arg)
{
        struct fe_app *ap = arg;
        struct rnet *n = ap->n;
        struct sockaddr_in to = b_addr();
        struct mpnet_tsock *ts;
        struct timeval tv = {.tv_sec = 1};
        int home = 1;
        char buf[64];
        static struct mbatch b; /* one application thread at a time */
        uint64_t got = 0, t0 = 0, g0 = 0, p0 = 0, warm, end, mark = 256;

        bench_pin_self(0);
        mpnet_thread_slot_acquire();
        if (mpnet_ts_socket(n->a, AF_INET, SOCK_DGRAM, 0, &ts) < 0 ||
            mpnet_ts_setsockopt(ts, SOL_MPNET, MPNET_SO_HOME, &home, sizeof(home)) != 0 ||
            mpnet_ts_setsockopt(ts, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
            mpnet_ts_connect(ts, (struct sockaddr *)&to, sizeof(to)) != 0) {
                ap->err = 1;
                return NULL;
        }
        for (int i = 0; i < WINDOW; i++)
                mpnet_ts_sendto(ts, payload, PAYLOAD, 0, NULL, 0);
        warm = bench_now_ns() + 100 * 1000000ull;
        end = warm + ap->ms * 1000000ull;
        for (;;) {
                uint64_t now;

                if (ap->mmsg) {
                        int r = fe_turn_mmsg(ts, &b);

                        if (r < 0) {
                                ap->err = 3;
                                break;
                        }
                        got += (uint64_t)r;
                } else {
                        if (mpnet_ts_recvfrom(ts, buf, sizeof(buf), 0, NULL, NULL) != PAYLOAD) {
                                ap->err = 2;
                                break;
                        }
                        got++;
                        mpnet_ts_sendto(ts, payload, PAYLOAD, 0, NULL, 0);
                }
                if (got < mark)
                        continue;
                mark = got + 256;
                now = bench_now_ns();
                if (t0 == 0 && now >= warm) {
                        t0 = now;
                        p0 = proc_cpu_ns();
                        g0 = got + atomic_load(&n->f[0].n);
                }
                if (now >= end) {
                        ap->rate =
                            (double)(got + atomic_load(&n->f[0].n) - g0) * 1e9 / (double)(now - t0);
                        ap->cpu = (double)(proc_cpu_ns() - p0) / (double)(now - t0);
                        break;
                }
        }
        mpnet_ts_close(ts);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static double run_fe(uint64_t ms, bool mmsg, double *cpu)
{
        static const int cpus[1] = {1};
        struct rnet n;
        struct fe_app ap = {.n = &n, .ms = ms, .mmsg = mmsg};
        pthread_t th;

        rnet_init(&n, 1, cpus, 1000000);
        ctl_stop(&n);
        b_open(&n, &n.f[0], 1);
        ctl_start(&n);
        pthread_create(&th, NULL, fe_main, &ap);
        pthread_join(th, NULL);
        rnet_fini(&n);
        if (ap.err != 0)
                die("front end", ap.err);
        *cpu = ap.cpu;
        return ap.rate;
}

/* ---- Linux over veth ---- */

struct lx {
        atomic_bool stop;
        _Atomic uint64_t got;
        int err;
};

static int in_netns(const char *name)
{
        char path[64];
        int fd, err;

        snprintf(path, sizeof(path), "/var/run/netns/%s", name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        err = setns(fd, CLONE_NEWNET);
        close(fd);
        return err != 0 ? -errno : 0;
}

static void *lx_rx(void *arg)
{
        struct lx *l = arg;
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(B_PORT)};
        struct timeval tv = {.tv_usec = 100000};
        struct mmsghdr m[32];
        struct iovec iov[32];
        char buf[32][64];
        int fd, big = 8 << 20;

        bench_pin_self(1);
        if (in_netns("mpnb1") != 0 || (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
                l->err = 1;
                return NULL;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
                l->err = 2;
                close(fd);
                return NULL;
        }
        for (int i = 0; i < 32; i++) {
                iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
                m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        while (!atomic_load(&l->stop)) {
                int k = recvmmsg(fd, m, 32, 0, NULL);

                if (k > 0)
                        atomic_fetch_add(&l->got, (uint64_t)k);
        }
        close(fd);
        return NULL;
}

static void *lx_tx(void *arg)
{
        struct lx *l = arg;
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(B_PORT)};
        struct mmsghdr m[32];
        struct iovec iov = {(void *)payload, PAYLOAD};
        int fd;

        bench_pin_self(0);
        to.sin_addr.s_addr = htonl(0xc6120002u); /* 198.18.0.2 */
        if (in_netns("mpnb0") != 0 || (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
                l->err = 3;
                return NULL;
        }
        if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
                l->err = 4;
                close(fd);
                return NULL;
        }
        for (int i = 0; i < 32; i++)
                m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
        while (!atomic_load(&l->stop))
                (void)sendmmsg(fd, m, 32, 0);
        close(fd);
        return NULL;
}

static void lx_down(void)
{
        (void)!system("ip netns del mpnb0 2>/dev/null; ip netns del mpnb1 2>/dev/null");
}

static bool lx_up(void)
{
        if (geteuid() != 0)
                return false;
        lx_down();
        return system("ip netns add mpnb0 && ip netns add mpnb1 && "
                      "ip link add mpv0 netns mpnb0 type veth peer name mpv1 netns mpnb1 && "
                      "ip -n mpnb0 addr add 198.18.0.1/24 dev mpv0 && "
                      "ip -n mpnb1 addr add 198.18.0.2/24 dev mpv1 && "
                      "ip -n mpnb0 link set mpv0 up && ip -n mpnb1 link set mpv1 up") == 0;
}

/* @return datagrams received a second, or a negative value on failure. */
static double run_linux(uint64_t ms)
{
        struct lx l = {0};
        pthread_t rx, tx;
        uint64_t g0, g1, t0, t1;

        pthread_create(&rx, NULL, lx_rx, &l);
        usleep(50000);
        pthread_create(&tx, NULL, lx_tx, &l);
        usleep(100000);
        g0 = atomic_load(&l.got);
        t0 = bench_now_ns();
        usleep((useconds_t)(ms * 1000));
        g1 = atomic_load(&l.got);
        t1 = bench_now_ns();
        atomic_store(&l.stop, true);
        pthread_join(tx, NULL);
        pthread_join(rx, NULL);
        if (l.err != 0)
                return -l.err;
        return (double)(g1 - g0) * 1e9 / (double)(t1 - t0);
}

int main(int argc, char **argv)
{
        uint64_t ms = 1000, runs = 5, ctl_us = CTL_PARK_NS / 1000, modes = MODE_ALL;
        bool do_linux;
        double cb1[16], fe1[16], cb2[16], lx[16], cyc[16], cpu1[16], cpu2[16];
        double pc1[16], pc2[16], cb1b[16], fe1b[16], cyc1b[16], cpu1b[16], cpuf[16], cpufb[16];
        double pc1b[16], pcf[16], pcfb[16];
        struct bench_json j;
        double m_cb1, m_fe1, m_cb2, m_lx = 0;
        struct bench_opt opts[] = {
            {"ms", BENCH_OPT_U64, &ms, 10, 60000, "milliseconds a run"},
            {"runs", BENCH_OPT_U64, &runs, 1, 16, "runs per mode (the median is reported)"},
            {"ctl-us", BENCH_OPT_U64, &ctl_us, 1, 1000000,
             "callback mode: the control thread's longest sleep, us"},
            {"modes", BENCH_OPT_U64, &modes, 1, MODE_ALL,
             "modes to run, a mask: 1 cb1, 2 fe1, 4 cb2, 8 linux, 16 cb1b, 32 fe1b"},
            {"batch", BENCH_OPT_U64, &batch, 1, BATCH_MAX,
             "cb1b, fe1b: datagrams a batched call (mpnet_*mmsg) at most"},
        };

        bench_parse_args(argc, argv,
                         "UDP datagram rate: mpnet callbacks and front end vs Linux over veth",
                         opts, sizeof(opts) / sizeof(opts[0]));
        ctl_park_ns = ctl_us * 1000;
        mpnet_thread_set_slot(MPNET_MAX_SLOTS - 1);
        do_linux = (modes & MODE_LINUX) && lx_up();
        if (!do_linux && (modes & MODE_LINUX))
                fprintf(stderr, "bench_udp_rate: no veth namespaces (needs root and ip): Linux "
                                "skipped\n");
        for (uint64_t r = 0; r < runs; r++) {
                cb1[r] = cyc[r] = cpu1[r] = fe1[r] = cb2[r] = cb1b[r] = fe1b[r] = cyc1b[r] = 0;
                cpu1[r] = cpu2[r] = cpu1b[r] = cpuf[r] = cpufb[r] = 1;
                if (modes & MODE_CB1)
                        cb1[r] = run_cb(1, 1, ms, &cyc[r], &cpu1[r], false);
                if (modes & MODE_CB1B)
                        cb1b[r] = run_cb(1, 1, ms, &cyc1b[r], &cpu1b[r], true);
                if (modes & MODE_FE1)
                        fe1[r] = run_fe(ms, false, &cpuf[r]);
                if (modes & MODE_FE1B)
                        fe1b[r] = run_fe(ms, true, &cpufb[r]);
                if (modes & MODE_CB2)
                        cb2[r] = run_cb(2, 2, ms, NULL, &cpu2[r], false);
                lx[r] = do_linux ? run_linux(ms) : 0;
                if (lx[r] < 0) {
                        fprintf(stderr, "bench_udp_rate: Linux run failed (%d): skipped\n",
                                (int)lx[r]);
                        do_linux = false;
                }
        }
        if (do_linux)
                lx_down();
        m_cb1 = bench_median(cb1, runs);
        m_fe1 = bench_median(fe1, runs);
        m_cb2 = bench_median(cb2, runs);
        for (uint64_t r = 0; r < runs; r++) {
                pc1[r] = cb1[r] / cpu1[r];
                pc2[r] = cb2[r] / cpu2[r];
                pc1b[r] = cb1b[r] / cpu1b[r];
                pcf[r] = fe1[r] / cpuf[r];
                pcfb[r] = fe1b[r] / cpufb[r];
        }
        if (do_linux)
                m_lx = bench_median(lx, runs);
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "udp_rate");
        bench_json_machine(&j);
        bench_json_u64(&j, "payload_bytes", PAYLOAD);
        bench_json_u64(&j, "window", WINDOW);
        bench_json_u64(&j, "ms", ms);
        bench_json_u64(&j, "runs", runs);
        bench_json_stat(&j, "cb1_dgram_per_s", cb1, runs);
        bench_json_stat(&j, "fe1_dgram_per_s", fe1, runs);
        bench_json_stat(&j, "cb2_dgram_per_s", cb2, runs);
        bench_json_num(&j, "cb1_cycles_per_dgram", bench_median(cyc, runs));
        bench_json_u64(&j, "batch", batch);
        bench_json_stat(&j, "cb1b_dgram_per_s", cb1b, runs);
        bench_json_stat(&j, "fe1b_dgram_per_s", fe1b, runs);
        bench_json_num(&j, "cb1b_cycles_per_dgram", bench_median(cyc1b, runs));
        if (do_linux) {
                bench_json_stat(&j, "linux_dgram_per_s", lx, runs);
                bench_json_num(&j, "ratio_cb1_linux", m_cb1 / m_lx);
                bench_json_num(&j, "ratio_fe1_linux", m_fe1 / m_lx);
                bench_json_num(&j, "ratio_cb1b_linux", bench_median(cb1b, runs) / m_lx);
                bench_json_num(&j, "ratio_fe1b_linux", bench_median(fe1b, runs) / m_lx);
        } else {
                bench_json_str(&j, "linux", "skipped: needs root and ip netns");
        }
        bench_json_num(&j, "ratio_cb2_cb1", m_cb2 / m_cb1);
        /* What the scheduler gave each mode, and the rates per CPU-second:
         * two flows scale by twice their ratio where each has a core. */
        bench_json_stat(&j, "cb1_cpus", cpu1, runs);
        bench_json_stat(&j, "cb2_cpus", cpu2, runs);
        bench_json_stat(&j, "cb1_dgram_per_cpu_s", pc1, runs);
        bench_json_stat(&j, "cb2_dgram_per_cpu_s", pc2, runs);
        bench_json_stat(&j, "cb1b_cpus", cpu1b, runs);
        bench_json_stat(&j, "fe1_cpus", cpuf, runs);
        bench_json_stat(&j, "fe1b_cpus", cpufb, runs);
        bench_json_stat(&j, "cb1b_dgram_per_cpu_s", pc1b, runs);
        bench_json_stat(&j, "fe1_dgram_per_cpu_s", pcf, runs);
        bench_json_stat(&j, "fe1b_dgram_per_cpu_s", pcfb, runs);
        bench_json_num(&j, "ratio_cb1b_cb1_per_cpu",
                       bench_median(pc1b, runs) / bench_median(pc1, runs));
        bench_json_num(
            &j, "ratio_fe1b_fe1_per_cpu",
            bench_median(pcf, runs) > 0 ? bench_median(pcfb, runs) / bench_median(pcf, runs) : 0);
        bench_json_num(&j, "ratio_cb2_cb1_per_cpu",
                       bench_median(pc2, runs) / bench_median(pc1, runs));
        /* What a datagram costs in the CPU time the process had (TSC
         * ticks a CPU-second over datagrams a CPU-second): under load the
         * wall-clock cycles above count the time others ran. */
        bench_json_num(&j, "cb1_cpu_cycles_per_dgram", bench_tsc_hz() / bench_median(pc1, runs));
        bench_json_obj_end(&j);
        putchar('\n');
        return 0;
}
