/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ARP cache behaviour over time (virtual clock): reachable -> stale -> delay
 * -> probe -> reachable; a dead neighbour fails, is held down, then
 * dropped; an unanswered request fails after the probes and holds down;
 * the resolution queue is bounded.
 */
#include "testutil.h"

static enum mpnet_neigh_state state_of(struct net2 *n, int side, uint32_t addr)
{
        struct mpnet_neigh_info ni;

        if (mpnet_neigh4_get(n->st[side], 1, addr, &ni) != 0)
                return (enum mpnet_neigh_state) - 1;
        return ni.state;
}

static void ping_once(struct net2 *n, uint32_t dst, uint16_t seq)
{
        assert_int_equal(mpnet_ping4_send(n->st[0], dst, 1, seq, 8, mpnet_clock_now(&n->clk)), 0);
}

static void test_nud_cycle(void **state)
{
        struct net2 n;
        struct mpnet_ping_reply r[8];

        (void)state;
        net2_init(&n, NULL, NULL);
        ping_once(&n, B_ADDR, 1);
        net2_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 8), 1);
        assert_int_equal(state_of(&n, 0, B_ADDR), MPNET_NEIGH_REACHABLE);

        /* Reachable time (30 s) passes with no confirmation: stale. */
        net2_run(&n, 31 * MPNET_NS_PER_S);
        assert_int_equal(state_of(&n, 0, B_ADDR), MPNET_NEIGH_STALE);
        /* Used while stale: delay, the packet still goes at once. */
        ping_once(&n, B_ADDR, 2);
        net2_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 8), 1);
        assert_int_equal(state_of(&n, 0, B_ADDR), MPNET_NEIGH_DELAY);
        /* After the delay a unicast probe; B answers; reachable again. */
        uint64_t req = stk_ctr(n.st[0], "arp_req_tx");
        net2_run(&n, 5 * MPNET_NS_PER_S + MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n.st[0], "arp_req_tx"), req + 1);
        assert_int_equal(state_of(&n, 0, B_ADDR), MPNET_NEIGH_REACHABLE);

        /* B goes away. Stale, delay, three probes, then unreachable (the
         * state machine ND uses, as Linux's ARP does): held down, then gone. */
        net2_run(&n, 31 * MPNET_NS_PER_S);
        mpnet_iface_set_up(n.st[1], 1, false);
        ping_once(&n, B_ADDR, 3);
        net2_run(&n, 5 * MPNET_NS_PER_S + MPNET_NS_PER_MS);
        assert_int_equal(state_of(&n, 0, B_ADDR), MPNET_NEIGH_PROBE);
        net2_run(&n, 4 * MPNET_NS_PER_S);
        assert_int_equal(state_of(&n, 0, B_ADDR), MPNET_NEIGH_FAILED);
        assert_int_equal(mpnet_ping4_send(n.st[0], B_ADDR, 1, 4, 8, mpnet_clock_now(&n.clk)),
                         -EHOSTUNREACH);
        net2_run(&n, 21 * MPNET_NS_PER_S);
        assert_int_equal(state_of(&n, 0, B_ADDR), (enum mpnet_neigh_state) - 1);
        net2_fini(&n);
}

/* A single-threaded stack's unicast leaves through the neighbour's fast
 * path (l3/ip4_output.c), but not on an interface that is down: counted
 * there (ip4_iface_down) and not sent, with a usable entry; up again, it
 * goes. */
static void test_down_iface_not_fast(void **state)
{
        struct net2 n;
        struct mpnet_ping_reply r[8];
        uint64_t down;

        (void)state;
        net2_init(&n, NULL, NULL);
        ping_once(&n, B_ADDR, 1);
        net2_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 8), 1);
        assert_int_equal(state_of(&n, 0, B_ADDR), MPNET_NEIGH_REACHABLE);
        down = stk_ctr(n.st[0], "ip4_iface_down");
        assert_int_equal(mpnet_iface_set_up(n.st[0], 1, false), 0);
        (void)mpnet_ping4_send(n.st[0], B_ADDR, 1, 2, 8, mpnet_clock_now(&n.clk));
        net2_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 8), 0);
        assert_int_equal(stk_ctr(n.st[0], "ip4_iface_down"), down + 1);
        assert_int_equal(mpnet_iface_set_up(n.st[0], 1, true), 0);
        ping_once(&n, B_ADDR, 3);
        net2_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 8), 1);
        net2_fini(&n);
}

static void test_resolution_fails(void **state)
{
        const uint32_t ghost = IP4(192, 0, 2, 99);
        struct mpnet_neigh_info ni;
        struct net2 n;
        uint64_t sent;

        (void)state;
        net2_init(&n, NULL, NULL);
        net2_run(&n, 5 * MPNET_NS_PER_S); /* announcements done */
        sent = stk_ctr(n.st[0], "arp_req_tx");
        /* 20 packets for a host that never answers: 16 queue, 4 push out the
         * oldest. */
        for (uint16_t i = 0; i < 20; i++)
                ping_once(&n, ghost, i);
        assert_int_equal(mpnet_neigh4_get(n.st[0], 1, ghost, &ni), 0);
        assert_int_equal(ni.state, MPNET_NEIGH_INCOMPLETE);
        assert_int_equal(ni.queued, 16);
        assert_int_equal(stk_ctr(n.st[0], "arp_queue_drop"), 4);
        /* Three requests about a second apart, then failed. */
        net2_run(&n, 4 * MPNET_NS_PER_S);
        assert_int_equal(stk_ctr(n.st[0], "arp_req_tx"), sent + 3);
        assert_int_equal(mpnet_neigh4_get(n.st[0], 1, ghost, &ni), 0);
        assert_int_equal(ni.state, MPNET_NEIGH_FAILED);
        assert_int_equal(ni.queued, 0);
        assert_int_equal(stk_ctr(n.st[0], "arp_resolve_failed"), 16);
        /* Held down: a send fails at once and sends no request. */
        assert_int_equal(mpnet_ping4_send(n.st[0], ghost, 1, 99, 8, mpnet_clock_now(&n.clk)),
                         -EHOSTUNREACH);
        net2_run(&n, MPNET_NS_PER_S);
        assert_int_equal(stk_ctr(n.st[0], "arp_req_tx"), sent + 3);
        /* After the hold-down the entry is gone and resolution starts over. */
        net2_run(&n, 20 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_neigh4_get(n.st[0], 1, ghost, &ni), -ENOENT);
        ping_once(&n, ghost, 100);
        net2_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n.st[0], "arp_req_tx"), sent + 4);
        net2_fini(&n);
}

static void test_no_route_and_bad_config(void **state)
{
        struct net2 n;

        (void)state;
        net2_init(&n, NULL, NULL);
        assert_int_equal(mpnet_ping4_send(n.st[0], IP4(198, 51, 100, 1), 1, 1, 8, 0), -ENETUNREACH);
        assert_int_equal(mpnet_ping4_send(n.st[0], B_ADDR, 1, 1, 7, 0), -EINVAL);
        assert_int_equal(mpnet_addr4_add(n.st[0], 1, A_ADDR, 24), -EEXIST);
        assert_int_equal(mpnet_addr4_add(n.st[0], 9, IP4(198, 51, 100, 1), 24), -ENODEV);
        assert_int_equal(mpnet_addr4_add(n.st[0], 1, IP4(127, 0, 0, 1), 8), -EINVAL);
        assert_int_equal(mpnet_addr4_add(n.st[0], 1, IP4(198, 51, 100, 0), 24), -EINVAL);
        assert_int_equal(mpnet_addr4_add(n.st[0], 1, IP4(198, 51, 100, 255), 24), -EINVAL);
        assert_int_equal(mpnet_addr4_add(n.st[0], 1, IP4(198, 51, 100, 1), 33), -EINVAL);
        assert_int_equal(mpnet_addr4_add(n.st[0], 1, IP4(198, 51, 100, 0), 31), 0);
        assert_int_equal(mpnet_addr4_del(n.st[0], 1, IP4(198, 51, 100, 0), 31), 0);
        assert_int_equal(mpnet_addr4_del(n.st[0], 1, IP4(198, 51, 100, 0), 31), -ENOENT);
        assert_int_equal(mpnet_iface_attach(n.st[0], n.la, "dup"), -EEXIST);
        assert_int_equal(mpnet_iface_set_up(n.st[0], 0, true), -ENODEV);
        net2_fini(&n);
}

static void test_bad_stack_cfg(void **state)
{
        struct mpnet_clock clk;
        struct mpnet_pool *pool = mpnet_pool_create("cfg", 16);
        struct mpnet_stack_cfg sc = {0};

        (void)state;
        mpnet_clock_init_virtual(&clk, 0);
        assert_null(mpnet_stack_create(NULL));
        assert_null(mpnet_stack_create(&sc));
        sc.clock = &clk;
        sc.pool = pool;
        sc.arp_queue_max = 100000;
        assert_null(mpnet_stack_create(&sc));
        assert_int_equal(errno, EINVAL);
        sc.arp_queue_max = 0;
        sc.arp_retrans_ns = 1;
        assert_null(mpnet_stack_create(&sc));
        mpnet_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_nud_cycle),        cmocka_unit_test(test_down_iface_not_fast),
            cmocka_unit_test(test_resolution_fails), cmocka_unit_test(test_no_route_and_bad_config),
            cmocka_unit_test(test_bad_stack_cfg),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
