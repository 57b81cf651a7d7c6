/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_mp: IPv4 forwarding throughput against the number of workers.
 *
 * --link null (the default): the router alone.
 *
 *   null link "in", queue i --> worker i --> null link "out", queue i+1
 *
 * No traffic thread: worker i receives from queue i of a null link, which
 * synthesises 64-byte frames of --flows UDP flows, each queue getting the
 * flows RSS gives it (the symmetric Toeplitz hash through the default
 * indirection table), and transmits to a null link that frees them. Buffers
 * are allocated and freed on the worker's own pool cache, so N workers on N
 * CPUs share nothing but the read-only tables: what scales, or not, is the
 * router.
 *
 * --link mem: the memory wire.
 *
 *   traffic thread i --wire 1, queue i--> worker i --wire 2, queue i+1--> traffic thread i
 *
 * N traffic threads, each generating 64-byte frames onto one queue (as fast
 * as the ring takes them) and draining the matching output queue, so
 * buffers cycle through one thread's pool cache. It needs 2N CPUs, and it
 * measures the frames' cache lines crossing between cores too.
 *
 * One router stack; N workers (the multi-core runtime). Each run lasts --ms;
 * the figure is the frames the workers forwarded per second and, per worker,
 * the frames it received per second and TSC cycles per frame (the TSC read
 * around the whole interval: a busy-polling worker's cycles). --workers
 * lists the counts to measure in one run (e.g. 1,2,4,8); scaling is the
 * ratio to N times the first count's per-worker rate.
 *
 * Threads are pinned when --pin is given: workers on cpus F..F+N-1, traffic
 * threads on F+N..F+2N-1 (wrapping around the machine), F being --cpu
 * (0). Where the CPUs are not alike (a VM whose vCPUs share their physical
 * cores unevenly), one worker on each CPU in turn gives the per-CPU rates that
 * N workers' figures are to be set against.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/link.h"
#include "mpnet/null.h"
#include "mpnet/pkt.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/worker.h"

#define FRAME 60
#define MAXW  32

struct env {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *g, *r1, *r2, *k; /* g and k: the mem mode's traffic ends */
        struct mpnet_stack *rt;
        struct mpnet_runtime *run;
        unsigned n, flows, cpu0; /* cpu0: the first worker's CPU with --pin */
        bool pin, null;
        atomic_bool stop;
        uint8_t tmpl[256][FRAME];
};

/* One timed run. */
struct result {
        double mpps;
        double w_mpps[MAXW];   /* frames each worker received, Mpps */
        double w_cycles[MAXW]; /* TSC cycles per frame on each worker */
        double cpu_cycles;     /* TSC cycles of CPU time the process ran per frame */
        double cpu_share;      /* CPU time the threads other than main ran / (N x wall) */
        double wait_share;     /* time they were runnable but waited for a CPU / (N x wall) */
        double ivcsw;          /* involuntary context switches per second */
};

/* Run and run-queue wait time (ns) of the process's threads other than the
 * calling one, from /proc/self/task/TID/schedstat; 0 where it cannot be read. */
static void threads_sched(uint64_t *run, uint64_t *wait)
{
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        pid_t self = (pid_t)gettid();

        *run = *wait = 0;
        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                unsigned long long r, w;
                char path[300];
                FILE *f;

                if (de->d_name[0] == '.' || atoi(de->d_name) == self)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", de->d_name);
                f = fopen(path, "r");
                if (f == NULL)
                        continue;
                if (fscanf(f, "%llu %llu", &r, &w) == 2) {
                        *run += r;
                        *wait += w;
                }
                fclose(f);
        }
        closedir(d);
}

static uint64_t ivcsw_now(void)
{
        struct rusage ru;

        return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_nivcsw : 0;
}

struct traffic {
        struct env *e;
        unsigned q;
        pthread_t th;
        uint64_t sent, got;
};

static void *traffic_main(void *arg)
{
        struct traffic *t = arg;
        struct env *e = t->e;
        uint64_t seq = 0;

        if (e->pin)
                bench_pin_self(
                    (int)((e->cpu0 + e->n + t->q) % (unsigned)sysconf(_SC_NPROCESSORS_ONLN)));
        mpnet_thread_set_slot(40 + t->q);
        while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
                struct mpnet_pkt *v[64];
                unsigned n = mpnet_pkt_alloc_bulk(e->pool, v, 64), k;

                for (unsigned i = 0; i < n; i++) {
                        uint8_t *d = mpnet_pkt_append(v[i], FRAME);

                        memcpy(d, e->tmpl[seq++ & 255], FRAME);
                }
                k = mpnet_link_tx_burst(e->g, (uint16_t)t->q, v, (uint16_t)n);
                if (k < n)
                        mpnet_pkt_free_bulk(v + k, n - k);
                t->sent += k;
                for (;;) {
                        uint16_t m = mpnet_link_rx_burst(e->k, (uint16_t)(t->q + 1), v, 64);

                        if (m == 0)
                                break;
                        mpnet_pkt_free_bulk(v, m);
                        t->got += m;
                }
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

/* The router's links: two memory wires with traffic ends, or two null links. */
static void make_links(struct env *e)
{
        unsigned n = e->n;

        if (e->null) {
                struct mpnet_null_cfg in = {.name = "in",
                                            .n_queues = (uint16_t)n,
                                            .pool = e->pool,
                                            .n_flows = e->flows,
                                            .frame_len = FRAME};
                struct mpnet_null_cfg out = {.name = "out", .n_queues = (uint16_t)(n + 1)};

                if (mpnet_null_create(&in, &e->r1) != 0 || mpnet_null_create(&out, &e->r2) != 0)
                        bench_die("bench_mp: null links\n");
                /* An RSS share of no flow would leave a worker idle. */
                for (unsigned q = 0; q < n; q++)
                        if (mpnet_null_queue_flows(e->r1, (uint16_t)q) <= 0)
                                bench_die("bench_mp: RSS gives queue %u none of %u flows\n", q,
                                          e->flows);
        } else {
                struct mpnet_memwire_cfg w1 = {.name = "mp1", .ring_size = 2048};
                struct mpnet_memwire_cfg w2 = {.name = "mp2", .ring_size = 2048};

                w1.n_queues = w2.n_queues = (uint16_t)(n + 1);
                if (mpnet_memwire_create(&w1, &e->g, &e->r1) != 0 ||
                    mpnet_memwire_create(&w2, &e->r2, &e->k) != 0)
                        bench_die("bench_mp: setup\n");
        }
}

/* The mem mode's frames: 256 destinations in 198.19.0.0/16. */
static void make_templates(struct env *e)
{
        for (unsigned f = 0; f < 256; f++) {
                uint8_t *b = e->tmpl[f];
                struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
                struct mpnet_ip4_repr ip = {.src = 0xc6120001u,
                                            .dst = 0xc6130001u | f << 8,
                                            .payload_len = FRAME - 34,
                                            .proto = MPNET_IPPROTO_UDP,
                                            .ttl = 64};

                memset(b, 0, FRAME);
                memcpy(eth.dst, e->r1->info.mac, 6);
                memcpy(eth.src, e->g->info.mac, 6);
                mpnet_eth_repr_emit(&eth, b);
                mpnet_ip4_repr_emit(&ip, b + 14);
        }
}

static void setup(struct env *e, unsigned n)
{
        static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0x0b};
        struct mpnet_stack_cfg sc = {.name = "router", .seed = 1, .ip4_forwarding = true};
        /* Both modes' destinations: 198.19.0.0/16. */
        struct mpnet_route4 r = {
            .dst = 0xc6130000u, .plen = 16, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mpnet_runtime_cfg rc = {.n_workers = n};
        int cpus[MAXW];

        e->n = n;
        mpnet_clock_init_monotonic(&e->clk);
        e->pool = mpnet_pool_create("mp", 16384 + n * 8192);
        if (e->pool == NULL)
                bench_die("bench_mp: pool\n");
        make_links(e);
        sc.clock = &e->clk;
        sc.pool = e->pool;
        e->rt = mpnet_stack_create(&sc);
        if (e->rt == NULL || mpnet_iface_attach(e->rt, e->r1, "in") != 1 ||
            mpnet_iface_attach(e->rt, e->r2, "out") != 2 ||
            mpnet_addr4_add(e->rt, 1, 0xc0000201u, 24) != 0 ||
            mpnet_addr4_add(e->rt, 2, 0xc6336401u, 24) != 0 ||
            mpnet_neigh4_add(e->rt, 2, 0xc6336402u, e->null ? gw_mac : e->k->info.mac) != 0)
                bench_die("bench_mp: router\n");
        r.paths[0].ifindex = 2;
        r.paths[0].gw = 0xc6336402u;
        if (mpnet_route4_add(e->rt, 0, &r) != 0)
                bench_die("bench_mp: route\n");
        mpnet_stack_poll(e->rt, mpnet_clock_now(&e->clk));
        if (!e->null)
                make_templates(e);
        for (unsigned i = 0; i < n; i++)
                cpus[i] = (int)((e->cpu0 + i) % (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
        rc.cpus = e->pin ? cpus : NULL;
        e->run = mpnet_runtime_create(&rc);
        if (e->run == NULL)
                bench_die("bench_mp: runtime\n");
        for (unsigned i = 0; i < n; i++) {
                if (mpnet_runtime_assign(e->run, i, e->rt, 1, (uint16_t)i) != 0)
                        bench_die("bench_mp: assign\n");
        }
}

static void teardown(struct env *e)
{
        mpnet_runtime_destroy(e->run);
        mpnet_stack_destroy(e->rt);
        mpnet_link_destroy(e->g);
        mpnet_link_destroy(e->r1);
        mpnet_link_destroy(e->r2);
        mpnet_link_destroy(e->k);
        mpnet_pool_destroy(e->pool);
}

static void worker_pkts(struct env *e, uint64_t *pkts)
{
        for (unsigned w = 0; w < e->n; w++) {
                struct mpnet_worker_stats st;

                if (mpnet_runtime_worker_stats(e->run, w, &st) != 0)
                        bench_die("bench_mp: worker stats\n");
                pkts[w] = st.pkts;
        }
}

/* One timed run of secs. */
static struct result run_once(struct env *e, double secs)
{
        struct traffic t[MAXW];
        uint64_t f0, f1, t0, t1, c0, c1, p0[MAXW], p1[MAXW], r0, r1, q0, q1, v0, v1;
        struct result res = {0};
        double dt;

        atomic_store(&e->stop, false);
        if (mpnet_runtime_start(e->run) != 0)
                bench_die("bench_mp: start\n");
        for (unsigned i = 0; i < e->n && !e->null; i++) {
                t[i] = (struct traffic){.e = e, .q = i};
                pthread_create(&t[i].th, NULL, traffic_main, &t[i]);
        }
        usleep(200000); /* warm up */
        threads_sched(&r0, &q0);
        v0 = ivcsw_now();
        worker_pkts(e, p0);
        f0 = bench_ctr(e->rt, "ip4_forwarded");
        t0 = bench_now_ns();
        c0 = bench_tsc();
        usleep((useconds_t)(secs * 1e6));
        c1 = bench_tsc();
        t1 = bench_now_ns();
        f1 = bench_ctr(e->rt, "ip4_forwarded");
        worker_pkts(e, p1);
        threads_sched(&r1, &q1);
        v1 = ivcsw_now();
        atomic_store(&e->stop, true);
        for (unsigned i = 0; i < e->n && !e->null; i++)
                pthread_join(t[i].th, NULL);
        mpnet_runtime_stop(e->run);
        dt = (double)(t1 - t0) / 1e9;
        res.mpps = (double)(f1 - f0) / dt / 1e6;
        /* Threads run (workers, and traffic threads in mem mode): their CPU
         * time says what a frame cost whatever else ran on the machine. */
        res.cpu_cycles = f1 > f0 ? (double)(r1 - r0) / 1e9 * bench_tsc_hz() / (double)(f1 - f0) : 0;
        res.cpu_share = (double)(r1 - r0) / 1e9 / dt / (e->null ? e->n : 2 * e->n);
        res.wait_share = (double)(q1 - q0) / 1e9 / dt / (e->null ? e->n : 2 * e->n);
        res.ivcsw = (double)(v1 - v0) / dt;
        for (unsigned w = 0; w < e->n; w++) {
                uint64_t got = p1[w] - p0[w];

                res.w_mpps[w] = (double)got / dt / 1e6;
                res.w_cycles[w] = got != 0 ? (double)(c1 - c0) / (double)got : 0;
        }
        return res;
}

/* Take "--NAME VALUE" or "--NAME=VALUE" out of argv (bench_util's parser
 * knows numbers and flags only). @return the value, or NULL. */
static const char *take_str_opt(int *argc, char **argv, const char *name)
{
        size_t len = strlen(name);
        const char *val = NULL;

        for (int i = 1; i < *argc; i++) {
                const char *a = argv[i];
                int used;

                if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, len) != 0)
                        continue;
                if (a[2 + len] == '=') {
                        val = a + 3 + len;
                        used = 1;
                } else if (a[2 + len] == '\0' && i + 1 < *argc) {
                        val = argv[i + 1];
                        used = 2;
                } else {
                        continue;
                }
                memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof(*argv));
                *argc -= used;
                break;
        }
        return val;
}

static void json_run(struct bench_json *j, unsigned n, struct result *res, uint64_t repeat,
                     double *base)
{
        double m[100], med;

        for (uint64_t r = 0; r < repeat; r++)
                m[r] = res[r].mpps;
        med = bench_median(m, repeat);
        if (*base == 0)
                *base = med / n;
        bench_json_obj_begin(j, NULL);
        bench_json_u64(j, "workers", n);
        bench_json_arr_begin(j, "repeats");
        for (uint64_t r = 0; r < repeat; r++)
                bench_json_num(j, NULL, m[r]);
        bench_json_arr_end(j);
        bench_json_stat(j, "mpps", m, repeat);
        bench_json_num(j, "mpps_per_worker", med / n);
        bench_json_num(j, "cycles_per_pkt_per_worker", bench_tsc_hz() / (med * 1e6 / n));
        bench_json_num(j, "scaling", med / (*base * n));
        for (uint64_t r = 0; r < repeat; r++)
                m[r] = res[r].cpu_cycles;
        bench_json_stat(j, "cpu_cycles_per_pkt", m, repeat);
        for (uint64_t r = 0; r < repeat; r++)
                m[r] = res[r].cpu_share;
        bench_json_stat(j, "cpu_share", m, repeat);
        for (uint64_t r = 0; r < repeat; r++)
                m[r] = res[r].wait_share;
        bench_json_stat(j, "wait_share", m, repeat);
        for (uint64_t r = 0; r < repeat; r++)
                m[r] = res[r].ivcsw;
        bench_json_stat(j, "ivcsw_per_s", m, repeat);
        bench_json_arr_begin(j, "per_worker");
        for (unsigned w = 0; w < n; w++) {
                double c[100];

                for (uint64_t r = 0; r < repeat; r++) {
                        m[r] = res[r].w_mpps[w];
                        c[r] = res[r].w_cycles[w];
                }
                bench_json_obj_begin(j, NULL);
                bench_json_u64(j, "worker", w);
                bench_json_stat(j, "mpps", m, repeat);
                bench_json_stat(j, "cycles_per_pkt", c, repeat);
                bench_json_obj_end(j);
        }
        bench_json_arr_end(j);
        bench_json_obj_end(j);
}

int main(int argc, char **argv)
{
        uint64_t repeat = 5, ms = 1000, flows = 1024, cpu0 = 0;
        bool pin = false;
        char list[64] = "1,2";
        const struct bench_opt opts[] = {
            {"repeat", BENCH_OPT_U64, &repeat, 1, 100, "timed runs per worker count"},
            {"ms", BENCH_OPT_U64, &ms, 100, 60000, "milliseconds per run"},
            {"flows", BENCH_OPT_U64, &flows, 1, 65536, "UDP flows of the null link's frames"},
            {"pin", BENCH_OPT_FLAG, &pin, 0, 0, "pin workers and traffic threads"},
            {"cpu", BENCH_OPT_U64, &cpu0, 0, 4095, "with --pin: worker i on cpu N + i"},
        };
        unsigned counts[MAXW], nc = 0;
        double base = 0, load[3] = {0};
        struct bench_json j;
        const char *wl = getenv("MPNET_BENCH_WORKERS");
        const char *link = take_str_opt(&argc, argv, "link");
        const char *wopt = take_str_opt(&argc, argv, "workers");
        bool null;

        bench_parse_args(argc, argv,
                         "IPv4 forwarding of 64-byte frames against the number of workers. "
                         "--link null (default: null links, no traffic threads) or mem (memory "
                         "wires fed by a traffic thread per worker); --workers 1,2,4,8 lists the "
                         "counts (default 1,2; or MPNET_BENCH_WORKERS).",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (link == NULL)
                link = "null";
        if (strcmp(link, "null") != 0 && strcmp(link, "mem") != 0)
                bench_die("bench_mp: --link null or mem, not %s\n", link);
        null = strcmp(link, "null") == 0;
        if (wopt != NULL)
                wl = wopt;
        if (wl != NULL)
                snprintf(list, sizeof(list), "%s", wl);
        for (char *p = strtok(list, ","); p != NULL && nc < MAXW; p = strtok(NULL, ",")) {
                int v = atoi(p);

                if (v < 1 || v > MAXW)
                        bench_die("bench_mp: bad worker count %s\n", p);
                counts[nc++] = (unsigned)v;
        }
        if (getloadavg(load, 3) < 0)
                load[0] = load[1] = load[2] = -1;
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "mp_forward");
        bench_json_str(&j, "link", link);
        if (null)
                bench_json_u64(&j, "flows", flows);
        bench_json_u64(&j, "frame", FRAME + 4);
        bench_json_u64(&j, "ms", ms);
        bench_json_bool(&j, "pin", pin);
        bench_json_u64(&j, "cpu", cpu0);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_num(&j, "loadavg_1m_before", load[0]);
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "runs");
        for (unsigned c = 0; c < nc; c++) {
                struct env *e = calloc(1, sizeof(*e));
                struct result *res = calloc(repeat, sizeof(*res));

                if (e == NULL || res == NULL)
                        bench_die("bench_mp: out of memory\n");
                e->pin = pin;
                e->null = null;
                e->flows = (unsigned)flows;
                e->cpu0 = (unsigned)cpu0;
                setup(e, counts[c]);
                for (uint64_t r = 0; r < repeat; r++) {
                        res[r] = run_once(e, (double)ms / 1000.0);
                        fprintf(stderr,
                                "  %s workers %u repeat %llu: %.2f Mpps, %.1f CPU cycles/frame, "
                                "ran %.2f waited %.2f of N CPUs, %.0f ivcsw/s\n",
                                link, counts[c], (unsigned long long)r, res[r].mpps,
                                res[r].cpu_cycles, res[r].cpu_share, res[r].wait_share,
                                res[r].ivcsw);
                }
                json_run(&j, counts[c], res, repeat, &base);
                teardown(e);
                free(e);
                free(res);
        }
        bench_json_arr_end(&j);
        if (getloadavg(load, 3) < 0)
                load[0] = -1;
        bench_json_num(&j, "loadavg_1m_after", load[0]);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
