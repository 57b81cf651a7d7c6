/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file thread.h
 * Per-thread slot: the index that picks a thread's packet-pool cache and its
 * row of counters.
 *
 * Threads: the slot is thread-local. The application (or the worker runtime)
 * gives each packet-path thread a distinct slot below MPNET_MAX_SLOTS; mpnet
 * keeps no process-wide registry. A thread without a slot uses the shared,
 * locked paths, which are correct from any thread but slower.
 */
#ifndef MPNET_THREAD_H
#define MPNET_THREAD_H

#include "mpnet/export.h"

#define MPNET_MAX_SLOTS 64u
/** The slot of a thread that was never given one. */
#define MPNET_SLOT_NONE MPNET_MAX_SLOTS

/**
 * Give the calling thread a slot. Two threads must never hold the same slot at
 * the same time.
 * @param slot below MPNET_MAX_SLOTS, or MPNET_SLOT_NONE to give it up.
 * @return 0, or -EINVAL for a slot out of range.
 */
MPNET_API int mpnet_thread_set_slot(unsigned slot);

/* The slot itself; read through mpnet_thread_slot(). */
MPNET_API extern _Thread_local unsigned mpnet_thread_slot_;

/** @return the calling thread's slot, MPNET_SLOT_NONE when it has none. */
static inline unsigned mpnet_thread_slot(void)
{
        return mpnet_thread_slot_;
}

#endif
