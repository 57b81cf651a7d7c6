/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMPv6 (RFC 4443): echo reply, the errors the stack sends (2.4(e)
 * rules, 2.4(f) a token bucket per context at its share of the stack's
 * rate) and those it receives (packet too big feeds the path MTU cache,
 * RFC 8201; errors quoting our echo requests go to the echo socket of
 * their identifier, else, as echo replies no socket took, to the ping
 * API: its echo sockets, l4/ping_sock.c, through the graph's echo hooks;
 * l4/ping_api.c sends the requests); and the dispatch of ND (RFC 4861,
 * redirects included) and MLD (RFC 3810) messages.
 *
 * Synchronisation: echo requests are answered and errors sent on the
 * context that has the packet (a worker or the control thread), reading
 * the published addresses; the rest (ND, MLD, the ping API, the path MTU
 * cache, redirects' bucket) is the control thread's, and a worker gives it
 * those messages (ip6_local_punt_back).
 */
#include <errno.h>
#include <string.h>

#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/ip6.h"
#include "l3/neigh.h"
#include "l3/ip_iface.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define ICMP6_ERR_MAX MPNET_IP6_MIN_MTU /* 2.4(c): the error fits the minimum MTU */

uint16_t pkt_csum_chain(const struct mpnet_pkt *p, uint64_t sum)
{
        uint32_t off = 0;

        for (; p != NULL; p = p->next) {
                uint64_t part = mpnet_csum_add(0, p->data, p->len);

                if (off & 1) {
                        uint16_t f = (uint16_t)~mpnet_csum_fold(part);

                        part = (uint16_t)(f << 8 | f >> 8);
                }
                sum += part;
                off += p->len;
        }
        return mpnet_csum_fold(sum);
}

static uint16_t icmp6_csum_chain(const struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst)
{
        return pkt_csum_chain(p, mpnet_ip6_pseudo_sum(src, dst, p->pkt_len, MPNET_IPPROTO_ICMPV6));
}

uint8_t *icmp6_alloc(struct mpnet_stack *s, size_t n, struct mpnet_pkt **pp)
{
        struct mpnet_pkt *p = mpnet_pkt_alloc(s->pool);
        uint8_t *b;

        if (p == NULL) {
                STK_INC(s, nobufs);
                return NULL;
        }
        b = mpnet_pkt_append(p, (uint32_t)n);
        memset(b, 0, n);
        *pp = p;
        return b;
}

/* ---- echo ---- */

static void icmp6_echo_reply(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                             const struct mpnet_ip6_repr *ip)
{
        struct mpnet_stack *s = w->s;
        uint8_t src[16], hlim = iface_addr6_read(ifp)->hop_limit;

        STK_INC(s, icmp6_echo_req);
        /* 4.2: the reply's source is the request's unicast destination; for
         * a multicast request, an address of the receiving interface. */
        if (mpnet_ip6_is_multicast(ip->dst)) {
                const struct addr6_pub *a = ip6_src_pick(s, ifp, ip->src);

                if (a == NULL) {
                        mpnet_pkt_free(p);
                        return;
                }
                memcpy(src, a->addr, 16);
        } else {
                memcpy(src, ip->dst, 16);
        }
        p->data[0] = MPNET_ICMP6_ECHO_REPLY;
        mpnet_put_be16(p->data + 2, 0);
        mpnet_put_be16(p->data + 2, icmp6_csum_chain(p, src, ip->src));
        ip6_output_w(w, p, src, ip->src, MPNET_IPPROTO_ICMPV6, hlim != 0 ? hlim : IP6_HLIM_DEFAULT,
                     ifp->ifindex);
}

static void icmp6_inc(struct mpnet_stack *s, enum icmp6_ctr c)
{
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_icmp6, c));
}

/*
 * An error: the invoking packet's start is quoted after the header (RFC
 * 4443 2.4(c)). It goes to the quoted protocol's error handler (struct
 * l4_reg's err: UDP sockets); a packet too big lowers the path MTU (RFC
 * 8201 4) when that protocol took the quote as its own, or has no handler
 * (RFC 5927 3); errors about our echo requests go to the echo socket of
 * their identifier (the raw module's error tap), else to the ping API (the
 * graph's echo_err).
 */
static void icmp6_error_input(struct wctx *w, const struct mpnet_ip6_repr *ip,
                              const struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;
        const uint8_t *q = p->data + MPNET_ICMP6_HLEN;
        size_t qn = p->len - MPNET_ICMP6_HLEN;
        struct mpnet_ip6_view qv = {.b = q, .n = qn};
        struct mpnet_ip6_chain c;
        uint32_t info = mpnet_get_be32(p->data + 4);
        const uint8_t *e;
        bool walked, ours = true;
        struct l4_err le = {.family = 6};
        l4_err_fn fn;

        STK_INC(s, icmp6_err_rx);
        if (qn < MPNET_IP6_HLEN || (q[0] >> 4) != 6) {
                icmp6_inc(s, ICMP6_CTR_ERR_SHORT);
                return;
        }
        if (!stack_is_local6(s, q + 8)) {
                icmp6_inc(s, ICMP6_CTR_ERR_NOT_OURS);
                return;
        }
        /* The quote may be cut: walk what is there. */
        walked = mpnet_ip6_walk(&qv, &c) == 0;
        fn = walked ? graph_l4_err(&s->g, 6, c.l4_proto) : NULL;
        le.type = p->data[0];
        le.code = p->data[1];
        le.info =
            p->data[0] == MPNET_ICMP6_PACKET_TOO_BIG || p->data[0] == MPNET_ICMP6_PARAM_PROBLEM
                ? info
                : 0;
        le.rest = info;
        le.ttl = ip->hop_limit;
        le.ifindex = p->ifindex;
        memcpy(le.offender, ip->src, 16);
        memcpy(le.src, q + 8, 16);
        memcpy(le.dst, q + 24, 16);
        if (walked) {
                le.l4 = q + c.l4_off;
                le.l4_len = qn >= c.l4_off ? (uint32_t)(qn - c.l4_off) : 0;
        }
        if (fn != NULL) {
                if (qn < (size_t)c.l4_off + 8 || (c.has_frag && c.frag_off != 0)) {
                        icmp6_inc(s, ICMP6_CTR_ERR_SHORT);
                        return;
                }
                ours = fn(w, &le);
        }
        if (ours && p->data[0] == MPNET_ICMP6_PACKET_TOO_BIG)
                pmtu6_update(s, q + 24, info);
        if (!walked || c.l4_proto != MPNET_IPPROTO_ICMPV6 || qn < (size_t)c.l4_off + 8)
                return;
        e = q + c.l4_off;
        if (e[0] != MPNET_ICMP6_ECHO_REQUEST)
                return;
        /* An echo socket of the request's identifier takes it first. */
        if (!(c.has_frag && c.frag_off != 0) && graph_l4_tap_err(w, &le, MPNET_IPPROTO_ICMPV6))
                return;
        graph_echo_err(w, &le);
}

/* ND messages are contiguous and come with hop limit 255 (RFC 4861 6.1,
 * 7.1): anything else may come from off link. */
static void nd6_dispatch(struct mpnet_stack *s, struct mpnet_iface *ifp, const struct mpnet_pkt *p,
                         const struct mpnet_ip6_repr *ip)
{
        if (ip->hop_limit != 255) {
                STK_INC(s, nd_bad_hlim);
                return;
        }
        if (p->next != NULL) {
                STK_INC(s, nd_invalid);
                return;
        }
        switch (p->data[0]) {
        case MPNET_ICMP6_ND_NS:
                nd6_ns_input(ifp, ip, p->data, p->len);
                break;
        case MPNET_ICMP6_ND_NA:
                nd6_na_input(ifp, ip, p->data, p->len);
                break;
        case MPNET_ICMP6_ND_RS:
                nd6_rs_input(ifp, ip, p->data, p->len);
                break;
        case MPNET_ICMP6_ND_RA:
                nd6_ra_input(ifp, ip, p->data, p->len);
                break;
        case MPNET_ICMP6_ND_REDIRECT:
                nd6_redirect_input(ifp, ip, p->data, p->len);
                break;
        }
}

/* The learning limit (neigh_learn_ok) on a solicitation for one of our
 * addresses, before its checksum and before the punt. A tentative target
 * is DAD's (RFC 4862 5.4.3), which answers nothing and must see every
 * probe: never limited. */
static bool nd6_learn_ok(struct wctx *w, struct mpnet_iface *ifp, const struct mpnet_pkt *p,
                         const struct mpnet_ip6_repr *ip)
{
        const struct addr6_pub *a;
        union neigh_key k;

        if (p->len < 24 || p->data[0] != MPNET_ICMP6_ND_NS)
                return true;
        a = iface_addr6_find(ifp, p->data + 8);
        if (a == NULL || (a->flags & MPNET_ADDR6_F_TENTATIVE))
                return true;
        k = neigh_key6(ip->src);
        return neigh_learn_ok(w, ifp, NEIGH_ND, &k);
}

/*
 * Messages this node ignores whatever they hold, dropped (counted as
 * received) before their checksum and before a worker punts them: MLD
 * reports and dones, which only a multicast router acts on (mpnet is a
 * listener, RFC 3810 6, mld_input), and router advertisements on a router,
 * which does not configure itself from them (RFC 4861 6.2.7, nd6_ra_input).
 * A worker knows a router by forwarding alone (ifp->in6->ra is the control
 * thread's).
 */
static bool icmp6_ignored(struct wctx *w, const struct mpnet_iface *ifp, uint8_t type)
{
        struct mpnet_stack *s = w->s;

        switch (type) {
        case 131: /* MLDv1 report */
        case 132: /* MLDv1 done */
        case MPNET_ICMP6_MLD2_REPORT:
                STK_INC(s, icmp6_rx);
                STK_INC(s, mld_rx);
                return true;
        case MPNET_ICMP6_ND_RA:
                if (!atomic_load_explicit(&s->ip6_fwd, memory_order_relaxed) &&
                    (ctx_is_worker(w) || ifp->in6->ra == NULL))
                        return false;
                STK_INC(s, icmp6_rx);
                STK_INC(s, nd_ra_rx);
                return true;
        default:
                return false;
        }
}

/* No worker owns flows: the control thread checks what comes in (what
 * stack_flow_owner(s, 0) == 0 says; context 0 never owns flows). */
static inline bool flows_on_ctl(const struct mpnet_stack *s)
{
        return atomic_load_explicit(&s->owner_mask, memory_order_acquire) == 0;
}

/* Whether a is the solicited-node group of t, ff02::1:ff00:0/104 and t's
 * last 24 bits (RFC 4291 2.7.1): loads and compares in registers (the
 * prefix's words are constants). */
static inline bool is_snm_of(const uint8_t *a, const uint8_t *t)
{
        static const uint8_t pre[12] = {0xff, 0x02, [11] = 0x01};
        uint64_t a0, p0;
        uint32_t a1, p1;

        memcpy(&a0, a, 8);
        memcpy(&p0, pre, 8);
        memcpy(&a1, a + 8, 4);
        memcpy(&p1, pre + 8, 4);
        return a0 == p0 && a1 == p1 && a[12] == 0xff && a[13] == t[13] && a[14] == t[14] &&
               a[15] == t[15];
}

/* Local delivery takes a packet to group g (RFC 4291 2.7): one the
 * interface has joined, never one of interface-local scope off the wire. */
static inline bool mc_delivered(const struct mpnet_iface *ifp, const uint8_t *g)
{
        return mpnet_ip6_mc_scope(g) != MPNET_IP6_SCOPE_INTERFACE &&
               (ip6_eq(g, ip6_all_nodes) || iface_mc6_has(ifp, g));
}

/*
 * ip6-input, on a packet to a group: the drops of icmp6_input() above
 * (the learning limit, ignored messages) taken before the lookup, local
 * delivery and the checksum, when nothing between would see the packet
 * (no ip6-in or local-in feature, no raw socket) and local delivery would
 * take it (a group the interface has joined, RFC 4291 2.7). The learning
 * limit's token is only looked at here: icmp6_input() takes it from what
 * passes. The packet is at its IPv6 header, a hop-by-hop header checked.
 * @return true when p was dropped (and counted).
 */
bool icmp6_early_drop(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;
        const uint8_t *b = p->data, *m;
        uint32_t off = MPNET_IP6_HLEN;
        const struct addr6_pub *a;

        if (b[6] == MPNET_IPPROTO_HOPOPTS && p->len >= MPNET_IP6_HLEN + 8)
                off += (uint32_t)(b[MPNET_IP6_HLEN + 1] + 1) * 8;
        else if (b[6] != MPNET_IPPROTO_ICMPV6)
                return false;
        if (off >= p->len || (off > MPNET_IP6_HLEN && b[MPNET_IP6_HLEN] != MPNET_IPPROTO_ICMPV6))
                return false;
        m = b + off;
        /* Only the types icmp6_input() may drop unread. */
        if (m[0] != MPNET_ICMP6_ND_NS && m[0] != MPNET_ICMP6_ND_RA && m[0] != 131 && m[0] != 132 &&
            m[0] != MPNET_ICMP6_MLD2_REPORT)
                return false;
        if (atomic_load_explicit(&s->l4_tap_any, memory_order_relaxed) ||
            s->g.l4_of[1][MPNET_IPPROTO_ICMPV6] == 0 ||
            atomic_load_explicit(&ifp->arcs[ARC_IP6_IN], memory_order_relaxed) != NULL ||
            atomic_load_explicit(&ifp->arcs[ARC_LOCAL_IN], memory_order_relaxed) != NULL)
                return false;
        if (m[0] == MPNET_ICMP6_ND_NS) {
                /* As nd6_learn_ok(), where icmp6_input() checks. */
                if (p->len - off < 24 || !(ctx_is_worker(w) || flows_on_ctl(s)))
                        return false;
                a = iface_addr6_find(ifp, m + 8);
                if (a == NULL || (a->flags & MPNET_ADDR6_F_TENTATIVE))
                        return false;
                /* The target's solicited-node group is joined while the
                 * target is an address of ours (nd6_addr.c joins it before
                 * adding the address and leaves it after removing it, and
                 * both are in every published copy): a solicitation to it
                 * (RFC 4861 7.2.2) needs no search of the groups. */
                if (!is_snm_of(b + 24, m + 8) && !mc_delivered(ifp, b + 24))
                        return false;
                if (neigh_learn_peek6(w, ifp, b + 8))
                        return false;
        } else if (!mc_delivered(ifp, b + 24) || !icmp6_ignored(w, ifp, m[0])) {
                return false;
        }
        mpnet_pkt_free(p);
        return true;
}

void icmp6_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                 const struct mpnet_ip6_repr *ip)
{
        struct mpnet_stack *s = w->s;

        /* Checked once, where the packet came in: by a worker before the
         * punt, by the control thread while no worker owns flows (what
         * workers punt to it passed them). */
        /* Echo (128, 129) and the errors (below 128) are neither limited
         * nor ignored: they skip both checks. */
        if (p->len > 0 && p->data[0] > MPNET_ICMP6_ECHO_REPLY) {
                if ((ctx_is_worker(w) || flows_on_ctl(s)) && !nd6_learn_ok(w, ifp, p, ip)) {
                        mpnet_pkt_free(p);
                        return;
                }
                if (icmp6_ignored(w, ifp, p->data[0])) {
                        mpnet_pkt_free(p);
                        return;
                }
                /* A neighbour discovery message whose hop limit is not
                 * 255 came from off the link and is discarded whatever
                 * it holds (RFC 4861 6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1).
                 * Those sections list their checks in no order: this one,
                 * a compare, goes before the checksum and before a worker
                 * punts the message. */
                if (p->data[0] >= MPNET_ICMP6_ND_RS && p->data[0] <= MPNET_ICMP6_ND_REDIRECT &&
                    ip->hop_limit != 255) {
                        STK_INC(s, icmp6_rx);
                        STK_INC(s, nd_bad_hlim);
                        mpnet_pkt_free(p);
                        return;
                }
        }

        /* A worker answers echo requests; the rest is for ND, MLD and the
         * ping API, which are the control thread's. */
        if (ctx_is_worker(w) && (p->len == 0 || p->data[0] != MPNET_ICMP6_ECHO_REQUEST)) {
                ip6_local_punt_back(w, ifp, p);
                return;
        }
        STK_INC(s, icmp6_rx);
        if (p->len < MPNET_ICMP6_HLEN) {
                STK_INC(s, icmp6_truncated);
                goto drop;
        }
        if (!(p->ol_flags & MPNET_PKT_F_L4_CSUM_OK) && icmp6_csum_chain(p, ip->src, ip->dst) != 0) {
                STK_INC(s, icmp6_bad_csum);
                goto drop;
        }
        switch (p->data[0]) {
        case MPNET_ICMP6_ECHO_REQUEST:
                icmp6_echo_reply(w, ifp, p, ip);
                return;
        case MPNET_ICMP6_ECHO_REPLY:
                STK_INC(s, icmp6_echo_reply);
                if (graph_echo_in(w, p, 6))
                        return;
                break;
        case MPNET_ICMP6_DEST_UNREACH:
        case MPNET_ICMP6_PACKET_TOO_BIG:
        case MPNET_ICMP6_TIME_EXCEEDED:
        case MPNET_ICMP6_PARAM_PROBLEM:
                icmp6_error_input(w, ip, p);
                break;
        case MPNET_ICMP6_ND_RS:
        case MPNET_ICMP6_ND_RA:
        case MPNET_ICMP6_ND_NS:
        case MPNET_ICMP6_ND_NA:
        case MPNET_ICMP6_ND_REDIRECT:
                nd6_dispatch(s, ifp, p, ip);
                break;
        case MPNET_ICMP6_MLD_QUERY:
        case 131: /* MLDv1 report */
        case 132: /* MLDv1 done */
        case MPNET_ICMP6_MLD2_REPORT:
                if (p->next == NULL)
                        mld_input(ifp, ip, p->data, p->len);
                break;
        default:
                STK_INC(s, icmp6_other);
                break;
        }
drop:
        mpnet_pkt_free(p);
}

/* ---- errors ---- */

/* RFC 4443 2.4(e): the packets no error may answer, but for errors and
 * redirects (icmp6_about_error). */
static bool icmp6_error_allowed(const struct mpnet_pkt *p, uint8_t type, uint8_t code)
{
        const uint8_t *b = p->data;
        /* (e.3), (e.4): the exceptions for multicast. */
        bool mc_ok = type == MPNET_ICMP6_PACKET_TOO_BIG ||
                     (type == MPNET_ICMP6_PARAM_PROBLEM && code == MPNET_ICMP6_PARAM_OPTION);
        uint64_t s0, s1;

        if (p->len < MPNET_IP6_HLEN)
                return false;
        /* (e.6): a source that names no single node (::, a group). */
        memcpy(&s0, b + 8, 8);
        memcpy(&s1, b + 16, 8);
        if ((s0 | s1) == 0 || mpnet_ip6_is_multicast(b + 8))
                return false;
        if ((mpnet_ip6_is_multicast(b + 24) || (p->ol_flags & MPNET_PKT_F_L2_BCAST)) && !mc_ok)
                return false;
        return true;
}

/* RFC 4443 2.4 (e.1), (e.2): the invoking packet is an error message or a
 * redirect (the rest of icmp6_error_allowed, apart: it walks the extension
 * headers). */
static bool icmp6_about_error(const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        struct mpnet_ip6_view v = {.b = b, .n = p->len};
        struct mpnet_ip6_chain c;

        if (mpnet_ip6_walk(&v, &c) == 0 && c.l4_proto == MPNET_IPPROTO_ICMPV6 &&
            (!c.has_frag || c.frag_off == 0) && p->len > c.l4_off) {
                uint8_t t = b[c.l4_off];

                if (t < 128 || t == MPNET_ICMP6_ND_REDIRECT)
                        return true;
        }
        return false;
}

/* The redirects' own bucket at the stack's rate (nd6_redirect.c): errors
 * use their context's (ctx_icmp_rate_ok). */
bool icmp6_rate_ok(struct mpnet_stack *s)
{
        return token_take(&s->icmp6_tokens, &s->icmp6_last, s->now, s->icmp6_rate, s->icmp6_burst);
}

/* The rest of icmp6_error(), past the checks a flood of packets that
 * each earn an error meets: out of line, so that the drop builds nothing
 * and saves no registers for it. */
static __attribute__((noinline)) void icmp6_error_send(struct wctx *w, const struct mpnet_pkt *p,
                                                       uint8_t type, uint8_t code, uint32_t info)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_icmp6_repr r = {.type = type, .code = code, .rest = info};
        const uint8_t *osrc = p->data + 8, *odst = p->data + 24;
        int oif = mpnet_ip6_is_link_local(osrc) ? (int)p->ifindex : 0;
        struct mpnet_pkt *q;
        uint8_t src[16];
        uint32_t quote;
        uint8_t *b;

        if (icmp6_about_error(p)) {
                STK_INC(s, icmp6_err_suppressed);
                return;
        }
        if (!ctx_icmp_rate_ok(w, true))
                return;
        /* The source: the invoking packet's destination when it was ours,
         * else what selection gives toward its source (RFC 4443 2.2). */
        if (stack_is_local6(s, odst))
                memcpy(src, odst, 16);
        else if (mpnet_ip6_src_select(s, osrc, oif, src) != 0)
                return;
        quote = p->pkt_len;
        if (quote > ICMP6_ERR_MAX - MPNET_IP6_HLEN - MPNET_ICMP6_HLEN)
                quote = ICMP6_ERR_MAX - MPNET_IP6_HLEN - MPNET_ICMP6_HLEN;
        b = icmp6_alloc(s, MPNET_ICMP6_HLEN + quote, &q);
        if (b == NULL)
                return;
        mpnet_pkt_read(p, 0, b + MPNET_ICMP6_HLEN, quote);
        r.data = b + MPNET_ICMP6_HLEN;
        r.data_len = quote;
        mpnet_icmp6_repr_emit(&r, src, osrc, b);
        STK_INC(s, icmp6_err_tx);
        ip6_output_w(w, q, src, osrc, MPNET_IPPROTO_ICMPV6, IP6_HLIM_DEFAULT, oif);
}

void icmp6_error(struct wctx *w, const struct mpnet_pkt *p, uint8_t type, uint8_t code,
                 uint32_t info)
{
        struct mpnet_stack *s = w->s;

        if (!icmp6_error_allowed(p, type, code)) {
                STK_INC(s, icmp6_err_suppressed);
                return;
        }
        /* 2.4(f): the context's share of the stack's rate (counted). A
         * flood of packets that each earn an error mostly finds the bucket
         * empty: it is looked at before the extension-header walk of
         * (e.1), (e.2), and taken from after it. */
        if (!ctx_bucket_peek(w, &w->punt_tb[1], s->icmp6_rate, s->icmp6_burst)) {
                STK_INC(s, icmp6_err_ratelimited);
                return;
        }
        icmp6_error_send(w, p, type, code, info);
}

static void icmp6_l4(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const void *repr)
{
        icmp6_input(w, ifp, p, repr);
}

static const struct l4_reg icmp6_l4_reg[] = {
    {.family = 6, .proto = MPNET_IPPROTO_ICMPV6, .fn = icmp6_l4},
};

static const struct counter_reg icmp6_ctrs[ICMP6_CTR__N] = {
    [ICMP6_CTR_ERR_SHORT] = {"icmp6_err_short",
                             "drop: ICMPv6 error quoting less than the IPv6 header (and 8 "
                             "bytes of a transport that takes errors)"},
    [ICMP6_CTR_ERR_NOT_OURS] = {"icmp6_err_not_ours",
                                "drop: ICMPv6 error quoting a packet not from us"},
};

const struct mpnet_module mod_icmp6 = {
    .name = "icmp6",
    .l4 = icmp6_l4_reg,
    .n_l4 = 1,
    .counters = icmp6_ctrs,
    .n_counters = ICMP6_CTR__N,
};
