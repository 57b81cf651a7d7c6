/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a listener does beyond its queues (l4/tcp_in.c): SYN cookies (RFC
 * 4987 3.6) when its SYN queue overflows, the limit on the resets a stack
 * sends unasked, and simultaneous open (RFC 9293 3.5 figure 7), the one
 * way into SYN_RECEIVED without a listener.
 *
 * The cookie itself, its MSS table and the options it keeps in the
 * timestamp are l4/tcp_isn.h's (tcp_cookie_make, tcp_cookie_check,
 * tcp_cookie_ts), under a key of the stack's own; a SYN queue that is
 * full, an accept queue with room and the mode decide when one is sent.
 * Without timestamps a cookie connection has neither window scale nor
 * SACK (RFC 4987 3.6).
 *
 * Synchronisation: as l4/tcp_in.c, on the home context of the listener;
 * the settings are atomics any thread may write; cookie_at[] and the
 * reset buckets are each their context's.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "mpnet/tcp.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/tcp.h"
#include "base/siphash.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_seq.h"
#include "stack/stack_priv.h"

/* As l4/tcp_in.c's. */
#define TCP_WSCALE_OURS 7
#define TCP_RCV_WND     65535u
#define TCP_MSS_DEFAULT 536

#define COOKIE_LIFE_NS (2 * TCP_COOKIE_PERIOD_S * MPNET_NS_PER_S)

#define RST_RATE_DEFAULT  200 /* FreeBSD's icmplim */
#define RST_BURST_DEFAULT 200

static uint32_t ts_now(uint64_t now)
{
        return (uint32_t)(now / MPNET_NS_PER_MS); /* as l4/tcp_in.c's clock */
}

void tcp_listen_init(struct mpnet_stack *s, struct tcp_state *st)
{
        uint64_t k0 = stack_random(s), k1 = stack_random(s);

        memcpy(st->lc.cookie_key, &k0, 8);
        memcpy(st->lc.cookie_key + 8, &k1, 8);
        atomic_store(&st->lc.cookies, MPNET_TCP_SYNCOOKIES_OVERFLOW);
        atomic_store(&st->lc.rst_rate, RST_RATE_DEFAULT);
        atomic_store(&st->lc.rst_burst, RST_BURST_DEFAULT);
        /* The cookie budget (include/mpnet/tcp.h): a flood past a full SYN
         * queue costs a listener's worker its drops and at most this many
         * answers; docs/ARCHITECTURE.md, "The cookie limit", has the trade. */
        atomic_store(&st->lc.cookie_rate, MPNET_TCP_COOKIE_RATE_DEFAULT);
        atomic_store(&st->lc.cookie_burst, MPNET_TCP_COOKIE_BURST_DEFAULT);
}

void tcp_listen_reset(struct tcp_state *st)
{
        memset(st->lc.cookie_at, 0, sizeof(st->lc.cookie_at));
        memset(st->lc.rst_tb, 0, sizeof(st->lc.rst_tb));
}

int mpnet_tcp_set_syncookies(struct mpnet_stack *s, int mode)
{
        if (s == NULL || mode < MPNET_TCP_SYNCOOKIES_OFF || mode > MPNET_TCP_SYNCOOKIES_ALWAYS)
                return -EINVAL;
        atomic_store(&tcp_state_of(s)->lc.cookies, mode);
        return 0;
}

int mpnet_tcp_set_rst_limit(struct mpnet_stack *s, unsigned rate, unsigned burst)
{
        struct tcp_state *st;

        if (s == NULL || (rate != 0 && burst == 0))
                return -EINVAL;
        st = tcp_state_of(s);
        atomic_store(&st->lc.rst_burst, burst);
        atomic_store(&st->lc.rst_rate, rate);
        return 0;
}

bool tcp_rst_allow(struct wctx *w)
{
        struct tcp_listen_cfg *lc = &tcp_state_of(w->s)->lc;
        unsigned rate = atomic_load_explicit(&lc->rst_rate, memory_order_relaxed);

        if (rate == 0 ||
            ctx_bucket_take(w, &lc->rst_tb[w->id], rate,
                            atomic_load_explicit(&lc->rst_burst, memory_order_relaxed)))
                return true;
        tcp_count(w->s, TCPC_RST_LIMITED);
        return false;
}

int mpnet_tcp_set_cookie_limit(struct mpnet_stack *s, unsigned rate, unsigned burst)
{
        struct tcp_state *st;

        if (s == NULL || (rate != 0 && burst == 0))
                return -EINVAL;
        st = tcp_state_of(s);
        atomic_store(&st->lc.cookie_burst, burst);
        atomic_store(&st->lc.cookie_rate, rate);
        return 0;
}

/* ---- SYN cookies ---- */

/* Whether listener l answers a SYN with a cookie (in mode mode): past a
 * full SYN queue, or always; never with a full accept queue (as Linux). */
static bool cookie_due(int mode, const struct tcp_listen *l)
{
        if (mode == MPNET_TCP_SYNCOOKIES_OFF ||
            (mode == MPNET_TCP_SYNCOOKIES_OVERFLOW && l->n_syn < l->backlog))
                return false;
        return l->n_acc < l->backlog;
}

bool tcp_cookie_limited(struct wctx *w, struct mpnet_sock *so, uint16_t flags)
{
        struct tcp_listen_cfg *lc = &tcp_state_of(w->s)->lc;
        unsigned rate = atomic_load_explicit(&lc->cookie_rate, memory_order_relaxed);
        struct tcp_listen *l = so->tcp;

        /* What tcp_listen_input() sends to tcp_cookie_syn(): a SYN alone
         * (RFC 9293 3.10.7.2: RST first, then ACK, then SYN). */
        if (rate == 0 || (flags & (MPNET_TCP_SYN | MPNET_TCP_ACK | MPNET_TCP_RST)) != MPNET_TCP_SYN)
                return false;
        if (!cookie_due(atomic_load_explicit(&lc->cookies, memory_order_relaxed), l))
                return false;
        if (token_take(&l->cookie_tb.tokens, &l->cookie_tb.last, ctx_now(w), rate,
                       atomic_load_explicit(&lc->cookie_burst, memory_order_relaxed)))
                return false;
        tcp_count(w->s, TCPC_COOKIE_LIMITED);
        return true;
}

unsigned tcp_cookie_budget(struct wctx *w, struct mpnet_sock *so, uint64_t now)
{
        struct tcp_listen_cfg *lc = &tcp_state_of(w->s)->lc;
        unsigned rate = atomic_load_explicit(&lc->cookie_rate, memory_order_relaxed);
        struct tcp_listen *l = so->tcp;
        uint64_t n;

        if (rate == 0 || !cookie_due(atomic_load_explicit(&lc->cookies, memory_order_relaxed), l))
                return UINT_MAX;
        n = token_count(&l->cookie_tb.tokens, &l->cookie_tb.last, now, rate,
                        atomic_load_explicit(&lc->cookie_burst, memory_order_relaxed));
        return n < UINT_MAX ? (unsigned)n : UINT_MAX - 1;
}

/*
 * The cookie's SYN-ACK, built in place (no repr, no option walk): the
 * bytes mpnet_tcp_opts_emit() lays out for the same options (MSS;
 * SACK-permitted or two NOPs, then the timestamps; NOP, window scale).
 * The sequence number and the flags are tcp_output_tmpl_in()'s to write.
 * Every SYN past a full queue comes here: keep it to stores.
 */
static void cookie_synack_hdr(struct tcp_tmpl *h, const struct tcp_tuple *t, uint32_t ack,
                              uint16_t mss, const struct mpnet_tcp_repr *r, uint32_t ts_val)
{
        uint8_t *b = h->b, *o = b + MPNET_TCP_HLEN;
        uint16_t present = r->opts.present;

        mpnet_put_be16(b, t->lport);
        mpnet_put_be16(b + 2, t->rport);
        mpnet_put_be32(b + 8, ack);
        mpnet_put_be16(b + 14, (uint16_t)TCP_RCV_WND); /* RFC 7323 2.2: not scaled */
        memset(b + 16, 0, 4);                          /* checksum, urgent pointer */
        o[0] = MPNET_TCPOPT_MSS;
        o[1] = 4;
        mpnet_put_be16(o + 2, mss);
        o += 4;
        /* Without timestamps: MSS alone, no room for the rest (RFC 4987 3.6). */
        if (present & MPNET_TCPO_TS) {
                if (present & MPNET_TCPO_SACK_PERM) {
                        o[0] = MPNET_TCPOPT_SACK_PERM;
                        o[1] = 2;
                } else {
                        o[0] = o[1] = MPNET_TCPOPT_NOP;
                }
                o[2] = MPNET_TCPOPT_TS;
                o[3] = 10;
                mpnet_put_be32(o + 4, ts_val);
                mpnet_put_be32(o + 8, r->opts.ts_val); /* TSecr (RFC 7323 3.2) */
                o += 12;
                if (present & MPNET_TCPO_WSCALE) {
                        o[0] = MPNET_TCPOPT_NOP;
                        o[1] = MPNET_TCPOPT_WSCALE;
                        o[2] = 3;
                        o[3] = TCP_WSCALE_OURS;
                        o += 4;
                }
        }
        h->t = t;
        h->hlen = (uint8_t)(o - b);
        b[12] = (uint8_t)((h->hlen / 4) << 4);
}

bool tcp_cookie_syn(struct wctx *w, struct mpnet_sock *so, const struct tcp_tuple *t,
                    const struct mpnet_tcp_repr *r, uint32_t mtu)
{
        struct tcp_listen_cfg *lc = &tcp_state_of(w->s)->lc;
        int mode = atomic_load_explicit(&lc->cookies, memory_order_relaxed);
        const struct tcp_listen *l = so->tcp;
        uint64_t now;
        uint16_t mss, peer = TCP_MSS_DEFAULT;
        uint32_t ts_val = 0;
        struct tcp_ctx *tc = w->mctx[MOD_tcp];
        struct mpnet_pkt *in;
        struct tcp_tmpl h;
        struct tcp_seg_out so_ = {.t = t, .flags = MPNET_TCP_SYN | MPNET_TCP_ACK};

        /* A full accept queue drops the SYN, cookie or not (as Linux);
         * tcp_cookie_limited() took the limit's token already. */
        if (!cookie_due(mode, l))
                return false;
        now = ctx_now(w);
        mss = tcp_mss_ours(t, mtu);
        if (r->opts.present & MPNET_TCPO_MSS)
                peer = r->opts.mss;
        if (r->opts.present & MPNET_TCPO_TS) {
                struct tcp_cookie_opts co = {
                    .wscale_ok = (r->opts.present & MPNET_TCPO_WSCALE) != 0,
                    .wscale = r->opts.wscale,
                    .sack_ok = (r->opts.present & MPNET_TCPO_SACK_PERM) != 0,
                };

                ts_val = tcp_cookie_ts(ts_now(now), &co);
        }
        so_.seq = tcp_cookie_make(lc->cookie_key, t, r->seq, peer < mss ? peer : mss,
                                  now / MPNET_NS_PER_S);
        cookie_synack_hdr(&h, t, r->seq + 1, mss, r, ts_val);
        /* The SYN's own buffer carries the answer (as an echo reply
         * would): no allocation, and the buffer goes back to the pool it
         * came from. t and r are copies; nothing reads the SYN after. */
        in = tc->in_p;
        tc->in_p = NULL;
        if (tcp_output_tmpl_in(w, &h, &so_, in) != 0)
                tcp_count(w->s, TCPC_OUT_FAIL);
        else
                tcp_count(w->s, TCPC_OUT);
        lc->cookie_at[w->id] = now;
        tcp_count(w->s, TCPC_COOKIE_SENT);
        return true;
}

/* A connection from a valid cookie (carrying mss), ESTABLISHED at once. */
static void cookie_conn(struct wctx *w, struct mpnet_sock *so, const struct tcp_tuple *t,
                        const struct mpnet_tcp_repr *r, uint32_t mtu, uint16_t mss)
{
        struct mpnet_stack *s = w->s;
        struct tcp_state *st = tcp_state_of(s);
        struct tcp_listen *l = so->tcp;
        uint8_t opt = 0, snd_ws = 0;
        struct tcp_conn *c;

        if (r->opts.present & MPNET_TCPO_TS) {
                struct tcp_cookie_opts co;

                tcp_cookie_ts_decode(r->opts.ts_ecr, &co);
                opt = TCPF_TS;
                if (co.wscale_ok) {
                        opt |= TCPF_WSCALE;
                        snd_ws = co.wscale;
                }
                if (co.sack_ok)
                        opt |= TCPF_SACK;
        }
        /* The peer thinks it is connected: with the queue full, drop the
         * ACK and let it come again (Linux's listen overflow). */
        if (l->n_acc >= l->backlog) {
                tcp_count(s, TCPC_COOKIE_ACCQ_FULL);
                return;
        }
        c = tcp_conn_alloc(w);
        if (c == NULL) {
                STK_INC(s, nobufs);
                return;
        }
        c->t = *t;
        c->home = (uint8_t)w->id;
        c->state = TCP_ESTABLISHED;
        c->opt = opt;
        c->snd_ws = snd_ws;
        c->rcv_ws = (opt & TCPF_WSCALE) ? TCP_WSCALE_OURS : 0;
        c->irs = r->seq - 1;
        c->rcv_nxt = r->seq;
        c->rcv_wnd = TCP_RCV_WND;
        c->iss = r->ack - 1;
        c->snd_una = c->snd_nxt = r->ack;
        c->snd_wnd = c->max_snd_wnd = (uint32_t)r->window << snd_ws;
        c->mss_ours = tcp_mss_ours(t, mtu);
        c->mss = mss < c->mss_ours ? mss : c->mss_ours;
        if (opt & TCPF_TS)
                c->ts_recent = r->opts.ts_val;
        c->rtx_at = MPNET_TIME_NEVER;
        tcp_rto_init(&c->rto, TCP_RTO_MIN_US);
        c->lso = so;
        /* The data path's part (l4/tcp_data.c: buffers from the listener's
         * sizes). */
        if (tcp_established(w, c) != 0) {
                free(c);
                STK_INC(s, nobufs);
                return;
        }
        if (tcp_conn_insert(s, &st->ct, c) != 0) {
                tcp_conn_free(c); /* not published */
                return;
        }
        if (l->acc_tail != NULL)
                l->acc_tail->qnext = c;
        else
                l->acc_head = c;
        l->acc_tail = c;
        l->n_acc++;
        tcp_count(s, TCPC_COOKIE_OK);
        tcp_count(s, TCPC_ACCEPTED);
        sock_raise(so, EPOLLIN);
}

void tcp_listen_ack(struct wctx *w, struct mpnet_sock *so, const struct tcp_tuple *t,
                    const struct mpnet_tcp_repr *r, uint32_t mtu)
{
        struct tcp_listen_cfg *lc = &tcp_state_of(w->s)->lc;
        int mode = atomic_load_explicit(&lc->cookies, memory_order_relaxed);
        uint64_t now = ctx_now(w), at = lc->cookie_at[w->id];
        struct tcp_seg_out o = {.t = t, .seq = r->ack, .flags = MPNET_TCP_RST};

        /* Cookies are looked for while this context may have some out
         * (Linux's tcp_synq_no_recent_overflow), or always in mode 2. */
        if (!(r->flags & MPNET_TCP_SYN) &&
            (mode == MPNET_TCP_SYNCOOKIES_ALWAYS ||
             (mode == MPNET_TCP_SYNCOOKIES_OVERFLOW && at != 0 && now - at < COOKIE_LIFE_NS))) {
                uint16_t mss = tcp_cookie_check(lc->cookie_key, t, r->seq - 1, r->ack - 1,
                                                now / MPNET_NS_PER_S);

                if (mss != 0) {
                        cookie_conn(w, so, t, r, mtu, mss);
                        return;
                }
                tcp_count(w->s, TCPC_COOKIE_BAD);
        }
        /* RFC 9293 3.10.7.2: an ACK in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>. */
        tcp_count(w->s, TCPC_BAD_ACK);
        if (tcp_rst_allow(w))
                tcp_send_out(w, &o, NULL);
}

/* ---- simultaneous open ---- */

static void simopen_synack(struct wctx *w, struct tcp_conn *c)
{
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = c->mss_ours};
        struct tcp_seg_out so = {
            .t = &c->t,
            .seq = c->iss,
            .ack = c->rcv_nxt,
            .flags = MPNET_TCP_SYN | MPNET_TCP_ACK,
            .window = (uint16_t)(c->rcv_wnd > 65535 ? 65535 : c->rcv_wnd),
        };

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
        tcp_send_out(w, &so, &o);
}

/* RFC 9293 3.10.7.3, SYN_SENT, fourth: a SYN without ACK. Our SYN offered
 * every option: the peer's SYN says which it takes, as its SYN-ACK would. */
void tcp_simopen_syn(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        c->irs = r->seq;
        c->rcv_nxt = r->seq + 1;
        tcp_syn_opts(c, r);
        c->state = TCP_SYN_RECEIVED; /* still an embryo: stays on its list */
        tcp_count(w->s, TCPC_SIMOPEN);
        simopen_synack(w, c);
        /* The SYN-ACK's retransmissions (tcp_timers) count afresh. */
        c->tries = 1;
        c->rtx_at = ctx_now(w) + (uint64_t)tcp_rto_us(&c->rto) * 1000;
        ctx_svc_arm(w, c->rtx_at);
}

static void simopen_established(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        bool syn = (r->flags & MPNET_TCP_SYN) != 0;

        c->snd_una = r->ack;
        /* RFC 7323 2.2: a SYN's window is never scaled. */
        c->snd_wnd = syn ? r->window : (uint32_t)r->window << c->snd_ws;
        if (c->snd_wnd > c->max_snd_wnd)
                c->max_snd_wnd = c->snd_wnd;
        if ((c->opt & TCPF_TS) && (r->opts.present & MPNET_TCPO_TS))
                c->ts_recent = r->opts.ts_val;
        if (tcp_established(w, c) != 0) {
                /* No memory for the buffers: the connect fails. */
                STK_INC(w->s, nobufs);
                tcp_send_ctl(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt);
                if (c->so != NULL) {
                        c->so->err = ENOMEM;
                        sock_raise(c->so, EPOLLERR | EPOLLHUP | EPOLLOUT | EPOLLIN);
                }
                tcp_conn_drop(w->s, c);
                return;
        }
        c->state = TCP_ESTABLISHED;
        tcp_embryo_del(c);
        if (c->so != NULL) {
                c->so->flags |= SOF_CONNECTED;
                sock_raise(c->so, EPOLLOUT);
        }
}

bool tcp_simopen_ack(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        uint16_t f = r->flags & (MPNET_TCP_SYN | MPNET_TCP_ACK | MPNET_TCP_RST);

        if (!(f & MPNET_TCP_ACK) || r->ack != c->snd_nxt)
                return false;
        /* Figure 7 line 6: the peer's SYN-ACK, its SYN the one we took (as
         * Linux's tcp_validate_incoming lets it past RFC 5961 4.2). */
        if (f == (MPNET_TCP_SYN | MPNET_TCP_ACK) && r->seq + 1 == c->rcv_nxt) {
                simopen_established(w, c, r);
                return true;
        }
        if (f != MPNET_TCP_ACK)
                return false;
        /* The ACK of our SYN-ACK; one not at RCV.NXT gets an ACK (RFC 9293
         * 3.10.7.4 first check) and waits for the right one. */
        if (r->seq != c->rcv_nxt) {
                tcp_count(w->s, TCPC_OUT_OF_WINDOW);
                tcp_send_ctl(w, c, MPNET_TCP_ACK, c->snd_nxt);
                return true;
        }
        simopen_established(w, c, r);
        return true;
}
