/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen's external DUTs, with the Linux kernel in namespaces mpgen makes:
 * a veth pair (the calibration), the kernel routing, and the mpnet router
 * over AF_PACKET and over AF_XDP on the same veths. At a low rate every frame crosses each
 * of them once, TTL decremented on the routed ones, and the namespaces are
 * gone afterwards. Without root the DUT refuses with a message naming the
 * capabilities, and the test checks that message instead.
 */
#define _GNU_SOURCE
#include "mpgen/mpgen.h"

#include "netns_util.h"
#include "testutil.h"

/* Namespaces named like ours (this pid) still listed? */
static bool ns_left(void)
{
        char pre[32];
        DIR *d = opendir("/var/run/netns");
        struct dirent *e;
        bool left = false;

        if (d == NULL)
                return false;
        snprintf(pre, sizeof(pre), "-%d-", (int)getpid());
        while ((e = readdir(d)) != NULL)
                left |= strncmp(e->d_name, "mpg-", 4) == 0 && strstr(e->d_name, pre) != NULL;
        closedir(d);
        return left;
}

/* What a run made, so a failed assertion (which leaves run_ext() at once)
 * still frees it: the teardown of every test. */
static struct kt_run {
        struct mpnet_pool *pool;
        struct mpg_dut dut;
        struct mpg_runner rn, rj;
        bool dut_made, dut_started, rn_made, rj_made;
} K;

static int kt_teardown(void **state)
{
        (void)state;
        if (K.rj_made)
                mpg_runner_fini(&K.rj);
        if (K.rn_made)
                mpg_runner_fini(&K.rn);
        if (K.dut_started)
                mpg_dut_stop(&K.dut);
        if (K.dut_made)
                mpg_dut_destroy(&K.dut);
        mpnet_pool_destroy(K.pool);
        memset(&K, 0, sizeof(K));
        return 0;
}

/* Frames the links' receive rings dropped (ring full: a thread that polls
 * them waited its turn on a loaded machine), tester's and router's ends. */
static uint64_t ring_drops(struct mpg_dut *d)
{
        struct mpnet_link *l[] = {d->tx, d->rx, d->da, d->db};
        uint64_t n = 0;

        for (unsigned i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
                struct mpnet_link_stats st;

                if (l[i] == NULL || (i == 1 && l[1] == l[0]) || (i == 3 && l[3] == l[2]))
                        continue;
                mpnet_link_get_stats(l[i], &st);
                n += st.rx_drops;
        }
        return n;
}

/* Every frame the tester's link accepted either came back once or was
 * dropped, counted, by a link's full receive ring; none went missing inside
 * the DUT. (At this rate the rings overflow only when a polling thread is
 * kept off the CPU for tens of milliseconds: a loaded machine.) The veths'
 * own queues (the kernel's, for XDP on veth a NAPI ring of 256 frames) may
 * drop too under such load, which no link here counts: up to 2 % may go
 * unaccounted, printed. */
static void assert_accounted(struct mpg_dut *d, const struct mpg_trial *t, uint64_t drops0)
{
        uint64_t ring = ring_drops(d) - drops0, lost = t->tx - t->unique;

        if (ring != 0 || lost != 0)
                print_message("%s: %llu lost, %llu of them dropped by full receive rings\n",
                              mpg_dut_name(d->cfg.kind), (unsigned long long)lost,
                              (unsigned long long)ring);
        assert_true(t->unique + ring <= t->tx);
        assert_true((t->tx - t->unique - ring) * 50 <= t->tx);
        assert_true(t->unique > 0);
}

/* Every frame of a run was offered to the tester's link; a loaded machine
 * may find its transmit ring full for a frame or two (refused, counted, not
 * retried), which is the tester's loss, not the DUT's: up to 2 %. */
static bool tester_sent(const struct mpg_trial *t, uint64_t count)
{
        if (t->refused != 0)
                print_message("tester's link refused %llu of %llu frames (a full ring)\n",
                              (unsigned long long)t->refused, (unsigned long long)count);
        return t->offered == count && t->tx + t->refused == t->offered && t->refused * 50 <= count;
}

/* After a reset: a plain run in which every frame crosses (or is counted
 * by a full ring, or is within assert_accounted()'s 2 %). */
static bool flows_again(struct mpg_runner *rn, enum mpg_dut_kind kind)
{
        struct mpg_trial t = {.kind = MPG_T_RUN, .rate = 20000, .count = 2000};
        uint64_t drops0 = ring_drops(&K.dut);

        assert_int_equal(mpg_trial_run(rn, &t), 0);
        uint64_t ring = ring_drops(&K.dut) - drops0, lost = t.tx - t.unique;
        /* A ring may also have dropped frames that were not this run's (the
         * reset stream's late tail, a device's own announcements) on a
         * loaded machine: more ring drops than losses leave none unaccounted. */
        uint64_t unaccounted = lost > ring ? lost - ring : 0;

        print_message("%s after the reset: %llu of %llu, %llu dropped by full rings\n",
                      mpg_dut_name(kind), (unsigned long long)t.unique, (unsigned long long)t.tx,
                      (unsigned long long)ring);
        return tester_sent(&t, 2000) && t.unique > 0 && unaccounted * 50 <= t.tx;
}

static void run_ext(enum mpg_dut_kind kind, enum mpg_link link)
{
        /* AF_XDP anywhere: one UMEM frame a packet, so no jumbo frames. */
        bool afxdp = link == MPG_LINK_AFXDP || kind == MPG_DUT_AFXDP;
        struct mpg_dut_cfg dc = {
            .kind = kind, .workers = 1, .mtu = afxdp ? 1500 : 9000, .link = link};
        struct mpnet_clock clk;
        /* Frames still on their way are waited for up to 4 s (a trial ends
         * as soon as all have come): a polling thread may wait its turn. */
        struct mpg_env env = {.settle_ns = 4 * MPNET_NS_PER_S, .valid_min = 0.99};
        struct mpg_runner *rn = &K.rn;
        struct mpg_dut *dut = &K.dut;
        const char *why = kt_skip_reason(false);
        uint64_t routed = 0; /* frames the tester got through the router */

        mpnet_clock_init_monotonic(&clk);
        dc.clock = env.clock = &clk;
        dc.pool = env.pool = K.pool = mpnet_pool_create("kt", 8192);
        assert_non_null(dc.pool);
        if (why != NULL) {
                if (geteuid() != 0) {
                        assert_int_not_equal(mpg_dut_create(&dc, dut), 0);
                        print_message("refused as it should be: %s\n", dut->err);
                        assert_non_null(strstr(dut->err, "CAP_NET_ADMIN"));
                }
                print_message("skipped: %s\n", why);
                skip();
        }
        if (mpg_dut_create(&dc, dut) != 0)
                fail_msg("%s DUT: %s", mpg_dut_name(kind), dut->err);
        K.dut_made = true;
        mpg_dut_path(dut, &env.path);
        mpg_flows_default(&env.flows, false);
        env.flows.n_dport = 10;
        assert_int_equal(mpg_dut_start(dut), 0);
        K.dut_started = true;
        assert_int_equal(mpg_runner_init(rn, &env, 128), 0);
        K.rn_made = true;
        for (unsigned i = 0; i < 2; i++) {
                struct mpg_trial t = {.kind = MPG_T_RUN, .rate = 20000, .count = 2000};
                uint64_t drops0 = ring_drops(dut);

                assert_int_equal(mpg_trial_run(rn, &t), 0);
                print_message("%s: tx %llu, received %llu, other %llu, latency p50 %.0f us\n",
                              mpg_dut_name(kind), (unsigned long long)t.tx,
                              (unsigned long long)t.unique, (unsigned long long)t.other,
                              t.lat.p50 / 1e3);
                assert_true(tester_sent(&t, 2000));
                assert_accounted(dut, &t, drops0);
                assert_int_equal(t.dup, 0);
                /* Nothing but the test's frames, but for a router's or a
                 * kernel device's own announcements early on (a loaded
                 * machine may start the router late, into the first trial). */
                assert_true(t.other <= 2u);
                routed += t.unique;
        }
        /* Jumbo frames (chains of buffers) over the veths with MTU 9000,
         * for the DUTs that carry them (AF_XDP takes one buffer a frame). */
        if (mpg_dut_jumbo(kind) && !afxdp) {
                struct mpg_trial t = {.kind = MPG_T_RUN, .rate = 5000, .count = 500};

                uint64_t drops0 = ring_drops(dut);

                assert_int_equal(mpg_runner_init(&K.rj, &env, MPG_FRAME_JUMBO), 0);
                K.rj_made = true;
                assert_int_equal(mpg_trial_run(&K.rj, &t), 0);
                print_message("%s: 9018-byte frames: %llu of %llu\n", mpg_dut_name(kind),
                              (unsigned long long)t.unique, (unsigned long long)t.tx);
                assert_true(tester_sent(&t, 500));
                assert_accounted(dut, &t, drops0);
                routed += t.unique;
                mpg_runner_fini(&K.rj);
                K.rj_made = false;
        }
        /* RFC 2544 26.6: reset the router in the middle of a stream; frames
         * flow again after it. On a loaded machine the reset may outlast
         * the stream (the last frame lost): then a plain run after it must
         * cross whole. */
        env.action = mpg_dut_reset;
        env.action_arg = dut;
        if (kind != MPG_DUT_VETH) {
                struct mpg_trial t = {
                    .kind = MPG_T_RESET, .rate = 20000, .count = 10000, .action_ns = 50000000};

                assert_int_equal(mpg_trial_run(rn, &t), 0);
                print_message("%s reset: %llu received, %llu lost over %llu us, %s\n",
                              mpg_dut_name(kind), (unsigned long long)t.unique,
                              (unsigned long long)t.outage_lost,
                              (unsigned long long)t.outage_ns / 1000,
                              t.recovered ? "recovered within the stream" : "not yet recovered");
                assert_int_equal(t.action_err, 0);
                routed += t.unique;
                env.action = NULL;
                assert_true(t.recovered || flows_again(rn, kind));
        } else {
                assert_int_equal(mpg_dut_reset(dut), -ENOTSUP);
        }
        mpg_runner_fini(rn);
        K.rn_made = false;
        mpg_dut_stop(dut);
        K.dut_started = false;
        if (kind == MPG_DUT_AFPACKET || kind == MPG_DUT_AFXDP) /* the stack made by the reset */
                assert_true(stk_ctr(dut->stack, "ip4_forwarded") > 0);
        /* The kernel forwarded at least what came through it. */
        if (kind == MPG_DUT_KERNEL)
                assert_true(kt_snmp(dut->ns.d, "Ip", "ForwDatagrams") >= (long)routed);
        mpg_dut_destroy(dut);
        K.dut_made = false;
        assert_false(ns_left());
        assert_int_equal(mpnet_pool_in_use(dc.pool), 0);
        mpnet_pool_destroy(dc.pool);
        K.pool = NULL;
}

static void test_veth(void **state)
{
        (void)state;
        run_ext(MPG_DUT_VETH, MPG_LINK_AFPACKET);
}

static void test_kernel_router(void **state)
{
        (void)state;
        run_ext(MPG_DUT_KERNEL, MPG_LINK_AFPACKET);
}

static void test_mpnet_over_afpacket(void **state)
{
        (void)state;
        run_ext(MPG_DUT_AFPACKET, MPG_LINK_AFPACKET);
}

/* The tester's links through AF_XDP instead of AF_PACKET. */
static void test_kernel_router_afxdp(void **state)
{
        (void)state;
#ifdef MPNET_HAVE_AFXDP
        if (geteuid() == 0 && kt_af_xdp_missing() != NULL) {
                print_message("skipped: %s\n", kt_af_xdp_missing());
                skip();
        }
        run_ext(MPG_DUT_KERNEL, MPG_LINK_AFXDP);
#else
        print_message("skipped: built without the AF_XDP link\n");
        skip();
#endif
}

/* The mpnet router on AF_XDP on the veths (native XDP where the kernel
 * takes it), the tester's links on AF_XDP too: the race against the kernel
 * with neither side on AF_PACKET. */
static void test_mpnet_over_afxdp(void **state)
{
        (void)state;
#ifdef MPNET_HAVE_AFXDP
        if (geteuid() == 0 && kt_af_xdp_missing() != NULL) {
                print_message("skipped: %s\n", kt_af_xdp_missing());
                skip();
        }
        run_ext(MPG_DUT_AFXDP, MPG_LINK_AFXDP);
        /* And with the tester on AF_PACKET. */
        run_ext(MPG_DUT_AFXDP, MPG_LINK_AFPACKET);
#else
        print_message("skipped: built without the AF_XDP link\n");
        skip();
#endif
}

/* The tester's links as TAP devices in the DUT's namespace: the kernel
 * routes between them, and (veth kind) bridges them. */
static void test_kernel_router_tap(void **state)
{
        (void)state;
        if (geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) != 0) {
                print_message("skipped: no /dev/net/tun\n");
                skip();
        }
        run_ext(MPG_DUT_KERNEL, MPG_LINK_TAP);
        run_ext(MPG_DUT_VETH, MPG_LINK_TAP);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_veth, kt_teardown),
            cmocka_unit_test_teardown(test_kernel_router, kt_teardown),
            cmocka_unit_test_teardown(test_mpnet_over_afpacket, kt_teardown),
            cmocka_unit_test_teardown(test_kernel_router_afxdp, kt_teardown),
            cmocka_unit_test_teardown(test_mpnet_over_afxdp, kt_teardown),
            cmocka_unit_test_teardown(test_kernel_router_tap, kt_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
