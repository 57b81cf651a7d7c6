/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp_afxdp: one bulk TCP flow into a Linux receiver over a veth
 * pair, sent (a) by Linux from another namespace and (b) by an mpnet stack
 * in this process over an AF_XDP link on a veth end; the same byte count,
 * the same receiver, the runs interleaved (Linux, mpnet, Linux, ...).
 * Issue 16's "mpnet to Linux over AF_XDP", beside Linux to Linux.
 *
 * The bench makes three namespaces, mpnet-btx-{l,r,m}-PID, and removes them
 * at exit (also after an error, SIGINT, SIGTERM or SIGHUP):
 *   l: lv 192.0.2.1/24   <-veth->  r: rl 192.0.2.2/24     Linux to Linux
 *   m: mv (AF_XDP, mpnet 203.0.113.1)  <-veth->  r: rm 203.0.113.2/24
 * The receiver (a child in r) listens on port 5001, reads exactly the
 * run's bytes from each connection with recv() of up to 1 MiB, checks them
 * (a Fletcher-style sum over 64-bit words, against the one of the pattern
 * sent) and reports to the parent. The Linux sender (a child in l) and
 * mpnet send the same 1 MiB pseudo-random pattern, again and again, --chunk
 * bytes per send() (mpnet_sendto); mpnet's socket gets SO_SNDBUF 4 MB (the
 * default tcp_wmem maximum), Linux's sockets auto-tune. rm's checksum
 * offload is off (ethtool -K tx off): a frame with a partial checksum
 * reaches an XDP socket as it is and mpnet drops it as bad
 * (tests/sim/kt_tcp_veth.h). The rest stays
 * as veth has it: the Linux sender hands the veth TSO super-frames of up
 * to 64 KiB, mpnet's frames are of the MTU (AF_XDP has no segmentation
 * offload: one skb per descriptor); GRO is off on the receiving ends
 * (--gro turns it on, which gives a veth its NAPI path; it did not help
 * either sender here).
 * The receiver and the Linux sender are forked before mpnet's pool and
 * link exist, so that mpnet's memory is never copy-on-write.
 *
 * mpnet's loop (one thread, this process): send until the send buffer is
 * full, poll the stack, and when there is nothing to do wait in poll() on
 * the XDP socket (mpnet_link_rx_wait_arm) until the next timer, as
 * mpnet-nc does; --busy spins instead. The XDP program runs in native mode
 * where the kernel allows (veth does), else generic (--generic forces it);
 * the JSON says which ("xdp_mode"); veth binds in copy mode.
 *
 * Figures per run: Gbit/s of payload by the wall clock, from the start
 * signal (the connection already open) to the receiver's report; and per
 * CPU second, where the CPU seconds are the whole machine's busy time over
 * the same interval (/proc/stat: user, nice, system, irq, softirq, steal),
 * so that the kernel's work on both sides, softirqs included, counts for
 * both. The TSC cycles of that busy time per payload byte. A loaded machine
 * counts others' work too: the JSON gives the load average before and after,
 * and, less exposed to others' load but blind to softirqs run elsewhere,
 * the sender's and the receiver's own CPU time (the sender thread for
 * mpnet, the sender process for Linux; "own_cpu", see own_cpu()). Ratios
 * mpnet/Linux are per pair of neighbouring runs. Not pinned.
 *
 * Without root, ip(8), ethtool, network namespaces or AF_XDP, it prints
 * {"bench": "tcp_afxdp", "skipped": "why"} and exits 0.
 *
 * Usage: bench_tcp_afxdp [--mbytes N] [--repeat N] [--chunk BYTES]
 *                        [--generic] [--ring N] [--busy] [--gro] [--flip]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/afxdp.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/socket.h"
#include "mpnet/stack.h"
#include "mpnet/tcp.h"
#include "mpnet/thread.h"

#define PORT       5001
#define PAT_LEN    (1u << 20)
#define RBUF       (1u << 20)
#define SNDBUF     (4 << 20)
#define L_SND      0xc0000201u           /* 192.0.2.1, the Linux sender */
#define L_RCV      0xc0000202u           /* 192.0.2.2, the receiver for it */
#define M_SND      0xcb007101u           /* 203.0.113.1, mpnet */
#define M_RCV      0xcb007102u           /* 203.0.113.2, the receiver for mpnet */
#define RUN_NS     (120 * 1000000000ull) /* a run that takes longer failed */
#define MAX_REPEAT 100

enum { NS_L, NS_R, NS_M, NS_N };

/* What a child reports through its pipe. */
struct report {
        uint64_t bytes; /* received (the receiver) or sent */
        uint64_t a, b;  /* the receiver's sums */
        uint64_t cpu_ns;
};

struct run {
        double gbps, cpu_s, gbps_per_cpu, cyc_byte, snd_cpu_s, rcv_cpu_s;
        double sirq_s, own_cpu_s, gbps_per_own_cpu; /* see the top */
        bool ok;
};

/* /proc/stat's "cpu" line: busy (user, nice, system, irq, softirq, steal)
 * and its irq and softirq part, in clock ticks. */
struct ticks {
        uint64_t busy, sirq;
};

static const char *const ns_tag[NS_N] = {"l", "r", "m"};
static char g_ns[NS_N][64];
static bool g_ns_made[NS_N];
static pid_t g_rcv = -1, g_snd = -1;
static volatile sig_atomic_t g_stop;
static uint8_t *g_pat, *g_pat_m; /* what Linux sends, what mpnet sends */
static uint64_t g_bytes, g_chunk;
static bool g_generic, g_busy, g_flip, g_gro;
static uint64_t g_ring = 1024;

/* ---- helpers ------------------------------------------------------------ */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
        char cmd[1024];
        va_list ap;
        int n, rc;

        va_start(ap, fmt);
        n = vsnprintf(cmd, sizeof(cmd) - 24, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(cmd) - 24)
                return -1;
        strcat(cmd, " >/dev/null 2>&1");
        rc = system(cmd);
        return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static void cleanup(void)
{
        if (g_snd > 0) {
                kill(g_snd, SIGKILL);
                waitpid(g_snd, NULL, 0);
                g_snd = -1;
        }
        if (g_rcv > 0) {
                kill(g_rcv, SIGKILL);
                waitpid(g_rcv, NULL, 0);
                g_rcv = -1;
        }
        for (int i = 0; i < NS_N; i++)
                if (g_ns_made[i]) {
                        sh("ip netns del %s", g_ns[i]);
                        g_ns_made[i] = false;
                }
}

static void on_signal(int sig)
{
        (void)sig;
        g_stop = 1;
}

static void skip(const char *why)
{
        struct bench_json j;

        cleanup();
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_afxdp");
        bench_json_str(&j, "skipped", why);
        bench_json_obj_end(&j);
        fprintf(stderr, "bench_tcp_afxdp: skipped: %s\n", why);
        exit(0);
}

static uint64_t cpu_ns(clockid_t c)
{
        struct timespec ts;

        clock_gettime(c, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The whole machine's busy time (/proc/stat "cpu": user, nice, system, irq,
 * softirq, steal) in clock ticks, or the bench dies. */
static struct ticks busy_ticks(void)
{
        unsigned long long v[8] = {0};
        FILE *f = fopen("/proc/stat", "r");
        int n;

        if (f == NULL)
                bench_die("/proc/stat: %s\n", strerror(errno));
        n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
        fclose(f);
        if (n != 8)
                bench_die("/proc/stat: unexpected first line\n");
        return (struct ticks){.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7], .sirq = v[5] + v[6]};
}

static double loadavg1(void)
{
        double l = -1;
        FILE *f = fopen("/proc/loadavg", "r");

        if (f != NULL) {
                if (fscanf(f, "%lf", &l) != 1)
                        l = -1;
                fclose(f);
        }
        return l;
}

/* The receiver's check: a Fletcher-style pair of sums over little-endian
 * 64-bit words, position-dependent through b. */
struct ck {
        uint64_t a, b;
        uint8_t tail[8];
        unsigned nt;
};

static inline void ck_word(struct ck *c, const uint8_t *p)
{
        uint64_t w;

        memcpy(&w, p, 8);
        c->a += w;
        c->b += c->a;
}

static void ck_add(struct ck *c, const uint8_t *p, size_t n)
{
        while (c->nt != 0 && n != 0) {
                c->tail[c->nt++] = *p++;
                n--;
                if (c->nt == 8) {
                        ck_word(c, c->tail);
                        c->nt = 0;
                }
        }
        for (; n >= 8; p += 8, n -= 8)
                ck_word(c, p);
        for (; n != 0; n--)
                c->tail[c->nt++] = *p++;
}

/* What the receiver must find: the pattern repeated over bytes. */
static struct ck ck_expected(uint64_t bytes)
{
        struct ck c = {0};

        for (uint64_t off = 0; off < bytes; off += PAT_LEN)
                ck_add(&c, g_pat, bytes - off < PAT_LEN ? (size_t)(bytes - off) : PAT_LEN);
        return c;
}

static size_t send_len(uint64_t sent)
{
        uint64_t off = sent % PAT_LEN, n = g_bytes - sent;

        if (n > g_chunk)
                n = g_chunk;
        if (n > PAT_LEN - off)
                n = PAT_LEN - off;
        return (size_t)n;
}

static int enter_ns(const char *name)
{
        char path[128];
        int fd, rc;

        snprintf(path, sizeof(path), "/var/run/netns/%s", name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        rc = setns(fd, CLONE_NEWNET);
        close(fd);
        return rc;
}

/* Wait until fd is readable, g_stop or the deadline. @return 1, 0 (time
 * out or stop). */
static int wait_readable(int fd, uint64_t deadline)
{
        while (!g_stop && bench_now_ns() < deadline) {
                struct pollfd p = {.fd = fd, .events = POLLIN};

                if (poll(&p, 1, 200) > 0)
                        return 1;
        }
        return 0;
}

static void read_report(int fd, struct report *r, const char *who)
{
        if (!wait_readable(fd, bench_now_ns() + RUN_NS))
                bench_die("bench_tcp_afxdp: %s: %s\n", who, g_stop ? "interrupted" : "timed out");
        if (read(fd, r, sizeof(*r)) != (ssize_t)sizeof(*r))
                bench_die("bench_tcp_afxdp: %s: no report (it died?)\n", who);
}

/* ---- the children ------------------------------------------------------- */

/* In r: accept, read g_bytes, report, drain to the peer's FIN (2 s at most),
 * again. Dies with its parent. */
static void receiver_main(int wfd)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        struct timeval tv = {.tv_sec = 2};
        uint8_t *buf = malloc(RBUF);
        int one = 1, lfd;
        struct report rep = {0};

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (buf == NULL || enter_ns(g_ns[NS_R]) != 0)
                _exit(2);
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0)
                _exit(3);
        if (write(wfd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep)) /* listening */
                _exit(4);
        for (;;) {
                int fd = accept(lfd, NULL, NULL);
                uint64_t u0;
                struct ck c = {0};
                ssize_t n = 0;

                if (fd < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(5);
                }
                u0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
                rep = (struct report){0};
                while (rep.bytes < g_bytes) {
                        uint64_t want = g_bytes - rep.bytes;

                        n = recv(fd, buf, want < RBUF ? (size_t)want : RBUF, 0);
                        if (n <= 0) {
                                if (n < 0 && errno == EINTR)
                                        continue;
                                break;
                        }
                        ck_add(&c, buf, (size_t)n);
                        rep.bytes += (uint64_t)n;
                }
                rep.a = c.a;
                rep.b = c.b;
                rep.cpu_ns = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - u0;
                if (write(wfd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
                        _exit(6);
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                while (n > 0 && recv(fd, buf, RBUF, 0) > 0)
                        ;
                close(fd);
        }
}

/* In l, for each command byte from the parent: 'c' connect and report;
 * 'g' send g_bytes, report, close. Forked once, before mpnet's pool and
 * link exist: a child forked later would make the parent's pages
 * copy-on-write, and mpnet's run would pay the faults. */
static void lsender_main(int wfd, int cfd)
{
        struct sockaddr_in sa = {
            .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(L_RCV)};
        int fd = -1;
        char c;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (enter_ns(g_ns[NS_L]) != 0)
                _exit(2);
        while (read(cfd, &c, 1) == 1) {
                struct report rep = {0};
                uint64_t u0;

                if (c == 'c') {
                        fd = socket(AF_INET, SOCK_STREAM, 0);
                        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                                _exit(3);
                } else if (c == 'g' && fd >= 0) {
                        u0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
                        while (rep.bytes < g_bytes) {
                                ssize_t n =
                                    send(fd, g_pat + rep.bytes % PAT_LEN, send_len(rep.bytes), 0);

                                if (n <= 0) {
                                        if (n < 0 && errno == EINTR)
                                                continue;
                                        _exit(5);
                                }
                                rep.bytes += (uint64_t)n;
                        }
                        rep.cpu_ns = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - u0;
                        close(fd);
                        fd = -1;
                } else {
                        _exit(4);
                }
                if (write(wfd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
                        _exit(6);
        }
        _exit(0);
}

/* ---- setup -------------------------------------------------------------- */

static void setup(void)
{
        const char *why = NULL;

        if (geteuid() != 0)
                skip("not root: needs CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW and CAP_SYS_ADMIN");
        if (sh("command -v ip") != 0)
                skip("the ip command (iproute2) is missing");
        if (sh("command -v ethtool") != 0)
                skip("ethtool is missing (the receiving veth's checksum offload must go off)");
        for (int i = 0; i < NS_N; i++) {
                snprintf(g_ns[i], sizeof(g_ns[i]), "mpnet-btx-%s-%d", ns_tag[i], (int)getpid());
                if (sh("ip netns add %s", g_ns[i]) != 0)
                        skip("cannot create a network namespace (ip netns add failed)");
                g_ns_made[i] = true;
                /* IPv6 off: no router solicitations or DAD on the wire. */
                sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                   "net.ipv6.conf.default.disable_ipv6=1",
                   g_ns[i]);
        }
        if (sh("ip -n %s link add lv type veth peer name rl netns %s", g_ns[NS_L], g_ns[NS_R]) ||
            sh("ip -n %s link add mv type veth peer name rm netns %s", g_ns[NS_M], g_ns[NS_R]))
                why = "cannot create veth pairs (ip link add ... type veth)";
        else if (sh("ip -n %s addr add 192.0.2.1/24 dev lv && ip -n %s link set lv up && "
                    "ip -n %s link set lo up",
                    g_ns[NS_L], g_ns[NS_L], g_ns[NS_L]) ||
                 sh("ip -n %s addr add 192.0.2.2/24 dev rl && ip -n %s link set rl up && "
                    "ip -n %s addr add 203.0.113.2/24 dev rm && ip -n %s link set rm up && "
                    "ip -n %s link set lo up",
                    g_ns[NS_R], g_ns[NS_R], g_ns[NS_R], g_ns[NS_R], g_ns[NS_R]) ||
                 sh("ip -n %s link set mv up", g_ns[NS_M]))
                why = "cannot configure the veth pairs";
        else if (sh("ip netns exec %s ethtool -K rm tx off", g_ns[NS_R]))
                why = "ethtool -K tx off failed on the receiving veth";
        if (why != NULL)
                skip(why);
        /* --gro: GRO on both receiving ends (the veth's NAPI path). */
        if (g_gro) {
                sh("ip netns exec %s ethtool -K rl gro on", g_ns[NS_R]);
                sh("ip netns exec %s ethtool -K rm gro on", g_ns[NS_R]);
        }
}

static void receiver_start(int *rfd)
{
        int p[2];
        struct report r;

        if (pipe2(p, O_CLOEXEC) != 0)
                bench_die("pipe: %s\n", strerror(errno));
        g_rcv = fork();
        if (g_rcv < 0)
                bench_die("fork: %s\n", strerror(errno));
        if (g_rcv == 0) {
                close(p[0]);
                receiver_main(p[1]);
        }
        close(p[1]);
        *rfd = p[0];
        read_report(*rfd, &r, "receiver");
}

/* ---- the runs ----------------------------------------------------------- */

static void run_finish(struct run *r, uint64_t t0, uint64_t t1, struct ticks b0, struct ticks b1,
                       const struct report *rr, const struct ck *want)
{
        double hz = (double)sysconf(_SC_CLK_TCK);

        r->gbps = (double)g_bytes * 8 / (double)(t1 - t0);
        r->cpu_s = (double)(b1.busy - b0.busy) / hz;
        r->sirq_s = (double)(b1.sirq - b0.sirq) / hz;
        if (r->cpu_s <= 0)
                r->cpu_s = 1 / hz; /* under one tick: say one */
        r->gbps_per_cpu = (double)g_bytes * 8 / 1e9 / r->cpu_s;
        r->cyc_byte = r->cpu_s * bench_tsc_hz() / (double)g_bytes;
        r->rcv_cpu_s = (double)rr->cpu_ns / 1e9;
        r->ok = rr->bytes == g_bytes && rr->a == want->a && rr->b == want->b;
        if (!r->ok)
                fprintf(stderr,
                        "bench_tcp_afxdp: integrity: %llu of %llu bytes, sums %llx %llx, "
                        "expected %llx %llx\n",
                        (unsigned long long)rr->bytes, (unsigned long long)g_bytes,
                        (unsigned long long)rr->a, (unsigned long long)rr->b,
                        (unsigned long long)want->a, (unsigned long long)want->b);
}

/* The CPU time of the flow's own tasks (sender and receiver: their run
 * time, softirqs run on their stack included, which over veth is nearly
 * all of the kernel's work: the sender's transmit runs the receiver's
 * softirq at its local_bh_enable, and the receiver's ACKs the sender's).
 * A loaded machine's other work does not count here; softirqs run on top
 * of other tasks or in ksoftirqd are missed (the machine's irq and softirq
 * ticks are given beside it as the bound: with tick-based accounting they
 * also count what ran on our tasks). */
static void own_cpu(struct run *r)
{
        r->own_cpu_s = r->snd_cpu_s + r->rcv_cpu_s;
        r->gbps_per_own_cpu = r->own_cpu_s > 0 ? (double)g_bytes * 8 / 1e9 / r->own_cpu_s : 0;
}

/* The Linux sender's pipes: its reports, our commands. */
static int g_snd_rep = -1, g_snd_cmd = -1;

static void lsender_start(void)
{
        int rep[2], cmd[2];

        if (pipe2(rep, O_CLOEXEC) != 0 || pipe2(cmd, O_CLOEXEC) != 0)
                bench_die("pipe: %s\n", strerror(errno));
        g_snd = fork();
        if (g_snd < 0)
                bench_die("fork: %s\n", strerror(errno));
        if (g_snd == 0) {
                close(rep[0]);
                close(cmd[1]);
                lsender_main(rep[1], cmd[0]);
        }
        close(rep[1]);
        close(cmd[0]);
        g_snd_rep = rep[0];
        g_snd_cmd = cmd[1];
}

static struct run run_linux(int rfd, const struct ck *want)
{
        struct report sr, rr;
        uint64_t t0, t1;
        struct ticks b0, b1;
        struct run r = {0};

        if (write(g_snd_cmd, "c", 1) != 1)
                bench_die("Linux sender: %s\n", strerror(errno));
        read_report(g_snd_rep, &sr, "Linux sender (connect)");
        b0 = busy_ticks();
        t0 = bench_now_ns();
        if (write(g_snd_cmd, "g", 1) != 1)
                bench_die("Linux sender: %s\n", strerror(errno));
        read_report(rfd, &rr, "receiver");
        t1 = bench_now_ns();
        b1 = busy_ticks();
        read_report(g_snd_rep, &sr, "Linux sender");
        run_finish(&r, t0, t1, b0, b1, &rr, want);
        r.snd_cpu_s = (double)sr.cpu_ns / 1e9;
        own_cpu(&r);
        return r;
}

struct mp {
        struct mpnet_clock ck;
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        struct mpnet_stack *s;
        bool native, zerocopy;
};

static void mp_open(struct mp *m)
{
        char err[256] = "";
        struct mpnet_afxdp_cfg c = {.ifname = "mv",
                                    .netns = g_ns[NS_M],
                                    .mode = g_generic ? MPNET_AFXDP_MODE_GENERIC
                                                      : MPNET_AFXDP_MODE_AUTO,
                                    .ring_size = (uint32_t)g_ring,
                                    .errbuf = err,
                                    .errbuf_len = sizeof(err)};
        struct mpnet_stack_cfg sc = {.name = "btx", .clock = &m->ck, .seed = 1};
        struct mpnet_afxdp_stats st;

        mpnet_clock_init_monotonic(&m->ck);
        m->pool = mpnet_pool_create("bench", 16384);
        if (m->pool == NULL)
                bench_die("pool\n");
        c.pool = m->pool;
        sc.pool = m->pool;
        m->l = mpnet_afxdp_create(&c);
        if (m->l == NULL) {
                static char why[320];

                snprintf(why, sizeof(why), "no AF_XDP link on the veth: %s",
                         err[0] != '\0' ? err : strerror(errno));
                mpnet_pool_destroy(m->pool);
                skip(why);
        }
        m->s = mpnet_stack_create(&sc);
        if (m->s == NULL || mpnet_iface_attach(m->s, m->l, "mv") != 1 ||
            mpnet_addr4_add(m->s, 1, M_SND, 24) != 0)
                bench_die("mpnet stack\n");
        if (mpnet_afxdp_get_stats(m->l, &st) != 0)
                bench_die("afxdp stats\n");
        m->native = st.native;
        m->zerocopy = st.zerocopy;
}

static void mp_close(struct mp *m)
{
        mpnet_stack_destroy(m->s);
        mpnet_link_destroy(m->l);
        mpnet_pool_destroy(m->pool);
}

/* Poll the stack, then wait on the XDP socket and fd (the receiver's
 * report) until the next timer (5 ms at most), or only look at fd with
 * --busy. @return whether fd is readable. */
static bool mp_step(struct mp *m, int fd, bool may_wait)
{
        uint64_t now = mpnet_clock_now(&m->ck), next = mpnet_stack_poll(m->s, now);
        struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}};
        unsigned npf = 1;
        int64_t wait_ms = 5;
        int lfd;

        if (g_busy || !may_wait) {
                wait_ms = 0;
        } else {
                lfd = mpnet_link_rx_wait_arm(m->l, 0);
                if (lfd == -EAGAIN)
                        wait_ms = 0;
                else if (lfd >= 0)
                        pf[npf++] = (struct pollfd){.fd = lfd, .events = POLLIN};
                else
                        wait_ms = 1;
                if (next != MPNET_TIME_NEVER && next > now &&
                    (int64_t)((next - now) / 1000000u) < wait_ms)
                        wait_ms = (int64_t)((next - now) / 1000000u);
                if (next != MPNET_TIME_NEVER && next <= now)
                        wait_ms = 0;
        }
        if (poll(pf, npf, (int)wait_ms) < 0 && errno != EINTR)
                bench_die("poll: %s\n", strerror(errno));
        return (pf[0].revents & POLLIN) != 0;
}

static struct run run_mpnet(struct mp *m, int rfd, const struct ck *want)
{
        struct sockaddr_in sa = {
            .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(M_RCV)};
        struct mpnet_tcp_info ti = {0};
        socklen_t tl = sizeof(ti);
        uint64_t sent = 0, t0, t1, u0, u1, deadline = bench_now_ns() + RUN_NS;
        struct ticks b0, b1;
        struct report rr;
        struct run r = {0};
        int fd, big = SNDBUF;
        bool done = false;

        fd = mpnet_socket(m->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
                bench_die("mpnet socket: %d\n", fd);
        mpnet_setsockopt(m->s, fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
        mpnet_connect(m->s, fd, (struct sockaddr *)&sa, sizeof(sa));
        while (ti.state != MPNET_TCP_ST_ESTABLISHED) {
                if (g_stop || bench_now_ns() > deadline)
                        bench_die("bench_tcp_afxdp: mpnet connect: %s\n",
                                  g_stop ? "interrupted" : "timed out");
                mp_step(m, rfd, true);
                tl = sizeof(ti);
                if (mpnet_getsockopt(m->s, fd, IPPROTO_TCP, MPNET_TCP_INFO, &ti, &tl) != 0)
                        bench_die("mpnet TCP_INFO\n");
                if (ti.state == MPNET_TCP_ST_CLOSED)
                        bench_die("bench_tcp_afxdp: mpnet connect refused or failed\n");
        }
        b0 = busy_ticks();
        t0 = bench_now_ns();
        u0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        while (!done) {
                bool full = false;

                while (sent < g_bytes) {
                        ssize_t n = mpnet_sendto(m->s, fd, g_pat_m + sent % PAT_LEN, send_len(sent),
                                                 0, NULL, 0);

                        if (n <= 0) {
                                if (n != -EAGAIN)
                                        bench_die("mpnet send: %zd\n", n);
                                full = true;
                                break;
                        }
                        sent += (uint64_t)n;
                }
                done = mp_step(m, rfd, full || sent == g_bytes);
                if (g_stop || bench_now_ns() > deadline)
                        bench_die("bench_tcp_afxdp: mpnet run: %s\n",
                                  g_stop ? "interrupted" : "timed out");
        }
        u1 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        t1 = bench_now_ns();
        b1 = busy_ticks();
        read_report(rfd, &rr, "receiver");
        run_finish(&r, t0, t1, b0, b1, &rr, want);
        r.snd_cpu_s = (double)(u1 - u0) / 1e9;
        own_cpu(&r);
        /* Close; let the FIN go out (the receiver drains to it). */
        mpnet_close(m->s, fd);
        for (int i = 0; i < 20; i++) {
                mpnet_stack_poll(m->s, mpnet_clock_now(&m->ck));
                usleep(1000);
        }
        return r;
}

/* ---- main --------------------------------------------------------------- */

static void json_runs(struct bench_json *j, const char *name, const struct run *rs, size_t n)
{
        double g[MAX_REPEAT], c[MAX_REPEAT], y[MAX_REPEAT], s[MAX_REPEAT], rc[MAX_REPEAT],
            cs[MAX_REPEAT], si[MAX_REPEAT], oc[MAX_REPEAT], og[MAX_REPEAT];
        char key[96];

        for (size_t i = 0; i < n; i++) {
                g[i] = rs[i].gbps;
                c[i] = rs[i].gbps_per_cpu;
                y[i] = rs[i].cyc_byte;
                s[i] = rs[i].snd_cpu_s;
                rc[i] = rs[i].rcv_cpu_s;
                cs[i] = rs[i].cpu_s;
                si[i] = rs[i].sirq_s;
                oc[i] = rs[i].own_cpu_s;
                og[i] = rs[i].gbps_per_own_cpu;
        }
        snprintf(key, sizeof(key), "%s_gbps", name);
        bench_json_stat(j, key, g, n);
        snprintf(key, sizeof(key), "%s_gbps_per_cpu", name);
        bench_json_stat(j, key, c, n);
        snprintf(key, sizeof(key), "%s_cycles_per_byte", name);
        bench_json_stat(j, key, y, n);
        snprintf(key, sizeof(key), "%s_machine_cpu_s", name);
        bench_json_stat(j, key, cs, n);
        snprintf(key, sizeof(key), "%s_sender_cpu_s", name);
        bench_json_stat(j, key, s, n);
        snprintf(key, sizeof(key), "%s_receiver_cpu_s", name);
        bench_json_stat(j, key, rc, n);
        snprintf(key, sizeof(key), "%s_softirq_cpu_s", name);
        bench_json_stat(j, key, si, n);
        snprintf(key, sizeof(key), "%s_own_cpu_s", name);
        bench_json_stat(j, key, oc, n);
        snprintf(key, sizeof(key), "%s_gbps_per_own_cpu", name);
        bench_json_stat(j, key, og, n);
        for (size_t i = 0; i < n; i++)
                og[i] = rs[i].own_cpu_s * bench_tsc_hz() / (double)g_bytes;
        snprintf(key, sizeof(key), "%s_own_cycles_per_byte", name);
        bench_json_stat(j, key, og, n);
}

int main(int argc, char **argv)
{
        uint64_t mbytes = 256, repeat = 5, chunk = 1 << 20;
        const struct bench_opt opts[] = {
            {"mbytes", BENCH_OPT_U64, &mbytes, 1, 1 << 16, "MB carried per run"},
            {"repeat", BENCH_OPT_U64, &repeat, 1, MAX_REPEAT, "runs of each sender"},
            {"chunk", BENCH_OPT_U64, &chunk, 1, PAT_LEN, "bytes per send() call"},
            {"generic", BENCH_OPT_FLAG, &g_generic, 0, 0,
             "generic XDP (on the skb) on mpnet's veth end (default: native, else generic)"},
            {"ring", BENCH_OPT_U64, &g_ring, 64, 16384,
             "entries of each AF_XDP ring (a power of two; the UMEM has twice as many frames)"},
            {"busy", BENCH_OPT_FLAG, &g_busy, 0, 0,
             "mpnet spins instead of waiting in poll() on the XDP socket"},
            {"gro", BENCH_OPT_FLAG, &g_gro, 0, 0,
             "GRO on the receiving veth ends (default: off, as veth has it)"},
            {"flip", BENCH_OPT_FLAG, &g_flip, 0, 0,
             "mpnet sends one byte changed: the receiver's check must fail (a test of it)"},
        };
        static struct run lr[MAX_REPEAT], mr[MAX_REPEAT];
        double ratio[MAX_REPEAT], cratio[MAX_REPEAT], oratio[MAX_REPEAT], load0, load1;
        struct sigaction sa = {.sa_handler = on_signal};
        struct bench_json j;
        struct mp m;
        struct ck want;
        struct mpnet_afxdp_stats st;
        struct mpnet_link_stats st_l;
        uint64_t rng = 0x9e3779b97f4a7c15ull, segs0, segs;
        bool ok = true;
        int rfd;

        bench_parse_args(argc, argv,
                         "one bulk TCP flow into Linux over veth: from Linux, and from "
                         "mpnet over AF_XDP",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if ((g_ring & (g_ring - 1)) != 0)
                bench_die("bench_tcp_afxdp: --ring %llu: not a power of two\n",
                          (unsigned long long)g_ring);
        g_bytes = mbytes << 20;
        g_chunk = chunk;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        atexit(cleanup);
        g_pat = malloc(PAT_LEN);
        if (g_pat == NULL)
                bench_die("out of memory\n");
        for (size_t i = 0; i < PAT_LEN; i += 8) { /* xorshift64 */
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                memcpy(g_pat + i, &rng, 8);
        }
        want = ck_expected(g_bytes);
        g_pat_m = g_pat;
        if (g_flip) {
                g_pat_m = malloc(PAT_LEN);
                if (g_pat_m == NULL)
                        bench_die("out of memory\n");
                memcpy(g_pat_m, g_pat, PAT_LEN);
                g_pat_m[PAT_LEN / 2 + 3] ^= 0x40;
        }
        bench_tsc_hz();
        setup();
        mpnet_thread_set_slot(0);
        receiver_start(&rfd); /* both before mpnet's memory: see lsender_main() */
        lsender_start();
        mp_open(&m);
        load0 = loadavg1();
        segs0 = bench_ctr(m.s, "tcp_data_out");
        for (uint64_t i = 0; i < repeat; i++) {
                lr[i] = run_linux(rfd, &want);
                mr[i] = run_mpnet(&m, rfd, &want);
                ok = ok && lr[i].ok && mr[i].ok;
                ratio[i] = mr[i].gbps / lr[i].gbps;
                cratio[i] = mr[i].gbps_per_cpu / lr[i].gbps_per_cpu;
                oratio[i] = mr[i].gbps_per_own_cpu / lr[i].gbps_per_own_cpu;
                fprintf(stderr,
                        "run %llu: Linux %.2f Gbit/s, %.2f per CPU s; mpnet %.2f Gbit/s, "
                        "%.2f per CPU s (own %.2f, %.2f)\n",
                        (unsigned long long)i, lr[i].gbps, lr[i].gbps_per_cpu, mr[i].gbps,
                        mr[i].gbps_per_cpu, lr[i].gbps_per_own_cpu, mr[i].gbps_per_own_cpu);
        }
        load1 = loadavg1();
        segs = bench_ctr(m.s, "tcp_data_out") - segs0;
        mpnet_afxdp_get_stats(m.l, &st);
        mpnet_link_get_stats(m.l, &st_l);

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_afxdp");
        bench_json_machine(&j);
        bench_json_num(&j, "loadavg_before", load0);
        bench_json_num(&j, "loadavg_after", load1);
        bench_json_u64(&j, "bytes", g_bytes);
        bench_json_u64(&j, "chunk", g_chunk);
        bench_json_u64(&j, "repeat", repeat);
        bench_json_u64(&j, "afxdp_ring", g_ring);
        bench_json_str(&j, "xdp_mode", m.native ? "native" : "generic");
        bench_json_str(&j, "xdp_bind", m.zerocopy ? "zerocopy" : "copy");
        bench_json_bool(&j, "mpnet_busy_poll", g_busy);
        bench_json_bool(&j, "receiver_gro", g_gro);
        bench_json_bool(&j, "integrity_ok", ok);
        json_runs(&j, "linux", lr, repeat);
        json_runs(&j, "mpnet", mr, repeat);
        bench_json_stat(&j, "ratio_gbps", ratio, repeat);
        bench_json_stat(&j, "ratio_per_cpu", cratio, repeat);
        bench_json_stat(&j, "ratio_per_own_cpu", oratio, repeat);
        bench_json_u64(&j, "mpnet_data_segments", segs);
        bench_json_u64(&j, "mpnet_tcp_rtx", bench_ctr(m.s, "tcp_rtx"));
        bench_json_u64(&j, "afxdp_tx_kicks", st.tx_kicks);
        bench_json_u64(&j, "afxdp_rx_kicks", st.rx_kicks);
        bench_json_u64(&j, "afxdp_tx_ring_full", st.tx_ring_full);
        bench_json_u64(&j, "afxdp_rx_dropped", st.rx_dropped);
        bench_json_u64(&j, "afxdp_rx_ring_full", st.rx_ring_full);
        bench_json_u64(&j, "afxdp_fill_ring_empty", st.fill_ring_empty);
        bench_json_u64(&j, "afxdp_rx_nobufs", st.rx_nobufs);
        bench_json_u64(&j, "link_rx_packets", st_l.rx_pkts);
        bench_json_u64(&j, "afxdp_tx_budget", st.tx_budget);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < repeat; i++) {
                bench_json_obj_begin(&j, NULL);
                bench_json_num(&j, "linux_gbps", lr[i].gbps);
                bench_json_num(&j, "linux_gbps_per_cpu", lr[i].gbps_per_cpu);
                bench_json_num(&j, "linux_cycles_per_byte", lr[i].cyc_byte);
                bench_json_num(&j, "mpnet_gbps", mr[i].gbps);
                bench_json_num(&j, "mpnet_gbps_per_cpu", mr[i].gbps_per_cpu);
                bench_json_num(&j, "mpnet_cycles_per_byte", mr[i].cyc_byte);
                bench_json_num(&j, "linux_gbps_per_own_cpu", lr[i].gbps_per_own_cpu);
                bench_json_num(&j, "mpnet_gbps_per_own_cpu", mr[i].gbps_per_own_cpu);
                bench_json_bool(&j, "linux_ok", lr[i].ok);
                bench_json_bool(&j, "mpnet_ok", mr[i].ok);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        bench_json_obj_end(&j);
        fflush(stdout);
        close(rfd);
        mp_close(&m); /* in its namespace: before cleanup() removes it */
        cleanup();
        return ok ? 0 : 1;
}
