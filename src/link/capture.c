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
 * Sessions: a capture link may be made without a file
 * (mpnet_capture_wrap()) and pass frames straight through until a session
 * starts (mpnet_capture_start(): a file, optionally a classic BPF filter,
 * include/mpnet/bpf.h, and a frame count), which mpnet_capture_stop() ends;
 * mpnetd wraps every link so, and `mpnetctl capture` starts and stops them.
 * The filter runs where the frame is tapped, on the thread of the queue,
 * over the frame's first buffer (a chained jumbo frame's headers are all in
 * it; a load past it refuses the frame, as bpf(4) does past its buffer).
 * The filter's return value is the snap length.
 *
 * Synchronisation: each queue has its own staging buffer, used only by the
 * thread that owns that queue's rx (or tx). A burst's records reach the file
 * in one fwrite(), and POSIX stdio locks the stream for each call, so bursts
 * from different threads never interleave within a record. Records of
 * different queues may appear out of time order. The session is one
 * pointer: a burst that finds it set marks its queue busy, then loads it
 * again (both sequentially consistent); stop clears the pointer, then waits
 * until no queue is busy (Dekker's pattern: a burst either sees the pointer
 * cleared or is seen busy), so the file is closed after the last record.
 * An idle link pays one relaxed load per burst. A frame count is shared by
 * the queues: a frame takes a slot before it is staged and gives it back
 * when the inner link does not take it (tx), so at most count records are
 * written.
 * Life cycle: the capture link owns the inner link and the session's file;
 * stop (and destroy) flushes and closes the file; destroy then destroys the
 * inner link. Start and stop are one thread's (the control thread's).
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/bpf.h"
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
        bool staged[MPNET_VEC_MAX];            /* whether it has a record (tx) */
        atomic_uint busy;                      /* a burst uses the session */
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct cap_session {
        FILE *f;
        enum mpnet_capture_format fmt;
        struct mpnet_clock *clock; /* NULL: CLOCK_MONOTONIC */
        struct mpnet_bpf_insn *prog;
        uint64_t limit; /* 0: none */
        _Atomic uint64_t seen, slots, captured;
        atomic_bool failed; /* a record could not be staged or written */
};

struct capture {
        struct mpnet_link link;
        struct mpnet_link *inner;
        _Atomic(struct cap_session *) sess;
        uint16_t n_rxq, n_txq;
        struct cap_stage *rxs; /* [n_rxq] */
        struct cap_stage *txs; /* [n_txq] */
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

static uint64_t cap_now(const struct cap_session *x)
{
        return x->clock != NULL ? mpnet_clock_now(x->clock) : mpnet_monotonic_ns();
}

static void sess_failed(struct cap_session *x)
{
        atomic_store_explicit(&x->failed, true, memory_order_relaxed);
}

/* The session for one burst on the queue whose stage s is, or NULL; a
 * non-NULL session stays open until sess_leave(). */
static struct cap_session *sess_enter(struct capture *c, struct cap_stage *s)
{
        struct cap_session *x;

        if (atomic_load_explicit(&c->sess, memory_order_relaxed) == NULL)
                return NULL;
        atomic_store_explicit(&s->busy, 1, memory_order_seq_cst);
        x = atomic_load_explicit(&c->sess, memory_order_seq_cst);
        if (x == NULL)
                atomic_store_explicit(&s->busy, 0, memory_order_release);
        return x;
}

static void sess_leave(struct cap_stage *s)
{
        atomic_store_explicit(&s->busy, 0, memory_order_release);
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

/* How many bytes of p to record: 0 when the filter refuses it or the
 * count is reached (a slot is taken otherwise). */
static uint32_t frame_keep(struct cap_session *x, const struct mpnet_pkt *p)
{
        uint32_t keep = p->pkt_len < CAP_SNAPLEN ? p->pkt_len : CAP_SNAPLEN;

        atomic_fetch_add_explicit(&x->seen, 1, memory_order_relaxed);
        if (x->prog != NULL) {
                uint32_t snap = mpnet_bpf_run(x->prog, p->data, p->pkt_len, p->len);

                if (snap == 0)
                        return 0;
                keep = snap < keep ? snap : keep;
        }
        if (x->limit != 0 &&
            atomic_fetch_add_explicit(&x->slots, 1, memory_order_relaxed) >= x->limit) {
                atomic_fetch_sub_explicit(&x->slots, 1, memory_order_relaxed);
                return 0;
        }
        return keep;
}

static void slot_give_back(struct cap_session *x)
{
        if (x->limit != 0)
                atomic_fetch_sub_explicit(&x->slots, 1, memory_order_relaxed);
}

/* Append one frame's record to s. @return 1 staged, 0 not wanted, or a
 * negative errno (the frame is counted failed). */
static int stage_frame(struct cap_session *x, struct cap_stage *s, const struct mpnet_pkt *p,
                       uint64_t ts, uint32_t dir)
{
        uint32_t caplen = frame_keep(x, p);
        size_t rec = x->fmt == MPNET_CAPTURE_PCAP ? PCAP_REC_HDR + caplen
                                                  : EPB_FIXED + pad4(caplen) + EPB_TRAILER;
        uint8_t *b;

        if (caplen == 0)
                return 0;
        if (stage_reserve(s, rec) != 0) {
                slot_give_back(x);
                return -ENOMEM;
        }
        b = s->b + s->len;
        if (x->fmt == MPNET_CAPTURE_PCAP) {
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
        if (mpnet_pkt_read(p, 0, b, caplen) != 0) {
                slot_give_back(x);
                return -EINVAL; /* chain shorter than pkt_len says: not staged */
        }
        b += caplen;
        if (x->fmt == MPNET_CAPTURE_PCAPNG) {
                memset(b, 0, pad4(caplen) - caplen);
                b += pad4(caplen) - caplen;
                b = put_opt(b, PCAPNG_EPB_FLAGS, &dir, 4);
                b = put32(b, PCAPNG_OPT_END);
                put32(b, (uint32_t)rec);
        }
        s->len += rec;
        return 1;
}

static void cap_write(struct cap_session *x, const void *b, size_t n)
{
        if (n > 0 && fwrite(b, 1, n, x->f) != n)
                sess_failed(x);
}

static uint16_t cap_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct capture *c = (struct capture *)l;
        struct cap_session *x;
        struct cap_stage *s;
        uint16_t got;
        uint64_t ts, staged = 0;

        if (q >= c->n_rxq)
                return 0;
        got = mpnet_link_rx_burst(c->inner, q, pkts, n);
        if (got == 0)
                return 0;
        s = &c->rxs[q];
        x = sess_enter(c, s);
        if (x == NULL)
                return got;
        s->len = 0;
        ts = cap_now(x);
        for (uint16_t i = 0; i < got; i++) {
                int r = stage_frame(x, s, pkts[i], ts, EPB_FLAG_INBOUND);

                if (r < 0)
                        sess_failed(x);
                staged += r > 0;
                if ((i + 1u) % MPNET_VEC_MAX == 0 || i + 1u == got) {
                        /* A vector at a time bounds the staging buffer. */
                        cap_write(x, s->b, s->len);
                        s->len = 0;
                }
        }
        atomic_fetch_add_explicit(&x->captured, staged, memory_order_relaxed);
        sess_leave(s);
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
static void write_taken(struct cap_session *x, struct cap_stage *s, struct mpnet_pkt *const *after,
                        uint16_t chunk, uint16_t sent)
{
        size_t run = 0; /* start of the run of records to write */
        uint64_t staged = 0;

        for (uint16_t i = 0; i < chunk; i++) {
                size_t start = i > 0 ? s->end[i - 1] : 0;

                if (!s->staged[i])
                        continue;
                if (sent < chunk && kept_by_caller(after + sent, chunk - sent, s->orig[i])) {
                        cap_write(x, s->b + run, start - run);
                        run = s->end[i];
                        slot_give_back(x);
                } else {
                        staged++;
                }
        }
        cap_write(x, s->b + run, s->len - run);
        atomic_fetch_add_explicit(&x->captured, staged, memory_order_relaxed);
}

static uint16_t cap_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct capture *c = (struct capture *)l;
        struct cap_session *x;
        struct cap_stage *s;
        uint16_t done = 0;
        uint64_t ts;

        if (q >= c->n_txq)
                return 0;
        s = &c->txs[q];
        x = sess_enter(c, s);
        if (x == NULL)
                return mpnet_link_tx_burst(c->inner, q, pkts, n);
        ts = cap_now(x);
        while (done < n) {
                uint32_t left = (uint32_t)(n - done);
                uint16_t chunk = (uint16_t)(left < MPNET_VEC_MAX ? left : MPNET_VEC_MAX), sent;

                s->len = 0;
                for (uint16_t i = 0; i < chunk; i++) {
                        int r = stage_frame(x, s, pkts[done + i], ts, EPB_FLAG_OUTBOUND);

                        if (r < 0)
                                sess_failed(x);
                        s->staged[i] = r > 0;
                        s->end[i] = s->len;
                        s->orig[i] = pkts[done + i];
                }
                sent = mpnet_link_tx_burst(c->inner, q, pkts + done, chunk);
                write_taken(x, s, pkts + done, chunk, sent);
                done += sent;
                if (sent < chunk)
                        break;
        }
        sess_leave(s);
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

/* Flush and close a session's file and free it. @return 0, or -EIO when
 * a record is missing from the file. */
static int sess_free(struct cap_session *x)
{
        bool failed = atomic_load_explicit(&x->failed, memory_order_relaxed);

        if (fflush(x->f) != 0 || ferror(x->f))
                failed = true;
        if (fclose(x->f) != 0)
                failed = true;
        free(x->prog);
        free(x);
        return failed ? -EIO : 0;
}

static void sess_stats(struct cap_session *x, struct mpnet_capture_stats *st)
{
        st->seen = atomic_load_explicit(&x->seen, memory_order_relaxed);
        st->captured = atomic_load_explicit(&x->captured, memory_order_relaxed);
        st->done = x->limit != 0 && st->captured >= x->limit;
}

static void cap_destroy(struct mpnet_link *l)
{
        struct capture *c = (struct capture *)l;

        if (mpnet_capture_stop(l, NULL) == -EIO)
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

/* The inner link's steering is ours. */
static int cap_rss(struct mpnet_link *l, struct mpnet_link_rss *out)
{
        return mpnet_link_rss(((struct capture *)l)->inner, out);
}

static const struct mpnet_link_ops cap_ops = {
    .rx_burst = cap_rx_burst,
    .tx_burst = cap_tx_burst,
    .next_event = cap_next_event,
    .get_stats = cap_get_stats,
    .destroy = cap_destroy,
    .rx_wait_arm = cap_rx_wait_arm,
    .carrier = cap_carrier,
    .rss = cap_rss,
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

struct mpnet_link *mpnet_capture_wrap(struct mpnet_link *inner)
{
        struct capture *c;

        if (inner == NULL) {
                errno = EINVAL;
                return NULL;
        }
        c = calloc(1, sizeof(*c));
        if (c == NULL)
                return NULL;
        c->inner = inner;
        c->n_rxq = inner->info.n_rxq ? inner->info.n_rxq : 1;
        c->n_txq = inner->info.n_txq ? inner->info.n_txq : 1;
        atomic_init(&c->sess, NULL);
        c->rxs = stages_alloc(c->n_rxq);
        c->txs = stages_alloc(c->n_txq);
        if (c->rxs == NULL || c->txs == NULL) {
                cap_free(c);
                errno = ENOMEM;
                return NULL;
        }
        c->link.ops = &cap_ops;
        c->link.info = inner->info;
        snprintf(c->link.info.kind, sizeof(c->link.info.kind), "capture");
        memcpy(c->link.name, inner->name, sizeof(c->link.name));
        return &c->link;
}

static int __attribute__((format(printf, 4, 5)))
refuse(int err, char *why, size_t n, const char *fmt, ...)
{
        va_list ap;

        if (why != NULL && n > 0) {
                va_start(ap, fmt);
                vsnprintf(why, n, fmt, ap);
                va_end(ap);
        }
        return err;
}

static int sess_filter(struct cap_session *x, const struct mpnet_capture_cfg *cfg, char *why,
                       size_t why_len)
{
        int err;

        if (cfg->filter == NULL)
                return 0;
        err = mpnet_bpf_validate(cfg->filter, cfg->filter_len, why, why_len);
        if (err != 0)
                return err;
        x->prog = malloc(cfg->filter_len * sizeof(*x->prog));
        if (x->prog == NULL)
                return refuse(-ENOMEM, why, why_len, "out of memory");
        memcpy(x->prog, cfg->filter, cfg->filter_len * sizeof(*x->prog));
        return 0;
}

int mpnet_capture_start(struct mpnet_link *l, const struct mpnet_capture_cfg *cfg, char *why,
                        size_t why_len)
{
        struct capture *c = (struct capture *)l;
        struct cap_session *x;
        int err;

        if (l == NULL || l->ops != &cap_ops || cfg == NULL || cfg->path == NULL ||
            (cfg->fmt != MPNET_CAPTURE_PCAP && cfg->fmt != MPNET_CAPTURE_PCAPNG))
                return refuse(-EINVAL, why, why_len, "not a capture link, or no file");
        if (atomic_load_explicit(&c->sess, memory_order_relaxed) != NULL)
                return refuse(-EBUSY, why, why_len, "%s is being captured already", l->name);
        x = calloc(1, sizeof(*x));
        if (x == NULL)
                return refuse(-ENOMEM, why, why_len, "out of memory");
        x->fmt = cfg->fmt;
        x->clock = cfg->clock;
        x->limit = cfg->count;
        err = sess_filter(x, cfg, why, why_len);
        if (err != 0) {
                free(x);
                return err;
        }
        x->f = fopen(cfg->path, "wb");
        if (x->f == NULL) {
                err = -errno;
                free(x->prog);
                free(x);
                return refuse(err, why, why_len, "%s: %s", cfg->path, strerror(-err));
        }
        setvbuf(x->f, NULL, _IOFBF, 1u << 16);
        err = x->fmt == MPNET_CAPTURE_PCAP ? write_pcap_header(x->f)
                                           : write_pcapng_header(x->f, c->inner->name);
        if (err != 0) {
                sess_free(x);
                return refuse(err, why, why_len, "%s: cannot write", cfg->path);
        }
        atomic_store_explicit(&c->sess, x, memory_order_seq_cst);
        return 0;
}

static void stages_wait(struct cap_stage *s, uint16_t n)
{
        for (uint16_t q = 0; q < n; q++)
                while (atomic_load_explicit(&s[q].busy, memory_order_seq_cst) != 0)
                        sched_yield();
}

int mpnet_capture_stop(struct mpnet_link *l, struct mpnet_capture_stats *st)
{
        struct capture *c = (struct capture *)l;
        struct cap_session *x;

        if (l == NULL || l->ops != &cap_ops)
                return -EINVAL;
        x = atomic_exchange_explicit(&c->sess, NULL, memory_order_seq_cst);
        if (x == NULL)
                return -ENOENT;
        stages_wait(c->rxs, c->n_rxq);
        stages_wait(c->txs, c->n_txq);
        if (st != NULL)
                sess_stats(x, st);
        return sess_free(x);
}

int mpnet_capture_get_stats(struct mpnet_link *l, struct mpnet_capture_stats *st)
{
        struct capture *c = (struct capture *)l;
        struct cap_session *x;

        if (l == NULL || l->ops != &cap_ops)
                return -EINVAL;
        x = atomic_load_explicit(&c->sess, memory_order_acquire);
        if (x == NULL)
                return -ENOENT;
        sess_stats(x, st);
        return 0;
}

struct mpnet_link *mpnet_capture_create(struct mpnet_link *inner, const char *path,
                                        enum mpnet_capture_format fmt, struct mpnet_clock *clock)
{
        struct mpnet_capture_cfg cfg = {.path = path, .fmt = fmt, .clock = clock};
        struct mpnet_link *l;
        int err;

        if (inner == NULL || path == NULL ||
            (fmt != MPNET_CAPTURE_PCAP && fmt != MPNET_CAPTURE_PCAPNG)) {
                errno = EINVAL;
                return NULL;
        }
        l = mpnet_capture_wrap(inner);
        if (l == NULL)
                return NULL;
        err = mpnet_capture_start(l, &cfg, NULL, 0);
        if (err != 0) {
                cap_free((struct capture *)l);
                errno = -err;
                return NULL;
        }
        return l;
}
