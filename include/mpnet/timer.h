/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file timer.h
 * A hierarchical timer wheel: four levels of 64 slots over a fixed tick, so
 * arming and cancelling are O(1) and a run touches only the slots it passes.
 *
 * A timer never fires before its expiry: expiries round up to the next tick.
 * mpnet_timer_wheel_next() may answer early (a cascade point before the
 * earliest timer) but never late, and always later than the last run unless a
 * timer is already due, so a caller that sleeps until it and then runs the
 * wheel always makes progress.
 *
 * Threads: a wheel and its timers belong to one thread (the one that polls the
 * stack); nothing is locked. Callbacks may arm and cancel any timer, including
 * their own.
 */
#ifndef MPNET_TIMER_H
#define MPNET_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/export.h"

struct mpnet_timer;
struct mpnet_timer_wheel;

typedef void (*mpnet_timer_fn)(struct mpnet_timer *t, void *arg, uint64_t now);

/** A timer, embedded in its owner. Fields are private. */
struct mpnet_timer {
        struct mpnet_timer *next;
        struct mpnet_timer **pprev; /* NULL when not pending */
        uint64_t expire_tick;
        mpnet_timer_fn fn;
        void *arg;
};

/**
 * @param tick_ns resolution (for example 1 ms).
 * @param now_ns the current time; the wheel never runs backwards from it.
 * @return a wheel, or NULL with errno set.
 */
MPNET_API struct mpnet_timer_wheel *mpnet_timer_wheel_create(uint64_t tick_ns, uint64_t now_ns);
/** Free a wheel; pending timers are forgotten, not called. NULL is ignored. */
MPNET_API void mpnet_timer_wheel_destroy(struct mpnet_timer_wheel *w);
/**
 * Fire every timer whose (rounded) expiry is at or before now_ns, in expiry
 * order tick by tick.
 * @return the number of timers fired.
 */
MPNET_API unsigned mpnet_timer_wheel_run(struct mpnet_timer_wheel *w, uint64_t now_ns);
/** @return a time at or before the earliest pending expiry (rounded up to a
 * tick) at which to run the wheel next, or MPNET_TIME_NEVER. O(levels). */
MPNET_API uint64_t mpnet_timer_wheel_next(const struct mpnet_timer_wheel *w);
/**
 * Forget every pending timer (each is then not pending; no callback runs) and
 * set the wheel's time to now_ns, earlier than its last run or later: the
 * wheel is as mpnet_timer_wheel_create(tick, now_ns) made it, without a new
 * allocation (a stack reset per fuzz input). O(occupied slots + timers).
 */
MPNET_API void mpnet_timer_wheel_clear(struct mpnet_timer_wheel *w, uint64_t now_ns);
/** @return the number of pending timers. */
MPNET_API unsigned mpnet_timer_wheel_count(const struct mpnet_timer_wheel *w);

/** Prepare a timer; it is not pending. */
MPNET_API void mpnet_timer_init(struct mpnet_timer *t, mpnet_timer_fn fn, void *arg);
/** Arm (or re-arm) t to fire at expire_ns; a time in the past fires on the next run. */
MPNET_API void mpnet_timer_arm(struct mpnet_timer_wheel *w, struct mpnet_timer *t,
                               uint64_t expire_ns);
/** Disarm t if pending. */
MPNET_API void mpnet_timer_cancel(struct mpnet_timer_wheel *w, struct mpnet_timer *t);

static inline bool mpnet_timer_pending(const struct mpnet_timer *t)
{
        return t->pprev != 0;
}

#endif
