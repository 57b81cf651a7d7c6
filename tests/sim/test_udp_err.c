/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP errors on UDP sockets (l4/sock_err.c, udp_err in l4/udp.c) and on
 * ICMP echo sockets (ping_sock_err in l4/ping_sock.c), and the path MTU
 * for UDP (l3/pmtu.c), on three stacks over memory wires under the virtual
 * clock:
 *
 *   A ---- r1 R r2 ---- B     A 192.0.2.1, 2001:db8:1::1 (MTU 1500)
 *                             B 198.51.100.2, 2001:db8:2::2 (R-B MTU 1280)
 *
 * B answers datagrams to closed ports with port unreachable; R answers
 * what does not fit r2 with fragmentation needed / packet too big. Forged
 * and malformed errors are injected on A's wire.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/errqueue.h>

#include "mpnet/ip6.h"
#include "mpnet/socket.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/udp.h"
#include "ip6util.h"
#include "testutil.h"

#define A4    IP4(192, 0, 2, 1)
#define R4    IP4(192, 0, 2, 254)
#define B4    IP4(198, 51, 100, 2)
#define SA(x) ((struct sockaddr *)&(x))

enum { A, R, B };

struct net {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *l[4];
        struct mpnet_stack *st[3];
};

static void run(struct net *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 3, mpnet_clock_now(&n->clk) + ns);
}

static void route4(struct mpnet_stack *s, uint32_t dst, uint8_t plen, uint32_t gw)
{
        struct mpnet_route4 r = {.dst = dst, .plen = plen, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        r.paths[0].ifindex = 1;
        r.paths[0].gw = gw;
        assert_int_equal(mpnet_route4_add(s, 0, &r), 0);
}

static void route6(struct mpnet_stack *s, const char *dst, const char *gw)
{
        struct mpnet_route6 r = {.plen = 64, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        memcpy(r.dst, A6(dst), 16);
        r.paths[0].ifindex = 1;
        memcpy(r.paths[0].gw, A6(gw), 16);
        assert_int_equal(mpnet_route6_add(s, 0, &r), 0);
}

static int setup(void **state)
{
        struct net *n = calloc(1, sizeof(*n));
        struct mpnet_memwire_cfg w1 = {.name = "ue1"}, w2 = {.name = "ue2", .mtu = 1280};

        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("ue", 8192);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&w1, &n->l[0], &n->l[1]), 0);
        assert_int_equal(mpnet_memwire_create(&w2, &n->l[2], &n->l[3]), 0);
        n->st[A] = stack6_new(&n->clk, n->pool, "A", 31, false);
        n->st[R] = stack6_new(&n->clk, n->pool, "R", 32, true);
        n->st[B] = stack6_new(&n->clk, n->pool, "B", 33, false);
        assert_int_equal(mpnet_iface_attach(n->st[A], n->l[0], "a0"), 1);
        assert_int_equal(mpnet_iface_attach(n->st[R], n->l[1], "r1"), 1);
        assert_int_equal(mpnet_iface_attach(n->st[R], n->l[2], "r2"), 2);
        assert_int_equal(mpnet_iface_attach(n->st[B], n->l[3], "b0"), 1);
        assert_int_equal(mpnet_addr4_add(n->st[A], 1, A4, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[R], 1, R4, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[R], 2, IP4(198, 51, 100, 254), 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[B], 1, B4, 24), 0);
        route4(n->st[A], IP4(198, 51, 100, 0), 24, R4);
        route4(n->st[B], IP4(192, 0, 2, 0), 24, IP4(198, 51, 100, 254));
        assert_int_equal(mpnet_addr6_add(n->st[A], 1, A6("2001:db8:1::1"), 64, MPNET_ADDR6_F_NODAD),
                         0);
        assert_int_equal(
            mpnet_addr6_add(n->st[R], 1, A6("2001:db8:1::ff"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(
            mpnet_addr6_add(n->st[R], 2, A6("2001:db8:2::ff"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_addr6_add(n->st[B], 1, A6("2001:db8:2::2"), 64, MPNET_ADDR6_F_NODAD),
                         0);
        route6(n->st[A], "2001:db8:2::", "2001:db8:1::ff");
        route6(n->st[B], "2001:db8:1::", "2001:db8:2::ff");
        run(n, 15 * MPNET_NS_PER_S);
        *state = n;
        return 0;
}

static int teardown(void **state)
{
        struct net *n = *state;

        for (int i = 0; i < 3; i++)
                mpnet_stack_destroy(n->st[i]);
        for (int i = 0; i < 4; i++) {
                link_drain(n->l[i]);
                mpnet_link_destroy(n->l[i]);
        }
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

static int sock4(struct net *n, int on_recverr)
{
        int fd = mpnet_socket(n->st[A], AF_INET, SOCK_DGRAM, 0);

        assert_true(fd >= 0);
        assert_int_equal(
            mpnet_setsockopt(n->st[A], fd, IPPROTO_IP, IP_RECVERR, &on_recverr, sizeof(on_recverr)),
            0);
        return fd;
}

static int sock6(struct net *n, int on_recverr)
{
        int fd = mpnet_socket(n->st[A], AF_INET6, SOCK_DGRAM, 0);

        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(n->st[A], fd, IPPROTO_IPV6, IPV6_RECVERR, &on_recverr,
                                          sizeof(on_recverr)),
                         0);
        return fd;
}

static int so_error(struct net *n, int fd)
{
        int v = -1;
        socklen_t l = sizeof(v);

        assert_int_equal(mpnet_getsockopt(n->st[A], fd, SOL_SOCKET, SO_ERROR, &v, &l), 0);
        return v;
}

static uint64_t ctr(struct net *n, int i, const char *c)
{
        return stk_ctr(n->st[i], c);
}

static ssize_t send_n(struct net *n, int fd, size_t len)
{
        static uint8_t buf[2000];

        return mpnet_sendto(n->st[A], fd, buf, len, 0, NULL, 0);
}

/* Port unreachable to a connected socket: the next receive returns
 * ECONNREFUSED once, then EAGAIN (Linux); the next send likewise. */
static void test_port_unreach_connected(void **state)
{
        struct net *n = *state;
        int fd = sock4(n, 0);
        struct sockaddr_in to = sin4(B4, 7777);
        char buf[16];

        assert_int_equal(mpnet_connect(n->st[A], fd, SA(to), sizeof(to)), 0);
        assert_int_equal(send_n(n, fd, 5), 5);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(ctr(n, B, "udp_no_port"), 1);
        assert_int_equal(ctr(n, A, "udp_err_in"), 1);
        assert_int_equal(mpnet_recvfrom(n->st[A], fd, buf, sizeof(buf), 0, NULL, NULL),
                         -ECONNREFUSED);
        assert_int_equal(mpnet_recvfrom(n->st[A], fd, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(so_error(n, fd), 0);
        /* Again: this time the send takes it. */
        assert_int_equal(send_n(n, fd, 5), 5);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(send_n(n, fd, 5), -ECONNREFUSED);
        assert_int_equal(so_error(n, fd), 0);
        /* No error queue without IP_RECVERR. */
        {
                struct msghdr m = {0};

                assert_int_equal(mpnet_recvmsg(n->st[A], fd, &m, MSG_ERRQUEUE), -EAGAIN);
        }
        /* IPv6, read through SO_ERROR. */
        {
                int f6 = sock6(n, 0);
                struct sockaddr_in6 t6 = sin6(A6("2001:db8:2::2"), 7777);

                assert_int_equal(mpnet_connect(n->st[A], f6, SA(t6), sizeof(t6)), 0);
                assert_int_equal(send_n(n, f6, 5), 5);
                run(n, 10 * MPNET_NS_PER_MS);
                assert_int_equal(so_error(n, f6), ECONNREFUSED);
                assert_int_equal(so_error(n, f6), 0);
                assert_int_equal(mpnet_recvfrom(n->st[A], f6, buf, sizeof(buf), 0, NULL, NULL),
                                 -EAGAIN);
        }
}

/* An unconnected socket without IP_RECVERR ignores the error (Linux). */
static void test_unconnected_ignores(void **state)
{
        struct net *n = *state;
        int fd = sock4(n, 0);
        struct sockaddr_in to = sin4(B4, 7777);
        char buf[16];

        assert_int_equal(mpnet_sendto(n->st[A], fd, "x", 1, 0, SA(to), sizeof(to)), 1);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(ctr(n, A, "icmp4_err_rx"), 1);
        assert_int_equal(ctr(n, A, "udp_err_ignored"), 1);
        assert_int_equal(ctr(n, A, "udp_err_in"), 0);
        assert_int_equal(so_error(n, fd), 0);
        assert_int_equal(mpnet_recvfrom(n->st[A], fd, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
}

/* One record of the error queue: its data, its cmsg. */
static ssize_t errq_read(struct net *n, int fd, void *buf, size_t len, void *name, socklen_t nlen,
                         struct sock_extended_err *ee, void *off, size_t offlen, int *level,
                         int *type)
{
        union {
                struct cmsghdr c;
                uint8_t b[256];
        } cbuf;
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr m = {.msg_name = name,
                           .msg_namelen = nlen,
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = cbuf.b,
                           .msg_controllen = sizeof(cbuf.b)};
        ssize_t r = mpnet_recvmsg(n->st[A], fd, &m, MSG_ERRQUEUE);
        struct cmsghdr *c;

        if (r < 0)
                return r;
        assert_true(m.msg_flags & MSG_ERRQUEUE);
        c = CMSG_FIRSTHDR(&m);
        assert_non_null(c);
        *level = c->cmsg_level;
        *type = c->cmsg_type;
        memcpy(ee, CMSG_DATA(c), sizeof(*ee));
        /* SO_EE_OFFENDER: right after it. */
        memcpy(off, CMSG_DATA(c) + sizeof(*ee), offlen);
        return r;
}

/* IP_RECVERR / IPV6_RECVERR: the error on the queue, as Linux gives it. */
static void test_recverr_queue(void **state)
{
        struct net *n = *state;
        int fd = sock4(n, 1), f6 = sock6(n, 1), level, type;
        struct sockaddr_in to = sin4(B4, 7777), name, off;
        struct sockaddr_in6 t6 = sin6(A6("2001:db8:2::2"), 7778), name6, off6;
        struct sock_extended_err ee;
        char buf[32];

        assert_int_equal(mpnet_sendto(n->st[A], fd, "hello", 5, 0, SA(to), sizeof(to)), 5);
        assert_int_equal(mpnet_sendto(n->st[A], f6, "hello6", 6, 0, SA(t6), sizeof(t6)), 6);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(errq_read(n, fd, buf, sizeof(buf), &name, sizeof(name), &ee, &off,
                                   sizeof(off), &level, &type),
                         5);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(level, SOL_IP);
        assert_int_equal(type, IP_RECVERR);
        assert_int_equal(ee.ee_errno, ECONNREFUSED);
        assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_ICMP);
        assert_int_equal(ee.ee_type, 3);
        assert_int_equal(ee.ee_code, 3);
        assert_int_equal(ee.ee_info, 0);
        assert_int_equal(off.sin_family, AF_INET);
        assert_int_equal(ntohl(off.sin_addr.s_addr), B4);
        assert_int_equal(ntohl(name.sin_addr.s_addr), B4);
        assert_int_equal(ntohs(name.sin_port), 7777);
        /* The queue is empty; the pending error went with the record. */
        assert_int_equal(errq_read(n, fd, buf, sizeof(buf), &name, sizeof(name), &ee, &off,
                                   sizeof(off), &level, &type),
                         -EAGAIN);
        assert_int_equal(so_error(n, fd), 0);

        assert_int_equal(errq_read(n, f6, buf, sizeof(buf), &name6, sizeof(name6), &ee, &off6,
                                   sizeof(off6), &level, &type),
                         6);
        assert_memory_equal(buf, "hello6", 6);
        assert_int_equal(level, SOL_IPV6);
        assert_int_equal(type, IPV6_RECVERR);
        assert_int_equal(ee.ee_errno, ECONNREFUSED);
        assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_ICMP6);
        assert_int_equal(ee.ee_type, MPNET_ICMP6_DEST_UNREACH);
        assert_int_equal(ee.ee_code, 4);
        assert_int_equal(off6.sin6_family, AF_INET6);
        assert_memory_equal(&off6.sin6_addr, A6("2001:db8:2::2"), 16);
        assert_memory_equal(&name6.sin6_addr, A6("2001:db8:2::2"), 16);
        assert_int_equal(ntohs(name6.sin6_port), 7778);
        assert_int_equal(ctr(n, A, "udp_err_in"), 2);

        /* Bounded: past the cap, records are dropped and counted. Each
         * error is pending too (Linux sets sk_err with IP_RECVERR), so
         * every other send returns it. */
        for (int i = 0; i < 80; i++) {
                ssize_t r = mpnet_sendto(n->st[A], fd, "x", 1, 0, SA(to), sizeof(to));

                assert_true(r == 1 || r == -ECONNREFUSED);
                run(n, 2 * MPNET_NS_PER_MS);
        }
        assert_true(ctr(n, A, "udp_errq_full") >= 1);
}

/* ---- injected errors ---- */

/* An ICMP error from R to A quoting a UDP datagram A -> dst (sport,
 * dport), cut to quote bytes of the quoted datagram. @return the frame
 * length. */
static size_t icmp4_frame(struct net *n, uint8_t *f, uint8_t type, uint8_t code, uint32_t rest,
                          uint32_t qdst, uint16_t sport, uint16_t dport, size_t quote)
{
        uint8_t q[64];
        struct mpnet_ip4_repr qip = {.src = A4,
                                     .dst = qdst,
                                     .id = 7,
                                     .ttl = 1,
                                     .proto = MPNET_IPPROTO_UDP,
                                     .payload_len = 8 + 4};
        struct mpnet_icmp4_repr r = {.type = type, .code = code, .rest = rest};
        struct mpnet_ip4_repr ip = {
            .src = R4, .dst = A4, .id = 9, .ttl = 64, .proto = MPNET_IPPROTO_ICMP};
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};

        mpnet_ip4_repr_emit(&qip, q);
        mpnet_put_be16(q + 20, sport);
        mpnet_put_be16(q + 22, dport);
        mpnet_put_be16(q + 24, 12);
        mpnet_put_be16(q + 26, 0);
        memcpy(q + 28, "ping", 4);
        r.data = q;
        r.data_len = quote;
        ip.payload_len = (uint16_t)(MPNET_ICMP4_HLEN + quote);
        memcpy(eth.dst, n->l[0]->info.mac, 6);
        memcpy(eth.src, n->l[1]->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        memcpy(f + 34 + MPNET_ICMP4_HLEN, q, quote);
        r.data = f + 34 + MPNET_ICMP4_HLEN;
        mpnet_icmp4_repr_emit(&r, f + 34);
        return 34 + MPNET_ICMP4_HLEN + quote;
}

static size_t icmp6_frame(struct net *n, uint8_t *f, uint8_t type, uint8_t code, uint32_t info,
                          const uint8_t *qdst, uint16_t sport, uint16_t dport, size_t quote)
{
        uint8_t *q = f + 14 + 40 + MPNET_ICMP6_HLEN;
        struct mpnet_ip6_repr qip = {
            .next_header = MPNET_IPPROTO_UDP, .hop_limit = 1, .payload_len = 12};
        struct mpnet_ip6_repr ip = {.next_header = MPNET_IPPROTO_ICMPV6, .hop_limit = 64};
        struct mpnet_icmp6_repr r = {.type = type, .code = code, .rest = info};
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV6};
        uint8_t full[64];

        memcpy(qip.src, A6("2001:db8:1::1"), 16);
        memcpy(qip.dst, qdst, 16);
        mpnet_ip6_repr_emit(&qip, full);
        mpnet_put_be16(full + 40, sport);
        mpnet_put_be16(full + 42, dport);
        mpnet_put_be16(full + 44, 12);
        mpnet_put_be16(full + 46, 0x1234);
        memcpy(full + 48, "ping", 4);
        memcpy(q, full, quote);
        memcpy(ip.src, A6("2001:db8:1::ff"), 16);
        memcpy(ip.dst, A6("2001:db8:1::1"), 16);
        ip.payload_len = (uint16_t)(MPNET_ICMP6_HLEN + quote);
        memcpy(eth.dst, n->l[0]->info.mac, 6);
        memcpy(eth.src, n->l[1]->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip6_repr_emit(&ip, f + 14);
        r.data = q;
        r.data_len = quote;
        mpnet_icmp6_repr_emit(&r, ip.src, ip.dst, f + 54);
        return 54 + MPNET_ICMP6_HLEN + quote;
}

static void inject(struct net *n, const uint8_t *f, size_t len)
{
        struct mpnet_pkt *p = pkt_at_end(n->pool, f, (uint32_t)len);

        assert_int_equal(mpnet_link_tx_burst(n->l[1], 0, &p, 1), 1);
        mpnet_stack_poll(n->st[A], mpnet_clock_now(&n->clk));
}

/* RFC 5927: errors that name no socket of ours, or another peer than the
 * connected one, change nothing and are counted; quotes too short to
 * name one are dropped and counted. */
static void test_forged_and_malformed(void **state)
{
        struct net *n = *state;
        int fd = sock4(n, 1), f6 = sock6(n, 1);
        struct sockaddr_in to = sin4(B4, 7777), me;
        struct sockaddr_in6 t6 = sin6(A6("2001:db8:2::2"), 7777), me6;
        socklen_t ml = sizeof(me), ml6 = sizeof(me6);
        uint8_t f[256];
        uint16_t port, port6;
        size_t len;

        assert_int_equal(mpnet_connect(n->st[A], fd, SA(to), sizeof(to)), 0);
        assert_int_equal(mpnet_getsockname(n->st[A], fd, SA(me), &ml), 0);
        assert_int_equal(mpnet_connect(n->st[A], f6, SA(t6), sizeof(t6)), 0);
        assert_int_equal(mpnet_getsockname(n->st[A], f6, SA(me6), &ml6), 0);
        port = ntohs(me.sin_port);
        port6 = ntohs(me6.sin6_port);

        /* Ports that match no socket. */
        len = icmp4_frame(n, f, 3, 3, 0, B4, 1111, 7777, 32);
        inject(n, f, len);
        assert_int_equal(ctr(n, A, "udp_err_nosock"), 1);
        /* Our port, another peer than the connected one. */
        len = icmp4_frame(n, f, 3, 3, 0, IP4(198, 51, 100, 9), port, 7777, 32);
        inject(n, f, len);
        len = icmp4_frame(n, f, 3, 3, 0, B4, port, 7778, 32);
        inject(n, f, len);
        assert_int_equal(ctr(n, A, "udp_err_nosock"), 3);
        len =
            icmp6_frame(n, f, MPNET_ICMP6_DEST_UNREACH, 4, 0, A6("2001:db8:2::9"), port6, 7777, 52);
        inject(n, f, len);
        assert_int_equal(ctr(n, A, "udp_err_nosock"), 4);
        /* A forged fragmentation needed lowers no path MTU either. */
        len = icmp4_frame(n, f, 3, 4, 600, B4, 1111, 7777, 32);
        inject(n, f, len);
        assert_int_equal(ctr(n, A, "udp_err_nosock"), 5);
        assert_int_equal(ctr(n, A, "icmp4_pmtu_update"), 0);
        /* Quotes too short: less than the IP header and 8 bytes. */
        len = icmp4_frame(n, f, 3, 3, 0, B4, port, 7777, 24);
        inject(n, f, len);
        assert_int_equal(ctr(n, A, "icmp4_err_short"), 1);
        len =
            icmp6_frame(n, f, MPNET_ICMP6_DEST_UNREACH, 4, 0, A6("2001:db8:2::2"), port6, 7777, 30);
        inject(n, f, len);
        len =
            icmp6_frame(n, f, MPNET_ICMP6_DEST_UNREACH, 4, 0, A6("2001:db8:2::2"), port6, 7777, 44);
        inject(n, f, len);
        assert_int_equal(ctr(n, A, "icmp6_err_short"), 2);
        /* Nothing reached the sockets. */
        assert_int_equal(ctr(n, A, "udp_err_in"), 0);
        assert_int_equal(so_error(n, fd), 0);
        assert_int_equal(so_error(n, f6), 0);
        {
                struct msghdr m = {0};

                assert_int_equal(mpnet_recvmsg(n->st[A], fd, &m, MSG_ERRQUEUE), -EAGAIN);
                assert_int_equal(mpnet_recvmsg(n->st[A], f6, &m, MSG_ERRQUEUE), -EAGAIN);
        }
        /* The genuine article is taken: the check is not too strict. */
        len = icmp4_frame(n, f, 11, 0, 0, B4, port, 7777, 32);
        inject(n, f, len);
        assert_int_equal(ctr(n, A, "udp_err_in"), 1);
        assert_int_equal(so_error(n, fd), EHOSTUNREACH);
        len = icmp6_frame(n, f, MPNET_ICMP6_TIME_EXCEEDED, 0, 0, A6("2001:db8:2::2"), port6, 7777,
                          52);
        inject(n, f, len);
        assert_int_equal(so_error(n, f6), EHOSTUNREACH);
}

/* RFC 1191: R cannot forward 1428 bytes with DF onto its 1280-byte link;
 * its fragmentation needed lowers A's path MTU to B. */
/* An echo socket of A (SOCK_DGRAM, IPPROTO_ICMP or IPPROTO_ICMPV6). */
static int echo_sock(struct net *n, int fam, int recverr)
{
        int fd =
            mpnet_socket(n->st[A], fam, SOCK_DGRAM, fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);

        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(n->st[A], fd, fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                                          fam == AF_INET ? IP_RECVERR : IPV6_RECVERR, &recverr,
                                          sizeof(recverr)),
                         0);
        return fd;
}

/* An echo request of len bytes (type, code 0, the stack's identifier). */
static ssize_t echo_send(struct net *n, int fd, uint8_t type, const struct sockaddr *to,
                         socklen_t tl, size_t len)
{
        static uint8_t b[2000];

        memset(b, 0, len);
        b[0] = type;
        b[7] = 1; /* sequence 1 */
        return mpnet_sendto(n->st[A], fd, b, len, 0, to, tl);
}

static uint16_t echo_id(struct net *n, int fd)
{
        struct sockaddr_in6 me;
        socklen_t l = sizeof(me);

        assert_int_equal(mpnet_getsockname(n->st[A], fd, SA(me), &l), 0);
        return ntohs(me.sin6_port); /* sin_port sits at the same offset */
}

/* ICMP errors quoting an echo socket's request (Linux ping_err): with
 * IP_RECVERR on its error queue, the quoted ICMP message as data; without,
 * a soft error is taken and dropped; the ping API's ring sees neither, and
 * still gets the errors about its own requests. */
static void test_echo_sock_errors(void **state)
{
        struct net *n = *state;
        int fd = echo_sock(n, AF_INET, 1), quiet = echo_sock(n, AF_INET, 0), ttl = 1, level, type;
        struct sockaddr_in to = sin4(B4, 0), name, off;
        struct mpnet_ping4_req q = {.dst = B4, .id = 0x7777, .seq = 5, .payload_len = 56, .ttl = 1};
        struct sock_extended_err ee;
        struct mpnet_ping_reply pr[4];
        uint8_t buf[64];
        uint16_t id;

        assert_int_equal(mpnet_setsockopt(n->st[A], fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
        assert_int_equal(mpnet_setsockopt(n->st[A], quiet, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)),
                         0);
        assert_int_equal(echo_send(n, fd, 8, SA(to), sizeof(to), 24), 24);
        assert_int_equal(echo_send(n, quiet, 8, SA(to), sizeof(to), 24), 24);
        assert_int_equal(mpnet_ping4_send_req(n->st[A], &q, mpnet_clock_now(&n->clk)), 0);
        id = echo_id(n, fd);
        run(n, 10 * MPNET_NS_PER_MS);
        /* R's time exceeded (RFC 792), on the queue. */
        assert_int_equal(errq_read(n, fd, buf, sizeof(buf), &name, sizeof(name), &ee, &off,
                                   sizeof(off), &level, &type),
                         24);
        assert_int_equal(buf[0], 8);
        assert_int_equal(buf[4] << 8 | buf[5], id);
        assert_int_equal(level, SOL_IP);
        assert_int_equal(type, IP_RECVERR);
        assert_int_equal(ee.ee_errno, EHOSTUNREACH);
        assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_ICMP);
        assert_int_equal(ee.ee_type, 11);
        assert_int_equal(ee.ee_code, 0);
        assert_int_equal(off.sin_addr.s_addr, htonl(R4));
        assert_int_equal(name.sin_addr.s_addr, htonl(B4));
        assert_int_equal(so_error(n, fd), 0); /* the queue's read took it (Linux) */
        /* Soft and unconnected: taken, nothing reported. */
        assert_int_equal(errq_read(n, quiet, buf, sizeof(buf), &name, sizeof(name), &ee, &off,
                                   sizeof(off), &level, &type),
                         -EAGAIN);
        assert_int_equal(so_error(n, quiet), 0);
        assert_int_equal(ctr(n, A, "ping_sock_err_in"), 1);
        assert_int_equal(ctr(n, A, "ping_sock_err_ignored"), 1);
        /* The ping API's own request: its error in the ring, as before. */
        assert_int_equal(mpnet_ping4_recv(n->st[A], pr, 4), 1);
        assert_int_equal(pr[0].id, 0x7777);
        assert_int_equal(pr[0].type, 11);
        assert_int_equal(pr[0].from, R4);
        assert_int_equal(mpnet_close(n->st[A], fd), 0);
        assert_int_equal(mpnet_close(n->st[A], quiet), 0);
}

/* ICMPv6: a packet too big (RFC 4443 3.2) for a connected echo socket
 * without IPV6_RECVERR is hard: the pending error, EMSGSIZE. */
static void test_echo_sock_errors_v6(void **state)
{
        struct net *n = *state;
        int fd = echo_sock(n, AF_INET6, 0);
        struct sockaddr_in6 to = sin6(A6("2001:db8:2::2"), 0);
        struct mpnet_ping6_reply pr[4];
        uint8_t buf[64];

        assert_int_equal(mpnet_connect(n->st[A], fd, SA(to), sizeof(to)), 0);
        assert_int_equal(echo_send(n, fd, 128, NULL, 0, 1400), 1400);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(so_error(n, fd), EMSGSIZE);
        assert_int_equal(mpnet_recvfrom(n->st[A], fd, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(ctr(n, A, "ping_sock_err_in"), 1);
        assert_int_equal(mpnet_ping6_recv(n->st[A], pr, 4), 0);
        /* The path MTU learnt all the same (RFC 8201 4). */
        assert_int_equal(mpnet_pmtu6_get(n->st[A], A6("2001:db8:2::2")), 1280);
        assert_int_equal(mpnet_close(n->st[A], fd), 0);
}

static void test_frag_needed(void **state)
{
        struct net *n = *state;
        int fd = sock4(n, 0), fw = sock4(n, 0), rx, v, mtu;
        struct sockaddr_in to = sin4(B4, 6000), any = sin4(0, 6000);
        socklen_t l = sizeof(mtu);
        char buf[2000];

        rx = mpnet_socket(n->st[B], AF_INET, SOCK_DGRAM, 0);
        assert_int_equal(mpnet_bind(n->st[B], rx, SA(any), sizeof(any)), 0);
        v = IP_PMTUDISC_DO;
        assert_int_equal(mpnet_setsockopt(n->st[A], fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)),
                         0);
        assert_int_equal(mpnet_getsockopt(n->st[A], fd, IPPROTO_IP, IP_MTU, &mtu, &l), -ENOTCONN);
        assert_int_equal(mpnet_connect(n->st[A], fd, SA(to), sizeof(to)), 0);
        assert_int_equal(mpnet_connect(n->st[A], fw, SA(to), sizeof(to)), 0);
        assert_int_equal(mpnet_getsockopt(n->st[A], fd, IPPROTO_IP, IP_MTU, &mtu, &l), 0);
        assert_int_equal(mtu, 1500);
        /* Over the interface MTU already: refused at once. */
        assert_int_equal(send_n(n, fd, 1500), -EMSGSIZE);
        assert_int_equal(send_n(n, fd, 1400), 1400);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(ctr(n, R, "ip4_frag_needed") + ctr(n, R, "icmp4_err_tx") >= 1, 1);
        assert_int_equal(ctr(n, A, "icmp4_pmtu_update"), 1);
        assert_int_equal(mpnet_getsockopt(n->st[A], fd, IPPROTO_IP, IP_MTU, &mtu, &l), 0);
        assert_int_equal(mtu, 1280);
        assert_int_equal(mpnet_getsockopt(n->st[A], fw, IPPROTO_IP, IP_MTU, &mtu, &l), 0);
        assert_int_equal(mtu, 1280);
        /* The error itself, pending on the DO socket (hard, as Linux). */
        assert_int_equal(so_error(n, fd), EMSGSIZE);
        /* DF: over the path MTU is refused; what fits goes. */
        assert_int_equal(send_n(n, fd, 1400), -EMSGSIZE);
        assert_int_equal(send_n(n, fd, 1252), 1252);
        assert_int_equal(send_n(n, fd, 1253), -EMSGSIZE);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->st[B], rx, buf, sizeof(buf), 0, NULL, NULL), 1252);
        /* IP_PMTUDISC_WANT (the default): fragmented to the path MTU. */
        assert_int_equal(mpnet_getsockopt(n->st[A], fw, IPPROTO_IP, IP_MTU_DISCOVER, &v, &l), 0);
        assert_int_equal(v, IP_PMTUDISC_WANT);
        assert_int_equal(send_n(n, fw, 1400), 1400);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->st[B], rx, buf, sizeof(buf), 0, NULL, NULL), 1400);
        assert_true(ctr(n, A, "ip4_fragmented") >= 2);
        assert_int_equal(ctr(n, B, "ip4_reassembled"), 1);
        /* IP_PMTUDISC_DONT too. */
        v = IP_PMTUDISC_DONT;
        assert_int_equal(mpnet_setsockopt(n->st[A], fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)),
                         0);
        assert_int_equal(send_n(n, fd, 1400), 1400);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->st[B], rx, buf, sizeof(buf), 0, NULL, NULL), 1400);
        v = 6;
        assert_int_equal(mpnet_setsockopt(n->st[A], fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)),
                         -EINVAL);
}

/* RFC 8201: packet too big from R; IPV6_DONTFRAG refuses what does not
 * fit, a plain socket fragments to the path MTU. */
static void test_packet_too_big(void **state)
{
        struct net *n = *state;
        int fd = sock6(n, 1), fw = sock6(n, 0), rx, v = 1, mtu, level, type;
        struct sockaddr_in6 to = sin6(A6("2001:db8:2::2"), 6000), any = sin6(A6("::"), 6000), name,
                            off;
        struct sock_extended_err ee;
        socklen_t l = sizeof(mtu);
        char buf[2000];

        rx = mpnet_socket(n->st[B], AF_INET6, SOCK_DGRAM, 0);
        assert_int_equal(mpnet_bind(n->st[B], rx, SA(any), sizeof(any)), 0);
        assert_int_equal(mpnet_setsockopt(n->st[A], fd, IPPROTO_IPV6, IPV6_DONTFRAG, &v, sizeof(v)),
                         0);
        assert_int_equal(mpnet_connect(n->st[A], fd, SA(to), sizeof(to)), 0);
        assert_int_equal(mpnet_connect(n->st[A], fw, SA(to), sizeof(to)), 0);
        assert_int_equal(mpnet_getsockopt(n->st[A], fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &l), 0);
        assert_int_equal(mtu, 1500);
        assert_int_equal(send_n(n, fd, 1400), 1400);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(ctr(n, R, "ip6_too_big"), 1);
        assert_int_equal(ctr(n, A, "icmp6_pmtu_update"), 1);
        assert_int_equal(mpnet_getsockopt(n->st[A], fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &l), 0);
        assert_int_equal(mtu, 1280);
        /* IPV6_RECVERR: the record holds the MTU, and as data what R
         * quoted of the payload (RFC 4443 2.4(c): the error fits 1280
         * bytes; less its two IPv6 and UDP headers and the ICMPv6 one). */
        assert_int_equal(errq_read(n, fd, buf, sizeof(buf), &name, sizeof(name), &ee, &off,
                                   sizeof(off), &level, &type),
                         1280 - 40 - 8 - 40 - 8);
        assert_int_equal(ee.ee_errno, EMSGSIZE);
        assert_int_equal(ee.ee_type, MPNET_ICMP6_PACKET_TOO_BIG);
        assert_int_equal(ee.ee_info, 1280);
        assert_memory_equal(&off.sin6_addr, A6("2001:db8:1::ff"), 16);
        assert_int_equal(send_n(n, fd, 1400), -EMSGSIZE);
        assert_int_equal(send_n(n, fd, 1232), 1232);
        assert_int_equal(send_n(n, fd, 1233), -EMSGSIZE);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->st[B], rx, buf, sizeof(buf), 0, NULL, NULL), 1232);
        /* Without IPV6_DONTFRAG: fragmented to the path MTU. The error
         * reached fw too (its pending EMSGSIZE: hard under WANT, Linux). */
        assert_int_equal(so_error(n, fw), 0);
        assert_int_equal(send_n(n, fw, 1400), 1400);
        run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->st[B], rx, buf, sizeof(buf), 0, NULL, NULL), 1400);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_port_unreach_connected, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unconnected_ignores, setup, teardown),
            cmocka_unit_test_setup_teardown(test_recverr_queue, setup, teardown),
            cmocka_unit_test_setup_teardown(test_forged_and_malformed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_echo_sock_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_echo_sock_errors_v6, setup, teardown),
            cmocka_unit_test_setup_teardown(test_frag_needed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_packet_too_big, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
