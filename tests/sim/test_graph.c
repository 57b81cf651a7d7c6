/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The graph as modules make it (src/stack/graph.h): a module registered by
 * the test adds features on arcs, a node on an ethertype of its own that
 * decapsulates and sends the inner frame back to ether-input, and a node
 * that loops, which the re-entry bound stops. Modules that do not fit are
 * refused at stack creation.
 *
 *   frames --g=r1--> R (router, 192.0.2.1/24 | 198.51.100.1/24) --r2=k--> seen
 *
 * R forwards to 198.51.100.10, a static neighbour with k's MAC.
 */
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/udp.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"
#include "ip6util.h"
#include "testutil.h"

#define SRC      IP4(192, 0, 2, 99)
#define DST      IP4(198, 51, 100, 10)
#define ET_DECAP 0x88b5 /* IEEE 802 local experimental ethertypes */
#define ET_LOOP  0x88b6
#define ET_VEC   0x88b7 /* the vec_end test module's */
#define TTL_DROP 13     /* what the output feature drops */

struct tstate {
        uint64_t seen_in, seen_fwd, dropped_out, loops, decaps;
        uint64_t seen_lout, seen_out; /* local-out, and ip4-out of our own */
        uint64_t seen_out6;           /* ip6-out: ICMPv6 errors */
        uint64_t out6_on[3];          /* ip6-out: everything, by interface */
        bool drop_lout;
        bool cut6; /* local-out cuts IPv6 below its header */
        unsigned log[16], n_log;
};

static unsigned inits, finis;

static int t_init(struct mpnet_stack *s, void *state)
{
        (void)s;
        (void)state;
        inits++;
        return 0;
}

static void t_fini(struct mpnet_stack *s, void *state)
{
        (void)s;
        (void)state;
        finis++;
}

static unsigned count_in(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                         uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)ifp;
        (void)p;
        (void)aux;
        st->seen_in += n;
        return n;
}

static unsigned log_first(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                          uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)ifp;
        (void)p;
        (void)aux;
        if (st->n_log < 16)
                st->log[st->n_log++] = 1;
        st->seen_fwd += n;
        return n;
}

static unsigned log_second(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                           uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)ifp;
        (void)p;
        (void)aux;
        if (st->n_log < 16)
                st->log[st->n_log++] = 2;
        return n;
}

/* Drops what carries TTL_DROP, keeps the rest in order. */
static unsigned drop_ttl(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                         uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;
        unsigned k = 0;

        (void)w;
        (void)ifp;
        for (unsigned i = 0; i < n; i++) {
                if (p[i]->data[8] == TTL_DROP) {
                        st->dropped_out++;
                        mpnet_pkt_free(p[i]);
                        continue;
                }
                if (aux != NULL)
                        aux[k] = aux[i];
                p[k++] = p[i];
        }
        return k;
}

/* Local-out: counts what the stack sends, drops it all when told to. */
static unsigned count_lout(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                           uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)ifp;
        (void)aux;
        st->seen_lout += n;
        if (!st->drop_lout)
                return n;
        mpnet_pkt_free_bulk(p, n);
        return 0;
}

/* Counts what leaves the interface and is not forwarded (TTL 64). */
static unsigned count_own_out(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                              uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)ifp;
        (void)aux;
        for (unsigned i = 0; i < n; i++)
                st->seen_out += p[i]->data[8] == 64;
        return n;
}

/* Local-out: marks the stack's IPv6 packets (traffic class TC6_MARK, flow
 * label FL6_MARK), as a QoS feature would. */
#define TC6_MARK 0xb8
#define FL6_MARK 0x12345u
static unsigned mark_tc6(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                         uint32_t *aux, unsigned n, void *state)
{
        (void)w;
        (void)ifp;
        (void)aux;
        (void)state;
        for (unsigned i = 0; i < n; i++) {
                uint8_t *b = p[i]->data;

                if (p[i]->len < 40 || b[0] >> 4 != 6)
                        continue;
                b[0] = 0x60 | TC6_MARK >> 4;
                b[1] = (uint8_t)((TC6_MARK & 0xf) << 4 | FL6_MARK >> 16);
                mpnet_put_be16(b + 2, (uint16_t)FL6_MARK);
        }
        return n;
}

/* Counts the ICMPv6 destination unreachable messages leaving. */
static unsigned count_out6(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                           uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)ifp;
        (void)aux;
        for (unsigned i = 0; i < n; i++)
                st->seen_out6 += p[i]->data[6] == MPNET_IPPROTO_ICMPV6 && p[i]->data[40] == 1;
        return n;
}

/* ip6-out: counts what leaves each interface. */
static unsigned count_out6_on(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                              uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)p;
        (void)aux;
        if (ifp->ifindex >= 1 && ifp->ifindex <= 2)
                st->out6_on[ifp->ifindex] += n;
        return n;
}

/* Local-out: a feature that cuts IPv6 packets to 20 bytes when told to. */
static unsigned cut_ip6(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                        uint32_t *aux, unsigned n, void *state)
{
        struct tstate *st = state;

        (void)w;
        (void)ifp;
        (void)aux;
        for (unsigned i = 0; st->cut6 && i < n; i++) {
                if (p[i]->len >= 40 && p[i]->data[0] >> 4 == 6)
                        mpnet_pkt_trim(p[i], 20);
        }
        return n;
}

/* The payload is a whole Ethernet frame: back to ether-input with it, as
 * received on the same interface. */
static void decap_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct tstate *st = graph_node_state(w->s, self);

        (void)ifp;
        for (unsigned i = 0; i < in->n; i++) {
                st->decaps++;
                graph_reenter(w, NODE_ether_input, in->p[i], 0);
        }
        in->n = 0;
}

/* The frame as it came, back to ether-input: a loop. */
static void loop_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct tstate *st = graph_node_state(w->s, self);

        (void)ifp;
        for (unsigned i = 0; i < in->n; i++) {
                st->loops++;
                mpnet_pkt_prepend(in->p[i], MPNET_ETH_HLEN);
                graph_enqueue(w, graph_next(&w->s->g, self, 0), in->p[i], 0);
        }
        in->n = 0;
}

static const char *const loop_next[] = {"ether-input"};

static const struct node_reg t_nodes[] = {
    {.name = "t-decap", .fn = decap_node, .core_id = -1},
    {.name = "t-loop", .fn = loop_node, .next = loop_next, .n_next = 1, .core_id = -1},
};

static const struct ethertype_reg t_types[] = {
    {.type = ET_DECAP, .node = "t-decap"},
    {.type = ET_LOOP, .node = "t-loop"},
};

static const struct feature_reg t_features[] = {
    {.name = "t-count-in", .arc = ARC_IP4_IN, .fn = count_in},
    {.name = "t-second", .arc = ARC_IP4_FWD, .order = 20, .fn = log_second},
    {.name = "t-first", .arc = ARC_IP4_FWD, .order = 10, .fn = log_first},
    {.name = "t-drop-out", .arc = ARC_IP4_OUT, .fn = drop_ttl},
    {.name = "t-lout", .arc = ARC_LOCAL_OUT, .fn = count_lout},
    {.name = "t-own-out", .arc = ARC_IP4_OUT, .order = 5, .fn = count_own_out},
    {.name = "t-out6", .arc = ARC_IP6_OUT, .fn = count_out6},
    {.name = "t-tc6", .arc = ARC_LOCAL_OUT, .fn = mark_tc6},
    {.name = "t-out6-on", .arc = ARC_IP6_OUT, .fn = count_out6_on},
    {.name = "t-cut6", .arc = ARC_LOCAL_OUT, .fn = cut_ip6},
};

static const struct mpnet_module t_mod = {
    .name = "test",
    .nodes = t_nodes,
    .n_nodes = 2,
    .ethertypes = t_types,
    .n_ethertypes = 2,
    .features = t_features,
    .n_features = sizeof(t_features) / sizeof(t_features[0]),
    .state_size = sizeof(struct tstate),
    .init = t_init,
    .fini = t_fini,
};

struct rig {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *g, *r1, *r2, *k;
        struct mpnet_stack *r;
        struct tstate *st;
};

static struct mpnet_stack *make_stack(struct rig *t, const struct mpnet_module *const *mods)
{
        struct mpnet_stack_cfg sc = {.name = "R", .clock = &t->clk, .pool = t->pool, .seed = 3};

        sc.ip4_forwarding = true;
        sc.modules = mods;
        return mpnet_stack_create(&sc);
}

static void rig_init_mods(struct rig *t, const struct mpnet_module *const *mods)
{
        struct mpnet_memwire_cfg w1 = {.name = "gr"}, w2 = {.name = "rk"};

        memset(t, 0, sizeof(*t));
        mpnet_clock_init_virtual(&t->clk, MPNET_NS_PER_S);
        t->pool = mpnet_pool_create("graph", 4096);
        assert_non_null(t->pool);
        assert_int_equal(mpnet_memwire_create(&w1, &t->g, &t->r1), 0);
        assert_int_equal(mpnet_memwire_create(&w2, &t->r2, &t->k), 0);
        t->r = make_stack(t, mods);
        assert_non_null(t->r);
        assert_int_equal(mpnet_iface_attach(t->r, t->r1, "in"), 1);
        assert_int_equal(mpnet_iface_attach(t->r, t->r2, "out"), 2);
        assert_int_equal(mpnet_addr4_add(t->r, 1, IP4(192, 0, 2, 1), 24), 0);
        assert_int_equal(mpnet_addr4_add(t->r, 2, IP4(198, 51, 100, 1), 24), 0);
        assert_int_equal(mpnet_neigh4_add(t->r, 2, DST, t->k->info.mac), 0);
        t->st = graph_module_state(t->r, "test");
        assert_non_null(t->st);
}

static void rig_init(struct rig *t)
{
        static const struct mpnet_module *const mods[] = {&t_mod, NULL};

        rig_init_mods(t, mods);
}

static void rig_fini(struct rig *t)
{
        mpnet_stack_destroy(t->r);
        mpnet_link_destroy(t->g);
        mpnet_link_destroy(t->r1);
        mpnet_link_destroy(t->r2);
        mpnet_link_destroy(t->k);
        assert_int_equal(mpnet_pool_in_use(t->pool), 0);
        mpnet_pool_destroy(t->pool);
}

/* A UDP packet from src to dst in an Ethernet frame to R's "in". @return
 * its length. */
static size_t frame4_ft(struct rig *t, uint8_t *f, uint8_t ttl, uint32_t src, uint32_t dst)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {
            .src = src, .dst = dst, .payload_len = 60 - 34, .proto = MPNET_IPPROTO_UDP, .ttl = ttl};

        memset(f, 0, 60);
        memcpy(eth.dst, t->r1->info.mac, 6);
        memcpy(eth.src, t->g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        /* A whole UDP header (RFC 768), no checksum, to the discard port. */
        mpnet_put_be16(f + 34, 40000);
        mpnet_put_be16(f + 36, 9);
        mpnet_put_be16(f + 38, 60 - 34);
        return 60;
}

static size_t frame4_to(struct rig *t, uint8_t *f, uint8_t ttl, uint32_t dst)
{
        return frame4_ft(t, f, ttl, SRC, dst);
}

static size_t frame4(struct rig *t, uint8_t *f, uint8_t ttl)
{
        return frame4_to(t, f, ttl, DST);
}

static void inject(struct rig *t, const uint8_t *f, size_t len)
{
        struct mpnet_pkt *p = mpnet_pkt_alloc(t->pool);

        assert_non_null(p);
        memcpy(mpnet_pkt_append(p, (uint32_t)len), f, len);
        assert_int_equal(mpnet_link_tx_burst(t->g, 0, &p, 1), 1);
}

static void run(struct rig *t)
{
        for (int i = 0; i < 4; i++)
                mpnet_stack_poll(t->r, mpnet_clock_now(&t->clk));
}

/* The packets to DST that came out of "out" (not R's own ARP), each TTL
 * into ttls (if not NULL). */
static unsigned collect(struct rig *t, uint8_t *ttls, unsigned max)
{
        struct mpnet_pkt *v[64];
        unsigned got = 0, n;

        while ((n = mpnet_link_rx_burst(t->k, 0, v, 64)) > 0) {
                for (unsigned i = 0; i < n; i++) {
                        const uint8_t *d = v[i]->data;

                        if (mpnet_get_be16(d + 12) != MPNET_ETHERTYPE_IPV4 ||
                            mpnet_get_be32(d + 14 + 16) != DST)
                                continue;
                        if (ttls != NULL && got < max)
                                ttls[got] = d[14 + 8];
                        got++;
                }
                mpnet_pkt_free_bulk(v, n);
        }
        return got;
}

static uint64_t ctr(struct rig *t, const char *c)
{
        return stk_ctr(t->r, c);
}

static void test_features_on_arcs(void **state)
{
        struct rig t;
        uint8_t f[64], ttls[16];

        (void)state;
        rig_init(&t);
        /* No feature enabled: none runs. */
        frame4(&t, f, 64);
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 1);
        assert_int_equal(t.st->seen_in, 0);

        assert_int_equal(mpnet_feature_set(t.r, 1, "t-count-in", true), 0);
        assert_true(mpnet_feature_enabled(t.r, 1, "t-count-in"));
        assert_false(mpnet_feature_enabled(t.r, 2, "t-count-in"));
        for (int i = 0; i < 5; i++)
                inject(&t, f, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 5);
        assert_int_equal(t.st->seen_in, 5);

        /* Enabled on the other interface only: what comes in on "in" is
         * not seen. Enabling twice changes nothing. */
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-count-in", false), 0);
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-count-in", false), 0);
        assert_int_equal(mpnet_feature_set(t.r, 2, "t-count-in", true), 0);
        assert_int_equal(mpnet_feature_set(t.r, 2, "t-count-in", true), 0);
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 1);
        assert_int_equal(t.st->seen_in, 5);

        /* Two features on one arc run in their order, whatever the order
         * they were enabled in. */
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-second", true), 0);
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-first", true), 0);
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 1);
        assert_int_equal(t.st->n_log, 2);
        assert_int_equal(t.st->log[0], 1);
        assert_int_equal(t.st->log[1], 2);
        assert_int_equal(t.st->seen_fwd, 1);

        /* An output feature on "out" drops what it wants, the rest goes. */
        assert_int_equal(mpnet_feature_set(t.r, 2, "t-drop-out", true), 0);
        for (int i = 0; i < 6; i++) {
                frame4(&t, f, i % 2 ? TTL_DROP : 64);
                inject(&t, f, 60);
        }
        run(&t);
        assert_int_equal(collect(&t, ttls, 16), 3);
        for (int i = 0; i < 3; i++)
                assert_int_equal(ttls[i], 63);
        assert_int_equal(t.st->dropped_out, 3);

        assert_int_equal(mpnet_feature_set(t.r, 1, "no-such-feature", true), -ENOENT);
        assert_int_equal(mpnet_feature_set(t.r, 9, "t-first", true), -ENODEV);
        rig_fini(&t);
}

/* R's own packets (ICMP port unreachable for UDP to R, sent back on
 * "in") pass local-out and the output arc of the interface they leave by,
 * once each; a local-out feature may drop them. */
static void test_local_out_arcs(void **state)
{
        struct rig t;
        uint8_t f[64];
        struct mpnet_pkt *v[16];
        unsigned n;

        (void)state;
        rig_init(&t);
        assert_int_equal(mpnet_neigh4_add(t.r, 1, SRC, t.g->info.mac), 0);
        frame4_to(&t, f, 64, IP4(192, 0, 2, 1)); /* to R itself */
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-lout", true), 0);
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-own-out", true), 0);
        run(&t);
        while ((n = mpnet_link_rx_burst(t.g, 0, v, 16)) > 0) /* R's announcements */
                mpnet_pkt_free_bulk(v, n);
        inject(&t, f, 60);
        run(&t);
        n = mpnet_link_rx_burst(t.g, 0, v, 16);
        assert_int_equal(n, 1);
        assert_int_equal(v[0]->data[14 + 9], MPNET_IPPROTO_ICMP);
        assert_int_equal(v[0]->data[14 + 20], 3); /* destination unreachable */
        mpnet_pkt_free_bulk(v, n);
        assert_int_equal(t.st->seen_lout, 1);
        assert_int_equal(t.st->seen_out, 1);
        /* Forwarded packets pass neither local-out nor, on "in", anything. */
        frame4(&t, f, 64);
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 1);
        assert_int_equal(t.st->seen_lout, 1);
        /* Dropped at local-out: nothing leaves, the output arc sees nothing. */
        t.st->drop_lout = true;
        frame4_to(&t, f, 64, IP4(192, 0, 2, 1));
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(mpnet_link_rx_burst(t.g, 0, v, 16), 0);
        assert_int_equal(t.st->seen_lout, 2);
        assert_int_equal(t.st->seen_out, 1);
        rig_fini(&t);
}

/* RFC 1122 3.2.1.3: a datagram for R from one of R's own addresses is
 * dropped; once the address is gone from R (the stack's address set is
 * rebuilt), it is not. */
static void test_own_source_follows_addresses(void **state)
{
        struct rig t;
        uint8_t f[64];

        (void)state;
        rig_init(&t);
        frame4_ft(&t, f, 64, IP4(192, 0, 2, 1), IP4(198, 51, 100, 1));
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(ctr(&t, "ip4_bad_src"), 1);
        assert_int_equal(mpnet_addr4_add(t.r, 1, IP4(192, 0, 2, 7), 24), 0);
        assert_int_equal(mpnet_addr4_del(t.r, 1, IP4(192, 0, 2, 1), 24), 0);
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(ctr(&t, "ip4_bad_src"), 1);
        /* And the new one is ours. */
        frame4_ft(&t, f, 64, IP4(192, 0, 2, 7), IP4(198, 51, 100, 1));
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(ctr(&t, "ip4_bad_src"), 2);
        rig_fini(&t);
}

/* IPv6: a UDP datagram to R's closed port draws an ICMPv6 error that passes
 * local-out and "in"'s ip6-out once each; dropped at local-out, nothing
 * leaves. */
static void test_local_out_arcs6(void **state)
{
        static const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
        static const uint8_t h6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x99};
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV6};
        struct mpnet_ip6_repr ip = {
            .payload_len = 16, .next_header = MPNET_IPPROTO_UDP, .hop_limit = 64};
        struct mpnet_pkt *v[16];
        uint8_t f[14 + 40 + 16];
        uint64_t sum;
        unsigned n, errs = 0;
        struct rig t;

        (void)state;
        rig_init(&t);
        assert_int_equal(mpnet_addr6_add(t.r, 1, r6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_neigh6_add(t.r, 1, h6, t.g->info.mac), 0);
        memset(f, 0, sizeof(f));
        memcpy(eth.dst, t.r1->info.mac, 6);
        memcpy(eth.src, t.g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        memcpy(ip.src, h6, 16);
        memcpy(ip.dst, r6, 16);
        mpnet_ip6_repr_emit(&ip, f + 14);
        mpnet_put_be16(f + 54, 40000);
        mpnet_put_be16(f + 56, 9); /* discard: nobody listens */
        mpnet_put_be16(f + 58, 16);
        sum = mpnet_csum_add(mpnet_ip6_pseudo_sum(h6, r6, 16, MPNET_IPPROTO_UDP), f + 54, 16);
        mpnet_put_be16(f + 60, mpnet_udp_csum_final(sum));
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-lout", true), 0);
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-out6", true), 0);
        run(&t);
        while ((n = mpnet_link_rx_burst(t.g, 0, v, 16)) > 0) /* R's own ND, MLD */
                mpnet_pkt_free_bulk(v, n);
        inject(&t, f, sizeof(f));
        run(&t);
        while ((n = mpnet_link_rx_burst(t.g, 0, v, 16)) > 0) {
                for (unsigned i = 0; i < n; i++)
                        errs += mpnet_get_be16(v[i]->data + 12) == MPNET_ETHERTYPE_IPV6 &&
                                v[i]->data[14 + 6] == MPNET_IPPROTO_ICMPV6 && v[i]->data[54] == 1 &&
                                v[i]->data[55] == 4;
                mpnet_pkt_free_bulk(v, n);
        }
        assert_int_equal(errs, 1); /* port unreachable */
        assert_int_equal(t.st->seen_lout, 1);
        assert_int_equal(t.st->seen_out6, 1);
        t.st->drop_lout = true;
        inject(&t, f, sizeof(f));
        run(&t);
        errs = 0;
        while ((n = mpnet_link_rx_burst(t.g, 0, v, 16)) > 0) {
                for (unsigned i = 0; i < n; i++)
                        errs += mpnet_get_be16(v[i]->data + 12) == MPNET_ETHERTYPE_IPV6 &&
                                v[i]->data[14 + 6] == MPNET_IPPROTO_ICMPV6 && v[i]->data[54] == 1;
                mpnet_pkt_free_bulk(v, n);
        }
        assert_int_equal(errs, 0);
        assert_int_equal(t.st->seen_lout, 2);
        assert_int_equal(t.st->seen_out6, 1);
        rig_fini(&t);
}

/* The IPv6 header as R's local-out arc "t-tc6" left it, from r6 to h6;
 * @return whether b (the IPv6 header of a frame) is one of R's to h6. */
static bool tc6_marked(const uint8_t *b, const uint8_t *r6, const uint8_t *h6)
{
        assert_int_equal((b[0] & 0xf) << 4 | b[1] >> 4, TC6_MARK);
        assert_int_equal((uint32_t)(b[1] & 0xf) << 16 | mpnet_get_be16(b + 2), FL6_MARK);
        assert_memory_equal(b + 8, r6, 16);
        assert_memory_equal(b + 24, h6, 16);
        assert_int_equal(b[7], 64);
        return true;
}

/* A worker's IPv6 packet that fits the link goes out on the worker's own
 * vector, in order with the rest of its flow (no punt); one that needs
 * fragmenting goes out through the control thread (PUNT_OUT6) with its
 * header as the worker's local-out arc left it: the traffic class and
 * flow label a feature wrote survive in every fragment. */
static void test_punt_out6_keeps_arc_header(void **state)
{
        static const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
        static const uint8_t h6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x99};
        const uint32_t fits = 1400, big = 1600; /* the link MTU is 1500 */
        struct mpnet_pkt *v[16], *p;
        unsigned n, got = 0, frags = 0;
        struct wctx *w;
        struct rig t;

        (void)state;
        rig_init(&t);
        assert_int_equal(mpnet_addr6_add(t.r, 1, r6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_neigh6_add(t.r, 1, h6, t.g->info.mac), 0);
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-tc6", true), 0);
        run(&t);
        while ((n = mpnet_link_rx_burst(t.g, 0, v, 16)) > 0) /* R's own ND, MLD */
                mpnet_pkt_free_bulk(v, n);
        /* The test thread plays worker 1: no other thread runs. */
        w = stack_ctx_get(t.r, 1);
        assert_non_null(w);
        p = mpnet_pkt_alloc(t.pool);
        assert_non_null(p);
        memset(mpnet_pkt_append(p, fits), 0x5a, fits);
        assert_int_equal(ip6_output_w(w, p, r6, h6, MPNET_IPPROTO_UDP, 64, 0), 0);
        assert_int_equal(ctr(&t, "punt"), 0);
        ctx_tx_flush_all(w);
        p = mpnet_pkt_alloc(t.pool);
        assert_non_null(p);
        memset(mpnet_pkt_append(p, big), 0x5a, big);
        assert_int_equal(ip6_output_w(w, p, r6, h6, MPNET_IPPROTO_UDP, 64, 0), 0);
        assert_int_equal(ctr(&t, "punt"), 1);
        run(&t);
        while ((n = mpnet_link_rx_burst(t.g, 0, v, 16)) > 0) {
                for (unsigned i = 0; i < n; i++) {
                        const uint8_t *b = v[i]->data + 14;

                        if (mpnet_get_be16(v[i]->data + 12) != MPNET_ETHERTYPE_IPV6)
                                continue;
                        if (b[6] == MPNET_IPPROTO_UDP && v[i]->len == 14 + 40 + fits &&
                            tc6_marked(b, r6, h6)) {
                                assert_int_equal(frags, 0); /* the first made went first */
                                got++;
                        }
                        if (b[6] == MPNET_IPPROTO_FRAGMENT && tc6_marked(b, r6, h6))
                                frags++;
                }
                mpnet_pkt_free_bulk(v, n);
        }
        assert_int_equal(got, 1);
        assert_int_equal(frags, 2);
        rig_fini(&t);
}

static void test_decap_reenters_ether_input(void **state)
{
        struct rig t;
        uint8_t f[128], ttls[4];
        struct mpnet_eth_repr outer = {.ethertype = ET_DECAP};

        (void)state;
        rig_init(&t);
        /* An outer Ethernet header of the test's ethertype around a frame R
         * forwards. */
        memcpy(outer.dst, t.r1->info.mac, 6);
        memcpy(outer.src, t.g->info.mac, 6);
        mpnet_eth_repr_emit(&outer, f);
        frame4(&t, f + 14, 33);
        for (int i = 0; i < 3; i++)
                inject(&t, f, 74);
        run(&t);
        assert_int_equal(t.st->decaps, 3);
        assert_int_equal(collect(&t, ttls, 4), 3);
        assert_int_equal(ttls[0], 32);
        assert_int_equal(ctr(&t, "ip4_forwarded"), 3);
        assert_int_equal(ctr(&t, "graph_reentry_drop"), 0);
        {
                /* The node's statistics count its frames. */
                struct mpnet_node_stats ns;
                int id = mpnet_node_find(t.r, "t-decap");

                assert_true(id >= NODE__CORE);
                assert_int_equal(mpnet_node_stats_get(t.r, (unsigned)id, &ns), 0);
                assert_int_equal(ns.pkts, 3);
        }
        rig_fini(&t);
}

static void test_reentry_bound(void **state)
{
        struct rig t;
        uint8_t f[64];
        struct mpnet_eth_repr eth = {.ethertype = ET_LOOP};

        (void)state;
        rig_init(&t);
        memset(f, 0, sizeof(f));
        memcpy(eth.dst, t.r1->info.mac, 6);
        memcpy(eth.src, t.g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        inject(&t, f, 60);
        inject(&t, f, 60);
        run(&t);
        /* Each frame goes round GRAPH_REENTRY_MAX times past its first, and
         * is then dropped and counted; the stack goes on. */
        assert_int_equal(t.st->loops, 2 * (GRAPH_REENTRY_MAX + 1));
        assert_int_equal(ctr(&t, "graph_reentry_drop"), 2);
        frame4(&t, f, 64);
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 1);
        rig_fini(&t);
}

/* Modules that do not fit. */
/* A module that takes frames of ET_VEC a packet at a time and finishes
 * them per vector (the vec_end hook), as TCP does its segments. */
struct vstate {
        unsigned pkts;     /* taken */
        unsigned hooks;    /* vec_end calls */
        unsigned at_hook;  /* pkts when the hook last ran */
        unsigned reask;    /* times the hook asks for itself again */
        bool frames_empty; /* every frame empty when it last ran */
};

static void vec_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        unsigned mi = w->s->g.node_mod[self];
        struct vstate *vs = w->mctx[mi];

        (void)ifp;
        vs->pkts += in->n;
        mpnet_pkt_free_bulk(in->p, in->n);
        in->n = 0;
        ctx_vec_end_arm(w, mi);
}

static void vec_end(struct wctx *w, void *cs)
{
        struct vstate *vs = cs;

        vs->hooks++;
        vs->at_hook = vs->pkts;
        vs->frames_empty = w->pending == 0;
        for (unsigned i = 0; i < w->s->g.n_nodes; i++)
                vs->frames_empty &= w->fr[i].n == 0;
        if (vs->reask > 0) {
                vs->reask--;
                for (unsigned i = 0; i < w->s->g.n_mods; i++) {
                        if (w->mctx[i] == cs)
                                ctx_vec_end_arm(w, i);
                }
        }
}

static const struct node_reg v_nodes[] = {{.name = "t-vec", .fn = vec_node, .core_id = -1}};
static const struct ethertype_reg v_types[] = {{.type = ET_VEC, .node = "t-vec"}};
static const struct mpnet_module v_mod = {
    .name = "vec",
    .nodes = v_nodes,
    .n_nodes = 1,
    .ethertypes = v_types,
    .n_ethertypes = 1,
    .ctx_state_size = sizeof(struct vstate),
    .vec_end = vec_end,
};

/* The vec_end hook: called once per dispatch that asked for it, after
 * every node ran (frames empty), having seen the whole vector; not called
 * by a dispatch that did not ask; a hook that keeps asking is called
 * GRAPH_VEC_END_ROUNDS times a dispatch, and the stack goes on. */
static void test_vec_end_hook(void **state)
{
        static const struct mpnet_module *const mods[] = {&t_mod, &v_mod, NULL};
        struct rig t;
        uint8_t f[64], f4[64];
        struct mpnet_eth_repr eth = {.ethertype = ET_VEC};
        struct vstate *vs;

        (void)state;
        rig_init_mods(&t, mods);
        vs = t.r->ctx[0]->mctx[t.r->g.node_mod[mpnet_node_find(t.r, "t-vec")]];
        memset(f, 0, sizeof(f));
        memcpy(eth.dst, t.r1->info.mac, 6);
        memcpy(eth.src, t.g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        for (int i = 0; i < 5; i++)
                inject(&t, f, 60);
        run(&t);
        assert_int_equal(vs->pkts, 5);
        assert_int_equal(vs->hooks, 1);
        assert_int_equal(vs->at_hook, 5);
        assert_true(vs->frames_empty);
        frame4(&t, f4, 64); /* forwarded: no hook asked */
        inject(&t, f4, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 1);
        assert_int_equal(vs->hooks, 1);
        inject(&t, f, 60);
        inject(&t, f, 60);
        run(&t);
        assert_int_equal(vs->hooks, 2);
        assert_int_equal(vs->at_hook, 7);
        vs->reask = 1000;
        inject(&t, f, 60);
        mpnet_stack_poll(t.r, mpnet_clock_now(&t.clk));
        assert_int_equal(vs->hooks, 2 + GRAPH_VEC_END_ROUNDS);
        vs->reask = 0;
        inject(&t, f4, 60);
        run(&t);
        assert_int_equal(collect(&t, NULL, 0), 1);
        assert_int_equal(vs->pkts, 8);
        rig_fini(&t);
}

static const struct ethertype_reg dup_type[] = {{.type = MPNET_ETHERTYPE_IPV4, .node = "t-x"}};
static const char *const bad_next[] = {"no-such-node"};
static const struct node_reg x_node[] = {{.name = "t-x", .fn = decap_node, .core_id = -1}};
static const struct node_reg bad_next_node[] = {
    {.name = "t-y", .fn = decap_node, .next = bad_next, .n_next = 1, .core_id = -1}};
static const struct node_reg taken_node[] = {
    {.name = "ip4-input", .fn = decap_node, .core_id = -1}};
static const struct node_reg core_claim[] = {
    {.name = "t-z", .fn = decap_node, .core_id = NODE_ip4_input}};

static int fail_init(struct mpnet_stack *s, void *state)
{
        (void)s;
        (void)state;
        return -ENOMEM;
}

static void test_bad_modules(void **state)
{
        static const struct mpnet_module dup_ethertype = {.name = "dup",
                                                          .nodes = x_node,
                                                          .n_nodes = 1,
                                                          .ethertypes = dup_type,
                                                          .n_ethertypes = 1};
        static const struct mpnet_module unknown_next = {
            .name = "next", .nodes = bad_next_node, .n_nodes = 1};
        static const struct mpnet_module node_taken = {
            .name = "taken", .nodes = taken_node, .n_nodes = 1};
        static const struct mpnet_module core_id = {
            .name = "core", .nodes = core_claim, .n_nodes = 1};
        static const struct mpnet_module name_taken = {.name = "ip4"};
        static const struct mpnet_module failing = {.name = "fails", .init = fail_init};
        const struct mpnet_module *bad[] = {&dup_ethertype, &unknown_next, &node_taken, &core_id,
                                            &name_taken};
        struct rig t;

        (void)state;
        rig_init(&t);
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const struct mpnet_module *mods[] = {bad[i], NULL};

                errno = 0;
                assert_null(make_stack(&t, mods));
                assert_int_equal(errno, EINVAL);
        }
        {
                /* An init that fails: the stack is not made, and the
                 * modules whose init ran have their fini. */
                const struct mpnet_module *mods[] = {&t_mod, &failing, NULL};
                unsigned i0 = inits, f0 = finis;

                errno = 0;
                assert_null(make_stack(&t, mods));
                assert_int_equal(errno, ENOMEM);
                assert_int_equal(inits - i0, 1);
                assert_int_equal(finis - f0, 1);
        }
        rig_fini(&t);
}

static void test_module_life(void **state)
{
        struct rig t;
        unsigned i0 = inits, f0 = finis;

        (void)state;
        rig_init(&t);
        assert_int_equal(inits - i0, 1);
        assert_int_equal(finis - f0, 0);
        rig_fini(&t);
        assert_int_equal(finis - f0, 1);
}

/* Per-context state of a module: made with each context, serviced on its
 * loop (the deadline it returns bounds the poll's), reset by stack_reset
 * and freed with the context; the per-interface flush runs on detach. */
struct tctx {
        unsigned id;
        uint64_t services, last_now;
};

static unsigned ctx_inits, ctx_finis, ctx_resets, iface_flushes;
static uint64_t ctx_next = MPNET_TIME_NEVER;

static int tc_init(struct wctx *w, void *cs)
{
        struct tctx *c = cs;

        c->id = w->id;
        ctx_inits++;
        return 0;
}

static void tc_fini(struct wctx *w, void *cs)
{
        struct tctx *c = cs;

        assert_int_equal(c->id, w->id);
        ctx_finis++;
}

static uint64_t tc_service(struct wctx *w, void *cs, uint64_t now)
{
        struct tctx *c = cs;

        assert_int_equal(c->id, w->id);
        c->services++;
        c->last_now = now;
        return ctx_next;
}

static void tc_reset(struct wctx *w, void *cs)
{
        (void)w;
        (void)cs;
        ctx_resets++;
}

static void tc_iface_flush(struct mpnet_iface *ifp, bool learnt_only)
{
        (void)ifp;
        iface_flushes += !learnt_only;
}

static const struct mpnet_module tc_mod = {
    .name = "test-ctx",
    .ctx_state_size = sizeof(struct tctx),
    .ctx_init = tc_init,
    .ctx_fini = tc_fini,
    .ctx_service = tc_service,
    .ctx_reset = tc_reset,
    .iface_flush = tc_iface_flush,
};

static void test_module_ctx_state(void **state)
{
        static const struct mpnet_module *const mods[] = {&tc_mod, NULL};
        struct rig t;
        struct mpnet_stack *s;
        struct tctx *c0, *c1;
        struct wctx *w;
        unsigned i0 = ctx_inits, f0 = ctx_finis, fl0 = iface_flushes;
        uint64_t now, next;
        int mi;

        (void)state;
        rig_init(&t);
        s = make_stack(&t, mods);
        assert_non_null(s);
        assert_int_equal(ctx_inits - i0, 1); /* the control thread's */
        w = stack_ctx_get(s, 1);
        assert_non_null(w);
        assert_int_equal(ctx_inits - i0, 2);
        for (mi = 0; mi < (int)s->g.n_mods && s->g.mods[mi].m != &tc_mod; mi++)
                ;
        assert_true(mi < (int)s->g.n_mods);
        c0 = s->ctx[0]->mctx[mi];
        c1 = w->mctx[mi];
        assert_non_null(c0);
        assert_non_null(c1);
        assert_ptr_not_equal(c0, c1);
        assert_int_equal(c1->id, 1);
        now = mpnet_clock_now(&t.clk) + MPNET_NS_PER_S;
        ctx_next = now + 3 * MPNET_NS_PER_MS;
        next = mpnet_stack_poll(s, now);
        assert_int_equal(c0->services, 1);
        assert_int_equal(c0->last_now, now);
        assert_true(next <= ctx_next);
        assert_int_equal(c1->services, 0); /* its worker services it */
        (void)ctx_service(w);
        assert_int_equal(c1->services, 1);
        ctx_next = MPNET_TIME_NEVER;
        assert_int_equal(mpnet_iface_attach(s, t.g, "x"), 1);
        assert_int_equal(mpnet_iface_detach(s, 1), 0);
        assert_int_equal(iface_flushes - fl0, 1);
        mpnet_stack_destroy(s);
        assert_int_equal(ctx_finis - f0, 2);
        rig_fini(&t);
}

/* stack_reset() reaches every context's module state. */
static void test_module_ctx_reset(void **state)
{
        static const struct mpnet_module *const mods[] = {&tc_mod, NULL};
        struct mpnet_stack_cfg sc = {.name = "V", .seed = 1};
        struct mpnet_clock clk;
        struct mpnet_pool *pool = mpnet_pool_create("ctxr", 256);
        struct stack_mark *m;
        struct mpnet_stack *s;
        unsigned r0 = ctx_resets;

        (void)state;
        assert_non_null(pool);
        mpnet_clock_init_virtual(&clk, MPNET_NS_PER_S);
        sc.clock = &clk;
        sc.pool = pool;
        sc.modules = mods;
        s = mpnet_stack_create(&sc);
        assert_non_null(s);
        assert_non_null(stack_ctx_get(s, 1));
        m = stack_reset(s, NULL);
        assert_non_null(m);
        assert_ptr_equal(stack_reset(s, m), m);
        assert_int_equal(ctx_resets - r0, 2);
        free(m);
        mpnet_stack_destroy(s);
        mpnet_pool_destroy(pool);
}

/* A worker's own IPv6 packet that it punts (PUNT_OUT6: too big for the
 * link) leaves, in fragments, by the interface the worker routed it to, whose ip6-out arc ran
 * there, even when the route changed before the control thread sent it. */
static void test_punt_out6_keeps_egress(void **state)
{
        static const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
        static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 9, [15] = 5};
        struct mpnet_route6 rt = {.plen = 64, .type = MPNET_NH_CONNECTED, .n_paths = 1};
        const uint32_t len = 1600; /* > the link MTU: the worker punts it */
        struct mpnet_pkt *v[16], *p;
        unsigned n, on_g = 0, on_k = 0;
        struct wctx *w;
        struct rig t;

        (void)state;
        rig_init(&t);
        memcpy(rt.dst, d6, 8);
        rt.paths[0].ifindex = 1;
        assert_int_equal(mpnet_addr6_add(t.r, 1, r6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_route6_add(t.r, 0, &rt), 0);
        assert_int_equal(mpnet_neigh6_add(t.r, 1, d6, t.g->info.mac), 0);
        assert_int_equal(mpnet_neigh6_add(t.r, 2, d6, t.k->info.mac), 0);
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-out6-on", true), 0);
        assert_int_equal(mpnet_feature_set(t.r, 2, "t-out6-on", true), 0);
        run(&t);
        link_drain(t.g);
        link_drain(t.k);
        w = stack_ctx_get(t.r, 1); /* the test thread plays worker 1 */
        assert_non_null(w);
        p = mpnet_pkt_alloc(t.pool);
        assert_non_null(p);
        memset(mpnet_pkt_append(p, len), 0x5a, len);
        assert_int_equal(ip6_output_w(w, p, NULL, d6, MPNET_IPPROTO_UDP, 64, 0), 0);
        assert_int_equal(t.st->out6_on[1], 1);
        /* The route moves to "out" before the control thread sends it. */
        rt.paths[0].ifindex = 2;
        assert_int_equal(mpnet_route6_replace(t.r, 0, &rt), 0);
        run(&t);
        while ((n = mpnet_link_rx_burst(t.g, 0, v, 16)) > 0) {
                for (unsigned i = 0; i < n; i++)
                        on_g += v[i]->data[14 + 6] == MPNET_IPPROTO_FRAGMENT;
                mpnet_pkt_free_bulk(v, n);
        }
        while ((n = mpnet_link_rx_burst(t.k, 0, v, 16)) > 0) {
                for (unsigned i = 0; i < n; i++)
                        on_k += v[i]->data[14 + 6] == MPNET_IPPROTO_FRAGMENT;
                mpnet_pkt_free_bulk(v, n);
        }
        assert_int_equal(on_g, 2);
        assert_int_equal(on_k, 0);
        assert_int_equal(t.st->out6_on[2], 0);
        rig_fini(&t);
}

/* Drops of own IPv6 packets have counters (found by name): no source
 * address to send from; a punted packet a feature cut below its header. */
static void test_ip6_output_drop_counters(void **state)
{
        static const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
        static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 9, [15] = 5};
        struct mpnet_route6 rt = {.plen = 64, .type = MPNET_NH_CONNECTED, .n_paths = 1};
        struct mpnet_pkt *p;
        struct wctx *w;
        struct rig t;

        (void)state;
        rig_init(&t);
        memcpy(rt.dst, d6, 8);
        rt.paths[0].ifindex = 2;
        assert_int_equal(mpnet_route6_add(t.r, 0, &rt), 0);
        w = stack_ctx_get(t.r, 1);
        assert_non_null(w);
        /* No IPv6 address anywhere. */
        p = mpnet_pkt_alloc(t.pool);
        assert_non_null(p);
        memset(mpnet_pkt_append(p, 8), 0, 8);
        assert_int_equal(ip6_output_w(w, p, NULL, d6, MPNET_IPPROTO_UDP, 64, 0), -EADDRNOTAVAIL);
        assert_int_equal(ctr(&t, "ip6_no_src"), 1);
        /* To ourselves (punted to loop back), cut on the way. */
        assert_int_equal(mpnet_addr6_add(t.r, 1, r6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_feature_set(t.r, 1, "t-cut6", true), 0);
        run(&t);
        t.st->cut6 = true;
        p = mpnet_pkt_alloc(t.pool);
        assert_non_null(p);
        memset(mpnet_pkt_append(p, 8), 0, 8);
        assert_int_equal(ip6_output_w(w, p, r6, r6, MPNET_IPPROTO_UDP, 64, 0), 0);
        assert_int_equal(ctr(&t, "punt"), 1);
        run(&t);
        assert_int_equal(ctr(&t, "ip6_out_punt_short"), 1);
        rig_fini(&t);
}

/* Fails every malloc() of fail_size bytes while it is set: test_graph is
 * linked with --wrap=malloc (CMakeLists.txt). */
static size_t fail_size;
static unsigned fail_hits;
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
        if (n != 0 && n == fail_size) {
                fail_hits++;
                return NULL;
        }
        return __real_malloc(n);
}

/* An IPv6 address deleted while its interface's copy for the workers
 * cannot be published for want of memory leaves the copy on the next
 * poll (no timer of the interface would publish it), and is counted. */
static void test_addr6_publish_retried(void **state)
{
        static const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
        struct mpnet_stack *sl[1];
        struct rig t;
        uint64_t retries;

        (void)state;
        rig_init(&t);
        sl[0] = t.r;
        assert_int_equal(mpnet_addr6_add(t.r, 1, r6, 64, MPNET_ADDR6_F_NODAD), 0);
        /* Past the MLD reports: no timer of the interface is armed. */
        sim_run_until(&t.clk, sl, 1, mpnet_clock_now(&t.clk) + 30 * MPNET_NS_PER_S);
        assert_non_null(iface_addr6_find(stack_iface(t.r, 1), r6));
        fail_hits = 0;
        fail_size = sizeof(struct addr6_snap);
        assert_int_equal(mpnet_addr6_del(t.r, 1, r6, 64), 0);
        fail_size = 0;
        assert_true(fail_hits > 0);
        assert_non_null(iface_addr6_find(stack_iface(t.r, 1), r6)); /* the old copy */
        retries = ctr(&t, "addr6_publish_retry");
        assert_int_equal(retries, fail_hits);
        run(&t);
        assert_null(iface_addr6_find(stack_iface(t.r, 1), r6));
        assert_int_equal(ctr(&t, "addr6_publish_retry"), retries);
        rig_fini(&t);
}

/* A module with interface hooks: what each saw, in order. */
static struct {
        int fail;     /* what iface_attach returns */
        char log[64]; /* a attach, d detach, f free, m mtu */
        unsigned n_log;
        uint32_t mtu;
        bool blocks_seen; /* ip4's and ip6's blocks were there at attach */
} ifh;

static int ifh_attach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        (void)s;
        ifh.blocks_seen =
            ifp->in4 != NULL && ifp->in6 != NULL && ifp->neigh[0] != NULL && ifp->neigh[1] != NULL;
        if (ifh.fail != 0)
                return ifh.fail;
        ifh.log[ifh.n_log++] = 'a';
        return 0;
}

static void ifh_detach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        (void)s;
        /* Before the core modules undo theirs (reverse order). */
        assert_non_null(ifp->in4);
        ifh.log[ifh.n_log++] = 'd';
}

static void ifh_free(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        (void)s;
        (void)ifp;
        ifh.log[ifh.n_log++] = 'f';
}

static void ifh_mtu(struct mpnet_iface *ifp, uint32_t mtu)
{
        (void)ifp;
        ifh.mtu = mtu;
        ifh.log[ifh.n_log++] = 'm';
}

static const struct mpnet_module ifh_mod = {.name = "ifhooks",
                                            .iface_attach = ifh_attach,
                                            .iface_detach = ifh_detach,
                                            .iface_free = ifh_free,
                                            .iface_mtu = ifh_mtu};

/* The interface hooks: attach runs after the core modules made their
 * blocks; a failing attach leaves no interface (and LeakSanitizer no
 * block); detach then free on detach, free on destroy. */
static void test_iface_hooks(void **state)
{
        const struct mpnet_module *mods[] = {&ifh_mod, NULL};
        struct mpnet_memwire_cfg wc = {.name = "ifh"};
        struct mpnet_link *a, *b;
        struct mpnet_stack *s;
        struct rig t;

        (void)state;
        rig_init(&t);
        memset(&ifh, 0, sizeof(ifh));
        s = make_stack(&t, mods);
        assert_non_null(s);
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        assert_int_equal(mpnet_iface_attach(s, a, "a"), 1);
        assert_true(ifh.blocks_seen);
        assert_int_equal(mpnet_addr4_add(s, 1, IP4(192, 0, 2, 1), 24), 0);
        assert_int_equal(mpnet_iface_set_mtu(s, 1, 1400), 0);
        assert_int_equal(ifh.mtu, 1400);
        ifh.fail = -ENOBUFS;
        assert_int_equal(mpnet_iface_attach(s, b, "b"), -ENOBUFS);
        assert_null(stack_iface(s, 2));
        ifh.fail = 0;
        assert_int_equal(mpnet_iface_detach(s, 1), 0);
        assert_int_equal(mpnet_addr4_list(s, 1, NULL, 0), -ENODEV);
        assert_int_equal(mpnet_iface_attach(s, b, "b"), 1);
        mpnet_stack_destroy(s);
        ifh.log[ifh.n_log] = 0;
        assert_string_equal(ifh.log, "amdfaf");
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
        rig_fini(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_features_on_arcs),
            cmocka_unit_test(test_local_out_arcs),
            cmocka_unit_test(test_local_out_arcs6),
            cmocka_unit_test(test_own_source_follows_addresses),
            cmocka_unit_test(test_punt_out6_keeps_arc_header),
            cmocka_unit_test(test_decap_reenters_ether_input),
            cmocka_unit_test(test_reentry_bound),
            cmocka_unit_test(test_bad_modules),
            cmocka_unit_test(test_module_life),
            cmocka_unit_test(test_module_ctx_state),
            cmocka_unit_test(test_module_ctx_reset),
            cmocka_unit_test(test_punt_out6_keeps_egress),
            cmocka_unit_test(test_ip6_output_drop_counters),
            cmocka_unit_test(test_addr6_publish_retried),
            cmocka_unit_test(test_iface_hooks),
            cmocka_unit_test(test_vec_end_hook),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
