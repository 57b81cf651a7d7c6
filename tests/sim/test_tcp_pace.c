/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pacing and the undo of spurious reductions, segment by segment on the
 * virtual clock (tcpscript.h):
 *  - pacing (l4/tcp_out.c): with a 100 ms round trip and a window of ten
 *    segments, a write of eight goes out as a burst of TCP_PACE_BURST and
 *    then one segment every cwnd / (2 x SRTT) in slow start (about 5 ms),
 *    not all at once;
 *  - undo (RFC 3708 3.2, RFC 4015 3.2; l4/tcp_cc.c): a fast retransmit
 *    whose retransmission comes back D-SACKed (the original was only
 *    late) puts cwnd and ssthresh back; one whose retransmission was
 *    needed (no D-SACK) keeps the reduction.
 *
 * The connection: the stack's accepted socket sends, the test is the peer.
 * MSS 1000 with timestamps: 988 bytes a segment. NewReno, so the windows
 * are RFC 5681's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_cc.h"
#include "stack/stack_priv.h"
#include "tcpscript.h"

#define SEG 988u

struct k {
        struct ts *t;
        int lfd, fd;
        uint32_t tsv, tse;
};

/* The peer ACKs ack with the SACK blocks [b[2j], b[2j + 1]) (relative). */
static void sack(struct k *k, uint32_t ack, unsigned n, const uint32_t *b)
{
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_TS, .ts_val = ++k->tsv, .ts_ecr = k->tse};

        if (n > 0) {
                o.present |= MPNET_TCPO_SACK;
                o.sack_n = (uint8_t)n;
                for (unsigned j = 0; j < n; j++) {
                        o.sack[j].left = k->t->stack_isn + b[2 * j];
                        o.sack[j].right = k->t->stack_isn + b[2 * j + 1];
                }
        }
        ts_send(k->t,
                &(struct ts_seg){
                    .sport = 40000, .dport = 8080, .seq = 1, .ack = ack, .flags = TH_A, .opts = o});
}

static void expect_data(struct k *k, uint64_t ms, uint32_t seq, uint32_t len)
{
        struct ts_seg g;

        ts_expect(k->t, ms, &(struct ts_seg){.flags = TH_PA, .seq = seq, .ack = 1, .len = len}, &g);
        if (g.opts.present & MPNET_TCPO_TS)
                k->tse = g.opts.ts_val;
}

/* Established with MSS 1000, SACK, timestamps, window scale. */
static void estab(struct ts *t, struct k *k)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS | MPNET_TCPO_WSCALE |
                                              MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS,
                                   .mss = 1000,
                                   .wscale = 8};
        struct ts_seg g;

        memset(k, 0, sizeof(*k));
        k->t = t;
        tcp_state_of(t->s)->cc = &tcp_cc_newreno;
        k->lfd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(k->lfd >= 0);
        assert_int_equal(mpnet_bind(t->s, k->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_listen(t->s, k->lfd, 4), 0);
        o.ts_val = ++k->tsv;
        ts_at(t, 100);
        ts_send(
            t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S, .opts = o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, &g);
        k->tse = g.opts.ts_val;
        sack(k, 1, 0, NULL);
        k->fd = mpnet_accept(t->s, k->lfd, NULL, NULL, 0);
        assert_true(k->fd >= 0);
}

static void wr(struct k *k, size_t n)
{
        static uint8_t b[1 << 16];

        memset(b, 'x', n);
        assert_int_equal(mpnet_sendto(k->t->s, k->fd, b, n, 0, NULL, 0), (ssize_t)n);
}

/* One short segment ACKed rtt_ms later: SRTT is rtt_ms. @return the
 * next sequence to send. */
static uint32_t warm(struct k *k, uint64_t rtt_ms)
{
        wr(k, 100);
        expect_data(k, 1, 1, 100);
        ts_at(k->t, ts_now_ms(k->t) + rtt_ms);
        sack(k, 101, 0, NULL);
        return 101;
}

static struct mpnet_tcp_info info(struct k *k)
{
        struct mpnet_tcp_info i;
        socklen_t l = sizeof(i);

        assert_int_equal(mpnet_getsockopt(k->t->s, k->fd, IPPROTO_TCP, MPNET_TCP_INFO, &i, &l), 0);
        return i;
}

/* Slow start, SRTT 100 ms, cwnd 10 segments and a bit: pacing at twice
 * cwnd / SRTT is a segment every ~4.95 ms. Eight segments written: the
 * first TCP_PACE_BURST go at once, each of the others 4 to 6 ms after the
 * one before; pacing held sends (tcp_paced). */
static void test_pace_spacing(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;
        uint64_t prev;

        mpnet_tcp_set_pacing(t->s, 1);
        estab(t, &k);
        s0 = warm(&k, 100);
        wr(&k, 8 * SEG);
        for (unsigned i = 0; i < TCP_PACE_BURST; i++)
                expect_data(&k, 0, s0 + i * SEG, SEG);
        ts_expect_none(t, 0); /* the burst limit */
        prev = ts_now_ms(t);
        for (unsigned i = TCP_PACE_BURST; i < 8; i++) {
                ts_expect_none(t, 3);
                expect_data(&k, 3, s0 + i * SEG, SEG);
                assert_true(ts_now_ms(t) >= prev + 4 && ts_now_ms(t) <= prev + 6);
                prev = ts_now_ms(t);
        }
        assert_true(ts_ctr(t, "tcp_paced") >= 8 - TCP_PACE_BURST);
        /* All of it ACKed: nothing more to send or hold. */
        sack(&k, s0 + 8 * SEG, 0, NULL);
        ts_expect_none(t, 200);
        mpnet_close(t->s, k.lfd);
}

/* Pacing off: the same write leaves as one burst. */
static void test_pace_off(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;

        estab(t, &k);
        s0 = warm(&k, 100);
        wr(&k, 8 * SEG);
        for (unsigned i = 0; i < 8; i++)
                expect_data(&k, 0, s0 + i * SEG, SEG);
        assert_int_equal(ts_ctr(t, "tcp_paced"), 0);
        mpnet_close(t->s, k.lfd);
}

/* Four segments out, the first late: the peer SACKs 2-4 (three above it:
 * lost by RFC 6675's IsLost), the stack cuts cwnd and retransmits 1. The
 * original arrives: a full ACK; then the retransmission, reported as a
 * D-SACK (RFC 2883). Returns the cwnd before. */
static uint32_t late_segment(struct k *k, uint32_t *s0, bool dsack)
{
        struct mpnet_tcp_info i0, i1;

        *s0 = warm(k, 100);
        i0 = info(k);
        wr(k, 4 * SEG);
        for (unsigned i = 0; i < 4; i++)
                expect_data(k, 1, *s0 + i * SEG, SEG);
        ts_at(k->t, ts_now_ms(k->t) + 100);
        sack(k, *s0, 1, (uint32_t[]){*s0 + SEG, *s0 + 4 * SEG});
        expect_data(k, 1, *s0, SEG);
        assert_int_equal(ts_ctr(k->t, "tcp_sack_recovery"), 1);
        i1 = info(k);
        assert_true(i1.snd_cwnd < i0.snd_cwnd);
        assert_true(i1.snd_ssthresh < i0.snd_ssthresh);
        sack(k, *s0 + 4 * SEG, 0, NULL);
        if (dsack)
                sack(k, *s0 + 4 * SEG, 1, (uint32_t[]){*s0, *s0 + SEG});
        ts_expect_none(k->t, 0);
        assert_int_equal(ts_ctr(k->t, "tcp_dsack_in"), dsack ? 1 : 0);
        return i0.snd_cwnd;
}

/* RFC 3708 3.2 + RFC 4015 3.2: the only retransmission came back
 * D-SACKed: cwnd and ssthresh as before the cut. */
static void test_undo_dsack(void **state)
{
        struct ts *t = *state;
        struct mpnet_tcp_info i;
        struct k k;
        uint32_t s0, cwnd0;

        estab(t, &k);
        cwnd0 = late_segment(&k, &s0, true);
        assert_int_equal(ts_ctr(t, "tcp_undo"), 1);
        i = info(&k);
        assert_true(i.snd_cwnd >= cwnd0);
        assert_int_equal(i.snd_ssthresh, UINT32_MAX); /* slow start again */
        mpnet_close(t->s, k.lfd);
}

/* A real loss: the retransmission was the copy that arrived (no D-SACK):
 * the reduction stays. */
static void test_undo_real_loss(void **state)
{
        struct ts *t = *state;
        struct mpnet_tcp_info i;
        struct k k;
        uint32_t s0, cwnd0;

        estab(t, &k);
        cwnd0 = late_segment(&k, &s0, false);
        assert_int_equal(ts_ctr(t, "tcp_undo"), 0);
        i = info(&k);
        assert_true(i.snd_cwnd < cwnd0);
        assert_true(i.snd_ssthresh < cwnd0);
        mpnet_close(t->s, k.lfd);
}

/* A D-SACK of data sent before the episode (a duplicate the network made
 * of an earlier segment) is not one of its retransmissions: no undo. */
static void test_undo_other_dsack(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;

        estab(t, &k);
        late_segment(&k, &s0, false);
        sack(&k, s0 + 4 * SEG, 1, (uint32_t[]){1, 101});
        assert_int_equal(ts_ctr(t, "tcp_dsack_in"), 1);
        assert_int_equal(ts_ctr(t, "tcp_undo"), 0);
        mpnet_close(t->s, k.lfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_pace_spacing, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_pace_off, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_undo_dsack, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_undo_real_loss, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_undo_other_dsack, ts_setup, ts_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
