/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP errors for a TCP connection homed on a worker (l4/tcp_pmtu.c): the
 * stack runs its link on one worker (context 1), where its listener and so
 * the connection are homed; the peer is this thread, scripted
 * (tcpscript.h), on the virtual clock, so no timer fires unless the script
 * says. ICMP errors come to the control thread (the worker punts them),
 * which hands each to the connection's home (tcp_err_handoff); the home
 * checks the quoted sequence against SND.UNA..SND.NXT (RFC 5927 4.1).
 *
 * Asserted, over IPv4 (fragmentation needed, RFC 1191) and IPv6 (packet
 * too big, RFC 8201), with data in flight: a quote at SND.NXT is counted
 * (tcp_pmtu_bad) and changes nothing (the MSS, the path MTU cache); a
 * quote at SND.UNA lowers the MSS on the home, the data go again in the
 * new size from SND.UNA, the path MTU cache learns the MTU, and more data
 * flow in the new size.
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpnet/ip6.h"
#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "mpnet/worker.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "l3/pmtu.h"
#include "l4/tcp_seq.h"
#include "stack/stack_priv.h"
#include "tcpscript.h"

#define LPORT   8080
#define RPORT   40000
#define WAIT_S  60 /* real time for the worker to answer (a loaded machine) */
#define MTU_NEW 1300

struct tw {
        struct ts t;
        struct mpnet_runtime *rt;
};

static int setup(void **state)
{
        struct tw *w = calloc(1, sizeof(*w));
        struct mpnet_runtime_cfg rc = {.n_workers = 1};

        assert_non_null(w);
        ts_init(&w->t);
        w->rt = mpnet_runtime_create(&rc);
        assert_non_null(w->rt);
        assert_int_equal(mpnet_runtime_assign(w->rt, 0, w->t.s, 1, 0), 0);
        assert_int_equal(mpnet_runtime_start(w->rt), 0);
        *state = w;
        return 0;
}

static int teardown(void **state)
{
        struct tw *w = *state;

        mpnet_runtime_stop(w->rt);
        mpnet_runtime_destroy(w->rt);
        ts_fini(&w->t);
        free(w);
        return 0;
}

static uint64_t ctr(struct ts *t, const char *name)
{
        int id = mpnet_stack_counter_find(t->s, name);

        assert_true(id >= 0);
        return mpnet_stack_counter(t->s, (unsigned)id);
}

/* The next TCP segment from the stack, waiting in real time (the worker
 * answers) with the virtual clock still: the control thread polls. */
static void recv_seg(struct ts *t, struct ts_seg *g)
{
        uint64_t end = mpnet_monotonic_ns() + (uint64_t)WAIT_S * MPNET_NS_PER_S;

        for (;;) {
                struct mpnet_pkt *p;

                mpnet_stack_poll(t->s, mpnet_clock_now(&t->clk));
                while (mpnet_link_rx_burst(t->lb, 0, &p, 1) == 1) {
                        uint8_t
                            f[MPNET_ETH_HLEN + MPNET_IP6_HLEN + MPNET_TCP_HLEN_MAX + TS_DATA_MAX];
                        uint32_t n = p->pkt_len < sizeof(f) ? p->pkt_len : (uint32_t)sizeof(f);

                        assert_int_equal(mpnet_pkt_read(p, 0, f, n), 0);
                        if (getenv("TCPERR_DEBUG"))
                                fprintf(stderr, "frame %u\n", p->pkt_len);
                        mpnet_pkt_free(p);
                        if (ts_parse(t, f, n, g)) {
                                if (getenv("TCPERR_DEBUG"))
                                        ts_print("seg", g);
                                return;
                        }
                        if (getenv("TCPERR_DEBUG"))
                                fprintf(stderr, "other: %#x %u next %u\n", mpnet_get_be16(f + 12),
                                        n, f[20]);
                }
                assert_true(mpnet_monotonic_ns() < end);
                usleep(100);
        }
}

/* Take the stack's segments until they cover from .. end (relative), each
 * at most mss, none overlapping another. Their order is not what this
 * test is about (a worker punts an IPv6 packet that needs fragmenting to
 * the control thread, which sends it later: l3/ip6_output.c). @return the
 * length of the one at from. */
static uint32_t take_to(struct ts *t, uint32_t from, uint32_t end, uint32_t mss)
{
        uint32_t seqs[64], ends[64], n = 0, got = 0, first = 0;
        struct ts_seg g;

        while (got < end - from) {
                recv_seg(t, &g);
                if (!(g.flags & TH_A) || (g.flags & (TH_S | TH_F | TH_R)) || g.len == 0 ||
                    g.len > mss || seq_lt(g.seq, from) || seq_gt(g.seq + g.len, end) || n == 64) {
                        ts_print("got ", &g);
                        fail_msg("want %u .. %u in segments of at most %u", from, end, mss);
                }
                for (uint32_t i = 0; i < n; i++)
                        if (seq_lt(g.seq, ends[i]) && seq_gt(g.seq + g.len, seqs[i]))
                                fail_msg("segment %u+%u overlaps", g.seq, g.len);
                seqs[n] = g.seq;
                ends[n++] = g.seq + g.len;
                got += g.len;
                if (g.seq == from)
                        first = g.len;
        }
        return first;
}

/* Wait until counter name reaches v (the home works meanwhile). */
static void wait_ctr(struct ts *t, const char *name, uint64_t v)
{
        uint64_t end = mpnet_monotonic_ns() + (uint64_t)WAIT_S * MPNET_NS_PER_S;

        while (ctr(t, name) < v) {
                mpnet_stack_poll(t->s, mpnet_clock_now(&t->clk));
                assert_true(mpnet_monotonic_ns() < end);
                usleep(100);
        }
        assert_int_equal(ctr(t, name), v);
}

/* The peer's ACK of everything up to ack (relative), no data. */
static void ack_to(struct ts *t, int fam, uint32_t ack)
{
        ts_send(
            t,
            &(struct ts_seg){
                .fam = fam, .sport = RPORT, .dport = LPORT, .seq = 1, .ack = ack, .flags = TH_A});
}

/* A fragmentation needed (IPv4) or packet too big (IPv6) from the peer's
 * side quoting our segment of sequence number seq (absolute). */
static void icmp_big(struct ts *t, int fam, uint32_t seq, uint32_t mtu)
{
        uint8_t f[256], *q;
        struct mpnet_eth_repr eth = {.ethertype =
                                         fam == 4 ? MPNET_ETHERTYPE_IPV4 : MPNET_ETHERTYPE_IPV6};
        size_t n;

        memcpy(eth.dst, t->smac, 6);
        memcpy(eth.src, t->pmac, 6);
        mpnet_eth_repr_emit(&eth, f);
        if (fam == 4) {
                struct mpnet_ip4_repr qip = {.src = TS_US4,
                                             .dst = TS_PEER4,
                                             .ttl = 64,
                                             .df = true,
                                             .proto = MPNET_IPPROTO_TCP,
                                             .payload_len = 1480};
                struct mpnet_ip4_repr ip = {.src = TS_PEER4,
                                            .dst = TS_US4,
                                            .ttl = 64,
                                            .proto = MPNET_IPPROTO_ICMP,
                                            .payload_len = MPNET_ICMP4_HLEN + 28};
                struct mpnet_icmp4_repr r = {
                    .type = MPNET_ICMP4_DEST_UNREACH, .code = 4, .rest = mtu & 0xffff};

                q = f + 34 + MPNET_ICMP4_HLEN;
                mpnet_ip4_repr_emit(&qip, q);
                mpnet_put_be16(q + 20, LPORT);
                mpnet_put_be16(q + 22, RPORT);
                mpnet_put_be32(q + 24, seq);
                mpnet_put_be32(q + 28, 0);
                mpnet_ip4_repr_emit(&ip, f + 14);
                r.data = q;
                r.data_len = 28;
                mpnet_icmp4_repr_emit(&r, f + 34);
                n = 34 + MPNET_ICMP4_HLEN + 28;
        } else {
                struct mpnet_ip6_repr qip = {
                    .next_header = MPNET_IPPROTO_TCP, .hop_limit = 64, .payload_len = 1440};
                struct mpnet_ip6_repr ip = {.next_header = MPNET_IPPROTO_ICMPV6,
                                            .hop_limit = 64,
                                            .payload_len = MPNET_ICMP6_HLEN + 48};
                struct mpnet_icmp6_repr r = {.type = MPNET_ICMP6_PACKET_TOO_BIG, .rest = mtu};

                q = f + 54 + MPNET_ICMP6_HLEN;
                memcpy(qip.src, t->us6, 16);
                memcpy(qip.dst, t->peer6, 16);
                mpnet_ip6_repr_emit(&qip, q);
                mpnet_put_be16(q + 40, LPORT);
                mpnet_put_be16(q + 42, RPORT);
                mpnet_put_be32(q + 44, seq);
                memcpy(ip.src, t->peer6, 16);
                memcpy(ip.dst, t->us6, 16);
                mpnet_ip6_repr_emit(&ip, f + 14);
                r.data = q;
                r.data_len = 48;
                mpnet_icmp6_repr_emit(&r, ip.src, ip.dst, f + 54);
                n = 54 + MPNET_ICMP6_HLEN + 48;
        }
        link_send(t->pool, t->lb, f, n);
}

static uint32_t snd_mss(struct ts *t, int fd)
{
        struct mpnet_tcp_info i;
        socklen_t l = sizeof(i);

        assert_int_equal(mpnet_getsockopt(t->s, fd, IPPROTO_TCP, MPNET_TCP_INFO, &i, &l), 0);
        return i.snd_mss;
}

static uint32_t pmtu_of(struct ts *t, int fam)
{
        uint8_t d[16] = {[10] = 0xff, [11] = 0xff};

        if (fam == 6)
                memcpy(d, t->peer6, 16);
        else
                mpnet_put_be32(d + 12, TS_PEER4);
        return pmtu_get(t->s, d, mpnet_clock_now(&t->clk));
}

static void write_all(struct ts *t, int fd, size_t n)
{
        static uint8_t b[8192];

        assert_true(n <= sizeof(b));
        memset(b, 'd', n);
        assert_int_equal(mpnet_sendto(t->s, fd, b, n, 0, NULL, 0), (ssize_t)n);
}

static void err_case(struct ts *t, int fam)
{
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(LPORT)};
        int lfd = mpnet_socket(t->s, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), fd = -EAGAIN;
        int home = 1, one = 1;
        uint32_t hdr = fam == 4 ? 40 : 60, mss = 1500 - hdr, small = MTU_NEW - hdr, isn;
        uint64_t end = mpnet_monotonic_ns() + (uint64_t)WAIT_S * MPNET_NS_PER_S;
        struct ts_seg g;

        assert_true(lfd >= 0);
        assert_int_equal(mpnet_setsockopt(t->s, lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)),
                         0);
        assert_int_equal(mpnet_setsockopt(t->s, lfd, SOL_MPNET, MPNET_SO_HOME, &home, sizeof(home)),
                         0);
        assert_int_equal(mpnet_bind(t->s, lfd, (struct sockaddr *)&a6, sizeof(a6)), 0);
        assert_int_equal(mpnet_listen(t->s, lfd, 4), 0);
        /* The handshake, on the worker. */
        t->stack_isn_known = false;
        ts_send(t, &(struct ts_seg){.fam = fam,
                                    .sport = RPORT,
                                    .dport = LPORT,
                                    .flags = TH_S,
                                    .opts = {.present = MPNET_TCPO_MSS, .mss = 1460}});
        recv_seg(t, &g);
        assert_int_equal(g.flags, TH_SA);
        isn = t->stack_isn;
        ack_to(t, fam, 1);
        while ((fd = mpnet_accept(t->s, lfd, NULL, NULL, 0)) == -EAGAIN) {
                mpnet_stack_poll(t->s, mpnet_clock_now(&t->clk));
                assert_true(mpnet_monotonic_ns() < end);
                usleep(100);
        }
        assert_true(fd >= 0);
        assert_int_equal(snd_mss(t, fd), mss);
        /* Data in flight, unacknowledged: SND.UNA = 1, SND.NXT = 3001. */
        write_all(t, fd, 3000);
        assert_int_equal(take_to(t, 1, 3001, mss), mss);
        /* At SND.NXT: outside the window, counted on the home; nothing
         * moves, not even the path MTU cache. */
        icmp_big(t, fam, isn + 3001, MTU_NEW);
        wait_ctr(t, "tcp_pmtu_bad", 1);
        assert_int_equal(ctr(t, "tcp_err_handoff"), 1);
        assert_int_equal(snd_mss(t, fd), mss);
        assert_int_equal(pmtu_of(t, fam), 0);
        /* At SND.UNA: the MSS falls on the home, which sends again from
         * SND.UNA in the new size (RFC 1191 6.5) and sends the MTU back
         * for the path MTU cache. */
        icmp_big(t, fam, isn + 1, MTU_NEW);
        wait_ctr(t, "tcp_pmtu_lower", 1);
        assert_int_equal(ctr(t, "tcp_err_handoff"), 2);
        assert_int_equal(ctr(t, "tcp_err_handoff_fail"), 0);
        assert_int_equal(ctr(t, "tcp_pmtu_bad"), 1);
        assert_int_equal(snd_mss(t, fd), small);
        assert_int_equal(take_to(t, 1, 3001, small), small);
        for (uint64_t e2 = mpnet_monotonic_ns() + (uint64_t)WAIT_S * MPNET_NS_PER_S;
             pmtu_of(t, fam) == 0;) {
                mpnet_stack_poll(t->s, mpnet_clock_now(&t->clk));
                assert_true(mpnet_monotonic_ns() < e2);
                usleep(100);
        }
        assert_int_equal(pmtu_of(t, fam), MTU_NEW);
        /* Everything acknowledged; more data flow in the new size. */
        ack_to(t, fam, 3001);
        write_all(t, fd, 2 * small);
        assert_int_equal(take_to(t, 3001, 3001 + 2 * small, small), small);
        ack_to(t, fam, 3001 + 2 * small);
        assert_int_equal(snd_mss(t, fd), small);
        assert_int_equal(mpnet_close(t->s, fd), 0);
        assert_int_equal(mpnet_close(t->s, lfd), 0);
}

static void test_err_home4(void **state)
{
        err_case(&((struct tw *)*state)->t, 4);
}

static void test_err_home6(void **state)
{
        err_case(&((struct tw *)*state)->t, 6);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_err_home4, setup, teardown),
            cmocka_unit_test_setup_teardown(test_err_home6, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
