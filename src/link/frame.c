/* SPDX-License-Identifier: BSD-2-Clause */
/* Frame helpers shared by afpacket and afxdp (frame.h). */
#include "link/frame.h"

#include <string.h>

#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

/* Find the TCP or UDP header of an unfragmented IPv4 or IPv6 (no extension
 * headers) packet behind up to two VLAN tags. */
bool link_frame_l4(const uint8_t *b, uint32_t n, uint32_t *l4, uint8_t *proto)
{
        uint32_t off = 12, l3;
        uint16_t et;

        if (n < 14)
                return false;
        et = mpnet_get_be16(b + off);
        for (int k = 0; k < 2 && (et == 0x8100 || et == 0x88a8); k++) {
                off += 4;
                if (n < off + 2)
                        return false;
                et = mpnet_get_be16(b + off);
        }
        l3 = off + 2;
        if (et == 0x0800 && n >= l3 + 20 && (b[l3] >> 4) == 4) {
                if ((mpnet_get_be16(b + l3 + 6) & 0x3fff) != 0)
                        return false;
                *l4 = l3 + (b[l3] & 15u) * 4;
                *proto = b[l3 + 9];
        } else if (et == 0x86dd && n >= l3 + 40) {
                *l4 = l3 + 40;
                *proto = b[l3 + 6];
        } else {
                return false;
        }
        return (*proto == 6 && n >= *l4 + 20) || (*proto == 17 && n >= *l4 + 8);
}

/* The IPv4 header of a frame, or NULL. */
static uint8_t *frame_ip4(uint8_t *b, uint32_t n, uint32_t *hlen)
{
        uint32_t off = 12;
        uint16_t et;

        if (n < 14)
                return NULL;
        et = mpnet_get_be16(b + off);
        for (int k = 0; k < 2 && (et == 0x8100 || et == 0x88a8); k++) {
                off += 4;
                if (n < off + 2)
                        return NULL;
                et = mpnet_get_be16(b + off);
        }
        off += 2;
        if (et != 0x0800 || n < off + 20 || (b[off] >> 4) != 4)
                return NULL;
        *hlen = (b[off] & 15u) * 4;
        return *hlen >= 20 && n >= off + *hlen ? b + off : NULL;
}

/* Checksums the packet asked the link for, done in software on the copy in
 * the ring. @return 0, or -1 when the frame does not allow them. */
int link_frame_csum(uint8_t *b, uint32_t n, uint32_t ol)
{
        if (ol & MPNET_PKT_F_L3_CSUM_TX) {
                uint32_t hlen;
                uint8_t *ip = frame_ip4(b, n, &hlen);

                if (ip == NULL)
                        return -1;
                ip[10] = ip[11] = 0;
                mpnet_put_be16(ip + 10, mpnet_csum(ip, hlen));
        }
        if (ol & MPNET_PKT_F_L4_CSUM_TX) {
                uint32_t l4;
                uint8_t proto;
                uint16_t c;

                if (!link_frame_l4(b, n, &l4, &proto))
                        return -1;
                /* The field holds the pseudo-header sum (DPDK's and virtio's
                 * convention): sum from the L4 header to the end. */
                c = mpnet_csum(b + l4, n - l4);
                if (proto == 17 && c == 0)
                        c = 0xffff; /* RFC 768 */
                mpnet_put_be16(b + l4 + (proto == 6 ? 16 : 6), c);
        }
        return 0;
}

/* Copy a packet into a slot's frame area. @return the frame length. */
uint32_t link_frame_copy(uint8_t *d, const struct mpnet_pkt *p)
{
        uint32_t off = 0, skip = 0;

        if (p->ol_flags & MPNET_PKT_F_VLAN) {
                mpnet_pkt_read(p, 0, d, 12);
                mpnet_put_be16(d + 12, 0x8100);
                mpnet_put_be16(d + 14, p->vlan_tci);
                off = 16;
                skip = 12;
        }
        for (const struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                uint32_t k = s->len;

                if (skip >= k) {
                        skip -= k;
                        continue;
                }
                memcpy(d + off, s->data + skip, k - skip);
                off += k - skip;
                skip = 0;
        }
        return off;
}
