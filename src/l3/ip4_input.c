/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 input as three nodes on the vector of one receiving interface:
 *
 *   ip4-input   header checks (RFC 791, RFC 1122 3.2.1, RFC 1812 5.2.2 and
 *               5.3.7): version, IHL, total length, checksum, martian
 *               sources; trims link padding.
 *   ip4-lookup  longest-prefix match of every destination in the table of
 *               the interface (one batched LPM call), then the split: local
 *               delivery, forwarding (ip4-rewrite), or drop with or without
 *               an ICMP error.
 *   ip4-local   delivery to the protocols of this stack.
 *
 * Each node takes its frame (stack_priv.h) and fills the next ones; the
 * dispatcher in stack.c runs them in order and times them.
 *
 * Synchronisation: every node runs on any context (the control thread or a
 * worker). ip4-local runs where the flow is owned: a fragment goes to the
 * context that owns its datagram (ctx_handoff), which reassembles it in
 * its own table; what only the control thread does (the ping API) is
 * punted back to it.
 */
#include "l3/ip4_frag.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"
#include "fib/fib_priv.h"
#include "l3/ip4.h"
#include "l3/ip_iface.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* Map a view-check error to its drop counter. */
static void ip4_count_error(struct mpnet_stack *s, int err)
{
        switch (-err) {
        case MPNET_WIRE_TRUNCATED:
                STK_INC(s, ip4_truncated);
                break;
        case MPNET_WIRE_BAD_VERSION:
                STK_INC(s, ip4_bad_version);
                break;
        case MPNET_WIRE_BAD_HLEN:
                STK_INC(s, ip4_bad_hlen);
                break;
        default:
                STK_INC(s, ip4_bad_len);
                break;
        }
}

/* The header checks of one packet. @return true when p goes on. */
static inline __attribute__((always_inline)) bool ip4_check(struct mpnet_stack *s,
                                                            struct mpnet_pkt *p, uint32_t *dst)
{
        const uint8_t *b = p->data;
        uint32_t total;
        size_t hlen = MPNET_IP4_HLEN;

        if (__builtin_expect(p->len < MPNET_IP4_HLEN || b[0] != 0x45, 0)) {
                /* Not the common 20-byte header: the full check. A chain's
                 * lengths are the chain's, once its first buffer holds any
                 * header (60 bytes); else they are that buffer's, and fail. */
                struct mpnet_ip4_view v;
                int err = mpnet_ip4_view_check(
                    b, p->next != NULL && p->len >= MPNET_IP4_HLEN_MAX ? p->pkt_len : p->len, &v);

                if (err != 0) {
                        ip4_count_error(s, err);
                        return false;
                }
                hlen = mpnet_ip4_hlen(&v);
        }
        total = mpnet_get_be16(b + 2);
        if (__builtin_expect(total < hlen || total > p->pkt_len, 0)) {
                if (total < MPNET_IP4_HLEN || total > p->pkt_len)
                        STK_INC(s, ip4_bad_len);
                else
                        STK_INC(s, ip4_bad_hlen);
                return false;
        }
        if (!(p->ol_flags & MPNET_PKT_F_L3_CSUM_OK) &&
            !(hlen == MPNET_IP4_HLEN ? mpnet_csum20_ok(b) : mpnet_csum(b, hlen) == 0)) {
                STK_INC(s, ip4_bad_csum);
                return false;
        }
        if (mpnet_ip4_is_martian_src(mpnet_get_be32(b + 12))) {
                STK_INC(s, ip4_bad_src);
                return false;
        }
        /* Link padding past the total length goes. */
        if (p->next == NULL)
                p->len = p->pkt_len = total;
        else
                mpnet_pkt_trim(p, total);
        p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
        *dst = mpnet_get_be32(b + 16);
        return true;
}

void ip4_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct mpnet_stack *s = w->s;
        struct frame *in = &w->fr[self];
        struct frame *out = &w->fr[NODE_ip4_lookup];
        unsigned n = in->n, i = 0;

        (void)ifp;
        STK_ADD(s, ip4_rx, n);
        /* Four at a time, the headers of the next four prefetched. */
        for (; i + 8 <= n; i += 4) {
                for (unsigned j = 4; j < 8; j++)
                        __builtin_prefetch(in->p[i + j]->data);
                for (unsigned j = 0; j < 4; j++) {
                        struct mpnet_pkt *p = in->p[i + j];

                        if (ip4_check(s, p, &out->aux[out->n]))
                                out->p[out->n++] = p;
                        else
                                mpnet_pkt_free(p);
                }
        }
        for (; i < n; i++) {
                struct mpnet_pkt *p = in->p[i];

                if (ip4_check(s, p, &out->aux[out->n]))
                        out->p[out->n++] = p;
                else
                        mpnet_pkt_free(p);
        }
        in->n = 0;
}

#define NH_MISS UINT32_MAX

static inline void to_frame(struct frame *f, struct mpnet_pkt *p, uint32_t aux)
{
        f->aux[f->n] = aux;
        f->p[f->n++] = p;
}

/* The broadcast address of a connected prefix (none for /31 and /32). */
static inline bool is_directed_bcast(const struct fib_nh *nh, uint32_t dst)
{
        return nh->plen < 31 && (dst | ip4_mask(nh->plen)) == UINT32_MAX;
}

void ip4_lookup_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct mpnet_stack *s = w->s;
        struct frame *in = &w->fr[self];
        struct frame *fwd = &w->fr[NODE_ip4_rewrite];
        struct frame *local = &w->fr[NODE_ip4_local];
        const struct fib4_table *t = iface_fib4(ifp);
        bool forwarding = atomic_load_explicit(&s->ip4_fwd, memory_order_relaxed);
        uint32_t nhi[MPNET_VEC_MAX];
        unsigned n = arc_run(w, ifp, ARC_IP4_IN, in->p, in->aux, in->n);

        mpnet_lpm4_lookup_bulk(t->lpm, in->aux, nhi, n, NH_MISS);
        for (unsigned i = 0; i < n; i++) {
                struct mpnet_pkt *p = in->p[i];
                uint32_t dst = in->aux[i];
                const struct fib_nh *nh = nhi[i] != NH_MISS ? fib_nh_get(&s->fib, nhi[i]) : NULL;

                if (i + 1 < n && nhi[i + 1] != NH_MISS)
                        __builtin_prefetch(s->fib.nh.dir[nhi[i + 1] / FIB_NH_CHUNK] +
                                           nhi[i + 1] % FIB_NH_CHUNK);
                if (__builtin_expect(dst >= 0xe0000000u, 0)) {
                        /* Limited broadcast is ours; multicast a group the
                         * interface joined (no multicast routing); the rest
                         * (class E, groups not joined) is dropped. */
                        if (mpnet_ip4_is_limited_bcast(dst)) {
                                to_frame(local, p, NH_MISS);
                        } else if (mpnet_ip4_is_multicast(dst) && iface_mc4_has(ifp, dst)) {
                                mpnet_counter_inc(s->ctr,
                                                  graph_mod_ctr(&s->g, MOD_ip4, IP4_CTR_MC_RX));
                                to_frame(local, p, NH_MISS);
                        } else {
                                STK_INC(s, ip4_multicast);
                                mpnet_pkt_free(p);
                        }
                        continue;
                }
                if (__builtin_expect(nh == NULL, 0)) {
                        if (forwarding) {
                                STK_INC(s, ip4_no_route);
                                node_icmp_error(w, p, MPNET_ICMP4_DEST_UNREACH, 0, 0);
                        } else {
                                STK_INC(s, ip4_not_for_us);
                                mpnet_pkt_free(p);
                        }
                        continue;
                }
                switch (nh->type) {
                case MPNET_NH_LOCAL:
                        to_frame(local, p, nhi[i]);
                        continue;
                case MPNET_NH_CONNECTED:
                        /* RFC 1812 5.3.5.2: directed broadcasts are not forwarded
                         * by default; to the receiving network they are ours. */
                        if (__builtin_expect(is_directed_bcast(nh, dst), 0)) {
                                if (nh->paths[0].ifp == ifp) {
                                        to_frame(local, p, nhi[i]);
                                } else {
                                        STK_INC(s, ip4_directed_bcast);
                                        mpnet_pkt_free(p);
                                }
                                continue;
                        }
                        /* fall through */
                case MPNET_NH_GATEWAY:
                        if (__builtin_expect(!forwarding, 0)) {
                                STK_INC(s, ip4_not_for_us);
                                mpnet_pkt_free(p);
                                continue;
                        }
                        /* RFC 1812 5.3.4: a router MUST NOT forward a
                         * packet it received as a link-layer broadcast
                         * (IP multicast went above), and sends no error
                         * for it (4.3.2.7). */
                        if (__builtin_expect(p->ol_flags & MPNET_PKT_F_L2_BCAST, 0)) {
                                STK_INC(s, ip4_l2_bcast);
                                mpnet_pkt_free(p);
                                continue;
                        }
                        to_frame(fwd, p, nhi[i]);
                        continue;
                case MPNET_NH_BLACKHOLE:
                        STK_INC(s, ip4_blackhole);
                        break;
                case MPNET_NH_UNREACHABLE:
                        STK_INC(s, ip4_unreachable);
                        node_icmp_error(w, p, MPNET_ICMP4_DEST_UNREACH, 1, 0);
                        continue;
                case MPNET_NH_PROHIBIT:
                        STK_INC(s, ip4_unreachable);
                        /* RFC 1812 5.2.7.1: code 13, communication prohibited. */
                        node_icmp_error(w, p, MPNET_ICMP4_DEST_UNREACH, 13, 0);
                        continue;
                }
                mpnet_pkt_free(p);
        }
        in->n = 0;
}

/* The owner of a fragment's datagram: a hash of what every fragment
 * carries and the order of the addresses does not change (the datagram's
 * key, RFC 791 3.2, without the identification, so that a host's
 * fragments stay together as symmetric RSS keeps its flows). */
static unsigned ip4_frag_owner(struct mpnet_stack *s, const uint8_t *b)
{
        uint32_t a = mpnet_get_be32(b + 12), d = mpnet_get_be32(b + 16);
        uint64_t h = (uint64_t)(a ^ d) * 0x9e3779b97f4a7c15ull;

        /* No worker owns flows: the control context owns them all
         * (stack_flow_owner), known without the call. */
        if (atomic_load_explicit(&s->owner_mask, memory_order_acquire) == 0)
                return 0;
        return stack_flow_owner(s, (uint32_t)(h >> 32) ^ b[9]);
}

/* Delivery of one packet to this stack, on context w. */
void ip4_local_one(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, bool arc_done)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_ip4_view v;
        struct mpnet_ip4_repr r;
        uint8_t l4;
        int tap;

        if (mpnet_ip4_is_fragment(&(struct mpnet_ip4_view){.b = p->data, .n = p->len})) {
                /* RFC 791 / RFC 815: hold it until the datagram is whole. */
                enum ip4_reass_result res;
                unsigned owner = ip4_frag_owner(s, p->data);
                struct ip4_reass *ra;
                uint64_t evicted;

                /* Every fragment of a datagram to one context, whichever
                 * received it. */
                if (owner != w->id) {
                        ctx_handoff(w, owner, NODE_ip4_local, p);
                        return;
                }
                ra = reass4_in(w, ifp);
                evicted = ip4_reass_evicted_frags(ra);
                STK_INC(s, ip4_frag_rx);
                p = ip4_reass_input(ra, p, ctx_now(w), &res);
                if (res == IP4_REASS_HELD) /* perhaps a new datagram to time out */
                        ctx_svc_arm(w, ip4_reass_next_expiry(ra));
                /* Fragments of older datagrams evicted to admit this one are
                 * drops by the caps too: every drop has its counter. */
                STK_ADD(s, ip4_reass_cap, ip4_reass_evicted_frags(ra) - evicted);
                switch (res) {
                case IP4_REASS_DONE:
                        STK_INC(s, ip4_reassembled);
                        break;
                case IP4_REASS_HELD:
                        break;
                case IP4_REASS_DUP:
                        STK_INC(s, ip4_reass_dup);
                        break;
                case IP4_REASS_OVERLAP:
                case IP4_REASS_CONFLICT:
                        STK_INC(s, ip4_reass_overlap);
                        break;
                case IP4_REASS_CAP:
                        STK_INC(s, ip4_reass_cap);
                        break;
                case IP4_REASS_BAD:
                        STK_INC(s, ip4_reass_bad);
                        break;
                }
                if (p == NULL)
                        return;
        }
        /* The packet path checked the header; this gives the parsed form. A
         * reassembled datagram is a chain: its header is in the first segment,
         * its length in pkt_len. */
        if (mpnet_ip4_view_check(p->data, p->pkt_len, &v) != 0) {
                STK_INC(s, ip4_bad_len);
                goto drop;
        }
        mpnet_ip4_repr_parse(&v, &r);
        /* RFC 1122 3.2.1.3: one of our own addresses as the source. */
        if (stack_is_local4(s, r.src)) {
                STK_INC(s, ip4_bad_src);
                goto drop;
        }
        if (!arc_done && arc_run(w, ifp, ARC_LOCAL_IN, &p, NULL, 1) == 0)
                return;
        p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
        mpnet_pkt_adj(p, mpnet_ip4_hlen(&v));
        p->l4_off = (uint16_t)mpnet_pkt_headroom(p);
        /* Raw and echo sockets first (graph.h, l4_tap): not again for
         * what a worker's protocol handed back (arc_done). */
        tap = L4_TAP_NONE;
        if (__builtin_expect(atomic_load_explicit(&s->l4_tap_any, memory_order_relaxed), 0) &&
            !arc_done) {
                tap = graph_l4_tap(w, ifp, p, 4, r.proto);
                if (tap == L4_TAP_TAKEN)
                        return;
        }
        /* The protocol modules (graph.h); RFC 1122 3.2.1.1 without one. */
        l4 = s->g.l4_of[0][r.proto];
        if (l4 != 0) {
                s->g.l4[l4 - 1](w, ifp, p, &r);
                return;
        }
        /* A raw socket took it: no protocol unreachable (as Linux). */
        if (tap == L4_TAP_COPIED)
                goto drop;
        STK_INC(s, ip4_unknown_proto);
        mpnet_pkt_prepend(p, (uint32_t)mpnet_ip4_hlen(&v));
        icmp4_error(w, p, MPNET_ICMP4_DEST_UNREACH, 2, 0);
drop:
        mpnet_pkt_free(p);
}

/* A fragment flood at a full table: what the table would refuse
 * (reass4_refuse) is told first, at a fraction of ip4_local_one()'s cost,
 * and dropped with the vector's others, counted once; so is what a
 * protocol's shed drops (a SYN flood past a listener's cookie limit). */
void ip4_local_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct mpnet_pkt *refused[MPNET_VEC_MAX];
        unsigned nref = 0, nshed;
        uint64_t now = 0;
        l4_shed_fn shed = w->s->g.l4_shed4;

        /* A protocol's flood shed first, counted by it (graph.h). */
        if (shed != NULL)
                in->n = shed(w, ifp, in->p, in->n, refused, &nref);
        nshed = nref;
        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *p = in->p[i];

                if (mpnet_ip4_is_fragment(&(struct mpnet_ip4_view){.b = p->data, .n = p->len}) &&
                    ip4_frag_owner(w->s, p->data) == w->id) {
                        if (now == 0)
                                now = ctx_now(w);
                        if (reass4_refuse(w, ifp, p, now)) {
                                refused[nref++] = p;
                                continue;
                        }
                }
                ip4_local_one(w, ifp, p, false);
        }
        in->n = 0;
        if (nref != nshed)
                reass4_refused(w, nref - nshed);
        mpnet_pkt_free_bulk(refused, nref);
}

void ip4_local_punt_back(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        mpnet_pkt_prepend(p, (uint32_t)(p->l4_off - p->l3_off));
        stack_punt(w, p, PUNT_LOCAL, (unsigned)ifp->ifindex, 0, 0, 1);
}

static void ip4_local_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                           uint64_t meta)
{
        ip4_local_one(s->ctx[0], ifp, p, (uint32_t)meta != 0);
}

/* What a worker sent to one of our own addresses: input on the next poll. */
static void ip4_loop_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                          uint64_t meta)
{
        (void)meta;
        p->ifindex = (uint32_t)ifp->ifindex;
        if (mpnet_vec_full(&s->loopq)) {
                STK_INC(s, tx_link_full);
                mpnet_pkt_free(p);
                return;
        }
        mpnet_vec_push(&s->loopq, p);
}

/* A packet larger than its next hop's MTU (fragmented here): a forwarded
 * one, or one a worker sent; the next hop all ones for a broadcast. */
static void ip4_frag_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                          uint64_t meta)
{
        uint32_t nexthop = (uint32_t)meta;

        ip4_send_on(s, ifp, nexthop, p, nexthop == UINT32_MAX);
}

static const char *const ip4_input_next[] = {"ip4-lookup"};
static const char *const ip4_lookup_next[] = {"ip4-rewrite", "ip4-local"};

static const struct node_reg ip4_nodes[] = {
    {.name = "ip4-input",
     .fn = ip4_input_node,
     .next = ip4_input_next,
     .n_next = 1,
     .core_id = NODE_ip4_input},
    {.name = "ip4-lookup",
     .fn = ip4_lookup_node,
     .next = ip4_lookup_next,
     .n_next = 2,
     .core_id = NODE_ip4_lookup},
    {.name = "ip4-rewrite", .fn = ip4_rewrite_node, .core_id = NODE_ip4_rewrite},
    {.name = "ip4-local", .fn = ip4_local_node, .core_id = NODE_ip4_local},
};

static const struct ethertype_reg ip4_types[] = {
    {.type = MPNET_ETHERTYPE_IPV4, .node = "ip4-input"},
};

static const struct punt_reg ip4_punts[] = {
    {.kind = PUNT_LOCAL, .fn = ip4_local_punt},
    {.kind = PUNT_LOOP, .fn = ip4_loop_punt},
    {.kind = PUNT_FRAG, .fn = ip4_frag_punt},
};

static const struct counter_reg ip4_counters[] = {
    [IP4_CTR_MC_RX] = {"ip4_mc_rx", "IPv4 multicast to a group joined, to local input"},
};

const struct mpnet_module mod_ip4 = {
    .name = "ip4",
    .nodes = ip4_nodes,
    .n_nodes = 4,
    .ethertypes = ip4_types,
    .n_ethertypes = 1,
    .punts = ip4_punts,
    .n_punts = 3,
    .counters = ip4_counters,
    .n_counters = sizeof(ip4_counters) / sizeof(ip4_counters[0]),
    .iface_attach = ip4_iface_attach,
    .iface_detach = ip4_iface_detach,
    .iface_free = ip4_iface_free,
    .iface_table = ip4_iface_table,
    .iface_mark_size = sizeof(struct ip4_ifdata),
    .iface_mark = ip4_iface_mark,
    .iface_reset = ip4_iface_reset,
};
