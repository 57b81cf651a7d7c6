/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetctl: configure and watch mpnetd with ip(8)'s grammar and habits
 * (man/mpnetctl.8). The grammar is the library's (mpnet_ctl_cli_build);
 * this file prints the answers, as text or JSON (-j), and runs batches
 * (-b) and monitor.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mpnet/ctl.h"
#include "mpnet/event.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"

struct opts {
        const char *stack, *sock, *batch;
        uint8_t family;
        bool json, pretty, force;
        unsigned printed; /* JSON objects printed so far */
        const char *batch_name;
};

static struct opts g;

static void usage(FILE *f)
{
        fputs("usage: mpnetctl [-n STACK] [-j [-p]] [-4|-6] [-s SOCKET] OBJECT COMMAND ...\n"
              "       mpnetctl [options] [-force] -b FILE   (one command a line, '-' for stdin;\n"
              "                 the first error stops it, unless -force)\n"
              "OBJECT COMMAND:\n"
              "  stack add|del NAME | stack show [NAME]\n"
              "  link add NAME type mem peer PEER [peer-stack STACK] [queues N] [mtu N]\n"
              "  link add NAME type tap [dev IFNAME] [netns NS] [queues N] [mtu N]\n"
              "  link add NAME type afpacket|afxdp dev IFNAME [netns NS] [queues N] [mode M]\n"
              "  link add NAME type dpdk ports ARGS [queues N]\n"
              "  link del NAME | link set NAME [up|down] [mtu N] [table N] | link show [NAME]\n"
              "  addr add|del ADDR/PLEN dev NAME | addr show [dev NAME]\n"
              "  route add|replace PREFIX {via GW [dev NAME] | dev NAME | nexthop via GW dev NAME"
              " ...} [table N]\n"
              "  route add|replace blackhole|unreachable|prohibit PREFIX [table N]\n"
              "  route del PREFIX [table N] | route get ADDR [table N] | route show [table N]\n"
              "  neigh add ADDR lladdr MAC dev NAME | neigh del ADDR dev NAME\n"
              "  neigh show [dev NAME] | neigh flush [dev NAME]\n"
              "  worker show | worker set dev NAME [queue Q] worker W\n"
              "  stats | node show | ping ADDR [count N] [timeout MS] | save\n"
              "  monitor [link|addr|route|neigh|stack|all]...\n"
              "  capture IFACE [FILTER] -w FILE [-c N]   (FILTER: a tcpdump expression;\n"
              "                 FILE.pcap: pcap, else pcapng; mpnetd writes it)\n"
              "Keywords may be abbreviated (l, a, r, n; ad, del, sh). See mpnetctl(8).\n",
              f);
}

/* ---- text output -------------------------------------------------------- */

static const char *astr(const struct mpnet_ctl_attr *a)
{
        return a != NULL ? mpnet_ctl_attr_str(a) : "";
}

static const char *addr_text(const struct mpnet_ctl_attr *a, char *s, size_t n)
{
        if (a == NULL)
                return "";
        inet_ntop(mpnet_ctl_attr_len(a) == 4 ? AF_INET : AF_INET6, mpnet_ctl_attr_data(a), s,
                  (socklen_t)n);
        return s;
}

static const char *mac_text(const struct mpnet_ctl_attr *a, char *s, size_t n)
{
        const uint8_t *m = a != NULL ? mpnet_ctl_attr_data(a) : (const uint8_t *)"\0\0\0\0\0";

        snprintf(s, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        return s;
}

/* Every COUNTER nest of a block, as "name value" pairs. */
static void counters_text(const uint8_t *p, size_t n, const char *indent)
{
        const struct mpnet_ctl_attr *a;
        size_t off = 0;

        while ((a = mpnet_ctl_attr_next(p, n, &off)) != NULL) {
                const struct mpnet_ctl_attr *cb[MPNET_CTLA__MAX];

                if (mpnet_ctl_attr_type(a) != MPNET_CTLA_COUNTER)
                        continue;
                mpnet_ctl_attrs_index(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), cb);
                printf("%s%-28s %llu\n", indent, astr(cb[MPNET_CTLA_NAME]),
                       (unsigned long long)mpnet_ctl_attr_u64(cb[MPNET_CTLA_VALUE]));
        }
}

static void route_text(const struct mpnet_ctl_view *m, const struct mpnet_ctl_attr *const *tb)
{
        static const char *const types[] = {"",         "", "local ", "blackhole ", "unreachable ",
                                            "prohibit "};
        unsigned t = tb[MPNET_CTLA_NHTYPE] ? mpnet_ctl_attr_u8(tb[MPNET_CTLA_NHTYPE]) : 0;
        const struct mpnet_ctl_attr *a;
        unsigned n_paths = 0;
        size_t off = 0;
        char s[64];

        while ((a = mpnet_ctl_attr_next(m->attrs, m->attrs_len, &off)) != NULL)
                n_paths += mpnet_ctl_attr_type(a) == MPNET_CTLA_PATH;
        printf("%s%s/%u", t < 6 ? types[t] : "", addr_text(tb[MPNET_CTLA_ADDR], s, sizeof(s)),
               tb[MPNET_CTLA_PLEN] ? mpnet_ctl_attr_u8(tb[MPNET_CTLA_PLEN]) : 0);
        off = 0;
        while ((a = mpnet_ctl_attr_next(m->attrs, m->attrs_len, &off)) != NULL) {
                const struct mpnet_ctl_attr *pb[MPNET_CTLA__MAX];

                if (mpnet_ctl_attr_type(a) != MPNET_CTLA_PATH)
                        continue;
                mpnet_ctl_attrs_index(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), pb);
                printf("%s", n_paths > 1 ? "\n\tnexthop" : "");
                if (pb[MPNET_CTLA_GW] != NULL)
                        printf(" via %s", addr_text(pb[MPNET_CTLA_GW], s, sizeof(s)));
                printf(" dev %s", astr(pb[MPNET_CTLA_IFNAME]));
        }
        if (t == MPNET_NH_CONNECTED)
                printf(" scope link");
        if (tb[MPNET_CTLA_TABLE] && mpnet_ctl_attr_u32(tb[MPNET_CTLA_TABLE]) != 0)
                printf(" table %u", mpnet_ctl_attr_u32(tb[MPNET_CTLA_TABLE]));
        printf("\n");
}

/* One NODE_GET part: the totals, or one thread's nodes that ran (THREAD:
 * 0 the control thread, N worker N - 1, as VPP's show runtime numbers
 * them). Clocks are TSC cycles per vector (packet). */
static void node_text(const struct mpnet_ctl_view *m, const struct mpnet_ctl_attr *const *tb)
{
        const struct mpnet_ctl_attr *a;
        size_t off = 0;

        if (tb[MPNET_CTLA_THREAD] == NULL)
                printf("Total:\n");
        else if (tb[MPNET_CTLA_WORKER] == NULL)
                printf("\nThread %u (control):\n", mpnet_ctl_attr_u32(tb[MPNET_CTLA_THREAD]));
        else
                printf("\nThread %u (worker %u):\n", mpnet_ctl_attr_u32(tb[MPNET_CTLA_THREAD]),
                       mpnet_ctl_attr_u32(tb[MPNET_CTLA_WORKER]));
        printf("%-20s %14s %14s %16s %10s %10s\n", "node", "calls", "vectors", "clocks", "vec/call",
               "clk/vec");
        while ((a = mpnet_ctl_attr_next(m->attrs, m->attrs_len, &off)) != NULL) {
                const struct mpnet_ctl_attr *nb[MPNET_CTLA__MAX];
                uint64_t c, p, k;

                if (mpnet_ctl_attr_type(a) != MPNET_CTLA_NODE)
                        continue;
                mpnet_ctl_attrs_index(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), nb);
                c = nb[MPNET_CTLA_CALLS] ? mpnet_ctl_attr_u64(nb[MPNET_CTLA_CALLS]) : 0;
                p = nb[MPNET_CTLA_PKTS] ? mpnet_ctl_attr_u64(nb[MPNET_CTLA_PKTS]) : 0;
                k = nb[MPNET_CTLA_CLOCKS] ? mpnet_ctl_attr_u64(nb[MPNET_CTLA_CLOCKS]) : 0;
                printf("%-20s %14llu %14llu %16llu %10.1f %10.1f\n", astr(nb[MPNET_CTLA_NAME]),
                       (unsigned long long)c, (unsigned long long)p, (unsigned long long)k,
                       c ? (double)p / (double)c : 0.0, p ? (double)k / (double)p : 0.0);
        }
}

static void worker_text(const struct mpnet_ctl_view *m, const struct mpnet_ctl_attr *const *tb)
{
        const struct mpnet_ctl_attr *a;
        size_t off = 0;

        printf("worker %u:\n",
               tb[MPNET_CTLA_WORKER] ? mpnet_ctl_attr_u32(tb[MPNET_CTLA_WORKER]) : 0);
        counters_text(m->attrs, m->attrs_len, "    ");
        while ((a = mpnet_ctl_attr_next(m->attrs, m->attrs_len, &off)) != NULL) {
                const struct mpnet_ctl_attr *pb[MPNET_CTLA__MAX];

                if (mpnet_ctl_attr_type(a) != MPNET_CTLA_PATH)
                        continue;
                mpnet_ctl_attrs_index(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), pb);
                printf("    polls %s/%s queue %u\n", astr(pb[MPNET_CTLA_STACK]),
                       astr(pb[MPNET_CTLA_IFNAME]),
                       pb[MPNET_CTLA_QUEUE] ? mpnet_ctl_attr_u32(pb[MPNET_CTLA_QUEUE]) : 0);
        }
}

static const char *event_text(uint32_t t)
{
        if (t == 100)
                return "stack-add";
        if (t == 101)
                return "stack-del";
        return mpnet_event_name((enum mpnet_event_type)t);
}

static void text(const struct mpnet_ctl_view *m)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];
        char s[64], mac[32];

        mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
        switch (m->h->type) {
        case MPNET_CTL_STACK_NEW:
                printf("%s: %u links\n", astr(tb[MPNET_CTLA_STACK]),
                       tb[MPNET_CTLA_COUNT] ? mpnet_ctl_attr_u32(tb[MPNET_CTLA_COUNT]) : 0);
                break;
        case MPNET_CTL_LINK_NEW: {
                bool up = tb[MPNET_CTLA_UP] && mpnet_ctl_attr_u8(tb[MPNET_CTLA_UP]);
                bool carrier = tb[MPNET_CTLA_CARRIER] && mpnet_ctl_attr_u8(tb[MPNET_CTLA_CARRIER]);

                printf("%u: %s: <%s%s> mtu %u type %s queues %u state %s\n",
                       mpnet_ctl_attr_u32(tb[MPNET_CTLA_IFINDEX]), astr(tb[MPNET_CTLA_IFNAME]),
                       up ? "UP" : "DOWN", carrier ? ",LOWER_UP" : "",
                       mpnet_ctl_attr_u32(tb[MPNET_CTLA_MTU]), astr(tb[MPNET_CTLA_KIND]),
                       mpnet_ctl_attr_u32(tb[MPNET_CTLA_QUEUES]), up && carrier ? "UP" : "DOWN");
                printf("    link/ether %s", mac_text(tb[MPNET_CTLA_MAC], mac, sizeof(mac)));
                if (tb[MPNET_CTLA_PEER] != NULL)
                        printf(" peer %s/%s", astr(tb[MPNET_CTLA_PEER_STACK]),
                               astr(tb[MPNET_CTLA_PEER]));
                if (tb[MPNET_CTLA_DEV] != NULL)
                        printf(" dev %s", astr(tb[MPNET_CTLA_DEV]));
                printf("\n");
                if (tb[MPNET_CTLA_LINKSTATS] != NULL)
                        counters_text(mpnet_ctl_attr_data(tb[MPNET_CTLA_LINKSTATS]),
                                      mpnet_ctl_attr_len(tb[MPNET_CTLA_LINKSTATS]), "    ");
                break;
        }
        case MPNET_CTL_ADDR_NEW:
                printf("%s %s %s/%u\n", astr(tb[MPNET_CTLA_IFNAME]),
                       mpnet_ctl_attr_u8(tb[MPNET_CTLA_FAMILY]) == 6 ? "inet6" : "inet",
                       addr_text(tb[MPNET_CTLA_ADDR], s, sizeof(s)),
                       mpnet_ctl_attr_u8(tb[MPNET_CTLA_PLEN]));
                break;
        case MPNET_CTL_ROUTE_NEW:
                route_text(m, tb);
                break;
        case MPNET_CTL_NEIGH_NEW:
                printf("%s dev %s lladdr %s %s%s\n", addr_text(tb[MPNET_CTLA_ADDR], s, sizeof(s)),
                       astr(tb[MPNET_CTLA_IFNAME]), mac_text(tb[MPNET_CTLA_MAC], mac, sizeof(mac)),
                       mpnet_neigh_state_name(
                           (enum mpnet_neigh_state)mpnet_ctl_attr_u8(tb[MPNET_CTLA_STATE])),
                       tb[MPNET_CTLA_ROUTER] && mpnet_ctl_attr_u8(tb[MPNET_CTLA_ROUTER]) ? " router"
                                                                                         : "");
                break;
        case MPNET_CTL_WORKER_SET:
                worker_text(m, tb);
                break;
        case MPNET_CTL_STATS_GET:
                counters_text(m->attrs, m->attrs_len, "");
                break;
        case MPNET_CTL_NODE_GET:
                node_text(m, tb);
                break;
        case MPNET_CTL_PING:
                printf("%u packets transmitted, %u received, last rtt %.3f ms\n",
                       mpnet_ctl_attr_u32(tb[MPNET_CTLA_SENT]),
                       mpnet_ctl_attr_u32(tb[MPNET_CTLA_RECEIVED]),
                       (double)mpnet_ctl_attr_u64(tb[MPNET_CTLA_RTT_NS]) / 1e6);
                break;
        case MPNET_CTL_EVENT:
                printf("[%s] %s", astr(tb[MPNET_CTLA_STACK]),
                       event_text(mpnet_ctl_attr_u32(tb[MPNET_CTLA_EVTYPE])));
                if (tb[MPNET_CTLA_ADDR] != NULL)
                        printf(" %s", addr_text(tb[MPNET_CTLA_ADDR], s, sizeof(s)));
                if (tb[MPNET_CTLA_PLEN] != NULL)
                        printf("/%u", mpnet_ctl_attr_u8(tb[MPNET_CTLA_PLEN]));
                if (tb[MPNET_CTLA_IFNAME] != NULL)
                        printf(" dev %s", astr(tb[MPNET_CTLA_IFNAME]));
                if (tb[MPNET_CTLA_TABLE] != NULL)
                        printf(" table %u", mpnet_ctl_attr_u32(tb[MPNET_CTLA_TABLE]));
                if (tb[MPNET_CTLA_MAC] != NULL)
                        printf(" lladdr %s", mac_text(tb[MPNET_CTLA_MAC], mac, sizeof(mac)));
                printf("\n");
                break;
        default:
                break;
        }
}

/* ---- JSON output -------------------------------------------------------- */

static void json_str(const char *s)
{
        putchar('"');
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        printf("\\%c", *s);
                else if ((unsigned char)*s < 0x20)
                        printf("\\u%04x", *s);
                else
                        putchar(*s);
        }
        putchar('"');
}

static void json_key(const char *name, bool *first)
{
        printf("%s", *first ? "" : g.pretty ? ",\n  " : ",");
        *first = false;
        putchar('"');
        for (const char *p = name; *p; p++)
                putchar(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        printf("\":");
}

static void json_block(const uint8_t *p, size_t n, unsigned msg_type);

static void json_value(const struct mpnet_ctl_attr *a, unsigned msg_type)
{
        unsigned t = mpnet_ctl_attr_type(a);
        char s[64];

        if (a->type & MPNET_CTLA_F_NESTED) {
                json_block(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), msg_type);
        } else if (t == MPNET_CTLA_ADDR || t == MPNET_CTLA_GW) {
                json_str(addr_text(a, s, sizeof(s)));
        } else if (t == MPNET_CTLA_MAC) {
                json_str(mac_text(a, s, sizeof(s)));
        } else if (t == MPNET_CTLA_STATE) {
                json_str(mpnet_neigh_state_name((enum mpnet_neigh_state)mpnet_ctl_attr_u8(a)));
        } else if (t == MPNET_CTLA_NHTYPE) {
                json_str(mpnet_nh_type_name((enum mpnet_nh_type)mpnet_ctl_attr_u8(a)));
        } else if (t == MPNET_CTLA_EVTYPE) {
                json_str(event_text(mpnet_ctl_attr_u32(a)));
        } else if (t == MPNET_CTLA_UP || t == MPNET_CTLA_CARRIER || t == MPNET_CTLA_ROUTER) {
                printf("%s", mpnet_ctl_attr_u8(a) ? "true" : "false");
        } else if (mpnet_ctl_attr_kind(t) == MPNET_CTLK_U8) {
                printf("%u", mpnet_ctl_attr_u8(a));
        } else if (mpnet_ctl_attr_kind(t) == MPNET_CTLK_U32) {
                printf("%u", mpnet_ctl_attr_u32(a));
        } else if (mpnet_ctl_attr_kind(t) == MPNET_CTLK_U64) {
                printf("%llu", (unsigned long long)mpnet_ctl_attr_u64(a));
        } else {
                json_str(mpnet_ctl_attr_str(a));
        }
}

/* A block as an object; repeated PATH and NODE become arrays "paths",
 * "nodes"; COUNTERs an object "counters" of name: value. */
static void json_block(const uint8_t *p, size_t n, unsigned msg_type)
{
        static const unsigned arrays[] = {MPNET_CTLA_PATH, MPNET_CTLA_NODE};
        static const char *const array_names[] = {"paths", "nodes"};
        const struct mpnet_ctl_attr *a;
        bool first = true, counters = false;
        size_t off = 0;

        putchar('{');
        while ((a = mpnet_ctl_attr_next(p, n, &off)) != NULL) {
                unsigned t = mpnet_ctl_attr_type(a);

                if (t == MPNET_CTLA_PATH || t == MPNET_CTLA_NODE)
                        continue;
                if (t == MPNET_CTLA_COUNTER) {
                        counters = true;
                        continue;
                }
                json_key(mpnet_ctl_attr_name(t), &first);
                json_value(a, msg_type);
        }
        for (unsigned k = 0; k < 2; k++) {
                bool any = false;

                off = 0;
                while ((a = mpnet_ctl_attr_next(p, n, &off)) != NULL) {
                        if (mpnet_ctl_attr_type(a) != arrays[k])
                                continue;
                        if (!any)
                                json_key(array_names[k], &first);
                        printf("%s", any ? "," : "[");
                        any = true;
                        json_value(a, msg_type);
                }
                if (any)
                        putchar(']');
        }
        if (counters) {
                bool cf = true;

                json_key("counters", &first);
                putchar('{');
                off = 0;
                while ((a = mpnet_ctl_attr_next(p, n, &off)) != NULL) {
                        const struct mpnet_ctl_attr *cb[MPNET_CTLA__MAX];

                        if (mpnet_ctl_attr_type(a) != MPNET_CTLA_COUNTER)
                                continue;
                        mpnet_ctl_attrs_index(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), cb);
                        if (cb[MPNET_CTLA_NAME] == NULL || cb[MPNET_CTLA_VALUE] == NULL)
                                continue;
                        printf("%s", cf ? "" : ",");
                        cf = false;
                        json_str(mpnet_ctl_attr_str(cb[MPNET_CTLA_NAME]));
                        printf(":%llu",
                               (unsigned long long)mpnet_ctl_attr_u64(cb[MPNET_CTLA_VALUE]));
                }
                putchar('}');
        }
        putchar('}');
}

static int show(void *arg, const struct mpnet_ctl_view *m)
{
        (void)arg;
        if (m->h->type == MPNET_CTL_ERROR) {
                const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];

                if (m->error == -ECANCELED)
                        return 0; /* after a batch's failed line: not run, not news */

                mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
                if (g.batch_name != NULL)
                        fprintf(stderr, "%s:%u: ", g.batch_name, m->h->seq);
                fprintf(stderr, "mpnetctl: %s\n",
                        tb[MPNET_CTLA_EXT_MSG] ? mpnet_ctl_attr_str(tb[MPNET_CTLA_EXT_MSG])
                                               : strerror(-m->error));
                return 0;
        }
        if (g.json) {
                printf("%s", g.printed++ ? (g.pretty ? ",\n" : ",") : "");
                json_block(m->attrs, m->attrs_len, m->h->type);
                fflush(stdout);
        } else {
                text(m);
        }
        return 0;
}

/* ---- commands ----------------------------------------------------------- */

static int run_one(struct mpnet_ctl *c, int argc, char **argv)
{
        _Alignas(8) static uint8_t mem[MPNET_CTL_DGRAM_MAX];
        struct mpnet_ctl_buf b;
        char why[256];
        int err;

        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        err = mpnet_ctl_cli_build(&b, g.stack, g.family, argc, argv, mpnet_ctl_seq(c),
                                  mpnet_ctl_port(c), why, sizeof(why));
        if (err != 0) {
                fprintf(stderr, "mpnetctl: %s\n", why);
                return 2;
        }
        if (g.json)
                printf("[");
        err = mpnet_ctl_exchange(c, &b, show, NULL, NULL, 0, 30000);
        if (g.json)
                printf("]\n");
        if (err == -ETIMEDOUT || err == -ECONNRESET || err == -EBADMSG)
                fprintf(stderr, "mpnetctl: %s\n", strerror(-err));
        return err == 0 ? 0 : 1;
}

static int batch_send(struct mpnet_ctl *c, struct mpnet_ctl_buf *b)
{
        int err = b->len > 0 ? mpnet_ctl_exchange(c, b, show, NULL, NULL, 0, 60000) : 0;

        b->len = 0;
        return err;
}

/* Many commands to a datagram: as many as fit (ip -batch's speed comes
 * from the same idea). As ip -batch, the first error stops the batch: a
 * line that does not parse after the lines before it ran, a refused
 * command with the ones after it in its datagram not run (F_STOP);
 * -force goes on. Errors name the line (the request's seq). */
static int run_batch(struct mpnet_ctl *c)
{
        _Alignas(8) static uint8_t mem[MPNET_CTL_DGRAM_MAX];
        FILE *f = strcmp(g.batch, "-") == 0 ? stdin : fopen(g.batch, "r");
        struct mpnet_ctl_buf b;
        char line[4096], why[256];
        unsigned lineno = 0;
        int rc = 0;

        if (f == NULL) {
                fprintf(stderr, "mpnetctl: %s: %s\n", g.batch, strerror(errno));
                return 2;
        }
        g.batch_name = g.batch;
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        if (g.json)
                printf("[");
        for (;;) {
                bool eof = fgets(line, sizeof(line), f) == NULL;
                size_t start = b.len;

                if (!eof) {
                        int r;

                        lineno++;
                        r = mpnet_ctl_cli_line(&b, g.stack, line, lineno, mpnet_ctl_port(c), why,
                                               sizeof(why));
                        if (r < 0) {
                                if (batch_send(c, &b) != 0)
                                        rc = 1;
                                if (rc == 0 || g.force)
                                        fprintf(stderr, "%s:%u: mpnetctl: %s\n", g.batch, lineno,
                                                why);
                                rc = rc ? rc : 2;
                                if (!g.force)
                                        break;
                                continue;
                        }
                        if (r == 0 && !g.force)
                                ((struct mpnet_ctl_hdr *)(void *)(b.b + start))->flags |=
                                    MPNET_CTL_F_STOP;
                }
                /* Send when the next command might not fit, and at the end. */
                if (b.len > 0 && (eof || b.cap - b.len < 4096) && batch_send(c, &b) != 0) {
                        rc = 1;
                        if (!g.force)
                                break;
                }
                if (eof)
                        break;
        }
        if (g.json)
                printf("]\n");
        if (f != stdin)
                fclose(f);
        return rc;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static int run_monitor(struct mpnet_ctl *c, int argc, char **argv)
{
        static const char *const names[] = {"link", "address", "route", "neighbor", "stack", "all"};
        static const uint32_t groups[] = {MPNET_CTL_G_LINK,  MPNET_CTL_G_ADDR,  MPNET_CTL_G_ROUTE,
                                          MPNET_CTL_G_NEIGH, MPNET_CTL_G_STACK, MPNET_CTL_G_ALL};
        _Alignas(8) uint8_t mem[256];
        struct mpnet_ctl_buf b;
        uint32_t want = argc == 0 ? MPNET_CTL_G_ALL : 0;
        char why[256];

        for (int i = 0; i < argc; i++) {
                size_t n = strlen(argv[i]);
                int k = -1;

                for (int j = 0; j < 6 && k < 0; j++)
                        if (n > 0 && strncmp(argv[i], names[j], n) == 0)
                                k = j;
                if (k < 0) {
                        fprintf(stderr, "mpnetctl: monitor: link, addr, route, neigh, stack\n");
                        return 2;
                }
                want |= groups[k];
        }
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_SUBSCRIBE, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                            mpnet_ctl_port(c));
        mpnet_ctl_put_u32(&b, MPNET_CTLA_GROUPS, want);
        mpnet_ctl_msg_end(&b);
        if (mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 10000) != 0) {
                fprintf(stderr, "mpnetctl: monitor: %s\n", why);
                return 1;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        setvbuf(stdout, NULL, _IOLBF, 0);
        while (!stop) {
                const uint8_t *d;
                struct mpnet_ctl_view m;
                size_t off = 0;
                long n = mpnet_ctl_recv(c, &d, 200);

                if (n == -ETIMEDOUT || n == -EINTR)
                        continue;
                if (n <= 0)
                        return n == 0 ? 0 : 1;
                while (mpnet_ctl_msg_next(d, (size_t)n, &off, &m, NULL, 0) == 1)
                        if (m.err == 0 && m.h->type == MPNET_CTL_EVENT) {
                                if (g.json) {
                                        json_block(m.attrs, m.attrs_len, m.h->type);
                                        putchar('\n');
                                } else {
                                        text(&m);
                                }
                        }
        }
        return 0;
}

/* A CAPTURE answer: running (FILE, no COUNT), or its end. */
static void capture_text(const struct mpnet_ctl_view *m)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];

        mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
        if (tb[MPNET_CTLA_COUNT] == NULL) {
                fprintf(stderr, "mpnetctl: capturing on %s/%s, writing %s\n",
                        astr(tb[MPNET_CTLA_STACK]), astr(tb[MPNET_CTLA_IFNAME]),
                        astr(tb[MPNET_CTLA_FILE]));
        } else if (g.json) {
                json_block(m->attrs, m->attrs_len, m->h->type);
                putchar('\n');
        } else {
                printf("%u packets captured\n%u packets received by filter\n",
                       mpnet_ctl_attr_u32(tb[MPNET_CTLA_COUNT]),
                       tb[MPNET_CTLA_RECEIVED] ? mpnet_ctl_attr_u32(tb[MPNET_CTLA_RECEIVED]) : 0);
        }
}

/* capture: the request is answered when the capture ends (its count, or
 * ^C: the socket is half-closed, so the daemon ends it and still answers). */
static int run_capture(struct mpnet_ctl *c, int argc, char **argv)
{
        _Alignas(8) uint8_t mem[4096];
        struct mpnet_ctl_buf b;
        uint32_t seq = mpnet_ctl_seq(c);
        bool half = false;
        char why[256];
        int rc = -1;

        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        if (mpnet_ctl_cli_build(&b, g.stack, g.family, argc, argv, seq, mpnet_ctl_port(c), why,
                                sizeof(why)) != 0) {
                fprintf(stderr, "mpnetctl: %s\n", why);
                return 2;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if (send(mpnet_ctl_fd(c), b.b, b.len, MSG_NOSIGNAL) != (ssize_t)b.len) {
                fprintf(stderr, "mpnetctl: capture: %s\n", strerror(errno));
                return 1;
        }
        while (rc < 0) {
                struct mpnet_ctl_view m;
                const uint8_t *d;
                size_t off = 0;
                long n;

                if (stop && !half) {
                        shutdown(mpnet_ctl_fd(c), SHUT_WR);
                        half = true;
                }
                n = mpnet_ctl_recv(c, &d, 200);
                if (n == -ETIMEDOUT || n == -EINTR)
                        continue;
                if (n <= 0) {
                        fprintf(stderr, "mpnetctl: capture: mpnetd went away\n");
                        return 1;
                }
                while (mpnet_ctl_msg_next(d, (size_t)n, &off, &m, NULL, 0) == 1) {
                        if (m.err != 0 || m.h->seq != seq)
                                continue;
                        if (m.h->type == MPNET_CTL_CAPTURE) {
                                capture_text(&m);
                        } else if (m.h->type == MPNET_CTL_ERROR) {
                                if (m.error != 0)
                                        show(NULL, &m);
                                rc = m.error != 0;
                        }
                }
        }
        fflush(stdout);
        return rc;
}

int main(int argc, char **argv)
{
        struct mpnet_ctl *c;
        int i = 1, rc;

        for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
                const char *o = argv[i];

                if ((strcmp(o, "-n") == 0 || strcmp(o, "-netns") == 0) && i + 1 < argc)
                        g.stack = argv[++i];
                else if (strcmp(o, "-s") == 0 && i + 1 < argc)
                        g.sock = argv[++i];
                else if (strcmp(o, "-b") == 0 && i + 1 < argc)
                        g.batch = argv[++i];
                else if (strcmp(o, "-force") == 0)
                        g.force = true;
                else if (strcmp(o, "-j") == 0 || strcmp(o, "-json") == 0)
                        g.json = true;
                else if (strcmp(o, "-p") == 0 || strcmp(o, "-pretty") == 0)
                        g.pretty = true;
                else if (strcmp(o, "-4") == 0)
                        g.family = 4;
                else if (strcmp(o, "-6") == 0)
                        g.family = 6;
                else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0 ||
                         strcmp(o, "-help") == 0) {
                        usage(stdout);
                        return 0;
                } else {
                        fprintf(stderr, "mpnetctl: unknown option %s\n", o);
                        usage(stderr);
                        return 2;
                }
        }
        if (i == argc && g.batch == NULL) {
                usage(stderr);
                return 2;
        }
        if (i < argc && strcmp(argv[i], "help") == 0) {
                usage(stdout);
                return 0;
        }
        c = mpnet_ctl_open(g.sock);
        if (c == NULL) {
                fprintf(stderr, "mpnetctl: cannot reach mpnetd at %s: %s\n",
                        g.sock                    ? g.sock
                        : getenv("MPNETD_SOCKET") ? getenv("MPNETD_SOCKET")
                                                  : MPNET_CTL_SOCK,
                        strerror(errno));
                return 1;
        }
        if (g.batch != NULL)
                rc = run_batch(c);
        else if (strlen(argv[i]) >= 3 && strncmp(argv[i], "monitor", strlen(argv[i])) == 0)
                rc = run_monitor(c, argc - i - 1, argv + i + 1);
        else if (strlen(argv[i]) >= 3 && strncmp(argv[i], "capture", strlen(argv[i])) == 0)
                rc = run_capture(c, argc - i, argv + i);
        else
                rc = run_one(c, argc - i, argv + i);
        mpnet_ctl_close(c);
        return rc;
}
