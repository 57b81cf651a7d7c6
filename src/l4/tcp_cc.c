/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The congestion control registry, the Reno pieces CUBIC shares, and
 * NewReno (RFC 5681, RFC 3465, RFC 6582).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "l4/tcp_cc.h"

#define CC_MAX     8
#define CWND_LIMIT (1u << 30)

static const struct tcp_cc_ops *cc_tab[CC_MAX] = {&tcp_cc_cubic, &tcp_cc_newreno};
static _Atomic unsigned cc_n = 2;

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
        unsigned i, n = atomic_load_explicit(&cc_n, memory_order_acquire);

        for (i = 0; i < n; i++)
                if (strcmp(cc_tab[i]->name, name) == 0)
                        return cc_tab[i];
        return NULL;
}

int tcp_cc_register(const struct tcp_cc_ops *ops)
{
        unsigned n = atomic_load_explicit(&cc_n, memory_order_relaxed);

        if (tcp_cc_find(ops->name) != NULL)
                return -EEXIST;
        if (n == CC_MAX)
                return -ENOSPC;
        cc_tab[n] = ops;
        atomic_store_explicit(&cc_n, n + 1, memory_order_release);
        return 0;
}

const struct tcp_cc_ops *tcp_cc_default(void)
{
        return &tcp_cc_cubic;
}

void tcp_cc_reno_init(struct tcp_cc *c, uint32_t mss)
{
        uint32_t iw = 2 * mss > 14600 ? 2 * mss : 14600;

        /* RFC 6928 2: IW = min(10 MSS, max(2 MSS, 14600)). */
        c->mss = mss;
        c->cwnd = 10 * mss < iw ? 10 * mss : iw;
        c->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
        c->acked_ca = 0;
}

uint32_t tcp_cc_slow_start(struct tcp_cc *c, uint32_t acked)
{
        /* RFC 3465 2.2 with L = 2: a stretch ACK grows cwnd by 2 MSS at
         * most, so a burst it releases stays bounded; by one super-segment
         * at most for a sender of them (abc_max). */
        uint32_t l = c->abc_max > 2 * c->mss ? c->abc_max : 2 * c->mss;
        uint32_t inc = acked < l ? acked : l;
        uint32_t room = c->ssthresh - c->cwnd;

        if (inc < room) {
                c->cwnd += inc;
                if (c->cwnd > CWND_LIMIT)
                        c->cwnd = CWND_LIMIT;
                return 0;
        }
        /* Reaching ssthresh: what is left over counts toward avoidance. */
        c->cwnd = c->ssthresh;
        return acked > room ? acked - room : 0;
}

void tcp_cc_reno_avoid(struct tcp_cc *c, uint32_t acked)
{
        /* RFC 3465 2.1 (RFC 5681 3.1's byte counting): one MSS each time a
         * cwnd's worth of bytes has been acknowledged. */
        c->acked_ca += acked;
        while (c->acked_ca >= c->cwnd && c->cwnd < CWND_LIMIT) {
                c->acked_ca -= c->cwnd;
                c->cwnd += c->mss;
        }
}

uint32_t tcp_prr_ack(struct tcp_prr *p, uint32_t ssthresh, uint32_t pipe, uint32_t delivered,
                     bool safe_ack, uint32_t mss)
{
        uint64_t sndcnt;

        p->delivered += delivered;
        if (pipe > ssthresh) {
                /* RFC 6937 3, proportional: CEIL(prr_delivered * ssthresh
                 * / RecoverFS) - prr_out, the ceiling taken in whole
                 * segments as Linux counts them (a segment goes when any
                 * part of one is due). */
                uint64_t due =
                    ((uint64_t)p->delivered * ssthresh + p->recover_fs - 1) / p->recover_fs;

                due = (due + mss - 1) / mss * mss;
                sndcnt = due > p->out ? due - p->out : 0;
        } else {
                /* PRR-CRB, and PRR-SSRB (one MSS more) on an ACK that
                 * advanced SND.UNA without new loss (RFC 9937 SafeACK);
                 * never past ssthresh. */
                sndcnt = p->delivered > p->out ? p->delivered - p->out : 0;
                if (sndcnt < delivered)
                        sndcnt = delivered;
                if (safe_ack)
                        sndcnt += mss;
                if (sndcnt > ssthresh - pipe)
                        sndcnt = ssthresh - pipe;
        }
        /* RFC 9937: the fast retransmit goes whatever the sums say. */
        if (p->out == 0 && sndcnt == 0)
                sndcnt = mss;
        return pipe + (uint32_t)sndcnt;
}

void tcp_undo_start(struct tcp_undo *u, const struct tcp_cc *c, uint32_t una, uint32_t nxt)
{
        if (u->on && (int32_t)(una - u->high) < 0) {
                u->high = nxt; /* the same episode, grown (an RTO in recovery) */
                return;
        }
        *u = (struct tcp_undo){
            .on = true, .una = una, .high = nxt, .cwnd = c->cwnd, .ssthresh = c->ssthresh};
}

void tcp_undo_dsack(struct tcp_undo *u, uint32_t l, uint32_t r)
{
        uint32_t n = r - l;

        /* RFC 3708 3.2: a D-SACK of a retransmission of this episode
         * (its sequence space, [una, high)); anything else is not ours. */
        if (!u->on || (int32_t)(r - l) <= 0 || (int32_t)(l - u->una) < 0 ||
            (int32_t)(r - u->high) > 0)
                return;
        u->rtx = u->rtx > n ? u->rtx - n : 0;
}

bool tcp_undo_try(struct tcp_undo *u, struct tcp_cc *c)
{
        if (!u->on || u->rtx != 0 || u->rtx_all == 0)
                return false;
        /* RFC 4015 3.2 (as Linux's tcp_undo_cwnd_reduction): the window
         * and threshold from before the episode, never less than now. */
        if (c->cwnd < u->cwnd)
                c->cwnd = u->cwnd;
        if (c->ssthresh < u->ssthresh)
                c->ssthresh = u->ssthresh;
        c->acked_ca = 0;
        u->on = false;
        return true;
}

static void reno_init(struct tcp_cc *c, uint32_t mss, uint64_t now_us)
{
        tcp_cc_reno_init(c, mss);
}

static void reno_on_ack(struct tcp_cc *c, uint32_t acked, uint32_t rtt_us, uint64_t now_us)
{
        if (tcp_cc_in_slow_start(c)) {
                acked = tcp_cc_slow_start(c, acked);
                if (acked == 0)
                        return;
        }
        tcp_cc_reno_avoid(c, acked);
}

static void reno_on_loss(struct tcp_cc *c, enum tcp_cc_loss kind, uint32_t flight, uint64_t now_us)
{
        /* RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 SMSS). */
        c->ssthresh = flight / 2 > 2 * c->mss ? flight / 2 : 2 * c->mss;
        /* A timeout restarts from the loss window, 1 SMSS (RFC 5681 3.1);
         * fast recovery runs with cwnd = ssthresh, the state machine's
         * recovery (RFC 6675 5 step 4.2, or RFC 6582's inflation on top)
         * deciding what is sent. */
        c->cwnd = kind == TCP_CC_LOSS_RTO ? c->mss : c->ssthresh;
        c->acked_ca = 0;
}

static void reno_on_recovery_exit(struct tcp_cc *c, uint32_t flight, uint64_t now_us)
{
        /* RFC 6582 3.2 step 3, option 1: min(ssthresh, max(FlightSize,
         * SMSS) + SMSS), so no burst follows a full ACK. */
        uint32_t w = (flight > c->mss ? flight : c->mss) + c->mss;

        c->cwnd = w < c->ssthresh ? w : c->ssthresh;
        c->acked_ca = 0;
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "newreno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .on_loss = reno_on_loss,
    .on_recovery_exit = reno_on_recovery_exit,
};
