/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987 3.6,
 * src/l4/tcp_isn.h): the ISN's clock and keying, cookies round trip with
 * their MSS, lapse after their second period, reject another tuple, ISN or
 * key and every one-bit change, forged ones pass at the rate the layout
 * gives, and the options carried in the timestamp come back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "l4/tcp_isn.h"
#include "test_rand.h"

static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
#define A4 0xc0000201u /* 192.0.2.1 */
#define B4 0xc6120007u /* 198.18.0.7 */

static void test_isn(void **state)
{
        struct tcp_tuple t, u;
        uint8_t key2[16];
        uint64_t now = 4000ull * 30864197; /* on a tick */
        uint32_t i0;

        (void)state;
        tcp_tuple4(&t, A4, 80, B4, 40000);
        assert_true(tcp_tuple_is4(&t));
        i0 = tcp_isn(key, &t, now);
        assert_int_equal(tcp_isn(key, &t, now), i0);
        /* M: one tick every 4 us, 250 per millisecond. */
        assert_int_equal(tcp_isn(key, &t, now + 1000000) - i0, 250);
        assert_int_equal(tcp_isn(key, &t, now + 3999) - i0, 0);
        /* F: another port, address, family or key moves the number. */
        u = t;
        u.rport++;
        assert_int_not_equal(tcp_isn(key, &u, now), i0);
        u = t;
        u.lport++;
        assert_int_not_equal(tcp_isn(key, &u, now), i0);
        tcp_tuple4(&u, B4, 80, A4, 40000); /* the reverse direction */
        assert_int_not_equal(tcp_isn(key, &u, now), i0);
        tcp_tuple6(&u, a6, 80, b6, 40000);
        assert_false(tcp_tuple_is4(&u));
        assert_int_not_equal(tcp_isn(key, &u, now), tcp_isn(key, &t, now));
        memcpy(key2, key, 16);
        key2[0] ^= 1;
        assert_int_not_equal(tcp_isn(key2, &t, now), i0);
}

static void test_cookie_mss(void **state)
{
        static const uint16_t in4[] = {0, 536, 1000, 1300, 1439, 1440, 1460, 9000};
        static const uint16_t out4[] = {536, 536, 536, 1300, 1300, 1440, 1460, 1460};
        static const uint16_t in6[] = {1220, 1280, 1420, 1440, 1500, 8940, 65535};
        static const uint16_t out6[] = {1220, 1220, 1420, 1440, 1440, 8940, 8940};
        struct tcp_tuple t4, t6;
        unsigned i;

        (void)state;
        tcp_tuple4(&t4, A4, 80, B4, 40000);
        tcp_tuple6(&t6, a6, 443, b6, 50000);
        for (i = 0; i < sizeof(in4) / sizeof(in4[0]); i++) {
                uint32_t c = tcp_cookie_make(key, &t4, 1000 + i, in4[i], 5000);

                assert_int_equal(tcp_cookie_mss(&t4, in4[i]), out4[i]);
                assert_int_equal(tcp_cookie_check(key, &t4, 1000 + i, c, 5000), out4[i]);
        }
        for (i = 0; i < sizeof(in6) / sizeof(in6[0]); i++) {
                uint32_t c = tcp_cookie_make(key, &t6, 0xfffffff0u + i, in6[i], 5000);

                assert_int_equal(tcp_cookie_check(key, &t6, 0xfffffff0u + i, c, 5000), out6[i]);
        }
}

/* Good in the period it was made and the next, not after; a counter that
 * comes round again (8 periods) does not revive it. */
static void test_cookie_window(void **state)
{
        struct tcp_tuple t;
        uint64_t p = 64 * 1000;
        uint32_t c;

        (void)state;
        tcp_tuple4(&t, A4, 80, B4, 40000);
        c = tcp_cookie_make(key, &t, 7, 1460, p);
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p), 1460);
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p + 127), 1460);
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p + 128), 0);
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p - 1), 0); /* from the future */
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p + 8 * 64), 0);
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p + 8 * 64 + 5), 0);
        c = tcp_cookie_make(key, &t, 7, 1460, p + 63);
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p + 127), 1460);
        assert_int_equal(tcp_cookie_check(key, &t, 7, c, p + 128), 0);
}

static void test_cookie_wrong(void **state)
{
        struct tcp_tuple t, u;
        uint8_t key2[16];
        uint32_t c;
        unsigned bit;

        (void)state;
        tcp_tuple6(&t, a6, 443, b6, 50000);
        c = tcp_cookie_make(key, &t, 0x12345678, 1440, 99999);
        assert_int_equal(tcp_cookie_check(key, &t, 0x12345678, c, 99999), 1440);
        assert_int_equal(tcp_cookie_check(key, &t, 0x12345679, c, 99999), 0);
        u = t;
        u.rport ^= 1;
        assert_int_equal(tcp_cookie_check(key, &u, 0x12345678, c, 99999), 0);
        u = t;
        u.lport ^= 1;
        assert_int_equal(tcp_cookie_check(key, &u, 0x12345678, c, 99999), 0);
        u = t;
        u.raddr[15] ^= 1;
        assert_int_equal(tcp_cookie_check(key, &u, 0x12345678, c, 99999), 0);
        u = t;
        u.laddr[0] ^= 0x80;
        assert_int_equal(tcp_cookie_check(key, &u, 0x12345678, c, 99999), 0);
        memcpy(key2, key, 16);
        key2[15] ^= 1;
        assert_int_equal(tcp_cookie_check(key2, &t, 0x12345678, c, 99999), 0);
        /* Every one-bit change: the counter, the MSS index, the hash. */
        for (bit = 0; bit < 32; bit++)
                assert_int_equal(tcp_cookie_check(key, &t, 0x12345678, c ^ (1u << bit), 99999), 0);
}

/* Random ACKs against one SYN: the pass rate is 2/8 (a counter that names
 * a valid period) times 2^-h (the hash bits). With 11 bits compared it is
 * 2^-13, counted over 2^21 tries (256 expected); with the full 27 bits,
 * 2^-29, so 2^24 tries should see none (0.03 expected). */
static void test_cookie_forgery(void **state)
{
        struct tcp_tuple t;
        unsigned long i, n = quick() ? 1ul << 19 : 1ul << 21, pass = 0;
        double expect;

        (void)state;
        rng_state = seed_from_env(0x7cb);
        tcp_tuple4(&t, A4, 80, B4, 40000);
        for (i = 0; i < n; i++)
                pass += tcp_cookie_check_bits(key, &t, 4242, rnd32(), 64 * 777, 11) != 0;
        expect = (double)n / 8192;
        print_message("forged cookies passing with 11 hash bits: %lu of %lu (expected %.0f)\n",
                      pass, n, expect);
        assert_true(pass > expect * 0.6 && pass < expect * 1.4);
        n = quick() ? 1ul << 21 : 1ul << 24;
        pass = 0;
        for (i = 0; i < n; i++)
                pass += tcp_cookie_check(key, &t, 4242, rnd32(), 64 * 777) != 0;
        print_message("forged cookies passing with 27 hash bits: %lu of %lu\n", pass, n);
        assert_true(pass <= 2);
}

static void test_cookie_ts(void **state)
{
        static const uint32_t clocks[] = {0,    5,           63,          64,
                                          1000, 0x7fffffffu, 0xffffffc0u, 0xffffffffu};
        struct tcp_cookie_opts o, d;
        unsigned i, ws, f;

        (void)state;
        for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
                for (ws = 0; ws <= 15; ws++) {
                        for (f = 0; f < 4; f++) {
                                uint32_t ts;

                                o.wscale_ok = ws != 15;
                                o.wscale = o.wscale_ok ? (uint8_t)ws : 0;
                                o.sack_ok = f & 1;
                                o.ecn_ok = (f & 2) != 0;
                                ts = tcp_cookie_ts(clocks[i], &o);
                                /* At or behind the clock, by less than 128. */
                                assert_true(clocks[i] - ts < 128);
                                tcp_cookie_ts_decode(ts, &d);
                                assert_int_equal(d.wscale_ok, o.wscale_ok);
                                assert_int_equal(d.wscale, o.wscale_ok && ws > 14 ? 14 : o.wscale);
                                assert_int_equal(d.sack_ok, o.sack_ok);
                                assert_int_equal(d.ecn_ok, o.ecn_ok);
                        }
                }
        }
        /* A shift above 14 is sent as 14 (RFC 7323 2.3). */
        o.wscale_ok = true;
        o.wscale = 20;
        tcp_cookie_ts_decode(tcp_cookie_ts(1000, &o), &d);
        assert_int_equal(d.wscale, 14);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_isn),
            cmocka_unit_test(test_cookie_mss),
            cmocka_unit_test(test_cookie_window),
            cmocka_unit_test(test_cookie_wrong),
            cmocka_unit_test(test_cookie_forgery),
            cmocka_unit_test(test_cookie_ts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
