/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 fragmentation and reassembly.
 *
 * Fragmentation follows RFC 791 3.2 ("An Example Fragmentation Procedure"):
 * the first fragment carries the whole header, later ones only the options
 * whose copied flag is set; every fragment but the last carries a multiple of
 * 8 data bytes. Fragments are copied into fresh linear buffers.
 *
 * Reassembly keeps, per datagram, a list of its fragments sorted by offset, in
 * place of RFC 815's hole descriptors: since overlapping fragments are
 * refused, the datagram is complete exactly when the last fragment has
 * arrived and the bytes held add up to its end. In-order arrival appends at
 * the tail in O(1); any other insertion walks at most max_frags records.
 * Complete datagrams are handed back as a chain of the received buffers.
 *
 * Every datagram lives for the same timeout from its first fragment, so the
 * age list (oldest first) is also the expiry order: expiry and eviction pop
 * its head.
 *
 * Synchronisation, lock order, life cycle: see ip4_frag.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/stat.h"
#include "l3/ip4_frag.h"
#include "mpnet/clock.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ipv4.h"

#define IP4_MAX_HLEN   60u
#define IP4_MAX_LEN    65535u
#define IP4_F_RESERVED 0x8000u
#define IP4_F_DF       0x4000u
#define IP4_F_MF       0x2000u
#define IP4_OFF_MASK   0x1fffu
#define IP4_OPT_EOL    0u
#define IP4_OPT_NOP    1u
#define IP4_OPT_COPIED 0x80u

/* A read position in a (possibly chained) packet. off may run past the
 * current segment: the next span walks on. */
struct seg_cursor {
        const struct mpnet_pkt *seg;
        uint32_t off;
};

/* @return bytes readable contiguously at the cursor, 0 at the end. */
static uint32_t cursor_span(struct seg_cursor *c, const uint8_t **at)
{
        while (c->seg != NULL && c->off >= c->seg->len) {
                c->off -= c->seg->len;
                c->seg = c->seg->next;
        }
        if (c->seg == NULL)
                return 0;
        *at = c->seg->data + c->off;
        return c->seg->len - c->off;
}

static int cursor_copy(struct seg_cursor *c, uint8_t *dst, uint32_t n)
{
        while (n > 0) {
                const uint8_t *at;
                uint32_t k = cursor_span(c, &at);

                if (k == 0)
                        return -EINVAL;
                if (k > n)
                        k = n;
                memcpy(dst, at, k);
                dst += k;
                n -= k;
                c->off += k;
        }
        return 0;
}

static bool cursor_equal(struct seg_cursor *a, struct seg_cursor *b, uint32_t n)
{
        while (n > 0) {
                const uint8_t *pa, *pb;
                uint32_t ka = cursor_span(a, &pa), kb = cursor_span(b, &pb), k;

                if (ka == 0 || kb == 0)
                        return false;
                k = ka < kb ? ka : kb;
                if (k > n)
                        k = n;
                if (memcmp(pa, pb, k) != 0)
                        return false;
                a->off += k;
                b->off += k;
                n -= k;
        }
        return true;
}

/* Write the total length, flags and offset of the header at b, and its checksum. */
static void ip4_hdr_finish(uint8_t *b, uint32_t hlen, uint32_t tot, uint16_t frag_field)
{
        mpnet_put_be16(b + 2, (uint16_t)tot);
        mpnet_put_be16(b + 6, frag_field);
        mpnet_put_be16(b + 10, 0);
        mpnet_put_be16(b + 10, mpnet_csum(b, hlen));
}

/*
 * RFC 791 3.1 and 3.2: copy to o the options of header h that have the copied
 * flag, padded with End of Option List to a multiple of 4 (at most 40 bytes,
 * a subset of h's options). @return their length, or -EINVAL for a malformed
 * option list.
 */
static int ip4_opts_copied(const uint8_t *h, uint32_t hlen, uint8_t *o)
{
        uint32_t i = MPNET_IP4_HLEN, n = 0;

        while (i < hlen) {
                uint8_t type = h[i], len;

                if (type == IP4_OPT_EOL)
                        break;
                if (type == IP4_OPT_NOP) {
                        i++;
                        continue;
                }
                if (i + 1 >= hlen)
                        return -EINVAL;
                len = h[i + 1];
                if (len < 2 || i + len > hlen)
                        return -EINVAL;
                if (type & IP4_OPT_COPIED) {
                        memcpy(o + n, h + i, len);
                        n += len;
                }
                i += len;
        }
        while (n % 4 != 0)
                o[n++] = IP4_OPT_EOL;
        return (int)n;
}

/* Fragments inherit what describes the packet, not what asks the link for work. */
static void frag_meta(struct mpnet_pkt *f, const struct mpnet_pkt *p, uint32_t hlen, bool first)
{
        f->ts = p->ts;
        f->ifindex = p->ifindex;
        f->flow_hash = p->flow_hash;
        f->vlan_tci = p->vlan_tci;
        f->ol_flags = p->ol_flags & (MPNET_PKT_F_VLAN | MPNET_PKT_F_FLOW_HASH);
        f->l3_off = (uint16_t)(f->data - mpnet_pkt_buf(f));
        f->l4_off = first ? (uint16_t)(f->l3_off + hlen) : 0;
}

int ip4_fragment(struct mpnet_pool *pool, struct mpnet_pkt *p, uint32_t mtu, struct mpnet_pkt **out,
                 unsigned max_out)
{
        uint8_t h[IP4_MAX_HLEN], hr[IP4_MAX_HLEN];
        uint32_t hlen, hlen_r, tot, plen, orig_off, first_max, rest_max, pos = 0;
        struct seg_cursor c;
        uint16_t fo;
        unsigned n, got;
        int k;

        if (mtu < IP4_MIN_MTU)
                return -EINVAL;
        if (mpnet_pkt_read(p, 0, h, MPNET_IP4_HLEN) != 0 || (h[0] >> 4) != 4 || (h[0] & 0xf) < 5)
                return -EINVAL;
        hlen = (h[0] & 0xfu) * 4;
        tot = mpnet_get_be16(h + 2);
        if (tot < hlen || tot > p->pkt_len || mpnet_pkt_read(p, 0, h, hlen) != 0)
                return -EINVAL;
        if (tot <= mtu) {
                if (max_out < 1)
                        return -ENOSPC;
                out[0] = p;
                return 1;
        }
        fo = mpnet_get_be16(h + 6);
        if (fo & IP4_F_DF)
                return -EMSGSIZE;
        if (p->ol_flags & (MPNET_PKT_F_L4_CSUM_TX | MPNET_PKT_F_TSO))
                return -EOPNOTSUPP;
        orig_off = (fo & IP4_OFF_MASK) * 8u;
        plen = tot - hlen;
        /* A fragment being fragmented again must still end within 64 KiB, so
         * every offset we write fits in 13 bits. */
        if (orig_off + tot > IP4_MAX_LEN)
                return -EINVAL;
        k = ip4_opts_copied(h, hlen, hr + MPNET_IP4_HLEN);
        if (k < 0)
                return -EINVAL;
        hlen_r = MPNET_IP4_HLEN + (uint32_t)k;
        memcpy(hr, h, MPNET_IP4_HLEN);
        hr[0] = (uint8_t)(0x40 | hlen_r / 4);

        if (mtu > MPNET_PKT_DATA_SIZE)
                mtu = MPNET_PKT_DATA_SIZE; /* one linear buffer per fragment */
        /* mtu >= 68 and hlen <= 60 leave room for 8 bytes: why 68 is the minimum. */
        first_max = (mtu - hlen) & ~7u;
        rest_max = (mtu - hlen_r) & ~7u;
        n = 1 + (plen - first_max + rest_max - 1) / rest_max;
        if (n > max_out)
                return -ENOSPC;
        got = mpnet_pkt_alloc_bulk(pool, out, n);
        if (got != n) {
                mpnet_pkt_free_bulk(out, got);
                return -ENOBUFS;
        }

        c = (struct seg_cursor){p, hlen};
        for (unsigned i = 0; i < n; i++) {
                struct mpnet_pkt *f = out[i];
                uint32_t hl = i == 0 ? hlen : hlen_r, max = i == 0 ? first_max : rest_max;
                uint32_t chunk = plen - pos < max ? plen - pos : max;
                uint16_t field = (uint16_t)((fo & IP4_F_RESERVED) | (orig_off + pos) / 8);

                /* MF stays set on the last piece of a datagram that was itself a
                 * non-last fragment. */
                if (i + 1 < n || (fo & IP4_F_MF))
                        field |= IP4_F_MF;
                memcpy(f->data, i == 0 ? h : hr, hl);
                if (cursor_copy(&c, f->data + hl, chunk) != 0) {
                        mpnet_pkt_free_bulk(out, n);
                        return -EINVAL; /* the chain is shorter than pkt_len says */
                }
                ip4_hdr_finish(f->data, hl, hl + chunk, field);
                f->len = f->pkt_len = hl + chunk;
                frag_meta(f, p, hl, i == 0);
                pos += chunk;
        }
        mpnet_pkt_free(p);
        return (int)n;
}

/* ---- Reassembly ---- */

struct reass_frag {
        struct reass_frag *next; /* by offset */
        struct mpnet_pkt *p;     /* as received, IP header first */
        uint32_t off, end;       /* data bytes [off, end) of the datagram */
        uint32_t hlen;
};

struct reass_src {
        struct reass_src *hnext, **hpprev;
        uint64_t bytes; /* charged to this source */
        uint32_t addr;
        uint32_t ndg; /* its datagrams; the entry goes with the last one */
};

struct reass_dg {
        struct reass_dg *hnext, **hpprev; /* hash chain */
        struct reass_dg *older, *newer;   /* age list */
        struct reass_src *sp;
        struct reass_frag *frags, *tail;
        struct mpnet_pkt *p0; /* the first fragment come, held until dg goes */
        uint64_t expire;
        uint64_t bytes; /* charged */
        uint32_t src, dst;
        uint32_t total; /* data length, once the last fragment came */
        uint32_t have;  /* data bytes held */
        uint32_t nfrags;
        uint32_t bucket; /* its hash chain */
        uint16_t id;
        uint8_t proto;
        uint8_t fp[2]; /* its two bits in its chains' filter word (dg_filter) */
        bool has_last;
};

struct ip4_reass {
        struct ip4_reass_cfg cfg;
        struct reass_dg **dg_hash;
        /* Per four datagram chains (bucket >> DG_FILTER_SHIFT), the OR of
         * their datagrams' two fingerprint bits each (dg_fmask): a
         * fragment either of whose bits is clear has no datagram held,
         * known without reading a descriptor (dg_lookup). */
        uint64_t *dg_filter;
        struct reass_src **src_hash;
        uint32_t dg_mask, src_mask;
        struct reass_dg *oldest, *newest;
        struct reass_dg *dg_free;
        struct reass_src *src_free;
        struct reass_frag *frag_free;
        struct reass_dg *dg_mem;
        struct reass_src *src_mem;
        struct reass_frag *frag_mem;
        uint64_t nrec; /* fragment records */
        struct {
                mpnet_stat_t frags_in, completed, timeouts, overlap_drops, conflict_drops;
                mpnet_stat_t dup_drops, cap_drops, evictions, bad_drops, bytes_held;
                mpnet_stat_t datagrams_held, evicted_frags, refused;
        } st;
};

/* A parsed fragment. */
struct frag_info {
        uint32_t src, dst;
        uint32_t off, end, hlen;
        uint64_t charge;
        uint16_t id;
        uint8_t proto;
        bool mf;
};

/* Bounded tunables (npf style): name, field, default, min, max. */
struct reass_tunable {
        const char *name;
        size_t off;
        uint64_t def, min, max;
};

#define TUNABLE(f) #f, offsetof(struct ip4_reass_cfg, f)
static const struct reass_tunable reass_tunables[] = {
    /* RFC 1122 3.3.2 wants a fixed timeout; 255 s is RFC 791's TTL bound. */
    {TUNABLE(timeout_ns), 30 * MPNET_NS_PER_S, MPNET_NS_PER_MS, 255 * MPNET_NS_PER_S},
    {TUNABLE(max_bytes), 4u << 20, IP4_REASS_TRUESIZE, 1ull << 30},
    {TUNABLE(max_per_src), 256u << 10, IP4_REASS_TRUESIZE, 1ull << 30},
    {TUNABLE(max_datagrams), 1024, 1, 1u << 20},
    /* No datagram needs more than 65536 / 8 fragments. */
    {TUNABLE(max_frags), 64, 2, 8192},
};
#undef TUNABLE

static uint64_t *cfg_field(struct ip4_reass_cfg *cfg, const struct reass_tunable *t)
{
        return (uint64_t *)((char *)cfg + t->off);
}

static int cfg_resolve(struct ip4_reass_cfg *cfg)
{
        for (size_t i = 0; i < sizeof(reass_tunables) / sizeof(reass_tunables[0]); i++) {
                const struct reass_tunable *t = &reass_tunables[i];
                uint64_t *v = cfg_field(cfg, t);

                if (*v == 0)
                        *v = t->def;
                if (*v < t->min || *v > t->max)
                        return -EINVAL;
        }
        return cfg->max_per_src <= cfg->max_bytes ? 0 : -EINVAL;
}

static uint64_t mix64(uint64_t x)
{
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebull;
        x ^= x >> 31;
        return x;
}

/* The keyed hash of a source address: it picks the source's chain. */
static uint64_t src_hash(const struct ip4_reass *r, uint32_t src)
{
        return mix64(r->cfg.hash_seed ^ src);
}

/* The keyed hash of a datagram's key: its low bits pick the chain
 * (dg_mask), its top twelve the datagram's filter bits (dg_fp). One
 * mix of what a sender chooses (source, identification, protocol: 56
 * bits, each in its own), the destination added after it: it is ours (or
 * a group we joined), so keys that differ only there are as few as our
 * addresses; a flood cannot make more meet in one chain. */
static uint64_t dg_hash(const struct ip4_reass *r, uint32_t src, uint32_t dst, uint16_t id,
                        uint8_t proto)
{
        return mix64(r->cfg.hash_seed ^ ((uint64_t)src << 24 | (uint64_t)id << 8 | proto)) ^
               (uint64_t)dst * 0x9e3779b97f4a7c15ull;
}

/*
 * The chain filter, a blocked Bloom filter of two bits a datagram: one
 * 64-bit word for four chains (about two datagrams at the datagram cap),
 * the bits picked by the hash's top twelve. A fragment of a datagram not
 * held finds both its bits set about one time in 190 at the cap, against
 * one in 32 with one bit in a 16-bit word a chain, in the same 4 KiB: each
 * of those is a walk of cold descriptors (dg_lookup). Measured:
 * docs/PERFORMANCE.md, "A blocked two-bit filter for IPv4 reassembly".
 */
#define DG_FILTER_SHIFT 2u

static void dg_fp(uint64_t h, uint8_t fp[2])
{
        fp[0] = (uint8_t)(h >> 58);
        fp[1] = (uint8_t)(h >> 52) & 63u;
}

static uint64_t dg_fmask(const uint8_t fp[2])
{
        return 1ull << fp[0] | 1ull << fp[1];
}

static uint32_t src_bucket(const struct ip4_reass *r, uint64_t hsrc)
{
        return (uint32_t)(hsrc >> 32) & r->src_mask;
}

static uint32_t pow2_at_least(uint64_t n)
{
        uint32_t m = 1;

        while (m < n)
                m <<= 1;
        return m;
}

struct ip4_reass *ip4_reass_create(const struct ip4_reass_cfg *cfg)
{
        struct ip4_reass *r = calloc(1, sizeof(*r));
        uint64_t nrec;

        if (r == NULL) {
                errno = ENOMEM;
                return NULL;
        }
        if (cfg != NULL)
                r->cfg = *cfg;
        if (cfg_resolve(&r->cfg) != 0) {
                free(r);
                errno = EINVAL;
                return NULL;
        }
        /* Every fragment pins at least one buffer, so max_bytes bounds the
         * records ever in use. */
        nrec = r->cfg.max_bytes / IP4_REASS_TRUESIZE;
        if (nrec > r->cfg.max_datagrams * r->cfg.max_frags)
                nrec = r->cfg.max_datagrams * r->cfg.max_frags;
        r->nrec = nrec;
        r->dg_mask = pow2_at_least(2 * r->cfg.max_datagrams) - 1;
        r->src_mask = r->dg_mask;
        return r;
}

/* The tables and records, all at once, on the first fragment: with the
 * default caps they are 168 KiB, which a stack that never sees a fragment
 * (most of them) should not pay for at creation. */
static int reass_mem_init(struct ip4_reass *r)
{
        r->dg_hash = calloc((size_t)r->dg_mask + 1, sizeof(*r->dg_hash));
        r->dg_filter = calloc((size_t)(r->dg_mask >> DG_FILTER_SHIFT) + 1, sizeof(*r->dg_filter));
        r->src_hash = calloc((size_t)r->src_mask + 1, sizeof(*r->src_hash));
        r->dg_mem = calloc(r->cfg.max_datagrams, sizeof(*r->dg_mem));
        r->src_mem = calloc(r->cfg.max_datagrams, sizeof(*r->src_mem));
        r->frag_mem = calloc(r->nrec, sizeof(*r->frag_mem));
        if (r->dg_hash == NULL || r->dg_filter == NULL || r->src_hash == NULL ||
            r->dg_mem == NULL || r->src_mem == NULL || r->frag_mem == NULL) {
                free(r->dg_hash);
                free(r->dg_filter);
                free(r->src_hash);
                free(r->dg_mem);
                free(r->src_mem);
                free(r->frag_mem);
                r->dg_hash = NULL;
                return -ENOMEM;
        }
        for (uint64_t i = 0; i < r->cfg.max_datagrams; i++) {
                r->dg_mem[i].hnext = r->dg_free;
                r->dg_free = &r->dg_mem[i];
                r->src_mem[i].hnext = r->src_free;
                r->src_free = &r->src_mem[i];
        }
        for (uint64_t i = 0; i < r->nrec; i++) {
                r->frag_mem[i].next = r->frag_free;
                r->frag_free = &r->frag_mem[i];
        }
        return 0;
}

/* Unlink dg and give back what it holds but its charge to the shared cap,
 * which the caller owes: @return that charge. Free its packets when asked. */
static uint64_t dg_drop(struct ip4_reass *r, struct reass_dg *dg, bool free_pkts)
{
        struct reass_src *sp = dg->sp;
        struct reass_frag *f, *next;
        const struct reass_dg *o;
        uint32_t first = dg->bucket & ~((1u << DG_FILTER_SHIFT) - 1);
        uint64_t filt = 0;

        *dg->hpprev = dg->hnext;
        if (dg->hnext != NULL)
                dg->hnext->hpprev = dg->hpprev;
        /* The chains' filter word without dg: the bits of those left in
         * its four chains (about two datagrams). */
        for (uint32_t c = first; c <= (first | ((1u << DG_FILTER_SHIFT) - 1)) && c <= r->dg_mask;
             c++)
                for (o = r->dg_hash[c]; o != NULL; o = o->hnext)
                        filt |= dg_fmask(o->fp);
        r->dg_filter[dg->bucket >> DG_FILTER_SHIFT] = filt;
        if (dg->older != NULL)
                dg->older->newer = dg->newer;
        else
                r->oldest = dg->newer;
        if (dg->newer != NULL)
                dg->newer->older = dg->older;
        else
                r->newest = dg->older;
        for (f = dg->frags; f != NULL; f = next) {
                next = f->next;
                if (free_pkts)
                        mpnet_pkt_free(f->p);
                f->next = r->frag_free;
                r->frag_free = f;
        }
        sp->bytes -= dg->bytes;
        if (--sp->ndg == 0) {
                *sp->hpprev = sp->hnext;
                if (sp->hnext != NULL)
                        sp->hnext->hpprev = sp->hpprev;
                sp->hnext = r->src_free;
                r->src_free = sp;
        }
        mpnet_stat_add(&r->st.bytes_held, -dg->bytes);
        mpnet_stat_add(&r->st.datagrams_held, (uint64_t)-1);
        dg->hnext = r->dg_free;
        r->dg_free = dg;
        return dg->bytes;
}

static void shared_put(struct ip4_reass *r, uint64_t bytes)
{
        if (r->cfg.shared_used != NULL && bytes != 0)
                atomic_fetch_sub_explicit(r->cfg.shared_used, bytes, memory_order_relaxed);
}

/* Unlink dg and give back all it holds; free its packets when asked. */
static void dg_release(struct ip4_reass *r, struct reass_dg *dg, bool free_pkts)
{
        shared_put(r, dg_drop(r, dg, free_pkts));
}

void ip4_reass_destroy(struct ip4_reass *r)
{
        if (r == NULL)
                return;
        while (r->oldest != NULL)
                dg_release(r, r->oldest, true);
        free(r->dg_hash);
        free(r->dg_filter);
        free(r->src_hash);
        free(r->dg_mem);
        free(r->src_mem);
        free(r->frag_mem);
        free(r);
}

/* For stack_reset() (stack/reset.c): what a fresh object holds, nothing,
 * its counters at 0; the memory made on first use stays. */
void ip4_reass_flush(struct ip4_reass *r)
{
        while (r->oldest != NULL)
                dg_release(r, r->oldest, true);
        memset(&r->st, 0, sizeof(r->st));
}

static struct reass_src *src_lookup(const struct ip4_reass *r, uint32_t addr, uint32_t bucket)
{
        struct reass_src *sp = r->src_hash[bucket];

        while (sp != NULL && sp->addr != addr)
                sp = sp->hnext;
        return sp;
}

/* The datagram of fi, if held; h its dg_hash(). A flood of fragments of
 * datagrams never held (random sources and ids) mostly stops at the
 * filter: the chain's descriptors, out of the cache, are not read. */
static struct reass_dg *dg_lookup(const struct ip4_reass *r, const struct frag_info *fi, uint64_t h)
{
        uint32_t bucket = (uint32_t)h & r->dg_mask;
        struct reass_dg *dg;
        uint8_t fp[2];
        uint64_t m;

        dg_fp(h, fp);
        m = dg_fmask(fp);
        if ((r->dg_filter[bucket >> DG_FILTER_SHIFT] & m) != m)
                return NULL;
        dg = r->dg_hash[bucket];

        while (dg != NULL && !(dg->src == fi->src && dg->dst == fi->dst && dg->id == fi->id &&
                               dg->proto == fi->proto))
                dg = dg->hnext;
        return dg;
}

/* A new, empty datagram for fi of hash h (dg_hash), newest in the age
 * list, of source sp (NULL: none yet, in source bucket sbucket), p its
 * first fragment (the caller inserts it). The
 * caller has made room: a descriptor is free, and so is a source entry
 * (there are as many). */
static struct reass_dg *dg_new(struct ip4_reass *r, const struct frag_info *fi, struct mpnet_pkt *p,
                               uint64_t now, uint64_t h, struct reass_src *sp, uint32_t sbucket)
{
        struct reass_dg *dg = r->dg_free, **b;
        uint32_t bucket = (uint32_t)h & r->dg_mask;

        if (sp == NULL) {
                struct reass_src **sb = &r->src_hash[sbucket];

                sp = r->src_free;
                r->src_free = sp->hnext;
                memset(sp, 0, sizeof(*sp));
                sp->addr = fi->src;
                sp->hnext = *sb;
                if (*sb != NULL)
                        (*sb)->hpprev = &sp->hnext;
                sp->hpprev = sb;
                *sb = sp;
        }
        sp->ndg++;
        r->dg_free = dg->hnext;
        memset(dg, 0, sizeof(*dg));
        dg->sp = sp;
        dg->src = fi->src;
        dg->dst = fi->dst;
        dg->id = fi->id;
        dg->proto = fi->proto;
        dg->p0 = p;
        dg->expire = now + r->cfg.timeout_ns;
        dg->bucket = bucket;
        dg_fp(h, dg->fp);
        r->dg_filter[bucket >> DG_FILTER_SHIFT] |= dg_fmask(dg->fp);
        b = &r->dg_hash[bucket];
        dg->hnext = *b;
        if (*b != NULL)
                (*b)->hpprev = &dg->hnext;
        dg->hpprev = b;
        *b = dg;
        dg->older = r->newest;
        if (r->newest != NULL)
                r->newest->newer = dg;
        else
                r->oldest = dg;
        r->newest = dg;
        mpnet_stat_add(&r->st.datagrams_held, 1);
        return dg;
}

/* Under a flood every new datagram evicts the oldest, whose buffers were
 * received long ago and are out of the cache: freeing one is a miss on
 * its metadata. Fetch the buffers of the datagrams that go next, so the
 * miss overlaps the fragments processed until then. Each descriptor names
 * its first buffer (p0): reading the fragment record for it would be a
 * miss that waits. */
static void victim_prefetch(const struct ip4_reass *r)
{
        const struct reass_dg *v = r->oldest;

        for (unsigned i = 0; i < 2 && v != NULL; i++, v = v->newer)
                __builtin_prefetch(v->p0, 1);
}

/* Take charge bytes from the shared cap, if any, where *back bytes freed
 * here are still counted in it: they pay first, so an eviction that frees
 * what the new fragment takes costs no atomic operation at all. *back is 0
 * on success; kept (still owed) on failure. */
static bool shared_take(struct ip4_reass *r, uint64_t charge, uint64_t *back)
{
        uint64_t u;

        if (r->cfg.shared_used == NULL) {
                *back = 0;
                return true;
        }
        if (*back >= charge) {
                shared_put(r, *back - charge);
                *back = 0;
                return true;
        }
        charge -= *back;
        u = atomic_load_explicit(r->cfg.shared_used, memory_order_relaxed);
        do {
                if (u + charge > r->cfg.shared_max)
                        return false;
        } while (!atomic_compare_exchange_weak_explicit(
            r->cfg.shared_used, &u, u + charge, memory_order_relaxed, memory_order_relaxed));
        *back = 0;
        return true;
}

/* Whether a new datagram of charge bytes would have to evict another to
 * fit (make_room's test, without taking anything). */
static bool room_short(const struct ip4_reass *r, uint64_t charge)
{
        return mpnet_stat_read(&r->st.bytes_held) + charge > r->cfg.max_bytes ||
               mpnet_stat_read(&r->st.datagrams_held) >= r->cfg.max_datagrams ||
               (r->cfg.shared_used != NULL &&
                atomic_load_explicit(r->cfg.shared_used, memory_order_relaxed) + charge >
                    r->cfg.shared_max);
}

/* Evict the oldest datagrams other than keep until adding charge bytes (and
 * a datagram, with want_dg) stays within the caps, and take the charge from
 * the shared cap. Since max_per_src <= max_bytes, evicting every other
 * datagram always makes room in this object's own caps; the shared one
 * other objects fill too. @return false when the shared cap has no room
 * even so (the charge not taken). */
static bool make_room(struct ip4_reass *r, const struct reass_dg *keep, uint64_t charge,
                      bool want_dg)
{
        uint64_t back = 0; /* freed by evictions, not yet given to the shared cap */

        for (;;) {
                struct reass_dg *victim = r->oldest;
                bool full =
                    mpnet_stat_read(&r->st.bytes_held) + charge > r->cfg.max_bytes ||
                    (want_dg && mpnet_stat_read(&r->st.datagrams_held) >= r->cfg.max_datagrams) ||
                    !shared_take(r, charge, &back);

                if (!full)
                        return true;
                if (victim != NULL && victim == keep)
                        victim = victim->newer;
                if (victim == NULL) {
                        shared_put(r, back);
                        return false;
                }
                mpnet_stat_add(&r->st.evicted_frags, victim->nfrags);
                back += dg_drop(r, victim, true);
                mpnet_stat_add(&r->st.evictions, 1);
                victim_prefetch(r);
        }
}

/* @return the bytes in p's segments; *segs their number. */
static uint64_t chain_len(const struct mpnet_pkt *p, uint64_t *segs)
{
        uint64_t n = 0;

        for (*segs = 0; p != NULL; p = p->next, ++*segs)
                n += p->len;
        return n;
}

/* @return IP4_REASS_DONE for a non-fragment, IP4_REASS_BAD, or IP4_REASS_HELD
 * with fi filled. */
static enum ip4_reass_result frag_parse(struct mpnet_pkt *p, struct frag_info *fi)
{
        const uint8_t *b = p->data;
        uint64_t segs;
        uint32_t tot, dlen;
        uint16_t fo;

        if (p->len < MPNET_IP4_HLEN || (b[0] >> 4) != 4)
                return IP4_REASS_BAD;
        fi->hlen = (b[0] & 0xfu) * 4;
        tot = mpnet_get_be16(b + 2);
        if (fi->hlen < MPNET_IP4_HLEN || fi->hlen > p->len || tot < fi->hlen || tot > p->pkt_len)
                return IP4_REASS_BAD;
        fo = mpnet_get_be16(b + 6);
        if ((fo & (IP4_F_MF | IP4_OFF_MASK)) == 0)
                return IP4_REASS_DONE;
        if (p->pkt_len > tot)
                mpnet_pkt_trim(p, tot);
        if (chain_len(p, &segs) != tot || segs != p->nb_segs)
                return IP4_REASS_BAD;
        dlen = tot - fi->hlen;
        fi->mf = (fo & IP4_F_MF) != 0;
        fi->off = (fo & IP4_OFF_MASK) * 8u;
        fi->end = fi->off + dlen;
        fi->id = mpnet_get_be16(b + 4);
        fi->proto = b[9];
        fi->src = mpnet_get_be32(b + 12);
        fi->dst = mpnet_get_be32(b + 16);
        fi->charge = segs * IP4_REASS_TRUESIZE;
        if (dlen == 0)
                return IP4_REASS_BAD;
        /* RFC 791 3.2: all fragments but the last carry a multiple of 8 bytes. */
        if (fi->mf && dlen % 8 != 0)
                return IP4_REASS_BAD;
        /* RFC 791 3.1: no datagram exceeds 65535 bytes ("ping of death"). */
        if (fi->end + fi->hlen > IP4_MAX_LEN)
                return IP4_REASS_BAD;
        return IP4_REASS_HELD;
}

static bool frag_same_data(const struct reass_frag *f, const struct mpnet_pkt *p,
                           const struct frag_info *fi)
{
        struct seg_cursor a = {f->p, f->hlen}, b = {p, fi->hlen};

        return cursor_equal(&a, &b, fi->end - fi->off);
}

/*
 * Check fi against the datagram's fragments. @return IP4_REASS_HELD with
 * *prevp the record to insert after (NULL: at the head), or IP4_REASS_DUP,
 * IP4_REASS_OVERLAP, IP4_REASS_CONFLICT.
 */
static enum ip4_reass_result frag_check(const struct reass_dg *dg, const struct mpnet_pkt *p,
                                        const struct frag_info *fi, struct reass_frag **prevp)
{
        struct reass_frag *prev = NULL, *cur, *t = dg->tail;

        /* RFC 791 3.2: the fragment without MF fixes the datagram's length;
         * every fragment must agree with it. A held fragment with MF ending
         * where a last one ends contradicts it too. */
        if (!fi->mf) {
                if (dg->has_last ? fi->end != dg->total : t->end >= fi->end)
                        return IP4_REASS_CONFLICT;
        } else if (dg->has_last && fi->end >= dg->total) {
                return IP4_REASS_CONFLICT;
        }
        if (fi->off >= t->end) {
                *prevp = t;
                return IP4_REASS_HELD;
        }
        for (cur = dg->frags; cur != NULL && cur->off < fi->off; cur = cur->next)
                prev = cur;
        if (cur != NULL && cur->off == fi->off && cur->end == fi->end)
                return frag_same_data(cur, p, fi) ? IP4_REASS_DUP : IP4_REASS_OVERLAP;
        if ((prev != NULL && prev->end > fi->off) || (cur != NULL && cur->off < fi->end))
                return IP4_REASS_OVERLAP;
        *prevp = prev;
        return IP4_REASS_HELD;
}

static void frag_insert(struct ip4_reass *r, struct reass_dg *dg, struct reass_frag *prev,
                        struct mpnet_pkt *p, const struct frag_info *fi)
{
        struct reass_frag *f = r->frag_free;

        r->frag_free = f->next;
        f->p = p;
        f->off = fi->off;
        f->end = fi->end;
        f->hlen = fi->hlen;
        if (prev == NULL) {
                f->next = dg->frags;
                dg->frags = f;
        } else {
                f->next = prev->next;
                prev->next = f;
        }
        if (f->next == NULL)
                dg->tail = f;
        if (!fi->mf) {
                dg->has_last = true;
                dg->total = fi->end;
        }
        dg->have += fi->end - fi->off;
        dg->nfrags++;
        dg->bytes += fi->charge;
        dg->sp->bytes += fi->charge;
        mpnet_stat_add(&r->st.bytes_held, fi->charge);
}

/* Chain the fragments of a complete datagram behind the offset-0 one. @return
 * the datagram, or NULL when its header would make it exceed 65535 bytes. */
static struct mpnet_pkt *dg_build(struct reass_dg *dg)
{
        struct reass_frag *f = dg->frags;
        struct mpnet_pkt *head = f->p, *tail;
        uint32_t len = f->hlen + dg->total, segs = head->nb_segs;
        uint8_t *b = head->data;

        if (len > IP4_MAX_LEN || dg->bytes / IP4_REASS_TRUESIZE > UINT16_MAX)
                return NULL;
        for (tail = head; tail->next != NULL; tail = tail->next)
                ;
        for (f = f->next; f != NULL; f = f->next) {
                struct mpnet_pkt *q = f->p;

                mpnet_pkt_adj(q, f->hlen);
                if (q->len == 0 && q->next != NULL) {
                        struct mpnet_pkt *rest = q->next;

                        rest->nb_segs = (uint16_t)(q->nb_segs - 1);
                        q->next = NULL;
                        mpnet_pkt_free(q);
                        q = rest;
                }
                f->p = NULL;
                segs += q->nb_segs;
                tail->next = q;
                for (tail = q; tail->next != NULL; tail = tail->next)
                        ;
        }
        dg->frags->p = NULL;
        ip4_hdr_finish(b, dg->frags->hlen, len,
                       (uint16_t)(mpnet_get_be16(b + 6) & (IP4_F_RESERVED | IP4_F_DF)));
        head->pkt_len = len;
        head->nb_segs = (uint16_t)segs;
        /* A link can only have checked the L4 checksum of a whole datagram. */
        head->ol_flags &= ~MPNET_PKT_F_L4_CSUM_OK;
        return head;
}

/* Add a parsed fragment. p is kept (HELD), returned in *done (DONE) or freed. */
static enum ip4_reass_result reass_add(struct ip4_reass *r, struct mpnet_pkt *p,
                                       const struct frag_info *fi, uint64_t now,
                                       struct mpnet_pkt **done)
{
        uint64_t h = dg_hash(r, fi->src, fi->dst, fi->id, fi->proto);
        struct reass_dg *dg = dg_lookup(r, fi, h);
        struct reass_frag *prev = NULL;
        struct reass_src *sp;
        enum ip4_reass_result res;

        if (dg == NULL) {
                uint32_t sbucket;

                /* At a cap, the policy for a new datagram is ours (RFC 791
                 * 3.2 and RFC 1122 3.3.2 set none): the admit hook decides
                 * whether it may evict the oldest, so that a flood of
                 * datagrams that never complete is refused here, before
                 * any eviction or source lookup, and holds nothing new. */
                if (r->cfg.admit != NULL && room_short(r, fi->charge) &&
                    !r->cfg.admit(r->cfg.arg, fi->src)) {
                        mpnet_stat_add(&r->st.refused, 1);
                        goto cap;
                }
                sbucket = src_bucket(r, src_hash(r, fi->src));
                sp = src_lookup(r, fi->src, sbucket);
                if ((sp != NULL ? sp->bytes : 0) + fi->charge > r->cfg.max_per_src)
                        goto cap;
                if (!make_room(r, NULL, fi->charge, true))
                        goto cap;
                /* The eviction may have taken the source's last datagram,
                 * and its entry with it (back on the free list, no datagram). */
                if (sp != NULL && sp->ndg == 0)
                        sp = NULL;
                dg = dg_new(r, fi, p, now, h, sp, sbucket);
        } else {
                res = frag_check(dg, p, fi, &prev);
                if (res == IP4_REASS_DUP) {
                        mpnet_stat_add(&r->st.dup_drops, 1);
                        mpnet_pkt_free(p);
                        return res;
                }
                if (res != IP4_REASS_HELD) {
                        dg_release(r, dg, true);
                        mpnet_stat_add(res == IP4_REASS_OVERLAP ? &r->st.overlap_drops
                                                                : &r->st.conflict_drops,
                                       1);
                        mpnet_pkt_free(p);
                        return res;
                }
                /* A datagram that needs more fragments than allowed can never
                 * complete: free it now rather than at its timeout. */
                if (dg->nfrags >= r->cfg.max_frags) {
                        dg_release(r, dg, true);
                        goto cap;
                }
                if (dg->sp->bytes + fi->charge > r->cfg.max_per_src)
                        goto cap;
                if (!make_room(r, dg, fi->charge, false))
                        goto cap;
        }
        frag_insert(r, dg, prev, p, fi);
        if (!dg->has_last || dg->have != dg->total)
                return IP4_REASS_HELD;
        *done = dg_build(dg);
        if (*done == NULL) {
                dg_release(r, dg, true);
                mpnet_stat_add(&r->st.bad_drops, 1);
                return IP4_REASS_BAD; /* p went with dg */
        }
        dg_release(r, dg, false);
        mpnet_stat_add(&r->st.completed, 1);
        return IP4_REASS_DONE;
cap:
        mpnet_stat_add(&r->st.cap_drops, 1);
        mpnet_pkt_free(p);
        return IP4_REASS_CAP;
}

struct mpnet_pkt *ip4_reass_input(struct ip4_reass *r, struct mpnet_pkt *p, uint64_t now,
                                  enum ip4_reass_result *res)
{
        struct mpnet_pkt *done = NULL;
        struct frag_info fi;
        enum ip4_reass_result rv;

        if (r->oldest != NULL && r->oldest->expire <= now)
                ip4_reass_expire(r, now);
        rv = frag_parse(p, &fi);
        if (rv == IP4_REASS_DONE) {
                done = p;
                goto out;
        }
        mpnet_stat_add(&r->st.frags_in, 1);
        if (rv == IP4_REASS_BAD) {
                mpnet_stat_add(&r->st.bad_drops, 1);
                mpnet_pkt_free(p);
                goto out;
        }
        if (r->dg_hash == NULL && reass_mem_init(r) != 0) {
                mpnet_stat_add(&r->st.cap_drops, 1);
                mpnet_pkt_free(p);
                rv = IP4_REASS_CAP;
                goto out;
        }
        rv = reass_add(r, p, &fi, now, &done);
out:
        if (res != NULL)
                *res = rv;
        return done;
}

/*
 * The refusal before the table's own work (ip4-local, per vector): only a
 * case whose every step ip4_reass_input() would take the same way, and
 * cheaply told. p must be one buffer with a 20-byte header (no options),
 * its total length its length, its fragment fields valid (frag_parse's
 * checks); the tables made; a new datagram of one buffer short of room
 * (room_short; the datagram cap binds first under a flood, so it is
 * tested first); no datagram due to time out (input would expire it
 * first, perhaps making room); no datagram of p's key held (its chain's
 * filter). Anything else: false, and ip4_reass_input() decides.
 */
bool ip4_reass_refusable(const struct ip4_reass *r, const struct mpnet_pkt *p, uint64_t now,
                         uint32_t *src)
{
        const uint8_t *b = p->data;
        struct frag_info fi;
        uint32_t tot, end, a;
        uint16_t fo;
        uint64_t h;

        if (r->dg_hash == NULL || p->next != NULL || p->nb_segs != 1 || p->len < MPNET_IP4_HLEN ||
            b[0] != 0x45)
                return false;
        tot = mpnet_get_be16(b + 2);
        fo = mpnet_get_be16(b + 6);
        end = (fo & IP4_OFF_MASK) * 8u + tot; /* header included */
        if ((fo & (IP4_F_MF | IP4_OFF_MASK)) == 0 || tot != p->len || tot != p->pkt_len ||
            tot == MPNET_IP4_HLEN || ((fo & IP4_F_MF) && (tot - MPNET_IP4_HLEN) % 8 != 0) ||
            end > IP4_MAX_LEN)
                return false;
        if (mpnet_stat_read(&r->st.datagrams_held) < r->cfg.max_datagrams &&
            !room_short(r, IP4_REASS_TRUESIZE))
                return false;
        if (r->oldest != NULL && r->oldest->expire <= now)
                return false;
        a = mpnet_get_be32(b + 12);
        fi.src = a;
        fi.dst = mpnet_get_be32(b + 16);
        fi.id = mpnet_get_be16(b + 4);
        fi.proto = b[9];
        h = dg_hash(r, a, fi.dst, fi.id, fi.proto);
        /* The filter's answer is exact only when no: both bits set (other
         * datagrams of the four chains, about one fragment in 190 at a
         * full table) is settled here by the chain, as dg_lookup() would,
         * not by the whole path through the table, which cost those few
         * more than all the others' refusals. */
        if (dg_lookup(r, &fi, h) != NULL)
                return false;
        *src = a;
        return true;
}

void ip4_reass_count_refused(struct ip4_reass *r, uint64_t n)
{
        mpnet_stat_add(&r->st.frags_in, n);
        mpnet_stat_add(&r->st.refused, n);
        mpnet_stat_add(&r->st.cap_drops, n);
}

unsigned ip4_reass_expire(struct ip4_reass *r, uint64_t now)
{
        struct reass_dg *dg;
        unsigned n = 0;

        while ((dg = r->oldest) != NULL && dg->expire <= now) {
                /* RFC 1122 3.3.2: time exceeded only if fragment zero arrived. */
                if (r->cfg.expired != NULL && dg->frags->off == 0)
                        r->cfg.expired(r->cfg.arg, dg->frags->p);
                dg_release(r, dg, true);
                mpnet_stat_add(&r->st.timeouts, 1);
                n++;
        }
        return n;
}

uint64_t ip4_reass_next_expiry(const struct ip4_reass *r)
{
        return r->oldest != NULL ? r->oldest->expire : MPNET_TIME_NEVER;
}

void ip4_reass_get_stats(const struct ip4_reass *r, struct ip4_reass_stats *st)
{
        st->frags_in = mpnet_stat_read(&r->st.frags_in);
        st->completed = mpnet_stat_read(&r->st.completed);
        st->timeouts = mpnet_stat_read(&r->st.timeouts);
        st->overlap_drops = mpnet_stat_read(&r->st.overlap_drops);
        st->conflict_drops = mpnet_stat_read(&r->st.conflict_drops);
        st->dup_drops = mpnet_stat_read(&r->st.dup_drops);
        st->cap_drops = mpnet_stat_read(&r->st.cap_drops);
        st->evictions = mpnet_stat_read(&r->st.evictions);
        st->evicted_frags = mpnet_stat_read(&r->st.evicted_frags);
        st->refused = mpnet_stat_read(&r->st.refused);
        st->bad_drops = mpnet_stat_read(&r->st.bad_drops);
        st->bytes_held = mpnet_stat_read(&r->st.bytes_held);
        st->datagrams_held = mpnet_stat_read(&r->st.datagrams_held);
        st->max_bytes = r->cfg.max_bytes;
        st->max_datagrams = r->cfg.max_datagrams;
}

uint64_t ip4_reass_evicted_frags(const struct ip4_reass *r)
{
        return mpnet_stat_read(&r->st.evicted_frags);
}

const char *ip4_reass_result_str(enum ip4_reass_result res)
{
        switch (res) {
        case IP4_REASS_DONE:
                return "done";
        case IP4_REASS_HELD:
                return "held";
        case IP4_REASS_DUP:
                return "duplicate";
        case IP4_REASS_BAD:
                return "bad";
        case IP4_REASS_CAP:
                return "cap";
        case IP4_REASS_OVERLAP:
                return "overlap";
        case IP4_REASS_CONFLICT:
                return "conflict";
        }
        return "?";
}
