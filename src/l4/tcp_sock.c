/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SOCK_STREAM sockets (struct sock_proto for TCP) and the calls only they
 * have: mpnet_listen, mpnet_accept. Bound and listening sockets are found
 * by port in TCP's own PCB table (l4/pcb.h, as UDP's); an accepted socket
 * is found through its connection (l4/tcp.h), not by port.
 *
 * What works: bind, listen, accept (non-blocking: -EAGAIN when none is
 * ready), connect, getsockname, getpeername; send, recv, shutdown and
 * TCP_NODELAY on a connection (l4/tcp_data.c, through the stream hooks of
 * struct sock_proto); the other TCP options (SO_KEEPALIVE, SO_LINGER,
 * TCP_KEEPIDLE/INTVL/CNT, TCP_CORK, MPNET_TCP_INFO) in l4/tcp_opt.c;
 * close: an orderly close once established (a reset when data was left
 * unread), an abort before, or with SO_LINGER 0 (RFC 9293 3.10.4).
 *
 * A socket's home (MPNET_SO_HOME) is its connections' home: what touches
 * the listener's queues or the connection runs there (sock_home_call(): a
 * synchronous command from the control thread, directly on the home);
 * what changes the PCB table or the descriptor table (binding, the
 * ephemeral port, the accepted socket's descriptor) stays the control
 * thread's, done before the command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#ifndef TCP_NODELAY
#define TCP_NODELAY 1 /* <netinet/tcp.h>, whose state names clash with ours */
#endif
#include <sys/epoll.h>

#include "mpnet/socket.h"
#include "mpnet/wire/tcp.h"
#include "mpnet/ip6.h"
#include "l3/ip4.h"
#include "l3/ip_iface.h"
#include "l4/pcb.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define TCP_BACKLOG_MAX 4096 /* Linux's somaxconn */

static struct pcb_table *tcp_pcb(struct mpnet_stack *s)
{
        return tcp_state_of(s)->pcb;
}

static int tcp_open(struct mpnet_stack *s, struct mpnet_sock *so)
{
        (void)s;
        atomic_store(&so->events, 0); /* writable once connected */
        return 0;
}

static int tcp_close_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        struct mpnet_stack *s = w->s;

        (void)arg;
        if (so->flags & SOF_LISTEN) {
                struct tcp_listen *l = so->tcp;

                /* Embryos go silently; established connections nobody
                 * accepted are reset (as Linux's inet_csk_listen_stop). */
                while (l->syn != NULL)
                        tcp_conn_drop(s, l->syn);
                while (l->acc_head != NULL) {
                        struct tcp_conn *c = l->acc_head;

                        tcp_send_ctl(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt);
                        tcp_conn_drop(s, c);
                }
                free(l);
        } else if (so->tcp != NULL) {
                struct tcp_conn *c = so->tcp;

                /* What a front end queued goes first, as a kernel's
                 * close sends what send() had accepted. */
                sock_fe_close_flush(w, so);
                if (c->d != NULL && tcp_opt_linger_abort(so)) {
                        /* SO_LINGER of 0: an abort (a reset where RFC 9293
                         * 3.10.4 ABORT sends one, as Linux's tcp_disconnect). */
                        tcp_count(s, TCPC_LINGER_ABORT);
                        if (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT ||
                            c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2)
                                tcp_send_ctl(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt);
                        tcp_conn_drop(s, c);
                } else if (c->d != NULL) {
                        /* An orderly close (l4/tcp_data.c); with a linger
                         * time, a reset when it passes unacknowledged. */
                        if ((so->tcpo.flags & SOT_LINGER) && !tcp_opt_linger_done(c))
                                tcp_opt_linger_arm(w, c, so->tcpo.linger);
                        so->tcp = NULL;
                        tcp_data_close(s, c);
                        so->flags &= ~(uint32_t)SOF_LISTEN;
                        return 0;
                } else {
                        /* RFC 9293 3.10.4 ABORT: a reset, except in SYN_SENT. */
                        if (c->state != TCP_SYN_SENT)
                                tcp_send_ctl(w, c, MPNET_TCP_RST | MPNET_TCP_ACK, c->snd_nxt);
                        tcp_conn_drop(s, c);
                }
        }
        so->tcp = NULL;
        so->flags &= ~(uint32_t)SOF_LISTEN;
        return 0;
}

/* The control thread's half of a close (sock_close_ctl): the connection's
 * part on its home. */
static void tcp_close(struct mpnet_stack *s, struct mpnet_sock *so)
{
        (void)s;
        sock_home_call(so, tcp_close_home, NULL);
}

/* Stack destruction with the socket open: the listener's queues (the
 * connections themselves go with the table, tcp_fini). */
static void tcp_release(struct mpnet_sock *so)
{
        if (so->flags & SOF_LISTEN)
                free(so->tcp);
        so->tcp = NULL;
}

static int tcp_pcb_set(struct mpnet_stack *s, struct mpnet_sock *so, uint16_t port, bool new)
{
        struct pcb_ent e = {
            .fam = so->family == AF_INET           ? PCB_FAM4
                   : (so->flags & SOF_V6ONLY) != 0 ? PCB_FAM6
                                                   : PCB_FAM46,
            .flags = (uint8_t)((so->flags & SOF_REUSEADDR ? PCB_F_REUSEADDR : 0) |
                               (so->flags & SOF_REUSEPORT ? PCB_F_REUSEPORT : 0)),
            .home = so->home,
            .bound_if = so->bound_if,
            .so = so,
        };

        memcpy(e.laddr, so->laddr, 16);
        return new ? pcb_bind(tcp_pcb(s), port, &e) : pcb_update(tcp_pcb(s), port, &e);
}

static int tcp_pcb_unset(struct mpnet_stack *s, struct mpnet_sock *so)
{
        return pcb_unbind(tcp_pcb(s), so->lport, so);
}

/* RFC 6056 Algorithm 4 (l4/tcp_home.c, l4/port.h); no peer yet, so no
 * steering (listen, bind to port 0). Control thread. */
static int tcp_port_pick(struct mpnet_stack *s, struct mpnet_sock *so)
{
        static const uint8_t none[16];

        return tcp_port_pick_steered(s, so, so->laddr, none, 0);
}

static int tcp_sock_output(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
                           const struct udp_tx *tx)
{
        (void)s;
        (void)so;
        (void)tx;
        mpnet_pkt_free(p);
        return -EOPNOTSUPP; /* a stream sends through tcp_sendmsg */
}

static int tcp_setopt(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name,
                      const void *val, unsigned len)
{
        int v;

        if (level != IPPROTO_TCP || name != TCP_NODELAY)
                return tcp_opt_set(s, so, level, name, val, len); /* l4/tcp_opt.c */
        if (len < sizeof(int))
                return -EINVAL;
        memcpy(&v, val, sizeof(v));
        if (v != 0)
                so->flags |= SOF_NODELAY;
        else
                so->flags &= ~(uint32_t)SOF_NODELAY;
        if (!(so->flags & SOF_LISTEN) && so->tcp != NULL) {
                tcp_data_setopt(so->tcp, name, v);
                if (v != 0)
                        tcp_opt_nodelay(tcp_home_w(s, so->tcp), so->tcp);
        }
        return 0;
}

static int tcp_getopt(const struct mpnet_sock *so, int level, int name, int *v)
{
        if (level != IPPROTO_TCP || name != TCP_NODELAY)
                return tcp_opt_get(so, level, name, v);
        *v = (so->flags & SOF_NODELAY) != 0;
        return 0;
}

const struct sock_proto sock_tcp_proto = {
    .open = tcp_open,
    .close = tcp_close,
    .release = tcp_release,
    .pcb_set = tcp_pcb_set,
    .pcb_unset = tcp_pcb_unset,
    .port_pick = tcp_port_pick,
    .output = tcp_sock_output,
    .setopt = tcp_setopt,
    .getopt = tcp_getopt,
    .getopt_buf = tcp_opt_get_buf,
    .sendmsg = tcp_sendmsg,
    .recvmsg = tcp_recvmsg,
    .shutdown = tcp_shutdown,
};

static struct mpnet_sock *stream_sock(struct mpnet_stack *s, int fd)
{
        struct mpnet_sock *so = sock_get(s, fd);

        return so != NULL && !(so->flags & SOF_CLOSED) ? so : NULL;
}

static int listen_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        int backlog = *(const int *)arg;
        struct tcp_listen *l;

        (void)w;
        if (so->flags & SOF_CONNECTED || (so->tcp != NULL && !(so->flags & SOF_LISTEN)))
                return -EINVAL;
        if (so->flags & SOF_LISTEN) {
                ((struct tcp_listen *)so->tcp)->backlog = (unsigned)backlog;
                return 0;
        }
        l = calloc(1, sizeof(*l));
        if (l == NULL)
                return -ENOMEM;
        l->backlog = (unsigned)backlog;
        so->tcp = l;
        so->flags |= SOF_LISTEN;
        return 0;
}

int mpnet_listen(struct mpnet_stack *s, int fd, int backlog)
{
        struct mpnet_sock *so = stream_sock(s, fd);

        if (so == NULL)
                return -EBADF;
        if (so->type != SOCK_STREAM)
                return -EOPNOTSUPP;
        if (sock_caller(s) != 0)
                return -EPERM; /* a control call */
        /* Linux: a backlog of 0 or less still takes one; at most somaxconn. */
        backlog = backlog < 1 ? 1 : backlog > TCP_BACKLOG_MAX ? TCP_BACKLOG_MAX : backlog;
        if (!(so->flags & SOF_BOUND)) {
                int port = tcp_port_pick(s, so);

                if (port < 0)
                        return port;
                so->lport = (uint16_t)port;
                so->flags |= SOF_BOUND;
        }
        /* The queues are the home's: made there. */
        return sock_home_call(so, listen_home, &backlog);
}

/* On the listener's home: the first connection of its accept queue to
 * nso (made by the control thread, homed here). */
static int accept_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        struct mpnet_sock *nso = arg;
        struct tcp_listen *l;
        struct tcp_conn *c;

        (void)w;
        if (!(so->flags & SOF_LISTEN))
                return -EINVAL;
        l = so->tcp;
        c = l->acc_head;
        if (c == NULL)
                return -EAGAIN;
        l->acc_head = c->qnext;
        if (l->acc_tail == c)
                l->acc_tail = NULL;
        l->n_acc--;
        if (l->n_acc == 0)
                sock_lower(so, EPOLLIN);
        c->qnext = NULL;
        c->lso = NULL;
        c->so = nso;
        nso->tcp = c;
        memcpy(nso->laddr, c->t.laddr, 16);
        memcpy(nso->faddr, c->t.raddr, 16);
        nso->lport = c->t.lport;
        nso->fport = c->t.rport;
        nso->flags |= SOF_CONNECTED | (so->flags & (SOF_V6ONLY | SOF_NODELAY));
        nso->tcpo = so->tcpo;
        sock_raise(nso, EPOLLOUT);
        return 0;
}

/* From the control thread (an application thread counts as it, as for
 * the other calls), or from a callback on the listener's home worker,
 * where it runs directly: the descriptor is made there (the table's
 * writers take its lock, l4/socket.c) and the accept queue is the home's.
 * From another worker: -EBUSY, as every call on a socket homed elsewhere
 * (a worker never waits for another context). */
int mpnet_accept(struct mpnet_stack *s, int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
        struct mpnet_sock *so = stream_sock(s, fd), *nso;
        unsigned home, me = sock_caller(s);
        int nfd, err;

        if (so == NULL)
                return -EBADF;
        if (so->type != SOCK_STREAM)
                return -EOPNOTSUPP;
        if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
                return -EINVAL;
        home = sock_home(so);
        if (me != 0 && me != home)
                return me == SOCK_CALLER_FOREIGN ? -EPERM : -EBUSY;
        if (home == 0 && !(so->flags & SOF_LISTEN))
                return -EINVAL;
        /* The readiness word says whether a connection waits (any thread). */
        if (!(sock_events(so) & EPOLLIN))
                return -EAGAIN;
        /* The connection's home is the listener's: so is the socket's,
         * stored before its descriptor is published. */
        nfd = sock_open_accepted(s, so->family, flags, home);
        if (nfd < 0)
                return nfd;
        nso = sock_get(s, nfd);
        err = sock_home_call(so, accept_home, nso);
        if (err != 0) {
                mpnet_close(s, nfd);
                return err;
        }
        if (addr != NULL && alen != NULL)
                mpnet_getpeername(s, nfd, addr, alen);
        return nfd;
}

/* The MTU of the interface that holds our address a (1500 when none
 * does): the MSS we announce (RFC 9293 3.7.1). */
static uint32_t mtu_of(struct mpnet_stack *s, const uint8_t a[16])
{
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *ifp = __atomic_load_n(&s->ifs[i], __ATOMIC_ACQUIRE);

                if (ifp == NULL)
                        continue;
                if (addr_is_v4mapped(a) ? iface_has_addr(ifp, addr_v4(a))
                                        : iface_addr6_find(ifp, a) != NULL)
                        return atomic_load(&ifp->mtu);
        }
        return 1500;
}

struct connect_arg {
        uint8_t src[16], dst[16];
        uint16_t port;
};

/* On the socket's home: the connection, its SYN. */
static int connect_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        const struct connect_arg *a = arg;
        struct mpnet_stack *s = w->s;
        struct tcp_state *st = tcp_state_of(s);
        struct tcp_conn *c;

        if (so->flags & SOF_LISTEN)
                return -EINVAL;
        if (so->tcp != NULL)
                return ((struct tcp_conn *)so->tcp)->state == TCP_SYN_SENT ? -EALREADY : -EISCONN;
        if (so->flags & SOF_CONNECTED)
                return -EISCONN;
        c = tcp_conn_alloc(w);
        if (c == NULL)
                return -ENOMEM;
        memcpy(c->t.laddr, a->src, 16);
        memcpy(c->t.raddr, a->dst, 16);
        c->t.lport = so->lport;
        c->t.rport = a->port;
        c->home = (uint8_t)w->id;
        c->state = TCP_SYN_SENT;
        c->iss = tcp_isn(st->isn_key, &c->t, ctx_now(w));
        c->snd_una = c->iss;
        c->snd_nxt = c->iss + 1;
        c->rcv_wnd = 65535;
        c->mss = c->mss_ours = tcp_mss_ours(&c->t, mtu_of(s, a->src));
        tcp_rto_init(&c->rto, TCP_RTO_MIN_US);
        if (tcp_conn_insert(s, &st->ct, c) != 0) {
                free(c);
                return -EADDRNOTAVAIL; /* the 4-tuple is taken */
        }
        memcpy(so->laddr, a->src, 16);
        memcpy(so->faddr, a->dst, 16);
        so->fport = a->port;
        so->tcp = c;
        c->so = so;
        tcp_syn_send(w, c);
        return -EINPROGRESS; /* every call is non-blocking */
}

/* MPNET_HOME_FLOW (include/mpnet/socket.h): the socket goes where its
 * flow's replies are received. Unbound, a worker is chosen first (a random
 * flow owner: sockets spread) and the port picked among those whose
 * replies the link's RSS steers there; bound, the home follows the port.
 * Stored (release) before the PCB entry is updated and before the
 * connection exists. Control thread. */
static int connect_flow_home(struct mpnet_stack *s, struct mpnet_sock *so,
                             const struct connect_arg *a)
{
        bool bound = (so->flags & SOF_BOUND) != 0;
        unsigned h;
        int p;

        if (!bound)
                atomic_store_explicit(&so->home,
                                      (uint8_t)stack_flow_owner(s, (uint32_t)stack_random(s)),
                                      memory_order_release);
        else if (sock_home(so) != 0)
                return 0; /* homed already (a second connect) */
        if (!bound) {
                p = tcp_port_pick_steered(s, so, a->src, a->dst, a->port);
                if (p < 0) {
                        atomic_store_explicit(&so->home, 0, memory_order_release);
                        return p;
                }
                so->lport = (uint16_t)p;
                so->flags |= SOF_BOUND | SOF_LADDR_AUTO;
        }
        h = tcp_flow_home(s, so->bound_if, a->src, so->lport, a->dst, a->port);
        if (h == sock_home(so))
                return 0;
        atomic_store_explicit(&so->home, (uint8_t)h, memory_order_release);
        return tcp_pcb_set(s, so, so->lport, false);
}

int tcp_connect(struct mpnet_stack *s, struct mpnet_sock *so, const struct sockaddr *addr,
                socklen_t len)
{
        struct connect_arg a;
        int err;

        if (addr == NULL)
                return -EINVAL;
        if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
                const struct sockaddr_in *sa = (const void *)addr;

                if (so->family == AF_INET6 && (so->flags & SOF_V6ONLY))
                        return -ENETUNREACH;
                addr_v4mapped(a.dst, ntohl(sa->sin_addr.s_addr));
                a.port = ntohs(sa->sin_port);
        } else if (addr->sa_family == AF_INET6 && so->family == AF_INET6 &&
                   len >= (socklen_t)sizeof(struct sockaddr_in6)) {
                const struct sockaddr_in6 *sa = (const void *)addr;

                memcpy(a.dst, &sa->sin6_addr, 16);
                a.port = ntohs(sa->sin6_port);
        } else {
                return addr->sa_family == AF_INET || addr->sa_family == AF_INET6 ? -EINVAL
                                                                                 : -EAFNOSUPPORT;
        }
        if (addr_is_any46(a.dst) || a.port == 0)
                return -ENETUNREACH;
        memcpy(a.src, so->laddr, 16);
        if (addr_is_any46(a.src)) {
                if (addr_is_v4mapped(a.dst)) {
                        uint32_t v4 = 0;

                        err = ip4_src_select(s, addr_v4(a.dst), so->bound_if, &v4);
                        addr_v4mapped(a.src, v4);
                } else {
                        err = mpnet_ip6_src_select(s, a.dst, so->bound_if, a.src);
                }
                if (err != 0)
                        return err;
        }
        if (so->home_want == MPNET_HOME_FLOW) {
                err = connect_flow_home(s, so, &a);
                if (err != 0)
                        return err;
        }
        if (!(so->flags & SOF_BOUND)) {
                /* RFC 6056 Algorithm 4, steered to the socket's home. */
                int p = tcp_port_pick_steered(s, so, a.src, a.dst, a.port);

                if (p < 0)
                        return p;
                so->lport = (uint16_t)p;
                so->flags |= SOF_BOUND | SOF_LADDR_AUTO;
        }
        return sock_home_call(so, connect_home, &a);
}
