/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An interface of a stack: what every family uses (its link, state, MTU,
 * table, transmit lock, feature arcs), and pointers to its IPv4 and IPv6
 * parts and neighbour tables, whose types only the l3 code sees
 * (l3/ip_iface.h, l3/neigh_table.h): as BSD's if_afdata.
 *
 * Synchronisation: made, changed and freed by the control thread
 * (mpnet_iface_attach, detach and the configuration calls); every context
 * reads it on the packet path while it is attached. The fields that
 * workers read are atomic or published copies (RCU), as each says; the
 * rest is the control thread's. Life cycle: from mpnet_iface_attach to
 * mpnet_iface_detach.
 *
 * Layout: the order is the one the packet path was measured with
 * (docs/PERFORMANCE.md).
 */
#ifndef MPNET_STACK_IFACE_H
#define MPNET_STACK_IFACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mpnet/link.h"
#include "mpnet/timer.h"
#include "stack/graph.h"

struct mpnet_stack;
struct fib4_table;
struct ip4_ifdata;
struct ip6_ifdata;
struct neigh_table;
struct iface_rx;

#define IFACE_NEIGH_N 2 /* families with a neighbour table: NEIGH_N */

struct mpnet_iface {
        struct mpnet_stack *stack;
        struct mpnet_link *link;
        int ifindex;
        uint32_t gen; /* stack-unique, never 0: tells a reused ifindex's interfaces apart */
        _Atomic bool up;
        bool carrier;                /* the link's, as last seen by the control thread */
        uint64_t revive_at;          /* while down: when to try the link again */
        _Atomic unsigned n_assigned; /* (queue, worker) pairs of the runtime */
        _Atomic uint32_t table;      /* FIB table id */
        /* Its IPv4 table, what workers read: the table a worker loaded stays
         * valid until its next quiescent state (mpnet_table_del defers the
         * free), even if the interface moved and the table went meanwhile. */
        struct fib4_table *_Atomic fib4;
        /* Set once a context's transmit queue (its id) is past the link's
         * last: from then every context maps its id onto the link's queues
         * and holds that queue's lock while it sends (ctx_tx_flush). */
        _Atomic bool tx_shared;
        struct iface_txlock *txlock; /* [link n_txq], made when shared */
        /* Feature lists per arc (graph.h), NULL for none: what workers read
         * at each arc point, published with RCU. */
        struct feat_list *_Atomic arcs[ARC__COUNT];
        char name[MPNET_LINK_NAME_MAX];
        uint8_t mac[6];
        /* Set by the control thread (mpnet_iface_set_mtu) while workers
         * read it on the forwarding path. */
        _Atomic uint32_t mtu;
        /* Per-family data (BSD's if_afdata): made by the family's module
         * when the interface is attached, freed when it is detached
         * (graph.h's iface hooks); never NULL in between. Types in
         * l3/ip_iface.h. */
        struct ip4_ifdata *in4;
        struct ip6_ifdata *in6;
        /* The neighbour tables of ARP and ND ([NEIGH_ARP], [NEIGH_ND] of
         * l3/neigh_table.h), inside in4 and in6. */
        struct neigh_table *neigh[IFACE_NEIGH_N];
        /* Where the link steers flows and which context polls each
         * receive queue (stack/steer.h): made at attach, freed with it. */
        struct iface_rx *rx;
};

/* The features of arc a on ifp over a vector. @return how many go on. */
static inline unsigned arc_run(struct wctx *w, struct mpnet_iface *ifp, enum arc a,
                               struct mpnet_pkt **p, uint32_t *aux, unsigned n)
{
        const struct feat_list *fl = atomic_load_explicit(&ifp->arcs[a], memory_order_acquire);

        if (__builtin_expect(fl == NULL, 1))
                return n;
        return arc_run_list(w, ifp, fl, p, aux, n);
}

struct iface_txlock {
        atomic_flag busy;
} __attribute__((aligned(MPNET_CACHE_LINE)));

static inline const struct fib4_table *iface_fib4(const struct mpnet_iface *ifp)
{
        return atomic_load_explicit(&ifp->fib4, memory_order_acquire);
}

#endif
