/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP against the Linux kernel (issue 16) over AF_PACKET: as
 * test_kernel_tcp.c does over TAP, socat on the kernel side and mpnet-nc on
 * ours (--link afpacket:DEV@NETNS on a veth end, tests/sim/kt_tcp_veth.h),
 * random data both ways at once through one connection, SHA-256 compared
 * (tests/sim/kt_tcp.h): a Linux client to mpnet-nc -l and mpnet-nc to a
 * Linux listener, IPv4 and IPv6.
 *
 * 8 MB each way; MPNET_KT_TCP_MB=100 carries the 100 MB. Skipped
 * (with the reason) when not root, without CAP_NET_ADMIN or CAP_NET_RAW,
 * without ip(8), socat or sha256sum.
 */
#define _GNU_SOURCE /* setns, in netns_util.h */
#include <arpa/inet.h>

#include "kt_tcp_veth.h"

static void test_afpacket_v4_server_v6_client(void **state)
{
        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make("tk0", "tm0", "192.0.2.2", "2001:db8:1::2", false);
        both_ways("afpacket", "tm0", 7200);
        veth_del("tk0");
}

static void test_afpacket_v6_server_v4_client(void **state)
{
        char spec[128];
        struct kt_xfer srv6 = {.tag = "veth_srv6",
                               .link = link_spec(spec, sizeof(spec), "afpacket", "tm1"),
                               .kns = g_nsk,
                               .me = "2001:db8:2::1",
                               .peer = "2001:db8:2::2",
                               .v6 = true,
                               .port = 7210},
                       cli4 = {.tag = "veth_cli4",
                               .link = spec,
                               .kns = g_nsk,
                               .me = "198.51.100.1",
                               .peer = "198.51.100.2",
                               .port = 7211};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make("tk1", "tm1", "198.51.100.2", "2001:db8:2::2", false);
        kt_xfer_linux_client(&srv6);
        kt_xfer_linux_server(&cli4);
        veth_del("tk1");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_afpacket_v4_server_v6_client),
            cmocka_unit_test(test_afpacket_v6_server_v4_client),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
