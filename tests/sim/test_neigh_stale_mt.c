/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A STALE neighbour under two workers (RFC 4861 7.3.3): traffic through
 * it is forwarded by the workers themselves, and the control thread hears
 * of it once per STALE episode (one poke), not once per packet.
 *
 * R runs on a virtual clock. The gateway of 198.20.0.0/24 (of
 * 2001:db8:20::/64) is resolved, then left to go STALE. With the control
 * thread not polling, 2000 frames through it reach the sink and exactly
 * one punt (the poke) is made; a poll moves the entry to DELAY, where the
 * next 2000 frames make none; the probe is answered (REACHABLE) and the
 * round is run again, three times.
 */
#include "mtnet.h"

#define ROUNDS 3
#define BURST  2000

static uint8_t nb6[16];

static size_t to_stale4(struct mtnet *m, uint8_t *f, unsigned i)
{
        return mt_frame4(m, f, IP4(198, 20, 0, 1 + i % 250), 1);
}

static size_t to_stale6(struct mtnet *m, uint8_t *f, unsigned i)
{
        uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 1};

        dst[15] = (uint8_t)(1 + i % 250);
        return mt_frame6(m, f, dst, 1);
}

static enum mpnet_neigh_state state_of(struct mtnet *m, int family)
{
        struct mpnet_neigh_info ni;
        int err = family == 4 ? mpnet_neigh4_get(m->r, 2, MT_NEIGH(0), &ni)
                              : mpnet_neigh6_get(m->r, 2, nb6, &ni);

        return err == 0 ? ni.state : (enum mpnet_neigh_state) - 1;
}

/* Wait (polling R when poll) until the sink got n frames of class 1. */
static bool got(struct mtnet *m, uint64_t n, bool poll)
{
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(500)) {
                if (poll)
                        mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                if (atomic_load(&m->got[1]) >= n)
                        return true;
        }
        return false;
}

/* Poll R (the clock still) until the neighbour is in st. */
static bool reach(struct mtnet *m, int family, enum mpnet_neigh_state st)
{
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(500)) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                if (state_of(m, family) == st)
                        return true;
        }
        return false;
}

static void stale_under_workers(int family)
{
        struct mpnet_stack_cfg sc = {.seed = 31,
                                     .ip4_forwarding = true,
                                     .ip6_forwarding = true,
                                     .arp_reachable_ns = 10 * MPNET_NS_PER_S};
        size_t (*fn)(struct mtnet *, uint8_t *, unsigned) = family == 4 ? to_stale4 : to_stale6;
        struct mtnet *m = mt_init(&sc, true, 16384);
        uint64_t sent = 0;

        memcpy(nb6, A6("2001:db8:2::a"), 16); /* neighbour 0 of the sink */
        if (family == 4) {
                struct mpnet_route4 r = {.dst = IP4(198, 20, 0, 0),
                                         .plen = 24,
                                         .type = MPNET_NH_GATEWAY,
                                         .n_paths = 1,
                                         .paths[0] = {.ifindex = 2, .gw = MT_NEIGH(0)}};

                assert_int_equal(mpnet_route4_add(m->r, 0, &r), 0);
        } else {
                struct mpnet_route6 r = {
                    .plen = 64, .type = MPNET_NH_GATEWAY, .n_paths = 1, .paths[0] = {.ifindex = 2}};

                memcpy(r.dst, A6("2001:db8:20::"), 16);
                memcpy(r.paths[0].gw, nb6, 16);
                assert_int_equal(mpnet_route6_add(m->r, 0, &r), 0);
        }
        atomic_store(&m->answer, 1);
        mt_start(m, NULL);
        /* Resolved through the control thread. */
        mt_send_frames(m, 1, fn);
        sent = 1;
        assert_true(got(m, sent, true));
        assert_true(reach(m, family, MPNET_NEIGH_REACHABLE));
        for (unsigned round = 0; round < ROUNDS; round++) {
                uint64_t punts, pokes;

                /* Past the reachable time (ND's is at most 45 s). */
                mpnet_clock_advance(&m->clk, 46 * MPNET_NS_PER_S);
                assert_true(reach(m, family, MPNET_NEIGH_STALE));
                punts = stk_ctr(m->r, "punt");
                pokes = stk_ctr(m->r, "neigh_poke");
                /* The control thread does not poll: what goes through goes
                 * by the workers alone, held nowhere. */
                mt_send_frames(m, BURST, fn);
                sent += BURST;
                assert_true(got(m, sent, false));
                print_message("IPv%d round %u: %u frames through a STALE entry: %llu punts, "
                              "%llu pokes\n",
                              family, round, BURST,
                              (unsigned long long)(stk_ctr(m->r, "punt") - punts),
                              (unsigned long long)(stk_ctr(m->r, "neigh_poke") - pokes));
                assert_int_equal(stk_ctr(m->r, "punt"), punts + 1);
                assert_int_equal(stk_ctr(m->r, "neigh_poke"), pokes + 1);
                assert_int_equal(state_of(m, family), MPNET_NEIGH_STALE);
                /* The poke starts the delay (7.3.3). */
                assert_true(reach(m, family, MPNET_NEIGH_DELAY));
                punts = stk_ctr(m->r, "punt");
                mt_send_frames(m, BURST, fn);
                sent += BURST;
                assert_true(got(m, sent, false));
                assert_int_equal(stk_ctr(m->r, "punt"), punts);
                assert_int_equal(stk_ctr(m->r, "neigh_poke"), pokes + 1);
                /* The unicast probe is answered. */
                mpnet_clock_advance(&m->clk, 5 * MPNET_NS_PER_S);
                assert_true(reach(m, family, MPNET_NEIGH_REACHABLE));
        }
        assert_int_equal(atomic_load(&m->got[1]), sent);
        assert_int_equal(stk_ctr(m->r, "punt_drop"), 0);
        assert_int_equal(stk_ctr(m->r, "punt_nb_drop"), 0);
        mt_fini(m);
}

static void test_stale_arp(void **state)
{
        (void)state;
        stale_under_workers(4);
}

static void test_stale_nd(void **state)
{
        (void)state;
        stale_under_workers(6);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_stale_arp),
            cmocka_unit_test(test_stale_nd),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
