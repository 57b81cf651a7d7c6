/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 with the Linux kernel as a peer (issue 7): mpnet takes the end of a
 * veth pair over through AF_PACKET (or is the far end of a kernel tap), the
 * kernel's end sits in a namespace of its own with IPv6 on.
 *
 * - neighbour discovery both ways, global and link-local: each side pings
 *   the other, both neighbour tables hold the other's MAC, mpnet's duplicate
 *   address detection completes with the kernel present, and a tcpdump
 *   capture on the kernel's side has no malformed frame or bad checksum;
 * - duplicate address detection against the kernel, both ways round;
 * - SLAAC from the kernel: radvd in the kernel's namespace advertises a
 *   prefix; mpnet autoconfigures an address and a default route from it;
 * - SLAAC the other way: mpnet advertises, the kernel (accept_ra 2)
 *   autoconfigures and takes mpnet as its default router;
 * - mpnet routes IPv6 between two kernel hosts (hop limit 63 on arrival).
 *
 * Each test makes its namespaces (mpk6k-PID: the kernel host, mpk6m-PID:
 * mpnet's veth ends, IPv6 off so that the kernel there stays silent,
 * mpk6b-PID: a second kernel host) and removes them. Only 2001:db8::/32 and
 * fe80::/10 are used. One thread runs the stack while the kernel acts,
 * sleeping on the links (mpnet_link_rx_wait_arm); the test thread drives the
 * stack itself only while that thread is stopped.
 *
 * Skipped (with the reason) when not root, without CAP_NET_ADMIN, CAP_NET_RAW
 * or CAP_SYS_ADMIN, or without ip(8); the radvd test without radvd.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "ip6util.h"
#include "mpnet/afpacket.h"
#ifdef MPNET_HAVE_AFXDP
#include "mpnet/afxdp.h"
#endif
#include "mpnet/tap.h"
#include "netns_util.h"

struct k6 {
        char ns_k[64], ns_m[64], ns_b[64];
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_stack *st;
        struct mpnet_link *l[2];
        int n_links;
        pthread_t th;
        atomic_bool stop;
        bool running;
        pid_t radvd;
        char radvd_conf[128], radvd_pid[128], radvd_log[128];
};

static struct k6 g;
static const char *g_skip;

#define SKIP_WITHOUT_KERNEL()                                                                      \
        do {                                                                                       \
                if (g_skip != NULL) {                                                              \
                        print_message("skipped: %s\n", g_skip);                                    \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

static int setup(void **state)
{
        (void)state;
        memset(&g, 0, sizeof(g));
        g.radvd = -1;
        g_skip = kt_skip_reason(false);
        if (g_skip != NULL)
                return 0;
        if (kt_ns_add(g.ns_k, sizeof(g.ns_k), "mpk6k") != 0 ||
            kt_ns_add(g.ns_m, sizeof(g.ns_m), "mpk6m") != 0) {
                g_skip = "cannot create a network namespace (ip netns add failed)";
                return 0;
        }
        /* kt_ns_add turns IPv6 off; the kernel host needs it. */
        if (kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=0 "
                  "net.ipv6.conf.default.disable_ipv6=0",
                  g.ns_k) != 0)
                return -1;
        return 0;
}

static void stack_stop(void);

static int teardown(void **state)
{
        (void)state;
        stack_stop();
        mpnet_stack_destroy(g.st);
        for (int i = 0; i < g.n_links; i++)
                mpnet_link_destroy(g.l[i]);
        if (g.pool != NULL) {
                mpnet_pool_flush_cache(g.pool);
                assert_int_equal(mpnet_pool_in_use(g.pool), 0);
                mpnet_pool_destroy(g.pool);
        }
        if (g.radvd > 0) {
                kill(g.radvd, SIGTERM);
                waitpid(g.radvd, NULL, 0);
        }
        if (g.radvd_conf[0] != '\0') {
                unlink(g.radvd_conf);
                unlink(g.radvd_pid);
                unlink(g.radvd_log);
        }
        kt_ns_del(g.ns_k);
        kt_ns_del(g.ns_m);
        kt_ns_del(g.ns_b);
        memset(&g, 0, sizeof(g));
        return 0;
}

/* ---- the kernel's side ------------------------------------------------------ */

/* A veth pair: kif in the kernel namespace nsk, mif in mpnet's with IPv6 off
 * (its kernel must not speak for mpnet). Left down. */
static void veth_make(const char *nsk, const char *kif, const char *mif)
{
        assert_int_equal(
            kt_sh("ip -n %s link add %s type veth peer name %s netns %s", nsk, kif, mif, g.ns_m),
            0);
        assert_int_equal(
            kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", g.ns_m, mif), 0);
        assert_int_equal(kt_sh("ip -n %s link set %s up", g.ns_m, mif), 0);
}

static void link_up(const char *ns, const char *ifname)
{
        assert_int_equal(kt_sh("ip -n %s link set %s up", ns, ifname), 0);
}

/* Run a shell command until it succeeds, at most ms. */
static bool __attribute__((format(printf, 2, 3))) k_until(unsigned ms, const char *fmt, ...)
{
        uint64_t end = mpnet_monotonic_ns() + ms * MPNET_NS_PER_MS;
        char cmd[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        do {
                if (kt_sh("%s", cmd) == 0)
                        return true;
                usleep(50000);
        } while (mpnet_monotonic_ns() < end);
        return false;
}

/* Wait until the kernel's addresses on ifname are past their DAD. */
static void k_wait_dad(const char *ns, const char *ifname)
{
        assert_true(k_until(5000,
                            "ip -n %s -6 addr show dev %s | grep -q inet6 && "
                            "test -z \"$(ip -n %s -6 addr show dev %s tentative)\"",
                            ns, ifname, ns, ifname));
}

static void ntop6(const uint8_t *a, char *s)
{
        assert_non_null(inet_ntop(AF_INET6, a, s, INET6_ADDRSTRLEN));
}

/* The address SLAAC makes from a /64 and a MAC (RFC 4862 5.5.3, EUI-64). */
static void eui64_addr(const char *prefix, const uint8_t *mac, uint8_t *out)
{
        ll_of(mac, out);
        memcpy(out, A6(prefix), 8);
}

/* ---- mpnet's side ----------------------------------------------------------- */

static void stack_make(bool router)
{
        struct mpnet_stack_cfg sc = {.name = "k6", .seed = (uint64_t)getpid()};

        mpnet_clock_init_monotonic(&g.clk);
        g.pool = mpnet_pool_create("k6", 8192);
        assert_non_null(g.pool);
        sc.clock = &g.clk;
        sc.pool = g.pool;
        sc.ip6_forwarding = router;
        g.st = mpnet_stack_create(&sc);
        assert_non_null(g.st);
}

static int afp_attach(const char *ifname)
{
        char err[256] = "";
        struct mpnet_afpacket_cfg c = {.ifname = ifname,
                                       .netns = g.ns_m,
                                       .pool = g.pool,
                                       .errbuf = err,
                                       .errbuf_len = sizeof(err)};
        struct mpnet_link *l = mpnet_afpacket_create(&c);
        int ifindex;

        if (l == NULL)
                fail_msg("afpacket on %s: %s (%s)", ifname, err, strerror(errno));
        g.l[g.n_links++] = l;
        ifindex = mpnet_iface_attach(g.st, l, ifname);
        assert_int_equal(ifindex, g.n_links);
        return ifindex;
}

#ifdef MPNET_HAVE_AFXDP
/* mpnet's veth end through AF_XDP (generic mode, copy: what veth offers). */
static int afxdp_attach(const char *ifname)
{
        char err[256] = "";
        struct mpnet_afxdp_cfg c = {.ifname = ifname,
                                    .netns = g.ns_m,
                                    .pool = g.pool,
                                    .mode = MPNET_AFXDP_MODE_GENERIC,
                                    .errbuf = err,
                                    .errbuf_len = sizeof(err)};
        struct mpnet_link *l = mpnet_afxdp_create(&c);
        int ifindex;

        if (l == NULL)
                fail_msg("afxdp on %s: %s (%s)", ifname, err, strerror(errno));
        g.l[g.n_links++] = l;
        ifindex = mpnet_iface_attach(g.st, l, ifname);
        assert_int_equal(ifindex, g.n_links);
        return ifindex;
}
#endif

/* A tap device kif in the kernel's namespace, mpnet at its far end. */
static int tap_attach(const char *kif)
{
        char err[256] = "";
        struct mpnet_tap_cfg c = {.ifname = kif,
                                  .netns = g.ns_k,
                                  .pool = g.pool,
                                  .errbuf = err,
                                  .errbuf_len = sizeof(err)};
        struct mpnet_link *l = mpnet_tap_create(&c);
        int ifindex;

        if (l == NULL)
                fail_msg("mpnet_tap_create(%s): %s (%s)", kif, err, strerror(errno));
        g.l[g.n_links++] = l;
        ifindex = mpnet_iface_attach(g.st, l, kif);
        assert_int_equal(ifindex, g.n_links);
        return ifindex;
}

/* Poll the stack once, then sleep on every link until a frame or the next
 * timer, at most max_ms. */
static void stack_poll(int max_ms)
{
        uint64_t now = mpnet_clock_now(&g.clk), next = mpnet_stack_poll(g.st, now);
        struct pollfd pf[2];
        int n = 0, ms = max_ms;

        if (next <= now)
                return;
        if (next != MPNET_TIME_NEVER && (next - now) / MPNET_NS_PER_MS < (uint64_t)ms)
                ms = (int)((next - now) / MPNET_NS_PER_MS);
        for (int i = 0; i < g.n_links; i++) {
                int fd = mpnet_link_rx_wait_arm(g.l[i], 0);

                if (fd == -EAGAIN)
                        return; /* a frame is there: poll again */
                if (fd >= 0)
                        pf[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
        poll(pf, (nfds_t)n, ms);
}

static void *stack_main(void *arg)
{
        (void)arg;
        while (!atomic_load(&g.stop))
                stack_poll(10);
        return NULL;
}

/* From here the stack's thread drives it while the kernel acts. */
static void stack_start(void)
{
        assert_false(g.running);
        atomic_store(&g.stop, false);
        assert_int_equal(pthread_create(&g.th, NULL, stack_main, NULL), 0);
        g.running = true;
}

/* From here the test thread may call the stack again. */
static void stack_stop(void)
{
        if (!g.running)
                return;
        atomic_store(&g.stop, true);
        pthread_join(g.th, NULL);
        g.running = false;
}

/* Drive the stack from the test thread until fn holds, at most ms. */
static bool stack_until(unsigned ms, bool (*fn)(const void *arg), const void *arg)
{
        uint64_t end = mpnet_monotonic_ns() + ms * MPNET_NS_PER_MS;

        assert_false(g.running);
        while (!fn(arg) && mpnet_monotonic_ns() < end)
                stack_poll(5);
        return fn(arg);
}

struct addr_at {
        int ifindex;
        const uint8_t *a;
};

static bool addr_usable(const void *arg)
{
        const struct addr_at *x = arg;

        return addr6_flags(g.st, x->ifindex, x->a) == 0;
}

static bool addr_dup(const void *arg)
{
        const struct addr_at *x = arg;
        uint32_t f = addr6_flags(g.st, x->ifindex, x->a);

        return f != UINT32_MAX && (f & MPNET_ADDR6_F_DUPLICATED);
}

/* Wait until mpnet's address is past DAD: present, no flag left. */
static void wait_usable(int ifindex, const uint8_t *a)
{
        struct addr_at x = {ifindex, a};
        char s[INET6_ADDRSTRLEN];

        if (!stack_until(6000, addr_usable, &x)) {
                ntop6(a, s);
                fail_msg("mpnet's %s: flags 0x%x after 6 s", s, addr6_flags(g.st, ifindex, a));
        }
}

/* mpnet pings dst count times; @return the replies, the last one's hop
 * limit in *hlim. */
static unsigned mp_ping6(const uint8_t *dst, int ifindex, uint16_t count, uint8_t *hlim)
{
        unsigned ok = 0;

        assert_false(g.running);
        for (uint16_t seq = 1; seq <= count; seq++) {
                struct mpnet_ping6_req req = {
                    .ifindex = ifindex, .id = 0x6b36, .seq = seq, .payload_len = 56};
                uint64_t end = mpnet_monotonic_ns() + 2 * MPNET_NS_PER_S;
                bool got = false;
                int rc;

                memcpy(req.dst, dst, 16);
                rc = mpnet_ping6_send(g.st, &req, mpnet_clock_now(&g.clk));
                if (rc != 0) {
                        print_message("mpnet_ping6_send: %s\n", strerror(-rc));
                        continue;
                }
                while (!got && mpnet_monotonic_ns() < end) {
                        struct mpnet_ping6_reply r[4];
                        unsigned n;

                        stack_poll(2);
                        n = mpnet_ping6_recv(g.st, r, 4);
                        for (unsigned i = 0; i < n; i++) {
                                if (r[i].type == MPNET_ICMP6_ECHO_REPLY && r[i].seq == seq &&
                                    memcmp(r[i].from, dst, 16) == 0) {
                                        got = true;
                                        if (hlim != NULL)
                                                *hlim = r[i].hop_limit;
                                }
                        }
                }
                ok += got;
        }
        return ok;
}

/* The kernel's neighbour entry for addr on ifname holds mac. */
static bool k_neigh_has(const char *ns, const char *ifname, const uint8_t *addr, const uint8_t *mac,
                        bool router)
{
        char a[INET6_ADDRSTRLEN], m[32], out[256];

        ntop6(addr, a);
        kt_mac_str(mac, m);
        kt_sh_out(out, sizeof(out), "ip -n %s -6 neigh show dev %s %s", ns, ifname, a);
        print_message("kernel: %s\n", out);
        return strstr(out, m) != NULL && (!router || strstr(out, "router") != NULL);
}

static void capture_file(char *file, size_t n, const char *name)
{
        const char *dir = getenv("MPNET_TEST_OUT");

        snprintf(file, n, "%s/%s-%d.pcap", dir ? dir : "/tmp", name, (int)getpid());
}

/* Stop the capture; no frame malformed or with a bad checksum. In the same
 * tshark pass, the counts of frames matching n filters into out[]. */
static struct kt_frames capture_check(struct kt_capture *cap, const char *file,
                                      const char *const *filters, size_t n, long *out)
{
        struct kt_frames fr;

        kt_capture_stop(cap);
        fr = kt_tshark_frames_n(file, filters, n, out);
        print_message(
            "capture: %ld frames: echo %ld/%ld, RS %ld, RA %ld, NS %ld, NA %ld, %ld bad\n",
            fr.total, fr.icmp6_req, fr.icmp6_rep, fr.nd_rs, fr.nd_ra, fr.nd_ns, fr.nd_na, fr.bad);
        assert_int_equal(fr.bad, 0);
        return fr;
}

/*
 * Neighbour discovery both ways (RFC 4861): mpnet (2001:db8:1::1/64 and its
 * link-local address) and the kernel (2001:db8:1::2/64 and its own) ping
 * each other, global and link-local, each resolving the other; both tables
 * end up with the other's MAC. mpnet's DAD (RFC 4862) completes beside the
 * kernel, and the kernel's capture is clean.
 */
enum back_end { BE_AFPACKET, BE_TAP, BE_AFXDP };

static void nd_both_ways(enum back_end be)
{
        static const char *const cap_name[] = {"kernel_ip6_afp", "kernel_ip6_tap",
                                               "kernel_ip6_afxdp"};
        uint8_t kmac[6], mmac[6], kll[16], mll[16], kaddr[16], maddr[16], hlim = 0;
        char file[512], s_mll[INET6_ADDRSTRLEN], s_kll[INET6_ADDRSTRLEN];
        struct mpnet_neigh_info ni;
        struct kt_capture cap;
        struct kt_frames fr;
        bool captured;
        int ifi;

        SKIP_WITHOUT_KERNEL();
        memcpy(kaddr, A6("2001:db8:1::2"), 16);
        memcpy(maddr, A6("2001:db8:1::1"), 16);
        stack_make(false);
        if (be == BE_TAP) {
                ifi = tap_attach("k0"); /* brought up by the link */
        } else {
                veth_make(g.ns_k, "k0", "m0");
                link_up(g.ns_k, "k0");
#ifdef MPNET_HAVE_AFXDP
                ifi = be == BE_AFXDP ? afxdp_attach("m0") : afp_attach("m0");
#else
                ifi = afp_attach("m0");
#endif
        }
        assert_int_equal(kt_sh("ip -n %s -6 addr add 2001:db8:1::2/64 dev k0 nodad", g.ns_k), 0);
        assert_int_equal(kt_if_mac(g.ns_k, "k0", kmac), 0);
        memcpy(mmac, g.l[0]->info.mac, 6);
        ll_of(kmac, kll);
        ll_of(mmac, mll);
        ntop6(kll, s_kll);
        ntop6(mll, s_mll);
        capture_file(file, sizeof(file), cap_name[be]);
        captured = kt_capture_start(&cap, g.ns_k, "k0", file) == 0;

        /* DAD on both of mpnet's addresses with the kernel listening. */
        assert_int_equal(mpnet_iface_ip6_enable(g.st, ifi), 0);
        assert_int_equal(mpnet_addr6_add(g.st, ifi, maddr, 64, 0), 0);
        assert_int_equal(addr6_flags(g.st, ifi, maddr), MPNET_ADDR6_F_TENTATIVE);
        wait_usable(ifi, mll);
        wait_usable(ifi, maddr);
        assert_int_equal(stk_ctr(g.st, "nd_dad_dup"), 0);
        stack_start();
        k_wait_dad(g.ns_k, "k0");
        stack_stop();

        /* mpnet resolves the kernel and pings it, global then link-local. */
        assert_int_equal(mp_ping6(kaddr, 0, 3, &hlim), 3);
        assert_int_equal(hlim, 64);
        assert_int_equal(mp_ping6(kll, ifi, 2, NULL), 2);
        assert_int_equal(mpnet_neigh6_get(g.st, ifi, kaddr, &ni), 0);
        assert_memory_equal(ni.mac, kmac, 6);
        assert_false(ni.router);
        assert_int_equal(mpnet_neigh6_get(g.st, ifi, kll, &ni), 0);
        assert_memory_equal(ni.mac, kmac, 6);

        /* The kernel, its table flushed, resolves mpnet and pings it. */
        assert_int_equal(kt_sh("ip -n %s -6 neigh flush dev k0", g.ns_k), 0);
        stack_start();
        assert_int_equal(kt_sh("timeout 10 ip netns exec %s ping -6 -n -c 3 -i 0.02 -w 8 "
                               "2001:db8:1::1",
                               g.ns_k),
                         0);
        assert_int_equal(
            kt_sh("timeout 10 ip netns exec %s ping -6 -n -c 2 -i 0.02 -w 8 %s%%k0", g.ns_k, s_mll),
            0);
        stack_stop();
        assert_true(k_neigh_has(g.ns_k, "k0", maddr, mmac, false));
        assert_true(k_neigh_has(g.ns_k, "k0", mll, mmac, false));
        assert_true(stk_ctr(g.st, "nd_na_tx") >= 2);
        assert_true(stk_ctr(g.st, "nd_na_rx") >= 2);
        assert_int_equal(stk_ctr(g.st, "nd_invalid"), 0);
        assert_int_equal(stk_ctr(g.st, "nd_bad_opt"), 0);

        if (captured) {
                static const char *const probes[] = {"ipv6.src==:: && icmpv6.type==135"};
                long n;

                fr = capture_check(&cap, file, probes, 1, &n);
                assert_true(fr.icmp6_req >= 10 && fr.icmp6_rep >= 10);
                assert_true(fr.nd_ns >= 4 && fr.nd_na >= 2);
                /* mpnet's DAD probes for both addresses (from ::). */
                assert_true(n >= 2);
                unlink(file);
        }
}

static void test_nd_both_ways_afpacket(void **state)
{
        (void)state;
        nd_both_ways(BE_AFPACKET);
}

static void test_nd_both_ways_tap(void **state)
{
        (void)state;
        if (g_skip == NULL && access("/dev/net/tun", R_OK | W_OK) != 0) {
                print_message("skipped: no /dev/net/tun\n");
                skip();
        }
        nd_both_ways(BE_TAP);
}

static void test_nd_both_ways_afxdp(void **state)
{
        (void)state;
#ifdef MPNET_HAVE_AFXDP
        if (kt_af_xdp_missing() != NULL) {
                print_message("skipped: %s\n", kt_af_xdp_missing());
                skip();
        }
        nd_both_ways(BE_AFXDP);
#else
        print_message("skipped: built without the AF_XDP link\n");
        skip();
#endif
}

/*
 * DAD against the kernel (RFC 4862 5.4): the kernel holds 2001:db8:1::5; mpnet
 * adding it hears the kernel's advertisement, marks it duplicated and never
 * sends from it nor answers for it. The other way round, the kernel adding
 * mpnet's 2001:db8:1::6 finds it taken (dadfailed).
 */
static void test_dad_against_kernel(void **state)
{
        uint8_t dup[16], mine[16], out6[16], mmac[6];
        char file[512], mac[32], filter[2][256];
        struct mpnet_ping6_req req = {.id = 1, .seq = 1, .payload_len = 8};
        struct addr_at x;
        struct kt_capture cap;
        bool captured;
        char out[512];
        int ifi, rc;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        memcpy(dup, A6("2001:db8:1::5"), 16);
        memcpy(mine, A6("2001:db8:1::6"), 16);
        stack_make(false);
        veth_make(g.ns_k, "k0", "m0");
        link_up(g.ns_k, "k0");
        assert_int_equal(kt_sh("ip -n %s -6 addr add 2001:db8:1::5/64 dev k0 nodad", g.ns_k), 0);
        ifi = afp_attach("m0");
        memcpy(mmac, g.l[0]->info.mac, 6);
        kt_mac_str(mmac, mac);
        capture_file(file, sizeof(file), "kernel_ip6_dad");
        captured = kt_capture_start(&cap, g.ns_k, "k0", file) == 0;

        assert_int_equal(mpnet_iface_ip6_enable(g.st, ifi), 0);
        assert_int_equal(mpnet_addr6_add(g.st, ifi, dup, 64, 0), 0);
        x = (struct addr_at){ifi, dup};
        assert_true(stack_until(4000, addr_dup, &x));
        print_message("mpnet's 2001:db8:1::5: flags 0x%x\n", addr6_flags(g.st, ifi, dup));
        assert_int_equal(stk_ctr(g.st, "nd_dad_dup"), 1);
        /* Never used: no source for the kernel's prefix, no route through it. */
        rc = mpnet_ip6_src_select(g.st, A6("2001:db8:1::7"), 0, out6);
        assert_true(rc != 0 || memcmp(out6, dup, 16) != 0);
        memcpy(req.dst, A6("2001:db8:1::5"), 16);
        rc = mpnet_ping6_send(g.st, &req, mpnet_clock_now(&g.clk));
        print_message("ping6 to the kernel's 2001:db8:1::5: %s\n", strerror(-rc));
        assert_true(rc == -ENETUNREACH || rc == -EADDRNOTAVAIL);

        /* The kernel's address is unharmed. */
        kt_sh_out(out, sizeof(out), "ip -n %s -6 addr show dev k0 | grep 2001:db8:1::5/", g.ns_k);
        print_message("kernel: %s\n", out);
        assert_non_null(strstr(out, "2001:db8:1::5/64"));
        assert_null(strstr(out, "dadfailed"));
        assert_null(strstr(out, "tentative"));

        /* The other way round: mpnet's address first, then the kernel's DAD. */
        assert_int_equal(mpnet_addr6_add(g.st, ifi, mine, 64, 0), 0);
        wait_usable(ifi, mine);
        stack_start();
        assert_int_equal(kt_sh("ip -n %s -6 addr add 2001:db8:1::6/64 dev k0", g.ns_k), 0);
        assert_true(k_until(5000,
                            "ip -n %s -6 addr show dev k0 | grep '2001:db8:1::6/64' | "
                            "grep -q dadfailed",
                            g.ns_k));
        stack_stop();
        assert_int_equal(addr6_flags(g.st, ifi, mine), 0);
        /* Let a late frame from mpnet reach the capture. */
        stack_start();
        usleep(300000);
        stack_stop();

        if (captured) {
                const char *const filters[] = {filter[0], filter[1]};
                long n[2];

                /* mpnet's probe for ::5 went out (so the capture sees mpnet)... */
                snprintf(
                    filter[0], sizeof(filter[0]),
                    "eth.src==%s && ipv6.src==:: && icmpv6.nd.ns.target_address==2001:db8:1::5",
                    mac);
                /* ...and nothing from or for ::5 after it. */
                snprintf(filter[1], sizeof(filter[1]),
                         "eth.src==%s && (ipv6.src==2001:db8:1::5 || "
                         "icmpv6.nd.na.target_address==2001:db8:1::5)",
                         mac);
                capture_check(&cap, file, filters, 2, n);
                assert_true(n[0] >= 1);
                assert_int_equal(n[1], 0);
                unlink(file);
        }
}

/* Start radvd in the kernel's namespace on ifname, advertising prefix/64
 * every 3 to 4 s. */
static void radvd_start(const char *ifname, const char *prefix)
{
        FILE *f;

        snprintf(g.radvd_conf, sizeof(g.radvd_conf), "/tmp/mpk6-radvd-%d.conf", (int)getpid());
        snprintf(g.radvd_pid, sizeof(g.radvd_pid), "/tmp/mpk6-radvd-%d.pid", (int)getpid());
        snprintf(g.radvd_log, sizeof(g.radvd_log), "/tmp/mpk6-radvd-%d.log", (int)getpid());
        f = fopen(g.radvd_conf, "w");
        assert_non_null(f);
        fprintf(f,
                "interface %s {\n"
                "  AdvSendAdvert on;\n"
                "  MinRtrAdvInterval 3;\n"
                "  MaxRtrAdvInterval 4;\n"
                "  prefix %s/64 { AdvOnLink on; AdvAutonomous on; };\n"
                "};\n",
                ifname, prefix);
        fclose(f);
        chmod(g.radvd_conf, 0644);
        g.radvd = fork();
        assert_true(g.radvd >= 0);
        if (g.radvd == 0) {
                int fd = open(g.radvd_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                /* ip netns exec execs radvd: this pid is radvd's. */
                execlp("ip", "ip", "netns", "exec", g.ns_k, "radvd", "-n", "-m", "stderr", "-C",
                       g.radvd_conf, "-p", g.radvd_pid, (char *)NULL);
                _exit(127);
        }
}

struct autoconf {
        int ifindex;
        uint8_t want[16];
};

static bool autoconf_usable(const void *arg)
{
        const struct autoconf *a = arg;

        return addr6_flags(g.st, a->ifindex, a->want) == MPNET_ADDR6_F_AUTOCONF;
}

/*
 * SLAAC from the kernel (RFC 4862 5.5): radvd in the kernel's namespace
 * advertises 2001:db8:3::/64; mpnet's host stack autoconfigures
 * prefix + EUI-64, takes the kernel's link-local address as its default
 * router, and pings the kernel's global address through it.
 */
static void test_slaac_from_radvd(void **state)
{
        uint8_t kmac[6], kll[16], hlim = 0;
        struct autoconf ac;
        struct mpnet_route6 rt;
        struct mpnet_neigh_info ni;
        char s[INET6_ADDRSTRLEN];
        int ifi;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        if (!kt_tool("radvd")) {
                print_message("skipped: radvd is not installed (scripts/install-deps.sh)\n");
                skip();
        }
        stack_make(false);
        veth_make(g.ns_k, "k0", "m0");
        assert_int_equal(
            kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.forwarding=1", g.ns_k), 0);
        link_up(g.ns_k, "k0");
        assert_int_equal(kt_sh("ip -n %s -6 addr add 2001:db8:3::2/64 dev k0 nodad", g.ns_k), 0);
        assert_int_equal(kt_if_mac(g.ns_k, "k0", kmac), 0);
        ll_of(kmac, kll);
        k_wait_dad(g.ns_k, "k0"); /* radvd needs the link-local address */
        radvd_start("k0", "2001:db8:3::");
        ifi = afp_attach("m0");
        ac.ifindex = ifi;
        eui64_addr("2001:db8:3::", g.l[0]->info.mac, ac.want);
        ntop6(ac.want, s);

        /* Link-local with DAD, a solicitation, radvd's answer, SLAAC. */
        assert_int_equal(mpnet_iface_ip6_enable(g.st, ifi), 0);
        if (!stack_until(10000, autoconf_usable, &ac)) {
                bool alive = waitpid(g.radvd, NULL, WNOHANG) == 0;

                if (!alive)
                        g.radvd = -1; /* reaped: teardown must not signal that pid */
                fail_msg("no usable SLAAC address %s after 10 s: flags 0x%x, %llu RA received, "
                         "radvd %s (log: %s)",
                         s, addr6_flags(g.st, ifi, ac.want),
                         (unsigned long long)stk_ctr(g.st, "nd_ra_rx"),
                         alive ? "running" : "exited", g.radvd_log);
        }
        print_message("mpnet autoconfigured %s\n", s);
        /* From an RA; whether mpnet's solicitation or radvd's unsolicited
         * first advertisement came first depends on timing (an RA that
         * comes first ends the solicitations, RFC 4861 6.3.7). */
        assert_true(stk_ctr(g.st, "nd_ra_rx") >= 1);
        /* The default route via the kernel's link-local address, a router. */
        assert_int_equal(mpnet_route6_lookup(g.st, 0, A6("2001:db8:99::1"), &rt), 0);
        assert_int_equal(rt.type, MPNET_NH_GATEWAY);
        assert_int_equal(rt.plen, 0);
        assert_int_equal(rt.paths[0].ifindex, ifi);
        assert_memory_equal(rt.paths[0].gw, kll, 16);

        assert_int_equal(mp_ping6(A6("2001:db8:3::2"), 0, 3, &hlim), 3);
        assert_int_equal(hlim, 64);
        assert_int_equal(mpnet_neigh6_get(g.st, ifi, kll, &ni), 0);
        assert_true(ni.router);
        assert_memory_equal(ni.mac, kmac, 6);
        /* The kernel saw mpnet's SLAAC address as the source. */
        assert_true(k_neigh_has(g.ns_k, "k0", ac.want, g.l[0]->info.mac, false));
}

/*
 * mpnet as the router (RFC 4861 6.2): it advertises 2001:db8:2::/64 on its
 * interface; the kernel (accept_ra 2, forwarding off) autoconfigures
 * prefix + EUI-64, takes mpnet's link-local address as its default router,
 * and pings mpnet's 2001:db8:2::1.
 */
static void test_kernel_slaac_from_mpnet(void **state)
{
        struct mpnet_ra_cfg c = {.max_interval_ms = 4000, .min_interval_ms = 3000, .n_prefix = 1};
        uint8_t kmac[6], mll[16], kaddr[16];
        char s_k[INET6_ADDRSTRLEN], s_mll[INET6_ADDRSTRLEN], out[256], file[512];
        struct mpnet_neigh_info ni;
        struct kt_capture cap;
        struct kt_frames fr;
        bool captured;
        int ifi;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        stack_make(true);
        veth_make(g.ns_k, "k0", "m0");
        assert_int_equal(kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.forwarding=0 "
                               "net.ipv6.conf.k0.forwarding=0 net.ipv6.conf.k0.accept_ra=2",
                               g.ns_k),
                         0);
        assert_int_equal(kt_if_mac(g.ns_k, "k0", kmac), 0);
        eui64_addr("2001:db8:2::", kmac, kaddr);
        ntop6(kaddr, s_k);
        ifi = afp_attach("m0");
        ll_of(g.l[0]->info.mac, mll);
        ntop6(mll, s_mll);
        assert_int_equal(mpnet_addr6_add(g.st, ifi, A6("2001:db8:2::1"), 64, 0), 0);
        memcpy(c.prefix[0].prefix, A6("2001:db8:2::"), 16);
        c.prefix[0].plen = 64;
        c.prefix[0].onlink = c.prefix[0].autonomous = true;
        assert_int_equal(mpnet_iface_ra_set(g.st, ifi, &c), 0);
        wait_usable(ifi, mll);
        wait_usable(ifi, A6("2001:db8:2::1"));
        capture_file(file, sizeof(file), "kernel_ip6_ra");
        captured = kt_capture_start(&cap, g.ns_k, "k0", file) == 0;

        /* The kernel comes up: DAD, a solicitation, mpnet's answer. */
        stack_start();
        link_up(g.ns_k, "k0");
        if (!k_until(10000,
                     "ip -n %s -6 addr show dev k0 | grep -v tentative | grep -q 'inet6 %s/64'",
                     g.ns_k, s_k)) {
                kt_sh_out(out, sizeof(out), "ip -n %s -6 addr show dev k0 scope global", g.ns_k);
                fail_msg("the kernel did not autoconfigure %s in 10 s (%s)", s_k, out);
        }
        assert_true(k_until(2000,
                            "ip -n %s -6 route show default | grep -q 'via %s dev k0 proto ra'",
                            g.ns_k, s_mll));
        kt_sh_out(out, sizeof(out), "ip -n %s -6 route show default", g.ns_k);
        print_message("kernel: %s\n", out);
        assert_int_equal(kt_sh("timeout 10 ip netns exec %s ping -6 -n -c 3 -i 0.02 -w 8 "
                               "2001:db8:2::1",
                               g.ns_k),
                         0);
        stack_stop();
        /* The kernel knows mpnet as a router (the NA's R flag, RFC 4861 4.4). */
        assert_true(k_neigh_has(g.ns_k, "k0", mll, g.l[0]->info.mac, true));
        assert_int_equal(mpnet_neigh6_get(g.st, ifi, kaddr, &ni), 0);
        assert_memory_equal(ni.mac, kmac, 6);
        assert_true(stk_ctr(g.st, "nd_ra_tx") >= 1);
        if (captured) {
                fr = capture_check(&cap, file, NULL, 0, NULL);
                assert_true(fr.nd_ra >= 1 && fr.nd_rs >= 1);
                assert_true(fr.icmp6_req >= 3 && fr.icmp6_rep >= 3);
                unlink(file);
        }
}

/*
 * mpnet routes IPv6 between two kernel hosts (as test_kernel_route does for
 * IPv4): A 2001:db8:a::2/64 and B 2001:db8:b::2/64, default routes via
 * mpnet's ::1 on each side; ping -6 crosses both ways and arrives with hop
 * limit 63.
 */
static void test_route_between_kernels(void **state)
{
        char out[256], file[512];
        struct mpnet_neigh_info ni;
        struct kt_capture cap;
        bool captured;
        int ia, ib;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        assert_int_equal(kt_ns_add(g.ns_b, sizeof(g.ns_b), "mpk6b"), 0);
        assert_int_equal(kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=0 "
                               "net.ipv6.conf.default.disable_ipv6=0",
                               g.ns_b),
                         0);
        stack_make(true);
        veth_make(g.ns_k, "a0", "ra");
        veth_make(g.ns_b, "b0", "rb");
        link_up(g.ns_k, "a0");
        link_up(g.ns_b, "b0");
        assert_int_equal(kt_sh("ip -n %s -6 addr add 2001:db8:a::2/64 dev a0 nodad && "
                               "ip -n %s -6 route add default via 2001:db8:a::1",
                               g.ns_k, g.ns_k),
                         0);
        assert_int_equal(kt_sh("ip -n %s -6 addr add 2001:db8:b::2/64 dev b0 nodad && "
                               "ip -n %s -6 route add default via 2001:db8:b::1",
                               g.ns_b, g.ns_b),
                         0);
        ia = afp_attach("ra");
        ib = afp_attach("rb");
        assert_int_equal(mpnet_iface_ip6_enable(g.st, ia), 0);
        assert_int_equal(mpnet_iface_ip6_enable(g.st, ib), 0);
        assert_int_equal(mpnet_addr6_add(g.st, ia, A6("2001:db8:a::1"), 64, 0), 0);
        assert_int_equal(mpnet_addr6_add(g.st, ib, A6("2001:db8:b::1"), 64, 0), 0);
        wait_usable(ia, A6("2001:db8:a::1"));
        wait_usable(ib, A6("2001:db8:b::1"));
        capture_file(file, sizeof(file), "kernel_ip6_route");
        captured = kt_capture_start(&cap, g.ns_b, "b0", file) == 0;

        stack_start();
        assert_int_equal(kt_sh("timeout 10 ip netns exec %s ping -6 -n -c 3 -i 0.02 -w 8 "
                               "2001:db8:b::2",
                               g.ns_k),
                         0);
        assert_int_equal(kt_sh("timeout 10 ip netns exec %s ping -6 -n -c 3 -i 0.02 -w 8 "
                               "2001:db8:a::2",
                               g.ns_b),
                         0);
        assert_int_equal(kt_sh_out(out, sizeof(out),
                                   "timeout 5 ip netns exec %s ping -6 -n -c 1 -W 2 2001:db8:b::2 "
                                   "| grep ttl=",
                                   g.ns_k),
                         0);
        print_message("A: %s\n", out);
        assert_non_null(strstr(out, "ttl=63"));
        assert_int_equal(kt_sh_out(out, sizeof(out),
                                   "timeout 5 ip netns exec %s ping -6 -n -c 1 -W 2 2001:db8:a::2 "
                                   "| grep ttl=",
                                   g.ns_b),
                         0);
        print_message("B: %s\n", out);
        assert_non_null(strstr(out, "ttl=63"));
        stack_stop();
        assert_int_equal(mpnet_neigh6_get(g.st, ia, A6("2001:db8:a::2"), &ni), 0);
        assert_int_equal(mpnet_neigh6_get(g.st, ib, A6("2001:db8:b::2"), &ni), 0);
        assert_true(stk_ctr(g.st, "ip6_forwarded") >= 16);
        if (captured) {
                static const char *const filters[] = {
                    "icmpv6.type==128 && ipv6.src==2001:db8:a::2 && ipv6.hlim==63",
                    "icmpv6.type==128 && ipv6.src==2001:db8:a::2 && ipv6.hlim!=63"};
                long n[2];
                struct kt_frames fr = capture_check(&cap, file, filters, 2, n);

                assert_true(fr.icmp6_req >= 8 && fr.icmp6_rep >= 8);
                /* A's requests reached B with hop limit 63, none otherwise. */
                assert_true(n[0] >= 4);
                assert_int_equal(n[1], 0);
                unlink(file);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_nd_both_ways_afpacket, setup, teardown),
            cmocka_unit_test_setup_teardown(test_nd_both_ways_tap, setup, teardown),
            cmocka_unit_test_setup_teardown(test_nd_both_ways_afxdp, setup, teardown),
            cmocka_unit_test_setup_teardown(test_dad_against_kernel, setup, teardown),
            cmocka_unit_test_setup_teardown(test_slaac_from_radvd, setup, teardown),
            cmocka_unit_test_setup_teardown(test_kernel_slaac_from_mpnet, setup, teardown),
            cmocka_unit_test_setup_teardown(test_route_between_kernels, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
