/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet (l2/ether.c): the ether-input node, Ethernet output, and each
 * context's transmit vectors (one per interface, flushed to the context's
 * own queue of the link, under the queue's lock when the link has fewer
 * queues than contexts: stack/iface.h).
 *
 * Synchronisation: any context but where a comment says the control
 * thread's; a context's transmit vectors are its own.
 */
#ifndef MPNET_L2_ETHER_H
#define MPNET_L2_ETHER_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* l2/ether.c: the ether-input node; ether_input runs it on a vector,
 * fresh from a link (its re-entries not yet counted) or not. */
void ether_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **pkts, unsigned n,
                 bool fresh);
void ether_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* Prepend the header and queue on w's transmit vector (any context);
 * ether_output on the control thread's. */
int ether_output_w(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *dst,
                   uint16_t ethertype);
int ether_output(struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *dst,
                 uint16_t ethertype);
void ctx_tx_flush(struct wctx *w, struct mpnet_iface *ifp);
void ctx_tx_slow(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);
/* The L4 checksum p left to the link (MPNET_PKT_F_L4_CSUM_TX: the field
 * at l4_off holds the pseudo-header sum, l3_off is IPv4's or IPv6's
 * header), done in software; the flag is cleared. Any context. */
void pkt_l4_csum_fill(struct mpnet_pkt *p);
/* The offloads p asks of ifp's link (a checksum, a TCP super-segment):
 * a checksum the link does not offer is done in software; a
 * super-segment it does not take is dropped and counted (TCP builds them
 * only while every interface's link takes them: one attached since is the
 * only way here). @return false: p was freed. */
bool ctx_tx_ol(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);

/* Queue a finished frame on w's transmit vector for ifp. A checksum left
 * to a link that does not offer it is done here (as Linux's
 * skb_checksum_help before a device without the feature). */
static inline void ctx_tx(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        struct mpnet_vec *v = w->txv[ifp->ifindex];
        uint32_t ol = p->ol_flags & (MPNET_PKT_F_L4_CSUM_TX | MPNET_PKT_F_TSO);

        /* A checksum or a super-segment left to a link that does not take
         * it (ctx_tx_ol). */
        if (__builtin_expect(ol != 0, 0)) {
                uint32_t need = ((ol & MPNET_PKT_F_L4_CSUM_TX) ? MPNET_LINK_OFF_TX_CSUM : 0) |
                                ((ol & MPNET_PKT_F_TSO) ? MPNET_LINK_OFF_TSO : 0);

                if ((ifp->link->info.offloads & need) != need && !ctx_tx_ol(w, ifp, p))
                        return;
        }

        if (__builtin_expect(v == NULL || v->n == MPNET_VEC_MAX, 0)) {
                ctx_tx_slow(w, ifp, p);
                return;
        }
        p->ifindex = (uint32_t)ifp->ifindex;
        v->p[v->n++] = p;
}

#endif
