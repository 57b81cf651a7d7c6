/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The socket layer: descriptors, addresses, options, the receive queue and
 * the calls of include/mpnet/socket.h. UDP's own part (input, output, the
 * PCB table) is l4/udp.c. Threads: l4/socket.h.
 *
 * A socket closed from inside a callback (mpnet_sock_set_cb) may still be
 * in the hands of the delivery that called it (a broadcast being copied to
 * several sockets): close takes it out of every table and frees its
 * queue at once, but the object itself waits on a list until a socket call
 * made outside any callback (or the stack's end) hands it to
 * stack_defer().
 */
#define _GNU_SOURCE /* struct in6_pktinfo (RFC 3542) */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/udp.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "l4/pcb.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define UDP4_PAYLOAD_MAX 65507u                     /* 65535 - 20 - 8 */
#define UDP6_PAYLOAD_MAX 65527u                     /* 65535 - 8 (RFC 8200: no jumbograms) */
#define TX_HEADROOM      (MPNET_UDP_HLEN + 40 + 14) /* UDP, IPv6, Ethernet */
#define SOCK_ALIGN       64u                        /* a cache line */
#define SOCK_SIZE        ((sizeof(struct mpnet_sock) + SOCK_ALIGN - 1) / SOCK_ALIGN * SOCK_ALIGN)
/* Issue 15's memory budget for a datagram socket, buffers aside: the
 * socket (cache-line aligned), its descriptor slot and its PCB entry. */
_Static_assert(SOCK_SIZE + sizeof(struct mpnet_sock *) + sizeof(struct pcb_ent) <= 512,
               "a socket costs more than 512 bytes without its buffers");
/* Freed sockets kept for the next (a netperf TCP_CRR transaction opened
 * and freed two, about 1,700 of its instructions in aligned_alloc and
 * free). */
#define SOCK_CACHE_MAX 64

/* sock_state, extended with what only this file sees. */
struct sock_mod {
        struct sock_state st;
        unsigned cb_depth;        /* callbacks running (sock_enqueue) */
        struct mpnet_sock **dead; /* closed, not yet handed to stack_defer */
        unsigned n_dead, cap_dead;
        /* Freed sockets for sock_new, the control thread's alone (it frees
         * sockets after their grace period and makes most); a worker
         * (a listener's home accepting) uses malloc. Bounded, freed with
         * the stack. */
        unsigned n_cache;
        struct mpnet_sock *cache[SOCK_CACHE_MAX];
};

static inline struct sock_mod *smod(struct mpnet_stack *s)
{
        return s->g.mods[MOD_sock].state;
}

/* ---- descriptors ---- */

struct mpnet_sock *sock_get(struct mpnet_stack *s, int fd)
{
        struct sock_fdtab *t = atomic_load_explicit(&smod(s)->st.tab, memory_order_acquire);

        if (fd < 0 || t == NULL || (unsigned)fd >= t->cap)
                return NULL;
        return atomic_load_explicit(&t->so[fd], memory_order_acquire);
}

void sock_handoff_name(const struct mpnet_sock *so, struct mpnet_pkt *p)
{
        uint8_t *b = mpnet_pkt_buf(p) + HANDOFF_HDR;

        memcpy(b, &so->fd, 4);
        memcpy(b + 4, &so->gen, 4);
}

struct mpnet_sock *sock_handed(struct wctx *w, const struct mpnet_pkt *p)
{
        const uint8_t *b = mpnet_pkt_buf((struct mpnet_pkt *)p) + HANDOFF_HDR;
        struct mpnet_sock *so;
        uint32_t gen;
        int fd;

        memcpy(&fd, b, 4);
        memcpy(&gen, b + 4, 4);
        so = sock_get(w->s, fd);
        return so != NULL && so->gen == gen && sock_home(so) == w->id ? so : NULL;
}

static void tab_free(void *t)
{
        free(t);
}

/* The lowest free descriptor for so, the table grown when full. Any
 * context (the control thread; a listener's home worker accepting): under
 * the table's lock. An outgrown table stays readable until the stack's
 * end (a reader may still hold it; the tables outgrown add up to less
 * than the current one), since a worker cannot start a grace period. */
static int fd_alloc(struct mpnet_stack *s, struct mpnet_sock *so)
{
        struct sock_mod *m = smod(s);
        struct sock_fdtab *t, *n;
        unsigned i;

        pthread_mutex_lock(&m->st.lock);
        t = atomic_load_explicit(&m->st.tab, memory_order_relaxed);
        i = m->st.lowest_free;
        while (i < t->cap && atomic_load_explicit(&t->so[i], memory_order_relaxed) != NULL)
                i++;
        if (i == t->cap) {
                unsigned cap = t->cap * 2;

                n = t->cap < SOCK_MAX_FDS ? calloc(1, sizeof(*n) + cap * sizeof(n->so[0])) : NULL;
                if (n == NULL) {
                        pthread_mutex_unlock(&m->st.lock);
                        return t->cap < SOCK_MAX_FDS ? -ENOMEM : -EMFILE;
                }
                n->cap = cap;
                n->old = t;
                for (unsigned k = 0; k < t->cap; k++)
                        atomic_store_explicit(&n->so[k],
                                              atomic_load_explicit(&t->so[k], memory_order_relaxed),
                                              memory_order_relaxed);
                atomic_store_explicit(&m->st.tab, n, memory_order_release);
                t = n;
        }
        so->fd = (int)i;
        atomic_store_explicit(&t->so[i], so, memory_order_release);
        m->st.lowest_free = i + 1;
        m->st.n_open++;
        pthread_mutex_unlock(&m->st.lock);
        return (int)i;
}

static void fd_release(struct mpnet_stack *s, int fd)
{
        struct sock_mod *m = smod(s);
        struct sock_fdtab *t;

        pthread_mutex_lock(&m->st.lock);
        t = atomic_load_explicit(&m->st.tab, memory_order_relaxed);
        atomic_store_explicit(&t->so[fd], NULL, memory_order_release);
        if ((unsigned)fd < m->st.lowest_free)
                m->st.lowest_free = (unsigned)fd;
        m->st.n_open--;
        pthread_mutex_unlock(&m->st.lock);
}

/* Keep so (whose parts are freed) for sock_new, or free it. */
static void sock_cache_put(struct mpnet_stack *s, struct mpnet_sock *so)
{
        /* NULL: the module's state is gone (a later module's fini). */
        struct sock_mod *m = s->g.mods[MOD_sock].state;

        /* The cache is the control context's alone: ask who calls before
         * reading it (a worker's accept() in a callback allocates). */
        if (m != NULL && sock_caller(s) == 0 && m->n_cache < SOCK_CACHE_MAX)
                m->cache[m->n_cache++] = so;
        else
                free(so);
}

unsigned sock_cache_len(struct mpnet_stack *s)
{
        return smod(s)->n_cache;
}

static struct mpnet_sock *sock_cache_get(struct mpnet_stack *s)
{
        struct sock_mod *m = smod(s);

        if (sock_caller(s) == 0 && m->n_cache != 0)
                return m->cache[--m->n_cache];
        /* Cache lines of its own: the receive queue on the first is written
         * per datagram by the home, and sockets homed on two workers must
         * not share a line (one calloc'd after another did). */
        return aligned_alloc(SOCK_ALIGN, SOCK_SIZE);
}

static void sock_free(void *arg)
{
        struct mpnet_sock *so = arg;

        if (so->pr->release != NULL)
                so->pr->release(so);
        if (so->fe != NULL)
                sock_fe_free(so);
        free(atomic_load_explicit(&so->mc, memory_order_relaxed));
        sock_cache_put(so->s, so);
}

/* Closed sockets to stack_defer(), unless a callback runs. */
static void dead_flush(struct mpnet_stack *s)
{
        struct sock_mod *m = smod(s);

        if (m->cb_depth != 0)
                return;
        while (m->n_dead > 0)
                stack_defer(s, sock_free, m->dead[--m->n_dead]);
}

/* The open socket fd for a call, or NULL (one whose close began on its
 * home worker too). The dead list is the control thread's. */
static struct mpnet_sock *sock_call(struct mpnet_stack *s, int fd)
{
        struct mpnet_sock *so;

        if (sock_caller(s) == 0 && smod(s)->n_dead != 0)
                dead_flush(s);
        so = sock_get(s, fd);
        if (so != NULL && atomic_load_explicit(&so->closing, memory_order_acquire))
                return NULL;
        return so;
}

/* Whether the caller may use so's data path and home-owned fields: the
 * home context's thread (the control thread for a socket homed there). */
static bool on_home(const struct mpnet_sock *so)
{
        return sock_home(so) == sock_caller(so->s);
}

/* ---- the receive queue (home context) ---- */

uint32_t sock_events(const struct mpnet_sock *so)
{
        return atomic_load(&((struct mpnet_sock *)so)->events) & ~SOCK_EV_WAITER;
}

/* The event-set engine's readiness query (any thread). */
static uint32_t sock_ev_poll(void *obj)
{
        return sock_events(obj);
}

struct ev_src *sock_ev_src(struct mpnet_stack *s, int fd)
{
        struct mpnet_sock *so = sock_get(s, fd);

        return so != NULL ? &so->ev : NULL;
}

void sock_lower(struct mpnet_sock *so, uint32_t ev)
{
        atomic_fetch_and(&so->events, ~ev);
}

void sock_set_upcall(struct mpnet_sock *so, sock_upcall_fn fn, void *arg)
{
        so->upcall = fn;
        so->upcall_arg = arg;
}

void sock_raise(struct mpnet_sock *so, uint32_t ev)
{
        /* Published (seq_cst) before the sets are told: a waiter that
         * collects the notification sees the new mask (l4/evset.h). */
        uint32_t rose = ev & ~atomic_fetch_or(&so->events, ev);

        if (rose == 0)
                return;
        if (so->upcall != NULL)
                so->upcall(so->upcall_arg, rose);
        if (ev_src_watched(&so->ev))
                ev_src_notify(&so->ev, rose);
}

static uint32_t charge_of(const struct mpnet_pkt *p)
{
        return (uint32_t)p->nb_segs * SOCK_TRUESIZE;
}

bool sock_enqueue(struct mpnet_sock *so, struct mpnet_pkt *p)
{
        int r = sock_enqueue_nocb(so, p);

        /* Last: the callback may close so. */
        if (r > 0)
                sock_run_cb(so);
        return r >= 0;
}

int sock_enqueue_nocb(struct mpnet_sock *so, struct mpnet_pkt *p)
{
        uint32_t charge = charge_of(p);
        bool was_empty;

        if (so->fe != NULL)
                return sock_fe_enqueue(so, p, charge) ? 0 : -1; /* the front end's ring */
        /* A full buffer drops (Linux __udp_enqueue_schedule_skb: the
         * first datagram of an empty queue always fits). */
        if ((so->flags & (SOF_SHUT_RD | SOF_CLOSED)) ||
            (so->rq_bytes != 0 &&
             so->rq_bytes + charge > atomic_load_explicit(&so->rcvbuf, memory_order_relaxed))) {
                mpnet_pkt_free(p);
                return -1;
        }
        mpnet_pkt_adj(p, so->pr->rx_skip);
        *sock_rq_link(p) = NULL;
        was_empty = so->rq_head == NULL;
        if (was_empty)
                so->rq_head = p;
        else
                *sock_rq_link(so->rq_tail) = p;
        so->rq_tail = p;
        so->rq_bytes += charge;
        so->rq_n++;
        if (!was_empty)
                return 0;
        sock_raise(so, EPOLLIN);
        return so->cb != NULL;
}

void sock_run_cb(struct mpnet_sock *so)
{
        struct sock_mod *m;

        if (so->cb == NULL)
                return;
        if (sock_home(so) == 0) {
                m = smod(so->s);
                m->cb_depth++;
                so->cb(so->s, so->fd, so->cb_arg);
                m->cb_depth--;
        } else {
                /* On a worker: its calls are the home's (sock_cur); a
                 * close from it leaves the object to the control thread,
                 * which frees it after a grace period, past this loop. */
                struct wctx *prev = sock_cur;

                sock_cur = so->s->ctx[sock_home(so)];
                so->cb(so->s, so->fd, so->cb_arg);
                sock_cur = prev;
        }
}

static struct mpnet_pkt *rq_pop(struct mpnet_sock *so)
{
        struct mpnet_pkt *p = so->rq_head;

        if (p == NULL)
                return NULL;
        so->rq_head = *sock_rq_link(p);
        if (so->rq_head == NULL) {
                so->rq_tail = NULL;
                sock_lower(so, EPOLLIN);
        }
        so->rq_bytes -= charge_of(p);
        so->rq_n--;
        return p;
}

static void rq_flush(struct mpnet_sock *so)
{
        struct mpnet_pkt *p;

        while ((p = rq_pop(so)) != NULL)
                mpnet_pkt_free(p);
}

void sock_rq_flush(struct mpnet_sock *so)
{
        rq_flush(so);
}

/* One walk: the entries that match leave, the others keep their order. */
unsigned sock_rq_take(struct mpnet_sock *so, bool (*match)(const struct mpnet_pkt *p, void *arg),
                      void *arg, struct mpnet_pkt **out, unsigned n)
{
        struct mpnet_pkt **link = &so->rq_head, *prev = NULL, *p;
        unsigned k = 0;

        while (k < n && (p = *link) != NULL) {
                if (!match(p, arg)) {
                        prev = p;
                        link = sock_rq_link(p);
                        continue;
                }
                *link = *sock_rq_link(p);
                if (so->rq_tail == p)
                        so->rq_tail = prev;
                so->rq_bytes -= charge_of(p);
                so->rq_n--;
                out[k++] = p;
        }
        if (k != 0 && so->rq_head == NULL)
                sock_lower(so, EPOLLIN);
        return k;
}

/* ---- addresses ---- */

/* addr (of so's family; AF_INET6 takes v4-mapped) as 16 bytes and a port.
 * scope: sin6_scope_id, or NULL. */
static int sa_parse(const struct mpnet_sock *so, const struct sockaddr *sa, socklen_t len,
                    uint8_t a[16], uint16_t *port, uint32_t *scope)
{
        if (sa == NULL)
                return -EFAULT;
        if (len < (socklen_t)sizeof(sa_family_t))
                return -EINVAL;
        if (scope != NULL)
                *scope = 0;
        if (so->family == AF_INET) {
                struct sockaddr_in sin;

                if (len < (socklen_t)sizeof(sin))
                        return -EINVAL;
                memcpy(&sin, sa, sizeof(sin));
                if (sin.sin_family != AF_INET)
                        return -EAFNOSUPPORT;
                if (sin.sin_addr.s_addr == 0)
                        memset(a, 0, 16);
                else
                        addr_v4mapped(a, ntohl(sin.sin_addr.s_addr));
                *port = ntohs(sin.sin_port);
                return 0;
        } else {
                struct sockaddr_in6 sin6;

                if (len < (socklen_t)sizeof(sin6))
                        return -EINVAL;
                memcpy(&sin6, sa, sizeof(sin6));
                if (sin6.sin6_family != AF_INET6)
                        return -EAFNOSUPPORT;
                memcpy(a, &sin6.sin6_addr, 16);
                *port = ntohs(sin6.sin6_port);
                if (scope != NULL)
                        *scope = sin6.sin6_scope_id;
                return 0;
        }
}

/* a and port as so's family's sockaddr, cut to *len; *len its size. */
static void sa_fill(const struct mpnet_sock *so, const uint8_t a[16], uint16_t port,
                    struct sockaddr *sa, socklen_t *len)
{
        union {
                struct sockaddr_in sin;
                struct sockaddr_in6 sin6;
        } u;
        socklen_t n;

        memset(&u, 0, sizeof(u));
        if (so->family == AF_INET) {
                u.sin.sin_family = AF_INET;
                u.sin.sin_port = htons(port);
                u.sin.sin_addr.s_addr = htonl(addr_v4(a));
                n = sizeof(u.sin);
        } else {
                u.sin6.sin6_family = AF_INET6;
                u.sin6.sin6_port = htons(port);
                memcpy(&u.sin6.sin6_addr, a, 16);
                n = sizeof(u.sin6);
        }
        if (sa != NULL && len != NULL)
                memcpy(sa, &u, *len < n ? *len : n);
        if (len != NULL)
                *len = n;
}

/* The address of a received datagram's source and destination, from its
 * IP header (still in the first buffer), and its source port. */
struct rx_info {
        uint8_t src[16], dst[16];
        uint16_t sport;
        uint8_t ttl, tos;
        bool v4;
};

static void rx_info(struct mpnet_pkt *p, struct rx_info *ri)
{
        const uint8_t *ip = mpnet_pkt_buf(p) + p->l3_off, *uh = mpnet_pkt_buf(p) + p->l4_off;

        ri->v4 = (ip[0] >> 4) == 4;
        if (ri->v4) {
                addr_v4mapped(ri->src, mpnet_get_be32(ip + 12));
                addr_v4mapped(ri->dst, mpnet_get_be32(ip + 16));
                ri->ttl = ip[8];
                ri->tos = ip[1];
        } else {
                memcpy(ri->src, ip + 8, 16);
                memcpy(ri->dst, ip + 24, 16);
                ri->ttl = ip[7];
                ri->tos = (uint8_t)((mpnet_get_be16(ip) >> 4) & 0xff);
        }
        ri->sport = mpnet_get_be16(uh);
}

static bool addr_is_local(struct mpnet_stack *s, const uint8_t a[16])
{
        if (addr_is_v4mapped(a))
                return stack_is_local4(s, addr_v4(a));
        return stack_is_local6(s, a);
}

static bool addr_is_mc(const uint8_t a[16])
{
        return addr_is_v4mapped(a) ? mpnet_ip4_is_multicast(addr_v4(a)) : mpnet_ip6_is_multicast(a);
}

/* ---- calls ---- */

int mpnet_socket(struct mpnet_stack *s, int domain, int type, int protocol)
{
        int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
        const struct sock_proto *pr = &sock_udp_proto;
        struct mpnet_sock *so;
        int fd, err;

        if (sock_caller(s) != 0)
                return -EPERM; /* a control call: not from a worker */
        if (smod(s)->n_dead != 0)
                dead_flush(s);
        if (domain != AF_INET && domain != AF_INET6)
                return -EAFNOSUPPORT;
        switch (kind) {
        case SOCK_DGRAM:
                /* Linux's ICMP echo sockets (net/ipv4/ping.c). */
                if ((domain == AF_INET && protocol == IPPROTO_ICMP) ||
                    (domain == AF_INET6 && protocol == IPPROTO_ICMPV6))
                        pr = &sock_ping_proto;
                else if (protocol != 0 && protocol != IPPROTO_UDP)
                        return -EPROTONOSUPPORT;
                else
                        protocol = IPPROTO_UDP;
                break;
        case SOCK_RAW:
                /* One protocol each: 0 names none (Linux: EPROTONOSUPPORT). */
                if (protocol <= 0 || protocol > 255)
                        return -EPROTONOSUPPORT;
                pr = &sock_raw_proto;
                break;
        case SOCK_STREAM: /* l4/tcp_sock.c */
                if (protocol != 0 && protocol != IPPROTO_TCP)
                        return -EPROTONOSUPPORT;
                protocol = IPPROTO_TCP;
                pr = &sock_tcp_proto;
                break;
        case SOCK_SEQPACKET:
                return -ESOCKTNOSUPPORT;
        default:
                return -EINVAL;
        }
        so = sock_new(s, domain, type, protocol, pr);
        if (so == NULL)
                return -ENOMEM;
        fd = fd_alloc(s, so);
        if (fd < 0) {
                free(so);
                return fd;
        }
        if (pr->open != NULL && (err = pr->open(s, so)) != 0) {
                fd_release(s, fd);
                free(so);
                return err;
        }
        return fd;
}

/* A TCP socket for a connection accepted on home (flags: SOCK_NONBLOCK,
 * SOCK_CLOEXEC), homed there before its descriptor is published. Any
 * context: the control thread, or the listener's home worker. */
int sock_open_accepted(struct mpnet_stack *s, int domain, int flags, unsigned home)
{
        struct mpnet_sock *so =
            sock_new(s, domain, SOCK_STREAM | flags, IPPROTO_TCP, &sock_tcp_proto);
        int fd;

        if (so == NULL)
                return -ENOMEM;
        so->home_want = (int)home;
        atomic_store_explicit(&so->home, (uint8_t)home, memory_order_relaxed);
        (void)so->pr->open(s, so);
        fd = fd_alloc(s, so); /* publishes it (release) */
        if (fd < 0)
                free(so);
        return fd;
}

struct mpnet_sock *sock_new(struct mpnet_stack *s, int domain, int type, int protocol,
                            const struct sock_proto *pr)
{
        int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct mpnet_sock *so;

        so = sock_cache_get(s);
        if (so == NULL)
                return NULL;
        memset(so, 0, sizeof(*so));
        so->s = s;
        so->fd = -1;
        so->family = (uint8_t)domain;
        so->type = (uint8_t)kind;
        so->proto = (uint8_t)protocol;
        so->pr = pr;
        so->raw_csum = -1;
        atomic_init(&so->home, 0);
        so->home_want = MPNET_HOME_CONTROL;
        so->gen = atomic_fetch_add_explicit(&smod(s)->st.gen, 1, memory_order_relaxed) + 1;
        atomic_init(&so->rcvbuf, SOCK_RCVBUF_DEFAULT);
        so->sndbuf = SOCK_RCVBUF_DEFAULT;
        atomic_init(&so->events, EPOLLOUT); /* a datagram socket can always send */
        ev_src_init(&so->ev, sock_ev_poll, so);
        so->flags = SOF_MC_LOOP4 | SOF_MC_LOOP6 | (type & SOCK_NONBLOCK ? SOF_NONBLOCK : 0) |
                    (type & SOCK_CLOEXEC ? SOF_CLOEXEC : 0);
        so->ttl = 64;
        so->mc_ttl = 1;
        so->mc_hops6 = 1;
        so->pmtudisc4 = IP_PMTUDISC_WANT; /* Linux's default */
        so->pmtudisc6 = IPV6_PMTUDISC_WANT;
        return so;
}

void sock_internal_free(struct mpnet_sock *so)
{
        if (so == NULL)
                return;
        rq_flush(so);
        sock_errq_flush(so);
        ev_src_fini(&so->ev);
        sock_free(so);
}

int mpnet_bind(struct mpnet_stack *s, int fd, const struct sockaddr *addr, socklen_t len)
{
        struct mpnet_sock *so = sock_call(s, fd);
        uint8_t a[16];
        uint16_t port;
        uint32_t scope;
        int err;

        if (so == NULL)
                return -EBADF;
        if (sock_caller(s) != 0)
                return -EPERM;
        err = sa_parse(so, addr, len, a, &port, &scope);
        if (err != 0)
                return err;
        if (so->flags & SOF_BOUND)
                return -EINVAL;
        /* RFC 3493 5.3: a V6ONLY socket has no IPv4 address. */
        if (so->family == AF_INET6 && (so->flags & SOF_V6ONLY) && addr_is_v4mapped(a))
                return -EINVAL;
        if (!addr_is_any(a) && !addr_is_mc(a) && !addr_is_local(s, a))
                return -EADDRNOTAVAIL;
        memcpy(so->laddr, a, 16);
        if (scope != 0 && mpnet_ip6_is_link_local(a) && so->bound_if == 0)
                so->bound_if = (uint8_t)scope;
        if (port == 0) {
                err = so->pr->port_pick(s, so);
                if (err > 0)
                        port = (uint16_t)err, err = 0;
        } else {
                err = so->pr->pcb_set(s, so, port, true);
        }
        if (err != 0) {
                memset(so->laddr, 0, 16);
                return err;
        }
        so->lport = port;
        so->flags |= SOF_BOUND;
        return 0;
}

/* An ephemeral port on the wildcard address, for an unbound socket that
 * sends or connects. */
static int autobind(struct mpnet_stack *s, struct mpnet_sock *so)
{
        int port;

        if (so->flags & SOF_BOUND)
                return 0;
        port = so->pr->port_pick(s, so);
        if (port < 0)
                return port;
        so->lport = (uint16_t)port;
        so->flags |= SOF_BOUND | SOF_LADDR_AUTO;
        return 0;
}

/* Whether an IPv4 destination is a broadcast (needs SO_BROADCAST). */
static bool ip4_dst_bcast(struct mpnet_stack *s, uint32_t dst)
{
        const struct fib_nh *nh;

        if (mpnet_ip4_is_limited_bcast(dst))
                return true;
        nh = fib4_lookup(&s->fib, fib4_table(s, 0), dst);
        return nh != NULL && nh->type == MPNET_NH_CONNECTED && nh->plen < 31 &&
               (dst | ip4_mask(nh->plen)) == UINT32_MAX;
}

/* Whether so may send to a (errors as Linux). */
static int dst_check(struct mpnet_stack *s, const struct mpnet_sock *so, const uint8_t a[16])
{
        if (addr_is_v4mapped(a)) {
                if (so->family == AF_INET6 && (so->flags & SOF_V6ONLY))
                        return -ENETUNREACH;
                if (!(so->flags & SOF_BROADCAST) && ip4_dst_bcast(s, addr_v4(a)))
                        return -EACCES;
        } else if (so->family == AF_INET6 && addr_is_any(a)) {
                /* Linux sends to :: as to ::1; mpnet has no loopback
                 * interface. */
                return -ENETUNREACH;
        }
        return 0;
}

/* The interface a datagram to dst leaves by, unless the call named one. */
static int oif_for(const struct mpnet_sock *so, const uint8_t dst[16], uint32_t scope)
{
        if (addr_is_v4mapped(dst)) {
                if (mpnet_ip4_is_multicast(addr_v4(dst)) && so->mc_if4 != 0)
                        return so->mc_if4;
        } else {
                if (mpnet_ip6_is_multicast(dst) && so->mc_if6 != 0)
                        return so->mc_if6;
                if (scope != 0 && (mpnet_ip6_is_multicast(dst) || mpnet_ip6_is_link_local(dst)))
                        return (int)scope;
        }
        return so->bound_if;
}

/* The source a datagram from so to dst would have. */
static int src_for(struct mpnet_stack *s, const uint8_t dst[16], int oif, uint8_t src[16])
{
        if (addr_is_v4mapped(dst)) {
                uint32_t a;
                int err = ip4_src_select(s, addr_v4(dst), oif, &a);

                if (err == 0)
                        addr_v4mapped(src, a);
                return err;
        }
        return mpnet_ip6_src_select(s, dst, oif, src);
}

/* MPNET_HOME_FLOW: connect homes so on the context that receives its
 * reply flow. Unbound, a context is chosen first (the flow owner of a
 * random hash: sockets spread over the workers) and the port is picked
 * among those whose replies the link steers there (udp_port_pick); the
 * home is then what the link says of the flow with that port. Bound, the
 * port is given and the home follows it. The home is stored (release)
 * before the PCB entry that leads input to so is published. */
static int connect_home(struct mpnet_stack *s, struct mpnet_sock *so, bool bound)
{
        unsigned h;
        int err;

        if (!bound) {
                atomic_store_explicit(&so->home,
                                      (uint8_t)stack_flow_owner(s, (uint32_t)stack_random(s)),
                                      memory_order_release);
                err = autobind(s, so);
                if (err != 0)
                        return err;
                h = udp_flow_home(s, so, so->lport);
                if (h == sock_home(so))
                        return 0;
                atomic_store_explicit(&so->home, (uint8_t)h, memory_order_release);
                return udp_pcb_set(s, so, so->lport, false);
        }
        atomic_store_explicit(&so->home, (uint8_t)udp_flow_home(s, so, so->lport),
                              memory_order_release);
        return udp_pcb_set(s, so, so->lport, false);
}

int mpnet_connect(struct mpnet_stack *s, int fd, const struct sockaddr *addr, socklen_t len)
{
        struct mpnet_sock *so = sock_call(s, fd);
        uint8_t a[16], laddr[16];
        uint16_t port;
        uint32_t scope;
        bool bound;
        int err;

        if (so == NULL)
                return -EBADF;
        if (sock_caller(s) != 0)
                return -EPERM;
        if (so->type == SOCK_STREAM)
                return tcp_connect(s, so, addr, len);
        if (sock_home(so) != 0 && (so->flags & SOF_CONNECTED))
                return -EISCONN; /* a worker-homed socket's flow is fixed */
        if (addr != NULL && len >= (socklen_t)sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
                /* POSIX: dissolve the association. Linux also forgets a
                 * source that connect chose. */
                if (!(so->flags & SOF_CONNECTED))
                        return 0;
                so->flags &= ~(uint32_t)SOF_CONNECTED;
                memset(so->faddr, 0, 16);
                so->fport = 0;
                if (so->flags & SOF_LADDR_AUTO)
                        memset(so->laddr, 0, 16);
                return so->pr->pcb_set(s, so, so->lport, false);
        }
        err = sa_parse(so, addr, len, a, &port, &scope);
        if (err != 0)
                return err;
        if (so->family == AF_INET6 && addr_is_any(a))
                return -ENETUNREACH;
        if (so->family == AF_INET && addr_is_any(a))
                return -ENETUNREACH;
        err = dst_check(s, so, a);
        if (err != 0)
                return err;
        memcpy(laddr, so->laddr, 16);
        if (addr_is_any46(so->laddr)) {
                err = src_for(s, a, oif_for(so, a, scope), laddr);
                if (err != 0)
                        return err;
        }
        bound = (so->flags & SOF_BOUND) != 0;
        if (bound && addr_is_any46(so->laddr))
                so->flags |= SOF_LADDR_AUTO;
        memcpy(so->laddr, laddr, 16);
        memcpy(so->faddr, a, 16);
        so->fport = port;
        so->flags |= SOF_CONNECTED;
        if (so->home_want == MPNET_HOME_FLOW) {
                err = connect_home(s, so, bound);
        } else if (!bound) {
                err = autobind(s, so);
        } else {
                err = so->pr->pcb_set(s, so, so->lport, false);
        }
        if (err != 0) {
                if (so->home_want == MPNET_HOME_FLOW && !bound)
                        atomic_store_explicit(&so->home, 0, memory_order_release);
                so->flags &= ~(uint32_t)SOF_CONNECTED;
                memset(so->faddr, 0, 16);
                so->fport = 0;
                if (!bound || (so->flags & SOF_LADDR_AUTO))
                        memset(so->laddr, 0, 16);
                if (!bound)
                        so->flags &= ~(uint32_t)SOF_LADDR_AUTO;
        }
        return err;
}

int mpnet_getsockname(struct mpnet_stack *s, int fd, struct sockaddr *addr, socklen_t *len)
{
        struct mpnet_sock *so = sock_call(s, fd);

        if (so == NULL)
                return -EBADF;
        if (len == NULL)
                return -EFAULT;
        sa_fill(so, so->laddr, so->lport, addr, len);
        return 0;
}

int mpnet_getpeername(struct mpnet_stack *s, int fd, struct sockaddr *addr, socklen_t *len)
{
        struct mpnet_sock *so = sock_call(s, fd);

        if (so == NULL)
                return -EBADF;
        if (!(so->flags & SOF_CONNECTED))
                return -ENOTCONN;
        if (len == NULL)
                return -EFAULT;
        sa_fill(so, so->faddr, so->fport, addr, len);
        return 0;
}

/* What the ancillary data of a send asks. */
struct tx_cm {
        uint8_t src[16];
        bool has_src;
        bool has_psum; /* psum: the payload's sum, taken as it was copied in */
        int oif, ttl, tos;
        uint64_t psum;
};

static int cm_int(const struct cmsghdr *c, int *out, int max)
{
        size_t n = c->cmsg_len - CMSG_LEN(0);
        int v;

        if (n == sizeof(int)) {
                memcpy(&v, CMSG_DATA(c), sizeof(v));
        } else if (n == 1) {
                v = *(const uint8_t *)CMSG_DATA(c);
        } else {
                return -EINVAL;
        }
        if (v < -1 || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

static int tx_cmsg(struct mpnet_stack *s, const struct mpnet_sock *so, const struct msghdr *msg,
                   struct tx_cm *cm)
{
        cm->has_src = cm->has_psum = false;
        cm->oif = 0;
        cm->ttl = cm->tos = -1;
        if (msg->msg_control == NULL || msg->msg_controllen == 0)
                return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c != NULL;
             c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
                size_t n;
                int err = 0;

                if (c->cmsg_len < CMSG_LEN(0))
                        return -EINVAL;
                n = c->cmsg_len - CMSG_LEN(0);
                if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                        struct in_pktinfo pi;

                        if (n != sizeof(pi))
                                return -EINVAL;
                        memcpy(&pi, CMSG_DATA(c), sizeof(pi));
                        cm->oif = pi.ipi_ifindex;
                        if (pi.ipi_spec_dst.s_addr != 0) {
                                addr_v4mapped(cm->src, ntohl(pi.ipi_spec_dst.s_addr));
                                cm->has_src = true;
                        }
                } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                           so->family == AF_INET6) {
                        struct in6_pktinfo pi;

                        if (n != sizeof(pi))
                                return -EINVAL;
                        memcpy(&pi, CMSG_DATA(c), sizeof(pi));
                        cm->oif = (int)pi.ipi6_ifindex;
                        if (!addr_is_any(pi.ipi6_addr.s6_addr)) {
                                memcpy(cm->src, pi.ipi6_addr.s6_addr, 16);
                                cm->has_src = true;
                        }
                } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
                        err = cm_int(c, &cm->ttl, 255);
                        if (err == 0 && cm->ttl == 0)
                                err = -EINVAL;
                } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
                        err = cm_int(c, &cm->tos, 255);
                } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT &&
                           so->family == AF_INET6) {
                        err = cm_int(c, &cm->ttl, 255);
                } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
                           so->family == AF_INET6) {
                        err = cm_int(c, &cm->tos, 255);
                } else {
                        return -EINVAL;
                }
                if (err != 0)
                        return err;
        }
        if (cm->oif < 0 || cm->oif > STACK_MAX_IFACES)
                return -ENODEV;
        if (cm->oif != 0 && stack_iface(s, cm->oif) == NULL)
                return -ENODEV;
        if (cm->has_src && !addr_is_local(s, cm->src))
                return -EADDRNOTAVAIL;
        return 0;
}

/* The checks and the destination of a send; then udp_output. Takes p. */
static ssize_t send_common(struct mpnet_stack *s, struct mpnet_sock *so, struct mpnet_pkt *p,
                           const struct sockaddr *addr, socklen_t alen, const struct tx_cm *cm)
{
        uint8_t dst[16];
        uint16_t dport;
        uint32_t scope = 0, len = p->pkt_len;
        int err;

        if (so->flags & SOF_SHUT_WR) {
                err = -EPIPE;
                goto fail;
        }
        if (addr != NULL) {
                err = sa_parse(so, addr, alen, dst, &dport, &scope);
                if (err != 0)
                        goto fail;
                if (dport == 0 && so->pr->need_port) {
                        err = -EINVAL; /* as Linux udp_sendmsg */
                        goto fail;
                }
        } else if (so->flags & SOF_CONNECTED) {
                memcpy(dst, so->faddr, 16);
                dport = so->fport;
        } else {
                err = -EDESTADDRREQ;
                goto fail;
        }
        if (len > (addr_is_v4mapped(dst) ? UDP4_PAYLOAD_MAX : UDP6_PAYLOAD_MAX)) {
                err = -EMSGSIZE;
                goto fail;
        }
        if (so->family == AF_INET && addr_is_any(dst)) {
                err = -ENETUNREACH;
                goto fail;
        }
        err = dst_check(s, so, dst);
        if (err == 0)
                err = autobind(s, so);
        if (err == 0)
                err = sock_err_take(so); /* a pending error, once (Linux) */
        if (err != 0)
                goto fail;
        err = so->pr->output(s, so, p,
                             &(struct udp_tx){
                                 .src = cm->has_src ? cm->src : NULL,
                                 .dst = dst,
                                 .sport = so->lport,
                                 .dport = dport,
                                 .oif = cm->oif != 0 ? cm->oif : oif_for(so, dst, scope),
                                 .ttl = cm->ttl,
                                 .tos = cm->tos,
                                 .has_psum = cm->has_psum,
                                 .psum = cm->psum,
                                 .w = sock_cur,
                             });
        return err != 0 ? err : (ssize_t)len;
fail:
        mpnet_pkt_free(p);
        return err;
}

ssize_t mpnet_sendmsg(struct mpnet_stack *s, int fd, const struct msghdr *msg, int flags)
{
        struct mpnet_sock *so = sock_call(s, fd);
        struct mpnet_pkt *head = NULL, **tail = &head;
        struct tx_cm cm;
        size_t total = 0;
        uint16_t nseg = 0;
        int err;

        if (so == NULL)
                return -EBADF;
        if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL))
                return -EFAULT;
        if (flags & MSG_OOB)
                return -EOPNOTSUPP;
        if (!on_home(so)) /* a stream's send runs on its home (l4/tcp_home.c) */
                return so->type == SOCK_STREAM ? tcp_call_sendmsg(so, msg, flags) : -EBUSY;
        if (so->pr->sendmsg != NULL)
                return so->pr->sendmsg(s, so, msg, flags);
        for (size_t i = 0; i < msg->msg_iovlen; i++) {
                if (msg->msg_iov[i].iov_len > 0 && msg->msg_iov[i].iov_base == NULL)
                        return -EFAULT;
                total += msg->msg_iov[i].iov_len;
                if (total > UDP6_PAYLOAD_MAX)
                        return -EMSGSIZE;
        }
        err = tx_cmsg(s, so, msg, &cm);
        if (err != 0)
                return err;
        /* The datagram in as many buffers as it takes, the first with room
         * for the headers. */
        {
                size_t iv = 0, ivoff = 0, left = total;

                do {
                        struct mpnet_pkt *p = mpnet_pkt_alloc(s->pool);
                        uint32_t room, n;
                        uint8_t *b;

                        if (p == NULL) {
                                mpnet_pkt_free(head);
                                STK_INC(s, nobufs);
                                return -ENOBUFS;
                        }
                        if (head != NULL)
                                p->data = mpnet_pkt_buf(p); /* no headers ahead */
                        room = mpnet_pkt_tailroom(p);
                        n = left < room ? (uint32_t)left : room;
                        b = mpnet_pkt_append(p, n);
                        if (msg->msg_iovlen == 1 && n == total) {
                                /* One buffer from one piece: its checksum
                                 * on the way in (udp_output adds the
                                 * headers'), one pass over the bytes. */
                                cm.psum = mpnet_csum_copy(0, b, msg->msg_iov[0].iov_base, n);
                                cm.has_psum = true;
                        }
                        for (uint32_t k = 0; !cm.has_psum && k < n;) {
                                const struct iovec *v = &msg->msg_iov[iv];
                                size_t c = v->iov_len - ivoff;

                                if (c > n - k)
                                        c = n - k;
                                memcpy(b + k, (const uint8_t *)v->iov_base + ivoff, c);
                                k += (uint32_t)c;
                                ivoff += c;
                                if (ivoff == v->iov_len)
                                        iv++, ivoff = 0;
                        }
                        *tail = p;
                        tail = &p->next;
                        nseg++;
                        left -= n;
                } while (left > 0);
                head->pkt_len = (uint32_t)total;
                head->nb_segs = nseg;
        }
        return send_common(s, so, head, msg->msg_name, msg->msg_namelen, &cm);
}

ssize_t mpnet_sendto(struct mpnet_stack *s, int fd, const void *buf, size_t len, int flags,
                     const struct sockaddr *addr, socklen_t alen)
{
        struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
        struct msghdr msg = {
            .msg_name = (void *)(uintptr_t)addr,
            .msg_namelen = addr != NULL ? alen : 0,
            .msg_iov = &iov,
            .msg_iovlen = 1,
        };

        return mpnet_sendmsg(s, fd, &msg, flags);
}

ssize_t mpnet_send_pkt(struct mpnet_stack *s, int fd, struct mpnet_pkt *p,
                       const struct sockaddr *addr, socklen_t alen)
{
        struct mpnet_sock *so = sock_call(s, fd);
        struct tx_cm cm = {.ttl = -1, .tos = -1};

        if (p == NULL)
                return -EFAULT;
        if (so == NULL || !on_home(so)) {
                mpnet_pkt_free(p);
                return so == NULL ? -EBADF : -EBUSY;
        }
        if (mpnet_pkt_headroom(p) < TX_HEADROOM) {
                mpnet_pkt_free(p);
                return -EINVAL;
        }
        return send_common(s, so, p, addr, alen, &cm);
}

/* Append one control message; false when it does not fit. */
static bool cm_put(struct msghdr *msg, size_t *used, int level, int type, const void *data,
                   size_t n)
{
        struct cmsghdr c;
        uint8_t *at = (uint8_t *)msg->msg_control + *used;

        if (*used + CMSG_SPACE(n) > msg->msg_controllen) {
                msg->msg_flags |= MSG_CTRUNC;
                return false;
        }
        memset(at, 0, CMSG_SPACE(n));
        c.cmsg_len = CMSG_LEN(n);
        c.cmsg_level = level;
        c.cmsg_type = type;
        memcpy(at, &c, sizeof(c));
        memcpy(CMSG_DATA((struct cmsghdr *)(void *)at), data, n);
        *used += CMSG_SPACE(n);
        return true;
}

static void rx_cmsg(const struct mpnet_sock *so, struct msghdr *msg, const struct mpnet_pkt *p,
                    const struct rx_info *ri)
{
        size_t used = 0;
        int v;

        if (msg->msg_control == NULL)
                msg->msg_controllen = 0;
        if (ri->v4 && (so->rcv_opts & SOR_PKTINFO4)) {
                struct in_pktinfo pi = {.ipi_ifindex = (int)p->ifindex};

                pi.ipi_spec_dst.s_addr = htonl(addr_v4(ri->dst));
                pi.ipi_addr.s_addr = htonl(addr_v4(ri->dst));
                cm_put(msg, &used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
        }
        if (ri->v4 && (so->rcv_opts & SOR_TTL)) {
                v = ri->ttl;
                cm_put(msg, &used, IPPROTO_IP, IP_TTL, &v, sizeof(v));
        }
        if (ri->v4 && (so->rcv_opts & SOR_TOS))
                cm_put(msg, &used, IPPROTO_IP, IP_TOS, &ri->tos, 1);
        if (so->family == AF_INET6) {
                /* A v4-mapped datagram gives them too, as Linux. */
                if (so->rcv_opts & SOR_PKTINFO6) {
                        struct in6_pktinfo pi = {.ipi6_ifindex = p->ifindex};

                        memcpy(pi.ipi6_addr.s6_addr, ri->dst, 16);
                        cm_put(msg, &used, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
                }
                if (so->rcv_opts & SOR_HOPLIMIT) {
                        v = ri->ttl;
                        cm_put(msg, &used, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, sizeof(v));
                }
                if (so->rcv_opts & SOR_TCLASS) {
                        v = ri->tos;
                        cm_put(msg, &used, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v));
                }
        }
        msg->msg_controllen = used;
}

ssize_t mpnet_recvmsg(struct mpnet_stack *s, int fd, struct msghdr *msg, int flags)
{
        struct mpnet_sock *so = sock_call(s, fd);
        struct mpnet_pkt *p;
        struct rx_info ri;
        uint32_t len, off = 0;
        int err;

        if (so == NULL)
                return -EBADF;
        if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL))
                return -EFAULT;
        if (flags & MSG_OOB)
                return -EOPNOTSUPP;
        if (!on_home(so)) /* a stream's recv runs on its home (l4/tcp_home.c) */
                return so->type == SOCK_STREAM && !(flags & MSG_ERRQUEUE)
                           ? tcp_call_recvmsg(so, msg, flags)
                           : -EBUSY;
        if (flags & MSG_ERRQUEUE)
                return sock_errq_recv(so, msg, flags);
        if (so->pr->recvmsg != NULL)
                return so->pr->recvmsg(s, so, msg, flags);
        err = sock_err_take(so); /* a pending error first, once (Linux) */
        if (err != 0)
                return err;
        p = so->rq_head;
        if (p == NULL)
                return (so->flags & SOF_SHUT_RD) ? 0 : -EAGAIN;
        len = p->pkt_len;
        msg->msg_flags = 0;
        for (size_t i = 0; i < msg->msg_iovlen && off < len; i++) {
                uint32_t n = msg->msg_iov[i].iov_len < len - off ? (uint32_t)msg->msg_iov[i].iov_len
                                                                 : len - off;

                if (n > 0 && msg->msg_iov[i].iov_base == NULL)
                        return -EFAULT;
                if (n == 0)
                        continue;
                if (p->next == NULL)
                        memcpy(msg->msg_iov[i].iov_base, p->data + off, n);
                else
                        mpnet_pkt_read(p, off, msg->msg_iov[i].iov_base, n);
                off += n;
        }
        if (off < len)
                msg->msg_flags |= MSG_TRUNC;
        if (msg->msg_name == NULL && so->rcv_opts == 0) {
                /* Nothing asked of the headers: no name, no control data. */
                msg->msg_namelen = 0;
                msg->msg_controllen = 0;
        } else {
                rx_info(p, &ri);
                if (msg->msg_name != NULL) {
                        socklen_t n = msg->msg_namelen;

                        sa_fill(so, ri.src, so->pr->rx_port ? ri.sport : 0, msg->msg_name, &n);
                        msg->msg_namelen = n;
                } else {
                        msg->msg_namelen = 0;
                }
                rx_cmsg(so, msg, p, &ri);
        }
        if (!(flags & MSG_PEEK))
                mpnet_pkt_free(rq_pop(so));
        return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)off;
}

ssize_t mpnet_recvfrom(struct mpnet_stack *s, int fd, void *buf, size_t len, int flags,
                       struct sockaddr *addr, socklen_t *alen)
{
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr msg = {
            .msg_name = addr,
            .msg_namelen = alen != NULL ? *alen : 0,
            .msg_iov = &iov,
            .msg_iovlen = 1,
        };
        ssize_t r;

        if (addr != NULL && alen == NULL)
                return -EFAULT;
        r = mpnet_recvmsg(s, fd, &msg, flags);
        if (r >= 0 && alen != NULL && addr != NULL)
                *alen = msg.msg_namelen;
        return r;
}

ssize_t mpnet_recv_pkt(struct mpnet_stack *s, int fd, struct mpnet_pkt **pp, struct sockaddr *addr,
                       socklen_t *alen)
{
        struct mpnet_sock *so = sock_call(s, fd);
        struct mpnet_pkt *p;
        struct rx_info ri;

        if (pp == NULL || (addr != NULL && alen == NULL))
                return -EFAULT;
        *pp = NULL;
        if (so == NULL)
                return -EBADF;
        if (!on_home(so))
                return -EBUSY;
        if (so->err != 0)
                return sock_err_take(so);
        if (so->rq_head == NULL)
                return (so->flags & SOF_SHUT_RD) ? 0 : -EAGAIN;
        p = rq_pop(so);
        rx_info(p, &ri);
        if (addr != NULL)
                sa_fill(so, ri.src, so->pr->rx_port ? ri.sport : 0, addr, alen);
        *pp = p;
        return (ssize_t)p->pkt_len;
}

/* ---- batches (sendmmsg, recvmmsg): Linux's loop over the one-message
 * calls, net/socket.c __sys_sendmmsg and do_recvmmsg ---- */

int mpnet_sendmmsg(struct mpnet_stack *s, int fd, struct mpnet_mmsghdr *vec, unsigned int vlen,
                   int flags)
{
        unsigned int i;

        if (vlen > MPNET_MMSG_MAX)
                vlen = MPNET_MMSG_MAX;
        if (vec == NULL && vlen > 0)
                return -EFAULT;
        for (i = 0; i < vlen; i++) {
                ssize_t r = mpnet_sendmsg(s, fd, &vec[i].msg_hdr, flags);

                if (r < 0)
                        /* Linux: what went is the answer; the caller
                         * retries from the message that failed. */
                        return i > 0 ? (int)i : (int)r;
                vec[i].msg_len = (unsigned int)r;
        }
        return (int)i;
}

int mpnet_recvmmsg(struct mpnet_stack *s, int fd, struct mpnet_mmsghdr *vec, unsigned int vlen,
                   int flags, struct timespec *timeout)
{
        unsigned int i;

        (void)timeout; /* nothing blocks on the control thread */
        flags &= ~MSG_WAITFORONE;
        if (vlen > MPNET_MMSG_MAX)
                vlen = MPNET_MMSG_MAX;
        if (vec == NULL && vlen > 0)
                return -EFAULT;
        for (i = 0; i < vlen; i++) {
                struct mpnet_sock *so = i > 0 ? sock_call(s, fd) : NULL;
                ssize_t r;

                /* After the first (which found the socket on its home):
                 * an empty queue ends the batch, so a 0 below is an
                 * empty datagram, not the end of a shut-down socket. */
                if (so != NULL && so->pr->recvmsg == NULL && !(flags & MSG_ERRQUEUE) &&
                    so->rq_head == NULL)
                        break;
                r = mpnet_recvmsg(s, fd, &vec[i].msg_hdr, flags);
                if (r < 0) {
                        if (i == 0)
                                return (int)r;
                        /* Linux keeps the error for the next call (sk_err). */
                        if (r != -EAGAIN && so != NULL)
                                (void)sock_error_report(so, (int)-r, NULL);
                        break;
                }
                vec[i].msg_len = (unsigned int)r;
        }
        return (int)i;
}

static int shutdown_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        int how = *(int *)arg;

        if (so->pr->shutdown != NULL)
                return so->pr->shutdown(w->s, so, how);
        if (!(so->flags & SOF_CONNECTED))
                return -ENOTCONN; /* as Linux for an unconnected datagram socket */
        if (how != SHUT_WR) {
                so->flags |= SOF_SHUT_RD;
                rq_flush(so);
        }
        if (how != SHUT_RD)
                so->flags |= SOF_SHUT_WR;
        sock_raise(
            so,
            (uint32_t)((so->flags & SOF_SHUT_RD) ? EPOLLIN | EPOLLRDHUP : 0) |
                (uint32_t)((so->flags & SOF_SHUT_RD) && (so->flags & SOF_SHUT_WR) ? EPOLLHUP : 0));
        return 0;
}

int mpnet_shutdown(struct mpnet_stack *s, int fd, int how)
{
        struct mpnet_sock *so = sock_call(s, fd);

        if (so == NULL)
                return -EBADF;
        if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
                return -EINVAL;
        /* The flags and the queue are the home's: handed there. */
        return sock_home_call(so, shutdown_home, &how);
}

/* Leave group g (16 bytes, IPv4 v4-mapped) on ifp. */
static void mc_leave1(struct mpnet_iface *ifp, const uint8_t *g)
{
        uint32_t g4;

        if (addr_is_v4mapped(g)) {
                memcpy(&g4, g + 12, 4);
                mc4_leave(ifp, ntohl(g4));
        } else {
                mc6_leave(ifp, g);
        }
}

/* Leave every group so joined. */
static void mc_leave_all(struct mpnet_stack *s, struct mpnet_sock *so)
{
        struct sock_mc *mc = atomic_load_explicit(&so->mc, memory_order_relaxed);

        for (unsigned i = 0; mc != NULL && i < mc->n; i++) {
                struct mpnet_iface *ifp = stack_iface(s, mc->m[i].ifindex);

                if (ifp != NULL)
                        mc_leave1(ifp, mc->m[i].group);
        }
        atomic_store_explicit(&so->mc, NULL, memory_order_release);
        if (mc != NULL)
                stack_defer(s, tab_free, mc);
}

int sock_close_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        (void)w;
        (void)arg;
        /* A delivery still holding it drops (sock_enqueue). */
        so->flags |= SOF_CLOSED;
        so->cb = NULL;
        so->upcall = NULL;
        rq_flush(so);
        sock_errq_flush(so);
        atomic_store_explicit(&so->closing, 1, memory_order_release);
        return 0;
}

void sock_close_ctl(struct mpnet_stack *s, struct mpnet_sock *so)
{
        struct sock_mod *m = smod(s);

        if (so->flags & SOF_BOUND) {
                /* -ENOMEM leaves the entry: try again (the set is a copy). */
                while (so->pr->pcb_unset(s, so) == -ENOMEM)
                        ;
        }
        if (so->pr->close != NULL)
                so->pr->close(s, so);
        mc_leave_all(s, so);
        /* Not so->fd after: workers read it (udp_deliver), it stays as made. */
        fd_release(s, so->fd);
        /* Out of every event set, as close() takes a descriptor out of
         * epoll's (the control mutex: not held here). */
        ev_src_fini(&so->ev);
        if (m->n_dead == m->cap_dead) {
                unsigned cap = m->cap_dead != 0 ? m->cap_dead * 2 : 16;
                struct mpnet_sock **d = realloc(m->dead, cap * sizeof(*d));

                if (d == NULL) {
                        /* No list: hand it to stack_defer now, unless a
                         * callback may still hold it (then it leaks). */
                        if (m->cb_depth == 0)
                                stack_defer(s, sock_free, so);
                        return;
                }
                m->dead = d;
                m->cap_dead = cap;
        }
        m->dead[m->n_dead++] = so;
        dead_flush(s);
}

/* The home's part first (the flags, the queue, the callback are its), then
 * the control thread's (the PCB entry, groups, the descriptor, the event
 * sets, the free after a grace period). From a callback on a home worker
 * the control thread's part is queued for its next poll. */
int mpnet_close(struct mpnet_stack *s, int fd)
{
        struct mpnet_sock *so = sock_call(s, fd);
        unsigned h, me = sock_caller(s);

        if (so == NULL)
                return -EBADF;
        h = sock_home(so);
        if (h != 0 && me == h) {
                sock_close_home(sock_cur, so, NULL);
                sock_post_close(so);
                return 0;
        }
        if (me != 0)
                return -EBUSY;
        sock_home_call(so, sock_close_home, NULL);
        sock_close_ctl(s, so);
        return 0;
}

struct cb_set {
        mpnet_sock_cb fn;
        void *arg;
};

static int set_cb_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        const struct cb_set *c = arg;

        (void)w;
        so->cb = c->fn;
        so->cb_arg = c->arg;
        return 0;
}

int mpnet_sock_set_cb(struct mpnet_stack *s, int fd, mpnet_sock_cb fn, void *arg)
{
        struct mpnet_sock *so = sock_call(s, fd);
        struct cb_set c = {fn, arg};

        if (so == NULL)
                return -EBADF;
        return sock_home_call(so, set_cb_home, &c);
}

static int run_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        const struct cb_set *c = arg;

        (void)w;
        c->fn(so->s, so->fd, c->arg);
        return 0;
}

int mpnet_sock_run(struct mpnet_stack *s, int fd, mpnet_sock_cb fn, void *arg)
{
        struct mpnet_sock *so = sock_call(s, fd);
        struct cb_set c = {fn, arg};

        if (so == NULL)
                return -EBADF;
        if (fn == NULL)
                return -EINVAL;
        return sock_home_call(so, run_home, &c);
}

/* ---- options ---- */

static int opt_int(const void *val, socklen_t len, int *out)
{
        if (val == NULL)
                return -EFAULT;
        if (len >= (socklen_t)sizeof(int)) {
                memcpy(out, val, sizeof(int));
                return 0;
        }
        return -EINVAL;
}

/* IP_TOS, IP_TTL and the like also take one byte on Linux. */
static int opt_int_or_byte(const void *val, socklen_t len, int *out)
{
        if (val != NULL && len == 1) {
                *out = *(const uint8_t *)val;
                return 0;
        }
        return opt_int(val, len, out);
}

static int set_flag(struct mpnet_sock *so, uint32_t f, int v)
{
        if (v)
                so->flags |= f;
        else
                so->flags &= ~f;
        return 0;
}

/* Re-publish the PCB entry after a change it carries. */
static int pcb_refresh(struct mpnet_stack *s, struct mpnet_sock *so)
{
        /* A raw socket's entry exists from its creation (l4/raw.c). */
        return (so->flags & SOF_BOUND) || so->type == SOCK_RAW
                   ? so->pr->pcb_set(s, so, so->lport, false)
                   : 0;
}

/* The interface an IPv4 membership request names: its index (struct
 * ip_mreqn), else the interface with its address, else IP_MULTICAST_IF's,
 * else the stack's only interface (Linux would route the group). */
static struct mpnet_iface *mc4_iface(struct mpnet_stack *s, const struct mpnet_sock *so,
                                     int ifindex, uint32_t addr)
{
        struct mpnet_iface *one = NULL;
        unsigned n = 0;

        if (ifindex != 0)
                return ifindex > 0 && ifindex <= STACK_MAX_IFACES ? stack_iface(s, ifindex) : NULL;
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *ifp = stack_iface(s, i);

                if (ifp == NULL)
                        continue;
                if (addr != 0 && iface_has_addr(ifp, addr))
                        return ifp;
                one = ifp;
                n++;
        }
        if (addr != 0)
                return NULL;
        if (so->mc_if4 != 0)
                return stack_iface(s, so->mc_if4);
        return n == 1 ? one : NULL;
}

/* IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP (struct ip_mreq or ip_mreqn, as
 * Linux takes either) and IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP (struct
 * ipv6_mreq): the group joined on the interface through IGMP (RFC 3376)
 * or MLD (RFC 3810) and kept in the socket's list, which delivery reads. */
static int mc_change(struct mpnet_stack *s, struct mpnet_sock *so, int level, const void *val,
                     socklen_t len, bool join)
{
        struct sock_mc *old = atomic_load_explicit(&so->mc, memory_order_relaxed), *n;
        unsigned have = old != NULL ? old->n : 0, at = have;
        struct mpnet_iface *ifp;
        uint8_t group[16] = {0};
        uint32_t g4 = 0;
        int err;

        if (val == NULL)
                return -EFAULT;
        if (level == IPPROTO_IP) {
                struct ip_mreqn mr = {0};

                if (len >= (socklen_t)sizeof(struct ip_mreqn))
                        memcpy(&mr, val, sizeof(mr));
                else if (len >= (socklen_t)sizeof(struct ip_mreq))
                        memcpy(&mr, val, sizeof(struct ip_mreq));
                else
                        return -EINVAL;
                g4 = ntohl(mr.imr_multiaddr.s_addr);
                if ((g4 >> 28) != 0xe)
                        return -EINVAL;
                ifp = mc4_iface(s, so, mr.imr_ifindex, ntohl(mr.imr_address.s_addr));
                group[10] = group[11] = 0xff;
                memcpy(group + 12, &mr.imr_multiaddr.s_addr, 4);
        } else {
                struct ipv6_mreq mr;

                if (so->family != AF_INET6)
                        return -ENOPROTOOPT;
                if (len < (socklen_t)sizeof(mr))
                        return -EINVAL;
                memcpy(&mr, val, sizeof(mr));
                if (!mpnet_ip6_is_multicast(mr.ipv6mr_multiaddr.s6_addr))
                        return -EINVAL;
                if (mr.ipv6mr_interface == 0)
                        mr.ipv6mr_interface = so->mc_if6; /* Linux routes it; we need one named */
                ifp = mr.ipv6mr_interface <= STACK_MAX_IFACES
                          ? stack_iface(s, (int)mr.ipv6mr_interface)
                          : NULL;
                memcpy(group, mr.ipv6mr_multiaddr.s6_addr, 16);
        }
        if (ifp == NULL)
                return -ENODEV;
        for (unsigned i = 0; i < have; i++)
                if (old->m[i].ifindex == ifp->ifindex && memcmp(old->m[i].group, group, 16) == 0)
                        at = i;
        if (join && at != have)
                return -EADDRINUSE;
        if (!join && at == have)
                return -EADDRNOTAVAIL;
        if (join && have >= 20) /* Linux's net.ipv4.igmp_max_memberships */
                return -ENOBUFS;
        n = calloc(1, sizeof(*n) + (have + 1) * sizeof(n->m[0]));
        if (n == NULL)
                return -ENOMEM;
        for (unsigned i = 0; i < have; i++)
                if (i != at)
                        n->m[n->n++] = old->m[i];
        if (join) {
                err = level == IPPROTO_IP ? mc4_join(ifp, g4) : mc6_join(ifp, group);
                if (err != 0) {
                        free(n);
                        return err;
                }
                memcpy(n->m[n->n].group, group, 16);
                n->m[n->n++].ifindex = ifp->ifindex;
        } else {
                mc_leave1(ifp, group);
        }
        atomic_store_explicit(&so->mc, n, memory_order_release);
        if (old != NULL)
                stack_defer(s, tab_free, old);
        return 0;
}

static int setopt_sol(struct mpnet_stack *s, struct mpnet_sock *so, int name, const void *val,
                      socklen_t len)
{
        int v, err = opt_int(val, len, &v);

        if (err != 0)
                return err;
        switch (name) {
        case SO_REUSEADDR:
                set_flag(so, SOF_REUSEADDR, v);
                return pcb_refresh(s, so);
        case SO_REUSEPORT:
                set_flag(so, SOF_REUSEPORT, v);
                return pcb_refresh(s, so);
        case SO_BROADCAST:
                return set_flag(so, SOF_BROADCAST, v);
        case SO_RCVBUF: {
                /* Linux doubles the value for its bookkeeping. */
                uint64_t b = (uint64_t)(v < 0 ? 0 : v) * 2;

                if (b < SOCK_RCVBUF_MIN)
                        b = SOCK_RCVBUF_MIN;
                if (b > SOCK_RCVBUF_MAX)
                        b = SOCK_RCVBUF_MAX;
                atomic_store_explicit(&so->rcvbuf, (uint32_t)b, memory_order_relaxed);
                so->flags |= SOF_RCVBUF_LOCK;
                return 0;
        }
        case SO_SNDBUF: {
                uint64_t b = (uint64_t)(v < 0 ? 0 : v) * 2;

                __atomic_store_n(&so->sndbuf,
                                 (uint32_t)(b < 4608              ? 4608
                                            : b > SOCK_RCVBUF_MAX ? SOCK_RCVBUF_MAX
                                                                  : b),
                                 __ATOMIC_RELAXED);
                so->flags |= SOF_SNDBUF_LOCK;
                return 0;
        }
        case SO_BINDTOIFINDEX:
                if (v < 0 || v > STACK_MAX_IFACES || (v != 0 && stack_iface(s, v) == NULL))
                        return -ENODEV;
                so->bound_if = (uint8_t)v;
                return pcb_refresh(s, so);
        case SO_ERROR:
        case SO_TYPE:
        case SO_DOMAIN:
        case SO_PROTOCOL:
                return -ENOPROTOOPT; /* read only */
        default:
                return -ENOPROTOOPT;
        }
}

static int setopt_ip(struct mpnet_stack *s, struct mpnet_sock *so, int name, const void *val,
                     socklen_t len)
{
        int v = 0, err;

        switch (name) {
        case IP_MULTICAST_IF: {
                struct ip_mreqn mr;

                if (val == NULL)
                        return -EFAULT;
                if (len >= (socklen_t)sizeof(mr)) {
                        memcpy(&mr, val, sizeof(mr));
                        if (mr.imr_ifindex < 0 || mr.imr_ifindex > STACK_MAX_IFACES ||
                            (mr.imr_ifindex != 0 && stack_iface(s, mr.imr_ifindex) == NULL))
                                return -ENODEV;
                        so->mc_if4 = (uint8_t)mr.imr_ifindex;
                        so->mc_addr4 = ntohl(mr.imr_address.s_addr);
                        return 0;
                }
                if (len >= (socklen_t)sizeof(struct in_addr)) {
                        struct in_addr a;
                        uint32_t h;

                        memcpy(&a, val, sizeof(a));
                        h = ntohl(a.s_addr);
                        so->mc_addr4 = h;
                        so->mc_if4 = 0;
                        if (h == 0)
                                return 0;
                        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                                struct mpnet_iface *ifp = stack_iface(s, i);

                                if (ifp != NULL && iface_has_addr(ifp, h)) {
                                        so->mc_if4 = (uint8_t)i;
                                        return 0;
                                }
                        }
                        return -EADDRNOTAVAIL;
                }
                return -EINVAL;
        }
        case IP_ADD_MEMBERSHIP:
        case IP_DROP_MEMBERSHIP:
                return mc_change(s, so, IPPROTO_IP, val, len, name == IP_ADD_MEMBERSHIP);
        case IP_ADD_SOURCE_MEMBERSHIP:
        case IP_DROP_SOURCE_MEMBERSHIP:
                return -ENOPROTOOPT; /* source filters (RFC 3376 INCLUDE mode): not kept */
        default:
                break;
        }
        err = opt_int_or_byte(val, len, &v);
        if (err != 0)
                return err;
        switch (name) {
        case IP_TTL:
                if (v == -1)
                        v = 64;
                if (v < 1 || v > 255)
                        return -EINVAL;
                so->ttl = (uint8_t)v;
                return 0;
        case IP_TOS:
                so->tos = (uint8_t)v;
                return 0;
        case IP_PKTINFO:
                so->rcv_opts =
                    (uint8_t)(v ? so->rcv_opts | SOR_PKTINFO4 : so->rcv_opts & ~SOR_PKTINFO4);
                return 0;
        case IP_RECVTTL:
                so->rcv_opts = (uint8_t)(v ? so->rcv_opts | SOR_TTL : so->rcv_opts & ~SOR_TTL);
                return 0;
        case IP_RECVTOS:
                so->rcv_opts = (uint8_t)(v ? so->rcv_opts | SOR_TOS : so->rcv_opts & ~SOR_TOS);
                return 0;
        case IP_MULTICAST_TTL:
                if (v == -1)
                        v = 1;
                if (v < 0 || v > 255)
                        return -EINVAL;
                so->mc_ttl = (uint8_t)v;
                return 0;
        case IP_MULTICAST_LOOP:
                return set_flag(so, SOF_MC_LOOP4, v);
        default:
                return -ENOPROTOOPT;
        }
}

static int setopt_ip6(struct mpnet_stack *s, struct mpnet_sock *so, int name, const void *val,
                      socklen_t len)
{
        int v, err;

        if (so->family != AF_INET6)
                return -ENOPROTOOPT;
        if (name == IPV6_JOIN_GROUP || name == IPV6_LEAVE_GROUP)
                return mc_change(s, so, IPPROTO_IPV6, val, len, name == IPV6_JOIN_GROUP);
        err = opt_int(val, len, &v);
        if (err != 0)
                return err;
        switch (name) {
        case IPV6_V6ONLY:
                if (so->flags & SOF_BOUND)
                        return -EINVAL; /* as Linux: fixed once bound */
                return set_flag(so, SOF_V6ONLY, v);
        case IPV6_UNICAST_HOPS:
                if (v < -1 || v > 255)
                        return -EINVAL;
                so->hops6 = (uint8_t)(v == -1 ? 0 : v);
                return 0;
        case IPV6_MULTICAST_HOPS:
                if (v < -1 || v > 255)
                        return -EINVAL;
                so->mc_hops6 = (uint8_t)(v == -1 ? 1 : v);
                return 0;
        case IPV6_MULTICAST_IF:
                if (v < 0 || v > STACK_MAX_IFACES || (v != 0 && stack_iface(s, v) == NULL))
                        return -ENODEV;
                so->mc_if6 = (uint8_t)v;
                return 0;
        case IPV6_MULTICAST_LOOP:
                if (v != 0 && v != 1)
                        return -EINVAL;
                return set_flag(so, SOF_MC_LOOP6, v);
        case IPV6_TCLASS:
                if (v < -1 || v > 255)
                        return -EINVAL;
                so->tclass = (uint8_t)(v == -1 ? 0 : v);
                return 0;
        case IPV6_RECVPKTINFO:
                so->rcv_opts =
                    (uint8_t)(v ? so->rcv_opts | SOR_PKTINFO6 : so->rcv_opts & ~SOR_PKTINFO6);
                return 0;
        case IPV6_RECVHOPLIMIT:
                so->rcv_opts =
                    (uint8_t)(v ? so->rcv_opts | SOR_HOPLIMIT : so->rcv_opts & ~SOR_HOPLIMIT);
                return 0;
        case IPV6_RECVTCLASS:
                so->rcv_opts =
                    (uint8_t)(v ? so->rcv_opts | SOR_TCLASS : so->rcv_opts & ~SOR_TCLASS);
                return 0;
        default:
                return -ENOPROTOOPT;
        }
}

/* Options whose fields only the data path reads, no PCB entry, group or
 * deferred free behind them: a worker-homed socket's home sets them. */
static bool opt_home_ok(int level, int name)
{
        switch (level) {
        case SOL_SOCKET:
                /* SO_LINGER, SO_KEEPALIVE: TCP's, read by the home (close,
                 * the connection's timers). */
                return name == SO_BROADCAST || name == SO_RCVBUF || name == SO_SNDBUF ||
                       name == SO_LINGER || name == SO_KEEPALIVE;
        case IPPROTO_TCP: /* the connection's: l4/tcp_opt.c on the home */
                return true;
        case IPPROTO_IP:
                return name == IP_TTL || name == IP_TOS || name == IP_PKTINFO ||
                       name == IP_RECVTTL || name == IP_RECVTOS || name == IP_MULTICAST_TTL ||
                       name == IP_MULTICAST_LOOP;
        case IPPROTO_IPV6:
                return name == IPV6_UNICAST_HOPS || name == IPV6_MULTICAST_HOPS ||
                       name == IPV6_MULTICAST_LOOP || name == IPV6_TCLASS ||
                       name == IPV6_RECVPKTINFO || name == IPV6_RECVHOPLIMIT ||
                       name == IPV6_RECVTCLASS;
        default:
                return false;
        }
}

struct opt_args {
        int level, name;
        const void *val;
        socklen_t len;
};

static int setopt_level(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name,
                        const void *val, socklen_t len);

static int setopt_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        const struct opt_args *a = arg;

        return setopt_level(w->s, so, a->level, a->name, a->val, a->len);
}

/* SOL_MPNET. */
static int setopt_mpnet(struct mpnet_stack *s, struct mpnet_sock *so, int name, const void *val,
                        socklen_t len)
{
        int v, err;

        if (name != MPNET_SO_HOME)
                return -ENOPROTOOPT;
        if (so->type != SOCK_DGRAM && so->type != SOCK_STREAM)
                return -EOPNOTSUPP; /* raw sockets stay on the control thread */
        err = opt_int(val, len, &v);
        if (err != 0)
                return err;
        /* An echo socket: a context named, or the control thread; no
         * identifier is steered to the worker its replies reach. */
        if (so->type == SOCK_DGRAM && so->proto != IPPROTO_UDP && v == MPNET_HOME_FLOW)
                return -EOPNOTSUPP;
        if (sock_caller(s) != 0)
                return -EPERM;
        if (so->flags & SOF_BOUND)
                return -EINVAL; /* chosen before bind and connect */
        if (v == MPNET_HOME_CONTROL || v == MPNET_HOME_FLOW) {
                so->home_want = v;
                atomic_store_explicit(&so->home, 0, memory_order_release);
                return 0;
        }
        if (v < 1 || (unsigned)v >= STACK_MAX_CTX || v > UINT8_MAX ||
            __atomic_load_n(&s->ctx[v], __ATOMIC_ACQUIRE) == NULL)
                return -EINVAL;
        so->home_want = v;
        atomic_store_explicit(&so->home, (uint8_t)v, memory_order_release);
        return 0;
}

int mpnet_setsockopt(struct mpnet_stack *s, int fd, int level, int name, const void *val,
                     socklen_t len)
{
        struct mpnet_sock *so = sock_call(s, fd);
        struct opt_args a = {level, name, val, len};

        if (so == NULL)
                return -EBADF;
        if (level == SOL_MPNET)
                return setopt_mpnet(s, so, name, val, len);
        if (sock_home(so) == 0)
                return sock_caller(s) == 0 ? setopt_level(s, so, level, name, val, len) : -EBUSY;
        if (!opt_home_ok(level, name))
                return -EBUSY; /* set before the socket is homed on a worker */
        return sock_home_call(so, setopt_home, &a);
}

static int setopt_level(struct mpnet_stack *s, struct mpnet_sock *so, int level, int name,
                        const void *val, socklen_t len)
{
        int err;

        if (so->pr->setopt != NULL) {
                err = so->pr->setopt(s, so, level, name, val, len);
                if (err != -ENOPROTOOPT)
                        return err;
        }
        /* IP_RECVERR, the path MTU options: l4/sock_err.c. */
        err = sock_err_setopt(so, level, name, val, len);
        if (err != -ENOPROTOOPT)
                return err;
        switch (level) {
        case SOL_SOCKET:
                return setopt_sol(s, so, name, val, len);
        case IPPROTO_IP:
                return setopt_ip(s, so, name, val, len);
        case IPPROTO_IPV6:
                return setopt_ip6(s, so, name, val, len);
        default:
                return -ENOPROTOOPT;
        }
}

static int getopt_val(struct mpnet_sock *so, int level, int name, int *v)
{
        (void)0;
        if (level == SOL_SOCKET) {
                switch (name) {
                case SO_REUSEADDR:
                        *v = !!(so->flags & SOF_REUSEADDR);
                        return 0;
                case SO_REUSEPORT:
                        *v = !!(so->flags & SOF_REUSEPORT);
                        return 0;
                case SO_BROADCAST:
                        *v = !!(so->flags & SOF_BROADCAST);
                        return 0;
                case SO_RCVBUF:
                        *v = (int)atomic_load_explicit(&so->rcvbuf, memory_order_relaxed);
                        return 0;
                case SO_SNDBUF:
                        /* TCP's auto-tuning grows it on the home. */
                        *v = (int)__atomic_load_n(&so->sndbuf, __ATOMIC_RELAXED);
                        return 0;
                case SO_ERROR:
                        *v = -sock_err_take(so);
                        return 0;
                case SO_TYPE:
                        *v = so->type;
                        return 0;
                case SO_DOMAIN:
                        *v = so->family;
                        return 0;
                case SO_PROTOCOL:
                        *v = so->proto;
                        return 0;
                case SO_BINDTOIFINDEX:
                        *v = so->bound_if;
                        return 0;
                default:
                        return -ENOPROTOOPT;
                }
        }
        if (level == IPPROTO_IP) {
                switch (name) {
                case IP_TTL:
                        *v = so->ttl;
                        return 0;
                case IP_TOS:
                        *v = so->tos;
                        return 0;
                case IP_PKTINFO:
                        *v = !!(so->rcv_opts & SOR_PKTINFO4);
                        return 0;
                case IP_RECVTTL:
                        *v = !!(so->rcv_opts & SOR_TTL);
                        return 0;
                case IP_RECVTOS:
                        *v = !!(so->rcv_opts & SOR_TOS);
                        return 0;
                case IP_MULTICAST_TTL:
                        *v = so->mc_ttl;
                        return 0;
                case IP_MULTICAST_LOOP:
                        *v = !!(so->flags & SOF_MC_LOOP4);
                        return 0;
                case IP_MULTICAST_IF:
                        *v = (int)htonl(so->mc_addr4);
                        return 0;
                default:
                        return -ENOPROTOOPT;
                }
        }
        if (level == IPPROTO_IPV6 && so->family == AF_INET6) {
                switch (name) {
                case IPV6_V6ONLY:
                        *v = !!(so->flags & SOF_V6ONLY);
                        return 0;
                case IPV6_UNICAST_HOPS:
                        *v = so->hops6 != 0 ? so->hops6 : IP6_HLIM_DEFAULT;
                        return 0;
                case IPV6_MULTICAST_HOPS:
                        *v = so->mc_hops6;
                        return 0;
                case IPV6_MULTICAST_IF:
                        *v = so->mc_if6;
                        return 0;
                case IPV6_MULTICAST_LOOP:
                        *v = !!(so->flags & SOF_MC_LOOP6);
                        return 0;
                case IPV6_TCLASS:
                        *v = so->tclass;
                        return 0;
                case IPV6_RECVPKTINFO:
                        *v = !!(so->rcv_opts & SOR_PKTINFO6);
                        return 0;
                case IPV6_RECVHOPLIMIT:
                        *v = !!(so->rcv_opts & SOR_HOPLIMIT);
                        return 0;
                case IPV6_RECVTCLASS:
                        *v = !!(so->rcv_opts & SOR_TCLASS);
                        return 0;
                default:
                        return -ENOPROTOOPT;
                }
        }
        return -ENOPROTOOPT;
}

struct getopt_args {
        int level, name, *v;
};

static int getopt_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        const struct getopt_args *a = arg;

        int err;

        (void)w;
        err = so->pr->getopt != NULL ? so->pr->getopt(so, a->level, a->name, a->v) : -ENOPROTOOPT;
        if (err == -ENOPROTOOPT)
                err = sock_err_getopt(so, a->level, a->name, a->v);
        if (err == -ENOPROTOOPT)
                err = getopt_val(so, a->level, a->name, a->v);
        return err;
}

struct getopt_buf_args {
        int level, name;
        void *val;
        socklen_t *len;
};

static int getopt_buf_home(struct wctx *w, struct mpnet_sock *so, void *arg)
{
        struct getopt_buf_args *a = arg;

        return so->pr->getopt_buf(w->s, so, a->level, a->name, a->val, a->len);
}

int mpnet_getsockopt(struct mpnet_stack *s, int fd, int level, int name, void *val, socklen_t *len)
{
        struct mpnet_sock *so = sock_call(s, fd);
        int v, err;
        struct getopt_args a = {level, name, &v};

        if (so == NULL)
                return -EBADF;
        if (val == NULL || len == NULL)
                return -EFAULT;
        if (so->pr->getopt_buf != NULL) {
                struct getopt_buf_args b = {level, name, val, len};

                err = sock_home_call(so, getopt_buf_home, &b);
                if (err != -ENOPROTOOPT)
                        return err;
        }
        if (level == SOL_MPNET && name == MPNET_SO_HOME) {
                v = (int)sock_home(so);
                err = 0;
        } else if (level == SOL_MPNET) {
                err = -ENOPROTOOPT;
        } else {
                err = sock_home_call(so, getopt_home, &a);
        }
        if (err != 0)
                return err;
        if (*len >= (socklen_t)sizeof(int)) {
                memcpy(val, &v, sizeof(int));
                *len = sizeof(int);
        } else if (*len >= 1 && level == IPPROTO_IP) {
                *(uint8_t *)val = (uint8_t)v; /* Linux gives byte options in a byte */
                *len = 1;
        } else {
                return -EINVAL;
        }
        return 0;
}

/* UDP's part (l4/udp.c). */
const struct sock_proto sock_udp_proto = {
    .pcb_set = udp_pcb_set,
    .pcb_unset = udp_pcb_unset,
    .port_pick = udp_port_pick,
    .output = udp_output,
    .rx_skip = MPNET_UDP_HLEN,
    .rx_port = true,
    .need_port = true,
};

/* ---- for the front end (l4/sock_front.c) ---- */

ssize_t sock_send_home(struct mpnet_sock *so, struct mpnet_pkt *p, const struct sockaddr *a,
                       socklen_t alen)
{
        struct tx_cm cm = {.ttl = -1, .tos = -1};

        return send_common(so->s, so, p, a, alen, &cm);
}

void sock_rx_from(const struct mpnet_sock *so, struct mpnet_pkt *p, struct sockaddr *a,
                  socklen_t *alen)
{
        struct rx_info ri;

        rx_info(p, &ri);
        sa_fill(so, ri.src, ri.sport, a, alen);
}

/* ---- the module ---- */

static int sock_init(struct mpnet_stack *s, void *state)
{
        struct sock_mod *m = state;
        struct sock_fdtab *t = calloc(1, sizeof(*t) + 64 * sizeof(t->so[0]));

        if (t == NULL)
                return -ENOMEM;
        t->cap = 64;
        m->st.s = s;
        atomic_init(&m->st.tab, t);
        pthread_mutex_init(&m->st.lock, NULL);
        return 0;
}

static void sock_fini(struct mpnet_stack *s, void *state)
{
        struct sock_mod *m = state;
        struct sock_fdtab *t = atomic_load_explicit(&m->st.tab, memory_order_relaxed);

        (void)s;
        /* No context runs any more: free what is left at once. */
        for (unsigned i = 0; t != NULL && i < t->cap; i++) {
                struct mpnet_sock *so = atomic_load_explicit(&t->so[i], memory_order_relaxed);

                if (so != NULL) {
                        if (so->fe == NULL)
                                rq_flush(so);
                        ev_src_fini(&so->ev);
                        sock_errq_flush(so);
                        sock_free(so);
                }
        }
        while (m->n_dead > 0)
                sock_free(m->dead[--m->n_dead]);
        free(m->dead);
        while (m->n_cache > 0)
                free(m->cache[--m->n_cache]);
        while (t != NULL) {
                struct sock_fdtab *o = t->old;

                free(t);
                t = o;
        }
        pthread_mutex_destroy(&m->st.lock);
}

/* stack_reset(): sockets are configuration; what input left in them
 * (queued datagrams, readiness) is not. */
static bool sock_learnt(struct mpnet_stack *s, const void *state)
{
        const struct sock_mod *m = state;
        struct sock_fdtab *t = atomic_load_explicit(&m->st.tab, memory_order_relaxed);

        (void)s;
        for (unsigned i = 0; i < t->cap; i++) {
                struct mpnet_sock *so = atomic_load_explicit(&t->so[i], memory_order_relaxed);

                if (so != NULL && (so->rq_head != NULL || so->eq_head != NULL || so->err != 0))
                        return true;
        }
        return m->n_dead != 0;
}

static void sock_reset(struct mpnet_stack *s, void *state)
{
        struct sock_mod *m = state;
        struct sock_fdtab *t = atomic_load_explicit(&m->st.tab, memory_order_relaxed);

        for (unsigned i = 0; i < t->cap; i++) {
                struct mpnet_sock *so = atomic_load_explicit(&t->so[i], memory_order_relaxed);

                if (so != NULL) {
                        rq_flush(so);
                        sock_errq_flush(so);
                        so->err = 0;
                        sock_lower(so, EPOLLERR);
                }
        }
        dead_flush(s);
}

const struct mpnet_module mod_sock = {
    .name = "socket",
    .ctx_state_size = sizeof(struct sock_ctx),
    .ctx_init = sock_ctx_init,
    .ctx_fini = sock_ctx_fini,
    .ctx_service = sock_ctx_service,
    .ctx_reset = sock_ctx_reset,
    .state_size = sizeof(struct sock_mod),
    .init = sock_init,
    .fini = sock_fini,
    .state_learnt = sock_learnt,
    .state_reset = sock_reset,
};
