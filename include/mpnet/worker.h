/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file worker.h
 * The multi-core runtime: N worker threads, each polling the (interface,
 * receive queue) pairs assigned to it, across any number of stacks, and
 * running each received vector to completion through the stack's graph.
 *
 * A worker forwards on its own: it reads the FIB and the neighbour table
 * without locks (RCU, QSBR flavour: it reports a quiescent state once per
 * loop) and transmits on its own queue of every link (worker w sends on
 * queue w + 1; queue 0 is the control thread's). A link with fewer transmit
 * queues than that is shared: worker w sends on queue (w + 1) mod n_txq
 * under a per-queue spin lock, taken only on such links. It delivers IPv4
 * to the stack and sends ICMP errors itself; what it cannot do alone -
 * ARP, IPv6 delivery, neighbour resolution, fragmentation on output - it
 * hands to the stack's control thread, which keeps
 * calling mpnet_stack_poll() (it no longer reads the links itself). No lock
 * and no barrier stops a worker.
 *
 * Threads: create, assign, unassign, start, stop and destroy from one
 * control thread. Assignments may change while the workers run: a worker
 * picks up its new set on its next loop, and the old set is freed after a
 * grace period.
 */
#ifndef MPNET_WORKER_H
#define MPNET_WORKER_H

#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/stack.h"

#define MPNET_MAX_WORKERS 63 /* each takes a free thread slot (thread.h) */

struct mpnet_runtime;

struct mpnet_runtime_cfg {
        unsigned n_workers; /* 1..MPNET_MAX_WORKERS */
        const int *cpus;    /* n_workers CPU numbers to pin to, or NULL */
        /* A worker that found nothing busy-polls this long (0: 200 us), then
         * sleeps until a frame arrives on one of its queues (the link's
         * rx_wait_arm: an eventfd for memory wires, the socket for TAP and
         * AF_PACKET), or at most wait_max_ns (0: 100 ms); an idle runtime
         * costs ~0 % CPU.
         * Where a link cannot wake it, it naps instead, in steps that double
         * from 1 us up to max_sleep_ns (0: 1 ms), the bound on its wake-up
         * latency there. */
        uint64_t busy_poll_ns;
        uint64_t max_sleep_ns;
        uint64_t wait_max_ns;
};

/** @return a runtime (workers not started), or NULL with errno EINVAL/ENOMEM. */
MPNET_API struct mpnet_runtime *mpnet_runtime_create(const struct mpnet_runtime_cfg *cfg);

/**
 * Give receive queue rxq of an interface to worker w (0-based).
 * @return 0, -EINVAL (bad worker or queue), -ENODEV,
 * -EEXIST (the pair is assigned already), -ENOMEM.
 */
MPNET_API int mpnet_runtime_assign(struct mpnet_runtime *rt, unsigned w, struct mpnet_stack *s,
                                   int ifindex, uint16_t rxq);

/** Take a pair back from whichever worker has it. @return 0 or -ENOENT. */
MPNET_API int mpnet_runtime_unassign(struct mpnet_runtime *rt, struct mpnet_stack *s, int ifindex,
                                     uint16_t rxq);

/** Start the worker threads. @return 0, -EALREADY, or a pthread error. */
MPNET_API int mpnet_runtime_start(struct mpnet_runtime *rt);

/** Stop and join the workers; what they held is transmitted or freed. */
MPNET_API void mpnet_runtime_stop(struct mpnet_runtime *rt);

/** Stop, unassign everything, free. NULL is ignored. */
MPNET_API void mpnet_runtime_destroy(struct mpnet_runtime *rt);

struct mpnet_worker_stats {
        uint64_t loops;  /* poll loops */
        uint64_t busy;   /* loops that received something */
        uint64_t pkts;   /* packets received */
        uint64_t sleeps; /* times it slept for want of work */
        uint64_t cpu_ns; /* CPU time the thread used (as of its last loop) */
        unsigned slot;   /* its thread slot (thread.h); MPNET_SLOT_NONE: none,
                            or not started */
};

/** @return 0, or -EINVAL for a bad worker. */
MPNET_API int mpnet_runtime_worker_stats(struct mpnet_runtime *rt, unsigned w,
                                         struct mpnet_worker_stats *st);

#endif
