/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Three stacks over memory wires: host A - router R - host B, IPv6 only.
 *
 *   A ---- r1 R r2 ---- B       r1 advertises 2001:db8:1::/64 (SLAAC, RDNSS),
 *   (MTU 1500)   (MTU 1280)     r2 2001:db8:2::/64 and MTU 1280
 *
 * The hosts configure themselves from R's advertisements (link-local with
 * DAD, router solicitation, SLAAC with DAD, default route) and ping each
 * other across R both ways; hop limit expiry gives time exceeded, a packet
 * too big for r2 gives packet too big with the MTU, which A's path MTU
 * takes; an 8000-byte ping6 is fragmented and reassembled both ways; no
 * route and reject routes give destination unreachable.
 */
#include "ip6util.h"

struct net3 {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *l[4];
        struct mpnet_stack *st[3];
        uint8_t a[16], b[16]; /* the hosts' SLAAC addresses */
};

enum { A, R, B };

static void ra_on(struct mpnet_stack *s, int ifindex, const char *prefix, uint32_t mtu)
{
        struct mpnet_ra_cfg c = {.max_interval_ms = 30000, .mtu = mtu, .n_prefix = 1};

        memcpy(c.prefix[0].prefix, A6(prefix), 16);
        c.prefix[0].plen = 64;
        c.prefix[0].onlink = c.prefix[0].autonomous = true;
        if (ifindex == 1) {
                c.n_rdnss = 1;
                memcpy(c.rdnss[0], A6("2001:db8:1::53"), 16);
        }
        assert_int_equal(mpnet_iface_ra_set(s, ifindex, &c), 0);
}

static void slaac_addr(const uint8_t *mac, const char *prefix, uint8_t *out)
{
        ll_of(mac, out);
        memcpy(out, A6(prefix), 8);
}

static void net3_run(struct net3 *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 3, mpnet_clock_now(&n->clk) + ns);
}

static void net3_init(struct net3 *n)
{
        struct mpnet_memwire_cfg w1 = {.name = "ar6"}, w2 = {.name = "rb6", .mtu = 1280};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("r6", 8192);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&w1, &n->l[0], &n->l[1]), 0);
        assert_int_equal(mpnet_memwire_create(&w2, &n->l[2], &n->l[3]), 0);
        n->st[A] = stack6_new(&n->clk, n->pool, "A", 21, false);
        n->st[R] = stack6_new(&n->clk, n->pool, "R", 22, true);
        n->st[B] = stack6_new(&n->clk, n->pool, "B", 23, false);
        assert_int_equal(mpnet_iface_attach(n->st[A], n->l[0], "a0"), 1);
        assert_int_equal(mpnet_iface_attach(n->st[R], n->l[1], "r1"), 1);
        assert_int_equal(mpnet_iface_attach(n->st[R], n->l[2], "r2"), 2);
        assert_int_equal(mpnet_iface_attach(n->st[B], n->l[3], "b0"), 1);
        assert_int_equal(mpnet_addr6_add(n->st[R], 1, A6("2001:db8:1::1"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(n->st[R], 2, A6("2001:db8:2::1"), 64, 0), 0);
        ra_on(n->st[R], 1, "2001:db8:1::", 0);
        ra_on(n->st[R], 2, "2001:db8:2::", 1280);
        slaac_addr(n->l[0]->info.mac, "2001:db8:1::", n->a);
        slaac_addr(n->l[3]->info.mac, "2001:db8:2::", n->b);
        net3_run(n, 10 * MPNET_NS_PER_S);
}

static void net3_fini(struct net3 *n)
{
        for (int i = 0; i < 3; i++)
                mpnet_stack_destroy(n->st[i]);
        for (int i = 0; i < 4; i++)
                mpnet_link_destroy(n->l[i]);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

static unsigned ping(struct net3 *n, int from, const uint8_t *dst, uint32_t len, uint8_t hlim,
                     uint16_t seq, struct mpnet_ping6_reply *r)
{
        struct mpnet_ping6_req req = {
            .id = 0x6d72, .seq = seq, .payload_len = len, .hop_limit = hlim};

        memcpy(req.dst, dst, 16);
        return ping6_one(&n->clk, n->st, 3, from, &req, r, 4, 2 * MPNET_NS_PER_S);
}

static uint64_t ctr(struct net3 *n, int i, const char *c)
{
        return stk_ctr(n->st[i], c);
}

static void test_slaac_and_ping_across(void **state)
{
        struct mpnet_ping6_reply r[4];
        struct mpnet_route6 rt;
        uint8_t dns[2][16], rll[16];
        struct net3 n;

        (void)state;
        net3_init(&n);
        /* SLAAC (RFC 4862 5.5.3) with DAD passed: usable, autoconfigured. */
        assert_int_equal(addr6_flags(n.st[A], 1, n.a), MPNET_ADDR6_F_AUTOCONF);
        assert_int_equal(addr6_flags(n.st[B], 1, n.b), MPNET_ADDR6_F_AUTOCONF);
        assert_true(ctr(&n, A, "nd_ra_rx") >= 1);
        assert_true(ctr(&n, R, "nd_ra_tx") >= 2);
        /* The default route via R's link-local address, the RDNSS. */
        ll_of(n.l[1]->info.mac, rll);
        assert_int_equal(mpnet_route6_lookup(n.st[A], 0, A6("2001:db8:99::1"), &rt), 0);
        assert_int_equal(rt.type, MPNET_NH_GATEWAY);
        assert_int_equal(rt.plen, 0);
        assert_memory_equal(rt.paths[0].gw, rll, 16);
        assert_int_equal(mpnet_ip6_rdnss_get(n.st[A], 1, dns, 2), 1);
        assert_memory_equal(dns[0], A6("2001:db8:1::53"), 16);
        assert_int_equal(mpnet_ip6_rdnss_get(n.st[B], 1, dns, 2), 0);
        {
                struct mpnet_neigh_info ni;

                assert_int_equal(mpnet_neigh6_get(n.st[A], 1, rll, &ni), 0);
                assert_true(ni.router);
        }
        /* Across R both ways: one hop used. */
        for (uint16_t seq = 1; seq <= 3; seq++) {
                assert_int_equal(ping(&n, A, n.b, 56, 0, seq, r), 1);
                assert_memory_equal(r[0].from, n.b, 16);
                assert_int_equal(r[0].type, MPNET_ICMP6_ECHO_REPLY);
                assert_int_equal(r[0].hop_limit, 63);
        }
        assert_int_equal(ping(&n, B, n.a, 56, 0, 9, r), 1);
        assert_memory_equal(r[0].from, n.a, 16);
        assert_int_equal(ctr(&n, R, "ip6_forwarded"), 8);
        /* B's 1400-byte ping reaches A in fragments; A's answer, rebuilt as
         * one frame, fits A's link but not R-B: R sends A packet too big
         * and the answer to the next ping comes in fragments. */
        assert_int_equal(ping(&n, B, n.a, 1400, 0, 10, r), 0);
        assert_int_equal(ctr(&n, R, "ip6_too_big"), 1);
        assert_int_equal(mpnet_pmtu6_get(n.st[A], n.b), 1280);
        assert_int_equal(ping(&n, B, n.a, 1400, 0, 11, r), 1);
        assert_int_equal(r[0].payload_len, 1400);
        net3_fini(&n);
}

static void test_errors_and_fragments(void **state)
{
        struct mpnet_ping6_reply r[4];
        struct net3 n;

        (void)state;
        net3_init(&n);
        /* Hop limit 1: R answers time exceeded (RFC 4443 3.3). */
        assert_int_equal(ping(&n, A, n.b, 56, 1, 1, r), 1);
        assert_int_equal(r[0].type, MPNET_ICMP6_TIME_EXCEEDED);
        assert_int_equal(r[0].code, 0);
        assert_int_equal(r[0].seq, 1);
        assert_memory_equal(r[0].from, A6("2001:db8:1::1"), 16);
        assert_int_equal(ctr(&n, R, "ip6_hlim_exceeded"), 1);

        /* 1400 bytes fit A's link, not R-B: packet too big with 1280. */
        assert_int_equal(mpnet_pmtu6_get(n.st[A], n.b), 0);
        assert_int_equal(ping(&n, A, n.b, 1400, 0, 2, r), 1);
        assert_int_equal(r[0].type, MPNET_ICMP6_PACKET_TOO_BIG);
        assert_int_equal(r[0].info, 1280);
        assert_int_equal(ctr(&n, R, "ip6_too_big"), 1);
        assert_int_equal(mpnet_pmtu6_get(n.st[A], n.b), 1280);
        /* Again: A fragments to the path MTU, B reassembles and answers in
         * fragments of its own link's MTU. */
        assert_int_equal(ping(&n, A, n.b, 1400, 0, 3, r), 1);
        assert_int_equal(r[0].type, MPNET_ICMP6_ECHO_REPLY);
        assert_int_equal(r[0].payload_len, 1400);
        /* 8000 bytes, both ways. */
        assert_int_equal(ping(&n, A, n.b, 8000, 0, 4, r), 1);
        assert_int_equal(r[0].type, MPNET_ICMP6_ECHO_REPLY);
        assert_int_equal(r[0].payload_len, 8000);
        assert_int_equal(ping(&n, B, n.a, 8000, 0, 5, r), 1);
        assert_int_equal(r[0].payload_len, 8000);
        assert_true(ctr(&n, A, "ip6_fragmented") >= 7 + 7);
        assert_int_equal(ctr(&n, B, "ip6_reassembled"), 3);
        assert_int_equal(ctr(&n, A, "ip6_reassembled"), 3);

        /* No route at R (RFC 4443 3.1 code 0), a reject route (code 6), a
         * prohibit route (code 1). */
        assert_int_equal(ping(&n, A, A6("2001:db8:99::1"), 56, 0, 6, r), 1);
        assert_int_equal(r[0].type, MPNET_ICMP6_DEST_UNREACH);
        assert_int_equal(r[0].code, 0);
        {
                struct mpnet_route6 rt = {.plen = 48, .type = MPNET_NH_UNREACHABLE};

                memcpy(rt.dst, A6("2001:db8:66::"), 16);
                assert_int_equal(mpnet_route6_add(n.st[R], 0, &rt), 0);
                rt.type = MPNET_NH_PROHIBIT;
                memcpy(rt.dst, A6("2001:db8:67::"), 16);
                assert_int_equal(mpnet_route6_add(n.st[R], 0, &rt), 0);
        }
        assert_int_equal(ping(&n, A, A6("2001:db8:66::1"), 56, 0, 7, r), 1);
        assert_int_equal(r[0].code, 6);
        assert_int_equal(ping(&n, A, A6("2001:db8:67::1"), 56, 0, 8, r), 1);
        assert_int_equal(r[0].code, 1);
        /* Nothing for a link-local destination crosses R. */
        assert_int_equal(stk_ctr(n.st[R], "ip6_scope"), 0);
        net3_fini(&n);
}

/* RFC 4862 5.5.3-5.5.4 lifetimes, RFC 4861 6.2.5: the router stops. */
static void test_ra_lifetimes(void **state)
{
        struct mpnet_ra_cfg c = {.max_interval_ms = 30000, .n_prefix = 1};
        struct mpnet_route6 rt;
        struct net3 n;
        uint8_t a2[16];

        (void)state;
        net3_init(&n);
        /* A second prefix with short lifetimes on r1. */
        memcpy(c.prefix[0].prefix, A6("2001:db8:3::"), 16);
        c.prefix[0].plen = 64;
        c.prefix[0].autonomous = c.prefix[0].onlink = true;
        c.prefix[0].valid_s = 40;
        c.prefix[0].preferred_s = 20;
        assert_int_equal(mpnet_iface_ra_set(n.st[R], 1, &c), 0);
        slaac_addr(n.l[0]->info.mac, "2001:db8:3::", a2);
        net3_run(&n, 5 * MPNET_NS_PER_S);
        assert_int_equal(addr6_flags(n.st[A], 1, a2), MPNET_ADDR6_F_AUTOCONF);
        /* The router stops: a last advertisement with lifetime 0 takes the
         * default route away at once. */
        assert_int_equal(mpnet_iface_ra_set(n.st[R], 1, NULL), 0);
        net3_run(&n, MPNET_NS_PER_S);
        assert_int_equal(mpnet_route6_lookup(n.st[A], 0, A6("2001:db8:99::1"), &rt), -ENOENT);
        /* Preferred lifetime over: deprecated; valid lifetime over: gone. */
        net3_run(&n, 20 * MPNET_NS_PER_S);
        assert_int_equal(addr6_flags(n.st[A], 1, a2),
                         MPNET_ADDR6_F_AUTOCONF | MPNET_ADDR6_F_DEPRECATED);
        assert_int_equal(mpnet_route6_get(n.st[A], 0, A6("2001:db8:3::"), 64, &rt), 0);
        net3_run(&n, 20 * MPNET_NS_PER_S);
        assert_int_equal(addr6_flags(n.st[A], 1, a2), UINT32_MAX);
        /* The on-link prefix went with its valid lifetime (RFC 4861 6.3.4). */
        assert_int_equal(mpnet_route6_get(n.st[A], 0, A6("2001:db8:3::"), 64, &rt), -ENOENT);
        assert_int_equal(mpnet_route6_get(n.st[A], 0, A6("2001:db8:1::"), 64, &rt), 0);
        /* The first prefix (30-day lifetime) stays. */
        assert_int_equal(addr6_flags(n.st[A], 1, n.a), MPNET_ADDR6_F_AUTOCONF);
        net3_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_slaac_and_ping_across),
            cmocka_unit_test(test_errors_and_fragments),
            cmocka_unit_test(test_ra_lifetimes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
