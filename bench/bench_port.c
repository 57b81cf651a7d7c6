/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_port: the cost of an ephemeral port pick (l4/port.h), in ns and
 * TSC cycles per pick, median of the repeats, as JSON on stdout.
 *
 * A stack on an RSS memory wire of 1, 2 and 4 queues, worker i polling
 * queue i (assigned, not started); a port table with every fourth port of
 * the range bound (the free check then has something to refuse). Each
 * pick is one of WS IPv4 UDP flows (random peers and ports, made outside
 * the timed loop), without binding (port_pick_peek(): the pick, not
 * pcb_bind's lock and copy):
 *   - plain: no steering (RFC 6056 Algorithm 4 and the free check);
 *   - steered: stack_rx_steer() for the flow's target worker (its
 *     indirection entries, read live), then the pick kept to the ports
 *     whose reply reaches that worker; a target polls 1/n of the queues,
 *     so about n candidates are tried.
 *
 * Usage: bench_port [picks per repeat] [repeats]
 * Synchronisation: one thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "l4/port.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/worker.h"
#include "mpnet/wire/ipv4.h"

#define WS 1024u

struct mpnet_sock {
        int unused;
};

static struct port_picker pp;
static struct port_flow flows[WS];
static struct mpnet_sock bound_so;

static void retire_now(void *arg, struct pcb_set *old)
{
        (void)arg;
        pcb_set_free(old);
}

static void make_flows(uint64_t seed)
{
        static const uint8_t m[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        uint64_t r = seed;

        for (unsigned i = 0; i < WS; i++) {
                struct port_flow *f = &flows[i];

                r = r * 6364136223846793005ull + 1442695040888963407ull;
                memset(f, 0, sizeof(*f));
                memcpy(f->laddr, m, 12);
                memcpy(f->faddr, m, 12);
                f->laddr[12] = 198, f->laddr[13] = 18, f->laddr[14] = 0, f->laddr[15] = 1;
                f->faddr[12] = 198, f->faddr[13] = 19;
                f->faddr[14] = (uint8_t)(r >> 40), f->faddr[15] = (uint8_t)(r >> 48);
                f->fport = (uint16_t)(r >> 20);
                f->proto = MPNET_IPPROTO_UDP;
        }
}

struct run {
        double ns, cyc;
};

static struct run run_once(struct mpnet_stack *s, int ifindex, unsigned nq, bool steer,
                           const struct pcb_table *t, uint64_t picks)
{
        struct pcb_ent e = {.so = &bound_so, .fam = PCB_FAM4};
        uint64_t t0, c0, sum = 0;
        struct run r;

        memcpy(e.laddr, flows[0].laddr, 16);
        t0 = bench_now_ns();
        c0 = bench_tsc();
        for (uint64_t i = 0; i < picks; i++) {
                const struct port_flow *f = &flows[i % WS];
                struct rx_steer st;
                int p;

                if (steer) {
                        if (stack_rx_steer(s, ifindex, 1 + (unsigned)(i % nq), &st) != 0)
                                abort();
                        p = port_pick_peek(&pp, f, &st, t, &e);
                } else {
                        p = port_pick_peek(&pp, f, NULL, t, &e);
                }
                if (p < 0)
                        abort();
                sum += (uint64_t)p;
        }
        r.cyc = (double)(bench_tsc() - c0) / (double)picks;
        r.ns = (double)(bench_now_ns() - t0) / (double)picks;
        if (sum == 0)
                abort();
        return r;
}

int main(int argc, char **argv)
{
        static const unsigned nqs[3] = {1, 2, 4};
        uint64_t picks = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
        unsigned repeat = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 5;
        uint8_t secret[16] = {0x5e, 0xc7, 0xe7};
        struct bench_json j;

        if (picks == 0 || repeat == 0 || repeat > 64)
                return 2;
        port_picker_init(&pp, secret);
        make_flows(1);
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "port");
        bench_json_u64(&j, "picks", picks);
        bench_json_u64(&j, "repeat", repeat);
        bench_json_num(&j, "tsc_ghz", bench_tsc_hz() / 1e9);
        bench_json_arr_begin(&j, "results");
        for (unsigned k = 0; k < 3; k++) {
                struct mpnet_memwire_cfg wc = {.n_queues = (uint16_t)nqs[k], .rss = true};
                struct mpnet_runtime_cfg rc = {.n_workers = nqs[k]};
                struct mpnet_stack_cfg sc = {0};
                struct mpnet_clock clk;
                struct mpnet_pool *pool = mpnet_pool_create("bench_port", 256);
                struct mpnet_link *a, *b;
                struct mpnet_stack *s;
                struct mpnet_runtime *rt;
                struct pcb_table *t = pcb_table_create(retire_now, NULL);
                int ifindex;

                mpnet_clock_init_monotonic(&clk);
                sc.clock = &clk;
                sc.pool = pool;
                s = mpnet_stack_create(&sc);
                rt = mpnet_runtime_create(&rc);
                if (pool == NULL || s == NULL || rt == NULL || t == NULL ||
                    mpnet_memwire_create(&wc, &a, &b) != 0)
                        return 1;
                ifindex = mpnet_iface_attach(s, a, "a");
                for (unsigned q = 0; q < nqs[k]; q++)
                        if (mpnet_runtime_assign(rt, q, s, ifindex, (uint16_t)q) != 0)
                                return 1;
                for (uint32_t p = PORT_EPH_LO; p <= PORT_EPH_HI; p += 4) {
                        struct pcb_ent e = {.so = &bound_so, .fam = PCB_FAM4};

                        if (pcb_bind(t, (uint16_t)p, &e) != 0)
                                return 1;
                }
                for (int steer = 0; steer < 2; steer++) {
                        double ns[64], cyc[64];
                        struct bench_stat sn, scy;

                        (void)run_once(s, ifindex, nqs[k], steer, t, picks / 10 + 1); /* warm */
                        for (unsigned r = 0; r < repeat; r++) {
                                struct run x = run_once(s, ifindex, nqs[k], steer, t, picks);

                                ns[r] = x.ns;
                                cyc[r] = x.cyc;
                        }
                        sn = bench_summarize(ns, repeat);
                        scy = bench_summarize(cyc, repeat);
                        bench_json_obj_begin(&j, NULL);
                        bench_json_u64(&j, "queues", nqs[k]);
                        bench_json_str(&j, "mode", steer ? "steered" : "plain");
                        bench_json_num(&j, "ns_per_pick", sn.median);
                        bench_json_num(&j, "ns_min", sn.min);
                        bench_json_num(&j, "ns_max", sn.max);
                        bench_json_num(&j, "cycles_per_pick", scy.median);
                        bench_json_obj_end(&j);
                }
                mpnet_runtime_destroy(rt);
                mpnet_iface_detach(s, ifindex);
                mpnet_stack_destroy(s);
                mpnet_link_destroy(a);
                mpnet_link_destroy(b);
                pcb_table_destroy(t);
                mpnet_pool_destroy(pool);
        }
        bench_json_arr_end(&j);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
