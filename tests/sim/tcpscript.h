/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Segment scripts for TCP, in the spirit of packetdrill: one mpnet stack
 * (192.0.2.1, 2001:db8::1) on a memory wire under the virtual clock, its
 * far end (the peer, 192.0.2.2, 2001:db8::2) driven raw by the test. "At
 * time T the peer sends this segment; expect the stack to send that one by
 * T + d":
 *
 *     ts_at(&t, 100);                                  // T = 100 ms
 *     ts_send(&t, &(struct ts_seg){.fam = 4, .sport = 40000, .dport = 80,
 *                                  .flags = TH_S, .seq = 0});
 *     ts_expect(&t, 10, &(struct ts_seg){.flags = TH_RA, .seq = 0, .ack = 1});
 *
 * Sequence numbers as packetdrill prints them: what the peer sends is
 * relative to t.peer_isn (seq) and t.stack_isn (ack); what the stack sends
 * the other way round. t.stack_isn is learnt from the first SYN the stack
 * sends (0 until then: absolute numbers, as a reset from a closed port
 * has). Set t.rel = false for absolute numbers both ways.
 *
 * The peer's neighbour entries are permanent in the stack, and frames that
 * are not TCP (IPv6's MLD and router solicitations) are skipped, so only
 * TCP shows. ts_build() and ts_send_frame() let a test damage a segment
 * before it goes (malformed input).
 */
#ifndef MPNET_TEST_TCPSCRIPT_H
#define MPNET_TEST_TCPSCRIPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mpnet/tcp.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/tcp.h"
#include "ip6util.h"
#include "testutil.h"

#define TS_US4   IP4(192, 0, 2, 1)
#define TS_PEER4 IP4(192, 0, 2, 2)
#define TS_US6   "2001:db8::1"
#define TS_PEER6 "2001:db8::2"

/* Flags as packetdrill writes them. */
#define TH_F  MPNET_TCP_FIN
#define TH_S  MPNET_TCP_SYN
#define TH_R  MPNET_TCP_RST
#define TH_P  MPNET_TCP_PSH
#define TH_A  MPNET_TCP_ACK
#define TH_SA (TH_S | TH_A)
#define TH_RA (TH_R | TH_A)
#define TH_FA (TH_F | TH_A)
#define TH_PA (TH_P | TH_A)

#define TS_MS       MPNET_NS_PER_MS
#define TS_DATA_MAX 1600

/* One segment: the peer's to send, or the stack's as received. Ports as
 * the segment carries them (the peer's sport is the stack's dport). */
struct ts_seg {
        int fam; /* 4 or 6 (0 in an expectation: the last sent's) */
        uint16_t sport, dport;
        uint32_t seq, ack;
        uint16_t flags, win;
        struct mpnet_tcp_opts opts;
        bool win0; /* sent with window 0 (win 0 sends 65535) */
        const void *data;
        uint32_t len;
        /* Received only. */
        uint8_t buf[TS_DATA_MAX];
        uint8_t ttl; /* or hop limit */
        uint8_t tos; /* or traffic class */
        bool df;
};

struct ts {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb; /* the stack's end, the peer's end */
        struct mpnet_stack *s;
        uint8_t smac[6], pmac[6];
        uint8_t us6[16], peer6[16];
        uint64_t t0;       /* the script's time zero */
        uint32_t peer_isn; /* what the peer's seq and the stack's ack count from */
        uint32_t stack_isn;
        bool stack_isn_known;
        bool rel;              /* relative numbers (the default) */
        int fam;               /* the family last sent */
        uint16_t sport, dport; /* the ports last sent (the peer's, the stack's) */
        unsigned skipped;      /* frames that were not TCP */
};

static inline void ts_init(struct ts *t)
{
        struct mpnet_memwire_cfg wc = {.name = "ts"};
        static const uint8_t pmac[6] = {0x02, 0, 0, 0, 0x99, 0x02};

        memset(t, 0, sizeof(*t));
        mpnet_clock_init_virtual(&t->clk, MPNET_NS_PER_S);
        t->pool = mpnet_pool_create("ts", 4096);
        assert_non_null(t->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &t->la, &t->lb), 0);
        memcpy(t->pmac, pmac, 6);
        memcpy(t->smac, t->la->info.mac, 6);
        memcpy(t->us6, A6(TS_US6), 16);
        memcpy(t->peer6, A6(TS_PEER6), 16);
        t->s = stack6_new(&t->clk, t->pool, "S", 1, false);
        assert_int_equal(mpnet_iface_attach(t->s, t->la, "s0"), 1);
        assert_int_equal(mpnet_addr4_add(t->s, 1, TS_US4, 24), 0);
        assert_int_equal(mpnet_addr6_add(t->s, 1, t->us6, 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_neigh4_add(t->s, 1, TS_PEER4, t->pmac), 0);
        assert_int_equal(mpnet_neigh6_add(t->s, 1, t->peer6, t->pmac), 0);
        /* Scripts follow the RFCs' examples, which send a window at once:
         * no pacing unless a test turns it on (mpnet_tcp_set_pacing). */
        mpnet_tcp_set_pacing(t->s, 0);
        /* Past the start-up chatter (solicitations, reports). */
        sim_run_until(&t->clk, &t->s, 1, mpnet_clock_now(&t->clk) + 5 * MPNET_NS_PER_S);
        link_drain(t->lb);
        t->t0 = mpnet_clock_now(&t->clk);
        t->rel = true;
        t->fam = 4;
}

static inline void ts_fini(struct ts *t)
{
        mpnet_stack_destroy(t->s);
        link_drain(t->la);
        link_drain(t->lb);
        mpnet_link_destroy(t->la);
        mpnet_link_destroy(t->lb);
        assert_int_equal(mpnet_pool_in_use(t->pool), 0);
        mpnet_pool_destroy(t->pool);
}

/* The cmocka fixture of a scripted test: a fresh struct ts (the peer's
 * ISN 1,000,000) per test, freed after it. */
static inline struct ts *ts_new(void)
{
        struct ts *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        ts_init(t);
        t->peer_isn = 1000000;
        return t;
}

static inline int ts_setup(void **state)
{
        *state = ts_new();
        return 0;
}

static inline int ts_teardown(void **state)
{
        struct ts *t = *state;

        ts_fini(t);
        free(t);
        return 0;
}

/* Counter name of the scripted stack. */
static inline uint64_t ts_ctr(struct ts *t, const char *name)
{
        return stk_ctr(t->s, name);
}

/* Poll the stack at the clock's time until nothing moves. @return its
 * next deadline. */
static inline uint64_t ts_settle(struct ts *t)
{
        uint64_t now = mpnet_clock_now(&t->clk), next, before, after;

        do {
                before = stk_ctr(t->s, "rx_frames") + stk_ctr(t->s, "tx_frames");
                next = mpnet_stack_poll(t->s, now);
                after = stk_ctr(t->s, "rx_frames") + stk_ctr(t->s, "tx_frames");
        } while (after != before || next <= now);
        return next;
}

/* Run the stack (nothing read from the wire) until script time ms. */
static inline void ts_at(struct ts *t, uint64_t ms)
{
        uint64_t end = t->t0 + ms * TS_MS;

        assert_true(end >= mpnet_clock_now(&t->clk));
        sim_run_until(&t->clk, &t->s, 1, end);
}

/* The script's time now, in ms. */
static inline uint64_t ts_now_ms(struct ts *t)
{
        return (mpnet_clock_now(&t->clk) - t->t0) / TS_MS;
}

/* Offset of the TCP header in a frame of family fam. */
static inline size_t ts_tcp_off(int fam)
{
        return MPNET_ETH_HLEN + (fam == 6 ? MPNET_IP6_HLEN : MPNET_IP4_HLEN);
}

/* Write the frame of g (from the peer) into f. @return its length. */
static inline size_t ts_build(struct ts *t, const struct ts_seg *g, uint8_t *f)
{
        int fam = g->fam != 0 ? g->fam : t->fam;
        size_t off = ts_tcp_off(fam);
        struct mpnet_tcp_repr r = {
            .sport = g->sport,
            .dport = g->dport,
            .seq = t->rel ? g->seq + t->peer_isn : g->seq,
            .ack = t->rel && t->stack_isn_known ? g->ack + t->stack_isn : g->ack,
            .flags = g->flags,
            .window = g->win0       ? 0
                      : g->win != 0 ? g->win
                                    : 65535,
            .payload_len = g->len,
            .opts = g->opts,
        };
        int hl = mpnet_tcp_repr_emit(&r, f + off);
        size_t n;

        assert_true(hl >= MPNET_TCP_HLEN);
        assert_true(g->len <= TS_DATA_MAX);
        if (g->len != 0)
                memcpy(f + off + hl, g->data, g->len);
        n = (size_t)hl + g->len;
        memcpy(f, t->smac, 6);
        memcpy(f + 6, t->pmac, 6);
        if (fam == 4) {
                struct mpnet_ip4_repr ip = {.src = TS_PEER4,
                                            .dst = TS_US4,
                                            .payload_len = (uint16_t)n,
                                            .proto = MPNET_IPPROTO_TCP,
                                            .ttl = 64,
                                            .df = true};

                mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV4);
                mpnet_ip4_repr_emit(&ip, f + MPNET_ETH_HLEN);
                mpnet_tcp4_csum_set(f + off, n, TS_PEER4, TS_US4);
        } else {
                struct mpnet_ip6_repr ip = {
                    .payload_len = (uint16_t)n, .next_header = MPNET_IPPROTO_TCP, .hop_limit = 64};

                memcpy(ip.src, t->peer6, 16);
                memcpy(ip.dst, t->us6, 16);
                mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV6);
                mpnet_ip6_repr_emit(&ip, f + MPNET_ETH_HLEN);
                mpnet_tcp6_csum_set(f + off, n, t->peer6, t->us6);
        }
        return off + n;
}

/* Recompute the TCP checksum of a frame ts_build() made (after damage). */
static inline void ts_fix_csum(struct ts *t, int fam, uint8_t *f, size_t n)
{
        size_t off = ts_tcp_off(fam);

        f[off + 16] = f[off + 17] = 0;
        if (fam == 4)
                mpnet_tcp4_csum_set(f + off, n - off, TS_PEER4, TS_US4);
        else
                mpnet_tcp6_csum_set(f + off, n - off, t->peer6, t->us6);
}

/* Rewrite the IPv4 total length and header checksum of a frame of n
 * bytes (after a test changed its length). */
static inline void ts_fix_ip4(uint8_t *f, size_t n)
{
        uint8_t *ip = f + MPNET_ETH_HLEN;

        mpnet_put_be16(ip + 2, (uint16_t)(n - MPNET_ETH_HLEN));
        ip[10] = ip[11] = 0;
        mpnet_put_be16(ip + 10, mpnet_csum(ip, MPNET_IP4_HLEN));
}

/* The peer sends a frame; the stack takes it in at once. */
static inline void ts_send_frame(struct ts *t, const uint8_t *f, size_t n)
{
        link_send(t->pool, t->lb, f, n);
        ts_settle(t);
}

/* The peer sends g now. */
static inline void ts_send(struct ts *t, const struct ts_seg *g)
{
        uint8_t f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX + TS_DATA_MAX];

        t->fam = g->fam != 0 ? g->fam : t->fam;
        t->sport = g->sport;
        t->dport = g->dport;
        ts_send_frame(t, f, ts_build(t, g, f));
}

/* Parse a frame from the stack into g. @return false when it is not TCP
 * (or not one ts could parse). */
static inline bool ts_parse(struct ts *t, const uint8_t *f, size_t n, struct ts_seg *g)
{
        struct mpnet_tcp_view v;
        struct mpnet_tcp_repr r;
        size_t off;

        memset(g, 0, sizeof(*g));
        if (n < MPNET_ETH_HLEN + MPNET_IP4_HLEN)
                return false;
        if (mpnet_get_be16(f + 12) == MPNET_ETHERTYPE_IPV4 &&
            f[MPNET_ETH_HLEN + 9] == MPNET_IPPROTO_TCP) {
                g->fam = 4;
                g->ttl = f[MPNET_ETH_HLEN + 8];
                g->tos = f[MPNET_ETH_HLEN + 1];
                g->df = (f[MPNET_ETH_HLEN + 6] & 0x40) != 0;
                assert_int_equal(f[MPNET_ETH_HLEN], 0x45);
                assert_int_equal(mpnet_get_be32(f + MPNET_ETH_HLEN + 12), TS_US4);
                assert_int_equal(mpnet_get_be32(f + MPNET_ETH_HLEN + 16), TS_PEER4);
                n = MPNET_ETH_HLEN + mpnet_get_be16(f + MPNET_ETH_HLEN + 2);
        } else if (mpnet_get_be16(f + 12) == MPNET_ETHERTYPE_IPV6 && n >= MPNET_ETH_HLEN + 40 &&
                   f[MPNET_ETH_HLEN + 6] == MPNET_IPPROTO_TCP) {
                g->fam = 6;
                g->ttl = f[MPNET_ETH_HLEN + 7];
                g->tos = (uint8_t)((f[MPNET_ETH_HLEN] & 0xf) << 4 | f[MPNET_ETH_HLEN + 1] >> 4);
                assert_memory_equal(f + MPNET_ETH_HLEN + 8, t->us6, 16);
                assert_memory_equal(f + MPNET_ETH_HLEN + 24, t->peer6, 16);
                n = MPNET_ETH_HLEN + MPNET_IP6_HLEN + mpnet_get_be16(f + MPNET_ETH_HLEN + 4);
        } else {
                return false;
        }
        assert_memory_equal(f, t->pmac, 6);
        off = ts_tcp_off(g->fam);
        assert_int_equal(mpnet_tcp_view_check(f + off, n - off, &v), 0);
        if (g->fam == 4)
                assert_int_equal(mpnet_tcp4_csum_check(&v, TS_US4, TS_PEER4), 0);
        else
                assert_int_equal(mpnet_tcp6_csum_check(&v, t->us6, t->peer6), 0);
        assert_int_equal(mpnet_tcp_repr_parse(&v, &r), 0);
        g->sport = r.sport;
        g->dport = r.dport;
        g->flags = r.flags;
        g->win = r.window;
        g->opts = r.opts;
        g->len = (uint32_t)r.payload_len;
        assert_true(g->len <= TS_DATA_MAX);
        memcpy(g->buf, mpnet_tcp_payload(&v), g->len);
        g->data = g->buf;
        if (t->rel && (r.flags & MPNET_TCP_SYN) && !t->stack_isn_known) {
                t->stack_isn = r.seq;
                t->stack_isn_known = true;
        }
        g->seq = t->rel && t->stack_isn_known ? r.seq - t->stack_isn : r.seq;
        g->ack = t->rel ? r.ack - t->peer_isn : r.ack;
        return true;
}

/* The next TCP segment the stack sends within ms from now (the stack runs
 * meanwhile). @return false when none came. */
static inline bool ts_recv(struct ts *t, uint64_t ms, struct ts_seg *g)
{
        uint64_t end = mpnet_clock_now(&t->clk) + ms * TS_MS;

        for (;;) {
                uint64_t next = ts_settle(t);
                struct mpnet_pkt *p;

                while (mpnet_link_rx_burst(t->lb, 0, &p, 1) == 1) {
                        uint8_t
                            f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX + TS_DATA_MAX];
                        uint32_t n = p->pkt_len < sizeof(f) ? p->pkt_len : (uint32_t)sizeof(f);
                        bool tcp;

                        assert_int_equal(mpnet_pkt_read(p, 0, f, n), 0);
                        mpnet_pkt_free(p);
                        tcp = ts_parse(t, f, n, g);
                        if (tcp)
                                return true;
                        t->skipped++;
                }
                if (mpnet_clock_now(&t->clk) >= end)
                        return false;
                mpnet_clock_set(&t->clk, next < end ? next : end);
        }
}

static inline void ts_print(const char *what, const struct ts_seg *g)
{
        fprintf(stderr, "%s: %u > %u %s%s%s%s%s seq %u ack %u win %u len %u\n", what, g->sport,
                g->dport, g->flags & TH_S ? "S" : "", g->flags & TH_F ? "F" : "",
                g->flags & TH_R ? "R" : "", g->flags & TH_P ? "P" : "", g->flags & TH_A ? "." : "",
                g->seq, g->ack, g->win, g->len);
}

/* Expect the stack to send a segment matching want within ms: ports (0:
 * the reverse of the last sent), family (0: the last sent's), flags, seq,
 * ack (when ACK is set), the payload length; a window (win != 0) and
 * options (want->opts.present != 0: those present, with their values) when
 * given. The segment comes back in got (may be NULL). */
static inline void ts_expect(struct ts *t, uint64_t ms, const struct ts_seg *want,
                             struct ts_seg *got)
{
        struct ts_seg g_;
        struct ts_seg *g = got != NULL ? got : &g_;
        bool ok;

        if (!ts_recv(t, ms, g))
                fail_msg("at %llu ms: no segment from the stack within %llu ms",
                         (unsigned long long)ts_now_ms(t), (unsigned long long)ms);
        ok = g->fam == (want->fam != 0 ? want->fam : t->fam) &&
             g->sport == (want->sport != 0 ? want->sport : t->dport) &&
             g->dport == (want->dport != 0 ? want->dport : t->sport) && g->flags == want->flags &&
             g->seq == want->seq && (!(want->flags & TH_A) || g->ack == want->ack) &&
             g->len == want->len && (want->win == 0 || g->win == want->win);
        if (ok && want->opts.present != 0) {
                const struct mpnet_tcp_opts *a = &want->opts, *b = &g->opts;

                ok = a->present == b->present &&
                     (!(a->present & MPNET_TCPO_MSS) || a->mss == b->mss) &&
                     (!(a->present & MPNET_TCPO_WSCALE) || a->wscale == b->wscale);
        }
        if (ok && want->len != 0 && want->data != NULL)
                ok = memcmp(g->buf, want->data, want->len) == 0;
        if (!ok) {
                ts_print("want", want);
                ts_print("got ", g);
                fail_msg("at %llu ms: the stack sent another segment",
                         (unsigned long long)ts_now_ms(t));
        }
}

/* Expect the stack to send no TCP segment within ms. */
static inline void ts_expect_none(struct ts *t, uint64_t ms)
{
        struct ts_seg g;

        if (ts_recv(t, ms, &g)) {
                ts_print("got ", &g);
                fail_msg("at %llu ms: the stack sent a segment, none expected",
                         (unsigned long long)ts_now_ms(t));
        }
}

#endif
