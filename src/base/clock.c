/* SPDX-License-Identifier: BSD-2-Clause */
#include <time.h>

#include "mpnet/clock.h"

uint64_t mpnet_monotonic_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * MPNET_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void mpnet_clock_init_monotonic(struct mpnet_clock *c)
{
        c->kind = MPNET_CLOCK_MONOTONIC;
        atomic_init(&c->vnow, 0);
}

void mpnet_clock_init_virtual(struct mpnet_clock *c, uint64_t start_ns)
{
        c->kind = MPNET_CLOCK_VIRTUAL;
        atomic_init(&c->vnow, start_ns);
}

uint64_t mpnet_clock_now(const struct mpnet_clock *c)
{
        if (c->kind == MPNET_CLOCK_VIRTUAL)
                return atomic_load_explicit(&((struct mpnet_clock *)c)->vnow, memory_order_acquire);
        return mpnet_monotonic_ns();
}

void mpnet_clock_advance(struct mpnet_clock *c, uint64_t ns)
{
        uint64_t old;

        if (c->kind != MPNET_CLOCK_VIRTUAL)
                return;
        /* Saturate: advancing by MPNET_TIME_NEVER must not wrap to the past. */
        old = atomic_load_explicit(&c->vnow, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&c->vnow, &old,
                                                      old + ns < old ? UINT64_MAX : old + ns,
                                                      memory_order_acq_rel, memory_order_relaxed))
                ;
}

void mpnet_clock_set(struct mpnet_clock *c, uint64_t ns)
{
        uint64_t cur;

        if (c->kind != MPNET_CLOCK_VIRTUAL)
                return;
        cur = atomic_load_explicit(&c->vnow, memory_order_acquire);
        while (ns > cur && !atomic_compare_exchange_weak_explicit(
                               &c->vnow, &cur, ns, memory_order_acq_rel, memory_order_acquire))
                ;
}
