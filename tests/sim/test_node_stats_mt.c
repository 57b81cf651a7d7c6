/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-worker node statistics (mpnet_node_stats_worker(), what `mpnetctl
 * node show` prints per thread, as VPP's `show runtime`): three workers,
 * of which 0 and 2 poll a queue of the stack and 1 none. Read while the
 * workers forward (ThreadSanitizer checks the reads), then, stopped: each
 * polling worker ran the forwarding nodes, the idle one has no context
 * (-ENOENT), and for every node the control thread's and the workers'
 * figures add up to mpnet_node_stats_get()'s.
 *
 *   null "in" (2 queues) --> R (workers 0 and 2) --> null "out"
 */
#include <time.h>

#include "mpnet/null.h"
#include "mpnet/route.h"
#include "mpnet/worker.h"
#include "testutil.h"

#define PKTS 20000u
#define GW   IP4(198, 51, 100, 2)

struct rig {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *in, *out;
        struct mpnet_stack *s;
        struct mpnet_runtime *rt;
};

static void rig_init(struct rig *g)
{
        static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0x22};
        struct mpnet_null_cfg in_cfg = {.name = "in", .n_queues = 2};
        struct mpnet_null_cfg out_cfg = {.name = "out", .n_queues = 4};
        struct mpnet_stack_cfg sc = {.name = "r", .seed = 1, .ip4_forwarding = true};
        struct mpnet_route4 r = {.dst = IP4(198, 18, 0, 0),
                                 .plen = 15,
                                 .type = MPNET_NH_GATEWAY,
                                 .n_paths = 1,
                                 .paths = {{.ifindex = 2, .gw = GW}}};
        struct mpnet_runtime_cfg rc = {.n_workers = 3};

        g->pool = mpnet_pool_create("node-stats", 8192);
        assert_non_null(g->pool);
        in_cfg.pool = g->pool;
        mpnet_clock_init_monotonic(&g->clk);
        assert_int_equal(mpnet_null_create(&in_cfg, &g->in), 0);
        assert_int_equal(mpnet_null_create(&out_cfg, &g->out), 0);
        sc.clock = &g->clk;
        sc.pool = g->pool;
        g->s = mpnet_stack_create(&sc);
        assert_non_null(g->s);
        assert_int_equal(mpnet_iface_attach(g->s, g->in, "in"), 1);
        assert_int_equal(mpnet_iface_attach(g->s, g->out, "out"), 2);
        assert_int_equal(mpnet_addr4_add(g->s, 1, IP4(192, 0, 2, 1), 24), 0);
        assert_int_equal(mpnet_addr4_add(g->s, 2, IP4(198, 51, 100, 1), 24), 0);
        assert_int_equal(mpnet_neigh4_add(g->s, 2, GW, gw_mac), 0);
        assert_int_equal(mpnet_route4_add(g->s, 0, &r), 0);
        mpnet_stack_poll(g->s, mpnet_clock_now(&g->clk));
        g->rt = mpnet_runtime_create(&rc);
        assert_non_null(g->rt);
        assert_int_equal(mpnet_runtime_assign(g->rt, 0, g->s, 1, 0), 0);
        assert_int_equal(mpnet_runtime_assign(g->rt, 2, g->s, 1, 1), 0);
}

static void rig_fini(struct rig *g)
{
        mpnet_runtime_destroy(g->rt);
        mpnet_stack_destroy(g->s);
        mpnet_link_destroy(g->in);
        mpnet_link_destroy(g->out);
        assert_int_equal(mpnet_pool_in_use(g->pool), 0);
        mpnet_pool_destroy(g->pool);
}

/* Read every context's figures of every node (concurrently with the
 * workers while they run). @return the packets worker w's ip4-lookup saw. */
static uint64_t lookup_pkts(const struct mpnet_stack *s, unsigned w)
{
        struct mpnet_node_stats st;
        int id = mpnet_node_find(s, "ip4-lookup");

        assert_true(id >= 0);
        for (unsigned n = 0; n < mpnet_node_count(s); n++)
                (void)mpnet_node_stats_worker(s, w, n, &st);
        assert_int_equal(mpnet_node_stats_worker(s, w, (unsigned)id, &st), 0);
        return st.pkts;
}

static void test_per_worker(void **state)
{
        struct mpnet_node_stats tot, ctl, w0, w2, st;
        struct timespec t0, t;
        struct rig g;
        int id;

        (void)state;
        rig_init(&g);
        assert_int_equal(mpnet_runtime_start(g.rt), 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* Until both workers have run (on a busy machine one of them may
         * get its CPU long after the other has forwarded PKTS). */
        do {
                struct timespec nap = {0, 1000000};
                uint64_t p0, p2;

                mpnet_stack_poll(g.s, mpnet_clock_now(&g.clk));
                p0 = lookup_pkts(g.s, 0);
                p2 = lookup_pkts(g.s, 2);
                if (p0 > 0 && p2 > 0 && stk_ctr(g.s, "ip4_forwarded") >= PKTS)
                        break;
                nanosleep(&nap, NULL);
                clock_gettime(CLOCK_MONOTONIC, &t);
        } while (t.tv_sec - t0.tv_sec < 60);
        mpnet_runtime_stop(g.rt);
        assert_true(stk_ctr(g.s, "ip4_forwarded") >= PKTS);
        /* Each polling worker forwarded its queue's share. */
        assert_true(lookup_pkts(g.s, 0) > 0);
        assert_true(lookup_pkts(g.s, 2) > 0);
        /* Worker 1 polled nothing of this stack: no context; nor has a
         * worker past the runtime's. */
        id = mpnet_node_find(g.s, "ip4-lookup");
        assert_int_equal(mpnet_node_stats_worker(g.s, 1, (unsigned)id, &st), -ENOENT);
        assert_int_equal(mpnet_node_stats_worker(g.s, 70, (unsigned)id, &st), -ENOENT);
        assert_int_equal(mpnet_node_stats_worker(g.s, 0, mpnet_node_count(g.s), &st), -EINVAL);
        for (unsigned n = 0; n < mpnet_node_count(g.s); n++) {
                assert_int_equal(mpnet_node_stats_get(g.s, n, &tot), 0);
                assert_int_equal(mpnet_node_stats_worker(g.s, MPNET_NODE_CONTROL, n, &ctl), 0);
                assert_int_equal(mpnet_node_stats_worker(g.s, 0, n, &w0), 0);
                assert_int_equal(mpnet_node_stats_worker(g.s, 2, n, &w2), 0);
                assert_int_equal(tot.calls, ctl.calls + w0.calls + w2.calls);
                assert_int_equal(tot.pkts, ctl.pkts + w0.pkts + w2.pkts);
                assert_int_equal(tot.cycles, ctl.cycles + w0.cycles + w2.cycles);
        }
        rig_fini(&g);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_per_worker),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
