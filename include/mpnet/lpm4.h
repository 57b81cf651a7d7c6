/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file lpm4.h
 * IPv4 longest-prefix match: the lookup structure of one FIB table.
 *
 * A table maps prefixes (address, length 0..32) to a next-hop index below
 * 2^24; the next-hop objects themselves belong to the caller. Lookups use
 * DIR-24-8: one 32-bit entry per /24 (tbl24, 2^24 entries) answers any
 * address whose longest match is /24 or shorter; a /24 holding a longer
 * prefix points to a group of 256 entries (tbl8), one per address. The /0
 * route is kept apart in one word, so a default route costs no table memory.
 * Beside it the table keeps a RIB (a hash table of the routes of each prefix
 * length) that answers exact queries, finds the route covering a deleted one
 * and feeds walks, which list routes in prefix order; readers never touch
 * the RIB.
 *
 * Addresses and prefixes are in host byte order (192.0.2.1 is 0xc0000201).
 *
 * Threads: mpnet_lpm4_lookup() and mpnet_lpm4_lookup_bulk() may run in any
 * number of threads, without locks, while one writer changes the table. Every
 * entry is one aligned 32-bit word written with a single atomic release store,
 * so a reader sees an address's old answer or its new one, never a mix; while
 * a route change is under way some addresses may already give the new answer
 * and others the old. A tbl8 group that a delete empties is handed to
 * cfg.defer_free and reused only after its callback ran, so a reader must
 * stay inside a read-side critical section (QSBR: between two quiescent
 * states) of the mechanism behind defer_free for as long as it uses the
 * table. Everything else (create, add, delete, get, walk, stats, destroy) is
 * the writer's: one thread at a time, serialised by the caller. Destroy only
 * when no reader can reach the table any more and every deferred callback has
 * run (liburcu: rcu_barrier()).
 *
 * Memory: tbl24 (64 MiB) and the tbl8 groups (1 KiB each, cfg.max_tbl8 of
 * them) are reserved address space (MAP_NORESERVE) that only becomes memory
 * where the writer stores: a route of length L <= 24 touches 4 * 2^(24 - L)
 * bytes of tbl24 (at least one 4 KiB page), a longer one a 1 KiB group and
 * one tbl24 page; the RIB takes 11 to 22 bytes per route (8-byte hash slots,
 * loaded 3/8 to 3/4); each 2 MiB region of tbl24 written adds a 4 KiB
 * directory page (below). An empty table, or one holding only a default
 * route, costs about 2 KiB. mpnet_lpm4_get_stats() reports what a table
 * costs.
 * Sparse and dense: a lookup never reads a page of tbl24 that was never
 * written (the kernel's zero page: on a shadow-paging VM a hypervisor fault
 * per address, and far slower still once more than about 1,000 addresses map
 * it; mpnet/lpm_tbl24.h). While less than half of tbl24 is resident, lookups
 * go through a directory (region, page, entry: two more loads, both cached)
 * whose unwritten pages are one shared page of zeros; at half, all 64 MiB
 * become resident (huge pages where the kernel gives them) and lookups index
 * tbl24 directly, one load as before.
 * Page size: by default the arrays start on 4 KiB pages and each 2 MiB
 * region of them that is half written moves to one transparent huge page
 * (the kernel collapses it, MADV_COLLAPSE, Linux 6.1: a few ms of the
 * writer's time, and a reader touching that region meanwhile waits in a
 * page fault about as long), so a sparse table stays small and a full one
 * misses the TLB less: random lookups over a full table cost about a
 * quarter less (docs/PERFORMANCE.md). A full table is promoted region by
 * region as it fills (48 times for a 1M-route table); where the kernel
 * refuses, the region stays on 4 KiB pages (stats: huge_refused). The flags
 * below fix one page size.
 * Reserved address space is 64 MiB + 1040 bytes * max_tbl8 per table, each
 * array rounded up to 2 MiB (130 MiB by default: 4096 tables take 520 GiB of
 * the 128 TiB a process has); it
 * needs vm.overcommit_memory 0 or 1, not 2.
 */
#ifndef MPNET_LPM4_H
#define MPNET_LPM4_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/lpm_tbl24.h"

/** The largest next-hop index. */
#define MPNET_LPM4_NH_MAX ((1u << 24) - 1)

/** The default for mpnet_lpm4_cfg.max_tbl8, and the largest accepted. */
#define MPNET_LPM4_TBL8_DEFAULT (1u << 16)
#define MPNET_LPM4_TBL8_MAX     (1u << 20)

/** cfg.flags: back the arrays with transparent huge pages (2 MiB) from the
 * start: every 2 MiB region written costs 2 MiB, so keep it for tables
 * known to be large. */
#define MPNET_LPM4_F_HUGEPAGE (1u << 0)
/** cfg.flags: 4 KiB pages only (MADV_NOHUGEPAGE), never a huge page, even
 * with THP set to "always"; no collapse pauses. Not with F_HUGEPAGE. */
#define MPNET_LPM4_F_SMALLPAGES (1u << 1)

/*
 * A table entry (tbl24 and tbl8). Public only for the inline lookup.
 *   bit 31     VALID: a route of length 1..32 covers the address
 *   bits 25-30 the length of that route (the writer's, for nested prefixes)
 *   bit 24     EXT (tbl24 only): bits 0-23 are a tbl8 group, VALID is clear
 *   bits 0-23  the next-hop index, or the tbl8 group
 * 0 means no route but the /0 one, which lives in mpnet_lpm4.dflt.
 */
#define MPNET_LPM4_E_VALID     (1u << 31)
#define MPNET_LPM4_E_EXT       (1u << 24)
#define MPNET_LPM4_E_NH        MPNET_LPM4_NH_MAX
#define MPNET_LPM4_E_LEN_SHIFT 25

struct mpnet_lpm4_cfg {
        /** tbl8 groups (one per /24 that holds a longer prefix); 0 for
         * MPNET_LPM4_TBL8_DEFAULT. An add that needs one more fails with
         * -ENOSPC. */
        uint32_t max_tbl8;
        /** MPNET_LPM4_F_*. */
        unsigned flags;
        /**
         * Called by the writer when a tbl8 group leaves the table: call
         * fn(arg) once no reader can still be reading the group (for liburcu,
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
struct mpnet_lpm4 {
        struct mpnet_tbl24 tbl24; /* indexed by address >> 8 (lpm_tbl24.h) */
        _Atomic uint32_t *tbl8;   /* group g is tbl8[g * 256 .. g * 256 + 255] */
        _Atomic uint32_t dflt;    /* the /0 route: MPNET_LPM4_E_VALID | nh, or 0 */
};

struct mpnet_lpm4_stats {
        uint64_t routes;        /* prefixes in the table, a /0 included */
        uint32_t tbl8_used;     /* groups in the lookup table */
        uint32_t tbl8_deferred; /* groups left the table, callback not run yet */
        uint32_t tbl8_max;      /* cfg.max_tbl8 */
        uint64_t tbl24_bytes;   /* tbl24 memory written so far (resident) */
        uint64_t tbl8_bytes;    /* tbl8 memory written so far (resident) */
        uint64_t rib_bytes;     /* the RIB's node array */
        uint64_t mem_bytes;     /* the table's whole resident cost */
        uint32_t huge_regions;  /* 2 MiB regions of tbl24 and tbl8 on huge pages */
        uint32_t huge_refused;  /* regions whose move failed: on 4 KiB pages */
};

/**
 * Create an empty table.
 * @param cfg NULL for the defaults.
 * @return the table, or NULL with errno EINVAL (max_tbl8 too large, unknown
 * flags, F_HUGEPAGE with F_SMALLPAGES) or ENOMEM.
 */
MPNET_API struct mpnet_lpm4 *mpnet_lpm4_create(const struct mpnet_lpm4_cfg *cfg);

/** Destroy a table (see Threads above); NULL is ignored. */
MPNET_API void mpnet_lpm4_destroy(struct mpnet_lpm4 *lpm);

/**
 * Add a route, or replace the next hop of the route already there.
 * @param prefix host bits beyond plen are ignored.
 * @param plen 0..32.
 * @param nh 0..MPNET_LPM4_NH_MAX.
 * @return 0; -EINVAL (plen or nh out of range); -ENOSPC (no free tbl8 group);
 * -ENOMEM (the RIB could not grow). On an error the table is as it was.
 */
MPNET_API int mpnet_lpm4_add(struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen, uint32_t nh);

/**
 * Delete a route; its addresses fall back to the longest shorter prefix that
 * covers them (or to no route).
 * @return 0; -EINVAL (plen out of range); -ENOENT (no such route).
 */
MPNET_API int mpnet_lpm4_delete(struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen);

/**
 * Exact-match query of the RIB (no longest match).
 * @return 0 with *nh set; -EINVAL; -ENOENT.
 */
MPNET_API int mpnet_lpm4_get(const struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen,
                             uint32_t *nh);

/** A walk callback; nonzero stops the walk, and the walk returns it. The walk
 * runs over a snapshot, so the callback may add and delete routes. */
typedef int (*mpnet_lpm4_walk_fn)(void *arg, uint32_t prefix, unsigned plen, uint32_t nh);

/**
 * Call fn for every route inside prefix/plen (0/0: all routes), in prefix
 * order: by address, then shorter before longer (10.0.0.0/8, 10.0.0.0/16,
 * 10.1.0.0/16).
 * The walk sorts a copy of the matching routes (16 bytes each, radix sort).
 * @return 0, what fn returned to stop it, -EINVAL (plen out of range) or
 * -ENOMEM (no memory for the copy).
 */
MPNET_API int mpnet_lpm4_walk(const struct mpnet_lpm4 *lpm, uint32_t prefix, unsigned plen,
                              mpnet_lpm4_walk_fn fn, void *arg);

MPNET_API void mpnet_lpm4_get_stats(const struct mpnet_lpm4 *lpm, struct mpnet_lpm4_stats *st);

/**
 * Longest-prefix match of one address.
 * @return 0 with *nh set, or -ENOENT (no route; *nh is undefined).
 */
static inline int mpnet_lpm4_lookup(const struct mpnet_lpm4 *lpm, uint32_t addr, uint32_t *nh)
{
        uint32_t e = mpnet_tbl24_load(&lpm->tbl24, addr >> 8);

        if (__builtin_expect((e & MPNET_LPM4_E_EXT) != 0, 0))
                e = atomic_load_explicit(
                    &lpm->tbl8[((size_t)(e & MPNET_LPM4_E_NH) << 8) | (addr & 0xff)],
                    memory_order_acquire);
        if (__builtin_expect((e & MPNET_LPM4_E_VALID) == 0, 0))
                e = atomic_load_explicit(&lpm->dflt, memory_order_acquire);
        *nh = e & MPNET_LPM4_E_NH;
        return (e & MPNET_LPM4_E_VALID) != 0 ? 0 : -ENOENT;
}

/**
 * Longest-prefix match of n addresses: one pass loads the entries, a second
 * turns them into next hops four at a time. nh may be addr itself (each
 * address is read before its result is written), not an overlap of it.
 * @param nh n results: the next hop, or miss where no route matches.
 * @return how many addresses missed.
 */
MPNET_API unsigned mpnet_lpm4_lookup_bulk(const struct mpnet_lpm4 *lpm, const uint32_t *addr,
                                          uint32_t *nh, unsigned n, uint32_t miss);

#endif
