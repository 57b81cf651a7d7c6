/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the ip4-rewrite and ip6-rewrite nodes do alike (ip4_forward.c,
 * ip6_forward.c): the vector loop over the routed packets with their
 * next-hop objects prefetched, and the way out of the chosen interface
 * (up, then its output arc). What differs by family (TTL and checksum or
 * hop limit, fragmentation or packet too big, scope, redirects) stays in
 * each node's forward_one.
 *
 * Everything here is always inlined into the family's node with constant
 * arguments, so each family's node compiles to what it would be written
 * out by hand (measured: docs/PERFORMANCE.md).
 *
 * Synchronisation: runs on any context (a worker or the control thread);
 * next-hop objects and feature lists are read under RCU.
 */
#ifndef MPNET_L3_FORWARD_H
#define MPNET_L3_FORWARD_H

#include "fib/fib_priv.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define FWD_INLINE static inline __attribute__((always_inline))

/* Forward one packet by its next-hop object: @return 1 when it went on,
 * 0 when it was consumed (dropped, made an error). */
typedef unsigned (*fwd_one_fn)(struct wctx *w, struct mpnet_iface *in, struct mpnet_pkt *p,
                               const void *nh);

/* The packet leaves by out: out must be up, then out's output arc (arc)
 * may keep it. @return false when it was consumed (down: counted by
 * down_ctr). A feature may replace the packet: then *p and *b (its
 * network header) change. */
FWD_INLINE bool fwd_leave(struct wctx *w, struct mpnet_iface *out, struct mpnet_pkt **p,
                          uint8_t **b, enum arc arc, unsigned down_ctr)
{
        if (__builtin_expect(!atomic_load_explicit(&out->up, memory_order_relaxed), 0)) {
                mpnet_counter_inc(w->s->ctr, down_ctr);
                mpnet_pkt_free(*p);
                return false;
        }
        if (__builtin_expect(atomic_load_explicit(&out->arcs[arc], memory_order_relaxed) != NULL,
                             0)) {
                if (arc_run(w, out, arc, p, NULL, 1) == 0)
                        return false;
                *b = (*p)->data;
        }
        return true;
}

/* The rewrite node's vector: the forwarding arc (arc) of the receiving
 * interface, then one() for each packet with the next-hop object of its
 * index (from nt), four at a time with the next four objects prefetched;
 * what went on is counted by fwd_ctr once a vector. */
FWD_INLINE void fwd_vector(struct wctx *w, struct mpnet_iface *ifp, unsigned self, enum arc arc,
                           struct nh_table *nt, fwd_one_fn one, unsigned fwd_ctr)
{
        struct frame *in = &w->fr[self];
        unsigned n = arc_run(w, ifp, arc, in->p, in->aux, in->n), i = 0, fwd = 0;

        for (; i + 8 <= n; i += 4) {
                for (unsigned j = 4; j < 8; j++)
                        __builtin_prefetch(nh_table_get(nt, in->aux[i + j]));
                for (unsigned j = 0; j < 4; j++)
                        fwd += one(w, ifp, in->p[i + j], nh_table_get(nt, in->aux[i + j]));
        }
        for (; i < n; i++)
                fwd += one(w, ifp, in->p[i], nh_table_get(nt, in->aux[i]));
        mpnet_counter_add(w->s->ctr, fwd_ctr, fwd);
        in->n = 0;
}

#endif
