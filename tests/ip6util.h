/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers of the IPv6 simulation tests: addresses from text, stacks with
 * IPv6 on, ping6 and frame builders for what a stack would never send.
 */
#ifndef MPNET_IP6UTIL_H
#define MPNET_IP6UTIL_H

#include <arpa/inet.h>

#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "testutil.h"

/* An address from its text form. */
static inline const uint8_t *A6(const char *txt)
{
        static uint8_t ring[16][16];
        static unsigned k;
        uint8_t *a = ring[k++ % 16];

        assert_int_equal(inet_pton(AF_INET6, txt, a), 1);
        return a;
}

static inline uint32_t addr6_flags(struct mpnet_stack *s, int ifindex, const uint8_t *a)
{
        struct mpnet_addr6_info info[16];
        int n = mpnet_addr6_list(s, ifindex, info, 16);

        for (int i = 0; i < n && i < 16; i++) {
                if (memcmp(info[i].addr, a, 16) == 0)
                        return info[i].flags;
        }
        return UINT32_MAX;
}

/* The link-local address a stack makes from mac (RFC 4291 2.5.1). */
static inline void ll_of(const uint8_t *mac, uint8_t *a)
{
        memset(a, 0, 16);
        a[0] = 0xfe;
        a[1] = 0x80;
        a[8] = mac[0] ^ 2;
        a[9] = mac[1];
        a[10] = mac[2];
        a[11] = 0xff;
        a[12] = 0xfe;
        a[13] = mac[3];
        a[14] = mac[4];
        a[15] = mac[5];
}

/* A fresh stack with IPv6 on for every interface. */
static inline struct mpnet_stack *stack6_new(struct mpnet_clock *clk, struct mpnet_pool *pool,
                                             const char *name, uint64_t seed, bool router)
{
        struct mpnet_stack_cfg sc = {.clock = clk, .pool = pool, .name = name, .seed = seed};
        struct mpnet_stack *s;

        sc.ip6_auto = true;
        sc.ip6_forwarding = router;
        sc.ip4_forwarding = router;
        s = mpnet_stack_create(&sc);
        assert_non_null(s);
        return s;
}

/* Send one echo request and collect what came back within wait ns. */
static inline unsigned ping6_one(struct mpnet_clock *clk, struct mpnet_stack **st, unsigned n,
                                 int from, const struct mpnet_ping6_req *req,
                                 struct mpnet_ping6_reply *out, unsigned max, uint64_t wait)
{
        assert_int_equal(mpnet_ping6_send(st[from], req, mpnet_clock_now(clk)), 0);
        sim_run_until(clk, st, n, mpnet_clock_now(clk) + wait);
        return mpnet_ping6_recv(st[from], out, max);
}

/*
 * An Ethernet frame with an ICMPv6 message: IPv6 header (hop limit hlim)
 * and msg (n bytes, checksum filled in here). @return the frame length.
 */
static inline size_t frame6_icmp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
                                 const uint8_t *src, const uint8_t *dst, uint8_t hlim,
                                 const uint8_t *msg, size_t n)
{
        struct mpnet_ip6_repr ip = {
            .payload_len = (uint16_t)n, .next_header = MPNET_IPPROTO_ICMPV6, .hop_limit = hlim};
        uint8_t *m = f + MPNET_ETH_HLEN + MPNET_IP6_HLEN;

        memcpy(f, dmac, 6);
        memcpy(f + 6, smac, 6);
        f[12] = 0x86;
        f[13] = 0xdd;
        memcpy(ip.src, src, 16);
        memcpy(ip.dst, dst, 16);
        mpnet_ip6_repr_emit(&ip, f + MPNET_ETH_HLEN);
        memcpy(m, msg, n);
        m[2] = m[3] = 0;
        mpnet_put_be16(m + 2, mpnet_icmp6_csum(m, n, src, dst));
        return MPNET_ETH_HLEN + MPNET_IP6_HLEN + n;
}

/* Put a frame on a link end that no stack drives. */
static inline void link_send(struct mpnet_pool *pool, struct mpnet_link *l, const uint8_t *f,
                             size_t n)
{
        struct mpnet_pkt *p = mpnet_pkt_from_bytes(pool, f, (uint32_t)n);

        assert_non_null(p);
        assert_int_equal(mpnet_link_tx_burst(l, 0, &p, 1), 1);
}

/* Take and free what waits on a link end; @return how many frames. */
static inline unsigned link_drain(struct mpnet_link *l)
{
        struct mpnet_pkt *p[64];
        unsigned n, total = 0;

        while ((n = mpnet_link_rx_burst(l, 0, p, 64)) > 0) {
                total += n;
                mpnet_pkt_free_bulk(p, n);
        }
        return total;
}

#endif
