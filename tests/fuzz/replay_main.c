/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Replays one fuzz target's corpus (tests/fuzz/corpus/<target>/, seeds and
 * every crash reproducer kept there) in the ordinary test builds, linked
 * with the target's source: CTest test fuzz_replay_<target> (CMakeLists.txt).
 * What the fuzzer once found stays fixed under plain, ASan+UBSan builds too.
 * A target reports a broken property by trapping, so a failure is a crash.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *corpus_dir;

static void test_replay_corpus(void **state)
{
        DIR *d = opendir(corpus_dir);
        struct dirent *de;
        unsigned files = 0;

        (void)state;
        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                char path[1024];
                uint8_t *buf;
                size_t n;
                long len;
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", corpus_dir, de->d_name);
                f = fopen(path, "rb");
                assert_non_null(f);
                assert_int_equal(fseek(f, 0, SEEK_END), 0);
                len = ftell(f);
                assert_true(len >= 0);
                rewind(f);
                /* Exactly the file's size, as libFuzzer hands it over: ASan
                 * sees a read past the input. */
                buf = malloc(len > 0 ? (size_t)len : 1);
                assert_non_null(buf);
                n = fread(buf, 1, (size_t)len, f);
                fclose(f);
                assert_int_equal(n, (size_t)len);
                assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
                free(buf);
                files++;
        }
        closedir(d);
        print_message("replayed %u inputs from %s\n", files, corpus_dir);
        assert_true(files > 0);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_replay_corpus),
        };

        if (argc != 2) {
                fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
                return 2;
        }
        corpus_dir = argv[1];
        return cmocka_run_group_tests(tests, NULL, NULL);
}
