/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file arp.h
 * ARP (RFC 826) for IPv4 over Ethernet: the only hardware and protocol pair
 * the view accepts.
 */
#ifndef MPNET_WIRE_ARP_H
#define MPNET_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"

#define MPNET_ARP_LEN        28
#define MPNET_ARP_OP_REQUEST 1
#define MPNET_ARP_OP_REPLY   2

struct mpnet_arp_view {
        const uint8_t *b;
        size_t n;
};

/**
 * @return 0; -MPNET_WIRE_TRUNCATED below 28 bytes; -MPNET_WIRE_UNSUPPORTED
 * unless hardware type 1 (Ethernet), protocol 0x0800, hlen 6 and plen 4.
 */
MPNET_API int mpnet_arp_view_check(const uint8_t *b, size_t n, struct mpnet_arp_view *v);

static inline uint16_t mpnet_arp_op(const struct mpnet_arp_view *v)
{
        return mpnet_get_be16(v->b + 6);
}
static inline const uint8_t *mpnet_arp_sha(const struct mpnet_arp_view *v)
{
        return v->b + 8;
}
static inline uint32_t mpnet_arp_spa(const struct mpnet_arp_view *v)
{
        return mpnet_get_be32(v->b + 14);
}
static inline const uint8_t *mpnet_arp_tha(const struct mpnet_arp_view *v)
{
        return v->b + 18;
}
static inline uint32_t mpnet_arp_tpa(const struct mpnet_arp_view *v)
{
        return mpnet_get_be32(v->b + 24);
}

/** An Ethernet/IPv4 ARP packet as fields; addresses in host order. */
struct mpnet_arp_repr {
        uint16_t op;
        uint8_t sha[6];
        uint32_t spa;
        uint8_t tha[6];
        uint32_t tpa;
};

MPNET_API void mpnet_arp_repr_parse(const struct mpnet_arp_view *v, struct mpnet_arp_repr *r);
static inline size_t mpnet_arp_repr_len(const struct mpnet_arp_repr *r)
{
        (void)r;
        return MPNET_ARP_LEN;
}
/** Write the packet into b (28 bytes). */
MPNET_API void mpnet_arp_repr_emit(const struct mpnet_arp_repr *r, uint8_t *b);

#endif
