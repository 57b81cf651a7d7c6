/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Transfers between the mpnet-nc tool and a Linux socat, for the kernel
 * TCP interop tests (test_kernel_tcp*.c): random data both ways at once
 * through one connection, the SHA-256 (sha256sum) of what was sent against
 * what arrived on each side. The link mpnet-nc opens is the caller's (a TAP
 * device it makes, or AF_PACKET / AF_XDP on a veth end the test made).
 *
 * Each way carries 8 MB unless the case says otherwise: a choice for the
 * suite's time (the ASan build included), not a limit. MPNET_KT_TCP_MB=100
 * runs the 100 MB. The rates mpnet-nc -v saw are printed, not
 * asserted.
 */
#ifndef MPNET_TESTS_KT_TCP_H
#define MPNET_TESTS_KT_TCP_H

#include "netns_util.h"

/* A program next to the test programs (the build folder). */
static inline const char *kt_tool_bin(const char *name)
{
        static char path[4][512];
        static unsigned i;
        char *p = path[i++ % 4];

        snprintf(p, sizeof(path[0]), "%s/../%s", test_out_dir(), name);
        return p;
}

static inline unsigned kt_xfer_mb(void)
{
        const char *v = getenv("MPNET_KT_TCP_MB");
        long mb = v != NULL ? strtol(v, NULL, 10) : 0;

        return mb > 0 && mb <= 4096 ? (unsigned)mb : 8;
}

/* The file's SHA-256 as sha256sum gives it (64 hex digits). */
static inline void kt_sha_of(const char *path, char *out, size_t n)
{
        out[0] = '\0';
        assert_int_equal(kt_sh_out(out, n, "sha256sum < %s | cut -c1-64", path), 0);
        assert_int_equal(strlen(out), 64);
}

/* Wait (up to secs) for the exit status a background job wrote to path. */
static inline int kt_rc_wait(const char *path, unsigned secs)
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

/* Wait (up to 20 s) until dev exists in ns (a TAP device mpnet-nc makes). */
static inline void kt_dev_wait(const char *ns, const char *dev)
{
        uint64_t end = mpnet_monotonic_ns() + 20 * MPNET_NS_PER_S;

        while (kt_sh("ip -n %s link show %s", ns, dev) != 0 && mpnet_monotonic_ns() < end)
                usleep(20000);
}

/* Wait (up to 10 s) until a TCP listener on port shows in ns. */
static inline void kt_listen_wait(const char *ns, unsigned port)
{
        /* Generous: a Python server takes seconds to start on a loaded machine. */
        uint64_t end = mpnet_monotonic_ns() + 60 * MPNET_NS_PER_S;

        while (kt_sh("ip netns exec %s ss -tln | grep -q ':%u '", ns, port) != 0) {
                if (mpnet_monotonic_ns() >= end)
                        fail_msg("nothing listens on port %u in %s after 60 s", port, ns);
                usleep(20000);
        }
}

/* Print mpnet-nc's -v line with the rates (not asserted). */
static inline void kt_show_rate(const char *what, const char *log)
{
        char line[256] = "";

        if (kt_sh_out(line, sizeof(line), "grep 'closed both ways' %s", log) == 0)
                print_message("%s: %s\n", what, line);
        else
                print_message("%s: no rate line in %s\n", what, log);
}

struct kt_xfer {
        const char *tag;       /* file names */
        const char *link;      /* mpnet-nc's --link */
        const char *kns;       /* the kernel's namespace (socat runs there) */
        const char *tap;       /* the TAP device mpnet-nc makes in kns, to
                                * address once it exists; NULL: the test
                                * addressed the kernel's end already */
        const char *me, *peer; /* mpnet's and the kernel's address */
        bool v6;
        unsigned port;
        const char *nc_opts;       /* more mpnet-nc options (may be NULL) */
        unsigned kb;               /* KiB each way; 0: kt_xfer_mb() MB */
        char to_k[512], to_m[512]; /* what goes to the kernel, to mpnet */
        char at_k[512], at_m[512]; /* what arrived there */
        char log[512], rc_m[512], rc_k[512];
};

static inline void kt_xfer_init(struct kt_xfer *x)
{
        const char *d = test_out_dir();
        unsigned kb = x->kb != 0 ? x->kb : kt_xfer_mb() * 1024;

        snprintf(x->to_k, sizeof(x->to_k), "%s/tcp_%s_to_kernel", d, x->tag);
        snprintf(x->to_m, sizeof(x->to_m), "%s/tcp_%s_to_mpnet", d, x->tag);
        snprintf(x->at_k, sizeof(x->at_k), "%s/tcp_%s_at_kernel", d, x->tag);
        snprintf(x->at_m, sizeof(x->at_m), "%s/tcp_%s_at_mpnet", d, x->tag);
        snprintf(x->log, sizeof(x->log), "%s/tcp_%s_mpnet_nc.log", d, x->tag);
        snprintf(x->rc_m, sizeof(x->rc_m), "%s/tcp_%s_mpnet_nc.rc", d, x->tag);
        snprintf(x->rc_k, sizeof(x->rc_k), "%s/tcp_%s_socat.rc", d, x->tag);
        kt_sh("rm -f %s %s %s %s", x->at_k, x->at_m, x->rc_m, x->rc_k);
        /* Different data each way, of different sizes (a swap would show). */
        assert_int_equal(kt_sh("(head -c %uK /dev/urandom > %s && head -c %uK /dev/urandom > %s)",
                               kb, x->to_k, kb + kb / 8, x->to_m),
                         0);
}

/* The seconds a transfer may take: generous (a loaded machine, ASan). */
static inline unsigned kt_xfer_secs(const struct kt_xfer *x)
{
        return 60 + (x->kb != 0 ? x->kb / 1024 : kt_xfer_mb());
}

/* Run a shell command with its output shown (kt_sh hides it unless
 * MPNET_TEST_VERBOSE): what a failure prints. */
static inline void __attribute__((format(printf, 1, 2))) kt_show(const char *fmt, ...)
{
        char cmd[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        fflush(stdout);
        fflush(stderr);
        if (system(cmd) == -1)
                print_message("cannot run: %s\n", cmd);
}

/* A job of the transfer x ended with rc (-1: not within its wait): on a
 * failure print what mpnet-nc said and the kernel's sockets, then fail. */
static inline void kt_xfer_rc(const struct kt_xfer *x, const char *who, int rc)
{
        if (rc == 0)
                return;
        print_message("%s: %s ended with %d; mpnet-nc's log:\n", x->tag, who, rc);
        kt_show("cat %s >&2", x->log);
        kt_show("ip netns exec %s ss -tnie >&2", x->kns);
        fail_msg("%s: %s ended with %d", x->tag, who, rc);
}

/* Both ways arrived whole: the same SHA-256 as sent. */
static inline void kt_xfer_check(struct kt_xfer *x)
{
        char a[80], b[80];

        assert_int_equal(kt_sh("test -s %s && test -s %s", x->to_k, x->to_m), 0);
        kt_sha_of(x->to_k, a, sizeof(a));
        kt_sha_of(x->at_k, b, sizeof(b));
        assert_string_equal(a, b);
        kt_sha_of(x->to_m, a, sizeof(a));
        kt_sha_of(x->at_m, b, sizeof(b));
        assert_string_equal(a, b);
        kt_sh("rm -f %s %s %s %s", x->to_k, x->to_m, x->at_k, x->at_m);
}

static inline void kt_xfer_tap_addr(struct kt_xfer *x)
{
        if (x->tap == NULL)
                return;
        kt_dev_wait(x->kns, x->tap);
        assert_int_equal(kt_sh("ip -n %s %s addr add %s/%u dev %s%s", x->kns, x->v6 ? "-6" : "",
                               x->peer, x->v6 ? 64u : 24u, x->tap, x->v6 ? " nodad" : ""),
                         0);
}

/* mpnet-nc -l serves; a Linux socat connects (retrying until mpnet-nc
 * listens: it opens its socket once IPv6 duplicate detection is done). */
static inline void kt_xfer_linux_client(struct kt_xfer *x)
{
        unsigned secs = kt_xfer_secs(x);

        kt_xfer_init(x);
        assert_int_equal(kt_sh("(timeout %u %s -v -l --link %s --addr %s/%u %s %u < %s > %s "
                               "2> %s; echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, kt_tool_bin("mpnet-nc"), x->link, x->me, x->v6 ? 64u : 24u,
                               x->nc_opts != NULL ? x->nc_opts : "", x->port, x->to_k, x->at_m,
                               x->log, x->rc_m),
                         0);
        kt_xfer_tap_addr(x);
        /* -t: after the end of its input socat waits for ours, then ends. */
        assert_int_equal(kt_sh("(timeout %u ip netns exec %s socat -t %u - "
                               "TCP%d:%s%s%s:%u,retry=100,interval=0.2 < %s > %s; "
                               "echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, x->kns, secs, x->v6 ? 6 : 4, x->v6 ? "[" : "", x->me,
                               x->v6 ? "]" : "", x->port, x->to_m, x->at_k, x->rc_k),
                         0);
        kt_xfer_rc(x, "socat", kt_rc_wait(x->rc_k, secs + 10));
        kt_xfer_rc(x, "mpnet-nc", kt_rc_wait(x->rc_m, secs + 10));
        kt_show_rate(x->tag, x->log);
        kt_xfer_check(x);
}

/* A Linux socat listens; mpnet-nc connects (its SYN is retransmitted if it
 * left before the kernel's address was on the device). */
static inline void kt_xfer_linux_server(struct kt_xfer *x)
{
        unsigned secs = kt_xfer_secs(x);

        kt_xfer_init(x);
        assert_int_equal(kt_sh("(timeout %u ip netns exec %s socat -t %u TCP%d-LISTEN:%u,reuseaddr "
                               "- < %s > %s; echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, x->kns, secs, x->v6 ? 6 : 4, x->port, x->to_m, x->at_k,
                               x->rc_k),
                         0);
        kt_listen_wait(x->kns, x->port);
        assert_int_equal(kt_sh("(timeout %u %s -v -w 30 --link %s --addr %s/%u %s %s %u "
                               "< %s > %s 2> %s; echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               secs, kt_tool_bin("mpnet-nc"), x->link, x->me, x->v6 ? 64u : 24u,
                               x->nc_opts != NULL ? x->nc_opts : "", x->peer, x->port, x->to_k,
                               x->at_m, x->log, x->rc_m),
                         0);
        kt_xfer_tap_addr(x);
        kt_xfer_rc(x, "mpnet-nc", kt_rc_wait(x->rc_m, secs + 10));
        kt_xfer_rc(x, "socat", kt_rc_wait(x->rc_k, secs + 10));
        kt_show_rate(x->tag, x->log);
        kt_xfer_check(x);
}

#endif
