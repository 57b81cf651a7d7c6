/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <stdio.h>

#include "mpnet/wire/ipv4.h"

int mpnet_ip4_view_check(const uint8_t *b, size_t n, struct mpnet_ip4_view *v)
{
        size_t hlen, total;

        if (n < MPNET_IP4_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        if ((b[0] >> 4) != 4)
                return -MPNET_WIRE_BAD_VERSION;
        hlen = (size_t)(b[0] & 0x0f) * 4;
        if (hlen < MPNET_IP4_HLEN)
                return -MPNET_WIRE_BAD_HLEN;
        total = mpnet_get_be16(b + 2);
        if (total < MPNET_IP4_HLEN)
                return -MPNET_WIRE_BAD_LEN;
        if (hlen > total)
                return -MPNET_WIRE_BAD_HLEN;
        if (n < hlen)
                return -MPNET_WIRE_TRUNCATED;
        /* RFC 1812 5.2.2: a packet shorter than its total length is dropped;
         * bytes past it are link padding. */
        if (n < total)
                return -MPNET_WIRE_BAD_LEN;
        v->b = b;
        v->n = total;
        return 0;
}

bool mpnet_ip4_has_source_route(const struct mpnet_ip4_view *v)
{
        size_t hl = mpnet_ip4_hlen(v), i = MPNET_IP4_HLEN;

        while (i < hl) {
                uint8_t t = v->b[i];

                if (t == 0) /* end of options */
                        break;
                if (t == 1) { /* no operation */
                        i++;
                        continue;
                }
                if (t == 131 || t == 137)
                        return true;
                if (i + 1 >= hl || v->b[i + 1] < 2)
                        break;
                i += v->b[i + 1];
        }
        return false;
}

void mpnet_ip4_repr_parse(const struct mpnet_ip4_view *v, struct mpnet_ip4_repr *r)
{
        r->src = mpnet_ip4_src(v);
        r->dst = mpnet_ip4_dst(v);
        r->id = mpnet_ip4_id(v);
        r->payload_len = (uint16_t)mpnet_ip4_payload_len(v);
        r->frag_off = mpnet_ip4_frag_off(v);
        r->proto = mpnet_ip4_proto(v);
        r->ttl = mpnet_ip4_ttl(v);
        r->tos = mpnet_ip4_tos(v);
        r->df = mpnet_ip4_df(v);
        r->mf = mpnet_ip4_mf(v);
}

void mpnet_ip4_repr_emit(const struct mpnet_ip4_repr *r, uint8_t *b)
{
        uint16_t frag = (uint16_t)((r->frag_off / 8) & 0x1fff);

        if (r->df)
                frag |= 0x4000;
        if (r->mf)
                frag |= 0x2000;
        b[0] = 0x45;
        b[1] = r->tos;
        mpnet_put_be16(b + 2, (uint16_t)(MPNET_IP4_HLEN + r->payload_len));
        mpnet_put_be16(b + 4, r->id);
        mpnet_put_be16(b + 6, frag);
        b[8] = r->ttl;
        b[9] = r->proto;
        b[10] = b[11] = 0;
        mpnet_put_be32(b + 12, r->src);
        mpnet_put_be32(b + 16, r->dst);
        mpnet_put_be16(b + 10, mpnet_csum20(b));
}

char *mpnet_ip4_ntop(uint32_t a, char *buf, size_t len)
{
        snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
        return buf;
}

int mpnet_ip4_pton(const char *s, uint32_t *a)
{
        uint32_t v = 0;

        for (int i = 0; i < 4; i++) {
                unsigned octet = 0, digits = 0;

                while (*s >= '0' && *s <= '9') {
                        octet = octet * 10 + (unsigned)(*s++ - '0');
                        /* No leading zeros (they read as octal to inet_aton). */
                        if (++digits > 3 || octet > 255 || (digits == 2 && octet < 10))
                                return -EINVAL;
                }
                if (digits == 0)
                        return -EINVAL;
                v = v << 8 | octet;
                if (i < 3 && *s++ != '.')
                        return -EINVAL;
        }
        if (*s != '\0')
                return -EINVAL;
        *a = v;
        return 0;
}
