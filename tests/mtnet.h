/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fixture of the concurrency tests that churn a router under traffic:
 *
 *   generator --g=r1 (3 queues)--> R (2 workers) --r2=k (3 queues)--> sink
 *
 * R: interface 1 "in" (192.0.2.1/24, 2001:db8:1::1/64), interface 2 "out"
 * (198.51.100.1/24, 2001:db8:2::1/64). Worker w polls receive queue w of
 * both; the control thread is the test's. The generator thread sends UDP
 * frames that the test's make() builds, each tagged with a class (a byte of
 * the payload), and paces itself to what has come out or been dropped. The
 * sink thread counts what arrives per class and answers ARP requests and
 * neighbour solicitations for the neighbours the test lets answer
 * (198.51.100.(10 + i) and 2001:db8:2::(10 + i) for i < 64, the bits of
 * answer; every neighbour has the sink's MAC).
 *
 * Accounting: every frame the generator sent either reached the sink or was
 * dropped with a reason: sent = got + the sum of R's "drop:" counters
 * (mt_drops()) less R's own ARP requests and solicitations that never
 * left (mt_accounted()); the tests arrange that nothing else is dropped.
 * The learning limit's drops are the sink's answers, never generated
 * frames: a reply that comes after a carrier loss flushed the entry it
 * answers is from an unknown sender (neigh_learn_ok).
 */
#ifndef MPNET_MTNET_H
#define MPNET_MTNET_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "ip6util.h"
#include "mpnet/route.h"
#include "mpnet/thread.h"
#include "mpnet/wire/arp.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/worker.h"

#define MT_CLASSES    4
#define MT_INFLIGHT   512 /* frames the generator lets be on their way */
#define MT_GEN_ADDR   IP4(192, 0, 2, 99)
#define MT_NEIGH(i)   IP4(198, 51, 100, 10 + (i))
#define MT_STABLE_GW  IP4(198, 51, 100, 2)
#define MT_STABLE_NH6 "2001:db8:2::2"

struct mtnet;

/* Build frame i into f (room for 128 bytes): @return its length, with its
 * class in *cls. */
typedef size_t (*mt_make_fn)(struct mtnet *m, uint64_t i, uint8_t *f, unsigned *cls);

struct mtnet {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *g, *r1, *r2, *k;
        struct mpnet_link *extra[4]; /* the test's, destroyed after R */
        struct mpnet_link *k3;       /* optional: a third link end the sink serves */
        struct mpnet_stack *r;
        struct mpnet_runtime *rt;
        pthread_t gen_th, sink_th;
        mt_make_fn make;
        void *arg;
        atomic_bool stop_gen, stop_sink;
        _Atomic uint64_t answer; /* bit i: neighbour i answers */
        _Atomic uint64_t sent[MT_CLASSES], got[MT_CLASSES];
        _Atomic uint64_t arp_req_seen, arp_rep_sent, ns_seen, na_sent;
        _Atomic uint64_t back;      /* IPv4 frames R sent to the generator */
        _Atomic uint64_t back6;     /* ICMPv6 echo replies R sent to the generator */
        _Atomic uint64_t back6_err; /* ICMPv6 errors R sent to the generator */
        uint8_t stable_nh6[16], gen6[16], r1_6[16], r2_6[16];
};

/* The sum of the stack's drop counters of generated frames: those whose
 * description says so, but the learning limit's. */
static inline uint64_t mt_drops(struct mpnet_stack *s)
{
        uint64_t n = 0;

        for (unsigned c = 0; c < mpnet_stack_counter_count(s); c++) {
                if (strncmp(mpnet_stack_counter_desc(s, c), "drop:", 5) == 0)
                        n += mpnet_stack_counter(s, c);
        }
        return n - stk_ctr(s, "arp_learn_limited") - stk_ctr(s, "nd_learn_limited");
}

static inline uint64_t mt_sum(_Atomic uint64_t *v)
{
        uint64_t n = 0;

        for (int i = 0; i < MT_CLASSES; i++)
                n += atomic_load(&v[i]);
        return n;
}

/* Generated frames that reached the sink or were dropped with a reason:
 * the drops less R's own that it could not send (ARP requests and
 * solicitations made while their interface was down), which are the ones
 * that never reached a link end. Equals mt_sum(sent) once all is through. */
static inline uint64_t mt_accounted(struct mtnet *m)
{
        uint64_t own = stk_ctr(m->r, "arp_req_tx") + stk_ctr(m->r, "nd_ns_tx") -
                       atomic_load(&m->arp_req_seen) - atomic_load(&m->ns_seen);

        return mt_sum(m->got) + mt_drops(m->r) - own;
}

static inline void mt_print_counters(struct mpnet_stack *s)
{
        for (unsigned c = 0; c < mpnet_stack_counter_count(s); c++) {
                if (mpnet_stack_counter(s, c) != 0)
                        print_message("  %s = %llu\n", mpnet_stack_counter_name(s, c),
                                      (unsigned long long)mpnet_stack_counter(s, c));
        }
}

/* A UDP frame from the generator to dst, tagged with cls. @return 60. */
static inline size_t mt_frame4(struct mtnet *m, uint8_t *f, uint32_t dst, unsigned cls)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {.src = MT_GEN_ADDR,
                                    .dst = dst,
                                    .payload_len = 60 - 34,
                                    .proto = MPNET_IPPROTO_UDP,
                                    .ttl = 64};

        memset(f, 0, 60);
        memcpy(eth.dst, m->r1->info.mac, 6);
        memcpy(eth.src, m->g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        f[14 + 20 + 8] = (uint8_t)cls;
        return 60;
}

/* As mt_frame4 for IPv6. @return 70. */
static inline size_t mt_frame6(struct mtnet *m, uint8_t *f, const uint8_t *dst, unsigned cls)
{
        struct mpnet_ip6_repr ip = {
            .payload_len = 16, .next_header = MPNET_IPPROTO_UDP, .hop_limit = 64};

        memset(f, 0, 70);
        memcpy(f, m->r1->info.mac, 6);
        memcpy(f + 6, m->g->info.mac, 6);
        mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV6);
        memcpy(ip.src, m->gen6, 16);
        memcpy(ip.dst, dst, 16);
        mpnet_ip6_repr_emit(&ip, f + 14);
        mpnet_put_be16(f + 14 + 40 + 4, 16);
        f[14 + 40 + 8] = (uint8_t)cls;
        return 70;
}

/* Wait until fewer than MT_INFLIGHT frames are on their way; after a while
 * go on anyway (frames held for resolution count as on their way). */
static inline void mt_pace(struct mtnet *m)
{
        for (int spins = 0; spins < 20000 && !atomic_load(&m->stop_gen); spins++) {
                uint64_t sent = mt_sum(m->sent), got = mt_sum(m->got);

                if (sent < got + MT_INFLIGHT || sent < got + mt_drops(m->r) + MT_INFLIGHT)
                        return;
                if (spins > 100)
                        usleep(50);
                else
                        sched_yield();
        }
}

static void *mt_generator(void *arg)
{
        struct mtnet *m = arg;
        uint64_t i = 0;

        mpnet_thread_set_slot(10);
        while (!atomic_load(&m->stop_gen)) {
                struct mpnet_pkt *v[32];
                unsigned cls[32], n = mpnet_pkt_alloc_bulk(m->pool, v, 32), k;
                uint16_t q = (uint16_t)(i / 32 % 2); /* both workers' queues */

                for (unsigned j = 0; j < n; j++) {
                        uint8_t f[128];
                        size_t len = m->make(m, i + j, f, &cls[j]);

                        memcpy(mpnet_pkt_append(v[j], (uint32_t)len), f, len);
                }
                k = mpnet_link_tx_burst(m->g, q, v, (uint16_t)n);
                for (unsigned j = 0; j < k; j++)
                        atomic_fetch_add(&m->sent[cls[j]], 1);
                if (k < n)
                        mpnet_pkt_free_bulk(v + k, n - k);
                i += k;
                mt_pace(m);
                if (k == 0)
                        sched_yield();
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static inline void mt_send(struct mtnet *m, struct mpnet_link *l, const uint8_t *f, size_t n)
{
        struct mpnet_pkt *p = mpnet_pkt_from_bytes(m->pool, f, (uint32_t)n);

        if (p != NULL && mpnet_link_tx_burst(l, 0, &p, 1) != 1)
                mpnet_pkt_free(p);
}

static inline bool mt_answers(struct mtnet *m, unsigned last_octet)
{
        return last_octet >= 10 && last_octet < 74 &&
               (atomic_load(&m->answer) >> (last_octet - 10) & 1) != 0;
}

/* n frames from fn onto g, spread over both workers' queues. */
static inline void mt_send_frames(struct mtnet *m, unsigned n,
                                  size_t (*fn)(struct mtnet *, uint8_t *, unsigned))
{
        for (unsigned i = 0; i < n;) {
                struct mpnet_pkt *v[32];
                unsigned k = n - i < 32 ? n - i : 32, sent;

                k = mpnet_pkt_alloc_bulk(m->pool, v, k);
                assert_true(k > 0);
                for (unsigned j = 0; j < k; j++) {
                        uint8_t f[128];
                        size_t len = fn(m, f, i + j);

                        memcpy(mpnet_pkt_append(v[j], (uint32_t)len), f, len);
                }
                sent = mpnet_link_tx_burst(m->g, (uint16_t)(i / 32 % 2), v, (uint16_t)k);
                mpnet_pkt_free_bulk(v + sent, k - sent);
                i += sent;
                if (sent < k)
                        usleep(100);
        }
}

/* An ARP request reaching the sink: a reply when the target answers. */
static inline void mt_sink_arp(struct mtnet *m, struct mpnet_link *l, const uint8_t *d,
                               uint32_t len)
{
        struct mpnet_arp_view v;
        struct mpnet_arp_repr q, r = {.op = MPNET_ARP_OP_REPLY};
        uint8_t f[64] = {0};

        if (mpnet_arp_view_check(d + 14, len - 14, &v) != 0)
                return;
        mpnet_arp_repr_parse(&v, &q);
        if (q.op != MPNET_ARP_OP_REQUEST)
                return;
        atomic_fetch_add(&m->arp_req_seen, 1);
        if (q.spa == q.tpa)
                return; /* an announcement */
        if (!mt_answers(m, q.tpa & 0xff))
                return;
        memcpy(r.sha, l->info.mac, 6);
        r.spa = q.tpa;
        memcpy(r.tha, q.sha, 6);
        r.tpa = q.spa;
        memcpy(f, q.sha, 6);
        memcpy(f + 6, l->info.mac, 6);
        mpnet_put_be16(f + 12, MPNET_ETHERTYPE_ARP);
        mpnet_arp_repr_emit(&r, f + 14);
        atomic_fetch_add(&m->arp_rep_sent, 1);
        mt_send(m, l, f, 60);
}

/* A neighbour solicitation reaching the sink: a solicited advertisement
 * when the target answers (RFC 4861 7.2.4). */
static inline void mt_sink_ns(struct mtnet *m, struct mpnet_link *l, const uint8_t *d, uint32_t len)
{
        struct mpnet_nd_repr r = {.type = MPNET_ICMP6_ND_NA, .solicited = true, .override = true};
        struct mpnet_nd_opts o = {.tlla = l->info.mac};
        const uint8_t *target = d + 54 + 8, *src = d + 14 + 8;
        uint8_t msg[64], f[160];
        size_t n;

        if (len < 54 + 24 || d[54] != MPNET_ICMP6_ND_NS)
                return;
        atomic_fetch_add(&m->ns_seen, 1);
        if (!mt_answers(m, target[15]))
                return;
        memcpy(r.target, target, 16);
        n = mpnet_nd_repr_len(&r, &o);
        mpnet_nd_repr_emit(&r, &o, target, src, msg);
        n = frame6_icmp(f, d + 6, l->info.mac, target, src, 255, msg, n);
        atomic_fetch_add(&m->na_sent, 1);
        mt_send(m, l, f, n);
}

static inline void mt_sink_one(struct mtnet *m, struct mpnet_link *l, const uint8_t *d,
                               uint32_t len)
{
        uint16_t et = mpnet_get_be16(d + 12);

        if (et == MPNET_ETHERTYPE_IPV4 && len >= 60 && d[14 + 9] == MPNET_IPPROTO_UDP)
                atomic_fetch_add(&m->got[d[14 + 28] % MT_CLASSES], 1);
        else if (et == MPNET_ETHERTYPE_IPV6 && len >= 70 && d[14 + 6] == MPNET_IPPROTO_UDP)
                atomic_fetch_add(&m->got[d[14 + 48] % MT_CLASSES], 1);
        else if (et == MPNET_ETHERTYPE_IPV6 && len >= 55 && d[14 + 6] == MPNET_IPPROTO_ICMPV6)
                mt_sink_ns(m, l, d, len);
        else if (et == MPNET_ETHERTYPE_ARP)
                mt_sink_arp(m, l, d, len);
}

static void *mt_sink(void *arg)
{
        struct mtnet *m = arg;

        mpnet_thread_set_slot(11);
        while (!atomic_load(&m->stop_sink)) {
                bool any = false;

                for (uint16_t q = 0; q < 3; q++) {
                        struct mpnet_pkt *v[64];
                        uint16_t n;

                        for (int e = 0; e < 2; e++) {
                                struct mpnet_link *l = e == 0 ? m->k : m->k3;

                                n = l != NULL ? mpnet_link_rx_burst(l, q, v, 64) : 0;
                                for (unsigned j = 0; j < n; j++)
                                        mt_sink_one(m, l, v[j]->data, v[j]->len);
                                mpnet_pkt_free_bulk(v, n);
                                any |= n > 0;
                        }
                        /* What R sends back to the generator (ICMP errors). */
                        n = mpnet_link_rx_burst(m->g, q, v, 64);
                        for (unsigned j = 0; j < n; j++) {
                                uint16_t et = mpnet_get_be16(v[j]->data + 12);

                                /* R's announcements on interface 1. */
                                if (et == MPNET_ETHERTYPE_ARP)
                                        atomic_fetch_add(&m->arp_req_seen, 1);
                                else if (et == MPNET_ETHERTYPE_IPV4)
                                        atomic_fetch_add(&m->back, 1);
                                else if (et == MPNET_ETHERTYPE_IPV6 && v[j]->len >= 14 + 41 &&
                                         v[j]->data[14 + 6] == MPNET_IPPROTO_ICMPV6 &&
                                         v[j]->data[14 + 40] == 129)
                                        atomic_fetch_add(&m->back6, 1);
                                else if (et == MPNET_ETHERTYPE_IPV6 && v[j]->len >= 14 + 41 &&
                                         v[j]->data[14 + 6] == MPNET_IPPROTO_ICMPV6 &&
                                         v[j]->data[14 + 40] < 128)
                                        atomic_fetch_add(&m->back6_err, 1);
                        }
                        mpnet_pkt_free_bulk(v, n);
                        any |= n > 0;
                }
                if (!any)
                        sched_yield();
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

/* R with its two interfaces, addresses, the generator's and the stable
 * gateway's permanent neighbours and the stable routes (198.19.0.0/24 and
 * 2001:db8:ff::/64); cfg gives R's tunables (name, clock and pool are
 * filled in). virt: R runs on a virtual clock the test advances. */
static inline struct mtnet *mt_init(struct mpnet_stack_cfg *sc, bool virt, uint32_t pool_size)
{
        struct mpnet_memwire_cfg w1 = {.name = "mt1", .n_queues = 3, .ring_size = 4096};
        struct mpnet_memwire_cfg w2 = {.name = "mt2", .n_queues = 3, .ring_size = 4096};
        struct mpnet_route4 stable = {
            .dst = IP4(198, 19, 0, 0), .plen = 24, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mpnet_route6 stable6 = {.plen = 64, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mtnet *m = calloc(1, sizeof(*m));

        assert_non_null(m);
        mpnet_thread_set_slot(0);
        if (virt)
                mpnet_clock_init_virtual(&m->clk, MPNET_NS_PER_S);
        else
                mpnet_clock_init_monotonic(&m->clk);
        m->pool = mpnet_pool_create("mt", pool_size);
        assert_non_null(m->pool);
        assert_int_equal(mpnet_memwire_create(&w1, &m->g, &m->r1), 0);
        assert_int_equal(mpnet_memwire_create(&w2, &m->r2, &m->k), 0);
        sc->clock = &m->clk;
        sc->pool = m->pool;
        if (sc->name == NULL)
                sc->name = "R";
        m->r = mpnet_stack_create(sc);
        assert_non_null(m->r);
        memcpy(m->stable_nh6, A6(MT_STABLE_NH6), 16);
        memcpy(m->gen6, A6("2001:db8:1::99"), 16);
        memcpy(m->r1_6, A6("2001:db8:1::1"), 16);
        memcpy(m->r2_6, A6("2001:db8:2::1"), 16);
        assert_int_equal(mpnet_iface_attach(m->r, m->r1, "in"), 1);
        assert_int_equal(mpnet_iface_attach(m->r, m->r2, "out"), 2);
        assert_int_equal(mpnet_addr4_add(m->r, 1, IP4(192, 0, 2, 1), 24), 0);
        assert_int_equal(mpnet_addr4_add(m->r, 2, IP4(198, 51, 100, 1), 24), 0);
        assert_int_equal(mpnet_addr6_add(m->r, 1, m->r1_6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_addr6_add(m->r, 2, m->r2_6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_neigh4_add(m->r, 1, MT_GEN_ADDR, m->g->info.mac), 0);
        assert_int_equal(mpnet_neigh6_add(m->r, 1, m->gen6, m->g->info.mac), 0);
        assert_int_equal(mpnet_neigh4_add(m->r, 2, MT_STABLE_GW, m->k->info.mac), 0);
        assert_int_equal(mpnet_neigh6_add(m->r, 2, m->stable_nh6, m->k->info.mac), 0);
        stable.paths[0] = (struct mpnet_route_path){.ifindex = 2, .gw = MT_STABLE_GW};
        assert_int_equal(mpnet_route4_add(m->r, 0, &stable), 0);
        memcpy(stable6.dst, A6("2001:db8:ff::"), 16);
        stable6.paths[0].ifindex = 2;
        memcpy(stable6.paths[0].gw, m->stable_nh6, 16);
        assert_int_equal(mpnet_route6_add(m->r, 0, &stable6), 0);
        /* The announcements go before the workers take the links. */
        mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
        link_drain(m->g);
        link_drain(m->k);
        /* What the sink will see of R's ARP and ND starts from here. */
        atomic_store(&m->arp_req_seen, stk_ctr(m->r, "arp_req_tx"));
        atomic_store(&m->ns_seen, stk_ctr(m->r, "nd_ns_tx"));
        return m;
}

/* Two workers, each polling its queue of both interfaces; the sink and the
 * generator (make) start. */
static inline void mt_start(struct mtnet *m, mt_make_fn make)
{
        struct mpnet_runtime_cfg rc = {.n_workers = 2};

        m->make = make;
        m->rt = mpnet_runtime_create(&rc);
        assert_non_null(m->rt);
        for (unsigned w = 0; w < 2; w++) {
                assert_int_equal(mpnet_runtime_assign(m->rt, w, m->r, 1, (uint16_t)w), 0);
                assert_int_equal(mpnet_runtime_assign(m->rt, w, m->r, 2, (uint16_t)w), 0);
        }
        assert_int_equal(mpnet_runtime_start(m->rt), 0);
        assert_int_equal(pthread_create(&m->sink_th, NULL, mt_sink, m), 0);
        if (make != NULL)
                assert_int_equal(pthread_create(&m->gen_th, NULL, mt_generator, m), 0);
}

/* Stop the generator, then poll (advancing a virtual clock by step_ns a
 * round, so held frames resolve or fail) until every frame sent is
 * accounted for or max_s seconds of wall time have passed.
 * @return whether everything was accounted for. */
static inline bool mt_drain(struct mtnet *m, uint64_t step_ns, unsigned max_s)
{
        uint64_t end = mpnet_monotonic_ns() + max_s * MPNET_NS_PER_S;

        if (m->make != NULL) {
                atomic_store(&m->stop_gen, true);
                pthread_join(m->gen_th, NULL);
                m->make = NULL;
        }
        while (mpnet_monotonic_ns() < end) {
                mpnet_clock_advance(&m->clk, step_ns);
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                if (mt_sum(m->sent) == mt_accounted(m))
                        return true;
                usleep(1000);
        }
        return false;
}

/* Workers, sink, stack, links, pool: all gone, no packet left behind. */
static inline void mt_fini(struct mtnet *m)
{
        if (m->make != NULL) {
                atomic_store(&m->stop_gen, true);
                pthread_join(m->gen_th, NULL);
        }
        mpnet_runtime_destroy(m->rt);
        atomic_store(&m->stop_sink, true);
        pthread_join(m->sink_th, NULL);
        mpnet_stack_destroy(m->r);
        mpnet_link_destroy(m->g);
        mpnet_link_destroy(m->r1);
        mpnet_link_destroy(m->r2);
        mpnet_link_destroy(m->k);
        for (int i = 0; i < 4; i++)
                mpnet_link_destroy(m->extra[i]);
        assert_int_equal(mpnet_pool_in_use(m->pool), 0);
        mpnet_pool_destroy(m->pool);
        free(m);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
}

#endif
