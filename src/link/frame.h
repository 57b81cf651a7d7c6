/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Frame helpers shared by the kernel-socket back ends (afpacket, afxdp),
 * which copy packets into kernel rings and do in software the offloads a
 * packet asks for. Internal to the link layer.
 *
 * Synchronisation: none needed; the functions keep no state.
 */
#ifndef MPNET_LINK_FRAME_H
#define MPNET_LINK_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/pkt.h"

/**
 * Find the TCP or UDP header of an unfragmented IPv4 or IPv6 (no extension
 * headers) frame behind up to two VLAN tags.
 * @return true with *l4 (offset from b) and *proto set.
 */
bool link_frame_l4(const uint8_t *b, uint32_t n, uint32_t *l4, uint8_t *proto);

/**
 * Do the checksums ol (MPNET_PKT_F_L3_CSUM_TX, MPNET_PKT_F_L4_CSUM_TX) asks
 * for on the n-byte frame at b. The L4 field holds the pseudo-header sum.
 * @return 0, or -1 when the frame does not allow them.
 */
int link_frame_csum(uint8_t *b, uint32_t n, uint32_t ol);

/**
 * Copy a packet (all segments) to d, inserting its 802.1Q tag when it has
 * MPNET_PKT_F_VLAN. d must hold pkt_len + 4 bytes.
 * @return the frame length.
 */
uint32_t link_frame_copy(uint8_t *d, const struct mpnet_pkt *p);

#endif
