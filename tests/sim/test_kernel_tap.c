/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux kernel as a peer over TAP. The test makes a network namespace
 * (mpnet-tap-PID) and creates each tap device inside it; the kernel end has
 * an address there, mpnet (this process, in its own namespace) is the other
 * end of the device.
 *
 * - ping both ways with ARP both ways, a tcpdump capture on the kernel side
 *   checked by tshark;
 * - two queues (IFF_MULTI_QUEUE): the kernel spreads 32 flows over both, and
 *   the software UDP checksum of a non-vnet tap is what the kernel verifies;
 * - vnet header: partial checksums from the kernel, checksum offload and a
 *   TSO frame towards it;
 * - frames longer than a buffer: dropped and counted, or chains;
 * - RX_GSO: a Linux TCP sender's super-frames, cut into one-buffer
 *   segments, carry 4 MiB to an mpnet socket (SHA-256 checked);
 * - the device going down and vanishing: the link goes down, counts it and
 *   comes back with mpnet_tap_reopen();
 * - without CAP_NET_ADMIN: EPERM and a message naming it.
 *
 * Skipped (with the reason) when not root, without CAP_NET_ADMIN, without
 * /dev/net/tun or without ip(8).
 */
#define _GNU_SOURCE /* setns */
#include <sched.h>

#include "netns_util.h"
#include "mpnet/socket.h"
#include "mpnet/tap.h"

static char g_ns[64];
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
        g_skip = kt_skip_reason(true);
        if (g_skip == NULL && kt_ns_add(g_ns, sizeof(g_ns), "mpnet-tap") != 0)
                g_skip = "cannot create a network namespace (ip netns add failed)";
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        kt_ns_del(g_ns);
        return 0;
}

static struct mpnet_link *tap_make(const char *ifname, uint32_t flags, uint16_t nq,
                                   struct mpnet_pool *pool)
{
        char err[256] = "";
        struct mpnet_tap_cfg c = {.ifname = ifname,
                                  .netns = g_ns,
                                  .pool = pool,
                                  .n_queues = nq,
                                  .flags = flags,
                                  .errbuf = err,
                                  .errbuf_len = sizeof(err)};
        struct mpnet_link *l = mpnet_tap_create(&c);

        if (l == NULL)
                fail_msg("mpnet_tap_create(%s): %s (%s)", ifname, err, strerror(errno));
        return l;
}

static struct mpnet_tap_stats tap_stats(struct mpnet_link *l)
{
        struct mpnet_tap_stats st;

        assert_int_equal(mpnet_tap_get_stats(l, &st), 0);
        return st;
}

/* mpnet pings the kernel, then the kernel (its neighbour table flushed)
 * pings mpnet: each side resolves the other by ARP. */
static void test_tap_ping_both_ways(void **state)
{
        struct kt_capture cap;
        struct kt_frames fr;
        struct kt_net k;
        struct mpnet_neigh_info ni;
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        uint8_t kmac[6];
        char file[512], mac[32], out[256];
        uint64_t rep0;
        bool captured;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        pool = mpnet_pool_create("tap", 1024);
        assert_non_null(pool);
        l = tap_make("mpt0", 0, 1, pool);
        assert_string_equal(l->info.kind, "tap");
        assert_string_equal(l->name, "mpt0");
        assert_int_equal(l->info.mtu, 1500);
        assert_int_equal(l->info.mac[0] & 3, 2); /* locally administered unicast */
        assert_int_equal(kt_sh("ip -n %s addr add 192.0.2.2/24 dev mpt0", g_ns), 0);
        assert_int_equal(kt_if_mac(g_ns, "mpt0", kmac), 0);
        assert_memory_not_equal(kmac, l->info.mac, 6);
        snprintf(file, sizeof(file), "%s/kernel_tap.pcap", test_out_dir());
        captured = kt_capture_start(&cap, g_ns, "mpt0", file) == 0;
        kt_net_init(&k, l, mpnet_tap_fd(l, 0), MADDR, 24, pool);
        kt_run_for(&k, 20 * MPNET_NS_PER_MS);

        assert_int_equal(kt_mpnet_ping(&k, KADDR, 3), 3);
        assert_int_equal(mpnet_neigh4_get(k.st, k.ifindex, KADDR, &ni), 0);
        assert_memory_equal(ni.mac, kmac, 6);

        kt_sh("ip -n %s neigh flush dev mpt0", g_ns);
        rep0 = stk_ctr(k.st, "arp_reply_tx");
        assert_int_equal(kt_run_cmd(&k, "timeout 10 ip netns exec %s ping -n -c 3 -i 0.02 -w 8 %s",
                                    g_ns, "192.0.2.1"),
                         0);
        assert_true(stk_ctr(k.st, "arp_reply_tx") > rep0);
        assert_true(stk_ctr(k.st, "icmp4_echo_req") >= 3);
        assert_true(stk_ctr(k.st, "icmp4_echo_reply") >= 3);
        kt_mac_str(l->info.mac, mac);
        kt_sh_out(out, sizeof(out), "ip -n %s neigh show 192.0.2.1 dev mpt0", g_ns);
        assert_non_null(strstr(out, mac));

        assert_true(tap_stats(l).up);
        assert_int_equal(tap_stats(l).down_events, 0);
        kt_capture_stop(&cap);
        kt_net_fini(&k);

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

/* Two queues: the kernel spreads 32 UDP flows over both; a frame sent on
 * queue 1 is answered. No vnet header: UDP checksums asked of the link are
 * done in software, and the kernel verifies them. */
static void test_tap_multiqueue(void **state)
{
        struct kt_udp_seen u = {.net = IP4(198, 51, 100, 0), .dport = 9};
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        struct mpnet_link_stats ls;
        uint8_t kmac[6];
        char mac[32];
        long noports, csumerr;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        pool = mpnet_pool_create("tapmq", 1024);
        l = tap_make("mpt1", 0, 2, pool);
        assert_int_equal(l->info.n_rxq, 2);
        assert_int_equal(l->info.n_txq, 2);
        assert_true(mpnet_tap_fd(l, 1) >= 0);
        assert_int_equal(mpnet_tap_fd(l, 2), -EINVAL);
        assert_int_equal(kt_sh("ip -n %s addr add 198.51.100.2/24 dev mpt1", g_ns), 0);
        assert_int_equal(kt_if_mac(g_ns, "mpt1", kmac), 0);
        kt_mac_str(l->info.mac, mac);
        assert_int_equal(
            kt_rx_cmd(l, 3000, 32, kt_is_udp_to, &u,
                      "ip netns exec %s bash -c 'for i in $(seq 10 41); do "
                      "ip neigh replace 198.51.100.$i lladdr %s dev mpt1 nud permanent; "
                      "echo x >/dev/udp/198.51.100.$i/9; done'",
                      g_ns, mac),
            32);
        print_message("32 flows: %u on queue 0, %u on queue 1\n", u.per_q[0], u.per_q[1]);
        assert_true(u.per_q[0] > 0 && u.per_q[1] > 0);

        kt_send1(l, 1,
                 kt_arp_request(pool, l->info.mac, IP4(198, 51, 100, 1), IP4(198, 51, 100, 2)));
        assert_int_equal(kt_rx_until(l, 2000, 1, kt_is_arp_reply, NULL), 1);

        /* UDP checksum in software (no vnet header): the kernel takes the good
         * one and counts the bad one. */
        noports = kt_snmp(g_ns, "Udp", "NoPorts");
        csumerr = kt_snmp(g_ns, "Udp", "InCsumErrors");
        kt_send1(l, 0,
                 kt_udp_frame(pool, kmac, l->info.mac, IP4(198, 51, 100, 1), IP4(198, 51, 100, 2),
                              7, 101, true));
        {
                struct mpnet_pkt *bad = kt_udp_frame(pool, kmac, l->info.mac, IP4(198, 51, 100, 1),
                                                     IP4(198, 51, 100, 2), 7, 100, false);

                bad->data[14 + 20 + 6] ^= 0x55;
                kt_send1(l, 0, bad);
        }
        assert_int_equal(kt_snmp_wait(g_ns, "Udp", "NoPorts", noports + 1), noports + 1);
        assert_int_equal(kt_snmp_wait(g_ns, "Udp", "InCsumErrors", csumerr + 1), csumerr + 1);

        mpnet_link_get_stats(l, &ls);
        assert_true(ls.rx_pkts >= 33);
        assert_int_equal(ls.tx_pkts, 3);
        assert_int_equal(ls.tx_drops, 0);
        mpnet_link_destroy(l);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static bool is_icmp_unreach(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        (void)q;
        (void)arg;
        return p->len >= 42 && mpnet_get_be16(p->data + 12) == 0x0800 && p->data[23] == 1 &&
               p->data[34] == 3 && p->data[35] == 3;
}

static bool is_tcp_rst(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        (void)q;
        (void)arg;
        return p->len >= 54 && mpnet_get_be16(p->data + 12) == 0x0800 && p->data[23] == 6 &&
               (p->data[47] & 0x04);
}

/* A TCP segment of len payload bytes with an ACK, made for TSO: the
 * checksum field holds the pseudo-header sum over the whole L4 length. */
static struct mpnet_pkt *tcp_tso_frame(struct mpnet_pool *pool, const uint8_t *dmac,
                                       const uint8_t *smac, uint32_t src, uint32_t dst,
                                       uint32_t len, uint16_t mss)
{
        uint32_t n = 14 + 20 + 20 + len;
        uint8_t *b = calloc(1, n), *ip = b + 14, *tcp = ip + 20;
        struct mpnet_pkt *p;

        memcpy(b, dmac, 6);
        memcpy(b + 6, smac, 6);
        mpnet_put_be16(b + 12, 0x0800);
        ip[0] = 0x45;
        mpnet_put_be16(ip + 2, (uint16_t)(n - 14));
        mpnet_put_be16(ip + 6, 0x4000); /* DF, as TCP sends */
        ip[8] = 64;
        ip[9] = 6;
        mpnet_put_be32(ip + 12, src);
        mpnet_put_be32(ip + 16, dst);
        mpnet_put_be16(ip + 10, mpnet_csum(ip, 20));
        mpnet_put_be16(tcp, 40001);
        mpnet_put_be16(tcp + 2, 9);
        mpnet_put_be32(tcp + 4, 1000);
        mpnet_put_be32(tcp + 8, 2000);
        tcp[12] = 5 << 4;
        tcp[13] = 0x10; /* ACK */
        mpnet_put_be16(tcp + 14, 65535);
        mpnet_put_be16(tcp + 16,
                       (uint16_t)~mpnet_csum_fold(mpnet_csum_add(0, ip + 12, 8) + 6 + 20 + len));
        p = mpnet_pkt_from_bytes(pool, b, n);
        free(b);
        assert_non_null(p);
        p->ol_flags |= MPNET_PKT_F_TSO | MPNET_PKT_F_L4_CSUM_TX;
        p->tso_segsz = mss;
        return p;
}

/* vnet header: the kernel hands over a partial UDP checksum; mpnet's
 * checksum offload and a 3000-byte TSO frame are taken by the kernel. */
static void test_tap_vnet_offload(void **state)
{
        struct kt_csum_seen c = {0};
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        struct mpnet_link_stats ls;
        uint8_t kmac[6];
        char mac[32];
        long noports, csumerr;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        pool = mpnet_pool_create("tapvnet", 1024);
        l = tap_make("mpt2", MPNET_TAP_F_VNET_HDR | MPNET_TAP_F_RX_CSUM, 1, pool);
        assert_true(l->info.offloads & MPNET_LINK_OFF_TX_CSUM);
        assert_true(l->info.offloads & MPNET_LINK_OFF_TSO);
        assert_true(l->info.offloads & MPNET_LINK_OFF_RX_CSUM);
        assert_int_equal(kt_sh("ip -n %s addr add 203.0.113.2/24 dev mpt2", g_ns), 0);
        assert_int_equal(kt_if_mac(g_ns, "mpt2", kmac), 0);
        kt_mac_str(l->info.mac, mac);
        assert_int_equal(kt_sh("ip -n %s neigh replace 203.0.113.1 lladdr %s dev mpt2 nud "
                               "permanent",
                               g_ns, mac),
                         0);

        /* Kernel to mpnet: a local UDP socket's checksum is left partial. */
        assert_int_equal(kt_rx_cmd(l, 2000, 1, kt_udp_csum_check, &c,
                                   "ip netns exec %s bash -c 'echo hello >/dev/udp/203.0.113.1/9'",
                                   g_ns),
                         1);
        print_message("kernel UDP over vnet tap: flags %#x\n", c.flags);
        assert_true(c.flags & MPNET_PKT_F_L4_CSUM_OK);
        assert_true(c.flags & MPNET_PKT_F_L4_CSUM_TX);
        assert_true(c.partial_at_l4);
        assert_true(c.csum_ok);

        /* mpnet to kernel: checksum offload; no socket, so a port unreachable
         * comes back and no checksum error is counted. */
        noports = kt_snmp(g_ns, "Udp", "NoPorts");
        csumerr = kt_snmp(g_ns, "Udp", "InCsumErrors");
        kt_send1(l, 0,
                 kt_udp_frame(pool, kmac, l->info.mac, IP4(203, 0, 113, 1), IP4(203, 0, 113, 2), 7,
                              64, true));
        assert_int_equal(kt_rx_until(l, 2000, 1, is_icmp_unreach, NULL), 1);
        assert_int_equal(kt_snmp_wait(g_ns, "Udp", "NoPorts", noports + 1), noports + 1);
        assert_int_equal(kt_snmp(g_ns, "Udp", "InCsumErrors"), csumerr);

        /* A 3000-byte TSO frame (a chain of two buffers) to a closed port:
         * the kernel takes it and answers with a reset. */
        kt_send1(l, 0,
                 tcp_tso_frame(pool, kmac, l->info.mac, IP4(203, 0, 113, 1), IP4(203, 0, 113, 2),
                               3000, 1000));
        assert_int_equal(kt_rx_until(l, 2000, 1, is_tcp_rst, NULL), 1);

        mpnet_link_get_stats(l, &ls);
        assert_int_equal(ls.tx_pkts, 2);
        assert_int_equal(ls.tx_drops, 0);
        assert_int_equal(ls.rx_drops, 0);
        mpnet_link_destroy(l);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

struct big_seen {
        uint32_t len;
        uint16_t segs;
};

static bool is_big_echo(struct mpnet_pkt *p, uint16_t q, void *arg)
{
        struct big_seen *s = arg;
        uint8_t h[35];

        (void)q;
        if (p->pkt_len < 3000 || mpnet_pkt_read(p, 0, h, sizeof(h)) != 0 ||
            mpnet_get_be16(h + 12) != 0x0800 || h[23] != 1 || h[34] != 8)
                return false;
        s->len = p->pkt_len;
        s->segs = p->nb_segs;
        return true;
}

/* The kernel's MTU is raised to 4000 and it pings with 3000 bytes: without
 * chains the frames are dropped and counted; with chains they arrive whole. */
static void test_tap_jumbo(void **state)
{
        struct big_seen s = {0};
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        struct mpnet_link_stats ls;
        char mac[32];

        (void)state;
        SKIP_WITHOUT_KERNEL();
        pool = mpnet_pool_create("tapjumbo", 1024);
        for (int chains = 0; chains < 2; chains++) {
                l = tap_make("mpt4", chains ? MPNET_TAP_F_RX_CHAINS : 0, 1, pool);
                kt_mac_str(l->info.mac, mac);
                assert_int_equal(kt_sh("ip -n %s link set mpt4 mtu 4000 && "
                                       "ip -n %s addr add 198.51.100.2/24 dev mpt4 && "
                                       "ip -n %s neigh replace 198.51.100.1 lladdr %s dev mpt4",
                                       g_ns, g_ns, g_ns, mac),
                                 0);
                kt_sh("timeout 5 ip netns exec %s ping -n -c 2 -i 0.2 -W 0.2 -s 3000 198.51.100.1",
                      g_ns);
                if (!chains) {
                        struct mpnet_tap_stats ts = tap_stats(l);

                        kt_rx_until(l, 200, 100, is_big_echo, &s);
                        ts = tap_stats(l);
                        assert_int_equal(ts.rx_oversize, 2);
                        mpnet_link_get_stats(l, &ls);
                        assert_int_equal(ls.rx_drops, 2);
                } else {
                        assert_true(kt_rx_until(l, 2000, 1, is_big_echo, &s) >= 1);
                        assert_int_equal(s.len, 14 + 20 + 8 + 3000);
                        assert_int_equal(s.segs, 2);
                        assert_int_equal(tap_stats(l).rx_oversize, 0);
                }
                mpnet_link_destroy(l);
        }
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* Wait (polling the stack) until the link's up state is want. */
static bool wait_up(struct kt_net *k, bool want)
{
        /* Generous: on a loaded machine the kernel may take seconds to
         * detach a deleted device's queues (the next read then fails). */
        uint64_t t0 = mpnet_monotonic_ns(), end = t0 + 30 * MPNET_NS_PER_S;

        while (mpnet_monotonic_ns() < end) {
                if (tap_stats(k->link).up == want) {
                        uint64_t took = mpnet_monotonic_ns() - t0;

                        if (took > MPNET_NS_PER_S)
                                print_message("the link was %s after %.1f s\n",
                                              want ? "up" : "down", (double)took / 1e9);
                        return true;
                }
                kt_poll_once(k, -1, 2);
        }
        return false;
}

/* Wait until the link has gone down n times in all (counted when a read or
 * write fails; the stack may have brought it back since). */
static bool wait_down_events(struct kt_net *k, uint64_t n)
{
        uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;

        while (mpnet_monotonic_ns() < end) {
                if (tap_stats(k->link).down_events >= n)
                        return true;
                kt_poll_once(k, -1, 2);
        }
        return false;
}

/* The kernel device goes down (writes fail with EIO), comes back, then is
 * deleted (EBADFD): the link goes down each time, counts it, keeps
 * answering bursts, and reopen brings it back. */
static void test_tap_vanish_and_reopen(void **state)
{
        struct mpnet_tap_stats ts;
        struct kt_net k;
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        char err[256];

        (void)state;
        SKIP_WITHOUT_KERNEL();
        pool = mpnet_pool_create("tapgone", 1024);
        l = tap_make("mpt3", 0, 1, pool);
        assert_int_equal(kt_sh("ip -n %s addr add 192.0.2.2/24 dev mpt3", g_ns), 0);
        kt_net_init(&k, l, mpnet_tap_fd(l, 0), MADDR, 24, pool);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);

        /* Administratively down: tun refuses writes with EIO. */
        assert_int_equal(kt_sh("ip -n %s link set mpt3 down", g_ns), 0);
        assert_int_equal(kt_mpnet_ping_wait(&k, KADDR, 1, 200), 0);
        ts = tap_stats(l);
        assert_false(ts.up);
        assert_false(ts.gone);
        assert_int_equal(ts.last_errno, EIO);
        assert_int_equal(ts.down_events, 1);
        assert_int_equal(kt_sh("ip -n %s link set mpt3 up && "
                               "ip -n %s addr replace 192.0.2.2/24 dev mpt3",
                               g_ns, g_ns),
                         0);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);
        assert_true(wait_up(&k, true));

        /* Deleted under the link: descriptors detached (EBADFD). */
        assert_int_equal(kt_sh("ip -n %s link del mpt3", g_ns), 0);
        assert_int_equal(kt_mpnet_ping_wait(&k, KADDR, 1, 200), 0);
        assert_true(wait_down_events(&k, 2));
        ts = tap_stats(l);
        assert_true(ts.tx_down >= 1);
        /* A stack without workers reopens a gone device itself, once a
         * second (src/stack/event.c): on a loaded machine it may have done
         * so already, a new mpt3 without an address. Otherwise the link is
         * gone, polling it is harmless, and the application reopens it. */
        if (stk_ctr(k.st, "link_revived") == 0 && ts.gone) {
                assert_false(ts.up);
                assert_int_equal(ts.last_errno, EBADFD);
                kt_run_for(&k, 50 * MPNET_NS_PER_MS);
                ts = tap_stats(l);
                if (ts.gone)
                        assert_int_equal(mpnet_tap_reopen(l, err, sizeof(err)), 0);
        }
        print_message("deleted device: %s\n", stk_ctr(k.st, "link_revived") != 0
                                                  ? "reopened by the stack's revive"
                                                  : "reopened by the application");
        assert_int_equal(ts.down_events, 2);

        /* Recreated: the kernel (new MAC) resolves mpnet, and mpnet learns the
         * new MAC from its request. */
        assert_true(wait_up(&k, true));
        assert_int_equal(kt_sh("ip -n %s addr add 192.0.2.2/24 dev mpt3", g_ns), 0);
        assert_int_equal(kt_run_cmd(&k, "timeout 10 ip netns exec %s ping -n -c 2 -i 0.02 -w 8 %s",
                                    g_ns, "192.0.2.1"),
                         0);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);
        ts = tap_stats(l);
        assert_true(ts.up);
        assert_false(ts.gone);
        assert_int_equal(ts.down_events, 2);
        assert_int_equal(mpnet_tap_reopen(NULL, NULL, 0), -EINVAL);
        kt_net_fini(&k);
}

/* In a child: without CAP_NET_ADMIN creating a tap fails with EPERM and a
 * message naming the capability; without CAP_SYS_ADMIN so does entering a
 * namespace. */
static void test_tap_eperm(void **state)
{
        pid_t pid;
        int status;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct mpnet_pool *pool = mpnet_pool_create("eperm", 64);
                char err[256] = "";
                struct mpnet_tap_cfg c = {
                    .ifname = "mpt-eperm", .pool = pool, .errbuf = err, .errbuf_len = sizeof(err)};

                /* Inside the test's namespace, so nothing lands in ours even
                 * if the drop failed. */
                if (kt_enter_ns(g_ns) != 0 || kt_drop_cap(KT_CAP_NET_ADMIN) != 0)
                        _exit(10);
                if (mpnet_tap_create(&c) != NULL || errno != EPERM)
                        _exit(11);
                fprintf(stderr, "  without CAP_NET_ADMIN: %s\n", err);
                if (strstr(err, "CAP_NET_ADMIN") == NULL)
                        _exit(12);
                if (kt_drop_cap(KT_CAP_SYS_ADMIN) != 0)
                        _exit(13);
                c.netns = g_ns;
                if (mpnet_tap_create(&c) != NULL || errno != EPERM)
                        _exit(14);
                fprintf(stderr, "  without CAP_SYS_ADMIN: %s\n", err);
                if (strstr(err, "CAP_SYS_ADMIN") == NULL)
                        _exit(15);
                mpnet_pool_destroy(pool);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_tap_bad_cfg(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("badcfg", 16);
        char err[128];
        struct mpnet_tap_cfg c = {.pool = pool, .errbuf = err, .errbuf_len = sizeof(err)};

        (void)state;
        c.n_queues = MPNET_TAP_MAX_QUEUES + 1;
        assert_null(mpnet_tap_create(&c));
        assert_int_equal(errno, EINVAL);
        c.n_queues = 1;
        c.flags = MPNET_TAP_F_RX_CSUM; /* needs the vnet header */
        assert_null(mpnet_tap_create(&c));
        assert_int_equal(errno, EINVAL);
        c.flags = 0;
        c.mtu = 40;
        assert_null(mpnet_tap_create(&c));
        c.mtu = 0;
        c.ifname = "a-name-that-is-too-long";
        assert_null(mpnet_tap_create(&c));
        c.ifname = NULL;
        c.pool = NULL;
        assert_null(mpnet_tap_create(&c));
        assert_null(mpnet_tap_create(NULL));
        assert_int_equal(mpnet_tap_get_stats(NULL, NULL), -EINVAL);
        assert_int_equal(mpnet_tap_fd(NULL, 0), -EINVAL);
        mpnet_pool_destroy(pool);
}

/* Poll the stack once, then sleep on the link until a frame or the next
 * timer, at most 5 ms; not at all while the link has cut segments waiting
 * (rx_wait_arm says -EAGAIN). */
static void gso_poll(struct kt_net *k)
{
        uint64_t now = mpnet_clock_now(&k->clk), next = mpnet_stack_poll(k->st, now);
        int fd = mpnet_link_rx_wait_arm(k->link, 0), ms = 5;
        struct pollfd pf;

        if (next <= now || fd < 0)
                return;
        if (next != MPNET_TIME_NEVER && (next - now) / MPNET_NS_PER_MS < (uint64_t)ms)
                ms = (int)((next - now) / MPNET_NS_PER_MS);
        pf = (struct pollfd){.fd = fd, .events = POLLIN};
        (void)poll(&pf, 1, ms);
}

/* RX_GSO: a Linux TCP sender (socat) with TSO on the tap's kernel end sends
 * 4 MiB (MPNET_KT_TAP_GSO_MB) to an mpnet listener, the rate printed
 * (MPNET_KT_TAP_NO_GSO=1: RX_GSO off, the kernel cuts, for a peer figure); the kernel hands over
 * super-frames, which the link cuts into one-buffer segments: the transfer completes with the same
 * SHA-256, TCP saw no chained segment (tcp_chained 0) and the link cut super-frames (rx_gso). */
static void test_tap_gso_tcp(void **state)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7300)};
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        struct kt_net k;
        char sent[512], got[512], rcf[512], out[128];
        static uint8_t buf[65536];
        const char *e = getenv("MPNET_KT_TAP_GSO_MB");
        unsigned mb = e != NULL && atoi(e) > 0 ? (unsigned)atoi(e) : 4;
        bool gso = getenv("MPNET_KT_TAP_NO_GSO") == NULL, eof = false;
        uint64_t end, t0 = 0;
        int lfd, cfd = -1;
        FILE *f;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        if (!kt_tool("socat") || !kt_tool("sha256sum")) {
                print_message("skipped: socat or sha256sum missing (scripts/install-deps.sh)\n");
                skip();
        }
        pool = mpnet_pool_create("tapgso", 4096);
        assert_non_null(pool);
        l = tap_make("mpt5",
                     MPNET_TAP_F_VNET_HDR | MPNET_TAP_F_RX_CSUM | (gso ? MPNET_TAP_F_RX_GSO : 0), 1,
                     pool);
        kt_net_init(&k, l, mpnet_tap_fd(l, 0), MADDR, 24, pool);
        assert_int_equal(kt_sh("ip -n %s addr add 192.0.2.2/24 dev mpt5", g_ns), 0);
        kt_sh_out(out, sizeof(out),
                  "ip netns exec %s ethtool -k mpt5 2>/dev/null | grep '^tcp-segmentation-offload'",
                  g_ns);
        print_message("kernel end: %s\n", out[0] ? out : "(ethtool missing)");
        snprintf(sent, sizeof(sent), "%s/tap_gso_sent", test_out_dir());
        snprintf(got, sizeof(got), "%s/tap_gso_got", test_out_dir());
        snprintf(rcf, sizeof(rcf), "%s/tap_gso_socat.rc", test_out_dir());
        assert_int_equal(kt_sh("(rm -f %s; head -c %uM /dev/urandom > %s)", rcf, mb, sent), 0);
        f = fopen(got, "w");
        assert_non_null(f);

        sa.sin_addr.s_addr = htonl(MADDR);
        lfd = mpnet_socket(k.st, AF_INET, SOCK_STREAM, 0);
        assert_true(lfd >= 0);
        assert_int_equal(mpnet_bind(k.st, lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(mpnet_listen(k.st, lfd, 4), 0);
        assert_int_equal(kt_sh("(timeout 60 ip netns exec %s socat -u FILE:%s "
                               "TCP4:192.0.2.1:7300,retry=100,interval=0.2; echo $? > %s) "
                               "</dev/null >/dev/null 2>&1 &",
                               g_ns, sent, rcf),
                         0);
        end = mpnet_monotonic_ns() + 90 * MPNET_NS_PER_S;
        while (!eof && mpnet_monotonic_ns() < end) {
                ssize_t r;

                gso_poll(&k);
                if (cfd < 0) {
                        cfd = mpnet_accept(k.st, lfd, NULL, NULL, 0);
                        t0 = mpnet_monotonic_ns();
                        continue;
                }
                while ((r = mpnet_recvfrom(k.st, cfd, buf, sizeof(buf), 0, NULL, NULL)) > 0)
                        assert_int_equal(fwrite(buf, 1, (size_t)r, f), (size_t)r);
                eof = r == 0;
        }
        fclose(f);
        assert_true(eof);
        print_message("RX_GSO %s: %u MiB in %.3f s, %.0f Mbit/s\n", gso ? "on" : "off", mb,
                      (double)(mpnet_monotonic_ns() - t0) / 1e9,
                      mb * 8388608.0 / ((double)(mpnet_monotonic_ns() - t0) / 1e3));
        assert_int_equal(kt_sh("test \"$(sha256sum < %s)\" = \"$(sha256sum < %s)\"", sent, got), 0);
        print_message("tcp_chained %llu, super-frames cut %llu\n",
                      (unsigned long long)stk_ctr(k.st, "tcp_chained"),
                      (unsigned long long)tap_stats(l).rx_gso);
        assert_int_equal(stk_ctr(k.st, "tcp_chained"), 0);
        assert_true(!gso || tap_stats(l).rx_gso > 0);
        assert_int_equal(tap_stats(l).rx_bad_vnet, 0);
        mpnet_close(k.st, cfd);
        mpnet_close(k.st, lfd);
        kt_run_for(&k, 20 * MPNET_NS_PER_MS);
        kt_sh("rm -f %s %s %s", sent, got, rcf);
        kt_net_fini(&k);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tap_bad_cfg),    cmocka_unit_test(test_tap_ping_both_ways),
            cmocka_unit_test(test_tap_multiqueue), cmocka_unit_test(test_tap_vnet_offload),
            cmocka_unit_test(test_tap_jumbo),      cmocka_unit_test(test_tap_vanish_and_reopen),
            cmocka_unit_test(test_tap_eperm),      cmocka_unit_test(test_tap_gso_tcp),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
