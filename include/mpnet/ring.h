/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ring.h
 * Bounded rings of pointers: single-producer/single-consumer (SPSC) and
 * multi-producer/single-consumer (MPSC), with burst enqueue and dequeue.
 *
 * Threads: an SPSC ring has one enqueuing thread and one dequeuing thread at
 * a time. An MPSC ring takes enqueues from any number of threads and has one
 * dequeuing thread. Enqueue publishes (release) what the pointers point to;
 * dequeue acquires it. Neither blocks nor allocates.
 */
#ifndef MPNET_RING_H
#define MPNET_RING_H

#include <stdatomic.h>
#include <stdint.h>

#include "mpnet/export.h"

#define MPNET_RING_SPSC 0u
#define MPNET_RING_MPSC 1u

struct mpnet_ring;

/**
 * Create a ring.
 * @param size slots; a power of two, at least 2.
 * @param flags MPNET_RING_SPSC or MPNET_RING_MPSC.
 * @return the ring, or NULL with errno EINVAL (bad size) or ENOMEM.
 */
MPNET_API struct mpnet_ring *mpnet_ring_create(uint32_t size, unsigned flags);
MPNET_API void mpnet_ring_destroy(struct mpnet_ring *r);

/** Enqueue up to n pointers. @return how many were enqueued (0..n). */
MPNET_API unsigned mpnet_ring_enqueue_burst(struct mpnet_ring *r, void *const *objs, unsigned n);

/** Dequeue up to n pointers. @return how many were dequeued (0..n). */
MPNET_API unsigned mpnet_ring_dequeue_burst(struct mpnet_ring *r, void **objs, unsigned n);

/** @return entries in the ring (a snapshot when other threads are active). */
MPNET_API unsigned mpnet_ring_count(const struct mpnet_ring *r);

/** @return the ring's capacity in entries. */
MPNET_API unsigned mpnet_ring_capacity(const struct mpnet_ring *r);

#endif
