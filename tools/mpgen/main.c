/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen: the command line. `mpgen rfc2544` runs the suite and writes the
 * report; `mpgen run` offers one stream and prints what came back.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mpgen.h"
#include "mpnet/worker.h"
#include "mpnet/stack.h"
#include "mpnet/wire/ipv4.h"

static const char usage[] =
    "NAME\n"
    "    mpgen - traffic generator and RFC 2544 benchmarker for mpnet\n"
    "\n"
    "SYNOPSIS\n"
    "    mpgen rfc2544 [--quick] [--dut KIND] [--sizes LIST] [--tests LIST]\n"
    "                  [--search binary|mlr] [--resolution PCT] [--out DIR] [OPTIONS]\n"
    "    mpgen run --rate RATE [--size N] [--duration TIME | --count N] [--dut ...]\n"
    "              [--json FILE] [OPTIONS]\n"
    "    mpgen --help\n"
    "\n"
    "DESCRIPTION\n"
    "    mpgen sends Ethernet/IPv4 (or IPv6) UDP (or TCP) test frames through a\n"
    "    device under test and receives them back, from one tester thread that\n"
    "    sends and receives in one loop, counting loss, duplicates and\n"
    "    reordering per flow and timestamping every frame (TSC). Each\n"
    "    frame carries a 12-byte signature: trial tag, flow, sequence number and\n"
    "    transmit time. Frames are evenly paced; counters count what the link\n"
    "    accepted, and a frame the link refuses counts as lost.\n"
    "\n"
    "    rfc2544 runs, for each frame size: a calibration through a plain wire\n"
    "    (a veth pair or a kernel bridge of two TAPs for the external DUTs:\n"
    "    no trial asks the DUT for more than the tester got through it, and a\n"
    "    trial whose offered rate falls more than 1 % short of the intended\n"
    "    rate is invalid, never a result) and the tester's own unpaced rate\n"
    "    through it (its ceiling, printed beside the DUT's throughput; a DUT\n"
    "    result within 10 % of it is marked tester-bound); throughput (RFC 2544 26.1) by binary "
    "search,\n"
    "    or NDR and PDR in one pass (--search mlr); latency at the throughput\n"
    "    rate (26.2); frame loss rate from 100 % of line rate down in 10 %\n"
    "    steps until two trials lose nothing (26.3); back-to-back frames by\n"
    "    burst search (26.4, RFC 9004); system recovery after an overload\n"
    "    (26.5); and, for the smallest size, the DUT's reset (26.6). It prints\n"
    "    a table and writes DIR/report.json (every trial), DIR/throughput.dat,\n"
    "    DIR/throughput.gp and, with gnuplot installed, DIR/throughput.svg.\n"
    "    Trial lengths follow RFC 2544 sections 23-24 by default (a full run\n"
    "    takes hours); --quick shortens every trial for demos and CI.\n"
    "\n"
    "    run offers one stream (or --repeat N) at RATE and prints the result.\n"
    "\n"
    "DEVICES UNDER TEST\n"
    "    builtin   an mpnet router stack between two memory wires (default):\n"
    "              198.18.0.2 -> [198.18.0.1 router 198.19.0.1] -> 198.19.0.2,\n"
    "              routes for 198.18.0.0/16 and 198.19.0.0/16; one thread, or\n"
    "              --workers N workers with RSS over N queues per wire\n"
    "    wire      a plain memory wire: measures mpgen itself\n"
    "    kernel    the Linux kernel routing, same addresses and routes, between\n"
    "              two veth pairs in a network namespace mpgen makes (and\n"
    "              removes); mpgen sends and receives on the other ends through\n"
    "              AF_PACKET (or --link), in a second namespace. Needs root\n"
    "              (CAP_SYS_ADMIN, CAP_NET_ADMIN).\n"
    "    afpacket  the mpnet router on the same veths through AF_PACKET: with\n"
    "              kernel, mpnet and Linux measured by one tool on one topology\n"
    "    afxdp     the mpnet router on the same veths through AF_XDP (native\n"
    "              XDP where the kernel allows it on veth, else generic)\n"
    "    veth      one veth pair, mpgen on both ends: the ceiling of kernel,\n"
    "              afpacket and afxdp (their calibration in rfc2544)\n"
    "    A comma-separated list (rfc2544 only), e.g. kernel,afpacket,afxdp,\n"
    "    runs each in turn with the same options and ends with one table of\n"
    "    them side by side, each beside the tester's ceiling.\n"
    "\n"
    "COMMON OPTIONS\n"
    "    --dut KIND[,KIND]   builtin, wire, kernel, afpacket, afxdp or veth\n"
    "                        (default builtin)\n"
    "    --workers N         builtin router workers, 1-62 (default 1)\n"
    "    --link KIND         mpgen's own links for kernel, afpacket, afxdp, veth:\n"
    "                        afpacket (default) or afxdp (generic mode) on the\n"
    "                        veths, or tap: TAP devices in the DUT's namespace\n"
    "                        (kernel: it routes between them; veth: a kernel\n"
    "                        bridge joins them, the calibration)\n"
    "    --speed BPS         virtual link speed for line-rate arithmetic: 10G,\n"
    "                        1G, 100M ... (default 10G)\n"
    "    --ring N            slots per memory-wire queue, a power of two\n"
    "                        (default 4096): the DUT's receive ring; also\n"
    "                        the ring size of AF_XDP links (at most 16384)\n"
    "    --src A[-B]         source addresses (default 198.18.0.2, or 2001:2::2)\n"
    "    --dst A[-B]         destination addresses (default 198.19.0.2, or\n"
    "                        2001:2:0:1::2); an IPv6 range varies the last 32 bits\n"
    "    --sport P[-Q]       UDP (or TCP) source ports (default 1024)\n"
    "    --dport P[-Q]       destination ports (default 1024)\n"
    "                        flows are every combination of the four ranges\n"
    "                        (at most 65536), sent round-robin\n"
    "    --flow-file FILE    the flows from a file instead: one a line,\n"
    "                        SRC DST [SPORT DPORT] (ports 1024 when left out),\n"
    "                        '#' comments; IPv6 addresses with --ip6\n"
    "    --tcp               TCP segments (ACK|PSH, no options) instead of UDP\n"
    "                        datagrams; the signature needs 70-byte frames\n"
    "                        (90 with --ip6), so 64 is refused\n"
    "    --ip6               IPv6 frames (RFC 5180: 2001:2::2 -> 2001:2:0:1::2);\n"
    "                        the builtin router then routes 2001:2::/64 and\n"
    "                        2001:2:0:1::/64 too; not with kernel or afpacket\n"
    "    --vlan ID           add an 802.1Q tag (wire DUT only)\n"
    "    --pin T,D[,D...]    the thread-to-CPU layout: the tester thread (it\n"
    "                        sends and receives) on CPU T, the DUT's threads\n"
    "                        (the router's polling thread, or its --workers)\n"
    "                        on the CPUs D, in turn; T is not among them.\n"
    "                        --pin none pins nothing. Default: the tester on\n"
    "                        the first CPU mpgen may use, the DUT on the next\n"
    "                        ones (nothing pinned with one CPU). The report\n"
    "                        prints the layout\n"
    "    -q, --quiet         no progress line on stderr\n"
    "    -h, --help          this text\n"
    "\n"
    "RFC2544 OPTIONS\n"
    "    --quick             short trials (0.1 s), 2 % resolution, 5 ms rests\n"
    "    --sizes LIST        frame sizes with FCS (default\n"
    "                        64,128,256,512,1024,1280,1518; 78 replaces 64 for IPv6);\n"
    "                        up to 9018 (jumbo) but with --dut afpacket or afxdp\n"
    "    --tests LIST        of throughput,latency,loss,b2b,recovery,reset\n"
    "                        (default all). recovery: 110 % of the throughput\n"
    "                        rate for 60 s, then half of it; the time from the\n"
    "                        step to the last frame lost (RFC 2544 26.5).\n"
    "                        reset: the DUT is reset 10 s into a stream at the\n"
    "                        throughput rate of the smallest size; the gap in\n"
    "                        the frames received (26.6); not for wire or veth\n"
    "    --search binary|mlr binary: RFC 2544 search (default); mlr: NDR and PDR\n"
    "                        in one pass, short early trials (MLRsearch spirit)\n"
    "    --resolution PCT    search stops at hi - lo <= PCT % of hi (default 0.5)\n"
    "    --pdr PCT           loss the PDR accepts (default 0.5)\n"
    "    --phases N          search phases, 1-4 (default 2: short, then full)\n"
    "    --duration TIME     final throughput trial (default 60s)\n"
    "    --search-duration TIME  first-phase trial (default 10s)\n"
    "    --latency-duration TIME --latency-repeats N   (default 120s, 20)\n"
    "    --loss-duration TIME    frame loss trial (default 60s)\n"
    "    --loss-step PCT         frame loss step (default 10)\n"
    "    --b2b-max N         longest burst tried (default 2 s at line rate)\n"
    "    --b2b-repeats N     independent burst searches (default 50)\n"
    "    --calibration TIME  calibration trial (default 5s)\n"
    "    --settle TIME       wait for residual frames (default 2s, RFC 2544 23 D;\n"
    "                        also for run)\n"
    "    --rest TIME         pause before each trial (default 5s, 23 E)\n"
    "    --retries N         reruns of a trial that came out invalid (default 2);\n"
    "                        one still invalid counts as a failure at its rate\n"
    "    --out DIR           where the report goes (default mpgen-report)\n"
    "    --no-plot           do not run gnuplot\n"
    "\n"
    "RUN OPTIONS\n"
    "    --rate RATE         N[k|M|G] frames/s; N% of line rate; N[k|M|G]bps of\n"
    "                        line bits (preamble and gap included); N[k|M|G]bps-l2\n"
    "                        of frame bits\n"
    "    --size N            frame size with FCS (default 64; up to 9018 as for\n"
    "                        --sizes)\n"
    "    --duration TIME     stream length (default 1s), or --count N frames\n"
    "    --repeat N          streams (default 1)\n"
    "    --json FILE         write the trials as JSON\n"
    "\n"
    "    TIME is seconds, or a number with s, ms or us.\n"
    "\n"
    "EXAMPLES\n"
    "    mpgen rfc2544 --quick --dut builtin\n"
    "    mpgen rfc2544 --dut builtin --sizes 64,1518 --tests throughput --search mlr\n"
    "    mpgen run --dut builtin --rate 50% --size 512 --dst 198.19.1.1-198.19.1.200\n"
    "\n"
    "EXIT STATUS\n"
    "    0 on success (run: no frame lost); 1 on a runtime failure (run: loss);\n"
    "    2 on bad usage.\n";

enum {
        O_DUT = 256,
        O_WORKERS,
        O_LINK,
        O_SPEED,
        O_RING,
        O_SRC,
        O_DST,
        O_SPORT,
        O_DPORT,
        O_IP6,
        O_TCP,
        O_FLOW_FILE,
        O_VLAN,
        O_QUICK,
        O_SIZES,
        O_TESTS,
        O_SEARCH,
        O_RES,
        O_PDR,
        O_PHASES,
        O_DURATION,
        O_SEARCH_DUR,
        O_LAT_DUR,
        O_LAT_REP,
        O_LOSS_DUR,
        O_LOSS_STEP,
        O_B2B_MAX,
        O_B2B_REP,
        O_CALIB,
        O_SETTLE,
        O_REST,
        O_RETRIES,
        O_PIN,
        O_OUT,
        O_NOPLOT,
        O_RATE,
        O_SIZE,
        O_COUNT,
        O_REPEAT,
        O_JSON,
};

static const struct option long_opts[] = {
    {"dut", required_argument, NULL, O_DUT},
    {"workers", required_argument, NULL, O_WORKERS},
    {"link", required_argument, NULL, O_LINK},
    {"speed", required_argument, NULL, O_SPEED},
    {"ring", required_argument, NULL, O_RING},
    {"src", required_argument, NULL, O_SRC},
    {"dst", required_argument, NULL, O_DST},
    {"sport", required_argument, NULL, O_SPORT},
    {"dport", required_argument, NULL, O_DPORT},
    {"ip6", no_argument, NULL, O_IP6},
    {"tcp", no_argument, NULL, O_TCP},
    {"flow-file", required_argument, NULL, O_FLOW_FILE},
    {"vlan", required_argument, NULL, O_VLAN},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"quick", no_argument, NULL, O_QUICK},
    {"sizes", required_argument, NULL, O_SIZES},
    {"tests", required_argument, NULL, O_TESTS},
    {"search", required_argument, NULL, O_SEARCH},
    {"resolution", required_argument, NULL, O_RES},
    {"pdr", required_argument, NULL, O_PDR},
    {"phases", required_argument, NULL, O_PHASES},
    {"duration", required_argument, NULL, O_DURATION},
    {"search-duration", required_argument, NULL, O_SEARCH_DUR},
    {"latency-duration", required_argument, NULL, O_LAT_DUR},
    {"latency-repeats", required_argument, NULL, O_LAT_REP},
    {"loss-duration", required_argument, NULL, O_LOSS_DUR},
    {"loss-step", required_argument, NULL, O_LOSS_STEP},
    {"b2b-max", required_argument, NULL, O_B2B_MAX},
    {"b2b-repeats", required_argument, NULL, O_B2B_REP},
    {"calibration", required_argument, NULL, O_CALIB},
    {"settle", required_argument, NULL, O_SETTLE},
    {"rest", required_argument, NULL, O_REST},
    {"retries", required_argument, NULL, O_RETRIES},
    {"pin", required_argument, NULL, O_PIN},
    {"out", required_argument, NULL, O_OUT},
    {"no-plot", no_argument, NULL, O_NOPLOT},
    {"rate", required_argument, NULL, O_RATE},
    {"size", required_argument, NULL, O_SIZE},
    {"count", required_argument, NULL, O_COUNT},
    {"repeat", required_argument, NULL, O_REPEAT},
    {"json", required_argument, NULL, O_JSON},
    {NULL, 0, NULL, 0},
};

enum rate_unit { R_FPS, R_PCT, R_L1, R_L2 };

struct opts {
        bool rfc2544;
        struct mpg_suite_cfg cfg;
        bool plot;
        bool seen[O_JSON + 1];
        const char *src, *dst, *flow_file;
        enum mpg_dut_kind duts[MPG_DUT_KINDS]; /* --dut's list, in order */
        unsigned n_duts;
        struct mpg_flow_ent *flow_list; /* read from flow_file */
        /* run */
        double rate;
        enum rate_unit rate_unit;
        unsigned size;
        uint64_t duration_ns, count;
        unsigned repeat;
        const char *json;
};

/* Set by SIGINT and SIGTERM; read by every thread (lock-free, so safe in a
 * signal handler). */
static atomic_bool stop_flag;

static void on_sigint(int sig)
{
        (void)sig;
        atomic_store_explicit(&stop_flag, true, memory_order_relaxed);
}

static int bad(const char *opt, const char *val, const char *why)
{
        fprintf(stderr, "mpgen: bad value '%s' for --%s: %s (see mpgen --help)\n", val, opt, why);
        return -1;
}

/* A decimal number with an optional k, M or G multiplier; rest gets the tail. */
static int parse_scaled(const char *s, double *out, const char **rest)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !isfinite(v) || v < 0)
                return -1;
        switch (*end) {
        case 'k':
        case 'K':
                v *= 1e3;
                end++;
                break;
        case 'M':
                v *= 1e6;
                end++;
                break;
        case 'G':
                v *= 1e9;
                end++;
                break;
        default:
                break;
        }
        *out = v;
        *rest = end;
        return 0;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
        char *end;
        unsigned long long v;

        errno = 0;
        if (*s == '-' || *s == '\0')
                return -1;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int parse_time(const char *s, uint64_t *ns)
{
        char *end;
        double v, mul = 1e9;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !isfinite(v) || v <= 0)
                return -1;
        if (strcmp(end, "ms") == 0)
                mul = 1e6;
        else if (strcmp(end, "us") == 0)
                mul = 1e3;
        else if (*end != '\0' && strcmp(end, "s") != 0)
                return -1;
        if (v * mul < 1 || v * mul > 1e15)
                return -1;
        *ns = (uint64_t)(v * mul);
        return 0;
}

static int parse_pct(const char *s, double min, double max, double *out)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || (*end != '\0' && strcmp(end, "%") != 0) || !isfinite(v) ||
            v < min || v > max)
                return -1;
        *out = v / 100;
        return 0;
}

static int parse_rate(struct opts *o, const char *s)
{
        const char *rest;
        double v;

        if (parse_scaled(s, &v, &rest) != 0 || v <= 0)
                return -1;
        if (*rest == '\0' || strcmp(rest, "fps") == 0 || strcmp(rest, "pps") == 0)
                o->rate_unit = R_FPS;
        else if (strcmp(rest, "%") == 0 && v <= 100)
                o->rate_unit = R_PCT;
        else if (strcmp(rest, "bps") == 0)
                o->rate_unit = R_L1;
        else if (strcmp(rest, "bps-l2") == 0)
                o->rate_unit = R_L2;
        else
                return -1;
        o->rate = v;
        return 0;
}

static int parse_port_range(const char *s, uint16_t *base, uint32_t *n)
{
        char buf[32], *dash;
        uint64_t a, b;

        if (strlen(s) >= sizeof(buf))
                return -1;
        strcpy(buf, s);
        dash = strchr(buf, '-');
        if (dash != NULL)
                *dash++ = '\0';
        if (parse_u64(buf, 0, 65535, &a) != 0)
                return -1;
        b = a;
        if (dash != NULL && parse_u64(dash, a, 65535, &b) != 0)
                return -1;
        *base = (uint16_t)a;
        *n = (uint32_t)(b - a + 1);
        return 0;
}

/* A[-B], IPv4 or IPv6 (the range in the last 32 bits). */
static int parse_addr_range(const char *s, bool ip6, uint32_t *v4, uint8_t v6[16], uint32_t *n)
{
        char buf[128], *dash;
        uint8_t a6[16], b6[16];
        uint32_t a, b;

        if (strlen(s) >= sizeof(buf))
                return -1;
        strcpy(buf, s);
        /* IPv6 has no '-'; the first '-' separates the range. */
        dash = strchr(buf, '-');
        if (dash != NULL)
                *dash++ = '\0';
        if (!ip6) {
                if (mpnet_ip4_pton(buf, &a) != 0)
                        return -1;
                b = a;
                if (dash != NULL && (mpnet_ip4_pton(dash, &b) != 0 || b < a))
                        return -1;
                *v4 = a;
                *n = b - a + 1;
                return *n == 0 ? -1 : 0;
        }
        if (inet_pton(AF_INET6, buf, a6) != 1)
                return -1;
        memcpy(b6, a6, 16);
        if (dash != NULL && (inet_pton(AF_INET6, dash, b6) != 1 || memcmp(a6, b6, 12) != 0))
                return -1;
        a = (uint32_t)a6[12] << 24 | (uint32_t)a6[13] << 16 | (uint32_t)a6[14] << 8 | a6[15];
        b = (uint32_t)b6[12] << 24 | (uint32_t)b6[13] << 16 | (uint32_t)b6[14] << 8 | b6[15];
        if (b < a || b - a + 1 == 0)
                return -1;
        memcpy(v6, a6, 16);
        *n = b - a + 1;
        return 0;
}

static int parse_sizes(struct mpg_suite_cfg *c, const char *s)
{
        char buf[256], *tok, *save;

        if (strlen(s) >= sizeof(buf))
                return -1;
        strcpy(buf, s);
        c->n_sizes = 0;
        for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                uint64_t v;

                if (c->n_sizes == MPG_SIZES_MAX || parse_u64(tok, 1, 65535, &v) != 0)
                        return -1;
                c->sizes[c->n_sizes++] = (unsigned)v;
        }
        return c->n_sizes > 0 ? 0 : -1;
}

static int parse_tests(struct mpg_suite_cfg *c, const char *s)
{
        char buf[256], *tok, *save;

        if (strlen(s) >= sizeof(buf))
                return -1;
        strcpy(buf, s);
        c->t_tput = c->t_lat = c->t_flr = c->t_b2b = c->t_rec = c->t_reset = false;
        for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                if (strcmp(tok, "throughput") == 0)
                        c->t_tput = true;
                else if (strcmp(tok, "latency") == 0)
                        c->t_lat = true;
                else if (strcmp(tok, "loss") == 0)
                        c->t_flr = true;
                else if (strcmp(tok, "b2b") == 0)
                        c->t_b2b = true;
                else if (strcmp(tok, "recovery") == 0)
                        c->t_rec = true;
                else if (strcmp(tok, "reset") == 0)
                        c->t_reset = true;
                else
                        return -1;
        }
        return c->t_tput || c->t_lat || c->t_flr || c->t_b2b || c->t_rec || c->t_reset ? 0 : -1;
}

/* A DUT kind or a list of them, each once. */
static int parse_duts(struct opts *o, const char *s)
{
        char buf[128], *tok, *save;

        if (strlen(s) >= sizeof(buf))
                return -1;
        strcpy(buf, s);
        o->n_duts = 0;
        for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                enum mpg_dut_kind k;

                for (k = 0; k < MPG_DUT_KINDS; k++)
                        if (strcmp(tok, mpg_dut_name(k)) == 0)
                                break;
                if (k == MPG_DUT_KINDS || o->n_duts == MPG_DUT_KINDS)
                        return -1;
                for (unsigned i = 0; i < o->n_duts; i++)
                        if (o->duts[i] == k)
                                return -1;
                o->duts[o->n_duts++] = k;
        }
        if (o->n_duts == 0)
                return -1;
        o->cfg.dut = o->duts[0];
        return 0;
}

/* Options that need the rest of the command line (quick sets the defaults). */
static int parse_one(struct opts *o, int c, const char *arg)
{
        struct mpg_suite_cfg *cfg = &o->cfg;
        const char *name = NULL, *rest;
        uint64_t u;
        double d;

        for (const struct option *lo = long_opts; lo->name != NULL; lo++)
                if (lo->val == c)
                        name = lo->name;
        switch (c) {
        case O_DUT:
                if (parse_duts(o, arg) != 0)
                        return bad(name, arg,
                                   "builtin, wire, kernel, afpacket, afxdp or veth, or a list "
                                   "of them, each once");
                break;
        case O_LINK:
                if (strcmp(arg, "afpacket") == 0)
                        cfg->link = MPG_LINK_AFPACKET;
                else if (strcmp(arg, "afxdp") == 0)
                        cfg->link = MPG_LINK_AFXDP;
                else if (strcmp(arg, "tap") == 0)
                        cfg->link = MPG_LINK_TAP;
                else
                        return bad(name, arg, "afpacket, afxdp or tap");
                break;
        case O_WORKERS:
                if (parse_u64(arg, 1, MPNET_MAX_WORKERS - 1, &u) != 0)
                        return bad(name, arg, "a worker count, 1-62");
                cfg->workers = (unsigned)u;
                break;
        case O_SPEED:
                if (parse_scaled(arg, &d, &rest) != 0 ||
                    (*rest != '\0' && strcmp(rest, "bps") != 0) || d < 1e6 || d > 1e13)
                        return bad(name, arg, "bits per second, 1M..10T, e.g. 10G");
                cfg->speed_bps = (uint64_t)d;
                break;
        case O_RING:
                if (parse_u64(arg, 64, 1u << 20, &u) != 0 || (u & (u - 1)) != 0)
                        return bad(name, arg, "a power of two, 64..1048576");
                cfg->ring_size = (uint32_t)u;
                break;
        case O_SRC:
                o->src = arg;
                break;
        case O_DST:
                o->dst = arg;
                break;
        case O_SPORT:
                if (parse_port_range(arg, &cfg->flows.sport, &cfg->flows.n_sport) != 0)
                        return bad(name, arg, "a port or a range P-Q");
                break;
        case O_DPORT:
                if (parse_port_range(arg, &cfg->flows.dport, &cfg->flows.n_dport) != 0)
                        return bad(name, arg, "a port or a range P-Q");
                break;
        case O_IP6:
                break; /* applied before the other options */
        case O_TCP:
                cfg->flows.proto = MPNET_IPPROTO_TCP;
                break;
        case O_FLOW_FILE:
                o->flow_file = arg;
                break;
        case O_VLAN:
                if (parse_u64(arg, 1, 4094, &u) != 0)
                        return bad(name, arg, "a VLAN id 1..4094");
                cfg->flows.vlan = (uint16_t)u;
                break;
        case O_QUICK:
                break; /* applied before the other options */
        case O_SIZES:
                if (parse_sizes(cfg, arg) != 0)
                        return bad(name, arg, "a comma-separated list of frame sizes");
                break;
        case O_TESTS:
                if (parse_tests(cfg, arg) != 0)
                        return bad(name, arg,
                                   "a list of throughput, latency, loss, b2b, recovery, reset");
                break;
        case O_SEARCH:
                if (strcmp(arg, "mlr") == 0)
                        cfg->mlr = true;
                else if (strcmp(arg, "binary") == 0)
                        cfg->mlr = false;
                else
                        return bad(name, arg, "binary or mlr");
                break;
        case O_RES:
                if (parse_pct(arg, 0.001, 50, &cfg->resolution) != 0)
                        return bad(name, arg, "a percentage, 0.001..50");
                break;
        case O_PDR:
                if (parse_pct(arg, 0.0001, 50, &cfg->pdr_loss) != 0)
                        return bad(name, arg, "a percentage, 0.0001..50");
                break;
        case O_PHASES:
                if (parse_u64(arg, 1, MPG_SEARCH_PHASES, &u) != 0)
                        return bad(name, arg, "1..4");
                cfg->phases = (unsigned)u;
                break;
        case O_DURATION:
                if (parse_time(arg, &o->duration_ns) != 0)
                        return bad(name, arg, "a time, e.g. 60, 60s, 500ms");
                cfg->tput_ns = o->duration_ns;
                break;
        case O_SEARCH_DUR:
                if (parse_time(arg, &cfg->search_ns) != 0)
                        return bad(name, arg, "a time, e.g. 10s");
                break;
        case O_LAT_DUR:
                if (parse_time(arg, &cfg->lat_ns) != 0)
                        return bad(name, arg, "a time, e.g. 120s");
                break;
        case O_LAT_REP:
                if (parse_u64(arg, 1, 1000, &u) != 0)
                        return bad(name, arg, "1..1000");
                cfg->lat_repeats = (unsigned)u;
                break;
        case O_LOSS_DUR:
                if (parse_time(arg, &cfg->flr_ns) != 0)
                        return bad(name, arg, "a time, e.g. 60s");
                break;
        case O_LOSS_STEP:
                if (parse_pct(arg, 1, 100, &cfg->flr_step) != 0)
                        return bad(name, arg, "a percentage, 1..100");
                break;
        case O_B2B_MAX:
                if (parse_u64(arg, 1, 1ull << 40, &cfg->b2b_max) != 0)
                        return bad(name, arg, "a frame count");
                break;
        case O_B2B_REP:
                if (parse_u64(arg, 1, 1000, &u) != 0)
                        return bad(name, arg, "1..1000");
                cfg->b2b_repeats = (unsigned)u;
                break;
        case O_CALIB:
                if (parse_time(arg, &cfg->calib_ns) != 0)
                        return bad(name, arg, "a time");
                break;
        case O_SETTLE:
                if (parse_time(arg, &cfg->settle_ns) != 0)
                        return bad(name, arg, "a time");
                break;
        case O_REST:
                if (strcmp(arg, "0") == 0)
                        cfg->rest_ns = 0;
                else if (parse_time(arg, &cfg->rest_ns) != 0)
                        return bad(name, arg, "a time");
                break;
        case O_PIN:
                if (mpg_layout_parse(arg, &cfg->layout) != 0)
                        return bad(name, arg,
                                   "none, or CPU numbers T,D[,D...]: the tester's, then the "
                                   "DUT's (not T)");
                break;
        case O_RETRIES:
                if (parse_u64(arg, 0, 100, &u) != 0)
                        return bad(name, arg, "0..100");
                cfg->retries = (unsigned)u;
                break;
        case O_OUT:
                if (*arg == '\0')
                        return bad(name, arg, "a directory");
                cfg->out_dir = arg;
                break;
        case O_NOPLOT:
                o->plot = false;
                break;
        case O_RATE:
                if (parse_rate(o, arg) != 0)
                        return bad(name, arg, "N[k|M|G] fps, N%, N[k|M|G]bps or N[k|M|G]bps-l2");
                break;
        case O_SIZE:
                if (parse_u64(arg, 1, 65535, &u) != 0)
                        return bad(name, arg, "a frame size");
                o->size = (unsigned)u;
                break;
        case O_COUNT:
                if (parse_u64(arg, 1, 1ull << 40, &o->count) != 0)
                        return bad(name, arg, "a frame count");
                break;
        case O_REPEAT:
                if (parse_u64(arg, 1, 100000, &u) != 0)
                        return bad(name, arg, "1..100000");
                o->repeat = (unsigned)u;
                break;
        case O_JSON:
                o->json = arg;
                break;
        default:
                return -1;
        }
        return 0;
}

static const int rfc_only[] = {O_QUICK,    O_SIZES,     O_TESTS,      O_SEARCH,  O_RES,
                               O_PDR,      O_PHASES,    O_SEARCH_DUR, O_LAT_DUR, O_LAT_REP,
                               O_LOSS_DUR, O_LOSS_STEP, O_B2B_MAX,    O_B2B_REP, O_CALIB,
                               O_OUT,      O_NOPLOT,    O_REST,       O_RETRIES};
static const int run_only[] = {O_RATE, O_SIZE, O_COUNT, O_REPEAT, O_JSON};

static const char *opt_name(int c)
{
        for (const struct option *lo = long_opts; lo->name != NULL; lo++)
                if (lo->val == c)
                        return lo->name;
        return "?";
}

/* What each DUT of the list allows. */
static int check_dut(const struct mpg_suite_cfg *c, enum mpg_dut_kind dut)
{
        bool veths = dut == MPG_DUT_KERNEL || dut == MPG_DUT_AFPACKET || dut == MPG_DUT_AFXDP;

        if (c->flows.ip6 && veths) {
                fprintf(stderr, "mpgen: --ip6 needs --dut builtin, wire or veth: the namespace "
                                "routers are set up for IPv4 only for now\n");
                return -1;
        }
        if (c->flows.vlan && dut != MPG_DUT_WIRE && dut != MPG_DUT_VETH) {
                fprintf(stderr, "mpgen: --vlan needs --dut wire or veth: the routers have no "
                                "VLAN interfaces yet\n");
                return -1;
        }
        if (c->link != MPG_LINK_AFPACKET && !veths && dut != MPG_DUT_VETH) {
                fprintf(stderr,
                        "mpgen: --link applies to --dut kernel, afpacket, afxdp and veth\n");
                return -1;
        }
        if (c->link == MPG_LINK_TAP && (dut == MPG_DUT_AFPACKET || dut == MPG_DUT_AFXDP)) {
                fprintf(stderr,
                        "mpgen: --link tap does not apply to --dut %s (it runs on "
                        "veths)\n",
                        mpg_dut_name(dut));
                return -1;
        }
        if (c->workers > 1 && dut != MPG_DUT_BUILTIN) {
                fprintf(stderr, "mpgen: --workers applies to --dut builtin\n");
                return -1;
        }
        return 0;
}

static int check_combination(struct opts *o)
{
        const struct mpg_suite_cfg *c = &o->cfg;
        const int *other = o->rfc2544 ? run_only : rfc_only;
        size_t n = o->rfc2544 ? sizeof(run_only) / sizeof(*run_only)
                              : sizeof(rfc_only) / sizeof(*rfc_only);

        for (size_t i = 0; i < n; i++)
                if (o->seen[other[i]]) {
                        fprintf(stderr, "mpgen: --%s does not apply to `mpgen %s`\n",
                                opt_name(other[i]), o->rfc2544 ? "rfc2544" : "run");
                        return -1;
                }
        if (!o->rfc2544 && o->n_duts > 1) {
                fprintf(stderr, "mpgen: run takes one --dut; rfc2544 takes a list\n");
                return -1;
        }
        for (unsigned i = 0; i < o->n_duts; i++)
                if (check_dut(c, o->duts[i]) != 0)
                        return -1;
        if (mpg_flows_count(&c->flows) == 0) {
                fprintf(stderr, "mpgen: more than %u flows (the product of the four ranges)\n",
                        MPG_FLOWS_MAX);
                return -1;
        }
        if (!o->rfc2544 && o->rate <= 0) {
                fprintf(stderr, "mpgen: run needs --rate (see mpgen --help)\n");
                return -1;
        }
        if (!o->rfc2544 && o->seen[O_COUNT] && o->seen[O_DURATION]) {
                fprintf(stderr, "mpgen: give --duration or --count, not both\n");
                return -1;
        }
        for (unsigned i = 0; i < (o->rfc2544 ? c->n_sizes : 1) * o->n_duts; i++) {
                unsigned f = o->rfc2544 ? c->sizes[i % c->n_sizes] : o->size;
                enum mpg_dut_kind dut = o->duts[o->rfc2544 ? i / c->n_sizes : i];
                unsigned max = (mpg_dut_jumbo(dut) ? MPG_FRAME_JUMBO : MPG_FRAME_MAX) +
                               (c->flows.vlan ? 4u : 0u);

                if (f > max && f <= MPG_FRAME_JUMBO + 4u && !mpg_dut_jumbo(dut)) {
                        fprintf(stderr,
                                "mpgen: frame size %u: the %s DUT takes at most %u (its "
                                "%s links take one buffer a frame)\n",
                                f, mpg_dut_name(dut), max,
                                dut == MPG_DUT_AFXDP ? "AF_XDP" : "AF_PACKET");
                        return -1;
                }
                if (f < mpg_frame_min(&c->flows) || f > max) {
                        fprintf(stderr, "mpgen: frame size %u out of range %u..%u for IPv%c%s\n", f,
                                mpg_frame_min(&c->flows), max, c->flows.ip6 ? '6' : '4',
                                c->flows.proto == MPNET_IPPROTO_TCP ? " TCP" : "");
                        return -1;
                }
        }
        return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
        bool quick = false, ip6 = false;
        int c;

        memset(o, 0, sizeof(*o));
        if (argc < 2) {
                fprintf(stderr, "mpgen: a command is needed: rfc2544 or run (see mpgen --help)\n");
                return -1;
        }
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
            strcmp(argv[1], "help") == 0) {
                fputs(usage, stdout);
                exit(0);
        }
        if (strcmp(argv[1], "rfc2544") == 0)
                o->rfc2544 = true;
        else if (strcmp(argv[1], "run") != 0) {
                fprintf(stderr, "mpgen: unknown command '%s': rfc2544 or run (see mpgen --help)\n",
                        argv[1]);
                return -1;
        }
        /* Options follow the command: getopt sees argv + 1 with the command as
         * its program name, and optind = 0 starts a fresh scan each time. First
         * pass: --help, --quick and --ip6 set the defaults the rest edit. */
        argc--;
        argv++;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+qh", long_opts, NULL)) != -1) {
                if (c == 'h') {
                        fputs(usage, stdout);
                        exit(0);
                }
                quick |= c == O_QUICK;
                ip6 |= c == O_IP6;
        }
        mpg_suite_defaults(&o->cfg, quick);
        mpg_flows_default(&o->cfg.flows, ip6);
        if (ip6)
                o->cfg.sizes[0] = MPG_FRAME_MIN6; /* RFC 5180 section 5.1.1 */
        o->plot = true;
        o->size = ip6 ? MPG_FRAME_MIN6 : MPG_FRAME_MIN4;
        o->duration_ns = MPNET_NS_PER_S;
        o->repeat = 1;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+:qh", long_opts, NULL)) != -1) {
                if (c == '?' || c == ':') {
                        const char *arg = argv[optind - 1];

                        fprintf(stderr, "mpgen: %s '%s' (see mpgen --help)\n",
                                c == ':' ? "missing value for" : "unknown option", arg);
                        return -1;
                }
                if (c == 'q') {
                        o->cfg.quiet = true;
                        continue;
                }
                if (c > 0 && c <= O_JSON)
                        o->seen[c] = true;
                if (parse_one(o, c, optarg) != 0)
                        return -1;
        }
        if (optind < argc) {
                fprintf(stderr, "mpgen: unexpected argument '%s' (see mpgen --help)\n",
                        argv[optind]);
                return -1;
        }
        if (o->n_duts == 0) {
                o->duts[0] = o->cfg.dut;
                o->n_duts = 1;
        }
        if (o->flow_file != NULL) {
                char err[512];

                if (o->src != NULL || o->dst != NULL || o->seen[O_SPORT] || o->seen[O_DPORT]) {
                        fprintf(stderr, "mpgen: --flow-file replaces --src, --dst, --sport and "
                                        "--dport\n");
                        return -1;
                }
                if (mpg_flows_read(o->flow_file, ip6, &o->flow_list, &o->cfg.flows.n_list, err,
                                   sizeof(err)) != 0) {
                        fprintf(stderr, "mpgen: --flow-file %s\n", err);
                        return -1;
                }
                o->cfg.flows.list = o->flow_list;
        }
        if (o->src != NULL && parse_addr_range(o->src, ip6, &o->cfg.flows.src4, o->cfg.flows.src6,
                                               &o->cfg.flows.n_src) != 0)
                return bad("src", o->src, ip6 ? "an IPv6 address or range" : "an address or range");
        if (o->dst != NULL && parse_addr_range(o->dst, ip6, &o->cfg.flows.dst4, o->cfg.flows.dst6,
                                               &o->cfg.flows.n_dst) != 0)
                return bad("dst", o->dst, ip6 ? "an IPv6 address or range" : "an address or range");
        /* TCP's header leaves no room for the signature in the smallest
         * frame: the default sizes start at the smallest that carries it. */
        if (o->cfg.flows.proto == MPNET_IPPROTO_TCP && !o->seen[O_SIZES] &&
            o->cfg.sizes[0] < mpg_frame_min(&o->cfg.flows))
                o->cfg.sizes[0] = mpg_frame_min(&o->cfg.flows);
        if (o->cfg.flows.proto == MPNET_IPPROTO_TCP && !o->seen[O_SIZE] &&
            o->size < mpg_frame_min(&o->cfg.flows))
                o->size = mpg_frame_min(&o->cfg.flows);
        return check_combination(o);
}

static char *join_args(int argc, char **argv)
{
        size_t n = 1;
        char *s;

        for (int i = 0; i < argc; i++)
                n += strlen(argv[i]) + 1;
        s = calloc(1, n);
        for (int i = 0; s != NULL && i < argc; i++) {
                if (i > 0)
                        strcat(s, " ");
                strcat(s, argv[i]);
        }
        return s;
}

/* One DUT of the list: the suite, its table, JSON and plot in dir. */
static int suite_one(struct opts *o, struct mpg_suite *s, const char *dir, char *cmdline)
{
        char path[4096];
        int err, perr = 0, plot = 0;

        s->cfg.out_dir = dir;
        s->cfg.cmdline = cmdline;
        s->interrupted = &stop_flag;
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "mpgen: %s: %s\n", dir, strerror(errno));
                return 1;
        }
        err = mpg_suite_run(s);
        if (err != 0 && err != -EINTR)
                fprintf(stderr, "mpgen: %s\n", strerror(-err));
        if (err == -EINTR)
                fprintf(stderr, "mpgen: interrupted; reporting what was measured\n");
        mpg_report_table(stdout, s);
        snprintf(path, sizeof(path), "%s/report.json", dir);
        perr = mpg_report_json(s, path);
        if (perr != 0)
                fprintf(stderr, "mpgen: %s: %s\n", path, strerror(-perr));
        else
                printf("report: %s\n", path);
        if (o->plot) {
                plot = mpg_report_plot(s, dir);
                if (plot == 1)
                        printf("plot:   %s/throughput.svg\n", dir);
                else if (plot == 0)
                        printf("plot:   gnuplot not found; run `gnuplot %s/throughput.gp` "
                               "(Debian: gnuplot-nox) to make %s/throughput.svg\n",
                               dir, dir);
                else if (plot == -ENODATA)
                        printf("plot:   none: no throughput was measured\n");
                else
                        fprintf(stderr, "mpgen: plot: %s\n", strerror(-plot));
        }
        if (err == -EINTR)
                return -EINTR;
        return err != 0 || perr != 0 || (plot < 0 && plot != -ENODATA) ? 1 : 0;
}

/* Each DUT of --dut's list in turn, with the same options; with more than
 * one, each report goes to DIR/KIND and a table of all ends the run. */
static int cmd_rfc2544(struct opts *o, char *cmdline)
{
        struct mpg_suite *s[MPG_DUT_KINDS] = {0};
        char dirs[MPG_DUT_KINDS][4096];
        unsigned done = 0;
        int rc = 0;

        if (o->n_duts > 1 && mkdir(o->cfg.out_dir, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "mpgen: %s: %s\n", o->cfg.out_dir, strerror(errno));
                return 1;
        }
        for (unsigned i = 0; i < o->n_duts; i++) {
                int r;

                s[i] = calloc(1, sizeof(*s[i]));
                if (s[i] == NULL) {
                        rc = 1;
                        break;
                }
                s[i]->cfg = o->cfg;
                s[i]->cfg.dut = o->duts[i];
                if (o->n_duts > 1)
                        snprintf(dirs[i], sizeof(dirs[i]), "%s/%s", o->cfg.out_dir,
                                 mpg_dut_name(o->duts[i]));
                else
                        snprintf(dirs[i], sizeof(dirs[i]), "%s", o->cfg.out_dir);
                r = suite_one(o, s[i], dirs[i], cmdline);
                done = i + 1;
                if (r != 0)
                        rc = 1;
                if (r == -EINTR)
                        break;
        }
        if (o->n_duts > 1)
                mpg_report_compare(stdout, s, done);
        for (unsigned i = 0; i < o->n_duts; i++) {
                if (s[i] != NULL)
                        mpg_suite_fini(s[i]);
                free(s[i]);
        }
        return rc;
}

static double run_rate(const struct opts *o, double line, unsigned frame)
{
        switch (o->rate_unit) {
        case R_PCT:
                return line * o->rate / 100;
        case R_L1:
                return o->rate / ((frame + MPG_L1_OVERHEAD) * 8.0);
        case R_L2:
                return o->rate / (frame * 8.0);
        default:
                return o->rate;
        }
}

static void print_trial(const struct mpg_trial *t, double line)
{
        printf("trial %u: %u-byte frames at %.0f fps (%.2f %% of line rate): offered %llu "
               "(%.0f fps), tx %llu, refused %llu\n",
               t->no, t->frame, t->rate, 100 * t->rate / line, (unsigned long long)t->offered,
               t->offered_rate, (unsigned long long)t->tx, (unsigned long long)t->refused);
        printf("  received %llu unique (%.0f fps), lost %lld (%.4f %%), %llu duplicates, %llu "
               "reordered, %llu other frames; %u flows with loss (%.4f..%.4f %%)%s%s\n",
               (unsigned long long)t->unique, t->rx_rate, (long long)t->lost, t->loss_ratio * 100,
               (unsigned long long)t->dup, (unsigned long long)t->reorder,
               (unsigned long long)t->other, t->flows_with_loss, t->flow_loss_min * 100,
               t->flow_loss_max * 100,
               t->valid ? "" : "\n  INVALID: ", t->valid ? "" : t->invalid_reason);
        if (t->lat.count > 0)
                printf("  latency us: min %.2f mean %.2f p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max "
                       "%.2f (PDV %.2f)\n",
                       t->lat.min / 1e3, t->lat.mean / 1e3, t->lat.p50 / 1e3, t->lat.p90 / 1e3,
                       t->lat.p99 / 1e3, t->lat.p999 / 1e3, t->lat.max / 1e3, t->lat.pdv / 1e3);
}

static int cmd_run(struct opts *o)
{
        const struct mpg_suite_cfg *c = &o->cfg;
        struct mpg_dut_cfg dc = {.kind = c->dut,
                                 .speed_bps = c->speed_bps,
                                 .ring_size = c->ring_size,
                                 .mtu = mpg_mtu_for(o->size),
                                 .ip6 = c->flows.ip6,
                                 .link = c->link,
                                 .workers = c->workers,
                                 .layout = &c->layout};
        struct mpnet_clock clk;
        struct mpg_tsc tsc;
        struct mpg_env env = {.clock = &clk,
                              .flows = c->flows,
                              .settle_ns = c->settle_ns,
                              .valid_min = c->valid_min,
                              .layout = &c->layout,
                              .tsc = &tsc,
                              .interrupted = &stop_flag};
        char where[256];
        struct mpg_runner rn;
        struct mpg_dut dut;
        struct mpg_json j;
        FILE *jf = NULL;
        double line, rate;
        int err, rc = 0;

        mpnet_clock_init_monotonic(&clk);
        mpg_tsc_init(&tsc);
        mpg_layout_describe(&c->layout, (int)c->dut, c->workers, where, sizeof(where));
        printf("%s\n", where);
        dc.clock = &clk;
        dc.pool = env.pool = mpnet_pool_create("mpgen", c->pool_size);
        if (dc.pool == NULL) {
                fprintf(stderr, "mpgen: out of memory\n");
                return 1;
        }
        if ((err = mpg_dut_create(&dc, &dut)) != 0) {
                fprintf(stderr, "mpgen: cannot set up the %s DUT: %s\n", mpg_dut_name(c->dut),
                        dut.err);
                mpnet_pool_destroy(dc.pool);
                return 1;
        }
        mpg_dut_path(&dut, &env.path);
        env.path.poll = NULL;
        line = mpg_line_rate(env.path.speed_bps, o->size);
        rate = run_rate(o, line, o->size);
        err = mpg_runner_init(&rn, &env, o->size);
        if (err == 0)
                err = mpg_dut_start(&dut);
        if (err == 0 && o->json != NULL && (jf = fopen(o->json, "w")) == NULL)
                err = -errno;
        if (jf != NULL) {
                mpg_json_init(&j, jf);
                mpg_json_obj(&j, NULL);
                mpg_json_str(&j, "tool", "mpgen run");
                mpg_json_str(&j, "dut", mpg_dut_name(c->dut));
                mpg_json_u64(&j, "link_speed_bps", env.path.speed_bps);
                mpg_json_num(&j, "line_rate_fps", line);
                mpg_json_arr(&j, "trials");
        }
        for (unsigned i = 0; err == 0 && i < o->repeat; i++) {
                struct mpg_trial t = {.kind = MPG_T_RUN, .phase = -1, .rate = rate};

                t.count = o->count ? o->count : (uint64_t)(rate * (double)o->duration_ns / 1e9);
                if (t.count == 0)
                        t.count = 1;
                err = mpg_trial_run(&rn, &t);
                print_trial(&t, line);
                if (jf != NULL)
                        mpg_json_trial(&j, NULL, &t);
                if (t.lost != 0 || !t.valid)
                        rc = 1;
        }
        if (jf != NULL) {
                mpg_json_arr_end(&j);
                mpg_json_obj_end(&j);
                fputc('\n', jf);
                fclose(jf);
        }
        if (err != 0 && err != -EINTR)
                fprintf(stderr, "mpgen: %s\n", strerror(-err));
        mpg_dut_stop(&dut);
        if (dut.stack != NULL) {
                printf("router:");
                for (unsigned k = 0; k < mpnet_stack_counter_count(dut.stack); k++) {
                        uint64_t v = mpnet_stack_counter(dut.stack, k);

                        if (v != 0)
                                printf(" %s=%llu", mpnet_stack_counter_name(dut.stack, k),
                                       (unsigned long long)v);
                }
                printf("\n");
        }
        mpg_runner_fini(&rn);
        mpg_dut_destroy(&dut);
        mpnet_pool_destroy(dc.pool);
        return err != 0 ? 1 : rc;
}

int main(int argc, char **argv)
{
        struct sigaction sa = {.sa_handler = on_sigint};
        struct opts o;
        char *cmdline;
        int rc;

        if (parse_opts(argc, argv, &o) != 0)
                return 2;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        cmdline = join_args(argc, argv);
        rc = o.rfc2544 ? cmd_rfc2544(&o, cmdline) : cmd_run(&o);
        free(cmdline);
        free(o.flow_list);
        return rc;
}
