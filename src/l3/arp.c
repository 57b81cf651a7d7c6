/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ARP (RFC 826) with address conflict detection rules from RFC 5227 and
 * neighbour unreachability detection modelled on RFC 4861 section 7.3, as the
 * BSD and Linux ARP caches do.
 *
 * States: INCOMPLETE (request sent, packets queued) -> REACHABLE (confirmed by
 * a reply) -> STALE (reachable time passed, or learnt unsolicited) -> DELAY
 * (used while stale: wait for upper-layer confirmation) -> PROBE (unicast
 * requests) -> gone. INCOMPLETE that gets no answer becomes FAILED and stays
 * for a hold-down time during which sends fail at once (FreeBSD's arpt_down).
 *
 * Synchronisation: one thread drives the stack. Life cycle: entries are made
 * by resolution or by ARP for us, freed by their timer or with the interface;
 * the table per interface is bounded by ARP_MAX_ENTRIES.
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/arp.h"
#include "mpnet/wire/ethernet.h"
#include "stack/stack_priv.h"

static const uint8_t eth_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t eth_zero[6];

static unsigned arp_hash(uint32_t a)
{
        return (a * 2654435761u) >> 24; /* ARP_HASH_SIZE == 256 */
}

/* Lock-free for workers: entries are linked in with a release store once
 * built, unlinked before they are freed after a grace period. */
struct arp_entry *arp_lookup(struct mpnet_iface *ifp, uint32_t addr)
{
        struct arp_entry *e =
            atomic_load_explicit(&ifp->arp_hash[arp_hash(addr)], memory_order_acquire);

        while (e != NULL && e->addr != addr)
                e = atomic_load_explicit(&e->hnext, memory_order_acquire);
        return e;
}

static void arp_set_fast(struct arp_entry *e)
{
        uint64_t f = (uint64_t)e->state << 48;

        for (int i = 0; i < 6; i++)
                f |= (uint64_t)e->mac[i] << (8 * i);
        atomic_store_explicit(&e->fast, f, memory_order_release);
}

static void arp_timer(struct mpnet_timer *t, void *arg, uint64_t now);

static struct arp_entry *arp_create(struct mpnet_iface *ifp, uint32_t addr)
{
        struct mpnet_stack *s = ifp->stack;
        struct arp_entry *e;
        unsigned h = arp_hash(addr);

        if (ifp->arp_count >= ARP_MAX_ENTRIES) {
                STK_INC(s, arp_table_full);
                return NULL;
        }
        e = calloc(1, sizeof(*e) + s->arp_queue_max * sizeof(e->q[0]));
        if (e == NULL) {
                STK_INC(s, arp_table_full);
                return NULL;
        }
        e->ifp = ifp;
        e->addr = addr;
        mpnet_timer_init(&e->timer, arp_timer, e);
        e->state = MPNET_NEIGH_INCOMPLETE;
        arp_set_fast(e);
        atomic_store_explicit(&e->hnext,
                              atomic_load_explicit(&ifp->arp_hash[h], memory_order_relaxed),
                              memory_order_relaxed);
        atomic_store_explicit(&ifp->arp_hash[h], e, memory_order_release);
        ifp->arp_count++;
        return e;
}

static void arp_queue_drop(struct arp_entry *e)
{
        mpnet_pkt_free_bulk(e->q, e->qn);
        e->qn = 0;
}

/* An entry still resolving is removed (a flush): what it held is lost. */
static void arp_queue_flushed(struct arp_entry *e)
{
        STK_ADD(e->ifp->stack, arp_flushed, e->qn);
        arp_queue_drop(e);
}

static void arp_delete(struct arp_entry *e)
{
        struct mpnet_iface *ifp = e->ifp;

        stack_event(ifp->stack, &(struct mpnet_event){.type = MPNET_EV_NEIGH_DEL,
                                                      .ifindex = ifp->ifindex,
                                                      .family = 4,
                                                      .addr4 = e->addr});
        struct arp_entry *_Atomic *pp = &ifp->arp_hash[arp_hash(e->addr)];

        while (atomic_load_explicit(pp, memory_order_relaxed) != e)
                pp = &atomic_load_explicit(pp, memory_order_relaxed)->hnext;
        atomic_store_explicit(pp, atomic_load_explicit(&e->hnext, memory_order_relaxed),
                              memory_order_release);
        mpnet_timer_cancel(ifp->stack->timers, &e->timer);
        arp_queue_flushed(e);
        ifp->arp_count--;
        /* A worker may still be reading it. */
        stack_defer(ifp->stack, free, e);
}

void arp_iface_flush(struct mpnet_iface *ifp)
{
        for (unsigned h = 0; h < ARP_HASH_SIZE; h++) {
                struct arp_entry *e;

                while ((e = atomic_load_explicit(&ifp->arp_hash[h], memory_order_relaxed)) != NULL)
                        arp_delete(e);
        }
}

/* The link lost its carrier: what was learnt on it may be stale when it
 * comes back (a new peer, a new MAC); static entries stay (as Linux's
 * neigh_carrier_down). */
void arp_iface_flush_learnt(struct mpnet_iface *ifp)
{
        for (unsigned h = 0; h < ARP_HASH_SIZE; h++) {
                struct arp_entry *e = atomic_load_explicit(&ifp->arp_hash[h], memory_order_relaxed);

                while (e != NULL) {
                        struct arp_entry *next =
                            atomic_load_explicit(&e->hnext, memory_order_relaxed);

                        if (e->state != MPNET_NEIGH_PERMANENT)
                                arp_delete(e);
                        e = next;
                }
        }
}

int mpnet_neigh4_del(struct mpnet_stack *s, int ifindex, uint32_t addr)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct arp_entry *e;

        if (ifp == NULL)
                return -ENODEV;
        e = arp_lookup(ifp, addr);
        if (e == NULL)
                return -ENOENT;
        arp_delete(e);
        return 0;
}

static int neigh_walk_iface(struct mpnet_iface *ifp, mpnet_neigh_walk_fn fn, void *arg)
{
        struct mpnet_neigh_entry n = {.ifindex = ifp->ifindex};
        int rc;

        n.family = 4;
        for (unsigned h = 0; h < ARP_HASH_SIZE; h++) {
                for (struct arp_entry *e =
                         atomic_load_explicit(&ifp->arp_hash[h], memory_order_relaxed);
                     e != NULL; e = atomic_load_explicit(&e->hnext, memory_order_relaxed)) {
                        n.addr4 = e->addr;
                        n.info = (struct mpnet_neigh_info){
                            .state = e->state, .queued = e->qn, .probes = e->probes};
                        memcpy(n.info.mac, e->mac, 6);
                        if ((rc = fn(arg, &n)) != 0)
                                return rc;
                }
        }
        n.family = 6;
        n.addr4 = 0;
        for (unsigned h = 0; h < ND6_HASH_SIZE; h++) {
                for (struct nd6_entry *e =
                         atomic_load_explicit(&ifp->nd_hash[h], memory_order_relaxed);
                     e != NULL; e = atomic_load_explicit(&e->hnext, memory_order_relaxed)) {
                        memcpy(n.addr6, e->addr, 16);
                        n.info = (struct mpnet_neigh_info){.state = e->state,
                                                           .queued = e->qn,
                                                           .probes = e->probes,
                                                           .router = e->router};
                        memcpy(n.info.mac, e->mac, 6);
                        if ((rc = fn(arg, &n)) != 0)
                                return rc;
                }
        }
        return 0;
}

int mpnet_neigh_walk(struct mpnet_stack *s, int ifindex, mpnet_neigh_walk_fn fn, void *arg)
{
        int rc;

        if (ifindex != 0) {
                struct mpnet_iface *ifp = stack_iface(s, ifindex);

                return ifp != NULL ? neigh_walk_iface(ifp, fn, arg) : -ENODEV;
        }
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *ifp = stack_iface(s, i);

                if (ifp != NULL && (rc = neigh_walk_iface(ifp, fn, arg)) != 0)
                        return rc;
        }
        return 0;
}

/* The source address for ARP about target: ours on the same subnet. */
static uint32_t arp_source(struct mpnet_iface *ifp, uint32_t target)
{
        const struct ifaddr4 *a = iface_addr_match(ifp, target);

        if (a != NULL)
                return a->addr;
        return ifp->n_addrs > 0 ? ifp->addrs[0].addr : 0;
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

static void arp_request(struct arp_entry *e, const uint8_t *dst_mac)
{
        e->probes++;
        arp_send(e->ifp, MPNET_ARP_OP_REQUEST, dst_mac, eth_zero, arp_source(e->ifp, e->addr),
                 e->addr);
}

/* Retransmission time with +-25 % jitter so that many hosts do not probe in
 * step (RFC 4861 section 6.3.2 does the same for ReachableTime). */
static uint64_t arp_retrans(struct mpnet_stack *s)
{
        uint64_t base = s->arp_retrans_ns;

        return base - base / 4 + stack_random(s) % (base / 2 + 1);
}

static void arp_set_state(struct arp_entry *e, enum mpnet_neigh_state st, uint64_t expire)
{
        struct mpnet_timer_wheel *w = e->ifp->stack->timers;
        struct mpnet_event ev = {.ifindex = e->ifp->ifindex, .family = 4, .addr4 = e->addr};

        /* Events for what a listener acts on: resolved, and failed. */
        if (neigh_resolved(e->state, st)) {
                ev.type = MPNET_EV_NEIGH_REACHABLE;
                memcpy(ev.mac, e->mac, 6);
                stack_event(e->ifp->stack, &ev);
        } else if (st == MPNET_NEIGH_FAILED && e->state != MPNET_NEIGH_FAILED) {
                ev.type = MPNET_EV_NEIGH_FAILED;
                stack_event(e->ifp->stack, &ev);
        }
        e->state = st;
        arp_set_fast(e);
        if (expire == MPNET_TIME_NEVER)
                mpnet_timer_cancel(w, &e->timer);
        else
                mpnet_timer_arm(w, &e->timer, expire);
}

static void arp_timer(struct mpnet_timer *t, void *arg, uint64_t now)
{
        struct arp_entry *e = arg;
        struct mpnet_stack *s = e->ifp->stack;

        switch (e->state) {
        case MPNET_NEIGH_INCOMPLETE:
                if (e->probes < s->arp_max_probes) {
                        arp_request(e, eth_bcast);
                        mpnet_timer_arm(s->timers, t, now + arp_retrans(s));
                        return;
                }
                STK_ADD(s, arp_resolve_failed, e->qn);
                arp_queue_drop(e);
                arp_set_state(e, MPNET_NEIGH_FAILED, now + ARP_HOLDDOWN_NS);
                return;
        case MPNET_NEIGH_REACHABLE:
                arp_set_state(e, MPNET_NEIGH_STALE, now + ARP_STALE_GC_NS);
                return;
        case MPNET_NEIGH_DELAY:
                e->probes = 0;
                arp_request(e, e->mac);
                arp_set_state(e, MPNET_NEIGH_PROBE, now + arp_retrans(s));
                return;
        case MPNET_NEIGH_PROBE:
                if (e->probes < s->arp_max_probes) {
                        arp_request(e, e->mac);
                        mpnet_timer_arm(s->timers, t, now + arp_retrans(s));
                        return;
                }
                arp_delete(e); /* RFC 4861 7.3.3: no answer to probes */
                return;
        case MPNET_NEIGH_STALE:
        case MPNET_NEIGH_FAILED:
                arp_delete(e);
                return;
        case MPNET_NEIGH_PERMANENT:
                return;
        }
}

static void arp_queue_flush(struct arp_entry *e)
{
        for (uint32_t i = 0; i < e->qn; i++)
                ether_output(e->ifp, e->q[i], e->mac, MPNET_ETHERTYPE_IPV4);
        e->qn = 0;
}

/* Record a link-layer address for e. confirmed: the neighbour answered us. */
static void arp_update(struct arp_entry *e, const uint8_t *mac, bool confirmed)
{
        struct mpnet_stack *s = e->ifp->stack;
        bool changed = memcmp(e->mac, mac, 6) != 0;

        if (e->state == MPNET_NEIGH_PERMANENT)
                return;
        memcpy(e->mac, mac, 6);
        if (confirmed) {
                e->probes = 0;
                arp_set_state(e, MPNET_NEIGH_REACHABLE, s->now + s->arp_reachable_ns);
        } else if (changed || e->state == MPNET_NEIGH_INCOMPLETE ||
                   e->state == MPNET_NEIGH_FAILED) {
                /* Learnt without asking: usable, but not known to be reachable. */
                e->probes = 0;
                arp_set_state(e, MPNET_NEIGH_STALE, s->now + ARP_STALE_GC_NS);
        }
        arp_queue_flush(e);
}

int arp_add_permanent(struct mpnet_iface *ifp, uint32_t addr, const uint8_t mac[6])
{
        struct arp_entry *e = arp_lookup(ifp, addr);

        if (e == NULL)
                e = arp_create(ifp, addr);
        if (e == NULL)
                return -ENOSPC;
        memcpy(e->mac, mac, 6);
        arp_set_state(e, MPNET_NEIGH_PERMANENT, MPNET_TIME_NEVER);
        arp_queue_flush(e);
        return 0;
}

static void arp_enqueue(struct arp_entry *e, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = e->ifp->stack;

        /* Keep the newest: the oldest is the likeliest to have been retried. */
        if (e->qn == s->arp_queue_max) {
                mpnet_pkt_free(e->q[0]);
                memmove(&e->q[0], &e->q[1], (e->qn - 1) * sizeof(e->q[0]));
                e->qn--;
                STK_INC(s, arp_queue_drop);
        }
        e->q[e->qn++] = p;
}

int arp_resolve_output(struct mpnet_iface *ifp, uint32_t nexthop, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = ifp->stack;
        struct arp_entry *e = arp_lookup(ifp, nexthop);

        if (e == NULL) {
                e = arp_create(ifp, nexthop);
                if (e == NULL) {
                        mpnet_pkt_free(p);
                        return -ENOBUFS;
                }
                e->state = MPNET_NEIGH_INCOMPLETE;
                arp_enqueue(e, p);
                arp_request(e, eth_bcast);
                mpnet_timer_arm(s->timers, &e->timer, s->now + arp_retrans(s));
                return 0;
        }
        switch (e->state) {
        case MPNET_NEIGH_INCOMPLETE:
                arp_enqueue(e, p);
                return 0;
        case MPNET_NEIGH_FAILED:
                STK_INC(s, arp_resolve_failed);
                mpnet_pkt_free(p);
                return -EHOSTUNREACH;
        case MPNET_NEIGH_STALE:
                /* RFC 4861 7.3.3: first use of a stale entry starts the delay. */
                arp_set_state(e, MPNET_NEIGH_DELAY, s->now + ARP_DELAY_NS);
                break;
        case MPNET_NEIGH_REACHABLE:
        case MPNET_NEIGH_DELAY:
        case MPNET_NEIGH_PROBE:
        case MPNET_NEIGH_PERMANENT:
                break;
        }
        return ether_output(ifp, p, e->mac, MPNET_ETHERTYPE_IPV4);
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
        struct arp_entry *e;
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
                e = arp_lookup(ifp, r.spa);
                if (e == NULL && for_us && iface_addr_match(ifp, r.spa) != NULL)
                        e = arp_create(ifp, r.spa);
                if (e != NULL)
                        arp_update(e, r.sha, for_us && r.op == MPNET_ARP_OP_REPLY);
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

/* The arp-input node. */
void arp_node(struct wctx *w, struct mpnet_iface *ifp)
{
        struct frame *in = &w->fr[MPNET_NODE_arp_input];

        for (unsigned i = 0; i < in->n; i++)
                arp_input(ifp, in->p[i]);
        in->n = 0;
}
