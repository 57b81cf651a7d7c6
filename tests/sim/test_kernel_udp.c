/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP sockets against the Linux kernel, over TAP in a network namespace
 * (mpnet-udp-PID) the test makes: socat and nc(1) on the kernel side,
 * mpnet's socket API (include/mpnet/socket.h) and the mpnet-nc tool on
 * ours.
 *
 * - Linux to mpnet and mpnet to Linux, IPv4 and IPv6, datagrams compared
 *   byte for byte;
 * - a 65507-byte datagram each way over IPv4 and a 65527-byte one over
 *   IPv6 (fragmented by the sender, reassembled by the receiver);
 * - socat connected to a closed mpnet port sees "Connection refused" (the
 *   port unreachable mpnet sends, RFC 1122 4.1.3.1);
 * - mpnet-nc as listener for a Linux nc -u over TAP, and as client to a
 *   Linux socat receiver over AF_PACKET, IPv4 and IPv6 each.
 *
 * Skipped (with the reason) when not root, without CAP_NET_ADMIN, without
 * /dev/net/tun, ip(8), socat or nc.
 */
#define _GNU_SOURCE /* setns */
#include <arpa/inet.h>
#include <sched.h>

#include "netns_util.h"
#include "mpnet/ip6.h"
#include "mpnet/socket.h"
#include "mpnet/tap.h"

static char g_ns[64];
static const char *g_skip;

#define KADDR IP4(192, 0, 2, 2)
#define MADDR IP4(192, 0, 2, 1)
static const char *const KADDR6 = "2001:db8::2";
static const char *const MADDR6 = "2001:db8::1";

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
        if (g_skip == NULL && (!kt_tool("socat") || !kt_tool("nc")))
                g_skip =
                    "socat or nc (netcat-openbsd) missing: scripts/install-deps.sh installs them";
        if (g_skip == NULL && kt_ns_add(g_ns, sizeof(g_ns), "mpnet-udp") != 0)
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

struct rig {
        struct kt_net k;
        char dev[16];
};

/* A tap device mpu<n> in the namespace: the kernel has 192.0.2.2/24 and
 * 2001:db8::2/64 there, mpnet 192.0.2.1/24 and 2001:db8::1/64. */
static void rig_up(struct rig *r, unsigned n)
{
        char err[256] = "";
        struct mpnet_pool *pool = mpnet_pool_create("udp", 4096);
        struct mpnet_tap_cfg c = {
            .netns = g_ns, .pool = pool, .errbuf = err, .errbuf_len = sizeof(err)};
        struct mpnet_link *l;
        uint8_t a6[16];
        uint64_t end;

        assert_non_null(pool);
        snprintf(r->dev, sizeof(r->dev), "mpu%u", n);
        c.ifname = r->dev;
        l = mpnet_tap_create(&c);
        if (l == NULL)
                fail_msg("mpnet_tap_create(%s): %s", r->dev, err);
        assert_int_equal(kt_sh("ip -n %s addr add 192.0.2.2/24 dev %s && "
                               "ip -n %s -6 addr add %s/64 dev %s nodad",
                               g_ns, r->dev, g_ns, KADDR6, r->dev),
                         0);
        kt_net_init(&r->k, l, mpnet_tap_fd(l, 0), MADDR, 24, pool);
        assert_int_equal(inet_pton(AF_INET6, MADDR6, a6), 1);
        assert_int_equal(mpnet_addr6_add(r->k.st, r->k.ifindex, a6, 64, MPNET_ADDR6_F_NODAD), 0);
        /* Until the kernel's device is up and reachable. */
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (kt_mpnet_ping_wait(&r->k, KADDR, 1, 500) != 1 && mpnet_monotonic_ns() < end)
                ;
}

static void rig_down(struct rig *r)
{
        kt_net_fini(&r->k);
}

static int sock_bound(struct rig *r, int family, uint16_t port)
{
        struct sockaddr_storage ss = {0};
        socklen_t len;
        int fd = mpnet_socket(r->k.st, family, SOCK_DGRAM, 0);

        assert_true(fd >= 0);
        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                len = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                len = sizeof(*sin6);
        }
        assert_int_equal(mpnet_bind(r->k.st, fd, (struct sockaddr *)&ss, len), 0);
        return fd;
}

/* Poll the stack until fd holds a datagram (up to 10 s). @return its
 * length, the bytes in buf, the sender in from. */
static ssize_t recv_wait(struct rig *r, int fd, void *buf, size_t n, struct sockaddr_storage *from)
{
        uint64_t end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;

        while (mpnet_monotonic_ns() < end) {
                socklen_t fl = sizeof(*from);
                ssize_t got = mpnet_recvfrom(r->k.st, fd, buf, n, 0, (struct sockaddr *)from, &fl);

                if (got != -EAGAIN)
                        return got;
                kt_poll_once(&r->k, -1, 5);
        }
        return -EAGAIN;
}

/* n random bytes to path (not through kt_sh: it sends output elsewhere). */
static void file_random(const char *path, size_t n)
{
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        for (size_t i = 0; i < n; i++)
                fputc(rand() & 0xff, f);
        assert_int_equal(fclose(f), 0);
}

static size_t file_read(const char *path, uint8_t *buf, size_t n)
{
        FILE *f = fopen(path, "rb");
        size_t got;

        assert_non_null(f);
        got = fread(buf, 1, n, f);
        fclose(f);
        return got;
}

/* Linux sends with socat (one datagram of the file), mpnet receives. */
static void linux_to_mpnet(struct rig *r, int family, size_t size)
{
        char file[512], dst[64];
        uint8_t *want = malloc(size), *got = malloc(65536);
        struct sockaddr_storage from;
        uint16_t port = family == AF_INET ? 7001 : 7002;
        int fd = sock_bound(r, family, port);
        ssize_t n;

        assert_non_null(want);
        assert_non_null(got);
        snprintf(file, sizeof(file), "%s/udp_l2m_%zu", test_out_dir(), size);
        file_random(file, size);
        assert_int_equal(file_read(file, want, size), size);
        if (family == AF_INET)
                snprintf(dst, sizeof(dst), "UDP4-SENDTO:192.0.2.1:%u", port);
        else
                snprintf(dst, sizeof(dst), "UDP6-SENDTO:[%s]:%u", MADDR6, port);
        assert_int_equal(kt_run_cmd(&r->k,
                                    "timeout 10 ip netns exec %s socat -b 65536 -u "
                                    "OPEN:%s %s",
                                    g_ns, file, dst),
                         0);
        n = recv_wait(r, fd, got, 65536, &from);
        assert_int_equal(n, (ssize_t)size);
        assert_memory_equal(got, want, size);
        assert_int_equal(from.ss_family, family);
        if (family == AF_INET)
                assert_int_equal(ntohl(((struct sockaddr_in *)&from)->sin_addr.s_addr), KADDR);
        assert_int_equal(mpnet_close(r->k.st, fd), 0);
        free(want);
        free(got);
}

/* mpnet sends, a Linux socat receiver writes the datagram to a file. */
static void mpnet_to_linux(struct rig *r, int family, size_t size)
{
        char file[512], out[512], listen[64];
        uint8_t *want = malloc(size), *got = malloc(65536);
        uint16_t port = family == AF_INET ? 7003 : 7004;
        struct sockaddr_storage to = {0};
        socklen_t tl;
        uint64_t end;
        size_t n = 0;
        int fd;

        assert_non_null(want);
        assert_non_null(got);
        snprintf(file, sizeof(file), "%s/udp_m2l_%zu", test_out_dir(), size);
        snprintf(out, sizeof(out), "%s/udp_m2l_%zu.out", test_out_dir(), size);
        file_random(file, size);
        assert_int_equal(file_read(file, want, size), size);
        unlink(out);
        snprintf(listen, sizeof(listen), "%s:%u", family == AF_INET ? "UDP4-RECV" : "UDP6-RECV",
                 port);
        assert_int_equal(kt_sh("ip netns exec %s timeout 20 socat -b 65536 -u %s OPEN:%s,creat "
                               "</dev/null >/dev/null 2>&1 &",
                               g_ns, listen, out),
                         0);
        /* Until the receiver's socket is there. */
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (kt_sh("ip netns exec %s ss -uln | grep -q ':%u '", g_ns, port) != 0 &&
               mpnet_monotonic_ns() < end)
                kt_run_for(&r->k, 20 * MPNET_NS_PER_MS);
        fd = mpnet_socket(r->k.st, family, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&to;

                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                sin->sin_addr.s_addr = htonl(KADDR);
                tl = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;

                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                assert_int_equal(inet_pton(AF_INET6, KADDR6, &sin6->sin6_addr), 1);
                tl = sizeof(*sin6);
        }
        assert_int_equal(mpnet_sendto(r->k.st, fd, want, size, 0, (struct sockaddr *)&to, tl),
                         (ssize_t)size);
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (mpnet_monotonic_ns() < end) {
                FILE *f;

                kt_run_for(&r->k, 20 * MPNET_NS_PER_MS);
                f = fopen(out, "rb");
                if (f == NULL)
                        continue;
                n = fread(got, 1, 65536, f);
                fclose(f);
                if (n >= size)
                        break;
        }
        assert_int_equal(n, size);
        assert_memory_equal(got, want, size);
        assert_int_equal(mpnet_close(r->k.st, fd), 0);
        kt_sh("ip netns exec %s pkill -f 'socat -b 65536 -u %s' || true", g_ns, listen);
        free(want);
        free(got);
}

static void test_udp4_both_ways(void **state)
{
        struct rig r;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        rig_up(&r, 0);
        linux_to_mpnet(&r, AF_INET, 18);
        mpnet_to_linux(&r, AF_INET, 18);
        linux_to_mpnet(&r, AF_INET, 1472);
        mpnet_to_linux(&r, AF_INET, 1472);
        rig_down(&r);
}

static void test_udp6_both_ways(void **state)
{
        struct rig r;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        rig_up(&r, 1);
        linux_to_mpnet(&r, AF_INET6, 18);
        mpnet_to_linux(&r, AF_INET6, 18);
        linux_to_mpnet(&r, AF_INET6, 1452);
        mpnet_to_linux(&r, AF_INET6, 1452);
        rig_down(&r);
}

/* The largest datagrams: fragmented by the sender, reassembled by the
 * receiver, each way and each family. */
static void test_udp_64k_both_ways(void **state)
{
        struct rig r;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        rig_up(&r, 2);
        linux_to_mpnet(&r, AF_INET, 65507);
        mpnet_to_linux(&r, AF_INET, 65507);
        linux_to_mpnet(&r, AF_INET6, 65527);
        mpnet_to_linux(&r, AF_INET6, 65527);
        assert_true(stk_ctr(r.k.st, "ip4_reassembled") >= 1);
        rig_down(&r);
}

/* A connected Linux socket to a port mpnet has no socket on: its second
 * read reports the port unreachable mpnet sent as "Connection refused". */
static void test_udp_closed_port_refused(void **state)
{
        char out[512], cmd[1024];
        struct rig r;
        FILE *f;
        int rc;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        rig_up(&r, 3);
        snprintf(out, sizeof(out), "%s/udp_refused.txt", test_out_dir());
        snprintf(cmd, sizeof(cmd),
                 "(printf x; sleep 0.3; printf y; sleep 0.3; printf z) | timeout 10 ip netns "
                 "exec %s socat -t2 - UDP4-CONNECT:192.0.2.1:9 > %s 2>&1",
                 g_ns, out);
        rc = kt_run_cmd(&r.k, "%s", cmd);
        assert_int_not_equal(rc, 0);
        f = fopen(out, "r");
        assert_non_null(f);
        {
                char line[512];
                bool refused = false;

                while (fgets(line, sizeof(line), f) != NULL)
                        refused |= strstr(line, "Connection refused") != NULL;
                fclose(f);
                assert_true(refused);
        }
        assert_true(stk_ctr(r.k.st, "udp_no_port") >= 1);
        /* The same with OpenBSD nc -u: it exits 1 on the refusal. */
        assert_int_equal(kt_run_cmd(&r.k,
                                    "(printf x; sleep 0.3; printf y; sleep 0.3; printf z) | "
                                    "timeout 10 ip netns exec %s nc -v -u -w1 192.0.2.1 9",
                                    g_ns),
                         1);
        rig_down(&r);
}

/* Multicast both ways: mpnet joins 233.252.0.9 (IGMPv3) and receives what
 * a Linux socat sends to the group; a Linux socat joins it and receives
 * what an mpnet socket sends there. IPv6: mpnet joins ff0e::1:9 (MLDv2)
 * and receives from Linux. */
static void test_udp_multicast_both_ways(void **state)
{
        struct sockaddr_storage from;
        struct ip_mreqn mr = {0};
        struct ipv6_mreq mr6 = {0};
        struct sockaddr_in grp = {.sin_family = AF_INET, .sin_port = htons(7021)};
        char out[512], buf[64];
        struct rig r;
        uint64_t end;
        size_t n = 0;
        int fd, fd6;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        rig_up(&r, 4);
        mr.imr_ifindex = r.k.ifindex;
        mr.imr_multiaddr.s_addr = htonl(IP4(233, 252, 0, 9));
        fd = sock_bound(&r, AF_INET, 7020);
        assert_int_equal(
            mpnet_setsockopt(r.k.st, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
        fd6 = sock_bound(&r, AF_INET6, 7022);
        mr6.ipv6mr_interface = (unsigned)r.k.ifindex;
        assert_int_equal(inet_pton(AF_INET6, "ff0e::1:9", &mr6.ipv6mr_multiaddr), 1);
        assert_int_equal(
            mpnet_setsockopt(r.k.st, fd6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr6, sizeof(mr6)), 0);
        kt_run_for(&r.k, 100 * MPNET_NS_PER_MS);
        assert_int_equal(kt_run_cmd(&r.k,
                                    "printf 'to the group' | timeout 10 ip netns exec %s "
                                    "socat -u - UDP4-DATAGRAM:233.252.0.9:7020,"
                                    "ip-multicast-if=192.0.2.2",
                                    g_ns),
                         0);
        assert_int_equal(recv_wait(&r, fd, buf, sizeof(buf), &from), 12);
        assert_memory_equal(buf, "to the group", 12);
        assert_int_equal(kt_run_cmd(&r.k,
                                    "printf 'to the v6 group' | timeout 10 ip netns exec %s "
                                    "socat -u - 'UDP6-DATAGRAM:[ff0e::1:9]:7022,"
                                    "ipv6-join-group=[ff0e::1:9]:%s'",
                                    g_ns, r.dev),
                         0);
        assert_int_equal(recv_wait(&r, fd6, buf, sizeof(buf), &from), 15);
        assert_memory_equal(buf, "to the v6 group", 15);

        /* The other way: Linux joins, mpnet sends. */
        snprintf(out, sizeof(out), "%s/udp_mc4.out", test_out_dir());
        unlink(out);
        assert_int_equal(kt_sh("ip netns exec %s timeout 20 socat -u UDP4-RECV:7021,"
                               "ip-add-membership=233.252.0.9:%s OPEN:%s,creat "
                               "</dev/null >/dev/null 2>&1 &",
                               g_ns, r.dev, out),
                         0);
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (kt_sh("ip netns exec %s ss -uln | grep -q ':7021 '", g_ns) != 0 &&
               mpnet_monotonic_ns() < end)
                kt_run_for(&r.k, 20 * MPNET_NS_PER_MS);
        mr.imr_multiaddr.s_addr = 0;
        assert_int_equal(mpnet_setsockopt(r.k.st, fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)),
                         0);
        grp.sin_addr.s_addr = htonl(IP4(233, 252, 0, 9));
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (n == 0 && mpnet_monotonic_ns() < end) {
                FILE *f;

                assert_int_equal(mpnet_sendto(r.k.st, fd, "from mpnet", 10, 0,
                                              (struct sockaddr *)&grp, sizeof(grp)),
                                 10);
                kt_run_for(&r.k, 100 * MPNET_NS_PER_MS);
                f = fopen(out, "rb");
                if (f != NULL) {
                        n = fread(buf, 1, sizeof(buf), f);
                        fclose(f);
                }
        }
        assert_true(n >= 10);
        assert_memory_equal(buf, "from mpnet", 10);
        kt_sh("ip netns exec %s pkill -f 'socat -u UDP4-RECV:7021' || true", g_ns);
        assert_int_equal(mpnet_close(r.k.st, fd), 0);
        assert_int_equal(mpnet_close(r.k.st, fd6), 0);
        rig_down(&r);
}

/* The mpnet-nc program next to the test programs (the build folder). */
static const char *nc_bin(void)
{
        static char path[512];

        snprintf(path, sizeof(path), "%s/../mpnet-nc", test_out_dir());
        return path;
}

static bool file_has(const char *path, const char *want)
{
        char buf[256] = "";
        FILE *f = fopen(path, "r");
        size_t n;

        if (f == NULL)
                return false;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        return strcmp(buf, want) == 0;
}

/* mpnet-nc listens on a TAP device it makes in the namespace (dev, with
 * the address me/plen; the kernel end peer); Linux nc -u (-6 for IPv6)
 * sends to it; mpnet-nc writes the datagram out and ends (-W 1), and its
 * device goes with it. */
static void nc_listen_case(const char *dev, const char *me, const char *peer, bool v6)
{
        char out[512];
        uint64_t end;
        bool got = false;

        snprintf(out, sizeof(out), "%s/mpnet_nc_listen_%s.out", test_out_dir(), dev);
        unlink(out);
        assert_int_equal(kt_sh("timeout 30 %s -u -l -W 1 --link tap:%s@%s --addr %s/%u 7010 > %s "
                               "2>/dev/null &",
                               nc_bin(), dev, g_ns, me, v6 ? 64u : 24u, out),
                         0);
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (kt_sh("ip -n %s link show %s >/dev/null 2>&1", g_ns, dev) != 0 &&
               mpnet_monotonic_ns() < end)
                usleep(20000);
        assert_int_equal(kt_sh("ip -n %s %s addr add %s/%u dev %s%s", g_ns, v6 ? "-6" : "", peer,
                               v6 ? 64u : 24u, dev, v6 ? " nodad" : ""),
                         0);
        /* Until it arrives (the first may meet the device still coming up,
         * or mpnet-nc still detecting duplicates of its IPv6 address). */
        end = mpnet_monotonic_ns() + 20 * MPNET_NS_PER_S;
        while (!(got = file_has(out, "hello from linux\n")) && mpnet_monotonic_ns() < end) {
                kt_sh("echo 'hello from linux' | timeout 5 ip netns exec %s nc %s -u -w1 -q1 "
                      "%s 7010 >/dev/null 2>&1",
                      g_ns, v6 ? "-6" : "-4", me);
        }
        assert_true(got);
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (kt_sh("ip -n %s link show %s >/dev/null 2>&1", g_ns, dev) == 0 &&
               mpnet_monotonic_ns() < end)
                usleep(20000);
        assert_int_not_equal(kt_sh("ip -n %s link show %s >/dev/null 2>&1", g_ns, dev), 0);
}

static void test_mpnet_nc_listens(void **state)
{
        (void)state;
        SKIP_WITHOUT_KERNEL();
        nc_listen_case("mpn0", "192.0.2.1", "192.0.2.2", false);
        nc_listen_case("mpn1", "2001:db8:2::1", "2001:db8:2::2", true);
}

/* mpnet-nc as a client over AF_PACKET on a veth pair it did not make (the
 * kernel end peer on mpv1): a Linux socat receiver gets its line. */
static void nc_send_case(const char *me, const char *peer, bool v6)
{
        char out[512];
        uint64_t end;
        bool got = false;

        snprintf(out, sizeof(out), "%s/mpnet_nc_send%d.out", test_out_dir(), v6 ? 6 : 4);
        unlink(out);
        assert_int_equal(kt_sh("ip -n %s link add mpv0 type veth peer name mpv1 && "
                               "ip -n %s link set mpv0 up && ip -n %s link set mpv1 up && "
                               "ip -n %s %s addr add %s/%u dev mpv1%s",
                               g_ns, g_ns, g_ns, g_ns, v6 ? "-6" : "", peer, v6 ? 64u : 24u,
                               v6 ? " nodad" : ""),
                         0);
        assert_int_equal(kt_sh("ip netns exec %s timeout 30 socat -u UDP%d-RECV:7011 "
                               "OPEN:%s,creat </dev/null >/dev/null 2>&1 &",
                               g_ns, v6 ? 6 : 4, out),
                         0);
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (kt_sh("ip netns exec %s ss -uln | grep -q ':7011 '", g_ns) != 0 &&
               mpnet_monotonic_ns() < end)
                usleep(20000);
        assert_int_equal(kt_sh("echo 'hello from mpnet' | timeout 20 %s -u -q 1 "
                               "--link afpacket:mpv0@%s --addr %s/%u %s 7011",
                               nc_bin(), g_ns, me, v6 ? 64u : 24u, peer),
                         0);
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (!(got = file_has(out, "hello from mpnet\n")) && mpnet_monotonic_ns() < end)
                usleep(20000);
        assert_true(got);
        kt_sh("ip netns exec %s pkill -f 'socat -u UDP%d-RECV:7011' || true", g_ns, v6 ? 6 : 4);
        kt_sh("ip -n %s link del mpv0", g_ns);
}

static void test_mpnet_nc_sends_afpacket(void **state)
{
        (void)state;
        SKIP_WITHOUT_KERNEL();
        nc_send_case("198.51.100.1", "198.51.100.2", false);
        nc_send_case("2001:db8:1::1", "2001:db8:1::2", true);
}

/* Bad usage is an error, not a crash: no link (TCP or -u), a bad link. */
static void test_mpnet_nc_usage(void **state)
{
        (void)state;
        assert_int_equal(kt_sh("%s 192.0.2.2 7 </dev/null >/dev/null 2>&1", nc_bin()), 2);
        assert_int_equal(kt_sh("%s -u 192.0.2.2 7 </dev/null >/dev/null 2>&1", nc_bin()), 2);
        assert_int_equal(kt_sh("%s -u --link bogus:x --addr 192.0.2.1/24 192.0.2.2 7 "
                               "</dev/null >/dev/null 2>&1",
                               nc_bin()),
                         1);
        assert_int_equal(kt_sh("%s --help >/dev/null 2>&1", nc_bin()), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_udp4_both_ways),
            cmocka_unit_test(test_udp6_both_ways),
            cmocka_unit_test(test_udp_64k_both_ways),
            cmocka_unit_test(test_udp_closed_port_refused),
            cmocka_unit_test(test_udp_multicast_both_ways),
            cmocka_unit_test(test_mpnet_nc_listens),
            cmocka_unit_test(test_mpnet_nc_sends_afpacket),
            cmocka_unit_test(test_mpnet_nc_usage),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
