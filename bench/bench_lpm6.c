/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_lpm6: IPv6 longest-prefix match (mpnet/lpm6.h) with about 1M routes.
 *
 * The routes follow the length mix below (per 10000; about 43 % /48, 10 %
 * /32, 8 % /44, 6 % /40, 5 % /64, 4 % /56, 2 % /128, 3 % /16-/28: the shape
 * of a full IPv6 BGP table, stretched to 1M routes, with more /56, /64 and
 * /128 routes than the DFZ carries, as an IGP or a data centre adds). They
 * are placed as allocations are made: routes / 16 random "allocations" (/32s
 * in 2000::/3), each with 2 "sites" (/40s) and each site with 16 "customers"
 * (/48s). A route of length 33-40 lies in an allocation, 41-48 in a site;
 * 49-64 in a customer of the operator's own allocations (the first 1/64),
 * numbered from the bottom (one of the first 256 /64s); longer ones in the
 * first /64 of a site's first customer, again numbered from the bottom (below
 * 2^12 in the bits past /64). Routes of length 32 or less lie over an
 * allocation, 1 in 8 anywhere in 2000::/3. Each repeat builds a fresh table and measures, in TSC
 * cycles:
 *   - insert: every route, then inserts per second;
 *   - single: mpnet_lpm6_lookup() over batches of 4096 addresses, each inside
 *     a random route (random host bits), a new batch each time (made outside
 *     the timed loop);
 *   - bulk: mpnet_lpm6_lookup_bulk() --bulk addresses a call over the same
 *     kind of batches; bulk256: 256 a call (a vector);
 *   - ws_single, ws_bulk: the same over a working set of --ws addresses
 *     taken from the routes, looked up again and again (a cache-hot FIB);
 *   - delete: every route.
 *
 * Synchronisation: one thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/lpm6.h"

typedef unsigned __int128 u128;

#define BATCH 4096u

struct cfg {
        uint64_t routes, batches, repeat, seed, ws, bulk;
        bool pin, small_pages, huge_pages;
};

struct route {
        u128 prefix;
        uint8_t plen;
};

/* clang-format off */
#define FIGURES(X)                                                              \
        X(insert_per_s) X(insert_cycles) X(delete_cycles)                       \
        X(single_cycles) X(single_p50) X(bulk_cycles) X(bulk_p50)              \
        X(bulk256_cycles) X(bulk256_p50) X(ws_single_cycles) X(ws_single_p50)  \
        X(ws_bulk_cycles) X(ws_bulk_p50) X(fail_pct)
/* clang-format on */
#define FIG_ENUM(name) FIG_##name,
#define FIG_NAME(name) #name,
enum { FIGURES(FIG_ENUM) N_FIG };
static const char *const fig_names[N_FIG] = {FIGURES(FIG_NAME)};

struct result {
        double fig[N_FIG];
        uint32_t huge_regions;
        uint64_t tbl8_used, mem_bytes, tbl24_bytes, tbl8_bytes, rib_bytes, unique;
};

/* Routes per 10000, by length. */
static const struct {
        uint8_t len;
        uint16_t n;
} dist[] = {
    {16, 10}, {19, 10},  {20, 40},  {21, 10},  {22, 20},  {23, 10},   {24, 40},   {26, 20},
    {27, 10}, {28, 50},  {29, 300}, {30, 50},  {31, 30},  {32, 1000}, {33, 80},   {34, 80},
    {35, 50}, {36, 300}, {37, 40},  {38, 60},  {39, 40},  {40, 600},  {41, 40},   {42, 200},
    {43, 60}, {44, 800}, {45, 200}, {46, 300}, {47, 200}, {48, 4300}, {52, 50},   {56, 400},
    {60, 30}, {64, 500}, {96, 20},  {112, 10}, {124, 20}, {127, 20},  {128, 200},
};
#define N_DIST (sizeof(dist) / sizeof(dist[0]))

static uint64_t rng;

static uint64_t rnd(void)
{
        uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static u128 rnd128(void)
{
        return (u128)rnd() << 64 | rnd();
}

static u128 mask_of(unsigned plen)
{
        return plen == 0 ? 0 : ~(u128)0 << (128 - plen);
}

static void bytes_of(u128 k, uint8_t b[16])
{
        for (unsigned i = 0; i < 16; i++)
                b[i] = (uint8_t)(k >> (120 - 8 * i));
}

/* Bits [from, to) of the prefix taken from a hash of (parent, child): the
 * same child of the same parent always gets the same bits. */
static u128 child_of(u128 parent, unsigned from, unsigned to, uint64_t child)
{
        uint64_t h = (uint64_t)(parent >> 64) * 0x9e3779b97f4a7c15ull ^ (uint64_t)parent ^
                     child * 0xc2b2ae3d27d4eb4full;

        h ^= h >> 31;
        h *= 0xbf58476d1ce4e5b9ull;
        return parent | (((u128)h << 64 >> from) & mask_of(to) & ~mask_of(from));
}

/* Bits [from, to) set to a small number (below 2^k), as subnets and hosts
 * are numbered from the bottom of their block. */
static u128 low_numbered(u128 parent, unsigned from, unsigned to, unsigned k)
{
        unsigned w = to - from < k ? to - from : k;

        return parent | ((u128)(rnd() & ((1ull << w) - 1)) << (128 - to));
}

static u128 place(const u128 *alloc, uint64_t n_alloc, unsigned l)
{
        u128 p = (u128)1 << 125 | rnd128() >> 3, a;

        if (l <= 32)
                return rnd() % 8 != 0 ? alloc[rnd() % n_alloc] | (p & ~mask_of(32)) : p;
        /* Routes longer than /48 live in the operator's own space: the first
         * 1/64 of the allocations. */
        a = alloc[rnd() % (l <= 48 ? n_alloc : n_alloc / 64 + 1)];
        if (l <= 40)
                return a | (p & ~mask_of(32));
        a = child_of(a, 32, 40, rnd() % 2);
        if (l <= 48)
                return a | (p & ~mask_of(40));
        if (l <= 64)
                return low_numbered(child_of(a, 40, 48, rnd() % 16), 48, l, 8);
        /* Loopbacks and other long routes: the site's first customer's
         * first /64. */
        return low_numbered(child_of(a, 40, 48, 0), 64, l, 12);
}

static size_t gen_routes(const struct cfg *c, struct route *r)
{
        uint64_t n_alloc = c->routes / 16 + 1, total = 0;
        u128 *alloc = malloc(n_alloc * sizeof(*alloc));
        size_t n = 0;

        if (alloc == NULL)
                bench_die("bench_lpm6: out of memory\n");
        for (uint64_t i = 0; i < n_alloc; i++)
                alloc[i] = ((u128)1 << 125 | rnd128() >> 3) & mask_of(32);
        for (unsigned i = 0; i < N_DIST; i++)
                total += dist[i].n;
        for (unsigned i = 0; i < N_DIST; i++) {
                uint64_t k = (c->routes * dist[i].n + total / 2) / total;

                for (uint64_t j = 0; j < k; j++)
                        r[n++] = (struct route){
                            place(alloc, n_alloc, dist[i].len) & mask_of(dist[i].len), dist[i].len};
        }
        /* Shuffle: insertion order is not sorted by length in real life. */
        for (size_t i = n; i > 1; i--) {
                size_t j = rnd() % i;
                struct route t = r[i - 1];

                r[i - 1] = r[j];
                r[j] = t;
        }
        free(alloc);
        return n;
}

/* a[0..n): addresses inside random routes of r[0..nr) (every stride-th). */
static void fill_inside(uint8_t (*a)[16], unsigned n, const struct route *r, size_t nr,
                        size_t stride)
{
        for (unsigned i = 0; i < n; i++) {
                const struct route *x = &r[(rnd() % (nr / stride)) * stride];

                bytes_of(x->prefix | (rnd128() & ~mask_of(x->plen)), a[i]);
        }
}

struct lcycles {
        double mean, median;
};

static struct lcycles summarize(const double *per_batch, uint64_t batches, uint64_t total)
{
        return (struct lcycles){(double)total / (double)(batches * BATCH),
                                bench_median(per_batch, batches) / BATCH};
}

/* Single lookups over batches of addresses; r: new addresses inside these
 * routes for each batch, made before its timing starts (NULL: the same). */
static struct lcycles time_single(const struct mpnet_lpm6 *t, uint8_t (*a)[16], double *per_batch,
                                  uint64_t batches, const struct route *r, size_t nr,
                                  uint64_t *fails)
{
        uint64_t total = 0, f = 0;

        for (uint64_t b = 0; b < batches; b++) {
                uint64_t t0, dt;
                uint32_t nh, sum = 0;

                if (r != NULL)
                        fill_inside(a, BATCH, r, nr, 1);
                t0 = bench_tsc();
                for (unsigned i = 0; i < BATCH; i++) {
                        if (mpnet_lpm6_lookup(t, a[i], &nh) != 0)
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

static struct lcycles time_bulk(const struct mpnet_lpm6 *t, uint8_t (*a)[16], double *per_batch,
                                uint64_t batches, unsigned bulk, const struct route *r, size_t nr,
                                uint64_t *fails)
{
        static uint32_t nh[BATCH];
        uint64_t total = 0, f = 0;

        for (uint64_t b = 0; b < batches; b++) {
                uint64_t t0, dt;

                if (r != NULL)
                        fill_inside(a, BATCH, r, nr, 1);
                t0 = bench_tsc();
                for (unsigned i = 0; i < BATCH; i += bulk)
                        f += mpnet_lpm6_lookup_bulk(t, (const uint8_t(*)[16]) & a[i], &nh[i], bulk,
                                                    UINT32_MAX);
                dt = bench_tsc() - t0;
                total += dt;
                per_batch[b] = (double)dt;
                __asm__ volatile("" : : "r"(nh[b % BATCH]));
        }
        *fails = f;
        return summarize(per_batch, batches, total);
}

static void lc_set(struct result *res, int fig, struct lcycles lc)
{
        res->fig[fig] = lc.mean;
        res->fig[fig + 1] = lc.median;
}

static void run_once(const struct cfg *c, const struct route *r, size_t n, struct result *res)
{
        struct mpnet_lpm6_cfg lc = {.max_tbl8 = 1u << 20,
                                    .flags = c->small_pages  ? MPNET_LPM6_F_SMALLPAGES
                                             : c->huge_pages ? MPNET_LPM6_F_HUGEPAGE
                                                             : 0};
        struct mpnet_lpm6 *t = mpnet_lpm6_create(&lc);
        static uint8_t a[BATCH][16];
        struct mpnet_lpm6_stats st;
        uint64_t t0, t1, fails;
        double hz = bench_tsc_hz(), *per_batch = calloc(c->batches, sizeof(double));

        if (t == NULL || per_batch == NULL)
                bench_die("bench_lpm6: create: %s\n", strerror(errno));
        t0 = bench_tsc();
        for (size_t i = 0; i < n; i++) {
                uint8_t b[16];
                int rc;

                bytes_of(r[i].prefix, b);
                rc = mpnet_lpm6_add(t, b, r[i].plen, (uint32_t)i & 0xffff);
                if (rc != 0)
                        bench_die("bench_lpm6: add: %s\n", strerror(-rc));
        }
        t1 = bench_tsc();
        res->fig[FIG_insert_cycles] = (double)(t1 - t0) / (double)n;
        res->fig[FIG_insert_per_s] = (double)n / ((double)(t1 - t0) / hz);
        mpnet_lpm6_get_stats(t, &st);
        res->unique = st.routes;
        res->tbl8_used = st.tbl8_used;
        res->mem_bytes = st.mem_bytes;
        res->huge_regions = st.huge_regions;
        res->tbl24_bytes = st.tbl24_bytes;
        res->tbl8_bytes = st.tbl8_bytes;
        res->rib_bytes = st.rib_bytes;

        lc_set(res, FIG_single_cycles, time_single(t, a, per_batch, c->batches, r, n, &fails));
        res->fig[FIG_fail_pct] = 100.0 * (double)fails / (double)(c->batches * BATCH);
        lc_set(res, FIG_bulk_cycles,
               time_bulk(t, a, per_batch, c->batches, (unsigned)c->bulk, r, n, &fails));
        lc_set(res, FIG_bulk256_cycles, time_bulk(t, a, per_batch, c->batches, 256, r, n, &fails));
        /* The working set: --ws routes, addresses in them, again and again. */
        fill_inside(a, BATCH, r, n, n / c->ws);
        lc_set(res, FIG_ws_single_cycles,
               time_single(t, a, per_batch, c->batches, NULL, 0, &fails));
        lc_set(res, FIG_ws_bulk_cycles,
               time_bulk(t, a, per_batch, c->batches, (unsigned)c->bulk, NULL, 0, &fails));

        t0 = bench_tsc();
        for (size_t i = 0; i < n; i++) {
                uint8_t b[16];

                bytes_of(r[i].prefix, b);
                (void)mpnet_lpm6_delete(t, b, r[i].plen); /* duplicates: -ENOENT */
        }
        t1 = bench_tsc();
        res->fig[FIG_delete_cycles] = (double)(t1 - t0) / (double)n;
        mpnet_lpm6_get_stats(t, &st);
        if (st.routes != 0 || st.tbl8_used != 0)
                bench_die("bench_lpm6: %llu routes, %u groups left after deleting all\n",
                          (unsigned long long)st.routes, st.tbl8_used);
        mpnet_lpm6_destroy(t);
        free(per_batch);
}

static void report(const struct cfg *c, size_t n, const struct result *res)
{
        double *col = calloc(c->repeat, sizeof(*col));
        struct bench_json j;

        if (col == NULL)
                bench_die("bench_lpm6: out of memory\n");
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "lpm6");
        bench_json_str(&j, "dist", "alloc");
        bench_json_u64(&j, "routes", n);
        bench_json_u64(&j, "unique_routes", res[0].unique);
        bench_json_u64(&j, "tbl8_used", res[0].tbl8_used);
        bench_json_u64(&j, "mem_bytes", res[0].mem_bytes);
        bench_json_u64(&j, "tbl24_bytes", res[0].tbl24_bytes);
        bench_json_u64(&j, "tbl8_bytes", res[0].tbl8_bytes);
        bench_json_u64(&j, "rib_bytes", res[0].rib_bytes);
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
        struct cfg c = {
            .routes = 1000000, .batches = 256, .repeat = 5, .seed = 1, .ws = 2000, .bulk = 32};
        const struct bench_opt opts[] = {
            {"routes", BENCH_OPT_U64, &c.routes, 1000, 4000000, "routes"},
            {"batches", BENCH_OPT_U64, &c.batches, 1, 1u << 20, "batches of 4096 lookups"},
            {"bulk", BENCH_OPT_U64, &c.bulk, 1, 4096, "addresses per bulk call (divides 4096)"},
            {"ws", BENCH_OPT_U64, &c.ws, 1, 4096, "working-set routes"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"seed", BENCH_OPT_U64, &c.seed, 0, UINT64_MAX, "route and address generator seed"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin to cpu 0"},
            {"small-pages", BENCH_OPT_FLAG, &c.small_pages, 0, 0,
             "4 KiB pages only (MPNET_LPM6_F_SMALLPAGES), as DPDK's --no-huge"},
            {"huge-pages", BENCH_OPT_FLAG, &c.huge_pages, 0, 0,
             "2 MiB pages from the start (MPNET_LPM6_F_HUGEPAGE); default: the library's, "
             "half-written 2 MiB regions move to huge pages"},
        };
        struct route *r;
        struct result *res;
        size_t n;

        bench_parse_args(argc, argv,
                         "IPv6 longest-prefix match: inserts, single and bulk lookups of addresses "
                         "inside the routes and of a working set, deletes, with 1M routes.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (BATCH % c.bulk != 0)
                bench_die("bench_lpm6: --bulk must divide %u\n", BATCH);
        if (c.small_pages && c.huge_pages)
                bench_die("bench_lpm6: --small-pages or --huge-pages, not both\n");
        if (c.pin)
                bench_pin_self(0);
        rng = c.seed;
        r = malloc((c.routes + N_DIST) * sizeof(*r));
        res = calloc(c.repeat, sizeof(*res));
        if (r == NULL || res == NULL)
                bench_die("bench_lpm6: out of memory\n");
        n = gen_routes(&c, r);
        if (c.ws > n)
                c.ws = n;
        fprintf(
            stderr, "lpm6: tsc %.0f Hz, %zu routes, %llu x %u lookups, %llu repeats, %s pages%s\n",
            bench_tsc_hz(), n, (unsigned long long)c.batches, BATCH, (unsigned long long)c.repeat,
            bench_pages_name(c.small_pages, c.huge_pages), c.pin ? ", pinned" : "");
        run_once(&c, r, n, &res[0]); /* warm-up */
        for (uint64_t i = 0; i < c.repeat; i++) {
                run_once(&c, r, n, &res[i]);
                fprintf(stderr,
                        "  repeat %llu: insert %.0f/s, delete %.0f cycles; lookup cycles (mean, "
                        "median batch): single %.1f %.1f, bulk %.1f %.1f, bulk256 %.1f %.1f, "
                        "ws single %.1f %.1f, ws bulk %.1f %.1f; fails %.1f%%; %.1f MiB\n",
                        (unsigned long long)i, res[i].fig[FIG_insert_per_s],
                        res[i].fig[FIG_delete_cycles], res[i].fig[FIG_single_cycles],
                        res[i].fig[FIG_single_p50], res[i].fig[FIG_bulk_cycles],
                        res[i].fig[FIG_bulk_p50], res[i].fig[FIG_bulk256_cycles],
                        res[i].fig[FIG_bulk256_p50], res[i].fig[FIG_ws_single_cycles],
                        res[i].fig[FIG_ws_single_p50], res[i].fig[FIG_ws_bulk_cycles],
                        res[i].fig[FIG_ws_bulk_p50], res[i].fig[FIG_fail_pct],
                        (double)res[i].mem_bytes / 1048576.0);
        }
        report(&c, n, res);
        free(r);
        free(res);
        return 0;
}
