/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 forwarding on a worker thread while the control thread does what the
 * worker punts: neighbour resolution of the next hop (ND), ND for the
 * router's own addresses; the worker sends ICMPv6 errors itself. A test-driven
 * generator pings a host stack across the router; every echo comes back,
 * every hop-limit-1 request gets time exceeded.
 */
#include <pthread.h>
#include <unistd.h>

#include "ip6util.h"
#include "mpnet/thread.h"
#include "mpnet/worker.h"

#define REQS 64

static void test_forward_on_worker(void **state)
{
        struct mpnet_memwire_cfg w1 = {.name = "w61", .n_queues = 2};
        struct mpnet_memwire_cfg w2 = {.name = "w62", .n_queues = 2};
        struct mpnet_stack_cfg rc = {.name = "R", .seed = 3, .ip6_forwarding = true};
        struct mpnet_stack_cfg bc = {.name = "B", .seed = 4};
        struct mpnet_runtime_cfg wc = {.n_workers = 1};
        struct mpnet_route6 def = {.type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mpnet_link *g, *r1, *r2, *lb;
        struct mpnet_stack *r, *b;
        struct mpnet_runtime *rt;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_pkt *pk;
        unsigned sent = 0, replies = 0, exceeded = 0, expect_te = 0;
        uint64_t deadline;

        (void)state;
        mpnet_thread_set_slot(0);
        mpnet_clock_init_monotonic(&clk);
        pool = mpnet_pool_create("w6", 8192);
        assert_int_equal(mpnet_memwire_create(&w1, &g, &r1), 0);
        assert_int_equal(mpnet_memwire_create(&w2, &r2, &lb), 0);
        rc.clock = bc.clock = &clk;
        rc.pool = bc.pool = pool;
        r = mpnet_stack_create(&rc);
        b = mpnet_stack_create(&bc);
        assert_int_equal(mpnet_iface_attach(r, r1, "r1"), 1);
        assert_int_equal(mpnet_iface_attach(r, r2, "r2"), 2);
        assert_int_equal(mpnet_iface_attach(b, lb, "b0"), 1);
        assert_int_equal(mpnet_addr6_add(r, 1, A6("2001:db8:1::1"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_addr6_add(r, 2, A6("2001:db8:2::1"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_neigh6_add(r, 1, A6("2001:db8:1::99"), g->info.mac), 0);
        assert_int_equal(mpnet_addr6_add(b, 1, A6("2001:db8:2::2"), 64, MPNET_ADDR6_F_NODAD), 0);
        def.paths[0].ifindex = 1;
        memcpy(def.paths[0].gw, A6("2001:db8:2::1"), 16);
        assert_int_equal(mpnet_route6_add(b, 0, &def), 0);
        for (int i = 0; i < 4; i++) {
                mpnet_stack_poll(r, mpnet_clock_now(&clk));
                mpnet_stack_poll(b, mpnet_clock_now(&clk));
        }
        link_drain(g);

        rt = mpnet_runtime_create(&wc);
        assert_non_null(rt);
        assert_int_equal(mpnet_runtime_assign(rt, 0, r, 1, 0), 0);
        assert_int_equal(mpnet_runtime_assign(rt, 0, r, 2, 0), 0);
        /* A context transmits on its own queue (the control thread on 0,
         * the worker on 1): every receiving queue needs a reader. B runs on
         * the worker too. */
        assert_int_equal(mpnet_runtime_assign(rt, 0, r, 2, 1), 0);
        assert_int_equal(mpnet_runtime_assign(rt, 0, b, 1, 0), 0);
        assert_int_equal(mpnet_runtime_assign(rt, 0, b, 1, 1), 0);
        assert_int_equal(mpnet_runtime_start(rt), 0);
        deadline = mpnet_clock_now(&clk) + 10 * MPNET_NS_PER_S;
        while (mpnet_clock_now(&clk) < deadline && (sent < REQS || replies + exceeded < REQS)) {
                struct mpnet_pkt *p[32];
                uint16_t k;

                /* The first request resolves B (its queue holds few
                 * packets): the others follow once it is answered, so a
                 * slow machine does not overflow that queue. */
                if (sent < REQS && (sent == 0 || replies > 0)) {
                        uint8_t f[128], m[24] = {MPNET_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 7};
                        uint8_t hlim = sent % 8 == 7 ? 1 : 64;
                        size_t len;

                        mpnet_put_be16(m + 6, (uint16_t)sent);
                        len = frame6_icmp(f, r1->info.mac, g->info.mac, A6("2001:db8:1::99"),
                                          A6("2001:db8:2::2"), hlim, m, sizeof(m));
                        link_send(pool, g, f, len);
                        expect_te += hlim == 1;
                        sent++;
                }
                mpnet_stack_poll(r, mpnet_clock_now(&clk));
                mpnet_stack_poll(b, mpnet_clock_now(&clk));
                for (uint16_t q = 0; q < 2; q++) {
                        while ((k = mpnet_link_rx_burst(g, q, p, 32)) > 0) {
                                for (uint16_t i = 0; i < k; i++) {
                                        const uint8_t *d = p[i]->data;

                                        if (p[i]->len >= 62 && d[20] == MPNET_IPPROTO_ICMPV6) {
                                                replies += d[54] == MPNET_ICMP6_ECHO_REPLY;
                                                exceeded += d[54] == MPNET_ICMP6_TIME_EXCEEDED;
                                        }
                                }
                                mpnet_pkt_free_bulk(p, k);
                        }
                }
                usleep(200);
        }
        mpnet_runtime_stop(rt);
        print_message("sent %u, replies %u, time exceeded %u, punts %llu\n", sent, replies,
                      exceeded, (unsigned long long)stk_ctr(r, "punt"));
        assert_int_equal(sent, REQS);
        assert_int_equal(exceeded, expect_te);
        assert_int_equal(replies, REQS - expect_te);
        assert_int_equal(stk_ctr(r, "ip6_forwarded"), 2 * replies);
        /* ND for B (resolve), B's NS for the router (local); the errors
         * are the worker's own. */
        assert_true(stk_ctr(r, "punt") >= 2);
        assert_int_equal(stk_ctr(r, "icmp6_err_tx"), expect_te);
        assert_int_equal(stk_ctr(r, "punt_drop"), 0);
        mpnet_runtime_destroy(rt);
        mpnet_stack_destroy(r);
        mpnet_stack_destroy(b);
        link_drain(g);
        while (mpnet_link_rx_burst(g, 1, &pk, 1) == 1)
                mpnet_pkt_free(pk);
        mpnet_link_destroy(g);
        mpnet_link_destroy(r1);
        mpnet_link_destroy(r2);
        mpnet_link_destroy(lb);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_forward_on_worker),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
