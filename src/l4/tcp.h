/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TCP module (l4/tcp.c: input, the connection table, the module;
 * l4/tcp_out.c: segments out), private to the library.
 *
 * What exists: input checks (length, data offset, checksum, options, a
 * non-unicast destination), each failure a counted drop; the connection
 * table; the answer of a closed port (RFC 9293 3.10.7.1); the handshake
 * (l4/tcp_in.c), the data path and the close (l4/tcp_data.c), the socket
 * calls (l4/tcp_sock.c), keepalive, linger, cork, TCP_INFO, ECN and
 * TIME_WAIT reuse (l4/tcp_opt.c), ICMP errors and path MTU
 * (l4/tcp_pmtu.c).
 *
 * Synchronisation (docs/MP-SAFETY.md):
 *  - Input runs on the context that receives the segment (a worker or the
 *    control thread); it reads the connection table and the PCB table as
 *    an RCU reader. A segment whose connection (or, without one, whose
 *    listener) is homed on another context is handed to that home's
 *    "tcp-deliver" node (ctx_handoff(), counted tcp_handoff;
 *    l4/tcp_home.c), so a connection's state and a listener's queues are
 *    touched on their home only.
 *  - The connection table is an array of hash chains of struct tcp_conn
 *    keyed by the 4-tuple (struct tcp_conn_buckets, allocated at the first
 *    insert). Writers (tcp_conn_insert,
 *    tcp_conn_remove: the connection's home, any context) hold the
 *    table's lock (a leaf): a new entry is published with a release store
 *    at the head of its chain, a removed one is unlinked with a release
 *    store and freed after a grace period (stack_defer() on the control
 *    thread; a worker pushes it on tcp_state.dead, which the control
 *    thread hands to stack_defer()), so a reader that still holds it
 *    reads valid memory until its next quiescent state. Readers
 *    (tcp_conn_lookup) take no lock.
 *  - The array doubles when the entries outnumber its chains (up to
 *    TCP_CONN_BUCKETS_MAX), on the control thread only (a worker's insert
 *    that finds it due kicks the control thread's service, which grows
 *    it): under the lock, the writer makes the table's sequence odd,
 *    relinks every entry into a new array, publishes it and makes the
 *    sequence even again; the old array is freed through stack_defer().
 *    Entries are never freed by the move, so a reader walking a chain
 *    meanwhile reads valid memory and ends, but may miss its entry: a
 *    lookup that finds nothing retries when the sequence was odd or moved
 *    (a seqlock on misses only; a hit is always right).
 *  - A connection has a home context (home, a struct wctx id, as a UDP
 *    socket's): the listener's for a passive open (SO_REUSEPORT groups of
 *    one listener per worker keep each SYN on the worker that receives
 *    it), the socket's for an active open (its ephemeral port steered so
 *    that replies come back there). Timers are per context (struct
 *    tcp_ctx): the home's service walks its own lists only.
 *  - The socket calls of a connection homed on a worker run there: from
 *    the control thread or an application thread as synchronous commands
 *    (sock_home_call()), from the home itself (a callback) directly.
 */
#ifndef MPNET_L4_TCP_H
#define MPNET_L4_TCP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "l4/tcp_isn.h"
#include "base/tbucket.h"
#include "l4/tcp_rto.h"
#include "mpnet/thread.h"

struct mpnet_stack;
struct mpnet_sock;
struct mpnet_pkt;
struct mpnet_tcp_view;
struct mpnet_tcp_repr;
struct wctx;

/* RFC 9293 3.3.2. */
enum tcp_st {
        TCP_CLOSED,
        TCP_LISTEN,
        TCP_SYN_SENT,
        TCP_SYN_RECEIVED,
        TCP_ESTABLISHED,
        TCP_FIN_WAIT_1,
        TCP_FIN_WAIT_2,
        TCP_CLOSE_WAIT,
        TCP_CLOSING,
        TCP_LAST_ACK,
        TCP_TIME_WAIT,
};

/* tcp_conn.opt: what the handshake agreed (RFC 7323, RFC 2018). */
enum {
        TCPF_WSCALE = 1 << 0,
        TCPF_SACK = 1 << 1,
        TCPF_TS = 1 << 2,
        TCPF_ECN = 1 << 3, /* RFC 3168 6.1.1: both ends agreed */
};

/* A connection's options (l4/tcp_opt.c, l4/tcp_pmtu.c): keepalive
 * (RFC 1122 4.2.3.6), TCP_CORK, ECN (RFC 3168), the path MTU and what
 * MPNET_TCP_INFO reports; from ESTABLISHED on (tcp_o()). The home
 * context's. */
struct tcp_copt {
        uint64_t ka_at;   /* the keepalive timer, or MPNET_TIME_NEVER */
        uint64_t cork_at; /* the cork's 200 ms ceiling, or MPNET_TIME_NEVER */
        /* close() with SO_LINGER's time: a reset when it passes with our
         * data or FIN unacknowledged, or MPNET_TIME_NEVER. */
        uint64_t linger_at;
        uint64_t rx_at; /* when the last acceptable segment came */
        uint64_t bytes_acked, bytes_received;
        uint32_t rtx_total;         /* data segments retransmitted */
        uint32_t ka_idle, ka_intvl; /* seconds */
        uint32_t ecn_recover;       /* no ECE reduction before SND.UNA passes it */
        uint8_t ka_cnt, ka_probes;  /* probes allowed, sent unanswered */
        uint8_t flags;              /* TCPO_* */
        uint8_t bh_done;            /* black-hole reductions made (RFC 4821) */
};
enum {
        TCPO_KEEPALIVE = 1 << 0,
        TCPO_CORK = 1 << 1,
        TCPO_CORK_PUSH = 1 << 2, /* the ceiling passed: send what is held */
        TCPO_ECE = 1 << 3,       /* CE came in: echo ECE until a CWR (RFC 3168 6.1.3) */
        TCPO_CWR = 1 << 4,       /* cwnd reduced: CWR on the next new data */
};

/* A link of a context's TIME_WAIT queue (tcp_ctx.tw). */
struct tcp_twq {
        struct tcp_twq *next, *prev;
};

/* A connection: found by its 4-tuple (struct tcp_tuple: our side first).
 * Past the tuple and home, the home context's. */
struct tcp_conn {
        struct tcp_conn *_Atomic next; /* its hash chain */
        struct tcp_tuple t;            /* set before publication, immutable */
        uint32_t hash;
        uint8_t home;           /* the context that owns the state below */
        uint8_t state;          /* enum tcp_st */
        uint8_t opt;            /* TCPF_* */
        uint8_t snd_ws, rcv_ws; /* shifts: the peer's windows, ours */
        uint8_t tries;          /* SYN-ACKs sent */
        uint16_t mss;           /* what we send at most */
        uint16_t mss_ours;      /* what we advertised (our interface's) */
        uint32_t iss, irs;
        uint32_t snd_una, snd_nxt, snd_wnd, max_snd_wnd;
        uint32_t rcv_nxt, rcv_wnd;
        uint32_t ts_recent;
        uint64_t rtx_at; /* the retransmission deadline (ns), or MPNET_TIME_NEVER */
        struct tcp_rto rto;
        struct mpnet_sock *lso; /* the listener, while embryonic or unaccepted */
        union {
                struct tcp_conn *qnext; /* the listener's SYN or accept queue */
                /* Once retired and handed to stack_defer(): the cache
                 * its objects go back to (tcp_conn_recycle). */
                struct tcp_state *cache_st;
        };
        struct mpnet_sock *so; /* the socket, once accepted */
        /* ESTABLISHED on: the data path's (l4/tcp_data.c). An orphan in
         * TIME_WAIT gives it back (NULL): what TIME_WAIT needs (the tuple,
         * SND.NXT, RCV.NXT, the window, TS.Recent) is here, so 2 MSL of
         * closed connections cost this structure alone. */
        struct tcp_data *d;
        union {
                /* The home's list of embryos (SYN_SENT, SYN_RECEIVED:
                 * tcp_timers). */
                struct {
                        struct tcp_conn *enext, **eprev;
                };
                /* TIME_WAIT: the home's queue by end (tcp_ctx.tw); next
                 * NULL: off. An embryo is never in TIME_WAIT. */
                struct tcp_twq twl;
        };
        uint64_t tw_at; /* TIME_WAIT's end */
};

/* At most this many freed rings a context keeps (128 KiB). */
#define TCP_RING_CACHE 32
#define TCP_VEC_PEND   8 /* sockets, and connections, a vector's end waits on */

/* Per context (mod_tcp's ctx state): what the context's connections need
 * serviced, walked by its own loop only. */

struct tcp_ctx {
        struct tcp_data *tq;         /* connections with a data-path timer */
        struct tcp_conn *embryo;     /* SYN_SENT and SYN_RECEIVED */
        uint64_t ch_tokens, ch_last; /* the challenge ACK bucket (RFC 5961 7) */
        /* The two connections this context's segments found last (or
         * inserted last), newest first, and the table's gen then
         * (tcp_conn_table.gen): a bulk flow's segments come in runs, and a
         * client's closing connection overlaps its next one's handshake,
         * so most skip the hash and the bucket walk. */
        struct tcp_conn *last[2];
        uint64_t last_gen;
        /* The IP ECN field of the segment this context is handling now
         * (RFC 3168 5), set by input before the connection sees it: the
         * context's own memory, written every segment. */
        uint8_t rx_ecn;
        /* While a connection takes a super-segment (GRO, a chain: its
         * payload spans buffers), its buffer, the TCP header at data; NULL
         * for a segment in one buffer. The data path copies its payload
         * from the chain (l4/tcp_data.c). */
        const struct mpnet_pkt *rx_chain;
        /* While a connection takes a segment: its buffer, which the data
         * path may keep whole in the receive queue (l4/tcp_data.c), then
         * setting rx_taken: input leaves it alone. */
        struct mpnet_pkt *rx_pkt;
        bool rx_taken;
        /* While a listener takes a segment: its tuple and the table's hash
         * of it, which the new connection's insert reuses (l4/tcp.c). */
        const struct tcp_tuple *in_t;
        uint32_t in_h;
        /* And the segment's buffer: a SYN cookie's answer takes it for
         * its SYN-ACK (l4/tcp_listen.c) and leaves NULL; else input frees
         * it. */
        struct mpnet_pkt *in_p;
        /* The connection the segment under way put in TIME_WAIT, for
         * tcp_tw_compact after its input (NULL: none). */
        struct tcp_conn *tw_new;
        /* TIME_WAIT connections by their end (each lasts 2 MSL, so a new
         * one goes at the tail): the service looks at the head alone, not
         * at every closed connection of the last 2 MSL (l4/tcp_data.c).
         * A circle through this head; next NULL: not set up yet. */
        struct tcp_twq tw;
        /* Ring blocks of TCP_RING_MIN bytes that connections gave back,
         * for the next connection's first byte (l4/tcp_data.c). */
        void *ring_cache[TCP_RING_CACHE];
        unsigned n_ring_cache;
        /* What the segments of the dispatch under way leave for its end
         * (tcp_vec_end, the graph's vec_end hook): the sockets to wake,
         * each with its events before the vector's first segment, and the
         * connections whose ACK waits for the vector's end (tcp_data.ack_vec).
         * A connection or socket that goes meanwhile is freed only after a
         * grace period, which no dispatch spans. */
        struct {
                struct mpnet_sock *so;
                uint32_t ev;
        } vcb[TCP_VEC_PEND];
        unsigned n_vcb;
        struct tcp_conn *vack[TCP_VEC_PEND];
        unsigned n_vack;
};

/* The options of c, which has its data path (c->d): the first member of
 * struct tcp_data, so a connection that never gets there (an embryo)
 * carries none. */
static inline struct tcp_copt *tcp_o(const struct tcp_conn *c)
{
        return (struct tcp_copt *)c->d;
}

/* A listening socket's queues (so->tcp). */
struct tcp_listen {
        unsigned backlog;
        unsigned n_syn, n_acc;
        struct tcp_conn *syn;                 /* SYN_RECEIVED */
        struct tcp_conn *acc_head, *acc_tail; /* ESTABLISHED, not accepted */
        struct punt_bucket cookie_tb;         /* the cookie limit's (l4/tcp_listen.c) */
};

#define TCP_CONN_BUCKETS_MIN 4096u      /* powers of two */
#define TCP_CONN_BUCKETS_MAX (1u << 22) /* 32 MiB of chain heads */
#define TCP_CONN_TOUCHED     16u        /* chains a clear remembers (tcp_conn_table) */
#define TCP_CONN_FILT_BITS   14u        /* the miss filter's slots (tcp_conn_table) */
#define TCP_CONN_FILT_N      (1u << TCP_CONN_FILT_BITS)

struct tcp_conn_buckets {
        unsigned mask; /* chains - 1 */
        struct tcp_conn *_Atomic b[];
};
#define TCP_BUF_AUTO_MAX (4u << 20) /* the auto-tuning limit the tests use (Linux's order) */

struct tcp_conn_table {
        pthread_mutex_t lock; /* writers only; a leaf */
        unsigned n;
        _Atomic uint32_t seq;                /* odd while a resize relinks the entries */
        uint8_t key[16];                     /* the hash's (SipHash), random per stack */
        struct tcp_conn_buckets *_Atomic bk; /* NULL until the first insert */
        /* Bumped (release) after a connection is unlinked, before it is
         * deferred: a context's cached last connection (struct tcp_ctx)
         * is good only while this has not moved. */
        _Atomic uint64_t gen;
        /* The chains inserted into since the table was last cleared
         * (writers, under the lock), so that a clear visits those, not all
         * 4,096 or more (a stack reset after each fuzz input: a few
         * connections hash anywhere); n_touched past TCP_CONN_TOUCHED (more
         * chains, or a resize moved them): every chain. */
        unsigned n_touched;
        uint32_t touched[TCP_CONN_TOUCHED];
        /* How many connections each slot of an unkeyed-cost, salted mix of
         * the tuple (tcp_conn_filt_idx()) holds (writers, under the lock;
         * readers relaxed): a segment whose slot holds none has no
         * connection, and a SYN flood's misses skip the table's SipHash
         * and walk. A slot that reaches UINT16_MAX stays there (only the
         * skip is lost). */
        uint64_t filt_salt;
        _Atomic uint16_t filt[TCP_CONN_FILT_N];
};

/* The chains now (the control thread's, or an RCU reader's), or NULL. */
static inline struct tcp_conn_buckets *tcp_conn_bk(const struct tcp_conn_table *ct)
{
        return atomic_load_explicit(&((struct tcp_conn_table *)ct)->bk, memory_order_acquire);
}

struct pcb_table;
struct port_picker;
struct sock_proto;

/* SYN cookies and the reset limit (l4/tcp_listen.c, mpnet/tcp.h). The
 * settings are written by any thread, read relaxed; each bucket and
 * cookie_at by its context only. */
struct tcp_listen_cfg {
        _Atomic int cookies;                        /* MPNET_TCP_SYNCOOKIES_* */
        _Atomic unsigned rst_rate, rst_burst;       /* 0: no limit */
        _Atomic unsigned cookie_rate, cookie_burst; /* per listener; 0: no limit */
        uint8_t cookie_key[16];                     /* SipHash's, random per stack */
        uint64_t cookie_at[MPNET_MAX_SLOTS + 1];    /* when each context last sent a cookie */
        struct punt_bucket rst_tb[MPNET_MAX_SLOTS + 1];
};

/* Freed connections' objects kept for the next connections (l4/
 * tcp_cache.c): a short connection (TCP_CRR) then costs no malloc or free
 * for its connection, data state and SACK scoreboard. Per stack, the
 * control context's alone (context 0, the control thread: it makes
 * connections and runs the deferred frees), so no lock; workers' contexts
 * use malloc. Bounded (TCP_CACHE_MAX of each kind); freed with the stack.
 * Cached objects are no connection's: mpnet_tcp_mem() leaves them out. */
#define TCP_CACHE_MAX 64
enum { TCP_CACHE_CONN, TCP_CACHE_DATA, TCP_CACHE_SACK, TCP_CACHE_KINDS };
struct tcp_cache {
        unsigned n[TCP_CACHE_KINDS];
        void *obj[TCP_CACHE_KINDS][TCP_CACHE_MAX];
        uint64_t hits, misses; /* context 0's gets from the cache, from calloc */
};

struct tcp_state {
        struct mpnet_stack *s;
        struct pcb_table *pcb;    /* bound and listening sockets, by port */
        uint8_t isn_key[16];      /* RFC 6528's secret */
        unsigned deliver_node;    /* "tcp-deliver": segments handed to their home */
        unsigned err_node;        /* "tcp-err": ICMP errors handed to their home */
        struct port_picker *pick; /* ephemeral ports (RFC 6056), keyed per stack */
        /* Connections workers removed, for the control thread to free
         * after a grace period (push-only; taken whole by exchange). */
        struct tcp_conn *_Atomic dead;
        struct tcp_conn_table ct;
        struct tcp_listen_cfg lc; /* l4/tcp_listen.c */
        /* The MSL (RFC 9293 3.4.2; TIME_WAIT lasts 2 MSL) that tests may
         * shorten. */
        uint64_t msl_ns;
        /* The most a connection's receive and send buffers grow to by
         * auto-tuning (Linux's tcp_rmem[2], tcp_wmem[2]); tests may lower
         * them. */
        uint32_t rmem_max, wmem_max;
        /* What auto-tuning grew the live connections' buffers by, all
         * together (receive, send): the stack's budget for growth, which
         * stays within rmem_max and wmem_max (Linux's tcp_mem idea: one
         * connection may grow to its limit, several share it). */
        _Atomic uint64_t rgrown, sgrown;
        /* One ACK per receive vector for its in-order segments (l4/
         * tcp_data.c). Off by default: its stretch ACKs slow slow start
         * (RFC 3465 L = 2) and move the golden table under loss, some
         * cells down by half; tests turn it on. */
        _Atomic bool ack_vec; /* mpnet_tcp_set_ack_vec */
        _Atomic int ecn;      /* MPNET_TCP_ECN_* (mpnet_tcp_set_ecn) */
        bool pacing;          /* mpnet_tcp_set_pacing (new connections); on by default */
        /* RFC 6191 reuse on each context: the ISS the new incarnation
         * starts above (tw_iss_on while the SYN is being handled). */
        uint32_t tw_iss[MPNET_MAX_SLOTS + 1];
        bool tw_iss_on[MPNET_MAX_SLOTS + 1];
        /* The sender's loss recovery (TCP_RECOV_*, l4/tcp_sack.h): RACK-TLP
         * by default; tests compare it with less. */
        uint8_t recov;
        /* The congestion control of new connections (NULL: the default,
         * CUBIC); tests pick NewReno to follow the RFCs' examples. */
        const struct tcp_cc_ops *cc;
        struct tcp_cache cache; /* l4/tcp_cache.c */
};

/* l4/tcp_cache.c, on context w. A zeroed object of kind (size bytes: the
 * same for every get of a kind),
 * from the cache on context 0, else calloc; NULL when out of memory. */
struct wctx;
void *tcp_cache_get(struct wctx *w, unsigned kind, size_t size);
/* Keep o (NULL: nothing) for a later get on context 0, or free it (a
 * SACK scoreboard with its records). */
void tcp_cache_put(struct wctx *w, unsigned kind, void *o);
/* tcp_cache_put on the control thread, outside a context (a deferred
 * free). */
void tcp_cache_put_ctl(struct tcp_cache *k, unsigned kind, void *o);
void tcp_cache_init(struct tcp_cache *k);
void tcp_cache_fini(struct tcp_cache *k);
/* A connection, zeroed, for context w. */
struct tcp_conn *tcp_conn_alloc(struct wctx *w);
/* stack_defer()'s callback (the control thread) for a retired connection
 * whose cache_st is set: its objects go back to that stack's cache
 * (tcp_conn_free frees them). */
void tcp_conn_recycle(void *arg);

/* l4/tcp.c */
struct tcp_state *tcp_state_of(struct mpnet_stack *s);
/* Counters of l4/tcp_in.c and l4/tcp_sock.c (enum tcp_ctr, tcp.c). */
void tcp_count(struct mpnet_stack *s, unsigned c);
enum {
        TCPC_OUT = 1,
        TCPC_RST_OUT = 2,
        TCPC_RST_CLOSED = 4,
        TCPC_OUT_FAIL = 12,
        TCPC_SYN_IN = 13,
        TCPC_SYNQ_FULL,
        TCPC_SYNACK_RTX,
        TCPC_SYNACK_GIVEUP,
        TCPC_ACCEPTED,
        TCPC_BAD_ACK,
        TCPC_NOT_HOME,
        TCPC_UNHANDLED,
        TCPC_CHALLENGE,
        TCPC_OUT_OF_WINDOW,
        TCPC_CHALLENGE_LIMITED,
        /* l4/tcp_listen.c */
        TCPC_COOKIE_SENT,
        TCPC_COOKIE_OK,
        TCPC_COOKIE_BAD,
        TCPC_COOKIE_ACCQ_FULL,
        TCPC_RST_LIMITED,
        TCPC_SIMOPEN,
        TCPC_DATA_IN,
        TCPC_DATA_OUT,
        TCPC_RTX,
        TCPC_RTO,
        TCPC_FAST_RTX,
        TCPC_OOO_DROP,
        TCPC_PAWS_DROP,
        TCPC_TIMEOUT,
        TCPC_RST_UNREAD,
        TCPC_PERSIST,
        TCPC_DACK,
        TCPC_CHAINED,
        /* l4/tcp_opt.c, l4/tcp_pmtu.c */
        TCPC_KA_PROBE,
        TCPC_KA_TIMEOUT,
        TCPC_LINGER_ABORT,
        TCPC_CORK_FLUSH,
        TCPC_ECN_CE,
        TCPC_ECN_REDUCE,
        TCPC_PMTU_LOWER,
        TCPC_PMTU_BAD,
        TCPC_BLACKHOLE,
        TCPC_TW_REUSE,
        TCPC_TW_SYN_DROP,
        /* l4/tcp_home.c */
        TCPC_HANDOFF,
        TCPC_STALE,
        /* l4/tcp_data.c with l4/tcp_sack.c, l4/tcp_rack.c */
        TCPC_SACK_RECOVERY,
        TCPC_SACK_RTX,
        TCPC_RESCUE_RTX,
        TCPC_RACK_LOST,
        TCPC_TLP,
        TCPC_TLP_RECOVERED,
        TCPC_DSACK_IN,
        TCPC_RCVBUF_GROW,
        TCPC_SNDBUF_GROW,
        TCPC_ACK_VEC,
        /* l4/tcp_pmtu.c: ICMP errors for a connection homed elsewhere */
        TCPC_ERR_HANDOFF,
        TCPC_ERR_HANDOFF_FAIL,
        /* l4/tcp_data.c: undo (l4/tcp_cc.c), pacing (l4/tcp_out.c) */
        TCPC_UNDO,
        TCPC_PACED,
        /* l4/tcp_listen.c: the cookie limit */
        TCPC_COOKIE_LIMITED,
        /* l4/tcp_data.c, l4/tcp.c: super-segments (TSO, GRO) */
        TCPC_TSO_OUT,
        TCPC_GRO_IN,
        /* l4/tcp_data.c: the receive queue of super-segments */
        TCPC_RCVQ_TAKE,
        TCPC_RCVQ_COLLAPSE,
        /* l4/tcp_data.c: super-segments' payload referenced, not copied */
        TCPC_SND_REF,
        /* l4/tcp.c: the cookie limit's drops on the IPv4 vector */
        TCPC_COOKIE_SHED,
};
/* tcp_count n times. */
void tcp_count_n(struct mpnet_stack *s, unsigned c, uint64_t n);
/* The table's hash of a tuple. Any context. */
uint32_t tcp_conn_hash(const struct tcp_conn_table *ct, const struct tcp_tuple *t);
/* Any context, RCU reader: the connection of t, or NULL. */
struct tcp_conn *tcp_conn_lookup(const struct tcp_conn_table *ct, const struct tcp_tuple *t);
/* The same with h = tcp_conn_hash(ct, t) already known. */
struct tcp_conn *tcp_conn_lookup_h(const struct tcp_conn_table *ct, const struct tcp_tuple *t,
                                   uint32_t h);
/* Control thread: publish c (c->t set; its hash is filled). @return 0, or
 * -EEXIST when the tuple is taken. */
int tcp_conn_insert(struct mpnet_stack *s, struct tcp_conn_table *ct, struct tcp_conn *c);
/* Control thread: unlink c; it is freed (free()) after a grace period. */
void tcp_conn_remove(struct mpnet_stack *s, struct tcp_conn_table *ct, struct tcp_conn *c);
/* Control thread: double the chain array when the connections outnumber
 * its chains (a worker's insert kicks the service, which calls this). */
void tcp_conn_table_grow(struct mpnet_stack *s);

/* l4/tcp_out.c */
/* A segment to send, as fields (the options of struct mpnet_tcp_repr). */
struct tcp_seg_out {
        const struct tcp_tuple *t; /* our side is the source */
        uint32_t seq, ack;
        uint16_t flags, window;
        const void *payload;
        uint32_t payload_len; /* in all: the last tail_len of them at tail */
        const void *tail;     /* the payload's end where it crosses a send buffer chunk */
        uint32_t tail_len;
        uint8_t ecn; /* the IP ECN field (RFC 3168 5): 0, or ECT(0) = 2 */
};
struct mpnet_tcp_opts;
/* Build and send a segment from context w (IP output of the tuple's
 * family). opts may be NULL. @return 0 or a negative errno (-ENOBUFS,
 * what IP output returned). */
int tcp_output(struct wctx *w, const struct tcp_seg_out *o, const struct mpnet_tcp_opts *opts);
/* A header template: the header of a burst's segments, options
 * included, emitted once (tcp_tmpl_init); tcp_output_tmpl() sends a
 * segment with it, patching the sequence number and flags (the ACK,
 * window and options are the template's). */
struct tcp_tmpl {
        const struct tcp_tuple *t;
        uint8_t hlen;
        uint8_t b[60]; /* MPNET_TCP_HLEN_MAX */
};
int tcp_tmpl_init(struct tcp_tmpl *h, const struct tcp_seg_out *o,
                  const struct mpnet_tcp_opts *opts);
int tcp_output_tmpl(struct wctx *w, struct tcp_tmpl *h, const struct tcp_seg_out *o);
/* A piece of a super-segment's payload: n bytes at p, inside block e (a
 * send buffer's chunk, base/pkt_ext.h). */
struct pkt_ext;
struct tcp_piece {
        struct pkt_ext *e;
        const uint8_t *p;
        uint32_t n;
};
/* A super-segment (TSO's idea, for a link with MPNET_LINK_OFF_TSO): one
 * IPv4 or IPv6 datagram (no extension header) whose TCP payload, o->payload_len bytes, is the npc
 * pieces pc in turn, built as a chain: a buffer with h's header (sequence
 * number and flags patched as tcp_output_tmpl's), then segments that
 * reference the pieces' blocks (MPNET_PKT_F_EXT, at most
 * MPNET_PKT_DATA_SIZE bytes each: no byte is copied), marked
 * MPNET_PKT_F_TSO with tso_segsz = segsz: the link cuts it, or carries it
 * whole to a receiver that takes it as one segment. The checksum is left
 * to the link (MPNET_PKT_F_L4_CSUM_TX). @return as tcp_output's. */
int tcp_output_tso(struct wctx *w, struct tcp_tmpl *h, const struct tcp_seg_out *o,
                   const struct tcp_piece *pc, unsigned npc, uint16_t segsz);
/* The most payload a super-segment carries (an IPv4 datagram's 64 KiB less
 * the headers, which an IPv6 payload length also holds; a multiple of the
 * MSS in practice). */
#define TCP_TSO_MAX (65535u - 20u - 60u)
/* The same in buffer p (a received one, reset here; NULL: a new one). */
int tcp_output_tmpl_in(struct wctx *w, struct tcp_tmpl *h, const struct tcp_seg_out *o,
                       struct mpnet_pkt *p);

/* Pacing (as Linux's internal pacing, tcp_update_pacing_rate): a
 * connection sends at about cwnd / SRTT times 2 in slow start, 1.2 in
 * congestion avoidance (Linux's tcp_pacing_ss_ratio, _ca_ratio), so a
 * window goes out spread over the round trip instead of as one burst
 * that a shallow queue on the path drops. Each segment moves the time
 * the next may go (at) on by its length at that rate; at may lag the
 * clock by up to a burst's worth (TCP_PACE_BURST segments, or 1 ms at
 * the rate as Linux's sk_pacing_shift, whichever is more), so a
 * connection that waited sends a few segments at once and a path whose
 * round trip is shorter than the loop that serves it is not slowed. The
 * data path holds a segment whose time has not come and arms a timer
 * (l4/tcp_data.c). The home context's, as struct tcp_data. */
#define TCP_PACE_BURST 4
struct tcp_pace {
        uint64_t at;    /* ns: the next segment may go then */
        uint64_t ps_b;  /* picoseconds a byte at the rate; 0: no pacing */
        uint64_t burst; /* ns: how far at may lag the clock */
};
/* The rate for cwnd bytes over srtt_us (0: none yet, no pacing). */
void tcp_pace_rate(struct tcp_pace *p, uint32_t cwnd, uint32_t srtt_us, bool slow_start,
                   uint32_t mss);
/* Whether a segment may go at now. */
static inline bool tcp_pace_ok(const struct tcp_pace *p, uint64_t now)
{
        return p->ps_b == 0 || p->at <= now;
}
/* n bytes went at now. */
void tcp_pace_sent(struct tcp_pace *p, uint64_t now, uint32_t n);

/* l4/tcp_in.c: the home context, segment checked and parsed. */
/* A segment for connection c. */
void tcp_conn_input(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_view *v,
                    const struct mpnet_tcp_repr *r, uint32_t mtu);
/* A segment for listening socket so (RFC 9293 3.10.7.2). */
void tcp_listen_input(struct wctx *w, struct mpnet_sock *so, const struct tcp_tuple *t,
                      const struct mpnet_tcp_view *v, const struct mpnet_tcp_repr *r, uint32_t mtu);
/* Retransmit due SYN-ACKs. @return the next deadline. */
uint64_t tcp_timers(struct wctx *w, uint64_t now);
/* Send a bare segment of c (flags, its seq and ack as they stand). */
void tcp_send_ctl(struct wctx *w, struct tcp_conn *c, uint16_t flags, uint32_t seq);
/* Take c out of the table and its listener's queue; free it later. */
void tcp_conn_drop(struct mpnet_stack *s, struct tcp_conn *c);

/* Active open: send c's SYN (SYN_SENT, its fields set) and arm its
 * retransmission. */
void tcp_syn_send(struct wctx *w, struct tcp_conn *c);

/* l4/tcp_listen.c: SYN cookies (RFC 4987), simultaneous open (RFC 9293
 * 3.5 figure 7), the reset limit. */
void tcp_listen_init(struct mpnet_stack *s, struct tcp_state *st);
/* stack_reset(): the buckets and cookie times as at init (the settings
 * stay, as configuration). */
void tcp_listen_reset(struct tcp_state *st);
/* Before a segment's checksum and options are read (tcp_input, on the
 * home of listener so): whether it is a SYN a cookie would answer and the
 * listener's cookie limit (mpnet_tcp_set_cookie_limit) has no token left
 * for it; counted (tcp_cookie_limited), the caller drops it. Otherwise a
 * SYN that a cookie will answer has taken its token. */
bool tcp_cookie_limited(struct wctx *w, struct mpnet_sock *so, uint16_t flags);
/* For a vector's SYNs alone at listener so (on its home), at now: how many
 * tcp_cookie_limited() will let through, the bucket's whole tokens (it is
 * the home's alone, and a later time only adds to it); UINT_MAX while no
 * limit applies (none set, or no cookie would answer: the SYN queue has
 * room, or the accept queue is full). Takes nothing. */
unsigned tcp_cookie_budget(struct wctx *w, struct mpnet_sock *so, uint64_t now);
/* A SYN at listener so: answered with a cookie when the mode and the SYN
 * queue say so. @return whether it was (nothing more to do). */
bool tcp_cookie_syn(struct wctx *w, struct mpnet_sock *so, const struct tcp_tuple *t,
                    const struct mpnet_tcp_repr *r, uint32_t mtu);
/* An ACK at listener so (RFC 9293 3.10.7.2): a valid cookie makes the
 * connection; anything else is answered with a (limited) reset. */
void tcp_listen_ack(struct wctx *w, struct mpnet_sock *so, const struct tcp_tuple *t,
                    const struct mpnet_tcp_repr *r, uint32_t mtu);
/* Whether a reset to a segment without a connection may go now (counts
 * tcp_rst_limited when not). */
bool tcp_rst_allow(struct wctx *w);
/* l4/tcp_in.c: the MSS our side offers on a path of this MTU (the IP
 * and TCP headers off it). */
uint16_t tcp_mss_ours(const struct tcp_tuple *t, uint32_t mtu);
/* Send o and count it (tcp_out, tcp_rst_out; tcp_out_fail when IP output
 * refuses it). */
void tcp_send_out(struct wctx *w, const struct tcp_seg_out *o, const struct mpnet_tcp_opts *op);
/* l4/tcp_in.c: take the window, MSS and options of the peer's SYN. */
void tcp_syn_opts(struct tcp_conn *c, const struct mpnet_tcp_repr *r);
/* SYN_SENT and a SYN without ACK: simultaneous open (to SYN_RECEIVED). */
void tcp_simopen_syn(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r);
/* SYN_RECEIVED of an active open (c->lso NULL): whether r completes it
 * (its ACK, or the peer's own SYN-ACK); if so c is ESTABLISHED. */
bool tcp_simopen_ack(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r);
/* l4/tcp_data.c: the ESTABLISHED data path and the close (RFC 9293 3.8,
 * 3.10.4-7), on the connection's home context. */
#define TCP_MSL_NS_DEFAULT (30ull * 1000000000ull) /* as Linux's TIME_WAIT of 60 s */
/* Move c into ESTABLISHED (from SYN_SENT or SYN_RECEIVED; c->snd_una,
 * snd_wnd and the options set): its buffers and timers. @return 0, or
 * -ENOMEM (c is left as it was: the caller resets it). */
int tcp_established(struct wctx *w, struct tcp_conn *c);
/* A segment past the handshake, its ACK found acceptable (RFC 9293
 * 3.10.7.4 from the fifth check on): the ACK, the data, the FIN. */
void tcp_data_input(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_view *v,
                    const struct mpnet_tcp_repr *r);
/* RFC 7323 5.3 (PAWS), before the sequence check. @return false: dropped
 * (an ACK sent). */
bool tcp_paws(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r);
/* The answer to an unacceptable segment (RFC 9293 3.10.7.4, first
 * check): the data path's ACK, with the window as it is now and, for len
 * data bytes wholly below RCV.NXT (a duplicate), a D-SACK block (RFC
 * 2883). @return false: no data state (the caller ACKs). */
bool tcp_data_dup(struct wctx *w, struct tcp_conn *c, uint32_t seq, uint32_t len);
/* The data path's timers. @return the next deadline. */
uint64_t tcp_data_timers(struct wctx *w, uint64_t now);
/* What c's data path holds: @return its state's bytes; its rings and
 * out-of-order segments added to *bufs. */
size_t tcp_data_mem(const struct tcp_conn *c, size_t *bufs);
/* stack_reset() of a quiet established connection (l4/tcp.c,
 * tcp_state_mark): the size of its data state; whether it holds nothing
 * a copy could not give back (no ring, queue, SACK scoreboard or armed
 * timer); a new data state for c from a copy of a quiet one. */
size_t tcp_data_size(void);
bool tcp_data_quiet(const struct tcp_conn *c);
struct tcp_data *tcp_data_clone(const void *copy, struct tcp_conn *c);
/* c leaves the table (tcp_conn_drop): off the timer list. */
void tcp_data_drop(struct mpnet_stack *s, struct tcp_conn *c);
/* c off its context's TIME_WAIT queue (before tcp_embryo_del: the two
 * links share their memory). */
void tcp_tw_unlink(struct tcp_conn *c);
/* After a segment's input: the connection it put in TIME_WAIT, an
 * orphan, gives its data state back (c->d NULL). */
void tcp_tw_compact(struct wctx *w);
/* Free the ring blocks a context keeps (its fini). */
void tcp_ring_cache_free(struct tcp_ctx *x);
/* Free c and what its data path holds (after the grace period). */
void tcp_conn_free(void *c);
/* Give back what auto-tuning grew c's buffers by to its stack's budget
 * (tcp_state.rgrown, sgrown): once c leaves or drops its data state. */
void tcp_data_budget_put(struct tcp_state *st, struct tcp_conn *c);
/* The socket calls (struct sock_proto). */
ssize_t tcp_sendmsg(struct mpnet_stack *s, struct mpnet_sock *so, const struct msghdr *msg,
                    int flags);
ssize_t tcp_recvmsg(struct mpnet_stack *s, struct mpnet_sock *so, struct msghdr *msg, int flags);
int tcp_shutdown(struct mpnet_stack *s, struct mpnet_sock *so, int how);
/* close() of a connected socket: an orderly close (a FIN once the data is
 * sent), or a reset when data was left unread (RFC 9293 3.10.4, RFC 2525
 * 2.17). The connection lives on without the socket. */
void tcp_data_close(struct mpnet_stack *s, struct tcp_conn *c);
int tcp_data_setopt(struct tcp_conn *c, int name, int v);

/* The data path's pieces that l4/tcp_opt.c and l4/tcp_pmtu.c use. */
/* Arm deadline *at (a field of c) to when: c goes on the timer list. */
void tcp_data_arm(struct wctx *w, struct tcp_conn *c, uint64_t *at, uint64_t when);
/* Send what the windows allow now. */
void tcp_data_output(struct wctx *w, struct tcp_conn *c);
/* Go back to SND.UNA and send again (the MSS changed, RFC 1191 6.5). */
void tcp_data_resend(struct wctx *w, struct tcp_conn *c);
/* RFC 3168 6.1.2: an ECE: cwnd as after a loss, no recovery. @return
 * false when recovery is under way (nothing done). */
bool tcp_data_ecn_reduce(struct wctx *w, struct tcp_conn *c);
struct mpnet_tcp_info;
/* The data path's part of TCP_INFO (cwnd, ssthresh, buffers). */
void tcp_data_info(const struct tcp_conn *c, struct mpnet_tcp_info *i);

/* l4/tcp_opt.c: keepalive, SO_LINGER, TCP_CORK, TCP_INFO, ECN, TIME_WAIT
 * reuse. */
/* ESTABLISHED reached: the options of ref (the socket or listener). */
void tcp_opt_init(struct wctx *w, struct tcp_conn *c, const struct mpnet_sock *ref);
/* An acceptable segment past the handshake (before its ACK is taken):
 * keepalive's clock, ECN's CE, ECE and CWR. */
void tcp_opt_rx(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r);
/* A segment of c goes out: ECN's flags and codepoint, the count of
 * retransmissions. */
void tcp_opt_seg_out(struct tcp_conn *c, struct tcp_seg_out *o);
/* Whether output holds a short segment (TCP_CORK). */
bool tcp_opt_corked(struct wctx *w, struct tcp_conn *c);
/* TCP_NODELAY set on c: what the cork holds goes (as Linux). */
void tcp_opt_nodelay(struct wctx *w, struct tcp_conn *c);
/* The options' next deadline. */
static inline uint64_t tcp_opt_due(const struct tcp_conn *c)
{
        const struct tcp_copt *o = (const struct tcp_copt *)c->d;
        uint64_t m = o->ka_at < o->cork_at ? o->ka_at : o->cork_at;

        return m < o->linger_at ? m : o->linger_at;
}
/* The options' timers. @return false: c is gone. */
bool tcp_opt_timer(struct wctx *w, struct tcp_conn *c, uint64_t now);
/* close(): whether SO_LINGER with a zero time asks for an abort. */
bool tcp_opt_linger_abort(const struct mpnet_sock *so);
/* close() with SO_LINGER's non-zero time: the reset's deadline. */
void tcp_opt_linger_arm(struct wctx *w, struct tcp_conn *c, uint32_t secs);
/* Whether our data and FIN are acknowledged (or c is past them). */
bool tcp_opt_linger_done(const struct tcp_conn *c);
/* RFC 6191: a SYN at a TIME_WAIT connection. @return true when c was
 * dropped for a new incarnation (the SYN goes to the listener), false
 * when the SYN is not new enough (dropped and counted) or not a SYN
 * (the connection takes it: *take set). */
bool tcp_tw_reopen(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r, bool *take);
/* The passive open of a reopened TIME_WAIT connection: its ISS above the
 * old incarnation's SND.NXT. */
void tcp_tw_iss(struct wctx *w, struct tcp_conn *c);
/* ECN in the handshake (RFC 3168 6.1.1). */
uint16_t tcp_ecn_syn_flags(struct mpnet_stack *s);
void tcp_ecn_syn_in(struct mpnet_stack *s, struct tcp_conn *c, const struct mpnet_tcp_repr *r);
void tcp_ecn_synack_in(struct mpnet_stack *s, struct tcp_conn *c, const struct mpnet_tcp_repr *r);
/* Socket options (tcp_sock.c's setopt and getopt hand them over). */
int tcp_opt_set(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name, const void *val,
                unsigned len);
int tcp_opt_get(const struct mpnet_sock *so, int level, int name, int *v);
int tcp_opt_get_buf(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name, void *val,
                    socklen_t *len);

/* l4/tcp_pmtu.c: ICMP errors for connections (RFC 1191, RFC 8201, RFC
 * 5927) and the black-hole fallback (RFC 4821). */
struct l4_err;
struct mpnet_iface;
bool tcp_err(struct wctx *w, const struct l4_err *e);
/* The "tcp-err" node (registered by l4/tcp.c): on a connection's home, an
 * error tcp_err handed there; on the control thread, the MTU of an error
 * the home found valid, for the path MTU cache. */
void tcp_err_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* ESTABLISHED reached: an MSS no larger than the path MTU cache says. */
void tcp_pmtu_start(struct wctx *w, struct tcp_conn *c);
/* The retransmission timer expired for the tries-th time in a row, full
 * segments in flight. */
void tcp_pmtu_rto(struct wctx *w, struct tcp_conn *c, unsigned tries, bool full);

/* l4/tcp_sock.c */
extern const struct sock_proto sock_tcp_proto;
/* mpnet_connect() of a SOCK_STREAM socket. */
int tcp_connect(struct mpnet_stack *s, struct mpnet_sock *so, const struct sockaddr *addr,
                socklen_t len);

/* l4/tcp.c: input of a segment at p->data (checked unless
 * TCP_IN_HANDED: handed by another context, checked there); ecn the IP
 * header's ECN field. */
enum { TCP_IN_NOT_UNICAST = 1, TCP_IN_HANDED = 2 };
struct mpnet_iface;
void tcp_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned fam,
               const uint8_t *laddr, const uint8_t *raddr, unsigned how, uint8_t ecn);

/* l4/tcp_home.c: connections owned by their home context. */
/* The "tcp-deliver" node (registered by l4/tcp.c). */
void tcp_deliver_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* Context w's TCP state. */
struct tcp_ctx *tcp_ctx_of(struct wctx *w);
/* The home context of c (its calls send from there). */
struct wctx *tcp_home_w(struct mpnet_stack *s, const struct tcp_conn *c);
/* Hand p (data at the TCP header, l3_off set) to context home's
 * tcp-deliver node. Takes p. */
void tcp_handoff(struct wctx *w, unsigned home, struct mpnet_pkt *p);
/* c enters or leaves its home's embryo list (w: the home). */
void tcp_embryo_add(struct wctx *w, struct tcp_conn *c);
void tcp_embryo_del(struct tcp_conn *c);
/* Free c after a grace period, from any context (tcp_conn_remove). */
void tcp_conn_retire(struct mpnet_stack *s, struct tcp_conn *c);
/* The control thread's service: what workers retired, to stack_defer(). */
void tcp_dead_flush(struct mpnet_stack *s);
/* After a segment on its home: run so's callback when it has one and
 * what it waits for (ev_before: its events before) is there. */
void tcp_sock_cb(struct wctx *w, struct mpnet_sock *so, uint32_t ev_before);
/* The same once the receive vector is done (tcp_vec_end): the segments of
 * one vector wake a socket once. */
void tcp_sock_cb_vec(struct wctx *w, struct mpnet_sock *so, uint32_t ev_before);
/* The graph's vec_end hook (l4/tcp_data.c): the ACKs the vector's
 * segments wait for (one per connection), then the sockets' callbacks. */
void tcp_vec_end(struct wctx *w, void *cs);
/* RFC 6056 Algorithm 4 through the stack's picker (l4/port.h), steered
 * to so's home when faddr is known (non-zero) and the link can tell.
 * @return the port bound (so's PCB entry in TCP's table), or -EADDRINUSE. */
int tcp_port_pick_steered(struct mpnet_stack *s, struct mpnet_sock *so, const uint8_t laddr[16],
                          const uint8_t faddr[16], uint16_t fport);
/* send and recv of a stream socket from a thread that is not its home
 * (the control thread, an application thread): run on the home as a
 * synchronous command, the caller's buffers read or written there while
 * it waits. -EBUSY from another worker (a worker never waits). */
ssize_t tcp_call_sendmsg(struct mpnet_sock *so, const struct msghdr *msg, int flags);
ssize_t tcp_call_recvmsg(struct mpnet_sock *so, struct msghdr *msg, int flags);
/* The context that receives the flow (laddr, lport) <- (faddr, fport). */
unsigned tcp_flow_home(struct mpnet_stack *s, int bound_if, const uint8_t laddr[16], uint16_t lport,
                       const uint8_t faddr[16], uint16_t fport);

#endif
