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
 * Synchronisation: ICMP errors come to the control thread (workers punt
 * them, l3/icmp4.c, icmp6.c), which reads the connection table as an RCU
 * reader and may touch only a connection's tuple and home. An error about
 * a connection homed on a worker goes there as a record in a packet buffer
 * (struct err_rec: the tuple, the quoted sequence, the type, code and MTU)
 * through ctx_handoff() to the "tcp-err" node (counted tcp_err_handoff;
 * no buffer or a full ring: tcp_err_handoff_fail); the home looks the
 * connection up again and checks the quote against SND.UNA..SND.NXT
 * there, where they are consistent. The path MTU cache is the control
 * thread's (l3/pmtu.h): tcp_err tells l3 "not ours" for a handed error,
 * and the home sends the MTU of a valid one back through the same node
 * (the control thread then lowers the cache), so no quote that failed the
 * check moves the cache, at the cost of a later update. A fragmentation
 * needed with no next-hop MTU (RFC 1191 5's plateau needs the quoted
 * length, which struct l4_err does not carry) is not sent back.
 */
#include <string.h>

#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/tcp.h"
#include "l3/ip6.h"
#include "l3/pmtu.h"
#include "l4/socket.h"
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

/* An ICMP error about a connection, as tcp_err found it (and as it
 * travels to the connection's home). learn: the home found it valid; the
 * control thread lowers the path MTU cache with info. */
struct err_rec {
        struct tcp_tuple t;
        uint32_t seq;
        uint32_t info; /* the next-hop MTU, or 0 */
        uint8_t family, type, code, learn;
};

static bool err_big(const struct err_rec *r)
{
        return (r->family == 4 && r->type == MPNET_ICMP4_DEST_UNREACH && r->code == 4) ||
               (r->family == 6 && r->type == MPNET_ICMP6_PACKET_TOO_BIG);
}

/* r about c, on c's home. @return whether its quote is valid. */
static bool err_apply(struct wctx *w, struct tcp_conn *c, const struct err_rec *r)
{
        /* RFC 5927 4.1, 5.1: a sequence number we sent, not yet acked. */
        if (c->state == TCP_TIME_WAIT ||
            !(seq_geq(r->seq, c->snd_una) && seq_lt(r->seq, c->snd_nxt))) {
                tcp_count(w->s, TCPC_PMTU_BAD);
                return false;
        }
        /* A next-hop MTU of 0 (a router before RFC 1191): nothing to go by
         * here; the black-hole fallback still lowers it on timeouts. */
        if (err_big(r) && r->info != 0 && mss_lower(w, c, tcp_mss_ours(&c->t, r->info)))
                tcp_count(w->s, TCPC_PMTU_LOWER);
        return true;
}

/* Hand r to context to's tcp-err node (as received on ifindex). */
static void err_handoff(struct wctx *w, unsigned to, const struct err_rec *r, uint32_t ifindex,
                        struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;

        if (p == NULL) {
                p = mpnet_pkt_alloc(s->pool);
                if (p == NULL) {
                        tcp_count(s, TCPC_ERR_HANDOFF_FAIL);
                        return;
                }
                memcpy(mpnet_pkt_append(p, sizeof(*r)), r, sizeof(*r));
                p->ifindex = ifindex;
        } else {
                memcpy(p->data, r, sizeof(*r));
        }
        if (!ctx_handoff(w, to, tcp_state_of(s)->err_node, p))
                tcp_count(s, TCPC_ERR_HANDOFF_FAIL); /* and handoff_drop */
        else if (!r->learn)
                tcp_count(s, TCPC_ERR_HANDOFF);
}

bool tcp_err(struct wctx *w, const struct l4_err *e)
{
        struct tcp_state *st = tcp_state_of(w->s);
        struct tcp_conn *c;
        struct err_rec r = {.family = e->family, .type = e->type, .code = e->code, .info = e->info};

        memcpy(r.t.laddr, e->src, 16);
        memcpy(r.t.raddr, e->dst, 16);
        r.t.lport = mpnet_get_be16(e->l4);
        r.t.rport = mpnet_get_be16(e->l4 + 2);
        r.seq = mpnet_get_be32(e->l4 + 4);
        c = tcp_conn_lookup(&st->ct, &r.t);
        if (c == NULL) {
                tcp_count(w->s, TCPC_PMTU_BAD);
                return false;
        }
        if (c->home == w->id)
                return err_apply(w, c, &r);
        /* The tuple and home are all this thread may read of c: the home
         * checks the rest, and sends a valid MTU back for the cache. */
        err_handoff(w, c->home, &r, e->ifindex, NULL);
        return false;
}

/* tcp-err: on a connection's home, errors the control thread handed
 * over; on the control thread, the MTUs of those the home found valid. */
void tcp_err_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct mpnet_stack *s = w->s;

        (void)ifp;
        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *p = in->p[i];
                struct tcp_conn *c;
                struct err_rec r;

                if (p->len != sizeof(r)) {
                        tcp_count(s, TCPC_STALE);
                        mpnet_pkt_free(p);
                        continue;
                }
                memcpy(&r, p->data, sizeof(r));
                if (r.learn) {
                        if (r.family == 4)
                                pmtu4_frag_needed(s, addr_v4(r.t.raddr), r.info, 0);
                        else
                                pmtu6_update(s, r.t.raddr, r.info);
                        mpnet_pkt_free(p);
                        continue;
                }
                /* Gone or moved meanwhile: nothing of ours to check it by. */
                c = tcp_conn_lookup(&tcp_state_of(s)->ct, &r.t);
                if (c == NULL || c->home != w->id) {
                        tcp_count(s, TCPC_PMTU_BAD);
                        mpnet_pkt_free(p);
                        continue;
                }
                if (!err_apply(w, c, &r) || !err_big(&r) || r.info == 0) {
                        mpnet_pkt_free(p);
                        continue;
                }
                r.learn = 1;
                err_handoff(w, 0, &r, p->ifindex, p);
        }
        in->n = 0;
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
