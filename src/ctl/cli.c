/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetctl's grammar (man/mpnetctl.8), shared by mpnetctl, mpnetd's
 * configuration file and any program that wants to speak it: a command
 * line becomes one request message, and a change request becomes the
 * command line that makes it again (what mpnetd writes to its
 * configuration). Keywords may be abbreviated as ip(8) takes them: any
 * prefix, the first keyword of the list in order that it begins wins
 * ("a" is addr, "r" route, "l" link, "n" neigh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpnet/ctl.h"
#include "mpnet/route.h"

struct cli {
        struct mpnet_ctl_buf *b;
        int argc, i;
        char **argv;
        char *why;
        size_t why_len;
        uint8_t family; /* -4 / -6, or 0 */
};

static int __attribute__((format(printf, 2, 3))) bad(struct cli *c, const char *fmt, ...)
{
        va_list ap;

        if (c->why != NULL && c->why_len > 0) {
                va_start(ap, fmt);
                vsnprintf(c->why, c->why_len, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* ip(8)'s matches(): arg is a non-empty prefix of the keyword. */
static bool matches(const char *arg, const char *kw)
{
        size_t n = strlen(arg);

        return n > 0 && strncmp(arg, kw, n) == 0;
}

/* @return the index in kws (NULL-terminated) of the first keyword arg
 * abbreviates, or -1. */
static int keyword(const char *arg, const char *const *kws)
{
        for (int i = 0; kws[i] != NULL; i++)
                if (matches(arg, kws[i]))
                        return i;
        return -1;
}

static const char *next(struct cli *c)
{
        return c->i < c->argc ? c->argv[c->i++] : NULL;
}

static int need(struct cli *c, const char *what, const char **out)
{
        *out = next(c);
        return *out != NULL ? 0 : bad(c, "%s expected", what);
}

static int u32_arg(struct cli *c, const char *what, uint32_t max, uint32_t *out)
{
        const char *s;
        char *end;
        unsigned long v;

        if (need(c, what, &s) != 0)
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno != 0 || *end != '\0' || end == s || v > max)
                return bad(c, "%s: \"%s\" is not a number up to %u", what, s, max);
        *out = (uint32_t)v;
        return 0;
}

static int name_arg(struct cli *c, const char *what, size_t max, const char **out)
{
        if (need(c, what, out) != 0)
                return -EINVAL;
        if (strlen(*out) >= max || **out == '\0')
                return bad(c, "%s \"%s\": at most %zu characters", what, *out, max - 1);
        return 0;
}

/* An address, with /plen where plen is not NULL ("default" is /0 of the
 * family, IPv4 unless -6). @return 4 or 16, or -EINVAL. */
static int addr_parse(struct cli *c, const char *s, uint8_t a[16], uint8_t *plen)
{
        char tmp[64];
        char *slash;
        int n;

        if (plen != NULL && strcmp(s, "default") == 0) {
                memset(a, 0, 16);
                *plen = 0;
                return c->family == 6 ? 16 : 4;
        }
        if (strlen(s) >= sizeof(tmp))
                return bad(c, "address \"%s\" too long", s);
        strcpy(tmp, s);
        slash = strchr(tmp, '/');
        if (slash != NULL) {
                if (plen == NULL)
                        return bad(c, "\"%s\": an address without a prefix length expected", s);
                *slash++ = '\0';
        }
        if (inet_pton(AF_INET, tmp, a) == 1)
                n = 4;
        else if (inet_pton(AF_INET6, tmp, a) == 1)
                n = 16;
        else
                return bad(c, "\"%s\" is not an IPv4 or IPv6 address", s);
        if (plen != NULL) {
                char *end;
                unsigned long v = slash != NULL ? strtoul(slash, &end, 10) : (unsigned long)n * 8;

                if (slash != NULL && (*end != '\0' || end == slash))
                        return bad(c, "\"%s\": bad prefix length", s);
                if (v > (unsigned long)n * 8)
                        return bad(c, "\"%s\": prefix length past %d", s, n * 8);
                *plen = (uint8_t)v;
        }
        return n;
}

static int put_addr(struct cli *c, uint16_t type, bool with_plen)
{
        uint8_t a[16], plen;
        const char *s;
        int n;

        if (need(c, "an address", &s) != 0)
                return -EINVAL;
        n = addr_parse(c, s, a, with_plen ? &plen : NULL);
        if (n < 0)
                return n;
        mpnet_ctl_put(c->b, type, a, (size_t)n);
        if (with_plen)
                mpnet_ctl_put_u8(c->b, MPNET_CTLA_PLEN, plen);
        return n;
}

static int put_name(struct cli *c, uint16_t type, const char *what, size_t max)
{
        const char *s;

        if (name_arg(c, what, max, &s) != 0)
                return -EINVAL;
        mpnet_ctl_put_str(c->b, type, s);
        return 0;
}

static int put_u32(struct cli *c, uint16_t type, const char *what, uint32_t max)
{
        uint32_t v = 0;

        if (u32_arg(c, what, max, &v) != 0)
                return -EINVAL;
        mpnet_ctl_put_u32(c->b, type, v);
        return 0;
}

static void begin(struct cli *c, uint16_t type, uint16_t flags, uint32_t seq, uint32_t port,
                  const char *stack)
{
        mpnet_ctl_msg_begin(c->b, type, (uint16_t)(flags | MPNET_CTL_F_REQUEST), seq, port);
        if (stack != NULL)
                mpnet_ctl_put_str(c->b, MPNET_CTLA_STACK, stack);
}

static int need_stack(struct cli *c, const char *stack)
{
        return stack != NULL ? 0 : bad(c, "which stack? (-n STACK)");
}

static int end(struct cli *c)
{
        if (c->i < c->argc)
                return bad(c, "unexpected \"%s\"", c->argv[c->i]);
        return mpnet_ctl_msg_end(c->b) == 0 ? 0 : bad(c, "request too large");
}

/* ---- objects ------------------------------------------------------------ */

static int cli_stack(struct cli *c, const char *stack, uint32_t seq, uint32_t port)
{
        static const char *const cmds[] = {"add", "delete", "show", "list", NULL};
        const char *cmd = next(c);
        int k = cmd != NULL ? keyword(cmd, cmds) : 2;

        switch (k) {
        case 0:
        case 1:
                begin(c, k == 0 ? MPNET_CTL_STACK_NEW : MPNET_CTL_STACK_DEL, 0, seq, port, NULL);
                if (put_name(c, MPNET_CTLA_STACK, "a stack name", 32) != 0)
                        return -EINVAL;
                return end(c);
        case 2:
        case 3:
                begin(c, MPNET_CTL_STACK_GET, MPNET_CTL_F_DUMP, seq, port, NULL);
                if (c->i < c->argc && put_name(c, MPNET_CTLA_STACK, "a stack name", 32) != 0)
                        return -EINVAL;
                return end(c);
        default:
                return bad(c, "stack: add, del or show, not \"%s\"", cmd);
        }
}

static int link_type_opts(struct cli *c, const char *kind)
{
        static const char *const opts[] = {"peer", "peer-stack", "dev",   "netns", "queues",
                                           "mtu",  "mode",       "ports", NULL};
        static const uint16_t attr[] = {MPNET_CTLA_PEER,  MPNET_CTLA_PEER_STACK, MPNET_CTLA_DEV,
                                        MPNET_CTLA_NETNS, MPNET_CTLA_QUEUES,     MPNET_CTLA_MTU,
                                        MPNET_CTLA_MODE,  MPNET_CTLA_PORTS};
        static const size_t max[] = {32, 32, 16, 128, 64, 65535, 16, 128};
        bool peer = false;

        while (c->i < c->argc) {
                const char *o = next(c);
                int k = keyword(o, opts);

                if (k < 0)
                        return bad(c, "link add: unknown option \"%s\"", o);
                if (attr[k] == MPNET_CTLA_QUEUES || attr[k] == MPNET_CTLA_MTU) {
                        if (put_u32(c, attr[k], opts[k], (uint32_t)max[k]) != 0)
                                return -EINVAL;
                } else if (put_name(c, attr[k], opts[k], max[k]) != 0) {
                        return -EINVAL;
                }
                peer |= k == 0;
        }
        if (strcmp(kind, "mem") == 0 && !peer)
                return bad(c, "link add type mem: peer NAME expected");
        return 0;
}

static int link_set_opts(struct cli *c)
{
        static const char *const opts[] = {"up", "down", "mtu", "table", NULL};
        bool any = false;

        while (c->i < c->argc) {
                const char *o = next(c);

                switch (keyword(o, opts)) {
                case 0:
                case 1:
                        mpnet_ctl_put_u8(c->b, MPNET_CTLA_UP, matches(o, "up"));
                        break;
                case 2:
                        if (put_u32(c, MPNET_CTLA_MTU, "mtu", 65535) != 0)
                                return -EINVAL;
                        break;
                case 3:
                        if (put_u32(c, MPNET_CTLA_TABLE, "table", MPNET_TABLE_MAX - 1) != 0)
                                return -EINVAL;
                        break;
                default:
                        return bad(c, "link set: up, down, mtu N or table N, not \"%s\"", o);
                }
                any = true;
        }
        return any ? 0 : bad(c, "link set: what to set?");
}

/* "dev NAME" or a bare NAME. */
static int dev_name(struct cli *c)
{
        if (c->i < c->argc && strcmp(c->argv[c->i], "dev") == 0)
                c->i++;
        return put_name(c, MPNET_CTLA_IFNAME, "an interface name", 32);
}

static int cli_link(struct cli *c, const char *stack, uint32_t seq, uint32_t port)
{
        static const char *const cmds[] = {"add", "delete", "set", "show", "list", NULL};
        static const char *const kinds[] = {"mem", "tap", "afpacket", "afxdp", "dpdk", NULL};
        const char *cmd = next(c), *t;
        int k = cmd != NULL ? keyword(cmd, cmds) : 3, kind;

        if (need_stack(c, stack) != 0)
                return -EINVAL;
        switch (k) {
        case 0:
                begin(c, MPNET_CTL_LINK_NEW, 0, seq, port, stack);
                if (put_name(c, MPNET_CTLA_IFNAME, "a link name", 32) != 0)
                        return -EINVAL;
                if (need(c, "type", &t) != 0 || !matches(t, "type") || need(c, "a type", &t) != 0)
                        return bad(c, "link add NAME type mem|tap|afpacket|afxdp|dpdk ...");
                kind = keyword(t, kinds);
                if (kind < 0)
                        return bad(c, "link type \"%s\": mem, tap, afpacket, afxdp or dpdk", t);
                mpnet_ctl_put_str(c->b, MPNET_CTLA_KIND, kinds[kind]);
                if (link_type_opts(c, kinds[kind]) != 0)
                        return -EINVAL;
                return end(c);
        case 1:
                begin(c, MPNET_CTL_LINK_DEL, 0, seq, port, stack);
                if (dev_name(c) != 0)
                        return -EINVAL;
                return end(c);
        case 2:
                begin(c, MPNET_CTL_LINK_SET, 0, seq, port, stack);
                if (dev_name(c) != 0 || link_set_opts(c) != 0)
                        return -EINVAL;
                return end(c);
        case 3:
        case 4:
                begin(c, MPNET_CTL_LINK_GET, MPNET_CTL_F_DUMP, seq, port, stack);
                if (c->i < c->argc && dev_name(c) != 0)
                        return -EINVAL;
                return end(c);
        default:
                return bad(c, "link: add, del, set or show, not \"%s\"", cmd);
        }
}

static int cli_addr(struct cli *c, const char *stack, uint32_t seq, uint32_t port)
{
        static const char *const cmds[] = {"add", "delete", "show", "list", NULL};
        const char *cmd = next(c), *d;
        int k = cmd != NULL ? keyword(cmd, cmds) : 2;

        if (need_stack(c, stack) != 0)
                return -EINVAL;
        if (k == 0 || k == 1) {
                begin(c, k == 0 ? MPNET_CTL_ADDR_NEW : MPNET_CTL_ADDR_DEL, 0, seq, port, stack);
                if (put_addr(c, MPNET_CTLA_ADDR, true) < 0)
                        return -EINVAL;
                if (need(c, "dev", &d) != 0 || strcmp(d, "dev") != 0)
                        return bad(c, "addr %s ADDR/PLEN dev NAME", cmds[k]);
                if (put_name(c, MPNET_CTLA_IFNAME, "an interface name", 32) != 0)
                        return -EINVAL;
                return end(c);
        }
        if (k == 2 || k == 3) {
                begin(c, MPNET_CTL_ADDR_GET, MPNET_CTL_F_DUMP, seq, port, stack);
                if (c->family != 0)
                        mpnet_ctl_put_u8(c->b, MPNET_CTLA_FAMILY, c->family);
                if (c->i < c->argc && dev_name(c) != 0)
                        return -EINVAL;
                return end(c);
        }
        return bad(c, "addr: add, del or show, not \"%s\"", cmd);
}

/* One path: "via GW [dev NAME]" or "dev NAME", inside a PATH nest. */
static int route_path(struct cli *c)
{
        bool any = false;

        mpnet_ctl_nest_begin(c->b, MPNET_CTLA_PATH);
        while (c->i < c->argc) {
                const char *o = c->argv[c->i];

                if (strcmp(o, "via") == 0) {
                        c->i++;
                        if (put_addr(c, MPNET_CTLA_GW, false) < 0)
                                return -EINVAL;
                } else if (strcmp(o, "dev") == 0) {
                        c->i++;
                        if (put_name(c, MPNET_CTLA_IFNAME, "an interface name", 32) != 0)
                                return -EINVAL;
                } else {
                        break;
                }
                any = true;
        }
        mpnet_ctl_nest_end(c->b);
        return any ? 0 : bad(c, "route: via GW or dev NAME expected");
}

static int route_spec(struct cli *c, bool paths)
{
        static const char *const types[] = {"blackhole", "unreachable", "prohibit", NULL};
        static const uint8_t nh[] = {MPNET_NH_BLACKHOLE, MPNET_NH_UNREACHABLE, MPNET_NH_PROHIBIT};
        int t = c->i < c->argc ? keyword(c->argv[c->i], types) : -1;
        unsigned n_paths = 0;

        if (t >= 0 && paths) {
                c->i++;
                mpnet_ctl_put_u8(c->b, MPNET_CTLA_NHTYPE, nh[t]);
        }
        if (put_addr(c, MPNET_CTLA_ADDR, true) < 0)
                return -EINVAL;
        while (c->i < c->argc) {
                const char *o = c->argv[c->i];

                if (strcmp(o, "table") == 0) {
                        c->i++;
                        if (put_u32(c, MPNET_CTLA_TABLE, "table", MPNET_TABLE_MAX - 1) != 0)
                                return -EINVAL;
                } else if (paths && t < 0 && strcmp(o, "nexthop") == 0) {
                        c->i++;
                        if (route_path(c) != 0)
                                return -EINVAL;
                        n_paths++;
                } else if (paths && t < 0 && (strcmp(o, "via") == 0 || strcmp(o, "dev") == 0)) {
                        if (route_path(c) != 0)
                                return -EINVAL;
                        n_paths++;
                } else {
                        return bad(c, "route: unexpected \"%s\"", o);
                }
        }
        if (n_paths > MPNET_ROUTE_MAX_PATHS)
                return bad(c, "route: more than %d next hops", MPNET_ROUTE_MAX_PATHS);
        if (paths && t < 0 && n_paths == 0)
                return bad(c, "route: via GW, dev NAME, nexthop ... or a type expected");
        return 0;
}

static int cli_route(struct cli *c, const char *stack, uint32_t seq, uint32_t port)
{
        static const char *const cmds[] = {"add", "delete", "replace", "get", "show", "list", NULL};
        const char *cmd = next(c);
        int k = cmd != NULL ? keyword(cmd, cmds) : 4;

        if (need_stack(c, stack) != 0)
                return -EINVAL;
        switch (k) {
        case 0:
        case 2:
                begin(c, MPNET_CTL_ROUTE_NEW, k == 2 ? MPNET_CTL_F_REPLACE : 0, seq, port, stack);
                if (route_spec(c, true) != 0)
                        return -EINVAL;
                return end(c);
        case 1:
                begin(c, MPNET_CTL_ROUTE_DEL, 0, seq, port, stack);
                if (route_spec(c, false) != 0)
                        return -EINVAL;
                return end(c);
        case 3:
                begin(c, MPNET_CTL_ROUTE_GET, 0, seq, port, stack);
                if (put_addr(c, MPNET_CTLA_ADDR, false) < 0)
                        return -EINVAL;
                if (c->i + 1 < c->argc && strcmp(c->argv[c->i], "table") == 0) {
                        c->i++;
                        if (put_u32(c, MPNET_CTLA_TABLE, "table", MPNET_TABLE_MAX - 1) != 0)
                                return -EINVAL;
                }
                return end(c);
        case 4:
        case 5:
                begin(c, MPNET_CTL_ROUTE_GET, MPNET_CTL_F_DUMP, seq, port, stack);
                if (c->family != 0)
                        mpnet_ctl_put_u8(c->b, MPNET_CTLA_FAMILY, c->family);
                if (c->i < c->argc && strcmp(c->argv[c->i], "table") == 0) {
                        c->i++;
                        if (put_u32(c, MPNET_CTLA_TABLE, "table", MPNET_TABLE_MAX - 1) != 0)
                                return -EINVAL;
                }
                return end(c);
        default:
                return bad(c, "route: add, del, replace, get or show, not \"%s\"", cmd);
        }
}

static int mac_parse(const char *s, uint8_t mac[6])
{
        unsigned m[6];
        char tail;

        if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                if (m[i] > 0xff)
                        return -EINVAL;
                mac[i] = (uint8_t)m[i];
        }
        return 0;
}

static int cli_neigh(struct cli *c, const char *stack, uint32_t seq, uint32_t port)
{
        static const char *const cmds[] = {"add", "delete", "show", "list", "flush", NULL};
        const char *cmd = next(c), *o;
        int k = cmd != NULL ? keyword(cmd, cmds) : 2;
        uint8_t mac[6];
        bool have_mac = false, have_dev = false;

        if (need_stack(c, stack) != 0)
                return -EINVAL;
        if (k == 2 || k == 3 || k == 4) {
                begin(c, k == 4 ? MPNET_CTL_NEIGH_FLUSH : MPNET_CTL_NEIGH_GET,
                      k == 4 ? 0 : MPNET_CTL_F_DUMP, seq, port, stack);
                if (c->i < c->argc && dev_name(c) != 0)
                        return -EINVAL;
                return end(c);
        }
        if (k != 0 && k != 1)
                return bad(c, "neigh: add, del, show or flush, not \"%s\"", cmd);
        begin(c, k == 0 ? MPNET_CTL_NEIGH_NEW : MPNET_CTL_NEIGH_DEL, 0, seq, port, stack);
        if (put_addr(c, MPNET_CTLA_ADDR, false) < 0)
                return -EINVAL;
        while ((o = next(c)) != NULL) {
                if (strcmp(o, "lladdr") == 0 && k == 0) {
                        if (need(c, "a MAC address", &o) != 0 || mac_parse(o, mac) != 0)
                                return bad(c, "lladdr: \"%s\" is not a MAC address", o ? o : "");
                        mpnet_ctl_put(c->b, MPNET_CTLA_MAC, mac, 6);
                        have_mac = true;
                } else if (strcmp(o, "dev") == 0) {
                        if (put_name(c, MPNET_CTLA_IFNAME, "an interface name", 32) != 0)
                                return -EINVAL;
                        have_dev = true;
                } else if (strcmp(o, "nud") == 0 && k == 0) {
                        if (need(c, "a state", &o) != 0 || !matches(o, "permanent"))
                                return bad(c, "nud: only permanent entries are added");
                } else {
                        return bad(c, "neigh: unexpected \"%s\"", o);
                }
        }
        if (!have_dev || (k == 0 && !have_mac))
                return bad(c, "neigh %s ADDR%s dev NAME", cmds[k], k == 0 ? " lladdr MAC" : "");
        return end(c);
}

static int cli_worker(struct cli *c, uint32_t seq, uint32_t port, const char *stack)
{
        static const char *const cmds[] = {"show", "list", "set", NULL};
        const char *cmd = next(c), *o;
        int k = cmd != NULL ? keyword(cmd, cmds) : 0;
        bool dev = false, q = false, w = false;

        if (k == 0 || k == 1) {
                begin(c, MPNET_CTL_WORKER_GET, MPNET_CTL_F_DUMP, seq, port, NULL);
                return end(c);
        }
        if (k != 2)
                return bad(c, "worker: show or set, not \"%s\"", cmd);
        if (need_stack(c, stack) != 0)
                return -EINVAL;
        begin(c, MPNET_CTL_WORKER_SET, 0, seq, port, stack);
        while ((o = next(c)) != NULL) {
                if (strcmp(o, "dev") == 0 && !dev) {
                        dev = put_name(c, MPNET_CTLA_IFNAME, "an interface name", 32) == 0;
                        if (!dev)
                                return -EINVAL;
                } else if (matches(o, "queue") && !q) {
                        q = put_u32(c, MPNET_CTLA_QUEUE, "queue", 65535) == 0;
                        if (!q)
                                return -EINVAL;
                } else if (matches(o, "worker") && !w) {
                        w = put_u32(c, MPNET_CTLA_WORKER, "worker", 1000) == 0;
                        if (!w)
                                return -EINVAL;
                } else {
                        return bad(c, "worker set: unexpected \"%s\"", o);
                }
        }
        if (!dev || !w)
                return bad(c, "worker set dev NAME [queue Q] worker W");
        if (!q)
                mpnet_ctl_put_u32(c->b, MPNET_CTLA_QUEUE, 0);
        return end(c);
}

static int cli_ping(struct cli *c, const char *stack, uint32_t seq, uint32_t port)
{
        const char *o;

        if (need_stack(c, stack) != 0)
                return -EINVAL;
        begin(c, MPNET_CTL_PING, 0, seq, port, stack);
        if (put_addr(c, MPNET_CTLA_ADDR, false) < 0)
                return -EINVAL;
        while ((o = next(c)) != NULL) {
                if (strcmp(o, "-c") == 0 || matches(o, "count")) {
                        if (put_u32(c, MPNET_CTLA_COUNT, "count", 1000) != 0)
                                return -EINVAL;
                } else if (strcmp(o, "-W") == 0 || matches(o, "timeout")) {
                        if (put_u32(c, MPNET_CTLA_TIMEOUT_MS, "timeout (ms)", 60000) != 0)
                                return -EINVAL;
                } else {
                        return bad(c, "ping: unexpected \"%s\"", o);
                }
        }
        return end(c);
}

/* "-w FILE": the daemon writes it, so a relative path is made absolute
 * here, against the caller's working directory. */
static int put_file(struct cli *c)
{
        char cwd[4096], path[4096];
        const char *f;

        if (need(c, "-w FILE", &f) != 0)
                return -EINVAL;
        if (f[0] != '/') {
                if (getcwd(cwd, sizeof(cwd)) == NULL)
                        return bad(c, "-w %s: no working directory", f);
                if ((size_t)snprintf(path, sizeof(path), "%s/%s", cwd, f) >= sizeof(path))
                        return bad(c, "-w %s: path too long", f);
                f = path;
        }
        if (strlen(f) >= 256)
                return bad(c, "-w %s: at most 255 characters", f);
        mpnet_ctl_put_str(c->b, MPNET_CTLA_FILE, f);
        return 0;
}

/* capture IFACE [FILTER ...] -w FILE [-c N]: the words that are not
 * options make the filter expression, as tcpdump's. */
static int cli_capture(struct cli *c, const char *stack, uint32_t seq, uint32_t port)
{
        char expr[1024] = "";
        size_t n = 0;
        bool file = false;
        const char *o;

        if (need_stack(c, stack) != 0)
                return -EINVAL;
        begin(c, MPNET_CTL_CAPTURE, 0, seq, port, stack);
        if (dev_name(c) != 0)
                return -EINVAL;
        while ((o = next(c)) != NULL) {
                if (strcmp(o, "-w") == 0) {
                        if (put_file(c) != 0)
                                return -EINVAL;
                        file = true;
                } else if (strcmp(o, "-c") == 0) {
                        if (put_u32(c, MPNET_CTLA_COUNT, "-c N", UINT32_MAX) != 0)
                                return -EINVAL;
                } else {
                        int k = snprintf(expr + n, sizeof(expr) - n, "%s%s", n ? " " : "", o);

                        if (k < 0 || (size_t)k >= sizeof(expr) - n)
                                return bad(c, "capture: filter longer than %zu", sizeof(expr) - 1);
                        n += (size_t)k;
                }
        }
        if (!file)
                return bad(c, "capture IFACE [FILTER] -w FILE [-c N]");
        if (n > 0)
                mpnet_ctl_put_str(c->b, MPNET_CTLA_FILTER, expr);
        return end(c);
}

static int cli_simple(struct cli *c, uint16_t type, uint32_t seq, uint32_t port, const char *stack,
                      bool stack_needed)
{
        if (stack_needed && need_stack(c, stack) != 0)
                return -EINVAL;
        begin(c, type, 0, seq, port, stack);
        if (type == MPNET_CTL_NODE_GET && c->i < c->argc && matches(c->argv[c->i], "show"))
                c->i++;
        return end(c);
}

int mpnet_ctl_cli_build(struct mpnet_ctl_buf *b, const char *stack, uint8_t family, int argc,
                        char **argv, uint32_t seq, uint32_t port, char *why, size_t why_len)
{
        static const char *const objs[] = {"link",  "addr",    "route", "neighbor", "neighbour",
                                           "stack", "worker",  "stats", "node",     "save",
                                           "ping",  "capture", NULL};
        struct cli c = {
            .b = b, .argc = argc, .argv = argv, .why = why, .why_len = why_len, .family = family};
        size_t start = b->len;
        const char *obj = next(&c);
        int k = obj != NULL ? keyword(obj, objs) : -1, r;

        switch (k) {
        case 0:
                r = cli_link(&c, stack, seq, port);
                break;
        case 1:
                r = cli_addr(&c, stack, seq, port);
                break;
        case 2:
                r = cli_route(&c, stack, seq, port);
                break;
        case 3:
        case 4:
                r = cli_neigh(&c, stack, seq, port);
                break;
        case 5:
                r = cli_stack(&c, stack, seq, port);
                break;
        case 6:
                r = cli_worker(&c, seq, port, stack);
                break;
        case 7:
                r = cli_simple(&c, MPNET_CTL_STATS_GET, seq, port, stack, true);
                break;
        case 8:
                r = cli_simple(&c, MPNET_CTL_NODE_GET, seq, port, stack, true);
                break;
        case 9:
                r = cli_simple(&c, MPNET_CTL_SAVE, seq, port, NULL, false);
                break;
        case 10:
                r = cli_ping(&c, stack, seq, port);
                break;
        case 11:
                r = cli_capture(&c, stack, seq, port);
                break;
        default:
                r = bad(&c,
                        "unknown object \"%s\": link, addr, route, neigh, stack, worker, "
                        "stats, node, save, ping, capture, monitor",
                        obj ? obj : "");
        }
        if (r != 0) {
                /* Leave the datagram as it was before this command. */
                b->len = start;
                b->err = 0;
                b->depth = 0;
        }
        return r;
}

static bool is_blank(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int mpnet_ctl_cli_line(struct mpnet_ctl_buf *b, const char *stack, char *line, uint32_t seq,
                       uint32_t port, char *why, size_t why_len)
{
        char *argv[64];
        int argc = 0;
        uint8_t family = 0;

        /* Not strtok(): a library function must not hold hidden state (two
         * threads, or a caller's own strtok() loop), and a plain scan is
         * what a replayed configuration of a million lines can afford. */
        for (char *s = line; *s != '\0';) {
                while (is_blank(*s))
                        s++;
                if (*s == '\0' || *s == '#')
                        break;
                if (argc == 64) {
                        snprintf(why, why_len, "more than 64 words");
                        return -EINVAL;
                }
                argv[argc++] = s;
                while (*s != '\0' && !is_blank(*s))
                        s++;
                if (*s != '\0')
                        *s++ = '\0';
        }
        /* Leading options as mpnetctl takes them: -n STACK, -4, -6. */
        int i = 0;

        for (; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
                        stack = argv[++i];
                else if (strcmp(argv[i], "-4") == 0)
                        family = 4;
                else if (strcmp(argv[i], "-6") == 0)
                        family = 6;
                else {
                        snprintf(why, why_len, "unknown option \"%s\"", argv[i]);
                        return -EINVAL;
                }
        }
        if (i == argc)
                return 1; /* an empty line or a comment */
        return mpnet_ctl_cli_build(b, stack, family, argc - i, argv + i, seq, port, why, why_len);
}
