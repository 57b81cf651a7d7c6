/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The next-hop objects of one address family (fib4.c, fib6.c): a directory
 * of chunks of atomic pointers that a route's LPM entry indexes. Objects are
 * immutable: a change publishes a new one (release store) and retires the
 * old one after a grace period, when its index is recycled. Control thread
 * only, but for the lock-free reads of fib_nh_get() / fib6_nh_get().
 */
#include <errno.h>
#include <stdlib.h>

#include "fib/fib_priv.h"
#include "stack/stack_priv.h"

int nh_table_alloc(struct nh_table *t, uint32_t max, uint32_t *idx)
{
        uint32_t i;

        if (t->free_n > 0) {
                *idx = t->free[--t->free_n];
                return 0;
        }
        i = t->next;
        if (i > max)
                return -ENOSPC;
        if (t->dir[i / FIB_NH_CHUNK] == NULL) {
                t->dir[i / FIB_NH_CHUNK] = calloc(FIB_NH_CHUNK, sizeof(*t->dir[0]));
                if (t->dir[i / FIB_NH_CHUNK] == NULL)
                        return -ENOMEM;
        }
        t->next++;
        *idx = i;
        return 0;
}

void nh_table_release(struct nh_table *t, uint32_t idx)
{
        if (t->free_n == t->free_cap) {
                uint32_t cap = t->free_cap ? t->free_cap * 2 : 1024;
                uint32_t *n = realloc(t->free, cap * sizeof(*n));

                if (n == NULL)
                        return; /* the index leaks; nothing breaks */
                t->free = n;
                t->free_cap = cap;
        }
        t->free[t->free_n++] = idx;
}

void nh_table_publish(struct nh_table *t, uint32_t idx, void *nh)
{
        atomic_store_explicit(&t->dir[idx / FIB_NH_CHUNK][idx % FIB_NH_CHUNK], nh,
                              memory_order_release);
}

struct nh_retire {
        struct nh_table *t;
        uint32_t idx;
        void *nh;
};

/* After the grace period: no packet can hold the old object any more. */
static void nh_retire_cb(void *arg)
{
        struct nh_retire *r = arg;

        if (atomic_load_explicit(&r->t->dir[r->idx / FIB_NH_CHUNK][r->idx % FIB_NH_CHUNK],
                                 memory_order_relaxed) == r->nh)
                nh_table_publish(r->t, r->idx, NULL);
        free(r->nh);
        nh_table_release(r->t, r->idx);
        free(r);
}

void nh_table_retire(struct mpnet_stack *s, struct nh_table *t, uint32_t idx, void *old)
{
        struct nh_retire *r = malloc(sizeof(*r));

        if (r == NULL)
                return; /* leak rather than free under a reader */
        *r = (struct nh_retire){.t = t, .idx = idx, .nh = old};
        stack_defer(s, nh_retire_cb, r);
}

void nh_table_fini(struct nh_table *t)
{
        /* Chunks and slots at or past t->next were never handed out. */
        for (uint32_t i = 0; i < (t->next + FIB_NH_CHUNK - 1) / FIB_NH_CHUNK; i++) {
                uint32_t n = t->next - i * FIB_NH_CHUNK;

                if (t->dir[i] == NULL)
                        continue;
                /* Live objects only: retired ones were freed and unpublished. */
                for (uint32_t j = 0; j < n && j < FIB_NH_CHUNK; j++)
                        free(atomic_load_explicit(&t->dir[i][j], memory_order_relaxed));
                free(t->dir[i]);
        }
        free(t->free);
}
