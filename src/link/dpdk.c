/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpdk: one DPDK ethdev port as a link.
 *
 * Per link queue, one rx and one tx queue of the port. Received mbufs are
 * copied into pool buffers and freed at once; transmitted packets are copied
 * into mbufs of the process's pool, which the port frees once sent (a
 * net_ring peer frees them on receipt). Each queue has its own mempool cache
 * on each side, so neither thread needs to be an EAL lcore.
 *
 * Synchronisation: per queue one rx and one tx thread (link.h); each counter
 * has one writer. The EAL state is a process-wide atomic, as the EAL itself
 * is process-wide.
 * Life cycle: mpnet_dpdk_init() once; create takes the port with the ethdev
 * ownership API (so two links cannot share it), configures and starts it;
 * destroy drains its rx queues, stops it, gives it back, and removes a
 * virtual device that create hot-plugged.
 */
#define _GNU_SOURCE /* pthread_getaffinity_np */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "base/stat.h"
#include "mpnet/dpdk.h"
#include "mpnet/rss.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define DPDK_BURST        64u
#define DPDK_STASH        32u
#define DPDK_DEF_MBUFS    16383u
#define DPDK_DEF_DESC     1024u
#define DPDK_CACHE        256u
#define DPDK_DRAIN_BURSTS 256u /* 16 Ki mbufs */
#define DPDK_TX_SEGS      64u  /* mbufs of one frame: 64 KiB in 2 KiB ones */
#define ETH_VLAN_EXTRA    18u
#define DPDK_NAME_MAX     RTE_ETH_NAME_MAX_LEN
#define DPDK_RX_CSUM_ALL                                                                           \
        (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |                            \
         RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
#define DPDK_TX_CSUM_ALL                                                                           \
        (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |                            \
         RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
#define DPDK_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP)

enum { EAL_NONE = 0, EAL_BUSY, EAL_UP, EAL_FAILED };

/* Process-wide, as the EAL is. */
static _Atomic int eal_state;
static struct rte_mempool *mbuf_pool;
/* Kept for the life of the process, as the EAL may keep pointers into its
 * arguments; volatile, as nothing here reads it again. */
static char **volatile eal_argv;

struct dpdk_q {
        /* rx side (one thread) */
        struct rte_mempool_cache *rx_cache; /* where received mbufs go back */
        unsigned n_stash;
        struct mpnet_pkt *stash[DPDK_STASH];
        mpnet_stat_t rx_pkts, rx_bytes, rx_nobufs;
        /* tx side (one thread) */
        struct rte_mempool_cache *tx_cache __attribute__((aligned(MPNET_CACHE_LINE)));
        mpnet_stat_t tx_pkts, tx_bytes, tx_nombufs, tx_oversize, tx_bad_ol, tx_full, tx_hw_csum;
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct dpdk {
        struct mpnet_link link;
        struct mpnet_pool *pool;
        struct rte_eth_dev_owner owner;
        uint16_t port, nq;
        bool owned;
        bool hotplugged; /* create made the device; destroy removes it */
        bool rss, rss_key;
        uint32_t max_frame; /* mtu + 18 */
        uint32_t room;      /* data bytes of one mbuf */
        uint64_t rxoff, txoff, rss_hf;
        char devname[DPDK_NAME_MAX];
        struct dpdk_q q[];
};

static const struct mpnet_link_ops dpdk_ops;

static void __attribute__((format(printf, 3, 4)))
dpdk_msg(char *errbuf, size_t errbuf_len, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (errbuf != NULL && errbuf_len > 0) {
                vsnprintf(errbuf, errbuf_len, fmt, ap);
        } else {
                fputs("mpnet: ", stderr);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        va_end(ap);
}

/* ---- the EAL ------------------------------------------------------------- */

/*
 * The EAL's argv: "mpnet", then copies of the caller's arguments, then NULL;
 * after it the same pointers again, ours to free, as the EAL permutes and
 * overwrites entries of the first half.
 */
static void argv_free(char **v, int argc)
{
        if (v == NULL)
                return;
        for (int i = 0; i < argc + 1; i++)
                free(v[argc + 2 + i]);
        free(v);
}

static char **argv_make(const struct mpnet_dpdk_eal_cfg *cfg)
{
        int n = cfg->argc + 2;
        char **v = calloc(2 * (size_t)n, sizeof(*v));

        if (v == NULL)
                return NULL;
        for (int i = 0; i < cfg->argc + 1; i++) {
                const char *a = i == 0 ? "mpnet" : cfg->argv[i - 1];

                if (a == NULL || (v[i] = v[n + i] = strdup(a)) == NULL) {
                        argv_free(v, cfg->argc);
                        return NULL;
                }
        }
        return v;
}

static int eal_start(const struct mpnet_dpdk_eal_cfg *cfg)
{
        char **v = argv_make(cfg);
        cpu_set_t cpus;
        bool have_cpus;
        int rc;

        if (v == NULL) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: invalid or too many EAL arguments");
                return -EINVAL;
        }
        have_cpus = pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus) == 0;
        rc = rte_eal_init(cfg->argc + 1, v);
        if (rc < 0) {
                int e = rte_errno ? rte_errno : EINVAL;

                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: rte_eal_init: %s%s", rte_strerror(e),
                         e == EINVAL     ? " (bad EAL arguments; the EAL printed why)"
                         : e == EALREADY ? " (the EAL was initialised before, outside mpnet)"
                                         : "");
                argv_free(v, cfg->argc);
                return -e;
        }
        eal_argv = v;
        /* The EAL pinned this thread to its main lcore; threads the caller
         * starts later (workers) would inherit that. */
        if (have_cpus)
                pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
        mbuf_pool =
            rte_pktmbuf_pool_create("mpnet_mbufs", cfg->n_mbufs ? cfg->n_mbufs : DPDK_DEF_MBUFS,
                                    DPDK_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
        if (mbuf_pool == NULL) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len,
                         "dpdk: cannot make the mbuf pool: %s (give the EAL more memory: -m)",
                         rte_strerror(rte_errno));
                return -ENOMEM;
        }
        return 0;
}

int mpnet_dpdk_init(const struct mpnet_dpdk_eal_cfg *cfg)
{
        int expect = EAL_NONE, rc;

        if (cfg == NULL || cfg->argc < 0 || (cfg->argc > 0 && cfg->argv == NULL))
                return -EINVAL;
        if (!atomic_compare_exchange_strong(&eal_state, &expect, EAL_BUSY)) {
                static const char *const why[] = {
                    [EAL_BUSY] = "being initialised by another thread",
                    [EAL_UP] = "already initialised",
                    [EAL_FAILED] = "failed to initialise before and cannot be initialised again",
                };

                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: the EAL is %s", why[expect]);
                return expect == EAL_UP ? -EALREADY : -EBUSY;
        }
        rc = eal_start(cfg);
        /* The EAL takes another try only after it refused its arguments. */
        atomic_store(&eal_state, rc == 0 ? EAL_UP : rc == -EINVAL ? EAL_NONE : EAL_FAILED);
        return rc;
}

/* ---- receive -------------------------------------------------------------- */

static struct mpnet_pkt *stash_get(struct dpdk *d, struct dpdk_q *dq)
{
        if (dq->n_stash == 0)
                dq->n_stash = mpnet_pkt_alloc_bulk(d->pool, dq->stash, DPDK_STASH);
        return dq->n_stash > 0 ? dq->stash[--dq->n_stash] : NULL;
}

static uint32_t rx_flags(uint64_t ol)
{
        uint32_t f = 0;

        if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
                f |= MPNET_PKT_F_L3_CSUM_OK;
        if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
                f |= MPNET_PKT_F_L4_CSUM_OK;
        if (ol & RTE_MBUF_F_RX_RSS_HASH)
                f |= MPNET_PKT_F_FLOW_HASH;
        return f;
}

/* Copy one (possibly multi-segment) mbuf into a packet, a chain when it is
 * longer than one buffer. */
static struct mpnet_pkt *rx_copy(struct dpdk *d, struct dpdk_q *dq, const struct rte_mbuf *m)
{
        uint32_t len = rte_pktmbuf_pkt_len(m), off = 0;
        struct mpnet_pkt *head = stash_get(d, dq), *p = head;

        if (head == NULL)
                return NULL;
        for (;;) {
                uint32_t k = len - off < MPNET_PKT_DATA_SIZE ? len - off : MPNET_PKT_DATA_SIZE;
                const void *s = rte_pktmbuf_read(m, off, k, p->data);

                if (s != p->data)
                        memcpy(p->data, s, k);
                p->len = k;
                off += k;
                if (off == len)
                        break;
                if ((p->next = stash_get(d, dq)) == NULL) {
                        mpnet_pkt_free(head);
                        return NULL;
                }
                p = p->next;
                head->nb_segs++;
        }
        head->pkt_len = len;
        head->ol_flags = rx_flags(m->ol_flags);
        if (head->ol_flags & MPNET_PKT_F_FLOW_HASH)
                head->flow_hash = m->hash.rss;
        return head;
}

/*
 * The mbuf cache for this thread: an EAL or registered thread's own (lcore)
 * cache, shared by its rx and tx, so the mbufs it frees on receive are the
 * ones it transmits next, still in the CPU cache; any other thread's, the
 * queue's (rx and tx each their own, as they may be different threads).
 */
static struct rte_mempool_cache *mb_cache(struct rte_mempool_cache *queue_cache)
{
        struct rte_mempool_cache *c = rte_mempool_default_cache(mbuf_pool, rte_lcore_id());

        return c != NULL ? c : queue_cache;
}

/* Give received mbufs back through the thread's cache. */
static void rx_free(struct dpdk_q *dq, struct rte_mbuf **m, unsigned n)
{
        struct rte_mempool_cache *cache = mb_cache(dq->rx_cache);
        void *back[DPDK_BURST];
        unsigned k = 0;

        for (unsigned i = 0; i < n; i++) {
                struct rte_mbuf *seg = m[i];

                while (seg != NULL) {
                        struct rte_mbuf *next = seg->next;
                        struct rte_mbuf *f = rte_pktmbuf_prefree_seg(seg);

                        if (f != NULL && f->pool == mbuf_pool) {
                                back[k++] = f;
                                if (k == DPDK_BURST) {
                                        rte_mempool_generic_put(mbuf_pool, back, k, cache);
                                        k = 0;
                                }
                        } else if (f != NULL) {
                                rte_mempool_put(f->pool, f);
                        }
                        seg = next;
                }
        }
        if (k > 0)
                rte_mempool_generic_put(mbuf_pool, back, k, cache);
}

static uint16_t dpdk_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct dpdk *d = (struct dpdk *)l;
        struct rte_mbuf *m[DPDK_BURST];
        struct dpdk_q *dq;
        uint64_t bytes = 0;
        uint16_t got = 0;

        if (q >= d->nq)
                return 0;
        dq = &d->q[q];
        while (got < n) {
                uint16_t want = (uint16_t)(n - got < (int)DPDK_BURST ? n - got : (int)DPDK_BURST);
                uint16_t k = rte_eth_rx_burst(d->port, q, m, want);

                for (uint16_t i = 0; i < k; i++) {
                        struct mpnet_pkt *p = rx_copy(d, dq, m[i]);

                        if (p == NULL) {
                                mpnet_stat_add(&dq->rx_nobufs, 1);
                                continue;
                        }
                        bytes += p->pkt_len;
                        pkts[got++] = p;
                }
                rx_free(dq, m, k);
                if (k < want)
                        break;
        }
        if (got > 0) {
                mpnet_stat_add(&dq->rx_pkts, got);
                mpnet_stat_add(&dq->rx_bytes, bytes);
        }
        return got;
}

/* ---- transmit ------------------------------------------------------------- */

struct l4_loc {
        uint32_t l3, l4; /* offsets from the frame start */
        uint8_t proto;   /* 6, 17, or another protocol */
        bool v6;
        bool has_l4; /* an unfragmented TCP or UDP header lies inside */
};

/*
 * Find the IP header, and the TCP or UDP header of an unfragmented IPv4 or
 * IPv6 packet (no IPv6 extension headers), behind up to two VLAN tags.
 * @return 0, or -1 when the frame is not IP.
 */
static int frame_l4(const uint8_t *b, uint32_t n, struct l4_loc *o)
{
        uint32_t off = 12;
        uint16_t et;

        if (n < 14)
                return -1;
        et = mpnet_get_be16(b + off);
        for (int k = 0; k < 2 && (et == 0x8100 || et == 0x88a8); k++) {
                off += 4;
                if (n < off + 2)
                        return -1;
                et = mpnet_get_be16(b + off);
        }
        o->l3 = off + 2;
        o->has_l4 = false;
        if (et == 0x0800 && n >= o->l3 + 20 && (b[o->l3] >> 4) == 4 && (b[o->l3] & 15u) >= 5 &&
            n >= o->l3 + (b[o->l3] & 15u) * 4) {
                const uint8_t *ip = b + o->l3;

                o->v6 = false;
                o->l4 = o->l3 + (ip[0] & 15u) * 4;
                o->proto = ip[9];
                if ((mpnet_get_be16(ip + 6) & 0x3fff) != 0)
                        return 0;
        } else if (et == 0x86dd && n >= o->l3 + 40) {
                o->v6 = true;
                o->l4 = o->l3 + 40;
                o->proto = b[o->l3 + 6];
        } else {
                return -1;
        }
        o->has_l4 = (o->proto == 6 && n >= o->l4 + 20) || (o->proto == 17 && n >= o->l4 + 8);
        return 0;
}

/* Append n bytes to an mbuf chain whose segments each hold up to room. */
static void mb_write(struct rte_mbuf **cur, const uint8_t *s, uint32_t n, uint32_t room)
{
        while (n > 0) {
                struct rte_mbuf *m = *cur;
                uint32_t k = room - m->data_len;

                if (k == 0) {
                        *cur = m->next;
                        continue;
                }
                if (k > n)
                        k = n;
                memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), s, k);
                m->data_len = (uint16_t)(m->data_len + k);
                s += k;
                n -= k;
        }
}

/* Copy a packet into a chain of len bytes, its VLAN tag inserted
 * (IEEE 802.1Q 9.3). */
static void tx_copy(struct rte_mbuf *m, const struct mpnet_pkt *p, uint32_t room)
{
        struct rte_mbuf *cur = m;
        uint32_t skip = 0;

        if (p->ol_flags & MPNET_PKT_F_VLAN) {
                uint8_t h[16];

                mpnet_pkt_read(p, 0, h, 12);
                mpnet_put_be16(h + 12, 0x8100);
                mpnet_put_be16(h + 14, p->vlan_tci);
                mb_write(&cur, h, sizeof(h), room);
                skip = 12;
        }
        for (const struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                if (skip >= s->len) {
                        skip -= s->len;
                        continue;
                }
                mb_write(&cur, s->data + skip, s->len - skip, room);
                skip = 0;
        }
}

/*
 * The checksums the packet asks for: to the port where it does them, else in
 * software on the copy. @return 0, or -1 when the frame does not allow them.
 */
static int tx_csum(struct dpdk *d, struct dpdk_q *dq, struct rte_mbuf *m, uint32_t ol)
{
        uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
        uint64_t hw = 0;
        struct l4_loc o;

        if (frame_l4(b, m->data_len, &o) != 0)
                return -1;
        m->l2_len = o.l3;
        m->l3_len = o.l4 - o.l3;
        if (ol & MPNET_PKT_F_L3_CSUM_TX) {
                uint8_t *ip = b + o.l3;

                if (o.v6)
                        return -1;
                ip[10] = ip[11] = 0;
                if (d->txoff & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
                        hw |= RTE_MBUF_F_TX_IP_CKSUM;
                else
                        mpnet_put_be16(ip + 10, mpnet_csum(ip, m->l3_len));
        }
        if (ol & MPNET_PKT_F_L4_CSUM_TX) {
                uint64_t capa =
                    o.proto == 6 ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM : RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
                uint32_t field = o.l4 + (o.proto == 6 ? 16 : 6);
                uint16_t raw, c;

                if (!o.has_l4)
                        return -1;
                if (d->txoff & capa) {
                        hw |= o.proto == 6 ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM;
                } else {
                        /* The field holds the pseudo-header sum: sum from the
                         * L4 header to the end. */
                        if (rte_raw_cksum_mbuf(m, o.l4, m->pkt_len - o.l4, &raw) != 0)
                                return -1;
                        /* DPDK sums 16-bit words as they lie in memory:
                         * c is in network order already. */
                        c = (uint16_t)~raw;
                        if (o.proto == 17 && c == 0)
                                c = 0xffff; /* RFC 768 */
                        memcpy(b + field, &c, sizeof(c));
                }
        }
        if (hw != 0) {
                m->ol_flags |= hw | (o.v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4);
                mpnet_stat_add(&dq->tx_hw_csum, 1);
        }
        return 0;
}

enum { TX_OK = 0, TX_OVERSIZE, TX_BAD_OL, TX_NOMBUF };

/* Copy a packet into mbufs ready for the port. */
static int tx_prep(struct dpdk *d, struct dpdk_q *dq, const struct mpnet_pkt *p,
                   struct rte_mbuf **out)
{
        const uint32_t csum = MPNET_PKT_F_L3_CSUM_TX | MPNET_PKT_F_L4_CSUM_TX;
        uint32_t len = p->pkt_len + ((p->ol_flags & MPNET_PKT_F_VLAN) ? 4u : 0u);
        uint32_t nseg = (len + d->room - 1) / d->room;
        struct rte_mbuf *m[DPDK_TX_SEGS];

        if (p->ol_flags & MPNET_PKT_F_TSO) {
                return TX_BAD_OL;
        }
        if (len > d->max_frame || len == 0 || nseg > DPDK_TX_SEGS ||
            (nseg > 1 && !(d->txoff & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))) {
                return TX_OVERSIZE;
        }
        if (rte_mempool_generic_get(mbuf_pool, (void **)m, nseg, mb_cache(dq->tx_cache)) != 0) {
                mpnet_stat_add(&dq->tx_nombufs, 1);
                return TX_NOMBUF;
        }
        for (uint32_t i = 0; i < nseg; i++) {
                rte_pktmbuf_reset(m[i]);
                if (i > 0)
                        m[i - 1]->next = m[i];
        }
        m[0]->nb_segs = (uint16_t)nseg;
        m[0]->pkt_len = len;
        tx_copy(m[0], p, d->room);
        if ((p->ol_flags & csum) && tx_csum(d, dq, m[0], p->ol_flags) != 0) {
                rte_pktmbuf_free(m[0]);
                return TX_BAD_OL;
        }
        *out = m[0];
        return TX_OK;
}

/* Send up to DPDK_BURST packets. A packet that cannot go is dropped where it
 * stands, so what the caller keeps is a suffix. @return packets taken. */
static uint16_t tx_chunk(struct dpdk *d, struct dpdk_q *dq, uint16_t q, struct mpnet_pkt **pkts,
                         uint16_t n)
{
        struct rte_mbuf *m[DPDK_BURST];
        uint16_t at[DPDK_BURST];  /* the packet of each mbuf */
        uint32_t len[DPDK_BURST]; /* its length: once sent, the mbuf is the port's */
        uint8_t why[DPDK_BURST];  /* TX_* of each packet */
        uint16_t k = 0, i, sent, taken;
        uint64_t bytes = 0;

        for (i = 0; i < n; i++) {
                why[i] = (uint8_t)tx_prep(d, dq, pkts[i], &m[k]);
                if (why[i] == TX_NOMBUF)
                        break;
                if (why[i] == TX_OK) {
                        len[k] = rte_pktmbuf_pkt_len(m[k]);
                        at[k++] = i;
                }
        }
        sent = k > 0 ? rte_eth_tx_burst(d->port, q, m, k) : 0;
        taken = i;
        if (sent < k) {
                mpnet_stat_add(&dq->tx_full, 1);
                rte_pktmbuf_free_bulk(&m[sent], k - sent);
                taken = at[sent];
        }
        for (uint16_t j = 0; j < sent; j++)
                bytes += len[j];
        /* A dropped packet the caller gets back is offered again: count the
         * drops of those taken only. */
        for (uint16_t j = 0; j < taken; j++) {
                if (why[j] == TX_OVERSIZE)
                        mpnet_stat_add(&dq->tx_oversize, 1);
                else if (why[j] == TX_BAD_OL)
                        mpnet_stat_add(&dq->tx_bad_ol, 1);
        }
        mpnet_stat_add(&dq->tx_pkts, sent);
        mpnet_stat_add(&dq->tx_bytes, bytes);
        mpnet_pkt_free_bulk(pkts, taken);
        return taken;
}

static uint16_t dpdk_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct dpdk *d = (struct dpdk *)l;
        uint16_t done = 0;

        if (q >= d->nq)
                return 0;
        while (done < n) {
                uint16_t want = (uint16_t)(n - done < (int)DPDK_BURST ? n - done : (int)DPDK_BURST);
                uint16_t k = tx_chunk(d, &d->q[q], q, pkts + done, want);

                done += k;
                if (k < want)
                        break;
        }
        return done;
}

/* ---- stats, life cycle ----------------------------------------------------- */

static void dpdk_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct dpdk *d = (struct dpdk *)l;
        struct rte_eth_stats es;

        for (uint16_t q = 0; q < d->nq; q++) {
                struct dpdk_q *dq = &d->q[q];

                st->rx_pkts += mpnet_stat_read(&dq->rx_pkts);
                st->rx_bytes += mpnet_stat_read(&dq->rx_bytes);
                st->rx_drops += mpnet_stat_read(&dq->rx_nobufs);
                st->tx_pkts += mpnet_stat_read(&dq->tx_pkts);
                st->tx_bytes += mpnet_stat_read(&dq->tx_bytes);
                st->tx_drops += mpnet_stat_read(&dq->tx_oversize) + mpnet_stat_read(&dq->tx_bad_ol);
        }
        if (rte_eth_stats_get(d->port, &es) == 0) {
                st->rx_drops += es.imissed + es.rx_nombuf;
                st->tx_drops += es.oerrors;
        }
}

int mpnet_dpdk_get_stats(struct mpnet_link *l, struct mpnet_dpdk_stats *st)
{
        struct dpdk *d = (struct dpdk *)l;
        struct rte_eth_stats es;

        if (l == NULL || l->ops != &dpdk_ops || st == NULL)
                return -EINVAL;
        memset(st, 0, sizeof(*st));
        st->port_id = d->port;
        st->rss = d->rss;
        st->rss_key = d->rss_key;
        st->rss_hf = d->rss_hf;
        st->rx_offloads = d->rxoff;
        st->tx_offloads = d->txoff;
        for (uint16_t q = 0; q < d->nq; q++) {
                struct dpdk_q *dq = &d->q[q];

                st->rx_nobufs += mpnet_stat_read(&dq->rx_nobufs);
                st->tx_nombufs += mpnet_stat_read(&dq->tx_nombufs);
                st->tx_oversize += mpnet_stat_read(&dq->tx_oversize);
                st->tx_bad_ol += mpnet_stat_read(&dq->tx_bad_ol);
                st->tx_full += mpnet_stat_read(&dq->tx_full);
                st->tx_hw_csum += mpnet_stat_read(&dq->tx_hw_csum);
        }
        if (rte_eth_stats_get(d->port, &es) == 0) {
                st->port_imissed = es.imissed;
                st->port_ierrors = es.ierrors;
                st->port_oerrors = es.oerrors;
        }
        return 0;
}

static void dpdk_free(struct dpdk *d, bool started)
{
        for (uint16_t q = 0; started && q < d->nq; q++) {
                struct rte_mbuf *m[DPDK_BURST];
                uint16_t k;

                /* What a peer (net_ring) left for us goes back to the pool;
                 * bounded, as some ports (net_null) never run dry. */
                for (unsigned i = 0; i < DPDK_DRAIN_BURSTS; i++) {
                        k = rte_eth_rx_burst(d->port, q, m, DPDK_BURST);
                        if (k == 0)
                                break;
                        rte_pktmbuf_free_bulk(m, k);
                }
        }
        if (started)
                rte_eth_dev_stop(d->port);
        if (d->owned)
                rte_eth_dev_owner_unset(d->port, d->owner.id);
        if (d->hotplugged)
                rte_eal_hotplug_remove("vdev", d->devname);
        for (uint16_t q = 0; q < d->nq; q++) {
                struct dpdk_q *dq = &d->q[q];

                if (dq->rx_cache != NULL) {
                        rte_mempool_cache_flush(dq->rx_cache, mbuf_pool);
                        rte_mempool_cache_free(dq->rx_cache);
                }
                if (dq->tx_cache != NULL) {
                        rte_mempool_cache_flush(dq->tx_cache, mbuf_pool);
                        rte_mempool_cache_free(dq->tx_cache);
                }
                mpnet_pkt_free_bulk(dq->stash, dq->n_stash);
        }
        free(d);
}

static void dpdk_destroy(struct mpnet_link *l)
{
        dpdk_free((struct dpdk *)l, true);
}

/* The port's link status, without waiting for autonegotiation. */
static bool dpdk_carrier(struct mpnet_link *l)
{
        struct dpdk *d = (struct dpdk *)l;
        struct rte_eth_link link;

        if (rte_eth_link_get_nowait(d->port, &link) != 0)
                return true; /* the driver cannot tell: assume up */
        return link.link_status == RTE_ETH_LINK_UP;
}

static const struct mpnet_link_ops dpdk_ops = {
    .rx_burst = dpdk_rx_burst,
    .tx_burst = dpdk_tx_burst,
    .get_stats = dpdk_get_stats,
    .destroy = dpdk_destroy,
    .carrier = dpdk_carrier,
};

/* ---- create ----------------------------------------------------------------- */

/* Find the port by name, or create it as a virtual device. */
static int port_find(struct dpdk *d, const struct mpnet_dpdk_cfg *cfg)
{
        size_t n;
        int rc;

        if (cfg->port == NULL) {
                if (!rte_eth_dev_is_valid_port(cfg->port_id)) {
                        dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: no port %u", cfg->port_id);
                        return -ENODEV;
                }
                d->port = cfg->port_id;
                return rte_eth_dev_get_name_by_port(d->port, d->devname) == 0 ? 0 : -ENODEV;
        }
        n = strcspn(cfg->port, ",");
        if (n == 0 || n >= sizeof(d->devname)) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: bad port name \"%s\"", cfg->port);
                return -EINVAL;
        }
        memcpy(d->devname, cfg->port, n);
        d->devname[n] = '\0';
        if (rte_eth_dev_get_port_by_name(d->devname, &d->port) == 0)
                return 0;
        rc = rte_dev_probe(cfg->port);
        if (rc != 0 || rte_eth_dev_get_port_by_name(d->devname, &d->port) != 0) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len,
                         "dpdk: no port named %s, and it cannot be created as a device: %s",
                         d->devname, rc != 0 ? rte_strerror(-rc) : "no ethdev port appeared");
                if (rc == 0)
                        rte_eal_hotplug_remove("vdev", d->devname);
                return -ENODEV;
        }
        d->hotplugged = true;
        return 0;
}

/* RSS over IP, TCP and UDP with the symmetric key, when the port hashes. */
static void rss_conf(struct dpdk *d, const struct rte_eth_dev_info *di, struct rte_eth_conf *conf,
                     uint8_t *key)
{
        uint64_t hf = DPDK_RSS_HF & di->flow_type_rss_offloads;

        if (d->nq < 2 || hf == 0)
                return;
        conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf->rx_adv_conf.rss_conf.rss_hf = hf;
        d->rss = true;
        d->rss_hf = hf;
        if (di->hash_key_size > 0) {
                /* 0x6d5a repeated: symmetric at any even length (rss.h). */
                for (unsigned i = 0; i < di->hash_key_size; i++)
                        key[i] = mpnet_rss_key_sym[i % MPNET_RSS_KEY_LEN];
                conf->rx_adv_conf.rss_conf.rss_key = key;
                conf->rx_adv_conf.rss_conf.rss_key_len = di->hash_key_size;
                d->rss_key = true;
        }
        if (di->rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH)
                d->rxoff |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
}

static int port_configure(struct dpdk *d, const struct mpnet_dpdk_cfg *cfg)
{
        struct rte_eth_dev_info di;
        struct rte_eth_conf conf;
        uint8_t key[256];
        uint16_t mtu;
        int rc;

        rc = rte_eth_dev_info_get(d->port, &di);
        if (rc != 0) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: %s: device info: %s", d->devname,
                         rte_strerror(-rc));
                return rc;
        }
        if (d->nq > di.max_rx_queues || d->nq > di.max_tx_queues) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len,
                         "dpdk: %s: %u queues asked, the port has %u rx and %u tx", d->devname,
                         d->nq, di.max_rx_queues, di.max_tx_queues);
                return -EINVAL;
        }
        rc = rte_eth_dev_get_mtu(d->port, &mtu);
        if (rc != 0)
                return rc;
        if (cfg->mtu != 0)
                mtu = cfg->mtu;
        if (mtu < di.min_mtu || mtu > di.max_mtu) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: %s: MTU %u out of the port's %u..%u",
                         d->devname, mtu, di.min_mtu, di.max_mtu);
                return -EINVAL;
        }
        d->max_frame = mtu + ETH_VLAN_EXTRA;
        d->room = rte_pktmbuf_data_room_size(mbuf_pool) - RTE_PKTMBUF_HEADROOM;
        if (!(cfg->flags & MPNET_DPDK_F_NO_OFFLOAD)) {
                d->rxoff = DPDK_RX_CSUM_ALL & di.rx_offload_capa;
                d->txoff = DPDK_TX_CSUM_ALL & di.tx_offload_capa;
        }
        d->txoff |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS & di.tx_offload_capa;
        if (d->max_frame > d->room)
                d->rxoff |= RTE_ETH_RX_OFFLOAD_SCATTER & di.rx_offload_capa;
        memset(&conf, 0, sizeof(conf));
        rss_conf(d, &di, &conf, key);
        conf.rxmode.mtu = mtu; /* 0 would set 1500 */
        conf.rxmode.offloads = d->rxoff;
        conf.txmode.offloads = d->txoff;
        rc = rte_eth_dev_configure(d->port, d->nq, d->nq, &conf);
        if (rc != 0 && d->rss_key) {
                /* A port that lists a key size but takes no key: its own. */
                conf.rx_adv_conf.rss_conf.rss_key = NULL;
                conf.rx_adv_conf.rss_conf.rss_key_len = 0;
                d->rss_key = false;
                rc = rte_eth_dev_configure(d->port, d->nq, d->nq, &conf);
        }
        if (rc != 0) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: %s: configure: %s", d->devname,
                         rte_strerror(-rc));
                return rc;
        }
        d->link.info.mtu = mtu;
        return 0;
}

static int queues_setup(struct dpdk *d, const struct mpnet_dpdk_cfg *cfg)
{
        uint16_t nrx = cfg->rx_desc ? cfg->rx_desc : DPDK_DEF_DESC;
        uint16_t ntx = cfg->tx_desc ? cfg->tx_desc : DPDK_DEF_DESC;
        int sock = rte_eth_dev_socket_id(d->port), rc;

        rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nrx, &ntx);
        for (uint16_t q = 0; rc == 0 && q < d->nq; q++) {
                rc = rte_eth_rx_queue_setup(d->port, q, nrx, (unsigned)sock, NULL, mbuf_pool);
                if (rc == 0)
                        rc = rte_eth_tx_queue_setup(d->port, q, ntx, (unsigned)sock, NULL);
                d->q[q].rx_cache = rte_mempool_cache_create(DPDK_CACHE, sock);
                d->q[q].tx_cache = rte_mempool_cache_create(DPDK_CACHE, sock);
                if (rc == 0 && (d->q[q].rx_cache == NULL || d->q[q].tx_cache == NULL))
                        rc = -ENOMEM;
        }
        if (rc != 0)
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: %s: queue set-up: %s", d->devname,
                         rte_strerror(-rc));
        return rc;
}

static int port_start(struct dpdk *d, const struct mpnet_dpdk_cfg *cfg)
{
        struct rte_ether_addr ea;
        struct rte_eth_link lk;
        int rc;

        if (!(cfg->flags & MPNET_DPDK_F_NO_PROMISC)) {
                rc = rte_eth_promiscuous_enable(d->port);
                if (rc != 0 && rc != -ENOTSUP) {
                        dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: %s: promiscuous mode: %s",
                                 d->devname, rte_strerror(-rc));
                        return rc;
                }
        }
        rc = rte_eth_dev_start(d->port);
        if (rc != 0) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: %s: start: %s", d->devname,
                         rte_strerror(-rc));
                return rc;
        }
        if ((cfg->mac[0] | cfg->mac[1] | cfg->mac[2] | cfg->mac[3] | cfg->mac[4] | cfg->mac[5]) !=
            0)
                memcpy(d->link.info.mac, cfg->mac, 6);
        else if (rte_eth_macaddr_get(d->port, &ea) == 0)
                memcpy(d->link.info.mac, ea.addr_bytes, 6);
        if (rte_eth_link_get_nowait(d->port, &lk) == 0 && lk.link_speed != RTE_ETH_SPEED_NUM_NONE &&
            lk.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
                d->link.info.speed_bps = (uint64_t)lk.link_speed * 1000000;
        return 0;
}

static void offloads_info(struct dpdk *d)
{
        uint32_t off = MPNET_LINK_OFF_VLAN;

        if ((d->rxoff & DPDK_RX_CSUM_ALL) == DPDK_RX_CSUM_ALL)
                off |= MPNET_LINK_OFF_RX_CSUM;
        if ((d->txoff & DPDK_TX_CSUM_ALL) == DPDK_TX_CSUM_ALL)
                off |= MPNET_LINK_OFF_TX_CSUM;
        d->link.info.offloads = off;
}

static int cfg_check(const struct mpnet_dpdk_cfg *cfg)
{
        if (cfg == NULL)
                return -EINVAL;
        if (cfg->pool == NULL || cfg->n_queues > MPNET_DPDK_MAX_QUEUES || (cfg->mac[0] & 1)) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len, "dpdk: invalid configuration");
                return -EINVAL;
        }
        if (atomic_load(&eal_state) != EAL_UP) {
                dpdk_msg(cfg->errbuf, cfg->errbuf_len,
                         "dpdk: the EAL is not initialised (mpnet_dpdk_init)");
                return -EPERM;
        }
        return 0;
}

struct mpnet_link *mpnet_dpdk_create(const struct mpnet_dpdk_cfg *cfg)
{
        struct dpdk *d;
        uint16_t nq;
        int rc = cfg_check(cfg);

        if (rc != 0) {
                errno = -rc;
                return NULL;
        }
        nq = cfg->n_queues ? cfg->n_queues : 1;
        if (posix_memalign((void **)&d, MPNET_CACHE_LINE,
                           sizeof(*d) + nq * sizeof(struct dpdk_q)) != 0) {
                errno = ENOMEM;
                return NULL;
        }
        memset(d, 0, sizeof(*d) + nq * sizeof(struct dpdk_q));
        d->nq = nq;
        d->pool = cfg->pool;
        d->link.ops = &dpdk_ops;
        d->link.info.n_rxq = d->link.info.n_txq = nq;
        snprintf(d->link.info.kind, sizeof(d->link.info.kind), "dpdk");

        rc = port_find(d, cfg);
        if (rc == 0) {
                snprintf(d->owner.name, sizeof(d->owner.name), "mpnet");
                rc = rte_eth_dev_owner_new(&d->owner.id);
                if (rc == 0)
                        rc = rte_eth_dev_owner_set(d->port, &d->owner);
                if (rc != 0) {
                        dpdk_msg(cfg->errbuf, cfg->errbuf_len,
                                 "dpdk: %s: the port is in use (by another link?): %s", d->devname,
                                 rte_strerror(-rc));
                        rc = -EBUSY;
                }
                d->owned = rc == 0;
        }
        if (rc == 0)
                rc = port_configure(d, cfg);
        if (rc == 0)
                rc = queues_setup(d, cfg);
        if (rc == 0)
                rc = port_start(d, cfg);
        if (rc != 0) {
                dpdk_free(d, false);
                errno = rc < 0 ? -rc : EINVAL;
                return NULL;
        }
        offloads_info(d);
        snprintf(d->link.name, sizeof(d->link.name), "%.*s", (int)sizeof(d->link.name) - 1,
                 d->devname);
        return &d->link;
}
