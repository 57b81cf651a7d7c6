/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Malformed and unwanted frames: each is dropped and counted under its own
 * reason, nothing else moves, and nothing is read past the frame (frames sit
 * at the end of their buffer; the ASan build poisons what follows).
 */
#include "mpnet/wire/arp.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"
#include "testutil.h"

#define US   IP4(192, 0, 2, 1)
#define PEER IP4(192, 0, 2, 2)

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

struct env {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b; /* stack on a; the test injects on b */
        struct mpnet_stack *s;
        uint32_t base_in_use;
};

static int env_setup(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "mal"};
        struct mpnet_stack_cfg sc = {.name = "S", .seed = 3};
        struct mpnet_pkt *p[64];
        struct env *e = calloc(1, sizeof(*e));

        memcpy(wc.mac_a, our_mac, 6);
        memcpy(wc.mac_b, peer_mac, 6);
        mpnet_clock_init_virtual(&e->clk, MPNET_NS_PER_S);
        e->pool = mpnet_pool_create("mal", 1024);
        assert_int_equal(mpnet_memwire_create(&wc, &e->a, &e->b), 0);
        sc.clock = &e->clk;
        sc.pool = e->pool;
        e->s = mpnet_stack_create(&sc);
        assert_int_equal(mpnet_iface_attach(e->s, e->a, "s0"), 1);
        assert_int_equal(mpnet_addr4_add(e->s, 1, US, 24), 0);
        assert_int_equal(mpnet_neigh4_add(e->s, 1, PEER, peer_mac), 0);
        mpnet_stack_poll(e->s, mpnet_clock_now(&e->clk));
        /* Drop the announcements. */
        mpnet_pkt_free_bulk(p, mpnet_link_rx_burst(e->b, 0, p, 64));
        e->base_in_use = mpnet_pool_in_use(e->pool);
        *state = e;
        return 0;
}

static int env_teardown(void **state)
{
        struct env *e = *state;

        mpnet_stack_destroy(e->s);
        mpnet_link_destroy(e->a);
        mpnet_link_destroy(e->b);
        assert_int_equal(mpnet_pool_in_use(e->pool), 0);
        mpnet_pool_destroy(e->pool);
        free(e);
        return 0;
}

/* Frame builders. Each returns the frame length. */
static size_t build_eth(uint8_t *b, const uint8_t *dst, uint16_t type)
{
        struct mpnet_eth_repr r = {.ethertype = type};

        memcpy(r.dst, dst, 6);
        memcpy(r.src, peer_mac, 6);
        mpnet_eth_repr_emit(&r, b);
        return MPNET_ETH_HLEN;
}

static size_t build_arp(uint8_t *b, uint16_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        struct mpnet_arp_repr r = {.op = op, .spa = spa, .tpa = tpa};
        size_t n = build_eth(b, bcast, MPNET_ETHERTYPE_ARP);

        memcpy(r.sha, sha, 6);
        mpnet_arp_repr_emit(&r, b + n);
        return n + MPNET_ARP_LEN;
}

/* An echo request from src to dst with data_len bytes of data. */
static size_t build_echo(uint8_t *b, uint32_t src, uint32_t dst, size_t data_len)
{
        uint8_t data[1500];
        struct mpnet_icmp4_repr ic = {.type = MPNET_ICMP4_ECHO_REQUEST, .id = 7, .seq = 1};
        struct mpnet_ip4_repr ip = {
            .src = src, .dst = dst, .proto = MPNET_IPPROTO_ICMP, .ttl = 64, .id = 1};
        size_t n = build_eth(b, our_mac, MPNET_ETHERTYPE_IPV4);

        for (size_t i = 0; i < data_len; i++)
                data[i] = (uint8_t)i;
        ic.data = data;
        ic.data_len = data_len;
        ip.payload_len = (uint16_t)mpnet_icmp4_repr_len(&ic);
        mpnet_ip4_repr_emit(&ip, b + n);
        mpnet_icmp4_repr_emit(&ic, b + n + MPNET_IP4_HLEN);
        return n + MPNET_IP4_HLEN + ip.payload_len;
}

/* Recompute the IPv4 header checksum after a test edited the header. */
static void fix_ip_csum(uint8_t *ip)
{
        size_t hlen = (size_t)(ip[0] & 0xf) * 4;

        ip[10] = ip[11] = 0;
        mpnet_put_be16(ip + 10, mpnet_csum(ip, hlen));
}

static uint64_t drops_total(struct mpnet_stack *s)
{
        uint64_t t = 0;

        for (unsigned c = 0; c < mpnet_stack_counter_count(s); c++) {
                if (strncmp(mpnet_stack_counter_desc(s, c), "drop:", 5) == 0)
                        t += mpnet_stack_counter(s, c);
        }
        return t;
}

/* Inject one frame; return how many frames the stack sent back. */
static unsigned inject(struct env *e, const uint8_t *b, size_t n)
{
        struct mpnet_pkt *p = pkt_at_end(e->pool, b, (uint32_t)n), *out[16];
        unsigned k;

        assert_int_equal(mpnet_link_tx_burst(e->b, 0, &p, 1), 1);
        mpnet_stack_poll(e->s, mpnet_clock_now(&e->clk));
        k = mpnet_link_rx_burst(e->b, 0, out, 16);
        mpnet_pkt_free_bulk(out, k);
        assert_int_equal(mpnet_pool_in_use(e->pool), e->base_in_use);
        return k;
}

/* The frame is dropped under exactly counter c, and nothing is sent. */
static void expect_drop(struct env *e, const uint8_t *b, size_t n, const char *c)
{
        uint64_t before = stk_ctr(e->s, c), total = drops_total(e->s);

        assert_int_equal(inject(e, b, n), 0);
        if (stk_ctr(e->s, c) != before + 1)
                fail_msg("expected counter %s to count the frame", c);
        assert_int_equal(drops_total(e->s), total + 1);
}

static void test_ethernet(void **state)
{
        struct env *e = *state;
        uint8_t f[128];
        static const uint8_t other[6] = {0x02, 9, 9, 9, 9, 9};
        size_t n;

        n = build_echo(f, PEER, US, 8);
        expect_drop(e, f, 13, "eth_truncated");
        expect_drop(e, f, 0, "eth_truncated");
        n = build_echo(f, PEER, US, 8);
        mpnet_put_be16(f + 12, 0x88b5);
        expect_drop(e, f, n, "eth_unknown_type");
        n = build_echo(f, PEER, US, 8);
        memcpy(f, other, 6);
        expect_drop(e, f, n, "eth_not_for_us");
        n = build_echo(f, PEER, US, 8);
        memcpy(f + 6, our_mac, 6);
        expect_drop(e, f, n, "eth_own_src");
}

static void test_arp(void **state)
{
        struct env *e = *state;
        static const uint8_t other[6] = {0x02, 7, 7, 7, 7, 7};
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        struct mpnet_neigh_info ni;
        uint8_t f[128];
        size_t n;
        uint64_t before;

        n = build_arp(f, MPNET_ARP_OP_REQUEST, peer_mac, PEER, US);
        expect_drop(e, f, n - 1, "arp_truncated");
        mpnet_put_be16(f + 14, 6); /* htype IEEE 802 */
        expect_drop(e, f, n, "arp_unsupported");
        n = build_arp(f, 3, peer_mac, PEER, US);
        expect_drop(e, f, n, "arp_bad_op");
        n = build_arp(f, MPNET_ARP_OP_REQUEST, bcast, PEER, US);
        expect_drop(e, f, n, "arp_bad_sender");
        n = build_arp(f, MPNET_ARP_OP_REQUEST, peer_mac, IP4(224, 0, 0, 1), US);
        expect_drop(e, f, n, "arp_bad_sender");

        /* Another host claims our address: counted, cache untouched. */
        n = build_arp(f, MPNET_ARP_OP_REPLY, other, US, US);
        before = stk_ctr(e->s, "arp_conflict");
        assert_int_equal(inject(e, f, n), 0);
        assert_int_equal(stk_ctr(e->s, "arp_conflict"), before + 1);
        assert_int_equal(mpnet_neigh4_get(e->s, 1, US, &ni), -ENOENT);

        /* A request for someone else: no reply, no entry for the sender. */
        n = build_arp(f, MPNET_ARP_OP_REQUEST, other, IP4(192, 0, 2, 50), IP4(192, 0, 2, 77));
        before = stk_ctr(e->s, "arp_not_for_us");
        assert_int_equal(inject(e, f, n), 0);
        assert_int_equal(stk_ctr(e->s, "arp_not_for_us"), before + 1);
        assert_int_equal(mpnet_neigh4_get(e->s, 1, IP4(192, 0, 2, 50), &ni), -ENOENT);

        /* An ARP probe (RFC 5227 2.1.1) for our address: answered, and the
         * sender 0.0.0.0 enters no cache. */
        n = build_arp(f, MPNET_ARP_OP_REQUEST, other, 0, US);
        assert_int_equal(inject(e, f, n), 1);
        assert_int_equal(mpnet_neigh4_get(e->s, 1, 0, &ni), -ENOENT);

        /* A request for us from a new neighbour: answered, sender learnt. */
        n = build_arp(f, MPNET_ARP_OP_REQUEST, other, IP4(192, 0, 2, 60), US);
        assert_int_equal(inject(e, f, n), 1);
        assert_int_equal(mpnet_neigh4_get(e->s, 1, IP4(192, 0, 2, 60), &ni), 0);
        assert_memory_equal(ni.mac, other, 6);
        assert_int_equal(ni.state, MPNET_NEIGH_STALE);
}

static void test_ipv4(void **state)
{
        struct env *e = *state;
        uint8_t f[256];
        uint8_t *ip = f + MPNET_ETH_HLEN;
        size_t n;

        n = build_echo(f, PEER, US, 8);
        expect_drop(e, f, MPNET_ETH_HLEN + 19, "ip4_truncated");
        ip[0] = 0x65;
        expect_drop(e, f, n, "ip4_bad_version");
        n = build_echo(f, PEER, US, 8);
        ip[0] = 0x44;
        expect_drop(e, f, n, "ip4_bad_hlen");
        ip[0] = 0x4f; /* 60-byte header in a 36-byte packet */
        expect_drop(e, f, n, "ip4_bad_hlen");
        n = build_echo(f, PEER, US, 8);
        mpnet_put_be16(ip + 2, 19);
        fix_ip_csum(ip);
        expect_drop(e, f, n, "ip4_bad_len");
        mpnet_put_be16(ip + 2, (uint16_t)(n - MPNET_ETH_HLEN + 1));
        fix_ip_csum(ip);
        expect_drop(e, f, n, "ip4_bad_len");
        n = build_echo(f, PEER, US, 8);
        ip[10] ^= 0x01;
        expect_drop(e, f, n, "ip4_bad_csum");

        n = build_echo(f, IP4(127, 0, 0, 1), US, 8);
        expect_drop(e, f, n, "ip4_bad_src");
        n = build_echo(f, IP4(224, 0, 0, 5), US, 8);
        expect_drop(e, f, n, "ip4_bad_src");
        n = build_echo(f, US, US, 8);
        expect_drop(e, f, n, "ip4_bad_src");
        n = build_echo(f, PEER, IP4(192, 0, 2, 99), 8);
        expect_drop(e, f, n, "ip4_not_for_us");
        /* A first fragment (MF) whose data is not a multiple of 8 bytes. */
        n = build_echo(f, PEER, US, 5);
        ip[6] = 0x20; /* MF */
        fix_ip_csum(ip);
        expect_drop(e, f, n, "ip4_reass_bad");
        /* A fragment that runs past 65535 bytes. */
        n = build_echo(f, PEER, US, 8);
        mpnet_put_be16(ip + 6, 0x1fff); /* offset 65528 */
        fix_ip_csum(ip);
        expect_drop(e, f, n, "ip4_reass_bad");
        /* TCP shorter than its header: dropped by TCP, no ICMP. */
        n = build_echo(f, PEER, US, 8);
        ip[9] = 6;
        fix_ip_csum(ip);
        expect_drop(e, f, n, "tcp_short");
        /* UDP to a closed port and an unknown protocol: dropped and answered
         * with port and protocol unreachable (RFC 1122 3.2.2.1). */
        n = build_echo(f, PEER, US, 8);
        ip[9] = 17;
        mpnet_put_be16(ip + 20 + 4, 16); /* a whole UDP header, no checksum */
        mpnet_put_be16(ip + 20 + 6, 0);
        fix_ip_csum(ip);
        assert_int_equal(inject(e, f, n), 1);
        n = build_echo(f, PEER, US, 8);
        ip[9] = 253;
        fix_ip_csum(ip);
        assert_int_equal(inject(e, f, n), 1);
        assert_int_equal(stk_ctr(e->s, "icmp4_err_tx"), 2);
}

static void test_icmp(void **state)
{
        struct env *e = *state;
        uint8_t f[256];
        uint8_t *ip = f + MPNET_ETH_HLEN, *ic = ip + MPNET_IP4_HLEN;
        size_t n;

        n = build_echo(f, PEER, US, 8);
        /* Seven bytes of ICMP: shorten the IP total length to match. */
        mpnet_put_be16(ip + 2, MPNET_IP4_HLEN + 7);
        fix_ip_csum(ip);
        expect_drop(e, f, MPNET_ETH_HLEN + MPNET_IP4_HLEN + 7, "icmp4_truncated");
        n = build_echo(f, PEER, US, 8);
        ic[2] ^= 0x10;
        expect_drop(e, f, n, "icmp4_bad_csum");
        n = build_echo(f, PEER, IP4(192, 0, 2, 255), 8);
        expect_drop(e, f, n, "icmp4_bcast_echo");
        n = build_echo(f, PEER, IP4(255, 255, 255, 255), 8);
        expect_drop(e, f, n, "icmp4_bcast_echo");
}

/* An echo with Ethernet padding and IP options is answered, trimmed. */
static void test_echo_padding_options(void **state)
{
        struct env *e = *state;
        uint8_t f[256], g[256];
        struct mpnet_pkt *p, *out[4];
        struct mpnet_ip4_view v;
        size_t n = build_echo(f, PEER, US, 4);

        memset(f + n, 0xee, 60 - n); /* pad to the 60-byte minimum with junk */
        p = pkt_at_end(e->pool, f, 60);
        assert_int_equal(mpnet_link_tx_burst(e->b, 0, &p, 1), 1);
        mpnet_stack_poll(e->s, mpnet_clock_now(&e->clk));
        assert_int_equal(mpnet_link_rx_burst(e->b, 0, out, 4), 1);
        assert_int_equal(out[0]->pkt_len, n);
        assert_int_equal(mpnet_ip4_view_check(out[0]->data + 14, out[0]->len - 14, &v), 0);
        assert_int_equal(mpnet_ip4_src(&v), US);
        assert_int_equal(mpnet_ip4_dst(&v), PEER);
        assert_true(mpnet_ip4_csum_ok(&v));
        mpnet_pkt_free(out[0]);

        /* The same with 4 bytes of options (NOP NOP NOP EOL). */
        n = build_echo(f, PEER, US, 8);
        memcpy(g, f, 34);
        memcpy(g + 38, f + 34, n - 34);
        g[34] = g[35] = g[36] = 1;
        g[37] = 0;
        g[14] = 0x46;
        mpnet_put_be16(g + 16, (uint16_t)(n - 14 + 4));
        fix_ip_csum(g + 14);
        assert_int_equal(inject(e, g, n + 4), 1);
}

/* Every truncation of a valid echo request is dropped and counted. */
static void test_truncation_sweep(void **state)
{
        struct env *e = *state;
        uint8_t f[256];
        size_t n = build_echo(f, PEER, US, 56);
        uint64_t rx = stk_ctr(e->s, "rx_frames");

        for (size_t len = 0; len < n; len++) {
                uint64_t total = drops_total(e->s);

                assert_int_equal(inject(e, f, len), 0);
                assert_int_equal(drops_total(e->s), total + 1);
        }
        assert_int_equal(stk_ctr(e->s, "rx_frames"), rx + n);
        assert_int_equal(inject(e, f, n), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_ethernet, env_setup, env_teardown),
            cmocka_unit_test_setup_teardown(test_arp, env_setup, env_teardown),
            cmocka_unit_test_setup_teardown(test_ipv4, env_setup, env_teardown),
            cmocka_unit_test_setup_teardown(test_icmp, env_setup, env_teardown),
            cmocka_unit_test_setup_teardown(test_echo_padding_options, env_setup, env_teardown),
            cmocka_unit_test_setup_teardown(test_truncation_sweep, env_setup, env_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
