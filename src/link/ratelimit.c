/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit: token buckets on a link's transmit side (RFC 2697's single rate
 * bucket, one per limit, without its colours).
 *
 * Credit is kept in integer units so nothing rounds: the frame bucket gains
 * pps units per ns and a frame costs 10^9; the bit bucket gains bps units per
 * ns and a byte costs 8 * 10^9. A frame passes when both buckets hold its
 * cost; then both pay. With shape the first frame that does not pass ends the
 * burst (the caller keeps it and those after it, in order); without, it is
 * freed and the next frame is tried, as a policer drops.
 *
 * Synchronisation: bucket state is per transmit queue and touched only by the
 * queue's thread. Counters are single-writer stats.
 * Life cycle: the ratelimit link owns the inner link and destroys it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/stat.h"
#include "mpnet/ratelimit.h"

#define NS_PER_S      1000000000ull
#define DEFAULT_BYTES 1518u

struct rl_q {
        uint64_t last;       /* time of the last refill */
        uint64_t pkt_credit; /* frame bucket */
        uint64_t bit_credit; /* bit bucket */
        bool started;
        mpnet_stat_t passed, dropped, refused;
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct ratelimit {
        struct mpnet_link link;
        struct mpnet_link *inner;
        struct mpnet_ratelimit_cfg cfg;
        struct mpnet_clock *clock;
        uint64_t pkt_cap, bit_cap; /* bucket depths in credit units */
        uint16_t n_txq;
        struct rl_q *q;
};

static uint64_t refill(uint64_t credit, uint64_t cap, uint64_t rate, uint64_t dt)
{
        /* dt beyond what fills the bucket adds nothing: bound it before the
         * multiplication so it cannot overflow. */
        if (rate == 0)
                return credit;
        if (dt > cap / rate + 1)
                dt = cap / rate + 1;
        credit += dt * rate;
        return credit > cap ? cap : credit;
}

static void rl_refill(struct ratelimit *r, struct rl_q *q, uint64_t now)
{
        uint64_t dt;

        if (!q->started) {
                q->started = true;
                q->last = now;
                q->pkt_credit = r->pkt_cap;
                q->bit_credit = r->bit_cap;
                return;
        }
        dt = now > q->last ? now - q->last : 0;
        q->last = now > q->last ? now : q->last;
        q->pkt_credit = refill(q->pkt_credit, r->pkt_cap, r->cfg.pps, dt);
        q->bit_credit = refill(q->bit_credit, r->bit_cap, r->cfg.bps, dt);
}

/* @return true when the frame conforms, having paid for it. */
static bool rl_take(struct ratelimit *r, struct rl_q *q, const struct mpnet_pkt *p)
{
        uint64_t bits = (uint64_t)p->pkt_len * 8 * NS_PER_S;

        if (r->cfg.pps != 0 && q->pkt_credit < NS_PER_S)
                return false;
        if (r->cfg.bps != 0 && q->bit_credit < bits)
                return false;
        if (r->cfg.pps != 0)
                q->pkt_credit -= NS_PER_S;
        if (r->cfg.bps != 0)
                q->bit_credit -= bits;
        return true;
}

static void refund(struct ratelimit *r, struct rl_q *q, struct mpnet_pkt *const *p, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                if (r->cfg.pps != 0)
                        q->pkt_credit += NS_PER_S;
                if (r->cfg.bps != 0)
                        q->bit_credit += (uint64_t)p[i]->pkt_len * 8 * NS_PER_S;
        }
}

/* Shaper: the conforming prefix goes to the inner link; the caller keeps the
 * rest in order. Frames the inner link refused get their credit back. */
static uint16_t shape_burst(struct ratelimit *r, struct rl_q *q, uint16_t qi,
                            struct mpnet_pkt **pkts, uint16_t n)
{
        uint16_t ok = 0, sent;

        while (ok < n && rl_take(r, q, pkts[ok]))
                ok++;
        sent = ok > 0 ? mpnet_link_tx_burst(r->inner, qi, pkts, ok) : 0;
        refund(r, q, pkts + sent, ok - sent);
        mpnet_stat_add(&q->passed, sent);
        mpnet_stat_add(&q->refused, n - ok);
        return sent;
}

/* Policer: frames over the limit are freed; the conforming ones go to the
 * inner link. Those it refuses stay with the caller: they are moved to the
 * tail of pkts, after the k frames reported taken (sent or dropped). */
static uint16_t police_burst(struct ratelimit *r, struct rl_q *q, uint16_t qi,
                             struct mpnet_pkt **pkts, uint16_t n)
{
        struct mpnet_pkt *ok[MPNET_VEC_MAX];
        uint16_t n_ok = 0, sent, keep;

        for (uint16_t i = 0; i < n; i++) {
                if (rl_take(r, q, pkts[i]))
                        ok[n_ok++] = pkts[i];
                else
                        mpnet_pkt_free(pkts[i]);
        }
        sent = n_ok > 0 ? mpnet_link_tx_burst(r->inner, qi, ok, n_ok) : 0;
        keep = (uint16_t)(n_ok - sent);
        refund(r, q, ok + sent, keep);
        memcpy(&pkts[n - keep], &ok[sent], keep * sizeof(*ok));
        mpnet_stat_add(&q->passed, sent);
        mpnet_stat_add(&q->dropped, (uint64_t)(n - n_ok));
        return (uint16_t)(n - keep);
}

static uint16_t rl_tx_burst(struct mpnet_link *l, uint16_t qi, struct mpnet_pkt **pkts, uint16_t n)
{
        struct ratelimit *r = (struct ratelimit *)l;
        struct rl_q *q;

        if (qi >= r->n_txq || n == 0)
                return 0;
        q = &r->q[qi];
        if (n > MPNET_VEC_MAX)
                n = MPNET_VEC_MAX; /* the caller keeps the rest */
        rl_refill(r, q, r->clock != NULL ? mpnet_clock_now(r->clock) : mpnet_monotonic_ns());
        return r->cfg.shape ? shape_burst(r, q, qi, pkts, n) : police_burst(r, q, qi, pkts, n);
}

static uint16_t rl_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        return mpnet_link_rx_burst(((struct ratelimit *)l)->inner, q, pkts, n);
}

static uint64_t rl_next_event(struct mpnet_link *l, uint64_t now)
{
        return mpnet_link_next_event(((struct ratelimit *)l)->inner, now);
}

static uint64_t sum_stat(const struct ratelimit *r, size_t off)
{
        uint64_t v = 0;

        for (unsigned i = 0; i < r->n_txq; i++)
                v += mpnet_stat_read((const mpnet_stat_t *)((const char *)&r->q[i] + off));
        return v;
}

static void rl_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct ratelimit *r = (struct ratelimit *)l;

        mpnet_link_get_stats(r->inner, st);
        st->tx_drops += sum_stat(r, offsetof(struct rl_q, dropped));
}

static void rl_destroy(struct mpnet_link *l)
{
        struct ratelimit *r = (struct ratelimit *)l;

        mpnet_link_destroy(r->inner);
        free(r->q);
        free(r);
}

/* Reviving is the inner link's. */
static int rl_revive(struct mpnet_link *l)
{
        return mpnet_link_revive(((struct ratelimit *)l)->inner);
}

/* The inner link's carrier is ours. */
static bool rl_carrier(struct mpnet_link *l)
{
        return mpnet_link_carrier(((struct ratelimit *)l)->inner);
}

/* The inner link's steering is ours. */
static int rl_rss(struct mpnet_link *l, struct mpnet_link_rss *out)
{
        return mpnet_link_rss(((struct ratelimit *)l)->inner, out);
}

static const struct mpnet_link_ops rl_ops = {
    .rx_burst = rl_rx_burst,
    .tx_burst = rl_tx_burst,
    .next_event = rl_next_event,
    .get_stats = rl_get_stats,
    .destroy = rl_destroy,
    .carrier = rl_carrier,
    .rss = rl_rss,
    .revive = rl_revive,
};

struct mpnet_link *mpnet_ratelimit_create(struct mpnet_link *inner,
                                          const struct mpnet_ratelimit_cfg *cfg,
                                          struct mpnet_clock *clock)
{
        struct ratelimit *r;
        uint64_t bp, bb;

        if (inner == NULL || cfg == NULL || (cfg->pps == 0 && cfg->bps == 0)) {
                errno = EINVAL;
                return NULL;
        }
        bp = cfg->burst_pkts ? cfg->burst_pkts : 1;
        bb = cfg->burst_bytes ? cfg->burst_bytes : DEFAULT_BYTES;
        /* Depths in credit units must fit in 64 bits with a refill on top. */
        if (bp > UINT64_MAX / 2 / NS_PER_S || bb > UINT64_MAX / 2 / (8 * NS_PER_S)) {
                errno = EINVAL;
                return NULL;
        }
        r = calloc(1, sizeof(*r));
        if (r == NULL)
                return NULL;
        r->n_txq = inner->info.n_txq ? inner->info.n_txq : 1;
        r->q = aligned_alloc(MPNET_CACHE_LINE, r->n_txq * sizeof(*r->q));
        if (r->q == NULL) {
                free(r);
                errno = ENOMEM;
                return NULL;
        }
        memset(r->q, 0, r->n_txq * sizeof(*r->q));
        r->inner = inner;
        r->cfg = *cfg;
        r->clock = clock;
        r->pkt_cap = bp * NS_PER_S;
        r->bit_cap = bb * 8 * NS_PER_S;
        r->link.ops = &rl_ops;
        r->link.info = inner->info;
        snprintf(r->link.info.kind, sizeof(r->link.info.kind), "ratelimit");
        memcpy(r->link.name, inner->name, sizeof(r->link.name));
        return &r->link;
}

int mpnet_ratelimit_get_stats(struct mpnet_link *l, struct mpnet_ratelimit_stats *st)
{
        const struct ratelimit *r = (const struct ratelimit *)l;

        if (l == NULL || st == NULL || l->ops != &rl_ops)
                return -EINVAL;
        st->passed = sum_stat(r, offsetof(struct rl_q, passed));
        st->dropped = sum_stat(r, offsetof(struct rl_q, dropped));
        st->refused = sum_stat(r, offsetof(struct rl_q, refused));
        return 0;
}
