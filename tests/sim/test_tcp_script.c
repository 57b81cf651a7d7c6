/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP segment scripts (tcpscript.h): the stack against a peer the test
 * drives segment by segment on the virtual clock.
 */
#include <arpa/inet.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "tcpscript.h"

/* RFC 9293 3.10.7.1, ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
 * SEG.LEN counts SYN, FIN and the data. */
static void closed_no_ack(struct ts *t, int fam)
{
        static const char data[10] = "0123456789";
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = 1460};
        struct ts_seg got;

        ts_at(t, 100);
        ts_send(
            t, &(struct ts_seg){.fam = fam, .sport = 40000, .dport = 80, .flags = TH_S, .opts = o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 1, .win = 0}, &got);
        assert_int_equal(got.win, 0);
        assert_int_equal(got.opts.present, 0);
        assert_int_equal(got.ttl, 64);
        /* A SYN with data and FIN: the ACK covers all of it. */
        ts_at(t, 200);
        ts_send(t, &(struct ts_seg){.sport = 40001,
                                    .dport = 80,
                                    .seq = 5,
                                    .flags = TH_S | TH_F,
                                    .data = data,
                                    .len = sizeof(data)});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 5 + 1 + 10 + 1}, NULL);
        /* Data with no flag at all (a stray segment): ACK = SEG.SEQ + 10. */
        ts_send(t,
                &(struct ts_seg){.sport = 40002, .dport = 9, .seq = 77, .data = data, .len = 10});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 87}, NULL);
        /* Across the wrap: SEG.SEQ + SEG.LEN modulo 2^32. */
        t->rel = false;
        ts_send(t, &(struct ts_seg){
                       .sport = 40003, .dport = 9, .seq = 0xfffffff8u, .data = data, .len = 10});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 2}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_no_conn"), 4);
        assert_int_equal(ts_ctr(t, "tcp_rst_out"), 4);
        assert_int_equal(ts_ctr(t, "tcp_out"), 4);
        ts_expect_none(t, 1000);
}

/* RFC 9293 3.10.7.1, ACK on: <SEQ=SEG.ACK><CTL=RST>, no ACK. */
static void closed_ack(struct ts *t, int fam)
{
        struct ts_seg got;

        t->rel = false;
        ts_at(t, 10);
        ts_send(t, &(struct ts_seg){.fam = fam,
                                    .sport = 40000,
                                    .dport = 443,
                                    .seq = 1,
                                    .ack = 123456789,
                                    .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 123456789}, &got);
        assert_int_equal(got.ack, 0);
        /* A FIN-ACK with data: the same, SEG.ACK as the reset's seq. */
        ts_send(t, &(struct ts_seg){.sport = 40000,
                                    .dport = 443,
                                    .seq = 9,
                                    .ack = 0xffffffffu,
                                    .flags = TH_FA | TH_P,
                                    .data = "x",
                                    .len = 1});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 0xffffffffu}, NULL);
        /* A SYN-ACK to no connection (a stale half-open peer). */
        ts_send(t, &(struct ts_seg){
                       .sport = 40000, .dport = 443, .seq = 50, .ack = 42, .flags = TH_SA});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 42}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_rst_out"), 3);
}

static void test_closed_syn4(void **state)
{
        closed_no_ack(*state, 4);
}

static void test_closed_syn6(void **state)
{
        closed_no_ack(*state, 6);
}

static void test_closed_ack4(void **state)
{
        closed_ack(*state, 4);
}

static void test_closed_ack6(void **state)
{
        closed_ack(*state, 6);
}

/* A reset is never answered with a reset (RFC 9293 3.10.7.1). */
static void test_closed_rst(void **state)
{
        struct ts *t = *state;

        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 1, .dport = 80, .seq = 5, .flags = TH_R});
        ts_send(t, &(struct ts_seg){
                       .fam = 4, .sport = 1, .dport = 80, .seq = 5, .ack = 9, .flags = TH_RA});
        ts_send(
            t, &(struct ts_seg){.fam = 6, .sport = 1, .dport = 80, .seq = 5, .flags = TH_R | TH_S});
        ts_expect_none(t, 1000);
        assert_int_equal(ts_ctr(t, "tcp_rst_closed"), 3);
        assert_int_equal(ts_ctr(t, "tcp_rst_out"), 0);
        assert_int_equal(ts_ctr(t, "tcp_in"), 3);
}

/* Send a damaged copy of a SYN (mangle changes f of n bytes, @return the
 * new length) and expect the drop counted under c, nothing answered. */
static void expect_drop(struct ts *t, int fam, size_t (*mangle)(struct ts *, uint8_t *, size_t),
                        const char *c)
{
        uint8_t f[256];
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = 1460};
        size_t n = ts_build(
            t, &(struct ts_seg){.fam = fam, .sport = 2000, .dport = 80, .flags = TH_S, .opts = o},
            f);
        uint64_t before = ts_ctr(t, c), no_conn = ts_ctr(t, "tcp_no_conn");

        n = mangle(t, f, n);
        ts_send_frame(t, f, n);
        ts_expect_none(t, 10);
        if (ts_ctr(t, c) != before + 1)
                fail_msg("IPv%d: expected %s to count the segment", fam, c);
        assert_int_equal(ts_ctr(t, "tcp_no_conn"), no_conn);
}

static size_t m_short(struct ts *t, uint8_t *f, size_t n)
{
        size_t len = ts_tcp_off(f[12] == 0x08 ? 4 : 6) + 19;

        (void)t;
        (void)n;
        if (f[12] == 0x08)
                ts_fix_ip4(f, len);
        else
                mpnet_put_be16(f + MPNET_ETH_HLEN + 4, 19);
        return len;
}

static int fam_of(const uint8_t *f)
{
        return f[12] == 0x08 ? 4 : 6;
}

static size_t m_off4(struct ts *t, uint8_t *f, size_t n)
{
        f[ts_tcp_off(fam_of(f)) + 12] = 4 << 4;
        ts_fix_csum(t, fam_of(f), f, n);
        return n;
}

static size_t m_off_beyond(struct ts *t, uint8_t *f, size_t n)
{
        f[ts_tcp_off(fam_of(f)) + 12] = 15 << 4; /* 60 bytes in a 24-byte segment */
        ts_fix_csum(t, fam_of(f), f, n);
        return n;
}

static size_t m_csum(struct ts *t, uint8_t *f, size_t n)
{
        (void)t;
        f[ts_tcp_off(fam_of(f)) + 17] ^= 0x40;
        return n;
}

static size_t m_opt(struct ts *t, uint8_t *f, size_t n)
{
        uint8_t *o = f + ts_tcp_off(fam_of(f)) + MPNET_TCP_HLEN;

        assert_int_equal(o[0], MPNET_TCPOPT_MSS);
        o[1] = 5; /* MSS's length is 4: runs past the option space too */
        ts_fix_csum(t, fam_of(f), f, n);
        return n;
}

static size_t m_opt_zero(struct ts *t, uint8_t *f, size_t n)
{
        uint8_t *o = f + ts_tcp_off(fam_of(f)) + MPNET_TCP_HLEN;

        o[0] = 30; /* an unknown kind with length 0: would loop forever */
        o[1] = 0;
        ts_fix_csum(t, fam_of(f), f, n);
        return n;
}

/* IPv4 to 192.0.2.255 in a broadcast frame; IPv6 to ff02::1. */
static size_t m_group(struct ts *t, uint8_t *f, size_t n)
{
        memset(f, 0xff, 6);
        if (fam_of(f) == 4) {
                mpnet_put_be32(f + MPNET_ETH_HLEN + 16, IP4(192, 0, 2, 255));
                ts_fix_ip4(f, n);
                f[ts_tcp_off(4) + 16] = f[ts_tcp_off(4) + 17] = 0;
                mpnet_tcp4_csum_set(f + ts_tcp_off(4), n - ts_tcp_off(4), TS_PEER4,
                                    IP4(192, 0, 2, 255));
        } else {
                static const uint8_t mc[6] = {0x33, 0x33, 0, 0, 0, 1};

                memcpy(f, mc, 6);
                memcpy(f + MPNET_ETH_HLEN + 24, A6("ff02::1"), 16);
                f[ts_tcp_off(6) + 16] = f[ts_tcp_off(6) + 17] = 0;
                mpnet_tcp6_csum_set(f + ts_tcp_off(6), n - ts_tcp_off(6), t->peer6, A6("ff02::1"));
        }
        return n;
}

static void malformed(struct ts *t, int fam)
{
        expect_drop(t, fam, m_short, "tcp_short");
        expect_drop(t, fam, m_off4, "tcp_bad_off");
        expect_drop(t, fam, m_off_beyond, "tcp_off_beyond");
        expect_drop(t, fam, m_csum, "tcp_bad_csum");
        expect_drop(t, fam, m_opt, "tcp_bad_opt");
        expect_drop(t, fam, m_opt_zero, "tcp_bad_opt");
        expect_drop(t, fam, m_group, "tcp_not_unicast");
        assert_int_equal(ts_ctr(t, "tcp_in"), 0);
        assert_int_equal(ts_ctr(t, "tcp_out"), 0);
}

static void test_malformed4(void **state)
{
        malformed(*state, 4);
}

static void test_malformed6(void **state)
{
        malformed(*state, 6);
}

/* A listener on port 8080 of the family's wildcard. */
static int listener(struct ts *t, int fam, int backlog)
{
        int fd = mpnet_socket(t->s, fam == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        if (fam == 4) {
                struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};

                assert_int_equal(mpnet_bind(t->s, fd, (struct sockaddr *)&a, sizeof(a)), 0);
        } else {
                struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};

                assert_int_equal(mpnet_bind(t->s, fd, (struct sockaddr *)&a, sizeof(a)), 0);
        }
        assert_int_equal(mpnet_listen(t->s, fd, backlog), 0);
        assert_int_equal(mpnet_accept(t->s, fd, NULL, NULL, 0), -EAGAIN);
        return fd;
}

static const struct mpnet_tcp_opts all_opts = {
    .present = MPNET_TCPO_MSS | MPNET_TCPO_WSCALE | MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS,
    .mss = 1400,
    .wscale = 8,
    .ts_val = 100,
};

/* SYN with MSS, window scale, SACK-permitted and timestamps: the SYN-ACK
 * carries each (RFC 7323, RFC 2018), our MSS from the interface's MTU,
 * TSecr the peer's TSval; the ACK establishes; accept gives a descriptor
 * with both names; closing it resets (abort: orderly close is next). */
static void passive(struct ts *t, int fam, bool opts)
{
        int lfd = listener(t, fam, 4), fd;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        struct ts_seg got;
        struct mpnet_tcp_opts o = opts ? all_opts : (struct mpnet_tcp_opts){0};
        struct mpnet_tcp_opts ack_o = {0};
        uint16_t mss = fam == 4 ? 1460 : 1440;

        ts_at(t, 100);
        ts_send(
            t,
            &(struct ts_seg){
                .fam = fam, .sport = 40000, .dport = 8080, .flags = TH_S, .win = 64240, .opts = o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, &got);
        assert_true(t->stack_isn_known);
        assert_int_equal(got.opts.mss, mss);
        assert_true(got.opts.present & MPNET_TCPO_MSS);
        if (opts) {
                assert_int_equal(got.opts.present, all_opts.present);
                assert_int_equal(got.opts.wscale, 7);
                assert_int_equal(got.opts.ts_ecr, 100);
                ack_o.present = MPNET_TCPO_TS;
                ack_o.ts_val = 101;
                ack_o.ts_ecr = got.opts.ts_val;
        } else {
                assert_int_equal(got.opts.present, MPNET_TCPO_MSS);
        }
        assert_int_equal(got.win, 65535);
        assert_int_equal(mpnet_accept(t->s, lfd, NULL, NULL, 0), -EAGAIN);
        ts_at(t, 110);
        ts_send(
            t,
            &(struct ts_seg){
                .sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A, .opts = ack_o});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_syn_in"), 1);
        assert_int_equal(ts_ctr(t, "tcp_accepted"), 1);
        fd = mpnet_accept(t->s, lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK);
        assert_true(fd >= 0);
        assert_int_equal(mpnet_accept(t->s, lfd, NULL, NULL, 0), -EAGAIN);
        if (fam == 4) {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;

                assert_int_equal(sl, sizeof(*a));
                assert_int_equal(ntohl(a->sin_addr.s_addr), TS_PEER4);
                assert_int_equal(ntohs(a->sin_port), 40000);
                sl = sizeof(ss);
                assert_int_equal(mpnet_getsockname(t->s, fd, (struct sockaddr *)&ss, &sl), 0);
                assert_int_equal(ntohl(a->sin_addr.s_addr), TS_US4);
                assert_int_equal(ntohs(a->sin_port), 8080);
        } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

                assert_int_equal(sl, sizeof(*a));
                assert_memory_equal(&a->sin6_addr, t->peer6, 16);
                assert_int_equal(ntohs(a->sin6_port), 40000);
                sl = sizeof(ss);
                assert_int_equal(mpnet_getpeername(t->s, fd, (struct sockaddr *)&ss, &sl), 0);
                assert_memory_equal(&a->sin6_addr, t->peer6, 16);
                sl = sizeof(ss);
                assert_int_equal(mpnet_getsockname(t->s, fd, (struct sockaddr *)&ss, &sl), 0);
                assert_memory_equal(&a->sin6_addr, t->us6, 16);
                assert_int_equal(ntohs(a->sin6_port), 8080);
        }
        /* An orderly close now: a FIN (RFC 9293 3.10.4). */
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_FA, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
        /* The port is closed again (a new connection: absolute seq). */
        t->stack_isn_known = false;
        ts_send(t, &(struct ts_seg){.sport = 40001, .dport = 8080, .seq = 0, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 1}, NULL);
}

static void test_passive4(void **state)
{
        passive(*state, 4, true);
}

static void test_passive6(void **state)
{
        passive(*state, 6, true);
}

static void test_passive_noopt4(void **state)
{
        passive(*state, 4, false);
}

static void test_passive_noopt6(void **state)
{
        passive(*state, 6, false);
}

/* The SYN-ACK goes again on RTO (1 s, doubling: RFC 6298 2.1, 5.5), six
 * times in all; then the embryo is dropped and its ACK meets a listener
 * (a reset, RFC 9293 3.10.7.2). A retransmitted SYN gets the SYN-ACK at
 * once. */
static void test_synack_rtx(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t, 4, 4);
        uint64_t at[6];

        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        at[0] = ts_now_ms(t);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        for (int i = 1; i < 6; i++) {
                ts_expect(t, 70000, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
                at[i] = ts_now_ms(t);
        }
        assert_int_equal(at[1] - at[0], 1000);
        assert_int_equal(at[2] - at[1], 2000);
        assert_int_equal(at[5] - at[4], 16000);
        assert_int_equal(ts_ctr(t, "tcp_syn_rtx"), 5);
        ts_expect_none(t, 60000);
        assert_int_equal(ts_ctr(t, "tcp_synack_giveup"), 1);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_bad_ack"), 1);
        assert_int_equal(mpnet_accept(t->s, lfd, NULL, NULL, 0), -EAGAIN);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* The SYN queue holds backlog embryos; a SYN past it is dropped and
 * counted, unanswered (SYN cookies off: test_tcp_listen has them). */
static void test_synq_bound(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t, 4, 2);

        assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_OFF), 0);

        for (uint16_t p = 1; p <= 2; p++) {
                ts_send(t, &(struct ts_seg){.fam = 4, .sport = p, .dport = 8080, .flags = TH_S});
                ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
                t->stack_isn_known = false; /* each has its own ISN */
        }
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 3, .dport = 8080, .flags = TH_S});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_synq_full"), 1);
        assert_int_equal(ts_ctr(t, "tcp_syn_in"), 2);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
        ts_expect_none(t, 5000); /* embryos went with the listener */
}

/* SYN_RECEIVED: an ACK of something never sent is answered with
 * <SEQ=SEG.ACK><CTL=RST>; a RST at RCV.NXT ends the embryo; one elsewhere
 * in the window gets a challenge ACK (RFC 5961 3.2). A bare ACK to the
 * listener is reset too. */
static void test_synrecv_bad(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t, 4, 4);

        ts_send(t, &(struct ts_seg){
                       .fam = 4, .sport = 7, .dport = 8080, .seq = 500, .ack = 77, .flags = TH_A});
        t->rel = false;
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 77}, NULL);
        t->rel = true;
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 5, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 5}, NULL);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 100, .flags = TH_R});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_challenge"), 1);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_R});
        ts_expect_none(t, 10);
        /* Gone: its ACK now meets the listener. */
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_bad_ack"), 3);
        assert_int_equal(ts_ctr(t, "tcp_accepted"), 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* ESTABLISHED, not yet accepted: a RST at RCV.NXT takes it off the accept
 * queue. */
static void test_reset_unaccepted(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t, 6, 4);

        ts_send(t, &(struct ts_seg){.fam = 6, .sport = 40000, .dport = 8080, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        assert_int_equal(ts_ctr(t, "tcp_accepted"), 1);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_R});
        assert_int_equal(mpnet_accept(t->s, lfd, NULL, NULL, 0), -EAGAIN);
        ts_expect_none(t, 10);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

static int so_error(struct ts *t, int fd)
{
        int v = -1;
        socklen_t l = sizeof(v);

        assert_int_equal(mpnet_getsockopt(t->s, fd, SOL_SOCKET, SO_ERROR, &v, &l), 0);
        return v;
}

/* connect() to the peer's port 80: -EINPROGRESS and a SYN from an
 * ephemeral port offering every option. @return the descriptor; *port
 * its port. */
static int connecting(struct ts *t, int fam, uint16_t *port, struct ts_seg *syn)
{
        int fd = mpnet_socket(t->s, fam == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(80)};
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};

        assert_true(fd >= 0);
        a4.sin_addr.s_addr = htonl(TS_PEER4);
        memcpy(&a6.sin6_addr, t->peer6, 16);
        t->fam = fam;
        assert_int_equal(fam == 4 ? mpnet_connect(t->s, fd, (struct sockaddr *)&a4, sizeof(a4))
                                  : mpnet_connect(t->s, fd, (struct sockaddr *)&a6, sizeof(a6)),
                         -EINPROGRESS);
        assert_int_equal(mpnet_getsockname(t->s, fd, (struct sockaddr *)&ss, &sl), 0);
        *port = ntohs(fam == 4 ? ((struct sockaddr_in *)&ss)->sin_port
                               : ((struct sockaddr_in6 *)&ss)->sin6_port);
        assert_true(*port >= 49152);
        t->sport = 80;
        t->dport = *port;
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_S, .seq = 0}, syn);
        assert_int_equal(syn->opts.present, all_opts.present);
        assert_int_equal(syn->opts.mss, fam == 4 ? 1460 : 1440);
        assert_int_equal(syn->opts.wscale, 7);
        assert_int_equal(syn->opts.ts_ecr, 0);
        sl = sizeof(ss);
        assert_int_equal(mpnet_getpeername(t->s, fd, (struct sockaddr *)&ss, &sl), -ENOTCONN);
        return fd;
}

/* Active open (RFC 9293 3.10.7.3): the SYN-ACK makes ESTABLISHED, the
 * stack ACKs it, the socket is connected with no error. */
static void active(struct ts *t, int fam)
{
        uint16_t port;
        struct ts_seg syn;
        int fd = connecting(t, fam, &port, &syn);
        struct mpnet_tcp_opts o = all_opts;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);

        o.ts_ecr = syn.opts.ts_val;
        ts_at(t, 50);
        ts_send(t, &(struct ts_seg){
                       .sport = 80, .dport = port, .seq = 0, .ack = 1, .flags = TH_SA, .opts = o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, &syn);
        assert_int_equal(syn.opts.present, MPNET_TCPO_TS);
        assert_int_equal(syn.opts.ts_ecr, 100);
        assert_int_equal(so_error(t, fd), 0);
        assert_int_equal(mpnet_getpeername(t->s, fd, (struct sockaddr *)&ss, &sl), 0);
        assert_int_equal(ntohs(fam == 4 ? ((struct sockaddr_in *)&ss)->sin_port
                                        : ((struct sockaddr_in6 *)&ss)->sin6_port),
                         80);
        assert_int_equal(mpnet_connect(t->s, fd, (struct sockaddr *)&ss, sl), -EISCONN);
        ts_expect_none(t, 5000); /* no SYN retransmitted */
        assert_int_equal(ts_ctr(t, "tcp_syn_rtx"), 0);
        /* An orderly close now: a FIN (RFC 9293 3.10.4). */
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_FA, .seq = 1, .ack = 1}, NULL);
}

static void test_connect4(void **state)
{
        active(*state, 4);
}

static void test_connect6(void **state)
{
        active(*state, 6);
}

/* A reset without ACK is ignored in SYN_SENT (RFC 5961 3.2); one that
 * ACKs the SYN refuses: SO_ERROR ECONNREFUSED. */
static void test_connect_refused(void **state)
{
        struct ts *t = *state;
        uint16_t port;
        struct ts_seg syn;
        int fd = connecting(t, 4, &port, &syn);

        ts_send(t, &(struct ts_seg){.sport = 80, .dport = port, .seq = 0, .flags = TH_R});
        assert_int_equal(so_error(t, fd), 0);
        ts_send(t,
                &(struct ts_seg){.sport = 80, .dport = port, .seq = 0, .ack = 1, .flags = TH_RA});
        assert_int_equal(so_error(t, fd), ECONNREFUSED);
        ts_expect_none(t, 5000);
        assert_int_equal(mpnet_close(t->s, fd), 0);
}

/* A SYN-ACK acknowledging something else: <SEQ=SEG.ACK><CTL=RST>, the SYN
 * stays; unanswered, the SYN goes 7 times (RTO 1 s doubling) and the
 * socket gets ETIMEDOUT. */
static void test_connect_bad_ack_timeout(void **state)
{
        struct ts *t = *state;
        uint16_t port;
        struct ts_seg syn;
        int fd = connecting(t, 6, &port, &syn);
        uint64_t t0 = ts_now_ms(t);

        ts_send(t,
                &(struct ts_seg){.sport = 80, .dport = port, .seq = 0, .ack = 5, .flags = TH_SA});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 5}, NULL);
        for (int i = 0; i < 6; i++)
                ts_expect(t, 70000, &(struct ts_seg){.flags = TH_S, .seq = 0}, NULL);
        assert_int_equal(ts_now_ms(t) - t0, 1000 + 2000 + 4000 + 8000 + 16000 + 32000);
        assert_int_equal(so_error(t, fd), 0);
        ts_expect_none(t, 70000);
        assert_int_equal(so_error(t, fd), ETIMEDOUT);
        assert_int_equal(ts_ctr(t, "tcp_syn_rtx"), 6);
        assert_int_equal(mpnet_close(t->s, fd), 0);
}

/* An accepted connection (IPv4, no options) from peer port 40000. */
static int accepted(struct ts *t, int *lfd)
{
        int fd;

        *lfd = listener(t, 4, 4);
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        fd = mpnet_accept(t->s, *lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        return fd;
}

/* ESTABLISHED: a segment outside the window is answered with an ACK
 * (RFC 9293 3.10.7.4), a RST outside it dropped silently, a RST in the
 * window but not at RCV.NXT and a SYN draw challenge ACKs (RFC 5961 3.2,
 * 4.2), an ACK of data never sent a challenge ACK (5.2); a RST at RCV.NXT
 * resets: SO_ERROR ECONNRESET, and the port answers as closed again. */
static void test_established_checks(void **state)
{
        struct ts *t = *state;
        int lfd, fd = accepted(t, &lfd);

        ts_send(t, &(struct ts_seg){.sport = 40000,
                                    .dport = 8080,
                                    .seq = 100000,
                                    .ack = 1,
                                    .flags = TH_A,
                                    .data = "x",
                                    .len = 1});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_out_of_window"), 1);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 100000, .flags = TH_R});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_out_of_window"), 2);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 2, .flags = TH_R});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        ts_send(t, &(struct ts_seg){
                       .sport = 40000, .dport = 8080, .seq = 1, .ack = 1000, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_challenge"), 3);
        assert_int_equal(so_error(t, fd), 0);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_R});
        ts_expect_none(t, 10);
        assert_int_equal(so_error(t, fd), ECONNRESET);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 1}, NULL);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_expect_none(t, 10); /* nothing left to reset */
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* RFC 5961 7: at most 100 challenge ACKs a second; the rest counted. */
static void test_challenge_limit(void **state)
{
        struct ts *t = *state;
        int lfd, fd = accepted(t, &lfd);

        for (int i = 0; i < 105; i++) {
                ts_send(t,
                        &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_S});
                link_drain(t->lb);
        }
        assert_int_equal(ts_ctr(t, "tcp_challenge"), 100);
        assert_int_equal(ts_ctr(t, "tcp_challenge_limited"), 5);
        ts_at(t, ts_now_ms(t) + 1000); /* the bucket fills again */
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_closed_syn4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_closed_syn6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_closed_ack4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_closed_ack6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_closed_rst, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_malformed4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_malformed6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_passive4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_passive6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_passive_noopt4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_passive_noopt6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_synack_rtx, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_synq_bound, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_synrecv_bad, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_reset_unaccepted, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_connect4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_connect6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_connect_refused, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_connect_bad_ack_timeout, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_established_checks, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_challenge_limit, ts_setup, ts_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
