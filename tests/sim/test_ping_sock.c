/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP echo sockets (SOCK_DGRAM with IPPROTO_ICMP / IPPROTO_ICMPV6,
 * l4/ping_sock.c): two stacks on a memory wire under the virtual clock.
 * The identifier is the socket's, the checksum the stack's; replies reach
 * the socket of their identifier only, and the ping API's ring gets the
 * rest as before.
 */
#define _GNU_SOURCE
#include "mpnet/ip6.h"
#include "mpnet/stack.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ipv6.h"
#include "socknet.h"

static int echo4(struct mpnet_stack *s, uint16_t id)
{
        int fd = mpnet_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
        struct sockaddr_in a = sin4(0, id);

        assert_true(fd >= 0);
        if (id != 0)
                assert_int_equal(mpnet_bind(s, fd, SA(a), sizeof(a)), 0);
        return fd;
}

static int echo6(struct mpnet_stack *s, uint16_t id)
{
        int fd = mpnet_socket(s, AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
        struct sockaddr_in6 a = sin6(A6("::"), id);

        assert_true(fd >= 0);
        if (id != 0)
                assert_int_equal(mpnet_bind(s, fd, SA(a), sizeof(a)), 0);
        return fd;
}

/* An echo request: type, code 0, identifier id (the stack replaces it),
 * sequence seq, then data. */
static size_t req(uint8_t *b, uint8_t type, uint16_t id, uint16_t seq, const char *data)
{
        size_t n = strlen(data);

        memset(b, 0, 8);
        b[0] = type;
        b[2] = 0xde, b[3] = 0xad; /* the stack computes it */
        b[4] = (uint8_t)(id >> 8), b[5] = (uint8_t)id;
        b[6] = (uint8_t)(seq >> 8), b[7] = (uint8_t)seq;
        memcpy(b + 8, data, n);
        return 8 + n;
}

static uint16_t sock_id(struct mpnet_stack *s, int fd)
{
        struct sockaddr_in6 me;
        socklen_t l = sizeof(me);

        assert_int_equal(mpnet_getsockname(s, fd, SA(me), &l), 0);
        return ntohs(me.sin6_port); /* sin_port sits at the same offset */
}

static void test_round_trip_v4(void **state)
{
        struct net *n = *state;
        int fd = echo4(n->b, 0);
        struct sockaddr_in to = sin4(A_ADDR, 0), from;
        socklen_t fl = sizeof(from);
        struct mpnet_ping_reply pr;
        uint8_t b[64], r[64];
        size_t len = req(b, 8, 0x1111, 7, "abcd");
        uint16_t id;

        assert_int_equal(mpnet_sendto(n->b, fd, b, len, 0, SA(to), sizeof(to)), (ssize_t)len);
        id = sock_id(n->b, fd);
        assert_true(id != 0);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n->a, "icmp4_echo_req"), 1);
        assert_int_equal(mpnet_recvfrom(n->b, fd, r, sizeof(r), 0, SA(from), &fl), (ssize_t)len);
        /* The whole reply: type 0, our identifier, the sequence, the data,
         * a checksum that verifies. */
        assert_int_equal(r[0], 0);
        assert_int_equal(r[1], 0);
        assert_int_equal(be16(r + 4), id);
        assert_int_equal(be16(r + 6), 7);
        assert_memory_equal(r + 8, "abcd", 4);
        assert_int_equal(mpnet_csum(r, len), 0);
        assert_int_equal(ntohl(from.sin_addr.s_addr), A_ADDR);
        assert_int_equal(from.sin_port, 0);
        assert_int_equal(stk_ctr(n->b, "ping_sock_in"), 1);
        assert_int_equal(stk_ctr(n->b, "ping_sock_out"), 1);
        /* The socket took it: the ping API's ring did not. */
        assert_int_equal(mpnet_ping4_recv(n->b, &pr, 1), 0);
        assert_int_equal(stk_ctr(n->b, "icmp4_echo_reply"), 0);
        /* A bound identifier is the one on the wire. */
        assert_int_equal(mpnet_close(n->b, fd), 0);
        fd = echo4(n->b, 4242);
        assert_int_equal(mpnet_sendto(n->b, fd, b, len, 0, SA(to), sizeof(to)), (ssize_t)len);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->b, fd, r, sizeof(r), 0, NULL, NULL), (ssize_t)len);
        assert_int_equal(be16(r + 4), 4242);
        assert_int_equal(mpnet_close(n->b, fd), 0);
}

static void test_round_trip_v6(void **state)
{
        struct net *n = *state;
        int fd = echo6(n->b, 0), on = 1;
        struct sockaddr_in6 to = sin6(A6("2001:db8::1"), 0), from;
        socklen_t fl = sizeof(from);
        uint8_t b[64], r[64], ctl[64];
        size_t len = req(b, 128, 0x2222, 9, "hello6");
        struct iovec iov = {.iov_base = r, .iov_len = sizeof(r)};
        struct msghdr msg = {.msg_name = &from,
                             .msg_namelen = sizeof(from),
                             .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctl,
                             .msg_controllen = sizeof(ctl)};
        struct mpnet_ping6_reply pr;
        struct cmsghdr *c;
        uint16_t id;
        int hl = -1;

        assert_int_equal(
            mpnet_setsockopt(n->b, fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_sendto(n->b, fd, b, len, 0, SA(to), sizeof(to)), (ssize_t)len);
        id = sock_id(n->b, fd);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvmsg(n->b, fd, &msg, 0), (ssize_t)len);
        (void)fl;
        assert_int_equal(r[0], 129);
        assert_int_equal(be16(r + 4), id);
        assert_int_equal(be16(r + 6), 9);
        assert_memory_equal(r + 8, "hello6", 6);
        /* The checksum verifies over the pseudo-header. */
        assert_int_equal(
            mpnet_csum_fold(mpnet_csum_add(
                mpnet_ip6_pseudo_sum(A6("2001:db8::1"), A6("2001:db8::2"), (uint32_t)len, 58), r,
                len)),
            0);
        assert_memory_equal(&from.sin6_addr, A6("2001:db8::1"), 16);
        for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
                        memcpy(&hl, CMSG_DATA(c), sizeof(hl));
        assert_int_equal(hl, 64);
        assert_int_equal(mpnet_ping6_recv(n->b, &pr, 1), 0);
        assert_int_equal(mpnet_close(n->b, fd), 0);
}

/* Two sockets get their own replies; the ping API's requests still go to
 * its ring. */
static void test_two_sockets_and_ring(void **state)
{
        struct net *n = *state;
        int f1 = echo4(n->b, 100), f2 = echo4(n->b, 200);
        struct sockaddr_in to = sin4(A_ADDR, 0);
        struct mpnet_ping_reply pr[4];
        uint8_t b[64], r[64];
        size_t len = req(b, 8, 0, 1, "one");

        assert_int_equal(mpnet_sendto(n->b, f1, b, len, 0, SA(to), sizeof(to)), (ssize_t)len);
        len = req(b, 8, 0, 2, "two");
        assert_int_equal(mpnet_sendto(n->b, f2, b, len, 0, SA(to), sizeof(to)), (ssize_t)len);
        assert_int_equal(mpnet_ping4_send(n->b, A_ADDR, 300, 3, 56, mpnet_clock_now(&n->clk)), 0);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->b, f1, r, sizeof(r), 0, NULL, NULL), 11);
        assert_int_equal(be16(r + 4), 100);
        assert_memory_equal(r + 8, "one", 3);
        assert_int_equal(mpnet_recvfrom(n->b, f1, r, sizeof(r), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(mpnet_recvfrom(n->b, f2, r, sizeof(r), 0, NULL, NULL), 11);
        assert_int_equal(be16(r + 4), 200);
        assert_memory_equal(r + 8, "two", 3);
        assert_int_equal(mpnet_recvfrom(n->b, f2, r, sizeof(r), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(mpnet_ping4_recv(n->b, pr, 4), 1);
        assert_int_equal(pr[0].id, 300);
        assert_int_equal(pr[0].seq, 3);
        assert_int_equal(stk_ctr(n->b, "icmp4_echo_reply"), 1);
        /* With both closed, replies to 100 go to the ring again. */
        assert_int_equal(mpnet_close(n->b, f1), 0);
        assert_int_equal(mpnet_close(n->b, f2), 0);
        assert_int_equal(mpnet_ping4_send(n->b, A_ADDR, 100, 4, 56, mpnet_clock_now(&n->clk)), 0);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv(n->b, pr, 4), 1);
        assert_int_equal(pr[0].id, 100);
}

/* Two pingers on one stack at once, as mpnetd runs them: each takes the
 * replies of its own identifier, all of them and in order, whichever asks
 * first; a third identifier's stay for mpnet_ping4_recv(). */
static void test_recv_id_two_pingers_v4(void **state)
{
        struct net *n = *state;
        struct mpnet_ping_reply pr[16];

        for (uint16_t seq = 1; seq <= 5; seq++) {
                uint64_t now = mpnet_clock_now(&n->clk);

                assert_int_equal(mpnet_ping4_send(n->b, A_ADDR, 0x1111, seq, 56, now), 0);
                assert_int_equal(mpnet_ping4_send(n->b, A_ADDR, 0x2222, seq, 56, now), 0);
        }
        assert_int_equal(mpnet_ping4_send(n->b, A_ADDR, 0x3333, 9, 56, mpnet_clock_now(&n->clk)),
                         0);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping4_recv_id(n->b, 0x2222, pr, 16), 5);
        for (unsigned i = 0; i < 5; i++) {
                assert_int_equal(pr[i].id, 0x2222);
                assert_int_equal(pr[i].seq, i + 1);
                assert_int_equal(pr[i].type, 0);
        }
        assert_int_equal(mpnet_ping4_recv_id(n->b, 0x1111, pr, 2), 2);
        assert_int_equal(pr[0].seq, 1);
        assert_int_equal(pr[1].seq, 2);
        assert_int_equal(mpnet_ping4_recv_id(n->b, 0x1111, pr, 16), 3);
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(pr[i].id, 0x1111);
                assert_int_equal(pr[i].seq, i + 3);
        }
        assert_int_equal(mpnet_ping4_recv_id(n->b, 0x2222, pr, 16), 0);
        assert_int_equal(mpnet_ping4_recv(n->b, pr, 16), 1);
        assert_int_equal(pr[0].id, 0x3333);
        assert_int_equal(stk_ctr(n->b, "ping_overflow"), 0);
}

static void test_recv_id_two_pingers_v6(void **state)
{
        struct net *n = *state;
        struct mpnet_ping6_reply pr[16];
        struct mpnet_ping6_req q = {.payload_len = 56};

        memcpy(q.dst, A6("2001:db8::1"), 16);
        for (uint16_t seq = 1; seq <= 5; seq++) {
                q.seq = seq;
                q.id = 0x1111;
                assert_int_equal(mpnet_ping6_send(n->b, &q, mpnet_clock_now(&n->clk)), 0);
                q.id = 0x2222;
                assert_int_equal(mpnet_ping6_send(n->b, &q, mpnet_clock_now(&n->clk)), 0);
        }
        q.id = 0x3333;
        assert_int_equal(mpnet_ping6_send(n->b, &q, mpnet_clock_now(&n->clk)), 0);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(mpnet_ping6_recv_id(n->b, 0x2222, pr, 16), 5);
        for (unsigned i = 0; i < 5; i++) {
                assert_int_equal(pr[i].id, 0x2222);
                assert_int_equal(pr[i].seq, i + 1);
                assert_int_equal(pr[i].type, 129);
        }
        assert_int_equal(mpnet_ping6_recv_id(n->b, 0x1111, pr, 16), 5);
        for (unsigned i = 0; i < 5; i++) {
                assert_int_equal(pr[i].id, 0x1111);
                assert_int_equal(pr[i].seq, i + 1);
        }
        assert_int_equal(mpnet_ping6_recv(n->b, pr, 16), 1);
        assert_int_equal(pr[0].id, 0x3333);
}

static void test_bind_conflicts(void **state)
{
        struct net *n = *state;
        int f1 = echo4(n->b, 100), f2 = mpnet_socket(n->b, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
        int f6 = echo6(n->b, 100); /* ICMPv6 identifiers are a table of their own */
        struct sockaddr_in a = sin4(0, 100), b2 = sin4(B_ADDR, 100);

        assert_true(f2 >= 0);
        assert_int_equal(mpnet_bind(n->b, f2, SA(a), sizeof(a)), -EADDRINUSE);
        assert_int_equal(mpnet_bind(n->b, f2, SA(b2), sizeof(b2)), -EADDRINUSE);
        assert_int_equal(mpnet_close(n->b, f1), 0);
        assert_int_equal(mpnet_bind(n->b, f2, SA(b2), sizeof(b2)), 0);
        assert_int_equal(mpnet_close(n->b, f2), 0);
        assert_int_equal(mpnet_close(n->b, f6), 0);
}

/* Bad requests and protocols; a damaged reply is ICMP's to count. */
static void test_bad_args_and_malformed(void **state)
{
        struct net *n = *state;
        int fd = echo4(n->b, 500), f6 = echo6(n->b, 0),
            raw = mpnet_socket(n->a, AF_INET, SOCK_RAW, IPPROTO_ICMP);
        struct sockaddr_in to = sin4(A_ADDR, 0), tob = sin4(B_ADDR, 0);
        struct sockaddr_in6 to6 = sin6(A6("2001:db8::1"), 0);
        uint8_t b[64];
        size_t len;

        assert_int_equal(mpnet_socket(n->b, AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6), -EPROTONOSUPPORT);
        assert_int_equal(mpnet_socket(n->b, AF_INET6, SOCK_DGRAM, IPPROTO_ICMP), -EPROTONOSUPPORT);
        len = req(b, 13, 0, 1, "ts"); /* a timestamp request */
        assert_int_equal(mpnet_sendto(n->b, fd, b, len, 0, SA(to), sizeof(to)), -EINVAL);
        len = req(b, 8, 0, 1, "x");
        b[1] = 1; /* code */
        assert_int_equal(mpnet_sendto(n->b, fd, b, len, 0, SA(to), sizeof(to)), -EINVAL);
        assert_int_equal(mpnet_sendto(n->b, fd, b, 4, 0, SA(to), sizeof(to)), -EINVAL);
        len = req(b, 8, 0, 1, "x"); /* an IPv4 type on an IPv6 socket */
        assert_int_equal(mpnet_sendto(n->b, f6, b, len, 0, SA(to6), sizeof(to6)), -EINVAL);
        /* A reply to identifier 500 with a bad checksum, from A's raw ICMP
         * socket: not for the echo socket, counted by ICMP. */
        assert_true(raw >= 0);
        len = req(b, 0, 500, 1, "bad");
        b[2] = 0x12, b[3] = 0x34;
        assert_int_equal(mpnet_sendto(n->a, raw, b, len, 0, SA(tob), sizeof(tob)), (ssize_t)len);
        /* And a good one, which it takes. */
        b[2] = b[3] = 0;
        {
                uint16_t c = mpnet_csum(b, len);

                b[2] = (uint8_t)(c >> 8), b[3] = (uint8_t)c;
        }
        assert_int_equal(mpnet_sendto(n->a, raw, b, len, 0, SA(tob), sizeof(tob)), (ssize_t)len);
        net_run(n, MPNET_NS_PER_MS);
        assert_int_equal(stk_ctr(n->b, "icmp4_bad_csum"), 1);
        assert_int_equal(stk_ctr(n->b, "ping_sock_in"), 1);
        assert_int_equal(mpnet_recvfrom(n->b, fd, b, sizeof(b), 0, NULL, NULL), (ssize_t)len);
        assert_int_equal(mpnet_recvfrom(n->b, fd, b, sizeof(b), 0, NULL, NULL), -EAGAIN);
        assert_int_equal(mpnet_close(n->b, fd), 0);
        assert_int_equal(mpnet_close(n->b, f6), 0);
        assert_int_equal(mpnet_close(n->a, raw), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_round_trip_v4, setup, teardown),
            cmocka_unit_test_setup_teardown(test_round_trip_v6, setup, teardown),
            cmocka_unit_test_setup_teardown(test_two_sockets_and_ring, setup, teardown),
            cmocka_unit_test_setup_teardown(test_recv_id_two_pingers_v4, setup, teardown),
            cmocka_unit_test_setup_teardown(test_recv_id_two_pingers_v6, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bind_conflicts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_args_and_malformed, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
