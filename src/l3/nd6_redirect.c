/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ND redirects (RFC 4861 section 8).
 *
 * A host (forwarding off) checks a redirect by 8.1 and, when its source is
 * the first-hop router it uses for the destination, holds a redirect entry:
 * a /128 route for the destination through the target, or on link when the
 * target is the destination itself (8.3), for REDIRECT_LIFETIME_NS. Its
 * target link-layer option updates the neighbour cache as 7.3.3 says.
 *
 * A router sends them (8.2) from ip6-rewrite, which finds the packets that
 * leave by the interface they came in on from a neighbour; the message is
 * built here, on the control thread, under the ICMPv6 error rate limit.
 *
 * Synchronisation: the control thread. The routes are read by the packet
 * path as any route is.
 * Life cycle: an entry lives until it expires, the host becomes a router,
 * the interface stops accepting redirects, or the stack goes.
 */
#include <errno.h>

#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/neigh.h"
#include "fib/fib_priv.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* How long a redirect holds: FreeBSD's icmp6_redirtimeout. */
#define REDIRECT_LIFETIME_NS (600 * MPNET_NS_PER_S)
#define REDIRECT_FIXED_LEN   40 /* 4.5: type to destination address */
#define ND_OPT_HLEN          8

/* 8.1: the redirect's source is the first hop the host uses for dst now (a
 * gateway route leaving by ifp). */
static bool first_hop_is(struct mpnet_iface *ifp, const uint8_t *dst, const uint8_t *router)
{
        const struct fib6_nh *nh = fib6_lookup(
            &ifp->stack->fib6, atomic_load_explicit(&ifp->table, memory_order_relaxed), dst);

        if (nh == NULL || nh->type != MPNET_NH_GATEWAY)
                return false;
        for (unsigned i = 0; i < nh->n_paths; i++) {
                if (nh->paths[i].ifp == ifp && ip6_eq(nh->paths[i].gw, router))
                        return true;
        }
        return false;
}

static void redirect_route(struct mpnet_iface *ifp, const uint8_t *dst, const uint8_t *target,
                           bool add)
{
        struct mpnet_route6 r = {.plen = 128, .n_paths = 1};
        uint32_t table = atomic_load(&ifp->table);

        memcpy(r.dst, dst, 16);
        if (!add) {
                mpnet_route6_del(ifp->stack, table, r.dst, 128);
                return;
        }
        r.paths[0].ifindex = ifp->ifindex;
        if (ip6_eq(target, dst)) {
                r.type = MPNET_NH_CONNECTED;
        } else {
                r.type = MPNET_NH_GATEWAY;
                memcpy(r.paths[0].gw, target, 16);
        }
        mpnet_route6_replace(ifp->stack, table, &r);
}

static void redirect_remove(struct mpnet_iface *ifp, unsigned i)
{
        redirect_route(ifp, ifp->in6->redir[i].dst, NULL, false);
        ifp->in6->redir[i] = ifp->in6->redir[--ifp->in6->n_redir];
}

/* The entry for dst: found, a free one, or the one closest to expiry. A
 * /128 route for dst that no redirect made (an operator's) is left alone:
 * @return NULL then. */
static struct redirect6 *redirect_slot(struct mpnet_iface *ifp, const uint8_t *dst)
{
        struct mpnet_route6 r;
        unsigned i, old = 0;

        for (i = 0; i < ifp->in6->n_redir; i++) {
                if (ip6_eq(ifp->in6->redir[i].dst, dst))
                        return &ifp->in6->redir[i];
                if (ifp->in6->redir[i].until < ifp->in6->redir[old].until)
                        old = i;
        }
        if (mpnet_route6_get(ifp->stack, atomic_load(&ifp->table), dst, 128, &r) == 0)
                return NULL;
        if (ifp->in6->n_redir == IFACE_MAX_REDIR)
                redirect_remove(ifp, old);
        memcpy(ifp->in6->redir[ifp->in6->n_redir].dst, dst, 16);
        return &ifp->in6->redir[ifp->in6->n_redir++];
}

/* 8.1 validity beyond what nd6_dispatch() and nd6_parse() check (hop limit
 * 255, checksum, code 0, length, options). @return false when counted and
 * dropped. */
static bool redirect_valid(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip,
                           const struct mpnet_nd_repr *r)
{
        struct mpnet_stack *s = ifp->stack;

        if (!mpnet_ip6_is_link_local(ip->src)) {
                STK_INC(s, nd_redirect_bad_src);
                return false;
        }
        if (mpnet_ip6_is_multicast(r->dst)) {
                STK_INC(s, nd_redirect_bad_dst);
                return false;
        }
        if (!ip6_eq(r->target, r->dst) && !mpnet_ip6_is_link_local(r->target)) {
                STK_INC(s, nd_redirect_bad_target);
                return false;
        }
        if (!first_hop_is(ifp, r->dst, ip->src)) {
                STK_INC(s, nd_redirect_not_first_hop);
                return false;
        }
        return true;
}

void nd6_redirect_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip,
                        const uint8_t *msg, size_t n)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_repr r = {.type = msg[0]};
        struct redirect6 *d;
        const uint8_t *tlla;
        bool onlink;

        STK_INC(s, nd_redirect_rx);
        if (!nd6_parse(s, msg, n, &r))
                return;
        /* 8.2: a router receiving a redirect does not update its tables. */
        if (atomic_load(&s->ip6_fwd) || !ifp->in6->redirect_accept) {
                STK_INC(s, nd_redirect_ignored);
                return;
        }
        if (!redirect_valid(ifp, ip, &r))
                return;
        onlink = ip6_eq(r.target, r.dst);
        /* 8.3: the target link-layer option creates or updates the entry
         * (STALE when new or changed); a target other than the destination
         * is a router. */
        tlla = nd6_opt_lladdr(&r, MPNET_ND_OPT_TLLA, NULL);
        if (tlla != NULL) {
                nd6_learn(ifp, r.target, tlla, !onlink);
        } else if (!onlink) {
                struct neigh_entry *e = neigh_lookup6(ifp, r.target);

                if (e != NULL)
                        e->router = true;
        }
        d = redirect_slot(ifp, r.dst);
        if (d == NULL)
                return;
        d->until = s->now + REDIRECT_LIFETIME_NS;
        redirect_route(ifp, r.dst, r.target, true);
        nd6_kick(ifp);
}

void nd6_redirect_flush(struct mpnet_iface *ifp)
{
        while (ifp->in6->n_redir > 0)
                redirect_remove(ifp, ifp->in6->n_redir - 1);
}

uint64_t nd6_redirect_tick(struct mpnet_iface *ifp, uint64_t now)
{
        uint64_t next = MPNET_TIME_NEVER;

        for (unsigned i = 0; i < ifp->in6->n_redir;) {
                if (ifp->in6->redir[i].until <= now) {
                        redirect_remove(ifp, i);
                        continue;
                }
                if (ifp->in6->redir[i].until < next)
                        next = ifp->in6->redir[i].until;
                i++;
        }
        return next;
}

int mpnet_iface_ip6_redirects(struct mpnet_stack *s, int ifindex, bool accept, bool send)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        ifp->in6->redirect_accept = accept;
        if (!accept)
                nd6_redirect_flush(ifp);
        atomic_store(&ifp->in6->redirect_send, send);
        return 0;
}

void nd6_redirect_send(struct mpnet_iface *ifp, const struct mpnet_pkt *p, const uint8_t *target)
{
        struct mpnet_stack *s = ifp->stack;
        const struct ifaddr6 *ll = iface_ll6(ifp);
        struct mpnet_nd_repr r = {.type = MPNET_ICMP6_ND_REDIRECT};
        struct mpnet_nd_opts o = {0};
        struct neigh_entry *e = neigh_lookup6(ifp, target);
        uint8_t quote[MPNET_IP6_MIN_MTU];
        uint8_t src[16];
        struct mpnet_pkt *q;
        size_t room, n;
        uint8_t *b;

        /* 8.2: the source is the link-local address of the interface. */
        if (ll == NULL || p->pkt_len < MPNET_IP6_HLEN)
                return;
        if (!icmp6_rate_ok(s)) {
                STK_INC(s, nd_redirect_ratelimited);
                return;
        }
        memcpy(src, p->data + 8, 16);
        memcpy(r.target, target, 16);
        memcpy(r.dst, p->data + 24, 16);
        if (e != NULL && e->state != MPNET_NEIGH_INCOMPLETE && e->state != MPNET_NEIGH_FAILED)
                o.tlla = e->mac;
        /* 4.6.3: as much of the packet as keeps the redirect within the
         * minimum MTU. */
        room = MPNET_IP6_MIN_MTU - MPNET_IP6_HLEN - REDIRECT_FIXED_LEN - ND_OPT_HLEN -
               (o.tlla != NULL ? ND_OPT_HLEN : 0);
        o.redirected_len = p->pkt_len < room ? p->pkt_len : room;
        mpnet_pkt_read(p, 0, quote, (uint32_t)o.redirected_len);
        o.redirected = quote;
        n = mpnet_nd_repr_len(&r, &o);
        b = icmp6_alloc(s, n, &q);
        if (b == NULL)
                return;
        mpnet_nd_repr_emit(&r, &o, ll->addr, src, b);
        STK_INC(s, nd_redirect_tx);
        ip6_send_raw(ifp, q, ll->addr, src, MPNET_IPPROTO_ICMPV6, 255, NULL);
}

void mpnet_stack_set_forwarding6(struct mpnet_stack *s, bool on)
{
        atomic_store(&s->ip6_fwd, on);
        /* RFC 4861 8.2: a router takes no redirects; what it took as a host
         * must not steer what it forwards. */
        for (int i = 1; on && i <= STACK_MAX_IFACES; i++) {
                if (s->ifs[i] != NULL)
                        nd6_redirect_flush(s->ifs[i]);
        }
}
