/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Raw IP sockets (l4/raw.c) and ICMP echo sockets (l4/ping_sock.c): one
 * module, mod_raw, private to the library.
 *
 * Both are found through PCB tables (l4/pcb.h) the module owns: raw
 * sockets by protocol (the protocol stands where UDP has the port; every
 * entry shares, so any number of sockets take one protocol), echo sockets
 * by identifier, a table per family. Local delivery of both families
 * offers a datagram to the module's tap (graph.h, l4_tap) while a bit of
 * s->l4_tap_on says a socket wants its protocol: a raw socket its
 * protocol, an echo socket ICMP or ICMPv6.
 *
 * Synchronisation (as UDP's, l4/socket.h): the tables and the bits are
 * the control thread's (the socket calls); the tap runs on the context
 * that delivers the datagram, an RCU reader of the tables, and hands a
 * datagram for a socket homed elsewhere to the home's "raw-deliver" node
 * (ctx_handoff), naming the socket by descriptor and generation.
 */
#ifndef MPNET_L4_RAW_H
#define MPNET_L4_RAW_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/pkt.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

struct mpnet_sock;
struct pcb_table;
struct udp_tx;

enum raw_ctr {
        RAW_IN,
        RAW_OUT,
        RAW_BAD_CSUM,
        RAW_RCVBUF_FULL,
        RAW_NOBUFS,
        RAW_STALE,
        RAW_HANDOFF,
        PING_IN,
        PING_OUT,
        PING_RCVBUF_FULL,
        PING_ERR_IN,
        PING_ERR_IGNORED,
        PING_ERRQ_FULL,
        RAW__N
};

struct raw_state {
        struct mpnet_stack *s;
        struct pcb_table *raw;     /* raw sockets, the protocol as the port */
        struct pcb_table *echo[2]; /* echo sockets by identifier: [0] ICMP, [1] ICMPv6 */
        unsigned deliver_node;
        unsigned err_node; /* ping-err */
        /* The ping API's echo sockets, [0] ICMP, [1] ICMPv6 (no descriptor;
         * the control thread's, made on first use: l4/ping_sock.c). */
        struct mpnet_sock *api[2];
        /* The control thread's: what keeps a bit of s->l4_tap_on set. */
        uint16_t n_raw[2][256];
        uint32_t n_echo[2];
};

static inline struct raw_state *raw_st(struct mpnet_stack *s)
{
        return s->g.mods[MOD_raw].state;
}

static inline void raw_inc(struct mpnet_stack *s, enum raw_ctr c)
{
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_raw, c));
}

/* Set or clear the tap bit of (family index f, proto) from the counts. */
void raw_tap_update(struct mpnet_stack *s, unsigned f, uint8_t proto);
/* Queue p on so (its home context w), or hand it to the home. */
void raw_deliver(struct wctx *w, struct mpnet_sock *so, struct mpnet_pkt *p);
/* The one's-complement sum of n bytes of a chain from p->data. */
uint64_t raw_chain_sum(const struct mpnet_pkt *p, uint32_t n, uint64_t sum);
/* The source a datagram from so to tx->dst takes (v4-mapped for IPv4). */
int raw_src(struct mpnet_stack *s, const struct mpnet_sock *so, const struct udp_tx *tx,
            uint8_t src[16]);
/* l4/ping_sock.c: an echo reply (p->data at the ICMP header) to the echo
 * socket of its identifier. @return false when none takes it (p stays the
 * caller's). */
bool ping_sock_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned f);
/* l4/ping_sock.c: an ICMP error quoting an echo request (e->l4 at its
 * ICMP header) to the echo socket of its identifier. @return whether a
 * socket took it (the ping API then does not see it). */
bool ping_sock_err(struct wctx *w, const struct l4_err *e);
/* l4/ping_sock.c: the ping-err node (errors handed to a worker home). */
void ping_err_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);

/* The ping API (l4/ping_api.c) on its echo sockets (l4/ping_sock.c), the
 * control thread's. Replies and errors kept for the callers at most (one
 * buffer each): past that, new ones are dropped (ping_overflow,
 * ping6_overflow). */
#define PING_API_QLEN 1024u
/* The family's (f: 1 IPv6) socket, made on first use; NULL: no memory. */
struct mpnet_sock *ping_api_sock(struct mpnet_stack *s, unsigned f);
/* Send the echo request p (ICMP header and data, the identifier written)
 * to dst (v4-mapped for IPv4) with TTL or hop limit ttl, don't-fragment
 * (IPv4), through oif (0: routed). @return as ip4_output_opt, or the
 * source selection's error (IPv6). */
int ping_api_output(struct mpnet_stack *s, unsigned f, struct mpnet_pkt *p, const uint8_t dst[16],
                    uint8_t ttl, bool df, int oif);
/* The module's echo_in and echo_err (graph.h). */
bool ping_api_in(struct wctx *w, struct mpnet_pkt *p, unsigned fam);
void ping_api_err(struct wctx *w, const struct l4_err *e);
/* At stack destruction: the sockets and what they hold. */
void ping_api_fini(struct mpnet_stack *s);

#endif
