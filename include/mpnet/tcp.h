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
 * Counters: tcp_cookie_sent, tcp_cookie_ok, tcp_cookie_bad.
 *
 * Resets to closed ports and to ACKs a listener did not expect go through a
 * token bucket per context (each its share of the rate; counter
 * tcp_rst_limited for those held back), as FreeBSD's icmplim does.
 *
 * Threads: the setters are safe from any thread; a change applies to the
 * segments handled after it.
 */
#ifndef MPNET_TCP_H
#define MPNET_TCP_H

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

/** What a stack's TCP connections hold (mpnet_tcp_mem). */
struct mpnet_tcp_mem {
        uint64_t conns;      /**< connections in the table, every state */
        uint64_t conn_bytes; /**< their state: struct tcp_conn, the data path's, the sockets
                                  of accepted or connected ones and their descriptor slots,
                                  the table's chain heads (allocator overhead left out) */
        uint64_t buf_bytes;  /**< send and receive rings, out-of-order segments */
};

/**
 * The memory TCP connections of s hold, from the structures themselves (a
 * walk of the connection table). Rings are allocated with their first
 * byte, so an idle connection that never carried data holds conn_bytes /
 * conns and no buffer. Control thread.
 * @return 0, or -EINVAL for a NULL argument.
 */
MPNET_API int mpnet_tcp_mem(struct mpnet_stack *s, struct mpnet_tcp_mem *m);

#endif
