/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_lpm4: IPv4 longest-prefix match (mpnet/lpm4.h) with about 1M routes.
 *
 * The routes follow the prefix-length distribution of a real full table, per
 * address class, as DPDK's lpm_perf_autotest uses (1.08M routes, 54 % /24,
 * 92 % between /16 and /24, 3.9 % longer), with random prefixes from a seeded
 * generator; --wide makes 10 % of them longer than /24 instead. Each repeat
 * builds a fresh table and measures, in TSC cycles:
 *   - insert: every route, then inserts per second;
 *   - single: mpnet_lpm4_lookup() over batches of 4096 random addresses
 *     (a new batch each time, made outside the timed loop), as
 *     lpm_perf_autotest's "Average LPM Lookup";
 *   - bulk: mpnet_lpm4_lookup_bulk() 32 addresses a call over the same kind
 *     of batches, as its "BULK LPM Lookup"; bulk256: 256 a call (a vector);
 *   - ws_single, ws_bulk: the same over a working set of --ws addresses
 *     taken from the routes, looked up again and again (a cache-hot FIB);
 *   - delete: every route;
 *   - with --reader: the longest gap between a reader thread's bulk calls
 *     while the routes went in, and how many gaps passed 100 us.
 *
 * Synchronisation: one thread; with --reader a second one, lookups only,
 * stopped before the lookup phases.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/lpm4.h"

#define BATCH 4096u

struct cfg {
        uint64_t routes, batches, repeat, seed, ws, bulk, tbl8;
        bool pin, wide, small_pages, huge_pages, reader;
};

struct route {
        uint32_t prefix;
        uint8_t plen;
};

/* The figures of one repeat; *_cycles are per lookup (mean over the
 * batches), *_p50 the same from the median batch. */
/* clang-format off */
#define FIGURES(X)                                                              \
        X(insert_per_s) X(insert_cycles) X(delete_cycles)                       \
        X(single_cycles) X(single_p50) X(bulk_cycles) X(bulk_p50)              \
        X(bulk256_cycles) X(bulk256_p50) X(ws_single_cycles) X(ws_single_p50)  \
        X(ws_bulk_cycles) X(ws_bulk_p50) X(fail_pct)                           \
        X(reader_max_gap_us) X(reader_gaps_over_100us)
/* clang-format on */
#define FIG_ENUM(name) FIG_##name,
#define FIG_NAME(name) #name,
enum { FIGURES(FIG_ENUM) N_FIG };
static const char *const fig_names[N_FIG] = {FIGURES(FIG_NAME)};

struct result {
        double fig[N_FIG];
        uint32_t huge_regions;
        uint64_t tbl8_used, mem_bytes, unique, refused;
};

/* Routes per length for addresses starting 0, 10 and 110 (classes A, B, C)
 * in a real full table, as lpm_perf_autotest generates them. */
static const uint32_t dist_a[33] = {0,    0,     0,     1,     0,     2,     1,     3,    185,
                                    26,   16,    39,    144,   233,   528,   866,   3856, 3268,
                                    5662, 17301, 22226, 11147, 16746, 17120, 77578, 401,  656,
                                    1107, 1121,  2316,  717,   10,    66};
static const uint32_t dist_b[33] = {
    0,    0,    0,    0,    0,    1,    1,    1,     3,   3,   30,  25, 168, 305, 569, 1129, 50800,
    1645, 1820, 3506, 3258, 3424, 4971, 6885, 39771, 424, 170, 433, 92, 366, 377, 2,   200};
static const uint32_t dist_c[33] = {0,     0,     0,     0,     0,     0,     0,      0,     12,
                                    8,     9,     33,    69,    237,   1007,  1717,   14663, 8070,
                                    16185, 48261, 36870, 33960, 50638, 61422, 466549, 1829,  4824,
                                    4927,  5914,  10254, 4905,  1,     716};
#define DIST_TOTAL 1076801u /* the sum of the three tables above */

static uint64_t rng;

static uint64_t rnd(void)
{
        uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static uint32_t mask_of(unsigned plen)
{
        return plen == 0 ? 0 : ~0u << (32 - plen);
}

/* count random prefixes of length plen starting with the class bits. */
static size_t gen_class(struct route *r, size_t n, size_t cap, uint32_t head, unsigned head_bits,
                        unsigned plen, uint64_t count)
{
        for (uint64_t k = 0; k < count && n < cap; k++) {
                uint32_t p = (uint32_t)(rnd() >> 32);

                p = head | (p >> head_bits);
                r[n++] = (struct route){p & mask_of(plen), (uint8_t)plen};
        }
        return n;
}

static size_t gen_routes(const struct cfg *c, struct route *r)
{
        double scale = (double)c->routes / (double)DIST_TOTAL;
        size_t n = 0;

        for (unsigned l = 1; l <= 32; l++) {
                double extra = c->wide && l > 24 ? 2.7 : 1.0; /* --wide: ~10 % beyond /24 */
                uint64_t na = (uint64_t)(dist_a[l] * scale * extra + 0.5);
                uint64_t nb = (uint64_t)(dist_b[l] * scale * extra + 0.5);
                uint64_t nc = (uint64_t)(dist_c[l] * scale * extra + 0.5);

                n = gen_class(r, n, 2 * c->routes, 0x00000000u, 1, l, na);
                n = gen_class(r, n, 2 * c->routes, 0x80000000u, 2, l, nb);
                n = gen_class(r, n, 2 * c->routes, 0xc0000000u, 3, l, nc);
        }
        /* Shuffle: insertion order is not sorted by length in real life. */
        for (size_t i = n; i > 1; i--) {
                size_t j = rnd() % i;
                struct route t = r[i - 1];

                r[i - 1] = r[j];
                r[j] = t;
        }
        return n;
}

static void fill_random(uint32_t *a, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                a[i] = (uint32_t)(rnd() >> 32);
}

/* Lookup cycles: the mean over all batches (what lpm_perf_autotest prints)
 * and the median batch (robust to a preemption on a shared machine). */
struct lcycles {
        double mean, median;
};

static struct lcycles summarize(const double *per_batch, uint64_t batches, uint64_t total)
{
        return (struct lcycles){(double)total / (double)(batches * BATCH),
                                bench_median(per_batch, batches) / BATCH};
}

/* Single lookups over batches of addresses; refill: new random addresses
 * for each batch, made before its timing starts. */
static struct lcycles time_single(const struct mpnet_lpm4 *t, uint32_t *a, double *per_batch,
                                  uint64_t batches, bool refill, uint64_t *fails)
{
        uint64_t total = 0, f = 0;

        for (uint64_t b = 0; b < batches; b++) {
                uint64_t t0, dt;
                uint32_t nh, sum = 0;

                if (refill)
                        fill_random(a, BATCH);
                t0 = bench_tsc();
                for (unsigned i = 0; i < BATCH; i++) {
                        if (mpnet_lpm4_lookup(t, a[i], &nh) != 0)
                                f++;
                        sum += nh;
                }
                dt = bench_tsc() - t0;
                total += dt;
                per_batch[b] = (double)dt;
                __asm__ volatile("" : : "r"(sum));
        }
        *fails = f;
        return summarize(per_batch, batches, total);
}

static struct lcycles time_bulk(const struct mpnet_lpm4 *t, uint32_t *a, double *per_batch,
                                uint64_t batches, unsigned bulk, bool refill, uint64_t *fails)
{
        uint32_t nh[BATCH];
        uint64_t total = 0, f = 0;

        for (uint64_t b = 0; b < batches; b++) {
                uint64_t t0, dt;

                if (refill)
                        fill_random(a, BATCH);
                t0 = bench_tsc();
                for (unsigned i = 0; i < BATCH; i += bulk)
                        f += mpnet_lpm4_lookup_bulk(t, &a[i], &nh[i], bulk, UINT32_MAX);
                dt = bench_tsc() - t0;
                total += dt;
                per_batch[b] = (double)dt;
                __asm__ volatile("" : : "r"(nh[b % BATCH]));
        }
        *fails = f;
        return summarize(per_batch, batches, total);
}

/* A lookup figure: the mean at fig, the median batch right after it. */
static void lc_set(struct result *res, int fig, struct lcycles lc)
{
        res->fig[fig] = lc.mean;
        res->fig[fig + 1] = lc.median;
}

/* --reader: a thread on the other CPU doing bulk lookups of 32 random
 * addresses while the routes go in, timing the gap between calls; a gap
 * longer than a call is the reader waiting (a page being replaced, or the
 * machine taking the CPU away: compare with --small-pages). */
struct reader {
        const struct mpnet_lpm4 *t;
        atomic_bool stop;
        uint64_t max_gap, over_100us;
};

static void *reader_main(void *arg)
{
        struct reader *rd = arg;
        uint64_t x = 0x9e3779b97f4a7c15ull, prev, limit = (uint64_t)(bench_tsc_hz() / 10000);
        uint32_t a[32], nh[32];

        bench_pin_self(1);
        prev = bench_tsc();
        while (!atomic_load_explicit(&rd->stop, memory_order_relaxed)) {
                uint64_t now, gap;

                for (unsigned k = 0; k < 32; k++) {
                        x = x * 6364136223846793005ull + 1442695040888963407ull;
                        a[k] = (uint32_t)(x >> 32);
                }
                mpnet_lpm4_lookup_bulk(rd->t, a, nh, 32, UINT32_MAX);
                __asm__ volatile("" : : "r"(nh[0]));
                now = bench_tsc();
                gap = now - prev;
                prev = now;
                rd->max_gap = gap > rd->max_gap ? gap : rd->max_gap;
                rd->over_100us += gap > limit;
        }
        return NULL;
}

static void run_once(const struct cfg *c, const struct route *r, size_t n, struct result *res)
{
        static struct reader rd;
        pthread_t th;
        struct mpnet_lpm4_cfg lc = {.max_tbl8 = (uint32_t)c->tbl8,
                                    .flags = c->small_pages  ? MPNET_LPM4_F_SMALLPAGES
                                             : c->huge_pages ? MPNET_LPM4_F_HUGEPAGE
                                                             : 0};
        struct mpnet_lpm4 *t = mpnet_lpm4_create(&lc);
        static uint32_t a[BATCH];
        struct mpnet_lpm4_stats st;
        uint64_t t0, t1, fails;
        double hz = bench_tsc_hz(), *per_batch = calloc(c->batches, sizeof(double));

        if (t == NULL || per_batch == NULL)
                bench_die("bench_lpm4: create: %s\n", strerror(errno));
        if (c->reader) {
                memset(&rd, 0, sizeof(rd));
                rd.t = t;
                if (pthread_create(&th, NULL, reader_main, &rd) != 0)
                        bench_die("bench_lpm4: reader thread\n");
        }
        t0 = bench_tsc();
        for (size_t i = 0; i < n; i++) {
                int rc = mpnet_lpm4_add(t, r[i].prefix, r[i].plen, (uint32_t)i & 0xffff);

                /* With few groups (--tbl8, as lpm_perf_autotest's 2048) a
                 * long route may not fit: refused and counted, as there. */
                if (rc == -ENOSPC)
                        res->refused++;
                else if (rc != 0)
                        bench_die("bench_lpm4: add: %s\n", strerror(-rc));
        }
        t1 = bench_tsc();
        if (c->reader) {
                atomic_store(&rd.stop, true);
                pthread_join(th, NULL);
                res->fig[FIG_reader_max_gap_us] = (double)rd.max_gap / hz * 1e6;
                res->fig[FIG_reader_gaps_over_100us] = (double)rd.over_100us;
        }
        res->fig[FIG_insert_cycles] = (double)(t1 - t0) / (double)n;
        res->fig[FIG_insert_per_s] = (double)n / ((double)(t1 - t0) / hz);
        mpnet_lpm4_get_stats(t, &st);
        res->unique = st.routes;
        res->tbl8_used = st.tbl8_used;
        res->mem_bytes = st.mem_bytes;
        res->huge_regions = st.huge_regions;

        /* Random addresses, a fresh batch each time (untimed), then the
         * working set: addresses inside the routes, the same ones again. */
        lc_set(res, FIG_single_cycles, time_single(t, a, per_batch, c->batches, true, &fails));
        res->fig[FIG_fail_pct] = 100.0 * (double)fails / (double)(c->batches * BATCH);
        lc_set(res, FIG_bulk_cycles,
               time_bulk(t, a, per_batch, c->batches, (unsigned)c->bulk, true, &fails));
        lc_set(res, FIG_bulk256_cycles, time_bulk(t, a, per_batch, c->batches, 256, true, &fails));
        for (unsigned i = 0; i < BATCH; i++) {
                const struct route *x = &r[(rnd() % c->ws) * (n / c->ws)];

                a[i] = x->prefix | ((uint32_t)(rnd() >> 32) & ~mask_of(x->plen) & 0xf);
        }
        lc_set(res, FIG_ws_single_cycles, time_single(t, a, per_batch, c->batches, false, &fails));
        lc_set(res, FIG_ws_bulk_cycles,
               time_bulk(t, a, per_batch, c->batches, (unsigned)c->bulk, false, &fails));

        t0 = bench_tsc();
        for (size_t i = 0; i < n; i++)
                (void)mpnet_lpm4_delete(t, r[i].prefix, r[i].plen); /* duplicates: -ENOENT */
        t1 = bench_tsc();
        res->fig[FIG_delete_cycles] = (double)(t1 - t0) / (double)n;
        mpnet_lpm4_get_stats(t, &st);
        if (st.routes != 0 || st.tbl8_used != 0)
                bench_die("bench_lpm4: %llu routes, %u groups left after deleting all\n",
                          (unsigned long long)st.routes, st.tbl8_used);
        mpnet_lpm4_destroy(t);
        free(per_batch);
}

static void report(const struct cfg *c, size_t n, const struct result *res)
{
        double *col = calloc(c->repeat, sizeof(*col));
        struct bench_json j;

        if (col == NULL)
                bench_die("bench_lpm4: out of memory\n");
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "lpm4");
        bench_json_str(&j, "dist", c->wide ? "wide" : "dpdk");
        bench_json_u64(&j, "routes", n);
        bench_json_u64(&j, "unique_routes", res[0].unique);
        bench_json_u64(&j, "tbl8_used", res[0].tbl8_used);
        bench_json_u64(&j, "tbl8_max", c->tbl8);
        bench_json_u64(&j, "refused_routes", res[0].refused);
        bench_json_u64(&j, "mem_bytes", res[0].mem_bytes);
        bench_json_str(&j, "pages", bench_pages_name(c->small_pages, c->huge_pages));
        bench_json_u64(&j, "huge_regions", res[0].huge_regions);
        bench_json_u64(&j, "batch", BATCH);
        bench_json_u64(&j, "batches", c->batches);
        bench_json_u64(&j, "bulk", c->bulk);
        bench_json_u64(&j, "ws", c->ws);
        bench_json_u64(&j, "seed", c->seed);
        bench_json_bool(&j, "pin", c->pin);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < c->repeat; i++) {
                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < N_FIG; k++)
                        bench_json_num(&j, fig_names[k], res[i].fig[k]);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < N_FIG; k++) {
                for (uint64_t i = 0; i < c->repeat; i++)
                        col[i] = res[i].fig[k];
                bench_json_stat(&j, fig_names[k], col, c->repeat);
        }
        bench_json_obj_end(&j);
        free(col);
}

int main(int argc, char **argv)
{
        struct cfg c = {.routes = DIST_TOTAL,
                        .batches = 1024,
                        .repeat = 5,
                        .seed = 1,
                        .ws = 2000,
                        .bulk = 32,
                        .tbl8 = 1u << 17};
        const struct bench_opt opts[] = {
            {"routes", BENCH_OPT_U64, &c.routes, 1000, 4000000, "routes (scaled distribution)"},
            {"batches", BENCH_OPT_U64, &c.batches, 1, 1u << 20, "batches of 4096 lookups"},
            {"bulk", BENCH_OPT_U64, &c.bulk, 1, 4096, "addresses per bulk call (divides 4096)"},
            {"ws", BENCH_OPT_U64, &c.ws, 1, 4096, "working-set addresses"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"seed", BENCH_OPT_U64, &c.seed, 0, UINT64_MAX, "route and address generator seed"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin to cpu 0"},
            {"wide", BENCH_OPT_FLAG, &c.wide, 0, 0, "10 % of the routes longer than /24"},
            {"tbl8", BENCH_OPT_U64, &c.tbl8, 1, MPNET_LPM4_TBL8_MAX,
             "tbl8 groups (131072; lpm_perf_autotest configures 2048)"},
            {"small-pages", BENCH_OPT_FLAG, &c.small_pages, 0, 0,
             "4 KiB pages only (MPNET_LPM4_F_SMALLPAGES), as DPDK's --no-huge"},
            {"reader", BENCH_OPT_FLAG, &c.reader, 0, 0,
             "a reader thread on cpu 1 (main on cpu 0) times its lookups while routes go in"},
            {"huge-pages", BENCH_OPT_FLAG, &c.huge_pages, 0, 0,
             "2 MiB pages from the start (MPNET_LPM4_F_HUGEPAGE); default: the library's, "
             "half-written 2 MiB regions move to huge pages"},
        };
        struct route *r;
        struct result *res;
        size_t n;

        bench_parse_args(argc, argv,
                         "IPv4 longest-prefix match: inserts, single and bulk lookups of random "
                         "and working-set addresses, deletes, with a full-table distribution.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (BATCH % c.bulk != 0)
                bench_die("bench_lpm4: --bulk must divide %u\n", BATCH);
        if (c.small_pages && c.huge_pages)
                bench_die("bench_lpm4: --small-pages or --huge-pages, not both\n");
        if (c.pin || c.reader)
                bench_pin_self(0);
        rng = c.seed;
        r = malloc(2 * c.routes * sizeof(*r));
        res = calloc(c.repeat, sizeof(*res));
        if (r == NULL || res == NULL)
                bench_die("bench_lpm4: out of memory\n");
        n = gen_routes(&c, r);
        fprintf(stderr,
                "lpm4: tsc %.0f Hz, %zu routes (%s), %llu x %u lookups, %llu repeats, %s pages%s\n",
                bench_tsc_hz(), n, c.wide ? "wide" : "dpdk", (unsigned long long)c.batches, BATCH,
                (unsigned long long)c.repeat, bench_pages_name(c.small_pages, c.huge_pages),
                c.pin ? ", pinned" : "");
        run_once(&c, r, n, &res[0]); /* warm-up */
        for (uint64_t i = 0; i < c.repeat; i++) {
                run_once(&c, r, n, &res[i]);
                fprintf(stderr,
                        "  repeat %llu: insert %.0f/s, delete %.0f cycles; lookup cycles (mean, "
                        "median batch): single %.1f %.1f, bulk %.1f %.1f, bulk256 %.1f %.1f, "
                        "ws single %.1f %.1f, ws bulk %.1f %.1f; fails %.1f%%\n",
                        (unsigned long long)i, res[i].fig[FIG_insert_per_s],
                        res[i].fig[FIG_delete_cycles], res[i].fig[FIG_single_cycles],
                        res[i].fig[FIG_single_p50], res[i].fig[FIG_bulk_cycles],
                        res[i].fig[FIG_bulk_p50], res[i].fig[FIG_bulk256_cycles],
                        res[i].fig[FIG_bulk256_p50], res[i].fig[FIG_ws_single_cycles],
                        res[i].fig[FIG_ws_single_p50], res[i].fig[FIG_ws_bulk_cycles],
                        res[i].fig[FIG_ws_bulk_p50], res[i].fig[FIG_fail_pct]);
                if (c.reader)
                        fprintf(
                            stderr,
                            "    reader during inserts: longest gap %.0f us, %.0f over 100 us\n",
                            res[i].fig[FIG_reader_max_gap_us],
                            res[i].fig[FIG_reader_gaps_over_100us]);
        }
        report(&c, n, res);
        free(r);
        free(res);
        return 0;
}
