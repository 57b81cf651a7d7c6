/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp_synflood: one bulk TCP flow from stack A to stack B over a
 * memory wire (driven as bench_tcp drives it: one thread, write until the
 * send buffer is full, poll A, poll B, read), alone and while a tester
 * thread floods B's listener with SYNs as fast as B's second interface (a
 * second memory wire) takes them: random sources in 10.0.0.0/8 (65,536
 * frames, random ports and sequence numbers, MSS, SACK, window scale and
 * timestamps), to the bulk flow's own listening port. B answers them
 * through a route to the tester, which takes the SYN-ACKs off its wire
 * and drops them: the SYN queue fills, then SYN cookies (the default
 * mode) answer the rest.
 *
 * Figures per repeat (flood and clean runs alternate): payload Gbit/s by
 * the wall clock and per second of the flow thread's CPU time, the ratio
 * flood / clean of each, the SYNs the tester put on the wire and B's
 * answers (tcp_syn_in + tcp_cookie_sent) per second, the SYNs the cookie
 * limit dropped (tcp_cookie_limited, with --cookie-limit) per second, the
 * SYNs B handled (answered or limited) per CPU second of the flow's
 * thread, what they cost that thread (TSC cycles per SYN: its CPU time
 * flooded less its CPU time clean, for the same bytes, over the SYNs
 * handled), and memory while
 * flooded: the peak of B's TCP connections and their bytes (mpnet_tcp_mem,
 * sampled), of the process's resident set over its value before, of the
 * flood pool's buffers in use. Medians over --repeat.
 *
 * The machine's cores are shared: the tester thread takes a core of its
 * own when there is one; on a loaded machine the wall-clock ratio moves
 * with the load, the per-CPU one less.
 *
 * --cookie-limit N sets B's mpnet_tcp_set_cookie_limit() to N SYN-ACKs a
 * second (burst N / 10, at least 1); 0 turns the limit off (every SYN past
 * the queue gets a cookie); the default, MPNET_TCP_COOKIE_RATE_DEFAULT,
 * leaves the stack's default budget (no call).
 *
 * --v6 runs the flow and the flood over IPv6: A 2001:db8:1::1 to B
 * 2001:db8:1::2, the flood from random sources of 2001:db8:100::/48 to B's
 * 2001:db8:2::2 (the same frames' shape: MSS, SACK, window scale,
 * timestamps), B's SYN-ACKs routed to the tester 2001:db8:2::1.
 *
 * Usage: bench_tcp_synflood [--mbytes N] [--repeat N] [--chunk BYTES]
 *                           [--cookie-limit N] [--v6]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/route.h"
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
#define B_ADDR2   0xc6336402u /* 198.51.100.2: B's tester side */
#define T_ADDR    0xc6336401u /* 198.51.100.1: the tester */
#define PORT      5001
#define BUF       (4 << 20)
#define NFRAMES   65536
#define FRAME_MAX 96
#define BURST     64
#define REPS_MAX  64

static uint8_t wbuf[1 << 20], rbuf[1 << 20];
static bool v6;                                                          /* --v6 */
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};  /* 2001:db8:1::1 */
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2};  /* 2001:db8:1::2 */
static const uint8_t b6t[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2}; /* 2001:db8:2::2 */
static const uint8_t t6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1};  /* 2001:db8:2::1 */
static const uint8_t fl6[16] = {0x20, 0x01, 0x0d, 0xb8, 1, 0};           /* 2001:db8:100::/48 */

struct flood {
        struct mpnet_link *lt; /* the tester's end */
        struct mpnet_pool *pool;
        uint8_t (*frames)[FRAME_MAX];
        uint16_t *len;
        _Atomic bool stop;
        _Atomic uint64_t sent;
};

struct run {
        double gbps, cpu_gbps, syn_tx, syn_ans, syn_lim;
        uint64_t cpu, syns, limited; /* the flow thread's CPU ns; SYNs B handled, limited */
        uint64_t conns_max, conn_bytes_max, rss_max, pool_max;
};

static uint64_t cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rss_bytes(void)
{
        unsigned long size = 0, res = 0;
        FILE *f = fopen("/proc/self/statm", "r");

        if (f == NULL || fscanf(f, "%lu %lu", &size, &res) != 2)
                bench_die("statm\n");
        fclose(f);
        return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* SYNs from random sources of 10.0.0.0/8 to B_ADDR2:PORT (with --v6, of
 * 2001:db8:100::/48 to 2001:db8:2::2). */
static void frames_make(struct flood *f, const uint8_t *dmac, const uint8_t *smac)
{
        f->frames = calloc(NFRAMES, FRAME_MAX);
        f->len = calloc(NFRAMES, sizeof(f->len[0]));
        if (f->frames == NULL || f->len == NULL)
                bench_die("frames\n");
        srandom(7);
        for (unsigned i = 0; i < NFRAMES; i++) {
                uint8_t *b = f->frames[i];
                uint32_t src = 0x0a000000u | ((uint32_t)random() & 0xffffffu);
                struct mpnet_tcp_repr r = {.sport = (uint16_t)(1024 + random() % 64000),
                                           .dport = PORT,
                                           .seq = (uint32_t)random(),
                                           .flags = MPNET_TCP_SYN,
                                           .window = 65535};
                struct mpnet_ip4_repr ip = {
                    .src = src, .dst = B_ADDR2, .proto = MPNET_IPPROTO_TCP, .ttl = 64, .df = true};
                int hl;

                r.opts.present =
                    MPNET_TCPO_MSS | MPNET_TCPO_TS | MPNET_TCPO_WSCALE | MPNET_TCPO_SACK_PERM;
                r.opts.mss = 1460;
                r.opts.wscale = 7;
                r.opts.ts_val = (uint32_t)random();
                memcpy(b, dmac, 6);
                memcpy(b + 6, smac, 6);
                if (v6) {
                        struct mpnet_ip6_repr ip6 = {.next_header = MPNET_IPPROTO_TCP,
                                                     .hop_limit = 64};

                        memcpy(ip6.src, fl6, 16);
                        mpnet_put_be32(ip6.src + 8, (uint32_t)random());
                        mpnet_put_be32(ip6.src + 12, src);
                        memcpy(ip6.dst, b6t, 16);
                        hl = mpnet_tcp_repr_emit(&r, b + MPNET_ETH_HLEN + MPNET_IP6_HLEN);
                        ip6.payload_len = (uint16_t)hl;
                        mpnet_put_be16(b + 12, MPNET_ETHERTYPE_IPV6);
                        mpnet_ip6_repr_emit(&ip6, b + MPNET_ETH_HLEN);
                        mpnet_tcp6_csum_set(b + MPNET_ETH_HLEN + MPNET_IP6_HLEN, (size_t)hl,
                                            ip6.src, ip6.dst);
                        f->len[i] = (uint16_t)(MPNET_ETH_HLEN + MPNET_IP6_HLEN + hl);
                        continue;
                }
                hl = mpnet_tcp_repr_emit(&r, b + MPNET_ETH_HLEN + MPNET_IP4_HLEN);
                ip.payload_len = (uint16_t)hl;
                mpnet_put_be16(b + 12, MPNET_ETHERTYPE_IPV4);
                mpnet_ip4_repr_emit(&ip, b + MPNET_ETH_HLEN);
                mpnet_tcp4_csum_set(b + MPNET_ETH_HLEN + MPNET_IP4_HLEN, (size_t)hl, src, B_ADDR2);
                f->len[i] = (uint16_t)(MPNET_ETH_HLEN + MPNET_IP4_HLEN + hl);
        }
}

/* The tester: SYNs as fast as the wire takes them; SYN-ACKs dropped. */
static void *flood_main(void *arg)
{
        struct flood *f = arg;
        struct mpnet_pkt *p[BURST];
        unsigned at = 0;

        mpnet_thread_set_slot(1);
        while (!atomic_load_explicit(&f->stop, memory_order_relaxed)) {
                unsigned k = 0, sent;

                while (k < BURST) {
                        p[k] = mpnet_pkt_from_bytes(f->pool, f->frames[at], f->len[at]);
                        if (p[k] == NULL)
                                break;
                        at = (at + 1) % NFRAMES;
                        k++;
                }
                sent = mpnet_link_tx_burst(f->lt, 0, p, k);
                if (sent < k)
                        mpnet_pkt_free_bulk(p + sent, k - sent);
                atomic_fetch_add_explicit(&f->sent, sent, memory_order_relaxed);
                while ((k = mpnet_link_rx_burst(f->lt, 0, p, BURST)) > 0)
                        mpnet_pkt_free_bulk(p, k);
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static uint64_t cookie_limit = MPNET_TCP_COOKIE_RATE_DEFAULT; /* --cookie-limit */

/* The SYNs B handled: answered (an embryo or a cookie) or limited. */
static uint64_t syns_handled(struct mpnet_stack *b)
{
        return bench_ctr(b, "tcp_syn_in") + bench_ctr(b, "tcp_cookie_sent") +
               bench_ctr(b, "tcp_cookie_limited");
}

static struct run run_one(uint64_t bytes, uint64_t chunk, bool flood_on)
{
        struct mpnet_memwire_cfg wc = {.name = "bulk", .ring_size = 4096};
        struct mpnet_memwire_cfg fc = {.name = "flood", .ring_size = 1024};
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT)};
        struct sockaddr *addr = v6 ? (struct sockaddr *)&s6 : (struct sockaddr *)&sa;
        socklen_t alen = v6 ? sizeof(s6) : sizeof(sa);
        int af = v6 ? AF_INET6 : AF_INET;
        struct mpnet_route6 rt6 = {.plen = 48, .type = MPNET_NH_GATEWAY, .n_paths = 1};
        struct mpnet_route4 rt = {.dst = 0x0a000000u,
                                  .plen = 8,
                                  .type = MPNET_NH_GATEWAY,
                                  .n_paths = 1,
                                  .paths = {{.ifindex = 2, .gw = T_ADDR}}};
        struct flood f = {0};
        struct mpnet_clock ck;
        struct mpnet_stack_cfg ca = {.name = "A", .clock = &ck, .seed = 1};
        struct mpnet_stack_cfg cb = {.name = "B", .clock = &ck, .seed = 2};
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb, *ls;
        struct mpnet_stack *a, *b;
        pthread_t th;
        int lfd, fa, fb = -1, big = BUF;
        uint64_t sent = 0, got = 0, t0, t1, u0, u1, rss0, ans0, lim0, iter = 0;
        struct run r = {0};

        mpnet_clock_init_monotonic(&ck);
        pool = mpnet_pool_create("bench", 16384);
        f.pool = mpnet_pool_create("flood", 8192);
        if (pool == NULL || f.pool == NULL || mpnet_memwire_create(&wc, &la, &lb) != 0 ||
            mpnet_memwire_create(&fc, &f.lt, &ls) != 0)
                bench_die("pool or wire\n");
        ca.pool = cb.pool = pool;
        a = mpnet_stack_create(&ca);
        b = mpnet_stack_create(&cb);
        if (a == NULL || b == NULL || mpnet_iface_attach(a, la, "a0") != 1 ||
            mpnet_iface_attach(b, lb, "b0") != 1 || mpnet_iface_attach(b, ls, "b1") != 2 ||
            mpnet_addr4_add(a, 1, A_ADDR, 24) != 0 || mpnet_addr4_add(b, 1, B_ADDR, 24) != 0 ||
            mpnet_addr4_add(b, 2, B_ADDR2, 24) != 0 ||
            mpnet_neigh4_add(a, 1, B_ADDR, lb->info.mac) != 0 ||
            mpnet_neigh4_add(b, 1, A_ADDR, la->info.mac) != 0 ||
            mpnet_neigh4_add(b, 2, T_ADDR, f.lt->info.mac) != 0 || mpnet_route4_add(b, 0, &rt) != 0)
                bench_die("stacks\n");
        memcpy(rt6.dst, fl6, 16);
        rt6.paths[0].ifindex = 2;
        memcpy(rt6.paths[0].gw, t6, 16);
        if (v6 &&
            (mpnet_addr6_add(a, 1, a6, 64, MPNET_ADDR6_F_NODAD) != 0 ||
             mpnet_addr6_add(b, 1, b6, 64, MPNET_ADDR6_F_NODAD) != 0 ||
             mpnet_addr6_add(b, 2, b6t, 64, MPNET_ADDR6_F_NODAD) != 0 ||
             mpnet_neigh6_add(a, 1, b6, lb->info.mac) != 0 ||
             mpnet_neigh6_add(b, 1, a6, la->info.mac) != 0 ||
             mpnet_neigh6_add(b, 2, t6, f.lt->info.mac) != 0 || mpnet_route6_add(b, 0, &rt6) != 0))
                bench_die("IPv6\n");
        if (flood_on)
                frames_make(&f, ls->info.mac, f.lt->info.mac);
        if (cookie_limit != MPNET_TCP_COOKIE_RATE_DEFAULT &&
            mpnet_tcp_set_cookie_limit(b, (unsigned)cookie_limit,
                                       cookie_limit == 0    ? 0
                                       : cookie_limit >= 10 ? (unsigned)(cookie_limit / 10)
                                                            : 1) != 0)
                bench_die("cookie limit\n");
        lfd = mpnet_socket(b, af, SOCK_STREAM | SOCK_NONBLOCK, 0);
        mpnet_setsockopt(b, lfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        mpnet_setsockopt(b, lfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
        if (mpnet_bind(b, lfd, addr, alen) != 0 || mpnet_listen(b, lfd, 128) != 0)
                bench_die("listen\n");
        fa = mpnet_socket(a, af, SOCK_STREAM | SOCK_NONBLOCK, 0);
        mpnet_setsockopt(a, fa, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
        mpnet_setsockopt(a, fa, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        sa.sin_addr.s_addr = htonl(B_ADDR);
        memcpy(&s6.sin6_addr, b6, 16);
        mpnet_connect(a, fa, addr, alen);
        for (int i = 0; i < 1000 && fb < 0; i++) {
                mpnet_stack_poll(a, mpnet_clock_now(&ck));
                mpnet_stack_poll(b, mpnet_clock_now(&ck));
                fb = mpnet_accept(b, lfd, NULL, NULL, 0);
        }
        if (fb < 0)
                bench_die("no connection\n");
        rss0 = rss_bytes();
        ans0 = syns_handled(b);
        lim0 = bench_ctr(b, "tcp_cookie_limited");
        if (flood_on && pthread_create(&th, NULL, flood_main, &f) != 0)
                bench_die("thread\n");
        t0 = bench_now_ns();
        u0 = cpu_ns();
        while (got < bytes) {
                ssize_t n;

                while (sent < bytes) {
                        n = mpnet_sendto(a, fa, wbuf, bytes - sent < chunk ? bytes - sent : chunk,
                                         0, NULL, 0);
                        if (n <= 0)
                                break;
                        sent += (uint64_t)n;
                }
                mpnet_stack_poll(a, mpnet_clock_now(&ck));
                mpnet_stack_poll(b, mpnet_clock_now(&ck));
                while ((n = mpnet_recvfrom(b, fb, rbuf, sizeof(rbuf), 0, NULL, NULL)) > 0)
                        got += (uint64_t)n;
                if (n == 0 || (n < 0 && n != -EAGAIN))
                        bench_die("recv %zd\n", n);
                if (flood_on && ++iter % 16 == 0) {
                        struct mpnet_tcp_mem m;
                        uint64_t rss = rss_bytes(), inuse = mpnet_pool_in_use(f.pool);

                        mpnet_tcp_mem(b, &m);
                        if (m.conns > r.conns_max)
                                r.conns_max = m.conns;
                        if (m.conn_bytes + m.buf_bytes > r.conn_bytes_max)
                                r.conn_bytes_max = m.conn_bytes + m.buf_bytes;
                        if (rss > rss0 && rss - rss0 > r.rss_max)
                                r.rss_max = rss - rss0;
                        if (inuse > r.pool_max)
                                r.pool_max = inuse;
                }
        }
        u1 = cpu_ns();
        t1 = bench_now_ns();
        if (flood_on) {
                atomic_store(&f.stop, true);
                pthread_join(th, NULL);
        }
        r.gbps = (double)bytes * 8 / (double)(t1 - t0);
        r.cpu_gbps = (double)bytes * 8 / (double)(u1 - u0);
        r.syn_tx = (double)atomic_load(&f.sent) * 1e9 / (double)(t1 - t0);
        r.cpu = u1 - u0;
        r.syns = syns_handled(b) - ans0;
        r.limited = bench_ctr(b, "tcp_cookie_limited") - lim0;
        r.syn_ans = (double)(r.syns - r.limited) * 1e9 / (double)(t1 - t0);
        r.syn_lim = (double)r.limited * 1e9 / (double)(t1 - t0);
        mpnet_close(a, fa);
        mpnet_close(b, fb);
        mpnet_close(b, lfd);
        mpnet_stack_destroy(a);
        mpnet_stack_destroy(b);
        mpnet_link_destroy(la);
        mpnet_link_destroy(lb);
        mpnet_link_destroy(ls);
        mpnet_link_destroy(f.lt);
        mpnet_pool_destroy(pool);
        mpnet_pool_destroy(f.pool);
        free(f.frames);
        free(f.len);
        return r;
}

int main(int argc, char **argv)
{
        uint64_t mbytes = 256, repeat = 5, chunk = 65536;
        const struct bench_opt opts[] = {
            {"mbytes", BENCH_OPT_U64, &mbytes, 1, 1 << 20, "MB carried per run"},
            {"repeat", BENCH_OPT_U64, &repeat, 1, REPS_MAX,
             "repeats (a flooded and a clean run each)"},
            {"chunk", BENCH_OPT_U64, &chunk, 1, sizeof(wbuf), "bytes per send call"},
            {"cookie-limit", BENCH_OPT_U64, &cookie_limit, 0, UINT32_MAX,
             "B's cookie SYN-ACKs a second per listener (0: no limit; the default is the "
             "stack's)"},
            {"v6", BENCH_OPT_FLAG, &v6, 0, 0,
             "the flow and the flood over IPv6 (2001:db8:1::/64, 2001:db8:2::/64)"},
        };
        double g[REPS_MAX], gc[REPS_MAX], fg[REPS_MAX], fgc[REPS_MAX], rw[REPS_MAX], rc[REPS_MAX],
            stx[REPS_MAX], sans[REPS_MAX], cm[REPS_MAX], cb[REPS_MAX], rss[REPS_MAX], pm[REPS_MAX],
            cps[REPS_MAX], spc[REPS_MAX], slim[REPS_MAX], hz;
        struct bench_json j;

        bench_parse_args(argc, argv,
                         "one bulk TCP flow over a memory wire, alone and under a SYN flood", opts,
                         sizeof(opts) / sizeof(opts[0]));
        mpnet_thread_set_slot(0);
        memset(wbuf, 'x', sizeof(wbuf));
        hz = bench_tsc_hz();
        for (uint64_t i = 0; i < repeat; i++) {
                struct run c, f;

                c = run_one(mbytes << 20, chunk, false);
                f = run_one(mbytes << 20, chunk, true);
                g[i] = c.gbps;
                gc[i] = c.cpu_gbps;
                fg[i] = f.gbps;
                fgc[i] = f.cpu_gbps;
                rw[i] = f.gbps / c.gbps;
                rc[i] = f.cpu_gbps / c.cpu_gbps;
                stx[i] = f.syn_tx;
                sans[i] = f.syn_ans;
                slim[i] = f.syn_lim;
                cm[i] = (double)f.conns_max;
                cb[i] = (double)f.conn_bytes_max;
                rss[i] = (double)f.rss_max;
                pm[i] = (double)f.pool_max;
                /* What the flood cost the flow's thread: its CPU time over
                 * the clean run's for the same bytes, per SYN handled. */
                cps[i] =
                    f.syns == 0 ? 0 : ((double)f.cpu - (double)c.cpu) * hz / 1e9 / (double)f.syns;
                spc[i] = (double)f.syns * 1e9 / (double)f.cpu;
                fprintf(stderr,
                        "repeat %llu: clean %.2f Gbit/s (%.2f/cpu-s), flood %.2f (%.2f/cpu-s), "
                        "SYNs %.0f/s sent %.0f/s answered %.0f/s limited, conns max %llu, "
                        "rss +%llu\n",
                        (unsigned long long)i, c.gbps, c.cpu_gbps, f.gbps, f.cpu_gbps, f.syn_tx,
                        f.syn_ans, f.syn_lim, (unsigned long long)f.conns_max,
                        (unsigned long long)f.rss_max);
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp_synflood");
        bench_json_machine(&j);
        bench_json_u64(&j, "bytes", mbytes << 20);
        bench_json_u64(&j, "repeat", repeat);
        bench_json_u64(&j, "cookie_limit", cookie_limit);
        bench_json_u64(&j, "v6", v6);
        bench_json_stat(&j, "clean_gbps", g, repeat);
        bench_json_stat(&j, "clean_gbps_per_cpu", gc, repeat);
        bench_json_stat(&j, "flood_gbps", fg, repeat);
        bench_json_stat(&j, "flood_gbps_per_cpu", fgc, repeat);
        bench_json_stat(&j, "ratio_wall", rw, repeat);
        bench_json_stat(&j, "ratio_per_cpu", rc, repeat);
        bench_json_stat(&j, "syn_sent_per_s", stx, repeat);
        bench_json_stat(&j, "syn_answered_per_s", sans, repeat);
        bench_json_stat(&j, "syn_limited_per_s", slim, repeat);
        bench_json_stat(&j, "syn_per_flow_cpu_s", spc, repeat);
        bench_json_stat(&j, "flow_cycles_per_syn", cps, repeat);
        bench_json_stat(&j, "flood_conns_max", cm, repeat);
        bench_json_stat(&j, "flood_tcp_bytes_max", cb, repeat);
        bench_json_stat(&j, "flood_rss_growth_max", rss, repeat);
        bench_json_stat(&j, "flood_pool_in_use_max", pm, repeat);
        bench_json_obj_end(&j);
        putchar('\n');
        return 0;
}
