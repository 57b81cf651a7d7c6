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
 * Every route is a /30 of 198.18.0.0/15, the benchmarking block: at most
 * 32768 of them (--routes).
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
 *
 * Then a restart (issue 17: 100 stacks with 10,000 routes each back to
 * forwarding in at most 1 s): --restart S writes a configuration file of S
 * router stacks, each with a memory wire and --routes N routes, and two
 * host stacks wired to the last router; mpnetd is started on it, and the
 * time from the fork to the first echo reply from one host to the other
 * through that router is measured (the daemon answers only once the whole
 * file is replayed); then kill -9, and again, --runs times. The first
 * start also compacts the file (every later one replays the compacted
 * file, as a restart after kill -9 does). The daemon's CPU time (all its
 * threads, from wait4()) is reported too: on a loaded machine it moves
 * less than the wall clock.
 *
 * Then what a capture costs where the link taps frames (issue 17: the
 * capture wrap mpnetd puts on every link, the BPF filter run on the worker):
 * --capture B receives B bursts of 32 64-byte ICMP frames over a memory
 * wire per run and mode, the modes interleaved within each run, timing
 * (TSC) only the receive burst: "bare" the wire's end itself; "wrap_idle"
 * through mpnet_capture_wrap() with no capture running (what every
 * mpnetd link pays); "filter_miss" a capture whose filter ("icmp and host
 * 198.51.100.9", pcap_compile()'s 10 instructions) runs on every frame and
 * keeps none; "filter_hit" the same program for 192.0.2.3, every frame
 * kept and written (pcapng, in a temporary directory); "all" no filter,
 * every frame written.
 *
 * usage: bench_ctl --capture B [--runs R]
 *
 * usage: bench_ctl --restart S [--routes N] [--runs R] [--workers W]
 *                  [--daemon PATH] (default ./mpnetd: an A/B runs two builds)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/bpf.h"
#include "mpnet/ctl.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"

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

/* Route i of every benchmark here: the i-th /30 of 198.18.0.0/15 (RFC
 * 2544's benchmarking block, RFC 5735), so at most ROUTES_MAX of them. */
#define ROUTES_MAX  32768u
#define ROUTES_PLEN 30

static void route_dst(uint32_t i, uint8_t dst[4])
{
        uint32_t a = 0xc6120000u + (i << (32 - ROUTES_PLEN));

        dst[0] = (uint8_t)(a >> 24);
        dst[1] = (uint8_t)(a >> 16);
        dst[2] = (uint8_t)(a >> 8);
        dst[3] = (uint8_t)a;
}

/* "198.18.x.y/30": route i as a command line writes it. */
static void route_str(uint32_t i, char *s, size_t n)
{
        uint8_t d[4];

        route_dst(i, d);
        snprintf(s, n, "%u.%u.%u.%u/%u", d[0], d[1], d[2], d[3], ROUTES_PLEN);
}

static void build_route(struct mpnet_ctl_buf *b, struct mpnet_ctl *c, uint32_t i)
{
        uint8_t dst[4], gw[4] = {192, 0, 2, 2};

        route_dst(i, dst);
        mpnet_ctl_msg_begin(b, MPNET_CTL_ROUTE_NEW, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                            mpnet_ctl_port(c));
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, "b");
        mpnet_ctl_put(b, MPNET_CTLA_ADDR, dst, 4);
        mpnet_ctl_put_u8(b, MPNET_CTLA_PLEN, ROUTES_PLEN);
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

/* ---- capture cost ------------------------------------------------------- */

#define CAP_BURST 32
enum { CAP_BARE, CAP_WRAP_IDLE, CAP_FILTER_MISS, CAP_FILTER_HIT, CAP_ALL, CAP__N };
static const char *const cap_mode_name[CAP__N] = {"bare", "wrap_idle", "filter_miss", "filter_hit",
                                                  "all"};

/* tcpdump -y EN10MB -dd 'icmp and host 192.0.2.3' */
static const struct mpnet_bpf_insn icmp_host[] = {
    {0x28, 0, 0, 0x0000000c}, {0x15, 0, 7, 0x00000800}, {0x30, 0, 0, 0x00000017},
    {0x15, 0, 5, 0x00000001}, {0x20, 0, 0, 0x0000001a}, {0x15, 2, 0, 0xc0000203},
    {0x20, 0, 0, 0x0000001e}, {0x15, 0, 1, 0xc0000203}, {0x6, 0, 0, 0x00040000},
    {0x6, 0, 0, 0x00000000},
};

/* An ICMP echo request 192.0.2.2 -> 192.0.2.3, 64 bytes on the wire. */
static const uint8_t cap_tmpl[64] = {2,    0,    0,    0, 0, 0xb, 2,   0, 0, 0, 0,  0xa,
                                     0x08, 0x00, 0x45, 0, 0, 50,  0,   1, 0, 0, 64, 1,
                                     0,    0,    192,  0, 2, 2,   192, 0, 2, 3, 8};

static void cap_frame(struct mpnet_pkt *p)
{
        uint8_t *b = mpnet_pkt_append(p, sizeof(cap_tmpl));

        if (b != NULL)
                memcpy(b, cap_tmpl, sizeof(cap_tmpl));
}

/* One mode: @return TSC cycles per receive burst, or < 0. */
static double cap_run(int mode, uint32_t bursts, struct mpnet_pool *pool, const char *dir)
{
        struct mpnet_bpf_insn miss[10];
        struct mpnet_capture_cfg cc = {.fmt = MPNET_CAPTURE_PCAPNG};
        struct mpnet_capture_stats cs = {0};
        struct mpnet_link *a, *b, *rx;
        struct mpnet_pkt *v[CAP_BURST];
        char path[128], why[128];
        uint64_t cycles = 0, got = 0;

        if (mpnet_memwire_create(NULL, &a, &b) != 0)
                return -1;
        rx = mode == CAP_BARE ? b : mpnet_capture_wrap(b);
        if (rx == NULL)
                return -1;
        memcpy(miss, icmp_host, sizeof(miss));
        miss[5].k = miss[7].k = 0xc6336409; /* 198.51.100.9 */
        snprintf(path, sizeof(path), "%s/cap-%d.pcapng", dir, mode);
        cc.path = path;
        cc.filter = mode == CAP_FILTER_MISS ? miss : mode == CAP_FILTER_HIT ? icmp_host : NULL;
        cc.filter_len = cc.filter != NULL ? 10 : 0;
        if (mode >= CAP_FILTER_MISS && mpnet_capture_start(rx, &cc, why, sizeof(why)) != 0) {
                fprintf(stderr, "bench_ctl: capture: %s\n", why);
                return -1;
        }
        for (uint32_t i = 0; i < bursts; i++) {
                unsigned n = mpnet_pkt_alloc_bulk(pool, v, CAP_BURST);
                uint64_t t0;
                uint16_t k;

                for (unsigned j = 0; j < n; j++)
                        cap_frame(v[j]);
                k = mpnet_link_tx_burst(a, 0, v, (uint16_t)n);
                mpnet_pkt_free_bulk(v + k, n - k);
                t0 = bench_tsc();
                k = mpnet_link_rx_burst(rx, 0, v, CAP_BURST);
                cycles += bench_tsc() - t0;
                got += k;
                mpnet_pkt_free_bulk(v, k);
        }
        if (mode >= CAP_FILTER_MISS && mpnet_capture_stop(rx, &cs) != 0)
                return -1;
        mpnet_link_destroy(rx);
        mpnet_link_destroy(a);
        unlink(path);
        /* Each mode did what it says, or its figure means nothing. */
        if (got != (uint64_t)bursts * CAP_BURST ||
            cs.captured != (mode >= CAP_FILTER_HIT ? got : 0))
                return -1;
        return (double)cycles / bursts;
}

static int run_capture(uint32_t bursts, int runs)
{
        char dir[] = "/tmp/bench_ctl-XXXXXX", cmd[64];
        double cyc[CAP__N][32], hz = bench_tsc_hz();
        struct mpnet_pool *pool = mpnet_pool_create("bench_cap", 4 * CAP_BURST + 1024);
        int rc = 0;

        if (pool == NULL || mkdtemp(dir) == NULL)
                return 2;
        for (int r = 0; r < runs && rc == 0; r++)
                for (int m = 0; m < CAP__N && rc == 0; m++)
                        if ((cyc[m][r] = cap_run((m + r) % CAP__N, bursts, pool, dir)) < 0)
                                rc = 1;
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        sh(cmd);
        if (rc != 0) {
                fprintf(stderr, "bench_ctl: a capture run failed\n");
                return rc;
        }
        printf("{\"bench\":\"ctl_capture\",\"burst\":%d,\"bursts\":%u,\"runs\":%d,"
               "\"tsc_ghz\":%.3f,\"cycles_per_burst\":{",
               CAP_BURST, bursts, runs, hz / 1e9);
        /* cyc[m][r] is mode (m + r) % CAP__N's: sorted by mode again. */
        for (int m = 0; m < CAP__N; m++) {
                double v[32];

                for (int r = 0; r < runs; r++)
                        v[r] = cyc[((m - r) % CAP__N + CAP__N) % CAP__N][r];
                qsort(v, (size_t)runs, sizeof(double), cmp);
                printf("%s\"%s\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f}", m ? "," : "",
                       cap_mode_name[m], v[runs / 2], v[0], v[runs - 1]);
        }
        printf("}}\n");
        return 0;
}

/* ---- restart ------------------------------------------------------------ */

static int conf_write(const char *path, uint32_t n_stacks, uint32_t n_routes)
{
        FILE *f = fopen(path, "w");

        if (f == NULL)
                return -1;
        for (uint32_t s = 0; s < n_stacks; s++) {
                fprintf(f, "stack add s%u\n-n s%u link add e0 type mem peer e1\n", s, s);
                fprintf(f, "-n s%u addr add 192.0.2.1/24 dev e0\n", s);
                for (uint32_t i = 0; i < n_routes; i++) {
                        char dst[32];

                        route_str(i, dst, sizeof(dst));
                        fprintf(f, "-n s%u route add %s via 192.0.2.2\n", s, dst);
                }
        }
        /* h1 -- s(last) -- h2: a ping that crosses it says it forwards. */
        fprintf(f,
                "stack add h1\nstack add h2\n"
                "-n h1 link add a type mem peer ra peer-stack s%u\n"
                "-n h2 link add b type mem peer rb peer-stack s%u\n"
                "-n s%u addr add 198.51.100.1/24 dev ra\n-n s%u addr add 203.0.113.1/24 dev rb\n"
                "-n h1 addr add 198.51.100.2/24 dev a\n-n h2 addr add 203.0.113.2/24 dev b\n"
                "-n h1 route add default via 198.51.100.1\n"
                "-n h2 route add default via 203.0.113.1\n",
                n_stacks - 1, n_stacks - 1, n_stacks - 1, n_stacks - 1);
        return fclose(f);
}

static int ping_part(void *arg, const struct mpnet_ctl_view *m)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];

        if (m->h->type != MPNET_CTL_PING)
                return 0;
        mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
        if (tb[MPNET_CTLA_RECEIVED] != NULL)
                *(uint32_t *)arg = mpnet_ctl_attr_u32(tb[MPNET_CTLA_RECEIVED]);
        return 0;
}

/* One echo from h1 to h2 through the last router. @return 1 answered, 0
 * not (yet), -1 the daemon cannot be reached. */
static int ping_through(const char *sockp)
{
        static alignas(8) uint8_t mem[512];
        char line[] = "-n h1 ping 203.0.113.2 count 1 timeout 100", why[256];
        struct mpnet_ctl_buf b;
        struct mpnet_ctl *c = mpnet_ctl_open(sockp);
        uint32_t got = 0;

        if (c == NULL)
                return 0;
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_cli_line(&b, NULL, line, mpnet_ctl_seq(c), mpnet_ctl_port(c), why, sizeof(why));
        if (mpnet_ctl_exchange(c, &b, ping_part, &got, why, sizeof(why), 5000) != 0)
                got = 0;
        mpnet_ctl_close(c);
        return got > 0;
}

struct restart_run {
        double up_s, fwd_s; /* the socket answers; the first reply crossed */
        double cpu_s;       /* the daemon's CPU time, all threads: less load-dependent */
};

/* Start mpnetd on conf, wait until it forwards (60 s at most), kill -9. */
static const char *g_daemon = "./mpnetd";

static int restart_once(const char *sockp, const char *conf, const char *workers,
                        struct restart_run *out)
{
        double t0 = now_s(), end = t0 + 60;
        struct rusage ru;
        pid_t d = fork();
        int rc = -1;

        if (d == 0) {
                execl(g_daemon, "mpnetd", "-s", sockp, "-c", conf, "-w", workers, (char *)NULL);
                _exit(127);
        }
        out->up_s = -1;
        while (now_s() < end && waitpid(d, NULL, WNOHANG) == 0) {
                struct mpnet_ctl *c = out->up_s < 0 ? mpnet_ctl_open(sockp) : NULL;

                if (c != NULL) {
                        out->up_s = now_s() - t0;
                        mpnet_ctl_close(c);
                }
                if (out->up_s >= 0 && ping_through(sockp) == 1) {
                        out->fwd_s = now_s() - t0;
                        rc = 0;
                        break;
                }
                if (out->up_s < 0)
                        usleep(1000);
        }
        kill(d, SIGKILL);
        if (wait4(d, NULL, 0, &ru) == d)
                out->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                             (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        return rc;
}

static int run_restart(uint32_t n_stacks, uint32_t n_routes, int runs, const char *workers)
{
        char dir[] = "/tmp/bench_ctl-XXXXXX", sockp[64], conf[64], cmd[128];
        struct restart_run rr[32];
        double up[32], fwd[32], cpu[32];
        int rc = 0;

        if (mkdtemp(dir) == NULL)
                return 2;
        snprintf(sockp, sizeof(sockp), "%s/sock", dir);
        snprintf(conf, sizeof(conf), "%s/mpnetd.conf", dir);
        if (conf_write(conf, n_stacks, n_routes) != 0)
                rc = 1;
        /* Run 0 replays the file as written and compacts it; it is
         * reported apart. */
        for (int r = 0; r <= runs && rc == 0; r++)
                if (restart_once(sockp, conf, workers, &rr[r]) != 0) {
                        fprintf(stderr, "bench_ctl: restart %d did not forward in 60 s\n", r);
                        rc = 1;
                }
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        sh(cmd);
        if (rc != 0)
                return rc;
        for (int r = 0; r < runs; r++) {
                up[r] = rr[r + 1].up_s;
                fwd[r] = rr[r + 1].fwd_s;
                cpu[r] = rr[r + 1].cpu_s;
        }
        qsort(cpu, (size_t)runs, sizeof(double), cmp);
        qsort(up, (size_t)runs, sizeof(double), cmp);
        qsort(fwd, (size_t)runs, sizeof(double), cmp);
        printf("{\"bench\":\"ctl_restart\",\"stacks\":%u,\"routes_per_stack\":%u,"
               "\"workers\":%s,\"runs\":%d,\"first_start_s\":%.3f,"
               "\"socket_up_s\":{\"median\":%.3f,\"min\":%.3f,\"max\":%.3f},"
               "\"forwarding_s\":{\"median\":%.3f,\"min\":%.3f,\"max\":%.3f},"
               "\"daemon_cpu_s\":{\"median\":%.3f,\"min\":%.3f,\"max\":%.3f}}\n",
               n_stacks, n_routes, workers, runs, rr[0].fwd_s, up[runs / 2], up[0], up[runs - 1],
               fwd[runs / 2], fwd[0], fwd[runs - 1], cpu[runs / 2], cpu[0], cpu[runs - 1]);
        return 0;
}

int main(int argc, char **argv)
{
        uint32_t n = 10000, n_stacks = 1000, n_restart = 0, n_capture = 0;
        const char *workers = "1";
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
                else if (strcmp(argv[i], "--restart") == 0)
                        n_restart = (uint32_t)strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--workers") == 0)
                        workers = argv[i + 1];
                else if (strcmp(argv[i], "--daemon") == 0)
                        g_daemon = argv[i + 1];
                else if (strcmp(argv[i], "--capture") == 0)
                        n_capture = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        }
        if (n_capture > 0)
                return runs < 1 || runs > 32 ? 2 : run_capture(n_capture, runs);
        if (n_restart > 0)
                return runs < 1 || runs > 31 || n > ROUTES_MAX
                           ? 2
                           : run_restart(n_restart, n, runs, workers);
        if (runs < 1 || runs > 32 || n < 1 || n > ROUTES_MAX || n_stacks < 1 || n_stacks > 100000 ||
            mkdtemp(dir) == NULL)
                return 2;
        snprintf(sockp, sizeof(sockp), "%s/sock", dir);
        snprintf(batch, sizeof(batch), "%s/routes", dir);
        snprintf(ns, sizeof(ns), "bench-ctl-%d", (int)getpid());
        FILE *f = fopen(batch, "w");

        for (uint32_t i = 0; i < n; i++) {
                char dst[32];

                route_str(i, dst, sizeof(dst));
                fprintf(f, "route add %s via 192.0.2.2\n", dst);
        }
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
