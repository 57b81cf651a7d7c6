/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Captures started and stopped on a running link (mpnet_capture_wrap(),
 * what `mpnetctl capture` drives): a classic BPF filter ("icmp and host
 * 192.0.2.2", as libpcap compiles it) keeps only the matching frames, the
 * count stops the writing, a malformed program is refused; and sessions
 * started and stopped hundreds of times while another thread transmits
 * through the link (ThreadSanitizer checks the hand-over, ASan the file's
 * life), each file holding exactly the frames the session counted, all
 * matching.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "mpnet/bpf.h"
#include "testutil.h"

/* tcpdump -dd -y EN10MB 'icmp and host 192.0.2.2' */
static const struct mpnet_bpf_insn icmp_host[] = {
    {0x28, 0, 0, 0x0c},    {0x15, 0, 7, 0x800},      {0x30, 0, 0, 0x17}, {0x15, 0, 5, 1},
    {0x20, 0, 0, 0x1a},    {0x15, 2, 0, 0xc0000202}, {0x20, 0, 0, 0x1e}, {0x15, 0, 1, 0xc0000202},
    {0x06, 0, 0, 0x40000}, {0x06, 0, 0, 0},
};

/* Frame i: ICMP or UDP, to 192.0.2.2 or 192.0.2.3; ICMP to .2 when i % 4
 * is 0. */
static struct mpnet_pkt *frame(struct mpnet_pool *pool, unsigned i)
{
        uint8_t f[60] = {0};

        memset(f, 0x02, 12);
        f[12] = 0x08;
        f[14] = 0x45;
        f[17] = 46;
        f[22] = 64;
        f[23] = (i & 1) ? 17 : 1;
        f[26] = 192;
        f[28] = 1;
        f[27] = 0;
        f[29] = 1;
        f[30] = 192;
        f[32] = 2;
        f[33] = (i & 2) ? 3 : 2;
        memcpy(f + 42, &i, sizeof(i));
        return mpnet_pkt_from_bytes(pool, f, sizeof(f));
}

static bool matches(const uint8_t *f, uint32_t n)
{
        return n >= 34 && f[12] == 0x08 && f[13] == 0 && f[23] == 1 &&
               (memcmp(f + 26, "\xc0\x00\x02\x02", 4) == 0 ||
                memcmp(f + 30, "\xc0\x00\x02\x02", 4) == 0);
}

/* The pcapng file's Enhanced Packet Blocks: @return how many, and whether
 * every frame matches the filter in *all_match. */
static unsigned records(const char *path, bool *all_match)
{
        FILE *f = fopen(path, "rb");
        size_t n, off = 0;
        unsigned k = 0;
        uint8_t *b;
        long sz;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        sz = ftell(f);
        rewind(f);
        b = malloc((size_t)sz);
        assert_non_null(b);
        n = fread(b, 1, (size_t)sz, f);
        fclose(f);
        assert_int_equal(n, (size_t)sz);
        *all_match = true;
        while (off + 12 <= n) {
                uint32_t type, len, caplen;

                memcpy(&type, b + off, 4);
                memcpy(&len, b + off + 4, 4);
                assert_true(len >= 12 && off + len <= n);
                if (type == 6) {
                        memcpy(&caplen, b + off + 20, 4);
                        *all_match &= matches(b + off + 28, caplen);
                        k++;
                }
                off += len;
        }
        free(b);
        assert_int_equal(off, n);
        return k;
}

static void send_frames(struct mpnet_pool *pool, struct mpnet_link *tx, struct mpnet_link *rx,
                        unsigned first, unsigned n)
{
        struct mpnet_pkt *v[32];
        unsigned k = 0;

        assert_true(n <= 32);
        for (unsigned i = 0; i < n; i++) {
                v[i] = frame(pool, first + i);
                assert_non_null(v[i]);
        }
        assert_int_equal(mpnet_link_tx_burst(tx, 0, v, (uint16_t)n), n);
        while (k < n) {
                uint16_t got = mpnet_link_rx_burst(rx, 0, v, 32);

                mpnet_pkt_free_bulk(v, got);
                k += got;
        }
}

static void out_path(char *p, size_t n, const char *name)
{
        snprintf(p, n, "%s/%s", test_out_dir(), name);
}

static void test_filter_and_count(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("capsess", 256);
        struct mpnet_link *a, *b, *cap;
        struct mpnet_capture_stats st;
        struct mpnet_capture_cfg cfg = {.fmt = MPNET_CAPTURE_PCAPNG,
                                        .filter = icmp_host,
                                        .filter_len = sizeof(icmp_host) / sizeof(icmp_host[0])};
        const struct mpnet_bpf_insn bad[] = {{0x15, 0, 9, 0}, {0x06, 0, 0, 0}};
        char path[512], why[128];
        bool ok;

        (void)state;
        assert_int_equal(mpnet_memwire_create(NULL, &a, &b), 0);
        cap = mpnet_capture_wrap(a);
        assert_non_null(cap);
        /* No session: frames pass, nothing counted. */
        send_frames(pool, cap, b, 0, 8);
        assert_int_equal(mpnet_capture_get_stats(cap, &st), -ENOENT);
        assert_int_equal(mpnet_capture_stop(cap, &st), -ENOENT);
        assert_int_equal(mpnet_capture_stop(b, &st), -EINVAL);
        out_path(path, sizeof(path), "capsess-filter.pcapng");
        cfg.path = path;
        assert_int_equal(mpnet_capture_start(cap, &cfg, why, sizeof(why)), 0);
        assert_int_equal(mpnet_capture_start(cap, &cfg, why, sizeof(why)), -EBUSY);
        send_frames(pool, cap, b, 0, 32); /* 8 match */
        assert_int_equal(mpnet_capture_get_stats(cap, &st), 0);
        assert_int_equal(st.seen, 32);
        assert_int_equal(st.captured, 8);
        assert_false(st.done);
        assert_int_equal(mpnet_capture_stop(cap, &st), 0);
        assert_int_equal(records(path, &ok), 8);
        assert_true(ok);
        /* A count: 3 of the matching frames, then done. */
        cfg.count = 3;
        assert_int_equal(mpnet_capture_start(cap, &cfg, why, sizeof(why)), 0);
        send_frames(pool, cap, b, 0, 32);
        assert_int_equal(mpnet_capture_get_stats(cap, &st), 0);
        assert_true(st.done);
        assert_int_equal(mpnet_capture_stop(cap, &st), 0);
        assert_int_equal(st.captured, 3);
        assert_int_equal(records(path, &ok), 3);
        assert_true(ok);
        /* A malformed program is refused with the reason; no file made. */
        cfg.filter = bad;
        cfg.filter_len = 2;
        out_path(path, sizeof(path), "capsess-bad.pcapng");
        unlink(path);
        assert_int_equal(mpnet_capture_start(cap, &cfg, why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "instruction 0: jump by 0/9 past the end");
        assert_int_equal(access(path, F_OK), -1);
        mpnet_link_destroy(cap);
        mpnet_link_destroy(b);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

struct sender {
        struct mpnet_pool *pool;
        struct mpnet_link *tx, *rx;
        atomic_bool stop;
        unsigned sent;
};

static void *sender_run(void *arg)
{
        struct sender *s = arg;

        while (!atomic_load(&s->stop)) {
                send_frames(s->pool, s->tx, s->rx, s->sent, 32);
                s->sent += 32;
        }
        return NULL;
}

static void test_start_stop_under_traffic(void **state)
{
        struct sender s = {.pool = mpnet_pool_create("capsess-mt", 1024)};
        struct mpnet_capture_cfg cfg = {.fmt = MPNET_CAPTURE_PCAPNG,
                                        .filter = icmp_host,
                                        .filter_len = sizeof(icmp_host) / sizeof(icmp_host[0])};
        struct mpnet_link *a;
        char path[512];
        pthread_t th;
        uint64_t total = 0;

        (void)state;
        assert_int_equal(mpnet_memwire_create(NULL, &a, &s.rx), 0);
        s.tx = mpnet_capture_wrap(a);
        assert_non_null(s.tx);
        out_path(path, sizeof(path), "capsess-mt.pcapng");
        cfg.path = path;
        assert_int_equal(pthread_create(&th, NULL, sender_run, &s), 0);
        for (unsigned i = 0; i < 200; i++) {
                struct mpnet_capture_stats st;
                struct timespec nap = {0, 200000};
                bool ok;

                cfg.count = i % 2 ? 5 : 0;
                assert_int_equal(mpnet_capture_start(s.tx, &cfg, NULL, 0), 0);
                nanosleep(&nap, NULL);
                assert_int_equal(mpnet_capture_stop(s.tx, &st), 0);
                assert_int_equal(records(path, &ok), st.captured);
                assert_true(ok);
                assert_true(cfg.count == 0 || st.captured <= cfg.count);
                total += st.captured;
        }
        atomic_store(&s.stop, true);
        pthread_join(th, NULL);
        print_message("%u frames sent, %llu captured in 200 sessions\n", s.sent,
                      (unsigned long long)total);
        mpnet_link_destroy(s.tx);
        mpnet_link_destroy(s.rx);
        assert_int_equal(mpnet_pool_in_use(s.pool), 0);
        mpnet_pool_destroy(s.pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_filter_and_count),
            cmocka_unit_test(test_start_stop_under_traffic),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
