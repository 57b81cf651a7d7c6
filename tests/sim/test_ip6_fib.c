/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IPv6 FIB through the public API: route kinds, ECMP paths, replace,
 * delete, longest match, per-table isolation and the argument checks.
 */
#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "testutil.h"

static void a6(uint8_t *a, uint16_t w0, uint16_t w1, uint16_t w2, uint16_t w7)
{
        memset(a, 0, 16);
        a[0] = (uint8_t)(w0 >> 8), a[1] = (uint8_t)w0;
        a[2] = (uint8_t)(w1 >> 8), a[3] = (uint8_t)w1;
        a[4] = (uint8_t)(w2 >> 8), a[5] = (uint8_t)w2;
        a[14] = (uint8_t)(w7 >> 8), a[15] = (uint8_t)w7;
}

static void test_route6_api(void **state)
{
        struct net2 n;
        struct mpnet_route6 r = {.plen = 32, .type = MPNET_NH_GATEWAY, .n_paths = 2}, got;
        struct mpnet_stack *s;
        uint8_t a[16];

        (void)state;
        net2_init(&n, NULL, NULL);
        s = n.st[0];
        a6(r.dst, 0x2001, 0xdb8, 0, 0);
        r.paths[0].ifindex = 1;
        a6(r.paths[0].gw, 0xfe80, 0, 0, 1);
        r.paths[1].ifindex = 1;
        a6(r.paths[1].gw, 0xfe80, 0, 0, 2);
        assert_int_equal(mpnet_route6_count(s, 0), 0);
        assert_int_equal(mpnet_route6_add(s, 0, &r), 0);
        assert_int_equal(mpnet_route6_add(s, 0, &r), -EEXIST);
        assert_int_equal(mpnet_route6_count(s, 0), 1);
        /* A more specific blackhole inside it. */
        {
                struct mpnet_route6 b = {.plen = 48, .type = MPNET_NH_BLACKHOLE};

                a6(b.dst, 0x2001, 0xdb8, 7, 0);
                assert_int_equal(mpnet_route6_add(s, 0, &b), 0);
        }
        a6(a, 0x2001, 0xdb8, 7, 9);
        assert_int_equal(mpnet_route6_lookup(s, 0, a, &got), 0);
        assert_int_equal(got.type, MPNET_NH_BLACKHOLE);
        assert_int_equal(got.plen, 48);
        a6(a, 0x2001, 0xdb8, 8, 9);
        assert_int_equal(mpnet_route6_lookup(s, 0, a, &got), 0);
        assert_int_equal(got.type, MPNET_NH_GATEWAY);
        assert_int_equal(got.n_paths, 2);
        assert_memory_equal(got.paths[1].gw, r.paths[1].gw, 16);
        /* Replace: one path, then exact get sees it. */
        r.n_paths = 1;
        assert_int_equal(mpnet_route6_replace(s, 0, &r), 0);
        assert_int_equal(mpnet_route6_get(s, 0, r.dst, 32, &got), 0);
        assert_int_equal(got.n_paths, 1);
        assert_int_equal(mpnet_route6_count(s, 0), 2);
        /* Tables keep their own routes. */
        assert_int_equal(mpnet_route6_add(s, 7, &r), -ENOENT);
        assert_int_equal(mpnet_table_add(s, 7), 0);
        assert_int_equal(mpnet_route6_lookup(s, 7, a, &got), -ENOENT);
        assert_int_equal(mpnet_route6_add(s, 7, &r), 0);
        assert_int_equal(mpnet_table_del(s, 7), -EBUSY);
        assert_int_equal(mpnet_route6_del(s, 7, r.dst, 32), 0);
        assert_int_equal(mpnet_table_del(s, 7), 0);
        /* Checks. */
        r.plen = 16; /* host bits set beyond /16 */
        assert_int_equal(mpnet_route6_add(s, 0, &r), -EINVAL);
        r.plen = 129;
        assert_int_equal(mpnet_route6_add(s, 0, &r), -EINVAL);
        r.plen = 32;
        r.paths[0].ifindex = 9;
        assert_int_equal(mpnet_route6_replace(s, 0, &r), -ENODEV);
        r.paths[0].ifindex = 1;
        memset(r.paths[0].gw, 0, 16);
        assert_int_equal(mpnet_route6_replace(s, 0, &r), -EINVAL);
        assert_int_equal(mpnet_route6_del(s, 0, r.dst, 32), 0);
        assert_int_equal(mpnet_route6_del(s, 0, r.dst, 32), -ENOENT);
        assert_int_equal(mpnet_route6_lookup(s, 0, a, &got), -ENOENT);
        net2_fini(&n);
}

/* An interface's addresses follow it to another table. */
static void test_table_move(void **state)
{
        struct mpnet_route6 got;
        struct net2 n;
        uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

        (void)state;
        net2_init(&n, NULL, NULL);
        assert_int_equal(mpnet_addr6_add(n.st[0], 1, a, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_route6_get(n.st[0], 0, a, 128, &got), 0);
        assert_int_equal(got.type, MPNET_NH_LOCAL);
        assert_int_equal(mpnet_table_add(n.st[0], 9), 0);
        assert_int_equal(mpnet_iface_set_table(n.st[0], 1, 9), 0);
        assert_int_equal(mpnet_route6_get(n.st[0], 0, a, 128, &got), -ENOENT);
        assert_int_equal(mpnet_route6_get(n.st[0], 9, a, 128, &got), 0);
        assert_int_equal(mpnet_route6_count(n.st[0], 9), 2); /* local and connected */
        assert_int_equal(mpnet_route6_count(n.st[0], 0), 0);
        net2_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_route6_api),
            cmocka_unit_test(test_table_move),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
