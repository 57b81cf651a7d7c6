/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The neighbour cache, one for ARP and ND: a hash table per interface and
 * family, one state machine, one timer per entry, one bounded hold queue.
 * ARP (l3/arp.c) and ND (l3/nd6.c) are resolvers on it: they say how to
 * ask for an address and feed it what the answers say (struct
 * neigh_proto).
 *
 * States (RFC 4861 7.3.2, used for ARP as well, as Linux does):
 * INCOMPLETE (asked, packets held) -> REACHABLE (confirmed) -> STALE
 * (reachable time passed, or learnt unsolicited) -> DELAY (used while
 * stale: wait for upper-layer confirmation) -> PROBE (unicast requests) ->
 * REACHABLE again. A neighbour that answers no request, or no probe, is
 * FAILED for a hold-down time during which sends fail at once (FreeBSD's
 * arpt_down), then forgotten; an unused STALE entry is forgotten after
 * NEIGH_STALE_GC_NS.
 *
 * Workers send through REACHABLE, STALE, DELAY, PROBE and PERMANENT entries
 * themselves (RFC 4861 7.3.3: a STALE entry is used as is); the first
 * worker to use a STALE entry sets its poke flag and punts a poke that
 * starts the delay, so the control thread hears once per STALE episode,
 * not once per packet. Packets for INCOMPLETE and FAILED entries, and for
 * next hops with none, are punted.
 *
 * Synchronisation: see neigh.h. Lock order: none (no locks).
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/neigh.h"
#include "l2/ether.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

static_assert(NEIGH_N == IFACE_NEIGH_N, "struct mpnet_iface holds a table per family");

static const struct neigh_proto *neigh_proto(unsigned fam)
{
        return fam == NEIGH_ARP ? &arp_neigh_proto : &nd6_neigh_proto;
}

static uint32_t neigh_hv(unsigned fam, const union neigh_key *k)
{
        return fam == NEIGH_ARP ? neigh_hv4(k->a4) : neigh_hv6(k->a6);
}

struct neigh_entry *neigh_lookup(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k)
{
        struct neigh_entry *e = neigh_chain_head(ifp->neigh[fam], neigh_hv(fam, k));

        while (e != NULL && ((e->key.w[0] ^ k->w[0]) | (e->key.w[1] ^ k->w[1])) != 0)
                e = atomic_load_explicit(&e->hnext, memory_order_acquire);
        return e;
}

static void neigh_ctr_add(struct mpnet_stack *s, int c, uint64_t n)
{
        mpnet_counter_add(s->ctr, (unsigned)c, n);
}

/*
 * A flood of requests or solicitations from random senders makes every
 * one an entry, an eviction and an answer (RFC 826's merge, RFC 4861
 * 7.2.3): hundreds of cycles each, on the control thread. Such messages
 * from senders the cache does not hold pass at the stack's learning rate
 * per interface and family (control-plane policing, RFC 6192), each
 * context at its share; known senders, the answers to our own resolution
 * (their entry is INCOMPLETE) among them, always pass, so resolution the
 * router starts and the neighbours it has keep working under the flood.
 */
bool neigh_learn_ok(struct wctx *w, struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k)
{
        struct mpnet_stack *s = w->s;

        if (neigh_lookup(ifp, fam, k) != NULL ||
            ctx_bucket_take(w, &ifp->neigh[fam]->learn[w->id], s->neigh_learn_rate,
                            s->neigh_learn_burst))
                return true;
        neigh_ctr_add(s, neigh_proto(fam)->c_learn_limited, 1);
        return false;
}

static void neigh_set_fast(struct neigh_entry *e)
{
        uint64_t f = (uint64_t)e->state << 48;

        for (int i = 0; i < 6; i++)
                f |= (uint64_t)e->mac[i] << (8 * i);
        /* Cleared before the new state is published: a worker that sees the
         * state sees the flag clear, so each episode gets one poke. */
        atomic_store_explicit(&e->poked, false, memory_order_relaxed);
        atomic_store_explicit(&e->fast, f, memory_order_release);
}

static void neigh_timer(struct mpnet_timer *t, void *arg, uint64_t now);
static void neigh_delete(struct neigh_entry *e);

/* ---- the entries never confirmed, oldest first ---- */

static void unconf_add(struct neigh_table *t, struct neigh_entry *e)
{
        e->unconfirmed = true;
        e->unext = NULL;
        e->uprev = t->unconf_new;
        if (t->unconf_new != NULL)
                t->unconf_new->unext = e;
        else
                t->unconf_old = e;
        t->unconf_new = e;
}

static void unconf_del(struct neigh_table *t, struct neigh_entry *e)
{
        if (!e->unconfirmed)
                return;
        e->unconfirmed = false;
        if (e->uprev != NULL)
                e->uprev->unext = e->unext;
        else
                t->unconf_old = e->unext;
        if (e->unext != NULL)
                e->unext->uprev = e->uprev;
        else
                t->unconf_new = e->uprev;
        e->uprev = e->unext = NULL;
}

/* A full table: the oldest entry nobody confirmed goes, whatever its state
 * (INCOMPLETE, learnt STALE, or DELAY/PROBE/FAILED on the way to being
 * forgotten). @return false when every entry is confirmed or static:
 * those are never evicted, the new one is refused. */
static bool neigh_evict(struct mpnet_iface *ifp, unsigned fam)
{
        struct neigh_table *t = ifp->neigh[fam];
        struct neigh_entry *v = t->unconf_old;

        if (v == NULL)
                return false;
        neigh_ctr_add(ifp->stack, neigh_proto(fam)->c_evicted, 1);
        neigh_delete(v);
        /* Under a flood every new entry evicts the oldest, made long ago
         * and out of the cache, with the packet it holds: fetch the next
         * victim's packet (its entry was fetched at the last eviction) and
         * the entry after it, so those misses overlap the work until then. */
        v = t->unconf_old;
        if (v != NULL) {
                if (v->qn > 0)
                        __builtin_prefetch(v->q[0], 1);
                if (v->unext != NULL) {
                        __builtin_prefetch(v->unext, 1);
                        __builtin_prefetch((const char *)v->unext + MPNET_CACHE_LINE, 1);
                }
        }
        return true;
}

/* At the end of its hash chain: a lookup walks past the entries made
 * before it, so a flood's new entries do not lengthen the walk to the
 * peers known before it (4,096 entries on 1,024 chains: 4 a chain). The
 * release store publishes e, filled, to lock-free readers. */
static void neigh_link_tail(struct neigh_entry *_Atomic *pp, struct neigh_entry *e)
{
        struct neigh_entry *n;

        atomic_store_explicit(&e->hnext, NULL, memory_order_relaxed);
        while ((n = atomic_load_explicit(pp, memory_order_relaxed)) != NULL)
                pp = &n->hnext;
        atomic_store_explicit(pp, e, memory_order_release);
}

struct neigh_entry *neigh_create(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k)
{
        struct mpnet_stack *s = ifp->stack;
        struct neigh_table *t = ifp->neigh[fam];
        uint32_t hv = neigh_hv(fam, k);
        unsigned h = neigh_hv_chain(hv);
        struct neigh_entry *e;

        if (t->count >= NEIGH_MAX_ENTRIES && !neigh_evict(ifp, fam))
                goto full;
        e = calloc(1, sizeof(*e) + s->arp_queue_max * sizeof(e->q[0]));
        if (e == NULL)
                goto full;
        e->ifp = ifp;
        e->fam = (uint8_t)fam;
        e->key = *k;
        mpnet_timer_init(&e->timer, neigh_timer, e);
        e->state = MPNET_NEIGH_INCOMPLETE;
        neigh_set_fast(e);
        /* The filter's bit first: the release store that links e orders it
         * before e can be seen (neigh_chain_head()). */
        atomic_store_explicit(&t->filt[h],
                              (uint16_t)(atomic_load_explicit(&t->filt[h], memory_order_relaxed) |
                                         neigh_filt_bit(hv)),
                              memory_order_relaxed);
        neigh_link_tail(&t->hash[h], e);
        t->count++;
        unconf_add(t, e);
        return e;
full:
        neigh_ctr_add(s, neigh_proto(fam)->c_table_full, 1);
        return NULL;
}

static void neigh_event(struct neigh_entry *e, enum mpnet_event_type type)
{
        struct mpnet_event ev = {
            .type = type, .ifindex = e->ifp->ifindex, .family = neigh_proto(e->fam)->family};

        if (e->fam == NEIGH_ARP)
                ev.addr4 = e->key.a4;
        else
                memcpy(ev.addr6, e->key.a6, 16);
        if (type == MPNET_EV_NEIGH_REACHABLE)
                memcpy(ev.mac, e->mac, 6);
        stack_event(e->ifp->stack, &ev);
}

/* The filter of chain h from the entries left on it, after one was
 * unlinked: a reader that loaded the old value walks the chain for an
 * entry no longer there (and finds none); the bits of the entries still
 * linked are in every value stored. */
static void neigh_filt_recompute(struct neigh_table *t, unsigned h)
{
        unsigned f = 0;

        for (struct neigh_entry *n = atomic_load_explicit(&t->hash[h], memory_order_relaxed);
             n != NULL; n = atomic_load_explicit(&n->hnext, memory_order_relaxed))
                f |= neigh_filt_bit(neigh_hv(n->fam, &n->key));
        atomic_store_explicit(&t->filt[h], (uint16_t)f, memory_order_relaxed);
}

static void neigh_delete(struct neigh_entry *e)
{
        struct mpnet_iface *ifp = e->ifp;
        struct neigh_table *t = ifp->neigh[e->fam];
        unsigned h = neigh_hv_chain(neigh_hv(e->fam, &e->key));
        struct neigh_entry *_Atomic *pp = &t->hash[h];

        neigh_event(e, MPNET_EV_NEIGH_DEL);
        while (atomic_load_explicit(pp, memory_order_relaxed) != e)
                pp = &atomic_load_explicit(pp, memory_order_relaxed)->hnext;
        atomic_store_explicit(pp, atomic_load_explicit(&e->hnext, memory_order_relaxed),
                              memory_order_release);
        neigh_filt_recompute(t, h);
        mpnet_timer_cancel(ifp->stack->timers, &e->timer);
        unconf_del(t, e);
        /* Only an entry still resolving holds packets: removed by a flush
         * or an eviction. */
        neigh_ctr_add(ifp->stack, neigh_proto(e->fam)->c_flushed, e->qn);
        mpnet_pkt_free_bulk(e->q, e->qn);
        ifp->stack->neigh_held -= e->qn;
        e->qn = 0;
        t->count--;
        if (e->state == MPNET_NEIGH_PERMANENT)
                t->n_perm--;
        /* A worker may still be reading it. */
        stack_defer(ifp->stack, free, e);
}

/* The link lost its carrier (learnt_only): what was learnt on it may be
 * stale when it comes back (a new peer, a new MAC); static entries stay,
 * as with Linux's neigh_carrier_down. */
void neigh_iface_flush(struct mpnet_iface *ifp, bool learnt_only)
{
        for (unsigned fam = 0; fam < NEIGH_N; fam++) {
                /* Up to the last entry, not over every chain: a reset
                 * (stack/reset.c) flushes a table of a few entries after
                 * each fuzz input. */
                const struct neigh_table *t = ifp->neigh[fam];
                unsigned left = learnt_only ? t->count - t->n_perm : t->count;

                for (unsigned h = 0; h < NEIGH_HASH_SIZE && left > 0; h++) {
                        struct neigh_entry *e =
                            atomic_load_explicit(&t->hash[h], memory_order_relaxed);

                        while (e != NULL) {
                                struct neigh_entry *next =
                                    atomic_load_explicit(&e->hnext, memory_order_relaxed);

                                if (!learnt_only || e->state != MPNET_NEIGH_PERMANENT) {
                                        left--;
                                        neigh_delete(e);
                                }
                                e = next;
                        }
                }
        }
}

/* Going from old to new is resolved (MPNET_EV_NEIGH_REACHABLE) when the
 * entry gains a link-layer address: it left INCOMPLETE or FAILED for any
 * state that has one, STALE included (learnt from an unsolicited packet).
 * Not every REACHABLE/STALE/PROBE round of an entry that had it: those are
 * what a listener need not act on. */
static bool neigh_resolved(enum mpnet_neigh_state old, enum mpnet_neigh_state new)
{
        return (old == MPNET_NEIGH_INCOMPLETE || old == MPNET_NEIGH_FAILED) &&
               new != MPNET_NEIGH_INCOMPLETE &&new != MPNET_NEIGH_FAILED;
}

void neigh_set_state(struct neigh_entry *e, enum mpnet_neigh_state st, uint64_t expire)
{
        struct mpnet_timer_wheel *w = e->ifp->stack->timers;

        /* Events for what a listener acts on: resolved, and failed. */
        if (neigh_resolved(e->state, st))
                neigh_event(e, MPNET_EV_NEIGH_REACHABLE);
        else if (st == MPNET_NEIGH_FAILED && e->state != MPNET_NEIGH_FAILED)
                neigh_event(e, MPNET_EV_NEIGH_FAILED);
        /* REACHABLE only by a solicited answer (neigh_update()), PERMANENT
         * by configuration: either way no longer a candidate to evict. */
        if (st == MPNET_NEIGH_REACHABLE || st == MPNET_NEIGH_PERMANENT)
                unconf_del(e->ifp->neigh[e->fam], e);
        if ((st == MPNET_NEIGH_PERMANENT) != (e->state == MPNET_NEIGH_PERMANENT)) {
                if (st == MPNET_NEIGH_PERMANENT)
                        e->ifp->neigh[e->fam]->n_perm++;
                else
                        e->ifp->neigh[e->fam]->n_perm--;
        }
        e->state = st;
        neigh_set_fast(e);
        if (expire == MPNET_TIME_NEVER)
                mpnet_timer_cancel(w, &e->timer);
        else
                mpnet_timer_arm(w, &e->timer, expire);
}

/* RFC 4861 7.2.2: resolution failed; what was held is dropped, with the
 * resolver's error for each. */
static void neigh_queue_fail(struct neigh_entry *e)
{
        const struct neigh_proto *pr = neigh_proto(e->fam);
        struct mpnet_stack *s = e->ifp->stack;

        neigh_ctr_add(s, pr->c_resolve_failed, e->qn);
        for (uint32_t i = 0; i < e->qn; i++) {
                if (pr->unreachable != NULL)
                        pr->unreachable(s, e->q[i]);
                mpnet_pkt_free(e->q[i]);
        }
        s->neigh_held -= e->qn;
        e->qn = 0;
}

static void neigh_timer(struct mpnet_timer *t, void *arg, uint64_t now)
{
        struct neigh_entry *e = arg;
        struct mpnet_iface *ifp = e->ifp;
        const struct neigh_proto *pr = neigh_proto(e->fam);
        struct mpnet_stack *s = ifp->stack;

        switch (e->state) {
        case MPNET_NEIGH_INCOMPLETE:
                if (e->probes < pr->max_probes(ifp)) {
                        pr->solicit(e, false);
                        mpnet_timer_arm(s->timers, t, now + pr->retrans(ifp));
                        return;
                }
                neigh_queue_fail(e);
                neigh_set_state(e, MPNET_NEIGH_FAILED, now + NEIGH_HOLDDOWN_NS);
                return;
        case MPNET_NEIGH_REACHABLE:
                neigh_set_state(e, MPNET_NEIGH_STALE, now + NEIGH_STALE_GC_NS);
                return;
        case MPNET_NEIGH_DELAY:
                e->probes = 0;
                pr->solicit(e, true);
                neigh_set_state(e, MPNET_NEIGH_PROBE, now + pr->retrans(ifp));
                return;
        case MPNET_NEIGH_PROBE:
                if (e->probes < pr->max_probes(ifp)) {
                        pr->solicit(e, true);
                        mpnet_timer_arm(s->timers, t, now + pr->retrans(ifp));
                        return;
                }
                /* 7.3.3: no answer to the probes: unreachable. Nothing is
                 * held while probing, so nothing is dropped here. */
                neigh_set_state(e, MPNET_NEIGH_FAILED, now + NEIGH_HOLDDOWN_NS);
                return;
        case MPNET_NEIGH_STALE:
        case MPNET_NEIGH_FAILED:
                neigh_delete(e);
                return;
        case MPNET_NEIGH_PERMANENT:
                return;
        }
}

static void neigh_queue_flush(struct neigh_entry *e)
{
        uint16_t et = neigh_proto(e->fam)->ethertype;

        for (uint32_t i = 0; i < e->qn; i++)
                ether_output(e->ifp, e->q[i], e->mac, et);
        e->ifp->stack->neigh_held -= e->qn;
        e->qn = 0;
}

void neigh_update(struct neigh_entry *e, const uint8_t *mac, bool confirmed)
{
        struct mpnet_stack *s = e->ifp->stack;
        bool changed = memcmp(e->mac, mac, 6) != 0;

        if (e->state == MPNET_NEIGH_PERMANENT)
                return;
        memmove(e->mac, mac, 6);
        if (confirmed) {
                e->probes = 0;
                neigh_set_state(e, MPNET_NEIGH_REACHABLE,
                                s->now + neigh_proto(e->fam)->reachable(e->ifp));
        } else if (changed || e->state == MPNET_NEIGH_INCOMPLETE ||
                   e->state == MPNET_NEIGH_FAILED) {
                /* Learnt without asking: usable, but not known to be reachable. */
                e->probes = 0;
                neigh_set_state(e, MPNET_NEIGH_STALE, s->now + NEIGH_STALE_GC_NS);
        }
        neigh_queue_flush(e);
}

int neigh_add_permanent(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k,
                        const uint8_t mac[6])
{
        struct neigh_entry *e = neigh_lookup(ifp, fam, k);

        if (e == NULL)
                e = neigh_create(ifp, fam, k);
        if (e == NULL)
                return -ENOSPC;
        memcpy(e->mac, mac, 6);
        neigh_set_state(e, MPNET_NEIGH_PERMANENT, MPNET_TIME_NEVER);
        neigh_queue_flush(e);
        return 0;
}

static void neigh_enqueue(struct neigh_entry *e, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = e->ifp->stack;

        /* At the stack's cap the newcomer is dropped (the entry's
         * resolution still starts): trading an entry's oldest packet for it
         * cost a free of a buffer out of the cache per frame under a flood
         * of traffic to next hops being resolved. Checked before anything
         * of e past its first line is read. */
        if (s->neigh_held >= NEIGH_HELD_MAX) {
                neigh_ctr_add(s, STK_neigh_held_full, 1);
                mpnet_pkt_free(p);
                return;
        }
        /* RFC 4861 7.2.2: a full queue replaces its oldest packet with the
         * new one (the oldest is the likeliest to have been retried). */
        if (e->qn == s->arp_queue_max) {
                mpnet_pkt_free(e->q[0]);
                memmove(&e->q[0], &e->q[1], (e->qn - 1) * sizeof(e->q[0]));
                e->qn--;
                s->neigh_held--;
                neigh_ctr_add(s, neigh_proto(e->fam)->c_queue_drop, 1);
        }
        e->q[e->qn++] = p;
        s->neigh_held++;
}

/* Send p to the next hop of entry e, or hold it while e resolves. */
static int neigh_entry_output(struct mpnet_iface *ifp, struct neigh_entry *e, struct mpnet_pkt *p)
{
        const struct neigh_proto *pr = neigh_proto(e->fam);
        struct mpnet_stack *s = ifp->stack;

        switch (e->state) {
        case MPNET_NEIGH_INCOMPLETE:
                neigh_enqueue(e, p);
                return 0;
        case MPNET_NEIGH_FAILED:
                neigh_ctr_add(s, pr->c_resolve_failed, 1);
                mpnet_pkt_free(p);
                return -EHOSTUNREACH;
        case MPNET_NEIGH_STALE:
                /* RFC 4861 7.3.3: the first use of a stale entry starts the delay. */
                neigh_set_state(e, MPNET_NEIGH_DELAY, s->now + NEIGH_DELAY_NS);
                break;
        case MPNET_NEIGH_REACHABLE:
        case MPNET_NEIGH_DELAY:
        case MPNET_NEIGH_PROBE:
        case MPNET_NEIGH_PERMANENT:
                break;
        }
        return ether_output(ifp, p, e->mac, pr->ethertype);
}

int neigh_resolve_output(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k,
                         struct mpnet_pkt *p)
{
        const struct neigh_proto *pr = neigh_proto(fam);
        struct mpnet_stack *s = ifp->stack;
        struct neigh_entry *e = neigh_lookup(ifp, fam, k);

        if (e != NULL)
                return neigh_entry_output(ifp, e, p);
        e = neigh_create(ifp, fam, k);
        if (e == NULL) {
                mpnet_pkt_free(p);
                return -ENOBUFS;
        }
        neigh_enqueue(e, p);
        pr->solicit(e, false);
        mpnet_timer_arm(s->timers, &e->timer, s->now + pr->retrans(ifp));
        return 0;
}

/* The entry of k on interface ifindex. @return 0, -ENODEV, -ENOENT. */
static int neigh_find(struct mpnet_stack *s, int ifindex, unsigned fam, const union neigh_key *k,
                      struct neigh_entry **e)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        *e = neigh_lookup(ifp, fam, k);
        return *e != NULL ? 0 : -ENOENT;
}

int neigh_get(struct mpnet_stack *s, int ifindex, unsigned fam, const union neigh_key *k,
              struct mpnet_neigh_info *info)
{
        struct neigh_entry *e;
        int err = neigh_find(s, ifindex, fam, k, &e);

        if (err != 0)
                return err;
        info->state = e->state;
        memcpy(info->mac, e->mac, 6);
        info->queued = e->qn;
        info->probes = e->probes;
        info->router = e->router;
        return 0;
}

/* ---- workers ---- */

/* The key rides in the 16 bytes after the punt word (stack.c). */
#define NEIGH_PUNT_KEY_OFF 8

static bool neigh_punt(struct wctx *w, struct mpnet_iface *out, unsigned fam, const uint8_t *key,
                       struct mpnet_pkt *p, enum neigh_punt_op op)
{
        if (mpnet_pkt_headroom(p) < NEIGH_PUNT_KEY_OFF + 16) {
                STK_INC(w->s, punt_drop);
                mpnet_pkt_free(p);
                return false;
        }
        memcpy(mpnet_pkt_buf(p) + NEIGH_PUNT_KEY_OFF, key, 16);
        return stack_punt(w, p, PUNT_NEIGH, (unsigned)out->ifindex, (uint8_t)fam, (uint8_t)op, 0);
}

/*
 * A packet to a next hop the cache does not hold starts a resolution: an
 * entry, a hold queue, a solicitation and, at the table's cap, an
 * eviction, on the control thread (a punt from a worker). Traffic from
 * random sources to random addresses of a connected subnet makes every
 * frame one. New resolutions pass a token bucket per interface and family
 * (as routers police their glean punts; RFC 1122 2.3.2.1 and RFC 4861
 * 7.2.2 bound the solicitations per neighbour, this bounds the new
 * neighbours), each context at its share; over it the packet is dropped
 * and counted after the one lookup the fast path made, with no entry
 * made and none evicted. Next hops with an entry (resolved, resolving)
 * never come here with e == NULL: they are not limited.
 */
static bool neigh_resolve_ok(struct wctx *w, struct mpnet_iface *out, unsigned fam,
                             const union neigh_key *k)
{
        struct mpnet_stack *s = w->s;
        struct neigh_resolve_tb *r = &out->neigh[fam]->resolve[w->id];

        /* The next hop whose resolution this context started last: still
         * on its way to the control thread, not a new one. */
        if (r->has_last && memcmp(r->last, k->a6, 16) == 0)
                return true;
        if (ctx_bucket_take(w, &r->tb, s->neigh_resolve_rate, s->neigh_resolve_burst)) {
                memcpy(r->last, k->a6, 16);
                r->has_last = true;
                return true;
        }
        neigh_ctr_add(s, neigh_proto(fam)->c_resolve_limited, 1);
        return false;
}

void neigh_slow_output(struct wctx *w, struct mpnet_iface *out, unsigned fam, struct neigh_entry *e,
                       const uint8_t *key, struct mpnet_pkt *p)
{
        union neigh_key k;

        /* At the stack-wide cap of held packets, one to a next hop being
         * resolved is dropped (neigh_enqueue): told here by the state in
         * the word the fast path read, before anything else of the entry
         * (cold under a flood of traffic to unresolved next hops) is. The
         * control thread's: the count of held packets is its. */
        if (e != NULL && !ctx_is_worker(w) && w->s->neigh_held >= NEIGH_HELD_MAX &&
            (atomic_load_explicit(&e->fast, memory_order_relaxed) >> 48) ==
                MPNET_NEIGH_INCOMPLETE &&
            (fam == NEIGH_ARP || atomic_load_explicit(&out->up, memory_order_relaxed))) {
                neigh_ctr_add(w->s, STK_neigh_held_full, 1);
                mpnet_pkt_free(p);
                return;
        }
        if (fam == NEIGH_ARP) {
                uint32_t a;

                memcpy(&a, key, 4);
                k = neigh_key4(a);
        } else {
                k = neigh_key6(key);
        }
        if (e == NULL && !neigh_resolve_ok(w, out, fam, &k)) {
                mpnet_pkt_free(p);
                return;
        }
        if (!ctx_is_worker(w)) {
                /* The fast path's lookup found e (resolving, or stale):
                 * not a second one. Under a flood of traffic to next hops
                 * being resolved that lookup was most of a frame's cost. */
                if (e != NULL &&
                    (fam == NEIGH_ARP || atomic_load_explicit(&out->up, memory_order_relaxed))) {
                        neigh_entry_output(out, e, p);
                        return;
                }
                if (fam == NEIGH_ARP)
                        arp_resolve_output(out, k.a4, p);
                else
                        nd6_resolve_output(out, k.a6, p);
                return;
        }
        neigh_punt(w, out, fam, k.a6, p, e == NULL ? NEIGH_PUNT_NEW : NEIGH_PUNT_RESOLVE);
}

void neigh_stale_used(struct wctx *w, struct neigh_entry *e)
{
        struct mpnet_stack *s = w->s;
        bool clear = false;
        struct mpnet_pkt *p;

        if (!ctx_is_worker(w)) {
                /* RFC 4861 7.3.3: the first use of a stale entry starts the delay. */
                if (e->state == MPNET_NEIGH_STALE)
                        neigh_set_state(e, MPNET_NEIGH_DELAY, s->now + NEIGH_DELAY_NS);
                return;
        }
        if (atomic_load_explicit(&e->poked, memory_order_relaxed) ||
            !atomic_compare_exchange_strong_explicit(&e->poked, &clear, true, memory_order_relaxed,
                                                     memory_order_relaxed))
                return;
        p = mpnet_pkt_alloc(s->pool);
        if (p == NULL) {
                STK_INC(s, nobufs);
                atomic_store_explicit(&e->poked, false, memory_order_relaxed);
                return;
        }
        STK_INC(s, neigh_poke);
        /* Not delivered: let a later packet try again. */
        if (!neigh_punt(w, e->ifp, e->fam, e->key.a6, p, NEIGH_PUNT_POKE))
                atomic_store_explicit(&e->poked, false, memory_order_relaxed);
}

/* ---- the control thread's side of the punts ---- */

void neigh_punt_input(struct mpnet_iface *ifp, struct mpnet_pkt *p, uint8_t fam, uint8_t op)
{
        union neigh_key k;
        struct neigh_entry *e;

        memcpy(k.a6, mpnet_pkt_buf(p) + NEIGH_PUNT_KEY_OFF, 16);
        if (fam >= NEIGH_N) {
                mpnet_pkt_free(p);
                return;
        }
        if (op != NEIGH_PUNT_POKE) {
                if (fam == NEIGH_ARP)
                        arp_resolve_output(ifp, k.a4, p);
                else
                        nd6_resolve_output(ifp, k.a6, p);
                return;
        }
        mpnet_pkt_free(p);
        e = neigh_lookup(ifp, fam, &k);
        /* It may have changed since the worker saw it STALE (confirmed,
         * deleted): then the poke is moot. */
        if (e != NULL && e->state == MPNET_NEIGH_STALE)
                neigh_set_state(e, MPNET_NEIGH_DELAY, ifp->stack->now + NEIGH_DELAY_NS);
}

/* ARP, ND messages, pokes, and the packet that starts a resolution: what
 * other punts (local delivery, ICMP errors, held traffic) must not starve.
 * An ND message is one of the ICMPv6 types 133 to 137 right after the IPv6
 * header (RFC 4861 never puts extension headers before it in practice, and
 * one that does merely waits its turn). */
/* Pokes and held packets go ahead; a resolution start waits its turn. */
static bool neigh_punt_urgent(uint8_t b, const struct mpnet_pkt *p)
{
        (void)p;
        return b != NEIGH_PUNT_RESOLVE;
}

bool neigh_punt_always(uint8_t b, const struct mpnet_pkt *p)
{
        (void)b;
        (void)p;
        return true;
}

/* ND messages (RFC 4861 4: types 133 to 137) punted as local IPv6. */
bool neigh_punt_nd(uint8_t b, const struct mpnet_pkt *p)
{
        (void)b;
        return p->len > MPNET_IP6_HLEN && p->data[6] == MPNET_IPPROTO_ICMPV6 &&
               p->data[MPNET_IP6_HLEN] >= 133 && p->data[MPNET_IP6_HLEN] <= 137;
}

static int neigh_del(struct mpnet_stack *s, int ifindex, unsigned fam, const union neigh_key *k)
{
        struct neigh_entry *e;
        int err = neigh_find(s, ifindex, fam, k, &e);

        if (err == 0)
                neigh_delete(e);
        return err;
}

int mpnet_neigh4_del(struct mpnet_stack *s, int ifindex, uint32_t addr)
{
        union neigh_key k = neigh_key4(addr);

        return neigh_del(s, ifindex, NEIGH_ARP, &k);
}

int mpnet_neigh6_del(struct mpnet_stack *s, int ifindex, const uint8_t addr[16])
{
        union neigh_key k = neigh_key6(addr);

        return neigh_del(s, ifindex, NEIGH_ND, &k);
}

static int neigh_walk_iface(struct mpnet_iface *ifp, mpnet_neigh_walk_fn fn, void *arg)
{
        static const unsigned order[] = {NEIGH_ARP, NEIGH_ND};
        int rc;

        for (unsigned f = 0; f < 2; f++) {
                const struct neigh_table *t = ifp->neigh[order[f]];

                for (unsigned h = 0; h < NEIGH_HASH_SIZE; h++) {
                        for (struct neigh_entry *e =
                                 atomic_load_explicit(&t->hash[h], memory_order_relaxed);
                             e != NULL; e = atomic_load_explicit(&e->hnext, memory_order_relaxed)) {
                                struct mpnet_neigh_entry n = {.ifindex = ifp->ifindex};

                                if (e->fam == NEIGH_ARP) {
                                        n.family = 4;
                                        n.addr4 = e->key.a4;
                                } else {
                                        n.family = 6;
                                        memcpy(n.addr6, e->key.a6, 16);
                                }
                                n.info = (struct mpnet_neigh_info){.state = e->state,
                                                                   .queued = e->qn,
                                                                   .probes = e->probes,
                                                                   .router = e->router};
                                memcpy(n.info.mac, e->mac, 6);
                                rc = fn(arg, &n);
                                if (rc != 0)
                                        return rc;
                        }
                }
        }
        return 0;
}

int mpnet_neigh_walk(struct mpnet_stack *s, int ifindex, mpnet_neigh_walk_fn fn, void *arg)
{
        if (ifindex != 0) {
                struct mpnet_iface *ifp = stack_iface(s, ifindex);

                return ifp != NULL ? neigh_walk_iface(ifp, fn, arg) : -ENODEV;
        }
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *ifp = stack_iface(s, i);
                int rc = ifp != NULL ? neigh_walk_iface(ifp, fn, arg) : 0;

                if (rc != 0)
                        return rc;
        }
        return 0;
}

/* The neighbour cache's punts: pokes, held packets, resolution starts. */
static void neigh_punt_handler(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                               uint64_t meta)
{
        (void)s;
        neigh_punt_input(ifp, p, (uint8_t)(meta >> 40), (uint8_t)(meta >> 32));
}

static const struct punt_reg neigh_punts[] = {
    {.kind = PUNT_NEIGH, .fn = neigh_punt_handler, .urgent = neigh_punt_urgent},
};

/* Input adds entries (any state but PERMANENT); configuration adds the
 * static ones. Counted, not looked for: a walk to the last static entry
 * went over most of the 1,024 chains of each table after every fuzz input
 * (stack/reset.c). */
static bool neigh_iface_learnt(const struct mpnet_iface *ifp)
{
        for (unsigned fam = 0; fam < NEIGH_N; fam++) {
                if (ifp->neigh[fam]->count != ifp->neigh[fam]->n_perm)
                        return true;
        }
        return false;
}

static void neigh_iface_usage(const struct mpnet_iface *ifp, struct mpnet_stack_usage *u)
{
        u->neigh4 += ifp->neigh[NEIGH_ARP]->count;
        u->neigh6 += ifp->neigh[NEIGH_ND]->count;
}

/* stack_reset(): what input took from the learning and resolution limits
 * goes back to the mark's. */
struct neigh_ifmark {
        struct punt_bucket learn[NEIGH_N][MPNET_MAX_SLOTS + 1];
        struct neigh_resolve_tb resolve[NEIGH_N][MPNET_MAX_SLOTS + 1];
};

static unsigned neigh_iface_mark(const struct mpnet_iface *ifp, void *mark, struct mpnet_timer **t)
{
        struct neigh_ifmark *m = mark;

        (void)t;
        for (unsigned f = 0; f < NEIGH_N; f++) {
                memcpy(m->learn[f], ifp->neigh[f]->learn, sizeof(m->learn[f]));
                memcpy(m->resolve[f], ifp->neigh[f]->resolve, sizeof(m->resolve[f]));
        }
        return 0;
}

static int neigh_iface_reset(struct mpnet_iface *ifp, const void *mark)
{
        const struct neigh_ifmark *m = mark;

        for (unsigned f = 0; f < NEIGH_N; f++) {
                memcpy(ifp->neigh[f]->learn, m->learn[f], sizeof(m->learn[f]));
                memcpy(ifp->neigh[f]->resolve, m->resolve[f], sizeof(m->resolve[f]));
        }
        return 0;
}

static void neigh_usage(struct mpnet_stack *s, struct mpnet_stack_usage *u)
{
        u->neigh_max = NEIGH_MAX_ENTRIES;
        u->neigh_held = s->neigh_held;
        u->neigh_held_max = NEIGH_HELD_MAX;
}

const struct mpnet_module mod_neigh = {
    .name = "neigh",
    .punts = neigh_punts,
    .n_punts = 1,
    .iface_usage = neigh_iface_usage,
    .iface_flush = neigh_iface_flush,
    .iface_learnt = neigh_iface_learnt,
    .iface_mark_size = sizeof(struct neigh_ifmark),
    .iface_mark = neigh_iface_mark,
    .iface_reset = neigh_iface_reset,
    .usage = neigh_usage,
};
