/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An interface's IPv4 part (struct ip4_ifdata, l3/ip_iface.h): made and
 * freed with the interface (mod_ip4's interface hooks), its addresses and
 * their routes, the published copies every context reads, the stack's set
 * of local IPv4 addresses, gratuitous ARP after an address is added, and
 * the redirect switch.
 *
 * Synchronisation: the configuration calls and hooks are the control
 * thread's; iface_addr_match, iface_addr4_first, iface_has_addr and
 * stack_is_local4 run on any context and read only the published copies
 * (RCU).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fib/fib_priv.h"
#include "l3/ip4.h"
#include "l3/ip_iface.h"
#include "mpnet/wire/ipv4.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

static void announce_timer(struct mpnet_timer *t, void *arg, uint64_t now)
{
        struct mpnet_iface *ifp = arg;
        bool more = false;

        for (unsigned i = 0; i < ifp->in4->n_addrs; i++) {
                struct ifaddr4 *a = &ifp->in4->addrs[i];

                if (a->announce_left == 0)
                        continue;
                arp_announce(ifp, a->addr);
                more |= --a->announce_left > 0;
        }
        if (more)
                mpnet_timer_arm(ifp->stack->timers, t, now + ANNOUNCE_INTERVAL);
}

/* An address that may be configured on an interface (RFC 1122 3.2.1.3). */
static bool addr4_usable(uint32_t a, uint8_t plen)
{
        uint32_t host;

        if (plen > 32)
                return false;
        host = a & ~ip4_mask(plen);
        if (mpnet_ip4_is_zeronet(a) || mpnet_ip4_is_loopback(a) || mpnet_ip4_is_multicast(a) ||
            mpnet_ip4_is_class_e(a))
                return false;
        /* Host part all zeros or all ones is the network or broadcast, except
         * on /31 (RFC 3021) and /32. */
        if (plen < 31 && (host == 0 || host == ~ip4_mask(plen)))
                return false;
        return true;
}

/* Another address of ifp (other than skip) on the same prefix. */
static bool prefix_shared(const struct mpnet_iface *ifp, uint32_t addr, uint8_t plen, uint32_t skip)
{
        for (unsigned i = 0; i < ifp->in4->n_addrs; i++) {
                const struct ifaddr4 *a = &ifp->in4->addrs[i];

                if (a->addr != skip && a->plen == plen && ((a->addr ^ addr) & ip4_mask(plen)) == 0)
                        return true;
        }
        return false;
}

/*
 * Add (or remove) an address's routes in its interface's table: the local
 * /32 and the connected prefix (none for a /32). A prefix that another
 * address of the interface already covers keeps its one connected route.
 */
static int addr4_routes(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t addr, uint8_t plen,
                        bool add)
{
        struct mpnet_route4 r = {.dst = addr, .plen = 32, .type = MPNET_NH_LOCAL, .n_paths = 1};
        uint32_t net = addr & ip4_mask(plen);
        bool connected = plen < 32 && !prefix_shared(ifp, addr, plen, addr);
        int err;

        r.paths[0].ifindex = ifp->ifindex;
        if (!add) {
                mpnet_route4_del(s, ifp->table, addr, 32);
                if (connected)
                        mpnet_route4_del(s, ifp->table, net, plen);
                return 0;
        }
        /* Replace: a static route to the same /32 gives way to the address. */
        err = mpnet_route4_replace(s, ifp->table, &r);
        if (err != 0 || !connected)
                return err;
        r.dst = net;
        r.plen = plen;
        r.type = MPNET_NH_CONNECTED;
        err = mpnet_route4_replace(s, ifp->table, &r);
        if (err != 0)
                mpnet_route4_del(s, ifp->table, addr, 32);
        return err;
}

static struct addr4_snap *addr4_snap_alloc(void);
static void addr4_commit(struct mpnet_iface *ifp, struct addr4_snap *snap);

int mpnet_addr4_add(struct mpnet_stack *s, int ifindex, uint32_t addr, uint8_t plen)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct addr4_snap *snap;
        struct ifaddr4 *a;
        int err;

        if (ifp == NULL)
                return -ENODEV;
        if (!addr4_usable(addr, plen))
                return -EINVAL;
        for (unsigned i = 0; i < ifp->in4->n_addrs; i++) {
                if (ifp->in4->addrs[i].addr == addr)
                        return -EEXIST;
        }
        if (ifp->in4->n_addrs == IFACE_MAX_ADDRS)
                return -ENOSPC;
        snap = addr4_snap_alloc();
        if (snap == NULL)
                return -ENOMEM;
        err = addr4_routes(s, ifp, addr, plen, true);
        if (err != 0) {
                free(snap);
                return err;
        }
        a = &ifp->in4->addrs[ifp->in4->n_addrs++];
        a->addr = addr;
        a->plen = plen;
        a->mask = ip4_mask(plen);
        a->announce_left = ANNOUNCE_NUM;
        addr4_commit(ifp, snap);
        /* The first announcement goes with the next poll, so a caller that
         * adds the address before the peer is listening still gets it out. */
        mpnet_timer_arm(s->timers, &ifp->in4->announce_timer, s->now);
        stack_event(s, &(struct mpnet_event){.type = MPNET_EV_ADDR_ADD,
                                             .ifindex = ifindex,
                                             .family = 4,
                                             .addr4 = addr,
                                             .plen = plen});
        return 0;
}

int mpnet_addr4_del(struct mpnet_stack *s, int ifindex, uint32_t addr, uint8_t plen)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        for (unsigned i = 0; i < ifp->in4->n_addrs; i++) {
                if (ifp->in4->addrs[i].addr == addr && ifp->in4->addrs[i].plen == plen) {
                        struct addr4_snap *snap = addr4_snap_alloc();

                        if (snap == NULL)
                                return -ENOMEM;
                        addr4_routes(s, ifp, addr, plen, false);
                        ifp->in4->addrs[i] = ifp->in4->addrs[--ifp->in4->n_addrs];
                        addr4_commit(ifp, snap);
                        stack_event(s, &(struct mpnet_event){.type = MPNET_EV_ADDR_DEL,
                                                             .ifindex = ifindex,
                                                             .family = 4,
                                                             .addr4 = addr,
                                                             .plen = plen});
                        return 0;
                }
        }
        return -ENOENT;
}

int mpnet_addr4_list(struct mpnet_stack *s, int ifindex, struct mpnet_addr4_info *out, unsigned max)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        for (unsigned i = 0; i < ifp->in4->n_addrs && i < max; i++)
                out[i] = (struct mpnet_addr4_info){.addr = ifp->in4->addrs[i].addr,
                                                   .plen = ifp->in4->addrs[i].plen};
        return (int)ifp->in4->n_addrs;
}

/* ---- the published addresses ---- */

static struct addr4_snap *addr4_snap_alloc(void)
{
        return malloc(sizeof(struct addr4_snap) + IFACE_MAX_ADDRS * sizeof(struct ifaddr4));
}

static int u32_cmp(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return (x > y) - (x < y);
}

/* Rebuild the stack's sorted address set from the interfaces' arrays. Out
 * of memory, the set goes (NULL) and stack_is_local4() walks the
 * interfaces' snapshots instead: slower, never stale. */
static void local4_rebuild(struct mpnet_stack *s)
{
        struct local4_set *set, *old;
        unsigned n = 0;

        for (int i = 1; i <= STACK_MAX_IFACES; i++)
                n += s->ifs[i] != NULL ? s->ifs[i]->in4->n_addrs : 0;
        set = malloc(sizeof(*set) + n * sizeof(set->a[0]));
        if (set != NULL) {
                set->n = 0;
                for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                        const struct mpnet_iface *ifp = s->ifs[i];

                        for (unsigned k = 0; ifp != NULL && k < ifp->in4->n_addrs; k++)
                                set->a[set->n++] = ifp->in4->addrs[k].addr;
                }
                qsort(set->a, set->n, sizeof(set->a[0]), u32_cmp);
        }
        old = atomic_exchange_explicit(&s->local4, set, memory_order_acq_rel);
        if (old != NULL)
                stack_defer(s, free, old);
}

/* Publish ifp's addresses in snap (made before the change, so a change
 * that happened is always published); the old copy goes after a grace
 * period. */
static void addr4_commit(struct mpnet_iface *ifp, struct addr4_snap *snap)
{
        struct addr4_snap *old;

        snap->n = ifp->in4->n_addrs;
        memcpy(snap->a, ifp->in4->addrs, ifp->in4->n_addrs * sizeof(snap->a[0]));
        old = atomic_exchange_explicit(&ifp->in4->addr4, snap, memory_order_acq_rel);
        if (old != NULL)
                stack_defer(ifp->stack, free, old);
        local4_rebuild(ifp->stack);
}

int iface_addr4_publish(struct mpnet_iface *ifp)
{
        struct addr4_snap *snap = addr4_snap_alloc();

        if (snap == NULL)
                return -ENOMEM;
        addr4_commit(ifp, snap);
        return 0;
}

static const struct addr4_snap *addr4_read(const struct mpnet_iface *ifp)
{
        static const struct addr4_snap none = {.n = 0};
        const struct addr4_snap *a =
            atomic_load_explicit(&((struct mpnet_iface *)ifp)->in4->addr4, memory_order_acquire);

        return a != NULL ? a : &none;
}

/* The address whose connected prefix holds dst, the longest one. */
const struct ifaddr4 *iface_addr_match(const struct mpnet_iface *ifp, uint32_t dst)
{
        const struct addr4_snap *sn = addr4_read(ifp);
        const struct ifaddr4 *best = NULL;

        for (unsigned i = 0; i < sn->n; i++) {
                const struct ifaddr4 *a = &sn->a[i];

                if (((dst ^ a->addr) & a->mask) == 0 && (best == NULL || a->plen > best->plen))
                        best = a;
        }
        return best;
}

uint32_t iface_addr4_first(const struct mpnet_iface *ifp)
{
        const struct addr4_snap *sn = addr4_read(ifp);

        return sn->n > 0 ? sn->a[0].addr : 0;
}

bool iface_has_addr(const struct mpnet_iface *ifp, uint32_t a)
{
        const struct addr4_snap *sn = addr4_read(ifp);

        for (unsigned i = 0; i < sn->n; i++) {
                if (sn->a[i].addr == a)
                        return true;
        }
        return false;
}

bool stack_is_local4(const struct mpnet_stack *s, uint32_t a)
{
        const struct local4_set *set =
            atomic_load_explicit(&((struct mpnet_stack *)s)->local4, memory_order_acquire);

        if (__builtin_expect(set != NULL, 1)) {
                unsigned lo = 0, hi = set->n;

                while (lo < hi) {
                        unsigned mid = (lo + hi) / 2;

                        if (set->a[mid] == a)
                                return true;
                        if (set->a[mid] < a)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                return false;
        }
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                const struct mpnet_iface *ifp = __atomic_load_n(&s->ifs[i], __ATOMIC_ACQUIRE);

                if (ifp != NULL && iface_has_addr(ifp, a))
                        return true;
        }
        return false;
}

int mpnet_iface_ip4_redirects(struct mpnet_stack *s, int ifindex, bool send)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        atomic_store(&ifp->in4->redirect4_send, send);
        return 0;
}

/* ---- the interface hooks (graph.h) ---- */

int ip4_iface_attach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        struct ip4_ifdata *in4 = aligned_calloc(sizeof(*in4));

        (void)s;
        if (in4 == NULL)
                return -ENOMEM;
        mpnet_timer_init(&in4->announce_timer, announce_timer, ifp);
        /* RFC 1812 5.2.7.2: a router SHOULD send host redirects (as Linux
         * does by default). */
        atomic_store(&in4->redirect4_send, true);
        ifp->in4 = in4;
        ifp->neigh[NEIGH_ARP] = &in4->neigh;
        return 0;
}

void ip4_iface_detach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        struct ip4_ifdata *in4 = ifp->in4;

        while (in4->n_addrs > 0 &&
               mpnet_addr4_del(s, ifp->ifindex, in4->addrs[0].addr, in4->addrs[0].plen) == 0)
                ;
        /* Out of memory for a copy: the addresses go from what workers and
         * the local set see as best it can. */
        if (in4->n_addrs > 0) {
                in4->n_addrs = 0;
                (void)iface_addr4_publish(ifp);
        }
        mpnet_timer_cancel(s->timers, &in4->announce_timer);
}

void ip4_iface_free(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        (void)s;
        if (ifp->in4 == NULL)
                return;
        free(atomic_load_explicit(&ifp->in4->addr4, memory_order_relaxed));
        free(ifp->in4);
        ifp->in4 = NULL;
        ifp->neigh[NEIGH_ARP] = NULL;
}

/* Address routes move with the interface to another table: they go as if
 * the addresses went, last first, and come back in order. */
void ip4_iface_table(struct mpnet_iface *ifp, bool add)
{
        struct ip4_ifdata *in4 = ifp->in4;

        if (!add) {
                unsigned n = in4->n_addrs;

                while (in4->n_addrs > 0) {
                        in4->n_addrs--;
                        addr4_routes(ifp->stack, ifp, in4->addrs[in4->n_addrs].addr,
                                     in4->addrs[in4->n_addrs].plen, false);
                }
                in4->n_addrs = n;
                return;
        }
        for (unsigned n = in4->n_addrs, i = in4->n_addrs = 0; i < n; i++) {
                addr4_routes(ifp->stack, ifp, in4->addrs[i].addr, in4->addrs[i].plen, true);
                in4->n_addrs++;
        }
}

unsigned ip4_iface_mark(const struct mpnet_iface *ifp, void *mark, struct mpnet_timer **t)
{
        memcpy(mark, ifp->in4, sizeof(*ifp->in4));
        t[0] = &ifp->in4->announce_timer;
        return 1;
}

/* stack_reset (stack/reset.c): the part of ifp that input may change,
 * and back to it. The addresses workers read are a published copy (in4->addr4): published
 * again only when they changed. */
int ip4_iface_reset(struct mpnet_iface *ifp, const void *mark)
{
        const struct ip4_ifdata *c = mark;

        if (ifp->in4->n_addrs != c->n_addrs ||
            memcmp(ifp->in4->addrs, c->addrs, sizeof(ifp->in4->addrs)) != 0) {
                ifp->in4->n_addrs = c->n_addrs;
                memcpy(ifp->in4->addrs, c->addrs, sizeof(ifp->in4->addrs));
                if (iface_addr4_publish(ifp) != 0)
                        return -ENOMEM;
        }
        return 0;
}
