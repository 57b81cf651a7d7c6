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
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"

#define TCP_TTL 64 /* RFC 1700's default, as Linux */

int tcp_output(struct wctx *w, const struct tcp_seg_out *o, const struct mpnet_tcp_opts *opts)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_tcp_repr r = {
            .sport = o->t->lport,
            .dport = o->t->rport,
            .seq = o->seq,
            .ack = o->ack,
            .flags = o->flags,
            .window = o->window,
            .payload_len = o->payload_len,
        };
        struct mpnet_pkt *p;
        uint8_t *b;
        uint64_t sum;
        int hlen;
        uint32_t n;

        if (opts != NULL)
                r.opts = *opts;
        hlen = mpnet_tcp_repr_hlen(&r);
        if (hlen < 0)
                return -EINVAL;
        n = (uint32_t)hlen + o->payload_len;
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
        mpnet_tcp_repr_emit(&r, b);
        /* The payload is summed as it is copied in (one pass over it); the
         * header (a multiple of 4 bytes, so the payload's words keep their
         * places) and the pseudo-header are added after. */
        sum = o->payload_len != 0 ? mpnet_csum_copy(0, b + hlen, o->payload, o->payload_len) : 0;
        p->l4_off = (uint16_t)mpnet_pkt_headroom(p);
        if (tcp_tuple_is4(o->t)) {
                uint32_t src = addr_v4(o->t->laddr), dst = addr_v4(o->t->raddr);

                sum += mpnet_tcp4_pseudo(src, dst, (uint16_t)n);
                mpnet_put_be16(b + 16, mpnet_csum_fold(mpnet_csum_add(sum, b, (size_t)hlen)));
                /* RFC 9293 3.7.2 leaves DF to path MTU discovery: set, as
                 * Linux does for TCP. */
                return ip4_output_opt(w, p,
                                      &(struct ip4_out){.src = src,
                                                        .dst = dst,
                                                        .proto = MPNET_IPPROTO_TCP,
                                                        .ttl = TCP_TTL,
                                                        .tos = o->ecn, /* RFC 3168 5 */
                                                        .df = true});
        }
        sum += mpnet_tcp6_pseudo(o->t->laddr, o->t->raddr, n);
        mpnet_put_be16(b + 16, mpnet_csum_fold(mpnet_csum_add(sum, b, (size_t)hlen)));
        return ip6_output_w_tc(w, p, o->t->laddr, o->t->raddr, MPNET_IPPROTO_TCP, IP6_HLIM_DEFAULT,
                               o->ecn, 0);
}
