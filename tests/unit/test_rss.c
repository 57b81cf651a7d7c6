/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RSS: the Toeplitz hash against Microsoft's published verification suite,
 * the per-byte tables against the bit-by-bit reference over random keys and
 * inputs, the symmetric key's symmetry, the indirection table, and the hash
 * of whole Ethernet frames, cut at every length, each copy ending exactly at
 * the end of its allocation so that ASan catches a read one byte too far.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mpnet/rss.h"
#include "test_rand.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define N_RANDOM        100000u

/*
 * "Verifying the RSS Hash Calculation" (Microsoft, Windows driver docs), with
 * the 40-byte key mpnet_rss_key_ms. The same rows are in the Intel 82599
 * datasheet (7.1.2.8.3, "RSS Verification Suite") and in DPDK's
 * app/test/test_thash.c. Input order: source, destination, source port,
 * destination port; the table lists the destination first.
 */
static const struct {
        uint32_t dst;
        uint16_t dport;
        uint32_t src;
        uint16_t sport;
        uint32_t ip, ip_l4;
} ms_ip4[] = {
    {IP4(161, 142, 100, 80), 1766, IP4(66, 9, 149, 187), 2794, 0x323e8fc2, 0x51ccc178},
    {IP4(65, 69, 140, 83), 4739, IP4(199, 92, 111, 2), 14230, 0xd718262a, 0xc626b0ea},
    {IP4(12, 22, 207, 184), 38024, IP4(24, 19, 198, 95), 12898, 0xd2d0a5de, 0x5c2b394a},
    {IP4(209, 142, 163, 6), 2217, IP4(38, 27, 205, 30), 48228, 0x82989176, 0xafc7327f},
    {IP4(202, 188, 127, 2), 1303, IP4(153, 39, 163, 191), 44251, 0x5d1809c5, 0x10e828a2},
};

static const struct {
        const char *dst;
        uint16_t dport;
        const char *src;
        uint16_t sport;
        uint32_t ip, ip_l4;
} ms_ip6[] = {
    {"3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2cc18cd5, 0x40207d3d},
    {"ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0f0c461c, 0xdde51bbf},
    {"fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, 0x4b61e985,
     0x02d1feef},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------ */

static void rnd_bytes(uint8_t *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)rnd();
}

static struct mpnet_rss *rss_new(const uint8_t *key, size_t key_len)
{
        struct mpnet_rss *rss = aligned_alloc(64, sizeof(*rss));

        assert_non_null(rss);
        assert_int_equal(mpnet_rss_init(rss, key, key_len), 0);
        return rss;
}

/* The specification's input strings. */
static size_t in_ip4(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
        mpnet_put_be32(b, src);
        mpnet_put_be32(b + 4, dst);
        mpnet_put_be16(b + 8, sport);
        mpnet_put_be16(b + 10, dport);
        return MPNET_RSS_IP4_L4_LEN;
}

static size_t in_ip6(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                     uint16_t dport)
{
        memcpy(b, src, 16);
        memcpy(b + 16, dst, 16);
        mpnet_put_be16(b + 32, sport);
        mpnet_put_be16(b + 34, dport);
        return MPNET_RSS_IP6_L4_LEN;
}

static void pton6(const char *s, uint8_t *a)
{
        assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

/* ---- the verification suite --------------------------------------------- */

static void test_rss_ms_ip4(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        const uint8_t *k = mpnet_rss_key_ms;

        (void)state;
        for (unsigned i = 0; i < ARRAY_LEN(ms_ip4); i++) {
                uint8_t b[MPNET_RSS_IP4_L4_LEN];

                in_ip4(b, ms_ip4[i].src, ms_ip4[i].dst, ms_ip4[i].sport, ms_ip4[i].dport);
                assert_int_equal(mpnet_toeplitz(k, MPNET_RSS_KEY_LEN, b, 8), ms_ip4[i].ip);
                assert_int_equal(mpnet_toeplitz(k, MPNET_RSS_KEY_LEN, b, 12), ms_ip4[i].ip_l4);
                assert_int_equal(mpnet_rss_hash(rss, b, 8), ms_ip4[i].ip);
                assert_int_equal(mpnet_rss_hash(rss, b, 12), ms_ip4[i].ip_l4);
                assert_int_equal(mpnet_rss_ip4(rss, ms_ip4[i].src, ms_ip4[i].dst), ms_ip4[i].ip);
                assert_int_equal(mpnet_rss_ip4_l4(rss, ms_ip4[i].src, ms_ip4[i].dst,
                                                  ms_ip4[i].sport, ms_ip4[i].dport),
                                 ms_ip4[i].ip_l4);
        }
        free(rss);
}

static void test_rss_ms_ip6(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        const uint8_t *k = mpnet_rss_key_ms;

        (void)state;
        for (unsigned i = 0; i < ARRAY_LEN(ms_ip6); i++) {
                uint8_t src[16], dst[16], b[MPNET_RSS_IP6_L4_LEN];

                pton6(ms_ip6[i].src, src);
                pton6(ms_ip6[i].dst, dst);
                in_ip6(b, src, dst, ms_ip6[i].sport, ms_ip6[i].dport);
                assert_int_equal(mpnet_toeplitz(k, MPNET_RSS_KEY_LEN, b, 32), ms_ip6[i].ip);
                assert_int_equal(mpnet_toeplitz(k, MPNET_RSS_KEY_LEN, b, 36), ms_ip6[i].ip_l4);
                assert_int_equal(mpnet_rss_hash(rss, b, 32), ms_ip6[i].ip);
                assert_int_equal(mpnet_rss_hash(rss, b, 36), ms_ip6[i].ip_l4);
                assert_int_equal(mpnet_rss_ip6(rss, src, dst), ms_ip6[i].ip);
                assert_int_equal(mpnet_rss_ip6_l4(rss, src, dst, ms_ip6[i].sport, ms_ip6[i].dport),
                                 ms_ip6[i].ip_l4);
        }
        free(rss);
}

/* ---- tables against the reference ---------------------------------------- */

static void test_rss_init_args(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        uint8_t key[MPNET_RSS_KEY_MAX + 1] = {0};

        (void)state;
        assert_int_equal(mpnet_rss_init(NULL, key, 40), -EINVAL);
        assert_int_equal(mpnet_rss_init(rss, NULL, 40), -EINVAL);
        assert_int_equal(mpnet_rss_init(rss, key, 0), -EINVAL);
        assert_int_equal(mpnet_rss_init(rss, key, MPNET_RSS_KEY_MAX + 1), -EINVAL);
        assert_int_equal(mpnet_rss_init(rss, key, MPNET_RSS_KEY_MAX), 0);
        assert_int_equal(mpnet_rss_init(rss, key, 1), 0);
        /* Nothing hashes to anything but 0 under a zero key, nor with no input. */
        assert_int_equal(mpnet_rss_ip4_l4(rss, 0xffffffff, 0x01020304, 80, 443), 0);
        assert_int_equal(mpnet_toeplitz(mpnet_rss_key_ms, 40, key, 0), 0);
        assert_int_equal(mpnet_rss_hash(rss, key, 0), 0);
        free(rss);
}

/* One input bit at position p adds the 32 key bits from bit p: check it. */
static void test_rss_single_bits(void **state)
{
        const uint8_t *k = mpnet_rss_key_ms;

        (void)state;
        for (unsigned p = 0; p < 8 * MPNET_RSS_INPUT_MAX; p++) {
                uint8_t b[MPNET_RSS_INPUT_MAX] = {0};
                uint64_t w = 0;

                b[p / 8] = (uint8_t)(0x80 >> (p % 8));
                for (unsigned i = 0; i < 5; i++)
                        w = w << 8 | k[p / 8 + i];
                assert_int_equal(mpnet_toeplitz(k, 40, b, sizeof(b)), (uint32_t)(w >> (8 - p % 8)));
        }
}

/*
 * Random keys of every length 1..52 (short ones exercise the zero bits past
 * the key), random inputs of 0..36 bytes: tables == bit loop, and the tuple
 * helpers == the bit loop over the specification's strings.
 */
static void test_rss_fast_matches_reference(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        const unsigned per_key = 1000;

        (void)state;
        for (unsigned n_key = 0; n_key < N_RANDOM / per_key; n_key++) {
                uint8_t key[MPNET_RSS_KEY_MAX];
                size_t key_len = 1 + n_key % MPNET_RSS_KEY_MAX;

                rnd_bytes(key, key_len);
                assert_int_equal(mpnet_rss_init(rss, key, key_len), 0);
                for (unsigned i = 0; i < per_key; i++) {
                        uint8_t b[MPNET_RSS_INPUT_MAX];
                        size_t n = rnd() % (MPNET_RSS_INPUT_MAX + 1);

                        rnd_bytes(b, n);
                        assert_int_equal(mpnet_rss_hash(rss, b, n),
                                         mpnet_toeplitz(key, key_len, b, n));
                }
                for (unsigned i = 0; i < per_key / 10; i++) {
                        uint8_t b[MPNET_RSS_INPUT_MAX], s6[16], d6[16];
                        uint32_t s = (uint32_t)rnd(), d = (uint32_t)rnd();
                        uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();

                        in_ip4(b, s, d, sp, dp);
                        assert_int_equal(mpnet_rss_ip4(rss, s, d),
                                         mpnet_toeplitz(key, key_len, b, 8));
                        assert_int_equal(mpnet_rss_ip4_l4(rss, s, d, sp, dp),
                                         mpnet_toeplitz(key, key_len, b, 12));
                        rnd_bytes(s6, 16);
                        rnd_bytes(d6, 16);
                        in_ip6(b, s6, d6, sp, dp);
                        assert_int_equal(mpnet_rss_ip6(rss, s6, d6),
                                         mpnet_toeplitz(key, key_len, b, 32));
                        assert_int_equal(mpnet_rss_ip6_l4(rss, s6, d6, sp, dp),
                                         mpnet_toeplitz(key, key_len, b, 36));
                }
        }
        free(rss);
}

/* Input past MPNET_RSS_INPUT_MAX is not hashed (and not read). */
static void test_rss_hash_long_input(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        uint8_t b[64];

        (void)state;
        rnd_bytes(b, sizeof(b));
        assert_int_equal(mpnet_rss_hash(rss, b, sizeof(b)),
                         mpnet_toeplitz(mpnet_rss_key_ms, 40, b, MPNET_RSS_INPUT_MAX));
        free(rss);
}

/* ---- the symmetric key --------------------------------------------------- */

static void test_rss_symmetric_ip4(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_sym, MPNET_RSS_KEY_LEN);
        const uint8_t *k = mpnet_rss_key_sym;

        (void)state;
        for (unsigned i = 0; i < 20; i++)
                assert_true(k[2 * i] == 0x6d && k[2 * i + 1] == 0x5a);
        for (unsigned i = 0; i < N_RANDOM; i++) {
                uint32_t s = (uint32_t)rnd(), d = (uint32_t)rnd();
                uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();

                assert_int_equal(mpnet_rss_ip4_l4(rss, s, d, sp, dp),
                                 mpnet_rss_ip4_l4(rss, d, s, dp, sp));
                assert_int_equal(mpnet_rss_ip4(rss, s, d), mpnet_rss_ip4(rss, d, s));
                if (i % 1000 == 0) {
                        uint8_t a[12], b[12];

                        in_ip4(a, s, d, sp, dp);
                        in_ip4(b, d, s, dp, sp);
                        assert_int_equal(mpnet_toeplitz(k, 40, a, 12),
                                         mpnet_toeplitz(k, 40, b, 12));
                }
        }
        free(rss);
}

static void test_rss_symmetric_ip6(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_sym, MPNET_RSS_KEY_LEN);

        (void)state;
        for (unsigned i = 0; i < N_RANDOM; i++) {
                uint8_t s[16], d[16];
                uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();

                rnd_bytes(s, 16);
                rnd_bytes(d, 16);
                assert_int_equal(mpnet_rss_ip6_l4(rss, s, d, sp, dp),
                                 mpnet_rss_ip6_l4(rss, d, s, dp, sp));
                assert_int_equal(mpnet_rss_ip6(rss, s, d), mpnet_rss_ip6(rss, d, s));
        }
        free(rss);
}

/* The check above means something: the standard key is not symmetric. */
static void test_rss_ms_key_not_symmetric(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        unsigned same = 0;

        (void)state;
        for (unsigned i = 0; i < 10000; i++) {
                uint32_t s = (uint32_t)rnd(), d = (uint32_t)rnd();
                uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();

                same += mpnet_rss_ip4_l4(rss, s, d, sp, dp) == mpnet_rss_ip4_l4(rss, d, s, dp, sp);
        }
        assert_true(same < 10);
        free(rss);
}

/* ---- the indirection table ---------------------------------------------- */

static void test_rss_reta_init(void **state)
{
        struct mpnet_reta reta;

        (void)state;
        assert_int_equal(mpnet_reta_init(&reta, 0, 3), 0);
        assert_int_equal(mpnet_reta_size(&reta), MPNET_RETA_DEFAULT);
        for (uint32_t i = 0; i < MPNET_RETA_DEFAULT; i++)
                assert_int_equal(mpnet_rss_queue(&reta, i), i % 3);
        /* Only the low bits index the table. */
        assert_int_equal(mpnet_rss_queue(&reta, 0xffffff00u | 5), 5 % 3);
        assert_int_equal(mpnet_rss_queue(&reta, 0x80000000u | 127), 127 % 3);

        for (uint32_t size = 1; size <= MPNET_RETA_MAX; size <<= 1) {
                assert_int_equal(mpnet_reta_init(&reta, size, 4), 0);
                assert_int_equal(mpnet_reta_size(&reta), size);
                for (uint32_t h = 0; h < 2 * MPNET_RETA_MAX; h++)
                        assert_int_equal(mpnet_rss_queue(&reta, h), (h & (size - 1)) % 4);
        }
        assert_int_equal(mpnet_reta_init(&reta, 128, 0), -EINVAL);
        assert_int_equal(mpnet_reta_init(&reta, 3, 1), -EINVAL);
        assert_int_equal(mpnet_reta_init(&reta, 96, 1), -EINVAL);
        assert_int_equal(mpnet_reta_init(&reta, 2 * MPNET_RETA_MAX, 1), -EINVAL);
        assert_int_equal(mpnet_reta_init(NULL, 128, 1), -EINVAL);
}

static void test_rss_reta_set(void **state)
{
        struct mpnet_reta reta;

        (void)state;
        assert_int_equal(mpnet_reta_init(&reta, 128, 4), 0);
        assert_int_equal(mpnet_reta_set(&reta, 5, 3), 0);
        assert_int_equal(mpnet_rss_queue(&reta, 5), 3);
        assert_int_equal(mpnet_rss_queue(&reta, 128 + 5), 3);
        assert_int_equal(mpnet_rss_queue(&reta, 6), 2);
        assert_int_equal(mpnet_reta_set(&reta, 127, 0), 0);
        assert_int_equal(mpnet_rss_queue(&reta, 127), 0);
        assert_int_equal(mpnet_reta_set(&reta, 128, 0), -EINVAL);
        assert_int_equal(mpnet_reta_set(&reta, 0, 4), -EINVAL);
        assert_int_equal(mpnet_reta_set(NULL, 0, 0), -EINVAL);
        assert_int_equal(mpnet_rss_queue(&reta, 0), 0);

        /* Drain queue 1 by pointing its entries at queue 0. */
        for (uint32_t i = 0; i < 128; i++)
                if (mpnet_rss_queue(&reta, i) == 1)
                        assert_int_equal(mpnet_reta_set(&reta, i, 0), 0);
        for (uint32_t h = 0; h < 100000; h++)
                assert_int_not_equal(mpnet_rss_queue(&reta, (uint32_t)rnd()), 1);
}

/*
 * Random flows spread over the queues within 5 % of the mean (the binomial
 * standard deviation here is under 0.6 % of it), with both keys, IPv4 and
 * IPv6, over a default 128-entry table and over queue counts that do not
 * divide it (there the table itself is uneven: 128 = 6 * 21 + 2, so queues
 * 0 and 1 own 22 entries and the others 21).
 */
static void check_spread(const struct mpnet_rss *rss, uint16_t n_queues, int v6)
{
        enum { FLOWS = 200000 };
        struct mpnet_reta reta;
        unsigned count[16] = {0}, entries[16] = {0};

        assert_int_equal(mpnet_reta_init(&reta, 128, n_queues), 0);
        for (uint32_t i = 0; i < 128; i++)
                entries[mpnet_rss_queue(&reta, i)]++;
        for (unsigned i = 0; i < FLOWS; i++) {
                uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();
                uint32_t h;

                if (v6) {
                        uint8_t s[16], d[16];

                        rnd_bytes(s, 16);
                        rnd_bytes(d, 16);
                        h = mpnet_rss_ip6_l4(rss, s, d, sp, dp);
                } else {
                        h = mpnet_rss_ip4_l4(rss, (uint32_t)rnd(), (uint32_t)rnd(), sp, dp);
                }
                count[mpnet_rss_queue(&reta, h)]++;
        }
        for (unsigned q = 0; q < n_queues; q++) {
                double expect = (double)FLOWS * entries[q] / 128.0;

                assert_true(count[q] > 0.95 * expect && count[q] < 1.05 * expect);
        }
}

static void test_rss_reta_spread(void **state)
{
        static const uint16_t queues[] = {2, 4, 6, 8, 16};
        const uint8_t *keys[] = {mpnet_rss_key_ms, mpnet_rss_key_sym};

        (void)state;
        for (unsigned k = 0; k < 2; k++) {
                struct mpnet_rss *rss = rss_new(keys[k], MPNET_RSS_KEY_LEN);

                for (unsigned i = 0; i < ARRAY_LEN(queues); i++) {
                        check_spread(rss, queues[i], 0);
                        check_spread(rss, queues[i], 1);
                }
                free(rss);
        }
}

/* ---- frames ------------------------------------------------------------- */

/*
 * A test frame: its bytes; where the IP header ends (shorter and it hashes
 * to nothing); where the ports are (0 if it never hashes them); what it
 * hashes as when whole; its 2-tuple and 4-tuple hashes from the tuple
 * functions.
 */
struct frame {
        uint8_t b[256];
        size_t len, l3_end, l4_off;
        unsigned type;
        uint32_t h2, h4;
};

static size_t put_eth(uint8_t *b, const uint16_t *types, unsigned n)
{
        static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
        size_t off = 12;

        memcpy(b, macs, sizeof(macs));
        for (unsigned i = 0; i < n; i++) {
                if (i > 0) {
                        mpnet_put_be16(b + off, (uint16_t)(100 + i)); /* TCI */
                        off += 2;
                }
                mpnet_put_be16(b + off, types[i]);
                off += 2;
        }
        return off;
}

/* An IPv4 header with opt_words of NOP options; @return its length. */
static size_t put_ip4(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto, uint16_t frag,
                      unsigned opt_words, uint16_t payload)
{
        size_t hlen = MPNET_IP4_HLEN + 4 * opt_words;

        memset(b, 0, hlen);
        b[0] = (uint8_t)(0x40 | (hlen / 4));
        mpnet_put_be16(b + 2, (uint16_t)(hlen + payload));
        mpnet_put_be16(b + 4, 0x1234);
        mpnet_put_be16(b + 6, frag);
        b[8] = 64;
        b[9] = proto;
        mpnet_put_be32(b + 12, src);
        mpnet_put_be32(b + 16, dst);
        memset(b + MPNET_IP4_HLEN, 1, 4 * opt_words);
        return hlen;
}

static size_t put_ip6(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t nh,
                      uint16_t payload)
{
        memset(b, 0, 40);
        b[0] = 0x60;
        mpnet_put_be16(b + 4, payload);
        b[6] = nh;
        b[7] = 64;
        memcpy(b + 8, src, 16);
        memcpy(b + 24, dst, 16);
        return 40;
}

/* An extension header of 8 * (1 + units) bytes. */
static size_t put_ext(uint8_t *b, uint8_t nh, uint8_t units)
{
        size_t n = 8 + 8 * (size_t)units;

        memset(b, 0, n);
        b[0] = nh;
        b[1] = units;
        return n;
}

/* A TCP (20 bytes) or UDP (8 bytes) header with its ports. */
static size_t put_l4(uint8_t *b, uint8_t proto, uint16_t sport, uint16_t dport)
{
        size_t n = proto == MPNET_IPPROTO_TCP ? 20 : 8;

        memset(b, 0, n);
        mpnet_put_be16(b, sport);
        mpnet_put_be16(b + 2, dport);
        return n;
}

struct ip4_opts {
        unsigned vlans; /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
        uint8_t proto;
        uint16_t frag;
        unsigned opt_words;
        int short_ip_len; /* total length ends before the ports */
};

static void frame_ip4(struct frame *f, const struct mpnet_rss *rss, const struct ip4_opts *o)
{
        static const uint16_t tags[3][3] = {
            {MPNET_ETHERTYPE_IPV4},
            {MPNET_ETHERTYPE_VLAN, MPNET_ETHERTYPE_IPV4},
            {0x88a8, MPNET_ETHERTYPE_VLAN, MPNET_ETHERTYPE_IPV4},
        };
        uint32_t s = (uint32_t)rnd(), d = (uint32_t)rnd();
        uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();
        int l4 = o->proto == MPNET_IPPROTO_TCP || o->proto == MPNET_IPPROTO_UDP;
        size_t off = put_eth(f->b, tags[o->vlans], o->vlans + 1), hlen;
        uint16_t payload = l4 ? (o->proto == MPNET_IPPROTO_TCP ? 20 : 8) : 16;

        hlen = put_ip4(f->b + off, s, d, o->proto, o->frag, o->opt_words,
                       o->short_ip_len ? 2 : payload);
        f->l3_end = off + hlen;
        f->l4_off = off + hlen;
        memset(f->b + f->l4_off, 0xee, payload);
        if (l4)
                put_l4(f->b + f->l4_off, o->proto, sp, dp);
        f->len = f->l4_off + payload;
        f->h2 = mpnet_rss_ip4(rss, s, d);
        f->h4 = mpnet_rss_ip4_l4(rss, s, d, sp, dp);
        f->type =
            l4 && (o->frag & 0x3fff) == 0 && !o->short_ip_len ? MPNET_RSS_IP4_L4 : MPNET_RSS_IP4;
}

struct ip6_opts {
        unsigned vlans;
        uint8_t proto;        /* the last next header */
        const uint8_t *ext;   /* extension headers, in order */
        const uint8_t *units; /* and their lengths, in 8-byte units past the first 8 */
        unsigned n_ext;
        int l4;           /* expected to hash the ports */
        int short_ip_len; /* payload length ends before the ports */
};

static void frame_ip6(struct frame *f, const struct mpnet_rss *rss, const struct ip6_opts *o)
{
        static const uint16_t tags[2][2] = {
            {MPNET_ETHERTYPE_IPV6},
            {MPNET_ETHERTYPE_VLAN, MPNET_ETHERTYPE_IPV6},
        };
        uint8_t s[16], d[16];
        uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();
        size_t off = put_eth(f->b, tags[o->vlans], o->vlans + 1), l3 = off, n;

        rnd_bytes(s, 16);
        rnd_bytes(d, 16);
        off += put_ip6(f->b + off, s, d, o->n_ext > 0 ? o->ext[0] : o->proto, 0);
        f->l3_end = off;
        for (unsigned i = 0; i < o->n_ext; i++)
                off +=
                    put_ext(f->b + off, i + 1 < o->n_ext ? o->ext[i + 1] : o->proto, o->units[i]);
        f->l4_off = off;
        n = put_l4(f->b + off, o->proto, sp, dp);
        f->len = off + n;
        mpnet_put_be16(f->b + l3 + 4,
                       (uint16_t)(o->short_ip_len ? f->l4_off + 2 - l3 - 40 : f->len - l3 - 40));
        f->h2 = mpnet_rss_ip6(rss, s, d);
        f->h4 = mpnet_rss_ip6_l4(rss, s, d, sp, dp);
        f->type = o->l4 && !o->short_ip_len ? MPNET_RSS_IP6_L4 : MPNET_RSS_IP6;
}

/* What a frame cut to n bytes must hash as. */
static unsigned cut_type(const struct frame *f, size_t n)
{
        if (f->type == MPNET_RSS_NONE || n < f->l3_end)
                return MPNET_RSS_NONE;
        if (f->type == MPNET_RSS_IP4_L4 && n < f->l4_off + 4)
                return MPNET_RSS_IP4;
        if (f->type == MPNET_RSS_IP6_L4 && n < f->l4_off + 4)
                return MPNET_RSS_IP6;
        return f->type;
}

/* Every prefix of the frame, each at the very end of its own allocation. */
static void check_frame(const struct mpnet_rss *rss, const struct frame *f)
{
        for (size_t n = 0; n <= f->len; n++) {
                uint8_t *m = malloc(n + 1), *b = m + 1;
                unsigned type = ~0u, want = cut_type(f, n);
                uint32_t h;

                assert_non_null(m);
                memcpy(b, f->b, n);
                h = mpnet_rss_hash_eth(rss, b, n, &type);
                assert_int_equal(type, want);
                if (want == MPNET_RSS_NONE)
                        assert_int_equal(h, 0);
                else if (want == MPNET_RSS_IP4 || want == MPNET_RSS_IP6)
                        assert_int_equal(h, f->h2);
                else
                        assert_int_equal(h, f->h4);
                assert_int_equal(mpnet_rss_hash_eth(rss, b, n, NULL), h);
                free(m);
        }
}

static void check_frames(const struct mpnet_rss *rss)
{
        static const struct ip4_opts v4[] = {
            {.proto = MPNET_IPPROTO_TCP},
            {.proto = MPNET_IPPROTO_UDP},
            {.proto = MPNET_IPPROTO_ICMP},
            {.proto = 47}, /* GRE */
            {.vlans = 1, .proto = MPNET_IPPROTO_TCP},
            {.vlans = 2, .proto = MPNET_IPPROTO_UDP},
            {.proto = MPNET_IPPROTO_TCP, .opt_words = 10}, /* IHL 15 */
            {.proto = MPNET_IPPROTO_UDP, .opt_words = 1},
            {.proto = MPNET_IPPROTO_UDP, .frag = 0x2000}, /* first fragment, MF */
            {.proto = MPNET_IPPROTO_UDP, .frag = 0x00b9}, /* last fragment */
            {.proto = MPNET_IPPROTO_TCP, .frag = 0x4000}, /* DF only: not a fragment */
            {.vlans = 1, .proto = MPNET_IPPROTO_TCP, .frag = 0x2001},
            {.proto = MPNET_IPPROTO_TCP, .short_ip_len = 1},
        };
        static const uint8_t hop[] = {0}, units0[] = {0}, units1[] = {3};
        static const uint8_t chain[] = {0, 60, 43, 60}, chain_units[] = {0, 1, 2, 0};
        static const uint8_t frag[] = {44}, esp[] = {50};
        const struct ip6_opts v6[] = {
            {.proto = MPNET_IPPROTO_TCP, .l4 = 1},
            {.proto = MPNET_IPPROTO_UDP, .l4 = 1},
            {.vlans = 1, .proto = MPNET_IPPROTO_TCP, .l4 = 1},
            {.proto = 58}, /* ICMPv6 */
            {.proto = MPNET_IPPROTO_TCP, .ext = hop, .units = units0, .n_ext = 1, .l4 = 1},
            {.proto = MPNET_IPPROTO_UDP, .ext = hop, .units = units1, .n_ext = 1, .l4 = 1},
            {.proto = MPNET_IPPROTO_UDP, .ext = chain, .units = chain_units, .n_ext = 4, .l4 = 1},
            {.proto = MPNET_IPPROTO_UDP, .ext = frag, .units = units0, .n_ext = 1},
            {.proto = MPNET_IPPROTO_TCP, .ext = esp, .units = units0, .n_ext = 1},
            {.proto = MPNET_IPPROTO_TCP, .short_ip_len = 1},
        };
        struct frame f;

        for (unsigned i = 0; i < ARRAY_LEN(v4); i++) {
                frame_ip4(&f, rss, &v4[i]);
                check_frame(rss, &f);
        }
        for (unsigned i = 0; i < ARRAY_LEN(v6); i++) {
                frame_ip6(&f, rss, &v6[i]);
                check_frame(rss, &f);
        }
}

static void test_rss_eth_frames(void **state)
{
        const uint8_t *keys[] = {mpnet_rss_key_ms, mpnet_rss_key_sym};

        (void)state;
        for (unsigned k = 0; k < 2; k++) {
                struct mpnet_rss *rss = rss_new(keys[k], MPNET_RSS_KEY_LEN);

                check_frames(rss);
                free(rss);
        }
}

/* The verification suite again, this time as TCP and UDP frames. */
static void test_rss_eth_ms_vectors(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        static const uint8_t protos[] = {MPNET_IPPROTO_TCP, MPNET_IPPROTO_UDP, MPNET_IPPROTO_ICMP};
        static const uint16_t v4[] = {MPNET_ETHERTYPE_IPV4}, v6[] = {MPNET_ETHERTYPE_IPV6};

        (void)state;
        for (unsigned p = 0; p < ARRAY_LEN(protos); p++) {
                uint8_t pr = protos[p];
                int l4 = pr != MPNET_IPPROTO_ICMP;

                for (unsigned i = 0; i < ARRAY_LEN(ms_ip4); i++) {
                        uint8_t b[128];
                        size_t off = put_eth(b, v4, 1);
                        unsigned type;

                        off += put_ip4(b + off, ms_ip4[i].src, ms_ip4[i].dst, pr, 0, 0, 20);
                        off += put_l4(b + off, pr, ms_ip4[i].sport, ms_ip4[i].dport);
                        assert_int_equal(mpnet_rss_hash_eth(rss, b, off, &type),
                                         l4 ? ms_ip4[i].ip_l4 : ms_ip4[i].ip);
                        assert_int_equal(type, l4 ? MPNET_RSS_IP4_L4 : MPNET_RSS_IP4);
                }
                for (unsigned i = 0; i < ARRAY_LEN(ms_ip6); i++) {
                        uint8_t b[128], s[16], d[16];
                        size_t off = put_eth(b, v6, 1);
                        unsigned type;

                        pton6(ms_ip6[i].src, s);
                        pton6(ms_ip6[i].dst, d);
                        off += put_ip6(b + off, s, d, pr, 20);
                        off += put_l4(b + off, pr, ms_ip6[i].sport, ms_ip6[i].dport);
                        assert_int_equal(mpnet_rss_hash_eth(rss, b, off, &type),
                                         l4 ? ms_ip6[i].ip_l4 : ms_ip6[i].ip);
                        assert_int_equal(type, l4 ? MPNET_RSS_IP6_L4 : MPNET_RSS_IP6);
                }
        }
        free(rss);
}

/* Not IP, or an IP header that lies: nothing hashed. */
static void test_rss_eth_not_ip(void **state)
{
        struct mpnet_rss *rss = rss_new(mpnet_rss_key_ms, MPNET_RSS_KEY_LEN);
        static const uint16_t arp[] = {MPNET_ETHERTYPE_ARP},
                              three[] = {MPNET_ETHERTYPE_VLAN, MPNET_ETHERTYPE_VLAN,
                                         MPNET_ETHERTYPE_VLAN, MPNET_ETHERTYPE_IPV4},
                              v4[] = {MPNET_ETHERTYPE_IPV4}, v6[] = {MPNET_ETHERTYPE_IPV6};
        uint8_t b[128] = {0}, a[16] = {0};
        unsigned type = ~0u;
        size_t off;

        (void)state;
        off = put_eth(b, arp, 1);
        assert_int_equal(mpnet_rss_hash_eth(rss, b, off + 28, &type), 0);
        assert_int_equal(type, MPNET_RSS_NONE);

        /* A third tag is not skipped: its TPID is the payload type. */
        off = put_eth(b, three, 4);
        put_ip4(b + off, 1, 2, MPNET_IPPROTO_TCP, 0, 0, 20);
        assert_int_equal(mpnet_rss_hash_eth(rss, b, off + 40, &type), 0);
        assert_int_equal(type, MPNET_RSS_NONE);

        /* IPv4 with IHL < 5, and with version 6. */
        off = put_eth(b, v4, 1);
        put_ip4(b + off, 1, 2, MPNET_IPPROTO_TCP, 0, 0, 20);
        b[off] = 0x44;
        assert_int_equal(mpnet_rss_hash_eth(rss, b, off + 40, &type), 0);
        assert_int_equal(type, MPNET_RSS_NONE);
        b[off] = 0x65;
        assert_int_equal(mpnet_rss_hash_eth(rss, b, off + 40, &type), 0);
        assert_int_equal(type, MPNET_RSS_NONE);

        /* IPv6 ethertype, version 4. */
        off = put_eth(b, v6, 1);
        put_ip6(b + off, a, a, MPNET_IPPROTO_TCP, 20);
        b[off] = 0x45;
        assert_int_equal(mpnet_rss_hash_eth(rss, b, off + 60, &type), 0);
        assert_int_equal(type, MPNET_RSS_NONE);
        free(rss);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rss_ms_ip4),
            cmocka_unit_test(test_rss_ms_ip6),
            cmocka_unit_test(test_rss_init_args),
            cmocka_unit_test(test_rss_single_bits),
            cmocka_unit_test(test_rss_fast_matches_reference),
            cmocka_unit_test(test_rss_hash_long_input),
            cmocka_unit_test(test_rss_symmetric_ip4),
            cmocka_unit_test(test_rss_symmetric_ip6),
            cmocka_unit_test(test_rss_ms_key_not_symmetric),
            cmocka_unit_test(test_rss_reta_init),
            cmocka_unit_test(test_rss_reta_set),
            cmocka_unit_test(test_rss_reta_spread),
            cmocka_unit_test(test_rss_eth_frames),
            cmocka_unit_test(test_rss_eth_ms_vectors),
            cmocka_unit_test(test_rss_eth_not_ip),
        };

        rng_state = 0x2545f4914f6cdd1dULL; /* a fixed seed: every run the same */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
