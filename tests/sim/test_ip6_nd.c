/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 neighbour discovery between stacks on a memory wire (virtual clock):
 * link-local addresses and DAD on attach, ping6 over link-local and global
 * addresses, a duplicate found by DAD, our own probe looped back (RFC 7527),
 * a dead neighbour found unreachable by NUD, malformed ND dropped and
 * counted; the capture of one run checked by tshark.
 */
#include "ip6util.h"

struct net6 {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *st[2];
        unsigned n; /* stacks: 1 when the test drives lb itself */
};

static void net6_init(struct net6 *n, unsigned stacks, const char *cap)
{
        struct mpnet_memwire_cfg wc = {.name = "w6"};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("ip6", 4096);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->la, &n->lb), 0);
        if (cap != NULL) {
                n->la = mpnet_capture_create(n->la, cap, MPNET_CAPTURE_PCAPNG, &n->clk);
                assert_non_null(n->la);
        }
        n->n = stacks;
        n->st[0] = stack6_new(&n->clk, n->pool, "A", 1, false);
        assert_int_equal(mpnet_iface_attach(n->st[0], n->la, "a0"), 1);
        if (stacks == 2) {
                n->st[1] = stack6_new(&n->clk, n->pool, "B", 2, false);
                assert_int_equal(mpnet_iface_attach(n->st[1], n->lb, "b0"), 1);
        }
}

static void net6_fini(struct net6 *n)
{
        for (unsigned i = 0; i < n->n; i++)
                mpnet_stack_destroy(n->st[i]);
        link_drain(n->lb);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

static void run(struct net6 *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, n->n, mpnet_clock_now(&n->clk) + ns);
}

static uint64_t ctr(struct net6 *n, int i, const char *c)
{
        return stk_ctr(n->st[i], c);
}

static unsigned ping(struct net6 *n, int from, const uint8_t *dst, int ifindex, uint16_t seq,
                     struct mpnet_ping6_reply *r)
{
        struct mpnet_ping6_req req = {
            .ifindex = ifindex, .id = 0x6d70, .seq = seq, .payload_len = 56};

        memcpy(req.dst, dst, 16);
        return ping6_one(&n->clk, n->st, n->n, from, &req, r, 4, MPNET_NS_PER_S);
}

static bool tshark_present(void)
{
        return system("command -v tshark >/dev/null 2>&1") == 0;
}

static long tshark_count(const char *file, const char *filter)
{
        char cmd[1024], line[64];
        long count = 0;
        FILE *f;

        snprintf(cmd, sizeof(cmd),
                 "tshark -n -r '%s' -Y '%s' -T fields -e frame.number "
                 "2>/dev/null",
                 file, filter);
        f = popen(cmd, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL)
                count++;
        assert_int_equal(pclose(f), 0);
        return count;
}

static void test_ping6_ll_and_global(void **state)
{
        struct mpnet_ping6_reply r[4];
        struct mpnet_neigh_info ni;
        uint8_t lla[16], llb[16], src[16];
        char cap[512];
        struct net6 n;

        (void)state;
        snprintf(cap, sizeof(cap), "%s/ip6_nd.pcapng", test_out_dir());
        net6_init(&n, 2, cap);
        ll_of(n.la->info.mac, lla);
        ll_of(n.lb->info.mac, llb);
        assert_int_equal(addr6_flags(n.st[0], 1, lla), MPNET_ADDR6_F_TENTATIVE);
        run(&n, 3 * MPNET_NS_PER_S);
        /* DAD passed on both: usable, unsolicited NAs sent (RFC 4861 7.2.6). */
        assert_int_equal(addr6_flags(n.st[0], 1, lla), 0);
        assert_int_equal(addr6_flags(n.st[1], 1, llb), 0);
        assert_int_equal(ctr(&n, 0, "nd_dad_dup"), 0);
        assert_true(ctr(&n, 0, "mld_report_tx") >= 2);

        /* Link-local ping needs the interface. */
        struct mpnet_ping6_req bad = {.payload_len = 56};

        memcpy(bad.dst, llb, 16);
        assert_int_equal(mpnet_ping6_send(n.st[0], &bad, mpnet_clock_now(&n.clk)), -ENETUNREACH);
        assert_int_equal(ping(&n, 0, llb, 1, 1, r), 1);
        assert_memory_equal(r[0].from, llb, 16);
        assert_int_equal(r[0].type, MPNET_ICMP6_ECHO_REPLY);
        assert_int_equal(r[0].payload_len, 56);
        assert_int_equal(r[0].hop_limit, 64);
        assert_int_equal(mpnet_neigh6_get(n.st[0], 1, llb, &ni), 0);
        assert_int_equal(ni.state, MPNET_NEIGH_REACHABLE);
        assert_memory_equal(ni.mac, n.lb->info.mac, 6);
        assert_int_equal(ping(&n, 1, lla, 1, 2, r), 1);

        /* Global addresses: DAD, connected routes, ping both ways. */
        assert_int_equal(mpnet_addr6_add(n.st[0], 1, A6("2001:db8::1"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(n.st[1], 1, A6("2001:db8::2"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(n.st[1], 1, A6("2001:db8::2"), 64, 0), -EEXIST);
        assert_int_equal(mpnet_addr6_add(n.st[1], 1, A6("ff02::1"), 64, 0), -EINVAL);
        assert_int_equal(mpnet_addr6_add(n.st[1], 1, A6("2001:db8::9"), 129, 0), -EINVAL);
        assert_int_equal(mpnet_addr6_add(n.st[1], 5, A6("2001:db8::9"), 64, 0), -ENODEV);
        run(&n, 2 * MPNET_NS_PER_S);
        for (uint16_t seq = 10; seq < 15; seq++) {
                assert_int_equal(ping(&n, 0, A6("2001:db8::2"), 0, seq, r), 1);
                assert_memory_equal(r[0].from, A6("2001:db8::2"), 16);
                assert_int_equal(r[0].seq, seq);
        }
        assert_int_equal(ping(&n, 1, A6("2001:db8::1"), 0, 20, r), 1);
        /* RFC 6724: a global source for a global destination, link-local
         * for link-local. */
        assert_int_equal(mpnet_ip6_src_select(n.st[0], A6("2001:db8::2"), 0, src), 0);
        assert_memory_equal(src, A6("2001:db8::1"), 16);
        assert_int_equal(mpnet_ip6_src_select(n.st[0], llb, 1, src), 0);
        assert_memory_equal(src, lla, 16);
        /* A deprecated address loses to a preferred one (rule 3). */
        assert_int_equal(mpnet_addr6_add(n.st[0], 1, A6("2001:db8::3"), 64, MPNET_ADDR6_F_NODAD),
                         0);
        assert_int_equal(mpnet_addr6_del(n.st[0], 1, A6("2001:db8::1"), 64), 0);
        assert_int_equal(mpnet_addr6_del(n.st[0], 1, A6("2001:db8::1"), 64), -ENOENT);
        assert_int_equal(mpnet_addr6_add(n.st[0], 1, A6("2001:db8::1"), 64,
                                         MPNET_ADDR6_F_NODAD | MPNET_ADDR6_F_DEPRECATED),
                         0);
        assert_int_equal(mpnet_ip6_src_select(n.st[0], A6("2001:db8::2"), 0, src), 0);
        assert_memory_equal(src, A6("2001:db8::3"), 16);
        assert_int_equal(ping(&n, 1, A6("2001:db8::1"), 0, 21, r), 1);
        assert_int_equal(ctr(&n, 0, "icmp6_echo_req"), 3);
        assert_int_equal(ctr(&n, 1, "icmp6_echo_req"), 6);
        net6_fini(&n);

        if (!tshark_present()) {
                print_message("tshark not installed: capture not checked\n");
                return;
        }
        assert_int_equal(tshark_count(cap, "icmpv6.type == 128"), 9);
        assert_int_equal(tshark_count(cap, "icmpv6.type == 129"), 9);
        assert_true(tshark_count(cap, "icmpv6.type == 135 && ipv6.src == ::") >= 2);
        assert_true(tshark_count(cap, "icmpv6.type == 143") >= 2);
        assert_int_equal(tshark_count(cap, "_ws.malformed || _ws.expert.severity >= warning || "
                                           "icmpv6.checksum.status == \"Bad\""),
                         0);
}

static void test_dad_duplicate(void **state)
{
        uint8_t src[16];
        struct net6 n;

        (void)state;
        net6_init(&n, 2, NULL);
        run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_addr6_add(n.st[1], 1, A6("2001:db8::5"), 64, MPNET_ADDR6_F_NODAD),
                         0);
        assert_int_equal(mpnet_addr6_add(n.st[0], 1, A6("2001:db8::5"), 64, 0), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        /* B defended it (RFC 4861 7.2.4): A never uses it. */
        assert_int_equal(addr6_flags(n.st[0], 1, A6("2001:db8::5")), MPNET_ADDR6_F_DUPLICATED);
        assert_int_equal(ctr(&n, 0, "nd_dad_dup"), 1);
        assert_int_equal(addr6_flags(n.st[1], 1, A6("2001:db8::5")), 0);
        assert_int_not_equal(mpnet_ip6_src_select(n.st[0], A6("2001:db8::7"), 0, src), 0);
        /* Both probing at once: each sees the other's probe. */
        assert_int_equal(mpnet_addr6_add(n.st[0], 1, A6("2001:db8::6"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(n.st[1], 1, A6("2001:db8::6"), 64, 0), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        /* The one that probes second has already heard the first's probe
         * for its tentative address (RFC 4862 5.4.3): it gives way. */
        assert_int_equal(addr6_flags(n.st[0], 1, A6("2001:db8::6")) ^
                             addr6_flags(n.st[1], 1, A6("2001:db8::6")),
                         MPNET_ADDR6_F_DUPLICATED);
        assert_int_equal(ctr(&n, 0, "nd_dad_dup") + ctr(&n, 1, "nd_dad_dup"), 2);
        net6_fini(&n);
}

/* RFC 7527: a link that loops our probe back is not a duplicate. */
static void test_dad_loopback(void **state)
{
        uint8_t lla[16];
        struct net6 n;
        unsigned looped = 0;

        (void)state;
        net6_init(&n, 1, NULL);
        ll_of(n.la->info.mac, lla);
        for (int t = 0; t < 3000; t++) {
                struct mpnet_pkt *p[16];
                uint16_t k;

                run(&n, MPNET_NS_PER_MS);
                k = mpnet_link_rx_burst(n.lb, 0, p, 16);
                for (uint16_t i = 0; i < k; i++) {
                        const uint8_t *b = p[i]->data;

                        /* A DAD probe: NS (135) from ::; send it straight back. */
                        if (p[i]->len > 54 && b[20] == MPNET_IPPROTO_ICMPV6 && b[54] == 135 &&
                            mpnet_ip6_is_unspecified(b + 22)) {
                                looped++;
                                assert_int_equal(mpnet_link_tx_burst(n.lb, 0, &p[i], 1), 1);
                        } else {
                                mpnet_pkt_free(p[i]);
                        }
                }
        }
        assert_int_equal(looped, 1);
        assert_int_equal(ctr(&n, 0, "nd_dad_loopback"), 1);
        assert_int_equal(ctr(&n, 0, "nd_dad_dup"), 0);
        assert_int_equal(addr6_flags(n.st[0], 1, lla), 0);
        net6_fini(&n);
}

static enum mpnet_neigh_state state6(struct net6 *n, const uint8_t *a)
{
        struct mpnet_neigh_info ni;

        if (mpnet_neigh6_get(n->st[0], 1, a, &ni) != 0)
                return (enum mpnet_neigh_state) - 1;
        return ni.state;
}

static void test_nud_unreachable(void **state)
{
        struct mpnet_ping6_reply r[4];
        const uint8_t *b = A6("2001:db8::2");
        struct net6 n;

        (void)state;
        net6_init(&n, 2, NULL);
        assert_int_equal(mpnet_addr6_add(n.st[0], 1, A6("2001:db8::1"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(n.st[1], 1, b, 64, 0), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(ping(&n, 0, b, 0, 1, r), 1);
        assert_int_equal(state6(&n, b), MPNET_NEIGH_REACHABLE);
        /* ReachableTime is at most 1.5 * 30 s (RFC 4861 6.3.2). */
        run(&n, 46 * MPNET_NS_PER_S);
        assert_int_equal(state6(&n, b), MPNET_NEIGH_STALE);
        mpnet_iface_set_up(n.st[1], 1, false);
        assert_int_equal(ping(&n, 0, b, 0, 2, r), 0);
        assert_int_equal(state6(&n, b), MPNET_NEIGH_DELAY);
        run(&n, 5 * MPNET_NS_PER_S);
        assert_int_equal(state6(&n, b), MPNET_NEIGH_PROBE);
        /* Three unicast probes a second apart, unanswered: unreachable. */
        run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(state6(&n, b), MPNET_NEIGH_FAILED);
        assert_int_equal(
            mpnet_ping6_send(n.st[0],
                             &(struct mpnet_ping6_req){.dst = {0x20, 0x01, 0x0d, 0xb8, [15] = 2},
                                                       .payload_len = 8},
                             mpnet_clock_now(&n.clk)),
            -EHOSTUNREACH);
        /* After the hold-down the entry goes. */
        run(&n, 21 * MPNET_NS_PER_S);
        assert_int_equal(state6(&n, b), (enum mpnet_neigh_state) - 1);
        net6_fini(&n);
}

/* An NS for A's link-local address from fe80::99 with options opt. */
static size_t ns_frame_n(struct net6 *n, uint8_t *f, uint8_t hlim, const uint8_t *src,
                         const uint8_t *opt, size_t optlen, size_t msglen)
{
        static const uint8_t peer[6] = {0x02, 0, 0, 0, 0x99, 0x99};
        uint8_t msg[64] = {135, 0}, lla[16], snm[16], dmac[6];

        ll_of(n->la->info.mac, lla);
        mpnet_ip6_solicited_node(lla, snm);
        mpnet_ip6_mc_mac(snm, dmac);
        memcpy(msg + 8, lla, 16);
        memcpy(msg + 24, opt, optlen);
        return frame6_icmp(f, dmac, peer, src, snm, hlim, msg, msglen);
}

static size_t ns_frame(struct net6 *n, uint8_t *f, uint8_t hlim, const uint8_t *src,
                       const uint8_t *opt, size_t optlen)
{
        return ns_frame_n(n, f, hlim, src, opt, optlen, 24 + optlen);
}

static void test_malformed_nd(void **state)
{
        const uint8_t slla[8] = {1, 1, 0x02, 0, 0, 0, 0x99, 0x99};
        const uint8_t zero_len[8] = {1, 0, 0x02, 0, 0, 0, 0x99, 0x99};
        const uint8_t past_end[8] = {1, 2, 0x02, 0, 0, 0, 0x99, 0x99};
        const uint8_t *peer = A6("fe80::99");
        struct mpnet_neigh_info ni;
        uint8_t f[256];
        struct net6 n;
        size_t len;

        (void)state;
        net6_init(&n, 1, NULL);
        run(&n, 3 * MPNET_NS_PER_S);
        link_drain(n.lb);
        /* RFC 4861 7.1.1: hop limit 254 is from off link. */
        len = ns_frame(&n, f, 254, peer, slla, 8);
        link_send(n.pool, n.lb, f, len);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, 0, "nd_bad_hlim"), 1);
        /* RFC 4861 4.6: an option of length 0, and one past the end. */
        len = ns_frame(&n, f, 255, peer, zero_len, 8);
        link_send(n.pool, n.lb, f, len);
        len = ns_frame(&n, f, 255, peer, past_end, 8);
        link_send(n.pool, n.lb, f, len);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, 0, "nd_bad_opt"), 2);
        /* 7.1.1: from :: with a source link-layer option. */
        len = ns_frame(&n, f, 255, A6("::"), slla, 8);
        link_send(n.pool, n.lb, f, len);
        /* Truncated: shorter than an NS. */
        len = ns_frame_n(&n, f, 255, peer, slla, 0, 20);
        link_send(n.pool, n.lb, f, len);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, 0, "nd_invalid"), 2);
        /* A bad checksum. */
        len = ns_frame(&n, f, 255, peer, slla, 8);
        f[len - 1] ^= 1;
        link_send(n.pool, n.lb, f, len);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, 0, "icmp6_bad_csum"), 1);
        /* None of them answered or left a trace. */
        assert_int_equal(ctr(&n, 0, "nd_na_tx"), 1); /* the unsolicited one */
        assert_int_equal(mpnet_neigh6_get(n.st[0], 1, peer, &ni), -ENOENT);
        assert_int_equal(link_drain(n.lb), 0);
        /* The valid one is answered and its sender learnt: STALE (7.2.3),
         * then DELAY as the answer used it (7.3.3). */
        len = ns_frame(&n, f, 255, peer, slla, 8);
        link_send(n.pool, n.lb, f, len);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, 0, "nd_na_tx"), 2);
        assert_int_equal(mpnet_neigh6_get(n.st[0], 1, peer, &ni), 0);
        assert_int_equal(ni.state, MPNET_NEIGH_DELAY);
        assert_int_equal(link_drain(n.lb), 1);
        net6_fini(&n);
}

/* An RA from router fe80::R (MAC 02:00:00:00:00:R) with a lifetime. */
static void send_ra(struct net6 *n, uint8_t r, uint16_t lifetime)
{
        uint8_t f[256], src[16] = {0xfe, 0x80, [15] = r}, mc[6];
        uint8_t msg[24] = {MPNET_ICMP6_ND_RA, 0, 0, 0, 64, 0, 0, 0};
        const uint8_t mac[6] = {0x02, 0, 0, 0, 0, r};

        mpnet_put_be16(msg + 6, lifetime);
        msg[16] = MPNET_ND_OPT_SLLA;
        msg[17] = 1;
        memcpy(msg + 18, mac, 6);
        mpnet_ip6_mc_mac(A6("ff02::1"), mc);
        link_send(n->pool, n->lb, f,
                  frame6_icmp(f, mc, mac, src, A6("ff02::1"), 255, msg, sizeof(msg)));
}

/* RFC 4861 6.3.4: every advertising router is a default router, until its
 * lifetime ends, it says 0, or it says it is no router (7.2.5). */
static void test_default_routers(void **state)
{
        const uint8_t *any = A6("::");
        uint8_t f[256], mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b}, lla[16];
        uint8_t na[32] = {MPNET_ICMP6_ND_NA, 0, 0, 0, 0x20, 0, 0, 0};
        struct mpnet_route6 rt;
        struct net6 n;

        (void)state;
        net6_init(&n, 1, NULL);
        ll_of(n.la->info.mac, lla);
        run(&n, 3 * MPNET_NS_PER_S);
        send_ra(&n, 0x0a, 600);
        send_ra(&n, 0x0b, 600);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_route6_get(n.st[0], 0, any, 0, &rt), 0);
        assert_int_equal(rt.n_paths, 2);
        /* fe80::b: an advertisement without the router flag. */
        memcpy(na + 8, A6("fe80::b"), 16);
        na[24] = MPNET_ND_OPT_TLLA;
        na[25] = 1;
        memcpy(na + 26, mac_b, 6);
        link_send(n.pool, n.lb, f,
                  frame6_icmp(f, n.la->info.mac, mac_b, A6("fe80::b"), lla, 255, na, sizeof(na)));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_route6_get(n.st[0], 0, any, 0, &rt), 0);
        assert_int_equal(rt.n_paths, 1);
        assert_memory_equal(rt.paths[0].gw, A6("fe80::a"), 16);
        /* fe80::a: lifetime 0 takes it off at once. */
        send_ra(&n, 0x0a, 0);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_route6_get(n.st[0], 0, any, 0, &rt), -ENOENT);
        /* A short lifetime runs out. */
        send_ra(&n, 0x0b, 5);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_route6_get(n.st[0], 0, any, 0, &rt), 0);
        run(&n, 5 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_route6_get(n.st[0], 0, any, 0, &rt), -ENOENT);
        net6_fini(&n);
}

/* RFC 3810: a general query is answered within its maximum response delay
 * with the groups joined (the solicited-node ones; never all-nodes). */
static void test_mld_query(void **state)
{
        uint8_t f[256], lla[16], snm[16], mc[6];
        struct mpnet_pkt *p;
        struct net6 n;
        size_t len;
        /* MLDv2 general query, maximum response 1000 ms. */
        uint8_t q[28] = {MPNET_ICMP6_MLD_QUERY, 0, 0, 0, 0x03, 0xe8};
        const uint8_t peer[6] = {0x02, 0, 0, 0, 0x55, 0x55};

        (void)state;
        net6_init(&n, 1, NULL);
        ll_of(n.la->info.mac, lla);
        mpnet_ip6_solicited_node(lla, snm);
        run(&n, 15 * MPNET_NS_PER_S);
        assert_int_equal(ctr(&n, 0, "mld_report_tx"), 2); /* robustness 2 */
        link_drain(n.lb);
        mpnet_ip6_mc_mac(A6("ff02::1"), mc);
        len = frame6_icmp(f, mc, peer, A6("fe80::1"), A6("ff02::1"), 1, q, sizeof(q));
        link_send(n.pool, n.lb, f, len);
        /* Hop limit 2: not from the link (5.1.14): ignored. */
        len = frame6_icmp(f, mc, peer, A6("fe80::1"), A6("ff02::1"), 2, q, sizeof(q));
        link_send(n.pool, n.lb, f, len);
        run(&n, 1001 * MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, 0, "mld_rx"), 2);
        assert_int_equal(ctr(&n, 0, "mld_bad"), 1);
        assert_int_equal(ctr(&n, 0, "mld_report_tx"), 3);
        assert_int_equal(mpnet_link_rx_burst(n.lb, 0, &p, 1), 1);
        /* IPv6, hop-by-hop with router alert, then a report of one record:
         * MODE_IS_EXCLUDE for our solicited-node group. */
        assert_int_equal(p->data[20], MPNET_IPPROTO_HOPOPTS);
        assert_int_equal(p->data[21], 1);
        assert_int_equal(p->data[56], MPNET_IP6_OPT_ROUTER_ALERT);
        assert_int_equal(p->data[62], MPNET_ICMP6_MLD2_REPORT);
        assert_int_equal(mpnet_get_be16(p->data + 68), 1);
        assert_int_equal(p->data[70], MPNET_MLD2_MODE_IS_EXCLUDE);
        assert_memory_equal(p->data + 74, snm, 16);
        mpnet_pkt_free(p);
        net6_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ping6_ll_and_global), cmocka_unit_test(test_dad_duplicate),
            cmocka_unit_test(test_dad_loopback),        cmocka_unit_test(test_nud_unreachable),
            cmocka_unit_test(test_malformed_nd),        cmocka_unit_test(test_mld_query),
            cmocka_unit_test(test_default_routers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
