/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The punt ring from the workers to the control thread, at its limits.
 *
 * Overflow: the control thread stops polling while two workers punt more
 * ICMPv6 echo replies (they are for the ping API, the control thread's:
 * workers answer requests themselves) than the ring holds: what does not
 * fit is counted (punt_drop), never lost silently; forwarding that needs
 * no punt goes on meanwhile; once the control thread polls again every
 * punted reply reaches the ping API, and later replies all do.
 *
 * Interface index reuse: frames punted for neighbour resolution on an
 * interface that is then detached, its index given to a new interface
 * (with the same subnet and a neighbour that would answer), must not leave
 * on the new interface: they are dropped and counted (tx_no_iface).
 */
#include "mtnet.h"

/* An ICMPv6 echo reply from the generator to R's address on interface 1
 * (as if to a ping of R's). */
static size_t echo_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        uint8_t msg[16] = {129, 0, 0, 0, 0, 0x77};

        mpnet_put_be16(msg + 6, (uint16_t)i);
        return frame6_icmp(f, m->r1->info.mac, m->g->info.mac, m->gen6, m->r1_6, 64, msg,
                           sizeof(msg));
}

static size_t stable_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        return mt_frame4(m, f, IP4(198, 19, 0, 1 + i % 250), 0);
}

/* Wait (without polling R) until cond(m) holds, 30 s at most. */
static bool wait_for(struct mtnet *m, bool (*cond)(struct mtnet *, uint64_t), uint64_t arg)
{
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(1000)) {
                if (cond(m, arg))
                        return true;
        }
        return false;
}

static bool punted(struct mtnet *m, uint64_t n)
{
        return stk_ctr(m->r, "punt") + stk_ctr(m->r, "punt_drop") >= n;
}

static bool stable_through(struct mtnet *m, uint64_t n)
{
        return atomic_load(&m->got[0]) >= n;
}

/* Poll R until the ping API has received n echo replies. */
static bool poll_replies(struct mtnet *m, uint64_t n)
{
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(200)) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                if (stk_ctr(m->r, "icmp6_echo_reply") >= n)
                        return true;
        }
        return false;
}

static void test_punt_overflow(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 21, .ip4_forwarding = true};
        const unsigned flood = 3 * 4096, later = 2000;
        struct mtnet *m = mt_init(&sc, false, 32768);
        uint64_t punts, drops;

        (void)state;
        mt_start(m, NULL);
        /* The control thread is busy elsewhere: replies pile up. */
        mt_send_frames(m, flood, echo_fn);
        assert_true(wait_for(m, punted, flood));
        punts = stk_ctr(m->r, "punt");
        drops = stk_ctr(m->r, "punt_drop");
        /* Forwarding does not wait for the control thread. */
        mt_send_frames(m, 1000, stable_fn);
        atomic_fetch_add(&m->sent[0], 1000);
        assert_true(wait_for(m, stable_through, 1000));
        print_message("%u echo replies with no poll: %llu punted, %llu dropped (ring full)\n",
                      flood, (unsigned long long)punts, (unsigned long long)drops);
        assert_int_equal(punts + drops, flood);
        assert_true(drops > 0);
        assert_true(punts >= 4000); /* the ring's size, give or take a slot */
        /* The control thread is back: every punted reply is received. */
        assert_true(poll_replies(m, punts));
        assert_int_equal(stk_ctr(m->r, "icmp6_echo_reply"), punts);
        /* Recovered: a flow the control thread keeps up with loses nothing. */
        for (unsigned i = 0; i < later; i += 100) {
                mt_send_frames(m, 100, echo_fn);
                assert_true(poll_replies(m, punts + i + 100));
        }
        assert_int_equal(stk_ctr(m->r, "punt_drop"), drops);
        assert_int_equal(stk_ctr(m->r, "icmp6_echo_reply"), punts + later);
        assert_int_equal(stk_ctr(m->r, "icmp6_echo_req"), 0);
        assert_int_equal(atomic_load(&m->got[0]), 1000);
        assert_int_equal(mt_drops(m->r), drops);
        mt_fini(m);
}

static size_t far_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        return mt_frame4(m, f, IP4(198, 21, 0, 1 + i % 250), 2);
}

static bool punted_resolve(struct mtnet *m, uint64_t n)
{
        return stk_ctr(m->r, "punt") >= n;
}

/* A third interface with 203.0.113.1/24; with nb, 203.0.113.2 a permanent
 * neighbour (the far end). */
static int attach3(struct mtnet *m, struct mpnet_link *l, struct mpnet_link *far, bool nb)
{
        int idx = mpnet_iface_attach(m->r, l, "side");

        assert_true(idx > 0);
        assert_int_equal(mpnet_addr4_add(m->r, idx, IP4(203, 0, 113, 1), 24), 0);
        if (nb)
                assert_int_equal(mpnet_neigh4_add(m->r, idx, IP4(203, 0, 113, 2), far->info.mac),
                                 0);
        return idx;
}

/* UDP frames (not ARP) waiting on a link end; they are freed. */
static unsigned count_udp(struct mpnet_link *l)
{
        struct mpnet_pkt *v[64];
        unsigned n, udp = 0;

        for (uint16_t q = 0; q < 3; q++) {
                while ((n = mpnet_link_rx_burst(l, q, v, 64)) > 0) {
                        for (unsigned j = 0; j < n; j++)
                                udp += mpnet_get_be16(v[j]->data + 12) == MPNET_ETHERTYPE_IPV4 &&
                                       v[j]->data[14 + 9] == MPNET_IPPROTO_UDP;
                        mpnet_pkt_free_bulk(v, n);
                }
        }
        return udp;
}

static void test_ifindex_reuse(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "side", .n_queues = 3, .ring_size = 1024};
        struct mpnet_stack_cfg sc = {.seed = 22, .ip4_forwarding = true};
        struct mpnet_route4 far = {.dst = IP4(198, 21, 0, 0),
                                   .plen = 24,
                                   .type = MPNET_NH_GATEWAY,
                                   .n_paths = 1,
                                   .paths[0] = {.gw = IP4(203, 0, 113, 2)}};
        const unsigned n = 200;
        struct mtnet *m = mt_init(&sc, false, 16384);
        struct mpnet_link *a3, *b3, *a4, *b4;
        unsigned leaked;
        int idx;

        (void)state;
        assert_int_equal(mpnet_memwire_create(&wc, &a3, &b3), 0);
        assert_int_equal(mpnet_memwire_create(&wc, &a4, &b4), 0);
        m->extra[0] = a4;
        m->extra[1] = b4;
        idx = attach3(m, a3, b3, false);
        far.paths[0].ifindex = idx;
        assert_int_equal(mpnet_route4_add(m->r, 0, &far), 0);
        mt_start(m, NULL);
        /* The gateway is unresolved: every frame is punted for resolution
         * on the third interface, and waits in the ring. */
        mt_send_frames(m, n, far_fn);
        atomic_fetch_add(&m->sent[2], n);
        assert_true(wait_for(m, punted_resolve, n));
        /* The interface goes and a new one takes its index, with the same
         * subnet and the gateway already known there. */
        assert_int_equal(mpnet_iface_detach(m->r, idx), 0);
        mpnet_link_destroy(a3);
        mpnet_link_destroy(b3);
        assert_int_equal(attach3(m, a4, b4, true), idx);
        for (int i = 0; i < 10; i++) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                usleep(1000);
        }
        leaked = count_udp(b4);
        print_message("%u frames punted for interface %d before it was replaced: %u left on its "
                      "successor, %llu dropped as for an interface gone\n",
                      n, idx, leaked, (unsigned long long)stk_ctr(m->r, "tx_no_iface"));
        assert_int_equal(leaked, 0);
        assert_int_equal(stk_ctr(m->r, "tx_no_iface"), n);
        assert_int_equal(mt_drops(m->r), n);
        /* The successor works: a route through it carries new traffic. */
        assert_int_equal(mpnet_route4_add(m->r, 0, &far), 0);
        mt_send_frames(m, n, far_fn);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             leaked < n && mpnet_monotonic_ns() < end; usleep(1000)) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                leaked += count_udp(b4);
        }
        assert_int_equal(leaked, n);
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_punt_overflow),
            cmocka_unit_test(test_ifindex_reuse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
