/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP output: one segment from fields, its checksum over the pseudo-header
 * (RFC 9293 3.1, RFC 8200 8.1), IP output of its family on the calling
 * context.
 */
#include <errno.h>
#include <string.h>

#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/tcp.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "base/pkt_ext.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"

#define TCP_TTL 64 /* RFC 1700's default, as Linux */

/* Segments with at most this much payload leave their checksum (IPv4's
 * or IPv6's) to the link (MPNET_PKT_F_L4_CSUM_TX) while every interface's
 * link offers it (a memory wire with csum_offload, as Linux's loopback):
 * the way out finishes it in software where the packet loops back or
 * meets a feature (l3/ip4_output.c, l3/ip6_output.c) or a route changed
 * to a link without it (l2/ether.h).
 * Larger payloads are summed as they are copied. */
#define TCP_CSUM_LINK_MAX 64

/* Copy the payload, len bytes, the last o->tail_len of them from o->tail,
 * to b, adding them to sum. */
static uint64_t pay_copy(uint64_t sum, uint8_t *b, const struct tcp_seg_out *o, uint32_t len)
{
        uint32_t n1 = len - o->tail_len;
        uint64_t s2;
        uint16_t f;

        sum = mpnet_csum_copy(sum, b, o->payload, n1);
        if (o->tail_len == 0)
                return sum;
        /* The tail's sum on its own; from an odd offset its bytes are the
         * other way round in their 16-bit words (RFC 1071 2 (B)). */
        s2 = mpnet_csum_copy(0, b + n1, o->tail, o->tail_len);
        f = (uint16_t)~mpnet_csum_fold(s2);
        if (n1 & 1)
                f = (uint16_t)(f >> 8 | f << 8);
        return sum + f;
}

/* The pseudo-header sum of a segment of t, n bytes of TCP header and
 * payload: IPv4's (RFC 9293 3.1) or IPv6's (RFC 8200 8.1: the upper-layer
 * length, no extension header counted). */
static inline uint64_t seg_pseudo(const struct tcp_tuple *t, uint32_t n)
{
        if (tcp_tuple_is4(t))
                return mpnet_tcp4_pseudo(addr_v4(t->laddr), addr_v4(t->raddr), (uint16_t)n);
        return mpnet_tcp6_pseudo(t->laddr, t->raddr, n);
}

/* A finished segment or super-segment p (its TCP header at p->data) to IP
 * output of t's family, on the calling context: the one place the
 * families part. */
static int seg_ip_out(struct wctx *w, struct mpnet_pkt *p, const struct tcp_tuple *t, uint8_t ecn)
{
        if (tcp_tuple_is4(t))
                /* RFC 9293 3.7.2 leaves DF to path MTU discovery: set, as
                 * Linux does for TCP. */
                return ip4_output_opt(w, p,
                                      &(struct ip4_out){.src = addr_v4(t->laddr),
                                                        .dst = addr_v4(t->raddr),
                                                        .proto = MPNET_IPPROTO_TCP,
                                                        .ttl = TCP_TTL,
                                                        .tos = ecn, /* RFC 3168 5 */
                                                        .df = true});
        /* RFC 8200 7: the traffic class carries ECN (RFC 3168 5). */
        return ip6_output_w_tc(w, p, t->laddr, t->raddr, MPNET_IPPROTO_TCP, IP6_HLIM_DEFAULT, ecn,
                               0);
}

/* Send one segment: its header (hlen bytes at hdr, checksum field 0 or
 * anything: it is overwritten) and o's payload (in two parts where it
 * crosses a send buffer chunk), summed as the payload is copied in (one
 * pass over it); the header (a multiple of 4 bytes, so the payload's
 * words keep their places) and the pseudo-header are added after. */
static int seg_send(struct wctx *w, struct mpnet_pkt *p, const struct tcp_tuple *t,
                    const uint8_t *hdr, uint32_t hlen, const struct tcp_seg_out *o)
{
        uint32_t len = o->payload_len;
        struct mpnet_stack *s = w->s;
        uint32_t n = hlen + len;
        uint8_t *b;
        uint64_t sum;

        if (p != NULL)
                mpnet_pkt_reset(p); /* a received buffer, turned round */
        else
                p = mpnet_pkt_alloc(s->pool);
        if (p == NULL) {
                STK_INC(s, nobufs);
                return -ENOBUFS;
        }
        b = mpnet_pkt_append(p, n);
        if (b == NULL) {
                mpnet_pkt_free(p);
                return -EMSGSIZE;
        }
        memcpy(b, hdr, hlen);
        p->l4_off = (uint16_t)mpnet_pkt_headroom(p);
        sum = seg_pseudo(t, n);
        if (len <= TCP_CSUM_LINK_MAX &&
            atomic_load_explicit(&s->n_ifs_sw_csum, memory_order_relaxed) == 0) {
                if (len != 0) {
                        memcpy(b + hlen, o->payload, len - o->tail_len);
                        if (o->tail_len != 0)
                                memcpy(b + hlen + len - o->tail_len, o->tail, o->tail_len);
                }
                /* The field holds the pseudo-header sum (DPDK's, virtio's
                 * convention for a checksum left to the device). */
                mpnet_put_be16(b + 16, (uint16_t)~mpnet_csum_fold(sum));
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_TX;
        } else {
                mpnet_put_be16(b + 16, 0);
                if (len != 0)
                        sum = pay_copy(sum, b + hlen, o, len);
                mpnet_put_be16(b + 16, mpnet_csum_fold(mpnet_csum_hdr(sum, b, hlen)));
        }
        return seg_ip_out(w, p, t, o->ecn);
}

static struct mpnet_tcp_repr seg_repr(const struct tcp_seg_out *o,
                                      const struct mpnet_tcp_opts *opts)
{
        struct mpnet_tcp_repr r = {
            .sport = o->t->lport,
            .dport = o->t->rport,
            .seq = o->seq,
            .ack = o->ack,
            .flags = o->flags,
            .window = o->window,
            .payload_len = o->payload_len,
        };

        if (opts != NULL)
                r.opts = *opts;
        return r;
}

int tcp_output(struct wctx *w, const struct tcp_seg_out *o, const struct mpnet_tcp_opts *opts)
{
        struct mpnet_tcp_repr r = seg_repr(o, opts);
        uint8_t hdr[MPNET_TCP_HLEN_MAX];
        int hlen = mpnet_tcp_repr_hlen(&r);

        if (hlen < 0)
                return -EINVAL;
        mpnet_tcp_repr_emit(&r, hdr);
        return seg_send(w, NULL, o->t, hdr, (uint32_t)hlen, o);
}

int tcp_tmpl_init(struct tcp_tmpl *h, const struct tcp_seg_out *o,
                  const struct mpnet_tcp_opts *opts)
{
        struct mpnet_tcp_repr r = seg_repr(o, opts);
        int hlen = mpnet_tcp_repr_hlen(&r);

        if (hlen < 0)
                return -EINVAL;
        mpnet_tcp_repr_emit(&r, h->b);
        h->t = o->t;
        h->hlen = (uint8_t)hlen;
        return 0;
}

int tcp_output_tmpl(struct wctx *w, struct tcp_tmpl *h, const struct tcp_seg_out *o)
{
        return tcp_output_tmpl_in(w, h, o, NULL);
}

int tcp_output_tmpl_in(struct wctx *w, struct tcp_tmpl *h, const struct tcp_seg_out *o,
                       struct mpnet_pkt *p)
{
        /* Only the sequence number and the flags differ from the
         * template's segment (the data offset stays: same options). */
        mpnet_put_be32(h->b + 4, o->seq);
        h->b[13] = (uint8_t)o->flags;
        h->b[12] = (uint8_t)((h->b[12] & 0xf0) | ((o->flags >> 8) & 1));
        return seg_send(w, p, h->t, h->b, h->hlen, o);
}

#define TSO_BUFS 64 /* the header's and TCP_TSO_MAX in pieces (each cut at a block's end) */

int tcp_output_tso(struct wctx *w, struct tcp_tmpl *h, const struct tcp_seg_out *o,
                   const struct tcp_piece *pc, unsigned npc, uint16_t segsz)
{
        struct mpnet_stack *s = w->s;
        const struct tcp_tuple *t = h->t;
        uint32_t len = o->payload_len, hlen = h->hlen, nb = 1, got, k = 1, sum = 0;
        struct mpnet_pkt *b[TSO_BUFS], *head;
        uint8_t *p;

        for (unsigned i = 0; i < npc; i++) {
                nb += (pc[i].n + MPNET_PKT_DATA_SIZE - 1) / MPNET_PKT_DATA_SIZE;
                sum += pc[i].n;
        }
        if (len > TCP_TSO_MAX || segsz == 0 || sum != len || nb > TSO_BUFS)
                return -EINVAL;
        got = mpnet_pkt_alloc_bulk(s->pool, b, nb);
        if (got != nb) {
                mpnet_pkt_free_bulk(b, got);
                STK_INC(s, nobufs);
                return -ENOBUFS;
        }
        /* The head: the headers' room before, the TCP header; the payload
         * in segments that reference the send buffer's blocks (one
         * reference each, taken a piece at a time). */
        head = b[0];
        mpnet_put_be32(h->b + 4, o->seq);
        h->b[13] = (uint8_t)o->flags;
        h->b[12] = (uint8_t)((h->b[12] & 0xf0) | ((o->flags >> 8) & 1));
        p = mpnet_pkt_append(head, hlen);
        memcpy(p, h->b, hlen);
        for (unsigned i = 0; i < npc; i++) {
                uint32_t first = k;

                for (uint32_t at = 0; at < pc[i].n; at += MPNET_PKT_DATA_SIZE) {
                        uint32_t n =
                            pc[i].n - at < MPNET_PKT_DATA_SIZE ? pc[i].n - at : MPNET_PKT_DATA_SIZE;

                        pkt_ext_attach(b[k], pc[i].e, pc[i].p + at, n);
                        b[k - 1]->next = b[k];
                        k++;
                }
                pkt_ext_get_n(pc[i].e, k - first);
        }
        head->pkt_len = hlen + len;
        head->nb_segs = (uint16_t)nb;
        head->l4_off = (uint16_t)mpnet_pkt_headroom(head);
        /* The pseudo-header sum over the whole TCP length, as Linux's GSO
         * and virtio's convention expect; the link (or the software,
         * l2/ether.c, l3/ip4_output.c, l3/ip6_output.c) finishes it. */
        mpnet_put_be16(p + 16, (uint16_t)~mpnet_csum_fold(seg_pseudo(t, hlen + len)));
        head->ol_flags |= MPNET_PKT_F_L4_CSUM_TX | MPNET_PKT_F_TSO;
        head->tso_segsz = segsz;
        return seg_ip_out(w, head, t, o->ecn);
}

/* ---- pacing ---- */

#define TCP_PACE_SS_RATIO 200        /* percent, Linux's tcp_pacing_ss_ratio */
#define TCP_PACE_CA_RATIO 120        /* tcp_pacing_ca_ratio */
#define TCP_PACE_SLOT_NS  1000000ull /* 1 ms at the rate may go at once (sk_pacing_shift 10) */

void tcp_pace_rate(struct tcp_pace *p, uint32_t cwnd, uint32_t srtt_us, bool slow_start,
                   uint32_t mss)
{
        uint64_t ratio = slow_start ? TCP_PACE_SS_RATIO : TCP_PACE_CA_RATIO, b;

        if (srtt_us == 0 || cwnd == 0) {
                p->ps_b = 0;
                return;
        }
        /* ps a byte = srtt / (cwnd * ratio): 10^6 ps a us, ratio in percent. */
        p->ps_b = (uint64_t)srtt_us * 100000000ull / ((uint64_t)cwnd * ratio);
        if (p->ps_b == 0)
                p->ps_b = 1;
        /* The lag that lets TCP_PACE_BURST segments go back to back. */
        b = (uint64_t)(TCP_PACE_BURST - 1) * mss * p->ps_b / 1000;
        p->burst = b > TCP_PACE_SLOT_NS ? b : TCP_PACE_SLOT_NS;
}

void tcp_pace_sent(struct tcp_pace *p, uint64_t now, uint32_t n)
{
        if (p->ps_b == 0)
                return;
        if (p->at + p->burst < now)
                p->at = now - p->burst; /* credit for a burst, no more */
        p->at += (uint64_t)n * p->ps_b / 1000;
}
