/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Raw IP sockets (SOCK_RAW, l4/raw.c): two stacks on a memory wire under
 * the virtual clock. Copies of a protocol's datagrams (IPv4 with the
 * header, IPv6 without), sends with and without IP_HDRINCL seen
 * byte-exact by the peer's raw socket, the stack still answering what a
 * raw socket copies, IPV6_CHECKSUM, the filters of bind and connect.
 */
#define _GNU_SOURCE
#include "mpnet/stack.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ipv6.h"
#include "socknet.h"

#define OSPF 89

static int raw(struct mpnet_stack *s, int fam, int proto)
{
        int fd = mpnet_socket(s, fam, SOCK_RAW, proto);

        assert_true(fd >= 0);
        return fd;
}

static void test_v4_receive_and_send(void **state)
{
        struct net *n = *state;
        int fa = raw(n->a, AF_INET, OSPF), fb = raw(n->b, AF_INET, OSPF);
        struct sockaddr_in to = sin4(A_ADDR, 0), from, me;
        socklen_t fl = sizeof(from), ml = sizeof(me);
        uint8_t r[128];
        const char msg[] = "hello ospf";

        /* No raw socket on B yet for another protocol: B answers protocol
         * unreachable for it. With one, it does not. */
        assert_int_equal(mpnet_getsockname(n->a, fa, SA(me), &ml), 0);
        assert_int_equal(ntohs(me.sin_port), OSPF); /* as Linux */
        assert_int_equal(mpnet_sendto(n->b, fb, msg, 10, 0, SA(to), sizeof(to)), 10);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, SA(from), &fl), 30);
        assert_int_equal(r[0], 0x45);
        assert_int_equal(be16(r + 2), 30);
        assert_int_equal(r[9], OSPF);
        assert_int_equal(mpnet_csum(r, 20), 0);
        assert_memory_equal(r + 20, msg, 10);
        assert_int_equal(ntohl(from.sin_addr.s_addr), B_ADDR);
        assert_int_equal(stk_ctr(n->a, "raw_in"), 1);
        assert_int_equal(stk_ctr(n->b, "raw_out"), 1);
        assert_int_equal(stk_ctr(n->a, "ip4_unknown_proto"), 0);
        assert_int_equal(stk_ctr(n->a, "icmp4_err_tx"), 0);
        /* Closed: A answers protocol unreachable again. */
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_sendto(n->b, fb, msg, 10, 0, SA(to), sizeof(to)), 10);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n->a, "ip4_unknown_proto"), 1);
        assert_int_equal(stk_ctr(n->a, "icmp4_err_tx"), 1);
        assert_int_equal(stk_ctr(n->a, "raw_in"), 1);
        assert_int_equal(mpnet_close(n->b, fb), 0);
}

static void put16(uint8_t *b, uint16_t v)
{
        b[0] = (uint8_t)(v >> 8), b[1] = (uint8_t)v;
}

static void test_hdrincl(void **state)
{
        struct net *n = *state;
        int fa = raw(n->a, AF_INET, OSPF), fb = raw(n->b, AF_INET, OSPF), on = 1, v = 0;
        struct sockaddr_in to = sin4(A_ADDR, 0);
        socklen_t l = sizeof(v);
        uint8_t h[64], r[128];

        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_getsockopt(n->b, fb, IPPROTO_IP, IP_HDRINCL, &v, &l), 0);
        assert_int_equal(v, 1);
        /* Zero length, checksum, source: the stack fills them in. */
        memset(h, 0, sizeof(h));
        h[0] = 0x45, h[1] = 0xc0;
        put16(h + 4, 0x1234);
        h[8] = 33, h[9] = OSPF;
        h[16] = 192, h[17] = 0, h[18] = 2, h[19] = 1;
        memcpy(h + 20, "payload!", 8);
        assert_int_equal(mpnet_sendto(n->b, fb, h, 28, 0, SA(to), sizeof(to)), 28);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, NULL, NULL), 28);
        assert_int_equal(be16(r + 2), 28);
        assert_int_equal(be16(r + 4), 0x1234);
        assert_int_equal(r[1], 0xc0);
        assert_int_equal(r[8], 33);
        assert_int_equal(r[12], 192);
        assert_int_equal(r[15], 2); /* B's address */
        assert_int_equal(mpnet_csum(r, 20), 0);
        /* A whole header: byte-exact on the other side. */
        memcpy(h, r, 28);
        assert_int_equal(mpnet_sendto(n->b, fb, h, 28, 0, SA(to), sizeof(to)), 28);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, NULL, NULL), 28);
        assert_memory_equal(r, h, 28);
        /* Without IP_HDRINCL the same bytes are a payload. */
        on = 0;
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_sendto(n->b, fb, h, 28, 0, SA(to), sizeof(to)), 28);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, NULL, NULL), 48);
        assert_memory_equal(r + 20, h, 28);
        /* Bad headers. */
        on = 1;
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)), 0);
        h[0] = 0x65; /* version 6 */
        assert_int_equal(mpnet_sendto(n->b, fb, h, 28, 0, SA(to), sizeof(to)), -EINVAL);
        h[0] = 0x44; /* 16 bytes of header */
        assert_int_equal(mpnet_sendto(n->b, fb, h, 28, 0, SA(to), sizeof(to)), -EINVAL);
        h[0] = 0x48; /* 32 bytes of header in 28 */
        assert_int_equal(mpnet_sendto(n->b, fb, h, 28, 0, SA(to), sizeof(to)), -EINVAL);
        h[0] = 0x45;
        put16(h + 2, 29); /* a total length that is not the datagram's */
        assert_int_equal(mpnet_sendto(n->b, fb, h, 28, 0, SA(to), sizeof(to)), -EINVAL);
        assert_int_equal(mpnet_sendto(n->b, fb, h, 12, 0, SA(to), sizeof(to)), -EINVAL);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_close(n->b, fb), 0);
}

/* A raw ICMP socket sees the echo requests the stack answers. */
static void test_raw_icmp_sees_echo(void **state)
{
        struct net *n = *state;
        int fa = raw(n->a, AF_INET, IPPROTO_ICMP), f6 = raw(n->a, AF_INET6, IPPROTO_ICMPV6);
        struct mpnet_ping_reply pr;
        struct mpnet_ping6_reply pr6;
        struct mpnet_ping6_req q6 = {.id = 9, .seq = 2, .payload_len = 16};
        uint8_t r[256];

        memcpy(q6.dst, A6("2001:db8::1"), 16);
        assert_int_equal(mpnet_ping4_send(n->b, A_ADDR, 77, 1, 32, mpnet_clock_now(&n->clk)), 0);
        assert_int_equal(mpnet_ping6_send(n->b, &q6, mpnet_clock_now(&n->clk)), 0);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, NULL, NULL), 20 + 8 + 32);
        assert_int_equal(r[20], 8); /* the request */
        assert_int_equal(be16(r + 24), 77);
        assert_int_equal(mpnet_ping4_recv(n->b, &pr, 1), 1);
        assert_int_equal(pr.id, 77);
        /* ICMPv6: no header, the request as sent. ND messages may come
         * too: look for the echo. */
        for (;;) {
                ssize_t k = mpnet_recvfrom(n->a, f6, r, sizeof(r), 0, NULL, NULL);

                assert_true(k > 0);
                if (r[0] == 128) {
                        assert_int_equal(k, 8 + 16);
                        assert_int_equal(be16(r + 4), 9);
                        break;
                }
        }
        assert_int_equal(mpnet_ping6_recv(n->b, &pr6, 1), 1);
        assert_int_equal(pr6.id, 9);
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_close(n->a, f6), 0);
}

static void test_v6_checksum(void **state)
{
        struct net *n = *state;
        int fa = raw(n->a, AF_INET6, OSPF), fb = raw(n->b, AF_INET6, OSPF), off = 2, v = 0;
        int icmp = raw(n->b, AF_INET6, IPPROTO_ICMPV6);
        struct sockaddr_in6 to = sin6(A6("2001:db8::1"), 0), from;
        socklen_t fl = sizeof(from), l = sizeof(v);
        uint8_t m[16], r[64];

        for (int i = 0; i < 16; i++)
                m[i] = (uint8_t)(0x30 + i);
        assert_int_equal(mpnet_getsockopt(n->b, icmp, IPPROTO_IPV6, IPV6_CHECKSUM, &v, &l), 0);
        assert_int_equal(v, 2); /* RFC 3542 3.1: always for ICMPv6 */
        assert_int_equal(
            mpnet_setsockopt(n->b, icmp, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)), -EINVAL);
        off = 3;
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)),
                         -EINVAL);
        off = 2;
        assert_int_equal(mpnet_setsockopt(n->a, fa, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)),
                         0);
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)),
                         0);
        assert_int_equal(mpnet_sendto(n->b, fb, m, 16, 0, SA(to), sizeof(to)), 16);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, SA(from), &fl), 16);
        assert_memory_equal(&from.sin6_addr, A6("2001:db8::2"), 16);
        assert_memory_equal(r, m, 2);
        assert_memory_equal(r + 4, m + 4, 12);
        assert_int_equal(
            mpnet_csum_fold(mpnet_csum_add(
                mpnet_ip6_pseudo_sum(A6("2001:db8::2"), A6("2001:db8::1"), 16, OSPF), r, 16)),
            0);
        assert_int_equal(stk_ctr(n->a, "ip6_unknown_proto"), 0);
        /* Sent without the checksum: A's socket drops it, counted. */
        off = -1;
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)),
                         0);
        assert_int_equal(mpnet_sendto(n->b, fb, m, 16, 0, SA(to), sizeof(to)), 16);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, fa, r, sizeof(r), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(stk_ctr(n->a, "raw_bad_csum"), 1);
        /* A datagram too short for the offset is never sent. */
        off = 2;
        assert_int_equal(mpnet_setsockopt(n->b, fb, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)),
                         0);
        assert_int_equal(mpnet_sendto(n->b, fb, m, 3, 0, SA(to), sizeof(to)), -EINVAL);
        /* No raw socket on A: parameter problem for next header 89. */
        assert_int_equal(mpnet_close(n->a, fa), 0);
        assert_int_equal(mpnet_sendto(n->b, fb, m, 16, 0, SA(to), sizeof(to)), 16);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n->a, "ip6_unknown_proto"), 1);
        assert_int_equal(mpnet_close(n->b, fb), 0);
        assert_int_equal(mpnet_close(n->b, icmp), 0);
}

/* bind filters the destination, connect the source. */
static void test_bind_connect_filter(void **state)
{
        struct net *n = *state;
        int all = raw(n->a, AF_INET, OSPF), conn = raw(n->a, AF_INET, OSPF),
            bound = raw(n->a, AF_INET, OSPF), fb = raw(n->b, AF_INET, OSPF);
        struct sockaddr_in to = sin4(A_ADDR, 0), other = sin4(IP4(192, 0, 2, 7), 0),
                           mine = sin4(A_ADDR, 0), notmine = sin4(IP4(203, 0, 113, 9), 0);
        uint8_t r[64];

        assert_int_equal(mpnet_bind(n->a, bound, SA(notmine), sizeof(notmine)), -EADDRNOTAVAIL);
        assert_int_equal(mpnet_bind(n->a, bound, SA(mine), sizeof(mine)), 0);
        assert_int_equal(mpnet_connect(n->a, conn, SA(other), sizeof(other)), 0);
        assert_int_equal(mpnet_sendto(n->b, fb, "x", 1, 0, SA(to), sizeof(to)), 1);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->a, all, r, sizeof(r), 0, NULL, NULL), 21);
        assert_int_equal(mpnet_recvfrom(n->a, bound, r, sizeof(r), 0, NULL, NULL), 21);
        assert_int_equal(mpnet_recvfrom(n->a, conn, r, sizeof(r), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(stk_ctr(n->a, "raw_in"), 2);
        assert_int_equal(mpnet_close(n->a, all), 0);
        assert_int_equal(mpnet_close(n->a, conn), 0);
        assert_int_equal(mpnet_close(n->a, bound), 0);
        assert_int_equal(mpnet_close(n->b, fb), 0);
}

static void test_bad_args(void **state)
{
        struct net *n = *state;
        int fd = raw(n->a, AF_INET, OSPF), v = 1;

        assert_int_equal(mpnet_socket(n->a, AF_INET, SOCK_RAW, 0), -EPROTONOSUPPORT);
        assert_int_equal(mpnet_socket(n->a, AF_INET6, SOCK_RAW, 256), -EPROTONOSUPPORT);
        assert_int_equal(mpnet_socket(n->a, AF_INET, SOCK_RAW, -1), -EPROTONOSUPPORT);
        assert_int_equal(mpnet_setsockopt(n->a, fd, IPPROTO_IP, IP_HDRINCL, &v, 1), -EINVAL);
        assert_int_equal(mpnet_setsockopt(n->a, fd, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof(v)),
                         -ENOPROTOOPT);
        assert_int_equal(mpnet_close(n->a, fd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_v4_receive_and_send, setup, teardown),
            cmocka_unit_test_setup_teardown(test_hdrincl, setup, teardown),
            cmocka_unit_test_setup_teardown(test_raw_icmp_sees_echo, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v6_checksum, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bind_connect_filter, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
