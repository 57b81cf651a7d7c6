/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file lpm6.h
 * IPv6 longest-prefix match: the lookup structure of one IPv6 FIB table.
 *
 * A table maps prefixes (16 bytes in network order, length 0..128) to a
 * next-hop index below 2^24, as mpnet/lpm4.h does for IPv4. Lookups use a
 * DIR-24-8-8-... multibit trie, the layout of DPDK's rte_lpm6: one 32-bit
 * entry per /24 (tbl24, 2^24 entries), then groups of 256 entries (tbl8)
 * that each resolve one more byte of the address, up to 13 levels for a
 * /128. An address whose longest match is /24 or shorter costs one load, a
 * /48 four. The /0 route lives apart in one word. Beside the tables the
 * table keeps a RIB (a hash table of the routes of each prefix length) for
 * exact queries, for the route covering a deleted one and for walks;
 * readers never touch the RIB.
 *
 * Threads: mpnet_lpm6_lookup() and mpnet_lpm6_lookup_bulk() may run in any
 * number of threads, without locks, while one writer changes the table. Every
 * entry is one aligned 32-bit word written with a single atomic release store,
 * so a reader sees an address's old answer or its new one, never a mix. A
 * chain of groups that an add creates is filled before one store links its
 * top into the table. A group that a delete empties is unlinked, then handed
 * to cfg.defer_free and reused only after its callback ran, so a reader must
 * stay inside a read-side critical section (QSBR: between two quiescent
 * states) of the mechanism behind defer_free for as long as it uses the
 * table. Everything else (create, add, delete, get, walk, stats, destroy) is
 * the writer's: one thread at a time, serialised by the caller. Destroy only
 * when no reader can reach the table any more and every deferred callback has
 * run (liburcu: rcu_barrier()).
 *
 * Memory: tbl24 (64 MiB) and the groups (1 KiB each, cfg.max_tbl8 of them)
 * are reserved address space (MAP_NORESERVE) that only becomes memory where
 * the writer stores. A route of length L <= 24 touches 4 * 2^(24 - L) bytes of
 * tbl24 (at least one 4 KiB page); a longer one needs a group at each byte
 * boundary between /24 and L that no other route made yet: a /48 alone under
 * its /24 costs three groups, a /48 beside others of its /40 none. The RIB
 * takes 32 to 64 bytes per route (24-byte hash slots, loaded 3/8 to 3/4).
 * mpnet_lpm6_get_stats() reports what a table costs. It needs
 * vm.overcommit_memory 0 or 1, not 2. As lpm4 (lpm4.h, "Sparse and dense"),
 * a lookup never reads a tbl24 page never written: through a directory while
 * less than half of tbl24 is resident, directly once all of it is.
 */
#ifndef MPNET_LPM6_H
#define MPNET_LPM6_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/lpm_tbl24.h"

/** The largest next-hop index (as MPNET_LPM4_NH_MAX). */
#define MPNET_LPM6_NH_MAX ((1u << 24) - 1)

/** The default for mpnet_lpm6_cfg.max_tbl8, and the largest accepted. */
#define MPNET_LPM6_TBL8_DEFAULT (1u << 18)
#define MPNET_LPM6_TBL8_MAX     (1u << 24)

/** cfg.flags: the page size, as MPNET_LPM4_F_HUGEPAGE and
 * MPNET_LPM4_F_SMALLPAGES; by default 2 MiB regions that are half written
 * move to huge pages, as in lpm4.h. */
#define MPNET_LPM6_F_HUGEPAGE   (1u << 0)
#define MPNET_LPM6_F_SMALLPAGES (1u << 1)

/*
 * A table entry (tbl24 and tbl8). Public only for the inline lookup.
 *   VALID set:   a route of length 1..128 covers the address; bits 24-30 hold
 *                its length - 1 (the writer's, for nested prefixes), bits
 *                0-23 its next hop
 *   VALID clear: 0 means no route but the /0 one (mpnet_lpm6.dflt); any
 *                other value is a group index (EXT): the entry for the next
 *                address byte is tbl8[value * 256 + byte]
 * The length takes 7 bits instead of rte_lpm6's 8 and EXT needs no bit of its
 * own, so the next hop keeps lpm4's 24 bits in one 32-bit word.
 */
#define MPNET_LPM6_E_VALID     (1u << 31)
#define MPNET_LPM6_E_NH        MPNET_LPM6_NH_MAX
#define MPNET_LPM6_E_LEN_SHIFT 24
#define MPNET_LPM6_E_IS_EXT(e) ((uint32_t)(e)-1u < MPNET_LPM6_E_VALID - 1u)

struct mpnet_lpm6_cfg {
        /** tbl8 groups; 0 for MPNET_LPM6_TBL8_DEFAULT. An add that needs
         * more fails with -ENOSPC. */
        uint32_t max_tbl8;
        /** MPNET_LPM6_F_*. */
        unsigned flags;
        /**
         * Called by the writer when a group leaves the table: call fn(arg)
         * once no reader can still be reading the group (for liburcu,
         * call_rcu()). fn may run in any thread. NULL: fn runs at once, for a
         * table with no concurrent readers.
         */
        void (*defer_free)(void *ctx, void (*fn)(void *), void *arg);
        void *defer_ctx;
};

/**
 * One table. Only the read side is shown, so that lookups inline; treat the
 * fields as private.
 */
struct mpnet_lpm6 {
        struct mpnet_tbl24 tbl24; /* indexed by the address's first three bytes */
        _Atomic uint32_t *tbl8;   /* group g is tbl8[g * 256 .. g * 256 + 255]; g >= 1 */
        _Atomic uint32_t dflt;    /* the /0 route: MPNET_LPM6_E_VALID | nh, or 0 */
};

struct mpnet_lpm6_stats {
        uint64_t routes;        /* prefixes in the table, a /0 included */
        uint32_t tbl8_used;     /* groups in the lookup table */
        uint32_t tbl8_deferred; /* groups left the table, callback not run yet */
        uint32_t tbl8_max;      /* cfg.max_tbl8 */
        uint64_t tbl24_bytes;   /* tbl24 memory written so far (resident) */
        uint64_t tbl8_bytes;    /* group memory written so far (resident) */
        uint64_t rib_bytes;     /* the RIB's slot arrays */
        uint64_t mem_bytes;     /* the table's whole resident cost */
        uint32_t huge_regions;  /* 2 MiB regions of tbl24 and groups on huge pages */
        uint32_t huge_refused;  /* regions whose move failed: on 4 KiB pages */
};

/**
 * Create an empty table.
 * @param cfg NULL for the defaults.
 * @return the table, or NULL with errno EINVAL (max_tbl8 too large, unknown
 * flags, F_HUGEPAGE with F_SMALLPAGES) or ENOMEM.
 */
MPNET_API struct mpnet_lpm6 *mpnet_lpm6_create(const struct mpnet_lpm6_cfg *cfg);

/** Destroy a table (see Threads above); NULL is ignored. */
MPNET_API void mpnet_lpm6_destroy(struct mpnet_lpm6 *lpm);

/**
 * Add a route, or replace the next hop of the route already there.
 * @param prefix 16 bytes, network order; bits beyond plen are ignored.
 * @param plen 0..128.
 * @param nh 0..MPNET_LPM6_NH_MAX.
 * @return 0; -EINVAL (plen or nh out of range); -ENOSPC (not enough free
 * groups); -ENOMEM (the RIB could not grow). On an error the table is as it
 * was.
 */
MPNET_API int mpnet_lpm6_add(struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen,
                             uint32_t nh);

/**
 * Delete a route; its addresses fall back to the longest shorter prefix that
 * covers them (or to no route).
 * @return 0; -EINVAL (plen out of range); -ENOENT (no such route).
 */
MPNET_API int mpnet_lpm6_delete(struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen);

/**
 * Exact-match query of the RIB (no longest match).
 * @return 0 with *nh set; -EINVAL; -ENOENT.
 */
MPNET_API int mpnet_lpm6_get(const struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen,
                             uint32_t *nh);

/** A walk callback; nonzero stops the walk, and the walk returns it. The walk
 * runs over a snapshot, so the callback may add and delete routes. */
typedef int (*mpnet_lpm6_walk_fn)(void *arg, const uint8_t prefix[16], unsigned plen, uint32_t nh);

/**
 * Call fn for every route inside prefix/plen (::/0: all routes), in prefix
 * order: by address, then shorter before longer (2001:db8::/32,
 * 2001:db8::/48, 2001:db8:1::/48).
 * The walk sorts a copy of the matching routes (32 bytes each).
 * @return 0, what fn returned to stop it, -EINVAL (plen out of range) or
 * -ENOMEM (no memory for the copy).
 */
MPNET_API int mpnet_lpm6_walk(const struct mpnet_lpm6 *lpm, const uint8_t prefix[16], unsigned plen,
                              mpnet_lpm6_walk_fn fn, void *arg);

MPNET_API void mpnet_lpm6_get_stats(const struct mpnet_lpm6 *lpm, struct mpnet_lpm6_stats *st);

/**
 * Longest-prefix match of one address (16 bytes, network order).
 * @return 0 with *nh set, or -ENOENT (no route; *nh is undefined).
 */
static inline int mpnet_lpm6_lookup(const struct mpnet_lpm6 *lpm, const uint8_t addr[16],
                                    uint32_t *nh)
{
        uint32_t e = mpnet_tbl24_load(&lpm->tbl24,
                                      (uint32_t)addr[0] << 16 | (uint32_t)addr[1] << 8 | addr[2]);

        /* A level-13 group (the last address byte) holds no EXT entry. */
        for (unsigned i = 3; MPNET_LPM6_E_IS_EXT(e); i++)
                e = atomic_load_explicit(&lpm->tbl8[(size_t)e << 8 | addr[i]],
                                         memory_order_acquire);
        if (__builtin_expect((e & MPNET_LPM6_E_VALID) == 0, 0))
                e = atomic_load_explicit(&lpm->dflt, memory_order_acquire);
        *nh = e & MPNET_LPM6_E_NH;
        return (e & MPNET_LPM6_E_VALID) != 0 ? 0 : -ENOENT;
}

/**
 * Longest-prefix match of n addresses, 16 at a time, level by level, with
 * prefetch.
 * @param addr n addresses, 16 bytes each, network order.
 * @param nh n results: the next hop, or miss where no route matches.
 * @return how many addresses missed.
 */
MPNET_API unsigned mpnet_lpm6_lookup_bulk(const struct mpnet_lpm6 *lpm, const uint8_t (*addr)[16],
                                          uint32_t *nh, unsigned n, uint32_t miss);

#endif
