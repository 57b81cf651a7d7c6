/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a control plane reads back from a stack (issue 17: mpnetctl's show
 * commands): the IPv4 addresses of an interface, its MTU, the neighbours
 * learnt and added, and the IPv6 routes of a table; and what it removes:
 * single neighbours of either family.
 */
#include "mpnet/ip6.h"
#include "testutil.h"

struct seen {
        unsigned n4, n6;
        uint32_t addr4;
        enum mpnet_neigh_state st4;
        uint8_t mac4[6];
};

static int count_neigh(void *arg, const struct mpnet_neigh_entry *e)
{
        struct seen *s = arg;

        if (e->family == 4) {
                s->n4++;
                s->addr4 = e->addr4;
                s->st4 = e->info.state;
                memcpy(s->mac4, e->info.mac, 6);
        } else {
                s->n6++;
        }
        return 0;
}

static int stop_at_first(void *arg, const struct mpnet_neigh_entry *e)
{
        (void)e;
        ++*(unsigned *)arg;
        return 7;
}

static void test_addr4_list(void **state)
{
        struct net2 n;
        struct mpnet_addr4_info a[4];

        (void)state;
        net2_init(&n, NULL, NULL);
        assert_int_equal(mpnet_addr4_add(n.st[0], n.ifa, IP4(198, 51, 100, 1), 25), 0);
        assert_int_equal(mpnet_addr4_list(n.st[0], n.ifa, a, 4), 2);
        assert_true((a[0].addr == A_ADDR && a[0].plen == 24 && a[1].addr == IP4(198, 51, 100, 1) &&
                     a[1].plen == 25) ||
                    (a[1].addr == A_ADDR && a[1].plen == 24 && a[0].addr == IP4(198, 51, 100, 1) &&
                     a[0].plen == 25));
        /* A short array: the count, and only max written. */
        assert_int_equal(mpnet_addr4_list(n.st[0], n.ifa, a, 1), 2);
        assert_int_equal(mpnet_addr4_del(n.st[0], n.ifa, A_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_list(n.st[0], n.ifa, a, 4), 1);
        assert_int_equal(a[0].addr, IP4(198, 51, 100, 1));
        assert_int_equal(mpnet_addr4_list(n.st[0], 9, a, 4), -ENODEV);
        net2_fini(&n);
}

static void test_mtu(void **state)
{
        struct net2 n;

        (void)state;
        net2_init(&n, NULL, NULL);
        assert_int_equal(mpnet_iface_mtu(n.st[0], n.ifa), 1500);
        assert_int_equal(mpnet_iface_set_mtu(n.st[0], n.ifa, 1400), 0);
        assert_int_equal(mpnet_iface_mtu(n.st[0], n.ifa), 1400);
        assert_int_equal(mpnet_iface_set_mtu(n.st[0], n.ifa, 67), -EINVAL);
        assert_int_equal(mpnet_iface_set_mtu(n.st[0], n.ifa, 1501), -EINVAL);
        assert_int_equal(mpnet_iface_set_mtu(n.st[0], 9, 1400), -ENODEV);
        assert_int_equal(mpnet_iface_mtu(n.st[0], 9), 0);
        /* The new MTU is the one that counts: a 1400-byte echo with DF set
         * no longer fits. */
        assert_int_equal(mpnet_ping4_send_req(
                             n.st[0],
                             &(struct mpnet_ping4_req){
                                 .dst = B_ADDR, .id = 1, .seq = 1, .payload_len = 1400, .df = true},
                             mpnet_clock_now(&n.clk)),
                         -EMSGSIZE);
        net2_fini(&n);
}

static void test_neigh_walk_del(void **state)
{
        static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x99};
        uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
        struct mpnet_ping_reply r[2];
        struct seen s = {0};
        unsigned calls = 0;
        struct net2 n;

        (void)state;
        net2_init(&n, NULL, NULL);
        assert_int_equal(mpnet_ping4_send(n.st[0], B_ADDR, 1, 1, 56, mpnet_clock_now(&n.clk)), 0);
        net2_run(&n, MPNET_NS_PER_S);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 2), 1);
        assert_int_equal(mpnet_neigh_walk(n.st[0], 0, count_neigh, &s), 0);
        assert_int_equal(s.n4, 1);
        assert_int_equal(s.addr4, B_ADDR);
        assert_int_equal(s.st4, MPNET_NEIGH_REACHABLE);
        assert_memory_equal(s.mac4, n.lb->info.mac, 6);

        assert_int_equal(mpnet_neigh6_add(n.st[0], n.ifa, a6, mac), 0);
        memset(&s, 0, sizeof(s));
        assert_int_equal(mpnet_neigh_walk(n.st[0], n.ifa, count_neigh, &s), 0);
        assert_int_equal(s.n4, 1);
        assert_int_equal(s.n6, 1);
        assert_int_equal(mpnet_neigh_walk(n.st[0], 0, stop_at_first, &calls), 7);
        assert_int_equal(calls, 1);
        assert_int_equal(mpnet_neigh_walk(n.st[0], 9, count_neigh, &s), -ENODEV);

        assert_int_equal(mpnet_neigh4_del(n.st[0], n.ifa, B_ADDR), 0);
        assert_int_equal(mpnet_neigh4_del(n.st[0], n.ifa, B_ADDR), -ENOENT);
        assert_int_equal(mpnet_neigh6_del(n.st[0], n.ifa, a6), 0);
        assert_int_equal(mpnet_neigh6_del(n.st[0], n.ifa, a6), -ENOENT);
        assert_int_equal(mpnet_neigh6_del(n.st[0], 9, a6), -ENODEV);
        memset(&s, 0, sizeof(s));
        assert_int_equal(mpnet_neigh_walk(n.st[0], 0, count_neigh, &s), 0);
        assert_int_equal(s.n4 + s.n6, 0);
        /* Resolution works again after the delete. */
        assert_int_equal(mpnet_ping4_send(n.st[0], B_ADDR, 1, 2, 56, mpnet_clock_now(&n.clk)), 0);
        net2_run(&n, MPNET_NS_PER_S);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 2), 1);
        net2_fini(&n);
}

struct r6 {
        unsigned n;
        uint8_t plen[8];
};

static int collect6(void *arg, const struct mpnet_route6 *r)
{
        struct r6 *c = arg;

        if (c->n < 8)
                c->plen[c->n] = r->plen;
        c->n++;
        return 0;
}

static void test_route6_walk(void **state)
{
        struct mpnet_route6 r = {
            .dst = {0x20, 0x01, 0x0d, 0xb8}, .plen = 32, .type = MPNET_NH_BLACKHOLE};
        struct r6 c = {0};
        struct net2 n;

        (void)state;
        net2_init(&n, NULL, NULL);
        assert_int_equal(mpnet_table_add(n.st[0], 5), 0);
        assert_int_equal(mpnet_route6_walk(n.st[0], 5, collect6, &c), 0);
        assert_int_equal(c.n, 0);
        assert_int_equal(mpnet_route6_add(n.st[0], 5, &r), 0);
        r.dst[4] = 0x80;
        r.plen = 40;
        assert_int_equal(mpnet_route6_add(n.st[0], 5, &r), 0);
        assert_int_equal(mpnet_route6_walk(n.st[0], 5, collect6, &c), 0);
        assert_int_equal(c.n, 2);
        assert_int_equal(c.plen[0], 32); /* prefix order */
        assert_int_equal(c.plen[1], 40);
        assert_int_equal(mpnet_route6_walk(n.st[0], 6, collect6, &c), -ENOENT);
        net2_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_addr4_list),
            cmocka_unit_test(test_mtu),
            cmocka_unit_test(test_neigh_walk_del),
            cmocka_unit_test(test_route6_walk),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
