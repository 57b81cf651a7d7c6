/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Batched socket calls on the control thread (mpnet_sendmmsg,
 * mpnet_recvmmsg): two stacks on a memory wire under the virtual clock.
 * Batches of 1 and 64, mixed sizes (empty, multi-buffer), MSG_TRUNC per
 * message, a bad buffer in the middle (the count, then the error, as
 * Linux), IPv6 names, and vlen that is out of range.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "socknet.h"

#define PA 5000
#define PB 6000

/* A bound UDP socket of family fam on s, port port. */
static int udp_bound(struct mpnet_stack *s, int fam, uint32_t a4, const char *a6, uint16_t port)
{
        int fd = mpnet_socket(s, fam, SOCK_DGRAM, 0);

        assert_true(fd >= 0);
        if (fam == AF_INET) {
                struct sockaddr_in me = sin4(a4, port);

                assert_int_equal(mpnet_bind(s, fd, SA(me), sizeof(me)), 0);
        } else {
                struct sockaddr_in6 me = sin6(A6(a6), port);

                assert_int_equal(mpnet_bind(s, fd, SA(me), sizeof(me)), 0);
        }
        return fd;
}

/* The size of datagram i of a mixed batch: empty, short, and past one
 * buffer (a chain). */
static size_t mixed_len(unsigned i)
{
        static const size_t sz[] = {0, 1, 18, 100, 1472, 3000, 9000, 7};

        return sz[i % (sizeof(sz) / sizeof(sz[0]))];
}

#define BIG 9000

struct batch {
        struct mpnet_mmsghdr m[64];
        struct iovec iov[64];
        struct sockaddr_in6 name[64];
        uint8_t *buf;
};

static void batch_init(struct batch *b, unsigned n, size_t each, bool names)
{
        memset(b->m, 0, sizeof(b->m));
        for (unsigned i = 0; i < n; i++) {
                b->iov[i] = (struct iovec){b->buf + (size_t)i * BIG, each};
                b->m[i].msg_hdr.msg_iov = &b->iov[i];
                b->m[i].msg_hdr.msg_iovlen = 1;
                if (names) {
                        b->m[i].msg_hdr.msg_name = &b->name[i];
                        b->m[i].msg_hdr.msg_namelen = sizeof(b->name[i]);
                }
        }
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
        for (size_t k = 0; k < n; k++)
                p[k] = (uint8_t)(seed * 31 + k);
}

/* Batches of 1 and of 64 mixed sizes, addressed per message. */
static void test_mmsg_batches(void **state)
{
        struct net *n = *state;
        int fa = udp_bound(n->a, AF_INET, A_ADDR, NULL, PA);
        int fb = udp_bound(n->b, AF_INET, B_ADDR, NULL, PB);
        struct sockaddr_in to = sin4(B_ADDR, PB);
        static struct batch tx, rx;
        int big = 4 << 20;

        tx.buf = malloc(64 * BIG);
        rx.buf = malloc(64 * BIG);
        assert_int_equal(mpnet_setsockopt(n->b, fb, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
        /* One. */
        batch_init(&tx, 1, 18, false);
        fill(tx.buf, 18, 1);
        tx.m[0].msg_hdr.msg_name = &to;
        tx.m[0].msg_hdr.msg_namelen = sizeof(to);
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m, 1, 0), 1);
        assert_int_equal(tx.m[0].msg_len, 18);
        net_run(n, MPNET_NS_PER_MS);
        batch_init(&rx, 1, BIG, true);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 1, MSG_DONTWAIT, NULL), 1);
        assert_int_equal(rx.m[0].msg_len, 18);
        assert_memory_equal(rx.buf, tx.buf, 18);
        assert_int_equal(rx.m[0].msg_hdr.msg_namelen, sizeof(struct sockaddr_in));
        assert_int_equal(ntohs(((struct sockaddr_in *)&rx.name[0])->sin_port), PA);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 1, 0, NULL), -EAGAIN);
        /* 64 of mixed sizes. */
        batch_init(&tx, 64, 0, false);
        for (unsigned i = 0; i < 64; i++) {
                tx.iov[i].iov_len = mixed_len(i);
                fill(tx.buf + (size_t)i * BIG, mixed_len(i), i);
                tx.m[i].msg_hdr.msg_name = &to;
                tx.m[i].msg_hdr.msg_namelen = sizeof(to);
        }
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m, 64, 0), 64);
        for (unsigned i = 0; i < 64; i++)
                assert_int_equal(tx.m[i].msg_len, mixed_len(i));
        net_run(n, 10 * MPNET_NS_PER_MS);
        batch_init(&rx, 64, BIG, true);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 64, 0, NULL), 64);
        for (unsigned i = 0; i < 64; i++) {
                assert_int_equal(rx.m[i].msg_len, mixed_len(i));
                assert_int_equal(rx.m[i].msg_hdr.msg_flags, 0);
                assert_memory_equal(rx.buf + (size_t)i * BIG, tx.buf + (size_t)i * BIG,
                                    mixed_len(i));
        }
        /* An empty queue ends a batch: fewer than asked. */
        batch_init(&tx, 3, 18, false);
        for (unsigned i = 0; i < 3; i++) {
                tx.m[i].msg_hdr.msg_name = &to;
                tx.m[i].msg_hdr.msg_namelen = sizeof(to);
        }
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m, 3, 0), 3);
        net_run(n, MPNET_NS_PER_MS);
        batch_init(&rx, 64, BIG, false);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 64, MSG_WAITFORONE, NULL), 3);
        assert_int_equal(stk_ctr(n->a, "udp_out"), 68);
        assert_int_equal(stk_ctr(n->b, "udp_in"), 68);
        free(tx.buf);
        free(rx.buf);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

/* Cut datagrams: MSG_TRUNC in each message's flags, msg_len what was
 * copied; with the MSG_TRUNC flag, msg_len the whole length (Linux). */
static void test_mmsg_trunc(void **state)
{
        struct net *n = *state;
        int fa = udp_bound(n->a, AF_INET, A_ADDR, NULL, PA);
        int fb = udp_bound(n->b, AF_INET, B_ADDR, NULL, PB);
        struct sockaddr_in to = sin4(B_ADDR, PB);
        static struct batch tx, rx;

        tx.buf = calloc(64, BIG);
        rx.buf = calloc(64, BIG);
        assert_int_equal(mpnet_connect(n->a, fa, SA(to), sizeof(to)), 0);
        batch_init(&tx, 4, 0, false);
        for (unsigned i = 0; i < 4; i++)
                tx.iov[i].iov_len = 10 * (i + 1); /* 10, 20, 30, 40 */
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m, 4, 0), 4);
        net_run(n, MPNET_NS_PER_MS);
        batch_init(&rx, 2, 25, false); /* cuts 30 and 40 */
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 2, 0, NULL), 2);
        assert_int_equal(rx.m[0].msg_len, 10);
        assert_int_equal(rx.m[0].msg_hdr.msg_flags, 0);
        assert_int_equal(rx.m[1].msg_len, 20);
        batch_init(&rx, 2, 25, false);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 2, MSG_TRUNC, NULL), 2);
        assert_int_equal(rx.m[0].msg_len, 30);
        assert_int_equal(rx.m[0].msg_hdr.msg_flags, MSG_TRUNC);
        assert_int_equal(rx.m[1].msg_len, 40);
        assert_int_equal(rx.m[1].msg_hdr.msg_flags, MSG_TRUNC);
        free(tx.buf);
        free(rx.buf);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

/* A bad buffer in the middle: the messages before it, then its error on
 * the next call (send: the retry from it; receive: the kept error), and
 * the datagram it would have taken is still there. */
static void test_mmsg_bad_buffer(void **state)
{
        struct net *n = *state;
        int fa = udp_bound(n->a, AF_INET, A_ADDR, NULL, PA);
        int fb = udp_bound(n->b, AF_INET, B_ADDR, NULL, PB);
        struct sockaddr_in to = sin4(B_ADDR, PB);
        static struct batch tx, rx;

        tx.buf = calloc(64, BIG);
        rx.buf = calloc(64, BIG);
        assert_int_equal(mpnet_connect(n->a, fa, SA(to), sizeof(to)), 0);
        batch_init(&tx, 5, 18, false);
        tx.iov[2].iov_base = NULL;
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m, 5, 0), 2);
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m + 2, 3, 0), -EFAULT);
        tx.iov[2].iov_base = tx.buf;
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m + 2, 3, 0), 3);
        net_run(n, MPNET_NS_PER_MS);
        /* Receive: [ok, ok, bad, ok] takes two and keeps EFAULT. */
        batch_init(&rx, 4, 64, false);
        rx.iov[2].iov_base = NULL;
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 4, 0, NULL), 2);
        batch_init(&rx, 4, 64, false);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 4, 0, NULL), -EFAULT);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 4, 0, NULL), 3);
        /* A bad first message: the error, nothing taken. */
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m, 1, 0), 1);
        net_run(n, MPNET_NS_PER_MS);
        rx.iov[0].iov_base = NULL;
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 4, 0, NULL), -EFAULT);
        rx.iov[0].iov_base = rx.buf;
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 4, 0, NULL), 1);
        free(tx.buf);
        free(rx.buf);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

/* IPv6: per-message destinations out, the sources' names in. */
static void test_mmsg_v6(void **state)
{
        struct net *n = *state;
        int fa = udp_bound(n->a, AF_INET6, 0, "2001:db8::1", PA);
        int fb = udp_bound(n->b, AF_INET6, 0, "2001:db8::2", PB);
        struct sockaddr_in6 to = sin6(A6("2001:db8::2"), PB);
        static struct batch tx, rx;

        tx.buf = calloc(64, BIG);
        rx.buf = calloc(64, BIG);
        /* One first, so that the neighbour is resolved both ways (a
         * burst behind the solicitation would mostly wait past its queue). */
        assert_int_equal(mpnet_sendto(n->a, fa, "x", 1, 0, SA(to), sizeof(to)), 1);
        net_run(n, 10 * MPNET_NS_PER_MS);
        assert_int_equal(mpnet_recvfrom(n->b, fb, rx.buf, BIG, 0, NULL, NULL), 1);
        batch_init(&tx, 16, 0, false);
        for (unsigned i = 0; i < 16; i++) {
                tx.iov[i].iov_len = mixed_len(i);
                fill(tx.buf + (size_t)i * BIG, mixed_len(i), i + 7);
                tx.m[i].msg_hdr.msg_name = &to;
                tx.m[i].msg_hdr.msg_namelen = sizeof(to);
        }
        assert_int_equal(mpnet_sendmmsg(n->a, fa, tx.m, 16, 0), 16);
        net_run(n, 10 * MPNET_NS_PER_MS);
        batch_init(&rx, 16, BIG, true);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, rx.m, 16, 0, NULL), 16);
        for (unsigned i = 0; i < 16; i++) {
                assert_int_equal(rx.m[i].msg_len, mixed_len(i));
                assert_memory_equal(rx.buf + (size_t)i * BIG, tx.buf + (size_t)i * BIG,
                                    mixed_len(i));
                assert_int_equal(rx.m[i].msg_hdr.msg_namelen, sizeof(struct sockaddr_in6));
                assert_int_equal(rx.name[i].sin6_family, AF_INET6);
                assert_int_equal(ntohs(rx.name[i].sin6_port), PA);
                assert_memory_equal(&rx.name[i].sin6_addr, A6("2001:db8::1"), 16);
        }
        free(tx.buf);
        free(rx.buf);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

/* vlen: 0 is 0, a NULL vector -EFAULT, past MPNET_MMSG_MAX cut to it (a
 * vector that long is all that is read), a closed descriptor -EBADF. */
static void test_mmsg_vlen(void **state)
{
        struct net *n = *state;
        int fa = udp_bound(n->a, AF_INET, A_ADDR, NULL, PA);
        int fb = udp_bound(n->b, AF_INET, B_ADDR, NULL, PB);
        struct sockaddr_in to = sin4(B_ADDR, PB);
        struct mpnet_mmsghdr *v = calloc(MPNET_MMSG_MAX, sizeof(*v));
        uint8_t b[32] = {0};
        struct iovec iov = {b, sizeof(b)};

        assert_non_null(v);
        assert_int_equal(mpnet_sendmmsg(n->a, fa, NULL, 0, 0), 0);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, NULL, 0, 0, NULL), 0);
        assert_int_equal(mpnet_sendmmsg(n->a, fa, NULL, 3, 0), -EFAULT);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, NULL, 3, 0, NULL), -EFAULT);
        assert_int_equal(mpnet_sendmmsg(n->a, 999, v, 1, 0), -EBADF);
        assert_int_equal(mpnet_recvmmsg(n->b, 999, v, 1, 0, NULL), -EBADF);
        /* Unconnected, no names: the first message's -EDESTADDRREQ. */
        assert_int_equal(mpnet_sendmmsg(n->a, fa, v, UINT32_MAX, 0), -EDESTADDRREQ);
        for (int i = 0; i < 3; i++)
                assert_int_equal(mpnet_sendto(n->a, fa, b, 5, 0, SA(to), sizeof(to)), 5);
        net_run(n, MPNET_NS_PER_MS);
        for (unsigned i = 0; i < MPNET_MMSG_MAX; i++) {
                v[i].msg_hdr.msg_iov = &iov;
                v[i].msg_hdr.msg_iovlen = 1;
        }
        assert_int_equal(mpnet_recvmmsg(n->b, fb, v, UINT32_MAX, 0, NULL), 3);
        assert_int_equal(mpnet_recvmmsg(n->b, fb, v, UINT32_MAX, 0, NULL), -EAGAIN);
        free(v);
        mpnet_close(n->a, fa);
        mpnet_close(n->b, fb);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_mmsg_batches, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mmsg_trunc, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mmsg_bad_buffer, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mmsg_v6, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mmsg_vlen, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
