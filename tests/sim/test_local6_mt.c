/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 local delivery on the workers (flows owned by workers), as
 * test_local_mt does for IPv4:
 *
 * Echo: requests to the router's own address arriving on both workers'
 * queues are answered by the worker that received them, with no punt to
 * the control thread (which does not poll meanwhile); each worker's
 * ip6-local node shows its share.
 *
 * Fragments: the fragments of each datagram arrive on both workers; the
 * worker that owns the datagram gets the others through a hand-off ring,
 * reassembles it once and answers it.
 *
 * Closed ports: UDP to the router is answered with port unreachable by the
 * workers, within the stack's error rate; the workers' shares of the rate
 * add up to the configured one.
 *
 * Tentative addresses (RFC 4862 5.4): an address still under DAD receives
 * nothing; once DAD is done (the control thread publishes the change) the
 * workers answer for it.
 */
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mtnet.h"
#include "stack/stack_priv.h"

#define N_SRC 16

/* 2001:db8:1::(10 + i): more hosts on interface 1, all at the generator's
 * MAC. */
static const uint8_t *src_of(unsigned i)
{
        static _Thread_local uint8_t a[16];

        memcpy(a, A6("2001:db8:1::"), 16);
        a[15] = (uint8_t)(10 + i % N_SRC);
        return a;
}

static void add_hosts(struct mtnet *m)
{
        for (unsigned i = 0; i < N_SRC; i++)
                assert_int_equal(mpnet_neigh6_add(m->r, 1, src_of(i), m->g->info.mac), 0);
}

static const uint8_t *echo_dst = NULL; /* the address echo_fn asks; R's by default */

static size_t echo_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        uint8_t msg[24] = {MPNET_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 0x77};

        mpnet_put_be16(msg + 6, (uint16_t)i);
        return frame6_icmp(f, m->r1->info.mac, m->g->info.mac, src_of(i),
                           echo_dst != NULL ? echo_dst : m->r1_6, 64, msg, sizeof(msg));
}

static size_t udp_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        struct mpnet_ip6_repr ip = {
            .payload_len = 16, .next_header = MPNET_IPPROTO_UDP, .hop_limit = 64};
        uint8_t *udp = f + 14 + 40;

        memset(f, 0, 70);
        memcpy(f, m->r1->info.mac, 6);
        memcpy(f + 6, m->g->info.mac, 6);
        mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV6);
        memcpy(ip.src, src_of(i), 16);
        memcpy(ip.dst, m->r1_6, 16);
        mpnet_ip6_repr_emit(&ip, f + 14);
        mpnet_put_be16(udp, (uint16_t)(40000 + i));
        mpnet_put_be16(udp + 2, 9); /* discard: no socket listens */
        mpnet_put_be16(udp + 4, 16);
        mpnet_put_be16(udp + 6,
                       mpnet_csum_fold(mpnet_csum_add(
                           mpnet_ip6_pseudo_sum(ip.src, ip.dst, 16, MPNET_IPPROTO_UDP), udp, 16)));
        return 70;
}

/* Wait (without polling R) until *ctr reaches n. */
static bool wait_ctr(_Atomic uint64_t *ctr, uint64_t n)
{
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(1000)) {
                if (atomic_load(ctr) >= n)
                        return true;
        }
        return false;
}

/* Packets worker w's ip6-local node took. */
static uint64_t local_on(struct mtnet *m, unsigned w)
{
        const struct wctx *c = m->r->ctx[w + 1];

        return c != NULL ? mpnet_stat_read(&c->node_pkts[NODE_ip6_local]) : 0;
}

static void test_echo6_on_workers(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 41, .ip6_forwarding = true};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 2000;

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        mt_send_frames(m, n, echo_fn);
        assert_true(wait_ctr(&m->back6, n));
        print_message("%u echo6 requests: worker 0 took %llu, worker 1 %llu, punts %llu\n", n,
                      (unsigned long long)local_on(m, 0), (unsigned long long)local_on(m, 1),
                      (unsigned long long)stk_ctr(m->r, "punt"));
        assert_int_equal(stk_ctr(m->r, "icmp6_echo_req"), n);
        assert_int_equal(atomic_load(&m->back6), n);
        /* Answered where they arrived: both workers, nothing punted. */
        assert_true(local_on(m, 0) > 0);
        assert_true(local_on(m, 1) > 0);
        assert_int_equal(local_on(m, 0) + local_on(m, 1), n);
        assert_int_equal(stk_ctr(m->r, "punt"), 0);
        assert_int_equal(mt_drops(m->r), 0);
        mt_fini(m);
}

/* Datagram d as three fragments of an echo request with 240 bytes of data:
 * the first and last onto queue 0, the middle onto queue 1; only those
 * whose bit is set in parts. */
static void send_frag_parts(struct mtnet *m, unsigned d, unsigned parts)
{
        static const unsigned off[3] = {0, 88, 176}, len[3] = {88, 88, 72};
        const uint8_t *src = src_of(d);
        uint8_t msg[248], f[14 + 40 + 8 + 88];

        memset(msg, 0, sizeof(msg));
        msg[0] = MPNET_ICMP6_ECHO_REQUEST;
        mpnet_put_be16(msg + 4, 0x99);
        mpnet_put_be16(msg + 6, (uint16_t)d);
        for (unsigned i = 8; i < sizeof(msg); i++)
                msg[i] = (uint8_t)(i + d);
        mpnet_put_be16(msg + 2, mpnet_icmp6_csum(msg, sizeof(msg), src, m->r1_6));
        for (unsigned k = 0; k < 3; k++) {
                struct mpnet_ip6_repr ip = {.payload_len = (uint16_t)(8 + len[k]),
                                            .next_header = MPNET_IPPROTO_FRAGMENT,
                                            .hop_limit = 64};
                uint8_t *fh = f + 14 + 40;
                struct mpnet_pkt *p;

                if (!(parts & 1u << k))
                        continue;

                memcpy(f, m->r1->info.mac, 6);
                memcpy(f + 6, m->g->info.mac, 6);
                mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV6);
                memcpy(ip.src, src, 16);
                memcpy(ip.dst, m->r1_6, 16);
                mpnet_ip6_repr_emit(&ip, f + 14);
                /* RFC 8200 4.5: next header, reserved, offset | M, id. */
                fh[0] = MPNET_IPPROTO_ICMPV6;
                fh[1] = 0;
                mpnet_put_be16(fh + 2, (uint16_t)(off[k] | (k < 2 ? 1 : 0)));
                mpnet_put_be32(fh + 4, 0x1000 + d);
                memcpy(fh + 8, msg + off[k], len[k]);
                p = mpnet_pkt_from_bytes(m->pool, f, (uint32_t)(14 + 40 + 8 + len[k]));
                assert_non_null(p);
                while (mpnet_link_tx_burst(m->g, k == 1 ? 1 : 0, &p, 1) != 1)
                        usleep(100);
        }
}

static void send_frag_datagram(struct mtnet *m, unsigned d)
{
        send_frag_parts(m, d, 7);
}

static void test_frags6_on_two_workers(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 42, .ip6_forwarding = true};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 64;

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        for (unsigned d = 0; d < n; d++)
                send_frag_datagram(m, d);
        assert_true(wait_ctr(&m->back6, n));
        print_message("%u datagrams in 3 fragments over 2 workers: %llu reassembled, %llu "
                      "fragments handed over\n",
                      n, (unsigned long long)stk_ctr(m->r, "ip6_reassembled"),
                      (unsigned long long)stk_ctr(m->r, "handoff"));
        /* Each datagram reassembled once, on one worker, and answered once. */
        assert_int_equal(stk_ctr(m->r, "ip6_frag_rx"), 3 * n);
        assert_int_equal(stk_ctr(m->r, "ip6_reassembled"), n);
        assert_int_equal(stk_ctr(m->r, "icmp6_echo_req"), n);
        assert_int_equal(atomic_load(&m->back6), n);
        /* Every datagram had fragments on both workers: one worker got at
         * least one fragment of each that it does not own. */
        assert_true(stk_ctr(m->r, "handoff") >= n);
        assert_int_equal(stk_ctr(m->r, "handoff_drop"), 0);
        assert_int_equal(stk_ctr(m->r, "punt"), 0);
        assert_int_equal(mt_drops(m->r), 0);
        mt_fini(m);
}

static void test_port_unreachable6_on_workers(void **state)
{
        struct mpnet_stack_cfg sc = {
            .seed = 43, .ip6_forwarding = true, .icmp6_rate = 1000000, .icmp6_burst = 100000};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 1000;

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        mt_send_frames(m, n, udp_fn);
        assert_true(wait_ctr(&m->back6_err, n));
        assert_int_equal(stk_ctr(m->r, "icmp6_err_tx"), n);
        assert_int_equal(atomic_load(&m->back6_err), n);
        assert_true(local_on(m, 0) > 0);
        assert_true(local_on(m, 1) > 0);
        assert_int_equal(stk_ctr(m->r, "punt"), 0);
        mt_fini(m);
}

/* The contexts' error buckets add up to the stack's burst: with no time to
 * refill, a flood of closed-port datagrams over both workers draws at most
 * the configured burst of errors (and the rate's trickle meanwhile). */
static void test_error6_rate_shared(void **state)
{
        struct mpnet_stack_cfg sc = {
            .seed = 44, .ip6_forwarding = true, .icmp6_rate = 1, .icmp6_burst = 40};
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
        sent = stk_ctr(m->r, "icmp6_err_tx");
        limited = stk_ctr(m->r, "icmp6_err_ratelimited");
        print_message("%u datagrams to a closed port, burst 40: %llu errors, %llu limited\n", n,
                      (unsigned long long)sent, (unsigned long long)limited);
        assert_int_equal(sent + limited, n);
        /* 20 + 20 of the burst, plus what one token a second per worker
         * adds over the test's run (generously bounded). */
        assert_true(sent >= 40);
        assert_true(sent <= 40 + 2 * 60);
        assert_true(wait_ctr(&m->back6_err, sent));
        mt_fini(m);
}

/* Until DAD is done the address is not the router's: what comes for it is
 * not answered (forwarding off: dropped as not ours); once the control
 * thread has run DAD, the workers answer for it with no punt. */
static void test_tentative_not_answered(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 45};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const uint8_t *tent = A6("2001:db8:1::5");
        const unsigned n = 200;
        uint64_t punts;

        (void)state;
        add_hosts(m);
        assert_int_equal(mpnet_addr6_add(m->r, 1, tent, 64, 0), 0);
        assert_true(addr6_flags(m->r, 1, tent) & MPNET_ADDR6_F_TENTATIVE);
        echo_dst = tent;
        mt_start(m, NULL);
        mt_send_frames(m, n, echo_fn);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end && stk_ctr(m->r, "ip6_not_for_us") < n; usleep(1000))
                ;
        assert_int_equal(stk_ctr(m->r, "ip6_not_for_us"), n);
        assert_int_equal(stk_ctr(m->r, "icmp6_echo_req"), 0);
        assert_int_equal(atomic_load(&m->back6), 0);
        /* DAD runs on the control thread (nobody answers its probes). */
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end && (addr6_flags(m->r, 1, tent) & MPNET_ADDR6_F_TENTATIVE);
             usleep(1000))
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
        assert_false(addr6_flags(m->r, 1, tent) & MPNET_ADDR6_F_TENTATIVE);
        punts = stk_ctr(m->r, "punt");
        mt_send_frames(m, n, echo_fn);
        assert_true(wait_ctr(&m->back6, n));
        echo_dst = NULL;
        assert_int_equal(stk_ctr(m->r, "icmp6_echo_req"), n);
        assert_int_equal(atomic_load(&m->back6), n);
        assert_int_equal(stk_ctr(m->r, "punt"), punts);
        mt_fini(m);
}

/* Datagrams held by workers whose queues are all unassigned (and so stop
 * running their contexts) still time out, counted, once their 60 s are
 * past: the control thread takes the orphaned contexts over. */
static void test_frags6_time_out_after_unassign(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 46, .ip6_forwarding = true};
        struct mtnet *m = mt_init(&sc, true, 16384);
        const unsigned n = 32;
        struct mpnet_stack_usage u = {0};

        (void)state;
        add_hosts(m);
        mt_start(m, NULL);
        for (unsigned d = 0; d < n; d++)
                send_frag_parts(m, d, 1); /* first fragments only: never whole */
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end && u.reass6_datagrams < n; usleep(1000))
                mpnet_stack_usage_get(m->r, 0, &u);
        assert_int_equal(u.reass6_datagrams, n);
        assert_int_equal(stk_ctr(m->r, "handoff_drop"), 0);
        for (unsigned w = 0; w < 2; w++) {
                assert_int_equal(mpnet_runtime_unassign(m->rt, m->r, 1, (uint16_t)w), 0);
                assert_int_equal(mpnet_runtime_unassign(m->rt, m->r, 2, (uint16_t)w), 0);
        }
        mpnet_clock_advance(&m->clk, 61 * MPNET_NS_PER_S);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             mpnet_monotonic_ns() < end && u.reass6_datagrams > 0; usleep(1000)) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                mpnet_stack_usage_get(m->r, 0, &u);
        }
        assert_int_equal(u.reass6_datagrams, 0);
        assert_int_equal(u.reass6_bytes, 0);
        assert_int_equal(stk_ctr(m->r, "ip6_reass_timeout"), n);
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_echo6_on_workers),
            cmocka_unit_test(test_frags6_on_two_workers),
            cmocka_unit_test(test_port_unreachable6_on_workers),
            cmocka_unit_test(test_error6_rate_shared),
            cmocka_unit_test(test_tentative_not_answered),
            cmocka_unit_test(test_frags6_time_out_after_unassign),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
