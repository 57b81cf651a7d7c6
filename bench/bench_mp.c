/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_mp: IPv4 forwarding throughput against the number of workers.
 *
 *   traffic thread i --wire 1, queue i--> worker i --wire 2, queue i+1--> traffic thread i
 *
 * One router stack; N workers (the multi-core runtime), worker i polling
 * receive queue i of the input interface and sending on its own queue i+1 of
 * the output interface. N traffic threads, each generating 64-byte frames
 * onto one queue (as fast as the ring takes them) and draining the matching
 * output queue, so buffers cycle through one thread's pool cache. Each run
 * lasts --secs; the figure is the frames the workers forwarded per second,
 * and, as every worker busy-polls its core, cycles per packet per worker.
 * --workers lists the counts to measure in one run (e.g. 1,2,4,8); scaling is
 * the ratio to N times the first count's per-worker rate.
 *
 * Threads are pinned when --pin is given: workers on cpus 0..N-1, traffic
 * threads on N..2N-1 (wrapping around the machine).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/link.h"
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
        struct mpnet_link *g, *r1, *r2, *k;
        struct mpnet_stack *rt;
        struct mpnet_runtime *run;
        unsigned n;
        bool pin;
        atomic_bool stop;
        uint8_t tmpl[256][FRAME];
};

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
                bench_pin_self((int)((e->n + t->q) % (unsigned)sysconf(_SC_NPROCESSORS_ONLN)));
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

static void setup(struct env *e, unsigned n)
{
        struct mpnet_memwire_cfg w1 = {.name = "mp1", .ring_size = 2048};
        struct mpnet_memwire_cfg w2 = {.name = "mp2", .ring_size = 2048};
        struct mpnet_stack_cfg sc = {.name = "router", .seed = 1, .ip4_forwarding = true};
        struct mpnet_route4 r = {
            .dst = 0xc6130000u, .plen = 16, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mpnet_runtime_cfg rc = {.n_workers = n};
        int cpus[MAXW];

        e->n = n;
        w1.n_queues = w2.n_queues = (uint16_t)(n + 1);
        mpnet_clock_init_monotonic(&e->clk);
        e->pool = mpnet_pool_create("mp", 16384 + n * 8192);
        if (e->pool == NULL || mpnet_memwire_create(&w1, &e->g, &e->r1) != 0 ||
            mpnet_memwire_create(&w2, &e->r2, &e->k) != 0)
                bench_die("bench_mp: setup\n");
        sc.clock = &e->clk;
        sc.pool = e->pool;
        e->rt = mpnet_stack_create(&sc);
        if (e->rt == NULL || mpnet_iface_attach(e->rt, e->r1, "in") != 1 ||
            mpnet_iface_attach(e->rt, e->r2, "out") != 2 ||
            mpnet_addr4_add(e->rt, 1, 0xc0000201u, 24) != 0 ||
            mpnet_addr4_add(e->rt, 2, 0xc6336401u, 24) != 0 ||
            mpnet_neigh4_add(e->rt, 2, 0xc6336402u, e->k->info.mac) != 0)
                bench_die("bench_mp: router\n");
        r.paths[0].ifindex = 2;
        r.paths[0].gw = 0xc6336402u;
        if (mpnet_route4_add(e->rt, 0, &r) != 0)
                bench_die("bench_mp: route\n");
        mpnet_stack_poll(e->rt, mpnet_clock_now(&e->clk));
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
        for (unsigned i = 0; i < n; i++)
                cpus[i] = (int)(i % (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
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

/* One timed run: Mpps forwarded by the workers over secs. */
static double run_once(struct env *e, double secs)
{
        struct traffic t[MAXW];
        uint64_t f0, f1, t0, t1;

        atomic_store(&e->stop, false);
        if (mpnet_runtime_start(e->run) != 0)
                bench_die("bench_mp: start\n");
        for (unsigned i = 0; i < e->n; i++) {
                t[i] = (struct traffic){.e = e, .q = i};
                pthread_create(&t[i].th, NULL, traffic_main, &t[i]);
        }
        usleep(200000); /* warm up */
        f0 = mpnet_stack_counter(e->rt, MPNET_STK_ip4_forwarded);
        t0 = bench_now_ns();
        usleep((useconds_t)(secs * 1e6));
        f1 = mpnet_stack_counter(e->rt, MPNET_STK_ip4_forwarded);
        t1 = bench_now_ns();
        atomic_store(&e->stop, true);
        for (unsigned i = 0; i < e->n; i++)
                pthread_join(t[i].th, NULL);
        mpnet_runtime_stop(e->run);
        return (double)(f1 - f0) / ((double)(t1 - t0) / 1e9) / 1e6;
}

int main(int argc, char **argv)
{
        uint64_t repeat = 5, ms = 1000;
        bool pin = false;
        char list[64] = "1,2";
        const struct bench_opt opts[] = {
            {"repeat", BENCH_OPT_U64, &repeat, 1, 100, "timed runs per worker count"},
            {"ms", BENCH_OPT_U64, &ms, 100, 60000, "milliseconds per run"},
            {"pin", BENCH_OPT_FLAG, &pin, 0, 0, "pin workers and traffic threads"},
        };
        unsigned counts[MAXW], nc = 0;
        double base = 0;
        struct bench_json j;
        const char *wl = getenv("MPNET_BENCH_WORKERS");

        /* --workers is read from the environment to keep bench_util's
         * numeric options: MPNET_BENCH_WORKERS=1,2,4,8. */
        bench_parse_args(argc, argv,
                         "IPv4 forwarding of 64-byte frames against the number of workers "
                         "(MPNET_BENCH_WORKERS=1,2,4,8 lists the counts; default 1,2).",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (wl != NULL)
                snprintf(list, sizeof(list), "%s", wl);
        for (char *p = strtok(list, ","); p != NULL && nc < MAXW; p = strtok(NULL, ",")) {
                int v = atoi(p);

                if (v < 1 || v > MAXW)
                        bench_die("bench_mp: bad worker count %s\n", p);
                counts[nc++] = (unsigned)v;
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "mp_forward");
        bench_json_u64(&j, "frame", FRAME + 4);
        bench_json_u64(&j, "ms", ms);
        bench_json_bool(&j, "pin", pin);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "runs");
        for (unsigned c = 0; c < nc; c++) {
                struct env *e = calloc(1, sizeof(*e));
                double *m = calloc(repeat, sizeof(double)), med;

                e->pin = pin;
                setup(e, counts[c]);
                for (uint64_t r = 0; r < repeat; r++) {
                        m[r] = run_once(e, (double)ms / 1000.0);
                        fprintf(stderr, "  workers %u repeat %llu: %.2f Mpps\n", counts[c],
                                (unsigned long long)r, m[r]);
                }
                med = bench_median(m, repeat);
                if (c == 0)
                        base = med / counts[0];
                bench_json_obj_begin(&j, NULL);
                bench_json_u64(&j, "workers", counts[c]);
                bench_json_stat(&j, "mpps", m, repeat);
                bench_json_num(&j, "mpps_per_worker", med / counts[c]);
                bench_json_num(&j, "cycles_per_pkt_per_worker",
                               bench_tsc_hz() / (med * 1e6 / counts[c]));
                bench_json_num(&j, "scaling", med / (base * counts[c]));
                bench_json_obj_end(&j);
                teardown(e);
                free(e);
                free(m);
        }
        bench_json_arr_end(&j);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
