/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which context receives a flow: the link's RSS (its key and indirection
 * table, mpnet_link_rss()) names the receive queue, the runtime's
 * assignments name the context that polls that queue. The socket layer asks
 * it to home a connected socket on the worker its return traffic reaches,
 * and the port picker (l4/port.h) to choose ephemeral ports that land there.
 *
 * Per interface (struct iface_rx, made at attach, freed with the
 * interface): the link's table (live, read with mpnet_rss_queue()), the
 * per-byte hash tables of its key (immutable), and for each receive queue
 * the context that polls it, one atomic byte each, written by the control
 * thread on every assignment and unassignment (stack_rxq_ctx()) with a
 * release store. Readers take no lock: any thread that may read the
 * interface (a context, the control thread, or any thread while the
 * interface cannot be detached) calls stack_rx_ctx() and stack_rx_steer().
 * A reader racing an assignment sees the queue's old context or its new
 * one, as a NIC's table change is seen by packets in flight.
 */
#ifndef MPNET_STACK_STEER_H
#define MPNET_STACK_STEER_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/rss.h"

struct mpnet_stack;
struct mpnet_iface;

#define RXQ_CTX_NONE 0xff /* iface_rx.q_ctx: no worker polls the queue */

struct iface_rx {
        const struct mpnet_reta *reta; /* the link's; NULL: it has no RSS to tell */
        struct mpnet_rss *rss;         /* the link's key's tables, with reta */
        uint16_t n_rxq;
        _Atomic uint8_t q_ctx[]; /* [n_rxq]: the context polling it, RXQ_CTX_NONE */
};

/* A flow as it is received on an interface: s is the far end. Addresses
 * are 16 bytes, IPv4 as v4-mapped (::ffff:a.b.c.d), as in l4/pcb.h; ports
 * in host order, hashed for TCP and UDP only (as a NIC hashes, rss.h). */
struct rx_tuple {
        uint8_t fam;   /* 4 or 6 */
        uint8_t proto; /* IP protocol number */
        uint16_t sport, dport;
        uint8_t saddr[16], daddr[16];
};

/* Control thread, attach and free of an interface: its iface_rx.
 * @return 0 or -ENOMEM. */
int iface_rx_make(struct mpnet_iface *ifp);
void iface_rx_free(struct mpnet_iface *ifp);

/* Control thread (the runtime): receive queue rxq of ifindex is polled by
 * context ctx from now on (< 0: by none). */
void stack_rxq_ctx(struct mpnet_stack *s, int ifindex, uint16_t rxq, int ctx);

/* The RSS hash of t with rss's key, as the link computes it for a frame of
 * the flow (mpnet_rss_hash_eth()). */
uint32_t rx_tuple_hash(const struct mpnet_rss *rss, const struct rx_tuple *t);

/*
 * The context that receives a frame of t on ifindex: 0 when no worker
 * polls the stack (the control thread reads every queue), else the context
 * whose worker polls the queue the link's RSS picks (queue 0 of a link
 * with one).
 * @return the context id; -ENODEV (no such interface); -ENOENT: unknown
 * (the link cannot tell where it steers, or no worker polls the queue):
 * fall back to stack_flow_owner().
 */
int stack_rx_ctx(const struct mpnet_stack *s, int ifindex, const struct rx_tuple *t);

/* What ports steering needs for one (interface, context): the hash tables
 * and which indirection entries lead to a queue the context polls. */
struct rx_steer {
        const struct mpnet_rss *rss; /* NULL: every hash lands there (no workers) */
        uint32_t reta_mask;
        uint64_t hit[MPNET_RETA_MAX / 64];
};

/*
 * Fill st for the flows ifindex receives that should reach context ctx
 * (through its first 256 receive queues). A snapshot: a table or assignment changed later is not
 * seen.
 * @return 0; -ENODEV; -ENOENT (unknown, as stack_rx_ctx()); -ESRCH (ctx
 * polls no queue the table leads to: no flow can reach it there).
 */
int stack_rx_steer(const struct mpnet_stack *s, int ifindex, unsigned ctx, struct rx_steer *st);

/* Whether a frame of hash h reaches st's context. */
static inline bool rx_steer_hit(const struct rx_steer *st, uint32_t h)
{
        uint32_t i = h & st->reta_mask;

        return st->rss == NULL || ((st->hit[i >> 6] >> (i & 63)) & 1) != 0;
}

#endif
