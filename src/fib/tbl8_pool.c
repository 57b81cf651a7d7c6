/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tbl8 groups for lpm4 and lpm6 (tbl8_pool.h).
 */
#include "fib/tbl8_pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NIL UINT32_MAX

int tbl8_pool_init(struct tbl8_pool *p, uint32_t first, uint32_t end, enum table_mem_pages pages,
                   void (*defer_free)(void *ctx, void (*fn)(void *), void *arg), void *defer_ctx)
{
        memset(p, 0, sizeof(*p));
        p->free8 = NIL;
        p->fresh = first;
        p->end = end;
        p->defer_free = defer_free;
        p->defer_ctx = defer_ctx;
        atomic_init(&p->returned, NIL);
        atomic_init(&p->deferred, 0);
        if (table_mem_map(&p->m8, (size_t)end * TBL8_GSIZE * sizeof(uint32_t), pages) != 0 ||
            table_mem_map(&p->mrec, (size_t)end * sizeof(struct tbl8_rec), TABLE_MEM_SMALL) != 0) {
                tbl8_pool_fini(p, NULL);
                return -ENOMEM;
        }
        p->recs = p->mrec.base;
        return 0;
}

void tbl8_pool_fini(struct tbl8_pool *p, const char *who)
{
        uint32_t pending = atomic_load_explicit(&p->deferred, memory_order_acquire);

        if (pending != 0 && who != NULL)
                fprintf(stderr, "%s: destroyed with %u tbl8 groups still deferred\n", who, pending);
        table_mem_unmap(&p->m8);
        table_mem_unmap(&p->mrec);
        p->recs = NULL;
}

int tbl8_pool_alloc(struct tbl8_pool *p, uint32_t *g)
{
        if (p->free8 == NIL)
                p->free8 = atomic_exchange_explicit(&p->returned, NIL, memory_order_acquire);
        if (p->free8 != NIL) {
                *g = p->free8;
                p->free8 = p->recs[*g].next;
        } else if (p->fresh < p->end) {
                *g = p->fresh++;
                /* Groups are handed out in order: a fresh one is new memory. */
                table_mem_wrote(&p->m8, (size_t)*g * TBL8_GSIZE * sizeof(uint32_t),
                                TBL8_GSIZE * sizeof(uint32_t));
                table_mem_wrote(&p->mrec, (size_t)*g * sizeof(struct tbl8_rec),
                                sizeof(struct tbl8_rec));
        } else {
                return -ENOSPC;
        }
        p->used++;
        return 0;
}

void tbl8_pool_unalloc(struct tbl8_pool *p, uint32_t g)
{
        p->recs[g].next = p->free8;
        p->free8 = g;
        p->used--;
}

/* The deferred free: runs once no reader can hold the group, in any thread. */
static void reclaim(void *arg)
{
        struct tbl8_rec *r = arg;
        struct tbl8_pool *p = r->pool;
        uint32_t g = (uint32_t)(r - p->recs);
        uint32_t head = atomic_load_explicit(&p->returned, memory_order_relaxed);

        do
                r->next = head;
        while (!atomic_compare_exchange_weak_explicit(&p->returned, &head, g, memory_order_release,
                                                      memory_order_relaxed));
        atomic_fetch_sub_explicit(&p->deferred, 1, memory_order_relaxed);
}

void tbl8_pool_retire(struct tbl8_pool *p, uint32_t g)
{
        if (p->defer_free == NULL) {
                tbl8_pool_unalloc(p, g);
                return;
        }
        p->used--;
        p->recs[g].pool = p;
        atomic_fetch_add_explicit(&p->deferred, 1, memory_order_relaxed);
        p->defer_free(p->defer_ctx, reclaim, &p->recs[g]);
}

uint64_t tbl8_pool_side_bytes(const struct tbl8_pool *p)
{
        return table_mem_bytes(&p->mrec) + table_mem_book_bytes(&p->m8) +
               table_mem_book_bytes(&p->mrec);
}
