/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fault: a decorator that makes the frames a link receives suffer seeded
 * faults (loss, duplication, corruption, reordering, delay with jitter), like
 * Linux netem but deterministic: the same seed and the same input give the
 * same output. Transmit passes through untouched.
 *
 * Each frame pulled from the inner link draws the same six numbers from its
 * queue's PRNG (splitmix64), whatever is enabled, so turning one fault on
 * does not change which frames another fault hits. In order, a frame is:
 *   lost (freed, counted in fault lost and link rx_drops);
 *   duplicated (a pristine copy follows the original);
 *   corrupted (one bit of the original flipped, chosen uniformly);
 *   delayed by delay_ns plus 0..jitter_ns (jitter can reorder, as in netem),
 *   held in a min-heap on (due, arrival) until the clock reaches due;
 *   reordered when delivered: held back until the next frame is delivered,
 *   or at most FAULT_REORDER_HOLD_NS, so a last frame is not stuck.
 * A queue holds at most FAULT_HOLD_MAX frames for delay; more are lost.
 * Duplicates come from the pool given at create (the original's pool when
 * NULL); when it is empty the frame is simply not duplicated. A NULL clock
 * reads CLOCK_MONOTONIC.
 *
 * next_event is the earliest due time of a held frame; it is `now` while
 * frames are ready, or while the last pull from the inner link came back
 * full (one rx_burst pulls at most FAULT_PULL_MAX frames, so that 100 % loss
 * cannot spin on a busy link).
 *
 * Synchronisation: all fault state is per receive queue and touched only by
 * the thread that owns that queue's rx. Counters are single-writer stats.
 * next_event may run on any thread: it reads each queue's next_due, which the
 * owner publishes (relaxed atomic) at the end of every rx_burst.
 * Life cycle: the fault link owns the inner link; destroy frees every frame
 * it holds, then destroys the inner link.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/stat.h"
#include "mpnet/link.h"

#define FAULT_HOLD_MAX        4096u
#define FAULT_READY_SIZE      (2 * FAULT_HOLD_MAX) /* power of two */
#define FAULT_PULL_MAX        (4 * MPNET_VEC_MAX)  /* frames pulled per rx_burst */
#define FAULT_REORDER_HOLD_NS MPNET_NS_PER_MS
#define PPM                   1000000u

struct held {
        uint64_t due;
        uint64_t seq; /* arrival order: equal due times leave in it */
        struct mpnet_pkt *p;
        bool reorder;
};

struct fault_q {
        uint64_t rng;
        uint64_t seq;
        struct mpnet_pkt **ready; /* ring of frames due, in delivery order */
        uint32_t r_head, r_tail;  /* free-running, masked on use */
        struct held *heap;        /* delayed frames; NULL without delay */
        uint32_t heap_n;
        struct mpnet_pkt *reo; /* the frame held back by reordering */
        uint64_t reo_due;
        bool inner_more; /* the last pull from inner was full */
        _Atomic uint64_t next_due;
        mpnet_stat_t lost, duplicated, reordered, corrupted, delayed;
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct fault {
        struct mpnet_link link;
        struct mpnet_link *inner;
        struct mpnet_fault_cfg cfg;
        struct mpnet_clock *clock; /* NULL: CLOCK_MONOTONIC */
        struct mpnet_pool *pool;   /* NULL: the original's pool */
        bool delay;
        uint16_t n_rxq;
        struct fault_q *q; /* [n_rxq] */
};

/* The per-frame draws, fixed in number and order (see the top). */
enum { R_LOSS, R_DUP, R_CORRUPT, R_BIT, R_JITTER, R_REORDER, R_N };

static uint64_t splitmix64(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* True with probability ppm / 10^6: the top 32 bits scaled to 0..10^6-1. */
static bool chance(uint64_t r, uint32_t ppm)
{
        return (uint32_t)(((r >> 32) * PPM) >> 32) < ppm;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
        return a + b < a ? MPNET_TIME_NEVER - 1 : a + b;
}

static uint64_t fault_now(const struct fault *f)
{
        return f->clock != NULL ? mpnet_clock_now(f->clock) : mpnet_monotonic_ns();
}

static uint32_t ready_count(const struct fault_q *fq)
{
        return fq->r_head - fq->r_tail;
}

static void ready_push(struct fault_q *fq, struct mpnet_pkt *p)
{
        fq->ready[fq->r_head++ & (FAULT_READY_SIZE - 1)] = p;
}

static bool heap_less(const struct held *a, const struct held *b)
{
        return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(struct fault_q *fq, const struct held *h)
{
        uint32_t i = fq->heap_n++;

        while (i > 0) {
                uint32_t up = (i - 1) / 2;

                if (!heap_less(h, &fq->heap[up]))
                        break;
                fq->heap[i] = fq->heap[up];
                i = up;
        }
        fq->heap[i] = *h;
}

static struct held heap_pop(struct fault_q *fq)
{
        struct held top = fq->heap[0], last = fq->heap[--fq->heap_n];
        uint32_t i = 0;

        for (;;) {
                uint32_t c = 2 * i + 1;

                if (c >= fq->heap_n)
                        break;
                if (c + 1 < fq->heap_n && heap_less(&fq->heap[c + 1], &fq->heap[c]))
                        c++;
                if (!heap_less(&fq->heap[c], &last))
                        break;
                fq->heap[i] = fq->heap[c];
                i = c;
        }
        if (fq->heap_n > 0)
                fq->heap[i] = last;
        return top;
}

static void flip_bit(struct mpnet_pkt *p, uint64_t r)
{
        uint64_t bit = r % ((uint64_t)p->pkt_len * 8);
        uint32_t off = (uint32_t)(bit / 8);

        for (struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                if (off < s->len) {
                        s->data[off] ^= (uint8_t)(1u << (bit % 8));
                        return;
                }
                off -= s->len;
        }
}

static bool has_ext(const struct mpnet_pkt *p)
{
        for (; p != NULL; p = p->next)
                if (p->ol_flags & MPNET_PKT_F_EXT)
                        return true;
        return false;
}

/* Delivery: a frame marked for reordering waits in the slot for the next. */
static void deliver(struct fault_q *fq, struct mpnet_pkt *p, bool reorder, uint64_t now)
{
        if (reorder && fq->reo == NULL) {
                fq->reo = p;
                fq->reo_due = sat_add(now, FAULT_REORDER_HOLD_NS);
                mpnet_stat_add(&fq->reordered, 1);
                return;
        }
        ready_push(fq, p);
        if (fq->reo != NULL) {
                ready_push(fq, fq->reo);
                fq->reo = NULL;
        }
}

static void hold(struct fault_q *fq, struct mpnet_pkt *p, uint64_t due, bool reorder)
{
        struct held h = {.due = due, .seq = fq->seq++, .p = p, .reorder = reorder};

        if (fq->heap_n == FAULT_HOLD_MAX) {
                mpnet_pkt_free(p);
                mpnet_stat_add(&fq->lost, 1);
                return;
        }
        heap_push(fq, &h);
        mpnet_stat_add(&fq->delayed, 1);
}

/* Apply the faults to one frame just pulled from the inner link. */
static void fault_frame(struct fault *f, struct fault_q *fq, struct mpnet_pkt *p, uint64_t now)
{
        const struct mpnet_fault_cfg *cfg = &f->cfg;
        struct mpnet_pkt *dup = NULL;
        uint64_t r[R_N], due = now;
        bool reorder;

        for (unsigned i = 0; i < R_N; i++)
                r[i] = splitmix64(&fq->rng);
        if (chance(r[R_LOSS], cfg->loss_ppm)) {
                mpnet_pkt_free(p);
                mpnet_stat_add(&fq->lost, 1);
                return;
        }
        if (chance(r[R_DUP], cfg->dup_ppm)) {
                dup = mpnet_pkt_copy(f->pool != NULL ? f->pool : p->pool, p);
                if (dup != NULL)
                        mpnet_stat_add(&fq->duplicated, 1);
        }
        if (chance(r[R_CORRUPT], cfg->corrupt_ppm) && p->pkt_len > 0) {
                /* Bytes shared with their sender (a TCP send buffer's,
                 * MPNET_PKT_F_EXT) are read-only: flip a copy's. */
                if (has_ext(p)) {
                        struct mpnet_pkt *c =
                            mpnet_pkt_copy(f->pool != NULL ? f->pool : p->pool, p);

                        mpnet_pkt_free(p);
                        if (c == NULL) {
                                mpnet_pkt_free(dup);
                                mpnet_stat_add(&fq->lost, 1);
                                return;
                        }
                        p = c;
                }
                flip_bit(p, r[R_BIT]);
                /* Bits flipped on the wire: no checksum verified before. */
                p->ol_flags &= ~(MPNET_PKT_F_L3_CSUM_OK | MPNET_PKT_F_L4_CSUM_OK);
                mpnet_stat_add(&fq->corrupted, 1);
        }
        reorder = chance(r[R_REORDER], cfg->reorder_ppm);
        if (!f->delay) {
                deliver(fq, p, reorder, now);
                if (dup != NULL)
                        deliver(fq, dup, false, now);
                return;
        }
        due = sat_add(now, cfg->delay_ns);
        if (cfg->jitter_ns > 0)
                due =
                    sat_add(due, cfg->jitter_ns == UINT64_MAX ? r[R_JITTER]
                                                              : r[R_JITTER] % (cfg->jitter_ns + 1));
        hold(fq, p, due, reorder);
        if (dup != NULL)
                hold(fq, dup, due, false);
}

/* Pull from the inner link until `want` frames are ready or it runs dry. */
static void pull(struct fault *f, struct fault_q *fq, uint16_t q, uint32_t want, uint64_t now)
{
        struct mpnet_pkt *in[MPNET_VEC_MAX];
        uint32_t pulled = 0;

        fq->inner_more = false;
        while (ready_count(fq) < want && pulled < FAULT_PULL_MAX) {
                uint16_t ask = (uint16_t)(want - ready_count(fq));
                uint16_t got = mpnet_link_rx_burst(f->inner, q, in, ask);

                for (uint16_t i = 0; i < got; i++)
                        fault_frame(f, fq, in[i], now);
                pulled += got;
                fq->inner_more = got == ask;
                if (got < ask)
                        break;
        }
}

static void release_due(struct fault_q *fq, uint64_t now)
{
        while (fq->heap_n > 0 && fq->heap[0].due <= now && ready_count(fq) < FAULT_HOLD_MAX) {
                struct held h = heap_pop(fq);

                deliver(fq, h.p, h.reorder, now);
        }
        if (fq->reo != NULL && now >= fq->reo_due) {
                ready_push(fq, fq->reo);
                fq->reo = NULL;
        }
}

static void publish_next_due(struct fault_q *fq)
{
        uint64_t t = MPNET_TIME_NEVER;

        if (ready_count(fq) > 0 || fq->inner_more)
                t = 0;
        if (fq->heap_n > 0 && fq->heap[0].due < t)
                t = fq->heap[0].due;
        if (fq->reo != NULL && fq->reo_due < t)
                t = fq->reo_due;
        atomic_store_explicit(&fq->next_due, t, memory_order_relaxed);
}

static uint16_t fault_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts,
                               uint16_t n)
{
        struct fault *f = (struct fault *)l;
        struct fault_q *fq;
        uint32_t want = n < MPNET_VEC_MAX ? n : MPNET_VEC_MAX;
        uint16_t out = 0;
        uint64_t now;

        if (q >= f->n_rxq || n == 0)
                return 0;
        fq = &f->q[q];
        now = fault_now(f);
        pull(f, fq, q, want, now);
        release_due(fq, now);
        while (out < n && ready_count(fq) > 0)
                pkts[out++] = fq->ready[fq->r_tail++ & (FAULT_READY_SIZE - 1)];
        publish_next_due(fq);
        return out;
}

static uint16_t fault_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts,
                               uint16_t n)
{
        return mpnet_link_tx_burst(((struct fault *)l)->inner, q, pkts, n);
}

static uint64_t fault_next_event(struct mpnet_link *l, uint64_t now)
{
        struct fault *f = (struct fault *)l;
        uint64_t t = mpnet_link_next_event(f->inner, now);

        for (unsigned q = 0; q < f->n_rxq; q++) {
                uint64_t d = atomic_load_explicit(&f->q[q].next_due, memory_order_relaxed);

                if (d < t)
                        t = d;
        }
        return t < now ? now : t;
}

static uint64_t sum_stat(const struct fault *f, size_t off)
{
        uint64_t v = 0;

        for (unsigned q = 0; q < f->n_rxq; q++)
                v += mpnet_stat_read((const mpnet_stat_t *)((const char *)&f->q[q] + off));
        return v;
}

static void fault_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct fault *f = (struct fault *)l;

        mpnet_link_get_stats(f->inner, st);
        st->rx_drops += sum_stat(f, offsetof(struct fault_q, lost));
}

static void fault_free(struct fault *f)
{
        for (unsigned q = 0; f->q != NULL && q < f->n_rxq; q++) {
                struct fault_q *fq = &f->q[q];

                while (fq->ready != NULL && ready_count(fq) > 0)
                        mpnet_pkt_free(fq->ready[fq->r_tail++ & (FAULT_READY_SIZE - 1)]);
                for (uint32_t i = 0; i < fq->heap_n; i++)
                        mpnet_pkt_free(fq->heap[i].p);
                mpnet_pkt_free(fq->reo);
                free(fq->ready);
                free(fq->heap);
        }
        free(f->q);
        free(f);
}

static void fault_destroy(struct mpnet_link *l)
{
        struct mpnet_link *inner = ((struct fault *)l)->inner;

        fault_free((struct fault *)l);
        mpnet_link_destroy(inner);
}

/* Reviving is the inner link's. */
static int fault_revive(struct mpnet_link *l)
{
        return mpnet_link_revive(((struct fault *)l)->inner);
}

/* The inner link's carrier is ours. */
static bool fault_carrier(struct mpnet_link *l)
{
        return mpnet_link_carrier(((struct fault *)l)->inner);
}

/* The inner link's steering is ours. */
static int fault_rss(struct mpnet_link *l, struct mpnet_link_rss *out)
{
        return mpnet_link_rss(((struct fault *)l)->inner, out);
}

static const struct mpnet_link_ops fault_ops = {
    .rx_burst = fault_rx_burst,
    .tx_burst = fault_tx_burst,
    .next_event = fault_next_event,
    .get_stats = fault_get_stats,
    .destroy = fault_destroy,
    .carrier = fault_carrier,
    .rss = fault_rss,
    .revive = fault_revive,
};

struct mpnet_link *mpnet_fault_create(struct mpnet_link *inner, const struct mpnet_fault_cfg *cfg,
                                      struct mpnet_clock *clock, struct mpnet_pool *pool)
{
        static const struct mpnet_fault_cfg none = {0};
        struct fault *f;

        if (cfg == NULL)
                cfg = &none;
        if (inner == NULL || cfg->loss_ppm > PPM || cfg->dup_ppm > PPM || cfg->reorder_ppm > PPM ||
            cfg->corrupt_ppm > PPM) {
                errno = EINVAL;
                return NULL;
        }
        f = calloc(1, sizeof(*f));
        if (f == NULL)
                return NULL;
        f->inner = inner;
        f->cfg = *cfg;
        f->clock = clock;
        f->pool = pool;
        f->delay = cfg->delay_ns > 0 || cfg->jitter_ns > 0;
        f->n_rxq = inner->info.n_rxq ? inner->info.n_rxq : 1;
        f->q = aligned_alloc(MPNET_CACHE_LINE, f->n_rxq * sizeof(*f->q));
        if (f->q == NULL)
                goto nomem;
        memset(f->q, 0, f->n_rxq * sizeof(*f->q));
        for (unsigned q = 0; q < f->n_rxq; q++) {
                struct fault_q *fq = &f->q[q];

                /* Distinct, reproducible streams per queue. */
                fq->rng = cfg->seed + q * 0xd1b54a32d192ed03ull;
                atomic_init(&fq->next_due, MPNET_TIME_NEVER);
                fq->ready = calloc(FAULT_READY_SIZE, sizeof(*fq->ready));
                if (fq->ready == NULL)
                        goto nomem;
                if (f->delay) {
                        fq->heap = calloc(FAULT_HOLD_MAX, sizeof(*fq->heap));
                        if (fq->heap == NULL)
                                goto nomem;
                }
        }
        f->link.ops = &fault_ops;
        f->link.info = inner->info;
        snprintf(f->link.info.kind, sizeof(f->link.info.kind), "fault");
        memcpy(f->link.name, inner->name, sizeof(f->link.name));
        return &f->link;
nomem:
        fault_free(f);
        errno = ENOMEM;
        return NULL;
}

int mpnet_fault_get_stats(struct mpnet_link *l, struct mpnet_fault_stats *st)
{
        const struct fault *f = (const struct fault *)l;

        if (l == NULL || st == NULL || l->ops != &fault_ops)
                return -EINVAL;
        st->lost = sum_stat(f, offsetof(struct fault_q, lost));
        st->duplicated = sum_stat(f, offsetof(struct fault_q, duplicated));
        st->reordered = sum_stat(f, offsetof(struct fault_q, reordered));
        st->corrupted = sum_stat(f, offsetof(struct fault_q, corrupted));
        st->delayed = sum_stat(f, offsetof(struct fault_q, delayed));
        return 0;
}
