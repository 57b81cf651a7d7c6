/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_flood: what floods (issue 18) cost a router, in memory and in the
 * forwarding of legitimate traffic.
 *
 *   generator --LAN 1--> router --LAN 2--> sink
 *
 * Legitimate traffic: UDP from H1 (LAN 1) to H2 (LAN 2), 64-byte IPv4 and
 * 78-byte IPv6 frames alternating; H1 and H2 are permanent neighbours.
 * Floods, on LAN 1 (frames from tests/flood_frames.h, as the tests send):
 *   frag4, frag6  fragments to the router, random sources, ids, offsets,
 *                 a quarter overlapping, none completing;
 *   arp, nd       ARP requests / neighbour solicitations for the router's
 *                 address from random sources and MACs of the subnet;
 *   unroute4/6    UDP from random sources of the subnet to unrouted
 *                 destinations (ICMP errors, rate-limited);
 *   ra            router advertisements with random prefixes (a router
 *                 ignores them: RFC 4861 6.2.7);
 *   mld           MLDv2 reports of random groups to all-nodes;
 *   held          UDP from random sources of LAN 1 to random addresses of
 *                 LAN 2 where nobody answers (IPv4 and IPv6 alternating):
 *                 new next hops pass the resolution limit (1000/s, burst
 *                 100 a family); those that do wait in a hold queue while
 *                 the router asks, up to the stack-wide cap of held
 *                 packets, the rest are dropped after one lookup.
 *
 * Per flood and repeat, two fresh routers on the same clock: A never sees
 * the flood, B is first filled by it (2 x the neighbour cap of frames,
 * untimed; the peak of the stack's own accounting and the process RSS
 * delta are taken there), then the timed chunks run interleaved:
 *   base       A, legitimate frames only;
 *   flooded    B, bursts of legitimate frames with the flood at --share
 *              percent of the frames (default 10);
 *   polluted   B, legitimate frames only, its state as the flood left it.
 * The router's poll is timed (TSC), and the free of the frames it sent
 * (what a real link's tx_burst does on the router's thread; the memory
 * wire hands the buffer to the peer instead), generator and sink
 * excluded, one burst of 256 frames a poll in every phase; the poll alone
 * is reported too (*_poll_only, the method before 2026-12-08, which
 * charged a dropped frame's free to the router but not a sent one's). The legitimate frames of a
 * phase alternate IPv4 and IPv6 by their own count, so the flooded phase
 * forwards the base's mix; only frames that reach H2 count. The legitimate rate is the legitimate
 * frames delivered per burst over the median router time of a burst (the median drops bursts
 * preempted on a shared machine); the ratio flooded / base is 1 - share when a flood frame costs
 * what a forwarded frame does, more when the router drops it cheaper, less when dearer;
 * flood_cycles is that cost per flood frame.
 *
 * One thread; --pin pins it. Prints JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tests/flood_frames.h"
#include "bench_util.h"
#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"

#define POOL_N 16384

enum flood { F_FRAG4, F_FRAG6, F_ARP, F_ND, F_UNR4, F_UNR6, F_RA, F_MLD, F_HELD, F__N };
static const char *const flood_name[F__N] = {"frag4",    "frag6", "arp", "nd",  "unroute4",
                                             "unroute6", "ra",    "mld", "held"};

struct cfg {
        uint64_t chunks, bursts, repeat, share, only;
        bool pin;
};

struct rtr {
        struct mpnet_pool *pool;
        struct mpnet_link *g, *r1, *r2, *s;
        struct mpnet_stack *st;
};

static struct mpnet_clock clk;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint8_t fbuf[2048];

/* A forwarded legitimate datagram (UDP to FF_LEGIT_PORT at H2), not the
 * router's own nor a flood frame that got through. */
static bool is_legit(const struct mpnet_pkt *p)
{
        const uint8_t *e = p->data;
        uint16_t type = mpnet_get_be16(e + 12);

        if (type == MPNET_ETHERTYPE_IPV4)
                return p->len >= 38 && e[23] == MPNET_IPPROTO_UDP &&
                       mpnet_get_be32(e + 30) == FF_H2_ADDR &&
                       mpnet_get_be16(e + 36) == FF_LEGIT_PORT;
        return type == MPNET_ETHERTYPE_IPV6 && p->len >= 58 && e[20] == MPNET_IPPROTO_UDP &&
               memcmp(e + 38, ff_h2_6, 16) == 0 && mpnet_get_be16(e + 56) == FF_LEGIT_PORT;
}

/* Take what the router sent on l; count the legitimate frames among
 * them. @return the cycles their free took: a real link frees what it
 * transmits on the router's own thread (afpacket, af_xdp and dpdk copy the
 * frame out and free the buffer in tx_burst), the memory wire hands the
 * buffer to its peer instead, so this free is the router's share of a
 * frame it sent. */
static uint64_t rtr_drain(struct mpnet_link *l, uint64_t *legit)
{
        struct mpnet_pkt *v[256];
        uint64_t cyc = 0, t0;
        unsigned n;

        while ((n = mpnet_link_rx_burst(l, 0, v, 256)) > 0) {
                for (unsigned i = 0; legit != NULL && i < n; i++)
                        *legit += is_legit(v[i]);
                t0 = bench_tsc();
                mpnet_pkt_free_bulk(v, n);
                cyc += bench_tsc() - t0;
        }
        return cyc;
}

static void rtr_init(struct rtr *r, const char *name)
{
        struct mpnet_memwire_cfg w1 = {.name = "bf1", .ring_size = 1024};
        struct mpnet_memwire_cfg w2 = {.name = "bf2", .ring_size = 1024};
        struct mpnet_stack_cfg sc = {.name = name,
                                     .seed = 7,
                                     .clock = &clk,
                                     .ip4_forwarding = true,
                                     .ip6_forwarding = true,
                                     .ip6_auto = true};

        r->pool = mpnet_pool_create(name, POOL_N);
        if (r->pool == NULL || mpnet_memwire_create(&w1, &r->g, &r->r1) != 0 ||
            mpnet_memwire_create(&w2, &r->r2, &r->s) != 0)
                bench_die("bench_flood: setup\n");
        sc.pool = r->pool;
        r->st = mpnet_stack_create(&sc);
        if (r->st == NULL || mpnet_iface_attach(r->st, r->r1, "lan1") != 1 ||
            mpnet_iface_attach(r->st, r->r2, "lan2") != 2 ||
            mpnet_addr4_add(r->st, 1, FF_LAN1_ADDR, FF_LAN1_PLEN) != 0 ||
            mpnet_addr4_add(r->st, 2, FF_LAN2_ADDR, 24) != 0 ||
            mpnet_addr6_add(r->st, 1, ff_lan1_r6, 64, MPNET_ADDR6_F_NODAD) != 0 ||
            mpnet_addr6_add(r->st, 2, ff_lan2_r6, 64, MPNET_ADDR6_F_NODAD) != 0 ||
            mpnet_neigh4_add(r->st, 1, FF_H1_ADDR, ff_h1_mac) != 0 ||
            mpnet_neigh4_add(r->st, 2, FF_H2_ADDR, ff_h2_mac) != 0 ||
            mpnet_neigh6_add(r->st, 1, ff_h1_6, ff_h1_mac) != 0 ||
            mpnet_neigh6_add(r->st, 2, ff_h2_6, ff_h2_mac) != 0)
                bench_die("bench_flood: router setup\n");
        for (int i = 0; i < 4; i++) {
                mpnet_stack_poll(r->st, mpnet_clock_now(&clk));
                rtr_drain(r->g, NULL);
                rtr_drain(r->s, NULL);
        }
}

static void rtr_fini(struct rtr *r)
{
        mpnet_stack_destroy(r->st);
        rtr_drain(r->g, NULL);
        rtr_drain(r->s, NULL);
        mpnet_link_destroy(r->g);
        mpnet_link_destroy(r->r1);
        mpnet_link_destroy(r->r2);
        mpnet_link_destroy(r->s);
        mpnet_pool_destroy(r->pool);
}

/* The i-th legitimate frame of a phase: IPv4 and IPv6 alternate by i, which
 * counts legitimate frames only, so a phase with the flood carries the same
 * mix of the two as one without (they cost differently). */
static size_t legit_frame(const struct rtr *r, uint64_t i)
{
        if (i % 2 == 0)
                return ff_udp4(fbuf, r->r1->info.mac, ff_h1_mac, FF_H1_ADDR, FF_H2_ADDR,
                               (uint16_t)i);
        return ff_udp6(fbuf, r->r1->info.mac, ff_h1_mac, ff_h1_6, ff_h2_6);
}

/* The i-th frame of flood f, as tests/sim/test_flood_*.c send: i counts
 * the flood's frames only (what alternates or overlaps goes by it). */
static size_t flood_frame(const struct rtr *r, enum flood f, uint64_t i)
{
        static const uint8_t ll[8] = {0xfe, 0x80};
        static const uint8_t nowhere6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff};
        static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
        static uint32_t id, src4;
        static uint16_t off;
        static uint8_t src6[16];
        const uint8_t *m1 = r->r1->info.mac;
        uint8_t mac[6], a[16], b[16];
        uint16_t len = (uint16_t)(8 * (1 + ff_rand(&rng) % 150));

        ff_rand_mac(&rng, mac);
        switch (f) {
        case F_FRAG4:
        case F_FRAG6:
                if (i % 4 != 3) {
                        id = (uint32_t)ff_rand(&rng);
                        off = (uint16_t)(8 * (ff_rand(&rng) % 1000));
                        src4 = FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(&rng) % 60000);
                        ff_rand_iid(&rng, ff_lan1_r6, src6);
                } else {
                        off = (uint16_t)(off + 8);
                }
                if (f == F_FRAG6)
                        return ff_ip6(fbuf, m1, mac, src6, ff_lan1_r6, true, id, off, true, len);
                return ff_ip4(fbuf, m1, mac, src4, FF_LAN1_ADDR, (uint16_t)id, off, true, len);
        case F_ARP:
                return ff_arp(fbuf, ff_bcast, MPNET_ARP_OP_REQUEST, mac,
                              FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(&rng) % 130000),
                              (const uint8_t[6]){0}, FF_LAN1_ADDR);
        case F_ND: {
                uint8_t dmac[6];

                ff_rand_iid(&rng, ff_lan1_r6, a);
                mpnet_ip6_solicited_node(ff_lan1_r6, b);
                mpnet_ip6_mc_mac(b, dmac);
                return ff_nd(fbuf, dmac, mac, a, b, MPNET_ICMP6_ND_NS, ff_lan1_r6, false);
        }
        case F_UNR4:
                return ff_udp4(fbuf, m1, mac,
                               FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(&rng) % 130000),
                               0x64400000u | (uint32_t)(ff_rand(&rng) & 0x3fffff), (uint16_t)i);
        case F_UNR6:
                ff_rand_iid(&rng, ff_lan1_r6, a);
                ff_rand_iid(&rng, nowhere6, b);
                return ff_udp6(fbuf, m1, mac, a, b);
        case F_RA: {
                struct mpnet_nd_prefix pi = {.prefix_len = 64,
                                             .onlink = true,
                                             .autonomous = true,
                                             .valid = UINT32_MAX,
                                             .preferred = UINT32_MAX};
                uint64_t x = ff_rand(&rng);

                memcpy(pi.prefix, ff_lan1_r6, 4);
                memcpy(pi.prefix + 4, &x, 4);
                ff_rand_iid(&rng, ll, a);
                return ff_ra(fbuf, mac, a, &pi, 1, 1800);
        }
        case F_MLD: {
                uint8_t g[2][16] = {{0xff, 0x0e}, {0xff, 0x0e}};
                uint64_t x = ff_rand(&rng);

                memcpy(g[0] + 8, &x, 8);
                x = ff_rand(&rng);
                memcpy(g[1] + 8, &x, 8);
                ff_rand_iid(&rng, ll, a);
                return ff_mld_report(fbuf, mac, a, all_nodes, (const uint8_t(*)[16])g, 2);
        }
        case F_HELD:
                if (i % 2 == 0)
                        return ff_udp4(
                            fbuf, m1, mac, FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(&rng) % 130000),
                            FF_LAN2_ADDR + 2 + (uint32_t)(ff_rand(&rng) % 252), (uint16_t)i);
                ff_rand_iid(&rng, ff_lan1_r6, a);
                ff_rand_iid(&rng, ff_lan2_r6, b);
                return ff_udp6(fbuf, m1, mac, a, b);
        case F__N:
                break;
        }
        return 0;
}

/* Put n frames on LAN 1: every frame that is not legitimate is flood f
 * (share percent of them); f F__N: legitimate only. */
static void gen_burst(struct rtr *r, enum flood f, unsigned n, unsigned share, uint64_t *seq)
{
        static uint64_t lseq, fseq;
        struct mpnet_pkt *v[256];
        unsigned k = mpnet_pkt_alloc_bulk(r->pool, v, n), sent;

        for (unsigned i = 0; i < k; i++) {
                bool fl = f != F__N && (*seq * share) % 100 < share;
                size_t len = fl ? flood_frame(r, f, fseq++) : legit_frame(r, lseq++);

                memcpy(mpnet_pkt_append(v[i], (uint32_t)len), fbuf, len);
                (*seq)++;
        }
        sent = mpnet_link_tx_burst(r->g, 0, v, (uint16_t)k);
        if (sent < k)
                mpnet_pkt_free_bulk(v + sent, k - sent);
}

/* The frames of the last burst that were legitimate. */
static unsigned legit_in(uint64_t from, uint64_t to, enum flood f, unsigned share)
{
        unsigned n = 0;

        for (uint64_t s = from; s < to; s++)
                n += !(f != F__N && (s * share) % 100 < share);
        return n;
}

/* A phase's bursts: each burst's router cycles, and what it carried. */
struct chunk {
        double *cyc;  /* per burst: the poll and the free of what it sent */
        double *poll; /* per burst: the poll alone */
        uint64_t n, legit, flood;
};

static void run_chunk(struct rtr *r, enum flood f, const struct cfg *c, struct chunk *ch)
{
        static uint64_t seq;

        for (uint64_t b = 0; b < c->bursts; b++) {
                uint64_t t0, s0 = seq;

                uint64_t poll, tx;

                gen_burst(r, f, 256, (unsigned)c->share, &seq);
                t0 = bench_tsc();
                mpnet_stack_poll(r->st, mpnet_clock_now(&clk));
                poll = bench_tsc() - t0;
                ch->flood += (seq - s0) - legit_in(s0, seq, f, (unsigned)c->share);
                tx = rtr_drain(r->s, &ch->legit);
                tx += rtr_drain(r->g, NULL);
                ch->poll[ch->n] = (double)poll;
                ch->cyc[ch->n++] = (double)(poll + tx);
        }
}

static long rss_kib(void)
{
        long pages = 0, rss = 0;
        FILE *fp = fopen("/proc/self/statm", "r");

        if (fp == NULL)
                return -1;
        if (fscanf(fp, "%ld %ld", &pages, &rss) != 2)
                rss = -1;
        fclose(fp);
        return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* What flood f makes the router hold, and that figure's cap. */
static void held(struct rtr *r, enum flood f, double *v, double *cap)
{
        struct mpnet_stack_usage u;

        mpnet_stack_usage_get(r->st, 1, &u);
        switch (f) {
        case F_FRAG4:
                *v = (double)u.reass4_bytes, *cap = (double)u.reass4_max_bytes;
                break;
        case F_FRAG6:
                *v = (double)u.reass6_bytes, *cap = (double)u.reass6_max_bytes;
                break;
        case F_ARP:
        case F_UNR4:
                *v = u.neigh4, *cap = u.neigh_max;
                break;
        case F_ND:
        case F_UNR6:
                *v = u.neigh6, *cap = u.neigh_max;
                break;
        case F_RA:
                *v = u.addr6 + u.onlink6 + u.dr6, *cap = u.addr6_max + u.onlink6_max + u.dr6_max;
                break;
        case F_HELD:
                *v = u.neigh_held, *cap = u.neigh_held_max;
                break;
        case F_MLD:
        case F__N:
                *v = u.mc6, *cap = u.mc6_max;
                break;
        }
}

struct rep {
        double peak, cap, rss_kib, base, flooded, polluted, ratio, ratio_polluted, flood_cyc,
            legit_cyc, ratio_poll, flood_cyc_poll, legit_cyc_poll;
};

/* The legitimate rate of a phase (frames per second), from its bursts'
 * median cycles. */
static double rate(const struct chunk *ch, double *cyc, uint64_t nb, double hz, double *med)
{
        *med = bench_median(cyc, nb);
        return (double)ch->legit / (double)nb / (*med / hz);
}

static struct rep one_repeat(enum flood f, const struct cfg *c)
{
        struct rtr a, b;
        uint64_t nb = c->chunks * c->bursts;
        struct chunk cb = {.cyc = calloc(nb, sizeof(double)), .poll = calloc(nb, sizeof(double))},
                     cf = {.cyc = calloc(nb, sizeof(double)), .poll = calloc(nb, sizeof(double))},
                     cp = {.cyc = calloc(nb, sizeof(double)), .poll = calloc(nb, sizeof(double))};
        double mb, mf, mp, lb, lf, pb, pf;
        struct rep rp = {0};
        long rss0;
        double v, hz = bench_tsc_hz();
        uint64_t seq = 0;

        rtr_init(&a, "A");
        rtr_init(&b, "B");
        rss0 = rss_kib();
        /* Fill: twice the neighbour cap of flood frames, untimed. */
        for (unsigned i = 0; i < 32; i++) {
                struct mpnet_pkt *pv[256];
                unsigned k = mpnet_pkt_alloc_bulk(b.pool, pv, 256), sent;

                for (unsigned j = 0; j < k; j++) {
                        size_t len = flood_frame(&b, f, seq++);

                        memcpy(mpnet_pkt_append(pv[j], (uint32_t)len), fbuf, len);
                }
                sent = mpnet_link_tx_burst(b.g, 0, pv, (uint16_t)k);
                if (sent < k)
                        mpnet_pkt_free_bulk(pv + sent, k - sent);
                mpnet_stack_poll(b.st, mpnet_clock_now(&clk));
                rtr_drain(b.g, NULL);
                rtr_drain(b.s, NULL);
                held(&b, f, &v, &rp.cap);
                if (v > rp.peak)
                        rp.peak = v;
        }
        rp.rss_kib = (double)(rss_kib() - rss0);
        for (uint64_t k = 0; k < c->chunks; k++) {
                run_chunk(&a, F__N, c, &cb);
                run_chunk(&b, f, c, &cf);
                run_chunk(&b, F__N, c, &cp);
                held(&b, f, &v, &rp.cap);
                if (v > rp.peak)
                        rp.peak = v;
        }
        if (cb.legit == 0 || cf.legit == 0 || cp.legit == 0)
                bench_die("bench_flood: %s: no legitimate frame forwarded\n", flood_name[f]);
        /* Per burst, the median: a burst the scheduler preempted (this
         * machine is shared) is an outlier, not a cost. */
        lb = (double)cb.legit / (double)nb;
        lf = (double)cf.legit / (double)nb;
        rp.base = rate(&cb, cb.cyc, nb, hz, &mb) / 1e6;
        rp.flooded = rate(&cf, cf.cyc, nb, hz, &mf) / 1e6;
        rp.polluted = rate(&cp, cp.cyc, nb, hz, &mp) / 1e6;
        rp.ratio = rp.flooded / rp.base;
        rp.ratio_polluted = rp.polluted / rp.base;
        rp.legit_cyc = mb / lb;
        rp.flood_cyc =
            cf.flood > 0 ? (mf - rp.legit_cyc * lf) / ((double)cf.flood / (double)nb) : 0;
        /* As before 2026-12-08: the poll alone, the sent frames' free left
         * out (it charged a dropped frame's free to the router and not a
         * forwarded one's). */
        rp.ratio_poll = rate(&cf, cf.poll, nb, hz, &pf) / rate(&cb, cb.poll, nb, hz, &pb);
        rp.legit_cyc_poll = pb / lb;
        rp.flood_cyc_poll =
            cf.flood > 0 ? (pf - rp.legit_cyc_poll * lf) / ((double)cf.flood / (double)nb) : 0;
        free(cb.cyc);
        free(cf.cyc);
        free(cp.cyc);
        free(cb.poll);
        free(cf.poll);
        free(cp.poll);
        rtr_fini(&a);
        rtr_fini(&b);
        return rp;
}

int main(int argc, char **argv)
{
        struct cfg c = {.chunks = 10, .bursts = 100, .repeat = 5, .share = 10, .only = F__N};
        const struct bench_opt opts[] = {
            {"chunks", BENCH_OPT_U64, &c.chunks, 1, 10000, "interleaved chunks per repeat"},
            {"bursts", BENCH_OPT_U64, &c.bursts, 1, 100000, "bursts of 256 frames per chunk"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "repeats (fresh routers each)"},
            {"share", BENCH_OPT_U64, &c.share, 1, 99, "flood frames, percent of the input"},
            {"only", BENCH_OPT_U64, &c.only, 0, F__N, "one flood (its index), all by default"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin the thread to cpu 0"},
        };
        struct bench_json j;

        bench_parse_args(argc, argv,
                         "Floods against an mpnet router: peak memory (the stack's accounting "
                         "and RSS) and the legitimate forwarding rate with the flood against "
                         "without it, in the same run.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (c.pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        mpnet_clock_init_monotonic(&clk);
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "flood");
        bench_json_u64(&j, "repeat", c.repeat);
        bench_json_u64(&j, "chunks", c.chunks);
        bench_json_u64(&j, "bursts", c.bursts);
        bench_json_u64(&j, "share_percent", c.share);
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "floods");
        for (unsigned f = 0; f < F__N; f++) {
                double *m[12];
                struct rep rp = {0};
                bool within = true;

                if (c.only != F__N && f != c.only)
                        continue;

                for (unsigned k = 0; k < 12; k++)
                        m[k] = calloc(c.repeat, sizeof(double));
                for (uint64_t i = 0; i < c.repeat; i++) {
                        rp = one_repeat(f, &c);
                        within &= rp.peak <= rp.cap;
                        m[0][i] = rp.peak;
                        m[1][i] = rp.rss_kib;
                        m[2][i] = rp.base;
                        m[3][i] = rp.flooded;
                        m[4][i] = rp.polluted;
                        m[5][i] = rp.ratio;
                        m[6][i] = rp.ratio_polluted;
                        m[7][i] = rp.flood_cyc;
                        m[8][i] = rp.legit_cyc;
                        m[9][i] = rp.ratio_poll;
                        m[10][i] = rp.flood_cyc_poll;
                        m[11][i] = rp.legit_cyc_poll;
                        fprintf(stderr,
                                "%s %llu: held %.0f of %.0f, rss +%.0f KiB, legit %.2f Mpps "
                                "base, %.2f flooded (%.3f), %.2f polluted (%.3f); %.0f cyc per "
                                "flood frame, %.0f per legit; poll only %.3f, %.0f, %.0f\n",
                                flood_name[f], (unsigned long long)i, rp.peak, rp.cap, rp.rss_kib,
                                rp.base, rp.flooded, rp.ratio, rp.polluted, rp.ratio_polluted,
                                rp.flood_cyc, rp.legit_cyc, rp.ratio_poll, rp.flood_cyc_poll,
                                rp.legit_cyc_poll);
                }
                bench_json_obj_begin(&j, NULL);
                bench_json_str(&j, "flood", flood_name[f]);
                bench_json_num(&j, "held_cap", rp.cap);
                bench_json_bool(&j, "held_within_cap", within);
                bench_json_stat(&j, "held_peak", m[0], c.repeat);
                bench_json_stat(&j, "rss_delta_kib", m[1], c.repeat);
                bench_json_stat(&j, "legit_mpps_base", m[2], c.repeat);
                bench_json_stat(&j, "legit_mpps_flooded", m[3], c.repeat);
                bench_json_stat(&j, "legit_mpps_polluted", m[4], c.repeat);
                bench_json_stat(&j, "ratio_flooded", m[5], c.repeat);
                bench_json_stat(&j, "ratio_polluted", m[6], c.repeat);
                bench_json_stat(&j, "flood_cycles_per_frame", m[7], c.repeat);
                bench_json_stat(&j, "legit_cycles_per_frame", m[8], c.repeat);
                bench_json_stat(&j, "ratio_flooded_poll_only", m[9], c.repeat);
                bench_json_stat(&j, "flood_cycles_per_frame_poll_only", m[10], c.repeat);
                bench_json_stat(&j, "legit_cycles_per_frame_poll_only", m[11], c.repeat);
                bench_json_obj_end(&j);
                for (unsigned k = 0; k < 12; k++)
                        free(m[k]);
        }
        bench_json_arr_end(&j);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
