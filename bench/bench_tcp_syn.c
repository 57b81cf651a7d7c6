/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp_syn: what a listener costs, one thread, the monotonic clock.
 *
 * cookie: SYNs (MSS and timestamps, 256 source ports) put on the wire to
 * stack B, whose listener answers each with a SYN cookie (mode always);
 * the TSC is read around B's poll alone (input, the cookie, the SYN-ACK's
 * output), so the figure is B's cycles per SYN answered; the SYN-ACKs are
 * taken off the wire and dropped. With --cookie-limit N (B's
 * mpnet_tcp_set_cookie_limit(), burst N / 10, at least 1) the SYNs past
 * the limit are dropped instead, and the figure is per SYN handled; 0,
 * the default, turns the stack's default budget off, so every SYN is
 * answered. With --v6 the cookie SYNs go over IPv6 (2001:db8::1 to
 * 2001:db8::2, a second listener on B's port 80); the handshakes stay
 * IPv4.
 *
 * handshake: stack A connects to B's listener --batch times, both poll
 * until every handshake is done, B accepts each and both close (SO_LINGER
 * 0 on the client: a reset, no TIME_WAIT, as on Linux below); the TSC is read around the whole
 * round, both stacks' work.
 *
 * linux: the same on the kernel's loopback in this process: non-blocking
 * connect() to a listening socket on 127.0.0.1, accept(), close both
 * (SO_LINGER 0 on the client: a reset, as for mpnet).
 *
 * Output: one JSON object; rates and cycles per operation, each repeat
 * and the median.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
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
#include "mpnet/wire/ethernet.h"
#include "mpnet/ip6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "mpnet/wire/tcp.h"

#define A_ADDR    0xc0000201u /* 192.0.2.1 */
#define B_ADDR    0xc0000202u /* 192.0.2.2 */
#define REPS_MAX  64
#define SYN_BURST 256

struct net {
        struct mpnet_clock clock;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        int lfd;
        uint8_t syn[SYN_BURST][128];
        size_t syn_len;
};

static struct mpnet_stack *stack_new(struct net *n, const char *name, struct mpnet_link *l,
                                     uint32_t addr, uint64_t seed)
{
        struct mpnet_stack_cfg sc = {
            .name = name, .clock = &n->clock, .pool = n->pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1 ||
            mpnet_addr4_add(s, 1, addr, 24) != 0)
                bench_die("stack %s\n", name);
        return s;
}

static uint64_t now(struct net *n)
{
        return mpnet_clock_now(&n->clock);
}

static bool v6;                                                   /* --v6 */
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}; /* 2001:db8::1 */
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}; /* 2001:db8::2 */

/* SYNs from A's address to B:80, ports 10000.. */
static void syn_frames(struct net *n)
{
        for (unsigned i = 0; i < SYN_BURST; i++) {
                uint8_t *f = n->syn[i];
                struct mpnet_tcp_repr r = {.sport = (uint16_t)(10000 + i),
                                           .dport = 80,
                                           .seq = 12345u * i,
                                           .flags = MPNET_TCP_SYN,
                                           .window = 65535};
                struct mpnet_ip4_repr ip = {.src = A_ADDR,
                                            .dst = B_ADDR,
                                            .proto = MPNET_IPPROTO_TCP,
                                            .ttl = 64,
                                            .df = true};
                int hl;

                r.opts.present =
                    MPNET_TCPO_MSS | MPNET_TCPO_TS | MPNET_TCPO_WSCALE | MPNET_TCPO_SACK_PERM;
                r.opts.mss = 1460;
                r.opts.wscale = 7;
                r.opts.ts_val = 1000 + i;
                memcpy(f, n->lb->info.mac, 6);
                memcpy(f + 6, n->la->info.mac, 6);
                if (v6) {
                        struct mpnet_ip6_repr ip6 = {.next_header = MPNET_IPPROTO_TCP,
                                                     .hop_limit = 64};

                        memcpy(ip6.src, a6, 16);
                        memcpy(ip6.dst, b6, 16);
                        hl = mpnet_tcp_repr_emit(&r, f + MPNET_ETH_HLEN + MPNET_IP6_HLEN);
                        ip6.payload_len = (uint16_t)hl;
                        mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV6);
                        mpnet_ip6_repr_emit(&ip6, f + MPNET_ETH_HLEN);
                        mpnet_tcp6_csum_set(f + MPNET_ETH_HLEN + MPNET_IP6_HLEN, (size_t)hl, a6,
                                            b6);
                        n->syn_len = MPNET_ETH_HLEN + MPNET_IP6_HLEN + (size_t)hl;
                        continue;
                }
                hl = mpnet_tcp_repr_emit(&r, f + MPNET_ETH_HLEN + MPNET_IP4_HLEN);
                ip.payload_len = (uint16_t)hl;
                mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV4);
                mpnet_ip4_repr_emit(&ip, f + MPNET_ETH_HLEN);
                mpnet_tcp4_csum_set(f + MPNET_ETH_HLEN + MPNET_IP4_HLEN, (size_t)hl, A_ADDR,
                                    B_ADDR);
                n->syn_len = MPNET_ETH_HLEN + MPNET_IP4_HLEN + (size_t)hl;
        }
}

static void drain(struct mpnet_link *l)
{
        struct mpnet_pkt *p[64];
        unsigned k;

        while ((k = mpnet_link_rx_burst(l, 0, p, 64)) > 0)
                mpnet_pkt_free_bulk(p, k);
}

/* One burst of SYNs at B. @return B's cycles. */
static uint64_t cookie_round(struct net *n)
{
        struct mpnet_pkt *p[SYN_BURST];
        uint64_t t0;

        for (unsigned i = 0; i < SYN_BURST; i++) {
                p[i] = mpnet_pkt_from_bytes(n->pool, n->syn[i], (uint32_t)n->syn_len);
                if (p[i] == NULL)
                        bench_die("pool\n");
        }
        if (mpnet_link_tx_burst(n->la, 0, p, SYN_BURST) != SYN_BURST)
                bench_die("wire full\n");
        t0 = bench_tsc();
        mpnet_stack_poll(n->b, now(n));
        t0 = bench_tsc() - t0;
        drain(n->la);
        return t0;
}

/* batch connections A -> B, accepted and closed. @return the cycles. */
static uint64_t handshake_round(struct net *n, unsigned batch)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(80)};
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        int fa[256], fb[256];
        unsigned got = 0;
        uint64_t t0 = bench_tsc();

        to.sin_addr.s_addr = htonl(B_ADDR);
        for (unsigned i = 0; i < batch; i++) {
                fa[i] = mpnet_socket(n->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (fa[i] < 0 ||
                    mpnet_setsockopt(n->a, fa[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0 ||
                    mpnet_connect(n->a, fa[i], (struct sockaddr *)&to, sizeof(to)) != -EINPROGRESS)
                        bench_die("connect\n");
        }
        for (int k = 0; k < 8 && got < batch; k++) {
                mpnet_stack_poll(n->a, now(n));
                mpnet_stack_poll(n->b, now(n));
                while (got < batch && (fb[got] = mpnet_accept(n->b, n->lfd, NULL, NULL, 0)) >= 0)
                        got++;
        }
        if (got != batch)
                bench_die("accepted %u of %u\n", got, batch);
        for (unsigned i = 0; i < batch; i++) {
                mpnet_close(n->a, fa[i]);
                mpnet_close(n->b, fb[i]);
        }
        /* The reset and the FIN cross; each side answers what it finds
         * closed, until the wires are empty (nothing left for the next
         * round to find). */
        for (int k = 0; k < 3; k++) {
                mpnet_stack_poll(n->a, now(n));
                mpnet_stack_poll(n->b, now(n));
        }
        return bench_tsc() - t0;
}

/* The same on Linux loopback. @return the cycles. */
static uint64_t linux_round(int lfd, const struct sockaddr_in *to, unsigned batch)
{
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        int fa[256], fb[256];
        unsigned got = 0;
        uint64_t t0 = bench_tsc();

        for (unsigned i = 0; i < batch; i++) {
                fa[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (fa[i] < 0)
                        bench_die("socket: %s\n", strerror(errno));
                setsockopt(fa[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
                if (connect(fa[i], (const struct sockaddr *)to, sizeof(*to)) != 0 &&
                    errno != EINPROGRESS)
                        bench_die("connect: %s\n", strerror(errno));
        }
        while (got < batch) {
                fb[got] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (fb[got] >= 0)
                        got++;
                else if (errno != EAGAIN)
                        bench_die("accept: %s\n", strerror(errno));
        }
        for (unsigned i = 0; i < batch; i++) {
                close(fa[i]);
                close(fb[i]);
        }
        return bench_tsc() - t0;
}

static int linux_listener(struct sockaddr_in *a)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
        socklen_t l = sizeof(*a);

        *a = (struct sockaddr_in){.sin_family = AF_INET};
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) != 0 || listen(fd, 4096) != 0 ||
            getsockname(fd, (struct sockaddr *)a, &l) != 0)
                bench_die("linux listener: %s\n", strerror(errno));
        return fd;
}

/* The SYNs B answered with a cookie or dropped past its cookie limit. */
static uint64_t cookie_handled(struct mpnet_stack *b)
{
        return bench_ctr(b, "tcp_cookie_sent") + bench_ctr(b, "tcp_cookie_limited");
}

int main(int argc, char **argv)
{
        uint64_t syns = 1000000, conns = 100000, batch = 64, reps = 5, climit = 0;
        const struct bench_opt opts[] = {
            {"syns", BENCH_OPT_U64, &syns, SYN_BURST, 1ull << 32, "SYNs per repeat (cookie)"},
            {"conns", BENCH_OPT_U64, &conns, 1, 1ull << 32, "connections per repeat"},
            {"batch", BENCH_OPT_U64, &batch, 1, 256, "connections in flight at once"},
            {"repeat", BENCH_OPT_U64, &reps, 1, REPS_MAX, "repeats"},
            {"cookie-limit", BENCH_OPT_U64, &climit, 0, UINT32_MAX,
             "B's cookie SYN-ACKs a second (0: no limit, the stack's default off)"},
            {"v6", BENCH_OPT_FLAG, &v6, 0, 0, "the cookie SYNs over IPv6"},
        };
        struct sockaddr_in6 me6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
        int lfd6 = -1;
        struct mpnet_memwire_cfg wc = {.name = "syn", .ring_size = 4096};
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(80)}, lo;
        double hz, ck_cyc[REPS_MAX], ck_rate[REPS_MAX], hs_cyc[REPS_MAX], hs_rate[REPS_MAX],
            lx_cyc[REPS_MAX], lx_rate[REPS_MAX], ratio[REPS_MAX];
        struct net *n = calloc(1, sizeof(*n));
        struct bench_json j;
        int llfd;

        bench_parse_args(argc, argv,
                         "SYN cookie answers and handshakes+accepts per second, beside Linux", opts,
                         sizeof(opts) / sizeof(opts[0]));
        mpnet_thread_set_slot(0);
        mpnet_clock_init_monotonic(&n->clock);
        n->pool = mpnet_pool_create("bench", 16384);
        if (n->pool == NULL || mpnet_memwire_create(&wc, &n->la, &n->lb) != 0)
                return 1;
        n->a = stack_new(n, "A", n->la, A_ADDR, 1);
        n->b = stack_new(n, "B", n->lb, B_ADDR, 2);
        if (mpnet_neigh4_add(n->a, 1, B_ADDR, n->lb->info.mac) != 0 ||
            mpnet_neigh4_add(n->b, 1, A_ADDR, n->la->info.mac) != 0)
                bench_die("neighbours\n");
        n->lfd = mpnet_socket(n->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (mpnet_bind(n->b, n->lfd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
            mpnet_listen(n->b, n->lfd, 4096) != 0)
                bench_die("listener\n");
        if (v6) {
                int on = 1;

                lfd6 = mpnet_socket(n->b, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (mpnet_setsockopt(n->b, lfd6, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0 ||
                    mpnet_addr6_add(n->a, 1, a6, 64, MPNET_ADDR6_F_NODAD) != 0 ||
                    mpnet_addr6_add(n->b, 1, b6, 64, MPNET_ADDR6_F_NODAD) != 0 ||
                    mpnet_neigh6_add(n->b, 1, a6, n->la->info.mac) != 0 ||
                    mpnet_bind(n->b, lfd6, (struct sockaddr *)&me6, sizeof(me6)) != 0 ||
                    mpnet_listen(n->b, lfd6, 4096) != 0)
                        bench_die("IPv6 listener\n");
        }
        mpnet_tcp_set_rst_limit(n->a, 0, 0);
        mpnet_tcp_set_rst_limit(n->b, 0, 0);
        /* 0 turns the stack's default budget off: every SYN answered. */
        if (mpnet_tcp_set_cookie_limit(n->b, (unsigned)climit,
                                       climit == 0    ? 0
                                       : climit >= 10 ? (unsigned)(climit / 10)
                                                      : 1) != 0)
                bench_die("cookie limit\n");
        syn_frames(n);
        llfd = linux_listener(&lo);
        hz = bench_tsc_hz();
        for (uint64_t r = 0; r < reps; r++) {
                uint64_t cyc = 0, rounds = syns / SYN_BURST, before;

                mpnet_tcp_set_syncookies(n->b, MPNET_TCP_SYNCOOKIES_ALWAYS);
                before = cookie_handled(n->b);
                for (uint64_t i = 0; i < rounds; i++)
                        cyc += cookie_round(n);
                if (cookie_handled(n->b) - before != rounds * SYN_BURST)
                        bench_die("cookies sent or limited %llu of %llu\n",
                                  (unsigned long long)(cookie_handled(n->b) - before),
                                  (unsigned long long)(rounds * SYN_BURST));
                ck_cyc[r] = (double)cyc / (double)(rounds * SYN_BURST);
                ck_rate[r] = hz / ck_cyc[r];

                mpnet_tcp_set_syncookies(n->b, MPNET_TCP_SYNCOOKIES_OVERFLOW);
                rounds = conns / batch;
                cyc = 0;
                for (uint64_t i = 0; i < rounds; i++)
                        cyc += handshake_round(n, (unsigned)batch);
                hs_cyc[r] = (double)cyc / (double)(rounds * batch);
                hs_rate[r] = hz / hs_cyc[r];

                cyc = 0;
                for (uint64_t i = 0; i < rounds; i++)
                        cyc += linux_round(llfd, &lo, (unsigned)batch);
                lx_cyc[r] = (double)cyc / (double)(rounds * batch);
                lx_rate[r] = hz / lx_cyc[r];
                ratio[r] = hs_rate[r] / lx_rate[r];
                fprintf(stderr,
                        "repeat %llu: cookie %.0f/s (%.0f cyc), handshake %.0f/s (%.0f cyc), "
                        "linux %.0f/s (%.0f cyc)\n",
                        (unsigned long long)r, ck_rate[r], ck_cyc[r], hs_rate[r], hs_cyc[r],
                        lx_rate[r], lx_cyc[r]);
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_syn");
        bench_json_machine(&j);
        bench_json_u64(&j, "syns", syns);
        bench_json_u64(&j, "conns", conns);
        bench_json_u64(&j, "batch", batch);
        bench_json_u64(&j, "repeat", reps);
        bench_json_u64(&j, "v6", v6);
        bench_json_stat(&j, "cookie_per_s", ck_rate, reps);
        bench_json_stat(&j, "cookie_cycles", ck_cyc, reps);
        bench_json_stat(&j, "handshake_per_s", hs_rate, reps);
        bench_json_stat(&j, "handshake_cycles", hs_cyc, reps);
        bench_json_stat(&j, "linux_per_s", lx_rate, reps);
        bench_json_stat(&j, "linux_cycles", lx_cyc, reps);
        bench_json_stat(&j, "handshake_vs_linux", ratio, reps);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t r = 0; r < reps; r++) {
                bench_json_obj_begin(&j, NULL);
                bench_json_num(&j, "cookie_per_s", ck_rate[r]);
                bench_json_num(&j, "handshake_per_s", hs_rate[r]);
                bench_json_num(&j, "linux_per_s", lx_rate[r]);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        bench_json_obj_end(&j);
        putchar('\n');
        close(llfd);
        mpnet_close(n->b, n->lfd);
        if (lfd6 >= 0)
                mpnet_close(n->b, lfd6);
        mpnet_stack_destroy(n->a);
        mpnet_stack_destroy(n->b);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        mpnet_pool_destroy(n->pool);
        free(n);
        return 0;
}
