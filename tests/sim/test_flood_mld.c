/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MLD report floods (issue 18): MLDv2 reports (RFC 3810 5.2) from random
 * link-local sources and MACs, each of one to eight random groups, to a
 * router and to a host. mpnet is an MLD host only: a report from another
 * listener changes nothing (RFC 3810 has no report suppression in v2).
 * Asserted: those sent to ff02::16, a group mpnet never joins, stop at
 * the MAC filter (counted); those sent to all-nodes are counted received
 * and none bad; no group is joined or left, no report is sent in
 * reaction, nothing is learnt, and legitimate traffic through the router
 * all arrives.
 */
#include "floodnet.h"

#define REPORTS 20000

static const uint8_t ip6_all_nodes6[16] = {0xff, 2, [15] = 1};

static void flood(struct fnet *n, uint64_t *rng)
{
        for (unsigned i = 0; i < REPORTS; i++) {
                uint8_t g[8][16], mac[6], src[16];
                static const uint8_t ll[8] = {0xfe, 0x80};
                unsigned k = 1 + (unsigned)(ff_rand(rng) % 8);
                size_t len;

                for (unsigned j = 0; j < k; j++) {
                        uint64_t r = ff_rand(rng);

                        memset(g[j], 0, 16);
                        g[j][0] = 0xff;
                        g[j][1] = 0x0e; /* global scope */
                        memcpy(g[j] + 8, &r, 8);
                }
                ff_rand_mac(rng, mac);
                ff_rand_iid(rng, ll, src);
                /* Half to ff02::16 (no group of ours: dropped by the MAC
                 * filter), half to all-nodes (reaching MLD input). */
                len = ff_mld_report(n->f, mac, src, i % 2 ? ip6_all_nodes6 : NULL,
                                    (const uint8_t(*)[16])g, k);
                fnet_send(n, n->x1, n->f, len);
                if (i % 256 == 255)
                        fnet_run(n, MPNET_NS_PER_MS);
        }
        fnet_run(n, 2 * MPNET_NS_PER_S);
}

static void mld_flood(bool router)
{
        struct fnet n;
        uint64_t rng = router ? 0x41d : 0x41e, rx0, tx0, nfu0;
        struct mpnet_stack_usage u0, u;

        fnet_init(&n, router);
        if (router)
                assert_int_equal(fnet_legit(&n, 8, false), 32);
        u0 = fnet_usage(&n, 0);
        rx0 = fnet_ctr(&n, "mld_rx");
        tx0 = fnet_ctr(&n, "mld_report_tx");
        nfu0 = fnet_ctr(&n, "eth_not_for_us");
        flood(&n, &rng);
        u = fnet_usage(&n, 0);
        assert_int_equal(fnet_ctr(&n, "mld_rx") - rx0, REPORTS / 2);
        assert_true(fnet_ctr(&n, "eth_not_for_us") - nfu0 >= REPORTS / 2);
        assert_int_equal(fnet_ctr(&n, "mld_bad"), 0);
        assert_int_equal(fnet_ctr(&n, "mld_report_tx"), tx0);
        assert_int_equal(u.mc6, u0.mc6);
        assert_int_equal(u.neigh6, u0.neigh6);
        assert_int_equal(u.addr6, u0.addr6);
        if (router) {
                assert_int_equal(fnet_legit(&n, 16, false), 64);
                fnet_peers_resolved(&n);
        }
        fnet_fini(&n);
}

static void test_mld_flood_router(void **state)
{
        (void)state;
        mld_flood(true);
}

static void test_mld_flood_host(void **state)
{
        (void)state;
        mld_flood(false);
}

/*
 * ip6-input knows the hop-by-hop header of MLD (a router alert and a PadN
 * to 8 bytes) without walking its options; any other header is walked
 * (RFC 8200 4.2). A report whose header starts with the router alert but
 * puts an unknown option of action 10 (discard, and a parameter problem
 * even to a group) where the PadN goes is discarded and answered, not
 * taken as MLD's.
 */
static void test_mld_hbh_unknown_option(void **state)
{
        static const uint8_t ll[16] = {0xfe, 0x80, [15] = 0x42};
        static const uint8_t mac[6] = {0x02, 0xf1, 0, 0, 0x42, 1};
        uint8_t g[1][16] = {{0xff, 0x0e, [15] = 0x42}};
        struct fnet n;
        uint64_t rx0, unk0, err0;
        size_t len;

        (void)state;
        fnet_init(&n, true);
        rx0 = fnet_ctr(&n, "mld_rx");
        unk0 = fnet_ctr(&n, "ip6_opt_unknown");
        err0 = fnet_ctr(&n, "icmp6_err_tx");
        /* As MLD sends it: taken (and ignored) as a report. */
        len = ff_mld_report(n.f, mac, ll, ip6_all_nodes6, (const uint8_t(*)[16])g, 1);
        fnet_send(&n, n.x1, n.f, len);
        fnet_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(fnet_ctr(&n, "mld_rx"), rx0 + 1);
        assert_int_equal(fnet_ctr(&n, "ip6_opt_unknown"), unk0);
        /* The PadN (bytes 6, 7 of the header) turned into option 0x9e,
         * length 0: 10 in its top bits. */
        len = ff_mld_report(n.f, mac, ll, ip6_all_nodes6, (const uint8_t(*)[16])g, 1);
        n.f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + 6] = 0x9e;
        fnet_send(&n, n.x1, n.f, len);
        fnet_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(fnet_ctr(&n, "mld_rx"), rx0 + 1);
        assert_int_equal(fnet_ctr(&n, "ip6_opt_unknown"), unk0 + 1);
        assert_int_equal(fnet_ctr(&n, "icmp6_err_tx"), err0 + 1);
        fnet_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mld_flood_router),
            cmocka_unit_test(test_mld_flood_host),
            cmocka_unit_test(test_mld_hbh_unknown_option),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
