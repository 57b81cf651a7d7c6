/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Floods of traffic to next hops that never answer (issue 18): H2, on LAN
 * 2, sends UDP through the router to random addresses of LAN 1's on-link
 * subnet (198.18.0.0/15, 2001:db8:1::/64) where nobody answers ARP or ND,
 * three datagrams to each. Each destination makes an INCOMPLETE entry
 * that holds what waits for it (RFC 1122 2.3.2.2, RFC 4861 7.2.2): 16
 * packets an entry over 4,096 entries a family would be more buffers than
 * the pool has (8,192). Asserted: what the stack holds for resolution
 * stays within its stack-wide cap (mpnet_stack_usage_get) and reaches it,
 * the cap is what dropped the rest (counted), the pool never runs dry,
 * the tables stay within theirs, legitimate traffic between H1 and H2 all
 * arrives during the flood, and once resolution fails nothing is held.
 */
#include "floodnet.h"

#define PER_DST 3

static size_t flood_one(struct fnet *n, bool v6, uint64_t *rng, unsigned i)
{
        static uint32_t dst4;
        static uint8_t dst6[16];
        const uint8_t *m2 = n->r2->info.mac;

        if (i % PER_DST == 0) {
                dst4 = FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(rng) % 130000);
                ff_rand_iid(rng, ff_lan1_r6, dst6);
        }
        if (!v6)
                return ff_udp4(n->f, m2, ff_h2_mac, FF_H2_ADDR, dst4, (uint16_t)i);
        return ff_udp6(n->f, m2, ff_h2_mac, ff_h2_6, dst6);
}

static void flood(bool v6)
{
        struct fnet n;
        uint64_t rng = v6 ? 0x4e1d6 : 0x4e1d4, nobufs;
        struct mpnet_stack_usage u;
        uint32_t peak = 0, frames, in_use_peak = 0;

        fnet_init(&n, true);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        fnet_peers_resolved(&n);
        u = fnet_usage(&n, 0);
        assert_int_equal(u.neigh_held, 0);
        nobufs = fnet_ctr(&n, "nobufs");
        /* Twice the cap in destinations: without it they would hold six
         * times the cap, more than the pool. */
        frames = 2 * PER_DST * u.neigh_held_max;
        for (uint32_t i = 0; i < frames; i++) {
                size_t len = flood_one(&n, v6, &rng, i);

                fnet_send(&n, n.x2, n.f, len);
                if (i % 256 == 255) {
                        fnet_run(&n, MPNET_NS_PER_MS);
                        u = fnet_usage(&n, 0);
                        assert_true(u.neigh_held <= u.neigh_held_max);
                        assert_true(u.neigh4 <= 2 * u.neigh_max && u.neigh6 <= 2 * u.neigh_max);
                        if (u.neigh_held > peak)
                                peak = u.neigh_held;
                        if (mpnet_pool_in_use(n.pool) > in_use_peak)
                                in_use_peak = mpnet_pool_in_use(n.pool);
                }
                if (i == frames / 2)
                        assert_int_equal(fnet_legit(&n, 16, false), 64);
        }
        fprintf(stderr, "IPv%d unresolvable next hops: held peak %u of %u, pool peak %u of %u\n",
                v6 ? 6 : 4, peak, u.neigh_held_max, in_use_peak, mpnet_pool_size(n.pool));
        assert_int_equal(peak, u.neigh_held_max);
        assert_true(fnet_ctr(&n, "neigh_held_full") > 0);
        assert_int_equal(fnet_ctr(&n, "nobufs"), nobufs);
        assert_true(in_use_peak < mpnet_pool_size(n.pool) / 2);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        /* Past the probes (3 x 1 s): every destination failed, what it
         * held went (with its errors, rate-limited), the peers stayed. */
        fnet_run(&n, 10 * MPNET_NS_PER_S);
        u = fnet_usage(&n, 0);
        assert_int_equal(u.neigh_held, 0);
        fnet_peers_resolved(&n);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_fini(&n);
}

static void test_held4_flood(void **state)
{
        (void)state;
        flood(false);
}

static void test_held6_flood(void **state)
{
        (void)state;
        flood(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_held4_flood),
            cmocka_unit_test(test_held6_flood),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
