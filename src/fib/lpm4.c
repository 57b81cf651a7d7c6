/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 longest-prefix match: DIR-24-8 lookup tables beside a RIB of hash tables.
 *
 * Invariants: every tbl24 entry and every tbl8 entry holds the longest route
 * of length 1..32 that covers its addresses (VALID, with its length and next
 * hop), or 0 when only the /0 route (lpm->dflt) or nothing does. A /24 has a
 * tbl8 group (its tbl24 entry is EXT) exactly while a route longer than /24
 * lies inside it; then all 256 entries of the group hold their answer, and
 * the ones that no longer route is in all agree. The RIB holds every route,
 * the /0 one included.
 *
 * Synchronisation: one writer at a time (the caller serialises); readers take
 * no lock. Each entry changes by one release store of the whole 32-bit word,
 * so a reader sees either answer for an address. A new tbl8 group is filled
 * completely before the release store that links it into tbl24; a group that
 * leaves tbl24 (the store of the plain entry comes first) goes through
 * cfg.defer_free and only then back on the free list, so a reader that
 * loaded the old tbl24 entry still reads a stable group (the groups and
 * their free lists: fib/tbl8_pool.c, shared with lpm6).
 *
 * Life cycle: create maps tbl24 and the tbl8 area as reserved, unbacked
 * address space; the writer's stores make it resident page by page. destroy
 * unmaps it all; the caller makes sure no reader and no deferred callback is
 * left.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fib/tbl8_pool.h"
#include "mpnet/lpm4.h"

#define TBL24_N          (1u << 24)
#define NIL              UINT32_MAX
#define E_LEN(e)         (((e) >> MPNET_LPM4_E_LEN_SHIFT) & 63u)
#define E_ROUTE(len, nh) (MPNET_LPM4_E_VALID | ((uint32_t)(len) << MPNET_LPM4_E_LEN_SHIFT) | (nh))

/* The RIB (fib/rib_tmpl.h), keyed by prefix. */
static inline uint32_t rib_hash(uint32_t key, uint32_t cap)
{
        /* Fibonacci hashing: the high bits of the product mix all key bits,
         * also the low ones that prefixes leave clear. */
        return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

#define RIB_KEY uint32_t
#define RIB_SLOT_ATTR
#include "fib/rib_tmpl.h"

struct lpm4 {
        struct mpnet_lpm4 pub; /* first: the handle is its address */
        struct mpnet_lpm4_cfg cfg;

        /* RIB */
        struct rib_len rib[33];
        uint64_t rib_nonempty[1]; /* bit l: some route of length l */
        uint64_t routes;

        /* tbl8 groups */
        struct tbl8_pool g8;
        struct table_mem m24; /* behind tbl24 */
};

static inline struct lpm4 *lpm4_of(const struct mpnet_lpm4 *pub)
{
        return (struct lpm4 *)pub;
}

static inline uint32_t mask_of(unsigned plen)
{
        return plen == 0 ? 0 : ~0u << (32 - plen);
}

static inline uint32_t e_get(_Atomic uint32_t *p)
{
        return atomic_load_explicit(p, memory_order_relaxed); /* the writer's own */
}

static inline void e_set(_Atomic uint32_t *p, uint32_t v)
{
        atomic_store_explicit(p, v, memory_order_release);
}

/* ---- memory -------------------------------------------------------------- */

/* The writer's tbl24: the array itself, which it stores into. */
static inline _Atomic uint32_t *t24_of(struct lpm4 *l)
{
        return l->m24.base;
}

/* Before storing into tbl24[first .. first + n - 1]. @return 0 or -ENOMEM. */
static int prepare24(struct lpm4 *l, uint32_t first, uint32_t n)
{
        return table_mem_prepare(&l->m24, (size_t)first * sizeof(uint32_t),
                                 (size_t)n * sizeof(uint32_t));
}

/* Note tbl24[first .. first + n - 1] as written: readers see it. */
static void touch24(struct lpm4 *l, uint32_t first, uint32_t n)
{
        table_mem_wrote(&l->m24, (size_t)first * sizeof(uint32_t), (size_t)n * sizeof(uint32_t));
}

/* ---- RIB ------------------------------------------------------------------ */

/* The longest route shorter than plen (and not /0) that covers key. */
static const struct rib_slot *rib_cover(const struct lpm4 *l, uint32_t key, unsigned plen,
                                        unsigned *cover_len)
{
        uint64_t m = l->rib_nonempty[0] & ((1ull << plen) - 1) & ~1ull;

        while (m != 0) {
                unsigned len = 63 - (unsigned)__builtin_clzll(m);
                const struct rib_slot *s = rib_lookup(&l->rib[len], key & mask_of(len));

                if (s != NULL) {
                        *cover_len = len;
                        return s;
                }
                m &= ~(1ull << len);
        }
        return NULL;
}

/* ---- tbl8 groups ---------------------------------------------------------- */

static inline _Atomic uint32_t *tbl8_at(struct lpm4 *l, uint32_t g)
{
        return tbl8_pool_group(&l->g8, g);
}

/* ---- create, destroy ------------------------------------------------------ */

struct mpnet_lpm4 *mpnet_lpm4_create(const struct mpnet_lpm4_cfg *cfg)
{
        struct mpnet_lpm4_cfg c = cfg != NULL ? *cfg : (struct mpnet_lpm4_cfg){0};
        enum table_mem_pages pages;
        struct lpm4 *l;

        if (c.max_tbl8 == 0)
                c.max_tbl8 = MPNET_LPM4_TBL8_DEFAULT;
        if (c.max_tbl8 > MPNET_LPM4_TBL8_MAX ||
            !table_mem_pages_of(c.flags, MPNET_LPM4_F_HUGEPAGE, MPNET_LPM4_F_SMALLPAGES, &pages)) {
                errno = EINVAL;
                return NULL;
        }
        l = calloc(1, sizeof(*l));
        if (l == NULL)
                return NULL;
        l->cfg = c;
        atomic_init(&l->pub.dflt, 0);
        if (table_mem_map_tbl24(&l->m24, &l->pub.tbl24, pages) != 0 ||
            tbl8_pool_init(&l->g8, 0, c.max_tbl8, pages, c.defer_free, c.defer_ctx) != 0) {
                mpnet_lpm4_destroy(&l->pub);
                errno = ENOMEM;
                return NULL;
        }
        l->pub.tbl8 = l->g8.m8.base;
        return &l->pub;
}

void mpnet_lpm4_destroy(struct mpnet_lpm4 *lpm)
{
        struct lpm4 *l = lpm4_of(lpm);

        if (lpm == NULL)
                return;
        table_mem_unmap(&l->m24);
        tbl8_pool_fini(&l->g8, "lpm4");
        for (unsigned len = 0; len <= 32; len++)
                free(l->rib[len].slot);
        free(l);
}

/* ---- add, delete ---------------------------------------------------------- */

/* Store e_new where the entry's route is no longer than plen. */
static void group_cover(_Atomic uint32_t *t, uint32_t n, unsigned plen, uint32_t e_new)
{
        for (uint32_t j = 0; j < n; j++)
                if (E_LEN(e_get(&t[j])) <= plen)
                        e_set(&t[j], e_new);
}

/* Store e_repl where the entry holds the route of length plen (the deleted
 * one: no other route of that length covers these addresses). */
static void group_uncover(_Atomic uint32_t *t, uint32_t n, unsigned plen, uint32_t e_repl)
{
        for (uint32_t j = 0; j < n; j++) {
                uint32_t e = e_get(&t[j]);

                if ((e & MPNET_LPM4_E_VALID) != 0 && E_LEN(e) == plen)
                        e_set(&t[j], e_repl);
        }
}

/* A route of length 1..24 over tbl24[first .. first + n - 1]; del: remove it
 * (e is then the covering route's entry) instead of adding it. */
static void range24_update(struct lpm4 *l, uint32_t first, uint32_t n, unsigned plen, uint32_t e,
                           bool del)
{
        _Atomic uint32_t *t24 = t24_of(l);

        for (uint32_t i = first; i < first + n; i++) {
                uint32_t cur = e_get(&t24[i]);

                if ((cur & MPNET_LPM4_E_EXT) != 0) {
                        _Atomic uint32_t *t8 = tbl8_at(l, cur & MPNET_LPM4_E_NH);

                        if (del)
                                group_uncover(t8, TBL8_GSIZE, plen, e);
                        else
                                group_cover(t8, TBL8_GSIZE, plen, e);
                } else if (del ? (cur & MPNET_LPM4_E_VALID) != 0 && E_LEN(cur) == plen
                               : E_LEN(cur) <= plen) {
                        e_set(&t24[i], e);
                }
        }
        touch24(l, first, n);
}

/* Link a fresh group for tbl24[i] holding its old answer and the new route
 * over [lo, lo + n). */
static void group_publish(struct lpm4 *l, uint32_t i, uint32_t g, uint32_t lo, uint32_t n,
                          uint32_t e_new)
{
        _Atomic uint32_t *t8 = tbl8_at(l, g);
        uint32_t old = mpnet_tbl24_load(&l->pub.tbl24, i); /* no read of a page never written */

        /* Unpublished: plain stores; the release store below publishes them. */
        for (uint32_t j = 0; j < TBL8_GSIZE; j++)
                atomic_store_explicit(&t8[j], j - lo < n ? e_new : old, memory_order_relaxed);
        e_set(&t24_of(l)[i], MPNET_LPM4_E_EXT | g);
        touch24(l, i, 1);
}

int mpnet_lpm4_add(struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen, uint32_t nh)
{
        struct lpm4 *l = lpm4_of(lpm);
        uint32_t e_new, cur, g = NIL;
        int rc;

        if (plen > 32 || nh > MPNET_LPM4_NH_MAX)
                return -EINVAL;
        prefix &= mask_of(plen);
        e_new = E_ROUTE(plen, nh);
        cur = mpnet_tbl24_load(&lpm->tbl24, prefix >> 8);
        /* Everything that can fail comes before the first change. */
        if (plen > 0 && plen <= 24)
                rc = prepare24(l, prefix >> 8, 1u << (24 - plen));
        else
                rc = plen > 24 ? prepare24(l, prefix >> 8, 1) : 0;
        if (rc < 0)
                return rc;
        if (plen > 24 && (cur & MPNET_LPM4_E_EXT) == 0) {
                rc = tbl8_pool_alloc(&l->g8, &g);
                if (rc < 0)
                        return rc;
        }
        rc = rib_insert(l->rib, l->rib_nonempty, prefix, plen, nh);
        if (rc < 0) {
                if (g != NIL)
                        tbl8_pool_unalloc(&l->g8, g);
                return rc;
        }
        l->routes += rc == 0;
        if (plen == 0)
                atomic_store_explicit(&lpm->dflt, MPNET_LPM4_E_VALID | nh, memory_order_release);
        else if (plen <= 24)
                range24_update(l, prefix >> 8, 1u << (24 - plen), plen, e_new, false);
        else if (g != NIL)
                group_publish(l, prefix >> 8, g, prefix & 0xff, 1u << (32 - plen), e_new);
        else
                group_cover(tbl8_at(l, cur & MPNET_LPM4_E_NH) + (prefix & 0xff), 1u << (32 - plen),
                            plen, e_new);
        return 0;
}

/* After a delete inside the group of tbl24[i]: with no route longer than /24
 * left there, the entries agree; put their answer back in tbl24. */
static void group_collapse(struct lpm4 *l, uint32_t i)
{
        uint32_t g = e_get(&t24_of(l)[i]) & MPNET_LPM4_E_NH;
        _Atomic uint32_t *t8 = tbl8_at(l, g);

        for (uint32_t j = 0; j < TBL8_GSIZE; j++)
                if (E_LEN(e_get(&t8[j])) > 24)
                        return;
        e_set(&t24_of(l)[i], e_get(&t8[0]));
        tbl8_pool_retire(&l->g8, g);
}

int mpnet_lpm4_delete(struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen)
{
        struct lpm4 *l = lpm4_of(lpm);
        const struct rib_slot *cov;
        uint32_t e_repl = 0, cur;
        unsigned cov_len = 0;

        if (plen > 32)
                return -EINVAL;
        prefix &= mask_of(plen);
        if (rib_remove(l->rib, l->rib_nonempty, prefix, plen) != 0)
                return -ENOENT;
        l->routes--;
        if (plen == 0) {
                atomic_store_explicit(&lpm->dflt, 0, memory_order_release);
                return 0;
        }
        cov = rib_cover(l, prefix, plen, &cov_len);
        if (cov != NULL)
                e_repl = E_ROUTE(cov_len, cov->val & MPNET_LPM4_NH_MAX);
        if (plen <= 24) {
                range24_update(l, prefix >> 8, 1u << (24 - plen), plen, e_repl, true);
                return 0;
        }
        cur = e_get(&t24_of(l)[prefix >> 8]); /* EXT: the route was there */
        group_uncover(tbl8_at(l, cur & MPNET_LPM4_E_NH) + (prefix & 0xff), 1u << (32 - plen), plen,
                      e_repl);
        group_collapse(l, prefix >> 8);
        return 0;
}

/* ---- queries --------------------------------------------------------------- */

int mpnet_lpm4_get(const struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen, uint32_t *nh)
{
        const struct rib_slot *s;

        if (plen > 32)
                return -EINVAL;
        s = rib_lookup(&lpm4_of(lpm)->rib[plen], prefix & mask_of(plen));
        if (s == NULL)
                return -ENOENT;
        *nh = s->val & MPNET_LPM4_NH_MAX;
        return 0;
}

/* A route packed so that sorting the words sorts by address, then length. */
static inline uint64_t walk_word(uint32_t prefix, unsigned plen, uint32_t nh)
{
        return (uint64_t)prefix << 32 | (uint64_t)plen << 24 | nh;
}

/* LSD radix sort of v[0..n) by bits 24..63 (address and length), a byte at a
 * time; tmp holds n words. */
static void walk_sort(uint64_t *v, uint64_t *tmp, size_t n)
{
        for (unsigned shift = 24; shift < 64; shift += 8) {
                size_t count[257] = {0};

                for (size_t i = 0; i < n; i++)
                        count[((v[i] >> shift) & 0xff) + 1]++;
                for (unsigned b = 0; b < 256; b++)
                        count[b + 1] += count[b];
                for (size_t i = 0; i < n; i++)
                        tmp[count[(v[i] >> shift) & 0xff]++] = v[i];
                memcpy(v, tmp, n * sizeof(*v));
        }
}

int mpnet_lpm4_walk(const struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen,
                    mpnet_lpm4_walk_fn fn, void *arg)
{
        const struct lpm4 *l = lpm4_of(lpm);
        uint64_t *v;
        size_t n = 0, cap = 0;
        int rc = 0;

        if (plen > 32)
                return -EINVAL;
        prefix &= mask_of(plen);
        for (unsigned len = plen; len <= 32; len++)
                cap += l->rib[len].n;
        if (cap == 0)
                return 0;
        v = malloc(2 * cap * sizeof(*v));
        if (v == NULL)
                return -ENOMEM;
        /* A sorted snapshot: fn may change the table. */
        for (unsigned len = plen; len <= 32; len++) {
                const struct rib_len *t = &l->rib[len];

                for (uint32_t i = 0; i < t->cap; i++)
                        if ((t->slot[i].val & RIB_USED) != 0 &&
                            (t->slot[i].key & mask_of(plen)) == prefix)
                                v[n++] = walk_word(t->slot[i].key, len,
                                                   t->slot[i].val & MPNET_LPM4_NH_MAX);
        }
        walk_sort(v, v + cap, n);
        for (size_t i = 0; i < n && rc == 0; i++)
                rc = fn(arg, (uint32_t)(v[i] >> 32), (unsigned)(v[i] >> 24) & 63u,
                        (uint32_t)v[i] & MPNET_LPM4_NH_MAX);
        free(v);
        return rc;
}

void mpnet_lpm4_get_stats(const struct mpnet_lpm4 *lpm, struct mpnet_lpm4_stats *st)
{
        const struct lpm4 *l = lpm4_of(lpm);

        memset(st, 0, sizeof(*st));
        st->routes = l->routes;
        st->tbl8_used = l->g8.used;
        st->tbl8_deferred = atomic_load_explicit(&l->g8.deferred, memory_order_relaxed);
        st->tbl8_max = l->cfg.max_tbl8;
        st->tbl24_bytes = table_mem_bytes(&l->m24);
        st->tbl8_bytes = table_mem_bytes(&l->g8.m8);
        st->huge_regions = l->m24.regions_huge + l->g8.m8.regions_huge;
        st->huge_refused = l->m24.promote_failed + l->g8.m8.promote_failed;
        for (unsigned len = 0; len <= 32; len++)
                st->rib_bytes += (uint64_t)l->rib[len].cap * sizeof(struct rib_slot);
        st->mem_bytes = sizeof(*l) + st->tbl24_bytes + st->tbl8_bytes + st->rib_bytes +
                        table_mem_book_bytes(&l->m24) + tbl8_pool_side_bytes(&l->g8);
}

/* ---- lookup ---------------------------------------------------------------- */

typedef uint32_t u32x4 __attribute__((vector_size(16)));

/* An address's entry, given its tbl24 entry e. */
static inline uint32_t load_entry(_Atomic uint32_t *t8, uint32_t e, uint32_t addr)
{
        if (__builtin_expect((e & MPNET_LPM4_E_EXT) != 0, 0))
                e = atomic_load_explicit(&t8[((size_t)(e & MPNET_LPM4_E_NH) << 8) | (addr & 0xff)],
                                         memory_order_acquire);
        return e;
}

/*
 * Two passes. The first only loads: each address's tbl24 entry (its tbl8
 * entry in the rare /24 that holds a longer prefix) goes raw into nh[]. The
 * second turns four entries at a time into next hops (GCC vector
 * extensions: SSE2 on the x86-64 this builds for). Random lookups over a
 * full table are bound by how many table misses are in flight at once,
 * which is how many lookups fit in the core's reorder window, so what
 * counts is the instructions per lookup: this takes about 25 % fewer cycles
 * than one pass that resolves 8 at a time with software prefetch 32 ahead,
 * and than the same two passes with a scalar second one (docs/PERFORMANCE.md,
 * "IPv4 LPM lookup").
 */
unsigned mpnet_lpm4_lookup_bulk(const struct mpnet_lpm4 *lpm, const uint32_t *addr, uint32_t *nh,
                                unsigned n, uint32_t miss)
{
        _Atomic uint32_t *t24 = atomic_load_explicit(&lpm->tbl24.dense, memory_order_acquire);
        _Atomic uint32_t *t8 = lpm->tbl8;
        uint32_t d = atomic_load_explicit(&lpm->dflt, memory_order_acquire);
        uint32_t fallback = (d & MPNET_LPM4_E_VALID) != 0 ? d & MPNET_LPM4_E_NH : miss;
        u32x4 vfb = {fallback, fallback, fallback, fallback}, vmiss = {0, 0, 0, 0};
        unsigned misses, i;

        if (t24 != NULL)
                for (i = 0; i < n; i++)
                        nh[i] = load_entry(
                            t8, atomic_load_explicit(&t24[addr[i] >> 8], memory_order_acquire),
                            addr[i]);
        else
                for (i = 0; i < n; i++)
                        nh[i] = load_entry(t8, mpnet_tbl24_sparse_load(&lpm->tbl24, addr[i] >> 8),
                                           addr[i]);
        for (i = 0; i + 4 <= n; i += 4) {
                u32x4 e, hit, r;

                memcpy(&e, &nh[i], sizeof(e));
                hit = (u32x4)((e & MPNET_LPM4_E_VALID) != 0); /* all ones where valid */
                r = (e & MPNET_LPM4_E_NH & hit) | (vfb & ~hit);
                memcpy(&nh[i], &r, sizeof(r));
                vmiss += hit + 1; /* 1 where not valid */
        }
        misses = vmiss[0] + vmiss[1] + vmiss[2] + vmiss[3];
        for (; i < n; i++) {
                bool hit = (nh[i] & MPNET_LPM4_E_VALID) != 0;

                nh[i] = hit ? nh[i] & MPNET_LPM4_E_NH : fallback;
                misses += !hit;
        }
        /* With a /0 route, an entry that misses takes it. */
        return (d & MPNET_LPM4_E_VALID) != 0 ? 0 : misses;
}
