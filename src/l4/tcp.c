/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP (RFC 9293) over IPv4 and IPv6: the module, segment input and the
 * connection table (l4/tcp.h says what exists and how it is shared).
 * Takes TCP over from l4-closed.
 *
 * Input, in order: a segment not sent to us alone (a link-layer broadcast
 * or multicast frame, an IPv4 broadcast or group, an IPv6 group) is
 * dropped (RFC 1122 4.2.3.10, RFC 9293 3.9.1.1: a connection is between
 * two unicast addresses); then the header's length and data offset, the
 * checksum, the options, each failure its own counted drop with no answer
 * (a damaged segment may name anyone). A good segment finds its connection
 * by its 4-tuple; with none, the port is closed and answered with a reset
 * (RFC 9293 3.10.7.1) unless the segment is itself a reset.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "mpnet/tcp.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/tcp.h"
#include "mpnet/wire/tcp.h"
#include "base/siphash.h"
#include "l4/pcb.h"
#include "l4/port.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_sack.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

enum tcp_ctr {
        TCP_IN,
        TCP_OUT,
        TCP_RST_OUT,
        TCP_NO_CONN,
        TCP_RST_CLOSED,
        TCP_NOT_UNICAST,
        TCP_SHORT,
        TCP_BAD_OFF,
        TCP_OFF_BEYOND,
        TCP_HDR_SPLIT,
        TCP_BAD_CSUM,
        TCP_BAD_OPT,
        TCP_OUT_FAIL,
        TCP_SYN_IN,
        TCP_SYNQ_FULL,
        TCP_SYNACK_RTX,
        TCP_SYNACK_GIVEUP,
        TCP_ACCEPTED,
        TCP_BAD_ACK,
        TCP_NOT_HOME,
        TCP_UNHANDLED,
        TCP_CHALLENGE,
        TCP_OUT_OF_WINDOW,
        TCP_CHALLENGE_LIMITED,
        TCP_COOKIE_SENT,
        TCP_COOKIE_OK,
        TCP_COOKIE_BAD,
        TCP_COOKIE_ACCQ_FULL,
        TCP_RST_LIMITED,
        TCP_SIMOPEN,
        TCP_DATA_IN,
        TCP_DATA_OUT,
        TCP_RTX,
        TCP_RTO,
        TCP_FAST_RTX,
        TCP_OOO_DROP,
        TCP_PAWS_DROP,
        TCP_TIMEOUT,
        TCP_RST_UNREAD,
        TCP_PERSIST,
        TCP_DACK,
        TCP_CHAINED,
        TCP_KA_PROBE,
        TCP_KA_TIMEOUT,
        TCP_LINGER_ABORT,
        TCP_CORK_FLUSH,
        TCP_ECN_CE,
        TCP_ECN_REDUCE,
        TCP_PMTU_LOWER,
        TCP_PMTU_BAD,
        TCP_BLACKHOLE,
        TCP_TW_REUSE,
        TCP_TW_SYN_DROP,
        TCP_HANDOFF,
        TCP_STALE,
        TCP_SACK_RECOVERY,
        TCP_SACK_RTX,
        TCP_RESCUE_RTX,
        TCP_RACK_LOST,
        TCP_TLP,
        TCP_TLP_RECOVERED,
        TCP_DSACK_IN,
        TCP_RCVBUF_GROW,
        TCP_SNDBUF_GROW,
        TCP_ACK_VEC,
        TCP_ERR_HANDOFF,
        TCP_ERR_HANDOFF_FAIL,
        TCP_UNDO,
        TCP_PACED,
        TCP_COOKIE_LIMITED,
        TCP_TSO_OUT,
        TCP_GRO_IN,
        TCP_RCVQ_TAKE,
        TCP_RCVQ_COLLAPSE,
        TCP_SND_REF,
        TCP_COOKIE_SHED,
        TCP_GRO_EXT6,
        TCP__N
};
_Static_assert((int)TCP_HANDOFF == (int)TCPC_HANDOFF && (int)TCP_STALE == (int)TCPC_STALE &&
                   (int)TCP_CHAINED == (int)TCPC_CHAINED,
               "l4/tcp.h's tcp_home counter ids");
_Static_assert(
    (int)TCP_OUT == (int)TCPC_OUT && (int)TCP_RST_OUT == (int)TCPC_RST_OUT &&
        (int)TCP_RST_CLOSED == (int)TCPC_RST_CLOSED && (int)TCP_OUT_FAIL == (int)TCPC_OUT_FAIL &&
        (int)TCP_OUT_FAIL + 1 == (int)TCPC_SYN_IN &&
        (int)TCP_OUT_OF_WINDOW == (int)TCPC_OUT_OF_WINDOW &&
        (int)TCP_CHALLENGE_LIMITED == (int)TCPC_CHALLENGE_LIMITED &&
        (int)TCP_SIMOPEN == (int)TCPC_SIMOPEN && (int)TCP_DACK == (int)TCPC_DACK &&
        (int)TCP_KA_PROBE == (int)TCPC_KA_PROBE && (int)TCP_TW_SYN_DROP == (int)TCPC_TW_SYN_DROP &&
        (int)TCP_SACK_RECOVERY == (int)TCPC_SACK_RECOVERY &&
        (int)TCP_DSACK_IN == (int)TCPC_DSACK_IN && (int)TCP_ACK_VEC == (int)TCPC_ACK_VEC &&
        (int)TCP_ERR_HANDOFF_FAIL == (int)TCPC_ERR_HANDOFF_FAIL &&
        (int)TCP_PACED == (int)TCPC_PACED && (int)TCP_COOKIE_LIMITED == (int)TCPC_COOKIE_LIMITED &&
        (int)TCP_GRO_IN == (int)TCPC_GRO_IN && (int)TCP_RCVQ_COLLAPSE == (int)TCPC_RCVQ_COLLAPSE &&
        (int)TCP_SND_REF == (int)TCPC_SND_REF && (int)TCP_COOKIE_SHED == (int)TCPC_COOKIE_SHED,
    "tcp.h's counter ids");

static const struct counter_reg tcp_ctrs[TCP__N] = {
    [TCP_IN] = {"tcp_in", "segments that passed the header checks"},
    [TCP_OUT] = {"tcp_out", "segments sent"},
    [TCP_RST_OUT] = {"tcp_rst_out", "resets sent"},
    [TCP_NO_CONN] = {"tcp_no_conn",
                     "drop: no connection on the port (a reset sent, RFC 9293 3.10.7.1)"},
    [TCP_RST_CLOSED] =
        {"tcp_rst_closed",
         "drop: a reset to a closed port or a listener (never answered, RFC 9293 3.10.7.1-2)"},
    [TCP_NOT_UNICAST] = {"tcp_not_unicast",
                         "drop: sent to a broadcast or multicast address (RFC 1122 4.2.3.10)"},
    [TCP_SHORT] = {"tcp_short", "drop: IP payload shorter than the 20-byte header"},
    [TCP_BAD_OFF] = {"tcp_bad_off", "drop: data offset below 5"},
    [TCP_OFF_BEYOND] = {"tcp_off_beyond", "drop: data offset beyond the segment"},
    [TCP_HDR_SPLIT] = {"tcp_hdr_split", "drop: the header split across buffers of a chain"},
    [TCP_BAD_CSUM] = {"tcp_bad_csum", "drop: bad checksum"},
    [TCP_BAD_OPT] = {"tcp_bad_opt", "drop: malformed option length (RFC 9293 3.1)"},
    [TCP_OUT_FAIL] = {"tcp_out_fail", "drop: a segment IP output refused (no route, no buffer)"},
    [TCP_SYN_IN] = {"tcp_syn_in", "SYNs a listener took (SYN_RECEIVED made)"},
    [TCP_SYNQ_FULL] = {"tcp_synq_full", "drop: a SYN to a listener whose SYN queue is full"},
    [TCP_SYNACK_RTX] = {"tcp_syn_rtx", "SYNs and SYN-ACKs retransmitted on RTO"},
    [TCP_SYNACK_GIVEUP] = {"tcp_synack_giveup",
                           "embryonic connections dropped after the last SYN-ACK went unanswered"},
    [TCP_ACCEPTED] = {"tcp_accepted", "connections established by a passive open"},
    [TCP_BAD_ACK] = {"tcp_bad_ack",
                     "drop: an unacceptable ACK in LISTEN or SYN_RECEIVED (a reset sent)"},
    [TCP_NOT_HOME] = {"tcp_not_home",
                      "drop: a segment for a connection or listener homed on another "
                      "context that could not be handed there (its ring full)"},
    [TCP_UNHANDLED] = {"tcp_unhandled",
                       "drop: a segment without ACK past LISTEN, or one a state does not take "
                       "(a RST without ACK in SYN_SENT, simultaneous open)"},
    [TCP_CHALLENGE] = {"tcp_challenge", "challenge ACKs sent (RFC 5961)"},
    [TCP_CHALLENGE_LIMITED] = {"tcp_challenge_limited",
                               "drop: a segment whose challenge ACK the rate limit held back "
                               "(RFC 5961 7)"},
    [TCP_OUT_OF_WINDOW] = {"tcp_out_of_window",
                           "drop: a segment outside the receive window (an ACK sent unless RST)"},
    [TCP_COOKIE_SENT] = {"tcp_cookie_sent", "SYN-ACKs sent with a SYN cookie (RFC 4987)"},
    [TCP_COOKIE_OK] = {"tcp_cookie_ok", "connections made from a valid SYN cookie"},
    [TCP_COOKIE_BAD] = {"tcp_cookie_bad",
                        "drop: an ACK at a listener with no valid SYN cookie (a reset sent)"},
    [TCP_COOKIE_ACCQ_FULL] = {"tcp_cookie_accq_full",
                              "drop: a valid SYN cookie whose listener's accept queue is full"},
    [TCP_RST_LIMITED] = {"tcp_rst_limited",
                         "resets not sent to a closed port or a listener: over the rate limit"},
    [TCP_SIMOPEN] = {"tcp_simopen", "simultaneous opens (RFC 9293 3.5 figure 7)"},
    [TCP_DATA_IN] = {"tcp_data_in", "segments with data taken in ESTABLISHED and later"},
    [TCP_DATA_OUT] = {"tcp_data_out", "segments with data sent (retransmissions included)"},
    [TCP_RTX] = {"tcp_rtx", "data segments retransmitted"},
    [TCP_RTO] = {"tcp_rto", "retransmission timer expiries (RFC 6298 5.4)"},
    [TCP_FAST_RTX] = {"tcp_fast_rtx", "fast retransmits (RFC 5681 3.2, RFC 6582)"},
    [TCP_OOO_DROP] = {"tcp_ooo_drop",
                      "drop: an out-of-order segment the full out-of-order queue could not hold"},
    [TCP_PAWS_DROP] = {"tcp_paws_drop", "drop: an old timestamp (PAWS, RFC 7323 5)"},
    [TCP_TIMEOUT] = {"tcp_timeout",
                     "connections given up after the last retransmission (ETIMEDOUT)"},
    [TCP_RST_UNREAD] = {"tcp_rst_unread",
                        "connections reset by a close with data unread (RFC 2525 2.17)"},
    [TCP_PERSIST] = {"tcp_persist",
                     "window probes sent: zero or too small to fill (RFC 9293 3.8.6)"},
    [TCP_DACK] = {"tcp_dack", "delayed ACKs sent by their timer"},
    [TCP_RCVBUF_GROW] = {"tcp_rcvbuf_grow", "receive buffers grown by auto-tuning"},
    [TCP_SNDBUF_GROW] = {"tcp_sndbuf_grow", "send buffers grown by auto-tuning"},
    [TCP_ACK_VEC] = {"tcp_ack_vec", "ACKs sent after a receive vector for its in-order segments"},
    [TCP_CHAINED] = {"tcp_chained",
                     "drop: a segment whose data spans buffers (reassembled fragments; "
                     "TCP sets DF)"},
    [TCP_KA_PROBE] = {"tcp_ka_probe", "keepalive probes sent (RFC 1122 4.2.3.6)"},
    [TCP_KA_TIMEOUT] = {"tcp_ka_timeout",
                        "connections reset after their keepalive probes went unanswered"},
    [TCP_LINGER_ABORT] = {"tcp_linger_abort",
                          "connections reset by SO_LINGER: close with a time of 0, or the "
                          "time passed with data unacknowledged"},
    [TCP_CORK_FLUSH] = {"tcp_cork_flush",
                        "corked data sent at the 200 ms ceiling (TCP_CORK, as Linux)"},
    [TCP_ECN_CE] = {"tcp_ecn_ce", "segments received marked CE (RFC 3168)"},
    [TCP_ECN_REDUCE] = {"tcp_ecn_reduce", "congestion windows reduced on ECE (RFC 3168 6.1.2)"},
    [TCP_PMTU_LOWER] = {"tcp_pmtu_lower",
                        "MSS lowered by fragmentation needed or packet too big (RFC 1191, 8201)"},
    [TCP_PMTU_BAD] = {"tcp_pmtu_bad",
                      "drop: an ICMP error quoting no connection or a sequence number outside "
                      "its window (RFC 5927 4.1)"},
    [TCP_BLACKHOLE] = {"tcp_blackhole",
                       "MSS lowered after repeated timeouts of full segments (RFC 4821's idea)"},
    [TCP_TW_REUSE] = {"tcp_tw_reuse", "TIME_WAIT connections reopened by a newer SYN (RFC 6191)"},
    [TCP_TW_SYN_DROP] = {"tcp_tw_syn_drop",
                         "drop: a SYN at a TIME_WAIT connection, not newer (RFC 6191)"},
    [TCP_HANDOFF] = {"tcp_handoff",
                     "segments handed to the home context of their connection or listener"},
    [TCP_STALE] = {"tcp_stale", "drop: a handed segment whose home moved or whose IP header "
                                "is not there"},
    [TCP_SACK_RECOVERY] = {"tcp_sack_recovery",
                           "loss recoveries entered from the peer's SACK blocks (RFC 6675)"},
    [TCP_SACK_RTX] = {"tcp_sack_rtx", "segments retransmitted by RFC 6675 NextSeg"},
    [TCP_RESCUE_RTX] = {"tcp_rescue_rtx", "rescue retransmissions (RFC 6675 4 rule 4)"},
    [TCP_RACK_LOST] = {"tcp_rack_lost", "segments RACK judged lost (RFC 8985 6.2)"},
    [TCP_TLP] = {"tcp_tlp", "tail loss probes sent (RFC 8985 7.3)"},
    [TCP_TLP_RECOVERED] = {"tcp_tlp_recovered",
                           "losses a tail loss probe repaired (RFC 8985 7.4.2)"},
    [TCP_DSACK_IN] = {"tcp_dsack_in", "D-SACK blocks received (RFC 2883)"},
    [TCP_ERR_HANDOFF] = {"tcp_err_handoff",
                         "ICMP errors handed to their connection's home context to be checked"},
    [TCP_ERR_HANDOFF_FAIL] =
        {"tcp_err_handoff_fail",
         "drop: an ICMP error (or its MTU for the path MTU cache) not handed over: no buffer, "
         "full ring"},
    [TCP_UNDO] = {"tcp_undo", "congestion window reductions undone: every retransmission "
                              "came back D-SACKed (RFC 3708, RFC 4015)"},
    [TCP_PACED] = {"tcp_paced", "sends held back by pacing until their time"},
    [TCP_COOKIE_LIMITED] = {"tcp_cookie_limited",
                            "drop: a SYN a cookie would answer, over its listener's cookie limit"},
    [TCP_TSO_OUT] = {"tcp_tso_out",
                     "super-segments sent: one header for many segments' data, to a link "
                     "with TSO"},
    [TCP_GRO_IN] = {"tcp_gro_in", "super-segments received whole from a link with TSO, taken "
                                  "as one segment (GRO)"},
    [TCP_RCVQ_TAKE] = {"tcp_rcvq_take",
                       "super-segments kept whole for recv to copy from, not copied into "
                       "the receive ring"},
    [TCP_RCVQ_COLLAPSE] = {"tcp_rcvq_collapse",
                           "receive queues copied into the ring (an out-of-order queue, a "
                           "bound reached, a segment for the ring)"},
    [TCP_SND_REF] = {"tcp_snd_ref",
                     "payload bytes of super-segments sent as references to the send "
                     "buffer, not copied"},
    [TCP_COOKIE_SHED] = {"tcp_cookie_shed",
                         "of tcp_cookie_limited: dropped on local delivery's vector (IPv4, IPv6), "
                         "before the rest of input"},
    [TCP_GRO_EXT6] = {"tcp_gro_ext6", "drop: an IPv6 super-segment with extension headers "
                                      "before TCP, not taken whole"},
};

static inline struct tcp_state *tcp_st(struct mpnet_stack *s)
{
        return s->g.mods[MOD_tcp].state;
}

struct tcp_state *tcp_state_of(struct mpnet_stack *s)
{
        return tcp_st(s);
}

void tcp_count(struct mpnet_stack *s, unsigned c)
{
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_tcp, c));
}

void tcp_count_n(struct mpnet_stack *s, unsigned c, uint64_t n)
{
        mpnet_counter_add(s->ctr, graph_mod_ctr(&s->g, MOD_tcp, c), n);
}

static inline void tcp_inc(struct mpnet_stack *s, enum tcp_ctr c)
{
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_tcp, c));
}

/* ---- the connection table ---- */

/* SipHash-1-3 of the tuple packed as 64-bit words: 2 for IPv4, whose
 * v4-mapped 36 bytes took 5 blocks, 5 for IPv6; the lengths differ, so an
 * IPv4 and an IPv6 tuple never hash alike. Every segment that misses the
 * context's cache pays it, a SYN flood's each: 6 SipRounds for IPv4
 * (SipHash-2-4 took 10). 1-3 is the hash-table variant (Linux's hsiphash()
 * on 64-bit, Rust's HashMap): the value keys a table and picks an
 * SO_REUSEPORT member, it is never sent, so the keyed PRF against
 * chosen-tuple chains is what it needs, not a MAC's margin. The words are
 * the host's. */
uint32_t tcp_conn_hash(const struct tcp_conn_table *ct, const struct tcp_tuple *t)
{
        uint64_t w[5], ports = (uint64_t)t->lport | (uint64_t)t->rport << 16;

        /* Both ends v4-mapped (tcp_tuple_is4() looks at the local one):
         * the 2 words then hold the whole tuple. */
        if (tcp_tuple_is4(t) && memcmp(t->raddr, t->laddr, 12) == 0) {
                uint32_t l, r;

                memcpy(&l, t->laddr + 12, 4);
                memcpy(&r, t->raddr + 12, 4);
                w[0] = (uint64_t)l | (uint64_t)r << 32;
                w[1] = ports;
                return (uint32_t)siphash13_u64(ct->key, w, 2);
        }
        memcpy(w, t->laddr, 16);
        memcpy(w + 2, t->raddr, 16);
        w[4] = ports;
        return (uint32_t)siphash13_u64(ct->key, w, 5);
}

/* The miss filter's slot of t: both addresses folded to 64 bits, the
 * salt, two multiplications (a few instructions where the SipHash
 * takes about 120). Not a defence against chosen tuples, and it need not
 * be one: a slot an attacker fills costs only the skip, never a wrong
 * answer (the table still decides). */
static uint32_t filt_mix(const struct tcp_conn_table *ct, const uint64_t l[2], const uint64_t r[2],
                         uint16_t lport, uint16_t rport)
{
        uint64_t x, y;

        /* An IPv4 address is the high half of its mapped tuple's second
         * word: turning the remote one round keeps the two apart. */
        y = r[0] ^ r[1];
        x = (l[0] ^ l[1] ^ ct->filt_salt) ^ (y >> 32 | y << 32);
        x *= 0x9e3779b97f4a7c15ull;
        x ^= (x >> 32) ^ ((uint64_t)lport << 16 | rport);
        x *= 0xbf58476d1ce4e5b9ull;
        return (uint32_t)(x >> (64 - TCP_CONN_FILT_BITS));
}

static uint32_t conn_filt_idx(const struct tcp_conn_table *ct, const struct tcp_tuple *t)
{
        uint64_t l[2], r[2];

        memcpy(l, t->laddr, 16);
        memcpy(r, t->raddr, 16);
        return filt_mix(ct, l, r, t->lport, t->rport);
}

/* The words of the v4-mapped address (::ffff:a.b.c.d) of the 4 bytes at
 * a, as conn_filt_idx() reads a tuple's. */
static void v4mapped_words(uint64_t w[2], const uint8_t *a)
{
        uint8_t b[8] = {0, 0, 0xff, 0xff, a[0], a[1], a[2], a[3]};

        w[0] = 0;
        memcpy(&w[1], b, 8);
}

/* conn_filt_maybe() of an IPv4 tuple read from the wire (la, ra: the
 * local and remote addresses' 4 bytes), without the mapped tuple. */
static bool conn_filt_maybe4(const struct tcp_conn_table *ct, const uint8_t *la, const uint8_t *ra,
                             uint16_t lport, uint16_t rport)
{
        uint64_t l[2], r[2];

        v4mapped_words(l, la);
        v4mapped_words(r, ra);
        return atomic_load_explicit(
                   &((struct tcp_conn_table *)ct)->filt[filt_mix(ct, l, r, lport, rport)],
                   memory_order_relaxed) != 0;
}

/* Under the lock (or with no reader left): one connection more (d 1) or
 * less (d -1) in t's slot; a full slot stays full. */
static void conn_filt_add(struct tcp_conn_table *ct, const struct tcp_tuple *t, int d)
{
        _Atomic uint16_t *f = &ct->filt[conn_filt_idx(ct, t)];
        uint16_t n = atomic_load_explicit(f, memory_order_relaxed);

        if (n != UINT16_MAX)
                atomic_store_explicit(f, (uint16_t)(n + d), memory_order_relaxed);
}

/* Whether t may have a connection: false is sure (its slot counts none).
 * Inline: every segment's lookup asks it. */
static inline __attribute__((always_inline)) bool conn_filt_maybe(const struct tcp_conn_table *ct,
                                                                  const struct tcp_tuple *t)
{
        return atomic_load_explicit(&((struct tcp_conn_table *)ct)->filt[conn_filt_idx(ct, t)],
                                    memory_order_relaxed) != 0;
}

static bool tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
        return a->lport == b->lport && a->rport == b->rport &&
               memcmp(a->laddr, b->laddr, 16) == 0 && memcmp(a->raddr, b->raddr, 16) == 0;
}

struct tcp_conn *tcp_conn_lookup(const struct tcp_conn_table *ct, const struct tcp_tuple *t)
{
        return tcp_conn_lookup_h(ct, t, tcp_conn_hash(ct, t));
}

struct tcp_conn *tcp_conn_lookup_h(const struct tcp_conn_table *ct, const struct tcp_tuple *t,
                                   uint32_t h)
{
        _Atomic uint32_t *seqp = &((struct tcp_conn_table *)ct)->seq;

        for (;;) {
                uint32_t q = atomic_load_explicit(seqp, memory_order_acquire);
                struct tcp_conn_buckets *bk = tcp_conn_bk(ct);
                struct tcp_conn *c =
                    bk == NULL ? NULL
                               : atomic_load_explicit(&bk->b[h & bk->mask], memory_order_acquire);

                for (; c != NULL; c = atomic_load_explicit(&c->next, memory_order_acquire)) {
                        if (c->hash == h && tuple_eq(&c->t, t))
                                return c;
                }
                /* A miss is only sure when no resize ran meanwhile. */
                atomic_thread_fence(memory_order_acquire);
                if (!(q & 1) && atomic_load_explicit(seqp, memory_order_relaxed) == q)
                        return NULL;
        }
}

static void bk_free(void *bk)
{
        free(bk);
}

/* Under the lock: relink every entry into an array of twice the chains
 * (a failed allocation leaves the chains longer, nothing else). @return
 * the old array, for the caller to free after a grace period once it let
 * the lock go (a leaf), or NULL. */
static struct tcp_conn_buckets *table_grow(struct tcp_conn_table *ct)
{
        struct tcp_conn_buckets *old = atomic_load_explicit(&ct->bk, memory_order_relaxed), *nb;
        unsigned n = old == NULL ? TCP_CONN_BUCKETS_MIN : (old->mask + 1) * 2;
        uint32_t q = atomic_load_explicit(&ct->seq, memory_order_relaxed);

        nb = calloc(1, sizeof(*nb) + n * sizeof(nb->b[0]));
        if (nb == NULL)
                return NULL;
        nb->mask = n - 1;
        atomic_store_explicit(&ct->seq, q + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        for (unsigned i = 0; old != NULL && i <= old->mask; i++) {
                struct tcp_conn *c = atomic_load_explicit(&old->b[i], memory_order_relaxed);

                while (c != NULL) {
                        struct tcp_conn *nx = atomic_load_explicit(&c->next, memory_order_relaxed);
                        struct tcp_conn *_Atomic *head = &nb->b[c->hash & nb->mask];

                        atomic_store_explicit(&c->next,
                                              atomic_load_explicit(head, memory_order_relaxed),
                                              memory_order_release);
                        atomic_store_explicit(head, c, memory_order_relaxed);
                        c = nx;
                }
        }
        atomic_store_explicit(&ct->bk, nb, memory_order_release);
        atomic_store_explicit(&ct->seq, q + 2, memory_order_release);
        if (old != NULL)
                ct->n_touched = TCP_CONN_TOUCHED + 1; /* the chains moved */
        return old;
}

/* Under the lock: chain i holds a connection since the last clear. */
static void chain_touched(struct tcp_conn_table *ct, uint32_t i)
{
        if (ct->n_touched > TCP_CONN_TOUCHED)
                return;
        for (unsigned k = 0; k < ct->n_touched; k++) {
                if (ct->touched[k] == i)
                        return;
        }
        if (ct->n_touched < TCP_CONN_TOUCHED)
                ct->touched[ct->n_touched] = i;
        ct->n_touched++;
}

/* The k-th chain a clear visits (k < chains_end()): the touched ones when
 * they were few, else every one. */
static unsigned chains_end(const struct tcp_conn_table *ct, const struct tcp_conn_buckets *bk)
{
        return ct->n_touched > TCP_CONN_TOUCHED ? bk->mask + 1 : ct->n_touched;
}

static uint32_t chain_at(const struct tcp_conn_table *ct, unsigned k)
{
        return ct->n_touched > TCP_CONN_TOUCHED ? k : ct->touched[k];
}

/* c in front of the context's cache, its entries valid for gen. */
static void last_put(struct tcp_ctx *tc, struct tcp_conn *c, uint64_t gen)
{
        tc->last[1] = tc->last_gen == gen && tc->last[0] != c ? tc->last[0] : NULL;
        tc->last[0] = c;
        tc->last_gen = gen;
}

int tcp_conn_insert(struct mpnet_stack *s, struct tcp_conn_table *ct, struct tcp_conn *c)
{
        /* Inserts run on c's home context (connect, a listener's SYN). */
        struct tcp_ctx *tc = tcp_home_w(s, c)->mctx[MOD_tcp];
        struct tcp_conn_buckets *bk, *old = NULL;
        struct tcp_conn *_Atomic *head;
        bool grow;

        /* A SYN's tuple was hashed by its input's lookup: once a segment. */
        c->hash =
            tc->in_t != NULL && tuple_eq(tc->in_t, &c->t) ? tc->in_h : tcp_conn_hash(ct, &c->t);
        pthread_mutex_lock(&ct->lock);
        if (tcp_conn_lookup_h(ct, &c->t, c->hash) != NULL) {
                pthread_mutex_unlock(&ct->lock);
                return -EEXIST;
        }
        bk = atomic_load_explicit(&ct->bk, memory_order_relaxed);
        grow = bk != NULL && ct->n > bk->mask && bk->mask + 1 < TCP_CONN_BUCKETS_MAX;
        /* The first array on any context (nothing to free); a resize on
         * the control thread, whose stack_defer() frees the old array
         * (a worker's insert leaves it to the control thread's service). */
        if (bk == NULL || (grow && c->home == 0)) {
                old = table_grow(ct);
                bk = atomic_load_explicit(&ct->bk, memory_order_relaxed);
                if (bk == NULL) {
                        pthread_mutex_unlock(&ct->lock);
                        return -ENOMEM;
                }
                grow = false;
        }
        head = &bk->b[c->hash & bk->mask];
        /* Counted before it is published: a reader that finds c in its
         * chain would have found its slot counted. */
        conn_filt_add(ct, &c->t, 1);
        atomic_store_explicit(&c->next, atomic_load_explicit(head, memory_order_relaxed),
                              memory_order_relaxed);
        atomic_store_explicit(head, c, memory_order_release);
        chain_touched(ct, c->hash & bk->mask);
        ct->n++;
        pthread_mutex_unlock(&ct->lock);
        /* The peer's next segment is for c (the SYN-ACK, the handshake's
         * ACK): the context's cache has it without a hash. Nothing was
         * unlinked since gen was read (a reader's rule, as below). */
        last_put(tc, c, atomic_load_explicit(&ct->gen, memory_order_acquire));
        if (old != NULL)
                stack_defer(s, bk_free, old);
        if (grow)
                ctx_kick(s, 0);
        return 0;
}

void tcp_conn_table_grow(struct mpnet_stack *s)
{
        struct tcp_conn_table *ct = &tcp_st(s)->ct;
        struct tcp_conn_buckets *bk, *old = NULL;

        pthread_mutex_lock(&ct->lock);
        bk = atomic_load_explicit(&ct->bk, memory_order_relaxed);
        if (bk != NULL && ct->n > bk->mask && bk->mask + 1 < TCP_CONN_BUCKETS_MAX)
                old = table_grow(ct);
        pthread_mutex_unlock(&ct->lock);
        if (old != NULL)
                stack_defer(s, bk_free, old);
}

void tcp_conn_remove(struct mpnet_stack *s, struct tcp_conn_table *ct, struct tcp_conn *c)
{
        struct tcp_conn_buckets *bk;
        struct tcp_conn *_Atomic *pp;
        struct tcp_conn *x = NULL;

        pthread_mutex_lock(&ct->lock);
        bk = atomic_load_explicit(&ct->bk, memory_order_relaxed);
        pp = bk != NULL ? &bk->b[c->hash & bk->mask] : NULL;
        while (pp != NULL && (x = atomic_load_explicit(pp, memory_order_relaxed)) != NULL && x != c)
                pp = &x->next;
        if (x == c) {
                /* A reader on c still finds its successor: c->next stays. */
                atomic_store_explicit(pp, atomic_load_explicit(&c->next, memory_order_relaxed),
                                      memory_order_release);
                conn_filt_add(ct, &c->t, -1); /* after the unlink */
                ct->n--;
                atomic_fetch_add_explicit(&ct->gen, 1, memory_order_release);
        }
        pthread_mutex_unlock(&ct->lock);
        if (x == c)
                tcp_conn_retire(s, c);
}

int mpnet_tcp_mem(struct mpnet_stack *s, struct mpnet_tcp_mem *m)
{
        /* A socket is a whole number of cache lines (l4/socket.c). */
        const size_t so_size = (sizeof(struct mpnet_sock) + 63) / 64 * 64 + sizeof(void *);
        struct tcp_conn_buckets *bk;
        size_t bufs = 0;

        if (s == NULL || m == NULL)
                return -EINVAL;
        bk = tcp_conn_bk(&tcp_st(s)->ct);
        *m = (struct mpnet_tcp_mem){0};
        if (bk == NULL)
                return 0;
        m->conn_bytes = sizeof(*bk) + (bk->mask + 1ull) * sizeof(bk->b[0]);
        for (unsigned i = 0; i <= bk->mask; i++) {
                struct tcp_conn *c = atomic_load_explicit(&bk->b[i], memory_order_acquire);

                for (; c != NULL; c = atomic_load_explicit(&c->next, memory_order_acquire)) {
                        m->conns++;
                        m->conn_bytes += sizeof(*c) + tcp_data_mem(c, &bufs);
                        if (c->so != NULL)
                                m->conn_bytes += so_size;
                }
        }
        m->buf_bytes = bufs;
        return 0;
}

/* Free every connection at once: no reader is left (fini, reset). */
static void conn_table_clear(struct tcp_conn_table *ct)
{
        struct tcp_conn_buckets *bk = atomic_load_explicit(&ct->bk, memory_order_relaxed);
        unsigned left = ct->n;

        /* The chains inserted into, up to the last connection: nothing
         * held leaves the buckets' pages untouched, a few (a reset after
         * each fuzz input) do not walk all 4,096 chains. */
        for (unsigned k = 0; bk != NULL && left != 0 && k < chains_end(ct, bk); k++) {
                uint32_t i = chain_at(ct, k);
                struct tcp_conn *c = atomic_load_explicit(&bk->b[i], memory_order_relaxed);

                atomic_store_explicit(&bk->b[i], NULL, memory_order_relaxed);
                while (c != NULL) {
                        struct tcp_conn *next =
                            atomic_load_explicit(&c->next, memory_order_relaxed);

                        conn_filt_add(ct, &c->t, -1);
                        tcp_conn_free(c);
                        left--;
                        c = next;
                }
        }
        ct->n = 0;
        ct->n_touched = 0;
        atomic_fetch_add_explicit(&ct->gen, 1, memory_order_release);
}

/* The connection of t: one of the context's last two when it is still in
 * the table and t is its tuple (no hash: the table's keyed SipHash, which
 * keeps hash flooding off the buckets, is untouched and runs on every
 * miss, so a flood of other tuples gets no cheaper path), else the table's
 * (*h its hash, for the PCB lookup that follows a miss). A table reader:
 * the gen read (acquire) before the walk sees every unlink before it, so
 * a cached entry whose gen still matches was not unlinked and freed. */
static struct tcp_conn *conn_lookup_cached(struct wctx *w, struct tcp_conn_table *ct,
                                           const struct tcp_tuple *t, uint32_t *h)
{
        struct tcp_ctx *tc = w->mctx[MOD_tcp];
        uint64_t gen = atomic_load_explicit(&ct->gen, memory_order_acquire);
        struct tcp_conn *c;

        if (tc->last_gen == gen) {
                for (unsigned i = 0; i < 2; i++) {
                        c = tc->last[i];
                        if (c != NULL && tuple_eq(&c->t, t))
                                return c;
                }
        }
        /* No connection in t's slot: none for t, no hash (*h stays 0; the
         * PCB lookup hashes only for an SO_REUSEPORT group). */
        if (!conn_filt_maybe(ct, t))
                return NULL;
        *h = tcp_conn_hash(ct, t);
        c = tcp_conn_lookup_h(ct, t, *h);
        if (c != NULL)
                last_put(tc, c, gen);
        return c;
}

/* What workers retired and the control thread has not deferred yet: no
 * reader is left (fini, reset). */
static void dead_free(struct tcp_state *st)
{
        struct tcp_conn *c = atomic_exchange_explicit(&st->dead, NULL, memory_order_acquire);

        while (c != NULL) {
                struct tcp_conn *nx = c->qnext;

                tcp_conn_free(c);
                c = nx;
        }
}

/* ---- input ---- */

/* The one's-complement sum of the n bytes of a chain, pseudo-header sum
 * first: a buffer that starts at an odd offset has its sum byte-swapped
 * (RFC 1071 2(B): the sum is independent of byte order up to a swap). */
static uint64_t chain_csum(const struct mpnet_pkt *p, uint32_t n, uint64_t sum)
{
        uint32_t done = 0;

        while (p != NULL && done < n) {
                uint32_t k = n - done < p->len ? n - done : p->len;
                uint16_t part = (uint16_t)~mpnet_csum_fold(mpnet_csum_add(0, p->data, k));

                sum += (done % 2 == 0) ? part : (uint16_t)(part >> 8 | part << 8);
                done += k;
                p = p->next;
        }
        return sum;
}

/* Answer a segment that found no connection (RFC 9293 3.10.7.1, state
 * CLOSED): a reset is never answered; otherwise, with ACK off,
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; with ACK on,
 * <SEQ=SEG.ACK><CTL=RST>. */
static void tcp_closed(struct wctx *w, const struct tcp_tuple *t, const struct mpnet_tcp_view *v)
{
        struct mpnet_stack *s = w->s;
        uint16_t f = mpnet_tcp_flags(v);
        struct tcp_seg_out o = {.t = t};

        if (f & MPNET_TCP_RST) {
                tcp_inc(s, TCP_RST_CLOSED);
                return;
        }
        tcp_inc(s, TCP_NO_CONN);
        if (!tcp_rst_allow(w))
                return;
        if (f & MPNET_TCP_ACK) {
                o.seq = mpnet_tcp_ack(v);
                o.flags = MPNET_TCP_RST;
        } else {
                o.ack = mpnet_tcp_seq(v) + mpnet_tcp_seg_len(v);
                o.flags = MPNET_TCP_RST | MPNET_TCP_ACK;
        }
        if (tcp_output(w, &o, NULL) != 0) {
                tcp_inc(s, TCP_OUT_FAIL);
                return;
        }
        tcp_inc(s, TCP_OUT);
        tcp_inc(s, TCP_RST_OUT);
}

/* The header checks of a segment at p->data (pkt_len its length), enough
 * to read its ports and flags. @return false: dropped and counted. */
static bool tcp_check_hdr(struct mpnet_stack *s, const struct mpnet_pkt *p,
                          struct mpnet_tcp_view *v)
{
        if (p->len < MPNET_TCP_HLEN) {
                tcp_inc(s, p->pkt_len < MPNET_TCP_HLEN ? TCP_SHORT : TCP_HDR_SPLIT);
                return false;
        }
        switch (mpnet_tcp_view_check(p->data, p->pkt_len, v)) {
        case 0:
                break;
        case -MPNET_WIRE_BAD_HLEN:
                tcp_inc(s, TCP_BAD_OFF);
                return false;
        case -MPNET_WIRE_BAD_LEN:
                tcp_inc(s, TCP_OFF_BEYOND);
                return false;
        default:
                tcp_inc(s, TCP_SHORT);
                return false;
        }
        if (p->len < mpnet_tcp_hlen(v)) {
                tcp_inc(s, TCP_HDR_SPLIT);
                return false;
        }
        return true;
}

/* The rest of a segment's checks, its checksum and options, parsed into
 * r; laddr, raddr v4-mapped for IPv4. @return false: dropped and counted. */
static bool tcp_check_seg(struct mpnet_stack *s, const struct mpnet_pkt *p, unsigned fam,
                          const uint8_t *laddr, const uint8_t *raddr,
                          const struct mpnet_tcp_view *v, struct mpnet_tcp_repr *r)
{
        uint64_t sum;

        if (!(p->ol_flags & MPNET_PKT_F_L4_CSUM_OK)) {
                sum = fam == 4
                          ? mpnet_tcp4_pseudo(addr_v4(raddr), addr_v4(laddr), (uint16_t)p->pkt_len)
                          : mpnet_tcp6_pseudo(raddr, laddr, p->pkt_len);
                /* A bare header (a SYN, an ACK) inline, anything else
                 * through the general sum. */
                if (p->len == p->pkt_len && p->pkt_len <= MPNET_TCP_HLEN_MAX &&
                    (p->pkt_len & 3) == 0)
                        sum = mpnet_csum_hdr(sum, p->data, p->pkt_len);
                else
                        sum = chain_csum(p, p->pkt_len, sum);
                if (mpnet_csum_fold(sum) != 0) {
                        tcp_inc(s, TCP_BAD_CSUM);
                        return false;
                }
        }
        if (mpnet_tcp_repr_parse(v, r) != 0) {
                tcp_inc(s, TCP_BAD_OPT);
                return false;
        }
        return true;
}

struct conn_hash_arg {
        const struct tcp_conn_table *ct;
        const struct tcp_tuple *t;
};

static uint32_t conn_hash_of(const void *arg)
{
        const struct conn_hash_arg *a = arg;

        return tcp_conn_hash(a->ct, a->t);
}

/* The socket bound to or listening on t's local end (h: t's table hash;
 * 0 when not yet computed, and then computed only for an SO_REUSEPORT
 * group). An SO_REUSEPORT group prefers its member homed here: a SYN is
 * taken by the worker that receives it, which then owns the
 * connection. */
static struct mpnet_sock *tcp_pcb_find(struct wctx *w, const struct mpnet_iface *ifp, unsigned fam,
                                       const struct tcp_tuple *t, uint32_t *h)
{
        struct tcp_state *st = tcp_st(w->s);
        struct pcb_key k = {.fam = (uint8_t)fam,
                            .ifindex = (uint8_t)ifp->ifindex,
                            .sport = t->rport,
                            .dport = t->lport};

        memcpy(k.saddr, t->raddr, 16);
        memcpy(k.daddr, t->laddr, 16);
        /* A connection found in the cache or a slot of the miss filter
         * that counts none left h unset (a hash of 0 is merely computed
         * again). */
        if (*h == 0)
                return pcb_lookup_lazy(st->pcb, &k, w->id, conn_hash_of,
                                       &(struct conn_hash_arg){&st->ct, t}, h);
        return pcb_lookup(st->pcb, &k, w->id, *h);
}

/* Whether so is a listener this context may read (its home). */
static bool tcp_listener_here(const struct wctx *w, const struct mpnet_sock *so)
{
        return so != NULL && sock_home(so) == w->id && (so->flags & SOF_LISTEN) && so->tcp != NULL;
}

void tcp_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned fam,
               const uint8_t *laddr, const uint8_t *raddr, unsigned how, uint8_t ecn)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_tcp_view v;
        struct mpnet_tcp_repr r;
        struct tcp_tuple t;
        struct tcp_ctx *tc = w->mctx[MOD_tcp];
        struct tcp_conn *c;
        struct mpnet_sock *so = NULL;
        struct mpnet_sock *lso;
        uint32_t h = 0, ev, lev;
        bool looked = false;

        if (how & TCP_IN_NOT_UNICAST) {
                tcp_inc(s, TCP_NOT_UNICAST);
                goto out;
        }
        if (!tcp_check_hdr(s, p, &v))
                goto out;
        memcpy(t.laddr, laddr, 16);
        memcpy(t.raddr, raddr, 16);
        t.lport = mpnet_tcp_dport(&v);
        t.rport = mpnet_tcp_sport(&v);
        c = conn_lookup_cached(w, &tcp_st(s)->ct, &t, &h); /* h: the PCB lookup's */
        if (c == NULL) {
                so = tcp_pcb_find(w, ifp, fam, &t, &h);
                looked = true;
                /* A flood's SYNs past the listener's cookie limit stop
                 * here, before the checksum and the option walk (l4/
                 * tcp_listen.c). */
                if (tcp_listener_here(w, so) && tcp_cookie_limited(w, so, mpnet_tcp_flags(&v)))
                        goto out;
        }
        if (!tcp_check_seg(s, p, fam, laddr, raddr, &v, &r))
                goto out;
        /* The data path reads the payload through the view, one buffer,
         * or, for a link's super-segment (GRO) with the whole header in
         * its first buffer, from the chain (tc->rx_chain). */
        if (p->len < p->pkt_len && !(p->ol_flags & MPNET_PKT_F_TSO)) {
                tcp_inc(s, TCP_CHAINED);
                goto out;
        }
        /* Over IPv6 a super-segment is taken whole only with TCP right
         * after the fixed header, the shape this stack's TSO builds: the
         * segments it stands for would each carry the extension headers
         * (RFC 8200 4.1), options no one processed for them. Dropped and
         * counted; the sender's retransmissions go as segments. */
        if (__builtin_expect((p->ol_flags & MPNET_PKT_F_TSO) != 0, 0) && fam == 6 &&
            p->len < p->pkt_len && p->l4_off - p->l3_off != MPNET_IP6_HLEN) {
                tcp_inc(s, TCP_GRO_EXT6);
                goto out;
        }
        if (!(how & TCP_IN_HANDED))
                tcp_inc(s, TCP_IN);
        tc->rx_ecn = ecn;
        /* c's state is its home's: read there only. */
        if (c != NULL && c->home == w->id && c->state == TCP_TIME_WAIT) {
                bool take = false;

                if (!tcp_tw_reopen(w, c, &r, &take) && !take)
                        goto out;
                if (!take)
                        c = NULL; /* RFC 6191: a new incarnation, to the listener */
        }
        if (c != NULL) {
                /* Only the home touches c: elsewhere, hand the segment
                 * there (once: a home that moved meanwhile drops it). */
                if (c->home != w->id) {
                        if (how & TCP_IN_HANDED)
                                tcp_inc(s, TCP_STALE);
                        else {
                                tcp_handoff(w, c->home, p);
                                return;
                        }
                        goto out;
                }
                so = c->so;
                ev = so != NULL ? sock_events(so) : 0;
                /* An embryo's listener: the callback learns of a
                 * connection to accept (the handshake's last ACK). */
                lso = c->lso;
                lev = lso != NULL ? sock_events(lso) : 0;
                if (p->len < p->pkt_len) {
                        tcp_inc(s, TCP_GRO_IN);
                        tc->rx_chain = p;
                }
                tc->rx_pkt = p;
                tcp_conn_input(w, c, &v, &r, atomic_load(&ifp->mtu));
                tc->rx_chain = NULL;
                tc->rx_pkt = NULL;
                if (tc->rx_taken) {
                        tc->rx_taken = false;
                        p = NULL; /* the receive queue holds it (l4/tcp_data.c) */
                }
                tcp_sock_cb_vec(w, so, ev);
                tcp_sock_cb(w, lso, lev);
                goto out;
        }
        if (!looked)
                so = tcp_pcb_find(w, ifp, fam, &t, &h);
        /* Its flags are its home's: the home tells a listener. */
        if (so != NULL && sock_home(so) != w->id) {
                if (how & TCP_IN_HANDED) {
                        tcp_inc(s, TCP_STALE);
                        goto out;
                }
                tcp_handoff(w, sock_home(so), p);
                return;
        }
        if (tcp_listener_here(w, so)) {
                /* A listener's path reads one buffer: a super-segment (the
                 * handshake's ACK with data, SYN cookies) goes; its sender
                 * sends it again. */
                if (p->len < p->pkt_len) {
                        tcp_inc(s, TCP_CHAINED);
                        goto out;
                }
                ev = sock_events(so);
                /* For the SYN's tcp_conn_insert, when the lookups hashed t. */
                tc->in_t = h != 0 ? &t : NULL;
                tc->in_h = h;
                tc->in_p = p;
                tcp_listen_input(w, so, &t, &v, &r, atomic_load(&ifp->mtu));
                p = tc->in_p; /* NULL: a SYN-ACK took it */
                tc->in_t = NULL;
                tc->in_p = NULL;
                tcp_sock_cb(w, so, ev);
                goto out;
        }
        tcp_closed(w, &t, &v);
out:
        tcp_st(s)->tw_iss_on[w->id] = false; /* what tcp_tw_reopen() left for this SYN */
        mpnet_pkt_free(p);
}

static void tcp4_l4(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const void *repr)
{
        const struct mpnet_ip4_repr *ip = repr;
        uint8_t l[16], r[16];

        addr_v4mapped(l, ip->dst);
        addr_v4mapped(r, ip->src);
        /* A unicast address in a broadcast frame is a directed broadcast
         * (or a frame meant for another host): either way not ours alone. */
        tcp_input(w, ifp, p, 4, l, r,
                  (p->ol_flags & MPNET_PKT_F_L2_BCAST) != 0 || mpnet_ip4_is_multicast(ip->dst) ||
                          mpnet_ip4_is_limited_bcast(ip->dst)
                      ? TCP_IN_NOT_UNICAST
                      : 0,
                  ip->tos & 3);
}

/* Whether the IPv4 datagram at b (len bytes, one buffer, checked by
 * ip4-input) is, read at fixed offsets, a TCP SYN alone (RFC 9293
 * 3.10.7.2's order: RST, then ACK, then SYN) of a 20-byte IPv4 header
 * and a TCP header tcp_check_hdr() would take, to a unicast address and
 * not a fragment: what a listener's cookie limit may drop. */
static bool ip4_tcp_syn_alone(const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        uint32_t dst, thl;

        if (p->next != NULL || p->len < MPNET_IP4_HLEN + MPNET_TCP_HLEN || b[0] != 0x45 ||
            b[9] != MPNET_IPPROTO_TCP || (mpnet_get_be16(b + 6) & 0x3fff) != 0 ||
            (b[33] & (MPNET_TCP_SYN | MPNET_TCP_ACK | MPNET_TCP_RST)) != MPNET_TCP_SYN ||
            (p->ol_flags & MPNET_PKT_F_L2_BCAST))
                return false;
        thl = (uint32_t)(b[32] >> 4) * 4;
        dst = mpnet_get_be32(b + 16);
        return thl >= MPNET_TCP_HLEN && thl <= p->len - MPNET_IP4_HLEN &&
               !mpnet_ip4_is_multicast(dst) && !mpnet_ip4_is_limited_bcast(dst);
}

/* The tuple of the IPv4 TCP segment at b (20-byte IP header). */
static void tuple4(struct tcp_tuple *t, const uint8_t *b, uint16_t lport, uint16_t rport)
{
        addr_v4mapped(t->laddr, mpnet_get_be32(b + 16));
        addr_v4mapped(t->raddr, mpnet_get_be32(b + 12));
        t->lport = lport;
        t->rport = rport;
}

/*
 * IPv6's: a SYN alone right after the fixed header (no extension header:
 * ip6_local_one() walks those), to a unicast destination, its TCP header
 * whole in the first buffer. A fragment's first piece has a fragment
 * header, so it never passes.
 */
static bool ip6_tcp_syn_alone(const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        uint32_t thl;

        if (p->next != NULL || p->len < MPNET_IP6_HLEN + MPNET_TCP_HLEN ||
            b[6] != MPNET_IPPROTO_TCP || b[24] == 0xff ||
            (b[MPNET_IP6_HLEN + 13] & (MPNET_TCP_SYN | MPNET_TCP_ACK | MPNET_TCP_RST)) !=
                MPNET_TCP_SYN ||
            (p->ol_flags & MPNET_PKT_F_L2_BCAST))
                return false;
        thl = (uint32_t)(b[MPNET_IP6_HLEN + 12] >> 4) * 4;
        return thl >= MPNET_TCP_HLEN && thl <= p->len - MPNET_IP6_HLEN;
}

/* Whether the addresses at a and b (4 bytes or 16, fam) are one: fixed
 * loads, not a call. */
static inline __attribute__((always_inline)) bool same_addr(const uint8_t *a, const uint8_t *b,
                                                            unsigned fam)
{
        uint64_t x[2], y[2];

        if (fam == 4)
                return mpnet_get_be32(a) == mpnet_get_be32(b);
        memcpy(x, a, 16);
        memcpy(y, b, 16);
        return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/*
 * Local delivery's shed (graph.h, l4_shed_fn), IPv4's and IPv6's: while
 * the listeners have a cookie limit (mpnet_tcp_set_cookie_limit, on by
 * default), a flood's SYNs past it are dropped here, on the vector, before
 * ip4_local_one() or ip6_local_one() and tcp_input(): the fixed-offset
 * test above, the connection lookup (its miss filter), the listener's PCB
 * lookup once for a run of SYNs to one local address and port (per tuple
 * where an SO_REUSEPORT group picks a member), its bucket read once
 * (tcp_cookie_budget(), at the vector's time; taking nothing: the SYNs it
 * has tokens for take them in tcp_input()), counted once and freed with
 * the vector's other drops. Anything else (a SYN of a connection, a
 * listener homed elsewhere, one a cookie would not answer, one with a
 * token) goes on to tcp_input(), which decides as before. Skipped while a
 * raw socket taps local delivery or the interface has a local-in feature:
 * they see every datagram first. Unlike tcp_input()'s check it does not
 * see what local delivery tests of the datagram besides: over IPv4 a
 * source that is one of our own addresses (RFC 1122 3.2.1.3), over IPv6
 * a destination still tentative (RFC 4862 5.4): such a SYN past the limit
 * is counted as limited rather than as ip4_bad_src or ip6_not_for_us,
 * dropped either way.
 */
static inline __attribute__((always_inline)) unsigned
tcp_shed(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p, unsigned n,
         struct mpnet_pkt **drop, unsigned *nd, unsigned fam)
{
        struct mpnet_stack *s = w->s;
        struct tcp_state *st = tcp_st(s);
        struct mpnet_sock *so = NULL, *bso = NULL; /* bso: budget's */
        const uint8_t *last_dst = NULL;
        uint16_t last_port = 0;
        bool have = false;
        unsigned k = 0, d = *nd, budget = 0, l4 = fam == 4 ? MPNET_IP4_HLEN : MPNET_IP6_HLEN;
        uint64_t now = 0;

        if (atomic_load_explicit(&st->lc.cookie_rate, memory_order_relaxed) == 0 ||
            atomic_load_explicit(&s->l4_tap_any, memory_order_relaxed) ||
            atomic_load_explicit(&ifp->arcs[ARC_LOCAL_IN], memory_order_acquire) != NULL)
                return n;
        for (unsigned i = 0; i < n; i++) {
                struct mpnet_pkt *q = p[i];
                const uint8_t *b = q->data, *dst;
                struct tcp_tuple t;
                uint32_t h = 0;
                uint16_t port, rport;
                bool maybe;

                if (!(fam == 4 ? ip4_tcp_syn_alone(q) : ip6_tcp_syn_alone(q)))
                        goto keep;
                dst = fam == 4 ? b + 16 : b + 24;
                port = mpnet_get_be16(b + l4 + 2);
                rport = mpnet_get_be16(b + l4);
                /* The miss filter first, from the wire: a flood's tuple is
                 * no connection's (the context's last two, tcp_input()'s
                 * shortcut, are the flow's; the table finds them too). */
                if (fam == 4) {
                        maybe = conn_filt_maybe4(&st->ct, b + 16, b + 12, port, rport);
                        if (maybe)
                                tuple4(&t, b, port, rport);
                } else {
                        memcpy(t.laddr, b + 24, 16);
                        memcpy(t.raddr, b + 8, 16);
                        t.lport = port;
                        t.rport = rport;
                        maybe = conn_filt_maybe(&st->ct, &t);
                }
                if (maybe) {
                        h = tcp_conn_hash(&st->ct, &t);
                        if (tcp_conn_lookup_h(&st->ct, &t, h) != NULL)
                                goto keep;
                }
                /* A listener found here already this vector (cached only
                 * when it was) or a new lookup. */
                if (!have || !same_addr(dst, last_dst, fam) || port != last_port || h != 0) {
                        bool hashed = h != 0;

                        if (fam == 4 && !hashed)
                                tuple4(&t, b, port, rport);
                        so = tcp_pcb_find(w, ifp, fam, &t, &h);
                        if (!tcp_listener_here(w, so)) {
                                have = false;
                                goto keep;
                        }
                        /* Without a hash the PCB lookup read only the
                         * local end (TCP's table holds no connected
                         * entries): the same listener for the vector's
                         * other sources. A group's member is the tuple's. */
                        have = !hashed && h == 0;
                        last_dst = dst;
                        last_port = port;
                        if (so != bso) {
                                if (now == 0)
                                        now = ctx_now(w);
                                bso = so;
                                budget = tcp_cookie_budget(w, so, now);
                        }
                }
                /* The SYNs the bucket has tokens for go on to take them
                 * in tcp_input(); the rest stop here. */
                if (budget != 0) {
                        if (budget != UINT_MAX)
                                budget--;
                        goto keep;
                }
                drop[d++] = q;
                continue;
        keep:
                p[k++] = q;
        }
        if (d != *nd) {
                tcp_count_n(s, TCPC_COOKIE_LIMITED, d - *nd);
                tcp_count_n(s, TCPC_COOKIE_SHED, d - *nd);
        }
        *nd = d;
        return k;
}

static unsigned tcp4_shed(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p, unsigned n,
                          struct mpnet_pkt **drop, unsigned *nd)
{
        return tcp_shed(w, ifp, p, n, drop, nd, 4);
}

static unsigned tcp6_shed(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p, unsigned n,
                          struct mpnet_pkt **drop, unsigned *nd)
{
        return tcp_shed(w, ifp, p, n, drop, nd, 6);
}

static void tcp6_l4(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const void *repr)
{
        const struct mpnet_ip6_repr *ip = repr;

        tcp_input(w, ifp, p, 6, ip->dst, ip->src,
                  (p->ol_flags & MPNET_PKT_F_L2_BCAST) != 0 || mpnet_ip6_is_multicast(ip->dst)
                      ? TCP_IN_NOT_UNICAST
                      : 0,
                  ip->traffic_class & 3);
}

/* ---- the module ---- */

static void set_free(void *set)
{
        pcb_set_free(set);
}

static void tcp_retire(void *arg, struct pcb_set *old)
{
        stack_defer(arg, set_free, old);
}

static uint64_t tcp_service(struct wctx *w, void *cs, uint64_t now)
{
        uint64_t a, b;

        (void)cs;
        if (w->id == 0) {
                tcp_dead_flush(w->s);
                tcp_conn_table_grow(w->s);
        }
        a = tcp_timers(w, now);
        b = tcp_data_timers(w, now);
        return a < b ? a : b;
}

/* stack_reset(): the connections go with the table (tcp_reset). */
static void tcp_ctx_reset(struct wctx *w, void *cs)
{
        struct tcp_ctx *x = cs;

        (void)w;
        x->tq = NULL;
        x->embryo = NULL;
        x->n_vcb = x->n_vack = 0;
        x->last[0] = x->last[1] = NULL;
        x->tw.next = x->tw.prev = NULL; /* its connections went with the table */
}

static void tcp_ctx_fini(struct wctx *w, void *cs)
{
        (void)w;
        tcp_ring_cache_free(cs);
}

static int tcp_init(struct mpnet_stack *s, void *state)
{
        struct tcp_state *st = state;
        uint64_t k0 = stack_random(s), k1 = stack_random(s);

        int node = graph_node_find(&s->g, "tcp-deliver"),
            err_node = graph_node_find(&s->g, "tcp-err");

        if (node < 0 || err_node < 0)
                return -EINVAL;
        st->s = s;
        st->deliver_node = (unsigned)node;
        st->err_node = (unsigned)err_node;
        st->msl_ns = TCP_MSL_NS_DEFAULT;
        /* Auto-tuning off by default (mpnet_tcp_set_autotune() turns it on):
         * on a memory wire eight flows' grown windows still cost 1.2 - 1.3
         * times the CPU a byte of the default 208 KiB ones with the
         * in-flight bound (flight_cap, l4/tcp_data.c): what a receiver holds
         * behind its grown window still misses the cache (docs/
         * PERFORMANCE.md, "What is in flight, not the buffers", "The
         * receiver's round trip in us"): on a
         * loaded machine the round trip the receiver times in us is itself
         * that of threads waiting for a CPU, and the application reads in
         * bursts, so the windows still grow past what the wire needs. */
        st->rmem_max = st->wmem_max = 0;
        st->pacing = true;
        st->ecn = MPNET_TCP_ECN_SERVER;
        st->recov = TCP_RECOV_RACK;
        memcpy(st->ct.key, &k0, 8);
        memcpy(st->ct.key + 8, &k1, 8);
        st->ct.filt_salt = stack_random(s);
        k0 = stack_random(s);
        k1 = stack_random(s);
        memcpy(st->isn_key, &k0, 8);
        memcpy(st->isn_key + 8, &k1, 8);
        tcp_listen_init(s, st);
        /* The picker's secret (RFC 6056 3.3.4) from the stack's random
         * source: seeded stacks pick the same ports. */
        st->pick = malloc(sizeof(*st->pick));
        if (st->pick == NULL)
                return -ENOMEM;
        k0 = stack_random(s);
        k1 = stack_random(s);
        {
                uint64_t key[2] = {k0, k1};

                port_picker_init(st->pick, (const uint8_t *)key);
        }
        st->pcb = pcb_table_create(tcp_retire, s);
        if (st->pcb == NULL) {
                free(st->pick);
                return -ENOMEM;
        }
        tcp_cache_init(&st->cache);
        return pthread_mutex_init(&st->ct.lock, NULL) == 0 ? 0 : -ENOMEM;
}

static void tcp_fini(struct mpnet_stack *s, void *state)
{
        struct tcp_state *st = state;

        (void)s;
        dead_free(st);
        conn_table_clear(&st->ct);
        tcp_cache_fini(&st->cache);
        free(atomic_load_explicit(&st->ct.bk, memory_order_relaxed));
        pthread_mutex_destroy(&st->ct.lock);
        pcb_table_destroy(st->pcb);
        free(st->pick);
}

/* A connection a mark can hold (tcp_state_mark): ESTABLISHED, accepted
 * or connected (a socket, no listener), on the control context, nothing
 * in its queues or rings and no timer armed, so a copy of its structures
 * and its socket's is all there is to it. */
static bool conn_quiet(const struct tcp_conn *c)
{
        return c->state == TCP_ESTABLISHED && c->so != NULL && c->lso == NULL && c->home == 0 &&
               c->rtx_at == MPNET_TIME_NEVER && c->so->tcp == c && c->so->fd >= 0 &&
               tcp_data_quiet(c);
}

/* Every connection of the table to f, until it returns false. */
static bool conns_all(const struct tcp_state *st, bool (*f)(const struct tcp_conn *c, void *arg),
                      void *arg)
{
        struct tcp_conn_buckets *bk = tcp_conn_bk(&st->ct);

        for (unsigned i = 0; bk != NULL && i <= bk->mask; i++) {
                struct tcp_conn *c = atomic_load_explicit(&bk->b[i], memory_order_relaxed);

                for (; c != NULL; c = atomic_load_explicit(&c->next, memory_order_relaxed)) {
                        if (!f(c, arg))
                                return false;
                }
        }
        return true;
}

static bool quiet_visit(const struct tcp_conn *c, void *arg)
{
        (void)arg;
        return conn_quiet(c);
}

/* A connection a mark cannot hold (conn_quiet) is what input left. */
static bool tcp_learnt(struct mpnet_stack *s, const void *state)
{
        const struct tcp_state *st = state;

        (void)s;
        return st->ct.n != 0 && !conns_all(st, quiet_visit, NULL);
}

/*
 * The quiet established connections of a mark (a fuzz target's inputs
 * start on one, tests/fuzz/fuzz_tcp_conn.c): each one's structure, its
 * data state and its socket, copied. The reset frees the table as ever
 * (tcp_reset) and then makes each connection again from its copy, in the
 * table under its tuple, its socket (still open: the descriptor and the
 * socket are configuration) copied back and pointing at it: the sequence
 * numbers, windows, options and timers' state as at the mark, whatever
 * input did to the connection (data, a FIN, a reset that freed it) or to
 * its socket (options). The listener's queues were empty at the mark
 * (the connection was accepted) and are emptied by tcp_reset.
 */
struct tcp_mark_conn {
        struct tcp_conn c;
        struct mpnet_sock *so;
        uint32_t so_gen;
        int fd;
        struct mpnet_sock so_copy;
        /* then tcp_data_size() bytes: its data state */
};

struct tcp_mark {
        unsigned n;
        size_t stride;
        /* then n of struct tcp_mark_conn and its data state, stride apart */
};

static size_t mark_stride(void)
{
        size_t n = sizeof(struct tcp_mark_conn) + tcp_data_size();

        return (n + 63) & ~(size_t)63;
}

static size_t mark_head(void)
{
        return (sizeof(struct tcp_mark) + 63) & ~(size_t)63;
}

static size_t tcp_state_mark_size(struct mpnet_stack *s, const void *state)
{
        const struct tcp_state *st = state;

        (void)s;
        return st->ct.n == 0 ? 0 : mark_head() + st->ct.n * mark_stride();
}

static bool mark_visit(const struct tcp_conn *c, void *arg)
{
        struct tcp_mark *m = arg;
        struct tcp_mark_conn *mc = (void *)((char *)m + mark_head() + m->n * m->stride);

        memcpy(&mc->c, c, sizeof(*c));
        mc->so = c->so;
        mc->so_gen = c->so->gen;
        mc->fd = c->so->fd;
        memcpy(&mc->so_copy, c->so, sizeof(*c->so));
        memcpy(mc + 1, c->d, tcp_data_size());
        m->n++;
        return true;
}

static int tcp_state_mark(struct mpnet_stack *s, const void *state, void *mark)
{
        const struct tcp_state *st = state;
        struct tcp_mark *m = mark;

        (void)s;
        m->n = 0;
        m->stride = mark_stride();
        if (!conns_all(st, quiet_visit, NULL))
                return -EBUSY;
        conns_all(st, mark_visit, m);
        return 0;
}

static int tcp_state_restore(struct mpnet_stack *s, void *state, const void *mark)
{
        struct tcp_state *st = state;
        const struct tcp_mark *m = mark;

        for (unsigned i = 0; i < m->n; i++) {
                const struct tcp_mark_conn *mc =
                    (const void *)((const char *)m + mark_head() + i * m->stride);
                struct mpnet_sock *so = mc->so;
                struct tcp_conn *c;
                int err;

                /* The socket the input was given stays open (the harness's
                 * promise): its descriptor, its generation. */
                if (sock_get(s, mc->fd) != so || so->gen != mc->so_gen)
                        return -ESTALE;
                c = malloc(sizeof(*c));
                if (c == NULL)
                        return -ENOMEM;
                memcpy(c, &mc->c, sizeof(*c));
                atomic_store_explicit(&c->next, NULL, memory_order_relaxed);
                c->qnext = NULL;
                c->twl.next = c->twl.prev = NULL;
                c->d = tcp_data_clone(mc + 1, c);
                if (c->d == NULL) {
                        free(c);
                        return -ENOMEM;
                }
                memcpy(so, &mc->so_copy, sizeof(*so));
                so->tcp = c;
                c->so = so;
                err = tcp_conn_insert(s, &st->ct, c);
                if (err != 0) {
                        so->tcp = NULL;
                        tcp_conn_free(c);
                        return err;
                }
        }
        return 0;
}

/* stack_reset(): connections are what input and the calls made; none
 * survives a reset (no segment sent). */
static void tcp_reset(struct mpnet_stack *s, void *state)
{
        struct tcp_state *st = state;

        (void)s;
        atomic_store_explicit(&st->rgrown, 0, memory_order_relaxed); /* the connections go */
        atomic_store_explicit(&st->sgrown, 0, memory_order_relaxed);
        /* Listeners and sockets keep no pointer to what goes. */
        struct tcp_conn_buckets *bk = tcp_conn_bk(&st->ct);
        unsigned left = st->ct.n; /* no walk past the last */

        /* The chains inserted into since the last clear (chain_touched). */
        for (unsigned k = 0; bk != NULL && left != 0 && k < chains_end(&st->ct, bk); k++) {
                struct tcp_conn *c =
                    atomic_load_explicit(&bk->b[chain_at(&st->ct, k)], memory_order_relaxed);

                for (; c != NULL; c = atomic_load_explicit(&c->next, memory_order_relaxed)) {
                        left--;
                        if (c->lso != NULL) {
                                struct tcp_listen *l = c->lso->tcp;

                                l->syn = l->acc_head = l->acc_tail = NULL;
                                l->n_syn = l->n_acc = 0;
                                sock_lower(c->lso, EPOLLIN);
                        }
                        if (c->so != NULL)
                                c->so->tcp = NULL;
                }
        }
        dead_free(st);
        conn_table_clear(&st->ct);
        tcp_listen_reset(st);
        /* The cache emptied as a new stack's is: the objects input put
         * there (a connection closed) were otherwise taken by the next
         * input instead of calloc'd, so an input's mallocs and frees
         * differed by what the last one left, and libFuzzer ran every
         * such input again to look for a leak (a quarter of
         * fuzz_tcp_conn's inputs). Each input now allocates and frees
         * alike, and ASan sees a connection freed by the reset. */
        tcp_cache_fini(&st->cache);
}

static const struct node_reg tcp_nodes[] = {
    {.name = "tcp-deliver", .fn = tcp_deliver_node, .core_id = -1},
    {.name = "tcp-err", .fn = tcp_err_node, .core_id = -1},
};

static const struct l4_reg tcp_l4[] = {
    {.family = 4, .proto = MPNET_IPPROTO_TCP, .fn = tcp4_l4, .err = tcp_err, .shed = tcp4_shed},
    {.family = 6, .proto = MPNET_IPPROTO_TCP, .fn = tcp6_l4, .err = tcp_err, .shed = tcp6_shed},
};

const struct mpnet_module mod_tcp = {
    .name = "tcp",
    .nodes = tcp_nodes,
    .n_nodes = 2,
    .l4 = tcp_l4,
    .n_l4 = 2,
    .counters = tcp_ctrs,
    .n_counters = TCP__N,
    .state_size = sizeof(struct tcp_state),
    .init = tcp_init,
    .fini = tcp_fini,
    .state_learnt = tcp_learnt,
    .state_reset = tcp_reset,
    .state_mark_size = tcp_state_mark_size,
    .state_mark = tcp_state_mark,
    .state_restore = tcp_state_restore,
    .ctx_state_size = sizeof(struct tcp_ctx),
    .ctx_service = tcp_service,
    .vec_end = tcp_vec_end,
    .ctx_reset = tcp_ctx_reset,
    .ctx_fini = tcp_ctx_fini,
};
