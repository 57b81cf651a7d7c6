/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_forward: IPv4 forwarding by one mpnet stack (one worker) over memory
 * wires, 64-byte frames, against the raw wire in the same run.
 *
 *   generator --wire 1--> router --wire 2--> sink
 *
 * One thread plays all three parts in turn, a burst at a time: the generator
 * allocates a burst and sends it (frames copied from per-flow templates), the
 * middle polls, the sink receives and frees. Only the middle is timed (TSC
 * around its poll), so the figure is what the forwarder costs per packet on
 * one core, the generator and sink excluded.
 *
 * Two middles run on the same frames in the same run:
 *   raw     rx_burst on wire 1 and tx_burst on wire 2, nothing else: the mem
 *           wire ceiling every forwarding figure is a ratio against;
 *   mpnet   mpnet_stack_poll() of a router stack: ether-input, ip4-input
 *           (checksum, martians), ip4-lookup (LPM over --routes routes),
 *           ip4-rewrite (TTL, incremental checksum, MAC from the neighbour),
 *           interface-tx.
 * The router's per-node cycles come from its node statistics.
 *
 * --feature N enables N no-op features (bench_noop_modules) on the ip4-input
 * arc of "in": run it with 0 and 1, interleaved, for what an arc with one
 * feature costs per frame.
 *
 * Addresses: RFC 2544's 198.18.0.0/15 for the traffic; the router's
 * interfaces on 192.0.2.0/24 and 198.51.100.0/24.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"

#define FRAME 60 /* 64 on the wire with the FCS */
#define FLOWS 256

struct cfg {
        uint64_t pkts, burst, repeat, routes, flows, features;
        bool pin;
};

struct env {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *g, *r1, *r2, *s; /* generator, router in/out, sink */
        struct mpnet_stack *rt;
        uint8_t tmpl[FLOWS][FRAME];
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t ip4_mask_bench(unsigned plen)
{
        return plen == 0 ? 0 : ~0u << (32 - plen);
}

static uint32_t rnd32(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)(rng >> 16);
}

/* UDP frames from 198.18.0.1 to 198.19.F.1 for flow F. */
static void make_templates(struct env *e, unsigned flows)
{
        for (unsigned f = 0; f < flows; f++) {
                uint8_t *b = e->tmpl[f];
                struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
                struct mpnet_ip4_repr ip = {.src = 0xc6120001u,
                                            .dst = 0xc6130001u | f << 8,
                                            .payload_len = FRAME - 34,
                                            .proto = MPNET_IPPROTO_UDP,
                                            .ttl = 64,
                                            .id = (uint16_t)f};

                memset(b, 0, FRAME);
                memcpy(eth.dst, e->r1->info.mac, 6);
                memcpy(eth.src, e->g->info.mac, 6);
                mpnet_eth_repr_emit(&eth, b);
                mpnet_ip4_repr_emit(&ip, b + 14);
                mpnet_put_be16(b + 34, 1024);
                mpnet_put_be16(b + 36, (uint16_t)(2000 + f));
                mpnet_put_be16(b + 38, FRAME - 34);
        }
}

static void setup(struct env *e, const struct cfg *c)
{
        struct mpnet_memwire_cfg w1 = {.name = "fw1", .ring_size = 1024};
        struct mpnet_memwire_cfg w2 = {.name = "fw2", .ring_size = 1024};
        struct mpnet_stack_cfg sc = {.name = "router", .seed = 1, .ip4_forwarding = true};
        struct mpnet_route4 r = {
            .dst = 0xc6130000u, .plen = 16, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        const uint8_t *sink_mac;

        mpnet_clock_init_monotonic(&e->clk);
        e->pool = mpnet_pool_create("fwd", 8192);
        if (e->pool == NULL || mpnet_memwire_create(&w1, &e->g, &e->r1) != 0 ||
            mpnet_memwire_create(&w2, &e->r2, &e->s) != 0)
                bench_die("bench_forward: setup failed\n");
        sc.clock = &e->clk;
        sc.pool = e->pool;
        sc.modules = bench_noop_modules;
        e->rt = mpnet_stack_create(&sc);
        if (e->rt == NULL || mpnet_iface_attach(e->rt, e->r1, "in") != 1 ||
            mpnet_iface_attach(e->rt, e->r2, "out") != 2 ||
            mpnet_addr4_add(e->rt, 1, 0xc0000201u, 24) != 0 ||
            mpnet_addr4_add(e->rt, 2, 0xc6336401u, 24) != 0)
                bench_die("bench_forward: router setup failed\n");
        /* The sink is 198.51.100.2, resolved statically. */
        sink_mac = e->s->info.mac;
        if (mpnet_neigh4_add(e->rt, 2, 0xc6336402u, sink_mac) != 0)
                bench_die("bench_forward: neighbour\n");
        r.paths[0].ifindex = 2;
        r.paths[0].gw = 0xc6336402u;
        if (mpnet_route4_add(e->rt, 0, &r) != 0)
                bench_die("bench_forward: route\n");
        /* Background routes that do not cover the traffic. */
        for (uint64_t i = 0; i < c->routes; i++) {
                struct mpnet_route4 b = {.type = MPNET_NH_GATEWAY, .n_paths = 1};
                uint32_t a;

                b.plen = (uint8_t)(8 + rnd32() % 25);
                do
                        a = rnd32() & ip4_mask_bench(b.plen);
                while ((a >> 24) == 198 || (a >> 24) == 192 || (a >> 24) == 0);
                b.dst = a;
                b.paths[0].ifindex = 2;
                b.paths[0].gw = 0xc6336402u;
                mpnet_route4_replace(e->rt, 0, &b);
        }
        bench_noop_enable(e->rt, 1, 4, (unsigned)c->features);
        make_templates(e, (unsigned)c->flows);
        /* Settle the address announcements. */
        for (int i = 0; i < 4; i++) {
                struct mpnet_pkt *p[64];
                uint16_t n;

                mpnet_stack_poll(e->rt, mpnet_clock_now(&e->clk));
                while ((n = mpnet_link_rx_burst(e->g, 0, p, 64)) > 0)
                        mpnet_pkt_free_bulk(p, n);
                while ((n = mpnet_link_rx_burst(e->s, 0, p, 64)) > 0)
                        mpnet_pkt_free_bulk(p, n);
        }
}

/* Generate one burst on wire 1. @return frames sent. */
static unsigned gen_burst(struct env *e, unsigned burst, unsigned flows, uint64_t *seq)
{
        struct mpnet_pkt *v[256];
        unsigned n = mpnet_pkt_alloc_bulk(e->pool, v, burst), k;

        for (unsigned i = 0; i < n; i++) {
                uint8_t *d = mpnet_pkt_append(v[i], FRAME);

                memcpy(d, e->tmpl[(*seq)++ % flows], FRAME);
        }
        k = mpnet_link_tx_burst(e->g, 0, v, (uint16_t)n);
        if (k < n)
                mpnet_pkt_free_bulk(v + k, n - k);
        return k;
}

static unsigned sink_drain(struct env *e)
{
        struct mpnet_pkt *v[256];
        unsigned got = 0, n;

        while ((n = mpnet_link_rx_burst(e->s, 0, v, 256)) > 0) {
                mpnet_pkt_free_bulk(v, n);
                got += n;
        }
        return got;
}

struct result {
        double mpps, cycles;
};

/* The raw middle: take a burst from wire 1, put it on wire 2. */
static struct result run_raw(struct env *e, const struct cfg *c)
{
        uint64_t cyc = 0, seq = 0, done = 0;
        struct result r;

        while (done < c->pkts) {
                struct mpnet_pkt *v[256];
                unsigned n, k;
                uint64_t t0;

                gen_burst(e, (unsigned)c->burst, (unsigned)c->flows, &seq);
                t0 = bench_tsc();
                n = mpnet_link_rx_burst(e->r1, 0, v, 256);
                k = mpnet_link_tx_burst(e->r2, 0, v, (uint16_t)n);
                cyc += bench_tsc() - t0;
                if (k < n)
                        mpnet_pkt_free_bulk(v + k, n - k);
                done += sink_drain(e);
        }
        r.cycles = (double)cyc / (double)done;
        r.mpps = bench_tsc_hz() / r.cycles / 1e6;
        return r;
}

static struct result run_mpnet(struct env *e, const struct cfg *c, double *node_cyc)
{
        uint64_t cyc = 0, seq = 0, done = 0;
        struct result r;

        mpnet_node_stats_reset(e->rt);
        while (done < c->pkts) {
                uint64_t t0;

                gen_burst(e, (unsigned)c->burst, (unsigned)c->flows, &seq);
                t0 = bench_tsc();
                mpnet_stack_poll(e->rt, 0);
                cyc += bench_tsc() - t0;
                done += sink_drain(e);
        }
        for (unsigned i = 0; i < BENCH_NODES; i++) {
                struct mpnet_node_stats ns = {0};

                (void)mpnet_node_stats_get(e->rt, i, &ns);
                node_cyc[i] = (double)ns.cycles / (double)done;
        }
        r.cycles = (double)cyc / (double)done;
        r.mpps = bench_tsc_hz() / r.cycles / 1e6;
        return r;
}

int main(int argc, char **argv)
{
        struct cfg c = {.pkts = 5000000, .burst = 256, .repeat = 5, .routes = 100000, .flows = 256};
        const struct bench_opt opts[] = {
            {"pkts", BENCH_OPT_U64, &c.pkts, 1000, UINT64_MAX / 2, "packets per repeat"},
            {"burst", BENCH_OPT_U64, &c.burst, 1, 256, "frames per generator burst"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"routes", BENCH_OPT_U64, &c.routes, 0, 4000000, "random background routes"},
            {"flows", BENCH_OPT_U64, &c.flows, 1, FLOWS, "distinct destinations"},
            {"feature", BENCH_OPT_U64, &c.features, 0, BENCH_NOOP_MAX,
             "no-op features enabled on the receiving interface's ip4-input arc"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin the thread to cpu 0"},
        };
        double *raw_m, *raw_c, *mp_m, *mp_c, *ratio, *l3, *nodes[BENCH_NODES];
        struct env *e = calloc(1, sizeof(*e));
        struct bench_json j;
        double node_cyc[BENCH_NODES];

        bench_parse_args(argc, argv,
                         "IPv4 forwarding of 64-byte frames by one mpnet router stack over memory "
                         "wires, against the raw wire (rx burst + tx burst) in the same run.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (c.pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        raw_m = calloc(c.repeat, sizeof(double));
        raw_c = calloc(c.repeat, sizeof(double));
        mp_m = calloc(c.repeat, sizeof(double));
        mp_c = calloc(c.repeat, sizeof(double));
        ratio = calloc(c.repeat, sizeof(double));
        l3 = calloc(c.repeat, sizeof(double));
        for (unsigned i = 0; i < BENCH_NODES; i++)
                nodes[i] = calloc(c.repeat, sizeof(double));
        setup(e, &c);
        fprintf(stderr, "forward: %llu pkts x %llu repeats, %llu routes, %llu flows\n",
                (unsigned long long)c.pkts, (unsigned long long)c.repeat,
                (unsigned long long)c.routes, (unsigned long long)c.flows);
        {
                struct cfg w = c;

                w.pkts = c.pkts / 10 + 1000;
                run_raw(e, &w);
                run_mpnet(e, &w, node_cyc);
        }
        for (uint64_t i = 0; i < c.repeat; i++) {
                struct result a = run_raw(e, &c), b = run_mpnet(e, &c, node_cyc);

                raw_m[i] = a.mpps;
                raw_c[i] = a.cycles;
                mp_m[i] = b.mpps;
                mp_c[i] = b.cycles;
                ratio[i] = b.mpps / a.mpps;
                l3[i] = node_cyc[node_id(e->rt, "ip4-input")] +
                        node_cyc[node_id(e->rt, "ip4-lookup")] +
                        node_cyc[node_id(e->rt, "ip4-rewrite")];
                for (unsigned k = 0; k < BENCH_NODES; k++)
                        nodes[k][i] = node_cyc[k];
                fprintf(stderr,
                        "  repeat %llu: raw %.1f Mpps (%.1f cyc/pkt), mpnet %.2f Mpps (%.1f "
                        "cyc/pkt, L3 %.1f), ratio %.3f\n",
                        (unsigned long long)i, a.mpps, a.cycles, b.mpps, b.cycles, l3[i], ratio[i]);
        }
        if (bench_ctr(e->rt, "ip4_forwarded") == 0)
                bench_die("bench_forward: nothing was forwarded\n");
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "forward");
        bench_json_u64(&j, "frame", FRAME + 4);
        bench_json_u64(&j, "pkts", c.pkts);
        bench_json_u64(&j, "routes", c.routes);
        bench_json_u64(&j, "flows", c.flows);
        bench_json_u64(&j, "burst", c.burst);
        bench_json_u64(&j, "features", c.features);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_stat(&j, "raw_mpps", raw_m, c.repeat);
        bench_json_stat(&j, "raw_cycles_per_pkt", raw_c, c.repeat);
        bench_json_stat(&j, "mpnet_mpps", mp_m, c.repeat);
        bench_json_stat(&j, "mpnet_cycles_per_pkt", mp_c, c.repeat);
        bench_json_stat(&j, "ratio_to_raw", ratio, c.repeat);
        bench_json_stat(&j, "l3_cycles_per_pkt", l3, c.repeat);
        bench_json_obj_begin(&j, "node_cycles_per_pkt");
        for (unsigned k = 0; k < mpnet_node_count(e->rt); k++)
                bench_json_num(&j, mpnet_node_name(e->rt, k), bench_median(nodes[k], c.repeat));
        bench_json_obj_end(&j);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
