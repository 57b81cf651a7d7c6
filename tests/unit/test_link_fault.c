/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fault decorator: each fault alone, with counts, order and bytes checked
 * against what was sent; the same seed giving the same faults; delay on a
 * virtual clock; the hold bound; and no buffer left behind.
 */
#include <errno.h>

#include "testutil.h"

#define ETH_HDR 14u
#define T0      MPNET_NS_PER_S

struct env {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *a; /* sends */
        struct mpnet_link *f; /* receives: fault over the wire's b end */
};

static void fill(uint8_t *b, uint32_t seq, uint32_t len)
{
        memset(b, 0xff, 6);
        memset(b + 6, 0x02, 6);
        b[12] = 0x88;
        b[13] = 0xb5;
        memcpy(b + ETH_HDR, &seq, 4);
        for (uint32_t i = ETH_HDR + 4; i < len; i++)
                b[i] = (uint8_t)(i * 11 + seq);
}

static uint32_t len_of(uint32_t seq)
{
        return seq % 7 == 3 ? 3000 : 60 + seq % 200; /* some chained */
}

static uint32_t seq_of(const struct mpnet_pkt *p)
{
        uint32_t seq;

        assert_int_equal(mpnet_pkt_read(p, ETH_HDR, &seq, 4), 0);
        return seq;
}

static void env_open(struct env *e, const struct mpnet_fault_cfg *cfg, uint32_t pool_n)
{
        struct mpnet_memwire_cfg wc = {.ring_size = 8192, .mtu = 9000};
        struct mpnet_link *b;

        mpnet_clock_init_virtual(&e->clk, T0);
        e->pool = mpnet_pool_create("test", pool_n);
        assert_non_null(e->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &e->a, &b), 0);
        e->f = mpnet_fault_create(b, cfg, &e->clk, e->pool);
        assert_non_null(e->f);
}

static void env_close(struct env *e)
{
        mpnet_link_destroy(e->f);
        mpnet_link_destroy(e->a);
        assert_int_equal(mpnet_pool_in_use(e->pool), 0);
        mpnet_pool_destroy(e->pool);
}

/* Send frames seq0 .. seq0 + n - 1 from a. */
static void send(struct env *e, uint32_t seq0, uint32_t n)
{
        static uint8_t b[3000];

        for (uint32_t i = 0; i < n; i++) {
                struct mpnet_pkt *p;

                fill(b, seq0 + i, len_of(seq0 + i));
                p = mpnet_pkt_from_bytes(e->pool, b, len_of(seq0 + i));
                assert_non_null(p);
                assert_int_equal(mpnet_link_tx_burst(e->a, 0, &p, 1), 1);
        }
}

/* Receive everything ready now; store the sequence numbers (up to max) and
 * free the frames. Returns how many came. */
static uint32_t recv_seqs(struct env *e, uint32_t *seqs, uint32_t max)
{
        struct mpnet_pkt *rx[MPNET_VEC_MAX];
        uint32_t got = 0;
        uint16_t n;

        while ((n = mpnet_link_rx_burst(e->f, 0, rx, MPNET_VEC_MAX)) > 0) {
                for (uint16_t i = 0; i < n; i++) {
                        assert_true(got < max);
                        seqs[got++] = seq_of(rx[i]);
                }
                mpnet_pkt_free_bulk(rx, n);
        }
        return got;
}

static void check_intact(const struct mpnet_pkt *p)
{
        static uint8_t want[3000], got[3000];
        uint32_t seq = seq_of(p);

        assert_int_equal(p->pkt_len, len_of(seq));
        fill(want, seq, p->pkt_len);
        assert_int_equal(mpnet_pkt_read(p, 0, got, p->pkt_len), 0);
        assert_memory_equal(got, want, p->pkt_len);
}

static void test_no_faults(void **state)
{
        struct mpnet_fault_cfg cfg = {.seed = 1};
        struct mpnet_pkt *rx[MPNET_VEC_MAX];
        struct mpnet_fault_stats fs;
        struct mpnet_link_stats st;
        uint32_t next = 0;
        struct env e;
        uint16_t n;

        (void)state;
        env_open(&e, &cfg, 4096);
        assert_string_equal(e.f->info.kind, "fault");
        assert_string_equal(e.f->name, "mem-b");
        assert_int_equal(e.f->info.mtu, 9000);
        send(&e, 0, 1000);
        while ((n = mpnet_link_rx_burst(e.f, 0, rx, MPNET_VEC_MAX)) > 0) {
                for (uint16_t i = 0; i < n; i++) {
                        assert_int_equal(seq_of(rx[i]), next++);
                        check_intact(rx[i]);
                }
                mpnet_pkt_free_bulk(rx, n);
        }
        assert_int_equal(next, 1000);
        assert_int_equal(mpnet_link_next_event(e.f, T0), MPNET_TIME_NEVER);
        assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
        assert_int_equal(fs.lost + fs.duplicated + fs.reordered + fs.corrupted + fs.delayed, 0);
        mpnet_link_get_stats(e.f, &st);
        assert_int_equal(st.rx_pkts, 1000);
        assert_int_equal(st.rx_drops, 0);
        /* tx passes through */
        {
                static uint8_t b[64];
                struct mpnet_pkt *p;

                fill(b, 77, sizeof(b));
                p = mpnet_pkt_from_bytes(e.pool, b, sizeof(b));
                assert_non_null(p);
                assert_int_equal(mpnet_link_tx_burst(e.f, 0, &p, 1), 1);
                assert_int_equal(mpnet_link_rx_burst(e.a, 0, rx, 4), 1);
                assert_ptr_equal(rx[0], p);
                mpnet_pkt_free(rx[0]);
                mpnet_link_get_stats(e.f, &st);
                assert_int_equal(st.tx_pkts, 1);
        }
        env_close(&e);
}

/* Send 10000 frames through 10% loss; return how many arrived and store
 * which ones. */
static uint32_t lossy_run(uint64_t seed, uint32_t *seqs)
{
        struct mpnet_fault_cfg cfg = {.seed = seed, .loss_ppm = 100000};
        struct mpnet_fault_stats fs;
        struct mpnet_link_stats st;
        uint32_t got = 0;
        struct env e;

        env_open(&e, &cfg, 4096);
        for (uint32_t i = 0; i < 10000; i += 500) {
                send(&e, i, 500);
                got += recv_seqs(&e, seqs + got, 10000 - got);
        }
        assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
        assert_int_equal(fs.lost, 10000 - got);
        mpnet_link_get_stats(e.f, &st);
        assert_int_equal(st.rx_drops, fs.lost);
        assert_int_equal(st.rx_pkts, 10000); /* what the inner link received */
        for (uint32_t i = 1; i < got; i++)
                assert_true(seqs[i] > seqs[i - 1]); /* loss alone keeps order */
        env_close(&e);
        return got;
}

static void test_loss(void **state)
{
        static uint32_t s1[10000], s2[10000], s3[10000];
        uint32_t n1, n2, n3, lost;

        (void)state;
        n1 = lossy_run(42, s1);
        lost = 10000 - n1;
        assert_in_range(lost, 850, 1150); /* 10 % +- 1.5 % */
        n2 = lossy_run(42, s2);
        assert_int_equal(n1, n2);
        assert_memory_equal(s1, s2, n1 * sizeof(*s1)); /* same seed, same frames */
        n3 = lossy_run(43, s3);
        assert_in_range(10000 - n3, 850, 1150);
        assert_true(n3 != n1 || memcmp(s1, s3, n1 * sizeof(*s1)) != 0);
}

static void test_all_lost(void **state)
{
        struct mpnet_fault_cfg cfg = {.loss_ppm = 1000000};
        struct mpnet_pkt *rx[8];
        struct env e;

        (void)state;
        env_open(&e, &cfg, 4096);
        send(&e, 0, 3000); /* more than one rx_burst pulls */
        assert_int_equal(mpnet_link_rx_burst(e.f, 0, rx, 8), 0);
        /* It pulled a bounded amount and asks to be polled again at once. */
        assert_int_equal(mpnet_link_next_event(e.f, T0), T0);
        while (mpnet_link_next_event(e.f, T0) == T0)
                assert_int_equal(mpnet_link_rx_burst(e.f, 0, rx, 8), 0);
        assert_int_equal(mpnet_link_next_event(e.f, T0), MPNET_TIME_NEVER);
        {
                struct mpnet_fault_stats fs;

                assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
                assert_int_equal(fs.lost, 3000);
        }
        env_close(&e);
}

static void test_dup(void **state)
{
        struct mpnet_fault_cfg cfg = {.seed = 7, .dup_ppm = 1000000};
        struct mpnet_pkt *rx[MPNET_VEC_MAX];
        struct mpnet_fault_stats fs;
        uint32_t total = 0;
        struct env e;
        uint16_t n;

        (void)state;
        env_open(&e, &cfg, 4096);
        send(&e, 0, 300);
        /* Small bursts: a duplicate may have to wait for the next call. */
        while ((n = mpnet_link_rx_burst(e.f, 0, rx, 7)) > 0) {
                for (uint16_t i = 0; i < n; i++) {
                        assert_int_equal(seq_of(rx[i]), (total + i) / 2);
                        check_intact(rx[i]);
                }
                total += n;
                mpnet_pkt_free_bulk(rx, n);
        }
        assert_int_equal(total, 600);
        assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
        assert_int_equal(fs.duplicated, 300);
        env_close(&e);

        /* Half the frames, the same half for the same seed. */
        cfg.dup_ppm = 500000;
        for (int run = 0; run < 2; run++) {
                static uint32_t seqs[2][2000];
                static uint32_t got[2];

                env_open(&e, &cfg, 4096);
                send(&e, 0, 1000);
                got[run] = recv_seqs(&e, seqs[run], 2000);
                assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
                assert_int_equal(got[run], 1000 + fs.duplicated);
                assert_in_range(fs.duplicated, 400, 600);
                env_close(&e);
                if (run == 1) {
                        assert_int_equal(got[0], got[1]);
                        assert_memory_equal(seqs[0], seqs[1], got[0] * sizeof(uint32_t));
                }
        }
}

static void test_reorder(void **state)
{
        struct mpnet_fault_cfg cfg = {.seed = 3, .reorder_ppm = 1000000};
        static uint32_t seqs[1000];
        struct mpnet_fault_stats fs;
        unsigned descents = 0;
        uint8_t seen[1000] = {0};
        uint32_t got;
        struct env e;

        (void)state;
        /* Every frame marked: each is held behind the next, pairwise swapped,
         * and a last odd one waits until its hold time runs out. */
        env_open(&e, &cfg, 4096);
        send(&e, 0, 11);
        got = recv_seqs(&e, seqs, 1000);
        assert_int_equal(got, 10);
        for (uint32_t i = 0; i < 10; i++)
                assert_int_equal(seqs[i], i ^ 1);
        assert_int_equal(mpnet_link_next_event(e.f, T0), T0 + MPNET_NS_PER_MS);
        mpnet_clock_set(&e.clk, T0 + MPNET_NS_PER_MS - 1);
        assert_int_equal(recv_seqs(&e, seqs, 1000), 0);
        mpnet_clock_set(&e.clk, T0 + MPNET_NS_PER_MS);
        assert_int_equal(recv_seqs(&e, seqs, 1000), 1);
        assert_int_equal(seqs[0], 10);
        assert_int_equal(mpnet_link_next_event(e.f, T0 + MPNET_NS_PER_MS), MPNET_TIME_NEVER);
        env_close(&e);

        /* 30 %: every frame arrives once; each reordered frame makes one
         * descent, except a last one released by its hold time. */
        cfg.reorder_ppm = 300000;
        env_open(&e, &cfg, 4096);
        send(&e, 0, 1000);
        got = recv_seqs(&e, seqs, 1000);
        mpnet_clock_advance(&e.clk, MPNET_NS_PER_MS);
        got += recv_seqs(&e, seqs + got, 1000 - got);
        assert_int_equal(got, 1000);
        for (uint32_t i = 0; i < 1000; i++) {
                assert_false(seen[seqs[i]]);
                seen[seqs[i]] = 1;
                if (i > 0 && seqs[i] < seqs[i - 1]) {
                        assert_int_equal(seqs[i] + 1, seqs[i - 1]); /* held behind the next */
                        descents++;
                }
        }
        assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
        assert_in_range(fs.reordered, 150, 350); /* a held frame is never re-held */
        assert_in_range(descents, fs.reordered - 1, fs.reordered);
        env_close(&e);
}

static void test_corrupt(void **state)
{
        struct mpnet_fault_cfg cfg = {.seed = 9, .corrupt_ppm = 1000000};
        struct mpnet_pkt *rx[MPNET_VEC_MAX];
        static uint8_t want[3000], got[3000];
        struct mpnet_fault_stats fs;
        unsigned total = 0, in_tail = 0;
        struct env e;
        uint16_t n;

        (void)state;
        env_open(&e, &cfg, 4096);
        send(&e, 0, 500);
        while ((n = mpnet_link_rx_burst(e.f, 0, rx, MPNET_VEC_MAX)) > 0) {
                for (uint16_t i = 0; i < n; i++) {
                        uint32_t seq = (uint32_t)total + i, len = len_of(seq), bits = 0;

                        /* The sequence number may be the corrupted bit: go by order. */
                        assert_int_equal(rx[i]->pkt_len, len);
                        fill(want, seq, len);
                        assert_int_equal(mpnet_pkt_read(rx[i], 0, got, len), 0);
                        for (uint32_t k = 0; k < len; k++) {
                                bits += (unsigned)__builtin_popcount(want[k] ^ got[k]);
                                if (want[k] != got[k] && k >= rx[i]->len)
                                        in_tail++; /* in the second segment */
                        }
                        assert_int_equal(bits, 1);
                }
                total += n;
                mpnet_pkt_free_bulk(rx, n);
        }
        assert_int_equal(total, 500);
        assert_true(in_tail > 0);
        assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
        assert_int_equal(fs.corrupted, 500);
        env_close(&e);
}

static void test_delay(void **state)
{
        struct mpnet_fault_cfg cfg = {.seed = 5, .delay_ns = 10 * MPNET_NS_PER_MS};
        static uint32_t seqs[200];
        struct mpnet_fault_stats fs;
        struct env e;

        (void)state;
        env_open(&e, &cfg, 4096);
        assert_int_equal(mpnet_link_next_event(e.f, T0), MPNET_TIME_NEVER);
        send(&e, 0, 5);
        assert_int_equal(recv_seqs(&e, seqs, 200), 0);
        assert_int_equal(mpnet_link_next_event(e.f, T0), T0 + 10 * MPNET_NS_PER_MS);
        mpnet_clock_advance(&e.clk, MPNET_NS_PER_MS);
        send(&e, 5, 3); /* due 1 ms later */
        assert_int_equal(recv_seqs(&e, seqs, 200), 0);
        assert_int_equal(mpnet_link_next_event(e.f, T0), T0 + 10 * MPNET_NS_PER_MS);
        mpnet_clock_set(&e.clk, T0 + 10 * MPNET_NS_PER_MS - 1);
        assert_int_equal(recv_seqs(&e, seqs, 200), 0);
        mpnet_clock_set(&e.clk, T0 + 10 * MPNET_NS_PER_MS);
        assert_int_equal(recv_seqs(&e, seqs, 200), 5);
        for (uint32_t i = 0; i < 5; i++)
                assert_int_equal(seqs[i], i);
        assert_int_equal(mpnet_link_next_event(e.f, mpnet_clock_now(&e.clk)),
                         T0 + 11 * MPNET_NS_PER_MS);
        mpnet_clock_set(&e.clk, T0 + 11 * MPNET_NS_PER_MS);
        assert_int_equal(recv_seqs(&e, seqs, 200), 3);
        assert_int_equal(seqs[0], 5);
        assert_int_equal(mpnet_link_next_event(e.f, mpnet_clock_now(&e.clk)), MPNET_TIME_NEVER);
        assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
        assert_int_equal(fs.delayed, 8);
        env_close(&e);
}

/* Frames sent at T0 with 1 ms delay and up to 1 ms jitter arrive between
 * T0 + 1 ms and T0 + 2 ms, exactly when next_event says, and identically for
 * the same seed. */
static void jitter_run(uint64_t *at, uint32_t *seqs)
{
        struct mpnet_fault_cfg cfg = {
            .seed = 11, .delay_ns = MPNET_NS_PER_MS, .jitter_ns = MPNET_NS_PER_MS};
        uint32_t got = 0, steps = 0;
        struct env e;

        env_open(&e, &cfg, 4096);
        send(&e, 0, 200);
        for (;;) {
                uint64_t now = mpnet_clock_now(&e.clk), t, k;

                k = recv_seqs(&e, seqs + got, 200 - got);
                for (uint64_t i = 0; i < k; i++)
                        at[got + i] = now;
                got += (uint32_t)k;
                t = mpnet_link_next_event(e.f, now);
                if (t == MPNET_TIME_NEVER)
                        break;
                assert_true(t > now); /* what was due has come */
                assert_in_range(t, T0 + MPNET_NS_PER_MS, T0 + 2 * MPNET_NS_PER_MS);
                /* Nothing comes just before the announced time. */
                mpnet_clock_set(&e.clk, t - 1);
                assert_int_equal(recv_seqs(&e, seqs + got, 200 - got), 0);
                mpnet_clock_set(&e.clk, t);
                steps++;
        }
        assert_int_equal(got, 200);
        assert_true(steps > 100); /* spread out, not in a lump */
        env_close(&e);
}

static void test_jitter(void **state)
{
        static uint64_t at1[200], at2[200];
        static uint32_t s1[200], s2[200];
        unsigned swapped = 0;

        (void)state;
        jitter_run(at1, s1);
        jitter_run(at2, s2);
        assert_memory_equal(at1, at2, sizeof(at1));
        assert_memory_equal(s1, s2, sizeof(s1));
        for (uint32_t i = 1; i < 200; i++)
                swapped += s1[i] < s1[i - 1];
        assert_true(swapped > 0); /* jitter reorders, as netem's does */
}

/* At most 4096 frames are held for delay; the rest are lost. */
static void test_hold_bound(void **state)
{
        struct mpnet_fault_cfg cfg = {.delay_ns = MPNET_NS_PER_S};
        static uint32_t seqs[5000];
        struct mpnet_fault_stats fs;
        struct mpnet_link_stats st;
        struct env e;

        (void)state;
        env_open(&e, &cfg, 8192);
        send(&e, 0, 5000);
        for (int i = 0; i < 10; i++)
                assert_int_equal(recv_seqs(&e, seqs, 5000), 0);
        assert_int_equal(mpnet_fault_get_stats(e.f, &fs), 0);
        assert_int_equal(fs.delayed, 4096);
        assert_int_equal(fs.lost, 5000 - 4096);
        mpnet_link_get_stats(e.f, &st);
        assert_int_equal(st.rx_drops, 5000 - 4096);
        {
                uint32_t bufs = 0;

                for (uint32_t i = 0; i < 4096; i++)
                        bufs += len_of(i) > 2048 ? 2 : 1;
                assert_int_equal(mpnet_pool_in_use(e.pool), bufs); /* the held, nothing else */
        }
        mpnet_clock_advance(&e.clk, MPNET_NS_PER_S);
        assert_int_equal(recv_seqs(&e, seqs, 5000), 4096);
        for (uint32_t i = 0; i < 4096; i++)
                assert_int_equal(seqs[i], i);
        env_close(&e);
}

/* Destroy with frames in the delay heap, the ready queue and the reorder
 * slot: all are freed. */
static void test_destroy_held(void **state)
{
        struct mpnet_fault_cfg cfg = {.seed = 2, .reorder_ppm = 1000000};
        struct mpnet_pkt *rx[8];
        struct env e;

        (void)state;
        /* One frame in the reorder slot. */
        env_open(&e, &cfg, 4096);
        send(&e, 0, 3);
        assert_int_equal(mpnet_link_rx_burst(e.f, 0, rx, 8), 2);
        mpnet_pkt_free_bulk(rx, 2);
        env_close(&e); /* asserts the pool is whole */

        /* Frames ready but not taken, and more left in the inner link. */
        cfg.dup_ppm = 1000000;
        env_open(&e, &cfg, 4096);
        send(&e, 0, 50);
        assert_int_equal(mpnet_link_rx_burst(e.f, 0, rx, 3), 3);
        mpnet_pkt_free_bulk(rx, 3);
        env_close(&e);

        /* Frames in the delay heap. */
        cfg.delay_ns = 5 * MPNET_NS_PER_MS;
        env_open(&e, &cfg, 4096);
        send(&e, 0, 50);
        assert_int_equal(mpnet_link_rx_burst(e.f, 0, rx, 2), 0);
        env_close(&e);
}

static void test_bad_args(void **state)
{
        struct mpnet_fault_cfg cfg = {.loss_ppm = 1000001};
        struct mpnet_link *a, *b;
        struct mpnet_fault_stats fs;

        (void)state;
        assert_int_equal(mpnet_memwire_create(NULL, &a, &b), 0);
        errno = 0;
        assert_null(mpnet_fault_create(b, &cfg, NULL, NULL));
        assert_int_equal(errno, EINVAL);
        assert_null(mpnet_fault_create(NULL, NULL, NULL, NULL));
        /* Not a fault link. */
        assert_int_equal(mpnet_fault_get_stats(a, &fs), -EINVAL);
        assert_int_equal(mpnet_fault_get_stats(NULL, &fs), -EINVAL);
        b = mpnet_fault_create(b, NULL, NULL, NULL); /* no faults, monotonic clock */
        assert_non_null(b);
        assert_int_equal(mpnet_fault_get_stats(b, NULL), -EINVAL);
        assert_int_equal(mpnet_fault_get_stats(b, &fs), 0);
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_no_faults),  cmocka_unit_test(test_loss),
            cmocka_unit_test(test_all_lost),   cmocka_unit_test(test_dup),
            cmocka_unit_test(test_reorder),    cmocka_unit_test(test_corrupt),
            cmocka_unit_test(test_delay),      cmocka_unit_test(test_jitter),
            cmocka_unit_test(test_hold_bound), cmocka_unit_test(test_destroy_held),
            cmocka_unit_test(test_bad_args),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
