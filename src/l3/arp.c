/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ARP (RFC 826) with the address conflict rules of RFC 5227: a resolver
 * on the neighbour cache (l3/neigh.c), which holds the entries, their
 * states (RFC 4861 7.3.2, as Linux uses them for ARP), timers and hold
 * queues. Here: what a request looks like, and what a received request
 * or reply teaches the cache.
 *
 * Synchronisation: ARP input runs on the control thread (workers punt
 * it). Life cycle: see l3/neigh.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/arp.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "l3/neigh.h"
#include "l2/ether.h"
#include "l3/ip4.h"
#include "l3/ip_iface.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

static const uint8_t eth_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t eth_zero[6];

/* The source address for ARP about target: ours on the same subnet. */
static uint32_t arp_source(struct mpnet_iface *ifp, uint32_t target)
{
        const struct ifaddr4 *a = iface_addr_match(ifp, target);

        if (a != NULL)
                return a->addr;
        return ifp->in4->n_addrs > 0 ? ifp->in4->addrs[0].addr : 0;
}

static int arp_send(struct mpnet_iface *ifp, uint16_t op, const uint8_t *dst_mac,
                    const uint8_t *tha, uint32_t spa, uint32_t tpa)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_arp_repr r = {.op = op, .spa = spa, .tpa = tpa};
        struct mpnet_pkt *p = mpnet_pkt_alloc(s->pool);
        uint8_t *b;

        if (p == NULL) {
                STK_INC(s, nobufs);
                return -ENOBUFS;
        }
        memcpy(r.sha, ifp->mac, 6);
        memcpy(r.tha, tha, 6);
        b = mpnet_pkt_append(p, MPNET_ARP_LEN);
        mpnet_arp_repr_emit(&r, b);
        if (op == MPNET_ARP_OP_REQUEST)
                STK_INC(s, arp_req_tx);
        else
                STK_INC(s, arp_reply_tx);
        return ether_output(ifp, p, dst_mac, MPNET_ETHERTYPE_ARP);
}

/* RFC 5227 section 2.3: an announcement is a request with sender and target
 * both set to the announced address. */
void arp_announce(struct mpnet_iface *ifp, uint32_t addr)
{
        arp_send(ifp, MPNET_ARP_OP_REQUEST, eth_bcast, eth_zero, addr, addr);
}

/* Retransmission time with +-25 % jitter so that many hosts do not probe in
 * step (RFC 4861 section 6.3.2 does the same for ReachableTime). */
static uint64_t arp_retrans(struct mpnet_iface *ifp)
{
        struct mpnet_stack *s = ifp->stack;
        uint64_t base = s->arp_retrans_ns;

        return base - base / 4 + stack_random(s) % (base / 2 + 1);
}

static unsigned arp_max_probes(const struct mpnet_iface *ifp)
{
        return ifp->stack->arp_max_probes;
}

static uint64_t arp_reachable(struct mpnet_iface *ifp)
{
        return ifp->stack->arp_reachable_ns;
}

/* A request: broadcast while resolving, unicast to the cached MAC while
 * probing (RFC 4861 7.3.3, as Linux's arp_solicit). */
static void arp_solicit(struct neigh_entry *e, bool unicast)
{
        e->probes++;
        arp_send(e->ifp, MPNET_ARP_OP_REQUEST, unicast ? e->mac : eth_bcast, eth_zero,
                 arp_source(e->ifp, e->key.a4), e->key.a4);
}

const struct neigh_proto arp_neigh_proto = {
    .family = 4,
    .ethertype = MPNET_ETHERTYPE_IPV4,
    .c_table_full = STK_arp_table_full,
    .c_queue_drop = STK_arp_queue_drop,
    .c_resolve_failed = STK_arp_resolve_failed,
    .c_flushed = STK_arp_flushed,
    .c_evicted = STK_arp_evicted,
    .c_learn_limited = STK_arp_learn_limited,
    .c_resolve_limited = STK_arp_resolve_limited,
    .max_probes = arp_max_probes,
    .retrans = arp_retrans,
    .reachable = arp_reachable,
    .solicit = arp_solicit,
};

int arp_resolve_output(struct mpnet_iface *ifp, uint32_t nexthop, struct mpnet_pkt *p)
{
        union neigh_key k = neigh_key4(nexthop);

        return neigh_resolve_output(ifp, NEIGH_ARP, &k, p);
}

/* Sanity of a received ARP packet beyond what the view checks. */
static bool arp_sender_ok(struct mpnet_iface *ifp, const struct mpnet_arp_repr *r)
{
        if (mpnet_eth_is_multicast(r->sha) || mpnet_eth_is_zero(r->sha))
                return false;
        if (memcmp(r->sha, ifp->mac, 6) == 0)
                return false;
        /* A sender address that could never be a neighbour. */
        return !(mpnet_ip4_is_multicast(r->spa) || mpnet_ip4_is_limited_bcast(r->spa) ||
                 mpnet_ip4_is_loopback(r->spa) || mpnet_ip4_is_class_e(r->spa));
}

void arp_input(struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_arp_view v;
        struct mpnet_arp_repr r;
        struct neigh_entry *e;
        union neigh_key k;
        bool for_us;
        int err;

        STK_INC(s, arp_rx);
        err = mpnet_arp_view_check(p->data, p->len, &v);
        if (err != 0) {
                if (err == -MPNET_WIRE_TRUNCATED)
                        STK_INC(s, arp_truncated);
                else
                        STK_INC(s, arp_unsupported);
                goto out;
        }
        mpnet_arp_repr_parse(&v, &r);
        if (r.op != MPNET_ARP_OP_REQUEST && r.op != MPNET_ARP_OP_REPLY) {
                STK_INC(s, arp_bad_op);
                goto out;
        }
        if (!arp_sender_ok(ifp, &r)) {
                STK_INC(s, arp_bad_sender);
                goto out;
        }
        /* RFC 5227 2.4: another host uses one of our addresses. The cache is
         * never pointed at it. */
        if (r.spa != 0 && iface_has_addr(ifp, r.spa)) {
                STK_INC(s, arp_conflict);
                goto out;
        }
        for_us = r.tpa != 0 && iface_has_addr(ifp, r.tpa);
        /* RFC 826 merge: update an existing entry whoever the target is. An ARP
         * probe (sender 0.0.0.0, RFC 5227 2.1.1) must not touch any cache. */
        if (r.spa != 0) {
                k = neigh_key4(r.spa);
                e = neigh_lookup(ifp, NEIGH_ARP, &k);
                if (e == NULL && for_us && iface_addr_match(ifp, r.spa) != NULL)
                        e = neigh_create(ifp, NEIGH_ARP, &k);
                if (e != NULL)
                        neigh_update(e, r.sha, for_us && r.op == MPNET_ARP_OP_REPLY);
        }
        if (!for_us) {
                STK_INC(s, arp_not_for_us);
                goto out;
        }
        if (r.op == MPNET_ARP_OP_REQUEST)
                arp_send(ifp, MPNET_ARP_OP_REPLY, r.sha, r.sha, r.tpa, r.spa);
out:
        mpnet_pkt_free(p);
}

/* The learning limit (neigh_learn_ok) on a packet for one of our
 * addresses (what arp_input learns from and answers); anything else goes
 * on, the malformed to be counted there. */
static bool arp_learn_ok(struct wctx *w, struct mpnet_iface *ifp, const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        union neigh_key k;

        if (p->len < MPNET_ARP_LEN || b[4] != 6 || b[5] != 4 ||
            !iface_has_addr(ifp, mpnet_get_be32(b + 24)))
                return true;
        k = neigh_key4(mpnet_get_be32(b + 14));
        return neigh_learn_ok(w, ifp, NEIGH_ARP, &k);
}

/* The arp-input node. */
void arp_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];

        for (unsigned i = 0; i < in->n; i++) {
                if (!arp_learn_ok(w, ifp, in->p[i])) {
                        mpnet_pkt_free(in->p[i]);
                        continue;
                }
                /* ARP changes the neighbour table: the control thread's. */
                if (ctx_is_worker(w))
                        stack_punt(w, in->p[i], PUNT_ARP, (unsigned)ifp->ifindex, 0, 0, 0);
                else
                        arp_input(ifp, in->p[i]);
        }
        in->n = 0;
}

int mpnet_neigh4_get(struct mpnet_stack *s, int ifindex, uint32_t addr,
                     struct mpnet_neigh_info *info)
{
        union neigh_key k = neigh_key4(addr);

        return neigh_get(s, ifindex, NEIGH_ARP, &k, info);
}

int mpnet_neigh4_add(struct mpnet_stack *s, int ifindex, uint32_t addr, const uint8_t mac[6])
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        union neigh_key k = neigh_key4(addr);

        if (ifp == NULL)
                return -ENODEV;
        if (mpnet_eth_is_multicast(mac) || mpnet_eth_is_zero(mac))
                return -EINVAL;
        return neigh_add_permanent(ifp, NEIGH_ARP, &k, mac);
}

static void arp_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                     uint64_t meta)
{
        (void)s;
        (void)meta;
        arp_input(ifp, p);
}

static const struct node_reg arp_nodes[] = {
    {.name = "arp-input", .fn = arp_node, .core_id = NODE_arp_input},
};

static const struct ethertype_reg arp_types[] = {
    {.type = MPNET_ETHERTYPE_ARP, .node = "arp-input"},
};

static const struct punt_reg arp_punts[] = {
    {.kind = PUNT_ARP, .fn = arp_punt, .urgent = neigh_punt_always},
};

const struct mpnet_module mod_arp = {
    .name = "arp",
    .nodes = arp_nodes,
    .n_nodes = 1,
    .ethertypes = arp_types,
    .n_ethertypes = 1,
    .punts = arp_punts,
    .n_punts = 1,
};
