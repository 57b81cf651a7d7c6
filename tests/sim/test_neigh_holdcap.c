/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stack-wide cap of packets held for neighbour resolution
 * (NEIGH_HELD_MAX, l3/neigh.h) and its newcomer-drop rule (neigh_enqueue
 * in l3/neigh.c): once the cap binds, a new packet is dropped and counted
 * (neigh_held_full), whether it is for a new next hop (whose resolution
 * still starts: the entry is made and asked for, holding nothing) or for
 * an entry whose own queue is full (which then does not trade its oldest
 * packet for it, RFC 4861 7.2.2's rule below the cap); the packets that
 * earlier entries hold are kept and delivered when those resolve.
 *
 * The router of tests/floodnet.h: H2 (LAN 2) sends UDP through it to H3
 * (LAN 1), which does not answer yet, one queue's worth (arp_queue_max,
 * 16 by default), then to next hops of LAN 1 that never answer until the
 * stack holds its cap; then a datagram to a new next hop and one more to
 * H3. H3 comes up, answers the next request or solicitation, and gets
 * its 16 datagrams, no more. IPv4 (ARP) and IPv6 (ND).
 */
#include "floodnet.h"

#define QUEUE_MAX 16 /* mpnet_stack_cfg's arp_queue_max default */

/* H2 sends one datagram to dst4 (IPv4) or dst6 through the router. */
static void send_to(struct fnet *n, bool v6, uint32_t dst4, const uint8_t *dst6, uint16_t id)
{
        const uint8_t *m2 = n->r2->info.mac;
        size_t len;

        if (!v6)
                len = ff_udp4(n->f, m2, ff_h2_mac, FF_H2_ADDR, dst4, id);
        else
                len = ff_udp6(n->f, m2, ff_h2_mac, ff_h2_6, dst6);
        fnet_send(n, n->x2, n->f, len);
}

/* The state of next hop dst4 / dst6 on LAN 1 (-1: no entry). */
static int neigh_state(struct fnet *n, bool v6, uint32_t dst4, const uint8_t *dst6)
{
        struct mpnet_neigh_info ni;
        int rc = v6 ? mpnet_neigh6_get(n->st, 1, dst6, &ni) : mpnet_neigh4_get(n->st, 1, dst4, &ni);

        return rc == 0 ? (int)ni.state : -1;
}

static void holdcap(bool v6)
{
        const char *c_qdrop = v6 ? "nd_queue_drop" : "arp_queue_drop";
        struct fnet n;
        struct mpnet_stack_usage u;
        uint64_t rng = v6 ? 0x401d6 : 0x401d4, full0, qdrop0, h3_0;
        uint32_t dst4 = 0, new4;
        uint8_t dst6[16] = {0}, new6[16];
        unsigned hops = 0;

        /* New resolutions unlimited, so that the hold cap is what binds. */
        fnet_init_limits(&n, true, 0, 0, 10000000, 100000);
        assert_int_equal(fnet_legit(&n, 4, false), 16);
        u = fnet_usage(&n, 0);
        assert_int_equal(u.neigh_held, 0);
        assert_int_equal(u.neigh_held_max % QUEUE_MAX, 0);
        h3_0 = v6 ? n.udp6[FH3] : n.udp4[FH3];

        /* H3 first: one full queue, held. */
        for (uint16_t i = 0; i < QUEUE_MAX; i++)
                send_to(&n, v6, FF_H3_ADDR, ff_h3_6, i);
        fnet_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(neigh_state(&n, v6, FF_H3_ADDR, ff_h3_6), MPNET_NEIGH_INCOMPLETE);
        assert_int_equal(fnet_usage(&n, 0).neigh_held, QUEUE_MAX);

        /* Next hops that never answer, a full queue each, up to the cap. */
        while (fnet_usage(&n, 0).neigh_held < u.neigh_held_max) {
                assert_true(hops < u.neigh_held_max / QUEUE_MAX);
                dst4 = FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(&rng) % 130000);
                ff_rand_iid(&rng, ff_lan1_r6, dst6);
                for (uint16_t i = 0; i < QUEUE_MAX; i++)
                        send_to(&n, v6, dst4, dst6, i);
                fnet_run(&n, MPNET_NS_PER_MS);
                hops++;
        }
        u = fnet_usage(&n, 0);
        assert_int_equal(u.neigh_held, u.neigh_held_max);
        assert_int_equal(hops, u.neigh_held_max / QUEUE_MAX - 1);
        full0 = fnet_ctr(&n, "neigh_held_full");
        qdrop0 = fnet_ctr(&n, c_qdrop);
        assert_int_equal(full0, 0);
        assert_int_equal(qdrop0, 0);

        /* At the cap, a new next hop's packet is dropped and counted; its
         * resolution starts all the same (an entry, asked for). */
        new4 = dst4 + 1;
        ff_rand_iid(&rng, ff_lan1_r6, new6);
        send_to(&n, v6, new4, new6, 0);
        fnet_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(fnet_ctr(&n, "neigh_held_full"), full0 + 1);
        assert_int_equal(neigh_state(&n, v6, new4, new6), MPNET_NEIGH_INCOMPLETE);
        u = fnet_usage(&n, 0);
        assert_int_equal(u.neigh_held, u.neigh_held_max);

        /* One more for H3, whose queue is full: dropped too, and not traded
         * for H3's oldest packet (which RFC 4861 7.2.2 does below the cap). */
        send_to(&n, v6, FF_H3_ADDR, ff_h3_6, QUEUE_MAX);
        fnet_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(fnet_ctr(&n, "neigh_held_full"), full0 + 2);
        assert_int_equal(fnet_ctr(&n, c_qdrop), qdrop0);
        assert_int_equal(fnet_usage(&n, 0).neigh_held, u.neigh_held_max);

        /* H3 comes up and answers the stack's next request: the 16 packets
         * held for it since before the cap bound arrive, and no other. */
        n.h3_up = true;
        fnet_run(&n, 1500 * MPNET_NS_PER_MS);
        assert_int_equal(neigh_state(&n, v6, FF_H3_ADDR, ff_h3_6), MPNET_NEIGH_REACHABLE);
        assert_int_equal((v6 ? n.udp6[FH3] : n.udp4[FH3]) - h3_0, QUEUE_MAX);
        assert_int_equal(fnet_usage(&n, 0).neigh_held, u.neigh_held_max - QUEUE_MAX);

        /* Below the cap again, a packet to the new next hop is held. */
        send_to(&n, v6, new4, new6, 1);
        fnet_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(fnet_ctr(&n, "neigh_held_full"), full0 + 2);
        assert_int_equal(fnet_usage(&n, 0).neigh_held, u.neigh_held_max - QUEUE_MAX + 1);

        /* The others fail (3 probes a second apart): nothing held. */
        n.h3_up = false;
        fnet_run(&n, 10 * MPNET_NS_PER_S);
        assert_int_equal(fnet_usage(&n, 0).neigh_held, 0);
        assert_int_equal(fnet_legit(&n, 4, false), 16);
        fnet_fini(&n);
}

static void test_holdcap4(void **state)
{
        (void)state;
        holdcap(false);
}

static void test_holdcap6(void **state)
{
        (void)state;
        holdcap(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_holdcap4),
            cmocka_unit_test(test_holdcap6),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
