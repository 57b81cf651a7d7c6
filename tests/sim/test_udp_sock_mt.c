/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP sockets under the multi-core runtime: datagrams received by two
 * workers reach a socket homed on the control thread through the hand-off
 * rings (the udp-deliver node), none lost while the receive buffer has
 * room, and the counters add up. Under ThreadSanitizer (make check-tsan)
 * this also checks that the worker side of UDP input touches the socket
 * only as l4/socket.h allows.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
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

                /* The next round once the last is all in (not before
                 * the workers took a frame of it: that sent it twice). */
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
        uint64_t accounted;

        (void)state;
        for (unsigned i = 0; i < N_SRC; i++)
                assert_int_equal(mpnet_neigh4_add(m->r, 1, src_of(i), m->g->info.mac), 0);
        mt_start(m, NULL);
        for (unsigned round = 0; round < 8; round++) {
                fd = mpnet_socket(m->r, AF_INET, SOCK_DGRAM, 0);
                assert_int_equal(mpnet_bind(m->r, fd, (struct sockaddr *)&a, sizeof(a)), 0);
                mt_send_frames(m, n / 8, udp_fn);
                /* Half the rounds close with datagrams in the hand-off
                 * rings (stale once drained), the others after a poll. */
                usleep(2000);
                if (round % 2 == 0)
                        mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                assert_int_equal(mpnet_close(m->r, fd), 0);
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
        }
        /* Everything that reached ip4-local is queued, stale, full, or
         * went to no port. */
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S; mpnet_monotonic_ns() < end;
             usleep(1000)) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                accounted = stk_ctr(m->r, "udp_in") + stk_ctr(m->r, "udp_stale") +
                            stk_ctr(m->r, "udp_no_port") + stk_ctr(m->r, "udp_rcvbuf_full");
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
        assert_int_equal(accounted, n);
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_workers_to_control_socket),
            cmocka_unit_test(test_close_under_traffic),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
