/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_memwire: the raw pass-through ceiling of the memory wire.
 *
 * A producer thread allocates frames from a pool in bursts and transmits them
 * on end a, queue 0; a consumer thread receives them on end b and frees them,
 * so the buffers cycle producer -> wire -> consumer -> pool -> producer. No
 * protocol work is done: every later packets-per-second figure of mpnet over
 * this wire is a fraction of this one.
 *
 * Each side reads the TSC once before and once after its whole loop. The
 * figure is the packet count over the time from the first start to the last
 * end, both sides included.
 *
 * Synchronisation: the two threads share only the wire (an SPSC ring per
 * queue) and the pool (per-thread-slot caches: producer slot 0, consumer
 * slot 1). A barrier starts them together.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/thread.h"

#define BURST_MAX   256u
#define WARMUP_PKTS 1000000u

struct cfg {
        uint64_t pkts, burst, repeat, frame, ring;
        bool pin, touch, single;
};

struct side {
        uint64_t t0, t1;   /* TSC around the loop */
        uint64_t stalls;   /* producer: ring full; consumer: empty polls */
        uint64_t nobufs;   /* producer: pool empty */
        uint64_t checksum; /* consumer, with --touch: keeps the reads */
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct run {
        const struct cfg *cfg;
        uint64_t pkts;
        struct mpnet_link *a, *b;
        struct mpnet_pool *pool;
        pthread_barrier_t start;
        struct side prod, cons;
};

struct result {
        double mpps, cycles_per_pkt, prod_cycles_per_pkt, cons_cycles_per_pkt;
        uint64_t ring_full, rx_empty, nobufs;
};

/* Make a frame of cfg->frame bytes; with --touch also write all of it. */
static void frame_fill(const struct cfg *c, struct mpnet_pkt *p, uint64_t seq)
{
        uint8_t *d = mpnet_pkt_append(p, (uint32_t)c->frame);

        if (c->touch) {
                memset(d, 0x5a, c->frame);
                memcpy(d, &seq, sizeof(seq));
        }
}

static void *producer(void *arg)
{
        struct run *r = arg;
        const struct cfg *c = r->cfg;
        struct mpnet_pkt *v[BURST_MAX];
        uint64_t left = r->pkts, seq = 0;
        unsigned held = 0;

        if (c->pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        pthread_barrier_wait(&r->start);
        r->prod.t0 = bench_tsc();
        while (left > 0) {
                unsigned want = left < c->burst ? (unsigned)left : (unsigned)c->burst, got, sent;

                if (held < want) {
                        got = mpnet_pkt_alloc_bulk(r->pool, &v[held], want - held);
                        for (unsigned i = 0; i < got; i++)
                                frame_fill(c, v[held + i], seq++);
                        held += got;
                        r->prod.nobufs += got == 0;
                }
                sent = mpnet_link_tx_burst(r->a, 0, v, (uint16_t)held);
                if (sent < held) {
                        memmove(v, &v[sent], (held - sent) * sizeof(v[0]));
                        r->prod.stalls++;
                }
                held -= sent;
                left -= sent;
        }
        r->prod.t1 = bench_tsc();
        mpnet_pool_flush_cache(r->pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static void *consumer(void *arg)
{
        struct run *r = arg;
        const struct cfg *c = r->cfg;
        struct mpnet_pkt *v[BURST_MAX];
        uint64_t left = r->pkts, sum = 0;

        if (c->pin)
                bench_pin_self(1);
        mpnet_thread_set_slot(1);
        pthread_barrier_wait(&r->start);
        r->cons.t0 = bench_tsc();
        while (left > 0) {
                unsigned got = mpnet_link_rx_burst(r->b, 0, v, (uint16_t)c->burst);

                if (got == 0) {
                        r->cons.stalls++;
                        continue;
                }
                if (c->touch)
                        for (unsigned i = 0; i < got; i++)
                                sum += *(const uint64_t *)v[i]->data;
                mpnet_pkt_free_bulk(v, got);
                left -= got;
        }
        r->cons.t1 = bench_tsc();
        r->cons.checksum = sum;
        mpnet_pool_flush_cache(r->pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

/*
 * --single: one thread transmits a burst and receives it back at once, so no
 * line crosses cores: the wire's and the pool's own cost, the ceiling for a
 * bench that drives both ends from one thread (bench_ping).
 */
static void single_loop(struct run *r)
{
        const struct cfg *c = r->cfg;
        struct mpnet_pkt *v[BURST_MAX];
        uint64_t left = r->pkts, seq = 0;

        if (c->pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        r->prod.t0 = r->cons.t0 = bench_tsc();
        while (left > 0) {
                unsigned want = left < c->burst ? (unsigned)left : (unsigned)c->burst, got, sent;

                got = mpnet_pkt_alloc_bulk(r->pool, v, want);
                for (unsigned i = 0; i < got; i++)
                        frame_fill(c, v[i], seq++);
                sent = mpnet_link_tx_burst(r->a, 0, v, (uint16_t)got);
                if (sent != got)
                        bench_die("bench_memwire: the ring did not take a burst\n");
                got = mpnet_link_rx_burst(r->b, 0, v, (uint16_t)c->burst);
                if (c->touch)
                        for (unsigned i = 0; i < got; i++)
                                r->cons.checksum += *(const uint64_t *)v[i]->data;
                mpnet_pkt_free_bulk(v, got);
                left -= got;
        }
        r->prod.t1 = r->cons.t1 = bench_tsc();
        mpnet_pool_flush_cache(r->pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
}

static void run_threads(struct run *r)
{
        pthread_t tp, tc;

        if (pthread_barrier_init(&r->start, NULL, 2) != 0 ||
            pthread_create(&tp, NULL, producer, r) != 0 ||
            pthread_create(&tc, NULL, consumer, r) != 0)
                bench_die("bench_memwire: cannot start threads\n");
        pthread_join(tp, NULL);
        pthread_join(tc, NULL);
        pthread_barrier_destroy(&r->start);
}

static void run_once(struct run *r, uint64_t pkts, struct result *res)
{
        struct mpnet_link_stats sa0 = {0}, sb0 = {0}, sa1 = {0}, sb1 = {0};
        uint64_t t0, t1;
        double hz = bench_tsc_hz();

        r->pkts = pkts;
        memset(&r->prod, 0, sizeof(r->prod));
        memset(&r->cons, 0, sizeof(r->cons));
        mpnet_link_get_stats(r->a, &sa0);
        mpnet_link_get_stats(r->b, &sb0);
        if (r->cfg->single)
                single_loop(r);
        else
                run_threads(r);

        /* Everything sent arrived and every buffer came back. */
        mpnet_link_get_stats(r->a, &sa1);
        mpnet_link_get_stats(r->b, &sb1);
        if (sa1.tx_pkts - sa0.tx_pkts != pkts || sb1.rx_pkts - sb0.rx_pkts != pkts ||
            mpnet_pool_in_use(r->pool) != 0)
                bench_die("bench_memwire: lost packets: tx %llu rx %llu in use %u\n",
                          (unsigned long long)(sa1.tx_pkts - sa0.tx_pkts),
                          (unsigned long long)(sb1.rx_pkts - sb0.rx_pkts),
                          mpnet_pool_in_use(r->pool));

        t0 = r->prod.t0 < r->cons.t0 ? r->prod.t0 : r->cons.t0;
        t1 = r->prod.t1 > r->cons.t1 ? r->prod.t1 : r->cons.t1;
        res->cycles_per_pkt = (double)(t1 - t0) / (double)pkts;
        res->mpps = (double)pkts / ((double)(t1 - t0) / hz) / 1e6;
        res->prod_cycles_per_pkt = (double)(r->prod.t1 - r->prod.t0) / (double)pkts;
        res->cons_cycles_per_pkt = (double)(r->cons.t1 - r->cons.t0) / (double)pkts;
        res->ring_full = r->prod.stalls;
        res->rx_empty = r->cons.stalls;
        res->nobufs = r->prod.nobufs;
}

static void report(const struct cfg *c, const struct result *res)
{
        double v[4][c->repeat];
        static const char *const names[4] = {"mpps", "cycles_per_pkt", "prod_cycles_per_pkt",
                                             "cons_cycles_per_pkt"};
        struct bench_json j;

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "memwire");
        bench_json_u64(&j, "frame", c->frame);
        bench_json_u64(&j, "burst", c->burst);
        bench_json_u64(&j, "ring", c->ring);
        bench_json_u64(&j, "pkts", c->pkts);
        bench_json_bool(&j, "pin", c->pin);
        bench_json_u64(&j, "threads", c->single ? 1 : 2);
        bench_json_bool(&j, "touch", c->touch);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < c->repeat; i++) {
                const struct result *r = &res[i];

                v[0][i] = r->mpps;
                v[1][i] = r->cycles_per_pkt;
                v[2][i] = r->prod_cycles_per_pkt;
                v[3][i] = r->cons_cycles_per_pkt;
                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < 4; k++)
                        bench_json_num(&j, names[k], v[k][i]);
                bench_json_u64(&j, "ring_full", r->ring_full);
                bench_json_u64(&j, "rx_empty", r->rx_empty);
                bench_json_u64(&j, "nobufs", r->nobufs);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < 4; k++)
                bench_json_stat(&j, names[k], v[k], c->repeat);
        bench_json_obj_end(&j);
}

int main(int argc, char **argv)
{
        struct cfg c = {.pkts = 20000000, .burst = 32, .repeat = 5, .frame = 64, .ring = 1024};
        const struct bench_opt opts[] = {
            {"pkts", BENCH_OPT_U64, &c.pkts, 1, UINT64_MAX / 2, "packets per repeat"},
            {"burst", BENCH_OPT_U64, &c.burst, 1, BURST_MAX, "packets per tx/rx burst"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"frame", BENCH_OPT_U64, &c.frame, 60, 1514, "frame length, bytes"},
            {"ring", BENCH_OPT_U64, &c.ring, 2, 1u << 20, "wire ring slots (power of two)"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin producer to cpu 0, consumer to cpu 1"},
            {"single", BENCH_OPT_FLAG, &c.single, 0, 0,
             "one thread: transmit a burst, receive it back"},
            {"touch", BENCH_OPT_FLAG, &c.touch, 0, 0,
             "producer writes every frame byte, consumer reads 8"},
        };
        struct mpnet_memwire_cfg wc = {.ring_size = 0, .name = "bench"};
        struct result *res;
        struct run r = {.cfg = &c};
        int rc;

        bench_parse_args(argc, argv,
                         "Raw pass-through of the memory wire: producer thread -> wire -> "
                         "consumer thread, buffers recycled through the pool.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if ((c.ring & (c.ring - 1)) != 0)
                bench_die("bench_memwire: --ring must be a power of two\n");
        wc.ring_size = (uint32_t)c.ring;
        rc = mpnet_memwire_create(&wc, &r.a, &r.b);
        if (rc != 0)
                bench_die("bench_memwire: memwire: %s\n", strerror(-rc));
        /* The ring, both thread caches (at most 256 each) and two bursts in hand. */
        r.pool = mpnet_pool_create("bench", (uint32_t)c.ring + 1024 + 2 * BURST_MAX);
        res = calloc(c.repeat, sizeof(*res));
        if (r.pool == NULL || res == NULL)
                bench_die("bench_memwire: out of memory\n");

        fprintf(stderr, "memwire: tsc %.0f Hz, %llu pkts x %llu repeats, burst %llu, %s%s\n",
                bench_tsc_hz(), (unsigned long long)c.pkts, (unsigned long long)c.repeat,
                (unsigned long long)c.burst, c.single ? "one thread" : "two threads",
                c.pin ? ", pinned" : "");
        run_once(&r, c.pkts < WARMUP_PKTS ? c.pkts : WARMUP_PKTS, &res[0]);
        for (uint64_t i = 0; i < c.repeat; i++) {
                run_once(&r, c.pkts, &res[i]);
                fprintf(stderr,
                        "  repeat %llu: %.2f Mpps, %.1f cycles/pkt (ring full %llu, rx "
                        "empty %llu)\n",
                        (unsigned long long)i, res[i].mpps, res[i].cycles_per_pkt,
                        (unsigned long long)res[i].ring_full, (unsigned long long)res[i].rx_empty);
        }
        report(&c, res);

        mpnet_link_destroy(r.a);
        mpnet_link_destroy(r.b);
        mpnet_pool_destroy(r.pool);
        free(res);
        return 0;
}
