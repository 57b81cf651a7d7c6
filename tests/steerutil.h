/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Steering tests (test_port, test_steer_mt): a stack on end a of an RSS
 * memory wire, a runtime whose worker i polls queue i, and frames of a
 * flow sent from end b to see which queue the wire's RSS gives them.
 */
#ifndef MPNET_TESTS_STEERUTIL_H
#define MPNET_TESTS_STEERUTIL_H

#include <stdint.h>
#include <string.h>

#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/stack.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/worker.h"
#include "stack/steer.h"

struct steer_net {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_stack *s;
        struct mpnet_link *a, *b; /* a: the stack's; b: where frames come from */
        struct mpnet_runtime *rt;
        unsigned n_q;
        int ifindex;
};

/* n_q queues, each polled by a worker of its own (ctx q + 1) when assign. */
static inline void steer_net_init(struct steer_net *n, unsigned n_q, bool rss, bool assign)
{
        struct mpnet_memwire_cfg wc = {.n_queues = (uint16_t)n_q, .rss = rss, .ring_size = 64};
        struct mpnet_runtime_cfg rc = {.n_workers = n_q};
        struct mpnet_stack_cfg sc = {0};

        memset(n, 0, sizeof(*n));
        n->n_q = n_q;
        mpnet_clock_init_monotonic(&n->clk);
        n->pool = mpnet_pool_create("steer", 1024);
        assert_non_null(n->pool);
        sc.clock = &n->clk;
        sc.pool = n->pool;
        sc.seed = 7;
        n->s = mpnet_stack_create(&sc);
        assert_non_null(n->s);
        assert_int_equal(mpnet_memwire_create(&wc, &n->a, &n->b), 0);
        n->ifindex = mpnet_iface_attach(n->s, n->a, "a");
        assert_true(n->ifindex > 0);
        n->rt = mpnet_runtime_create(&rc);
        assert_non_null(n->rt);
        for (unsigned q = 0; assign && q < n_q; q++)
                assert_int_equal(mpnet_runtime_assign(n->rt, q, n->s, n->ifindex, (uint16_t)q), 0);
}

static inline void steer_net_fini(struct steer_net *n)
{
        mpnet_runtime_destroy(n->rt);
        assert_int_equal(mpnet_iface_detach(n->s, n->ifindex), 0);
        mpnet_stack_destroy(n->s);
        mpnet_link_destroy(n->a);
        mpnet_link_destroy(n->b);
        mpnet_pool_destroy(n->pool);
}

/* Ethernet, then IPv4 or IPv6 (t->fam), then 8 bytes of t->proto's header
 * with the ports; what the RSS of a NIC reads. @return its length. */
static inline size_t steer_frame(uint8_t *f, const struct rx_tuple *t)
{
        size_t off = 14, l3;

        memset(f, 0, 128);
        f[0] = 0x02;
        f[6] = 0x02;
        f[11] = 1;
        if (t->fam == 4) {
                mpnet_put_be16(f + 12, 0x0800);
                f[14] = 0x45;
                mpnet_put_be16(f + 16, 20 + 8);
                f[22] = 64;
                f[23] = t->proto;
                memcpy(f + 26, t->saddr + 12, 4);
                memcpy(f + 30, t->daddr + 12, 4);
                l3 = 20;
        } else {
                mpnet_put_be16(f + 12, 0x86dd);
                f[14] = 0x60;
                mpnet_put_be16(f + 18, 8);
                f[20] = t->proto;
                f[21] = 64;
                memcpy(f + 22, t->saddr, 16);
                memcpy(f + 38, t->daddr, 16);
                l3 = 40;
        }
        off += l3;
        mpnet_put_be16(f + off, t->sport);
        mpnet_put_be16(f + off + 2, t->dport);
        mpnet_put_be16(f + off + 4, 8);
        return off + 8 < 60 ? 60 : off + 8;
}

/* Send a frame of t from end b; @return the queue of end a it reached. */
static inline int steer_wire_queue(struct steer_net *n, const struct rx_tuple *t)
{
        uint8_t f[128];
        size_t len = steer_frame(f, t);
        struct mpnet_pkt *p = mpnet_pkt_from_bytes(n->pool, f, (uint32_t)len);
        int got = -1;

        assert_non_null(p);
        assert_int_equal(mpnet_link_tx_burst(n->b, 0, &p, 1), 1);
        for (unsigned q = 0; q < n->n_q; q++) {
                struct mpnet_pkt *r;

                if (mpnet_link_rx_burst(n->a, (uint16_t)q, &r, 1) == 1) {
                        assert_int_equal(got, -1);
                        got = (int)q;
                        mpnet_pkt_free(r);
                }
        }
        assert_true(got >= 0);
        return got;
}

/* A random tuple from the documentation ranges: IPv4 192.0.2.0/24 and
 * 198.51.100.0/24, IPv6 2001:db8::/32. */
static inline void steer_rand_tuple(struct rx_tuple *t, uint64_t *rng, uint8_t fam, uint8_t proto)
{
        uint64_t r;

        memset(t, 0, sizeof(*t));
        t->fam = fam;
        t->proto = proto;
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        r = *rng >> 16;
        t->sport = (uint16_t)r;
        t->dport = (uint16_t)(r >> 16);
        if (fam == 4) {
                static const uint8_t m[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
                memcpy(t->saddr, m, 12);
                memcpy(t->daddr, m, 12);
                t->saddr[12] = 198, t->saddr[13] = 51, t->saddr[14] = 100;
                t->saddr[15] = (uint8_t)(r >> 32);
                t->daddr[12] = 192, t->daddr[13] = 0, t->daddr[14] = 2;
                t->daddr[15] = (uint8_t)(r >> 40);
        } else {
                t->saddr[0] = t->daddr[0] = 0x20;
                t->saddr[1] = t->daddr[1] = 0x01;
                t->saddr[2] = t->daddr[2] = 0x0d;
                t->saddr[3] = t->daddr[3] = 0xb8;
                for (unsigned i = 8; i < 16; i++) {
                        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
                        t->saddr[i] = (uint8_t)(*rng >> 33);
                        t->daddr[i] = (uint8_t)(*rng >> 41);
                }
        }
}

#endif
