/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ip6-rewrite node: forwarding of what ip6-lookup routed through us
 * (RFC 8200, RFC 4443). Per packet: hop limit check and decrement (no
 * checksum in IPv6), an ECMP path by flow hash, the scope of a link-local
 * source (RFC 4291 2.5.6), the MTU check (routers never fragment: packet
 * too big, RFC 8200 5), a redirect for a packet that goes back out the
 * link it came from (RFC 4861 8.2), and the Ethernet header from the
 * neighbour entry.
 * Packets whose neighbour has a link-layer address (STALE included, RFC
 * 4861 7.3.3) go straight onto the output vector; the rest go through ND
 * resolution on the control thread (l3/neigh.c).
 *
 * Synchronisation: any context; the tables and neighbour entries are read
 * without locks.
 */
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/forward.h"
#include "l3/neigh.h"
#include "fib/fib_priv.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* RFC 6437: the flow label names the flow; without one, the addresses, the
 * next header and, for TCP and UDP right after the header, the ports. */
static uint32_t ip6_flow_hash(const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        uint32_t label = mpnet_get_be32(b) & 0xfffff;
        uint64_t h = label, x;

        if (p->ol_flags & MPNET_PKT_F_FLOW_HASH)
                return p->flow_hash;
        for (int i = 8; i < 40; i += 8) {
                memcpy(&x, b + i, 8);
                h = (h ^ x) * 0x9e3779b97f4a7c15ull;
        }
        h ^= (uint64_t)b[6] << 17;
        if (label == 0 && (b[6] == MPNET_IPPROTO_TCP || b[6] == MPNET_IPPROTO_UDP) &&
            p->len >= MPNET_IP6_HLEN + 4)
                h ^= (uint64_t)mpnet_get_be32(b + MPNET_IP6_HLEN) << 7;
        h *= 0x9e3779b97f4a7c15ull;
        return (uint32_t)(h >> 32);
}

/*
 * RFC 4861 8.2: a packet that leaves by the interface it came in on, from a
 * neighbour (a link-local source, or one of a prefix connected there), has
 * a better first hop on that link: the gateway, which must be named by its
 * link-local address, or the destination itself. The redirect is built on
 * the control thread; a worker punts a copy of the part it quotes.
 */
static void ip6_redirect(struct wctx *w, struct mpnet_iface *in, const struct mpnet_pkt *p,
                         const struct fib6_nh *nh, const struct fib6_path *path)
{
        struct mpnet_stack *s = w->s;
        const uint8_t *src = p->data + 8;
        const uint8_t *target = nh->type == MPNET_NH_GATEWAY ? path->gw : p->data + 24;
        const struct fib6_nh *snh;
        struct mpnet_pkt *q;
        uint32_t n;
        uint8_t *b;

        if (!atomic_load_explicit(&in->in6->redirect_send, memory_order_relaxed) ||
            (nh->type == MPNET_NH_GATEWAY && !mpnet_ip6_is_link_local(target)) ||
            ip6_eq(target, src))
                return;
        if (!mpnet_ip6_is_link_local(src)) {
                snh = fib6_lookup(&s->fib6, atomic_load_explicit(&in->table, memory_order_relaxed),
                                  src);
                if (snh == NULL || snh->type != MPNET_NH_CONNECTED || snh->paths[0].ifp != in)
                        return;
        }
        if (!ctx_is_worker(w)) {
                nd6_redirect_send(in, p, target);
                return;
        }
        q = mpnet_pkt_alloc(s->pool);
        if (q == NULL) {
                STK_INC(s, nobufs);
                return;
        }
        n = p->pkt_len < MPNET_IP6_MIN_MTU ? p->pkt_len : MPNET_IP6_MIN_MTU;
        b = mpnet_pkt_append(q, n);
        mpnet_pkt_read(p, 0, b, n);
        memcpy(punt_arg16(q), target, 16);
        stack_punt(w, q, PUNT_REDIRECT6, (unsigned)in->ifindex, 0, 0, 0);
}

/* Forward one packet. @return 1 when it went on (counted by the caller per
 * vector), 0 when it was dropped or turned into an error. */
static inline unsigned ip6_forward_one(struct wctx *w, struct mpnet_iface *in, struct mpnet_pkt *p,
                                       const void *nhv)
{
        const struct fib6_nh *nh = nhv;
        struct mpnet_stack *s = w->s;
        uint8_t *b = p->data;
        const struct fib6_path *path = &nh->paths[0];
        struct mpnet_iface *out;
        struct neigh_entry *e;
        const uint8_t *nexthop;
        unsigned sent;

        /* RFC 4443 3.3: hop limit exceeded in transit. */
        if (__builtin_expect(b[7] <= 1, 0)) {
                STK_INC(s, ip6_hlim_exceeded);
                node_icmp6_error(w, p, MPNET_ICMP6_TIME_EXCEEDED, 0, 0);
                return 0;
        }
        if (nh->n_paths > 1)
                path = &nh->paths[ip6_flow_hash(p) % nh->n_paths];
        out = path->ifp;
        /* Its output arc sees it with the hop limit not yet decremented. */
        if (!fwd_leave(w, out, &p, &b, ARC_IP6_OUT, STK_ip6_iface_down))
                return 0;
        /* RFC 4291 2.5.6, RFC 4443 3.1 code 2: a link-local source stays on
         * its link. */
        if (__builtin_expect(out != in && mpnet_ip6_is_link_local(b + 8), 0)) {
                STK_INC(s, ip6_scope);
                node_icmp6_error(w, p, MPNET_ICMP6_DEST_UNREACH, 2, 0);
                return 0;
        }
        if (__builtin_expect(
                p->pkt_len > atomic_load_explicit(&out->in6->mtu6, memory_order_relaxed), 0)) {
                STK_INC(s, ip6_too_big);
                node_icmp6_error(w, p, MPNET_ICMP6_PACKET_TOO_BIG, 0,
                                 atomic_load_explicit(&out->in6->mtu6, memory_order_relaxed));
                return 0;
        }
        if (__builtin_expect(out == in, 0))
                ip6_redirect(w, in, p, nh, path);
        nexthop = nh->type == MPNET_NH_GATEWAY ? path->gw : b + 24;
        b[7]--;
        e = neigh_lookup6(out, nexthop);
        sent = neigh_fast_output(w, out, e, p, MPNET_ETHERTYPE_IPV6);
        if (__builtin_expect(sent != 2, 1))
                return sent;
        neigh_slow_output(w, out, NEIGH_ND, e, nexthop, p);
        return 1;
}

void ip6_rewrite_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        fwd_vector(w, ifp, self, ARC_IP6_FWD, &w->s->fib6.nh, ip6_forward_one, STK_ip6_forwarded);
}
