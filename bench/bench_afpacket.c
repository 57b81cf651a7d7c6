/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_afpacket: what one core moves through the AF_PACKET link over a veth
 * pair, both directions driven by mpnet, the kernel in between.
 *
 * The bench makes a network namespace (mpnet-bench-PID) with a veth pair
 * ba/bb, both up, no addresses, and opens an AF_PACKET link on each end.
 * Frames are UDP/IPv4 from 198.18.0.1 to 198.19.0.1 (RFC 2544's range) to a
 * MAC nobody owns, so the kernel's own stack drops them at once
 * (PACKET_OTHERHOST) and the link is what is measured.
 *
 * - tx: one thread allocates bursts from the pool, fills them and transmits
 *   them on ba (copy into the TX ring, one sendto() per burst). No socket
 *   reads bb, so the kernel frees each frame right after the veth crossing.
 * - loop: one thread transmits a burst on ba, then receives what the RX ring
 *   of bb holds and frees it, until every frame sent has come back or the
 *   ring stayed empty for 50 ms (the rest is loss). The kernel's work for
 *   both directions (veth, the receive path, the copy into the RX ring) runs
 *   on the same core, inside sendto() or its softirq.
 *
 * TSC: read around each whole phase, and around each tx_burst and each
 * rx_burst call (bursts, never single packets) to split the loop's cycles.
 * The thread's own CPU time (getrusage, user + system) is reported beside
 * it: per packet, and as a share of the wall time, which tells how much of
 * the TSC figure was time spent waiting for a CPU on a busy machine.
 * Output: one JSON object on stdout (docs/PERFORMANCE.md); progress on
 * stderr. Without root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN) or ip(8),
 * the JSON says "skipped" with the reason and the exit status is 0.
 * --v3 opens both links with TPACKET_V3 rings instead of the default V2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "mpnet/afpacket.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/thread.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define BURST_MAX   256u
#define WARMUP_PKTS 200000u
#define IDLE_NS     (50 * 1000000ull)

struct cfg {
        uint64_t pkts, burst, repeat, frame;
        bool pin, sendmmsg, v3;
};

struct result {
        double tx_mpps, tx_cycles_per_pkt, tx_cpu_ns_per_pkt, tx_cpu_share;
        double rx_mpps, loop_cycles_per_pkt, loop_tx_cycles_per_pkt, loop_rx_cycles_per_pkt;
        double loop_cpu_ns_per_pkt, loop_cpu_share;
        uint64_t tx_ring_full, loop_sent, loop_received, loop_lost;
};

struct bench {
        const struct cfg *cfg;
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b;
        uint8_t tmpl[1514];
};

static char g_ns[64];

static int sh(const char *cmd)
{
        char full[512];
        int rc;

        snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
        rc = system(full);
        return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static void ns_cleanup(void)
{
        char cmd[128];

        if (g_ns[0] == '\0')
                return;
        snprintf(cmd, sizeof(cmd), "ip netns del %s", g_ns);
        sh(cmd);
        g_ns[0] = '\0';
}

static const char *skip_reason(void)
{
        if (geteuid() != 0)
                return "not root: needs CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN";
        if (sh("command -v ip") != 0)
                return "the ip command (iproute2) is missing";
        return NULL;
}

static int setup_ns(void)
{
        char cmd[512];

        snprintf(g_ns, sizeof(g_ns), "mpnet-bench-%d", (int)getpid());
        snprintf(cmd, sizeof(cmd),
                 "ip netns add %s && ip -n %s link add ba type veth peer name bb && "
                 "ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && "
                 "ip -n %s link set ba up && ip -n %s link set bb up",
                 g_ns, g_ns, g_ns, g_ns, g_ns);
        atexit(ns_cleanup);
        return sh(cmd);
}

static struct mpnet_link *open_link(struct mpnet_pool *pool, const char *ifname, uint32_t flags)
{
        char err[256] = "";
        struct mpnet_afpacket_cfg c = {.ifname = ifname,
                                       .netns = g_ns,
                                       .pool = pool,
                                       .flags = flags,
                                       .errbuf = err,
                                       .errbuf_len = sizeof(err)};
        struct mpnet_link *l = mpnet_afpacket_create(&c);

        if (l == NULL)
                bench_die("bench_afpacket: %s: %s\n", ifname, err);
        return l;
}

/* UDP/IPv4 frame of len bytes (RFC 2544 addresses) to a MAC nobody owns. */
static void template_make(struct bench *b, const uint8_t *smac, uint32_t len)
{
        static const uint8_t nobody[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
        uint8_t *f = b->tmpl, *ip = f + 14, *udp = ip + 20;

        memset(f, 0, sizeof(b->tmpl));
        memcpy(f, nobody, 6);
        memcpy(f + 6, smac, 6);
        mpnet_put_be16(f + 12, 0x0800);
        ip[0] = 0x45;
        mpnet_put_be16(ip + 2, (uint16_t)(len - 14));
        ip[8] = 64;
        ip[9] = 17;
        mpnet_put_be32(ip + 12, 0xc6120001); /* 198.18.0.1 */
        mpnet_put_be32(ip + 16, 0xc6130001); /* 198.19.0.1 */
        mpnet_put_be16(ip + 10, mpnet_csum(ip, 20));
        mpnet_put_be16(udp, 1024);
        mpnet_put_be16(udp + 2, 1024);
        mpnet_put_be16(udp + 4, (uint16_t)(len - 34));
}

/* Allocate up to want frames into v[held..]. @return the new count held. */
static unsigned fill(struct bench *b, struct mpnet_pkt **v, unsigned held, unsigned want,
                     uint64_t *seq)
{
        uint32_t len = (uint32_t)b->cfg->frame;
        unsigned got;

        if (held >= want)
                return held;
        got = mpnet_pkt_alloc_bulk(b->pool, &v[held], want - held);
        for (unsigned i = 0; i < got; i++) {
                uint8_t *d = mpnet_pkt_append(v[held + i], len);

                memcpy(d, b->tmpl, len);
                memcpy(d + 42, seq, sizeof(*seq)); /* the UDP payload: frames differ */
                (*seq)++;
        }
        return held + got;
}

/* CPU time of the calling thread, user and system, ns: unlike the TSC it
 * does not count the time the thread waited for a CPU (docs/LINKS.md). */
static uint64_t thread_cpu_ns(void)
{
        struct rusage ru;

        getrusage(RUSAGE_THREAD, &ru);
        return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
               (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static void phase_tx(struct bench *b, uint64_t pkts, struct result *r)
{
        struct mpnet_pkt *v[BURST_MAX];
        uint64_t left = pkts, seq = 0, t0, t1;
        unsigned held = 0;

        uint64_t c0 = thread_cpu_ns(), w0 = bench_now_ns();

        t0 = bench_tsc();
        while (left > 0) {
                unsigned want = left < b->cfg->burst ? (unsigned)left : (unsigned)b->cfg->burst;
                uint16_t sent;

                held = fill(b, v, held, want, &seq);
                sent = mpnet_link_tx_burst(b->a, 0, v, (uint16_t)held);
                if (sent < held) {
                        memmove(v, &v[sent], (held - sent) * sizeof(v[0]));
                        r->tx_ring_full++;
                }
                held -= sent;
                left -= sent;
        }
        t1 = bench_tsc();
        r->tx_cpu_ns_per_pkt = (double)(thread_cpu_ns() - c0) / (double)pkts;
        r->tx_cpu_share = (double)(thread_cpu_ns() - c0) / (double)(bench_now_ns() - w0);
        r->tx_cycles_per_pkt = (double)(t1 - t0) / (double)pkts;
        r->tx_mpps = (double)pkts / ((double)(t1 - t0) / bench_tsc_hz()) / 1e6;
}

/* Take what an earlier phase left in flight, so each loop counts its own. */
static void drain(struct bench *b)
{
        struct mpnet_pkt *in[BURST_MAX];
        uint64_t idle_since = bench_now_ns();

        while (bench_now_ns() - idle_since < 5 * 1000000ull) {
                uint16_t n = mpnet_link_rx_burst(b->b, 0, in, BURST_MAX);

                mpnet_pkt_free_bulk(in, n);
                if (n > 0)
                        idle_since = bench_now_ns();
        }
}

static void phase_loop(struct bench *b, uint64_t pkts, struct result *r)
{
        struct mpnet_pkt *v[BURST_MAX], *in[BURST_MAX];
        uint64_t sent = 0, recv = 0, seq = 0, t0, t_last, tx_cyc = 0, rx_cyc = 0, idle_since = 0;
        unsigned held = 0;

        uint64_t c0, w0;

        drain(b);
        c0 = thread_cpu_ns();
        w0 = bench_now_ns();
        t0 = t_last = bench_tsc();
        for (;;) {
                uint64_t a, c;
                uint16_t n;

                if (sent < pkts) {
                        unsigned want = pkts - sent < b->cfg->burst ? (unsigned)(pkts - sent)
                                                                    : (unsigned)b->cfg->burst;
                        uint16_t k;

                        held = fill(b, v, held, want, &seq);
                        a = bench_tsc();
                        k = mpnet_link_tx_burst(b->a, 0, v, (uint16_t)held);
                        tx_cyc += bench_tsc() - a;
                        if (k < held)
                                memmove(v, &v[k], (held - k) * sizeof(v[0]));
                        held -= k;
                        sent += k;
                }
                a = bench_tsc();
                n = mpnet_link_rx_burst(b->b, 0, in, (uint16_t)b->cfg->burst);
                mpnet_pkt_free_bulk(in, n);
                c = bench_tsc();
                rx_cyc += c - a;
                if (n > 0) {
                        recv += n;
                        t_last = c;
                        idle_since = 0;
                } else if (sent == pkts) {
                        /* V3: the last partly filled block comes after block_tov_ms. */
                        uint64_t now = bench_now_ns();

                        if (idle_since == 0)
                                idle_since = now;
                        else if (now - idle_since > IDLE_NS)
                                break;
                }
                if (recv >= pkts)
                        break;
        }
        r->loop_cpu_ns_per_pkt = (double)(thread_cpu_ns() - c0) / (double)(recv ? recv : 1);
        r->loop_cpu_share = (double)(thread_cpu_ns() - c0) / (double)(bench_now_ns() - w0);
        r->loop_sent = sent;
        r->loop_received = recv;
        r->loop_lost = sent > recv ? sent - recv : 0;
        r->rx_mpps = (double)recv / ((double)(t_last - t0) / bench_tsc_hz()) / 1e6;
        r->loop_cycles_per_pkt = (double)(t_last - t0) / (double)(recv ? recv : 1);
        r->loop_tx_cycles_per_pkt = (double)tx_cyc / (double)(sent ? sent : 1);
        r->loop_rx_cycles_per_pkt = (double)rx_cyc / (double)(recv ? recv : 1);
}

#define N_FIG 10

static void report(const struct cfg *c, const struct result *res)
{
        static const char *const names[N_FIG] = {"tx_mpps",
                                                 "tx_cycles_per_pkt",
                                                 "tx_cpu_ns_per_pkt",
                                                 "tx_cpu_share",
                                                 "rx_mpps",
                                                 "loop_cycles_per_pkt",
                                                 "loop_tx_cycles_per_pkt",
                                                 "loop_rx_cycles_per_pkt",
                                                 "loop_cpu_ns_per_pkt",
                                                 "loop_cpu_share"};
        double v[N_FIG][c->repeat];
        struct bench_json j;

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "afpacket");
        bench_json_str(&j, "link",
                       c->v3 ? "veth, TPACKET_V3 rx ring, qdisc bypass"
                             : "veth, TPACKET_V2 rx ring, qdisc bypass");
        bench_json_str(&j, "tx",
                       c->sendmmsg ? "sendmmsg"
                       : c->v3     ? "TPACKET_V3 tx ring"
                                   : "TPACKET_V2 tx ring");
        bench_json_u64(&j, "frame", c->frame);
        bench_json_u64(&j, "burst", c->burst);
        bench_json_u64(&j, "pkts", c->pkts);
        bench_json_bool(&j, "pin", c->pin);
        bench_json_u64(&j, "threads", 1);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < c->repeat; i++) {
                const struct result *r = &res[i];

                v[0][i] = r->tx_mpps;
                v[1][i] = r->tx_cycles_per_pkt;
                v[2][i] = r->tx_cpu_ns_per_pkt;
                v[3][i] = r->tx_cpu_share;
                v[4][i] = r->rx_mpps;
                v[5][i] = r->loop_cycles_per_pkt;
                v[6][i] = r->loop_tx_cycles_per_pkt;
                v[7][i] = r->loop_rx_cycles_per_pkt;
                v[8][i] = r->loop_cpu_ns_per_pkt;
                v[9][i] = r->loop_cpu_share;
                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < N_FIG; k++)
                        bench_json_num(&j, names[k], v[k][i]);
                bench_json_u64(&j, "tx_ring_full", r->tx_ring_full);
                bench_json_u64(&j, "loop_sent", r->loop_sent);
                bench_json_u64(&j, "loop_received", r->loop_received);
                bench_json_u64(&j, "loop_lost", r->loop_lost);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < N_FIG; k++)
                bench_json_stat(&j, names[k], v[k], c->repeat);
        bench_json_obj_end(&j);
}

static void report_skip(const char *why)
{
        struct bench_json j;

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "afpacket");
        bench_json_str(&j, "skipped", why);
        bench_json_obj_end(&j);
        fprintf(stderr, "bench_afpacket: skipped: %s\n", why);
}

int main(int argc, char **argv)
{
        struct cfg c = {.pkts = 2000000, .burst = 32, .repeat = 5, .frame = 60};
        const struct bench_opt opts[] = {
            {"pkts", BENCH_OPT_U64, &c.pkts, 1000, UINT64_MAX / 2, "packets per phase and repeat"},
            {"burst", BENCH_OPT_U64, &c.burst, 1, BURST_MAX, "packets per tx/rx burst"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"frame", BENCH_OPT_U64, &c.frame, 60, 1514,
             "frame length without FCS, bytes (60: a 64-byte frame)"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin the thread to cpu 0"},
            {"sendmmsg", BENCH_OPT_FLAG, &c.sendmmsg, 0, 0,
             "transmit with sendmmsg() instead of the TX ring"},
            {"v3", BENCH_OPT_FLAG, &c.v3, 0, 0,
             "TPACKET_V3 rings (MPNET_AFP_F_TPACKET_V3) instead of TPACKET_V2"},
        };
        struct bench b = {.cfg = &c};
        struct mpnet_afpacket_stats as;
        struct mpnet_link_stats ls;
        struct result *res, warm;
        const char *why;
        uint32_t ver;

        bench_parse_args(argc, argv,
                         "AF_PACKET link over a veth pair, one core: transmit Mpps, and the "
                         "transmit-receive loop through the kernel.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        why = skip_reason();
        if (why == NULL && setup_ns() != 0)
                why = "cannot make the namespace and veth pair (ip netns add, ip link add veth)";
        if (why != NULL) {
                report_skip(why);
                return 0;
        }
        if (c.pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        b.pool = mpnet_pool_create("bench", 8192);
        res = calloc(c.repeat, sizeof(*res));
        if (b.pool == NULL || res == NULL)
                bench_die("bench_afpacket: out of memory\n");
        ver = c.v3 ? MPNET_AFP_F_TPACKET_V3 : 0;
        b.a = open_link(b.pool, "ba", ver | (c.sendmmsg ? MPNET_AFP_F_TX_SENDMMSG : 0));
        template_make(&b, b.a->info.mac, (uint32_t)c.frame);
        fprintf(stderr,
                "afpacket: tsc %.0f Hz, %llu pkts x %llu repeats, burst %llu, frame %llu, %s, tx "
                "%s%s\n",
                bench_tsc_hz(), (unsigned long long)c.pkts, (unsigned long long)c.repeat,
                (unsigned long long)c.burst, (unsigned long long)c.frame,
                c.v3 ? "TPACKET_V3" : "TPACKET_V2", c.sendmmsg ? "sendmmsg" : "ring",
                c.pin ? ", pinned" : "");

        /* Transmit alone: nobody reads bb. */
        memset(&warm, 0, sizeof(warm));
        phase_tx(&b, c.pkts < WARMUP_PKTS ? c.pkts : WARMUP_PKTS, &warm);
        for (uint64_t i = 0; i < c.repeat; i++) {
                phase_tx(&b, c.pkts, &res[i]);
                fprintf(stderr,
                        "  tx repeat %llu: %.2f Mpps, %.0f cycles/pkt, %.0f CPU ns/pkt, CPU share "
                        "%.0f %% (ring full %llu)\n",
                        (unsigned long long)i, res[i].tx_mpps, res[i].tx_cycles_per_pkt,
                        res[i].tx_cpu_ns_per_pkt, 100 * res[i].tx_cpu_share,
                        (unsigned long long)res[i].tx_ring_full);
        }

        /* The loop: transmit on ba, receive on bb. */
        b.b = open_link(b.pool, "bb", ver);
        phase_loop(&b, c.pkts < WARMUP_PKTS ? c.pkts : WARMUP_PKTS, &warm);
        for (uint64_t i = 0; i < c.repeat; i++) {
                phase_loop(&b, c.pkts, &res[i]);
                fprintf(stderr,
                        "  loop repeat %llu: %.2f Mpps received, %.0f cycles/pkt (tx %.0f, rx "
                        "%.0f), %.0f CPU ns/pkt, CPU share %.0f %%, lost %llu\n",
                        (unsigned long long)i, res[i].rx_mpps, res[i].loop_cycles_per_pkt,
                        res[i].loop_tx_cycles_per_pkt, res[i].loop_rx_cycles_per_pkt,
                        res[i].loop_cpu_ns_per_pkt, 100 * res[i].loop_cpu_share,
                        (unsigned long long)res[i].loop_lost);
        }
        mpnet_link_get_stats(b.b, &ls);
        mpnet_afpacket_get_stats(b.b, &as);
        fprintf(stderr, "  rx link: %llu frames, %llu dropped by the kernel (ring full)\n",
                (unsigned long long)ls.rx_pkts, (unsigned long long)as.rx_kernel_drops);
        report(&c, res);

        mpnet_link_destroy(b.a);
        mpnet_link_destroy(b.b);
        mpnet_pool_flush_cache(b.pool);
        mpnet_pool_destroy(b.pool);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        free(res);
        ns_cleanup();
        return 0;
}
