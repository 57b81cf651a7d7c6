/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fragment floods (issue 18): a router's LAN floods it with IPv4 and IPv6
 * fragments addressed to it, from random sources, with random
 * identifications and offsets, a quarter of them overlapping another,
 * none ever completing. Asserted: reassembly memory and datagrams stay
 * within their caps at every step (the stack's own accounting,
 * mpnet_stack_usage_get()), they reach the cap (the flood is big enough to
 * test it), a legitimate fragmented datagram sent in the middle of the
 * flood is still reassembled, legitimate traffic through the router all
 * arrives, and the memory is given back at the timeout (the stack's shared
 * reassembly budget included).
 */
#include "floodnet.h"
#include "l3/ip4.h"
#include "l3/ip4_frag.h"
#include "stack/stack_priv.h"

#define FLOOD_FRAMES 20000
#define ADMIT_MAX    301 /* new datagrams a full table may admit (below) */

struct peak {
        uint64_t bytes;
        uint32_t dgs;
};

/* Sample the caps (every step of the flood). */
static void check_caps(struct fnet *n, bool v6, struct peak *pk)
{
        struct mpnet_stack_usage u = fnet_usage(n, 0);
        uint64_t b = v6 ? u.reass6_bytes : u.reass4_bytes;
        uint32_t d = v6 ? u.reass6_datagrams : u.reass4_datagrams;

        assert_true(b <= (v6 ? u.reass6_max_bytes : u.reass4_max_bytes));
        assert_true(d <= (v6 ? u.reass6_max_datagrams : u.reass4_max_datagrams));
        if (b > pk->bytes)
                pk->bytes = b;
        if (d > pk->dgs)
                pk->dgs = d;
}

/* One flood fragment; every fourth overlaps the one before (same key). */
static size_t flood_frag(struct fnet *n, bool v6, uint64_t *rng, unsigned i, uint32_t *id,
                         uint16_t *off, uint8_t *src6, uint32_t *src4)
{
        const uint8_t *m1 = n->r1->info.mac;
        uint16_t len = (uint16_t)(8 * (1 + ff_rand(rng) % 150));
        uint8_t mac[6];

        ff_rand_mac(rng, mac);
        if (i % 4 != 3) {
                *id = (uint32_t)ff_rand(rng);
                *off = (uint16_t)(8 * (ff_rand(rng) % 1000));
                *src4 = FF_LAN1_ADDR + 256 + (uint32_t)(ff_rand(rng) % 60000);
                ff_rand_iid(rng, ff_lan1_r6, src6);
        } else {
                *off = (uint16_t)(*off + 8);
        }
        if (v6)
                return ff_ip6(n->f, m1, mac, src6, ff_lan1_r6, true, *id, *off, true, len);
        return ff_ip4(n->f, m1, mac, *src4, FF_LAN1_ADDR, (uint16_t)*id, *off, true, len);
}

/* A datagram of 1400 bytes in two fragments from src4 / src6 to the router. */
static void frags_from(struct fnet *n, bool v6, uint32_t src4, const uint8_t *src6, uint16_t id)
{
        const uint8_t *m1 = n->r1->info.mac;
        size_t len;

        if (v6) {
                len = ff_ip6(n->f, m1, ff_h1_mac, src6, ff_lan1_r6, true, id, 0, true, 1200);
                fnet_send(n, n->x1, n->f, len);
                len = ff_ip6(n->f, m1, ff_h1_mac, src6, ff_lan1_r6, true, id, 1200, false, 200);
        } else {
                len = ff_ip4(n->f, m1, ff_h1_mac, src4, FF_LAN1_ADDR, id, 0, true, 1200);
                fnet_send(n, n->x1, n->f, len);
                len = ff_ip4(n->f, m1, ff_h1_mac, src4, FF_LAN1_ADDR, id, 1200, false, 200);
        }
        fnet_send(n, n->x1, n->f, len);
}

/* One of frags_from()'s two fragments (first: offset 0). */
static void frag_from(struct fnet *n, bool v6, uint32_t src4, const uint8_t *src6, uint16_t id,
                      bool first)
{
        const uint8_t *m1 = n->r1->info.mac;
        uint16_t off = first ? 0 : 1200, len = first ? 1200 : 200;
        size_t flen = v6 ? ff_ip6(n->f, m1, ff_h1_mac, src6, ff_lan1_r6, true, id, off, first, len)
                         : ff_ip4(n->f, m1, ff_h1_mac, src4, FF_LAN1_ADDR, id, off, first, len);

        fnet_send(n, n->x1, n->f, flen);
}

/* A legitimate datagram from H1, a resolved neighbour of the router. */
static void legit_frags(struct fnet *n, bool v6)
{
        frags_from(n, v6, FF_H1_ADDR, ff_h1_6, 0xbeef);
}

/* A source on LAN 1 that is no neighbour of the router (and no flood's). */
#define STRANGER4 (FF_LAN1_ADDR + 100)
static const uint8_t stranger6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [14] = 0x01, [15] = 0x23};

/* Datagrams the router's IPv4 table evicted (one context here). */
static uint64_t ip4_reass_stats_evictions(struct fnet *n)
{
        struct ip4_reass_stats st;

        ip4_reass_get_stats(reass4_of(n->st->ctx[0]), &st);
        return st.evictions;
}

static void flood(bool v6)
{
        struct fnet n;
        struct peak pk = {0};
        uint64_t rng = v6 ? 0x6666 : 0x4444, reasm;
        const char *c_reasm = v6 ? "ip6_reassembled" : "ip4_reassembled";
        const char *c_cap = v6 ? "ip6_reass_cap" : "ip4_reass_cap";
        const char *c_refused = v6 ? "ip6_reass_refused" : "ip4_reass_refused";
        uint64_t refused, cap;
        uint32_t id = 0, src4 = 0;
        uint16_t off = 0;
        uint8_t src6[16];
        struct mpnet_stack_usage u;
        unsigned in_use;

        fnet_init(&n, true);
        assert_int_equal(fnet_legit(&n, 8, false), 32);
        fnet_peers_resolved(&n);
        in_use = mpnet_pool_in_use(n.pool);
        for (unsigned i = 0; i < FLOOD_FRAMES; i++) {
                size_t len = flood_frag(&n, v6, &rng, i, &id, &off, src6, &src4);

                fnet_send(&n, n.x1, n.f, len);
                if (i == FLOOD_FRAMES - 1) {
                        /* With the flood's last frames, the admission
                         * bucket spent: a datagram from a source that is no
                         * neighbour is refused at the full table, nothing
                         * evicted for it. */
                        fnet_run(&n, 0); /* the flood's frames first */
                        reasm = fnet_ctr(&n, c_reasm);
                        refused = fnet_ctr(&n, c_refused);
                        frags_from(&n, v6, STRANGER4, stranger6, 0x5151);
                        fnet_run(&n, 0);
                        assert_int_equal(fnet_ctr(&n, c_refused), refused + 2);
                        assert_int_equal(fnet_ctr(&n, c_reasm), reasm);
                }
                if (i % 256 == 255) {
                        fnet_run(&n, MPNET_NS_PER_MS);
                        check_caps(&n, v6, &pk);
                }
                if (i == FLOOD_FRAMES / 2) {
                        reasm = fnet_ctr(&n, c_reasm);
                        legit_frags(&n, v6);
                        fnet_run(&n, MPNET_NS_PER_MS);
                        assert_int_equal(fnet_ctr(&n, c_reasm), reasm + 1);
                        assert_int_equal(fnet_legit(&n, 16, false), 64);
                }
        }
        fnet_run(&n, MPNET_NS_PER_MS);
        check_caps(&n, v6, &pk);
        u = fnet_usage(&n, 0);
        fprintf(stderr, "IPv%d fragment flood: peak %llu bytes of %llu, %u datagrams of %u\n",
                v6 ? 6 : 4, (unsigned long long)pk.bytes,
                (unsigned long long)(v6 ? u.reass6_max_bytes : u.reass4_max_bytes), pk.dgs,
                v6 ? u.reass6_max_datagrams : u.reass4_max_datagrams);
        /* The flood reached a cap: what bounds it was tested. */
        cap = fnet_ctr(&n, c_cap);
        refused = fnet_ctr(&n, c_refused);
        assert_true(cap > 0);
        /* Once the table was full, new datagrams from strangers were
         * refused (reass.c: REASS_ADMIT_RATE, REASS_ADMIT_BURST), not
         * admitted by evicting the oldest: the flood's 80 ms or so of
         * virtual time (and the legitimate traffic's) allow the burst
         * (100) and under 200 tokens, ADMIT_MAX with H1's datagram, where
         * 15,000 flood datagrams came. The other cap drops are the
         * fragments of the datagrams they evicted: one or two each. */
        fprintf(stderr, "IPv%d: %llu refused, %llu other cap drops\n", v6 ? 6 : 4,
                (unsigned long long)refused, (unsigned long long)(cap - refused));
        assert_true(refused >= FLOOD_FRAMES / 2);
        assert_true(cap - refused <= 2 * ADMIT_MAX);
        if (!v6)
                assert_true(ip4_reass_stats_evictions(&n) <= ADMIT_MAX);
        assert_true(pk.bytes >= (v6 ? u.reass6_max_bytes : u.reass4_max_bytes) / 10 * 9 ||
                    pk.dgs >= (v6 ? u.reass6_max_datagrams : u.reass4_max_datagrams) / 10 * 9);
        assert_int_equal(fnet_legit(&n, 16, false), 64);
        fnet_peers_resolved(&n);
        /* Tokens left: a stranger's first fragment takes one and starts a
         * datagram; more flood fragments spend the rest and are
         * refused again, before the table's work from the first refusal on
         * (ip4-local, ip6-local: reass4_refuse, reass6_refuse); the
         * stranger's second fragment, of a datagram held, is not refused
         * with them: it completes the datagram. */
        fnet_run(&n, 2 * MPNET_NS_PER_MS);
        reasm = fnet_ctr(&n, c_reasm);
        refused = fnet_ctr(&n, c_refused);
        frag_from(&n, v6, STRANGER4, stranger6, 0x5353, true);
        fnet_run(&n, 0);
        assert_int_equal(fnet_ctr(&n, c_refused), refused);
        for (unsigned i = 0; i < 256; i++) {
                size_t len = flood_frag(&n, v6, &rng, 0, &id, &off, src6, &src4);

                fnet_send(&n, n.x1, n.f, len);
        }
        fnet_run(&n, 0);
        /* The bucket holds at most its burst (100). */
        assert_true(fnet_ctr(&n, c_refused) >= refused + 256 - 100);
        frag_from(&n, v6, STRANGER4, stranger6, 0x5353, false);
        fnet_run(&n, 0);
        assert_int_equal(fnet_ctr(&n, c_reasm), reasm + 1);
        /* The table still full, the bucket refilled: a stranger's datagram
         * gets in again (sources behind a router are strangers too). */
        fnet_run(&n, 200 * MPNET_NS_PER_MS);
        reasm = fnet_ctr(&n, c_reasm);
        refused = fnet_ctr(&n, c_refused);
        frags_from(&n, v6, STRANGER4, stranger6, 0x5252);
        fnet_run(&n, MPNET_NS_PER_MS);
        assert_int_equal(fnet_ctr(&n, c_reasm), reasm + 1);
        assert_int_equal(fnet_ctr(&n, c_refused), refused);
        /* The timeout (30 s IPv4, 60 s IPv6) gives it all back. */
        fnet_run(&n, 61 * MPNET_NS_PER_S);
        u = fnet_usage(&n, 0);
        assert_int_equal(v6 ? u.reass6_bytes : u.reass4_bytes, 0);
        assert_int_equal(v6 ? u.reass6_datagrams : u.reass4_datagrams, 0);
        /* ...to the stack's shared cap too: evictions settle what they free
         * against the fragment that caused them, nothing is left owed. */
        assert_int_equal(atomic_load(&n.st->reass.used), 0);
        /* A datagram that timed out with its first fragment gets a time
         * exceeded (RFC 792, RFC 8200 4.5) to its flood source, which the
         * router resolves first, holding it; that resolution fails after
         * its probes (RFC 4861 7.3.3) and frees it. */
        fnet_run(&n, 10 * MPNET_NS_PER_S);
        assert_int_equal(fnet_usage(&n, 0).neigh_held, 0);
        assert_true(mpnet_pool_in_use(n.pool) <= in_use);
        fnet_fini(&n);
}

static void test_frag4_flood(void **state)
{
        (void)state;
        flood(false);
}

static void test_frag6_flood(void **state)
{
        (void)state;
        flood(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_frag4_flood),
            cmocka_unit_test(test_frag6_flood),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
