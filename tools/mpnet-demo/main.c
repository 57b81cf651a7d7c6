/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnet-demo: two mpnet stacks in this process, joined by a memory wire,
 * ping each other the way ping(8) would, then print their counters.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/link.h"
#include "mpnet/stack.h"
#include "mpnet/wire/ipv4.h"

static const char usage[] =
    "NAME\n"
    "    mpnet-demo - two in-process mpnet stacks ping each other over a memory wire\n"
    "\n"
    "SYNOPSIS\n"
    "    mpnet-demo [-c COUNT] [-s SIZE] [-i MS] [--loss PCT] [--seed N]\n"
    "               [--capture FILE] [--virtual] [-q]\n"
    "\n"
    "DESCRIPTION\n"
    "    Stack A (192.0.2.1/24) and stack B (192.0.2.2/24) are joined by a mem\n"
    "    wire. A resolves B with ARP and sends COUNT ICMP echo requests; the\n"
    "    replies are printed as ping(8) prints them, then the statistics and\n"
    "    every non-zero counter of both stacks.\n"
    "\n"
    "OPTIONS\n"
    "    -c, --count COUNT   echo requests to send (default 10)\n"
    "    -s, --size SIZE     bytes of echo data, 8..1472 (default 56)\n"
    "    -i, --interval MS   milliseconds between requests (default 100)\n"
    "    --loss PCT          drop PCT % of frames each way (seeded fault link)\n"
    "    --seed N            seed of the fault link (default 1)\n"
    "    --capture FILE      write A's side of the wire to FILE (pcapng)\n"
    "    --virtual           run on a virtual clock: instant and deterministic\n"
    "    -q, --quiet         print only the summary\n"
    "    -h, --help          this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0 when every request was answered, 1 when some were lost, 2 on bad usage.\n";

struct opts {
        unsigned count, size, interval_ms, loss_pct;
        unsigned long seed;
        const char *capture;
        int virtual_clock, quiet;
};

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
        char *end;

        errno = 0;
        *out = strtoul(s, &end, 10);
        if (errno != 0 || *s == '\0' || *end != '\0' || *s == '-' || *out > max)
                return -1;
        return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
        static const struct option lo[] = {
            {"count", required_argument, NULL, 'c'},    {"size", required_argument, NULL, 's'},
            {"interval", required_argument, NULL, 'i'}, {"loss", required_argument, NULL, 'L'},
            {"seed", required_argument, NULL, 'S'},     {"capture", required_argument, NULL, 'w'},
            {"virtual", no_argument, NULL, 'v'},        {"quiet", no_argument, NULL, 'q'},
            {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
        };
        unsigned long v;
        int c;

        *o = (struct opts){.count = 10, .size = 56, .interval_ms = 100, .seed = 1};
        while ((c = getopt_long(argc, argv, "c:s:i:qh", lo, NULL)) != -1) {
                switch (c) {
                case 'c':
                        if (parse_uint(optarg, 65535, &v) || v == 0)
                                goto bad;
                        o->count = (unsigned)v;
                        break;
                case 's':
                        if (parse_uint(optarg, 1472, &v) || v < 8)
                                goto bad;
                        o->size = (unsigned)v;
                        break;
                case 'i':
                        if (parse_uint(optarg, 60000, &v))
                                goto bad;
                        o->interval_ms = (unsigned)v;
                        break;
                case 'L':
                        if (parse_uint(optarg, 100, &v))
                                goto bad;
                        o->loss_pct = (unsigned)v;
                        break;
                case 'S':
                        if (parse_uint(optarg, ~0ul, &v))
                                goto bad;
                        o->seed = v;
                        break;
                case 'w':
                        o->capture = optarg;
                        break;
                case 'v':
                        o->virtual_clock = 1;
                        break;
                case 'q':
                        o->quiet = 1;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        exit(0);
                default:
                        fprintf(stderr, "mpnet-demo: try --help\n");
                        return -1;
                }
        }
        if (optind == argc)
                return 0;
        fprintf(stderr, "mpnet-demo: unexpected argument '%s'\n", argv[optind]);
        return -1;
bad:
        fprintf(stderr, "mpnet-demo: bad value '%s' for -%c (see --help)\n", optarg, c);
        return -1;
}

static void print_counters(const char *name, struct mpnet_stack *s)
{
        printf("%s counters:", name);
        for (unsigned c = 0; c < mpnet_stack_counter_count(s); c++) {
                uint64_t v = mpnet_stack_counter(s, c);

                if (v != 0)
                        printf(" %s=%llu", mpnet_stack_counter_name(s, c), (unsigned long long)v);
        }
        printf("\n");
}

static struct mpnet_link *wrap_fault(struct mpnet_link *l, const struct opts *o, uint64_t seed,
                                     struct mpnet_clock *clk, struct mpnet_pool *pool)
{
        struct mpnet_fault_cfg fc = {.seed = seed, .loss_ppm = o->loss_pct * 10000u};

        return o->loss_pct ? mpnet_fault_create(l, &fc, clk, pool) : l;
}

int main(int argc, char **argv)
{
        const uint32_t a_addr = 0xc0000201, b_addr = 0xc0000202;
        struct mpnet_memwire_cfg wc = {.name = "demo"};
        struct mpnet_stack_cfg sc = {.seed = 1};
        struct mpnet_link *la, *lb;
        struct mpnet_stack *st[2];
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct opts o;
        unsigned received = 0;
        uint64_t rtt_min = UINT64_MAX, rtt_max = 0, rtt_sum = 0, start, next_send;
        char bstr[16];

        if (parse_opts(argc, argv, &o) != 0)
                return 2;
        if (o.virtual_clock)
                mpnet_clock_init_virtual(&clk, MPNET_NS_PER_S);
        else
                mpnet_clock_init_monotonic(&clk);
        pool = mpnet_pool_create("demo", 4096);
        if (pool == NULL || mpnet_memwire_create(&wc, &la, &lb) != 0) {
                fprintf(stderr, "mpnet-demo: out of memory\n");
                return 1;
        }
        la = wrap_fault(la, &o, o.seed, &clk, pool);
        lb = wrap_fault(lb, &o, o.seed + 1, &clk, pool);
        if (o.capture != NULL) {
                la = mpnet_capture_create(la, o.capture, MPNET_CAPTURE_PCAPNG, &clk);
                if (la == NULL) {
                        fprintf(stderr, "mpnet-demo: %s: %s\n", o.capture, strerror(errno));
                        return 1;
                }
        }
        sc.clock = &clk;
        sc.pool = pool;
        sc.name = "A";
        st[0] = mpnet_stack_create(&sc);
        sc.name = "B";
        st[1] = mpnet_stack_create(&sc);
        mpnet_iface_attach(st[0], la, "a0");
        mpnet_iface_attach(st[1], lb, "b0");
        mpnet_addr4_add(st[0], 1, a_addr, 24);
        mpnet_addr4_add(st[1], 1, b_addr, 24);
        mpnet_ip4_ntop(b_addr, bstr, sizeof(bstr));
        printf("PING %s from 192.0.2.1 over an mpnet memory wire: %u data bytes\n", bstr, o.size);

        start = next_send = mpnet_clock_now(&clk);
        for (unsigned sent = 0;;) {
                uint64_t now = mpnet_clock_now(&clk), deadline = MPNET_TIME_NEVER, t;
                struct mpnet_ping_reply r[16];
                unsigned k;

                if (sent < o.count && now >= next_send) {
                        int err = mpnet_ping4_send(st[0], b_addr, 1, (uint16_t)(sent + 1),
                                                   (uint16_t)o.size, now);

                        if (err != 0 && !o.quiet)
                                printf("send icmp_seq=%u: %s\n", sent + 1, strerror(-err));
                        sent++;
                        next_send = now + o.interval_ms * MPNET_NS_PER_MS;
                }
                for (int i = 0; i < 2; i++) {
                        t = mpnet_stack_poll(st[i], now);
                        deadline = t < deadline ? t : deadline;
                }
                k = mpnet_ping4_recv(st[0], r, 16);
                for (unsigned i = 0; i < k; i++) {
                        received++;
                        rtt_sum += r[i].rtt_ns;
                        rtt_min = r[i].rtt_ns < rtt_min ? r[i].rtt_ns : rtt_min;
                        rtt_max = r[i].rtt_ns > rtt_max ? r[i].rtt_ns : rtt_max;
                        if (!o.quiet)
                                printf("%u bytes from %s: icmp_seq=%u ttl=%u time=%.3f us\n",
                                       r[i].payload_len + 8u, bstr, r[i].seq, r[i].ttl,
                                       r[i].rtt_ns / 1e3);
                }
                /* After the last request, wait one second for stragglers. */
                if (sent == o.count && (received == o.count || now >= next_send + MPNET_NS_PER_S))
                        break;
                if (o.virtual_clock && k == 0) {
                        uint64_t until = sent < o.count ? next_send : next_send + MPNET_NS_PER_S;

                        mpnet_clock_set(&clk, deadline < until ? deadline : until);
                }
        }
        printf("--- %s ping statistics ---\n", bstr);
        printf("%u packets transmitted, %u received, %.1f%% packet loss, time %.1f ms\n", o.count,
               received, 100.0 * (o.count - received) / o.count,
               (mpnet_clock_now(&clk) - start) / 1e6);
        if (received > 0)
                printf("rtt min/avg/max = %.3f/%.3f/%.3f us\n", rtt_min / 1e3,
                       rtt_sum / 1e3 / received, rtt_max / 1e3);
        print_counters("A", st[0]);
        print_counters("B", st[1]);
        mpnet_stack_destroy(st[0]);
        mpnet_stack_destroy(st[1]);
        mpnet_link_destroy(la);
        mpnet_link_destroy(lb);
        mpnet_pool_destroy(pool);
        if (o.capture != NULL)
                printf("capture written to %s\n", o.capture);
        return received == o.count ? 0 : 1;
}
