/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An interface's IPv6 part (struct ip6_ifdata, l3/ip_iface.h): made and
 * freed with the interface (mod_ip6's interface hooks), the published copy
 * of its addresses and groups, and the stack's set of local IPv6
 * addresses. The addresses themselves (DAD, SLAAC, lifetimes) are
 * l3/nd6_addr.c's.
 *
 * Synchronisation: the hooks and publishing are the control thread's;
 * iface_addr6_read, iface_addr6_find, iface_mc6_has and stack_is_local6
 * run on any context and read only the published copies (RCU).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "mpnet/ip6.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* ---- the published IPv6 addresses and groups ---- */

static void addr6_snap_fill(const struct mpnet_iface *ifp, struct addr6_snap *sn)
{
        memset(sn, 0, sizeof(*sn));
        sn->n = ifp->in6->n_addrs6;
        for (unsigned i = 0; i < ifp->in6->n_addrs6; i++) {
                memcpy(sn->a[i].addr, ifp->in6->addrs6[i].addr, 16);
                sn->a[i].plen = ifp->in6->addrs6[i].plen;
                sn->a[i].flags = ifp->in6->addrs6[i].flags;
        }
        sn->hop_limit = ifp->in6->cur_hop_limit;
        sn->n_mc = ifp->in6->n_mc6;
        for (unsigned i = 0; i < ifp->in6->n_mc6; i++)
                memcpy(sn->mc[i], ifp->in6->mc6[i].addr, 16);
}

static struct a128 a128_of(const uint8_t *a)
{
        struct a128 x;

        memcpy(&x.hi, a, 8);
        memcpy(&x.lo, a + 8, 8);
        x.hi = __builtin_bswap64(x.hi);
        x.lo = __builtin_bswap64(x.lo);
        return x;
}

static int a128_cmp(const void *pa, const void *pb)
{
        const struct a128 *x = pa, *y = pb;

        if (x->hi != y->hi)
                return x->hi < y->hi ? -1 : 1;
        return (x->lo > y->lo) - (x->lo < y->lo);
}

/* As local4_rebuild, from the interfaces' published IPv6 copies. */
static void local6_rebuild(struct mpnet_stack *s)
{
        struct local6_set *set, *old;
        unsigned n = 0;

        for (int i = 1; i <= STACK_MAX_IFACES; i++)
                n += s->ifs[i] != NULL ? iface_addr6_read(s->ifs[i])->n : 0;
        set = malloc(sizeof(*set) + n * sizeof(set->a[0]));
        if (set != NULL) {
                set->n = 0;
                for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                        const struct addr6_snap *sn =
                            s->ifs[i] != NULL ? iface_addr6_read(s->ifs[i]) : NULL;

                        for (unsigned k = 0; sn != NULL && k < sn->n; k++) {
                                /* RFC 4862 5.4: a tentative address is not ours yet. */
                                if ((sn->a[k].flags &
                                     (MPNET_ADDR6_F_TENTATIVE | MPNET_ADDR6_F_DUPLICATED)) == 0)
                                        set->a[set->n++] = a128_of(sn->a[k].addr);
                        }
                }
                qsort(set->a, set->n, sizeof(set->a[0]), a128_cmp);
        }
        old = atomic_exchange_explicit(&s->local6, set, memory_order_acq_rel);
        if (old != NULL)
                stack_defer(s, free, old);
}

int iface_addr6_publish(struct mpnet_iface *ifp)
{
        struct addr6_snap cur, *sn,
            *old = atomic_load_explicit(&ifp->in6->addr6, memory_order_relaxed);

        /* Lifetimes and DAD steps change often and concern no worker: only
         * a change of what the copy holds is published. */
        ifp->stack->addr6_unpublished &= ~(1ull << (ifp->ifindex - 1));
        addr6_snap_fill(ifp, &cur);
        if (old != NULL && memcmp(old, &cur, sizeof(cur)) == 0)
                return 0;
        sn = malloc(sizeof(*sn));
        if (sn == NULL) {
                /* Workers would go on with the old copy until the next
                 * change: mpnet_stack_poll() tries again. */
                STK_INC(ifp->stack, addr6_publish_retry);
                ifp->stack->addr6_unpublished |= 1ull << (ifp->ifindex - 1);
                ctx_svc_arm(ifp->stack->ctx[0], ifp->stack->now);
                return -ENOMEM;
        }
        memcpy(sn, &cur, sizeof(cur)); /* padding too: the next compare */
        atomic_store_explicit(&ifp->in6->addr6, sn, memory_order_release);
        if (old != NULL)
                stack_defer(ifp->stack, free, old);
        local6_rebuild(ifp->stack);
        return 0;
}

#define ADDR6_RETRY_NS (MPNET_NS_PER_S / 1000)

/* The control context's service hook: the copies a want of memory left
 * unpublished are made again, every millisecond until they are. */
uint64_t ip6_ctx_service(struct wctx *w, void *cs, uint64_t now)
{
        struct mpnet_stack *s = w->s;

        (void)cs;
        if (w->id != 0)
                return MPNET_TIME_NEVER;
        for (uint64_t m = s->addr6_unpublished; m != 0; m &= m - 1) {
                struct mpnet_iface *ifp = s->ifs[mask_ifindex(m)];

                if (ifp != NULL)
                        (void)iface_addr6_publish(ifp);
                else
                        s->addr6_unpublished &= ~(m & -m);
        }
        return s->addr6_unpublished != 0 ? now + ADDR6_RETRY_NS : MPNET_TIME_NEVER;
}

const struct addr6_snap *iface_addr6_read(const struct mpnet_iface *ifp)
{
        static const struct addr6_snap none;
        const struct addr6_snap *a =
            atomic_load_explicit(&((struct mpnet_iface *)ifp)->in6->addr6, memory_order_acquire);

        return a != NULL ? a : &none;
}

const struct addr6_pub *iface_addr6_find(const struct mpnet_iface *ifp, const uint8_t *a)
{
        const struct addr6_snap *sn = iface_addr6_read(ifp);

        for (unsigned i = 0; i < sn->n; i++) {
                if (ip6_eq(sn->a[i].addr, a))
                        return &sn->a[i];
        }
        return NULL;
}

bool iface_mc6_has(const struct mpnet_iface *ifp, const uint8_t *g)
{
        const struct addr6_snap *sn = iface_addr6_read(ifp);

        for (unsigned i = 0; i < sn->n_mc; i++) {
                if (ip6_eq(sn->mc[i], g))
                        return true;
        }
        return false;
}

bool stack_is_local6(const struct mpnet_stack *s, const uint8_t *a)
{
        const struct local6_set *set =
            atomic_load_explicit(&((struct mpnet_stack *)s)->local6, memory_order_acquire);

        if (__builtin_expect(set != NULL, 1)) {
                struct a128 k = a128_of(a);
                unsigned lo = 0, hi = set->n;

                while (lo < hi) {
                        unsigned mid = (lo + hi) / 2;
                        int c = a128_cmp(&set->a[mid], &k);

                        if (c == 0)
                                return true;
                        if (c < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                return false;
        }
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                const struct mpnet_iface *ifp = __atomic_load_n(&s->ifs[i], __ATOMIC_ACQUIRE);
                const struct addr6_pub *x = ifp != NULL ? iface_addr6_find(ifp, a) : NULL;

                /* RFC 4862 5.4: a tentative address is not ours yet. */
                if (x != NULL &&
                    (x->flags & (MPNET_ADDR6_F_TENTATIVE | MPNET_ADDR6_F_DUPLICATED)) == 0)
                        return true;
        }
        return false;
}

/* ---- the interface hooks (graph.h) ---- */

int ip6_iface_attach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        struct ip6_ifdata *in6 = aligned_calloc(sizeof(*in6));

        (void)s;
        if (in6 == NULL)
                return -ENOMEM;
        ifp->in6 = in6;
        ifp->neigh[NEIGH_ND] = &in6->neigh;
        nd6_iface_init(ifp);
        return 0;
}

void ip6_iface_detach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        struct ip6_ifdata *in6 = ifp->in6;

        while (in6->n_addrs6 > 0)
                mpnet_addr6_del(s, ifp->ifindex, in6->addrs6[0].addr, in6->addrs6[0].plen);
        mpnet_timer_cancel(s->timers, &in6->nd_timer);
}

void ip6_iface_free(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        (void)s;
        if (ifp->in6 == NULL)
                return;
        free(ifp->in6->ra);
        free(atomic_load_explicit(&ifp->in6->addr6, memory_order_relaxed));
        free(ifp->in6);
        ifp->in6 = NULL;
        ifp->neigh[NEIGH_ND] = NULL;
}

/* RFC 8200 5: IPv6 needs 1280; below it the IPv6 MTU stays. */
void ip6_iface_mtu(struct mpnet_iface *ifp, uint32_t mtu)
{
        if (mtu >= 1280)
                atomic_store(&ifp->in6->mtu6, mtu);
}

void ip6_iface_table(struct mpnet_iface *ifp, bool add)
{
        iface_addr6_routes(ifp, add);
}

/* ---- stack_reset (stack/reset.c): what input may change, and back ---- */

unsigned ip6_iface_mark(const struct mpnet_iface *ifp, void *mark, struct mpnet_timer **t)
{
        struct ip6_ifmark *m = mark;

        memcpy(&m->c, ifp->in6, sizeof(m->c));
        if (ifp->in6->ra != NULL)
                m->ra = *ifp->in6->ra;
        t[0] = &ifp->in6->nd_timer;
        return 1;
}

static void reset_redirects(struct mpnet_iface *ifp, const struct ip6_ifmark *mi)
{
        nd6_redirect_flush(ifp);
        ifp->in6->n_redir = mi->c.n_redir;
        memcpy(ifp->in6->redir, mi->c.redir, sizeof(ifp->in6->redir));
}

/* Addresses and their DAD, SLAAC, the default router and prefix lists,
 * RDNSS, the ND parameters an RA sets, RS and RA timing. Their routes are
 * reset_routes()'. */
static void reset_ip6_iface(struct mpnet_iface *ifp, const struct ip6_ifmark *mi)
{
        const struct ip6_ifdata *c = &mi->c;

        ifp->in6->ip6_on = c->ip6_on;
        atomic_store_explicit(&ifp->in6->mtu6, atomic_load_explicit(&c->mtu6, memory_order_relaxed),
                              memory_order_relaxed);
        ifp->in6->n_addrs6 = c->n_addrs6;
        memcpy(ifp->in6->addrs6, c->addrs6, sizeof(ifp->in6->addrs6));
        ifp->in6->nd_reachable_base = c->nd_reachable_base;
        ifp->in6->nd_reachable_ns = c->nd_reachable_ns;
        ifp->in6->nd_retrans_ns = c->nd_retrans_ns;
        ifp->in6->cur_hop_limit = c->cur_hop_limit;
        ifp->in6->rs_left = c->rs_left;
        ifp->in6->rs_next = c->rs_next;
        ifp->in6->n_dr = c->n_dr;
        memcpy(ifp->in6->dr, c->dr, sizeof(ifp->in6->dr));
        ifp->in6->n_rdnss = c->n_rdnss;
        memcpy(ifp->in6->rdnss, c->rdnss, sizeof(ifp->in6->rdnss));
        ifp->in6->rdnss_until = c->rdnss_until;
        ifp->in6->n_onlink = c->n_onlink;
        memcpy(ifp->in6->onlink, c->onlink, sizeof(ifp->in6->onlink));
        if (ifp->in6->ra != NULL)
                *ifp->in6->ra = mi->ra;
}

/* Joined groups (SLAAC joins solicited-node groups), their MACs and the
 * report state. */
static void reset_mld(struct mpnet_iface *ifp, const struct ip6_ifmark *mi)
{
        const struct ip6_ifdata *c = &mi->c;

        ifp->in6->n_mc6 = c->n_mc6;
        memcpy(ifp->in6->mc6, c->mc6, sizeof(ifp->in6->mc6));
        for (unsigned i = 0; i < IFACE_MAX_MC; i++)
                atomic_store_explicit(&ifp->in6->mc_mac[i],
                                      atomic_load_explicit(&c->mc_mac[i], memory_order_relaxed),
                                      memory_order_relaxed);
        ifp->in6->mld_next = c->mld_next;
        ifp->in6->mld_query_at = c->mld_query_at;
        memcpy(ifp->in6->mld_query_group, c->mld_query_group, 16);
}

int ip6_iface_reset(struct mpnet_iface *ifp, const void *mark)
{
        const struct ip6_ifmark *m = mark;

        reset_redirects(ifp, m);
        reset_ip6_iface(ifp, m);
        reset_mld(ifp, m);
        /* Workers read the IPv6 addresses and groups from a published
         * copy: published again when they changed. */
        return iface_addr6_publish(ifp);
}

/* ---- mpnet_stack_usage_get ---- */

void ip6_iface_usage(const struct mpnet_iface *ifp, struct mpnet_stack_usage *u)
{
        u->addr6 += ifp->in6->n_addrs6;
        u->onlink6 += ifp->in6->n_onlink;
        u->dr6 += ifp->in6->n_dr;
        u->mc6 += ifp->in6->n_mc6;
}

void ip6_usage(struct mpnet_stack *s, struct mpnet_stack_usage *u)
{
        (void)s;
        u->addr6_max = IFACE_MAX_ADDRS;
        u->onlink6_max = IFACE_MAX_ONLINK;
        u->dr6_max = IFACE_MAX_DR;
        u->mc6_max = IFACE_MAX_MC;
}
