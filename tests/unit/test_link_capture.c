/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The capture decorator: frames sent and received through it land in pcap and
 * pcapng files, which the test parses back field by field (and, where tshark
 * is installed, has tshark read).
 */
#include <errno.h>
#include <unistd.h>

#include "testutil.h"

#define ETH_HDR 14u
#define T0      (1500 * MPNET_NS_PER_MS + 123) /* 1.500000123 s */

/* What a test expects to find in the file, in order. */
struct rec {
        uint64_t ts;
        uint32_t seq, len;
        uint32_t dir; /* pcapng epb_flags direction: 1 in, 2 out */
};

static void fill(uint8_t *b, uint32_t seq, uint32_t len)
{
        memset(b, 0xff, 6);
        memset(b + 6, 0x02, 6);
        b[12] = 0x88;
        b[13] = 0xb5;
        memcpy(b + ETH_HDR, &seq, 4);
        for (uint32_t i = ETH_HDR + 4; i < len; i++)
                b[i] = (uint8_t)(i * 13 + seq);
}

static struct mpnet_pkt *frame(struct mpnet_pool *pool, uint32_t seq, uint32_t len)
{
        uint8_t b[9100];
        struct mpnet_pkt *p;

        assert_true(len <= sizeof(b));
        fill(b, seq, len);
        p = mpnet_pkt_from_bytes(pool, b, len);
        assert_non_null(p);
        return p;
}

static uint8_t *slurp(const char *path, size_t *n)
{
        FILE *f = fopen(path, "rb");
        uint8_t *b;
        long sz;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        sz = ftell(f);
        assert_true(sz > 0);
        rewind(f);
        b = malloc((size_t)sz);
        assert_non_null(b);
        assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
        fclose(f);
        *n = (size_t)sz;
        return b;
}

/* The files are in host byte order, which the magic numbers announce. */
static uint32_t get32(const uint8_t *b)
{
        uint32_t v;

        memcpy(&v, b, 4);
        return v;
}

static uint16_t get16(const uint8_t *b)
{
        uint16_t v;

        memcpy(&v, b, 2);
        return v;
}

static void check_bytes(const uint8_t *b, const struct rec *r)
{
        uint8_t want[9100];

        fill(want, r->seq, r->len);
        assert_memory_equal(b, want, r->len);
}

static void check_pcap(const char *path, const struct rec *want, unsigned n)
{
        size_t len, off = 24;
        uint8_t *b = slurp(path, &len);
        unsigned i = 0;

        assert_true(len >= 24);
        assert_int_equal(get32(b), 0xa1b23c4d); /* nanosecond pcap */
        assert_int_equal(get16(b + 4), 2);
        assert_int_equal(get16(b + 6), 4);
        assert_int_equal(get32(b + 16), 262144);
        assert_int_equal(get32(b + 20), 1); /* LINKTYPE_ETHERNET */
        while (off < len) {
                uint32_t incl, orig;

                assert_true(i < n);
                assert_true(off + 16 <= len);
                incl = get32(b + off + 8);
                orig = get32(b + off + 12);
                assert_int_equal(get32(b + off), want[i].ts / MPNET_NS_PER_S);
                assert_int_equal(get32(b + off + 4), want[i].ts % MPNET_NS_PER_S);
                assert_int_equal(incl, want[i].len);
                assert_int_equal(orig, want[i].len);
                assert_true(off + 16 + incl <= len);
                check_bytes(b + off + 16, &want[i]);
                off += 16 + incl;
                i++;
        }
        assert_int_equal(off, len);
        assert_int_equal(i, n);
        free(b);
}

/* Find option code in a pcapng options list; returns its value or NULL. */
static const uint8_t *pcapng_opt(const uint8_t *o, const uint8_t *end, uint16_t code,
                                 uint16_t *olen)
{
        while (o + 4 <= end) {
                uint16_t c = get16(o), l = get16(o + 2);

                if (c == 0)
                        return NULL;
                if (c == code) {
                        *olen = l;
                        return o + 4;
                }
                o += 4 + ((l + 3u) & ~3u);
        }
        return NULL;
}

static void check_pcapng(const char *path, const char *ifname, const struct rec *want, unsigned n)
{
        size_t len, off = 0;
        uint8_t *b = slurp(path, &len);
        unsigned i = 0, shb = 0, idb = 0;

        while (off < len) {
                uint32_t type, blen;
                const uint8_t *blk = b + off, *o;
                uint16_t olen;

                assert_true(off + 12 <= len);
                type = get32(blk);
                blen = get32(blk + 4);
                assert_int_equal(blen % 4, 0);
                assert_true(blen >= 12 && off + blen <= len);
                assert_int_equal(get32(blk + blen - 4), blen); /* trailing length */
                switch (type) {
                case 0x0a0d0d0a: /* Section Header */
                        assert_int_equal(off, 0);
                        assert_int_equal(get32(blk + 8), 0x1a2b3c4d);
                        assert_int_equal(get16(blk + 12), 1);
                        assert_int_equal(get16(blk + 14), 0);
                        shb++;
                        break;
                case 1: /* Interface Description */
                        assert_int_equal(shb, 1);
                        assert_int_equal(get16(blk + 8), 1); /* LINKTYPE_ETHERNET */
                        assert_int_equal(get32(blk + 12), 262144);
                        o = pcapng_opt(blk + 16, blk + blen - 4, 9, &olen); /* if_tsresol */
                        assert_non_null(o);
                        assert_int_equal(olen, 1);
                        assert_int_equal(o[0], 9);
                        o = pcapng_opt(blk + 16, blk + blen - 4, 2, &olen); /* if_name */
                        assert_non_null(o);
                        assert_int_equal(olen, strlen(ifname));
                        assert_memory_equal(o, ifname, olen);
                        idb++;
                        break;
                case 6: { /* Enhanced Packet */
                        uint32_t cap = get32(blk + 20);
                        uint64_t ts = ((uint64_t)get32(blk + 12) << 32) | get32(blk + 16);

                        assert_int_equal(idb, 1);
                        assert_true(i < n);
                        assert_int_equal(get32(blk + 8), 0); /* interface 0 */
                        assert_int_equal(ts, want[i].ts);
                        assert_int_equal(cap, want[i].len);
                        assert_int_equal(get32(blk + 24), want[i].len);
                        assert_true(28 + cap <= blen);
                        check_bytes(blk + 28, &want[i]);
                        o = pcapng_opt(blk + 28 + ((cap + 3) & ~3u), blk + blen - 4, 2, &olen);
                        assert_non_null(o); /* epb_flags */
                        assert_int_equal(olen, 4);
                        assert_int_equal(get32(o) & 3, want[i].dir);
                        i++;
                        break;
                }
                default:
                        fail_msg("unexpected block type %#x", type);
                }
                off += blen;
        }
        assert_int_equal(shb, 1);
        assert_int_equal(idb, 1);
        assert_int_equal(i, n);
        free(b);
}

/* If tshark is installed, it must read the file without complaint. */
static void tshark_reads(const char *path)
{
        char cmd[1200];

        if (system("command -v tshark >/dev/null 2>&1") != 0) {
                print_message("tshark not found: %s not checked by it\n", path);
                return;
        }
        snprintf(cmd, sizeof(cmd), "tshark -r '%s' >/dev/null 2>&1", path);
        assert_int_equal(system(cmd), 0);
}

static void out_path(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", test_out_dir(), name);
}

/*
 * A sends a short frame and a chained 3000-byte one at T0, B answers with one
 * frame that A receives 1 ms later. Returns the records expected.
 */
static unsigned exchange(enum mpnet_capture_format fmt, const char *path, struct rec *want)
{
        struct mpnet_memwire_cfg wc = {.mtu = 9000, .name = "cap"};
        struct mpnet_link *a, *b, *cap;
        struct mpnet_pkt *tx[2], *rx[4];
        struct mpnet_link_stats st;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;

        mpnet_clock_init_virtual(&clk, T0);
        pool = mpnet_pool_create("test", 256);
        assert_non_null(pool);
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        cap = mpnet_capture_create(a, path, fmt, &clk);
        assert_non_null(cap);
        assert_string_equal(cap->info.kind, "capture");
        assert_string_equal(cap->name, "cap-a");
        assert_memory_equal(cap->info.mac, a->info.mac, 6);
        assert_int_equal(cap->info.mtu, 9000);
        assert_int_equal(mpnet_link_next_event(cap, T0), MPNET_TIME_NEVER);

        tx[0] = frame(pool, 1, 60);
        tx[1] = frame(pool, 2, 3000);
        assert_int_equal(tx[1]->nb_segs, 2);
        assert_int_equal(mpnet_link_tx_burst(cap, 0, tx, 2), 2);
        want[0] = (struct rec){T0, 1, 60, 2};
        want[1] = (struct rec){T0, 2, 3000, 2};
        assert_int_equal(mpnet_link_rx_burst(b, 0, rx, 4), 2);
        mpnet_pkt_free_bulk(rx, 2);

        mpnet_clock_advance(&clk, MPNET_NS_PER_MS);
        tx[0] = frame(pool, 3, 1514);
        assert_int_equal(mpnet_link_tx_burst(b, 0, tx, 1), 1);
        assert_int_equal(mpnet_link_rx_burst(cap, 0, rx, 4), 1);
        assert_int_equal(mpnet_link_rx_burst(cap, 0, rx + 1, 3), 0);
        want[2] = (struct rec){T0 + MPNET_NS_PER_MS, 3, 1514, 1};
        mpnet_pkt_free(rx[0]);

        mpnet_link_get_stats(cap, &st); /* the inner link's */
        assert_int_equal(st.tx_pkts, 2);
        assert_int_equal(st.tx_bytes, 3060);
        assert_int_equal(st.rx_pkts, 1);
        assert_int_equal(st.rx_bytes, 1514);

        mpnet_link_destroy(cap); /* flushes, closes, destroys a */
        mpnet_link_destroy(b);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
        return 3;
}

static void test_pcap(void **state)
{
        char path[1024];
        struct rec want[8];
        unsigned n;

        (void)state;
        out_path(path, sizeof(path), "test_link_capture.pcap");
        n = exchange(MPNET_CAPTURE_PCAP, path, want);
        check_pcap(path, want, n);
        tshark_reads(path);
}

static void test_pcapng(void **state)
{
        char path[1024];
        struct rec want[8];
        unsigned n;

        (void)state;
        out_path(path, sizeof(path), "test_link_capture.pcapng");
        n = exchange(MPNET_CAPTURE_PCAPNG, path, want);
        check_pcapng(path, "cap-a", want, n);
        tshark_reads(path);
}

/*
 * A full ring: only the frames the inner link took are written, each once,
 * and the ones handed back are written when a later burst takes them. The
 * mem wire also takes (and drops) an oversized frame out of order with the
 * ones it hands back.
 */
static void partial(enum mpnet_capture_format fmt, const char *name)
{
        struct mpnet_memwire_cfg wc = {.ring_size = 4, .name = "full"};
        struct mpnet_link *a, *b, *cap;
        struct mpnet_pkt *tx[6], *rx[8];
        struct mpnet_link_stats st;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct rec want[16];
        unsigned n = 0;
        char path[1024];

        out_path(path, sizeof(path), name);
        mpnet_clock_init_virtual(&clk, T0);
        pool = mpnet_pool_create("test", 256);
        assert_non_null(pool);
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        cap = mpnet_capture_create(a, path, fmt, &clk);
        assert_non_null(cap);

        for (uint32_t i = 0; i < 6; i++)
                tx[i] = frame(pool, i, 60 + i);
        assert_int_equal(mpnet_link_tx_burst(cap, 0, tx, 6), 4);
        for (uint32_t i = 0; i < 4; i++)
                want[n++] = (struct rec){T0, i, 60 + i, 2};
        assert_int_equal(mpnet_link_rx_burst(b, 0, rx, 8), 4);
        mpnet_pkt_free_bulk(rx, 4);
        mpnet_clock_advance(&clk, 1000);
        assert_int_equal(mpnet_link_tx_burst(cap, 0, &tx[4], 2), 2);
        want[n++] = (struct rec){T0 + 1000, 4, 64, 2};
        want[n++] = (struct rec){T0 + 1000, 5, 65, 2};

        /* Two slots left: 10 and 11 go; 12 is too big and is dropped; 13 comes
         * back to the caller. */
        tx[0] = frame(pool, 10, 100);
        tx[1] = frame(pool, 11, 101);
        tx[2] = frame(pool, 12, 1600);
        tx[3] = frame(pool, 13, 103);
        mpnet_clock_advance(&clk, 1000);
        assert_int_equal(mpnet_link_tx_burst(cap, 0, tx, 4), 3);
        want[n++] = (struct rec){T0 + 2000, 10, 100, 2};
        want[n++] = (struct rec){T0 + 2000, 11, 101, 2};
        want[n++] = (struct rec){T0 + 2000, 12, 1600, 2};
        assert_int_equal(mpnet_link_rx_burst(b, 0, rx, 8), 4);
        mpnet_pkt_free_bulk(rx, 4);
        mpnet_clock_advance(&clk, 1000);
        assert_int_equal(mpnet_link_tx_burst(cap, 0, &tx[3], 1), 1);
        want[n++] = (struct rec){T0 + 3000, 13, 103, 2};
        mpnet_link_get_stats(cap, &st);
        assert_int_equal(st.tx_pkts, 9);
        assert_int_equal(st.tx_drops, 1);

        mpnet_link_destroy(cap);
        mpnet_link_destroy(b); /* frees 13, still in the ring */
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
        if (fmt == MPNET_CAPTURE_PCAP)
                check_pcap(path, want, n);
        else
                check_pcapng(path, "full-a", want, n);
        tshark_reads(path);
}

static void test_partial_tx(void **state)
{
        (void)state;
        partial(MPNET_CAPTURE_PCAP, "test_link_capture_partial.pcap");
        partial(MPNET_CAPTURE_PCAPNG, "test_link_capture_partial.pcapng");
}

/* More frames than one staging chunk, and a burst with nothing to write. */
static void test_many(void **state)
{
        struct mpnet_memwire_cfg wc = {.ring_size = 1024};
        struct mpnet_pkt *tx[600], *rx[600];
        struct mpnet_link *a, *b, *cap;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        static struct rec want[600];
        char path[1024];

        (void)state;
        out_path(path, sizeof(path), "test_link_capture_many.pcapng");
        mpnet_clock_init_virtual(&clk, T0);
        pool = mpnet_pool_create("test", 1024);
        assert_non_null(pool);
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        cap = mpnet_capture_create(b, path, MPNET_CAPTURE_PCAPNG, &clk);
        assert_non_null(cap);
        assert_int_equal(mpnet_link_rx_burst(cap, 0, rx, 600), 0);
        for (uint32_t i = 0; i < 600; i++) {
                tx[i] = frame(pool, i, 60 + i % 64);
                want[i] = (struct rec){T0, i, 60 + i % 64, 1};
        }
        assert_int_equal(mpnet_link_tx_burst(a, 0, tx, 600), 600);
        assert_int_equal(mpnet_link_rx_burst(cap, 0, rx, 600), 600);
        mpnet_pkt_free_bulk(rx, 600);
        for (uint32_t i = 0; i < 600; i++)
                tx[i] = frame(pool, i, 60 + i % 64);
        assert_int_equal(mpnet_link_tx_burst(cap, 0, tx, 600), 600);
        mpnet_link_destroy(cap);
        mpnet_link_destroy(a);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
        {
                /* 600 in, then 600 out: check the in half, count the rest. */
                static struct rec all[1200];

                for (uint32_t i = 0; i < 1200; i++) {
                        all[i] = want[i % 600];
                        all[i].dir = i < 600 ? 1 : 2;
                }
                check_pcapng(path, "mem-b", all, 1200);
        }
}

/* A file that cannot be written (a full disk) loses the capture, never
 * frames: they still pass, and destroy reports it and cleans up. */
static void test_write_error(void **state)
{
        struct mpnet_link *a, *b, *cap;
        struct mpnet_pkt *p, *rx[4];
        struct mpnet_pool *pool;

        (void)state;
        if (access("/dev/full", W_OK) != 0) {
                print_message("no /dev/full: skipped\n");
                return;
        }
        pool = mpnet_pool_create("test", 64);
        assert_non_null(pool);
        assert_int_equal(mpnet_memwire_create(NULL, &a, &b), 0);
        cap = mpnet_capture_create(a, "/dev/full", MPNET_CAPTURE_PCAPNG, NULL);
        assert_non_null(cap); /* the header is still in the stdio buffer */
        for (uint32_t i = 0; i < 20; i++) {
                p = frame(pool, i, 1514);
                assert_int_equal(mpnet_link_tx_burst(b, 0, &p, 1), 1);
                assert_int_equal(mpnet_link_rx_burst(cap, 0, rx, 4), 1);
                assert_int_equal(mpnet_link_tx_burst(cap, 0, rx, 1), 1);
                assert_int_equal(mpnet_link_rx_burst(b, 0, rx, 4), 1);
                mpnet_pkt_free(rx[0]);
        }
        mpnet_link_destroy(cap);
        mpnet_link_destroy(b);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_create_fails(void **state)
{
        struct mpnet_link *a, *b;
        struct mpnet_clock clk;

        (void)state;
        mpnet_clock_init_virtual(&clk, 0);
        assert_int_equal(mpnet_memwire_create(NULL, &a, &b), 0);
        errno = 0;
        assert_null(mpnet_capture_create(a, "/nonexistent-dir/x.pcap", MPNET_CAPTURE_PCAP, &clk));
        assert_int_equal(errno, ENOENT);
        errno = 0;
        assert_null(mpnet_capture_create(NULL, "/tmp/x.pcap", MPNET_CAPTURE_PCAP, &clk));
        assert_int_equal(errno, EINVAL);
        assert_null(mpnet_capture_create(a, NULL, MPNET_CAPTURE_PCAP, &clk));
        assert_null(mpnet_capture_create(a, "/tmp/x.pcap", (enum mpnet_capture_format)7, &clk));
        /* inner was left alone */
        assert_string_equal(a->info.kind, "mem");
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_pcap),        cmocka_unit_test(test_pcapng),
            cmocka_unit_test(test_partial_tx),  cmocka_unit_test(test_many),
            cmocka_unit_test(test_write_error), cmocka_unit_test(test_create_fails),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
