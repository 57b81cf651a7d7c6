/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 reassembly for local delivery (RFC 8200 4.5):
 *   - a datagram is keyed by source, destination and identification and
 *     lives 60 s from its first fragment; at the timeout, if the offset-0
 *     fragment came, it gets time exceeded code 1;
 *   - any overlap drops the whole datagram and every fragment of it that
 *     still comes until its timeout (RFC 5722);
 *   - inconsistent ends (two last fragments, data past the last) drop it;
 *   - the memory held is capped for the stack (one budget for every
 *     context and both families, struct reass_budget) and per source
 *     address, the fragments per datagram and the datagrams at once are
 *     bounded; at the stack cap or the datagram bound this table's oldest
 *     datagram makes room (as IPv4's reassembly does), so a flood of
 *     fragments that never complete from many sources delays a real
 *     datagram's fragments at most by being younger than it, never locks
 *     them out for the 60 s timeout.
 * Atomic fragments never get here (RFC 6946: ip6-local takes them alone).
 *
 * The whole datagram is the first fragment, its fragment header taken out,
 * with the payloads of the others chained behind it.
 *
 * Synchronisation: a table per context (struct wctx), used only by the
 * context that owns the datagrams' flows (every fragment of a datagram is
 * handed to it, ip6_input.c), which also times them out; ip6_reass_usage
 * reads relaxed copies of the totals from any thread.
 */
#include <stddef.h>
#include <stdlib.h>

#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv6.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/stack_priv.h"

#define REASS6_TIMEOUT_NS (60 * MPNET_NS_PER_S)
#define REASS6_MAX_FRAGS  64
#define REASS6_MAX_QUEUES 256
#define REASS6_HASH       (2 * REASS6_MAX_QUEUES) /* chains of about one */
#define REASS6_TRUESIZE   ((uint64_t)sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE)
#define FRAG_HLEN         8

struct r6frag {
        struct mpnet_pkt *p;
        uint16_t off, len; /* the payload's place in the datagram */
        uint16_t hdr;      /* bytes in front of the payload in p */
};

/* A source address with datagrams held: what they hold together. */
struct r6src {
        struct r6src *hnext;
        uint8_t addr[16];
        uint64_t bytes;
        unsigned nq;
        unsigned bucket; /* its hash chain, kept: unlinking need not hash */
};

struct r6q {
        struct r6q *hnext;         /* its hash chain */
        struct r6q *older, *newer; /* the age list */
        struct r6src *sp;
        uint8_t src[16], dst[16];
        uint32_t id;
        unsigned bucket; /* its hash chain, kept: unlinking need not hash */
        uint8_t fp[2];   /* its two bits in the chain's filter (qf) */
        uint64_t expire;
        bool dead; /* dropped for an overlap: the rest follows it */
        bool have_last;
        uint32_t total;
        uint16_t first_fo, first_prev; /* fragment header and the field naming it */
        unsigned n;
        struct r6frag f[REASS6_MAX_FRAGS];
};

/* Made on the first fragment: a stack that never sees one (most) does not
 * pay for them. Sources are at most as many as datagrams. */
struct r6tab {
        struct r6q *qh[REASS6_HASH];
        /* Per datagram chain, the OR of its datagrams' two fingerprint
         * bits each (q_fmask): a fragment either of whose bits is clear
         * has no datagram held, known without reading a descriptor
         * (q_get). At the caps (half a datagram a chain) a flood's
         * fragment finds both set about one time in 1,600 (one bit: one
         * in 125; one bit of 16: one in 30), each a walk of cold
         * descriptors. IPv4's 2,048 chains share a word four at a time
         * (ip4_frag.c, dg_filter): 64 bits a chain made its filters 16 KiB
         * and the fragment flood no cheaper (measured). */
        uint64_t qf[REASS6_HASH];
        struct r6src *sh[REASS6_HASH];
        struct r6src *sfree;
        struct r6src src[REASS6_MAX_QUEUES];
};

/*
 * Every datagram lives the same timeout from its first fragment, so the age
 * list (oldest first) is also the expiry order: expiry, the next expiry and
 * eviction start at its head, and a fragment finds its datagram and its
 * source's total through hash chains (keyed: a flood cannot aim at one
 * chain), never by walking every datagram held.
 */
struct ip6_reass {
        struct mpnet_stack *s;
        struct wctx *w;
        struct r6tab *t;
        struct r6q *oldest, *newest;
        struct r6q *qfree; /* datagrams to reuse: at most REASS6_MAX_QUEUES made */
        uint64_t seed;
        struct reass_budget *budget; /* the stack's, shared with every table */
        uint64_t owed;               /* freed here, still counted in budget */
        unsigned nq;
        uint64_t bytes, max_bytes, max_per_src;
        mpnet_stat_t pub_bytes, pub_nq; /* bytes and nq for other threads */
};

struct ip6_reass *ip6_reass_create(struct wctx *w, struct reass_budget *b)
{
        struct ip6_reass *r = calloc(1, sizeof(*r));
        uint64_t max_bytes = b->max;

        if (r == NULL)
                return NULL;
        r->s = w->s;
        r->w = w;
        r->seed = stack_random(w->s);
        r->budget = b;
        r->max_bytes = max_bytes;
        /* One source may take a quarter: others still get through. */
        r->max_per_src = max_bytes / 4 > REASS6_TRUESIZE * 8 ? max_bytes / 4 : max_bytes;
        return r;
}

static int tab_init(struct ip6_reass *r)
{
        r->t = calloc(1, sizeof(*r->t));
        if (r->t == NULL)
                return -1;
        for (unsigned i = 0; i < REASS6_MAX_QUEUES; i++) {
                r->t->src[i].hnext = r->t->sfree;
                r->t->sfree = &r->t->src[i];
        }
        return 0;
}

static uint64_t mix64(uint64_t x)
{
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebull;
        return x ^ (x >> 31);
}

static uint64_t addr_hash(uint64_t seed, const uint8_t *a)
{
        uint64_t w0, w1;

        memcpy(&w0, a, 8);
        memcpy(&w1, a + 8, 8);
        return mix64(mix64(seed ^ w0) ^ w1);
}

/* A datagram's hash from its source's keyed hash hsrc (which also picks
 * the source's chain: hashed once for both), its destination and id: its
 * low bits pick the datagram's chain (q_bucket), its top twelve the
 * datagram's two filter bits (q_fp). The id and a fold of the destination
 * take their own bits of the last mix: the destination is ours (or a
 * group we joined), so keys that differ only there are as few as our
 * addresses, and what a sender chooses (source, id) goes through the
 * keyed mixes whole. */
static uint64_t q_hash(uint64_t hsrc, const uint8_t *dst, uint32_t id)
{
        uint64_t d0, d1;

        memcpy(&d0, dst, 8);
        memcpy(&d1, dst + 8, 8);
        return mix64(hsrc ^ (((d0 ^ d1) * 0x9e3779b97f4a7c15ull) >> 32 << 32 | id));
}

static unsigned q_bucket(uint64_t h)
{
        return (unsigned)(h % REASS6_HASH);
}

static void q_fp(uint64_t h, uint8_t fp[2])
{
        fp[0] = (uint8_t)(h >> 58);
        fp[1] = (uint8_t)(h >> 52) & 63u;
}

static uint64_t q_fmask(const uint8_t fp[2])
{
        return 1ull << fp[0] | 1ull << fp[1];
}

static unsigned src_bucket(uint64_t hsrc)
{
        return (unsigned)(hsrc % REASS6_HASH);
}

/* Publish the totals, and give the budget what was freed since the last
 * call: once per fragment, so that an eviction and the fragment that
 * caused it settle in one atomic operation, or none when they are the
 * same size. */
static void usage_pub(struct ip6_reass *r)
{
        if (r->owed != 0) {
                reass_budget_put(r->budget, r->owed);
                r->owed = 0;
        }
        atomic_store_explicit(&r->pub_bytes, r->bytes, memory_order_relaxed);
        atomic_store_explicit(&r->pub_nq, r->nq, memory_order_relaxed);
}

/* The n buffers of a datagram no longer held: this table's, and owed to
 * the stack's budget (usage_pub settles). */
static void bytes_release(struct ip6_reass *r, unsigned n)
{
        r->bytes -= n * REASS6_TRUESIZE;
        r->owed += n * REASS6_TRUESIZE;
}

static void q_free_frags(struct ip6_reass *r, struct r6q *q)
{
        for (unsigned i = 0; i < q->n; i++)
                mpnet_pkt_free(q->f[i].p);
        q->sp->bytes -= q->n * REASS6_TRUESIZE;
        bytes_release(r, q->n);
        q->n = 0;
}

static void src_put(struct ip6_reass *r, struct r6src *sp)
{
        struct r6src **pp;

        if (--sp->nq > 0)
                return;
        for (pp = &r->t->sh[sp->bucket]; *pp != sp; pp = &(*pp)->hnext)
                ;
        *pp = sp->hnext;
        sp->hnext = r->t->sfree;
        r->t->sfree = sp;
}

static struct r6src *src_get(struct ip6_reass *r, const uint8_t *addr, unsigned bucket)
{
        struct r6src **b = &r->t->sh[bucket], *sp;

        for (sp = *b; sp != NULL; sp = sp->hnext) {
                if (ip6_eq(sp->addr, addr))
                        goto found;
        }
        /* There are as many records as datagrams: one is free. */
        sp = r->t->sfree;
        r->t->sfree = sp->hnext;
        memcpy(sp->addr, addr, 16);
        sp->bytes = 0;
        sp->nq = 0;
        sp->bucket = bucket;
        sp->hnext = *b;
        *b = sp;
found:
        sp->nq++;
        return sp;
}

static void q_unlink(struct ip6_reass *r, struct r6q *q)
{
        struct r6q **pp = &r->t->qh[q->bucket];
        const struct r6q *o;
        uint64_t filt = 0;

        while (*pp != q)
                pp = &(*pp)->hnext;
        *pp = q->hnext;
        /* The chain's filter without q: the bits of those left. */
        for (o = r->t->qh[q->bucket]; o != NULL; o = o->hnext)
                filt |= q_fmask(o->fp);
        r->t->qf[q->bucket] = filt;
        if (q->older != NULL)
                q->older->newer = q->newer;
        else
                r->oldest = q->newer;
        if (q->newer != NULL)
                q->newer->older = q->older;
        else
                r->newest = q->older;
        src_put(r, q->sp);
        r->nq--;
        q->hnext = r->qfree;
        r->qfree = q;
}

static void reass_clear(struct ip6_reass *r)
{
        while (r->oldest != NULL) {
                q_free_frags(r, r->oldest);
                q_unlink(r, r->oldest);
        }
}

void ip6_reass_destroy(struct ip6_reass *r)
{
        struct r6q *q;

        if (r == NULL)
                return;
        reass_clear(r);
        usage_pub(r);
        while ((q = r->qfree) != NULL) {
                r->qfree = q->hnext;
                free(q);
        }
        free(r->t);
        free(r);
}

/* For stack_reset() (stack/reset.c): every datagram freed, no error sent. */
void ip6_reass_flush(struct ip6_reass *r)
{
        reass_clear(r);
        usage_pub(r);
}

void ip6_reass_expire(struct ip6_reass *r, uint64_t now)
{
        struct r6q *q;

        while ((q = r->oldest) != NULL && q->expire <= now) {
                if (!q->dead) {
                        STK_INC(r->s, ip6_reass_timeout);
                        if (q->n > 0 && q->f[0].off == 0)
                                icmp6_error(r->w, q->f[0].p, MPNET_ICMP6_TIME_EXCEEDED, 1, 0);
                }
                q_free_frags(r, q);
                q_unlink(r, q);
        }
        usage_pub(r);
}

uint64_t ip6_reass_next_expiry(const struct ip6_reass *r)
{
        return r->oldest != NULL ? r->oldest->expire : MPNET_TIME_NEVER;
}

/* Under a flood every new datagram evicts the oldest, received long ago:
 * its descriptor, source entry, hash neighbour and buffer are all out of
 * the cache. A pipeline two evictions deep, with no load that waits: the
 * next victim's descriptor came in at the last eviction, so what it
 * points to is fetched now, and the descriptor of the one after it (the
 * lines an eviction reads: its head and its first fragment slots). Each
 * miss overlaps the fragment processed before it is needed. */
static void victim_prefetch(const struct ip6_reass *r)
{
        const struct r6q *q = r->oldest, *n;

        if (q == NULL)
                return;
        if (q->n > 0)
                __builtin_prefetch(q->f[0].p, 1);
        __builtin_prefetch(q->sp, 1);
        if (q->hnext != NULL)
                __builtin_prefetch(q->hnext, 1);
        n = q->newer;
        if (n != NULL) {
                __builtin_prefetch(n, 1);
                __builtin_prefetch(&n->f[0], 1);
        }
}

/* Free the oldest datagram other than keep, only among those holding
 * fragments with held_only: a dead key holds no memory. Its fragments
 * count as dropped by a cap.
 * @return false when there is none. */
static bool q_evict_oldest(struct ip6_reass *r, const struct r6q *keep, bool held_only)
{
        struct r6q *old = r->oldest;

        while (old != NULL && (old == keep || (held_only && old->n == 0)))
                old = old->newer;
        if (old == NULL)
                return false;
        STK_ADD(r->s, ip6_reass_cap, old->n);
        q_free_frags(r, old);
        q_unlink(r, old);
        victim_prefetch(r);
        return true;
}

/* One buffer from the stack's budget, which other tables fill too: this
 * table's oldest datagrams make room first. */
static bool budget_take(struct ip6_reass *r, const struct r6q *keep)
{
        for (;;) {
                if (r->owed >= REASS6_TRUESIZE) {
                        r->owed -= REASS6_TRUESIZE;
                        return true;
                }
                if (reass_budget_take(r->budget, REASS6_TRUESIZE))
                        return true;
                if (!q_evict_oldest(r, keep, true))
                        return false;
        }
        return true;
}

static struct r6q *q_get(struct ip6_reass *r, const uint8_t *b, uint32_t id)
{
        struct r6q **h, *q;
        unsigned bucket;
        uint64_t hsrc, hq, fm;
        uint8_t fp[2];

        if (r->t == NULL && tab_init(r) != 0)
                return NULL;
        hsrc = addr_hash(r->seed, b + 8);
        hq = q_hash(hsrc, b + 24, id);
        bucket = q_bucket(hq);
        q_fp(hq, fp);
        fm = q_fmask(fp);
        h = &r->t->qh[bucket];
        /* A flood of fragments of datagrams never held (random sources and
         * ids) mostly stops at the filter: the chain's descriptors, out of
         * the cache, are not read. */
        if ((r->t->qf[bucket] & fm) == fm) {
                for (q = *h; q != NULL; q = q->hnext) {
                        if (q->id == id && ip6_eq(q->src, b + 8) && ip6_eq(q->dst, b + 24))
                                return q;
                }
        }
        /* A new datagram at a cap: whether it may evict is reass.c's
         * admission policy (reass6_admit); refused, nothing is evicted. */
        if ((r->nq >= REASS6_MAX_QUEUES || r->bytes + REASS6_TRUESIZE > r->max_bytes ||
             (r->owed < REASS6_TRUESIZE &&
              atomic_load_explicit(&r->budget->used, memory_order_relaxed) + REASS6_TRUESIZE >
                  r->budget->max)) &&
            !reass6_admit(r->w, b + 8))
                return NULL;
        if (r->nq >= REASS6_MAX_QUEUES && !q_evict_oldest(r, NULL, false))
                return NULL;
        q = r->qfree;
        if (q != NULL)
                r->qfree = q->hnext;
        else if ((q = malloc(sizeof(*q))) == NULL)
                return NULL;
        /* The fragment slots are only read below n. */
        memset(q, 0, offsetof(struct r6q, f));
        memcpy(q->src, b + 8, 16);
        memcpy(q->dst, b + 24, 16);
        q->id = id;
        q->bucket = bucket;
        memcpy(q->fp, fp, sizeof(fp));
        r->t->qf[bucket] |= fm;
        q->expire = ctx_now(r->w) + REASS6_TIMEOUT_NS;
        q->sp = src_get(r, q->src, src_bucket(hsrc));
        /* *h is read now: the eviction above may have changed it. */
        q->hnext = *h;
        *h = q;
        q->older = r->newest;
        if (r->newest != NULL)
                r->newest->newer = q;
        else
                r->oldest = q;
        r->newest = q;
        ctx_svc_arm(r->w, q->expire);
        r->nq++;
        return q;
}

/*
 * The refusal before the table's work (ip6-local, per vector, see
 * reass6_refuse): only where ip6_local_one()'s walk and reass_input()
 * would go the same way. p is one buffer whose fragment header follows
 * the fixed one, its fields valid (the walk's checks), not atomic (RFC
 * 6946), and an offset-0 fragment's next header is no extension header
 * (the walk would go on); the table is made, a new datagram short of room
 * (q_get's test) and none of p's key held (its chain's filter).
 */
bool ip6_reass_refusable(const struct ip6_reass *r, const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        uint64_t hq, fm;
        uint8_t fp[2];
        uint32_t len, off, id;
        uint16_t fo;
        uint8_t nh;

        if (r->t == NULL || p->next != NULL || p->len < MPNET_IP6_HLEN + FRAG_HLEN ||
            b[6] != MPNET_IPPROTO_FRAGMENT)
                return false;
        fo = mpnet_get_be16(b + MPNET_IP6_HLEN + 2);
        off = fo & 0xfff8u;
        len = p->len - (MPNET_IP6_HLEN + FRAG_HLEN);
        nh = b[MPNET_IP6_HLEN];
        if (((fo & 1) && len % 8 != 0) || off + len > 65535)
                return false;
        if (off == 0 &&
            (!(fo & 1) || nh == MPNET_IPPROTO_HOPOPTS || nh == MPNET_IPPROTO_ROUTING ||
             nh == MPNET_IPPROTO_FRAGMENT || nh == MPNET_IPPROTO_DSTOPTS || nh == MPNET_IPPROTO_AH))
                return false;
        if (r->nq < REASS6_MAX_QUEUES && r->bytes + REASS6_TRUESIZE <= r->max_bytes &&
            (r->owed >= REASS6_TRUESIZE ||
             atomic_load_explicit(&r->budget->used, memory_order_relaxed) + REASS6_TRUESIZE <=
                 r->budget->max))
                return false;
        id = mpnet_get_be32(b + MPNET_IP6_HLEN + 4);
        hq = q_hash(addr_hash(r->seed, b + 8), b + 24, id);
        q_fp(hq, fp);
        fm = q_fmask(fp);
        if ((r->t->qf[q_bucket(hq)] & fm) != fm)
                return true;
        /* A set bit (another datagram of the chain) is settled by the
         * chain, as q_get() would, not by the whole path to it. */
        for (const struct r6q *q = r->t->qh[q_bucket(hq)]; q != NULL; q = q->hnext)
                if (q->id == id && ip6_eq(q->src, b + 8) && ip6_eq(q->dst, b + 24))
                        return false;
        return true;
}

static bool q_complete(const struct r6q *q)
{
        uint32_t at = 0;

        if (!q->have_last)
                return false;
        for (unsigned i = 0; i < q->n; i++) {
                if (q->f[i].off != at)
                        return false;
                at += q->f[i].len;
        }
        return at == q->total;
}

/* The datagram: the unfragmentable part slides over the fragment header. */
static struct mpnet_pkt *q_build(struct ip6_reass *r, struct r6q *q)
{
        struct mpnet_pkt *p0 = q->f[0].p, *tail = p0;
        uint16_t fo = q->first_fo;
        uint8_t nh = p0->data[fo];
        uint32_t plen = fo - MPNET_IP6_HLEN + q->total;

        if (plen > 0xffff) {
                STK_INC(r->s, ip6_reass_bad);
                q_free_frags(r, q);
                q_unlink(r, q);
                return NULL;
        }
        memmove(p0->data + FRAG_HLEN, p0->data, fo);
        mpnet_pkt_adj(p0, FRAG_HLEN);
        p0->data[q->first_prev] = nh;
        mpnet_put_be16(p0->data + 4, (uint16_t)plen);
        p0->pkt_len = p0->len;
        for (unsigned i = 1; i < q->n; i++) {
                struct mpnet_pkt *p = q->f[i].p;

                mpnet_pkt_adj(p, q->f[i].hdr);
                p->next = NULL;
                tail->next = p;
                tail = p;
                p0->pkt_len += p->len;
        }
        p0->nb_segs = (uint16_t)q->n;
        q->sp->bytes -= q->n * REASS6_TRUESIZE;
        bytes_release(r, q->n);
        q->n = 0;
        q_unlink(r, q);
        return p0;
}

/* Drop a datagram: dead keeps its key until the timeout (RFC 5722). */
static void q_drop(struct ip6_reass *r, struct r6q *q, bool dead)
{
        q_free_frags(r, q);
        if (dead)
                q->dead = true;
        else
                q_unlink(r, q);
}

static struct mpnet_pkt *reass_input(struct ip6_reass *r, struct mpnet_pkt *p, uint16_t fo,
                                     uint16_t prev)
{
        struct mpnet_stack *s = r->s;
        const uint8_t *b = p->data;
        uint16_t off = mpnet_get_be16(b + fo + 2) & 0xfff8;
        bool more = b[fo + 3] & 1;
        uint32_t id = mpnet_get_be32(b + fo + 4);
        uint16_t hdr = (uint16_t)(fo + FRAG_HLEN);
        uint32_t len = p->len - hdr, end = off + len;
        struct r6q *q = q_get(r, b, id);
        unsigned i;

        if (q == NULL) {
                STK_INC(s, ip6_reass_cap);
                goto free;
        }
        if (q->dead) {
                STK_INC(s, ip6_reass_overlap);
                goto free;
        }
        if ((len == 0 && more) || (!more && q->have_last && end != q->total) ||
            (q->have_last && end > q->total) ||
            (!more && q->n > 0 && q->f[q->n - 1].off + q->f[q->n - 1].len > end)) {
                STK_INC(s, ip6_reass_bad);
                q_drop(r, q, false);
                goto free;
        }
        for (i = 0; i < q->n; i++) {
                if (off < q->f[i].off + q->f[i].len && q->f[i].off < end) {
                        STK_INC(s, ip6_reass_overlap);
                        q_drop(r, q, true);
                        goto free;
                }
        }
        while (r->bytes + REASS6_TRUESIZE > r->max_bytes && q_evict_oldest(r, q, true))
                ;
        if (q->n == REASS6_MAX_FRAGS || r->bytes + REASS6_TRUESIZE > r->max_bytes ||
            q->sp->bytes + REASS6_TRUESIZE > r->max_per_src || !budget_take(r, q)) {
                STK_INC(s, ip6_reass_cap);
                q_drop(r, q, false);
                goto free;
        }
        if (!more) {
                q->have_last = true;
                q->total = end;
        }
        if (off == 0) {
                q->first_fo = fo;
                q->first_prev = prev;
        }
        for (i = q->n; i > 0 && q->f[i - 1].off > off; i--)
                q->f[i] = q->f[i - 1];
        q->f[i] = (struct r6frag){.p = p, .off = off, .len = (uint16_t)len, .hdr = hdr};
        q->n++;
        r->bytes += REASS6_TRUESIZE;
        q->sp->bytes += REASS6_TRUESIZE;
        return q_complete(q) ? q_build(r, q) : NULL;
free:
        mpnet_pkt_free(p);
        return NULL;
}

struct mpnet_pkt *ip6_reass_input(struct ip6_reass *r, struct mpnet_pkt *p, uint16_t fo,
                                  uint16_t prev)
{
        p = reass_input(r, p, fo, prev);
        usage_pub(r);
        return p;
}

void ip6_reass_usage(const struct ip6_reass *r, uint64_t *bytes, uint64_t *max_bytes,
                     uint32_t *datagrams, uint32_t *max_datagrams)
{
        *bytes = mpnet_stat_read(&r->pub_bytes);
        *max_bytes = r->max_bytes;
        *datagrams = (uint32_t)mpnet_stat_read(&r->pub_nq);
        *max_datagrams = REASS6_MAX_QUEUES;
}
