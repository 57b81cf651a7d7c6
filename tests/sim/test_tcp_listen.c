/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening past the queues (tcpscript.h, virtual clock): SYN cookies
 * (RFC 4987) with window scale and SACK-permitted carried in the
 * timestamp, bad and stale cookies, a full accept queue; simultaneous
 * open (RFC 9293 3.5 figure 7); the reset rate limit.
 */
#include <arpa/inet.h>
#include <sys/epoll.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"
#include "tcpscript.h"

static unsigned conns(struct ts *t)
{
        return tcp_state_of(t->s)->ct.n;
}

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
        return fd;
}

/* The connection behind an accepted descriptor. */
static struct tcp_conn *conn_of(struct ts *t, int fd)
{
        struct mpnet_sock *so = sock_get(t->s, fd);

        assert_non_null(so);
        assert_non_null(so->tcp);
        return so->tcp;
}

/* A SYN from sport; the cookie SYN-ACK comes back in got. */
static void cookie_syn(struct ts *t, int fam, uint16_t sport, const struct mpnet_tcp_opts *o,
                       struct ts_seg *got)
{
        t->stack_isn_known = false; /* each cookie is its own ISN */
        ts_send(t, &(struct ts_seg){.fam = fam,
                                    .sport = sport,
                                    .dport = 8080,
                                    .flags = TH_S,
                                    .opts = o != NULL ? *o : (struct mpnet_tcp_opts){0}});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, got);
}

/* Mode 2, a SYN with every option: a SYN-ACK that keeps no state, whose
 * TSval's low bits say wscale 8 and SACK; its ACK makes the connection
 * with what the SYN offered. */
static void cookie_roundtrip(struct ts *t, int fam)
{
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS | MPNET_TCPO_WSCALE |
                                              MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS,
                                   .mss = 1400,
                                   .wscale = 8,
                                   .ts_val = 5000};
        struct mpnet_tcp_opts ack_o = {.present = MPNET_TCPO_TS, .ts_val = 5001};
        int lfd = listener(t, fam, 4), fd;
        struct ts_seg got;
        struct tcp_conn *c;

        assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_ALWAYS), 0);
        ts_at(t, 100);
        cookie_syn(t, fam, 40000, &o, &got);
        assert_int_equal(got.opts.present, o.present);
        assert_int_equal(got.opts.mss, fam == 4 ? 1460 : 1440);
        assert_int_equal(got.opts.wscale, 7);
        assert_int_equal(got.opts.ts_ecr, 5000);
        assert_int_equal(got.opts.ts_val & 0x3f, 8 | 0x10);
        assert_int_equal(conns(t), 0);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1);
        assert_int_equal(ts_ctr(t, "tcp_syn_in"), 0);
        ack_o.ts_ecr = got.opts.ts_val;
        ts_at(t, 150);
        ts_send(t, &(struct ts_seg){.sport = 40000,
                                    .dport = 8080,
                                    .seq = 1,
                                    .ack = 1,
                                    .win = 100,
                                    .flags = TH_A,
                                    .opts = ack_o});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 1);
        assert_int_equal(ts_ctr(t, "tcp_accepted"), 1);
        fd = mpnet_accept(t->s, lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        c = conn_of(t, fd);
        assert_int_equal(c->state, TCP_ESTABLISHED);
        assert_int_equal(c->opt, TCPF_WSCALE | TCPF_SACK | TCPF_TS);
        assert_int_equal(c->snd_ws, 8);
        assert_int_equal(c->rcv_ws, 7);
        assert_int_equal(c->snd_wnd, 100u << 8);
        /* The cookie table's largest at most 1400 (l4/tcp_isn.c). */
        assert_int_equal(c->mss, fam == 4 ? 1300 : 1220);
        assert_int_equal(c->ts_recent, 5001);
        assert_int_equal(c->rcv_nxt, t->peer_isn + 1);
        assert_int_equal(c->snd_nxt, t->stack_isn + 1);
        /* An orderly close: a FIN (l4/tcp_data.c). */
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_FA, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

static void test_cookie4(void **state)
{
        cookie_roundtrip(*state, 4);
}

static void test_cookie6(void **state)
{
        cookie_roundtrip(*state, 6);
}

/* Without timestamps the cookie SYN-ACK offers MSS alone (RFC 4987 3.6:
 * no room for the rest) and the connection has no option. */
static void test_cookie_no_ts(void **state)
{
        struct ts *t = *state;
        struct mpnet_tcp_opts o = {.present =
                                       MPNET_TCPO_MSS | MPNET_TCPO_WSCALE | MPNET_TCPO_SACK_PERM,
                                   .mss = 1460,
                                   .wscale = 2};
        int lfd = listener(t, 4, 4), fd;
        struct ts_seg got;

        assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_ALWAYS), 0);
        cookie_syn(t, 4, 40000, &o, &got);
        assert_int_equal(got.opts.present, MPNET_TCPO_MSS);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        fd = mpnet_accept(t->s, lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        assert_int_equal(conn_of(t, fd)->opt, 0);
        assert_int_equal(conn_of(t, fd)->mss, 1460);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* Every mix of the SYN's options (MSS, window scale, SACK-permitted,
 * timestamps), both families: the SYN-ACK built in place (l4/tcp_listen.c)
 * offers what the SYN asked for, a valid checksum, and its ACK makes a
 * connection with the options the cookie kept. */
static void cookie_mix(struct ts *t, int lfd, int fam, unsigned mix, uint16_t sport)
{
        struct mpnet_tcp_opts o = {.mss = 1460, .wscale = 3, .ts_val = 7000 + mix};
        struct mpnet_tcp_opts ack_o = {.present = MPNET_TCPO_TS, .ts_val = 7100 + mix};
        bool ts = (mix & 8) != 0;
        uint16_t want, mss;
        struct ts_seg got;
        struct tcp_conn *c;
        int fd;

        o.present = (mix & 1 ? MPNET_TCPO_MSS : 0) | (mix & 2 ? MPNET_TCPO_WSCALE : 0) |
                    (mix & 4 ? MPNET_TCPO_SACK_PERM : 0) | (ts ? MPNET_TCPO_TS : 0);
        want = ts ? (uint16_t)(o.present | MPNET_TCPO_MSS) : MPNET_TCPO_MSS;
        cookie_syn(t, fam, sport, &o, &got);
        assert_int_equal(got.opts.present, want);
        assert_int_equal(got.opts.mss, fam == 4 ? 1460 : 1440);
        assert_int_equal(got.win, 65535);
        if (ts) {
                assert_int_equal(got.opts.ts_ecr, o.ts_val);
                if (mix & 2)
                        assert_int_equal(got.opts.wscale, 7);
                ack_o.ts_ecr = got.opts.ts_val;
        }
        ts_send(t, &(struct ts_seg){.sport = sport,
                                    .dport = 8080,
                                    .seq = 1,
                                    .ack = 1,
                                    .win = 100,
                                    .flags = TH_A,
                                    .opts = ts ? ack_o : (struct mpnet_tcp_opts){0}});
        fd = mpnet_accept(t->s, lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        c = conn_of(t, fd);
        assert_int_equal(c->state, TCP_ESTABLISHED);
        assert_int_equal(
            c->opt, ts ? TCPF_TS | (mix & 2 ? TCPF_WSCALE : 0) | (mix & 4 ? TCPF_SACK : 0) : 0);
        assert_int_equal(c->snd_ws, ts && (mix & 2) ? 3 : 0);
        /* The cookie's table (l4/tcp_isn.c); no option: 536 (RFC 9293
         * 3.7.1), IPv6's smallest 1220. */
        mss = fam == 4 ? (mix & 1 ? 1460 : 536) : (mix & 1 ? 1440 : 1220);
        assert_int_equal(c->mss, mss);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_FA, .seq = 1, .ack = 1}, NULL);
        ts_send(t, &(struct ts_seg){.sport = sport, .dport = 8080, .seq = 1, .flags = TH_R});
}

static void test_cookie_opt_mix(void **state)
{
        struct ts *t = *state;

        for (int fam = 4; fam <= 6; fam += 2) {
                int lfd = listener(t, fam, 4);

                assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_ALWAYS), 0);
                for (unsigned mix = 0; mix < 16; mix++)
                        cookie_mix(t, lfd, fam, mix, (uint16_t)(41000 + fam * 100 + mix));
                assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), ts_ctr(t, "tcp_cookie_sent"));
                assert_int_equal(conns(t), 0);
                assert_int_equal(mpnet_close(t->s, lfd), 0);
        }
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 32);
}

/* An ACK with another cookie, another peer ISN, from another port, or
 * with a cookie past its two periods: a reset, nothing kept. */
static void test_cookie_bad(void **state)
{
        struct ts *t = *state;
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS | MPNET_TCPO_TS, .ts_val = 7};
        struct mpnet_tcp_opts ack_o = {.present = MPNET_TCPO_TS, .ts_val = 8};
        int lfd = listener(t, 4, 4);
        struct ts_seg got;

        assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_ALWAYS), 0);
        cookie_syn(t, 4, 40000, &o, &got);
        ack_o.ts_ecr = got.opts.ts_val;
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 2, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 2}, NULL);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 2, .ack = 1, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 1}, NULL);
        /* The right numbers from another port: the tuple is hashed. */
        ts_send(
            t,
            &(struct ts_seg){
                .sport = 40001, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A, .opts = ack_o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_cookie_bad"), 3);
        assert_int_equal(conns(t), 0);
        /* Two periods of 64 s later the cookie is stale. */
        ts_at(t, ts_now_ms(t) + 130 * 1000);
        ack_o.ts_ecr = got.opts.ts_val;
        ts_send(
            t,
            &(struct ts_seg){
                .sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A, .opts = ack_o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_cookie_bad"), 4);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 0);
        assert_int_equal(mpnet_accept(t->s, lfd, NULL, NULL, 0), -EAGAIN);
        assert_int_equal(conns(t), 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* Mode 1 (the default): cookies only once the SYN queue is full; the
 * embryos stay as they were. */
static void test_cookie_overflow(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t, 4, 2);
        struct ts_seg got;

        for (uint16_t p = 1; p <= 2; p++)
                cookie_syn(t, 4, p, NULL, &got);
        assert_int_equal(ts_ctr(t, "tcp_syn_in"), 2);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 0);
        cookie_syn(t, 4, 3, NULL, &got);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1);
        assert_int_equal(ts_ctr(t, "tcp_synq_full"), 0);
        assert_int_equal(conns(t), 2);
        ts_send(t, &(struct ts_seg){.sport = 3, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 1);
        assert_int_equal(conns(t), 3);
        assert_true(mpnet_accept(t->s, lfd, NULL, NULL, 0) >= 0);
        /* Off: a SYN past the queue is dropped. */
        assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_OFF), 0);
        ts_send(t, &(struct ts_seg){.sport = 4, .dport = 8080, .flags = TH_S});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_synq_full"), 1);
        assert_int_equal(mpnet_tcp_set_syncookies(t->s, 3), -EINVAL);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* The cookie (absolute ISN) the stack answers a SYN from sport with. */
static uint32_t cookie_of(struct ts *t, uint16_t sport)
{
        struct ts_seg got;

        t->rel = true;
        cookie_syn(t, 4, sport, NULL, &got);
        t->rel = false;
        return t->stack_isn;
}

static void cookie_ack(struct ts *t, uint16_t sport, uint32_t cookie)
{
        ts_send(t, &(struct ts_seg){.fam = 4,
                                    .sport = sport,
                                    .dport = 8080,
                                    .seq = t->peer_isn + 1,
                                    .ack = cookie + 1,
                                    .flags = TH_A});
}

/* Backlog 1: a valid cookie that finds the accept queue full is dropped
 * unanswered (the peer retransmits its ACK) and counted; once accept()
 * made room the same ACK makes the connection. A SYN while the accept
 * queue is full gets nothing. */
static void test_cookie_backlog(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t, 4, 1);
        uint32_t c1, c2;

        assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_ALWAYS), 0);
        c1 = cookie_of(t, 1);
        c2 = cookie_of(t, 2);
        cookie_ack(t, 2, c2);
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 1);
        ts_send(t, &(struct ts_seg){.sport = 3, .dport = 8080, .seq = 5, .flags = TH_S});
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_synq_full"), 1);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 2);
        cookie_ack(t, 1, c1);
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_cookie_accq_full"), 1);
        assert_int_equal(conns(t), 1);
        assert_true(mpnet_accept(t->s, lfd, NULL, NULL, 0) >= 0);
        cookie_ack(t, 1, c1);
        ts_expect_none(t, 10);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 2);
        assert_true(mpnet_accept(t->s, lfd, NULL, NULL, 0) >= 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* RFC 9293 3.5 figure 7: our SYN crosses the peer's; its SYN takes us to
 * SYN_RECEIVED with a SYN-ACK of our ISS; the peer's SYN-ACK (line 6) or
 * a bare ACK makes ESTABLISHED, the socket connected. */
static void simopen(struct ts *t, int fam, bool synack)
{
        int fd = mpnet_socket(t->s, fam == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(80)};
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS | MPNET_TCPO_WSCALE |
                                              MPNET_TCPO_SACK_PERM | MPNET_TCPO_TS,
                                   .mss = 1400,
                                   .wscale = 3,
                                   .ts_val = 77};
        struct ts_seg syn, got;
        struct tcp_conn *c;
        int v = -1;
        socklen_t l = sizeof(a4);

        a4.sin_addr.s_addr = htonl(TS_PEER4);
        memcpy(&a6.sin6_addr, t->peer6, 16);
        assert_int_equal(fam == 4 ? mpnet_connect(t->s, fd, (struct sockaddr *)&a4, sizeof(a4))
                                  : mpnet_connect(t->s, fd, (struct sockaddr *)&a6, sizeof(a6)),
                         -EINPROGRESS);
        t->fam = fam;
        assert_true(ts_recv(t, 1, &syn));
        assert_int_equal(syn.flags, TH_S);
        ts_at(t, 20);
        o.ts_ecr = 0;
        ts_send(
            t,
            &(struct ts_seg){
                .fam = fam, .sport = 80, .dport = syn.sport, .seq = 0, .flags = TH_S, .opts = o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, &got);
        assert_int_equal(got.opts.present, o.present);
        assert_int_equal(got.opts.wscale, 7);
        assert_int_equal(got.opts.ts_ecr, 77);
        assert_int_equal(ts_ctr(t, "tcp_simopen"), 1);
        c = conn_of(t, fd);
        assert_int_equal(c->state, TCP_SYN_RECEIVED);
        assert_int_equal(mpnet_getpeername(t->s, fd, (struct sockaddr *)&a4, &l), -ENOTCONN);
        ts_at(t, 30);
        o.present = MPNET_TCPO_TS;
        o.ts_val = 78;
        o.ts_ecr = got.opts.ts_val;
        if (synack)
                ts_send(t, &(struct ts_seg){.sport = 80,
                                            .dport = syn.sport,
                                            .seq = 0,
                                            .ack = 1,
                                            .flags = TH_SA,
                                            .opts = o});
        else
                ts_send(t, &(struct ts_seg){.sport = 80,
                                            .dport = syn.sport,
                                            .seq = 1,
                                            .ack = 1,
                                            .flags = TH_A,
                                            .opts = o});
        ts_expect_none(t, 10); /* figure 7: nothing more to say */
        assert_int_equal(c->state, TCP_ESTABLISHED);
        assert_int_equal(c->snd_ws, 3);
        assert_int_equal(c->ts_recent, 78);
        assert_int_equal(c->mss, 1400);
        l = sizeof(v);
        assert_int_equal(mpnet_getsockopt(t->s, fd, SOL_SOCKET, SO_ERROR, &v, &l), 0);
        assert_int_equal(v, 0);
        l = sizeof(a6);
        assert_int_equal(mpnet_getpeername(t->s, fd, (struct sockaddr *)&a6, &l), 0);
        assert_null(tcp_ctx_of(t->s->ctx[0])->embryo); /* no embryo left */
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_FA, .seq = 1, .ack = 1}, NULL);
}

static void test_simopen_synack4(void **state)
{
        simopen(*state, 4, true);
}

static void test_simopen_ack6(void **state)
{
        simopen(*state, 6, false);
}

/* SYN_RECEIVED by simultaneous open: an ACK of something never sent is
 * reset; one at the wrong sequence number is ACKed and ignored. */
static void test_simopen_bad_ack(void **state)
{
        struct ts *t = *state;
        int fd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(80)};
        struct ts_seg syn;

        a4.sin_addr.s_addr = htonl(TS_PEER4);
        assert_int_equal(mpnet_connect(t->s, fd, (struct sockaddr *)&a4, sizeof(a4)), -EINPROGRESS);
        assert_true(ts_recv(t, 1, &syn));
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 80, .dport = syn.sport, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        ts_send(t, &(struct ts_seg){
                       .sport = 80, .dport = syn.sport, .seq = 1, .ack = 5, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_R, .seq = 5}, NULL);
        ts_send(t, &(struct ts_seg){
                       .sport = 80, .dport = syn.sport, .seq = 9, .ack = 1, .flags = TH_A});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(conn_of(t, fd)->state, TCP_SYN_RECEIVED);
        ts_send(t, &(struct ts_seg){
                       .sport = 80, .dport = syn.sport, .seq = 1, .ack = 1, .flags = TH_A});
        assert_int_equal(conn_of(t, fd)->state, TCP_ESTABLISHED);
        assert_int_equal(mpnet_close(t->s, fd), 0);
}

/* A simultaneous open whose SYN-ACKs go unanswered ends as a connect
 * that timed out: SO_ERROR ETIMEDOUT, the connection gone. */
static void test_simopen_timeout(void **state)
{
        struct ts *t = *state;
        int fd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(80)};
        struct ts_seg syn;
        int v = -1;
        socklen_t l = sizeof(v);

        a4.sin_addr.s_addr = htonl(TS_PEER4);
        assert_int_equal(mpnet_connect(t->s, fd, (struct sockaddr *)&a4, sizeof(a4)), -EINPROGRESS);
        assert_true(ts_recv(t, 1, &syn));
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 80, .dport = syn.sport, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        ts_at(t, 300 * 1000);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_synack_giveup"), 1);
        assert_int_equal(conns(t), 0);
        assert_int_equal(mpnet_getsockopt(t->s, fd, SOL_SOCKET, SO_ERROR, &v, &l), 0);
        assert_int_equal(v, ETIMEDOUT);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_expect_none(t, 10);
}

/* Resets to a closed port and to bad ACKs at a listener share a bucket:
 * 10 a second, burst 10; the rest are counted, and time refills it. */
static void test_rst_limit(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t, 4, 4);
        unsigned n = 0;
        struct ts_seg g;

        assert_int_equal(mpnet_tcp_set_rst_limit(t->s, 10, 0), -EINVAL);
        assert_int_equal(mpnet_tcp_set_rst_limit(t->s, 10, 10), 0);
        t->rel = false;
        ts_at(t, 100);
        for (uint16_t p = 1; p <= 30; p++) {
                ts_send(t, &(struct ts_seg){.fam = 4, .sport = p, .dport = 9, .flags = TH_S});
                ts_send(t, &(struct ts_seg){
                               .fam = 4, .sport = p, .dport = 8080, .ack = 5, .flags = TH_A});
        }
        while (ts_recv(t, 0, &g)) {
                assert_true(g.flags & TH_R);
                n++;
        }
        assert_int_equal(n, 10);
        assert_int_equal(ts_ctr(t, "tcp_rst_limited"), 50);
        assert_int_equal(ts_ctr(t, "tcp_bad_ack"), 30);
        ts_at(t, 1100);
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 99, .dport = 9, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 1}, NULL);
        /* Off: every one answered. */
        assert_int_equal(mpnet_tcp_set_rst_limit(t->s, 0, 0), 0);
        for (uint16_t p = 1; p <= 30; p++) {
                ts_send(t, &(struct ts_seg){.fam = 4, .sport = p, .dport = 9, .flags = TH_S});
                ts_expect(t, 1, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 1}, NULL);
        }
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_cookie4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_no_ts, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_opt_mix, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_bad, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_overflow, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_backlog, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_simopen_synack4, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_simopen_ack6, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_simopen_bad_ack, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_simopen_timeout, ts_setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_rst_limit, ts_setup, ts_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
