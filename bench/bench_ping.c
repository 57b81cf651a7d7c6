/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_ping: ICMP echo round trips per second between two stacks over one
 * memory wire, driven by one thread on the monotonic clock.
 *
 * Stack A (192.0.2.1/24, with --v6 2001:db8::1/64 and ICMPv6) pings stack
 * B (192.0.2.2/24, 2001:db8::2/64) with up to --window
 * requests outstanding. One turn of the loop is: read the clock, poll A (its
 * queued requests go out), poll B (it answers them), poll A (it takes the
 * replies), collect the replies and send as many new requests. With a window
 * of 1 that is exactly one round trip per turn, the least polling a round
 * trip can take through this API; wider windows move vectors of requests.
 *
 * The TSC is read around the whole run of --count round trips; the figure
 * includes everything both stacks and the wire do for them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mpnet/clock.h"
#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"

#define A_ADDR     0xc0000201u /* 192.0.2.1 */
#define B_ADDR     0xc0000202u /* 192.0.2.2 */
#define PING_ID    0x4d50u
#define WINDOW_MAX 256u
#define STALL_NS   (2 * MPNET_NS_PER_S)
#define WARMUP_RTS 20000u

struct cfg {
        uint64_t count, window, repeat, size;
        bool pin, v6;
};

static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

struct net {
        struct mpnet_clock clock;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        uint16_t seq;
};

struct result {
        double rtps, cycles_per_rt, rtt_ns_mean;
};

static struct mpnet_stack *stack_new(struct net *n, const char *name, struct mpnet_link *l,
                                     uint32_t addr, uint64_t seed)
{
        struct mpnet_stack_cfg sc = {
            .name = name, .clock = &n->clock, .pool = n->pool, .seed = seed};
        struct mpnet_stack *s = mpnet_stack_create(&sc);
        int ifindex, rc;

        if (s == NULL)
                bench_die("bench_ping: stack %s: %s\n", name, strerror(errno));
        ifindex = mpnet_iface_attach(s, l, "eth0");
        if (ifindex < 0)
                bench_die("bench_ping: attach %s: %s\n", name, strerror(-ifindex));
        rc = mpnet_addr4_add(s, ifindex, addr, 24);
        if (rc == 0)
                rc = mpnet_addr6_add(s, ifindex, addr == A_ADDR ? a6 : b6, 64, MPNET_ADDR6_F_NODAD);
        if (rc != 0)
                bench_die("bench_ping: address on %s: %s\n", name, strerror(-rc));
        return s;
}

static void net_init(struct net *n)
{
        struct mpnet_memwire_cfg wc = {.name = "ping"};
        int rc;

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_monotonic(&n->clock);
        /* Two windows in flight each way, the wire rings and the pool cache. */
        n->pool = mpnet_pool_create("ping", 8192);
        if (n->pool == NULL)
                bench_die("bench_ping: pool: %s\n", strerror(errno));
        rc = mpnet_memwire_create(&wc, &n->la, &n->lb);
        if (rc != 0)
                bench_die("bench_ping: memwire: %s\n", strerror(-rc));
        n->a = stack_new(n, "A", n->la, A_ADDR, 1);
        n->b = stack_new(n, "B", n->lb, B_ADDR, 2);
}

static void net_fini(struct net *n)
{
        mpnet_stack_destroy(n->a);
        mpnet_stack_destroy(n->b);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        mpnet_pool_flush_cache(n->pool);
        mpnet_pool_destroy(n->pool);
}

static void stall(struct net *n, uint64_t sent, uint64_t got)
{
        fprintf(stderr, "bench_ping: no reply for %llu ms: sent %llu, got %llu\n",
                (unsigned long long)(STALL_NS / MPNET_NS_PER_MS), (unsigned long long)sent,
                (unsigned long long)got);
        for (unsigned c = 0; c < mpnet_stack_counter_count(n->a); c++) {
                uint64_t va = mpnet_stack_counter(n->a, c);
                uint64_t vb = mpnet_stack_counter(n->b, c);

                if (va != 0 || vb != 0)
                        fprintf(stderr, "  %-20s A %-10llu B %llu\n",
                                mpnet_stack_counter_name(n->a, c), (unsigned long long)va,
                                (unsigned long long)vb);
        }
        exit(1);
}

static int send_one(struct net *n, const struct cfg *c, uint64_t now)
{
        struct mpnet_ping6_req req = {.id = PING_ID, .payload_len = (uint32_t)c->size};

        if (!c->v6)
                return mpnet_ping4_send(n->a, B_ADDR, PING_ID, n->seq++, (uint16_t)c->size, now);
        memcpy(req.dst, b6, 16);
        req.seq = n->seq++;
        return mpnet_ping6_send(n->a, &req, now);
}

/* Collect the replies A has; @return how many, their RTTs added to *rtt. */
static unsigned recv_all(struct net *n, const struct cfg *c, uint64_t *rtt)
{
        struct mpnet_ping_reply rep[WINDOW_MAX];
        struct mpnet_ping6_reply rep6[WINDOW_MAX];
        unsigned k;

        if (!c->v6) {
                k = mpnet_ping4_recv(n->a, rep, WINDOW_MAX);
                for (unsigned i = 0; i < k; i++) {
                        if (rep[i].from != B_ADDR || rep[i].id != PING_ID ||
                            rep[i].payload_len != c->size)
                                bench_die("bench_ping: unexpected reply\n");
                        *rtt += rep[i].rtt_ns;
                }
                return k;
        }
        k = mpnet_ping6_recv(n->a, rep6, WINDOW_MAX);
        for (unsigned i = 0; i < k; i++) {
                if (memcmp(rep6[i].from, b6, 16) != 0 || rep6[i].id != PING_ID ||
                    rep6[i].payload_len != c->size)
                        bench_die("bench_ping: unexpected reply\n");
                *rtt += rep6[i].rtt_ns;
        }
        return k;
}

/* Run count round trips with up to window outstanding; fill res. */
static void run_once(struct net *n, const struct cfg *c, uint64_t count, struct result *res)
{
        uint64_t sent = 0, got = 0, rtt_sum = 0, now, last, t0, t1;

        last = now = mpnet_clock_now(&n->clock);
        t0 = bench_tsc();
        while (got < count) {
                unsigned k;

                for (; sent - got < c->window && sent < count; sent++) {
                        int rc = send_one(n, c, now);

                        if (rc != 0)
                                bench_die("bench_ping: send: %s\n", strerror(-rc));
                }
                now = mpnet_clock_now(&n->clock);
                mpnet_stack_poll(n->a, now);
                mpnet_stack_poll(n->b, now);
                mpnet_stack_poll(n->a, now);
                k = recv_all(n, c, &rtt_sum);
                got += k;
                if (k != 0)
                        last = now;
                else if (now - last > STALL_NS)
                        stall(n, sent, got);
        }
        t1 = bench_tsc();
        res->cycles_per_rt = (double)(t1 - t0) / (double)count;
        res->rtps = (double)count / ((double)(t1 - t0) / bench_tsc_hz());
        res->rtt_ns_mean = (double)rtt_sum / (double)count;
}

static void report(const struct cfg *c, const struct result *res)
{
        double v[3][c->repeat];
        static const char *const names[3] = {"rtps", "cycles_per_rt", "rtt_ns_mean"};
        struct bench_json j;

        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "ping");
        bench_json_str(&j, "family", c->v6 ? "ipv6" : "ipv4");
        bench_json_u64(&j, "window", c->window);
        bench_json_u64(&j, "size", c->size);
        bench_json_u64(&j, "count", c->count);
        bench_json_bool(&j, "pin", c->pin);
        bench_json_num(&j, "tsc_hz", bench_tsc_hz());
        bench_json_machine(&j);
        bench_json_arr_begin(&j, "repeats");
        for (uint64_t i = 0; i < c->repeat; i++) {
                v[0][i] = res[i].rtps;
                v[1][i] = res[i].cycles_per_rt;
                v[2][i] = res[i].rtt_ns_mean;
                bench_json_obj_begin(&j, NULL);
                for (int k = 0; k < 3; k++)
                        bench_json_num(&j, names[k], v[k][i]);
                bench_json_obj_end(&j);
        }
        bench_json_arr_end(&j);
        for (int k = 0; k < 3; k++)
                bench_json_stat(&j, names[k], v[k], c->repeat);
        bench_json_obj_end(&j);
}

int main(int argc, char **argv)
{
        struct cfg c = {.count = 1000000, .window = 1, .repeat = 5, .size = 56}, warm;
        const struct bench_opt opts[] = {
            {"count", BENCH_OPT_U64, &c.count, 1, UINT64_MAX / 2, "round trips per repeat"},
            {"window", BENCH_OPT_U64, &c.window, 1, WINDOW_MAX, "requests outstanding"},
            {"repeat", BENCH_OPT_U64, &c.repeat, 1, 1000, "timed repeats"},
            {"size", BENCH_OPT_U64, &c.size, 8, 1472, "echo payload bytes"},
            {"pin", BENCH_OPT_FLAG, &c.pin, 0, 0, "pin the thread to cpu 0"},
            {"v6", BENCH_OPT_FLAG, &c.v6, 0, 0, "ICMPv6 echo between the IPv6 addresses"},
        };
        struct result *res;
        struct net n;

        bench_parse_args(argc, argv,
                         "ICMP echo round trips between two stacks over a memory wire, one "
                         "thread, monotonic clock.",
                         opts, sizeof(opts) / sizeof(opts[0]));
        if (c.pin)
                bench_pin_self(0);
        mpnet_thread_set_slot(0);
        res = calloc(c.repeat, sizeof(*res));
        if (res == NULL)
                bench_die("bench_ping: out of memory\n");
        net_init(&n);

        fprintf(stderr, "ping%s: tsc %.0f Hz, %llu round trips x %llu repeats, window %llu%s\n",
                c.v6 ? "6" : "", bench_tsc_hz(), (unsigned long long)c.count,
                (unsigned long long)c.repeat, (unsigned long long)c.window,
                c.pin ? ", pinned to cpu 0" : "");
        /* One at a time first, so A resolves B (and B learns A) before a
         * window could overflow the ARP (ND) queue; then warm the caches. */
        warm = c;
        warm.window = 1;
        run_once(&n, &warm, 100, &res[0]);
        run_once(&n, &c, c.count < WARMUP_RTS ? c.count : WARMUP_RTS, &res[0]);
        for (uint64_t i = 0; i < c.repeat; i++) {
                run_once(&n, &c, c.count, &res[i]);
                fprintf(stderr, "  repeat %llu: %.0f round trips/s, %.0f cycles/rt, rtt %.0f ns\n",
                        (unsigned long long)i, res[i].rtps, res[i].cycles_per_rt,
                        res[i].rtt_ns_mean);
        }
        report(&c, res);
        net_fini(&n);
        free(res);
        return 0;
}
