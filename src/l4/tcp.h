/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TCP module (l4/tcp.c: input, the connection table, the module;
 * l4/tcp_out.c: segments out), private to the library.
 *
 * What exists: input checks (length, data offset, checksum, options, a
 * non-unicast destination), each failure a counted drop; the connection
 * table; the answer of a closed port (RFC 9293 3.10.7.1). The state
 * machine, listeners and the socket calls come in later pieces: every
 * segment that finds no connection is answered as CLOSED.
 *
 * Synchronisation (docs/MP-SAFETY.md):
 *  - Input runs on the context that receives the segment (a worker or the
 *    control thread); it reads the connection table as an RCU reader.
 *  - The connection table is a fixed array of hash chains of struct
 *    tcp_conn keyed by the 4-tuple. Writers (tcp_conn_insert,
 *    tcp_conn_remove) are the control thread's, under the table's lock
 *    (a leaf): a new entry is published with a release store at the head
 *    of its chain, a removed one is unlinked with a release store and freed
 *    through stack_defer(), so a reader that still holds it reads valid
 *    memory until its next quiescent state. Readers (tcp_conn_lookup) take
 *    no lock.
 *  - A connection has a home context (home, a struct wctx id, as a UDP
 *    socket's): only the home touches its state; another context that
 *    finds it hands the segment over (later pieces).
 */
#ifndef MPNET_L4_TCP_H
#define MPNET_L4_TCP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "l4/tcp_isn.h"

struct mpnet_stack;
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

/* A connection: found by its 4-tuple (struct tcp_tuple: our side first). */
struct tcp_conn {
        struct tcp_conn *_Atomic next; /* its hash chain */
        struct tcp_tuple t;            /* set before publication, immutable */
        uint32_t hash;
        uint8_t home;  /* the context that owns the state below */
        uint8_t state; /* enum tcp_st */
};

#define TCP_CONN_BUCKETS 4096 /* a power of two */

struct tcp_conn_table {
        pthread_mutex_t lock; /* writers only; a leaf */
        unsigned n;
        uint8_t key[16]; /* the hash's (SipHash), random per stack */
        struct tcp_conn *_Atomic b[TCP_CONN_BUCKETS];
};

/* l4/tcp.c */
/* The table's hash of a tuple. Any context. */
uint32_t tcp_conn_hash(const struct tcp_conn_table *ct, const struct tcp_tuple *t);
/* Any context, RCU reader: the connection of t, or NULL. */
struct tcp_conn *tcp_conn_lookup(const struct tcp_conn_table *ct, const struct tcp_tuple *t);
/* Control thread: publish c (c->t set; its hash is filled). @return 0, or
 * -EEXIST when the tuple is taken. */
int tcp_conn_insert(struct mpnet_stack *s, struct tcp_conn_table *ct, struct tcp_conn *c);
/* Control thread: unlink c; it is freed (free()) after a grace period. */
void tcp_conn_remove(struct mpnet_stack *s, struct tcp_conn_table *ct, struct tcp_conn *c);

/* l4/tcp_out.c */
/* A segment to send, as fields (the options of struct mpnet_tcp_repr). */
struct tcp_seg_out {
        const struct tcp_tuple *t; /* our side is the source */
        uint32_t seq, ack;
        uint16_t flags, window;
        const void *payload;
        uint32_t payload_len;
};
struct mpnet_tcp_opts;
/* Build and send a segment from context w (IP output of the tuple's
 * family). opts may be NULL. @return 0 or a negative errno (-ENOBUFS,
 * what IP output returned). */
int tcp_output(struct wctx *w, const struct tcp_seg_out *o, const struct mpnet_tcp_opts *opts);

#endif
