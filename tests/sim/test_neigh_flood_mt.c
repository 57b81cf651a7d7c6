/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Neighbour resolution during a flood of unroutable packets (each one an
 * ICMP error for the control thread to make). ARP and ND must not be
 * starved: their punts have a ring of their own, served first, and the
 * workers stop the errors the rate limit would refuse anyway before they
 * reach a ring.
 *
 * A flood thread sends unroutable frames (IPv4 or IPv6) to both workers
 * without pause; after three punt rings' worth of them, sent while the
 * control thread did not poll, it also sends a few frames to an
 * unresolved gateway, then more. The
 * gateway gets resolved, everything sent to it reaches the sink (the
 * first ones held during resolution, no punt lost), and the flood is
 * still running when the last of them arrives.
 */
#include "mtnet.h"

#define HELD  8    /* frames sent before resolution: fewer than the hold queue */
#define AFTER 2000 /* frames sent once resolved */
#define FLOOD (3 * 4096)

struct flood {
        struct mtnet *m;
        int family;
        pthread_t th;
        atomic_bool stop;
        _Atomic uint64_t flooded;
        _Atomic unsigned want; /* frames to the gateway to send now */
};

static const uint8_t *nb6(void)
{
        return A6("2001:db8:2::a"); /* neighbour 0 of the sink */
}

static size_t frame(struct flood *fl, uint8_t *f, uint64_t i, bool to_gw)
{
        struct mtnet *m = fl->m;
        uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x20};

        if (fl->family == 4)
                return to_gw ? mt_frame4(m, f, IP4(198, 20, 0, 1 + i % 250), 1)
                             : mt_frame4(m, f, IP4(203, 0, 113, 1 + i % 250), 2);
        if (!to_gw)
                dst[5] = 0x99; /* 2001:db8:99::/64: no route */
        dst[15] = (uint8_t)(1 + i % 250);
        return mt_frame6(m, f, dst, to_gw ? 1 : 2);
}

/* The only sender on the generator's link (its queues are SPSC). */
static void *flood_main(void *arg)
{
        struct flood *fl = arg;
        uint64_t i = 0;

        mpnet_thread_set_slot(12);
        while (!atomic_load(&fl->stop)) {
                struct mpnet_pkt *v[32];
                unsigned want = atomic_load(&fl->want), n, k, gw;

                gw = want < 32 ? want : 32;
                n = mpnet_pkt_alloc_bulk(fl->m->pool, v, 32);
                if (n < 32) {
                        mpnet_pkt_free_bulk(v, n);
                        usleep(100);
                        continue;
                }
                for (unsigned j = 0; j < n; j++) {
                        uint8_t f[128];
                        size_t len = frame(fl, f, i + j, j < gw);

                        memcpy(mpnet_pkt_append(v[j], (uint32_t)len), f, len);
                }
                k = mpnet_link_tx_burst(fl->m->g, (uint16_t)(i / 32 % 2), v, (uint16_t)n);
                mpnet_pkt_free_bulk(v + k, n - k);
                if (k < n) {
                        /* Resend the gateway's frames that did not go. */
                        gw = k < gw ? k : gw;
                        usleep(50);
                }
                atomic_fetch_sub(&fl->want, gw);
                atomic_fetch_add(&fl->m->sent[1], gw);
                atomic_fetch_add(&fl->flooded, k - gw);
                i += k;
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static uint64_t refused(struct mtnet *m, int family)
{
        return stk_ctr(m->r, family == 4 ? "icmp4_err_ratelimited" : "icmp6_err_ratelimited");
}

/* Poll R until the sink got n frames to the gateway. */
static bool got(struct mtnet *m, uint64_t n)
{
        for (uint64_t end = mpnet_monotonic_ns() + 60 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(200)) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                if (atomic_load(&m->got[1]) >= n)
                        return true;
        }
        return false;
}

static void add_route(struct mtnet *m, int family)
{
        if (family == 4) {
                struct mpnet_route4 r = {.dst = IP4(198, 20, 0, 0),
                                         .plen = 24,
                                         .type = MPNET_NH_GATEWAY,
                                         .n_paths = 1,
                                         .paths[0] = {.ifindex = 2, .gw = MT_NEIGH(0)}};

                assert_int_equal(mpnet_route4_add(m->r, 0, &r), 0);
                return;
        }
        struct mpnet_route6 r = {
            .plen = 64, .type = MPNET_NH_GATEWAY, .n_paths = 1, .paths[0] = {.ifindex = 2}};

        memcpy(r.dst, A6("2001:db8:20::"), 16);
        memcpy(r.paths[0].gw, nb6(), 16);
        assert_int_equal(mpnet_route6_add(m->r, 0, &r), 0);
}

static void resolve_in_flood(int family)
{
        struct mpnet_stack_cfg sc = {.seed = 41, .ip4_forwarding = true, .ip6_forwarding = true};
        struct flood fl = {.family = family};
        struct mpnet_neigh_info ni;
        uint64_t flooded;
        int err;

        fl.m = mt_init(&sc, false, 32768);
        add_route(fl.m, family);
        atomic_store(&fl.m->answer, 1);
        mt_start(fl.m, NULL);
        assert_int_equal(pthread_create(&fl.th, NULL, flood_main, &fl), 0);
        /* The flood is on, three punt rings' worth, and the control thread
         * is busy elsewhere: without the workers' limit the errors would
         * fill the ring. */
        for (uint64_t end = mpnet_monotonic_ns() + 60 * MPNET_NS_PER_S;
             atomic_load(&fl.flooded) < FLOOD && mpnet_monotonic_ns() < end; usleep(1000))
                ;
        assert_true(atomic_load(&fl.flooded) >= FLOOD);
        assert_true(refused(fl.m, family) > 0);
        /* A few frames to the unresolved gateway: held while it resolves. */
        atomic_store(&fl.want, HELD);
        assert_true(got(fl.m, HELD));
        err = family == 4 ? mpnet_neigh4_get(fl.m->r, 2, MT_NEIGH(0), &ni)
                          : mpnet_neigh6_get(fl.m->r, 2, nb6(), &ni);
        assert_int_equal(err, 0);
        assert_int_equal(ni.state, MPNET_NEIGH_REACHABLE);
        /* Resolved: the rest goes through while the flood goes on. */
        flooded = atomic_load(&fl.flooded);
        atomic_store(&fl.want, AFTER);
        assert_true(got(fl.m, HELD + AFTER));
        print_message(
            "IPv%d: %llu unroutable frames flooded, %llu errors refused on the workers, "
            "%llu sent; %u + %u frames to the gateway all delivered\n",
            family, (unsigned long long)atomic_load(&fl.flooded),
            (unsigned long long)refused(fl.m, family),
            (unsigned long long)stk_ctr(fl.m->r, family == 4 ? "icmp4_err_tx" : "icmp6_err_tx"),
            HELD, AFTER);
        assert_true(atomic_load(&fl.flooded) > flooded);
        atomic_store(&fl.stop, true);
        pthread_join(fl.th, NULL);
        assert_int_equal(atomic_load(&fl.m->got[1]), atomic_load(&fl.m->sent[1]));
        assert_int_equal(stk_ctr(fl.m->r, "punt_drop"), 0);
        assert_int_equal(stk_ctr(fl.m->r, "punt_nb_drop"), 0);
        mt_fini(fl.m);
}

static void test_arp_in_flood(void **state)
{
        (void)state;
        resolve_in_flood(4);
}

static void test_nd_in_flood(void **state)
{
        (void)state;
        resolve_in_flood(6);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_arp_in_flood),
            cmocka_unit_test(test_nd_in_flood),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
