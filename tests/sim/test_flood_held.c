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
 * That test raises the limit on new resolutions past the flood's rate, so
 * that the hold cap is what binds; the second one keeps the default limit
 * (neigh_resolve_rate, 1000/s, burst 100) and asserts the flood makes no
 * more entries (and solicitations) than the bucket allows, the rest is
 * dropped and counted (arp_resolve_limited, nd_resolve_limited) with no
 * entry and no eviction, a host whose resolution starts mid-flood is
 * resolved and all of its traffic arrives (held while it resolves: a
 * resolution in progress is not limited), and H1-H2 traffic all arrives.
 */
#include "floodnet.h"

#define PER_DST       3
#define RESOLVE_RATE  1000 /* mpnet_stack_cfg defaults */
#define RESOLVE_BURST 100

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

        fnet_init_limits(&n, true, 0, 0, 10000000, 100000);
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

/* H2 sends H3 (LAN 1) one datagram. */
static void to_h3(struct fnet *n, bool v6)
{
        const uint8_t *m2 = n->r2->info.mac;
        size_t len;

        if (!v6)
                len = ff_udp4(n->f, m2, ff_h2_mac, FF_H2_ADDR, FF_H3_ADDR, 7);
        else
                len = ff_udp6(n->f, m2, ff_h2_mac, ff_h2_6, ff_h3_6);
        fnet_send(n, n->x2, n->f, len);
}

static void limited(bool v6)
{
        const char *c_lim = v6 ? "nd_resolve_limited" : "arp_resolve_limited";
        const char *c_ev = v6 ? "nd_evicted" : "arp_evicted";
        struct fnet n;
        uint64_t rng = v6 ? 0x4e1d6 : 0x4e1d4, lim0, ev0, sol0, t0, h3_0, h3_sent = 0;
        struct mpnet_stack_usage u;
        uint32_t frames = 6 * 1024, made0, made, peak = 0;
        double secs, allowed;

        fnet_init(&n, true);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        fnet_peers_resolved(&n);
        u = fnet_usage(&n, 1);
        made0 = v6 ? u.neigh6 : u.neigh4;
        lim0 = fnet_ctr(&n, c_lim);
        ev0 = fnet_ctr(&n, c_ev);
        sol0 = v6 ? n.nd_ns : n.arp_req;
        h3_0 = v6 ? n.udp6[FH3] : n.udp4[FH3];
        t0 = mpnet_clock_now(&n.clk);
        for (uint32_t i = 0; i < frames; i++) {
                size_t len;

                /* Half-way H2 starts sending to H3: the first datagram
                 * first thing after a millisecond, when the bucket has
                 * refilled a token (the flood's frames after it in the
                 * same poll find none), makes H3's entry; H3 does not
                 * answer yet. The rest come mid-step, after the flood has
                 * taken the token, and wait on the entry, unlimited. */
                if (i >= frames / 2 && i % 256 == (i < frames / 2 + 256 ? 0u : 128u)) {
                        to_h3(&n, v6);
                        h3_sent++;
                }
                len = flood_one(&n, v6, &rng, i);
                fnet_send(&n, n.x2, n.f, len);
                if (i % 256 == 255) {
                        fnet_run(&n, MPNET_NS_PER_MS);
                        u = fnet_usage(&n, 1);
                        if ((v6 ? u.neigh6 : u.neigh4) > peak)
                                peak = v6 ? u.neigh6 : u.neigh4;
                }
                if (i == frames / 4)
                        assert_int_equal(fnet_legit(&n, 16, false), 64);
        }
        /* H3 comes up and answers the next probe: what waited goes. */
        n.h3_up = true;
        fnet_run(&n, 2 * MPNET_NS_PER_S);
        secs = (double)(mpnet_clock_now(&n.clk) - t0 - 2 * MPNET_NS_PER_S) / 1e9;
        /* The burst at the start, the rate over the flood, and the burst
         * again after the second fnet_legit() idles; H3's entry among them. */
        allowed = 2 * RESOLVE_BURST + RESOLVE_RATE * (secs - 1.0) + 2;
        u = fnet_usage(&n, 1);
        made = (v6 ? u.neigh6 : u.neigh4) - made0;
        fprintf(stderr,
                "IPv%d new next hops, default limit: %u entries made in %.3f s (bucket allows "
                "%.0f), %llu limited, solicitations %llu\n",
                v6 ? 6 : 4, made, secs, allowed, (unsigned long long)(fnet_ctr(&n, c_lim) - lim0),
                (unsigned long long)((v6 ? n.nd_ns : n.arp_req) - sol0));
        /* Entries (H3's among them) within the bucket; under the table's
         * cap, so nothing evicted; the rest refused and counted. */
        assert_true(made <= allowed);
        assert_true(peak < u.neigh_max);
        assert_int_equal(fnet_ctr(&n, c_ev), ev0);
        assert_true(fnet_ctr(&n, c_lim) - lim0 >= frames - PER_DST * (uint64_t)made);
        /* Each entry asks at most three times (RFC 4861 7.3.3's
         * MAX_MULTICAST_SOLICIT, arp_max_probes); a few more are H1's and
         * H2's reachability probes. */
        assert_true((v6 ? n.nd_ns : n.arp_req) - sol0 <= 3 * (uint64_t)made + 16);
        /* H3's resolution, started mid-flood, got every datagram sent to
         * it (at most arp_queue_max, 16, were held). */
        assert_true(h3_sent <= 16);
        assert_int_equal((v6 ? n.udp6[FH3] : n.udp4[FH3]) - h3_0, h3_sent);
        n.h3_up = false;
        fnet_peers_resolved(&n);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_fini(&n);
}

static void test_held4_limited(void **state)
{
        (void)state;
        limited(false);
}

static void test_held6_limited(void **state)
{
        (void)state;
        limited(true);
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
            cmocka_unit_test(test_held4_limited),
            cmocka_unit_test(test_held6_limited),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
