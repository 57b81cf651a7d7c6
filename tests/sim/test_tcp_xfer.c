/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP transfers between two stacks on the virtual clock (testutil.h's
 * net2): several MB each way at once, the SHA-256 of what was sent against
 * what arrived; over a clean wire and over fault links with 1 % loss and
 * reordering. Then both sides close (FIN both ways, TIME_WAIT on the
 * first to close) and every buffer comes back to the pool.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "base/sha256.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"
#include "ip6util.h"
#include "tcp_pump.h"
#include "testutil.h"

#define XFER_BYTES (3u << 20)

/* What a test asks of xfer() beyond the transfer: B's SO_RCVBUF set
 * (locked: no auto-tuning) when rcvbuf; A's stack's limits 4 MiB (the
 * default) and B's receive limit rmem_max, when rmem_max; auto-tuning off
 * on both stacks when no_autotune; check() run on both sides before they
 * close. */
static struct {
        int rcvbuf;
        uint32_t rmem_max;
        bool no_autotune;
        void (*check)(struct side *a, struct side *b);
} xo;

static void xfer(const char *name, const struct mpnet_fault_cfg *fault, int fam)
{
        struct net2 n;
        struct side a = {.rng_tx = 1, .len = XFER_BYTES}, b = {.rng_tx = 7, .len = XFER_BYTES};
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
        uint8_t d1[SHA256_LEN], d2[SHA256_LEN];
        int lfd;
        uint64_t steps = 0;

        net2_init(&n, fault, NULL);
        a.s = n.st[0];
        b.s = n.st[1];
        tcp_state_of(a.s)->msl_ns = MPNET_NS_PER_S; /* TIME_WAIT: 2 s */
        tcp_state_of(b.s)->msl_ns = MPNET_NS_PER_S;
        sha256_init(&a.h_tx);
        sha256_init(&a.h_rx);
        sha256_init(&b.h_tx);
        sha256_init(&b.h_rx);
        if (fam == 6) {
                struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(5001)};

                assert_int_equal(
                    mpnet_addr6_add(a.s, n.ifa, A6("2001:db8::1"), 64, MPNET_ADDR6_F_NODAD), 0);
                assert_int_equal(
                    mpnet_addr6_add(b.s, n.ifb, A6("2001:db8::2"), 64, MPNET_ADDR6_F_NODAD), 0);
                lfd = mpnet_socket(a.s, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
                assert_int_equal(mpnet_bind(a.s, lfd, (struct sockaddr *)&s6, sizeof(s6)), 0);
                assert_int_equal(mpnet_listen(a.s, lfd, 4), 0);
                b.fd = mpnet_socket(b.s, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
                memcpy(&s6.sin6_addr, A6("2001:db8::1"), 16);
                assert_int_equal(mpnet_connect(b.s, b.fd, (struct sockaddr *)&s6, sizeof(s6)),
                                 -EINPROGRESS);
        } else {
                lfd = mpnet_socket(a.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                assert_int_equal(mpnet_bind(a.s, lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
                assert_int_equal(mpnet_listen(a.s, lfd, 4), 0);
                b.fd = mpnet_socket(b.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                sa.sin_addr.s_addr = htonl(A_ADDR);
                assert_int_equal(mpnet_connect(b.s, b.fd, (struct sockaddr *)&sa, sizeof(sa)),
                                 -EINPROGRESS);
        }
        if (xo.rcvbuf != 0)
                assert_int_equal(
                    mpnet_setsockopt(b.s, b.fd, SOL_SOCKET, SO_RCVBUF, &xo.rcvbuf, sizeof(int)), 0);
        if (xo.rmem_max != 0) {
                assert_int_equal(mpnet_tcp_set_autotune(a.s, TCP_BUF_AUTO_MAX, TCP_BUF_AUTO_MAX),
                                 0);
                assert_int_equal(mpnet_tcp_set_autotune(b.s, xo.rmem_max, TCP_BUF_AUTO_MAX), 0);
        }
        if (xo.no_autotune) {
                assert_int_equal(mpnet_tcp_set_autotune(a.s, 0, 0), 0);
                assert_int_equal(mpnet_tcp_set_autotune(b.s, 0, 0), 0);
        }
        a.fd = -1;
        for (int i = 0; i < 100 && a.fd < 0; i++) {
                net2_run(&n, 100 * MPNET_NS_PER_MS);
                a.fd = mpnet_accept(a.s, lfd, NULL, NULL, 0);
        }
        assert_true(a.fd >= 0);
        while (!(a.eof && b.eof) && steps < 2000000) {
                pump(&a);
                pump(&b);
                net2_run(&n, MPNET_NS_PER_MS);
                steps++;
        }
        assert_true(a.eof && b.eof);
        assert_int_equal(a.got, XFER_BYTES);
        assert_int_equal(b.got, XFER_BYTES);
        sha256_final(&a.h_tx, d1);
        sha256_final(&b.h_rx, d2);
        assert_memory_equal(d1, d2, SHA256_LEN);
        sha256_final(&b.h_tx, d1);
        sha256_final(&a.h_rx, d2);
        assert_memory_equal(d1, d2, SHA256_LEN);
        if (xo.check != NULL)
                xo.check(&a, &b);
        assert_int_equal(mpnet_close(a.s, a.fd), 0);
        assert_int_equal(mpnet_close(b.s, b.fd), 0);
        assert_int_equal(mpnet_close(a.s, lfd), 0);
        /* Both FINs acknowledged, TIME_WAIT over: no connection left. */
        net2_run(&n, 200 * MPNET_NS_PER_S);
        assert_int_equal(tcp_state_of(a.s)->ct.n, 0);
        assert_int_equal(tcp_state_of(b.s)->ct.n, 0);
        fprintf(stderr, "xfer %s: %llu ms virtual, rtx %llu, fast %llu, rto %llu, ooo drops %llu\n",
                name, (unsigned long long)steps,
                (unsigned long long)(stk_ctr(a.s, "tcp_rtx") + stk_ctr(b.s, "tcp_rtx")),
                (unsigned long long)(stk_ctr(a.s, "tcp_fast_rtx") + stk_ctr(b.s, "tcp_fast_rtx")),
                (unsigned long long)(stk_ctr(a.s, "tcp_rto") + stk_ctr(b.s, "tcp_rto")),
                (unsigned long long)(stk_ctr(a.s, "tcp_ooo_drop") + stk_ctr(b.s, "tcp_ooo_drop")));
        if (fault != NULL && fault->loss_ppm != 0) {
                struct mpnet_fault_stats fs;

                assert_int_equal(mpnet_fault_get_stats(n.la, &fs), 0);
                assert_true(fs.lost > 0);
                assert_true(stk_ctr(a.s, "tcp_rtx") + stk_ctr(b.s, "tcp_rtx") > 0);
        } else {
                assert_int_equal(stk_ctr(a.s, "tcp_rtx") + stk_ctr(b.s, "tcp_rtx"), 0);
        }
        net2_fini(&n);
}

static void test_xfer_clean(void **state)
{
        (void)state;
        xfer("clean", NULL, 4);
}

static void test_xfer_lossy(void **state)
{
        struct mpnet_fault_cfg f = {.seed = 42, .loss_ppm = 10000, .reorder_ppm = 10000};

        (void)state;
        xfer("loss 1%, reorder 1%", &f, 4);
}

/* Duplicates, delay with jitter (reordering by it), loss: the same bytes. */
static void test_xfer_dup_delay(void **state)
{
        struct mpnet_fault_cfg f = {.seed = 7,
                                    .loss_ppm = 5000,
                                    .dup_ppm = 10000,
                                    .delay_ns = MPNET_NS_PER_MS,
                                    .jitter_ns = MPNET_NS_PER_MS / 2};

        (void)state;
        xfer("loss 0.5%, dup 1%, delay 1 ms +- 0.5", &f, 4);
}

/* IPv6, with loss: the MSS is 20 bytes less. */
static void test_xfer_lossy6(void **state)
{
        struct mpnet_fault_cfg f = {.seed = 5, .loss_ppm = 10000, .reorder_ppm = 10000};

        (void)state;
        xfer("IPv6, loss 1%, reorder 1%", &f, 6);
}

static int sockbuf(struct side *x, int name)
{
        int v = 0;
        socklen_t l = sizeof(v);

        assert_int_equal(mpnet_getsockopt(x->s, x->fd, SOL_SOCKET, name, &v, &l), 0);
        return v;
}

/* Both receive buffers grew (A's up to the default 4 MB limit, B's up to
 * the 1 MB its stack allows), the send buffers too. */
static void autotune_grown(struct side *a, struct side *b)
{
        assert_true(stk_ctr(a->s, "tcp_rcvbuf_grow") > 0);
        assert_true(stk_ctr(b->s, "tcp_rcvbuf_grow") > 0);
        assert_true(stk_ctr(a->s, "tcp_sndbuf_grow") + stk_ctr(b->s, "tcp_sndbuf_grow") > 0);
        assert_true(sockbuf(a, SO_RCVBUF) > (int)SOCK_RCVBUF_DEFAULT);
        assert_true(sockbuf(a, SO_RCVBUF) <= (int)TCP_BUF_AUTO_MAX);
        assert_true(sockbuf(b, SO_RCVBUF) > (int)SOCK_RCVBUF_DEFAULT);
        assert_true(sockbuf(b, SO_RCVBUF) <= 1 << 20);
        assert_true(sockbuf(a, SO_SNDBUF) > (int)SOCK_RCVBUF_DEFAULT ||
                    sockbuf(b, SO_SNDBUF) > (int)SOCK_RCVBUF_DEFAULT);
}

/* SO_RCVBUF set on B: its buffer stays what was asked (twice, as Linux). */
static void autotune_locked(struct side *a, struct side *b)
{
        (void)a;
        assert_int_equal(sockbuf(b, SO_RCVBUF), 2 * 65536);
        assert_int_equal(stk_ctr(b->s, "tcp_rcvbuf_grow"), 0);
}

/* Auto-tuning turned off (mpnet_tcp_set_autotune(s, 0, 0)): the buffers
 * stay as they were made. */
static void autotune_off(struct side *a, struct side *b)
{
        assert_int_equal(stk_ctr(a->s, "tcp_rcvbuf_grow") + stk_ctr(b->s, "tcp_rcvbuf_grow"), 0);
        assert_int_equal(stk_ctr(a->s, "tcp_sndbuf_grow") + stk_ctr(b->s, "tcp_sndbuf_grow"), 0);
        assert_int_equal(sockbuf(b, SO_RCVBUF), (int)SOCK_RCVBUF_DEFAULT);
}

/* Buffer auto-tuning (Linux's tcp_rmem/tcp_wmem), on by default: over a
 * path with a 10 ms round trip the default buffers hold less than the
 * path carries, so they grow while the data is moving, within the stack's
 * limit; a buffer the application sized stays as it is; with the limits
 * set to 0 nothing grows. */
static void test_xfer_autotune(void **state)
{
        struct mpnet_fault_cfg f = {.seed = 3, .delay_ns = 5 * MPNET_NS_PER_MS};

        (void)state;
        xo.rmem_max = 1 << 20;
        xo.check = autotune_grown;
        xfer("autotune, delay 5 ms", &f, 4);
        memset(&xo, 0, sizeof(xo));
        xo.rmem_max = 1 << 20;
        xo.rcvbuf = 65536;
        xo.check = autotune_locked;
        xfer("SO_RCVBUF set, delay 5 ms", &f, 4);
        memset(&xo, 0, sizeof(xo));
        xo.no_autotune = true;
        xo.check = autotune_off;
        xfer("auto-tuning off, delay 5 ms", &f, 4);
        memset(&xo, 0, sizeof(xo));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_xfer_clean),     cmocka_unit_test(test_xfer_lossy),
            cmocka_unit_test(test_xfer_dup_delay), cmocka_unit_test(test_xfer_lossy6),
            cmocka_unit_test(test_xfer_autotune),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
