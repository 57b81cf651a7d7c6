/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Floods of unroutable destinations (issue 18): LAN 1 sends the router
 * UDP from random sources of the subnet to random destinations it has no
 * route for, 6,400 frames a second of virtual time for 5 s. Each asks for
 * a destination unreachable (RFC 1812 5.2.7.1, RFC 4443 3.1), which needs
 * the spoofed source resolved. Asserted: the errors sent stay within the
 * token bucket (the stack's defaults: 1000/s, burst 50, stack.h), the
 * limit is what stopped the rest (each counted once), the neighbour tables stay
 * within their cap, ARP and ND for the real peers keep working (the
 * router answers H1's request and keeps H1 and H2 confirmed), and
 * legitimate traffic all arrives, also to a host that appears during the
 * flood (fnet_new_peer(): a full table evicts an unconfirmed entry).
 */
#include "floodnet.h"

#define ICMP_RATE  1000 /* mpnet_stack_cfg defaults */
#define ICMP_BURST 50
#define FLOOD_S    5

static size_t flood_one(struct fnet *n, bool v6, uint64_t *rng)
{
        static const uint8_t nowhere6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff};
        uint8_t mac[6], src6[16], dst6[16];
        const uint8_t *m1 = n->r1->info.mac;

        ff_rand_mac(rng, mac);
        if (!v6) {
                uint32_t src = FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(rng) % 130000);
                uint32_t dst = 0x64400000u | (uint32_t)(ff_rand(rng) & 0x3fffff); /* 100.64/10 */

                return ff_udp4(n->f, m1, mac, src, dst, (uint16_t)ff_rand(rng));
        }
        ff_rand_iid(rng, ff_lan1_r6, src6);
        ff_rand_iid(rng, nowhere6, dst6);
        return ff_udp6(n->f, m1, mac, src6, dst6);
}

static void flood(bool v6)
{
        struct fnet n;
        uint64_t rng = v6 ? 0x0bad6 : 0x0bad4, err0, lim0, replies0, t0;
        const char *c_err = v6 ? "icmp6_err_tx" : "icmp4_err_tx";
        const char *c_lim = v6 ? "icmp6_err_ratelimited" : "icmp4_err_ratelimited";
        struct mpnet_stack_usage u;
        uint32_t peak = 0;
        double secs;

        fnet_init(&n, true);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        fnet_peers_resolved(&n);
        err0 = fnet_ctr(&n, c_err);
        lim0 = fnet_ctr(&n, c_lim);
        t0 = mpnet_clock_now(&n.clk);
        for (unsigned step = 0; step < FLOOD_S * 100; step++) {
                for (unsigned i = 0; i < 64; i++) {
                        size_t len = flood_one(&n, v6, &rng);

                        fnet_send(&n, n.x1, n.f, len);
                }
                fnet_run(&n, 10 * MPNET_NS_PER_MS);
                u = fnet_usage(&n, 1);
                assert_true(u.neigh4 <= u.neigh_max && u.neigh6 <= u.neigh_max);
                if ((v6 ? u.neigh6 : u.neigh4) > peak)
                        peak = v6 ? u.neigh6 : u.neigh4;
                if (step % 100 == 50) {
                        /* H1 resolves the router: answered mid-flood. */
                        size_t len;

                        replies0 = fnet_ctr(&n, "arp_reply_tx");
                        len = ff_arp(n.f, ff_bcast, MPNET_ARP_OP_REQUEST, ff_h1_mac, FF_H1_ADDR,
                                     (const uint8_t[6]){0}, FF_LAN1_ADDR);
                        fnet_send(&n, n.x1, n.f, len);
                        fnet_run(&n, MPNET_NS_PER_MS);
                        assert_int_equal(fnet_ctr(&n, "arp_reply_tx"), replies0 + 1);
                        assert_int_equal(fnet_legit(&n, 8, false), 32);
                }
        }
        secs = (double)(mpnet_clock_now(&n.clk) - t0) / 1e9;
        fprintf(stderr,
                "unroutable IPv%d flood: %llu errors sent in %.2f s (bucket allows %.0f), "
                "%llu rate-limited, neighbour entries peak %u of %u\n",
                v6 ? 6 : 4, (unsigned long long)(fnet_ctr(&n, c_err) - err0), secs,
                ICMP_BURST + ICMP_RATE * secs, (unsigned long long)fnet_ctr(&n, c_lim), peak,
                u.neigh_max);
        assert_true((double)(fnet_ctr(&n, c_err) - err0) <= ICMP_BURST + ICMP_RATE * secs + 1);
        assert_true(fnet_ctr(&n, c_lim) > 0);
        /* Each flood frame was answered or refused by the bucket, counted
         * once (IPv4 looks at the bucket before its FIB test, takes after). */
        assert_int_equal(fnet_ctr(&n, c_err) - err0 + fnet_ctr(&n, c_lim) - lim0,
                         FLOOD_S * 100 * 64);
        fnet_peers_resolved(&n);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_new_peer(&n, 4, !v6 && peak == u.neigh_max, v6 && peak == u.neigh_max);
        fnet_fini(&n);
}

static void test_unroutable4_flood(void **state)
{
        (void)state;
        flood(false);
}

static void test_unroutable6_flood(void **state)
{
        (void)state;
        flood(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_unroutable4_flood),
            cmocka_unit_test(test_unroutable6_flood),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
