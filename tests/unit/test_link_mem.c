/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The memory wire: configuration, frames both ways and per queue, the MTU
 * check, a full ring, counters, and teardown with frames still in flight.
 */
#include <errno.h>

#include "testutil.h"

#define ETH_HDR 14u

struct wire {
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b;
};

/* An Ethernet frame of len bytes whose payload starts with seq. */
static struct mpnet_pkt *frame(struct mpnet_pool *pool, uint32_t seq, uint32_t len)
{
        uint8_t b[9100];
        struct mpnet_pkt *p;

        assert_true(len >= ETH_HDR + 4 && len <= sizeof(b));
        memset(b, 0xff, 6);
        memset(b + 6, 0x02, 6);
        b[12] = 0x88;
        b[13] = 0xb5; /* local experimental ethertype */
        memcpy(b + ETH_HDR, &seq, 4);
        for (uint32_t i = ETH_HDR + 4; i < len; i++)
                b[i] = (uint8_t)(i * 7 + seq);
        p = mpnet_pkt_from_bytes(pool, b, len);
        assert_non_null(p);
        return p;
}

static uint32_t seq_of(const struct mpnet_pkt *p)
{
        uint32_t seq;

        assert_int_equal(mpnet_pkt_read(p, ETH_HDR, &seq, 4), 0);
        return seq;
}

static void wire_open(struct wire *w, const struct mpnet_memwire_cfg *cfg)
{
        w->pool = mpnet_pool_create("test", 4096);
        assert_non_null(w->pool);
        assert_int_equal(mpnet_memwire_create(cfg, &w->a, &w->b), 0);
}

static void wire_close(struct wire *w)
{
        mpnet_link_destroy(w->a);
        mpnet_link_destroy(w->b);
        assert_int_equal(mpnet_pool_in_use(w->pool), 0);
        mpnet_pool_destroy(w->pool);
}

static void test_defaults(void **state)
{
        struct wire w;

        (void)state;
        wire_open(&w, NULL);
        assert_string_equal(w.a->info.kind, "mem");
        assert_string_equal(w.a->name, "mem-a");
        assert_string_equal(w.b->name, "mem-b");
        assert_int_equal(w.a->info.mtu, 1500);
        assert_int_equal(w.a->info.n_rxq, 1);
        assert_int_equal(w.a->info.n_txq, 1);
        assert_int_equal(w.a->info.speed_bps, 10000000000ull);
        /* Locally administered unicast, distinct ends, same every run. */
        assert_int_equal(w.a->info.mac[0], 0x02);
        assert_int_equal(w.a->info.mac[5], 0x0a);
        assert_int_equal(w.b->info.mac[5], 0x0b);
        assert_memory_equal(w.a->info.mac, w.b->info.mac, 5);
        assert_int_equal(mpnet_link_next_event(w.a, 5), MPNET_TIME_NEVER);
        wire_close(&w);
}

static void test_cfg(void **state)
{
        struct mpnet_memwire_cfg cfg = {
            .n_queues = 4,
            .ring_size = 64,
            .mtu = 9000,
            .speed_bps = 25000000000ull,
            .mac_a = {0x02, 1, 2, 3, 4, 5},
            .mac_b = {0x02, 6, 7, 8, 9, 10},
            .name = "lan",
        };
        struct wire w;

        (void)state;
        wire_open(&w, &cfg);
        assert_string_equal(w.a->name, "lan-a");
        assert_string_equal(w.b->name, "lan-b");
        assert_memory_equal(w.a->info.mac, cfg.mac_a, 6);
        assert_memory_equal(w.b->info.mac, cfg.mac_b, 6);
        assert_int_equal(w.b->info.mtu, 9000);
        assert_int_equal(w.b->info.n_rxq, 4);
        assert_int_equal(w.b->info.n_txq, 4);
        assert_int_equal(w.b->info.speed_bps, 25000000000ull);
        wire_close(&w);
}

static void test_bad_cfg(void **state)
{
        struct mpnet_memwire_cfg cfg = {0};
        struct mpnet_link *a, *b;

        (void)state;
        cfg.ring_size = 100;
        assert_int_equal(mpnet_memwire_create(&cfg, &a, &b), -EINVAL);
        cfg.ring_size = 0;
        cfg.n_queues = 65;
        assert_int_equal(mpnet_memwire_create(&cfg, &a, &b), -EINVAL);
        cfg.n_queues = 0;
        cfg.mtu = 67;
        assert_int_equal(mpnet_memwire_create(&cfg, &a, &b), -EINVAL);
        assert_int_equal(mpnet_memwire_create(NULL, NULL, &b), -EINVAL);
        assert_int_equal(mpnet_memwire_create(NULL, &a, NULL), -EINVAL);
}

/* Send frames [seq0, seq0 + n) from src on q; they come out of dst in order,
 * by pointer. */
static void pass(struct wire *w, struct mpnet_link *src, struct mpnet_link *dst, uint16_t q,
                 uint32_t seq0, uint16_t n)
{
        struct mpnet_pkt *tx[64], *rx[64];

        assert_true(n <= 64);
        for (uint16_t i = 0; i < n; i++)
                tx[i] = frame(w->pool, seq0 + i, 60 + i);
        assert_int_equal(mpnet_link_tx_burst(src, q, tx, n), n);
        assert_int_equal(mpnet_link_rx_burst(dst, q, rx, 64), n);
        for (uint16_t i = 0; i < n; i++) {
                assert_ptr_equal(rx[i], tx[i]); /* zero-copy */
                assert_int_equal(seq_of(rx[i]), seq0 + i);
                assert_int_equal(rx[i]->pkt_len, 60 + i);
        }
        mpnet_pkt_free_bulk(rx, n);
        assert_int_equal(mpnet_link_rx_burst(dst, q, rx, 64), 0);
}

static void test_both_ways(void **state)
{
        struct wire w;

        (void)state;
        wire_open(&w, NULL);
        pass(&w, w.a, w.b, 0, 100, 5);
        pass(&w, w.b, w.a, 0, 200, 3);
        /* Nothing loops back to the sender. */
        {
                struct mpnet_pkt *p = frame(w.pool, 1, 60), *rx[4];

                assert_int_equal(mpnet_link_tx_burst(w.a, 0, &p, 1), 1);
                assert_int_equal(mpnet_link_rx_burst(w.a, 0, rx, 4), 0);
                assert_int_equal(mpnet_link_rx_burst(w.b, 0, rx, 4), 1);
                mpnet_pkt_free(rx[0]);
        }
        wire_close(&w);
}

/* Checksum offload (cfg.csum_offload): both directions reported in the
 * info and every frame received marked verified; without it, neither. A
 * checksum left to the link (MPNET_PKT_F_L4_CSUM_TX) crosses as it is
 * either way: a stack finishes it before a link without the offer. */
static void test_csum_offload(void **state)
{
        const uint32_t ok = MPNET_PKT_F_L3_CSUM_OK | MPNET_PKT_F_L4_CSUM_OK;
        const uint32_t both = MPNET_LINK_OFF_RX_CSUM | MPNET_LINK_OFF_TX_CSUM;

        (void)state;
        for (int on = 0; on < 2; on++) {
                struct mpnet_memwire_cfg cfg = {.csum_offload = on != 0};
                struct wire w;
                struct mpnet_pkt *p, *rx[4];

                wire_open(&w, &cfg);
                assert_int_equal(w.a->info.offloads, on ? both : 0);
                assert_int_equal(w.b->info.offloads, on ? both : 0);
                p = frame(w.pool, 1, 60);
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_TX;
                assert_int_equal(mpnet_link_tx_burst(w.b, 0, &p, 1), 1);
                assert_int_equal(mpnet_link_rx_burst(w.a, 0, rx, 4), 1);
                assert_int_equal(rx[0]->ol_flags & ok, on ? ok : 0);
                assert_true(rx[0]->ol_flags & MPNET_PKT_F_L4_CSUM_TX);
                mpnet_pkt_free(rx[0]);
                wire_close(&w);
        }
}

static void test_queues(void **state)
{
        struct mpnet_memwire_cfg cfg = {.n_queues = 4};
        struct mpnet_pkt *p, *rx[8];
        struct wire w;

        (void)state;
        wire_open(&w, &cfg);
        for (uint16_t q = 0; q < 4; q++) {
                p = frame(w.pool, 1000 + q, 64);
                assert_int_equal(mpnet_link_tx_burst(w.a, q, &p, 1), 1);
        }
        for (uint16_t q = 0; q < 4; q++) {
                assert_int_equal(mpnet_link_rx_burst(w.b, q, rx, 8), 1);
                assert_int_equal(seq_of(rx[0]), 1000 + q);
                mpnet_pkt_free(rx[0]);
        }
        for (uint16_t q = 0; q < 4; q++)
                pass(&w, w.b, w.a, q, 10 * q, 4);
        /* A queue that does not exist takes and yields nothing. */
        p = frame(w.pool, 9, 64);
        assert_int_equal(mpnet_link_tx_burst(w.a, 4, &p, 1), 0);
        assert_int_equal(mpnet_link_rx_burst(w.b, 4, rx, 8), 0);
        mpnet_pkt_free(p);
        wire_close(&w);
}

static void test_mtu_drop(void **state)
{
        struct mpnet_pkt *tx[3], *rx[4];
        struct mpnet_link_stats st;
        struct wire w;

        (void)state;
        wire_open(&w, NULL);
        /* mtu + 18: an Ethernet header and one VLAN tag. */
        tx[0] = frame(w.pool, 0, 1518);
        tx[1] = frame(w.pool, 1, 1519);
        tx[2] = frame(w.pool, 2, 60);
        assert_int_equal(mpnet_link_tx_burst(w.a, 0, tx, 3), 3); /* all taken */
        assert_int_equal(mpnet_link_rx_burst(w.b, 0, rx, 4), 2);
        assert_int_equal(seq_of(rx[0]), 0);
        assert_int_equal(seq_of(rx[1]), 2);
        mpnet_pkt_free_bulk(rx, 2);
        mpnet_link_get_stats(w.a, &st);
        assert_int_equal(st.tx_pkts, 2);
        assert_int_equal(st.tx_bytes, 1518 + 60);
        assert_int_equal(st.tx_drops, 1);
        assert_int_equal(mpnet_pool_in_use(w.pool), 0); /* the dropped one was freed */
        wire_close(&w);
}

static void test_ring_full(void **state)
{
        struct mpnet_memwire_cfg cfg = {.ring_size = 8};
        struct mpnet_pkt *tx[10], *rx[16];
        struct wire w;

        (void)state;
        wire_open(&w, &cfg);
        for (uint32_t i = 0; i < 10; i++)
                tx[i] = frame(w.pool, i, 64);
        assert_int_equal(mpnet_link_tx_burst(w.a, 0, tx, 10), 8);
        /* The caller keeps the last two, untouched. */
        assert_int_equal(seq_of(tx[8]), 8);
        assert_int_equal(seq_of(tx[9]), 9);
        assert_int_equal(mpnet_link_tx_burst(w.a, 0, &tx[8], 2), 0);
        assert_int_equal(mpnet_link_rx_burst(w.b, 0, rx, 16), 8);
        mpnet_pkt_free_bulk(rx, 8);
        assert_int_equal(mpnet_link_tx_burst(w.a, 0, &tx[8], 2), 2);
        assert_int_equal(mpnet_link_rx_burst(w.b, 0, rx, 16), 2);
        assert_int_equal(seq_of(rx[0]), 8);
        assert_int_equal(seq_of(rx[1]), 9);
        mpnet_pkt_free_bulk(rx, 2);

        /* Room for one, and an oversized frame among the rest: the link takes
         * the first and the oversized one and hands back the others, in order,
         * at the end of the array. */
        for (uint32_t i = 0; i < 7; i++)
                tx[i] = frame(w.pool, 100 + i, 64);
        assert_int_equal(mpnet_link_tx_burst(w.a, 0, tx, 7), 7);
        tx[0] = frame(w.pool, 0, 64);
        tx[1] = frame(w.pool, 1, 64);
        tx[2] = frame(w.pool, 2, 2000);
        tx[3] = frame(w.pool, 3, 64);
        assert_int_equal(mpnet_link_tx_burst(w.a, 0, tx, 4), 2);
        assert_int_equal(seq_of(tx[2]), 1);
        assert_int_equal(seq_of(tx[3]), 3);
        assert_int_equal(mpnet_link_rx_burst(w.b, 0, rx, 16), 8);
        assert_int_equal(seq_of(rx[7]), 0);
        mpnet_pkt_free_bulk(rx, 8);
        assert_int_equal(mpnet_link_tx_burst(w.a, 0, &tx[2], 2), 2);
        mpnet_pkt_free_bulk(rx, mpnet_link_rx_burst(w.b, 0, rx, 16));
        wire_close(&w);
}

static void test_stats(void **state)
{
        struct mpnet_memwire_cfg cfg = {.n_queues = 2};
        struct mpnet_link_stats st;
        struct wire w;

        (void)state;
        wire_open(&w, &cfg);
        pass(&w, w.a, w.b, 0, 0, 3); /* 60 + 61 + 62 bytes */
        pass(&w, w.a, w.b, 1, 0, 2); /* 60 + 61 */
        pass(&w, w.b, w.a, 1, 0, 1); /* 60 */
        mpnet_link_get_stats(w.a, &st);
        assert_int_equal(st.tx_pkts, 5);
        assert_int_equal(st.tx_bytes, 183 + 121);
        assert_int_equal(st.rx_pkts, 1);
        assert_int_equal(st.rx_bytes, 60);
        assert_int_equal(st.rx_drops, 0);
        assert_int_equal(st.tx_drops, 0);
        mpnet_link_get_stats(w.b, &st);
        assert_int_equal(st.rx_pkts, 5);
        assert_int_equal(st.rx_bytes, 183 + 121);
        assert_int_equal(st.tx_pkts, 1);
        assert_int_equal(st.tx_bytes, 60);
        wire_close(&w);
}

/* Frames left in the rings are freed with the wire, whichever end goes last. */
static void destroy_in_flight(int b_first)
{
        struct mpnet_memwire_cfg cfg = {.n_queues = 3, .mtu = 9000};
        struct mpnet_pkt *tx[5];
        struct wire w;

        wire_open(&w, &cfg);
        for (uint16_t q = 0; q < 3; q++) {
                for (uint32_t i = 0; i < 5; i++)
                        tx[i] = frame(w.pool, i, q == 0 ? 3000 : 100);
                assert_int_equal(mpnet_link_tx_burst(q == 1 ? w.b : w.a, q, tx, 5), 5);
        }
        assert_int_equal(mpnet_pool_in_use(w.pool), 5 * 2 + 10); /* 3000 bytes: two segments */
        if (b_first) {
                mpnet_link_destroy(w.b);
                w.b = NULL;
                assert_int_equal(mpnet_pool_in_use(w.pool), 20); /* a still holds the wire */
        } else {
                mpnet_link_destroy(w.a);
                w.a = NULL;
                assert_int_equal(mpnet_pool_in_use(w.pool), 20);
        }
        wire_close(&w);
}

static void test_destroy_in_flight(void **state)
{
        (void)state;
        destroy_in_flight(0);
        destroy_in_flight(1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults),     cmocka_unit_test(test_cfg),
            cmocka_unit_test(test_bad_cfg),      cmocka_unit_test(test_both_ways),
            cmocka_unit_test(test_csum_offload), cmocka_unit_test(test_queues),
            cmocka_unit_test(test_mtu_drop),     cmocka_unit_test(test_ring_full),
            cmocka_unit_test(test_stats),        cmocka_unit_test(test_destroy_in_flight),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
