/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interface state churned under traffic: while two workers forward, the
 * control thread takes a third interface down and up, its link's carrier
 * goes and comes back (which flushes the neighbours learnt on it), and
 * IPv6 forwarding is switched off and on, thousands of times.
 *
 * Traffic (classes): 0, IPv4 through a permanent gateway on interface 2,
 * never touched: nothing may be lost; 1, IPv4 to 8 prefixes whose gateways
 * on interface 3 are learnt by ARP (the sink answers); 2, IPv6 through a
 * permanent gateway on interface 2, dropped while forwarding is off.
 *
 * Asserted: class 0 loses nothing; every frame sent reached the sink or was
 * dropped with a named reason (sent = got + drops); each change took
 * effect (frames dropped for the interface down and for forwarding off,
 * carrier losses counted); afterwards the learnt gateways resolve again
 * and the churned classes go through; no race (TSan), no use after free
 * (ASan).
 */
#include "mtnet.h"

#define N_GW 8

/* A link whose carrier the test switches; frames pass either way (a
 * flapping link), so only what the stack does about it is tested. */
struct cswitch {
        struct mpnet_link link;
        struct mpnet_link *inner;
        atomic_bool carrier;
};

static uint16_t cs_rx(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **p, uint16_t n)
{
        return mpnet_link_rx_burst(((struct cswitch *)l)->inner, q, p, n);
}

static uint16_t cs_tx(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **p, uint16_t n)
{
        return mpnet_link_tx_burst(((struct cswitch *)l)->inner, q, p, n);
}

static int cs_arm(struct mpnet_link *l, uint16_t q)
{
        return mpnet_link_rx_wait_arm(((struct cswitch *)l)->inner, q);
}

static bool cs_carrier(struct mpnet_link *l)
{
        return atomic_load(&((struct cswitch *)l)->carrier);
}

static void cs_destroy(struct mpnet_link *l)
{
        mpnet_link_destroy(((struct cswitch *)l)->inner);
        free(l);
}

static const struct mpnet_link_ops cs_ops = {.rx_burst = cs_rx,
                                             .tx_burst = cs_tx,
                                             .rx_wait_arm = cs_arm,
                                             .carrier = cs_carrier,
                                             .destroy = cs_destroy};

static struct cswitch *cswitch_create(struct mpnet_link *inner)
{
        struct cswitch *c = calloc(1, sizeof(*c));

        assert_non_null(c);
        c->link.ops = &cs_ops;
        c->link.info = inner->info;
        snprintf(c->link.name, sizeof(c->link.name), "%s", inner->name);
        c->inner = inner;
        atomic_store(&c->carrier, true);
        return c;
}

static size_t make(struct mtnet *m, uint64_t i, uint8_t *f, unsigned *cls)
{
        uint8_t dst[16];

        *cls = (unsigned)(i % 3);
        switch (*cls) {
        case 0:
                return mt_frame4(m, f, IP4(198, 19, 0, 1 + i % 250), 0);
        case 1:
                return mt_frame4(m, f, IP4(198, 20, (i / 3) % N_GW, 1 + i % 250), 1);
        default:
                memcpy(dst, A6("2001:db8:ff::"), 16);
                dst[15] = (uint8_t)(1 + i % 250);
                return mt_frame6(m, f, dst, 2);
        }
}

static void test_iface_churn_under_traffic(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "mt3", .n_queues = 3, .ring_size = 4096};
        struct mpnet_stack_cfg sc = {.seed = 31, .ip4_forwarding = true, .ip6_forwarding = true};
        const unsigned target = 6000, frames = 30000; /* at least */
        struct mtnet *m = mt_init(&sc, false, 32768);
        struct mpnet_link *r3;
        struct cswitch *cs;
        uint64_t t0, wall, changes = 0, flaps = 0, sent, got, drops, sent_before;
        struct mpnet_neigh_info info;
        uint64_t accounted;
        bool drained;

        (void)state;
        /* The sink's dynamic gateways on interface 3 always answer. */
        atomic_store(&m->answer, (1ull << N_GW) - 1);
        assert_int_equal(mpnet_memwire_create(&wc, &r3, &m->k3), 0);
        m->extra[0] = m->k3;
        cs = cswitch_create(r3);
        m->extra[1] = &cs->link;
        assert_int_equal(mpnet_iface_attach(m->r, &cs->link, "side"), 3);
        assert_int_equal(mpnet_addr4_add(m->r, 3, IP4(203, 0, 113, 1), 24), 0);
        for (unsigned j = 0; j < N_GW; j++) {
                struct mpnet_route4 r = {
                    .dst = IP4(198, 20, j, 0),
                    .plen = 24,
                    .type = MPNET_NH_GATEWAY,
                    .n_paths = 1,
                    .paths[0] = {.ifindex = 3, .gw = IP4(203, 0, 113, 10 + j)}};

                assert_int_equal(mpnet_route4_add(m->r, 0, &r), 0);
        }
        mt_start(m, make);
        for (unsigned w = 0; w < 2; w++)
                assert_int_equal(mpnet_runtime_assign(m->rt, w, m->r, 3, (uint16_t)w), 0);
        t0 = mpnet_monotonic_ns();
        /* Bounded by count, and by 20 s of wall time on a slow machine. */
        for (unsigned it = 0; (changes < target || mt_sum(m->sent) < frames) &&
                              mpnet_monotonic_ns() - t0 < 20 * MPNET_NS_PER_S;
             it++) {
                switch (it % 8) {
                case 0:
                case 2:
                        assert_int_equal(mpnet_iface_set_up(m->r, 3, it % 8 == 2), 0);
                        break;
                case 3:
                        atomic_store(&cs->carrier, false);
                        flaps++;
                        break;
                case 4:
                        atomic_store(&cs->carrier, true);
                        break;
                case 5:
                case 7:
                        mpnet_stack_set_forwarding6(m->r, it % 8 == 7);
                        break;
                default:
                        break; /* a round for the gateways to resolve again */
                }
                changes += it % 8 != 1 && it % 8 != 6;
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                usleep(20); /* some traffic meets each state */
        }
        wall = mpnet_monotonic_ns() - t0;
        /* All back: up, carrier, forwarding. */
        assert_int_equal(mpnet_iface_set_up(m->r, 3, true), 0);
        atomic_store(&cs->carrier, true);
        mpnet_stack_set_forwarding6(m->r, true);
        drained = mt_drain(m, 0, 30);
        sent = mt_sum(m->sent);
        got = mt_sum(m->got);
        drops = mt_drops(m->r);
        accounted = mt_accounted(m);
        print_message("%llu interface changes in %llu ms (%.0f/s), %llu carrier losses; sent %llu, "
                      "got %llu, dropped %llu (%lld of R's own); per class sent/got: %llu/%llu "
                      "%llu/%llu %llu/%llu\n",
                      (unsigned long long)changes, (unsigned long long)(wall / MPNET_NS_PER_MS),
                      (double)changes * 1e9 / (double)wall, (unsigned long long)flaps,
                      (unsigned long long)sent, (unsigned long long)got, (unsigned long long)drops,
                      (long long)(got + drops - accounted),
                      (unsigned long long)atomic_load(&m->sent[0]),
                      (unsigned long long)atomic_load(&m->got[0]),
                      (unsigned long long)atomic_load(&m->sent[1]),
                      (unsigned long long)atomic_load(&m->got[1]),
                      (unsigned long long)atomic_load(&m->sent[2]),
                      (unsigned long long)atomic_load(&m->got[2]));
        mt_print_counters(m->r);
        assert_true(drained);
        assert_true(changes >= 600);
        assert_int_equal(atomic_load(&m->got[0]), atomic_load(&m->sent[0]));
        assert_int_equal(sent, accounted);
        assert_int_equal(stk_ctr(m->r, "link_down"), flaps);
        assert_int_equal(stk_ctr(m->r, "link_up"), flaps);
        assert_int_equal(stk_ctr(m->r, "punt_drop"), 0);
        assert_true(stk_ctr(m->r, "ip4_iface_down") > 0);
        assert_true(stk_ctr(m->r, "ip6_not_for_us") > 0);
        /* Recovered: the learnt gateways resolve again and carry traffic. */
        sent_before = atomic_load(&m->got[1]);
        m->make = make;
        atomic_store(&m->stop_gen, false);
        assert_int_equal(pthread_create(&m->gen_th, NULL, mt_generator, m), 0);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             atomic_load(&m->got[1]) < sent_before + 1000 && mpnet_monotonic_ns() < end;
             usleep(1000))
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
        assert_true(atomic_load(&m->got[1]) >= sent_before + 1000);
        assert_true(mt_drain(m, 0, 30));
        assert_int_equal(mpnet_neigh4_get(m->r, 3, IP4(203, 0, 113, 10), &info), 0);
        assert_int_equal(info.state, MPNET_NEIGH_REACHABLE);
        assert_int_equal(mt_sum(m->sent), mt_accounted(m));
        assert_int_equal(atomic_load(&m->got[0]), atomic_load(&m->sent[0]));
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_iface_churn_under_traffic),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
