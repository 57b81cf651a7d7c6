/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtio-net header on receive (vnet.h): tap and afpacket. */
#include "link/vnet.h"

int link_vnet_rx(const struct virtio_net_hdr *vh, struct mpnet_pkt *p, bool gso_ok)
{
        if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
                uint32_t start = vh->csum_start, off = vh->csum_offset;

                /* Only TCP and UDP checksums are ever left partial to us. */
                if ((off != 16 && off != 6) || start + off + 2 > p->len)
                        return -1;
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_OK | MPNET_PKT_F_L4_CSUM_TX;
                p->l4_off = (uint16_t)(mpnet_pkt_headroom(p) + start);
        } else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_OK;
        }
        switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
        case VIRTIO_NET_HDR_GSO_NONE:
                return 0;
        case VIRTIO_NET_HDR_GSO_TCPV4:
        case VIRTIO_NET_HDR_GSO_TCPV6:
                if (!gso_ok || vh->gso_size == 0)
                        return -1;
                p->ol_flags |= MPNET_PKT_F_TSO;
                p->tso_segsz = vh->gso_size;
                return 0;
        default:
                return -1;
        }
}
