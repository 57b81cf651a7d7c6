/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem: the in-process wire. Two ends; transmit queue q of one end is an SPSC
 * ring that is receive queue q of the other, so a frame crosses by pointer.
 *
 * Synchronisation: per queue, one transmitting thread and one receiving thread
 * (the ring's contract). Counters are single-writer stats.
 * Life cycle: each end holds a reference on the wire; the last end destroyed
 * drains the rings and frees the wire.
 *
 * Sleeping receivers: a receiver arms its queue (exchange armed to 1, then
 * is the ring still empty?) and sleeps on the queue's eventfd; a transmitter
 * that put frames into the ring exchanges armed to 0 and, if it was 1, writes
 * the eventfd. Both exchanges are acq_rel read-modify-writes of armed, so
 * they are ordered: either the transmitter's comes later and sees the 1, or
 * the receiver's comes later, reads the transmitter's 0 and with it the
 * frames (release/acquire), and does not sleep. No lost wake-up, and nothing
 * a C11 fence would need (ThreadSanitizer models these, not fences). The
 * transmitter's exchange is unconditional: a plain load of armed first could
 * be satisfied before its ring store is visible (store-load reordering, which
 * x86 does) and miss a receiver arming at that moment. One locked exchange
 * per queue per burst, on a line only the transmitter writes while traffic
 * flows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/stat.h"
#include "mpnet/link.h"
#include "mpnet/ring.h"
#include "mpnet/rss.h"

#define MEM_MAX_QUEUES 64

struct mem_qstats {
        mpnet_stat_t pkts, bytes, drops;
} __attribute__((aligned(MPNET_CACHE_LINE)));

/* A receive queue's sleeper (see the head comment). */
struct mem_wait {
        _Atomic int armed;
        _Atomic int efd; /* eventfd, made by the first arm; -1 before */
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct mem_wire;
static const struct mpnet_link_ops mem_ops;

struct mem_end {
        struct mpnet_link link;
        struct mem_wire *wire;
        int side; /* 0 = a, 1 = b */
        struct mem_qstats rx[MEM_MAX_QUEUES];
        struct mem_qstats tx[MEM_MAX_QUEUES];
        struct mem_wait wait[MEM_MAX_QUEUES]; /* receive queues' sleepers */
        struct mpnet_reta reta;               /* steers what this end receives (RSS wires) */
};

struct mem_wire {
        struct mem_end end[2];
        struct mpnet_ring **ring[2]; /* ring[s][q]: frames sent by side s */
        uint16_t n_queues;
        uint32_t max_frame;
        bool tso;       /* super-segments (MPNET_PKT_F_TSO) pass whole */
        uint32_t rx_ol; /* ol_flags every received frame gets (csum_offload) */
        _Atomic int refs;
        struct mpnet_rss *rss;          /* NULL: queue q feeds queue q */
        uint8_t key[MPNET_RSS_KEY_MAX]; /* rss's key, for mpnet_link_rss() */
        size_t key_len;
};

/* After frames went into the receive queues of rx in mask: wake the armed. */
static void mem_wake(struct mem_end *rx, uint64_t mask)
{
        while (mask != 0) {
                struct mem_wait *wt = &rx->wait[__builtin_ctzll(mask)];
                uint64_t one = 1;

                mask &= mask - 1;
                if (atomic_exchange_explicit(&wt->armed, 0, memory_order_acq_rel))
                        (void)!write(atomic_load_explicit(&wt->efd, memory_order_relaxed), &one,
                                     sizeof(one));
        }
}

static int mem_rx_wait_arm(struct mpnet_link *l, uint16_t q)
{
        struct mem_end *e = (struct mem_end *)l;
        struct mem_wait *wt;
        int fd;

        if (q >= e->wire->n_queues)
                return -EINVAL;
        wt = &e->wait[q];
        fd = atomic_load_explicit(&wt->efd, memory_order_relaxed);
        if (fd < 0) {
                fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
                if (fd < 0)
                        return -ENOTSUP;
                atomic_store_explicit(&wt->efd, fd, memory_order_relaxed);
        } else {
                uint64_t v;

                (void)!read(fd, &v, sizeof(v)); /* an old wake-up */
        }
        (void)atomic_exchange_explicit(&wt->armed, 1, memory_order_acq_rel);
        if (mpnet_ring_count(e->wire->ring[!e->side][q]) != 0) {
                atomic_store_explicit(&wt->armed, 0, memory_order_relaxed);
                return -EAGAIN;
        }
        return fd;
}

static uint16_t mem_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct mem_end *e = (struct mem_end *)l;
        unsigned got;
        uint64_t bytes = 0;

        if (q >= e->wire->n_queues)
                return 0;
        got = mpnet_ring_dequeue_burst(e->wire->ring[!e->side][q], (void **)pkts, n);
        if (got == 0)
                return 0;
        /* The frames were written on the sender's core: ask for every
         * descriptor line of the burst at once (with intent to write where
         * the build targets PREFETCHW; a plain prefetch on baseline x86-64),
         * then for each frame's first data line while the descriptors
         * arrive, so the misses overlap instead of each waiting for the
         * one before it. */
        for (unsigned i = 0; i < got; i++)
                __builtin_prefetch(pkts[i], 1);
        for (unsigned i = 0; i < got; i++) {
                struct mpnet_pkt *p = pkts[i];

                __builtin_prefetch(p->data, 1);
                bytes += p->pkt_len;
                if (e->wire->rx_ol != 0)
                        p->ol_flags |= e->wire->rx_ol;
        }
        mpnet_stat_add(&e->rx[q].pkts, got);
        mpnet_stat_add(&e->rx[q].bytes, bytes);
        return (uint16_t)got;
}

/* RSS: each frame to the peer's queue its hash picks. The rings are MPSC,
 * as every transmit queue may feed every receive queue; a run of frames
 * for one queue (a flow's burst, the usual case) is one enqueue, one
 * compare-and-swap on the ring's head, rather than one a frame. */
/* Whether p is too long for w: over the MTU, unless a super-segment on a
 * wire with TSO (an IP datagram's 64 KiB at most after the Ethernet
 * header and a VLAN tag: IPv4's total length, or IPv6's payload length
 * and its 40-byte header, RFC 8200 3). */
static inline bool mem_oversize(const struct mem_wire *w, const struct mpnet_pkt *p)
{
        if (__builtin_expect(p->pkt_len <= w->max_frame, 1))
                return false;
        return !(w->tso && (p->ol_flags & MPNET_PKT_F_TSO) && p->pkt_len <= 65535 + 18 + 40 &&
                 p->tso_segsz != 0 && p->tso_segsz < w->max_frame);
}

static uint16_t mem_tx_rss(struct mem_end *e, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct mem_wire *w = e->wire;
        struct mem_end *peer = &w->end[!e->side];
        uint64_t bytes = 0, sent = 0, drops = 0, woke = 0;

        for (unsigned base = 0; base < n; base += MPNET_VEC_MAX) {
                struct mpnet_pkt *ok[MPNET_VEC_MAX];
                uint16_t rqs[MPNET_VEC_MAX];
                unsigned m = n - base < MPNET_VEC_MAX ? n - base : MPNET_VEC_MAX, k = 0;

                for (unsigned i = 0; i < m; i++) {
                        struct mpnet_pkt *p = pkts[base + i];
                        uint32_t h;
                        uint16_t rq;

                        if (mem_oversize(w, p)) {
                                mpnet_pkt_free(p);
                                drops++;
                                continue;
                        }
                        h = mpnet_rss_hash_eth(w->rss, p->data, p->len, NULL);
                        p->flow_hash = h;
                        p->ol_flags |= MPNET_PKT_F_FLOW_HASH;
                        rq = mpnet_rss_queue(&peer->reta, h);
                        ok[k] = p;
                        rqs[k++] = rq < w->n_queues ? rq : 0;
                }
                for (unsigned i = 0; i < k;) {
                        unsigned j = i + 1, got;
                        uint16_t rq = rqs[i];

                        bytes += ok[i]->pkt_len;
                        while (j < k && rqs[j] == rq)
                                bytes += ok[j++]->pkt_len;
                        /* Once pushed a frame is the reader's: counted before. */
                        got =
                            mpnet_ring_enqueue_burst(w->ring[e->side][rq], (void **)&ok[i], j - i);
                        for (unsigned x = i + got; x < j; x++)
                                bytes -= ok[x]->pkt_len; /* not pushed: still ours */
                        if (got < j - i) {
                                mpnet_pkt_free_bulk(&ok[i + got], j - i - got);
                                /* Every transmit queue feeds this receive queue. */
                                mpnet_stat_add_shared(&peer->rx[rq].drops, j - i - got);
                        }
                        sent += got;
                        if (got > 0)
                                woke |= 1ull << rq;
                        i = j;
                }
        }
        mpnet_stat_add(&e->tx[q].pkts, sent);
        mpnet_stat_add(&e->tx[q].bytes, bytes);
        mpnet_stat_add(&e->tx[q].drops, drops);
        if (woke != 0)
                mem_wake(peer, woke);
        return n;
}

static uint16_t mem_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct mem_end *e = (struct mem_end *)l;
        struct mem_wire *w = e->wire;
        struct mpnet_pkt *ok[MPNET_VEC_MAX];
        unsigned n_ok = 0, sent, taken = 0, drops = 0;
        uint64_t bytes = 0;

        if (q >= w->n_queues)
                return 0;
        if (w->rss != NULL)
                return mem_tx_rss(e, q, pkts, n);
        /* Oversized frames are taken and dropped; the rest go in order. The
         * caller keeps whatever does not fit in the ring. */
        while (taken < n) {
                n_ok = 0;
                for (; taken < n && n_ok < MPNET_VEC_MAX; taken++) {
                        if (mem_oversize(w, pkts[taken])) {
                                mpnet_pkt_free(pkts[taken]);
                                drops++;
                                continue;
                        }
                        bytes += pkts[taken]->pkt_len;
                        ok[n_ok++] = pkts[taken];
                }
                /* Once in the ring a packet is the receiver's: count before. */
                sent = mpnet_ring_enqueue_burst(w->ring[e->side][q], (void **)ok, n_ok);
                mpnet_stat_add(&e->tx[q].pkts, sent);
                if (sent < n_ok) {
                        /* Give back the unsent ones: compact them to the front of
                         * the caller's tail. */
                        unsigned keep = n_ok - sent;

                        for (unsigned i = sent; i < n_ok; i++)
                                bytes -= ok[i]->pkt_len;
                        memmove(&pkts[taken - keep], &ok[sent], keep * sizeof(*ok));
                        taken -= keep;
                        break;
                }
        }
        mpnet_stat_add(&e->tx[q].bytes, bytes);
        mpnet_stat_add(&e->tx[q].drops, drops);
        if (taken > drops)
                mem_wake(&w->end[!e->side], 1ull << q);
        return (uint16_t)taken;
}

static void mem_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct mem_end *e = (struct mem_end *)l;

        for (unsigned q = 0; q < e->wire->n_queues; q++) {
                st->rx_pkts += mpnet_stat_read(&e->rx[q].pkts);
                st->rx_bytes += mpnet_stat_read(&e->rx[q].bytes);
                st->rx_drops += mpnet_stat_read(&e->rx[q].drops);
                st->tx_pkts += mpnet_stat_read(&e->tx[q].pkts);
                st->tx_bytes += mpnet_stat_read(&e->tx[q].bytes);
                st->tx_drops += mpnet_stat_read(&e->tx[q].drops);
        }
}

static void wire_free(struct mem_wire *w)
{
        for (int s = 0; s < 2; s++) {
                for (unsigned q = 0; q < w->n_queues; q++) {
                        int fd = atomic_load_explicit(&w->end[s].wait[q].efd, memory_order_relaxed);

                        if (fd >= 0)
                                close(fd);
                }
                if (w->ring[s] == NULL)
                        continue;
                for (unsigned q = 0; q < w->n_queues; q++) {
                        void *p;

                        if (w->ring[s][q] == NULL)
                                continue;
                        while (mpnet_ring_dequeue_burst(w->ring[s][q], &p, 1) == 1)
                                mpnet_pkt_free(p);
                        mpnet_ring_destroy(w->ring[s][q]);
                }
                free(w->ring[s]);
        }
        free(w->rss);
        free(w);
}

struct mpnet_reta *mpnet_memwire_reta(struct mpnet_link *l)
{
        struct mem_end *e = (struct mem_end *)l;

        if (l == NULL || l->ops != &mem_ops || e->wire->rss == NULL)
                return NULL;
        return &e->reta;
}

static int mem_rss(struct mpnet_link *l, struct mpnet_link_rss *out)
{
        struct mem_end *e = (struct mem_end *)l;

        if (e->wire->rss == NULL)
                return -ENOTSUP;
        *out = (struct mpnet_link_rss){e->wire->key, e->wire->key_len, &e->reta};
        return 0;
}

static void mem_destroy(struct mpnet_link *l)
{
        struct mem_wire *w = ((struct mem_end *)l)->wire;

        if (atomic_fetch_sub(&w->refs, 1) == 1)
                wire_free(w);
}

static const struct mpnet_link_ops mem_ops = {
    .rx_burst = mem_rx_burst,
    .tx_burst = mem_tx_burst,
    .get_stats = mem_get_stats,
    .destroy = mem_destroy,
    .rx_wait_arm = mem_rx_wait_arm,
    .rss = mem_rss,
};

static int mac_is_zero(const uint8_t *m)
{
        return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

int mpnet_memwire_create(const struct mpnet_memwire_cfg *cfg, struct mpnet_link **a,
                         struct mpnet_link **b)
{
        static const struct mpnet_memwire_cfg defaults = {0};
        struct mem_wire *w;
        uint32_t ring_size, mtu;
        uint16_t nq;
        const char *name;

        if (cfg == NULL)
                cfg = &defaults;
        if (cfg->tso && !cfg->csum_offload)
                return -EINVAL; /* as a NIC's TSO needs its checksum offload */
        nq = cfg->n_queues ? cfg->n_queues : 1;
        ring_size = cfg->ring_size ? cfg->ring_size : 1024;
        mtu = cfg->mtu ? cfg->mtu : 1500;
        name = cfg->name ? cfg->name : "mem";
        if (nq > MEM_MAX_QUEUES || (ring_size & (ring_size - 1)) != 0 || mtu < 68 || mtu > 65535 ||
            a == NULL || b == NULL)
                return -EINVAL;
        if (posix_memalign((void **)&w, MPNET_CACHE_LINE, sizeof(*w)) != 0)
                return -ENOMEM;
        memset(w, 0, sizeof(*w));
        w->n_queues = nq;
        w->max_frame = mtu + 18;
        w->tso = cfg->tso;
        if (cfg->csum_offload)
                w->rx_ol = MPNET_PKT_F_L3_CSUM_OK | MPNET_PKT_F_L4_CSUM_OK;
        atomic_init(&w->refs, 2);
        for (int s = 0; s < 2; s++)
                for (unsigned q = 0; q < nq; q++)
                        atomic_init(&w->end[s].wait[q].efd, -1);
        if (cfg->rss) {
                const uint8_t *key = cfg->rss_key ? cfg->rss_key : mpnet_rss_key_sym;

                w->key_len = cfg->rss_key ? cfg->rss_key_len : MPNET_RSS_KEY_LEN;
                w->rss = aligned_alloc(64, sizeof(*w->rss));
                if (w->rss == NULL || mpnet_rss_init(w->rss, key, w->key_len) != 0 ||
                    mpnet_reta_init(&w->end[0].reta, 0, nq) != 0 ||
                    mpnet_reta_init(&w->end[1].reta, 0, nq) != 0) {
                        free(w->rss);
                        free(w);
                        return -EINVAL;
                }
                memcpy(w->key, key, w->key_len);
        }
        for (int s = 0; s < 2; s++) {
                struct mem_end *e = &w->end[s];
                const uint8_t *mac = s == 0 ? cfg->mac_a : cfg->mac_b;

                w->ring[s] = calloc(nq, sizeof(*w->ring[s]));
                if (w->ring[s] == NULL)
                        goto fail;
                for (unsigned q = 0; q < nq; q++) {
                        w->ring[s][q] = mpnet_ring_create(ring_size, cfg->rss ? MPNET_RING_MPSC
                                                                              : MPNET_RING_SPSC);
                        if (w->ring[s][q] == NULL)
                                goto fail;
                }
                e->wire = w;
                e->side = s;
                e->link.ops = &mem_ops;
                snprintf(e->link.name, sizeof(e->link.name), "%s-%c", name, 'a' + s);
                snprintf(e->link.info.kind, sizeof(e->link.info.kind), "mem");
                if (mac_is_zero(mac)) {
                        /* Locally administered unicast from the name, so a
                         * simulated run is the same every time. */
                        uint32_t h = 2166136261u;

                        for (const char *c = name; *c; c++)
                                h = (h ^ (uint8_t)*c) * 16777619u;
                        e->link.info.mac[0] = 0x02;
                        e->link.info.mac[1] = (uint8_t)(h >> 24);
                        e->link.info.mac[2] = (uint8_t)(h >> 16);
                        e->link.info.mac[3] = (uint8_t)(h >> 8);
                        e->link.info.mac[4] = (uint8_t)h;
                        e->link.info.mac[5] = (uint8_t)(0x0a + s);
                } else {
                        memcpy(e->link.info.mac, mac, 6);
                }
                e->link.info.mtu = mtu;
                e->link.info.n_rxq = e->link.info.n_txq = nq;
                if (cfg->csum_offload)
                        e->link.info.offloads = MPNET_LINK_OFF_RX_CSUM | MPNET_LINK_OFF_TX_CSUM;
                if (cfg->tso)
                        e->link.info.offloads |= MPNET_LINK_OFF_TSO;
                e->link.info.speed_bps = cfg->speed_bps ? cfg->speed_bps : 10000000000ull;
        }
        *a = &w->end[0].link;
        *b = &w->end[1].link;
        return 0;
fail:
        wire_free(w);
        return -ENOMEM;
}
