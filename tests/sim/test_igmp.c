/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IGMPv3 host side (RFC 3376) on the virtual clock: stack A (192.0.2.1/24)
 * on a memory wire whose other end the test drives as the querier and
 * observer: it sends queries and datagrams and reads what A sends.
 * Asserted: a join sends TO_EX reports (robustness 2) to 224.0.0.22 with
 * TTL 1 and a Router Alert option, the last leave TO_IN({}) ones; a general
 * query is answered within its Max Resp Time by one report of every group,
 * a group query by one of that group; 224.0.0.1 is never reported; a v2
 * querier turns A to v2 reports and leaves until its timer ends; datagrams
 * to a joined group reach local input, others are dropped and counted;
 * malformed IGMP is counted and answered by nothing; a query flood holds
 * no memory; the group cap. A capture of one run is checked by tshark.
 */
#include "ip6util.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/igmp.h"
#include "mpnet/wire/ipv4.h"

#define A_IP IP4(192, 0, 2, 1)
#define Q_IP IP4(192, 0, 2, 254) /* the querier */
#define G1   IP4(233, 252, 0, 1) /* MCAST-TEST-NET (RFC 5771) */
#define G2   IP4(233, 252, 0, 2)
#define G3   IP4(233, 252, 0, 3)
/* 23 low bits of G1's: the same MAC (RFC 1112 6.4), another group. */
#define G1_ALIAS IP4(234, 124, 0, 1)

static const uint8_t q_mac[6] = {0x02, 0, 0, 0, 0x51, 0x51};

struct inet {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *st[1];
};

static void inet_init(struct inet *n, const char *cap)
{
        struct mpnet_memwire_cfg wc = {.name = "wig"};
        struct mpnet_stack_cfg sc = {.name = "A", .seed = 7};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("igmp", 8192);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->la, &n->lb), 0);
        if (cap != NULL) {
                n->la = mpnet_capture_create(n->la, cap, MPNET_CAPTURE_PCAPNG, &n->clk);
                assert_non_null(n->la);
        }
        sc.clock = &n->clk;
        sc.pool = n->pool;
        n->st[0] = mpnet_stack_create(&sc);
        assert_non_null(n->st[0]);
        assert_int_equal(mpnet_iface_attach(n->st[0], n->la, "a0"), 1);
        assert_int_equal(mpnet_addr4_add(n->st[0], 1, A_IP, 24), 0);
}

static void inet_fini(struct inet *n)
{
        mpnet_stack_destroy(n->st[0]);
        link_drain(n->lb);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

static void run(struct inet *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 1, mpnet_clock_now(&n->clk) + ns);
}

static uint64_t ctr(struct inet *n, const char *c)
{
        return stk_ctr(n->st[0], c);
}

static uint32_t mc4_used(struct inet *n)
{
        struct mpnet_stack_usage u;

        assert_int_equal(mpnet_stack_usage_get(n->st[0], 1, &u), 0);
        assert_int_equal(u.mc4_max, 32);
        return u.mc4;
}

/* An IPv4 frame from the querier to dst, to mac (NULL: dst's group MAC),
 * with a Router Alert option when ra. */
static size_t frame4(uint8_t *f, uint32_t dst, const uint8_t *mac, uint8_t proto, uint8_t ttl,
                     bool ra, const uint8_t *pl, size_t n)
{
        size_t hl = ra ? 24 : 20;
        uint8_t *h = f + MPNET_ETH_HLEN;

        if (mac != NULL)
                memcpy(f, mac, 6);
        else
                mpnet_ip4_mc_mac(dst, f);
        memcpy(f + 6, q_mac, 6);
        mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV4);
        memset(h, 0, hl);
        h[0] = (uint8_t)(0x40 | hl / 4);
        h[1] = 0xc0;
        mpnet_put_be16(h + 2, (uint16_t)(hl + n));
        h[8] = ttl;
        h[9] = proto;
        mpnet_put_be32(h + 12, Q_IP);
        mpnet_put_be32(h + 16, dst);
        if (ra) {
                h[20] = 0x94;
                h[21] = 4;
        }
        mpnet_put_be16(h + 10, mpnet_csum(h, hl));
        memcpy(h + hl, pl, n);
        return MPNET_ETH_HLEN + hl + n;
}

static void send_query(struct inet *n, const struct mpnet_igmp_query *q, uint8_t ttl)
{
        uint8_t m[64], f[128];
        size_t len = mpnet_igmp_query_emit(q, m);
        uint32_t dst = q->group != 0 ? q->group : MPNET_IGMP_ALL_HOSTS;

        link_send(n->pool, n->lb, f, frame4(f, dst, NULL, MPNET_IPPROTO_IGMP, ttl, true, m, len));
}

static void query3(struct inet *n, uint32_t group, uint32_t max_ds)
{
        struct mpnet_igmp_query q = {
            .version = 3, .max_resp_ds = max_ds, .group = group, .qrv = 2, .qqi = 125};

        send_query(n, &q, 1);
}

/* What A sent, as the observer reads it. */
struct seen {
        uint32_t dst;
        uint8_t type;
        uint32_t group; /* v1/v2 messages */
        unsigned n_rec; /* v3 reports */
        struct mpnet_igmp_record rec[32];
};

/* Take every IGMP message A sent (ARP and the rest are dropped), checking
 * the RFC 3376 4 rules on each: TTL 1, Internetwork Control, Router
 * Alert, from A, to the group's MAC, a valid message. @return how many. */
static unsigned observe(struct inet *n, struct seen *out, unsigned max)
{
        struct mpnet_pkt *p;
        unsigned k = 0;

        while (mpnet_link_rx_burst(n->lb, 0, &p, 1) == 1) {
                const uint8_t *h = p->data + MPNET_ETH_HLEN;
                struct mpnet_igmp_view v;
                struct mpnet_ip4_view ip;
                struct mpnet_igmp_rec_iter it;
                uint8_t mac[6];
                struct seen *s;

                if (mpnet_get_be16(p->data + 12) != MPNET_ETHERTYPE_IPV4 || h[9] != 2) {
                        mpnet_pkt_free(p);
                        continue;
                }
                assert_true(k < max);
                s = &out[k++];
                assert_int_equal(mpnet_ip4_view_check(h, p->len - MPNET_ETH_HLEN, &ip), 0);
                assert_true(mpnet_ip4_csum_ok(&ip));
                assert_int_equal(mpnet_ip4_hlen(&ip), 24);
                assert_int_equal(h[20], 0x94); /* Router Alert (RFC 2113) */
                assert_int_equal(h[21], 4);
                assert_int_equal(h[1], 0xc0);
                assert_int_equal(h[8], 1);
                assert_int_equal(mpnet_get_be32(h + 12), A_IP);
                s->dst = mpnet_get_be32(h + 16);
                mpnet_ip4_mc_mac(s->dst, mac);
                assert_memory_equal(p->data, mac, 6);
                assert_int_equal(mpnet_igmp_view_check(h + 24, mpnet_get_be16(h + 2) - 24u, &v), 0);
                s->type = mpnet_igmp_type(&v);
                s->group = mpnet_igmp_group(&v);
                s->n_rec = 0;
                if (s->type == MPNET_IGMP_V3_REPORT) {
                        assert_int_equal(s->dst, MPNET_IGMP_V3_ROUTERS);
                        assert_int_equal(mpnet_igmp_report_iter_init(&it, &v), 0);
                        while (mpnet_igmp_record_next(&it, &s->rec[s->n_rec]) == 1) {
                                assert_int_equal(s->rec[s->n_rec].n_src, 0);
                                /* RFC 3376 5: never all-systems. */
                                assert_int_not_equal(s->rec[s->n_rec].group, MPNET_IGMP_ALL_HOSTS);
                                s->n_rec++;
                        }
                }
                mpnet_pkt_free(p);
        }
        return k;
}

static bool tshark_present(void)
{
        return system("command -v tshark >/dev/null 2>&1") == 0;
}

static long tshark_count(const char *file, const char *filter)
{
        char cmd[1024], line[64];
        long count = 0;
        FILE *f;

        snprintf(cmd, sizeof(cmd),
                 "tshark -n -r '%s' -Y '%s' -T fields -e frame.number 2>/dev/null", file, filter);
        f = popen(cmd, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL)
                count++;
        assert_int_equal(pclose(f), 0);
        return count;
}

/* RFC 3376 5.1: a join sends TO_EX({}) and one retransmission within the
 * Unsolicited Report Interval; a second join of the group is only
 * counted; the last leave sends TO_IN({}) twice. tshark decodes them. */
static void test_join_leave_reports(void **state)
{
        struct seen s[8];
        struct inet n;
        char cap[512];

        (void)state;
        snprintf(cap, sizeof(cap), "%s/igmp.pcapng", test_out_dir());
        inet_init(&n, cap);
        run(&n, 3 * MPNET_NS_PER_S);
        /* 224.0.0.1 is joined and never reported. */
        assert_int_equal(observe(&n, s, 8), 0);
        assert_int_equal(mc4_used(&n), 1);

        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        run(&n, 1001 * MPNET_NS_PER_MS);
        assert_int_equal(observe(&n, s, 8), 2);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(s[i].type, MPNET_IGMP_V3_REPORT);
                assert_int_equal(s[i].n_rec, 1);
                assert_int_equal(s[i].rec[0].type, MPNET_IGMP3_TO_EXCLUDE);
                assert_int_equal(s[i].rec[0].group, G1);
        }
        assert_int_equal(ctr(&n, "igmp_report_tx"), 2);
        assert_int_equal(mc4_used(&n), 2);

        /* Two members of one group: one membership. */
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        run(&n, 2 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 8), 0);
        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, G1), 0);
        run(&n, 2 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 8), 0);
        assert_int_equal(mc4_used(&n), 2);

        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, G1), 0);
        run(&n, 1001 * MPNET_NS_PER_MS);
        assert_int_equal(observe(&n, s, 8), 2);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(s[i].n_rec, 1);
                assert_int_equal(s[i].rec[0].type, MPNET_IGMP3_TO_INCLUDE);
                assert_int_equal(s[i].rec[0].group, G1);
        }
        assert_int_equal(mc4_used(&n), 1);

        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, G1), -ENOENT);
        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, MPNET_IGMP_ALL_HOSTS), -ENOENT);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, A_IP), -EINVAL);
        assert_int_equal(mpnet_mc4_join(n.st[0], 9, G1), -ENODEV);
        /* Joining all-systems only counts; leaving it again too. */
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, MPNET_IGMP_ALL_HOSTS), 0);
        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, MPNET_IGMP_ALL_HOSTS), 0);
        run(&n, 2 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 8), 0);
        assert_int_equal(mc4_used(&n), 1);
        inet_fini(&n);

        if (!tshark_present()) {
                print_message("tshark not found: capture check skipped\n");
                return;
        }
        assert_int_equal(tshark_count(cap, "igmp.version == 3 && igmp.type == 0x22 && "
                                           "igmp.record_type == 4 && ip.ttl == 1"),
                         2);
        assert_int_equal(tshark_count(cap, "igmp.version == 3 && igmp.record_type == 3 && "
                                           "igmp.maddr == 233.252.0.1"),
                         2);
        assert_int_equal(tshark_count(cap, "igmp && ip.opt.ra"), 4);
}

/* 5.2: a general query is answered once, within its Max Resp Time, by a
 * report of every group; more general queries meanwhile add nothing. */
static void test_general_query(void **state)
{
        struct seen s[8];
        struct inet n;

        (void)state;
        inet_init(&n, NULL);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G2), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 8), 2); /* one report of both, twice */
        assert_int_equal(s[0].n_rec, 2);
        for (int i = 0; i < 5; i++)
                query3(&n, 0, 10); /* Max Resp Time 1 s */
        run(&n, 1000 * MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "igmp_query_rx"), 5);
        assert_int_equal(observe(&n, s, 8), 1);
        assert_int_equal(s[0].n_rec, 2);
        for (unsigned i = 0; i < 2; i++)
                assert_int_equal(s[0].rec[i].type, MPNET_IGMP3_MODE_IS_EXCLUDE);
        assert_true((s[0].rec[0].group == G1 && s[0].rec[1].group == G2) ||
                    (s[0].rec[0].group == G2 && s[0].rec[1].group == G1));
        run(&n, 5 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 8), 0);
        inet_fini(&n);
}

/* 5.2: a group-specific query is answered for that group alone; one for a
 * group not joined, and one for 224.0.0.1, by nothing. */
static void test_group_query(void **state)
{
        struct seen s[8];
        struct inet n;

        (void)state;
        inet_init(&n, NULL);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G2), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        observe(&n, s, 8);
        query3(&n, G2, 10);
        query3(&n, G3, 10);
        query3(&n, MPNET_IGMP_ALL_HOSTS, 10);
        run(&n, 1000 * MPNET_NS_PER_MS);
        assert_int_equal(observe(&n, s, 8), 1);
        assert_int_equal(s[0].n_rec, 1);
        assert_int_equal(s[0].rec[0].type, MPNET_IGMP3_MODE_IS_EXCLUDE);
        assert_int_equal(s[0].rec[0].group, G2);
        run(&n, 5 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 8), 0);
        inet_fini(&n);
}

/* 7.2.1: a v2 querier heard, A answers and reports in v2 (to the group),
 * leaves with a v2 leave to 224.0.0.2, and another host's report
 * suppresses its answer (RFC 2236 3); once the Older Version Querier
 * Present timer ends (2 x 125 s + the query's 1 s), A is back to v3. */
static void test_v2_compat(void **state)
{
        struct mpnet_igmp_query v2 = {.version = 2, .max_resp_ds = 10};
        uint8_t m[8], f[128];
        struct seen s[8];
        struct inet n;

        (void)state;
        inet_init(&n, NULL);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        observe(&n, s, 8);
        send_query(&n, &v2, 1);
        run(&n, 1000 * MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "igmp_older_querier"), 1);
        assert_int_equal(observe(&n, s, 8), 1);
        assert_int_equal(s[0].type, MPNET_IGMP_V2_REPORT);
        assert_int_equal(s[0].group, G1);
        assert_int_equal(s[0].dst, G1);

        /* A join: an unsolicited v2 report; the leave: a v2 leave. */
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G2), 0);
        run(&n, 100 * MPNET_NS_PER_MS);
        assert_int_equal(observe(&n, s, 8), 1);
        assert_int_equal(s[0].type, MPNET_IGMP_V2_REPORT);
        assert_int_equal(s[0].dst, G2);
        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, G2), 0);
        run(&n, 100 * MPNET_NS_PER_MS);
        assert_int_equal(observe(&n, s, 8), 1);
        assert_int_equal(s[0].type, MPNET_IGMP_V2_LEAVE);
        assert_int_equal(s[0].group, G2);
        assert_int_equal(s[0].dst, MPNET_IGMP_ALL_ROUTERS);

        /* Another member's v2 report of G1 answers the query for A. */
        v2.max_resp_ds = 100;
        send_query(&n, &v2, 1);
        run(&n, 1); /* the query is in, its answer pending */
        mpnet_igmp_emit(MPNET_IGMP_V2_REPORT, 0, G1, m);
        link_send(n.pool, n.lb, f, frame4(f, G1, NULL, MPNET_IPPROTO_IGMP, 1, true, m, 8));
        run(&n, 10 * MPNET_NS_PER_S);
        assert_int_equal(ctr(&n, "igmp_suppressed"), 1);
        assert_int_equal(observe(&n, s, 8), 0);

        /* The v2 querier gone: v3 again. */
        run(&n, 252 * MPNET_NS_PER_S);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G3), 0);
        run(&n, 100 * MPNET_NS_PER_MS);
        assert_int_equal(observe(&n, s, 8), 1);
        assert_int_equal(s[0].type, MPNET_IGMP_V3_REPORT);
        assert_int_equal(s[0].rec[0].type, MPNET_IGMP3_TO_EXCLUDE);
        assert_int_equal(s[0].rec[0].group, G3);
        inet_fini(&n);
}

/* A v1 querier: v1 reports, and no leave at all (RFC 1112). */
static void test_v1_compat(void **state)
{
        struct mpnet_igmp_query v1 = {.version = 1};
        struct seen s[8];
        struct inet n;

        (void)state;
        inet_init(&n, NULL);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        observe(&n, s, 8);
        send_query(&n, &v1, 1);
        run(&n, 10 * MPNET_NS_PER_S); /* a v1 query's 10 s */
        assert_int_equal(observe(&n, s, 8), 1);
        assert_int_equal(s[0].type, MPNET_IGMP_V1_REPORT);
        assert_int_equal(s[0].dst, G1);
        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, G1), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 8), 0);
        assert_int_equal(mc4_used(&n), 1);
        inet_fini(&n);
}

static void send_udp(struct inet *n, uint32_t dst, const uint8_t *mac)
{
        uint8_t u[12] = {0x13, 0x88, 0x13, 0x89, 0, 12, 0, 0, 'm', 'c', '4', '!'};
        uint8_t f[128];

        link_send(n->pool, n->lb, f, frame4(f, dst, mac, 17, 1, false, u, sizeof(u)));
}

/* Datagrams to a joined group reach local input (UDP, closed here: no
 * error for multicast, RFC 1122 3.2.2); to a group not joined they stop at
 * the MAC filter, or at ip4-lookup when the MAC is shared. */
static void test_mc_delivery(void **state)
{
        uint8_t g1_mac[6];
        struct seen s[8];
        struct inet n;
        uint64_t mc_rx, nfu, drop, err;

        (void)state;
        inet_init(&n, NULL);
        mpnet_ip4_mc_mac(G1, g1_mac);
        run(&n, 3 * MPNET_NS_PER_S);
        mc_rx = ctr(&n, "ip4_mc_rx");
        nfu = ctr(&n, "eth_not_for_us");
        drop = ctr(&n, "ip4_multicast");
        err = ctr(&n, "icmp4_err_tx");

        send_udp(&n, G1, NULL); /* not joined yet: the MAC filter */
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "eth_not_for_us"), nfu + 1);
        assert_int_equal(ctr(&n, "ip4_mc_rx"), mc_rx);

        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        send_udp(&n, G1, NULL);
        send_udp(&n, MPNET_IGMP_ALL_HOSTS, NULL);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip4_mc_rx"), mc_rx + 2);
        assert_int_equal(ctr(&n, "udp_no_port"), 2); /* no socket on the port */

        /* G1's MAC, another group: through the filter, dropped at lookup. */
        send_udp(&n, G1_ALIAS, g1_mac);
        send_udp(&n, G2, NULL);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "ip4_multicast"), drop + 1);
        assert_int_equal(ctr(&n, "eth_not_for_us"), nfu + 2);
        assert_int_equal(ctr(&n, "ip4_mc_rx"), mc_rx + 2);

        /* Left: filtered again. */
        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, G1), 0);
        run(&n, 2 * MPNET_NS_PER_S);
        send_udp(&n, G1, NULL);
        run(&n, MPNET_NS_PER_MS);
        assert_int_equal(ctr(&n, "eth_not_for_us"), nfu + 3);
        assert_int_equal(ctr(&n, "ip4_mc_rx"), mc_rx + 2);
        assert_int_equal(ctr(&n, "icmp4_err_tx"), err);
        observe(&n, s, 8);
        inet_fini(&n);
}

/* Malformed IGMP is counted and answered by nothing: a bad checksum, a
 * query of 10 bytes (RFC 3376 7.1), sources past the end, TTL 2. */
static void test_malformed(void **state)
{
        struct mpnet_igmp_query q = {.version = 3, .max_resp_ds = 10, .qrv = 2, .qqi = 125};
        uint8_t m[16], f[128];
        struct seen s[8];
        struct inet n;
        size_t len;

        (void)state;
        inet_init(&n, NULL);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        observe(&n, s, 8);
        len = mpnet_igmp_query_emit(&q, m);
        m[3] ^= 1;
        link_send(n.pool, n.lb, f,
                  frame4(f, MPNET_IGMP_ALL_HOSTS, NULL, MPNET_IPPROTO_IGMP, 1, true, m, len));
        m[3] ^= 1;
        link_send(n.pool, n.lb, f,
                  frame4(f, MPNET_IGMP_ALL_HOSTS, NULL, MPNET_IPPROTO_IGMP, 1, true, m, 10));
        m[11] = 1; /* one source announced, none there */
        link_send(n.pool, n.lb, f,
                  frame4(f, MPNET_IGMP_ALL_HOSTS, NULL, MPNET_IPPROTO_IGMP, 1, true, m, len));
        send_query(&n, &q, 2);
        run(&n, 2 * MPNET_NS_PER_S);
        assert_int_equal(ctr(&n, "igmp_rx"), 4);
        assert_int_equal(ctr(&n, "igmp_bad"), 4);
        assert_int_equal(ctr(&n, "igmp_query_rx"), 0);
        assert_int_equal(observe(&n, s, 8), 0);
        inet_fini(&n);
}

static uint64_t rnd(uint64_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

/* A flood of queries of every version and group, joined or not, with
 * Max Resp Times from 0: the groups, the pending answers (one per group
 * and one general) and the buffers held stay what they were; the answers
 * sent are at most one report per query. */
static void test_query_flood(void **state)
{
        static const uint32_t groups[] = {G1, G2, G3, G1_ALIAS, 0};
        static struct seen s[1024];
        uint64_t x = 0x16d, reports;
        struct inet n;
        unsigned sent = 0, seen = 0;
        size_t in_use;

        (void)state;
        inet_init(&n, NULL);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G2), 0);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G3), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        observe(&n, s, 1024);
        reports = ctr(&n, "igmp_report_tx");
        in_use = mpnet_pool_in_use(n.pool);
        for (unsigned i = 0; i < 20000; i++) {
                uint64_t r = rnd(&x);
                struct mpnet_igmp_query q = {.version = (uint8_t)(3 - (r % 16 == 0)),
                                             .max_resp_ds = (uint32_t)(r >> 8) % 50,
                                             .group = groups[(r >> 16) % 5],
                                             .qrv = 2,
                                             .qqi = 125};

                if (q.version == 2 && q.max_resp_ds == 0)
                        q.max_resp_ds = 1;
                send_query(&n, &q, 1);
                sent += q.group != G1_ALIAS; /* that one stops at ip4-lookup */
                if (i % 64 == 63) {
                        run(&n, (r >> 24) % (2 * MPNET_NS_PER_MS));
                        seen += observe(&n, s, 1024);
                        assert_int_equal(mc4_used(&n), 4);
                }
        }
        run(&n, 300 * MPNET_NS_PER_S);
        seen += observe(&n, s, 1024);
        assert_int_equal(ctr(&n, "igmp_query_rx"), sent);
        assert_int_equal(ctr(&n, "igmp_bad"), 0);
        assert_int_equal(mc4_used(&n), 4);
        assert_true(seen > 0);
        assert_true(seen <= 3 * sent); /* v2 answers go a group each */
        assert_int_equal(ctr(&n, "igmp_report_tx") - reports, seen);
        assert_int_equal(mpnet_pool_in_use(n.pool), in_use);
        inet_fini(&n);
}

/* The groups of an interface are capped (usage mc4_max), 224.0.0.1
 * included; a group left makes room again once its reports are out. */
static void test_group_cap(void **state)
{
        struct seen s[64];
        struct inet n;

        (void)state;
        inet_init(&n, NULL);
        for (uint32_t i = 0; i < 31; i++)
                assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1 + 16 + i), 0);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), -ENOSPC);
        assert_int_equal(mc4_used(&n), 32);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1 + 16), 0); /* a count */
        run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(observe(&n, s, 64), 2); /* one report of 31, twice */
        assert_int_equal(s[0].n_rec, 31);
        assert_int_equal(mpnet_mc4_leave(n.st[0], 1, G1 + 17), 0);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), -ENOSPC); /* still leaving */
        run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(mc4_used(&n), 31);
        assert_int_equal(mpnet_mc4_join(n.st[0], 1, G1), 0);
        run(&n, 3 * MPNET_NS_PER_S);
        observe(&n, s, 64);
        inet_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_join_leave_reports), cmocka_unit_test(test_general_query),
            cmocka_unit_test(test_group_query),        cmocka_unit_test(test_v2_compat),
            cmocka_unit_test(test_v1_compat),          cmocka_unit_test(test_mc_delivery),
            cmocka_unit_test(test_malformed),          cmocka_unit_test(test_query_flood),
            cmocka_unit_test(test_group_cap),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
