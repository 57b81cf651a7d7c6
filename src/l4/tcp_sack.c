/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sender's scoreboard of the peer's SACK blocks (RFC 2018) and
 * SACK-based loss recovery (RFC 6675): the send map (l4/tcp_sack.h), the
 * blocks taken into it, IsLost, SetPipe, NextSeg with its rescue
 * retransmission, and what an RTO does to it. l4/tcp_data.c sends what
 * NextSeg picks; l4/tcp_rack.c adds RFC 8985's time-based judgement.
 *
 * The connection's home context; no lock.
 */
#include <stdlib.h>
#include <string.h>

#include "mpnet/wire/tcp.h"
#include "l4/tcp_sack.h"
#include "l4/tcp_seq.h"

#define TCP_SACK_CAP0 16 /* records allocated at first */

static struct tcp_seg *rec(const struct tcp_sack *k, uint32_t i)
{
        return &k->seg[(k->head + i) % k->cap];
}

/* Where record i starts. */
static uint32_t rec_start(const struct tcp_sack *k, uint32_t i)
{
        return i == 0 ? k->una : rec(k, i - 1)->end;
}

struct tcp_sack *tcp_sack_new(uint8_t mode, uint32_t sndbuf)
{
        struct tcp_sack *k = calloc(1, sizeof(*k));

        if (k != NULL)
                tcp_sack_init(k, mode, sndbuf);
        return k;
}

void tcp_sack_init(struct tcp_sack *k, uint8_t mode, uint32_t sndbuf)
{
        k->mode = mode;
        k->max = sndbuf / TCP_SACK_MIN_SEG + TCP_SACK_CAP0;
        k->reo_wnd_mult = 1;
        k->min_rtt_win_us = TCP_MIN_RTT_WIN_US;
}

void tcp_sack_free(struct tcp_sack *k)
{
        if (k != NULL)
                free(k->seg);
        free(k);
}

/* Room for one more record. @return false: none (at the bound, or no
 * memory). */
static bool grow(struct tcp_sack *k)
{
        uint32_t cap = k->cap == 0 ? TCP_SACK_CAP0 : k->cap * 2;
        struct tcp_seg *s;

        if (k->n < k->cap)
                return true;
        if (cap > k->max)
                cap = k->max;
        if (cap <= k->cap)
                return false;
        s = malloc(cap * sizeof(*s));
        if (s == NULL)
                return false;
        for (uint32_t i = 0; i < k->n; i++)
                s[i] = *rec(k, i);
        free(k->seg);
        k->seg = s;
        k->cap = cap;
        k->head = 0;
        return true;
}

void tcp_sack_sent(struct tcp_sack *k, uint32_t seq, uint32_t end, bool fin, uint32_t now_us)
{
        struct tcp_seg *s;

        if (seq == end)
                return;
        k->xo = (k->xo + 1) & 0xffffff;
        if (k->n == 0 || seq_geq(seq, rec(k, k->n - 1)->end)) {
                if (k->n == 0) {
                        k->una = seq;
                        k->rtx_end = seq;
                        if (!k->rack_on)
                                k->fack = seq;
                }
                if (!grow(k)) {
                        /* At the bound: the last record takes it in (its
                         * time is the newer, which only delays RACK). */
                        s = rec(k, k->n - 1);
                        s->end = end;
                        s->t_us = now_us;
                        s->xo = k->xo;
                        s->f = (s->f & ~(uint32_t)TCP_SEG_LOST) | (fin ? TCP_SEG_FIN : 0);
                        return;
                }
                s = rec(k, k->n++);
                s->end = end;
                s->t_us = now_us;
                s->xo = k->xo;
                s->f = fin ? TCP_SEG_FIN : 0;
                return;
        }
        /* A retransmission: the records it covers (in part or whole). */
        for (uint32_t i = 0; i < k->n; i++) {
                s = rec(k, i);
                if (seq_leq(s->end, seq))
                        continue;
                if (seq_geq(rec_start(k, i), end))
                        break;
                s->t_us = now_us;
                s->xo = k->xo;
                s->f |= TCP_SEG_RTX | TCP_SEG_RTXQ;
                if (seq_gt(s->end, k->rtx_end))
                        k->rtx_end = s->end;
        }
}

/* The first record's bytes leave the map. */
static void pop(struct tcp_sack *k, uint32_t now_us)
{
        struct tcp_seg *s = rec(k, 0);

        if (s->f & TCP_SEG_SACKED) {
                k->sacked -= s->end - k->una;
                k->n_sacked--;
        } else if (k->mode >= TCP_RECOV_RACK)
                tcp_rack_update(k, s, now_us);
        k->una = s->end;
        k->head = (k->head + 1) % k->cap;
        k->n--;
}

/* Mark the records [left, right) covers whole. */
static void take_block(struct tcp_sack *k, uint32_t left, uint32_t right, uint32_t now_us,
                       struct tcp_sack_ev *ev)
{
        for (uint32_t i = 0; i < k->n; i++) {
                struct tcp_seg *s = rec(k, i);
                uint32_t st = rec_start(k, i);

                if (seq_leq(s->end, left))
                        continue;
                if (seq_geq(st, right))
                        break;
                if ((s->f & TCP_SEG_SACKED) || seq_lt(st, left) || seq_gt(s->end, right))
                        continue;
                s->f |= TCP_SEG_SACKED;
                k->sacked += s->end - st;
                k->n_sacked++;
                ev->newly_sacked += s->end - st;
                if (k->mode >= TCP_RECOV_RACK)
                        tcp_rack_update(k, s, now_us);
        }
}

/* RFC 6675 4 IsLost(): a segment with DupThresh SACKed segments, or more
 * than (DupThresh - 1) * SMSS bytes SACKed, above it. */
static void is_lost(struct tcp_sack *k, uint32_t smss, struct tcp_sack_ev *ev)
{
        uint32_t segs = 0, bytes = 0;

        if (k->sacked == 0)
                return;
        for (uint32_t i = k->n; i-- > 0;) {
                struct tcp_seg *s = rec(k, i);

                if (s->f & TCP_SEG_SACKED) {
                        segs++;
                        bytes += s->end - rec_start(k, i);
                } else if (!(s->f & TCP_SEG_LOST) &&
                           (segs >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * smss)) {
                        s->f |= TCP_SEG_LOST;
                        ev->lost++;
                }
        }
}

/* RFC 8985 7.4: the probe's answer. */
static void tlp_ack(struct tcp_sack *k, uint32_t ack, bool moved, bool has_sack, uint32_t dsack_end,
                    struct tcp_sack_ev *ev)
{
        if (!k->tlp_on || seq_lt(ack, k->tlp_end))
                return;
        if (!k->tlp_rtx) {
                k->tlp_on = false; /* new data: RACK judges what it shows */
        } else if (ev->dsack && dsack_end == k->tlp_end) {
                k->tlp_on = false; /* the probe was a copy: nothing lost */
        } else if (seq_gt(ack, k->tlp_end)) {
                k->tlp_on = false;
                ev->tlp_loss = true; /* 7.4.2: the probe repaired a loss */
        } else if (!moved && !has_sack) {
                k->tlp_on = false; /* a plain duplicate: both arrived */
        }
}

void tcp_sack_ack(struct tcp_sack *k, uint32_t ack, const struct mpnet_tcp_opts *o,
                  uint32_t snd_nxt, uint32_t smss, uint32_t srtt_us, uint32_t now_us,
                  struct tcp_sack_ev *ev)
{
        bool moved = false, has_sack = o != NULL && (o->present & MPNET_TCPO_SACK) && o->sack_n > 0;
        uint32_t dsack_end = 0;

        memset(ev, 0, sizeof(*ev));
        if (seq_gt(ack, snd_nxt))
                return;
        while (k->n > 0 && seq_leq(rec(k, 0)->end, ack)) {
                pop(k, now_us);
                moved = true;
        }
        if (k->n == 0) {
                /* Nothing in flight: the map goes until the next send. */
                free(k->seg);
                k->seg = NULL;
                k->cap = k->head = 0;
                k->sacked = k->n_sacked = 0;
        }
        if (seq_gt(ack, k->una)) {
                k->una = ack;
                moved = true;
        }
        for (unsigned i = 0; has_sack && i < o->sack_n && i < MPNET_TCP_SACK_MAX; i++) {
                uint32_t l = o->sack[i].left, r = o->sack[i].right;

                /* RFC 2883 4: a first block below the ACK, or inside the
                 * second, reports a duplicate (a D-SACK). */
                if (i == 0 && (seq_leq(r, ack) || (o->sack_n > 1 && seq_geq(l, o->sack[1].left) &&
                                                   seq_leq(r, o->sack[1].right)))) {
                        ev->dsack = true;
                        ev->dsack_l = l;
                        ev->dsack_r = dsack_end = r;
                        continue;
                }
                if (!seq_lt(l, r) || seq_gt(r, snd_nxt) || seq_lt(l, ack))
                        continue; /* not a block of what is in flight */
                take_block(k, l, r, now_us, ev);
        }
        if (k->mode < TCP_RECOV_RACK)
                ev->dsack = false;
        tlp_ack(k, ack, moved, has_sack, dsack_end, ev);
        if (ev->dsack)
                tcp_rack_dsack(k, ack, snd_nxt);
        is_lost(k, smss, ev);
        if (k->mode >= TCP_RECOV_RACK)
                ev->reo_us = tcp_rack_detect(k, srtt_us, now_us, &ev->rack_lost);
}

uint32_t tcp_sack_pipe(const struct tcp_sack *k)
{
        uint32_t pipe = 0;

        /* RFC 6675 4 SetPipe(): each octet not SACKed counts once unless
         * lost, once more when retransmitted (the retransmission still in
         * flight). */
        for (uint32_t i = 0; i < k->n; i++) {
                const struct tcp_seg *s = rec(k, i);
                uint32_t len = s->end - rec_start(k, i);

                if (s->f & TCP_SEG_SACKED)
                        continue;
                if (!(s->f & TCP_SEG_LOST))
                        pipe += len;
                if (s->f & TCP_SEG_RTXQ)
                        pipe += len;
        }
        return pipe;
}

static bool to_send(uint32_t f)
{
        return (f & (TCP_SEG_SACKED | TCP_SEG_LOST | TCP_SEG_RTXQ)) == TCP_SEG_LOST;
}

bool tcp_sack_lost(const struct tcp_sack *k)
{
        for (uint32_t i = 0; i < k->n; i++)
                if (to_send(rec(k, i)->f))
                        return true;
        return false;
}

/* Record i as a retransmission of at most smss bytes. */
static bool pick(struct tcp_sack *k, uint32_t i, uint32_t smss, uint32_t *seq, uint32_t *end,
                 bool *fin)
{
        const struct tcp_seg *s = rec(k, i);

        *seq = rec_start(k, i);
        *end = s->end;
        *fin = (s->f & TCP_SEG_FIN) != 0;
        if (*end - *seq > smss + *fin) {
                /* A record merged at the bound: its first SMSS now, the
                 * rest by RACK or the RTO. */
                *end = *seq + smss;
                *fin = false;
        }
        return true;
}

bool tcp_sack_next(struct tcp_sack *k, int rule, uint32_t snd_nxt, uint32_t smss, uint32_t *seq,
                   uint32_t *end, bool *fin)
{
        uint32_t high_sacked = k->una;

        (void)snd_nxt;
        for (uint32_t i = k->n; i-- > 0;)
                if (rec(k, i)->f & TCP_SEG_SACKED) {
                        high_sacked = rec(k, i)->end;
                        break;
                }
        switch (rule) {
        case 1:
                /* Rule 1: the first segment judged lost, not yet
                 * retransmitted (RACK may judge a retransmission lost
                 * again: then it goes again, below HighRxt). */
                for (uint32_t i = 0; i < k->n; i++)
                        if (to_send(rec(k, i)->f)) {
                                pick(k, i, smss, seq, end, fin);
                                if (seq_gt(*end, k->high_rxt))
                                        k->high_rxt = *end;
                                return true;
                        }
                return false;
        case 3:
                /* Rule 3: not SACKed, above HighRxt and below the highest
                 * SACKed octet, though not (yet) judged lost. */
                for (uint32_t i = 0; i < k->n; i++) {
                        const struct tcp_seg *s = rec(k, i);
                        uint32_t st = rec_start(k, i);

                        if (seq_geq(st, high_sacked))
                                break;
                        if ((s->f & (TCP_SEG_SACKED | TCP_SEG_RTXQ)) || seq_lt(st, k->high_rxt))
                                continue;
                        pick(k, i, smss, seq, end, fin);
                        k->high_rxt = *end;
                        return true;
                }
                return false;
        case 4:
                /* Rule 4, the rescue retransmission: once per recovery
                 * (while HighACK <= RescueRxt), the highest segment not
                 * SACKed; HighRxt stays. */
                if (k->rescue_on && seq_leq(k->una, k->rescue_rxt))
                        return false;
                /* fall through */
        default:
                for (uint32_t i = k->n; i-- > 0;) {
                        const struct tcp_seg *s = rec(k, i);

                        if (s->f & TCP_SEG_SACKED)
                                continue;
                        /* The rescue is for what was out when recovery
                         * began, not for what it sent since. */
                        if (rule == 4 && seq_gt(s->end, k->recovery_point))
                                continue;
                        if (rule == 4 && (s->f & TCP_SEG_RTXQ))
                                return false;
                        pick(k, i, smss, seq, end, fin);
                        if (rule == 4) {
                                k->rescue_on = true;
                                k->rescue_rxt = k->recovery_point;
                        }
                        return true;
                }
                return false;
        }
}

bool tcp_sack_enter(struct tcp_sack *k, uint32_t snd_una, uint32_t snd_nxt, uint32_t smss,
                    uint32_t *seq, uint32_t *end, bool *fin)
{
        /* RFC 6675 5 step 4. */
        k->recovery = true;
        k->recovery_point = snd_nxt;
        k->high_rxt = snd_una;
        k->rescue_on = false;
        k->tlp_on = false;
        /* HighRxt starts again at HighACK: any retransmission of an earlier
         * recovery still unacknowledged is judged afresh. */
        for (uint32_t i = 0; i < k->n; i++)
                rec(k, i)->f &= ~(uint32_t)TCP_SEG_RTXQ;
        /* 4.3: the first segment not SACKed goes at once, whatever pipe
         * says; HighRxt and RescueRxt are its end (no rescue before a
         * cumulative ACK passes it). */
        for (uint32_t i = 0; i < k->n; i++) {
                struct tcp_seg *s = rec(k, i);

                if (s->f & TCP_SEG_SACKED)
                        continue;
                s->f |= TCP_SEG_LOST;
                pick(k, i, smss, seq, end, fin);
                k->high_rxt = *end;
                k->rescue_on = true;
                k->rescue_rxt = *end;
                return true;
        }
        return false;
}

void tcp_sack_rto(struct tcp_sack *k, uint8_t tries)
{
        k->recovery = false;
        k->tlp_on = false;
        k->timer = TCP_TMR_RTO;
        for (uint32_t i = 0; i < k->n; i++) {
                struct tcp_seg *s = rec(k, i);

                if (tries >= 2)
                        s->f &= ~(uint32_t)TCP_SEG_SACKED;
                if (!(s->f & TCP_SEG_SACKED))
                        s->f = (s->f | TCP_SEG_LOST) & ~(uint32_t)TCP_SEG_RTXQ;
        }
        if (tries >= 2)
                k->sacked = k->n_sacked = 0;
}

uint32_t tcp_sack_skip(const struct tcp_sack *k, uint32_t seq, uint32_t *len)
{
        for (uint32_t i = 0; i < k->n; i++) {
                const struct tcp_seg *s = rec(k, i);

                if (seq_leq(s->end, seq))
                        continue;
                if (s->f & TCP_SEG_SACKED) {
                        seq = s->end;
                        continue;
                }
                /* Up to the record's end, its FIN left to the caller. */
                *len = s->end - seq - ((s->f & TCP_SEG_FIN) ? 1 : 0);
                return seq;
        }
        return seq;
}
