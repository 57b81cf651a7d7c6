/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_dpdk: the DPDK link's own cost, through two net_ring ports wired
 * back to back (rte_eth_from_rings()), on one core.
 *
 * One thread allocates a burst from the pool, fills it, transmits it on
 * port a (a copy into mbufs, rte_eth_tx_burst onto the ring) and receives it
 * on port b (rte_eth_rx_burst, a copy into pool buffers, the mbufs freed),
 * then frees it: the same loop as bench_memwire --single, so the difference
 * between the two is what the copies and the mbufs cost. The TSC is read
 * around the whole loop and around the tx and rx calls of each burst.
 *
 * The EAL runs with --no-huge --no-pci --no-shconf (no root needed).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"

#ifdef MPNET_HAVE_DPDK
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include "mpnet/dpdk.h"
#include "mpnet/thread.h"

#define BURST_MAX   256u
#define WARMUP_PKTS 1000000u

struct cfg {
        uint64_t pkts, burst, repeat, frame;
        bool pin, plain;
};

struct result {
        double mpps, cycles_per_pkt, tx_cycles_per_pkt, rx_cycles_per_pkt;
};

static uint16_t ring_port(const char *name, struct rte_ring *rx, struct rte_ring *tx)
{
        int p = rte_eth_from_rings(name, &rx, 1, &tx, 1, SOCKET_ID_ANY);

        if (p < 0)
                bench_die("bench_dpdk: rte_eth_from_rings: %d\n", p);
        return (uint16_t)p;
}

static struct mpnet_link *open_port(uint16_t port, struct mpnet_pool *pool, uint8_t last)
{
        struct mpnet_dpdk_cfg c = {.port_id = port, .pool = pool};
        char err[256] = "";
        struct mpnet_link *l;

        memcpy(c.mac, (uint8_t[6]){0x02, 0x62, 0x64, 0x70, 0x6b, last}, 6);
        c.errbuf = err;
        c.errbuf_len = sizeof(err);
        l = mpnet_dpdk_create(&c);
        if (l == NULL)
                bench_die("bench_dpdk: %s\n", err);
        return l;
}

/* 60-byte UDP/IPv4 frames from 198.18.0.1 to 198.19.0.1, as the other benches. */
static void frame_fill(struct mpnet_pkt *p, uint32_t len, uint64_t seq)
{
        uint8_t *d = mpnet_pkt_append(p, len);

        memset(d, 0, len);
        memset(d, 0x02, 12);
        d[12] = 0x08;
        d[14] = 0x45;
        d[22] = 64;
        d[23] = 17;
        d[26] = 198;
        d[27] = 18;
        d[29] = 1;
        d[30] = 198;
        d[31] = 19;
        d[33] = 1;
        memcpy(d + 42, &seq, sizeof(seq)); /* len >= 60 */
}

static void run_once(const struct cfg *c, struct mpnet_link *a, struct mpnet_link *b,
                     struct mpnet_pool *pool, uint64_t pkts, struct result *res)
{
        struct mpnet_pkt *v[BURST_MAX];
        uint64_t left = pkts, seq = 0, t_tx = 0, t_rx = 0, t0, t1;
        double hz = bench_tsc_hz();
        unsigned held = 0;

        t0 = bench_tsc();
        while (left > 0) {
                unsigned want = left < c->burst ? (unsigned)left : (unsigned)c->burst, got, sent;
                uint64_t s0, s1, s2;

                got = mpnet_pkt_alloc_bulk(pool, &v[held], want - held);
                for (unsigned i = 0; i < got; i++)
                        frame_fill(v[held + i], (uint32_t)c->frame, seq++);
                held += got;
                s0 = bench_tsc();
                sent = mpnet_link_tx_burst(a, 0, v, (uint16_t)held);
                s1 = bench_tsc();
                memmove(v, &v[sent], (held - sent) * sizeof(v[0]));
                held -= sent;
                got = mpnet_link_rx_burst(b, 0, &v[held], (uint16_t)(BURST_MAX - held));
                s2 = bench_tsc();
                mpnet_pkt_free_bulk(&v[held], got);
                left -= got < left ? got : left;
                t_tx += s1 - s0;
                t_rx += s2 - s1;
        }
        t1 = bench_tsc();
        mpnet_pkt_free_bulk(v, held);
        res->cycles_per_pkt = (double)(t1 - t0) / (double)pkts;
        res->mpps = (double)pkts / ((double)(t1 - t0) / hz) / 1e6;
        res->tx_cycles_per_pkt = (double)t_tx / (double)pkts;
        res->rx_cycles_per_pkt = (double)t_rx / (double)pkts;
}

struct job {
        const struct cfg *c;
        struct mpnet_link *a, *b;
        struct mpnet_pool *pool;
        uint64_t pkts;
        struct result *res;
};

static void *job_run(void *arg)
{
        struct job *j = arg;

        if (j->c->pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(1);
        run_once(j->c, j->a, j->b, j->pool, j->pkts, j->res);
        mpnet_pool_flush_cache(j->pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

/* On this thread (the EAL's main lcore: its mbuf cache), or with --plain on
 * a thread the EAL does not know (the queues' caches, as a worker that is
 * not registered with rte_thread_register()). */
static void run(const struct cfg *c, struct mpnet_link *a, struct mpnet_link *b,
                struct mpnet_pool *pool, uint64_t pkts, struct result *res)
{
        struct job j = {.c = c, .a = a, .b = b, .pool = pool, .pkts = pkts, .res = res};
        pthread_t t;

        if (!c->plain) {
                run_once(c, a, b, pool, pkts, res);
                return;
        }
        if (pthread_create(&t, NULL, job_run, &j) != 0)
                bench_die("bench_dpdk: cannot start a thread\n");
        pthread_join(t, NULL);
}

static void report(const struct cfg *c, const struct result *res)
{
        static const char *const names[4] = {"mpps", "cycles_per_pkt", "tx_cycles_per_pkt",
                                             "rx_cycles_per_pkt"};
        double v[4][c->repeat];
        struct bench_json j;

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "dpdk");
        bench_json_str(&j, "port", "net_ring pair");
        bench_json_u64(&j, "frame", c->frame);
        bench_json_u64(&j, "burst", c->burst);
        bench_json_u64(&j, "pkts", c->pkts);
        bench_json_bool(&j, "pin", c->pin);
        bench_json_bool(&j, "eal_thread", !c->plain);
        bench_json_u64(&j, "threads", 1);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < c->repeat; i++) {
                v[0][i] = res[i].mpps;
                v[1][i] = res[i].cycles_per_pkt;
                v[2][i] = res[i].tx_cycles_per_pkt;
                v[3][i] = res[i].rx_cycles_per_pkt;
                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < 4; k++)
                        bench_json_num(&j, names[k], v[k][i]);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < 4; k++)
                bench_json_stat(&j, names[k], v[k], c->repeat);
        bench_json_obj_end(&j);
}

int main(int argc, char **argv)
{
        struct cfg c = {.pkts = 5000000, .burst = 32, .repeat = 5, .frame = 60};
        const struct bench_opt opts[] = {
            {"pkts", BENCH_OPT_U64, &c.pkts, 1, UINT64_MAX / 2, "packets per repeat"},
            {"burst", BENCH_OPT_U64, &c.burst, 1, 64, "packets per tx/rx burst"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"frame", BENCH_OPT_U64, &c.frame, 60, 1514, "frame length, bytes"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin the thread to cpu 0"},
            {"plain", BENCH_OPT_FLAG, &c.plain, 0, 0,
             "run in a thread the EAL does not know (the queues' mbuf caches)"},
        };
        static const char *const eal[] = {"--no-huge",          "-m",          "256",
                                          "--no-pci",           "--no-shconf", "--no-telemetry",
                                          "--log-level=*:error"};
        struct mpnet_dpdk_eal_cfg ec = {.argc = sizeof(eal) / sizeof(eal[0]), .argv = eal};
        struct rte_ring *ab, *ba;
        struct mpnet_link *a, *b;
        struct mpnet_pool *pool;
        struct mpnet_link_stats sa = {0}, sb = {0};
        struct result *res;
        char err[256] = "";

        bench_parse_args(argc, argv,
                         "The DPDK link through two net_ring ports back to back, one thread: "
                         "tx a burst on one, receive it on the other.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        ec.errbuf = err;
        ec.errbuf_len = sizeof(err);
        if (mpnet_dpdk_init(&ec) != 0)
                bench_die("bench_dpdk: %s\n", err);
        if (c.pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        ab = rte_ring_create("bench-ab", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ba = rte_ring_create("bench-ba", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (ab == NULL || ba == NULL)
                bench_die("bench_dpdk: rte_ring_create failed\n");
        /* Descriptors in hand: one burst in flight, the thread's cache, spare. */
        pool = mpnet_pool_create("bench", 4096);
        res = calloc(c.repeat, sizeof(*res));
        if (pool == NULL || res == NULL)
                bench_die("bench_dpdk: out of memory\n");
        a = open_port(ring_port("bench-a", ba, ab), pool, 0x0a);
        b = open_port(ring_port("bench-b", ab, ba), pool, 0x0b);

        fprintf(stderr,
                "dpdk: tsc %.0f Hz, %llu pkts x %llu repeats, burst %llu, one %s thread%s\n",
                bench_tsc_hz(), (unsigned long long)c.pkts, (unsigned long long)c.repeat,
                (unsigned long long)c.burst, c.plain ? "non-EAL" : "EAL", c.pin ? ", pinned" : "");
        run(&c, a, b, pool, c.pkts < WARMUP_PKTS ? c.pkts : WARMUP_PKTS, &res[0]);
        for (uint64_t i = 0; i < c.repeat; i++) {
                run(&c, a, b, pool, c.pkts, &res[i]);
                fprintf(stderr, "  repeat %llu: %.2f Mpps, %.1f cycles/pkt (tx %.1f, rx %.1f)\n",
                        (unsigned long long)i, res[i].mpps, res[i].cycles_per_pkt,
                        res[i].tx_cycles_per_pkt, res[i].rx_cycles_per_pkt);
        }
        mpnet_link_get_stats(a, &sa);
        mpnet_link_get_stats(b, &sb);
        if (sa.tx_pkts != sb.rx_pkts || sa.tx_drops != 0 || sb.rx_drops != 0)
                bench_die("bench_dpdk: lost packets: tx %llu rx %llu\n",
                          (unsigned long long)sa.tx_pkts, (unsigned long long)sb.rx_pkts);
        report(&c, res);
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
        mpnet_pool_flush_cache(pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        mpnet_pool_destroy(pool);
        free(res);
        return 0;
}

#else

int main(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        puts("{\"bench\":\"dpdk\",\"skipped\":\"mpnet was built without DPDK (libdpdk-dev)\"}");
        return 0;
}

#endif
