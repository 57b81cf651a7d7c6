/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 output of what the stack itself sends (RFC 8200): route (table 0, or
 * the named interface for link-local and multicast destinations), source
 * address selection (RFC 6724), the IPv6 header, the local-out arc and the
 * interface's ip6-out arc, fragmentation at the source to the path MTU (RFC 8200 4.5; RFC 8201 path
 * MTU cache), then the neighbour (ND) or the group's MAC. A packet to one of our addresses loops
 * back through the next poll.
 *
 * Synchronisation: ip6_output, the path MTU cache and fragmentation are the
 * control thread's. Routing and source selection read the FIB and the
 * published addresses and run on any context: ip6_output_w sends what a
 * worker can send itself (no fragmentation can be needed, a usable
 * neighbour or a group) on its own vectors and punts the rest (PUNT_OUT6)
 * to ip6_output.
 */
#include <errno.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/neigh.h"
#include "mpnet/wire/ethernet.h"
#include "fib/fib_priv.h"
#include "l2/ether.h"
#include "l3/ip6.h"
#include "l3/pmtu.h"
#include "l3/ip_iface.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define IP6_FRAG_HLEN 8

/* ---- source address selection (RFC 6724 section 5) ---- */

static unsigned ip6_scope(const uint8_t *a)
{
        if (mpnet_ip6_is_multicast(a))
                return mpnet_ip6_mc_scope(a);
        if (mpnet_ip6_is_link_local(a) || mpnet_ip6_is_loopback(a))
                return MPNET_IP6_SCOPE_LINK;
        return MPNET_IP6_SCOPE_GLOBAL;
}

static unsigned common_prefix(const uint8_t *a, const uint8_t *b)
{
        unsigned n = 0;

        while (n < 128 && ((a[n / 8] ^ b[n / 8]) & (0x80 >> (n % 8))) == 0)
                n++;
        return n;
}

/* Rules 1, 2, 3 and 8: true when sa is better than sb for dst. */
static bool src_better(const struct addr6_pub *sa, const struct addr6_pub *sb, const uint8_t *dst)
{
        unsigned sc_a = ip6_scope(sa->addr), sc_b = ip6_scope(sb->addr), sc_d = ip6_scope(dst);
        bool dep_a = sa->flags & MPNET_ADDR6_F_DEPRECATED,
             dep_b = sb->flags & MPNET_ADDR6_F_DEPRECATED;
        unsigned ca, cb;

        if (ip6_eq(sa->addr, dst) != ip6_eq(sb->addr, dst))
                return ip6_eq(sa->addr, dst);
        if (sc_a != sc_b) {
                if (sc_a < sc_b)
                        return sc_a >= sc_d ? true : false;
                return sc_b >= sc_d ? false : true;
        }
        if (dep_a != dep_b)
                return !dep_a;
        ca = common_prefix(sa->addr, dst);
        cb = common_prefix(sb->addr, dst);
        if (ca > sa->plen)
                ca = sa->plen;
        if (cb > sb->plen)
                cb = sb->plen;
        return ca > cb;
}

static const struct addr6_pub *src_pick_iface(const struct mpnet_iface *ifp, const uint8_t *dst,
                                              const struct addr6_pub *best)
{
        const struct addr6_snap *sn = iface_addr6_read(ifp);

        for (unsigned i = 0; i < sn->n; i++) {
                const struct addr6_pub *a = &sn->a[i];

                if (a->flags & (MPNET_ADDR6_F_TENTATIVE | MPNET_ADDR6_F_DUPLICATED))
                        continue;
                if (best == NULL || src_better(a, best, dst))
                        best = a;
        }
        return best;
}

/* The interface at ifindex, from any context. */
static struct mpnet_iface *iface_at(struct mpnet_stack *s, int ifindex)
{
        if (ifindex < 1 || ifindex > STACK_MAX_IFACES)
                return NULL;
        return __atomic_load_n(&s->ifs[ifindex], __ATOMIC_ACQUIRE);
}

const struct addr6_pub *ip6_src_pick(struct mpnet_stack *s, struct mpnet_iface *ifp,
                                     const uint8_t *dst)
{
        const struct addr6_pub *best = NULL;

        /* Rule 5 first: an address of the outgoing interface. */
        if (ifp != NULL)
                best = src_pick_iface(ifp, dst, NULL);
        for (int i = 1; best == NULL && i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *o = iface_at(s, i);

                if (o != NULL && ip6_scope(dst) > MPNET_IP6_SCOPE_LINK)
                        best = src_pick_iface(o, dst, best);
        }
        return best;
}

/* ---- path MTU (RFC 8201): the cache is l3/pmtu.c ---- */

uint32_t pmtu6_lookup(struct mpnet_stack *s, const uint8_t *dst)
{
        return pmtu_get(s, dst, s->now);
}

void pmtu6_update(struct mpnet_stack *s, const uint8_t *dst, uint32_t mtu)
{
        /* RFC 8201 4: never below the IPv6 minimum; RFC 8021: no atomic
         * fragments for a smaller one. */
        if (mtu < MPNET_IP6_MIN_MTU)
                mtu = MPNET_IP6_MIN_MTU;
        if (pmtu_lower(s, dst, mtu))
                STK_INC(s, icmp6_pmtu_update);
}

uint32_t mpnet_pmtu6_get(struct mpnet_stack *s, const uint8_t dst[16])
{
        return pmtu6_lookup(s, dst);
}

/* ---- sending ---- */

int ip6_send_on(struct mpnet_iface *ifp, const uint8_t *nexthop, struct mpnet_pkt *p)
{
        uint8_t mac[6];

        if (mpnet_ip6_is_multicast(nexthop)) {
                mpnet_ip6_mc_mac(nexthop, mac);
                return ether_output(ifp, p, mac, MPNET_ETHERTYPE_IPV6);
        }
        return nd6_resolve_output(ifp, nexthop, p);
}

/* The IPv6 header in front of p; p is freed on failure. */
static int ip6_hdr_emit(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *src,
                        const uint8_t *dst, uint8_t proto, uint8_t hlim, uint8_t tclass)
{
        struct mpnet_ip6_repr r = {
            .next_header = proto, .hop_limit = hlim, .traffic_class = tclass};
        uint8_t *h;

        if (p->pkt_len > 0xffff) {
                mpnet_pkt_free(p);
                return -EMSGSIZE;
        }
        r.payload_len = (uint16_t)p->pkt_len;
        h = mpnet_pkt_prepend(p, MPNET_IP6_HLEN);
        if (h == NULL) {
                STK_INC(s, nobufs);
                mpnet_pkt_free(p);
                return -ENOBUFS;
        }
        memcpy(r.src, src, 16);
        memcpy(r.dst, dst, 16);
        mpnet_ip6_repr_emit(&r, h);
        p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
        return 0;
}

static int ip6_hdr_push(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *src,
                        const uint8_t *dst, uint8_t proto, uint8_t hlim)
{
        int err = ip6_hdr_emit(s, p, src, dst, proto, hlim, 0);

        if (err == 0)
                STK_INC(s, ip6_tx);
        return err;
}

/* The control thread's own ND and MLD messages: no arc (a filter must not
 * cut the resolver off its link). */
int ip6_send_raw(struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *src,
                 const uint8_t *dst, uint8_t proto, uint8_t hlim, const uint8_t *dmac)
{
        int err = ip6_hdr_push(ifp->stack, p, src, dst, proto, hlim);

        if (err != 0)
                return err;
        if (dmac != NULL)
                return ether_output(ifp, p, dmac, MPNET_ETHERTYPE_IPV6);
        return ip6_send_on(ifp, dst, p);
}

/*
 * RFC 8200 4.5: cut an upper-layer message p (not yet carrying its IPv6
 * header) into fragments of at most mtu bytes: each the IPv6 header, a
 * fragment header and a multiple of 8 bytes of p. The identification is
 * random (RFC 7739).
 */
static int ip6_fragment_out(struct mpnet_stack *s, struct mpnet_iface *ifp, const uint8_t *nexthop,
                            struct mpnet_pkt *p, const struct mpnet_ip6_repr *hdr, uint32_t mtu)
{
        uint32_t chunk = (mtu - MPNET_IP6_HLEN - IP6_FRAG_HLEN) & ~7u;
        uint32_t total = p->pkt_len, id = (uint32_t)stack_random(s);
        int err = 0;

        if (chunk > MPNET_PKT_DATA_SIZE - MPNET_IP6_HLEN - IP6_FRAG_HLEN)
                chunk = (MPNET_PKT_DATA_SIZE - MPNET_IP6_HLEN - IP6_FRAG_HLEN) & ~7u;
        for (uint32_t off = 0; off < total && err == 0; off += chunk) {
                uint32_t n = total - off < chunk ? total - off : chunk;
                bool more = off + n < total;
                struct mpnet_pkt *f = mpnet_pkt_alloc(s->pool);
                struct mpnet_ip6_repr r = *hdr;
                uint8_t *b;

                if (f == NULL) {
                        STK_INC(s, nobufs);
                        err = -ENOBUFS;
                        break;
                }
                b = mpnet_pkt_append(f, MPNET_IP6_HLEN + IP6_FRAG_HLEN + n);
                r.next_header = MPNET_IPPROTO_FRAGMENT;
                r.payload_len = (uint16_t)(IP6_FRAG_HLEN + n);
                mpnet_ip6_repr_emit(&r, b);
                b[40] = hdr->next_header;
                b[41] = 0;
                mpnet_put_be16(b + 42, (uint16_t)(off | (more ? 1 : 0)));
                mpnet_put_be32(b + 44, id);
                mpnet_pkt_read(p, off, b + 48, n);
                f->l3_off = (uint16_t)mpnet_pkt_headroom(f);
                STK_INC(s, ip6_fragmented);
                STK_INC(s, ip6_tx);
                err = ip6_send_on(ifp, nexthop, f);
        }
        mpnet_pkt_free(p);
        return err;
}

static int loopback(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        p->ifindex = (uint32_t)ifp->ifindex;
        if (mpnet_vec_full(&s->loopq)) {
                STK_INC(s, tx_link_full);
                mpnet_pkt_free(p);
                return -ENOBUFS;
        }
        mpnet_vec_push(&s->loopq, p);
        return 0;
}

/* A TCP super-segment (MPNET_PKT_F_TSO, l4/tcp_out.c) for a link that
 * cuts or carries it whole: its pieces fit the path MTU (the sender cut
 * them to its MSS, which follows the path MTU, RFC 8201), so it is neither
 * fragmented nor made one buffer. As ip4_output.c's ip4_tso_ok. */
static inline bool ip6_tso_ok(const struct mpnet_iface *ifp, const struct mpnet_pkt *p)
{
        return __builtin_expect((p->ol_flags & MPNET_PKT_F_TSO) != 0, 0) &&
               (ifp->link->info.offloads & MPNET_LINK_OFF_TSO);
}

/* A checksum left to the link (TCP's, MPNET_PKT_F_L4_CSUM_TX; p carries
 * its IPv6 header) is done now where p loops back or a feature may read
 * or rewrite it (an arc on local-out or ip6-out): only the bare way out
 * leaves it to the link (ctx_tx), as ip4_output_opt does. */
static inline void ip6_csum_now(const struct mpnet_iface *ifp, struct mpnet_pkt *p, bool local)
{
        if (__builtin_expect(p->ol_flags & MPNET_PKT_F_L4_CSUM_TX, 0) &&
            (local ||
             atomic_load_explicit(&ifp->arcs[ARC_LOCAL_OUT], memory_order_relaxed) != NULL ||
             atomic_load_explicit(&ifp->arcs[ARC_IP6_OUT], memory_order_relaxed) != NULL))
                pkt_l4_csum_fill(p);
}

/* Where dst goes: the interface, the next hop and whether it is ours. */
static int ip6_route(struct mpnet_stack *s, const uint8_t *dst, const uint8_t *src, int oif,
                     struct mpnet_iface **ifpp, const uint8_t **nexthop, bool *local)
{
        struct mpnet_iface *ifp = iface_at(s, oif);
        const struct fib6_nh *nh;
        const struct fib6_path *path;

        *local = false;
        *nexthop = dst;
        if (mpnet_ip6_is_multicast(dst) || mpnet_ip6_is_link_local(dst)) {
                /* RFC 4007: these name no interface by themselves. */
                if (ifp == NULL)
                        return -ENETUNREACH;
                *ifpp = ifp;
                *local = iface_addr6_find(ifp, dst) != NULL;
                return 0;
        }
        nh = fib6_lookup(&s->fib6,
                         ifp != NULL ? atomic_load_explicit(&ifp->table, memory_order_relaxed) : 0,
                         dst);
        if (nh == NULL) {
                STK_INC(s, ip6_no_route);
                return -ENETUNREACH;
        }
        switch (nh->type) {
        case MPNET_NH_BLACKHOLE:
                return -EINVAL;
        case MPNET_NH_UNREACHABLE:
                return -EHOSTUNREACH;
        case MPNET_NH_PROHIBIT:
                return -EACCES;
        default:
                break;
        }
        path = &nh->paths[0];
        if (nh->n_paths > 1) {
                uint32_t h = 0;

                for (int i = 0; i < 16; i++)
                        h = h * 31 + (uint32_t)(dst[i] ^ (src != NULL ? src[i] : 0));
                path = &nh->paths[h % nh->n_paths];
        }
        *ifpp = path->ifp;
        *local = nh->type == MPNET_NH_LOCAL;
        if (nh->type == MPNET_NH_GATEWAY)
                *nexthop = path->gw;
        return 0;
}

struct mpnet_iface *ip6_route_iface(struct mpnet_stack *s, const uint8_t *dst)
{
        struct mpnet_iface *ifp;
        const uint8_t *nexthop;
        bool local;

        return ip6_route(s, dst, NULL, 0, &ifp, &nexthop, &local) == 0 ? ifp : NULL;
}

int mpnet_ip6_src_select(struct mpnet_stack *s, const uint8_t dst[16], int ifindex, uint8_t out[16])
{
        struct mpnet_iface *ifp;
        const uint8_t *nexthop;
        const struct addr6_pub *a;
        bool local;
        int err = ip6_route(s, dst, NULL, ifindex, &ifp, &nexthop, &local);

        if (err != 0)
                return err;
        a = local ? iface_addr6_find(ifp, dst) : ip6_src_pick(s, ifp, dst);
        if (a == NULL || (a->flags & (MPNET_ADDR6_F_TENTATIVE | MPNET_ADDR6_F_DUPLICATED)))
                a = ip6_src_pick(s, ifp, dst);
        if (a == NULL)
                return -EADDRNOTAVAIL;
        memcpy(out, a->addr, 16);
        return 0;
}

/* A chain that fits (an answer to a reassembled datagram) leaves as one
 * frame: links take single buffers. @return it, or NULL (p freed). */
static struct mpnet_pkt *linearize(struct mpnet_stack *s, struct mpnet_pkt *p)
{
        struct mpnet_pkt *q = mpnet_pkt_alloc(s->pool);
        uint8_t *b = q != NULL ? mpnet_pkt_append(q, p->pkt_len) : NULL;

        if (b == NULL || mpnet_pkt_read(p, 0, b, p->pkt_len) != 0) {
                STK_INC(s, nobufs);
                mpnet_pkt_free(q);
                mpnet_pkt_free(p);
                return NULL;
        }
        mpnet_pkt_free(p);
        return q;
}

/* The route to dst and, when src is unset, the source for it (RFC 6724).
 * @return 0, or an error after freeing p. */
static int ip6_route_src(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *dst,
                         const uint8_t **src, int oif, struct mpnet_iface **ifp,
                         const uint8_t **nexthop, bool *local)
{
        int err = ip6_route(s, dst, *src, oif, ifp, nexthop, local);

        if (err == 0 && (*src == NULL || mpnet_ip6_is_unspecified(*src))) {
                const struct addr6_pub *a = ip6_src_pick(s, *ifp, dst);

                if (a == NULL) {
                        /* No address to send from (RFC 6724: none usable
                         * on any interface): a drop like any other. */
                        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_ip6, IP6_CTR_NO_SRC));
                        err = -EADDRNOTAVAIL;
                } else {
                        *src = a->addr;
                }
        }
        if (err != 0)
                mpnet_pkt_free(p);
        return err;
}

/* What the stack sends passes local-out (its route and interface known),
 * then the output arc of the interface it leaves by (not when it loops
 * back), on the whole datagram before fragmentation: netfilter's OUTPUT and
 * POSTROUTING. p carries its IPv6 header. @return false: a feature took p. */
static bool ip6_out_arcs(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p, bool local)
{
        if (arc_run(w, ifp, ARC_LOCAL_OUT, p, NULL, 1) == 0)
                return false;
        return local || arc_run(w, ifp, ARC_IP6_OUT, p, NULL, 1) != 0;
}

/* The last part of ip6_output, once the route is chosen and the arcs of
 * its interface ran (here, or on the worker that punted p): loopback, or
 * the path MTU, fragmentation and the neighbour. p carries its IPv6
 * header, to dst. */
static inline __attribute__((always_inline)) int
ip6_output_on(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *dst,
              struct mpnet_iface *ifp, const uint8_t *nexthop, bool local)
{
        struct mpnet_ip6_repr hdr;
        uint32_t mtu, pmtu;

        if (local) {
                STK_INC(s, ip6_tx);
                return loopback(s, ifp, p);
        }
        mtu = atomic_load_explicit(&ifp->in6->mtu6, memory_order_relaxed);
        pmtu = pmtu6_lookup(s, dst);
        if (pmtu != 0 && pmtu < mtu)
                mtu = pmtu;
        if (ip6_tso_ok(ifp, p)) {
                STK_INC(s, ip6_tx);
                return ip6_send_on(ifp, nexthop, p);
        }
        if (p->pkt_len > mtu) {
                /* A super-segment for a link without TSO (a route
                 * changed since TCP cut it) is dropped, as ctx_tx_ol
                 * does; a checksum left to the link is done first. */
                if (p->ol_flags & MPNET_PKT_F_TSO) {
                        STK_INC(s, tx_tso_nolink);
                        mpnet_pkt_free(p);
                        return -EMSGSIZE;
                }
                if (p->ol_flags & MPNET_PKT_F_L4_CSUM_TX)
                        pkt_l4_csum_fill(p);
                /* Fragments carry the header as the arcs left it. */
                mpnet_ip6_repr_parse(&(struct mpnet_ip6_view){.b = p->data, .n = p->len}, &hdr);
                mpnet_pkt_adj(p, MPNET_IP6_HLEN);
                return ip6_fragment_out(s, ifp, nexthop, p, &hdr, mtu);
        }
        if (p->next != NULL && (p = linearize(s, p)) == NULL)
                return -ENOBUFS;
        STK_INC(s, ip6_tx);
        return ip6_send_on(ifp, nexthop, p);
}

int ip6_output(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
               uint8_t proto, uint8_t hlim, int oif)
{
        return ip6_output_tc(s, p, src, dst, proto, hlim, 0, oif);
}

int ip6_output_tc(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *src,
                  const uint8_t *dst, uint8_t proto, uint8_t hlim, uint8_t tclass, int oif)
{
        struct mpnet_iface *ifp;
        const uint8_t *nexthop;
        bool local;
        int err = ip6_route_src(s, p, dst, &src, oif, &ifp, &nexthop, &local);

        if (err != 0)
                return err;
        err = ip6_hdr_emit(s, p, src, dst, proto, hlim, tclass);
        if (err != 0)
                return err;
        ip6_csum_now(ifp, p, local);
        if (!ip6_out_arcs(s->ctx[0], ifp, &p, local))
                return 0;
        return ip6_output_on(s, p, dst, ifp, nexthop, local);
}

/* The MTU a worker's packet to dst must fit: the link's, or the path's
 * when the cache (read without a lock, l3/pmtu.c) has a lower one. */
static uint32_t ip6_tx_mtu(struct wctx *w, struct mpnet_iface *ifp, const uint8_t *dst)
{
        uint32_t mtu = atomic_load_explicit(&ifp->in6->mtu6, memory_order_relaxed), pm;

        pm = pmtu_get(w->s, dst, ctx_now(w));
        return pm != 0 && pm < mtu ? pm : mtu;
}

/* ip6_send_on from a worker: a group's MAC, or the neighbour entry's when
 * it can take the packet (the forwarding fast path's rule), else
 * resolution on the control thread. */
static int ip6_send_on_w(struct wctx *w, struct mpnet_iface *ifp, const uint8_t *nexthop,
                         struct mpnet_pkt *p)
{
        struct neigh_entry *e;
        uint8_t mac[6];

        if (mpnet_ip6_is_multicast(nexthop)) {
                mpnet_ip6_mc_mac(nexthop, mac);
                return ether_output_w(w, ifp, p, mac, MPNET_ETHERTYPE_IPV6);
        }
        e = neigh_lookup6(ifp, nexthop);
        switch (neigh_fast_output(w, ifp, e, p, MPNET_ETHERTYPE_IPV6)) {
        case 0:
                return -ENOBUFS;
        case 1:
                return 0;
        default:
                neigh_slow_output(w, ifp, NEIGH_ND, e, nexthop, p);
                return 0;
        }
}

int ip6_output_w(struct wctx *w, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
                 uint8_t proto, uint8_t hlim, int oif)
{
        return ip6_output_w_tc(w, p, src, dst, proto, hlim, 0, oif);
}

int ip6_output_w_tc(struct wctx *w, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
                    uint8_t proto, uint8_t hlim, uint8_t tclass, int oif)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_iface *ifp;
        const uint8_t *nexthop;
        bool local;
        int err;

        if (!ctx_is_worker(w))
                return ip6_output_tc(s, p, src, dst, proto, hlim, tclass, oif);
        err = ip6_route_src(s, p, dst, &src, oif, &ifp, &nexthop, &local);
        if (err != 0)
                return err;
        /* What fits the link and the path MTU (RFC 8201; RFC 8200 5:
         * every link takes 1280 bytes) goes out here, in the order it was
         * made: a flow's large packets must not fall behind its small
         * ones (TCP takes that for loss). What needs fragmenting, and what
         * loops back to us, goes out from the control thread. The header
         * rides along with the punt; the control thread counts it when it
         * sends. */
        err = ip6_hdr_emit(s, p, src, dst, proto, hlim, tclass);
        if (err != 0)
                return err;
        ip6_csum_now(ifp, p, local);
        if (!ip6_out_arcs(w, ifp, &p, local))
                return 0;
        if (local || (p->pkt_len > MPNET_IP6_MIN_MTU && p->pkt_len > ip6_tx_mtu(w, ifp, dst) &&
                      !ip6_tso_ok(ifp, p))) {
                /* The egress chosen here, whose arcs ran, goes along: the
                 * control thread does not route again (a route changed
                 * since would send p by an interface whose ip6-out arc
                 * never saw it). The punt's gen catches an interface gone.
                 * Too little headroom for it: stack_punt drops p. */
                if (mpnet_pkt_headroom(p) >= 8 + 16)
                        memcpy(punt_arg16(p), nexthop, 16);
                return stack_punt(w, p, PUNT_OUT6, (unsigned)ifp->ifindex, local, 0, 0) ? 0
                                                                                        : -ENOBUFS;
        }
        if (p->next != NULL && !ip6_tso_ok(ifp, p) && (p = linearize(s, p)) == NULL)
                return -ENOBUFS;
        STK_INC(s, ip6_tx);
        return ip6_send_on_w(w, ifp, nexthop, p);
}

/* What a worker sent that needs ip6_output here (PUNT_OUT6): it goes out
 * as the worker's arcs left its header (traffic class and flow label
 * included), by the interface (ifp, its gen checked by the punt) and next
 * hop the worker chose (after the punt word), looped back when a is set. */
void ip6_out_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                  uint64_t meta)
{
        uint8_t nexthop[16], dst[16];

        /* A feature on the worker's arcs cut it below its header. */
        if (p->len < MPNET_IP6_HLEN) {
                mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_ip6, IP6_CTR_PUNT_SHORT));
                mpnet_pkt_free(p);
                return;
        }
        /* p may be freed or queued before they are last read. */
        memcpy(nexthop, punt_arg16(p), 16);
        memcpy(dst, p->data + 24, 16);
        ip6_output_on(s, p, dst, ifp, nexthop, (uint8_t)(meta >> 40) != 0);
}
