/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen's command line: every malformed line exits 2 with a message on stderr
 * that names the problem, before anything runs. The parser runs in this
 * process (main.c compiled in under another name); when the mpgen binary is
 * built beside this test, a few lines also go through it for the real exit
 * status.
 */
#include "mpgen/mpgen.h"

int mpgen_main(int argc, char **argv);
#define main mpgen_main
#include "../../tools/mpgen/main.c"
#undef main

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Run mpgen_main on a command line with stderr captured. @return the exit
 * code; err gets what it printed. */
static int run_cli(const char *line, char *err, size_t n)
{
        char buf[512], *argv[32], *save, *tok;
        int argc = 0, rc, saved, fd;
        FILE *f;
        size_t got;

        snprintf(buf, sizeof(buf), "mpgen %s", line);
        for (tok = strtok_r(buf, " ", &save); tok != NULL && argc < 31;
             tok = strtok_r(NULL, " ", &save))
                argv[argc++] = tok;
        argv[argc] = NULL;
        f = tmpfile();
        assert_non_null(f);
        fflush(stderr);
        saved = dup(2);
        fd = fileno(f);
        dup2(fd, 2);
        rc = mpgen_main(argc, argv);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        rewind(f);
        got = fread(err, 1, n - 1, f);
        err[got] = '\0';
        fclose(f);
        return rc;
}

static const struct {
        const char *line, *says;
} bad_lines[] = {
    {"", "a command is needed"},
    {"bench", "unknown command 'bench'"},
    {"rfc2544 --bogus", "unknown option '--bogus'"},
    {"rfc2544 --sizes", "missing value for '--sizes'"},
    {"rfc2544 --sizes 64,,x", "bad value '64,,x' for --sizes"},
    {"rfc2544 --sizes 63", "frame size 63 out of range 64..9018"},
    {"rfc2544 --sizes 1519 --dut afpacket", "frame size 1519: the afpacket DUT takes at most 1518"},
    {"rfc2544 --sizes 9019 --dut wire", "frame size 9019 out of range 64..9018"},
    {"rfc2544 --sizes 64 --ip6 --dut wire", "frame size 64 out of range 78..9018 for IPv6"},
    {"rfc2544 --dut tap", "bad value 'tap' for --dut"},
    {"rfc2544 --workers 63", "bad value '63' for --workers"},
    {"rfc2544 --workers 2 --dut wire", "--workers applies to --dut builtin"},
    {"rfc2544 --link tap --dut afpacket", "--link tap does not apply to --dut afpacket"},
    {"rfc2544 --link afxdp", "--link applies to --dut kernel, afpacket, afxdp and veth"},
    {"rfc2544 --link pipe --dut kernel", "bad value 'pipe' for --link"},
    {"rfc2544 --workers 0", "bad value '0' for --workers"},
    {"rfc2544 --vlan 5", "--vlan needs --dut wire or veth"},
    {"rfc2544 --ip6 --dut kernel", "--ip6 needs --dut builtin, wire or veth"},
    {"rfc2544 --ip6 --dut afpacket", "--ip6 needs --dut builtin, wire or veth"},
    {"rfc2544 --vlan 4095 --dut wire", "bad value '4095' for --vlan"},
    {"rfc2544 --tcp --sizes 64", "frame size 64 out of range 70..9018 for IPv4 TCP"},
    {"rfc2544 --sizes 64,9018 --dut afpacket", "frame size 9018: the afpacket DUT takes at most"},
    {"run --rate 1 --dut wire --size 9019", "frame size 9019 out of range 64..9018 for IPv4"},
    {"run --rate 1 --tcp --ip6 --dut wire --size 78", "out of range 90..9018 for IPv6 TCP"},
    {"run --rate 1 --flow-file /nonexistent/flows", "--flow-file /nonexistent/flows: No such"},
    {"run --rate 1 --flow-file /dev/null", "--flow-file /dev/null: no flow in it"},
    {"run --rate 1 --flow-file /dev/null --src 198.18.0.9", "--flow-file replaces --src"},
    {"rfc2544 --speed fast", "bad value 'fast' for --speed"},
    {"rfc2544 --ring 1000", "a power of two"},
    {"rfc2544 --tests throughput,jitter", "bad value 'throughput,jitter' for --tests"},
    {"rfc2544 --search linear", "binary or mlr"},
    {"rfc2544 --resolution 0", "bad value '0' for --resolution"},
    {"rfc2544 --resolution 5x", "bad value '5x' for --resolution"},
    {"rfc2544 --duration -1", "bad value '-1' for --duration"},
    {"rfc2544 --duration 10h", "bad value '10h' for --duration"},
    {"rfc2544 --phases 5", "bad value '5' for --phases"},
    {"rfc2544 --src 198.18.0.300", "bad value '198.18.0.300' for --src"},
    {"rfc2544 --dst 198.19.0.9-198.19.0.1", "bad value '198.19.0.9-198.19.0.1' for --dst"},
    {"rfc2544 --sport 70000", "bad value '70000' for --sport"},
    {"rfc2544 --src 198.18.0.0-198.18.255.255 --dst 198.19.0.0-198.19.0.1", "more than 65536"},
    {"rfc2544 --rate 1M", "--rate does not apply to `mpgen rfc2544`"},
    {"rfc2544 extra", "unexpected argument 'extra'"},
    {"run", "run needs --rate"},
    {"run --rate 5x", "bad value '5x' for --rate"},
    {"run --rate 101%", "bad value '101%' for --rate"},
    {"run --rate 0", "bad value '0' for --rate"},
    {"run --rate 1M --quick", "--quick does not apply to `mpgen run`"},
    {"run --rate 1M --count 5 --duration 1", "--duration or --count, not both"},
    {"run --rate 1M --size 40", "frame size 40 out of range"},
    {"run --rate 1M --pin 0", "bad value '0' for --pin"},
    {"run --rate 1M --pin 1,1", "bad value '1,1' for --pin"},
    {"run --rate 1M --pin 0,x", "bad value '0,x' for --pin"},
    {"run --rate 1M --pin 0,1024", "bad value '0,1024' for --pin"},
    {"run --rate 1M --pin -1,0", "bad value '-1,0' for --pin"},
    {"run --rate 1M --pin nope", "bad value 'nope' for --pin"},
    {"run --rate 1M --dut kernel,afxdp", "run takes one --dut"},
    {"rfc2544 --dut kernel,kernel", "bad value 'kernel,kernel' for --dut"},
    {"rfc2544 --dut kernel,router", "bad value 'kernel,router' for --dut"},
    {"rfc2544 --dut kernel,builtin --link afxdp", "--link applies to"},
    {"rfc2544 --dut afxdp --link tap", "--link tap does not apply to --dut afxdp"},
    {"rfc2544 --dut builtin,afxdp --sizes 64,9018", "the afxdp DUT takes at most 1518"},
    {"rfc2544 --dut afxdp --ip6", "--ip6 needs"},
};

static void test_bad_lines(void **state)
{
        char err[1024];

        (void)state;
        for (size_t i = 0; i < sizeof(bad_lines) / sizeof(*bad_lines); i++) {
                int rc = run_cli(bad_lines[i].line, err, sizeof(err));

                if (rc != 2 || strstr(err, bad_lines[i].says) == NULL)
                        print_error("line '%s': rc %d, stderr '%s'\n", bad_lines[i].line, rc, err);
                assert_int_equal(rc, 2);
                assert_non_null(strstr(err, bad_lines[i].says));
                assert_true(strncmp(err, "mpgen: ", 7) == 0);
                assert_non_null(strchr(err, '\n'));
        }
}

/* Good lines parse into what they say. */
static void test_good_lines(void **state)
{
        struct opts o;
        char l1[] = "mpgen", l2[] = "rfc2544", l3[] = "--quick", l4[] = "--sizes", l5[] = "64,1518",
             l6[] = "--dst", l7[] = "198.19.1.0-198.19.1.99", l8[] = "--dport", l9[] = "5000-5009",
             l10[] = "--search", l11[] = "mlr", l12[] = "--speed", l13[] = "1G";
        char *argv[] = {l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12, l13, NULL};
        char r1[] = "mpgen", r2[] = "run", r3[] = "--rate", r4[] = "50%", r5[] = "--ip6",
             r6[] = "--dut", r7[] = "wire";
        char *rargv[] = {r1, r2, r3, r4, r5, r6, r7, NULL};

        (void)state;
        assert_int_equal(parse_opts(13, argv, &o), 0);
        assert_true(o.rfc2544);
        assert_string_equal(o.cfg.profile, "quick");
        assert_int_equal(o.cfg.n_sizes, 2);
        assert_int_equal(o.cfg.sizes[1], 1518);
        assert_int_equal(o.cfg.flows.dst4, IP4(198, 19, 1, 0));
        assert_int_equal(mpg_flows_count(&o.cfg.flows), 1000);
        assert_true(o.cfg.mlr);
        assert_int_equal(o.cfg.speed_bps, 1000000000ull);
        assert_int_equal(parse_opts(7, rargv, &o), 0);
        assert_false(o.rfc2544);
        assert_true(o.cfg.flows.ip6);
        assert_int_equal(o.size, 78);
        assert_int_equal(o.rate_unit, R_PCT);
        assert_true(o.rate == 50);
        assert_true(fabs(run_rate(&o, 1e6, 78) - 5e5) < 1e-6);
        free(o.flow_list);
        /* A flow file (two flows, one with ports, a comment, a blank line),
         * TCP: the default sizes start at 70 bytes. */
        {
                char path[] = "/tmp/mpgen-flows-XXXXXX", f1[] = "mpgen", f2[] = "rfc2544",
                     f3[] = "--tcp", f4[] = "--flow-file";
                char *fargv[] = {f1, f2, f3, f4, path, NULL};
                int fd = mkstemp(path);
                FILE *f = fdopen(fd, "w");

                assert_non_null(f);
                fputs("# flows\n198.18.0.2 198.19.0.9 1000 2000\n\n198.18.0.3 198.19.0.10\n", f);
                fclose(f);
                assert_int_equal(parse_opts(5, fargv, &o), 0);
                unlink(path);
                assert_int_equal(mpg_flows_count(&o.cfg.flows), 2);
                assert_int_equal(o.cfg.flows.list[0].dport, 2000);
                assert_int_equal(o.cfg.flows.list[1].sport, 1024);
                assert_int_equal(o.cfg.flows.list[1].dst4, IP4(198, 19, 0, 10));
                assert_int_equal(o.cfg.flows.proto, MPNET_IPPROTO_TCP);
                assert_int_equal(o.cfg.sizes[0], 70);
                free(o.flow_list);
        }
}

/* --pin: the tester's CPU, then the DUT's, used in turn; none; the
 * default puts the tester on the first CPU allowed and the DUT on the rest. */
static void test_pin(void **state)
{
        struct mpg_layout l;
        struct opts o;
        char buf[256];
        char a1[] = "mpgen", a2[] = "rfc2544", a3[] = "--pin", a4[] = "3,1,2", a5[] = "--workers",
             a6[] = "3";
        char *argv[] = {a1, a2, a3, a4, a5, a6, NULL};
        char n4[] = "none";
        char *nargv[] = {a1, a2, a3, n4, NULL};

        (void)state;
        assert_int_equal(parse_opts(6, argv, &o), 0);
        assert_true(o.cfg.layout.pin && o.cfg.layout.given);
        assert_int_equal(o.cfg.layout.tester, 3);
        assert_int_equal(o.cfg.layout.n_dut, 2);
        /* Three workers on two CPUs: in turn. */
        assert_int_equal(mpg_layout_dut_cpu(&o.cfg.layout, 0), 1);
        assert_int_equal(mpg_layout_dut_cpu(&o.cfg.layout, 1), 2);
        assert_int_equal(mpg_layout_dut_cpu(&o.cfg.layout, 2), 1);
        mpg_layout_describe(&o.cfg.layout, MPG_DUT_BUILTIN, 3, buf, sizeof(buf));
        print_message("%s\n", buf);
        assert_non_null(strstr(buf, "tester (sends and receives) on CPU 3"));
        assert_non_null(strstr(buf, "router workers on CPUs 1,2,1"));
        free(o.flow_list);

        assert_int_equal(parse_opts(4, nargv, &o), 0);
        assert_false(o.cfg.layout.pin);
        assert_int_equal(mpg_layout_dut_cpu(&o.cfg.layout, 0), -1);
        mpg_layout_describe(&o.cfg.layout, MPG_DUT_BUILTIN, 1, buf, sizeof(buf));
        assert_non_null(strstr(buf, "unpinned"));
        free(o.flow_list);

        assert_int_equal(mpg_layout_parse("0,1", &l), 0);
        mpg_layout_describe(&l, MPG_DUT_KERNEL, 1, buf, sizeof(buf));
        assert_non_null(strstr(buf, "softirq"));
        assert_int_equal(mpg_layout_parse("0,", &l), -EINVAL);
        assert_int_equal(mpg_layout_parse(",1", &l), -EINVAL);
        assert_int_equal(mpg_layout_parse("", &l), -EINVAL);

        /* The default: with two CPUs or more, tester and DUT apart. */
        mpg_layout_default(&l);
        assert_false(l.given);
        if (l.pin) {
                assert_true(l.n_dut >= 1);
                for (unsigned i = 0; i < l.n_dut; i++)
                        assert_int_not_equal(l.dut[i], l.tester);
        } else {
                assert_int_equal(l.n_dut, 0);
        }
}

/* --dut takes a list for rfc2544, run in that order. */
static void test_dut_list(void **state)
{
        struct opts o;
        char a1[] = "mpgen", a2[] = "rfc2544", a3[] = "--dut", a4[] = "kernel,afpacket,afxdp",
             a5[] = "--link", a6[] = "afxdp";
        char *argv[] = {a1, a2, a3, a4, a5, a6, NULL};

        (void)state;
        assert_int_equal(parse_opts(6, argv, &o), 0);
        assert_int_equal(o.n_duts, 3);
        assert_int_equal(o.duts[0], MPG_DUT_KERNEL);
        assert_int_equal(o.duts[1], MPG_DUT_AFPACKET);
        assert_int_equal(o.duts[2], MPG_DUT_AFXDP);
        assert_int_equal(o.cfg.link, MPG_LINK_AFXDP);
        free(o.flow_list);
}

/* Through the binary, when it is there: the real exit status. */
static void test_binary(void **state)
{
        char bin[1024], cmd[1200];
        const char *out = getenv("MPNET_TEST_OUT");
        int st;

        (void)state;
        if (out == NULL || *out == '\0')
                skip();
        snprintf(bin, sizeof(bin), "%s/../mpgen", out);
        if (access(bin, X_OK) != 0)
                skip();
        snprintf(cmd, sizeof(cmd), "%s rfc2544 --sizes 12 2>/dev/null", bin);
        st = system(cmd);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
        snprintf(cmd, sizeof(cmd), "%s 2>/dev/null", bin);
        st = system(cmd);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
        snprintf(cmd, sizeof(cmd), "%s --help | grep -q 'EXIT STATUS'", bin);
        st = system(cmd);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bad_lines), cmocka_unit_test(test_good_lines),
            cmocka_unit_test(test_pin),       cmocka_unit_test(test_dut_list),
            cmocka_unit_test(test_binary),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
