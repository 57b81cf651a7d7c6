/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DPDK link, without root and without hugepages: the EAL runs with
 * --no-huge --no-pci --no-shconf and virtual devices only.
 *
 * The EAL can be initialised once per process, so the tests run in order in
 * one group: first what must fail before it is up (bad EAL arguments, a link
 * before the EAL), then the EAL, then the links:
 * - two net_ring ports wired back to back (rte_eth_from_rings() with each
 *   port's tx rings the other's rx rings), an mpnet stack on each, pinging
 *   both ways over IPv4 with ARP under a virtual clock;
 * - the same over two net_memif ports (server and client in this process),
 *   hot-plugged by create from their device arguments;
 * - two queues on such a pair: net_ring cannot hash (no RSS), so what is
 *   sent on tx queue q arrives on rx queue q; a 3000-byte frame crosses as a
 *   multi-segment mbuf and arrives as a chain; checksums asked for are done
 *   in software (net_ring offers no offload) and a VLAN tag inserted;
 * - bursts from a thread the EAL does not know (the queues' mbuf caches);
 * - RSS configured on net_null (which hashes but takes no key);
 * - net_tap (root only, else skipped): the kernel pings mpnet and back,
 *   with the port's checksum offload towards the kernel;
 * - an unknown port, a port already taken, bad configurations: errors with
 *   a message, never a crash.
 * Without DPDK in the build, the test skips.
 */
#define _GNU_SOURCE /* setns in netns_util.h, CPU_COUNT */
#include <sched.h>

#include "netns_util.h"

#ifdef MPNET_HAVE_DPDK
#include <pthread.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "mpnet/dpdk.h"

#define A_IP IP4(198, 51, 100, 1)
#define B_IP IP4(198, 51, 100, 2)

static const char *g_eal_skip = "the EAL did not start";

#define SKIP_WITHOUT_EAL()                                                                         \
        do {                                                                                       \
                if (g_eal_skip != NULL) {                                                          \
                        print_message("skipped: %s\n", g_eal_skip);                                \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

static void test_eal_bad_args(void **state)
{
        const char *bad[] = {"--no-huge", "--no-such-eal-option"};
        struct mpnet_dpdk_eal_cfg ec = {.argc = 2, .argv = bad};
        struct mpnet_dpdk_cfg lc = {.port = "net_ring0"};
        char err[256] = "";

        (void)state;
        ec.errbuf = err;
        ec.errbuf_len = sizeof(err);
        assert_int_equal(mpnet_dpdk_init(&ec), -EINVAL);
        print_message("bad EAL arguments: %s\n", err);
        assert_non_null(strstr(err, "EAL arguments"));
        assert_int_equal(mpnet_dpdk_init(NULL), -EINVAL);

        /* A link before the EAL. */
        lc.pool = mpnet_pool_create("t", 64);
        lc.errbuf = err;
        lc.errbuf_len = sizeof(err);
        errno = 0;
        assert_null(mpnet_dpdk_create(&lc));
        assert_int_equal(errno, EPERM);
        assert_non_null(strstr(err, "mpnet_dpdk_init"));
        mpnet_pool_destroy(lc.pool);
}

/* The EAL, once: after the refused arguments above, a good set. */
static void test_eal_init(void **state)
{
        const char *args[] = {"--no-huge",
                              "-m",
                              "256",
                              "--no-pci",
                              "--no-shconf",
                              "--no-telemetry",
                              "--log-level=*:error",
                              "--vdev=net_ring0",
                              "--vdev=net_null0"};
        struct mpnet_dpdk_eal_cfg ec = {.argc = sizeof(args) / sizeof(args[0]), .argv = args};
        cpu_set_t before, after;
        char err[256] = "";
        int rc;

        (void)state;
        ec.errbuf = err;
        ec.errbuf_len = sizeof(err);
        assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
        rc = mpnet_dpdk_init(&ec);
        if (rc != 0)
                print_message("EAL: %s\n", err);
        assert_int_equal(rc, 0);
        g_eal_skip = NULL;
        /* The EAL pinned this thread to its main lcore; mpnet gave it back. */
        assert_int_equal(sched_getaffinity(0, sizeof(after), &after), 0);
        assert_int_equal(CPU_COUNT(&after), CPU_COUNT(&before));
        assert_int_equal(mpnet_dpdk_init(&ec), -EALREADY);
        assert_non_null(strstr(err, "already"));
}

/* ---- a net_ring pair ---------------------------------------------------------- */

/* Two ports, net_ring_NAME-a and net_ring_NAME-b (the PMD adds the prefix),
 * wired back to back with nq queues. */
static void ring_pair(const char *name, uint16_t nq)
{
        struct rte_ring *ab[4], *ba[4];
        char n[64];
        int pa, pb;

        assert_true(nq <= 4);
        for (uint16_t q = 0; q < nq; q++) {
                snprintf(n, sizeof(n), "%s-ab%u", name, q);
                ab[q] = rte_ring_create(n, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
                snprintf(n, sizeof(n), "%s-ba%u", name, q);
                ba[q] = rte_ring_create(n, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
                assert_non_null(ab[q]);
                assert_non_null(ba[q]);
        }
        snprintf(n, sizeof(n), "%s-a", name);
        pa = rte_eth_from_rings(n, ba, nq, ab, nq, SOCKET_ID_ANY);
        snprintf(n, sizeof(n), "%s-b", name);
        pb = rte_eth_from_rings(n, ab, nq, ba, nq, SOCKET_ID_ANY);
        assert_true(pa >= 0 && pb >= 0);
}

static struct mpnet_link *dpdk_open(const char *port, uint16_t nq, uint16_t mtu,
                                    struct mpnet_pool *pool, uint8_t last)
{
        struct mpnet_dpdk_cfg c = {.port = port, .n_queues = nq, .mtu = mtu, .pool = pool};
        char err[256] = "";
        struct mpnet_link *l;

        c.errbuf = err;
        c.errbuf_len = sizeof(err);
        /* net_ring gives every port the same MAC: pick ours. */
        memcpy(c.mac, (uint8_t[6]){0x02, 0x64, 0x70, 0x64, 0x6b, last}, 6);
        l = mpnet_dpdk_create(&c);
        if (l == NULL)
                print_message("%s: %s\n", port, err);
        assert_non_null(l);
        return l;
}

/* A stack on each link pings the other five times each way, with ARP, under
 * a virtual clock (both ports deliver at once); then everything goes. */
/* Link l's port: up (or down) within 5 s? */
static bool port_link_becomes(struct mpnet_link *l, bool up)
{
        uint64_t end = mpnet_monotonic_ns() + 5 * MPNET_NS_PER_S;
        struct mpnet_dpdk_stats ds;
        struct rte_eth_link k;

        assert_int_equal(mpnet_dpdk_get_stats(l, &ds), 0);
        do {
                rte_eth_link_get_nowait(ds.port_id, &k);
                if ((bool)k.link_status == up)
                        return true;
                usleep(10000);
        } while (mpnet_monotonic_ns() < end);
        return false;
}

/* Two stacks on la and lb ping each other; the links are destroyed, la
 * first. A peer that notices la going (memif: in the EAL's interrupt
 * thread) is destroyed only once it has: DPDK 22.11's memif can otherwise
 * still run lb's disconnect handler while lb is being removed, and the
 * interrupt thread crashes (seen about once in 20 runs on a loaded
 * machine). */
static void ping_pair(struct mpnet_link *la, struct mpnet_link *lb, struct mpnet_pool *pool,
                      bool peer_sees_down)
{
        struct mpnet_stack_cfg sc = {0};
        struct mpnet_stack *st[2];
        struct mpnet_clock clk;
        struct mpnet_neigh_info ni;
        int ia, ib;

        mpnet_clock_init_virtual(&clk, MPNET_NS_PER_S);
        sc.clock = &clk;
        sc.pool = pool;
        sc.name = "A";
        sc.seed = 1;
        st[0] = mpnet_stack_create(&sc);
        sc.name = "B";
        sc.seed = 2;
        st[1] = mpnet_stack_create(&sc);
        assert_non_null(st[0]);
        assert_non_null(st[1]);
        ia = mpnet_iface_attach(st[0], la, "a0");
        ib = mpnet_iface_attach(st[1], lb, "b0");
        assert_int_equal(mpnet_addr4_add(st[0], ia, A_IP, 24), 0);
        assert_int_equal(mpnet_addr4_add(st[1], ib, B_IP, 24), 0);
        sim_run_until(&clk, st, 2, mpnet_clock_now(&clk) + 10 * MPNET_NS_PER_MS);

        for (int from = 0; from < 2; from++) {
                uint32_t dst = from == 0 ? B_IP : A_IP;

                for (uint16_t seq = 1; seq <= 5; seq++) {
                        struct mpnet_ping_reply r[4];
                        unsigned k;
                        bool got = false;

                        assert_int_equal(
                            mpnet_ping4_send(st[from], dst, 0x6470, seq, 56, mpnet_clock_now(&clk)),
                            0);
                        sim_run_until(&clk, st, 2, mpnet_clock_now(&clk) + MPNET_NS_PER_S);
                        k = mpnet_ping4_recv(st[from], r, 4);
                        for (unsigned i = 0; i < k; i++)
                                got |=
                                    r[i].from == dst && r[i].seq == seq && r[i].payload_len == 56;
                        assert_true(got);
                }
        }
        assert_int_equal(stk_ctr(st[1], "icmp4_echo_req"), 5);
        assert_int_equal(stk_ctr(st[0], "icmp4_echo_req"), 5);
        /* ARP resolved both ways, to the addresses the links were given. */
        assert_int_equal(mpnet_neigh4_get(st[0], ia, B_IP, &ni), 0);
        assert_memory_equal(ni.mac, lb->info.mac, 6);
        assert_int_equal(mpnet_neigh4_get(st[1], ib, A_IP, &ni), 0);
        assert_memory_equal(ni.mac, la->info.mac, 6);

        mpnet_stack_destroy(st[0]);
        mpnet_stack_destroy(st[1]);
        if (peer_sees_down) {
                /* The client goes first, and the server only once it has
                 * seen the client go. */
                mpnet_link_destroy(lb);
                assert_true(port_link_becomes(la, false));
                mpnet_link_destroy(la);
        } else {
                mpnet_link_destroy(la);
                mpnet_link_destroy(lb);
        }
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_ring_ping(void **state)
{
        struct mpnet_link *la, *lb;
        struct mpnet_pool *pool;

        (void)state;
        SKIP_WITHOUT_EAL();
        ring_pair("rp", 1);
        pool = mpnet_pool_create("dpdk", 4096);
        assert_non_null(pool);
        la = dpdk_open("net_ring_rp-a", 1, 0, pool, 0x0a);
        lb = dpdk_open("net_ring_rp-b", 1, 0, pool, 0x0b);
        assert_string_equal(la->info.kind, "dpdk");
        assert_string_equal(la->name, "net_ring_rp-a");
        assert_int_equal(la->info.mtu, 1500);
        assert_int_equal(la->info.n_rxq, 1);
        /* net_ring verifies and fills no checksum. */
        assert_int_equal(la->info.offloads, MPNET_LINK_OFF_VLAN);
        assert_true(mpnet_link_carrier(la)); /* a started ring port is up */
        ping_pair(la, lb, pool, false);
}

/* Two memif ports of this process, server and client on one abstract
 * socket, hot-plugged by create: shared memory, no hugepages, no root. */
static void test_memif_ping(void **state)
{
        struct mpnet_dpdk_stats ds;
        struct mpnet_link *la, *lb;
        struct mpnet_pool *pool;
        char sa[128], sb[128];

        (void)state;
        SKIP_WITHOUT_EAL();
        /* Debian 12's DPDK 22.11: after the two memif ports of one process
         * are removed, the EAL's interrupt thread sometimes still runs a
         * memif handler and crashes the process in a later test (about 1
         * run in 20 on a loaded 2-CPU machine; the order of removal and
         * waiting for the peer to see the link go do not help). Opt in. */
        if (getenv("MPNET_TEST_MEMIF") == NULL) {
                print_message("skipped: memif teardown can crash DPDK 22.11's interrupt thread; "
                              "set MPNET_TEST_MEMIF=1 to run it\n");
                skip();
        }
        snprintf(sa, sizeof(sa), "net_memif0,role=server,socket-abstract=yes,socket=/mpnet-%d",
                 (int)getpid());
        snprintf(sb, sizeof(sb), "net_memif1,role=client,socket-abstract=yes,socket=/mpnet-%d",
                 (int)getpid());
        pool = mpnet_pool_create("dpdk", 4096);
        assert_non_null(pool);
        la = dpdk_open(sa, 1, 0, pool, 0x0a);
        lb = dpdk_open(sb, 1, 0, pool, 0x0b);
        assert_string_equal(la->name, "net_memif0");
        assert_int_equal(mpnet_dpdk_get_stats(la, &ds), 0);
        /* The two connect in the EAL's interrupt thread. */
        assert_true(port_link_becomes(la, true));
        assert_true(port_link_becomes(lb, true));
        ping_pair(la, lb, pool, true);
        /* Hot-plugged, so removed by destroy: the name is free again. */
        assert_int_not_equal(rte_eth_dev_get_port_by_name("net_memif0", &ds.port_id), 0);
}

/* Receive one frame from link l, any queue, within a second. */
static struct mpnet_pkt *rx_one(struct mpnet_link *l, uint16_t *q_out)
{
        uint64_t end = mpnet_monotonic_ns() + MPNET_NS_PER_S;

        while (mpnet_monotonic_ns() < end) {
                for (uint16_t q = 0; q < l->info.n_rxq; q++) {
                        struct mpnet_pkt *p;

                        if (mpnet_link_rx_burst(l, q, &p, 1) == 1) {
                                *q_out = q;
                                return p;
                        }
                }
        }
        return NULL;
}

static void test_ring_queues_chains_csum(void **state)
{
        static const uint8_t ma[6] = {0x02, 0, 0, 0, 0, 0x0a}, mb[6] = {0x02, 0, 0, 0, 0, 0x0b};
        struct mpnet_dpdk_stats ds;
        struct mpnet_link_stats ls = {0};
        struct mpnet_link *la, *lb;
        struct mpnet_pool *pool;
        struct mpnet_pkt *p, *r;
        struct kt_csum_seen cs = {0};
        uint8_t big[4100], back[3000];
        uint16_t q;

        (void)state;
        SKIP_WITHOUT_EAL();
        ring_pair("mq", 2);
        pool = mpnet_pool_create("dpdk", 4096);
        assert_non_null(pool);
        la = dpdk_open("net_ring_mq-a", 2, 4000, pool, 0x0a);
        lb = dpdk_open("net_ring_mq-b", 2, 4000, pool, 0x0b);
        assert_int_equal(la->info.n_rxq, 2);
        assert_int_equal(la->info.n_txq, 2);
        assert_int_equal(la->info.mtu, 4000);
        assert_int_equal(mpnet_dpdk_get_stats(la, &ds), 0);
        /* net_ring has queues but no hash: no RSS, frames keep their queue. */
        assert_false(ds.rss);

        for (uint16_t tq = 0; tq < 2; tq++) {
                p = kt_udp_frame(pool, mb, ma, A_IP, B_IP, 9, 32, false);
                kt_send1(la, tq, p);
                r = rx_one(lb, &q);
                assert_non_null(r);
                assert_int_equal(q, tq);
                mpnet_pkt_free(r);
        }

        /* 3000 bytes: two mbufs over the ring, a two-buffer chain out. */
        for (unsigned i = 0; i < sizeof(big); i++)
                big[i] = (uint8_t)(i * 13 + 5);
        memcpy(big, mb, 6);
        memcpy(big + 6, ma, 6);
        mpnet_put_be16(big + 12, 0x88b5);
        p = mpnet_pkt_from_bytes(pool, big, sizeof(back));
        assert_non_null(p);
        assert_int_equal(p->nb_segs, 2);
        kt_send1(la, 1, p);
        r = rx_one(lb, &q);
        assert_non_null(r);
        assert_int_equal(r->pkt_len, sizeof(back));
        assert_int_equal(r->nb_segs, 2);
        assert_int_equal(mpnet_pkt_read(r, 0, back, sizeof(back)), 0);
        assert_memory_equal(back, big, sizeof(back));
        mpnet_pkt_free(r);

        /* Longer than the MTU (4100 > 4000 + 18): dropped and counted. */
        p = mpnet_pkt_from_bytes(pool, big, sizeof(big));
        assert_non_null(p);
        assert_int_equal(mpnet_link_tx_burst(lb, 0, &p, 1), 1);

        /* Checksums in software: the port fills none. */
        p = kt_udp_frame(pool, mb, ma, A_IP, B_IP, 9, 100, true);
        kt_send1(la, 0, p);
        r = rx_one(lb, &q);
        assert_non_null(r);
        assert_true(mpnet_csum20_ok(r->data + 14));
        assert_true(kt_udp_csum_check(r, q, &cs));
        assert_true(cs.csum_ok);
        mpnet_pkt_free(r);

        /* A VLAN tag from the metadata goes into the frame. */
        p = kt_udp_frame(pool, mb, ma, A_IP, B_IP, 9, 32, false);
        p->ol_flags |= MPNET_PKT_F_VLAN;
        p->vlan_tci = 0x2064;
        kt_send1(la, 0, p);
        r = rx_one(lb, &q);
        assert_non_null(r);
        assert_int_equal(r->pkt_len, 14 + 4 + 20 + 8 + 32);
        assert_int_equal(mpnet_get_be16(r->data + 12), 0x8100);
        assert_int_equal(mpnet_get_be16(r->data + 14), 0x2064);
        assert_int_equal(mpnet_get_be16(r->data + 16), 0x0800);
        mpnet_pkt_free(r);

        /* TSO cannot be done: dropped and counted. */
        p = kt_udp_frame(pool, mb, ma, A_IP, B_IP, 9, 32, false);
        p->ol_flags |= MPNET_PKT_F_TSO;
        assert_int_equal(mpnet_link_tx_burst(la, 0, &p, 1), 1);

        assert_int_equal(mpnet_dpdk_get_stats(la, &ds), 0);
        assert_int_equal(ds.tx_bad_ol, 1);
        assert_int_equal(ds.tx_hw_csum, 0);
        assert_int_equal(mpnet_dpdk_get_stats(lb, &ds), 0);
        assert_int_equal(ds.tx_oversize, 1);
        mpnet_link_get_stats(la, &ls);
        assert_int_equal(ls.tx_pkts, 5);
        assert_int_equal(ls.tx_drops, 1);
        memset(&ls, 0, sizeof(ls));
        mpnet_link_get_stats(lb, &ls);
        assert_int_equal(ls.rx_pkts, 5);

        /* Frames left in a ring at destroy go back to the mbuf pool. */
        p = kt_udp_frame(pool, mb, ma, A_IP, B_IP, 9, 32, false);
        kt_send1(la, 1, p);
        mpnet_link_destroy(la);
        mpnet_link_destroy(lb);
        /* The ports can be taken again once given back. */
        lb = dpdk_open("net_ring_mq-b", 1, 0, pool, 0x0b);
        mpnet_link_destroy(lb);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

struct thread_run {
        struct mpnet_link *a, *b;
        struct mpnet_pool *pool;
        unsigned sent, got;
        bool eal_thread;
};

/* A thread the EAL does not know: the queues' own mbuf caches. */
static void *plain_thread(void *arg)
{
        static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        struct thread_run *t = arg;
        uint64_t end = mpnet_monotonic_ns() + MPNET_NS_PER_S;

        t->eal_thread = rte_lcore_id() != LCORE_ID_ANY;
        for (unsigned i = 0; i < 8; i++) {
                struct mpnet_pkt *v[32];

                for (unsigned k = 0; k < 32; k++)
                        v[k] = kt_udp_frame(t->pool, bc, t->a->info.mac, A_IP, B_IP, 9, 18, false);
                t->sent += mpnet_link_tx_burst(t->a, 0, v, 32);
        }
        while (t->got < t->sent && mpnet_monotonic_ns() < end) {
                struct mpnet_pkt *v[32];
                uint16_t n = mpnet_link_rx_burst(t->b, 0, v, 32);

                t->got += n;
                mpnet_pkt_free_bulk(v, n);
        }
        mpnet_pool_flush_cache(t->pool);
        return NULL;
}

static void test_ring_plain_thread(void **state)
{
        struct thread_run t = {0};
        pthread_t th;

        (void)state;
        SKIP_WITHOUT_EAL();
        ring_pair("th", 1);
        t.pool = mpnet_pool_create("dpdk", 1024);
        assert_non_null(t.pool);
        t.a = dpdk_open("net_ring_th-a", 1, 0, t.pool, 0x0a);
        t.b = dpdk_open("net_ring_th-b", 1, 0, t.pool, 0x0b);
        assert_int_equal(pthread_create(&th, NULL, plain_thread, &t), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_false(t.eal_thread);
        assert_int_equal(t.sent, 256);
        assert_int_equal(t.got, 256);
        mpnet_link_destroy(t.a);
        mpnet_link_destroy(t.b);
        assert_int_equal(mpnet_pool_in_use(t.pool), 0);
        mpnet_pool_destroy(t.pool);
}

/* net_ring0 from the EAL arguments: with no rings given, a port whose tx
 * queue feeds its own rx queue. */
static void test_vdev_loopback(void **state)
{
        static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        struct mpnet_pool *pool = mpnet_pool_create("dpdk", 256);
        struct mpnet_link *l;
        struct mpnet_pkt *r;
        uint16_t q;

        (void)state;
        SKIP_WITHOUT_EAL();
        assert_non_null(pool);
        l = dpdk_open("net_ring0", 1, 0, pool, 0x0c);
        kt_send1(l, 0, kt_udp_frame(pool, bc, l->info.mac, A_IP, B_IP, 9, 18, false));
        r = rx_one(l, &q);
        assert_non_null(r);
        assert_int_equal(r->pkt_len, 60);
        mpnet_pkt_free(r);
        mpnet_link_destroy(l);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* net_null hashes (it lists RSS types) but takes no key. */
static void test_rss_null(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("dpdk", 1024);
        struct mpnet_dpdk_stats ds;
        struct mpnet_link *l;

        (void)state;
        SKIP_WITHOUT_EAL();
        assert_non_null(pool);
        l = dpdk_open("net_null0", 2, 0, pool, 0x0d);
        assert_int_equal(mpnet_dpdk_get_stats(l, &ds), 0);
        assert_true(ds.rss);
        assert_false(ds.rss_key);
        assert_true(ds.rss_hf & RTE_ETH_RSS_IP);
        mpnet_link_destroy(l);
        l = dpdk_open("net_null0", 1, 0, pool, 0x0d);
        assert_int_equal(mpnet_dpdk_get_stats(l, &ds), 0);
        assert_false(ds.rss); /* one queue: nothing to spread */
        mpnet_link_destroy(l);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_errors(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("dpdk", 256);
        struct mpnet_dpdk_cfg c = {.pool = pool};
        struct mpnet_link *l;
        char err[256];
        static const char *const bad[] = {"no-such-port", "net_bogus0", "0000:99:00.0", ","};
        static const int want[] = {ENODEV, ENODEV, ENODEV, EINVAL};

        (void)state;
        SKIP_WITHOUT_EAL();
        assert_non_null(pool);
        c.errbuf = err;
        c.errbuf_len = sizeof(err);
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                c.port = bad[i];
                err[0] = '\0';
                errno = 0;
                assert_null(mpnet_dpdk_create(&c));
                assert_int_equal(errno, want[i]);
                print_message("%s: %s\n", bad[i], err);
                assert_true(err[0] != '\0');
        }
        c.port = NULL;
        c.port_id = RTE_MAX_ETHPORTS - 1;
        assert_null(mpnet_dpdk_create(&c));
        assert_int_equal(errno, ENODEV);
        /* Too many queues for the port, no pool, a multicast MAC. */
        c.port = "net_ring0";
        c.n_queues = MPNET_DPDK_MAX_QUEUES;
        assert_null(mpnet_dpdk_create(&c));
        assert_int_equal(errno, EINVAL);
        print_message("64 queues: %s\n", err);
        c.n_queues = 1;
        c.pool = NULL;
        assert_null(mpnet_dpdk_create(&c));
        assert_int_equal(errno, EINVAL);
        c.pool = pool;
        c.mac[0] = 1;
        assert_null(mpnet_dpdk_create(&c));
        assert_int_equal(errno, EINVAL);
        c.mac[0] = 0;
        /* One port, one link. */
        l = mpnet_dpdk_create(&c);
        assert_non_null(l);
        assert_null(mpnet_dpdk_create(&c));
        assert_int_equal(errno, EBUSY);
        print_message("taken twice: %s\n", err);
        mpnet_link_destroy(l);
        assert_int_equal(mpnet_dpdk_get_stats(NULL, NULL), -EINVAL);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* ---- net_tap: the kernel as the peer (root) ---------------------------------- */

#define TAP_IF "mpdtap0"
#define K_IP   IP4(192, 0, 2, 2)
#define M_IP   IP4(192, 0, 2, 1)

static void test_tap_kernel(void **state)
{
        const char *why = kt_skip_reason(true);
        struct mpnet_pool *pool;
        struct mpnet_dpdk_stats ds;
        struct mpnet_dpdk_cfg c = {.port = "net_tap0,iface=" TAP_IF};
        uint8_t kmac[6];
        char ns[64], err[256] = "";
        struct kt_net k;
        long noports;

        (void)state;
        SKIP_WITHOUT_EAL();
        if (why != NULL) {
                print_message("skipped: net_tap: %s\n", why);
                skip();
        }
        assert_int_equal(kt_ns_add(ns, sizeof(ns), "mpnet-dpdk"), 0);
        pool = mpnet_pool_create("dpdk", 4096);
        assert_non_null(pool);
        c.pool = pool;
        /* The PMD gives the kernel's end the port's MAC: mpnet takes another. */
        memcpy(c.mac, (uint8_t[6]){0x02, 0x64, 0x70, 0x64, 0x6b, 0x01}, 6);
        c.errbuf = err;
        c.errbuf_len = sizeof(err);
        /* Hot-plugged here; the kernel end then moves to the test namespace
         * (the PMD keeps its descriptors). */
        k.link = mpnet_dpdk_create(&c);
        if (k.link == NULL)
                print_message("net_tap: %s\n", err);
        assert_non_null(k.link);
        assert_int_equal(k.link->info.offloads,
                         MPNET_LINK_OFF_VLAN | MPNET_LINK_OFF_RX_CSUM | MPNET_LINK_OFF_TX_CSUM);
        assert_int_equal(kt_sh("ip link set " TAP_IF " netns %s", ns), 0);
        assert_int_equal(kt_sh("ip -n %s addr add 192.0.2.2/24 dev " TAP_IF
                               " && ip -n %s link set " TAP_IF " up",
                               ns, ns),
                         0);
        assert_int_equal(kt_if_mac(ns, TAP_IF, kmac), 0);
        kt_net_init(&k, k.link, -1, M_IP, 24, pool);

        assert_int_equal(kt_mpnet_ping(&k, K_IP, 3), 3);
        assert_int_equal(kt_run_cmd(&k,
                                    "ip netns exec %s timeout 10 ping -c 3 -i 0.2 -W 2 "
                                    "192.0.2.1",
                                    ns),
                         0);
        /* A UDP datagram to a closed port with the checksums left to the
         * port: the kernel takes it (NoPorts, no InCsumErrors). */
        noports = kt_snmp(ns, "Udp", "NoPorts");
        kt_send1(k.link, 0, kt_udp_frame(pool, kmac, k.link->info.mac, M_IP, K_IP, 9, 64, true));
        assert_int_equal(kt_snmp_wait(ns, "Udp", "NoPorts", noports + 1), noports + 1);
        assert_int_equal(kt_snmp(ns, "Udp", "InCsumErrors"), 0);
        assert_int_equal(mpnet_dpdk_get_stats(k.link, &ds), 0);
        assert_true(ds.tx_hw_csum >= 1);
        kt_net_fini(&k);
        kt_ns_del(ns);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_eal_bad_args),
            cmocka_unit_test(test_eal_init),
            cmocka_unit_test(test_ring_ping),
            cmocka_unit_test(test_memif_ping),
            cmocka_unit_test(test_ring_queues_chains_csum),
            cmocka_unit_test(test_ring_plain_thread),
            cmocka_unit_test(test_vdev_loopback),
            cmocka_unit_test(test_rss_null),
            cmocka_unit_test(test_errors),
            cmocka_unit_test(test_tap_kernel),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

static void test_dpdk_not_built(void **state)
{
        (void)state;
        print_message("skipped: mpnet was built without DPDK (install libdpdk-dev and "
                      "re-run cmake; docs/LINKS.md)\n");
        skip();
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_dpdk_not_built)};

        return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
