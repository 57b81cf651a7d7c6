/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zalloc_lines(): zeroed, line-aligned blocks, big ones mapped (outside
 * AddressSanitizer), and from the heap when the process may map no more
 * (mmap failing, as past vm.max_map_count); zfree_lines() gives back each
 * kind the way it came. The test wraps mmap() at link time
 * (-Wl,--wrap=mmap) so it can make it fail.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/zalloc.h"

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

static int fail_mmap;
static unsigned mmaps;

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
        mmaps++;
        if (fail_mmap)
                return MAP_FAILED;
        return __real_mmap(addr, len, prot, flags, fd, off);
}

/* Zeroed, aligned to a line, every byte writable. */
static void check_block(uint8_t *p, size_t size)
{
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % MPNET_CACHE_LINE, 0);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(p[i], 0);
        for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t)i;
}

static void test_small_and_big(void **state)
{
        static const size_t sizes[] = {1,        64, 1000, ZALLOC_MMAP_MIN - 1, ZALLOC_MMAP_MIN,
                                       237 << 10};

        (void)state;
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                unsigned m0 = mmaps;
                uint8_t *p = zalloc_lines(sizes[i]);

                check_block(p, sizes[i]);
                /* Only big blocks are mapped, and not under ASan. */
                if (sizes[i] < ZALLOC_MMAP_MIN || !ZALLOC_USE_MMAP)
                        assert_int_equal(mmaps, m0);
                else
                        assert_int_equal(mmaps, m0 + 1);
                zfree_lines(p);
        }
        zfree_lines(NULL);
}

static void test_no_more_mappings(void **state)
{
        uint8_t *p[8];

        (void)state;
        fail_mmap = 1;
        for (unsigned i = 0; i < 8; i++) {
                p[i] = zalloc_lines(237 << 10);
                check_block(p[i], 237 << 10);
        }
        fail_mmap = 0;
        for (unsigned i = 0; i < 8; i++)
                zfree_lines(p[i]);
}

static void test_too_big(void **state)
{
        (void)state;
        assert_null(zalloc_lines(SIZE_MAX / 2 + 1));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_small_and_big),
            cmocka_unit_test(test_no_more_mappings),
            cmocka_unit_test(test_too_big),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
