/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 longest-prefix match: DIR-24-8-8-... lookup tables beside a RIB of
 * hash tables.
 *
 * The layout is rte_lpm6's (DPDK lib/lpm/rte_lpm6.c: a 2^24-entry first
 * table, then 256-entry groups, one per further address byte, entries
 * carrying the depth of their route), itself the multi-level extension of
 * DIR-24-8 (Gupta, Lin, McKeown, "Routing lookups in hardware at memory
 * access speeds", INFOCOM 1998). It mirrors src/fib/lpm4.c; what differs is
 * that groups nest, so add and delete recurse into them, and an add may
 * create a chain of groups.
 *
 * Levels: level 0 is tbl24, indexed by address bytes 0-2; a level-d group
 * (d = 1..13) is indexed by byte 2 + d and holds routes of length
 * 17 + 8d .. 24 + 8d; a group at level d starts at bit s(d) = 16 + 8d.
 *
 * Invariants: every entry holds the longest route of length 1..128 that
 * covers its addresses (VALID, with its length and next hop), or 0 when only
 * the /0 route (lpm->dflt) or nothing does, or is EXT. An entry of level d - 1
 * is EXT exactly while a route longer than s(d) lies inside it; then all 256
 * entries of its group hold their answer. A level-13 group holds no EXT
 * entry. The RIB holds every route, the /0 one included.
 *
 * Synchronisation: one writer at a time (the caller serialises); readers take
 * no lock. Each entry changes by one release store of the whole 32-bit word,
 * so a reader sees either answer for an address. The groups an add creates
 * are filled completely (relaxed stores) before the one release store that
 * links the top one; a group that leaves the table (the store of the plain
 * entry in its parent comes first) goes through cfg.defer_free and only then
 * back on the free list, so a reader that loaded the old EXT entry still
 * reads a stable group (the groups and their free lists: fib/tbl8_pool.c,
 * shared with lpm4).
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
#include "mpnet/lpm6.h"

typedef unsigned __int128 u128;

#define TBL24_N (1u << 24)
#define LEVELS  13u /* group levels below tbl24 */
#define NIL     UINT32_MAX
#define E_LEN(e)                                                                                   \
        (((e)&MPNET_LPM6_E_VALID) != 0 ? (((e) >> MPNET_LPM6_E_LEN_SHIFT) & 0x7fu) + 1 : 0u)
#define E_ROUTE(len, nh) (MPNET_LPM6_E_VALID | ((uint32_t)(len)-1) << MPNET_LPM6_E_LEN_SHIFT | (nh))

/* Addresses ahead of the one being resolved whose tbl24 line is prefetched. */
#define BULK_PREFETCH 32u
/* Addresses resolved together, level by level. */
#define BULK_BLK 16u

/* The RIB (fib/rib_tmpl.h), keyed by prefix. */
static inline uint32_t rib_hash(u128 key, uint32_t cap)
{
        uint64_t h =
            (uint64_t)(key >> 64) * 0x9e3779b97f4a7c15ull ^ (uint64_t)key * 0xc2b2ae3d27d4eb4full;

        /* The high bits of the products mix all key bits, also the low ones
         * that prefixes leave clear; fold them down. */
        h ^= h >> 29;
        return (uint32_t)((h * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

#define RIB_KEY       u128
#define RIB_SLOT_ATTR __attribute__((packed, aligned(8)))
#include "fib/rib_tmpl.h"

struct lpm6 {
        struct mpnet_lpm6 pub; /* first: the handle is its address */
        struct mpnet_lpm6_cfg cfg;

        /* RIB */
        struct rib_len rib[129];
        uint64_t rib_nonempty[3]; /* bit l: some route of length l */
        uint64_t routes;

        /* tbl8 groups; group 0 is never used, so an EXT entry is nonzero */
        struct tbl8_pool g8;
        struct table_mem m24; /* behind tbl24 */
};

static inline struct lpm6 *lpm6_of(const struct mpnet_lpm6 *pub)
{
        return (struct lpm6 *)pub;
}

static inline u128 mask_of(unsigned plen)
{
        return plen == 0 ? 0 : ~(u128)0 << (128 - plen);
}

static inline u128 key_of(const uint8_t b[16])
{
        u128 k = 0;

        for (unsigned i = 0; i < 16; i++)
                k = k << 8 | b[i];
        return k;
}

static inline void bytes_of(u128 k, uint8_t b[16])
{
        for (unsigned i = 0; i < 16; i++)
                b[i] = (uint8_t)(k >> (120 - 8 * i));
}

/* The index into the level-d table (d = 0: tbl24). */
static inline uint32_t idx_at(u128 k, unsigned d)
{
        return d == 0 ? (uint32_t)(k >> 104) : (uint32_t)(k >> (120 - 8 * (2 + d))) & 0xffu;
}

/* The group level that holds routes of length plen (25..128). */
static inline unsigned level_of(unsigned plen)
{
        return (plen - 17) / 8;
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
static inline _Atomic uint32_t *t24_of(struct lpm6 *l)
{
        return l->m24.base;
}

/* Before storing into tbl24[first .. first + n - 1]. @return 0 or -ENOMEM. */
static int prepare24(struct lpm6 *l, uint32_t first, uint32_t n)
{
        return table_mem_prepare(&l->m24, (size_t)first * sizeof(uint32_t),
                                 (size_t)n * sizeof(uint32_t));
}

/* Note tbl24[first .. first + n - 1] as written: readers see it. */
static void touch24(struct lpm6 *l, uint32_t first, uint32_t n)
{
        table_mem_wrote(&l->m24, (size_t)first * sizeof(uint32_t), (size_t)n * sizeof(uint32_t));
}

/* ---- RIB ------------------------------------------------------------------ */

/* The entry of the longest route shorter than plen (and not /0) that covers
 * key, or 0. */
static uint32_t rib_cover(const struct lpm6 *l, u128 key, unsigned plen)
{
        for (unsigned len = plen - 1; len > 0; len--) {
                const struct rib_slot *s;

                if (!rib_has_len(l->rib_nonempty, len))
                        continue;
                s = rib_lookup(&l->rib[len], key & mask_of(len));
                if (s != NULL)
                        return E_ROUTE(len, s->val & MPNET_LPM6_NH_MAX);
        }
        return 0;
}

/* ---- tbl8 groups ---------------------------------------------------------- */

static inline _Atomic uint32_t *tbl8_at(struct lpm6 *l, uint32_t g)
{
        return tbl8_pool_group(&l->g8, g);
}

/* ---- create, destroy ------------------------------------------------------ */

struct mpnet_lpm6 *mpnet_lpm6_create(const struct mpnet_lpm6_cfg *cfg)
{
        struct mpnet_lpm6_cfg c = cfg != NULL ? *cfg : (struct mpnet_lpm6_cfg){0};
        enum table_mem_pages pages;
        struct lpm6 *l;

        if (c.max_tbl8 == 0)
                c.max_tbl8 = MPNET_LPM6_TBL8_DEFAULT;
        if (c.max_tbl8 > MPNET_LPM6_TBL8_MAX ||
            !table_mem_pages_of(c.flags, MPNET_LPM6_F_HUGEPAGE, MPNET_LPM6_F_SMALLPAGES, &pages)) {
                errno = EINVAL;
                return NULL;
        }
        l = calloc(1, sizeof(*l));
        if (l == NULL)
                return NULL;
        l->cfg = c;
        atomic_init(&l->pub.dflt, 0);
        /* Group 0 is never handed out, so an EXT entry is nonzero. */
        if (table_mem_map_tbl24(&l->m24, &l->pub.tbl24, pages) != 0 ||
            tbl8_pool_init(&l->g8, 1, c.max_tbl8 + 1, pages, c.defer_free, c.defer_ctx) != 0) {
                mpnet_lpm6_destroy(&l->pub);
                errno = ENOMEM;
                return NULL;
        }
        l->pub.tbl8 = l->g8.m8.base;
        return &l->pub;
}

void mpnet_lpm6_destroy(struct mpnet_lpm6 *lpm)
{
        struct lpm6 *l = lpm6_of(lpm);

        if (lpm == NULL)
                return;
        table_mem_unmap(&l->m24);
        tbl8_pool_fini(&l->g8, "lpm6");
        for (unsigned len = 0; len <= 128; len++)
                free(l->rib[len].slot);
        free(l);
}

/* ---- add, delete ---------------------------------------------------------- */

/* Store e_new over t[0 .. n) where the entry's route is no longer than plen,
 * in the groups below EXT entries too. */
static void range_cover(struct lpm6 *l, _Atomic uint32_t *t, uint32_t n, unsigned plen,
                        uint32_t e_new)
{
        for (uint32_t j = 0; j < n; j++) {
                uint32_t e = e_get(&t[j]);

                if (MPNET_LPM6_E_IS_EXT(e))
                        range_cover(l, tbl8_at(l, e), TBL8_GSIZE, plen, e_new);
                else if (E_LEN(e) <= plen)
                        e_set(&t[j], e_new);
        }
}

/* Store e_repl over t[0 .. n) where the entry holds the route of length plen
 * (the deleted one: no other route of that length covers these addresses),
 * in the groups below EXT entries too. */
static void range_uncover(struct lpm6 *l, _Atomic uint32_t *t, uint32_t n, unsigned plen,
                          uint32_t e_repl)
{
        for (uint32_t j = 0; j < n; j++) {
                uint32_t e = e_get(&t[j]);

                if (MPNET_LPM6_E_IS_EXT(e))
                        range_uncover(l, tbl8_at(l, e), TBL8_GSIZE, plen, e_repl);
                else if ((e & MPNET_LPM6_E_VALID) != 0 && E_LEN(e) == plen)
                        e_set(&t[j], e_repl);
        }
}

/*
 * Link fresh groups g[d0 + 1 .. lv] below the plain entry *link (old) of level d0:
 * each holds the entry's old answer, the one of level lv also the new route
 * over [lo, lo + n), the others an EXT entry on the path to it. The groups
 * are unpublished, so plain stores; the release store of *link publishes the
 * whole chain.
 */
static void chain_publish(struct lpm6 *l, _Atomic uint32_t *link, uint32_t old, const uint32_t *g,
                          unsigned d0, unsigned lv, u128 key, uint32_t lo, uint32_t n,
                          uint32_t e_new)
{
        for (unsigned d = lv; d > d0; d--) {
                _Atomic uint32_t *t8 = tbl8_at(l, g[d]);

                for (uint32_t j = 0; j < TBL8_GSIZE; j++)
                        atomic_store_explicit(&t8[j], old, memory_order_relaxed);
                if (d == lv)
                        for (uint32_t j = lo; j < lo + n; j++)
                                atomic_store_explicit(&t8[j], e_new, memory_order_relaxed);
                else
                        atomic_store_explicit(&t8[idx_at(key, d)], g[d + 1], memory_order_relaxed);
        }
        e_set(link, g[d0 + 1]);
}

/* A route of length 25..128: fill its range in its level's group, making
 * the missing groups on the way. */
static int add_long(struct lpm6 *l, u128 key, unsigned plen, uint32_t nh)
{
        const unsigned lv = level_of(plen);
        const uint32_t lo = idx_at(key, lv), n = 1u << (24 + 8 * lv - plen);
        _Atomic uint32_t *t = t24_of(l), *link;
        uint32_t g[LEVELS + 1], e = 0;
        unsigned d = 0, d0;
        int rc;

        /* Down the EXT entries as far as they go: t is the level-d table.
         * tbl24 is read as readers read it: no read of a page never written. */
        for (; d < lv; d++) {
                e = d == 0 ? mpnet_tbl24_load(&l->pub.tbl24, idx_at(key, 0))
                           : e_get(&t[idx_at(key, d)]);
                if (!MPNET_LPM6_E_IS_EXT(e))
                        break;
                t = tbl8_at(l, e);
        }
        d0 = d;
        link = &t[idx_at(key, d0)];
        /* Everything that can fail comes before the first change. */
        if (d0 == 0 && (rc = prepare24(l, idx_at(key, 0), 1)) < 0)
                return rc;
        for (d = d0 + 1; d <= lv; d++) {
                rc = tbl8_pool_alloc(&l->g8, &g[d]);
                if (rc < 0)
                        goto unalloc;
        }
        rc = rib_insert(l->rib, l->rib_nonempty, key, plen, nh);
        if (rc < 0)
                goto unalloc;
        l->routes += rc == 0;
        if (d0 < lv) {
                chain_publish(l, link, e, g, d0, lv, key, lo, n, E_ROUTE(plen, nh));
                if (d0 == 0)
                        touch24(l, idx_at(key, 0), 1);
        } else {
                range_cover(l, t + lo, n, plen, E_ROUTE(plen, nh));
        }
        return 0;
unalloc:
        while (--d > d0)
                tbl8_pool_unalloc(&l->g8, g[d]);
        return rc;
}

int mpnet_lpm6_add(struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen, uint32_t nh)
{
        struct lpm6 *l = lpm6_of(lpm);
        u128 key;
        int rc;

        if (plen > 128 || nh > MPNET_LPM6_NH_MAX)
                return -EINVAL;
        key = key_of(prefix) & mask_of(plen);
        if (plen > 24)
                return add_long(l, key, plen, nh);
        if (plen > 0 && (rc = prepare24(l, idx_at(key, 0), 1u << (24 - plen))) < 0)
                return rc;
        rc = rib_insert(l->rib, l->rib_nonempty, key, plen, nh);
        if (rc < 0)
                return rc;
        l->routes += rc == 0;
        if (plen == 0) {
                atomic_store_explicit(&lpm->dflt, MPNET_LPM6_E_VALID | nh, memory_order_release);
        } else {
                uint32_t first = idx_at(key, 0), n = 1u << (24 - plen);

                range_cover(l, t24_of(l) + first, n, plen, E_ROUTE(plen, nh));
                touch24(l, first, n);
        }
        return 0;
}

/* A group of level d (its addresses start at bit 16 + 8d) that holds no EXT
 * entry and no route longer than that: all its entries then agree. */
static bool group_collapsible(struct lpm6 *l, uint32_t g, unsigned d)
{
        _Atomic uint32_t *t8 = tbl8_at(l, g);

        for (uint32_t j = 0; j < TBL8_GSIZE; j++) {
                uint32_t e = e_get(&t8[j]);

                if (MPNET_LPM6_E_IS_EXT(e) || E_LEN(e) > 16 + 8 * d)
                        return false;
        }
        return true;
}

/* A route of length 25..128: clear its range, then fold the groups on its
 * path that no longer hold a longer route back into their parents, deepest
 * first. */
static void delete_long(struct lpm6 *l, u128 key, unsigned plen, uint32_t e_repl)
{
        const unsigned lv = level_of(plen);
        const uint32_t lo = idx_at(key, lv), n = 1u << (24 + 8 * lv - plen);
        _Atomic uint32_t *path[LEVELS + 1]; /* the level-d table on the route's path */

        /* The route exists, so its path is all EXT down to its level. */
        path[0] = t24_of(l);
        for (unsigned d = 1; d <= lv; d++)
                path[d] = tbl8_at(l, e_get(&path[d - 1][idx_at(key, d - 1)]));
        range_uncover(l, path[lv] + lo, n, plen, e_repl);
        for (unsigned d = lv; d >= 1; d--) {
                _Atomic uint32_t *link = &path[d - 1][idx_at(key, d - 1)];
                uint32_t g = e_get(link);

                if (!group_collapsible(l, g, d))
                        break;
                e_set(link, e_get(&path[d][0]));
                tbl8_pool_retire(&l->g8, g);
        }
}

int mpnet_lpm6_delete(struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen)
{
        struct lpm6 *l = lpm6_of(lpm);
        uint32_t e_repl;
        u128 key;

        if (plen > 128)
                return -EINVAL;
        key = key_of(prefix) & mask_of(plen);
        if (rib_remove(l->rib, l->rib_nonempty, key, plen) != 0)
                return -ENOENT;
        l->routes--;
        if (plen == 0) {
                atomic_store_explicit(&lpm->dflt, 0, memory_order_release);
                return 0;
        }
        e_repl = rib_cover(l, key, plen);
        if (plen > 24)
                delete_long(l, key, plen, e_repl);
        else
                range_uncover(l, t24_of(l) + idx_at(key, 0), 1u << (24 - plen), plen, e_repl);
        return 0;
}

/* ---- queries --------------------------------------------------------------- */

int mpnet_lpm6_get(const struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen,
                   uint32_t *nh)
{
        const struct rib_slot *s;

        if (plen > 128)
                return -EINVAL;
        s = rib_lookup(&lpm6_of(lpm)->rib[plen], key_of(prefix) & mask_of(plen));
        if (s == NULL)
                return -ENOENT;
        *nh = s->val & MPNET_LPM6_NH_MAX;
        return 0;
}

struct walk_item {
        u128 key;
        uint32_t plen, nh;
};

static int walk_cmp(const void *a, const void *b)
{
        const struct walk_item *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return x->plen < y->plen ? -1 : x->plen > y->plen;
}

int mpnet_lpm6_walk(const struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen,
                    mpnet_lpm6_walk_fn fn, void *arg)
{
        const struct lpm6 *l = lpm6_of(lpm);
        struct walk_item *v;
        size_t n = 0, cap = 0;
        u128 key;
        int rc = 0;

        if (plen > 128)
                return -EINVAL;
        key = key_of(prefix) & mask_of(plen);
        for (unsigned len = plen; len <= 128; len++)
                cap += l->rib[len].n;
        if (cap == 0)
                return 0;
        v = malloc(cap * sizeof(*v));
        if (v == NULL)
                return -ENOMEM;
        /* A sorted snapshot: fn may change the table. */
        for (unsigned len = plen; len <= 128; len++) {
                const struct rib_len *t = &l->rib[len];

                for (uint32_t i = 0; i < t->cap; i++)
                        if ((t->slot[i].val & RIB_USED) != 0 &&
                            (t->slot[i].key & mask_of(plen)) == key)
                                v[n++] = (struct walk_item){t->slot[i].key, len,
                                                            t->slot[i].val & MPNET_LPM6_NH_MAX};
        }
        qsort(v, n, sizeof(*v), walk_cmp);
        for (size_t i = 0; i < n && rc == 0; i++) {
                uint8_t b[16];

                bytes_of(v[i].key, b);
                rc = fn(arg, b, v[i].plen, v[i].nh);
        }
        free(v);
        return rc;
}

void mpnet_lpm6_get_stats(const struct mpnet_lpm6 *lpm, struct mpnet_lpm6_stats *st)
{
        const struct lpm6 *l = lpm6_of(lpm);

        memset(st, 0, sizeof(*st));
        st->routes = l->routes;
        st->tbl8_used = l->g8.used;
        st->tbl8_deferred = atomic_load_explicit(&l->g8.deferred, memory_order_relaxed);
        st->tbl8_max = l->cfg.max_tbl8;
        st->tbl24_bytes = table_mem_bytes(&l->m24);
        st->tbl8_bytes = table_mem_bytes(&l->g8.m8); /* group 0 unused, in the first page */
        st->huge_regions = l->m24.regions_huge + l->g8.m8.regions_huge;
        st->huge_refused = l->m24.promote_failed + l->g8.m8.promote_failed;
        for (unsigned len = 0; len <= 128; len++)
                st->rib_bytes += (uint64_t)l->rib[len].cap * sizeof(struct rib_slot);
        st->mem_bytes = sizeof(*l) + st->tbl24_bytes + st->tbl8_bytes + st->rib_bytes +
                        table_mem_book_bytes(&l->m24) + tbl8_pool_side_bytes(&l->g8);
}

/* ---- lookup ---------------------------------------------------------------- */

static inline uint32_t idx24(const uint8_t *a)
{
        return (uint32_t)a[0] << 16 | (uint32_t)a[1] << 8 | a[2];
}

/* The tbl24 entry of a: dense, t24 indexed directly; else through the
 * directory (lpm_tbl24.h). */
static inline __attribute__((always_inline)) uint32_t
load24(const struct mpnet_lpm6 *lpm, _Atomic uint32_t *t24, bool dense, const uint8_t *a)
{
        if (dense)
                return atomic_load_explicit(&t24[idx24(a)], memory_order_acquire);
        return mpnet_tbl24_sparse_load(&lpm->tbl24, idx24(a));
}

/* Resolve addr[0 .. BULK_BLK) into nh[], level by level across the block,
 * so that their loads of one level are independent and overlap (16 in flight
 * took 1M-route lookups from about 290 to 200 cycles here; 8 overlap too
 * few group misses, 32 gained little more).
 * @return how many missed the tables. */
static inline __attribute__((always_inline)) unsigned
resolve_blk(const struct mpnet_lpm6 *lpm, _Atomic uint32_t *t24, bool dense, _Atomic uint32_t *t8,
            const uint8_t (*addr)[16], uint32_t *nh, uint32_t fallback)
{
        uint32_t e[BULK_BLK];
        unsigned misses = 0;
        bool ext = false;

#pragma GCC unroll 16
        for (unsigned k = 0; k < BULK_BLK; k++) {
                e[k] = load24(lpm, t24, dense, addr[k]);
                ext |= MPNET_LPM6_E_IS_EXT(e[k]);
        }
        for (unsigned i = 3; ext; i++) {
                ext = false;
#pragma GCC unroll 16
                for (unsigned k = 0; k < BULK_BLK; k++) {
                        if (MPNET_LPM6_E_IS_EXT(e[k])) {
                                e[k] = atomic_load_explicit(&t8[(size_t)e[k] << 8 | addr[k][i]],
                                                            memory_order_acquire);
                                ext |= MPNET_LPM6_E_IS_EXT(e[k]);
                        }
                }
        }
#pragma GCC unroll 16
        for (unsigned k = 0; k < BULK_BLK; k++) {
                bool hit = (e[k] & MPNET_LPM6_E_VALID) != 0;

                nh[k] = hit ? e[k] & MPNET_LPM6_E_NH : fallback;
                misses += !hit;
        }
        return misses;
}

/*
 * As lpm4: the tbl24 lines of the first BULK_PREFETCH addresses are
 * prefetched at once, then each block of BULK_BLK prefetches the block
 * BULK_PREFETCH further on before resolving itself. The group loads depend
 * on the entry above them, so they are not prefetched; resolve_blk overlaps
 * a block of them instead. A sparse table's tbl24 is mostly the shared
 * zeros, in cache: no prefetch there.
 * @return how many missed the tables.
 */
static inline __attribute__((always_inline)) unsigned
bulk_run(const struct mpnet_lpm6 *lpm, _Atomic uint32_t *t24, bool dense, const uint8_t (*addr)[16],
         uint32_t *nh, unsigned n, uint32_t fallback)
{
        _Atomic uint32_t *t8 = lpm->tbl8;
        unsigned misses = 0, i = 0;

        if (dense) {
                for (unsigned k = 0; k < BULK_PREFETCH && k < n; k++)
                        __builtin_prefetch((const void *)&t24[idx24(addr[k])]);
                for (; i + BULK_BLK + BULK_PREFETCH <= n; i += BULK_BLK) {
#pragma GCC unroll 16
                        for (unsigned k = 0; k < BULK_BLK; k++)
                                __builtin_prefetch(
                                    (const void *)&t24[idx24(addr[i + BULK_PREFETCH + k])]);
                        misses += resolve_blk(lpm, t24, dense, t8, &addr[i], &nh[i], fallback);
                }
        }
        for (; i + BULK_BLK <= n; i += BULK_BLK)
                misses += resolve_blk(lpm, t24, dense, t8, &addr[i], &nh[i], fallback);
        for (; i < n; i++) {
                uint32_t e = load24(lpm, t24, dense, addr[i]);
                bool hit;

                for (unsigned j = 3; MPNET_LPM6_E_IS_EXT(e); j++)
                        e = atomic_load_explicit(&t8[(size_t)e << 8 | addr[i][j]],
                                                 memory_order_acquire);
                hit = (e & MPNET_LPM6_E_VALID) != 0;
                nh[i] = hit ? e & MPNET_LPM6_E_NH : fallback;
                misses += !hit;
        }
        return misses;
}

unsigned mpnet_lpm6_lookup_bulk(const struct mpnet_lpm6 *lpm, const uint8_t (*addr)[16],
                                uint32_t *nh, unsigned n, uint32_t miss)
{
        _Atomic uint32_t *t24 = atomic_load_explicit(&lpm->tbl24.dense, memory_order_acquire);
        uint32_t d = atomic_load_explicit(&lpm->dflt, memory_order_acquire);
        uint32_t fallback = (d & MPNET_LPM6_E_VALID) != 0 ? d & MPNET_LPM6_E_NH : miss;
        unsigned misses = t24 != NULL ? bulk_run(lpm, t24, true, addr, nh, n, fallback)
                                      : bulk_run(lpm, NULL, false, addr, nh, n, fallback);

        /* With a /0 route, an entry that misses takes it. */
        return (d & MPNET_LPM6_E_VALID) != 0 ? 0 : misses;
}
