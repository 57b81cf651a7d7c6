/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sender's loss recovery from the peer's SACK blocks, segment by
 * segment on the virtual clock (tcpscript.h): RFC 6675 (the holes are
 * retransmitted and the SACKed segments are not; pipe limits what goes;
 * the rescue retransmission) and RFC 8985 (RACK judges a segment lost a
 * reordering window after a later one was delivered; a D-SACK widens that
 * window; the tail loss probe goes before the RTO and its answer repairs
 * the tail); Proportional Rate Reduction (RFC 6937) in recovery; D-SACK
 * (RFC 2883) from the receiver; RACK's windowed minimum RTT.
 *
 * The connection: the stack's accepted socket sends, the test is the peer
 * and answers with SACK blocks. MSS 1000 with timestamps: 988 bytes a
 * segment; segment i (from 1) starts at 1 + 988 (i - 1).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/socket.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_cc.h"
#include "l4/tcp_sack.h"
#include "stack/stack_priv.h"
#include "tcpscript.h"

#define SEG 988u

struct k {
        struct ts *t;
        int lfd, fd;
        uint32_t tsv, tse;
};

/* Where segment i starts (relative). */
static uint32_t sg(unsigned i)
{
        return 1 + SEG * (i - 1);
}

/* The peer ACKs ack with the SACK blocks [b[2j], b[2j + 1]) (relative,
 * n blocks). */
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

/* Expect a data segment at seq of len within ms. */
static void expect_data(struct k *k, uint64_t ms, uint32_t seq, uint32_t len)
{
        struct ts_seg g;

        ts_expect(k->t, ms, &(struct ts_seg){.flags = TH_PA, .seq = seq, .ack = 1, .len = len}, &g);
        if (g.opts.present & MPNET_TCPO_TS)
                k->tse = g.opts.ts_val;
}

/* Established with MSS 1000, SACK, timestamps and window scale (and ECN
 * when ecn). */
static void estab_f(struct ts *t, struct k *k, bool ecn)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS | MPNET_TCPO_WSCALE |
                                              MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS,
                                   .mss = 1000,
                                   .wscale = 8};
        struct ts_seg g;

        memset(k, 0, sizeof(*k));
        k->t = t;
        k->lfd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(k->lfd >= 0);
        assert_int_equal(mpnet_bind(t->s, k->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_listen(t->s, k->lfd, 4), 0);
        o.ts_val = ++k->tsv;
        ts_at(t, 100);
        ts_send(t, &(struct ts_seg){.fam = 4,
                                    .sport = 40000,
                                    .dport = 8080,
                                    .flags = TH_S | (ecn ? MPNET_TCP_ECE | MPNET_TCP_CWR : 0),
                                    .opts = o});
        ts_expect(t, 1,
                  &(struct ts_seg){.flags = TH_SA | (ecn ? MPNET_TCP_ECE : 0), .seq = 0, .ack = 1},
                  &g);
        k->tse = g.opts.ts_val;
        sack(k, 1, 0, NULL);
        k->fd = mpnet_accept(t->s, k->lfd, NULL, NULL, 0);
        assert_true(k->fd >= 0);
}

static void estab(struct ts *t, struct k *k)
{
        estab_f(t, k, false);
}

static void wr(struct k *k, size_t n)
{
        static uint8_t b[1 << 16];

        memset(b, 'x', n);
        assert_int_equal(mpnet_sendto(k->t->s, k->fd, b, n, 0, NULL, 0), (ssize_t)n);
}

/* One segment sent and ACKed rtt_ms later: the RTT (and RACK's minimum)
 * is rtt_ms from then on. @return the next sequence to send. */
static uint32_t warm(struct k *k, uint64_t rtt_ms)
{
        wr(k, 100);
        expect_data(k, 1, 1, 100);
        ts_at(k->t, ts_now_ms(k->t) + rtt_ms);
        sack(k, 101, 0, NULL);
        return 101;
}

/* RFC 6675 NextSeg rule 1: segments 2 and 4 of 10 lost, the others
 * SACKed: 2 and 4 go again, none of the SACKed ones; the full ACK ends
 * recovery and nothing more goes. */
static void test_sack_holes(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k);
        wr(&k, 10 * SEG);
        for (unsigned i = 1; i <= 10; i++)
                expect_data(&k, 1, sg(i), SEG);
        ts_at(t, ts_now_ms(t) + 50);
        sack(&k, sg(2), 0, NULL);
        sack(&k, sg(2), 1, (uint32_t[]){sg(3), sg(4)});
        sack(&k, sg(2), 2, (uint32_t[]){sg(5), sg(6), sg(3), sg(4)});
        ts_expect_none(t, 0);
        sack(&k, sg(2), 2, (uint32_t[]){sg(5), sg(7), sg(3), sg(4)});
        /* Three SACKed above 2: recovery, 2 at once (4.3); RACK (no
         * reordering window with DupThresh SACKed) judges 4 lost too. */
        expect_data(&k, 1, sg(2), SEG);
        expect_data(&k, 1, sg(4), SEG);
        sack(&k, sg(2), 2, (uint32_t[]){sg(5), sg(8), sg(3), sg(4)});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_sack_recovery"), 1);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 2);
        sack(&k, sg(11), 0, NULL);
        ts_expect_none(t, 3000);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 2);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 0);
        mpnet_close(t->s, k.lfd);
}

/* The same holes without SACK use (NewReno): only the first goes at the
 * third duplicate, the second waits for the partial ACK (RFC 6582). */
static void test_sack_off_newreno(void **state)
{
        struct ts *t = *state;
        struct k k;

        tcp_state_of(t->s)->recov = TCP_RECOV_NEWRENO;
        estab(t, &k);
        wr(&k, 10 * SEG);
        for (unsigned i = 1; i <= 10; i++)
                expect_data(&k, 1, sg(i), SEG);
        ts_at(t, ts_now_ms(t) + 50);
        sack(&k, sg(2), 0, NULL);
        sack(&k, sg(2), 1, (uint32_t[]){sg(3), sg(4)});
        sack(&k, sg(2), 2, (uint32_t[]){sg(5), sg(6), sg(3), sg(4)});
        sack(&k, sg(2), 2, (uint32_t[]){sg(5), sg(7), sg(3), sg(4)});
        expect_data(&k, 1, sg(2), SEG);
        ts_expect_none(t, 10);
        sack(&k, sg(4), 1, (uint32_t[]){sg(5), sg(8)});
        expect_data(&k, 1, sg(4), SEG);
        assert_int_equal(ts_ctr(t, "tcp_sack_recovery"), 0);
        assert_int_equal(ts_ctr(t, "tcp_fast_rtx"), 1);
        mpnet_close(t->s, k.lfd);
}

/* RFC 6675 5 step (C): in recovery a segment goes only while cwnd -
 * pipe >= 1 SMSS. Segment 1 of 10 lost, 20 more segments waiting. */
static void test_sack_pipe(void **state)
{
        struct ts *t = *state;
        struct k k;
        unsigned next = 11;

        estab(t, &k);
        wr(&k, 30 * SEG);
        for (unsigned i = 1; i <= 10; i++)
                expect_data(&k, 1, sg(i), SEG);
        ts_at(t, ts_now_ms(t) + 50);
        /* Limited transmit (RFC 3042): a new segment for each of the first
         * two duplicates. */
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(3)});
        expect_data(&k, 1, sg(next++), SEG);
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(4)});
        expect_data(&k, 1, sg(next++), SEG);
        /* Recovery: 1 at once (4.3). cwnd = 0.7 x 12 segments in flight
         * (CUBIC) = 8.4 segments; pipe = 1 (the retransmission) + 8 (5 to
         * 12): nothing more. */
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(5)});
        expect_data(&k, 1, sg(1), SEG);
        ts_expect_none(t, 0);
        /* 5 SACKed: pipe 8, still no room for a whole segment. */
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(6)});
        ts_expect_none(t, 0);
        /* From then on each segment SACKed lets one new segment go. */
        for (unsigned i = 6; i <= 10; i++) {
                sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(i + 1)});
                expect_data(&k, 1, sg(next++), SEG);
                ts_expect_none(t, 0);
        }
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 1);
        assert_int_equal(ts_ctr(t, "tcp_sack_recovery"), 1);
        mpnet_close(t->s, k.lfd);
}

/* RFC 6675 4 rule 4: segment 1 and the last (10) lost. After the partial
 * ACK past the first retransmission, the rescue sends the highest segment
 * not SACKed, once. */
static void test_sack_rescue(void **state)
{
        struct ts *t = *state;
        struct k k;

        tcp_state_of(t->s)->recov = TCP_RECOV_SACK; /* rules only: no RACK, no TLP */
        estab(t, &k);
        wr(&k, 10 * SEG);
        for (unsigned i = 1; i <= 10; i++)
                expect_data(&k, 1, sg(i), SEG);
        ts_at(t, ts_now_ms(t) + 50);
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(3)});
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(4)});
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(5)});
        expect_data(&k, 1, sg(1), SEG);
        for (unsigned i = 6; i <= 10; i++) {
                sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(i)});
                ts_expect_none(t, 0); /* no rescue before HighACK passes RescueRxt */
        }
        assert_int_equal(ts_ctr(t, "tcp_rescue_rtx"), 0);
        /* The retransmission arrived: a partial ACK up to 10. */
        sack(&k, sg(10), 0, NULL);
        expect_data(&k, 1, sg(10), SEG);
        assert_int_equal(ts_ctr(t, "tcp_rescue_rtx"), 1);
        ts_expect_none(t, 10);
        sack(&k, sg(11), 0, NULL);
        ts_expect_none(t, 3000);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 0);
        mpnet_close(t->s, k.lfd);
}

/* RFC 8985 6.2: one segment SACKed above a hole (not DupThresh): the hole
 * is judged lost RACK.rtt + reo_wnd (min_RTT / 4 = 25 ms) after it was
 * sent, by the reordering timer; not before. */
static void test_rack_reo_wnd(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;
        uint64_t t0;

        estab(t, &k);
        s0 = warm(&k, 100);
        wr(&k, 2 * SEG);
        t0 = ts_now_ms(t);
        expect_data(&k, 1, s0, SEG);
        expect_data(&k, 1, s0 + SEG, SEG);
        ts_at(t, t0 + 100);
        sack(&k, s0, 1, (uint32_t[]){s0 + SEG, s0 + 2 * SEG});
        ts_expect_none(t, 24);
        expect_data(&k, 2, s0, SEG);
        assert_true(ts_now_ms(t) >= t0 + 125);
        assert_int_equal(ts_ctr(t, "tcp_rack_lost"), 1);
        assert_int_equal(ts_ctr(t, "tcp_sack_recovery"), 1);
        sack(&k, s0 + 2 * SEG, 0, NULL);
        ts_expect_none(t, 3000);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 0);
        mpnet_close(t->s, k.lfd);
}

/* RFC 8985 6.2 step 4: a D-SACK (RFC 2883: a block below the ACK) widens
 * the reordering window a step: 2 x min_RTT / 4 = 50 ms. */
static void test_rack_dsack(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;
        uint64_t t0;

        estab(t, &k);
        s0 = warm(&k, 100);
        sack(&k, s0, 1, (uint32_t[]){1, 101}); /* "101 came twice" */
        assert_int_equal(ts_ctr(t, "tcp_dsack_in"), 1);
        wr(&k, 2 * SEG);
        t0 = ts_now_ms(t);
        expect_data(&k, 1, s0, SEG);
        expect_data(&k, 1, s0 + SEG, SEG);
        ts_at(t, t0 + 100);
        sack(&k, s0, 1, (uint32_t[]){s0 + SEG, s0 + 2 * SEG});
        ts_expect_none(t, 49);
        expect_data(&k, 2, s0, SEG);
        assert_true(ts_now_ms(t) >= t0 + 150);
        mpnet_close(t->s, k.lfd);
}

/* RFC 8985 7: the last two of four segments lost, the first two ACKed.
 * The probe (PTO = 2 SRTT + 2 ms) resends the last segment long before
 * the RTO (1 s); its SACK shows the hole, which RACK sends at once. */
static void test_tlp(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;
        uint64_t t1;

        estab(t, &k);
        s0 = warm(&k, 100);
        wr(&k, 4 * SEG);
        for (unsigned i = 0; i < 4; i++)
                expect_data(&k, 1, s0 + i * SEG, SEG);
        ts_at(t, ts_now_ms(t) + 100);
        sack(&k, s0 + 2 * SEG, 0, NULL);
        t1 = ts_now_ms(t);
        ts_expect_none(t, 200);
        expect_data(&k, 4, s0 + 3 * SEG, SEG); /* the probe: the last segment */
        assert_true(ts_now_ms(t) >= t1 + 202);
        assert_int_equal(ts_ctr(t, "tcp_tlp"), 1);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 0);
        /* Its answer, a round trip later: SACK of the probe, 3 is lost. */
        ts_at(t, ts_now_ms(t) + 100);
        sack(&k, s0 + 2 * SEG, 1, (uint32_t[]){s0 + 3 * SEG, s0 + 4 * SEG});
        expect_data(&k, 1, s0 + 2 * SEG, SEG);
        sack(&k, s0 + 4 * SEG, 0, NULL);
        ts_expect_none(t, 3000);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 0);
        assert_int_equal(ts_ctr(t, "tcp_tlp"), 1);
        mpnet_close(t->s, k.lfd);
}

/* RACK-TLP off (SACK recovery only): no probe, a lost tail waits for the
 * RTO (1 s). */
static void test_tlp_off(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;

        tcp_state_of(t->s)->recov = TCP_RECOV_SACK;
        estab(t, &k);
        s0 = warm(&k, 100);
        wr(&k, 2 * SEG);
        expect_data(&k, 1, s0, SEG);
        expect_data(&k, 1, s0 + SEG, SEG);
        ts_expect_none(t, 990);
        expect_data(&k, 20, s0, SEG);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 1);
        assert_int_equal(ts_ctr(t, "tcp_tlp"), 0);
        mpnet_close(t->s, k.lfd);
}

/* After an RTO, going back from SND.UNA skips what the peer SACKed:
 * segments 1 and 3 of 4 lost (two SACKed: not DupThresh, and RACK off),
 * the RTO resends 1, then 3, never 2 or 4. */
static void test_rto_skips_sacked(void **state)
{
        struct ts *t = *state;
        struct k k;

        tcp_state_of(t->s)->recov = TCP_RECOV_SACK;
        estab(t, &k);
        wr(&k, 4 * SEG);
        for (unsigned i = 1; i <= 4; i++)
                expect_data(&k, 1, sg(i), SEG);
        sack(&k, sg(1), 1, (uint32_t[]){sg(2), sg(3)});
        sack(&k, sg(1), 2, (uint32_t[]){sg(4), sg(5), sg(2), sg(3)});
        ts_expect_none(t, 990);
        expect_data(&k, 20, sg(1), SEG);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 1);
        sack(&k, sg(3), 1, (uint32_t[]){sg(4), sg(5)});
        expect_data(&k, 1, sg(3), SEG);
        ts_expect_none(t, 10);
        sack(&k, sg(5), 0, NULL);
        ts_expect_none(t, 3000);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 2);
        mpnet_close(t->s, k.lfd);
}

/* cwnd to 20 segments from the initial 10: ten segments, each ACKed on
 * its own (slow start, one segment an ACK). @return the next sequence. */
static uint32_t grow(struct k *k)
{
        uint32_t s0 = 1;

        wr(k, 10 * SEG);
        for (unsigned i = 0; i < 10; i++)
                expect_data(k, 1, s0 + i * SEG, SEG);
        ts_at(k->t, ts_now_ms(k->t) + 50);
        for (unsigned i = 1; i < 10; i++) {
                sack(k, s0 + i * SEG, 0, NULL);
                ts_expect_none(k->t, 0);
        }
        sack(k, s0 + 10 * SEG, 0, NULL);
        return s0 + 10 * SEG;
}

/* The sending pattern of an ACK: want[i] is the segment (by number, from
 * 1 at s0) the ACK that delivered one more segment releases, 0: none. */
static void pattern(struct k *k, uint32_t s0, unsigned first_sacked, unsigned n_acks,
                    const unsigned *want, bool use_sack)
{
        for (unsigned a = 0; a < n_acks; a++) {
                uint32_t b[2] = {s0 + (first_sacked - 1) * SEG, s0 + (first_sacked + a) * SEG};

                sack(k, s0, use_sack ? 1 : 0, b);
                if (want[a] != 0)
                        expect_data(k, 1, s0 + (want[a] - 1) * SEG, SEG);
                ts_expect_none(k->t, 0);
        }
}

/* RFC 6937 6, the first example (loss of one segment): cwnd 20 segments,
 * the first of them lost, NewReno's ssthresh (FlightSize / 2: 11, the two
 * limited transmits counted, RecoverFS 22). The 19 ACKs send N N R, then
 * PRR a new segment on every other ACK (ssthresh / RecoverFS = 1/2): pipe
 * falls smoothly from 19 to ssthresh, where the cut to ssthresh at entry
 * (RFC 6675 alone) sent nothing for 8 ACKs and then one segment an ACK.
 * Pipe reaches ssthresh at the 17th ACK (the RFC's figure, ssthresh 10,
 * at its last), and PRR-SSRB holds it there: a segment an ACK. */
static const unsigned prr_fig1[19] = {21, 22, 1,  0, 23, 0, 24, 0,  25, 0,
                                      26, 0,  27, 0, 28, 0, 0,  29, 30};

static void test_prr_one_loss(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;

        tcp_state_of(t->s)->recov = TCP_RECOV_SACK; /* RFC 6675's rules, no RACK */
        tcp_state_of(t->s)->cc = &tcp_cc_newreno;
        estab(t, &k);
        s0 = grow(&k);
        wr(&k, 40 * SEG);
        for (unsigned i = 0; i < 20; i++)
                expect_data(&k, 1, s0 + i * SEG, SEG);
        ts_expect_none(t, 0);
        ts_at(t, ts_now_ms(t) + 50);
        pattern(&k, s0, 2, 19, prr_fig1, true);
        assert_int_equal(ts_ctr(t, "tcp_sack_recovery"), 1);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 1);
        mpnet_close(t->s, k.lfd);
}

/* The same without SACK (NewReno recovery, RFC 6582): each duplicate ACK
 * delivered a segment, and PRR paces the same way. */
static void test_prr_newreno(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;

        tcp_state_of(t->s)->recov = TCP_RECOV_NEWRENO;
        tcp_state_of(t->s)->cc = &tcp_cc_newreno;
        estab(t, &k);
        s0 = grow(&k);
        wr(&k, 40 * SEG);
        for (unsigned i = 0; i < 20; i++)
                expect_data(&k, 1, s0 + i * SEG, SEG);
        ts_at(t, ts_now_ms(t) + 50);
        pattern(&k, s0, 2, 19, prr_fig1, false);
        assert_int_equal(ts_ctr(t, "tcp_fast_rtx"), 1);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 1);
        mpnet_close(t->s, k.lfd);
}

/* RFC 6937 6, the scenario of its second example (a burst of losses):
 * the first four of 20 segments lost. The SACK that starts recovery marks
 * all four lost (RFC 6675 IsLost); PRR sends one retransmission every
 * other ACK (the cut to ssthresh at entry sent nothing for five ACKs,
 * then one an ACK), pipe falling from 16 to ssthresh (11) by the 11th
 * ACK; from there PRR-SSRB holds it at ssthresh, a segment for each
 * segment delivered. */
static const unsigned prr_fig2[16] = {21, 22, 1, 0, 2, 0, 3, 0, 4, 0, 0, 23, 24, 25, 26, 27};

static void test_prr_four_losses(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;

        tcp_state_of(t->s)->recov = TCP_RECOV_SACK;
        tcp_state_of(t->s)->cc = &tcp_cc_newreno;
        estab(t, &k);
        s0 = grow(&k);
        wr(&k, 40 * SEG);
        for (unsigned i = 0; i < 20; i++)
                expect_data(&k, 1, s0 + i * SEG, SEG);
        ts_at(t, ts_now_ms(t) + 50);
        pattern(&k, s0, 5, 16, prr_fig2, true);
        assert_int_equal(ts_ctr(t, "tcp_rtx"), 4);
        mpnet_close(t->s, k.lfd);
}

/* RFC 6937 3 for an ECN reduction (RFC 3168 6.1.2; Linux's CWR state):
 * 20 segments in flight, the first ACK says ECE. ssthresh is 10 (NewReno)
 * and PRR brings the flight down to it over the round trip, a new segment
 * every other ACK, where the cut sent nothing for ten ACKs; at the 18th
 * pipe is at ssthresh and nothing more goes; the ACK of the last segment
 * out at the ECE ends the reduction (cwnd = ssthresh: one more goes, 9
 * being in flight). */
static void test_prr_ecn(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;
        unsigned n = 20;

        tcp_state_of(t->s)->cc = &tcp_cc_newreno;
        estab_f(t, &k, true);
        s0 = grow(&k);
        wr(&k, 40 * SEG);
        for (unsigned i = 0; i < 20; i++)
                expect_data(&k, 1, s0 + i * SEG, SEG);
        ts_at(t, ts_now_ms(t) + 50);
        for (unsigned a = 1; a <= 20; a++) {
                struct mpnet_tcp_opts o = {
                    .present = MPNET_TCPO_TS, .ts_val = ++k.tsv, .ts_ecr = k.tse};
                struct ts_seg g;

                ts_send(t, &(struct ts_seg){.sport = 40000,
                                            .dport = 8080,
                                            .seq = 1,
                                            .ack = s0 + a * SEG,
                                            .flags = TH_A | (a == 1 ? MPNET_TCP_ECE : 0),
                                            .opts = o});
                if ((a % 2 == 1 && a < 18) || a == 20)
                        ts_expect(t, 1,
                                  &(struct ts_seg){.flags = TH_PA | (a == 1 ? MPNET_TCP_CWR : 0),
                                                   .seq = s0 + n++ * SEG,
                                                   .ack = 1,
                                                   .len = SEG},
                                  &g);
                ts_expect_none(t, 0);
        }
        assert_int_equal(ts_ctr(t, "tcp_ecn_reduce"), 1);
        mpnet_close(t->s, k.lfd);
}

/* The peer sends data [seq, seq + len) (relative). */
static void data_in(struct k *k, uint32_t seq, uint32_t len)
{
        static uint8_t b[SEG];
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_TS, .ts_val = ++k->tsv, .ts_ecr = k->tse};

        ts_send(k->t, &(struct ts_seg){.sport = 40000,
                                       .dport = 8080,
                                       .seq = seq,
                                       .ack = 1,
                                       .flags = TH_PA,
                                       .opts = o,
                                       .data = b,
                                       .len = len});
}

/* Expect the stack's ACK of ack with the SACK blocks b (relative, n). */
static void expect_sack(struct k *k, uint32_t ack, unsigned n, const uint32_t *b)
{
        struct ts_seg g;

        ts_expect(k->t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = ack}, &g);
        if (n == 0) {
                assert_false(g.opts.present & MPNET_TCPO_SACK);
                return;
        }
        assert_true(g.opts.present & MPNET_TCPO_SACK);
        assert_int_equal(g.opts.sack_n, n);
        for (unsigned j = 0; j < n; j++) {
                assert_int_equal(g.opts.sack[j].left - k->t->peer_isn, b[2 * j]);
                assert_int_equal(g.opts.sack[j].right - k->t->peer_isn, b[2 * j + 1]);
        }
}

/* RFC 2883 4: a duplicate is reported as the first SACK block of the
 * ACK it draws, once: a segment wholly below RCV.NXT (4.1.1), the part
 * below RCV.NXT of one that overlaps it (4.1.2), and a copy of an
 * out-of-order segment, followed by the block that holds it (4.1.3). */
static void test_dsack_receiver(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k);
        data_in(&k, 1, 500);
        expect_sack(&k, 501, 0, NULL);
        data_in(&k, 1, 500); /* the whole segment again */
        expect_sack(&k, 501, 1, (uint32_t[]){1, 501});
        data_in(&k, 251, 500); /* half old, half new */
        expect_sack(&k, 751, 1, (uint32_t[]){251, 501});
        data_in(&k, 1251, 250); /* a hole at 751 */
        expect_sack(&k, 751, 1, (uint32_t[]){1251, 1501});
        data_in(&k, 1251, 250); /* that segment again */
        expect_sack(&k, 751, 2, (uint32_t[]){1251, 1501, 1251, 1501});
        data_in(&k, 1601, 100);
        expect_sack(&k, 751, 2, (uint32_t[]){1601, 1701, 1251, 1501});
        data_in(&k, 1301, 100); /* inside the first block */
        expect_sack(&k, 751, 3, (uint32_t[]){1301, 1401, 1251, 1501, 1601, 1701});
        assert_int_equal(ts_ctr(t, "tcp_ooo_drop"), 0);
        mpnet_close(t->s, k.lfd);
}

/* RFC 8985 6.2 step 1 with a windowed minimum (Linux's 300 s): RTTs of
 * 20 ms, then the path gets slower (200 ms). Within the window the
 * minimum is 20 ms and the reordering window 5 ms; once the window has
 * passed without a 20 ms sample, the minimum is 200 ms and the
 * reordering window 50 ms. */
static uint64_t reo_after(struct k *k, uint32_t *s0, uint64_t rtt_ms)
{
        uint64_t t0, t1;

        wr(k, 2 * SEG);
        t0 = ts_now_ms(k->t);
        expect_data(k, 1, *s0, SEG);
        expect_data(k, 1, *s0 + SEG, SEG);
        ts_at(k->t, t0 + rtt_ms);
        sack(k, *s0, 1, (uint32_t[]){*s0 + SEG, *s0 + 2 * SEG});
        expect_data(k, 300, *s0, SEG);
        t1 = ts_now_ms(k->t);
        sack(k, *s0 + 2 * SEG, 0, NULL);
        *s0 += 2 * SEG;
        return t1 - t0 - rtt_ms;
}

static void test_rack_min_rtt_window(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t s0;

        estab(t, &k);
        s0 = warm(&k, 20);
        for (unsigned i = 0; i < 8; i++) {
                /* 200 ms RTTs, 25 s apart: inside the window (and SRTT
                 * high enough that the probe waits past 200 ms). */
                ts_at(t, ts_now_ms(t) + 25000);
                wr(&k, 100);
                expect_data(&k, 1, s0, 100);
                ts_at(t, ts_now_ms(t) + 200);
                sack(&k, s0 + 100, 0, NULL);
                s0 += 100;
        }
        assert_int_equal(reo_after(&k, &s0, 200), 5);
        ts_at(t, ts_now_ms(t) + 300000);
        for (unsigned i = 0; i < 2; i++) {
                wr(&k, 100);
                expect_data(&k, 1, s0, 100);
                ts_at(t, ts_now_ms(t) + 200);
                sack(&k, s0 + 100, 0, NULL);
                s0 += 100;
        }
        assert_int_equal(reo_after(&k, &s0, 200), 50);
        mpnet_close(t->s, k.lfd);
}

/* The windowed minimum itself: a lower sample wins at once; a higher
 * one only when the lower has aged out of the window. */
static void test_minmax(void **state)
{
        struct tcp_minmax m = {0};

        (void)state;
        assert_int_equal(tcp_minmax_min(&m, 100, 0, 50), 50);
        assert_int_equal(tcp_minmax_min(&m, 100, 10, 40), 40);
        assert_int_equal(tcp_minmax_min(&m, 100, 40, 70), 40);
        assert_int_equal(tcp_minmax_min(&m, 100, 80, 60), 40);
        assert_int_equal(tcp_minmax_min(&m, 100, 105, 90), 40);
        /* 40 (t 10) aged out: the best of the later ones. */
        assert_int_equal(tcp_minmax_min(&m, 100, 115, 90), 60);
        assert_int_equal(tcp_minmax_min(&m, 100, 400, 80), 80);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_sack_holes, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_sack_off_newreno, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_sack_pipe, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_sack_rescue, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rack_reo_wnd, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rack_dsack, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_tlp, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_tlp_off, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rto_skips_sacked, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_prr_one_loss, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_prr_newreno, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_prr_four_losses, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_prr_ecn, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_dsack_receiver, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rack_min_rtt_window, ts_setup, ts_teardown),
            cmocka_unit_test(test_minmax),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
