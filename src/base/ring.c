/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rings of pointers.
 *
 * Synchronisation: head (producer) and tail (consumer) indices run freely and
 * are masked on use. SPSC: the producer writes slots then publishes head with
 * a release store; the consumer reads head with acquire, reads slots, then
 * publishes tail with release. MPSC: producers reserve slots by CAS on
 * prod_head, write them, then wait for earlier reservations to commit before
 * moving head (the DPDK scheme), so the consumer never sees an unwritten slot.
 * Each side caches the other side's index to keep the shared line cold.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "base/zalloc.h"
#include "mpnet/pkt.h"
#include "mpnet/ring.h"

struct mpnet_ring {
        /* producer side */
        _Atomic uint32_t prod_head __attribute__((aligned(MPNET_CACHE_LINE)));
        _Atomic uint32_t head;
        uint32_t cons_cache;
        /* consumer side */
        _Atomic uint32_t tail __attribute__((aligned(MPNET_CACHE_LINE)));
        uint32_t prod_cache;
        /* read-only after create */
        uint32_t mask __attribute__((aligned(MPNET_CACHE_LINE)));
        unsigned flags;
        void *_Atomic slots[];
};

struct mpnet_ring *mpnet_ring_create(uint32_t size, unsigned flags)
{
        struct mpnet_ring *r;

        if (size < 2 || (size & (size - 1)) != 0 || flags > MPNET_RING_MPSC) {
                errno = EINVAL;
                return NULL;
        }
        /* Zeroed pages, written only as slots are used: a 4096-slot ring
         * that never holds more than a few costs a page, not 32 KiB. The
         * slots need no initial value (a slot is read only after a producer
         * wrote it); all-zero bits are a valid value of every field. */
        r = zalloc_lines(sizeof(*r) + (size_t)size * sizeof(void *));
        if (r == NULL) {
                errno = ENOMEM;
                return NULL;
        }
        r->mask = size - 1;
        r->flags = flags;
        return r;
}

void mpnet_ring_destroy(struct mpnet_ring *r)
{
        zfree_lines(r);
}

static unsigned enqueue_spsc(struct mpnet_ring *r, void *const *objs, unsigned n)
{
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        uint32_t room = r->mask + 1 - (h - r->cons_cache);

        if (room < n) {
                r->cons_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
                room = r->mask + 1 - (h - r->cons_cache);
                if (room < n)
                        n = room;
        }
        for (unsigned i = 0; i < n; i++)
                atomic_store_explicit(&r->slots[(h + i) & r->mask], objs[i], memory_order_relaxed);
        atomic_store_explicit(&r->head, h + n, memory_order_release);
        return n;
}

static unsigned enqueue_mpsc(struct mpnet_ring *r, void *const *objs, unsigned n)
{
        uint32_t h = atomic_load_explicit(&r->prod_head, memory_order_relaxed), room;

        do {
                uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

                room = r->mask + 1 - (h - t);
                if (room < n)
                        n = room;
                if (n == 0)
                        return 0;
        } while (!atomic_compare_exchange_weak_explicit(
            &r->prod_head, &h, h + n, memory_order_relaxed, memory_order_relaxed));
        for (unsigned i = 0; i < n; i++)
                atomic_store_explicit(&r->slots[(h + i) & r->mask], objs[i], memory_order_relaxed);
        /* Commit in reservation order. Acquire: what earlier producers wrote
         * before their commit is then released again by ours. */
        for (unsigned spins = 0; atomic_load_explicit(&r->head, memory_order_acquire) != h;) {
                /* An earlier producer preempted between its reservation and
                 * its commit keeps us here for its time off the CPU: after
                 * a short spin give the CPU away (on an oversubscribed
                 * machine the spinner would burn its whole time slice). */
                if (++spins < 256)
                        __builtin_ia32_pause();
                else
                        sched_yield();
        }
        atomic_store_explicit(&r->head, h + n, memory_order_release);
        return n;
}

unsigned mpnet_ring_enqueue_burst(struct mpnet_ring *r, void *const *objs, unsigned n)
{
        return r->flags == MPNET_RING_MPSC ? enqueue_mpsc(r, objs, n) : enqueue_spsc(r, objs, n);
}

unsigned mpnet_ring_dequeue_burst(struct mpnet_ring *r, void **objs, unsigned n)
{
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint32_t avail = r->prod_cache - t;

        if (avail < n) {
                r->prod_cache = atomic_load_explicit(&r->head, memory_order_acquire);
                avail = r->prod_cache - t;
                if (avail < n)
                        n = avail;
        }
        for (unsigned i = 0; i < n; i++)
                objs[i] = atomic_load_explicit(&r->slots[(t + i) & r->mask], memory_order_relaxed);
        atomic_store_explicit(&r->tail, t + n, memory_order_release);
        return n;
}

unsigned mpnet_ring_count(const struct mpnet_ring *r)
{
        /* Tail first: it only chases head, so h - t cannot go negative. A
         * reader racing both may still see more than fits: clamp. */
        uint32_t t = atomic_load_explicit(&((struct mpnet_ring *)r)->tail, memory_order_acquire);
        uint32_t h = atomic_load_explicit(&((struct mpnet_ring *)r)->head, memory_order_acquire);

        return h - t <= r->mask + 1 ? h - t : r->mask + 1;
}

unsigned mpnet_ring_capacity(const struct mpnet_ring *r)
{
        return r->mask + 1;
}
