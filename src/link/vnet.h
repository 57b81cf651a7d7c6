/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtio-net header (struct virtio_net_hdr, <linux/virtio_net.h>) that
 * the kernel puts before each frame of a tap with IFF_VNET_HDR and of a
 * packet socket with PACKET_VNET_HDR: checksum and segmentation state of a
 * frame that never crossed a wire. Shared by the tap and afpacket links.
 * Internal to the link layer.
 *
 * Synchronisation: none needed; the functions keep no state.
 */
#ifndef MPNET_LINK_VNET_H
#define MPNET_LINK_VNET_H

#include <linux/virtio_net.h>
#include <stdbool.h>

#include "mpnet/pkt.h"

/**
 * Turn a received header into packet flags: NEEDS_CSUM (a TCP/UDP checksum
 * left partial by a local sender) becomes MPNET_PKT_F_L4_CSUM_OK |
 * MPNET_PKT_F_L4_CSUM_TX with l4_off at csum_start; DATA_VALID becomes
 * MPNET_PKT_F_L4_CSUM_OK; a TCP GSO super-frame becomes MPNET_PKT_F_TSO with
 * tso_segsz = gso_size when gso_ok. csum_start counts from the first byte
 * of p's data.
 * @return 0, or -1 when the header cannot be honoured (drop the frame).
 */
int link_vnet_rx(const struct virtio_net_hdr *vh, struct mpnet_pkt *p, bool gso_ok);

/** @return true when the header says anything (not all zero in effect). */
static inline bool link_vnet_any(const struct virtio_net_hdr *vh)
{
        return vh->flags != 0 || vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

/* A TCP GSO super-frame being cut into segments (link_vnet_gso_*). */
struct link_gso {
        uint32_t l3, l4, hl;   /* IP header, TCP header, payload: offsets */
        uint32_t payload, mss; /* payload bytes, bytes per segment */
        uint32_t n;            /* segments */
        bool v6;
};

/**
 * Get ready to cut the n-byte super-frame f (Ethernet, up to two VLAN tags,
 * IPv4 or IPv6 without extension headers, TCP) into vh->gso_size pieces,
 * as the kernel's tcp_gso_segment() would have before a wire.
 * @return 0, or -1 when it is not such a frame or a segment would not fit
 * max_seg bytes or there would be more than max_n of them.
 */
int link_vnet_gso_init(struct link_gso *g, const struct virtio_net_hdr *vh, const uint8_t *f,
                       uint32_t n, uint32_t max_seg, uint32_t max_n);

/**
 * Write segment i of g (cut from f) to d: the headers with the IP length,
 * the IPv4 ID (+i) and header checksum, the sequence number and the flags
 * (FIN and PSH on the last only, CWR on the first only) of that piece, and
 * in the TCP checksum field the pseudo-header sum (partial, as a local
 * sender leaves it: flag the packet MPNET_PKT_F_L4_CSUM_OK |
 * MPNET_PKT_F_L4_CSUM_TX with l4_off at g->l4).
 * @return the segment's length.
 */
uint32_t link_vnet_gso_seg(const struct link_gso *g, const uint8_t *f, uint32_t i, uint8_t *d);

#endif
