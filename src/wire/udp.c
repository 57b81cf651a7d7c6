/* SPDX-License-Identifier: BSD-2-Clause */
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/udp.h"

int mpnet_udp_view_check(const uint8_t *b, size_t n, struct mpnet_udp_view *v)
{
        size_t len;

        if (n < MPNET_UDP_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        len = mpnet_get_be16(b + 4);
        if (len < MPNET_UDP_HLEN)
                return -MPNET_WIRE_BAD_HLEN;
        if (len > n)
                return -MPNET_WIRE_BAD_LEN;
        v->b = b;
        v->n = len;
        v->surplus = n - len;
        return 0;
}

uint64_t mpnet_udp4_pseudo(uint32_t src, uint32_t dst, uint16_t len)
{
        return (uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
               MPNET_IPPROTO_UDP + len;
}

uint64_t mpnet_udp6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len)
{
        uint64_t s = mpnet_csum_add(mpnet_csum_add(0, src, 16), dst, 16);

        return s + (len >> 16) + (len & 0xffff) + MPNET_IPPROTO_UDP;
}

static bool sum_ok(uint64_t pseudo, const struct mpnet_udp_view *v)
{
        return mpnet_csum_fold(mpnet_csum_add(pseudo, v->b, v->n)) == 0;
}

int mpnet_udp4_csum_check(const struct mpnet_udp_view *v, uint32_t src, uint32_t dst)
{
        if (mpnet_udp_csum(v) == 0)
                return MPNET_UDP_CSUM_NONE;
        return sum_ok(mpnet_udp4_pseudo(src, dst, mpnet_udp_len(v)), v) ? 0 : -MPNET_WIRE_BAD_CSUM;
}

int mpnet_udp6_csum_check(const struct mpnet_udp_view *v, const uint8_t src[16],
                          const uint8_t dst[16])
{
        if (mpnet_udp_csum(v) == 0)
                return -MPNET_WIRE_BAD_FIELD;
        return sum_ok(mpnet_udp6_pseudo(src, dst, mpnet_udp_len(v)), v) ? 0 : -MPNET_WIRE_BAD_CSUM;
}

void mpnet_udp_repr_parse(const struct mpnet_udp_view *v, struct mpnet_udp_repr *r)
{
        r->sport = mpnet_udp_sport(v);
        r->dport = mpnet_udp_dport(v);
        r->payload_len = (uint16_t)mpnet_udp_payload_len(v);
}

void mpnet_udp_repr_emit(const struct mpnet_udp_repr *r, uint8_t *b)
{
        mpnet_put_be16(b, r->sport);
        mpnet_put_be16(b + 2, r->dport);
        mpnet_put_be16(b + 4, (uint16_t)(MPNET_UDP_HLEN + r->payload_len));
        b[6] = b[7] = 0;
}

/* The field is zeroed first so a datagram can be re-checksummed in place. */
void mpnet_udp4_csum_set(uint8_t *b, uint32_t src, uint32_t dst)
{
        uint16_t len = mpnet_get_be16(b + 4);

        b[6] = b[7] = 0;
        mpnet_put_be16(
            b + 6, mpnet_udp_csum_final(mpnet_csum_add(mpnet_udp4_pseudo(src, dst, len), b, len)));
}

void mpnet_udp6_csum_set(uint8_t *b, const uint8_t src[16], const uint8_t dst[16])
{
        uint16_t len = mpnet_get_be16(b + 4);

        b[6] = b[7] = 0;
        mpnet_put_be16(
            b + 6, mpnet_udp_csum_final(mpnet_csum_add(mpnet_udp6_pseudo(src, dst, len), b, len)));
}
