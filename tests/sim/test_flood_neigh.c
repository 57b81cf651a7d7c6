/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ARP and ND floods (issue 18): a router's LAN 1 floods it with ARP
 * requests, and neighbour solicitations carrying a source link-layer
 * address, for the router's own address from random sources of the
 * subnet with random MACs, each of which makes the router learn an entry
 * (RFC 826 merge; RFC 4861 7.2.3). Asserted: the table of the interface
 * never exceeds its cap (mpnet_stack_usage_get), the flood fills it, the
 * confirmed entries of the real peers (H1, H2) survive with their MACs,
 * legitimate traffic through the router all arrives, and the other
 * family's table and LAN 2 are untouched. The flood's entries are never
 * confirmed, so once the table is full each new one evicts the oldest of
 * them (never a confirmed one), and a host that appears during the flood
 * (H3) gets an entry and its traffic. That is with the limit on learning
 * raised past the flood's rate; at the default limit (neigh_learn_rate,
 * control-plane policing) the flood makes only the entries the limit
 * allows, the rest is dropped before any work and counted, known senders
 * are still answered, H3 is still resolved, and once the flood stops a
 * new sender is learnt again.
 */
#include "floodnet.h"
#include "mpnet/socket.h"

static size_t flood_one(struct fnet *n, bool v6, uint64_t *rng)
{
        uint8_t mac[6], src6[16], snm[16], dmac[6];
        uint32_t src4;

        ff_rand_mac(rng, mac);
        if (!v6) {
                /* Anywhere in 198.18.0.0/15 but the real hosts' .10 and .20. */
                src4 = FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(rng) % 130000);
                return ff_arp(n->f, ff_bcast, MPNET_ARP_OP_REQUEST, mac, src4,
                              (const uint8_t[6]){0}, FF_LAN1_ADDR);
        }
        ff_rand_iid(rng, ff_lan1_r6, src6);
        mpnet_ip6_solicited_node(ff_lan1_r6, snm);
        mpnet_ip6_mc_mac(snm, dmac);
        return ff_nd(n->f, dmac, mac, src6, snm, MPNET_ICMP6_ND_NS, ff_lan1_r6, false);
}

static void flood(bool v6)
{
        struct fnet n;
        uint64_t rng = v6 ? 0x6e64 : 0xa4b;
        struct mpnet_stack_usage u, u2;
        uint32_t peak = 0, frames;

        /* Learning at up to 10 M/s: the flood of about 256 k/s all passes. */
        fnet_init_learn(&n, true, 10000000, 100000);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        fnet_peers_resolved(&n);
        u = fnet_usage(&n, 1);
        frames = u.neigh_max * 2;
        for (uint32_t i = 0; i < frames; i++) {
                size_t len = flood_one(&n, v6, &rng);

                fnet_send(&n, n.x1, n.f, len);
                if (i % 256 == 255) {
                        fnet_run(&n, MPNET_NS_PER_MS);
                        u = fnet_usage(&n, 1);
                        assert_true(u.neigh4 <= u.neigh_max);
                        assert_true(u.neigh6 <= u.neigh_max);
                        if ((v6 ? u.neigh6 : u.neigh4) > peak)
                                peak = v6 ? u.neigh6 : u.neigh4;
                }
                if (i == frames / 2)
                        assert_int_equal(fnet_legit(&n, 16, false), 64);
        }
        fnet_run(&n, 10 * MPNET_NS_PER_MS);
        u = fnet_usage(&n, 1);
        fprintf(stderr, "%s flood: peak %u entries of %u\n", v6 ? "ND" : "ARP", peak, u.neigh_max);
        /* Filled, and no further: the flood recycled its own entries
         * (evicted, none refused while it had some to give). */
        assert_int_equal(v6 ? u.neigh6 : u.neigh4, u.neigh_max);
        assert_true(fnet_ctr(&n, v6 ? "nd_evicted" : "arp_evicted") >=
                    frames / 2 - u.neigh_max / 8);
        assert_int_equal(fnet_ctr(&n, v6 ? "nd_table_full" : "arp_table_full"), 0);
        /* The other family and LAN 2 hold their real peers only (and, for
         * IPv6, the router's own link-local neighbours learnt at start). */
        assert_true((v6 ? u.neigh4 : u.neigh6) < 8);
        u2 = fnet_usage(&n, 2);
        assert_true(u2.neigh4 + u2.neigh6 < 8);
        fnet_peers_resolved(&n);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_new_peer(&n, 4, !v6, v6);
        /* Past the reachable time: the peers go STALE, are probed (unicast),
         * answer, and stay resolved while the flood's entries sit there. */
        fnet_run(&n, 60 * MPNET_NS_PER_S);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_run(&n, 10 * MPNET_NS_PER_S);
        fnet_peers_resolved(&n);
        fnet_fini(&n);
}

/* A request or solicitation for the router from a (LAN 1 sender, its MAC). */
static size_t ask_router(struct fnet *n, bool v6, uint32_t a4, const uint8_t *a6,
                         const uint8_t *mac)
{
        uint8_t snm[16], dmac[6];

        if (!v6)
                return ff_arp(n->f, ff_bcast, MPNET_ARP_OP_REQUEST, mac, a4, (const uint8_t[6]){0},
                              FF_LAN1_ADDR);
        mpnet_ip6_solicited_node(ff_lan1_r6, snm);
        mpnet_ip6_mc_mac(snm, dmac);
        return ff_nd(n->f, dmac, mac, a6, snm, MPNET_ICMP6_ND_NS, ff_lan1_r6, false);
}

static void flood_limited(bool v6)
{
        static const uint8_t mac_new[6] = {0x02, 0xf1, 0, 0, 0, 0x33};
        static const uint8_t new6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x33};
        const uint32_t new4 = FF_LAN1_ADDR + 0x33;
        const char *lim = v6 ? "nd_learn_limited" : "arp_learn_limited";
        const char *answers = v6 ? "nd_na_tx" : "arp_reply_tx";
        struct fnet n;
        uint64_t rng = v6 ? 0x6e65 : 0xa4c, t0, t1, made, allowed, before;
        struct mpnet_stack_usage u0, u;
        struct mpnet_neigh_info ni;
        const uint32_t frames = 8192;

        fnet_init(&n, true);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        fnet_peers_resolved(&n);
        u0 = fnet_usage(&n, 1);
        t0 = mpnet_clock_now(&n.clk);
        for (uint32_t i = 0; i < frames; i++) {
                size_t len = flood_one(&n, v6, &rng);

                fnet_send(&n, n.x1, n.f, len);
                if (i % 256 == 255)
                        fnet_run(&n, MPNET_NS_PER_MS);
                if (i == frames / 2) {
                        /* The bucket is empty: a known sender (H1) is still
                         * answered, exactly once for its one question. */
                        fnet_run(&n, MPNET_NS_PER_MS);
                        before = fnet_ctr(&n, answers);
                        len = ask_router(&n, v6, FF_H1_ADDR, ff_h1_6, ff_h1_mac);
                        fnet_send(&n, n.x1, n.f, len);
                        mpnet_stack_poll(n.st, mpnet_clock_now(&n.clk));
                        assert_int_equal(fnet_ctr(&n, answers), before + 1);
                        assert_int_equal(fnet_legit(&n, 16, false), 64);
                }
        }
        fnet_run(&n, MPNET_NS_PER_MS);
        t1 = mpnet_clock_now(&n.clk);
        u = fnet_usage(&n, 1);
        made = (v6 ? u.neigh6 - u0.neigh6 : u.neigh4 - u0.neigh4);
        /* The default burst (100) and rate (1000/s) over the flood's time. */
        allowed = 100 + (t1 - t0) * 1000 / MPNET_NS_PER_S + 1;
        fprintf(stderr,
                "%s flood at the default limit: %llu entries made, %llu allowed, %llu "
                "limited of %u\n",
                v6 ? "ND" : "ARP", (unsigned long long)made, (unsigned long long)allowed,
                (unsigned long long)fnet_ctr(&n, lim), frames);
        assert_true(made > 0 && made <= allowed);
        assert_true(fnet_ctr(&n, lim) >= frames - allowed);
        assert_int_equal(fnet_ctr(&n, v6 ? "nd_evicted" : "arp_evicted"), 0);
        fnet_peers_resolved(&n);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        /* The router resolves H3 itself: H3's answers are never limited. */
        fnet_new_peer(&n, 4, false, false);
        /* The flood over, the bucket refilled: a new sender is learnt. */
        fnet_run(&n, MPNET_NS_PER_S);
        fnet_send(&n, n.x1, n.f, ask_router(&n, v6, new4, new6, mac_new));
        fnet_run(&n, MPNET_NS_PER_MS);
        if (v6)
                assert_int_equal(mpnet_neigh6_get(n.st, 1, new6, &ni), 0);
        else
                assert_int_equal(mpnet_neigh4_get(n.st, 1, new4, &ni), 0);
        assert_memory_equal(ni.mac, mac_new, 6);
        fnet_fini(&n);
}

/*
 * Solicitations from new senders to the router's solicited-node group,
 * back to back at one instant, with a learning burst of 8: exactly 8 are
 * answered and the rest are limited and counted, whether ip6-input drops
 * them (it only looks at the bucket; icmp6_input takes the token) or, with
 * a raw ICMPv6 socket open, local delivery does, after the socket saw them.
 */
static void nd_limit_at_input(bool raw_sock)
{
        struct fnet n;
        uint64_t na, lim, made;
        struct mpnet_stack_usage u0;
        uint8_t r[256];
        int fd = -1, seen = 0;

        fnet_init_learn(&n, true, 1, 8);
        u0 = fnet_usage(&n, 1);
        if (raw_sock) {
                fd = mpnet_socket(n.st, AF_INET6, SOCK_RAW, MPNET_IPPROTO_ICMPV6);
                assert_true(fd >= 0);
        }
        na = fnet_ctr(&n, "nd_na_tx");
        lim = fnet_ctr(&n, "nd_learn_limited");
        for (unsigned i = 0; i < 20; i++) {
                uint8_t a6[16], mac[6] = {0x02, 0xf1, 0, 0, 0x10, (uint8_t)i};

                memcpy(a6, ff_lan1_r6, 16);
                a6[14] = 0x10;
                a6[15] = (uint8_t)i;
                fnet_send(&n, n.x1, n.f, ask_router(&n, true, 0, a6, mac));
        }
        mpnet_stack_poll(n.st, mpnet_clock_now(&n.clk));
        assert_int_equal(fnet_ctr(&n, "nd_na_tx"), na + 8);
        assert_int_equal(fnet_ctr(&n, "nd_learn_limited"), lim + 12);
        made = fnet_usage(&n, 1).neigh6 - u0.neigh6;
        assert_int_equal(made, 8);
        if (raw_sock) {
                while (mpnet_recvfrom(n.st, fd, r, sizeof(r), MSG_DONTWAIT, NULL, NULL) > 0)
                        seen++;
                assert_int_equal(seen, 20);
                assert_int_equal(mpnet_close(n.st, fd), 0);
        }
        fnet_fini(&n);
}

static void test_nd_limit_at_input(void **state)
{
        (void)state;
        nd_limit_at_input(false);
}

static void test_nd_limit_raw_socket(void **state)
{
        (void)state;
        nd_limit_at_input(true);
}

/*
 * ip6-input drops a solicitation for the router's address from a new
 * sender, once the learning limit's bucket is empty, without searching
 * the joined groups when it goes to the target's solicited-node group
 * (ff02::1:ff00:0/104 and the target's last 24 bits, RFC 4291 2.7.1),
 * which is joined while the address is ours. A group that only shares
 * that group's MAC (the same last 32 bits, ff05::1:ffXX:XXXX) is not
 * joined: the solicitation goes on to local delivery, which drops it as
 * such, not as limited.
 */
static void test_nd_snm_shortcut(void **state)
{
        uint8_t snm[16], dmac[6], a6[16], mac[6] = {0x02, 0xf1, 0, 0, 0x20, 1};
        struct fnet n;
        uint64_t lim, nj, na;

        (void)state;
        fnet_init_learn(&n, true, 1, 1);
        mpnet_ip6_solicited_node(ff_lan1_r6, snm);
        mpnet_ip6_mc_mac(snm, dmac);
        memcpy(a6, ff_lan1_r6, 16);
        a6[14] = 0x20;
        a6[15] = 1;
        /* The bucket's one token goes to the first. */
        na = fnet_ctr(&n, "nd_na_tx");
        fnet_send(&n, n.x1, n.f, ask_router(&n, true, 0, a6, mac));
        mpnet_stack_poll(n.st, mpnet_clock_now(&n.clk));
        assert_int_equal(fnet_ctr(&n, "nd_na_tx"), na + 1);
        lim = fnet_ctr(&n, "nd_learn_limited");
        nj = fnet_ctr(&n, "ip6_mc_not_joined");
        a6[15] = mac[5] = 2;
        fnet_send(&n, n.x1, n.f, ask_router(&n, true, 0, a6, mac));
        mpnet_stack_poll(n.st, mpnet_clock_now(&n.clk));
        assert_int_equal(fnet_ctr(&n, "nd_learn_limited"), lim + 1);
        assert_int_equal(fnet_ctr(&n, "ip6_mc_not_joined"), nj);
        snm[1] = 0x05;
        a6[15] = mac[5] = 3;
        fnet_send(&n, n.x1, n.f,
                  ff_nd(n.f, dmac, mac, a6, snm, MPNET_ICMP6_ND_NS, ff_lan1_r6, false));
        mpnet_stack_poll(n.st, mpnet_clock_now(&n.clk));
        assert_int_equal(fnet_ctr(&n, "nd_learn_limited"), lim + 1);
        assert_int_equal(fnet_ctr(&n, "ip6_mc_not_joined"), nj + 1);
        assert_int_equal(fnet_ctr(&n, "nd_na_tx"), na + 1);
        fnet_fini(&n);
}

/* A neighbour discovery message from off the link (hop limit not 255) is
 * dropped for it before its checksum is verified: one with a hop limit
 * of 64 and a wrong checksum counts nd_bad_hlim, not icmp6_bad_csum. */
static void test_nd_hlim_before_csum(void **state)
{
        static const uint8_t mac[6] = {0x02, 0xf1, 0, 0, 0x21, 1};
        uint8_t a6[16];
        struct fnet n;
        uint64_t hl, cs;
        size_t len;

        (void)state;
        fnet_init(&n, true);
        memcpy(a6, ff_lan1_r6, 16);
        a6[14] = 0x21;
        a6[15] = 1;
        hl = fnet_ctr(&n, "nd_bad_hlim");
        cs = fnet_ctr(&n, "icmp6_bad_csum");
        len = ff_nd(n.f, n.r1->info.mac, mac, a6, ff_lan1_r6, MPNET_ICMP6_ND_NA, a6, false);
        n.f[MPNET_ETH_HLEN + 7] = 64;
        n.f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + 2] ^= 0x5a;
        fnet_send(&n, n.x1, n.f, len);
        mpnet_stack_poll(n.st, mpnet_clock_now(&n.clk));
        assert_int_equal(fnet_ctr(&n, "nd_bad_hlim"), hl + 1);
        assert_int_equal(fnet_ctr(&n, "icmp6_bad_csum"), cs);
        fnet_fini(&n);
}

static void test_arp_flood_limited(void **state)
{
        (void)state;
        flood_limited(false);
}

static void test_nd_flood_limited(void **state)
{
        (void)state;
        flood_limited(true);
}

static void test_arp_flood(void **state)
{
        (void)state;
        flood(false);
}

static void test_nd_flood(void **state)
{
        (void)state;
        flood(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_arp_flood),         cmocka_unit_test(test_nd_flood),
            cmocka_unit_test(test_arp_flood_limited), cmocka_unit_test(test_nd_flood_limited),
            cmocka_unit_test(test_nd_limit_at_input), cmocka_unit_test(test_nd_limit_raw_socket),
            cmocka_unit_test(test_nd_snm_shortcut),   cmocka_unit_test(test_nd_hlim_before_csum),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
