/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP connections owned by their home context (docs/MP-SAFETY.md, "TCP on
 * workers"): the hand-off of a segment received elsewhere, the per-context
 * lists the home's service walks, the retirement of a connection a worker
 * removed, the socket callback on the home, and the ephemeral port whose
 * replies come home.
 *
 * Synchronisation: a connection's fields past its tuple and home are its
 * home's. Another context that finds it (input is an RCU reader of the
 * table) hands the segment over through ctx_handoff() (an SPSC ring per
 * pair of contexts) to the home's "tcp-deliver" node, which runs input
 * again there; nothing on the way takes a lock (ICMP errors, which the
 * control thread takes, go the same way to "tcp-err", l4/tcp_pmtu.c). A
 * connection a worker unlinks from the table is pushed on tcp_state.dead
 * (push with CAS, taken whole with one exchange: no ABA) and the control
 * thread, kicked, hands it to stack_defer(), whose grace period starts
 * after the unlinking.
 *
 * Life cycle: struct tcp_ctx is made and freed with its context (zeroed);
 * what its lists name belongs to the connection table.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/tcp.h"
#include "l4/pcb.h"
#include "l4/port.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"
#include "stack/steer.h"

struct tcp_ctx *tcp_ctx_of(struct wctx *w)
{
        return w->mctx[MOD_tcp];
}

struct wctx *tcp_home_w(struct mpnet_stack *s, const struct tcp_conn *c)
{
        return __atomic_load_n(&s->ctx[c->home], __ATOMIC_ACQUIRE);
}

/* ---- the hand-off ---- */

void tcp_handoff(struct wctx *w, unsigned home, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;

        /* The checksum was verified here: the home need not again. */
        p->ol_flags |= MPNET_PKT_F_L4_CSUM_OK;
        if (ctx_handoff(w, home, tcp_state_of(s)->deliver_node, p))
                tcp_count(s, TCPC_HANDOFF);
        else
                tcp_count(s, TCPC_NOT_HOME); /* and handoff_drop: TCP retransmits */
}

/* The addresses (v4-mapped for IPv4) and the ECN field of p's IP header.
 * @return the family, 0 when the header is not one. */
static unsigned ip_addrs(const struct mpnet_pkt *p, uint8_t laddr[16], uint8_t raddr[16],
                         uint8_t *ecn)
{
        const uint8_t *ip = mpnet_pkt_buf((struct mpnet_pkt *)p) + p->l3_off;
        uint32_t a;

        if ((ip[0] >> 4) == 4) {
                memcpy(&a, ip + 16, 4);
                addr_v4mapped(laddr, ntohl(a));
                memcpy(&a, ip + 12, 4);
                addr_v4mapped(raddr, ntohl(a));
                *ecn = ip[1] & 3;
                return 4;
        }
        if ((ip[0] >> 4) == 6) {
                memcpy(laddr, ip + 24, 16);
                memcpy(raddr, ip + 8, 16);
                *ecn = (ip[1] >> 4) & 3; /* the traffic class's low bits */
                return 6;
        }
        return 0;
}

/* tcp-deliver: segments other contexts handed to this one, the home of
 * their connection or listener (checked and unicast there). */
void tcp_deliver_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self)
{
        struct frame *in = &w->fr[self];

        for (unsigned i = 0; i < in->n; i++) {
                struct mpnet_pkt *p = in->p[i];
                uint8_t l[16], r[16], ecn = 0;
                unsigned fam = ip_addrs(p, l, r, &ecn);

                if (fam == 0) {
                        tcp_count(w->s, TCPC_STALE);
                        mpnet_pkt_free(p);
                        continue;
                }
                tcp_input(w, ifp, p, fam, l, r, TCP_IN_HANDED, ecn);
        }
        in->n = 0;
}

/* ---- the home's lists ---- */

void tcp_embryo_add(struct wctx *w, struct tcp_conn *c)
{
        struct tcp_ctx *x = tcp_ctx_of(w);

        if (c->eprev != NULL)
                return;
        c->enext = x->embryo;
        if (x->embryo != NULL)
                x->embryo->eprev = &c->enext;
        x->embryo = c;
        c->eprev = &x->embryo;
}

void tcp_embryo_del(struct tcp_conn *c)
{
        if (c->eprev == NULL)
                return;
        *c->eprev = c->enext;
        if (c->enext != NULL)
                c->enext->eprev = c->eprev;
        c->enext = NULL;
        c->eprev = NULL;
}

/* ---- retirement ---- */

void tcp_conn_retire(struct mpnet_stack *s, struct tcp_conn *c)
{
        struct tcp_state *st = tcp_state_of(s);
        struct tcp_conn *head;

        tcp_data_budget_put(st, c); /* its buffers' growth, for others */
        /* Removal runs on c's home: the control thread defers at once. */
        if (c->home == 0) {
                c->cache_st = st;
                stack_defer(s, tcp_conn_recycle, c);
                return;
        }
        head = atomic_load_explicit(&st->dead, memory_order_relaxed);
        do {
                c->qnext = head;
        } while (!atomic_compare_exchange_weak_explicit(&st->dead, &head, c, memory_order_release,
                                                        memory_order_relaxed));
        ctx_kick(s, 0);
}

void tcp_dead_flush(struct mpnet_stack *s)
{
        struct tcp_state *st = tcp_state_of(s);
        struct tcp_conn *c;

        if (atomic_load_explicit(&st->dead, memory_order_relaxed) == NULL)
                return;
        c = atomic_exchange_explicit(&st->dead, NULL, memory_order_acquire);
        while (c != NULL) {
                struct tcp_conn *nx = c->qnext;

                c->cache_st = st;
                stack_defer(s, tcp_conn_recycle, c);
                c = nx;
        }
}

/* ---- callbacks ---- */

void tcp_sock_cb(struct wctx *w, struct mpnet_sock *so, uint32_t ev_before)
{
        uint32_t ev;

        if (so == NULL || (so->flags & SOF_CLOSED) || sock_home(so) != w->id)
                return;
        if (so->fe != NULL) {
                sock_fe_pump(w, so); /* the front end's rings (l4/sock_front.c) */
                return;
        }
        if (so->cb == NULL)
                return;
        ev = sock_events(so);
        /* Readable (data, EOF, a connection to accept, an error) or newly
         * writable (connected, room again). */
        if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !(ev & ~ev_before & EPOLLOUT))
                return;
        sock_run_cb(so);
}

void tcp_sock_cb_vec(struct wctx *w, struct mpnet_sock *so, uint32_t ev_before)
{
        struct tcp_ctx *x;

        /* Nothing to wake: a socket read by polling (tcp_sock_cb would
         * return at once). */
        if (so == NULL || (so->cb == NULL && so->fe == NULL))
                return;
        x = tcp_ctx_of(w);
        /* The events before the vector's first segment for so stay: what
         * became true over the whole vector is what the callback hears. */
        for (unsigned i = 0; i < x->n_vcb; i++) {
                if (x->vcb[i].so == so)
                        return;
        }
        if (x->n_vcb == TCP_VEC_PEND) {
                tcp_sock_cb(w, so, ev_before);
                return;
        }
        x->vcb[x->n_vcb].so = so;
        x->vcb[x->n_vcb++].ev = ev_before;
        ctx_vec_end_arm(w, MOD_tcp);
}

/* ---- ephemeral ports ---- */

static void pcb_ent_of(const struct mpnet_sock *so, struct pcb_ent *e)
{
        memset(e, 0, sizeof(*e));
        e->fam = so->family == AF_INET           ? PCB_FAM4
                 : (so->flags & SOF_V6ONLY) != 0 ? PCB_FAM6
                                                 : PCB_FAM46;
        e->flags = (uint8_t)((so->flags & SOF_REUSEADDR ? PCB_F_REUSEADDR : 0) |
                             (so->flags & SOF_REUSEPORT ? PCB_F_REUSEPORT : 0));
        e->home = (uint8_t)sock_home(so);
        e->bound_if = so->bound_if;
        e->so = (struct mpnet_sock *)so;
        memcpy(e->laddr, so->laddr, 16);
}

int tcp_port_pick_steered(struct mpnet_stack *s, struct mpnet_sock *so, const uint8_t laddr[16],
                          const uint8_t faddr[16], uint16_t fport)
{
        struct tcp_state *st = tcp_state_of(s);
        struct port_flow f = {.fport = fport, .proto = MPNET_IPPROTO_TCP};
        const struct rx_steer *steer = NULL;
        struct rx_steer rs;
        struct pcb_ent e;
        int rc;

        memcpy(f.laddr, laddr, 16);
        memcpy(f.faddr, faddr, 16);
        if (!addr_is_any46(faddr)) {
                int ifindex = udp_route_ifindex(s, so, faddr);

                if (ifindex > 0 && stack_rx_steer(s, ifindex, sock_home(so), &rs) == 0)
                        steer = &rs;
        }
        pcb_ent_of(so, &e);
        rc = port_pick(st->pick, &f, steer, st->pcb, &e);
        if (rc == -EADDRNOTAVAIL && steer != NULL) /* none steers there: any port */
                rc = port_pick(st->pick, &f, NULL, st->pcb, &e);
        return rc == -EADDRNOTAVAIL ? -EADDRINUSE : rc;
}

unsigned tcp_flow_home(struct mpnet_stack *s, int bound_if, const uint8_t laddr[16], uint16_t lport,
                       const uint8_t faddr[16], uint16_t fport)
{
        struct rx_tuple t = {.proto = MPNET_IPPROTO_TCP, .sport = fport, .dport = lport};
        struct mpnet_sock tmp = {.bound_if = bound_if};
        uint32_t h = 2166136261u; /* FNV-1a over the reply flow */

        t.fam = addr_is_v4mapped(faddr) ? 4 : 6;
        memcpy(t.saddr, faddr, 16);
        memcpy(t.daddr, laddr, 16);
        for (unsigned i = 0; i < 16; i++)
                h = (h ^ t.saddr[i] ^ (uint32_t)t.daddr[i] << 8) * 16777619u;
        h = (h ^ t.sport ^ (uint32_t)t.dport << 16) * 16777619u;
        return port_flow_home(s, udp_route_ifindex(s, &tmp, faddr), &t, h);
}

/* ---- the data calls from another thread ---- */

struct msg_arg {
        struct msghdr *msg;
        int flags;
        ssize_t rc;
};

static int sendmsg_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        struct msg_arg *a = arg;

        a->rc = tcp_sendmsg(w->s, so, a->msg, a->flags);
        return 0;
}

static int recvmsg_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        struct msg_arg *a = arg;

        a->rc = tcp_recvmsg(w->s, so, a->msg, a->flags);
        return 0;
}

ssize_t tcp_call_sendmsg(struct mpnet_sock *so, const struct msghdr *msg, int flags)
{
        struct msg_arg a = {.msg = (struct msghdr *)msg, .flags = flags};
        int err = sock_home_call(so, sendmsg_home, &a);

        return err != 0 ? err : a.rc;
}

ssize_t tcp_call_recvmsg(struct mpnet_sock *so, struct msghdr *msg, int flags)
{
        struct msg_arg a = {.msg = msg, .flags = flags};
        int err = sock_home_call(so, recvmsg_home, &a);

        return err != 0 ? err : a.rc;
}
