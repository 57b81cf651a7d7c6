/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dynamic neighbour life cycle (ARP, and ND with IPv6 route churn) while
 * two workers forward to those neighbours and the control thread churns
 * routes. R runs on a virtual clock that the control thread moves a second
 * a step, so the timers (reachable time, delay, retransmissions, hold-down)
 * run through many rounds in little wall time; each step waits until the
 * solicitations of the step were answered and at least 128 frames went
 * through, so every state is reached under traffic.
 *
 * 16 neighbours, each the gateway of a /24 (a /64) the traffic goes to: a
 * quarter never answer (INCOMPLETE, FAILED, deleted), a quarter answer only
 * in alternate windows (REACHABLE, STALE, DELAY, PROBE, then unanswered
 * probes: deleted, or for ND FAILED first), the rest always answer
 * (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, REACHABLE again). Meanwhile
 * the gateways' routes are replaced and unrelated routes come and go.
 *
 * Asserted: each state (and the deletion, from the events) is observed;
 * traffic through the permanent stable gateway loses nothing; every frame
 * sent reached the sink or was dropped with a named reason; no race (TSan),
 * no use after free (ASan).
 */
#include "mpnet/event.h"
#include "mtnet.h"

#define N_NEIGH 16
#define DELETED 7 /* beside enum mpnet_neigh_state, for the seen masks */

struct nrun {
        struct mtnet *m;
        int family;
        unsigned steps, toggle; /* virtual seconds; group 2 answers in alternate windows */
        unsigned seen[4];       /* per group: bit per state, DELETED from events */
        int last[N_NEIGH];      /* last state sampled, -1: none */
        uint64_t transitions, route_ops, events, step_timeouts;
        uint8_t nb6[N_NEIGH][16];
};

static void neigh6_addr(unsigned i, uint8_t *a)
{
        memcpy(a, A6("2001:db8:2::"), 16);
        a[15] = (uint8_t)(10 + i);
}

/* A quarter of the frames to the stable prefix (class 0), the rest round
 * the neighbours (class 1). */
static size_t make4(struct mtnet *m, uint64_t i, uint8_t *f, unsigned *cls)
{
        *cls = i % 4 != 0;
        if (*cls == 0)
                return mt_frame4(m, f, IP4(198, 19, 0, 1 + i % 250), 0);
        return mt_frame4(m, f, IP4(198, 20, (i / 4) % N_NEIGH, 1 + i % 250), 1);
}

static size_t make6(struct mtnet *m, uint64_t i, uint8_t *f, unsigned *cls)
{
        uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xff};

        *cls = i % 4 != 0;
        if (*cls != 0) {
                dst[5] = 0x20;
                dst[7] = (uint8_t)((i / 4) % N_NEIGH);
        }
        dst[15] = (uint8_t)(1 + i % 250);
        return mt_frame6(m, f, dst, *cls);
}

static bool answers(const struct nrun *n, unsigned i, unsigned step)
{
        switch (i % 4) {
        case 0:
                return false;
        case 2:
                return step / n->toggle % 2 == 0;
        default:
                return true;
        }
}

/* The route through neighbour i (replaced again and again: a new next-hop
 * object each time, the old one retired while workers may read it). */
static int route_via(struct nrun *n, unsigned i, bool add)
{
        if (n->family == 4) {
                struct mpnet_route4 r = {.dst = IP4(198, 20, i, 0),
                                         .plen = 24,
                                         .type = MPNET_NH_GATEWAY,
                                         .n_paths = 1,
                                         .paths[0] = {.ifindex = 2, .gw = MT_NEIGH(i)}};

                return add ? mpnet_route4_add(n->m->r, 0, &r)
                           : mpnet_route4_replace(n->m->r, 0, &r);
        }
        struct mpnet_route6 r = {.plen = 64, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        memcpy(r.dst, A6("2001:db8:20::"), 16);
        r.dst[7] = (uint8_t)i;
        r.paths[0].ifindex = 2;
        memcpy(r.paths[0].gw, n->nb6[i], 16);
        return add ? mpnet_route6_add(n->m->r, 0, &r) : mpnet_route6_replace(n->m->r, 0, &r);
}

/* Routes the traffic does not use, added or, when there, deleted: /24s
 * and (tbl8 groups, deep lpm6 levels) /28s and /120s. */
static void route_other(struct nrun *n, uint32_t x)
{
        struct mpnet_stack *s = n->m->r;

        if (n->family == 4) {
                struct mpnet_route4 r = {.plen = x % 2 ? 28 : 24,
                                         .type = MPNET_NH_GATEWAY,
                                         .n_paths = 1,
                                         .paths[0] = {.ifindex = 2, .gw = MT_STABLE_GW}};

                r.dst = x % 2 ? IP4(10, 1, x / 2 % 200, 16) : IP4(10, 0, x / 2 % 200, 0);
                if (mpnet_route4_add(s, 0, &r) == -EEXIST)
                        assert_int_equal(mpnet_route4_del(s, 0, r.dst, r.plen), 0);
                return;
        }
        struct mpnet_route6 r = {.plen = x % 2 ? 120 : 64, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        memcpy(r.dst, A6("2001:db8:30::"), 16);
        r.dst[7] = (uint8_t)(x / 2 % 200);
        if (x % 2)
                r.dst[14] = 7;
        r.paths[0].ifindex = 2;
        memcpy(r.paths[0].gw, n->m->stable_nh6, 16);
        if (mpnet_route6_add(s, 0, &r) == -EEXIST)
                assert_int_equal(mpnet_route6_del(s, 0, r.dst, r.plen), 0);
}

static int neigh_get(struct nrun *n, unsigned i, struct mpnet_neigh_info *info)
{
        if (n->family == 4)
                return mpnet_neigh4_get(n->m->r, 2, MT_NEIGH(i), info);
        return mpnet_neigh6_get(n->m->r, 2, n->nb6[i], info);
}

/* Record every neighbour's state, and the deletions the events report. */
static uint64_t sample(struct nrun *n)
{
        struct mpnet_event ev[64];
        uint64_t queued = 0;
        unsigned k;

        for (unsigned i = 0; i < N_NEIGH; i++) {
                struct mpnet_neigh_info info;
                int st = neigh_get(n, i, &info) == 0 ? (int)info.state : -1;

                if (st >= 0) {
                        n->seen[i % 4] |= 1u << st;
                        queued += info.queued;
                }
                if (st != n->last[i])
                        n->transitions++;
                n->last[i] = st;
        }
        while ((k = mpnet_stack_events(n->m->r, ev, 64)) > 0) {
                n->events += k;
                for (unsigned j = 0; j < k; j++) {
                        unsigned i = (n->family == 4 ? ev[j].addr4 & 0xff : ev[j].addr6[15]) - 10;

                        if (ev[j].type == MPNET_EV_NEIGH_DEL && ev[j].ifindex == 2 && i < N_NEIGH)
                                n->seen[i % 4] |= 1u << DELETED;
                }
        }
        return queued;
}

/* The solicitations sent so far were seen by the sink, and the answers it
 * gave were taken in. */
static bool exchanges_done(struct nrun *n)
{
        struct mtnet *m = n->m;
        struct mpnet_stack *s = m->r;

        if (n->family == 4)
                return atomic_load(&m->arp_req_seen) == stk_ctr(s, "arp_req_tx") &&
                       atomic_load(&m->arp_rep_sent) == stk_ctr(s, "arp_rx");
        return atomic_load(&m->ns_seen) == stk_ctr(s, "nd_ns_tx") &&
               atomic_load(&m->na_sent) == stk_ctr(s, "nd_na_rx");
}

static void step(struct nrun *n, unsigned st)
{
        struct mtnet *m = n->m;
        uint64_t start = mt_sum(m->sent), end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        uint64_t mask = 0;

        for (unsigned i = 0; i < N_NEIGH; i++)
                mask |= (uint64_t)answers(n, i, st) << i;
        atomic_store(&m->answer, mask);
        mpnet_clock_advance(&m->clk, MPNET_NS_PER_S);
        for (unsigned it = 0;; it++) {
                uint64_t queued;

                for (unsigned j = 0; j < 4; j++) {
                        assert_int_equal(route_via(n, (st + it + j) % N_NEIGH, false), 0);
                        route_other(n, (uint32_t)(st * 131 + it * 4 + j));
                }
                n->route_ops += 8;
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                queued = sample(n);
                if (it > 0 && exchanges_done(n) &&
                    mt_sum(m->got) + mt_drops(m->r) + queued >= start + 128)
                        return;
                if (mpnet_monotonic_ns() > end) {
                        n->step_timeouts++;
                        return;
                }
                usleep(200);
        }
}

static void life_cycle(int family)
{
        struct mpnet_stack_cfg sc = {.seed = 11,
                                     .ip4_forwarding = true,
                                     .ip6_forwarding = true,
                                     /* ARP: 10 s reachable (ND's is RFC 4861's 15-45 s). */
                                     .arp_reachable_ns = 10 * MPNET_NS_PER_S};
        struct nrun n = {
            .family = family, .steps = family == 4 ? 150 : 260, .toggle = family == 4 ? 30 : 70};
        uint64_t t0, wall, sent, got, drops;
        bool drained;
        const unsigned full = 1u << MPNET_NEIGH_INCOMPLETE | 1u << MPNET_NEIGH_REACHABLE |
                              1u << MPNET_NEIGH_STALE | 1u << MPNET_NEIGH_DELAY |
                              1u << MPNET_NEIGH_PROBE;

        n.m = mt_init(&sc, true, 16384);
        for (unsigned i = 0; i < N_NEIGH; i++) {
                neigh6_addr(i, n.nb6[i]);
                assert_int_equal(route_via(&n, i, true), 0);
                n.last[i] = -1;
        }
        mt_start(n.m, family == 4 ? make4 : make6);
        t0 = mpnet_monotonic_ns();
        for (unsigned st = 0; st < n.steps; st++)
                step(&n, st);
        wall = mpnet_monotonic_ns() - t0;
        /* Everyone answers: what waits for resolution goes out. */
        atomic_store(&n.m->answer, ~0ull);
        drained = mt_drain(n.m, 200 * MPNET_NS_PER_MS, 30);
        sent = mt_sum(n.m->sent);
        got = mt_sum(n.m->got);
        drops = mt_drops(n.m->r);
        print_message("IPv%d: %u steps in %llu ms (%llu timed out); %llu route changes, %llu "
                      "neighbour state changes, %llu events: %.0f changes/s\n",
                      family, n.steps, (unsigned long long)(wall / MPNET_NS_PER_MS),
                      (unsigned long long)n.step_timeouts, (unsigned long long)n.route_ops,
                      (unsigned long long)n.transitions, (unsigned long long)n.events,
                      (double)(n.route_ops + n.transitions) * 1e9 / (double)wall);
        print_message("states seen per group: %#x %#x %#x %#x; sent %llu (stable %llu), got %llu "
                      "(stable %llu), dropped %llu\n",
                      n.seen[0], n.seen[1], n.seen[2], n.seen[3], (unsigned long long)sent,
                      (unsigned long long)atomic_load(&n.m->sent[0]), (unsigned long long)got,
                      (unsigned long long)atomic_load(&n.m->got[0]), (unsigned long long)drops);
        mt_print_counters(n.m->r);
        assert_true(drained);
        /* Never answered: resolution fails, the entry is held down, then goes. */
        assert_true((n.seen[0] &
                     (1u << MPNET_NEIGH_INCOMPLETE | 1u << MPNET_NEIGH_FAILED | 1u << DELETED)) ==
                    (1u << MPNET_NEIGH_INCOMPLETE | 1u << MPNET_NEIGH_FAILED | 1u << DELETED));
        assert_int_equal(n.seen[0] & (1u << MPNET_NEIGH_REACHABLE), 0);
        /* Always answered: the whole round, never failed. */
        assert_int_equal(n.seen[1] & full, full);
        assert_int_equal(n.seen[3] & full, full);
        assert_int_equal((n.seen[1] | n.seen[3]) & (1u << MPNET_NEIGH_FAILED | 1u << DELETED), 0);
        /* Stopped answering: probes unanswered, the entry goes (ND: FAILED
         * first, RFC 4861 7.3.3). */
        assert_int_equal(n.seen[2] & full, full);
        assert_true(n.seen[2] & (1u << DELETED));
        if (family == 6)
                assert_true(n.seen[2] & (1u << MPNET_NEIGH_FAILED));
        assert_int_equal(n.step_timeouts, 0);
        assert_true(n.route_ops >= 8 * n.steps);
        assert_int_equal(mpnet_stack_events_lost(n.m->r), 0);
        /* Nothing lost through the permanent gateway; the rest accounted. */
        assert_int_equal(atomic_load(&n.m->got[0]), atomic_load(&n.m->sent[0]));
        assert_int_equal(sent, mt_accounted(n.m));
        assert_int_equal(sent, got + drops);
        assert_int_equal(stk_ctr(n.m->r, "punt_drop"), 0);
        assert_true(drops > 0);
        mt_fini(n.m);
}

static void test_arp_life_cycle(void **state)
{
        (void)state;
        life_cycle(4);
}

static void test_nd_life_cycle(void **state)
{
        (void)state;
        life_cycle(6);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_arp_life_cycle),
            cmocka_unit_test(test_nd_life_cycle),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
