/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_pool: what a packet buffer costs to recycle through its pool.
 *
 *   cross    an allocator thread (slot 0) allocates bursts and passes them
 *            through an SPSC ring to a freer thread (slot 1), which frees
 *            them: every buffer is freed on another thread than the one
 *            that allocated it (memory wires, punts, hand-offs). Cycles per
 *            buffer from the first start to the last end; each side's own
 *            loop is reported too.
 *   same     one thread allocates a burst and frees it at once: the fast
 *            path every packet takes (bulk), and one buffer at a time.
 *
 * The TSC is read around whole loops. Nothing is written into the buffers
 * beyond what allocation itself resets, so the figures are the pool's (and
 * the ring's, for cross) and not the frames'.
 *
 * Synchronisation: the two threads of cross share the ring and the pool; a
 * barrier starts them together. Every run ends with the pool whole
 * (mpnet_pool_in_use() 0) or the bench fails.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/pkt.h"
#include "mpnet/ring.h"
#include "mpnet/thread.h"

#define BURST_MAX 256u
#define WARMUP    1000000u

struct cfg {
        uint64_t pkts, burst, repeat, ring, pool;
        bool pin, no_cross, no_same;
};

struct side {
        uint64_t t0, t1;
        uint64_t stalls; /* allocator: ring full or pool empty; freer: ring empty */
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct run {
        const struct cfg *cfg;
        uint64_t pkts;
        struct mpnet_pool *pool;
        struct mpnet_ring *ring;
        pthread_barrier_t start;
        struct side alloc, free;
};

enum { R_CROSS, R_CROSS_ALLOC, R_CROSS_FREE, R_SAME_BULK, R_SAME_ONE, R_N };
static const char *const names[R_N] = {"cross_cycles_per_buf", "cross_alloc_cycles_per_buf",
                                       "cross_free_cycles_per_buf", "same_bulk_cycles_per_buf",
                                       "same_one_cycles_per_buf"};

struct result {
        double v[R_N];
        uint64_t alloc_stalls, free_stalls;
};

static void *allocator(void *arg)
{
        struct run *r = arg;
        const struct cfg *c = r->cfg;
        struct mpnet_pkt *v[BURST_MAX];
        uint64_t left = r->pkts;
        unsigned held = 0;

        if (c->pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        pthread_barrier_wait(&r->start);
        r->alloc.t0 = bench_tsc();
        while (left > 0) {
                unsigned want = left < c->burst ? (unsigned)left : (unsigned)c->burst, sent;

                if (held < want)
                        held += mpnet_pkt_alloc_bulk(r->pool, &v[held], want - held);
                sent = mpnet_ring_enqueue_burst(r->ring, (void *const *)v, held);
                if (sent < held) {
                        memmove(v, &v[sent], (held - sent) * sizeof(v[0]));
                        r->alloc.stalls++;
                }
                held -= sent;
                left -= sent;
        }
        r->alloc.t1 = bench_tsc();
        mpnet_pool_flush_cache(r->pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static void *freer(void *arg)
{
        struct run *r = arg;
        const struct cfg *c = r->cfg;
        void *v[BURST_MAX];
        uint64_t left = r->pkts;

        if (c->pin)
                bench_pin_self(1);
        mpnet_thread_set_slot(1);
        pthread_barrier_wait(&r->start);
        r->free.t0 = bench_tsc();
        while (left > 0) {
                unsigned got = mpnet_ring_dequeue_burst(r->ring, v, (unsigned)c->burst);

                if (got == 0) {
                        r->free.stalls++;
                        continue;
                }
                mpnet_pkt_free_bulk((struct mpnet_pkt **)v, got);
                left -= got;
        }
        r->free.t1 = bench_tsc();
        mpnet_pool_flush_cache(r->pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static void cross_once(struct run *r, uint64_t pkts, struct result *res)
{
        pthread_t ta, tf;
        uint64_t t0, t1;

        r->pkts = pkts;
        memset(&r->alloc, 0, sizeof(r->alloc));
        memset(&r->free, 0, sizeof(r->free));
        if (pthread_barrier_init(&r->start, NULL, 2) != 0 ||
            pthread_create(&ta, NULL, allocator, r) != 0 ||
            pthread_create(&tf, NULL, freer, r) != 0)
                bench_die("bench_pool: cannot start threads\n");
        pthread_join(ta, NULL);
        pthread_join(tf, NULL);
        pthread_barrier_destroy(&r->start);
        if (mpnet_pool_in_use(r->pool) != 0)
                bench_die("bench_pool: %u buffers lost\n", mpnet_pool_in_use(r->pool));
        t0 = r->alloc.t0 < r->free.t0 ? r->alloc.t0 : r->free.t0;
        t1 = r->alloc.t1 > r->free.t1 ? r->alloc.t1 : r->free.t1;
        res->v[R_CROSS] = (double)(t1 - t0) / (double)pkts;
        res->v[R_CROSS_ALLOC] = (double)(r->alloc.t1 - r->alloc.t0) / (double)pkts;
        res->v[R_CROSS_FREE] = (double)(r->free.t1 - r->free.t0) / (double)pkts;
        res->alloc_stalls = r->alloc.stalls;
        res->free_stalls = r->free.stalls;
}

/* One thread: allocate and free at once, a burst or one buffer at a time. */
static double same_once(struct run *r, uint64_t pkts, bool one)
{
        const struct cfg *c = r->cfg;
        struct mpnet_pkt *v[BURST_MAX];
        uint64_t left = pkts, t0, t1;

        if (c->pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        t0 = bench_tsc();
        while (left > 0) {
                unsigned want = left < c->burst ? (unsigned)left : (unsigned)c->burst, got;

                if (one) {
                        for (got = 0; got < want; got++) {
                                struct mpnet_pkt *p = mpnet_pkt_alloc(r->pool);

                                if (p == NULL)
                                        bench_die("bench_pool: pool empty\n");
                                mpnet_pkt_free(p);
                        }
                } else {
                        got = mpnet_pkt_alloc_bulk(r->pool, v, want);
                        if (got == 0)
                                bench_die("bench_pool: pool empty\n");
                        mpnet_pkt_free_bulk(v, got);
                }
                left -= got;
        }
        t1 = bench_tsc();
        mpnet_pool_flush_cache(r->pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        if (mpnet_pool_in_use(r->pool) != 0)
                bench_die("bench_pool: %u buffers lost\n", mpnet_pool_in_use(r->pool));
        return (double)(t1 - t0) / (double)pkts;
}

/* A test left out reports 0 (and callgrind sees only the other). */
static void run_once(struct run *r, uint64_t pkts, struct result *res)
{
        if (!r->cfg->no_cross)
                cross_once(r, pkts, res);
        if (!r->cfg->no_same) {
                res->v[R_SAME_BULK] = same_once(r, pkts, false);
                res->v[R_SAME_ONE] = same_once(r, pkts, true);
        }
}

static void report(const struct cfg *c, const struct result *res)
{
        double v[R_N][c->repeat];
        struct bench_json j;

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "pool");
        bench_json_u64(&j, "pkts", c->pkts);
        bench_json_u64(&j, "burst", c->burst);
        bench_json_u64(&j, "ring", c->ring);
        bench_json_u64(&j, "pool", c->pool);
        bench_json_bool(&j, "pin", c->pin);
        bench_json_bool(&j, "cross", !c->no_cross);
        bench_json_bool(&j, "same", !c->no_same);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < c->repeat; i++) {
                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < R_N; k++) {
                        v[k][i] = res[i].v[k];
                        bench_json_num(&j, names[k], v[k][i]);
                }
                bench_json_u64(&j, "alloc_stalls", res[i].alloc_stalls);
                bench_json_u64(&j, "free_stalls", res[i].free_stalls);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < R_N; k++)
                bench_json_stat(&j, names[k], v[k], c->repeat);
        bench_json_obj_end(&j);
}

int main(int argc, char **argv)
{
        struct cfg c = {.pkts = 10000000, .burst = 32, .repeat = 5, .ring = 1024, .pool = 4096};
        const struct bench_opt opts[] = {
            {"pkts", BENCH_OPT_U64, &c.pkts, 1, UINT64_MAX / 2, "buffers per repeat and test"},
            {"burst", BENCH_OPT_U64, &c.burst, 1, BURST_MAX, "buffers per alloc/free burst"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"ring", BENCH_OPT_U64, &c.ring, 2, 1u << 20, "ring slots (power of two)"},
            {"pool", BENCH_OPT_U64, &c.pool, 1024, 1u << 24, "buffers in the pool"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin allocator to cpu 0, freer to cpu 1"},
            {"no-cross", BENCH_OPT_FLAG, &c.no_cross, 0, 0, "leave the two-thread test out"},
            {"no-same", BENCH_OPT_FLAG, &c.no_same, 0, 0, "leave the one-thread tests out"},
        };
        struct result *res;
        struct run r = {.cfg = &c};

        bench_parse_args(argc, argv,
                         "Packet buffer recycling: allocated on one thread and freed on "
                         "another through an SPSC ring, and allocated and freed on one thread.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if ((c.ring & (c.ring - 1)) != 0)
                bench_die("bench_pool: --ring must be a power of two\n");
        /* The ring, the allocator's burst and whatever the caches hold. */
        if (c.pool < c.ring + BURST_MAX + 1024)
                bench_die("bench_pool: --pool must be at least --ring + %u\n", BURST_MAX + 1024);
        r.pool = mpnet_pool_create("bench", (uint32_t)c.pool);
        r.ring = mpnet_ring_create((uint32_t)c.ring, MPNET_RING_SPSC);
        res = calloc(c.repeat, sizeof(*res));
        if (r.pool == NULL || r.ring == NULL || res == NULL)
                bench_die("bench_pool: out of memory\n");

        fprintf(stderr, "pool: tsc %.0f Hz, %llu buffers x %llu repeats, burst %llu%s\n",
                bench_tsc_hz(), (unsigned long long)c.pkts, (unsigned long long)c.repeat,
                (unsigned long long)c.burst, c.pin ? ", pinned" : "");
        run_once(&r, c.pkts < WARMUP ? c.pkts : WARMUP, &res[0]);
        for (uint64_t i = 0; i < c.repeat; i++) {
                run_once(&r, c.pkts, &res[i]);
                fprintf(stderr,
                        "  repeat %llu: cross %.1f cycles/buf (alloc %.1f, free %.1f), same "
                        "bulk %.1f, same one %.1f\n",
                        (unsigned long long)i, res[i].v[R_CROSS], res[i].v[R_CROSS_ALLOC],
                        res[i].v[R_CROSS_FREE], res[i].v[R_SAME_BULK], res[i].v[R_SAME_ONE]);
        }
        report(&c, res);

        mpnet_ring_destroy(r.ring);
        mpnet_pool_destroy(r.pool);
        free(res);
        return 0;
}
