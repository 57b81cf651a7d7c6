/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd's configuration file replays a route line in the form a save
 * writes without making its message (tools/mpnetd/config_route.c), every
 * other line through the grammar and the message. Either way a line must
 * do what the same line does through `mpnetctl -b` and fail with the same
 * text: the same route lines, given to stack a in the file and to stack b
 * through mpnetctl -force -b, leave the same tables, and each line that
 * fails is logged at its line of the file with the text mpnetctl printed
 * for it. The lines mix the saved forms (taken directly) with forms only
 * the grammar reads (abbreviations, "default", octal "table 010", a
 * leading zero, a gateway given twice) and with errors of both kinds.
 */
#define _GNU_SOURCE
#include "mpnetdutil.h"

static struct mpd d;

static const char *const routes[] = {
    "-n %s route add 198.18.0.0/24 via 192.0.2.2 dev e0",
    "-n %s route add 198.18.1.0/24 via 192.0.2.2",
    "-n %s route add 198.18.2.0/24 dev e0",
    "-n %s route add 198.18.3.0/24 nexthop via 192.0.2.2 dev e0 nexthop via 192.0.2.3 dev e0",
    "-n %s route add 198.18.4.0/24 dev e0 via 192.0.2.4",
    "-n %s route add blackhole 198.18.5.0/24 table 7",
    "-n %s route add 198.18.6.0/24 via 192.0.2.2 dev e0 table 010",
    "-n %s r a 198.18.7.0/24 via 192.0.2.2",
    "-n %s route add default via 192.0.2.254",
    "-n %s route add 2001:db8:1::/48 via 2001:db8::2 dev e0",
    "-n %s route add unreachable 2001:db8:2::/48",
    "-n %s route replace 198.18.0.0/24 via 192.0.2.9 dev e0",
    "-n %s route add 198.18.8.0/24 via 192.0.2.2 dev nosuch",
    "-n %s route add 198.18.9.1/24 via 192.0.2.2",
    "-n %s route add 198.18.1.0/24 via 192.0.2.2",
    "-n %s route add 198.18.10.0/24 via 2001:db8::2",
    "-n %s route add 198.18.11.0/24 via 198.51.100.1 table 7",
    "-n %s route add 198.18.12.0/24 via 192.0.2.2 via 192.0.2.3",
    "-n %s route add 198.18.13.0/33 via 192.0.2.2",
    "-n %s route add 198.18.14.0/024 via 192.0.2.2",
    "-n %s route add 198.18.15.0/24 via 192.0.2.2 table 4096",
    "-n %s route add 198.18.16.0/24 via 192.0.2.2 dev e0 # a comment",
    "-n %s route add 198.18.17.0/24 via 192.0.2.02",
    "-n %s route add prohibit 198.18.18.0/24 via 192.0.2.2",
    "-n %s route add 198.18.19.0/24 nexthop",
    "-n nosuch route add 198.18.20.0/24 via 192.0.2.2",
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *const setup_lines[] = {
    "stack add a",
    "stack add b",
    "-n a link add e0 type mem peer e1",
    "-n b link add e0 type mem peer e1",
    "-n a addr add 192.0.2.1/24 dev e0",
    "-n b addr add 192.0.2.1/24 dev e0",
    "-n a addr add 2001:db8::1/64 dev e0",
    "-n b addr add 2001:db8::1/64 dev e0",
};

#define N_SETUP (sizeof(setup_lines) / sizeof(setup_lines[0]))

static void write_lines(const char *path, bool setup, const char *stack)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        for (size_t i = 0; setup && i < N_SETUP; i++)
                fprintf(f, "%s\n", setup_lines[i]);
        for (size_t i = 0; i < N_ROUTES; i++) {
                fprintf(f, routes[i], stack);
                fputc('\n', f);
        }
        fclose(f);
}

static void slurp(const char *path, char *out, size_t n)
{
        FILE *f = fopen(path, "r");
        size_t k;

        assert_non_null(f);
        k = fread(out, 1, n - 1, f);
        out[k] = '\0';
        fclose(f);
}

static void show(const char *stack, const char *what, char *out, size_t n)
{
        assert_int_equal(mpd_ctl(&d, out, n, "-n %s %s", stack, what), 0);
}

static void test_replay_as_batch(void **state)
{
        static char log[65536], errs[16384], a[8192], b[8192];
        static const char *const shows[] = {"route show", "route show table 7",
                                            "route show table 8", "-6 route show"};
        char batch[400], path[400], want[1024];
        unsigned n_err = 0;

        (void)state;
        write_lines(d.conf, true, "a");
        mpd_start(&d, 1);
        snprintf(batch, sizeof(batch), "%s/b.batch", d.dir);
        write_lines(batch, false, "b");
        assert_int_not_equal(mpd_ctl(&d, errs, sizeof(errs), "-force -b %s", batch), 0);
        for (size_t i = 0; i < sizeof(shows) / sizeof(shows[0]); i++) {
                show("a", shows[i], a, sizeof(a));
                show("b", shows[i], b, sizeof(b));
                assert_string_equal(a, b);
        }
        show("a", "route show", a, sizeof(a));
        assert_non_null(strstr(a, "198.18.0.0/24 via 192.0.2.9"));
        assert_non_null(strstr(a, "198.18.3.0/24"));
        assert_non_null(strstr(a, "198.18.16.0/24 via 192.0.2.2"));
        show("a", "route show table 8", a, sizeof(a));
        assert_non_null(strstr(a, "198.18.6.0/24"));

        /* mpnetctl: "FILE:N: mpnetctl: TEXT"; mpnetd: "CONF:N+setup: TEXT". */
        snprintf(path, sizeof(path), "%s/mpnetd.log", d.dir);
        slurp(path, log, sizeof(log));
        for (char *l = errs, *nl; *l != '\0'; l = nl + 1) {
                unsigned line;
                char *text;

                nl = strchr(l, '\n');
                assert_non_null(nl);
                *nl = '\0';
                text = strstr(l, ": mpnetctl: ");
                assert_non_null(text);
                assert_int_equal(sscanf(l + strlen(batch), ":%u:", &line), 1);
                snprintf(want, sizeof(want), "%s:%u: %s\n", d.conf, line + (unsigned)N_SETUP,
                         text + strlen(": mpnetctl: "));
                if (strstr(log, want) == NULL)
                        fail_msg("not in the log: %s(log: %s)", want, log);
                n_err++;
        }
        assert_true(n_err >= 8);
        /* And no other line of the file failed. */
        for (const char *p = log; (p = strstr(p, d.conf)) != NULL; p++)
                n_err -= p[strlen(d.conf)] == ':';
        assert_int_equal(n_err, 0);
}

static int setup(void **state)
{
        (void)state;
        return mpd_init(&d, "mpnetd-replay");
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
            cmocka_unit_test(test_replay_as_batch),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
