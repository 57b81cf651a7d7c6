/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet graph of a stack, assembled from protocol modules.
 *
 * A module (struct mpnet_module) declares its nodes (a name, a function, named
 * next nodes), what it takes from the demultiplexers (ethertypes, IP
 * protocol numbers per family, punt kinds), its own counters, its features,
 * and per-stack state with init and fini. mpnet_stack_create() assembles
 * the graph of each stack from the compiled-in module list (modules.c) and
 * the extra modules of its configuration: node ids, next-node tables and
 * demultiplexing tables are the stack's own; nothing here is global and
 * mutable.
 *
 * The dispatcher (graph.c) runs the nodes of one context until every frame
 * is empty, lowest node id first, so a node may send to any node, an
 * earlier one included. A packet that goes back to an earlier node, or
 * re-enters the graph on another interface (a decapsulated packet to
 * ether-input, ip4-input, ip6-input), counts one re-entry; past
 * GRAPH_REENTRY_MAX it is dropped and counted (graph_reentry_drop).
 *
 * Feature arcs (the pfil(9) idea, VPP's feature arcs): at each arc point an
 * interface may carry an ordered list of features, each a function that
 * sees a vector and keeps, drops or takes its packets. Lists are published
 * with RCU: enabling or disabling a feature never stops a worker. An arc
 * with no feature costs one load and a branch per vector.
 *
 * Synchronisation: assembly and feature changes are the control thread's;
 * workers read the graph (immutable after assembly) and the arc lists
 * (RCU) on their packet path.
 */
#ifndef MPNET_GRAPH_H
#define MPNET_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/clock.h"
#include "mpnet/pkt.h"

struct wctx;
struct mpnet_iface;
struct mpnet_stack;
struct mpnet_stack_usage;
struct mpnet_ip4_repr;
struct mpnet_ip6_repr;
struct mpnet_timer;

#define GRAPH_MAX_NODES      64 /* bits of the pending mask */
#define GRAPH_MAX_NEXT       8
#define GRAPH_MAX_MODS       32
#define GRAPH_MAX_ETHERTYPES 8
#define GRAPH_MAX_L4         32
#define GRAPH_MAX_PUNTS      32
#define GRAPH_MAX_FEATS      32
#define GRAPH_REENTRY_MAX    4 /* times one packet may go back into the graph */
#define GRAPH_VEC_END_ROUNDS 4 /* vec_end rounds a dispatch runs (graph_run) */

/* Re-entries so far ride in the top bits of ol_flags (graph-private). */
#define PKT_REENTRY_SHIFT 28
#define PKT_REENTRY_MASK  (0xfu << PKT_REENTRY_SHIFT)

/* The nodes of the core modules, in the order modules.c registers them:
 * their ids are constants, so the core nodes reach each other's frames
 * without a table. Assembly checks the order. */
enum core_node {
        NODE_ether_input,
        NODE_iface_tx,
        NODE_ip4_input,
        NODE_ip4_lookup,
        NODE_ip4_rewrite,
        NODE_ip4_local,
        NODE_ip6_input,
        NODE_ip6_lookup,
        NODE_ip6_rewrite,
        NODE_ip6_local,
        NODE_arp_input,
        NODE__CORE
};

/* The core modules, in the order of core_modules[] (modules.c): their
 * per-context state is w->mctx[MOD_...] without a search. */
enum core_mod {
        MOD_ether,
        MOD_ip4,
        MOD_ip6,
        MOD_arp,
        MOD_neigh,
        MOD_icmp4,
        MOD_icmp6,
        MOD_tcp,
        MOD_ip4_reass,
        MOD_ip6_reass,
        MOD_udp,
        MOD_sock,
        MOD_igmp,
        MOD_raw,
        MOD__CORE
};

/* Arc points. Input arcs use the receiving interface's list, output arcs
 * the sending interface's. */
enum arc {
        ARC_ETHER_IN,  /* every received frame, before ether-input looks */
        ARC_IP4_IN,    /* IPv4 past its header checks, before the lookup */
        ARC_IP6_IN,    /* IPv6 past its header checks, before the lookup */
        ARC_IP4_FWD,   /* IPv4 to be forwarded (aux: next-hop index) */
        ARC_IP6_FWD,   /* IPv6 to be forwarded (aux: next-hop index) */
        ARC_LOCAL_IN,  /* for this stack, before the protocols (both families) */
        ARC_LOCAL_OUT, /* sent by this stack, its route known (both families) */
        ARC_IP4_OUT,   /* IPv4 leaving an interface, forwarded or our own */
        ARC_IP6_OUT,   /* IPv6 leaving an interface, forwarded or our own */
        ARC__COUNT
};

/* A node's input: packets and one word of per-packet data (a destination
 * address, a next-hop index). */
struct frame {
        unsigned n;
        struct mpnet_pkt *p[MPNET_VEC_MAX];
        uint32_t aux[MPNET_VEC_MAX];
};

/* A node: processes the frame w->fr[self], the packets of one receiving
 * interface ifp. */
typedef void (*node_fn)(struct wctx *w, struct mpnet_iface *ifp, unsigned self);

struct node_reg {
        const char *name;
        node_fn fn; /* NULL: a node that only accounts (interface-tx) */
        const char *const *next;
        unsigned n_next;
        int core_id; /* enum core_node for the core modules, -1 for others */
};

/* Delivery of one packet to a transport protocol, on the context w that
 * owns its flow (a worker or the control thread, either family): p->data
 * at its header, p->l3_off at the IP header; repr is the struct
 * mpnet_ip4_repr or mpnet_ip6_repr. The handler owns p. */
typedef void (*l4_fn)(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                      const void *repr);

/* A tap on local delivery (graph.h, struct mpnet_module.l4_tap). */
enum { L4_TAP_NONE, L4_TAP_COPIED, L4_TAP_TAKEN };
typedef int (*l4_tap_fn)(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned fam,
                         uint8_t proto);

/* A punt on the control thread: meta is the punt word (stack.c). The
 * handler owns p. */
typedef void (*punt_fn)(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                        uint64_t meta);

/* A feature: keep the packets that go on at the front of p (aux along with
 * them), consume the others (free, or send elsewhere). @return how many go
 * on. state is the module's per-stack state. */
typedef unsigned (*feature_fn)(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                               uint32_t *aux, unsigned n, void *state);

struct ethertype_reg {
        uint16_t type;
        const char *node;
};

/* An ICMP or ICMPv6 error about a datagram of a transport protocol that
 * this stack sent (the quoted header's source is one of its addresses),
 * as icmp4.c and icmp6.c hand it to the protocol's err handler once the
 * quote holds the IP header and 8 bytes of the transport header (RFC 792,
 * RFC 4443 2.4(c)). Addresses are 16 bytes, v4-mapped for IPv4. */
struct l4_err {
        uint8_t family;       /* 4 or 6: of the error and of the quote */
        uint8_t type, code;   /* the ICMP(v6) message's */
        uint32_t info;        /* next-hop MTU (fragmentation needed, packet
                                 too big), pointer (parameter problem), or 0 */
        uint32_t rest;        /* the ICMP(v6) header's second word */
        uint8_t ttl;          /* the error's TTL or hop limit */
        uint8_t offender[16]; /* the error's source */
        uint8_t src[16];      /* the quoted datagram's source: ours */
        uint8_t dst[16];      /* the quoted datagram's destination */
        const uint8_t *l4;    /* the quoted transport header */
        uint32_t l4_len;      /* bytes of it and its payload quoted, >= 8 */
        uint32_t ifindex;     /* the interface the error came in on */
};

/* The error handler of a transport protocol, on the context that runs
 * ICMP errors (the control thread: workers punt them, icmp4.c, icmp6.c).
 * @return whether the quote names a flow of ours (RFC 5927 3: a socket,
 * and its peer when connected); the path MTU takes a fragmentation needed
 * or packet too big only then. A protocol with no handler: taken as ours
 * (the ping API's echo requests). */
typedef bool (*l4_err_fn)(struct wctx *w, const struct l4_err *e);

/* A protocol's early drop on local delivery's vector (ip4-local or
 * ip6-local, before each packet's ip4_local_one() or ip6_local_one()):
 * p[0..n) at their IP headers, checked by ip4-input or ip6-input, routed
 * to this stack, any protocol. It keeps what goes on at the front of p in
 * order, moves what it drops (and counted) to drop[0..*nd), and @return
 * how many go on. One module at most a family (l4/tcp.c: SYNs past a
 * listener's cookie limit). */
typedef unsigned (*l4_shed_fn)(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                               unsigned n, struct mpnet_pkt **drop, unsigned *nd);

struct l4_reg {
        uint8_t family; /* 4 or 6 */
        uint8_t proto;
        l4_fn fn;
        l4_err_fn err;   /* NULL: none */
        l4_shed_fn shed; /* NULL: none; one a family */
};

struct punt_reg {
        uint8_t kind;
        punt_fn fn;
        /* NULL, or whether a punt of this kind (b: its byte b, stack.c) is
         * neighbour work that goes ahead of the rest (the punt_nb ring). */
        bool (*urgent)(uint8_t b, const struct mpnet_pkt *p);
};

struct feature_reg {
        const char *name;
        enum arc arc;
        int order; /* lower runs first on its arc */
        feature_fn fn;
};

struct counter_reg {
        const char *name;
        const char *desc;
};

struct mpnet_module {
        const char *name;
        const struct node_reg *nodes;
        unsigned n_nodes;
        const struct ethertype_reg *ethertypes;
        unsigned n_ethertypes;
        const struct l4_reg *l4;
        unsigned n_l4;
        const struct punt_reg *punts;
        unsigned n_punts;
        /* A tap on local delivery of both families, one module at most (raw
         * and echo sockets, l4/raw.c): IPv4 and IPv6 local delivery call it
         * on the context that delivers a datagram (once, after reassembly,
         * before the protocol's handler) when bit proto % 64 of
         * s->l4_tap_on[fam == 6][proto / 64] is set (the module sets and
         * clears the bits; none set costs one load and a branch), with
         * p->data at the transport header and p->l3_off, p->l4_off set.
         * @return L4_TAP_NONE; L4_TAP_COPIED: sockets took copies, p stays
         * the caller's and an unknown protocol gets no error; L4_TAP_TAKEN:
         * p consumed. */
        l4_tap_fn l4_tap;
        /* The tap's twin for ICMP errors (on the context that runs them):
         * an error quoting a datagram of a protocol whose tap bit is set
         * goes here before the ping API sees it. @return whether a socket
         * took it. Only for what the protocol has no handler of its own
         * for (struct l4_reg's err): errors about echo requests. */
        l4_err_fn l4_tap_err;
        /* The ping API (one module at most: its echo sockets, l4/ping_sock.c),
         * on the control thread, which runs echo replies and ICMP errors:
         * an echo reply (p->data at the ICMP header, l3_off set) no echo
         * socket took, and an ICMP error quoting an echo request no echo
         * socket took. echo_in @return whether it took p (else p stays the
         * caller's). */
        bool (*echo_in)(struct wctx *w, struct mpnet_pkt *p, unsigned fam);
        void (*echo_err)(struct wctx *w, const struct l4_err *e);
        const struct feature_reg *features;
        unsigned n_features;
        /* Counters of a module outside the core: ids from ctr_base up. */
        const struct counter_reg *counters;
        unsigned n_counters;
        size_t state_size;
        int (*init)(struct mpnet_stack *s, void *state);
        void (*fini)(struct mpnet_stack *s, void *state);
        /* stack_reset() of a module with per-stack state: state_learnt
         * says whether input left something in it (a stack is marked only
         * without), state_reset drops what input left since the mark (what
         * the calls configured stays). A module with state and no
         * state_reset makes the stack unmarkable. Control thread. */
        bool (*state_learnt)(struct mpnet_stack *s, const void *state);
        void (*state_reset)(struct mpnet_stack *s, void *state);
        /* What a module holds at the mark that input may change and a
         * reset must give back (TCP: quiet established connections, which
         * state_learnt then does not count): state_mark_size its bytes in
         * a mark (0: nothing), state_mark copies it there (@return 0 or a
         * negative errno), state_restore gives it back once every module's
         * state_reset ran (@return 0 or a negative errno: the stack is
         * then for mpnet_stack_destroy() only). Control thread. */
        size_t (*state_mark_size)(struct mpnet_stack *s, const void *state);
        int (*state_mark)(struct mpnet_stack *s, const void *state, void *mark);
        int (*state_restore)(struct mpnet_stack *s, void *state, const void *mark);
        /* Per-context state (the control thread's and each worker's, struct
         * wctx), made with the context and freed with it. The hooks run on
         * the thread that runs the context (ctx_usage: any thread), once a
         * loop or on a call, never per packet. */
        size_t ctx_state_size;
        int (*ctx_init)(struct wctx *w, void *cs);
        void (*ctx_fini)(struct wctx *w, void *cs);
        /* On the context's loop once its deadline is due (the earliest a
         * hook returned, or set with ctx_svc_arm() when the module starts
         * holding something; the first loop in any case): time out what
         * the context holds. @return its next deadline, or
         * MPNET_TIME_NEVER. */
        uint64_t (*ctx_service)(struct wctx *w, void *cs, uint64_t now);
        /* The end of a vector: once a dispatch (graph_run) has emptied
         * every node's frame, on the context that ran it, for each module
         * that asked during it (ctx_vec_end_arm(), stack_priv.h), in module
         * order. A module finishes there per vector what its handlers
         * gathered per packet (TCP: one ACK decision and one wake-up for
         * the segments of one connection, GRO's idea). What it sends runs
         * through the graph before graph_run returns; a hook asked for
         * again by that is called again, up to GRAPH_VEC_END_ROUNDS rounds,
         * after which what is asked waits for the context's next dispatch
         * (across a quiescent state: a module whose hook's own output can
         * ask for it again keeps nothing freed after a grace period for
         * it; TCP's cannot: its ACKs and callbacks' sends leave through
         * the transmit vectors and the loop queue, never into input). */
        void (*vec_end)(struct wctx *w, void *cs);
        /* stack_reset(): drop what the context holds, no error sent. A
         * module with per-context state and no ctx_reset makes the stack
         * unmarkable. */
        void (*ctx_reset)(struct wctx *w, void *cs);
        /* mpnet_stack_usage_get(): add what the context holds. */
        void (*ctx_usage)(const struct wctx *w, const void *cs, struct mpnet_stack_usage *u);
        /* Per interface: add its usage (mpnet_stack_usage_get); drop what
         * input taught the module about it (learnt_only: keep what was
         * configured; link down, reset) or everything (detach, destroy);
         * whether it holds anything learnt (stack_reset marks only
         * without). Control thread. */
        void (*iface_usage)(const struct mpnet_iface *ifp, struct mpnet_stack_usage *u);
        void (*iface_flush)(struct mpnet_iface *ifp, bool learnt_only);
        bool (*iface_learnt)(const struct mpnet_iface *ifp);
        /* mpnet_stack_usage_get(): the stack-wide part (caps, totals). */
        void (*usage)(struct mpnet_stack *s, struct mpnet_stack_usage *u);
        /* Per-interface data (a family's ifp->in4, ifp->in6: BSD's
         * if_afdata), control thread. iface_attach makes it before the
         * interface is published (in module order; a failure undoes the
         * modules before); iface_detach undoes the module's configuration
         * while the interface is still found (addresses, timers);
         * iface_free, once no context can read it and it is no longer
         * found, frees it (detach and free in reverse module order; free
         * also when the stack is destroyed). */
        int (*iface_attach)(struct mpnet_stack *s, struct mpnet_iface *ifp);
        void (*iface_detach)(struct mpnet_stack *s, struct mpnet_iface *ifp);
        void (*iface_free)(struct mpnet_stack *s, struct mpnet_iface *ifp);
        /* The interface's MTU became mtu (mpnet_iface_set_mtu). */
        void (*iface_mtu)(struct mpnet_iface *ifp, uint32_t mtu);
        /* The interface moves to another table: its address routes go
         * (add false, module order) and come back (add true, reverse). */
        void (*iface_table)(struct mpnet_iface *ifp, bool add);
        /* stack_reset (stack/reset.c): iface_mark copies what input may
         * change of the module's part of ifp into mark (iface_mark_size
         * bytes, on a cache line) and puts its timers (at most 2) in t,
         * @return how many; iface_reset takes ifp back to mark, @return 0
         * or -ENOMEM. */
        size_t iface_mark_size;
        unsigned (*iface_mark)(const struct mpnet_iface *ifp, void *mark, struct mpnet_timer **t);
        int (*iface_reset)(struct mpnet_iface *ifp, const void *mark);
};

/* The compiled-in modules, in graph order (modules.c). */
extern const struct mpnet_module *const core_modules[];
extern const unsigned n_core_modules;

struct graph_mod {
        const struct mpnet_module *m;
        void *state;
        unsigned ctr_base;
};

/* A feature list of one arc of one interface: immutable once published. */
struct feat_list {
        unsigned n;
        struct feat_ent {
                const struct feature_reg *f;
                void *state;
        } e[];
};

struct graph {
        unsigned n_nodes, n_mods, n_l4, n_feats, n_ctrs;
        const struct node_reg *node[GRAPH_MAX_NODES];
        uint8_t node_mod[GRAPH_MAX_NODES];
        uint8_t next[GRAPH_MAX_NODES][GRAPH_MAX_NEXT];
        uint8_t n_next[GRAPH_MAX_NODES];
        unsigned n_eth;
        uint16_t eth_type[GRAPH_MAX_ETHERTYPES];
        uint8_t eth_node[GRAPH_MAX_ETHERTYPES];
        uint8_t l4_of[2][256]; /* [family 4/6][proto]: handler + 1, 0 for none */
        l4_fn l4[GRAPH_MAX_L4];
        l4_err_fn l4_err[GRAPH_MAX_L4];
        l4_shed_fn l4_shed4; /* the one IPv4 l4_reg's shed, or NULL */
        l4_shed_fn l4_shed6; /* the one IPv6 l4_reg's shed, or NULL */
        punt_fn punt[GRAPH_MAX_PUNTS];
        l4_tap_fn l4_tap; /* the module's that has one, or NULL */
        l4_err_fn l4_tap_err;
        bool (*echo_in)(struct wctx *w, struct mpnet_pkt *p, unsigned fam);
        void (*echo_err)(struct wctx *w, const struct l4_err *e);
        bool (*punt_urgent[GRAPH_MAX_PUNTS])(uint8_t b, const struct mpnet_pkt *p);
        /* The modules with a ctx_service hook: what a context's loop runs. */
        unsigned n_svc;
        uint8_t svc[GRAPH_MAX_MODS];
        struct graph_mod mods[GRAPH_MAX_MODS];
        struct {
                const struct feature_reg *f;
                uint8_t mod;
        } feat[GRAPH_MAX_FEATS];
};

/* Assemble s->g from the core modules and extra (NULL-terminated, may be
 * NULL). @return 0 or -EINVAL (a module that does not fit: a name taken, a
 * next node unknown, a demultiplexer key taken, a limit passed). */
int graph_init(struct mpnet_stack *s, const struct mpnet_module *const *extra);
/* Make each module's state and run its init, once the stack is whole.
 * @return 0, -ENOMEM, or what an init returned. */
int graph_modules_init(struct mpnet_stack *s);
/* The modules' fini, in reverse order. */
void graph_fini(struct mpnet_stack *s);
/* The modules' interface hooks, in the order above. @return 0 or what
 * an iface_attach returned. */
int graph_iface_attach(struct mpnet_stack *s, struct mpnet_iface *ifp);
void graph_iface_detach(struct mpnet_stack *s, struct mpnet_iface *ifp);
void graph_iface_free(struct mpnet_stack *s, struct mpnet_iface *ifp);
void graph_iface_mtu(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t mtu);
void graph_iface_table(struct mpnet_stack *s, struct mpnet_iface *ifp, bool add);
/* @return the node named name, or -1. */
int graph_node_find(const struct graph *g, const char *name);
/* The node that slot slot of node self goes to. */
static inline unsigned graph_next(const struct graph *g, unsigned self, unsigned slot)
{
        return g->next[self][slot];
}
/* The id of counter k of module mod (its counters, struct mpnet_module). */
static inline unsigned graph_mod_ctr(const struct graph *g, unsigned mod, unsigned k)
{
        return g->mods[mod].ctr_base + k;
}
/* The error handler of transport proto of family (4, 6), or NULL. */
static inline l4_err_fn graph_l4_err(const struct graph *g, unsigned family, uint8_t proto)
{
        unsigned i = g->l4_of[family == 6][proto];

        return i != 0 ? g->l4_err[i - 1] : NULL;
}
/* The per-stack state of the module that owns node self. */
void *graph_node_state(struct mpnet_stack *s, unsigned self);
/* Local delivery's call of the l4 tap (struct mpnet_module.l4_tap) once
 * s->l4_tap_any is set: @return L4_TAP_NONE when the protocol's bit is
 * clear, else what the tap returned. */
int graph_l4_tap(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned fam,
                 uint8_t proto);
/* The error tap (struct mpnet_module.l4_tap_err) for an error quoting a
 * datagram of proto: @return whether a socket took e; false when the
 * protocol's tap bit is clear. */
bool graph_l4_tap_err(struct wctx *w, const struct l4_err *e, uint8_t proto);
/* The ping API's echo reply and error (struct mpnet_module.echo_in,
 * echo_err). graph_echo_in @return whether it took p. */
bool graph_echo_in(struct wctx *w, struct mpnet_pkt *p, unsigned fam);
void graph_echo_err(struct wctx *w, const struct l4_err *e);
/* The first counter id of the module that owns node self. */
unsigned graph_node_ctr_base(struct mpnet_stack *s, unsigned self);
/* The state of the module named name, or NULL. */
void *graph_module_state(struct mpnet_stack *s, const char *name);

/* Each module's per-context state of w (w->mctx) and its ctx_init.
 * @return 0, -ENOMEM or what a ctx_init returned (what was made is freed). */
int graph_ctx_init(struct wctx *w);
/* The modules' ctx_fini and their per-context state, in reverse order. */
void graph_ctx_fini(struct wctx *w);
/* The modules' ctx_service hooks. @return the earliest next deadline. */
uint64_t graph_ctx_service(struct wctx *w, uint64_t now);
void graph_ctx_reset(struct wctx *w);
void graph_ctx_usage(const struct wctx *w, struct mpnet_stack_usage *u);
/* The modules' per-interface hooks (struct mpnet_module). */
void graph_iface_usage(struct mpnet_stack *s, const struct mpnet_iface *ifp,
                       struct mpnet_stack_usage *u);
void graph_iface_flush(struct mpnet_stack *s, struct mpnet_iface *ifp, bool learnt_only);
bool graph_iface_learnt(struct mpnet_stack *s, const struct mpnet_iface *ifp);
void graph_usage(struct mpnet_stack *s, struct mpnet_stack_usage *u);
/* Whether every module can be marked and reset (stack_reset). */
bool graph_resettable(const struct graph *g);
/* Whether a module's per-stack state holds what input left; drop it. */
bool graph_state_learnt(struct mpnet_stack *s);
void graph_state_reset(struct mpnet_stack *s);

/* Run every node of w whose frame holds packets until none does, then the
 * packets that re-enter the graph on other interfaces, then the vector-end
 * hooks that were asked for (struct mpnet_module.vec_end), and again
 * what they sent (bounded). */
void graph_run(struct wctx *w, struct mpnet_iface *ifp);
/* Put p (with aux) in node's frame from a node that runs before it or is
 * not sure of room: a full frame sends it round again. */
void graph_enqueue(struct wctx *w, unsigned node, struct mpnet_pkt *p, uint32_t aux);
/* Send p back into the graph at node, as received on its p->ifindex (a
 * decapsulated packet on its tunnel's interface, for ether-input, ip4-input
 * or ip6-input): counted against GRAPH_REENTRY_MAX. Takes p in every case. */
void graph_reenter(struct wctx *w, unsigned node, struct mpnet_pkt *p, uint32_t aux);
/* The receive path: a vector from ifp's link into ether-input, then the
 * graph. */
void ether_node(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **pkts, unsigned n);

/* Run the features of one list on a vector. */
unsigned arc_run_list(struct wctx *w, struct mpnet_iface *ifp, const struct feat_list *fl,
                      struct mpnet_pkt **p, uint32_t *aux, unsigned n);
/* Free every arc list of an interface that is going (no reader left). */
void arc_iface_free(struct mpnet_iface *ifp);

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
