/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's passive open (RFC 9293 3.5, 3.10.7.2, 3.10.7.4): LISTEN takes a
 * SYN into SYN_RECEIVED and answers a SYN-ACK with the options the peer
 * offered (MSS; window scale, RFC 7323 2; SACK-permitted, RFC 2018;
 * timestamps, RFC 7323 3), retransmitted on RTO (RFC 6298) a bounded
 * number of times; the ACK of it makes the connection ESTABLISHED and
 * puts it on the listener's accept queue. A reset in the window resets
 * (RFC 5961 3.2: at RCV.NXT exactly, else a challenge ACK). From
 * ESTABLISHED on, the ACK, data and FIN are l4/tcp_data.c's
 * (tcp_established() enters it, tcp_data_input() takes each segment).
 *
 * Runs on the connection's home context (l4/tcp_home.c), a worker or the
 * control thread; each context's embryos are on its own list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "mpnet/wire/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_seq.h"
#include "stack/stack_priv.h"

#define TCP_SYNACK_TRIES   6   /* the first and 5 retransmissions, as Linux */
#define TCP_CHALLENGE_RATE 100 /* a second (RFC 5961 7 leaves it to us) */
#define TCP_SYN_TRIES      7   /* the first and 6 retransmissions, as Linux */
#define TCP_WSCALE_OURS    7   /* the shift we offer, as Linux */
#define TCP_RCV_WND        65535u
#define TCP_MSS_DEFAULT    536 /* RFC 9293 3.7.1: no MSS option */

static uint32_t ts_now(uint64_t now)
{
        return (uint32_t)(now / MPNET_NS_PER_MS); /* a 1 ms timestamp clock */
}

static uint16_t wnd_field(const struct tcp_conn *c, bool syn)
{
        uint32_t w = syn ? c->rcv_wnd : c->rcv_wnd >> c->rcv_ws; /* RFC 7323 2.2 */

        return (uint16_t)(w > 65535 ? 65535 : w);
}

uint16_t tcp_mss_ours(const struct tcp_tuple *t, uint32_t mtu)
{
        uint32_t m = mtu - (tcp_tuple_is4(t) ? 40 : 60);

        return (uint16_t)(m > 65535 ? 65535 : m);
}

void tcp_send_out(struct wctx *w, const struct tcp_seg_out *o, const struct mpnet_tcp_opts *op)
{
        if (tcp_output(w, o, op) != 0) {
                tcp_count(w->s, TCPC_OUT_FAIL);
                return;
        }
        tcp_count(w->s, TCPC_OUT);
        if (o->flags & MPNET_TCP_RST)
                tcp_count(w->s, TCPC_RST_OUT);
}

static void send_seg(struct wctx *w, struct tcp_conn *c, uint16_t flags, uint32_t seq,
                     const struct mpnet_tcp_opts *o)
{
        struct tcp_seg_out so = {
            .t = &c->t,
            .seq = seq,
            .ack = (flags & MPNET_TCP_ACK) ? c->rcv_nxt : 0,
            .flags = flags,
            .window = wnd_field(c, (flags & MPNET_TCP_SYN) != 0),
        };

        tcp_send_out(w, &so, o);
}

void tcp_send_ctl(struct wctx *w, struct tcp_conn *c, uint16_t flags, uint32_t seq)
{
        struct mpnet_tcp_opts o = {0};

        if ((c->opt & TCPF_TS) && !(flags & MPNET_TCP_RST)) {
                o.present = MPNET_TCPO_TS;
                o.ts_val = ts_now(ctx_now(w));
                o.ts_ecr = c->ts_recent;
        }
        send_seg(w, c, flags, seq, &o);
}

static void send_synack(struct wctx *w, struct tcp_conn *c)
{
        /* RFC 9293 3.7.1: the MSS we announce is what our interface takes,
         * whatever the peer's. */
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = c->mss_ours};

        if (c->opt & TCPF_WSCALE) {
                o.present |= MPNET_TCPO_WSCALE;
                o.wscale = c->rcv_ws;
        }
        if (c->opt & TCPF_SACK)
                o.present |= MPNET_TCPO_SACK_PERM;
        if (c->opt & TCPF_TS) {
                o.present |= MPNET_TCPO_TS;
                o.ts_val = ts_now(ctx_now(w));
                o.ts_ecr = c->ts_recent;
        }
        /* RFC 3168 6.1.1: an ECN-setup SYN-ACK says ECE. */
        send_seg(w, c, MPNET_TCP_SYN | MPNET_TCP_ACK | ((c->opt & TCPF_ECN) ? MPNET_TCP_ECE : 0),
                 c->iss, &o);
}

static void q_unlink(struct tcp_conn **head, struct tcp_conn *c)
{
        for (; *head != NULL; head = &(*head)->qnext) {
                if (*head == c) {
                        *head = c->qnext;
                        c->qnext = NULL;
                        return;
                }
        }
}

void tcp_conn_drop(struct mpnet_stack *s, struct tcp_conn *c)
{
        struct tcp_state *st = tcp_state_of(s);

        if (c->lso != NULL) {
                struct tcp_listen *l = c->lso->tcp;

                if (c->state == TCP_SYN_RECEIVED) {
                        q_unlink(&l->syn, c);
                        l->n_syn--;
                } else {
                        struct tcp_conn *prev = NULL;

                        for (struct tcp_conn *x = l->acc_head; x != NULL; prev = x, x = x->qnext) {
                                if (x != c)
                                        continue;
                                if (prev != NULL)
                                        prev->qnext = c->qnext;
                                else
                                        l->acc_head = c->qnext;
                                if (l->acc_tail == c)
                                        l->acc_tail = prev;
                                l->n_acc--;
                                break;
                        }
                        if (l->n_acc == 0)
                                sock_lower(c->lso, EPOLLIN);
                }
                c->lso = NULL;
        }
        tcp_tw_unlink(c); /* first: its link's memory is the embryo list's */
        tcp_embryo_del(c);
        if (c->so != NULL) {
                c->so->tcp = NULL;
                c->so = NULL;
        }
        tcp_data_drop(s, c);
        c->state = TCP_CLOSED;
        tcp_conn_remove(s, &st->ct, c);
}

void tcp_listen_input(struct wctx *w, struct mpnet_sock *so, const struct tcp_tuple *t,
                      const struct mpnet_tcp_view *v, const struct mpnet_tcp_repr *r, uint32_t mtu)
{
        struct mpnet_stack *s = w->s;
        struct tcp_state *st = tcp_state_of(s);
        struct tcp_listen *l = so->tcp;
        uint64_t now = ctx_now(w);
        struct tcp_conn *c;

        (void)v;
        /* RFC 9293 3.10.7.2: first a RST (ignored), then an ACK (a reset
         * <SEQ=SEG.ACK><CTL=RST>), then a SYN. */
        if (r->flags & MPNET_TCP_RST) {
                tcp_count(s, TCPC_RST_CLOSED);
                return;
        }
        if (r->flags & MPNET_TCP_ACK) {
                tcp_listen_ack(w, so, t, r, mtu); /* a SYN cookie, or a reset */
                return;
        }
        if (!(r->flags & MPNET_TCP_SYN)) {
                tcp_count(s, TCPC_UNHANDLED);
                return;
        }
        if (tcp_cookie_syn(w, so, t, r, mtu))
                return;
        /* The SYN queue and the accept queue are each bounded by the
         * backlog (Linux also drops a SYN when the accept queue is full). */
        if (l->n_syn >= l->backlog || l->n_acc >= l->backlog) {
                tcp_count(s, TCPC_SYNQ_FULL);
                return;
        }
        c = tcp_conn_alloc(w);
        if (c == NULL) {
                STK_INC(s, nobufs);
                return;
        }
        c->t = *t;
        c->home = (uint8_t)w->id;
        c->state = TCP_SYN_RECEIVED;
        c->irs = r->seq;
        c->rcv_nxt = r->seq + 1;
        c->rcv_wnd = TCP_RCV_WND;
        c->iss = tcp_isn(st->isn_key, t, now);
        tcp_tw_iss(w, c); /* RFC 6191 reuse */
        c->snd_una = c->iss;
        c->snd_nxt = c->iss + 1;
        c->snd_wnd = c->max_snd_wnd = r->window; /* never scaled in a SYN */
        c->mss = c->mss_ours = tcp_mss_ours(t, mtu);
        if ((r->opts.present & MPNET_TCPO_MSS) && r->opts.mss < c->mss)
                c->mss = r->opts.mss;
        else if (!(r->opts.present & MPNET_TCPO_MSS) && c->mss > TCP_MSS_DEFAULT)
                c->mss = TCP_MSS_DEFAULT;
        if (r->opts.present & MPNET_TCPO_WSCALE) {
                c->opt |= TCPF_WSCALE;
                c->snd_ws =
                    r->opts.wscale > MPNET_TCP_WSCALE_MAX ? MPNET_TCP_WSCALE_MAX : r->opts.wscale;
                c->rcv_ws = TCP_WSCALE_OURS;
        }
        if (r->opts.present & MPNET_TCPO_SACK_PERM)
                c->opt |= TCPF_SACK;
        if (r->opts.present & MPNET_TCPO_TS) {
                c->opt |= TCPF_TS;
                c->ts_recent = r->opts.ts_val;
        }
        tcp_ecn_syn_in(s, c, r);
        tcp_rto_init(&c->rto, TCP_RTO_MIN_US);
        c->lso = so;
        if (tcp_conn_insert(s, &st->ct, c) != 0) {
                free(c); /* not published */
                return;
        }
        c->qnext = l->syn;
        l->syn = c;
        l->n_syn++;
        tcp_embryo_add(w, c);
        tcp_count(s, TCPC_SYN_IN);
        send_synack(w, c);
        c->tries = 1;
        c->rtx_at = now + (uint64_t)tcp_rto_us(&c->rto) * 1000;
        ctx_svc_arm(w, c->rtx_at);
}

void tcp_syn_send(struct wctx *w, struct tcp_conn *c)
{
        /* We offer every option; the SYN-ACK says which the peer takes. */
        struct mpnet_tcp_opts o = {
            .present = MPNET_TCPO_MSS | MPNET_TCPO_WSCALE | MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS,
            .mss = c->mss_ours,
            .wscale = TCP_WSCALE_OURS,
            .ts_val = ts_now(ctx_now(w)),
        };

        send_seg(w, c, MPNET_TCP_SYN | tcp_ecn_syn_flags(w->s), c->iss, &o);
        if (c->tries++ == 0) {
                tcp_embryo_add(w, c);
                c->rtx_at = ctx_now(w) + (uint64_t)tcp_rto_us(&c->rto) * 1000;
                ctx_svc_arm(w, c->rtx_at);
        }
}

/* The end of an active open that failed: the socket sees err. */
static void conn_fail(struct wctx *w, struct tcp_conn *c, int err)
{
        struct mpnet_sock *so = c->so;

        if (so != NULL) {
                so->err = err;
                sock_raise(so, EPOLLERR | EPOLLHUP | EPOLLOUT | EPOLLIN);
        }
        tcp_conn_drop(w->s, c);
}

/* The peer's SYN (or SYN-ACK) answers our SYN, which offered every option:
 * its window, MSS and the options it takes. */
void tcp_syn_opts(struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        c->snd_wnd = c->max_snd_wnd = r->window; /* never scaled in a SYN */
        c->mss = (r->opts.present & MPNET_TCPO_MSS) ? r->opts.mss : TCP_MSS_DEFAULT;
        if (c->mss > c->mss_ours)
                c->mss = c->mss_ours;
        if (r->opts.present & MPNET_TCPO_WSCALE) { /* RFC 7323 2.2: both or neither */
                c->opt |= TCPF_WSCALE;
                c->snd_ws =
                    r->opts.wscale > MPNET_TCP_WSCALE_MAX ? MPNET_TCP_WSCALE_MAX : r->opts.wscale;
                c->rcv_ws = TCP_WSCALE_OURS;
        }
        if (r->opts.present & MPNET_TCPO_SACK_PERM)
                c->opt |= TCPF_SACK;
        if (r->opts.present & MPNET_TCPO_TS) {
                c->opt |= TCPF_TS;
                c->ts_recent = r->opts.ts_val;
        }
}

/* RFC 9293 3.10.7.3, SYN_SENT. */
static void syn_sent_input(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        struct mpnet_stack *s = w->s;
        bool ack = (r->flags & MPNET_TCP_ACK) != 0;

        /* First: an ACK of something other than our SYN. */
        if (ack && (seq_leq(r->ack, c->iss) || seq_gt(r->ack, c->snd_nxt))) {
                tcp_count(s, TCPC_BAD_ACK);
                if (!(r->flags & MPNET_TCP_RST)) {
                        struct tcp_conn tmp = {.t = c->t};

                        send_seg(w, &tmp, MPNET_TCP_RST, r->ack, NULL);
                }
                return;
        }
        /* Second: a RST with an acceptable ACK refuses the connection; one
         * without an ACK is dropped (RFC 5961 3.2 keeps a blind RST out). */
        if (r->flags & MPNET_TCP_RST) {
                if (ack)
                        conn_fail(w, c, ECONNREFUSED);
                else
                        tcp_count(s, TCPC_UNHANDLED);
                return;
        }
        if ((r->flags & MPNET_TCP_SYN) && !ack) {
                tcp_simopen_syn(w, c, r); /* RFC 9293 3.10.7.3, fourth */
                return;
        }
        if (!(r->flags & MPNET_TCP_SYN)) {
                tcp_count(s, TCPC_UNHANDLED);
                return;
        }
        /* Fourth: the SYN-ACK. */
        c->irs = r->seq;
        c->rcv_nxt = r->seq + 1;
        c->snd_una = r->ack;
        tcp_syn_opts(c, r);
        tcp_ecn_synack_in(s, c, r);
        if (tcp_established(w, c) != 0) {
                struct tcp_conn tmp = {.t = c->t};

                send_seg(w, &tmp, MPNET_TCP_RST, r->ack, NULL);
                conn_fail(w, c, ENOMEM);
                return;
        }
        c->state = TCP_ESTABLISHED;
        tcp_embryo_del(c);
        tcp_send_ctl(w, c, MPNET_TCP_ACK, c->snd_nxt);
        if (c->so != NULL) {
                c->so->flags |= SOF_CONNECTED;
                sock_raise(c->so, EPOLLOUT);
        }
}

/* RFC 5961 7: challenge ACKs are rate-limited, per context (each
 * context's bucket is its own: no shared write), TCP_CHALLENGE_RATE a
 * second with as much burst on each. */
static void challenge_ack(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_ctx *st = tcp_ctx_of(w);

        if (!token_take(&st->ch_tokens, &st->ch_last, ctx_now(w), TCP_CHALLENGE_RATE,
                        TCP_CHALLENGE_RATE)) {
                tcp_count(w->s, TCPC_CHALLENGE_LIMITED);
                return;
        }
        tcp_count(w->s, TCPC_CHALLENGE);
        tcp_send_ctl(w, c, MPNET_TCP_ACK, c->snd_nxt);
}

/* SYN_RECEIVED -> ESTABLISHED (RFC 9293 3.10.7.4, fifth check).
 * @return false: no memory for it (the caller resets it). */
static bool established(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        struct tcp_listen *l = c->lso->tcp;

        c->snd_una = r->ack;
        c->snd_wnd = (uint32_t)r->window << c->snd_ws;
        if (c->snd_wnd > c->max_snd_wnd)
                c->max_snd_wnd = c->snd_wnd;
        if (tcp_established(w, c) != 0)
                return false;
        c->state = TCP_ESTABLISHED;
        tcp_embryo_del(c);
        q_unlink(&l->syn, c);
        l->n_syn--;
        if (l->acc_tail != NULL)
                l->acc_tail->qnext = c;
        else
                l->acc_head = c;
        l->acc_tail = c;
        l->n_acc++;
        tcp_count(w->s, TCPC_ACCEPTED);
        sock_raise(c->lso, EPOLLIN);
        return true;
}

/* A reset that resets (RFC 9293 3.10.7.4 second check): an embryo goes
 * (a passive open returns to LISTEN); a connection's socket sees
 * ECONNRESET. In CLOSING, LAST_ACK and TIME_WAIT the connection just
 * closes ("enter the CLOSED state, delete the TCB, and return"): both
 * directions were closed already, and the socket reads what it would
 * read at the end of TIME_WAIT (the peer's stale answer to a late
 * duplicate, say, must not turn a complete stream into ECONNRESET). */
static void reset_in(struct wctx *w, struct tcp_conn *c)
{
        struct mpnet_sock *so = c->so;

        if (so != NULL && c->state != TCP_CLOSING && c->state != TCP_LAST_ACK &&
            c->state != TCP_TIME_WAIT) {
                so->err = ECONNRESET;
                sock_raise(so, EPOLLERR | EPOLLHUP | EPOLLIN);
        }
        tcp_conn_drop(w->s, c);
}

void tcp_conn_input(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_view *v,
                    const struct mpnet_tcp_repr *r, uint32_t mtu)
{
        struct mpnet_stack *s = w->s;
        uint32_t len = mpnet_tcp_seg_len(v);

        (void)mtu;
        if (c->state == TCP_SYN_SENT) {
                syn_sent_input(w, c, r);
                return;
        }
        if (c->state == TCP_SYN_RECEIVED && c->lso == NULL && tcp_simopen_ack(w, c, r))
                return;
        /* First check: the sequence number (3.10.7.4). A retransmitted SYN
         * in SYN_RECEIVED (SEG.SEQ = IRS) gets the SYN-ACK again, as Linux
         * answers it. */
        if (c->state == TCP_SYN_RECEIVED && r->flags == MPNET_TCP_SYN && r->seq == c->irs) {
                send_synack(w, c);
                return;
        }
        if (!tcp_paws(w, c, r))
                return;
        if (!tcp_seg_acceptable(c->rcv_nxt, c->rcv_wnd, r->seq, len)) {
                tcp_count(s, TCPC_OUT_OF_WINDOW);
                if (!(r->flags & MPNET_TCP_RST) &&
                    !tcp_data_dup(w, c, r->seq, (uint32_t)mpnet_tcp_payload_len(v)))
                        tcp_send_ctl(w, c, MPNET_TCP_ACK, c->snd_nxt);
                return;
        }
        /* Second: RST (RFC 5961 3.2). */
        if (r->flags & MPNET_TCP_RST) {
                if (tcp_rst_check(c->rcv_nxt, c->rcv_wnd, r->seq) == TCP_ACCEPT) {
                        reset_in(w, c);
                } else {
                        challenge_ack(w, c);
                }
                return;
        }
        /* Fourth: a SYN in the window (RFC 5961 4.2): a challenge ACK. */
        if (r->flags & MPNET_TCP_SYN) {
                challenge_ack(w, c);
                return;
        }
        /* Fifth: no ACK, drop. */
        if (!(r->flags & MPNET_TCP_ACK)) {
                tcp_count(s, TCPC_UNHANDLED);
                return;
        }
        if (c->state == TCP_SYN_RECEIVED) {
                if (!(seq_lt(c->snd_una, r->ack) && seq_leq(r->ack, c->snd_nxt))) {
                        struct tcp_conn tmp = {.t = c->t};

                        tcp_count(s, TCPC_BAD_ACK);
                        send_seg(w, &tmp, MPNET_TCP_RST, r->ack, NULL);
                        return;
                }
                if ((c->opt & TCPF_TS) && (r->opts.present & MPNET_TCPO_TS))
                        c->ts_recent = r->opts.ts_val;
                if (!established(w, c, r)) {
                        STK_INC(s, nobufs);
                        tcp_send_ctl(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt);
                        tcp_conn_drop(s, c);
                        return;
                }
        } else if (tcp_ack_check(c->snd_una, c->snd_nxt, c->max_snd_wnd, r->ack) != TCP_ACCEPT) {
                challenge_ack(w, c);
                return;
        }
        /* The ACK's effect, the data, the FIN: l4/tcp_data.c. */
        tcp_data_input(w, c, v, r);
        /* Not c: the input may have ended it (LAST_ACK). */
        tcp_tw_compact(w);
}

uint64_t tcp_timers(struct wctx *w, uint64_t now)
{
        struct mpnet_stack *s = w->s;
        uint64_t next = MPNET_TIME_NEVER;
        struct tcp_conn *c = tcp_ctx_of(w)->embryo;

        /* The context's own embryos: a list, not a scan of the table. */
        while (c != NULL) {
                struct tcp_conn *nx = c->enext;

                if (c->state == TCP_SYN_SENT && c->rtx_at <= now) {
                        if (c->tries >= TCP_SYN_TRIES) {
                                conn_fail(w, c, ETIMEDOUT);
                                c = nx;
                                continue;
                        }
                        tcp_rto_backoff(&c->rto);
                        tcp_syn_send(w, c);
                        tcp_count(s, TCPC_SYNACK_RTX);
                        c->rtx_at = now + (uint64_t)tcp_rto_us(&c->rto) * 1000;
                }
                if (c->state == TCP_SYN_RECEIVED && c->rtx_at <= now) {
                        if (c->tries >= TCP_SYNACK_TRIES) {
                                tcp_count(s, TCPC_SYNACK_GIVEUP);
                                /* A simultaneous open's socket hears of it. */
                                conn_fail(w, c, ETIMEDOUT);
                                c = nx;
                                continue;
                        }
                        tcp_rto_backoff(&c->rto); /* RFC 6298 5.5 */
                        send_synack(w, c);
                        c->tries++;
                        tcp_count(s, TCPC_SYNACK_RTX);
                        c->rtx_at = now + (uint64_t)tcp_rto_us(&c->rto) * 1000;
                }
                if ((c->state == TCP_SYN_RECEIVED || c->state == TCP_SYN_SENT) && c->rtx_at < next)
                        next = c->rtx_at;
                c = nx;
        }
        return next;
}
