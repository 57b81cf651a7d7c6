/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The socket layer (l4/socket.c: descriptors, options, the API) and UDP
 * (l4/udp.c: input, output), private to the library.
 *
 * A socket (struct mpnet_sock) lives in its stack's descriptor table, the
 * state of mod_sock; UDP sockets are found by the PCB table of mod_udp
 * (l4/pcb.h).
 *
 * Synchronisation (docs/MP-SAFETY.md):
 *  - Control calls (socket, bind, connect, the PCB options) and every
 *    change to a socket's addresses and PCB entry are the control
 *    thread's.
 *  - Each socket has a home context (home: a struct wctx id; 0 the control
 *    thread, the default; a worker with MPNET_SO_HOME). Only the home
 *    touches the receive queue (rq_*, or the front end's ring), its byte
 *    count, the readiness mask, the flags once homed on a worker, and calls
 *    the upcall and the callback: no lock and no atomic read-modify-write
 *    per datagram. The control thread hands what changes a worker-homed
 *    socket to the home (l4/sock_home.c, sock_home_call()).
 *  - UDP input runs on whichever context receives the datagram: it finds
 *    the socket with pcb_lookup() (an RCU reader), reads only the fields
 *    marked "any context" below, and when the socket is homed elsewhere
 *    hands the packet to the home's "udp-deliver" node (ctx_handoff),
 *    naming the socket by descriptor and generation, not by pointer: the
 *    node finds it again in the descriptor table (an RCU reader too) and
 *    drops the datagram when the descriptor was closed meanwhile.
 *  - A socket is freed through stack_defer() after close (a worker may
 *    hold its pointer from pcb_lookup); the PCB table's retired port sets
 *    and the descriptor table's old arrays go the same way.
 */
#ifndef MPNET_L4_SOCKET_H
#define MPNET_L4_SOCKET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mpnet/pkt.h"
#include "l4/evset.h"

struct mpnet_stack;
struct pcb_table;
struct wctx;

/* flags (control thread's; f_* bits read by input as marked) */
enum {
        SOF_REUSEADDR = 1 << 0,
        SOF_REUSEPORT = 1 << 1,
        SOF_BROADCAST = 1 << 2,
        SOF_V6ONLY = 1 << 3,
        SOF_BOUND = 1 << 4,
        SOF_CONNECTED = 1 << 5,
        SOF_SHUT_RD = 1 << 6,
        SOF_SHUT_WR = 1 << 7,
        SOF_NONBLOCK = 1 << 8,
        SOF_CLOEXEC = 1 << 9,
        SOF_MC_LOOP4 = 1 << 10,
        SOF_MC_LOOP6 = 1 << 11,
        SOF_LADDR_AUTO = 1 << 12, /* laddr chosen by connect: AF_UNSPEC forgets it */
        SOF_CLOSED = 1 << 13,     /* closed: a delivery still holding it drops */
        SOF_LISTEN = 1 << 14,     /* TCP: listening (so->tcp a struct tcp_listen) */
        SOF_NODELAY = 1 << 15,    /* TCP_NODELAY (inherited by accepted sockets) */
        /* SO_RCVBUF, SO_SNDBUF set: TCP leaves that buffer's size alone (no
         * auto-tuning), as Linux's SOCK_RCVBUF_LOCK and SOCK_SNDBUF_LOCK;
         * inherited by accepted sockets. */
        SOF_RCVBUF_LOCK = 1 << 16,
        SOF_SNDBUF_LOCK = 1 << 17,
};

/* rcv_opts: what recvmsg gives as ancillary data. */
enum {
        SOR_PKTINFO4 = 1 << 0,
        SOR_TTL = 1 << 1,
        SOR_TOS = 1 << 2,
        SOR_PKTINFO6 = 1 << 3,
        SOR_HOPLIMIT = 1 << 4,
        SOR_TCLASS = 1 << 5,
        SOR_RECVERR4 = 1 << 6, /* IP_RECVERR: IPv4 errors queued */
        SOR_RECVERR6 = 1 << 7, /* IPV6_RECVERR: IPv6 errors queued */
};

/* A socket's group memberships (IPv4 groups v4-mapped, IPv6 as they are):
 * immutable once published (the receiving context reads it), replaced
 * whole and freed after a grace period. */
struct sock_mc {
        unsigned n;
        struct {
                uint8_t group[16];
                int ifindex;
        } m[];
};

struct mpnet_sock;
struct udp_tx;

/* What a socket's protocol does (UDP: socket.c over udp.c; raw and echo
 * sockets: l4/raw.c, l4/ping_sock.c). The control thread's calls. */
struct sock_proto {
        /* After the descriptor is made (NULL: nothing), before it is
         * released at close (NULL: nothing). */
        int (*open)(struct mpnet_stack *s, struct mpnet_sock *so);
        void (*close)(struct mpnet_stack *s, struct mpnet_sock *so);
        /* When the socket's memory is freed (NULL: nothing): what close
         * left, or, at stack destruction, what an open socket holds
         * (nothing is sent then). */
        void (*release)(struct mpnet_sock *so);
        /* The lookup entry: bind (new) or update; unbind; bind to a port
         * chosen by the protocol (@return it). */
        int (*pcb_set)(struct mpnet_stack *s, struct mpnet_sock *so, uint16_t port, bool new);
        int (*pcb_unset)(struct mpnet_stack *s, struct mpnet_sock *so);
        int (*port_pick)(struct mpnet_stack *s, struct mpnet_sock *so);
        /* Send the payload p to tx->dst (tx->dport as the call gave it). */
        int (*output)(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
                      const struct udp_tx *tx);
        /* Options of the protocol (NULL, or -ENOPROTOOPT: the common ones). */
        int (*setopt)(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name,
                      const void *val, unsigned len);
        int (*getopt)(const struct mpnet_sock *so, int level, int name, int *v);
        /* Options whose value is not an int (NULL, or -ENOPROTOOPT: the
         * int ones): the value into val, *len in and out. */
        int (*getopt_buf)(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name,
                          void *val, socklen_t *len);
        /* A stream's own calls (NULL: the datagram ones), on the home
         * context after the descriptor checks. */
        ssize_t (*sendmsg)(struct mpnet_stack *s, struct mpnet_sock *so, const struct msghdr *msg,
                           int flags);
        ssize_t (*recvmsg)(struct mpnet_stack *s, struct mpnet_sock *so, struct msghdr *msg,
                           int flags);
        int (*shutdown)(struct mpnet_stack *s, struct mpnet_sock *so, int how);
        uint8_t rx_skip; /* header bytes sock_enqueue takes off (UDP's 8) */
        bool rx_port;    /* recvfrom names a source port (UDP's) */
        bool need_port;  /* a destination port 0 is -EINVAL (UDP) */
};

extern const struct sock_proto sock_udp_proto;

typedef void (*sock_upcall_fn)(void *arg, uint32_t events);
typedef void (*sock_cb_fn)(struct mpnet_stack *s, int fd, void *arg);

struct mpnet_sock {
        /* Set at creation, read on any context. */
        struct mpnet_stack *s;
        int fd;
        uint32_t gen;   /* the descriptor's generation (udp-deliver checks it) */
        uint8_t family; /* AF_INET, AF_INET6 */
        uint8_t type;   /* SOCK_DGRAM, SOCK_RAW */
        uint8_t proto;  /* IPPROTO_UDP, _ICMP, _ICMPV6 (echo), any (raw) */
        /* The home context id: set before the PCB entry is published
         * (bind, connect), read with acquire (sock_home()). */
        _Atomic uint8_t home;
        /* Set (release) by the home once close took it: calls find the
         * descriptor closed (a close from a callback on a worker, which
         * the control thread completes later). */
        _Atomic uint8_t closing;
        const struct sock_proto *pr;
        /* Any context reads (relaxed); the control thread writes. */
        struct sock_mc *_Atomic mc;
        /* The home context's. */
        struct mpnet_pkt *rq_head, *rq_tail; /* linked through the headroom */
        uint32_t rq_bytes;                   /* whole buffers charged */
        uint32_t rq_n;
        /* Set at creation for a front-end socket (l4/sock_front.c), whose
         * queues are its rings; read on any context. */
        struct sock_fe *fe;
        _Atomic uint32_t rcvbuf; /* the control thread sets it */
        /* EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP: the home context changes
         * it (seq_cst, before it notifies), a thread waiting on an event
         * set reads it (sock_events()). */
        _Atomic uint32_t events;
        sock_upcall_fn upcall;
        void *upcall_arg;
        sock_cb_fn cb;
        void *cb_arg;
        /* The home context's: the error queue (IP_RECVERR, l4/sock_err.c),
         * records linked as the receive queue's. */
        struct mpnet_pkt *eq_head, *eq_tail;
        uint32_t eq_n;
        /* The control thread's, or the home's once that is a worker (the
         * control thread then hands what changes them to the home:
         * l4/sock_home.c). */
        int home_want;  /* MPNET_SO_HOME: MPNET_HOME_CONTROL, _FLOW, a context */
        uint32_t flags; /* SOF_* */
        uint32_t sndbuf;
        uint8_t laddr[16]; /* v4-mapped for IPv4; all zeros: any */
        uint8_t faddr[16];
        uint16_t lport, fport; /* host order */
        int err;               /* SO_ERROR, a positive errno */
        uint8_t bound_if;
        uint8_t rcv_opts;  /* SOR_* */
        uint8_t ttl, tos;  /* IP_TTL, IP_TOS */
        uint8_t mc_ttl;    /* IP_MULTICAST_TTL */
        uint8_t hops6;     /* IPV6_UNICAST_HOPS (0: the default) */
        uint8_t mc_hops6;  /* IPV6_MULTICAST_HOPS */
        uint8_t tclass;    /* IPV6_TCLASS */
        uint8_t mc_if6;    /* IPV6_MULTICAST_IF */
        uint8_t mc_if4;    /* IP_MULTICAST_IF by index */
        uint32_t mc_addr4; /* IP_MULTICAST_IF by address, host order */
        struct ev_src ev;  /* its event-set registrations (l4/evset.h) */
        uint8_t pmtudisc4; /* IP_MTU_DISCOVER (IP_PMTUDISC_*) */
        uint8_t pmtudisc6; /* IPV6_MTU_DISCOVER (IPV6_PMTUDISC_*) */
        int8_t dontfrag6;  /* IPV6_DONTFRAG */
        /* Raw sockets (l4/raw.c). */
        uint8_t raw_flags; /* SOW_* */
        int16_t raw_csum;  /* IPV6_CHECKSUM offset, -1 none */
        /* TCP (l4/tcp_sock.c): a listener's struct tcp_listen, an accepted
         * socket's struct tcp_conn; NULL otherwise. The home context's. */
        void *tcp;
        /* TCP's socket options (l4/tcp_opt.c): SO_KEEPALIVE and its times,
         * SO_LINGER, TCP_CORK; an accepted socket inherits its listener's.
         * The control thread's, or the home's once that is a worker
         * (setsockopt and getsockopt are handed there). */
        struct sock_tcpopt {
                uint32_t ka_idle, ka_intvl; /* seconds, 0: the default */
                uint16_t linger;            /* seconds */
                uint8_t ka_cnt;             /* 0: the default */
                uint8_t flags;              /* SOT_* */
        } tcpo;
};

/* tcpo.flags */
enum {
        SOT_KEEPALIVE = 1 << 0,
        SOT_LINGER = 1 << 1,
        SOT_CORK = 1 << 2,
};

/* raw_flags */
enum {
        SOW_HDRINCL = 1 << 0, /* IP_HDRINCL */
};

/* In events: an application thread sleeps on the word (front end); never
 * a readiness the event sets see. */
#define SOCK_EV_WAITER (1u << 28)

/* Where the receive queue links a datagram: the front of its headroom,
 * unused once delivered (the hand-off header, 8 bytes, is consumed). */
static inline struct mpnet_pkt **sock_rq_link(struct mpnet_pkt *p)
{
        return (struct mpnet_pkt **)(void *)mpnet_pkt_buf(p);
}

/* What a queued datagram costs the receive buffer: its whole buffers. */
#define SOCK_TRUESIZE       ((uint32_t)(sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE))
#define SOCK_RCVBUF_DEFAULT 212992u /* Linux's net.core.rmem_default */
#define SOCK_RCVBUF_MIN     (2 * SOCK_TRUESIZE)
#define SOCK_RCVBUF_MAX     (64u << 20)
#define SOCK_MAX_FDS        (1 << 21)

/* The descriptor table (mod_sock's state): slots published with release
 * stores, the array replaced whole when it grows (the old one freed after
 * a grace period). */
struct sock_fdtab {
        unsigned cap;
        struct sock_fdtab *old; /* outgrown, kept until the stack's end */
        struct mpnet_sock *_Atomic so[];
};

/* The descriptor table: read lock-free (sock_get, an RCU reader); its
 * writers (the control thread's socket and close, a listener's home
 * worker's accept) take lock, which nothing on the packet path takes. */
struct sock_state {
        struct mpnet_stack *s;
        struct sock_fdtab *_Atomic tab;
        pthread_mutex_t lock;
        unsigned lowest_free; /* no free slot below it; under lock */
        unsigned n_open;      /* under lock */
        _Atomic uint32_t gen;
};

/* l4/socket.c */
int sock_open_accepted(struct mpnet_stack *s, int domain, int flags, unsigned home);
/* The open socket fd on any context (an RCU reader), or NULL. */
struct mpnet_sock *sock_get(struct mpnet_stack *s, int fd);
/* A datagram handed to another context names its socket by descriptor
 * and generation after the hand-off header (HANDOFF_HDR; the caller makes
 * sure that much headroom is free). sock_handed(), on the receiving
 * context: the socket named, or NULL when it was closed or rehomed
 * meanwhile. */
struct wctx;
void sock_handoff_name(const struct mpnet_sock *so, struct mpnet_pkt *p);
struct mpnet_sock *sock_handed(struct wctx *w, const struct mpnet_pkt *p);
/* Home context: queue p (data at its payload, l3_off and l4_off set) on
 * so; rise EPOLLIN. @return false when the buffer is full (p freed, the
 * caller counts). */
bool sock_enqueue(struct mpnet_sock *so, struct mpnet_pkt *p);
/* sock_enqueue() without the callback. @return -1: dropped (as false
 * above); 1: queued on an empty queue of a socket with a callback, which
 * the caller runs (sock_run_cb) before the context's loop ends; 0:
 * queued. */
int sock_enqueue_nocb(struct mpnet_sock *so, struct mpnet_pkt *p);
/* An internal socket (the ping API's echo sockets, l4/ping_sock.c): made
 * as socket() makes one, but with no descriptor (fd -1) and no open call;
 * its owner frees it with sock_internal_free() (what it queued too). */
struct mpnet_sock *sock_new(struct mpnet_stack *s, int domain, int type, int protocol,
                            const struct sock_proto *pr);
void sock_internal_free(struct mpnet_sock *so);
/* Freed sockets kept for the next (l4/socket.c; tests). */
unsigned sock_cache_len(struct mpnet_stack *s);
/* Home context: drop what the receive queue holds. */
void sock_rq_flush(struct mpnet_sock *so);
/* Home context: take up to n queued datagrams that match (oldest first)
 * into out, leaving the others queued in their order. @return how many. */
unsigned sock_rq_take(struct mpnet_sock *so, bool (*match)(const struct mpnet_pkt *p, void *arg),
                      void *arg, struct mpnet_pkt **out, unsigned n);
/* The readiness mask and the event hook (the event-set engine's). */
uint32_t sock_events(const struct mpnet_sock *so);
void sock_set_upcall(struct mpnet_sock *so, sock_upcall_fn fn, void *arg);
/* Raise events on so (home context): the upcall sees the ones that rose. */
void sock_raise(struct mpnet_sock *so, uint32_t ev);
/* On so's home: run its callback, if it has one (the control thread's
 * with the free of a socket it closes held back; a worker's with
 * sock_cur set). The callback may close so. */
void sock_run_cb(struct mpnet_sock *so);
/* Readiness ev falls (home context). */
void sock_lower(struct mpnet_sock *so, uint32_t ev);

/* l4/sock_err.c: ICMP errors on sockets (Linux's semantics). */
/* An error queue record: the quoted payload is its data; this sits in
 * its headroom after the queue link and the hand-off words. */
#define SOCK_ERRQ_MAX     32 /* records a socket holds at most */
#define SOCK_ERRQ_REC_OFF 16 /* in the buffer: after the link and the hand-off words */
struct sock_errq_rec {
        uint8_t origin, type, code, fam; /* SO_EE_ORIGIN_*, ICMP's, 4 or 6 */
        int32_t errnum;                  /* positive */
        uint32_t info;
        uint8_t offender[16]; /* v4-mapped for IPv4 */
        uint8_t dst[16];      /* the quoted datagram's destination */
        uint16_t dport;
        uint8_t ttl; /* the error's TTL or hop limit (the ping API's) */
};
static inline struct sock_errq_rec *sock_errq_rec(struct mpnet_pkt *p)
{
        return (struct sock_errq_rec *)(void *)(mpnet_pkt_buf(p) + SOCK_ERRQ_REC_OFF);
}
struct l4_err;
/* The errno (positive) an ICMP error e means to so and whether it is hard
 * (reported to a connected socket without IP_RECVERR), as Linux's
 * icmp_err_convert and icmpv6_err_convert; 0: it says nothing to a socket
 * (a redirect, a source quench, an unknown type). */
int sock_icmp_errno(const struct mpnet_sock *so, const struct l4_err *e, bool *hard);
/* The record e leaves on an error queue: the quote from skip bytes past
 * its transport header on as data, struct sock_errq_rec in the headroom
 * (dport: the port msg_name gives). NULL: no buffer (the caller counts). */
struct mpnet_pkt *sock_err_record(struct mpnet_stack *s, const struct l4_err *e, int errnum,
                                  uint32_t skip, uint16_t dport);
/* Home context: an error for so. errnum (positive) becomes the pending
 * error (SO_ERROR, as Linux sets sk_err); rec (or NULL) goes on the error
 * queue. EPOLLERR rises. @return false when the socket took nothing (the
 * queue full or the socket closed: rec freed, the caller counts). */
bool sock_error_report(struct mpnet_sock *so, int errnum, struct mpnet_pkt *rec);
/* An error e for so, run on context w, which is not so's home: hand rec
 * (or, when NULL, a record that only sets the pending error errnum) to
 * the protocol's error node on the home, which calls sock_err_handed.
 * @return false when no buffer was left for that record (the caller
 * counts; a full hand-off ring is counted as handoff_drop). */
bool sock_err_handoff(struct wctx *w, struct mpnet_sock *so, const struct l4_err *e, int errnum,
                      struct mpnet_pkt *rec, unsigned node);
/* The home's side: the socket a handed error p names, or NULL when it was
 * closed or rehomed meanwhile (p freed: the caller counts). *errnum: the
 * error; *rec: p when it is a record for the error queue, else NULL (p
 * freed). */
struct mpnet_sock *sock_err_handed(struct wctx *w, struct mpnet_pkt *p, int *errnum,
                                   struct mpnet_pkt **rec);
/* The pending error, negative, cleared (0: none): what the next send or
 * receive returns (Linux sock_error). */
int sock_err_take(struct mpnet_sock *so);
/* recvmsg(MSG_ERRQUEUE). */
ssize_t sock_errq_recv(struct mpnet_sock *so, struct msghdr *msg, int flags);
void sock_errq_flush(struct mpnet_sock *so);
/* The options of l4/sock_err.c (IP_RECVERR, IP_MTU_DISCOVER, IP_MTU and
 * their IPv6 twins, IPV6_DONTFRAG): -ENOPROTOOPT for the others. */
int sock_err_setopt(struct mpnet_sock *so, int level, int name, const void *val, socklen_t len);
int sock_err_getopt(struct mpnet_sock *so, int level, int name, int *v);
/* Before an IPv6 send of len bytes (UDP header included) to dst through
 * oif: -EMSGSIZE when the socket forbids fragmenting (IPV6_DONTFRAG,
 * IPV6_PMTUDISC_DO or PROBE) and the path MTU cannot take it, else 0.
 * IPv4 leaves it to ip4_output_opt (struct ip4_out's pmtud). */
int sock_pmtu6_tx(struct mpnet_stack *s, const struct mpnet_sock *so, const uint8_t dst[16],
                  uint32_t len, int oif);

/* l4/sock_home.c: sockets homed on workers (docs/MP-SAFETY.md) */
/* The context whose socket code this thread runs now (a callback, a
 * command on the home), NULL outside them: the control thread's calls. */
extern _Thread_local struct wctx *sock_cur;
static inline unsigned sock_home(const struct mpnet_sock *so)
{
        return atomic_load_explicit(&((struct mpnet_sock *)so)->home, memory_order_acquire);
}
/* The context id of s the caller runs as: its callback's or command's
 * context, 0 (the control thread) outside them, SOCK_CALLER_FOREIGN in a
 * callback of another stack (neither home nor control thread of s). */
#define SOCK_CALLER_FOREIGN 0xffffu
unsigned sock_caller(const struct mpnet_stack *s);
/* Run fn(home, so, arg) on so's home context and wait for it: at once
 * when the caller is the home or runs it (an orphaned context on the
 * control thread), else through the home's command ring on its next loop.
 * The caller is the control thread (workers never wait). @return what fn returned. */
typedef int (*sock_cmd_fn)(struct wctx *w, struct mpnet_sock *so, void *arg);
int sock_home_call(struct mpnet_sock *so, sock_cmd_fn fn, void *arg);
/* Home worker: the control thread's part of closing so, queued (its
 * descriptor and generation) for its next poll. */
void sock_post_close(struct mpnet_sock *so);
/* mod_sock's per-context state. */
#define SOCK_FE_POLL      8  /* front-end sockets a worker polls at once */
#define SOCK_FE_POLL_IDLE 32 /* empty looks before a polled one is let go */
struct sock_ctx {
        struct mpnet_ring *cmd; /* MPSC: commands for this context's sockets */
        /* Front-end datagram sockets whose transmit rings this worker
         * looks at every loop, their tx_kicked held at 1 so the
         * application posts no kick (the descriptor and generation, as a
         * command names them; l4/sock_home.c), and the empty looks each
         * had in a row. */
        uintptr_t poll[SOCK_FE_POLL];
        uint8_t poll_idle[SOCK_FE_POLL];
        unsigned n_poll;
};
int sock_ctx_init(struct wctx *w, void *cs);
void sock_ctx_fini(struct wctx *w, void *cs);
uint64_t sock_ctx_service(struct wctx *w, void *cs, uint64_t now);
void sock_ctx_reset(struct wctx *w, void *cs);
/* l4/socket.c: the two halves of a close (sock_home.c runs them). */
int sock_close_home(struct wctx *w, struct mpnet_sock *so, void *arg);
void sock_close_ctl(struct mpnet_stack *s, struct mpnet_sock *so);

/* l4/sock_front.c: the thread-safe front end (docs/MP-SAFETY.md) */
struct sock_fe;
/* Home: queue p (a delivered datagram, charge its buffers) on the front
 * end's receive ring, wake its reader. @return false: dropped. */
bool sock_fe_enqueue(struct mpnet_sock *so, struct mpnet_pkt *p, uint32_t charge);
/* Home: send what the application queued on so's transmit ring (a
 * stream: sock_fe_pump). hold: leave tx_kicked at 1 (the home polls the
 * ring, the application posts no kick); else it is exchanged to 0 first,
 * so a push after the drain kicks again. @return datagrams taken. */
unsigned sock_fe_tx_drain(struct wctx *w, struct mpnet_sock *so, bool hold);
/* A worker that polled so's ring (tx_kicked held) found it homed
 * elsewhere now: tx_kicked to 0, and a kick to the new home when the
 * ring holds datagrams. */
void sock_fe_tx_rehome(struct mpnet_sock *so);
/* Home, a stream (TCP) front end: its connection's error taken, received
 * bytes moved to the receive ring while there is room, queued bytes to
 * the send buffer while it has room. After every segment for it. */
void sock_fe_pump(struct wctx *w, struct mpnet_sock *so);
/* Home, at close: a stream's queued bytes to the send buffer (what fits:
 * the rest goes with the rings). */
void sock_fe_close_flush(struct wctx *w, struct mpnet_sock *so);
/* sock_free(): the rings and what they hold. */
void sock_fe_free(struct mpnet_sock *so);
/* Post a kick (the descriptor and generation) for so's transmit ring to
 * its home. */
void sock_post_tx(struct mpnet_sock *so);
/* Run fn(ctx 0, so, arg) on the control thread and wait: a call from an
 * application thread (the control thread polls the stack). */
int sock_ctl_call(struct mpnet_stack *s, sock_cmd_fn fn, struct mpnet_sock *so, void *arg);
/* l4/socket.c for it: a send from the home, the source of a datagram. */
ssize_t sock_send_home(struct mpnet_sock *so, struct mpnet_pkt *p, const struct sockaddr *a,
                       socklen_t alen);
void sock_rx_from(const struct mpnet_sock *so, struct mpnet_pkt *p, struct sockaddr *a,
                  socklen_t *alen);

/* l4/udp.c */
struct udp_state;
struct pcb_table *udp_pcb(struct mpnet_stack *s);
/* An ephemeral port for so (RFC 6056 Algorithm 4, l4/port.h; steered to
 * so->home when connected and the link can tell): bound on success.
 * @return the port, or -EADDRINUSE. */
int udp_port_pick(struct mpnet_stack *s, struct mpnet_sock *so);
/* The home of connected so with local port lport: the context that
 * receives its reply flow (port_flow_home). */
unsigned udp_flow_home(struct mpnet_stack *s, const struct mpnet_sock *so, uint16_t lport);
/* The interface a datagram of so to dst leaves by; 0 unknown. */
int udp_route_ifindex(struct mpnet_stack *s, const struct mpnet_sock *so, const uint8_t dst[16]);
struct pcb_ent;
void udp_pcb_ent(const struct mpnet_sock *so, struct pcb_ent *e);
/* Fill and (re)publish so's PCB entry (bind: new; else update). */
int udp_pcb_set(struct mpnet_stack *s, struct mpnet_sock *so, uint16_t port, bool new);
int udp_pcb_unset(struct mpnet_stack *s, struct mpnet_sock *so);
/* Send a datagram whose payload is p (a chain allowed): the header, the
 * checksum, IP output. src/dst v4-mapped for IPv4. */
struct udp_tx {
        const uint8_t *src; /* NULL or any: choose */
        const uint8_t *dst;
        uint16_t sport, dport;
        int oif;
        int ttl;       /* -1: the socket's */
        int tos;       /* -1: the socket's */
        bool has_psum; /* psum is the payload's one's-complement sum (one buffer) */
        uint64_t psum;
        struct wctx *w; /* the sending context (the socket's home); NULL: the control thread */
};
int udp_output(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
               const struct udp_tx *tx);
/* Count a drop of datagrams the socket layer frees (close, shutdown). */
void udp_count_out(struct mpnet_stack *s);

/* l4/raw.c, l4/ping_sock.c: the protocols of SOCK_RAW and of SOCK_DGRAM
 * with IPPROTO_ICMP / IPPROTO_ICMPV6. */
extern const struct sock_proto sock_raw_proto, sock_ping_proto;

static inline bool addr_is_v4mapped(const uint8_t a[16])
{
        static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        return __builtin_memcmp(a, pfx, 12) == 0;
}

static inline bool addr_is_any(const uint8_t a[16])
{
        static const uint8_t z[16];

        return __builtin_memcmp(a, z, 16) == 0;
}

static inline bool addr_is_any46(const uint8_t a[16])
{
        return addr_is_any(a) ||
               (addr_is_v4mapped(a) && a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 0);
}

static inline void addr_v4mapped(uint8_t a[16], uint32_t v4)
{
        static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        __builtin_memcpy(a, pfx, 12);
        a[12] = (uint8_t)(v4 >> 24);
        a[13] = (uint8_t)(v4 >> 16);
        a[14] = (uint8_t)(v4 >> 8);
        a[15] = (uint8_t)v4;
}

static inline uint32_t addr_v4(const uint8_t a[16])
{
        return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

#endif
