/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's data path and close (RFC 9293 3.8, 3.9, 3.10.4-7): a send buffer
 * and a receive buffer (byte rings, per connection), segmentation to the
 * MSS, a bounded out-of-order queue with SACK blocks (RFC 2018), the
 * receive window with window scaling (RFC 7323 2) and receiver
 * silly-window avoidance, timestamps and PAWS (RFC 7323 3-5), ACK policy
 * (quick ACKs at start, every second full segment, a 40 ms delayed ACK,
 * RFC 9293 3.8.6.3), retransmission on RTO (RFC 6298, tcp_rto), fast
 * retransmit with NewReno recovery (RFC 6582) and limited transmit (RFC
 * 3042), with SACK agreed the peer's blocks (RFC 6675, l4/tcp_sack.c) and
 * RACK-TLP (RFC 8985, l4/tcp_rack.c), congestion control through tcp_cc
 * (CUBIC by default), Nagle
 * (RFC 9293 3.7.4) and the persist timer (3.8.6.1); FIN_WAIT_1/2, CLOSING,
 * TIME_WAIT (2 MSL), CLOSE_WAIT, LAST_ACK. Buffer auto-tuning, as Linux's
 * (tcp_rcv_space_adjust, tcp_sndbuf_expand): unless the application set
 * SO_RCVBUF or SO_SNDBUF, the receive buffer grows to twice what the
 * application read in a round trip (timed in us: rcv_rtt_window), the send
 * buffer to twice what may be in flight, each up to the stack's
 * tcp_state.rmem_max/wmem_max.
 *
 * Timers: a connection with a deadline armed is on its home context's
 * timer list (tcp_ctx.tq); that context's service walks its list only.
 * TIME_WAIT is the exception: every one lasts 2 MSL, so they queue by
 * their end (tcp_ctx.tw) and the service looks at the queue's head, as
 * FreeBSD's 2MSL list does; a busy server's tens of thousands of closed
 * connections are never walked.
 *
 * Rings: a ring's first block (TCP_RING_MIN bytes) comes from and goes
 * back to its home context's small cache (tcp_ctx.ring_cache, bounded,
 * freed with the context), so a short connection costs no malloc or free
 * for its data; larger rings are malloc's.
 *
 * Runs on the connection's home context (a worker or the control thread;
 * its socket calls are handed there, l4/tcp_home.c); no lock.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#ifndef TCP_NODELAY
#define TCP_NODELAY 1 /* <netinet/tcp.h>, whose state names clash with ours */
#endif

#include "mpnet/tcp.h"
#include "mpnet/wire/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_cc.h"
#include "l4/tcp_sack.h"
#include "l4/tcp_seq.h"
#include "stack/stack_priv.h"
#include "base/pkt_ext.h"

#define TCP_BUF_DEFAULT SOCK_RCVBUF_DEFAULT
#define TCP_BUF_MAX     (4u << 20)
#define TCP_FCAP_MAX    (1u << 30) /* flight_cap's, under any window */
/* Out-of-order segments held at most; their bytes are bounded by the
 * receive buffer (the window). A window's worth: a 4 MiB window after one
 * loss holds ~2900 full segments, and dropping those past a smaller count
 * made the sender resend whole windows (docs/PERFORMANCE.md). */
#define TCP_OOO_MAX        4096
#define TCP_QUICKACKS      16 /* segments ACKed at once at the start, as Linux */
#define TCP_DACK_NS        (40ull * MPNET_NS_PER_MS)
#define TCP_RTX_TRIES      15                       /* as Linux's tcp_retries2 */
#define TCP_FIN2_NS        (60ull * MPNET_NS_PER_S) /* an orphan's FIN_WAIT_2, Linux's */
#define TCP_PERSIST_MAX_NS (60ull * MPNET_NS_PER_S)
#define TCP_SEG_MAX        16384 /* the most one segment carries (crosses one chunk at most) */
#define TCP_RING_MIN       4096  /* a ring's first allocation; it doubles up to the buffer */
#define TCP_RCV_RTT_WIN_US (10u * 1000000u) /* rcv_rtt_sample()'s window, BBR's min_rtt one */
#define TCP_RQ_MAX         128 /* super-segments a receive queue holds (8 MiB of 64 KiB ones) */
#define TCP_SCHUNK         PKT_EXT_SPARE_SIZE /* a send buffer chunk's bytes (a power of two) */
_Static_assert(TCP_SEG_MAX <= TCP_SCHUNK, "a segment crosses one chunk's end at most");

/* Super-segments taken whole (GRO chains): their payloads follow the
 * receive ring's bytes, and recv copies them to the application straight
 * from the buffers, one copy a byte where the ring made two. A circle of
 * TCP_RQ_MAX, allocated with the first one taken. Bounded: the buffers
 * held stay under twice the receive buffer (their bytes count in the
 * window as the ring's) and a quarter of their pool, so a reader that
 * lags cannot starve the link of buffers; past either, or with an
 * out-of-order queue, the queue is copied into the ring (rq_collapse) and
 * segments go there as before. */
struct tcp_rq {
        uint16_t head, n;
        uint32_t bufs; /* buffers held, chains' segments all counted */
        struct {
                struct mpnet_pkt *p;
                uint32_t off, len; /* the unread payload: from offset off of the chain */
        } e[TCP_RQ_MAX];
};

struct tcp_ooo {
        struct tcp_ooo *next; /* by seq */
        uint32_t seq, len;
        bool fin;
        uint8_t b[];
};

struct tcp_data {
        struct tcp_copt o; /* first: tcp_o() (l4/tcp.h) finds it from c->d */
        struct tcp_conn *c;
        struct tcp_data *tnext, **tpprev; /* the timer list; tpprev NULL: off */
        uint64_t dack_at, tw_at;          /* delayed ACK; an orphan's FIN_WAIT_2 end */
        /* Send: bytes from SND.UNA on, sent or not, slen of them (at most
         * scap) from offset soff of the first of sn_k chunks of
         * TCP_SCHUNK bytes (sb, sb_n slots, the first SND.UNA's): see
         * "The send buffer" below. The receive ring holds ralloc bytes
         * (0: none yet), growing with what it holds up to the buffer size
         * rcap. */
        struct pkt_ext **sb;
        uint32_t scap;
        uint16_t sb_n, sb_k;
        uint32_t soff, slen;
        uint32_t snd_cur; /* the next to send (SND.NXT rewinds to it on RTO) */
        uint32_t fin_seq; /* the FIN's, when fin_q */
        uint32_t snd_sml; /* the end of the last short segment sent (Minshall) */
        bool fin_q;
        bool nodelay;
        bool persist;  /* rtx_at is the persist timer */
        uint8_t tries; /* expiries in a row */
        /* Receive: in order, not read: rlen bytes, the ring's first (rlen
         * - rqb from roff), then the receive queue's rqb. */
        uint8_t *rb;
        uint32_t rcap, ralloc, roff, rlen;
        struct tcp_rq *rq; /* NULL until a super-segment is taken */
        uint32_t rqb;
        uint32_t rcv_adv; /* the right edge advertised */
        uint32_t last_ack_sent;
        bool fin_in;
        bool ack_vec; /* dack_at is now: the ACK of a receive vector */
        uint8_t quick;
        uint32_t unacked;               /* bytes received since the last ACK */
        uint32_t rcv_adv_max;           /* the furthest right edge advertised */
        struct tcp_ooo *ooo, *ooo_tail; /* by seq; the tail takes in-order arrivals at once */
        unsigned n_ooo;
        uint32_t ooo_bytes;
        /* Auto-tuning: whether each buffer may grow; the bytes the
         * application read since rspace_t, and the most it read in a
         * round trip (rspace, Linux's rcvq_space.space); the receiver's
         * RTT estimate (rcv_rtt_sample: the timestamps echoed, RFC 7323
         * 4.2's idea on this side, and a window's worth timed, rrtt_*). */
        bool rauto, sauto;
        uint32_t rgrown, sgrown; /* this connection's share of tcp_state's */
        uint32_t rcopied, rspace, rcv_rtt_last;
        struct tcp_minmax rcv_rtt_min; /* its s[0].v: the least sample, the estimate */
        /* now_us32's: the times wrap in 71 minutes, so a connection idle
         * longer takes one look as if less time had passed (growth stays
         * within rmem_max and the stack's budget); the fields fit holes,
         * an idle connection stays under 1 KiB (test_tcp_conns). */
        uint32_t rspace_t;
        uint32_t rrtt_seq; /* rcv_adv_max before the ACK sent at rrtt_t moved it */
        uint32_t rrtt_t;   /* 0: no window timed */
        uint32_t ooo_last; /* the latest out-of-order segment's seq (RFC 2018 4) */
        /* A duplicate to report, once, as the first SACK block of the
         * next ACK (RFC 2883 4). */
        bool dsack_on;
        uint32_t dsack_l, dsack_r;
        /* RTT (Karn: timed segments are never retransmitted ones). */
        uint32_t rtt_seq;
        uint64_t rtt_t;
        bool rtt_on;
        /* Loss recovery. */
        uint16_t dupacks;
        bool recovery;
        uint32_t recover;
        /* Auto-tuning's bound on what is in flight (flight_cap; 0: none
         * yet), beside cwnd and the peer's window. */
        uint32_t fcap;
        struct tcp_cc cc;
        struct tcp_prr prr; /* in recovery, SACK or NewReno (RFC 6937) */
        bool cwr;           /* an ECN reduction under way, by PRR until cwr_end */
        uint32_t cwr_end;
        struct tcp_undo undo; /* a reduction's undo (l4/tcp_cc.c) */
        struct tcp_pace pace; /* l4/tcp_out.c */
        uint64_t pace_tmr;    /* a segment held by pacing goes then, or MPNET_TIME_NEVER */
        bool pace_off;        /* the stack does not pace (mpnet_tcp_set_pacing) */
        struct tcp_sack *sk;  /* SACK agreed and used (l4/tcp_sack.c), or NULL */
};

static uint32_t ts_now(uint64_t now)
{
        return (uint32_t)(now / MPNET_NS_PER_MS);
}

static uint64_t now_us(struct wctx *w)
{
        return ctx_now(w) / 1000;
}

/* The send map's clock (microseconds, wrapping). */
static uint32_t now_us32(struct wctx *w)
{
        return (uint32_t)now_us(w);
}

/* ---- timers ---- */

static void tq_link(struct tcp_ctx *st, struct tcp_data *d)
{
        if (d->tpprev != NULL)
                return;
        d->tnext = st->tq;
        if (st->tq != NULL)
                st->tq->tpprev = &d->tnext;
        st->tq = d;
        d->tpprev = &st->tq;
}

static void tq_unlink(struct tcp_data *d)
{
        if (d->tpprev == NULL)
                return;
        *d->tpprev = d->tnext;
        if (d->tnext != NULL)
                d->tnext->tpprev = d->tpprev;
        d->tnext = NULL;
        d->tpprev = NULL;
}

static void arm(struct wctx *w, struct tcp_data *d, uint64_t *at, uint64_t when)
{
        *at = when;
        tq_link(tcp_ctx_of(w), d);
        ctx_svc_arm(w, when);
}

static struct tcp_conn *tw_conn(struct tcp_twq *q)
{
        return (struct tcp_conn *)(void *)((char *)q - offsetof(struct tcp_conn, twl));
}

void tcp_tw_unlink(struct tcp_conn *c)
{
        if (c->state != TCP_TIME_WAIT || c->twl.next == NULL)
                return;
        c->twl.prev->next = c->twl.next;
        c->twl.next->prev = c->twl.prev;
        c->twl.next = c->twl.prev = NULL;
}

/* TIME_WAIT ends at when (c->tw_at): c goes into the queue by its end,
 * looked for from the tail, where every new 2 MSL goes unless the MSL was
 * shortened meanwhile. */
static void tw_arm(struct wctx *w, struct tcp_conn *c, uint64_t when)
{
        struct tcp_twq *h = &tcp_ctx_of(w)->tw, *q;

        if (h->next == NULL)
                h->next = h->prev = h;
        tcp_tw_unlink(c);
        c->tw_at = when;
        for (q = h->prev; q != h && tw_conn(q)->tw_at > when; q = q->prev)
                ;
        c->twl.prev = q;
        c->twl.next = q->next;
        q->next->prev = &c->twl;
        q->next = &c->twl;
        ctx_svc_arm(w, when);
}

/* The ends of TIME_WAIT due by now. @return the next one's time. The
 * queue is this context's alone and shrinks each turn. */
static uint64_t tw_expire(struct wctx *w, uint64_t now)
{
        struct tcp_twq *h = &tcp_ctx_of(w)->tw;

        while (h->next != NULL && h->next != h) {
                struct tcp_conn *c = tw_conn(h->next);

                if (c->tw_at > now)
                        return c->tw_at;
                tcp_tw_unlink(c);
                tcp_conn_drop(w->s, c);
        }
        return MPNET_TIME_NEVER;
}

/* A ring block of n bytes: the first size from the context's cache. */
static uint8_t *ring_alloc(struct wctx *w, uint32_t n)
{
        struct tcp_ctx *x = tcp_ctx_of(w);

        if (n == TCP_RING_MIN && x->n_ring_cache > 0)
                return x->ring_cache[--x->n_ring_cache];
        return malloc(n);
}

/* Give back a ring block of n bytes (b may be NULL). */
static void ring_release(struct wctx *w, uint8_t *b, uint32_t n)
{
        struct tcp_ctx *x = tcp_ctx_of(w);

        if (b != NULL && n == TCP_RING_MIN && x->n_ring_cache < TCP_RING_CACHE)
                x->ring_cache[x->n_ring_cache++] = b;
        else
                free(b);
}

void tcp_ring_cache_free(struct tcp_ctx *x)
{
        while (x->n_ring_cache > 0)
                free(x->ring_cache[--x->n_ring_cache]);
}

static uint64_t rto_ns(const struct tcp_conn *c)
{
        return (uint64_t)tcp_rto_us(&c->rto) * 1000;
}

/* ---- rings ---- */

static void ring_read(const uint8_t *b, uint32_t cap, uint32_t off, uint32_t n, uint8_t *to)
{
        uint32_t a = cap - off < n ? cap - off : n;

        memcpy(to, b + off, a);
        memcpy(to + a, b, n - a);
}

static void ring_write(uint8_t *b, uint32_t cap, uint32_t off, const uint8_t *from, uint32_t n)
{
        uint32_t a = cap - off < n ? cap - off : n;

        memcpy(b + off, from, a);
        memcpy(b, from + a, n - a);
}

/* Room in a ring (*b of *alloc bytes, len of them held from *off) for
 * need more, up to cap: it doubles from TCP_RING_MIN, the bytes held
 * moved to the front of the new one. @return 0, or -ENOMEM (the ring as
 * it was). */
static int ring_room(struct wctx *w, uint8_t **b, uint32_t *alloc, uint32_t *off, uint32_t len,
                     uint32_t need, uint32_t cap)
{
        uint32_t n = *alloc != 0 ? *alloc : TCP_RING_MIN;
        uint8_t *nb;

        if (*b != NULL && len + need <= *alloc)
                return 0;
        while (n < len + need && n < cap)
                n *= 2;
        if (n > cap)
                n = cap;
        if (*b != NULL && n <= *alloc)
                return 0; /* at the buffer size: the caller's limit */
        nb = ring_alloc(w, n);
        if (nb == NULL)
                return -ENOMEM;
        if (len > 0)
                ring_read(*b, *alloc, *off, len, nb);
        ring_release(w, *b, *alloc);
        *b = nb;
        *alloc = n;
        *off = 0;
        return 0;
}

/* ---- the send buffer ----
 *
 * The application's bytes are written once, by send(), into chunks of
 * TCP_SCHUNK bytes (base/pkt_ext.h: malloc'd, reference-counted), in
 * sequence order, and stay there until acknowledged. A segment is copied
 * from them (with its sum: l4/tcp_out.c seg_send), a super-segment
 * references them (tcp_output_tso: a link with TSO carries the
 * application's bytes without another copy, and a receiver may keep them
 * until read: a chunk goes when its last reference does, the send
 * buffer's when the bytes are acknowledged). Bytes in a chunk never
 * change once written; a chunk the buffer alone holds when everything is
 * acknowledged is reused from its start (its lines are still in the
 * cache), as the receive ring. Only the chunks' bytes count in
 * tcp_data_mem(); slen stays at most scap (SO_SNDBUF) as before. */

/* The chunk holding the byte off bytes after SND.UNA, *at its offset in it. */
static struct pkt_ext *sb_chunk(const struct tcp_data *d, uint32_t off, uint32_t *at)
{
        uint32_t g = d->soff + off;

        *at = g % TCP_SCHUNK;
        return d->sb[g / TCP_SCHUNK];
}

/* The pieces of [off, off + n) after SND.UNA, a chunk's at most each, into
 * pc (max of them). @return how many, 0 if more were needed. */
static unsigned sb_pieces(const struct tcp_data *d, uint32_t off, uint32_t n, struct tcp_piece *pc,
                          unsigned max)
{
        unsigned i = 0;

        while (n > 0) {
                uint32_t at;
                struct pkt_ext *e = sb_chunk(d, off, &at);
                uint32_t k = TCP_SCHUNK - at < n ? TCP_SCHUNK - at : n;

                if (i == max)
                        return 0;
                pc[i++] = (struct tcp_piece){.e = e, .p = e->b + at, .n = k};
                off += k;
                n -= k;
        }
        return i;
}

/* Append n bytes at b (the room under scap is the caller's): new chunks as
 * the bytes reach them. @return the bytes appended, fewer if no memory. */
static uint32_t sb_write(struct tcp_data *d, const uint8_t *b, uint32_t n)
{
        uint32_t done = 0;

        while (done < n) {
                uint32_t g = d->soff + d->slen, i = g / TCP_SCHUNK, at = g % TCP_SCHUNK, k;

                if (i == d->sb_k) {
                        struct pkt_ext *e;

                        if (d->sb_k == d->sb_n) {
                                uint32_t m = d->sb_n != 0 ? 2u * d->sb_n : 4u;
                                struct pkt_ext **nb = realloc(d->sb, m * sizeof(*nb));

                                if (nb == NULL)
                                        break;
                                d->sb = nb;
                                d->sb_n = (uint16_t)m;
                        }
                        e = pkt_ext_new(TCP_SCHUNK);
                        if (e == NULL)
                                break;
                        d->sb[d->sb_k++] = e;
                }
                k = TCP_SCHUNK - at < n - done ? TCP_SCHUNK - at : n - done;
                memcpy(d->sb[i]->b + at, b + done, k);
                d->slen += k;
                done += k;
        }
        return done;
}

/* n bytes acknowledged: the chunks passed go (the buffer's reference);
 * emptied, the buffer starts again at the start of a chunk it alone holds. */
static void sb_consume(struct tcp_data *d, uint32_t n)
{
        d->soff += n;
        d->slen -= n;
        while (d->sb_k > 0 && (d->soff >= TCP_SCHUNK ||
                               (d->slen == 0 && d->soff > 0 && !pkt_ext_alone(d->sb[0])))) {
                pkt_ext_put(d->sb[0]);
                /* At most 258 pointers (4 MiB of chunks), once a chunk. */
                memmove(d->sb, d->sb + 1, (--d->sb_k) * sizeof(*d->sb));
                d->soff = d->soff >= TCP_SCHUNK ? d->soff - TCP_SCHUNK : 0;
        }
        if (d->slen == 0)
                d->soff = 0;
}

/* Give the send buffer back. */
static void sb_free(struct tcp_data *d)
{
        for (uint32_t j = 0; j < d->sb_k; j++)
                pkt_ext_put(d->sb[j]);
        free(d->sb);
        d->sb = NULL;
        d->sb_n = d->sb_k = 0;
        d->soff = d->slen = 0;
}

/* Take up to n bytes of a stack's growth budget (*used of max, all its
 * connections together): @return what was granted, maybe 0. */
static uint32_t budget_take(_Atomic uint64_t *used, uint32_t n, uint32_t max)
{
        uint64_t cur = atomic_load_explicit(used, memory_order_relaxed), g;

        do {
                g = cur < max ? max - cur : 0;
                if (g > n)
                        g = n;
                if (g == 0)
                        return 0;
        } while (!atomic_compare_exchange_weak_explicit(used, &cur, cur + g, memory_order_relaxed,
                                                        memory_order_relaxed));
        return (uint32_t)g;
}

void tcp_data_budget_put(struct tcp_state *st, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        if (d == NULL)
                return;
        if (d->rgrown != 0)
                atomic_fetch_sub_explicit(&st->rgrown, d->rgrown, memory_order_relaxed);
        if (d->sgrown != 0)
                atomic_fetch_sub_explicit(&st->sgrown, d->sgrown, memory_order_relaxed);
        d->rgrown = d->sgrown = 0;
}

/* The size a buffer of cap grows to for want bytes (auto-tuning): at
 * least double, at most max. 0: no growth. The ring follows on its own
 * (ring_room) as it fills. */
static uint32_t grow_to(uint32_t cap, uint64_t want, uint32_t max)
{
        uint64_t n = (uint64_t)cap * 2;

        if (want <= cap || cap >= max)
                return 0;
        if (n < want)
                n = want;
        return n > max ? max : (uint32_t)n;
}

static void rcv_rtt_sample(struct wctx *w, struct tcp_data *d, uint32_t us);
static void rcv_rtt_window(struct wctx *w, struct tcp_data *d);

/* ---- output ---- */

static uint32_t smss(const struct tcp_conn *c)
{
        uint32_t m = c->mss - ((c->opt & TCPF_TS) ? 12 : 0); /* RFC 6691 */

        return m > TCP_SEG_MAX ? TCP_SEG_MAX : m;
}

/* The window to advertise now (RFC 9293 3.8.6.2.2: the right edge moves
 * on only by min(buffer / 2, MSS) at a time, and never back). */
static uint32_t rcv_window(struct tcp_data *d)
{
        struct tcp_conn *c = d->c;
        uint32_t free_ = d->rcap - d->rlen,
                 cur = seq_gt(d->rcv_adv, c->rcv_nxt) ? d->rcv_adv - c->rcv_nxt : 0;
        uint32_t step = d->rcap / 2 < c->mss_ours ? d->rcap / 2 : c->mss_ours;

        if (free_ > cur && free_ - cur < step)
                free_ = cur;
        if (free_ < cur)
                free_ = cur; /* never shrink (RFC 9293 3.8.6.2.2) */
        if (free_ > (65535u << c->rcv_ws))
                free_ = 65535u << c->rcv_ws;
        free_ &= ~((1u << c->rcv_ws) - 1);
        return free_;
}

/* SACK blocks of the out-of-order queue after those o holds, the latest
 * first (RFC 2018 4), up to max in all: one walk of the queue, merging
 * adjacent segments into blocks, keeping the first blocks in order and
 * the one that holds the latest segment. */
static void sack_fill(struct tcp_data *d, struct mpnet_tcp_opts *o, unsigned max)
{
        struct mpnet_tcp_sack blk[MPNET_TCP_SACK_MAX], cur, latest = {0, 0};
        unsigned n = 0, room = max > o->sack_n ? max - o->sack_n : 0;
        bool have = false, found = false;

        if (d->ooo == NULL || room == 0)
                return;
        for (const struct tcp_ooo *q = d->ooo;; q = q->next) {
                if (q != NULL && have && cur.right == q->seq) {
                        cur.right = q->seq + q->len;
                        continue;
                }
                if (have) {
                        if (!found && seq_geq(d->ooo_last, cur.left) &&
                            seq_lt(d->ooo_last, cur.right)) {
                                latest = cur;
                                found = true;
                        } else if (n < MPNET_TCP_SACK_MAX) {
                                blk[n++] = cur;
                        }
                }
                if (q == NULL)
                        break;
                cur.left = q->seq;
                cur.right = q->seq + q->len;
                have = true;
        }
        o->present |= MPNET_TCPO_SACK;
        if (found)
                o->sack[o->sack_n++] = latest;
        for (unsigned i = 0; i < n && o->sack_n < max; i++)
                o->sack[o->sack_n++] = blk[i];
}

/* The segments of one output() call (a burst, TSO's idea in software):
 * the ACK, window and options are the same for all of them, so the header
 * is emitted once (tcp_tmpl) and each segment patches its sequence number
 * and flags; the RTO or PTO is armed once, after the last (all went at
 * the same time: RFC 6298 5.1, RFC 8985 7.2 give the same deadline). */
struct tcp_burst {
        struct tcp_tmpl h;
        uint32_t wnd;
        /* Nonzero: the next segment is a super-segment of tso-byte pieces
         * (l4/tcp_out.c tcp_output_tso), its payload the npc pieces pc of
         * the send buffer. */
        uint16_t tso;
        unsigned npc;
        struct tcp_piece pc[TCP_TSO_MAX / TCP_SCHUNK + 2];
        bool on;    /* h holds the header */
        bool fresh; /* new data went: sent_arm() after the burst */
};

/* A segment of a burst with its header: a super-segment (bu->tso), its
 * payload the send buffer's chunks, or one segment. */
static int burst_send(struct wctx *w, struct tcp_burst *bu, const struct tcp_seg_out *so)
{
        if (bu->tso == 0)
                return tcp_output_tmpl(w, &bu->h, so);
        return tcp_output_tso(w, &bu->h, so, bu->pc, bu->npc, bu->tso);
}

/* A segment with the burst's header (bu->on), or the first of a burst,
 * which makes it. @return what tcp_output_tmpl() or tcp_output() did. */
static int seg_out_burst(struct wctx *w, struct tcp_burst *bu, struct tcp_seg_out *so,
                         const struct mpnet_tcp_opts *o)
{
        if (bu->on || tcp_tmpl_init(&bu->h, so, o) == 0) {
                bu->on = true;
                return burst_send(w, bu, so);
        }
        return bu->tso != 0 ? -EINVAL : tcp_output(w, so, o);
}

/* RFC 2883 4: a duplicate segment is reported by the next ACK's first
 * SACK block (the block of the queue holding it, if any, comes next:
 * sack_fill puts the latest first). */
static void dsack_set(struct tcp_data *d, uint32_t left, uint32_t right)
{
        if (!(d->c->opt & TCPF_SACK) || left == right)
                return;
        d->dsack_on = true;
        d->dsack_l = left;
        d->dsack_r = right;
}

/* Whether c's segments may share a burst's header: SACK blocks vary with
 * each segment's room. */
static bool burst_tmpl(const struct tcp_conn *c)
{
        return !((c->opt & TCPF_SACK) && (c->d->ooo != NULL || c->d->dsack_on));
}

/* A segment of len bytes of payload at data, the last tail_len of them at
 * tail (where they cross a send buffer chunk's end). */
static int seg_out(struct wctx *w, struct tcp_conn *c, uint16_t flags, uint32_t seq,
                   const void *data, uint32_t len, const void *tail, uint32_t tail_len,
                   struct tcp_burst *bu)
{
        struct tcp_data *d = c->d;
        struct mpnet_tcp_opts o;
        bool tmpl = bu != NULL && burst_tmpl(c);
        uint32_t wnd = tmpl && bu->on ? bu->wnd : rcv_window(d);
        int rc;
        struct tcp_seg_out so = {
            .t = &c->t,
            .seq = seq,
            .ack = c->rcv_nxt,
            .flags = flags,
            .window = (uint16_t)(wnd >> c->rcv_ws), /* RFC 7323 2.3 */
            .payload = data,
            .payload_len = len,
            .tail = tail,
            .tail_len = tail_len,
        };

        if (tmpl && bu->on) {
                tcp_opt_seg_out(c, &so); /* ECN (l4/tcp_opt.c) */
                rc = burst_send(w, bu, &so);
                goto sent;
        }
        memset(&o, 0, sizeof(o));
        if (c->opt & TCPF_TS) {
                o.present = MPNET_TCPO_TS;
                o.ts_val = ts_now(ctx_now(w));
                o.ts_ecr = c->ts_recent;
        }
        if ((c->opt & TCPF_SACK) && (d->ooo != NULL || d->dsack_on)) {
                /* A full segment has no room left for options beyond the
                 * timestamps (its data was cut to MSS less those: RFC 6691):
                 * as many SACK blocks as fit (RFC 2018 3: "as many as
                 * possible"), each 8 bytes after 4 of kind, length and
                 * padding. */
                uint32_t full = c->mss - ((c->opt & TCPF_TS) ? 12u : 0u);
                uint32_t room = len < full ? full - len : 0, max = (c->opt & TCPF_TS) ? 3 : 4;

                if (len != 0 && (room < 12 ? 0 : (room - 4) / 8) < max)
                        max = room < 12 ? 0 : (room - 4) / 8;
                if (max > 0 && d->dsack_on) {
                        o.present |= MPNET_TCPO_SACK;
                        o.sack[0].left = d->dsack_l;
                        o.sack[0].right = d->dsack_r;
                        o.sack_n = 1;
                        d->dsack_on = false; /* reported once (RFC 2883 4) */
                }
                if (max > 0)
                        sack_fill(d, &o, max);
        }
        tcp_opt_seg_out(c, &so); /* ECN (l4/tcp_opt.c) */
        if (tmpl) {
                bu->wnd = wnd;
                rc = seg_out_burst(w, bu, &so, &o);
        } else {
                rc = tcp_output(w, &so, &o);
        }
sent:
        if (rc != 0) {
                tcp_count(w->s, TCPC_OUT_FAIL);
                return -1;
        }
        tcp_count(w->s, TCPC_OUT);
        if (bu != NULL && bu->tso != 0) {
                /* A super-segment: its pieces count as the segments
                 * they stand for. */
                tcp_count(w->s, TCPC_TSO_OUT);
                tcp_count_n(w->s, TCPC_DATA_OUT, (len + bu->tso - 1) / bu->tso);
                tcp_count_n(w->s, TCPC_SND_REF, len);
        } else if (len != 0) {
                tcp_count(w->s, TCPC_DATA_OUT);
        }
        if (flags & MPNET_TCP_ACK) {
                /* The first ACK that advertises past the furthest edge
                 * yet starts the timing of a window (rcv_rtt_window): the
                 * edge itself may step back by the scale's rounding. */
                if (seq_gt(c->rcv_nxt + wnd, d->rcv_adv_max)) {
                        if (d->rrtt_t == 0) {
                                d->rrtt_seq = d->rcv_adv_max;
                                d->rrtt_t = now_us32(w) | 1;
                        }
                        d->rcv_adv_max = c->rcv_nxt + wnd;
                }
                d->rcv_adv = c->rcv_nxt + wnd;
                c->rcv_wnd = wnd;
                d->last_ack_sent = c->rcv_nxt;
                d->unacked = 0;
                d->dack_at = MPNET_TIME_NEVER;
                d->ack_vec = false;
        }
        return 0;
}

static void send_ack(struct wctx *w, struct tcp_conn *c)
{
        seg_out(w, c, MPNET_TCP_ACK, c->snd_nxt, NULL, 0, NULL, 0, NULL);
}

/* Send the bytes [seq, seq + len) of the send buffer (and the FIN when
 * fin), in burst bu (NULL: alone). */
static void send_range(struct wctx *w, struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin,
                       struct tcp_burst *bu)
{
        struct tcp_data *d = c->d;
        const uint8_t *data = NULL, *tail = NULL;
        uint32_t tail_len = 0;
        uint16_t flags = MPNET_TCP_ACK;

        if (len != 0) {
                uint32_t off = seq - c->snd_una, at;
                struct pkt_ext *e = sb_chunk(d, off, &at);

                /* Straight from the chunk, its tail from the next where
                 * the range crosses into it (a segment is at most a
                 * chunk); a super-segment references the chunks
                 * (tcp_output_tso), its pieces found here. */
                if (bu != NULL && bu->tso != 0) {
                        bu->npc =
                            sb_pieces(d, off, len, bu->pc, sizeof(bu->pc) / sizeof(bu->pc[0]));
                } else {
                        data = e->b + at;
                        if (at + len > TCP_SCHUNK) {
                                tail_len = at + len - TCP_SCHUNK;
                                tail = sb_chunk(d, off + len - tail_len, &at)->b;
                        }
                }
                flags |= MPNET_TCP_PSH;
        }
        if (fin)
                flags |= MPNET_TCP_FIN;
        seg_out(w, c, flags, seq, data, len, tail, tail_len, bu);
        if (d->recovery || d->cwr || (d->sk != NULL && d->sk->recovery))
                tcp_prr_sent(&d->prr, len + fin); /* prr_out (RFC 6937 3) */
        if (d->sk != NULL)
                tcp_sack_sent(d->sk, seq, seq + len + fin, fin, now_us32(w));
}

static bool fin_sent(const struct tcp_conn *c)
{
        return c->d->fin_q && seq_gt(c->snd_nxt, c->d->fin_seq);
}

static void rtx_arm(struct wctx *w, struct tcp_conn *c)
{
        c->d->persist = false;
        if (c->d->sk != NULL)
                c->d->sk->timer = TCP_TMR_RTO;
        arm(w, c->d, &c->rtx_at, ctx_now(w) + rto_ns(c));
}

/* RFC 8985 7.2: the probe timer in place of the RTO, when RACK-TLP runs,
 * nothing is in recovery (RTO recovery included) and no probe is out.
 * @return whether it was armed. */
static bool pto_arm(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        uint32_t us;

        if (d->sk == NULL || seq_lt(c->snd_una, d->recover) || seq_lt(d->snd_cur, c->snd_nxt))
                return false;
        us = tcp_rack_pto(d->sk, c->rto.srtt_us, c->snd_nxt - c->snd_una, smss(c),
                          tcp_rto_us(&c->rto));
        if (us == 0)
                return false;
        d->persist = false;
        d->sk->timer = TCP_TMR_PTO;
        arm(w, d, &c->rtx_at, ctx_now(w) + (uint64_t)us * 1000);
        return true;
}

/* After new data went: the RTO unless running (RFC 6298 5.1), or the PTO
 * (restarted by each new segment, RFC 8985 7.2). */
static void sent_arm(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        if (d->sk != NULL && !d->persist &&
            (c->rtx_at == MPNET_TIME_NEVER || d->sk->timer == TCP_TMR_PTO) && pto_arm(w, c))
                return;
        if (c->rtx_at == MPNET_TIME_NEVER || d->persist)
                rtx_arm(w, c);
}

/* Retransmit [seq, end) (fin: with the FIN) in SACK recovery. */
static void sack_rtx(struct wctx *w, struct tcp_conn *c, uint32_t seq, uint32_t end, bool fin)
{
        struct tcp_data *d = c->d;

        tcp_count(w->s, TCPC_RTX);
        tcp_count(w->s, TCPC_SACK_RTX);
        if (d->rtt_on && seq_leq(seq, d->rtt_seq) && seq_lt(d->rtt_seq, end))
                d->rtt_on = false; /* Karn */
        tcp_undo_rtx(&d->undo, end - seq);
        send_range(w, c, seq, end - seq - fin, fin, NULL);
        if (d->pace.ps_b != 0)
                tcp_pace_sent(&d->pace, ctx_now(w), end - seq);
}

/* One new segment at SND.NXT if the peer's window takes it (cwnd is the
 * caller's). @return whether one went. */
static bool send_new(struct wctx *w, struct tcp_conn *c, uint32_t mss)
{
        struct tcp_data *d = c->d;
        uint32_t off = c->snd_nxt - c->snd_una;
        uint32_t avail = d->slen > off ? d->slen - off : 0, len = avail < mss ? avail : mss;
        bool fin;

        if ((d->fin_q && seq_gt(c->snd_nxt, d->fin_seq)) || c->snd_wnd < off + len)
                return false;
        fin = d->fin_q && off + len == d->slen;
        if (len == 0 && !fin)
                return false;
        if (!d->rtt_on && len != 0) {
                d->rtt_on = true;
                d->rtt_seq = c->snd_nxt;
                d->rtt_t = ctx_now(w);
        }
        send_range(w, c, c->snd_nxt, len, fin, NULL);
        if (d->pace.ps_b != 0)
                tcp_pace_sent(&d->pace, ctx_now(w), len);
        if (len < mss)
                d->snd_sml = c->snd_nxt + len;
        c->snd_nxt += len + fin;
        d->snd_cur = c->snd_nxt;
        return true;
}

/* cwnd under auto-tuning's bound on the flight (flight_cap; 0: none). */
static inline uint32_t cwnd_capped(const struct tcp_data *d)
{
        uint32_t cwnd = tcp_cc_cwnd(&d->cc);

        return d->fcap != 0 && d->fcap < cwnd ? d->fcap : cwnd;
}

/* The most the connection may have in flight: cwnd, or the peer's
 * largest window when that is less. A flow the peer's window limits
 * keeps growing cwnd on every ACK (nothing is lost), to 16 MiB on a
 * memory wire; what is derived from cwnd (pacing's rate, the send
 * buffer's size) follows what can really be in flight instead. */
static uint32_t flight_max(const struct tcp_conn *c)
{
        uint32_t cwnd = cwnd_capped(c->d);

        return c->max_snd_wnd != 0 && c->max_snd_wnd < cwnd ? c->max_snd_wnd : cwnd;
}

/* Pacing's rate from what may be in flight (flight_max) and SRTT now
 * (l4/tcp_out.c), when the stack paces: a window of 4 MiB against the
 * peer's 200 KiB paced a flow at 20 times what it could send. */
static void pace_update(struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        if (d->pace_off)
                d->pace.ps_b = 0;
        else
                tcp_pace_rate(&d->pace, flight_max(c), c->rto.srtt_us, tcp_cc_in_slow_start(&d->cc),
                              smss(c));
}

/* Whether pacing holds the next segment back at now (read once an
 * output() call: its segments go together): if so, its timer is armed
 * for the time it may go. */
static bool pace_hold(struct wctx *w, struct tcp_conn *c, uint64_t now)
{
        struct tcp_data *d = c->d;

        if (tcp_pace_ok(&d->pace, now))
                return false;
        if (d->pace_tmr == MPNET_TIME_NEVER) {
                tcp_count(w->s, TCPC_PACED);
                arm(w, d, &d->pace_tmr, d->pace.at);
        }
        return true;
}

/* RFC 6675 5 step (C): while cwnd - pipe >= 1 SMSS, what NextSeg()
 * gives: a lost segment (rule 1), new data (2), a segment below the
 * highest SACKed (3), the rescue (4). */
static void sack_output(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        struct tcp_sack *k = d->sk;
        uint32_t mss = smss(c);
        uint64_t now;

        pace_update(c);
        now = d->pace.ps_b != 0 ? ctx_now(w) : 0;
        for (;;) {
                uint32_t pipe = tcp_sack_pipe(k), cwnd = tcp_cc_cwnd(&d->cc), seq, end;
                bool fin;

                if (pipe >= cwnd || cwnd - pipe < mss || pace_hold(w, c, now))
                        break;
                if (tcp_sack_next(k, 1, c->snd_nxt, mss, &seq, &end, &fin)) {
                        sack_rtx(w, c, seq, end, fin);
                        continue;
                }
                if (send_new(w, c, mss))
                        continue;
                if (tcp_sack_next(k, 3, c->snd_nxt, mss, &seq, &end, &fin)) {
                        sack_rtx(w, c, seq, end, fin);
                        continue;
                }
                if (!tcp_sack_next(k, 4, c->snd_nxt, mss, &seq, &end, &fin))
                        break;
                tcp_count(w->s, TCPC_RESCUE_RTX);
                sack_rtx(w, c, seq, end, fin);
        }
}

/* TSO's idea: how much new data, from SND.NXT, may go as one
 * super-segment (a multiple of mss, at most what avail and usable allow,
 * its last piece leaving a queued FIN to a segment of its own), or 0. Only
 * while every interface's link takes super-segments (MPNET_LINK_OFF_TSO,
 * as with a memory wire's tso), over IPv4 or IPv6 alike (smss() follows
 * either's path MTU, RFC 1191, RFC 8201), when the burst's header fits
 * every piece (no SACK blocks), and, pacing, at most about 1 ms at the
 * rate (Linux's TSO autosizing, sk_pacing_shift 10): a link without the
 * flag keeps the segments cut in software. */
static uint32_t tso_len(struct wctx *w, const struct tcp_conn *c, uint32_t avail, uint32_t usable,
                        uint32_t mss)
{
        const struct tcp_data *d = c->d;
        struct mpnet_stack *s = w->s;
        uint32_t t = avail < usable ? avail : usable;

        if (t < 2 * mss || !burst_tmpl(c) ||
            atomic_load_explicit(&s->n_ifs_no_tso, memory_order_relaxed) != 0 ||
            atomic_load_explicit(&s->n_ifs_tso, memory_order_relaxed) == 0 ||
            atomic_load_explicit(&s->n_ifs_sw_csum, memory_order_relaxed) != 0)
                return 0;
        if (t > TCP_TSO_MAX)
                t = TCP_TSO_MAX;
        if (d->pace.ps_b != 0) {
                uint64_t ms = 1000000000ull / d->pace.ps_b; /* bytes a ms at the rate */

                if (ms < t)
                        t = ms < 2 * mss ? 2 * mss : (uint32_t)ms;
        }
        t -= t % mss;
        if (d->fin_q && d->snd_cur - c->snd_una + t == d->slen)
                t -= mss;
        return t;
}

/* Send what the windows allow (RFC 5681, RFC 9293 3.8.6.2.1, 3.7.4). */
static void output(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        uint32_t mss = smss(c);
        struct tcp_burst bu;
        bool sws_held = false;
        uint64_t now;

        if (d->sk != NULL && d->sk->recovery) {
                sack_output(w, c);
                return;
        }
        bu.on = bu.fresh = false;
        bu.tso = 0;
        pace_update(c);
        now = d->pace.ps_b != 0 ? ctx_now(w) : 0;
        for (;;) {
                uint32_t seg = UINT32_MAX, off, flight = c->snd_nxt - c->snd_una, avail;
                uint32_t cwnd = cwnd_capped(d), wnd, usable, len;
                bool fin, fresh;

                /* Going back after an RTO: not over what the peer SACKed,
                 * a segment of the send map at a time. */
                if (d->sk != NULL && seq_lt(d->snd_cur, c->snd_nxt))
                        d->snd_cur = tcp_sack_skip(d->sk, d->snd_cur, &seg);
                off = d->snd_cur - c->snd_una;
                avail = d->slen > off ? d->slen - off : 0;
                if (d->fin_q && seq_gt(d->snd_cur, d->fin_seq))
                        break; /* all sent, FIN included */
                /* In NewReno recovery cwnd is PRR's pipe + sndcnt, pipe
                 * being FlightSize less the duplicates (prr_ack): add them
                 * back to compare with FlightSize. RFC 3042 before it. */
                if (d->recovery)
                        cwnd += d->dupacks * mss < flight ? d->dupacks * mss : flight;
                else if (d->dupacks > 0 && d->dupacks < 3)
                        cwnd += d->dupacks * mss;
                wnd = c->snd_wnd < cwnd ? c->snd_wnd : cwnd;
                off = d->snd_cur - c->snd_una;
                usable = wnd > off ? wnd - off : 0;
                len = avail < mss ? avail : mss;
                if (len > seg)
                        len = seg;
                seg = len;
                if (len > usable)
                        len = usable;
                fin = d->fin_q && off + len == d->slen;
                if (len == 0 && !(fin && (avail == 0)))
                        break;
                if (len < seg) {
                        /* Window-limited: sender SWS avoidance (RFC 9293
                         * 3.8.6.2.1), at least half the largest window. */
                        if (len < c->max_snd_wnd / 2 || flight != 0) {
                                sws_held = flight == 0;
                                break;
                        }
                        fin = false;
                } else if (len < mss && !fin && flight != 0 && !d->nodelay &&
                           seq_geq(d->snd_cur, c->snd_nxt) && seq_gt(d->snd_sml, c->snd_una)) {
                        /* Nagle (RFC 9293 3.7.4) with Minshall's change, as
                         * Linux: a short segment waits while an earlier
                         * short one is unacknowledged. */
                        break;
                } else if (len < mss && !fin && len == avail && tcp_opt_corked(w, c)) {
                        break; /* TCP_CORK (l4/tcp_opt.c) */
                }
                if (pace_hold(w, c, now))
                        break;
                fresh = seq_geq(d->snd_cur, c->snd_nxt);
                bu.tso = 0;
                if (fresh && len == mss && !fin && seg == mss) {
                        uint32_t t = tso_len(w, c, avail, usable, mss);

                        if (t > mss) {
                                len = t;
                                bu.tso = (uint16_t)mss;
                                if (t > d->cc.abc_max)
                                        d->cc.abc_max = t;
                        }
                }
                if (!fresh) {
                        tcp_count(w->s, TCPC_RTX);
                        tcp_undo_rtx(&d->undo, len + fin);
                } else if (!d->rtt_on && len != 0) {
                        d->rtt_on = true;
                        d->rtt_seq = d->snd_cur;
                        d->rtt_t = ctx_now(w);
                }
                send_range(w, c, d->snd_cur, len, fin, &bu);
                bu.tso = 0;
                tcp_pace_sent(&d->pace, now, len);
                if (len < mss)
                        d->snd_sml = d->snd_cur + len;
                d->snd_cur += len + fin;
                if (seq_gt(d->snd_cur, c->snd_nxt))
                        c->snd_nxt = d->snd_cur;
                if (fresh)
                        bu.fresh = true;
                else if (c->rtx_at == MPNET_TIME_NEVER || d->persist)
                        rtx_arm(w, c);
                if (fin)
                        break;
        }
        if (bu.fresh)
                sent_arm(w, c);
        /* RFC 9293 3.8.6.1: data waits on a zero window with nothing in
         * flight: the persist timer probes it. So it does behind a small
         * window that sender SWS avoidance will not fill (3.8.6.2.1):
         * the ACK that opened the window further may have been lost, and
         * nothing else would bring the peer to send it again (Linux arms
         * its probe timer in both cases). */
        if (c->snd_nxt == c->snd_una && d->slen > 0 && (c->snd_wnd == 0 || sws_held) &&
            c->rtx_at == MPNET_TIME_NEVER) {
                d->persist = true;
                arm(w, d, &c->rtx_at, ctx_now(w) + rto_ns(c));
        }
}

/* ---- the socket's events ---- */

static void events(struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        struct mpnet_sock *so = c->so;

        if (so == NULL)
                return;
        /* A front end's EPOLLIN is its receive ring's (l4/sock_front.c). */
        if (so->fe == NULL && (d->rlen > 0 || d->fin_in))
                sock_raise(so, EPOLLIN | (d->fin_in ? EPOLLRDHUP : 0));
        else if (so->fe == NULL)
                sock_lower(so, EPOLLIN);
        if (d->slen < d->scap && !d->fin_q)
                sock_raise(so, EPOLLOUT);
        else if (!d->fin_q)
                sock_lower(so, EPOLLOUT);
}

static void vec_ack_add(struct wctx *w, struct tcp_conn *c);

/* ---- ESTABLISHED ---- */

int tcp_established(struct wctx *w, struct tcp_conn *c)
{
        struct mpnet_sock *ref = c->so != NULL ? c->so : c->lso;
        struct tcp_state *st = tcp_state_of(w->s);
        struct tcp_data *d = tcp_cache_get(w, TCP_CACHE_DATA, sizeof(*d));
        uint32_t sbuf = TCP_BUF_DEFAULT, rbuf = TCP_BUF_DEFAULT;

        if (ref != NULL) {
                sbuf = ref->sndbuf;
                rbuf = atomic_load_explicit(&ref->rcvbuf, memory_order_relaxed);
        }
        sbuf = sbuf < 4096 ? 4096 : sbuf > TCP_BUF_MAX ? TCP_BUF_MAX : sbuf;
        rbuf = rbuf < 4096 ? 4096 : rbuf > TCP_BUF_MAX ? TCP_BUF_MAX : rbuf;
        if (d == NULL)
                return -ENOMEM;
        /* The rings (d->sb, d->rb) come with the first byte each holds: an
         * idle connection costs its structures alone. */
        d->c = c;
        d->scap = sbuf;
        d->rcap = rbuf;
        d->snd_cur = d->snd_sml = c->snd_nxt;
        d->quick = TCP_QUICKACKS;
        d->nodelay = ref != NULL && (ref->flags & SOF_NODELAY);
        d->rauto = ref == NULL || !(ref->flags & SOF_RCVBUF_LOCK);
        d->sauto = ref == NULL || !(ref->flags & SOF_SNDBUF_LOCK);
        d->rspace_t = now_us32(w);
        d->rspace = 10 * smss(c); /* an initial window's (RFC 6928), as Linux's */
        d->dack_at = d->tw_at = d->pace_tmr = MPNET_TIME_NEVER;
        d->pace_off = !__atomic_load_n(&tcp_state_of(w->s)->pacing, __ATOMIC_RELAXED);
        /* Without window scaling the window field is all there is. */
        if (!(c->opt & TCPF_WSCALE))
                c->rcv_ws = 0;
        d->rcv_adv = d->rcv_adv_max = c->rcv_nxt + c->rcv_wnd;
        d->last_ack_sent = c->rcv_nxt;
        tcp_cc_init(&d->cc,
                    tcp_state_of(w->s)->cc != NULL ? tcp_state_of(w->s)->cc : tcp_cc_default(),
                    smss(c), now_us(w));
        d->recover = c->snd_nxt; /* RFC 6582 3.2 step 1's test: no recovery yet */
        /* SACK agreed: the sender uses the blocks (without memory for its
         * state, NewReno, as without SACK). */
        if ((c->opt & TCPF_SACK) && st->recov != TCP_RECOV_NEWRENO) {
                d->sk = tcp_cache_get(w, TCP_CACHE_SACK, sizeof(*d->sk));
                if (d->sk != NULL)
                        tcp_sack_init(d->sk, st->recov, sbuf);
        }
        c->d = d;
        c->rtx_at = MPNET_TIME_NEVER;
        tcp_opt_init(w, c, ref);
        return 0;
}

static void ooo_free(struct tcp_data *d)
{
        while (d->ooo != NULL) {
                struct tcp_ooo *q = d->ooo;

                d->ooo = q->next;
                free(q);
        }
        d->ooo_tail = NULL;
        d->n_ooo = 0;
        d->ooo_bytes = 0;
}

/* Give back the receive queue's buffers (its bytes leave rlen). */
static void rq_free(struct tcp_data *d)
{
        struct tcp_rq *q = d->rq;

        if (q == NULL)
                return;
        for (; q->n > 0; q->n--) {
                mpnet_pkt_free(q->e[q->head].p);
                q->head = (uint16_t)((q->head + 1) % TCP_RQ_MAX);
        }
        q->head = 0;
        q->bufs = 0;
        d->rlen -= d->rqb;
        d->rqb = 0;
}

/* rq_free(), and the queue itself goes. */
static void rq_release(struct tcp_data *d)
{
        rq_free(d);
        free(d->rq);
        d->rq = NULL;
}

void tcp_conn_free(void *arg)
{
        struct tcp_conn *c = arg;

        if (c->d != NULL) {
                ooo_free(c->d);
                rq_release(c->d);
                tcp_sack_free(c->d->sk);
                sb_free(c->d);
                free(c->d->rb);
                free(c->d);
        }
        free(c);
}

void tcp_conn_recycle(void *arg)
{
        struct tcp_conn *c = arg;
        struct tcp_cache *k = &c->cache_st->cache;

        if (c->d != NULL) {
                ooo_free(c->d);
                rq_release(c->d);
                tcp_cache_put_ctl(k, TCP_CACHE_SACK, c->d->sk);
                sb_free(c->d);
                free(c->d->rb);
                tcp_cache_put_ctl(k, TCP_CACHE_DATA, c->d);
        }
        tcp_cache_put_ctl(k, TCP_CACHE_CONN, c);
}

size_t tcp_data_size(void)
{
        return sizeof(struct tcp_data);
}

bool tcp_data_quiet(const struct tcp_conn *c)
{
        const struct tcp_data *d = c->d;

        return d != NULL && d->sb == NULL && d->rb == NULL && d->rq == NULL && d->ooo == NULL &&
               d->sk == NULL && d->tpprev == NULL && d->slen == 0 && d->rlen == 0 && !d->fin_q &&
               !d->fin_in && d->rgrown == 0 && d->sgrown == 0 && d->dack_at == MPNET_TIME_NEVER &&
               d->tw_at == MPNET_TIME_NEVER && d->pace_tmr == MPNET_TIME_NEVER &&
               d->o.ka_at == MPNET_TIME_NEVER && d->o.cork_at == MPNET_TIME_NEVER &&
               d->o.linger_at == MPNET_TIME_NEVER;
}

struct tcp_data *tcp_data_clone(const void *copy, struct tcp_conn *c)
{
        struct tcp_data *d = malloc(sizeof(*d));

        if (d == NULL)
                return NULL;
        memcpy(d, copy, sizeof(*d));
        d->c = c;
        d->tnext = NULL;
        d->tpprev = NULL;
        return d;
}

size_t tcp_data_mem(const struct tcp_conn *c, size_t *bufs)
{
        const struct tcp_data *d = c->d;

        if (d == NULL)
                return 0;
        *bufs += (size_t)d->sb_k * TCP_SCHUNK + d->sb_n * sizeof(*d->sb) + d->ralloc;
        if (d->rq != NULL)
                *bufs += sizeof(*d->rq) + (size_t)d->rq->bufs * MPNET_PKT_BUF_SIZE;
        for (const struct tcp_ooo *q = d->ooo; q != NULL; q = q->next)
                *bufs += sizeof(*q) + q->len;
        return sizeof(*d);
}

void tcp_data_drop(struct mpnet_stack *s, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        struct wctx *w = tcp_home_w(s, c);

        if (tcp_ctx_of(w)->tw_new == c)
                tcp_ctx_of(w)->tw_new = NULL; /* gone before its compaction */
        if (d == NULL)
                return;
        tq_unlink(d);
        d->ack_vec = false; /* tcp_vec_end passes it by */
        /* No socket reaches c any more and the table lost it: its rings
         * go back to the home context now, not after the grace period. */
        sb_free(d);
        ring_release(w, d->rb, d->ralloc);
        rq_release(d);
        d->rb = NULL;
        d->ralloc = d->rlen = d->roff = 0;
}

/* The end of a connection: the socket sees err (0: none). */
static void conn_gone(struct wctx *w, struct tcp_conn *c, int err)
{
        struct mpnet_sock *so = c->so;

        if (so != NULL) {
                if (err != 0)
                        so->err = err;
                sock_raise(so, EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLOUT);
        }
        tcp_conn_drop(w->s, c);
}

static void time_wait(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        c->state = TCP_TIME_WAIT;
        c->rtx_at = MPNET_TIME_NEVER;
        d->persist = false;
        /* Nothing moves any more (our FIN is acknowledged): the rings go,
         * the receive ring unless it holds bytes still unread, so 2 MSL of
         * closed connections cost their structures alone. */
        sb_free(d);
        if (d->rlen == 0) {
                ring_release(w, d->rb, d->ralloc);
                d->rb = NULL;
                d->ralloc = d->roff = 0;
                rq_release(d); /* empty: rlen counts its bytes */
        }
        /* Nothing is in flight: the SACK scoreboard goes back to the
         * cache for the next connection (TIME_WAIT acts as without SACK
         * state, which a failed allocation also leaves). */
        tcp_cache_put(w, TCP_CACHE_SACK, d->sk);
        d->sk = NULL;
        /* TIME_WAIT's end is the queue's (an orphan's FIN_WAIT_2 timer
         * goes); an orphan's data state goes when its segment's input is
         * done (tcp_tw_compact). */
        d->tw_at = MPNET_TIME_NEVER;
        tcp_embryo_del(c); /* not one: the link's memory is the queue's */
        c->twl.next = c->twl.prev = NULL;
        tw_arm(w, c, ctx_now(w) + 2 * tcp_state_of(w->s)->msl_ns);
        tcp_ctx_of(w)->tw_new = c;
        if (c->so != NULL)
                sock_raise(c->so, EPOLLHUP);
}

/* Linux's inet_timewait_sock's idea: an orphan in TIME_WAIT keeps the
 * connection (the table's entry, with the tuple, SND.NXT, RCV.NXT, the
 * window and TS.Recent: what RFC 9293 3.10.7.4's TIME_WAIT rules, RFC
 * 7323's PAWS and RFC 6191's reuse read) and gives its data state back
 * to the cache, where the next connection takes it: 2 MSL of closed
 * connections no longer hold ~500 bytes each that the heap must grow
 * for. Called after the segment's input (time_wait() runs inside
 * tcp_data_input, which uses d after it), on the connection time_wait()
 * left in tcp_ctx.tw_new: the caller may not read c itself, which the
 * input may have ended (LAST_ACK) and freed; tcp_data_drop clears it. */
void tcp_tw_compact(struct wctx *w)
{
        struct tcp_conn *c = tcp_ctx_of(w)->tw_new;
        struct tcp_data *d;

        if (c == NULL)
                return;
        tcp_ctx_of(w)->tw_new = NULL;
        d = c->d;
        if (d == NULL || c->state != TCP_TIME_WAIT || c->so != NULL || d->rlen != 0)
                return;
        tq_unlink(d);
        tcp_data_budget_put(tcp_state_of(w->s), c);
        ooo_free(d);
        sb_free(d);
        ring_release(w, d->rb, d->ralloc);
        rq_release(d); /* empty: rlen is 0 */
        tcp_cache_put(w, TCP_CACHE_SACK, d->sk);
        c->d = NULL;
        tcp_cache_put(w, TCP_CACHE_DATA, d);
}

/* A segment at a compact TIME_WAIT connection past the checks of
 * tcp_conn_input: as with the data state (tcp_data_input), TS.Recent
 * from a segment at or before the last ACK, which acked RCV.NXT (RFC
 * 7323 4.3), and a retransmitted FIN is ACKed and TIME_WAIT restarts
 * (RFC 9293 3.10.7.4). */
static void tw_input(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        if ((c->opt & TCPF_TS) && (r->opts.present & MPNET_TCPO_TS) &&
            tcp_ts_recent_take(r->opts.ts_val, c->ts_recent, r->seq, c->rcv_nxt))
                c->ts_recent = r->opts.ts_val;
        if (r->flags & MPNET_TCP_FIN) {
                tcp_send_ctl(w, c, MPNET_TCP_ACK, c->snd_nxt);
                tw_arm(w, c, ctx_now(w) + 2 * tcp_state_of(w->s)->msl_ns);
        }
}

/* RFC 6937 3: cwnd = pipe + sndcnt for an ACK in recovery that delivered
 * the bytes given. Without SACK, pipe is FlightSize less a segment per
 * duplicate ACK (each presumed to have left the network; the
 * retransmitted head is in it again), as Linux counts it. */
static void prr_ack(struct tcp_conn *c, uint32_t delivered, bool safe)
{
        struct tcp_data *d = c->d;
        uint32_t pipe, flight = c->snd_nxt - c->snd_una, dup = d->dupacks * smss(c);

        if (d->sk != NULL)
                pipe = tcp_sack_pipe(d->sk);
        else
                pipe = flight > dup ? flight - dup : 0;
        d->cc.cwnd = tcp_prr_ack(&d->prr, d->cc.ssthresh, pipe, delivered, safe, smss(c));
}

/* What the send map made of an ACK (or of the reordering timer): a
 * repaired tail loss reduces cwnd (RFC 8985 7.4.2); a segment judged lost
 * starts recovery (RFC 6675 5 step 4: IsLost(HighACK + 1) or DupThresh
 * duplicates; RFC 8985 6.2: RACK's judgement); RACK's timer. */
static void sack_after(struct wctx *w, struct tcp_conn *c, const struct tcp_sack_ev *ev)
{
        struct tcp_data *d = c->d;
        struct tcp_sack *k = d->sk;
        uint32_t flight = c->snd_nxt - c->snd_una;

        if (ev->dsack)
                tcp_count(w->s, TCPC_DSACK_IN);
        for (unsigned i = 0; i < ev->rack_lost; i++)
                tcp_count(w->s, TCPC_RACK_LOST);
        if (ev->tlp_loss) {
                tcp_count(w->s, TCPC_TLP_RECOVERED);
                d->cc.ops->on_loss(&d->cc, TCP_CC_LOSS_FAST, flight, now_us(w));
                d->cc.ops->on_recovery_exit(&d->cc, flight, now_us(w));
        }
        if (!k->recovery && flight != 0 && seq_geq(c->snd_una, d->recover) &&
            (d->dupacks >= TCP_DUPTHRESH ||
             ((ev->lost + ev->rack_lost > 0 || k->sacked > 0) && tcp_sack_lost(k)))) {
                uint32_t seq, end;
                bool fin;

                tcp_count(w->s, TCPC_FAST_RTX);
                tcp_count(w->s, TCPC_SACK_RECOVERY);
                /* An ECN reduction under way goes on as this one (the
                 * window was reduced once), as Linux's. */
                if (!d->cwr) {
                        tcp_undo_start(&d->undo, &d->cc, c->snd_una, c->snd_nxt);
                        d->cc.ops->on_loss(&d->cc, TCP_CC_LOSS_FAST, flight, now_us(w));
                        tcp_prr_init(&d->prr, flight);
                }
                d->cwr = false;
                d->recover = c->snd_nxt;
                if (tcp_sack_enter(k, c->snd_una, c->snd_nxt, smss(c), &seq, &end, &fin))
                        sack_rtx(w, c, seq, end, fin);
                /* PRR from here on, not the cut on_loss made: what this
                 * ACK delivered is counted by ack_in. */
                prr_ack(c, 0, false);
                rtx_arm(w, c);
        }
        if (ev->dsack)
                tcp_undo_dsack(&d->undo, ev->dsack_l, ev->dsack_r);
        if (d->undo.on && !k->recovery && !d->cwr && tcp_undo_try(&d->undo, &d->cc)) {
                tcp_count(w->s, TCPC_UNDO);
                /* RFC 4015 3.2: after a spurious timeout, go on with new
                 * data, not back over what was sent. */
                if (seq_lt(d->snd_cur, c->snd_nxt))
                        d->snd_cur = c->snd_nxt;
        }
        if (ev->reo_us != 0) {
                k->timer = TCP_TMR_REO;
                d->persist = false;
                arm(w, d, &c->rtx_at, ctx_now(w) + (uint64_t)ev->reo_us * 1000);
        }
}

/* What an auto-tuned connection may have in flight past the untuned
 * window (TCP_BUF_DEFAULT), once a round trip (the timed segment's ACK,
 * rtt_us): twice as much while the round trip stays within twice the
 * least of the path (RACK's min_rtt, RFC 8985 6.2) and the bound held
 * the flight, a quarter less down to that window while it is over: what
 * is in flight past the path's bandwidth-delay product only waits in a
 * queue (BBR's inflight bound, 2 x BDP; Vegas's idea), and on a memory
 * wire where the round trip is threads waiting for a CPU, eight flows'
 * grown windows filled with data that no cache held and cost 1.4 times
 * the cycles a byte (docs/PERFORMANCE.md). Not in recovery, not without
 * the SACK map's min_rtt, not for a send buffer the application set: the
 * untuned window bounds nothing the buffers did not. */
static void flight_cap(struct tcp_conn *c, uint32_t rtt_us)
{
        struct tcp_data *d = c->d;
        uint32_t m, flight = c->snd_nxt - c->snd_una;

        if (!d->sauto || d->sk == NULL || d->sk->recovery || d->recovery ||
            (m = d->sk->min_rtt_us) == 0)
                return;
        if (d->fcap == 0)
                d->fcap = TCP_BUF_DEFAULT;
        if (rtt_us <= 2 * m) {
                if (flight >= d->fcap / 2 && d->fcap < TCP_FCAP_MAX)
                        d->fcap *= 2;
        } else if (d->fcap > TCP_BUF_DEFAULT) {
                d->fcap -= d->fcap / 4;
                if (d->fcap < TCP_BUF_DEFAULT)
                        d->fcap = TCP_BUF_DEFAULT;
        }
}

/* Send-buffer auto-tuning (Linux's tcp_sndbuf_expand): room for twice
 * what may be in flight (flight_max: cwnd, or the peer's largest window
 * when less), so a window's worth can wait while one is in flight.
 * Outside recovery, on an ACK of new data. Twice cwnd alone grew eight
 * flows' send buffers to the 4 MiB limit while the peer's window held
 * each to 200 KiB - 2 MiB (docs/PERFORMANCE.md). */
static void sndbuf_expand(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        uint64_t want;
        uint32_t n;

        if (!d->sauto)
                return;
        want = 2ull * flight_max(c);
        n = grow_to(d->scap, want,
                    __atomic_load_n(&tcp_state_of(w->s)->wmem_max, __ATOMIC_RELAXED));
        if (n == 0)
                return;
        if (n > want)
                n = (uint32_t)want; /* not the doubling past it */
        n = d->scap + budget_take(&tcp_state_of(w->s)->sgrown, n - d->scap,
                                  __atomic_load_n(&tcp_state_of(w->s)->wmem_max, __ATOMIC_RELAXED));
        if (n == d->scap)
                return;
        d->sgrown += n - d->scap;
        d->scap = n;
        tcp_count(w->s, TCPC_SNDBUF_GROW);
        if (c->so != NULL) /* read by getsockopt on the control thread */
                __atomic_store_n(&c->so->sndbuf, n, __ATOMIC_RELAXED);
}

/* The ACK field (RFC 9293 3.10.7.4 fifth check; RFC 5681, RFC 6582).
 * @return false: the connection is gone (freed: no grace period without
 * workers). */
static bool ack_cum(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r,
                    uint32_t len)
{
        struct tcp_data *d = c->d;
        uint32_t wnd = (uint32_t)r->window << c->snd_ws, mss = smss(c);
        uint32_t acked = r->ack - c->snd_una;

        if (seq_leq(r->ack, c->snd_una)) {
                /* RFC 5681 2: a duplicate ACK carries no data, does not move
                 * the window, and something is outstanding. */
                if (r->ack == c->snd_una && len == 0 && wnd == c->snd_wnd &&
                    c->snd_nxt != c->snd_una && !(r->flags & MPNET_TCP_FIN)) {
                        if (d->dupacks < UINT16_MAX)
                                d->dupacks++;
                        if (d->dupacks == 3 && !d->recovery && d->sk == NULL &&
                            (seq_gt(c->snd_una, d->recover) || d->recover == c->snd_una)) {
                                /* RFC 6582 3.2 step 1-2. */
                                tcp_count(w->s, TCPC_FAST_RTX);
                                if (!d->cwr) {
                                        d->cc.ops->on_loss(&d->cc, TCP_CC_LOSS_FAST,
                                                           c->snd_nxt - c->snd_una, now_us(w));
                                        tcp_prr_init(&d->prr, c->snd_nxt - c->snd_una);
                                }
                                d->cwr = false;
                                d->recovery = true;
                                d->recover = c->snd_nxt;
                                d->rtt_on = false;
                                {
                                        uint32_t n = d->slen < mss ? d->slen : mss;
                                        bool fin = d->fin_q && n == d->slen && fin_sent(c);

                                        tcp_count(w->s, TCPC_RTX);
                                        send_range(w, c, c->snd_una, n, fin, NULL);
                                }
                                rtx_arm(w, c);
                        }
                } else if (seq_geq(r->ack, c->snd_una)) {
                        d->dupacks = d->recovery ? d->dupacks : 0;
                }
                if (r->ack == c->snd_una || seq_gt(r->ack, c->snd_una))
                        c->snd_wnd = wnd;
                if (c->snd_wnd > c->max_snd_wnd)
                        c->max_snd_wnd = c->snd_wnd;
                return true;
        }
        /* New data acknowledged. */
        {
                uint32_t data = acked;
                bool fin_acked = d->fin_q && seq_gt(r->ack, d->fin_seq);
                uint32_t rtt_us = 0;

                if (fin_acked)
                        data--;
                if (data > d->slen)
                        data = d->slen;
                sb_consume(d, data);
                d->o.bytes_acked += data;
                c->snd_una = r->ack;
                if (seq_lt(d->snd_cur, c->snd_una))
                        d->snd_cur = c->snd_una;
                c->snd_wnd = wnd;
                if (wnd > c->max_snd_wnd)
                        c->max_snd_wnd = wnd;
                d->tries = 0;
                /* RFC 6298 2 with Karn's rule (3): the timed segment was
                 * never retransmitted (rtt_on is cleared when one is). */
                if (d->rtt_on && seq_gt(r->ack, d->rtt_seq)) {
                        rtt_us = (uint32_t)((ctx_now(w) - d->rtt_t) / 1000);
                        if (rtt_us == 0)
                                rtt_us = 1;
                        tcp_rto_sample(&c->rto, rtt_us, false);
                        d->rtt_on = false;
                        flight_cap(c, rtt_us);
                }
                if (d->sk != NULL && d->sk->recovery) {
                        /* RFC 6675 5 step (A): a cumulative ACK at or above
                         * RecoveryPoint ends recovery. */
                        if (seq_geq(r->ack, d->sk->recovery_point)) {
                                d->sk->recovery = false;
                                d->dupacks = 0;
                                d->cc.ops->on_recovery_exit(&d->cc, c->snd_nxt - c->snd_una,
                                                            now_us(w));
                                tcp_rack_recovery_exit(d->sk);
                        }
                } else if (d->recovery) {
                        if (seq_geq(r->ack, d->recover)) {
                                /* RFC 6582 3.2 step 3: a full ACK. */
                                d->recovery = false;
                                d->dupacks = 0;
                                d->cc.ops->on_recovery_exit(&d->cc, c->snd_nxt - c->snd_una,
                                                            now_us(w));
                        } else {
                                /* Step 4: a partial ACK retransmits the next;
                                 * the window deflates by what it acked less
                                 * one segment (the retransmission it
                                 * acknowledges was not a duplicate's). */
                                uint32_t n = d->slen < mss ? d->slen : mss, k = acked / mss;

                                tcp_count(w->s, TCPC_RTX);
                                send_range(w, c, c->snd_una, n, false, NULL);
                                k = k > 0 ? k - 1 : 0;
                                d->dupacks = d->dupacks > k ? d->dupacks - k : 0;
                        }
                } else {
                        d->dupacks = 0;
                        if (!d->cwr) /* no growth while PRR reduces it */
                                d->cc.ops->on_ack(&d->cc, data, rtt_us, now_us(w));
                        sndbuf_expand(w, c);
                }
                /* RFC 6298 5.2-5.3 (RFC 8985 7.2: the PTO instead). */
                if (c->snd_una == c->snd_nxt)
                        c->rtx_at = MPNET_TIME_NEVER;
                else if (!pto_arm(w, c))
                        rtx_arm(w, c);
                if (fin_acked) {
                        switch (c->state) {
                        case TCP_FIN_WAIT_1:
                                c->state = TCP_FIN_WAIT_2;
                                if (c->so == NULL)
                                        arm(w, d, &d->tw_at, ctx_now(w) + TCP_FIN2_NS);
                                break;
                        case TCP_CLOSING:
                                time_wait(w, c);
                                break;
                        case TCP_LAST_ACK:
                                conn_gone(w, c, 0);
                                return false;
                        default:
                                break;
                        }
                }
                events(c);
        }
        return true;
}

/* PRR's part of an ACK in recovery or an ECN reduction (una, dup and
 * sacked: SND.UNA, the duplicates and the bytes SACKed before it). Out
 * of line: the bulk path's ACKs never come here. */
static __attribute__((noinline)) void prr_after(struct tcp_conn *c, uint32_t una, uint16_t dup,
                                                uint32_t sacked, const struct tcp_sack_ev *ev)
{
        struct tcp_data *d = c->d;
        bool rec = d->sk != NULL ? d->sk->recovery : d->recovery;
        int64_t n;

        if (!rec && seq_geq(c->snd_una, d->cwr_end)) {
                d->cwr = false; /* RFC 6937 3: the reduction ends at ssthresh */
                d->cc.cwnd = d->cc.ssthresh;
                return;
        }
        /* RFC 6937 3 DeliveredData: the change in SND.UNA and in the bytes
         * SACKed (without SACK, a segment per duplicate ACK). */
        n = (int64_t)(c->snd_una - una);
        if (d->sk != NULL)
                n += (int64_t)d->sk->sacked - sacked;
        else
                n += ((int64_t)d->dupacks - dup) * smss(c);
        /* An ACK that delivered nothing (a D-SACK, a window update)
         * leaves cwnd as it is, as Linux's tcp_cwnd_reduction: pipe +
         * sndcnt of it could be 0 with nothing in flight, and nothing
         * would go until the RTO. */
        if (n <= 0)
                return;
        prr_ack(c, (uint32_t)n,
                c->snd_una != una && (d->sk == NULL || ev->lost + ev->rack_lost == 0));
}

/* The ACK field, its SACK blocks first (RFC 6675, RFC 8985), then PRR
 * (RFC 6937). @return false: the connection is gone. */
static bool ack_in(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r, uint32_t len)
{
        struct tcp_data *d = c->d;
        struct tcp_sack_ev ev;
        uint32_t una = c->snd_una, sacked = 0;
        uint16_t dup = d->dupacks;

        if (d->sk != NULL) {
                sacked = d->sk->sacked;
                tcp_sack_ack(d->sk, r->ack, &r->opts, c->snd_nxt, smss(c), c->rto.srtt_us,
                             now_us32(w), &ev);
        }
        if (!ack_cum(w, c, r, len))
                return false;
        if (d->sk != NULL)
                sack_after(w, c, &ev);
        if (d->cwr || d->recovery || (d->sk != NULL && d->sk->recovery))
                prr_after(c, una, dup, sacked, &ev);
        return true;
}

/* Append in-order bytes. */
static void rcv_append(struct tcp_data *d, const uint8_t *p, uint32_t n)
{
        if (n == 0)
                return; /* a bare FIN: maybe no ring yet */
        ring_write(d->rb, d->ralloc, (d->roff + d->rlen) % d->ralloc, p, n);
        d->rlen += n;
        d->c->rcv_nxt += n;
        d->o.bytes_received += n;
}

/* Where a segment's payload is: at p (one buffer), or, ch not NULL (a
 * super-segment, tcp_ctx.rx_chain), at offset off of chain ch. */
struct rx_src {
        const uint8_t *p;
        const struct mpnet_pkt *ch;
        uint32_t off;
};

/* n bytes of the payload from skip on into to. */
static void src_copy(const struct rx_src *src, uint32_t skip, uint8_t *to, uint32_t n)
{
        if (src->ch == NULL)
                memcpy(to, src->p + skip, n);
        else
                (void)mpnet_pkt_read(src->ch, src->off + skip, to, n); /* in its bounds */
}

/* rcv_append from a super-segment's chain. */
static void rcv_append_src(struct tcp_data *d, const struct rx_src *src, uint32_t skip, uint32_t n)
{
        uint32_t at, k;

        if (src->ch == NULL) {
                rcv_append(d, src->p + skip, n);
                return;
        }
        if (n == 0)
                return;
        at = (d->roff + d->rlen) % d->ralloc;
        k = d->ralloc - at < n ? d->ralloc - at : n;
        src_copy(src, skip, d->rb + at, k);
        if (k < n)
                src_copy(src, skip + k, d->rb, n - k);
        d->rlen += n;
        d->c->rcv_nxt += n;
        d->o.bytes_received += n;
}

/* Copy the receive queue into the ring after the ring's bytes, which
 * has the room (rcv_ring), and give its buffers back. */
static void rq_collapse(struct tcp_data *d)
{
        struct tcp_rq *q = d->rq;
        uint32_t at = (d->roff + d->rlen - d->rqb) % d->ralloc;

        for (; q->n > 0; q->n--) {
                struct mpnet_pkt *p = q->e[q->head].p;
                uint32_t off = q->e[q->head].off, n = q->e[q->head].len;
                uint32_t k = d->ralloc - at < n ? d->ralloc - at : n;

                (void)mpnet_pkt_read(p, off, d->rb + at, k); /* in its bounds */
                (void)mpnet_pkt_read(p, off + k, d->rb, n - k);
                at = (at + n) % d->ralloc;
                mpnet_pkt_free(p);
                q->head = (uint16_t)((q->head + 1) % TCP_RQ_MAX);
        }
        q->head = 0;
        q->bufs = 0;
        d->rqb = 0;
}

/* Room in the ring for need more bytes after all those held, the receive
 * queue's copied in first (the ring's bytes come before the queue's, so
 * nothing is appended to the ring while the queue holds any). @return 0,
 * or -ENOMEM (nothing moved). */
static int rcv_ring(struct wctx *w, struct tcp_data *d, uint32_t need)
{
        if (ring_room(w, &d->rb, &d->ralloc, &d->roff, d->rlen - d->rqb, d->rqb + need, d->rcap) !=
            0)
                return -ENOMEM;
        if (d->rqb > 0) {
                rq_collapse(d);
                tcp_count(w->s, TCPC_RCVQ_COLLAPSE);
        }
        return 0;
}

/* Whether the segment under way (p, its buffer) may be kept whole in the
 * receive queue rather than copied into the ring (struct tcp_rq): a
 * super-segment, or any segment behind one the queue holds (else the
 * queue would be copied into the ring for it). */
static bool rq_may_take(struct wctx *w, const struct tcp_data *d, const struct mpnet_pkt *p)
{
        const struct tcp_rq *q = d->rq;
        uint32_t bufs = (q != NULL ? q->bufs : 0) + p->nb_segs;

        if (d->ooo != NULL || d->fin_in || (q != NULL && q->n == TCP_RQ_MAX))
                return false;
        if (p->len == p->pkt_len && d->rqb == 0)
                return false;
        if ((uint64_t)bufs * MPNET_PKT_BUF_SIZE > 2ull * d->rcap ||
            bufs > mpnet_pool_size(p->pool) / 4)
                return false;
        return !tcp_ctx_of(w)->rx_taken;
}

/* Keep the segment under way whole in the receive queue: src its payload,
 * from skip on, n bytes, in order. @return false: no memory for the queue
 * (nothing taken). */
static bool rq_take(struct wctx *w, struct tcp_data *d, const struct rx_src *src, uint32_t skip,
                    uint32_t n)
{
        struct tcp_ctx *x = tcp_ctx_of(w);
        struct tcp_rq *q = d->rq;
        unsigned i;

        if (q == NULL) {
                q = d->rq = calloc(1, sizeof(*q));
                if (q == NULL)
                        return false;
        }
        i = (q->head + q->n++) % TCP_RQ_MAX;
        q->e[i].p = x->rx_pkt;
        q->e[i].off = (src->ch != NULL ? src->off : (uint32_t)(src->p - x->rx_pkt->data)) + skip;
        q->e[i].len = n;
        q->bufs += x->rx_pkt->nb_segs;
        x->rx_taken = true;
        tcp_count(w->s, TCPC_RCVQ_TAKE);
        d->rlen += n;
        d->rqb += n;
        d->c->rcv_nxt += n;
        d->o.bytes_received += n;
        return true;
}

/* The in-order FIN (RFC 9293 3.10.7.4 eighth check). */
static void fin_in(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        d->fin_in = true;
        c->rcv_nxt++;
        switch (c->state) {
        case TCP_ESTABLISHED:
                c->state = TCP_CLOSE_WAIT;
                break;
        case TCP_FIN_WAIT_1: /* our FIN not yet acked: a simultaneous close */
                c->state = TCP_CLOSING;
                break;
        case TCP_FIN_WAIT_2:
                time_wait(w, c);
                break;
        default:
                break;
        }
}

/* Take out-of-order segments that now follow RCV.NXT. */
static void ooo_pull(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        while (d->ooo != NULL && seq_leq(d->ooo->seq, c->rcv_nxt) && !d->fin_in) {
                struct tcp_ooo *q = d->ooo;
                uint32_t skip = c->rcv_nxt - q->seq;

                if (skip < q->len)
                        rcv_append(d, q->b + skip, q->len - skip);
                if (q->fin && skip <= q->len)
                        fin_in(w, c);
                d->ooo = q->next;
                if (d->ooo == NULL)
                        d->ooo_tail = NULL;
                d->n_ooo--;
                d->ooo_bytes -= q->len;
                free(q);
        }
}

/* Hold an out-of-order segment (bounded: TCP_OOO_MAX). */
static void ooo_add(struct wctx *w, struct tcp_data *d, uint32_t seq, const struct rx_src *src,
                    uint32_t skip, uint32_t n, bool fin)
{
        struct tcp_ooo **pp = &d->ooo, *q;

        /* Past everything held (a loss's later segments, in order): the
         * tail, without a walk. */
        if (d->ooo_tail != NULL && seq_geq(seq, d->ooo_tail->seq + d->ooo_tail->len)) {
                pp = &d->ooo_tail->next;
                d->ooo_last = seq;
                goto add;
        }
        /* A duplicate's data is held already, but not always its FIN: a
         * retransmission (a TLP probe of the tail, the last piece of a
         * super-segment held whole) may bring the FIN that ends a held
         * segment. It is kept there, to count once the hole before it is
         * filled (RFC 9293 3.10.7.4, eighth check); dropped, it would wait
         * for the peer's next retransmission timeout. */
        for (q = d->ooo; q != NULL && seq_leq(q->seq, seq); q = q->next) {
                if (n != 0 && seq_leq(seq + n, q->seq + q->len)) {
                        d->ooo_last = seq;
                        dsack_set(d, seq, seq + n); /* a duplicate */
                        if (fin && seq + n == q->seq + q->len)
                                q->fin = true;
                        return;
                }
        }
        while (*pp != NULL && seq_lt((*pp)->seq, seq))
                pp = &(*pp)->next;
        d->ooo_last = seq;
        if (*pp != NULL && (*pp)->seq == seq && (*pp)->len >= n) {
                if (fin && (*pp)->len == n) /* a duplicate, maybe with the FIN */
                        (*pp)->fin = true;
                return;
        }
add:
        if (d->n_ooo >= TCP_OOO_MAX || d->ooo_bytes + n > d->rcap) {
                tcp_count(w->s, TCPC_OOO_DROP);
                return;
        }
        q = malloc(sizeof(*q) + n);
        if (q == NULL) {
                tcp_count(w->s, TCPC_OOO_DROP);
                return;
        }
        q->seq = seq;
        q->len = n;
        q->fin = fin;
        src_copy(src, skip, q->b, n);
        q->next = *pp;
        *pp = q;
        if (q->next == NULL)
                d->ooo_tail = q;
        d->n_ooo++;
        d->ooo_bytes += n;
}

bool tcp_data_dup(struct wctx *w, struct tcp_conn *c, uint32_t seq, uint32_t len)
{
        struct tcp_data *d = c->d;

        if (d == NULL)
                return false;
        if (len != 0 && seq_leq(seq + len, c->rcv_nxt))
                dsack_set(d, seq, seq + len); /* RFC 2883 4.1.1 */
        /* The answer carries the window as it is now, not as last
         * advertised: a persist probe (SND.UNA - 1, no data) is how a
         * sender learns of a window update that was lost (RFC 9293
         * 3.8.6.1), and the reads since may have opened it. */
        send_ack(w, c);
        return true;
}

bool tcp_paws(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_repr *r)
{
        /* An embryo has no data state; a compact TIME_WAIT neither, but
         * PAWS holds for it (its ACK: tcp_send_ctl). */
        if ((c->d == NULL && c->state != TCP_TIME_WAIT) || !(c->opt & TCPF_TS) ||
            !(r->opts.present & MPNET_TCPO_TS))
                return true;
        /* RFC 7323 5.3 R1 (an idle connection of 24 days excepted: not
         * tracked, as no timestamp clock wraps that fast here). */
        if (tcp_paws_ok(r->opts.ts_val, c->ts_recent, 0, (r->flags & MPNET_TCP_RST) != 0))
                return true;
        tcp_count(w->s, TCPC_PAWS_DROP);
        if (c->d != NULL)
                send_ack(w, c);
        else
                tcp_send_ctl(w, c, MPNET_TCP_ACK, c->snd_nxt);
        return false;
}

/* Header prediction (Jacobson's, as BSD's tcp_input): the next in-order
 * data of a bulk receiver, whose ACK field says nothing new (it acks
 * SND.UNA = SND.NXT, moves no window, carries no SACK block, and no
 * recovery, ECN reduction, probe or duplicate count waits on it). The ACK processing
 * would change nothing: the segment skips it (RFC 9293 3.10.7.4's fifth
 * check has no effect for it) and goes straight to the data. */
static bool rcv_predicted(const struct tcp_conn *c, const struct mpnet_tcp_repr *r, uint32_t len)
{
        const struct tcp_data *d = c->d;

        return len != 0 && c->state == TCP_ESTABLISHED &&
               (r->flags & ~MPNET_TCP_PSH) == MPNET_TCP_ACK && r->seq == c->rcv_nxt &&
               r->ack == c->snd_una && c->snd_una == c->snd_nxt &&
               ((uint32_t)r->window << c->snd_ws) == c->snd_wnd &&
               !(r->opts.present & MPNET_TCPO_SACK) && d->ooo == NULL && !d->fin_in &&
               !d->recovery && !d->cwr && d->dupacks == 0 &&
               (d->sk == NULL || (!d->sk->recovery && !d->sk->tlp_on && d->sk->n == 0));
}

void tcp_data_input(struct wctx *w, struct tcp_conn *c, const struct mpnet_tcp_view *v,
                    const struct mpnet_tcp_repr *r)
{
        struct tcp_data *d = c->d;
        const struct mpnet_pkt *ch = tcp_ctx_of(w)->rx_chain;
        struct rx_src src = {.p = mpnet_tcp_payload(v), .ch = ch};
        uint32_t len = (uint32_t)mpnet_tcp_payload_len(v), seq = r->seq, skip0 = 0;
        bool fin = (r->flags & MPNET_TCP_FIN) != 0, ack_now = false, ack_vec = false, pred;

        if (d == NULL) {
                if (c->state == TCP_TIME_WAIT)
                        tw_input(w, c, r);
                else if (len != 0)
                        tcp_count(w->s, TCPC_UNHANDLED);
                return;
        }
        if (ch != NULL)
                src.off = (uint32_t)(src.p - ch->data);
        tcp_opt_rx(w, c, r); /* keepalive, ECN (l4/tcp_opt.c) */
        /* RFC 7323 4.3: TS.Recent from a segment at or before the last ACK
         * sent. */
        if ((c->opt & TCPF_TS) && (r->opts.present & MPNET_TCPO_TS) &&
            tcp_ts_recent_take(r->opts.ts_val, c->ts_recent, seq, d->last_ack_sent))
                c->ts_recent = r->opts.ts_val;
        /* The receiver's RTT: data that echoes our timestamp came a round
         * trip after we sent it. The ms clock says nothing of a round trip
         * under two of its ticks (a tick crossed may be 1 us): 0 and 1 are
         * no sample (Linux takes no 0, tcp_rcv_rtt_measure_ts), the
         * window's timing (rcv_rtt_window) sees those. Taken as 1 ms they
         * held paths of tens of us at 1 ms, and their windows grew 10 - 30
         * times past what the paths need (docs/PERFORMANCE.md). */
        if (len != 0 && (c->opt & TCPF_TS) && (r->opts.present & MPNET_TCPO_TS) &&
            r->opts.ts_ecr != 0) {
                uint32_t ms = ts_now(ctx_now(w)) - r->opts.ts_ecr;

                if (ms > 1 && ms < 60000)
                        rcv_rtt_sample(w, d, ms * 1000);
        }
        pred = rcv_predicted(c, r, len);
        if (!pred && !ack_in(w, c, r, len))
                return; /* LAST_ACK ended */
        if (c->state == TCP_TIME_WAIT) {
                /* A retransmitted FIN: ACK it, TIME_WAIT restarts (RFC 9293
                 * 3.10.7.4). */
                if (fin) {
                        send_ack(w, c);
                        tw_arm(w, c, ctx_now(w) + 2 * tcp_state_of(w->s)->msl_ns);
                }
                return;
        }
        if (len != 0 || fin) {
                uint32_t right = c->rcv_nxt + (d->rcap - d->rlen);
                struct mpnet_pkt *p = tcp_ctx_of(w)->rx_pkt;
                bool take = len != 0 && p != NULL && rq_may_take(w, d, p);

                /* Ring room for the data and what it may pull from the
                 * out-of-order queue; without memory the window is
                 * closed to it (trimmed below, ACKed). A super-segment
                 * the receive queue takes needs none. */
                if (len != 0 && !take) {
                        uint32_t need = len + d->ooo_bytes;

                        if (need > d->rcap - d->rlen)
                                need = d->rcap - d->rlen;
                        if (rcv_ring(w, d, need) != 0)
                                right = c->rcv_nxt;
                }

                if (d->fin_in) {
                        len = 0;
                        fin = false;
                        ack_now = true; /* data after the FIN: ignored */
                }
                if (len != 0)
                        tcp_count(w->s, TCPC_DATA_IN);
                /* Trim what is before RCV.NXT and beyond the buffer. */
                if (seq_lt(seq, c->rcv_nxt)) {
                        uint32_t skip = c->rcv_nxt - seq;

                        ack_now = true;
                        /* RFC 2883 4.1.1-4.1.2: its part below RCV.NXT
                         * came twice. */
                        dsack_set(d, seq, seq + (skip < len ? skip : len));
                        if (skip >= len) {
                                fin = fin && skip == len;
                                skip = len;
                        }
                        skip0 = skip;
                        len -= skip;
                        seq += skip;
                }
                if (seq_gt(seq + len, right)) {
                        uint32_t cut = (seq + len) - right;

                        len = cut >= len ? 0 : len - cut;
                        fin = false;
                        ack_now = true;
                }
                if (seq == c->rcv_nxt && (len != 0 || fin)) {
                        bool had_ooo = d->ooo != NULL;

                        /* No queue memory: the ring, if it can grow. */
                        if (take && len != 0 && !rq_take(w, d, &src, skip0, len))
                                take = false;
                        if (!take) {
                                if (len != 0 && rcv_ring(w, d, len) != 0) {
                                        len = 0; /* dropped: the sender resends it */
                                        fin = false;
                                }
                                rcv_append_src(d, &src, skip0, len);
                        }
                        d->unacked += len;
                        if (fin)
                                fin_in(w, c);
                        ooo_pull(w, c);
                        if (d->rrtt_t != 0 && seq_gt(c->rcv_nxt, d->rrtt_seq))
                                rcv_rtt_window(w, d);
                        /* RFC 5681 4.2: ACK at once a segment that fills a
                         * hole; a FIN too; quick ACKs at start; else every
                         * second full segment (full: our sending MSS, the
                         * peer's being alike), or the delayed ACK timer.
                         * With tcp_state.ack_vec the every-second one waits
                         * for the end of the receive vector (tcp_vec_end),
                         * so the in-order segments of one vector get one
                         * ACK, as Linux's GRO gives them one: unacked counts
                         * the bytes of every segment since the last ACK, so
                         * a vector that brings the second full segment is
                         * ACKed at its end, one that brings only the first
                         * waits for the delayed ACK (RFC 1122 4.2.3.2). */
                        if (had_ooo || d->fin_in || d->quick > 0)
                                ack_now = true;
                        else if (d->unacked >= 2u * smss(c) &&
                                 atomic_load_explicit(&tcp_state_of(w->s)->ack_vec,
                                                      memory_order_relaxed))
                                ack_vec = true;
                        else if (d->unacked >= 2u * smss(c))
                                ack_now = true;
                        if (d->quick > 0)
                                d->quick--;
                        events(c);
                } else if (len != 0 || fin) {
                        /* RFC 5681 4.2: out of order, a duplicate ACK at once. */
                        ooo_add(w, d, seq, &src, skip0, len, fin);
                        ack_now = true;
                }
        }
        /* A predicted segment changed nothing output looks at (no ACK
         * news, the same window, nothing in flight): what output did not
         * send before it, it would not send now. */
        if (!pred)
                output(w, c);
        if (ack_now) {
                send_ack(w, c);
        } else if (ack_vec && d->unacked > 0) {
                if (!d->ack_vec) {
                        d->ack_vec = true;
                        vec_ack_add(w, c);
                }
        } else if (d->unacked > 0 && d->dack_at == MPNET_TIME_NEVER) {
                arm(w, d, &d->dack_at, ctx_now(w) + TCP_DACK_NS);
        }
}

/* ---- the end of a receive vector ---- */

/* c's ACK waits for the end of the vector (tcp_vec_end); the delayed ACK
 * timer, due now, when the context's list is full. */
static void vec_ack_add(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_ctx *x = tcp_ctx_of(w);

        if (x->n_vack == TCP_VEC_PEND) {
                arm(w, c->d, &c->d->dack_at, ctx_now(w));
                return;
        }
        x->vack[x->n_vack++] = c;
        ctx_vec_end_arm(w, MOD_tcp);
}

void tcp_vec_end(struct wctx *w, void *cs)
{
        struct tcp_ctx *x = cs;
        struct tcp_conn *ack[TCP_VEC_PEND];
        struct mpnet_sock *so[TCP_VEC_PEND];
        uint32_t ev[TCP_VEC_PEND];
        unsigned n_ack = x->n_vack, n_cb = x->n_vcb;

        /* Taken off first: what the ACKs and callbacks do may ask for the
         * next vector's end. */
        memcpy(ack, x->vack, n_ack * sizeof(ack[0]));
        for (unsigned i = 0; i < n_cb; i++) {
                so[i] = x->vcb[i].so;
                ev[i] = x->vcb[i].ev;
        }
        x->n_vack = x->n_vcb = 0;
        /* An ACK sent meanwhile (a hole filled, a FIN, data sent) cleared
         * ack_vec; a connection dropped meanwhile has no rings (and
         * ack_vec cleared by tcp_data_drop). */
        for (unsigned i = 0; i < n_ack; i++) {
                struct tcp_conn *c = ack[i];

                if (c->d == NULL || !c->d->ack_vec || c->state == TCP_CLOSED)
                        continue;
                tcp_count(w->s, TCPC_ACK_VEC);
                send_ack(w, c);
        }
        for (unsigned i = 0; i < n_cb; i++)
                tcp_sock_cb(w, so[i], ev[i]);
}

/* ---- timers ---- */

/* RACK's reordering timer (RFC 8985 6.3) or the tail loss probe (7.3:
 * a new segment if the peer's window takes one, else the last sent again;
 * then the RTO). */
static void sack_timer(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        struct tcp_sack *k = d->sk;
        uint32_t seq, end;
        bool fin;

        if (k->timer == TCP_TMR_REO) {
                struct tcp_sack_ev ev = {0};

                ev.reo_us = tcp_rack_detect(k, c->rto.srtt_us, now_us32(w), &ev.rack_lost);
                rtx_arm(w, c);
                sack_after(w, c, &ev);
                output(w, c);
                return;
        }
        tcp_count(w->s, TCPC_TLP);
        if (send_new(w, c, smss(c))) {
                k->tlp_rtx = false;
        } else if (tcp_sack_next(k, 0, c->snd_nxt, smss(c), &seq, &end, &fin)) {
                tcp_count(w->s, TCPC_RTX);
                if (d->rtt_on && seq_leq(seq, d->rtt_seq) && seq_lt(d->rtt_seq, end))
                        d->rtt_on = false;
                send_range(w, c, seq, end - seq - fin, fin, NULL);
                k->tlp_rtx = true;
        } else {
                rtx_arm(w, c);
                return;
        }
        k->tlp_on = true;
        k->tlp_end = c->snd_nxt;
        rtx_arm(w, c);
}

/* @return false: the connection is gone. */
static bool rtx_timeout(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        c->rtx_at = MPNET_TIME_NEVER;
        if (d->persist) {
                /* RFC 9293 3.8.6.1: a probe; the answer carries the
                 * window (a segment below RCV.NXT is answered with an
                 * ACK). */
                uint64_t t;

                tcp_count(w->s, TCPC_PERSIST);
                seg_out(w, c, MPNET_TCP_ACK, c->snd_una - 1, NULL, 0, NULL, 0, NULL);
                tcp_rto_backoff(&c->rto);
                t = rto_ns(c);
                arm(w, d, &c->rtx_at,
                    ctx_now(w) + (t > TCP_PERSIST_MAX_NS ? TCP_PERSIST_MAX_NS : t));
                return true;
        }
        if (c->snd_una == c->snd_nxt)
                return true;
        if (d->sk != NULL && d->sk->timer != TCP_TMR_RTO) {
                sack_timer(w, c);
                return true;
        }
        if (++d->tries > TCP_RTX_TRIES) {
                tcp_count(w->s, TCPC_TIMEOUT);
                conn_gone(w, c, ETIMEDOUT);
                return false;
        }
        tcp_count(w->s, TCPC_RTO);
        tcp_pmtu_rto(w, c, d->tries, c->snd_nxt - c->snd_una >= smss(c));
        /* RFC 6298 5.4-5.6, RFC 5681 3.1 (cwnd 1 MSS), go back to SND.UNA. */
        if (d->sk != NULL && !d->cwr)
                tcp_undo_start(&d->undo, &d->cc, c->snd_una, c->snd_nxt);
        d->cc.ops->on_loss(&d->cc, TCP_CC_LOSS_RTO, c->snd_nxt - c->snd_una, now_us(w));
        tcp_rto_backoff(&c->rto);
        d->recovery = false;
        d->cwr = false;
        d->recover = c->snd_nxt;
        d->dupacks = 0;
        d->rtt_on = false;
        d->snd_cur = c->snd_una;
        if (d->sk != NULL)
                tcp_sack_rto(d->sk, d->tries);
        output(w, c);
        if (c->rtx_at == MPNET_TIME_NEVER)
                rtx_arm(w, c);
        return true;
}

uint64_t tcp_data_timers(struct wctx *w, uint64_t now)
{
        uint64_t next = tw_expire(w, now);
        struct tcp_data *d = tcp_ctx_of(w)->tq; /* the context's own */

        while (d != NULL) {
                struct tcp_data *nx = d->tnext;
                struct tcp_conn *c = d->c;

                if (d->tw_at <= now) {
                        d->tw_at = MPNET_TIME_NEVER;
                        if (c->state == TCP_FIN_WAIT_2) {
                                tcp_conn_drop(w->s, c); /* off the list too */
                                d = nx;
                                continue;
                        }
                }
                if (d->dack_at <= now) {
                        tcp_count(w->s, d->ack_vec ? TCPC_ACK_VEC : TCPC_DACK);
                        send_ack(w, c);
                }
                if (d->pace_tmr <= now) {
                        d->pace_tmr = MPNET_TIME_NEVER;
                        output(w, c);
                }
                if (c->rtx_at <= now && !rtx_timeout(w, c)) {
                        d = nx;
                        continue;
                }
                if (tcp_opt_due(c) <= now && !tcp_opt_timer(w, c, now)) {
                        d = nx;
                        continue;
                }
                /* TIME_WAIT's end is the queue's (tw_arm). */
                if (d->tw_at == MPNET_TIME_NEVER && d->dack_at == MPNET_TIME_NEVER &&
                    c->rtx_at == MPNET_TIME_NEVER && d->pace_tmr == MPNET_TIME_NEVER &&
                    tcp_opt_due(c) == MPNET_TIME_NEVER) {
                        tq_unlink(d);
                } else {
                        uint64_t m = d->tw_at < d->dack_at ? d->tw_at : d->dack_at;

                        m = m < c->rtx_at ? m : c->rtx_at;
                        m = m < d->pace_tmr ? m : d->pace_tmr;
                        m = m < tcp_opt_due(c) ? m : tcp_opt_due(c);
                        next = m < next ? m : next;
                }
                d = nx;
        }
        return next;
}

/* ---- for l4/tcp_opt.c and l4/tcp_pmtu.c ---- */

void tcp_data_arm(struct wctx *w, struct tcp_conn *c, uint64_t *at, uint64_t when)
{
        arm(w, c->d, at, when);
}

void tcp_data_output(struct wctx *w, struct tcp_conn *c)
{
        output(w, c);
        events(c);
}

void tcp_data_resend(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        d->snd_cur = c->snd_una;
        d->rtt_on = false; /* Karn: what follows is retransmitted */
        output(w, c);
        if (c->rtx_at == MPNET_TIME_NEVER && c->snd_nxt != c->snd_una)
                rtx_arm(w, c);
}

bool tcp_data_ecn_reduce(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        if (d->recovery || d->cwr || (d->sk != NULL && d->sk->recovery))
                return false; /* the loss already reduced it (RFC 3168 6.1.2) */
        d->cc.ops->on_loss(&d->cc, TCP_CC_LOSS_FAST, c->snd_nxt - c->snd_una, now_us(w));
        /* RFC 6937 3: PRR brings cwnd down to ssthresh over the next
         * round trip (as Linux's CWR state), not in one step. */
        tcp_prr_init(&d->prr, c->snd_nxt - c->snd_una);
        d->cwr = c->snd_nxt != c->snd_una;
        d->cwr_end = c->snd_nxt;
        return true;
}

void tcp_data_info(const struct tcp_conn *c, struct mpnet_tcp_info *i)
{
        const struct tcp_data *d = c->d;

        i->snd_mss = smss(c);
        i->snd_cwnd = tcp_cc_cwnd(&d->cc);
        i->snd_ssthresh = tcp_cc_ssthresh(&d->cc);
        i->backoff = d->tries;
        i->snd_buf = d->slen;
        i->rcv_buf = d->rlen;
        i->rcv_rtt_us = d->rcv_rtt_min.s[0].v;
        i->rcv_space = d->rspace;
}

/* ---- the socket calls ---- */

void mpnet_tcp_set_ack_vec(struct mpnet_stack *s, int on)
{
        atomic_store_explicit(&tcp_state_of(s)->ack_vec, on != 0, memory_order_relaxed);
}

void mpnet_tcp_set_pacing(struct mpnet_stack *s, int on)
{
        __atomic_store_n(&tcp_state_of(s)->pacing, on != 0, __ATOMIC_RELAXED);
}

int mpnet_tcp_set_autotune(struct mpnet_stack *s, uint32_t rmem_max, uint32_t wmem_max)
{
        struct tcp_state *st = tcp_state_of(s);

        if (rmem_max > MPNET_TCP_AUTOTUNE_MAX || wmem_max > MPNET_TCP_AUTOTUNE_MAX)
                return -EINVAL;
        __atomic_store_n(&st->rmem_max, rmem_max, __ATOMIC_RELAXED);
        __atomic_store_n(&st->wmem_max, wmem_max, __ATOMIC_RELAXED);
        return 0;
}

static struct tcp_conn *conn_of(struct mpnet_sock *so)
{
        struct tcp_conn *c = so->tcp;

        return (so->flags & SOF_LISTEN) || c == NULL || c->d == NULL ? NULL : c;
}

ssize_t tcp_sendmsg(struct mpnet_stack *s, struct mpnet_sock *so, const struct msghdr *msg,
                    int flags)
{
        struct tcp_conn *c = conn_of(so);
        struct tcp_data *d;
        size_t done = 0;

        (void)flags;
        if (so->err != 0) {
                int e = so->err;

                so->err = 0;
                return -e;
        }
        if (c == NULL) {
                if (so->tcp != NULL && !(so->flags & SOF_LISTEN))
                        return -EAGAIN; /* SYN_SENT */
                return (so->flags & SOF_CONNECTED) ? -EPIPE : -ENOTCONN;
        }
        d = c->d;
        if (d->fin_q || (so->flags & SOF_SHUT_WR))
                return -EPIPE;
        for (size_t i = 0; i < msg->msg_iovlen; i++) {
                const uint8_t *b = msg->msg_iov[i].iov_base;
                size_t n = msg->msg_iov[i].iov_len;

                if (n > 0 && b == NULL)
                        return done > 0 ? (ssize_t)done : -EFAULT;
                while (n > 0 && d->slen < d->scap) {
                        uint32_t k = d->scap - d->slen < n ? d->scap - d->slen : (uint32_t)n;
                        uint32_t got = sb_write(d, b, k);

                        b += got;
                        n -= got;
                        done += got;
                        if (got < k)
                                return done > 0 ? (ssize_t)done : -ENOMEM;
                }
                if (n > 0)
                        break;
        }
        if (done == 0 && msg->msg_iovlen > 0) {
                size_t total = 0;

                for (size_t i = 0; i < msg->msg_iovlen; i++)
                        total += msg->msg_iov[i].iov_len;
                if (total > 0) {
                        sock_lower(so, EPOLLOUT);
                        return -EAGAIN;
                }
        }
        output(tcp_home_w(s, c), c);
        events(c);
        return (ssize_t)done;
}

/* The receiver's RTT for auto-tuning: the least sample of the last
 * TCP_RCV_RTT_WIN_US (BBR's min_rtt idea), so the buffer follows what
 * the path carries in a round trip without its queue. With the latest
 * sample instead, a grown window filled a queue, the round trip grew with
 * it, the application read more in it, and the buffer grew again: eight
 * flows over a memory wire grew to 4 MiB windows each and overran its
 * ring (docs/PERFORMANCE.md). */
static void rcv_rtt_sample(struct wctx *w, struct tcp_data *d, uint32_t us)
{
        (void)tcp_minmax_min(&d->rcv_rtt_min, TCP_RCV_RTT_WIN_US, now_us32(w), us);
        d->rcv_rtt_last = us;
}

/* A window's worth timed (Linux's tcp_rcv_rtt_measure, in us and
 * without timestamps): a byte past the right edge rrtt_seq can only have
 * been sent after the peer had an ACK that moved the edge past it, and the
 * first such left at rrtt_t, so now - rrtt_t is at least a round trip;
 * about one when the window limits the sender, more when its congestion
 * window, pacing or the application do. The least of these samples is the
 * path's round trip at the clock's resolution, where the timestamps' ms
 * clock (RFC 7323 5.4: 1 ms to 1 s a tick) gives at least 1 ms and a
 * memory wire's is tens of us: windows sized by 1 ms grew 10 - 50 times
 * past what the path needs (docs/PERFORMANCE.md). */
static void rcv_rtt_window(struct wctx *w, struct tcp_data *d)
{
        uint32_t us = now_us32(w) - d->rrtt_t;

        d->rrtt_t = 0;
        if (us < 60u * 1000000u)
                rcv_rtt_sample(w, d, us != 0 ? us : 1);
}

/* The receiver's round trip: its own estimate, else the sender side's
 * SRTT, else 1 ms. */
static uint32_t rcv_rtt_us(const struct tcp_conn *c)
{
        uint32_t us = c->d->rcv_rtt_min.s[0].v != 0 ? c->d->rcv_rtt_min.s[0].v : c->rto.srtt_us;

        return us != 0 ? us : 1000;
}

/* Receive-buffer auto-tuning (dynamic right-sizing, Linux's
 * tcp_rcv_space_adjust): once a round trip, when the application read more
 * in it than in any before (rspace), the buffer grows to twice that and 16
 * segments, more while that grows (slow start: the window advertised now
 * is for the next round trip), so the window stays ahead of what the path
 * carries and no further. n: bytes just read. */
static void rcvbuf_tune(struct wctx *w, struct tcp_conn *c, uint32_t n)
{
        struct tcp_data *d = c->d;
        uint32_t now = now_us32(w), rtt = rcv_rtt_us(c), span = now - d->rspace_t;
        uint64_t per_rtt, want;
        uint32_t max = __atomic_load_n(&tcp_state_of(w->s)->rmem_max, __ATOMIC_RELAXED), to;

        d->rcopied += n;
        if (span < rtt)
                return;
        /* What the application read in one round trip: the reads since
         * rspace_t may span many (a reader that ran late read them at
         * once), and their sum as one round trip's grew eight flows'
         * buffers from 208 KiB to 3.5 MiB in a step (docs/PERFORMANCE.md). */
        per_rtt = (uint64_t)d->rcopied * rtt / span; /* span >= rtt >= 1 */
        d->rcopied = 0;
        d->rspace_t = now;
        if (per_rtt <= d->rspace)
                return;
        /* Twice what came in a round trip (a loss's repair takes one more)
         * and 16 segments of cushion; in slow start what came grew by
         * (per_rtt - rspace) / rspace, and will again by the time this
         * window is used: twice that on top, as Linux does (the ratio held
         * to 1 here). */
        want = 2 * per_rtt + 16ull * smss(c);
        if (d->rspace != 0)
                want += 2 * (want *
                             (per_rtt - d->rspace < d->rspace ? per_rtt - d->rspace : d->rspace) /
                             d->rspace);
        d->rspace = per_rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)per_rtt;
        /* A round trip twice the least of late (and 2 ms more, the
         * timestamps' ms clock): a queue on the path, not the path, holds
         * the data; a larger window would only deepen it. Growth comes out
         * of the stack's budget (budget_take): eight flows share what one
         * may grow by. */
        if (!d->rauto || d->rcv_rtt_last > 2 * rtt + 2000 || want <= d->rcap || d->rcap >= max)
                return;
        to = want > max ? max : (uint32_t)want;
        to = d->rcap + budget_take(&tcp_state_of(w->s)->rgrown, to - d->rcap, max);
        if (to <= d->rcap)
                return;
        d->rgrown += to - d->rcap;
        d->rcap = to;
        tcp_count(w->s, TCPC_RCVBUF_GROW);
        if (c->so != NULL)
                atomic_store_explicit(&c->so->rcvbuf, to, memory_order_relaxed);
}

/* n bytes of those held (the ring's, then the receive queue's) from off
 * on into to. */
static void rcv_read(const struct tcp_data *d, uint32_t off, uint32_t n, uint8_t *to)
{
        uint32_t ring = d->rlen - d->rqb;
        const struct tcp_rq *q = d->rq;

        if (off < ring) {
                uint32_t k = ring - off < n ? ring - off : n;

                ring_read(d->rb, d->ralloc, (d->roff + off) % d->ralloc, k, to);
                to += k;
                n -= k;
                off = ring;
        }
        off -= ring;
        for (unsigned j = 0; n > 0 && j < q->n; j++) {
                unsigned i = (q->head + j) % TCP_RQ_MAX;
                uint32_t k;

                if (off >= q->e[i].len) {
                        off -= q->e[i].len;
                        continue;
                }
                k = q->e[i].len - off < n ? q->e[i].len - off : n;
                (void)mpnet_pkt_read(q->e[i].p, q->e[i].off + off, to, k); /* in its bounds */
                to += k;
                n -= k;
                off = 0;
        }
}

/* The application read n bytes: they go, the ring's first; a super-
 * segment read whole gives its buffers back. */
static void rcv_consume(struct tcp_data *d, uint32_t n)
{
        uint32_t ring = d->rlen - d->rqb, k = ring < n ? ring : n;
        struct tcp_rq *q = d->rq;

        if (k > 0)
                d->roff = (d->roff + k) % d->ralloc;
        d->rlen -= n;
        n -= k;
        /* Emptied: the ring starts again at its beginning, so the next
         * bytes in land where these were read, still in the cache (a bulk
         * reader that keeps up touches a few KB of it, not all 4 MB). */
        if (ring == k)
                d->roff = 0;
        d->rqb -= n;
        while (n > 0) {
                unsigned i = q->head;

                if (n < q->e[i].len) {
                        q->e[i].off += n;
                        q->e[i].len -= n;
                        break;
                }
                n -= q->e[i].len;
                q->bufs -= q->e[i].p->nb_segs;
                mpnet_pkt_free(q->e[i].p);
                q->head = (uint16_t)((i + 1) % TCP_RQ_MAX);
                q->n--;
        }
}

ssize_t tcp_recvmsg(struct mpnet_stack *s, struct mpnet_sock *so, struct msghdr *msg, int flags)
{
        struct tcp_conn *c = so->tcp;
        struct tcp_data *d;
        uint32_t off = 0, before;

        if (so->err != 0 && (c == NULL || c->d == NULL || c->d->rlen == 0)) {
                int e = so->err;

                so->err = 0;
                return -e;
        }
        if ((so->flags & SOF_LISTEN) || c == NULL)
                return (so->flags & SOF_CONNECTED) ? 0 : -ENOTCONN;
        d = c->d;
        if (d == NULL)
                return -EAGAIN;
        msg->msg_flags = 0;
        msg->msg_controllen = 0;
        msg->msg_namelen = 0;
        for (size_t i = 0; i < msg->msg_iovlen && off < d->rlen; i++) {
                uint32_t n = d->rlen - off;

                if (msg->msg_iov[i].iov_len < n)
                        n = (uint32_t)msg->msg_iov[i].iov_len;
                if (n > 0 && msg->msg_iov[i].iov_base == NULL)
                        return -EFAULT;
                rcv_read(d, off, n, msg->msg_iov[i].iov_base);
                off += n;
        }
        if (off == 0)
                return d->fin_in || (so->flags & SOF_SHUT_RD) ? 0 : -EAGAIN;
        if (flags & MSG_PEEK)
                return (ssize_t)off;
        before = rcv_window(d);
        rcv_consume(d, off);
        rcvbuf_tune(tcp_home_w(s, c), c, off);
        events(c);
        /* A window update when reading opened it by enough (RFC 9293
         * 3.8.6.2.2), as the receiver-side rule of rcv_window() says. */
        if (c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
            c->state == TCP_FIN_WAIT_2) {
                uint32_t after = rcv_window(d);

                if (after > before && (before < c->mss_ours || after - before >= d->rcap / 2))
                        send_ack(tcp_home_w(s, c), c);
        }
        return (ssize_t)off;
}

/* Queue our FIN (RFC 9293 3.10.4 CLOSE). */
static void fin_queue(struct mpnet_stack *s, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;

        if (d->fin_q)
                return;
        d->fin_q = true;
        d->fin_seq = c->snd_una + d->slen;
        if (c->state == TCP_ESTABLISHED)
                c->state = TCP_FIN_WAIT_1;
        else if (c->state == TCP_CLOSE_WAIT)
                c->state = TCP_LAST_ACK;
        output(tcp_home_w(s, c), c);
}

int tcp_shutdown(struct mpnet_stack *s, struct mpnet_sock *so, int how)
{
        struct tcp_conn *c = conn_of(so);

        if (c == NULL)
                return -ENOTCONN;
        if (how != SHUT_WR) {
                so->flags |= SOF_SHUT_RD;
                sock_raise(so, EPOLLIN | EPOLLRDHUP);
        }
        if (how != SHUT_RD) {
                so->flags |= SOF_SHUT_WR;
                fin_queue(s, c);
        }
        return 0;
}

void tcp_data_close(struct mpnet_stack *s, struct tcp_conn *c)
{
        struct tcp_data *d = c->d;
        struct wctx *w = tcp_home_w(s, c);

        c->so = NULL;
        if (d->rlen > 0 || d->ooo != NULL) {
                /* RFC 9293 3.10.4 and RFC 2525 2.17: data unread, a reset. */
                tcp_count(s, TCPC_RST_UNREAD);
                seg_out(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt, NULL, 0, NULL, 0, NULL);
                tcp_conn_drop(s, c);
                return;
        }
        fin_queue(s, c);
        if (c->state == TCP_FIN_WAIT_2)
                arm(w, d, &d->tw_at, ctx_now(w) + TCP_FIN2_NS);
}

int tcp_data_setopt(struct tcp_conn *c, int name, int v)
{
        if (c == NULL || c->d == NULL)
                return -ENOTCONN;
        if (name == TCP_NODELAY) {
                c->d->nodelay = v != 0;
                return 0;
        }
        return -ENOPROTOOPT;
}
