/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The neighbour table's chain filters (l3/neigh_table.h): a lookup whose
 * filter bit is clear walks nothing, so every entry linked must keep its
 * bit set, and removing an entry must leave the bits of those that share
 * its chain and its bit (the filter is recomputed, not cleared). Entries
 * made to share B's chain and bit by the table's hash (the multiplicative
 * hash of the address's last 32 bits: the top 10 bits the chain, the next
 * 4 the bit), one removed, and B must still be found by the control
 * thread's lookup and by the output path (a ping goes out with no
 * request); then thousands of entries, half removed, every one left found.
 */
#include "mpnet/ip6.h"
#include "testutil.h"

#define NEIGH_HV_MUL 2654435761u

/* The inverse of NEIGH_HV_MUL modulo 2^32 (Newton's iteration). */
static uint32_t hv_inverse(void)
{
        uint32_t x = NEIGH_HV_MUL;

        for (int i = 0; i < 5; i++)
                x *= 2 - NEIGH_HV_MUL * x;
        assert_int_equal((uint32_t)(x * NEIGH_HV_MUL), 1);
        return x;
}

/* The n-th 32-bit value (n >= 1) whose hash has the top 14 bits of a's
 * (same_bit: its chain and filter bit) or only its top 10 (its chain, the
 * filter bit another). */
static uint32_t collider(uint32_t a, unsigned n, bool same_bit)
{
        uint32_t hv = a * NEIGH_HV_MUL, lowmask = same_bit ? 0x3ffffu : 0x3fffffu;
        uint32_t want = (hv & ~lowmask) | ((hv + n * 0x1001u) & lowmask);

        if (!same_bit) /* another bit: flip the first of the four */
                want ^= 1u << 18;
        assert_int_not_equal(want, hv);
        return want * hv_inverse();
}

static void addr6_of(uint32_t low, uint8_t a[16])
{
        static const uint8_t pfx[12] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x42, 0, 0, 0, 0};

        memcpy(a, pfx, 12);
        a[12] = (uint8_t)(low >> 24);
        a[13] = (uint8_t)(low >> 16);
        a[14] = (uint8_t)(low >> 8);
        a[15] = (uint8_t)low;
}

static bool has4(struct mpnet_stack *s, uint32_t a)
{
        struct mpnet_neigh_info ni;

        return mpnet_neigh4_get(s, 1, a, &ni) == 0;
}

static bool has6(struct mpnet_stack *s, uint32_t low)
{
        struct mpnet_neigh_info ni;
        uint8_t a[16];

        addr6_of(low, a);
        return mpnet_neigh6_get(s, 1, a, &ni) == 0;
}

static void add6(struct mpnet_stack *s, uint32_t low, const uint8_t *mac)
{
        uint8_t a[16];

        addr6_of(low, a);
        assert_int_equal(mpnet_neigh6_add(s, 1, a, mac), 0);
}

static void del6(struct mpnet_stack *s, uint32_t low)
{
        uint8_t a[16];

        addr6_of(low, a);
        assert_int_equal(mpnet_neigh6_del(s, 1, a), 0);
}

/* B behind colliders on its chain: removing them leaves B found, and a
 * ping to B goes out through its entry, with no ARP request. */
static void test_shared_bit_survives_removal(void **state)
{
        static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0xcc};
        struct net2 n;
        struct mpnet_ping_reply r[4];
        const uint8_t *mac_b;
        uint32_t c1 = collider(B_ADDR, 1, true), c2 = collider(B_ADDR, 2, true);
        uint32_t d = collider(B_ADDR, 3, false);
        uint64_t req;

        (void)state;
        net2_init(&n, NULL, NULL);
        /* Past the address's announcements (ARP requests of A's own). */
        net2_run(&n, 10 * MPNET_NS_PER_S);
        mac_b = n.lb->info.mac;
        /* IPv4: c1 first (B after it on the chain), then B, c2, d. */
        assert_int_equal(mpnet_neigh4_add(n.st[0], 1, c1, mac_c), 0);
        assert_int_equal(mpnet_neigh4_add(n.st[0], 1, B_ADDR, mac_b), 0);
        assert_int_equal(mpnet_neigh4_add(n.st[0], 1, c2, mac_c), 0);
        assert_int_equal(mpnet_neigh4_add(n.st[0], 1, d, mac_c), 0);
        assert_int_equal(mpnet_neigh4_del(n.st[0], 1, c1), 0);
        assert_true(has4(n.st[0], B_ADDR));
        assert_true(has4(n.st[0], c2));
        assert_int_equal(mpnet_neigh4_del(n.st[0], 1, d), 0);
        assert_true(has4(n.st[0], B_ADDR));
        assert_int_equal(mpnet_neigh4_del(n.st[0], 1, c2), 0);
        assert_true(has4(n.st[0], B_ADDR));
        assert_false(has4(n.st[0], c1));
        assert_false(has4(n.st[0], c2));
        assert_false(has4(n.st[0], d));

        req = stk_ctr(n.st[0], "arp_req_tx");
        assert_int_equal(mpnet_ping4_send(n.st[0], B_ADDR, 1, 1, 8, mpnet_clock_now(&n.clk)), 0);
        net2_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv(n.st[0], r, 4), 1);
        assert_int_equal(stk_ctr(n.st[0], "arp_req_tx"), req);

        /* IPv6: the table hashes the address's last 32 bits. */
        add6(n.st[0], c1, mac_c);
        add6(n.st[0], B_ADDR, mac_b);
        add6(n.st[0], c2, mac_c);
        del6(n.st[0], c1);
        assert_true(has6(n.st[0], B_ADDR));
        assert_true(has6(n.st[0], c2));
        del6(n.st[0], c2);
        assert_true(has6(n.st[0], B_ADDR));
        assert_false(has6(n.st[0], c1));
        assert_false(has6(n.st[0], c2));
        net2_fini(&n);
}

/* 3,000 entries a family on 1,024 chains of 16 bits (hundreds of shared
 * chain bits), every other one removed: the rest all found, the removed
 * none. */
static void test_many_removed(void **state)
{
        static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
        enum { N = 3000 };
        struct net2 n;
        uint64_t rng = 0x9e3779b97f4a7c15u;
        static uint32_t a[N];

        (void)state;
        net2_init(&n, NULL, NULL);
        for (unsigned i = 0; i < N; i++) {
                rng = rng * 6364136223846793005u + 1442695040888963407u;
                a[i] = (uint32_t)(rng >> 32) | 1u; /* never 0 */
                assert_int_equal(mpnet_neigh4_add(n.st[0], 1, a[i], mac), 0);
                add6(n.st[0], a[i], mac);
        }
        for (unsigned i = 0; i < N; i += 2) {
                assert_int_equal(mpnet_neigh4_del(n.st[0], 1, a[i]), 0);
                del6(n.st[0], a[i]);
        }
        for (unsigned i = 0; i < N; i++) {
                assert_int_equal(has4(n.st[0], a[i]), i % 2 == 1);
                assert_int_equal(has6(n.st[0], a[i]), i % 2 == 1);
        }
        net2_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_shared_bit_survives_removal),
            cmocka_unit_test(test_many_removed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
