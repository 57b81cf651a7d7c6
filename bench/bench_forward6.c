/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_forward6: IPv6 forwarding by one mpnet stack over memory wires,
 * beside IPv4 forwarding and the raw wire in the same run, so the three
 * figures compare on the same machine state.
 *
 *   generator --wire 1--> router --wire 2--> sink
 *
 * As bench_forward: one thread plays the three parts a burst at a time and
 * only the router's poll is timed (TSC). Middles:
 *   raw    rx_burst on wire 1, tx_burst on wire 2: the wire's own cost;
 *   ip4    64-byte UDP frames (with FCS) 198.18.0.1 -> 198.19.F.1;
 *   ip6    78-byte UDP frames (with FCS, RFC 5180's smallest) 2001:2::1 ->
 *          2001:2:0:F::1, through ip6-input (header and source checks),
 *          ip6-lookup (bulk lpm6 over --routes routes), ip6-rewrite (hop
 *          limit, MTU, MAC from the neighbour entry), interface-tx.
 * Both families have --routes random background routes that do not cover
 * the traffic. --feature N enables N no-op features on the ip4-input and
 * ip6-input arcs of "in" (as bench_forward). Addresses: RFC 2544's 198.18.0.0/15 and RFC 5180's
 * 2001:2::/48; the router's interfaces on 192.0.2.0/24, 198.51.100.0/24,
 * 2001:db8:1::/64 and 2001:db8:2::/64.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"

#define FRAME4 60 /* 64 on the wire */
#define FRAME6 74 /* 78 on the wire */
#define FLOWS  256

struct cfg {
        uint64_t pkts, burst, repeat, routes, flows, features;
        bool pin;
};

struct env {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *g, *r1, *r2, *s;
        struct mpnet_stack *rt;
        uint8_t tmpl4[FLOWS][FRAME4];
        uint8_t tmpl6[FLOWS][FRAME6];
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd32(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)(rng >> 16);
}

static void make_templates(struct env *e, unsigned flows)
{
        for (unsigned f = 0; f < flows; f++) {
                struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
                struct mpnet_ip4_repr ip = {.src = 0xc6120001u,
                                            .dst = 0xc6130001u | f << 8,
                                            .payload_len = FRAME4 - 34,
                                            .proto = MPNET_IPPROTO_UDP,
                                            .ttl = 64,
                                            .id = (uint16_t)f};
                struct mpnet_ip6_repr ip6 = {
                    .payload_len = FRAME6 - 54,
                    .next_header = MPNET_IPPROTO_UDP,
                    .hop_limit = 64,
                    .src = {0x20, 0x01, 0, 0x02, [15] = 1},
                    .dst = {0x20, 0x01, 0, 0x02, 0, 0, (uint8_t)(f >> 8), (uint8_t)f, [15] = 1}};
                uint8_t *b = e->tmpl4[f];

                memset(b, 0, FRAME4);
                memcpy(eth.dst, e->r1->info.mac, 6);
                memcpy(eth.src, e->g->info.mac, 6);
                mpnet_eth_repr_emit(&eth, b);
                mpnet_ip4_repr_emit(&ip, b + 14);
                mpnet_put_be16(b + 34, 1024);
                mpnet_put_be16(b + 36, (uint16_t)(2000 + f));
                mpnet_put_be16(b + 38, FRAME4 - 34);
                b = e->tmpl6[f];
                memset(b, 0, FRAME6);
                eth.ethertype = MPNET_ETHERTYPE_IPV6;
                mpnet_eth_repr_emit(&eth, b);
                mpnet_ip6_repr_emit(&ip6, b + 14);
                mpnet_put_be16(b + 54, 1024);
                mpnet_put_be16(b + 56, (uint16_t)(2000 + f));
                mpnet_put_be16(b + 58, FRAME6 - 54);
        }
}

static void background_routes(struct env *e, uint64_t n)
{
        for (uint64_t i = 0; i < n; i++) {
                struct mpnet_route4 b = {.type = MPNET_NH_GATEWAY, .n_paths = 1};
                struct mpnet_route6 b6 = {.type = MPNET_NH_GATEWAY, .n_paths = 1};
                uint32_t a;

                b.plen = (uint8_t)(8 + rnd32() % 25);
                do
                        a = rnd32() & (~0u << (32 - b.plen));
                while ((a >> 24) == 198 || (a >> 24) == 192 || (a >> 24) == 0);
                b.dst = a;
                b.paths[0].ifindex = 2;
                b.paths[0].gw = 0xc6336402u;
                mpnet_route4_replace(e->rt, 0, &b);
                /* 2000::/3 beside 2001::/16 (which holds the traffic). */
                b6.plen = (uint8_t)(20 + rnd32() % 45);
                do {
                        for (int k = 0; k < 16; k += 4)
                                mpnet_put_be32(b6.dst + k, rnd32());
                        b6.dst[0] = (uint8_t)(0x20 | (b6.dst[0] & 0x1f));
                } while (b6.dst[0] == 0x20 && b6.dst[1] == 0x01);
                for (unsigned k = b6.plen; k < 128; k++)
                        b6.dst[k / 8] &= (uint8_t) ~(0x80 >> (k % 8));
                b6.paths[0].ifindex = 2;
                memcpy(b6.paths[0].gw, (uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2}, 16);
                mpnet_route6_replace(e->rt, 0, &b6);
        }
}

static void drain_all(struct env *e)
{
        struct mpnet_pkt *p[64];
        uint16_t n;

        while ((n = mpnet_link_rx_burst(e->g, 0, p, 64)) > 0)
                mpnet_pkt_free_bulk(p, n);
        while ((n = mpnet_link_rx_burst(e->s, 0, p, 64)) > 0)
                mpnet_pkt_free_bulk(p, n);
}

static void setup(struct env *e, const struct cfg *c)
{
        struct mpnet_memwire_cfg w1 = {.name = "fw61", .ring_size = 1024};
        struct mpnet_memwire_cfg w2 = {.name = "fw62", .ring_size = 1024};
        struct mpnet_stack_cfg sc = {
            .name = "router", .seed = 1, .ip4_forwarding = true, .ip6_forwarding = true};
        struct mpnet_route4 r = {
            .dst = 0xc6130000u, .plen = 16, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mpnet_route6 r6 = {
            .dst = {0x20, 0x01, 0, 0x02}, .plen = 48, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        const uint8_t a1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
        const uint8_t a2[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1};
        const uint8_t sink6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2};

        mpnet_clock_init_monotonic(&e->clk);
        e->pool = mpnet_pool_create("fwd6", 8192);
        if (e->pool == NULL || mpnet_memwire_create(&w1, &e->g, &e->r1) != 0 ||
            mpnet_memwire_create(&w2, &e->r2, &e->s) != 0)
                bench_die("bench_forward6: setup failed\n");
        sc.clock = &e->clk;
        sc.pool = e->pool;
        sc.modules = bench_noop_modules;
        e->rt = mpnet_stack_create(&sc);
        if (e->rt == NULL || mpnet_iface_attach(e->rt, e->r1, "in") != 1 ||
            mpnet_iface_attach(e->rt, e->r2, "out") != 2 ||
            mpnet_addr4_add(e->rt, 1, 0xc0000201u, 24) != 0 ||
            mpnet_addr4_add(e->rt, 2, 0xc6336401u, 24) != 0 ||
            mpnet_addr6_add(e->rt, 1, a1, 64, MPNET_ADDR6_F_NODAD) != 0 ||
            mpnet_addr6_add(e->rt, 2, a2, 64, MPNET_ADDR6_F_NODAD) != 0)
                bench_die("bench_forward6: router setup failed\n");
        if (mpnet_neigh4_add(e->rt, 2, 0xc6336402u, e->s->info.mac) != 0 ||
            mpnet_neigh6_add(e->rt, 2, sink6, e->s->info.mac) != 0)
                bench_die("bench_forward6: neighbour\n");
        r.paths[0].ifindex = 2;
        r.paths[0].gw = 0xc6336402u;
        r6.paths[0].ifindex = 2;
        memcpy(r6.paths[0].gw, sink6, 16);
        if (mpnet_route4_add(e->rt, 0, &r) != 0 || mpnet_route6_add(e->rt, 0, &r6) != 0)
                bench_die("bench_forward6: route\n");
        background_routes(e, c->routes);
        bench_noop_enable(e->rt, 1, 4, (unsigned)c->features);
        bench_noop_enable(e->rt, 1, 6, (unsigned)c->features);
        make_templates(e, (unsigned)c->flows);
        /* Settle announcements and MLD reports. */
        for (int i = 0; i < 4; i++) {
                mpnet_stack_poll(e->rt, mpnet_clock_now(&e->clk));
                drain_all(e);
        }
}

static unsigned gen_burst(struct env *e, const struct cfg *c, bool v6, uint64_t *seq)
{
        struct mpnet_pkt *v[256];
        unsigned n = mpnet_pkt_alloc_bulk(e->pool, v, (unsigned)c->burst), k;
        unsigned len = v6 ? FRAME6 : FRAME4;

        for (unsigned i = 0; i < n; i++) {
                uint8_t *d = mpnet_pkt_append(v[i], len);
                unsigned f = (unsigned)((*seq)++ % c->flows);

                memcpy(d, v6 ? e->tmpl6[f] : e->tmpl4[f], len);
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

/* Cycles per packet of the raw middle. */
static double run_raw(struct env *e, const struct cfg *c)
{
        uint64_t cyc = 0, seq = 0, done = 0;

        while (done < c->pkts) {
                struct mpnet_pkt *v[256];
                unsigned n, k;
                uint64_t t0;

                gen_burst(e, c, true, &seq);
                t0 = bench_tsc();
                n = mpnet_link_rx_burst(e->r1, 0, v, 256);
                k = mpnet_link_tx_burst(e->r2, 0, v, (uint16_t)n);
                cyc += bench_tsc() - t0;
                if (k < n)
                        mpnet_pkt_free_bulk(v + k, n - k);
                done += sink_drain(e);
        }
        return (double)cyc / (double)done;
}

/* Cycles per packet of the router, and of each node. */
static double run_mpnet(struct env *e, const struct cfg *c, bool v6, double *node_cyc)
{
        uint64_t cyc = 0, seq = 0, done = 0;

        mpnet_node_stats_reset(e->rt);
        while (done < c->pkts) {
                uint64_t t0;

                gen_burst(e, c, v6, &seq);
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
        return (double)cyc / (double)done;
}

static void json_nodes(struct bench_json *j, const struct env *e, const char *key, double **nodes,
                       uint64_t n)
{
        bench_json_obj_begin(j, key);
        for (unsigned k = 0; k < BENCH_NODES; k++) {
                double m = bench_median(nodes[k], n);

                if (m > 0)
                        bench_json_num(j, mpnet_node_name(e->rt, k), m);
        }
        bench_json_obj_end(j);
}

int main(int argc, char **argv)
{
        struct cfg c = {.pkts = 2000000, .burst = 256, .repeat = 5, .routes = 10000, .flows = 256};
        const struct bench_opt opts[] = {
            {"pkts", BENCH_OPT_U64, &c.pkts, 1000, UINT64_MAX / 2, "packets per repeat"},
            {"burst", BENCH_OPT_U64, &c.burst, 1, 256, "frames per generator burst"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"routes", BENCH_OPT_U64, &c.routes, 0, 1000000, "random background routes"},
            {"flows", BENCH_OPT_U64, &c.flows, 1, FLOWS, "distinct destinations"},
            {"feature", BENCH_OPT_U64, &c.features, 0, BENCH_NOOP_MAX,
             "no-op features enabled on the receiving interface's ip4-input and ip6-input arcs"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin the thread to cpu 0"},
        };
        double *raw, *c4, *c6, *n4[BENCH_NODES], *n6[BENCH_NODES];
        double node_cyc[BENCH_NODES];
        struct env *e = calloc(1, sizeof(*e));
        struct bench_json j;

        bench_parse_args(argc, argv,
                         "IPv6 forwarding of 78-byte frames by one mpnet router stack over memory "
                         "wires, beside IPv4 (64-byte frames) and the raw wire in the same run.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (c.pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        raw = calloc(c.repeat, sizeof(double));
        c4 = calloc(c.repeat, sizeof(double));
        c6 = calloc(c.repeat, sizeof(double));
        for (unsigned i = 0; i < BENCH_NODES; i++) {
                n4[i] = calloc(c.repeat, sizeof(double));
                n6[i] = calloc(c.repeat, sizeof(double));
        }
        setup(e, &c);
        fprintf(stderr, "forward6: %llu pkts x %llu repeats, %llu routes each, %llu flows\n",
                (unsigned long long)c.pkts, (unsigned long long)c.repeat,
                (unsigned long long)c.routes, (unsigned long long)c.flows);
        {
                struct cfg w = c;

                w.pkts = c.pkts / 10 + 1000;
                run_raw(e, &w);
                run_mpnet(e, &w, false, node_cyc);
                run_mpnet(e, &w, true, node_cyc);
        }
        for (uint64_t i = 0; i < c.repeat; i++) {
                raw[i] = run_raw(e, &c);
                c4[i] = run_mpnet(e, &c, false, node_cyc);
                for (unsigned k = 0; k < BENCH_NODES; k++)
                        n4[k][i] = node_cyc[k];
                c6[i] = run_mpnet(e, &c, true, node_cyc);
                for (unsigned k = 0; k < BENCH_NODES; k++)
                        n6[k][i] = node_cyc[k];
                fprintf(stderr, "  repeat %llu: raw %.1f, ip4 %.1f, ip6 %.1f cyc/pkt\n",
                        (unsigned long long)i, raw[i], c4[i], c6[i]);
        }
        if (bench_ctr(e->rt, "ip6_forwarded") == 0 || bench_ctr(e->rt, "ip4_forwarded") == 0)
                bench_die("bench_forward6: nothing was forwarded\n");
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "forward6");
        bench_json_u64(&j, "frame4", FRAME4 + 4);
        bench_json_u64(&j, "frame6", FRAME6 + 4);
        bench_json_u64(&j, "pkts", c.pkts);
        bench_json_u64(&j, "routes", c.routes);
        bench_json_u64(&j, "flows", c.flows);
        bench_json_u64(&j, "burst", c.burst);
        bench_json_u64(&j, "features", c.features);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_stat(&j, "raw_cycles_per_pkt", raw, c.repeat);
        bench_json_stat(&j, "ip4_cycles_per_pkt", c4, c.repeat);
        bench_json_stat(&j, "ip6_cycles_per_pkt", c6, c.repeat);
        json_nodes(&j, e, "ip4_node_cycles_per_pkt", n4, c.repeat);
        json_nodes(&j, e, "ip6_node_cycles_per_pkt", n6, c.repeat);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
