/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP against the Linux kernel (issue 16) over AF_XDP: socat on the kernel
 * side, mpnet-nc on ours (--link afxdp:DEV@NETNS on a veth end,
 * tests/sim/kt_tcp_veth.h), random data both ways at once through one
 * connection, SHA-256 compared (tests/sim/kt_tcp.h): a Linux client to
 * mpnet-nc -l over IPv4, mpnet-nc to a Linux listener over IPv6.
 *
 * 8 MB each way; MPNET_KT_TCP_MB=100 carries the 100 MB. Skipped
 * (with the reason) as test_kernel_tcp_afpacket.c is, when this kernel has
 * no AF_XDP sockets, when it refuses the socket or the XDP program (what
 * mpnet-nc said is printed), without ethtool (the kernel's checksum offload
 * must be off), or when mpnet was built without the AF_XDP link.
 */
#define _GNU_SOURCE /* setns, in netns_util.h */
#include <arpa/inet.h>

#include "kt_tcp_veth.h"

/* Whether mpnet-nc can open an AF_XDP link on mif (the kernel may refuse
 * the socket or the program; mpnet may be built without it): a one-second
 * UDP run. @return NULL, or why
 * not (its message). */
static const char *afxdp_refused(const char *mif, char *why, size_t n)
{
        char spec[128], log[512];

        snprintf(log, sizeof(log), "%s/tcp_veth_afxdp_probe.log", test_out_dir());
        if (kt_sh("timeout 30 %s -u -w 1 --link %s --addr 203.0.113.1/24 203.0.113.2 9 "
                  "</dev/null >/dev/null 2>%s",
                  kt_tool_bin("mpnet-nc"), link_spec(spec, sizeof(spec), "afxdp", mif), log) == 0)
                return NULL;
        if (kt_sh_out(why, n, "grep 'mpnet-nc:' %s", log) != 0 || why[0] == '\0')
                snprintf(why, n, "mpnet-nc could not open an AF_XDP link (see %s)", log);
        return why;
}

static void test_afxdp_both_ways(void **state)
{
        char why[1024];
        const char *r;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        r = kt_af_xdp_missing();
        SKIP_IF(r != NULL, "%s\n", r);
        SKIP_IF(!kt_tool("ethtool"), "ethtool missing (scripts/install-deps.sh installs it)\n");
        assert_int_equal(veth_make("tk2", "tm2", "192.0.2.2", "2001:db8:1::2", true), 0);
        r = afxdp_refused("tm2", why, sizeof(why));
        if (r != NULL) {
                veth_del("tk2");
                SKIP_IF(true, "no AF_XDP link: %s\n", r);
        }
        both_ways("afxdp", "tm2", 7220);
        veth_del("tk2");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_afxdp_both_ways),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
