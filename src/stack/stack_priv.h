/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stack core: struct mpnet_stack, the contexts that run its graph
 * (struct wctx), punts to the control thread, hand-offs between contexts,
 * deferred frees and change events. The other concerns have headers of
 * their own: the interface (stack/iface.h), the graph and feature arcs
 * (stack/graph.h), the FIB (fib/fib_priv.h), the neighbour cache
 * (l3/neigh.h), the protocols (l2/ether.h, l3/ip4.h, l3/ip6.h).
 *
 * Synchronisation (docs/MP-SAFETY.md): the control thread (the one calling
 * mpnet_stack_poll() and the configuration calls) changes the stack; every
 * context (the control thread, each worker) runs the graph with state of
 * its own (struct wctx) and reads what configuration publishes (atomic
 * words, RCU-published objects freed through stack_defer()). Nothing on
 * the packet path takes a lock but a shared link queue's (stack/iface.h).
 * Life cycle: a context is made on first use by its worker
 * (stack_ctx_get()) and lives as long as the stack.
 */
#ifndef MPNET_STACK_PRIV_H
#define MPNET_STACK_PRIV_H

#include <stdlib.h>
#include <string.h>

#include "base/stat.h"
#include "base/tbucket.h"
#include "base/zalloc.h"
#include "fib/fib_priv.h"
#include "mpnet/counter.h"
#include "mpnet/event.h"
#include "mpnet/ip6.h"
#include "mpnet/ring.h"
#include "mpnet/stack.h"
#include "mpnet/timer.h"
#include "stack/counters.h"
#include "stack/graph.h"

#define STACK_MAX_IFACES  64
#define PMTU_SIZE         256
#define TIMER_TICK_NS     MPNET_NS_PER_MS
#define PUNT_RING_SIZE    4096
#define PUNT_NB_RING_SIZE 1024 /* neighbour work (ARP, ND), served first */

struct mpnet_iface;
struct mpnet_stack;

/* Zeroed memory on a cache line of its own (for objects laid out by line). */
static inline void *aligned_calloc(size_t size)
{
        size_t n = (size + MPNET_CACHE_LINE - 1) & ~(size_t)(MPNET_CACHE_LINE - 1);
        void *p = aligned_alloc(MPNET_CACHE_LINE, n);

        if (p != NULL)
                memset(p, 0, n);
        return p;
}

/*
 * A context that runs the graph: the control thread (id 0, the one calling
 * mpnet_stack_poll()) or a worker (1 and up). Each has its own frames,
 * node statistics, transmit vectors, IPv4 and IPv6 reassembly tables, IP ID
 * counter and ICMP error buckets, and sends on its own queue of every link,
 * so contexts share nothing on the packet path. Local delivery,
 * reassembly, echo and ICMP errors (IPv4 and IPv6) run on the context that
 * received the packet (or owns its flow, below). What a worker cannot do
 * itself (ARP, ND and MLD, the ping API, neighbour resolution,
 * fragmentation on output, loopback) it punts to the control thread
 * through the punt rings.
 *
 * Flows: the contexts that own flows are the workers with link queues of
 * the stack (owner_mask; the control thread alone when there are none). A
 * packet whose flow another context owns (a fragment whose datagram is
 * reassembled elsewhere) is handed over through an SPSC ring per pair of
 * contexts (ho_in[from] of the receiving context), drained on its next loop.
 */
#define STACK_MAX_CTX (MPNET_MAX_SLOTS + 1)
#define HANDOFF_RING  1024
#define HANDOFF_HDR   8 /* in the headroom: the node, the interface's gen */

struct wctx {
        struct mpnet_stack *s;
        unsigned id;
        uint16_t txq;
        unsigned cur_node; /* the node running, GRAPH_MAX_NODES between runs */
        uint64_t pending;  /* nodes whose frames may hold packets */
        mpnet_stat_t node_calls[GRAPH_MAX_NODES];
        mpnet_stat_t node_pkts[GRAPH_MAX_NODES];
        mpnet_stat_t node_cycles[GRAPH_MAX_NODES];
        struct mpnet_vec *txv[STACK_MAX_IFACES + 1]; /* per ifindex, made on first use */
        uint64_t txv_made; /* bit i - 1: txv[i] made (ctx_tx_flush_all() visits those) */
        /* Packets going round the graph again (graph_reenter). */
        struct {
                unsigned n;
                struct mpnet_pkt *p[MPNET_VEC_MAX];
                uint32_t aux[MPNET_VEC_MAX];
                uint8_t node[MPNET_VEC_MAX];
        } req;
        /* ICMP error token buckets, [0] IPv4, [1] IPv6, each at its share
         * of the stack's rate (ctx_icmp_rate_ok): the contexts' shares add
         * up to the configured rate. Errors are sent by the context itself;
         * a worker's IPv6 redirects are punted past this bucket (the
         * control thread's own bucket then applies the stack's limit). */
        struct punt_bucket punt_tb[2];
        uint16_t ip_id; /* IPv4 identification of what this context sends */
        /* Each module's per-context state (graph.h), by module index: the
         * IPv4 and IPv6 reassembly tables of the flows it owns among them. */
        void *mctx[GRAPH_MAX_MODS];
        /* No module needs its ctx_service before this (ctx_svc_arm): a
         * loop with nothing held costs one compare. */
        uint64_t svc_next;
        /* Bit i: module i asked for its vec_end hook at the end of the
         * dispatch under way (ctx_vec_end_arm). */
        uint32_t vec_end;
        _Atomic int wake_fd; /* its worker's eventfd, -1: none (the control thread) */
        /* Hand-off rings into this context, by the sending context's id,
         * made by the sender on first use; the bit of a sender that queued
         * something since the last drain. */
        struct mpnet_ring *_Atomic ho_in[STACK_MAX_CTX];
        _Alignas(MPNET_CACHE_LINE) _Atomic uint64_t ho_pending;
        /* Set by any thread (ctx_kick) that queued work for a module's
         * ctx_service (a socket command, a front end's transmit ring): the
         * next loop runs the hooks whatever their deadlines. */
        _Atomic uint32_t svc_kick;
        /* 1 while its worker runs its loop (the runtime clears it, seq_cst,
         * before it sleeps, then looks at svc_kick once more): ctx_kick
         * writes the wake-up only when it reads 0. 0 at first: a kick
         * then always writes. */
        _Atomic uint32_t awake;
        /* Bumped (release) by the worker just before each quiescent state and
         * read (acquire) after every grace period: the happens-before that
         * liburcu provides but ThreadSanitizer cannot see, made explicit.
         * Bumped every loop: a line of its own (contexts are line-aligned). */
        _Alignas(MPNET_CACHE_LINE) mpnet_stat_t qs;
        /* One frame per node of the stack's graph. */
        _Alignas(MPNET_CACHE_LINE) struct frame fr[];
};

static inline void node_account(struct wctx *w, unsigned id, unsigned n, uint64_t cyc)
{
        mpnet_stat_add(&w->node_cycles[id], cyc);
        mpnet_stat_add(&w->node_calls[id], 1);
        mpnet_stat_add(&w->node_pkts[id], n);
}

/* The 16 bytes a punt may carry after its punt word (a next hop, a
 * redirect target), in the headroom (stack.c says how). */
static inline uint8_t *punt_arg16(struct mpnet_pkt *p)
{
        return mpnet_pkt_buf(p) + 8;
}

enum punt_kind {
        PUNT_ARP = 1,
        PUNT_LOCAL, /* IPv4 for the control thread: c = 1 when past local-in */
        PUNT_LOOP,  /* IPv4 a worker sent to one of our addresses */
        PUNT_NEIGH, /* l3/neigh.h: enum neigh_punt_op in b, the family in a */
        PUNT_FRAG,
        PUNT_LOCAL6,   /* IPv6 for the control thread: c = 1 when past local-in */
        PUNT_OUT6,     /* IPv6 a worker sends that needs the control thread's output */
        PUNT_REDIRECT6 /* a copy to quote; the target after the punt word */
};

struct defer_item {
        struct defer_item *next;
        void (*fn)(void *);
        void *arg;
};

#define EV_RING_SIZE 256u

struct stack_events {
        struct mpnet_event ev[EV_RING_SIZE];
        uint64_t head, tail, lost, seq;
};

/*
 * The stack's reassembly memory, IPv4 and IPv6 together, over every
 * context: one budget that each context's tables charge with an atomic
 * compare-and-swap per held fragment and credit when they let go. One
 * shared budget rather than the cap divided by the contexts that own
 * flows: the owners change at run time (queues assigned and unassigned)
 * while each table is its context's alone, and a divided cap would strand
 * memory in idle contexts while a busy one refuses; the atomic costs only
 * on the reassembly path, never the forwarding one. A table whose charge
 * does not fit evicts its own oldest datagrams first, then refuses.
 */
struct reass_budget {
        _Alignas(MPNET_CACHE_LINE) _Atomic uint64_t used; /* bytes held now */
        uint64_t max;                                     /* the stack's cap */
};

/* What one held buffer costs a reassembly cap: metadata plus the whole
 * buffer, whatever the fragment uses of it. */
#define REASS_TRUESIZE ((uint64_t)sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE)

static inline bool reass_budget_take(struct reass_budget *b, uint64_t n)
{
        uint64_t u = atomic_load_explicit(&b->used, memory_order_relaxed);

        do {
                if (u + n > b->max)
                        return false;
        } while (!atomic_compare_exchange_weak_explicit(&b->used, &u, u + n, memory_order_relaxed,
                                                        memory_order_relaxed));
        return true;
}

static inline void reass_budget_put(struct reass_budget *b, uint64_t n)
{
        atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
}

/*
 * Laid out by who writes what: the first part is read by every context on
 * the packet path and written only by configuration calls; what the
 * control thread writes on every poll (the time, ICMP tokens)
 * starts on a cache line of its own, so workers' lines stay shared-clean.
 */
struct mpnet_stack {
        /* Read by workers; changed by configuration. */
        char name[32];
        struct mpnet_clock *clock;
        struct mpnet_pool *pool;
        struct mpnet_counters *ctr;
        _Atomic bool ip4_fwd; /* as ip4_forwarding, for workers */
        /* NULL: not built (stack_is_local4 walks the interfaces). */
        struct local4_set *_Atomic local4;
        struct local6_set *_Atomic local6;
        _Atomic bool ip6_fwd;
        _Atomic unsigned n_workers; /* workers attached: the control thread stops reading links */
        _Atomic uint64_t
            owner_mask; /* contexts that own flows (bit per id); 0: the control thread */
        unsigned ctx_queues[STACK_MAX_CTX]; /* link queues per context (control thread) */
        struct mpnet_ring *punt;            /* MPSC: workers -> control */
        struct mpnet_ring *punt_nb;         /* MPSC: neighbour work, served first */
        struct mpnet_iface *ifs[STACK_MAX_IFACES + 1]; /* by ifindex; 0 unused */
        /* Attached interfaces whose link does not offer
         * MPNET_LINK_OFF_TX_CSUM: while there is none, TCP leaves its short
         * segments' checksums to the link (l4/tcp_out.c). */
        _Atomic unsigned n_ifs_sw_csum;
        /* Interfaces whose link takes no TCP super-segment (not
         * MPNET_LINK_OFF_TSO): TCP sends super-segments only while none is
         * attached (l4/tcp_data.c). */
        _Atomic unsigned n_ifs_no_tso;
        _Atomic unsigned n_ifs_tso;      /* and those whose link takes them */
        uint64_t ifs_attached;           /* bit i - 1: ifs[i] set (control thread's walks) */
        struct wctx *ctx[STACK_MAX_CTX]; /* [0] the control thread */
        struct fib fib;
        struct fib6 fib6;
        struct graph g; /* assembled at creation, then read only */
        /* Protocols local delivery offers to the graph's l4_tap first, bit
         * p % 64 of [family 4: 0, 6: 1][p / 64]: raw and echo sockets open
         * (l4/raw.c sets them, relaxed; a datagram racing a change is
         * offered or not, either is right). */
        _Atomic uint64_t l4_tap_on[2][4];
        _Atomic bool l4_tap_any; /* some bit of l4_tap_on is set */
        /* The control thread's own. */
        _Alignas(MPNET_CACHE_LINE) uint64_t now; /* time of the poll in progress */
        uint64_t rng;
        uint32_t arp_queue_max, arp_max_probes;
        uint32_t neigh_held; /* packets in every neighbour hold queue (l3/neigh.c) */
        uint64_t arp_reachable_ns, arp_retrans_ns;
        struct mpnet_timer_wheel *timers;
        uint32_t iface_gen;   /* the last interface's gen */
        struct mpnet_vec rxv; /* scratch receive vector */
        bool ip4_forwarding;
        uint32_t icmp4_rate, icmp4_burst;
        struct defer_item *defer; /* waiting for a grace period, oldest first */
        struct defer_item *defer_last;
        struct mpnet_vec loopq; /* sent to ourselves: input on the next poll */
        /* IPv6 */
        bool ip6_auto;
        bool ip6_stable_iid;
        uint8_t ip6_secret[16]; /* RFC 7217 secret_key */
        uint32_t icmp6_rate, icmp6_burst;
        uint32_t neigh_learn_rate, neigh_learn_burst;     /* per interface and family */
        uint32_t neigh_resolve_rate, neigh_resolve_burst; /* per interface and family */
        uint64_t icmp6_tokens, icmp6_last; /* the redirects' bucket (nd6_redirect.c) */
        struct stack_events events;        /* change notifications (event.h) */
        struct reass_budget reass;         /* every context's reassembly, both families */
        /* Workers' contexts whose last link queue of the stack went
         * (stack_ctx_queues), bit per id: no worker runs them any more, so
         * the control thread times out what they hold (stack_poll). */
        uint64_t ctx_orphans;
        /* Interfaces (bit ifindex - 1) whose IPv6 copy could not be
         * published for want of memory: published again on the next poll. */
        uint64_t addr6_unpublished;
        /* The path MTU cache (l3/pmtu.h): the control thread writes, every
         * context reads; entries made since the start or a reset. */
        _Alignas(MPNET_CACHE_LINE) _Atomic uint64_t pmtu_used;
        struct pmtu_entry {
                _Atomic uint32_t seq; /* odd while written */
                _Atomic uint32_t mtu; /* 0: free */
                _Atomic uint64_t until;
                _Atomic uint64_t dst[2]; /* 16 bytes, v4-mapped for IPv4 */
        } pmtu[PMTU_SIZE];
};

/* stack/event.c: record a change (control thread). */
void stack_event(struct mpnet_stack *s, const struct mpnet_event *e);
void stack_event_iface(struct mpnet_stack *s, enum mpnet_event_type t, int ifindex);

/* Look at every link's carrier; an event for each change. */
void stack_carrier_watch(struct mpnet_stack *s);

#define STK_INC(s, c)    mpnet_counter_inc((s)->ctr, STK_##c)
#define STK_ADD(s, c, n) mpnet_counter_add((s)->ctr, STK_##c, (n))

/* stack.c */
/* Run fn(arg) once no packet path can still read what arg frees. */
void stack_defer(struct mpnet_stack *s, void (*fn)(void *), void *arg);
struct mpnet_iface *stack_iface(struct mpnet_stack *s, int ifindex);

static_assert(STACK_MAX_IFACES <= 64, "an ifindex mask (ifs_attached, txv_made) fits in 64 bits");

/* The lowest ifindex of a nonzero mask of bit i - 1 per ifindex i: walks
 * of the attached interfaces visit those, not all STACK_MAX_IFACES slots. */
static inline int mask_ifindex(uint64_t m)
{
        return __builtin_ctzll(m) + 1;
}
uint64_t stack_random(struct mpnet_stack *s);
/* stack/reset.c: stack_reset(s, NULL) marks s; stack_reset(s, m) takes s back to m. */
struct stack_mark *stack_reset(struct mpnet_stack *s, struct stack_mark *m);

/* stack.c: contexts and punts */
struct wctx *stack_ctx_get(struct mpnet_stack *s, unsigned id);
/* Wait until every worker has passed a quiescent state (no-op without
 * workers); what they did before is visible after, to TSan too. */
void stack_grace(struct mpnet_stack *s);
/* Hand p to the control thread. @return false when it was dropped
 * (counted). */
bool stack_punt(struct wctx *w, struct mpnet_pkt *p, enum punt_kind k, unsigned ifindex, uint8_t a,
                uint8_t b, uint32_t c);
void ctx_tx_flush_all(struct wctx *w);
static inline bool ctx_is_worker(const struct wctx *w)
{
        return w->id != 0;
}
/* Context w holds something from now on that must be serviced by t (a
 * datagram to time out): its loop runs the modules' ctx_service by then. */
static inline void ctx_svc_arm(struct wctx *w, uint64_t t)
{
        if (t < w->svc_next)
                w->svc_next = t;
}
/* Module mod (its index in the graph, enum core_mod for the core ones)
 * has work for its vec_end hook once the dispatch under way ends. */
static inline void ctx_vec_end_arm(struct wctx *w, unsigned mod)
{
        w->vec_end |= 1u << mod;
}
/* Control thread (the runtime): context id gained (delta 1) or lost (-1) a
 * link queue; wake_fd is its worker's eventfd. */
void stack_ctx_queues(struct mpnet_stack *s, unsigned id, int delta, int wake_fd);
/* The context that owns the flow of hash h. */
unsigned stack_flow_owner(const struct mpnet_stack *s, uint32_t h);
/* Hand p to context to, for node (as received on p->ifindex). Takes p;
 * @return false when it was dropped (counted: handoff_drop). */
bool ctx_handoff(struct wctx *w, unsigned to, unsigned node, struct mpnet_pkt *p);
/* Any thread: ask context to's loop to run the modules' ctx_service hooks
 * soon (their state holds new work), waking its worker if it sleeps.
 * Whatever the caller queued before is seen by the hooks. */
void ctx_kick(struct mpnet_stack *s, unsigned to);
/* A context's own work besides its links: packets handed to it,
 * reassembly timeouts. Called by whatever runs w, once a loop. @return
 * the next time it has something due (MPNET_TIME_NEVER: nothing). */
uint64_t ctx_service(struct wctx *w);
/* The time on w: the poll's for the control thread, the clock's for a
 * worker. */
static inline uint64_t ctx_now(const struct wctx *w)
{
        return ctx_is_worker(w) ? mpnet_clock_now(w->s->clock) : w->s->now;
}
/* A token of w's ICMP error bucket (v6: IPv6). */
bool ctx_icmp_rate_ok(struct wctx *w, bool v6);
/* ctx_bucket_take() and ctx_bucket_peek() past their test below, at now. */
bool ctx_bucket_take_at(struct wctx *w, struct punt_bucket *tb, uint64_t rate, uint64_t burst,
                        uint64_t now);
bool ctx_bucket_peek_at(struct wctx *w, struct punt_bucket *tb, uint64_t rate, uint64_t burst,
                        uint64_t now);
/* A bucket met again at the time it was last refilled with less than a
 * token in it stays so: a refill would add nothing (dt 0) and clamp
 * nothing (less than a token is under any cap). A flood's packets in one
 * poll meet their bucket so: inline, they skip the call, the shares and
 * the refill. */
static inline bool ctx_bucket_empty_at(const struct punt_bucket *tb, uint64_t now)
{
        return now == tb->last && tb->tokens < MPNET_NS_PER_S;
}
/* A token of tb, w's bucket of a limit of rate per second and burst that
 * the contexts owning flows share. */
static inline bool ctx_bucket_take(struct wctx *w, struct punt_bucket *tb, uint64_t rate,
                                   uint64_t burst)
{
        uint64_t now = ctx_now(w);

        return !ctx_bucket_empty_at(tb, now) && ctx_bucket_take_at(w, tb, rate, burst, now);
}
/* Whether ctx_bucket_take() on w would now find a token; takes none. */
static inline bool ctx_bucket_peek(struct wctx *w, struct punt_bucket *tb, uint64_t rate,
                                   uint64_t burst)
{
        uint64_t now = ctx_now(w);

        return !ctx_bucket_empty_at(tb, now) && ctx_bucket_peek_at(w, tb, rate, burst, now);
}
/* Take a token of a bucket refilled at rate per second up to burst (both
 * at least 1), tokens kept in nanosecond units since last: the ICMP
 * buckets of the contexts and the stack's redirect bucket. @return
 * whether there was one. */
/* The whole tokens of the bucket at now, refilled as token_take() does
 * (which then takes them one at a time: a refill at the same time adds
 * nothing). */
uint64_t token_count(uint64_t *tokens, uint64_t *last, uint64_t now, uint64_t rate, uint64_t burst);
bool token_take(uint64_t *tokens, uint64_t *last, uint64_t now, uint64_t rate, uint64_t burst);

#endif
