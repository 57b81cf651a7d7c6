/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An interface of a stack: what every family uses (its link, state, MTU,
 * table, transmit lock, feature arcs), then its IPv4 and IPv6 parts
 * (types in l3/ip_iface.h) and its neighbour tables (l3/neigh_table.h).
 *
 * Synchronisation: made, changed and freed by the control thread
 * (mpnet_iface_attach, detach and the configuration calls); every context
 * reads it on the packet path while it is attached. The fields that
 * workers read are atomic or published copies (RCU), as each says; the
 * rest is the control thread's. Life cycle: from mpnet_iface_attach to
 * mpnet_iface_detach.
 *
 * Layout: the order is the one the packet path was measured with
 * (docs/PERFORMANCE.md); the neighbour tables start on lines of their own.
 */
#ifndef MPNET_STACK_IFACE_H
#define MPNET_STACK_IFACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "l3/ip_iface.h"
#include "l3/neigh_table.h"
#include "mpnet/link.h"
#include "mpnet/timer.h"
#include "stack/graph.h"

struct mpnet_stack;
struct fib4_table;

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
        /* ---- IPv4 (l3/ip_iface.h, stack.c) ---- */
        unsigned n_addrs; /* the control thread's; others read addr4 */
        struct ifaddr4 addrs[IFACE_MAX_ADDRS];
        struct addr4_snap *_Atomic addr4;
        struct mpnet_timer announce_timer;
        /* ---- IPv6 (l3/ip_iface.h, l3/nd6*.c, l3/mld6.c) ---- */
        bool ip6_on;
        _Atomic uint32_t mtu6; /* link MTU for IPv6 (an RA may lower it) */
        unsigned n_addrs6;     /* addrs6 and mc6: the control thread's; others read addr6 */
        struct ifaddr6 addrs6[IFACE_MAX_ADDRS];
        unsigned n_mc6;
        struct mc6_group mc6[IFACE_MAX_MC];
        struct addr6_snap *_Atomic addr6;
        /* The groups' MACs (33:33:...) in bits 0-47 of each, 0 when free:
         * what ether-input reads on workers. */
        _Atomic uint64_t mc_mac[IFACE_MAX_MC];
        struct mpnet_timer nd_timer; /* DAD, lifetimes, RS, RA, MLD */
        uint64_t nd_reachable_base, nd_reachable_ns, nd_retrans_ns;
        uint8_t cur_hop_limit;
        unsigned rs_left;
        uint64_t rs_next, mld_next, mld_query_at;
        uint8_t mld_query_group[16]; /* :: for a general query */
        /* The default router list (RFC 4861 6.3.4): one ::/0 route with a
         * path per router, chosen by flow hash. */
        unsigned n_dr;
        struct {
                uint8_t addr[16];
                uint64_t until;
        } dr[IFACE_MAX_DR];
        unsigned n_rdnss;
        uint8_t rdnss[MPNET_RA_MAX_RDNSS][16];
        uint64_t rdnss_until;
        struct ra_state *ra; /* advertising (router mode), else NULL */
        /* On-link prefixes learnt from advertisements (RFC 4861 6.3.4). */
        unsigned n_onlink;
        struct onlink6 {
                uint8_t prefix[16];
                uint8_t plen;
                uint64_t until;
        } onlink[IFACE_MAX_ONLINK];
        /* Redirects (RFC 4861 8): the switches, and the destinations this
         * host was redirected for, each a /128 route until it expires. */
        bool redirect_accept;
        _Atomic bool redirect_send;  /* IPv6 */
        _Atomic bool redirect4_send; /* IPv4 (RFC 1812 5.2.7.2) */
        unsigned n_redir;
        struct redirect6 {
                uint8_t dst[16];
                uint64_t until;
        } redir[IFACE_MAX_REDIR];
        struct neigh_table neigh[NEIGH_N]; /* ARP, ND */
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
