/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 output of what the stack itself sends: route in table 0, pick the
 * source address, prepend the header, the local-out arc, the output arc of
 * the interface (unless it loops back), fragment to the MTU when DF is
 * clear, resolve the next hop. A packet to one of our own addresses loops back
 * through the next poll's input, as through a loopback interface.
 *
 * Synchronisation: any context (ip4_output_w); a worker sends on its own
 * transmit vectors and punts to the control thread what needs its state:
 * fragmentation (PUNT_FRAG), a next hop with no usable neighbour entry
 * (l3/neigh.c), a packet to one of our own addresses (PUNT_LOOP). The
 * forms without a context are the control thread's.
 */
#include <errno.h>
#include <netinet/in.h>

#include "l3/ip4_frag.h"
#include "l3/neigh.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "fib/fib_priv.h"
#include "l2/ether.h"
#include "l3/ip4.h"
#include "l3/pmtu.h"
#include "l3/ip_iface.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* The most fragments one datagram can need: 65535 bytes at the RFC 791
 * minimum MTU of 68 (48 bytes of data each). */
#define IP4_FRAG_MAX_OUT 1366

static const uint8_t eth_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Source address selection: an address of the output interface on the next
 * hop's prefix, else its first, else any of the stack's. */
static uint32_t ip4_pick_src(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t nexthop)
{
        const struct ifaddr4 *a = iface_addr_match(ifp, nexthop);
        uint32_t first;

        if (a != NULL)
                return a->addr;
        if ((first = iface_addr4_first(ifp)) != 0)
                return first;
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *o = __atomic_load_n(&s->ifs[i], __ATOMIC_ACQUIRE);

                if (o != NULL && (first = iface_addr4_first(o)) != 0)
                        return first;
        }
        return 0;
}

static int ip4_fragment_out(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t nexthop,
                            struct mpnet_pkt *p, bool bcast, uint32_t mtu);

/* RFC 1112 6.4: a group's MAC is 01:00:5e and its low 23 bits. */
static void ip4_mc_mac(uint32_t group, uint8_t mac[6])
{
        mac[0] = 0x01;
        mac[1] = 0x00;
        mac[2] = 0x5e;
        mac[3] = (uint8_t)(group >> 16) & 0x7f;
        mac[4] = (uint8_t)(group >> 8);
        mac[5] = (uint8_t)group;
}

/* One frame to the link: broadcast, a group's MAC, or through ARP. */
static int ip4_l2_out(struct mpnet_iface *ifp, uint32_t nexthop, struct mpnet_pkt *p, bool bcast)
{
        uint8_t mac[6];

        if (bcast)
                return ether_output(ifp, p, eth_bcast, MPNET_ETHERTYPE_IPV4);
        if (mpnet_ip4_is_multicast(nexthop)) {
                ip4_mc_mac(nexthop, mac);
                return ether_output(ifp, p, mac, MPNET_ETHERTYPE_IPV4);
        }
        return arp_resolve_output(ifp, nexthop, p);
}

/* A TCP super-segment (MPNET_PKT_F_TSO) for a link that cuts or carries
 * it whole: its pieces fit the MTU (the sender cut them to its MSS), so no
 * fragmenting and no EMSGSIZE for its total length. */
static inline bool ip4_tso_ok(const struct mpnet_iface *ifp, const struct mpnet_pkt *p)
{
        return __builtin_expect((p->ol_flags & MPNET_PKT_F_TSO) != 0, 0) &&
               (ifp->link->info.offloads & MPNET_LINK_OFF_TSO);
}

/* The MTU p (its IPv4 header at p->data) leaves ifp with: the
 * interface's, or the path MTU to its destination when the cache holds a
 * lower one (RFC 1191 3) and p may be fragmented (DF clear: a DF packet
 * goes as it is, and the router that cannot take it says so). The cache
 * and the time are read only when an entry exists and p is larger than
 * any entry can be small. */
static uint32_t ip4_tx_mtu(struct wctx *w, struct mpnet_iface *ifp, const struct mpnet_pkt *p)
{
        uint32_t mtu = atomic_load_explicit(&ifp->mtu, memory_order_relaxed), pm;
        uint8_t d[16] = {[10] = 0xff, [11] = 0xff};

        if (!pmtu_any(w->s) || p->pkt_len <= PMTU4_MIN || p->len < MPNET_IP4_HLEN ||
            (p->data[6] & 0x40) != 0)
                return mtu;
        memcpy(d + 12, p->data + 16, 4);
        pm = pmtu_get(w->s, d, ctx_now(w));
        return pm != 0 && pm < mtu ? pm : mtu;
}

int ip4_send_on(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t nexthop,
                struct mpnet_pkt *p, bool bcast)
{
        uint32_t mtu = ip4_tx_mtu(s->ctx[0], ifp, p);

        if (p->pkt_len > mtu && !ip4_tso_ok(ifp, p))
                return ip4_fragment_out(s, ifp, nexthop, p, bcast, mtu);
        return ip4_l2_out(ifp, nexthop, p, bcast);
}

/* ip4_send_on from any context: what fits goes out on w's own vector when
 * the neighbour entry can take it (the forwarding fast path's rule). The
 * control context too, for a unicast that fits an interface that is up:
 * a single-threaded stack's answers (a SYN flood's SYN-ACKs) skip the
 * resolving path's calls; anything else, and an entry that is not usable,
 * take ip4_send_on() (fragments, ARP, the held queue). */
static int ip4_send_on_w(struct wctx *w, struct mpnet_iface *ifp, uint32_t nexthop,
                         struct mpnet_pkt *p, bool bcast)
{
        struct neigh_entry *e;

        /* The output arc sees the whole datagram, before fragmentation (as
         * netfilter's POSTROUTING does). */
        if (arc_run(w, ifp, ARC_IP4_OUT, &p, NULL, 1) == 0)
                return 0;
        if (!ctx_is_worker(w)) {
                if (bcast || mpnet_ip4_is_multicast(nexthop) ||
                    !atomic_load_explicit(&ifp->up, memory_order_relaxed) ||
                    (p->pkt_len > ip4_tx_mtu(w, ifp, p) && !ip4_tso_ok(ifp, p)))
                        return ip4_send_on(w->s, ifp, nexthop, p, bcast);
                switch (neigh_fast_output(w, ifp, neigh_lookup4(ifp, nexthop), p,
                                          MPNET_ETHERTYPE_IPV4)) {
                case 0:
                        return -ENOBUFS;
                case 1:
                        return 0;
                default:
                        return ip4_send_on(w->s, ifp, nexthop, p, bcast);
                }
        }
        if (p->pkt_len > ip4_tx_mtu(w, ifp, p) && !ip4_tso_ok(ifp, p)) {
                if (bcast)
                        nexthop = UINT32_MAX;
                return stack_punt(w, p, PUNT_FRAG, (unsigned)ifp->ifindex, 0, 0, nexthop)
                           ? 0
                           : -ENOBUFS;
        }
        if (bcast)
                return ether_output_w(w, ifp, p, eth_bcast, MPNET_ETHERTYPE_IPV4);
        if (mpnet_ip4_is_multicast(nexthop)) {
                uint8_t mac[6];

                ip4_mc_mac(nexthop, mac);
                return ether_output_w(w, ifp, p, mac, MPNET_ETHERTYPE_IPV4);
        }
        e = neigh_lookup4(ifp, nexthop);
        switch (neigh_fast_output(w, ifp, e, p, MPNET_ETHERTYPE_IPV4)) {
        case 0:
                return -ENOBUFS;
        case 1:
                return 0;
        default:
                neigh_slow_output(w, ifp, NEIGH_ARP, e, (const uint8_t *)&nexthop, p);
                return 0;
        }
}

int ip4_output_df(struct mpnet_stack *s, struct mpnet_pkt *p, uint32_t src, uint32_t dst,
                  uint8_t proto, uint8_t ttl, bool df)
{
        return ip4_output_w(s->ctx[0], p, src, dst, proto, ttl, df);
}

int ip4_output_w(struct wctx *w, struct mpnet_pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
                 uint8_t ttl, bool df)
{
        return ip4_output_opt(
            w, p, &(struct ip4_out){.src = src, .dst = dst, .proto = proto, .ttl = ttl, .df = df});
}

/* The interface a send names (o->oif): itself, and the way to dst on it,
 * for a destination its route does not put there (a group, the limited
 * broadcast, a peer on the link): as if on-link, as Linux sends with
 * IP_PKTINFO's or SO_BINDTOIFINDEX's interface. */
static struct mpnet_iface *ip4_oif(struct mpnet_stack *s, int oif)
{
        return oif >= 1 && oif <= STACK_MAX_IFACES ? __atomic_load_n(&s->ifs[oif], __ATOMIC_ACQUIRE)
                                                   : NULL;
}

/* Prepend the header of o to p (src chosen), l3_off set. @return 0, or an
 * error with p freed. */
static int ip4_hdr_put(struct wctx *w, struct mpnet_pkt *p, const struct ip4_out *o, uint32_t src)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_ip4_repr r;
        uint8_t *h;

        if (o->hdrincl) {
                /* The caller's header (IP_HDRINCL, checked by the raw
                 * socket): as Linux raw_send_hdrinc, the total length and
                 * the checksum are ours, a zero source and a zero
                 * identification are filled in. */
                size_t hlen = (size_t)(p->data[0] & 0xf) * 4;

                h = p->data;
                if (mpnet_get_be32(h + 12) == 0)
                        mpnet_put_be32(h + 12, src);
                if (mpnet_get_be16(h + 4) == 0)
                        mpnet_put_be16(h + 4, w->ip_id++);
                mpnet_put_be16(h + 2, (uint16_t)p->pkt_len);
                h[10] = h[11] = 0;
                mpnet_put_be16(h + 10, mpnet_csum(h, hlen));
                p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
                STK_INC(s, ip4_tx);
                return 0;
        }
        if (p->pkt_len + MPNET_IP4_HLEN > 0xffff) {
                mpnet_pkt_free(p);
                return -EMSGSIZE;
        }
        h = mpnet_pkt_prepend(p, MPNET_IP4_HLEN);
        if (h == NULL) {
                STK_INC(s, nobufs);
                mpnet_pkt_free(p);
                return -ENOBUFS;
        }
        r = (struct mpnet_ip4_repr){
            .src = src,
            .dst = o->dst,
            .id = w->ip_id++,
            .payload_len = (uint16_t)(p->pkt_len - MPNET_IP4_HLEN),
            .proto = o->proto,
            .ttl = o->ttl,
            .tos = o->tos,
            .df = o->df,
        };
        mpnet_ip4_repr_emit(&r, h);
        p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
        STK_INC(s, ip4_tx);
        return 0;
}

/* ip4_output_opt on the interface the sender named, dst taken as on-link. */
static int ip4_output_oif(struct wctx *w, struct mpnet_pkt *p, const struct ip4_out *o,
                          struct mpnet_iface *ifp)
{
        uint32_t src = o->src != 0 ? o->src : ip4_pick_src(w->s, ifp, o->dst);
        const struct ifaddr4 *a = iface_addr_match(ifp, o->dst);
        struct ip4_out df_o = *o;
        bool bcast = mpnet_ip4_is_limited_bcast(o->dst) ||
                     (a != NULL && a->plen < 31 && (o->dst | ip4_mask(a->plen)) == UINT32_MAX);
        int err;

        if (src == 0) {
                mpnet_pkt_free(p);
                return -EADDRNOTAVAIL;
        }
        /* IP_PMTUDISC_DO and PROBE set DF on what names its interface too. */
        df_o.df = o->df || o->pmtud == IP_PMTUDISC_DO || o->pmtud == IP_PMTUDISC_PROBE;
        err = ip4_hdr_put(w, p, &df_o, src);
        if (err != 0)
                return err;
        if (arc_run(w, ifp, ARC_LOCAL_OUT, &p, NULL, 1) == 0)
                return 0;
        return ip4_send_on_w(w, ifp, o->dst, p, bcast);
}

int ip4_src_select(struct mpnet_stack *s, uint32_t dst, int oif, uint32_t *src)
{
        struct mpnet_iface *ifp = ip4_oif(s, oif);
        const struct fib_nh *nh = fib4_lookup(&s->fib, fib4_table(s, 0), dst);
        uint32_t nexthop = dst;

        if (oif != 0 && ifp == NULL)
                return -ENODEV;
        if (ifp == NULL) {
                if (nh == NULL || nh->type > MPNET_NH_LOCAL)
                        return -ENETUNREACH;
                if (nh->type == MPNET_NH_LOCAL) {
                        *src = dst;
                        return 0;
                }
                ifp = nh->paths[0].ifp;
                if (nh->type == MPNET_NH_GATEWAY)
                        nexthop = nh->paths[0].gw;
        }
        *src = ip4_pick_src(s, ifp, nexthop);
        return *src != 0 ? 0 : -EADDRNOTAVAIL;
}

int ip4_output_opt(struct wctx *w, struct mpnet_pkt *p, const struct ip4_out *o)
{
        struct mpnet_stack *s = w->s;
        uint32_t src = o->src, dst = o->dst;
        uint8_t proto = o->proto;
        bool df = o->df;
        const struct fib_nh *nh = fib4_lookup(&s->fib, fib4_table(s, 0), dst);
        struct mpnet_iface *oif = ip4_oif(s, o->oif);
        const struct fib_path *path;
        struct mpnet_iface *ifp;
        uint32_t nexthop;
        bool bcast = false;
        int err;

        if (o->oif != 0 && oif == NULL) {
                mpnet_pkt_free(p);
                return -ENODEV;
        }
        if (oif != NULL &&
            (nh == NULL || mpnet_ip4_is_multicast(dst) || mpnet_ip4_is_limited_bcast(dst) ||
             (nh->type != MPNET_NH_LOCAL && nh->paths[0].ifp != oif)))
                return ip4_output_oif(w, p, o, oif);
        if (nh == NULL && mpnet_ip4_is_limited_bcast(dst)) {
                /* RFC 919 7: the limited broadcast names no network; with
                 * no interface given, the first that has an address. */
                for (int i = 1; i <= STACK_MAX_IFACES && oif == NULL; i++) {
                        struct mpnet_iface *c = __atomic_load_n(&s->ifs[i], __ATOMIC_ACQUIRE);

                        if (c != NULL && iface_addr4_first(c) != 0)
                                oif = c;
                }
                if (oif != NULL)
                        return ip4_output_oif(w, p, o, oif);
        }
        if (nh == NULL) {
                STK_INC(s, ip4_no_route);
                mpnet_pkt_free(p);
                return -ENETUNREACH;
        }
        switch (nh->type) {
        case MPNET_NH_BLACKHOLE:
                mpnet_pkt_free(p);
                return -EINVAL; /* as Linux answers for a blackhole route */
        case MPNET_NH_UNREACHABLE:
                mpnet_pkt_free(p);
                return -EHOSTUNREACH;
        case MPNET_NH_PROHIBIT:
                mpnet_pkt_free(p);
                return -EACCES;
        default:
                break;
        }
        path = &nh->paths[nh->n_paths > 1 ? (dst ^ src ^ proto) * 2654435761u % nh->n_paths : 0];
        ifp = path->ifp;
        nexthop = nh->type == MPNET_NH_GATEWAY ? path->gw : dst;
        if (src == 0)
                src = nh->type == MPNET_NH_LOCAL ? dst : ip4_pick_src(s, ifp, nexthop);
        if (src == 0) {
                mpnet_pkt_free(p);
                return -EADDRNOTAVAIL;
        }
        if (o->pmtud != IP_PMTUDISC_DONT && nh->type != MPNET_NH_LOCAL) {
                uint32_t mtu = atomic_load_explicit(&ifp->mtu, memory_order_relaxed), pm;
                uint8_t d[16] = {[10] = 0xff, [11] = 0xff};

                if (pmtu_any(s) && p->pkt_len + MPNET_IP4_HLEN > PMTU4_MIN) {
                        mpnet_put_be32(d + 12, dst);
                        pm = pmtu_get(s, d, ctx_now(w));
                        mtu = pm != 0 && pm < mtu ? pm : mtu;
                }
                switch (o->pmtud) {
                case IP_PMTUDISC_WANT:
                        df = p->pkt_len + MPNET_IP4_HLEN <= mtu;
                        break;
                case IP_PMTUDISC_DO:
                        if (p->pkt_len + MPNET_IP4_HLEN > mtu) {
                                mpnet_pkt_free(p);
                                return -EMSGSIZE;
                        }
                        df = true;
                        break;
                case IP_PMTUDISC_PROBE:
                        df = true;
                        break;
                default: /* INTERFACE, OMIT: fragment to the interface */
                        df = false;
                        break;
                }
        }
        if (df &&
            p->pkt_len + (o->hdrincl ? 0 : MPNET_IP4_HLEN) >
                atomic_load_explicit(&ifp->mtu, memory_order_relaxed) &&
            nh->type != MPNET_NH_LOCAL && !ip4_tso_ok(ifp, p)) {
                mpnet_pkt_free(p);
                return -EMSGSIZE;
        }
        if (__builtin_expect(o->hdrincl, 0)) {
                err = ip4_hdr_put(w, p, o, src);
                if (err != 0)
                        return err;
        } else {
                /* ip4_hdr_put's, inline on the echo and UDP paths. */
                struct mpnet_ip4_repr r;
                uint8_t *h;

                if (p->pkt_len + MPNET_IP4_HLEN > 0xffff) {
                        mpnet_pkt_free(p);
                        return -EMSGSIZE;
                }
                h = mpnet_pkt_prepend(p, MPNET_IP4_HLEN);
                if (h == NULL) {
                        STK_INC(s, nobufs);
                        mpnet_pkt_free(p);
                        return -ENOBUFS;
                }
                r = (struct mpnet_ip4_repr){
                    .src = src,
                    .dst = dst,
                    .id = w->ip_id++,
                    .payload_len = (uint16_t)(p->pkt_len - MPNET_IP4_HLEN),
                    .proto = proto,
                    .ttl = o->ttl,
                    .tos = o->tos,
                    .df = df,
                };
                mpnet_ip4_repr_emit(&r, h);
                p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
                STK_INC(s, ip4_tx);
        }
        /* A checksum left to the link (TCP's, l4/tcp_out.c) is done now
         * where the packet loops back, or a feature may read or rewrite
         * it (NAT's incremental update knows no pseudo-header sum): only
         * the bare way out leaves it to the link (ctx_tx). */
        if (__builtin_expect(p->ol_flags & MPNET_PKT_F_L4_CSUM_TX, 0) &&
            (nh->type == MPNET_NH_LOCAL ||
             atomic_load_explicit(&ifp->arcs[ARC_LOCAL_OUT], memory_order_relaxed) != NULL ||
             atomic_load_explicit(&ifp->arcs[ARC_IP4_OUT], memory_order_relaxed) != NULL))
                pkt_l4_csum_fill(p);
        /* Local-out: what we send, its route and interface known; a
         * feature may drop it (a filter) or change it (NAT), as
         * netfilter's OUTPUT hook. */
        if (arc_run(w, ifp, ARC_LOCAL_OUT, &p, NULL, 1) == 0)
                return 0;
        if (nh->type == MPNET_NH_LOCAL) {
                /* Loopback: input on the next poll, on the address's interface. */
                p->ifindex = (uint32_t)ifp->ifindex;
                if (ctx_is_worker(w))
                        return stack_punt(w, p, PUNT_LOOP, (unsigned)ifp->ifindex, 0, 0, 0)
                                   ? 0
                                   : -ENOBUFS;
                if (mpnet_vec_full(&s->loopq)) {
                        STK_INC(s, tx_link_full);
                        mpnet_pkt_free(p);
                        return -ENOBUFS;
                }
                mpnet_vec_push(&s->loopq, p);
                return 0;
        }
        if (nh->type == MPNET_NH_CONNECTED)
                bcast = nh->plen < 31 && (dst | ip4_mask(nh->plen)) == UINT32_MAX;
        return ip4_send_on_w(w, ifp, nexthop, p, bcast);
}

int ip4_output(struct mpnet_stack *s, struct mpnet_pkt *p, uint32_t src, uint32_t dst,
               uint8_t proto, uint8_t ttl)
{
        /* RFC 1122 3.2.1.4: DF off lets a path with a smaller MTU pass what we
         * send until PMTU discovery exists. */
        return ip4_output_df(s, p, src, dst, proto, ttl, false);
}

/* RFC 791 3.2: cut a datagram (DF clear) into fragments that fit ifp. */
static int ip4_fragment_out(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t nexthop,
                            struct mpnet_pkt *p, bool bcast, uint32_t mtu)
{
        struct mpnet_pkt *frags[IP4_FRAG_MAX_OUT];
        int n = ip4_fragment(s->pool, p, mtu, frags, IP4_FRAG_MAX_OUT);

        if (n < 0) {
                if (n == -EMSGSIZE)
                        STK_INC(s, ip4_frag_needed);
                else
                        STK_INC(s, nobufs);
                mpnet_pkt_free(p);
                return n;
        }
        STK_ADD(s, ip4_fragmented, (uint64_t)n);
        for (int i = 0; i < n; i++)
                ip4_l2_out(ifp, nexthop, frags[i], bcast);
        return 0;
}
