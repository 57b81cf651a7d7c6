/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Router advertisement floods (issue 18): a host (forwarding off) that
 * took its address and default route from a real router is flooded with
 * advertisements from random link-local sources and MACs, each with one
 * to four random /64 prefixes, on-link and autonomous, at the longest
 * lifetimes. First with router lifetime 0 (prefixes only), then as
 * routers too. Asserted at every step: addresses, on-link prefixes,
 * default routers, multicast groups and neighbours within their caps
 * (mpnet_stack_usage_get), and the routes they make stop growing; the
 * real router's address and default route stay; the host keeps answering
 * H1's echo requests. A router ignores advertisements (RFC 4861 6.2.7):
 * checked too.
 */
#include "floodnet.h"
#include "mpnet/socket.h"

static const uint8_t r0_mac[6] = {0x02, 0x0e, 0, 0, 0, 1};
static const uint8_t r0_ll[16] = {0xfe, 0x80, [15] = 1};

/* The host's SLAAC address in 2001:db8:1::/64 (modified EUI-64 of its MAC). */
static void host_addr(struct fnet *n, uint8_t *a)
{
        ll_of(n->r1->info.mac, a);
        memcpy(a, ff_lan1_r6, 8);
}

/* An echo request from H1 to dst; the answer is counted as echo6_rx. */
static void echo_from_h1(struct fnet *n, const uint8_t *dst, uint16_t seq)
{
        uint8_t *m = n->f + MPNET_ETH_HLEN + MPNET_IP6_HLEN;
        size_t len;

        memset(m, 0, 16);
        m[0] = MPNET_ICMP6_ECHO_REQUEST;
        mpnet_put_be16(m + 4, 1);
        mpnet_put_be16(m + 6, seq);
        mpnet_put_be16(m + 2, mpnet_icmp6_csum(m, 16, ff_h1_6, dst));
        len = ff_icmp6(n->f, n->r1->info.mac, ff_h1_mac, ff_h1_6, dst, 64, 16);
        fnet_send(n, n->x1, n->f, len);
}

static unsigned echoes(struct fnet *n, const uint8_t *dst, unsigned k)
{
        uint64_t before = n->echo6_rx;

        for (unsigned i = 0; i < k; i++)
                echo_from_h1(n, dst, (uint16_t)i);
        fnet_run(n, MPNET_NS_PER_S);
        return (unsigned)(n->echo6_rx - before);
}

static void check_caps(struct fnet *n)
{
        struct mpnet_stack_usage u = fnet_usage(n, 1);

        assert_true(u.addr6 <= u.addr6_max);
        assert_true(u.onlink6 <= u.onlink6_max);
        assert_true(u.dr6 <= u.dr6_max);
        assert_true(u.mc6 <= u.mc6_max);
        assert_true(u.neigh6 <= u.neigh_max);
}

static void ra_flood(struct fnet *n, uint64_t *rng, unsigned count, uint16_t lifetime)
{
        for (unsigned i = 0; i < count; i++) {
                struct mpnet_nd_prefix pi[4];
                unsigned np = 1 + (unsigned)(ff_rand(rng) % 4);
                uint8_t mac[6], src[16];
                static const uint8_t ll[8] = {0xfe, 0x80};
                size_t len;

                for (unsigned k = 0; k < np; k++) {
                        uint64_t r = ff_rand(rng);

                        pi[k] = (struct mpnet_nd_prefix){.prefix_len = 64,
                                                         .onlink = true,
                                                         .autonomous = true,
                                                         .valid = UINT32_MAX,
                                                         .preferred = UINT32_MAX};
                        pi[k].prefix[0] = 0x20;
                        pi[k].prefix[1] = 0x01;
                        pi[k].prefix[2] = 0x0d;
                        pi[k].prefix[3] = 0xb8;
                        memcpy(pi[k].prefix + 4, &r, 4);
                }
                ff_rand_mac(rng, mac);
                ff_rand_iid(rng, ll, src);
                len = ff_ra(n->f, mac, src, pi, np, lifetime);
                fnet_send(n, n->x1, n->f, len);
                if (i % 64 == 63) {
                        fnet_run(n, 100 * MPNET_NS_PER_MS);
                        check_caps(n);
                }
        }
        /* Past DAD of whatever the flood configured. */
        fnet_run(n, 3 * MPNET_NS_PER_S);
        check_caps(n);
}

static void test_ra_flood_host(void **state)
{
        struct fnet n;
        struct mpnet_nd_prefix pi = {.prefix_len = 64,
                                     .onlink = true,
                                     .autonomous = true,
                                     .valid = 86400,
                                     .preferred = 14400};
        uint8_t mine[16];
        uint64_t rng = 0x4a;
        long routes1, routes2;
        struct mpnet_stack_usage u;

        (void)state;
        fnet_init(&n, false);
        memcpy(pi.prefix, ff_lan1_r6, 16);
        fnet_send(&n, n.x1, n.f, ff_ra(n.f, r0_mac, r0_ll, &pi, 1, 1800));
        fnet_run(&n, 5 * MPNET_NS_PER_S);
        host_addr(&n, mine);
        assert_int_equal(addr6_flags(n.st, 1, mine), MPNET_ADDR6_F_AUTOCONF);
        assert_int_equal(echoes(&n, mine, 8), 8);

        ra_flood(&n, &rng, 2000, 0);
        routes1 = mpnet_route6_count(n.st, 0);
        ra_flood(&n, &rng, 4000, 0);
        routes2 = mpnet_route6_count(n.st, 0);
        u = fnet_usage(&n, 1);
        fprintf(stderr,
                "RA flood (host): %u addresses of %u, %u on-link of %u, %u routers of %u, "
                "%u groups of %u, %ld routes (then %ld)\n",
                u.addr6, u.addr6_max, u.onlink6, u.onlink6_max, u.dr6, u.dr6_max, u.mc6, u.mc6_max,
                routes1, routes2);
        /* Full, and no further: 6000 advertisements, hundreds of prefixes. */
        assert_int_equal(u.addr6, u.addr6_max);
        assert_int_equal(u.onlink6, u.onlink6_max);
        assert_int_equal(routes1, routes2);
        /* Each address: its /128 and at most a connected prefix; each
         * on-link prefix a route; the default route. */
        assert_true(routes2 <= (long)(2 * u.addr6_max + u.onlink6_max + 1));
        /* The real router's address, route and service stay. */
        assert_int_equal(addr6_flags(n.st, 1, mine), MPNET_ADDR6_F_AUTOCONF);
        assert_int_equal(u.dr6, 1);
        assert_int_equal(echoes(&n, mine, 8), 8);

        /* Now as routers: the default router list fills, no further. */
        ra_flood(&n, &rng, 1000, 1800);
        u = fnet_usage(&n, 1);
        assert_int_equal(u.dr6, u.dr6_max);
        assert_int_equal(mpnet_route6_count(n.st, 0), routes2);
        assert_int_equal(addr6_flags(n.st, 1, mine), MPNET_ADDR6_F_AUTOCONF);
        assert_int_equal(echoes(&n, mine, 8), 8);
        fnet_fini(&n);
}

static void test_ra_flood_router(void **state)
{
        struct fnet n;
        uint64_t rng = 0x4b;
        struct mpnet_stack_usage u0, u;
        long routes = 0;
        uint64_t ra0;

        (void)state;
        fnet_init(&n, true);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        u0 = fnet_usage(&n, 1);
        routes = mpnet_route6_count(n.st, 0);
        ra0 = fnet_ctr(&n, "nd_ra_rx");
        ra_flood(&n, &rng, 2000, 1800);
        /* Counted as received, dropped unread (ip6-input: icmp6_early_drop). */
        assert_int_equal(fnet_ctr(&n, "nd_ra_rx") - ra0, 2000);
        u = fnet_usage(&n, 1);
        assert_int_equal(u.addr6, u0.addr6);
        assert_int_equal(u.onlink6, 0);
        assert_int_equal(u.dr6, 0);
        assert_int_equal(mpnet_route6_count(n.st, 0), routes);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_fini(&n);
}

/* A raw ICMPv6 socket on a router still sees the advertisements the
 * router ignores: with one open, they are not dropped at ip6-input but
 * after the socket's copy, and counted the same. */
static void test_ra_router_raw_socket(void **state)
{
        struct fnet n;
        uint64_t rng = 0x4c, ra0;
        uint8_t r[512];
        int fd, seen = 0;

        (void)state;
        fnet_init(&n, true);
        fd = mpnet_socket(n.st, AF_INET6, SOCK_RAW, MPNET_IPPROTO_ICMPV6);
        assert_true(fd >= 0);
        ra0 = fnet_ctr(&n, "nd_ra_rx");
        ra_flood(&n, &rng, 16, 1800);
        assert_int_equal(fnet_ctr(&n, "nd_ra_rx") - ra0, 16);
        while (mpnet_recvfrom(n.st, fd, r, sizeof(r), MSG_DONTWAIT, NULL, NULL) > 0)
                if (r[0] == MPNET_ICMP6_ND_RA)
                        seen++;
        assert_int_equal(seen, 16);
        assert_int_equal(fnet_usage(&n, 1).dr6, 0);
        assert_int_equal(mpnet_close(n.st, fd), 0);
        fnet_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ra_flood_host),
            cmocka_unit_test(test_ra_flood_router),
            cmocka_unit_test(test_ra_router_raw_socket),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
