/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Frames of the flood tests (tests/sim/test_flood_*.c) and of
 * bench/bench_flood.c: legitimate UDP through a router, and what an
 * attacker on the link sends (fragments that never complete, ARP and ND
 * from random sources, router advertisements with random prefixes, MLD
 * reports). Each builder writes an Ethernet frame at f and returns its
 * length. No test framework here: the benchmark uses it too.
 *
 * The network (documentation and benchmark ranges only):
 *   LAN 1 (the flooded one): 198.18.0.0/15 and 2001:db8:1::/64, router .1
 *   LAN 2: 198.51.100.0/24 and 2001:db8:2::/64, router .1
 */
#ifndef MPNET_FLOOD_FRAMES_H
#define MPNET_FLOOD_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpnet/wire/arp.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"

#define FF_LAN1_ADDR  0xc6120001u /* 198.18.0.1/15, the router */
#define FF_LAN1_PLEN  15
#define FF_LAN2_ADDR  0xc6336401u /* 198.51.100.1/24, the router */
#define FF_H1_ADDR    0xc612000au /* 198.18.0.10: the legitimate host on LAN 1 */
#define FF_H3_ADDR    0xc6120014u /* 198.18.0.20: a host that appears during a flood */
#define FF_H2_ADDR    0xc6336402u /* 198.51.100.2: the legitimate host on LAN 2 */
#define FF_LEGIT_PORT 7777        /* UDP destination port of legitimate traffic */
#define FF_UDP_LEN    26          /* UDP header and payload: 64-byte IPv4 frames */

static const uint8_t ff_h1_mac[6] = {0x02, 0xf1, 0, 0, 0, 0x0a};
static const uint8_t ff_h2_mac[6] = {0x02, 0xf2, 0, 0, 0, 0x02};
static const uint8_t ff_h3_mac[6] = {0x02, 0xf1, 0, 0, 0, 0x14};
static const uint8_t ff_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
/* 2001:db8:1::1, 2001:db8:1::10 (H1), 2001:db8:1::20 (H3) */
static const uint8_t ff_lan1_r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x01};
static const uint8_t ff_h1_6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10};
static const uint8_t ff_h3_6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x20};
/* 2001:db8:2::1, 2001:db8:2::2 (H2) */
static const uint8_t ff_lan2_r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x01};
static const uint8_t ff_h2_6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x02};

/* A seeded xorshift64: the same seed floods the same frames. */
static inline uint64_t ff_rand(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* A random unicast, locally administered MAC. */
static inline void ff_rand_mac(uint64_t *s, uint8_t *mac)
{
        uint64_t r = ff_rand(s);

        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)(r >> (8 * i));
        mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

/* A random interface identifier under prefix (the first 8 bytes). */
static inline void ff_rand_iid(uint64_t *s, const uint8_t *prefix, uint8_t *a)
{
        uint64_t r = ff_rand(s) | 0x100; /* never ::0 .. ::ff */

        memcpy(a, prefix, 8);
        for (int i = 0; i < 8; i++)
                a[8 + i] = (uint8_t)(r >> (8 * i));
}

static inline size_t ff_eth(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint16_t type)
{
        memcpy(f, dmac, 6);
        memcpy(f + 6, smac, 6);
        mpnet_put_be16(f + 12, type);
        return MPNET_ETH_HLEN;
}

/* IPv4: n bytes of payload of proto (filled with a pattern) at offset off
 * (bytes) of datagram id, MF as given. UDP payloads get a header when off
 * is 0. */
static inline size_t ff_ip4(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
                            uint32_t dst, uint16_t id, uint16_t off, bool mf, uint16_t n)
{
        struct mpnet_ip4_repr ip = {.src = src,
                                    .dst = dst,
                                    .id = id,
                                    .payload_len = n,
                                    .frag_off = off,
                                    .mf = mf,
                                    .proto = MPNET_IPPROTO_UDP,
                                    .ttl = 64};
        size_t h = ff_eth(f, dmac, smac, MPNET_ETHERTYPE_IPV4);
        uint8_t *u = f + h + MPNET_IP4_HLEN;

        mpnet_ip4_repr_emit(&ip, f + h);
        for (unsigned i = 0; i < n; i++)
                u[i] = (uint8_t)(i + id);
        if (off == 0 && n >= 8) {
                mpnet_put_be16(u, 1024);
                mpnet_put_be16(u + 2, FF_LEGIT_PORT);
                mpnet_put_be16(u + 4, n);
                mpnet_put_be16(u + 6, 0); /* no checksum (RFC 768) */
        }
        return h + MPNET_IP4_HLEN + n;
}

/* A legitimate UDP datagram (not a fragment). */
static inline size_t ff_udp4(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
                             uint32_t dst, uint16_t id)
{
        return ff_ip4(f, dmac, smac, src, dst, id, 0, false, FF_UDP_LEN);
}

/* IPv6 with a fragment header when frag: n bytes of UDP payload at
 * offset off of datagram id, M as given. */
static inline size_t ff_ip6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
                            const uint8_t *src, const uint8_t *dst, bool frag, uint32_t id,
                            uint16_t off, bool more, uint16_t n)
{
        struct mpnet_ip6_repr ip = {.payload_len = (uint16_t)(n + (frag ? 8 : 0)),
                                    .next_header =
                                        frag ? MPNET_IPPROTO_FRAGMENT : MPNET_IPPROTO_UDP,
                                    .hop_limit = 64};
        size_t h = ff_eth(f, dmac, smac, MPNET_ETHERTYPE_IPV6);
        uint8_t *x = f + h + MPNET_IP6_HLEN, *u;

        memcpy(ip.src, src, 16);
        memcpy(ip.dst, dst, 16);
        mpnet_ip6_repr_emit(&ip, f + h);
        if (frag) {
                x[0] = MPNET_IPPROTO_UDP;
                x[1] = 0;
                mpnet_put_be16(x + 2, (uint16_t)(off | (more ? 1 : 0)));
                mpnet_put_be32(x + 4, id);
                x += 8;
        }
        u = x;
        for (unsigned i = 0; i < n; i++)
                u[i] = (uint8_t)(i + id);
        if (off == 0 && n >= 8) {
                mpnet_put_be16(u, 1024);
                mpnet_put_be16(u + 2, FF_LEGIT_PORT);
                mpnet_put_be16(u + 4, n);
                /* Forwarded, never checked: any non-zero checksum will do. */
                mpnet_put_be16(u + 6, 0xffff);
        }
        return (size_t)(u + n - f);
}

static inline size_t ff_udp6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
                             const uint8_t *src, const uint8_t *dst)
{
        return ff_ip6(f, dmac, smac, src, dst, false, 0, 0, false, FF_UDP_LEN);
}

static inline size_t ff_arp(uint8_t *f, const uint8_t *dmac, uint16_t op, const uint8_t *sha,
                            uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
        struct mpnet_arp_repr r = {.op = op, .spa = spa, .tpa = tpa};
        size_t h = ff_eth(f, dmac, sha, MPNET_ETHERTYPE_ARP);

        memcpy(r.sha, sha, 6);
        memcpy(r.tha, tha, 6);
        mpnet_arp_repr_emit(&r, f + h);
        memset(f + h + MPNET_ARP_LEN, 0, 60 - h - MPNET_ARP_LEN);
        return 60; /* padded to the Ethernet minimum */
}

/* An ICMPv6 message m (checksum filled in here) in IPv6 with hop limit hlim. */
static inline size_t ff_icmp6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
                              const uint8_t *src, const uint8_t *dst, uint8_t hlim, size_t n)
{
        struct mpnet_ip6_repr ip = {
            .payload_len = (uint16_t)n, .next_header = MPNET_IPPROTO_ICMPV6, .hop_limit = hlim};
        size_t h = ff_eth(f, dmac, smac, MPNET_ETHERTYPE_IPV6);

        memcpy(ip.src, src, 16);
        memcpy(ip.dst, dst, 16);
        mpnet_ip6_repr_emit(&ip, f + h);
        return h + MPNET_IP6_HLEN + n;
}

/* A neighbour solicitation or advertisement (RFC 4861 4.3, 4.4) from smac. */
static inline size_t ff_nd(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
                           const uint8_t *dst, uint8_t type, const uint8_t *target, bool solicited)
{
        struct mpnet_nd_repr r = {.type = type, .solicited = solicited, .override = true};
        struct mpnet_nd_opts o = {0};
        size_t n;

        memcpy(r.target, target, 16);
        if (type == MPNET_ICMP6_ND_NS)
                o.slla = smac;
        else
                o.tlla = smac;
        n = mpnet_nd_repr_len(&r, &o);
        mpnet_nd_repr_emit(&r, &o, src, dst, f + MPNET_ETH_HLEN + MPNET_IP6_HLEN);
        return ff_icmp6(f, dmac, smac, src, dst, 255, n);
}

/* A router advertisement to all nodes with n prefixes (on-link and
 * autonomous, the longest lifetimes) and the router's link-layer address. */
static inline size_t ff_ra(uint8_t *f, const uint8_t *smac, const uint8_t *src,
                           const struct mpnet_nd_prefix *pi, size_t n, uint16_t router_lifetime)
{
        static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
        uint8_t dmac[6];
        struct mpnet_nd_repr r = {
            .type = MPNET_ICMP6_ND_RA, .cur_hop_limit = 64, .router_lifetime = router_lifetime};
        struct mpnet_nd_opts o = {.slla = smac, .prefix = pi, .n_prefix = n};
        size_t len = mpnet_nd_repr_len(&r, &o);

        mpnet_ip6_mc_mac(all_nodes, dmac);
        mpnet_nd_repr_emit(&r, &o, src, all_nodes, f + MPNET_ETH_HLEN + MPNET_IP6_HLEN);
        return ff_icmp6(f, dmac, smac, src, all_nodes, 255, len);
}

/* An MLDv2 report (RFC 3810 5.2) of n groups, with the hop-by-hop router
 * alert it must carry (5), hop limit 1, to dst (NULL: ff02::16, as 5.2.14
 * says; an attacker may pick all-nodes, which every node receives). */
static inline size_t ff_mld_report(uint8_t *f, const uint8_t *smac, const uint8_t *src,
                                   const uint8_t *dst, const uint8_t (*groups)[16], size_t n)
{
        static const uint8_t ff02_16[16] = {0xff, 2, [15] = 0x16};
        const uint8_t *mld_routers = dst != NULL ? dst : ff02_16;
        struct mpnet_mld_record rec[8];
        struct mpnet_ip6_repr ip = {.next_header = MPNET_IPPROTO_HOPOPTS, .hop_limit = 1};
        uint8_t dmac[6], *x = f + MPNET_ETH_HLEN + MPNET_IP6_HLEN;
        size_t len;

        if (n > 8)
                n = 8;
        for (size_t i = 0; i < n; i++)
                rec[i] =
                    (struct mpnet_mld_record){.type = MPNET_MLD2_TO_EXCLUDE, .group = groups[i]};
        len = mpnet_mld_report_len(rec, n);
        mpnet_ip6_mc_mac(mld_routers, dmac);
        ff_eth(f, dmac, smac, MPNET_ETHERTYPE_IPV6);
        ip.payload_len = (uint16_t)(8 + len);
        memcpy(ip.src, src, 16);
        memcpy(ip.dst, mld_routers, 16);
        mpnet_ip6_repr_emit(&ip, f + MPNET_ETH_HLEN);
        /* RFC 2711 router alert, value 0 (MLD), and a PadN of 2. */
        x[0] = MPNET_IPPROTO_ICMPV6;
        x[1] = 0;
        x[2] = 5;
        x[3] = 2;
        x[4] = x[5] = 0;
        x[6] = 1;
        x[7] = 0;
        mpnet_mld_report_emit(rec, n, src, mld_routers, x + 8);
        return MPNET_ETH_HLEN + MPNET_IP6_HLEN + 8 + len;
}

#endif
