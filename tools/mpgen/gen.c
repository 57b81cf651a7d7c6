/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen: test frames and their pacing.
 *
 * Each flow has a template (Ethernet, optional 802.1Q tag, IPv4 or IPv6, UDP,
 * a zeroed signature, zero padding) and the one's-complement sum of its UDP
 * checksum without the signature. A frame is its template copied into a fresh
 * buffer, the signature written, and the checksum completed from the sum plus
 * the six signature words (RFC 1071; a result of zero is sent as 0xffff,
 * RFC 768). IPv6 needs the UDP checksum (RFC 8200 section 8.1); IPv4 gets it
 * too, so frames are correct everywhere.
 *
 * Pacing: frame k of a stream is due at t0 + ceil(k * 1e9 / rate) ns, so the
 * frames are evenly spaced over the trial. A step offers the frames due by
 * `now` (at most a burst): one tx_burst call, one timestamp for the burst.
 * A frame the link refuses (its ring is full) is freed and counted as refused,
 * not retried: its due time has passed, and on a memory wire the ring is the
 * DUT's receive queue, so a refusal is the DUT not keeping up. Counters
 * count what tx_burst accepted; nothing is queued inside the generator.
 *
 * Frames go round-robin over the flows, so each flow sees rate / flows.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpgen.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"

#define IP6_HLEN 40u
#define UDP_HLEN 8u
#define TCP_HLEN 20u

double mpg_line_rate(uint64_t speed_bps, unsigned frame)
{
        return (double)speed_bps / ((double)(frame + MPG_L1_OVERHEAD) * 8.0);
}

uint32_t mpg_flows_count(const struct mpg_flows *f)
{
        uint64_t n = (uint64_t)f->n_src * f->n_dst;

        if (f->list != NULL)
                return f->n_list <= MPG_FLOWS_MAX ? f->n_list : 0;
        n *= f->n_sport;
        if (n > MPG_FLOWS_MAX)
                return 0;
        n *= f->n_dport;
        return n == 0 || n > MPG_FLOWS_MAX ? 0 : (uint32_t)n;
}

void mpg_flows_default(struct mpg_flows *f, bool ip6)
{
        /* 2001:2::/48 is RFC 5180's benchmarking prefix. */
        static const uint8_t s6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
        static const uint8_t d6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2};

        memset(f, 0, sizeof(*f));
        f->ip6 = ip6;
        f->src4 = 0xc6120002u; /* 198.18.0.2 */
        f->dst4 = 0xc6130002u; /* 198.19.0.2 */
        memcpy(f->src6, s6, 16);
        memcpy(f->dst6, d6, 16);
        f->n_src = f->n_dst = f->n_sport = f->n_dport = 1;
        f->sport = f->dport = 1024;
        f->proto = MPNET_IPPROTO_UDP;
}

int mpg_flows_read(const char *path, bool ip6, struct mpg_flow_ent **list, uint32_t *n, char *err,
                   size_t errlen)
{
        FILE *f = fopen(path, "r");
        struct mpg_flow_ent *v = NULL;
        uint32_t cnt = 0, cap = 0;
        unsigned line = 0;
        char buf[512];

        if (f == NULL) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        while (fgets(buf, sizeof(buf), f) != NULL) {
                char src[64], dst[64], junk[2];
                unsigned sp = 1024, dp = 1024;
                struct mpg_flow_ent e = {0};
                int k;

                line++;
                buf[strcspn(buf, "#\n")] = '\0';
                k = sscanf(buf, "%63s %63s %u %u %1s", src, dst, &sp, &dp, junk);
                if (k <= 0)
                        continue; /* blank or comment */
                if ((k != 2 && k != 4) || sp == 0 || sp > 65535 || dp == 0 || dp > 65535) {
                        snprintf(err, errlen, "%s line %u: want SRC DST [SPORT DPORT]", path, line);
                        goto fail;
                }
                if (ip6 ? inet_pton(AF_INET6, src, e.src6) != 1 ||
                              inet_pton(AF_INET6, dst, e.dst6) != 1
                        : inet_pton(AF_INET, src, &e.src4) != 1 ||
                              inet_pton(AF_INET, dst, &e.dst4) != 1) {
                        snprintf(err, errlen, "%s line %u: not two IPv%c addresses%s", path, line,
                                 ip6 ? '6' : '4', ip6 ? "" : " (IPv6 flows need --ip6)");
                        goto fail;
                }
                e.src4 = ntohl(e.src4);
                e.dst4 = ntohl(e.dst4);
                e.sport = (uint16_t)sp;
                e.dport = (uint16_t)dp;
                if (cnt == MPG_FLOWS_MAX) {
                        snprintf(err, errlen, "%s: more than %u flows", path, MPG_FLOWS_MAX);
                        goto fail;
                }
                if (cnt == cap) {
                        struct mpg_flow_ent *nv;

                        cap = cap ? cap * 2 : 64;
                        nv = realloc(v, cap * sizeof(*v));
                        if (nv == NULL) {
                                snprintf(err, errlen, "%s: out of memory", path);
                                goto fail;
                        }
                        v = nv;
                }
                v[cnt++] = e;
        }
        fclose(f);
        if (cnt == 0) {
                snprintf(err, errlen, "%s: no flow in it", path);
                free(v);
                return -1;
        }
        *list = v;
        *n = cnt;
        return 0;
fail:
        fclose(f);
        free(v);
        return -1;
}

static unsigned l3_off(const struct mpg_flows *f)
{
        return MPNET_ETH_HLEN + (f->vlan ? 4u : 0u);
}

static unsigned hdr_len(const struct mpg_flows *f)
{
        return l3_off(f) + (f->ip6 ? IP6_HLEN : MPNET_IP4_HLEN) +
               (f->proto == MPNET_IPPROTO_TCP ? TCP_HLEN : UDP_HLEN);
}

unsigned mpg_frame_min(const struct mpg_flows *f)
{
        unsigned need = hdr_len(f) + MPG_SIG_LEN + MPG_FCS_LEN;
        unsigned std = f->ip6 ? MPG_FRAME_MIN6 : MPG_FRAME_MIN4;

        return need > std ? need : std;
}

static void put_ip6(uint8_t *b, const uint8_t base[16], uint32_t add)
{
        memcpy(b, base, 16);
        mpnet_put_be32(b + 12, mpnet_get_be32(base + 12) + add);
}

/* Flow i: from the list, or from the ranges, where the ports vary fastest,
 * then the destination, then the source. */
static void flow_get(const struct mpg_flows *f, uint32_t i, struct mpg_flow_ent *e)
{
        uint32_t s, d;

        if (f->list != NULL) {
                *e = f->list[i];
                return;
        }
        e->dport = (uint16_t)(f->dport + i % f->n_dport);
        i /= f->n_dport;
        e->sport = (uint16_t)(f->sport + i % f->n_sport);
        i /= f->n_sport;
        d = i % f->n_dst;
        i /= f->n_dst;
        s = i % f->n_src;
        e->src4 = f->src4 + s;
        e->dst4 = f->dst4 + d;
        put_ip6(e->src6, f->src6, s);
        put_ip6(e->dst6, f->dst6, d);
}

/* Write the first tlen bytes of flow i's len-byte frame into b (the rest of
 * a longer frame is zeros); return its UDP or TCP checksum sum without the
 * signature (pseudo-header included; the zeros add nothing). */
static uint32_t build_template(const struct mpg_flows *f, uint32_t i, uint8_t *b, unsigned len,
                               unsigned tlen, const uint8_t src_mac[6], const uint8_t dst_mac[6])
{
        unsigned off = l3_off(f), udp, udp_len;
        uint8_t proto = f->proto == MPNET_IPPROTO_TCP ? MPNET_IPPROTO_TCP : MPNET_IPPROTO_UDP;
        struct mpg_flow_ent e;
        uint64_t sum;
        uint8_t ph[40];

        memset(b, 0, tlen);
        memcpy(b, dst_mac, 6);
        memcpy(b + 6, src_mac, 6);
        if (f->vlan) {
                mpnet_put_be16(b + 12, MPNET_ETHERTYPE_VLAN);
                mpnet_put_be16(b + 14, f->vlan);
        }
        mpnet_put_be16(b + off - 2, f->ip6 ? MPNET_ETHERTYPE_IPV6 : MPNET_ETHERTYPE_IPV4);
        flow_get(f, i, &e);
        if (f->ip6) {
                udp = off + IP6_HLEN;
                udp_len = len - udp;
                b[off] = 0x60; /* version 6, traffic class 0, flow label 0 */
                mpnet_put_be16(b + off + 4, (uint16_t)udp_len);
                b[off + 6] = proto;
                b[off + 7] = 64;
                memcpy(b + off + 8, e.src6, 16);
                memcpy(b + off + 24, e.dst6, 16);
                /* RFC 8200 section 8.1 pseudo-header. */
                memcpy(ph, b + off + 8, 32);
                mpnet_put_be32(ph + 32, udp_len);
                memset(ph + 36, 0, 3);
                ph[39] = proto;
                sum = mpnet_csum_add(0, ph, 40);
        } else {
                struct mpnet_ip4_repr ip = {
                    .src = e.src4, .dst = e.dst4, .ttl = 64, .proto = proto};

                udp = off + MPNET_IP4_HLEN;
                udp_len = len - udp;
                ip.payload_len = (uint16_t)udp_len;
                mpnet_ip4_repr_emit(&ip, b + off);
                /* RFC 768 / RFC 9293 3.1 pseudo-header. */
                memcpy(ph, b + off + 12, 8);
                ph[8] = 0;
                ph[9] = proto;
                mpnet_put_be16(ph + 10, (uint16_t)udp_len);
                sum = mpnet_csum_add(0, ph, 12);
        }
        mpnet_put_be16(b + udp, e.sport);
        mpnet_put_be16(b + udp + 2, e.dport);
        if (proto == MPNET_IPPROTO_TCP) {
                /* A segment of an established connection: ACK|PSH, no
                 * options (data offset 5), a full window (RFC 9293 3.1). */
                b[udp + 12] = 5 << 4;
                b[udp + 13] = 0x18;
                mpnet_put_be16(b + udp + 14, 65535);
        } else {
                mpnet_put_be16(b + udp + 4, (uint16_t)udp_len);
        }
        sum = mpnet_csum_add(sum, b + udp, tlen - udp);
        /* Keep the sum folded but not complemented. */
        return (uint16_t)~mpnet_csum_fold(sum);
}

int mpg_gen_init(struct mpg_gen *g, struct mpnet_link *link, struct mpnet_pool *pool,
                 struct mpnet_clock *clock, const struct mpg_flows *fl, const uint8_t src_mac[6],
                 const uint8_t dst_mac[6], unsigned frame)
{
        uint32_t n = mpg_flows_count(fl);
        unsigned max = MPG_FRAME_JUMBO + (fl->vlan ? 4u : 0u);

        memset(g, 0, sizeof(*g));
        if (n == 0 || frame < mpg_frame_min(fl) || frame > max)
                return -EINVAL;
        g->link = link;
        g->pool = pool;
        g->clock = clock;
        g->frame = frame;
        g->len = frame - MPG_FCS_LEN;
        /* A frame longer than one buffer is a chain: the template is its
         * first buffer, the other buffers are zeros. */
        g->tlen = g->len < MPNET_PKT_DATA_SIZE ? g->len : MPNET_PKT_DATA_SIZE;
        g->sig_off = hdr_len(fl);
        g->n_flows = n;
        g->tcp = fl->proto == MPNET_IPPROTO_TCP;
        g->tmpl = malloc((size_t)n * g->tlen);
        g->csum = calloc(n, sizeof(*g->csum));
        g->seq = calloc(n, sizeof(*g->seq));
        g->tx_flow = calloc(n, sizeof(*g->tx_flow));
        if (g->tmpl == NULL || g->csum == NULL || g->seq == NULL || g->tx_flow == NULL) {
                mpg_gen_fini(g);
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < n; i++)
                g->csum[i] = build_template(fl, i, g->tmpl + (size_t)i * g->tlen, g->len, g->tlen,
                                            src_mac, dst_mac);
        return 0;
}

void mpg_gen_fini(struct mpg_gen *g)
{
        free(g->tmpl);
        free(g->csum);
        free(g->seq);
        free(g->tx_flow);
        g->tmpl = NULL;
        g->csum = NULL;
        g->seq = NULL;
        g->tx_flow = NULL;
}

void mpg_gen_start(struct mpg_gen *g, uint8_t tag, double rate, uint64_t total, uint64_t t0)
{
        g->tag = tag;
        g->rate = rate;
        g->total = total;
        g->t0 = t0;
        g->offered = g->tx = g->refused = g->nobufs = 0;
        g->t_first = g->t_last = g->lag_max = 0;
        g->next_flow = 0;
        g->k2 = 0;
        g->rate2 = 0;
        memset(g->seq, 0, g->n_flows * sizeof(*g->seq));
        memset(g->tx_flow, 0, g->n_flows * sizeof(*g->tx_flow));
}

void mpg_gen_step_rate(struct mpg_gen *g, uint64_t k2, double rate2)
{
        g->k2 = k2;
        g->rate2 = rate2;
}

uint64_t mpg_gen_due(const struct mpg_gen *g, uint64_t k)
{
        if (k >= g->total)
                return MPNET_TIME_NEVER;
        if (k == 0)
                return g->t0;
        if (g->rate2 > 0 && k > g->k2)
                return g->t0 + (uint64_t)ceil((double)g->k2 * 1e9 / g->rate) +
                       (uint64_t)ceil((double)(k - g->k2) * 1e9 / g->rate2);
        return g->t0 + (uint64_t)ceil((double)k * 1e9 / g->rate);
}

/* Give head p the zero buffers of a frame longer than one buffer.
 * @return 0, or -ENOBUFS (the pool is empty; p is left as it was). */
static int add_tail(struct mpg_gen *g, struct mpnet_pkt *p)
{
        struct mpnet_pkt **link = &p->next;
        uint32_t left = g->len - g->tlen;

        p->nb_segs = 1;
        while (left > 0) {
                struct mpnet_pkt *s = mpnet_pkt_alloc(g->pool);
                uint32_t k = left < MPNET_PKT_DATA_SIZE ? left : MPNET_PKT_DATA_SIZE;

                if (s == NULL) {
                        mpnet_pkt_free(p->next); /* frees the segments chained so far */
                        p->next = NULL;
                        p->nb_segs = 1;
                        return -ENOBUFS;
                }
                memset(mpnet_pkt_append(s, k), 0, k);
                *link = s;
                link = &s->next;
                p->nb_segs++;
                left -= k;
        }
        return 0;
}

/* Fill one frame of flow f from its template into a fresh head p (the tail
 * of a jumbo frame already chained to it). */
static void build_frame(struct mpg_gen *g, struct mpnet_pkt *p, uint32_t f, uint32_t ts)
{
        uint8_t *d = p->data, *sig = d + g->sig_off;
        uint32_t seq = g->seq[f]++;
        uint32_t sum = g->csum[f];
        uint16_t c;

        p->len = g->tlen; /* a fresh buffer has tailroom for a whole one */
        p->pkt_len = g->len;
        memcpy(d, g->tmpl + (size_t)f * g->tlen, g->tlen);
        sig[0] = MPG_MAGIC;
        sig[1] = g->tag;
        mpnet_put_be16(sig + 2, (uint16_t)f);
        mpnet_put_be32(sig + 4, seq);
        mpnet_put_be32(sig + 8, ts);
        sum += ((uint32_t)MPG_MAGIC << 8 | g->tag) + f + (seq >> 16) + (seq & 0xffff) + (ts >> 16) +
               (ts & 0xffff);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        c = (uint16_t)~sum;
        /* UDP: the checksum sits just before the signature, and 0 is sent
         * as 0xffff (RFC 768); TCP: 4 bytes before (then the urgent
         * pointer), sent as computed. */
        if (g->tcp)
                mpnet_put_be16(sig - 4, c);
        else
                mpnet_put_be16(sig - 2, c == 0 ? 0xffff : c);
}

/* The stream index of the last frame due by now, estimated from the rate
 * (exact but for rounding). */
static uint64_t due_index(const struct mpg_gen *g, uint64_t now)
{
        double t = (double)(now - g->t0), k;

        if (g->rate2 > 0) {
                double t2 = ceil((double)g->k2 * 1e9 / g->rate);

                if (t > t2)
                        k = (double)g->k2 + (t - t2) * g->rate2 / 1e9;
                else
                        k = t * g->rate / 1e9;
        } else {
                k = t * g->rate / 1e9;
        }
        return k >= 1e18 ? UINT64_MAX / 2 : (uint64_t)k;
}

/* Frames due by now from frame `offered` on, at most max: the estimate,
 * corrected against mpg_gen_due(), so a burst costs two or three due-time
 * evaluations instead of one a frame. */
static unsigned due_count(const struct mpg_gen *g, uint64_t now, unsigned max)
{
        uint64_t k = g->offered, last, cap = k + max - 1;

        if (max == 0 || mpg_gen_due(g, k) > now)
                return 0;
        last = due_index(g, now);
        if (cap > g->total - 1)
                cap = g->total - 1;
        if (last > cap)
                last = cap;
        if (last < k)
                last = k;
        while (last > k && mpg_gen_due(g, last) > now)
                last--;
        while (last < cap && mpg_gen_due(g, last + 1) <= now)
                last++;
        return (unsigned)(last - k + 1);
}

unsigned mpg_gen_step(struct mpg_gen *g, uint64_t now, unsigned max)
{
        struct mpnet_pkt *v[MPG_BURST_MAX];
        uint32_t flows[MPG_BURST_MAX];
        unsigned n, got, k;
        uint64_t due0;

        if (max > MPG_BURST_MAX)
                max = MPG_BURST_MAX;
        if (g->offered >= g->total)
                return 0;
        n = due_count(g, now, max);
        if (n == 0)
                return 0;
        due0 = mpg_gen_due(g, g->offered);
        if (now - due0 > g->lag_max)
                g->lag_max = now - due0;
        got = mpnet_pkt_alloc_bulk(g->pool, v, n);
        for (unsigned i = 0; g->len > g->tlen && i < got; i++) {
                if (add_tail(g, v[i]) != 0) {
                        mpnet_pkt_free_bulk(v + i, got - i);
                        got = i;
                }
        }
        if (got < n)
                g->nobufs += n - got;
        if (got == 0)
                return 0;
        for (unsigned i = 0; i < got; i++) {
                flows[i] = g->next_flow;
                build_frame(g, v[i], flows[i], (uint32_t)now);
                if (++g->next_flow == g->n_flows)
                        g->next_flow = 0;
        }
        k = mpnet_link_tx_burst(g->link, g->q, v, (uint16_t)got);
        for (unsigned i = 0; i < k; i++)
                g->tx_flow[flows[i]]++;
        if (k < got)
                mpnet_pkt_free_bulk(v + k, got - k);
        if (g->offered == 0)
                g->t_first = now;
        g->t_last = now;
        g->offered += got;
        g->tx += k;
        g->refused += got - k;
        return got;
}
