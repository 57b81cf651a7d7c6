/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RFC 7217 stable privacy interface identifiers: a host X with
 * cfg.ip6_stable_iid on a memory wire to a router R that advertises a
 * prefix. The link-local and SLAAC addresses are the ones F() gives
 * (computed here on the side), the same across stack re-creation with the
 * same key, different with another key or prefix; a duplicate found by DAD
 * makes the address of the next DAD_Counter.
 */
#include "base/sha256.h"
#include "ip6util.h"

#define XNAME "x0"

struct net {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *lx, *lr;
        struct mpnet_stack *st[2]; /* X, R */
};

/* F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key): the low 64
 * bits of SHA-256 over the prefix, the name, the counter byte and the key. */
static void expect_addr(const char *prefix, const uint8_t *key, uint8_t counter, uint8_t *a)
{
        struct sha256 h;
        uint8_t rid[SHA256_LEN];

        memcpy(a, A6(prefix), 16);
        sha256_init(&h);
        sha256_update(&h, a, 8);
        sha256_update(&h, XNAME, strlen(XNAME));
        sha256_update(&h, &counter, 1);
        sha256_update(&h, key, 16);
        sha256_final(&h, rid);
        memcpy(a + 8, rid + 24, 8);
}

static void net_up(struct net *n, const uint8_t *key, const char *prefix, const uint8_t *taken)
{
        struct mpnet_memwire_cfg wc = {.name = "stbl"};
        struct mpnet_stack_cfg sc = {
            .clock = &n->clk, .name = "X", .seed = 41, .ip6_auto = true, .ip6_stable_iid = true};
        struct mpnet_ra_cfg c = {.max_interval_ms = 30000, .n_prefix = 1};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("stbl", 4096);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->lx, &n->lr), 0);
        sc.clock = &n->clk;
        sc.pool = n->pool;
        if (key != NULL)
                memcpy(sc.ip6_secret, key, 16);
        n->st[0] = mpnet_stack_create(&sc);
        assert_non_null(n->st[0]);
        n->st[1] = stack6_new(&n->clk, n->pool, "R", 42, true);
        assert_int_equal(mpnet_iface_attach(n->st[1], n->lr, "r0"), 1);
        if (taken != NULL)
                assert_int_equal(mpnet_addr6_add(n->st[1], 1, taken, 64, MPNET_ADDR6_F_NODAD), 0);
        memcpy(c.prefix[0].prefix, A6(prefix), 16);
        c.prefix[0].plen = 64;
        c.prefix[0].onlink = c.prefix[0].autonomous = true;
        assert_int_equal(mpnet_iface_ra_set(n->st[1], 1, &c), 0);
        assert_int_equal(mpnet_iface_attach(n->st[0], n->lx, XNAME), 1);
        sim_run_until(&n->clk, n->st, 2, mpnet_clock_now(&n->clk) + 10 * MPNET_NS_PER_S);
}

static void net_down(struct net *n)
{
        for (int i = 0; i < 2; i++)
                mpnet_stack_destroy(n->st[i]);
        mpnet_link_destroy(n->lx);
        mpnet_link_destroy(n->lr);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

/* X's usable addresses: the link-local one and the global one. */
static void x_addrs(struct net *n, uint8_t *ll, uint8_t *global)
{
        struct mpnet_addr6_info info[8];
        int k = mpnet_addr6_list(n->st[0], 1, info, 8);

        assert_int_equal(k, 2);
        for (int i = 0; i < k; i++) {
                assert_int_equal(info[i].flags & ~MPNET_ADDR6_F_AUTOCONF, 0);
                memcpy(mpnet_ip6_is_link_local(info[i].addr) ? ll : global, info[i].addr, 16);
        }
}

static const uint8_t key1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t key2[16] = {0xaa, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void test_stable_across_restarts(void **state)
{
        uint8_t ll[16], g[16], ll2[16], g2[16], want[16], eui[16];
        struct net n;

        (void)state;
        net_up(&n, key1, "2001:db8:a::", NULL);
        x_addrs(&n, ll, g);
        expect_addr("fe80::", key1, 0, want);
        assert_memory_equal(ll, want, 16);
        expect_addr("2001:db8:a::", key1, 0, want);
        assert_memory_equal(g, want, 16);
        ll_of(n.lx->info.mac, eui);
        assert_memory_not_equal(ll, eui, 16);
        net_down(&n);

        /* The same key, name and prefix: the same addresses. */
        net_up(&n, key1, "2001:db8:a::", NULL);
        x_addrs(&n, ll2, g2);
        assert_memory_equal(ll2, ll, 16);
        assert_memory_equal(g2, g, 16);
        net_down(&n);

        /* Another prefix: another identifier. */
        net_up(&n, key1, "2001:db8:b::", NULL);
        x_addrs(&n, ll2, g2);
        assert_memory_equal(ll2, ll, 16);
        assert_memory_equal(g2, A6("2001:db8:b::"), 8);
        assert_memory_not_equal(g2 + 8, g + 8, 8);
        net_down(&n);

        /* Another key: other addresses. */
        net_up(&n, key2, "2001:db8:a::", NULL);
        x_addrs(&n, ll2, g2);
        assert_memory_not_equal(ll2, ll, 16);
        assert_memory_not_equal(g2, g, 16);
        expect_addr("2001:db8:a::", key2, 0, want);
        assert_memory_equal(g2, want, 16);
        net_down(&n);

        /* No key: a random one from the seed, the same for the same seed. */
        net_up(&n, NULL, "2001:db8:a::", NULL);
        x_addrs(&n, ll, g);
        assert_memory_not_equal(g, want, 16);
        net_down(&n);
        net_up(&n, NULL, "2001:db8:a::", NULL);
        x_addrs(&n, ll2, g2);
        assert_memory_equal(g2, g, 16);
        net_down(&n);
}

/* RFC 7217 6: R holds X's first choice; DAD finds it and X moves on to the
 * address of DAD_Counter 1. */
static void test_dad_collision_next_counter(void **state)
{
        uint8_t first[16], second[16], ll[16], g[16];
        struct net n;

        (void)state;
        expect_addr("2001:db8:a::", key1, 0, first);
        expect_addr("2001:db8:a::", key1, 1, second);
        net_up(&n, key1, "2001:db8:a::", first);
        assert_int_equal(stk_ctr(n.st[0], "nd_dad_dup"), 1);
        x_addrs(&n, ll, g);
        assert_memory_equal(g, second, 16);
        assert_int_equal(addr6_flags(n.st[0], 1, first), UINT32_MAX);
        /* The next advertisement refreshes that address, makes no other. */
        sim_run_until(&n.clk, n.st, 2, mpnet_clock_now(&n.clk) + 40 * MPNET_NS_PER_S);
        assert_true(stk_ctr(n.st[0], "nd_ra_rx") >= 2);
        x_addrs(&n, ll, g);
        assert_memory_equal(g, second, 16);
        net_down(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_stable_across_restarts),
            cmocka_unit_test(test_dad_collision_next_counter),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
