/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 input of crafted packets on a wire end the test drives: reassembly
 * in any order, overlapping fragments (RFC 5722: the whole datagram, and
 * what follows of it, dropped), an atomic fragment (RFC 6946), the 60 s
 * reassembly timeout (time exceeded code 1), and extension header errors
 * (RFC 8200 4.2 option actions, unknown next header) with their parameter
 * problem pointers.
 */
#include "ip6util.h"
#include "mpnet/wire/ipv4.h"
#include "stack/stack_priv.h"

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0x77, 0x77};

struct net1 {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *st[1];
        uint8_t f[2048];
};

static void run(struct net1 *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 1, mpnet_clock_now(&n->clk) + ns);
}

static void net1_init(struct net1 *n)
{
        struct mpnet_memwire_cfg wc = {.name = "fr6"};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("fr6", 1024);
        assert_int_equal(mpnet_memwire_create(&wc, &n->la, &n->lb), 0);
        n->st[0] = stack6_new(&n->clk, n->pool, "A", 5, false);
        assert_int_equal(mpnet_iface_attach(n->st[0], n->la, "a0"), 1);
        assert_int_equal(mpnet_addr6_add(n->st[0], 1, A6("2001:db8::1"), 64, MPNET_ADDR6_F_NODAD),
                         0);
        assert_int_equal(mpnet_neigh6_add(n->st[0], 1, A6("2001:db8::99"), peer_mac), 0);
        /* Past DAD and the three router solicitations (RFC 4861 6.3.7). */
        run(n, 15 * MPNET_NS_PER_S);
        link_drain(n->lb);
}

static void net1_fini(struct net1 *n)
{
        mpnet_stack_destroy(n->st[0]);
        link_drain(n->lb);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

static uint64_t ctr(struct net1 *n, const char *c)
{
        return stk_ctr(n->st[0], c);
}

/* An echo request of 24 bytes (id 1, seq), checksummed. */
static void echo24(uint8_t *m, uint16_t seq)
{
        memset(m, 0, 24);
        m[0] = MPNET_ICMP6_ECHO_REQUEST;
        m[5] = 1;
        mpnet_put_be16(m + 6, seq);
        for (int i = 8; i < 24; i++)
                m[i] = (uint8_t)i;
        mpnet_put_be16(m + 2, mpnet_icmp6_csum(m, 24, A6("2001:db8::99"), A6("2001:db8::1")));
}

/* Ethernet + IPv6 from the peer to A, next header nh, then ext (extn
 * bytes), then data (n bytes). */
static size_t frame(struct net1 *n, uint8_t nh, const uint8_t *ext, size_t extn,
                    const uint8_t *data, size_t dn)
{
        struct mpnet_ip6_repr ip = {
            .payload_len = (uint16_t)(extn + dn), .next_header = nh, .hop_limit = 64};
        uint8_t *f = n->f;

        memcpy(f, n->la->info.mac, 6);
        memcpy(f + 6, peer_mac, 6);
        f[12] = 0x86;
        f[13] = 0xdd;
        memcpy(ip.src, A6("2001:db8::99"), 16);
        memcpy(ip.dst, A6("2001:db8::1"), 16);
        mpnet_ip6_repr_emit(&ip, f + 14);
        if (extn > 0)
                memcpy(f + 54, ext, extn);
        memcpy(f + 54 + extn, data, dn);
        return 54 + extn + dn;
}

/* One fragment of the 24-byte echo message m. */
static void send_frag(struct net1 *n, const uint8_t *m, uint32_t id, uint16_t off, uint16_t len,
                      bool more)
{
        uint8_t fh[8] = {MPNET_IPPROTO_ICMPV6, 0};

        mpnet_put_be16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
        mpnet_put_be32(fh + 4, id);
        link_send(n->pool, n->lb, n->f, frame(n, MPNET_IPPROTO_FRAGMENT, fh, 8, m + off, len));
}

/* Take the one frame A sent and return its ICMPv6 type, code and word. */
static uint8_t take_icmp(struct net1 *n, uint8_t *code, uint32_t *word)
{
        struct mpnet_pkt *p;
        uint8_t type;

        assert_int_equal(mpnet_link_rx_burst(n->lb, 0, &p, 1), 1);
        assert_true(p->len >= 62);
        assert_int_equal(p->data[20], MPNET_IPPROTO_ICMPV6);
        type = p->data[54];
        *code = p->data[55];
        *word = mpnet_get_be32(p->data + 58);
        mpnet_pkt_free(p);
        assert_int_equal(link_drain(n->lb), 0);
        return type;
}

static void test_reassembly(void **state)
{
        struct net1 n;
        uint8_t m[24], code;
        uint32_t word;

        (void)state;
        net1_init(&n);
        /* Out of order: the last fragment first. */
        echo24(m, 1);
        send_frag(&n, m, 100, 16, 8, false);
        send_frag(&n, m, 100, 0, 16, true);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_reassembled"), 1);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_ECHO_REPLY);
        assert_int_equal(word, 0x00010001);

        /* RFC 5722: an overlap drops the datagram, and its late fragment. */
        echo24(m, 2);
        send_frag(&n, m, 200, 0, 16, true);
        send_frag(&n, m, 200, 8, 16, false);
        send_frag(&n, m, 200, 16, 8, false);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_reass_overlap"), 2);
        assert_int_equal(ctr(&n, "ip6_reassembled"), 1);
        assert_int_equal(link_drain(n.lb), 0);

        /* RFC 6946: an atomic fragment is taken alone, at once. */
        echo24(m, 3);
        send_frag(&n, m, 200, 0, 24, false);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_atomic_frag"), 1);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_ECHO_REPLY);

        /* A first fragment alone: 60 s later, time exceeded code 1. */
        echo24(m, 4);
        send_frag(&n, m, 300, 0, 16, true);
        run(&n, 59 * MPNET_NS_PER_S);
        assert_int_equal(link_drain(n.lb), 0);
        run(&n, 2 * MPNET_NS_PER_S);
        assert_int_equal(ctr(&n, "ip6_reass_timeout"), 1);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_TIME_EXCEEDED);
        assert_int_equal(code, 1);
        /* The dead datagram 200 has timed out too: its id is free again. */
        echo24(m, 5);
        send_frag(&n, m, 200, 0, 16, true);
        send_frag(&n, m, 200, 16, 8, false);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_reassembled"), 2);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_ECHO_REPLY);
        net1_fini(&n);
}

static void test_ext_header_errors(void **state)
{
        struct net1 n;
        uint8_t m[24], code;
        uint32_t word;
        /* Hop-by-hop with an unknown option of action 10 (type 0x80). */
        uint8_t hbh[8] = {MPNET_IPPROTO_ICMPV6, 0, 0x80, 4, 0, 0, 0, 0};

        (void)state;
        net1_init(&n);
        echo24(m, 1);
        link_send(n.pool, n.lb, n.f, frame(&n, MPNET_IPPROTO_HOPOPTS, hbh, 8, m, 24));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_PARAM_PROBLEM);
        assert_int_equal(code, MPNET_ICMP6_PARAM_OPTION);
        assert_int_equal(word, 42); /* the option's type byte */
        /* Action 01: dropped without a word. */
        hbh[2] = 0x40;
        link_send(n.pool, n.lb, n.f, frame(&n, MPNET_IPPROTO_HOPOPTS, hbh, 8, m, 24));
        /* Action 00: skipped; the echo is answered. */
        hbh[2] = 0x1e;
        link_send(n.pool, n.lb, n.f, frame(&n, MPNET_IPPROTO_HOPOPTS, hbh, 8, m, 24));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_opt_unknown"), 2);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_ECHO_REPLY);
        /* Destination options with action 11 to a unicast address. */
        hbh[2] = 0xc0;
        link_send(n.pool, n.lb, n.f, frame(&n, MPNET_IPPROTO_DSTOPTS, hbh, 8, m, 24));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_PARAM_PROBLEM);
        assert_int_equal(word, 42);
        /* An unknown next header: code 1 at the field that names it. */
        link_send(n.pool, n.lb, n.f, frame(&n, 253, NULL, 0, m, 24));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_PARAM_PROBLEM);
        assert_int_equal(code, MPNET_ICMP6_PARAM_NEXT_HEADER);
        assert_int_equal(word, 6);
        /* Hop-by-hop after another header (RFC 8200 4.1): code 1. */
        hbh[0] = MPNET_IPPROTO_HOPOPTS;
        hbh[2] = 0x1e;
        link_send(n.pool, n.lb, n.f, frame(&n, MPNET_IPPROTO_DSTOPTS, hbh, 8, m, 24));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_PARAM_PROBLEM);
        assert_int_equal(code, MPNET_ICMP6_PARAM_NEXT_HEADER);
        assert_int_equal(word, 40);
        /* A payload length past the frame, a multicast source: dropped. */
        link_send(n.pool, n.lb, n.f, frame(&n, MPNET_IPPROTO_ICMPV6, NULL, 0, m, 24) - 1);
        memcpy(n.f + 22, A6("ff02::1"), 16);
        link_send(n.pool, n.lb, n.f, 78);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_bad_len"), 1);
        assert_int_equal(ctr(&n, "ip6_bad_src"), 1);
        assert_int_equal(link_drain(n.lb), 0);
        assert_int_equal(ctr(&n, "ip6_ext_bad"), 2);
        assert_int_equal(ctr(&n, "ip6_unknown_proto"), 1);
        net1_fini(&n);
}

/* RFC 4443 2.4: no error about an error or to a group (but for the
 * exceptions), and a token bucket on the rest. */
static void test_icmp6_error_rules(void **state)
{
        struct net1 n;
        uint8_t m[24], code;
        uint32_t word;
        uint8_t hbh[8] = {MPNET_IPPROTO_ICMPV6, 0, 0x80, 4, 0, 0, 0, 0};
        size_t len;

        (void)state;
        net1_init(&n);
        /* An unknown next header sent to all-nodes: no error. */
        echo24(m, 1);
        len = frame(&n, 253, NULL, 0, m, 24);
        memcpy(n.f + 38, A6("ff02::1"), 16);
        mpnet_ip6_mc_mac(A6("ff02::1"), n.f);
        link_send(n.pool, n.lb, n.f, len);
        /* The same to all-nodes with an option of action 10: parameter
         * problem code 2 is allowed (2.4(e.3)). */
        len = frame(&n, MPNET_IPPROTO_HOPOPTS, hbh, 8, m, 24);
        memcpy(n.f + 38, A6("ff02::1"), 16);
        mpnet_ip6_mc_mac(A6("ff02::1"), n.f);
        link_send(n.pool, n.lb, n.f, len);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "icmp6_err_suppressed"), 1);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_PARAM_PROBLEM);
        assert_int_equal(code, MPNET_ICMP6_PARAM_OPTION);
        /* An ICMPv6 error with a bad option: not answered (2.4(e.1)). */
        m[0] = MPNET_ICMP6_DEST_UNREACH;
        link_send(n.pool, n.lb, n.f, frame(&n, MPNET_IPPROTO_HOPOPTS, hbh, 8, m, 24));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "icmp6_err_suppressed"), 2);
        assert_int_equal(link_drain(n.lb), 0);
        /* 60 at once: the burst of 50 goes, the rest waits for tokens. */
        echo24(m, 2);
        for (int i = 0; i < 60; i++)
                link_send(n.pool, n.lb, n.f, frame(&n, 253, NULL, 0, m, 24));
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(link_drain(n.lb), 50);
        assert_true(ctr(&n, "icmp6_err_ratelimited") >= 9);
        net1_fini(&n);
}

/* One source holds at most a quarter of the reassembly memory; another
 * source still gets its datagram through. */
static void test_reass_caps(void **state)
{
        struct net1 n;
        uint8_t m[24], code;
        uint32_t word;
        unsigned held;

        (void)state;
        net1_init(&n);
        echo24(m, 1);
        /* First fragments only, each of another datagram: 1024 buffers in
         * the pool, a quarter for reassembly, a quarter of that a source. */
        for (uint32_t id = 1; id <= 100; id++)
                send_frag(&n, m, id, 0, 16, true);
        run(&n, MPNET_NS_PER_MS);
        held = 100 - (unsigned)ctr(&n, "ip6_reass_cap");
        assert_int_equal(held, 64);
        /* Another source: a whole datagram. */
        {
                uint8_t fh[8] = {MPNET_IPPROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 9};
                size_t len;

                assert_int_equal(mpnet_neigh6_add(n.st[0], 1, A6("2001:db8::98"), peer_mac), 0);
                memset(m, 0, sizeof(m));
                m[0] = MPNET_ICMP6_ECHO_REQUEST;
                mpnet_put_be16(m + 2,
                               mpnet_icmp6_csum(m, 24, A6("2001:db8::98"), A6("2001:db8::1")));
                len = frame(&n, MPNET_IPPROTO_FRAGMENT, fh, 8, m, 16);
                memcpy(n.f + 22, A6("2001:db8::98"), 16);
                link_send(n.pool, n.lb, n.f, len);
                fh[3] = 0;
                mpnet_put_be16(fh + 2, 16);
                len = frame(&n, MPNET_IPPROTO_FRAGMENT, fh, 8, m + 16, 8);
                memcpy(n.f + 22, A6("2001:db8::98"), 16);
                link_send(n.pool, n.lb, n.f, len);
        }
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_reassembled"), 1);
        assert_int_equal(take_icmp(&n, &code, &word), MPNET_ICMP6_ECHO_REPLY);
        net1_fini(&n);
}

/* A first fragment of IPv4 datagram id from 192.0.2.<src>, 16 bytes. */
static void send_frag4(struct net1 *n, uint32_t src, uint16_t id)
{
        struct mpnet_ip4_repr ip = {.src = 0xc0000200u | src,
                                    .dst = 0xc0000201u,
                                    .id = id,
                                    .payload_len = 16,
                                    .proto = MPNET_IPPROTO_UDP,
                                    .ttl = 64,
                                    .mf = true};
        uint8_t *f = n->f;

        memcpy(f, n->la->info.mac, 6);
        memcpy(f + 6, peer_mac, 6);
        f[12] = 0x08;
        f[13] = 0x00;
        mpnet_ip4_repr_emit(&ip, f + 14);
        memset(f + 34, 0x11, 16);
        link_send(n->pool, n->lb, n->f, 50);
}

/* The reassembly cap is the stack's, over both families and every context
 * that owns flows (two workers' contexts here, the test thread playing
 * both): fragments that never complete, from many sources, hold at most
 * the cap in all, the families and contexts together. */
static void test_reass_cap_is_the_stacks(void **state)
{
        struct mpnet_stack *s;
        /* A quarter of the pool, each buffer counted whole. */
        const uint64_t cap = 1024 / 4 * ((uint64_t)sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE);
        struct mpnet_stack_usage u;
        struct wctx *w[2];
        uint8_t m[24];
        struct net1 n;

        (void)state;
        net1_init(&n);
        s = n.st[0];
        assert_int_equal(mpnet_addr4_add(s, 1, 0xc0000201u, 24), 0);
        for (unsigned i = 0; i < 2; i++) {
                w[i] = stack_ctx_get(s, i + 1);
                assert_non_null(w[i]);
                stack_ctx_queues(s, i + 1, 1, -1); /* owns flows from now on */
        }
        echo24(m, 1);
        /* 1024 buffers: a cap of 256 for the stack, which each context's
         * tables (256 IPv6 datagrams, 1024 IPv4) could pass alone. */
        for (uint32_t k = 0; k < 200; k++) {
                send_frag(&n, m, k, 0, 16, true);
                memcpy(n.f + 22, A6("2001:db8::100"), 16);
                n.f[22 + 14] = (uint8_t)(k >> 8);
                n.f[22 + 15] = (uint8_t)k;
                link_send(n.pool, n.lb, n.f, 54 + 8 + 16);
                send_frag4(&n, 2 + k % 200, (uint16_t)k);
                if (k % 32 == 31 || k == 199) {
                        run(&n, MPNET_NS_PER_MS); /* the control thread hands them over */
                        for (unsigned i = 0; i < 2; i++)
                                (void)ctx_service(w[i]);
                        mpnet_stack_usage_get(s, 0, &u);
                        assert_true(u.reass4_bytes + u.reass6_bytes <= cap);
                }
        }
        mpnet_stack_usage_get(s, 0, &u);
        assert_int_equal(u.reass4_max_bytes, cap);
        assert_int_equal(u.reass6_max_bytes, cap);
        /* The flood reached the cap. */
        assert_true(u.reass4_bytes + u.reass6_bytes > cap / 10 * 9);
        assert_true(ctr(&n, "ip6_reass_cap") + ctr(&n, "ip4_reass_cap") > 0);
        assert_true(ctr(&n, "handoff") > 0);
        for (unsigned i = 0; i < 2; i++)
                stack_ctx_queues(s, i + 1, -1, -1);
        net1_fini(&n);
}

/* Datagrams that share a hash chain: one leaving (reassembled) keeps the
 * others findable (the chain's filter is recomputed, not cleared), so each
 * last fragment joins its datagram and every one is reassembled. 60
 * datagrams on 512 chains put a few on shared chains. */
static void test_reass_shared_chains(void **state)
{
        enum { N = 60 };
        struct net1 n;
        uint8_t m[24];

        (void)state;
        net1_init(&n);
        echo24(m, 1);
        for (uint32_t id = 1; id <= N; id++)
                send_frag(&n, m, id, 0, 16, true);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip6_reass_cap"), 0);
        /* Even ids complete first, then the odd ones. */
        for (uint32_t pass = 0; pass < 2; pass++) {
                for (uint32_t id = 2 - pass; id <= N; id += 2)
                        send_frag(&n, m, id, 16, 8, false);
                run(&n, MPNET_NS_PER_MS);
                assert_int_equal(ctr(&n, "ip6_reassembled"), pass == 0 ? N / 2 : N);
                assert_int_equal(link_drain(n.lb), N / 2);
        }
        net1_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_reassembly),
            cmocka_unit_test(test_ext_header_errors),
            cmocka_unit_test(test_icmp6_error_rules),
            cmocka_unit_test(test_reass_caps),
            cmocka_unit_test(test_reass_cap_is_the_stacks),
            cmocka_unit_test(test_reass_shared_chains),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
