/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet input and output (IEEE 802.3 / RFC 894 framing).
 *
 * ether_input (the ether-input node) takes a received vector, drops what is
 * not for this interface and hands the rest to the nodes that registered
 * their ethertypes (graph.h). ether_output prepends the
 * header and queues the frame on the interface's transmit vector, which the
 * poll loop hands to the link in one burst.
 *
 * Synchronisation: ether-input runs on every context that reads links (the
 * control thread, workers); ether_output_w on any context.
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "l2/ether.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define ETHER_DROP UINT32_MAX

/* Which of the ethertypes the modules took a received frame carries (its
 * slot in the graph's table), or ETHER_DROP. */
static inline uint32_t ether_classify(struct mpnet_stack *s, struct mpnet_iface *ifp,
                                      struct mpnet_pkt *p, bool fresh)
{
        const struct graph *g = &s->g;
        const uint8_t *dst;
        uint32_t d4, m4;
        uint16_t d2, m2, type;

        /* A frame longer than one buffer (jumbo) is a chain: the headers
         * the nodes read must be in its first buffer, which each checks. */
        if (__builtin_expect(p->len < MPNET_ETH_HLEN, 0)) {
                STK_INC(s, eth_truncated);
                return ETHER_DROP;
        }
        dst = p->data;
        /* Fresh from a link: no re-entry yet, whatever a wire carried. */
        p->ol_flags &= fresh ? ~(MPNET_PKT_F_L2_BCAST | PKT_REENTRY_MASK) : ~MPNET_PKT_F_L2_BCAST;
        /* Our MAC? Two loads and compares instead of memcmp(). */
        memcpy(&d4, dst, 4);
        memcpy(&d2, dst + 4, 2);
        memcpy(&m4, ifp->mac, 4);
        memcpy(&m2, ifp->mac + 4, 2);
        if (__builtin_expect((d4 ^ m4) | (uint32_t)(d2 ^ m2), 0)) {
                /* Broadcast, or a group the interface joined (IPv6 at
                 * 33:33, IPv4 at 01:00:5e). */
                if (!mpnet_eth_is_broadcast(dst) &&
                    !(dst[0] == 0x01 ? iface_mc4_mac_ok(ifp, dst) : iface_mc_mac_ok(ifp, dst))) {
                        STK_INC(s, eth_not_for_us);
                        return ETHER_DROP;
                }
                p->ol_flags |= MPNET_PKT_F_L2_BCAST;
        }
        type = mpnet_get_be16(dst + 12);
        /* Our own frames looped back, but for IPv6 to a group: duplicate
         * address detection must see its own probe to tell a looped link
         * from a duplicate (RFC 7527). */
        if (__builtin_expect(memcmp(dst + 6, ifp->mac, 6) == 0, 0) &&
            !(mpnet_eth_is_multicast(dst) && type == MPNET_ETHERTYPE_IPV6)) {
                STK_INC(s, eth_own_src);
                return ETHER_DROP;
        }
        /* A handful of types: a scan, IPv4 first (modules.c's order). */
        for (unsigned k = 0; k < g->n_eth; k++) {
                if (g->eth_type[k] == type)
                        return k;
        }
        STK_INC(s, eth_unknown_type);
        return ETHER_DROP;
}

void ether_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **pkts, unsigned n,
                 bool fresh)
{
        struct mpnet_stack *s = w->s;
        const struct graph *g = &s->g;
        struct frame *to_frame[GRAPH_MAX_ETHERTYPES];

        /* The frames of the ethertypes' nodes, once a vector. */
        for (unsigned k = 0; k < g->n_eth; k++)
                to_frame[k] = &w->fr[g->eth_node[k]];
        n = arc_run(w, ifp, ARC_ETHER_IN, pkts, NULL, n);
        for (unsigned i = 0; i < n; i++) {
                struct mpnet_pkt *p = pkts[i];
                uint32_t to;

                if (i + 2 < n)
                        __builtin_prefetch(pkts[i + 2]->data);
                p->ifindex = (uint32_t)ifp->ifindex;
                to = ether_classify(s, ifp, p, fresh);
                if (__builtin_expect(to == ETHER_DROP, 0)) {
                        mpnet_pkt_free(p);
                } else {
                        struct frame *f = to_frame[to];

                        mpnet_pkt_adj(p, MPNET_ETH_HLEN);
                        f->p[f->n++] = p;
                }
        }
}

/* The ether-input node on what re-entered the graph at Ethernet. */
void ether_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        unsigned n = in->n;

        in->n = 0;
        ether_input(w, ifp, in->p, n, false);
}

/* A link with fewer transmit queues than contexts: each context sends on
 * the queue its id maps to, one at a time (VPP locks shared queues too). */
static uint16_t tx_shared(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_vec *v)
{
        uint16_t q = (uint16_t)(w->txq % ifp->link->info.n_txq), sent;
        atomic_flag *busy = &ifp->txlock[q].busy;

        while (atomic_flag_test_and_set_explicit(busy, memory_order_acquire))
                __builtin_ia32_pause();
        sent = mpnet_link_tx_burst(ifp->link, q, v->p, (uint16_t)v->n);
        atomic_flag_clear_explicit(busy, memory_order_release);
        return sent;
}

void ctx_tx_flush(struct wctx *w, struct mpnet_iface *ifp)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_vec *v = w->txv[ifp->ifindex];
        uint16_t sent;

        if (v == NULL || v->n == 0)
                return;
        if (__builtin_expect(atomic_load_explicit(&ifp->tx_shared, memory_order_acquire), 0))
                sent = tx_shared(w, ifp, v);
        else
                sent = mpnet_link_tx_burst(ifp->link, w->txq, v->p, (uint16_t)v->n);
        STK_ADD(s, tx_frames, sent);
        if (sent < v->n) {
                STK_ADD(s, tx_link_full, v->n - sent);
                mpnet_pkt_free_bulk(&v->p[sent], v->n - sent);
        }
        v->n = 0;
}

bool ctx_tx_ol(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        uint32_t off = ifp->link->info.offloads;

        if ((p->ol_flags & MPNET_PKT_F_TSO) && !(off & MPNET_LINK_OFF_TSO)) {
                STK_INC(w->s, tx_tso_nolink);
                mpnet_pkt_free(p);
                return false;
        }
        if ((p->ol_flags & MPNET_PKT_F_L4_CSUM_TX) && !(off & MPNET_LINK_OFF_TX_CSUM))
                pkt_l4_csum_fill(p);
        return true;
}

void pkt_l4_csum_fill(struct mpnet_pkt *p)
{
        const uint8_t *l3 = mpnet_pkt_buf(p) + p->l3_off;
        uint8_t *l4 = mpnet_pkt_buf(p) + p->l4_off;
        uint8_t proto = (l3[0] >> 4) == 4 ? l3[9] : l3[6];
        uint32_t done = 0, n = p->pkt_len - (uint32_t)(l4 - p->data);
        uint64_t sum = 0;
        uint16_t c;

        p->ol_flags &= ~MPNET_PKT_F_L4_CSUM_TX;
        if (p->next == NULL) {
                c = mpnet_csum(l4, n);
                goto put;
        }
        /* From the L4 header to the end of the chain, the field's
         * pseudo-header sum included; a segment that starts at an odd
         * offset is byte-swapped (RFC 1071 2(B)). */
        for (const struct mpnet_pkt *q = p; q != NULL && done < n; q = q->next) {
                const uint8_t *b = q == p ? l4 : q->data;
                uint32_t k = (uint32_t)(q->data + q->len - b);
                uint16_t part;

                k = n - done < k ? n - done : k;
                part = (uint16_t)~mpnet_csum_fold(mpnet_csum_add(0, b, k));
                sum += done % 2 == 0 ? part : (uint16_t)(part >> 8 | part << 8);
                done += k;
        }
        c = mpnet_csum_fold(sum);
put:
        if (proto == MPNET_IPPROTO_UDP && c == 0)
                c = 0xffff; /* RFC 768 */
        mpnet_put_be16(l4 + (proto == MPNET_IPPROTO_TCP ? 16 : 6), c);
}

/* ctx_tx() when the vector is missing or full. */
void ctx_tx_slow(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        struct mpnet_vec *v = w->txv[ifp->ifindex];

        if (__builtin_expect(v == NULL, 0)) {
                v = calloc(1, sizeof(*v));
                if (v == NULL) {
                        STK_INC(w->s, nobufs);
                        mpnet_pkt_free(p);
                        return;
                }
                w->txv[ifp->ifindex] = v;
                w->txv_made |= 1ull << (ifp->ifindex - 1);
        }
        p->ifindex = (uint32_t)ifp->ifindex;
        if (mpnet_vec_full(v))
                ctx_tx_flush(w, ifp);
        mpnet_vec_push(v, p);
}

int ether_output_w(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *dst,
                   uint16_t ethertype)
{
        struct mpnet_eth_repr eth;
        uint8_t *h;

        if (!atomic_load_explicit(&ifp->up, memory_order_relaxed)) {
                /* ARP counts as IPv4's. */
                if (ethertype == MPNET_ETHERTYPE_IPV6)
                        STK_INC(ifp->stack, ip6_iface_down);
                else
                        STK_INC(ifp->stack, ip4_iface_down);
                mpnet_pkt_free(p);
                return -ENETDOWN;
        }
        h = mpnet_pkt_prepend(p, MPNET_ETH_HLEN);
        if (h == NULL) {
                mpnet_pkt_free(p);
                return -ENOBUFS;
        }
        memcpy(eth.dst, dst, 6);
        memcpy(eth.src, ifp->mac, 6);
        eth.ethertype = ethertype;
        mpnet_eth_repr_emit(&eth, h);
        ctx_tx(w, ifp, p);
        return 0;
}

int ether_output(struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *dst,
                 uint16_t ethertype)
{
        return ether_output_w(ifp->stack->ctx[0], ifp, p, dst, ethertype);
}

static const struct node_reg ether_nodes[] = {
    /* Its next nodes are the ethertypes' (graph.c). */
    {.name = "ether-input", .fn = ether_input_node, .core_id = NODE_ether_input},
    /* Accounting only: every context's transmit flush (ctx_tx_flush_all). */
    {.name = "interface-tx", .core_id = NODE_iface_tx},
};

const struct mpnet_module mod_ether = {
    .name = "ether",
    .nodes = ether_nodes,
    .n_nodes = 2,
};
