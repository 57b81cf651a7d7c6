/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ethernet.h
 * Ethernet II frames (IEEE 802.3 with an EtherType), without the FCS.
 */
#ifndef MPNET_WIRE_ETHERNET_H
#define MPNET_WIRE_ETHERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"

#define MPNET_ETH_ALEN 6
#define MPNET_ETH_HLEN 14

#define MPNET_ETHERTYPE_IPV4 0x0800
#define MPNET_ETHERTYPE_ARP  0x0806
#define MPNET_ETHERTYPE_VLAN 0x8100
#define MPNET_ETHERTYPE_IPV6 0x86dd

/** A checked window on an Ethernet frame. */
struct mpnet_eth_view {
        const uint8_t *b;
        size_t n;
};

/** @return 0, or -MPNET_WIRE_TRUNCATED when n is shorter than the header. */
MPNET_API int mpnet_eth_view_check(const uint8_t *b, size_t n, struct mpnet_eth_view *v);

static inline const uint8_t *mpnet_eth_dst(const struct mpnet_eth_view *v)
{
        return v->b;
}
static inline const uint8_t *mpnet_eth_src(const struct mpnet_eth_view *v)
{
        return v->b + 6;
}
static inline uint16_t mpnet_eth_type(const struct mpnet_eth_view *v)
{
        return mpnet_get_be16(v->b + 12);
}
static inline const uint8_t *mpnet_eth_payload(const struct mpnet_eth_view *v)
{
        return v->b + MPNET_ETH_HLEN;
}
static inline size_t mpnet_eth_payload_len(const struct mpnet_eth_view *v)
{
        return v->n - MPNET_ETH_HLEN;
}

/** An Ethernet header as fields. */
struct mpnet_eth_repr {
        uint8_t dst[MPNET_ETH_ALEN];
        uint8_t src[MPNET_ETH_ALEN];
        uint16_t ethertype;
};

MPNET_API void mpnet_eth_repr_parse(const struct mpnet_eth_view *v, struct mpnet_eth_repr *r);
/** @return the header length emit writes. */
static inline size_t mpnet_eth_repr_len(const struct mpnet_eth_repr *r)
{
        (void)r;
        return MPNET_ETH_HLEN;
}
/** Write the header into b (at least mpnet_eth_repr_len() bytes). */
MPNET_API void mpnet_eth_repr_emit(const struct mpnet_eth_repr *r, uint8_t *b);

static inline bool mpnet_eth_is_broadcast(const uint8_t *a)
{
        return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}
/** Group bit set (broadcast included). */
static inline bool mpnet_eth_is_multicast(const uint8_t *a)
{
        return (a[0] & 1) != 0;
}
static inline bool mpnet_eth_is_zero(const uint8_t *a)
{
        return (a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) == 0;
}

#endif
