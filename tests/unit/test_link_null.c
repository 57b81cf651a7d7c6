/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The null link: the built-in frames are valid IPv4/UDP (checksums,
 * lengths, addresses in 198.18.0.0/15), every queue receives exactly the
 * flows the RSS hash and indirection table give it, caller templates come
 * back byte for byte, transmit frees everything, the counters count, and
 * bad configurations are refused.
 */
#include <errno.h>

#include "mpnet/null.h"
#include "mpnet/rss.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "testutil.h"

#define NFLOWS 1024u

static struct mpnet_rss *rss_sym(void)
{
        struct mpnet_rss *rss = aligned_alloc(64, sizeof(*rss));

        assert_non_null(rss);
        assert_int_equal(mpnet_rss_init(rss, mpnet_rss_key_sym, MPNET_RSS_KEY_LEN), 0);
        return rss;
}

/* The UDP checksum over the pseudo-header verifies (RFC 768). */
static void assert_udp_ok(const uint8_t *ip, const uint8_t *u, uint32_t n)
{
        uint8_t pseudo[12];

        memcpy(pseudo, ip + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = MPNET_IPPROTO_UDP;
        mpnet_put_be16(pseudo + 10, (uint16_t)n);
        assert_int_not_equal(mpnet_get_be16(u + 6), 0);
        assert_int_equal(mpnet_csum_fold(mpnet_csum_add(mpnet_csum_add(0, pseudo, 12), u, n)), 0);
}

static void test_sink(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 64);
        struct mpnet_link *l;
        struct mpnet_pkt *v[8];
        struct mpnet_link_stats st = {0};

        (void)state;
        assert_int_equal(mpnet_null_create(NULL, &l), 0);
        assert_string_equal(l->info.kind, "null");
        assert_int_equal(l->info.n_rxq, 1);
        assert_int_equal(mpnet_link_rx_burst(l, 0, v, 8), 0);
        assert_int_equal(mpnet_link_rx_wait_arm(l, 0), -ENOTSUP);
        assert_int_equal(mpnet_null_queue_flows(l, 0), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, 8), 8);
        for (int i = 0; i < 8; i++)
                mpnet_pkt_append(v[i], 100);
        assert_int_equal(mpnet_link_tx_burst(l, 0, v, 8), 8);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_link_get_stats(l, &st);
        assert_int_equal(st.tx_pkts, 8);
        assert_int_equal(st.tx_bytes, 800);
        assert_int_equal(st.rx_pkts, 0);
        mpnet_link_destroy(l);
        mpnet_pool_destroy(pool);
}

/* Every built-in frame: lengths, checksums, addresses, the hash. */
static void check_frames(uint32_t frame_len, uint32_t vary)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 1024);
        struct mpnet_null_cfg cfg = {
            .pool = pool, .n_flows = 256, .frame_len = frame_len, .vary = vary};
        struct mpnet_rss *rss = rss_sym();
        struct mpnet_link *l;
        struct mpnet_pkt *v[64];
        uint8_t seen[256] = {0};
        unsigned got = 0;

        assert_int_equal(mpnet_null_create(&cfg, &l), 0);
        assert_int_equal(mpnet_null_queue_flows(l, 0), 256);
        assert_int_equal(mpnet_link_rx_wait_arm(l, 0), -EAGAIN);
        while (got < 512) {
                uint16_t n = mpnet_link_rx_burst(l, 0, v, 64);

                assert_true(n > 0);
                for (unsigned i = 0; i < n; i++) {
                        struct mpnet_pkt *p = v[i];
                        const uint8_t *b = p->data, *ip = b + 14, *u = ip + 20;
                        struct mpnet_ip4_view iv;
                        struct mpnet_ip4_repr r;
                        uint32_t f;

                        assert_int_equal(p->len, frame_len);
                        assert_int_equal(p->pkt_len, frame_len);
                        assert_memory_equal(b, l->info.mac, 6);
                        assert_int_equal(mpnet_get_be16(b + 12), MPNET_ETHERTYPE_IPV4);
                        assert_int_equal(mpnet_ip4_view_check(ip, frame_len - 14, &iv), 0);
                        assert_true(mpnet_ip4_csum_ok(&iv));
                        mpnet_ip4_repr_parse(&iv, &r);
                        assert_int_equal(r.payload_len, frame_len - 34);
                        assert_int_equal(r.proto, MPNET_IPPROTO_UDP);
                        assert_int_equal(r.src & 0xfffe0000u, IP4(198, 18, 0, 0));
                        assert_int_equal(r.dst & 0xfffe0000u, IP4(198, 18, 0, 0));
                        assert_int_equal(mpnet_get_be16(u + 4), frame_len - 34);
                        assert_udp_ok(ip, u, frame_len - 34);
                        assert_true(p->ol_flags & MPNET_PKT_F_FLOW_HASH);
                        assert_int_equal(p->flow_hash, mpnet_rss_hash_eth(rss, b, frame_len, NULL));
                        /* Which flow: each varied field is its first value plus f. */
                        if (vary & MPNET_NULL_VARY_SRC_PORT)
                                f = mpnet_get_be16(u) - 1024u;
                        else
                                f = r.dst - IP4(198, 19, 0, 1);
                        assert_true(f < 256);
                        if (vary & MPNET_NULL_VARY_DST_IP)
                                assert_int_equal(r.dst, IP4(198, 19, 0, 1) + f);
                        seen[f]++;
                }
                got += n;
                mpnet_pkt_free_bulk(v, n);
        }
        /* Round-robin over 256 flows: each came twice in 512 frames. */
        for (unsigned f = 0; f < 256; f++)
                assert_int_equal(seen[f], 2);
        mpnet_link_destroy(l);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
        free(rss);
}

static void test_frames_valid(void **state)
{
        (void)state;
        check_frames(60, 0);
        check_frames(60, MPNET_NULL_VARY_DST_IP);
        check_frames(1514, MPNET_NULL_VARY_SRC_PORT | MPNET_NULL_VARY_DST_IP);
}

/* Each queue gets only the flows hash + reta map to it; all flows arrive. */
static void check_rss(uint16_t nq, const struct mpnet_reta *custom)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 1024);
        struct mpnet_null_cfg cfg = {
            .pool = pool, .n_queues = nq, .n_flows = NFLOWS, .reta = custom};
        struct mpnet_rss *rss = rss_sym();
        struct mpnet_reta reta;
        const struct mpnet_reta *rt = custom;
        struct mpnet_link *l;
        uint8_t *seen = calloc(NFLOWS, 1);
        unsigned total = 0;

        assert_non_null(seen);
        if (rt == NULL) {
                assert_int_equal(mpnet_reta_init(&reta, 0, nq), 0);
                rt = &reta;
        }
        assert_int_equal(mpnet_null_create(&cfg, &l), 0);
        for (uint16_t q = 0; q < nq; q++) {
                int flows = mpnet_null_queue_flows(l, q);
                struct mpnet_pkt *v[64];
                unsigned got = 0;

                assert_true(flows >= 0);
                total += (unsigned)flows;
                if (flows == 0) {
                        assert_int_equal(mpnet_link_rx_burst(l, q, v, 64), 0);
                        assert_int_equal(mpnet_link_rx_wait_arm(l, q), -ENOTSUP);
                        continue;
                }
                /* Twice round this queue's list. */
                while (got < 2u * (unsigned)flows) {
                        uint16_t n = mpnet_link_rx_burst(l, q, v, 64);

                        assert_true(n > 0);
                        for (unsigned i = 0; i < n; i++) {
                                const uint8_t *b = v[i]->data;
                                uint32_t h = mpnet_rss_hash_eth(rss, b, v[i]->len, NULL);
                                uint32_t f = mpnet_get_be32(b + 30) - IP4(198, 19, 0, 1);

                                assert_int_equal(v[i]->flow_hash, h);
                                assert_int_equal(mpnet_rss_queue(rt, h), q);
                                assert_true(f < NFLOWS);
                                if (got + i < (unsigned)flows) {
                                        assert_int_equal(seen[f], 0);
                                        seen[f] = 1;
                                }
                        }
                        got += n;
                        mpnet_pkt_free_bulk(v, n);
                }
        }
        assert_int_equal(total, NFLOWS);
        for (unsigned f = 0; f < NFLOWS; f++)
                assert_int_equal(seen[f], 1);
        mpnet_link_destroy(l);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
        free(rss);
        free(seen);
}

static void test_rss_queues(void **state)
{
        struct mpnet_reta *one = malloc(sizeof(*one));

        (void)state;
        check_rss(1, NULL);
        check_rss(2, NULL);
        check_rss(4, NULL);
        check_rss(14, NULL);
        /* A table that sends everything to queue 2 of 4. */
        assert_non_null(one);
        assert_int_equal(mpnet_reta_init(one, 64, 4), 0);
        for (uint32_t i = 0; i < 64; i++)
                assert_int_equal(mpnet_reta_set(one, i, 2), 0);
        check_rss(4, one);
        free(one);
}

/* The default flows spread over the queues: none left without, none
 * holding twice its share (the symmetric key cancels fields varied
 * together; the default varies one). */
static void test_default_spread(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 16);

        (void)state;
        for (uint16_t nq = 2; nq <= 32; nq++) {
                struct mpnet_null_cfg cfg = {.pool = pool, .n_queues = nq};
                struct mpnet_link *l;

                assert_int_equal(mpnet_null_create(&cfg, &l), 0);
                for (uint16_t q = 0; q < nq; q++) {
                        int f = mpnet_null_queue_flows(l, q);

                        assert_true(f >= (int)(NFLOWS / nq / 2));
                        assert_true(f <= (int)(2 * NFLOWS / nq));
                }
                mpnet_link_destroy(l);
        }
        mpnet_pool_destroy(pool);
}

static void test_templates(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 256);
        uint8_t a[60], b[200], c[14];
        const struct mpnet_null_frame t[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
        struct mpnet_null_cfg cfg = {.pool = pool, .templates = t, .n_templates = 3, .burst = 4};
        struct mpnet_link *l;
        struct mpnet_pkt *v[16];
        uint16_t n;

        (void)state;
        /* Not IP (a local experimental ethertype): hash 0, queue 0. */
        for (size_t i = 0; i < sizeof(a); i++)
                a[i] = (uint8_t)i;
        for (size_t i = 0; i < sizeof(b); i++)
                b[i] = (uint8_t)(3 * i + 1);
        memset(c, 0xee, sizeof(c));
        a[12] = b[12] = c[12] = 0x88;
        a[13] = b[13] = c[13] = 0xb5;
        assert_int_equal(mpnet_null_create(&cfg, &l), 0);
        assert_int_equal(mpnet_null_queue_flows(l, 0), 3);
        /* Copied at create: the caller's buffers may change. */
        a[20] ^= 0xff;
        n = mpnet_link_rx_burst(l, 0, v, 16);
        assert_int_equal(n, 4); /* burst */
        a[20] ^= 0xff;
        for (unsigned i = 0; i < n; i++) {
                assert_int_equal(v[i]->len, t[i % 3].len);
                assert_memory_equal(v[i]->data, t[i % 3].data, t[i % 3].len);
                assert_int_equal(v[i]->flow_hash, 0);
        }
        assert_int_equal(mpnet_link_tx_burst(l, 0, v, n), n);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_link_destroy(l);
        mpnet_pool_destroy(pool);
}

/* Frames received and sent back are all freed; the counters add up. */
static void test_tx_frees_and_stats(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 1024);
        struct mpnet_null_cfg cfg = {.pool = pool, .n_queues = 2, .frame_len = 100};
        struct mpnet_link *l;
        struct mpnet_link_stats st = {0};
        uint64_t rx = 0;

        (void)state;
        assert_int_equal(mpnet_null_create(&cfg, &l), 0);
        assert_true(mpnet_null_queue_flows(l, 0) > 0);
        assert_true(mpnet_null_queue_flows(l, 1) > 0);
        for (int round = 0; round < 100; round++) {
                for (uint16_t q = 0; q < 2; q++) {
                        struct mpnet_pkt *v[256];
                        uint16_t n = mpnet_link_rx_burst(l, q, v, 256);

                        assert_int_equal(n, 256); /* as many as asked */
                        rx += n;
                        /* Out on the other queue, as a worker would. */
                        assert_int_equal(mpnet_link_tx_burst(l, (uint16_t)!q, v, n), n);
                }
        }
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_link_get_stats(l, &st);
        assert_int_equal(st.rx_pkts, rx);
        assert_int_equal(st.tx_pkts, rx);
        assert_int_equal(st.rx_bytes, rx * 100);
        assert_int_equal(st.tx_bytes, rx * 100);
        assert_int_equal(st.rx_drops + st.tx_drops, 0);
        mpnet_link_destroy(l);
        mpnet_pool_destroy(pool);
}

/* A pool that runs dry: receive gives what there is, then nothing. */
static void test_pool_dry(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 100);
        struct mpnet_null_cfg cfg = {.pool = pool};
        struct mpnet_link *l;
        struct mpnet_pkt *v[200];
        unsigned got = 0;
        uint16_t n;

        (void)state;
        assert_int_equal(mpnet_null_create(&cfg, &l), 0);
        while ((n = mpnet_link_rx_burst(l, 0, v + got, 64)) != 0)
                got += n;
        assert_int_equal(got, 100);
        mpnet_pkt_free_bulk(v, got);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_link_destroy(l);
        mpnet_pool_destroy(pool);
}

static void test_bad_cfg(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("t", 16);
        struct mpnet_link *l = NULL;
        struct mpnet_reta *wide = malloc(sizeof(*wide));
        uint8_t shortf[10] = {0};
        const struct mpnet_null_frame t = {shortf, sizeof(shortf)};
        struct mpnet_null_cfg bad[] = {
            {.n_queues = MPNET_NULL_MAX_QUEUES + 1},
            {.mtu = 60},
            {.pool = pool, .frame_len = 59},
            {.pool = pool, .frame_len = 1515},
            {.pool = pool, .src_ip = IP4(10, 0, 0, 1)},
            {.pool = pool, .dst_ip = IP4(198, 20, 0, 1)},
            /* 1024 destinations from 198.19.255.0 leave 198.18.0.0/15. */
            {.pool = pool, .dst_ip = IP4(198, 19, 255, 0)},
            {.pool = pool, .src_port = 65000, .vary = MPNET_NULL_VARY_SRC_PORT},
            {.pool = pool, .vary = 1u << 7},
            {.pool = pool, .templates = &t, .n_templates = 1},
            {.pool = pool, .n_templates = 1},
            {.pool = pool, .n_queues = 2, .reta = wide},
        };

        (void)state;
        assert_non_null(wide);
        assert_int_equal(mpnet_reta_init(wide, 0, 3), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(mpnet_null_create(&bad[i], &l), -EINVAL);
                assert_null(l);
        }
        assert_int_equal(mpnet_null_create(NULL, NULL), -EINVAL);
        assert_int_equal(mpnet_null_queue_flows(NULL, 0), -EINVAL);
        free(wide);
        mpnet_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sink),       cmocka_unit_test(test_frames_valid),
            cmocka_unit_test(test_rss_queues), cmocka_unit_test(test_default_spread),
            cmocka_unit_test(test_templates),  cmocka_unit_test(test_tx_frees_and_stats),
            cmocka_unit_test(test_pool_dry),   cmocka_unit_test(test_bad_cfg),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
