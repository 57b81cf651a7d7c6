/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnet-http's message parsing (tools/mpnet-http/http.c): request heads,
 * good and malformed, each with its status; response heads; the chunked
 * coding fed whole and a byte at a time; request targets that must not
 * leave the served folder; and random bytes and random cuts of valid heads
 * that must get an answer, never a read past their end (run under ASan).
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "mpnet-http/http.h"

static int req(const char *s, struct http_req *r)
{
        return http_req_parse(s, strlen(s), r);
}

static void test_req_good(void **state)
{
        struct http_req r;

        (void)state;
        assert_int_equal(req("GET /a/b.bin?x=1 HTTP/1.1\r\nHost: h\r\n\r\nGET", &r), 1);
        assert_int_equal(r.method, HTTP_GET);
        assert_string_equal(r.target, "/a/b.bin?x=1");
        assert_int_equal(r.minor, 1);
        assert_true(r.keep_alive);
        assert_int_equal(r.head_len, strlen("GET /a/b.bin?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"));

        /* Bare LFs, leading empty lines, Connection: close. */
        assert_int_equal(req("\r\n\nHEAD / HTTP/1.1\nhost:h\nConnection: foo, Close\n\n", &r), 1);
        assert_int_equal(r.method, HTTP_HEAD);
        assert_false(r.keep_alive);

        /* HTTP/1.0: no Host needed, closes unless keep-alive. */
        assert_int_equal(req("GET / HTTP/1.0\r\n\r\n", &r), 1);
        assert_false(r.keep_alive);
        assert_int_equal(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r), 1);
        assert_true(r.keep_alive);

        /* A body to skip; the absolute form. */
        assert_int_equal(
            req("GET http://h:8/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", &r), 1);
        assert_string_equal(r.target, "/x");
        assert_int_equal(r.content_len, 5);
}

static void test_req_bad(void **state)
{
        static const struct {
                const char *s;
                int want;
        } cases[] = {
            {"GET / HTTP/1.1\r\nHost: h\r\n", 0}, /* not complete yet */
            {"GARBAGE\r\n\r\n", -400},
            {"GET /\r\n\r\n", -400},
            {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", -400},
            {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", -400},
            {"GET / HTTP/1.x\r\nHost: h\r\n\r\n", -400},
            {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", -505},
            {"POST / HTTP/1.1\r\nHost: h\r\n\r\n", -501},
            {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", -400},
            {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", -501},
            {"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", -400},
        };
        struct http_req r;

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int rc = req(cases[i].s, &r);

                if (rc != cases[i].want)
                        fail_msg("case %zu: %d, %d expected", i, rc, cases[i].want);
        }
}

static void test_req_limits(void **state)
{
        char *b = malloc(HTTP_HEAD_MAX + 64);
        struct http_req r;
        size_t n;

        (void)state;
        assert_non_null(b);
        /* A head that reaches the limit without its end: 431. */
        n = (size_t)snprintf(b, 64, "GET / HTTP/1.1\r\nX: ");
        memset(b + n, 'a', HTTP_HEAD_MAX + 10 - n);
        assert_int_equal(http_req_parse(b, HTTP_HEAD_MAX + 10, &r), -431);
        assert_int_equal(http_req_parse(b, HTTP_HEAD_MAX - 1, &r), 0);
        /* A target longer than the buffer: 414. */
        n = (size_t)snprintf(b, 64, "GET /");
        memset(b + n, 'a', 2000);
        n += 2000;
        n += (size_t)snprintf(b + n, 64, " HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_int_equal(http_req_parse(b, n, &r), -414);
        /* A NUL in the target, the NUL counted in n. */
        memcpy(b, "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n", 31);
        assert_int_equal(http_req_parse(b, 31, &r), -400);
        free(b);
}

static void test_target_path(void **state)
{
        static const struct {
                const char *target, *path;
                int want;
        } cases[] = {
            {"/", "/srv/index.html", 0},
            {"/a/b.bin", "/srv/a/b.bin", 0},
            {"/a%20b?q=..", "/srv/a b", 0},
            {"/d/", "/srv/d/index.html", 0},
            {"/..", NULL, -400},
            {"/../etc/passwd", NULL, -400},
            {"/a/../../x", NULL, -400},
            {"/%2e%2e/x", NULL, -400},
            {"/..%2fx", NULL, -400},
            {"/./x", NULL, -400},
            {"/a/.", NULL, -400},
            {"/a%00b", NULL, -400},
            {"/a%0ab", NULL, -400},
            {"/a%zz", NULL, -400},
            {"/a%4", NULL, -400},
            {"a", NULL, -400},
            {"*", NULL, -400},
        };
        char out[64];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int rc = http_target_path("/srv", cases[i].target, out, sizeof(out));

                if (rc != cases[i].want)
                        fail_msg("%s: %d, %d expected", cases[i].target, rc, cases[i].want);
                if (rc == 0)
                        assert_string_equal(out, cases[i].path);
        }
        assert_int_equal(http_target_path("/srv",
                                          "/0123456789012345678901234567890123456789"
                                          "0123456789012345678901234567890123456789",
                                          out, sizeof(out)),
                         -414);
}

static void test_resp(void **state)
{
        static const char ok[] = "HTTP/1.0 200 OK\r\nServer: x\r\nContent-Length: 12\r\n\r\nbody";
        struct http_resp r;

        (void)state;
        assert_int_equal(http_resp_parse(ok, sizeof(ok) - 1, &r), 1);
        assert_int_equal(r.status, 200);
        assert_true(r.has_len);
        assert_int_equal(r.body_len, 12);
        assert_true(r.close); /* HTTP/1.0 */
        assert_int_equal(r.head_len, sizeof(ok) - 1 - 4);
        assert_int_equal(http_resp_parse(ok, 20, &r), 0);

        static const char ch[] = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n"
                                 "Content-Length: 3\r\n\r\n";
        assert_int_equal(http_resp_parse(ch, sizeof(ch) - 1, &r), 1);
        assert_int_equal(r.status, 404);
        assert_true(r.chunked);
        assert_false(r.has_len);
        assert_false(r.close);

        assert_int_equal(http_resp_parse("HTTP/1.1 2x0 OK\r\n\r\n", 19, &r), -1);
        assert_int_equal(http_resp_parse("HTTP/1.1 200\r\n\r\n", 16, &r), 1);
        assert_int_equal(
            http_resp_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 44, &r), -1);
}

static void test_chunked(void **state)
{
        static const char body[] =
            "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        uint8_t out[sizeof(body)], all[sizeof(body)];
        struct http_chunk c = {0};
        size_t w, got = 0;
        long used;

        (void)state;
        used = http_chunk_feed(&c, (const uint8_t *)body, sizeof(body) - 1, out, &w);
        assert_int_equal(used, sizeof(body) - 1 - 4); /* "NEXT" is not the body's */
        assert_true(http_chunk_done(&c));
        assert_int_equal(w, 15);
        assert_memory_equal(out, "hello, chunked!", 15);

        /* A byte at a time. */
        memset(&c, 0, sizeof(c));
        for (size_t i = 0; i < sizeof(body) - 1 && !http_chunk_done(&c); i++) {
                assert_int_equal(http_chunk_feed(&c, (const uint8_t *)body + i, 1, out, &w), 1);
                memcpy(all + got, out, w);
                got += w;
        }
        assert_true(http_chunk_done(&c));
        assert_int_equal(got, 15);
        assert_memory_equal(all, "hello, chunked!", 15);

        /* Malformed: no digits, junk after the data, a size too long. */
        memset(&c, 0, sizeof(c));
        assert_int_equal(http_chunk_feed(&c, (const uint8_t *)"\r\n", 2, out, &w), -1);
        memset(&c, 0, sizeof(c));
        assert_int_equal(http_chunk_feed(&c, (const uint8_t *)"1\r\nab\r\n", 7, out, &w), -1);
        memset(&c, 0, sizeof(c));
        assert_int_equal(http_chunk_feed(&c, (const uint8_t *)"fffffffffffffffff\r\n", 19, out, &w),
                         -1);
}

/* splitmix64: a fixed sequence, so a failure is found again. */
static uint64_t next_rand(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static size_t below(uint64_t *x, size_t n)
{
        return n == 0 ? 0 : (size_t)(next_rand(x) % n);
}

/* Random bytes and random cuts and flips of a valid head: every call
 * answers (ASan sees any read past the buffer: it ends the allocation). */
static void test_random_input(void **state)
{
        static const char good[] = "GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                                   "Connection: keep-alive\r\n\r\nabc";
        uint64_t rnd = 16;
        struct http_req r;
        struct http_resp rs;
        char path[256];

        (void)state;
        for (int it = 0; it < 20000; it++) {
                size_t n = below(&rnd, sizeof(good));
                char *b = malloc(n + 1);
                uint8_t out[sizeof(good)];
                struct http_chunk c = {0};
                size_t w;

                assert_non_null(b);
                if (it % 2 == 0) {
                        memcpy(b, good, n);
                        if (n > 0)
                                b[below(&rnd, n)] = (char)below(&rnd, 256);
                } else {
                        for (size_t i = 0; i < n; i++)
                                b[i] = (char)below(&rnd, 256);
                }
                int rc = http_req_parse(b, n, &r);

                assert_true(rc == 1 || rc == 0 || rc == -400 || rc == -414 || rc == -431 ||
                            rc == -501 || rc == -505);
                if (rc == 1) {
                        assert_true(r.head_len <= n);
                        http_target_path("/srv", r.target, path, sizeof(path));
                }
                rc = http_resp_parse(b, n, &rs);
                assert_true(rc >= -1 && rc <= 1);
                assert_true(http_chunk_feed(&c, (const uint8_t *)b, n, out, &w) <= (long)n);
                b[n] = '\0';
                http_target_path("/srv", b, path, sizeof(path));
                free(b);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_req_good),     cmocka_unit_test(test_req_bad),
            cmocka_unit_test(test_req_limits),   cmocka_unit_test(test_target_path),
            cmocka_unit_test(test_resp),         cmocka_unit_test(test_chunked),
            cmocka_unit_test(test_random_input),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
