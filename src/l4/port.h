/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ephemeral ports (RFC 6056), steered home: connect() and a send on an
 * unbound socket pick a local port here, unpredictable without the stack's
 * secret and, when a target context is given, one whose return traffic the
 * link's RSS sends to a queue that context polls (stack/steer.h), so the
 * flow's packets are received where its socket lives.
 *
 * The algorithm is RFC 6056 3.3.4 (Algorithm 4, the double-hash port
 * selection): offset = F(laddr, faddr, fport, proto) and index =
 * G(same) into a table of perturbations, candidates offset + table[index]
 * + i, i = 0, 1, ... through the range. F and G are the two halves of one
 * SipHash-2-4 under the secret. Why Algorithm 4: ports depend on the
 * 3-tuple and the secret, so an observer learns nothing of another peer's
 * ports (unlike Algorithms 1 and 2 without a CSPRNG per call), while one
 * peer sees its ports go round the whole range before one comes back (the
 * reuse interval Algorithm 3's single counter shares among all peers).
 * Hardening after Klein and Pinkas ("DNS and port-based device tracking",
 * 2022, which recovered Linux's Algorithm 4 state from its +1 steps, as
 * Linux since 5.18): table[index] moves on by the candidates tried plus a
 * keyed-random 0..15, so even one peer's ports are not consecutive.
 *
 * Steering costs no hashing per candidate: the Toeplitz hash is linear
 * (XOR) in its input bits, so the hash of the reply flow with local port p
 * is hash(the rest, port 0) XOR the two table entries of p's bytes at the
 * destination port's position (mpnet_rss tables, 2 x 256 words).
 *
 * Synchronisation: the picker's table entries and counter are relaxed
 * atomics (RFC 6056's table is a hint, not a lock); any thread may pick.
 * port_pick() binds through pcb_bind(), whose lock decides between two
 * pickers that chose the same port (the loser walks on).
 */
#ifndef MPNET_L4_PORT_H
#define MPNET_L4_PORT_H

#include <stdatomic.h>
#include <stdint.h>

#include "l4/pcb.h"
#include "stack/steer.h"

struct mpnet_stack;

#define PORT_EPH_LO    49152 /* RFC 6056 3.2: the IANA dynamic range */
#define PORT_EPH_HI    65535
#define PORT_TABLE_LEN 4096 /* table[] of RFC 6056 3.3.4 (it suggests 10) */

struct port_picker {
        uint8_t key[16];          /* the secret (secret_key1 and 2) */
        _Atomic uint32_t range;   /* lo << 16 | hi */
        _Atomic uint64_t n_picks; /* input to the random increments */
        _Atomic uint16_t table[PORT_TABLE_LEN];
};

/* The flow a port is wanted for: addresses 16 bytes, IPv4 as v4-mapped;
 * laddr the source the flow will use (the route's, when the socket is bound
 * to the wildcard); faddr all zeros for none (then no steering). */
struct port_flow {
        uint8_t laddr[16], faddr[16];
        uint16_t fport;
        uint8_t proto; /* ports steer for TCP and UDP only */
};

/* Fill pp from a secret (the stack's random, at creation); range 49152-65535. */
void port_picker_init(struct port_picker *pp, const uint8_t secret[16]);
/* @return 0, or -EINVAL (lo 0 or above hi). Any thread. */
int port_range_set(struct port_picker *pp, uint16_t lo, uint16_t hi);
void port_range_get(const struct port_picker *pp, uint16_t *lo, uint16_t *hi);

/*
 * Pick a port for f and bind e on it in t (pcb_bind(): free means that
 * table's conflict rules accept e there). st (stack_rx_steer() for the
 * interface the replies come in on and the socket's home; NULL: none)
 * keeps to ports whose reply flow reaches st's context.
 * @return the port; -EADDRNOTAVAIL when no port of the range fits; -EINVAL
 * (e as pcb_bind refuses it); -ENOMEM.
 */
int port_pick(struct port_picker *pp, const struct port_flow *f, const struct rx_steer *st,
              struct pcb_table *t, const struct pcb_ent *e);
/* As port_pick(), binding nothing: a port free for e in t now. */
int port_pick_peek(struct port_picker *pp, const struct port_flow *f, const struct rx_steer *st,
                   const struct pcb_table *t, const struct pcb_ent *e);

/*
 * The home of a connected socket of flow t (as received: s the peer) on
 * ifindex: the context that receives it (stack_rx_ctx()), else
 * stack_flow_owner(hash) with the caller's hash of the flow.
 */
unsigned port_flow_home(const struct mpnet_stack *s, int ifindex, const struct rx_tuple *t,
                        uint32_t hash);

/*
 * The socket a datagram of k goes to on the context that receives it: an
 * SO_REUSEPORT group of one socket per worker keeps each flow on its
 * receiving worker, as pcb_lookup() prefers the members homed there. The
 * caller is an RCU reader (pcb_lookup()).
 */
struct mpnet_sock *port_flow_sock(const struct mpnet_stack *s, const struct pcb_table *t,
                                  const struct pcb_key *k, uint8_t proto, uint32_t hash);

#endif
