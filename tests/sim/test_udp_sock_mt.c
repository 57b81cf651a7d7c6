/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP sockets under the multi-core runtime: datagrams received by two
 * workers reach a socket homed on the control thread through the hand-off
 * rings (the udp-deliver node), none lost while the receive buffer has
 * room, and the counters add up. Under ThreadSanitizer (make check-tsan)
 * this also checks that the worker side of UDP input touches the socket
 * only as l4/socket.h allows. ICMP errors the workers receive reach such
 * a socket's error queue.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/udp.h"
#include "mtnet.h"
#include "stack/stack_priv.h"

#define N_SRC 16
#define PORT  5000
#define ROUND 800 /* datagrams a round: fewer than a hand-off ring holds */

static uint32_t src_of(unsigned i)
{
        return IP4(192, 0, 2, 10 + i % N_SRC);
}

/* A datagram of 18 bytes from host i % N_SRC, port 40000 + i, to R's port
 * PORT, checksummed; its payload carries i. */
static size_t udp_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {.src = src_of(i),
                                    .dst = IP4(192, 0, 2, 1),
                                    .id = (uint16_t)i,
                                    .payload_len = 26,
                                    .proto = MPNET_IPPROTO_UDP,
                                    .ttl = 64};
        uint8_t *u = f + 34;

        memcpy(eth.dst, m->r1->info.mac, 6);
        memcpy(eth.src, m->g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        mpnet_put_be16(u, (uint16_t)(40000 + i % 20000));
        mpnet_put_be16(u + 2, PORT);
        mpnet_put_be16(u + 4, 26);
        mpnet_put_be16(u + 6, 0);
        memset(u + 8, 0, 18);
        mpnet_put_be32(u + 8, i);
        mpnet_udp4_csum_set(u, ip.src, ip.dst);
        return 60;
}

/* Frames first .. first + n - 1 of fn onto both workers' queues. */
static void mt_send_frames_from(struct mtnet *m, unsigned first, unsigned n,
                                size_t (*fn)(struct mtnet *, uint8_t *, unsigned))
{
        for (unsigned i = 0; i < n; i++) {
                uint8_t f[128];
                size_t len = fn(m, f, first + i);
                struct mpnet_pkt *p = mpnet_pkt_from_bytes(m->pool, f, (uint32_t)len);

                assert_non_null(p);
                while (mpnet_link_tx_burst(m->g, (uint16_t)(i / 32 % 2), &p, 1) != 1)
                        usleep(100);
        }
}

static uint64_t local_on(struct mtnet *m, unsigned w)
{
        const struct wctx *c = m->r->ctx[w + 1];

        return c != NULL ? mpnet_stat_read(&c->node_pkts[NODE_ip4_local]) : 0;
}

static void test_workers_to_control_socket(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 41};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 4000;
        int fd = mpnet_socket(m->r, AF_INET, SOCK_DGRAM, 0), big = 64 << 20;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        uint8_t *seen = calloc(n, 1), buf[64];
        unsigned got = 0, sent = 0;

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(m->r, fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
        assert_int_equal(mpnet_bind(m->r, fd, (struct sockaddr *)&a, sizeof(a)), 0);
        for (unsigned i = 0; i < N_SRC; i++)
                assert_int_equal(mpnet_neigh4_add(m->r, 1, src_of(i), m->g->info.mac), 0);
        mt_start(m, NULL);
        /* In rounds smaller than a hand-off ring (HANDOFF_RING per pair
         * of contexts: a full ring drops, counted as handoff_drop). */
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             got < n && mpnet_monotonic_ns() < end;) {
                ssize_t r;

                /* The next round once the last one is all in (a busy
                 * machine may take its time handing it over). */
                if (got == sent && sent < n) {
                        mt_send_frames_from(m, sent, ROUND, udp_fn);
                        sent += ROUND;
                }

                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                while ((r = mpnet_recvfrom(m->r, fd, buf, sizeof(buf), 0, NULL, NULL)) >= 0) {
                        uint32_t i = mpnet_get_be32(buf);

                        assert_int_equal(r, 18);
                        assert_true(i < n);
                        assert_int_equal(seen[i], 0);
                        seen[i] = 1;
                        got++;
                }
                assert_int_equal(r, -EAGAIN);
                usleep(200);
        }
        print_message("%u datagrams: worker 0 took %llu, worker 1 %llu, handed over %llu\n", n,
                      (unsigned long long)local_on(m, 0), (unsigned long long)local_on(m, 1),
                      (unsigned long long)stk_ctr(m->r, "udp_handoff"));
        assert_int_equal(got, n);
        /* Received on both workers, every one handed to the control
         * thread, queued there once, nothing dropped. */
        assert_true(local_on(m, 0) > 0);
        assert_true(local_on(m, 1) > 0);
        assert_int_equal(local_on(m, 0) + local_on(m, 1), n);
        assert_int_equal(stk_ctr(m->r, "udp_handoff"), n);
        assert_int_equal(stk_ctr(m->r, "handoff"), n);
        assert_int_equal(stk_ctr(m->r, "udp_in"), n);
        assert_int_equal(mt_drops(m->r), 0);
        assert_int_equal(mpnet_close(m->r, fd), 0);
        free(seen);
        mt_fini(m);
}

/* An ICMP port unreachable from host i % N_SRC to R about R's datagram
 * 192.0.2.1:1000 -> 192.0.2.10:9, the quote's payload carrying i. */
static size_t err_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {.src = src_of(i),
                                    .dst = IP4(192, 0, 2, 1),
                                    .id = (uint16_t)i,
                                    .payload_len = 8 + 32,
                                    .proto = MPNET_IPPROTO_ICMP,
                                    .ttl = 64};
        struct mpnet_ip4_repr q = {.src = IP4(192, 0, 2, 1),
                                   .dst = IP4(192, 0, 2, 10),
                                   .id = 1,
                                   .payload_len = 12,
                                   .proto = MPNET_IPPROTO_UDP,
                                   .ttl = 64};
        struct mpnet_icmp4_repr r = {.type = MPNET_ICMP4_DEST_UNREACH, .code = 3};
        uint8_t *b = f + 34 + 8;

        memcpy(eth.dst, m->r1->info.mac, 6);
        memcpy(eth.src, m->g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        mpnet_ip4_repr_emit(&q, b);
        mpnet_put_be16(b + 20, 1000);
        mpnet_put_be16(b + 22, 9);
        mpnet_put_be16(b + 24, 12);
        mpnet_put_be16(b + 26, 0);
        mpnet_put_be32(b + 28, i);
        r.data = b;
        r.data_len = 32;
        mpnet_icmp4_repr_emit(&r, f + 34);
        return 34 + 8 + 32;
}

/* ICMP errors received by the workers reach a socket homed on the control
 * thread (workers punt ICMP errors to it; udp_err runs there): each one
 * on the error queue (IP_RECVERR), the connected socket's pending error
 * set. */
static void test_icmp_errors_from_workers(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 43};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 64; /* 32 a worker (mt_send_frames_from) */
        int fd = mpnet_socket(m->r, AF_INET, SOCK_DGRAM, 0), on = 1, v;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1000)};
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
        socklen_t l = sizeof(v);
        uint8_t *seen = calloc(n, 1);
        unsigned got = 0;

        (void)state;
        to.sin_addr.s_addr = htonl(IP4(192, 0, 2, 10));
        assert_true(fd >= 0);
        assert_int_equal(mpnet_setsockopt(m->r, fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_bind(m->r, fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_connect(m->r, fd, (struct sockaddr *)&to, sizeof(to)), 0);
        mt_start(m, NULL);
        mt_send_frames_from(m, 0, n, err_fn);
        /* The error queue holds 32: what comes while it is full is
         * counted (udp_errq_full), never lost silently. */
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             got + stk_ctr(m->r, "udp_errq_full") < n && mpnet_monotonic_ns() < end;) {
                uint8_t buf[16];
                struct iovec iov = {buf, sizeof(buf)};
                struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                while (mpnet_recvmsg(m->r, fd, &msg, MSG_ERRQUEUE) == 4) {
                        uint32_t i = mpnet_get_be32(buf);

                        assert_true(i < n);
                        assert_int_equal(seen[i], 0);
                        seen[i] = 1;
                        got++;
                }
                usleep(200);
        }
        assert_true(got >= 32);
        assert_int_equal(got + stk_ctr(m->r, "udp_errq_full"), n);
        assert_int_equal(local_on(m, 0), n / 2);
        assert_int_equal(local_on(m, 1), n / 2);
        assert_int_equal(stk_ctr(m->r, "udp_err_in"), got);
        assert_int_equal(stk_ctr(m->r, "udp_err_nosock"), 0);
        /* The last record read leaves no pending error (Linux). */
        assert_int_equal(mpnet_getsockopt(m->r, fd, SOL_SOCKET, SO_ERROR, &v, &l), 0);
        assert_int_equal(v, 0);
        assert_int_equal(mpnet_close(m->r, fd), 0);
        free(seen);
        mt_fini(m);
}

/* A socket closed while workers still hand it datagrams: those are dropped
 * on the control thread (counted as stale or as no port), never queued on
 * a freed socket. */
static void test_close_under_traffic(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 42};
        struct mtnet *m = mt_init(&sc, false, 16384);
        const unsigned n = 4000;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        int fd = -1;
        uint64_t accounted = 0;

        (void)state;
        for (unsigned i = 0; i < N_SRC; i++)
                assert_int_equal(mpnet_neigh4_add(m->r, 1, src_of(i), m->g->info.mac), 0);
        mt_start(m, NULL);
        for (unsigned round = 0; round < 8; round++) {
                fd = mpnet_socket(m->r, AF_INET, SOCK_DGRAM, 0);
                assert_int_equal(mpnet_bind(m->r, fd, (struct sockaddr *)&a, sizeof(a)), 0);
                mt_send_frames(m, n / 8, udp_fn);
                /* Half the rounds close with datagrams in the hand-off
                 * rings (stale once drained: the workers have handed the
                 * round over, the control thread has not polled), the
                 * others after a poll. */
                for (uint64_t end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
                     local_on(m, 0) + local_on(m, 1) < (round + 1) * (n / 8) &&
                     mpnet_monotonic_ns() < end;)
                        usleep(500);
                if (round % 2 == 0)
                        mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                assert_int_equal(mpnet_close(m->r, fd), 0);
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
        }
        /* Everything that reached ip4-local is queued, stale, full, went
         * to no port, or met a full hand-off ring (a busy machine may let
         * a worker run several rounds before the control thread drains):
         * each counted once. */
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(1000)) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                accounted = stk_ctr(m->r, "udp_in") + stk_ctr(m->r, "udp_stale") +
                            stk_ctr(m->r, "udp_no_port") + stk_ctr(m->r, "udp_rcvbuf_full") +
                            stk_ctr(m->r, "handoff_drop");
                if (accounted == n && local_on(m, 0) + local_on(m, 1) == n)
                        break;
        }
        assert_true(stk_ctr(m->r, "udp_stale") > 0);
        assert_true(stk_ctr(m->r, "udp_in") > 0);
        print_message("in %llu, stale %llu, no port %llu, full %llu\n",
                      (unsigned long long)stk_ctr(m->r, "udp_in"),
                      (unsigned long long)stk_ctr(m->r, "udp_stale"),
                      (unsigned long long)stk_ctr(m->r, "udp_no_port"),
                      (unsigned long long)stk_ctr(m->r, "udp_rcvbuf_full"));
        for (unsigned c = 0; accounted != n && c < mpnet_stack_counter_count(m->r); c++)
                if (mpnet_stack_counter(m->r, c) != 0)
                        print_message("  %s %llu\n", mpnet_stack_counter_name(m->r, c),
                                      (unsigned long long)mpnet_stack_counter(m->r, c));
        assert_int_equal(accounted, n);
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_workers_to_control_socket),
            cmocka_unit_test(test_close_under_traffic),
            cmocka_unit_test(test_icmp_errors_from_workers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
