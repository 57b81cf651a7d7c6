/* SPDX-License-Identifier: BSD-2-Clause */
/* SHA-256 against the FIPS 180-4 examples (NIST CSRC example values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/sha256.h"

static void hex(const char *h, uint8_t *out)
{
        for (int i = 0; i < SHA256_LEN; i++) {
                unsigned v;

                assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
                out[i] = (uint8_t)v;
        }
}

static void check(const void *msg, size_t n, size_t step, const char *want)
{
        struct sha256 c;
        uint8_t d[SHA256_LEN], w[SHA256_LEN];

        sha256_init(&c);
        for (size_t off = 0; off < n; off += step)
                sha256_update(&c, (const uint8_t *)msg + off, n - off < step ? n - off : step);
        sha256_final(&c, d);
        hex(want, w);
        assert_memory_equal(d, w, SHA256_LEN);
}

static void test_vectors(void **state)
{
        static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        static char million[1000000];

        (void)state;
        check("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        check("abc", 3, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        /* 56 bytes: the length goes in a second padding block. */
        check(two, strlen(two), 7,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        memset(million, 'a', sizeof(million));
        check(million, sizeof(million), 4093,
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_vectors)};

        return cmocka_run_group_tests(tests, NULL, NULL);
}
