/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * null: receive synthesises frames from templates, transmit frees (the role
 * of DPDK's net_null).
 *
 * At create every template is hashed as a NIC would (mpnet_rss_hash_eth) and
 * put on the receive queue the indirection table picks; a queue then cycles
 * through its own list. A received frame is a bulk-allocated buffer with the
 * template copied in and only the per-frame fields written (lengths, hash).
 *
 * Receive gives as many frames as asked (up to `burst` when set), as DPDK's
 * net_null does. The buffers come from, and go back to, the worker's own
 * pool cache (256 buffers): a worker that receives a vector and frees it
 * on transmit never touches the pool's shared store, so workers share no
 * written line there.
 *
 * Synchronisation: a receive queue's cursor and counters are written only by
 * its receiving thread, a transmit queue's counters only by its transmitting
 * thread (single-writer stats); each on its own cache line. Templates are
 * read-only after create.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/stat.h"
#include "mpnet/null.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"

#define BENCH_NET      0xc6120000u /* 198.18.0.0/15 */
#define BENCH_NET_MASK 0xfffe0000u
#define UDP_HLEN       8u
#define MIN_FRAME      60u

struct null_tmpl {
        const uint8_t *data;
        uint32_t len, hash;
};

struct null_rxq {
        struct null_tmpl *t; /* this queue's templates */
        uint32_t n, next;
        mpnet_stat_t pkts, bytes;
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct null_txq {
        mpnet_stat_t pkts, bytes;
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct null_link {
        struct mpnet_link link;
        struct mpnet_pool *pool;
        uint16_t n_queues, burst;
        uint8_t *frames; /* all templates' bytes */
        struct null_rxq rx[MPNET_NULL_MAX_QUEUES];
        struct null_txq tx[MPNET_NULL_MAX_QUEUES];
        /* How the templates were dealt (mpnet_link_rss()): the key and the
         * table as they were at create. */
        uint8_t key[MPNET_RSS_KEY_MAX];
        size_t key_len;
        struct mpnet_reta reta;
};

static const struct mpnet_link_ops null_ops;

static uint16_t null_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct null_link *nl = (struct null_link *)l;
        struct null_rxq *rq;
        uint64_t bytes = 0;
        unsigned got;
        uint32_t idx;

        if (q >= nl->n_queues || nl->rx[q].n == 0)
                return 0;
        rq = &nl->rx[q];
        got = mpnet_pkt_alloc_bulk(nl->pool, pkts, n < nl->burst ? n : nl->burst);
        idx = rq->next;
        for (unsigned i = 0; i < got; i++) {
                const struct null_tmpl *t = &rq->t[idx];
                struct mpnet_pkt *p = pkts[i];

                memcpy(p->data, t->data, t->len);
                p->len = p->pkt_len = t->len;
                p->flow_hash = t->hash;
                p->ol_flags = MPNET_PKT_F_FLOW_HASH;
                bytes += t->len;
                if (++idx == rq->n)
                        idx = 0;
        }
        rq->next = idx;
        mpnet_stat_add(&rq->pkts, got);
        mpnet_stat_add(&rq->bytes, bytes);
        return (uint16_t)got;
}

static uint16_t null_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct null_link *nl = (struct null_link *)l;
        uint64_t bytes = 0;

        if (q >= nl->n_queues)
                return 0;
        for (unsigned i = 0; i < n; i++)
                bytes += pkts[i]->pkt_len;
        mpnet_pkt_free_bulk(pkts, n);
        mpnet_stat_add(&nl->tx[q].pkts, n);
        mpnet_stat_add(&nl->tx[q].bytes, bytes);
        return n;
}

static int null_rx_wait_arm(struct mpnet_link *l, uint16_t q)
{
        struct null_link *nl = (struct null_link *)l;

        if (q >= nl->n_queues)
                return -EINVAL;
        return nl->rx[q].n != 0 ? -EAGAIN : -ENOTSUP;
}

static void null_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct null_link *nl = (struct null_link *)l;

        for (unsigned q = 0; q < nl->n_queues; q++) {
                st->rx_pkts += mpnet_stat_read(&nl->rx[q].pkts);
                st->rx_bytes += mpnet_stat_read(&nl->rx[q].bytes);
                st->tx_pkts += mpnet_stat_read(&nl->tx[q].pkts);
                st->tx_bytes += mpnet_stat_read(&nl->tx[q].bytes);
        }
}

static void null_free(struct null_link *nl)
{
        for (unsigned q = 0; q < nl->n_queues; q++)
                free(nl->rx[q].t);
        free(nl->frames);
        free(nl);
}

static void null_destroy(struct mpnet_link *l)
{
        null_free((struct null_link *)l);
}

static int null_rss(struct mpnet_link *l, struct mpnet_link_rss *out);

static const struct mpnet_link_ops null_ops = {
    .rx_burst = null_rx_burst,
    .tx_burst = null_tx_burst,
    .get_stats = null_get_stats,
    .destroy = null_destroy,
    .rx_wait_arm = null_rx_wait_arm,
    .rss = null_rss,
};

int mpnet_null_queue_flows(struct mpnet_link *l, uint16_t q)
{
        struct null_link *nl = (struct null_link *)l;

        if (l == NULL || l->ops != &null_ops || q >= nl->n_queues)
                return -EINVAL;
        return (int)nl->rx[q].n;
}

static int mac_is_zero(const uint8_t *m)
{
        return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

static bool in_bench_net(uint32_t first, uint32_t n, bool varies)
{
        uint32_t last = first + (varies ? n - 1 : 0);

        return (first & BENCH_NET_MASK) == BENCH_NET && (last & BENCH_NET_MASK) == BENCH_NET &&
               last >= first;
}

/* The built-in frames' parameters, defaults filled in and checked. */
struct gen {
        uint32_t n, len, src, dst, vary;
        uint16_t sport, dport;
        uint8_t smac[6], dmac[6];
};

static int gen_setup(const struct mpnet_null_cfg *cfg, const struct mpnet_link_info *info,
                     struct gen *g)
{
        g->n = cfg->n_flows ? cfg->n_flows : 1024;
        g->len = cfg->frame_len ? cfg->frame_len : MIN_FRAME;
        g->src = cfg->src_ip ? cfg->src_ip : 0xc6120001u;
        g->dst = cfg->dst_ip ? cfg->dst_ip : 0xc6130001u;
        g->sport = cfg->src_port ? cfg->src_port : 1024;
        g->dport = cfg->dst_port ? cfg->dst_port : 9;
        g->vary = cfg->vary ? cfg->vary : MPNET_NULL_VARY_DST_IP;
        memcpy(g->dmac, mac_is_zero(cfg->dst_mac) ? info->mac : cfg->dst_mac, 6);
        memcpy(g->smac, cfg->src_mac, 6);
        if (mac_is_zero(g->smac)) {
                static const uint8_t def[6] = {0x02, 0, 0, 0, 0, 0x01};

                memcpy(g->smac, def, 6);
        }
        if (g->len < MIN_FRAME || g->len > info->mtu + MPNET_ETH_HLEN ||
            g->len > MPNET_PKT_DATA_SIZE || (g->vary & ~0xfu) != 0 ||
            !in_bench_net(g->src, g->n, g->vary & MPNET_NULL_VARY_SRC_IP) ||
            !in_bench_net(g->dst, g->n, g->vary & MPNET_NULL_VARY_DST_IP) ||
            ((g->vary & MPNET_NULL_VARY_SRC_PORT) && g->sport + (uint64_t)g->n > 65536) ||
            ((g->vary & MPNET_NULL_VARY_DST_PORT) && g->dport + (uint64_t)g->n > 65536))
                return -EINVAL;
        return 0;
}

/* Flow f of g into b (g->len bytes): Ethernet, IPv4, UDP with its checksum
 * (RFC 768), zero payload. */
static void gen_emit(const struct gen *g, uint32_t f, uint8_t *b)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        uint32_t l4 = g->len - MPNET_ETH_HLEN - MPNET_IP4_HLEN;
        struct mpnet_ip4_repr ip = {
            .src = g->src + (g->vary & MPNET_NULL_VARY_SRC_IP ? f : 0),
            .dst = g->dst + (g->vary & MPNET_NULL_VARY_DST_IP ? f : 0),
            .payload_len = (uint16_t)l4,
            .proto = MPNET_IPPROTO_UDP,
            .ttl = 64,
        };
        uint8_t *u = b + MPNET_ETH_HLEN + MPNET_IP4_HLEN, pseudo[12];
        uint16_t csum;

        memset(b, 0, g->len);
        memcpy(eth.dst, g->dmac, 6);
        memcpy(eth.src, g->smac, 6);
        mpnet_eth_repr_emit(&eth, b);
        mpnet_ip4_repr_emit(&ip, b + MPNET_ETH_HLEN);
        mpnet_put_be16(u, (uint16_t)(g->sport + (g->vary & MPNET_NULL_VARY_SRC_PORT ? f : 0)));
        mpnet_put_be16(u + 2, (uint16_t)(g->dport + (g->vary & MPNET_NULL_VARY_DST_PORT ? f : 0)));
        mpnet_put_be16(u + 4, (uint16_t)l4);
        mpnet_put_be32(pseudo, ip.src);
        mpnet_put_be32(pseudo + 4, ip.dst);
        pseudo[8] = 0;
        pseudo[9] = MPNET_IPPROTO_UDP;
        mpnet_put_be16(pseudo + 10, (uint16_t)l4);
        csum = mpnet_csum_fold(mpnet_csum_add(mpnet_csum_add(0, pseudo, 12), u, l4));
        mpnet_put_be16(u + 6, csum == 0 ? 0xffff : csum);
}

/* Fill nl->frames with the templates; *lens gets each one's length. */
static int load_frames(struct null_link *nl, const struct mpnet_null_cfg *cfg, uint32_t *n_out,
                       uint32_t **lens)
{
        uint32_t max = nl->link.info.mtu + 18, n;
        size_t total = 0;
        struct gen g = {0};

        if (max > MPNET_PKT_DATA_SIZE)
                max = MPNET_PKT_DATA_SIZE;
        if (cfg->n_templates != 0) {
                n = cfg->n_templates;
                if (cfg->templates == NULL)
                        return -EINVAL;
                for (uint32_t i = 0; i < n; i++) {
                        if (cfg->templates[i].data == NULL ||
                            cfg->templates[i].len < MPNET_ETH_HLEN || cfg->templates[i].len > max)
                                return -EINVAL;
                        total += cfg->templates[i].len;
                }
        } else {
                int rc = gen_setup(cfg, &nl->link.info, &g);

                if (rc != 0)
                        return rc;
                n = g.n;
                total = (size_t)n * g.len;
        }
        nl->frames = malloc(total);
        *lens = malloc((size_t)n * sizeof(**lens));
        if (nl->frames == NULL || *lens == NULL)
                return -ENOMEM;
        total = 0;
        for (uint32_t i = 0; i < n; i++) {
                if (cfg->n_templates != 0) {
                        (*lens)[i] = cfg->templates[i].len;
                        memcpy(nl->frames + total, cfg->templates[i].data, (*lens)[i]);
                } else {
                        (*lens)[i] = g.len;
                        gen_emit(&g, i, nl->frames + total);
                }
                total += (*lens)[i];
        }
        *n_out = n;
        return 0;
}

/* Deal the templates out to the receive queues as RSS would. */
static int steer(struct null_link *nl, const struct mpnet_null_cfg *cfg, uint32_t n,
                 const uint32_t *lens)
{
        struct mpnet_rss *rss = aligned_alloc(64, sizeof(*rss));
        const struct mpnet_reta *reta = &nl->reta;
        uint32_t *hash = malloc(n * sizeof(*hash));
        uint16_t *queue = malloc(n * sizeof(*queue));
        int rc = -ENOMEM;
        uint32_t off = 0;

        if (rss == NULL || hash == NULL || queue == NULL)
                goto out;
        rc = -EINVAL;
        if (mpnet_rss_init(rss, nl->key, nl->key_len) != 0)
                goto out;
        (void)cfg;
        for (uint32_t i = 0; i < n; i++) {
                hash[i] = mpnet_rss_hash_eth(rss, nl->frames + off, lens[i], NULL);
                queue[i] = mpnet_rss_queue(reta, hash[i]);
                nl->rx[queue[i]].n++;
                off += lens[i];
        }
        rc = -ENOMEM;
        for (unsigned q = 0; q < nl->n_queues; q++) {
                if (nl->rx[q].n == 0)
                        continue;
                nl->rx[q].t = malloc(nl->rx[q].n * sizeof(*nl->rx[q].t));
                if (nl->rx[q].t == NULL)
                        goto out;
                nl->rx[q].n = 0;
        }
        off = 0;
        for (uint32_t i = 0; i < n; i++) {
                struct null_rxq *rq = &nl->rx[queue[i]];

                rq->t[rq->n++] = (struct null_tmpl){nl->frames + off, lens[i], hash[i]};
                off += lens[i];
        }
        rc = 0;
out:
        free(rss);
        free(hash);
        free(queue);
        return rc;
}

/* The key and a copy of the table the templates are dealt with. */
static int steer_setup(struct null_link *nl, const struct mpnet_null_cfg *cfg)
{
        const uint8_t *key = cfg->rss_key ? cfg->rss_key : mpnet_rss_key_sym;
        size_t key_len = cfg->rss_key ? cfg->rss_key_len : MPNET_RSS_KEY_LEN;

        if (key_len == 0 || key_len > MPNET_RSS_KEY_MAX)
                return -EINVAL;
        memcpy(nl->key, key, key_len);
        nl->key_len = key_len;
        if (cfg->reta == NULL)
                return mpnet_reta_init(&nl->reta, 0, nl->n_queues);
        if (cfg->reta->n_queues > nl->n_queues ||
            mpnet_reta_init(&nl->reta, mpnet_reta_size(cfg->reta), cfg->reta->n_queues) != 0)
                return -EINVAL;
        for (uint32_t i = 0; i < MPNET_RETA_MAX; i++)
                atomic_store_explicit(&nl->reta.q[i], mpnet_rss_queue(cfg->reta, i),
                                      memory_order_relaxed);
        return 0;
}

static int null_rss(struct mpnet_link *l, struct mpnet_link_rss *out)
{
        struct null_link *nl = (struct null_link *)l;

        *out = (struct mpnet_link_rss){nl->key, nl->key_len, &nl->reta};
        return 0;
}

static void default_mac(uint8_t *mac, const char *name)
{
        /* Locally administered unicast from the name, as mem does, so a run
         * is the same every time. */
        uint32_t h = 2166136261u;

        for (const char *c = name; *c; c++)
                h = (h ^ (uint8_t)*c) * 16777619u;
        mac[0] = 0x02;
        mac[1] = (uint8_t)(h >> 24);
        mac[2] = (uint8_t)(h >> 16);
        mac[3] = (uint8_t)(h >> 8);
        mac[4] = (uint8_t)h;
        mac[5] = 0x0e;
}

int mpnet_null_create(const struct mpnet_null_cfg *cfg, struct mpnet_link **out)
{
        static const struct mpnet_null_cfg defaults = {0};
        struct null_link *nl;
        uint32_t n = 0, *lens = NULL;
        const char *name;
        int rc = 0;

        if (cfg == NULL)
                cfg = &defaults;
        if (out == NULL || cfg->n_queues > MPNET_NULL_MAX_QUEUES ||
            (cfg->mtu != 0 && (cfg->mtu < 68 || cfg->mtu > 65535)))
                return -EINVAL;
        if (posix_memalign((void **)&nl, MPNET_CACHE_LINE, sizeof(*nl)) != 0)
                return -ENOMEM;
        memset(nl, 0, sizeof(*nl));
        name = cfg->name ? cfg->name : "null";
        nl->n_queues = cfg->n_queues ? cfg->n_queues : 1;
        nl->burst = cfg->burst ? cfg->burst : UINT16_MAX;
        nl->pool = cfg->pool;
        nl->link.ops = &null_ops;
        snprintf(nl->link.name, sizeof(nl->link.name), "%s", name);
        snprintf(nl->link.info.kind, sizeof(nl->link.info.kind), "null");
        if (mac_is_zero(cfg->mac))
                default_mac(nl->link.info.mac, name);
        else
                memcpy(nl->link.info.mac, cfg->mac, 6);
        nl->link.info.mtu = cfg->mtu ? cfg->mtu : 1500;
        nl->link.info.n_rxq = nl->link.info.n_txq = nl->n_queues;
        nl->link.info.speed_bps = cfg->speed_bps ? cfg->speed_bps : 100000000000ull;
        rc = steer_setup(nl, cfg);
        if (rc == 0 && nl->pool != NULL) {
                rc = load_frames(nl, cfg, &n, &lens);
                if (rc == 0)
                        rc = steer(nl, cfg, n, lens);
        }
        free(lens);
        if (rc != 0) {
                null_free(nl);
                return rc;
        }
        *out = &nl->link;
        return 0;
}
