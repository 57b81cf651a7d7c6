/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A SYN flood and an ACK flood at a listener (tcpscript.h, virtual clock):
 * 20,000 SYNs from random sources in 198.18.0.0/15 (routed through the
 * peer) at a listener with backlog 8. The stack's state stays within the
 * SYN queue and the accept queue (SYN cookies answer the rest), a
 * legitimate connection opened in the middle of it is accepted, and
 * 20,000 forged ACKs make nothing; past the full queue each SYN's own
 * buffer carries its SYN-ACK. With a cookie limit (the default budget or
 * one set), the SYNs past it are counted and dropped (on IPv4's and
 * IPv6's local delivery vector, before the rest of input, where they can
 * be), and a client whose SYN the limit dropped connects with a
 * retransmission.
 */
#include <arpa/inet.h>

#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "l4/tcp.h"
#include "tcpscript.h"

#define FLOOD   20000
#define BACKLOG 8

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
        rng ^= rng << 13; /* xorshift64: the same flood every run */
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)(rng >> 32);
}

static int setup(void **state)
{
        struct ts *t = ts_new();
        struct mpnet_route4 r = {
            .dst = IP4(198, 18, 0, 0), .plen = 15, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        struct mpnet_route6 r6 = {.plen = 48, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        r.paths[0].ifindex = 1;
        r.paths[0].gw = TS_PEER4;
        assert_int_equal(mpnet_route4_add(t->s, 0, &r), 0);
        /* The IPv6 flood's sources: 2001:db8:ff::/48, through the peer. */
        memcpy(r6.dst, A6("2001:db8:ff::"), 16);
        r6.paths[0].ifindex = 1;
        memcpy(r6.paths[0].gw, t->peer6, 16);
        assert_int_equal(mpnet_route6_add(t->s, 0, &r6), 0);
        *state = t;
        return 0;
}

static unsigned conns(struct ts *t)
{
        return tcp_state_of(t->s)->ct.n;
}

/* A segment from src (0: a random one of 198.18.0.0/15) and a random
 * port, built in f. @return its length. */
static size_t forged_frame(struct ts *t, uint16_t flags, uint32_t src, uint8_t *f)
{
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = 1460};
        size_t off = ts_tcp_off(4), n;

        if (src == 0)
                src = IP4(198, 18, 0, 0) | (rnd() & 0x1ffff);
        t->rel = false;
        n = ts_build(t,
                     &(struct ts_seg){.fam = 4,
                                      .sport = (uint16_t)(1024 + rnd() % 64000),
                                      .dport = 8080,
                                      .seq = rnd(),
                                      .ack = rnd(),
                                      .flags = flags,
                                      .opts = (flags & TH_S) ? o : (struct mpnet_tcp_opts){0}},
                     f);
        mpnet_put_be32(f + MPNET_ETH_HLEN + 12, src);
        ts_fix_ip4(f, n);
        f[off + 16] = f[off + 17] = 0;
        mpnet_tcp4_csum_set(f + off, n - off, src, TS_US4);
        return n;
}

static void send_forged(struct ts *t, uint16_t flags)
{
        uint8_t f[MPNET_ETH_HLEN + MPNET_IP4_HLEN + MPNET_TCP_HLEN_MAX];

        link_send(t->pool, t->lb, f, forged_frame(t, flags, 0, f));
}

static int listener(struct ts *t)
{
        int fd = mpnet_socket(t->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};

        assert_true(fd >= 0);
        assert_int_equal(mpnet_bind(t->s, fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_listen(t->s, fd, BACKLOG), 0);
        return fd;
}

/* The next segment the stack sent to 192.0.2.2 itself, past those to the
 * flood's sources (SYN-ACK retransmissions may be among them). */
static bool recv_legit(struct ts *t, struct ts_seg *g)
{
        struct mpnet_pkt *p;

        ts_settle(t);
        while (mpnet_link_rx_burst(t->lb, 0, &p, 1) == 1) {
                uint8_t f[MPNET_ETH_HLEN + MPNET_IP4_HLEN + MPNET_TCP_HLEN_MAX + TS_DATA_MAX];
                uint32_t n = p->pkt_len < sizeof(f) ? p->pkt_len : (uint32_t)sizeof(f);

                assert_int_equal(mpnet_pkt_read(p, 0, f, n), 0);
                mpnet_pkt_free(p);
                if (n >= MPNET_ETH_HLEN + MPNET_IP4_HLEN &&
                    mpnet_get_be16(f + 12) == MPNET_ETHERTYPE_IPV4 &&
                    mpnet_get_be32(f + MPNET_ETH_HLEN + 16) == TS_PEER4 && ts_parse(t, f, n, g))
                        return true;
        }
        return false;
}

/* The legitimate peer (192.0.2.2) connects in the middle of the flood:
 * a cookie SYN-ACK (the SYN queue is full), its ACK, accept(). */
static void legit_connect(struct ts *t, int lfd)
{
        struct ts_seg got;
        int fd;

        t->rel = true;
        t->stack_isn_known = false;
        link_drain(t->lb);
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S});
        assert_true(recv_legit(t, &got));
        assert_int_equal(got.flags, TH_SA);
        assert_int_equal(got.ack, 1);
        assert_int_equal(got.dport, 40000);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        fd = mpnet_accept(t->s, lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        /* close() sends a FIN now (l4/tcp_data.c); the peer resets, so no
         * orphan is left to retransmit it. */
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_R});
        link_drain(t->lb);
}

static void test_syn_flood(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t);
        unsigned most = 0;

        ts_at(t, 100);
        for (unsigned i = 0; i < FLOOD; i++) {
                send_forged(t, TH_S);
                if (i % 32 == 31) {
                        ts_settle(t);
                        link_drain(t->lb);
                        if (conns(t) > most)
                                most = conns(t);
                }
                if (i == FLOOD / 2)
                        legit_connect(t, lfd);
                if (i % 1000 == 999) /* time passes: embryos retransmit, expire */
                        ts_at(t, ts_now_ms(t) + 500);
        }
        ts_settle(t);
        link_drain(t->lb);
        fprintf(stderr, "most %u syn_in %llu cookies %llu rst_limited %llu\n", most,
                (unsigned long long)ts_ctr(t, "tcp_syn_in"),
                (unsigned long long)ts_ctr(t, "tcp_cookie_sent"),
                (unsigned long long)ts_ctr(t, "tcp_rst_limited"));
        assert_true(most <= 2 * BACKLOG);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 1);
        assert_int_equal(ts_ctr(t, "tcp_accepted"), 1);
        /* Every SYN was either an embryo or a cookie (a random port may
         * repeat one of the few embryos' tuples). */
        assert_true(ts_ctr(t, "tcp_syn_in") + ts_ctr(t, "tcp_cookie_sent") >= FLOOD - 16);
        assert_true(ts_ctr(t, "tcp_cookie_sent") >= FLOOD - 200);
        assert_true(mpnet_pool_in_use(t->pool) < 64);
        /* The embryos give up; nothing is left. */
        ts_at(t, ts_now_ms(t) + 200 * 1000);
        link_drain(t->lb);
        assert_int_equal(conns(t), 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* Past a full SYN queue each SYN is answered in its own buffer (l4/
 * tcp_listen.c): the SYN-ACK to source i is the buffer of SYN i, a valid
 * cookie SYN-ACK to that source, and the pool holds no more than before. */
#define TURN 64
static void test_syn_turned(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t);
        struct mpnet_pkt *sent[TURN], *p;
        uint64_t ck = 0;
        unsigned got = 0, in_use;

        ts_at(t, 100);
        for (unsigned i = 0; i < BACKLOG; i++)
                send_forged(t, TH_S);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(conns(t), BACKLOG);
        in_use = mpnet_pool_in_use(t->pool);
        ck = ts_ctr(t, "tcp_cookie_sent");
        for (unsigned i = 0; i < TURN; i++) {
                uint8_t f[MPNET_ETH_HLEN + MPNET_IP4_HLEN + MPNET_TCP_HLEN_MAX];
                size_t n = forged_frame(t, TH_S, IP4(198, 19, 1, 0) + i, f);

                sent[i] = mpnet_pkt_from_bytes(t->pool, f, (uint32_t)n);
                assert_non_null(sent[i]);
                assert_int_equal(mpnet_link_tx_burst(t->lb, 0, &sent[i], 1), 1);
        }
        ts_settle(t);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent") - ck, TURN);
        while (mpnet_link_rx_burst(t->lb, 0, &p, 1) == 1) {
                const uint8_t *ip = p->data + MPNET_ETH_HLEN;
                uint32_t dst = mpnet_get_be32(ip + 16), i = dst - IP4(198, 19, 1, 0);
                struct mpnet_tcp_view v;

                assert_true(i < TURN);
                assert_ptr_equal(p, sent[i]);
                assert_int_equal(mpnet_tcp_view_check(ip + MPNET_IP4_HLEN,
                                                      p->len - MPNET_ETH_HLEN - MPNET_IP4_HLEN, &v),
                                 0);
                assert_int_equal(mpnet_tcp4_csum_check(&v, TS_US4, dst), 0);
                assert_int_equal(mpnet_tcp_flags(&v), TH_SA);
                mpnet_pkt_free(p);
                got++;
        }
        assert_int_equal(got, TURN);
        assert_int_equal(conns(t), BACKLOG);
        assert_int_equal(mpnet_pool_in_use(t->pool), in_use);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* Forged ACKs at the listener while cookies are in play: each checked and
 * found bad, none makes state; the resets are held to the limit. */
static void test_ack_flood(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t);

        assert_int_equal(mpnet_tcp_set_syncookies(t->s, MPNET_TCP_SYNCOOKIES_ALWAYS), 0);
        ts_at(t, 100);
        for (unsigned i = 0; i < FLOOD; i++) {
                send_forged(t, TH_A);
                if (i % 32 == 31) {
                        ts_settle(t);
                        link_drain(t->lb);
                        assert_int_equal(conns(t), 0);
                }
        }
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_bad"), FLOOD);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 0);
        /* The default 200 a second, burst 200, over a few ms of virtual
         * time: nearly all held back. */
        assert_true(ts_ctr(t, "tcp_rst_limited") >= FLOOD - 400);
        assert_int_equal(conns(t), 0);
        assert_int_equal(mpnet_accept(t->s, lfd, NULL, NULL, 0), -EAGAIN);
        assert_true(mpnet_pool_in_use(t->pool) < 64);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* A cookie limit (mpnet_tcp_set_cookie_limit): past the full SYN queue at
 * most burst + rate x time cookies go out, the rest are counted drops
 * that keep nothing; a client whose SYN came while the flood had emptied
 * the bucket gets no answer, and its retransmission a second later (RFC
 * 6298 5.5's first RTO), with the flood going on below the limit,
 * connects. */
#define LIM_RATE  1000
#define LIM_BURST 100
static void test_cookie_limit(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t), fd;
        unsigned most = 0;
        uint64_t lim, sent;
        struct ts_seg got;

        assert_int_equal(mpnet_tcp_set_cookie_limit(t->s, 1, 0), -EINVAL);
        assert_int_equal(mpnet_tcp_set_cookie_limit(t->s, LIM_RATE, LIM_BURST), 0);
        ts_at(t, 100);
        /* 20,000 SYNs in 2 s of virtual time: ten times the limit. */
        for (unsigned i = 0; i < FLOOD; i++) {
                send_forged(t, TH_S);
                if (i % 32 == 31) {
                        ts_settle(t);
                        link_drain(t->lb);
                        if (conns(t) > most)
                                most = conns(t);
                }
                if (i % 1000 == 999)
                        ts_at(t, ts_now_ms(t) + 100);
        }
        ts_settle(t);
        link_drain(t->lb);
        sent = ts_ctr(t, "tcp_cookie_sent");
        lim = ts_ctr(t, "tcp_cookie_limited");
        fprintf(stderr, "most %u syn_in %llu cookies %llu limited %llu\n", most,
                (unsigned long long)ts_ctr(t, "tcp_syn_in"), (unsigned long long)sent,
                (unsigned long long)lim);
        /* About 2 s at 1000 a second, the burst first; a few embryos expire
         * and free SYN queue places meanwhile. */
        assert_true(sent <= LIM_BURST + 2 * LIM_RATE + 50);
        assert_true(sent >= 2 * LIM_RATE - 200);
        assert_true(ts_ctr(t, "tcp_syn_in") + sent + lim >= FLOOD - 16);
        assert_true(most <= 2 * BACKLOG);
        assert_true(mpnet_pool_in_use(t->pool) < 64);

        /* The loop's last step refilled the bucket: the flood empties it,
         * and the client's SYN is dropped, unanswered. */
        for (unsigned i = 0; i < 2 * LIM_BURST; i++)
                send_forged(t, TH_S);
        ts_settle(t);
        link_drain(t->lb);
        lim = ts_ctr(t, "tcp_cookie_limited");
        t->rel = true;
        t->stack_isn_known = false;
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S});
        assert_false(recv_legit(t, &got));
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), lim + 1);
        /* A second of a flood below the limit (5 SYNs every 10 ms), then
         * the client's retransmission: a cookie SYN-ACK, its ACK, accept(). */
        for (unsigned k = 0; k < 100; k++) {
                ts_at(t, ts_now_ms(t) + 10);
                for (unsigned i = 0; i < 5; i++)
                        send_forged(t, TH_S);
                ts_settle(t);
                link_drain(t->lb);
        }
        t->rel = true;
        ts_send(t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S});
        assert_true(recv_legit(t, &got));
        assert_int_equal(got.flags, TH_SA);
        assert_int_equal(got.ack, 1);
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        fd = mpnet_accept(t->s, lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 1);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_R});
        link_drain(t->lb);
        /* The embryos give up; nothing is left. */
        ts_at(t, ts_now_ms(t) + 200 * 1000);
        link_drain(t->lb);
        assert_int_equal(conns(t), 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* The limit takes nothing from the SYN queue: SYNs it has room for are
 * answered from an embryo even with the limit at its least. */
static void test_cookie_limit_queue(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t);

        assert_int_equal(mpnet_tcp_set_cookie_limit(t->s, 1, 1), 0);
        ts_at(t, 100);
        for (unsigned i = 0; i < BACKLOG; i++)
                send_forged(t, TH_S);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_syn_in"), BACKLOG);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 0);
        /* Past the queue: one cookie (the burst), then drops. */
        for (unsigned i = 0; i < 10; i++)
                send_forged(t, TH_S);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 9);
        /* Forged ACKs are not SYNs: checked as cookies, never limited. */
        send_forged(t, TH_A);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 9);
        assert_int_equal(ts_ctr(t, "tcp_cookie_bad"), 1);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* The first frame the stack sent to IPv4 address dst, copied to f (the
 * others are dropped). @return its length, 0 for none. */
static size_t frame_to(struct ts *t, uint32_t dst, uint8_t *f, size_t cap)
{
        struct mpnet_pkt *p;
        size_t got = 0;

        ts_settle(t);
        while (mpnet_link_rx_burst(t->lb, 0, &p, 1) == 1) {
                uint32_t n = p->pkt_len < cap ? p->pkt_len : (uint32_t)cap;

                if (got == 0 && n >= MPNET_ETH_HLEN + MPNET_IP4_HLEN) {
                        assert_int_equal(mpnet_pkt_read(p, 0, f, n), 0);
                        if (mpnet_get_be16(f + 12) == MPNET_ETHERTYPE_IPV4 &&
                            mpnet_get_be32(f + MPNET_ETH_HLEN + 16) == dst)
                                got = n;
                }
                mpnet_pkt_free(p);
        }
        return got;
}

/* The cookie limit's drops on IPv4 local delivery's vector (l4/tcp.c,
 * tcp4_shed): of a vector of SYNs past a full SYN queue, as many go on as
 * the bucket has tokens, answered byte for byte as without the limit;
 * the rest are dropped there, counted as limited and as shed. A SYN of
 * a connection (an embryo's, again) passes whatever the bucket holds;
 * with a raw socket on TCP the vector is not shed (the socket sees every
 * SYN first) and tcp_input() limits as before. */
static void test_cookie_shed(void **state)
{
        enum { FMAX = MPNET_ETH_HLEN + MPNET_IP4_HLEN + MPNET_TCP_HLEN_MAX };
        struct ts *t = *state;
        int lfd = listener(t), raw;
        uint8_t emb[FMAX], syn[FMAX], a[FMAX], b[FMAX];
        size_t nemb, nsyn, na, nb, off = ts_tcp_off(4);
        uint32_t src = IP4(198, 18, 9, 9), esrc = IP4(198, 18, 7, 7);

        ts_at(t, 100);
        nemb = forged_frame(t, TH_S, esrc, emb);
        link_send(t->pool, t->lb, emb, nemb);
        for (unsigned i = 1; i < BACKLOG; i++)
                send_forged(t, TH_S);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_syn_in"), BACKLOG);
        /* No limit: a cookie answers syn. */
        nsyn = forged_frame(t, TH_S, src, syn);
        link_send(t->pool, t->lb, syn, nsyn);
        na = frame_to(t, src, a, sizeof(a));
        assert_true(na > off);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1);
        /* Burst 3, at the same time: syn and 9 more in one vector; syn and
         * the next two take the tokens, seven are shed. */
        assert_int_equal(mpnet_tcp_set_cookie_limit(t->s, 1, 3), 0);
        link_send(t->pool, t->lb, syn, nsyn);
        for (unsigned i = 0; i < 9; i++)
                send_forged(t, TH_S);
        nb = frame_to(t, src, b, sizeof(b));
        assert_int_equal(nb, na);
        assert_memory_equal(a + off, b + off, na - off);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1 + 3);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7);
        assert_int_equal(ts_ctr(t, "tcp_cookie_shed"), 7);
        /* The embryo's SYN again, the bucket empty: its embryo answers. */
        link_send(t->pool, t->lb, emb, nemb);
        assert_true(frame_to(t, esrc, b, sizeof(b)) > off);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7);
        /* A raw socket on TCP: no shed, the same drops from tcp_input(). */
        raw = mpnet_socket(t->s, AF_INET, SOCK_RAW, MPNET_IPPROTO_TCP);
        assert_true(raw >= 0);
        for (unsigned i = 0; i < 5; i++)
                send_forged(t, TH_S);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7 + 5);
        assert_int_equal(ts_ctr(t, "tcp_cookie_shed"), 7);
        assert_int_equal(mpnet_close(t->s, raw), 0);
        /* Without it, shed again; a second later one token. */
        ts_at(t, ts_now_ms(t) + 1000);
        for (unsigned i = 0; i < 5; i++)
                send_forged(t, TH_S);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1 + 3 + 1);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7 + 5 + 4);
        assert_int_equal(ts_ctr(t, "tcp_cookie_shed"), 7 + 4);
        assert_true(mpnet_pool_in_use(t->pool) < 64);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* The default budget, with no call (MPNET_TCP_COOKIE_RATE_DEFAULT cookies a
 * second, a burst of MPNET_TCP_COOKIE_BURST_DEFAULT, per listener): past
 * the full SYN queue, 40,000 SYNs in one second of virtual time (four
 * times the rate) get at most burst + rate x time cookies, the rest are
 * shed and counted and keep nothing. Turned off (rate 0), every SYN gets
 * its cookie again; set back, the shed drops again. */
#define DEF_RATE  MPNET_TCP_COOKIE_RATE_DEFAULT
#define DEF_BURST MPNET_TCP_COOKIE_BURST_DEFAULT
static void test_cookie_default(void **state)
{
        struct ts *t = *state;
        int lfd = listener(t);
        uint64_t sent, lim, shed;

        ts_at(t, 100);
        for (unsigned i = 0; i < 4 * DEF_RATE; i++) {
                send_forged(t, TH_S);
                if (i % 32 == 31) {
                        ts_settle(t);
                        link_drain(t->lb);
                }
                if (i % 400 == 399) /* 400 every 10 ms */
                        ts_at(t, ts_now_ms(t) + 10);
        }
        ts_settle(t);
        link_drain(t->lb);
        sent = ts_ctr(t, "tcp_cookie_sent");
        lim = ts_ctr(t, "tcp_cookie_limited");
        shed = ts_ctr(t, "tcp_cookie_shed");
        fprintf(stderr, "default: cookies %llu limited %llu shed %llu\n", (unsigned long long)sent,
                (unsigned long long)lim, (unsigned long long)shed);
        assert_true(sent <= DEF_BURST + DEF_RATE + 100);
        assert_true(sent >= DEF_RATE - 200);
        assert_true(ts_ctr(t, "tcp_syn_in") + sent + lim >= 4 * DEF_RATE - 16);
        assert_true(lim >= 2 * DEF_RATE);
        assert_true(shed <= lim && shed >= lim - 100);
        assert_true(conns(t) <= 2 * BACKLOG);
        assert_true(mpnet_pool_in_use(t->pool) < 64);
        /* Off: 1,000 SYNs at one instant, every one answered. */
        assert_int_equal(mpnet_tcp_set_cookie_limit(t->s, 0, 0), 0);
        for (unsigned i = 0; i < 1000; i++) {
                send_forged(t, TH_S);
                if (i % 32 == 31) {
                        ts_settle(t);
                        link_drain(t->lb);
                }
        }
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), lim);
        assert_true(ts_ctr(t, "tcp_cookie_sent") >= sent + 1000 - 16);
        /* The default again: what the burst left is soon spent. */
        sent = ts_ctr(t, "tcp_cookie_sent");
        assert_int_equal(mpnet_tcp_set_cookie_limit(t->s, DEF_RATE, DEF_BURST), 0);
        for (unsigned i = 0; i < 2 * DEF_BURST; i++) {
                send_forged(t, TH_S);
                if (i % 32 == 31) {
                        ts_settle(t);
                        link_drain(t->lb);
                }
        }
        ts_settle(t);
        link_drain(t->lb);
        assert_true(ts_ctr(t, "tcp_cookie_sent") - sent <= DEF_BURST);
        assert_true(ts_ctr(t, "tcp_cookie_shed") >= shed + DEF_BURST - 16);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* A legitimate client under a flood at four times the default budget
 * (40,000 SYNs a second, 200 every 5 ms, the bucket emptied first): each
 * try's SYN lands somewhere in a vector of the flood; the budget's tokens
 * (50 a step) go to the vector's first SYNs, so a try is answered with a
 * chance of about budget / flood rate (here a quarter); the first, last
 * in its vector, is shed. Its retransmissions at RFC 6298
 * 5.5's backoff (1, 2, 4, ... s after the first, seven SYNs in all, as
 * Linux's tcp_syn_retries 6) get it through: a cookie SYN-ACK, its ACK,
 * accept(). The flood's SYNs between the tries are simulated only for the
 * 200 ms before each (the bucket's state at the try). */
static void test_cookie_retry(void **state)
{
        enum { STEP = 200, FMAX = MPNET_ETH_HLEN + MPNET_IP4_HLEN + MPNET_TCP_HLEN_MAX };
        struct ts *t = *state;
        int lfd = listener(t), fd;
        uint64_t at = 1000, back = 1000;
        unsigned tries = 0;
        bool ok = false;
        struct ts_seg got;

        while (!ok && tries < 7) {
                uint8_t f[FMAX];
                size_t n;
                /* The first try behind the whole vector: the budget is
                 * spent, it is shed. */
                unsigned pos = tries == 0 ? STEP : rnd() % (STEP + 1);
                uint64_t lim;

                /* 200 ms of the flood, then the step with the client. */
                ts_at(t, at - 200);
                for (unsigned k = 0; k < 40; k++) {
                        for (unsigned i = 0; i < STEP; i++)
                                send_forged(t, TH_S);
                        ts_settle(t);
                        link_drain(t->lb);
                        ts_at(t, ts_now_ms(t) + 5);
                }
                ts_at(t, at);
                lim = ts_ctr(t, "tcp_cookie_limited");
                for (unsigned i = 0; i < pos; i++)
                        send_forged(t, TH_S);
                t->rel = true;
                t->stack_isn_known = false;
                n = ts_build(
                    t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 8080, .flags = TH_S}, f);
                link_send(t->pool, t->lb, f, n);
                for (unsigned i = pos; i < STEP; i++)
                        send_forged(t, TH_S);
                tries++;
                t->rel = true;
                ok = recv_legit(t, &got);
                if (tries == 1) {
                        assert_false(ok);
                        assert_int_equal(ts_ctr(t, "tcp_cookie_limited") - lim, STEP - 50 + 1);
                }
                at += back;
                back *= 2;
        }
        fprintf(stderr, "legitimate client: tries %u, cookies %llu, limited %llu\n", tries,
                (unsigned long long)ts_ctr(t, "tcp_cookie_sent"),
                (unsigned long long)ts_ctr(t, "tcp_cookie_limited"));
        assert_true(ok);
        assert_int_equal(got.flags, TH_SA);
        assert_int_equal(got.ack, 1);
        assert_true(ts_ctr(t, "tcp_cookie_shed") > 0);
        t->rel = true;
        ts_send(t,
                &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .ack = 1, .flags = TH_A});
        fd = mpnet_accept(t->s, lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        assert_int_equal(ts_ctr(t, "tcp_cookie_ok"), 1);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        ts_send(t, &(struct ts_seg){.sport = 40000, .dport = 8080, .seq = 1, .flags = TH_R});
        link_drain(t->lb);
        assert_true(mpnet_pool_in_use(t->pool) < 64);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

/* An IPv6 SYN from src (the flood's 2001:db8:ff::/48, a random interface
 * identifier when src is NULL) and a random port, built in f. */
static size_t forged_frame6(struct ts *t, const uint8_t *src, uint8_t *f)
{
        struct mpnet_tcp_opts o = {.present = MPNET_TCPO_MSS, .mss = 1440};
        size_t off = ts_tcp_off(6), n;
        uint8_t *ip = f + MPNET_ETH_HLEN;

        t->rel = false;
        n = ts_build(t,
                     &(struct ts_seg){.fam = 6,
                                      .sport = (uint16_t)(1024 + rnd() % 64000),
                                      .dport = 8080,
                                      .seq = rnd(),
                                      .flags = TH_S,
                                      .opts = o},
                     f);
        if (src != NULL) {
                memcpy(ip + 8, src, 16);
        } else {
                memcpy(ip + 8, A6("2001:db8:ff::"), 16);
                mpnet_put_be32(ip + 16, rnd());
                mpnet_put_be32(ip + 20, rnd());
        }
        f[off + 16] = f[off + 17] = 0;
        mpnet_tcp6_csum_set(f + off, n - off, ip + 8, t->us6);
        return n;
}

static void send_forged6(struct ts *t)
{
        uint8_t f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX];

        link_send(t->pool, t->lb, f, forged_frame6(t, NULL, f));
}

/* The first frame the stack sent to IPv6 address dst, copied to f (the
 * others are dropped). @return its length, 0 for none. */
static size_t frame_to6(struct ts *t, const uint8_t *dst, uint8_t *f, size_t cap)
{
        struct mpnet_pkt *p;
        size_t got = 0;

        ts_settle(t);
        while (mpnet_link_rx_burst(t->lb, 0, &p, 1) == 1) {
                uint32_t n = p->pkt_len < cap ? p->pkt_len : (uint32_t)cap;

                if (got == 0 && n >= MPNET_ETH_HLEN + MPNET_IP6_HLEN) {
                        assert_int_equal(mpnet_pkt_read(p, 0, f, n), 0);
                        if (mpnet_get_be16(f + 12) == MPNET_ETHERTYPE_IPV6 &&
                            memcmp(f + MPNET_ETH_HLEN + 24, dst, 16) == 0)
                                got = n;
                }
                mpnet_pkt_free(p);
        }
        return got;
}

/* The shed on IPv6 local delivery's vector (l4/tcp.c, tcp6_shed), as
 * test_cookie_shed's on IPv4's: of a vector of SYNs past a full SYN queue
 * as many go on as the bucket has tokens, answered byte for byte as
 * without the limit, the rest are dropped there, counted as limited and
 * as shed; an embryo's SYN passes; a raw socket on TCP turns the shed off
 * (tcp_input() limits as before). */
static void test_cookie_shed6(void **state)
{
        enum { FMAX = MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX };
        struct ts *t = *state;
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};
        int lfd = mpnet_socket(t->s, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), raw;
        uint8_t emb[FMAX], syn[FMAX], x[FMAX], y[FMAX];
        uint8_t src[16], esrc[16];
        size_t nemb, nsyn, nx, ny, off = ts_tcp_off(6);

        memcpy(src, A6("2001:db8:ff::99"), 16);
        memcpy(esrc, A6("2001:db8:ff::77"), 16);
        assert_true(lfd >= 0);
        assert_int_equal(mpnet_bind(t->s, lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_listen(t->s, lfd, BACKLOG), 0);
        ts_at(t, 100);
        nemb = forged_frame6(t, esrc, emb);
        link_send(t->pool, t->lb, emb, nemb);
        for (unsigned i = 1; i < BACKLOG; i++)
                send_forged6(t);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_syn_in"), BACKLOG);
        /* The default budget's burst: a cookie answers syn, nothing shed. */
        nsyn = forged_frame6(t, src, syn);
        link_send(t->pool, t->lb, syn, nsyn);
        nx = frame_to6(t, src, x, sizeof(x));
        assert_true(nx > off);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1);
        assert_int_equal(ts_ctr(t, "tcp_cookie_shed"), 0);
        /* Burst 3: syn and 9 more in one vector; three answered, seven shed. */
        assert_int_equal(mpnet_tcp_set_cookie_limit(t->s, 1, 3), 0);
        link_send(t->pool, t->lb, syn, nsyn);
        for (unsigned i = 0; i < 9; i++)
                send_forged6(t);
        ny = frame_to6(t, src, y, sizeof(y));
        assert_int_equal(ny, nx);
        assert_memory_equal(x + off, y + off, nx - off);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1 + 3);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7);
        assert_int_equal(ts_ctr(t, "tcp_cookie_shed"), 7);
        /* The embryo's SYN again, the bucket empty: its embryo answers. */
        link_send(t->pool, t->lb, emb, nemb);
        assert_true(frame_to6(t, esrc, y, sizeof(y)) > off);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7);
        /* A raw socket on TCP: no shed, the same drops from tcp_input(). */
        raw = mpnet_socket(t->s, AF_INET6, SOCK_RAW, MPNET_IPPROTO_TCP);
        assert_true(raw >= 0);
        for (unsigned i = 0; i < 5; i++)
                send_forged6(t);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7 + 5);
        assert_int_equal(ts_ctr(t, "tcp_cookie_shed"), 7);
        assert_int_equal(mpnet_close(t->s, raw), 0);
        /* A second later one token; the other four shed. */
        ts_at(t, ts_now_ms(t) + 1000);
        for (unsigned i = 0; i < 5; i++)
                send_forged6(t);
        ts_settle(t);
        link_drain(t->lb);
        assert_int_equal(ts_ctr(t, "tcp_cookie_sent"), 1 + 3 + 1);
        assert_int_equal(ts_ctr(t, "tcp_cookie_limited"), 7 + 5 + 4);
        assert_int_equal(ts_ctr(t, "tcp_cookie_shed"), 7 + 4);
        assert_true(mpnet_pool_in_use(t->pool) < 64);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_syn_flood, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_syn_turned, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_ack_flood, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_limit, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_limit_queue, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_shed, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_default, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_retry, setup, ts_teardown),
            cmocka_unit_test_setup_teardown(test_cookie_shed6, setup, ts_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
