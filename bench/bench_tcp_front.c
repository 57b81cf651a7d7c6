/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp_front: one TCP connection written by an application thread
 * (neither the control thread nor a worker), through the thread-safe front
 * end (mpnet_ts_sendto: the bytes go through the socket's SPSC ring to its
 * home) and through synchronous commands (mpnet_sendto from that thread:
 * each call runs on the home and the thread waits for it), in the same
 * run.
 *
 *   A --memory wire, 1 queue each way-- B
 *
 * One runtime of 1 worker, which polls both stacks; the client socket is
 * homed on it (MPNET_SO_HOME 1), and so is B's listener, whose callback
 * accepts there and gives the connection a callback that reads and
 * discards. The control thread polls.
 *
 * Figures per repeat and way: Gbit/s of payload by the wall clock (the
 * first send to the last byte read by B), and TSC cycles per payload byte
 * from the process's CPU time (every thread). The ratio front end /
 * commands is computed per repeat from the two runs made back to back.
 *
 * Usage: bench_tcp_front [--mbytes N] [--chunk N] [--repeat N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
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
#include "mpnet/thread.h"
#include "mpnet/worker.h"

#define A_ADDR 0xc6120001u /* 198.18.0.1 */
#define B_ADDR 0xc6120002u /* 198.18.0.2 */
#define PORT   5001

static uint8_t wbuf[1 << 20];

struct sink {
        _Atomic uint64_t got;
        _Atomic int bad;
};

struct app {
        struct mpnet_stack *s;
        struct mpnet_pool *pool;
        struct sockaddr_in to;
        struct mpnet_tsock *ts; /* front end; NULL: commands on fd */
        bool front;
        int fd;
        uint64_t bytes;
        size_t chunk;
        _Atomic uint64_t t0, c0; /* when the first send went */
        _Atomic int bad;
        _Atomic bool done;
};

static uint64_t proc_cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cb_recv(struct mpnet_stack *s, int fd, void *arg)
{
        static _Thread_local uint8_t rb[65536];
        struct sink *k = arg;
        ssize_t r;

        while ((r = mpnet_recvfrom(s, fd, rb, sizeof(rb), 0, NULL, NULL)) > 0)
                atomic_fetch_add_explicit(&k->got, (uint64_t)r, memory_order_relaxed);
        if (r != -EAGAIN && r != 0)
                atomic_store(&k->bad, (int)r);
}

/* B's listener callback, on its home worker: accept there. */
static void cb_accept(struct mpnet_stack *s, int lfd, void *arg)
{
        int fd;

        while ((fd = mpnet_accept(s, lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                if (mpnet_sock_set_cb(s, fd, cb_recv, arg) != 0)
                        atomic_store(&((struct sink *)arg)->bad, -1);
                cb_recv(s, fd, arg);
        }
}

static uint64_t proc_cpu_ns(void);

/* The application thread: with the front end it makes its socket itself
 * (its control calls wait for the polling control thread); with commands
 * the control thread made and connected it. */
static void *app_main(void *arg)
{
        struct app *a = arg;
        uint64_t left = a->bytes;
        int home = 1;

        mpnet_thread_slot_acquire();
        if (a->front) {
                a->fd = mpnet_ts_socket(a->s, AF_INET, SOCK_STREAM, 0, &a->ts);
                if (a->fd < 0 ||
                    mpnet_ts_setsockopt(a->ts, SOL_MPNET, MPNET_SO_HOME, &home, sizeof(home)) !=
                        0 ||
                    mpnet_ts_connect(a->ts, (struct sockaddr *)&a->to, sizeof(a->to)) != 0) {
                        atomic_store(&a->bad, -1);
                        atomic_store(&a->done, true);
                        return NULL;
                }
        }
        atomic_store(&a->c0, proc_cpu_ns());
        atomic_store(&a->t0, bench_now_ns());
        while (left > 0) {
                size_t k = left < a->chunk ? (size_t)left : a->chunk;
                ssize_t r = a->front ? mpnet_ts_sendto(a->ts, wbuf, k, 0, NULL, 0)
                                     : mpnet_sendto(a->s, a->fd, wbuf, k, 0, NULL, 0);

                if (r == -EAGAIN) {
                        sched_yield(); /* commands: the send buffer is full */
                        continue;
                }
                if (r <= 0) {
                        atomic_store(&a->bad, (int)r);
                        break;
                }
                left -= (uint64_t)r;
        }
        mpnet_pool_flush_cache(a->pool);
        atomic_store(&a->done, true);
        return NULL;
}

static _Atomic bool closed;

static void *close_main(void *arg)
{
        struct app *a = arg;

        mpnet_ts_close(a->ts);
        atomic_store(&closed, true);
        return NULL;
}

static int opt(struct mpnet_stack *s, int fd, int level, int name, int v)
{
        return mpnet_setsockopt(s, fd, level, name, &v, sizeof(v));
}

static struct mpnet_stack *stack_new(struct mpnet_clock *ck, struct mpnet_pool *pool,
                                     const char *name, struct mpnet_link *l, uint32_t addr)
{
        struct mpnet_stack_cfg sc = {.name = name, .clock = ck, .pool = pool, .seed = addr};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1 ||
            mpnet_addr4_add(s, 1, addr, 24) != 0)
                bench_die("stack %s\n", name);
        return s;
}

struct run {
        double gbps, cyc_byte;
};

static void poll2(struct mpnet_stack *a, struct mpnet_stack *b, struct mpnet_clock *ck)
{
        mpnet_stack_poll(a, mpnet_clock_now(ck));
        mpnet_stack_poll(b, mpnet_clock_now(ck));
}

static struct run run_once(bool front, uint64_t bytes, size_t chunk)
{
        struct mpnet_memwire_cfg wc = {.name = "tcpfe", .n_queues = 1, .ring_size = 4096};
        struct mpnet_runtime_cfg rc = {.n_workers = 1};
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        static struct sink sink;
        static struct app app;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        struct mpnet_runtime *rt;
        struct mpnet_pool *pool;
        struct mpnet_clock ck;
        struct run out = {0};
        uint64_t t0, c0, t1, c1;
        pthread_t th;
        int lfd;

        mpnet_clock_init_monotonic(&ck);
        pool = mpnet_pool_create("tcpfe", 65536);
        if (pool == NULL || mpnet_memwire_create(&wc, &la, &lb) != 0)
                bench_die("pool or wire\n");
        a = stack_new(&ck, pool, "A", la, A_ADDR);
        b = stack_new(&ck, pool, "B", lb, B_ADDR);
        if (mpnet_neigh4_add(a, 1, B_ADDR, lb->info.mac) != 0 ||
            mpnet_neigh4_add(b, 1, A_ADDR, la->info.mac) != 0)
                bench_die("neighbours\n");
        rt = mpnet_runtime_create(&rc);
        if (rt == NULL || mpnet_runtime_assign(rt, 0, a, 1, 0) != 0 ||
            mpnet_runtime_assign(rt, 0, b, 1, 0) != 0 || mpnet_runtime_start(rt) != 0)
                bench_die("runtime\n");
        sa.sin_addr.s_addr = htonl(B_ADDR);
        atomic_store(&sink.got, 0);
        atomic_store(&sink.bad, 0);
        lfd = mpnet_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (lfd < 0 || opt(b, lfd, SOL_MPNET, MPNET_SO_HOME, 1) != 0 ||
            mpnet_bind(b, lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            mpnet_listen(b, lfd, 16) != 0 || mpnet_sock_set_cb(b, lfd, cb_accept, &sink) != 0)
                bench_die("listener\n");
        atomic_store(&closed, false);
        memset(&app, 0, sizeof(app));
        app.s = a;
        app.pool = pool;
        app.to = sa;
        app.front = front;
        app.bytes = bytes;
        app.chunk = chunk;
        if (!front) {
                app.fd = mpnet_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (app.fd < 0 || opt(a, app.fd, SOL_MPNET, MPNET_SO_HOME, 1) != 0 ||
                    mpnet_connect(a, app.fd, (struct sockaddr *)&sa, sizeof(sa)) != -EINPROGRESS)
                        bench_die("connect\n");
        }
        if (pthread_create(&th, NULL, app_main, &app) != 0)
                bench_die("thread\n");
        /* The control thread polls (a while apart: its own cycles count). */
        while (atomic_load(&sink.got) < bytes) {
                poll2(a, b, &ck);
                usleep(200);
                if (atomic_load(&app.bad) != 0 || atomic_load(&sink.bad) != 0)
                        bench_die("send %d, receive %d\n", atomic_load(&app.bad),
                                  atomic_load(&sink.bad));
        }
        t1 = bench_now_ns();
        c1 = proc_cpu_ns();
        while (!atomic_load(&app.done))
                poll2(a, b, &ck);
        pthread_join(th, NULL);
        t0 = atomic_load(&app.t0);
        c0 = atomic_load(&app.c0);
        out.gbps = (double)bytes * 8 / (double)(t1 - t0);
        out.cyc_byte = (double)(c1 - c0) * 1e-9 * bench_tsc_hz() / (double)bytes;
        if (front) {
                /* Its close is a control call too: from a helper thread. */
                struct app *ap = &app;

                if (pthread_create(&th, NULL, close_main, ap) != 0)
                        bench_die("thread\n");
                while (!atomic_load(&closed))
                        poll2(a, b, &ck);
                pthread_join(th, NULL);
        } else {
                mpnet_close(a, app.fd);
        }
        mpnet_close(b, lfd);
        mpnet_runtime_stop(rt);
        mpnet_runtime_destroy(rt);
        mpnet_stack_destroy(a);
        mpnet_stack_destroy(b);
        mpnet_link_destroy(la);
        mpnet_link_destroy(lb);
        mpnet_pool_destroy(pool);
        return out;
}

int main(int argc, char **argv)
{
        uint64_t mbytes = 256, repeat = 5, chunk = 65536;
        const struct bench_opt opts[] = {
            {"mbytes", BENCH_OPT_U64, &mbytes, 1, 1 << 20, "MB carried per run"},
            {"chunk", BENCH_OPT_U64, &chunk, 1, sizeof(wbuf), "bytes per send call"},
            {"repeat", BENCH_OPT_U64, &repeat, 1, 1000, "repeats (each: both ways)"},
        };
        double gf[1000], gc[1000], cf[1000], cc[1000], ratio[1000], cratio[1000];
        struct bench_json j;

        bench_parse_args(argc, argv,
                         "TCP from an application thread: the front end's rings against "
                         "synchronous commands",
                         opts, sizeof(opts) / sizeof(opts[0]));
        mpnet_thread_set_slot(0);
        memset(wbuf, 'x', sizeof(wbuf));
        run_once(true, 16 << 20, (size_t)chunk); /* warm-up */
        for (uint64_t i = 0; i < repeat; i++) {
                struct run f = run_once(true, mbytes << 20, (size_t)chunk);
                struct run c = run_once(false, mbytes << 20, (size_t)chunk);

                gf[i] = f.gbps;
                cf[i] = f.cyc_byte;
                gc[i] = c.gbps;
                cc[i] = c.cyc_byte;
                ratio[i] = f.gbps / c.gbps;
                cratio[i] = f.cyc_byte / c.cyc_byte;
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_front");
        bench_json_machine(&j);
        bench_json_u64(&j, "bytes", mbytes << 20);
        bench_json_u64(&j, "chunk", chunk);
        bench_json_stat(&j, "gbps_front_end", gf, repeat);
        bench_json_stat(&j, "gbps_commands", gc, repeat);
        bench_json_stat(&j, "ratio_front_to_commands", ratio, repeat);
        bench_json_stat(&j, "cycles_per_byte_front_end", cf, repeat);
        bench_json_stat(&j, "cycles_per_byte_commands", cc, repeat);
        bench_json_stat(&j, "cycles_ratio_front_to_commands", cratio, repeat);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
