/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 local delivery on the workers (flows owned by workers):
 *
 * Echo: requests to the router's own address arriving on both workers'
 * queues are answered by the worker that received them, with no punt to
 * the control thread (which does not poll meanwhile); each worker's
 * ip4-local node shows its share.
 *
 * Fragments: the fragments of each datagram arrive on both workers; the
 * worker that owns the datagram gets the others through a hand-off ring,
 * reassembles it once and answers it.
 *
 * Closed ports: UDP to the router is answered with port unreachable by the
 * workers, within the stack's error rate.
 */
#include "mpnet/wire/ipv4.h"
#include "mtnet.h"
#include "stack/stack_priv.h"

#define N_SRC 16

/* 192.0.2.(10 + i): more hosts on interface 1, all at the generator's MAC. */
static uint32_t src_of(unsigned i)
{
        return IP4(192, 0, 2, 10 + i % N_SRC);
}

static void add_hosts(struct mtnet *m)
{
        for (unsigned i = 0; i < N_SRC; i++)
                assert_int_equal(mpnet_neigh4_add(m->r, 1, src_of(i), m->g->info.mac), 0);
}

/* Ethernet and IPv4 headers from src to R's address on interface 1, for a
 * payload of n bytes at fragment offset off (bytes). @return 34. */
static size_t hdr4(struct mtnet *m, uint8_t *f, uint32_t src, uint8_t proto, uint16_t id, size_t n,
                   unsigned off, bool more)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {.src = src,
                                    .dst = IP4(192, 0, 2, 1),
                                    .id = id,
                                    .payload_len = (uint16_t)n,
                                    .proto = proto,
                                    .ttl = 64,
                                    .mf = more,
                                    .frag_off = (uint16_t)off};

        memcpy(eth.dst, m->r1->info.mac, 6);
        memcpy(eth.src, m->g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        return 34;
}

static size_t echo_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        uint8_t *icmp = f + 34;

        memset(f, 0, 60);
        hdr4(m, f, src_of(i), MPNET_IPPROTO_ICMP, (uint16_t)i, 26, 0, false);
        icmp[0] = 8;
        mpnet_put_be16(icmp + 4, 0x77);
        mpnet_put_be16(icmp + 6, (uint16_t)i);
        mpnet_put_be16(icmp + 2, mpnet_csum(icmp, 26));
        return 60;
}

static size_t udp_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        uint8_t *udp = f + 34;

        memset(f, 0, 60);
        hdr4(m, f, src_of(i), MPNET_IPPROTO_UDP, (uint16_t)i, 26, 0, false);
        mpnet_put_be16(udp, (uint16_t)(40000 + i));
        mpnet_put_be16(udp + 2, 9); /* discard: no socket listens */
        mpnet_put_be16(udp + 4, 26);
        return 60;
}

/* Wait (without polling R) until R has sent n IPv4 frames back. */
static bool wait_back(struct mtnet *m, uint64_t n)
{
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(1000)) {
                if (atomic_load(&m->back) >= n)
                        return true;
        }
        return false;
}

/* Packets worker w's ip4-local node took. */
static uint64_t local_on(struct mtnet *m, unsigned w)
{
        const struct wctx *c = m->r->ctx[w + 1];

        return c != NULL ? mpnet_stat_read(&c->node_pkts[NODE_ip4_local]) : 0;
}

static void test_echo_on_workers(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 31, .ip4_forwarding = true};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 2000;

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        mt_send_frames(m, n, echo_fn);
        assert_true(wait_back(m, n));
        print_message("%u echo requests: worker 0 took %llu, worker 1 %llu, punts %llu\n", n,
                      (unsigned long long)local_on(m, 0), (unsigned long long)local_on(m, 1),
                      (unsigned long long)stk_ctr(m->r, "punt"));
        assert_int_equal(stk_ctr(m->r, "icmp4_echo_req"), n);
        assert_int_equal(atomic_load(&m->back), n);
        /* Answered where they arrived: both workers, nothing punted. */
        assert_true(local_on(m, 0) > 0);
        assert_true(local_on(m, 1) > 0);
        assert_int_equal(local_on(m, 0) + local_on(m, 1), n);
        assert_int_equal(stk_ctr(m->r, "punt"), 0);
        assert_int_equal(mt_drops(m->r), 0);
        mt_fini(m);
}

/* Datagram d as three fragments of an echo request with 240 bytes of data:
 * the first and last onto queue 0, the middle onto queue 1. */
static void send_frag_datagram(struct mtnet *m, unsigned d)
{
        uint8_t msg[248], f[14 + 20 + 88];
        static const unsigned off[3] = {0, 88, 176}, len[3] = {88, 88, 72};

        memset(msg, 0, sizeof(msg));
        msg[0] = 8;
        mpnet_put_be16(msg + 4, 0x99);
        mpnet_put_be16(msg + 6, (uint16_t)d);
        for (unsigned i = 8; i < sizeof(msg); i++)
                msg[i] = (uint8_t)(i + d);
        mpnet_put_be16(msg + 2, mpnet_csum(msg, sizeof(msg)));
        for (unsigned k = 0; k < 3; k++) {
                size_t h = hdr4(m, f, src_of(d), MPNET_IPPROTO_ICMP, (uint16_t)(0x1000 + d), len[k],
                                off[k], k < 2);
                struct mpnet_pkt *p;

                memcpy(f + h, msg + off[k], len[k]);
                p = mpnet_pkt_from_bytes(m->pool, f, (uint32_t)(h + len[k]));
                assert_non_null(p);
                while (mpnet_link_tx_burst(m->g, k == 1 ? 1 : 0, &p, 1) != 1)
                        usleep(100);
        }
}

static void test_frags_on_two_workers(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 32, .ip4_forwarding = true};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 64;

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        for (unsigned d = 0; d < n; d++)
                send_frag_datagram(m, d);
        assert_true(wait_back(m, n));
        print_message("%u datagrams in 3 fragments over 2 workers: %llu reassembled, %llu "
                      "fragments handed over\n",
                      n, (unsigned long long)stk_ctr(m->r, "ip4_reassembled"),
                      (unsigned long long)stk_ctr(m->r, "handoff"));
        /* Each datagram reassembled once, on one worker, and answered once. */
        assert_int_equal(stk_ctr(m->r, "ip4_frag_rx"), 3 * n);
        assert_int_equal(stk_ctr(m->r, "ip4_reassembled"), n);
        assert_int_equal(stk_ctr(m->r, "icmp4_echo_req"), n);
        assert_int_equal(atomic_load(&m->back), n);
        /* Every datagram had fragments on both workers: one worker got at
         * least one fragment of each that it does not own. */
        assert_true(stk_ctr(m->r, "handoff") >= n);
        assert_int_equal(stk_ctr(m->r, "handoff_drop"), 0);
        assert_int_equal(stk_ctr(m->r, "punt"), 0);
        assert_int_equal(mt_drops(m->r), 0);
        mt_fini(m);
}

static void test_port_unreachable_on_workers(void **state)
{
        struct mpnet_stack_cfg sc = {
            .seed = 33, .ip4_forwarding = true, .icmp4_rate = 1000000, .icmp4_burst = 100000};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 1000;

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        mt_send_frames(m, n, udp_fn);
        assert_true(wait_back(m, n));
        assert_int_equal(stk_ctr(m->r, "icmp4_err_tx"), n);
        assert_int_equal(atomic_load(&m->back), n);
        assert_true(local_on(m, 0) > 0);
        assert_true(local_on(m, 1) > 0);
        assert_int_equal(stk_ctr(m->r, "punt"), 0);
        mt_fini(m);
}

/* The contexts' error buckets add up to the stack's burst: with no time to
 * refill, a flood of closed-port datagrams over both workers draws at most
 * the configured burst of errors (and the rate's trickle meanwhile). */
static void test_error_rate_shared(void **state)
{
        struct mpnet_stack_cfg sc = {
            .seed = 34, .ip4_forwarding = true, .icmp4_rate = 1, .icmp4_burst = 40};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 2000;
        uint64_t sent, limited;

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        mt_send_frames(m, n, udp_fn);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end && local_on(m, 0) + local_on(m, 1) < n; usleep(1000))
                ;
        assert_int_equal(local_on(m, 0) + local_on(m, 1), n);
        sent = stk_ctr(m->r, "icmp4_err_tx");
        limited = stk_ctr(m->r, "icmp4_err_ratelimited");
        print_message("%u datagrams to a closed port, burst 40: %llu errors, %llu limited\n", n,
                      (unsigned long long)sent, (unsigned long long)limited);
        assert_int_equal(sent + limited, n);
        /* 20 + 20 of the burst, plus what one token a second per worker
         * adds over the test's run (generously bounded). */
        assert_true(sent >= 40);
        assert_true(sent <= 40 + 2 * 60);
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_echo_on_workers),
            cmocka_unit_test(test_frags_on_two_workers),
            cmocka_unit_test(test_port_unreachable_on_workers),
            cmocka_unit_test(test_error_rate_shared),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
