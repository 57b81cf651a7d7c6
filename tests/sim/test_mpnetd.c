/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd end to end (issue 17), configured only through mpnetctl: the
 * built programs are run from the build directory (CTest's working
 * directory). Three stacks on memory wires, h1 - r - h2, routing between
 * two hosts (ping through the router, both ways); JSON output parsed back;
 * events seen by monitor in order; every malformed message shape answered
 * with an error while the daemon keeps serving; kill -9 and a restart give
 * the same configuration and traffic flows again; as root, a user of the
 * socket's group can read but not change (EPERM).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdalign.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mpnet/ctl.h"
#include "testutil.h"

static char dir[256], sock[300], conf[300];
static pid_t daemon_pid;

static void daemon_start(void)
{
        char ws[8];

        snprintf(ws, sizeof(ws), "2");
        daemon_pid = fork();
        assert_true(daemon_pid >= 0);
        if (daemon_pid == 0) {
                char log[320];
                int fd;

                snprintf(log, sizeof(log), "%s/mpnetd.log", dir);
                fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                dup2(fd, 2);
                execl("./mpnetd", "mpnetd", "-s", sock, "-c", conf, "-w", ws, "-g", "4242",
                      (char *)NULL);
                _exit(127);
        }
        /* Up once the socket answers (generous: a busy machine). */
        for (int i = 0; i < 1000; i++) {
                struct mpnet_ctl *c = mpnet_ctl_open(sock);

                if (c != NULL) {
                        mpnet_ctl_close(c);
                        return;
                }
                usleep(10000);
        }
        fail_msg("mpnetd did not come up");
}

static int daemon_stop(int sig)
{
        int st;

        kill(daemon_pid, sig);
        assert_int_equal(waitpid(daemon_pid, &st, 0), daemon_pid);
        return st;
}

/* Run mpnetctl; its stdout in out (may be NULL). @return its exit code. */
static int __attribute__((format(printf, 3, 4))) ctl(char *out, size_t n, const char *fmt, ...)
{
        char cmd[2048], args[1536];
        va_list ap;
        FILE *f;
        size_t k = 0;
        int rc;

        va_start(ap, fmt);
        vsnprintf(args, sizeof(args), fmt, ap);
        va_end(ap);
        snprintf(cmd, sizeof(cmd), "./mpnetctl -s %s %s 2>&1", sock, args);
        f = popen(cmd, "r");
        assert_non_null(f);
        if (out != NULL) {
                while (k + 1 < n && (rc = fgetc(f)) != EOF)
                        out[k++] = (char)rc;
                out[k] = '\0';
        }
        while (fgetc(f) != EOF)
                ;
        rc = pclose(f);
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

#define CTL(...) assert_int_equal(ctl(NULL, 0, __VA_ARGS__), 0)

static void configure(void)
{
        CTL("stack add h1");
        CTL("stack add r");
        CTL("stack add h2");
        CTL("-n h1 link add h1r type mem peer rh1 peer-stack r");
        CTL("-n h2 l a h2r type mem peer rh2 peer-stack r queues 2"); /* abbreviated */
        CTL("-n h1 a a 192.0.2.2/24 dev h1r");
        CTL("-n r addr add 192.0.2.1/24 dev rh1");
        CTL("-n r addr add 198.51.100.1/24 dev rh2");
        CTL("-n h2 addr add 198.51.100.2/24 dev h2r");
        CTL("-n h1 route add default via 192.0.2.1");
        CTL("-n h2 route add default via 198.51.100.1");
        CTL("-n r route add 203.0.113.0/24 nexthop via 192.0.2.2 nexthop via 198.51.100.2");
        CTL("-n r route add blackhole 2001:db8:1::/48 table 7");
        CTL("-n r neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev rh1");
        CTL("-n r link set rh1 mtu 1400");
        CTL("-n r worker set dev rh2 queue 1 worker 0");
}

static void ping_ok(const char *stack, const char *dst)
{
        char out[256];

        assert_int_equal(ctl(out, sizeof(out), "-n %s ping %s count 3 timeout 5000", stack, dst),
                         0);
        if (strstr(out, "3 packets transmitted, 3 received") == NULL)
                fail_msg("ping %s from %s: %s", dst, stack, out);
}

/* The state a restart must reproduce, as mpnetctl prints it. */
static void snapshot(char *out, size_t n)
{
        char part[4096];
        static const char *const cmds[] = {"stack show",
                                           "-n r route show",
                                           "-n r route show table 7",
                                           "-n r addr show",
                                           "-n h1 route show",
                                           "-n r neigh show dev rh1 | grep PERMANENT",
                                           "worker show | grep polls"};

        out[0] = '\0';
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                assert_int_equal(ctl(part, sizeof(part), "%s", cmds[i]), 0);
                strncat(out, part, n - strlen(out) - 1);
        }
        /* The mtu, not the counters (they restart from zero). */
        assert_int_equal(ctl(part, sizeof(part), "-n r link show rh1 | head -1"), 0);
        strncat(out, part, n - strlen(out) - 1);
}

static void test_route_and_show(void **state)
{
        char out[4096];

        (void)state;
        ping_ok("h1", "198.51.100.2");
        ping_ok("h2", "192.0.2.2");
        assert_int_equal(ctl(out, sizeof(out), "-n r route get 198.51.100.77"), 0);
        assert_non_null(strstr(out, "198.51.100.0/24 dev rh2"));
        assert_int_equal(ctl(out, sizeof(out), "-n r route show"), 0);
        assert_non_null(strstr(out, "nexthop via 192.0.2.2 dev rh1"));
        assert_non_null(strstr(out, "nexthop via 198.51.100.2 dev rh2"));
        assert_int_equal(ctl(out, sizeof(out), "-n r route show table 7"), 0);
        assert_non_null(strstr(out, "blackhole 2001:db8:1::/48"));
        /* JSON, parsed by python's json module where there is one. */
        if (system("command -v python3 >/dev/null 2>&1") == 0) {
                assert_int_equal(
                    ctl(out, sizeof(out),
                        "-j -n r link show | python3 -c 'import json,sys; l=json.load(sys.stdin); "
                        "print(sorted((x[\"ifname\"], x[\"mtu\"], x[\"up\"]) for x in l)); "
                        "assert l[0][\"counters\" if False else \"linkstats\"][\"counters\"]"
                        "[\"tx_packets\"] > 0'"),
                    0);
                assert_non_null(strstr(out, "[('rh1', 1400, True), ('rh2', 1500, True)]"));
                assert_int_equal(ctl(out, sizeof(out),
                                     "-j -n r neigh show | python3 -c 'import json,sys; "
                                     "print(sorted(x[\"addr\"]+\"=\"+x[\"state\"] for x in "
                                     "json.load(sys.stdin)))'"),
                                 0);
                assert_non_null(strstr(out, "'192.0.2.9=PERMANENT'"));
                assert_non_null(strstr(out, "'198.51.100.2=REACHABLE'"));
        }
        assert_int_equal(ctl(out, sizeof(out), "-n r node show"), 0);
        assert_non_null(strstr(out, "ip4-lookup"));
        /* Per thread, as VPP's show runtime: r's queues are all worker 0's
         * (rh2's second queue was moved there), so its forwarding is. */
        assert_non_null(strstr(out, "Thread 0 (control):"));
        assert_non_null(strstr(out, "Thread 1 (worker 0):"));
        assert_non_null(strstr(strstr(out, "Thread 1 (worker 0):"), "ip4-lookup"));
        if (system("command -v python3 >/dev/null 2>&1") == 0) {
                /* The threads' figures add up to the totals, node by node. */
                assert_int_equal(
                    ctl(out, sizeof(out),
                        "-j -n r node show | python3 -c 'import json,sys; p=json.load(sys.stdin); "
                        "tot={n[\"name\"]:n[\"pkts\"] for n in p[0][\"nodes\"]}; s={}; "
                        "[s.__setitem__(n[\"name\"], s.get(n[\"name\"],0)+n[\"pkts\"]) "
                        "for t in p[1:] for n in t.get(\"nodes\",[])]; "
                        "assert all(tot[k]==v for k,v in s.items()), (tot,s); "
                        "assert s[\"ip4-lookup\"]>0; "
                        "print(sorted(t[\"thread\"] for t in p[1:]))'"),
                    0);
                assert_non_null(strstr(out, "[0, 1, 2]"));
        }
        assert_int_equal(ctl(out, sizeof(out), "-n r stats"), 0);
        assert_non_null(strstr(out, "ip4_forwarded"));
        /* Errors carry their reason. */
        assert_int_equal(ctl(out, sizeof(out), "-n r route add 203.0.113.0/24 dev rh1"), 1);
        assert_non_null(strstr(out, "exists"));
        assert_int_equal(ctl(out, sizeof(out), "-n nosuch link show"), 1);
        assert_non_null(strstr(out, "no stack nosuch"));
        assert_int_equal(ctl(out, sizeof(out), "-n r route add 198.18.0.0/33 dev rh1"), 2);
        assert_non_null(strstr(out, "prefix length"));
}

static void test_monitor(void **state)
{
        char path[320], cmd[700], line[256];
        const char *want[] = {"stack-add",
                              "iface-add dev mon0",
                              "addr-add 198.18.1.1/24 dev mon0",
                              "route-add 198.18.2.0/24",
                              "addr-del 198.18.1.1/24",
                              "stack-del"};
        const unsigned n_want = sizeof(want) / sizeof(want[0]);
        unsigned got = 0;
        pid_t mon;
        FILE *f;

        (void)state;
        snprintf(path, sizeof(path), "%s/monitor.out", dir);
        mon = fork();
        assert_true(mon >= 0);
        if (mon == 0) {
                snprintf(cmd, sizeof(cmd), "exec ./mpnetctl -s %s monitor > %s", sock, path);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        /* Subscribed once the file exists and the daemon had time to take
         * the request: wait for a stack event to show up. */
        for (int i = 0; i < 500; i++) {
                struct stat sb;

                CTL("stack add probe%d", i);
                usleep(20000);
                if (stat(path, &sb) == 0 && sb.st_size > 0)
                        break;
        }
        CTL("stack add mon");
        CTL("-n mon link add mon0 type mem peer mon1");
        CTL("-n mon addr add 198.18.1.1/24 dev mon0");
        CTL("-n mon route add 198.18.2.0/24 via 198.18.1.2");
        CTL("-n mon addr del 198.18.1.1/24 dev mon0");
        CTL("stack del mon");
        for (int i = 0; i < 500; i++) {
                usleep(10000);
                f = fopen(path, "r");
                assert_non_null(f);
                got = 0;
                bool mon_seen = false;

                while (fgets(line, sizeof(line), f) != NULL && got < n_want) {
                        if (strstr(line, "[mon]") == NULL)
                                continue;
                        mon_seen = true;
                        if (strstr(line, want[got]) != NULL)
                                got++;
                }
                fclose(f);
                (void)mon_seen;
                if (got == n_want)
                        break;
        }
        kill(mon, SIGTERM);
        waitpid(mon, NULL, 0);
        for (int i = 0; i < 500; i++) {
                char out[64];

                if (ctl(out, sizeof(out), "stack del probe%d", i) != 0)
                        break;
        }
        assert_int_equal(got, n_want); /* each, in the order they were made */
}

static int raw_connect(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

        strcpy(sa.sun_path, sock);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

/* Send a datagram; @return the error of the first ERROR answer. */
static int raw_exchange(int fd, const void *b, size_t n)
{
        static alignas(8) uint8_t in[MPNET_CTL_DGRAM_MAX];
        struct mpnet_ctl_view m;
        struct timeval tv = {.tv_sec = 10};
        size_t off = 0;
        ssize_t k;

        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        assert_int_equal(send(fd, b, n, 0), (ssize_t)n);
        k = recv(fd, in, sizeof(in), 0);
        assert_true(k > 0);
        while (mpnet_ctl_msg_next(in, (size_t)k, &off, &m, NULL, 0) == 1)
                if (m.h->type == MPNET_CTL_ERROR)
                        return m.error;
        fail_msg("no ERROR answer");
        return 0;
}

static void test_malformed(void **state)
{
        static alignas(8) uint8_t b[MPNET_CTL_DGRAM_MAX + 4096];
        struct mpnet_ctl_hdr h = {.type = MPNET_CTL_LINK_GET, .flags = 1, .seq = 9};
        struct mpnet_ctl_attr a;
        int fd = raw_connect();

        (void)state;
        /* Truncated header. */
        memcpy(b, &h, 8);
        assert_int_equal(raw_exchange(fd, b, 8), -EBADMSG);
        /* Length past the datagram. */
        h.len = 200;
        memcpy(b, &h, 16);
        assert_int_equal(raw_exchange(fd, b, 16), -EBADMSG);
        /* Attribute length past the end. */
        h.len = 24;
        memcpy(b, &h, 16);
        a = (struct mpnet_ctl_attr){.len = 40, .type = MPNET_CTLA_STACK};
        memcpy(b + 16, &a, 4);
        memcpy(b + 20, "r\0\0\0", 4);
        assert_int_equal(raw_exchange(fd, b, 24), -EBADMSG);
        /* Unknown attribute type. */
        a = (struct mpnet_ctl_attr){.len = 8, .type = 999};
        memcpy(b + 16, &a, 4);
        assert_int_equal(raw_exchange(fd, b, 24), -EINVAL);
        /* Nesting too deep. */
        h.len = 16 + 4 * 6;
        memcpy(b, &h, 16);
        for (int i = 0; i < 6; i++) {
                a = (struct mpnet_ctl_attr){.len = (uint16_t)(4 * (6 - i)),
                                            .type = MPNET_CTLA_PATH | MPNET_CTLA_F_NESTED};
                memcpy(b + 16 + 4 * i, &a, 4);
        }
        assert_int_equal(raw_exchange(fd, b, h.len), -ELOOP);
        /* Unknown message type. */
        h = (struct mpnet_ctl_hdr){.len = 16, .type = 63, .flags = 1, .seq = 10};
        memcpy(b, &h, 16);
        assert_int_equal(raw_exchange(fd, b, 16), -EOPNOTSUPP);
        /* Oversized: a datagram past the limit, and a header claiming more. */
        h = (struct mpnet_ctl_hdr){.len = sizeof(b), .type = MPNET_CTL_NOOP, .flags = 1};
        memcpy(b, &h, 16);
        assert_int_equal(raw_exchange(fd, b, sizeof(b)), -EMSGSIZE);
        h.len = MPNET_CTL_DGRAM_MAX + 8;
        memcpy(b, &h, 16);
        assert_int_equal(raw_exchange(fd, b, 64), -EMSGSIZE);
        close(fd);
        /* Unharmed: it still routes. */
        ping_ok("h1", "198.51.100.2");
}

/* A member of the socket's group (4242), not root, without capabilities:
 * reads, and is refused changes. */
static void test_unprivileged(void **state)
{
        char out[1024];
        pid_t p;
        int st;

        (void)state;
        if (geteuid() != 0) {
                print_message("skipped: not root (cannot become another user)\n");
                return;
        }
        p = fork();
        assert_true(p >= 0);
        if (p == 0) {
                gid_t g = 4242;
                int rc;

                if (setgroups(1, &g) != 0 || setgid(4242) != 0 || setuid(65534) != 0)
                        _exit(10);
                rc = ctl(out, sizeof(out), "-n r route show");
                if (rc != 0 || strstr(out, "198.51.100.0/24") == NULL)
                        _exit(11);
                rc = ctl(out, sizeof(out), "-n r route add 198.18.7.0/24 dev rh1");
                if (rc != 1 || strstr(out, "root or CAP_NET_ADMIN") == NULL)
                        _exit(12);
                rc = ctl(out, sizeof(out), "stack add evil");
                _exit(rc == 1 ? 0 : 13);
        }
        assert_int_equal(waitpid(p, &st, 0), p);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(ctl(out, sizeof(out), "-n r route get 198.18.7.1"), 1);
        assert_int_equal(ctl(out, sizeof(out), "stack show evil"), 1);
        snprintf(out, sizeof(out), "grep -q 'uid 65534 .*ROUTE_NEW refused (EPERM)' %s/mpnetd.log",
                 dir);
        assert_int_equal(system(out), 0);
}

static void test_kill9_restart(void **state)
{
        static char before[16384], after[16384];

        (void)state;
        snapshot(before, sizeof(before));
        /* Not saved: the journal alone must carry it over. */
        assert_true(WIFSIGNALED(daemon_stop(SIGKILL)));
        daemon_start();
        snapshot(after, sizeof(after));
        assert_string_equal(before, after);
        ping_ok("h1", "198.51.100.2");
        /* save, SIGTERM, start: the same again. */
        CTL("save");
        assert_int_equal(WEXITSTATUS(daemon_stop(SIGTERM)), 0);
        assert_int_equal(access(sock, F_OK), -1); /* the socket went with it */
        daemon_start();
        snapshot(after, sizeof(after));
        assert_string_equal(before, after);
        ping_ok("h2", "192.0.2.2");
}

/* Two pings from one stack at once, from two clients: each has its own
 * identifier and gets every one of its replies (the daemon used to drain
 * the stack's replies for whichever ping asked first and drop the other's). */
static void test_concurrent_pings(void **state)
{
        char cmd[2][1024], out[2][512];
        const char *dst[2] = {"198.51.100.2", "192.0.2.1"};
        FILE *f[2];

        (void)state;
        for (int i = 0; i < 2; i++) {
                snprintf(cmd[i], sizeof(cmd[i]),
                         "./mpnetctl -s %s -n h1 ping %s count 10 timeout 10000 2>&1", sock,
                         dst[i]);
                f[i] = popen(cmd[i], "r");
                assert_non_null(f[i]);
        }
        for (int i = 0; i < 2; i++) {
                size_t k = fread(out[i], 1, sizeof(out[i]) - 1, f[i]);
                int rc;

                out[i][k] = '\0';
                while (fgetc(f[i]) != EOF)
                        ;
                rc = pclose(f[i]);
                assert_true(WIFEXITED(rc));
                if (strstr(out[i], "10 packets transmitted, 10 received") == NULL)
                        fail_msg("concurrent ping %s: %s", dst[i], out[i]);
        }
}

static int setup(void **state)
{
        (void)state;
        if (access("./mpnetd", X_OK) != 0 || access("./mpnetctl", X_OK) != 0) {
                print_message("mpnetd/mpnetctl not in the working directory\n");
                return -1;
        }
        snprintf(dir, sizeof(dir), "%s/mpnetd-XXXXXX", test_out_dir());
        if (mkdtemp(dir) == NULL)
                return -1;
        chmod(dir, 0755); /* the unprivileged client must reach the socket */
        snprintf(sock, sizeof(sock), "%s/sock", dir);
        snprintf(conf, sizeof(conf), "%s/mpnetd.conf", dir);
        daemon_start();
        configure();
        return 0;
}

static int teardown(void **state)
{
        char cmd[400];

        (void)state;
        if (daemon_pid > 0)
                daemon_stop(SIGTERM);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_route_and_show), cmocka_unit_test(test_monitor),
            cmocka_unit_test(test_malformed),      cmocka_unit_test(test_unprivileged),
            cmocka_unit_test(test_kill9_restart),  cmocka_unit_test(test_concurrent_pings),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
