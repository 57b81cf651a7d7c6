/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_udp: UDP datagrams of 18 bytes from a socket of stack A to a socket
 * of stack B over one memory wire, one thread, the monotonic clock.
 *
 * One round: send_batch() sends --batch datagrams with mpnet_sendto() and
 * polls A (they leave on the wire); recv_batch() polls B (they are
 * received and queued) and takes them with mpnet_recvfrom(). The TSC is
 * read around each half, so the figures are cycles per datagram sent (the
 * call, UDP and IPv4 output, Ethernet, the wire) and received (the poll's
 * input path to the socket queue, the call's copy out). Under callgrind,
 * --toggle-collect=send_batch or recv_batch counts each half's
 * instructions.
 *
 * Usage: bench_udp [count [batch]]   (default 2000000 32)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/socket.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"

#define A_ADDR 0xc0000201u /* 192.0.2.1 */
#define B_ADDR 0xc0000202u /* 192.0.2.2 */

struct net {
        struct mpnet_clock clock;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        int fa, fb;
        struct sockaddr_in to;
};

static struct mpnet_stack *stack_new(struct net *n, const char *name, struct mpnet_link *l,
                                     uint32_t addr, uint64_t seed)
{
        struct mpnet_stack_cfg sc = {
            .name = name, .clock = &n->clock, .pool = n->pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1 ||
            mpnet_addr4_add(s, 1, addr, 24) != 0)
                exit(1);
        return s;
}

__attribute__((noinline)) uint64_t send_batch(struct net *n, unsigned batch);
__attribute__((noinline)) uint64_t recv_batch(struct net *n, unsigned batch);

__attribute__((noinline)) uint64_t send_batch(struct net *n, unsigned batch)
{
        static const char payload[18] = "mpnet udp bench 18";
        uint64_t t0 = bench_tsc();

        for (unsigned i = 0; i < batch; i++)
                if (mpnet_sendto(n->a, n->fa, payload, sizeof(payload), 0,
                                 (struct sockaddr *)&n->to, sizeof(n->to)) != 18)
                        exit(2);
        mpnet_stack_poll(n->a, mpnet_clock_now(&n->clock));
        return bench_tsc() - t0;
}

__attribute__((noinline)) uint64_t recv_batch(struct net *n, unsigned batch)
{
        char buf[64];
        uint64_t t0 = bench_tsc();
        unsigned got = 0;

        mpnet_stack_poll(n->b, mpnet_clock_now(&n->clock));
        while (mpnet_recvfrom(n->b, n->fb, buf, sizeof(buf), 0, NULL, NULL) == 18)
                got++;
        if (got != batch)
                exit(3);
        return bench_tsc() - t0;
}

int main(int argc, char **argv)
{
        uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000000;
        unsigned batch = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 32;
        struct mpnet_memwire_cfg wc = {.name = "udp", .ring_size = 4096};
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(9000)};
        struct net n = {0};
        uint64_t tx = 0, rx = 0, rounds;
        struct bench_json j;
        char buf[64];
        int big = 8 << 20;

        if (batch == 0 || batch > 256)
                return 1;
        mpnet_thread_set_slot(0);
        mpnet_clock_init_monotonic(&n.clock);
        n.pool = mpnet_pool_create("bench", 16384);
        if (n.pool == NULL || mpnet_memwire_create(&wc, &n.la, &n.lb) != 0)
                return 1;
        n.a = stack_new(&n, "A", n.la, A_ADDR, 1);
        n.b = stack_new(&n, "B", n.lb, B_ADDR, 2);
        n.fa = mpnet_socket(n.a, AF_INET, SOCK_DGRAM, 0);
        n.fb = mpnet_socket(n.b, AF_INET, SOCK_DGRAM, 0);
        mpnet_setsockopt(n.b, n.fb, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        if (mpnet_bind(n.b, n.fb, (struct sockaddr *)&me, sizeof(me)) != 0)
                return 1;
        n.to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(9000)};
        n.to.sin_addr.s_addr = htonl(B_ADDR);
        /* ARP first: one datagram there and the answer back. */
        mpnet_sendto(n.a, n.fa, "x", 1, 0, (struct sockaddr *)&n.to, sizeof(n.to));
        for (int i = 0; i < 10; i++) {
                mpnet_stack_poll(n.a, mpnet_clock_now(&n.clock));
                mpnet_stack_poll(n.b, mpnet_clock_now(&n.clock));
        }
        while (mpnet_recvfrom(n.b, n.fb, buf, sizeof(buf), 0, NULL, NULL) >= 0)
                ;
        rounds = count / batch;
        for (uint64_t r = 0; r < rounds / 10; r++) { /* warm-up */
                send_batch(&n, batch);
                recv_batch(&n, batch);
        }
        for (uint64_t r = 0; r < rounds; r++) {
                tx += send_batch(&n, batch);
                rx += recv_batch(&n, batch);
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "udp");
        bench_json_machine(&j);
        bench_json_u64(&j, "datagrams", rounds * batch);
        bench_json_u64(&j, "batch", batch);
        bench_json_u64(&j, "payload_bytes", 18);
        bench_json_num(&j, "tx_cycles_per_datagram", (double)tx / (double)(rounds * batch));
        bench_json_num(&j, "rx_cycles_per_datagram", (double)rx / (double)(rounds * batch));
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_obj_end(&j);
        putchar('\n');
        mpnet_close(n.a, n.fa);
        mpnet_close(n.b, n.fb);
        mpnet_stack_destroy(n.a);
        mpnet_stack_destroy(n.b);
        mpnet_link_destroy(n.la);
        mpnet_link_destroy(n.lb);
        mpnet_pool_destroy(n.pool);
        return 0;
}
