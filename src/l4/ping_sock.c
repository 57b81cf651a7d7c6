/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP echo sockets: socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) and
 * socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6), as Linux has them
 * (net/ipv4/ping.c). The application sends an echo request (type 8 or 128,
 * code 0: -EINVAL otherwise) header and data; the stack writes the socket's
 * identifier (its "port": bound, or chosen at random on the first send)
 * and the checksum. It receives the echo replies that carry its
 * identifier, the whole ICMP message as data and the source in from (port
 * 0); connect filters the source, a bound address the destination.
 * Identifiers are bound in a PCB table per family (mod_raw's, l4/raw.h).
 *
 * The ping API (mpnet_ping4_send, mpnet_ping6_send and their _recv,
 * l4/ping_api.c) sits on one internal echo socket per family: a socket
 * with no descriptor, homed on the control thread, made on the first
 * call or the first reply that needs it. It holds no identifier: each
 * request carries its caller's, and it takes every echo reply and every
 * error quoting an echo request that no echo socket of that identifier
 * took (ICMP and ICMPv6 hand them over through the module's echo_in and
 * echo_err hooks, graph.h, on the control thread that runs them), in one
 * receive queue in their order of arrival, which the callers read whole
 * or by identifier (sock_rq_take). A reply is queued as it came (data at
 * the ICMP header, its IP header before it, ts the arrival time); an
 * error as a record (sock_err_record: the quoted echo request as data,
 * its type 8 or 128 telling it from a reply). A socket bound to an
 * identifier the ping API also uses takes those replies.
 *
 * ICMP errors that quote one of our echo requests go to the echo socket
 * of its identifier (ping_sock_err, through raw.c's error tap: the pending
 * error and the error queue of l4/sock_err.c, as UDP's); to one homed on
 * a worker through the home's "ping-err" node (sock_err_handoff, as UDP's
 * udp-err). What no socket takes goes to the ping API.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "mpnet/ip6.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "l4/pcb.h"
#include "l4/raw.h"
#include "l4/socket.h"
#include "stack/iface.h"

#define ECHO_HLEN 8 /* type, code, checksum, identifier, sequence */

/* ---- input ---- */

bool ping_sock_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned f)
{
        struct mpnet_stack *s = w->s;
        struct raw_state *st = raw_st(s);
        const uint8_t *ip = mpnet_pkt_buf(p) + p->l3_off;
        struct pcb_key k = {.fam = f ? 6 : 4, .ifindex = (uint8_t)ifp->ifindex};
        struct mpnet_sock *so;
        uint64_t sum;

        /* A short or damaged reply goes on to ICMP, which counts it. */
        if (p->len < ECHO_HLEN)
                return false;
        k.dport = mpnet_get_be16(p->data + 4);
        if (pcb_set_get(st->echo[f], k.dport) == NULL)
                return false;
        if (f) {
                memcpy(k.saddr, ip + 8, 16);
                memcpy(k.daddr, ip + 24, 16);
                sum = mpnet_ip6_pseudo_sum(k.saddr, k.daddr, p->pkt_len, MPNET_IPPROTO_ICMPV6);
        } else {
                addr_v4mapped(k.saddr, mpnet_get_be32(ip + 12));
                addr_v4mapped(k.daddr, mpnet_get_be32(ip + 16));
                sum = 0;
        }
        if (!(p->ol_flags & MPNET_PKT_F_L4_CSUM_OK) &&
            mpnet_csum_fold(raw_chain_sum(p, p->pkt_len, sum)) != 0)
                return false;
        so = pcb_lookup(st->echo[f], &k, w->id, 0);
        if (so == NULL)
                return false;
        raw_deliver(w, so, p);
        return true;
}

/* ---- ICMP errors ---- */

/*
 * An error quoting one of our echo requests, on the control thread (which
 * runs ICMP errors). The socket is the one the request's identifier names
 * (the quoted destination for a connected one), as Linux's ping_err
 * (net/ipv4/ping.c) finds it. As for UDP (RFC 1122 4.1.3.3, Linux): with
 * IP_RECVERR / IPV6_RECVERR every error goes on the error queue, the
 * quoted ICMP message as data; without, only a hard error to a connected
 * socket sets the pending error (SO_ERROR).
 */
bool ping_sock_err(struct wctx *w, const struct l4_err *e)
{
        struct mpnet_stack *s = w->s;
        unsigned f = e->family == 6;
        struct pcb_key k = {.fam = e->family, .ifindex = (uint8_t)e->ifindex};
        struct mpnet_sock *so;
        struct mpnet_pkt *rec = NULL;
        bool hard, recverr;
        int errnum;

        memcpy(k.saddr, e->dst, 16);
        memcpy(k.daddr, e->src, 16);
        k.dport = mpnet_get_be16(e->l4 + 4);
        if (pcb_set_get(raw_st(s)->echo[f], k.dport) == NULL)
                return false;
        so = pcb_lookup(raw_st(s)->echo[f], &k, w->id, 0);
        if (so == NULL || ((so->flags & SOF_CONNECTED) && memcmp(so->faddr, k.saddr, 16) != 0))
                return false;
        errnum = sock_icmp_errno(so, e, &hard);
        recverr = (so->rcv_opts & (f ? SOR_RECVERR6 : SOR_RECVERR4)) != 0;
        if (errnum == 0 || (!recverr && (!hard || !(so->flags & SOF_CONNECTED)))) {
                raw_inc(s, PING_ERR_IGNORED);
                return true;
        }
        if (recverr && (rec = sock_err_record(s, e, errnum, 0, 0)) == NULL) {
                raw_inc(s, RAW_NOBUFS);
                return true;
        }
        if (sock_home(so) == w->id)
                raw_inc(s, sock_error_report(so, errnum, rec) ? PING_ERR_IN : PING_ERRQ_FULL);
        else if (!sock_err_handoff(w, so, e, errnum, rec, raw_st(s)->err_node))
                raw_inc(s, RAW_NOBUFS);
        return true;
}

/* ping-err: errors the control thread handed to their echo socket's home
 * (as udp-err). */
void ping_err_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct mpnet_stack *s = w->s;

        (void)ifp;
        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *rec;
                int errnum;
                struct mpnet_sock *so = sock_err_handed(w, in->p[i], &errnum, &rec);

                if (so == NULL)
                        raw_inc(s, RAW_STALE);
                else
                        raw_inc(s,
                                sock_error_report(so, errnum, rec) ? PING_ERR_IN : PING_ERRQ_FULL);
        }
        in->n = 0;
}

/* ---- the ping API's sockets ---- */

struct mpnet_sock *ping_api_sock(struct mpnet_stack *s, unsigned f)
{
        struct raw_state *st = raw_st(s);
        struct mpnet_sock *so = st->api[f];

        if (so != NULL)
                return so;
        so = sock_new(s, f ? AF_INET6 : AF_INET, SOCK_DGRAM, f ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
                      &sock_ping_proto);
        if (so == NULL)
                return NULL;
        if (f)
                so->flags |= SOF_V6ONLY;
        /* PING_API_QLEN entries of one buffer each. */
        atomic_store_explicit(&so->rcvbuf, PING_API_QLEN * SOCK_TRUESIZE, memory_order_relaxed);
        st->api[f] = so;
        return so;
}

static void api_lost(struct mpnet_stack *s, unsigned f)
{
        if (f)
                STK_INC(s, ping6_overflow);
        else
                STK_INC(s, ping_overflow);
}

/* echo_in (graph.h): an echo reply no echo socket took. */
bool ping_api_in(struct wctx *w, struct mpnet_pkt *p, unsigned fam)
{
        struct mpnet_stack *s = w->s;
        unsigned f = fam == 6;
        struct mpnet_sock *so = ping_api_sock(s, f);

        if (so == NULL) {
                api_lost(s, f);
                return false;
        }
        p->ts = s->now; /* the round trip ends here */
        if (!sock_enqueue(so, p))
                api_lost(s, f);
        return true;
}

/* echo_err (graph.h): an error quoting an echo request no echo socket
 * took. The API reports every error, redirects too, with the second word
 * of the ICMP header as it came (the next-hop MTU alone for an IPv4
 * fragmentation needed) and the error's TTL. */
void ping_api_err(struct wctx *w, const struct l4_err *e)
{
        struct mpnet_stack *s = w->s;
        unsigned f = e->family == 6;
        struct mpnet_sock *so = ping_api_sock(s, f);
        struct mpnet_pkt *rec = so != NULL ? sock_err_record(s, e, 0, 0, 0) : NULL;
        struct sock_errq_rec *r;

        if (rec == NULL) {
                api_lost(s, f);
                return;
        }
        r = sock_errq_rec(rec);
        r->ttl = e->ttl;
        r->info =
            !f && e->type == MPNET_ICMP4_DEST_UNREACH && e->code == 4 ? e->rest & 0xffff : e->rest;
        if (!sock_enqueue(so, rec))
                api_lost(s, f);
}

void ping_api_fini(struct mpnet_stack *s)
{
        struct raw_state *st = raw_st(s);

        for (unsigned f = 0; f < 2; f++) {
                sock_internal_free(st->api[f]);
                st->api[f] = NULL;
        }
}

/* ---- the socket's protocol ---- */

static int ping_open(struct mpnet_stack *s, struct mpnet_sock *so)
{
        unsigned f = so->family == AF_INET6;

        /* An ICMPv6 echo socket takes no ICMP (Linux: IPv6 only). */
        if (f)
                so->flags |= SOF_V6ONLY;
        raw_st(s)->n_echo[f]++;
        raw_tap_update(s, f, f ? MPNET_IPPROTO_ICMPV6 : MPNET_IPPROTO_ICMP);
        return 0;
}

static void ping_close(struct mpnet_stack *s, struct mpnet_sock *so)
{
        unsigned f = so->family == AF_INET6;

        raw_st(s)->n_echo[f]--;
        raw_tap_update(s, f, f ? MPNET_IPPROTO_ICMPV6 : MPNET_IPPROTO_ICMP);
}

static struct pcb_table *echo_tab(struct mpnet_stack *s, const struct mpnet_sock *so)
{
        return raw_st(s)->echo[so->family == AF_INET6];
}

/* The identifier as the port: an entry in the family's table. Replies
 * carry no peer port: a connected socket matches on the address only. */
static int ping_pcb_set(struct mpnet_stack *s, struct mpnet_sock *so, uint16_t port, bool new)
{
        struct pcb_ent e = {
            .fam = so->family == AF_INET ? PCB_FAM4 : PCB_FAM6,
            .flags = (uint8_t)((so->flags & SOF_REUSEADDR ? PCB_F_REUSEADDR : 0) |
                               (so->flags & SOF_CONNECTED ? PCB_F_CONNECTED : 0)),
            .home = sock_home(so),
            .bound_if = so->bound_if,
            .so = so,
        };

        memcpy(e.laddr, so->laddr, 16);
        memcpy(e.faddr, so->faddr, 16);
        return new ? pcb_bind(echo_tab(s, so), port, &e) : pcb_update(echo_tab(s, so), port, &e);
}

static int ping_pcb_unset(struct mpnet_stack *s, struct mpnet_sock *so)
{
        return pcb_unbind(echo_tab(s, so), so->lport, so);
}

/* A random free identifier (RFC 6056 3.3.1's algorithm over 1-65535:
 * identifiers have no well-known range). */
static int ping_port_pick(struct mpnet_stack *s, struct mpnet_sock *so)
{
        enum { N = 65535 };
        unsigned start = (unsigned)(stack_random(s) % N);

        for (unsigned i = 0; i < N; i++) {
                uint16_t id = (uint16_t)(1 + (start + i) % N);
                int err = ping_pcb_set(s, so, id, true);

                if (err == 0)
                        return id;
                if (err != -EADDRINUSE)
                        return err;
        }
        return -EADDRINUSE;
}

/* An echo request whose identifier is written: the checksum, then IP
 * output from src (v4-mapped for IPv4; any there lets IPv4 output choose)
 * to tx->dst. */
static int echo_output(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
                       const uint8_t src[16], const struct udp_tx *tx, bool df)
{
        uint8_t *b = p->data;

        b[2] = b[3] = 0;
        if (so->family == AF_INET) {
                bool mc = mpnet_ip4_is_multicast(addr_v4(tx->dst));

                mpnet_put_be16(b + 2, mpnet_csum_fold(raw_chain_sum(p, p->pkt_len, 0)));
                return ip4_output_opt(tx->w != NULL ? tx->w : s->ctx[0], p,
                                      &(struct ip4_out){
                                          .src = addr_v4(src),
                                          .dst = addr_v4(tx->dst),
                                          .proto = MPNET_IPPROTO_ICMP,
                                          .ttl = (uint8_t)(tx->ttl >= 0 ? tx->ttl
                                                           : mc         ? so->mc_ttl
                                                                        : so->ttl),
                                          .tos = (uint8_t)(tx->tos >= 0 ? tx->tos : so->tos),
                                          .df = df,
                                          .oif = tx->oif,
                                      });
        }
        bool mc = mpnet_ip6_is_multicast(tx->dst);
        int hl = tx->ttl >= 0 ? tx->ttl : mc ? so->mc_hops6 : so->hops6;

        mpnet_put_be16(b + 2,
                       mpnet_csum_fold(raw_chain_sum(
                           p, p->pkt_len,
                           mpnet_ip6_pseudo_sum(src, tx->dst, p->pkt_len, MPNET_IPPROTO_ICMPV6))));
        /* A worker home sends on its own vectors (as UDP). */
        if (tx->w != NULL && ctx_is_worker(tx->w))
                return ip6_output_w_tc(tx->w, p, src, tx->dst, MPNET_IPPROTO_ICMPV6,
                                       (uint8_t)(hl != 0 ? hl : IP6_HLIM_DEFAULT),
                                       (uint8_t)(tx->tos >= 0 ? tx->tos : so->tclass), tx->oif);
        return ip6_output_tc(s, p, src, tx->dst, MPNET_IPPROTO_ICMPV6,
                             (uint8_t)(hl != 0 ? hl : IP6_HLIM_DEFAULT),
                             (uint8_t)(tx->tos >= 0 ? tx->tos : so->tclass), tx->oif);
}

static int ping_output(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
                       const struct udp_tx *tx)
{
        bool v4 = so->family == AF_INET;
        uint8_t src[16], *b = p->data;
        int err;

        /* Linux ping_common_sendmsg: an echo request, code 0, whole header. */
        if (p->len < ECHO_HLEN || b[0] != (v4 ? MPNET_ICMP4_ECHO_REQUEST : 128) || b[1] != 0) {
                mpnet_pkt_free(p);
                return -EINVAL;
        }
        err = raw_src(s, so, tx, src);
        if (err != 0) {
                mpnet_pkt_free(p);
                return err;
        }
        mpnet_put_be16(b + 4, so->lport);
        err = echo_output(s, so, p, src, tx, false);
        if (err == 0)
                raw_inc(s, PING_OUT);
        return err;
}

int ping_api_output(struct mpnet_stack *s, unsigned f, struct mpnet_pkt *p, const uint8_t dst[16],
                    uint8_t ttl, bool df, int oif)
{
        struct mpnet_sock *so = ping_api_sock(s, f);
        struct udp_tx tx = {.dst = dst, .oif = oif, .ttl = ttl, .tos = -1};
        uint8_t src[16] = {[10] = 0xff, [11] = 0xff}; /* IPv4: output chooses */
        int err;

        if (so == NULL) {
                mpnet_pkt_free(p);
                return -ENOBUFS;
        }
        if (f && (err = raw_src(s, so, &tx, src)) != 0) {
                mpnet_pkt_free(p);
                return err;
        }
        return echo_output(s, so, p, src, &tx, df);
}

const struct sock_proto sock_ping_proto = {
    .open = ping_open,
    .close = ping_close,
    .pcb_set = ping_pcb_set,
    .pcb_unset = ping_pcb_unset,
    .port_pick = ping_port_pick,
    .output = ping_output,
};
