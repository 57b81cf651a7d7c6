/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd restarted after kill -9 (issue 17): `mpnetctl save` writes the
 * running configuration, the daemon is killed with SIGKILL, and the same
 * binary started again on the same file (in a temporary directory, with
 * its socket) comes back with it: stacks, links and their MTU and table,
 * IPv4 and IPv6 addresses, routes of every kind in two tables, permanent
 * neighbours, which worker polls which queue; and traffic flows again.
 * A change made after the save (only in the journal) is there too.
 */
#define _GNU_SOURCE
#include "mpnetdutil.h"

static struct mpd d;

static void configure(void)
{
        MPD_CTL(&d, "stack add h1");
        MPD_CTL(&d, "stack add r");
        MPD_CTL(&d, "stack add h2");
        MPD_CTL(&d, "-n h1 link add h1r type mem peer rh1 peer-stack r");
        MPD_CTL(&d, "-n h2 link add h2r type mem peer rh2 peer-stack r queues 2");
        MPD_CTL(&d, "-n h1 addr add 192.0.2.2/24 dev h1r");
        MPD_CTL(&d, "-n r addr add 192.0.2.1/24 dev rh1");
        MPD_CTL(&d, "-n r addr add 198.51.100.1/24 dev rh2");
        MPD_CTL(&d, "-n r addr add 2001:db8:1::1/64 dev rh1");
        MPD_CTL(&d, "-n h2 addr add 198.51.100.2/24 dev h2r");
        MPD_CTL(&d, "-n h1 route add default via 192.0.2.1");
        MPD_CTL(&d, "-n h2 route add default via 198.51.100.1");
        MPD_CTL(&d, "-n r route add 203.0.113.0/24 nexthop via 192.0.2.2 nexthop via 198.51.100.2");
        MPD_CTL(&d, "-n r route add 2001:db8:9::/48 via 2001:db8:1::9");
        MPD_CTL(&d, "-n r route add unreachable 198.18.9.0/24");
        MPD_CTL(&d, "-n r route add blackhole 198.18.8.0/24 table 7");
        MPD_CTL(&d, "-n r neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev rh1");
        MPD_CTL(&d, "-n r link set rh1 mtu 1400");
        MPD_CTL(&d, "-n r worker set dev rh2 queue 1 worker 0");
}

static void ping_ok(const char *stack, const char *dst)
{
        char out[256];

        assert_int_equal(
            mpd_ctl(&d, out, sizeof(out), "-n %s ping %s count 2 timeout 5000", stack, dst), 0);
        if (strstr(out, "2 packets transmitted, 2 received") == NULL)
                fail_msg("ping %s from %s: %s", dst, stack, out);
}

/* What a restart must give back, as mpnetctl prints it (counters and the
 * neighbours learnt from traffic left out: they start again). */
static void snapshot(char *out, size_t n)
{
        static const char *const cmds[] = {"stack show",
                                           "-n r link show | grep mtu",
                                           "-n h2 link show | grep mtu",
                                           "-n r addr show",
                                           "-n r route show",
                                           "-n r route show table 7",
                                           "-n h1 route show",
                                           "-n h2 route show",
                                           "-n r neigh show | grep PERMANENT",
                                           "worker show | grep polls"};
        char part[4096];

        out[0] = '\0';
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                assert_int_equal(mpd_ctl(&d, part, sizeof(part), "%s", cmds[i]), 0);
                strncat(out, part, n - strlen(out) - 1);
        }
}

static void test_save_kill9_restart(void **state)
{
        static char before[16384], after[16384];
        char out[4096], cmd[1024];

        (void)state;
        configure();
        ping_ok("h1", "198.51.100.2");
        MPD_CTL(&d, "save");
        /* The file is the running configuration, compacted: one stack add
         * a stack, not the journal of every change. */
        snprintf(cmd, sizeof(cmd),
                 "head -1 %s | grep -q '^# mpnetd configuration' && "
                 "test $(grep -c '^stack add' %s) = 3",
                 d.conf, d.conf);
        assert_int_equal(system(cmd), 0);
        /* One change after the save: in the journal only. */
        MPD_CTL(&d, "-n r route add 198.18.7.0/24 via 198.51.100.2");
        snapshot(before, sizeof(before));
        assert_non_null(strstr(before, "198.18.7.0/24 via 198.51.100.2"));
        assert_non_null(strstr(before, "mtu 1400"));
        assert_true(WIFSIGNALED(mpd_stop(&d, SIGKILL)));
        mpd_start(&d, 2);
        snapshot(after, sizeof(after));
        assert_string_equal(before, after);
        ping_ok("h1", "198.51.100.2");
        ping_ok("h2", "192.0.2.2");
        /* Again, right after a save: the file alone. */
        MPD_CTL(&d, "-n r route del 198.18.7.0/24");
        MPD_CTL(&d, "save");
        snapshot(before, sizeof(before));
        assert_true(WIFSIGNALED(mpd_stop(&d, SIGKILL)));
        mpd_start(&d, 2);
        snapshot(after, sizeof(after));
        assert_string_equal(before, after);
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n r route get 198.18.7.1"), 1);
        ping_ok("h1", "198.51.100.2");
}

static int setup(void **state)
{
        (void)state;
        if (mpd_init(&d, "mpnetd-restart") != 0)
                return -1;
        mpd_start(&d, 2);
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
            cmocka_unit_test(test_save_kill9_restart),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
