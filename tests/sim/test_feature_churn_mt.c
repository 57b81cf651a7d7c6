/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Feature arcs churned under traffic: while two workers forward IPv4 and
 * IPv6, the control thread enables and disables a counting feature on the
 * ip4-input arc of the receiving interface thousands of times (a new list
 * published each time, the old one freed after a grace period).
 *
 * The feature keeps every packet and counts what it sees; it also counts
 * what it sees outside its window. The window opens before the enable and
 * closes only after the disable and a grace period, when no worker can
 * still run the list that held the feature (RCU): a worker that runs the
 * feature outside it ran a list that was no longer published.
 *
 * Asserted: every frame sent reached the sink or was dropped with a named
 * reason (sent = got + drops), and none was lost (the feature keeps them
 * all); the feature saw traffic, never outside its window, never IPv6 (it
 * is on the ip4-input arc), and its count stayed still from each grace
 * period after a disable to the next enable; no race (TSan), no leak of
 * the lists (LeakSanitizer).
 */
#include "mtnet.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

struct churn {
        atomic_bool window;
        _Atomic uint64_t seen, outside, not_ip4;
};

static unsigned count_in(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                         uint32_t *aux, unsigned n, void *state)
{
        struct churn *st = state;

        (void)w;
        (void)ifp;
        (void)aux;
        for (unsigned i = 0; i < n; i++) {
                if ((p[i]->data[0] >> 4) != 4)
                        atomic_fetch_add_explicit(&st->not_ip4, 1, memory_order_relaxed);
        }
        if (!atomic_load_explicit(&st->window, memory_order_relaxed))
                atomic_fetch_add_explicit(&st->outside, n, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->seen, n, memory_order_relaxed);
        return n;
}

static const struct feature_reg churn_features[] = {
    {.name = "churn-count", .arc = ARC_IP4_IN, .fn = count_in},
};

static const struct mpnet_module churn_mod = {
    .name = "churn",
    .features = churn_features,
    .n_features = 1,
    .state_size = sizeof(struct churn),
};

/* Classes: 0 and 1, IPv4 through the stable gateway; 2, IPv6 through the
 * stable gateway (past an arc that has no feature). */
static size_t make(struct mtnet *m, uint64_t i, uint8_t *f, unsigned *cls)
{
        uint8_t dst[16];

        *cls = (unsigned)(i % 3);
        if (*cls < 2)
                return mt_frame4(m, f, IP4(198, 19, 0, 1 + i % 250), *cls);
        memcpy(dst, A6("2001:db8:ff::"), 16);
        dst[15] = (uint8_t)(1 + i % 250);
        return mt_frame6(m, f, dst, 2);
}

/* Enable, let traffic meet it, disable, wait out the readers, close the
 * window. @return whether the count stayed still while the feature was
 * off (until the next enable). */
static bool churn_round(struct mtnet *m, struct churn *st)
{
        uint64_t before;

        atomic_store(&st->window, true);
        assert_int_equal(mpnet_feature_set(m->r, 1, "churn-count", true), 0);
        mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
        usleep(20);
        assert_int_equal(mpnet_feature_set(m->r, 1, "churn-count", false), 0);
        stack_grace(m->r);
        atomic_store(&st->window, false);
        before = atomic_load(&st->seen);
        mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk)); /* frees the old lists */
        usleep(20);
        return atomic_load(&st->seen) == before;
}

static void test_feature_churn_under_traffic(void **state)
{
        static const struct mpnet_module *const mods[] = {&churn_mod, NULL};
        struct mpnet_stack_cfg sc = {
            .seed = 41, .ip4_forwarding = true, .ip6_forwarding = true, .modules = mods};
        const unsigned target = 3000, frames = 30000; /* at least */
        struct mtnet *m = mt_init(&sc, false, 32768);
        struct churn *st = graph_module_state(m->r, "churn");
        uint64_t t0, wall, rounds = 0, moved_off = 0, sent, seen_end;

        (void)state;
        assert_non_null(st);
        mt_start(m, make);
        t0 = mpnet_monotonic_ns();
        /* Bounded by count, and by 20 s of wall time on a slow machine. */
        while ((rounds < target || mt_sum(m->sent) < frames) &&
               mpnet_monotonic_ns() - t0 < 20 * MPNET_NS_PER_S) {
                moved_off += !churn_round(m, st);
                rounds++;
        }
        wall = mpnet_monotonic_ns() - t0;
        /* Once more, until the feature has seen traffic (a generous
         * deadline), so that an enabled feature is shown to run. */
        seen_end = atomic_load(&st->seen);
        atomic_store(&st->window, true);
        assert_int_equal(mpnet_feature_set(m->r, 1, "churn-count", true), 0);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             atomic_load(&st->seen) == seen_end && mpnet_monotonic_ns() < end; usleep(1000))
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
        assert_true(atomic_load(&st->seen) > seen_end);
        assert_int_equal(mpnet_feature_set(m->r, 1, "churn-count", false), 0);
        assert_false(mpnet_feature_enabled(m->r, 1, "churn-count"));
        assert_true(mt_drain(m, 0, 30));
        sent = mt_sum(m->sent);
        print_message("%llu enable/disable rounds in %llu ms (%.0f/s); sent %llu, got %llu, "
                      "dropped %llu; the feature saw %llu\n",
                      (unsigned long long)rounds, (unsigned long long)(wall / MPNET_NS_PER_MS),
                      (double)rounds * 1e9 / (double)wall, (unsigned long long)sent,
                      (unsigned long long)mt_sum(m->got), (unsigned long long)mt_drops(m->r),
                      (unsigned long long)atomic_load(&st->seen));
        mt_print_counters(m->r);
        assert_true(rounds >= 300);
        assert_int_equal(sent, mt_accounted(m));
        assert_int_equal(mt_sum(m->got), sent);
        assert_int_equal(atomic_load(&st->outside), 0);
        assert_int_equal(atomic_load(&st->not_ip4), 0);
        assert_int_equal(moved_off, 0);
        assert_true(atomic_load(&st->seen) <= atomic_load(&m->sent[0]) + atomic_load(&m->sent[1]));
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_feature_churn_under_traffic),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
