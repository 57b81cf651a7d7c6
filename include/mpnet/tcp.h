/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file tcp.h
 * Settings of a stack's TCP that are not per socket: SYN cookies and the
 * rate of resets it sends unasked.
 *
 * SYN cookies (RFC 4987 3.6): a listener whose SYN queue is full answers a
 * SYN with a SYN-ACK whose sequence number encodes the connection (a keyed
 * hash of the 4-tuple, the peer's sequence number and a 64-second time
 * slot, with an index into a table of MSS values) and keeps nothing. The
 * ACK that echoes a valid cookie makes the connection at once, onto the
 * accept queue (dropped and counted, tcp_cookie_accq_full, when that is
 * full: the peer retries). When the peer sent timestamps, the low 6 bits
 * of our timestamp value carry its window scale and SACK-permitted, so a
 * cookie connection keeps them; without timestamps it has neither.
 * Counters: tcp_cookie_sent, tcp_cookie_ok, tcp_cookie_bad; tcp_cookie_limited
 * for SYNs dropped past a listener's cookie budget (mpnet_tcp_set_cookie_limit,
 * on by default).
 *
 * Resets to closed ports and to ACKs a listener did not expect go through a
 * token bucket per context (each its share of the rate; counter
 * tcp_rst_limited for those held back), as FreeBSD's icmplim does.
 *
 * ECN (RFC 3168), as Linux's tcp_ecn: mode 1 asks for it on connections
 * we open (SYN with ECE and CWR) and takes it on those we accept; mode 2
 * (the default) only takes it when the peer asks; 0 neither. Once agreed,
 * new data goes out ECT(0) (never retransmissions, pure ACKs or SYNs,
 * RFC 3168 6.1.4-6.1.5); a segment that arrives marked CE makes our ACKs
 * carry ECE until the peer's CWR; an ECE reduces our cwnd as a loss would,
 * at most once a window, and our next new data carries CWR (6.1.2).
 * Counters: tcp_ecn_ce, tcp_ecn_reduce. SYN-cookie connections have no ECN.
 *
 * Threads: the setters are safe from any thread; a change applies to the
 * segments handled after it.
 */
#ifndef MPNET_TCP_H
#define MPNET_TCP_H

#include <stdint.h>

#include "mpnet/export.h"

struct mpnet_stack;

/** SYN cookie modes (mpnet_tcp_set_syncookies). */
enum {
        MPNET_TCP_SYNCOOKIES_OFF = 0,      /* a SYN to a full queue is dropped */
        MPNET_TCP_SYNCOOKIES_OVERFLOW = 1, /* cookies once the SYN queue is full (default) */
        MPNET_TCP_SYNCOOKIES_ALWAYS = 2,   /* every SYN to a listener gets a cookie */
};

/**
 * Set how listeners of s use SYN cookies (as Linux's tcp_syncookies).
 * @param mode MPNET_TCP_SYNCOOKIES_*
 * @return 0, or -EINVAL for another mode.
 */
MPNET_API int mpnet_tcp_set_syncookies(struct mpnet_stack *s, int mode);

/**
 * Limit the resets s sends to segments that find no connection or an
 * unexpected ACK at a listener: rate a second with a burst of burst
 * (default 200 and 200, as FreeBSD's icmplim). rate 0: no limit.
 * @return 0, or -EINVAL for a burst of 0 with a rate.
 */
MPNET_API int mpnet_tcp_set_rst_limit(struct mpnet_stack *s, unsigned rate, unsigned burst);

/** The cookie budget every listener has by default (mpnet_tcp_set_cookie_limit). */
#define MPNET_TCP_COOKIE_RATE_DEFAULT  10000u
#define MPNET_TCP_COOKIE_BURST_DEFAULT 1000u

/**
 * Limit the SYN cookies each listener of s sends: rate SYN-ACKs a second
 * with a burst of burst, per listener (each member of an SO_REUSEPORT group,
 * one a worker, its own). The default is MPNET_TCP_COOKIE_RATE_DEFAULT with
 * a burst of MPNET_TCP_COOKIE_BURST_DEFAULT: while a listener's SYN queue has
 * room nothing is limited; once it is full and cookies answer, a flood past
 * the budget costs its worker the drops (about a fifth of an answer each)
 * and at most the budget's answers (under 1 % of a core at the default).
 * The trade: a legitimate SYN that comes while a flood keeps the budget
 * spent is dropped like the flood's, and gets through on a retransmission
 * with a chance of about rate / the flood's rate per try (RFC 6298 5.5's
 * backoff between tries). rate 0: no limit, every SYN past a full queue
 * gets a cookie (Linux's behaviour). A SYN that a cookie would answer past
 * the limit is dropped (counter tcp_cookie_limited; tcp_cookie_shed for
 * those dropped on IPv4's or IPv6's local delivery vector) before its
 * checksum and options are read and before the cookie is made. The SYN
 * queue is untouched: SYNs it has room for are never limited.
 * @return 0, or -EINVAL for a burst of 0 with a rate.
 */
MPNET_API int mpnet_tcp_set_cookie_limit(struct mpnet_stack *s, unsigned rate, unsigned burst);

/** What a stack's TCP connections hold (mpnet_tcp_mem). */
struct mpnet_tcp_mem {
        uint64_t conns;      /**< connections in the table, every state */
        uint64_t conn_bytes; /**< their state: struct tcp_conn, the data path's, the sockets
                                  of accepted or connected ones and their descriptor slots,
                                  the table's chain heads (allocator overhead left out) */
        uint64_t buf_bytes;  /**< send and receive rings, out-of-order segments (not the
                                  at most 32 free 4 KiB ring blocks each context keeps) */
};

/**
 * The memory TCP connections of s hold, from the structures themselves (a
 * walk of the connection table). Rings are allocated with their first
 * byte, so an idle connection that never carried data holds conn_bytes /
 * conns and no buffer. Control thread.
 * @return 0, or -EINVAL for a NULL argument.
 */
MPNET_API int mpnet_tcp_mem(struct mpnet_stack *s, struct mpnet_tcp_mem *m);

/** ECN modes (mpnet_tcp_set_ecn), Linux's tcp_ecn values. */
enum {
        MPNET_TCP_ECN_OFF = 0,
        MPNET_TCP_ECN_ON = 1,     /* ask on active opens, take on passive ones */
        MPNET_TCP_ECN_SERVER = 2, /* take when asked (default) */
};

/**
 * Set how connections of s negotiate ECN (RFC 3168 6.1.1).
 * @param mode MPNET_TCP_ECN_*
 * @return 0, or -EINVAL for another mode.
 */
MPNET_API int mpnet_tcp_set_ecn(struct mpnet_stack *s, int mode);

/**
 * One ACK per receive vector (off by default): the in-order segments one
 * poll of s receives get one ACK at the end of the vector instead of one
 * every second full segment (RFC 5681 4.2), as Linux's GRO merges them;
 * a vector that leaves less than two full segments unacknowledged waits
 * for the delayed ACK (RFC 1122 4.2.3.2). Fewer
 * ACKs for a bulk flow; the stretch ACKs slow the sender's slow start
 * (RFC 3465 L = 2) and thin its ACK clock under loss. Any thread.
 */
MPNET_API void mpnet_tcp_set_ack_vec(struct mpnet_stack *s, int on);

/** The largest limit mpnet_tcp_set_autotune takes (64 MiB). */
#define MPNET_TCP_AUTOTUNE_MAX (64u << 20)

/**
 * Socket-buffer auto-tuning (Linux's tcp_rmem / tcp_wmem idea), off by
 * default (limits of 0); limits of 4 MiB (Linux's
 * order) are the usual choice. Once on, a connection whose
 * application did not set SO_RCVBUF / SO_SNDBUF (setting either turns it
 * off for that buffer of that socket, as Linux) grows its receive buffer
 * once a round trip toward twice what the application read (Linux's
 * tcp_rcv_space_adjust; the round trip timed in us, a window's worth from
 * the receiver's side, mpnet_tcp_info.rcv_rtt_us), and its send
 * buffer toward twice the congestion window, up to rmem_max and wmem_max
 * bytes; 0 turns growth off. The send buffer follows what may be in
 * flight (cwnd, or the peer's largest window when less), the receive
 * buffer what the application read a round trip (averaged over the time
 * since the last look), and the connections of a stack grow out of one
 * budget of rmem_max and wmem_max bytes (Linux's tcp_mem idea): one
 * connection may grow to the limit, several share it. Larger windows
 * let flows overrun a shallow link queue in bursts: pacing
 * (mpnet_tcp_set_pacing) spreads them, and a reduction whose
 * retransmissions all come back D-SACKed is undone (RFC 3708, RFC 4015).
 * Any thread; applies to connections established after it.
 * @return 0, or -EINVAL over MPNET_TCP_AUTOTUNE_MAX.
 */
MPNET_API int mpnet_tcp_set_autotune(struct mpnet_stack *s, uint32_t rmem_max, uint32_t wmem_max);

/**
 * Pacing, on by default (as Linux's internal pacing): each connection
 * sends at about cwnd / SRTT, times 2 in slow start and 1.2 in congestion
 * avoidance (Linux's tcp_pacing_ss_ratio and _ca_ratio), a few segments
 * (or 1 ms at the rate) at once at most, so a window is spread over the
 * round trip instead of leaving as one burst. Counter tcp_paced: sends
 * held until their time. Any thread; applies to connections established
 * after it.
 */
MPNET_API void mpnet_tcp_set_pacing(struct mpnet_stack *s, int on);

/**
 * getsockopt(fd, IPPROTO_TCP, MPNET_TCP_INFO, &info, &len) of a TCP
 * socket: a snapshot of its connection (Linux's TCP_INFO number, with
 * this struct, not Linux's struct tcp_info). len may be shorter than the
 * struct (the first len bytes come back). A socket with no connection
 * (unconnected, listening) reports state MPNET_TCP_ST_CLOSED or _LISTEN
 * and zeros.
 */
#define MPNET_TCP_INFO 11

/** The states of mpnet_tcp_info.state (RFC 9293 3.3.2). */
enum {
        MPNET_TCP_ST_CLOSED,
        MPNET_TCP_ST_LISTEN,
        MPNET_TCP_ST_SYN_SENT,
        MPNET_TCP_ST_SYN_RECEIVED,
        MPNET_TCP_ST_ESTABLISHED,
        MPNET_TCP_ST_FIN_WAIT_1,
        MPNET_TCP_ST_FIN_WAIT_2,
        MPNET_TCP_ST_CLOSE_WAIT,
        MPNET_TCP_ST_CLOSING,
        MPNET_TCP_ST_LAST_ACK,
        MPNET_TCP_ST_TIME_WAIT,
};

/** mpnet_tcp_info.options: what the handshake agreed. */
enum {
        MPNET_TCPI_OPT_TIMESTAMPS = 1 << 0, /* RFC 7323 3 */
        MPNET_TCPI_OPT_SACK = 1 << 1,       /* RFC 2018 */
        MPNET_TCPI_OPT_WSCALE = 1 << 2,     /* RFC 7323 2 */
        MPNET_TCPI_OPT_ECN = 1 << 3,        /* RFC 3168 */
};

struct mpnet_tcp_info {
        uint8_t state;   /* MPNET_TCP_ST_* */
        uint8_t options; /* MPNET_TCPI_OPT_* */
        uint8_t snd_wscale, rcv_wscale;
        uint32_t rto_us;    /* the retransmission timeout now (backoff included) */
        uint32_t rtt_us;    /* smoothed RTT (RFC 6298), 0 before a sample */
        uint32_t rttvar_us; /* its variation */
        uint32_t snd_mss;   /* the most data we send in a segment (options off) */
        uint32_t rcv_mss;   /* the MSS we announced */
        uint32_t snd_cwnd;  /* bytes (Linux counts segments) */
        uint32_t snd_ssthresh;
        uint32_t snd_wnd;          /* the peer's window, scaled */
        uint32_t rcv_wnd;          /* ours, as last advertised */
        uint32_t unacked;          /* bytes sent, not acknowledged */
        uint32_t backoff;          /* retransmission timeouts in a row now */
        uint32_t total_retrans;    /* data segments retransmitted */
        uint32_t probes;           /* keepalive probes sent, unanswered */
        uint32_t snd_buf, rcv_buf; /* bytes waiting to go, to be read */
        uint64_t bytes_acked;      /* of ours, acknowledged */
        uint64_t bytes_received;   /* in order from the peer */
        uint32_t rcv_rtt_us;       /* the receiver's RTT estimate (auto-tuning's), 0: none */
        uint32_t rcv_space;        /* the most the application read in a round trip */
};

#endif
