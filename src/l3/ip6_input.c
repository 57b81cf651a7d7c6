/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 input as three nodes on the vector of one receiving interface, the
 * shape of ip4_input.c:
 *
 *   ip6-input   header checks (RFC 8200 3): version, payload length against
 *               the frame (link padding trimmed), source and destination
 *               classes (RFC 4291 2.5.2, 2.5.3, 2.7); the hop-by-hop options
 *               header, the one every node on the path processes (RFC 8200
 *               4.3), option by option by the action bits of 4.2.
 *   ip6-lookup  longest-prefix match of every destination (one bulk lpm6
 *               call), then local delivery, forwarding (ip6-rewrite), or a
 *               drop with or without an ICMPv6 error; multicast to the
 *               groups joined; link-local addresses kept on their link.
 *   ip6-local   the rest of the extension header chain (the wire walker),
 *               destination options, routing header, fragments
 *               (reassembly, or an atomic fragment in isolation, RFC 6946),
 *               then the upper layer.
 *
 * Synchronisation: every node runs on any context (the control thread or a
 * worker), reading the published addresses and groups. ip6-local runs
 * where the packet is; a fragment goes to the context that owns its
 * datagram (ctx_handoff), which reassembles it in its own table and times
 * it out; what only the control thread does (ND, MLD, the ping API) is
 * punted back to it (ip6_local_punt_back).
 */
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "fib/fib_priv.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "l3/neigh.h"
#include "stack/stack_priv.h"

#define NH_MISS UINT32_MAX

/* What to do with a packet after an options header. */
enum opt_verdict { OPT_OK, OPT_DROP, OPT_ERROR };

/*
 * The options of a hop-by-hop or destination options header (RFC 8200 4.2):
 * Pad1, PadN and router alert (RFC 2711) are known; an unknown option is
 * skipped, or drops the packet with or without a parameter problem (code 2,
 * pointing at the option) as its two high bits say.
 */
static enum opt_verdict ip6_options(struct mpnet_stack *s, const struct mpnet_ip6_view *v,
                                    const struct mpnet_ip6_ext *ext, uint32_t *ptr)
{
        struct mpnet_ip6_opt_iter it;
        struct mpnet_ip6_opt o;
        int r;

        mpnet_ip6_opt_iter_init(&it, v, ext);
        while ((r = mpnet_ip6_opt_next(&it, &o)) == 1) {
                if (o.type == MPNET_IP6_OPT_ROUTER_ALERT && o.len == 2)
                        continue;
                switch (mpnet_ip6_opt_action(o.type)) {
                case MPNET_IP6_OPT_SKIP:
                        continue;
                case MPNET_IP6_OPT_DISCARD:
                        STK_INC(s, ip6_opt_unknown);
                        return OPT_DROP;
                case MPNET_IP6_OPT_DISCARD_ICMP_UCAST:
                        if (mpnet_ip6_is_multicast(mpnet_ip6_dst(v))) {
                                STK_INC(s, ip6_opt_unknown);
                                return OPT_DROP;
                        }
                        /* fall through */
                case MPNET_IP6_OPT_DISCARD_ICMP:
                        STK_INC(s, ip6_opt_unknown);
                        *ptr = o.off;
                        return OPT_ERROR;
                }
        }
        if (r < 0) {
                STK_INC(s, ip6_hbh_bad);
                return OPT_DROP;
        }
        return OPT_OK;
}

/* The hop-by-hop header, right after the IPv6 header (RFC 8200 4.1). */
static bool ip6_hbh(struct wctx *w, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_ip6_view v = {.b = p->data, .n = p->len};
        struct mpnet_ip6_ext ext = {.proto = MPNET_IPPROTO_HOPOPTS, .off = MPNET_IP6_HLEN};
        const uint8_t *h;
        uint32_t ptr;

        if (p->len < MPNET_IP6_HLEN + 8) {
                STK_INC(s, ip6_hbh_bad);
                goto drop;
        }
        h = p->data + MPNET_IP6_HLEN;
        /* The header MLD messages carry (RFC 3810 5): a router alert (RFC
         * 2711) and a PadN to 8 bytes, what ip6_options() passes, known
         * without the walk (a flood of reports pays it per packet). */
        if (h[1] == 0 && h[2] == MPNET_IP6_OPT_ROUTER_ALERT && h[3] == 2 &&
            h[6] == MPNET_IP6_OPT_PADN && h[7] == 0)
                return true;
        ext.len = (uint16_t)((h[1] + 1) * 8);
        if (MPNET_IP6_HLEN + (uint32_t)ext.len > p->len) {
                STK_INC(s, ip6_hbh_bad);
                goto drop;
        }
        switch (ip6_options(s, &v, &ext, &ptr)) {
        case OPT_OK:
                return true;
        case OPT_ERROR:
                node_icmp6_error(w, p, MPNET_ICMP6_PARAM_PROBLEM, MPNET_ICMP6_PARAM_OPTION, ptr);
                return false;
        case OPT_DROP:
                break;
        }
drop:
        mpnet_pkt_free(p);
        return false;
}

/* The header checks of one packet. @return true when p goes on. */
static inline bool ip6_check(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;
        const uint8_t *b = p->data;
        uint64_t src_hi, dst_hi;
        uint32_t total;

        if (__builtin_expect(p->len < MPNET_IP6_HLEN, 0)) {
                STK_INC(s, ip6_truncated);
                goto drop;
        }
        if (__builtin_expect((b[0] >> 4) != 6, 0)) {
                STK_INC(s, ip6_bad_version);
                goto drop;
        }
        total = MPNET_IP6_HLEN + mpnet_get_be16(b + 4);
        if (__builtin_expect(total > p->pkt_len, 0)) {
                STK_INC(s, ip6_bad_len);
                goto drop;
        }
        /* RFC 4291 2.7: never a multicast source; 2.5.3: loopback never on
         * a link; 2.5.2: :: only from a node without an address yet, which
         * speaks to groups (DAD, MLD). Both :: and ::1 start with 8 zero
         * bytes: one load each rules them out for most packets. */
        memcpy(&src_hi, b + 8, 8);
        memcpy(&dst_hi, b + 24, 8);
        if (__builtin_expect(b[8] == 0xff || src_hi == 0 || dst_hi == 0, 0)) {
                if (mpnet_ip6_is_multicast(b + 8) || mpnet_ip6_is_loopback(b + 8) ||
                    (mpnet_ip6_is_unspecified(b + 8) && !mpnet_ip6_is_multicast(b + 24))) {
                        STK_INC(s, ip6_bad_src);
                        goto drop;
                }
                if (mpnet_ip6_is_unspecified(b + 24) || mpnet_ip6_is_loopback(b + 24)) {
                        STK_INC(s, ip6_bad_dst);
                        goto drop;
                }
        }
        /* Link padding past the payload length goes; a chain (jumbo) is
         * cut the same way, its headers in its first buffer. */
        if (p->next == NULL)
                p->len = p->pkt_len = total;
        else
                mpnet_pkt_trim(p, total);
        p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
        if (b[6] == MPNET_IPPROTO_HOPOPTS && !ip6_hbh(w, p))
                return false;
        /* To a group: ICMPv6 that local delivery would drop unread goes
         * now (a flood of it costs what forwarding does). */
        if (__builtin_expect(b[24] == 0xff, 0) && icmp6_early_drop(w, ifp, p))
                return false;
        return true;
drop:
        mpnet_pkt_free(p);
        return false;
}

void ip6_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct mpnet_stack *s = w->s;
        struct frame *in = &w->fr[self];
        struct frame *out = &w->fr[NODE_ip6_lookup];
        unsigned n = in->n, i = 0;

        STK_ADD(s, ip6_rx, n);
        for (; i + 8 <= n; i += 4) {
                for (unsigned j = 4; j < 8; j++)
                        __builtin_prefetch(in->p[i + j]->data);
                for (unsigned j = 0; j < 4; j++) {
                        struct mpnet_pkt *p = in->p[i + j];

                        if (ip6_check(w, ifp, p))
                                out->p[out->n++] = p;
                }
        }
        for (; i < n; i++) {
                struct mpnet_pkt *p = in->p[i];

                if (ip6_check(w, ifp, p))
                        out->p[out->n++] = p;
        }
        in->n = 0;
}

static inline void to_frame(struct frame *f, struct mpnet_pkt *p, uint32_t aux)
{
        f->aux[f->n] = aux;
        f->p[f->n++] = p;
}

/* A group this interface listens to; workers see only the MACs of the
 * groups, ip6-local checks the group itself. */
static bool mc_accept(const struct mpnet_iface *ifp, const uint8_t *dst)
{
        uint8_t mac[6];

        if (ip6_eq(dst, ip6_all_nodes))
                return true;
        mpnet_ip6_mc_mac(dst, mac);
        return iface_mc_mac_ok(ifp, mac);
}

/* The next hop of one packet: where it goes, counted when dropped. */
static void ip6_lookup_one(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                           uint32_t nhi, bool forwarding)
{
        struct mpnet_stack *s = w->s;
        const uint8_t *dst = p->data + 24;
        const struct fib6_nh *nh = nhi != NH_MISS ? fib6_nh_get(&s->fib6, nhi) : NULL;
        struct frame *local = &w->fr[NODE_ip6_local];

        if (__builtin_expect(mpnet_ip6_is_multicast(dst), 0)) {
                /* No multicast routing: a group of ours, or nothing. */
                if (mpnet_ip6_mc_scope(dst) != MPNET_IP6_SCOPE_INTERFACE && mc_accept(ifp, dst)) {
                        to_frame(local, p, NH_MISS);
                        return;
                }
                STK_INC(s, ip6_mc_not_joined);
                goto drop;
        }
        if (__builtin_expect(mpnet_ip6_is_link_local(dst), 0)) {
                /* RFC 4291 2.5.6: never forwarded; ours only on this link. */
                if (nh != NULL && nh->type == MPNET_NH_LOCAL && nh->paths[0].ifp == ifp) {
                        to_frame(local, p, nhi);
                        return;
                }
                STK_INC(s, ip6_scope);
                goto drop;
        }
        if (__builtin_expect(nh == NULL, 0)) {
                if (forwarding) {
                        STK_INC(s, ip6_no_route);
                        node_icmp6_error(w, p, MPNET_ICMP6_DEST_UNREACH, 0, 0);
                        return;
                }
                STK_INC(s, ip6_not_for_us);
                goto drop;
        }
        switch (nh->type) {
        case MPNET_NH_LOCAL:
                to_frame(local, p, nhi);
                return;
        case MPNET_NH_CONNECTED:
        case MPNET_NH_GATEWAY:
                if (__builtin_expect(!forwarding, 0)) {
                        STK_INC(s, ip6_not_for_us);
                        goto drop;
                }
                to_frame(&w->fr[NODE_ip6_rewrite], p, nhi);
                return;
        case MPNET_NH_BLACKHOLE:
                STK_INC(s, ip6_blackhole);
                goto drop;
        case MPNET_NH_UNREACHABLE:
                /* RFC 4443 3.1: code 6, reject route to destination. */
                STK_INC(s, ip6_unreachable);
                node_icmp6_error(w, p, MPNET_ICMP6_DEST_UNREACH, 6, 0);
                return;
        case MPNET_NH_PROHIBIT:
                STK_INC(s, ip6_unreachable);
                node_icmp6_error(w, p, MPNET_ICMP6_DEST_UNREACH, 1, 0);
                return;
        }
drop:
        mpnet_pkt_free(p);
}

void ip6_lookup_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct mpnet_stack *s = w->s;
        struct frame *in = &w->fr[self];
        const struct fib6_table *t =
            fib6_table(&s->fib6, atomic_load_explicit(&ifp->table, memory_order_relaxed));
        bool forwarding = atomic_load_explicit(&s->ip6_fwd, memory_order_relaxed);
        uint8_t dst[MPNET_VEC_MAX][16];
        uint32_t nhi[MPNET_VEC_MAX];
        unsigned n = arc_run(w, ifp, ARC_IP6_IN, in->p, in->aux, in->n);

        for (unsigned i = 0; i < n; i++)
                memcpy(dst[i], in->p[i]->data + 24, 16);
        if (t != NULL) {
                mpnet_lpm6_lookup_bulk(t->lpm, (const uint8_t(*)[16])dst, nhi, n, NH_MISS);
        } else {
                for (unsigned i = 0; i < n; i++)
                        nhi[i] = NH_MISS;
        }
        for (unsigned i = 0; i < n; i++) {
                if (i + 1 < n && nhi[i + 1] != NH_MISS)
                        __builtin_prefetch(s->fib6.nh.dir[nhi[i + 1] / FIB_NH_CHUNK] +
                                           nhi[i + 1] % FIB_NH_CHUNK);
                ip6_lookup_one(w, ifp, in->p[i], nhi[i], forwarding);
        }
        in->n = 0;
}

/* ---- local delivery ---- */

static void param_problem(struct wctx *w, struct mpnet_pkt *p, uint8_t code, uint32_t ptr)
{
        STK_INC(w->s, ip6_ext_bad);
        icmp6_error(w, p, MPNET_ICMP6_PARAM_PROBLEM, code, ptr);
        mpnet_pkt_free(p);
}

/* A walker error as RFC 8200 4 and RFC 7112 5 answer it. */
static void walk_error(struct wctx *w, struct mpnet_pkt *p, int err,
                       const struct mpnet_ip6_chain *c)
{
        switch (-err) {
        case MPNET_WIRE_TRUNCATED:
                param_problem(w, p,
                              c->has_frag && c->frag_off == 0 ? MPNET_ICMP6_PARAM_CHAIN
                                                              : MPNET_ICMP6_PARAM_HEADER,
                              c->err_off);
                return;
        case MPNET_WIRE_BAD_ORDER:
                param_problem(w, p, MPNET_ICMP6_PARAM_NEXT_HEADER, c->err_off);
                return;
        case MPNET_WIRE_DEPRECATED:
        case MPNET_WIRE_BAD_LEN:
                param_problem(w, p, MPNET_ICMP6_PARAM_HEADER, c->err_off);
                return;
        default:
                STK_INC(w->s, ip6_ext_bad);
                mpnet_pkt_free(p);
                return;
        }
}

/* Destination options and routing headers of a walked chain. @return false
 * when p was consumed. */
static bool ip6_ext_process(struct wctx *w, struct mpnet_pkt *p, const struct mpnet_ip6_view *v,
                            const struct mpnet_ip6_chain *c)
{
        for (unsigned i = 0; i < c->n_ext; i++) {
                const struct mpnet_ip6_ext *e = &c->ext[i];
                uint32_t ptr;

                if (e->proto == MPNET_IPPROTO_DSTOPTS) {
                        switch (ip6_options(w->s, v, e, &ptr)) {
                        case OPT_OK:
                                break;
                        case OPT_ERROR:
                                param_problem(w, p, MPNET_ICMP6_PARAM_OPTION, ptr);
                                return false;
                        case OPT_DROP:
                                mpnet_pkt_free(p);
                                return false;
                        }
                } else if (e->proto == MPNET_IPPROTO_ROUTING && c->rh_segs_left > 0) {
                        /* 4.4: no routing type is known to us: with segments
                         * left, point at the type. */
                        param_problem(w, p, MPNET_ICMP6_PARAM_HEADER, e->off + 2u);
                        return false;
                }
        }
        return true;
}

static void ip6_upper(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                      const struct mpnet_ip6_repr *r, const struct mpnet_ip6_chain *c,
                      bool arc_done)
{
        struct mpnet_stack *s = w->s;
        uint32_t nh_field = c->n_ext == 0 ? 6 : c->ext[c->n_ext - 1].off;
        int tap = L4_TAP_NONE;
        uint8_t l4;

        if (!arc_done && arc_run(w, ifp, ARC_LOCAL_IN, &p, NULL, 1) == 0)
                return;
        /* RFC 8200 4.7: nothing follows. */
        if (c->l4_proto == MPNET_IPPROTO_NONE)
                goto drop;
        /* Raw and echo sockets first (graph.h, l4_tap): not again for
         * what a worker's protocol handed back (arc_done). */
        if (__builtin_expect(atomic_load_explicit(&s->l4_tap_any, memory_order_relaxed), 0) &&
            !arc_done) {
                p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
                mpnet_pkt_adj(p, c->l4_off);
                p->l4_off = (uint16_t)mpnet_pkt_headroom(p);
                tap = graph_l4_tap(w, ifp, p, 6, c->l4_proto);
                if (tap == L4_TAP_TAKEN)
                        return;
                mpnet_pkt_prepend(p, c->l4_off);
        }
        /* The protocol modules (graph.h). */
        l4 = s->g.l4_of[1][c->l4_proto];
        if (l4 != 0) {
                p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
                mpnet_pkt_adj(p, c->l4_off);
                p->l4_off = (uint16_t)mpnet_pkt_headroom(p);
                s->g.l4[l4 - 1](w, ifp, p, r);
                return;
        }
        /* A raw socket took it: no parameter problem (as Linux). */
        if (tap == L4_TAP_COPIED)
                goto drop;
        /* RFC 8200 4: an unrecognised next header. */
        STK_INC(s, ip6_unknown_proto);
        icmp6_error(w, p, MPNET_ICMP6_PARAM_PROBLEM, MPNET_ICMP6_PARAM_NEXT_HEADER, nh_field);
drop:
        mpnet_pkt_free(p);
}

/* The owner of a fragment's datagram: a hash of what every fragment
 * carries and the order of the addresses does not change (the datagram's
 * key, RFC 8200 4.5, without the identification, so that a host's
 * fragments stay together as symmetric RSS keeps its flows). */
static unsigned ip6_frag_owner(const struct mpnet_stack *s, const uint8_t *b)
{
        uint64_t x[4], h;

        /* No worker owns flows: the control context owns them all
         * (stack_flow_owner), known without hashing. */
        if (atomic_load_explicit(&s->owner_mask, memory_order_acquire) == 0)
                return 0;
        memcpy(x, b + 8, 32);
        h = ((x[0] ^ x[2]) * 0x9e3779b97f4a7c15ull ^ (x[1] ^ x[3])) * 0x9e3779b97f4a7c15ull;
        return stack_flow_owner(s, (uint32_t)(h >> 32));
}

/* A fragment on the context that owns its datagram: held until the
 * datagram is whole, which then goes through local delivery again. */
static void ip6_frag_local(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                           const struct mpnet_ip6_chain *c, bool arc_done)
{
        struct mpnet_stack *s = w->s;
        unsigned fi = 0;

        while (c->ext[fi].proto != MPNET_IPPROTO_FRAGMENT)
                fi++;
        STK_INC(s, ip6_frag_rx);
        p = ip6_reass_input(reass6_in(w, ifp), p, c->ext[fi].off, fi == 0 ? 6 : c->ext[fi - 1].off);
        if (p != NULL) {
                STK_INC(s, ip6_reassembled);
                ip6_local_one(w, ifp, p, arc_done);
        }
}

void ip6_local_one(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, bool arc_done)
{
        struct mpnet_stack *s = w->s;
        /* A reassembled datagram is a chain whose headers sit in the first
         * segment (RFC 7112 held them to the first fragment). */
        struct mpnet_ip6_view v = {.b = p->data, .n = p->len};
        struct mpnet_ip6_chain c;
        struct mpnet_ip6_repr r;
        unsigned owner;
        int err;

        mpnet_ip6_repr_parse(&v, &r);
        if (mpnet_ip6_is_multicast(r.dst) && !ip6_eq(r.dst, ip6_all_nodes) &&
            !iface_mc6_has(ifp, r.dst)) {
                STK_INC(s, ip6_mc_not_joined);
                goto drop;
        }
        /* RFC 4862 5.4: a tentative address receives nothing yet. */
        if (!mpnet_ip6_is_multicast(r.dst) && !stack_is_local6(s, r.dst)) {
                STK_INC(s, ip6_not_for_us);
                goto drop;
        }
        err = mpnet_ip6_walk(&v, &c);
        if (err != 0) {
                walk_error(w, p, err, &c);
                return;
        }
        if (!ip6_ext_process(w, p, &v, &c))
                return;
        if (c.has_frag && c.frag_atomic) {
                STK_INC(s, ip6_atomic_frag); /* RFC 6946 4: not reassembled */
        } else if (c.has_frag) {
                /* Every fragment of a datagram to one context, whichever
                 * received it. */
                owner = ip6_frag_owner(s, p->data);
                if (owner != w->id) {
                        ctx_handoff(w, owner, NODE_ip6_local, p);
                        return;
                }
                ip6_frag_local(w, ifp, p, &c, arc_done);
                return;
        }
        ip6_upper(w, ifp, p, &r, &c, arc_done);
        return;
drop:
        mpnet_pkt_free(p);
}

/* A fragment flood at a full table: what the table would refuse
 * (reass6_refuse: a fragment header right after the fixed one) is told
 * first, at a fraction of ip6_local_one()'s cost, and dropped with the
 * vector's others, counted once. Only to a unicast address: ip6-lookup
 * found it ours; one still tentative (RFC 4862 5.4), which
 * ip6_local_one() would drop as ip6_not_for_us, is dropped here as
 * refused (nothing is held either way), sparing every fragment the
 * address set's search; so is what a protocol's shed drops (a SYN flood
 * past a listener's cookie limit). */
void ip6_local_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct mpnet_pkt *refused[MPNET_VEC_MAX];
        unsigned nref = 0, nshed;
        uint64_t now = 0;
        l4_shed_fn shed = w->s->g.l4_shed6;

        /* A protocol's flood shed first, counted by it (graph.h). */
        if (shed != NULL)
                in->n = shed(w, ifp, in->p, in->n, refused, &nref);
        nshed = nref;
        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *p = in->p[i];
                const uint8_t *b = p->data;

                if (p->len >= MPNET_IP6_HLEN && b[6] == MPNET_IPPROTO_FRAGMENT && b[24] != 0xff &&
                    ip6_frag_owner(w->s, b) == w->id) {
                        if (now == 0)
                                now = ctx_now(w);
                        if (reass6_refuse(w, ifp, p, now)) {
                                refused[nref++] = p;
                                continue;
                        }
                }
                ip6_local_one(w, ifp, p, false);
        }
        in->n = 0;
        if (nref != nshed)
                reass6_refused(w, nref - nshed);
        mpnet_pkt_free_bulk(refused, nref);
}

void ip6_local_punt_back(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        mpnet_pkt_prepend(p, (uint32_t)(p->l4_off - p->l3_off));
        stack_punt(w, p, PUNT_LOCAL6, (unsigned)ifp->ifindex, 0, 0, 1);
}

/* What a worker gave the control thread: past local-in when c says so. */
static void ip6_local_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                           uint64_t meta)
{
        ip6_local_one(s->ctx[0], ifp, p, (uint32_t)meta != 0);
}

/* A copy of a forwarded packet to quote in a redirect; the target after the
 * punt word. */
static void ip6_redirect_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                              uint64_t meta)
{
        uint8_t target[16];

        (void)s;
        (void)meta;
        memcpy(target, punt_arg16(p), 16);
        nd6_redirect_send(ifp, p, target);
        mpnet_pkt_free(p);
}

static const char *const ip6_input_next[] = {"ip6-lookup"};
static const char *const ip6_lookup_next[] = {"ip6-rewrite", "ip6-local"};

static const struct node_reg ip6_nodes[] = {
    {.name = "ip6-input",
     .fn = ip6_input_node,
     .next = ip6_input_next,
     .n_next = 1,
     .core_id = NODE_ip6_input},
    {.name = "ip6-lookup",
     .fn = ip6_lookup_node,
     .next = ip6_lookup_next,
     .n_next = 2,
     .core_id = NODE_ip6_lookup},
    {.name = "ip6-rewrite", .fn = ip6_rewrite_node, .core_id = NODE_ip6_rewrite},
    {.name = "ip6-local", .fn = ip6_local_node, .core_id = NODE_ip6_local},
};

static const struct ethertype_reg ip6_types[] = {
    {.type = MPNET_ETHERTYPE_IPV6, .node = "ip6-input"},
};

static const struct punt_reg ip6_punts[] = {
    {.kind = PUNT_LOCAL6, .fn = ip6_local_punt, .urgent = neigh_punt_nd},
    {.kind = PUNT_OUT6, .fn = ip6_out_punt},
    {.kind = PUNT_REDIRECT6, .fn = ip6_redirect_punt},
};

static const struct counter_reg ip6_counters[] = {
    [IP6_CTR_NO_SRC] = {"ip6_no_src", "drop: no source address for an own IPv6 packet"},
    [IP6_CTR_PUNT_SHORT] = {"ip6_out_punt_short",
                            "drop: an own IPv6 packet a feature cut below its header"},
};

const struct mpnet_module mod_ip6 = {
    .name = "ip6",
    .nodes = ip6_nodes,
    .n_nodes = 4,
    .ethertypes = ip6_types,
    .n_ethertypes = 1,
    .punts = ip6_punts,
    .n_punts = 3,
    .counters = ip6_counters,
    .n_counters = sizeof(ip6_counters) / sizeof(ip6_counters[0]),
    .iface_attach = ip6_iface_attach,
    .iface_detach = ip6_iface_detach,
    .iface_free = ip6_iface_free,
    .iface_table = ip6_iface_table,
    .iface_mark_size = sizeof(struct ip6_ifmark),
    .iface_mark = ip6_iface_mark,
    .iface_reset = ip6_iface_reset,
    .usage = ip6_usage,
    .iface_usage = ip6_iface_usage,
    .ctx_service = ip6_ctx_service,
    .iface_mtu = ip6_iface_mtu,
};
