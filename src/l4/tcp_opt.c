/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's options beyond the data path: keepalives (SO_KEEPALIVE,
 * TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT; RFC 1122 4.2.3.6, RFC 9293
 * 3.8.4), SO_LINGER, TCP_CORK, the MPNET_TCP_INFO snapshot, ECN (RFC
 * 3168) and TIME_WAIT reuse by a newer SYN (RFC 6191).
 *
 * A connection keeps its copy of the socket's options (struct tcp_copt,
 * taken from the socket or its listener when it is established; a
 * setsockopt on the socket updates it). Its deadlines (keepalive, the
 * cork's ceiling) ride on the data path's timer list (tcp_data_arm).
 *
 * Synchronisation: the connection's home context (the control thread,
 * every TCP socket's home for now), as l4/tcp_data.c; no lock.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "mpnet/tcp.h"
#include "mpnet/wire/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_seq.h"
#include "stack/stack_priv.h"

/* <netinet/tcp.h>'s, whose state names clash with ours. */
#ifndef TCP_CORK
#define TCP_CORK 3
#endif
#ifndef TCP_KEEPIDLE
#define TCP_KEEPIDLE 4
#endif
#ifndef TCP_KEEPINTVL
#define TCP_KEEPINTVL 5
#endif
#ifndef TCP_KEEPCNT
#define TCP_KEEPCNT 6
#endif

/* Linux's defaults and bounds (tcp_keepalive_time, _intvl, _probes;
 * MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT). RFC 1122
 * 4.2.3.6 asks for an idle time of at least two hours by default. */
#define KA_IDLE_DEFAULT  7200
#define KA_INTVL_DEFAULT 75
#define KA_CNT_DEFAULT   9
#define KA_TIME_MAX      32767
#define KA_CNT_MAX       127
#define CORK_NS          (200ull * MPNET_NS_PER_MS) /* Linux's ceiling */
#define ECT0             2                          /* RFC 3168 5 */
#define ECN_CE           3

_Static_assert((int)TCP_TIME_WAIT == (int)MPNET_TCP_ST_TIME_WAIT &&
                   (int)TCP_ESTABLISHED == (int)MPNET_TCP_ST_ESTABLISHED &&
                   (int)TCP_LISTEN == (int)MPNET_TCP_ST_LISTEN,
               "mpnet/tcp.h's states are enum tcp_st's");

static uint32_t ka_idle(const struct tcp_conn *c)
{
        return tcp_o(c)->ka_idle != 0 ? tcp_o(c)->ka_idle : KA_IDLE_DEFAULT;
}

static uint32_t ka_intvl(const struct tcp_conn *c)
{
        return tcp_o(c)->ka_intvl != 0 ? tcp_o(c)->ka_intvl : KA_INTVL_DEFAULT;
}

static uint32_t ka_cnt(const struct tcp_conn *c)
{
        return tcp_o(c)->ka_cnt != 0 ? tcp_o(c)->ka_cnt : KA_CNT_DEFAULT;
}

/* The connection of a socket, once established (NULL otherwise). */
static struct tcp_conn *sock_conn(const struct mpnet_sock *so)
{
        struct tcp_conn *c = so->tcp;

        return (so->flags & SOF_LISTEN) || c == NULL || c->d == NULL ? NULL : c;
}

/* Keepalive's timer from the last segment received (Linux re-arms it the
 * same way when the idle time changes). */
static void ka_arm(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_copt *co = tcp_o(c);
        uint64_t at = co->rx_at + (uint64_t)ka_idle(c) * MPNET_NS_PER_S;
        uint64_t now = ctx_now(w);

        if (!(co->flags & TCPO_KEEPALIVE)) {
                co->ka_at = MPNET_TIME_NEVER;
                return;
        }
        tcp_data_arm(w, c, &co->ka_at, at > now ? at : now);
}

void tcp_opt_init(struct wctx *w, struct tcp_conn *c, const struct mpnet_sock *ref)
{
        struct tcp_copt *co = tcp_o(c);

        co->ka_at = co->cork_at = co->linger_at = MPNET_TIME_NEVER;
        co->rx_at = ctx_now(w);
        co->ecn_recover = c->snd_una - 1;
        tcp_pmtu_start(w, c);
        if (ref == NULL)
                return;
        co->ka_idle = ref->tcpo.ka_idle;
        co->ka_intvl = ref->tcpo.ka_intvl;
        co->ka_cnt = ref->tcpo.ka_cnt;
        if (ref->tcpo.flags & SOT_KEEPALIVE)
                co->flags |= TCPO_KEEPALIVE;
        if (ref->tcpo.flags & SOT_CORK)
                co->flags |= TCPO_CORK;
        ka_arm(w, c);
}

/* ---- keepalive ---- */

/* The peer did not answer: the socket sees ETIMEDOUT, the peer a reset
 * (as Linux's tcp_keepalive_timer). */
static void ka_give_up(struct wctx *w, struct tcp_conn *c)
{
        struct mpnet_sock *so = c->so;

        tcp_count(w->s, TCPC_KA_TIMEOUT);
        tcp_send_ctl(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt);
        if (so != NULL) {
                so->err = ETIMEDOUT;
                sock_raise(so, EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLOUT);
        }
        tcp_conn_drop(w->s, c);
}

/* RFC 1122 4.2.3.6: after the idle time with nothing received, a probe
 * SEG.SEQ = SND.NXT - 1 with no data (which the peer answers with an
 * ACK); every interval another; the connection is dropped once CNT went
 * unanswered. With data outstanding the retransmission timer watches the
 * peer instead. @return false: c is gone. */
static bool ka_timer(struct wctx *w, struct tcp_conn *c, uint64_t now)
{
        struct tcp_copt *co = tcp_o(c);
        struct mpnet_tcp_info i = {0};

        co->ka_at = MPNET_TIME_NEVER;
        if (!(co->flags & TCPO_KEEPALIVE) || c->state == TCP_TIME_WAIT)
                return true;
        tcp_data_info(c, &i);
        if (c->snd_nxt != c->snd_una || i.snd_buf != 0) {
                tcp_data_arm(w, c, &co->ka_at, now + (uint64_t)ka_idle(c) * MPNET_NS_PER_S);
                return true;
        }
        if (now - co->rx_at < (uint64_t)ka_idle(c) * MPNET_NS_PER_S) {
                ka_arm(w, c);
                return true;
        }
        if (co->ka_probes >= ka_cnt(c)) {
                ka_give_up(w, c);
                return false;
        }
        tcp_count(w->s, TCPC_KA_PROBE);
        tcp_send_ctl(w, c, MPNET_TCP_ACK, c->snd_nxt - 1);
        co->ka_probes++;
        tcp_data_arm(w, c, &co->ka_at, now + (uint64_t)ka_intvl(c) * MPNET_NS_PER_S);
        return true;
}

/* ---- input, output ---- */

void tcp_opt_rx(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        struct tcp_copt *co = tcp_o(c);

        co->rx_at = ctx_now(w);
        co->ka_probes = 0;
        if (!(c->opt & TCPF_ECN))
                return;
        /* RFC 3168 6.1.3: ECE on our ACKs from a CE until the peer's CWR
         * (a CWR and a CE in one segment: ECE again). */
        if (r->flags & MPNET_TCP_CWR)
                co->flags &= (uint8_t)~TCPO_ECE;
        if (tcp_ctx_of(w)->rx_ecn == ECN_CE) {
                tcp_count(w->s, TCPC_ECN_CE);
                co->flags |= TCPO_ECE;
        }
        /* 6.1.2: an ECE halves cwnd as a loss would, once a window (not
         * again until what was in flight then is acknowledged). */
        if ((r->flags & (MPNET_TCP_ECE | MPNET_TCP_ACK)) == (MPNET_TCP_ECE | MPNET_TCP_ACK) &&
            seq_gt(r->ack, co->ecn_recover) && tcp_data_ecn_reduce(w, c)) {
                tcp_count(w->s, TCPC_ECN_REDUCE);
                co->ecn_recover = c->snd_nxt;
                co->flags |= TCPO_CWR;
        }
}

void tcp_opt_seg_out(struct tcp_conn *c, struct tcp_seg_out *o)
{
        struct tcp_copt *co = tcp_o(c);
        bool rtx = o->payload_len != 0 && seq_lt(o->seq, c->snd_nxt);

        if (rtx)
                co->rtx_total++;
        if (!(c->opt & TCPF_ECN) || (o->flags & (MPNET_TCP_SYN | MPNET_TCP_RST)))
                return;
        if ((o->flags & MPNET_TCP_ACK) && (co->flags & TCPO_ECE))
                o->flags |= MPNET_TCP_ECE;
        /* RFC 3168 6.1.4-6.1.5: ECT on new data only, never on pure ACKs
         * or retransmissions; CWR on the first new data after a
         * reduction. */
        if (o->payload_len != 0 && !rtx) {
                o->ecn = ECT0;
                if (co->flags & TCPO_CWR) {
                        o->flags |= MPNET_TCP_CWR;
                        co->flags &= (uint8_t)~TCPO_CWR;
                }
        }
}

/* ---- TCP_CORK ---- */

bool tcp_opt_corked(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_copt *co = tcp_o(c);

        if ((co->flags & (TCPO_CORK | TCPO_CORK_PUSH)) != TCPO_CORK)
                return false;
        if (co->cork_at == MPNET_TIME_NEVER)
                tcp_data_arm(w, c, &co->cork_at, ctx_now(w) + CORK_NS);
        return true;
}

/* Send what the cork holds (the ceiling passed, or uncorked). */
static void cork_push(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_copt *co = tcp_o(c);

        co->cork_at = MPNET_TIME_NEVER;
        co->flags |= TCPO_CORK_PUSH;
        tcp_data_output(w, c);
        co->flags &= (uint8_t)~TCPO_CORK_PUSH;
}

bool tcp_opt_timer(struct wctx *w, struct tcp_conn *c, uint64_t now)
{
        struct tcp_copt *co = tcp_o(c);

        if (co->cork_at <= now) {
                uint32_t before = c->snd_nxt;

                cork_push(w, c);
                if (c->snd_nxt != before)
                        tcp_count(w->s, TCPC_CORK_FLUSH);
        }
        if (co->linger_at <= now) {
                co->linger_at = MPNET_TIME_NEVER;
                if (!tcp_opt_linger_done(c)) {
                        /* The time ran out with data or our FIN unacked:
                         * a reset, as the BSDs' close with SO_LINGER
                         * (Linux lets the orderly close go on). */
                        tcp_count(w->s, TCPC_LINGER_ABORT);
                        tcp_send_ctl(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt);
                        tcp_conn_drop(w->s, c);
                        return false;
                }
        }
        if (co->ka_at <= now)
                return ka_timer(w, c, now);
        return true;
}

void tcp_opt_nodelay(struct wctx *w, struct tcp_conn *c)
{
        /* Linux: setting TCP_NODELAY pushes what the cork holds. */
        if (c != NULL && c->d != NULL && (tcp_o(c)->flags & TCPO_CORK))
                cork_push(w, c);
}

/* ---- SO_LINGER ---- */

bool tcp_opt_linger_abort(const struct mpnet_sock *so)
{
        return (so->tcpo.flags & SOT_LINGER) && so->tcpo.linger == 0;
}

void tcp_opt_linger_arm(struct wctx *w, struct tcp_conn *c, uint32_t secs)
{
        if (c->d != NULL)
                tcp_data_arm(w, c, &tcp_o(c)->linger_at,
                             ctx_now(w) + (uint64_t)secs * MPNET_NS_PER_S);
}

bool tcp_opt_linger_done(const struct tcp_conn *c)
{
        /* FIN_WAIT_2, TIME_WAIT: our FIN, after all our data, was acked;
         * CLOSED: gone. ESTABLISHED, CLOSE_WAIT: no FIN queued yet, done
         * when nothing is unacked and nothing waits to be sent. */
        switch (c->state) {
        case TCP_FIN_WAIT_2:
        case TCP_TIME_WAIT:
        case TCP_CLOSED:
                return true;
        case TCP_ESTABLISHED:
        case TCP_CLOSE_WAIT: {
                struct mpnet_tcp_info i = {0};

                tcp_data_info(c, &i);
                return c->snd_una == c->snd_nxt && i.snd_buf == 0;
        }
        default:
                return false;
        }
}

/* ---- RFC 6191 ---- */

bool tcp_tw_reopen(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r, bool *take)
{
        bool newer;

        *take = (r->flags & (MPNET_TCP_SYN | MPNET_TCP_ACK | MPNET_TCP_RST)) != MPNET_TCP_SYN;
        if (*take)
                return false;
        /* RFC 6191 2: with timestamps in both the old connection and the
         * SYN, a TSval above TS.Recent; else a sequence number above the
         * last one seen (RCV.NXT). Otherwise the SYN is silently dropped
         * and TIME_WAIT goes on. */
        if ((c->opt & TCPF_TS) && (r->opts.present & MPNET_TCPO_TS))
                newer = seq_gt(r->opts.ts_val, c->ts_recent);
        else
                newer = seq_gt(r->seq, c->rcv_nxt);
        if (!newer) {
                tcp_count(w->s, TCPC_TW_SYN_DROP);
                return false;
        }
        tcp_count(w->s, TCPC_TW_REUSE);
        /* RFC 1122 4.2.2.13: the new connection's ISS above the old
         * one's last sequence number; Linux's margin of a window. */
        tcp_state_of(w->s)->tw_iss[w->id] = c->snd_nxt + 65535 + 2;
        tcp_state_of(w->s)->tw_iss_on[w->id] = true;
        tcp_conn_drop(w->s, c);
        return true;
}

void tcp_tw_iss(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_state *st = tcp_state_of(w->s);

        if (st->tw_iss_on[w->id] && seq_gt(st->tw_iss[w->id], c->iss))
                c->iss = st->tw_iss[w->id];
}

/* ---- ECN in the handshake (RFC 3168 6.1.1) ---- */

int mpnet_tcp_set_ecn(struct mpnet_stack *s, int mode)
{
        if (mode != MPNET_TCP_ECN_OFF && mode != MPNET_TCP_ECN_ON && mode != MPNET_TCP_ECN_SERVER)
                return -EINVAL;
        atomic_store_explicit(&tcp_state_of(s)->ecn, mode, memory_order_relaxed);
        return 0;
}

static int ecn_mode(struct mpnet_stack *s)
{
        return atomic_load_explicit(&tcp_state_of(s)->ecn, memory_order_relaxed);
}

uint16_t tcp_ecn_syn_flags(struct mpnet_stack *s)
{
        /* An ECN-setup SYN: ECE and CWR. */
        return ecn_mode(s) == MPNET_TCP_ECN_ON ? MPNET_TCP_ECE | MPNET_TCP_CWR : 0;
}

void tcp_ecn_syn_in(struct mpnet_stack *s, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        if (ecn_mode(s) != MPNET_TCP_ECN_OFF &&
            (r->flags & (MPNET_TCP_ECE | MPNET_TCP_CWR)) == (MPNET_TCP_ECE | MPNET_TCP_CWR))
                c->opt |= TCPF_ECN; /* our SYN-ACK says ECE (without CWR) */
}

void tcp_ecn_synack_in(struct mpnet_stack *s, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        /* An ECN-setup SYN-ACK: ECE without CWR, to a SYN that asked. */
        if (ecn_mode(s) == MPNET_TCP_ECN_ON &&
            (r->flags & (MPNET_TCP_ECE | MPNET_TCP_CWR)) == MPNET_TCP_ECE)
                c->opt |= TCPF_ECN;
}

/* ---- socket options ---- */

static int opt_int(const void *val, unsigned len, int *v)
{
        if (val == NULL || len < sizeof(int))
                return -EINVAL;
        memcpy(v, val, sizeof(int));
        return 0;
}

static int set_linger(struct mpnet_sock *so, const void *val, unsigned len)
{
        struct linger l;

        if (val == NULL || len < sizeof(l))
                return -EINVAL;
        memcpy(&l, val, sizeof(l));
        if (l.l_onoff != 0)
                so->tcpo.flags |= SOT_LINGER;
        else
                so->tcpo.flags &= (uint8_t)~SOT_LINGER;
        so->tcpo.linger = l.l_linger < 0 || l.l_linger > 65535 ? 65535 : (uint16_t)l.l_linger;
        return 0;
}

static void set_flag(struct mpnet_sock *so, struct tcp_conn *c, uint8_t sot, uint8_t tcpo, int v)
{
        if (v != 0)
                so->tcpo.flags |= sot;
        else
                so->tcpo.flags &= (uint8_t)~sot;
        if (c == NULL)
                return;
        if (v != 0)
                tcp_o(c)->flags |= tcpo;
        else
                tcp_o(c)->flags &= (uint8_t)~tcpo;
}

int tcp_opt_set(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name, const void *val,
                unsigned len)
{
        struct tcp_conn *c = sock_conn(so);
        struct wctx *w = s->ctx[sock_home(so)]; /* runs there (setopt_home) */
        int v, err;

        if (level == SOL_SOCKET && name == SO_LINGER)
                return set_linger(so, val, len);
        if (!(level == SOL_SOCKET && name == SO_KEEPALIVE) &&
            !(level == IPPROTO_TCP && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
                                       name == TCP_KEEPCNT || name == TCP_CORK)))
                return -ENOPROTOOPT;
        err = opt_int(val, len, &v);
        if (err != 0)
                return err;
        switch (name) {
        case SO_KEEPALIVE:
                set_flag(so, c, SOT_KEEPALIVE, TCPO_KEEPALIVE, v);
                break;
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
                if (v < 1 || v > KA_TIME_MAX)
                        return -EINVAL;
                if (name == TCP_KEEPIDLE)
                        so->tcpo.ka_idle = (uint32_t)v;
                else
                        so->tcpo.ka_intvl = (uint32_t)v;
                break;
        case TCP_KEEPCNT:
                if (v < 1 || v > KA_CNT_MAX)
                        return -EINVAL;
                so->tcpo.ka_cnt = (uint8_t)v;
                break;
        case TCP_CORK:
                set_flag(so, c, SOT_CORK, TCPO_CORK, v);
                if (v == 0 && c != NULL)
                        cork_push(w, c); /* Linux pushes what was held at once */
                return 0;
        }
        if (c != NULL) {
                tcp_o(c)->ka_idle = so->tcpo.ka_idle;
                tcp_o(c)->ka_intvl = so->tcpo.ka_intvl;
                tcp_o(c)->ka_cnt = so->tcpo.ka_cnt;
                if (tcp_o(c)->ka_probes == 0 || !(tcp_o(c)->flags & TCPO_KEEPALIVE))
                        ka_arm(w, c);
        }
        return 0;
}

int tcp_opt_get(const struct mpnet_sock *so, int level, int name, int *v)
{
        if (level == SOL_SOCKET && name == SO_KEEPALIVE) {
                *v = (so->tcpo.flags & SOT_KEEPALIVE) != 0;
                return 0;
        }
        if (level != IPPROTO_TCP)
                return -ENOPROTOOPT;
        switch (name) {
        case TCP_KEEPIDLE:
                *v = so->tcpo.ka_idle != 0 ? (int)so->tcpo.ka_idle : KA_IDLE_DEFAULT;
                return 0;
        case TCP_KEEPINTVL:
                *v = so->tcpo.ka_intvl != 0 ? (int)so->tcpo.ka_intvl : KA_INTVL_DEFAULT;
                return 0;
        case TCP_KEEPCNT:
                *v = so->tcpo.ka_cnt != 0 ? so->tcpo.ka_cnt : KA_CNT_DEFAULT;
                return 0;
        case TCP_CORK:
                *v = (so->tcpo.flags & SOT_CORK) != 0;
                return 0;
        default:
                return -ENOPROTOOPT;
        }
}

static void info_fill(const struct mpnet_sock *so, struct mpnet_tcp_info *i)
{
        const struct tcp_conn *c = so->tcp;

        memset(i, 0, sizeof(*i));
        if (so->flags & SOF_LISTEN) {
                i->state = MPNET_TCP_ST_LISTEN;
                return;
        }
        if (c == NULL)
                return; /* MPNET_TCP_ST_CLOSED */
        i->state = c->state;
        i->options = (uint8_t)(((c->opt & TCPF_TS) ? MPNET_TCPI_OPT_TIMESTAMPS : 0) |
                               ((c->opt & TCPF_SACK) ? MPNET_TCPI_OPT_SACK : 0) |
                               ((c->opt & TCPF_WSCALE) ? MPNET_TCPI_OPT_WSCALE : 0) |
                               ((c->opt & TCPF_ECN) ? MPNET_TCPI_OPT_ECN : 0));
        if (c->opt & TCPF_WSCALE) {
                i->snd_wscale = c->snd_ws;
                i->rcv_wscale = c->rcv_ws;
        }
        i->rto_us = tcp_rto_us(&c->rto);
        i->rtt_us = c->rto.srtt_us;
        i->rttvar_us = c->rto.rttvar_us;
        i->snd_mss = c->mss;
        i->rcv_mss = c->mss_ours;
        i->snd_wnd = c->snd_wnd;
        i->rcv_wnd = c->rcv_wnd;
        i->unacked = c->snd_nxt - c->snd_una;
        i->backoff = c->rto.backoff;
        if (c->d == NULL)
                return;
        i->total_retrans = tcp_o(c)->rtx_total;
        i->probes = tcp_o(c)->ka_probes;
        i->bytes_acked = tcp_o(c)->bytes_acked;
        i->bytes_received = tcp_o(c)->bytes_received;
        tcp_data_info(c, i);
}

int tcp_opt_get_buf(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name, void *val,
                    socklen_t *len)
{
        (void)s;
        if (level == SOL_SOCKET && name == SO_LINGER) {
                struct linger l = {.l_onoff = (so->tcpo.flags & SOT_LINGER) != 0,
                                   .l_linger = so->tcpo.linger};
                socklen_t n = *len < sizeof(l) ? *len : (socklen_t)sizeof(l);

                memcpy(val, &l, n);
                *len = n;
                return 0;
        }
        if (level == IPPROTO_TCP && name == MPNET_TCP_INFO) {
                struct mpnet_tcp_info i;
                socklen_t n = *len < sizeof(i) ? *len : (socklen_t)sizeof(i);

                info_fill(so, &i);
                memcpy(val, &i, n);
                *len = n;
                return 0;
        }
        return -ENOPROTOOPT;
}
