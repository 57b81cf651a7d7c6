/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd as the router between two Linux hosts, end to end (issue 17),
 * configured only by running the mpnetctl binary, as a user would. Host A
 * and host B are network namespaces the test makes (mpnet-mda-PID,
 * mpnet-mdb-PID); mpnetd runs in the test's namespace with one stack, r,
 * routing 192.0.2.0/24 and 2001:db8:1::/64 (A) to 198.51.100.0/24 and
 * 2001:db8:2::/64 (B), and 203.0.113.0/24 and 2001:db8:3::/48 (B's
 * loopback addresses) through B.
 *
 * - TAP: mpnetd creates a tap device inside each host's namespace; the
 *   kernel's ping and ping -6 cross r both ways (also through a gateway
 *   route), iperf3 -u datagrams arrive; `mpnetctl monitor` prints the
 *   address, route, interface and neighbour events in the order they were
 *   made; the JSON of link, addr, route and neigh show is parsed (python3);
 *   `mpnetctl capture hb icmp and host 198.51.100.2 -w F -c 4` writes a
 *   pcapng that tshark reads with exactly those four frames, though other
 *   ICMP and ICMPv6 crossed hb meanwhile; on SIGTERM mpnetd removes its
 *   tap devices; started again on its file it shows the same configuration
 *   and traffic flows again; the same after `kill -9` (the kernel removed
 *   the tap devices with the process: the hosts configure the new ones, as
 *   their network manager would).
 * - AF_XDP: B's link is a veth pair whose other end is in a third
 *   namespace (mpnet-mdr-PID), taken by an AF_XDP socket; the same traffic,
 *   and the same restarts, where the host keeps its configuration; SIGTERM
 *   leaves no XDP program on the veth, also that of a daemon started after
 *   a kill -9 (it joins the program left attached). Host B's veth computes its own
 *   checksums (ethtool -K tx off): veth leaves them to the hardware, and
 *   frames taken by XDP stay so.
 *
 * Skipped with the reason without root or the capabilities, /dev/net/tun
 * or ip(8); the AF_XDP test also without CAP_BPF, a kernel with AF_XDP
 * sockets or an mpnetd built with AF_XDP. Without iperf3, python3 or
 * tshark the part that needs it is skipped with a message.
 */
#define _GNU_SOURCE
#include "mpnetdutil.h"
#include "netns_util.h"

#define KT_CAP_BPF 39

struct e2e {
        struct mpd d;
        char nsa[64], nsb[64], nsr[64];
        bool xdp, tx_csum; /* host B's veth computes its checksums */
        pid_t mon;
        char monf[400];
};

static struct e2e g;
static const char *g_skip;

#define SKIP_IF(why)                                                                               \
        do {                                                                                       \
                const char *why_ = (why);                                                          \
                if (why_ != NULL) {                                                                \
                        print_message("skipped: %s\n", why_);                                      \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

/* The host end of B's link: the tap mpnetd makes, or the veth's end. */
static const char *hb_dev(void)
{
        return g.xdp ? "vb0" : "mdb0";
}

static bool have(const char *tool)
{
        if (kt_tool(tool))
                return true;
        print_message("%s is missing: that part of the test is skipped\n", tool);
        return false;
}

/* ---- the hosts ----------------------------------------------------------------- */

/* kt_ns_add turns IPv6 off; these hosts ping -6. */
static int host_ns(char *name, size_t n, const char *prefix)
{
        if (kt_ns_add(name, n, prefix) != 0)
                return -1;
        return kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=0 "
                     "net.ipv6.conf.default.disable_ipv6=0",
                     name);
}

/* A host's addresses and default routes on dev (nodad: usable at once). */
static void host_conf(const char *ns, const char *dev, const char *a4, const char *gw4,
                      const char *a6, const char *gw6)
{
        assert_int_equal(kt_sh("ip -n %s link set %s up", ns, dev), 0);
        assert_int_equal(kt_sh("ip -n %s addr replace %s dev %s", ns, a4, dev), 0);
        assert_int_equal(kt_sh("ip -n %s addr replace %s dev %s nodad", ns, a6, dev), 0);
        assert_int_equal(kt_sh("ip -n %s route replace default via %s", ns, gw4), 0);
        assert_int_equal(kt_sh("ip -n %s -6 route replace default via %s", ns, gw6), 0);
}

static void hosts_conf(void)
{
        host_conf(g.nsa, "mda0", "192.0.2.2/24", "192.0.2.1", "2001:db8:1::2/64", "2001:db8:1::1");
        host_conf(g.nsb, hb_dev(), "198.51.100.2/24", "198.51.100.1", "2001:db8:2::2/64",
                  "2001:db8:2::1");
        assert_int_equal(kt_sh("ip -n %s addr replace 203.0.113.2/32 dev lo", g.nsb), 0);
        assert_int_equal(kt_sh("ip -n %s addr replace 2001:db8:3::2/128 dev lo", g.nsb), 0);
}

/* ---- mpnetd, through mpnetctl only -------------------------------------------- */

static void monitor_start(void)
{
        char cmd[900], probe[64] = "";

        snprintf(g.monf, sizeof(g.monf), "%s/monitor.out", g.d.dir);
        g.mon = fork();
        assert_true(g.mon >= 0);
        if (g.mon == 0) {
                snprintf(cmd, sizeof(cmd), "exec ./mpnetctl -s %s monitor > %s", g.d.sock, g.monf);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        /* Subscribed once a stack made after the start shows up. */
        for (int i = 0; i < 500 && probe[0] == '\0'; i++) {
                char line[256] = "", name[32];
                FILE *f;

                snprintf(name, sizeof(name), "probe%d", i);
                MPD_CTL(&g.d, "stack add %s", name);
                usleep(20000);
                MPD_CTL(&g.d, "stack del %s", name);
                f = fopen(g.monf, "r");
                while (f != NULL && fgets(line, sizeof(line), f) != NULL)
                        if (strstr(line, "stack-add") != NULL)
                                snprintf(probe, sizeof(probe), "%s", name);
                if (f != NULL)
                        fclose(f);
        }
        if (probe[0] == '\0')
                fail_msg("mpnetctl monitor printed nothing");
}

static void monitor_stop(void)
{
        if (g.mon <= 0)
                return;
        kill(g.mon, SIGTERM);
        waitpid(g.mon, NULL, 0);
        g.mon = 0;
}

static void router_conf(void)
{
        char out[1024];
        int rc;

        MPD_CTL(&g.d, "stack add r");
        MPD_CTL(&g.d, "-n r link add ha type tap dev mda0 netns %s", g.nsa);
        if (g.xdp) {
                rc = mpd_ctl(&g.d, out, sizeof(out), "-n r link add hb type afxdp dev vr0 netns %s",
                             g.nsr);
                if (rc != 0 && strstr(out, "built without AF_XDP") != NULL)
                        SKIP_IF("mpnetd is built without AF_XDP (libxdp, libbpf)");
                if (rc != 0)
                        fail_msg("link add hb type afxdp: %s", out);
        } else {
                MPD_CTL(&g.d, "-n r link add hb type tap dev mdb0 netns %s", g.nsb);
        }
        MPD_CTL(&g.d, "-n r link set ha down");
        MPD_CTL(&g.d, "-n r link set ha up");
        MPD_CTL(&g.d, "-n r addr add 192.0.2.1/24 dev ha");
        MPD_CTL(&g.d, "-n r a a 2001:db8:1::1/64 dev ha"); /* abbreviated, as ip(8) takes */
        MPD_CTL(&g.d, "-n r addr add 198.51.100.1/24 dev hb");
        MPD_CTL(&g.d, "-n r addr add 2001:db8:2::1/64 dev hb");
        MPD_CTL(&g.d, "-n r route add 203.0.113.0/24 via 198.51.100.2");
        MPD_CTL(&g.d, "-n r route add 2001:db8:3::/48 via 2001:db8:2::2");
        MPD_CTL(&g.d, "-n r neigh add 192.0.2.99 lladdr 02:00:00:00:00:63 dev ha");
}

/* ---- traffic ------------------------------------------------------------------- */

/* ping (or ping -6) from host A until 3 replies came, within 20 s; a
 * request every 20 ms (root, as these tests are, may go below the 200 ms
 * that old iputils imposed on users), or every 200 ms where the order of
 * requests and replies on the wire matters (one reply before the next
 * request on all but a very busy machine). */
static void ping_at(bool v6, const char *dst, const char *interval)
{
        int rc = kt_sh("timeout 30 ip netns exec %s ping %s -n -c 3 -i %s -w 20 %s", g.nsa,
                       v6 ? "-6" : "", interval, dst);

        if (rc != 0)
                fail_msg("ping%s %s from host A through mpnetd: exit %d", v6 ? " -6" : "", dst, rc);
}

static void ping_ok(bool v6, const char *dst)
{
        ping_at(v6, dst, "0.02");
}

/* iperf3 -u from A to B through r. @return datagrams B received. */
static long iperf_udp(void)
{
        char json[512], out[128];
        long got = -1;
        pid_t srv = fork();

        assert_true(srv >= 0);
        if (srv == 0) {
                int fd = open("/dev/null", O_WRONLY);

                dup2(fd, 1);
                dup2(fd, 2);
                execlp("timeout", "timeout", "60", "ip", "netns", "exec", g.nsb, "iperf3", "-s",
                       "-1", "-p", "5201", (char *)NULL);
                _exit(127);
        }
        snprintf(json, sizeof(json), "%s/iperf3.json", g.d.dir);
        /* The server listens some time after the fork: retry the client
         * (for 10 s and more). 100 KB: 512 datagrams of 200 bytes, a
         * quarter of a second at 2 Mbit/s; the test asks that some arrive. */
        for (int i = 0; i < 200 && got < 0; i++) {
                if (kt_sh("timeout 30 ip netns exec %s sh -c 'iperf3 -u -c 198.51.100.2 -p 5201 "
                          "-b 2M -l 200 -n 100K -J > %s'",
                          g.nsa, json) != 0) {
                        usleep(50000);
                        continue;
                }
                /* The client's summary carries the server's count of
                 * datagrams lost; what arrived is the difference. */
                if (kt_sh_out(
                        out, sizeof(out),
                        "python3 -c 'import json,sys; j=json.load(open(\"%s\")); "
                        "s=j[\"end\"].get(\"sum\"); print(s[\"packets\"]-s[\"lost_packets\"], "
                        "s[\"packets\"]) if s else print(-1, j.get(\"error\"))'",
                        json) != 0)
                        fail_msg("iperf3 -J output not read: %s", out);
                got = strtol(out, NULL, 10);
                print_message("iperf3 -u through mpnetd: %s (received, sent)\n", out);
        }
        kill(srv, SIGTERM);
        waitpid(srv, NULL, 0);
        return got;
}

static void traffic_ok(void)
{
        ping_ok(false, "198.51.100.2");
        ping_ok(false, "203.0.113.2"); /* the gateway route */
        ping_ok(true, "2001:db8:2::2");
        ping_ok(true, "2001:db8:3::2");
        if (g.xdp && !g.tx_csum)
                print_message("ethtool missing: host B's veth leaves TCP checksums to the "
                              "hardware, so iperf3 (TCP control) is skipped\n");
        else if (have("iperf3") && have("python3"))
                assert_true(iperf_udp() > 0);
}

/* ---- what mpnetctl shows ------------------------------------------------------- */

/* The monitor file holds each of want[] on a line of [r], in this order. */
static void monitor_check(void)
{
        static const char *const want[] = {"iface-down dev ha",
                                           "iface-up dev ha",
                                           "addr-add 192.0.2.1/24 dev ha",
                                           "addr-add 2001:db8:1::1/64 dev ha",
                                           "addr-add 198.51.100.1/24 dev hb",
                                           "addr-add 2001:db8:2::1/64 dev hb",
                                           "route-add 203.0.113.0/24",
                                           "route-add 2001:db8:3::/48",
                                           "neigh-reachable 192.0.2.99 dev ha",
                                           "neigh-reachable 198.51.100.2 dev hb"};
        const size_t n = sizeof(want) / sizeof(want[0]);
        char line[512];
        size_t got = 0;

        for (int i = 0; i < 500 && got < n; i++) {
                FILE *f = fopen(g.monf, "r");

                assert_non_null(f);
                got = 0;
                while (fgets(line, sizeof(line), f) != NULL && got < n)
                        if (strncmp(line, "[r] ", 4) == 0 && strstr(line, want[got]) != NULL)
                                got++;
                fclose(f);
                if (got < n)
                        usleep(10000);
        }
        if (got < n)
                fail_msg("monitor: \"%s\" missing or out of order (see %s)", want[got], g.monf);
}

static void json_check(void)
{
        char out[512], mac[32];
        uint8_t m[6];

        if (!have("python3"))
                return;
        assert_int_equal(kt_if_mac(g.nsa, "mda0", m), 0);
        kt_mac_str(m, mac);
        assert_int_equal(mpd_ctl(&g.d, out, sizeof(out),
                                 "-j -n r link show | python3 -c 'import json,sys; "
                                 "print(sorted((x[\"ifname\"], x[\"kind\"], x[\"up\"], "
                                 "x[\"carrier\"]) for x in json.load(sys.stdin)))'"),
                         0);
        if (g.xdp)
                assert_string_equal(out,
                                    "[('ha', 'tap', True, True), ('hb', 'afxdp', True, True)]\n");
        else
                assert_string_equal(out,
                                    "[('ha', 'tap', True, True), ('hb', 'tap', True, True)]\n");
        assert_int_equal(mpd_ctl(&g.d, out, sizeof(out),
                                 "-j -n r addr show | python3 -c 'import json,sys; "
                                 "print(sorted(\"%%s/%%d\" %% (x[\"addr\"], x[\"plen\"]) "
                                 "for x in json.load(sys.stdin)))'"),
                         0);
        assert_string_equal(out, "['192.0.2.1/24', '198.51.100.1/24', '2001:db8:1::1/64', "
                                 "'2001:db8:2::1/64']\n");
        assert_int_equal(
            mpd_ctl(&g.d, out, sizeof(out),
                    "-j -n r route show | python3 -c 'import json,sys; "
                    "print([(x[\"nhtype\"], x[\"paths\"]) for x in json.load(sys.stdin)"
                    " if x[\"addr\"] in (\"203.0.113.0\", \"2001:db8:3::\")])'"),
            0);
        assert_string_equal(out, "[('gateway', [{'ifname': 'hb', 'gw': '198.51.100.2'}]), "
                                 "('gateway', [{'ifname': 'hb', 'gw': '2001:db8:2::2'}])]\n");
        /* r learnt host A's MAC (ARP, ND) for both families. */
        assert_int_equal(mpd_ctl(&g.d, out, sizeof(out),
                                 "-j -n r neigh show | python3 -c 'import json,sys; "
                                 "print(sorted(x[\"addr\"] for x in json.load(sys.stdin) "
                                 "if x[\"mac\"] == \"%s\"))'",
                                 mac),
                         0);
        assert_string_equal(out, "['192.0.2.2', '2001:db8:1::2']\n");
}

/* mpnetctl capture in the background; returns once it runs. @return its
 * pid, or 0 when mpnetd has no libpcap to compile the filter. */
static pid_t capture_spawn(const char *args, const char *outf)
{
        char cmd[2048], line[512] = "";
        pid_t p = fork();

        assert_true(p >= 0);
        if (p == 0) {
                if (snprintf(cmd, sizeof(cmd), "exec ./mpnetctl -s %s %s > %s 2>&1", g.d.sock, args,
                             outf) >= (int)sizeof(cmd))
                        _exit(126);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 3000 && strstr(line, "capturing on") == NULL; i++) {
                FILE *f = fopen(outf, "r");
                bool gone = waitpid(p, NULL, WNOHANG) == p;

                usleep(10000);
                if (f != NULL && fgets(line, sizeof(line), f) == NULL)
                        line[0] = '\0';
                if (f != NULL)
                        fclose(f);
                if (gone) {
                        if (strstr(line, "without libpcap") != NULL)
                                return 0;
                        fail_msg("capture refused: %s", line);
                }
        }
        if (strstr(line, "capturing on") == NULL) {
                kill(p, SIGTERM);
                waitpid(p, NULL, 0);
                fail_msg("capture did not start: %s", line);
        }
        return p;
}

/* @return the exit status of p, waiting at most 30 s (then it is killed). */
static int wait_deadline(pid_t p)
{
        int st = 0;

        for (int i = 0; i < 3000; i++) {
                if (waitpid(p, &st, WNOHANG) == p)
                        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                usleep(10000);
        }
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return -1;
}

static void capture_check(void)
{
        static const char *const filters[] = {"frame", "icmp && ip.addr == 198.51.100.2",
                                              "icmp.type == 8 && ip.dst == 198.51.100.2"};
        char file[400], outf[400], args[1400];
        long n[3];
        pid_t p;

        snprintf(file, sizeof(file), "%s/hb.pcapng", g.d.dir);
        snprintf(outf, sizeof(outf), "%s/capture.out", g.d.dir);
        snprintf(args, sizeof(args), "-n r capture hb icmp and host 198.51.100.2 -w %s -c 4", file);
        p = capture_spawn(args, outf);
        if (p == 0) {
                print_message("mpnetd is built without libpcap: the capture is skipped\n");
                return;
        }
        /* ICMP to another host and ICMPv6 cross hb first: not kept. */
        ping_ok(false, "203.0.113.2");
        ping_ok(true, "2001:db8:2::2");
        ping_at(false, "198.51.100.2", "0.2"); /* request, reply, request, reply */
        assert_int_equal(wait_deadline(p), 0);
        if (!have("tshark"))
                return;
        assert_int_equal(kt_tshark_counts(file, filters, 3, n), 0);
        assert_int_equal(n[0], 4);
        assert_int_equal(n[1], 4);
        assert_int_equal(n[2], 2);
}

/* The configuration as mpnetctl prints it, less what traffic changes. */
static void snapshot(char *out, size_t n)
{
        static const char *const cmds[] = {
            "stack show",      "-n r link show | grep mtu",        "-n r addr show",
            "-n r route show", "-n r neigh show | grep PERMANENT", "worker show | grep polls"};
        char part[4096];

        out[0] = '\0';
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                assert_int_equal(mpd_ctl(&g.d, part, sizeof(part), "%s", cmds[i]), 0);
                strncat(out, part, n - strlen(out) - 1);
        }
}

/* SIGTERM: mpnetd removes what it made, its tap devices and the XDP
 * program it attached. */
static void sigterm_check(int st)
{
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        assert_int_not_equal(kt_sh("ip -n %s link show dev mda0", g.nsa), 0);
        if (g.xdp)
                assert_int_not_equal(kt_sh("ip -n %s link show dev vr0 | grep -q xdp", g.nsr), 0);
        else
                assert_int_not_equal(kt_sh("ip -n %s link show dev mdb0", g.nsb), 0);
}

/* Stop mpnetd with sig and start it again on its file: the same
 * configuration comes back. */
static void restart(int sig)
{
        static char before[16384], after[16384];
        int st;

        snapshot(before, sizeof(before));
        assert_non_null(strstr(before, "203.0.113.0/24 via 198.51.100.2 dev hb"));
        monitor_stop(); /* it ends with the daemon anyway */
        st = mpd_stop(&g.d, sig);
        if (sig == SIGKILL)
                assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        else
                sigterm_check(st);
        mpd_start(&g.d, 2);
        snapshot(after, sizeof(after));
        assert_string_equal(before, after);
        if (g.xdp) /* the veth and its host's configuration stayed */
                assert_int_equal(
                    kt_sh("ip -n %s -br addr show dev vb0 | grep -q 198.51.100.2", g.nsb), 0);
        /* The kernel removed the tap devices with the process (SIGKILL) or
         * mpnetd did (SIGTERM): the hosts configure the new ones. */
        hosts_conf();
}

/* ---- the tests ----------------------------------------------------------------- */

/* The hosts' namespaces (and for AF_XDP the veth pair), then mpnetd. */
static void world_make(void)
{
        assert_int_equal(mpd_init(&g.d, g.xdp ? "kernel-mpnetd-xdp" : "kernel-mpnetd-tap"), 0);
        if (host_ns(g.nsa, sizeof(g.nsa), "mpnet-mda") != 0 ||
            host_ns(g.nsb, sizeof(g.nsb), "mpnet-mdb") != 0)
                fail_msg("cannot create a network namespace (ip netns add failed)");
        if (g.xdp) {
                assert_int_equal(kt_ns_add(g.nsr, sizeof(g.nsr), "mpnet-mdr"), 0);
                assert_int_equal(
                    kt_sh("ip -n %s link add vb0 type veth peer name vr0 netns %s", g.nsb, g.nsr),
                    0);
                assert_int_equal(kt_sh("ip -n %s link set vr0 up", g.nsr), 0);
                /* veth hands its peer TCP and UDP packets with the checksum
                 * left to the hardware; XDP sees them so, and a router
                 * does not complete them. A host on a NIC has it done. */
                g.tx_csum = kt_tool("ethtool") &&
                            kt_sh("ip netns exec %s ethtool -K vb0 tx off", g.nsb) == 0;
        }
        mpd_start(&g.d, 2);
}

static void e2e_run(void)
{
        world_make();
        monitor_start();
        router_conf();
        hosts_conf();
        traffic_ok();
        monitor_check();
        json_check();
        capture_check();
        restart(SIGTERM);
        traffic_ok();
        restart(SIGKILL);
        traffic_ok();
        /* The daemon that came back after kill -9 joined the XDP program
         * left attached: its SIGTERM removes that too. */
        sigterm_check(mpd_stop(&g.d, SIGTERM));
}

static void test_tap_router(void **state)
{
        (void)state;
        SKIP_IF(g_skip);
        e2e_run();
}

static void test_afxdp_router(void **state)
{
        (void)state;
        SKIP_IF(g_skip);
        SKIP_IF(!kt_have_cap(KT_CAP_BPF) ? "no CAP_BPF (needed to load the XDP program)" : NULL);
        SKIP_IF(kt_af_xdp_missing());
        e2e_run();
}

static int setup(bool xdp)
{
        memset(&g, 0, sizeof(g));
        g.xdp = xdp;
        return 0;
}

static int setup_tap(void **state)
{
        (void)state;
        return setup(false);
}

static int setup_xdp(void **state)
{
        (void)state;
        return setup(true);
}

/* Every path: the daemon (SIGTERM removes its devices), the monitor, the
 * namespaces, the directory. */
static int teardown(void **state)
{
        (void)state;
        monitor_stop();
        if (g.d.dir[0] != '\0')
                mpd_fini(&g.d);
        kt_ns_del(g.nsa);
        kt_ns_del(g.nsb);
        kt_ns_del(g.nsr);
        return 0;
}

static int group_setup(void **state)
{
        (void)state;
        g_skip = kt_skip_reason(true);
        if (g_skip == NULL && (access("./mpnetd", X_OK) != 0 || access("./mpnetctl", X_OK) != 0))
                g_skip = "mpnetd or mpnetctl is not in the working directory";
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_tap_router, setup_tap, teardown),
            cmocka_unit_test_setup_teardown(test_afxdp_router, setup_xdp, teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, NULL);
}
