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
        addr6_snap_fill(ifp, &cur);
        if (old != NULL && memcmp(old, &cur, sizeof(cur)) == 0)
                return 0;
        sn = malloc(sizeof(*sn));
        if (sn == NULL)
                return -ENOMEM;
        memcpy(sn, &cur, sizeof(cur)); /* padding too: the next compare */
        atomic_store_explicit(&ifp->in6->addr6, sn, memory_order_release);
        if (old != NULL)
                stack_defer(ifp->stack, free, old);
        local6_rebuild(ifp->stack);
        return 0;
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
