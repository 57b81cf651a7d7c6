/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Raw IP sockets (socket(AF_INET or AF_INET6, SOCK_RAW, proto)) and the
 * module they share with ICMP echo sockets (l4/raw.h says who runs what).
 *
 * Input: a copy of every datagram of the socket's protocol delivered
 * locally, the protocol's own module still running (BSD rip_input, Linux
 * raw_local_deliver); IPv4 with its header (as BSD and Linux), IPv6 from
 * the upper-layer header on (RFC 3542 3). A bound address filters the
 * destination, connect the source, SO_BINDTOIFINDEX the interface. For a
 * protocol no module implements, a socket that took the datagram keeps
 * local delivery from answering protocol unreachable (as Linux).
 * IPV6_CHECKSUM (RFC 3542 3.1; always on at offset 2 for ICMPv6) makes
 * input check the checksum (a bad one is dropped and counted) and output
 * compute it.
 *
 * Output: the payload behind a header the stack builds, or with IP_HDRINCL
 * (IPv4; always for IPPROTO_RAW, as Linux) the caller's header, checked
 * (version 4, a header length of 5 words at least and within the datagram,
 * a total length of 0 or the datagram's: -EINVAL otherwise) and completed
 * as Linux raw_send_hdrinc does (total length and checksum always, source
 * and identification when zero).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
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

#ifndef SOL_RAW
#define SOL_RAW 255
#endif

/* Raw sockets a datagram may be copied to at most. */
#define RAW_MATCH_MAX 64

static const struct counter_reg raw_ctrs[RAW__N] = {
    [RAW_IN] = {"raw_in", "datagrams copied to raw sockets"},
    [RAW_OUT] = {"raw_out", "datagrams sent by raw sockets"},
    [RAW_BAD_CSUM] = {"raw_bad_csum", "drop: bad checksum for a raw socket with IPV6_CHECKSUM"},
    [RAW_RCVBUF_FULL] = {"raw_rcvbuf_full", "drop: a raw socket's receive buffer is full"},
    [RAW_NOBUFS] = {"raw_nobufs", "drop: no buffer for a copy to one more raw socket"},
    [RAW_STALE] = {"raw_stale",
                   "drop: raw or echo socket closed while the datagram was handed over"},
    [RAW_HANDOFF] = {"raw_handoff", "datagrams handed to a raw or echo socket's home context"},
    [PING_IN] = {"ping_sock_in", "echo replies queued to echo sockets"},
    [PING_OUT] = {"ping_sock_out", "echo requests sent by echo sockets"},
    [PING_RCVBUF_FULL] = {"ping_sock_rcvbuf_full", "drop: an echo socket's receive buffer is full"},
    [PING_ERR_IN] = {"ping_sock_err_in", "ICMP errors reported to echo sockets"},
    [PING_ERR_IGNORED] =
        {"ping_sock_err_ignored",
         "ICMP errors an echo socket takes without a report (soft, no IP_RECVERR)"},
    [PING_ERRQ_FULL] = {"ping_sock_errq_full", "drop: an echo socket's error queue is full"},
};

static unsigned fam_idx(const struct mpnet_sock *so)
{
        return so->family == AF_INET6;
}

void raw_tap_update(struct mpnet_stack *s, unsigned f, uint8_t proto)
{
        struct raw_state *st = raw_st(s);
        uint8_t icmp = f ? MPNET_IPPROTO_ICMPV6 : MPNET_IPPROTO_ICMP;
        uint64_t bit = 1ull << (proto & 63);
        _Atomic uint64_t *w = &s->l4_tap_on[f][proto >> 6];

        uint64_t any = 0;

        if (st->n_raw[f][proto] != 0 || (proto == icmp && st->n_echo[f] != 0))
                atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
        else
                atomic_fetch_and_explicit(w, ~bit, memory_order_relaxed);
        for (unsigned i = 0; i < 8; i++)
                any |= atomic_load_explicit(&s->l4_tap_on[i / 4][i % 4], memory_order_relaxed);
        atomic_store_explicit(&s->l4_tap_any, any != 0, memory_order_relaxed);
}

uint64_t raw_chain_sum(const struct mpnet_pkt *p, uint32_t n, uint64_t sum)
{
        uint32_t off = 0;

        for (; p != NULL && off < n; p = p->next) {
                uint32_t k = p->len < n - off ? p->len : n - off;
                uint64_t part = mpnet_csum_add(0, p->data, k);

                if (off & 1) { /* this segment's bytes sit at odd offsets */
                        uint16_t fold = (uint16_t)~mpnet_csum_fold(part);

                        part = (uint16_t)(fold << 8 | fold >> 8);
                }
                sum += part;
                off += k;
        }
        return sum;
}

/* ---- input ---- */

void raw_deliver(struct wctx *w, struct mpnet_sock *so, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;
        bool echo = so->type == SOCK_DGRAM;

        if (sock_home(so) != w->id) {
                /* As udp_deliver: the socket by descriptor and generation
                 * after the hand-off header. */
                if (p->l3_off < HANDOFF_HDR + 8) {
                        raw_inc(s, RAW_NOBUFS);
                        mpnet_pkt_free(p);
                        return;
                }
                sock_handoff_name(so, p);
                if (ctx_handoff(w, sock_home(so), raw_st(s)->deliver_node, p))
                        raw_inc(s, RAW_HANDOFF);
                return;
        }
        if (!sock_enqueue(so, p)) {
                raw_inc(s, echo ? PING_RCVBUF_FULL : RAW_RCVBUF_FULL);
                return;
        }
        raw_inc(s, echo ? PING_IN : RAW_IN);
}

/* raw-deliver: datagrams other contexts handed to this one, the home of
 * their sockets. */
static void raw_deliver_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];
        struct mpnet_stack *s = w->s;

        (void)ifp;
        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *p = in->p[i];
                struct mpnet_sock *so = sock_handed(w, p);

                if (so == NULL) {
                        raw_inc(s, RAW_STALE);
                        mpnet_pkt_free(p);
                        continue;
                }
                raw_deliver(w, so, p);
        }
        in->n = 0;
}

/* Whether an IPv6 datagram (p->data at its upper-layer header) carries a
 * good checksum at off (RFC 3542 3.1). */
static bool csum6_ok(const struct mpnet_pkt *p, const uint8_t *ip6, uint8_t proto, int off)
{
        if ((uint32_t)off + 2 > p->pkt_len)
                return false;
        if (p->ol_flags & MPNET_PKT_F_L4_CSUM_OK)
                return true;
        return mpnet_csum_fold(raw_chain_sum(
                   p, p->pkt_len, mpnet_ip6_pseudo_sum(ip6 + 8, ip6 + 24, p->pkt_len, proto))) == 0;
}

/* A copy of p (p->data at the transport header) for each raw socket of
 * its protocol that takes it. @return how many matched. */
static unsigned raw_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned f,
                          uint8_t proto)
{
        struct mpnet_stack *s = w->s;
        struct raw_state *st = raw_st(s);
        struct mpnet_sock *so[RAW_MATCH_MAX];
        uint32_t hl = (uint32_t)(p->l4_off - p->l3_off);
        const uint8_t *ip = mpnet_pkt_buf(p) + p->l3_off;
        struct pcb_key k = {.fam = f ? 6 : 4, .ifindex = (uint8_t)ifp->ifindex, .dport = proto};
        unsigned n, took = 0;
        bool csum_checked = false, csum_good = false;

        if (pcb_set_get(st->raw, proto) == NULL)
                return 0;
        if (f) {
                memcpy(k.saddr, ip + 8, 16);
                memcpy(k.daddr, ip + 24, 16);
        } else {
                addr_v4mapped(k.saddr, mpnet_get_be32(ip + 12));
                addr_v4mapped(k.daddr, mpnet_get_be32(ip + 16));
        }
        n = pcb_match_all(st->raw, &k, w->id, 0, false, so, RAW_MATCH_MAX);
        if (n > RAW_MATCH_MAX)
                n = RAW_MATCH_MAX;
        for (unsigned i = 0; i < n; i++) {
                struct mpnet_pkt *c;

                /* A socket that matched keeps the error away even when it
                 * drops the datagram (Linux raw6_local_deliver). */
                took++;
                if (f && so[i]->raw_csum >= 0) {
                        if (!csum_checked) {
                                csum_good = csum6_ok(p, ip, proto, so[i]->raw_csum);
                                csum_checked = true;
                        }
                        if (!csum_good) {
                                raw_inc(s, RAW_BAD_CSUM);
                                continue;
                        }
                }
                /* The copy from the IP header, so recvmsg finds it. */
                mpnet_pkt_prepend(p, hl);
                c = mpnet_pkt_copy(s->pool, p);
                mpnet_pkt_adj(p, hl);
                if (c == NULL) {
                        raw_inc(s, RAW_NOBUFS);
                        continue;
                }
                if (f)
                        mpnet_pkt_adj(c, hl); /* RFC 3542 3: no IPv6 header */
                raw_deliver(w, so[i], c);
        }
        return took;
}

/* The tap of local delivery (graph.h): raw sockets take copies, then an
 * echo reply goes to its echo socket. */
static int raw_tap(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned fam,
                   uint8_t proto)
{
        unsigned f = fam == 6;
        int res = raw_input(w, ifp, p, f, proto) != 0 ? L4_TAP_COPIED : L4_TAP_NONE;

        if (proto == (f ? MPNET_IPPROTO_ICMPV6 : MPNET_IPPROTO_ICMP) && p->len > 0 &&
            p->data[0] == (f ? 129 : 0) && ping_sock_input(w, ifp, p, f))
                return L4_TAP_TAKEN;
        return res;
}

/* The error tap (graph.h): an error quoting one of our echo requests goes
 * to the echo socket of its identifier. */
static bool raw_tap_err(struct wctx *w, const struct l4_err *e)
{
        unsigned f = e->family == 6;

        return e->l4[0] == (f ? MPNET_ICMP6_ECHO_REQUEST : MPNET_ICMP4_ECHO_REQUEST) &&
               ping_sock_err(w, e);
}

/* ---- the socket's protocol ---- */

static void raw_ent(const struct mpnet_sock *so, struct pcb_ent *e)
{
        memset(e, 0, sizeof(*e));
        e->fam = so->family == AF_INET ? PCB_FAM4 : PCB_FAM6;
        e->flags = (uint8_t)(PCB_F_REUSEADDR | (so->flags & SOF_CONNECTED ? PCB_F_CONNECTED : 0));
        e->home = sock_home(so);
        e->bound_if = so->bound_if;
        e->so = (struct mpnet_sock *)so;
        memcpy(e->laddr, so->laddr, 16);
        memcpy(e->faddr, so->faddr, 16);
}

static int raw_open(struct mpnet_stack *s, struct mpnet_sock *so)
{
        struct raw_state *st = raw_st(s);
        struct pcb_ent e;
        unsigned f = fam_idx(so);
        int err;

        /* An IPv6 raw socket takes no IPv4 (RFC 3542 has none). */
        if (f)
                so->flags |= SOF_V6ONLY;
        if (so->family == AF_INET6 && so->proto == IPPROTO_ICMPV6)
                so->raw_csum = 2; /* RFC 3542 3.1: always */
        if (so->family == AF_INET && so->proto == IPPROTO_RAW)
                so->raw_flags |= SOW_HDRINCL; /* as Linux: send only, header included */
        so->lport = so->proto;                /* getsockname names the protocol, as Linux */
        raw_ent(so, &e);
        err = pcb_bind(st->raw, so->proto, &e);
        if (err != 0)
                return err;
        st->n_raw[f][so->proto]++;
        raw_tap_update(s, f, so->proto);
        return 0;
}

static void raw_close(struct mpnet_stack *s, struct mpnet_sock *so)
{
        struct raw_state *st = raw_st(s);
        unsigned f = fam_idx(so);

        /* -ENOMEM leaves the entry: try again (the set is a copy). */
        while (pcb_unbind(st->raw, so->proto, so) == -ENOMEM)
                ;
        st->n_raw[f][so->proto]--;
        raw_tap_update(s, f, so->proto);
}

/* bind, connect, options: the entry follows the socket (the port means
 * nothing to a raw socket; Linux ignores it too). */
static int raw_pcb_set(struct mpnet_stack *s, struct mpnet_sock *so, uint16_t port, bool new)
{
        struct pcb_ent e;

        (void)port;
        (void)new;
        raw_ent(so, &e);
        return pcb_update(raw_st(s)->raw, so->proto, &e);
}

/* close: raw_close takes the entry away. */
static int raw_pcb_unset(struct mpnet_stack *s, struct mpnet_sock *so)
{
        (void)s;
        (void)so;
        return 0;
}

static int raw_port_pick(struct mpnet_stack *s, struct mpnet_sock *so)
{
        int err = raw_pcb_set(s, so, so->proto, false);

        return err != 0 ? err : so->proto;
}

int raw_src(struct mpnet_stack *s, const struct mpnet_sock *so, const struct udp_tx *tx,
            uint8_t src[16])
{
        bool v4 = addr_is_v4mapped(tx->dst);
        uint32_t a = 0;
        int err;

        if (tx->src != NULL && !addr_is_any46(tx->src)) {
                memcpy(src, tx->src, 16);
                return 0;
        }
        if (!addr_is_any46(so->laddr) && !(v4 ? mpnet_ip4_is_multicast(addr_v4(so->laddr))
                                              : mpnet_ip6_is_multicast(so->laddr))) {
                memcpy(src, so->laddr, 16);
                return 0;
        }
        if (!v4)
                return mpnet_ip6_src_select(s, tx->dst, tx->oif, src);
        err = ip4_src_select(s, addr_v4(tx->dst), tx->oif, &a);
        addr_v4mapped(src, a);
        return err;
}

/* IP_HDRINCL: the caller's header, checked. @return 0 or -EINVAL. */
static int hdrincl_check(const struct mpnet_pkt *p)
{
        const uint8_t *h = p->data;
        uint32_t hlen, tot;

        if (p->len < MPNET_IP4_HLEN || (h[0] >> 4) != 4)
                return -EINVAL;
        hlen = (uint32_t)(h[0] & 0xf) * 4;
        tot = mpnet_get_be16(h + 2);
        if (hlen < MPNET_IP4_HLEN || hlen > p->len || (tot != 0 && tot != p->pkt_len))
                return -EINVAL;
        return 0;
}

static int raw_output(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
                      const struct udp_tx *tx)
{
        uint8_t src[16];
        int err;

        if (so->family == AF_INET && (so->raw_flags & SOW_HDRINCL)) {
                const uint8_t *h = p->data;

                err = hdrincl_check(p);
                if (err != 0) {
                        mpnet_pkt_free(p);
                        return err;
                }
                /* The header's destination, as it goes on the wire. */
                err = ip4_output_opt(s->ctx[0], p,
                                     &(struct ip4_out){
                                         .src = mpnet_get_be32(h + 12),
                                         .dst = mpnet_get_be32(h + 16),
                                         .proto = h[9],
                                         .ttl = h[8],
                                         .tos = h[1],
                                         .df = (mpnet_get_be16(h + 6) & 0x4000) != 0,
                                         .hdrincl = true,
                                         .oif = tx->oif,
                                     });
                if (err == 0)
                        raw_inc(s, RAW_OUT);
                return err;
        }
        if (so->proto == IPPROTO_RAW) { /* IPv6: nothing to send it as */
                mpnet_pkt_free(p);
                return -EINVAL;
        }
        err = raw_src(s, so, tx, src);
        if (err != 0) {
                mpnet_pkt_free(p);
                return err;
        }
        if (addr_is_v4mapped(tx->dst)) {
                bool mc = mpnet_ip4_is_multicast(addr_v4(tx->dst));

                err = ip4_output_opt(s->ctx[0], p,
                                     &(struct ip4_out){
                                         .src = addr_v4(src),
                                         .dst = addr_v4(tx->dst),
                                         .proto = so->proto,
                                         .ttl = (uint8_t)(tx->ttl >= 0 ? tx->ttl
                                                          : mc         ? so->mc_ttl
                                                                       : so->ttl),
                                         .tos = (uint8_t)(tx->tos >= 0 ? tx->tos : so->tos),
                                         .oif = tx->oif,
                                     });
        } else {
                bool mc = mpnet_ip6_is_multicast(tx->dst);
                int hl = tx->ttl >= 0 ? tx->ttl : mc ? so->mc_hops6 : so->hops6;

                if (so->raw_csum >= 0) {
                        /* RFC 3542 3.1: the field in the first buffer. */
                        uint32_t off = (uint32_t)so->raw_csum;

                        if (off + 2 > p->len) {
                                mpnet_pkt_free(p);
                                return -EINVAL;
                        }
                        p->data[off] = p->data[off + 1] = 0;
                        mpnet_put_be16(
                            p->data + off,
                            mpnet_csum_fold(raw_chain_sum(
                                p, p->pkt_len,
                                mpnet_ip6_pseudo_sum(src, tx->dst, p->pkt_len, so->proto))));
                }
                err = ip6_output_tc(s, p, src, tx->dst, so->proto,
                                    (uint8_t)(hl != 0 ? hl : IP6_HLIM_DEFAULT),
                                    (uint8_t)(tx->tos >= 0 ? tx->tos : so->tclass), tx->oif);
        }
        if (err == 0)
                raw_inc(s, RAW_OUT);
        return err;
}

static int raw_setopt(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name,
                      const void *val, unsigned len)
{
        int v;

        (void)s;
        if (level == IPPROTO_IP && name == IP_HDRINCL && so->family == AF_INET) {
                if (val == NULL)
                        return -EFAULT;
                if (len < sizeof(int))
                        return -EINVAL;
                memcpy(&v, val, sizeof(v));
                if (so->proto == IPPROTO_RAW)
                        return 0; /* always on */
                so->raw_flags =
                    (uint8_t)(v ? so->raw_flags | SOW_HDRINCL : so->raw_flags & ~SOW_HDRINCL);
                return 0;
        }
        if ((level == IPPROTO_IPV6 || level == SOL_RAW) && name == IPV6_CHECKSUM &&
            so->family == AF_INET6) {
                if (val == NULL)
                        return -EFAULT;
                if (len < sizeof(int))
                        return -EINVAL;
                memcpy(&v, val, sizeof(v));
                /* RFC 3542 3.1: not for ICMPv6, whose checksum is always
                 * computed; an odd offset is refused (as Linux). */
                if (so->proto == IPPROTO_ICMPV6 || (v >= 0 && (v & 1)) || v < -1 || v > 0x7ffe)
                        return -EINVAL;
                so->raw_csum = (int16_t)v;
                return 0;
        }
        return -ENOPROTOOPT;
}

static int raw_getopt(const struct mpnet_sock *so, int level, int name, int *v)
{
        if (level == IPPROTO_IP && name == IP_HDRINCL && so->family == AF_INET) {
                *v = !!(so->raw_flags & SOW_HDRINCL);
                return 0;
        }
        if ((level == IPPROTO_IPV6 || level == SOL_RAW) && name == IPV6_CHECKSUM &&
            so->family == AF_INET6) {
                *v = so->raw_csum;
                return 0;
        }
        return -ENOPROTOOPT;
}

const struct sock_proto sock_raw_proto = {
    .open = raw_open,
    .close = raw_close,
    .pcb_set = raw_pcb_set,
    .pcb_unset = raw_pcb_unset,
    .port_pick = raw_port_pick,
    .output = raw_output,
    .setopt = raw_setopt,
    .getopt = raw_getopt,
};

/* ---- the module ---- */

static void set_free(void *set)
{
        pcb_set_free(set);
}

static void raw_retire(void *arg, struct pcb_set *old)
{
        stack_defer(arg, set_free, old);
}

static void raw_fini(struct mpnet_stack *s, void *state)
{
        struct raw_state *st = state;

        ping_api_fini(s);
        if (st->raw != NULL)
                pcb_table_destroy(st->raw);
        for (unsigned f = 0; f < 2; f++)
                if (st->echo[f] != NULL)
                        pcb_table_destroy(st->echo[f]);
}

static int raw_init(struct mpnet_stack *s, void *state)
{
        struct raw_state *st = state;
        int node = graph_node_find(&s->g, "raw-deliver");

        if (node < 0)
                return -EINVAL;
        st->s = s;
        st->deliver_node = (unsigned)node;
        node = graph_node_find(&s->g, "ping-err");
        if (node < 0)
                return -EINVAL;
        st->err_node = (unsigned)node;
        st->raw = pcb_table_create(raw_retire, s);
        st->echo[0] = pcb_table_create(raw_retire, s);
        st->echo[1] = pcb_table_create(raw_retire, s);
        if (st->raw == NULL || st->echo[0] == NULL || st->echo[1] == NULL) {
                raw_fini(s, st);
                memset(st, 0, sizeof(*st));
                return -ENOMEM;
        }
        return 0;
}

/* stack_reset(): the tables and the ping API's sockets are
 * configuration (the socket calls'); what input queued on the latter is
 * not. */
static bool raw_learnt(struct mpnet_stack *s, const void *state)
{
        const struct raw_state *st = state;

        (void)s;
        for (unsigned f = 0; f < 2; f++)
                if (st->api[f] != NULL && st->api[f]->rq_head != NULL)
                        return true;
        return false;
}

static void raw_reset(struct mpnet_stack *s, void *state)
{
        struct raw_state *st = state;

        (void)s;
        for (unsigned f = 0; f < 2; f++)
                if (st->api[f] != NULL)
                        sock_rq_flush(st->api[f]);
}

static const struct node_reg raw_nodes[] = {
    {.name = "raw-deliver", .fn = raw_deliver_node, .core_id = -1},
    {.name = "ping-err", .fn = ping_err_node, .core_id = -1},
};

const struct mpnet_module mod_raw = {
    .name = "raw",
    .nodes = raw_nodes,
    .n_nodes = 2,
    .l4_tap = raw_tap,
    .l4_tap_err = raw_tap_err,
    .echo_in = ping_api_in,
    .echo_err = ping_api_err,
    .counters = raw_ctrs,
    .n_counters = RAW__N,
    .state_size = sizeof(struct raw_state),
    .init = raw_init,
    .fini = raw_fini,
    .state_learnt = raw_learnt,
    .state_reset = raw_reset,
};
