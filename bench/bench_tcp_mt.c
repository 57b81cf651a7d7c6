/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp_mt: aggregate TCP throughput of several bulk flows with the
 * connections owned by 1 and by 2 workers, in the same run.
 *
 *   A --memory wire, W queues each way, RSS-- B
 *
 * One runtime of W workers; worker q polls queue q of both stacks. B
 * listens with one listener per worker (SO_REUSEPORT, MPNET_SO_HOME);
 * A's clients connect with MPNET_HOME_FLOW, so each flow lives on one
 * worker at both ends (its port steered there, RFC 6056 + RSS). The
 * senders and receivers are socket callbacks on the homes: a sender
 * writes until the send buffer is full and again when it has room, a
 * receiver reads and discards; the control thread only polls and waits.
 *
 * Figures per repeat and worker count: Gbit/s of payload by the wall
 * clock (all flows together, from the first send to the last byte read),
 * and TSC cycles per payload byte from the process's CPU time (every
 * thread: workers and the control thread). The ratio of 2 workers to 1 is
 * computed per repeat from the two runs made back to back.
 *
 * Pacing is the stack's default (on), buffer auto-tuning is not (off);
 * --autotune turns auto-tuning on (4 MiB limits) and --no-pacing turns
 * pacing off on both stacks, to compare in one binary; --no-autotune
 * keeps auto-tuning off, as the default does. --counters prints each run's loss-recovery counters
 * of the sender (A) to stderr.
 *
 * Usage: bench_tcp_mt [--flows N] [--mbytes N] [--repeat N] [--autotune]
 *                     [--no-autotune] [--no-pacing] [--counters]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#include "mpnet/worker.h"

#define A_ADDR    0xc6120001u /* 198.18.0.1 */
#define B_ADDR    0xc6120002u /* 198.18.0.2 */
#define PORT      5001
#define MAX_FLOWS 64

static uint8_t wbuf[65536];
#define TCP_AUTOTUNE_LIMIT (4u << 20) /* --autotune: mpnet_tcp_set_autotune's limits */

static bool autotune, no_autotune, no_pacing, counters;

struct flow {
        uint64_t left; /* the sender's, on its home */
        _Atomic uint64_t got;
        _Atomic int bad;
};

struct run {
        double gbps, cyc_byte;
        unsigned per_worker[3];
};

static uint64_t proc_cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cb_send(struct mpnet_stack *s, int fd, void *arg)
{
        struct flow *f = arg;

        while (f->left > 0) {
                size_t k = f->left < sizeof(wbuf) ? (size_t)f->left : sizeof(wbuf);
                ssize_t r = mpnet_sendto(s, fd, wbuf, k, 0, NULL, 0);

                if (r == -EAGAIN)
                        return;
                if (r <= 0) {
                        atomic_store(&f->bad, (int)r);
                        return;
                }
                f->left -= (uint64_t)r;
        }
}

static void cb_recv(struct mpnet_stack *s, int fd, void *arg)
{
        static _Thread_local uint8_t rb[65536];
        struct flow *f = arg;
        ssize_t r;

        while ((r = mpnet_recvfrom(s, fd, rb, sizeof(rb), 0, NULL, NULL)) > 0)
                atomic_fetch_add_explicit(&f->got, (uint64_t)r, memory_order_relaxed);
        if (r != -EAGAIN && r != 0)
                atomic_store(&f->bad, (int)r);
}

static struct mpnet_stack *stack_new(struct mpnet_clock *ck, struct mpnet_pool *pool,
                                     const char *name, struct mpnet_link *l, uint32_t addr,
                                     uint64_t seed)
{
        struct mpnet_stack_cfg sc = {.name = name, .clock = ck, .pool = pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1 ||
            mpnet_addr4_add(s, 1, addr, 24) != 0)
                bench_die("stack %s\n", name);
        if (autotune && !no_autotune &&
            mpnet_tcp_set_autotune(s, TCP_AUTOTUNE_LIMIT, TCP_AUTOTUNE_LIMIT) != 0)
                bench_die("autotune\n");
        if (no_autotune && mpnet_tcp_set_autotune(s, 0, 0) != 0)
                bench_die("autotune\n");
        if (no_pacing)
                mpnet_tcp_set_pacing(s, 0);
        return s;
}

static int opt(struct mpnet_stack *s, int fd, int level, int name, int v)
{
        return mpnet_setsockopt(s, fd, level, name, &v, sizeof(v));
}

static struct run run_once(unsigned workers, unsigned n_flows, uint64_t bytes)
{
        struct mpnet_memwire_cfg wc = {
            .name = "tcpmt", .n_queues = (uint16_t)workers, .rss = true, .ring_size = 4096};
        struct mpnet_runtime_cfg rc = {.n_workers = workers};
        static struct flow fl[MAX_FLOWS];
        int lfd[2], cfd[MAX_FLOWS], sfd[MAX_FLOWS];
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        struct mpnet_runtime *rt;
        struct mpnet_pool *pool;
        struct mpnet_clock ck;
        struct run out = {0};
        unsigned ns = 0;
        uint64_t t0, c0, t1, c1, total, per = bytes / n_flows;

        mpnet_clock_init_monotonic(&ck);
        pool = mpnet_pool_create("tcpmt", 65536);
        if (pool == NULL || mpnet_memwire_create(&wc, &la, &lb) != 0)
                bench_die("pool or wire\n");
        a = stack_new(&ck, pool, "A", la, A_ADDR, 1);
        b = stack_new(&ck, pool, "B", lb, B_ADDR, 2);
        if (mpnet_neigh4_add(a, 1, B_ADDR, lb->info.mac) != 0 ||
            mpnet_neigh4_add(b, 1, A_ADDR, la->info.mac) != 0)
                bench_die("neighbours\n");
        rt = mpnet_runtime_create(&rc);
        for (unsigned q = 0; rt != NULL && q < workers; q++)
                if (mpnet_runtime_assign(rt, q, a, 1, (uint16_t)q) != 0 ||
                    mpnet_runtime_assign(rt, q, b, 1, (uint16_t)q) != 0)
                        bench_die("assign\n");
        if (rt == NULL || mpnet_runtime_start(rt) != 0)
                bench_die("runtime\n");
        sa.sin_addr.s_addr = htonl(B_ADDR);
        for (unsigned q = 0; q < workers; q++) {
                lfd[q] = mpnet_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (lfd[q] < 0 || opt(b, lfd[q], SOL_SOCKET, SO_REUSEPORT, 1) != 0 ||
                    opt(b, lfd[q], SOL_MPNET, MPNET_SO_HOME, (int)q + 1) != 0 ||
                    mpnet_bind(b, lfd[q], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
                    mpnet_listen(b, lfd[q], MAX_FLOWS) != 0)
                        bench_die("listener\n");
        }
        for (unsigned i = 0; i < n_flows; i++) {
                cfd[i] = mpnet_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                fl[i].left = per;
                atomic_store(&fl[i].got, 0);
                atomic_store(&fl[i].bad, 0);
                if (cfd[i] < 0 || opt(a, cfd[i], SOL_MPNET, MPNET_SO_HOME, MPNET_HOME_FLOW) != 0 ||
                    mpnet_connect(a, cfd[i], (struct sockaddr *)&sa, sizeof(sa)) != -EINPROGRESS)
                        bench_die("connect\n");
        }
        /* Every connection accepted, its receiver's callback set. */
        while (ns < n_flows) {
                mpnet_stack_poll(a, mpnet_clock_now(&ck));
                mpnet_stack_poll(b, mpnet_clock_now(&ck));
                for (unsigned q = 0; q < workers && ns < n_flows; q++) {
                        int fd;

                        while (ns < n_flows && (fd = mpnet_accept(b, lfd[q], NULL, NULL, 0)) >= 0) {
                                int home = 0;
                                socklen_t hl = sizeof(home);

                                sfd[ns] = fd;
                                mpnet_getsockopt(b, fd, SOL_MPNET, MPNET_SO_HOME, &home, &hl);
                                out.per_worker[home < 3 ? home : 0]++;
                                ns++;
                        }
                }
        }
        /* Which accepted socket is whose does not matter: all count. */
        for (unsigned i = 0; i < n_flows; i++)
                if (mpnet_sock_set_cb(b, sfd[i], cb_recv, &fl[i]) != 0 ||
                    mpnet_sock_run(b, sfd[i], cb_recv, &fl[i]) != 0)
                        bench_die("receiver\n");
        t0 = bench_now_ns();
        c0 = proc_cpu_ns();
        for (unsigned i = 0; i < n_flows; i++)
                if (mpnet_sock_set_cb(a, cfd[i], cb_send, &fl[i]) != 0 ||
                    mpnet_sock_run(a, cfd[i], cb_send, &fl[i]) != 0)
                        bench_die("sender\n");
        do {
                mpnet_stack_poll(a, mpnet_clock_now(&ck));
                mpnet_stack_poll(b, mpnet_clock_now(&ck));
                usleep(200);
                total = 0;
                for (unsigned i = 0; i < n_flows; i++) {
                        if (atomic_load(&fl[i].bad) != 0)
                                bench_die("flow %u: %d\n", i, atomic_load(&fl[i].bad));
                        total += atomic_load_explicit(&fl[i].got, memory_order_relaxed);
                }
        } while (total < per * n_flows);
        t1 = bench_now_ns();
        c1 = proc_cpu_ns();
        out.gbps = (double)total * 8 / (double)(t1 - t0);
        out.cyc_byte = (double)(c1 - c0) * 1e-9 * bench_tsc_hz() / (double)total;
        if (counters) {
                /* Every counter of either stack that is not 0 and tells of
                 * loss or its repair. */
                static const char *const key[] = {"drop",  "full",  "nobuf", "rtx", "rto",
                                                  "tcp_",  "rx_",   "mem",   "tlp", "undo",
                                                  "paced", "dsack", "grow"};
                struct mpnet_stack *st[2] = {a, b};

                fprintf(stderr, "%u worker(s) %.2f Gbit/s:", workers, out.gbps);
                for (unsigned k = 0; k < 2; k++)
                        for (unsigned id = 0; id < mpnet_stack_counter_count(st[k]); id++) {
                                const char *nm = mpnet_stack_counter_name(st[k], id);
                                uint64_t v = mpnet_stack_counter(st[k], id);
                                bool show = false;

                                for (unsigned i = 0; i < sizeof(key) / sizeof(key[0]); i++)
                                        show |= nm != NULL && strstr(nm, key[i]) != NULL;
                                if (show && v != 0)
                                        fprintf(stderr, " %c.%s %llu", "AB"[k], nm,
                                                (unsigned long long)v);
                        }
                for (unsigned q = 0; q < workers; q++) {
                        struct mpnet_worker_stats ws;

                        if (mpnet_runtime_worker_stats(rt, q, &ws) == 0)
                                fprintf(stderr, " w%u.loops %llu w%u.sleeps %llu", q,
                                        (unsigned long long)ws.loops, q,
                                        (unsigned long long)ws.sleeps);
                }
                fputc('\n', stderr);
                for (unsigned i = 0; i < n_flows; i++) {
                        struct mpnet_tcp_info ti = {0}, ri = {0};
                        socklen_t tl = sizeof(ti), rl = sizeof(ri), il = sizeof(int);
                        int sb = 0, rb = 0;

                        mpnet_getsockopt(a, cfd[i], IPPROTO_TCP, MPNET_TCP_INFO, &ti, &tl);
                        mpnet_getsockopt(b, sfd[i], IPPROTO_TCP, MPNET_TCP_INFO, &ri, &rl);
                        mpnet_getsockopt(a, cfd[i], SOL_SOCKET, SO_SNDBUF, &sb, &il);
                        il = sizeof(int);
                        mpnet_getsockopt(b, sfd[i], SOL_SOCKET, SO_RCVBUF, &rb, &il);
                        fprintf(stderr,
                                "  flow %u: cwnd %u snd_wnd %u rtt_us %u sndbuf %d rcvbuf %d "
                                "rcv_wnd %u rcv_rtt_us %u rcv_space %u\n",
                                i, ti.snd_cwnd, ti.snd_wnd, ti.rtt_us, sb, rb, ri.rcv_wnd,
                                ri.rcv_rtt_us, ri.rcv_space);
                }
        }
        for (unsigned i = 0; i < n_flows; i++) {
                mpnet_close(a, cfd[i]);
                mpnet_close(b, sfd[i]);
        }
        for (unsigned q = 0; q < workers; q++)
                mpnet_close(b, lfd[q]);
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
        uint64_t flows = 8, mbytes = 256, repeat = 5;
        const struct bench_opt opts[] = {
            {"flows", BENCH_OPT_U64, &flows, 2, MAX_FLOWS, "bulk flows, A to B"},
            {"mbytes", BENCH_OPT_U64, &mbytes, 1, 1 << 20, "MB carried per run, all flows"},
            {"repeat", BENCH_OPT_U64, &repeat, 1, 1000, "repeats (each: 1, then 2 workers)"},
            {"autotune", BENCH_OPT_FLAG, &autotune, 0, 0, "buffer auto-tuning on (4 MiB limits)"},
            {"no-autotune", BENCH_OPT_FLAG, &no_autotune, 0, 0, "buffer auto-tuning off (default)"},
            {"no-pacing", BENCH_OPT_FLAG, &no_pacing, 0, 0, "pacing off"},
            {"counters", BENCH_OPT_FLAG, &counters, 0, 0, "the sender's counters to stderr"},
        };
        double g1[1000], g2[1000], c1[1000], c2[1000], ratio[1000];
        unsigned w1 = 0, w2 = 0;
        struct bench_json j;

        bench_parse_args(argc, argv,
                         "aggregate TCP throughput of bulk flows owned by 1 and by 2 workers", opts,
                         sizeof(opts) / sizeof(opts[0]));
        mpnet_thread_set_slot(0);
        memset(wbuf, 'x', sizeof(wbuf));
        run_once(1, (unsigned)flows, 16 << 20); /* warm-up */
        for (uint64_t i = 0; i < repeat; i++) {
                struct run r1 = run_once(1, (unsigned)flows, mbytes << 20);
                struct run r2 = run_once(2, (unsigned)flows, mbytes << 20);

                g1[i] = r1.gbps;
                c1[i] = r1.cyc_byte;
                g2[i] = r2.gbps;
                c2[i] = r2.cyc_byte;
                ratio[i] = r2.gbps / r1.gbps;
                w1 = r2.per_worker[1];
                w2 = r2.per_worker[2];
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_mt");
        bench_json_machine(&j);
        bench_json_u64(&j, "flows", flows);
        bench_json_u64(&j, "bytes", mbytes << 20);
        bench_json_u64(&j, "autotune", autotune && !no_autotune);
        bench_json_u64(&j, "pacing", !no_pacing);
        bench_json_u64(&j, "flows_on_worker1", w1);
        bench_json_u64(&j, "flows_on_worker2", w2);
        bench_json_stat(&j, "gbps_1_worker", g1, repeat);
        bench_json_stat(&j, "gbps_2_workers", g2, repeat);
        bench_json_stat(&j, "ratio_2_to_1", ratio, repeat);
        bench_json_stat(&j, "cycles_per_byte_1_worker", c1, repeat);
        bench_json_stat(&j, "cycles_per_byte_2_workers", c2, repeat);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
