/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Single-writer statistics: one thread adds, any thread reads a snapshot.
 * Relaxed atomic load and store (no locked instruction) keep the writer's cost
 * at a plain add while readers never see a torn value.
 */
#ifndef MPNET_BASE_STAT_H
#define MPNET_BASE_STAT_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t mpnet_stat_t;

static inline void mpnet_stat_add(mpnet_stat_t *s, uint64_t v)
{
        atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + v,
                              memory_order_relaxed);
}

/* One writer, a reader that needs what the writer did before: the release
 * store publishes it, still without a locked instruction. */
static inline void mpnet_stat_inc_release(mpnet_stat_t *s)
{
        atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + 1,
                              memory_order_release);
}

/* Several writers (rare events only: a locked add). */
static inline void mpnet_stat_add_shared(mpnet_stat_t *s, uint64_t v)
{
        atomic_fetch_add_explicit(s, v, memory_order_relaxed);
}

static inline uint64_t mpnet_stat_read(const mpnet_stat_t *s)
{
        return atomic_load_explicit((mpnet_stat_t *)s, memory_order_relaxed);
}

#endif
