/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The network of the flood tests (tests/sim/test_flood_*.c), on a virtual
 * clock: a stack under test (a router, or a host with forwarding off)
 * between two memory wires whose far ends the test drives. It plays the
 * hosts there: H1 on LAN 1 (the flooded link), H2 on LAN 2, and H3, a host
 * of LAN 1 that only answers once the test lets it. Each answers the
 * stack's ARP requests and neighbour solicitations for its addresses, so
 * its entries are confirmed (REACHABLE) the RFC way, not made permanent;
 * legitimate UDP (port FF_LEGIT_PORT) is counted per host and family.
 * Addresses: tests/flood_frames.h.
 */
#ifndef MPNET_FLOODNET_H
#define MPNET_FLOODNET_H

#include "flood_frames.h"
#include "ip6util.h"

enum { FH1, FH2, FH3, FH_N };

struct fnet {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *r1, *x1, *r2, *x2; /* the stack's ends, the test's ends */
        struct mpnet_stack *st;
        bool h3_up;                      /* H3 answers */
        uint64_t udp4[FH_N], udp6[FH_N]; /* legitimate datagrams received */
        uint64_t echo6_rx;               /* echo replies to H1 */
        uint64_t icmp4_err, icmp6_err;   /* errors the stack sent to LAN 1 */
        uint64_t arp_req, nd_ns;         /* resolution the stack asked for, LAN 1 */
        uint8_t f[2048];
};

static inline uint64_t fnet_ctr(struct fnet *n, const char *c)
{
        return stk_ctr(n->st, c);
}

static inline struct mpnet_stack_usage fnet_usage(struct fnet *n, int ifindex)
{
        struct mpnet_stack_usage u;

        assert_int_equal(mpnet_stack_usage_get(n->st, ifindex, &u), 0);
        return u;
}

/* Put a frame on one of the test's ends; a full ring runs the stack first. */
static inline void fnet_send(struct fnet *n, struct mpnet_link *x, const uint8_t *f, size_t len)
{
        struct mpnet_pkt *p = mpnet_pkt_from_bytes(n->pool, f, (uint32_t)len);

        assert_non_null(p);
        for (unsigned tries = 0; mpnet_link_tx_burst(x, 0, &p, 1) != 1; tries++) {
                assert_true(tries < 1000);
                mpnet_stack_poll(n->st, mpnet_clock_now(&n->clk));
        }
}

/* Which of the test's hosts owns a (LAN 1 with x1, else LAN 2). */
static inline int fnet_host4(struct fnet *n, bool lan1, uint32_t a)
{
        if (!lan1)
                return a == FF_H2_ADDR ? FH2 : -1;
        if (a == FF_H1_ADDR)
                return FH1;
        return a == FF_H3_ADDR && n->h3_up ? FH3 : -1;
}

static inline int fnet_host6(struct fnet *n, bool lan1, const uint8_t *a)
{
        if (!lan1)
                return memcmp(a, ff_h2_6, 16) == 0 ? FH2 : -1;
        if (memcmp(a, ff_h1_6, 16) == 0)
                return FH1;
        return memcmp(a, ff_h3_6, 16) == 0 && n->h3_up ? FH3 : -1;
}

static const uint8_t *const fnet_mac[FH_N] = {ff_h1_mac, ff_h2_mac, ff_h3_mac};

static inline void fnet_rx_arp(struct fnet *n, struct mpnet_link *x, const uint8_t *b)
{
        uint32_t spa = mpnet_get_be32(b + 14), tpa = mpnet_get_be32(b + 24);
        int h = fnet_host4(n, x == n->x1, tpa);

        if (mpnet_get_be16(b + 6) != MPNET_ARP_OP_REQUEST)
                return;
        if (x == n->x1)
                n->arp_req++;
        if (h >= 0) {
                uint8_t f[64];
                size_t len = ff_arp(f, b + 8, MPNET_ARP_OP_REPLY, fnet_mac[h], tpa, b + 8, spa);

                fnet_send(n, x, f, len);
        }
}

static inline void fnet_rx_ip6(struct fnet *n, struct mpnet_link *x, const uint8_t *e, size_t len)
{
        const uint8_t *b = e + MPNET_ETH_HLEN, *m = b + MPNET_IP6_HLEN;
        int h;

        if (len < MPNET_ETH_HLEN + MPNET_IP6_HLEN + 8)
                return;
        if (b[6] == MPNET_IPPROTO_UDP && mpnet_get_be16(m + 2) == FF_LEGIT_PORT) {
                h = fnet_host6(n, x == n->x1, b + 24);
                if (h >= 0)
                        n->udp6[h]++;
                return;
        }
        if (b[6] != MPNET_IPPROTO_ICMPV6)
                return;
        if (m[0] == MPNET_ICMP6_ECHO_REPLY && x == n->x1)
                n->echo6_rx++;
        if (m[0] < 128 && x == n->x1)
                n->icmp6_err++;
        if (m[0] == MPNET_ICMP6_ND_NS && len >= MPNET_ETH_HLEN + MPNET_IP6_HLEN + 24) {
                if (x == n->x1)
                        n->nd_ns++;
                h = fnet_host6(n, x == n->x1, m + 8);
                if (h >= 0) {
                        uint8_t f[128], src[16];
                        size_t k;

                        memcpy(src, m + 8, 16);
                        k = ff_nd(f, e + 6, fnet_mac[h], src, b + 8, MPNET_ICMP6_ND_NA, src, true);
                        fnet_send(n, x, f, k);
                }
        }
}

/* Read what the stack sent on one end: answer, count, free. @return frames. */
static inline unsigned fnet_rx(struct fnet *n, struct mpnet_link *x)
{
        struct mpnet_pkt *p[64];
        unsigned k, total = 0;

        while ((k = mpnet_link_rx_burst(x, 0, p, 64)) > 0) {
                for (unsigned i = 0; i < k; i++) {
                        const uint8_t *e = p[i]->data;
                        uint16_t type = mpnet_get_be16(e + 12);
                        const uint8_t *b = e + MPNET_ETH_HLEN;

                        if (type == MPNET_ETHERTYPE_ARP)
                                fnet_rx_arp(n, x, b);
                        else if (type == MPNET_ETHERTYPE_IPV6)
                                fnet_rx_ip6(n, x, e, p[i]->len);
                        else if (type == MPNET_ETHERTYPE_IPV4 && b[9] == MPNET_IPPROTO_UDP &&
                                 mpnet_get_be16(b + 22) == FF_LEGIT_PORT) {
                                int h = fnet_host4(n, x == n->x1, mpnet_get_be32(b + 16));

                                if (h >= 0)
                                        n->udp4[h]++;
                        } else if (type == MPNET_ETHERTYPE_IPV4 && b[9] == MPNET_IPPROTO_ICMP &&
                                   x == n->x1 && b[20] != 0 && b[20] != 8) {
                                n->icmp4_err++;
                        }
                }
                mpnet_pkt_free_bulk(p, k);
                total += k;
        }
        return total;
}

/* Run the stack and the hosts for ns of virtual time, at most 10 ms a step. */
static inline void fnet_run(struct fnet *n, uint64_t ns)
{
        uint64_t end = mpnet_clock_now(&n->clk) + ns;

        for (unsigned guard = 0;; guard++) {
                uint64_t now = mpnet_clock_now(&n->clk), next;
                unsigned moved;

                assert_true(guard < 10000000);
                do {
                        next = mpnet_stack_poll(n->st, now);
                        moved = fnet_rx(n, n->x1) + fnet_rx(n, n->x2);
                } while (moved > 0);
                if (now >= end)
                        return;
                if (next > now + 10 * MPNET_NS_PER_MS)
                        next = now + 10 * MPNET_NS_PER_MS;
                mpnet_clock_set(&n->clk, next < end ? next : end);
        }
}

/*
 * The stack: forwarding (a router) or not (a host, IPv6 on, no addresses
 * of its own on LAN 1 but its link-local one: SLAAC gives it more), its
 * limits on neighbour learning (learn_rate per second, learn_burst) and on
 * resolutions started (resolve_rate, resolve_burst); 0: the defaults.
 */
static inline void fnet_init_limits(struct fnet *n, bool router, uint32_t learn_rate,
                                    uint32_t learn_burst, uint32_t resolve_rate,
                                    uint32_t resolve_burst)
{
        struct mpnet_memwire_cfg w1 = {.name = "fl1", .ring_size = 1024};
        struct mpnet_memwire_cfg w2 = {.name = "fl2", .ring_size = 1024};
        struct mpnet_stack_cfg sc = {.name = router ? "router" : "host",
                                     .seed = 3,
                                     .ip6_auto = true,
                                     .ip4_forwarding = router,
                                     .ip6_forwarding = router,
                                     .neigh_learn_rate = learn_rate,
                                     .neigh_learn_burst = learn_burst,
                                     .neigh_resolve_rate = resolve_rate,
                                     .neigh_resolve_burst = resolve_burst};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("flood", 8192);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&w1, &n->r1, &n->x1), 0);
        assert_int_equal(mpnet_memwire_create(&w2, &n->r2, &n->x2), 0);
        sc.clock = &n->clk;
        sc.pool = n->pool;
        n->st = mpnet_stack_create(&sc);
        assert_non_null(n->st);
        assert_int_equal(mpnet_iface_attach(n->st, n->r1, "lan1"), 1);
        assert_int_equal(mpnet_iface_attach(n->st, n->r2, "lan2"), 2);
        if (router) {
                assert_int_equal(mpnet_addr4_add(n->st, 1, FF_LAN1_ADDR, FF_LAN1_PLEN), 0);
                assert_int_equal(mpnet_addr4_add(n->st, 2, FF_LAN2_ADDR, 24), 0);
                assert_int_equal(mpnet_addr6_add(n->st, 1, ff_lan1_r6, 64, MPNET_ADDR6_F_NODAD), 0);
                assert_int_equal(mpnet_addr6_add(n->st, 2, ff_lan2_r6, 64, MPNET_ADDR6_F_NODAD), 0);
        }
        /* Past DAD of the link-local addresses and the solicitations. */
        fnet_run(n, 15 * MPNET_NS_PER_S);
}

/* The stack with its limit on neighbour learning, the default on
 * resolution. */
static inline void fnet_init_learn(struct fnet *n, bool router, uint32_t learn_rate,
                                   uint32_t learn_burst)
{
        fnet_init_limits(n, router, learn_rate, learn_burst, 0, 0);
}

/* The stack with the default limits. */
static inline void fnet_init(struct fnet *n, bool router)
{
        fnet_init_learn(n, router, 0, 0);
}

static inline void fnet_fini(struct fnet *n)
{
        mpnet_stack_destroy(n->st);
        link_drain(n->x1);
        link_drain(n->x2);
        mpnet_link_destroy(n->r1);
        mpnet_link_destroy(n->x1);
        mpnet_link_destroy(n->r2);
        mpnet_link_destroy(n->x2);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

/*
 * k legitimate datagrams each way between H1 and H2, IPv4 and IPv6, and to
 * H3 from H2 when to_h3; then a second for resolution to finish.
 * @return how many of the 4k (6k) arrived.
 */
static inline uint64_t fnet_legit(struct fnet *n, unsigned k, bool to_h3)
{
        uint64_t before = 0, after = 0;
        const uint8_t *m1 = n->r1->info.mac, *m2 = n->r2->info.mac;

        for (int h = 0; h < FH_N; h++)
                before += n->udp4[h] + n->udp6[h];
        for (unsigned i = 0; i < k; i++) {
                size_t len;

                len = ff_udp4(n->f, m1, ff_h1_mac, FF_H1_ADDR, FF_H2_ADDR, (uint16_t)i);
                fnet_send(n, n->x1, n->f, len);
                len = ff_udp4(n->f, m2, ff_h2_mac, FF_H2_ADDR, FF_H1_ADDR, (uint16_t)i);
                fnet_send(n, n->x2, n->f, len);
                len = ff_udp6(n->f, m1, ff_h1_mac, ff_h1_6, ff_h2_6);
                fnet_send(n, n->x1, n->f, len);
                len = ff_udp6(n->f, m2, ff_h2_mac, ff_h2_6, ff_h1_6);
                fnet_send(n, n->x2, n->f, len);
                if (to_h3) {
                        len = ff_udp4(n->f, m2, ff_h2_mac, FF_H2_ADDR, FF_H3_ADDR, (uint16_t)i);
                        fnet_send(n, n->x2, n->f, len);
                        len = ff_udp6(n->f, m2, ff_h2_mac, ff_h2_6, ff_h3_6);
                        fnet_send(n, n->x2, n->f, len);
                }
        }
        fnet_run(n, MPNET_NS_PER_S);
        for (int h = 0; h < FH_N; h++)
                after += n->udp4[h] + n->udp6[h];
        return after - before;
}

/* The confirmed entries of H1 (LAN 1) and H2 (LAN 2) are there, with their
 * MACs, in a state that has one. */
static inline void fnet_peers_resolved(struct fnet *n)
{
        struct mpnet_neigh_info ni;

        assert_int_equal(mpnet_neigh4_get(n->st, 1, FF_H1_ADDR, &ni), 0);
        assert_memory_equal(ni.mac, ff_h1_mac, 6);
        assert_true(ni.state != MPNET_NEIGH_INCOMPLETE && ni.state != MPNET_NEIGH_FAILED);
        assert_int_equal(mpnet_neigh4_get(n->st, 2, FF_H2_ADDR, &ni), 0);
        assert_memory_equal(ni.mac, ff_h2_mac, 6);
        assert_int_equal(mpnet_neigh6_get(n->st, 1, ff_h1_6, &ni), 0);
        assert_memory_equal(ni.mac, ff_h1_mac, 6);
        assert_true(ni.state != MPNET_NEIGH_INCOMPLETE && ni.state != MPNET_NEIGH_FAILED);
        assert_int_equal(mpnet_neigh6_get(n->st, 2, ff_h2_6, &ni), 0);
        assert_memory_equal(ni.mac, ff_h2_mac, 6);
}

/*
 * A host that appears during the flood: H3 comes up, H2 sends it k
 * datagrams of each family, and all of them must arrive, even when the
 * flood filled LAN 1's table (full4, full6): a full table evicts its
 * oldest entry nobody confirmed (l3/neigh.h) to make room for H3's, and
 * that eviction is counted.
 */
static inline void fnet_new_peer(struct fnet *n, unsigned k, bool full4, bool full6)
{
        uint64_t ev4 = fnet_ctr(n, "arp_evicted"), ev6 = fnet_ctr(n, "nd_evicted");
        uint64_t got4 = n->udp4[FH3], got6 = n->udp6[FH3];

        n->h3_up = true;
        fnet_legit(n, k, true);
        got4 = n->udp4[FH3] - got4;
        got6 = n->udp6[FH3] - got6;
        n->h3_up = false;
        assert_int_equal(got4, k);
        assert_int_equal(got6, k);
        if (full4)
                assert_true(fnet_ctr(n, "arp_evicted") > ev4);
        if (full6)
                assert_true(fnet_ctr(n, "nd_evicted") > ev6);
}

#endif
