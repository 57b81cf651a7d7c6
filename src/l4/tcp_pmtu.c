/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP and ICMP errors: path MTU discovery for connections (RFC 1191 for
 * IPv4's fragmentation needed, RFC 8201 for IPv6's packet too big) and a
 * fallback for paths that drop big segments without a word (RFC 4821's
 * idea, as Linux's tcp_mtu_probing = 1 after repeated timeouts).
 *
 * An error counts only when its quote names a connection of ours and a
 * sequence number we sent and that is not yet acknowledged (RFC 5927 4.1,
 * 5.1: SND.UNA <= SEG.SEQ < SND.NXT); anything else is dropped and
 * counted (tcp_pmtu_bad), and the IP layer's path MTU cache does not take
 * it either (the handler says it is not ours). A new MTU lowers the
 * connection's MSS (never below 536 bytes for IPv4, RFC 9293 3.7.1's
 * default, and 1220 for IPv6's minimum link MTU of 1280, RFC 8200 5) and
 * sends again from SND.UNA: the segment that was too big is gone (RFC
 * 1191 6.5). cwnd stays: a smaller MTU is not congestion. Other errors
 * (unreachables) are soft errors for a connection (RFC 1122 4.2.3.9): no
 * action.
 *
 * Runs on the control thread (ICMP errors are its, l3/icmp4.c, icmp6.c),
 * every connection's home for now.
 */
#include <string.h>

#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/tcp.h"
#include "l3/pmtu.h"
#include "l4/tcp.h"
#include "l4/tcp_seq.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

#define MSS_FLOOR4 536
#define MSS_FLOOR6 1220
#define BH_RTOS    3 /* timeouts in a row before the MSS falls (Linux's tcp_retries1) */

static uint32_t mss_floor(const struct tcp_conn *c)
{
        return tcp_tuple_is4(&c->t) ? MSS_FLOOR4 : MSS_FLOOR6;
}

/* Lower c's MSS to mss (bounded below) and send its data again (an
 * embryo's SYN carries none). @return whether it fell. */
static bool mss_lower(struct wctx *w, struct tcp_conn *c, uint32_t mss)
{
        if (mss < mss_floor(c))
                mss = mss_floor(c);
        if (mss >= c->mss)
                return false;
        c->mss = (uint16_t)mss;
        if (c->d != NULL)
                tcp_data_resend(w, c);
        return true;
}

bool tcp_err(struct wctx *w, const struct l4_err *e)
{
        struct tcp_state *st = tcp_state_of(w->s);
        struct tcp_tuple t;
        struct tcp_conn *c;
        uint32_t seq;
        bool big = (e->family == 4 && e->type == MPNET_ICMP4_DEST_UNREACH && e->code == 4) ||
                   (e->family == 6 && e->type == MPNET_ICMP6_PACKET_TOO_BIG);

        memcpy(t.laddr, e->src, 16);
        memcpy(t.raddr, e->dst, 16);
        t.lport = mpnet_get_be16(e->l4);
        t.rport = mpnet_get_be16(e->l4 + 2);
        seq = mpnet_get_be32(e->l4 + 4);
        c = tcp_conn_lookup(&st->ct, &t);
        if (c == NULL || c->home != w->id || c->state == TCP_TIME_WAIT ||
            !(seq_geq(seq, c->snd_una) && seq_lt(seq, c->snd_nxt))) {
                tcp_count(w->s, TCPC_PMTU_BAD);
                return false;
        }
        /* A next-hop MTU of 0 (a router before RFC 1191): nothing to go by
         * here; the black-hole fallback still lowers it on timeouts. */
        if (big && e->info != 0 && mss_lower(w, c, tcp_mss_ours(&c->t, e->info)))
                tcp_count(w->s, TCPC_PMTU_LOWER);
        return true;
}

void tcp_pmtu_start(struct wctx *w, struct tcp_conn *c)
{
        uint32_t mtu = path_mtu(w->s, c->t.raddr, 0, ctx_now(w)), mss;

        /* What an earlier connection learnt of the path (RFC 1191 6.3:
         * the cache is per destination) holds for a new one. */
        if (mtu == 0)
                return;
        mss = tcp_mss_ours(&c->t, mtu);
        if (mss < mss_floor(c))
                mss = mss_floor(c);
        if (mss < c->mss)
                c->mss = (uint16_t)mss;
}

void tcp_pmtu_rto(struct wctx *w, struct tcp_conn *c, unsigned tries, bool full)
{
        /* RFC 4821 7.1's worry, Linux's answer: full-size segments time
         * out again and again while small ones might pass: halve the MSS
         * (down to the floor) and carry on; the caller resends. */
        if (tries < BH_RTOS || !full || c->mss <= mss_floor(c))
                return;
        c->mss = (uint16_t)(c->mss / 2 > mss_floor(c) ? c->mss / 2 : mss_floor(c));
        tcp_o(c)->bh_done++;
        tcp_count(w->s, TCPC_BLACKHOLE);
}
