/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp_conns: what an idle established TCP connection costs. Stack A
 * opens --conns connections to stack B's listener over a memory wire (A's
 * sockets bound to successive ports of as many of A's addresses as it
 * takes, 64,000 ports each, 16 addresses at most), B accepts every one, no byte is sent; both
 * stacks keep them open, on a virtual clock that does not move (no timer
 * runs: the figure is the state alone).
 *
 * Figures: the stacks' own accounting (mpnet_tcp_mem: struct tcp_conn,
 * the data path's state, the socket and its descriptor slot, the table's
 * chain heads; rings, none here) per connection of B, and the process's
 * resident set growth (/proc/self/statm) per connection of the two stacks
 * (A holds as many as B), which adds the allocator's overhead; the time
 * it took to open them all; then the time of one poll of A that
 * retransmits the SYN of one more connection, to an address nobody holds
 * (while a connection is embryonic, TCP's timer walks the whole table).
 *
 * Usage: bench_tcp_conns [--conns N] [--batch N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/socket.h"
#include "mpnet/stack.h"
#include "mpnet/tcp.h"
#include "mpnet/thread.h"

#define B_ADDR         0xc0000202u /* 192.0.2.2 */
#define NOBODY         0xc0000263u /* 192.0.2.99: no stack holds it */
#define A_ADDR0        0xc0000210u /* 192.0.2.16 on: A's */
#define PORTS_PER      64000u
#define PORT0          1024u
#define A_ADDRS_MAX    16u /* an interface's addresses at most */
#define LISTEN_BACKLOG 4096

static uint64_t rss_bytes(void)
{
        unsigned long size = 0, res = 0;
        FILE *f = fopen("/proc/self/statm", "r");

        if (f == NULL || fscanf(f, "%lu %lu", &size, &res) != 2)
                bench_die("statm\n");
        fclose(f);
        return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static struct mpnet_stack *stack_new(struct mpnet_clock *ck, struct mpnet_pool *pool,
                                     const char *name, struct mpnet_link *l, uint64_t seed)
{
        struct mpnet_stack_cfg sc = {.name = name, .clock = ck, .pool = pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1)
                bench_die("stack %s\n", name);
        return s;
}

/* One connection of A that stays in SYN_SENT (to an address nobody
 * holds), the clock past its SYN's retransmission: @return the time of
 * A's poll that retransmits it, which walks the whole table while an
 * embryo exists (l4/tcp_in.c tcp_timers). */
static uint64_t embryo_poll(struct mpnet_stack *a, struct mpnet_clock *ck, const uint8_t *mac)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(80)};
        int fd = mpnet_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        uint64_t t0;

        to.sin_addr.s_addr = htonl(NOBODY);
        if (fd < 0 || mpnet_neigh4_add(a, 1, NOBODY, mac) != 0 ||
            mpnet_connect(a, fd, (struct sockaddr *)&to, sizeof(to)) != -EINPROGRESS)
                bench_die("embryo\n");
        mpnet_clock_advance(ck, 3 * MPNET_NS_PER_S);
        t0 = bench_now_ns();
        mpnet_stack_poll(a, mpnet_clock_now(ck));
        t0 = bench_now_ns() - t0;
        if (bench_ctr(a, "tcp_syn_rtx") == 0)
                bench_die("no SYN retransmitted\n");
        return t0;
}

int main(int argc, char **argv)
{
        uint64_t conns = 100000, batch = 1024;
        const struct bench_opt opts[] = {
            {"conns", BENCH_OPT_U64, &conns, 1, (uint64_t)A_ADDRS_MAX * PORTS_PER,
             "connections to open and hold"},
            {"batch", BENCH_OPT_U64, &batch, 1, LISTEN_BACKLOG, "connects in flight at once"},
        };
        struct mpnet_memwire_cfg wc = {.name = "conns", .ring_size = 8192};
        struct sockaddr_in lb = {.sin_family = AF_INET, .sin_port = htons(80)};
        struct mpnet_tcp_mem ma, mb;
        struct mpnet_clock ck;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *l_b;
        struct mpnet_stack *a, *b;
        uint64_t rss0, rss1, t0, t1, done = 0, scan_ns;
        unsigned naddr;
        struct bench_json j;
        int lfd;

        bench_parse_args(argc, argv, "memory per idle established TCP connection", opts,
                         sizeof(opts) / sizeof(opts[0]));
        mpnet_thread_set_slot(0);
        mpnet_clock_init_virtual(&ck, MPNET_NS_PER_S);
        pool = mpnet_pool_create("bench", 16384);
        if (pool == NULL || mpnet_memwire_create(&wc, &la, &l_b) != 0)
                bench_die("pool or wire\n");
        a = stack_new(&ck, pool, "A", la, 1);
        b = stack_new(&ck, pool, "B", l_b, 2);
        naddr = (unsigned)((conns + PORTS_PER - 1) / PORTS_PER);
        if (mpnet_addr4_add(b, 1, B_ADDR, 24) != 0 ||
            mpnet_neigh4_add(a, 1, B_ADDR, l_b->info.mac) != 0)
                bench_die("B's address\n");
        for (unsigned i = 0; i < naddr; i++)
                if (mpnet_addr4_add(a, 1, A_ADDR0 + i, 24) != 0 ||
                    mpnet_neigh4_add(b, 1, A_ADDR0 + i, la->info.mac) != 0)
                        bench_die("A's address %u\n", i);
        mpnet_tcp_set_rst_limit(a, 0, 0);
        mpnet_tcp_set_rst_limit(b, 0, 0);
        lfd = mpnet_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (mpnet_bind(b, lfd, (struct sockaddr *)&lb, sizeof(lb)) != 0 ||
            mpnet_listen(b, lfd, LISTEN_BACKLOG) != 0)
                bench_die("listen\n");
        lb.sin_addr.s_addr = htonl(B_ADDR);
        rss0 = rss_bytes();
        t0 = bench_now_ns();
        while (done < conns) {
                uint64_t k = conns - done < batch ? conns - done : batch, got = 0;

                for (uint64_t i = 0; i < k; i++) {
                        uint64_t c = done + i;
                        struct sockaddr_in me = {.sin_family = AF_INET,
                                                 .sin_port =
                                                     htons((uint16_t)(PORT0 + c % PORTS_PER))};
                        int fd = mpnet_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

                        me.sin_addr.s_addr = htonl(A_ADDR0 + (uint32_t)(c / PORTS_PER));
                        if (fd < 0 || mpnet_bind(a, fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
                            mpnet_connect(a, fd, (struct sockaddr *)&lb, sizeof(lb)) !=
                                -EINPROGRESS)
                                bench_die("connect %llu: fd %d\n", (unsigned long long)c, fd);
                }
                for (int spin = 0; spin < 64 && got < k; spin++) {
                        int fd;

                        mpnet_stack_poll(a, mpnet_clock_now(&ck));
                        mpnet_stack_poll(b, mpnet_clock_now(&ck));
                        while ((fd = mpnet_accept(b, lfd, NULL, NULL, 0)) >= 0)
                                got++;
                }
                if (got != k)
                        bench_die("accepted %llu of %llu at %llu\n", (unsigned long long)got,
                                  (unsigned long long)k, (unsigned long long)done);
                done += k;
        }
        /* The handshakes' last ACKs are in; nothing is left on the wire. */
        mpnet_stack_poll(a, mpnet_clock_now(&ck));
        mpnet_stack_poll(b, mpnet_clock_now(&ck));
        t1 = bench_now_ns();
        rss1 = rss_bytes();
        if (mpnet_tcp_mem(a, &ma) != 0 || mpnet_tcp_mem(b, &mb) != 0)
                bench_die("mpnet_tcp_mem\n");
        if (mb.conns != conns || ma.conns != conns)
                bench_die("connections: A %llu, B %llu\n", (unsigned long long)ma.conns,
                          (unsigned long long)mb.conns);
        scan_ns = embryo_poll(a, &ck, l_b->info.mac);
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_conns");
        bench_json_machine(&j);
        bench_json_u64(&j, "conns", conns);
        bench_json_u64(&j, "b_conn_bytes", mb.conn_bytes);
        bench_json_u64(&j, "b_buf_bytes", mb.buf_bytes);
        bench_json_num(&j, "b_bytes_per_conn", (double)mb.conn_bytes / (double)mb.conns);
        bench_json_num(&j, "a_bytes_per_conn", (double)ma.conn_bytes / (double)ma.conns);
        bench_json_u64(&j, "rss_delta_bytes", rss1 - rss0);
        bench_json_num(&j, "rss_bytes_per_conn", (double)(rss1 - rss0) / (double)(2 * conns));
        bench_json_num(&j, "open_s", (double)(t1 - t0) / 1e9);
        bench_json_num(&j, "open_per_s", (double)conns * 1e9 / (double)(t1 - t0));
        bench_json_num(&j, "embryo_poll_ms", (double)scan_ns / 1e6);
        bench_json_obj_end(&j);
        putchar('\n');
        mpnet_stack_destroy(a);
        mpnet_stack_destroy(b);
        mpnet_link_destroy(la);
        mpnet_link_destroy(l_b);
        mpnet_pool_destroy(pool);
        return 0;
}
