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

#include "netns_util.h"

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

/* The mpnet-nc program next to the test programs (the build folder). */
static const char *nc_bin(void)
{
        static char path[512];

        snprintf(path, sizeof(path), "%s/../mpnet-nc", test_out_dir());
        return path;
}

static unsigned xfer_mb(void)
{
        const char *v = getenv("MPNET_KT_TCP_MB");
        long mb = v != NULL ? strtol(v, NULL, 10) : 0;

        return mb > 0 && mb <= 4096 ? (unsigned)mb : 8;
}

/* The file's SHA-256 as sha256sum gives it (64 hex digits). */
static void sha_of(const char *path, char *out, size_t n)
{
        out[0] = '\0';
        assert_int_equal(kt_sh_out(out, n, "sha256sum < %s | cut -c1-64", path), 0);
        assert_int_equal(strlen(out), 64);
}

/* Wait (up to secs) for the exit status a background job wrote to path. */
static int rc_wait(const char *path, unsigned secs)
{
        uint64_t end = mpnet_monotonic_ns() + (uint64_t)secs * MPNET_NS_PER_S;

        while (mpnet_monotonic_ns() < end) {
                FILE *f = fopen(path, "r");
                int rc = -1;

                if (f != NULL) {
                        if (fscanf(f, "%d", &rc) != 1)
                                rc = -1;
                        fclose(f);
                        if (rc >= 0)
                                return rc;
                }
                usleep(50000);
        }
        return -1;
}

static void dev_wait(const char *dev)
{
        uint64_t end = mpnet_monotonic_ns() + 20 * MPNET_NS_PER_S;

        while (kt_sh("ip -n %s link show %s", g_ns, dev) != 0 && mpnet_monotonic_ns() < end)
                usleep(20000);
}

/* Print mpnet-nc's -v line with the rates (not asserted). */
static void show_rate(const char *what, const char *log)
{
        char line[256] = "";

        if (kt_sh_out(line, sizeof(line), "grep 'closed both ways' %s", log) == 0)
                print_message("%s: %s\n", what, line);
        else
                print_message("%s: no rate line in %s\n", what, log);
}

struct xcase {
        const char *tag;       /* file names */
        const char *dev;       /* the TAP device mpnet-nc makes */
        const char *me, *peer; /* mpnet's and the kernel's address */
        bool v6;
        unsigned port;
        char to_k[512], to_m[512]; /* what goes to the kernel, to mpnet */
        char at_k[512], at_m[512]; /* what arrived there */
        char log[512], rc_m[512], rc_k[512];
};

static void xcase_init(struct xcase *x)
{
        const char *d = test_out_dir();
        unsigned mb = xfer_mb();

        snprintf(x->to_k, sizeof(x->to_k), "%s/tcp_%s_to_kernel", d, x->tag);
        snprintf(x->to_m, sizeof(x->to_m), "%s/tcp_%s_to_mpnet", d, x->tag);
        snprintf(x->at_k, sizeof(x->at_k), "%s/tcp_%s_at_kernel", d, x->tag);
        snprintf(x->at_m, sizeof(x->at_m), "%s/tcp_%s_at_mpnet", d, x->tag);
        snprintf(x->log, sizeof(x->log), "%s/tcp_%s_mpnet_nc.log", d, x->tag);
        snprintf(x->rc_m, sizeof(x->rc_m), "%s/tcp_%s_mpnet_nc.rc", d, x->tag);
        snprintf(x->rc_k, sizeof(x->rc_k), "%s/tcp_%s_socat.rc", d, x->tag);
        kt_sh("rm -f %s %s %s %s", x->at_k, x->at_m, x->rc_m, x->rc_k);
        /* Different data each way (a swap of the two would show). */
        assert_int_equal(kt_sh("(head -c %uM /dev/urandom > %s && head -c %uM /dev/urandom > %s)",
                               mb, x->to_k, mb + 1, x->to_m),
                         0);
}

/* Both ways arrived whole: the same SHA-256 as sent. */
static void xcase_check(struct xcase *x)
{
        char a[80], b[80];

        assert_int_equal(kt_sh("test -s %s && test -s %s", x->to_k, x->to_m), 0);

        sha_of(x->to_k, a, sizeof(a));
        sha_of(x->at_k, b, sizeof(b));
        assert_string_equal(a, b);
        sha_of(x->to_m, a, sizeof(a));
        sha_of(x->at_m, b, sizeof(b));
        assert_string_equal(a, b);
        kt_sh("rm -f %s %s %s %s", x->to_k, x->to_m, x->at_k, x->at_m);
}

/* (a) mpnet-nc -l serves; a Linux socat connects (retrying until mpnet-nc
 * listens: it opens its socket once IPv6 duplicate detection is done). */
static void linux_client_case(struct xcase *x)
{
        unsigned secs = 60 + xfer_mb();

        xcase_init(x);
        assert_int_equal(kt_sh("(timeout %u %s -v -l --link tap:%s@%s --addr %s/%u %u < %s > %s "
                               "2> %s; echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, nc_bin(), x->dev, g_ns, x->me, x->v6 ? 64u : 24u, x->port,
                               x->to_k, x->at_m, x->log, x->rc_m),
                         0);
        dev_wait(x->dev);
        assert_int_equal(kt_sh("ip -n %s %s addr add %s/%u dev %s%s", g_ns, x->v6 ? "-6" : "",
                               x->peer, x->v6 ? 64u : 24u, x->dev, x->v6 ? " nodad" : ""),
                         0);
        /* -t: after the end of its input socat waits for ours, then ends. */
        assert_int_equal(kt_sh("(timeout %u ip netns exec %s socat -t %u - "
                               "TCP%d:%s%s%s:%u,retry=100,interval=0.2 < %s > %s; "
                               "echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, g_ns, secs, x->v6 ? 6 : 4, x->v6 ? "[" : "", x->me,
                               x->v6 ? "]" : "", x->port, x->to_m, x->at_k, x->rc_k),
                         0);
        assert_int_equal(rc_wait(x->rc_k, secs + 10), 0);
        assert_int_equal(rc_wait(x->rc_m, secs + 10), 0);
        show_rate(x->tag, x->log);
        xcase_check(x);
}

/* (b) a Linux socat listens; mpnet-nc connects (its SYN is retransmitted
 * if it left before the kernel's address was on the device). */
static void linux_server_case(struct xcase *x)
{
        unsigned secs = 60 + xfer_mb();
        uint64_t end;

        xcase_init(x);
        assert_int_equal(kt_sh("(timeout %u ip netns exec %s socat -t %u TCP%d-LISTEN:%u,reuseaddr "
                               "- < %s > %s; echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, g_ns, secs, x->v6 ? 6 : 4, x->port, x->to_m, x->at_k, x->rc_k),
                         0);
        end = mpnet_monotonic_ns() + 10 * MPNET_NS_PER_S;
        while (kt_sh("ip netns exec %s ss -tln | grep -q ':%u '", g_ns, x->port) != 0 &&
               mpnet_monotonic_ns() < end)
                usleep(20000);
        assert_int_equal(kt_sh("(timeout %u %s -v -w 30 --link tap:%s@%s --addr %s/%u %s %u "
                               "< %s > %s 2> %s; echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, nc_bin(), x->dev, g_ns, x->me, x->v6 ? 64u : 24u, x->peer,
                               x->port, x->to_k, x->at_m, x->log, x->rc_m),
                         0);
        dev_wait(x->dev);
        assert_int_equal(kt_sh("ip -n %s %s addr add %s/%u dev %s%s", g_ns, x->v6 ? "-6" : "",
                               x->peer, x->v6 ? 64u : 24u, x->dev, x->v6 ? " nodad" : ""),
                         0);
        assert_int_equal(rc_wait(x->rc_m, secs + 10), 0);
        assert_int_equal(rc_wait(x->rc_k, secs + 10), 0);
        show_rate(x->tag, x->log);
        xcase_check(x);
}

static void test_linux_client_mpnet_server4(void **state)
{
        struct xcase x = {
            .tag = "srv4", .dev = "mpt0", .me = "192.0.2.1", .peer = "192.0.2.2", .port = 7100};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        linux_client_case(&x);
}

static void test_linux_client_mpnet_server6(void **state)
{
        struct xcase x = {.tag = "srv6",
                          .dev = "mpt1",
                          .me = "2001:db8:1::1",
                          .peer = "2001:db8:1::2",
                          .v6 = true,
                          .port = 7101};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        linux_client_case(&x);
}

static void test_mpnet_client_linux_server4(void **state)
{
        struct xcase x = {.tag = "cli4",
                          .dev = "mpt2",
                          .me = "198.51.100.1",
                          .peer = "198.51.100.2",
                          .port = 7102};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        linux_server_case(&x);
}

static void test_mpnet_client_linux_server6(void **state)
{
        struct xcase x = {.tag = "cli6",
                          .dev = "mpt3",
                          .me = "2001:db8:2::1",
                          .peer = "2001:db8:2::2",
                          .v6 = true,
                          .port = 7103};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        linux_server_case(&x);
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
                               nc_bin(), g_ns, log),
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
