/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP (RFC 768) over IPv4 and IPv6 (RFC 8200 8.1): input to sockets, port
 * unreachable for closed ports, output with the checksum. Takes the UDP
 * entries of l4-closed over (TCP went to l4/tcp.c).
 *
 * Input runs on the context that received the datagram (l4/socket.h says
 * how a datagram reaches a socket homed on another context: the
 * udp-deliver node through ctx_handoff()). Output runs on the socket's
 * home (the control thread, or a worker through ip4_output_opt and
 * ip6_output_w_tc and their punts).
 *
 * Synchronisation: the PCB table is read lock-free on any context
 * (l4/pcb.h); its retired port sets go through stack_defer().
 */
#include <errno.h>
#include <time.h> /* struct timespec, for linux/errqueue.h */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mpnet/ip6.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/udp.h"
#include "fib/fib_priv.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "l4/pcb.h"
#include "l4/port.h"
#include "l4/socket.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

enum udp_ctr {
        UDP_IN,
        UDP_OUT,
        UDP_NO_PORT,
        UDP_SHORT,
        UDP_BAD_LEN,
        UDP_LEN_BEYOND,
        UDP_LEN_SHORT,
        UDP_BAD_CSUM,
        UDP_ZERO_CSUM6,
        UDP_RCVBUF_FULL,
        UDP_STALE,
        UDP_NOBUFS,
        UDP_HANDOFF,
        UDP_ERR_IN,
        UDP_ERR_NOSOCK,
        UDP_ERR_IGNORED,
        UDP_ERRQ_FULL,
        UDP__N
};

static const struct counter_reg udp_ctrs[UDP__N] = {
    [UDP_IN] = {"udp_in", "datagrams queued to a socket"},
    [UDP_OUT] = {"udp_out", "datagrams sent"},
    [UDP_NO_PORT] = {"udp_no_port", "drop: no socket on the port (unicast: port unreachable sent)"},
    [UDP_SHORT] = {"udp_short", "drop: IP payload shorter than the 8-byte header"},
    [UDP_BAD_LEN] = {"udp_bad_len", "drop: length field below 8"},
    [UDP_LEN_BEYOND] = {"udp_len_beyond", "drop: length field beyond the IP payload"},
    [UDP_LEN_SHORT] = {"udp_len_short", "drop: length field short of the IP payload"},
    [UDP_BAD_CSUM] = {"udp_bad_csum", "drop: bad checksum"},
    [UDP_ZERO_CSUM6] = {"udp_zero_csum6", "drop: zero checksum over IPv6 (RFC 8200 8.1)"},
    [UDP_RCVBUF_FULL] = {"udp_rcvbuf_full", "drop: the socket's receive buffer is full"},
    [UDP_STALE] = {"udp_stale", "drop: socket closed while the datagram was handed over"},
    [UDP_NOBUFS] = {"udp_nobufs", "drop: no buffer for a copy to one more socket"},
    [UDP_HANDOFF] = {"udp_handoff", "datagrams handed to the socket's home context"},
    [UDP_ERR_IN] = {"udp_err_in", "ICMP errors reported to a socket"},
    [UDP_ERR_NOSOCK] = {"udp_err_nosock",
                        "drop: ICMP error quoting a datagram no socket of ours sent (RFC 5927)"},
    [UDP_ERR_IGNORED] = {"udp_err_ignored",
                         "ICMP errors a socket does not take (soft, or unconnected, without "
                         "IP_RECVERR)"},
    [UDP_ERRQ_FULL] = {"udp_errq_full", "drop: ICMP error for a socket whose error queue is full"},
};

struct udp_state {
        struct mpnet_stack *s;
        struct pcb_table *pcb;
        unsigned deliver_node;
        unsigned err_node;
        struct port_picker *pick; /* ephemeral ports (RFC 6056), keyed per stack */
};

/* Sockets whose callbacks a worker context holds for the end of its
 * received vector at most; one more runs at once. */
#define UDP_CB_MAX 64

/* Per context: the sockets its recent datagrams went to; the sockets whose
 * queue a datagram of this loop's vector found empty, whose callbacks run
 * once the vector is in (udp_ctx_service), each on all it got. */
struct udp_ctx {
        struct pcb_cache pcb;
        unsigned n_cb;
        struct mpnet_sock *cb[UDP_CB_MAX];
};

/* Sockets a broadcast or multicast datagram may be copied to at most. */
#define UDP_MCAST_MAX 64

static inline struct udp_state *udp_st(struct mpnet_stack *s)
{
        return s->g.mods[MOD_udp].state;
}

static inline void udp_inc(struct mpnet_stack *s, enum udp_ctr c)
{
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_udp, c));
}

struct pcb_table *udp_pcb(struct mpnet_stack *s)
{
        return udp_st(s)->pcb;
}

/* ---- input ---- */

/* The one's-complement sum of n bytes of a chain from its start. */
static uint64_t chain_sum(const struct mpnet_pkt *p, uint32_t n, uint64_t sum)
{
        uint32_t off = 0;

        for (; p != NULL && off < n; p = p->next) {
                uint32_t k = p->len < n - off ? p->len : n - off;
                uint64_t part = mpnet_csum_add(0, p->data, k);

                if (off & 1) { /* this segment's bytes sit at odd offsets */
                        uint16_t f = (uint16_t)~mpnet_csum_fold(part);

                        part = (uint16_t)(f << 8 | f >> 8);
                }
                sum += part;
                off += k;
        }
        return sum;
}

/* The flow hash SO_REUSEPORT groups choose by: the link's when it gave
 * one, else one of the four-tuple. */
static uint32_t key_hash(const struct mpnet_pkt *p, const struct pcb_key *k)
{
        uint64_t h = (uint64_t)k->sport << 16 | k->dport, x[4];

        if (p->ol_flags & MPNET_PKT_F_FLOW_HASH)
                return p->flow_hash;
        memcpy(x, k->saddr, 16);
        memcpy(x + 2, k->daddr, 16);
        h ^= (x[0] ^ x[1]) * 0x9e3779b97f4a7c15ull;
        h ^= (x[2] ^ x[3]) * 0xc2b2ae3d27d4eb4full;
        h *= 0x9e3779b97f4a7c15ull;
        return (uint32_t)(h >> 32);
}

/* so's callback is due on its home w. A worker runs it once its loop's
 * vector is in (udp_ctx_service, before the loop's transmit flush), so
 * the callback takes every datagram of the vector in one call, as a
 * socket's reader wakes once per batch; the control thread, whose calls
 * may deliver to its own sockets, runs it at once. */
static void udp_cb_due(struct wctx *w, struct mpnet_sock *so)
{
        struct udp_ctx *c = w->mctx[MOD_udp];

        if (!ctx_is_worker(w) || c->n_cb == UDP_CB_MAX) {
                sock_run_cb(so);
                return;
        }
        c->cb[c->n_cb++] = so;
        ctx_svc_arm(w, 0);
}

/* The callbacks udp_cb_due() held, in arrival order. One that delivers
 * to a socket of this context (a send to a local address) adds to the
 * list, which this walk then reaches: bounded by UDP_CB_MAX. A socket
 * closed meanwhile has no callback (sock_close_home); its memory waits
 * for this context's next quiescent state, after the loop. */
static uint64_t udp_ctx_service(struct wctx *w, void *cs, uint64_t now)
{
        struct udp_ctx *c = cs;

        (void)now;
        for (unsigned i = 0; i < c->n_cb; i++)
                if (sock_home(c->cb[i]) == w->id)
                        sock_run_cb(c->cb[i]);
        c->n_cb = 0;
        return MPNET_TIME_NEVER;
}

/* Queue p on so on its home context, or hand it there. */
static void udp_deliver(struct wctx *w, struct mpnet_sock *so, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;
        unsigned home = sock_home(so);

        if (home != w->id) {
                /* The socket by descriptor and generation after the
                 * hand-off header (stack_priv.h, HANDOFF_HDR), ahead of
                 * the IP header that recvmsg reads; a frame that starts
                 * at its buffer's first byte leaves no room for them. */
                if (p->l3_off < HANDOFF_HDR + 8) {
                        udp_inc(s, UDP_NOBUFS);
                        mpnet_pkt_free(p);
                        return;
                }
                sock_handoff_name(so, p);
                if (ctx_handoff(w, home, udp_st(s)->deliver_node, p))
                        udp_inc(s, UDP_HANDOFF);
                return;
        }
        switch (sock_enqueue_nocb(so, p)) {
        case -1:
                udp_inc(s, UDP_RCVBUF_FULL);
                return;
        case 0:
                udp_inc(s, UDP_IN);
                return;
        }
        udp_inc(s, UDP_IN);
        udp_cb_due(w, so);
}

/* udp-deliver: datagrams other contexts handed to this one, the home of
 * their sockets. */
static void udp_deliver_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct mpnet_stack *s = w->s;

        (void)ifp;
        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *p = in->p[i];
                struct mpnet_sock *so = sock_handed(w, p);

                if (so == NULL) {
                        udp_inc(s, UDP_STALE);
                        mpnet_pkt_free(p);
                        continue;
                }
                udp_deliver(w, so, p);
        }
        in->n = 0;
}

/* Whether so joined group g (16 bytes, IPv4 v4-mapped) on ifindex. */
static bool mc_member(const struct mpnet_sock *so, const uint8_t *g, int ifindex)
{
        const struct sock_mc *mc =
            atomic_load_explicit(&((struct mpnet_sock *)so)->mc, memory_order_acquire);

        for (unsigned i = 0; mc != NULL && i < mc->n; i++)
                if (mc->m[i].ifindex == ifindex && memcmp(mc->m[i].group, g, 16) == 0)
                        return true;
        return false;
}

/* A broadcast or multicast datagram: a copy to each socket that takes it
 * (RFC 1122 4.1.3.5 does not choose one; Linux and the BSDs give each
 * their copy), a group's only to the sockets that joined it on ifp. */
static void udp_mcast(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                      const struct pcb_key *k)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_sock *so[UDP_MCAST_MAX];
        unsigned n = pcb_match_all(udp_pcb(s), k, w->id, key_hash(p, k), true, so, UDP_MCAST_MAX),
                 m = 0;
        /* A group's datagram (IPv4 224/4, IPv6 ff00::/8), not a broadcast. */
        bool group = k->fam == 6 || (k->daddr[12] >> 4) == 0xe;

        if (n > UDP_MCAST_MAX)
                n = UDP_MCAST_MAX;
        for (unsigned i = 0; i < n; i++)
                if (!group || mc_member(so[i], k->daddr, ifp->ifindex))
                        so[m++] = so[i];
        if (m == 0) {
                /* RFC 1122 4.1.3.1, RFC 4443 2.4(e): no error about it. */
                udp_inc(s, UDP_NO_PORT);
                mpnet_pkt_free(p);
                return;
        }
        for (unsigned i = 0; i + 1 < m; i++) {
                struct mpnet_pkt *c = mpnet_pkt_copy(s->pool, p);

                if (c == NULL) {
                        udp_inc(s, UDP_NOBUFS);
                        continue;
                }
                c->data = mpnet_pkt_buf(c) + mpnet_pkt_headroom(p);
                c->l3_off = p->l3_off;
                c->l4_off = p->l4_off;
                c->ifindex = p->ifindex;
                c->ol_flags = p->ol_flags;
                udp_deliver(w, so[i], c);
        }
        udp_deliver(w, so[m - 1], p);
}

/* The datagram's checks; p->data at its header. @return false: dropped
 * and counted. */
static bool udp_check(struct mpnet_stack *s, struct mpnet_pkt *p, const struct pcb_key *k,
                      struct mpnet_udp_view *v)
{
        int err = p->len >= MPNET_UDP_HLEN ? mpnet_udp_view_check(p->data, p->pkt_len, v)
                                           : -MPNET_WIRE_TRUNCATED;
        uint64_t sum;

        switch (err) {
        case 0:
                break;
        case -MPNET_WIRE_BAD_HLEN:
                udp_inc(s, UDP_BAD_LEN);
                return false;
        case -MPNET_WIRE_BAD_LEN:
                udp_inc(s, UDP_LEN_BEYOND);
                return false;
        default:
                udp_inc(s, UDP_SHORT);
                return false;
        }
        /* RFC 768 leaves a length short of the IP payload open; Linux
         * (__udp4_lib_rcv) and FreeBSD (udp_input) trim the surplus and
         * deliver. The issue asks us to drop it: the surplus is either
         * damage or a way to smuggle bytes past the checksum. */
        if (mpnet_udp_surplus(v) != 0) {
                udp_inc(s, UDP_LEN_SHORT);
                return false;
        }
        if (mpnet_udp_csum(v) == 0) {
                if (k->fam == 4)
                        return true;        /* RFC 768: the sender computed none */
                udp_inc(s, UDP_ZERO_CSUM6); /* RFC 8200 8.1 */
                return false;
        }
        if (p->ol_flags & MPNET_PKT_F_L4_CSUM_OK)
                return true;
        if (k->fam == 4)
                sum = mpnet_udp4_pseudo(addr_v4(k->saddr), addr_v4(k->daddr), (uint16_t)v->n);
        else
                sum = mpnet_udp6_pseudo(k->saddr, k->daddr, (uint32_t)v->n);
        if (mpnet_csum_fold(chain_sum(p, (uint32_t)v->n, sum)) != 0) {
                udp_inc(s, UDP_BAD_CSUM);
                return false;
        }
        return true;
}

/* Whether an IPv4 destination is a broadcast: the limited one, or the
 * directed broadcast of a connected prefix (ip4-lookup took it as ours). */
static bool ip4_is_bcast(struct mpnet_stack *s, uint32_t dst)
{
        const struct fib_nh *nh;

        if (mpnet_ip4_is_limited_bcast(dst) || mpnet_ip4_is_multicast(dst))
                return true;
        nh = fib4_lookup(&s->fib, fib4_table(s, 0), dst);
        return nh != NULL && nh->type == MPNET_NH_CONNECTED && nh->plen < 31 &&
               (dst | ip4_mask(nh->plen)) == UINT32_MAX;
}

static void udp_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                      struct pcb_key *k, bool group)
{
        struct mpnet_stack *s = w->s;
        struct mpnet_udp_view v;
        struct mpnet_sock *so;

        if (!udp_check(s, p, k, &v)) {
                mpnet_pkt_free(p);
                return;
        }
        k->sport = mpnet_udp_sport(&v);
        k->dport = mpnet_udp_dport(&v);
        k->ifindex = (uint8_t)ifp->ifindex;
        if (group) {
                udp_mcast(w, ifp, p, k);
                return;
        }
        so = pcb_lookup_cached(udp_pcb(s), k, w->id, key_hash(p, k),
                               &((struct udp_ctx *)w->mctx[MOD_udp])->pcb);
        if (so != NULL) {
                udp_deliver(w, so, p);
                return;
        }
        /* RFC 1122 4.1.3.1, RFC 4443 3.1 code 4: port unreachable, through
         * the context's ICMP bucket (icmp4_error and icmp6_error take a
         * token). */
        udp_inc(s, UDP_NO_PORT);
        mpnet_pkt_prepend(p, (uint32_t)(p->l4_off - p->l3_off));
        if (k->fam == 4)
                icmp4_error(w, p, MPNET_ICMP4_DEST_UNREACH, 3, 0);
        else
                icmp6_error(w, p, MPNET_ICMP6_DEST_UNREACH, 4, 0);
        mpnet_pkt_free(p);
}

static void udp4_l4(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const void *repr)
{
        const struct mpnet_ip4_repr *ip = repr;
        struct pcb_key k = {.fam = 4};

        addr_v4mapped(k.saddr, ip->src);
        addr_v4mapped(k.daddr, ip->dst);
        /* A directed broadcast comes as a link-layer broadcast: only then
         * is the FIB asked (one in a unicast frame finds the sockets a
         * unicast datagram would, and icmp4_error sends nothing to it). */
        udp_input(w, ifp, p, &k,
                  mpnet_ip4_is_limited_bcast(ip->dst) ||
                      ((p->ol_flags & MPNET_PKT_F_L2_BCAST) != 0 && ip4_is_bcast(w->s, ip->dst)));
}

static void udp6_l4(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const void *repr)
{
        const struct mpnet_ip6_repr *ip = repr;
        struct pcb_key k = {.fam = 6};

        memcpy(k.saddr, ip->src, 16);
        memcpy(k.daddr, ip->dst, 16);
        udp_input(w, ifp, p, &k, mpnet_ip6_is_multicast(ip->dst));
}

/* ---- ICMP errors (l4/sock_err.c has the socket's side) ---- */

/* The record an error leaves on a UDP socket's error queue: the quoted
 * payload past the UDP header. NULL: no buffer (counted). */
static struct mpnet_pkt *err_record(struct mpnet_stack *s, const struct l4_err *e, int errnum)
{
        struct mpnet_pkt *p =
            sock_err_record(s, e, errnum, MPNET_UDP_HLEN, mpnet_get_be16(e->l4 + 2));

        if (p == NULL)
                udp_inc(s, UDP_NOBUFS);
        return p;
}

/* Report an error to so on its home context: the pending error, and rec
 * (NULL or a record) for the queue. */
static void err_deliver(struct mpnet_stack *s, struct mpnet_sock *so, int errnum,
                        struct mpnet_pkt *rec)
{
        if (sock_error_report(so, errnum, rec))
                udp_inc(s, UDP_ERR_IN);
        else
                udp_inc(s, UDP_ERRQ_FULL);
}

/* udp-err: errors the control thread handed to their socket's home. The
 * record carries the socket (descriptor, generation) after the hand-off
 * header, as udp-deliver's datagrams do; one that only sets the pending
 * error has SO_EE_ORIGIN_NONE and no data. */
static void udp_err_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct mpnet_stack *s = w->s;

        (void)ifp;
        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *rec;
                int errnum;
                struct mpnet_sock *so = sock_err_handed(w, in->p[i], &errnum, &rec);

                if (so == NULL)
                        udp_inc(s, UDP_STALE);
                else
                        err_deliver(s, so, errnum, rec);
        }
        in->n = 0;
}

/*
 * An ICMP or ICMPv6 error quoting a UDP datagram (struct l4_reg's err).
 * The socket is the one that would receive the reply: the quoted
 * header's addresses and ports reversed (its source is ours). RFC 5927 3:
 * UDP has no sequence number to check, so the quote must name a socket of
 * ours and, when it is connected, its peer (pcb_lookup scores a connected
 * socket only on its peer). As Linux: a connected socket takes hard errors
 * into SO_ERROR; with IP_RECVERR / IPV6_RECVERR any socket takes every
 * error, queued, and SO_ERROR set.
 */
static bool udp_err(struct wctx *w, const struct l4_err *e)
{
        struct mpnet_stack *s = w->s;
        struct pcb_key k = {.fam = e->family, .ifindex = (uint8_t)e->ifindex};
        struct mpnet_sock *so;
        struct mpnet_pkt *rec = NULL;
        bool hard, recverr;
        int errnum;

        memcpy(k.saddr, e->dst, 16);
        memcpy(k.daddr, e->src, 16);
        k.sport = mpnet_get_be16(e->l4 + 2);
        k.dport = mpnet_get_be16(e->l4);
        so = pcb_lookup(udp_pcb(s), &k, w->id, 0);
        if (so == NULL || ((so->flags & SOF_CONNECTED) &&
                           (so->fport != k.sport || memcmp(so->faddr, k.saddr, 16) != 0))) {
                udp_inc(s, UDP_ERR_NOSOCK);
                return false;
        }
        errnum = sock_icmp_errno(so, e, &hard);
        recverr = (so->rcv_opts & (e->family == 4 ? SOR_RECVERR4 : SOR_RECVERR6)) != 0;
        if (errnum == 0 || (!recverr && (!hard || !(so->flags & SOF_CONNECTED)))) {
                udp_inc(s, UDP_ERR_IGNORED);
                return true;
        }
        if (recverr && (rec = err_record(s, e, errnum)) == NULL)
                return true;
        if (sock_home(so) == w->id) {
                err_deliver(s, so, errnum, rec);
                return true;
        }
        if (!sock_err_handoff(w, so, e, errnum, rec, udp_st(s)->err_node))
                udp_inc(s, UDP_NOBUFS);
        return true;
}

/* ---- binding ---- */

void udp_pcb_ent(const struct mpnet_sock *so, struct pcb_ent *out)
{
        struct pcb_ent e = {
            .fport = so->fport,
            .fam = so->family == AF_INET           ? PCB_FAM4
                   : (so->flags & SOF_V6ONLY) != 0 ? PCB_FAM6
                                                   : PCB_FAM46,
            .flags = (uint8_t)((so->flags & SOF_REUSEADDR ? PCB_F_REUSEADDR : 0) |
                               (so->flags & SOF_REUSEPORT ? PCB_F_REUSEPORT : 0) |
                               (so->flags & SOF_CONNECTED ? PCB_F_CONNECTED : 0)),
            .home = (uint8_t)sock_home(so),
            .bound_if = so->bound_if,
            .so = (struct mpnet_sock *)so,
        };

        memcpy(e.laddr, so->laddr, 16);
        memcpy(e.faddr, so->faddr, 16);
        *out = e;
}

int udp_pcb_set(struct mpnet_stack *s, struct mpnet_sock *so, uint16_t port, bool new)
{
        struct pcb_ent e;

        udp_pcb_ent(so, &e);
        return new ? pcb_bind(udp_pcb(s), port, &e) : pcb_update(udp_pcb(s), port, &e);
}

int udp_pcb_unset(struct mpnet_stack *s, struct mpnet_sock *so)
{
        return pcb_unbind(udp_pcb(s), so->lport, so);
}

/* The interface a datagram to dst leaves by (the socket's, else the
 * route's), 0 when none is known. Any context (FIB readers). */
int udp_route_ifindex(struct mpnet_stack *s, const struct mpnet_sock *so, const uint8_t dst[16])
{
        if (so->bound_if != 0)
                return so->bound_if;
        if (addr_is_v4mapped(dst)) {
                const struct fib_nh *nh = fib4_lookup(&s->fib, fib4_table(s, 0), addr_v4(dst));

                return nh != NULL && nh->n_paths > 0 && nh->paths[0].ifp != NULL
                           ? nh->paths[0].ifp->ifindex
                           : 0;
        } else {
                const struct fib6_nh *nh = fib6_lookup(&s->fib6, 0, dst);

                return nh != NULL && nh->n_paths > 0 && nh->paths[0].ifp != NULL
                           ? nh->paths[0].ifp->ifindex
                           : 0;
        }
}

/* The flow a connected socket's port is picked for: our source, the peer. */
static void udp_flow(const struct mpnet_sock *so, struct port_flow *f)
{
        memset(f, 0, sizeof(*f));
        f->proto = MPNET_IPPROTO_UDP;
        memcpy(f->laddr, so->laddr, 16);
        if (so->flags & SOF_CONNECTED) {
                memcpy(f->faddr, so->faddr, 16);
                f->fport = so->fport;
        }
}

/* RFC 6056 Algorithm 4 (l4/port.h) under the stack's secret, in IANA's
 * range 49152-65535 (RFC 6335 6). A connected socket's port is steered:
 * one whose reply flow the receiving link's RSS sends to a queue its home
 * context polls (stack/steer.h), when the link can tell; otherwise, and
 * for an unconnected socket, any free port. */
int udp_port_pick(struct mpnet_stack *s, struct mpnet_sock *so)
{
        struct udp_state *st = udp_st(s);
        struct port_flow f;
        struct rx_steer rs;
        const struct rx_steer *steer = NULL;
        struct pcb_ent e;
        int ifindex, rc;

        udp_flow(so, &f);
        if (so->flags & SOF_CONNECTED) {
                ifindex = udp_route_ifindex(s, so, so->faddr);
                if (ifindex > 0 && stack_rx_steer(s, ifindex, sock_home(so), &rs) == 0)
                        steer = &rs;
        }
        udp_pcb_ent(so, &e);
        rc = port_pick(st->pick, &f, steer, st->pcb, &e);
        if (rc == -EADDRNOTAVAIL && steer != NULL) /* none steers there: any port */
                rc = port_pick(st->pick, &f, NULL, st->pcb, &e);
        return rc == -EADDRNOTAVAIL ? -EADDRINUSE : rc;
}

unsigned udp_flow_home(struct mpnet_stack *s, const struct mpnet_sock *so, uint16_t lport)
{
        struct rx_tuple t = {.proto = MPNET_IPPROTO_UDP, .sport = so->fport, .dport = lport};
        int ifindex = udp_route_ifindex(s, so, so->faddr);
        uint32_t h = 2166136261u; /* FNV-1a over the reply flow */

        t.fam = addr_is_v4mapped(so->faddr) ? 4 : 6;
        memcpy(t.saddr, so->faddr, 16);
        memcpy(t.daddr, so->laddr, 16);
        /* Without a link that tells, a hash of the flow picks among the
         * owners (stack_flow_owner). */
        for (unsigned i = 0; i < 16; i++)
                h = (h ^ t.saddr[i] ^ (uint32_t)t.daddr[i] << 8) * 16777619u;
        h = (h ^ t.sport ^ (uint32_t)t.dport << 16) * 16777619u;
        return port_flow_home(s, ifindex, &t, h);
}

/* ---- output ---- */

/* The sum of the datagram of len bytes at p (its header made, checksum 0)
 * onto the pseudo-header's: the header's words and the payload's sum the
 * send took as it copied (tx->psum; the payload starts at an even offset)
 * when it is all in this one buffer, else a pass over the chain. */
static uint64_t udp_sum(const struct mpnet_pkt *p, uint32_t len, uint64_t sum,
                        const struct udp_tx *tx)
{
        if (tx->has_psum && p->next == NULL && p->len == len)
                return sum + tx->psum + tx->sport + tx->dport + len;
        return chain_sum(p, len, sum);
}

int udp_output(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
               const struct udp_tx *tx)
{
        bool v4 = addr_is_v4mapped(tx->dst);
        uint32_t len = p->pkt_len + MPNET_UDP_HLEN;
        struct mpnet_udp_repr r = {.sport = tx->sport, .dport = tx->dport};
        uint8_t src[16], *h;
        uint64_t sum;
        int err = 0, oif = tx->oif;

        if (tx->src != NULL && !addr_is_any46(tx->src))
                memcpy(src, tx->src, 16);
        else if (!addr_is_any46(so->laddr) && !(v4 ? mpnet_ip4_is_multicast(addr_v4(so->laddr))
                                                   : mpnet_ip6_is_multicast(so->laddr)))
                memcpy(src, so->laddr, 16);
        else if (v4) {
                uint32_t a = 0;

                err = ip4_src_select(s, addr_v4(tx->dst), oif, &a);
                if (err == -ENETUNREACH && oif == 0 &&
                    mpnet_ip4_is_limited_bcast(addr_v4(tx->dst))) {
                        /* RFC 919 7: the limited broadcast names no
                         * network; the first interface with an address
                         * sends it, as ip4_output_opt does. */
                        for (int i = 1; i <= STACK_MAX_IFACES && oif == 0; i++) {
                                struct mpnet_iface *c =
                                    __atomic_load_n(&s->ifs[i], __ATOMIC_ACQUIRE);

                                if (c != NULL && iface_addr4_first(c) != 0)
                                        oif = i;
                        }
                        err = oif != 0 ? ip4_src_select(s, addr_v4(tx->dst), oif, &a) : err;
                }
                addr_v4mapped(src, a);
        } else {
                err = mpnet_ip6_src_select(s, tx->dst, oif, src);
        }
        if (err != 0) {
                mpnet_pkt_free(p);
                return err;
        }
        if (!v4 && (err = sock_pmtu6_tx(s, so, tx->dst, len, oif)) != 0) {
                mpnet_pkt_free(p);
                return err;
        }
        h = mpnet_pkt_prepend(p, MPNET_UDP_HLEN);
        if (h == NULL) {
                STK_INC(s, nobufs);
                mpnet_pkt_free(p);
                return -ENOBUFS;
        }
        r.payload_len = (uint16_t)(len - MPNET_UDP_HLEN);
        mpnet_udp_repr_emit(&r, h);
        p->l4_off = (uint16_t)mpnet_pkt_headroom(p);
        if (v4) {
                uint32_t s4 = addr_v4(src), d4 = addr_v4(tx->dst);
                bool mc = mpnet_ip4_is_multicast(d4);

                sum = mpnet_udp4_pseudo(s4, d4, (uint16_t)len);
                mpnet_put_be16(h + 6, mpnet_udp_csum_final(udp_sum(p, len, sum, tx)));
                err = ip4_output_opt(tx->w != NULL ? tx->w : s->ctx[0], p,
                                     &(struct ip4_out){
                                         .src = s4,
                                         .dst = d4,
                                         .proto = MPNET_IPPROTO_UDP,
                                         .ttl = (uint8_t)(tx->ttl >= 0 ? tx->ttl
                                                          : mc         ? so->mc_ttl
                                                                       : so->ttl),
                                         .tos = (uint8_t)(tx->tos >= 0 ? tx->tos : so->tos),
                                         .pmtud = so->pmtudisc4,
                                         .oif = oif,
                                     });
        } else {
                bool mc = mpnet_ip6_is_multicast(tx->dst);
                int hl = tx->ttl >= 0 ? tx->ttl : mc ? so->mc_hops6 : so->hops6;

                sum = mpnet_udp6_pseudo(src, tx->dst, len);
                mpnet_put_be16(h + 6, mpnet_udp_csum_final(udp_sum(p, len, sum, tx)));
                uint8_t tc = (uint8_t)(tx->tos >= 0 ? tx->tos : so->tclass);

                if (tx->w != NULL && ctx_is_worker(tx->w))
                        err = ip6_output_w_tc(tx->w, p, src, tx->dst, MPNET_IPPROTO_UDP,
                                              (uint8_t)(hl != 0 ? hl : IP6_HLIM_DEFAULT), tc, oif);
                else
                        err = ip6_output_tc(s, p, src, tx->dst, MPNET_IPPROTO_UDP,
                                            (uint8_t)(hl != 0 ? hl : IP6_HLIM_DEFAULT), tc, oif);
        }
        if (err == 0)
                udp_inc(s, UDP_OUT);
        return err;
}

/* ---- the module ---- */

static void set_free(void *set)
{
        pcb_set_free(set);
}

static void udp_retire(void *arg, struct pcb_set *old)
{
        stack_defer(arg, set_free, old);
}

static int udp_init(struct mpnet_stack *s, void *state)
{
        struct udp_state *st = state;
        int node = graph_node_find(&s->g, "udp-deliver");
        uint64_t key[2];

        if (node < 0)
                return -EINVAL;
        st->s = s;
        st->deliver_node = (unsigned)node;
        node = graph_node_find(&s->g, "udp-err");
        if (node < 0)
                return -EINVAL;
        st->err_node = (unsigned)node;
        st->pcb = pcb_table_create(udp_retire, s);
        if (st->pcb == NULL)
                return -ENOMEM;
        /* The picker's secret (RFC 6056 3.3.4 secret_key) from the stack's
         * random source: seeded stacks pick the same ports. */
        st->pick = malloc(sizeof(*st->pick));
        if (st->pick == NULL) {
                pcb_table_destroy(st->pcb);
                return -ENOMEM;
        }
        key[0] = stack_random(s);
        key[1] = stack_random(s);
        port_picker_init(st->pick, (const uint8_t *)key);
        return 0;
}

static void udp_fini(struct mpnet_stack *s, void *state)
{
        struct udp_state *st = state;

        (void)s;
        pcb_table_destroy(st->pcb);
        free(st->pick);
}

/* stack_reset(): the PCB table is configuration (the socket calls'). */
static void udp_reset(struct mpnet_stack *s, void *state)
{
        (void)s;
        (void)state;
}

/* stack_reset(): the cache's sets go with the sockets (gens differ). */
static void udp_ctx_reset(struct wctx *w, void *cs)
{
        (void)w;
        memset(cs, 0, sizeof(struct udp_ctx));
}

static const struct node_reg udp_nodes[] = {
    {.name = "udp-deliver", .fn = udp_deliver_node, .core_id = -1},
    {.name = "udp-err", .fn = udp_err_node, .core_id = -1},
};

static const struct l4_reg udp_l4[] = {
    {.family = 4, .proto = MPNET_IPPROTO_UDP, .fn = udp4_l4, .err = udp_err},
    {.family = 6, .proto = MPNET_IPPROTO_UDP, .fn = udp6_l4, .err = udp_err},
};

const struct mpnet_module mod_udp = {
    .name = "udp",
    .nodes = udp_nodes,
    .n_nodes = 2,
    .l4 = udp_l4,
    .n_l4 = 2,
    .counters = udp_ctrs,
    .n_counters = UDP__N,
    .state_size = sizeof(struct udp_state),
    .init = udp_init,
    .fini = udp_fini,
    .state_reset = udp_reset,
    .ctx_state_size = sizeof(struct udp_ctx),
    .ctx_service = udp_ctx_service,
    .ctx_reset = udp_ctx_reset,
};
