/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "mpnet/wire/arp.h"

int mpnet_arp_view_check(const uint8_t *b, size_t n, struct mpnet_arp_view *v)
{
        if (n < MPNET_ARP_LEN)
                return -MPNET_WIRE_TRUNCATED;
        if (mpnet_get_be16(b) != 1 || mpnet_get_be16(b + 2) != 0x0800 || b[4] != 6 || b[5] != 4)
                return -MPNET_WIRE_UNSUPPORTED;
        v->b = b;
        v->n = MPNET_ARP_LEN; /* what follows is Ethernet padding */
        return 0;
}

void mpnet_arp_repr_parse(const struct mpnet_arp_view *v, struct mpnet_arp_repr *r)
{
        r->op = mpnet_arp_op(v);
        memcpy(r->sha, mpnet_arp_sha(v), 6);
        r->spa = mpnet_arp_spa(v);
        memcpy(r->tha, mpnet_arp_tha(v), 6);
        r->tpa = mpnet_arp_tpa(v);
}

void mpnet_arp_repr_emit(const struct mpnet_arp_repr *r, uint8_t *b)
{
        mpnet_put_be16(b, 1);
        mpnet_put_be16(b + 2, 0x0800);
        b[4] = 6;
        b[5] = 4;
        mpnet_put_be16(b + 6, r->op);
        memcpy(b + 8, r->sha, 6);
        mpnet_put_be32(b + 14, r->spa);
        memcpy(b + 18, r->tha, 6);
        mpnet_put_be32(b + 24, r->tpa);
}
