/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Replays the fuzz targets' seed corpus (and any crash reproducer saved next
 * to it) in every build, so what the fuzzer found stays fixed.
 */
#include <dirent.h>

#include "../fuzz/fuzz_stack_input.c"
#include "testutil.h"

static void replay_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned files = 0;

        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                char path[1024];
                uint8_t buf[65536];
                size_t n;
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                f = fopen(path, "rb");
                assert_non_null(f);
                n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
                files++;
        }
        closedir(d);
        assert_true(files > 0);
}

static void test_stack_input_corpus(void **state)
{
        char dir[1024];
        const char *src = __FILE__;
        const char *slash = strrchr(src, '/');

        (void)state;
        snprintf(dir, sizeof(dir), "%.*s/../fuzz/corpus/fuzz_stack_input",
                 slash ? (int)(slash - src) : 1, slash ? src : ".");
        replay_dir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_stack_input_corpus),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
