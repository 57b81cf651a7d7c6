/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RACK-TLP (RFC 8985): a segment is lost when one sent a reordering
 * window after it has been delivered (time, not counts of duplicate
 * ACKs), and a tail loss probe (PTO, about two round trips) goes before
 * the RTO so that a lost tail is found by the ACK the probe draws. The
 * transmit times and the SACKed bits are the send map's (l4/tcp_sack.h);
 * l4/tcp_data.c runs the timers and sends.
 *
 * The minimum RTT (6.2 step 1) is windowed, over the last 300 s as
 * Linux's (tcp_min_rtt_wlen): a path that got slower raises it, and with
 * it the reordering window, once the window has passed. Its times wrap
 * after 71 minutes: a sample older than that may be taken for a recent
 * one (the minimum stays low a while longer).
 *
 * Simplification, on the side of waiting longer: a retransmitted
 * segment's RTT sample is taken only when it is not below that minimum
 * (the timestamp test of step 1 is not made: our timestamps count
 * milliseconds, the map microseconds).
 *
 * The connection's home context; no lock.
 */
#include "l4/tcp_sack.h"
#include "l4/tcp_seq.h"

#define TCP_WCDELACKT_US 200000u /* RFC 8985 7.2: the worst-case delayed ACK */
#define TCP_PTO_EXTRA_US 2000u   /* 7.2: and when more than one segment is out */
#define TCP_REO_PERSIST  16      /* 6.2 step 4: recoveries a grown window lasts */

/* RFC 8985 6.2 RACK_sent_after(), by the order of transmission itself
 * (the RFC's transmit time with the sequence as tie-break stands for it:
 * on a coarse or virtual clock a retransmission and new data sent before
 * it share a time, and the sequence would order them the wrong way). */
static bool sent_after(uint32_t xo1, uint32_t xo2)
{
        return (int32_t)((xo1 - xo2) << 8) > 0;
}

/* Move the samples down a place: the oldest part of the window ended. */
static void minmax_shift(struct tcp_minmax *m, uint32_t t_us, uint32_t v)
{
        m->s[0] = m->s[1];
        m->s[1] = m->s[2];
        m->s[2].t_us = t_us;
        m->s[2].v = v;
}

uint32_t tcp_minmax_min(struct tcp_minmax *m, uint32_t win_us, uint32_t t_us, uint32_t v)
{
        uint32_t age;

        /* A new minimum, or every sample out of the window: start again
         * with this one alone (v 0 is the empty state). */
        if (m->s[0].v == 0 || v <= m->s[0].v || t_us - m->s[2].t_us > win_us) {
                for (int i = 0; i < 3; i++) {
                        m->s[i].t_us = t_us;
                        m->s[i].v = v;
                }
                return v;
        }
        if (v <= m->s[1].v) {
                m->s[1].t_us = m->s[2].t_us = t_us;
                m->s[1].v = m->s[2].v = v;
        } else if (v <= m->s[2].v) {
                m->s[2].t_us = t_us;
                m->s[2].v = v;
        }
        age = t_us - m->s[0].t_us;
        if (age > win_us) {
                /* The best aged out: the next best takes its place (twice
                 * if that one is out of the window as well). */
                minmax_shift(m, t_us, v);
                if (t_us - m->s[0].t_us > win_us)
                        minmax_shift(m, t_us, v);
        } else if (m->s[1].t_us == m->s[0].t_us && age > win_us / 4) {
                /* A quarter of the window with one sample: a second one
                 * for the rest of it. */
                m->s[1].t_us = m->s[2].t_us = t_us;
                m->s[1].v = m->s[2].v = v;
        } else if (m->s[2].t_us == m->s[1].t_us && age > win_us / 2) {
                m->s[2].t_us = t_us;
                m->s[2].v = v;
        }
        return m->s[0].v;
}

void tcp_rack_update(struct tcp_sack *k, const struct tcp_seg *s, uint32_t now_us)
{
        uint32_t rtt = now_us - s->t_us;
        bool rtx = (s->f & TCP_SEG_RTX) != 0;

        /* Step 2: delivered below the highest delivered, and never
         * retransmitted: the network reordered it. */
        if (seq_gt(s->end, k->fack))
                k->fack = s->end;
        else if (seq_lt(s->end, k->fack) && !rtx)
                k->reo_seen = true;
        /* Step 1: a retransmitted segment's ACK may be the original's. */
        if (rtx && k->min_rtt_us != 0 && rtt < k->min_rtt_us)
                return;
        k->rack_rtt_us = rtt;
        if (!rtx)
                k->min_rtt_us =
                    tcp_minmax_min(&k->min_rtt, k->min_rtt_win_us, now_us, rtt == 0 ? 1 : rtt);
        if (!k->rack_on || sent_after(s->xo, k->rack_xo)) {
                k->rack_xmit_us = s->t_us;
                k->rack_xo = s->xo;
                k->rack_on = true;
        }
}

/* Step 4: RACK.reo_wnd. */
static uint32_t reo_wnd(const struct tcp_sack *k, uint32_t srtt_us)
{
        uint64_t w;

        if (!k->reo_seen && (k->recovery || k->n_sacked >= TCP_DUPTHRESH))
                return 0;
        w = (uint64_t)k->min_rtt_us * k->reo_wnd_mult / 4;
        return srtt_us != 0 && w > srtt_us ? srtt_us : (uint32_t)w;
}

uint32_t tcp_rack_detect(struct tcp_sack *k, uint32_t srtt_us, uint32_t now_us, unsigned *lost)
{
        uint32_t timeout = 0, reo;

        /* Nothing SACKed and no retransmission out: whatever was sent
         * before the latest delivered segment is acknowledged (the
         * common case, without a walk of the map). */
        if (!k->rack_on || (k->n_sacked == 0 && seq_geq(k->una, k->rtx_end)))
                return 0;
        reo = reo_wnd(k, srtt_us);
        /* Step 5. A segment already judged lost and not yet sent again
         * has no transmit time to judge (INFINITE_TS). */
        for (uint32_t i = 0; i < k->n; i++) {
                struct tcp_seg *s = &k->seg[(k->head + i) % k->cap];
                int32_t remaining;

                if ((s->f & TCP_SEG_SACKED) ||
                    (s->f & (TCP_SEG_LOST | TCP_SEG_RTXQ)) == TCP_SEG_LOST)
                        continue;
                if (!sent_after(k->rack_xo, s->xo))
                        continue;
                remaining = (int32_t)(s->t_us + k->rack_rtt_us + reo - now_us);
                if (remaining <= 0) {
                        s->f = (s->f | TCP_SEG_LOST) & ~(uint32_t)TCP_SEG_RTXQ;
                        (*lost)++;
                } else if ((uint32_t)remaining > timeout) {
                        timeout = (uint32_t)remaining;
                }
        }
        return timeout;
}

void tcp_rack_dsack(struct tcp_sack *k, uint32_t snd_una, uint32_t snd_nxt)
{
        /* Step 4: one step wider per round trip that sees a D-SACK. */
        if (k->dsack_round_on && seq_geq(snd_una, k->dsack_round))
                k->dsack_round_on = false;
        if (k->dsack_round_on)
                return;
        k->dsack_round_on = true;
        k->dsack_round = snd_nxt;
        if (k->reo_wnd_mult < 255)
                k->reo_wnd_mult++;
        k->reo_wnd_persist = TCP_REO_PERSIST;
}

void tcp_rack_recovery_exit(struct tcp_sack *k)
{
        if (k->reo_wnd_persist > 0 && --k->reo_wnd_persist == 0)
                k->reo_wnd_mult = 1;
}

uint32_t tcp_rack_pto(const struct tcp_sack *k, uint32_t srtt_us, uint32_t flight, uint32_t smss,
                      uint32_t rto_left_us)
{
        uint32_t pto;

        /* 7.2: not in recovery, not while a probe is out, and only with
         * an RTT to go by. */
        if (k->mode < TCP_RECOV_RACK || k->recovery || k->tlp_on || srtt_us == 0)
                return 0;
        pto = 2 * srtt_us + (flight <= smss ? TCP_WCDELACKT_US : TCP_PTO_EXTRA_US);
        if (pto > rto_left_us)
                pto = rto_left_us;
        return pto == 0 ? 1 : pto;
}
