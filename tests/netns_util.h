/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers for the tests that use the Linux kernel as a peer: privilege checks
 * (a test skips with a clear message without them), network namespaces named
 * after the test and its pid, shell commands, a loop that polls a stack on
 * the monotonic clock while a kernel command runs, hand-made frames, and a
 * tcpdump capture in the kernel's namespace checked by tshark.
 *
 * Every namespace a test makes is named PREFIX-PID; a namespace of that
 * prefix whose pid is no longer alive is a leftover of a crashed run and is
 * removed before the test starts. Namespaces of live processes (another run
 * of the same test) are never touched.
 */
#ifndef MPNET_NETNS_UTIL_H
#define MPNET_NETNS_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h> /* setns: the including file defines _GNU_SOURCE first */
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "testutil.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define KT_CAP_NET_ADMIN 12
#define KT_CAP_NET_RAW   13
#define KT_CAP_SYS_ADMIN 21

static inline bool kt_verbose(void)
{
        const char *v = getenv("MPNET_TEST_VERBOSE");

        return v != NULL && *v != '\0' && *v != '0';
}

/* Run a shell command; its output is shown only with MPNET_TEST_VERBOSE.
 * @return its exit status, or -1. */
static inline int __attribute__((format(printf, 1, 2))) kt_sh(const char *fmt, ...)
{
        char cmd[2048];
        va_list ap;
        int rc;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (kt_verbose())
                fprintf(stderr, "+ %s\n", cmd);
        else
                strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
        rc = system(cmd);
        return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* Run a command and keep the first line of its output in out. */
static inline int __attribute__((format(printf, 3, 4)))
kt_sh_out(char *out, size_t n, const char *fmt, ...)
{
        char cmd[2048];
        va_list ap;
        FILE *f;
        int rc;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        out[0] = '\0';
        f = popen(cmd, "r");
        if (f == NULL)
                return -1;
        if (fgets(out, (int)n, f) == NULL)
                out[0] = '\0';
        out[strcspn(out, "\n")] = '\0';
        while (getc(f) != EOF)
                ;
        rc = pclose(f);
        return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static inline bool kt_have_cap(int cap)
{
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        unsigned long long eff = 0;

        if (f == NULL)
                return false;
        while (fgets(line, sizeof(line), f) != NULL)
                if (sscanf(line, "CapEff: %llx", &eff) == 1)
                        break;
        fclose(f);
        return (eff >> cap) & 1;
}

/* @return NULL when the kernel tests can run, else why not. */
static inline const char *kt_skip_reason(bool need_tun)
{
        if (geteuid() != 0)
                return "not root: the kernel interop tests need root (network namespaces)";
        if (!kt_have_cap(KT_CAP_NET_ADMIN))
                return "no CAP_NET_ADMIN";
        if (!kt_have_cap(KT_CAP_SYS_ADMIN))
                return "no CAP_SYS_ADMIN (needed to enter network namespaces)";
        if (!kt_have_cap(KT_CAP_NET_RAW))
                return "no CAP_NET_RAW";
        if (need_tun && access("/dev/net/tun", R_OK | W_OK) != 0)
                return "no /dev/net/tun";
        if (kt_sh("command -v ip") != 0)
                return "the ip command (iproute2) is missing";
        if (kt_sh("command -v ping") != 0)
                return "the ping command is missing";
        return NULL;
}

/* @return NULL when this kernel has AF_XDP sockets, else why not (a kernel
 * built without CONFIG_XDP_SOCKETS: the AF_XDP tests skip). */
static inline const char *kt_af_xdp_missing(void)
{
        int fd = socket(44 /* AF_XDP */, SOCK_RAW | SOCK_CLOEXEC, 0);

        if (fd >= 0) {
                close(fd);
                return NULL;
        }
        return errno == EAFNOSUPPORT ? "this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)"
                                     : NULL;
}

/* Remove PREFIX-PID namespaces whose process is gone. */
static inline void kt_ns_del_stale(const char *prefix)
{
        DIR *d = opendir("/var/run/netns");
        struct dirent *e;
        size_t n = strlen(prefix);

        if (d == NULL)
                return;
        while ((e = readdir(d)) != NULL) {
                char *end;
                long pid;

                if (strncmp(e->d_name, prefix, n) != 0 || e->d_name[n] != '-')
                        continue;
                pid = strtol(e->d_name + n + 1, &end, 10);
                if (*end != '\0' || pid <= 0)
                        continue;
                if (pid == getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
                        fprintf(stderr, "removing stale namespace %s\n", e->d_name);
                        kt_sh("ip netns del %s", e->d_name);
                }
        }
        closedir(d);
}

/* Make a namespace PREFIX-PID (removing stale ones first), with lo up and
 * no IPv6 (fewer frames to reason about). @return 0 or -1. */
static inline int kt_ns_add(char *name, size_t n, const char *prefix)
{
        snprintf(name, n, "%s-%d", prefix, (int)getpid());
        kt_ns_del_stale(prefix);
        if (kt_sh("ip netns add %s", name) != 0)
                return -1;
        kt_sh("ip -n %s link set lo up", name);
        kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
              "net.ipv6.conf.default.disable_ipv6=1",
              name);
        return 0;
}

static inline void kt_ns_del(const char *name)
{
        if (name[0] != '\0')
                kt_sh("ip netns del %s", name);
}

/* The MAC address of a kernel interface. @return 0 or -1. */
static inline int kt_if_mac(const char *ns, const char *ifname, uint8_t mac[6])
{
        char out[256];
        unsigned m[6];

        if (kt_sh_out(out, sizeof(out), "ip -n %s -br link show dev %s | awk '{print $3}'", ns,
                      ifname) != 0 ||
            sscanf(out, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
                return -1;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)m[i];
        return 0;
}

static inline void kt_mac_str(const uint8_t *m, char *s)
{
        sprintf(s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---- polling a stack while the kernel acts --------------------------------- */

struct kt_net {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_stack *st;
        struct mpnet_link *link;
        int ifindex;
        int fd; /* the link's queue 0 descriptor, to sleep on */
};

static inline void kt_net_init(struct kt_net *k, struct mpnet_link *link, int fd, uint32_t addr,
                               uint8_t plen, struct mpnet_pool *pool)
{
        struct mpnet_stack_cfg sc = {0};

        memset(k, 0, sizeof(*k));
        mpnet_clock_init_monotonic(&k->clk);
        k->pool = pool;
        k->link = link;
        k->fd = fd;
        sc.name = "mpnet";
        sc.clock = &k->clk;
        sc.pool = pool;
        sc.seed = (uint64_t)getpid();
        k->st = mpnet_stack_create(&sc);
        assert_non_null(k->st);
        k->ifindex = mpnet_iface_attach(k->st, link, "eth0");
        assert_true(k->ifindex > 0);
        assert_int_equal(mpnet_addr4_add(k->st, k->ifindex, addr, plen), 0);
}

/* Poll the stack once and sleep on the link (and fd2 when >= 0) until the
 * next timer, at most max_ms. @return true when fd2 became readable. */
static inline bool kt_poll_once(struct kt_net *k, int fd2, int max_ms)
{
        uint64_t now = mpnet_clock_now(&k->clk);
        uint64_t next = mpnet_stack_poll(k->st, now);
        struct pollfd pf[2] = {{.fd = k->fd, .events = POLLIN}, {.fd = fd2, .events = POLLIN}};
        int ms = max_ms;

        if (next <= now)
                return false;
        if (next != MPNET_TIME_NEVER && (next - now) / MPNET_NS_PER_MS < (uint64_t)ms)
                ms = (int)((next - now) / MPNET_NS_PER_MS);
        if (poll(pf, fd2 >= 0 ? 2 : 1, ms) < 0)
                return false;
        return fd2 >= 0 && (pf[1].revents & (POLLIN | POLLHUP));
}

static inline void kt_run_for(struct kt_net *k, uint64_t ns)
{
        uint64_t end = mpnet_monotonic_ns() + ns;

        while (mpnet_monotonic_ns() < end)
                kt_poll_once(k, -1, 2);
}

/*
 * Run a shell command (bounded by timeout(1)) while polling the stack, so
 * the kernel and mpnet talk while it runs. @return its exit status.
 */
static inline int __attribute__((format(printf, 2, 3)))
kt_run_cmd(struct kt_net *k, const char *fmt, ...)
{
        char cmd[2048], buf[512];
        va_list ap;
        FILE *f;
        int fd, rc;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
        if (kt_verbose())
                fprintf(stderr, "+ %s\n", cmd);
        f = popen(cmd, "r");
        assert_non_null(f);
        fd = fileno(f);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        for (;;) {
                ssize_t r;

                kt_poll_once(k, fd, 5);
                r = read(fd, buf, sizeof(buf) - 1);
                if (r == 0)
                        break;
                if (r > 0 && kt_verbose()) {
                        buf[r] = '\0';
                        fputs(buf, stderr);
                }
        }
        rc = pclose(f);
        return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* mpnet pings dst count times, one at a time, waiting up to ms for each.
 * @return how many replies came back. */
static inline unsigned kt_mpnet_ping_wait(struct kt_net *k, uint32_t dst, uint16_t count,
                                          unsigned ms)
{
        unsigned ok = 0;

        for (uint16_t seq = 1; seq <= count; seq++) {
                uint64_t end = mpnet_monotonic_ns() + ms * MPNET_NS_PER_MS;
                bool got = false;

                if (mpnet_ping4_send(k->st, dst, 0x6b74, seq, 56, mpnet_clock_now(&k->clk)) != 0)
                        continue;
                while (!got && mpnet_monotonic_ns() < end) {
                        struct mpnet_ping_reply r[4];
                        unsigned n;

                        kt_poll_once(k, -1, 2);
                        n = mpnet_ping4_recv(k->st, r, 4);
                        for (unsigned i = 0; i < n; i++)
                                got |= r[i].type == 0 && r[i].from == dst && r[i].seq == seq;
                }
                ok += got;
        }
        return ok;
}

static inline unsigned kt_mpnet_ping(struct kt_net *k, uint32_t dst, uint16_t count)
{
        return kt_mpnet_ping_wait(k, dst, count, 2000);
}

static inline void kt_net_fini(struct kt_net *k)
{
        mpnet_stack_destroy(k->st);
        mpnet_link_destroy(k->link);
        mpnet_pool_flush_cache(k->pool);
        assert_int_equal(mpnet_pool_in_use(k->pool), 0);
        mpnet_pool_destroy(k->pool);
}

/* Receive from every queue of a raw link (no stack) for up to ms, handing
 * each frame to fn, until fn has returned true want times. @return that
 * count. */
static inline unsigned kt_rx_until(struct mpnet_link *l, unsigned ms, unsigned want,
                                   bool (*fn)(struct mpnet_pkt *p, uint16_t q, void *arg),
                                   void *arg)
{
        uint64_t end = mpnet_monotonic_ns() + ms * MPNET_NS_PER_MS;
        unsigned hits = 0;

        while (hits < want && mpnet_monotonic_ns() < end) {
                bool any = false;

                for (uint16_t q = 0; q < l->info.n_rxq; q++) {
                        struct mpnet_pkt *v[32];
                        uint16_t n = mpnet_link_rx_burst(l, q, v, 32);

                        for (uint16_t i = 0; i < n; i++) {
                                hits += fn(v[i], q, arg);
                                mpnet_pkt_free(v[i]);
                        }
                        any |= n > 0;
                }
                if (!any)
                        usleep(1000);
        }
        return hits;
}

/*
 * Run a shell command (bound it with timeout(1)) and receive from every
 * queue of a raw link while it runs, as a poller would, handing each frame
 * to fn; go on after it ends until fn has returned true want times or ms
 * more have passed. @return that count.
 */
static inline unsigned __attribute__((format(printf, 6, 7)))
kt_rx_cmd(struct mpnet_link *l, unsigned ms, unsigned want,
          bool (*fn)(struct mpnet_pkt *p, uint16_t q, void *arg), void *arg, const char *fmt, ...)
{
        uint64_t end = mpnet_monotonic_ns() + ms * MPNET_NS_PER_MS;
        char cmd[2048], buf[256];
        unsigned hits = 0;
        bool done = false;
        va_list ap;
        FILE *f;
        int fd;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
        if (kt_verbose())
                fprintf(stderr, "+ %s\n", cmd);
        f = popen(cmd, "r");
        assert_non_null(f);
        fd = fileno(f);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        while (!done || (hits < want && mpnet_monotonic_ns() < end)) {
                if (!done)
                        end = mpnet_monotonic_ns() + ms * MPNET_NS_PER_MS;
                bool any = false;

                for (uint16_t q = 0; q < l->info.n_rxq; q++) {
                        struct mpnet_pkt *v[32];
                        uint16_t n = mpnet_link_rx_burst(l, q, v, 32);

                        for (uint16_t i = 0; i < n; i++) {
                                hits += fn(v[i], q, arg);
                                mpnet_pkt_free(v[i]);
                        }
                        any |= n > 0;
                }
                while (!done) {
                        ssize_t r = read(fd, buf, sizeof(buf) - 1);

                        if (r <= 0) {
                                done = r == 0;
                                break;
                        }
                        if (kt_verbose()) {
                                buf[r] = '\0';
                                fputs(buf, stderr);
                        }
                }
                if (!any)
                        usleep(500);
        }
        pclose(f);
        return hits;
}

/* ---- hand-made frames ------------------------------------------------------- */

/* Ethernet + IPv4 + UDP with len bytes of payload; the IPv4 checksum is left
 * to the link (MPNET_PKT_F_L3_CSUM_TX) and the UDP checksum field holds the
 * pseudo-header sum with MPNET_PKT_F_L4_CSUM_TX (a link must finish it), or
 * the full checksum without. */
static inline struct mpnet_pkt *kt_udp_frame(struct mpnet_pool *pool, const uint8_t *dmac,
                                             const uint8_t *smac, uint32_t src, uint32_t dst,
                                             uint16_t dport, uint32_t len, bool offload)
{
        struct mpnet_pkt *p = mpnet_pkt_alloc(pool);
        uint8_t *b, *ip, *udp;
        uint32_t ulen = 8 + len;
        uint64_t ph;

        assert_non_null(p);
        b = mpnet_pkt_append(p, 14 + 20 + ulen);
        assert_non_null(b);
        memcpy(b, dmac, 6);
        memcpy(b + 6, smac, 6);
        mpnet_put_be16(b + 12, 0x0800);
        ip = b + 14;
        memset(ip, 0, 20);
        ip[0] = 0x45;
        mpnet_put_be16(ip + 2, (uint16_t)(20 + ulen));
        mpnet_put_be16(ip + 4, 0x1234);
        ip[8] = 64;
        ip[9] = 17;
        mpnet_put_be32(ip + 12, src);
        mpnet_put_be32(ip + 16, dst);
        udp = ip + 20;
        mpnet_put_be16(udp, 40000);
        mpnet_put_be16(udp + 2, dport);
        mpnet_put_be16(udp + 4, (uint16_t)ulen);
        udp[6] = udp[7] = 0;
        for (uint32_t i = 0; i < len; i++)
                udp[8 + i] = (uint8_t)(i * 7 + 1);
        ph = mpnet_csum_add(0, ip + 12, 8) + 17 + ulen;
        if (offload) {
                /* The pseudo-header sum, not complemented (RFC 1071 folding). */
                mpnet_put_be16(udp + 6, (uint16_t)~mpnet_csum_fold(ph));
                p->ol_flags |= MPNET_PKT_F_L3_CSUM_TX | MPNET_PKT_F_L4_CSUM_TX;
        } else {
                mpnet_put_be16(ip + 10, mpnet_csum(ip, 20));
                mpnet_put_be16(udp + 6, mpnet_csum_fold(mpnet_csum_add(ph, udp, ulen)));
        }
        return p;
}

struct kt_udp_seen {
        uint32_t net; /* destination network, /24 */
        uint16_t dport;
        unsigned per_q[2];
};

static inline bool kt_is_udp_to(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        struct kt_udp_seen *u = arg;
        const uint8_t *b = p->data;

        if (p->len < 42 || mpnet_get_be16(b + 12) != 0x0800 || b[23] != 17 ||
            (mpnet_get_be32(b + 30) & 0xffffff00) != u->net || mpnet_get_be16(b + 36) != u->dport)
                return false;
        u->per_q[q & 1]++;
        return true;
}

static inline bool kt_is_arp_reply(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        (void)q;
        (void)arg;
        return p->len >= 42 && mpnet_get_be16(p->data + 12) == 0x0806 &&
               mpnet_get_be16(p->data + 20) == 2;
}

/* An ARP request (RFC 826) from smac/spa for tpa. */
static inline struct mpnet_pkt *kt_arp_request(struct mpnet_pool *pool, const uint8_t *smac,
                                               uint32_t spa, uint32_t tpa)
{
        struct mpnet_pkt *p = mpnet_pkt_alloc(pool);
        uint8_t *b;

        assert_non_null(p);
        b = mpnet_pkt_append(p, 42);
        if (b == NULL)
                abort(); /* tells the compiler too */
        memset(b, 0xff, 6);
        memcpy(b + 6, smac, 6);
        mpnet_put_be16(b + 12, 0x0806);
        mpnet_put_be16(b + 14, 1);
        mpnet_put_be16(b + 16, 0x0800);
        b[18] = 6;
        b[19] = 4;
        mpnet_put_be16(b + 20, 1);
        memcpy(b + 22, smac, 6);
        mpnet_put_be32(b + 28, spa);
        memset(b + 32, 0, 6);
        mpnet_put_be32(b + 38, tpa);
        return p;
}

static inline void kt_send1(struct mpnet_link *l, uint16_t q, struct mpnet_pkt *p)
{
        assert_int_equal(mpnet_link_tx_burst(l, q, &p, 1), 1);
}

struct kt_csum_seen {
        uint32_t flags;
        bool csum_ok;
        bool partial_at_l4;
};

/* A UDP datagram from the kernel: finish a partial checksum as a link would
 * and check it against the full pseudo-header sum (RFC 768). */
static inline bool kt_udp_csum_check(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        struct kt_csum_seen *c = arg;
        uint8_t *b = p->data, *ip = b + 14, *udp = ip + 20;
        uint32_t ulen;
        uint64_t ph;

        (void)q;
        if (p->len < 42 || mpnet_get_be16(b + 12) != 0x0800 || ip[9] != 17 ||
            mpnet_get_be16(udp + 2) != 9)
                return false;
        ulen = mpnet_get_be16(udp + 4);
        c->flags = p->ol_flags;
        if (p->ol_flags & MPNET_PKT_F_L4_CSUM_TX) {
                c->partial_at_l4 = p->l4_off == mpnet_pkt_headroom(p) + 34;
                mpnet_put_be16(udp + 6, mpnet_csum(udp, ulen));
        }
        ph = mpnet_csum_add(0, ip + 12, 8) + 17 + ulen;
        c->csum_ok = mpnet_csum_fold(mpnet_csum_add(ph, udp, ulen)) == 0;
        return true;
}

/* One of the kernel's SNMP counters in a namespace ("Udp" "NoPorts"). */
static inline long kt_snmp(const char *ns, const char *group, const char *field)
{
        char out[64];

        if (kt_sh_out(out, sizeof(out),
                      "ip netns exec %s awk '$1==\"%s:\" {if (!h) {for (i=2;i<=NF;i++) "
                      "if ($i==\"%s\") c=i; h=1} else print $c}' /proc/net/snmp",
                      ns, group, field) != 0 ||
            out[0] == '\0')
                return -1;
        return strtol(out, NULL, 10);
}

/* Wait until a kernel SNMP counter reaches want (at most 3 s: under load
 * the kernel may take its softirq late). @return the last value read. */
static inline long kt_snmp_wait(const char *ns, const char *group, const char *field, long want)
{
        uint64_t end = mpnet_monotonic_ns() + 3 * MPNET_NS_PER_S;
        long v;

        while ((v = kt_snmp(ns, group, field)) < want && mpnet_monotonic_ns() < end)
                usleep(20000);
        return v;
}

/* ---- capture in the kernel's namespace ------------------------------------------ */

struct kt_capture {
        pid_t pid;
        char file[512];
};

static inline bool kt_tool(const char *name)
{
        return kt_sh("command -v %s", name) == 0;
}

/* Start tcpdump on ifname in ns, writing to file; wait until it listens.
 * @return 0, or -1 (tcpdump missing or not started: the check is skipped). */
static inline int kt_capture_start(struct kt_capture *c, const char *ns, const char *ifname,
                                   const char *file)
{
        char log[600], line[256];
        uint64_t end;

        c->pid = -1;
        snprintf(c->file, sizeof(c->file), "%s", file);
        if (!kt_tool("tcpdump"))
                return -1;
        snprintf(log, sizeof(log), "%s.log", file);
        unlink(file);
        unlink(log); /* a stale "listening on" would end the wait at once */
        c->pid = fork();
        if (c->pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                execlp("ip", "ip", "netns", "exec", ns, "tcpdump", "-n", "-U", "--immediate-mode",
                       "-i", ifname, "-w", file, (char *)NULL);
                _exit(127);
        }
        if (c->pid < 0)
                return -1;
        /* tcpdump says "listening on" once its socket is attached. */
        end = mpnet_monotonic_ns() + 5 * MPNET_NS_PER_S;
        while (mpnet_monotonic_ns() < end) {
                FILE *f = fopen(log, "r");
                bool ready = false;

                while (f != NULL && fgets(line, sizeof(line), f) != NULL)
                        ready |= strstr(line, "listening on") != NULL;
                if (f != NULL)
                        fclose(f);
                if (ready)
                        return 0;
                usleep(20000);
        }
        kill(c->pid, SIGTERM);
        waitpid(c->pid, NULL, 0);
        c->pid = -1;
        return -1;
}

static inline void kt_capture_stop(struct kt_capture *c)
{
        if (c->pid <= 0)
                return;
        usleep(200000); /* the last frames reach the file (-U flushes per packet) */
        kill(c->pid, SIGTERM);
        waitpid(c->pid, NULL, 0);
        c->pid = -1;
}

/*
 * Per-type frame counts of a capture and the frames tshark finds malformed
 * (an expert item of severity error) or with a bad IPv4, ICMP, ICMPv6, UDP or
 * TCP checksum, in one tshark pass (each pass costs seconds). The ICMPv6
 * counts go by the first ICMPv6 header of a frame (an error's quoted packet
 * does not count).
 */
struct kt_frames {
        long total, icmp_req, icmp_rep, arp_req, arp_rep, bad;
        long icmp6_req, icmp6_rep, nd_rs, nd_ra, nd_ns, nd_na; /* RFC 4443, RFC 4861 */
};

/* Whether any '/'-separated value of a field makes the frame bad. */
static inline bool kt_field_bad(const char *v, bool severity)
{
        while (*v != '\0' && *v != ',' && *v != '\n') {
                long x = strtol(v, NULL, 0);

                /* Severity error is 0x00800000; checksum status 0 is "Bad". */
                if (severity ? x >= 0x00800000 : x == 0)
                        return true;
                v += strcspn(v, "/,\n");
                if (*v == '/')
                        v++;
        }
        return false;
}

/* " -z 'io,stat,0,F1,F2...'": tshark's count of the frames matching each
 * filter over the whole file, a table after the frames. A filter must not
 * hold a comma (io,stat's separator) nor a quote. */
static inline void kt_tshark_iostat_arg(char *buf, size_t size, const char *const *filters,
                                        size_t n)
{
        size_t k;

        buf[0] = '\0';
        if (n == 0)
                return;
        k = (size_t)snprintf(buf, size, " -z 'io,stat,0");
        for (size_t i = 0; i < n; i++) {
                assert_null(strchr(filters[i], ','));
                assert_null(strchr(filters[i], '\''));
                k += (size_t)snprintf(buf + k, size - k, ",%s", filters[i]);
                assert_true(k < size);
        }
        k += (size_t)snprintf(buf + k, size - k, "'");
        assert_true(k < size);
}

/* io,stat's one data row, "| 0.0 <> 1.2 | F1 | B1 | F2 | B2 |": the frame
 * count of each filter into out. @return true when line is that row. */
static inline bool kt_tshark_iostat_row(const char *line, size_t n, long *out)
{
        const char *p = strstr(line, "<>");

        if (p == NULL || n == 0)
                return false;
        p = strchr(p, '|');
        for (size_t i = 0; i < n; i++) {
                char *end;

                if (p == NULL)
                        return false;
                out[i] = strtol(p + 1, &end, 10);
                if (end == p + 1)
                        return false;
                p = strchr(end, '|');           /* before the bytes */
                p = p ? strchr(p + 1, '|') : p; /* before the next count */
        }
        return true;
}

/* kt_tshark_frames(), and in the same tshark pass (each pass costs seconds
 * on a busy machine) how many frames match each of n display filters, into
 * out[]; the test fails when tshark fails or that count is not read (a bad
 * filter). */
static inline struct kt_frames kt_tshark_frames_n(const char *file, const char *const *filters,
                                                  size_t n, long *out)
{
        struct kt_frames c = {0};
        char cmd[3072], zarg[2048], line[2048];
        bool row = n == 0, table = false;
        FILE *f;

        kt_tshark_iostat_arg(zarg, sizeof(zarg), filters, n);
        snprintf(cmd, sizeof(cmd),
                 "tshark -n -r '%s' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
                 "-o tcp.check_checksum:TRUE -T fields -E separator=, -E occurrence=a "
                 "-E aggregator=/ -e icmp.type -e arp.opcode -e _ws.expert.severity "
                 "-e ip.checksum.status -e icmp.checksum.status -e udp.checksum.status "
                 "-e tcp.checksum.status -e icmpv6.type -e icmpv6.checksum.status%s 2>/dev/null",
                 file, zarg);
        f = popen(cmd, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                const char *fld[9];
                char *p = line;
                bool bad = false;
                long t6;

                /* io,stat's table follows the frames after an empty line
                 * (a frame's line holds at least the separators). */
                table |= n > 0 && (line[0] == '\n' || line[0] == '=' || line[0] == '|');
                if (table) {
                        row |= kt_tshark_iostat_row(line, n, out);
                        continue;
                }
                for (int i = 0; i < 9; i++) {
                        fld[i] = p;
                        p += strcspn(p, ",\n");
                        if (*p == ',')
                                p++;
                }
                c.total++;
                c.icmp_req += fld[0][0] == '8';
                c.icmp_rep += fld[0][0] == '0';
                c.arp_req += fld[1][0] == '1';
                c.arp_rep += fld[1][0] == '2';
                t6 = fld[7][0] >= '0' && fld[7][0] <= '9' ? strtol(fld[7], NULL, 10) : -1;
                c.icmp6_req += t6 == 128;
                c.icmp6_rep += t6 == 129;
                c.nd_rs += t6 == 133;
                c.nd_ra += t6 == 134;
                c.nd_ns += t6 == 135;
                c.nd_na += t6 == 136;
                for (int i = 2; i < 7; i++)
                        bad |= kt_field_bad(fld[i], i == 2);
                bad |= kt_field_bad(fld[8], false);
                c.bad += bad;
        }
        assert_int_equal(pclose(f), 0);
        if (!row)
                fail_msg("tshark's io,stat counts not found for %s", file);
        return c;
}

static inline struct kt_frames kt_tshark_frames(const char *file)
{
        return kt_tshark_frames_n(file, NULL, 0, NULL);
}

/* How many frames of a capture match a tshark display filter (one pass).
 * @return the count, or -1 when tshark failed (a bad filter). */
static inline long kt_tshark_count(const char *file, const char *filter)
{
        char cmd[1024], line[512];
        long n = 0;
        FILE *f;
        int rc;

        snprintf(cmd, sizeof(cmd),
                 "tshark -n -r '%s' -Y '%s' -T fields -e frame.number 2>/dev/null", file, filter);
        f = popen(cmd, "r");
        if (f == NULL)
                return -1;
        while (fgets(line, sizeof(line), f) != NULL)
                n++;
        rc = pclose(f);
        return rc == 0 ? n : -1;
}

/* How many frames of a capture match each of n display filters, in one
 * tshark pass. @return 0, or -1 when tshark failed or its table was not
 * read (a bad filter). */
static inline int kt_tshark_counts(const char *file, const char *const *filters, size_t n,
                                   long *out)
{
        char cmd[3072], zarg[2048], line[1024];
        bool row = false;
        FILE *f;
        int rc;

        assert_true(n > 0);
        kt_tshark_iostat_arg(zarg, sizeof(zarg), filters, n);
        snprintf(cmd, sizeof(cmd), "tshark -n -q -r '%s'%s 2>/dev/null", file, zarg);
        f = popen(cmd, "r");
        if (f == NULL)
                return -1;
        while (fgets(line, sizeof(line), f) != NULL)
                row |= kt_tshark_iostat_row(line, n, out);
        rc = pclose(f);
        return rc == 0 && row ? 0 : -1;
}

/* ---- privileges -------------------------------------------------------------------- */

/* Drop one capability from the calling process's effective and permitted
 * sets (no libcap: the raw capset call). @return 0 or -1. */
static inline int kt_drop_cap(int cap)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2];

        if (syscall(SYS_capget, &h, d) != 0)
                return -1;
        d[cap / 32].effective &= ~(1u << (cap % 32));
        d[cap / 32].permitted &= ~(1u << (cap % 32));
        d[cap / 32].inheritable &= ~(1u << (cap % 32));
        return (int)syscall(SYS_capset, &h, d);
}

/* Enter a named namespace (in a forked child only). @return 0 or -1. */
static inline int kt_enter_ns(const char *ns)
{
        char path[256];
        int fd, rc;

        snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        rc = setns(fd, 0);
        close(fd);
        return rc;
}

#endif
