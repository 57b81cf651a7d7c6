/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux kernel as a peer over AF_PACKET. The test makes two network
 * namespaces: mpnet-afk-PID holds the kernel's end of each veth pair (with
 * the kernel's address), mpnet-afm-PID the end mpnet opens with AF_PACKET
 * (no address: the kernel there stays out of the way). The test thread never
 * changes namespace; the link opens its sockets inside mpnet-afm-PID.
 *
 * - ping both ways with ARP both ways, promiscuous mode on while the link
 *   lives, a tcpdump capture on the kernel side checked by tshark;
 * - light traffic is not held back: the fastest of 20 kernel pings to mpnet
 *   (busy-polling) is well under the 1 ms a TPACKET_V3 block waits; the V3
 *   rings (MPNET_AFP_F_TPACKET_V3) answer every ping too;
 * - VLAN: a tagged frame sent with MPNET_PKT_F_VLAN is answered by the
 *   kernel's VLAN interface; the reply's stripped tag is put back in the
 *   frame, or into vlan_tci with MPNET_AFP_F_VLAN_META;
 * - two queues in a PACKET_FANOUT_HASH group share 32 flows; partial UDP
 *   checksums from the kernel and the link's software checksums;
 * - a TCP GSO super-frame from the kernel's side arrives whole (vnet header,
 *   V2 and V3) and leaves the link as MSS-sized segments; truncated and
 *   counted without the vnet header;
 * - the interface going down, and vanishing with the kernel's namespace: the
 *   link goes down, counts it, and comes back with reopen once recreated;
 * - without CAP_NET_RAW: EPERM and a message naming it.
 *
 * Skipped (with the reason) when not root, without CAP_NET_ADMIN or
 * CAP_NET_RAW, or without ip(8).
 */
#define _GNU_SOURCE /* setns */
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>

#include "netns_util.h"
#include "mpnet/afpacket.h"

static char g_nsk[64], g_nsm[64], g_nsv[64];
static const char *g_skip;

#define KADDR IP4(192, 0, 2, 2)
#define MADDR IP4(192, 0, 2, 1)

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
        g_skip = kt_skip_reason(false);
        if (g_skip == NULL && (kt_ns_add(g_nsk, sizeof(g_nsk), "mpnet-afk") != 0 ||
                               kt_ns_add(g_nsm, sizeof(g_nsm), "mpnet-afm") != 0))
                g_skip = "cannot create a network namespace (ip netns add failed)";
        snprintf(g_nsv, sizeof(g_nsv), "mpnet-afv-%d", (int)getpid());
        kt_ns_del_stale("mpnet-afv");
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        kt_ns_del(g_nsk);
        kt_ns_del(g_nsm);
        if (access("/var/run/netns", F_OK) == 0)
                kt_ns_del_stale("mpnet-afv");
        return 0;
}

/* A veth pair: kif in the kernel's namespace nsk with address kaddr (may be
 * NULL), mif in mpnet's; both up. */
static void veth_make(const char *nsk, const char *kif, const char *mif, const char *kaddr)
{
        assert_int_equal(
            kt_sh("ip -n %s link add %s type veth peer name %s netns %s", nsk, kif, mif, g_nsm), 0);
        assert_int_equal(
            kt_sh("ip -n %s link set %s up && ip -n %s link set %s up", nsk, kif, g_nsm, mif), 0);
        if (kaddr != NULL)
                assert_int_equal(kt_sh("ip -n %s addr add %s dev %s", nsk, kaddr, kif), 0);
}

static struct mpnet_link *afp_make_in(const char *ns, const char *ifname, uint32_t flags,
                                      uint16_t nq, struct mpnet_pool *pool)
{
        char err[256] = "";
        struct mpnet_afpacket_cfg c = {.ifname = ifname,
                                       .netns = ns,
                                       .pool = pool,
                                       .n_queues = nq,
                                       .flags = flags,
                                       .errbuf = err,
                                       .errbuf_len = sizeof(err)};
        struct mpnet_link *l = mpnet_afpacket_create(&c);

        if (l == NULL)
                fail_msg("mpnet_afpacket_create(%s): %s (%s)", ifname, err, strerror(errno));
        return l;
}

static struct mpnet_link *afp_make(const char *ifname, uint32_t flags, uint16_t nq,
                                   struct mpnet_pool *pool)
{
        return afp_make_in(g_nsm, ifname, flags, nq, pool);
}

static struct mpnet_afpacket_stats afp_stats(struct mpnet_link *l)
{
        struct mpnet_afpacket_stats st;

        assert_int_equal(mpnet_afpacket_get_stats(l, &st), 0);
        return st;
}

static int promiscuity(const char *ifname)
{
        char out[64];

        kt_sh_out(out, sizeof(out),
                  "ip -n %s -d link show dev %s | grep -o 'promiscuity [0-9]*' | cut -d' ' -f2",
                  g_nsm, ifname);
        return atoi(out);
}

static void pool_done(struct mpnet_pool *pool)
{
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* mpnet pings the kernel across the veth, then the kernel (its neighbour
 * table flushed) pings mpnet. */
static void test_afp_ping_both_ways(void **state)
{
        struct kt_capture cap;
        struct kt_frames fr;
        struct kt_net k;
        struct mpnet_neigh_info ni;
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        uint8_t kmac[6], mmac[6];
        char file[512], mac[32], out[256];
        uint64_t rep0;
        bool captured;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk0", "vm0", "192.0.2.2/24");
        pool = mpnet_pool_create("afp", 1024);
        assert_non_null(pool);
        l = afp_make("vm0", 0, 1, pool);
        assert_string_equal(l->info.kind, "afpacket");
        assert_string_equal(l->name, "vm0");
        assert_int_equal(l->info.mtu, 1500);
        assert_int_equal(kt_if_mac(g_nsm, "vm0", mmac), 0);
        assert_memory_equal(l->info.mac, mmac, 6); /* the interface's own */
        assert_int_equal(promiscuity("vm0"), 1);
        assert_int_equal(kt_if_mac(g_nsk, "vk0", kmac), 0);
        snprintf(file, sizeof(file), "%s/kernel_afpacket.pcap", test_out_dir());
        captured = kt_capture_start(&cap, g_nsk, "vk0", file) == 0;
        kt_net_init(&k, l, mpnet_afpacket_fd(l, 0), MADDR, 24, pool);
        kt_run_for(&k, 20 * MPNET_NS_PER_MS);

        assert_int_equal(kt_mpnet_ping(&k, KADDR, 3), 3);
        assert_int_equal(mpnet_neigh4_get(k.st, k.ifindex, KADDR, &ni), 0);
        assert_memory_equal(ni.mac, kmac, 6);

        kt_sh("ip -n %s neigh flush dev vk0", g_nsk);
        rep0 = stk_ctr(k.st, "arp_reply_tx");
        assert_int_equal(kt_run_cmd(&k, "timeout 10 ip netns exec %s ping -n -c 3 -i 0.02 -w 8 %s",
                                    g_nsk, "192.0.2.1"),
                         0);
        assert_true(stk_ctr(k.st, "arp_reply_tx") > rep0);
        assert_true(stk_ctr(k.st, "icmp4_echo_req") >= 3);
        kt_mac_str(l->info.mac, mac);
        kt_sh_out(out, sizeof(out), "ip -n %s neigh show 192.0.2.1 dev vk0", g_nsk);
        assert_non_null(strstr(out, mac));
        assert_true(afp_stats(l).up);
        assert_int_equal(afp_stats(l).down_events, 0);
        assert_int_equal(afp_stats(l).rx_kernel_drops, 0);
        kt_capture_stop(&cap);
        kt_net_fini(&k);
        /* The membership went with the socket. */
        assert_int_equal(promiscuity("vm0"), 0);
        kt_sh("ip -n %s link del vk0", g_nsk);

        if (!captured || !kt_tool("tshark")) {
                print_message(
                    "tcpdump or tshark missing: the kernel-side capture is not checked\n");
                return;
        }
        fr = kt_tshark_frames(file);
        print_message("kernel-side capture: %ld frames, %ld/%ld echo requests/replies, %ld/%ld ARP "
                      "requests/replies, %ld malformed or with a bad checksum\n",
                      fr.total, fr.icmp_req, fr.icmp_rep, fr.arp_req, fr.arp_rep, fr.bad);
        assert_true(fr.icmp_req >= 6);
        assert_true(fr.icmp_rep >= 6);
        assert_true(fr.arp_req >= 2);
        assert_true(fr.arp_rep >= 2);
        assert_int_equal(fr.bad, 0);
}

/*
 * Run cmd while busy-polling the stack, as a poller thread does, its output
 * into out. Bounded by cmd (which runs under timeout(1)). @return its exit
 * status.
 */
static int run_busy(struct kt_net *k, char *out, size_t n, const char *cmd)
{
        char scratch[256];
        size_t len = 0;
        FILE *f = popen(cmd, "r");
        int fd, rc;

        assert_non_null(f);
        fd = fileno(f);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        for (;;) {
                ssize_t r;

                mpnet_stack_poll(k->st, mpnet_clock_now(&k->clk));
                if (len + 1 < n)
                        r = read(fd, out + len, n - 1 - len);
                else
                        r = read(fd, scratch, sizeof(scratch));
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                        break;
                if (r > 0 && len + 1 < n)
                        len += (size_t)r;
        }
        out[len] = '\0';
        rc = pclose(f);
        return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static int cmp_double(const void *x, const void *y)
{
        double a = *(const double *)x, b = *(const double *)y;

        return (a > b) - (a < b);
}

/* The "time=X ms" of each reply in ping's output, sorted; @return how many. */
static unsigned ping_times(const char *out, double *t, unsigned max)
{
        unsigned n = 0;

        for (const char *p = out; n < max && (p = strstr(p, "time=")) != NULL; p += 5)
                t[n++] = strtod(p + 5, NULL);
        qsort(t, n, sizeof(*t), cmp_double);
        return n;
}

/*
 * The kernel pings mpnet 20 times, 50 ms apart, while mpnet busy-polls:
 * traffic so light that a TPACKET_V3 ring hands each request over only when
 * its block times out. The default TPACKET_V2 ring must hand each frame over
 * as soon as the kernel has written it, whatever block_tov_ms says: with a
 * block timeout of a second (tov_ms) no round trip may wait for it (the
 * median stays under 100 ms, however busy the machine), and the fastest of
 * the 20 (robust to a busy machine, which delays some) is under 0.5 ms,
 * which the 1 ms V3 default could reach only by luck of timer phase. The V3
 * rings (MPNET_AFP_F_TPACKET_V3) must answer every ping too.
 */
static void ping_rtt(uint32_t flags, uint32_t tov_ms, double *min_ms, double *median_ms)
{
        char err[256] = "";
        struct mpnet_afpacket_cfg c = {.ifname = "vm5",
                                       .netns = g_nsm,
                                       .n_queues = 1,
                                       .block_tov_ms = tov_ms,
                                       .flags = flags,
                                       .errbuf = err,
                                       .errbuf_len = sizeof(err)};
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        struct kt_net k;
        char cmd[256], out[8192];
        double t[32];
        unsigned n;

        veth_make(g_nsk, "vk5", "vm5", "192.0.2.2/24");
        pool = mpnet_pool_create("afp", 1024);
        assert_non_null(pool);
        c.pool = pool;
        l = mpnet_afpacket_create(&c);
        if (l == NULL)
                fail_msg("mpnet_afpacket_create(vm5): %s (%s)", err, strerror(errno));
        kt_net_init(&k, l, mpnet_afpacket_fd(l, 0), MADDR, 24, pool);
        /* ARP both ways first, so the timed pings are all echo. */
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);
        snprintf(cmd, sizeof(cmd), "timeout 20 ip netns exec %s ping -n -c 20 -i 0.05 -W 2 %s 2>&1",
                 g_nsk, "192.0.2.1");
        assert_int_equal(run_busy(&k, out, sizeof(out), cmd), 0);
        n = ping_times(out, t, 32);
        assert_int_equal(n, 20);
        *min_ms = t[0];
        *median_ms = (t[n / 2 - 1] + t[n / 2]) / 2;
        print_message(
            "kernel ping to mpnet over AF_PACKET %s, block_tov_ms %u: min %.3f ms, median "
            "%.3f ms, max %.3f ms\n",
            (flags & MPNET_AFP_F_TPACKET_V3) ? "TPACKET_V3" : "TPACKET_V2", tov_ms, *min_ms,
            *median_ms, t[n - 1]);
        assert_int_equal(afp_stats(l).rx_kernel_drops, 0);
        kt_net_fini(&k);
        kt_sh("ip -n %s link del vk5", g_nsk);
}

static void test_afp_ping_rtt(void **state)
{
        double min_ms, median_ms;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        ping_rtt(0, 1000, &min_ms, &median_ms);
        assert_true(median_ms < 100);
        assert_true(min_ms < 0.5);
        ping_rtt(MPNET_AFP_F_TPACKET_V3, 0, &min_ms, &median_ms);
}

struct vlan_seen {
        bool meta;    /* the link sets vlan_tci instead of restoring the tag */
        uint16_t tci; /* expected tag (the VLAN id alone when vid_only) */
        uint16_t op;  /* ARP operation */
        bool vid_only;
        bool ok;
};

/* An ARP frame of operation v->op that was tagged on the wire. */
static bool is_vlan_arp(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        struct vlan_seen *v = arg;
        const uint8_t *b = p->data;
        uint16_t mask = v->vid_only ? 0x0fff : 0xffff;

        (void)q;
        if (v->meta) {
                if (p->len < 42 || mpnet_get_be16(b + 12) != 0x0806 ||
                    mpnet_get_be16(b + 20) != v->op)
                        return false;
                v->ok = (p->ol_flags & MPNET_PKT_F_VLAN) && (p->vlan_tci & mask) == v->tci;
                return true;
        }
        if (p->len < 46 || mpnet_get_be16(b + 12) != 0x8100 || mpnet_get_be16(b + 16) != 0x0806 ||
            mpnet_get_be16(b + 24) != v->op)
                return false;
        v->ok = (mpnet_get_be16(b + 14) & mask) == v->tci && !(p->ol_flags & MPNET_PKT_F_VLAN);
        return true;
}

static struct mpnet_pkt *tagged_arp_request(struct mpnet_pool *pool, const uint8_t *smac,
                                            uint16_t tci)
{
        struct mpnet_pkt *p = kt_arp_request(pool, smac, IP4(203, 0, 113, 1), IP4(203, 0, 113, 2));

        p->ol_flags |= MPNET_PKT_F_VLAN;
        p->vlan_tci = tci;
        return p;
}

/*
 * A frame sent with MPNET_PKT_F_VLAN leaves with its 802.1Q tag in the
 * bytes. The receiving kernel strips the tag of every tagged frame into the
 * skb before the packet taps see it, and each link hands it over its own
 * way: back in the frame, or in vlan_tci with MPNET_AFP_F_VLAN_META. The
 * sender is an AF_PACKET link on the kernel's end of the veth; where the
 * kernel has 802.1Q, its VLAN interface also answers a tagged ARP request.
 */
static void test_afp_vlan(void **state)
{
        struct vlan_seen inl = {.tci = 0x2064, .op = 1},
                         meta = {.meta = true, .tci = 0x2064, .op = 1};
        struct vlan_seen back = {.tci = 200, .op = 1};
        struct mpnet_pool *pool;
        struct mpnet_link *s, *a, *b;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk1", "vm1", NULL);
        pool = mpnet_pool_create("afpvlan", 1024);
        s = afp_make_in(g_nsk, "vk1", MPNET_AFP_F_TX_SENDMMSG, 1, pool);
        a = afp_make("vm1", 0, 1, pool);
        b = afp_make("vm1", MPNET_AFP_F_VLAN_META, 1, pool);
        assert_true(a->info.offloads & MPNET_LINK_OFF_VLAN);

        /* Priority 1, VLAN 100. */
        kt_send1(s, 0, tagged_arp_request(pool, s->info.mac, 0x2064));
        assert_true(kt_rx_until(a, 2000, 1, is_vlan_arp, &inl) >= 1);
        assert_true(inl.ok);
        assert_true(kt_rx_until(b, 2000, 1, is_vlan_arp, &meta) >= 1);
        assert_true(meta.ok);
        kt_send1(a, 0, tagged_arp_request(pool, a->info.mac, 200));
        assert_true(kt_rx_until(s, 2000, 1, is_vlan_arp, &back) >= 1);
        assert_true(back.ok);
        assert_true(afp_stats(a).rx_vlan >= 1);
        assert_true(afp_stats(b).rx_vlan >= 1);

        if (kt_sh("ip -n %s link add link vk1 name vk1.100 type vlan id 100", g_nsk) == 0) {
                struct vlan_seen rep = {.tci = 100, .op = 2, .vid_only = true};

                assert_int_equal(kt_sh("ip -n %s link set vk1.100 up && "
                                       "ip -n %s addr add 203.0.113.2/24 dev vk1.100",
                                       g_nsk, g_nsk),
                                 0);
                kt_send1(a, 0, tagged_arp_request(pool, a->info.mac, 100));
                assert_true(kt_rx_until(a, 2000, 1, is_vlan_arp, &rep) >= 1);
                assert_true(rep.ok);
        } else {
                print_message("this kernel has no 802.1Q: its VLAN interface is not tried\n");
        }
        mpnet_link_destroy(s);
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
        kt_sh("ip -n %s link del vk1", g_nsk);
        pool_done(pool);
}

/* Two queues in a fanout group share 32 flows; a frame sent on queue 1 is
 * answered; the kernel's partial UDP checksums arrive flagged, and the
 * link's software checksum is what the kernel verifies. */
static void test_afp_fanout_and_csum(void **state)
{
        struct kt_udp_seen u = {.net = IP4(198, 51, 100, 0), .dport = 9};
        struct kt_csum_seen c = {0};
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        struct mpnet_link_stats ls;
        uint8_t kmac[6];
        char mac[32];
        long noports, csumerr;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk2", "vm2", "198.51.100.2/24");
        pool = mpnet_pool_create("afpmq", 2048);
        l = afp_make("vm2", 0, 2, pool);
        assert_int_equal(l->info.n_rxq, 2);
        assert_true(mpnet_afpacket_fd(l, 1) >= 0);
        assert_int_equal(mpnet_afpacket_fd(l, 2), -EINVAL);
        assert_int_equal(kt_if_mac(g_nsk, "vk2", kmac), 0);
        kt_mac_str(l->info.mac, mac);
        assert_int_equal(
            kt_rx_cmd(l, 3000, 32, kt_is_udp_to, &u,
                      "ip netns exec %s bash -c 'for i in $(seq 10 41); do "
                      "ip neigh replace 198.51.100.$i lladdr %s dev vk2 nud permanent; "
                      "echo x >/dev/udp/198.51.100.$i/9; done'",
                      g_nsk, mac),
            32);
        print_message("32 flows: %u on queue 0, %u on queue 1\n", u.per_q[0], u.per_q[1]);
        assert_true(u.per_q[0] > 0 && u.per_q[1] > 0);

        kt_send1(l, 1,
                 kt_arp_request(pool, l->info.mac, IP4(198, 51, 100, 1), IP4(198, 51, 100, 2)));
        assert_true(kt_rx_until(l, 2000, 1, kt_is_arp_reply, NULL) >= 1);

        /* A local UDP socket's checksum crosses veth still partial. */
        assert_int_equal(
            kt_rx_cmd(l, 2000, 1, kt_udp_csum_check, &c,
                      "ip netns exec %s bash -c 'echo hello >/dev/udp/198.51.100.10/9'", g_nsk),
            1);
        print_message("kernel UDP over veth: flags %#x\n", c.flags);
        assert_true(c.flags & MPNET_PKT_F_L4_CSUM_OK);
        if (c.flags & MPNET_PKT_F_L4_CSUM_TX)
                assert_true(c.partial_at_l4);
        assert_true(c.csum_ok);

        /* Checksums in software while copying into the ring: the kernel takes
         * the good datagram and counts the bad one. */
        noports = kt_snmp(g_nsk, "Udp", "NoPorts");
        csumerr = kt_snmp(g_nsk, "Udp", "InCsumErrors");
        kt_send1(l, 0,
                 kt_udp_frame(pool, kmac, l->info.mac, IP4(198, 51, 100, 1), IP4(198, 51, 100, 2),
                              7, 101, true));
        {
                struct mpnet_pkt *bad = kt_udp_frame(pool, kmac, l->info.mac, IP4(198, 51, 100, 1),
                                                     IP4(198, 51, 100, 2), 7, 100, false);

                bad->data[14 + 20 + 6] ^= 0x55;
                kt_send1(l, 0, bad);
        }
        /* The same through sendmmsg(): checksums done in the packet itself. */
        {
                struct mpnet_link *m = afp_make("vm2", MPNET_AFP_F_TX_SENDMMSG, 1, pool);

                kt_send1(m, 0,
                         kt_udp_frame(pool, kmac, l->info.mac, IP4(198, 51, 100, 1),
                                      IP4(198, 51, 100, 2), 7, 33, true));
                mpnet_link_get_stats(m, &ls);
                assert_int_equal(ls.tx_pkts, 1);
                mpnet_link_destroy(m);
        }
        assert_int_equal(kt_snmp_wait(g_nsk, "Udp", "NoPorts", noports + 2), noports + 2);
        assert_int_equal(kt_snmp_wait(g_nsk, "Udp", "InCsumErrors", csumerr + 1), csumerr + 1);

        mpnet_link_get_stats(l, &ls);
        assert_true(ls.rx_pkts >= 34);
        assert_int_equal(ls.tx_pkts, 3);
        assert_int_equal(ls.tx_drops, 0);
        mpnet_link_destroy(l);
        kt_sh("ip -n %s link del vk2", g_nsk);
        pool_done(pool);
}

/* ---- GSO super-frames (the vnet header) ---------------------------------- */

#define GSO_PAYLOAD 20000u
#define GSO_FRAME   (14u + 20u + 20u + GSO_PAYLOAD)

/* What a local TCP sender puts on a veth with TSO on: one 20 KB TCP segment
 * whose checksum is left partial (the pseudo-header sum), to be cut into
 * 1448-byte segments further on. Built by hand and sent from the kernel's
 * namespace through a packet socket with PACKET_VNET_HDR (a forked child:
 * the test thread keeps its namespace). @return 0 when it was sent. */
static int gso_send(const char *ns, const char *ifname, const uint8_t *dmac)
{
        static uint8_t buf[sizeof(struct virtio_net_hdr) + GSO_FRAME];
        struct virtio_net_hdr *vh = (struct virtio_net_hdr *)buf;
        uint8_t *e = buf + sizeof(*vh), *ip = e + 14, *tcp = ip + 20;
        int st = -1;
        pid_t pid = fork();

        if (pid < 0)
                return -1;
        if (pid > 0) {
                waitpid(pid, &st, 0);
                return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        memset(buf, 0, sizeof(buf));
        *vh = (struct virtio_net_hdr){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                      .hdr_len = 54,
                                      .gso_size = 1448,
                                      .csum_start = 34,
                                      .csum_offset = 16};
        memcpy(e, dmac, 6);
        memcpy(e + 6, (uint8_t[]){0x02, 0, 0, 0, 0, 0x66}, 6);
        mpnet_put_be16(e + 12, 0x0800);
        ip[0] = 0x45;
        mpnet_put_be16(ip + 2, 20 + 20 + GSO_PAYLOAD);
        mpnet_put_be16(ip + 6, 0x4000);
        ip[8] = 64;
        ip[9] = 6;
        mpnet_put_be32(ip + 12, IP4(192, 0, 2, 2));
        mpnet_put_be32(ip + 16, IP4(192, 0, 2, 1));
        mpnet_put_be16(ip + 10, mpnet_csum(ip, 20));
        mpnet_put_be16(tcp, 40000);
        mpnet_put_be16(tcp + 2, 7);
        mpnet_put_be32(tcp + 4, 1000);
        tcp[12] = 5 << 4;
        tcp[13] = 0x18; /* PSH, ACK */
        mpnet_put_be16(tcp + 14, 65535);
        for (uint32_t i = 0; i < GSO_PAYLOAD; i++)
                tcp[20 + i] = (uint8_t)(i * 7);
        {
                /* The partial checksum: the pseudo-header sum (RFC 9293
                 * 3.1), not complemented, as a local sender leaves it. */
                uint8_t ph[12];
                int one = 1, fd;
                struct sockaddr_ll sll = {.sll_family = AF_PACKET};

                memcpy(ph, ip + 12, 8);
                ph[8] = 0;
                ph[9] = 6;
                mpnet_put_be16(ph + 10, 20 + GSO_PAYLOAD);
                mpnet_put_be16(tcp + 16, (uint16_t)~mpnet_csum(ph, 12));
                if (kt_enter_ns(ns) != 0)
                        _exit(2);
                fd = socket(AF_PACKET, SOCK_RAW, 0);
                sll.sll_ifindex = (int)if_nametoindex(ifname);
                if (fd < 0 || sll.sll_ifindex == 0 ||
                    setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) != 0 ||
                    sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sll, sizeof(sll)) !=
                        (ssize_t)sizeof(buf))
                        _exit(3);
                _exit(0);
        }
}

struct gso_seen {
        unsigned n, bad;
        uint32_t bytes, psh, n_psh;
        uint8_t got[GSO_PAYLOAD];
};

/* One segment of the super-frame: a valid IPv4 header for its length, a
 * partial TCP checksum that completes, its bytes where its sequence number
 * puts them, PSH on the last only. */
static bool gso_check(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        struct gso_seen *g = arg;
        const uint8_t *ip = p->data + 14, *th = ip + 20;
        uint32_t dlen, off;
        uint8_t ph[12];
        uint64_t sum;

        (void)q;
        if (p->len < 54 || mpnet_get_be16(p->data + 12) != 0x0800 || ip[9] != 6 ||
            mpnet_get_be16(th + 2) != 7)
                return false;
        g->n++;
        dlen = p->len - 54;
        off = mpnet_get_be32(th + 4) - 1000;
        if (p->next != NULL || dlen > 1448 || off + dlen > GSO_PAYLOAD ||
            mpnet_get_be16(ip + 2) != 40 + dlen || mpnet_csum(ip, 20) != 0 ||
            !(p->ol_flags & MPNET_PKT_F_L4_CSUM_OK) || !(p->ol_flags & MPNET_PKT_F_L4_CSUM_TX) ||
            p->l4_off != mpnet_pkt_headroom(p) + 34) {
                g->bad++;
                return true;
        }
        /* Complete the checksum as whoever sends it on would, then verify
         * it with the pseudo-header (RFC 9293 3.1). */
        memcpy(ph, ip + 12, 8);
        ph[8] = 0;
        ph[9] = 6;
        mpnet_put_be16(ph + 10, (uint16_t)(20 + dlen));
        {
                uint8_t seg[1500];

                memcpy(seg, th, 20 + dlen);
                mpnet_put_be16(seg + 16, mpnet_csum(seg, 20 + dlen));
                sum = mpnet_csum_add(mpnet_csum_add(0, ph, 12), seg, 20 + dlen);
                if (mpnet_csum_fold(sum) != 0)
                        g->bad++;
        }
        if (th[13] & 0x08) {
                g->psh = off + dlen;
                g->n_psh++;
        }
        memcpy(g->got + off, th + 20, dlen);
        g->bytes += dlen;
        return true;
}

/* A TCP GSO super-frame from the kernel's side of a veth reaches the link
 * whole and leaves it cut into MSS-sized segments, each one buffer with a
 * partial checksum (as the stack takes them): from the V2 ring (read from
 * the socket queue: the ring frame is too small) and from V3 (a block
 * holds it); without the vnet header it is truncated and counted, as
 * before. */
static void test_afp_gso_superframe(void **state)
{
        static const uint32_t modes[] = {0, MPNET_AFP_F_TPACKET_V3, MPNET_AFP_F_NO_VNET_HDR};
        static struct gso_seen g;
        struct mpnet_pool *pool;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk6", "vm6", NULL);
        pool = mpnet_pool_create("afpgso", 4096);
        for (unsigned m = 0; m < 3; m++) {
                struct mpnet_link *l = afp_make("vm6", modes[m], 1, pool);
                struct mpnet_afpacket_stats st;
                bool vnet = !(modes[m] & MPNET_AFP_F_NO_VNET_HDR);
                unsigned want = (GSO_PAYLOAD + 1447) / 1448;

                memset(&g, 0, sizeof(g));
                assert_int_equal(gso_send(g_nsk, "vk6", l->info.mac), 0);
                kt_rx_until(l, vnet ? 3000 : 300, vnet ? want : 1, gso_check, &g);
                st = afp_stats(l);
                print_message("mode %#x: %u segments (%u bad), %u bytes; rx_gso %llu, "
                              "rx_copied %llu, rx_truncated %llu\n",
                              modes[m], g.n, g.bad, g.bytes, (unsigned long long)st.rx_gso,
                              (unsigned long long)st.rx_copied,
                              (unsigned long long)st.rx_truncated);
                assert_int_equal(st.vnet_hdr, vnet);
                if (vnet) {
                        assert_int_equal(g.n, want);
                        assert_int_equal(g.bad, 0);
                        assert_int_equal(g.bytes, GSO_PAYLOAD);
                        assert_int_equal(g.psh, GSO_PAYLOAD);
                        assert_int_equal(g.n_psh, 1);
                        for (uint32_t i = 0; i < GSO_PAYLOAD; i++)
                                if (g.got[i] != (uint8_t)(i * 7))
                                        fail_msg("payload byte %u differs", i);
                        assert_int_equal(st.rx_gso, 1);
                        assert_int_equal(st.rx_copied, (modes[m] & MPNET_AFP_F_TPACKET_V3) ? 0 : 1);
                        assert_int_equal(st.rx_truncated, 0);
                        assert_true(l->info.offloads & MPNET_LINK_OFF_RX_CSUM);
                } else {
                        assert_int_equal(g.n, 0);
                        assert_int_equal(st.rx_gso, 0);
                        assert_int_equal(st.rx_truncated, 1);
                }
                mpnet_link_destroy(l);
        }
        kt_sh("ip -n %s link del vk6", g_nsk);
        pool_done(pool);
}

/* Poll the stack until the link's up state is want, and with want false
 * and gone until it is gone (at most 3 s). */
static bool wait_state(struct kt_net *k, bool want, bool gone)
{
        uint64_t end = mpnet_monotonic_ns() + 3 * MPNET_NS_PER_S;

        while (mpnet_monotonic_ns() < end) {
                struct mpnet_afpacket_stats st = afp_stats(k->link);

                if (st.up == want && (!gone || st.gone))
                        return true;
                kt_poll_once(k, -1, 2);
        }
        return false;
}

static bool wait_up(struct kt_net *k, bool want)
{
        return wait_state(k, want, false);
}

/* The interface goes down and up; then the kernel's namespace is deleted,
 * taking the veth pair with it: the link goes down, counts it, keeps
 * answering bursts, and reopen binds the recreated interface. */
static void test_afp_vanish_and_reopen(void **state)
{
        struct mpnet_afpacket_stats st;
        struct kt_net k;
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        char err[256];

        (void)state;
        SKIP_WITHOUT_KERNEL();
        assert_int_equal(kt_sh("ip netns add %s", g_nsv), 0);
        veth_make(g_nsv, "vv", "vm3", "192.0.2.2/24");
        pool = mpnet_pool_create("afpgone", 1024);
        l = afp_make("vm3", 0, 1, pool);
        kt_net_init(&k, l, mpnet_afpacket_fd(l, 0), MADDR, 24, pool);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);

        /* Down: the socket reports ENETDOWN; up again, frames flow. */
        assert_int_equal(kt_sh("ip -n %s link set vm3 down", g_nsm), 0);
        assert_true(wait_up(&k, false));
        st = afp_stats(l);
        assert_false(st.gone);
        assert_int_equal(st.last_errno, ENETDOWN);
        assert_int_equal(st.down_events, 1);
        assert_int_equal(kt_mpnet_ping_wait(&k, KADDR, 1, 200), 0);
        assert_int_equal(kt_sh("ip -n %s link set vm3 up", g_nsm), 0);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);
        assert_true(wait_up(&k, true));

        /* The kernel's namespace goes, and the veth pair with it. */
        assert_int_equal(kt_sh("ip netns del %s", g_nsv), 0);
        assert_true(wait_state(&k, false, true));
        st = afp_stats(l);
        assert_true(st.gone);
        assert_int_equal(st.down_events, 2);
        assert_int_equal(kt_mpnet_ping_wait(&k, KADDR, 1, 200), 0);
        assert_true(afp_stats(l).tx_down >= 1);
        assert_int_equal(mpnet_afpacket_reopen(l, err, sizeof(err)), -ENODEV);
        print_message("reopen while gone: %s\n", err);
        kt_run_for(&k, 50 * MPNET_NS_PER_MS); /* polling a gone link is harmless */

        /* Recreated: the kernel (new MACs) resolves mpnet, mpnet learns the
         * kernel's new MAC from that request. */
        assert_int_equal(kt_sh("ip netns add %s", g_nsv), 0);
        veth_make(g_nsv, "vv", "vm3", "192.0.2.2/24");
        assert_int_equal(mpnet_afpacket_reopen(l, err, sizeof(err)), 0);
        assert_int_equal(kt_run_cmd(&k, "timeout 10 ip netns exec %s ping -n -c 2 -i 0.02 -w 8 %s",
                                    g_nsv, "192.0.2.1"),
                         0);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);
        st = afp_stats(l);
        assert_true(st.up);
        assert_false(st.gone);
        assert_int_equal(st.down_events, 2);
        kt_net_fini(&k);
        kt_ns_del(g_nsv);
}

/* In a child without CAP_NET_RAW: EPERM and a message naming it. */
static void test_afp_eperm(void **state)
{
        pid_t pid;
        int status;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk4", "vm4", NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct mpnet_pool *pool = mpnet_pool_create("eperm", 64);
                char err[256] = "";
                struct mpnet_afpacket_cfg c = {
                    .ifname = "vm4", .pool = pool, .errbuf = err, .errbuf_len = sizeof(err)};

                if (kt_enter_ns(g_nsm) != 0 || kt_drop_cap(KT_CAP_NET_RAW) != 0)
                        _exit(10);
                if (mpnet_afpacket_create(&c) != NULL || errno != EPERM)
                        _exit(11);
                fprintf(stderr, "  without CAP_NET_RAW: %s\n", err);
                if (strstr(err, "CAP_NET_RAW") == NULL)
                        _exit(12);
                mpnet_pool_destroy(pool);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        kt_sh("ip -n %s link del vk4", g_nsk);
}

static void test_afp_bad_cfg(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("badcfg", 16);
        char err[256];
        struct mpnet_afpacket_cfg c = {.pool = pool, .errbuf = err, .errbuf_len = sizeof(err)};

        (void)state;
        assert_null(mpnet_afpacket_create(&c)); /* no interface name */
        assert_int_equal(errno, EINVAL);
        c.ifname = "lo";
        c.block_size = 3000; /* not a power of two */
        assert_null(mpnet_afpacket_create(&c));
        assert_int_equal(errno, EINVAL);
        c.block_size = 0;
        c.tx_slots = 1000;
        assert_null(mpnet_afpacket_create(&c));
        c.tx_slots = 0;
        c.n_queues = MPNET_AFP_MAX_QUEUES + 1;
        assert_null(mpnet_afpacket_create(&c));
        c.n_queues = 1;
        assert_int_equal(mpnet_afpacket_get_stats(NULL, NULL), -EINVAL);
        assert_int_equal(mpnet_afpacket_fd(NULL, 0), -EINVAL);
        assert_int_equal(mpnet_afpacket_reopen(NULL, NULL, 0), -EINVAL);
        if (g_skip == NULL) {
                c.netns = "mpnet-no-such-namespace";
                assert_null(mpnet_afpacket_create(&c));
                assert_int_equal(errno, ENOENT);
                c.netns = g_nsm;
                c.ifname = "nosuch0";
                assert_null(mpnet_afpacket_create(&c));
                assert_int_equal(errno, ENODEV);
                assert_non_null(strstr(err, "nosuch0"));
                c.ifname = "lo"; /* every namespace has one; not Ethernet */
                assert_null(mpnet_afpacket_create(&c));
                assert_int_equal(errno, EINVAL);
                assert_non_null(strstr(err, "not an Ethernet interface"));
        }
        mpnet_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_afp_bad_cfg),           cmocka_unit_test(test_afp_ping_both_ways),
            cmocka_unit_test(test_afp_ping_rtt),          cmocka_unit_test(test_afp_vlan),
            cmocka_unit_test(test_afp_fanout_and_csum),   cmocka_unit_test(test_afp_gso_superframe),
            cmocka_unit_test(test_afp_vanish_and_reopen), cmocka_unit_test(test_afp_eperm),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
