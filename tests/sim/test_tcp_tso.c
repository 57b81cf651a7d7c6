/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP super-segments over a memory wire with segmentation offload (tso,
 * as Linux's loopback and veth offer TSO and GRO), on the virtual clock:
 *
 * - the wire: a super-segment (MPNET_PKT_F_TSO, a chain over the MTU)
 *   crosses a wire with tso whole, its flag and tso_segsz kept; a wire
 *   without drops it as any frame over the MTU; tso without csum_offload
 *   is refused;
 * - one bulk flow, A to B: with tso, A sends super-segments
 *   (tcp_tso_out) that B takes whole (tcp_gro_in), every byte arrives in
 *   order and intact, and nothing is dropped as chained or as a
 *   super-segment for a link without TSO; without tso the same flow sends
 *   none;
 * - the same flow over a wire that loses, duplicates and reorders frames:
 *   lost super-segments are repaired (retransmissions go as segments),
 *   the bytes arrive intact;
 * - a stack with one interface whose link lacks TSO beside one with it
 *   sends no super-segment;
 * - the receive queue: a reader that reads late finds the super-segments
 *   kept whole (tcp_rcvq_take) and the segment that follows them in the
 *   ring after them (tcp_rcvq_collapse), reads them intact in odd pieces,
 *   MSG_PEEK first; with a small pool the queue stays under a quarter of
 *   it; closed, every buffer is back;
 * - the send buffer: a super-segment's payload references the send
 *   buffer's chunks (tcp_snd_ref: no copy); a receiver that keeps them
 *   unread after they were acknowledged still reads them intact while
 *   the sender writes more (a chunk still referenced is not reused);
 *   bits flipped on the wire in such a payload are flipped in a copy, not
 *   in the sender's buffer: the retransmissions carry the bytes intact;
 *   without tso, segments of odd lengths that cross a chunk's end at odd
 *   offsets are summed right (none dropped by the checksum).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/link.h"
#include "mpnet/socket.h"
#include "testutil.h"

#define TSO_BYTES      (4u << 20)
#define SO_TCP_NODELAY 1 /* <netinet/tcp.h>'s TCP_NODELAY */

static uint8_t pat(uint64_t off)
{
        return (uint8_t)(off % 251);
}

/* net2 (testutil.h) on a wire that offers tso (or not), a
 * fault decorator on each end when fault is not NULL. */
static void net_up(struct net2 *n, bool tso, const struct mpnet_fault_cfg *fault)
{
        struct mpnet_memwire_cfg wc = {
            .name = "tso", .ring_size = 4096, .csum_offload = true, .tso = tso};

        net2_init_wire(n, &wc, 16384, fault, NULL);
}

/* TSO_BYTES from A to B through one connection, checked byte by byte;
 * the connection closed after. */
static void flow(struct net2 *n)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
        static uint8_t buf[65536];
        uint64_t sent = 0, got = 0, steps = 0;
        int lfd, cfd, sfd = -1;
        bool bad = false;
        ssize_t k;

        lfd = mpnet_socket(n->st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_bind(n->st[1], lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(mpnet_listen(n->st[1], lfd, 4), 0);
        sa.sin_addr.s_addr = htonl(B_ADDR);
        cfd = mpnet_socket(n->st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_connect(n->st[0], cfd, (struct sockaddr *)&sa, sizeof(sa)),
                         -EINPROGRESS);
        for (int j = 0; j < 100 && sfd < 0; j++) {
                net2_run(n, 10 * MPNET_NS_PER_MS);
                sfd = mpnet_accept(n->st[1], lfd, NULL, NULL, 0);
        }
        assert_true(sfd >= 0);
        while (got < TSO_BYTES && steps++ < 400000) {
                while (sent < TSO_BYTES) {
                        uint32_t m = TSO_BYTES - sent < sizeof(buf) ? (uint32_t)(TSO_BYTES - sent)
                                                                    : (uint32_t)sizeof(buf);

                        for (uint32_t i = 0; i < m; i++)
                                buf[i] = pat(sent + i);
                        k = mpnet_sendto(n->st[0], cfd, buf, m, 0, NULL, 0);
                        if (k == -EAGAIN)
                                break;
                        assert_true(k > 0);
                        sent += (uint64_t)k;
                }
                net2_run(n, MPNET_NS_PER_MS / 4);
                while ((k = mpnet_recvfrom(n->st[1], sfd, buf, sizeof(buf), 0, NULL, NULL)) > 0) {
                        for (ssize_t i = 0; i < k; i++)
                                if (buf[i] != pat(got + (uint64_t)i))
                                        bad = true;
                        got += (uint64_t)k;
                }
                assert_true(k == -EAGAIN);
        }
        assert_false(bad);
        assert_int_equal(got, TSO_BYTES);
        mpnet_close(n->st[0], cfd);
        mpnet_close(n->st[1], sfd);
        mpnet_close(n->st[1], lfd);
        net2_run(n, 200 * MPNET_NS_PER_S);
}

static void test_wire(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "w", .csum_offload = true, .tso = true};
        struct mpnet_link *a, *b;
        struct mpnet_pool *pool = mpnet_pool_create("w", 64);
        static uint8_t frame[20000];
        struct mpnet_pkt *p, *q = NULL;
        struct mpnet_link_stats st = {0};

        (void)state;
        assert_non_null(pool);
        wc.csum_offload = false;
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), -EINVAL);
        for (unsigned t = 0; t < 2; t++) {
                wc.csum_offload = true;
                wc.tso = t == 1;
                assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
                assert_int_equal((a->info.offloads & MPNET_LINK_OFF_TSO) != 0, t == 1);
                memset(frame, 0x11 + t, sizeof(frame));
                p = mpnet_pkt_from_bytes(pool, frame, sizeof(frame));
                assert_non_null(p);
                assert_non_null(p->next);
                p->ol_flags |= MPNET_PKT_F_TSO;
                p->tso_segsz = 1448;
                assert_int_equal(mpnet_link_tx_burst(a, 0, &p, 1), 1);
                q = NULL;
                if (t == 0) {
                        assert_int_equal(mpnet_link_rx_burst(b, 0, &q, 1), 0);
                        mpnet_link_get_stats(a, &st);
                        assert_int_equal(st.tx_drops, 1);
                } else {
                        assert_int_equal(mpnet_link_rx_burst(b, 0, &q, 1), 1);
                        assert_int_equal(q->pkt_len, sizeof(frame));
                        assert_true(q->ol_flags & MPNET_PKT_F_TSO);
                        assert_true(q->ol_flags & MPNET_PKT_F_L4_CSUM_OK);
                        assert_int_equal(q->tso_segsz, 1448);
                        mpnet_pkt_free(q);
                }
                mpnet_link_destroy(a);
                mpnet_link_destroy(b);
        }
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_flow_tso(void **state)
{
        struct net2 n;

        (void)state;
        net_up(&n, true, NULL);
        flow(&n);
        fprintf(stderr, "tso: %llu super-segments for %llu segments, %llu taken whole\n",
                (unsigned long long)stk_ctr(n.st[0], "tcp_tso_out"),
                (unsigned long long)stk_ctr(n.st[0], "tcp_data_out"),
                (unsigned long long)stk_ctr(n.st[1], "tcp_gro_in"));
        assert_true(stk_ctr(n.st[0], "tcp_tso_out") > 0);
        assert_true(stk_ctr(n.st[1], "tcp_gro_in") > 0);
        /* Most of the data went in super-segments: far fewer frames than
         * MSS pieces. */
        assert_true(stk_ctr(n.st[0], "tcp_tso_out") * 4 < stk_ctr(n.st[0], "tcp_data_out"));
        assert_int_equal(stk_ctr(n.st[1], "tcp_chained"), 0);
        assert_int_equal(stk_ctr(n.st[0], "tx_tso_nolink"), 0);
        assert_int_equal(stk_ctr(n.st[0], "tcp_rtx"), 0);
        /* The super-segments' payload went by reference: most bytes were
         * never copied on the way out. */
        assert_true(stk_ctr(n.st[0], "tcp_snd_ref") > TSO_BYTES / 2);
        net2_fini(&n);
}

static void test_flow_no_tso(void **state)
{
        struct net2 n;

        (void)state;
        net_up(&n, false, NULL);
        flow(&n);
        assert_int_equal(stk_ctr(n.st[0], "tcp_tso_out"), 0);
        assert_int_equal(stk_ctr(n.st[1], "tcp_gro_in"), 0);
        assert_true(stk_ctr(n.st[0], "tcp_data_out") >= TSO_BYTES / 1460);
        net2_fini(&n);
}

static void test_flow_tso_lossy(void **state)
{
        struct mpnet_fault_cfg f = {.seed = 5,
                                    .loss_ppm = 20000,
                                    .dup_ppm = 5000,
                                    .reorder_ppm = 5000,
                                    .delay_ns = MPNET_NS_PER_MS};
        struct net2 n;

        (void)state;
        net_up(&n, true, &f);
        flow(&n);
        fprintf(stderr, "tso lossy: %llu super-segments, %llu retransmissions, %llu rto\n",
                (unsigned long long)stk_ctr(n.st[0], "tcp_tso_out"),
                (unsigned long long)stk_ctr(n.st[0], "tcp_rtx"),
                (unsigned long long)stk_ctr(n.st[0], "tcp_rto"));
        assert_true(stk_ctr(n.st[0], "tcp_tso_out") > 0);
        assert_true(stk_ctr(n.st[0], "tcp_rtx") > 0);
        net2_fini(&n);
}

/* Without tso or checksum offload (sums verified in software), one byte
 * then writes of 1001 bytes each sent at once (TCP_NODELAY): segments
 * from odd offsets, those crossing a send buffer chunk's end after an
 * odd number of bytes, their tails summed on their own and swapped. B
 * must drop none by the checksum and read every byte. */
static void test_odd_segments(void **state)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5003)};
        struct mpnet_memwire_cfg wc = {.name = "odd", .ring_size = 4096}; /* sums in software */
        static uint8_t buf[1001], in[4096];
        uint64_t got = 0, sent = 0;
        int lfd, cfd, sfd = -1, one = 1;
        struct net2 n;
        ssize_t k;

        (void)state;
        net2_init_wire(&n, &wc, 16384, NULL, NULL);
        lfd = mpnet_socket(n.st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_bind(n.st[1], lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(mpnet_listen(n.st[1], lfd, 4), 0);
        sa.sin_addr.s_addr = htonl(B_ADDR);
        cfd = mpnet_socket(n.st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(
            mpnet_setsockopt(n.st[0], cfd, IPPROTO_TCP, SO_TCP_NODELAY, &one, sizeof(one)), 0);
        assert_int_equal(mpnet_connect(n.st[0], cfd, (struct sockaddr *)&sa, sizeof(sa)),
                         -EINPROGRESS);
        for (int j = 0; j < 100 && sfd < 0; j++) {
                net2_run(&n, 10 * MPNET_NS_PER_MS);
                sfd = mpnet_accept(n.st[1], lfd, NULL, NULL, 0);
        }
        assert_true(sfd >= 0);
        /* One byte first: the segments after it start at odd offsets. */
        assert_int_equal(mpnet_sendto(n.st[0], cfd, buf, 1, 0, NULL, 0), 1);
        sent = 1;
        net2_run(&n, 10 * MPNET_NS_PER_MS);
        /* Written faster than acknowledged (not an empty buffer each
         * time, which starts again at a chunk's start): segments cross. */
        for (unsigned w = 0, st = 0; w < 200 || got < sent; st++) {
                assert_true(st < 20000);
                for (unsigned b = 0; b < 20 && w < 200; b++) {
                        for (uint32_t i = 0; i < sizeof(buf); i++)
                                buf[i] = pat(sent + i);
                        k = mpnet_sendto(n.st[0], cfd, buf, sizeof(buf), 0, NULL, 0);
                        if (k == -EAGAIN)
                                break;
                        assert_int_equal(k, sizeof(buf));
                        sent += sizeof(buf);
                        w++;
                }
                net2_run(&n, MPNET_NS_PER_MS / 4);
                while ((k = mpnet_recvfrom(n.st[1], sfd, in, sizeof(in), 0, NULL, NULL)) > 0) {
                        for (ssize_t i = 0; i < k; i++)
                                if (in[i] != pat(got + (uint64_t)i))
                                        fail_msg("byte %llu", (unsigned long long)(got + i));
                        got += (uint64_t)k;
                }
        }
        assert_int_equal(got, 1 + 200u * sizeof(buf));
        assert_int_equal(stk_ctr(n.st[1], "tcp_bad_csum"), 0);
        assert_int_equal(stk_ctr(n.st[0], "tcp_rtx"), 0);
        mpnet_close(n.st[0], cfd);
        mpnet_close(n.st[1], sfd);
        mpnet_close(n.st[1], lfd);
        net2_run(&n, 200 * MPNET_NS_PER_S);
        net2_fini(&n);
}

/* Bits flipped on the wire (the fault decorator on B's end) in
 * super-segments whose payload is A's send buffer: B drops them by their
 * checksum and A's retransmissions, copied from the same buffer, must
 * carry the bytes A wrote (flow() checks each). At 2 % with this seed B's
 * window update is lost while A holds data behind a small window: the
 * persist timer must probe it (test_tcp_data test_persist_small_window). */
static void test_flow_tso_corrupt(void **state)
{
        struct mpnet_fault_cfg f = {.seed = 7, .corrupt_ppm = 20000};
        struct net2 n;

        (void)state;
        net_up(&n, true, &f);
        flow(&n);
        fprintf(stderr, "tso corrupt: %llu super-segments, %llu retransmissions\n",
                (unsigned long long)stk_ctr(n.st[0], "tcp_tso_out"),
                (unsigned long long)stk_ctr(n.st[0], "tcp_rtx"));
        assert_true(stk_ctr(n.st[0], "tcp_snd_ref") > 0);
        assert_true(stk_ctr(n.st[0], "tcp_rtx") > 0);
        net2_fini(&n);
}

/* RQ_BYTES from A to B, B reading nothing until A has sent them all
 * (they fit B's window: the auto-tuned buffer at its start), then in
 * pieces of odd sizes, each peeked first. */
#define RQ_BYTES 110304u /* six send-buffer chunks and 12000 bytes */
#define RQ_MORE  20000u  /* written after those are acknowledged, unread */
static void rq_flow(unsigned n_bufs, bool read)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5002)};
        struct mpnet_memwire_cfg wc = {
            .name = "rq", .ring_size = 4096, .csum_offload = true, .tso = true};
        static uint8_t buf[RQ_BYTES + RQ_MORE], peek[4096];
        uint64_t got = 0, in_use;
        int lfd, cfd, sfd = -1, rb = 8 << 20;
        struct net2 n;
        ssize_t k;

        net2_init_wire(&n, &wc, n_bufs, NULL, NULL);
        lfd = mpnet_socket(n.st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_setsockopt(n.st[1], lfd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb)), 0);
        assert_int_equal(mpnet_bind(n.st[1], lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(mpnet_listen(n.st[1], lfd, 4), 0);
        sa.sin_addr.s_addr = htonl(B_ADDR);
        cfd = mpnet_socket(n.st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_connect(n.st[0], cfd, (struct sockaddr *)&sa, sizeof(sa)),
                         -EINPROGRESS);
        for (int j = 0; j < 100 && sfd < 0; j++) {
                net2_run(&n, 10 * MPNET_NS_PER_MS);
                sfd = mpnet_accept(n.st[1], lfd, NULL, NULL, 0);
        }
        assert_true(sfd >= 0);
        for (uint32_t i = 0; i < RQ_BYTES + RQ_MORE; i++)
                buf[i] = pat(i);
        for (uint32_t sent = 0, j = 0; sent < RQ_BYTES && j < 1000; j++) {
                k = mpnet_sendto(n.st[0], cfd, buf + sent, RQ_BYTES - sent, 0, NULL, 0);
                assert_true(k > 0 || k == -EAGAIN);
                sent += k > 0 ? (uint32_t)k : 0;
                net2_run(&n, MPNET_NS_PER_MS);
        }
        net2_run(&n, 100 * MPNET_NS_PER_MS);
        /* All acknowledged, B's queue unread: A writes more. Its last
         * chunk, still referenced by B's queue, must not be written over. */
        assert_int_equal(mpnet_sendto(n.st[0], cfd, buf + RQ_BYTES, RQ_MORE, 0, NULL, 0), RQ_MORE);
        net2_run(&n, 100 * MPNET_NS_PER_MS);
        fprintf(stderr,
                "rq (%u buffers): %llu super-segments in, %llu kept whole, %llu collapses\n",
                n_bufs, (unsigned long long)stk_ctr(n.st[1], "tcp_gro_in"),
                (unsigned long long)stk_ctr(n.st[1], "tcp_rcvq_take"),
                (unsigned long long)stk_ctr(n.st[1], "tcp_rcvq_collapse"));
        assert_true(stk_ctr(n.st[1], "tcp_rcvq_take") > 0);
        /* A quarter of a small pool is less than RQ_BYTES: the queue went
         * into the ring. */
        if (n_bufs < 1024)
                assert_true(stk_ctr(n.st[1], "tcp_rcvq_collapse") > 0);
        in_use = mpnet_pool_in_use(n.pool);
        /* The queue's bound: a quarter of the pool, with the few buffers
         * of the rest of the stacks. */
        assert_true(in_use <= n_bufs / 4 + 64);
        memset(buf, 0, sizeof(buf));
        if (!read)
                got = RQ_BYTES + RQ_MORE; /* closed unread below: a reset, the buffers back */
        for (uint32_t piece = 1; got < RQ_BYTES + RQ_MORE; piece = piece * 3 + 7) {
                uint32_t m = piece % sizeof(peek) + 1;

                k = mpnet_recvfrom(n.st[1], sfd, peek, m, MSG_PEEK, NULL, NULL);
                assert_true(k > 0);
                assert_true((uint32_t)k == m || got + (uint64_t)k == RQ_BYTES + RQ_MORE);
                k = mpnet_recvfrom(n.st[1], sfd, buf + got, (size_t)k, 0, NULL, NULL);
                assert_true(k > 0);
                assert_memory_equal(buf + got, peek, (size_t)k);
                got += (uint64_t)k;
        }
        for (uint32_t i = 0; read && i < RQ_BYTES + RQ_MORE; i++)
                if (buf[i] != pat(i))
                        fail_msg("byte %u: %u, not %u", i, buf[i], pat(i));
        if (read)
                assert_int_equal(mpnet_recvfrom(n.st[1], sfd, peek, 1, 0, NULL, NULL), -EAGAIN);
        mpnet_close(n.st[0], cfd);
        mpnet_close(n.st[1], sfd);
        mpnet_close(n.st[1], lfd);
        net2_run(&n, 200 * MPNET_NS_PER_S);
        net2_fini(&n);
}

static void test_rcvq(void **state)
{
        (void)state;
        rq_flow(16384, true);
}

/* Closed with the queue unread: a reset, and net2_fini finds every
 * buffer back in the pool. */
static void test_rcvq_unread(void **state)
{
        (void)state;
        rq_flow(16384, false);
}

static void test_rcvq_small_pool(void **state)
{
        (void)state;
        rq_flow(160, true);
}

/* A second interface whose link lacks TSO: the stack sends no
 * super-segment on any (TCP does not know the route's link when it cuts). */
static void test_mixed_links(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "plain"};
        struct mpnet_link *x, *y;
        struct net2 n;

        (void)state;
        net_up(&n, true, NULL);
        assert_int_equal(mpnet_memwire_create(&wc, &x, &y), 0);
        assert_int_equal(mpnet_iface_attach(n.st[0], x, "a1"), 2);
        flow(&n);
        assert_int_equal(stk_ctr(n.st[0], "tcp_tso_out"), 0);
        assert_int_equal(mpnet_iface_detach(n.st[0], 2), 0);
        mpnet_link_destroy(x);
        mpnet_link_destroy(y);
        net2_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_wire),
            cmocka_unit_test(test_flow_tso),
            cmocka_unit_test(test_flow_no_tso),
            cmocka_unit_test(test_flow_tso_lossy),
            cmocka_unit_test(test_flow_tso_corrupt),
            cmocka_unit_test(test_odd_segments),
            cmocka_unit_test(test_mixed_links),
            cmocka_unit_test(test_rcvq),
            cmocka_unit_test(test_rcvq_small_pool),
            cmocka_unit_test(test_rcvq_unread),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
