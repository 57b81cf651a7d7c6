/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ip4-rewrite node: forwarding of the packets ip4-lookup routed through
 * us (RFC 1812 section 5.3). Per packet: TTL check and decrement with an
 * incremental checksum update (RFC 1624), choice of an ECMP path by flow
 * hash, the MTU check (fragment, or ICMP fragmentation needed when DF is
 * set), and the Ethernet header from the neighbour entry. Packets whose
 * neighbour has a link-layer address (STALE included, RFC 4861 7.3.3) take
 * the fast path straight onto the output interface's transmit vector; the
 * rest go through ARP resolution (l3/neigh.c).
 * A packet that goes back out the interface it came in on may draw a
 * redirect (RFC 1812 5.2.7.2).
 *
 * Synchronisation: runs on any context (the control thread or a worker);
 * what only the control thread may do (ARP resolution, fragmentation, ICMP
 * errors) a worker punts.
 */
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"
#include "l3/forward.h"
#include "l3/neigh.h"
#include "fib/fib_priv.h"
#include "l3/ip4.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* A flow hash for ECMP: the link's RSS hash when it gave one, else a mix of
 * the addresses, the protocol and, for unfragmented TCP and UDP, the ports. */
static uint32_t ip4_flow_hash(const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        uint64_t h;

        if (p->ol_flags & MPNET_PKT_F_FLOW_HASH)
                return p->flow_hash;
        h = (uint64_t)mpnet_get_be32(b + 12) << 32 | mpnet_get_be32(b + 16);
        h ^= (uint64_t)b[9] << 17;
        if ((b[9] == MPNET_IPPROTO_TCP || b[9] == MPNET_IPPROTO_UDP) &&
            (mpnet_get_be16(b + 6) & 0x3fff) == 0) {
                size_t hl = (size_t)(b[0] & 0xf) * 4;

                if (p->len >= hl + 4)
                        h ^= (uint64_t)mpnet_get_be32(b + hl) << 7;
        }
        h *= 0x9e3779b97f4a7c15ull;
        return (uint32_t)(h >> 32);
}

/* TTL minus one, checksum updated in place (RFC 1624 eqn. 3). The new TTL
 * and protocol word is computed, not read back: a 16-bit load of the byte
 * just stored cannot take it from the store queue (store-to-load forwarding
 * needs the load inside the store) and waited for the store to reach the
 * cache, the costliest instruction of the forwarding path (issue 14). The
 * caller has checked TTL > 1, so the subtraction stays in the TTL byte. */
static inline void ip4_ttl_dec(uint8_t *b)
{
        uint16_t old = mpnet_get_be16(b + 8), upd = (uint16_t)(old - 0x100);

        b[8] = (uint8_t)(upd >> 8);
        mpnet_put_be16(b + 10, mpnet_csum_update16(mpnet_get_be16(b + 10), old, upd));
}

/*
 * RFC 1812 5.2.7.2: a packet that leaves by the interface it came in on,
 * from a source on a network connected there that also holds the next hop,
 * and with no source route, had a better first hop: redirect the host
 * (code 1; network redirects are not sent, RFC 1812 5.2.7.2) to the next
 * hop. The packet is still forwarded. The error is built where ICMP errors
 * are (the control thread, rate-limited), from a copy of the quoted part.
 */
static void ip4_redirect(struct wctx *w, struct mpnet_iface *in, const struct mpnet_pkt *p,
                         uint32_t nexthop)
{
        struct mpnet_stack *s = w->s;
        uint32_t src = mpnet_get_be32(p->data + 12), n;
        /* ip4-input checked the header (and its length) in this buffer. */
        struct mpnet_ip4_view v = {.b = p->data, .n = p->len};
        const struct fib_nh *snh;
        struct mpnet_pkt *q;

        if (!atomic_load_explicit(&in->in4->redirect4_send, memory_order_relaxed) || nexthop == src)
                return;
        snh = fib4_lookup(&s->fib, iface_fib4(in), src);
        if (snh == NULL || snh->type != MPNET_NH_CONNECTED || snh->paths[0].ifp != in ||
            ((src ^ nexthop) & ip4_mask(snh->plen)) != 0 || mpnet_ip4_has_source_route(&v))
                return;
        q = mpnet_pkt_alloc(s->pool);
        if (q == NULL) {
                STK_INC(s, nobufs);
                return;
        }
        /* What an ICMP error quotes at most (576 bytes in all). */
        n = p->pkt_len < 548 ? p->pkt_len : 548;
        if (mpnet_pkt_read(p, 0, mpnet_pkt_append(q, n), n) != 0) {
                mpnet_pkt_free(q);
                return;
        }
        q->ifindex = p->ifindex;
        STK_INC(s, ip4_redirect_tx);
        node_icmp_error(w, q, MPNET_ICMP4_REDIRECT, 1, nexthop);
}

/* Forward one packet. @return 1 when it went on (counted by the caller per
 * vector), 0 when it was dropped or turned into an error. */
static inline unsigned ip4_forward_one(struct wctx *w, struct mpnet_iface *in, struct mpnet_pkt *p,
                                       const void *nhv)
{
        const struct fib_nh *nh = nhv;
        struct mpnet_stack *s = w->s;
        uint8_t *b = p->data;
        const struct fib_path *path = &nh->paths[0];
        struct mpnet_iface *out;
        struct neigh_entry *e;
        uint32_t nexthop;
        unsigned sent;

        /* RFC 1812 5.3.1: a packet that arrives with TTL 1 (or 0) dies here. */
        if (__builtin_expect(b[8] <= 1, 0)) {
                STK_INC(s, ip4_ttl_exceeded);
                node_icmp_error(w, p, MPNET_ICMP4_TIME_EXCEEDED, 0, 0);
                return 0;
        }
        if (nh->n_paths > 1)
                path = &nh->paths[ip4_flow_hash(p) % nh->n_paths];
        out = path->ifp;
        /* Its output arc sees it with the TTL not yet decremented. */
        if (!fwd_leave(w, out, &p, &b, ARC_IP4_OUT, STK_ip4_iface_down))
                return 0;
        nexthop = nh->type == MPNET_NH_GATEWAY ? path->gw : mpnet_get_be32(b + 16);
        if (__builtin_expect(p->pkt_len > out->mtu, 0)) {
                if (b[6] & 0x40) {
                        /* RFC 1191: report the next-hop MTU in the low 16 bits. */
                        STK_INC(s, ip4_frag_needed);
                        node_icmp_error(w, p, MPNET_ICMP4_DEST_UNREACH, 4, out->mtu & 0xffff);
                        return 0;
                }
                ip4_ttl_dec(b);
                if (ctx_is_worker(w))
                        stack_punt(w, p, PUNT_FRAG, (unsigned)out->ifindex, 0, 0, nexthop);
                else
                        ip4_send_on(s, out, nexthop, p, false);
                return 1;
        }
        if (__builtin_expect(out == in, 0))
                ip4_redirect(w, in, p, nexthop);
        ip4_ttl_dec(b);
        e = neigh_lookup4(out, nexthop);
        sent = neigh_fast_output(w, out, e, p, MPNET_ETHERTYPE_IPV4);
        if (__builtin_expect(sent != 2, 1))
                return sent;
        neigh_slow_output(w, out, NEIGH_ARP, e, (const uint8_t *)&nexthop, p);
        return 1;
}

void ip4_rewrite_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        fwd_vector(w, ifp, self, ARC_IP4_FWD, &w->s->fib.nh, ip4_forward_one, STK_ip4_forwarded);
}
