/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file counter.h
 * Per-thread counters: a block of n 64-bit counters with one row per thread
 * slot (see thread.h), so the packet path adds with a plain store to a cache
 * line no other thread writes. Reading sums the rows.
 *
 * Threads: a thread with a slot writes only its own row; threads without one
 * share a last row updated with atomic adds. Reads are safe from any thread
 * and see each row's value at some recent moment (not a snapshot of all).
 */
#ifndef MPNET_COUNTER_H
#define MPNET_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/thread.h"

struct mpnet_counters {
        unsigned n;      /* counters per row */
        unsigned stride; /* row length in counters, a multiple of a cache line */
        _Atomic uint64_t *rows;
};

/** @return a zeroed block of n counters, or NULL with errno set. */
MPNET_API struct mpnet_counters *mpnet_counters_create(unsigned n);
/** NULL is ignored. */
MPNET_API void mpnet_counters_destroy(struct mpnet_counters *c);
/** @return the sum of counter i over all rows (0 when i is out of range). */
MPNET_API uint64_t mpnet_counter_read(const struct mpnet_counters *c, unsigned i);
/** Zero every counter. Not atomic with respect to concurrent writers. */
MPNET_API void mpnet_counters_reset(struct mpnet_counters *c);

static inline void mpnet_counter_add(struct mpnet_counters *c, unsigned i, uint64_t v)
{
        unsigned slot = mpnet_thread_slot();
        _Atomic uint64_t *x = &c->rows[(uint64_t)slot * c->stride + i];

        if (slot == MPNET_SLOT_NONE) {
                atomic_fetch_add_explicit(x, v, memory_order_relaxed);
                return;
        }
        /* Single writer per row: a relaxed load and store, no locked add. */
        atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + v,
                              memory_order_relaxed);
}

static inline void mpnet_counter_inc(struct mpnet_counters *c, unsigned i)
{
        mpnet_counter_add(c, i, 1);
}

#endif
