/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Two workers forward from a null link to a null link: no generator thread,
 * each worker receives its own queue's flows (RSS) and the output link frees
 * what it is given. Every frame received must be forwarded, none dropped,
 * both workers must have worked, and every buffer must come back (this test
 * runs under ThreadSanitizer and AddressSanitizer too).
 *
 *   null "in" (2 queues) --> R (2 workers) --> null "out" (3 queues, sink)
 */
#include <time.h>

#include "mpnet/null.h"
#include "mpnet/route.h"
#include "mpnet/worker.h"
#include "testutil.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PKTS 20000u
#else
#define PKTS 200000u
#endif

#define GW IP4(198, 51, 100, 2)

static uint64_t drops(const struct mpnet_stack *s)
{
        uint64_t sum = 0;

        for (unsigned c = 0; c < mpnet_stack_counter_count(s); c++)
                if (strncmp(mpnet_stack_counter_desc(s, c), "drop:", 5) == 0)
                        sum += mpnet_stack_counter(s, c);
        return sum;
}

static bool both_worked(struct mpnet_runtime *rt)
{
        for (unsigned w = 0; w < 2; w++) {
                struct mpnet_worker_stats ws;

                if (mpnet_runtime_worker_stats(rt, w, &ws) != 0 || ws.pkts == 0)
                        return false;
        }
        return true;
}

static void test_forward_two_workers(void **state)
{
        static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0x22};
        struct mpnet_clock clk;
        struct mpnet_pool *pool = mpnet_pool_create("null-mt", 8192);
        struct mpnet_null_cfg in_cfg = {.name = "in", .n_queues = 2, .pool = NULL};
        struct mpnet_null_cfg out_cfg = {.name = "out", .n_queues = 3};
        struct mpnet_stack_cfg sc = {.name = "r", .seed = 1, .ip4_forwarding = true};
        struct mpnet_route4 r = {.dst = IP4(198, 18, 0, 0),
                                 .plen = 15,
                                 .type = MPNET_NH_GATEWAY,
                                 .n_paths = 1,
                                 .paths = {{.ifindex = 2, .gw = GW}}};
        struct mpnet_runtime_cfg rc = {.n_workers = 2};
        struct mpnet_link *in, *out;
        struct mpnet_stack *s;
        struct mpnet_runtime *rt;
        struct mpnet_link_stats ist = {0}, ost = {0};
        struct timespec t0, t;
        uint64_t fwd;

        (void)state;
        assert_non_null(pool);
        in_cfg.pool = pool;
        mpnet_clock_init_monotonic(&clk);
        assert_int_equal(mpnet_null_create(&in_cfg, &in), 0);
        assert_int_equal(mpnet_null_create(&out_cfg, &out), 0);
        assert_true(mpnet_null_queue_flows(in, 0) > 0);
        assert_true(mpnet_null_queue_flows(in, 1) > 0);
        sc.clock = &clk;
        sc.pool = pool;
        s = mpnet_stack_create(&sc);
        assert_non_null(s);
        assert_int_equal(mpnet_iface_attach(s, in, "in"), 1);
        assert_int_equal(mpnet_iface_attach(s, out, "out"), 2);
        assert_int_equal(mpnet_addr4_add(s, 1, IP4(192, 0, 2, 1), 24), 0);
        assert_int_equal(mpnet_addr4_add(s, 2, IP4(198, 51, 100, 1), 24), 0);
        assert_int_equal(mpnet_neigh4_add(s, 2, GW, gw_mac), 0);
        assert_int_equal(mpnet_route4_add(s, 0, &r), 0);
        mpnet_stack_poll(s, mpnet_clock_now(&clk));
        rt = mpnet_runtime_create(&rc);
        assert_non_null(rt);
        assert_int_equal(mpnet_runtime_assign(rt, 0, s, 1, 0), 0);
        assert_int_equal(mpnet_runtime_assign(rt, 1, s, 1, 1), 0);
        assert_int_equal(mpnet_runtime_start(rt), 0);
        /* Until PKTS are forwarded and both workers have forwarded some (on a
         * busy machine one may run alone for a while: a null queue never
         * runs dry); a generous deadline. */
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
                struct timespec nap = {0, 1000000};

                mpnet_stack_poll(s, mpnet_clock_now(&clk));
                nanosleep(&nap, NULL);
                clock_gettime(CLOCK_MONOTONIC, &t);
        } while ((stk_ctr(s, "ip4_forwarded") < PKTS || !both_worked(rt)) &&
                 t.tv_sec - t0.tv_sec < 60);
        mpnet_runtime_stop(rt);
        fwd = stk_ctr(s, "ip4_forwarded");
        assert_true(fwd >= PKTS);
        for (unsigned w = 0; w < 2; w++) {
                struct mpnet_worker_stats ws;

                assert_int_equal(mpnet_runtime_worker_stats(rt, w, &ws), 0);
                assert_true(ws.pkts > 0);
                assert_int_equal(ws.sleeps, 0); /* a null queue always has frames */
        }
        assert_int_equal(drops(s), 0);
        mpnet_link_get_stats(in, &ist);
        mpnet_link_get_stats(out, &ost);
        /* Stopped: every frame received went out. Besides, the control
         * thread sent a few of its own (ARP announcements, RFC 5227). */
        assert_int_equal(ist.rx_pkts, fwd);
        assert_true(ost.tx_pkts >= fwd);
        assert_int_equal(ist.tx_pkts + ost.tx_pkts, stk_ctr(s, "tx_frames"));
        assert_true(ist.tx_pkts + ost.tx_pkts - fwd < 16);
        assert_int_equal(stk_ctr(s, "rx_frames"), fwd);
        mpnet_runtime_destroy(rt);
        mpnet_stack_destroy(s);
        mpnet_link_destroy(in);
        mpnet_link_destroy(out);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_forward_two_workers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
