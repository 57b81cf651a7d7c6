/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file clock.h
 * Time source for a stack: the monotonic clock, or a virtual clock that only
 * moves when a test advances it, which makes a simulated run deterministic.
 *
 * Threads: reading is safe from any thread; mpnet_clock_advance() and
 * mpnet_clock_set() from one thread at a time.
 */
#ifndef MPNET_CLOCK_H
#define MPNET_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "mpnet/export.h"

#define MPNET_NS_PER_US 1000ull
#define MPNET_NS_PER_MS 1000000ull
#define MPNET_NS_PER_S  1000000000ull
/** "No deadline" as returned by poll and timer functions. */
#define MPNET_TIME_NEVER UINT64_MAX

enum mpnet_clock_kind { MPNET_CLOCK_MONOTONIC, MPNET_CLOCK_VIRTUAL };

struct mpnet_clock {
        enum mpnet_clock_kind kind;
        _Atomic uint64_t vnow; /* virtual time, ns */
};

/** Initialise a clock reading CLOCK_MONOTONIC. */
MPNET_API void mpnet_clock_init_monotonic(struct mpnet_clock *c);
/** Initialise a virtual clock at start_ns. */
MPNET_API void mpnet_clock_init_virtual(struct mpnet_clock *c, uint64_t start_ns);
/** @return the time in ns. */
MPNET_API uint64_t mpnet_clock_now(const struct mpnet_clock *c);
/** Move a virtual clock forward by ns (ignored by a monotonic clock). */
MPNET_API void mpnet_clock_advance(struct mpnet_clock *c, uint64_t ns);
/** Set a virtual clock to ns if that is later than now. */
MPNET_API void mpnet_clock_set(struct mpnet_clock *c, uint64_t ns);

/** @return CLOCK_MONOTONIC in ns. */
MPNET_API uint64_t mpnet_monotonic_ns(void);

#endif
