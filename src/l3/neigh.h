/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The neighbour cache (l3/neigh.c), one for ARP and ND, and the resolvers
 * that plug into it (l3/arp.c, l3/nd6.c).
 *
 * Synchronisation: entries change on the control thread only; workers find
 * them without locks (hash chains linked with release stores, entries freed
 * after a grace period) and read the MAC and state from one atomic word.
 * The one thing a worker writes is an entry's poke flag (see
 * neigh_stale_used()). Life cycle: an entry is made by resolution or by a
 * message from the neighbour, and freed by its timer, a flush, its
 * interface, or an eviction: a full table (NEIGH_MAX_ENTRIES per interface
 * and family) makes room for a new entry by deleting its oldest entry that
 * was never confirmed (no solicited answer, not static), so that a flood
 * from random sources recycles its own entries while the confirmed ones
 * of real peers stay (as Linux's forced GC spares entries in use). At most
 * NEIGH_HELD_MAX packets wait for resolution in the whole stack (past it a
 * new one is dropped), and new resolutions pass a token bucket per
 * interface and family (neigh_slow_output: neigh_resolve_rate). The table
 * of one interface and family (struct neigh_table) is in
 * l3/neigh_table.h, which the interface includes.
 */
#ifndef MPNET_L3_NEIGH_H
#define MPNET_L3_NEIGH_H

#include "l2/ether.h"
#include "l3/ip_iface.h"
#include "l3/neigh_table.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/ethernet.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define NEIGH_MAX_ENTRIES 4096
#define NEIGH_DELAY_NS    (5 * MPNET_NS_PER_S)    /* RFC 4861 10: DELAY_FIRST_PROBE_TIME */
#define NEIGH_HOLDDOWN_NS (20 * MPNET_NS_PER_S)   /* FreeBSD arpt_down */
#define NEIGH_STALE_GC_NS (1200 * MPNET_NS_PER_S) /* FreeBSD max_age */
/* Packets held for resolution, all entries of a stack together: without
 * it a flood of unresolvable next hops holds NEIGH_MAX_ENTRIES x
 * arp_queue_max buffers per interface, more than a pool has. */
#define NEIGH_HELD_MAX 1024

/* An IPv4 address (host order, the rest zero) or an IPv6 address. */
union neigh_key {
        uint32_t a4;
        uint8_t a6[16];
        uint64_t w[2];
};

struct neigh_entry {
        /* What workers read (and poked, which they set): the first line. */
        struct neigh_entry *_Atomic hnext;
        union neigh_key key;
        /* The MAC in bits 0-47, the state in 48-55, written whenever either
         * changes (one atomic word: never torn). */
        _Atomic uint64_t fast;
        /* Set by the first worker that sends through the entry while it is
         * STALE, cleared by every state change: one poke per episode. */
        _Atomic bool poked;
        uint8_t fam; /* NEIGH_ARP, NEIGH_ND */
        bool router; /* ND: isRouter (RFC 4861 7.2.5) */
        uint8_t mac[6];
        /* The control thread's. */
        enum mpnet_neigh_state state;
        struct mpnet_iface *ifp;
        /* Never confirmed: on its table's unconf list, uprev and unext. */
        bool unconfirmed;
        struct neigh_entry *uprev, *unext;
        uint32_t probes;
        struct mpnet_timer timer;
        uint32_t qn;           /* packets held while INCOMPLETE */
        struct mpnet_pkt *q[]; /* cfg arp_queue_max slots, oldest first */
};

/*
 * A resolver: what differs between ARP and ND. Everything else (states,
 * timers, the hold queue, the table) is the cache's.
 */
struct neigh_proto {
        uint8_t family; /* 4 or 6: for events */
        uint16_t ethertype;
        /* Its counters (enum stack_counter). */
        int c_table_full, c_queue_drop, c_resolve_failed, c_flushed, c_evicted, c_learn_limited,
            c_resolve_limited;
        unsigned (*max_probes)(const struct mpnet_iface *ifp);
        uint64_t (*retrans)(struct mpnet_iface *ifp);
        uint64_t (*reachable)(struct mpnet_iface *ifp);
        /* Ask for e's link-layer address: broadcast or multicast while
         * resolving, unicast to e->mac while probing. Counts e->probes. */
        void (*solicit)(struct neigh_entry *e, bool unicast);
        /* What a packet held for a neighbour that never answered gets
         * besides being dropped (RFC 4861 7.2.2); NULL: nothing. */
        void (*unreachable)(struct mpnet_stack *s, struct mpnet_pkt *p);
};

extern const struct neigh_proto arp_neigh_proto;
extern const struct neigh_proto nd6_neigh_proto;

/* The neighbour punt (PUNT_NEIGH): b says which; the key rides after the
 * punt word, as the family in a. */
enum neigh_punt_op {
        NEIGH_PUNT_RESOLVE, /* a packet for an entry that cannot take it */
        NEIGH_PUNT_NEW,     /* a packet for a next hop with no entry: starts resolution */
        NEIGH_PUNT_POKE,    /* no packet of its own: a STALE entry was used */
};

static inline union neigh_key neigh_key4(uint32_t a)
{
        union neigh_key k = {.w = {0, 0}};

        k.a4 = a;
        return k;
}

static inline union neigh_key neigh_key6(const uint8_t *a)
{
        union neigh_key k;

        memcpy(k.a6, a, 16);
        return k;
}

/* The multiplicative hash of an IPv4 address or of an IPv6 address's last
 * 32 bits: its top NEIGH_HASH_BITS pick the chain, the NEIGH_FILT_BITS
 * under them the chain filter's bit. */
static inline uint32_t neigh_hv4(uint32_t a)
{
        return a * 2654435761u;
}

static inline uint32_t neigh_hv6(const uint8_t *a)
{
        return neigh_hv4(mpnet_get_be32(a + 12));
}

static inline unsigned neigh_hv_chain(uint32_t hv)
{
        return hv >> (32 - NEIGH_HASH_BITS);
}

static inline unsigned neigh_filt_bit(uint32_t hv)
{
        return 1u << ((hv >> (32 - NEIGH_HASH_BITS - NEIGH_FILT_BITS)) &
                      ((1u << NEIGH_FILT_BITS) - 1));
}

/* The head of hv's chain in t, or NULL when its filter rules the chain
 * out. The filter's load is relaxed: a bit is set before the entry is
 * linked (release), so a reader that can see the entry by any
 * synchronisation sees the bit; one that reads the bit before it is set
 * misses an entry linked meanwhile, as a lookup just before the link
 * would. */
static inline struct neigh_entry *neigh_chain_head(struct neigh_table *t, uint32_t hv)
{
        unsigned h = neigh_hv_chain(hv);

        if (!(atomic_load_explicit(&t->filt[h], memory_order_relaxed) & neigh_filt_bit(hv)))
                return NULL;
        return atomic_load_explicit(&t->hash[h], memory_order_acquire);
}

/* Lock-free lookups, for any context. */
static inline struct neigh_entry *neigh_lookup4(struct mpnet_iface *ifp, uint32_t a)
{
        struct neigh_entry *e = neigh_chain_head(ifp->neigh[NEIGH_ARP], neigh_hv4(a));

        while (e != NULL && e->key.a4 != a)
                e = atomic_load_explicit(&e->hnext, memory_order_acquire);
        return e;
}

static inline struct neigh_entry *neigh_lookup6(struct mpnet_iface *ifp, const uint8_t *a)
{
        struct neigh_entry *e = neigh_chain_head(ifp->neigh[NEIGH_ND], neigh_hv6(a));

        while (e != NULL && !ip6_eq(e->key.a6, a))
                e = atomic_load_explicit(&e->hnext, memory_order_acquire);
        return e;
}

struct neigh_entry *neigh_lookup(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k);
/* Any context, before any work on (and any punt of) a message for one of
 * ifp's addresses from the sender k that would make k an entry and get an
 * answer: whether it may go on (else it is dropped, and counted). */
bool neigh_learn_ok(struct wctx *w, struct mpnet_iface *ifp, unsigned fam,
                    const union neigh_key *k);
/* neigh_learn_ok() for ND without taking the token, for a drop before the
 * message reaches it (ip6-input): false (counted) when it would say no.
 * Inline: a solicitation flood meets it per packet. */
static inline bool neigh_learn_peek6(struct wctx *w, struct mpnet_iface *ifp, const uint8_t *src)
{
        struct mpnet_stack *s = w->s;

        if (neigh_lookup6(ifp, src) != NULL ||
            ctx_bucket_peek(w, &ifp->neigh[NEIGH_ND]->learn[w->id], s->neigh_learn_rate,
                            s->neigh_learn_burst))
                return true;
        STK_INC(s, nd_learn_limited);
        return false;
}

/* Control thread. */
struct neigh_entry *neigh_create(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k);
void neigh_set_state(struct neigh_entry *e, enum mpnet_neigh_state st, uint64_t expire);
/* Record e's link-layer address (RFC 826 merge, RFC 4861 7.2.5):
 * confirmed (a solicited answer) makes it REACHABLE, a new or changed
 * address STALE; what was held goes out. */
void neigh_update(struct neigh_entry *e, const uint8_t *mac, bool confirmed);
/* Send p to the neighbour k on ifp, resolving it first when need be. */
int neigh_resolve_output(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k,
                         struct mpnet_pkt *p);
int neigh_add_permanent(struct mpnet_iface *ifp, unsigned fam, const union neigh_key *k,
                        const uint8_t mac[6]);
int neigh_get(struct mpnet_stack *s, int ifindex, unsigned fam, const union neigh_key *k,
              struct mpnet_neigh_info *info);
/* Every entry of ifp; static ones too unless learnt_only. */
void neigh_iface_flush(struct mpnet_iface *ifp, bool learnt_only);
/* A PUNT_NEIGH from a worker. */
void neigh_punt_input(struct mpnet_iface *ifp, struct mpnet_pkt *p, uint8_t fam, uint8_t op);
/* Punt urgency (struct punt_reg): ARP always, ND among local IPv6. */
bool neigh_punt_always(uint8_t b, const struct mpnet_pkt *p);
bool neigh_punt_nd(uint8_t b, const struct mpnet_pkt *p);

/* Any context: p (its network header first) cannot use the fast path to
 * the neighbour key (e its entry, or NULL). */
void neigh_slow_output(struct wctx *w, struct mpnet_iface *out, unsigned fam, struct neigh_entry *e,
                       const uint8_t *key, struct mpnet_pkt *p);
void neigh_stale_used(struct wctx *w, struct neigh_entry *e);

/* The states in which a packet is sent at once with the cached MAC: a
 * STALE entry too (RFC 4861 7.3.3), whose first use starts its delay. */
#define NEIGH_USABLE                                                                               \
        (1u << MPNET_NEIGH_REACHABLE | 1u << MPNET_NEIGH_STALE | 1u << MPNET_NEIGH_DELAY |         \
         1u << MPNET_NEIGH_PROBE | 1u << MPNET_NEIGH_PERMANENT)

/*
 * The forwarding fast path: put p (its network header first) on w's
 * transmit vector for out with the MAC of e. @return 1 when it went (or
 * was dropped for want of a buffer: counted, and 0 returned), else p is
 * still the caller's: 2, resolution is needed.
 */
static inline unsigned neigh_fast_output(struct wctx *w, struct mpnet_iface *out,
                                         struct neigh_entry *e, struct mpnet_pkt *p,
                                         uint16_t ethertype)
{
        uint64_t f;
        unsigned st;
        uint8_t *h;

        if (__builtin_expect(e == NULL, 0))
                return 2;
        f = atomic_load_explicit(&e->fast, memory_order_acquire);
        st = (unsigned)(f >> 48);
        if (__builtin_expect(!((NEIGH_USABLE >> st) & 1), 0))
                return 2;
        if (__builtin_expect(st == MPNET_NEIGH_STALE, 0))
                neigh_stale_used(w, e);
        h = mpnet_pkt_prepend(p, MPNET_ETH_HLEN);
        if (__builtin_expect(h == NULL, 0)) {
                STK_INC(w->s, nobufs);
                mpnet_pkt_free(p);
                return 0;
        }
        /* f holds the MAC in its low six bytes, in order on a little-endian
         * machine. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(h, &f, 6);
#else
        for (int i = 0; i < 6; i++)
                h[i] = (uint8_t)(f >> (8 * i));
#endif
        memcpy(h + 6, out->mac, 6);
        mpnet_put_be16(h + 12, ethertype);
        ctx_tx(w, out, p);
        return 1;
}

#endif
