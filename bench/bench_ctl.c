/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Routes installed through mpnetd's control protocol (the C client, many
 * ROUTE_NEW messages to a datagram, every one acknowledged) against Linux
 * installing the same routes into a namespace's kernel table with
 * `ip -batch`, in the same run, interleaved (issue 17: the target is at
 * least 10 times Linux). The Linux half needs root (a namespace); without
 * it only mpnetd's figure is printed.
 *
 * usage: bench_ctl [--routes N] [--runs R]   (run from the build directory:
 * it starts ./mpnetd)
 *
 * Then stacks at scale (issue 17: 1000 stacks in one process, each made in
 * at most 1 ms and costing at most 256 KiB resident): --stacks N empty
 * stacks created through the C client (many STACK_NEW to a datagram, each
 * acknowledged), listed with one dump, and destroyed, per run; time per
 * stack and the daemon's resident memory per live stack (VmRSS of
 * /proc/PID/status before and after). The first run starts from a fresh
 * daemon heap; later runs reuse what its allocator kept.
 *
 * usage: bench_ctl [--routes N] [--stacks N] [--runs R]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mpnet/ctl.h"

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static void build_route(struct mpnet_ctl_buf *b, struct mpnet_ctl *c, uint32_t i)
{
        uint8_t dst[4] = {10, (uint8_t)(i >> 8), (uint8_t)i, 0}, gw[4] = {192, 0, 2, 2};

        mpnet_ctl_msg_begin(b, MPNET_CTL_ROUTE_NEW, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                            mpnet_ctl_port(c));
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, "b");
        mpnet_ctl_put(b, MPNET_CTLA_ADDR, dst, 4);
        mpnet_ctl_put_u8(b, MPNET_CTLA_PLEN, 24);
        mpnet_ctl_nest_begin(b, MPNET_CTLA_PATH);
        mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, "e0");
        mpnet_ctl_put(b, MPNET_CTLA_GW, gw, 4);
        mpnet_ctl_nest_end(b);
}

static int sh(const char *cmd)
{
        int rc = system(cmd);

        return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* mpnetd: a fresh stack, then n routes. @return seconds, or < 0. */
static double run_ctl(const char *sockp, uint32_t n)
{
        static alignas(8) uint8_t mem[MPNET_CTL_DGRAM_MAX];
        struct mpnet_ctl_buf b;
        struct mpnet_ctl *c = mpnet_ctl_open(sockp);
        char why[256], *setup[] = {"stack add b", "-n b link add e0 type mem peer e1",
                                   "-n b addr add 192.0.2.1/24 dev e0"};
        double t0, t;
        int err = 0;

        if (c == NULL)
                return -1;
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        for (int i = 0; i < 3; i++) {
                char line[128];

                snprintf(line, sizeof(line), "%s", setup[i]);
                b.len = 0;
                mpnet_ctl_cli_line(&b, NULL, line, mpnet_ctl_seq(c), mpnet_ctl_port(c), why,
                                   sizeof(why));
                if (mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 10000) != 0) {
                        fprintf(stderr, "bench_ctl: %s\n", why);
                        mpnet_ctl_close(c);
                        return -1;
                }
        }
        t0 = now_s();
        b.len = 0;
        for (uint32_t i = 0; i < n && err == 0; i++) {
                build_route(&b, c, i);
                mpnet_ctl_msg_end(&b);
                if (b.cap - b.len < 256 || i + 1 == n) {
                        err = mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 30000);
                        b.len = 0;
                }
        }
        t = now_s() - t0;
        b.len = 0;
        char del[] = "stack del b";

        mpnet_ctl_cli_line(&b, NULL, del, mpnet_ctl_seq(c), mpnet_ctl_port(c), why, sizeof(why));
        mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 30000);
        mpnet_ctl_close(c);
        if (err != 0)
                fprintf(stderr, "bench_ctl: %s\n", why);
        return err == 0 ? t : -1;
}

static long rss_kib(pid_t pid)
{
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        while (f != NULL && fgets(line, sizeof(line), f) != NULL)
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f != NULL)
                fclose(f);
        return kib;
}

/* STACK_NEW or STACK_DEL for n stacks, as many to a datagram as fit.
 * @return seconds, or < 0. */
static double stacks_change(struct mpnet_ctl *c, uint16_t type, uint32_t n)
{
        static alignas(8) uint8_t mem[MPNET_CTL_DGRAM_MAX];
        struct mpnet_ctl_buf b;
        char why[256];
        double t0 = now_s();

        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        for (uint32_t i = 0; i < n; i++) {
                char name[16];

                snprintf(name, sizeof(name), "s%u", i);
                mpnet_ctl_msg_begin(&b, type, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                                    mpnet_ctl_port(c));
                mpnet_ctl_put_str(&b, MPNET_CTLA_STACK, name);
                mpnet_ctl_msg_end(&b);
                if (b.cap - b.len < 64 || i + 1 == n) {
                        if (mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 60000) != 0) {
                                fprintf(stderr, "bench_ctl: %s\n", why);
                                return -1;
                        }
                        b.len = 0;
                }
        }
        return now_s() - t0;
}

static int count_part(void *arg, const struct mpnet_ctl_view *m)
{
        (void)m;
        ++*(uint32_t *)arg;
        return 0;
}

/* @return seconds for one STACK_GET dump of every stack, or < 0. */
static double stacks_list(struct mpnet_ctl *c, uint32_t want)
{
        alignas(8) uint8_t mem[64];
        struct mpnet_ctl_buf b;
        uint32_t n = 0;
        double t0 = now_s();

        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_STACK_GET, MPNET_CTL_F_REQUEST | MPNET_CTL_F_DUMP,
                            mpnet_ctl_seq(c), mpnet_ctl_port(c));
        mpnet_ctl_msg_end(&b);
        if (mpnet_ctl_exchange(c, &b, count_part, &n, NULL, 0, 60000) != 0 || n != want)
                return -1;
        return now_s() - t0;
}

struct stacks_run {
        double create_us, list_ms, destroy_us, rss_kib;
};

static int run_stacks(const char *sockp, pid_t d, uint32_t n, struct stacks_run *out)
{
        struct mpnet_ctl *c = mpnet_ctl_open(sockp);
        long rss0 = rss_kib(d), rss1;
        double tc, tl, td;

        if (c == NULL)
                return -1;
        tc = stacks_change(c, MPNET_CTL_STACK_NEW, n);
        rss1 = rss_kib(d);
        tl = tc < 0 ? -1 : stacks_list(c, n);
        td = tl < 0 ? -1 : stacks_change(c, MPNET_CTL_STACK_DEL, n);
        mpnet_ctl_close(c);
        if (td < 0 || rss0 < 0 || rss1 < 0)
                return -1;
        *out = (struct stacks_run){.create_us = tc * 1e6 / n,
                                   .list_ms = tl * 1e3,
                                   .destroy_us = td * 1e6 / n,
                                   .rss_kib = (double)(rss1 - rss0) / n};
        return 0;
}

static double median_of(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(double), cmp);
        return v[n / 2];
}

static void print_stacks(const struct stacks_run *s, int runs, uint32_t n)
{
        double v[4][32];

        for (int r = 0; r < runs; r++) {
                v[0][r] = s[r].create_us;
                v[1][r] = s[r].list_ms;
                v[2][r] = s[r].destroy_us;
                v[3][r] = s[r].rss_kib;
        }
        printf("{\"bench\":\"ctl_stacks\",\"stacks\":%u,\"runs\":%d,"
               "\"first_create_us_per_stack\":%.1f,\"first_rss_kib_per_stack\":%.1f",
               n, runs, s[0].create_us, s[0].rss_kib);
        printf(",\"create_us_per_stack_median\":%.1f", median_of(v[0], runs));
        printf(",\"create_us_per_stack_min\":%.1f,\"create_us_per_stack_max\":%.1f", v[0][0],
               v[0][runs - 1]);
        printf(",\"list_ms_median\":%.2f", median_of(v[1], runs));
        printf(",\"destroy_us_per_stack_median\":%.1f", median_of(v[2], runs));
        double rss_median = median_of(v[3], runs);

        printf(",\"rss_kib_per_stack_median\":%.1f,\"rss_kib_per_stack_max\":%.1f}\n", rss_median,
               v[3][runs - 1]);
}

/* Linux: a fresh namespace with a veth (its peer in the namespace too),
 * then ip -batch. */
static double run_linux(const char *ns, const char *batch)
{
        char cmd[512];
        double t0, t;

        snprintf(cmd, sizeof(cmd),
                 "ip netns add %s && ip -n %s link add e0 type veth peer name e1 && ip -n %s link "
                 "set e0 up "
                 "&& ip -n %s addr add 192.0.2.1/24 dev e0",
                 ns, ns, ns, ns);
        if (sh(cmd) != 0) {
                snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns);
                sh(cmd);
                return -1;
        }
        snprintf(cmd, sizeof(cmd), "ip -n %s -batch %s", ns, batch);
        t0 = now_s();
        int rc = sh(cmd);

        t = now_s() - t0;
        snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
        sh(cmd);
        return rc == 0 ? t : -1;
}

int main(int argc, char **argv)
{
        uint32_t n = 10000, n_stacks = 1000;
        struct stacks_run sr[32];
        int runs = 5;
        char dir[] = "/tmp/bench_ctl-XXXXXX", sockp[64], batch[64], ns[64], cmd[256];
        double tc[32], tl[32];
        bool linux_ok = geteuid() == 0 && sh("command -v ip >/dev/null") == 0;
        pid_t d;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--routes") == 0)
                        n = (uint32_t)strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--stacks") == 0)
                        n_stacks = (uint32_t)strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--runs") == 0)
                        runs = atoi(argv[i + 1]);
        }
        if (runs < 1 || runs > 32 || n < 1 || n > 65536 || n_stacks < 1 || n_stacks > 100000 ||
            mkdtemp(dir) == NULL)
                return 2;
        snprintf(sockp, sizeof(sockp), "%s/sock", dir);
        snprintf(batch, sizeof(batch), "%s/routes", dir);
        snprintf(ns, sizeof(ns), "bench-ctl-%d", (int)getpid());
        FILE *f = fopen(batch, "w");

        for (uint32_t i = 0; i < n; i++)
                fprintf(f, "route add 10.%u.%u.0/24 via 192.0.2.2\n", (i >> 8) & 255, i & 255);
        fclose(f);
        d = fork();
        if (d == 0) {
                execl("./mpnetd", "mpnetd", "-s", sockp, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 500; i++) {
                struct mpnet_ctl *c = mpnet_ctl_open(sockp);

                if (c != NULL) {
                        mpnet_ctl_close(c);
                        break;
                }
                usleep(10000);
        }
        /* Stacks first, so that the first run starts from a fresh heap. */
        for (int r = 0; r < runs; r++)
                if (run_stacks(sockp, d, n_stacks, &sr[r]) != 0) {
                        fprintf(stderr, "bench_ctl: stacks run %d failed\n", r);
                        kill(d, SIGTERM);
                        waitpid(d, NULL, 0);
                        return 1;
                }
        for (int r = 0; r < runs; r++) {
                tc[r] = run_ctl(sockp, n);
                tl[r] = linux_ok ? run_linux(ns, batch) : -1;
                if (tc[r] < 0)
                        break;
        }
        kill(d, SIGTERM);
        waitpid(d, NULL, 0);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        sh(cmd);
        if (tc[runs - 1] < 0)
                return 1;
        print_stacks(sr, runs, n_stacks);
        qsort(tc, (size_t)runs, sizeof(double), cmp);
        printf("{\"bench\":\"ctl_routes\",\"routes\":%u,\"runs\":%d,"
               "\"ctl_routes_per_s\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f}",
               n, runs, n / tc[runs / 2], n / tc[runs - 1], n / tc[0]);
        if (linux_ok && tl[0] > 0) {
                qsort(tl, (size_t)runs, sizeof(double), cmp);
                printf(
                    ",\"linux_ip_batch_routes_per_s\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f}"
                    ",\"ratio_median\":%.2f",
                    n / tl[runs / 2], n / tl[runs - 1], n / tl[0], tl[runs / 2] / tc[runs / 2]);
        } else {
                printf(",\"linux\":\"skipped (needs root and ip)\"");
        }
        printf("}\n");
        return 0;
}
