/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The golden table of TCP goodput (docs/TESTING.md, "TCP golden table"):
 * mpnet to mpnet on the virtual clock over a path of 10 ms round trip,
 * a 100 Mbit/s bottleneck (a policer, 64 KiB deep) and seeded random loss,
 * for loss {0, 0.1 %, 1 %, 3 %} x socket buffers {64 KiB, 256 KiB}, with
 * each loss recovery the sender has: NewReno only (SACK blocks ignored),
 * SACK (RFC 6675), SACK with RACK-TLP (RFC 8985, the default).
 *
 * Each cell moves 4 MiB from B to A (or what 4 s of virtual time moves)
 * and reports goodput from the connect to the last byte read. Everything
 * is on the virtual clock and the fault and rate links are seeded, so a
 * run is exact (the plain and the sanitizer builds agree): the table is
 * compared as it stands, and a change that moves any cell fails until the
 * table is updated on purpose. MPNET_GOLDEN_PRINT=1 prints the table as
 * this file holds it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/ratelimit.h"
#include "mpnet/socket.h"
#include "l4/tcp.h"
#include "l4/tcp_sack.h"
#include "stack/stack_priv.h"
#include "testutil.h"

#define G_BYTES    (4u << 20)
#define G_DELAY_NS (5 * MPNET_NS_PER_MS) /* each way */
#define G_BPS      100000000ull
#define G_BURST    (64u << 10)
#define G_STEP_NS  MPNET_NS_PER_MS
#define G_HORIZON  (4 * MPNET_NS_PER_S) /* a cell ends here if not done */

static const uint32_t g_loss_ppm[] = {0, 1000, 10000, 30000};
static const uint32_t g_buf[] = {64u << 10, 256u << 10};
static const uint8_t g_mode[] = {TCP_RECOV_NEWRENO, TCP_RECOV_SACK, TCP_RECOV_RACK};
#define N_LOSS (sizeof(g_loss_ppm) / sizeof(g_loss_ppm[0]))
#define N_BUF  (sizeof(g_buf) / sizeof(g_buf[0]))
#define N_MODE (sizeof(g_mode) / sizeof(g_mode[0]))

/* Goodput in kbit/s: [loss][buffer][mode]. */
static const uint32_t golden[N_LOSS][N_BUF][N_MODE] = {
    {{43577, 43577, 43577}, {11471, 78398, 79137}},
    {{37490, 37200, 37200}, {18850, 68200, 68618}},
    {{12811, 18325, 18196}, {12609, 12464, 24800}},
    {{4537, 4921, 7053}, {5250, 5433, 6892}},
};

struct gres {
        uint32_t kbps;
        uint64_t rtx, rto, tlp, lost, ooo;
};

/* Both directions through a fault link (delay, loss) on receive and a
 * policer on transmit. */
static struct mpnet_link *fault_a; /* what A receives through */

static void path_init(struct net2 *n, uint32_t loss_ppm, uint64_t seed)
{
        struct mpnet_memwire_cfg wc = {.name = "wire"};
        struct mpnet_stack_cfg sc = {0};
        struct mpnet_fault_cfg fa = {.seed = seed, .loss_ppm = loss_ppm, .delay_ns = G_DELAY_NS};
        struct mpnet_fault_cfg fb = fa;
        struct mpnet_ratelimit_cfg rc = {.bps = G_BPS, .burst_bytes = G_BURST};

        fb.seed = seed * 7 + 1;
        memset(n, 0, sizeof(*n));
        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("golden", 8192);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->la, &n->lb), 0);
        n->la = mpnet_fault_create(n->la, &fa, &n->clk, n->pool);
        n->lb = mpnet_fault_create(n->lb, &fb, &n->clk, n->pool);
        assert_non_null(n->la);
        assert_non_null(n->lb);
        fault_a = n->la;
        n->la = mpnet_ratelimit_create(n->la, &rc, &n->clk);
        n->lb = mpnet_ratelimit_create(n->lb, &rc, &n->clk);
        assert_non_null(n->la);
        assert_non_null(n->lb);
        sc.clock = &n->clk;
        sc.pool = n->pool;
        sc.name = "A";
        sc.seed = 1;
        n->st[0] = mpnet_stack_create(&sc);
        sc.name = "B";
        sc.seed = 2;
        n->st[1] = mpnet_stack_create(&sc);
        assert_non_null(n->st[0]);
        assert_non_null(n->st[1]);
        n->ifa = mpnet_iface_attach(n->st[0], n->la, "a0");
        n->ifb = mpnet_iface_attach(n->st[1], n->lb, "b0");
        assert_int_equal(mpnet_addr4_add(n->st[0], n->ifa, A_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->st[1], n->ifb, B_ADDR, 24), 0);
        /* Neighbours resolved before the clock starts to count. */
        assert_int_equal(mpnet_neigh4_add(n->st[0], n->ifa, B_ADDR, n->lb->info.mac), 0);
        assert_int_equal(mpnet_neigh4_add(n->st[1], n->ifb, A_ADDR, n->la->info.mac), 0);
}

static void set_bufs(struct mpnet_stack *s, int fd, uint32_t buf)
{
        int v = (int)(buf / 2); /* SO_*BUF doubles, as Linux */

        assert_int_equal(mpnet_setsockopt(s, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
        assert_int_equal(mpnet_setsockopt(s, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
}

/* B sends G_BYTES to A; goodput from the connect to the last byte read,
 * or what was read in G_HORIZON. */
static struct gres run(uint32_t loss_ppm, uint32_t buf, uint8_t mode, uint64_t seed)
{
        static uint8_t data[65536];
        struct net2 n;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
        struct gres res = {0};
        uint64_t sent = 0, got = 0, t0, t1;
        int lfd, afd = -1, bfd;
        uint8_t rb[65536];

        path_init(&n, loss_ppm, seed);
        tcp_state_of(n.st[0])->recov = mode;
        tcp_state_of(n.st[1])->recov = mode;
        lfd = mpnet_socket(n.st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        set_bufs(n.st[0], lfd, buf);
        assert_int_equal(mpnet_bind(n.st[0], lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(mpnet_listen(n.st[0], lfd, 4), 0);
        bfd = mpnet_socket(n.st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        set_bufs(n.st[1], bfd, buf);
        sa.sin_addr.s_addr = htonl(A_ADDR);
        t0 = mpnet_clock_now(&n.clk);
        assert_int_equal(mpnet_connect(n.st[1], bfd, (struct sockaddr *)&sa, sizeof(sa)),
                         -EINPROGRESS);
        while (got < G_BYTES && mpnet_clock_now(&n.clk) - t0 < G_HORIZON) {
                ssize_t k;

                while (sent < G_BYTES) {
                        size_t m = G_BYTES - sent < sizeof(data) ? G_BYTES - sent : sizeof(data);

                        k = mpnet_sendto(n.st[1], bfd, data, m, 0, NULL, 0);
                        if (k <= 0)
                                break;
                        sent += (uint64_t)k;
                }
                if (afd < 0)
                        afd = mpnet_accept(n.st[0], lfd, NULL, NULL, 0);
                while (afd >= 0 &&
                       (k = mpnet_recvfrom(n.st[0], afd, rb, sizeof(rb), 0, NULL, NULL)) > 0)
                        got += (uint64_t)k;
                if (got < G_BYTES)
                        net2_run(&n, G_STEP_NS);
        }
        assert_true(got > 0);
        t1 = mpnet_clock_now(&n.clk);
        res.kbps = (uint32_t)(got * 8 * 1000 / ((t1 - t0) / 1000));
        res.rtx = stk_ctr(n.st[1], "tcp_rtx");
        res.ooo = stk_ctr(n.st[0], "tcp_ooo_drop");
        res.rto = stk_ctr(n.st[1], "tcp_rto");
        res.tlp = stk_ctr(n.st[1], "tcp_tlp");
        {
                struct mpnet_fault_stats fs;
                struct mpnet_ratelimit_stats rs;

                assert_int_equal(mpnet_fault_get_stats(fault_a, &fs), 0);
                assert_int_equal(mpnet_ratelimit_get_stats(n.lb, &rs), 0);
                res.lost = fs.lost + rs.dropped;
        }
        mpnet_close(n.st[0], afd);
        mpnet_close(n.st[1], bfd);
        mpnet_close(n.st[0], lfd);
        net2_fini(&n);
        return res;
}

static void test_golden(void **state)
{
        static const char *mname[] = {"newreno", "sack", "sack+rack"};
        bool print = getenv("MPNET_GOLDEN_PRINT") != NULL;
        uint32_t got[N_LOSS][N_BUF][N_MODE];
        unsigned bad = 0;

        (void)state;
        for (unsigned l = 0; l < N_LOSS; l++)
                for (unsigned b = 0; b < N_BUF; b++)
                        for (unsigned m = 0; m < N_MODE; m++) {
                                struct gres r = run(g_loss_ppm[l], g_buf[b], g_mode[m], 42 + l);

                                got[l][b][m] = r.kbps;
                                fprintf(stderr,
                                        "golden: loss %5.2f %% buf %3u KiB %-9s %7u kbit/s "
                                        "lost %llu ooo-drop %llu rtx %llu rto %llu tlp %llu%s\n",
                                        g_loss_ppm[l] / 10000.0, g_buf[b] >> 10, mname[m], r.kbps,
                                        (unsigned long long)r.lost, (unsigned long long)r.ooo,
                                        (unsigned long long)r.rtx, (unsigned long long)r.rto,
                                        (unsigned long long)r.tlp,
                                        !print && r.kbps != golden[l][b][m] ? "  <- moved" : "");
                                bad += r.kbps != golden[l][b][m];
                        }
        if (print || bad != 0) {
                printf("static const uint32_t golden[N_LOSS][N_BUF][N_MODE] = {\n");
                for (unsigned l = 0; l < N_LOSS; l++) {
                        printf("    {");
                        for (unsigned b = 0; b < N_BUF; b++)
                                printf("{%u, %u, %u}%s", got[l][b][0], got[l][b][1], got[l][b][2],
                                       b + 1 < N_BUF ? ", " : "");
                        printf("},\n");
                }
                printf("};\n");
        }
        if (!print && bad != 0)
                fail_msg("%u cells of the golden table moved: if on purpose, update it "
                         "(MPNET_GOLDEN_PRINT=1) and docs/TESTING.md",
                         bad);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_golden),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
