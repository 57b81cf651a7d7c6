/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Neighbour Discovery's address resolution and unreachability detection
 * (RFC 4861 7): a resolver on the neighbour cache (l3/neigh.c), which holds
 * the entries, states, timers and hold queues. Here: the solicitation and
 * advertisement messages, and what they teach the cache (7.2.3 to 7.2.5).
 * Packets held for a neighbour that never answered get ICMPv6 address
 * unreachable (7.2.2).
 *
 * Synchronisation: NS/NA input runs on the control thread (workers punt it
 * as local delivery). Life cycle: see l3/neigh.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/neigh.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* RFC 4861 6.3.2: ReachableTime is BaseReachableTime times a random factor
 * in [0.5, 1.5). */
uint64_t nd6_reachable_time(struct mpnet_iface *ifp)
{
        uint64_t base = ifp->in6->nd_reachable_base;

        return base / 2 + stack_random(ifp->stack) % (base + 1);
}

static uint64_t nd6_retrans(struct mpnet_iface *ifp)
{
        return ifp->in6->nd_retrans_ns;
}

static uint64_t nd6_reachable(struct mpnet_iface *ifp)
{
        return ifp->in6->nd_reachable_ns;
}

static unsigned nd6_max_probes(const struct mpnet_iface *ifp)
{
        (void)ifp;
        return ND6_MAX_SOLICIT;
}

void nd6_ns_send(struct mpnet_iface *ifp, const uint8_t *src, const uint8_t *dst,
                 const uint8_t *target, const uint8_t *dmac)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_repr r = {.type = MPNET_ICMP6_ND_NS};
        struct mpnet_nd_opts o = {0};
        static const uint8_t unspec[16];
        struct ifaddr6 *tent = NULL;
        struct mpnet_pkt *p;
        size_t n;
        uint8_t *b;

        memcpy(r.target, target, 16);
        if (src == NULL) {
                /* DAD (RFC 4862 5.4.2): from ::, no source link-layer option
                 * (RFC 4861 4.3), with a nonce (RFC 7527 4.1). */
                src = unspec;
                tent = ifaddr6_find(ifp, target);
                if (tent != NULL) {
                        uint64_t rnd = stack_random(s);

                        memcpy(tent->nonce, &rnd, 6);
                        o.nonce = tent->nonce;
                }
        } else {
                o.slla = ifp->mac;
        }
        n = mpnet_nd_repr_len(&r, &o);
        b = icmp6_alloc(s, n, &p);
        if (b == NULL)
                return;
        mpnet_nd_repr_emit(&r, &o, src, dst, b);
        STK_INC(s, nd_ns_tx);
        /* RFC 4861 7.1.1: hop limit 255 proves the sender is on link. */
        ip6_send_raw(ifp, p, src, dst, MPNET_IPPROTO_ICMPV6, 255, dmac);
}

void nd6_na_send(struct mpnet_iface *ifp, const uint8_t *dst, const uint8_t *target, bool solicited)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_repr r = {
            .type = MPNET_ICMP6_ND_NA,
            .router = atomic_load(&s->ip6_fwd),
            .solicited = solicited,
            .override = true, /* 7.2.4: not an anycast address */
        };
        struct mpnet_nd_opts o = {.tlla = ifp->mac};
        struct mpnet_pkt *p;
        uint8_t *b;
        size_t n;

        memcpy(r.target, target, 16);
        n = mpnet_nd_repr_len(&r, &o);
        b = icmp6_alloc(s, n, &p);
        if (b == NULL)
                return;
        /* The target is the source (7.2.4). */
        mpnet_nd_repr_emit(&r, &o, target, dst, b);
        STK_INC(s, nd_na_tx);
        ip6_send_raw(ifp, p, target, dst, MPNET_IPPROTO_ICMPV6, 255, NULL);
}

/* A solicitation for e: multicast to the target's solicited-node group while
 * resolving, unicast to the cached MAC while probing (7.2.2, 7.3.3). */
static void nd6_solicit(struct neigh_entry *e, bool unicast)
{
        struct mpnet_stack *s = e->ifp->stack;
        const struct addr6_pub *a = ip6_src_pick(s, e->ifp, e->key.a6);
        uint8_t snm[16];

        e->probes++;
        if (a == NULL)
                return;
        if (unicast) {
                nd6_ns_send(e->ifp, a->addr, e->key.a6, e->key.a6, e->mac);
                return;
        }
        mpnet_ip6_solicited_node(e->key.a6, snm);
        nd6_ns_send(e->ifp, a->addr, snm, e->key.a6, NULL);
}

/* 7.2.2: address unreachable for what waited on a neighbour that never
 * answered. */
static void nd6_unreachable(struct mpnet_stack *s, struct mpnet_pkt *p)
{
        icmp6_error(s->ctx[0], p, MPNET_ICMP6_DEST_UNREACH, 3, 0);
}

const struct neigh_proto nd6_neigh_proto = {
    .family = 6,
    .ethertype = MPNET_ETHERTYPE_IPV6,
    .c_table_full = STK_nd_table_full,
    .c_queue_drop = STK_nd_queue_drop,
    .c_resolve_failed = STK_nd_resolve_failed,
    .c_flushed = STK_nd_flushed,
    .c_evicted = STK_nd_evicted,
    .c_learn_limited = STK_nd_learn_limited,
    .c_resolve_limited = STK_nd_resolve_limited,
    .max_probes = nd6_max_probes,
    .retrans = nd6_retrans,
    .reachable = nd6_reachable,
    .solicit = nd6_solicit,
    .unreachable = nd6_unreachable,
};

int nd6_resolve_output(struct mpnet_iface *ifp, const uint8_t *nexthop, struct mpnet_pkt *p)
{
        union neigh_key k = neigh_key6(nexthop);

        if (!atomic_load_explicit(&ifp->up, memory_order_relaxed)) {
                STK_INC(ifp->stack, ip6_iface_down);
                mpnet_pkt_free(p);
                return -ENETDOWN;
        }
        return neigh_resolve_output(ifp, NEIGH_ND, &k, p);
}

void nd6_learn(struct mpnet_iface *ifp, const uint8_t *addr, const uint8_t *mac, bool router)
{
        union neigh_key k = neigh_key6(addr);
        struct neigh_entry *e = neigh_lookup(ifp, NEIGH_ND, &k);

        if (e == NULL)
                e = neigh_create(ifp, NEIGH_ND, &k);
        if (e == NULL || e->state == MPNET_NEIGH_PERMANENT)
                return;
        if (router)
                e->router = true;
        /* 7.2.3, 6.3.4: a new or changed address makes the entry STALE. */
        neigh_update(e, mac, false);
}

/* The options were checked as TLVs by nd6_parse(). */
const uint8_t *nd6_opt_lladdr(const struct mpnet_nd_repr *r, uint8_t want, const uint8_t **nonce)
{
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt o;
        const uint8_t *ll = NULL;

        mpnet_nd_opt_iter_init(&it, r->opts, r->opts_len);
        while (mpnet_nd_opt_next(&it, &o) == 1) {
                if (o.type == want && ll == NULL)
                        ll = mpnet_nd_opt_lladdr(&o);
                else if (o.type == MPNET_ND_OPT_NONCE && nonce != NULL && o.n >= 8)
                        *nonce = o.b + 2;
        }
        return ll;
}

/* The fixed part of each ND message (RFC 4861 4.1 to 4.5). */
static size_t nd6_fixed_len(uint8_t type)
{
        switch (type) {
        case MPNET_ICMP6_ND_RS:
                return 8;
        case MPNET_ICMP6_ND_RA:
                return 16;
        case MPNET_ICMP6_ND_REDIRECT:
                return 40;
        default:
                return 24;
        }
}

bool nd6_parse(struct mpnet_stack *s, const uint8_t *msg, size_t n, struct mpnet_nd_repr *r)
{
        struct mpnet_icmp6_view v;
        int err;

        if (mpnet_icmp6_view_check(msg, n, &v) != 0) {
                STK_INC(s, nd_invalid);
                return false;
        }
        err = mpnet_nd_repr_parse(&v, r);
        if (err == -MPNET_WIRE_BAD_OPTION ||
            (err == -MPNET_WIRE_TRUNCATED && n >= nd6_fixed_len(msg[0]))) {
                STK_INC(s, nd_bad_opt);
                return false;
        }
        if (err != 0) {
                STK_INC(s, nd_invalid);
                return false;
        }
        return true;
}

void nd6_ns_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_repr r = {.type = msg[0]};
        const uint8_t *slla, *nonce = NULL;
        bool unspec = mpnet_ip6_is_unspecified(ip->src);
        struct ifaddr6 *a;

        STK_INC(s, nd_ns_rx);
        if (!nd6_parse(s, msg, n, &r))
                return;
        slla = nd6_opt_lladdr(&r, MPNET_ND_OPT_SLLA, &nonce);
        /* 7.1.1: the target is not multicast; from :: only to a
         * solicited-node group and without a source link-layer option. */
        if (mpnet_ip6_is_multicast(r.target) ||
            (unspec && (!mpnet_ip6_is_solicited_node(ip->dst) || slla != NULL))) {
                STK_INC(s, nd_invalid);
                return;
        }
        a = ifaddr6_find(ifp, r.target);
        if (a == NULL || (a->flags & MPNET_ADDR6_F_DUPLICATED)) {
                STK_INC(s, nd_not_for_us);
                return;
        }
        if (a->flags & MPNET_ADDR6_F_TENTATIVE) {
                /* RFC 4862 5.4.3: another node's DAD probe for our tentative
                 * address means a duplicate; resolution for it is ignored.
                 * RFC 7527 4.2: our own probe looped back carries our nonce. */
                if (!unspec)
                        return;
                if (nonce != NULL && memcmp(nonce, a->nonce, 6) == 0) {
                        STK_INC(s, nd_dad_loopback);
                        return;
                }
                nd6_dad_duplicate(ifp, a);
                return;
        }
        if (unspec) {
                /* 7.2.4: answer the DAD probe to all nodes, unsolicited. */
                nd6_na_send(ifp, ip6_all_nodes, r.target, false);
                return;
        }
        if (slla != NULL)
                nd6_learn(ifp, ip->src, slla, false);
        nd6_na_send(ifp, ip->src, r.target, true);
}

void nd6_na_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_repr r = {.type = msg[0]};
        const uint8_t *tlla;
        struct ifaddr6 *a;
        struct neigh_entry *e;
        union neigh_key k;
        bool differ;

        STK_INC(s, nd_na_rx);
        if (!nd6_parse(s, msg, n, &r))
                return;
        /* 7.1.2: not for a multicast target; solicited only to unicast. */
        if (mpnet_ip6_is_multicast(r.target) || (mpnet_ip6_is_multicast(ip->dst) && r.solicited)) {
                STK_INC(s, nd_invalid);
                return;
        }
        a = ifaddr6_find(ifp, r.target);
        if (a != NULL) {
                /* RFC 4862 5.4.4: an advertisement for a tentative address. */
                if (a->flags & MPNET_ADDR6_F_TENTATIVE)
                        nd6_dad_duplicate(ifp, a);
                return;
        }
        k = neigh_key6(r.target);
        e = neigh_lookup(ifp, NEIGH_ND, &k);
        if (e == NULL || e->state == MPNET_NEIGH_PERMANENT)
                return; /* 7.2.5: no entry, nothing to do */
        tlla = nd6_opt_lladdr(&r, MPNET_ND_OPT_TLLA, NULL);
        if (e->state == MPNET_NEIGH_INCOMPLETE || e->state == MPNET_NEIGH_FAILED) {
                if (tlla == NULL)
                        return;
                e->router = r.router;
                /* Solicited: REACHABLE, else STALE; what was held goes. */
                neigh_update(e, tlla, r.solicited);
                return;
        }
        differ = tlla != NULL && memcmp(tlla, e->mac, 6) != 0;
        if (!r.override && differ) {
                /* 7.2.5: a reachable entry only goes stale. */
                if (e->state == MPNET_NEIGH_REACHABLE)
                        neigh_set_state(e, MPNET_NEIGH_STALE, s->now + NEIGH_STALE_GC_NS);
                return;
        }
        /* 7.2.5: solicited: REACHABLE; an overriding new address: STALE. */
        neigh_update(e, differ ? tlla : e->mac, r.solicited);
        /* 7.2.5: no longer a router: off the default router list. */
        if (e->router && !r.router)
                nd6_dr_update(ifp, e->key.a6, 0);
        e->router = r.router;
}

int mpnet_neigh6_get(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                     struct mpnet_neigh_info *info)
{
        union neigh_key k = neigh_key6(addr);

        return neigh_get(s, ifindex, NEIGH_ND, &k, info);
}

int mpnet_neigh6_add(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                     const uint8_t mac[6])
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        union neigh_key k = neigh_key6(addr);

        if (ifp == NULL)
                return -ENODEV;
        if (mpnet_eth_is_multicast(mac) || mpnet_eth_is_zero(mac) || mpnet_ip6_is_multicast(addr))
                return -EINVAL;
        return neigh_add_permanent(ifp, NEIGH_ND, &k, mac);
}
