/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file thread.h
 * Per-thread slot: the index that picks a thread's packet-pool cache and its
 * row of counters.
 *
 * Threads: the slot is thread-local; which slots are held is process-wide
 * (one atomic word), so no two threads ever hold the same slot, whichever
 * runtime or program made them. The worker runtime takes any free slot for
 * each worker; an application thread takes a given slot with
 * mpnet_thread_set_slot() or any free one with mpnet_thread_slot_acquire().
 * A slot goes back when its thread gives it up or exits. A thread without a
 * slot uses the shared, locked paths, which are correct from any thread but
 * slower.
 */
#ifndef MPNET_THREAD_H
#define MPNET_THREAD_H

#include "mpnet/export.h"

#define MPNET_MAX_SLOTS 64u
/** The slot of a thread that was never given one. */
#define MPNET_SLOT_NONE MPNET_MAX_SLOTS

/**
 * Give the calling thread a given slot (giving up the one it had), or give
 * its slot up.
 * @param slot below MPNET_MAX_SLOTS, or MPNET_SLOT_NONE to give it up.
 * @return 0, -EINVAL for a slot out of range, -EBUSY when another thread
 * holds it (the thread keeps the slot it had).
 */
MPNET_API int mpnet_thread_set_slot(unsigned slot);

/**
 * Give the calling thread a free slot, the lowest; a thread that holds one
 * keeps it.
 * @return the slot, or -EBUSY when all MPNET_MAX_SLOTS are held.
 */
MPNET_API int mpnet_thread_slot_acquire(void);

/** @return how many slots no thread holds (a snapshot). */
MPNET_API unsigned mpnet_thread_slots_free(void);

/* The slot itself; read through mpnet_thread_slot(). */
MPNET_API extern _Thread_local unsigned mpnet_thread_slot_;

/** @return the calling thread's slot, MPNET_SLOT_NONE when it has none. */
static inline unsigned mpnet_thread_slot(void)
{
        return mpnet_thread_slot_;
}

#endif
