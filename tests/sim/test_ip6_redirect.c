/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ND redirects (RFC 4861 section 8): a host and two routers on one link (a
 * hub the test runs), a host B behind the second router:
 *
 *   H --+
 *       |  hub (2001:db8:1::/64)      R1 advertises; its route to
 *   R1 -+                             2001:db8:2::/64 is R2 (link-local)
 *       |
 *   R2 -+ r2 ---- B (2001:db8:2::/64, advertised by R2)
 *
 * H's traffic to B goes through R1 and back out the hub to R2, so R1
 * redirects H to R2 and H then sends to R2 directly. Forged redirects are
 * dropped and counted by reason; a router ignores redirects.
 */
#include "ip6util.h"

enum { H, R1, R2, B, NSTACK };

#define HUB_PORTS 3 /* H, R1, R2 */

struct net {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *port[HUB_PORTS]; /* the stacks' ends on the hub */
        struct mpnet_link *hub[HUB_PORTS];  /* the hub's ends */
        struct mpnet_link *rb[2];           /* R2 - B */
        struct mpnet_stack *st[NSTACK];
        uint64_t to_mac[HUB_PORTS]; /* H's echo requests to each port's MAC */
        uint8_t h[16], b[16];       /* SLAAC addresses */
        uint8_t ll[HUB_PORTS][16];  /* link-local addresses on the hub */
};

static bool is_echo_request(const struct mpnet_pkt *p)
{
        const uint8_t *f = p->data;

        return p->len >= MPNET_ETH_HLEN + MPNET_IP6_HLEN + 8 && f[12] == 0x86 && f[13] == 0xdd &&
               f[MPNET_ETH_HLEN + 6] == MPNET_IPPROTO_ICMPV6 &&
               f[MPNET_ETH_HLEN + MPNET_IP6_HLEN] == MPNET_ICMP6_ECHO_REQUEST;
}

/* Every frame a port sends goes to the other ports. @return frames moved. */
static unsigned hub_step(struct net *n)
{
        struct mpnet_pkt *v[64];
        unsigned moved = 0, k;

        for (int i = 0; i < HUB_PORTS; i++) {
                while ((k = mpnet_link_rx_burst(n->hub[i], 0, v, 64)) > 0) {
                        for (unsigned x = 0; x < k; x++) {
                                for (int j = 0; j < HUB_PORTS; j++) {
                                        struct mpnet_pkt *c;

                                        if (i == H && is_echo_request(v[x]) &&
                                            memcmp(v[x]->data, n->port[j]->info.mac, 6) == 0)
                                                n->to_mac[j]++;
                                        if (j == i)
                                                continue;
                                        c = mpnet_pkt_from_bytes(n->pool, v[x]->data, v[x]->len);
                                        assert_non_null(c);
                                        if (mpnet_link_tx_burst(n->hub[j], 0, &c, 1) != 1)
                                                mpnet_pkt_free(c);
                                }
                        }
                        mpnet_pkt_free_bulk(v, k);
                        moved += k;
                }
        }
        return moved;
}

static uint64_t frames(struct net *n)
{
        uint64_t f = 0;

        for (int i = 0; i < NSTACK; i++)
                f += stk_ctr(n->st[i], "rx_frames") + stk_ctr(n->st[i], "tx_frames");
        return f;
}

/* sim_run_until() with the hub between polls. */
static void run(struct net *n, uint64_t ns)
{
        uint64_t end = mpnet_clock_now(&n->clk) + ns;

        for (;;) {
                uint64_t now = mpnet_clock_now(&n->clk), next, before;
                unsigned moved;

                do {
                        before = frames(n);
                        next = MPNET_TIME_NEVER;
                        for (int i = 0; i < NSTACK; i++) {
                                uint64_t t = mpnet_stack_poll(n->st[i], now);

                                if (t < next)
                                        next = t;
                        }
                        moved = hub_step(n);
                } while (moved != 0 || frames(n) != before || next <= now);
                if (now >= end)
                        return;
                mpnet_clock_set(&n->clk, next < end ? next : end);
        }
}

static void ra_on(struct mpnet_stack *s, int ifindex, const char *prefix)
{
        struct mpnet_ra_cfg c = {.max_interval_ms = 30000, .n_prefix = 1};

        memcpy(c.prefix[0].prefix, A6(prefix), 16);
        c.prefix[0].plen = 64;
        c.prefix[0].onlink = c.prefix[0].autonomous = true;
        assert_int_equal(mpnet_iface_ra_set(s, ifindex, &c), 0);
}

static void net_init(struct net *n)
{
        static const char *names[HUB_PORTS] = {"hub-h", "hub-r1", "hub-r2"};
        struct mpnet_memwire_cfg rb = {.name = "rd-rb"};
        struct mpnet_route6 rt = {.plen = 64, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("rd", 8192);
        assert_non_null(n->pool);
        for (int i = 0; i < HUB_PORTS; i++) {
                struct mpnet_memwire_cfg w = {.name = names[i]};

                assert_int_equal(mpnet_memwire_create(&w, &n->port[i], &n->hub[i]), 0);
                ll_of(n->port[i]->info.mac, n->ll[i]);
        }
        assert_int_equal(mpnet_memwire_create(&rb, &n->rb[0], &n->rb[1]), 0);
        n->st[H] = stack6_new(&n->clk, n->pool, "H", 31, false);
        n->st[R1] = stack6_new(&n->clk, n->pool, "R1", 32, true);
        n->st[R2] = stack6_new(&n->clk, n->pool, "R2", 33, true);
        n->st[B] = stack6_new(&n->clk, n->pool, "B", 34, false);
        for (int i = 0; i < HUB_PORTS; i++)
                assert_int_equal(mpnet_iface_attach(n->st[i], n->port[i], names[i]), 1);
        assert_int_equal(mpnet_iface_attach(n->st[R2], n->rb[0], "r2b"), 2);
        assert_int_equal(mpnet_iface_attach(n->st[B], n->rb[1], "b0"), 1);
        assert_int_equal(mpnet_addr6_add(n->st[R1], 1, A6("2001:db8:1::1"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(n->st[R2], 1, A6("2001:db8:1::2"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(n->st[R2], 2, A6("2001:db8:2::1"), 64, 0), 0);
        ra_on(n->st[R1], 1, "2001:db8:1::");
        ra_on(n->st[R2], 2, "2001:db8:2::");
        memcpy(rt.dst, A6("2001:db8:2::"), 16);
        rt.paths[0].ifindex = 1;
        memcpy(rt.paths[0].gw, n->ll[R2], 16);
        assert_int_equal(mpnet_route6_add(n->st[R1], 0, &rt), 0);
        ll_of(n->port[H]->info.mac, n->h);
        memcpy(n->h, A6("2001:db8:1::"), 8);
        ll_of(n->rb[1]->info.mac, n->b);
        memcpy(n->b, A6("2001:db8:2::"), 8);
        run(n, 10 * MPNET_NS_PER_S);
        assert_int_equal(addr6_flags(n->st[H], 1, n->h), MPNET_ADDR6_F_AUTOCONF);
        assert_int_equal(addr6_flags(n->st[B], 1, n->b), MPNET_ADDR6_F_AUTOCONF);
}

static void net_fini(struct net *n)
{
        for (int i = 0; i < NSTACK; i++)
                mpnet_stack_destroy(n->st[i]);
        for (int i = 0; i < HUB_PORTS; i++) {
                link_drain(n->hub[i]);
                mpnet_link_destroy(n->port[i]);
                mpnet_link_destroy(n->hub[i]);
        }
        mpnet_link_destroy(n->rb[0]);
        mpnet_link_destroy(n->rb[1]);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

static uint64_t ctr(struct net *n, int i, const char *c)
{
        return stk_ctr(n->st[i], c);
}

static unsigned ping(struct net *n, int from, const uint8_t *dst, uint16_t seq,
                     struct mpnet_ping6_reply *r)
{
        struct mpnet_ping6_req req = {.id = 0x7264, .seq = seq, .payload_len = 56};

        memcpy(req.dst, dst, 16);
        assert_int_equal(mpnet_ping6_send(n->st[from], &req, mpnet_clock_now(&n->clk)), 0);
        run(n, 2 * MPNET_NS_PER_S);
        return mpnet_ping6_recv(n->st[from], r, 4);
}

/* The route H uses toward dst: its length and first hop. */
static uint8_t route_of(struct net *n, int st, const uint8_t *dst, uint8_t *gw)
{
        struct mpnet_route6 rt;

        assert_int_equal(mpnet_route6_lookup(n->st[st], 0, dst, &rt), 0);
        memcpy(gw, rt.paths[0].gw, 16);
        return rt.plen;
}

static void test_redirect_to_better_router(void **state)
{
        struct mpnet_ping6_reply r[4];
        struct mpnet_route6 rt;
        uint8_t gw[16];
        struct net n;

        (void)state;
        net_init(&n);
        /* H's first hop is R1, the only advertising router. */
        assert_int_equal(route_of(&n, H, n.b, gw), 0);
        assert_memory_equal(gw, n.ll[R1], 16);
        /* The first ping goes H -> R1 -> R2 -> B; R1 sent it back out the
         * hub, so it redirects H to R2 (RFC 4861 8.2). */
        assert_int_equal(ping(&n, H, n.b, 1, r), 1);
        assert_int_equal(r[0].type, MPNET_ICMP6_ECHO_REPLY);
        assert_int_equal(ctr(&n, R1, "ip6_forwarded"), 1);
        assert_int_equal(ctr(&n, R1, "nd_redirect_tx"), 1);
        assert_int_equal(ctr(&n, H, "nd_redirect_rx"), 1);
        assert_int_equal(n.to_mac[R1], 1);
        /* A /128 for B through R2 (8.3). */
        assert_int_equal(route_of(&n, H, n.b, gw), 128);
        assert_memory_equal(gw, n.ll[R2], 16);
        /* Now H sends to R2 directly: R1 sees none of it. */
        for (uint16_t seq = 2; seq <= 4; seq++)
                assert_int_equal(ping(&n, H, n.b, seq, r), 1);
        assert_int_equal(ctr(&n, R1, "ip6_forwarded"), 1);
        assert_int_equal(n.to_mac[R1], 1);
        assert_true(n.to_mac[R2] >= 3);
        assert_int_equal(ctr(&n, R1, "nd_redirect_tx"), 1);
        /* Other destinations still go by R1. */
        assert_int_equal(route_of(&n, H, A6("2001:db8:3::1"), gw), 0);
        /* The redirect entry expires (10 minutes) and takes its route. */
        run(&n, 601 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_route6_get(n.st[H], 0, n.b, 128, &rt), -ENOENT);
        net_fini(&n);
}

/* A router's per-interface switch stops redirects; turning forwarding on
 * drops what a host learnt. */
static void test_redirect_switches(void **state)
{
        struct mpnet_ping6_reply r[4];
        struct mpnet_route6 rt;
        struct net n;

        (void)state;
        net_init(&n);
        assert_int_equal(mpnet_iface_ip6_redirects(n.st[R1], 1, true, false), 0);
        assert_int_equal(mpnet_iface_ip6_redirects(n.st[R1], 9, true, false), -ENODEV);
        assert_int_equal(ping(&n, H, n.b, 1, r), 1);
        assert_int_equal(ping(&n, H, n.b, 2, r), 1);
        assert_int_equal(ctr(&n, R1, "nd_redirect_tx"), 0);
        assert_int_equal(ctr(&n, R1, "ip6_forwarded"), 2);
        assert_int_equal(mpnet_iface_ip6_redirects(n.st[R1], 1, true, true), 0);
        assert_int_equal(ping(&n, H, n.b, 3, r), 1);
        assert_int_equal(ctr(&n, R1, "nd_redirect_tx"), 1);
        assert_int_equal(mpnet_route6_get(n.st[H], 0, n.b, 128, &rt), 0);
        /* H becomes a router: the redirect no longer steers it. */
        mpnet_stack_set_forwarding6(n.st[H], true);
        assert_int_equal(mpnet_route6_get(n.st[H], 0, n.b, 128, &rt), -ENOENT);
        net_fini(&n);
}

/* A redirect message: target, destination, then optional TLLA. */
static size_t redirect_msg(uint8_t *m, const uint8_t *target, const uint8_t *dst,
                           const uint8_t *tlla)
{
        struct mpnet_nd_repr r = {.type = MPNET_ICMP6_ND_REDIRECT};
        struct mpnet_nd_opts o = {.tlla = tlla};
        static const uint8_t any[16];
        size_t len;

        memcpy(r.target, target, 16);
        memcpy(r.dst, dst, 16);
        len = mpnet_nd_repr_len(&r, &o);
        mpnet_nd_repr_emit(&r, &o, any, any, m);
        return len;
}

/* Put a redirect on the hub toward port `to` as if from `from`. */
static void inject(struct net *n, int to, const uint8_t *src, uint8_t hlim, const uint8_t *msg,
                   size_t len)
{
        uint8_t f[256];
        size_t fl = frame6_icmp(f, n->port[to]->info.mac, n->port[R1]->info.mac, src, n->ll[to],
                                hlim, msg, len);

        link_send(n->pool, n->hub[to], f, fl);
        run(n, MPNET_NS_PER_S / 10);
}

static void test_forged_redirects(void **state)
{
        static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x77};
        const uint8_t *dst = A6("2001:db8:5::1");
        uint8_t m[128], gw[16];
        struct net n;
        size_t len;

        (void)state;
        net_init(&n);
        len = redirect_msg(m, n.ll[R2], dst, mac);
        /* Not from the first hop H uses for dst (R2, not R1). */
        inject(&n, H, n.ll[R2], 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_redirect_not_first_hop"), 1);
        /* Hop limit 254: it may come from off link (8.1). */
        inject(&n, H, n.ll[R1], 254, m, len);
        assert_int_equal(ctr(&n, H, "nd_bad_hlim"), 1);
        /* A global source, though R1's. */
        inject(&n, H, A6("2001:db8:1::1"), 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_redirect_bad_src"), 1);
        /* A target neither link-local nor the destination. */
        len = redirect_msg(m, A6("2001:db8:1::2"), dst, mac);
        inject(&n, H, n.ll[R1], 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_redirect_bad_target"), 1);
        /* A multicast destination. */
        len = redirect_msg(m, n.ll[R2], A6("ff0e::1"), mac);
        inject(&n, H, n.ll[R1], 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_redirect_bad_dst"), 1);
        /* An option that runs past the end (4.6: the message is dropped). */
        len = redirect_msg(m, n.ll[R2], dst, mac);
        m[41] = 2;
        inject(&n, H, n.ll[R1], 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_bad_opt"), 1);
        /* A code other than 0. */
        m[41] = 1;
        m[1] = 1;
        inject(&n, H, n.ll[R1], 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_invalid"), 1);
        /* Shorter than the fixed part (40 bytes). */
        inject(&n, H, n.ll[R1], 255, m, 32);
        assert_int_equal(ctr(&n, H, "nd_invalid"), 2);
        assert_int_equal(route_of(&n, H, dst, gw), 0);
        assert_int_equal(ctr(&n, H, "nd_redirect_rx"), 7);

        /* The same from R1, well formed: taken, the TLLA making a STALE
         * neighbour entry for the target, a router (8.3). */
        m[1] = 0;
        inject(&n, H, n.ll[R1], 255, m, len);
        assert_int_equal(route_of(&n, H, dst, gw), 128);
        assert_memory_equal(gw, n.ll[R2], 16);
        {
                struct mpnet_neigh_info ni;

                assert_int_equal(mpnet_neigh6_get(n.st[H], 1, n.ll[R2], &ni), 0);
                assert_memory_equal(ni.mac, mac, 6);
                assert_int_equal(ni.state, MPNET_NEIGH_STALE);
                assert_true(ni.router);
        }
        /* A redirect to the destination itself: on link. */
        len = redirect_msg(m, A6("2001:db8:6::1"), A6("2001:db8:6::1"), NULL);
        inject(&n, H, n.ll[R1], 255, m, len);
        {
                struct mpnet_route6 rt;

                assert_int_equal(mpnet_route6_lookup(n.st[H], 0, A6("2001:db8:6::1"), &rt), 0);
                assert_int_equal(rt.plen, 128);
                assert_int_equal(rt.type, MPNET_NH_CONNECTED);
        }
        /* Now R2 is H's first hop for dst: R1 can no longer redirect it. */
        len = redirect_msg(m, n.ll[R1], dst, NULL);
        inject(&n, H, n.ll[R1], 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_redirect_not_first_hop"), 2);
        net_fini(&n);
}

/* A router takes no redirects (RFC 4861 8.2), valid or not. */
static void test_router_ignores_redirects(void **state)
{
        uint8_t m[128], gw[16];
        struct mpnet_route6 rt;
        struct net n;
        size_t len;

        (void)state;
        net_init(&n);
        /* R2's route toward 2001:db8:7::/64 is via R1. */
        rt = (struct mpnet_route6){.plen = 64, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        memcpy(rt.dst, A6("2001:db8:7::"), 16);
        rt.paths[0].ifindex = 1;
        memcpy(rt.paths[0].gw, n.ll[R1], 16);
        assert_int_equal(mpnet_route6_add(n.st[R2], 0, &rt), 0);
        len = redirect_msg(m, n.ll[H], A6("2001:db8:7::1"), NULL);
        inject(&n, R2, n.ll[R1], 255, m, len);
        assert_int_equal(ctr(&n, R2, "nd_redirect_rx"), 1);
        assert_int_equal(ctr(&n, R2, "nd_redirect_ignored"), 1);
        assert_int_equal(route_of(&n, R2, A6("2001:db8:7::1"), gw), 64);
        assert_memory_equal(gw, n.ll[R1], 16);
        /* The same to a host that does not accept redirects. */
        assert_int_equal(mpnet_iface_ip6_redirects(n.st[H], 1, false, true), 0);
        len = redirect_msg(m, n.ll[R2], A6("2001:db8:7::1"), NULL);
        inject(&n, H, n.ll[R1], 255, m, len);
        assert_int_equal(ctr(&n, H, "nd_redirect_ignored"), 1);
        assert_int_equal(route_of(&n, H, A6("2001:db8:7::1"), gw), 0);
        net_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_redirect_to_better_router),
            cmocka_unit_test(test_redirect_switches),
            cmocka_unit_test(test_forged_redirects),
            cmocka_unit_test(test_router_ignores_redirects),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
