/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Three stacks over memory wires: host A - router R - host B.
 *
 *   A 192.0.2.1/24 ---- 192.0.2.254/24 R 198.51.100.254/24 ---- 198.51.100.1/24 B
 *                        (MTU 1500)          (MTU 1280 on the R-B wire)
 *
 * A and B route by default via R. Pings cross both ways; TTL expiry, DF with
 * an oversized packet, missing and special routes give the ICMP errors of RFC
 * 792/1812; routes change under traffic; tables (VRFs) keep their own routes.
 */
#include "mpnet/route.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"
#include "testutil.h"

#define A_IP  IP4(192, 0, 2, 1)
#define R1_IP IP4(192, 0, 2, 254)
#define R2_IP IP4(198, 51, 100, 254)
#define B_IP  IP4(198, 51, 100, 1)
#define B_IP2 IP4(198, 51, 100, 2)
#define B_NET IP4(203, 0, 113, 0) /* extra addresses of B, routed by R */

struct net3 {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *l[4];   /* A, R1, R2, B */
        struct mpnet_stack *st[3]; /* A, R, B */
};

enum { A, R, B };

static void add_default(struct mpnet_stack *s, uint32_t gw)
{
        struct mpnet_route4 r = {.type = MPNET_NH_GATEWAY, .n_paths = 1};

        r.paths[0].ifindex = 1;
        r.paths[0].gw = gw;
        assert_int_equal(mpnet_route4_add(s, 0, &r), 0);
}

/* A - R on a wire of MTU mtu_ar (0: 1500), R - B at 1280. */
static void net3_init_mtu(struct net3 *n, const char *cap, uint32_t mtu_ar)
{
        struct mpnet_memwire_cfg w1 = {.name = "ar", .mtu = mtu_ar},
                                 w2 = {.name = "rb", .mtu = 1280};
        struct mpnet_stack_cfg sc = {0};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("r3", 8192);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&w1, &n->l[0], &n->l[1]), 0);
        assert_int_equal(mpnet_memwire_create(&w2, &n->l[2], &n->l[3]), 0);
        if (cap != NULL) {
                n->l[1] = mpnet_capture_create(n->l[1], cap, MPNET_CAPTURE_PCAPNG, &n->clk);
                assert_non_null(n->l[1]);
        }
        sc.clock = &n->clk;
        sc.pool = n->pool;
        for (int i = 0; i < 3; i++) {
                sc.name = i == A ? "A" : i == R ? "R" : "B";
                sc.seed = (uint64_t)i + 11;
                sc.ip4_forwarding = i == R;
                n->st[i] = mpnet_stack_create(&sc);
                assert_non_null(n->st[i]);
        }
        assert_int_equal(mpnet_iface_attach(n->st[A], n->l[0], "a0"), 1);
        assert_int_equal(mpnet_iface_attach(n->st[R], n->l[1], "r1"), 1);
        assert_int_equal(mpnet_iface_attach(n->st[R], n->l[2], "r2"), 2);
        assert_int_equal(mpnet_iface_attach(n->st[B], n->l[3], "b0"), 1);
        assert_int_equal(mpnet_addr4_add(n->st[A], 1, A_IP, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[R], 1, R1_IP, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[R], 2, R2_IP, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[B], 1, B_IP, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[B], 1, B_IP2, 24), 0);
        for (unsigned i = 1; i <= 10; i++)
                assert_int_equal(mpnet_addr4_add(n->st[B], 1, B_NET + i, 32), 0);
        add_default(n->st[A], R1_IP);
        add_default(n->st[B], R2_IP);
        {
                /* R reaches B's extra addresses via B. */
                struct mpnet_route4 r = {
                    .dst = B_NET, .plen = 24, .type = MPNET_NH_GATEWAY, .n_paths = 1};

                r.paths[0].ifindex = 2;
                r.paths[0].gw = B_IP;
                assert_int_equal(mpnet_route4_add(n->st[R], 0, &r), 0);
        }
}

static void net3_init(struct net3 *n, const char *cap)
{
        net3_init_mtu(n, cap, 0);
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

static void net3_run(struct net3 *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 3, mpnet_clock_now(&n->clk) + ns);
}

/* Send one request and collect what came back within 3 s. */
static unsigned ping_one(struct net3 *n, int from, const struct mpnet_ping4_req *req,
                         struct mpnet_ping_reply *out, unsigned max)
{
        assert_int_equal(mpnet_ping4_send_req(n->st[from], req, mpnet_clock_now(&n->clk)), 0);
        net3_run(n, 3 * MPNET_NS_PER_S);
        return mpnet_ping4_recv(n->st[from], out, max);
}

static uint64_t ctr(struct net3 *n, int i, const char *c)
{
        return stk_ctr(n->st[i], c);
}

static void test_ping_across(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[16];
        char cap[512];

        (void)state;
        snprintf(cap, sizeof(cap), "%s/router.pcapng", test_out_dir());
        net3_init(&n, cap);
        net3_run(&n, 10 * MPNET_NS_PER_MS);
        for (uint16_t seq = 1; seq <= 10; seq++) {
                struct mpnet_ping4_req a2b = {.dst = B_IP, .id = 1, .seq = seq, .payload_len = 56};
                struct mpnet_ping4_req b2a = {.dst = A_IP, .id = 2, .seq = seq, .payload_len = 56};

                assert_int_equal(ping_one(&n, A, &a2b, rep, 16), 1);
                assert_int_equal(rep[0].type, MPNET_ICMP4_ECHO_REPLY);
                assert_int_equal(rep[0].from, B_IP);
                assert_int_equal(rep[0].seq, seq);
                assert_int_equal(rep[0].ttl, 63); /* one router on the way */
                assert_int_equal(ping_one(&n, B, &b2a, rep, 16), 1);
                assert_int_equal(rep[0].from, A_IP);
                assert_int_equal(rep[0].seq, seq);
        }
        /* 10 requests and 10 replies each way. */
        assert_int_equal(ctr(&n, R, "ip4_forwarded"), 40);
        {
                struct mpnet_node_stats ns;

                int rw = mpnet_node_find(n.st[R], "ip4-rewrite");
                unsigned count = mpnet_node_count(n.st[R]);

                assert_true(rw >= 0);
                assert_int_equal(mpnet_node_stats_get(n.st[R], (unsigned)rw, &ns), 0);
                assert_int_equal(ns.pkts, 40);
                assert_true(ns.calls >= 1 && ns.cycles > 0);
                assert_int_equal(mpnet_node_stats_get(n.st[R], count, &ns), -EINVAL);
                assert_null(mpnet_node_name(n.st[R], count));
                assert_int_equal(mpnet_node_find(n.st[R], "no-such-node"), -ENOENT);
                assert_string_equal(mpnet_node_name(n.st[R], (unsigned)rw), "ip4-rewrite");
        }
        net3_fini(&n);
        if (system("command -v tshark >/dev/null 2>&1") == 0) {
                char cmd[700];
                FILE *f;
                char line[256];
                unsigned frames = 0;

                /* Every frame decodes, with no expert warning of a bad checksum
                 * or a malformed packet. */
                snprintf(cmd, sizeof(cmd),
                         "tshark -r %s -o ip.check_checksum:TRUE -o icmp.check_checksum:TRUE "
                         "-Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null | wc -l",
                         cap);
                f = popen(cmd, "r");
                assert_non_null(f);
                assert_non_null(fgets(line, sizeof(line), f));
                assert_int_equal(atoi(line), 0);
                pclose(f);
                snprintf(cmd, sizeof(cmd), "tshark -r %s -Y icmp 2>/dev/null | wc -l", cap);
                f = popen(cmd, "r");
                assert_non_null(f);
                assert_non_null(fgets(line, sizeof(line), f));
                frames = (unsigned)atoi(line);
                pclose(f);
                assert_int_equal(frames, 40); /* R's side of the A-R wire */
        }
}

static void test_ttl_exceeded(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[4];
        struct mpnet_ping4_req req = {.dst = B_IP, .id = 3, .seq = 1, .payload_len = 32, .ttl = 1};

        (void)state;
        net3_init(&n, NULL);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_TIME_EXCEEDED);
        assert_int_equal(rep[0].code, 0);
        assert_int_equal(rep[0].from, R1_IP);
        assert_int_equal(rep[0].seq, 1);
        assert_int_equal(ctr(&n, R, "ip4_ttl_exceeded"), 1);
        /* TTL 2 makes it: R forwards with TTL 1, B (a host) accepts it. */
        req.ttl = 2;
        req.seq = 2;
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_ECHO_REPLY);
        net3_fini(&n);
}

static void test_frag_needed(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[4];
        /* 1300 bytes of data: a 1328-byte packet, over the R-B MTU of 1280. */
        struct mpnet_ping4_req req = {
            .dst = B_IP, .id = 4, .seq = 1, .payload_len = 1300, .df = true};

        (void)state;
        net3_init(&n, NULL);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_DEST_UNREACH);
        assert_int_equal(rep[0].code, 4);
        assert_int_equal(rep[0].info, 1280);
        assert_int_equal(rep[0].from, R1_IP);
        assert_int_equal(ctr(&n, R, "ip4_frag_needed"), 1);
        /* At the MTU exactly it passes. */
        req.payload_len = 1280 - 28;
        req.seq = 2;
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_ECHO_REPLY);
        /* DF over A's own MTU fails at the source. */
        req.payload_len = 1500;
        assert_int_equal(mpnet_ping4_send_req(n.st[A], &req, mpnet_clock_now(&n.clk)), -EMSGSIZE);
        net3_fini(&n);
}

/* 8000 bytes of echo, DF clear: A fragments to 1500, R again to 1280, B
 * reassembles and answers the same size back. */
static void test_fragmented_echo(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[4];
        struct mpnet_ping4_req req = {.dst = B_IP, .id = 9, .seq = 1, .payload_len = 8000};

        (void)state;
        net3_init(&n, NULL);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_ECHO_REPLY);
        assert_int_equal(rep[0].payload_len, 8000);
        assert_int_equal(ctr(&n, A, "ip4_fragmented"), 6); /* 8028 at 1500 */
        assert_true(ctr(&n, R, "ip4_fragmented") >= 6);    /* re-cut to 1280 */
        assert_int_equal(ctr(&n, B, "ip4_reassembled"), 1);
        assert_int_equal(ctr(&n, B, "ip4_fragmented"), 7); /* 8028 at 1280 */
        assert_int_equal(ctr(&n, A, "ip4_reassembled"), 1);
        /* Several in a row, each reassembled once. */
        for (uint16_t i = 2; i <= 5; i++) {
                req.seq = i;
                req.payload_len = 3000u * i;
                assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
                assert_int_equal(rep[0].payload_len, 3000u * i);
                assert_int_equal(rep[0].seq, i);
        }
        assert_int_equal(ctr(&n, B, "ip4_reassembled"), 5);
        net3_fini(&n);
}

/* Jumbo frames: A and R on a 9000-byte MTU, so A sends an 8000-byte echo
 * request whole, a frame longer than one buffer (a chain); R takes the
 * chain in, routes it and cuts it to B's 1280; B's fragmented answer is
 * routed back and reassembled by A. */
static void test_jumbo_forwarded(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[4];
        struct mpnet_ping4_req req = {.dst = B_IP, .id = 10, .seq = 1, .payload_len = 8000};

        (void)state;
        net3_init_mtu(&n, NULL, 9000);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_ECHO_REPLY);
        assert_int_equal(rep[0].payload_len, 8000);
        assert_int_equal(ctr(&n, A, "ip4_fragmented"), 0); /* 8028 fits 9000 */
        assert_true(ctr(&n, R, "ip4_fragmented") >= 7);    /* cut to 1280 */
        assert_int_equal(ctr(&n, B, "ip4_reassembled"), 1);
        assert_int_equal(ctr(&n, A, "ip4_reassembled"), 1);
        assert_int_equal(ctr(&n, R, "ip4_bad_len"), 0);
        net3_fini(&n);
}

static void test_unreachable_kinds(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[4];
        struct mpnet_ping4_req req = {.id = 5, .seq = 1, .payload_len = 16};
        struct mpnet_route4 r = {.plen = 24};

        (void)state;
        net3_init(&n, NULL);
        /* No route at R: net unreachable. */
        req.dst = IP4(198, 18, 0, 1);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_DEST_UNREACH);
        assert_int_equal(rep[0].code, 0);
        assert_int_equal(rep[0].from, R1_IP);
        /* Unreachable route: host unreachable; prohibit: code 13. */
        r.dst = IP4(198, 18, 1, 0);
        r.type = MPNET_NH_UNREACHABLE;
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), 0);
        r.dst = IP4(198, 18, 2, 0);
        r.type = MPNET_NH_PROHIBIT;
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), 0);
        r.dst = IP4(198, 18, 3, 0);
        r.type = MPNET_NH_BLACKHOLE;
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), 0);
        req.dst = IP4(198, 18, 1, 9);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].code, 1);
        req.dst = IP4(198, 18, 2, 9);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].code, 13);
        req.dst = IP4(198, 18, 3, 9);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 0);
        assert_int_equal(ctr(&n, R, "ip4_blackhole"), 1);
        /* An error is never answered with an error, nor a broadcast: B's
         * subnet broadcast from A is dropped by R, silently. */
        req.dst = IP4(198, 51, 100, 255);
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 0);
        assert_int_equal(ctr(&n, R, "ip4_directed_bcast"), 1);
        net3_fini(&n);
}

/* A UDP packet from src to dst (header options opt, a multiple of 4 bytes)
 * put on A's wire in a frame to mac (NULL: R's), and 10 ms of time. */
static void inject4(struct net3 *n, const uint8_t *mac, uint32_t src, uint32_t dst,
                    const uint8_t *opt, size_t optlen)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {
            .src = src, .dst = dst, .payload_len = 16, .proto = MPNET_IPPROTO_UDP, .ttl = 64};
        struct mpnet_pkt *p = mpnet_pkt_alloc(n->pool);
        size_t len = 14 + 20 + optlen + 16;
        uint8_t *b = mpnet_pkt_append(p, (uint32_t)len), *h = b + 14;

        memset(b, 0, len);
        memcpy(eth.dst, mac != NULL ? mac : n->l[1]->info.mac, 6);
        memcpy(eth.src, n->l[0]->info.mac, 6);
        mpnet_eth_repr_emit(&eth, b);
        mpnet_ip4_repr_emit(&ip, h);
        if (optlen != 0) {
                /* Longer header: IHL, total length, options, checksum. */
                h[0] = (uint8_t)(0x40 | (20 + optlen) / 4);
                mpnet_put_be16(h + 2, (uint16_t)(20 + optlen + 16));
                memcpy(h + 20, opt, optlen);
                h[10] = h[11] = 0;
                mpnet_put_be16(h + 10, mpnet_csum(h, 20 + optlen));
        }
        assert_int_equal(mpnet_link_tx_burst(n->l[0], 0, &p, 1), 1);
        net3_run(n, 10 * MPNET_NS_PER_MS);
}

/* RFC 1812 5.3.4: a unicast packet that came in a link-layer broadcast
 * frame is not forwarded, and draws no ICMP error (nor does one to a group
 * R has not joined); the same packet to R's MAC is. */
static void test_l2_bcast_not_forwarded(void **state)
{
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        /* 224.1.2.3's MAC: not 224.0.0.1's, which every interface joins. */
        static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
        const uint8_t *dst[3] = {bcast, mcast, NULL};
        struct net3 n;

        (void)state;
        net3_init(&n, NULL);
        net3_run(&n, MPNET_NS_PER_S); /* announcements settle */
        for (int i = 0; i < 3; i++) {
                uint64_t fwd = ctr(&n, R, "ip4_forwarded");
                uint64_t err = ctr(&n, R, "icmp4_err_tx"); /* R's own */

                inject4(&n, dst[i], A_IP, B_IP, NULL, 0);
                /* To R's MAC: forwarded (and B's port unreachable back). */
                if (dst[i] == NULL)
                        assert_true(ctr(&n, R, "ip4_forwarded") > fwd);
                else
                        assert_int_equal(ctr(&n, R, "ip4_forwarded"), fwd);
                /* A group R has not joined stops at ether-input. */
                assert_int_equal(ctr(&n, R, "ip4_l2_bcast"), 1);
                assert_int_equal(ctr(&n, R, "icmp4_err_tx"), err);
        }
        net3_fini(&n);
}

/* RFC 1812 5.2.7.2: R routes 198.19.5.0/24 back onto A's network (via
 * 192.0.2.2, a neighbour there): A's ping draws a host redirect naming that
 * gateway, and the packet still goes on. No redirect when the interface
 * sends none, nor for a source off the network, nor with a source route. */
static void test_redirect_sent(void **state)
{
        static const uint8_t c_mac[6] = {0x02, 0, 0, 0, 0, 0x0c};
        /* Loose source route, one hop left (pointer past it), then end. */
        static const uint8_t lsrr[8] = {131, 7, 8, 192, 0, 2, 9, 0};
        struct mpnet_route4 r = {.dst = IP4(198, 19, 5, 0),
                                 .plen = 24,
                                 .type = MPNET_NH_GATEWAY,
                                 .n_paths = 1,
                                 .paths = {{.ifindex = 1, .gw = IP4(192, 0, 2, 2)}}};
        struct mpnet_ping4_req req = {
            .dst = IP4(198, 19, 5, 9), .id = 9, .seq = 1, .payload_len = 16};
        struct mpnet_ping_reply rep[4];
        struct net3 n;
        uint64_t fwd;

        (void)state;
        net3_init(&n, NULL);
        assert_int_equal(mpnet_neigh4_add(n.st[R], 1, IP4(192, 0, 2, 2), c_mac), 0);
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), 0);
        fwd = ctr(&n, R, "ip4_forwarded");
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 1);
        assert_int_equal(rep[0].type, MPNET_ICMP4_REDIRECT);
        assert_int_equal(rep[0].code, 1);
        assert_int_equal(rep[0].info, IP4(192, 0, 2, 2));
        assert_int_equal(rep[0].from, R1_IP);
        assert_int_equal(ctr(&n, R, "ip4_redirect_tx"), 1);
        assert_int_equal(ctr(&n, R, "ip4_forwarded"), fwd + 1);
        /* Off on the interface: forwarded, no redirect. */
        assert_int_equal(mpnet_iface_ip4_redirects(n.st[R], 1, false), 0);
        req.seq = 2;
        assert_int_equal(ping_one(&n, A, &req, rep, 4), 0);
        assert_int_equal(ctr(&n, R, "ip4_forwarded"), fwd + 2);
        assert_int_equal(mpnet_iface_ip4_redirects(n.st[R], 9, false), -ENODEV);
        assert_int_equal(mpnet_iface_ip4_redirects(n.st[R], 1, true), 0);
        /* A source R does not have on the interface's networks, and a
         * source-routed packet (LSRR, RFC 791): forwarded, no redirect. */
        inject4(&n, NULL, IP4(198, 18, 7, 1), IP4(198, 19, 5, 9), NULL, 0);
        assert_int_equal(ctr(&n, R, "ip4_forwarded"), fwd + 3);
        inject4(&n, NULL, A_IP, IP4(198, 19, 5, 9), lsrr, sizeof(lsrr));
        assert_int_equal(ctr(&n, R, "ip4_forwarded"), fwd + 4);
        assert_int_equal(ctr(&n, R, "ip4_redirect_tx"), 1);
        /* The same packet without the option: redirected. */
        inject4(&n, NULL, A_IP, IP4(198, 19, 5, 9), NULL, 0);
        assert_int_equal(ctr(&n, R, "ip4_redirect_tx"), 2);
        net3_fini(&n);
}

static void test_icmp_rate_limit(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[256];
        struct mpnet_ping4_req req = {.dst = IP4(198, 18, 0, 1), .id = 6, .payload_len = 16};
        unsigned got;

        (void)state;
        net3_init(&n, NULL);
        net3_run(&n, 10 * MPNET_NS_PER_MS);
        /* 200 at once: the default burst of 50 errors goes out, the rest is
         * limited (the clock does not move between them). */
        for (uint16_t i = 0; i < 200; i++) {
                req.seq = i;
                assert_int_equal(mpnet_ping4_send_req(n.st[A], &req, mpnet_clock_now(&n.clk)), 0);
                mpnet_stack_poll(n.st[A], mpnet_clock_now(&n.clk));
                mpnet_stack_poll(n.st[R], mpnet_clock_now(&n.clk));
        }
        net3_run(&n, MPNET_NS_PER_MS);
        got = mpnet_ping4_recv(n.st[A], rep, 256);
        assert_int_equal(got, 50);
        assert_int_equal(ctr(&n, R, "icmp4_err_ratelimited"), 150);
        net3_fini(&n);
}

/* Pings to B's extra addresses while R's route to them flips between two
 * gateways (both B) every few ms: nothing is lost. */
static void test_route_replace_under_traffic(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[64];
        struct mpnet_route4 r = {.dst = B_NET, .plen = 24, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        unsigned got = 0, sent = 0;

        (void)state;
        net3_init(&n, NULL);
        net3_run(&n, 10 * MPNET_NS_PER_MS);
        r.paths[0].ifindex = 2;
        for (unsigned i = 0; i < 1000; i++) {
                struct mpnet_ping4_req req = {
                    .dst = B_NET + 1 + i % 10, .id = 7, .seq = (uint16_t)i, .payload_len = 16};

                assert_int_equal(mpnet_ping4_send_req(n.st[A], &req, mpnet_clock_now(&n.clk)), 0);
                sent++;
                if (i % 5 == 0) {
                        r.paths[0].gw = (i / 5) % 2 ? B_IP2 : B_IP;
                        assert_int_equal(mpnet_route4_replace(n.st[R], 0, &r), 0);
                }
                net3_run(&n, MPNET_NS_PER_MS);
                got += mpnet_ping4_recv(n.st[A], rep, 64);
        }
        net3_run(&n, MPNET_NS_PER_S);
        got += mpnet_ping4_recv(n.st[A], rep, 64);
        assert_int_equal(got, sent);
        assert_int_equal(mpnet_route4_count(n.st[R], 0), 5); /* 2 x (local, connected), B_NET */
        net3_fini(&n);
}

static void test_ecmp_spreads(void **state)
{
        struct net3 n;
        struct mpnet_ping_reply rep[64];
        struct mpnet_route4 r = {.dst = B_NET, .plen = 24, .type = MPNET_NH_GATEWAY, .n_paths = 2};
        struct mpnet_neigh_info ni;

        (void)state;
        net3_init(&n, NULL);
        r.paths[0] = (struct mpnet_route_path){.ifindex = 2, .gw = B_IP};
        r.paths[1] = (struct mpnet_route_path){.ifindex = 2, .gw = B_IP2};
        assert_int_equal(mpnet_route4_replace(n.st[R], 0, &r), 0);
        for (unsigned i = 1; i <= 10; i++) {
                struct mpnet_ping4_req req = {
                    .dst = B_NET + i, .id = 8, .seq = (uint16_t)i, .payload_len = 16};

                assert_int_equal(ping_one(&n, A, &req, rep, 64), 1);
        }
        /* Ten flows over two paths: both gateways were used (resolved). */
        assert_int_equal(mpnet_neigh4_get(n.st[R], 2, B_IP, &ni), 0);
        assert_int_equal(mpnet_neigh4_get(n.st[R], 2, B_IP2, &ni), 0);
        net3_fini(&n);
}

static int count_cb(void *arg, const struct mpnet_route4 *r)
{
        unsigned *c = arg;

        (void)r;
        (*c)++;
        return 0;
}

static void test_tables(void **state)
{
        struct net3 n;
        struct mpnet_route4 r = {.plen = 16, .type = MPNET_NH_BLACKHOLE}, got;
        unsigned count = 0;

        (void)state;
        net3_init(&n, NULL);
        /* Every table id: one route each, found only in its own table. */
        for (uint32_t t = 1; t < MPNET_TABLE_MAX; t++) {
                assert_int_equal(mpnet_table_add(n.st[R], t), 0);
                r.dst = IP4(10, 0, 0, 0) | (t << 16);
                assert_int_equal(mpnet_route4_add(n.st[R], t, &r), 0);
        }
        assert_int_equal(mpnet_table_add(n.st[R], 5), -EEXIST);
        assert_int_equal(mpnet_table_add(n.st[R], MPNET_TABLE_MAX), -EINVAL);
        for (uint32_t t = 1; t < MPNET_TABLE_MAX; t += 97) {
                assert_int_equal(
                    mpnet_route4_lookup(n.st[R], t, IP4(10, 0, 1, 1) | (t << 16), &got), 0);
                assert_int_equal(got.type, MPNET_NH_BLACKHOLE);
                assert_int_equal(got.dst, IP4(10, 0, 0, 0) | (t << 16));
                assert_int_equal(
                    mpnet_route4_lookup(n.st[R], t, IP4(10, 0, 1, 1) | ((t + 1) << 16), &got),
                    -ENOENT);
        }
        /* Bind r2 to table 9: its address routes move there. */
        assert_int_equal(mpnet_iface_set_table(n.st[R], 2, 9), 0);
        assert_int_equal(mpnet_route4_get(n.st[R], 9, R2_IP, 32, &got), 0);
        assert_int_equal(got.type, MPNET_NH_LOCAL);
        assert_int_equal(mpnet_route4_get(n.st[R], 9, IP4(198, 51, 100, 0), 24, &got), 0);
        assert_int_equal(got.type, MPNET_NH_CONNECTED);
        assert_int_equal(mpnet_route4_get(n.st[R], 0, R2_IP, 32, &got), -ENOENT);
        assert_int_equal(mpnet_table_del(n.st[R], 9), -EBUSY);
        assert_int_equal(mpnet_route4_walk(n.st[R], 9, count_cb, &count), 0);
        assert_int_equal(count, 3); /* and table 9's own 10.9/16 */
        /* Bad routes. */
        r.dst = IP4(10, 0, 0, 1); /* host bits set */
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), -EINVAL);
        r.dst = IP4(10, 0, 0, 0);
        r.plen = 33;
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), -EINVAL);
        r.plen = 8;
        r.type = MPNET_NH_GATEWAY;
        r.n_paths = 1;
        r.paths[0].ifindex = 9;
        r.paths[0].gw = IP4(192, 0, 2, 9);
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), -ENODEV);
        r.paths[0].ifindex = 1;
        assert_int_equal(mpnet_route4_add(n.st[R], 4096, &r), -ENOENT);
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), 0);
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), -EEXIST);
        assert_int_equal(mpnet_route4_del(n.st[R], 0, r.dst, 8), 0);
        assert_int_equal(mpnet_route4_del(n.st[R], 0, r.dst, 8), -ENOENT);
        r.type = MPNET_NH__COUNT;
        assert_int_equal(mpnet_route4_add(n.st[R], 0, &r), -EINVAL);
        /* Deleting a table with routes is refused; emptied, it goes. */
        assert_int_equal(mpnet_table_del(n.st[R], 3), -EBUSY);
        assert_int_equal(mpnet_route4_del(n.st[R], 3, IP4(10, 3, 0, 0), 16), 0);
        assert_int_equal(mpnet_table_del(n.st[R], 3), 0);
        assert_int_equal(mpnet_table_del(n.st[R], 0), -EINVAL);
        /* Removing an address removes its routes. */
        assert_int_equal(mpnet_addr4_del(n.st[R], 2, R2_IP, 24), 0);
        assert_int_equal(mpnet_route4_count(n.st[R], 9), 1);
        assert_int_equal(mpnet_route4_get(n.st[R], 9, R2_IP, 32, &got), -ENOENT);
        net3_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ping_across),
            cmocka_unit_test(test_ttl_exceeded),
            cmocka_unit_test(test_frag_needed),
            cmocka_unit_test(test_fragmented_echo),
            cmocka_unit_test(test_jumbo_forwarded),
            cmocka_unit_test(test_unreachable_kinds),
            cmocka_unit_test(test_l2_bcast_not_forwarded),
            cmocka_unit_test(test_redirect_sent),
            cmocka_unit_test(test_icmp_rate_limit),
            cmocka_unit_test(test_route_replace_under_traffic),
            cmocka_unit_test(test_ecmp_spreads),
            cmocka_unit_test(test_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
