/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP against the Linux kernel (issue 16), over TAP in a network namespace
 * (mpnet-tcp-PID) the test makes: socat on the kernel side, the mpnet-nc
 * tool (TCP mode) on ours, random data both ways at once through one
 * connection, the SHA-256 (sha256sum) of what was sent against what
 * arrived on each side.
 *
 * - Linux client (socat) to an mpnet-nc -l server, IPv4 and IPv6;
 * - mpnet-nc client to a Linux server (socat TCP-LISTEN), IPv4 and IPv6.
 *
 * Each way carries 8 MB: a choice for the suite's time (the ASan build
 * included), not a limit. MPNET_KT_TCP_MB=100 runs the 100 MB.
 * The rates mpnet-nc -v saw are printed, not asserted.
 *
 * Skipped (with the reason) when not root, without CAP_NET_ADMIN, without
 * /dev/net/tun, ip(8), socat or sha256sum.
 */
#define _GNU_SOURCE /* setns, in netns_util.h */
#include <arpa/inet.h>

#include "kt_tcp.h"

static char g_ns[64];
static const char *g_skip;

#define SKIP_WITHOUT_KERNEL()                                                                      \
        do {                                                                                       \
                if (g_skip != NULL) {                                                              \
                        print_message("skipped: %s\n", g_skip);                                    \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

static int group_setup(void **state)
{
        (void)state;
        g_skip = kt_skip_reason(true);
        if (g_skip == NULL && (!kt_tool("socat") || !kt_tool("sha256sum")))
                g_skip = "socat or sha256sum missing: scripts/install-deps.sh installs them";
        if (g_skip == NULL && kt_ns_add(g_ns, sizeof(g_ns), "mpnet-tcp") != 0)
                g_skip = "cannot create a network namespace (ip netns add failed)";
        if (g_skip == NULL)
                kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=0 "
                      "net.ipv6.conf.default.disable_ipv6=0",
                      g_ns);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        kt_ns_del(g_ns);
        return 0;
}

/* mpnet-nc's --link: a TAP device it makes in the test's namespace. */
static const char *link_of(const char *dev)
{
        static char spec[4][128];
        static unsigned i;
        char *p = spec[i++ % 4];

        snprintf(p, sizeof(spec[0]), "tap:%s@%s", dev, g_ns);
        return p;
}

static void test_linux_client_mpnet_server4(void **state)
{
        struct kt_xfer x = {.tag = "srv4",
                            .link = link_of("mpt0"),
                            .kns = g_ns,
                            .tap = "mpt0",
                            .me = "192.0.2.1",
                            .peer = "192.0.2.2",
                            .port = 7100};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        kt_xfer_linux_client(&x);
}

static void test_linux_client_mpnet_server6(void **state)
{
        struct kt_xfer x = {.tag = "srv6",
                            .link = link_of("mpt1"),
                            .kns = g_ns,
                            .tap = "mpt1",
                            .me = "2001:db8:1::1",
                            .peer = "2001:db8:1::2",
                            .v6 = true,
                            .port = 7101};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        kt_xfer_linux_client(&x);
}

static void test_mpnet_client_linux_server4(void **state)
{
        struct kt_xfer x = {.tag = "cli4",
                            .link = link_of("mpt2"),
                            .kns = g_ns,
                            .tap = "mpt2",
                            .me = "198.51.100.1",
                            .peer = "198.51.100.2",
                            .port = 7102};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        kt_xfer_linux_server(&x);
}

static void test_mpnet_client_linux_server6(void **state)
{
        struct kt_xfer x = {.tag = "cli6",
                            .link = link_of("mpt3"),
                            .kns = g_ns,
                            .tap = "mpt3",
                            .me = "2001:db8:2::1",
                            .peer = "2001:db8:2::2",
                            .v6 = true,
                            .port = 7103};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        kt_xfer_linux_server(&x);
}

/* Refused: mpnet-nc's connect to a closed Linux port ends with status 1. */
static void test_mpnet_client_refused(void **state)
{
        char log[512];

        (void)state;
        SKIP_WITHOUT_KERNEL();
        snprintf(log, sizeof(log), "%s/tcp_refused.log", test_out_dir());
        assert_int_equal(kt_sh("(sh -c 'for i in $(seq 400); do ip -n %s link show mpt4 "
                               ">/dev/null 2>&1 && break; sleep 0.05; done; ip -n %s addr add "
                               "203.0.113.2/24 dev mpt4') </dev/null >/dev/null 2>&1 &",
                               g_ns, g_ns),
                         0);
        assert_int_equal(kt_sh("(timeout 60 %s -w 30 --link tap:mpt4@%s --addr 203.0.113.1/24 "
                               "203.0.113.2 7199 </dev/null > /dev/null 2> %s)",
                               kt_tool_bin("mpnet-nc"), g_ns, log),
                         1);
        assert_int_equal(kt_sh("grep -q 'refused' %s", log), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_linux_client_mpnet_server4),
            cmocka_unit_test(test_linux_client_mpnet_server6),
            cmocka_unit_test(test_mpnet_client_linux_server4),
            cmocka_unit_test(test_mpnet_client_linux_server6),
            cmocka_unit_test(test_mpnet_client_refused),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
