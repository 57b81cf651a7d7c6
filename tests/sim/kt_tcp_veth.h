/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The veth pairs of the kernel TCP interop tests over AF_PACKET and AF_XDP
 * (test_kernel_tcp_{afpacket,afxdp,wire,http}.c; one of them includes this
 * per program). The test makes mpnet-tvk-PID (the kernel's end of each veth
 * pair, with the kernel's addresses, where socat, curl or python run) and
 * mpnet-tvm-PID (the end mpnet's tool opens; no address, IPv6 off: the
 * kernel there stays quiet); the test thread never changes namespace.
 *
 * The kernel's end keeps its default offloads: its TCP hands the veth TSO
 * super-frames (up to 64 KiB) with partial checksums, which the AF_PACKET
 * link takes whole through its virtio-net header (src/link/afpacket.c).
 * For AF_XDP checksum offload is off (ethtool -K tx off, which turns TSO
 * off too): a frame
 * from a veth peer reaches an XDP socket with its TCP checksum left partial
 * (CHECKSUM_PARTIAL has no place in an XDP buffer), and mpnet drops it as
 * bad.
 *
 * Skipped (with the reason) when not root, without CAP_NET_ADMIN or
 * CAP_NET_RAW, without ip(8), socat or sha256sum.
 */
#ifndef MPNET_TESTS_KT_TCP_VETH_H
#define MPNET_TESTS_KT_TCP_VETH_H

#include "kt_tcp.h"

static char g_nsk[64], g_nsm[64];
static const char *g_skip;

#define SKIP_WITHOUT_KERNEL()                                                                      \
        do {                                                                                       \
                if (g_skip != NULL) {                                                              \
                        print_message("skipped: %s\n", g_skip);                                    \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

#define SKIP_IF(cond, ...)                                                                         \
        do {                                                                                       \
                if (cond) {                                                                        \
                        print_message("skipped: " __VA_ARGS__);                                    \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

static int group_setup(void **state)
{
        (void)state;
        g_skip = kt_skip_reason(false);
        if (g_skip == NULL && (!kt_tool("socat") || !kt_tool("sha256sum")))
                g_skip = "socat or sha256sum missing: scripts/install-deps.sh installs them";
        if (g_skip == NULL && (kt_ns_add(g_nsk, sizeof(g_nsk), "mpnet-tvk") != 0 ||
                               kt_ns_add(g_nsm, sizeof(g_nsm), "mpnet-tvm") != 0))
                g_skip = "cannot create a network namespace (ip netns add failed)";
        if (g_skip == NULL)
                kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=0 "
                      "net.ipv6.conf.default.disable_ipv6=0",
                      g_nsk);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        kt_ns_del(g_nsk);
        kt_ns_del(g_nsm);
        return 0;
}

/*
 * A veth pair: kif in the kernel's namespace with addresses k4 (/24) and
 * k6 (/64, may be NULL), mif in mpnet's; both up, the kernel's offloads
 * as it sets them (TSO super-frames: see the top); no_csum: complete
 * checksums and no TSO (the AF_XDP cases). @return 0, or -1 when ethtool is
 * missing for no_csum.
 */
static inline int veth_make(const char *kif, const char *mif, const char *k4, const char *k6,
                            bool no_csum)
{
        /* Each test makes one pair at its start. A test that failed midway
         * left its pair (the same addresses: the kernel would answer out of
         * the old one) and its servers behind: remove them first. */
        kt_sh("(ip netns pids %s; ip netns pids %s) | xargs -r kill -9", g_nsk, g_nsm);
        kt_sh("ip -n %s -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | "
              "xargs -r -n1 ip -n %s link del",
              g_nsk, g_nsk);
        assert_int_equal(
            kt_sh("ip -n %s link add %s type veth peer name %s netns %s", g_nsk, kif, mif, g_nsm),
            0);
        if (no_csum && kt_sh("ip netns exec %s ethtool -K %s tx off", g_nsk, kif) != 0)
                return -1;
        assert_int_equal(
            kt_sh("ip -n %s link set %s up && ip -n %s link set %s up", g_nsk, kif, g_nsm, mif), 0);
        assert_int_equal(kt_sh("ip -n %s addr add %s/24 dev %s", g_nsk, k4, kif), 0);
        if (k6 != NULL)
                assert_int_equal(kt_sh("ip -n %s -6 addr add %s/64 dev %s nodad", g_nsk, k6, kif),
                                 0);
        return 0;
}

static inline void veth_del(const char *kif)
{
        kt_sh("ip -n %s link del %s", g_nsk, kif);
}

static inline const char *link_spec(char *buf, size_t n, const char *kind, const char *mif)
{
        snprintf(buf, n, "%s:%s@%s", kind, mif, g_nsm);
        return buf;
}

/* Both roles, IPv4 and IPv6, over one link kind on one veth pair. */
static inline void both_ways(const char *kind, const char *mif, unsigned port)
{
        char spec[128];
        struct kt_xfer srv4 = {.tag = "veth_srv4",
                               .link = link_spec(spec, sizeof(spec), kind, mif),
                               .kns = g_nsk,
                               .me = "192.0.2.1",
                               .peer = "192.0.2.2",
                               .port = port},
                       cli6 = {.tag = "veth_cli6",
                               .link = spec,
                               .kns = g_nsk,
                               .me = "2001:db8:1::1",
                               .peer = "2001:db8:1::2",
                               .v6 = true,
                               .port = port + 1};

        kt_xfer_linux_client(&srv4);
        kt_xfer_linux_server(&cli6);
}

#endif
