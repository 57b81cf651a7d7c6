/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the simulation tests: stacks joined by memory wires under
 * a virtual clock, and frames placed where an overread is caught by ASan.
 */
#ifndef MPNET_TESTUTIL_H
#define MPNET_TESTUTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/stack.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* A stack counter by name: the test fails on a name the stack lacks. */
static inline uint64_t stk_ctr(const struct mpnet_stack *s, const char *name)
{
        int id = mpnet_stack_counter_find(s, name);

        if (id < 0)
                fail_msg("no stack counter %s", name);
        return mpnet_stack_counter(s, (unsigned)id);
}

/* Where tests write files (captures); set by CTest. */
static inline const char *test_out_dir(void)
{
        const char *d = getenv("MPNET_TEST_OUT");

        return d != NULL && *d != '\0' ? d : "/tmp";
}

/*
 * A packet holding bytes that end exactly at the end of the buffer: under
 * ASan the pool poisons what follows, so reading one byte too far is caught.
 */
static inline struct mpnet_pkt *pkt_at_end(struct mpnet_pool *pool, const void *b, uint32_t n)
{
        struct mpnet_pkt *p = mpnet_pkt_alloc(pool);

        assert_non_null(p);
        p->data = mpnet_pkt_buf(p) + MPNET_PKT_BUF_SIZE - n;
        memcpy(p->data, b, n);
        p->len = p->pkt_len = n;
        return p;
}

/* Poll every stack at the clock's time until no frame moves, then advance the
 * clock to the earliest deadline (at most to end). Returns when the clock
 * reaches end. */
static inline void sim_run_until(struct mpnet_clock *clk, struct mpnet_stack **st, unsigned n,
                                 uint64_t end)
{
        for (;;) {
                uint64_t now = mpnet_clock_now(clk), next = MPNET_TIME_NEVER, moved;

                do {
                        uint64_t before = 0, after = 0;

                        for (unsigned i = 0; i < n; i++)
                                before += stk_ctr(st[i], "rx_frames") + stk_ctr(st[i], "tx_frames");
                        next = MPNET_TIME_NEVER;
                        for (unsigned i = 0; i < n; i++) {
                                uint64_t t = mpnet_stack_poll(st[i], now);

                                if (t < next)
                                        next = t;
                        }
                        for (unsigned i = 0; i < n; i++)
                                after += stk_ctr(st[i], "rx_frames") + stk_ctr(st[i], "tx_frames");
                        moved = after - before;
                } while (moved != 0 || next <= now);
                if (now >= end)
                        return;
                mpnet_clock_set(clk, next < end ? next : end);
        }
}

/* Two stacks, A (192.0.2.1/24) and B (192.0.2.2/24), on a memory wire; with
 * fault, each side receives through a seeded fault link; with cap, A's side
 * is captured to that file. */
struct net2 {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb; /* what the stacks attach to */
        struct mpnet_stack *st[2];
        int ifa, ifb;
};

#define A_ADDR IP4(192, 0, 2, 1)
#define B_ADDR IP4(192, 0, 2, 2)

/* net2_init on a wire made from wc, with a pool of n_bufs buffers. */
static inline void net2_init_wire(struct net2 *n, const struct mpnet_memwire_cfg *wc,
                                  unsigned n_bufs, const struct mpnet_fault_cfg *fault,
                                  const char *cap)
{
        struct mpnet_stack_cfg sc = {0};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("test", n_bufs);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(wc, &n->la, &n->lb), 0);
        if (fault != NULL) {
                struct mpnet_fault_cfg fb = *fault;

                fb.seed = fault->seed * 7 + 1;
                n->la = mpnet_fault_create(n->la, fault, &n->clk, n->pool);
                n->lb = mpnet_fault_create(n->lb, &fb, &n->clk, n->pool);
                assert_non_null(n->la);
                assert_non_null(n->lb);
        }
        if (cap != NULL) {
                n->la = mpnet_capture_create(n->la, cap, MPNET_CAPTURE_PCAPNG, &n->clk);
                assert_non_null(n->la);
        }
        sc.clock = &n->clk;
        sc.pool = n->pool;
        sc.name = "A";
        sc.seed = 1;
        n->st[0] = mpnet_stack_create(&sc);
        sc.name = "B";
        sc.seed = 2;
        n->st[1] = mpnet_stack_create(&sc);
        assert_non_null(n->st[0]);
        assert_non_null(n->st[1]);
        n->ifa = mpnet_iface_attach(n->st[0], n->la, "a0");
        n->ifb = mpnet_iface_attach(n->st[1], n->lb, "b0");
        assert_int_equal(n->ifa, 1);
        assert_int_equal(n->ifb, 1);
        assert_int_equal(mpnet_addr4_add(n->st[0], n->ifa, A_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[1], n->ifb, B_ADDR, 24), 0);
}

static inline void net2_init(struct net2 *n, const struct mpnet_fault_cfg *fault, const char *cap)
{
        struct mpnet_memwire_cfg wc = {.name = "wire"};

        net2_init_wire(n, &wc, 4096, fault, cap);
}

static inline void net2_fini(struct net2 *n)
{
        mpnet_stack_destroy(n->st[0]);
        mpnet_stack_destroy(n->st[1]);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

static inline void net2_run(struct net2 *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 2, mpnet_clock_now(&n->clk) + ns);
}

#endif
