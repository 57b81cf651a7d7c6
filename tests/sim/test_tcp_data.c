/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's data path and close, segment by segment (tcpscript.h, virtual
 * time): ACK policy, segmentation, Nagle, the out-of-order queue and SACK,
 * retransmission, the persist timer, PAWS, the send buffer, and each way
 * of closing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <string.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"
#include "tcpscript.h"

#define SO_TCP_NODELAY 1 /* <netinet/tcp.h>'s TCP_NODELAY */

static int setup(void **state)
{
        struct ts *t = ts_new();

        tcp_state_of(t->s)->msl_ns = MPNET_NS_PER_S;
        *state = t;
        return 0;
}

/* The connection: the peer at 192.0.2.2:40000, the stack's accepted
 * socket on 8080. With all, timestamps (the peer's TSval counts up by one
 * per segment), SACK and window scale 8; else only MSS. MSS 1000. */
struct k {
        struct ts *t;
        int lfd, fd;
        bool all;
        uint32_t tsv, tse;
};

static struct mpnet_tcp_opts popts(struct k *k)
{
        struct mpnet_tcp_opts o = {0};

        if (k->all) {
                o.present = MPNET_TCPO_TS;
                o.ts_val = ++k->tsv;
                o.ts_ecr = k->tse;
        }
        return o;
}

/* The peer sends: seq and ack relative, n bytes of data (bytes of 'a'..). */
static void psend(struct k *k, uint32_t seq, uint32_t ack, uint16_t flags, uint32_t n)
{
        uint8_t b[TS_DATA_MAX];

        for (uint32_t i = 0; i < n; i++)
                b[i] = (uint8_t)('a' + (seq + i) % 26);
        ts_send(k->t, &(struct ts_seg){.sport = 40000,
                                       .dport = 8080,
                                       .seq = seq,
                                       .ack = ack,
                                       .flags = flags,
                                       .data = b,
                                       .len = n,
                                       .opts = popts(k)});
}

static void expect(struct k *k, uint64_t ms, uint16_t flags, uint32_t seq, uint32_t ack,
                   uint32_t len, struct ts_seg *got)
{
        struct ts_seg g;

        ts_expect(k->t, ms, &(struct ts_seg){.flags = flags, .seq = seq, .ack = ack, .len = len},
                  &g);
        if (g.opts.present & MPNET_TCPO_TS)
                k->tse = g.opts.ts_val;
        if (got != NULL)
                *got = g;
}

static void estab(struct ts *t, struct k *k, bool all)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = 1000};
        struct ts_seg got;

        memset(k, 0, sizeof(*k));
        k->t = t;
        k->all = all;
        k->lfd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(k->lfd >= 0);
        assert_int_equal(mpnet_bind(t->s, k->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_listen(t->s, k->lfd, 4), 0);
        if (all) {
                o.present |= MPNET_TCPO_WSCALE | MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS;
                o.wscale = 8;
                o.ts_val = ++k->tsv;
        }
        ts_at(t, 100);
        ts_send(
            t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S, .opts = o});
        expect(k, 1, TH_SA, 0, 1, 0, &got);
        psend(k, 1, 1, TH_A, 0);
        k->fd = mpnet_accept(t->s, k->lfd, NULL, NULL, 0);
        assert_true(k->fd >= 0);
}

/* The only connection in the table, or NULL. */
static struct tcp_conn *conn_get(struct ts *t)
{
        struct tcp_state *st = tcp_state_of(t->s);

        struct tcp_conn_buckets *bk = tcp_conn_bk(&st->ct);

        for (unsigned i = 0; bk != NULL && i <= bk->mask; i++) {
                struct tcp_conn *c = atomic_load(&bk->b[i]);

                if (c != NULL)
                        return c;
        }
        return NULL;
}

/* Its state (TCP_CLOSED: none). */
static int conn_state(struct ts *t)
{
        struct tcp_conn *c = conn_get(t);

        return c != NULL ? c->state : TCP_CLOSED;
}

static ssize_t rd(struct ts *t, int fd, void *b, size_t n, int flags)
{
        return mpnet_recvfrom(t->s, fd, b, n, flags, NULL, NULL);
}

static ssize_t wr(struct ts *t, int fd, size_t n)
{
        static uint8_t b[1 << 20];

        memset(b, 'x', n < sizeof(b) ? n : sizeof(b));
        return mpnet_sendto(t->s, fd, b, n, 0, NULL, 0);
}

/* In-order data: quick ACKs at the start (RFC 9293 3.8.6.3 leaves it;
 * Linux's quickack), recv and MSG_PEEK, the FIN gives EOF and CLOSE_WAIT;
 * close sends our FIN (LAST_ACK) and its ACK ends the connection. */
static void test_recv_fin(void **state)
{
        struct ts *t = *state;
        struct k k;
        char b[300];

        estab(t, &k, false);
        psend(&k, 1, 1, TH_PA, 100);
        expect(&k, 1, TH_A, 1, 101, 0, NULL);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), MSG_PEEK), 100);
        assert_int_equal(rd(t, k.fd, b, 40, 0), 40);
        assert_int_equal(b[0], 'b'); /* seq 1 */
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 60);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), -EAGAIN);
        assert_false(atomic_load(&sock_get(t->s, k.fd)->events) & EPOLLIN);
        psend(&k, 101, 1, TH_FA, 0);
        expect(&k, 1, TH_A, 1, 102, 0, NULL);
        assert_int_equal(conn_state(t), TCP_CLOSE_WAIT);
        assert_true(atomic_load(&sock_get(t->s, k.fd)->events) & (EPOLLIN | EPOLLRDHUP));
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 0);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_FA, 1, 102, 0, NULL);
        assert_int_equal(conn_state(t), TCP_LAST_ACK);
        psend(&k, 102, 2, TH_A, 0);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        ts_expect_none(t, 5000);
        mpnet_close(t->s, k.lfd);
}

/* Past the quick ACKs: a lone segment waits for the 40 ms delayed ACK;
 * two full segments are ACKed at once (RFC 5681 4.2). */
static void test_delayed_ack(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t seq = 1;

        estab(t, &k, false);
        for (int i = 0; i < 16; i++, seq += 10) {
                psend(&k, seq, 1, TH_PA, 10);
                expect(&k, 1, TH_A, 1, seq + 10, 0, NULL);
        }
        psend(&k, seq, 1, TH_PA, 10);
        seq += 10;
        ts_expect_none(t, 30);
        expect(&k, 20, TH_A, 1, seq, 0, NULL);
        assert_int_equal(ts_ctr(t, "tcp_dack"), 1);
        psend(&k, seq, 1, TH_PA, 1000);
        psend(&k, seq + 1000, 1, TH_PA, 1000);
        expect(&k, 1, TH_A, 1, seq + 2000, 0, NULL);
        assert_int_equal(ts_ctr(t, "tcp_dack"), 1);
        mpnet_close(t->s, k.lfd);
}

/* The in-order segments of one receive vector get one ACK, after the
 * vector (tcp_ack_vec), not one per second segment (RFC 5681 4.2's rule,
 * as Linux's GRO applies it to what it merged); quick ACKs used up first. */
static void test_ack_per_vector(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t seq = 1;

        mpnet_tcp_set_ack_vec(t->s, 1);
        estab(t, &k, false);
        for (int i = 0; i < 16; i++, seq += 10) {
                psend(&k, seq, 1, TH_PA, 10);
                expect(&k, 1, TH_A, 1, seq + 10, 0, NULL);
        }
        for (int i = 0; i < 8; i++) {
                uint8_t f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX + TS_DATA_MAX];
                uint8_t b[1000];

                memset(b, 'v', sizeof(b));
                link_send(t->pool, t->lb, f,
                          ts_build(t,
                                   &(struct ts_seg){.sport = 40000,
                                                    .dport = 8080,
                                                    .seq = seq + (uint32_t)i * 1000,
                                                    .ack = 1,
                                                    .flags = TH_PA,
                                                    .data = b,
                                                    .len = sizeof(b)},
                                   f));
        }
        expect(&k, 1, TH_A, 1, seq + 8000, 0, NULL);
        ts_expect_none(t, 100);
        assert_int_equal(ts_ctr(t, "tcp_ack_vec"), 1);
        assert_int_equal(ts_ctr(t, "tcp_dack"), 0);
        mpnet_close(t->s, k.lfd);
}

/* The peer queues a segment on the wire without the stack running: what
 * it queues before the next ts_settle() comes in as one receive vector. */
static void vsend(struct k *k, uint32_t seq, uint16_t flags, uint32_t n)
{
        uint8_t f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX + TS_DATA_MAX];
        uint8_t b[TS_DATA_MAX];

        for (uint32_t i = 0; i < n; i++)
                b[i] = (uint8_t)('a' + (seq + i) % 26);
        link_send(k->t->pool, k->t->lb, f,
                  ts_build(k->t,
                           &(struct ts_seg){.sport = 40000,
                                            .dport = 8080,
                                            .seq = seq,
                                            .ack = 1,
                                            .flags = flags,
                                            .data = b,
                                            .len = n,
                                            .opts = popts(k)},
                           f));
}

static void wake_count(struct mpnet_stack *s, int fd, void *arg)
{
        (void)s;
        (void)fd;
        (*(unsigned *)arg)++;
}

/* Past the quick ACKs (16 small segments, each ACKed at once), with the
 * socket's callback counting wake-ups. */
static unsigned quick_done(struct ts *t, struct k *k, unsigned *wakes)
{
        unsigned seq = 1;
        char b[200];

        for (int i = 0; i < 16; i++, seq += 10) {
                psend(k, seq, 1, TH_PA, 10);
                expect(k, 1, TH_A, 1, seq + 10, 0, NULL);
        }
        assert_int_equal(rd(t, k->fd, b, sizeof(b), 0), 160);
        *wakes = 0;
        assert_int_equal(mpnet_sock_set_cb(t->s, k->fd, wake_count, wakes), 0);
        return seq;
}

/* Receive coalescing: eight in-order full segments in one vector wake the
 * socket once (at the vector's end, tcp_vec_end) and, with the default
 * ACK policy, are ACKed every second full segment (RFC 1122 4.2.3.2,
 * RFC 5681 4.2: the segments count, not the calls); the data is all there,
 * in order. */
static void test_vec_coalesce(void **state)
{
        struct ts *t = *state;
        struct k k;
        unsigned wakes;
        uint32_t seq;
        char b[8000];

        estab(t, &k, false);
        seq = quick_done(t, &k, &wakes);
        for (uint32_t i = 0; i < 8; i++)
                vsend(&k, seq + i * 1000, TH_PA, 1000);
        ts_settle(t);
        assert_int_equal(wakes, 1);
        for (uint32_t i = 2; i <= 8; i += 2)
                expect(&k, 1, TH_A, 1, seq + i * 1000, 0, NULL);
        ts_expect_none(t, 100);
        assert_int_equal(ts_ctr(t, "tcp_dack"), 0);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 8000);
        for (uint32_t i = 0; i < 8000; i++)
                assert_int_equal(b[i], 'a' + (seq + i) % 26);
        mpnet_close(t->s, k.lfd);
}

/* With one ACK per vector (tcp_ack_vec) the same vector is ACKed once, at
 * its end; an odd full segment alone in the next vector waits for the
 * delayed ACK; one wake-up a vector. */
static void test_vec_coalesce_ack_vec(void **state)
{
        struct ts *t = *state;
        struct k k;
        unsigned wakes;
        uint32_t seq;

        mpnet_tcp_set_ack_vec(t->s, 1);
        estab(t, &k, false);
        seq = quick_done(t, &k, &wakes);
        for (uint32_t i = 0; i < 7; i++)
                vsend(&k, seq + i * 1000, TH_PA, 1000);
        ts_settle(t);
        assert_int_equal(wakes, 1);
        expect(&k, 1, TH_A, 1, seq + 7000, 0, NULL);
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_ack_vec"), 1);
        vsend(&k, seq + 7000, TH_PA, 1000);
        ts_settle(t);
        assert_int_equal(wakes, 2);
        ts_expect_none(t, 20); /* one full segment: delayed (RFC 1122 4.2.3.2) */
        expect(&k, 30, TH_A, 1, seq + 8000, 0, NULL);
        assert_int_equal(ts_ctr(t, "tcp_dack"), 1);
        mpnet_close(t->s, k.lfd);
}

/* A segment out of order in the middle of a vector: a duplicate ACK with
 * its SACK block at once (RFC 5681 4.2, RFC 2018), the ones after it held
 * and SACKed too, nothing ACKed twice at the vector's end; the hole filled,
 * one ACK for all, the data in order. */
static void test_vec_ooo(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct ts_seg g;
        unsigned wakes;
        uint32_t seq;
        char b[6000];

        mpnet_tcp_set_ack_vec(t->s, 1);
        estab(t, &k, true);
        seq = quick_done(t, &k, &wakes);
        vsend(&k, seq, TH_PA, 988);
        vsend(&k, seq + 988, TH_PA, 988);
        vsend(&k, seq + 3 * 988, TH_PA, 988); /* the third missing */
        vsend(&k, seq + 4 * 988, TH_PA, 988);
        ts_settle(t);
        assert_int_equal(wakes, 1);
        expect(&k, 1, TH_A, 1, seq + 2 * 988, 0, &g);
        assert_int_equal(g.opts.sack_n, 1);
        assert_int_equal(g.opts.sack[0].left, t->peer_isn + seq + 3 * 988);
        assert_int_equal(g.opts.sack[0].right, t->peer_isn + seq + 4 * 988);
        expect(&k, 1, TH_A, 1, seq + 2 * 988, 0, &g);
        assert_int_equal(g.opts.sack_n, 1);
        assert_int_equal(g.opts.sack[0].right, t->peer_isn + seq + 5 * 988);
        ts_expect_none(t, 100);
        assert_int_equal(ts_ctr(t, "tcp_ack_vec"), 0);
        vsend(&k, seq + 2 * 988, TH_PA, 988);
        ts_settle(t);
        expect(&k, 1, TH_A, 1, seq + 5 * 988, 0, &g);
        assert_false(g.opts.present & MPNET_TCPO_SACK);
        ts_expect_none(t, 100);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 5 * 988);
        for (uint32_t i = 0; i < 5 * 988; i++)
                assert_int_equal(b[i], 'a' + (seq + i) % 26);
        mpnet_close(t->s, k.lfd);
}

/* A FIN at the end of a vector: ACKed at once with the data before it
 * (RFC 9293 3.10.7.4 eighth check), one ACK only (no second one at the
 * vector's end), one wake-up that sees the data and EOF. */
static void test_vec_fin(void **state)
{
        struct ts *t = *state;
        struct k k;
        unsigned wakes;
        uint32_t seq;
        char b[4000];

        mpnet_tcp_set_ack_vec(t->s, 1);
        estab(t, &k, false);
        seq = quick_done(t, &k, &wakes);
        for (uint32_t i = 0; i < 3; i++)
                vsend(&k, seq + i * 1000, TH_PA, 1000);
        vsend(&k, seq + 3000, TH_FA, 0);
        ts_settle(t);
        assert_int_equal(wakes, 1);
        expect(&k, 1, TH_A, 1, seq + 3001, 0, NULL);
        ts_expect_none(t, 100);
        assert_int_equal(ts_ctr(t, "tcp_ack_vec"), 0);
        assert_int_equal(conn_state(t), TCP_CLOSE_WAIT);
        assert_true(atomic_load(&sock_get(t->s, k.fd)->events) & EPOLLRDHUP);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 3000);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 0);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);
}

/* One write of ten full segments, the initial window (RFC 6928 2): one
 * burst from one header template, on the wire exactly as ten segments
 * made one by one: each its sequence number and 988 bytes (MSS 1000 less
 * the timestamps, RFC 6691) of what was written, the same ACK, window and
 * timestamps, a good checksum (ts_parse checks it). The peer's ACK of all
 * ends the flight: no retransmission, no probe after it. */
static void test_burst_exact(void **state)
{
        struct ts *t = *state;
        static uint8_t b[10 * 988];
        struct ts_seg first, g;
        struct k k;

        estab(t, &k, true);
        for (size_t i = 0; i < sizeof(b); i++)
                b[i] = (uint8_t)(i % 251);
        assert_int_equal(mpnet_sendto(t->s, k.fd, b, sizeof(b), 0, NULL, 0), sizeof(b));
        expect(&k, 1, TH_PA, 1, 1, 988, &first);
        assert_memory_equal(first.buf, b, 988);
        assert_true(first.opts.present & MPNET_TCPO_TS);
        for (uint32_t i = 1; i < 10; i++) {
                expect(&k, 0, TH_PA, 1 + i * 988, 1, 988, &g);
                assert_memory_equal(g.buf, b + i * 988, 988);
                assert_int_equal(g.win, first.win);
                assert_int_equal(g.opts.present, first.opts.present);
                assert_int_equal(g.opts.ts_val, first.opts.ts_val);
                assert_int_equal(g.opts.ts_ecr, first.opts.ts_ecr);
        }
        ts_expect_none(t, 1); /* the window is used up */
        psend(&k, 1, 1 + sizeof(b), TH_A, 0);
        ts_expect_none(t, 3000);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 0);
        assert_int_equal(ts_ctr(t, "tcp_tlp"), 0);
        assert_int_equal(ts_ctr(t, "tcp_data_out"), 10);
        mpnet_close(t->s, k.lfd);
}

/* A burst never ACKed: its timer was armed once, after the last segment
 * (RFC 6298 5.1; no RTT sample yet, so no probe timer, RFC 8985 7.2):
 * nothing for the first RTO of 1 s (RFC 6298 2.1), then the first
 * segment again exactly as sent (5.4), then after the doubled RTO (5.5). */
static void test_burst_timer(void **state)
{
        struct ts *t = *state;
        struct ts_seg g;
        struct k k;

        estab(t, &k, true);
        assert_int_equal(wr(t, k.fd, 3 * 988), 3 * 988);
        for (uint32_t i = 0; i < 3; i++)
                expect(&k, 1, TH_PA, 1 + i * 988, 1, 988, NULL);
        ts_expect_none(t, 990);
        expect(&k, 20, TH_PA, 1, 1, 988, &g);
        ts_expect_none(t, 1990);
        expect(&k, 20, TH_PA, 1, 1, 988, &g);
        assert_int_equal(ts_ctr(t, "tcp_data_out"), 5);
        mpnet_close(t->s, k.lfd);
}

/* A bulk receiver's in-order data (header prediction: its ACK field says
 * nothing new) is taken as before: past the quick ACKs an ACK every
 * second full segment (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2), the bytes in
 * order. A segment whose ACK field moves the window is not predicted:
 * the zero window it gives holds the next write (RFC 9293 3.8.6.1). */
static void test_rcv_predicted(void **state)
{
        struct ts *t = *state;
        uint8_t b[6 * 988], want[6 * 988];
        uint32_t seq = 1;
        struct k k;

        estab(t, &k, true);
        for (int i = 0; i < 16; i++, seq += 10) {
                psend(&k, seq, 1, TH_PA, 10);
                expect(&k, 1, TH_A, 1, seq + 10, 0, NULL);
        }
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 160);
        for (int i = 0; i < 6; i++, seq += 988) {
                psend(&k, seq, 1, TH_PA, 988);
                if (i % 2 == 1)
                        expect(&k, 1, TH_A, 1, seq + 988, 0, NULL);
                else
                        ts_expect_none(t, 1);
        }
        for (uint32_t i = 0; i < sizeof(want); i++)
                want[i] = (uint8_t)('a' + (161 + i) % 26);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), sizeof(b));
        assert_memory_equal(b, want, sizeof(b));
        /* In-order data that closes the window. */
        ts_send(t, &(struct ts_seg){.sport = 40000,
                                    .dport = 8080,
                                    .seq = seq,
                                    .ack = 1,
                                    .flags = TH_PA,
                                    .win0 = true,
                                    .data = want,
                                    .len = 100,
                                    .opts = popts(&k)});
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 45, TH_A, 1, seq + 100, 0, NULL); /* the delayed ACK, no data */
        assert_int_equal(ts_ctr(t, "tcp_data_out"), 0);
        mpnet_close(t->s, k.lfd);
}

/* A write is cut to the MSS; Nagle holds a small segment while one is in
 * flight (RFC 9293 3.7.4) until TCP_NODELAY. */
static void test_send_nagle(void **state)
{
        struct ts *t = *state;
        struct k k;
        int one = 1;

        estab(t, &k, false);
        assert_int_equal(wr(t, k.fd, 2500), 2500);
        expect(&k, 1, TH_PA, 1, 1, 1000, NULL);
        expect(&k, 1, TH_PA, 1001, 1, 1000, NULL);
        expect(&k, 1, TH_PA, 2001, 1, 500, NULL);
        psend(&k, 1, 2501, TH_A, 0);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 2501, 1, 100, NULL);
        assert_int_equal(wr(t, k.fd, 100), 100);
        ts_expect_none(t, 100); /* held: 100 bytes in flight */
        psend(&k, 1, 2601, TH_A, 0);
        expect(&k, 1, TH_PA, 2601, 1, 100, NULL);
        assert_int_equal(
            mpnet_setsockopt(t->s, k.fd, IPPROTO_TCP, SO_TCP_NODELAY, &one, sizeof(one)), 0);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 2701, 1, 100, NULL);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 0);
        mpnet_close(t->s, k.lfd);
}

/* TCP_NODELAY set on the listener before the connection: the accepted
 * socket has it (as Linux), getsockopt says so, small writes go at once. */
static void test_nodelay_inherited(void **state)
{
        struct ts *t = *state;
        struct k k;
        int one = 1, v = 0;
        socklen_t vl = sizeof(v);

        estab(t, &k, false);
        mpnet_close(t->s, k.fd);
        expect(&k, 1, TH_FA, 1, 1, 0, NULL);
        assert_int_equal(
            mpnet_setsockopt(t->s, k.lfd, IPPROTO_TCP, SO_TCP_NODELAY, &one, sizeof(one)), 0);
        ts_send(t, &(struct ts_seg){.sport = 40001,
                                    .dport = 8080,
                                    .flags = TH_S,
                                    .opts = {.present = MPNET_TCPO_MSS, .mss = 1000}});
        t->stack_isn_known = false;
        t->rel = false;
        {
                struct ts_seg g;

                assert_true(ts_recv(t, 1, &g));
                while (g.dport != 40001 || g.flags != TH_SA)
                        assert_true(ts_recv(t, 1, &g));
                t->stack_isn = g.seq;
                t->stack_isn_known = true;
        }
        t->rel = true;
        ts_send(t,
                &(struct ts_seg){.sport = 40001, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        k.fd = mpnet_accept(t->s, k.lfd, NULL, NULL, 0);
        assert_true(k.fd >= 0);
        assert_int_equal(mpnet_getsockopt(t->s, k.fd, IPPROTO_TCP, SO_TCP_NODELAY, &v, &vl), 0);
        assert_int_equal(v, 1);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, NULL);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 101, 1, 100, NULL);
        mpnet_close(t->s, k.lfd);
}

/* Out of order: a duplicate ACK at once with a SACK block for what is
 * held (RFC 2018, RFC 5681 4.2); the hole filled, one ACK for all. The
 * window is advertised scaled (RFC 7323 2.3). */
static void test_ooo_sack(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct ts_seg g;
        char b[4000];

        estab(t, &k, true);
        psend(&k, 1001, 1, TH_PA, 1000);
        expect(&k, 1, TH_A, 1, 1, 0, &g);
        assert_true(g.opts.present & MPNET_TCPO_SACK);
        assert_int_equal(g.opts.sack_n, 1);
        assert_int_equal(g.opts.sack[0].left, t->peer_isn + 1001);
        assert_int_equal(g.opts.sack[0].right, t->peer_isn + 2001);
        assert_int_equal(g.win, SOCK_RCVBUF_DEFAULT >> 7);
        psend(&k, 3001, 1, TH_PA, 500);
        expect(&k, 1, TH_A, 1, 1, 0, &g);
        assert_int_equal(g.opts.sack_n, 2);
        assert_int_equal(g.opts.sack[0].left, t->peer_isn + 3001); /* the latest first */
        assert_int_equal(g.opts.sack[1].left, t->peer_isn + 1001);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), -EAGAIN);
        psend(&k, 1, 1, TH_PA, 1000);
        expect(&k, 1, TH_A, 1, 2001, 0, &g);
        assert_int_equal(g.opts.sack_n, 1);
        psend(&k, 2001, 1, TH_PA, 1000);
        expect(&k, 1, TH_A, 1, 3501, 0, &g);
        assert_false(g.opts.present & MPNET_TCPO_SACK);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 3500);
        for (int i = 0; i < 3500; i++)
                assert_int_equal(b[i], 'a' + (1 + i) % 26);
        mpnet_close(t->s, k.lfd);
}

/* The peer's FIN after a hole (RFC 9293 3.10.7.4: a segment beyond RCV.NXT
 * is held, its FIN with it; "eighth, check the FIN bit" once it is in
 * order). Three shapes a lossy transfer gives: the FIN with the last data
 * while an earlier segment is lost; a bare FIN beyond the hole; and the
 * FIN on a retransmission whose data was held already (a larger segment,
 * say a Linux TSO super-segment, came first without it; or the first copy
 * of the FIN segment was lost and a TLP probe resends its tail). Each way
 * the segment that fills the hole is answered with an ACK of the FIN,
 * and the reader sees every byte then the end. */
static void fin_after_hole(struct ts *t, int shape)
{
        struct k k;
        char b[4000];

        estab(t, &k, true);
        switch (shape) {
        case 0: /* [1001, 2001) + FIN held */
                psend(&k, 1001, 1, TH_FA, 1000);
                expect(&k, 1, TH_A, 1, 1, 0, NULL);
                break;
        case 1: /* [1001, 2001) held, then a bare FIN at 2001 */
                psend(&k, 1001, 1, TH_PA, 1000);
                expect(&k, 1, TH_A, 1, 1, 0, NULL);
                psend(&k, 2001, 1, TH_FA, 0);
                expect(&k, 1, TH_A, 1, 1, 0, NULL);
                break;
        default: /* [1001, 2001) held, then [1501, 2001) + FIN */
                psend(&k, 1001, 1, TH_PA, 1000);
                expect(&k, 1, TH_A, 1, 1, 0, NULL);
                psend(&k, 1501, 1, TH_FA, 500);
                expect(&k, 1, TH_A, 1, 1, 0, NULL);
                break;
        }
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), -EAGAIN);
        psend(&k, 1, 1, TH_PA, 1000);
        expect(&k, 1, TH_A, 1, 2002, 0, NULL); /* the data and the FIN */
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 2000);
        for (int i = 0; i < 2000; i++)
                assert_int_equal(b[i], 'a' + (1 + i) % 26);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 0);
        mpnet_close(t->s, k.lfd);
}

static void test_fin_after_hole(void **state)
{
        fin_after_hole(*state, 0);
}

static void test_bare_fin_after_hole(void **state)
{
        fin_after_hole(*state, 1);
}

static void test_fin_on_held_data(void **state)
{
        fin_after_hole(*state, 2);
}

/* The peer probes our zero window (RFC 9293 3.8.6.1): with the receive
 * buffer full and unread, a byte at RCV.NXT and Linux's probe (a bare ACK
 * at RCV.NXT - 1) are each answered at once with an ACK of RCV.NXT and
 * the zero window (3.10.7.4: an unacceptable segment gets an ACK), the
 * byte not taken; reading the buffer sends a window update, after which
 * the probe's byte is taken. */
static void test_zero_window_probe(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct ts_seg g;
        uint32_t seq = 1, nxt = 1;
        bool zero = false;
        static char b[1 << 20];
        ssize_t n, total = 0;

        assert_int_equal(mpnet_tcp_set_autotune(t->s, 0, 0), 0); /* a fixed buffer */
        estab(t, &k, true);
        for (int i = 0; i < 1000 && !zero; i++) {
                psend(&k, seq, 1, TH_PA, 1000);
                seq += 1000;
                while (ts_recv(t, 50, &g)) {
                        assert_int_equal(g.flags, TH_A);
                        nxt = g.ack;
                        zero = g.win == 0;
                }
        }
        assert_true(zero);
        /* A byte at RCV.NXT: no room for it. */
        psend(&k, nxt, 1, TH_PA, 1);
        expect(&k, 1, TH_A, 1, nxt, 0, &g);
        assert_int_equal(g.win, 0);
        /* Linux's zero-window probe: an old sequence number, no data. */
        psend(&k, nxt - 1, 1, TH_A, 0);
        expect(&k, 1, TH_A, 1, nxt, 0, &g);
        assert_int_equal(g.win, 0);
        /* Reading opens the window: an update at once. */
        while ((n = rd(t, k.fd, b, sizeof(b), 0)) > 0)
                total += n;
        assert_int_equal(total, nxt - 1);
        expect(&k, 1, TH_A, 1, nxt, 0, &g);
        assert_true(g.win > 0);
        psend(&k, nxt, 1, TH_PA, 1);
        expect(&k, 200, TH_A, 1, nxt + 1, 0, NULL);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 1);
        mpnet_close(t->s, k.lfd);
}

/* A full segment carries no SACK block beyond what the MSS leaves room
 * for (RFC 6691: the MSS counts data and options beyond the fixed
 * header; a full-size segment with SACK blocks would not fit the MTU),
 * a short one as many blocks as fit (RFC 2018 3). */
static void test_sack_room(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct ts_seg g;

        estab(t, &k, true); /* MSS 1000, timestamps: 988 bytes of data a segment */
        psend(&k, 1001, 1, TH_PA, 100);
        expect(&k, 1, TH_A, 1, 1, 0, &g);
        assert_int_equal(g.opts.sack_n, 1);
        psend(&k, 2001, 1, TH_PA, 100);
        expect(&k, 1, TH_A, 1, 1, 0, &g);
        assert_int_equal(g.opts.sack_n, 2);
        assert_int_equal(wr(t, k.fd, 988), 988);
        expect(&k, 1, TH_PA, 1, 1, 988, &g);
        assert_false(g.opts.present & MPNET_TCPO_SACK);
        psend(&k, 1, 989, TH_A, 0);
        assert_int_equal(wr(t, k.fd, 980), 980); /* 8 bytes of room: no block */
        expect(&k, 1, TH_PA, 989, 1, 980, &g);
        assert_false(g.opts.present & MPNET_TCPO_SACK);
        psend(&k, 1, 1969, TH_A, 0);
        assert_int_equal(wr(t, k.fd, 976), 976); /* 12 bytes: one block */
        expect(&k, 1, TH_PA, 1969, 1, 976, &g);
        assert_int_equal(g.opts.sack_n, 1);
        psend(&k, 1, 2945, TH_A, 0);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 2945, 1, 100, &g);
        assert_int_equal(g.opts.sack_n, 2);
        assert_int_equal(ts_ctr(t, "tcp_out_fail"), 0);
        mpnet_close(t->s, k.lfd);
}

/* RFC 6298: the first retransmission after RTO (1 s), the next after
 * twice that (5.5); an ACK stops the timer (5.2). */
static void test_rto(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        assert_int_equal(wr(t, k.fd, 500), 500);
        expect(&k, 1, TH_PA, 1, 1, 500, NULL);
        ts_expect_none(t, 900);
        expect(&k, 200, TH_PA, 1, 1, 500, NULL);
        ts_expect_none(t, 1800);
        expect(&k, 400, TH_PA, 1, 1, 500, NULL);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 2);
        psend(&k, 1, 501, TH_A, 0);
        ts_expect_none(t, 10000);
        mpnet_close(t->s, k.lfd);
}

/* No ACK ever: after the last retransmission the connection is given up,
 * the socket sees ETIMEDOUT. */
static void test_rto_giveup(void **state)
{
        struct ts *t = *state;
        struct k k;
        char b[10];

        estab(t, &k, false);
        assert_int_equal(wr(t, k.fd, 100), 100);
        ts_at(t, ts_now_ms(t) + 2000 * 1000);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_timeout"), 1);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), -ETIMEDOUT);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);
}

/* Three duplicate ACKs: fast retransmit of the first unacknowledged
 * segment (RFC 5681 3.2); a partial ACK retransmits the next (RFC 6582
 * 3.2 step 4); the full ACK ends recovery. Limited transmit (RFC 3042):
 * the first two duplicates let new data out. */
static void test_fast_rtx(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        assert_int_equal(wr(t, k.fd, 10000), 10000);
        for (uint32_t i = 0; i < 10; i++)
                expect(&k, 1, TH_PA, 1 + i * 1000, 1, 1000, NULL);
        /* The first is lost; the peer ACKs nothing new. The window is 10
         * MSS (RFC 6928): the buffer holds more. */
        assert_int_equal(wr(t, k.fd, 3000), 3000);
        psend(&k, 1, 1, TH_A, 0);
        expect(&k, 1, TH_PA, 10001, 1, 1000, NULL); /* limited transmit */
        psend(&k, 1, 1, TH_A, 0);
        expect(&k, 1, TH_PA, 11001, 1, 1000, NULL);
        psend(&k, 1, 1, TH_A, 0);
        expect(&k, 1, TH_PA, 1, 1, 1000, NULL); /* fast retransmit */
        assert_int_equal(ts_ctr(t, "tcp_fast_rtx"), 1);
        /* A partial ACK: the second was lost too. */
        psend(&k, 1, 1001, TH_A, 0);
        expect(&k, 1, TH_PA, 1001, 1, 1000, NULL);
        psend(&k, 1, 12001, TH_A, 0);
        expect(&k, 1, TH_PA, 12001, 1, 1000, NULL);
        psend(&k, 1, 13001, TH_A, 0);
        ts_expect_none(t, 3000);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 0);
        mpnet_close(t->s, k.lfd);
}

/* A zero window: the persist timer probes it (RFC 9293 3.8.6.1); the
 * window opens, data flows. */
static void test_persist(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        ts_send(
            t, &(struct ts_seg){
                   .sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A, .win0 = true});
        assert_int_equal(wr(t, k.fd, 100), 100);
        ts_expect_none(t, 900);
        expect(&k, 200, TH_A, 0, 1, 0, NULL); /* SND.UNA - 1 */
        assert_int_equal(ts_ctr(t, "tcp_persist"), 1);
        psend(&k, 1, 1, TH_A, 0);
        expect(&k, 1, TH_PA, 1, 1, 100, NULL);
        mpnet_close(t->s, k.lfd);
}

/* A window too small for sender SWS avoidance to fill (600 bytes, under
 * an MSS and half the largest window seen) with nothing in flight: the
 * ACK that would open it further may have been lost, so the persist timer
 * probes (RFC 9293 3.8.6.1, 3.8.6.2.1); the answer opens it, data flows.
 * Before, the sender waited for an ACK that never came. */
static void test_persist_small_window(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        ts_send(t,
                &(struct ts_seg){
                    .sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A, .win = 600});
        assert_int_equal(wr(t, k.fd, 2000), 2000);
        ts_expect_none(t, 900);
        expect(&k, 200, TH_A, 0, 1, 0, NULL); /* SND.UNA - 1 */
        assert_int_equal(ts_ctr(t, "tcp_persist"), 1);
        psend(&k, 1, 1, TH_A, 0);
        expect(&k, 1, TH_PA, 1, 1, 1000, NULL);
        expect(&k, 1, TH_PA, 1001, 1, 1000, NULL);
        mpnet_close(t->s, k.lfd);
}

/* Every ACK the stack sends within ms: @return how many, the last one's
 * window in *win. */
static unsigned acks_drain(struct k *k, uint64_t ms, uint16_t *win)
{
        struct ts_seg g;
        unsigned n = 0;

        while (ts_recv(k->t, ms, &g)) {
                *win = g.win;
                n++;
        }
        return n;
}

/* An unacceptable segment (here a persist probe, SND.UNA - 1 with no
 * data: RFC 9293 3.8.6.1) is answered with the window as it is now
 * (RFC 9293 3.10.7.4, first check: "send an acknowledgment"). Reads
 * that opened the window by less than the update rule's step sent no
 * update, so the last window advertised is smaller than the buffer's room;
 * the answer to the probe is how a sender whose update was lost learns
 * of it. Before, it repeated the last window advertised (a flow over IPv6
 * stalled that way, test_tcp_tso test_flow_no_tso_corrupt). */
static void test_probe_answer_window(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint16_t adv = 0, now = 0;
        uint8_t b[4096];
        uint32_t got = 0;
        ssize_t n;

        estab(t, &k, true);
        for (uint32_t i = 0; i < 20; i++)
                psend(&k, 1 + i * 1000, 1, TH_PA, 1000);
        assert_true(acks_drain(&k, 500, &adv) > 0);
        while ((n = rd(t, k.fd, b, sizeof(b), 0)) > 0)
                got += (uint32_t)n;
        assert_int_equal(got, 20000);
        /* The premise: no update went (the room grew by 20,000 bytes, less
         * than half the buffer, from a window of more than an MSS). */
        assert_int_equal(acks_drain(&k, 500, &now), 0);
        psend(&k, 20000, 1, TH_A, 0);
        assert_int_equal(acks_drain(&k, 10, &now), 1);
        /* Window scale 7 (ours): the room the reads made, in 128s. */
        assert_true(((uint32_t)(now - adv) << 7) >= 20000 - 128);
        mpnet_close(t->s, k.lfd);
}

/* RFC 7323 5.3: a segment with a timestamp older than TS.Recent is
 * dropped with an ACK. */
static void test_paws(void **state)
{
        struct ts *t = *state;
        struct k k;
        char b[100];

        estab(t, &k, true);
        psend(&k, 1, 1, TH_PA, 10);
        expect(&k, 1, TH_A, 1, 11, 0, NULL);
        k.tsv -= 10;
        psend(&k, 11, 1, TH_PA, 10);
        expect(&k, 1, TH_A, 1, 11, 0, NULL);
        assert_int_equal(ts_ctr(t, "tcp_paws_drop"), 1);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 10);
        mpnet_close(t->s, k.lfd);
}

/* The send buffer: a write takes what fits, then -EAGAIN and EPOLLOUT
 * goes; ACKs make room and bring it back. */
static void test_sndbuf(void **state)
{
        struct ts *t = *state;
        struct k k;
        ssize_t n;

        estab(t, &k, false);
        assert_true(atomic_load(&sock_get(t->s, k.fd)->events) & EPOLLOUT);
        n = wr(t, k.fd, 1 << 20);
        assert_true(n > 0 && n < (1 << 20));
        assert_int_equal(wr(t, k.fd, 100), -EAGAIN);
        assert_false(atomic_load(&sock_get(t->s, k.fd)->events) & EPOLLOUT);
        for (uint32_t i = 0; i < 10; i++)
                expect(&k, 1, TH_PA, 1 + i * 1000, 1, 1000, NULL);
        psend(&k, 1, 10001, TH_A, 0);
        assert_true(atomic_load(&sock_get(t->s, k.fd)->events) & EPOLLOUT);
        assert_int_equal(wr(t, k.fd, 100), 100);
        mpnet_close(t->s, k.lfd);
}

/* Active close: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT (a retransmitted FIN
 * ACKed again), gone after 2 MSL: the port answers a reset. */
static void test_time_wait(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        assert_int_equal(mpnet_shutdown(t->s, k.fd, SHUT_WR), 0);
        expect(&k, 1, TH_FA, 1, 1, 0, NULL);
        assert_int_equal(conn_state(t), TCP_FIN_WAIT_1);
        psend(&k, 1, 2, TH_A, 0);
        assert_int_equal(conn_state(t), TCP_FIN_WAIT_2);
        /* Half-closed: data still comes in. */
        psend(&k, 1, 2, TH_PA, 50);
        expect(&k, 1, TH_A, 2, 51, 0, NULL);
        psend(&k, 51, 2, TH_FA, 0);
        expect(&k, 1, TH_A, 2, 52, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        ts_at(t, ts_now_ms(t) + 1000);
        psend(&k, 51, 2, TH_FA, 0);
        expect(&k, 1, TH_A, 2, 52, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        ts_at(t, ts_now_ms(t) + 2100);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        psend(&k, 52, 2, TH_A, 0);
        expect(&k, 1, TH_R, 2, 0, 0, NULL);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);
}

/* An orphan's TIME_WAIT (close(), not shutdown()) gives its data state
 * back and keeps the connection alone (l4/tcp_data.c, tcp_tw_compact):
 * it still ACKs a retransmitted FIN with its timestamps, drops an old
 * timestamp (PAWS, RFC 7323 5) with an ACK, ends after 2 MSL (the port
 * then answers a reset), and a reset closes it (RFC 9293 3.10.7.4). */
static void test_time_wait_orphan(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, true);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_FA, 1, 1, 0, NULL);
        psend(&k, 1, 2, TH_FA, 0);
        expect(&k, 1, TH_A, 2, 2, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        assert_null(conn_get(t)->d);
        /* The peer missed our ACK: its FIN again, a newer timestamp. */
        ts_at(t, ts_now_ms(t) + 500);
        k.tsv += 500;
        psend(&k, 1, 2, TH_FA, 0);
        expect(&k, 1, TH_A, 2, 2, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        /* An old timestamp: dropped, ACKed. */
        k.tsv -= 1000;
        psend(&k, 2, 2, TH_A, 0);
        expect(&k, 1, TH_A, 2, 2, 0, NULL);
        assert_int_equal(ts_ctr(t, "tcp_paws_drop"), 1);
        k.tsv += 1000;
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        ts_at(t, ts_now_ms(t) + 2100);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        k.all = false;
        psend(&k, 2, 2, TH_A, 0);
        expect(&k, 1, TH_R, 2, 0, 0, NULL);
        mpnet_close(t->s, k.lfd);
}

/* A reset in the window: a compact TIME_WAIT goes at once. */
static void test_time_wait_orphan_rst(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_FA, 1, 1, 0, NULL);
        psend(&k, 1, 2, TH_FA, 0);
        expect(&k, 1, TH_A, 2, 2, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        assert_null(conn_get(t)->d);
        psend(&k, 2, 0, TH_R, 0);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        mpnet_close(t->s, k.lfd);
}

/* A reset in TIME_WAIT or LAST_ACK closes without ECONNRESET (RFC 9293
 * 3.10.7.4: "enter the CLOSED state, delete the TCB, and return"): the
 * stream was complete both ways, and the socket still reads its EOF. The
 * case seen: the peer, gone after our ACK of its FIN, answers the ACK we
 * give a late duplicate (PAWS-dropped) with a reset, before the
 * application read the EOF. */
static void test_rst_after_close(void **state)
{
        struct ts *t = *state;
        struct k k;
        char b[100];

        estab(t, &k, true);
        psend(&k, 1, 1, TH_PA, 50);
        expect(&k, 1, TH_A, 1, 51, 0, NULL);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 50);
        assert_int_equal(mpnet_shutdown(t->s, k.fd, SHUT_WR), 0);
        expect(&k, 1, TH_FA, 1, 51, 0, NULL);
        psend(&k, 51, 2, TH_FA, 0);
        expect(&k, 1, TH_A, 2, 52, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        /* A late duplicate of the data, its timestamp older: ACKed. */
        k.tsv -= 10;
        psend(&k, 1, 1, TH_PA, 50);
        expect(&k, 1, TH_A, 2, 52, 0, NULL);
        k.tsv += 10;
        /* The peer's listener answers that ACK: <SEQ=SEG.ACK><CTL=RST>. */
        k.all = false;
        psend(&k, 52, 0, TH_R, 0);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 0);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);

        /* LAST_ACK: the peer's FIN read, ours out, a reset instead of
         * the ACK of it. */
        estab(t, &k, false);
        psend(&k, 1, 1, TH_FA, 0);
        expect(&k, 1, TH_A, 1, 2, 0, NULL);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 0);
        assert_int_equal(mpnet_shutdown(t->s, k.fd, SHUT_WR), 0);
        expect(&k, 1, TH_FA, 1, 2, 0, NULL);
        assert_int_equal(conn_state(t), TCP_LAST_ACK);
        psend(&k, 2, 0, TH_R, 0);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        assert_int_equal(rd(t, k.fd, b, sizeof(b), 0), 0);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);
}

/* Simultaneous close: FIN_WAIT_1 gets the peer's FIN first: CLOSING, then
 * TIME_WAIT on the ACK of ours (RFC 9293 3.6, figure 13). */
static void test_simultaneous_close(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_FA, 1, 1, 0, NULL);
        psend(&k, 1, 1, TH_FA, 0);
        expect(&k, 1, TH_A, 2, 2, 0, NULL);
        assert_int_equal(conn_state(t), TCP_CLOSING);
        psend(&k, 2, 2, TH_A, 0);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        ts_at(t, ts_now_ms(t) + 2100);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        mpnet_close(t->s, k.lfd);
}

/* Close with data unread: a reset, not a FIN (RFC 9293 3.10.4, RFC 2525
 * 2.17). */
static void test_rst_unread(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        psend(&k, 1, 1, TH_PA, 100);
        expect(&k, 1, TH_A, 1, 101, 0, NULL);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_RA, 1, 101, 0, NULL);
        assert_int_equal(ts_ctr(t, "tcp_rst_unread"), 1);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        mpnet_close(t->s, k.lfd);
}

/* The context's cached last connection (tcp.c, conn_lookup_cached) goes
 * with its connection: a segment of the same tuple after the reset finds
 * none (a reset back, counted), not the freed connection. */
static void test_conn_cache_reuse(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint64_t nc;

        estab(t, &k, false);
        psend(&k, 1, 1, TH_PA, 100);
        expect(&k, 1, TH_A, 1, 101, 0, NULL);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_RA, 1, 101, 0, NULL);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        mpnet_close(t->s, k.lfd); /* no listener to answer instead */
        nc = ts_ctr(t, "tcp_no_conn");
        psend(&k, 101, 1, TH_PA, 10);
        expect(&k, 1, TH_R, 1, 0, 0, NULL);
        assert_int_equal(ts_ctr(t, "tcp_no_conn"), nc + 1);
}

/* An orphan stuck in FIN_WAIT_2 (the peer never closes) goes after the
 * timeout (60 s, as Linux's tcp_fin_timeout). */
static void test_fin_wait_2_orphan(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_FA, 1, 1, 0, NULL);
        psend(&k, 1, 2, TH_A, 0);
        assert_int_equal(conn_state(t), TCP_FIN_WAIT_2);
        ts_at(t, ts_now_ms(t) + 59000);
        assert_int_equal(conn_state(t), TCP_FIN_WAIT_2);
        ts_at(t, ts_now_ms(t) + 2000);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        mpnet_close(t->s, k.lfd);
}

/* Bad input: random segments (sequence and ACK near the connection's,
 * any flags, windows, lengths, SACK and timestamp options) at an
 * established connection with data both ways: no crash, the stack keeps
 * answering, every buffer comes back (ts_teardown). */
static void test_random_segments(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint64_t x = 88172645463325252ull;
        char b[2000];

        estab(t, &k, true);
        assert_int_equal(wr(t, k.fd, 30000), 30000);
        for (int i = 0; i < 20000; i++) {
                uint16_t flags;
                uint32_t seq, ack, len;
                struct mpnet_tcp_opts o = {0};

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                flags = (uint16_t)(x & 0x3f);
                if ((x >> 8) % 64 != 0)
                        flags &= (uint16_t) ~(TH_S | TH_R); /* keep it open a while */
                if (i < 19000)
                        flags &= (uint16_t)~TH_F;
                {
                        struct tcp_conn *c = conn_get(t);
                        uint32_t base = c != NULL ? c->rcv_nxt - t->peer_isn : 1;
                        uint32_t abase = c != NULL ? c->snd_una - t->stack_isn : 1;

                        seq = base + (uint32_t)((x >> 8) % 10000) - 2000;
                        ack = abase + (uint32_t)((x >> 24) % 12000) - 4000;
                }
                len = (uint32_t)((x >> 40) % 1200);
                if ((x >> 52) & 1) {
                        o.present |= MPNET_TCPO_TS;
                        o.ts_val = k.tsv + (uint32_t)((x >> 53) % 8) - 2;
                        k.tsv++;
                }
                if ((x >> 56) & 1) {
                        o.present |= MPNET_TCPO_SACK;
                        o.sack_n = 2;
                        o.sack[0].left = t->stack_isn + ack;
                        o.sack[0].right = t->stack_isn + ack + (uint32_t)(x >> 57);
                        o.sack[1].left = (uint32_t)x;
                        o.sack[1].right = (uint32_t)(x >> 32);
                }
                memset(b, 'r', len);
                ts_send(t, &(struct ts_seg){.sport = 40000,
                                            .dport = 8080,
                                            .seq = seq,
                                            .ack = ack,
                                            .flags = flags,
                                            .win = (uint16_t)(x >> 16),
                                            .win0 = ((x >> 60) & 7) == 0,
                                            .data = b,
                                            .len = len,
                                            .opts = o});
                if (i % 64 == 0) {
                        link_drain(t->lb);
                        while (rd(t, k.fd, b, sizeof(b), 0) > 0)
                                ;
                        if (i % 512 == 0)
                                wr(t, k.fd, 3000);
                        ts_at(t, ts_now_ms(t) + 50);
                }
        }
        link_drain(t->lb);
        fprintf(stderr,
                "random: data in %llu, out of window %llu, challenge %llu, paws %llu, state %d\n",
                (unsigned long long)ts_ctr(t, "tcp_data_in"),
                (unsigned long long)ts_ctr(t, "tcp_out_of_window"),
                (unsigned long long)ts_ctr(t, "tcp_challenge"),
                (unsigned long long)ts_ctr(t, "tcp_paws_drop"), conn_state(t));
        assert_true(ts_ctr(t, "tcp_data_in") > 500);
        mpnet_close(t->s, k.fd);
        ts_at(t, ts_now_ms(t) + 600 * 1000);
        link_drain(t->lb);
        mpnet_close(t->s, k.lfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_recv_fin, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_delayed_ack, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_ack_per_vector, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_vec_coalesce, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_vec_coalesce_ack_vec, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_vec_ooo, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_vec_fin, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_burst_exact, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_burst_timer, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rcv_predicted, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_send_nagle, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_nodelay_inherited, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_ooo_sack, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_fin_after_hole, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_bare_fin_after_hole, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_fin_on_held_data, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_zero_window_probe, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_sack_room, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rto, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rto_giveup, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_fast_rtx, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_persist, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_persist_small_window, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_probe_answer_window, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_paws, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_sndbuf, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_time_wait, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_time_wait_orphan, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_time_wait_orphan_rst, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rst_after_close, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rst_unread, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_conn_cache_reuse, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_fin_wait_2_orphan, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_random_segments, setup, ts_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
