/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stack object's insides, shared by the files of l2/, l3/ and stack/.
 *
 * Synchronisation: one thread drives a stack (see stack.h); nothing here is
 * locked. Life cycle: interfaces, addresses and neighbour entries are created
 * by the control calls or by input (ARP) and live until removed or until the
 * stack is destroyed.
 */
#ifndef MPNET_STACK_PRIV_H
#define MPNET_STACK_PRIV_H

#include "base/stat.h"
#include "base/zalloc.h"
#include "mpnet/counter.h"
#include "mpnet/event.h"
#include "mpnet/ring.h"
#include "mpnet/link.h"
#include "mpnet/lpm4.h"
#include "mpnet/lpm6.h"
#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/timer.h"
#include <stdlib.h>
#include <string.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "stack/counters.h"
#include "stack/graph.h"

#define STACK_MAX_IFACES  64
#define IFACE_MAX_ADDRS   16
#define PING_RING_SIZE    1024
#define ANNOUNCE_NUM      2 /* RFC 5227 section 1.1 */
#define ANNOUNCE_INTERVAL (2 * MPNET_NS_PER_S)
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

/* IPv6 (l3/ip6_*.c, nd6*.c, icmp6.c, mld6.c) */
#define IFACE_MAX_MC     32
#define IFACE_MAX_ONLINK 8
#define IFACE_MAX_DR     4
#define IFACE_MAX_REDIR  32 /* redirect entries (RFC 4861 8.3) per interface */
#define PING6_RING_SIZE  1024
#define PMTU6_SIZE       256
#define IP6_HLIM_DEFAULT 64
#define ND6_MAX_SOLICIT  3                     /* MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT */
#define ND6_REACHABLE_NS (30 * MPNET_NS_PER_S) /* REACHABLE_TIME */
#define ND6_RETRANS_NS   MPNET_NS_PER_S        /* RETRANS_TIMER */

/* ---- FIB (fib/fib4.c) ---- */
#define FIB_NH_CHUNK 4096u
#define FIB_NH_DIR   ((MPNET_LPM4_NH_MAX + 1) / FIB_NH_CHUNK)

struct fib_path {
        struct mpnet_iface *ifp;
        uint32_t gw;
};

/* A route's next hop; immutable once published. */
struct fib_nh {
        uint8_t type; /* enum mpnet_nh_type */
        uint8_t plen;
        uint8_t n_paths;
        uint32_t dst;
        struct fib_path paths[];
};

struct fib4_table {
        struct mpnet_lpm4 *lpm;
        uint32_t id;
        unsigned n_ifaces; /* interfaces bound to it */
        uint64_t n_routes;
};

/* The next-hop objects of one family (fib/nh_table.c): a directory of
 * chunks of atomic pointers, indexed from the LPM entries. */
struct nh_table {
        void *_Atomic *dir[FIB_NH_DIR];
        uint32_t next; /* indices at or above it were never handed out */
        uint32_t *free, free_n, free_cap;
};

/* A free index (up to max), its chunk made if need be. @return 0, -ENOSPC,
 * -ENOMEM. */
int nh_table_alloc(struct nh_table *t, uint32_t max, uint32_t *idx);
/* Recycle an index no reader can have reached. */
void nh_table_release(struct nh_table *t, uint32_t idx);
/* Make nh the object of idx (release store: readers see it whole). */
void nh_table_publish(struct nh_table *t, uint32_t idx, void *nh);
/* After a grace period: unpublish old if still there, free it, recycle idx. */
void nh_table_retire(struct mpnet_stack *s, struct nh_table *t, uint32_t idx, void *old);
/* Free every live object and the directory. */
void nh_table_fini(struct nh_table *t);

/* The object of idx (acquire: a reader sees it whole). */
static inline void *nh_table_get(struct nh_table *t, uint32_t idx)
{
        return atomic_load_explicit(&t->dir[idx / FIB_NH_CHUNK][idx % FIB_NH_CHUNK],
                                    memory_order_acquire);
}

/* IPv6 next hops and tables (fib/fib6.c): as the IPv4 ones. */
struct fib6_path {
        struct mpnet_iface *ifp;
        uint8_t gw[16];
};

struct fib6_nh {
        uint8_t type;
        uint8_t plen;
        uint8_t n_paths;
        uint8_t dst[16];
        struct fib6_path paths[];
};

struct fib6_table {
        struct mpnet_lpm6 *lpm;
        uint64_t n_routes;
};

struct fib6 {
        /* Made on the first route of a table; workers read them. */
        struct fib6_table *_Atomic tables[MPNET_TABLE_MAX];
        uint32_t tables_end; /* above every id ever made: teardown looks no further */
        struct nh_table nh;  /* of struct fib6_nh */
};

struct fib {
        /* Published with release, retired through stack_defer(): a worker
         * may hold a table an interface was just moved off. */
        struct fib4_table *_Atomic tables[MPNET_TABLE_MAX];
        uint32_t tables_end; /* above every id ever made: teardown looks no further */
        struct nh_table nh;  /* of struct fib_nh */
};

/* A neighbour cache of one interface and family (l3/neigh.h). */
#define NEIGH_HASH_SIZE 256

enum { NEIGH_ARP, NEIGH_ND, NEIGH_N };

struct neigh_entry;

struct neigh_table {
        /* Read by workers: lines of their own. */
        _Alignas(MPNET_CACHE_LINE) struct neigh_entry *_Atomic hash[NEIGH_HASH_SIZE];
        unsigned count; /* the control thread's */
        /* Entries never confirmed (l3/neigh.c), oldest first: what a full
         * table evicts. The control thread's. */
        struct neigh_entry *unconf_old, *unconf_new;
};

struct ifaddr6 {
        uint8_t addr[16];
        uint8_t plen;
        uint32_t flags;       /* MPNET_ADDR6_F_* */
        uint64_t valid_until; /* MPNET_TIME_NEVER: for ever */
        uint64_t pref_until;
        uint64_t dad_at;     /* next DAD step; MPNET_TIME_NEVER: none */
        uint8_t dad_left;    /* probes still to send */
        uint8_t nonce[6];    /* of the last probe (RFC 7527) */
        bool stable;         /* an RFC 7217 identifier ... */
        uint8_t dad_counter; /* ... made with this DAD_Counter */
};

/* A joined IPv6 multicast group (MLD, RFC 3810). */
struct mc6_group {
        uint8_t addr[16];
        uint32_t refs;
        uint8_t report_left; /* unsolicited reports still to send */
};

/* A router interface's advertising state (RFC 4861 6.2). */
struct ra_state {
        struct mpnet_ra_cfg cfg;
        unsigned initial_left; /* MAX_INITIAL_RTR_ADVERTISEMENTS */
        uint64_t next;         /* next advertisement */
        uint64_t last;         /* last multicast advertisement (6.2.6 rate) */
};

struct ifaddr4 {
        uint32_t addr;
        uint32_t mask;
        uint8_t plen;
        uint8_t announce_left; /* gratuitous ARPs still to send */
};

/* An interface's IPv4 addresses as every context reads them: an immutable
 * copy published with RCU after each change (stack.c), so workers choose
 * sources and recognise their own addresses without the control thread's
 * array. */
struct addr4_snap {
        unsigned n;
        struct ifaddr4 a[];
};

/* Every IPv4 address of a stack, sorted: what stack_is_local4() searches
 * (RCU, rebuilt with each interface's snapshot). */
struct local4_set {
        unsigned n;
        uint32_t a[];
};

/* Every usable IPv6 address of a stack (not tentative or duplicated),
 * sorted: what stack_is_local6() searches (RCU, rebuilt with each
 * interface's published copy). */
struct local6_set {
        unsigned n;
        struct a128 {
                uint64_t hi, lo; /* the address as a big-endian number */
        } a[];
};

/* An IPv6 address as workers see it: its DAD and preference state in
 * flags (a tentative or duplicated one is not ours, RFC 4862 5.4). */
struct addr6_pub {
        uint8_t addr[16];
        uint8_t plen;
        uint32_t flags; /* MPNET_ADDR6_F_* */
};

/* An interface's IPv6 addresses and joined groups (solicited-node groups
 * included) as every context reads them: an immutable copy published with
 * RCU after each change (iface_addr6_publish), as addr4 is. */
struct addr6_snap {
        unsigned n, n_mc;
        uint8_t hop_limit; /* cur_hop_limit (an RA may set it); 0: not yet */
        struct addr6_pub a[IFACE_MAX_ADDRS];
        uint8_t mc[IFACE_MAX_MC][16];
};

struct mpnet_iface {
        struct mpnet_stack *stack;
        struct mpnet_link *link;
        int ifindex;
        uint32_t gen; /* stack-unique, never 0: tells a reused ifindex's interfaces apart */
        _Atomic bool up;
        bool carrier;                /* the link's, as last seen by the control thread */
        uint64_t revive_at;          /* while down: when to try the link again */
        _Atomic unsigned n_assigned; /* (queue, worker) pairs of the runtime */
        _Atomic uint32_t table;      /* FIB table id */
        /* Its IPv4 table, what workers read: the table a worker loaded stays
         * valid until its next quiescent state (mpnet_table_del defers the
         * free), even if the interface moved and the table went meanwhile. */
        struct fib4_table *_Atomic fib4;
        /* Set once a context's transmit queue (its id) is past the link's
         * last: from then every context maps its id onto the link's queues
         * and holds that queue's lock while it sends (ctx_tx_flush). */
        _Atomic bool tx_shared;
        struct iface_txlock *txlock; /* [link n_txq], made when shared */
        /* Feature lists per arc (graph.h), NULL for none: what workers read
         * at each arc point, published with RCU. */
        struct feat_list *_Atomic arcs[ARC__COUNT];
        char name[MPNET_LINK_NAME_MAX];
        uint8_t mac[6];
        /* Set by the control thread (mpnet_iface_set_mtu) while workers
         * read it on the forwarding path. */
        _Atomic uint32_t mtu;
        unsigned n_addrs; /* the control thread's; others read addr4 */
        struct ifaddr4 addrs[IFACE_MAX_ADDRS];
        struct addr4_snap *_Atomic addr4;
        struct mpnet_timer announce_timer;
        /* IPv6 */
        bool ip6_on;
        _Atomic uint32_t mtu6; /* link MTU for IPv6 (an RA may lower it) */
        unsigned n_addrs6;     /* addrs6 and mc6: the control thread's; others read addr6 */
        struct ifaddr6 addrs6[IFACE_MAX_ADDRS];
        unsigned n_mc6;
        struct mc6_group mc6[IFACE_MAX_MC];
        struct addr6_snap *_Atomic addr6;
        /* The groups' MACs (33:33:...) in bits 0-47 of each, 0 when free:
         * what ether-input reads on workers. */
        _Atomic uint64_t mc_mac[IFACE_MAX_MC];
        struct mpnet_timer nd_timer; /* DAD, lifetimes, RS, RA, MLD */
        uint64_t nd_reachable_base, nd_reachable_ns, nd_retrans_ns;
        uint8_t cur_hop_limit;
        unsigned rs_left;
        uint64_t rs_next, mld_next, mld_query_at;
        uint8_t mld_query_group[16]; /* :: for a general query */
        /* The default router list (RFC 4861 6.3.4): one ::/0 route with a
         * path per router, chosen by flow hash. */
        unsigned n_dr;
        struct {
                uint8_t addr[16];
                uint64_t until;
        } dr[IFACE_MAX_DR];
        unsigned n_rdnss;
        uint8_t rdnss[MPNET_RA_MAX_RDNSS][16];
        uint64_t rdnss_until;
        struct ra_state *ra; /* advertising (router mode), else NULL */
        /* On-link prefixes learnt from advertisements (RFC 4861 6.3.4). */
        unsigned n_onlink;
        struct onlink6 {
                uint8_t prefix[16];
                uint8_t plen;
                uint64_t until;
        } onlink[IFACE_MAX_ONLINK];
        /* Redirects (RFC 4861 8): the switches, and the destinations this
         * host was redirected for, each a /128 route until it expires. */
        bool redirect_accept;
        _Atomic bool redirect_send;  /* IPv6 */
        _Atomic bool redirect4_send; /* IPv4 (RFC 1812 5.2.7.2) */
        unsigned n_redir;
        struct redirect6 {
                uint8_t dst[16];
                uint64_t until;
        } redir[IFACE_MAX_REDIR];
        struct neigh_table neigh[NEIGH_N]; /* ARP, ND */
};

/* The features of arc a on ifp over a vector. @return how many go on. */
static inline unsigned arc_run(struct wctx *w, struct mpnet_iface *ifp, enum arc a,
                               struct mpnet_pkt **p, uint32_t *aux, unsigned n)
{
        const struct feat_list *fl = atomic_load_explicit(&ifp->arcs[a], memory_order_acquire);

        if (__builtin_expect(fl == NULL, 1))
                return n;
        return arc_run_list(w, ifp, fl, p, aux, n);
}

struct iface_txlock {
        atomic_flag busy;
} __attribute__((aligned(MPNET_CACHE_LINE)));

/* A node's input: packets and one word of per-packet data (a destination
 * address, a next-hop index). */
struct frame {
        unsigned n;
        struct mpnet_pkt *p[MPNET_VEC_MAX];
        uint32_t aux[MPNET_VEC_MAX];
};

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
        struct punt_bucket {
                uint64_t tokens, last;
        } punt_tb[2];
        uint16_t ip_id; /* IPv4 identification of what this context sends */
        /* Each module's per-context state (graph.h), by module index: the
         * IPv4 and IPv6 reassembly tables of the flows it owns among them. */
        void *mctx[GRAPH_MAX_MODS];
        /* No module needs its ctx_service before this (ctx_svc_arm): a
         * loop with nothing held costs one compare. */
        uint64_t svc_next;
        _Atomic int wake_fd; /* its worker's eventfd, -1: none (the control thread) */
        /* Hand-off rings into this context, by the sending context's id,
         * made by the sender on first use; the bit of a sender that queued
         * something since the last drain. */
        struct mpnet_ring *_Atomic ho_in[STACK_MAX_CTX];
        _Alignas(MPNET_CACHE_LINE) _Atomic uint64_t ho_pending;
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
 * control thread writes on every poll (the time, ICMP tokens, ping rings)
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
        uint64_t ifs_attached;           /* bit i - 1: ifs[i] set (control thread's walks) */
        struct wctx *ctx[STACK_MAX_CTX]; /* [0] the control thread */
        struct fib fib;
        struct fib6 fib6;
        struct graph g; /* assembled at creation, then read only */
        /* The control thread's own. */
        _Alignas(MPNET_CACHE_LINE) uint64_t now; /* time of the poll in progress */
        uint64_t rng;
        uint32_t arp_queue_max, arp_max_probes;
        uint32_t neigh_held; /* packets in every neighbour hold queue (l3/neigh.c) */
        uint64_t arp_reachable_ns, arp_retrans_ns;
        struct mpnet_timer_wheel *timers;
        uint32_t iface_gen; /* the last interface's gen */
        struct mpnet_ping_reply ping[PING_RING_SIZE];
        uint32_t ping_head, ping_tail;
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
        uint64_t icmp6_tokens, icmp6_last; /* the redirects' bucket (nd6_redirect.c) */
        struct mpnet_ping6_reply ping6[PING6_RING_SIZE];
        uint32_t ping6_head, ping6_tail;
        struct pmtu6_entry {
                uint8_t dst[16];
                uint32_t mtu; /* 0: free */
                uint64_t until;
        } pmtu6[PMTU6_SIZE];
        struct stack_events events; /* change notifications (event.h) */
        struct reass_budget reass;  /* every context's reassembly, both families */
        /* Workers' contexts whose last link queue of the stack went
         * (stack_ctx_queues), bit per id: no worker runs them any more, so
         * the control thread times out what they hold (stack_poll). */
        uint64_t ctx_orphans;
        /* Interfaces (bit ifindex - 1) whose IPv6 copy could not be
         * published for want of memory: published again on the next poll. */
        uint64_t addr6_unpublished;
};

/* stack/event.c: record a change (control thread). */
void stack_event(struct mpnet_stack *s, const struct mpnet_event *e);
void stack_event_iface(struct mpnet_stack *s, enum mpnet_event_type t, int ifindex);

/* Look at every link's carrier; an event for each change. */
void stack_carrier_watch(struct mpnet_stack *s);

#define STK_INC(s, c)    mpnet_counter_inc((s)->ctr, STK_##c)
#define STK_ADD(s, c, n) mpnet_counter_add((s)->ctr, STK_##c, (n))

static inline uint32_t ip4_mask(uint8_t plen)
{
        return plen == 0 ? 0 : ~0u << (32 - plen);
}

static inline struct fib_nh *fib_nh_get(struct mpnet_stack *s, uint32_t idx)
{
        return nh_table_get(&s->fib.nh, idx);
}

/* fib/fib4.c */
int fib4_init(struct mpnet_stack *s);
void fib4_fini(struct mpnet_stack *s);
/* Take the interface out of every route (the route goes with its last path). */
int fib4_iface_flush(struct mpnet_stack *s, int ifindex);
struct fib4_table *fib4_table(struct mpnet_stack *s, uint32_t id);

static inline const struct fib4_table *iface_fib4(const struct mpnet_iface *ifp)
{
        return atomic_load_explicit(&ifp->fib4, memory_order_acquire);
}

static inline const struct fib_nh *fib4_lookup(struct mpnet_stack *s, const struct fib4_table *t,
                                               uint32_t addr)
{
        uint32_t idx;

        if (mpnet_lpm4_lookup(t->lpm, addr, &idx) != 0)
                return NULL;
        return fib_nh_get(s, idx);
}

/* fib/fib6.c */
void fib6_fini(struct mpnet_stack *s);
/* Take the interface out of every route (the route goes with its last path). */
int fib6_iface_flush(struct mpnet_stack *s, const struct mpnet_iface *ifp);
int fib6_table_del(struct mpnet_stack *s, uint32_t id); /* -EBUSY with routes */

static inline struct fib6_nh *fib6_nh_get(struct mpnet_stack *s, uint32_t idx)
{
        return nh_table_get(&s->fib6.nh, idx);
}

static inline struct fib6_table *fib6_table(struct mpnet_stack *s, uint32_t id)
{
        return id < MPNET_TABLE_MAX
                   ? atomic_load_explicit(&s->fib6.tables[id], memory_order_acquire)
                   : NULL;
}

static inline const struct fib6_nh *fib6_lookup(struct mpnet_stack *s, uint32_t table,
                                                const uint8_t *addr)
{
        struct fib6_table *t = fib6_table(s, table);
        uint32_t idx;

        if (t == NULL || mpnet_lpm6_lookup(t->lpm, addr, &idx) != 0)
                return NULL;
        return fib6_nh_get(s, idx);
}

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
/* Any context (the published addresses): the address of ifp on dst's
 * prefix, or NULL; the first address of ifp, or 0; whether a is ifp's, or
 * any interface's of s. */
const struct ifaddr4 *iface_addr_match(const struct mpnet_iface *ifp, uint32_t dst);
uint32_t iface_addr4_first(const struct mpnet_iface *ifp);
bool iface_has_addr(const struct mpnet_iface *ifp, uint32_t a);
bool stack_is_local4(const struct mpnet_stack *s, uint32_t a);
/* Control thread: publish ifp's addresses after a change. @return 0 or
 * -ENOMEM (the old copy stays). */
int iface_addr4_publish(struct mpnet_iface *ifp);
/* Control thread: publish ifp's IPv6 addresses and groups when they differ
 * from the published copy; called after every change. @return 0 or
 * -ENOMEM (the old copy stays). */
int iface_addr6_publish(struct mpnet_iface *ifp);
/* Any context (the published copy): ifp's address a in whatever state, or
 * NULL; whether ifp has joined group g; the published copy itself. */
const struct addr6_pub *iface_addr6_find(const struct mpnet_iface *ifp, const uint8_t *a);
bool iface_mc6_has(const struct mpnet_iface *ifp, const uint8_t *g);
const struct addr6_snap *iface_addr6_read(const struct mpnet_iface *ifp);
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
/* Control thread (the runtime): context id gained (delta 1) or lost (-1) a
 * link queue; wake_fd is its worker's eventfd. */
void stack_ctx_queues(struct mpnet_stack *s, unsigned id, int delta, int wake_fd);
/* The context that owns the flow of hash h. */
unsigned stack_flow_owner(const struct mpnet_stack *s, uint32_t h);
/* Hand p to context to, for node (as received on p->ifindex). Takes p;
 * @return false when it was dropped (counted: handoff_drop). */
bool ctx_handoff(struct wctx *w, unsigned to, unsigned node, struct mpnet_pkt *p);
/* A context's own work besides its links: packets handed to it,
 * reassembly timeouts. Called by whatever runs w, once a loop. @return
 * the next time it has something due (MPNET_TIME_NEVER: nothing). */
uint64_t ctx_service(struct wctx *w);
/* The time on w: the poll's for the control thread, the clock's for a
 * worker. */
uint64_t ctx_now(const struct wctx *w);
/* A token of w's ICMP error bucket (v6: IPv6). */
bool ctx_icmp_rate_ok(struct wctx *w, bool v6);

/* l2/ether.c: the ether-input node; ether_input runs it on a vector,
 * fresh from a link (its re-entries not yet counted) or not. */
void ether_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **pkts, unsigned n,
                 bool fresh);
void ether_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* Prepend the header and queue on w's transmit vector (any context);
 * ether_output on the control thread's. */
int ether_output_w(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *dst,
                   uint16_t ethertype);
int ether_output(struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *dst,
                 uint16_t ethertype);
void ctx_tx_flush(struct wctx *w, struct mpnet_iface *ifp);
void ctx_tx_slow(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);

/* l3/arp.c */
void arp_input(struct mpnet_iface *ifp, struct mpnet_pkt *p);
void arp_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
int arp_resolve_output(struct mpnet_iface *ifp, uint32_t nexthop, struct mpnet_pkt *p);
void arp_announce(struct mpnet_iface *ifp, uint32_t addr);

/* l3/ip4_input.c: the ip4-input, ip4-lookup and ip4-local nodes */
void ip4_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip4_lookup_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip4_local_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* Any context. arc_done: the local-in arc has seen p (a worker's punt). */
void ip4_local_one(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, bool arc_done);
/* Give p (at its transport header, its IPv4 header at l3_off) to the
 * control thread: what a protocol does only there (the ping API's
 * replies). */
void ip4_local_punt_back(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);

/* l3/ip4_forward.c: the ip4-rewrite node */
void ip4_rewrite_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);

/* l3/ip4_output.c: any context; ip4_output, ip4_output_df and
 * ip4_send_on are the control thread's forms. A worker punts what only the
 * control thread does: fragmentation, resolution of a next hop with no
 * usable entry, delivery to ourselves. */
int ip4_output_w(struct wctx *w, struct mpnet_pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
                 uint8_t ttl, bool df);
int ip4_output(struct mpnet_stack *s, struct mpnet_pkt *p, uint32_t src, uint32_t dst,
               uint8_t proto, uint8_t ttl);
/* With don't-fragment; p may be a chain. */
int ip4_output_df(struct mpnet_stack *s, struct mpnet_pkt *p, uint32_t src, uint32_t dst,
                  uint8_t proto, uint8_t ttl, bool df);
/* Hand a packet whose IPv4 header is written to next hop nexthop on ifp,
 * fragmenting it when it exceeds the MTU. */
int ip4_send_on(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t nexthop,
                struct mpnet_pkt *p, bool bcast);

/* l3/ip6_input.c: the ip6-input, ip6-lookup and ip6-local nodes */
void ip6_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip6_lookup_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip6_local_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* Any context. arc_done: the local-in arc has seen p (a worker's punt). */
void ip6_local_one(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, bool arc_done);
/* Give p (at its transport header, its IPv6 header at l3_off) to the
 * control thread: what only it does (ND, MLD, the ping API). */
void ip6_local_punt_back(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);

/* l3/ip6_forward.c: the ip6-rewrite node */
void ip6_rewrite_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);

/* l3/ip6_output.c */
/* Send an upper-layer message p (a chain allowed) from src (:: to choose)
 * to dst; oif names the interface for a link-local or multicast dst (0:
 * route in table 0). Fragments to the path MTU (RFC 8200 4.5). The
 * control thread's. */
int ip6_output(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
               uint8_t proto, uint8_t hlim, int oif);
/* ip6_output on any context: a worker sends on its own vectors what fits
 * the IPv6 minimum MTU to a usable neighbour, and punts to the control
 * thread what needs it (a larger message, which the path MTU may make a
 * fragmented one; delivery to ourselves; resolution, l3/neigh.c). */
int ip6_output_w(struct wctx *w, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
                 uint8_t proto, uint8_t hlim, int oif);
/* The control thread's side of a worker's PUNT_OUT6 (a punt_fn). */
void ip6_out_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                  uint64_t meta);
/* Hand a packet whose IPv6 header is written to nexthop on ifp. */
int ip6_send_on(struct mpnet_iface *ifp, const uint8_t *nexthop, struct mpnet_pkt *p);
/* Prepend an IPv6 header to p and send it on ifp: to dmac when given, to
 * the group's MAC for multicast, else through neighbour resolution. For ND
 * and MLD, which name their interface and hop limit. */
int ip6_send_raw(struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *src,
                 const uint8_t *dst, uint8_t proto, uint8_t hlim, const uint8_t *dmac);
/* RFC 6724 among ifp's addresses (all interfaces' when ifp is NULL), on
 * any context (the published copies). */
const struct addr6_pub *ip6_src_pick(struct mpnet_stack *s, struct mpnet_iface *ifp,
                                     const uint8_t *dst);
uint32_t pmtu6_lookup(struct mpnet_stack *s, const uint8_t *dst);
void pmtu6_update(struct mpnet_stack *s, const uint8_t *dst, uint32_t mtu);

/* The IPv6 module's own counters (mod_ip6, found by name). */
enum ip6_ctr {
        IP6_CTR_NO_SRC,     /* "ip6_no_src": an own packet with no source address */
        IP6_CTR_PUNT_SHORT, /* "ip6_out_punt_short": PUNT_OUT6 cut below 40 bytes */
};

/* l3/reass.c: the reassembly tables of context w, its modules' state. */
struct ip4_reass *reass4_of(struct wctx *w);
struct ip6_reass *reass6_of(struct wctx *w);

/* l3/ip6_frag.c: reassembly (RFC 8200 4.5, RFC 5722), a table per context
 * used only by it; ip6_reass_usage from any thread. */
struct ip6_reass *ip6_reass_create(struct wctx *w, struct reass_budget *b);
void ip6_reass_destroy(struct ip6_reass *r);
void ip6_reass_expire(struct ip6_reass *r, uint64_t now);
void ip6_reass_flush(struct ip6_reass *r); /* every datagram freed, no error sent */
uint64_t ip6_reass_next_expiry(const struct ip6_reass *r);
/* What it holds now and its caps (buffer bytes, datagrams). */
void ip6_reass_usage(const struct ip6_reass *r, uint64_t *bytes, uint64_t *max_bytes,
                     uint32_t *datagrams, uint32_t *max_datagrams);
/* p: a fragment (IPv6 header first) with its fragment header at frag_off.
 * @return the whole datagram (a chain, fragment header gone), or NULL. */
struct mpnet_pkt *ip6_reass_input(struct ip6_reass *r, struct mpnet_pkt *p, uint16_t frag_hdr_off,
                                  uint16_t prev_nh_off);

/* l3/nd6.c: ND resolution and NS/NA (RFC 4861 7) */
int nd6_resolve_output(struct mpnet_iface *ifp, const uint8_t *nexthop, struct mpnet_pkt *p);
void nd6_ns_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
void nd6_na_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
/* src NULL: a DAD probe from :: with a fresh nonce (RFC 7527). dmac NULL:
 * the group's MAC of a multicast dst. */
void nd6_ns_send(struct mpnet_iface *ifp, const uint8_t *src, const uint8_t *dst,
                 const uint8_t *target, const uint8_t *dmac);
void nd6_na_send(struct mpnet_iface *ifp, const uint8_t *dst, const uint8_t *target,
                 bool solicited);
/* Learn a link-layer address from a source link-layer option (RS, RA, NS). */
void nd6_learn(struct mpnet_iface *ifp, const uint8_t *addr, const uint8_t *mac, bool router);
struct mpnet_nd_repr;
/* The link-layer address option of type want, or NULL; *nonce gets a nonce
 * option when asked. */
const uint8_t *nd6_opt_lladdr(const struct mpnet_nd_repr *r, uint8_t want, const uint8_t **nonce);
uint64_t nd6_reachable_time(struct mpnet_iface *ifp);

/* l3/nd6_addr.c: addresses, DAD, SLAAC, RS/RA, the interface's ND timer */
struct ifaddr6 *ifaddr6_find(struct mpnet_iface *ifp, const uint8_t *a);
/* Any context (the published copies): a is a usable address of ours. */
bool stack_is_local6(const struct mpnet_stack *s, const uint8_t *a);
/* Add or remove the routes of ifp's usable addresses (table moves). */
void iface_addr6_routes(struct mpnet_iface *ifp, bool add);
/* A usable link-local address of ifp, or NULL. */
const struct ifaddr6 *iface_ll6(const struct mpnet_iface *ifp);
void nd6_kick(struct mpnet_iface *ifp);
/* At attach: the timer and defaults; IPv6 on when the stack says so. */
void nd6_iface_init(struct mpnet_iface *ifp);
void nd6_dad_duplicate(struct mpnet_iface *ifp, struct ifaddr6 *a);
void nd6_rs_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
void nd6_ra_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
/* Put a router on the default router list for lifetime_s seconds; 0 takes
 * it off (RFC 4861 6.3.4, 7.2.5). */
void nd6_dr_update(struct mpnet_iface *ifp, const uint8_t *router, uint32_t lifetime_s);
/* Parse an ND message, counting why it is dropped (RFC 4861 4.6: an option
 * of length 0 or past the end drops it). */
struct mpnet_nd_repr;
bool nd6_parse(struct mpnet_stack *s, const uint8_t *msg, size_t n, struct mpnet_nd_repr *r);

/* l3/nd6_redirect.c: redirects (RFC 4861 8) */
void nd6_redirect_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip,
                        const uint8_t *msg, size_t n);
/* Send a redirect for p (at its IPv6 header, the stack's to keep) to its
 * source, naming target as the better first hop. */
void nd6_redirect_send(struct mpnet_iface *ifp, const struct mpnet_pkt *p, const uint8_t *target);
/* Drop every redirect entry of ifp and its routes. */
void nd6_redirect_flush(struct mpnet_iface *ifp);
/* Expire redirect entries; @return the next expiry. */
uint64_t nd6_redirect_tick(struct mpnet_iface *ifp, uint64_t now);

/* l3/mld6.c */
int mc6_join(struct mpnet_iface *ifp, const uint8_t *group);
void mc6_leave(struct mpnet_iface *ifp, const uint8_t *group);
bool mc6_joined(const struct mpnet_iface *ifp, const uint8_t *group);
bool iface_mc_mac_ok(const struct mpnet_iface *ifp, const uint8_t *mac);
void mld_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
               size_t n);
/* Reports due by now; @return the next time one is due. */
uint64_t mld_tick(struct mpnet_iface *ifp, uint64_t now);

/* l3/icmp6.c: any context */
void icmp6_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                 const struct mpnet_ip6_repr *ip);
/* An ICMPv6 error about p (at its IPv6 header) unless RFC 4443 2.4(e)
 * forbids it or w's rate limit says no. p stays the caller's. */
void icmp6_error(struct wctx *w, const struct mpnet_pkt *p, uint8_t type, uint8_t code,
                 uint32_t info);
/* Build an ICMPv6 message of n bytes (header zeroed) in one buffer. */
uint8_t *icmp6_alloc(struct mpnet_stack *s, size_t n, struct mpnet_pkt **pp);
/* A token from the stack's ICMPv6 redirect limiter (RFC 4861 8.2). */
bool icmp6_rate_ok(struct mpnet_stack *s);
/* The one's-complement sum of a chain's bytes (RFC 1071). */
uint16_t pkt_csum_chain(const struct mpnet_pkt *p, uint64_t sum);

/* l3/icmp4.c: any context */
void icmp4_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                 const struct mpnet_ip4_repr *ip);
/* Send an ICMP error about p (at its IPv4 header) unless RFC 1812 4.3.2.7
 * forbids it or w's rate limit is reached. p stays the caller's. */
void icmp4_error(struct wctx *w, const struct mpnet_pkt *p, uint8_t type, uint8_t code,
                 uint32_t rest);

/* Queue a finished frame on w's transmit vector for ifp. */
static inline void ctx_tx(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        struct mpnet_vec *v = w->txv[ifp->ifindex];

        if (__builtin_expect(v == NULL || v->n == MPNET_VEC_MAX, 0)) {
                ctx_tx_slow(w, ifp, p);
                return;
        }
        p->ifindex = (uint32_t)ifp->ifindex;
        v->p[v->n++] = p;
}

/* An ICMP error about p, then p freed: sent by the context itself. */
static inline void node_icmp_error(struct wctx *w, struct mpnet_pkt *p, uint8_t type, uint8_t code,
                                   uint32_t rest)
{
        icmp4_error(w, p, type, code, rest);
        mpnet_pkt_free(p);
}

static inline void node_icmp6_error(struct wctx *w, struct mpnet_pkt *p, uint8_t type, uint8_t code,
                                    uint32_t info)
{
        icmp6_error(w, p, type, code, info);
        mpnet_pkt_free(p);
}

static inline bool ip6_eq(const uint8_t *a, const uint8_t *b)
{
        uint64_t a0, a1, b0, b1;

        memcpy(&a0, a, 8);
        memcpy(&a1, a + 8, 8);
        memcpy(&b0, b, 8);
        memcpy(&b1, b + 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* The first plen bits of a and b agree. */
static inline bool ip6_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
        unsigned bytes = plen / 8, bits = plen % 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        return bits == 0 || ((a[bytes] ^ b[bytes]) & (0xff00 >> bits)) == 0;
}

static const uint8_t ip6_all_nodes[16] = {0xff, 2, [15] = 1};
static const uint8_t ip6_all_routers[16] = {0xff, 2, [15] = 2};

/* Timing of a node run: TSC where there is one. */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t node_clock(void)
{
        return __rdtsc();
}
#else
static inline uint64_t node_clock(void)
{
        return mpnet_monotonic_ns();
}
#endif

#endif
