/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetctl -b FILE, as ip -batch: one command a line (comments, blank
 * lines, -n STACK at the start of a line), many to a datagram; the first
 * error names its line and stops the batch: the lines before it ran, it
 * and the ones after it did not, whether it is refused by mpnetd (the rest
 * of its datagram is answered ECANCELED and not run) or does not parse;
 * -force goes on past errors.
 */
#define _GNU_SOURCE
#include "mpnetdutil.h"

static struct mpd d;

static void batch_file(const char *name, const char *text, char *path, size_t n)
{
        FILE *f;

        snprintf(path, n, "%s/%s", d.dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static bool has_route(const char *stack, const char *prefix)
{
        char out[4096];

        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n %s route show", stack), 0);
        return strstr(out, prefix) != NULL;
}

static void test_batch_ok(void **state)
{
        char path[400], out[4096];

        (void)state;
        batch_file("ok.batch",
                   "# a stack and its routes\n"
                   "stack add b1\n"
                   "\n"
                   "-n b1 link add e0 type mem peer e1\n"
                   "-n b1 addr add 192.0.2.1/24 dev e0   # the connected net\n"
                   "-n b1 route add 198.18.1.0/24 via 192.0.2.2\n"
                   "-n b1 r a 198.18.2.0/24 via 192.0.2.2\n",
                   path, sizeof(path));
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-b %s", path), 0);
        assert_true(has_route("b1", "198.18.1.0/24 via 192.0.2.2"));
        assert_true(has_route("b1", "198.18.2.0/24 via 192.0.2.2"));
        /* -n on the command line is every line's default. */
        batch_file("n.batch", "route add 198.18.3.0/24 via 192.0.2.2\n", path, sizeof(path));
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n b1 -b %s", path), 0);
        assert_true(has_route("b1", "198.18.3.0/24"));
}

/* Refused by the daemon at line 3: lines 1-2 ran, 3-5 did not, though
 * they went in the same datagram. */
static void test_refused_stops(void **state)
{
        char path[400], out[4096];

        (void)state;
        batch_file("refused.batch",
                   "-n b1 route add 198.18.10.0/24 via 192.0.2.2\n"
                   "-n b1 route add 198.18.11.0/24 via 192.0.2.2\n"
                   "-n b1 route add 198.18.12.0/24 dev nosuch\n"
                   "-n b1 route add 198.18.13.0/24 via 192.0.2.2\n"
                   "-n b1 route add 198.18.14.0/24 via 192.0.2.2\n",
                   path, sizeof(path));
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-b %s", path), 1);
        if (strstr(out, "refused.batch:3: mpnetctl: no link nosuch") == NULL)
                fail_msg("%s", out);
        assert_null(strstr(out, ":4:")); /* the lines not run are not reported */
        assert_true(has_route("b1", "198.18.10.0/24"));
        assert_true(has_route("b1", "198.18.11.0/24"));
        assert_false(has_route("b1", "198.18.13.0/24"));
        assert_false(has_route("b1", "198.18.14.0/24"));
        /* -force: every line that can runs; the status still says. */
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-force -b %s", path), 1);
        assert_non_null(strstr(out, "refused.batch:1: mpnetctl: "));
        assert_non_null(strstr(out, "refused.batch:3: mpnetctl: no link nosuch"));
        assert_true(has_route("b1", "198.18.13.0/24"));
        assert_true(has_route("b1", "198.18.14.0/24"));
}

/* A line that does not parse: the lines before it ran, none after. */
static void test_parse_error_stops(void **state)
{
        char path[400], out[4096];

        (void)state;
        batch_file("parse.batch",
                   "-n b1 route add 198.18.20.0/24 via 192.0.2.2\n"
                   "-n b1 route add 198.18.21.0/33 via 192.0.2.2\n"
                   "-n b1 route add 198.18.22.0/24 via 192.0.2.2\n",
                   path, sizeof(path));
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-b %s", path), 2);
        if (strstr(out, "parse.batch:2: mpnetctl: ") == NULL ||
            strstr(out, "prefix length") == NULL)
                fail_msg("%s", out);
        assert_true(has_route("b1", "198.18.20.0/24"));
        assert_false(has_route("b1", "198.18.22.0/24"));
        /* Standard input. */
        batch_file("stdin.batch", "-n b1 route add 198.18.23.0/24 via 192.0.2.2\n", path,
                   sizeof(path));
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-b - < %s", path), 0);
        assert_true(has_route("b1", "198.18.23.0/24"));
}

static int setup(void **state)
{
        (void)state;
        if (mpd_init(&d, "mpnetd-batch") != 0)
                return -1;
        mpd_start(&d, 1);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        mpd_fini(&d);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_batch_ok),
            cmocka_unit_test(test_refused_stops),
            cmocka_unit_test(test_parse_error_stops),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
