/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP errors on sockets, as Linux gives them: the pending error (SO_ERROR,
 * returned once by the next send or receive), the error queue that
 * IP_RECVERR / IPV6_RECVERR turn on (read with recvmsg(MSG_ERRQUEUE): the
 * quoted payload, a struct sock_extended_err and the offender,
 * <linux/errqueue.h>), and the path MTU options (IP_MTU_DISCOVER, IP_MTU,
 * IPV6_MTU_DISCOVER, IPV6_MTU, IPV6_DONTFRAG). The error handlers of UDP
 * (l4/udp.c, udp_err) and of echo sockets (l4/ping_sock.c, ping_sock_err)
 * decide what reaches a socket; the errno and the record are made here,
 * and handed to a socket homed on a worker (sock_err_handoff: to the
 * protocol's error node on the home, udp-err or ping-err, which takes it
 * with sock_err_handed).
 *
 * Synchronisation: the pending error, the error queue and the readiness
 * mask are the socket's home context's (l4/socket.h), as its receive
 * queue; the options are the control thread's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h> /* struct timespec, for linux/errqueue.h */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "l3/pmtu.h"
#include "l4/socket.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

/* ---- what an ICMP error says to a socket (UDP, echo sockets) ---- */

/* Linux icmp_err_convert (net/ipv4/icmp.c): the errno of a destination
 * unreachable code and whether it is hard (reported to a connected socket
 * without IP_RECVERR). */
static const struct {
        uint8_t err, hard;
} unreach4[16] = {
    {ENETUNREACH, 0},  {EHOSTUNREACH, 0}, {ENOPROTOOPT, 1},  {ECONNREFUSED, 1},
    {EMSGSIZE, 0},     {EOPNOTSUPP, 0},   {ENETUNREACH, 1},  {EHOSTDOWN, 1},
    {ENONET, 1},       {ENETUNREACH, 1},  {EHOSTUNREACH, 1}, {ENETUNREACH, 0},
    {EHOSTUNREACH, 0}, {EHOSTUNREACH, 1}, {EHOSTUNREACH, 1}, {EHOSTUNREACH, 1},
};

/* Linux icmpv6_err_convert (net/ipv6/icmp.c), destination unreachable. */
static const struct {
        uint8_t err, hard;
} unreach6[7] = {
    {ENETUNREACH, 0},  {EACCES, 1}, {EHOSTUNREACH, 0}, {EHOSTUNREACH, 0},
    {ECONNREFUSED, 1}, {EACCES, 1}, {EACCES, 1},
};

/* The errno of e for so and whether it is hard (Linux __udp4_lib_err,
 * __udp6_lib_err); 0: the error says nothing to a socket (a redirect,
 * a source quench, an unknown type). */
int sock_icmp_errno(const struct mpnet_sock *so, const struct l4_err *e, bool *hard)
{
        *hard = false;
        if (e->family == 4) {
                switch (e->type) {
                case MPNET_ICMP4_DEST_UNREACH:
                        if (e->code == 4) { /* fragmentation needed (RFC 1191) */
                                *hard = so->pmtudisc4 != IP_PMTUDISC_DONT;
                                return EMSGSIZE;
                        }
                        if (e->code > 15)
                                return EHOSTUNREACH;
                        *hard = unreach4[e->code].hard;
                        return unreach4[e->code].err;
                case MPNET_ICMP4_TIME_EXCEEDED:
                        return EHOSTUNREACH;
                case MPNET_ICMP4_PARAM_PROBLEM:
                        *hard = true;
                        return EPROTO;
                default:
                        return 0;
                }
        }
        switch (e->type) {
        case MPNET_ICMP6_DEST_UNREACH:
                if (e->code > 6) {
                        *hard = true;
                        return EPROTO;
                }
                *hard = unreach6[e->code].hard;
                return unreach6[e->code].err;
        case MPNET_ICMP6_PACKET_TOO_BIG:
                *hard = so->pmtudisc6 != IPV6_PMTUDISC_DONT;
                return EMSGSIZE;
        case MPNET_ICMP6_TIME_EXCEEDED:
                return EHOSTUNREACH;
        case MPNET_ICMP6_PARAM_PROBLEM:
                *hard = true;
                return EPROTO;
        default:
                return 0;
        }
}

struct mpnet_pkt *sock_err_record(struct mpnet_stack *s, const struct l4_err *e, int errnum,
                                  uint32_t skip, uint16_t dport)
{
        struct mpnet_pkt *p = mpnet_pkt_alloc(s->pool);
        struct sock_errq_rec *r;
        uint32_t n = e->l4_len > skip ? e->l4_len - skip : 0;

        if (p == NULL)
                return NULL;
        if (n > mpnet_pkt_tailroom(p))
                n = mpnet_pkt_tailroom(p);
        memcpy(mpnet_pkt_append(p, n), e->l4 + skip, n);
        r = sock_errq_rec(p);
        memset(r, 0, sizeof(*r));
        r->origin = e->family == 4 ? SO_EE_ORIGIN_ICMP : SO_EE_ORIGIN_ICMP6;
        r->type = e->type;
        r->code = e->code;
        r->fam = e->family;
        r->errnum = errnum;
        r->info = e->info;
        memcpy(r->offender, e->offender, 16);
        memcpy(r->dst, e->dst, 16);
        r->dport = dport;
        return p;
}

/* Whether so has nothing left to report: EPOLLERR falls. */
static void err_settle(struct mpnet_sock *so)
{
        if (so->err == 0 && so->eq_head == NULL)
                sock_lower(so, EPOLLERR);
}

bool sock_error_report(struct mpnet_sock *so, int errnum, struct mpnet_pkt *rec)
{
        bool queued = true;

        if (so->flags & SOF_CLOSED) {
                mpnet_pkt_free(rec);
                return false;
        }
        if (rec != NULL && so->eq_n >= SOCK_ERRQ_MAX) {
                /* Full: the record goes; the pending error is set all the
                 * same (Linux __udp4_lib_err after ip_icmp_error). */
                mpnet_pkt_free(rec);
                queued = false;
        } else if (rec != NULL) {
                *sock_rq_link(rec) = NULL;
                if (so->eq_head == NULL)
                        so->eq_head = rec;
                else
                        *sock_rq_link(so->eq_tail) = rec;
                so->eq_tail = rec;
                so->eq_n++;
        }
        so->err = errnum;
        sock_raise(so, EPOLLERR);
        return queued;
}

bool sock_err_handoff(struct wctx *w, struct mpnet_sock *so, const struct l4_err *e, int errnum,
                      struct mpnet_pkt *rec, unsigned node)
{
        if (rec == NULL) {
                rec = mpnet_pkt_alloc(w->s->pool);
                if (rec == NULL)
                        return false;
                memset(sock_errq_rec(rec), 0, sizeof(struct sock_errq_rec));
                sock_errq_rec(rec)->errnum = errnum;
        }
        /* The home runs the node as if rec came in where the error did
         * (a hand-off names an interface; one gone meanwhile drops it). */
        rec->ifindex = e->ifindex;
        /* As a handed datagram: the socket by descriptor and generation
         * after the hand-off header. */
        sock_handoff_name(so, rec);
        ctx_handoff(w, sock_home(so), node, rec);
        return true;
}

struct mpnet_sock *sock_err_handed(struct wctx *w, struct mpnet_pkt *p, int *errnum,
                                   struct mpnet_pkt **rec)
{
        const struct sock_errq_rec *r = sock_errq_rec(p);
        struct mpnet_sock *so = sock_handed(w, p);

        *errnum = r->errnum;
        *rec = NULL;
        if (so == NULL || r->origin == SO_EE_ORIGIN_NONE)
                mpnet_pkt_free(p);
        else
                *rec = p;
        return so;
}

int sock_err_take(struct mpnet_sock *so)
{
        int e = so->err;

        if (e == 0)
                return 0;
        so->err = 0;
        err_settle(so);
        return -e;
}

void sock_errq_flush(struct mpnet_sock *so)
{
        while (so->eq_head != NULL) {
                struct mpnet_pkt *p = so->eq_head;

                so->eq_head = *sock_rq_link(p);
                mpnet_pkt_free(p);
        }
        so->eq_tail = NULL;
        so->eq_n = 0;
}

/* Append one control message (as socket.c's cm_put). */
static void eq_cmsg(struct msghdr *msg, int level, int type, const void *data, size_t n)
{
        struct cmsghdr c;

        if (msg->msg_control == NULL || msg->msg_controllen < CMSG_SPACE(n)) {
                msg->msg_flags |= MSG_CTRUNC;
                msg->msg_controllen = 0;
                return;
        }
        memset(msg->msg_control, 0, CMSG_SPACE(n));
        c.cmsg_len = CMSG_LEN(n);
        c.cmsg_level = level;
        c.cmsg_type = type;
        memcpy(msg->msg_control, &c, sizeof(c));
        memcpy(CMSG_DATA((struct cmsghdr *)msg->msg_control), data, n);
        msg->msg_controllen = CMSG_SPACE(n);
}

/* Linux ip_recv_error / ipv6_recv_error: the oldest record; its quoted
 * payload as data, msg_name the original destination, one cmsg with
 * sock_extended_err and the offender (SO_EE_OFFENDER). */
ssize_t sock_errq_recv(struct mpnet_sock *so, struct msghdr *msg, int flags)
{
        struct mpnet_pkt *p = so->eq_head;
        const struct sock_errq_rec *r;
        uint32_t len, off = 0;
        struct sock_extended_err ee;

        if (p == NULL)
                return -EAGAIN;
        r = sock_errq_rec(p);
        len = p->pkt_len;
        msg->msg_flags = MSG_ERRQUEUE;
        for (size_t i = 0; i < msg->msg_iovlen && off < len; i++) {
                uint32_t n = msg->msg_iov[i].iov_len < len - off ? (uint32_t)msg->msg_iov[i].iov_len
                                                                 : len - off;

                if (n > 0 && msg->msg_iov[i].iov_base == NULL)
                        return -EFAULT;
                mpnet_pkt_read(p, off, msg->msg_iov[i].iov_base, n);
                off += n;
        }
        if (off < len)
                msg->msg_flags |= MSG_TRUNC;
        memset(&ee, 0, sizeof(ee));
        ee.ee_errno = (uint32_t)r->errnum;
        ee.ee_origin = r->origin;
        ee.ee_type = r->type;
        ee.ee_code = r->code;
        ee.ee_info = r->info;
        if (so->family == AF_INET) {
                struct {
                        struct sock_extended_err ee;
                        struct sockaddr_in off;
                } c = {.ee = ee, .off = {.sin_family = AF_INET}};
                struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(r->dport)};

                c.off.sin_addr.s_addr = htonl(addr_v4(r->offender));
                to.sin_addr.s_addr = htonl(addr_v4(r->dst));
                if (msg->msg_name != NULL) {
                        socklen_t n = msg->msg_namelen < sizeof(to) ? msg->msg_namelen
                                                                    : (socklen_t)sizeof(to);

                        memcpy(msg->msg_name, &to, n);
                        msg->msg_namelen = sizeof(to);
                }
                eq_cmsg(msg, SOL_IP, IP_RECVERR, &c, sizeof(c));
        } else {
                struct {
                        struct sock_extended_err ee;
                        struct sockaddr_in6 off;
                } c = {.ee = ee, .off = {.sin6_family = AF_INET6}};
                struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(r->dport)};

                memcpy(c.off.sin6_addr.s6_addr, r->offender, 16);
                memcpy(to.sin6_addr.s6_addr, r->dst, 16);
                if (msg->msg_name != NULL) {
                        socklen_t n = msg->msg_namelen < sizeof(to) ? msg->msg_namelen
                                                                    : (socklen_t)sizeof(to);

                        memcpy(msg->msg_name, &to, n);
                        msg->msg_namelen = sizeof(to);
                }
                eq_cmsg(msg, SOL_IPV6, IPV6_RECVERR, &c, sizeof(c));
        }
        if (msg->msg_name == NULL)
                msg->msg_namelen = 0;
        if (flags & MSG_PEEK)
                return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)off;
        so->eq_head = *sock_rq_link(p);
        if (so->eq_head == NULL)
                so->eq_tail = NULL;
        so->eq_n--;
        /* Linux sock_dequeue_err_skb: the pending error becomes the next
         * record's, or none. */
        so->err = so->eq_head != NULL ? sock_errq_rec(so->eq_head)->errnum : 0;
        err_settle(so);
        mpnet_pkt_free(p);
        return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)off;
}

int sock_err_setopt(struct mpnet_sock *so, int level, int name, const void *val, socklen_t len)
{
        int v = 0;

        if ((level != IPPROTO_IP || (name != IP_RECVERR && name != IP_MTU_DISCOVER)) &&
            (level != IPPROTO_IPV6 ||
             (name != IPV6_RECVERR && name != IPV6_MTU_DISCOVER && name != IPV6_DONTFRAG)))
                return -ENOPROTOOPT;
        if (level == IPPROTO_IPV6 && so->family != AF_INET6)
                return -ENOPROTOOPT;
        if (val == NULL)
                return -EFAULT;
        if (len == 1 && level == IPPROTO_IP)
                v = *(const uint8_t *)val; /* Linux takes a byte there */
        else if (len >= (socklen_t)sizeof(int))
                memcpy(&v, val, sizeof(int));
        else
                return -EINVAL;
        switch (name) {
        case IP_RECVERR: /* IPV6_RECVERR is 25: no clash within a level */
        case IPV6_RECVERR: {
                uint8_t f = level == IPPROTO_IP ? SOR_RECVERR4 : SOR_RECVERR6;

                so->rcv_opts = (uint8_t)(v ? so->rcv_opts | f : so->rcv_opts & ~f);
                /* Linux purges the queue when it is turned off. */
                if (!v && !(so->rcv_opts & (SOR_RECVERR4 | SOR_RECVERR6))) {
                        sock_errq_flush(so);
                        err_settle(so);
                }
                return 0;
        }
        case IP_MTU_DISCOVER: /* IPV6_MTU_DISCOVER is 23 */
        case IPV6_MTU_DISCOVER:
                if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
                        return -EINVAL;
                if (level == IPPROTO_IP)
                        so->pmtudisc4 = (uint8_t)v;
                else
                        so->pmtudisc6 = (uint8_t)v;
                return 0;
        case IPV6_DONTFRAG:
                so->dontfrag6 = v != 0;
                return 0;
        default:
                return -ENOPROTOOPT;
        }
}

int sock_err_getopt(struct mpnet_sock *so, int level, int name, int *v)
{
        struct mpnet_stack *s = so->s;
        uint32_t mtu;

        if (level == IPPROTO_IP) {
                switch (name) {
                case IP_RECVERR:
                        *v = !!(so->rcv_opts & SOR_RECVERR4);
                        return 0;
                case IP_MTU_DISCOVER:
                        *v = so->pmtudisc4;
                        return 0;
                case IP_MTU:
                        break;
                default:
                        return -ENOPROTOOPT;
                }
        } else if (level == IPPROTO_IPV6 && so->family == AF_INET6) {
                switch (name) {
                case IPV6_RECVERR:
                        *v = !!(so->rcv_opts & SOR_RECVERR6);
                        return 0;
                case IPV6_MTU_DISCOVER:
                        *v = so->pmtudisc6;
                        return 0;
                case IPV6_DONTFRAG:
                        *v = so->dontfrag6;
                        return 0;
                case IPV6_MTU:
                        break;
                default:
                        return -ENOPROTOOPT;
                }
        } else {
                return -ENOPROTOOPT;
        }
        /* IP_MTU, IPV6_MTU: the path MTU to the peer (Linux: the connected
         * route's MTU; none without a peer). */
        if (!(so->flags & SOF_CONNECTED))
                return -ENOTCONN;
        mtu = path_mtu(s, so->faddr, so->bound_if, s->now);
        if (mtu == 0)
                return -ENOTCONN;
        *v = (int)mtu;
        return 0;
}

int sock_pmtu6_tx(struct mpnet_stack *s, const struct mpnet_sock *so, const uint8_t dst[16],
                  uint32_t len, int oif)
{
        uint32_t mtu;

        if (so->dontfrag6 <= 0 && so->pmtudisc6 != IPV6_PMTUDISC_DO &&
            so->pmtudisc6 != IPV6_PMTUDISC_PROBE)
                return 0;
        if (len + 40 <= 1280) /* RFC 8200 5: every path takes it */
                return 0;
        mtu = path_mtu(s, dst, oif, s->now);
        return mtu != 0 && len + 40 > mtu ? -EMSGSIZE : 0;
}
