/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen's generator, receiver and histogram on their own: frames of every
 * RFC 2544 size parse back with correct checksums and signatures, pacing is
 * even, line-rate arithmetic matches RFC 2544's table, the receiver tells
 * duplicates from reordering, and the histogram's quantiles hold their error
 * bound.
 */
#include <math.h>

#include "mpgen/mpgen.h"
#include "mpnet/wire/ipv4.h"

#include "testutil.h"

static const unsigned sizes[] = {64, 128, 256, 512, 1024, 1280, 1518};
static const uint8_t mac_s[6] = {0x02, 0, 0, 0, 0, 0x0a}, mac_d[6] = {0x02, 0, 0, 0, 0, 0x0b};

struct genv {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b;
};

static void genv_init(struct genv *e)
{
        struct mpnet_memwire_cfg wc = {.name = "gen", .ring_size = 4096};

        mpnet_clock_init_virtual(&e->clk, MPNET_NS_PER_S);
        e->pool = mpnet_pool_create("gen", 8192);
        assert_non_null(e->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &e->a, &e->b), 0);
}

static void genv_fini(struct genv *e)
{
        mpnet_link_destroy(e->a);
        mpnet_link_destroy(e->b);
        assert_int_equal(mpnet_pool_in_use(e->pool), 0);
        mpnet_pool_destroy(e->pool);
}

/* The UDP checksum over its pseudo-header verifies (sums to zero). */
static void check_udp_csum(const uint8_t *b, unsigned len, bool ip6, unsigned l3)
{
        uint8_t ph[40];
        unsigned udp = l3 + (ip6 ? 40u : 20u), ulen = len - udp;
        uint64_t sum;

        assert_int_equal(mpnet_get_be16(b + udp + 4), ulen);
        if (ip6) {
                memcpy(ph, b + l3 + 8, 32);
                mpnet_put_be32(ph + 32, ulen);
                memset(ph + 36, 0, 3);
                ph[39] = 17;
                sum = mpnet_csum_add(0, ph, 40);
        } else {
                memcpy(ph, b + l3 + 12, 8);
                ph[8] = 0;
                ph[9] = 17;
                mpnet_put_be16(ph + 10, (uint16_t)ulen);
                sum = mpnet_csum_add(0, ph, 12);
        }
        sum = mpnet_csum_add(sum, b + udp, ulen);
        assert_int_equal(mpnet_csum_fold(sum), 0);
        assert_int_not_equal(mpnet_get_be16(b + udp + 6), 0);
}

static void check_frames(bool ip6, uint16_t vlan)
{
        struct genv e;
        struct mpg_flows fl;
        unsigned l3 = vlan ? 18 : 14;

        genv_init(&e);
        mpg_flows_default(&fl, ip6);
        fl.vlan = vlan;
        fl.n_dst = 3;
        fl.n_sport = 2;
        for (unsigned s = 0; s < sizeof(sizes) / sizeof(*sizes); s++) {
                struct mpg_gen g;
                struct mpnet_pkt *p[16];
                unsigned frame = s == 0 && ip6 ? MPG_FRAME_MIN6 : sizes[s];
                uint16_t n;

                assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, frame),
                                 0);
                assert_int_equal(g.n_flows, 6);
                mpg_gen_start(&g, 0x42, 1e6, 12, mpnet_clock_now(&e.clk));
                /* 1 Mfps: frame k is due at k us; 5.5 us in, 6 are due. */
                assert_int_equal(mpg_gen_step(&g, mpnet_clock_now(&e.clk) + 5500, 64), 6);
                assert_int_equal(mpg_gen_step(&g, mpnet_clock_now(&e.clk) + 5500, 64), 0);
                assert_int_equal(mpg_gen_step(&g, mpnet_clock_now(&e.clk) + 20000, 64), 6);
                assert_true(mpg_gen_done(&g));
                assert_int_equal(g.tx, 12);
                n = mpnet_link_rx_burst(e.b, 0, p, 16);
                assert_int_equal(n, 12);
                for (unsigned i = 0; i < n; i++) {
                        const uint8_t *b = p[i]->data, *sig;
                        uint32_t flow = i % 6;

                        assert_int_equal(p[i]->len, frame - 4);
                        assert_memory_equal(b, mac_d, 6);
                        assert_memory_equal(b + 6, mac_s, 6);
                        if (vlan) {
                                assert_int_equal(mpnet_get_be16(b + 12), 0x8100);
                                assert_int_equal(mpnet_get_be16(b + 14), vlan);
                        }
                        assert_int_equal(mpnet_get_be16(b + l3 - 2), ip6 ? 0x86dd : 0x0800);
                        if (!ip6) {
                                struct mpnet_ip4_view v;

                                assert_int_equal(mpnet_ip4_view_check(b + l3, p[i]->len - l3, &v),
                                                 0);
                                assert_true(mpnet_ip4_csum_ok(&v));
                                assert_int_equal(mpnet_ip4_total_len(&v), frame - 4 - l3);
                                assert_int_equal(mpnet_ip4_src(&v), IP4(198, 18, 0, 2));
                                /* dport varies fastest (1 value), then sport (2), then dst. */
                                assert_int_equal(mpnet_ip4_dst(&v), IP4(198, 19, 0, 2) + flow / 2);
                        } else {
                                assert_int_equal(b[l3] >> 4, 6);
                                assert_int_equal(mpnet_get_be16(b + l3 + 4), frame - 4 - l3 - 40);
                                assert_int_equal(b[l3 + 8 + 15], 2);
                                assert_int_equal(b[l3 + 8 + 16 + 15], 2 + flow / 2);
                        }
                        check_udp_csum(b, p[i]->len, ip6, l3);
                        sig = b + l3 + (ip6 ? 40 : 20) + 8;
                        assert_int_equal(sig[0], MPG_MAGIC);
                        assert_int_equal(sig[1], 0x42);
                        assert_int_equal(mpnet_get_be16(sig + 2), flow);
                        assert_int_equal(mpnet_get_be32(sig + 4), i / 6);
                }
                mpnet_pkt_free_bulk(p, n);
                mpg_gen_fini(&g);
        }
        genv_fini(&e);
}

static void test_frames_ip4(void **state)
{
        (void)state;
        check_frames(false, 0);
        check_frames(false, 100);
}

static void test_frames_ip6(void **state)
{
        (void)state;
        check_frames(true, 0);
}

/* TCP segments from a flow list: the list's addresses and ports, a valid
 * TCP checksum over the pseudo-header, ACK|PSH, and the receiver reads the
 * signature after the TCP header. */
static void check_tcp(bool ip6)
{
        struct mpg_flow_ent list[2] = {
            {.src4 = IP4(198, 18, 0, 5), .dst4 = IP4(198, 19, 3, 4), .sport = 7, .dport = 9},
            {.src4 = IP4(198, 18, 0, 6), .dst4 = IP4(198, 19, 3, 5), .sport = 8, .dport = 10}};
        struct genv e;
        struct mpg_flows fl;
        struct mpg_gen g;
        struct mpg_rx r;
        struct mpnet_pkt *p[4];
        unsigned frame = ip6 ? 90 : 70, l4 = 14 + (ip6 ? 40 : 20);

        list[0].src6[0] = list[0].dst6[0] = list[1].src6[0] = list[1].dst6[0] = 0x20;
        list[1].dst6[15] = 5;
        genv_init(&e);
        mpg_flows_default(&fl, ip6);
        fl.proto = MPNET_IPPROTO_TCP;
        fl.list = list;
        fl.n_list = 2;
        assert_int_equal(mpg_frame_min(&fl), frame);
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, frame - 1),
                         -EINVAL);
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, frame), 0);
        assert_int_equal(g.n_flows, 2);
        assert_int_equal(mpg_rx_init(&r, e.b, &e.clk, 2), 0);
        mpg_rx_start(&r, 5);
        mpg_gen_start(&g, 5, 1e6, 2, mpnet_clock_now(&e.clk));
        assert_int_equal(mpg_gen_step(&g, mpnet_clock_now(&e.clk) + 5000, 64), 2);
        assert_int_equal(mpnet_link_rx_burst(e.b, 0, p, 4), 2);
        for (unsigned i = 0; i < 2; i++) {
                const uint8_t *b = p[i]->data;
                unsigned tlen = p[i]->len - l4;
                uint8_t ph[40];
                uint64_t sum;

                if (ip6) {
                        assert_int_equal(b[14 + 6], 6);
                        assert_int_equal(b[14 + 24 + 15], i == 1 ? 5 : 0);
                        memcpy(ph, b + 14 + 8, 32);
                        mpnet_put_be32(ph + 32, tlen);
                        memset(ph + 36, 0, 3);
                        ph[39] = 6;
                        sum = mpnet_csum_add(0, ph, 40);
                } else {
                        assert_int_equal(b[14 + 9], 6);
                        assert_int_equal(mpnet_get_be32(b + 14 + 16), list[i].dst4);
                        memcpy(ph, b + 14 + 12, 8);
                        ph[8] = 0;
                        ph[9] = 6;
                        mpnet_put_be16(ph + 10, (uint16_t)tlen);
                        sum = mpnet_csum_add(0, ph, 12);
                }
                assert_int_equal(mpnet_get_be16(b + l4), list[i].sport);
                assert_int_equal(mpnet_get_be16(b + l4 + 2), list[i].dport);
                assert_int_equal(b[l4 + 12], 0x50);
                assert_int_equal(b[l4 + 13], 0x18);
                assert_int_equal(mpnet_csum_fold(mpnet_csum_add(sum, b + l4, tlen)), 0);
                assert_int_equal(b[l4 + 20], MPG_MAGIC);
                mpg_rx_frame(&r, b, p[i]->len, mpnet_clock_now(&e.clk) + 6000);
        }
        assert_int_equal(r.rx, 2);
        assert_int_equal(r.other, 0);
        mpnet_pkt_free_bulk(p, 2);
        mpg_rx_fini(&r);
        mpg_gen_fini(&g);
        genv_fini(&e);
}

/* A jumbo frame is a chain of buffers: the first from the template, the
 * rest zeros; the UDP checksum covers all of it; the receiver reads the
 * signature from the first buffer. An empty pool refuses whole frames. */
static void test_jumbo(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "jumbo", .mtu = 9000};
        struct mpg_flows fl;
        struct mpg_gen g;
        struct mpg_rx r;
        struct mpnet_clock clk;
        struct mpnet_pool *pool = mpnet_pool_create("jumbo", 16);
        struct mpnet_link *a, *b;
        struct mpnet_pkt *p[4];
        uint8_t *flat = malloc(9014);

        (void)state;
        mpnet_clock_init_virtual(&clk, MPNET_NS_PER_S);
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        mpg_flows_default(&fl, false);
        assert_int_equal(mpg_gen_init(&g, a, pool, &clk, &fl, mac_s, mac_d, MPG_FRAME_JUMBO + 1),
                         -EINVAL);
        assert_int_equal(mpg_gen_init(&g, a, pool, &clk, &fl, mac_s, mac_d, MPG_FRAME_JUMBO), 0);
        assert_int_equal(mpg_rx_init(&r, b, &clk, 1), 0);
        mpg_rx_start(&r, 3);
        mpg_gen_start(&g, 3, 1e6, 3, mpnet_clock_now(&clk));
        /* 16 buffers: 5 a frame, so 3 frames fit; the pool is then empty. */
        assert_int_equal(mpg_gen_step(&g, mpnet_clock_now(&clk) + 5000, 64), 3);
        assert_int_equal(mpnet_link_rx_burst(b, 0, p, 4), 3);
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(p[i]->pkt_len, 9014);
                assert_int_equal(p[i]->nb_segs, 5);
                assert_int_equal(mpnet_pkt_read(p[i], 0, flat, 9014), 0);
                check_udp_csum(flat, 9014, false, 14);
                assert_int_equal(mpnet_get_be16(flat + 14 + 2), 9000); /* IPv4 total length */
        }
        for (unsigned i = 0; i < 3; i++)
                mpg_rx_frame(&r, p[i]->data, p[i]->pkt_len, mpnet_clock_now(&clk) + 6000);
        assert_int_equal(r.rx, 3);
        assert_int_equal(r.other, 0);
        /* Hold the frames: the next stream finds the pool short of a
         * whole frame and builds none (nothing half-made leaks). */
        mpg_gen_start(&g, 4, 1e6, 1, mpnet_clock_now(&clk));
        assert_int_equal(mpg_gen_step(&g, mpnet_clock_now(&clk) + 5000, 64), 0);
        assert_true(g.nobufs > 0);
        assert_int_equal(mpnet_pool_in_use(pool), 15);
        mpnet_pkt_free_bulk(p, 3);
        free(flat);
        mpg_rx_fini(&r);
        mpg_gen_fini(&g);
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_tcp_flow_list(void **state)
{
        (void)state;
        check_tcp(false);
        check_tcp(true);
}

static void test_frame_limits(void **state)
{
        struct genv e;
        struct mpg_flows fl;
        struct mpg_gen g;

        (void)state;
        genv_init(&e);
        mpg_flows_default(&fl, false);
        assert_int_equal(mpg_frame_min(&fl), 64);
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, 63), -EINVAL);
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, 9019), -EINVAL);
        mpg_flows_default(&fl, true);
        assert_int_equal(mpg_frame_min(&fl), 78); /* RFC 5180 section 5.1.1 */
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, 77), -EINVAL);
        fl.n_src = 256;
        fl.n_dst = 257;
        assert_int_equal(mpg_flows_count(&fl), 0); /* 65792 > 65536 */
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, 128), -EINVAL);
        fl.n_dst = 256;
        assert_int_equal(mpg_flows_count(&fl), 65536);
        genv_fini(&e);
}

/* RFC 2544 Appendix A.1's 10 Mb/s table, and 10 Gbit/s. */
static void test_line_rate(void **state)
{
        (void)state;
        assert_int_equal((int)mpg_line_rate(10000000, 64), 14880);
        assert_int_equal((int)mpg_line_rate(10000000, 128), 8445);
        assert_int_equal((int)mpg_line_rate(10000000, 1518), 812);
        assert_int_equal((long)mpg_line_rate(10000000000ull, 64), 14880952);
        assert_int_equal((long)mpg_line_rate(10000000000ull, 1518), 812743);
}

/* Even pacing: at 3 frames per 10 us the due times are ceil(k * 3333.3) ns. */
static void test_pacing(void **state)
{
        struct genv e;
        struct mpg_flows fl;
        struct mpg_gen g;
        uint64_t t0;

        (void)state;
        genv_init(&e);
        t0 = mpnet_clock_now(&e.clk);
        mpg_flows_default(&fl, false);
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, 64), 0);
        mpg_gen_start(&g, 1, 300000, 1000, t0);
        assert_int_equal(mpg_gen_due(&g, 0), t0);
        assert_int_equal(mpg_gen_due(&g, 1), t0 + 3334);
        assert_int_equal(mpg_gen_due(&g, 3), t0 + 10000);
        assert_int_equal(mpg_gen_due(&g, 999), t0 + 3330000);
        assert_int_equal(mpg_gen_due(&g, 1000), MPNET_TIME_NEVER);
        /* Stepping at every due time sends exactly one frame each time. */
        for (uint64_t k = 0; k < 1000; k++) {
                struct mpnet_pkt *p[4];

                assert_int_equal(mpg_gen_step(&g, mpg_gen_due(&g, k) - (k ? 1 : 0), 64), k ? 0 : 1);
                if (k > 0)
                        assert_int_equal(mpg_gen_step(&g, mpg_gen_due(&g, k), 64), 1);
                assert_int_equal(mpnet_link_rx_burst(e.b, 0, p, 4), 1);
                mpnet_pkt_free(p[0]);
        }
        assert_int_equal(g.lag_max, 0);
        assert_true(mpg_gen_done(&g));
        /* A step (system recovery): 300 kfps to frame 600, then 100 kfps. */
        mpg_gen_start(&g, 2, 300000, 1000, t0);
        mpg_gen_step_rate(&g, 600, 100000);
        assert_int_equal(mpg_gen_due(&g, 600), t0 + 2000000);
        assert_int_equal(mpg_gen_due(&g, 601), t0 + 2000000 + 10000);
        assert_int_equal(mpg_gen_due(&g, 999), t0 + 2000000 + 3990000);
        mpg_gen_fini(&g);
        genv_fini(&e);
}

/* A link that refuses is not retried: those frames count as refused. */
static void test_refused(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "tiny", .ring_size = 64};
        struct genv e;
        struct mpg_flows fl;
        struct mpg_gen g;

        (void)state;
        genv_init(&e);
        mpnet_link_destroy(e.a);
        mpnet_link_destroy(e.b);
        assert_int_equal(mpnet_memwire_create(&wc, &e.a, &e.b), 0);
        mpg_flows_default(&fl, false);
        assert_int_equal(mpg_gen_init(&g, e.a, e.pool, &e.clk, &fl, mac_s, mac_d, 64), 0);
        mpg_gen_start(&g, 1, 1e9, 100, 0);
        while (!mpg_gen_done(&g))
                mpg_gen_step(&g, mpnet_clock_now(&e.clk), 64);
        assert_int_equal(g.offered, 100);
        assert_int_equal(g.tx, 64);
        assert_int_equal(g.refused, 36);
        assert_int_equal(g.seq[0], 100);
        assert_int_equal(g.tx_flow[0], 64);
        mpg_gen_fini(&g);
        genv_fini(&e);
}

/* Build one signature frame by hand for the receiver. */
static unsigned sig_frame(uint8_t *b, uint8_t tag, uint16_t flow, uint32_t seq, uint32_t ts)
{
        struct mpnet_ip4_repr ip = {.src = IP4(198, 18, 0, 2),
                                    .dst = IP4(198, 19, 0, 2),
                                    .ttl = 64,
                                    .proto = 17,
                                    .payload_len = 26};

        memset(b, 0, 60);
        mpnet_put_be16(b + 12, 0x0800);
        mpnet_ip4_repr_emit(&ip, b + 14);
        mpnet_put_be16(b + 38, 26);
        b[42] = MPG_MAGIC;
        b[43] = tag;
        mpnet_put_be16(b + 44, flow);
        mpnet_put_be32(b + 46, seq);
        mpnet_put_be32(b + 50, ts);
        return 60;
}

static void test_rx_accounting(void **state)
{
        struct mpg_rx r;
        struct mpg_hist *h = malloc(sizeof(*h));
        uint8_t b[64];
        /* 0 1 2 4 3 (reordered) 3 (duplicate) 5 9 (gap: 6-8 lost) 0 (old: dup) */
        static const uint32_t seqs[] = {0, 1, 2, 4, 3, 3, 5, 9, 0};
        unsigned n;

        (void)state;
        assert_non_null(h);
        assert_int_equal(mpg_rx_init(&r, NULL, NULL, 2), 0);
        r.lat = h;
        mpg_rx_start(&r, 7);
        for (unsigned i = 0; i < sizeof(seqs) / sizeof(*seqs); i++) {
                n = sig_frame(b, 7, 1, seqs[i], 1000);
                mpg_rx_frame(&r, b, n, 1000 + 10 * (i + 1));
        }
        assert_int_equal(r.flow[1].rx, 9);
        assert_int_equal(r.flow[1].dup, 2);
        assert_int_equal(r.flow[1].reorder, 1);
        assert_int_equal(r.flow[1].next, 10);
        assert_int_equal(r.rx - r.dup, 7); /* 0..5 and 9 */
        assert_int_equal(h->count, 7);     /* duplicates carry no latency */
        assert_int_equal(h->min, 10);
        /* The stream (2 flows, frame k = seq * 2 + flow): only flow 1
         * arrives, so every frame jumps over flow 0's; the last jump, to
         * seq 9 (k 19), skipped up to k 18. Frames arrive 10 ns apart; the
         * reordered and the duplicate one are not in order, so the longest
         * gap across a jump is from seq 4 to seq 5: 30 ns, one frame lost. */
        assert_true(r.lost_any);
        assert_int_equal(r.k_lost, 18);
        assert_int_equal(r.outage_ns, 30);
        assert_int_equal(r.outage_lost, 1);
        /* Another trial's frames, another flow out of range, junk. */
        n = sig_frame(b, 8, 1, 10, 0);
        mpg_rx_frame(&r, b, n, 0);
        n = sig_frame(b, 7, 2, 10, 0);
        mpg_rx_frame(&r, b, n, 0);
        mpg_rx_frame(&r, b, 30, 0);
        n = sig_frame(b, 7, 0, 0, 0);
        b[24] ^= 1; /* IPv4 header checksum */
        mpg_rx_frame(&r, b, n, 0);
        assert_int_equal(r.other, 4);
        /* Far behind the window: late, counted reordered. */
        n = sig_frame(b, 7, 0, 5000, 0);
        mpg_rx_frame(&r, b, n, 0);
        n = sig_frame(b, 7, 0, 1, 0);
        mpg_rx_frame(&r, b, n, 0);
        assert_int_equal(r.flow[0].late, 1);
        assert_int_equal(r.flow[0].reorder, 1);
        /* Latency wraps modulo 2^32 ns: sent at 2^32 - 5, received at 2^32 + 5. */
        mpg_rx_start(&r, 9);
        n = sig_frame(b, 9, 0, 0, 0xfffffffbu);
        mpg_rx_frame(&r, b, n, (1ull << 32) + 5);
        assert_int_equal(h->max, 10);
        mpg_rx_fini(&r);
        free(h);
}

static void test_hist(void **state)
{
        struct mpg_hist *h = malloc(sizeof(*h));
        struct mpg_lat l;

        (void)state;
        assert_non_null(h);
        /* Bucket bounds tile the line and stay within 1/64 of the value. */
        for (uint64_t v = 0; v < 1u << 20; v += 7) {
                unsigned i = mpg_hist_index(v);

                assert_true(mpg_hist_bucket_low(i) <= v);
                assert_true(v < mpg_hist_bucket_low(i) + mpg_hist_bucket_width(i));
                assert_true(mpg_hist_bucket_width(i) * 64 <= (v < 128 ? 64 : v));
        }
        assert_true(mpg_hist_index(UINT64_MAX) < MPG_HIST_BUCKETS);
        /* 1..100000 ns uniformly: quantiles within 1.6 %. */
        mpg_hist_reset(h);
        for (uint64_t v = 1; v <= 100000; v++)
                mpg_hist_add(h, v);
        mpg_hist_summary(h, &l);
        assert_int_equal(l.count, 100000);
        assert_true(l.min == 1 && l.max == 100000);
        assert_true(fabs(l.mean - 50000.5) < 1e-6);
        assert_true(fabs(l.p50 - 50000) <= 50000 / 64.0);
        assert_true(fabs(l.p90 - 90000) <= 90000 / 64.0);
        assert_true(fabs(l.p99 - 99000) <= 99000 / 64.0);
        assert_true(fabs(l.p999 - 99900) <= 99900 / 64.0);
        assert_true(fabs(l.pdv - (l.p999 - 1)) < 1e-9);
        /* One value repeated: every quantile is exactly it (clamped). */
        mpg_hist_reset(h);
        for (int i = 0; i < 1000; i++)
                mpg_hist_add(h, 123457);
        mpg_hist_summary(h, &l);
        assert_true(l.p50 == 123457 && l.p999 == 123457 && l.pdv == 0);
        free(h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_frames_ip4),    cmocka_unit_test(test_frames_ip6),
            cmocka_unit_test(test_frame_limits),  cmocka_unit_test(test_line_rate),
            cmocka_unit_test(test_pacing),        cmocka_unit_test(test_refused),
            cmocka_unit_test(test_rx_accounting), cmocka_unit_test(test_hist),
            cmocka_unit_test(test_tcp_flow_list), cmocka_unit_test(test_jumbo),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
