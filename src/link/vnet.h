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

#endif
