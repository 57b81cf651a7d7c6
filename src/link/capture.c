/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture: a decorator that writes every frame a link receives or transmits
 * to a pcap or pcapng file, then passes it on unchanged.
 *
 * Formats: pcap with nanosecond timestamps (magic 0xa1b23c4d, libpcap >= 1.5
 * and Wireshark read it), or pcapng (draft-ietf-opsawg-pcapng) with one
 * section, one interface (if_tsresol 9: nanoseconds) and an Enhanced Packet
 * Block per frame whose epb_flags give the direction. Both are written in host
 * byte order, which the magic numbers tell readers. LINKTYPE_ETHERNET (1),
 * snap length 262144; a longer frame is cut there and keeps its original
 * length in the record.
 *
 * What is written for tx: only the frames the inner link took (sent, or
 * dropped and counted by it), and each once. After inner tx_burst the taken
 * packets belong to the inner link, and the mem wire hands them to the other
 * end by pointer, whose thread may free them at once, so they are never
 * touched after the call. Each burst's records are therefore built in a
 * per-queue staging buffer before the call, and only those of the frames taken
 * are written after it; the frames the caller keeps are written when a later
 * burst takes them. The cost is one copy of each frame, which a debugging aid
 * can afford.
 *
 * Synchronisation: each queue has its own staging buffer, used only by the
 * thread that owns that queue's rx (or tx). A burst's records reach the file
 * in one fwrite(), and POSIX stdio locks the stream for each call, so bursts
 * from different threads never interleave within a record. Records of
 * different queues may appear out of time order.
 * Life cycle: the capture link owns the inner link and the file; destroy
 * flushes and closes the file, then destroys the inner link.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "mpnet/link.h"

#define CAP_SNAPLEN         262144u
#define LINKTYPE_ETHERNET   1u
#define PCAP_MAGIC_NS       0xa1b23c4du
#define PCAPNG_SHB          0x0a0d0d0au
#define PCAPNG_IDB          0x00000001u
#define PCAPNG_EPB          0x00000006u
#define PCAPNG_BOM          0x1a2b3c4du
#define PCAPNG_OPT_END      0u
#define PCAPNG_SHB_USERAPPL 4u
#define PCAPNG_IF_NAME      2u
#define PCAPNG_IF_TSRESOL   9u
#define PCAPNG_EPB_FLAGS    2u
#define EPB_FLAG_INBOUND    1u /* epb_flags bits 0-1: direction */
#define EPB_FLAG_OUTBOUND   2u
/* EPB: type, length, interface, ts high, ts low, captured and original
 * lengths (28), then the padded data, then epb_flags (8), the end of options
 * (4) and the length again (4). */
#define EPB_FIXED    28u
#define EPB_TRAILER  16u
#define PCAP_REC_HDR 16u

struct cap_stage {
        uint8_t *b;
        size_t len, cap;
        size_t end[MPNET_VEC_MAX];             /* end of each staged record (tx) */
        struct mpnet_pkt *orig[MPNET_VEC_MAX]; /* the frame of each record (tx) */
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct capture {
        struct mpnet_link link;
        struct mpnet_link *inner;
        FILE *f;
        enum mpnet_capture_format fmt;
        struct mpnet_clock *clock; /* NULL: CLOCK_MONOTONIC */
        uint16_t n_rxq, n_txq;
        struct cap_stage *rxs; /* [n_rxq] */
        struct cap_stage *txs; /* [n_txq] */
        atomic_bool failed;    /* a record could not be staged or written */
};

static size_t pad4(size_t n)
{
        return (n + 3) & ~(size_t)3;
}

static uint8_t *put32(uint8_t *b, uint32_t v)
{
        memcpy(b, &v, 4);
        return b + 4;
}

static uint8_t *put16(uint8_t *b, uint16_t v)
{
        memcpy(b, &v, 2);
        return b + 2;
}

/* A pcapng option: code, length, value padded to 32 bits. */
static uint8_t *put_opt(uint8_t *b, uint16_t code, const void *v, uint16_t len)
{
        b = put16(b, code);
        b = put16(b, len);
        memset(b, 0, pad4(len));
        memcpy(b, v, len);
        return b + pad4(len);
}

static uint64_t cap_now(const struct capture *c)
{
        return c->clock != NULL ? mpnet_clock_now(c->clock) : mpnet_monotonic_ns();
}

static int stage_reserve(struct cap_stage *s, size_t n)
{
        size_t cap = s->cap ? s->cap : 16384;
        uint8_t *b;

        if (s->len + n <= s->cap)
                return 0;
        while (cap < s->len + n)
                cap *= 2;
        b = realloc(s->b, cap);
        if (b == NULL)
                return -ENOMEM;
        s->b = b;
        s->cap = cap;
        return 0;
}

/* Append one frame's record to s. */
static int stage_frame(struct capture *c, struct cap_stage *s, const struct mpnet_pkt *p,
                       uint64_t ts, uint32_t dir)
{
        uint32_t caplen = p->pkt_len < CAP_SNAPLEN ? p->pkt_len : CAP_SNAPLEN;
        size_t rec = c->fmt == MPNET_CAPTURE_PCAP ? PCAP_REC_HDR + caplen
                                                  : EPB_FIXED + pad4(caplen) + EPB_TRAILER;
        uint8_t *b;

        if (stage_reserve(s, rec) != 0)
                return -ENOMEM;
        b = s->b + s->len;
        if (c->fmt == MPNET_CAPTURE_PCAP) {
                b = put32(b, (uint32_t)(ts / MPNET_NS_PER_S));
                b = put32(b, (uint32_t)(ts % MPNET_NS_PER_S));
                b = put32(b, caplen);
                b = put32(b, p->pkt_len);
        } else {
                b = put32(b, PCAPNG_EPB);
                b = put32(b, (uint32_t)rec);
                b = put32(b, 0); /* interface 0 */
                b = put32(b, (uint32_t)(ts >> 32));
                b = put32(b, (uint32_t)ts);
                b = put32(b, caplen);
                b = put32(b, p->pkt_len);
        }
        if (mpnet_pkt_read(p, 0, b, caplen) != 0)
                return -EINVAL; /* chain shorter than pkt_len says: not staged */
        b += caplen;
        if (c->fmt == MPNET_CAPTURE_PCAPNG) {
                memset(b, 0, pad4(caplen) - caplen);
                b += pad4(caplen) - caplen;
                b = put_opt(b, PCAPNG_EPB_FLAGS, &dir, 4);
                b = put32(b, PCAPNG_OPT_END);
                put32(b, (uint32_t)rec);
        }
        s->len += rec;
        return 0;
}

static void cap_write(struct capture *c, const void *b, size_t n)
{
        if (n > 0 && fwrite(b, 1, n, c->f) != n)
                atomic_store_explicit(&c->failed, true, memory_order_relaxed);
}

static uint16_t cap_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct capture *c = (struct capture *)l;
        struct cap_stage *s;
        uint16_t got;
        uint64_t ts;

        if (q >= c->n_rxq)
                return 0;
        got = mpnet_link_rx_burst(c->inner, q, pkts, n);
        if (got == 0)
                return 0;
        s = &c->rxs[q];
        s->len = 0;
        ts = cap_now(c);
        for (uint16_t i = 0; i < got; i++) {
                if (stage_frame(c, s, pkts[i], ts, EPB_FLAG_INBOUND) != 0)
                        atomic_store_explicit(&c->failed, true, memory_order_relaxed);
                if ((i + 1u) % MPNET_VEC_MAX == 0 || i + 1u == got) {
                        /* A vector at a time bounds the staging buffer. */
                        cap_write(c, s->b, s->len);
                        s->len = 0;
                }
        }
        return got;
}

static bool kept_by_caller(struct mpnet_pkt *const *kept, unsigned n, const struct mpnet_pkt *p)
{
        for (unsigned i = 0; i < n; i++) {
                if (kept[i] == p)
                        return true;
        }
        return false;
}

/* Write the staged records of the frames the inner link took. Those it did
 * not are the ones the caller's array holds at [sent, chunk) after the call;
 * a link may move them there (mem compacts around frames it dropped), so they
 * are matched by pointer, never dereferenced. */
static void write_taken(struct capture *c, struct cap_stage *s, struct mpnet_pkt *const *after,
                        uint16_t chunk, uint16_t sent)
{
        size_t run = 0; /* start of the run of records to write */

        if (sent == chunk) {
                cap_write(c, s->b, s->len);
                return;
        }
        for (uint16_t i = 0; i < chunk; i++) {
                size_t start = i > 0 ? s->end[i - 1] : 0;

                if (kept_by_caller(after + sent, chunk - sent, s->orig[i])) {
                        cap_write(c, s->b + run, start - run);
                        run = s->end[i];
                }
        }
        cap_write(c, s->b + run, s->len - run);
}

static uint16_t cap_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct capture *c = (struct capture *)l;
        struct cap_stage *s;
        uint16_t done = 0;
        uint64_t ts;

        if (q >= c->n_txq)
                return 0;
        s = &c->txs[q];
        ts = cap_now(c);
        while (done < n) {
                uint32_t left = (uint32_t)(n - done);
                uint16_t chunk = (uint16_t)(left < MPNET_VEC_MAX ? left : MPNET_VEC_MAX), sent;

                s->len = 0;
                for (uint16_t i = 0; i < chunk; i++) {
                        if (stage_frame(c, s, pkts[done + i], ts, EPB_FLAG_OUTBOUND) != 0)
                                atomic_store_explicit(&c->failed, true, memory_order_relaxed);
                        s->end[i] = s->len;
                        s->orig[i] = pkts[done + i];
                }
                sent = mpnet_link_tx_burst(c->inner, q, pkts + done, chunk);
                write_taken(c, s, pkts + done, chunk, sent);
                done += sent;
                if (sent < chunk)
                        break;
        }
        return done;
}

static uint64_t cap_next_event(struct mpnet_link *l, uint64_t now)
{
        return mpnet_link_next_event(((struct capture *)l)->inner, now);
}

/* Capture holds nothing back: the inner link's wake-up is ours. */
static int cap_rx_wait_arm(struct mpnet_link *l, uint16_t q)
{
        return mpnet_link_rx_wait_arm(((struct capture *)l)->inner, q);
}

static void cap_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        mpnet_link_get_stats(((struct capture *)l)->inner, st);
}

static void cap_free(struct capture *c)
{
        for (unsigned q = 0; c->rxs != NULL && q < c->n_rxq; q++)
                free(c->rxs[q].b);
        for (unsigned q = 0; c->txs != NULL && q < c->n_txq; q++)
                free(c->txs[q].b);
        free(c->rxs);
        free(c->txs);
        free(c);
}

static void cap_destroy(struct mpnet_link *l)
{
        struct capture *c = (struct capture *)l;
        bool failed = atomic_load(&c->failed);

        if (fflush(c->f) != 0 || ferror(c->f))
                failed = true;
        if (fclose(c->f) != 0)
                failed = true;
        if (failed)
                fprintf(stderr, "mpnet: capture on %s: frames missing from the file\n", l->name);
        mpnet_link_destroy(c->inner);
        cap_free(c);
}

/* Reviving is the inner link's. */
static int cap_revive(struct mpnet_link *l)
{
        return mpnet_link_revive(((struct capture *)l)->inner);
}

/* The inner link's carrier is ours. */
static bool cap_carrier(struct mpnet_link *l)
{
        return mpnet_link_carrier(((struct capture *)l)->inner);
}

static const struct mpnet_link_ops cap_ops = {
    .rx_burst = cap_rx_burst,
    .tx_burst = cap_tx_burst,
    .next_event = cap_next_event,
    .get_stats = cap_get_stats,
    .destroy = cap_destroy,
    .rx_wait_arm = cap_rx_wait_arm,
    .carrier = cap_carrier,
    .revive = cap_revive,
};

static int write_pcap_header(FILE *f)
{
        uint8_t h[24], *b = h;

        b = put32(b, PCAP_MAGIC_NS);
        b = put16(b, 2); /* version 2.4 */
        b = put16(b, 4);
        b = put32(b, 0); /* thiszone */
        b = put32(b, 0); /* sigfigs */
        b = put32(b, CAP_SNAPLEN);
        put32(b, LINKTYPE_ETHERNET);
        return fwrite(h, 1, sizeof(h), f) == sizeof(h) ? 0 : -EIO;
}

static int write_pcapng_header(FILE *f, const char *ifname)
{
        static const char appl[] = "mpnet";
        const uint8_t tsresol = 9; /* 10^-9 s */
        uint8_t h[256], *b = h;
        size_t name_len = strnlen(ifname, MPNET_LINK_NAME_MAX);
        uint8_t *len_at;
        uint32_t len;

        /* Section Header Block; the section length is not given (-1). */
        b = put32(b, PCAPNG_SHB);
        len_at = b;
        b = put32(b, 0);
        b = put32(b, PCAPNG_BOM);
        b = put16(b, 1);
        b = put16(b, 0);
        b = put32(b, UINT32_MAX);
        b = put32(b, UINT32_MAX);
        b = put_opt(b, PCAPNG_SHB_USERAPPL, appl, sizeof(appl) - 1);
        b = put32(b, PCAPNG_OPT_END);
        len = (uint32_t)(b + 4 - h);
        put32(len_at, len);
        b = put32(b, len);

        /* Interface Description Block for interface 0. */
        {
                uint8_t *idb = b;

                b = put32(b, PCAPNG_IDB);
                len_at = b;
                b = put32(b, 0);
                b = put16(b, LINKTYPE_ETHERNET);
                b = put16(b, 0);
                b = put32(b, CAP_SNAPLEN);
                if (name_len > 0)
                        b = put_opt(b, PCAPNG_IF_NAME, ifname, (uint16_t)name_len);
                b = put_opt(b, PCAPNG_IF_TSRESOL, &tsresol, 1);
                b = put32(b, PCAPNG_OPT_END);
                len = (uint32_t)(b + 4 - idb);
                put32(len_at, len);
                b = put32(b, len);
        }
        return fwrite(h, 1, (size_t)(b - h), f) == (size_t)(b - h) ? 0 : -EIO;
}

static struct cap_stage *stages_alloc(uint16_t n)
{
        struct cap_stage *s = aligned_alloc(MPNET_CACHE_LINE, n * sizeof(*s));

        if (s != NULL)
                memset(s, 0, n * sizeof(*s));
        return s;
}

struct mpnet_link *mpnet_capture_create(struct mpnet_link *inner, const char *path,
                                        enum mpnet_capture_format fmt, struct mpnet_clock *clock)
{
        struct capture *c;
        int err;

        if (inner == NULL || path == NULL ||
            (fmt != MPNET_CAPTURE_PCAP && fmt != MPNET_CAPTURE_PCAPNG)) {
                errno = EINVAL;
                return NULL;
        }
        c = calloc(1, sizeof(*c));
        if (c == NULL)
                return NULL;
        c->inner = inner;
        c->fmt = fmt;
        c->clock = clock;
        c->n_rxq = inner->info.n_rxq ? inner->info.n_rxq : 1;
        c->n_txq = inner->info.n_txq ? inner->info.n_txq : 1;
        atomic_init(&c->failed, false);
        c->rxs = stages_alloc(c->n_rxq);
        c->txs = stages_alloc(c->n_txq);
        if (c->rxs == NULL || c->txs == NULL) {
                cap_free(c);
                errno = ENOMEM;
                return NULL;
        }
        c->f = fopen(path, "wb");
        if (c->f == NULL) {
                err = errno;
                cap_free(c);
                errno = err;
                return NULL;
        }
        setvbuf(c->f, NULL, _IOFBF, 1u << 16);
        err = fmt == MPNET_CAPTURE_PCAP ? write_pcap_header(c->f)
                                        : write_pcapng_header(c->f, inner->name);
        if (err != 0) {
                fclose(c->f);
                cap_free(c);
                errno = -err;
                return NULL;
        }
        c->link.ops = &cap_ops;
        c->link.info = inner->info;
        snprintf(c->link.info.kind, sizeof(c->link.info.kind), "capture");
        memcpy(c->link.name, inner->name, sizeof(c->link.name));
        return &c->link;
}
