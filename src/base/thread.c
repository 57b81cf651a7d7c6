/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Thread slots: which threads own which row of the per-slot caches and
 * counters (pkt.h, counter.h).
 *
 * Synchronisation: one process-wide 64-bit word says which slots are held;
 * a slot is claimed with an atomic OR (or a CAS when any free one will do)
 * and given back with an atomic AND. The word is the one piece of
 * process-wide state mpnet keeps: slots index rows of every pool and
 * counter set in the process, so two holders of one slot, in any two
 * runtimes or programs linked together, would race on those rows.
 *
 * Life cycle: a slot is held until its thread gives it up or exits (a
 * thread-specific key's destructor gives it back).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mpnet/thread.h"

_Static_assert(MPNET_MAX_SLOTS == 64, "one 64-bit word of held slots");

_Thread_local unsigned mpnet_thread_slot_ = MPNET_SLOT_NONE;

static _Atomic uint64_t slots_held;
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

static void slot_put(unsigned slot)
{
        atomic_fetch_and_explicit(&slots_held, ~(1ull << slot), memory_order_release);
}

/* At thread exit (the key's value is slot + 1, never NULL while held). */
static void slot_exit(void *v)
{
        slot_put((unsigned)(uintptr_t)v - 1);
}

static void slot_key_make(void)
{
        (void)pthread_key_create(&slot_key, slot_exit);
}

static void slot_set(unsigned slot)
{
        unsigned old = mpnet_thread_slot_;

        pthread_once(&slot_once, slot_key_make);
        mpnet_thread_slot_ = slot;
        (void)pthread_setspecific(slot_key,
                                  slot == MPNET_SLOT_NONE ? NULL : (void *)(uintptr_t)(slot + 1));
        if (old != MPNET_SLOT_NONE)
                slot_put(old);
}

int mpnet_thread_set_slot(unsigned slot)
{
        if (slot > MPNET_SLOT_NONE)
                return -EINVAL;
        if (slot == mpnet_thread_slot_)
                return 0;
        if (slot != MPNET_SLOT_NONE &&
            (atomic_fetch_or_explicit(&slots_held, 1ull << slot, memory_order_acquire) &
             (1ull << slot)) != 0)
                return -EBUSY;
        slot_set(slot);
        return 0;
}

int mpnet_thread_slot_acquire(void)
{
        uint64_t held = atomic_load_explicit(&slots_held, memory_order_relaxed);

        if (mpnet_thread_slot_ != MPNET_SLOT_NONE)
                return (int)mpnet_thread_slot_;
        for (;;) {
                unsigned slot;

                if (held == UINT64_MAX)
                        return -EBUSY;
                slot = (unsigned)__builtin_ctzll(~held);
                if (atomic_compare_exchange_weak_explicit(&slots_held, &held, held | (1ull << slot),
                                                          memory_order_acquire,
                                                          memory_order_relaxed)) {
                        slot_set(slot);
                        return (int)slot;
                }
        }
}

unsigned mpnet_thread_slots_free(void)
{
        return (unsigned)__builtin_popcountll(
            ~atomic_load_explicit(&slots_held, memory_order_relaxed));
}
