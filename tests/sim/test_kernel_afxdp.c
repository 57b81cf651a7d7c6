/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux kernel as a peer over AF_XDP. As in test_kernel_afpacket.c the
 * test makes mpnet-axk-PID (the kernel's end of each veth pair, with its
 * address) and mpnet-axm-PID (the end mpnet opens with AF_XDP); the test
 * thread never changes namespace.
 *
 * - ping both ways with ARP both ways, in generic (skb) and in native (veth
 *   driver) XDP mode, a tcpdump capture on the kernel side checked by
 *   tshark, and no XDP program left on the interface after destroy;
 * - zero-copy insisted on: veth cannot, so create fails and says so;
 * - the kernel's namespace deleted while it pings mpnet: the link goes down
 *   and gone, counts it, keeps answering bursts, and reopen binds the
 *   recreated interface;
 * - without CAP_NET_ADMIN, CAP_BPF and CAP_SYS_ADMIN: EPERM and a message
 *   naming them.
 *
 * Skipped (with the reason) when the library was built without the AF_XDP
 * link, when not root, without CAP_NET_ADMIN, CAP_BPF or CAP_NET_RAW, or
 * without ip(8).
 */
#define _GNU_SOURCE /* setns */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "netns_util.h"

#ifdef MPNET_HAVE_AFXDP

#include "mpnet/afxdp.h"

#define KT_CAP_BPF 39

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
        if (g_skip == NULL && !kt_have_cap(KT_CAP_BPF))
                g_skip = "no CAP_BPF (needed to load the XDP program)";
        if (g_skip == NULL)
                g_skip = kt_af_xdp_missing();
        if (g_skip == NULL && (kt_ns_add(g_nsk, sizeof(g_nsk), "mpnet-axk") != 0 ||
                               kt_ns_add(g_nsm, sizeof(g_nsm), "mpnet-axm") != 0))
                g_skip = "cannot create a network namespace (ip netns add failed)";
        snprintf(g_nsv, sizeof(g_nsv), "mpnet-axv-%d", (int)getpid());
        kt_ns_del_stale("mpnet-axv");
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        kt_ns_del(g_nsk);
        kt_ns_del(g_nsm);
        if (access("/var/run/netns", F_OK) == 0)
                kt_ns_del_stale("mpnet-axv");
        return 0;
}

/* A veth pair: kif in nsk with address kaddr (may be NULL), mif in mpnet's
 * namespace; both up. */
static void veth_make(const char *nsk, const char *kif, const char *mif, const char *kaddr)
{
        assert_int_equal(
            kt_sh("ip -n %s link add %s type veth peer name %s netns %s", nsk, kif, mif, g_nsm), 0);
        assert_int_equal(
            kt_sh("ip -n %s link set %s up && ip -n %s link set %s up", nsk, kif, g_nsm, mif), 0);
        if (kaddr != NULL)
                assert_int_equal(kt_sh("ip -n %s addr add %s dev %s", nsk, kaddr, kif), 0);
}

static struct mpnet_link *axl_make(const char *ifname, enum mpnet_afxdp_mode mode,
                                   struct mpnet_pool *pool)
{
        char err[256] = "";
        struct mpnet_afxdp_cfg c = {.ifname = ifname,
                                    .netns = g_nsm,
                                    .pool = pool,
                                    .mode = mode,
                                    .errbuf = err,
                                    .errbuf_len = sizeof(err)};
        struct mpnet_link *l = mpnet_afxdp_create(&c);

        if (l == NULL)
                fail_msg("mpnet_afxdp_create(%s): %s (%s)", ifname, err, strerror(errno));
        return l;
}

static struct mpnet_afxdp_stats axl_stats(struct mpnet_link *l)
{
        struct mpnet_afxdp_stats st;

        assert_int_equal(mpnet_afxdp_get_stats(l, &st), 0);
        return st;
}

/* Whether ip(8) shows an XDP program (xdp, xdpgeneric, xdpdrv, ...) on the
 * interface. */
static bool xdp_attached(const char *ns, const char *ifname)
{
        return kt_sh("ip -n %s link show dev %s | grep -q xdp", ns, ifname) == 0;
}

/* mpnet pings the kernel across the veth, then the kernel (its neighbour
 * table flushed) pings mpnet; the kernel side captures the frames. */
static void ping_both_ways(enum mpnet_afxdp_mode mode, const char *kif, const char *mif)
{
        struct mpnet_afxdp_stats st;
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

        veth_make(g_nsk, kif, mif, "192.0.2.2/24");
        pool = mpnet_pool_create("axl", 1024);
        assert_non_null(pool);
        l = axl_make(mif, mode, pool);
        assert_string_equal(l->info.kind, "afxdp");
        assert_string_equal(l->name, mif);
        assert_int_equal(l->info.mtu, 1500);
        assert_int_equal(kt_if_mac(g_nsm, mif, mmac), 0);
        assert_memory_equal(l->info.mac, mmac, 6);
        st = axl_stats(l);
        print_message("%s: %s mode, %s, XDP program %u\n", mif, st.native ? "native" : "generic",
                      st.zerocopy ? "zero-copy" : "copy", st.prog_id);
        assert_int_equal(st.native, mode == MPNET_AFXDP_MODE_NATIVE);
        assert_false(st.zerocopy); /* veth has no zero-copy */
        assert_true(st.prog_id > 0);
        assert_true(xdp_attached(g_nsm, mif));
        assert_int_equal(kt_if_mac(g_nsk, kif, kmac), 0);
        snprintf(file, sizeof(file), "%s/kernel_afxdp_%s.pcap", test_out_dir(),
                 st.native ? "native" : "generic");
        captured = kt_capture_start(&cap, g_nsk, kif, file) == 0;
        kt_net_init(&k, l, mpnet_afxdp_fd(l, 0), MADDR, 24, pool);
        kt_run_for(&k, 20 * MPNET_NS_PER_MS);

        assert_int_equal(kt_mpnet_ping(&k, KADDR, 3), 3);
        assert_int_equal(mpnet_neigh4_get(k.st, k.ifindex, KADDR, &ni), 0);
        assert_memory_equal(ni.mac, kmac, 6);

        kt_sh("ip -n %s neigh flush dev %s", g_nsk, kif);
        rep0 = stk_ctr(k.st, "arp_reply_tx");
        assert_int_equal(kt_run_cmd(&k, "timeout 10 ip netns exec %s ping -n -c 3 -i 0.02 -w 8 %s",
                                    g_nsk, "192.0.2.1"),
                         0);
        assert_true(stk_ctr(k.st, "arp_reply_tx") > rep0);
        assert_true(stk_ctr(k.st, "icmp4_echo_req") >= 3);
        kt_mac_str(l->info.mac, mac);
        kt_sh_out(out, sizeof(out), "ip -n %s neigh show 192.0.2.1 dev %s", g_nsk, kif);
        assert_non_null(strstr(out, mac));
        st = axl_stats(l);
        print_message("rx_dropped %llu, rx_ring_full %llu, fill_ring_empty %llu, tx_ring_empty "
                      "%llu, kicks rx %llu tx %llu\n",
                      (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
                      (unsigned long long)st.fill_ring_empty, (unsigned long long)st.tx_ring_empty,
                      (unsigned long long)st.rx_kicks, (unsigned long long)st.tx_kicks);
        assert_true(st.up);
        assert_int_equal(st.down_events, 0);
        assert_int_equal(st.rx_dropped + st.rx_ring_full + st.rx_nobufs, 0);
        assert_true(st.tx_kicks >= 6);
        kt_capture_stop(&cap);
        kt_net_fini(&k);
        /* The program went with the last socket. */
        assert_false(xdp_attached(g_nsm, mif));
        kt_sh("ip -n %s link del %s", g_nsk, kif);

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

static void test_axl_ping_generic(void **state)
{
        (void)state;
        SKIP_WITHOUT_KERNEL();
        ping_both_ways(MPNET_AFXDP_MODE_GENERIC, "vk0", "vm0");
}

static void test_axl_ping_native(void **state)
{
        (void)state;
        SKIP_WITHOUT_KERNEL();
        ping_both_ways(MPNET_AFXDP_MODE_NATIVE, "vk1", "vm1");
}

/* veth has no zero-copy: insisting on it fails with a reason and leaves no
 * program behind; the automatic choice falls back to copy mode. */
/* A veth whose peer is down drops what it is given (__dev_direct_xmit:
 * NET_XMIT_DROP); sendto() then says EBUSY, one frame a call. Every frame
 * tx_burst took is counted: sent by the link and dropped by the device. */
static void test_axl_peer_down_drops_counted(void **state)
{
        static const uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                          0,    0,    0,    0,    1,    0x88, 0xb5};
        struct mpnet_link_stats ls = {0};
        struct mpnet_afxdp_stats st;
        struct mpnet_pkt *v[10];
        struct mpnet_pool *pool;
        struct mpnet_link *l;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk4", "vm4", NULL);
        pool = mpnet_pool_create("axl", 256);
        assert_non_null(pool);
        l = axl_make("vm4", MPNET_AFXDP_MODE_NATIVE, pool);
        assert_int_equal(kt_sh("ip -n %s link set vk4 down", g_nsk), 0);
        for (unsigned i = 0; i < 10; i++) {
                v[i] = mpnet_pkt_from_bytes(pool, frame, sizeof(frame));
                assert_non_null(v[i]);
        }
        assert_int_equal(mpnet_link_tx_burst(l, 0, v, 10), 10);
        /* Empty bursts kick what is left in the TX ring. */
        for (int i = 0; i < 100; i++)
                (void)mpnet_link_tx_burst(l, 0, NULL, 0);
        st = axl_stats(l);
        mpnet_link_get_stats(l, &ls);
        print_message("peer down: tx_kicks %llu, tx_dev_drops %llu, tx_drops %llu\n",
                      (unsigned long long)st.tx_kicks, (unsigned long long)st.tx_dev_drops,
                      (unsigned long long)ls.tx_drops);
        assert_int_equal(ls.tx_pkts, 10);
        assert_int_equal(st.tx_dev_drops, 10);
        assert_true(ls.tx_drops >= 10);
        mpnet_link_destroy(l);
        kt_sh("ip -n %s link del vk4", g_nsk);
        mpnet_pool_destroy(pool);
}

/* Bursts through a veth into a 64-slot ring while another thread receives.
 * The kernel publishes the RX ring before the fill ring's consumer index
 * (xsk_flush), so a frame can come back before its fill slot looks free.
 * Every frame arrives once (a stale fill entry makes the kernel write two
 * frames into one UMEM chunk: one lost, one twice) or is counted as a drop.
 * The race is narrow: a run that does not meet it passes either way. */
enum { AXB_ROUNDS = 4000, AXB_BURST = 48 };

struct axb {
        struct mpnet_link *tx;
        struct mpnet_pool *pool;
        unsigned accepted;
        atomic_bool done;
};

static void *axb_send(void *arg)
{
        struct axb *b = arg;

        for (unsigned r = 0; r < AXB_ROUNDS; r++) {
                struct mpnet_pkt *v[AXB_BURST];
                unsigned n = 0;

                for (unsigned i = 0; i < AXB_BURST; i++) {
                        uint32_t seq = r * AXB_BURST + i;
                        uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                         0,    0,    0,    0,    1,    0x88, 0xb5};

                        memcpy(f + 14, &seq, 4);
                        v[n] = mpnet_pkt_from_bytes(b->pool, f, sizeof(f));
                        n += v[n] != NULL;
                }
                unsigned k = mpnet_link_tx_burst(b->tx, 0, v, (uint16_t)n);

                b->accepted += k;
                mpnet_pkt_free_bulk(v + k, n - k);
        }
        for (int k = 0; k < 100; k++)
                (void)mpnet_link_tx_burst(b->tx, 0, NULL, 0);
        atomic_store(&b->done, true);
        return NULL;
}

static void test_axl_bursts_once_each(void **state)
{
        static uint8_t seen[AXB_ROUNDS * AXB_BURST];
        struct mpnet_afxdp_stats rs, ts;
        struct axb b = {0};
        struct mpnet_link *rx;
        unsigned unique = 0, dups = 0;
        char err[256] = "";
        struct mpnet_afxdp_cfg tc = {.ifname = "vk5",
                                     .mode = MPNET_AFXDP_MODE_GENERIC,
                                     .ring_size = 64,
                                     .errbuf = err,
                                     .errbuf_len = sizeof(err)};
        struct mpnet_afxdp_cfg rc = tc;
        pthread_t th;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        memset(seen, 0, sizeof(seen));
        veth_make(g_nsk, "vk5", "vm5", NULL);
        b.pool = mpnet_pool_create("axl", 4096);
        assert_non_null(b.pool);
        rc.ifname = "vm5";
        rc.netns = g_nsm;
        rc.pool = b.pool;
        rc.mode = MPNET_AFXDP_MODE_NATIVE;
        tc.netns = g_nsk;
        tc.pool = b.pool;
        rx = mpnet_afxdp_create(&rc);
        if (rx == NULL)
                fail_msg("vm5: %s", err);
        b.tx = mpnet_afxdp_create(&tc);
        if (b.tx == NULL)
                fail_msg("vk5: %s", err);
        atomic_init(&b.done, false);
        assert_int_equal(pthread_create(&th, NULL, axb_send, &b), 0);
        for (int idle = 0; idle < 200;) {
                struct mpnet_pkt *in[64];
                uint16_t got = mpnet_link_rx_burst(rx, 0, in, 64);

                if (got == 0 && atomic_load(&b.done)) {
                        idle++;
                        usleep(500);
                }
                for (uint16_t i = 0; i < got; i++) {
                        const uint8_t *d = in[i]->data;
                        uint32_t seq;

                        if (in[i]->pkt_len >= 18 && d[12] == 0x88 && d[13] == 0xb5) {
                                memcpy(&seq, d + 14, 4);
                                if (seq < AXB_ROUNDS * AXB_BURST && seen[seq]++ == 0)
                                        unique++;
                                else
                                        dups++;
                        }
                        mpnet_pkt_free(in[i]);
                }
        }
        pthread_join(th, NULL);
        rs = axl_stats(rx);
        ts = axl_stats(b.tx);
        print_message("sent %u, received %u once, %u again; rx dropped %llu, ring full %llu, "
                      "tx device drops %llu\n",
                      b.accepted, unique, dups, (unsigned long long)rs.rx_dropped,
                      (unsigned long long)rs.rx_ring_full, (unsigned long long)ts.tx_dev_drops);
        assert_int_equal(dups, 0);
        assert_true(b.accepted > 0);
        assert_true(unique + rs.rx_dropped + rs.rx_ring_full + ts.tx_dev_drops >= b.accepted);
        mpnet_link_destroy(b.tx);
        mpnet_link_destroy(rx);
        kt_sh("ip -n %s link del vk5", g_nsk);
        mpnet_pool_destroy(b.pool);
}

/* Bursts of a quarter ring, each received before the next, with the
 * receiving side in generic and in native XDP mode: nothing may be lost.
 * The kernel publishes the fill ring's consumer index with the RX ring
 * (xsk_flush), so a reader that keeps up always has its frames back in the
 * fill ring in time; frames are lost only when it falls a whole ring
 * behind (counted as fill_ring_empty: the frames sit in the RX ring; see
 * test_axl_bursts_once_each), which is where mpgen's AF_XDP router loses
 * them on a busy machine. Each burst is a quarter of the 64-slot ring, and
 * ten rings of frames go through. */
enum { AXF_RING = 64, AXF_BURST = AXF_RING / 4, AXF_ROUNDS = 40 };

static void fill_paced(enum mpnet_afxdp_mode rx_mode, const char *kif, const char *mif)
{
        struct mpnet_afxdp_stats rs;
        struct mpnet_link *rx, *tx;
        struct mpnet_pool *pool;
        unsigned sent = 0, got = 0;
        char err[256] = "";
        struct mpnet_afxdp_cfg tc = {.ifname = kif,
                                     .mode = MPNET_AFXDP_MODE_GENERIC,
                                     .ring_size = AXF_RING,
                                     .errbuf = err,
                                     .errbuf_len = sizeof(err)};
        struct mpnet_afxdp_cfg rc = tc;

        veth_make(g_nsk, kif, mif, NULL);
        pool = mpnet_pool_create("axf", 1024);
        assert_non_null(pool);
        rc.ifname = mif;
        rc.netns = g_nsm;
        rc.pool = pool;
        rc.mode = rx_mode;
        tc.netns = g_nsk;
        tc.pool = pool;
        rx = mpnet_afxdp_create(&rc);
        if (rx == NULL)
                fail_msg("%s: %s", mif, err);
        tx = mpnet_afxdp_create(&tc);
        if (tx == NULL)
                fail_msg("%s: %s", kif, err);
        for (unsigned r = 0; r < AXF_ROUNDS; r++) {
                static const uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                              0,    0,    0,    0,    1,    0x88, 0xb5};
                struct mpnet_pkt *v[AXF_BURST];
                unsigned n = 0, want;

                for (unsigned i = 0; i < AXF_BURST; i++) {
                        v[n] = mpnet_pkt_from_bytes(pool, f, sizeof(f));
                        n += v[n] != NULL;
                }
                unsigned k = mpnet_link_tx_burst(tx, 0, v, (uint16_t)n);

                mpnet_pkt_free_bulk(v + k, n - k);
                sent += k;
                want = sent;
                /* Wait for the burst (at most 2 s), kicking the sender's
                 * TX ring meanwhile. */
                for (int t = 0; t < 4000 && got < want; t++) {
                        struct mpnet_pkt *in[AXF_BURST];
                        uint16_t m = mpnet_link_rx_burst(rx, 0, in, AXF_BURST);

                        got += m;
                        mpnet_pkt_free_bulk(in, m);
                        if (m == 0) {
                                (void)mpnet_link_tx_burst(tx, 0, NULL, 0);
                                usleep(500);
                        }
                }
        }
        rs = axl_stats(rx);
        print_message("%s: sent %u, received %u; rx dropped %llu, fill ring empty %llu, "
                      "rx ring full %llu\n",
                      rx_mode == MPNET_AFXDP_MODE_NATIVE ? "native" : "generic", sent, got,
                      (unsigned long long)rs.rx_dropped, (unsigned long long)rs.fill_ring_empty,
                      (unsigned long long)rs.rx_ring_full);
        assert_int_equal(sent, AXF_ROUNDS * AXF_BURST);
        assert_int_equal(rs.rx_dropped, 0);
        assert_int_equal(rs.fill_ring_empty, 0);
        assert_int_equal(got, sent);
        mpnet_link_destroy(tx);
        mpnet_link_destroy(rx);
        kt_sh("ip -n %s link del %s", g_nsk, kif);
        mpnet_pool_destroy(pool);
}

static void test_axl_paced_none_lost(void **state)
{
        (void)state;
        SKIP_WITHOUT_KERNEL();
        fill_paced(MPNET_AFXDP_MODE_GENERIC, "vk7", "vm7");
        fill_paced(MPNET_AFXDP_MODE_NATIVE, "vk8", "vm8");
}

/* One burst of half a ring in copy mode: where the kernel takes
 * XDP_MAX_TX_SKB_BUDGET (Linux 6.17) the link asks for a whole ring a
 * sendto(), so the burst costs one kick instead of one per 32 frames; on
 * older kernels the budget stays 32. Every frame arrives either way. */
static void test_axl_tx_budget(void **state)
{
        enum { RING = 256, N = RING / 2 };
        static const uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                      0,    0,    0,    0,    1,    0x88, 0xb5};
        struct mpnet_afxdp_stats ts;
        struct mpnet_link *rx, *tx;
        struct mpnet_pkt *v[N];
        struct mpnet_pool *pool;
        unsigned n = 0, k, got = 0;
        char err[256] = "";
        struct mpnet_afxdp_cfg tc = {.ifname = "vk9",
                                     .mode = MPNET_AFXDP_MODE_GENERIC,
                                     .ring_size = RING,
                                     .errbuf = err,
                                     .errbuf_len = sizeof(err)};
        struct mpnet_afxdp_cfg rc = tc;

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk9", "vm9", NULL);
        pool = mpnet_pool_create("axt", 1024);
        assert_non_null(pool);
        rc.ifname = "vm9";
        rc.netns = g_nsm;
        rc.pool = pool;
        rc.mode = MPNET_AFXDP_MODE_NATIVE;
        tc.netns = g_nsk;
        tc.pool = pool;
        rx = mpnet_afxdp_create(&rc);
        if (rx == NULL)
                fail_msg("vm9: %s", err);
        tx = mpnet_afxdp_create(&tc);
        if (tx == NULL)
                fail_msg("vk9: %s", err);
        for (unsigned i = 0; i < N; i++) {
                v[n] = mpnet_pkt_from_bytes(pool, f, sizeof(f));
                n += v[n] != NULL;
        }
        assert_int_equal(n, N);
        k = mpnet_link_tx_burst(tx, 0, v, (uint16_t)n);
        assert_int_equal(k, N);
        ts = axl_stats(tx);
        print_message("tx budget %u: %u frames in %llu kicks\n", ts.tx_budget, k,
                      (unsigned long long)ts.tx_kicks);
        assert_true(ts.tx_budget == 32 || ts.tx_budget == RING);
        if (ts.tx_budget == RING)
                assert_int_equal(ts.tx_kicks, 1);
        else
                assert_true(ts.tx_kicks >= N / 32);
        for (int t = 0; t < 4000 && got < N; t++) {
                struct mpnet_pkt *in[64];
                uint16_t m = mpnet_link_rx_burst(rx, 0, in, 64);

                got += m;
                mpnet_pkt_free_bulk(in, m);
                if (m == 0) {
                        (void)mpnet_link_tx_burst(tx, 0, NULL, 0);
                        usleep(500);
                }
        }
        ts = axl_stats(tx);
        print_message("received %u of %u, tx device drops %llu\n", got, N,
                      (unsigned long long)ts.tx_dev_drops);
        assert_int_equal(ts.tx_dev_drops, 0);
        assert_int_equal(got, N);
        mpnet_link_destroy(tx);
        mpnet_link_destroy(rx);
        kt_sh("ip -n %s link del vk9", g_nsk);
        mpnet_pool_destroy(pool);
}

static void test_axl_zerocopy_refused(void **state)
{
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        char err[256] = "";
        struct mpnet_afxdp_cfg c = {.ifname = "vm2",
                                    .errbuf = err,
                                    .errbuf_len = sizeof(err),
                                    .bind = MPNET_AFXDP_BIND_ZEROCOPY};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make(g_nsk, "vk2", "vm2", NULL);
        pool = mpnet_pool_create("axzc", 64);
        c.pool = pool;
        c.netns = g_nsm;
        assert_null(mpnet_afxdp_create(&c));
        print_message("zero-copy on veth: %s (%s)\n", err, strerror(errno));
        assert_int_equal(errno, EOPNOTSUPP);
        assert_non_null(strstr(err, "zero-copy"));
        assert_false(xdp_attached(g_nsm, "vm2"));
        c.bind = MPNET_AFXDP_BIND_AUTO;
        l = mpnet_afxdp_create(&c);
        assert_non_null(l);
        assert_true(axl_stats(l).native);
        assert_false(axl_stats(l).zerocopy);
        mpnet_link_destroy(l);
        assert_false(xdp_attached(g_nsm, "vm2"));
        kt_sh("ip -n %s link del vk2", g_nsk);
        mpnet_pool_destroy(pool);
}

/* Poll the stack until the link's up state is want, and with want false
 * and gone until it is gone (at most 3 s). */
static bool wait_state(struct kt_net *k, bool want, bool gone)
{
        uint64_t end = mpnet_monotonic_ns() + 3 * MPNET_NS_PER_S;

        while (mpnet_monotonic_ns() < end) {
                struct mpnet_afxdp_stats st = axl_stats(k->link);

                if (st.up == want && (!gone || st.gone))
                        return true;
                kt_poll_once(k, -1, 2);
        }
        return false;
}

/* The interface goes down and up; then the kernel's namespace is deleted
 * while the kernel floods mpnet with pings, taking the veth pair with it:
 * the link goes down and gone, counts it, keeps answering bursts, and
 * reopen binds the recreated interface. */
static void test_axl_vanish_and_reopen(void **state)
{
        struct mpnet_afxdp_stats st;
        struct kt_net k;
        struct mpnet_pool *pool;
        struct mpnet_link *l;
        uint64_t echo0;
        char err[256];

        (void)state;
        SKIP_WITHOUT_KERNEL();
        assert_int_equal(kt_sh("ip netns add %s", g_nsv), 0);
        veth_make(g_nsv, "vv", "vm3", "192.0.2.2/24");
        pool = mpnet_pool_create("axgone", 1024);
        l = axl_make("vm3", MPNET_AFXDP_MODE_AUTO, pool);
        kt_net_init(&k, l, mpnet_afxdp_fd(l, 0), MADDR, 24, pool);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);

        /* Down: the wakeup says ENETDOWN; up again, frames flow. */
        assert_int_equal(kt_sh("ip -n %s link set vm3 down", g_nsm), 0);
        assert_true(wait_state(&k, false, false));
        st = axl_stats(l);
        assert_false(st.gone);
        assert_int_equal(st.last_errno, ENETDOWN);
        assert_int_equal(st.down_events, 1);
        assert_int_equal(kt_sh("ip -n %s link set vm3 up", g_nsm), 0);
        assert_true(wait_state(&k, true, false));
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);

        /* Mid-traffic: the kernel pings every 10 ms; its namespace goes
         * once the ping has run for 300 ms. */
        echo0 = stk_ctr(k.st, "icmp4_echo_req");
        kt_run_cmd(&k,
                   "(ip netns exec %s ping -q -n -i 0.01 -c 1000 192.0.2.1 & P=$!; sleep 0.3; "
                   "kill $P; wait $P; ip netns del %s)",
                   g_nsv, g_nsv);
        print_message("echo requests answered before the namespace went: %llu\n",
                      (unsigned long long)(stk_ctr(k.st, "icmp4_echo_req") - echo0));
        assert_true(stk_ctr(k.st, "icmp4_echo_req") > echo0 + 5);
        assert_true(wait_state(&k, false, true));
        st = axl_stats(l);
        assert_true(st.gone);
        assert_int_equal(st.last_errno, ENXIO);
        assert_int_equal(st.down_events, 2);
        assert_int_equal(kt_mpnet_ping_wait(&k, KADDR, 1, 200), 0);
        assert_true(axl_stats(l).tx_down >= 1);
        assert_int_equal(mpnet_afxdp_reopen(l, err, sizeof(err)), -ENODEV);
        print_message("reopen while gone: %s\n", err);
        kt_run_for(&k, 50 * MPNET_NS_PER_MS); /* polling a gone link is harmless */

        /* Recreated: the kernel (new MACs) resolves mpnet, mpnet learns the
         * kernel's new MAC from that request. */
        assert_int_equal(kt_sh("ip netns add %s", g_nsv), 0);
        veth_make(g_nsv, "vv", "vm3", "192.0.2.2/24");
        assert_int_equal(mpnet_afxdp_reopen(l, err, sizeof(err)), 0);
        assert_true(xdp_attached(g_nsm, "vm3"));
        assert_int_equal(kt_run_cmd(&k, "timeout 10 ip netns exec %s ping -n -c 2 -i 0.02 -w 8 %s",
                                    g_nsv, "192.0.2.1"),
                         0);
        assert_int_equal(kt_mpnet_ping(&k, KADDR, 1), 1);
        st = axl_stats(l);
        assert_true(st.up);
        assert_false(st.gone);
        assert_int_equal(st.down_events, 2);
        kt_net_fini(&k);
        assert_false(xdp_attached(g_nsm, "vm3"));
        kt_ns_del(g_nsv);
}

/* In a child without CAP_NET_ADMIN, CAP_BPF and CAP_SYS_ADMIN: EPERM and a
 * message naming them. */
static void test_axl_eperm(void **state)
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
                struct mpnet_afxdp_cfg c = {
                    .ifname = "vm4", .pool = pool, .errbuf = err, .errbuf_len = sizeof(err)};

                if (kt_enter_ns(g_nsm) != 0 || kt_drop_cap(KT_CAP_NET_ADMIN) != 0 ||
                    kt_drop_cap(KT_CAP_BPF) != 0 || kt_drop_cap(KT_CAP_SYS_ADMIN) != 0)
                        _exit(10);
                if (mpnet_afxdp_create(&c) != NULL || errno != EPERM)
                        _exit(11);
                fprintf(stderr, "  without CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN: %s\n", err);
                if (strstr(err, "CAP_NET_ADMIN") == NULL || strstr(err, "CAP_BPF") == NULL)
                        _exit(12);
                mpnet_pool_destroy(pool);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_false(xdp_attached(g_nsm, "vm4"));
        kt_sh("ip -n %s link del vk4", g_nsk);
}

static void test_axl_bad_cfg(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("badcfg", 16);
        char err[256];
        struct mpnet_afxdp_cfg c = {.pool = pool, .errbuf = err, .errbuf_len = sizeof(err)};

        (void)state;
        assert_null(mpnet_afxdp_create(&c)); /* no interface name */
        assert_int_equal(errno, EINVAL);
        c.ifname = "lo";
        c.ring_size = 1000; /* not a power of two */
        assert_null(mpnet_afxdp_create(&c));
        assert_int_equal(errno, EINVAL);
        c.ring_size = 32768;
        assert_null(mpnet_afxdp_create(&c));
        c.ring_size = 0;
        c.n_queues = MPNET_AFXDP_MAX_QUEUES + 1;
        assert_null(mpnet_afxdp_create(&c));
        c.n_queues = 1;
        c.mode = (enum mpnet_afxdp_mode)7;
        assert_null(mpnet_afxdp_create(&c));
        c.mode = MPNET_AFXDP_MODE_AUTO;
        assert_int_equal(mpnet_afxdp_get_stats(NULL, NULL), -EINVAL);
        assert_int_equal(mpnet_afxdp_fd(NULL, 0), -EINVAL);
        assert_int_equal(mpnet_afxdp_reopen(NULL, NULL, 0), -EINVAL);
        if (g_skip == NULL) {
                c.netns = "mpnet-no-such-namespace";
                assert_null(mpnet_afxdp_create(&c));
                assert_int_equal(errno, ENOENT);
                c.netns = g_nsm;
                c.ifname = "nosuch0";
                assert_null(mpnet_afxdp_create(&c));
                assert_int_equal(errno, ENODEV);
                assert_non_null(strstr(err, "nosuch0"));
                c.ifname = "lo"; /* every namespace has one; not Ethernet */
                assert_null(mpnet_afxdp_create(&c));
                assert_int_equal(errno, EINVAL);
                assert_non_null(strstr(err, "not an Ethernet interface"));
        }
        mpnet_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_axl_bad_cfg),
            cmocka_unit_test(test_axl_ping_generic),
            cmocka_unit_test(test_axl_ping_native),
            cmocka_unit_test(test_axl_zerocopy_refused),
            cmocka_unit_test(test_axl_peer_down_drops_counted),
            cmocka_unit_test(test_axl_bursts_once_each),
            cmocka_unit_test(test_axl_paced_none_lost),
            cmocka_unit_test(test_axl_tx_budget),
            cmocka_unit_test(test_axl_vanish_and_reopen),
            cmocka_unit_test(test_axl_eperm),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

#else /* !MPNET_HAVE_AFXDP */

static void test_axl_not_built(void **state)
{
        (void)state;
        print_message("skipped: mpnet was built without the AF_XDP link (libxdp-dev and "
                      "libbpf-dev not found, or MPNET_AFXDP=OFF)\n");
        skip();
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_axl_not_built)};

        return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
