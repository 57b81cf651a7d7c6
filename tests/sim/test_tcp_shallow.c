/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Eight bulk flows over a shallow path with buffer auto-tuning on
 * (mpnet_tcp_set_autotune, 4 MiB limits), on the virtual clock: A sends, B reads. The memory wire's
 * ring holds SHALLOW_RING frames, so what a stack sends between two polls
 * beyond that is dropped, as a short router queue drops a burst; each
 * direction adds SHALLOW_DELAY_MS. Grown windows overran such a queue in
 * bursts (docs/PERFORMANCE.md); pacing spreads each window over the
 * round trip, and a reduction whose retransmissions were all spurious is
 * undone. The outcome is asserted, not the time it took: every flow
 * delivers its bytes, in order and intact, and the goodput in virtual
 * time stays above a floor (SHALLOW_FLOOR_MBPS, a fraction of what the
 * run gets); the counters are printed.
 *
 * test_autotune_bounded: the same eight flows over a 4096-frame wire with
 * a 0.5 ms round trip (bench_tcp_mt's memory wire), auto-tuning off and
 * then on. Before the growth was bounded the receive buffers grew to
 * 1.8 - 3.6 MiB each, the send buffers to the 4 MiB limit (twice a cwnd
 * that grew to 4 MiB while the peer's window limited the flow), the
 * windows overran the ring (3300 frames dropped, 7 RTOs) and the run
 * took 1022 ms virtual against 21 ms with auto-tuning off. Asserted: each
 * send buffer within twice its peer's receive buffer, what the eight grew
 * by together within one connection's limit (the stack's budget), and
 * the goodput at least 90 % of auto-tuning off's.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"
#include "testutil.h"

#define SHALLOW_FLOWS    8
#define SHALLOW_BYTES    (1u << 20) /* a flow */
#define SHALLOW_RING     256        /* frames the wire holds each way */
#define SHALLOW_DELAY_MS 2
/* Mbit/s of goodput in virtual time, all flows: with pacing the run gets
 * ~1600, without it ~60 (a retransmission lost in the burst waits for the
 * 1 s RTO). */
#define SHALLOW_FLOOR_MBPS 400

struct flow {
        int cfd, sfd;
        uint64_t sent, got, bytes;
        bool bad;
};

static uint8_t pat(uint64_t off)
{
        return (uint8_t)(off % 251);
}

static void flow_pump(struct mpnet_stack *a, struct mpnet_stack *b, struct flow *f)
{
        uint8_t buf[16384];
        ssize_t n;

        while (f->sent < f->bytes) {
                uint32_t k = f->bytes - f->sent < sizeof(buf) ? (uint32_t)(f->bytes - f->sent)
                                                              : (uint32_t)sizeof(buf);

                for (uint32_t i = 0; i < k; i++)
                        buf[i] = pat(f->sent + i);
                n = mpnet_sendto(a, f->cfd, buf, k, 0, NULL, 0);
                if (n == -EAGAIN)
                        break;
                assert_true(n > 0);
                f->sent += (uint64_t)n;
        }
        while ((n = mpnet_recvfrom(b, f->sfd, buf, sizeof(buf), 0, NULL, NULL)) > 0) {
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] != pat(f->got + (uint64_t)i))
                                f->bad = true;
                f->got += (uint64_t)n;
        }
        assert_true(n == -EAGAIN || n == 0);
}

static uint64_t ctr2(struct net2 *n, const char *name)
{
        return stk_ctr(n->st[0], name) + stk_ctr(n->st[1], name);
}

/* What one run gives: goodput in virtual time, and per flow at the end
 * the sender's send buffer and congestion window, the receiver's buffer. */
struct shallow_out {
        uint64_t mbps;
        uint32_t sndbuf[SHALLOW_FLOWS], rcvbuf[SHALLOW_FLOWS], cwnd[SHALLOW_FLOWS];
        uint32_t rcv_rtt_us[SHALLOW_FLOWS]; /* the receiver's RTT estimate */
};

/* A bottleneck: a link decorator whose transmit side queues up to
 * NECK_Q frames and hands them on at bps (virtual time), as a router's
 * deep queue in front of a slower link: what a flow sends past the path's
 * bandwidth-delay product waits there and the round trip grows. */
#define NECK_Q 8192
struct neck {
        struct mpnet_link l; /* first */
        struct mpnet_link *in;
        struct mpnet_clock *clk;
        uint64_t bps, t; /* t: when the head's transmission ended */
        struct mpnet_pkt *q[NECK_Q];
        unsigned h, n;
};

static uint64_t neck_due(const struct neck *k)
{
        return k->t + (uint64_t)k->q[k->h]->pkt_len * 8 * MPNET_NS_PER_S / k->bps;
}

static void neck_release(struct neck *k)
{
        uint64_t now = mpnet_clock_now(k->clk);

        while (k->n > 0 && neck_due(k) <= now) {
                struct mpnet_pkt *p = k->q[k->h];

                k->t = neck_due(k);
                k->h = (k->h + 1) % NECK_Q;
                k->n--;
                if (mpnet_link_tx_burst(k->in, 0, &p, 1) != 1)
                        mpnet_pkt_free(p);
        }
        if (k->n == 0 && k->t < now)
                k->t = now;
}

static uint16_t neck_tx(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct neck *k = (struct neck *)l;

        (void)q;
        neck_release(k);
        for (uint16_t i = 0; i < n; i++) {
                if (k->n == NECK_Q) {
                        mpnet_pkt_free(pkts[i]);
                        continue;
                }
                if (k->n == 0 && k->t < mpnet_clock_now(k->clk))
                        k->t = mpnet_clock_now(k->clk);
                k->q[(k->h + k->n++) % NECK_Q] = pkts[i];
        }
        return n;
}

static uint16_t neck_rx(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct neck *k = (struct neck *)l;

        neck_release(k);
        return mpnet_link_rx_burst(k->in, q, pkts, n);
}

static uint64_t neck_next(struct mpnet_link *l, uint64_t now)
{
        struct neck *k = (struct neck *)l;
        uint64_t t =
            k->in->ops->next_event != NULL ? k->in->ops->next_event(k->in, now) : MPNET_TIME_NEVER;

        if (k->n > 0 && neck_due(k) < t)
                t = neck_due(k);
        return t;
}

static void neck_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct neck *k = (struct neck *)l;

        k->in->ops->get_stats(k->in, st);
}

static void neck_destroy(struct mpnet_link *l)
{
        struct neck *k = (struct neck *)l;

        for (unsigned i = 0; i < k->n; i++)
                mpnet_pkt_free(k->q[(k->h + i) % NECK_Q]);
        k->in->ops->destroy(k->in);
        free(k);
}

static const struct mpnet_link_ops neck_ops = {
    .rx_burst = neck_rx,
    .tx_burst = neck_tx,
    .next_event = neck_next,
    .get_stats = neck_stats,
    .destroy = neck_destroy,
};

static struct mpnet_link *neck_create(struct mpnet_link *in, uint64_t bps, struct mpnet_clock *clk)
{
        struct neck *k = calloc(1, sizeof(*k));

        assert_non_null(k);
        k->l.ops = &neck_ops;
        k->l.info = in->info;
        snprintf(k->l.name, sizeof(k->l.name), "%s", in->name);
        k->in = in;
        k->clk = clk;
        k->bps = bps;
        return &k->l;
}

/* A's transmit through a bottleneck of this many bits a second (0: none). */
static uint64_t shallow_neck_bps;

/* Eight flows of bytes each over a wire of ring frames, delay_ms each
 * way, auto-tuning at limit (0: off) on both stacks. */
static void shallow_run(uint32_t ring, uint64_t delay_ns, uint64_t bytes, uint32_t limit,
                        struct shallow_out *out)
{
        struct mpnet_fault_cfg f = {.seed = 11, .delay_ns = delay_ns};
        struct mpnet_memwire_cfg wc = {.name = "shallow", .ring_size = ring};
        struct mpnet_stack_cfg sc = {0};
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
        static struct flow fl[SHALLOW_FLOWS];
        struct net2 n;
        uint64_t t0, ns, done = 0, steps = 0, mbps;
        int lfd;

        /* net2's shape (testutil.h) with a shallow wire and a pool that
         * holds every window. */
        memset(&n, 0, sizeof(n));
        memset(fl, 0, sizeof(fl));
        memset(out, 0, sizeof(*out));
        mpnet_clock_init_virtual(&n.clk, MPNET_NS_PER_S);
        n.pool = mpnet_pool_create("shallow", 32768);
        assert_non_null(n.pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n.la, &n.lb), 0);
        n.la = mpnet_fault_create(n.la, &f, &n.clk, n.pool);
        f.seed = 12;
        n.lb = mpnet_fault_create(n.lb, &f, &n.clk, n.pool);
        assert_non_null(n.la);
        assert_non_null(n.lb);
        if (shallow_neck_bps != 0)
                n.la = neck_create(n.la, shallow_neck_bps, &n.clk);
        sc.clock = &n.clk;
        sc.pool = n.pool;
        sc.name = "A";
        sc.seed = 1;
        n.st[0] = mpnet_stack_create(&sc);
        sc.name = "B";
        sc.seed = 2;
        n.st[1] = mpnet_stack_create(&sc);
        assert_non_null(n.st[0]);
        assert_non_null(n.st[1]);
        for (unsigned k = 0; k < 2; k++)
                assert_int_equal(mpnet_tcp_set_autotune(n.st[k], limit, limit), 0);
        assert_int_equal(mpnet_iface_attach(n.st[0], n.la, "a0"), 1);
        assert_int_equal(mpnet_iface_attach(n.st[1], n.lb, "b0"), 1);
        assert_int_equal(mpnet_addr4_add(n.st[0], 1, A_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n.st[1], 1, B_ADDR, 24), 0);

        lfd = mpnet_socket(n.st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_bind(n.st[1], lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(mpnet_listen(n.st[1], lfd, SHALLOW_FLOWS), 0);
        sa.sin_addr.s_addr = htonl(B_ADDR);
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                fl[i].cfd = mpnet_socket(n.st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                fl[i].bytes = bytes;
                assert_int_equal(
                    mpnet_connect(n.st[0], fl[i].cfd, (struct sockaddr *)&sa, sizeof(sa)),
                    -EINPROGRESS);
        }
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                fl[i].sfd = -1;
                for (int j = 0; j < 100 && fl[i].sfd < 0; j++) {
                        net2_run(&n, 10 * MPNET_NS_PER_MS);
                        fl[i].sfd = mpnet_accept(n.st[1], lfd, NULL, NULL, 0);
                }
                assert_true(fl[i].sfd >= 0);
        }
        /* accept() order need not be connect() order: each receiver
         * checks the pattern, which is the same for every flow. */
        t0 = mpnet_clock_now(&n.clk);
        while (done < SHALLOW_FLOWS && steps < 600000) {
                done = 0;
                for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                        flow_pump(n.st[0], n.st[1], &fl[i]);
                        done += fl[i].got == bytes;
                }
                net2_run(&n, MPNET_NS_PER_MS / 4);
                steps++;
        }
        ns = mpnet_clock_now(&n.clk) - t0;
        mbps = (uint64_t)SHALLOW_FLOWS * bytes * 8 * 1000 / (ns ? ns : 1);
        fprintf(stderr,
                "shallow: %u flows, ring %u, limit %u: %llu ms virtual, %llu Mbit/s; rtx %llu, "
                "fast %llu, rto %llu, undo %llu, paced %llu, dsack %llu, wire drops %llu\n",
                SHALLOW_FLOWS, ring, limit, (unsigned long long)(ns / MPNET_NS_PER_MS),
                (unsigned long long)mbps, (unsigned long long)ctr2(&n, "tcp_rtx"),
                (unsigned long long)ctr2(&n, "tcp_fast_rtx"),
                (unsigned long long)ctr2(&n, "tcp_rto"), (unsigned long long)ctr2(&n, "tcp_undo"),
                (unsigned long long)ctr2(&n, "tcp_paced"),
                (unsigned long long)ctr2(&n, "tcp_dsack_in"),
                (unsigned long long)(ctr2(&n, "tx_link_full")));
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                struct mpnet_tcp_info ti = {0}, ri = {0};
                socklen_t tl = sizeof(ti), rl = sizeof(ri), il = sizeof(int);
                int sb = 0, rb = 0;

                assert_false(fl[i].bad);
                assert_int_equal(fl[i].got, bytes);
                assert_int_equal(
                    mpnet_getsockopt(n.st[0], fl[i].cfd, IPPROTO_TCP, MPNET_TCP_INFO, &ti, &tl), 0);
                assert_int_equal(
                    mpnet_getsockopt(n.st[0], fl[i].cfd, SOL_SOCKET, SO_SNDBUF, &sb, &il), 0);
                il = sizeof(int);
                assert_int_equal(
                    mpnet_getsockopt(n.st[1], fl[i].sfd, SOL_SOCKET, SO_RCVBUF, &rb, &il), 0);
                out->sndbuf[i] = (uint32_t)sb;
                out->rcvbuf[i] = (uint32_t)rb;
                assert_int_equal(
                    mpnet_getsockopt(n.st[1], fl[i].sfd, IPPROTO_TCP, MPNET_TCP_INFO, &ri, &rl), 0);
                out->cwnd[i] = ti.snd_cwnd;
                out->rcv_rtt_us[i] = ri.rcv_rtt_us;
                fprintf(stderr,
                        "  flow %u: cwnd %u sndbuf %d rcvbuf %d srtt %u us, receiver's %u us\n", i,
                        ti.snd_cwnd, sb, rb, ti.rtt_us, ri.rcv_rtt_us);
        }
        out->mbps = mbps;
        if (limit != 0)
                assert_true(ctr2(&n, "tcp_rcvbuf_grow") > 0);
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                mpnet_close(n.st[0], fl[i].cfd);
                mpnet_close(n.st[1], fl[i].sfd);
        }
        mpnet_close(n.st[1], lfd);
        net2_run(&n, 200 * MPNET_NS_PER_S);
        net2_fini(&n);
}

static void test_shallow_8_flows(void **state)
{
        struct shallow_out o;

        (void)state;
        shallow_run(SHALLOW_RING, SHALLOW_DELAY_MS * MPNET_NS_PER_MS, SHALLOW_BYTES, 4u << 20, &o);
        assert_true(o.mbps >= SHALLOW_FLOOR_MBPS);
}

/* Eight flows over a wire of 4096 frames with a short round trip (0.5 ms),
 * as bench_tcp_mt's memory wire: with auto-tuning on, a flow's buffers
 * follow what its path carries. The send buffer stays within twice what
 * the peer lets be in flight (its receive buffer), not twice a congestion
 * window that grew while the peer's window, not cwnd, limited the flow
 * (it grew to 16 MiB and the send buffers to the 4 MiB limit each);
 * and the goodput is that of auto-tuning off, within a margin. */
static void test_autotune_bounded(void **state)
{
        struct shallow_out on, off;
        uint64_t rgrown = 0, sgrown = 0;

        (void)state;
        shallow_run(4096, MPNET_NS_PER_MS / 4, 4u << 20, 0, &off);
        shallow_run(4096, MPNET_NS_PER_MS / 4, 4u << 20, 4u << 20, &on);
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                assert_true(on.sndbuf[i] <= 2 * (uint64_t)on.rcvbuf[i]);
                /* No queue on this path: the in-flight bound (flight_cap)
                 * grew past the untuned window, and the send buffer with it. */
                assert_true(on.sndbuf[i] > 2 * (uint64_t)off.sndbuf[i]);
                rgrown += on.rcvbuf[i] - off.rcvbuf[i];
                sgrown += on.sndbuf[i] - off.sndbuf[i];
        }
        /* The stack's budget: what the eight grew by, together, within
         * one connection's limit. */
        assert_true(rgrown <= 4u << 20);
        assert_true(sgrown <= 4u << 20);
        assert_true(on.mbps * 10 >= off.mbps * 9);
}

/* The receiver's round trip, which sizes its window, in us: a window's
 * worth timed (rcv_rtt_window) on a 0.5 ms path is about 0.5 ms and
 * under the 1 ms that the timestamps' ms clock gives at the least (it grew
 * the windows of a memory wire's tens-of-us path 10 - 50 times past what
 * the path needs). The flows of test_autotune_bounded's run. */
static void test_rcv_rtt_us(void **state)
{
        struct shallow_out on;

        (void)state;
        shallow_run(4096, MPNET_NS_PER_MS / 4, 1u << 20, 4u << 20, &on);
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                assert_true(on.rcv_rtt_us[i] >= 450); /* the steps of net2_run */
                assert_true(on.rcv_rtt_us[i] < 1000);
        }
}

/* Nor does the timestamps' ms clock pose as the round trip while the
 * first windows are timed: eight flows of 512 KiB (a window or two timed
 * each) on the same 0.5 ms path, alike, get alike receive buffers. Echoes
 * 0 or 1 tick old, taken as 1 ms (the ms clock cannot tell them from
 * 1 us), stood for the round trip until a window was timed, and the buffer
 * of one flow grew to 1.4 MiB, 2.4 times the
 * others' 576 KiB (on a memory wire, several times what its round trip
 * needs: docs/PERFORMANCE.md). The estimates end at the path's. */
static void test_rcv_rtt_short(void **state)
{
        struct shallow_out on;
        uint32_t lo = UINT32_MAX, hi = 0;

        (void)state;
        shallow_run(4096, MPNET_NS_PER_MS / 4, 512u << 10, 4u << 20, &on);
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++) {
                assert_true(on.rcv_rtt_us[i] >= 450);
                assert_true(on.rcv_rtt_us[i] < 1000);
                lo = on.rcvbuf[i] < lo ? on.rcvbuf[i] : lo;
                hi = on.rcvbuf[i] > hi ? on.rcvbuf[i] : hi;
        }
        assert_true((uint64_t)hi * 2 <= (uint64_t)lo * 3);
}

/* Auto-tuning's bound on what is in flight (flight_cap): the same eight
 * flows through a bottleneck of 400 Mbit/s with a deep queue (8192
 * frames) and a 5 ms round trip. The untuned windows alone (8 x 208 KiB)
 * hold the queue at ~30 ms; a flow's in-flight bound doubles only while
 * the round trip is within twice its least, so auto-tuning on adds no
 * more than one doubling to it: each send buffer (twice what may be in
 * flight) within 4 untuned windows, where without the bound the grown
 * receive windows let the send buffers reach 4.4 and the round trip 36 ms;
 * and the goodput is auto-tuning off's, within a margin. */
static void test_flight_cap(void **state)
{
        struct shallow_out on, off;

        (void)state;
        shallow_neck_bps = 400000000;
        shallow_run(4096, 5 * MPNET_NS_PER_MS / 2, 4u << 20, 0, &off);
        shallow_run(4096, 5 * MPNET_NS_PER_MS / 2, 4u << 20, 4u << 20, &on);
        shallow_neck_bps = 0;
        for (unsigned i = 0; i < SHALLOW_FLOWS; i++)
                assert_true(on.sndbuf[i] <= 4 * (uint64_t)off.sndbuf[i]);
        assert_true(on.mbps * 10 >= off.mbps * 9);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_shallow_8_flows), cmocka_unit_test(test_autotune_bounded),
            cmocka_unit_test(test_rcv_rtt_us),      cmocka_unit_test(test_rcv_rtt_short),
            cmocka_unit_test(test_flight_cap),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
