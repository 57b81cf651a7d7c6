/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtio-net header on receive (vnet.h): tap and afpacket. */
#include "link/vnet.h"

#include <string.h>

#include "link/frame.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

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

int link_vnet_gso_init(struct link_gso *g, const struct virtio_net_hdr *vh, const uint8_t *f,
                       uint32_t n, uint32_t max_seg, uint32_t max_n)
{
        uint8_t proto;

        if (vh->gso_size == 0 || !link_frame_l4(f, n, &g->l4, &proto) || proto != 6)
                return -1;
        g->l3 = 14;
        while (g->l3 + 4 <= g->l4 && mpnet_get_be16(f + g->l3 - 2) != 0x0800 &&
               mpnet_get_be16(f + g->l3 - 2) != 0x86dd)
                g->l3 += 4; /* VLAN tags */
        g->v6 = (f[g->l3] >> 4) == 6;
        g->hl = g->l4 + (f[g->l4 + 12] >> 4) * 4u;
        if (g->hl > n)
                return -1;
        g->payload = n - g->hl;
        g->mss = vh->gso_size;
        g->n = (g->payload + g->mss - 1) / g->mss;
        if (g->n == 0 || g->n > max_n || g->hl + g->mss > max_seg)
                return -1;
        return 0;
}

uint32_t link_vnet_gso_seg(const struct link_gso *g, const uint8_t *f, uint32_t i, uint8_t *d)
{
        uint32_t off = i * g->mss, len = g->payload - off < g->mss ? g->payload - off : g->mss;
        uint32_t l4len = g->hl - g->l4 + len;
        uint8_t *ip = d + g->l3, *th = d + g->l4, ph[40];
        uint64_t sum;

        memcpy(d, f, g->hl);
        memcpy(d + g->hl, f + g->hl + off, len);
        if (g->v6) {
                mpnet_put_be16(ip + 4, (uint16_t)(g->l4 - g->l3 - 40 + l4len));
                memcpy(ph, ip + 8, 32);
                mpnet_put_be32(ph + 32, l4len);
                mpnet_put_be32(ph + 36, 6);
                sum = mpnet_csum_add(0, ph, 40);
        } else {
                mpnet_put_be16(ip + 2, (uint16_t)(g->l4 - g->l3 + l4len));
                mpnet_put_be16(ip + 4, (uint16_t)(mpnet_get_be16(ip + 4) + i));
                ip[10] = ip[11] = 0;
                mpnet_put_be16(ip + 10, mpnet_csum(ip, g->l4 - g->l3));
                memcpy(ph, ip + 12, 8);
                ph[8] = 0;
                ph[9] = 6;
                mpnet_put_be16(ph + 10, (uint16_t)l4len);
                sum = mpnet_csum_add(0, ph, 12);
        }
        mpnet_put_be32(th + 4, mpnet_get_be32(th + 4) + off);
        if (i + 1 < g->n)
                th[13] &= (uint8_t)~0x09; /* FIN, PSH: the last piece's */
        if (i > 0)
                th[13] &= (uint8_t)~0x80; /* CWR: the first's (RFC 3168 6.1.2) */
        /* The field holds the pseudo-header sum, to be completed. */
        mpnet_put_be16(th + 16, (uint16_t)~mpnet_csum_fold(sum));
        return g->hl + len;
}
