/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stack's change notifications (event.h): every address, route,
 * interface and neighbour change is recorded in order with its time; a
 * link's carrier going and coming back is seen by the next poll, counted
 * and recorded; a full queue keeps the newest events and counts the rest.
 * IPv6 addresses, routes and ND neighbours give the same events as IPv4's.
 */
#include "ip6util.h"
#include "mpnet/event.h"
#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "testutil.h"

/* A link whose carrier the test sets; it drops what it is given. */
struct flaky {
        struct mpnet_link link;
        bool carrier;
};

static uint16_t fl_rx(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **p, uint16_t n)
{
        (void)l, (void)q, (void)p, (void)n;
        return 0;
}

static uint16_t fl_tx(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **p, uint16_t n)
{
        (void)l, (void)q;
        mpnet_pkt_free_bulk(p, n);
        return n;
}

static bool fl_carrier(struct mpnet_link *l)
{
        return ((struct flaky *)l)->carrier;
}

static void fl_destroy(struct mpnet_link *l)
{
        (void)l;
}

static const struct mpnet_link_ops fl_ops = {
    .rx_burst = fl_rx, .tx_burst = fl_tx, .carrier = fl_carrier, .destroy = fl_destroy};

struct env {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b;
        struct mpnet_stack *s, *peer;
};

static void env_init(struct env *e)
{
        struct mpnet_stack_cfg sc = {.name = "A", .seed = 1};

        mpnet_clock_init_virtual(&e->clk, MPNET_NS_PER_S);
        e->pool = mpnet_pool_create("ev", 1024);
        assert_int_equal(mpnet_memwire_create(NULL, &e->a, &e->b), 0);
        sc.clock = &e->clk;
        sc.pool = e->pool;
        e->s = mpnet_stack_create(&sc);
        sc.name = "B";
        e->peer = mpnet_stack_create(&sc);
        assert_int_equal(mpnet_iface_attach(e->s, e->a, "a"), 1);
        assert_int_equal(mpnet_iface_attach(e->peer, e->b, "b"), 1);
        assert_int_equal(mpnet_addr4_add(e->peer, 1, IP4(192, 0, 2, 2), 24), 0);
        {
                /* The attach was the first event. */
                struct mpnet_event ev[4];

                assert_int_equal(mpnet_stack_events(e->s, ev, 4), 1);
                assert_int_equal(ev[0].type, MPNET_EV_IFACE_ADD);
                assert_int_equal(ev[0].ifindex, 1);
                assert_string_equal(mpnet_event_name(ev[0].type), "iface-add");
        }
}

static void env_fini(struct env *e)
{
        mpnet_stack_destroy(e->s);
        mpnet_stack_destroy(e->peer);
        mpnet_link_destroy(e->a);
        mpnet_link_destroy(e->b);
        assert_int_equal(mpnet_pool_in_use(e->pool), 0);
        mpnet_pool_destroy(e->pool);
}

static void run(struct env *e, uint64_t ns)
{
        uint64_t end = mpnet_clock_now(&e->clk) + ns;

        while (mpnet_clock_now(&e->clk) < end) {
                mpnet_stack_poll(e->s, mpnet_clock_now(&e->clk));
                mpnet_stack_poll(e->peer, mpnet_clock_now(&e->clk));
                mpnet_clock_advance(&e->clk, MPNET_NS_PER_MS);
        }
}

static unsigned take(struct env *e, struct mpnet_event *ev, unsigned n)
{
        return mpnet_stack_events(e->s, ev, n);
}

static void test_config_changes(void **state)
{
        struct mpnet_route4 r = {.dst = IP4(198, 51, 100, 0),
                                 .plen = 24,
                                 .type = MPNET_NH_GATEWAY,
                                 .n_paths = 1,
                                 .paths = {{.ifindex = 1, .gw = IP4(192, 0, 2, 2)}}};
        struct mpnet_event ev[16];
        struct env e;
        unsigned n;

        (void)state;
        env_init(&e);
        assert_int_equal(mpnet_stack_events(e.s, ev, 16), 0);
        mpnet_clock_advance(&e.clk, 5);
        mpnet_stack_poll(e.s, mpnet_clock_now(&e.clk));
        assert_int_equal(mpnet_addr4_add(e.s, 1, IP4(192, 0, 2, 1), 24), 0);
        assert_int_equal(mpnet_route4_add(e.s, 0, &r), 0);
        assert_int_equal(mpnet_route4_add(e.s, 0, &r), -EEXIST); /* no event */
        r.paths[0].gw = IP4(192, 0, 2, 3);
        assert_int_equal(mpnet_route4_replace(e.s, 0, &r), 0);
        assert_int_equal(mpnet_route4_del(e.s, 0, r.dst, 24), 0);
        assert_int_equal(mpnet_iface_set_up(e.s, 1, false), 0);
        assert_int_equal(mpnet_iface_set_up(e.s, 1, false), 0); /* no change, no event */
        assert_int_equal(mpnet_iface_set_up(e.s, 1, true), 0);
        assert_int_equal(mpnet_addr4_del(e.s, 1, IP4(192, 0, 2, 1), 24), 0);
        n = take(&e, ev, 16);
        for (unsigned i = 0; i < n; i++)
                print_message("  %llu %s if %d table %u %08x/%u\n", (unsigned long long)ev[i].seq,
                              mpnet_event_name(ev[i].type), ev[i].ifindex, ev[i].table, ev[i].addr4,
                              ev[i].plen);
        /* The address's connected and local routes come with it. */
        assert_true(n >= 7);
        assert_int_equal(ev[0].type, MPNET_EV_ROUTE_ADD);
        for (unsigned i = 1; i < n; i++)
                assert_int_equal(ev[i].seq, ev[i - 1].seq + 1);
        {
                static const enum mpnet_event_type want[] = {
                    MPNET_EV_ADDR_ADD,  MPNET_EV_ROUTE_ADD,  MPNET_EV_ROUTE_REPLACE,
                    MPNET_EV_ROUTE_DEL, MPNET_EV_IFACE_DOWN, MPNET_EV_IFACE_UP};
                unsigned k = 0;

                for (unsigned i = 0; i < n && k < 6; i++)
                        if (ev[i].type == want[k])
                                k++;
                assert_int_equal(k, 6); /* in this order */
        }
        assert_int_equal(ev[n - 1].type, MPNET_EV_ADDR_DEL);
        assert_int_equal(ev[n - 1].family, 4);
        assert_int_equal(ev[n - 1].addr4, IP4(192, 0, 2, 1));
        assert_int_equal(ev[n - 1].plen, 24);
        assert_int_equal(ev[0].time, mpnet_clock_now(&e.clk));
        assert_int_equal(take(&e, ev, 16), 0);
        env_fini(&e);
}

/* ARP: resolved is one event with the MAC; no answer is a failure. */
static void test_neighbours(void **state)
{
        struct mpnet_event ev[32];
        struct env e;
        unsigned n, reach = 0, failed = 0;

        (void)state;
        env_init(&e);
        assert_int_equal(mpnet_addr4_add(e.s, 1, IP4(192, 0, 2, 1), 24), 0);
        run(&e, 10 * MPNET_NS_PER_MS);
        take(&e, ev, 32);
        assert_int_equal(
            mpnet_ping4_send(e.s, IP4(192, 0, 2, 2), 1, 1, 16, mpnet_clock_now(&e.clk)), 0);
        assert_int_equal(
            mpnet_ping4_send(e.s, IP4(192, 0, 2, 99), 1, 1, 16, mpnet_clock_now(&e.clk)), 0);
        run(&e, 10 * MPNET_NS_PER_S);
        n = take(&e, ev, 32);
        for (unsigned i = 0; i < n; i++) {
                if (ev[i].type == MPNET_EV_NEIGH_REACHABLE && ev[i].addr4 == IP4(192, 0, 2, 2)) {
                        assert_memory_equal(ev[i].mac, e.b->info.mac, 6);
                        reach++;
                }
                failed += ev[i].type == MPNET_EV_NEIGH_FAILED && ev[i].addr4 == IP4(192, 0, 2, 99);
        }
        assert_int_equal(reach, 1);
        assert_int_equal(failed, 1);
        env_fini(&e);
}

/* A link losing its carrier: an event on the next poll, counted, and back. */
static void test_link_carrier(void **state)
{
        struct flaky f = {.link = {.ops = &fl_ops, .info = {.mtu = 1500, .n_rxq = 1, .n_txq = 1}},
                          .carrier = true};
        struct mpnet_event ev[8];
        struct env e;
        int idx;

        (void)state;
        env_init(&e);
        idx = mpnet_iface_attach(e.s, &f.link, "flaky");
        assert_int_equal(idx, 2);
        mpnet_stack_poll(e.s, mpnet_clock_now(&e.clk));
        assert_int_equal(take(&e, ev, 8), 1);
        assert_int_equal(ev[0].type, MPNET_EV_IFACE_ADD);
        assert_int_equal(ev[0].ifindex, 2);
        f.carrier = false;
        mpnet_stack_poll(e.s, mpnet_clock_now(&e.clk));
        mpnet_stack_poll(e.s, mpnet_clock_now(&e.clk));
        assert_int_equal(take(&e, ev, 8), 1);
        assert_int_equal(ev[0].type, MPNET_EV_LINK_DOWN);
        assert_int_equal(ev[0].ifindex, idx);
        assert_int_equal(stk_ctr(e.s, "link_down"), 1);
        f.carrier = true;
        mpnet_stack_poll(e.s, mpnet_clock_now(&e.clk));
        assert_int_equal(take(&e, ev, 8), 1);
        assert_int_equal(ev[0].type, MPNET_EV_LINK_UP);
        assert_int_equal(stk_ctr(e.s, "link_up"), 1);
        assert_true(mpnet_link_carrier(e.a)); /* a memory wire has no notion: up */
        assert_string_equal(mpnet_event_name(MPNET_EV_LINK_DOWN), "link-down");
        assert_string_equal(mpnet_event_name((enum mpnet_event_type)99), "?");
        env_fini(&e);
}

/* Detaching an interface takes its addresses, its routes (a two-path route
 * keeps the other path), its IPv6 side and its neighbours; the index is
 * free again; an event says so. */
static void test_iface_detach(void **state)
{
        struct flaky f = {.link = {.ops = &fl_ops, .info = {.mtu = 1500, .n_rxq = 1, .n_txq = 1}},
                          .carrier = true};
        struct mpnet_route4 r = {.dst = IP4(198, 51, 100, 0),
                                 .plen = 24,
                                 .type = MPNET_NH_GATEWAY,
                                 .n_paths = 2,
                                 .paths = {{.ifindex = 1, .gw = IP4(192, 0, 2, 2)},
                                           {.ifindex = 2, .gw = IP4(203, 0, 113, 2)}}},
                            only2 = {.dst = IP4(198, 18, 0, 0),
                                     .plen = 16,
                                     .type = MPNET_NH_GATEWAY,
                                     .n_paths = 1,
                                     .paths = {{.ifindex = 2, .gw = IP4(203, 0, 113, 2)}}},
                            got;
        struct mpnet_route6 r6 = {.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 9},
                                  .plen = 48,
                                  .type = MPNET_NH_GATEWAY,
                                  .n_paths = 1,
                                  .paths = {{.ifindex = 2, .gw = {0xfe, 0x80, [15] = 1}}}};
        static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 7, [15] = 1};
        struct mpnet_event ev[32];
        struct env e;
        unsigned n;
        bool del = false;

        (void)state;
        env_init(&e);
        assert_int_equal(mpnet_addr4_add(e.s, 1, IP4(192, 0, 2, 1), 24), 0);
        assert_int_equal(mpnet_iface_attach(e.s, &f.link, "gone"), 2);
        assert_int_equal(mpnet_addr4_add(e.s, 2, IP4(203, 0, 113, 1), 24), 0);
        assert_int_equal(mpnet_addr6_add(e.s, 2, a6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_route4_add(e.s, 0, &r), 0);
        assert_int_equal(mpnet_route4_add(e.s, 0, &only2), 0);
        assert_int_equal(mpnet_route6_add(e.s, 0, &r6), 0);
        run(&e, MPNET_NS_PER_MS);
        take(&e, ev, 32);
        assert_int_equal(mpnet_iface_detach(e.s, 2), 0);
        assert_int_equal(mpnet_iface_detach(e.s, 2), -ENODEV);
        assert_int_equal(mpnet_iface_set_up(e.s, 2, true), -ENODEV);
        assert_int_equal(mpnet_route4_get(e.s, 0, r.dst, 24, &got), 0);
        assert_int_equal(got.n_paths, 1);
        assert_int_equal(got.paths[0].ifindex, 1);
        assert_int_equal(mpnet_route4_get(e.s, 0, only2.dst, 16, &got), -ENOENT);
        assert_int_equal(mpnet_route4_get(e.s, 0, IP4(203, 0, 113, 0), 24, &got), -ENOENT);
        assert_int_equal(mpnet_route6_count(e.s, 0), 0);
        n = take(&e, ev, 32);
        for (unsigned i = 0; i < n; i++)
                del |= ev[i].type == MPNET_EV_IFACE_DEL && ev[i].ifindex == 2;
        assert_true(del);
        /* The other interface still works, and the index is free again. */
        assert_int_equal(
            mpnet_ping4_send(e.s, IP4(192, 0, 2, 2), 1, 1, 16, mpnet_clock_now(&e.clk)), 0);
        run(&e, 10 * MPNET_NS_PER_MS);
        {
                struct mpnet_ping_reply pr[4];

                assert_int_equal(mpnet_ping4_recv(e.s, pr, 4), 1);
        }
        assert_int_equal(mpnet_iface_attach(e.s, &f.link, "back"), 2);
        env_fini(&e);
}

/* 300 changes into a queue of 256: the newest 256 stay, 44 are counted lost. */
static void test_overflow(void **state)
{
        struct mpnet_route4 r = {.plen = 32, .type = MPNET_NH_BLACKHOLE};
        struct mpnet_event ev[300];
        struct env e;
        unsigned n;

        (void)state;
        env_init(&e);
        for (uint32_t i = 0; i < 300; i++) {
                r.dst = IP4(203, 0, 113, 0) + i;
                assert_int_equal(mpnet_route4_add(e.s, 0, &r), 0);
        }
        n = take(&e, ev, 300);
        assert_int_equal(n, 256);
        assert_int_equal(mpnet_stack_events_lost(e.s), 44);
        assert_int_equal(ev[0].seq, 46); /* after the attach's and the 44 lost */
        assert_int_equal(ev[255].addr4, IP4(203, 0, 113, 0) + 299);
        env_fini(&e);
}

/* Find the first event of type t for an IPv6 address (NULL: any). */
static const struct mpnet_event *find6(const struct mpnet_event *ev, unsigned n,
                                       enum mpnet_event_type t, const uint8_t *a)
{
        for (unsigned i = 0; i < n; i++) {
                if (ev[i].type == t && ev[i].family == 6 &&
                    (a == NULL || memcmp(ev[i].addr6, a, 16) == 0))
                        return &ev[i];
        }
        return NULL;
}

/* IPv6: addresses, routes and ND give the events IPv4 and ARP give. */
static void test_ip6(void **state)
{
        struct mpnet_route6 r = {.plen = 48, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mpnet_ping6_req req = {.id = 1, .seq = 1, .payload_len = 16};
        struct mpnet_event ev[64];
        const struct mpnet_event *x;
        uint8_t a1[16], a2[16], gone[16];
        struct env e;
        unsigned n;

        (void)state;
        env_init(&e);
        memcpy(a1, A6("2001:db8::1"), 16);
        memcpy(a2, A6("2001:db8::2"), 16);
        memcpy(gone, A6("2001:db8::99"), 16);
        assert_int_equal(mpnet_addr6_add(e.s, 1, a1, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_addr6_add(e.peer, 1, a2, 64, MPNET_ADDR6_F_NODAD), 0);
        n = take(&e, ev, 64);
        x = find6(ev, n, MPNET_EV_ADDR_ADD, a1);
        assert_non_null(x);
        assert_int_equal(x->ifindex, 1);
        assert_int_equal(x->plen, 64);
        assert_non_null(find6(ev, n, MPNET_EV_ROUTE_ADD, NULL)); /* connected /64 */

        memcpy(r.dst, A6("2001:db8:1::"), 16);
        r.paths[0].ifindex = 1;
        memcpy(r.paths[0].gw, a2, 16);
        assert_int_equal(mpnet_route6_add(e.s, 0, &r), 0);
        assert_int_equal(mpnet_route6_add(e.s, 0, &r), -EEXIST); /* no event */
        assert_int_equal(mpnet_route6_replace(e.s, 0, &r), 0);
        assert_int_equal(mpnet_route6_del(e.s, 0, r.dst, 48), 0);
        n = take(&e, ev, 64);
        assert_int_equal(n, 3);
        assert_int_equal(ev[0].type, MPNET_EV_ROUTE_ADD);
        assert_int_equal(ev[1].type, MPNET_EV_ROUTE_REPLACE);
        assert_int_equal(ev[2].type, MPNET_EV_ROUTE_DEL);
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(ev[i].family, 6);
                assert_memory_equal(ev[i].addr6, r.dst, 16);
                assert_int_equal(ev[i].plen, 48);
        }

        memcpy(req.dst, a2, 16);
        assert_int_equal(mpnet_ping6_send(e.s, &req, mpnet_clock_now(&e.clk)), 0);
        memcpy(req.dst, gone, 16);
        assert_int_equal(mpnet_ping6_send(e.s, &req, mpnet_clock_now(&e.clk)), 0);
        run(&e, 10 * MPNET_NS_PER_S);
        n = take(&e, ev, 64);
        /* The peer's unsolicited advertisement may make the entry STALE
         * before the solicited one confirms it: one event either way. */
        x = find6(ev, n, MPNET_EV_NEIGH_REACHABLE, a2);
        assert_non_null(x);
        assert_memory_equal(x->mac, e.b->info.mac, 6);
        assert_null(find6(x + 1, n - (unsigned)(x + 1 - ev), MPNET_EV_NEIGH_REACHABLE, a2));
        assert_non_null(find6(ev, n, MPNET_EV_NEIGH_FAILED, gone));

        assert_int_equal(mpnet_addr6_del(e.s, 1, a1, 64), 0);
        n = take(&e, ev, 64);
        x = find6(ev, n, MPNET_EV_ADDR_DEL, a1);
        assert_non_null(x);
        assert_int_equal(x->plen, 64);
        env_fini(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_config_changes), cmocka_unit_test(test_neighbours),
            cmocka_unit_test(test_link_carrier),   cmocka_unit_test(test_overflow),
            cmocka_unit_test(test_iface_detach),   cmocka_unit_test(test_ip6),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
