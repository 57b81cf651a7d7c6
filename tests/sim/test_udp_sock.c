/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The socket layer and UDP (include/mpnet/socket.h, src/l4/): two stacks on
 * a memory wire under the virtual clock, IPv4 and IPv6, talking through
 * sockets; malformed datagrams injected on the wire.
 */
#define _GNU_SOURCE /* struct in6_pktinfo */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <poll.h>

#include "mpnet/evset.h"
#include "mpnet/socket.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/udp.h"
#include "ip6util.h"
#include "testutil.h"

#define BCAST IP4(192, 0, 2, 255)

struct net {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *st[2];
        struct mpnet_stack *a, *b;
};

static void net_run(struct net *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 2, mpnet_clock_now(&n->clk) + ns);
}

static int setup(void **state)
{
        struct net *n = calloc(1, sizeof(*n));
        struct mpnet_memwire_cfg wc = {.name = "udp"};

        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("udp", 8192);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->la, &n->lb), 0);
        n->a = n->st[0] = stack6_new(&n->clk, n->pool, "A", 1, false);
        n->b = n->st[1] = stack6_new(&n->clk, n->pool, "B", 2, false);
        assert_int_equal(mpnet_iface_attach(n->a, n->la, "a0"), 1);
        assert_int_equal(mpnet_iface_attach(n->b, n->lb, "b0"), 1);
        assert_int_equal(mpnet_addr4_add(n->a, 1, A_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->b, 1, B_ADDR, 24), 0);
        assert_int_equal(mpnet_addr6_add(n->a, 1, A6("2001:db8::1"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_addr6_add(n->b, 1, A6("2001:db8::2"), 64, MPNET_ADDR6_F_NODAD), 0);
        /* Past link-local DAD and the router solicitations. */
        net_run(n, 15 * MPNET_NS_PER_S);
        *state = n;
        return 0;
}

static int teardown(void **state)
{
        struct net *n = *state;

        mpnet_stack_destroy(n->a);
        mpnet_stack_destroy(n->b);
        link_drain(n->la);
        link_drain(n->lb);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
        free(n);
        return 0;
}

static struct sockaddr_in sin4(uint32_t a, uint16_t port)
{
        struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

        s.sin_addr.s_addr = htonl(a);
        return s;
}

static struct sockaddr_in6 sin6(const uint8_t *a, uint16_t port)
{
        struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

        memcpy(&s.sin6_addr, a, 16);
        return s;
}

#define SA(x) ((struct sockaddr *)&(x))

static int udp4(struct mpnet_stack *s, uint16_t port)
{
        int fd = mpnet_socket(s, AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = sin4(0, port);

        assert_true(fd >= 0);
        if (port != 0)
                assert_int_equal(mpnet_bind(s, fd, SA(a), sizeof(a)), 0);
        return fd;
}

static int udp6(struct mpnet_stack *s, uint16_t port, bool v6only)
{
        int fd = mpnet_socket(s, AF_INET6, SOCK_DGRAM, 0), on = v6only;
        struct sockaddr_in6 a = sin6(A6("::"), port);

        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(s, fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)), 0);
        if (port != 0)
                assert_int_equal(mpnet_bind(s, fd, SA(a), sizeof(a)), 0);
        return fd;
}

static uint64_t ctr_a(struct net *n, const char *c)
{
        return stk_ctr(n->a, c);
}

static void test_v4_both_ways(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 5000), fb = udp4(n->b, 0);
        struct sockaddr_in to = sin4(A_ADDR, 5000), from, me;
        socklen_t fl = sizeof(from), ml = sizeof(me);
        char buf[64];

        assert_int_equal(mpnet_sendto(n->b, fb, "hello", 5, 0, SA(to), sizeof(to)), 5);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, SA(from), &fl), 5);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(fl, sizeof(from));
        assert_int_equal(ntohl(from.sin_addr.s_addr), B_ADDR);
        /* RFC 6056: the unbound sender got a port of the ephemeral range. */
        assert_int_equal(mpnet_getsockname(n->b, fb, SA(me), &ml), 0);
        assert_int_equal(me.sin_port, from.sin_port);
        assert_true(ntohs(me.sin_port) >= 49152);
        assert_int_equal(mpnet_getpeername(n->b, fb, SA(me), &ml), -ENOTCONN);
        /* The answer to where it came from. */
        assert_int_equal(mpnet_sendto(n->a, fa, "world!", 6, 0, SA(from), fl), 6);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->b, fb, buf, sizeof(buf), 0, NULL, NULL), 6);
        assert_memory_equal(buf, "world!", 6);
        assert_int_equal(stk_ctr(n->a, "udp_in"), 1);
        assert_int_equal(stk_ctr(n->a, "udp_out"), 1);
        assert_int_equal(stk_ctr(n->b, "udp_in"), 1);
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_close(n->b, fb), 0);
}

static void test_v6_and_dual_stack(void **state)
{
        struct net *n = *state;
        int fa = udp6(n->a, 6000, false), fa6 = udp6(n->a, 6001, true), fb6 = udp6(n->b, 0, false),
            fb4 = udp4(n->b, 0);
        struct sockaddr_in6 to = sin6(A6("2001:db8::1"), 6000), from;
        struct sockaddr_in to4 = sin4(A_ADDR, 6000);
        socklen_t fl = sizeof(from);
        uint64_t unreach = ctr_a(n, "icmp4_err_tx");
        char buf[64];

        assert_int_equal(mpnet_sendto(n->b, fb6, "six", 3, 0, SA(to), sizeof(to)), 3);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, SA(from), &fl), 3);
        assert_memory_equal(&from.sin6_addr, A6("2001:db8::2"), 16);
        /* Dual stack: IPv4 arrives with a v4-mapped source. */
        assert_int_equal(mpnet_sendto(n->b, fb4, "four", 4, 0, SA(to4), sizeof(to4)), 4);
        net_run(n, MPNET_NS_PER_MS);
        fl = sizeof(from);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, SA(from), &fl), 4);
        assert_memory_equal(&from.sin6_addr, A6("::ffff:192.0.2.2"), 16);
        /* The dual-stack socket answers through IPv4. */
        assert_int_equal(mpnet_sendto(n->a, fa, "back", 4, 0, SA(from), fl), 4);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->b, fb4, buf, sizeof(buf), 0, NULL, NULL), 4);
        /* A V6ONLY socket takes no IPv4: the port is closed to it. */
        to4 = sin4(A_ADDR, 6001);
        assert_int_equal(mpnet_sendto(n->b, fb4, "four", 4, 0, SA(to4), sizeof(to4)), 4);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa6, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(ctr_a(n, "icmp4_err_tx"), unreach + 1);
        /* ... nor can it send there. */
        from = sin6(A6("::ffff:192.0.2.2"), 9);
        assert_int_equal(mpnet_sendto(n->a, fa6, "x", 1, 0, SA(from), sizeof(from)), -ENETUNREACH);
        mpnet_close(n->a, fa);
        mpnet_close(n->a, fa6);
        mpnet_close(n->b, fb6);
        mpnet_close(n->b, fb4);
}

static void test_bind_rules(void **state)
{
        struct net *n = *state;
        int f1 = udp4(n->a, 7000), f2 = mpnet_socket(n->a, AF_INET, SOCK_DGRAM, 0),
            f3 = mpnet_socket(n->a, AF_INET6, SOCK_DGRAM, 0), f4, on = 1;
        struct sockaddr_in a = sin4(0, 7000), other = sin4(IP4(198, 51, 100, 1), 7001);
        struct sockaddr_in6 a6 = sin6(A6("::"), 7000);
        socklen_t l = sizeof(a);

        assert_int_equal(mpnet_bind(n->a, f2, SA(a), sizeof(a)), -EADDRINUSE);
        /* A dual-stack socket on :: meets the IPv4 one. */
        assert_int_equal(mpnet_bind(n->a, f3, SA(a6), sizeof(a6)), -EADDRINUSE);
        assert_int_equal(mpnet_setsockopt(n->a, f3, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_bind(n->a, f3, SA(a6), sizeof(a6)), 0);
        assert_int_equal(mpnet_bind(n->a, f3, SA(a6), sizeof(a6)), -EINVAL);
        assert_int_equal(mpnet_setsockopt(n->a, f3, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)),
                         -EINVAL);
        /* Not an address of the stack. */
        assert_int_equal(mpnet_bind(n->a, f2, SA(other), sizeof(other)), -EADDRNOTAVAIL);
        /* Both with SO_REUSEADDR share. */
        mpnet_close(n->a, f1);
        f1 = mpnet_socket(n->a, AF_INET, SOCK_DGRAM, 0);
        assert_int_equal(mpnet_setsockopt(n->a, f1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_setsockopt(n->a, f2, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_bind(n->a, f1, SA(a), sizeof(a)), 0);
        assert_int_equal(mpnet_bind(n->a, f2, SA(a), sizeof(a)), 0);
        /* Port 0: an ephemeral one. */
        f4 = mpnet_socket(n->a, AF_INET, SOCK_DGRAM, 0);
        a = sin4(A_ADDR, 0);
        assert_int_equal(mpnet_bind(n->a, f4, SA(a), sizeof(a)), 0);
        assert_int_equal(mpnet_getsockname(n->a, f4, SA(a), &l), 0);
        assert_true(ntohs(a.sin_port) >= 49152);
        assert_int_equal(ntohl(a.sin_addr.s_addr), A_ADDR);
        /* A wrong length or family. */
        assert_int_equal(mpnet_bind(n->a, f4, SA(a), sizeof(a) - 1), -EINVAL);
        assert_int_equal(mpnet_bind(n->a, f4, SA(a6), sizeof(a6)), -EAFNOSUPPORT);
        mpnet_close(n->a, f1);
        mpnet_close(n->a, f2);
        mpnet_close(n->a, f3);
        mpnet_close(n->a, f4);
}

static void test_connect_filters(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 7100), fb1 = udp4(n->b, 7101), fb2 = udp4(n->b, 7102);
        struct sockaddr_in peer = sin4(B_ADDR, 7101), to = sin4(A_ADDR, 7100), got;
        struct sockaddr un = {.sa_family = AF_UNSPEC};
        socklen_t gl = sizeof(got);
        char buf[16];

        assert_int_equal(mpnet_connect(n->a, fa, SA(peer), sizeof(peer)), 0);
        assert_int_equal(mpnet_getpeername(n->a, fa, SA(got), &gl), 0);
        assert_int_equal(ntohs(got.sin_port), 7101);
        gl = sizeof(got);
        assert_int_equal(mpnet_getsockname(n->a, fa, SA(got), &gl), 0);
        assert_int_equal(ntohl(got.sin_addr.s_addr), A_ADDR); /* connect chose the source */
        assert_int_equal(mpnet_sendto(n->b, fb2, "no", 2, 0, SA(to), sizeof(to)), 2);
        assert_int_equal(mpnet_sendto(n->b, fb1, "yes", 3, 0, SA(to), sizeof(to)), 3);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), 3);
        assert_memory_equal(buf, "yes", 3);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(ctr_a(n, "udp_no_port"), 1);
        /* A send without an address goes to the peer. */
        assert_int_equal(mpnet_sendto(n->a, fa, "ok", 2, 0, NULL, 0), 2);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->b, fb1, buf, sizeof(buf), 0, NULL, NULL), 2);
        /* Disconnected, it takes anyone's again. */
        assert_int_equal(mpnet_connect(n->a, fa, &un, sizeof(un)), 0);
        assert_int_equal(mpnet_getpeername(n->a, fa, SA(got), &gl), -ENOTCONN);
        assert_int_equal(mpnet_sendto(n->a, fa, "x", 1, 0, NULL, 0), -EDESTADDRREQ);
        assert_int_equal(mpnet_sendto(n->b, fb2, "now", 3, 0, SA(to), sizeof(to)), 3);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), 3);
        /* Shutdown. */
        assert_int_equal(mpnet_shutdown(n->a, fa, SHUT_RDWR), -ENOTCONN);
        assert_int_equal(mpnet_connect(n->a, fa, SA(peer), sizeof(peer)), 0);
        assert_int_equal(mpnet_shutdown(n->a, fa, SHUT_WR), 0);
        assert_int_equal(mpnet_sendto(n->a, fa, "x", 1, 0, NULL, 0), -EPIPE);
        assert_int_equal(mpnet_shutdown(n->a, fa, 7), -EINVAL);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb1);
        mpnet_close(n->b, fb2);
}

static const struct cmsghdr *cm_find(struct msghdr *m, int level, int type)
{
        for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c))
                if (c->cmsg_level == level && c->cmsg_type == type)
                        return c;
        return NULL;
}

static int cm_int_of(const struct cmsghdr *c)
{
        int v;

        assert_non_null(c);
        memcpy(&v, CMSG_DATA(c), sizeof(v));
        return v;
}

static void test_msg_v4(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 7200), fb = udp4(n->b, 7201), on = 1;
        struct sockaddr_in to = sin4(A_ADDR, 7200), from;
        char p1[] = "abc", p2[] = "defgh", p3[] = "ij", r1[4], r2[16];
        struct iovec iov[3] = {{p1, 3}, {p2, 5}, {p3, 2}}, riov[2] = {{r1, 4}, {r2, 16}};
        union {
                char b[CMSG_SPACE(sizeof(int)) * 2 + CMSG_SPACE(sizeof(struct in_pktinfo))];
                struct cmsghdr align;
        } cb, rb;
        struct msghdr m = {.msg_name = &to,
                           .msg_namelen = sizeof(to),
                           .msg_iov = iov,
                           .msg_iovlen = 3,
                           .msg_control = cb.b};
        struct in_pktinfo pi = {0};
        struct cmsghdr *c;
        const struct cmsghdr *rc;
        int ttl = 7, tos = 0x28;

        assert_int_equal(mpnet_setsockopt(n->a, fa, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_setsockopt(n->a, fa, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_setsockopt(n->a, fa, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)), 0);
        /* B sends from a second address it names with IP_PKTINFO. */
        assert_int_equal(mpnet_addr4_add(n->b, 1, IP4(192, 0, 2, 12), 24), 0);
        memset(&cb, 0, sizeof(cb));
        m.msg_controllen = sizeof(cb.b);
        c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_TTL;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &ttl, sizeof(int));
        c = CMSG_NXTHDR(&m, c);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_TOS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &tos, sizeof(int));
        c = CMSG_NXTHDR(&m, c);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        pi.ipi_spec_dst.s_addr = htonl(IP4(192, 0, 2, 12));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        assert_int_equal(mpnet_sendmsg(n->b, fb, &m, 0), 10);
        net_run(n, MPNET_NS_PER_MS);
        m = (struct msghdr){.msg_name = &from,
                            .msg_namelen = sizeof(from),
                            .msg_iov = riov,
                            .msg_iovlen = 2,
                            .msg_control = rb.b,
                            .msg_controllen = sizeof(rb.b)};
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, 0), 10);
        assert_memory_equal(r1, "abcd", 4);
        assert_memory_equal(r2, "efghij", 6);
        assert_int_equal(m.msg_flags, 0);
        assert_int_equal(ntohl(from.sin_addr.s_addr), IP4(192, 0, 2, 12));
        assert_int_equal(cm_int_of(cm_find(&m, IPPROTO_IP, IP_TTL)), 7);
        rc = cm_find(&m, IPPROTO_IP, IP_TOS);
        assert_non_null(rc);
        assert_int_equal(*CMSG_DATA(rc), 0x28);
        rc = cm_find(&m, IPPROTO_IP, IP_PKTINFO);
        assert_non_null(rc);
        memcpy(&pi, CMSG_DATA(rc), sizeof(pi));
        assert_int_equal(pi.ipi_ifindex, 1);
        assert_int_equal(ntohl(pi.ipi_addr.s_addr), A_ADDR);
        /* No room for the ancillary data: MSG_CTRUNC. */
        assert_int_equal(mpnet_sendto(n->b, fb, "z", 1, 0, SA(to), sizeof(to)), 1);
        net_run(n, MPNET_NS_PER_MS);
        m.msg_controllen = CMSG_SPACE(sizeof(int));
        m.msg_namelen = sizeof(from);
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, 0), 1);
        assert_true(m.msg_flags & MSG_CTRUNC);
        /* Sent with the socket's TTL. */
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
        assert_int_equal(mpnet_sendto(n->b, fb, "z", 1, 0, SA(to), sizeof(to)), 1);
        net_run(n, MPNET_NS_PER_MS);
        m.msg_controllen = sizeof(rb.b);
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, 0), 1);
        assert_int_equal(cm_int_of(cm_find(&m, IPPROTO_IP, IP_TTL)), 7);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
        assert_int_equal(mpnet_addr4_del(n->b, 1, IP4(192, 0, 2, 12), 24), 0);
}

static void test_msg_v6(void **state)
{
        struct net *n = *state;
        int fa = udp6(n->a, 7300, false), fb = udp6(n->b, 7301, false), on = 1, hl = 9, tc = 0x30;
        struct sockaddr_in6 to = sin6(A6("2001:db8::1"), 7300), from;
        char buf[32];
        struct iovec iov = {buf, sizeof(buf)};
        union {
                char b[512];
                struct cmsghdr align;
        } rb;
        struct msghdr m = {.msg_name = &from,
                           .msg_namelen = sizeof(from),
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = rb.b,
                           .msg_controllen = sizeof(rb.b)};
        struct in6_pktinfo pi;
        const struct cmsghdr *rc;

        assert_int_equal(
            mpnet_setsockopt(n->a, fa, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)), 0);
        assert_int_equal(
            mpnet_setsockopt(n->a, fa, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_setsockopt(n->a, fa, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on)),
                         0);
        assert_int_equal(
            mpnet_setsockopt(n->b, fb, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hl, sizeof(hl)), 0);
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IPV6, IPV6_TCLASS, &tc, sizeof(tc)), 0);
        assert_int_equal(mpnet_sendto(n->b, fb, "v6msg", 5, 0, SA(to), sizeof(to)), 5);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, 0), 5);
        assert_int_equal(cm_int_of(cm_find(&m, IPPROTO_IPV6, IPV6_HOPLIMIT)), 9);
        assert_int_equal(cm_int_of(cm_find(&m, IPPROTO_IPV6, IPV6_TCLASS)), 0x30);
        rc = cm_find(&m, IPPROTO_IPV6, IPV6_PKTINFO);
        assert_non_null(rc);
        memcpy(&pi, CMSG_DATA(rc), sizeof(pi));
        assert_int_equal(pi.ipi6_ifindex, 1);
        assert_memory_equal(&pi.ipi6_addr, A6("2001:db8::1"), 16);
        assert_memory_equal(&from.sin6_addr, A6("2001:db8::2"), 16);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

static void test_peek_trunc(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 7400), fb = udp4(n->b, 0);
        struct sockaddr_in to = sin4(A_ADDR, 7400);
        char big[100], buf[10];
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

        for (int i = 0; i < 100; i++)
                big[i] = (char)i;
        assert_int_equal(mpnet_sendto(n->b, fb, big, 100, 0, SA(to), sizeof(to)), 100);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, MSG_PEEK), 10);
        assert_true(m.msg_flags & MSG_TRUNC);
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, MSG_PEEK | MSG_TRUNC), 100);
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, MSG_TRUNC | MSG_DONTWAIT), 100);
        assert_memory_equal(buf, big, 10);
        assert_int_equal(mpnet_recvmsg(n->a, fa, &m, 0), -EAGAIN);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

/* The largest datagrams, fragmented on the way and reassembled. */
static void big_one(struct net *n, int fam)
{
        size_t max = fam == 4 ? 65507 : 65527;
        uint8_t *out = malloc(max + 1), *in = malloc(max + 1);
        int fa = fam == 4 ? udp4(n->a, 7500) : udp6(n->a, 7500, true),
            fb = fam == 4 ? udp4(n->b, 7500) : udp6(n->b, 7500, true);
        struct sockaddr_in ta = sin4(A_ADDR, 7500), tb = sin4(B_ADDR, 7500);
        struct sockaddr_in6 ta6 = sin6(A6("2001:db8::1"), 7500),
                            tb6 = sin6(A6("2001:db8::2"), 7500);
        struct sockaddr *sa = fam == 4 ? SA(ta) : SA(ta6), *sb = fam == 4 ? SA(tb) : SA(tb6);
        socklen_t l = fam == 4 ? sizeof(ta) : sizeof(ta6);

        for (size_t i = 0; i < max + 1; i++)
                out[i] = (uint8_t)(i * 7 + 3);
        assert_int_equal(mpnet_sendto(n->b, fb, out, max + 1, 0, sa, l), -EMSGSIZE);
        /* A small one first: the neighbour's hold queue (RFC 1122
         * 2.3.2.2) would keep only the first fragments while it resolves. */
        assert_int_equal(mpnet_sendto(n->b, fb, out, 1, 0, sa, l), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, in, max + 1, 0, NULL, NULL), 1);
        assert_int_equal(mpnet_sendto(n->b, fb, out, max, 0, sa, l), (ssize_t)max);
        net_run(n, 10 * MPNET_NS_PER_MS);
        memset(in, 0, max);
        assert_int_equal(mpnet_recvfrom(n->a, fa, in, max + 1, 0, NULL, NULL), (ssize_t)max);
        assert_memory_equal(in, out, max);
        assert_int_equal(mpnet_sendto(n->a, fa, out, max, 0, sb, l), (ssize_t)max);
        net_run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->b, fb, in, max + 1, 0, NULL, NULL), (ssize_t)max);
        assert_memory_equal(in, out, max);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
        free(out);
        free(in);
}

static void test_64k(void **state)
{
        struct net *n = *state;

        big_one(n, 4);
        assert_true(stk_ctr(n->a, "ip4_reassembled") >= 1);
        assert_true(stk_ctr(n->b, "ip4_reassembled") >= 1);
        big_one(n, 6);
        assert_true(stk_ctr(n->a, "ip6_fragmented") >= 1);
}

static void test_port_unreachable_and_bcast(void **state)
{
        struct net *n = *state;
        int fb = udp4(n->b, 0), fa = udp4(n->a, 7600), on = 1;
        struct sockaddr_in closed = sin4(A_ADDR, 7601), bc = sin4(BCAST, 7601),
                           bc_open = sin4(BCAST, 7600);
        struct sockaddr_in6 closed6 = sin6(A6("2001:db8::1"), 7601);
        int fb6 = udp6(n->b, 0, false);
        uint64_t err4 = stk_ctr(n->a, "icmp4_err_tx"), err6 = stk_ctr(n->a, "icmp6_err_tx"),
                 rx4 = stk_ctr(n->b, "icmp4_err_rx"), noport = stk_ctr(n->a, "udp_no_port");
        char buf[8];

        assert_int_equal(mpnet_sendto(n->b, fb, "x", 1, 0, SA(closed), sizeof(closed)), 1);
        assert_int_equal(mpnet_sendto(n->b, fb6, "x", 1, 0, SA(closed6), sizeof(closed6)), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n->a, "icmp4_err_tx"), err4 + 1);
        assert_int_equal(stk_ctr(n->a, "icmp6_err_tx"), err6 + 1);
        assert_int_equal(stk_ctr(n->b, "icmp4_err_rx"), rx4 + 1);
        assert_int_equal(stk_ctr(n->a, "udp_no_port"), noport + 2);
        /* Broadcast needs SO_BROADCAST, and draws no error when closed. */
        assert_int_equal(mpnet_sendto(n->b, fb, "x", 1, 0, SA(bc), sizeof(bc)), -EACCES);
        assert_int_equal(mpnet_setsockopt(n->b, fb, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_sendto(n->b, fb, "x", 1, 0, SA(bc), sizeof(bc)), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n->a, "icmp4_err_tx"), err4 + 1);
        assert_int_equal(stk_ctr(n->a, "udp_no_port"), noport + 3);
        /* ... and reaches an open port. */
        assert_int_equal(mpnet_sendto(n->b, fb, "bc", 2, 0, SA(bc_open), sizeof(bc_open)), 2);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), 2);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
        mpnet_close(n->b, fb6);
}

static void test_mc6_member(void **state)
{
        struct net *n = *state;
        int fj = udp6(n->a, 7700, true), fn = mpnet_socket(n->a, AF_INET6, SOCK_DGRAM, 0),
            fb = udp6(n->b, 0, true), on = 1, ifx = 1;
        struct sockaddr_in6 any = sin6(A6("::"), 7700), grp = sin6(A6("ff0e::1:2"), 7700);
        struct ipv6_mreq mr = {.ipv6mr_interface = 1};
        char buf[8];

        assert_int_equal(mpnet_setsockopt(n->a, fn, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_setsockopt(n->a, fj, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_bind(n->a, fn, SA(any), sizeof(any)), 0);
        memcpy(&mr.ipv6mr_multiaddr, A6("ff0e::1:2"), 16);
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)),
                         0);
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)),
                         -EADDRINUSE);
        assert_int_equal(
            mpnet_setsockopt(n->b, fb, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifx, sizeof(ifx)), 0);
        net_run(n, MPNET_NS_PER_S);
        assert_int_equal(mpnet_sendto(n->b, fb, "mc", 2, 0, SA(grp), sizeof(grp)), 2);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fj, buf, sizeof(buf), 0, NULL, NULL), 2);
        assert_int_equal(mpnet_recvfrom(n->a, fn, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(
            mpnet_setsockopt(n->a, fj, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof(mr)), 0);
        assert_int_equal(
            mpnet_setsockopt(n->a, fj, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof(mr)),
            -EADDRNOTAVAIL);
        mpnet_close(n->a, fj);
        mpnet_close(n->a, fn);
        mpnet_close(n->b, fb);
}

/* IPv4 groups: IP_ADD_MEMBERSHIP joins through IGMP (a report goes out),
 * a group's datagram reaches only the sockets that joined it, broadcast
 * still every socket on the port; leave, close and the errors. */
static void test_mc4_member(void **state)
{
        struct net *n = *state;
        int fj = udp4(n->a, 0), fn = udp4(n->a, 0), fb = udp4(n->b, 0), on = 1;
        struct sockaddr_in any = sin4(0, 7710), grp = sin4(IP4(233, 252, 0, 9), 7710);
        struct ip_mreqn mr = {.imr_ifindex = 1}, mif = {.imr_ifindex = 1};
        struct ip_mreq old = {0};
        uint64_t rep = ctr_a(n, "igmp_report_tx");
        char buf[8];

        for (int i = 0; i < 2; i++) {
                int fd = i == 0 ? fj : fn;

                assert_int_equal(
                    mpnet_setsockopt(n->a, fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
                assert_int_equal(mpnet_bind(n->a, fd, SA(any), sizeof(any)), 0);
        }
        mr.imr_multiaddr.s_addr = htonl(IP4(233, 252, 0, 9));
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)),
                         0);
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)),
                         -EADDRINUSE);
        net_run(n, MPNET_NS_PER_S);
        assert_true(ctr_a(n, "igmp_report_tx") > rep);
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof(mif)),
                         0);
        assert_int_equal(mpnet_sendto(n->b, fb, "mc4", 3, 0, SA(grp), sizeof(grp)), 3);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fj, buf, sizeof(buf), 0, NULL, NULL), 3);
        assert_memory_equal(buf, "mc4", 3);
        assert_int_equal(mpnet_recvfrom(n->a, fn, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        /* A struct ip_mreq by the interface's address does the same. */
        old.imr_multiaddr.s_addr = htonl(IP4(233, 252, 0, 10));
        old.imr_interface.s_addr = htonl(A_ADDR);
        assert_int_equal(
            mpnet_setsockopt(n->a, fn, IPPROTO_IP, IP_ADD_MEMBERSHIP, &old, sizeof(old)), 0);
        assert_int_equal(
            mpnet_setsockopt(n->a, fn, IPPROTO_IP, IP_DROP_MEMBERSHIP, &old, sizeof(old)), 0);
        /* Leave: the group's datagrams are dropped before any socket. */
        assert_int_equal(
            mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
        assert_int_equal(
            mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)),
            -EADDRNOTAVAIL);
        net_run(n, MPNET_NS_PER_S);
        assert_int_equal(mpnet_sendto(n->b, fb, "mc4", 3, 0, SA(grp), sizeof(grp)), 3);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fj, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        /* Errors: not a group, no such interface, too short. */
        mr.imr_multiaddr.s_addr = htonl(IP4(192, 0, 2, 9));
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)),
                         -EINVAL);
        mr.imr_multiaddr.s_addr = htonl(IP4(233, 252, 0, 9));
        mr.imr_ifindex = 9;
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)),
                         -ENODEV);
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, 4),
                         -EINVAL);
        /* A join left to close: the membership goes with the socket. */
        mr.imr_ifindex = 1;
        assert_int_equal(mpnet_setsockopt(n->a, fj, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)),
                         0);
        mpnet_close(n->a, fj);
        mpnet_close(n->a, fn);
        mpnet_close(n->b, fb);
        net_run(n, 3 * MPNET_NS_PER_S); /* the leave's reports out */
        {
                struct mpnet_stack_usage u;

                assert_int_equal(mpnet_stack_usage_get(n->a, 1, &u), 0);
                assert_int_equal(u.mc4, 1); /* 224.0.0.1 only */
        }
}

/* Descriptors, arguments, options: their errors. */
static void test_errors(void **state)
{
        struct net *n = *state;
        int f0, f1, f2, v = 1;
        socklen_t l = sizeof(v);
        char buf[4];

        assert_int_equal(mpnet_socket(n->a, AF_UNIX, SOCK_DGRAM, 0), -EAFNOSUPPORT);
        assert_int_equal(mpnet_socket(n->a, AF_INET, SOCK_SEQPACKET, 0), -ESOCKTNOSUPPORT);
        assert_int_equal(mpnet_socket(n->a, AF_INET, SOCK_STREAM, IPPROTO_UDP), -EPROTONOSUPPORT);
        /* Raw sockets exist (l4/raw.c); protocol 0 names none, as on Linux. */
        assert_int_equal(mpnet_socket(n->a, AF_INET, SOCK_RAW, 0), -EPROTONOSUPPORT);
        assert_int_equal(mpnet_socket(n->a, AF_INET, SOCK_DGRAM, IPPROTO_TCP), -EPROTONOSUPPORT);
        assert_int_equal(mpnet_socket(n->a, AF_INET, SOCK_DGRAM | 0x40000000, 0), -EINVAL);
        f0 = mpnet_socket(n->a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        f1 = mpnet_socket(n->a, AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
        assert_int_equal(f0, 0);
        assert_int_equal(f1, 1);
        /* Lowest free first. */
        assert_int_equal(mpnet_close(n->a, f0), 0);
        assert_int_equal(mpnet_close(n->a, f0), -EBADF);
        f2 = mpnet_socket(n->a, AF_INET, SOCK_DGRAM, 0);
        assert_int_equal(f2, 0);
        assert_int_equal(mpnet_close(n->a, -1), -EBADF);
        assert_int_equal(mpnet_close(n->a, 1000000), -EBADF);
        assert_int_equal(mpnet_recvfrom(n->a, 77, buf, 4, 0, NULL, NULL), -EBADF);
        assert_int_equal(mpnet_sendto(n->a, 77, buf, 4, 0, NULL, 0), -EBADF);
        assert_int_equal(mpnet_bind(n->a, 77, NULL, 0), -EBADF);
        assert_int_equal(mpnet_setsockopt(n->a, 77, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)),
                         -EBADF);
        assert_int_equal(mpnet_recvfrom(n->a, f2, buf, 4, 0, NULL, NULL), -EAGAIN);
        assert_int_equal(mpnet_sendto(n->a, f2, buf, 4, 0, NULL, 0), -EDESTADDRREQ);
        /* Lengths and names. */
        assert_int_equal(mpnet_setsockopt(n->a, f2, SOL_SOCKET, SO_REUSEADDR, &v, 2), -EINVAL);
        assert_int_equal(mpnet_setsockopt(n->a, f2, SOL_SOCKET, 9999, &v, sizeof(v)), -ENOPROTOOPT);
        assert_int_equal(mpnet_setsockopt(n->a, f2, 9999, 1, &v, sizeof(v)), -ENOPROTOOPT);
        assert_int_equal(mpnet_setsockopt(n->a, f2, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)),
                         -ENOPROTOOPT);
        v = 0;
        assert_int_equal(mpnet_setsockopt(n->a, f2, IPPROTO_IP, IP_TTL, &v, sizeof(v)), -EINVAL);
        v = 99;
        assert_int_equal(mpnet_setsockopt(n->a, f2, SOL_SOCKET, SO_BINDTOIFINDEX, &v, sizeof(v)),
                         -ENODEV);
        assert_int_equal(mpnet_getsockopt(n->a, f2, SOL_SOCKET, SO_TYPE, &v, &l), 0);
        assert_int_equal(v, SOCK_DGRAM);
        assert_int_equal(mpnet_getsockopt(n->a, f1, SOL_SOCKET, SO_DOMAIN, &v, &l), 0);
        assert_int_equal(v, AF_INET6);
        assert_int_equal(mpnet_getsockopt(n->a, f1, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l), 0);
        assert_int_equal(v, 0); /* dual stack by default, as Linux */
        assert_int_equal(mpnet_getsockopt(n->a, f2, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
        assert_int_equal(v, 212992);
        v = 10000;
        assert_int_equal(mpnet_setsockopt(n->a, f2, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
        assert_int_equal(mpnet_getsockopt(n->a, f2, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
        assert_int_equal(v, 20000);
        assert_int_equal(mpnet_getsockopt(n->a, f2, SOL_SOCKET, SO_ERROR, &v, &l), 0);
        assert_int_equal(v, 0);
        l = 2;
        assert_int_equal(mpnet_getsockopt(n->a, f2, SOL_SOCKET, SO_TYPE, &v, &l), -EINVAL);
        assert_int_equal(mpnet_close(n->a, f1), 0);
        assert_int_equal(mpnet_close(n->a, f2), 0);
}

/* A full receive buffer drops and counts; close frees what is queued. */
static void test_rcvbuf_and_close(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 7800), fb = udp4(n->b, 0), v = 1;
        struct sockaddr_in to = sin4(A_ADDR, 7800);
        uint32_t base = mpnet_pool_in_use(n->pool);

        /* The least: two buffers. */
        assert_int_equal(mpnet_setsockopt(n->a, fa, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
        for (int i = 0; i < 5; i++)
                assert_int_equal(mpnet_sendto(n->b, fb, "q", 1, 0, SA(to), sizeof(to)), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n->a, "udp_in"), 2);
        assert_int_equal(stk_ctr(n->a, "udp_rcvbuf_full"), 3);
        assert_int_equal(mpnet_pool_in_use(n->pool), base + 2);
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_pool_in_use(n->pool), base);
        mpnet_close(n->b, fb);
}

struct cb_ctx {
        unsigned calls, got;
        bool close_it;
};

static void on_readable(struct mpnet_stack *s, int fd, void *arg)
{
        struct cb_ctx *c = arg;
        char buf[16];

        c->calls++;
        while (mpnet_recvfrom(s, fd, buf, sizeof(buf), 0, NULL, NULL) >= 0)
                c->got++;
        if (c->close_it)
                assert_int_equal(mpnet_close(s, fd), 0);
}

static void test_callback(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 7900), fb = udp4(n->b, 0);
        struct sockaddr_in to = sin4(A_ADDR, 7900);
        struct cb_ctx c = {0};

        assert_int_equal(mpnet_sock_set_cb(n->a, fa, on_readable, &c), 0);
        assert_int_equal(mpnet_sock_set_cb(n->a, 99, on_readable, &c), -EBADF);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(mpnet_sendto(n->b, fb, "cb", 2, 0, SA(to), sizeof(to)), 2);
                net_run(n, MPNET_NS_PER_MS);
        }
        assert_int_equal(c.calls, 3);
        assert_int_equal(c.got, 3);
        /* Closed from its own callback. */
        c.close_it = true;
        assert_int_equal(mpnet_sendto(n->b, fb, "cb", 2, 0, SA(to), sizeof(to)), 2);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(c.calls, 4);
        assert_int_equal(mpnet_close(n->a, fa), -EBADF);
        mpnet_close(n->b, fb);
}

static void test_zero_copy(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 8000), fb = udp4(n->b, 0);
        struct sockaddr_in to = sin4(A_ADDR, 8000), from;
        socklen_t fl = sizeof(from);
        struct mpnet_pkt *p = mpnet_pkt_alloc(n->pool), *q;

        memcpy(mpnet_pkt_append(p, 18), "eighteen bytes....", 18);
        assert_int_equal(mpnet_send_pkt(n->b, fb, p, SA(to), sizeof(to)), 18);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recv_pkt(n->a, fa, &q, SA(from), &fl), 18);
        assert_non_null(q);
        assert_int_equal(q->pkt_len, 18);
        assert_memory_equal(q->data, "eighteen bytes....", 18);
        assert_int_equal(ntohl(from.sin_addr.s_addr), B_ADDR);
        mpnet_pkt_free(q);
        assert_int_equal(mpnet_recv_pkt(n->a, fa, &q, NULL, NULL), -EAGAIN);
        assert_null(q);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

/* ---- malformed datagrams, injected on the wire to A ---- */

static uint64_t drops_total(struct mpnet_stack *s)
{
        uint64_t t = 0;

        for (unsigned c = 0; c < mpnet_stack_counter_count(s); c++)
                if (strncmp(mpnet_stack_counter_desc(s, c), "drop:", 5) == 0)
                        t += mpnet_stack_counter(s, c);
        return t;
}

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0x77, 0x01};

/* Ethernet + IPv4 (or IPv6) from B's addresses to A's, then a UDP header
 * (length field ulen) with n payload bytes after it, the checksum right
 * unless csum says otherwise (-1: computed). @return the frame length. */
static size_t frame_udp(struct net *n, uint8_t *f, int fam, uint16_t dport, size_t ip_payload,
                        int ulen, int csum)
{
        uint8_t *u;
        size_t hl = fam == 4 ? MPNET_IP4_HLEN : MPNET_IP6_HLEN;

        memcpy(f, n->la->info.mac, 6);
        memcpy(f + 6, peer_mac, 6);
        mpnet_put_be16(f + 12, fam == 4 ? MPNET_ETHERTYPE_IPV4 : MPNET_ETHERTYPE_IPV6);
        if (fam == 4) {
                struct mpnet_ip4_repr ip = {.src = B_ADDR,
                                            .dst = A_ADDR,
                                            .id = 9,
                                            .ttl = 64,
                                            .proto = MPNET_IPPROTO_UDP,
                                            .payload_len = (uint16_t)ip_payload};

                mpnet_ip4_repr_emit(&ip, f + 14);
        } else {
                struct mpnet_ip6_repr ip = {.next_header = MPNET_IPPROTO_UDP,
                                            .hop_limit = 64,
                                            .payload_len = (uint16_t)ip_payload};

                memcpy(ip.src, A6("2001:db8::2"), 16);
                memcpy(ip.dst, A6("2001:db8::1"), 16);
                mpnet_ip6_repr_emit(&ip, f + 14);
        }
        u = f + 14 + hl;
        for (size_t i = 0; i < ip_payload; i++)
                u[i] = (uint8_t)(i + 1);
        if (ip_payload >= 8) {
                mpnet_put_be16(u, 9999);
                mpnet_put_be16(u + 2, dport);
                mpnet_put_be16(u + 4, (uint16_t)ulen);
                mpnet_put_be16(u + 6, 0);
                if (csum >= 0) {
                        mpnet_put_be16(u + 6, (uint16_t)csum);
                } else if (fam == 4) {
                        mpnet_udp4_csum_set(u, B_ADDR, A_ADDR);
                } else {
                        mpnet_udp6_csum_set(u, A6("2001:db8::2"), A6("2001:db8::1"));
                }
        }
        return 14 + hl + ip_payload;
}

/* Put f on the wire to A alone and let A take it. */
static void inject(struct net *n, const uint8_t *f, size_t len)
{
        struct mpnet_pkt *p = pkt_at_end(n->pool, f, (uint32_t)len);

        assert_int_equal(mpnet_link_tx_burst(n->lb, 0, &p, 1), 1);
        mpnet_stack_poll(n->a, mpnet_clock_now(&n->clk));
}

static void expect_drop(struct net *n, const uint8_t *f, size_t len, const char *c)
{
        uint64_t before = ctr_a(n, c), total = drops_total(n->a),
                 err = ctr_a(n, "icmp4_err_tx") + ctr_a(n, "icmp6_err_tx");

        inject(n, f, len);
        if (ctr_a(n, c) != before + 1)
                fail_msg("expected counter %s to count the frame", c);
        assert_int_equal(drops_total(n->a), total + 1);
        assert_int_equal(ctr_a(n, "icmp4_err_tx") + ctr_a(n, "icmp6_err_tx"), err);
}

static void test_malformed(void **state)
{
        struct net *n = *state;
        int fa = udp6(n->a, 8100, false);
        uint8_t f[256];
        size_t len;
        char buf[64];

        for (int fam = 4; fam <= 6; fam += 2) {
                /* Fewer than 8 bytes of IP payload. */
                len = frame_udp(n, f, fam, 8100, 7, 0, 0);
                expect_drop(n, f, len, "udp_short");
                /* A length field below 8. */
                len = frame_udp(n, f, fam, 8100, 20, 7, -1);
                expect_drop(n, f, len, "udp_bad_len");
                /* Beyond the IP payload. */
                len = frame_udp(n, f, fam, 8100, 20, 21, -1);
                expect_drop(n, f, len, "udp_len_beyond");
                /* Short of it (Linux would trim; we drop). */
                len = frame_udp(n, f, fam, 8100, 20, 16, -1);
                expect_drop(n, f, len, "udp_len_short");
                /* A bad checksum. */
                len = frame_udp(n, f, fam, 8100, 20, 20, 0x1234);
                expect_drop(n, f, len, "udp_bad_csum");
                /* To a closed port with a bad checksum: no error either. */
                len = frame_udp(n, f, fam, 8101, 20, 20, 0x1234);
                expect_drop(n, f, len, "udp_bad_csum");
        }
        /* A zero checksum: none over IPv4 (taken), forbidden over IPv6. */
        len = frame_udp(n, f, 6, 8100, 20, 20, 0);
        expect_drop(n, f, len, "udp_zero_csum6");
        len = frame_udp(n, f, 4, 8100, 20, 20, 0);
        inject(n, f, len);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), 12);
        /* And a right one of each family goes through. */
        len = frame_udp(n, f, 6, 8100, 20, 20, -1);
        inject(n, f, len);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), 12);
        assert_int_equal(buf[0], 9);
        mpnet_close(n->a, fa);
        link_drain(n->lb);
}

/* Sockets in event sets (include/mpnet/evset.h): level and edge triggered
 * readiness of datagrams, the set's descriptor readable exactly while
 * something is ready, a closed socket out of the set. */
static void test_evset(void **state)
{
        struct net *n = *state;
        int fa = udp4(n->a, 5100), fa2 = udp4(n->a, 5101), fb = udp4(n->b, 0);
        struct sockaddr_in to = sin4(A_ADDR, 5100), to2 = sin4(A_ADDR, 5101);
        struct mpnet_evset *es = mpnet_evset_create(), *es2 = mpnet_evset_create();
        struct mpnet_event_ready ev[4];
        struct pollfd pf = {.events = POLLIN};
        char buf[64];

        assert_non_null(es);
        assert_non_null(es2);
        pf.fd = mpnet_evset_fd(es);
        assert_true(pf.fd >= 0);
        assert_int_equal(mpnet_evset_ctl(es, MPNET_EV_CTL_ADD, n->a, fa, MPNET_EV_IN, 11), 0);
        assert_int_equal(mpnet_evset_ctl(es, MPNET_EV_CTL_ADD, n->a, fa, MPNET_EV_IN, 11), -EEXIST);
        assert_int_equal(
            mpnet_evset_ctl(es, MPNET_EV_CTL_ADD, n->a, fa2, MPNET_EV_IN | MPNET_EV_ET, 22), 0);
        assert_int_equal(mpnet_evset_ctl(es, MPNET_EV_CTL_ADD, n->a, 999, MPNET_EV_IN, 0), -EBADF);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 0);
        assert_int_equal(poll(&pf, 1, 0), 0);

        /* Two datagrams to fa: level triggered, reported while queued. */
        assert_int_equal(mpnet_sendto(n->b, fb, "one", 3, 0, SA(to), sizeof(to)), 3);
        assert_int_equal(mpnet_sendto(n->b, fb, "two", 3, 0, SA(to), sizeof(to)), 3);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(poll(&pf, 1, 0), 1);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 1);
        assert_int_equal(ev[0].data, 11);
        assert_true(ev[0].events & MPNET_EV_IN);
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), 3);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 1); /* one left */
        assert_int_equal(mpnet_recvfrom(n->a, fa, buf, sizeof(buf), 0, NULL, NULL), 3);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 0);
        assert_int_equal(poll(&pf, 1, 0), 0);

        /* Edge triggered: one report per rise, even with data left. */
        assert_int_equal(mpnet_sendto(n->b, fb, "x", 1, 0, SA(to2), sizeof(to2)), 1);
        assert_int_equal(mpnet_sendto(n->b, fb, "y", 1, 0, SA(to2), sizeof(to2)), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 1);
        assert_int_equal(ev[0].data, 22);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 0);
        assert_int_equal(mpnet_recvfrom(n->a, fa2, buf, sizeof(buf), 0, NULL, NULL), 1);
        assert_int_equal(mpnet_recvfrom(n->a, fa2, buf, sizeof(buf), 0, NULL, NULL), 1);
        assert_int_equal(mpnet_recvfrom(n->a, fa2, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(mpnet_sendto(n->b, fb, "z", 1, 0, SA(to2), sizeof(to2)), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 1);
        assert_int_equal(ev[0].data, 22);

        /* Writable at once; a second set sees the same socket. */
        assert_int_equal(mpnet_evset_ctl(es2, MPNET_EV_CTL_ADD, n->a, fa, MPNET_EV_OUT, 33), 0);
        assert_int_equal(mpnet_evset_wait(es2, ev, 4, 0), 1);
        assert_int_equal(ev[0].events, MPNET_EV_OUT);

        /* Closed: out of both sets, and its descriptor is free again. */
        assert_int_equal(mpnet_sendto(n->b, fb, "q", 1, 0, SA(to), sizeof(to)), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_evset_wait(es, ev, 4, 0), 0);
        assert_int_equal(mpnet_evset_wait(es2, ev, 4, 0), 0);
        assert_int_equal(mpnet_evset_ctl(es, MPNET_EV_CTL_DEL, n->a, fa, 0, 0), -EBADF);
        fa = udp4(n->a, 5100);
        assert_int_equal(mpnet_evset_ctl(es, MPNET_EV_CTL_MOD, n->a, fa, MPNET_EV_IN, 0), -ENOENT);

        mpnet_evset_destroy(es);
        mpnet_evset_destroy(es2);
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_close(n->a, fa2), 0);
        assert_int_equal(mpnet_close(n->b, fb), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_v4_both_ways, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v6_and_dual_stack, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bind_rules, setup, teardown),
            cmocka_unit_test_setup_teardown(test_connect_filters, setup, teardown),
            cmocka_unit_test_setup_teardown(test_msg_v4, setup, teardown),
            cmocka_unit_test_setup_teardown(test_msg_v6, setup, teardown),
            cmocka_unit_test_setup_teardown(test_peek_trunc, setup, teardown),
            cmocka_unit_test_setup_teardown(test_64k, setup, teardown),
            cmocka_unit_test_setup_teardown(test_port_unreachable_and_bcast, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mc6_member, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mc4_member, setup, teardown),
            cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rcvbuf_and_close, setup, teardown),
            cmocka_unit_test_setup_teardown(test_callback, setup, teardown),
            cmocka_unit_test_setup_teardown(test_zero_copy, setup, teardown),
            cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_evset, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
