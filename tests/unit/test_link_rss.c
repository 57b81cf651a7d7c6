/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Software RSS on the memory wire: with the symmetric key both directions of
 * a flow arrive on the same queue index; flows spread over the queues; the
 * indirection table steers; the hash rides in flow_hash.
 */
#include "mpnet/rss.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "testutil.h"

#define NQ    4
#define FLOWS 2000

static struct mpnet_pkt *udp_frame(struct mpnet_pool *pool, uint32_t src, uint32_t dst, uint16_t sp,
                                   uint16_t dp)
{
        struct mpnet_pkt *p = mpnet_pkt_alloc(pool);
        uint8_t *b = mpnet_pkt_append(p, 60);
        struct mpnet_eth_repr eth = {.dst = {2, 0, 0, 0, 0, 2},
                                     .src = {2, 0, 0, 0, 0, 1},
                                     .ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {
            .src = src, .dst = dst, .payload_len = 26, .proto = MPNET_IPPROTO_UDP, .ttl = 64};

        memset(b, 0, 60);
        mpnet_eth_repr_emit(&eth, b);
        mpnet_ip4_repr_emit(&ip, b + 14);
        mpnet_put_be16(b + 34, sp);
        mpnet_put_be16(b + 36, dp);
        return p;
}

/* Send one frame on queue 0 of from; return the queue it arrived on at to. */
static int arrival_queue(struct mpnet_link *from, struct mpnet_link *to, struct mpnet_pkt *p,
                         uint32_t *hash)
{
        assert_int_equal(mpnet_link_tx_burst(from, 0, &p, 1), 1);
        for (uint16_t q = 0; q < NQ; q++) {
                struct mpnet_pkt *r;

                if (mpnet_link_rx_burst(to, q, &r, 1) == 1) {
                        assert_true(r->ol_flags & MPNET_PKT_F_FLOW_HASH);
                        *hash = r->flow_hash;
                        mpnet_pkt_free(r);
                        return q;
                }
        }
        fail_msg("frame lost");
        return -1;
}

static void test_symmetric_and_spread(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "rss", .n_queues = NQ, .rss = true};
        struct mpnet_pool *pool = mpnet_pool_create("rss", 256);
        struct mpnet_link *a, *b;
        unsigned per_q[NQ] = {0};
        uint64_t x = 12345;

        (void)state;
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        assert_non_null(mpnet_memwire_reta(a));
        for (unsigned f = 0; f < FLOWS; f++) {
                uint32_t s, d, h1, h2;
                uint16_t sp, dp;
                int q1, q2;

                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                s = IP4(198, 18, 0, 0) | (uint32_t)(x & 0xffff);
                d = IP4(198, 19, 0, 0) | (uint32_t)(x >> 16 & 0xffff);
                sp = (uint16_t)(x >> 32);
                dp = (uint16_t)(x >> 48);
                q1 = arrival_queue(a, b, udp_frame(pool, s, d, sp, dp), &h1);
                q2 = arrival_queue(b, a, udp_frame(pool, d, s, dp, sp), &h2);
                assert_int_equal(q1, q2);
                assert_int_equal(h1, h2);
                per_q[q1]++;
        }
        /* Every queue gets a fair share (within 25 % of even). */
        for (unsigned q = 0; q < NQ; q++)
                assert_true(per_q[q] > FLOWS / NQ * 3 / 4 && per_q[q] < FLOWS / NQ * 5 / 4);
        /* Steer everything b receives to queue 2. */
        for (uint32_t i = 0; i < mpnet_reta_size(mpnet_memwire_reta(b)); i++)
                assert_int_equal(mpnet_reta_set(mpnet_memwire_reta(b), i, 2), 0);
        for (unsigned f = 0; f < 50; f++) {
                uint32_t h;

                assert_int_equal(arrival_queue(a, b,
                                               udp_frame(pool, IP4(198, 18, 0, 1) + f,
                                                         IP4(198, 19, 0, 1), 1000, 2000),
                                               &h),
                                 2);
        }
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_not_rss(void **state)
{
        struct mpnet_link *a, *b;

        (void)state;
        assert_int_equal(mpnet_memwire_create(NULL, &a, &b), 0);
        assert_null(mpnet_memwire_reta(a));
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_symmetric_and_spread),
            cmocka_unit_test(test_not_rss),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
