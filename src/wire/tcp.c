/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdbool.h>

#include "mpnet/wire/bytes.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/tcp.h"

int mpnet_tcp_view_check(const uint8_t *b, size_t n, struct mpnet_tcp_view *v)
{
        size_t hlen;

        if (n < MPNET_TCP_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        hlen = (size_t)(b[12] >> 4) * 4;
        if (hlen < MPNET_TCP_HLEN)
                return -MPNET_WIRE_BAD_HLEN;
        if (hlen > n)
                return -MPNET_WIRE_BAD_LEN;
        v->b = b;
        v->n = n;
        return 0;
}

/* The fixed total length of a known option kind; 0 for SACK (variable) and
 * for kinds we do not know. */
static unsigned opt_fixed_len(uint8_t kind)
{
        switch (kind) {
        case MPNET_TCPOPT_MSS:
                return 4;
        case MPNET_TCPOPT_WSCALE:
                return 3;
        case MPNET_TCPOPT_SACK_PERM:
                return 2;
        case MPNET_TCPOPT_TS:
                return 10;
        default:
                return 0;
        }
}

/* The layouts nearly every segment carries, told by their kind and length
 * octets alone (the idea of Linux's tcp_parse_aligned_timestamp()): NOP,
 * NOP, timestamps (12 bytes: data and ACKs), and a SYN's MSS,
 * SACK-permitted, timestamps, NOP, window scale (20 bytes: Linux's SYN and
 * SYN-ACK, and mpnet_tcp_opts_emit()'s). The walk gives the same fields
 * for them; it skips the per-octet loop that every segment of a bulk flow
 * and every SYN of a flood paid. @return true: o filled. */
static bool opts_fast(const uint8_t *b, size_t n, struct mpnet_tcp_opts *o)
{
        if (n == 12 && mpnet_get_be32(b) == 0x0101080a) {
                o->present = MPNET_TCPO_TS;
                o->ts_val = mpnet_get_be32(b + 4);
                o->ts_ecr = mpnet_get_be32(b + 8);
                return true;
        }
        if (n == 20 && mpnet_get_be16(b) == 0x0204 && mpnet_get_be32(b + 4) == 0x0402080a &&
            (mpnet_get_be32(b + 16) >> 8) == 0x010303) {
                o->present =
                    MPNET_TCPO_MSS | MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS | MPNET_TCPO_WSCALE;
                o->mss = mpnet_get_be16(b + 2);
                o->ts_val = mpnet_get_be32(b + 8);
                o->ts_ecr = mpnet_get_be32(b + 12);
                o->wscale = b[19];
                return true;
        }
        return false;
}

int mpnet_tcp_opts_parse(const uint8_t *b, size_t n, struct mpnet_tcp_opts *o)
{
        size_t i = 0;

        __builtin_memset(o, 0, sizeof(*o));
        if (n > MPNET_TCP_OPT_MAX)
                n = MPNET_TCP_OPT_MAX;
        if (opts_fast(b, n, o))
                return 0;
        while (i < n) {
                uint8_t kind = b[i], len;
                unsigned fixed;

                if (kind == MPNET_TCPOPT_EOL)
                        break;
                if (kind == MPNET_TCPOPT_NOP) {
                        i++;
                        continue;
                }
                /* RFC 9293 3.2: every other kind has a length octet,
                 * counting kind and length. */
                if (n - i < 2)
                        return -MPNET_WIRE_BAD_OPTION;
                len = b[i + 1];
                if (len < 2 || len > n - i)
                        return -MPNET_WIRE_BAD_OPTION;
                fixed = opt_fixed_len(kind);
                if (fixed != 0 && len != fixed)
                        return -MPNET_WIRE_BAD_OPTION;
                switch (kind) {
                case MPNET_TCPOPT_MSS:
                        o->present |= MPNET_TCPO_MSS;
                        o->mss = mpnet_get_be16(b + i + 2);
                        break;
                case MPNET_TCPOPT_WSCALE:
                        o->present |= MPNET_TCPO_WSCALE;
                        o->wscale = b[i + 2];
                        break;
                case MPNET_TCPOPT_SACK_PERM:
                        o->present |= MPNET_TCPO_SACK_PERM;
                        break;
                case MPNET_TCPOPT_TS:
                        o->present |= MPNET_TCPO_TS;
                        o->ts_val = mpnet_get_be32(b + i + 2);
                        o->ts_ecr = mpnet_get_be32(b + i + 6);
                        break;
                case MPNET_TCPOPT_SACK: {
                        unsigned k, blocks = (len - 2u) / 8;

                        /* RFC 2018 3: length 2 + 8n; n is 1 to 4 in 40 bytes. */
                        if ((len - 2u) % 8 != 0 || blocks == 0)
                                return -MPNET_WIRE_BAD_OPTION;
                        o->present |= MPNET_TCPO_SACK;
                        o->sack_n = (uint8_t)blocks;
                        for (k = 0; k < blocks; k++) {
                                o->sack[k].left = mpnet_get_be32(b + i + 2 + 8 * k);
                                o->sack[k].right = mpnet_get_be32(b + i + 6 + 8 * k);
                        }
                        break;
                }
                default:
                        if (o->unknown < UINT8_MAX)
                                o->unknown++;
                        break;
                }
                i += len;
        }
        return 0;
}

int mpnet_tcp_opts_size(const struct mpnet_tcp_opts *o)
{
        unsigned n = 0;

        if (o->present & MPNET_TCPO_MSS)
                n += 4;
        if (o->present & MPNET_TCPO_TS)
                n += 12; /* with SACK-permitted in the two NOPs' place */
        else if (o->present & MPNET_TCPO_SACK_PERM)
                n += 4;
        if (o->present & MPNET_TCPO_WSCALE)
                n += 4;
        if (o->present & MPNET_TCPO_SACK) {
                if (o->sack_n == 0 || o->sack_n > MPNET_TCP_SACK_MAX)
                        return -MPNET_WIRE_TOO_LONG;
                n += 4 + 8u * o->sack_n;
        }
        return n > MPNET_TCP_OPT_MAX ? -MPNET_WIRE_TOO_LONG : (int)n;
}

int mpnet_tcp_opts_emit(const struct mpnet_tcp_opts *o, uint8_t *b)
{
        int len = mpnet_tcp_opts_size(o);
        uint8_t *p = b;
        unsigned k;

        if (len < 0)
                return len;
        if (o->present & MPNET_TCPO_MSS) {
                p[0] = MPNET_TCPOPT_MSS;
                p[1] = 4;
                mpnet_put_be16(p + 2, o->mss);
                p += 4;
        }
        if (o->present & MPNET_TCPO_TS) {
                if (o->present & MPNET_TCPO_SACK_PERM) {
                        p[0] = MPNET_TCPOPT_SACK_PERM;
                        p[1] = 2;
                } else {
                        p[0] = p[1] = MPNET_TCPOPT_NOP;
                }
                p[2] = MPNET_TCPOPT_TS;
                p[3] = 10;
                mpnet_put_be32(p + 4, o->ts_val);
                mpnet_put_be32(p + 8, o->ts_ecr);
                p += 12;
        } else if (o->present & MPNET_TCPO_SACK_PERM) {
                p[0] = p[1] = MPNET_TCPOPT_NOP;
                p[2] = MPNET_TCPOPT_SACK_PERM;
                p[3] = 2;
                p += 4;
        }
        if (o->present & MPNET_TCPO_WSCALE) {
                p[0] = MPNET_TCPOPT_NOP;
                p[1] = MPNET_TCPOPT_WSCALE;
                p[2] = 3;
                p[3] = o->wscale;
                p += 4;
        }
        if (o->present & MPNET_TCPO_SACK) {
                p[0] = p[1] = MPNET_TCPOPT_NOP;
                p[2] = MPNET_TCPOPT_SACK;
                p[3] = (uint8_t)(2 + 8 * o->sack_n);
                p += 4;
                for (k = 0; k < o->sack_n; k++, p += 8) {
                        mpnet_put_be32(p, o->sack[k].left);
                        mpnet_put_be32(p + 4, o->sack[k].right);
                }
        }
        return len;
}

int mpnet_tcp_repr_parse(const struct mpnet_tcp_view *v, struct mpnet_tcp_repr *r)
{
        r->sport = mpnet_tcp_sport(v);
        r->dport = mpnet_tcp_dport(v);
        r->seq = mpnet_tcp_seq(v);
        r->ack = mpnet_tcp_ack(v);
        r->flags = mpnet_tcp_flags(v);
        r->window = mpnet_tcp_window(v);
        r->urg = mpnet_tcp_urg(v);
        r->payload_len = mpnet_tcp_payload_len(v);
        return mpnet_tcp_opts_parse(mpnet_tcp_opts(v), mpnet_tcp_opts_len(v), &r->opts);
}

int mpnet_tcp_repr_emit(const struct mpnet_tcp_repr *r, uint8_t *b)
{
        int olen = mpnet_tcp_opts_emit(&r->opts, b + MPNET_TCP_HLEN);
        int hlen = MPNET_TCP_HLEN + olen;

        if (olen < 0)
                return olen;
        mpnet_put_be16(b, r->sport);
        mpnet_put_be16(b + 2, r->dport);
        mpnet_put_be32(b + 4, r->seq);
        mpnet_put_be32(b + 8, r->ack);
        b[12] = (uint8_t)((hlen / 4) << 4 | ((r->flags >> 8) & 1));
        b[13] = (uint8_t)r->flags;
        mpnet_put_be16(b + 14, r->window);
        b[16] = b[17] = 0;
        mpnet_put_be16(b + 18, r->urg);
        return hlen;
}

uint64_t mpnet_tcp4_pseudo(uint32_t src, uint32_t dst, uint16_t len)
{
        return (uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
               MPNET_IPPROTO_TCP + len;
}

uint64_t mpnet_tcp6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len)
{
        uint64_t s = mpnet_csum_add(mpnet_csum_add(0, src, 16), dst, 16);

        return s + (len >> 16) + (len & 0xffff) + MPNET_IPPROTO_TCP;
}

int mpnet_tcp4_csum_check(const struct mpnet_tcp_view *v, uint32_t src, uint32_t dst)
{
        uint64_t s = mpnet_tcp4_pseudo(src, dst, (uint16_t)v->n);

        return mpnet_csum_fold(mpnet_csum_add(s, v->b, v->n)) == 0 ? 0 : -MPNET_WIRE_BAD_CSUM;
}

int mpnet_tcp6_csum_check(const struct mpnet_tcp_view *v, const uint8_t src[16],
                          const uint8_t dst[16])
{
        uint64_t s = mpnet_tcp6_pseudo(src, dst, (uint32_t)v->n);

        return mpnet_csum_fold(mpnet_csum_add(s, v->b, v->n)) == 0 ? 0 : -MPNET_WIRE_BAD_CSUM;
}

/* The field is zeroed first so a segment can be re-checksummed in place. */
void mpnet_tcp4_csum_set(uint8_t *b, size_t n, uint32_t src, uint32_t dst)
{
        b[16] = b[17] = 0;
        mpnet_put_be16(b + 16, mpnet_csum_fold(
                                   mpnet_csum_add(mpnet_tcp4_pseudo(src, dst, (uint16_t)n), b, n)));
}

void mpnet_tcp6_csum_set(uint8_t *b, size_t n, const uint8_t src[16], const uint8_t dst[16])
{
        b[16] = b[17] = 0;
        mpnet_put_be16(b + 16, mpnet_csum_fold(
                                   mpnet_csum_add(mpnet_tcp6_pseudo(src, dst, (uint32_t)n), b, n)));
}
