/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The port table (src/l4/pcb.c) against a fake socket: the lookup's score
 * table (wildcard, bound, connected, bound interface, IPv4 against
 * dual-stack, V6ONLY, v4-mapped), the bind conflicts of each SO_REUSEADDR /
 * SO_REUSEPORT combination over both families, and SO_REUSEPORT selection.
 * Readers here run alone, so retired sets are freed at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "l4/pcb.h"

struct mpnet_sock {
        int id;
};

static struct mpnet_sock so[16];
static unsigned retired;

static void retire_now(void *arg, struct pcb_set *old)
{
        (void)arg;
        retired++;
        pcb_set_free(old);
}

static int setup(void **state)
{
        for (int i = 0; i < 16; i++)
                so[i].id = i;
        retired = 0;
        *state = pcb_table_create(retire_now, NULL);
        return *state == NULL;
}

static int teardown(void **state)
{
        pcb_table_destroy(*state);
        return 0;
}

/* "1.2.3.4" as ::ffff:1.2.3.4; anything with a colon as IPv6; "" any. */
static void addr(const char *s, uint8_t a[16])
{
        memset(a, 0, 16);
        if (s[0] == '\0')
                return;
        if (strchr(s, ':') != NULL) {
                assert_int_equal(inet_pton(AF_INET6, s, a), 1);
                return;
        }
        a[10] = a[11] = 0xff;
        assert_int_equal(inet_pton(AF_INET, s, a + 12), 1);
}

static struct pcb_ent ent(int id, uint8_t fam, const char *laddr, uint8_t flags)
{
        struct pcb_ent e;

        memset(&e, 0, sizeof(e));
        e.so = &so[id];
        e.fam = fam;
        e.flags = flags;
        addr(laddr, e.laddr);
        return e;
}

static int bind_(struct pcb_table *t, uint16_t port, int id, uint8_t fam, const char *laddr,
                 uint8_t flags)
{
        struct pcb_ent e = ent(id, fam, laddr, flags);

        return pcb_bind(t, port, &e);
}

static struct pcb_key key(uint8_t fam, const char *src, uint16_t sport, const char *dst,
                          uint16_t dport)
{
        struct pcb_key k;

        memset(&k, 0, sizeof(k));
        k.fam = fam;
        k.sport = sport;
        k.dport = dport;
        k.ifindex = 1;
        addr(src, k.saddr);
        addr(dst, k.daddr);
        return k;
}

/* The socket id a datagram goes to on context w, -1 none. */
static int look(struct pcb_table *t, const struct pcb_key *k, unsigned w, uint32_t hash)
{
        struct mpnet_sock *s = pcb_lookup(t, k, w, hash);

        return s == NULL ? -1 : s->id;
}

static int look4(struct pcb_table *t, const char *src, uint16_t sport, const char *dst,
                 uint16_t dport)
{
        struct pcb_key k = key(4, src, sport, dst, dport);

        return look(t, &k, 0, 0);
}

static int look6(struct pcb_table *t, const char *src, uint16_t sport, const char *dst,
                 uint16_t dport)
{
        struct pcb_key k = key(6, src, sport, dst, dport);

        return look(t, &k, 0, 0);
}

static void connect_(struct pcb_table *t, uint16_t port, struct pcb_ent *e, const char *faddr,
                     uint16_t fport)
{
        e->flags |= PCB_F_CONNECTED;
        addr(faddr, e->faddr);
        e->fport = fport;
        assert_int_equal(pcb_update(t, port, e), 0);
}

static void test_empty_port(void **state)
{
        struct pcb_table *t = *state;

        assert_int_equal(look4(t, "10.0.0.2", 1000, "10.0.0.1", 53), -1);
        assert_int_equal(look6(t, "2001:db8::2", 1000, "2001:db8::1", 53), -1);
        assert_int_equal(pcb_unbind(t, 53, &so[0]), -ENOENT);
        assert_null(pcb_set_get(t, 53));
}

/* Wildcard < bound address < connected (Linux compute_score; FreeBSD
 * in_pcblookup_hash_locked takes an exact match before any wildcard). */
static void test_wildcard_bound_connected(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_ent c = ent(2, PCB_FAM4, "10.0.0.1", PCB_F_REUSEADDR);

        assert_int_equal(bind_(t, 53, 0, PCB_FAM4, "", PCB_F_REUSEADDR), 0);
        assert_int_equal(bind_(t, 53, 1, PCB_FAM4, "10.0.0.1", PCB_F_REUSEADDR), 0);
        assert_int_equal(pcb_bind(t, 53, &c), 0);
        connect_(t, 53, &c, "10.0.0.9", 4000);
        assert_int_equal(look4(t, "10.0.0.9", 4000, "10.0.0.1", 53), 2);
        assert_int_equal(look4(t, "10.0.0.9", 4001, "10.0.0.1", 53), 1);
        assert_int_equal(look4(t, "10.0.0.8", 4000, "10.0.0.1", 53), 1);
        assert_int_equal(look4(t, "10.0.0.9", 4000, "10.0.0.7", 53), 0);
        assert_int_equal(look4(t, "10.0.0.9", 4000, "10.0.0.1", 54), -1);
        /* Gone in reverse order: each level falls back to the next. */
        assert_int_equal(pcb_unbind(t, 53, &so[2]), 0);
        assert_int_equal(look4(t, "10.0.0.9", 4000, "10.0.0.1", 53), 1);
        assert_int_equal(pcb_unbind(t, 53, &so[1]), 0);
        assert_int_equal(look4(t, "10.0.0.9", 4000, "10.0.0.1", 53), 0);
        assert_int_equal(pcb_unbind(t, 53, &so[0]), 0);
        assert_null(pcb_set_get(t, 53));
        assert_int_equal(look4(t, "10.0.0.9", 4000, "10.0.0.1", 53), -1);
}

/* A connected socket takes only its peer's datagrams, even with nothing
 * else on the port (RFC 1122 4.1.3.4 leaves it to the API; every stack
 * filters). */
static void test_connected_filters(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_ent e = ent(0, PCB_FAM46, "", 0);

        assert_int_equal(pcb_bind(t, 5000, &e), 0);
        connect_(t, 5000, &e, "2001:db8::9", 443);
        assert_int_equal(look6(t, "2001:db8::9", 443, "2001:db8::1", 5000), 0);
        assert_int_equal(look6(t, "2001:db8::9", 444, "2001:db8::1", 5000), -1);
        assert_int_equal(look4(t, "192.0.2.9", 443, "192.0.2.1", 5000), -1);
        /* Disconnect (AF_UNSPEC): a wildcard again. */
        e.flags &= (uint8_t)~PCB_F_CONNECTED;
        memset(e.faddr, 0, 16);
        e.fport = 0;
        assert_int_equal(pcb_update(t, 5000, &e), 0);
        assert_int_equal(look4(t, "192.0.2.9", 443, "192.0.2.1", 5000), 0);
}

/* A connected socket on the wildcard address still beats a later one bound
 * to the address (Linux scores the peer's address and port 4 each). */
static void test_connected_beats_bound(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_ent c = ent(0, PCB_FAM4, "", PCB_F_REUSEADDR);

        assert_int_equal(pcb_bind(t, 53, &c), 0);
        connect_(t, 53, &c, "10.0.0.9", 4000);
        assert_int_equal(bind_(t, 53, 1, PCB_FAM4, "10.0.0.1", PCB_F_REUSEADDR), 0);
        assert_int_equal(look4(t, "10.0.0.9", 4000, "10.0.0.1", 53), 0);
        assert_int_equal(look4(t, "10.0.0.9", 4001, "10.0.0.1", 53), 1);
}

/* On IPv4 a v4 socket beats a dual-stack one whichever came first; V6ONLY
 * takes no IPv4; a dual-stack socket on a v4-mapped address takes only IPv4
 * (Linux compute_score, ipv6_rcv_saddr_equal). */
static void test_dual_stack(void **state)
{
        struct pcb_table *t = *state;

        assert_int_equal(bind_(t, 53, 0, PCB_FAM4, "", PCB_F_REUSEADDR), 0);
        assert_int_equal(bind_(t, 53, 1, PCB_FAM46, "", PCB_F_REUSEADDR), 0);
        assert_int_equal(look4(t, "10.0.0.9", 1, "10.0.0.1", 53), 0);
        assert_int_equal(look6(t, "2001:db8::9", 1, "2001:db8::1", 53), 1);
        assert_int_equal(pcb_unbind(t, 53, &so[0]), 0);
        assert_int_equal(look4(t, "10.0.0.9", 1, "10.0.0.1", 53), 1);
        /* V6ONLY on port 54: no IPv4. */
        assert_int_equal(bind_(t, 54, 2, PCB_FAM6, "", 0), 0);
        assert_int_equal(look4(t, "10.0.0.9", 1, "10.0.0.1", 54), -1);
        assert_int_equal(look6(t, "2001:db8::9", 1, "2001:db8::1", 54), 2);
        /* v4-mapped bound address on port 55. */
        assert_int_equal(bind_(t, 55, 3, PCB_FAM46, "10.0.0.1", 0), 0);
        assert_int_equal(look4(t, "10.0.0.9", 1, "10.0.0.1", 55), 3);
        assert_int_equal(look4(t, "10.0.0.9", 1, "10.0.0.2", 55), -1);
        assert_int_equal(look6(t, "2001:db8::9", 1, "::ffff:10.0.0.1", 55), -1);
        /* A dual-stack socket on a real IPv6 address takes no IPv4. */
        assert_int_equal(bind_(t, 56, 4, PCB_FAM46, "2001:db8::1", 0), 0);
        assert_int_equal(look4(t, "10.0.0.9", 1, "10.0.0.1", 56), -1);
        assert_int_equal(look6(t, "2001:db8::9", 1, "2001:db8::1", 56), 4);
        assert_int_equal(look6(t, "2001:db8::9", 1, "2001:db8::2", 56), -1);
}

/* RFC 4291 2.5.5.2: v4-mapped addresses never appear on the wire in IPv6. */
static void test_v4mapped_source_over_ipv6(void **state)
{
        struct pcb_table *t = *state;

        assert_int_equal(bind_(t, 53, 0, PCB_FAM46, "", 0), 0);
        assert_int_equal(look6(t, "::ffff:10.0.0.9", 1, "2001:db8::1", 53), -1);
        assert_int_equal(look6(t, "2001:db8::9", 1, "2001:db8::1", 53), 0);
}

static void test_bound_interface(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_ent e = ent(1, PCB_FAM4, "", PCB_F_REUSEADDR);
        struct pcb_key k = key(4, "10.0.0.9", 1, "10.0.0.1", 53);

        e.bound_if = 2;
        assert_int_equal(bind_(t, 53, 0, PCB_FAM4, "", PCB_F_REUSEADDR), 0);
        assert_int_equal(pcb_bind(t, 53, &e), 0);
        k.ifindex = 2;
        assert_int_equal(look(t, &k, 0, 0), 1);
        k.ifindex = 3;
        assert_int_equal(look(t, &k, 0, 0), 0);
        assert_int_equal(pcb_unbind(t, 53, &so[0]), 0);
        assert_int_equal(look(t, &k, 0, 0), -1);
}

/* Equal scores: the latest bind wins (Linux with SO_REUSEADDR), unless the
 * other is homed on the receiving context. */
static void test_tie_and_home(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_ent a = ent(0, PCB_FAM4, "", PCB_F_REUSEADDR);
        struct pcb_ent b = ent(1, PCB_FAM4, "", PCB_F_REUSEADDR);
        struct pcb_key k = key(4, "10.0.0.9", 1, "10.0.0.1", 53);

        a.home = 1;
        b.home = 2;
        assert_int_equal(pcb_bind(t, 53, &a), 0);
        assert_int_equal(pcb_bind(t, 53, &b), 0);
        assert_int_equal(look(t, &k, 0, 0), 1);
        assert_int_equal(look(t, &k, 1, 0), 0);
        assert_int_equal(look(t, &k, 2, 0), 1);
        /* The home bonus never lifts a wildcard over a bound address. */
        assert_int_equal(bind_(t, 53, 2, PCB_FAM4, "10.0.0.1", PCB_F_REUSEADDR), 0);
        assert_int_equal(look(t, &k, 1, 0), 2);
}

struct conflict {
        uint8_t fam_a;
        const char *addr_a;
        uint8_t flags_a, if_a;
        uint8_t fam_b;
        const char *addr_b;
        uint8_t flags_b, if_b;
        int want;
};

#define RA PCB_F_REUSEADDR
#define RP PCB_F_REUSEPORT

/* Linux udp_lib_lport_inuse / FreeBSD in_pcbbind_setup: which second bind
 * of one port fails. */
static const struct conflict conflicts[] = {
    {PCB_FAM4, "", 0, 0, PCB_FAM4, "", 0, 0, -EADDRINUSE},
    {PCB_FAM4, "", RA, 0, PCB_FAM4, "", 0, 0, -EADDRINUSE},
    {PCB_FAM4, "", 0, 0, PCB_FAM4, "", RA, 0, -EADDRINUSE},
    {PCB_FAM4, "", RA, 0, PCB_FAM4, "", RA, 0, 0},
    {PCB_FAM4, "", RP, 0, PCB_FAM4, "", RP, 0, 0},
    {PCB_FAM4, "", RA, 0, PCB_FAM4, "", RP, 0, -EADDRINUSE},
    {PCB_FAM4, "", RP, 0, PCB_FAM4, "", RA, 0, -EADDRINUSE},
    {PCB_FAM4, "", RA | RP, 0, PCB_FAM4, "", RP, 0, 0},
    {PCB_FAM4, "", RA | RP, 0, PCB_FAM4, "", RA, 0, 0},
    /* Addresses: the wildcard meets every address; two addresses do not. */
    {PCB_FAM4, "", 0, 0, PCB_FAM4, "10.0.0.1", 0, 0, -EADDRINUSE},
    {PCB_FAM4, "10.0.0.1", 0, 0, PCB_FAM4, "", 0, 0, -EADDRINUSE},
    {PCB_FAM4, "10.0.0.1", 0, 0, PCB_FAM4, "10.0.0.2", 0, 0, 0},
    {PCB_FAM4, "10.0.0.1", 0, 0, PCB_FAM4, "10.0.0.1", 0, 0, -EADDRINUSE},
    /* Families: dual-stack :: meets IPv4, V6ONLY does not. */
    {PCB_FAM4, "", 0, 0, PCB_FAM46, "", 0, 0, -EADDRINUSE},
    {PCB_FAM46, "", 0, 0, PCB_FAM4, "10.0.0.1", 0, 0, -EADDRINUSE},
    {PCB_FAM4, "", 0, 0, PCB_FAM6, "", 0, 0, 0},
    {PCB_FAM6, "", 0, 0, PCB_FAM4, "", 0, 0, 0},
    {PCB_FAM6, "", 0, 0, PCB_FAM46, "", 0, 0, -EADDRINUSE},
    {PCB_FAM6, "", 0, 0, PCB_FAM6, "2001:db8::1", 0, 0, -EADDRINUSE},
    {PCB_FAM6, "2001:db8::1", 0, 0, PCB_FAM6, "2001:db8::2", 0, 0, 0},
    {PCB_FAM4, "10.0.0.1", 0, 0, PCB_FAM46, "10.0.0.1", 0, 0, -EADDRINUSE},
    {PCB_FAM4, "10.0.0.1", 0, 0, PCB_FAM46, "10.0.0.2", 0, 0, 0},
    {PCB_FAM4, "", 0, 0, PCB_FAM46, "2001:db8::1", 0, 0, 0},
    {PCB_FAM46, "2001:db8::1", 0, 0, PCB_FAM4, "", 0, 0, 0},
    {PCB_FAM46, "10.0.0.1", 0, 0, PCB_FAM6, "", 0, 0, 0},
    {PCB_FAM46, "", RA, 0, PCB_FAM4, "", RA, 0, 0},
    /* Bound interfaces: different ones do not meet; 0 meets all. */
    {PCB_FAM4, "", 0, 1, PCB_FAM4, "", 0, 2, 0},
    {PCB_FAM4, "", 0, 1, PCB_FAM4, "", 0, 1, -EADDRINUSE},
    {PCB_FAM4, "", 0, 0, PCB_FAM4, "", 0, 2, -EADDRINUSE},
    {PCB_FAM4, "", 0, 2, PCB_FAM4, "", 0, 0, -EADDRINUSE},
};

static void test_bind_conflicts(void **state)
{
        struct pcb_table *t = *state;

        for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
                const struct conflict *c = &conflicts[i];
                uint16_t port = (uint16_t)(1000 + i);
                struct pcb_ent a = ent(0, c->fam_a, c->addr_a, c->flags_a);
                struct pcb_ent b = ent(1, c->fam_b, c->addr_b, c->flags_b);
                const struct pcb_set *before;
                int rc;

                a.bound_if = c->if_a;
                b.bound_if = c->if_b;
                assert_int_equal(pcb_bind(t, port, &a), 0);
                before = pcb_set_get(t, port);
                rc = pcb_bind(t, port, &b);
                if (rc != c->want)
                        print_error("conflict case %zu\n", i);
                assert_int_equal(rc, c->want);
                /* A refused bind publishes nothing. */
                if (c->want != 0)
                        assert_ptr_equal(pcb_set_get(t, port), before);
                else
                        assert_int_equal(pcb_set_get(t, port)->n, 2);
        }
}

static void test_bind_invalid(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_ent e = ent(0, PCB_FAM4, "", 0);
        unsigned r = retired;

        assert_int_equal(pcb_bind(t, 0, &e), -EINVAL);
        assert_int_equal(bind_(t, 53, 0, PCB_FAM4, "2001:db8::1", 0), -EINVAL);
        assert_int_equal(bind_(t, 53, 0, PCB_FAM6, "10.0.0.1", 0), -EINVAL);
        e.fam = 5;
        assert_int_equal(pcb_bind(t, 53, &e), -EINVAL);
        e = ent(0, PCB_FAM4, "", RA);
        e.so = NULL;
        assert_int_equal(pcb_bind(t, 53, &e), -EINVAL);
        assert_int_equal(bind_(t, 53, 0, PCB_FAM4, "", RA), 0);
        assert_int_equal(bind_(t, 53, 0, PCB_FAM4, "10.0.0.1", RA), -EINVAL);
        assert_int_equal(pcb_set_get(t, 53)->n, 1);
        e = ent(5, PCB_FAM4, "", 0);
        assert_int_equal(pcb_update(t, 53, &e), -ENOENT);
        assert_int_equal(retired, r);
}

/* Each publication retires the set it replaces, once. */
static void test_retire(void **state)
{
        struct pcb_table *t = *state;
        uint32_t gen;

        assert_int_equal(bind_(t, 7, 0, PCB_FAM4, "", RA), 0);
        assert_int_equal(retired, 0);
        gen = pcb_set_get(t, 7)->gen;
        assert_int_equal(bind_(t, 7, 1, PCB_FAM4, "", RA), 0);
        assert_int_equal(retired, 1);
        assert_true(pcb_set_get(t, 7)->gen > gen);
        assert_int_equal(pcb_unbind(t, 7, &so[0]), 0);
        assert_int_equal(pcb_unbind(t, 7, &so[1]), 0);
        assert_int_equal(retired, 3);
        assert_null(pcb_set_get(t, 7));
}

static unsigned spec_of(const struct pcb_ent *e)
{
        static const uint8_t zero[16];

        return (memcmp(e->laddr, zero, 16) != 0) * 4u + ((e->flags & PCB_F_CONNECTED) != 0) * 8u +
               (e->bound_if != 0) * 4u;
}

/* The set stays most specific first whatever the bind order (what lets the
 * lookup stop early), and lookups agree with a full scan. */
static void test_set_order(void **state)
{
        static const char *const addrs[] = {"", "10.0.0.1", "10.0.0.2"};
        struct pcb_table *t = *state;
        const struct pcb_set *s;
        uint32_t x = 12345;

        for (int i = 0; i < 12; i++) {
                struct pcb_ent e;

                x = x * 1103515245u + 12345u;
                e = ent(i, PCB_FAM4, addrs[(x >> 16) % 3], RA);
                e.bound_if = (uint8_t)((x >> 20) % 2);
                assert_int_equal(pcb_bind(t, 53, &e), 0);
                if ((x >> 24) % 2)
                        connect_(t, 53, &e, "10.0.0.9", (uint16_t)(1000 + i));
        }
        s = pcb_set_get(t, 53);
        assert_int_equal(s->n, 12);
        for (unsigned i = 1; i < s->n; i++)
                assert_true(spec_of(&s->e[i - 1]) >= spec_of(&s->e[i]));
        /* Connected sockets get their own peer. */
        for (unsigned i = 0; i < s->n; i++) {
                const struct pcb_ent *e = &s->e[i];
                struct pcb_key k = key(4, "10.0.0.9", e->fport, "10.0.0.1", 53);

                if (!(e->flags & PCB_F_CONNECTED))
                        continue;
                memcpy(k.daddr, e->laddr, 16);
                if (e->laddr[10] == 0) /* the wildcard (else v4-mapped) */
                        addr("10.0.0.3", k.daddr);
                /* No entry is bound to interface 3: a connected socket with
                 * no interface is not tied by a bound, unconnected one. */
                k.ifindex = e->bound_if != 0 ? e->bound_if : 3;
                assert_int_equal(look(t, &k, 0, 0), e->so->id);
        }
}

/* Linux reuseport_select_sock: reciprocal_scale(hash, n) over the members,
 * so a flow keeps its member and the hash space splits evenly. */
static void test_reuseport_select(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_key k = key(4, "10.0.0.9", 1, "10.0.0.1", 53);
        unsigned hits[4] = {0};
        const struct pcb_set *s;

        for (int i = 0; i < 4; i++)
                assert_int_equal(bind_(t, 53, i, PCB_FAM4, "", RP), 0);
        assert_int_equal(bind_(t, 53, 4, PCB_FAM4, "10.0.0.2", RP), 0);
        s = pcb_set_get(t, 53);
        for (unsigned i = 0; i < s->n; i++)
                assert_int_equal(s->e[i].group, s->e[i].so->id == 4 ? 2 : 1);
        assert_int_equal(s->n_groups, 2);
        for (uint32_t q = 0; q < 4; q++) {
                uint32_t h = q * 0x40000000u + 0x1234567u;
                int id = look(t, &k, 0, h);

                assert_true(id >= 0 && id < 4);
                hits[id]++;
                assert_int_equal(look(t, &k, 0, h), id);
        }
        for (int i = 0; i < 4; i++)
                assert_int_equal(hits[i], 1);
        /* A member leaves: the group is the other three, never the gone. */
        assert_int_equal(pcb_unbind(t, 53, &so[2]), 0);
        for (uint32_t q = 0; q < 64; q++)
                assert_int_not_equal(look(t, &k, 0, q * 0x04000000u), 2);
        /* Group ids are reused: with groups 1-3, a new key after group 2
         * left takes id 2 again. */
        assert_int_equal(bind_(t, 53, 5, PCB_FAM4, "10.0.0.3", RP), 0);
        assert_int_equal(pcb_unbind(t, 53, &so[4]), 0);
        assert_int_equal(bind_(t, 53, 6, PCB_FAM4, "10.0.0.4", RP), 0);
        assert_int_equal(pcb_set_get(t, 53)->n_groups, 3);
        assert_int_equal(pcb_unbind(t, 53, &so[6]), 0);
        assert_int_equal(bind_(t, 53, 4, PCB_FAM4, "10.0.0.2", RP), 0);
        /* The other group's address. */
        addr("10.0.0.2", k.daddr);
        assert_int_equal(look(t, &k, 0, 0xffffffffu), 4);
}

/* A socket per worker: the member homed on the receiving context wins
 * whatever the hash; a context with none spreads by hash. */
static void test_reuseport_home(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_key k = key(6, "2001:db8::9", 1, "2001:db8::1", 443);
        unsigned seen = 0;

        for (int i = 0; i < 4; i++) {
                struct pcb_ent e = ent(i, PCB_FAM46, "", RP);

                e.home = (uint8_t)(i + 1);
                assert_int_equal(pcb_bind(t, 443, &e), 0);
        }
        for (unsigned w = 1; w <= 4; w++)
                for (uint32_t h = 0; h < 16; h++)
                        assert_int_equal(look(t, &k, w, h * 0x10000000u), (int)w - 1);
        for (uint32_t q = 0; q < 4; q++)
                seen |= 1u << look(t, &k, 9, q * 0x40000000u);
        assert_int_equal(seen, 0xf);
}

/* A connected member takes its peer and leaves the selection (Linux
 * reuseport_has_conns). */
static void test_reuseport_connected(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_ent c = ent(1, PCB_FAM4, "", RP);
        struct pcb_key k = key(4, "10.0.0.9", 1, "10.0.0.1", 53);

        assert_int_equal(bind_(t, 53, 0, PCB_FAM4, "", RP), 0);
        assert_int_equal(pcb_bind(t, 53, &c), 0);
        assert_int_equal(bind_(t, 53, 2, PCB_FAM4, "", RP), 0);
        connect_(t, 53, &c, "10.0.0.9", 7);
        assert_int_equal(pcb_set_get(t, 53)->n_groups, 1);
        for (uint32_t q = 0; q < 64; q++)
                assert_int_not_equal(look(t, &k, 0, q * 0x04000000u), 1);
        k.sport = 7;
        for (uint32_t q = 0; q < 64; q++)
                assert_int_equal(look(t, &k, 0, q * 0x04000000u), 1);
}

/* Broadcast and multicast: every socket that takes the datagram, the
 * connected one only from its peer; an SO_REUSEPORT group gives each member
 * a copy as Linux does, or one member with group_once. */
static void test_match_all(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_key k = key(4, "10.0.0.9", 1, "10.0.0.255", 67);
        struct pcb_ent c = ent(2, PCB_FAM4, "", RA | RP);
        struct mpnet_sock *out[8];
        unsigned seen = 0, n;

        assert_int_equal(pcb_match_all(t, &k, 0, 0, false, out, 8), 0);
        assert_int_equal(bind_(t, 67, 0, PCB_FAM4, "", RA | RP), 0);
        assert_int_equal(bind_(t, 67, 1, PCB_FAM4, "10.0.0.1", RA | RP), 0);
        assert_int_equal(pcb_bind(t, 67, &c), 0);
        connect_(t, 67, &c, "10.0.0.8", 1);
        assert_int_equal(bind_(t, 67, 3, PCB_FAM46, "", RA | RP), 0);
        assert_int_equal(bind_(t, 67, 4, PCB_FAM46, "", RA | RP), 0);
        assert_int_equal(bind_(t, 67, 5, PCB_FAM6, "", RA | RP), 0);
        n = pcb_match_all(t, &k, 0, 0, false, out, 8);
        assert_int_equal(n, 3);
        for (unsigned i = 0; i < n; i++)
                seen |= 1u << out[i]->id;
        assert_int_equal(seen, 1u << 0 | 1u << 3 | 1u << 4);
        /* The dual-stack pair is one group: one of them. */
        seen = 0;
        n = pcb_match_all(t, &k, 0, 0, true, out, 8);
        assert_int_equal(n, 2);
        for (unsigned i = 0; i < n; i++)
                seen |= 1u << out[i]->id;
        assert_true(seen == (1u << 0 | 1u << 3) || seen == (1u << 0 | 1u << 4));
        /* From the connected socket's peer it gets a copy too; out too
         * small still counts every one. */
        addr("10.0.0.8", k.saddr);
        assert_int_equal(pcb_match_all(t, &k, 0, 0, false, out, 1), 4);
        /* IPv6 multicast: the dual-stack and V6ONLY sockets. */
        k = key(6, "2001:db8::9", 1, "ff02::1:3", 67);
        assert_int_equal(pcb_match_all(t, &k, 0, 0, false, out, 8), 3);
        assert_int_equal(pcb_match_all(t, &k, 0, 0, true, out, 8), 2);
}

/* The socket id through cache c on context w, -1 none. */
static int look_c(struct pcb_table *t, const struct pcb_key *k, unsigned w, uint32_t hash,
                  struct pcb_cache *c)
{
        struct mpnet_sock *s = pcb_lookup_cached(t, k, w, hash, c);

        return s == NULL ? -1 : s->id;
}

/* A cached answer holds only while the port's set is the one it came
 * from: every bind, connect and close on the port makes a new set, and the
 * answer follows it, even when the new set sits where the old one did. */
static void test_cache_follows_set(void **state)
{
        struct pcb_table *t = *state;
        struct pcb_cache c;
        struct pcb_key k = key(4, "10.0.0.9", 4000, "10.0.0.1", 53),
                       k2 = key(4, "10.0.0.8", 4000, "10.0.0.1", 53);
        struct pcb_ent e = ent(0, PCB_FAM4, "", PCB_F_REUSEADDR);

        memset(&c, 0, sizeof(c));
        assert_int_equal(look_c(t, &k, 0, 0, &c), -1);
        assert_int_equal(pcb_bind(t, 53, &e), 0);
        assert_int_equal(look_c(t, &k, 0, 0, &c), 0);
        assert_int_equal(look_c(t, &k, 0, 0, &c), 0); /* a hit */
        /* A more specific socket comes: the next datagram finds it. */
        assert_int_equal(bind_(t, 53, 1, PCB_FAM4, "10.0.0.1", PCB_F_REUSEADDR), 0);
        assert_int_equal(look_c(t, &k, 0, 0, &c), 1);
        /* A connected one beats it for its peer only. */
        connect_(t, 53, &e, "10.0.0.9", 4000);
        assert_int_equal(look_c(t, &k, 0, 0, &c), 0);
        assert_int_equal(look_c(t, &k2, 0, 0, &c), 1);
        /* Gone: neither is found, through the cache or not. */
        assert_int_equal(pcb_unbind(t, 53, &so[1]), 0);
        assert_int_equal(look_c(t, &k2, 0, 0, &c), -1);
        assert_int_equal(pcb_unbind(t, 53, &so[0]), 0);
        assert_int_equal(look_c(t, &k, 0, 0, &c), -1);
        /* Unbind and bind again many times: each set is freed at once
         * (retire_now), so the allocator may give a new set the old
         * address; its gen tells them apart. */
        for (int i = 0; i < 16; i++) {
                assert_int_equal(bind_(t, 53, i, PCB_FAM4, "", 0), 0);
                assert_int_equal(look_c(t, &k, 0, 0, &c), i);
                assert_int_equal(pcb_unbind(t, 53, &so[i]), 0);
        }
        /* The answer of a key on context w, hash h is pcb_lookup's. */
        assert_int_equal(bind_(t, 53, 2, PCB_FAM4, "", PCB_F_REUSEPORT), 0);
        assert_int_equal(bind_(t, 53, 3, PCB_FAM4, "", PCB_F_REUSEPORT), 0);
        for (uint32_t h = 0; h < 64; h++)
                assert_int_equal(look_c(t, &k, 0, h * 0x9e3779b9u, &c),
                                 look(t, &k, 0, h * 0x9e3779b9u));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_empty_port, setup, teardown),
            cmocka_unit_test_setup_teardown(test_wildcard_bound_connected, setup, teardown),
            cmocka_unit_test_setup_teardown(test_connected_filters, setup, teardown),
            cmocka_unit_test_setup_teardown(test_connected_beats_bound, setup, teardown),
            cmocka_unit_test_setup_teardown(test_dual_stack, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v4mapped_source_over_ipv6, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bound_interface, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tie_and_home, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bind_conflicts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bind_invalid, setup, teardown),
            cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
            cmocka_unit_test_setup_teardown(test_set_order, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reuseport_select, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reuseport_home, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reuseport_connected, setup, teardown),
            cmocka_unit_test_setup_teardown(test_match_all, setup, teardown),
            cmocka_unit_test_setup_teardown(test_cache_follows_set, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
