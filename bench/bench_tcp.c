/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tcp: one bulk TCP flow from stack A to stack B over a memory wire,
 * beside Linux TCP over loopback (127.0.0.1) in the same run, both driven
 * the same way from one thread: write until the send buffer is full, let
 * the data move (mpnet: poll A, then B; Linux: the kernel does it inside
 * the calls), read all there is, again, until --mbytes MB arrived. Both
 * sides get 4 MB buffers (SO_SNDBUF, SO_RCVBUF).
 *
 * Figures per repeat: Gbit/s of payload by the wall clock and per second
 * of the thread's CPU time (a shared machine's other load left out), TSC
 * cycles (from that CPU time) per payload byte and per data segment (mpnet: tcp_data_out; segments
 * of the memory wire's MSS, 1460 bytes; Linux loopback uses a 64 KiB MTU, so its segments are not
 * comparable and only its bytes are given), and the ACKs the sender took per data
 * segment (tcp_in of A over its tcp_data_out). The run is one thread: both
 * ends on one core, for each stack.
 *
 * The memory wire offers checksum offload (csum_offload), as Linux's
 * loopback and veth do (they skip both the sender's and the receiver's
 * sums): the receiver trusts the frames, the sender still fills the
 * checksum of every segment with data (summed in its copy) and leaves
 * the short ones' (ACKs) to the wire. --no-offload turns it off (both
 * ends sum).
 * --autotune leaves mpnet's socket buffers unset (auto-tuning, on by
 * default; the call to mpnet_tcp_set_autotune with 4 MB limits keeps
 * that so against an older library): they start at the default and grow
 * (Linux keeps its 4 MB).
 *
 * --ack-vec turns on one ACK per receive vector on both stacks.
 *
 * The wire also offers segmentation offload (tso), as Linux's loopback
 * and veth offer TSO and GRO: A's TCP sends super-segments of up to 64 KiB
 * with one header, which B takes whole as one segment; cycles per segment
 * still count each MSS piece (tcp_data_out), and tso_per_segment says how
 * many super-segments went per piece. --no-tso turns it off (segments cut
 * in software, as before); --no-offload turns it off too.
 *
 * --v6 runs both over IPv6: mpnet between 2001:db8::1 and 2001:db8::2 on
 * the same wire (MSS 1440, 1428 bytes a segment with timestamps), Linux
 * over ::1.
 *
 * Usage: bench_tcp [--mbytes N] [--repeat N] [--chunk BYTES] [--no-offload]
 *                  [--no-tso] [--autotune] [--ack-vec] [--v6]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/clock.h"
#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"

#define A_ADDR             0xc0000201u /* 192.0.2.1 */
#define B_ADDR             0xc0000202u /* 192.0.2.2 */
#define BUF                (4 << 20)
#define TCP_AUTOTUNE_BENCH (4u << 20) /* --autotune: mpnet_tcp_set_autotune's limits */

static uint8_t wbuf[1 << 20], rbuf[1 << 20];
static bool no_offload, no_tso, autotune, ack_vec, v6;
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}; /* 2001:db8::1 */
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

struct run {
        double gbps, cyc_byte, cyc_seg, cpu_gbps, acks_seg, tso_seg;
};

/* The thread's CPU time (ns): on a shared machine the wall clock counts
 * the time others held the core; this does not. Linux's loopback work
 * runs in the calls, so it counts there too. */
static uint64_t cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct mpnet_stack *stack_new(struct mpnet_clock *ck, struct mpnet_pool *pool,
                                     const char *name, struct mpnet_link *l, uint32_t addr,
                                     uint64_t seed)
{
        struct mpnet_stack_cfg sc = {.name = name, .clock = ck, .pool = pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);

        if (s == NULL || mpnet_iface_attach(s, l, name) != 1 ||
            mpnet_addr4_add(s, 1, addr, 24) != 0 ||
            (v6 && mpnet_addr6_add(s, 1, addr == A_ADDR ? a6 : b6, 64, MPNET_ADDR6_F_NODAD) != 0))
                bench_die("stack %s\n", name);
        return s;
}

static struct run run_mpnet(uint64_t bytes, uint64_t chunk)
{
        struct mpnet_memwire_cfg wc = {.name = "tcp",
                                       .ring_size = 4096,
                                       .csum_offload = !no_offload,
                                       .tso = !no_offload && !no_tso};
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(5001)};
        struct sockaddr *addr = v6 ? (struct sockaddr *)&s6 : (struct sockaddr *)&sa;
        socklen_t alen = v6 ? sizeof(s6) : sizeof(sa);
        int af = v6 ? AF_INET6 : AF_INET;
        struct mpnet_clock ck;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        int lfd, fa, fb = -1, big = BUF;
        uint64_t sent = 0, got = 0, t0, c0, t1, c1, segs, acks, tsos, u0, u1;
        struct run r;

        mpnet_clock_init_monotonic(&ck);
        pool = mpnet_pool_create("bench", 16384);
        if (pool == NULL || mpnet_memwire_create(&wc, &la, &lb) != 0)
                bench_die("pool or wire\n");
        a = stack_new(&ck, pool, "A", la, A_ADDR, 1);
        b = stack_new(&ck, pool, "B", lb, B_ADDR, 2);
        mpnet_tcp_set_ack_vec(a, ack_vec);
        mpnet_tcp_set_ack_vec(b, ack_vec);
        if (autotune && (mpnet_tcp_set_autotune(a, TCP_AUTOTUNE_BENCH, TCP_AUTOTUNE_BENCH) != 0 ||
                         mpnet_tcp_set_autotune(b, TCP_AUTOTUNE_BENCH, TCP_AUTOTUNE_BENCH) != 0))
                bench_die("autotune\n");
        lfd = mpnet_socket(b, af, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (!autotune) {
                mpnet_setsockopt(b, lfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
                mpnet_setsockopt(b, lfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
        }
        if (mpnet_bind(b, lfd, addr, alen) != 0 || mpnet_listen(b, lfd, 4) != 0)
                bench_die("listen\n");
        fa = mpnet_socket(a, af, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (!autotune) {
                mpnet_setsockopt(a, fa, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
                mpnet_setsockopt(a, fa, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        }
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
        segs = bench_ctr(a, "tcp_data_out");
        acks = bench_ctr(a, "tcp_in");
        tsos = bench_ctr(a, "tcp_tso_out");
        t0 = bench_now_ns();
        u0 = cpu_ns();
        c0 = bench_tsc();
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
        }
        c1 = bench_tsc();
        u1 = cpu_ns();
        t1 = bench_now_ns();
        (void)c0;
        (void)c1;
        segs = bench_ctr(a, "tcp_data_out") - segs;
        acks = bench_ctr(a, "tcp_in") - acks;
        r.acks_seg = (double)acks / (double)segs;
        r.tso_seg = (double)(bench_ctr(a, "tcp_tso_out") - tsos) / (double)segs;
        r.gbps = (double)bytes * 8 / (double)(t1 - t0);
        r.cpu_gbps = (double)bytes * 8 / (double)(u1 - u0);
        /* Cycles from CPU time (TSC ticks per ns), not the TSC across
         * the run, which counts preemption. */
        r.cyc_byte = (double)(u1 - u0) * bench_tsc_hz() / 1e9 / (double)bytes;
        r.cyc_seg = (double)(u1 - u0) * bench_tsc_hz() / 1e9 / (double)segs;
        if (bench_ctr(a, "tcp_rtx") != 0)
                fprintf(stderr, "mpnet: %llu retransmissions\n",
                        (unsigned long long)bench_ctr(a, "tcp_rtx"));
        mpnet_close(a, fa);
        mpnet_close(b, fb);
        mpnet_close(b, lfd);
        mpnet_stack_destroy(a);
        mpnet_stack_destroy(b);
        mpnet_link_destroy(la);
        mpnet_link_destroy(lb);
        mpnet_pool_destroy(pool);
        return r;
}

static struct run run_linux(uint64_t bytes, uint64_t chunk)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        struct sockaddr *addr = v6 ? (struct sockaddr *)&s6 : (struct sockaddr *)&sa;
        socklen_t sl = v6 ? sizeof(s6) : sizeof(sa);
        int af = v6 ? AF_INET6 : AF_INET;
        int lfd = socket(af, SOCK_STREAM, 0), fa, fb, big = BUF;
        uint64_t sent = 0, got = 0, t0, t1, u0, u1;
        struct run r = {0};

        if (lfd < 0 || bind(lfd, addr, sl) != 0 || listen(lfd, 4) != 0 ||
            getsockname(lfd, addr, &sl) != 0)
                bench_die("linux listen: %s\n", strerror(errno));
        fa = socket(af, SOCK_STREAM, 0);
        setsockopt(fa, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
        setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        if (connect(fa, addr, sl) != 0)
                bench_die("linux connect: %s\n", strerror(errno));
        fb = accept(lfd, NULL, NULL);
        if (fb < 0)
                bench_die("linux accept\n");
        fcntl(fa, F_SETFL, O_NONBLOCK);
        fcntl(fb, F_SETFL, O_NONBLOCK);
        t0 = bench_now_ns();
        u0 = cpu_ns();
        while (got < bytes) {
                ssize_t n;

                while (sent < bytes) {
                        n = send(fa, wbuf, bytes - sent < chunk ? bytes - sent : chunk, 0);
                        if (n <= 0)
                                break;
                        sent += (uint64_t)n;
                }
                while ((n = recv(fb, rbuf, sizeof(rbuf), 0)) > 0)
                        got += (uint64_t)n;
                if (n == 0)
                        bench_die("linux eof\n");
        }
        u1 = cpu_ns();
        t1 = bench_now_ns();
        r.gbps = (double)bytes * 8 / (double)(t1 - t0);
        r.cpu_gbps = (double)bytes * 8 / (double)(u1 - u0);
        r.cyc_byte = (double)(u1 - u0) * bench_tsc_hz() / 1e9 / (double)bytes;
        close(fa);
        close(fb);
        close(lfd);
        return r;
}

int main(int argc, char **argv)
{
        uint64_t mbytes = 256, repeat = 5, chunk = 65536;
        const struct bench_opt opts[] = {
            {"mbytes", BENCH_OPT_U64, &mbytes, 1, 1 << 20, "MB carried per repeat"},
            {"repeat", BENCH_OPT_U64, &repeat, 1, 1000, "repeats"},
            {"chunk", BENCH_OPT_U64, &chunk, 1, sizeof(wbuf), "bytes per send call"},
            {"no-offload", BENCH_OPT_FLAG, &no_offload, 0, 0,
             "no receive checksum offload on the memory wire"},
            {"autotune", BENCH_OPT_FLAG, &autotune, 0, 0,
             "mpnet's socket buffers unset: auto-tuned"},
            {"ack-vec", BENCH_OPT_FLAG, &ack_vec, 0, 0,
             "one ACK per receive vector (mpnet_tcp_set_ack_vec)"},
            {"no-tso", BENCH_OPT_FLAG, &no_tso, 0, 0,
             "no segmentation offload on the memory wire: segments cut in software"},
            {"v6", BENCH_OPT_FLAG, &v6, 0, 0,
             "both flows over IPv6 (mpnet 2001:db8::1 to ::2, Linux over ::1)"},
        };
        double mg[1000], mb[1000], ms[1000], lg[1000], lb[1000], ratio[1000], mc[1000], lc[1000],
            cratio[1000], ma[1000], mt[1000];
        struct bench_json j;

        bench_parse_args(argc, argv,
                         "one bulk TCP flow, mpnet over a memory wire and Linux "
                         "over loopback",
                         opts, sizeof(opts) / sizeof(opts[0]));
        mpnet_thread_set_slot(0);
        memset(wbuf, 'x', sizeof(wbuf));
        run_mpnet(8 << 20, chunk); /* warm-up */
        run_linux(8 << 20, chunk);
        for (uint64_t i = 0; i < repeat; i++) {
                struct run m = run_mpnet(mbytes << 20, chunk), l = run_linux(mbytes << 20, chunk);

                mg[i] = m.gbps;
                mb[i] = m.cyc_byte;
                ms[i] = m.cyc_seg;
                ma[i] = m.acks_seg;
                mt[i] = m.tso_seg;
                lg[i] = l.gbps;
                lb[i] = l.cyc_byte;
                ratio[i] = m.gbps / l.gbps;
                mc[i] = m.cpu_gbps;
                lc[i] = l.cpu_gbps;
                cratio[i] = m.cpu_gbps / l.cpu_gbps;
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "tcp");
        bench_json_machine(&j);
        bench_json_u64(&j, "bytes", mbytes << 20);
        bench_json_u64(&j, "chunk", chunk);
        bench_json_u64(&j, "csum_offload", !no_offload);
        bench_json_u64(&j, "autotune", autotune);
        bench_json_u64(&j, "ack_vec", ack_vec);
        bench_json_u64(&j, "tso", !no_offload && !no_tso);
        bench_json_u64(&j, "v6", v6);
        bench_json_stat(&j, "mpnet_gbps", mg, repeat);
        bench_json_stat(&j, "mpnet_cycles_per_byte", mb, repeat);
        bench_json_stat(&j, "mpnet_cycles_per_segment", ms, repeat);
        bench_json_stat(&j, "mpnet_acks_per_segment", ma, repeat);
        bench_json_stat(&j, "mpnet_tso_per_segment", mt, repeat);
        bench_json_stat(&j, "linux_lo_gbps", lg, repeat);
        bench_json_stat(&j, "linux_lo_cycles_per_byte", lb, repeat);
        bench_json_stat(&j, "ratio_mpnet_to_linux", ratio, repeat);
        bench_json_stat(&j, "mpnet_gbps_per_cpu", mc, repeat);
        bench_json_stat(&j, "linux_lo_gbps_per_cpu", lc, repeat);
        bench_json_stat(&j, "ratio_per_cpu", cratio, repeat);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < repeat; i++) {
                bench_json_obj_begin(&j, NULL);
                bench_json_num(&j, "mpnet_gbps", mg[i]);
                bench_json_num(&j, "mpnet_cycles_per_byte", mb[i]);
                bench_json_num(&j, "mpnet_cycles_per_segment", ms[i]);
                bench_json_num(&j, "linux_lo_gbps", lg[i]);
                bench_json_num(&j, "linux_lo_cycles_per_byte", lb[i]);
                bench_json_num(&j, "mpnet_gbps_per_cpu", mc[i]);
                bench_json_num(&j, "linux_lo_gbps_per_cpu", lc[i]);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        bench_json_obj_end(&j);
        fputc('\n', stdout);
        return 0;
}
