/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "mpnet/wire/ethernet.h"

int mpnet_eth_view_check(const uint8_t *b, size_t n, struct mpnet_eth_view *v)
{
        if (n < MPNET_ETH_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        v->b = b;
        v->n = n;
        return 0;
}

void mpnet_eth_repr_parse(const struct mpnet_eth_view *v, struct mpnet_eth_repr *r)
{
        memcpy(r->dst, v->b, 6);
        memcpy(r->src, v->b + 6, 6);
        r->ethertype = mpnet_get_be16(v->b + 12);
}

void mpnet_eth_repr_emit(const struct mpnet_eth_repr *r, uint8_t *b)
{
        memcpy(b, r->dst, 6);
        memcpy(b + 6, r->src, 6);
        mpnet_put_be16(b + 12, r->ethertype);
}
