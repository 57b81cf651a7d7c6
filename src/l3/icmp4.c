/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP (RFC 792, RFC 1122 section 3.2.2, RFC 1812 section 4.3): echo reply,
 * the errors it sends (with the rules of RFC 1812 4.3.2.7 and a token-bucket
 * rate limit) and the errors it receives, handed to the transport protocol
 * they quote. Echo replies and errors about echo requests that no echo
 * socket took go to the ping API (its echo sockets, l4/ping_sock.c, through
 * the graph's echo hooks), which also sends the requests (l4/ping_api.c).
 *
 * Synchronisation: echo requests are answered and errors sent on the
 * context that has the packet (a worker or the control thread), within the
 * context's share of the error rate; echo replies and errors received are
 * the control thread's (the ping API's sockets are homed there) and go to it.
 */
#include <errno.h>

#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"
#include "fib/fib_priv.h"
#include "l3/ip4.h"
#include "l3/ip_iface.h"
#include "l3/pmtu.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

#define ICMP_TTL     64
#define ICMP_ERR_MAX 576 /* RFC 1812 4.3.2.3: the whole error fits in 576 bytes */

/* The one's-complement sum of a chain's bytes from the first segment's data.
 * A segment that starts at an odd offset has its sum byte-swapped (RFC 1071
 * section 2(B)). */
static uint16_t pkt_csum(const struct mpnet_pkt *p)
{
        uint64_t sum = 0;
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

/* Answer in place: the request's buffers become the reply. Only the type
 * changes, so the checksum is updated, not recomputed (RFC 1624). */
static void icmp4_echo_reply(struct wctx *w, struct mpnet_pkt *p, const struct mpnet_ip4_repr *ip)
{
        struct mpnet_stack *s = w->s;
        uint8_t *b = p->data;
        uint16_t old = mpnet_get_be16(b);

        b[0] = MPNET_ICMP4_ECHO_REPLY;
        mpnet_put_be16(b + 2, mpnet_csum_update16(mpnet_get_be16(b + 2), old, mpnet_get_be16(b)));
        STK_INC(s, icmp4_echo_req);
        /* RFC 1122 3.2.2.6: the reply's source is the request's destination. */
        ip4_output_w(w, p, ip->dst, ip->src, MPNET_IPPROTO_ICMP, ICMP_TTL, false);
}

static void icmp4_inc(struct mpnet_stack *s, enum icmp4_ctr c)
{
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_icmp4, c));
}

static void v4mapped(uint8_t a[16], uint32_t v4)
{
        memset(a, 0, 10);
        a[10] = a[11] = 0xff;
        mpnet_put_be32(a + 12, v4);
}

/*
 * An error received: the quoted header and the first eight bytes of its
 * payload (RFC 792; RFC 1812 4.3.2.3 quotes more) name what we sent. It
 * goes to the quoted protocol's error handler (struct l4_reg's err: UDP
 * sockets), then, for fragmentation needed, to the path MTU (RFC 1191)
 * when the protocol took the quote as its own (RFC 5927 3: not on the word
 * of any packet that names our address); errors about our echo requests
 * go to the echo socket of their identifier (the raw module's error tap),
 * else to the ping API (the graph's echo_err).
 */
static void icmp4_error_input(struct wctx *w, struct mpnet_pkt *p, const struct mpnet_ip4_repr *ip,
                              const struct mpnet_icmp4_repr *r)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_ip4_view qv;
        const uint8_t *q;
        size_t hl;
        struct l4_err e = {.family = 4};
        l4_err_fn fn;
        bool ours = true, first;

        STK_INC(s, icmp4_err_rx);
        /* The quote may be cut short of its total length: check the header
         * only, against what is there. */
        hl = r->data_len > 0 ? (size_t)(r->data[0] & 0xf) * 4 : 0;
        if (r->data_len < MPNET_IP4_HLEN + 8 || (r->data[0] >> 4) != 4 || hl < MPNET_IP4_HLEN ||
            hl + 8 > r->data_len) {
                icmp4_inc(s, ICMP4_CTR_ERR_SHORT);
                return;
        }
        qv.b = r->data;
        qv.n = r->data_len;
        if (!stack_is_local4(s, mpnet_ip4_src(&qv))) {
                icmp4_inc(s, ICMP4_CTR_ERR_NOT_OURS);
                return;
        }
        q = mpnet_ip4_payload(&qv);
        first = (mpnet_ip4_frag_off(&qv) & 0x1fff) == 0;
        e.type = r->type;
        e.code = r->code;
        e.info = r->type == MPNET_ICMP4_DEST_UNREACH && r->code == 4 ? r->rest & 0xffff
                 : r->type == MPNET_ICMP4_PARAM_PROBLEM              ? r->rest >> 24
                                                                     : 0;
        e.rest = r->rest;
        e.ttl = ip->ttl;
        e.l4 = q;
        e.l4_len = (uint32_t)(r->data_len - hl);
        e.ifindex = p->ifindex;
        v4mapped(e.offender, ip->src);
        v4mapped(e.src, mpnet_ip4_src(&qv));
        v4mapped(e.dst, mpnet_ip4_dst(&qv));
        fn = graph_l4_err(&s->g, 4, mpnet_ip4_proto(&qv));
        if (fn != NULL)
                ours = first && fn(w, &e); /* a later fragment quotes no transport header */
        if (ours && r->type == MPNET_ICMP4_DEST_UNREACH && r->code == 4)
                pmtu4_frag_needed(s, mpnet_ip4_dst(&qv), r->rest & 0xffff,
                                  mpnet_ip4_total_len(&qv));
        if (mpnet_ip4_proto(&qv) != MPNET_IPPROTO_ICMP || q[0] != MPNET_ICMP4_ECHO_REQUEST)
                return;
        /* An echo socket of the request's identifier takes it first. */
        if (first && graph_l4_tap_err(w, &e, MPNET_IPPROTO_ICMP))
                return;
        graph_echo_err(w, &e);
}

void icmp4_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                 const struct mpnet_ip4_repr *ip)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_icmp4_view v;
        struct mpnet_icmp4_repr r;

        /* A worker answers echo requests; the rest is for the ping API,
         * whose sockets are the control thread's. */
        if (ctx_is_worker(w) && (p->len == 0 || p->data[0] != MPNET_ICMP4_ECHO_REQUEST)) {
                ip4_local_punt_back(w, ifp, p);
                return;
        }
        STK_INC(s, icmp4_rx);
        if (mpnet_icmp4_view_check(p->data, p->len, &v) != 0) {
                STK_INC(s, icmp4_truncated);
                goto drop;
        }
        if (!(p->ol_flags & MPNET_PKT_F_L4_CSUM_OK) && pkt_csum(p) != 0) {
                STK_INC(s, icmp4_bad_csum);
                goto drop;
        }
        mpnet_icmp4_repr_parse(&v, &r);
        switch (r.type) {
        case MPNET_ICMP4_ECHO_REQUEST:
                /* RFC 1122 3.2.2.6 allows ignoring echo to broadcast; answering
                 * makes smurf amplifiers. */
                if (!stack_is_local4(s, ip->dst)) {
                        STK_INC(s, icmp4_bcast_echo);
                        goto drop;
                }
                icmp4_echo_reply(w, p, ip);
                return;
        case MPNET_ICMP4_ECHO_REPLY:
                STK_INC(s, icmp4_echo_reply);
                if (graph_echo_in(w, p, 4))
                        return;
                goto drop;
        case MPNET_ICMP4_DEST_UNREACH:
        case MPNET_ICMP4_REDIRECT: /* reported to the pinger, routes unchanged */
        case MPNET_ICMP4_TIME_EXCEEDED:
        case MPNET_ICMP4_PARAM_PROBLEM:
                icmp4_error_input(w, p, ip, &r);
                goto drop;
        default:
                STK_INC(s, icmp4_other);
                goto drop;
        }
drop:
        mpnet_pkt_free(p);
}

/* ICMP types that are errors (RFC 792): never answered with an error. */
static bool icmp4_is_error(uint8_t type)
{
        return type == MPNET_ICMP4_DEST_UNREACH || type == 4 /* source quench */ ||
               type == MPNET_ICMP4_REDIRECT || type == MPNET_ICMP4_TIME_EXCEEDED ||
               type == MPNET_ICMP4_PARAM_PROBLEM;
}

/* RFC 1812 4.3.2.7 (and RFC 1122 3.2.2): when no error may be sent, but
 * for the directed broadcast (icmp4_to_directed_bcast). */
static bool icmp4_error_allowed(const struct mpnet_pkt *p)
{
        const uint8_t *b = p->data;
        size_t hlen = (size_t)(b[0] & 0xf) * 4;
        uint32_t src = mpnet_get_be32(b + 12), dst = mpnet_get_be32(b + 16);

        /* A datagram sent as a link-layer broadcast. */
        if (p->ol_flags & MPNET_PKT_F_L2_BCAST)
                return false;
        /* To an IP broadcast or multicast address. */
        if (dst >= 0xe0000000u)
                return false;
        /* A fragment other than the first. */
        if ((mpnet_get_be16(b + 6) & 0x1fff) != 0)
                return false;
        /* A source that does not name one host: 0/8, 127/8, 224/4, 240/4. */
        if (mpnet_ip4_is_martian_src(src))
                return false;
        /* An ICMP error. */
        if (b[9] == MPNET_IPPROTO_ICMP && p->len >= hlen + 1 && icmp4_is_error(b[hlen]))
                return false;
        return true;
}

/* RFC 1812 4.3.2.7: to the broadcast address of a connected network (the
 * rest of icmp4_error_allowed, apart: it costs a FIB lookup). */
static bool icmp4_to_directed_bcast(struct mpnet_stack *s, const struct mpnet_pkt *p)
{
        uint32_t dst = mpnet_get_be32(p->data + 16);
        const struct fib_nh *nh = fib4_lookup(&s->fib, fib4_table(s, 0), dst);

        return nh != NULL && nh->type == MPNET_NH_CONNECTED && nh->plen < 31 &&
               (dst | ip4_mask(nh->plen)) == UINT32_MAX;
}

/* Whether w's error bucket has a token, counted as ctx_icmp_rate_ok()
 * counts a refusal; takes none. */
static bool icmp4_rate_peek(struct wctx *w)
{
        struct mpnet_stack *s = w->s;

        if (ctx_bucket_peek(w, &w->punt_tb[0], s->icmp4_rate, s->icmp4_burst))
                return true;
        STK_INC(s, icmp4_err_ratelimited);
        return false;
}

void icmp4_error(struct wctx *w, const struct mpnet_pkt *p, uint8_t type, uint8_t code,
                 uint32_t rest)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_icmp4_repr r = {.type = type, .code = code, .rest = rest};
        struct mpnet_pkt *q;
        uint32_t quote;
        uint8_t *b;

        if (!icmp4_error_allowed(p)) {
                STK_INC(s, icmp4_err_suppressed);
                return;
        }
        /* RFC 1812 4.3.2.8: a rate limit on every error we originate. A
         * flood of datagrams that each earn an error (unroutable
         * destinations) mostly finds the bucket empty: it is looked at
         * before the FIB lookup of the directed-broadcast test, a cold
         * line for a random destination, and taken from after it. */
        if (!icmp4_rate_peek(w))
                return;
        if (icmp4_to_directed_bcast(s, p)) {
                STK_INC(s, icmp4_err_suppressed);
                return;
        }
        if (!ctx_icmp_rate_ok(w, false))
                return;
        q = mpnet_pkt_alloc(s->pool);
        if (q == NULL) {
                STK_INC(s, nobufs);
                return;
        }
        /* As much of the offending datagram as fits in 576 bytes. */
        quote = p->pkt_len;
        if (quote > ICMP_ERR_MAX - MPNET_IP4_HLEN - MPNET_ICMP4_HLEN)
                quote = ICMP_ERR_MAX - MPNET_IP4_HLEN - MPNET_ICMP4_HLEN;
        b = mpnet_pkt_append(q, MPNET_ICMP4_HLEN + quote);
        if (mpnet_pkt_read(p, 0, b + MPNET_ICMP4_HLEN, quote) != 0) {
                mpnet_pkt_free(q);
                return;
        }
        r.data = b + MPNET_ICMP4_HLEN;
        r.data_len = quote;
        mpnet_icmp4_repr_emit(&r, b);
        STK_INC(s, icmp4_err_tx);
        /* The source is chosen on the way out: an address of the interface the
         * error leaves by (RFC 1812 4.3.2.4). */
        ip4_output_w(w, q, 0, mpnet_get_be32(p->data + 12), MPNET_IPPROTO_ICMP, ICMP_TTL, false);
}

static void icmp4_l4(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const void *repr)
{
        icmp4_input(w, ifp, p, repr);
}

static const struct l4_reg icmp4_l4_reg[] = {
    {.family = 4, .proto = MPNET_IPPROTO_ICMP, .fn = icmp4_l4},
};

static const struct counter_reg icmp4_ctrs[ICMP4_CTR__N] = {
    [ICMP4_CTR_ERR_SHORT] = {"icmp4_err_short",
                             "drop: ICMP error quoting less than an IP header and 8 bytes"},
    [ICMP4_CTR_ERR_NOT_OURS] = {"icmp4_err_not_ours",
                                "drop: ICMP error quoting a datagram not from us"},
    [ICMP4_CTR_PMTU] = {"icmp4_pmtu_update", "path MTU lowered by a fragmentation needed"},
};

const struct mpnet_module mod_icmp4 = {
    .name = "icmp4",
    .l4 = icmp4_l4_reg,
    .n_l4 = 1,
    .counters = icmp4_ctrs,
    .n_counters = ICMP4_CTR__N,
};
