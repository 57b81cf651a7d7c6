/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_rss: the cost of the Toeplitz hash (mpnet/rss.h), in TSC cycles per
 * hash, with the standard key.
 *
 * Each repeat hashes a ring of WS random tuples (made outside the timed
 * loops, so a hot working set: the cost of the hash, not of the misses of
 * the tables or the tuples) again and again, reading the TSC once around
 * each loop. The hashes are independent of one another, so the figure is a
 * throughput, as when a worker hashes a vector of packets:
 *   - ref_ip4, ref_ip6: mpnet_toeplitz(), bit by bit, over the 12-byte IPv4
 *     and the 36-byte IPv6 4-tuple strings;
 *   - fast_ip4, fast_ip6: mpnet_rss_ip4_l4() and mpnet_rss_ip6_l4(), the
 *     per-byte tables;
 *   - bytes_ip4: mpnet_rss_hash() over the 12-byte string (the out-of-line
 *     generic loop);
 *   - eth_ip4, eth_ip6: mpnet_rss_hash_eth() over whole Ethernet/IP/TCP
 *     frames (parse and hash: software RSS as a link without it pays);
 *   - init: one mpnet_rss_init() (36 x 256 table words), in cycles.
 *
 * Synchronisation: one thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/rss.h"
#include "mpnet/wire/bytes.h"

#define WS       1024u /* tuples in the working set, a power of two */
#define FRAME_V4 54u   /* Ethernet 14 + IPv4 20 + TCP 20 */
#define FRAME_V6 74u   /* Ethernet 14 + IPv6 40 + TCP 20 */

struct cfg {
        uint64_t hashes, ref_hashes, repeat, seed;
        bool pin;
};

struct tuples {
        uint32_t src4[WS], dst4[WS];
        uint16_t sport[WS], dport[WS];
        uint8_t src6[WS][16], dst6[WS][16];
        uint8_t in4[WS][MPNET_RSS_IP4_L4_LEN], in6[WS][MPNET_RSS_IP6_L4_LEN];
        uint8_t eth4[WS][FRAME_V4], eth6[WS][FRAME_V6];
};

enum { F_REF4, F_FAST4, F_REF6, F_FAST6, F_BYTES4, F_ETH4, F_ETH6, F_INIT, N_FIG };

static const char *const names[N_FIG] = {
    "ref_ip4_cycles",   "fast_ip4_cycles", "ref_ip6_cycles", "fast_ip6_cycles",
    "bytes_ip4_cycles", "eth_ip4_cycles",  "eth_ip6_cycles", "init_cycles",
};

struct result {
        double fig[N_FIG];
        uint32_t check; /* XOR of every hash: keeps the loops */
};

static uint64_t rng;

static uint64_t rnd(void)
{
        uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static void make_frames(struct tuples *t, unsigned i)
{
        uint8_t *f4 = t->eth4[i], *f6 = t->eth6[i];

        memset(f4, 0, FRAME_V4);
        mpnet_put_be16(f4 + 12, 0x0800);
        f4[14] = 0x45;
        mpnet_put_be16(f4 + 16, FRAME_V4 - 14);
        f4[22] = 64;
        f4[23] = 6; /* TCP */
        memcpy(f4 + 26, t->in4[i], MPNET_RSS_IP4_L4_LEN);

        memset(f6, 0, FRAME_V6);
        mpnet_put_be16(f6 + 12, 0x86dd);
        f6[14] = 0x60;
        mpnet_put_be16(f6 + 18, 20);
        f6[20] = 6; /* TCP */
        f6[21] = 64;
        memcpy(f6 + 22, t->in6[i], MPNET_RSS_IP6_L4_LEN);
}

static void make_tuples(struct tuples *t)
{
        for (unsigned i = 0; i < WS; i++) {
                uint8_t *b4 = t->in4[i], *b6 = t->in6[i];

                t->src4[i] = (uint32_t)rnd();
                t->dst4[i] = (uint32_t)rnd();
                t->sport[i] = (uint16_t)rnd();
                t->dport[i] = (uint16_t)rnd();
                for (unsigned k = 0; k < 16; k++) {
                        t->src6[i][k] = (uint8_t)rnd();
                        t->dst6[i][k] = (uint8_t)rnd();
                }
                mpnet_put_be32(b4, t->src4[i]);
                mpnet_put_be32(b4 + 4, t->dst4[i]);
                mpnet_put_be16(b4 + 8, t->sport[i]);
                mpnet_put_be16(b4 + 10, t->dport[i]);
                memcpy(b6, t->src6[i], 16);
                memcpy(b6 + 16, t->dst6[i], 16);
                mpnet_put_be16(b6 + 32, t->sport[i]);
                mpnet_put_be16(b6 + 34, t->dport[i]);
                make_frames(t, i);
        }
}

/* Cycles per hash of one loop over n hashes; EXPR hashes tuple i. */
#define TIME_LOOP(n, sum, EXPR)                                                                    \
        ({                                                                                         \
                uint64_t t0_ = bench_tsc();                                                        \
                for (uint64_t k_ = 0; k_ < (n); k_++) {                                            \
                        unsigned i = (unsigned)k_ & (WS - 1);                                      \
                        (sum) ^= (EXPR);                                                           \
                }                                                                                  \
                (double)(bench_tsc() - t0_) / (double)(n);                                         \
        })

static void run_once(const struct cfg *c, const struct tuples *t, struct mpnet_rss *rss,
                     struct result *r)
{
        const uint8_t *key = mpnet_rss_key_ms;
        const size_t kl = MPNET_RSS_KEY_LEN;
        uint32_t sum = 0;
        uint64_t t0;

        t0 = bench_tsc();
        if (mpnet_rss_init(rss, key, kl) != 0)
                bench_die("bench_rss: mpnet_rss_init failed\n");
        r->fig[F_INIT] = (double)(bench_tsc() - t0);

        r->fig[F_REF4] = TIME_LOOP(c->ref_hashes, sum, mpnet_toeplitz(key, kl, t->in4[i], 12));
        r->fig[F_FAST4] =
            TIME_LOOP(c->hashes, sum,
                      mpnet_rss_ip4_l4(rss, t->src4[i], t->dst4[i], t->sport[i], t->dport[i]));
        r->fig[F_REF6] = TIME_LOOP(c->ref_hashes, sum, mpnet_toeplitz(key, kl, t->in6[i], 36));
        r->fig[F_FAST6] =
            TIME_LOOP(c->hashes, sum,
                      mpnet_rss_ip6_l4(rss, t->src6[i], t->dst6[i], t->sport[i], t->dport[i]));
        r->fig[F_BYTES4] = TIME_LOOP(c->hashes, sum, mpnet_rss_hash(rss, t->in4[i], 12));
        r->fig[F_ETH4] =
            TIME_LOOP(c->hashes, sum, mpnet_rss_hash_eth(rss, t->eth4[i], FRAME_V4, NULL));
        r->fig[F_ETH6] =
            TIME_LOOP(c->hashes, sum, mpnet_rss_hash_eth(rss, t->eth6[i], FRAME_V6, NULL));
        r->check = sum;
}

/* Every way of hashing a tuple must agree before any of them is timed. */
static void cross_check(const struct tuples *t, const struct mpnet_rss *rss)
{
        const uint8_t *key = mpnet_rss_key_ms;

        for (unsigned i = 0; i < WS; i++) {
                uint32_t h4 = mpnet_toeplitz(key, MPNET_RSS_KEY_LEN, t->in4[i], 12);
                uint32_t h6 = mpnet_toeplitz(key, MPNET_RSS_KEY_LEN, t->in6[i], 36);

                if (mpnet_rss_ip4_l4(rss, t->src4[i], t->dst4[i], t->sport[i], t->dport[i]) != h4 ||
                    mpnet_rss_hash(rss, t->in4[i], 12) != h4 ||
                    mpnet_rss_hash_eth(rss, t->eth4[i], FRAME_V4, NULL) != h4 ||
                    mpnet_rss_ip6_l4(rss, t->src6[i], t->dst6[i], t->sport[i], t->dport[i]) != h6 ||
                    mpnet_rss_hash_eth(rss, t->eth6[i], FRAME_V6, NULL) != h6)
                        bench_die("bench_rss: hashes disagree on tuple %u\n", i);
        }
}

static void report(const struct cfg *c, const struct result *res)
{
        double(*v)[N_FIG] = calloc(c->repeat, sizeof(*v));
        double *col = calloc(c->repeat, sizeof(*col));
        struct bench_json j;

        if (v == NULL || col == NULL)
                bench_die("bench_rss: out of memory\n");
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "rss");
        bench_json_str(&j, "key", "microsoft");
        bench_json_u64(&j, "ws", WS);
        bench_json_u64(&j, "hashes", c->hashes);
        bench_json_u64(&j, "ref_hashes", c->ref_hashes);
        bench_json_u64(&j, "seed", c->seed);
        bench_json_bool(&j, "pin", c->pin);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < c->repeat; i++) {
                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < N_FIG; k++) {
                        v[i][k] = res[i].fig[k];
                        bench_json_num(&j, names[k], res[i].fig[k]);
                }
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < N_FIG; k++) {
                for (uint64_t i = 0; i < c->repeat; i++)
                        col[i] = v[i][k];
                bench_json_stat(&j, names[k], col, c->repeat);
        }
        bench_json_obj_end(&j);
        free(v);
        free(col);
}

int main(int argc, char **argv)
{
        struct cfg c = {.hashes = 20000000, .ref_hashes = 1000000, .repeat = 5, .seed = 1};
        const struct bench_opt opts[] = {
            {"hashes", BENCH_OPT_U64, &c.hashes, 1, UINT64_MAX / 2,
             "hashes per table-driven loop and repeat"},
            {"ref-hashes", BENCH_OPT_U64, &c.ref_hashes, 1, UINT64_MAX / 2,
             "hashes per bit-by-bit loop and repeat"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"seed", BENCH_OPT_U64, &c.seed, 0, UINT64_MAX, "tuple generator seed"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin to cpu 0"},
        };
        struct tuples *t = malloc(sizeof(*t));
        struct mpnet_rss *rss = aligned_alloc(64, sizeof(*rss));
        struct result *res;
        uint32_t check = 0;

        bench_parse_args(argc, argv,
                         "Toeplitz RSS hash: cycles per hash, bit-by-bit reference vs per-byte "
                         "tables, IPv4 and IPv6 4-tuples and whole frames.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        res = calloc(c.repeat, sizeof(*res));
        if (t == NULL || rss == NULL || res == NULL)
                bench_die("bench_rss: out of memory\n");
        if (c.pin)
                bench_pin_self(0);
        rng = c.seed;
        make_tuples(t);
        if (mpnet_rss_init(rss, mpnet_rss_key_ms, MPNET_RSS_KEY_LEN) != 0)
                bench_die("bench_rss: mpnet_rss_init failed\n");
        cross_check(t, rss);
        fprintf(stderr, "rss: tsc %.0f Hz, %llu table / %llu bit-by-bit hashes x %llu repeats%s\n",
                bench_tsc_hz(), (unsigned long long)c.hashes, (unsigned long long)c.ref_hashes,
                (unsigned long long)c.repeat, c.pin ? ", pinned" : "");
        run_once(&c, t, rss, &res[0]); /* warm-up */
        for (uint64_t i = 0; i < c.repeat; i++) {
                const double *f = res[i].fig;

                run_once(&c, t, rss, &res[i]);
                check ^= res[i].check;
                fprintf(stderr,
                        "  repeat %llu: ip4 ref %.1f fast %.1f, ip6 ref %.1f fast %.1f, bytes4 "
                        "%.1f, eth4 %.1f, eth6 %.1f cycles/hash; init %.0f cycles\n",
                        (unsigned long long)i, f[F_REF4], f[F_FAST4], f[F_REF6], f[F_FAST6],
                        f[F_BYTES4], f[F_ETH4], f[F_ETH6], f[F_INIT]);
        }
        fprintf(stderr, "  check %08x\n", check);
        report(&c, res);
        free(t);
        free(rss);
        free(res);
        return 0;
}
