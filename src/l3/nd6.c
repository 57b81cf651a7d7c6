/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 neighbour cache and the neighbour solicitation and advertisement
 * messages (RFC 4861 section 7): address resolution and neighbour
 * unreachability detection.
 *
 * States (7.3.2): INCOMPLETE (solicitation multicast, packets queued) ->
 * REACHABLE (confirmed by a solicited advertisement) -> STALE (reachable
 * time passed, or learnt unsolicited) -> DELAY (used while stale) -> PROBE
 * (unicast solicitations). A neighbour that answers no probe is marked
 * unreachable (FAILED) for a hold-down time, then forgotten; so is one that
 * never answered resolution, whose queued packets get ICMPv6 address
 * unreachable (7.2.2).
 *
 * Synchronisation: entries change on the control thread only (workers punt
 * what they cannot forward); workers read them without locks as they read
 * ARP entries: linked in with a release store once built, the MAC and state
 * in one atomic word, freed after a grace period.
 * Life cycle: made by resolution or by a message from the neighbour, freed
 * by their timer or with the interface; ND6_MAX_ENTRIES per interface.
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "stack/stack_priv.h"

static unsigned nd6_hash(const uint8_t *a)
{
        return (mpnet_get_be32(a + 12) * 2654435761u) >> 24; /* ND6_HASH_SIZE == 256 */
}

struct nd6_entry *nd6_lookup(struct mpnet_iface *ifp, const uint8_t *addr)
{
        struct nd6_entry *e =
            atomic_load_explicit(&ifp->nd_hash[nd6_hash(addr)], memory_order_acquire);

        while (e != NULL && !ip6_eq(e->addr, addr))
                e = atomic_load_explicit(&e->hnext, memory_order_acquire);
        return e;
}

static void nd6_set_fast(struct nd6_entry *e)
{
        uint64_t f = (uint64_t)e->state << 48;

        for (int i = 0; i < 6; i++)
                f |= (uint64_t)e->mac[i] << (8 * i);
        atomic_store_explicit(&e->fast, f, memory_order_release);
}

static void nd6_timer(struct mpnet_timer *t, void *arg, uint64_t now);

static struct nd6_entry *nd6_create(struct mpnet_iface *ifp, const uint8_t *addr)
{
        struct mpnet_stack *s = ifp->stack;
        struct nd6_entry *e;
        unsigned h = nd6_hash(addr);

        if (ifp->nd_count >= ND6_MAX_ENTRIES) {
                STK_INC(s, nd_table_full);
                return NULL;
        }
        e = calloc(1, sizeof(*e) + s->arp_queue_max * sizeof(e->q[0]));
        if (e == NULL) {
                STK_INC(s, nd_table_full);
                return NULL;
        }
        e->ifp = ifp;
        memcpy(e->addr, addr, 16);
        mpnet_timer_init(&e->timer, nd6_timer, e);
        e->state = MPNET_NEIGH_INCOMPLETE;
        nd6_set_fast(e);
        atomic_store_explicit(&e->hnext,
                              atomic_load_explicit(&ifp->nd_hash[h], memory_order_relaxed),
                              memory_order_relaxed);
        atomic_store_explicit(&ifp->nd_hash[h], e, memory_order_release);
        ifp->nd_count++;
        return e;
}

static void nd6_event(struct nd6_entry *e, enum mpnet_event_type t)
{
        struct mpnet_event ev = {.type = t, .ifindex = e->ifp->ifindex, .family = 6};

        memcpy(ev.addr6, e->addr, 16);
        if (t == MPNET_EV_NEIGH_REACHABLE)
                memcpy(ev.mac, e->mac, 6);
        stack_event(e->ifp->stack, &ev);
}

static void nd6_delete(struct nd6_entry *e)
{
        struct mpnet_iface *ifp = e->ifp;
        struct nd6_entry *_Atomic *pp = &ifp->nd_hash[nd6_hash(e->addr)];

        nd6_event(e, MPNET_EV_NEIGH_DEL);

        while (atomic_load_explicit(pp, memory_order_relaxed) != e)
                pp = &atomic_load_explicit(pp, memory_order_relaxed)->hnext;
        atomic_store_explicit(pp, atomic_load_explicit(&e->hnext, memory_order_relaxed),
                              memory_order_release);
        mpnet_timer_cancel(ifp->stack->timers, &e->timer);
        /* Only an entry still resolving holds packets: removed by a flush. */
        STK_ADD(ifp->stack, nd_flushed, e->qn);
        mpnet_pkt_free_bulk(e->q, e->qn);
        e->qn = 0;
        ifp->nd_count--;
        stack_defer(ifp->stack, free, e);
}

void nd6_iface_flush(struct mpnet_iface *ifp)
{
        for (unsigned h = 0; h < ND6_HASH_SIZE; h++) {
                struct nd6_entry *e;

                while ((e = atomic_load_explicit(&ifp->nd_hash[h], memory_order_relaxed)) != NULL)
                        nd6_delete(e);
        }
}

/* As arp_iface_flush_learnt(). */
void nd6_iface_flush_learnt(struct mpnet_iface *ifp)
{
        for (unsigned h = 0; h < ND6_HASH_SIZE; h++) {
                struct nd6_entry *e = atomic_load_explicit(&ifp->nd_hash[h], memory_order_relaxed);

                while (e != NULL) {
                        struct nd6_entry *next =
                            atomic_load_explicit(&e->hnext, memory_order_relaxed);

                        if (e->state != MPNET_NEIGH_PERMANENT)
                                nd6_delete(e);
                        e = next;
                }
        }
}

/* RFC 4861 6.3.2: ReachableTime is BaseReachableTime times a random factor
 * in [0.5, 1.5). */
uint64_t nd6_reachable_time(struct mpnet_iface *ifp)
{
        uint64_t base = ifp->nd_reachable_base;

        return base / 2 + stack_random(ifp->stack) % (base + 1);
}

static uint64_t nd6_retrans(struct mpnet_iface *ifp)
{
        return ifp->nd_retrans_ns;
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
static void nd6_solicit(struct nd6_entry *e, bool unicast)
{
        struct mpnet_stack *s = e->ifp->stack;
        const struct ifaddr6 *a = ip6_src_pick(s, e->ifp, e->addr);
        uint8_t snm[16];

        e->probes++;
        if (a == NULL)
                return;
        if (unicast) {
                nd6_ns_send(e->ifp, a->addr, e->addr, e->addr, e->mac);
                return;
        }
        mpnet_ip6_solicited_node(e->addr, snm);
        nd6_ns_send(e->ifp, a->addr, snm, e->addr, NULL);
}

static void nd6_set_state(struct nd6_entry *e, enum mpnet_neigh_state st, uint64_t expire)
{
        struct mpnet_timer_wheel *w = e->ifp->stack->timers;

        if (neigh_resolved(e->state, st))
                nd6_event(e, MPNET_EV_NEIGH_REACHABLE);
        else if (st == MPNET_NEIGH_FAILED && e->state != MPNET_NEIGH_FAILED)
                nd6_event(e, MPNET_EV_NEIGH_FAILED);
        e->state = st;
        nd6_set_fast(e);
        if (expire == MPNET_TIME_NEVER)
                mpnet_timer_cancel(w, &e->timer);
        else
                mpnet_timer_arm(w, &e->timer, expire);
}

static void nd6_timer(struct mpnet_timer *t, void *arg, uint64_t now)
{
        struct nd6_entry *e = arg;
        struct mpnet_iface *ifp = e->ifp;
        struct mpnet_stack *s = ifp->stack;

        switch (e->state) {
        case MPNET_NEIGH_INCOMPLETE:
                if (e->probes < ND6_MAX_SOLICIT) {
                        nd6_solicit(e, false);
                        mpnet_timer_arm(s->timers, t, now + nd6_retrans(ifp));
                        return;
                }
                /* 7.2.2: the queued packets get address unreachable. */
                STK_ADD(s, nd_resolve_failed, e->qn);
                for (uint32_t i = 0; i < e->qn; i++) {
                        icmp6_error(s, e->q[i], MPNET_ICMP6_DEST_UNREACH, 3, 0);
                        mpnet_pkt_free(e->q[i]);
                }
                e->qn = 0;
                nd6_set_state(e, MPNET_NEIGH_FAILED, now + ND6_HOLDDOWN_NS);
                return;
        case MPNET_NEIGH_REACHABLE:
                nd6_set_state(e, MPNET_NEIGH_STALE, now + ND6_STALE_GC_NS);
                return;
        case MPNET_NEIGH_DELAY:
                e->probes = 0;
                nd6_solicit(e, true);
                nd6_set_state(e, MPNET_NEIGH_PROBE, now + nd6_retrans(ifp));
                return;
        case MPNET_NEIGH_PROBE:
                if (e->probes < ND6_MAX_SOLICIT) {
                        nd6_solicit(e, true);
                        mpnet_timer_arm(s->timers, t, now + nd6_retrans(ifp));
                        return;
                }
                /* 7.3.3: no answer to the probes: unreachable. Nothing is
                 * held while probing, so nothing is dropped (counted) here. */
                nd6_set_state(e, MPNET_NEIGH_FAILED, now + ND6_HOLDDOWN_NS);
                return;
        case MPNET_NEIGH_STALE:
        case MPNET_NEIGH_FAILED:
                nd6_delete(e);
                return;
        case MPNET_NEIGH_PERMANENT:
                return;
        }
}

static void nd6_queue_flush(struct nd6_entry *e)
{
        for (uint32_t i = 0; i < e->qn; i++)
                ether_output(e->ifp, e->q[i], e->mac, MPNET_ETHERTYPE_IPV6);
        e->qn = 0;
}

int nd6_add_permanent(struct mpnet_iface *ifp, const uint8_t *addr, const uint8_t mac[6])
{
        struct nd6_entry *e = nd6_lookup(ifp, addr);

        if (e == NULL)
                e = nd6_create(ifp, addr);
        if (e == NULL)
                return -ENOSPC;
        memcpy(e->mac, mac, 6);
        nd6_set_state(e, MPNET_NEIGH_PERMANENT, MPNET_TIME_NEVER);
        nd6_queue_flush(e);
        return 0;
}

static void nd6_enqueue(struct nd6_entry *e, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = e->ifp->stack;

        if (e->qn == s->arp_queue_max) {
                mpnet_pkt_free(e->q[0]);
                memmove(&e->q[0], &e->q[1], (e->qn - 1) * sizeof(e->q[0]));
                e->qn--;
                STK_INC(s, nd_queue_drop);
        }
        e->q[e->qn++] = p;
}

int nd6_resolve_output(struct mpnet_iface *ifp, const uint8_t *nexthop, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = ifp->stack;
        struct nd6_entry *e = nd6_lookup(ifp, nexthop);

        if (!atomic_load_explicit(&ifp->up, memory_order_relaxed)) {
                STK_INC(s, ip6_iface_down);
                mpnet_pkt_free(p);
                return -ENETDOWN;
        }
        if (e == NULL) {
                e = nd6_create(ifp, nexthop);
                if (e == NULL) {
                        mpnet_pkt_free(p);
                        return -ENOBUFS;
                }
                nd6_enqueue(e, p);
                nd6_solicit(e, false);
                mpnet_timer_arm(s->timers, &e->timer, s->now + nd6_retrans(ifp));
                return 0;
        }
        switch (e->state) {
        case MPNET_NEIGH_INCOMPLETE:
                nd6_enqueue(e, p);
                return 0;
        case MPNET_NEIGH_FAILED:
                STK_INC(s, nd_resolve_failed);
                mpnet_pkt_free(p);
                return -EHOSTUNREACH;
        case MPNET_NEIGH_STALE:
                /* 7.3.3: the first use of a stale entry starts the delay. */
                nd6_set_state(e, MPNET_NEIGH_DELAY, s->now + ND6_DELAY_NS);
                break;
        default:
                break;
        }
        return ether_output(ifp, p, e->mac, MPNET_ETHERTYPE_IPV6);
}

void nd6_learn(struct mpnet_iface *ifp, const uint8_t *addr, const uint8_t *mac, bool router)
{
        struct mpnet_stack *s = ifp->stack;
        struct nd6_entry *e = nd6_lookup(ifp, addr);

        if (e == NULL)
                e = nd6_create(ifp, addr);
        if (e == NULL || e->state == MPNET_NEIGH_PERMANENT)
                return;
        if (router)
                e->router = true;
        /* 7.2.3, 6.3.4: a new or changed address makes the entry STALE. */
        if (e->state == MPNET_NEIGH_INCOMPLETE || e->state == MPNET_NEIGH_FAILED ||
            memcmp(e->mac, mac, 6) != 0) {
                memcpy(e->mac, mac, 6);
                e->probes = 0;
                nd6_set_state(e, MPNET_NEIGH_STALE, s->now + ND6_STALE_GC_NS);
        }
        nd6_queue_flush(e);
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
        struct nd6_entry *e;
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
        e = nd6_lookup(ifp, r.target);
        if (e == NULL || e->state == MPNET_NEIGH_PERMANENT)
                return; /* 7.2.5: no entry, nothing to do */
        tlla = nd6_opt_lladdr(&r, MPNET_ND_OPT_TLLA, NULL);
        if (e->state == MPNET_NEIGH_INCOMPLETE || e->state == MPNET_NEIGH_FAILED) {
                if (tlla == NULL)
                        return;
                memcpy(e->mac, tlla, 6);
                e->router = r.router;
                e->probes = 0;
                if (r.solicited)
                        nd6_set_state(e, MPNET_NEIGH_REACHABLE, s->now + ifp->nd_reachable_ns);
                else
                        nd6_set_state(e, MPNET_NEIGH_STALE, s->now + ND6_STALE_GC_NS);
                nd6_queue_flush(e);
                return;
        }
        differ = tlla != NULL && memcmp(tlla, e->mac, 6) != 0;
        if (!r.override && differ) {
                /* 7.2.5: a reachable entry only goes stale. */
                if (e->state == MPNET_NEIGH_REACHABLE)
                        nd6_set_state(e, MPNET_NEIGH_STALE, s->now + ND6_STALE_GC_NS);
                return;
        }
        if (differ)
                memcpy(e->mac, tlla, 6);
        if (r.solicited) {
                e->probes = 0;
                nd6_set_state(e, MPNET_NEIGH_REACHABLE, s->now + ifp->nd_reachable_ns);
        } else if (differ) {
                nd6_set_state(e, MPNET_NEIGH_STALE, s->now + ND6_STALE_GC_NS);
        }
        /* 7.2.5: no longer a router: off the default router list. */
        if (e->router && !r.router)
                nd6_dr_update(ifp, e->addr, 0);
        e->router = r.router;
}

int mpnet_neigh6_get(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                     struct mpnet_neigh_info *info)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct nd6_entry *e;

        if (ifp == NULL)
                return -ENODEV;
        e = nd6_lookup(ifp, addr);
        if (e == NULL)
                return -ENOENT;
        info->state = e->state;
        memcpy(info->mac, e->mac, 6);
        info->queued = e->qn;
        info->probes = e->probes;
        info->router = e->router;
        return 0;
}

int mpnet_neigh6_del(struct mpnet_stack *s, int ifindex, const uint8_t addr[16])
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct nd6_entry *e;

        if (ifp == NULL)
                return -ENODEV;
        e = nd6_lookup(ifp, addr);
        if (e == NULL)
                return -ENOENT;
        nd6_delete(e);
        return 0;
}

int mpnet_neigh6_add(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                     const uint8_t mac[6])
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        if (mpnet_eth_is_multicast(mac) || mpnet_eth_is_zero(mac) || mpnet_ip6_is_multicast(addr))
                return -EINVAL;
        return nd6_add_permanent(ifp, addr, mac);
}
