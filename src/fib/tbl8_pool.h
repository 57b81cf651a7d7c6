/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The groups of 256 entries below an LPM's tbl24 (lpm4.c, lpm6.c): their
 * memory (a table_mem), handed out in order and then from a free list. A
 * group that leaves the table goes through the caller's defer_free and only
 * then back on the list, so a reader that loaded the entry above it still
 * reads a stable group. The deferred callback may run in any thread: it
 * pushes the group on the lock-free `returned` stack, which the writer takes
 * whole (one exchange, so no ABA). Everything else is the writer's.
 */
#ifndef MPNET_FIB_TBL8_POOL_H
#define MPNET_FIB_TBL8_POOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "fib/table_mem.h"

#define TBL8_GSIZE 256u

struct tbl8_pool;

/* A group's link on the free lists, and the argument of its deferred free. */
struct tbl8_rec {
        struct tbl8_pool *pool;
        uint32_t next;
};

struct tbl8_pool {
        struct table_mem m8, mrec; /* the groups, and their records */
        struct tbl8_rec *recs;     /* mrec.base */
        uint32_t free8;            /* the writer's free list */
        uint32_t fresh;            /* groups never used yet start here */
        uint32_t end;              /* one past the last group */
        uint32_t used;             /* linked into the table */
        _Atomic uint32_t returned; /* back from defer_free, for the writer */
        _Atomic uint32_t deferred; /* handed to defer_free, not back yet */
        void (*defer_free)(void *ctx, void (*fn)(void *), void *arg);
        void *defer_ctx;
};

/* Groups first .. end - 1 (a table that keeps group 0 out of use passes 1);
 * defer_free NULL: a retired group is free at once. @return 0 or -ENOMEM. */
int tbl8_pool_init(struct tbl8_pool *p, uint32_t first, uint32_t end, enum table_mem_pages pages,
                   void (*defer_free)(void *ctx, void (*fn)(void *), void *arg), void *defer_ctx);

/* Unmap it; say so on stderr (as who) if groups are still deferred. */
void tbl8_pool_fini(struct tbl8_pool *p, const char *who);

/* A group to fill and link. @return 0 or -ENOSPC. */
int tbl8_pool_alloc(struct tbl8_pool *p, uint32_t *g);

/* Give back a group no reader has seen. */
void tbl8_pool_unalloc(struct tbl8_pool *p, uint32_t g);

/* A group the table no longer points to: free after defer_free's callback. */
void tbl8_pool_retire(struct tbl8_pool *p, uint32_t g);

/* Heap and mapped bytes beside the groups themselves (records, bookkeeping). */
uint64_t tbl8_pool_side_bytes(const struct tbl8_pool *p);

static inline _Atomic uint32_t *tbl8_pool_group(const struct tbl8_pool *p, uint32_t g)
{
        return (_Atomic uint32_t *)p->m8.base + (size_t)g * TBL8_GSIZE;
}

#endif
