/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Many short lossy transfers between two stacks on the virtual clock, each
 * its own fault seed: 1-3 % loss both ways, reordering, delay with jitter,
 * data both ways at once (different sizes each way), both sides half-closing
 * (shutdown SHUT_WR after their data). Each run must end with every byte and
 * both FINs delivered, and no connection left once TIME_WAIT is over.
 *
 * Two ways to end, as a kernel test's socat and mpnet-nc do (test_kernel_tcp
 * _wire.c's loss case): "A" keeps its socket until it has read the peer's
 * FIN; "B" closes its socket as soon as it has read A's FIN, perhaps with
 * data and its own FIN not yet acknowledged (an orphan that must still
 * deliver them, RFC 9293 3.10.4 CLOSE: "queue this until all preceding
 * SENDs have been segmentized").
 *
 * The last sweep runs over a wire with segmentation offload: super-segments
 * of up to 64 KiB, each lost or reordered whole, as a Linux peer's TSO over
 * a veth hands them to mpnet's AF_PACKET link.
 *
 * MPNET_LOSS_SWEEP_SEEDS=N runs N seeds (default 12).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/link.h"
#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "base/sha256.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"
#include "tcp_pump.h"
#include "testutil.h"

/* One transfer with fault seed seed; B closes once it has read A's FIN
 * when orphan; over a wire with segmentation offload (super-segments of up
 * to 64 KiB, lost whole, as Linux's TSO over a veth sends them) when tso.
 * @return virtual ms taken. */
static uint64_t run_one(uint64_t seed, bool orphan, bool tso)
{
        struct mpnet_memwire_cfg wc = {
            .name = "sweep", .ring_size = 4096, .csum_offload = tso, .tso = tso};
        struct mpnet_fault_cfg f = {.seed = seed,
                                    .loss_ppm = 10000 + (uint32_t)(seed % 3) * 10000,
                                    .reorder_ppm = 10000,
                                    .delay_ns = MPNET_NS_PER_MS,
                                    .jitter_ns = (seed % 2) * 500 * MPNET_NS_PER_US};
        struct net2 n;
        struct side a = {.rng_tx = 1, .len = 384u << 10},
                    b = {.rng_tx = 7, .len = (384u << 10) + (48u << 10) + (uint32_t)seed};
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
        uint8_t d1[SHA256_LEN], d2[SHA256_LEN];
        int lfd;
        uint64_t steps = 0;

        net2_init_wire(&n, &wc, 16384, &f, NULL);
        a.s = n.st[0];
        b.s = n.st[1];
        tcp_state_of(a.s)->msl_ns = MPNET_NS_PER_S; /* TIME_WAIT: 2 s */
        tcp_state_of(b.s)->msl_ns = MPNET_NS_PER_S;
        sha256_init(&a.h_tx);
        sha256_init(&a.h_rx);
        sha256_init(&b.h_tx);
        sha256_init(&b.h_rx);
        lfd = mpnet_socket(a.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_bind(a.s, lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(mpnet_listen(a.s, lfd, 4), 0);
        b.fd = mpnet_socket(b.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sa.sin_addr.s_addr = htonl(A_ADDR);
        assert_int_equal(mpnet_connect(b.s, b.fd, (struct sockaddr *)&sa, sizeof(sa)),
                         -EINPROGRESS);
        a.fd = -1;
        for (int i = 0; i < 600 && a.fd < 0; i++) {
                net2_run(&n, 100 * MPNET_NS_PER_MS);
                a.fd = mpnet_accept(a.s, lfd, NULL, NULL, 0);
        }
        assert_true(a.fd >= 0);
        /* Bounded: 10 minutes of virtual time. */
        while (!(a.eof && b.eof) && steps < 600000) {
                pump(&a);
                pump(&b);
                if (orphan && b.eof && b.shut && !b.closed) {
                        assert_int_equal(mpnet_close(b.s, b.fd), 0);
                        b.closed = true;
                }
                net2_run(&n, MPNET_NS_PER_MS);
                steps++;
        }
        if (!(a.eof && b.eof))
                fprintf(stderr,
                        "seed %llu%s%s: not done after %llu ms: A sent %llu got %llu eof %d, "
                        "B sent %llu got %llu eof %d\n",
                        (unsigned long long)seed, orphan ? " (B orphaned)" : "",
                        tso ? " (TSO)" : "", (unsigned long long)steps, (unsigned long long)a.sent,
                        (unsigned long long)a.got, a.eof, (unsigned long long)b.sent,
                        (unsigned long long)b.got, b.eof);
        assert_true(a.eof && b.eof);
        assert_int_equal(a.got, b.len);
        assert_int_equal(b.got, a.len);
        sha256_final(&a.h_tx, d1);
        sha256_final(&b.h_rx, d2);
        assert_memory_equal(d1, d2, SHA256_LEN);
        sha256_final(&b.h_tx, d1);
        sha256_final(&a.h_rx, d2);
        assert_memory_equal(d1, d2, SHA256_LEN);
        assert_int_equal(mpnet_close(a.s, a.fd), 0);
        if (!b.closed)
                assert_int_equal(mpnet_close(b.s, b.fd), 0);
        assert_int_equal(mpnet_close(a.s, lfd), 0);
        /* Both FINs acknowledged (or given up on), TIME_WAIT over. */
        net2_run(&n, 600 * MPNET_NS_PER_S);
        assert_int_equal(tcp_state_of(a.s)->ct.n, 0);
        assert_int_equal(tcp_state_of(b.s)->ct.n, 0);
        net2_fini(&n);
        return steps;
}

static unsigned n_seeds(void)
{
        const char *v = getenv("MPNET_LOSS_SWEEP_SEEDS");
        long k = v != NULL ? strtol(v, NULL, 10) : 0;

        return k > 0 && k <= 100000 ? (unsigned)k : 12;
}

static void sweep(bool orphan, bool tso)
{
        uint64_t worst = 0, worst_seed = 0;
        unsigned k = n_seeds();

        for (uint64_t seed = 1; seed <= k; seed++) {
                uint64_t ms = run_one(seed, orphan, tso);

                if (ms > worst) {
                        worst = ms;
                        worst_seed = seed;
                }
        }
        fprintf(stderr, "%u seeds%s%s: slowest seed %llu, %llu ms virtual\n", k,
                orphan ? " (B orphaned)" : "", tso ? " (TSO)" : "", (unsigned long long)worst_seed,
                (unsigned long long)worst);
}

static void test_sweep_both_open(void **state)
{
        (void)state;
        sweep(false, false);
}

static void test_sweep_orphan(void **state)
{
        (void)state;
        sweep(true, false);
}

static void test_sweep_orphan_tso(void **state)
{
        (void)state;
        sweep(true, true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sweep_both_open),
            cmocka_unit_test(test_sweep_orphan),
            cmocka_unit_test(test_sweep_orphan_tso),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
