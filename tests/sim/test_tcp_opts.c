/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's options beyond the data path, segment by segment (tcpscript.h,
 * virtual time): keepalives, SO_LINGER, TCP_CORK, MPNET_TCP_INFO, ECN
 * (RFC 3168), path MTU discovery from ICMP (RFC 1191, RFC 8201, RFC 5927)
 * and its black-hole fallback, TIME_WAIT reuse (RFC 6191).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"
#include "tcpscript.h"

/* <netinet/tcp.h>'s numbers (its state names clash with ours). */
#define O_TCP_CORK      3
#define O_TCP_KEEPIDLE  4
#define O_TCP_KEEPINTVL 5
#define O_TCP_KEEPCNT   6

static int setup(void **state)
{
        struct ts *t = ts_new();

        tcp_state_of(t->s)->msl_ns = MPNET_NS_PER_S;
        *state = t;
        return 0;
}

/* The connection: the peer at 192.0.2.2:40000 (or [2001:db8::2]), the
 * stack's accepted socket on 8080. With ts, timestamps (the peer's TSval
 * counts up by one per segment). */
struct k {
        struct ts *t;
        int lfd, fd, fam;
        bool ts;
        uint32_t tsv, tse;
};

static struct mpnet_tcp_opts popts(struct k *k)
{
        struct mpnet_tcp_opts o = {0};

        if (k->ts) {
                o.present = MPNET_TCPO_TS;
                o.ts_val = ++k->tsv;
                o.ts_ecr = k->tse;
        }
        return o;
}

static void psend(struct k *k, uint32_t seq, uint32_t ack, uint16_t flags, uint32_t n)
{
        uint8_t b[TS_DATA_MAX];

        memset(b, 'p', n);
        ts_send(k->t, &(struct ts_seg){.fam = k->fam,
                                       .sport = 40000,
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

static int listener(struct ts *t, int fam)
{
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};
        int fd = mpnet_socket(t->s, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

        (void)fam;
        assert_true(fd >= 0);
        assert_int_equal(mpnet_bind(t->s, fd, (struct sockaddr *)&a6, sizeof(a6)), 0);
        assert_int_equal(mpnet_listen(t->s, fd, 4), 0);
        return fd;
}

/* The peer opens with MSS mss (and timestamps with ts), SYN flags syn
 * (TH_S, or with ECE and CWR); lfd the listener (-1: make one). */
static void estab_f(struct ts *t, struct k *k, int fam, bool ts, uint16_t mss, uint16_t syn,
                    uint16_t synack, int lfd)
{
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = mss};

        memset(k, 0, sizeof(*k));
        t->stack_isn_known = false;
        k->t = t;
        k->ts = ts;
        k->fam = fam;
        k->lfd = lfd >= 0 ? lfd : listener(t, fam);
        if (ts) {
                o.present |= MPNET_TCPO_TS;
                o.ts_val = ++k->tsv;
        }
        ts_at(t, ts_now_ms(t) + 100);
        ts_send(t, &(struct ts_seg){
                       .fam = fam, .sport = 40000, .dport = 8080, .flags = syn, .opts = o});
        expect(k, 1, synack, 0, 1, 0, NULL);
        psend(k, 1, 1, TH_A, 0);
        k->fd = mpnet_accept(t->s, k->lfd, NULL, NULL, 0);
        assert_true(k->fd >= 0);
}

static void estab(struct ts *t, struct k *k, bool ts, uint16_t mss)
{
        estab_f(t, k, 4, ts, mss, TH_S, TH_SA, -1);
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

static int conn_state(struct ts *t)
{
        struct tcp_conn *c = conn_get(t);

        return c != NULL ? c->state : TCP_CLOSED;
}

static ssize_t wr(struct ts *t, int fd, size_t n)
{
        static uint8_t b[1 << 16];

        memset(b, 'x', n < sizeof(b) ? n : sizeof(b));
        return mpnet_sendto(t->s, fd, b, n, 0, NULL, 0);
}

static void setint(struct ts *t, int fd, int level, int name, int v, int want)
{
        assert_int_equal(mpnet_setsockopt(t->s, fd, level, name, &v, sizeof(v)), want);
}

static int getint(struct ts *t, int fd, int level, int name)
{
        int v = -1;
        socklen_t l = sizeof(v);

        assert_int_equal(mpnet_getsockopt(t->s, fd, level, name, &v, &l), 0);
        return v;
}

static struct mpnet_tcp_info info(struct ts *t, int fd)
{
        struct mpnet_tcp_info i;
        socklen_t l = sizeof(i);

        memset(&i, 0xee, sizeof(i));
        assert_int_equal(mpnet_getsockopt(t->s, fd, IPPROTO_TCP, MPNET_TCP_INFO, &i, &l), 0);
        assert_int_equal(l, sizeof(i));
        return i;
}

/* ---- keepalive ---- */

/* RFC 1122 4.2.3.6: after TCP_KEEPIDLE with nothing received a probe
 * SEG.SEQ = SND.NXT - 1 without data; an answer restarts the idle time;
 * TCP_KEEPCNT unanswered probes, TCP_KEEPINTVL apart, and the connection
 * is reset, the socket sees ETIMEDOUT. */
static void test_keepalive(void **state)
{
        struct ts *t = *state;
        struct k k;
        char b[16];

        estab(t, &k, false, 1000);
        assert_int_equal(getint(t, k.fd, SOL_SOCKET, SO_KEEPALIVE), 0);
        assert_int_equal(getint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPIDLE), 7200);
        assert_int_equal(getint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPINTVL), 75);
        assert_int_equal(getint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPCNT), 9);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPIDLE, 0, -EINVAL);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPCNT, 128, -EINVAL);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPIDLE, 10, 0);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPINTVL, 2, 0);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPCNT, 3, 0);
        /* Off: nothing however long it is idle. */
        ts_expect_none(t, 20000);
        setint(t, k.fd, SOL_SOCKET, SO_KEEPALIVE, 1, 0);
        assert_int_equal(getint(t, k.fd, SOL_SOCKET, SO_KEEPALIVE), 1);
        /* The idle time counts from the last segment received: already
         * past, a probe at once. The peer answers it. */
        expect(&k, 1, TH_A, 0, 1, 0, NULL);
        psend(&k, 1, 1, TH_A, 0);
        /* Data restarts it too. */
        ts_at(t, ts_now_ms(t) + 5000);
        psend(&k, 1, 1, TH_PA, 10);
        expect(&k, 1, TH_A, 1, 11, 0, NULL);
        assert_int_equal(mpnet_recvfrom(t->s, k.fd, b, sizeof(b), 0, NULL, NULL), 10);
        ts_expect_none(t, 9900);
        expect(&k, 200, TH_A, 0, 11, 0, NULL);
        /* No answer: two more, then the reset. */
        ts_expect_none(t, 1900);
        expect(&k, 200, TH_A, 0, 11, 0, NULL);
        ts_expect_none(t, 1900);
        expect(&k, 200, TH_A, 0, 11, 0, NULL);
        assert_int_equal(info(t, k.fd).probes, 3);
        ts_expect_none(t, 1900);
        expect(&k, 200, TH_RA, 1, 11, 0, NULL);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        assert_int_equal(ts_ctr(t, "tcp_ka_probe"), 4);
        assert_int_equal(ts_ctr(t, "tcp_ka_timeout"), 1);
        assert_int_equal(mpnet_recvfrom(t->s, k.fd, b, sizeof(b), 0, NULL, NULL), -ETIMEDOUT);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);
}

/* A listener's keepalive settings go to the connections it accepts; data
 * in flight holds the probes back (the retransmission timer watches). */
static void test_keepalive_inherited(void **state)
{
        struct ts *t = *state;
        struct k k;
        int lfd = listener(t, 4);

        setint(t, lfd, SOL_SOCKET, SO_KEEPALIVE, 1, 0);
        setint(t, lfd, IPPROTO_TCP, O_TCP_KEEPIDLE, 5, 0);
        setint(t, lfd, IPPROTO_TCP, O_TCP_KEEPINTVL, 1, 0);
        estab_f(t, &k, 4, true, 1000, TH_S, TH_SA, lfd);
        assert_int_equal(getint(t, k.fd, SOL_SOCKET, SO_KEEPALIVE), 1);
        assert_int_equal(getint(t, k.fd, IPPROTO_TCP, O_TCP_KEEPIDLE), 5);
        ts_expect_none(t, 4900);
        expect(&k, 200, TH_A, 0, 1, 0, NULL);
        psend(&k, 1, 1, TH_A, 0);
        ts_at(t, ts_now_ms(t) + 1000);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, NULL);
        /* Unacknowledged: RTOs, no probe (each retransmits the data). */
        for (int i = 0; i < 3; i++)
                expect(&k, 10000, TH_PA, 1, 1, 100, NULL);
        assert_int_equal(ts_ctr(t, "tcp_ka_probe"), 1);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, lfd);
}

/* ---- SO_LINGER ---- */

/* l_onoff with l_linger 0: close aborts, a reset at once and the
 * connection gone with its unsent data; a non-zero time: the orderly
 * close (no call blocks on the control thread). */
static void test_linger(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct linger l = {.l_onoff = 1, .l_linger = 0}, g;
        socklen_t gl = sizeof(g);

        estab(t, &k, false, 1000);
        assert_int_equal(mpnet_getsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER, &g, &gl), 0);
        assert_int_equal(g.l_onoff, 0);
        assert_int_equal(mpnet_setsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER, &l, 4), -EINVAL);
        assert_int_equal(mpnet_setsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
        assert_int_equal(mpnet_getsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER, &g, &gl), 0);
        assert_int_equal(gl, sizeof(g));
        assert_int_equal(g.l_onoff, 1);
        assert_int_equal(g.l_linger, 0);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, NULL);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_RA, 101, 1, 0, NULL);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        assert_int_equal(ts_ctr(t, "tcp_linger_abort"), 1);
        ts_expect_none(t, 5000);

        /* A linger time: the FIN, as without. */
        estab_f(t, &k, 4, false, 1000, TH_S, TH_SA, k.lfd);
        l.l_linger = 5;
        assert_int_equal(mpnet_setsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_FA, 1, 1, 0, NULL);
        assert_int_equal(conn_state(t), TCP_FIN_WAIT_1);
        assert_int_equal(ts_ctr(t, "tcp_linger_abort"), 1);
        mpnet_close(t->s, k.lfd);
}

/* A linger time and the peer silent: close returns at once (the control
 * thread never waits), the data and FIN are retransmitted, and when the
 * time passes with them unacknowledged the connection is reset (the BSDs'
 * close with SO_LINGER). */
static void test_linger_timeout(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct linger l = {.l_onoff = 1, .l_linger = 3};
        struct ts_seg g;
        uint64_t closed_ms;

        estab(t, &k, false, 1000);
        assert_int_equal(mpnet_setsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, NULL);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        closed_ms = ts_now_ms(t);
        expect(&k, 1, TH_FA, 101, 1, 0, NULL);
        assert_int_equal(conn_state(t), TCP_FIN_WAIT_1);
        /* Retransmissions until the reset (seq: past our FIN). */
        do {
                assert_true(ts_recv(t, 5000, &g));
        } while (!(g.flags & TH_R));
        assert_int_equal(g.seq, 102);
        assert_true(ts_now_ms(t) >= closed_ms + 3000);
        assert_true(ts_now_ms(t) <= closed_ms + 3000 + 10);
        assert_int_equal(conn_state(t), TCP_CLOSED);
        assert_int_equal(ts_ctr(t, "tcp_linger_abort"), 1);
        ts_expect_none(t, 5000);
        mpnet_close(t->s, k.lfd);
}

/* A linger time and the peer acknowledging data and FIN in time: the
 * orderly close, no reset when the time passes. */
static void test_linger_acked(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct linger l = {.l_onoff = 1, .l_linger = 2};

        estab(t, &k, false, 1000);
        assert_int_equal(mpnet_setsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, NULL);
        assert_int_equal(mpnet_close(t->s, k.fd), 0);
        expect(&k, 1, TH_FA, 101, 1, 0, NULL);
        ts_at(t, ts_now_ms(t) + 500);
        psend(&k, 1, 102, TH_A, 0);
        assert_int_equal(conn_state(t), TCP_FIN_WAIT_2);
        ts_at(t, ts_now_ms(t) + 3000);
        assert_int_equal(ts_ctr(t, "tcp_linger_abort"), 0);
        /* The peer's FIN: TIME_WAIT, as without a linger time. */
        psend(&k, 1, 102, TH_FA, 0);
        expect(&k, 1, TH_A, 102, 2, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        assert_int_equal(ts_ctr(t, "tcp_linger_abort"), 0);
        mpnet_close(t->s, k.lfd);
}

/* ---- TCP_CORK ---- */

/* Corked, a short segment waits for more data (a full MSS goes) or the
 * 200 ms ceiling; uncorking sends what is held at once. */
static void test_cork(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false, 1000);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_CORK, 1, 0);
        assert_int_equal(getint(t, k.fd, IPPROTO_TCP, O_TCP_CORK), 1);
        assert_int_equal(wr(t, k.fd, 300), 300);
        ts_expect_none(t, 150);
        expect(&k, 100, TH_PA, 1, 1, 300, NULL);
        assert_int_equal(ts_ctr(t, "tcp_cork_flush"), 1);
        psend(&k, 1, 301, TH_A, 0);
        assert_int_equal(wr(t, k.fd, 1100), 1100);
        expect(&k, 1, TH_PA, 301, 1, 1000, NULL);
        ts_expect_none(t, 100);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_CORK, 0, 0);
        expect(&k, 1, TH_PA, 1301, 1, 100, NULL);
        assert_int_equal(ts_ctr(t, "tcp_cork_flush"), 1);
        /* Setting TCP_NODELAY pushes what the cork holds (as Linux). */
        psend(&k, 1, 1401, TH_A, 0);
        setint(t, k.fd, IPPROTO_TCP, O_TCP_CORK, 1, 0);
        assert_int_equal(wr(t, k.fd, 50), 50);
        ts_expect_none(t, 50);
        setint(t, k.fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, 1, 0);
        expect(&k, 1, TH_PA, 1401, 1, 50, NULL);
        mpnet_close(t->s, k.lfd);
}

/* ---- MPNET_TCP_INFO ---- */

static void test_info(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct mpnet_tcp_info i;
        uint8_t part[4];
        socklen_t l = sizeof(part);
        int fd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

        i = info(t, fd);
        assert_int_equal(i.state, MPNET_TCP_ST_CLOSED);
        assert_int_equal(i.snd_cwnd, 0);
        estab(t, &k, true, 1000);
        assert_int_equal(info(t, k.lfd).state, MPNET_TCP_ST_LISTEN);
        i = info(t, k.fd);
        assert_int_equal(i.state, MPNET_TCP_ST_ESTABLISHED);
        assert_int_equal(i.options, MPNET_TCPI_OPT_TIMESTAMPS);
        assert_int_equal(i.snd_mss, 988); /* 1000 less the timestamps (RFC 6691) */
        assert_int_equal(i.rcv_mss, 1460);
        assert_int_equal(i.rtt_us, 0);
        assert_int_equal(i.rto_us, 1000000);
        assert_int_equal(i.snd_cwnd, 10 * 988);
        assert_int_equal(i.snd_ssthresh, UINT32_MAX);
        assert_int_equal(wr(t, k.fd, 500), 500);
        expect(&k, 1, TH_PA, 1, 1, 500, NULL);
        assert_int_equal(info(t, k.fd).unacked, 500);
        ts_at(t, ts_now_ms(t) + 30);
        psend(&k, 1, 501, TH_PA, 200);
        expect(&k, 1, TH_A, 501, 201, 0, NULL);
        i = info(t, k.fd);
        assert_int_equal(i.rtt_us, 30000);
        assert_int_equal(i.rttvar_us, 15000);
        assert_int_equal(i.unacked, 0);
        assert_int_equal(i.bytes_acked, 500);
        assert_int_equal(i.bytes_received, 200);
        assert_int_equal(i.rcv_buf, 200);
        assert_int_equal(i.total_retrans, 0);
        /* A retransmission on RTO. */
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 501, 201, 100, NULL);
        expect(&k, 2000, TH_PA, 501, 201, 100, NULL);
        i = info(t, k.fd);
        assert_int_equal(i.total_retrans, 1);
        assert_int_equal(i.backoff, 1);
        assert_int_equal(i.snd_cwnd, 988);
        /* A short buffer takes the start of the struct. */
        assert_int_equal(mpnet_getsockopt(t->s, k.fd, IPPROTO_TCP, MPNET_TCP_INFO, part, &l), 0);
        assert_int_equal(l, 4);
        assert_int_equal(part[0], MPNET_TCP_ST_ESTABLISHED);
        mpnet_close(t->s, fd);
        mpnet_close(t->s, k.lfd);
}

/* ---- ECN ---- */

/* The peer sends n bytes in an IPv4 frame whose ECN field is ecn. */
static void psend_ecn(struct k *k, uint32_t seq, uint32_t ack, uint16_t flags, uint32_t n,
                      uint8_t ecn)
{
        uint8_t b[TS_DATA_MAX],
            f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX + TS_DATA_MAX];
        size_t len;

        memset(b, 'e', n);
        len = ts_build(k->t,
                       &(struct ts_seg){.fam = 4,
                                        .sport = 40000,
                                        .dport = 8080,
                                        .seq = seq,
                                        .ack = ack,
                                        .flags = flags,
                                        .data = b,
                                        .len = n},
                       f);
        f[MPNET_ETH_HLEN + 1] = ecn;
        ts_fix_ip4(f, len);
        ts_send_frame(k->t, f, len);
}

/* RFC 3168 6.1.1: an ECN-setup SYN gets an ECN-setup SYN-ACK (ECE, not
 * CWR) in the default mode; new data goes ECT(0), pure ACKs not-ECT; a CE
 * is echoed with ECE until the peer's CWR; the peer's ECE reduces cwnd
 * once a window and our next new data carries CWR. */
static void test_ecn(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct ts_seg g;
        struct mpnet_tcp_info i;

        estab_f(t, &k, 4, false, 1000, TH_S | MPNET_TCP_ECE | MPNET_TCP_CWR, TH_SA | MPNET_TCP_ECE,
                -1);
        assert_int_equal(info(t, k.fd).options, MPNET_TCPI_OPT_ECN);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, &g);
        assert_int_equal(g.tos & 3, 2);
        /* CE: the ACK says ECE, and so do later ones. */
        psend_ecn(&k, 1, 101, TH_PA, 10, 3);
        expect(&k, 1, TH_A | MPNET_TCP_ECE, 101, 11, 0, &g);
        assert_int_equal(g.tos & 3, 0);
        assert_int_equal(ts_ctr(t, "tcp_ecn_ce"), 1);
        psend_ecn(&k, 11, 101, TH_PA, 10, 2);
        expect(&k, 1, TH_A | MPNET_TCP_ECE, 101, 21, 0, NULL);
        /* The peer's CWR ends the echo. */
        psend_ecn(&k, 21, 101, TH_PA | MPNET_TCP_CWR, 10, 2);
        expect(&k, 1, TH_A, 101, 31, 0, NULL);
        /* The peer's ECE: cwnd as after a loss, once a window. */
        assert_int_equal(wr(t, k.fd, 3000), 3000);
        for (uint32_t s = 101; s < 3101; s += 1000)
                expect(&k, 1, TH_PA, s, 31, 1000, NULL);
        psend_ecn(&k, 31, 1101, TH_A | MPNET_TCP_ECE, 0, 0);
        psend_ecn(&k, 31, 2101, TH_A | MPNET_TCP_ECE, 0, 0);
        assert_int_equal(ts_ctr(t, "tcp_ecn_reduce"), 1);
        i = info(t, k.fd);
        assert_true(i.snd_ssthresh < UINT32_MAX);
        assert_true(i.snd_cwnd < 10 * 1000);
        assert_int_equal(wr(t, k.fd, 10), 10);
        psend_ecn(&k, 31, 3101, TH_A, 0, 0);
        expect(&k, 1, TH_PA | MPNET_TCP_CWR, 3101, 31, 10, &g);
        assert_int_equal(g.tos & 3, 2);
        /* A window later, another ECE reduces again. */
        assert_int_equal(wr(t, k.fd, 10), 10);
        psend_ecn(&k, 31, 3111, TH_A | MPNET_TCP_ECE, 0, 0);
        expect(&k, 1, TH_PA | MPNET_TCP_CWR, 3111, 31, 10, NULL);
        assert_int_equal(ts_ctr(t, "tcp_ecn_reduce"), 2);
        mpnet_close(t->s, k.lfd);
}

/* Mode 0: an ECN-setup SYN is answered without ECE and data is not-ECT;
 * mode 1: connect() sends an ECN-setup SYN and an ECN-setup SYN-ACK
 * turns it on. */
static void test_ecn_modes(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct ts_seg g, syn;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
        int fd;

        assert_int_equal(mpnet_tcp_set_ecn(t->s, 3), -EINVAL);
        assert_int_equal(mpnet_tcp_set_ecn(t->s, MPNET_TCP_ECN_OFF), 0);
        estab_f(t, &k, 4, false, 1000, TH_S | MPNET_TCP_ECE | MPNET_TCP_CWR, TH_SA, -1);
        assert_int_equal(info(t, k.fd).options, 0);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, &g);
        assert_int_equal(g.tos & 3, 0);
        mpnet_close(t->s, k.lfd);

        assert_int_equal(mpnet_tcp_set_ecn(t->s, MPNET_TCP_ECN_ON), 0);
        fd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        a.sin_addr.s_addr = htonl(TS_PEER4);
        t->stack_isn_known = false;
        assert_int_equal(mpnet_connect(t->s, fd, (struct sockaddr *)&a, sizeof(a)), -EINPROGRESS);
        assert_true(ts_recv(t, 1, &syn));
        assert_int_equal(syn.flags, TH_S | MPNET_TCP_ECE | MPNET_TCP_CWR);
        ts_send(t, &(struct ts_seg){.fam = 4,
                                    .sport = 80,
                                    .dport = syn.sport,
                                    .ack = 1,
                                    .flags = TH_SA | MPNET_TCP_ECE,
                                    .opts = {.present = MPNET_TCPO_MSS, .mss = 1000}});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(info(t, fd).options, MPNET_TCPI_OPT_ECN);
        assert_int_equal(wr(t, fd, 10), 10);
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_PA, .seq = 1, .ack = 1, .len = 10}, &g);
        assert_int_equal(g.tos & 3, 2);
        mpnet_close(t->s, fd);
}

/* ---- path MTU ---- */

/* An ICMP error from the peer's side about our segment seq (absolute)
 * of the connection k: fragmentation needed (IPv4) or packet too big
 * (IPv6) with next-hop MTU mtu. */
static void icmp_big(struct ts *t, int fam, uint16_t lport, uint16_t rport, uint32_t seq,
                     uint32_t mtu)
{
        uint8_t f[256], q[68];
        struct mpnet_eth_repr eth = {.ethertype =
                                         fam == 4 ? MPNET_ETHERTYPE_IPV4 : MPNET_ETHERTYPE_IPV6};
        size_t qn, n;

        memcpy(eth.dst, t->smac, 6);
        memcpy(eth.src, t->pmac, 6);
        mpnet_eth_repr_emit(&eth, f);
        if (fam == 4) {
                struct mpnet_ip4_repr qip = {.src = TS_US4,
                                             .dst = TS_PEER4,
                                             .ttl = 64,
                                             .df = true,
                                             .proto = MPNET_IPPROTO_TCP,
                                             .payload_len = 1480};
                struct mpnet_ip4_repr ip = {
                    .src = TS_PEER4, .dst = TS_US4, .ttl = 64, .proto = MPNET_IPPROTO_ICMP};
                struct mpnet_icmp4_repr r = {
                    .type = MPNET_ICMP4_DEST_UNREACH, .code = 4, .rest = mtu & 0xffff};

                mpnet_ip4_repr_emit(&qip, q);
                qn = 20;
                mpnet_put_be16(q + qn, lport);
                mpnet_put_be16(q + qn + 2, rport);
                mpnet_put_be32(q + qn + 4, seq);
                qn += 8;
                ip.payload_len = (uint16_t)(MPNET_ICMP4_HLEN + qn);
                mpnet_ip4_repr_emit(&ip, f + 14);
                memcpy(f + 34 + MPNET_ICMP4_HLEN, q, qn);
                r.data = f + 34 + MPNET_ICMP4_HLEN;
                r.data_len = qn;
                mpnet_icmp4_repr_emit(&r, f + 34);
                n = 34 + MPNET_ICMP4_HLEN + qn;
        } else {
                struct mpnet_ip6_repr qip = {
                    .next_header = MPNET_IPPROTO_TCP, .hop_limit = 64, .payload_len = 1440};
                struct mpnet_ip6_repr ip = {.next_header = MPNET_IPPROTO_ICMPV6, .hop_limit = 64};
                struct mpnet_icmp6_repr r = {.type = MPNET_ICMP6_PACKET_TOO_BIG, .rest = mtu};
                uint8_t *qq = f + 54 + MPNET_ICMP6_HLEN;

                memcpy(qip.src, t->us6, 16);
                memcpy(qip.dst, t->peer6, 16);
                mpnet_ip6_repr_emit(&qip, qq);
                mpnet_put_be16(qq + 40, lport);
                mpnet_put_be16(qq + 42, rport);
                mpnet_put_be32(qq + 44, seq);
                memset(qq + 48, 0, 20);
                qn = 68;
                memcpy(ip.src, t->peer6, 16);
                memcpy(ip.dst, t->us6, 16);
                ip.payload_len = (uint16_t)(MPNET_ICMP6_HLEN + qn);
                mpnet_ip6_repr_emit(&ip, f + 14);
                r.data = qq;
                r.data_len = qn;
                mpnet_icmp6_repr_emit(&r, ip.src, ip.dst, f + 54);
                n = 54 + MPNET_ICMP6_HLEN + qn;
        }
        ts_send_frame(t, f, n);
}

/* RFC 1191 / 8201: a frag-needed or packet-too-big quoting a sequence
 * number in flight lowers the MSS (not below 536 / 1220) and the data
 * goes again from SND.UNA in the smaller size; one quoting a number
 * outside SND.UNA..SND.NXT is dropped (RFC 5927 4.1). */
static void pmtu_case(struct ts *t, int fam)
{
        struct k k;
        struct ts_seg g;
        uint32_t isn;
        uint16_t big = fam == 4 ? 1460 : 1440;
        uint16_t floor = fam == 4 ? 536 : 1220;

        estab_f(t, &k, fam, false, big, TH_S, TH_SA, -1);
        isn = t->stack_isn;
        assert_int_equal(wr(t, k.fd, 3000), 3000);
        expect(&k, 1, TH_PA, 1, 1, big, NULL);
        expect(&k, 1, TH_PA, 1 + big, 1, big, NULL);
        expect(&k, 1, TH_PA, 1 + 2u * big, 1, 3000 - 2u * big, NULL);
        /* Outside the window: nothing moves. */
        icmp_big(t, fam, 8080, 40000, isn + 1 + 3000, 1300);
        icmp_big(t, fam, 8080, 40000, isn, 1300);
        assert_int_equal(ts_ctr(t, "tcp_pmtu_bad"), 2);
        assert_int_equal(info(t, k.fd).snd_mss, big);
        ts_expect_none(t, 100);
        icmp_big(t, fam, 8080, 40000, isn + 1, 1300);
        assert_int_equal(ts_ctr(t, "tcp_pmtu_lower"), 1);
        assert_int_equal(info(t, k.fd).snd_mss, 1300 - (fam == 4 ? 40 : 60));
        expect(&k, 1, TH_PA, 1, 1, 1300 - (fam == 4 ? 40 : 60), NULL);
        link_drain(t->lb); /* the rest, resent in the new size */
        /* Below the floor: the floor. */
        icmp_big(t, fam, 8080, 40000, isn + 1, 300);
        assert_int_equal(info(t, k.fd).snd_mss, floor);
        expect(&k, 1, TH_PA, 1, 1, floor, NULL);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_pmtu_lower"), 2);
        /* The path MTU cache took the errors (RFC 1191 6.3): a new
         * connection there starts with the small MSS. */
        assert_int_equal(mpnet_setsockopt(t->s, k.fd, SOL_SOCKET, SO_LINGER,
                                          &(struct linger){.l_onoff = 1, .l_linger = 0},
                                          sizeof(struct linger)),
                         0);
        mpnet_close(t->s, k.fd);
        assert_true(ts_recv(t, 1, &g));
        assert_int_equal(g.flags, TH_RA);
        estab_f(t, &k, fam, false, big, TH_S, TH_SA, k.lfd);
        assert_int_equal(info(t, k.fd).snd_mss, floor);
        mpnet_close(t->s, k.lfd);
}

static void test_pmtu4(void **state)
{
        pmtu_case(*state, 4);
}

static void test_pmtu6(void **state)
{
        pmtu_case(*state, 6);
}

/* A packet too big for our SYN (SYN_SENT): the path MTU cache takes it,
 * and the connection starts with its MSS whatever the peer offers. */
static void test_pmtu_syn(void **state)
{
        struct ts *t = *state;
        struct ts_seg syn;
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
        int fd = mpnet_socket(t->s, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

        memcpy(&a.sin6_addr, t->peer6, 16);
        t->fam = 6;
        assert_int_equal(mpnet_connect(t->s, fd, (struct sockaddr *)&a, sizeof(a)), -EINPROGRESS);
        assert_true(ts_recv(t, 1, &syn));
        assert_int_equal(syn.flags, TH_S);
        icmp_big(t, 6, syn.sport, 80, t->stack_isn - 1, 1400);
        assert_int_equal(ts_ctr(t, "tcp_pmtu_bad"), 1);
        icmp_big(t, 6, syn.sport, 80, t->stack_isn, 1400);
        assert_int_equal(ts_ctr(t, "tcp_pmtu_bad"), 1);
        assert_int_equal(ts_ctr(t, "tcp_pmtu_lower"), 1);
        ts_send(t, &(struct ts_seg){.fam = 6,
                                    .sport = 80,
                                    .dport = syn.sport,
                                    .ack = 1,
                                    .flags = TH_SA,
                                    .opts = {.present = MPNET_TCPO_MSS, .mss = 1440}});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_A, .seq = 1, .ack = 1}, NULL);
        assert_int_equal(info(t, fd).snd_mss, 1400 - 60);
        mpnet_close(t->s, fd);
}

/* RFC 4821's idea: full-size segments time out again and again (an ICMP
 * black hole): at the third timeout in a row the MSS halves. */
static void test_blackhole(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false, 1460);
        assert_int_equal(wr(t, k.fd, 2920), 2920);
        expect(&k, 1, TH_PA, 1, 1, 1460, NULL);
        expect(&k, 1, TH_PA, 1461, 1, 1460, NULL);
        expect(&k, 1100, TH_PA, 1, 1, 1460, NULL);
        expect(&k, 2100, TH_PA, 1, 1, 1460, NULL);
        assert_int_equal(ts_ctr(t, "tcp_blackhole"), 0);
        expect(&k, 4100, TH_PA, 1, 1, 730, NULL);
        assert_int_equal(ts_ctr(t, "tcp_blackhole"), 1);
        psend(&k, 1, 731, TH_A, 0);
        expect(&k, 1, TH_PA, 731, 1, 730, NULL);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);
}

/* Short segments timing out say nothing of the MTU: the MSS stays. */
static void test_blackhole_small(void **state)
{
        struct ts *t = *state;
        struct k k;

        estab(t, &k, false, 1460);
        assert_int_equal(wr(t, k.fd, 100), 100);
        expect(&k, 1, TH_PA, 1, 1, 100, NULL);
        for (int i = 0; i < 4; i++)
                expect(&k, 20000, TH_PA, 1, 1, 100, NULL);
        assert_int_equal(ts_ctr(t, "tcp_rto"), 4);
        assert_int_equal(ts_ctr(t, "tcp_blackhole"), 0);
        assert_int_equal(info(t, k.fd).snd_mss, 1460);
        mpnet_close(t->s, k.fd);
        mpnet_close(t->s, k.lfd);
}

/* ---- TIME_WAIT reuse ---- */

/* Our close, the peer's FIN: TIME_WAIT with RCV.NXT = 2. */
static void to_time_wait(struct ts *t, struct k *k)
{
        assert_int_equal(mpnet_close(t->s, k->fd), 0);
        expect(k, 1, TH_FA, 1, 1, 0, NULL);
        psend(k, 1, 2, TH_FA, 0);
        expect(k, 1, TH_A, 2, 2, 0, NULL);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
}

/* RFC 6191: without timestamps a SYN above RCV.NXT reopens a TIME_WAIT
 * connection (the listener answers); one at or below it is dropped. */
static void test_tw_reuse_seq(void **state)
{
        struct ts *t = *state;
        struct k k;
        uint32_t old;

        estab(t, &k, false, 1000);
        to_time_wait(t, &k);
        ts_send(t,
                &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .seq = 2, .flags = TH_S});
        ts_expect_none(t, 100);
        assert_int_equal(ts_ctr(t, "tcp_tw_syn_drop"), 1);
        assert_int_equal(conn_state(t), TCP_TIME_WAIT);
        /* As if the old incarnation had sent a gigabyte: the new ISS
         * starts above its SND.NXT (RFC 1122 4.2.2.13), not at the clock. */
        old = conn_get(t)->snd_nxt += 0x40000000;
        t->peer_isn += 100000;
        t->stack_isn_known = false;
        ts_send(t,
                &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .seq = 0, .flags = TH_S});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_tw_reuse"), 1);
        assert_int_equal(conn_state(t), TCP_SYN_RECEIVED);
        assert_int_equal(t->stack_isn, old + 65537);
        /* Nothing left over for the next SYN to the listener. */
        assert_false(tcp_state_of(t->s)->tw_iss_on[0]);
        mpnet_close(t->s, k.lfd);
}

/* With timestamps on both, the SYN's TSval decides, whatever its
 * sequence number. */
static void test_tw_reuse_ts(void **state)
{
        struct ts *t = *state;
        struct k k;
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_TS};

        estab(t, &k, true, 1000);
        to_time_wait(t, &k);
        o.ts_val = k.tsv; /* not newer */
        t->peer_isn += 100000;
        ts_send(
            t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S, .opts = o});
        ts_expect_none(t, 100);
        assert_int_equal(ts_ctr(t, "tcp_tw_syn_drop"), 1);
        t->peer_isn -= 200000; /* an older sequence number, a newer TSval */
        t->stack_isn_known = false;
        o.ts_val = k.tsv + 1;
        ts_send(
            t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S, .opts = o});
        ts_expect(t, 1, &(struct ts_seg){.flags = TH_SA, .seq = 0, .ack = 1}, NULL);
        assert_int_equal(ts_ctr(t, "tcp_tw_reuse"), 1);
        mpnet_close(t->s, k.lfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_keepalive, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_keepalive_inherited, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_linger, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_linger_timeout, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_linger_acked, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cork, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_info, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_ecn, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_ecn_modes, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_pmtu4, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_pmtu6, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_pmtu_syn, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_blackhole, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_blackhole_small, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_tw_reuse_seq, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_tw_reuse_ts, setup, ts_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
