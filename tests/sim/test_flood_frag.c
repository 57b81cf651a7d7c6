/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fragment floods (issue 18): a router's LAN floods it with IPv4 and IPv6
 * fragments addressed to it, from random sources, with random
 * identifications and offsets, a quarter of them overlapping another,
 * none ever completing. Asserted: reassembly memory and datagrams stay
 * within their caps at every step (the stack's own accounting,
 * mpnet_stack_usage_get()), they reach the cap (the flood is big enough to
 * test it), a legitimate fragmented datagram sent in the middle of the
 * flood is still reassembled, legitimate traffic through the router all
 * arrives, and the memory is given back at the timeout (the stack's shared
 * reassembly budget included).
 */
#include "floodnet.h"
#include "stack/stack_priv.h"

#define FLOOD_FRAMES 20000

struct peak {
        uint64_t bytes;
        uint32_t dgs;
};

/* Sample the caps (every step of the flood). */
static void check_caps(struct fnet *n, bool v6, struct peak *pk)
{
        struct mpnet_stack_usage u = fnet_usage(n, 0);
        uint64_t b = v6 ? u.reass6_bytes : u.reass4_bytes;
        uint32_t d = v6 ? u.reass6_datagrams : u.reass4_datagrams;

        assert_true(b <= (v6 ? u.reass6_max_bytes : u.reass4_max_bytes));
        assert_true(d <= (v6 ? u.reass6_max_datagrams : u.reass4_max_datagrams));
        if (b > pk->bytes)
                pk->bytes = b;
        if (d > pk->dgs)
                pk->dgs = d;
}

/* One flood fragment; every fourth overlaps the one before (same key). */
static size_t flood_frag(struct fnet *n, bool v6, uint64_t *rng, unsigned i, uint32_t *id,
                         uint16_t *off, uint8_t *src6, uint32_t *src4)
{
        const uint8_t *m1 = n->r1->info.mac;
        uint16_t len = (uint16_t)(8 * (1 + ff_rand(rng) % 150));
        uint8_t mac[6];

        ff_rand_mac(rng, mac);
        if (i % 4 != 3) {
                *id = (uint32_t)ff_rand(rng);
                *off = (uint16_t)(8 * (ff_rand(rng) % 1000));
                *src4 = FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(rng) % 60000);
                ff_rand_iid(rng, ff_lan1_r6, src6);
        } else {
                *off = (uint16_t)(*off + 8);
        }
        if (v6)
                return ff_ip6(n->f, m1, mac, src6, ff_lan1_r6, true, *id, *off, true, len);
        return ff_ip4(n->f, m1, mac, *src4, FF_LAN1_ADDR, (uint16_t)*id, *off, true, len);
}

/* A legitimate datagram of 1400 bytes in two fragments from H1 to the router. */
static void legit_frags(struct fnet *n, bool v6)
{
        const uint8_t *m1 = n->r1->info.mac;
        size_t len;

        if (v6) {
                len = ff_ip6(n->f, m1, ff_h1_mac, ff_h1_6, ff_lan1_r6, true, 0xbeef, 0, true, 1200);
                fnet_send(n, n->x1, n->f, len);
                len = ff_ip6(n->f, m1, ff_h1_mac, ff_h1_6, ff_lan1_r6, true, 0xbeef, 1200, false,
                             200);
        } else {
                len = ff_ip4(n->f, m1, ff_h1_mac, FF_H1_ADDR, FF_LAN1_ADDR, 0xbeef, 0, true, 1200);
                fnet_send(n, n->x1, n->f, len);
                len =
                    ff_ip4(n->f, m1, ff_h1_mac, FF_H1_ADDR, FF_LAN1_ADDR, 0xbeef, 1200, false, 200);
        }
        fnet_send(n, n->x1, n->f, len);
}

static void flood(bool v6)
{
        struct fnet n;
        struct peak pk = {0};
        uint64_t rng = v6 ? 0x6666 : 0x4444, reasm;
        const char *c_reasm = v6 ? "ip6_reassembled" : "ip4_reassembled";
        const char *c_cap = v6 ? "ip6_reass_cap" : "ip4_reass_cap";
        uint32_t id = 0, src4 = 0;
        uint16_t off = 0;
        uint8_t src6[16];
        struct mpnet_stack_usage u;
        unsigned in_use;

        fnet_init(&n, true);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        fnet_peers_resolved(&n);
        in_use = mpnet_pool_in_use(n.pool);
        for (unsigned i = 0; i < FLOOD_FRAMES; i++) {
                size_t len = flood_frag(&n, v6, &rng, i, &id, &off, src6, &src4);

                fnet_send(&n, n.x1, n.f, len);
                if (i % 256 == 255) {
                        fnet_run(&n, MPNET_NS_PER_MS);
                        check_caps(&n, v6, &pk);
                }
                if (i == FLOOD_FRAMES / 2) {
                        reasm = fnet_ctr(&n, c_reasm);
                        legit_frags(&n, v6);
                        fnet_run(&n, MPNET_NS_PER_MS);
                        assert_int_equal(fnet_ctr(&n, c_reasm), reasm + 1);
                        assert_int_equal(fnet_legit(&n, 16, false), 64);
                }
        }
        fnet_run(&n, MPNET_NS_PER_MS);
        check_caps(&n, v6, &pk);
        u = fnet_usage(&n, 0);
        fprintf(stderr, "IPv%d fragment flood: peak %llu bytes of %llu, %u datagrams of %u\n",
                v6 ? 6 : 4, (unsigned long long)pk.bytes,
                (unsigned long long)(v6 ? u.reass6_max_bytes : u.reass4_max_bytes), pk.dgs,
                v6 ? u.reass6_max_datagrams : u.reass4_max_datagrams);
        /* The flood reached a cap: what bounds it was tested. */
        assert_true(fnet_ctr(&n, c_cap) > 0);
        assert_true(pk.bytes >= (v6 ? u.reass6_max_bytes : u.reass4_max_bytes) / 10 * 9 ||
                    pk.dgs >= (v6 ? u.reass6_max_datagrams : u.reass4_max_datagrams) / 10 * 9);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_peers_resolved(&n);
        /* The timeout (30 s IPv4, 60 s IPv6) gives it all back. */
        fnet_run(&n, 61 * MPNET_NS_PER_S);
        u = fnet_usage(&n, 0);
        assert_int_equal(v6 ? u.reass6_bytes : u.reass4_bytes, 0);
        assert_int_equal(v6 ? u.reass6_datagrams : u.reass4_datagrams, 0);
        /* ...to the stack's shared cap too: evictions settle what they free
         * against the fragment that caused them, nothing is left owed. */
        assert_int_equal(atomic_load(&n.st->reass.used), 0);
        assert_true(mpnet_pool_in_use(n.pool) <= in_use);
        fnet_fini(&n);
}

static void test_frag4_flood(void **state)
{
        (void)state;
        flood(false);
}

static void test_frag6_flood(void **state)
{
        (void)state;
        flood(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_frag4_flood),
            cmocka_unit_test(test_frag6_flood),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
