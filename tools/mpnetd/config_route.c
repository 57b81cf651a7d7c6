/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A route line of mpnetd's configuration file, applied without making the
 * message. A saved configuration is mostly `-n STACK route add PREFIX via
 * GW dev NAME` lines (100 stacks of 10,000 routes are a million of them),
 * and encoding each as ROUTE_NEW only to check and decode it again was
 * more than half of a restart's work (issue 17).
 *
 * Only the forms that a save (config.c) and mpnet_ctl_cli_render() write
 * are taken here, spelled in full; for them mpnet_ctl_cli_line() makes
 * exactly the request parsed here, and mpnetd_route_new() applies it as
 * it applies the message. Any other line, and any this parser is not sure
 * of (an abbreviation, "default", a stack that is not there, a number or
 * an address written another way, a word given twice), is not taken: it
 * goes the whole way, so that what it does and its errors are the
 * grammar's own.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "mpnetd/mpnetd.h"

#define WORDS_MAX 64 /* as mpnet_ctl_cli_line() */

static bool blank(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Words as mpnet_ctl_cli_line() splits them (a word that begins with '#'
 * ends the line). @return how many, or -1: more than it takes. */
static int split(char *s, char **w)
{
        int n = 0;

        while (*s != '\0') {
                while (blank(*s))
                        s++;
                if (*s == '\0' || *s == '#')
                        break;
                if (n == WORDS_MAX)
                        return -1;
                w[n++] = s;
                while (*s != '\0' && !blank(*s))
                        s++;
                if (*s != '\0')
                        *s++ = '\0';
        }
        return n;
}

/* Plain decimal (no sign, space or leading zero): read the same by
 * strtoul() in either base and by inet_pton(). */
static bool dec(const char *s, const char *end, uint32_t max, uint32_t *out)
{
        uint64_t v = 0;

        if (s == end || end - s > 10 || (*s == '0' && end - s > 1))
                return false;
        for (; s < end; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        if (v > max)
                return false;
        *out = (uint32_t)v;
        return true;
}

/* A dotted quad as inet_pton(AF_INET) takes it: four decimal numbers up
 * to 255 without a leading zero. */
static bool addr4(const char *s, const char *end, uint8_t a[4])
{
        for (unsigned i = 0; i < 4; i++) {
                const char *p = s;
                unsigned v = 0;

                while (s < end && *s >= '0' && *s <= '9' && s - p < 3)
                        v = v * 10 + (unsigned)(*s++ - '0');
                if (s == p || v > 255 || (*p == '0' && s - p > 1))
                        return false;
                a[i] = (uint8_t)v;
                if (i < 3 && (s == end || *s++ != '.'))
                        return false;
        }
        return s == end;
}

/* IPv4, else IPv6 by inet_pton(): the order in which the grammar tries
 * them. @return 4, 16 or 0. */
static unsigned addr(const char *s, const char *end, uint8_t a[16])
{
        char tmp[INET6_ADDRSTRLEN];

        if (addr4(s, end, a))
                return 4;
        if ((size_t)(end - s) >= sizeof(tmp))
                return 0;
        memcpy(tmp, s, (size_t)(end - s));
        tmp[end - s] = '\0';
        return inet_pton(AF_INET6, tmp, a) == 1 ? 16 : 0;
}

static bool prefix(const char *s, struct mpnetd_route *rq)
{
        const char *slash = strchr(s, '/');
        uint32_t plen;

        if (slash == NULL || (rq->addr_len = (uint8_t)addr(s, slash, rq->dst)) == 0 ||
            !dec(slash + 1, slash + strlen(slash), rq->addr_len * 8u, &plen))
                return false;
        rq->plen = (uint8_t)plen;
        return true;
}

/* One path: via GW and dev NAME, each at most once, in either order.
 * @return the next word's index, or -1. */
static int path(char **w, int i, int n, struct mpnetd_route_path *p)
{
        bool dev = false;

        p->gw_len = 0;
        p->ifname = NULL;
        /* The grammar reads via and dev into one path until another word:
         * a second of either is that path's too, which is not taken here. */
        while (i < n) {
                bool via = strcmp(w[i], "via") == 0;

                if (!via && strcmp(w[i], "dev") != 0)
                        break;
                if (i + 1 == n || (via ? p->gw_len != 0 : dev))
                        return -1;
                if (via) {
                        p->gw_len = (uint8_t)addr(w[i + 1], w[i + 1] + strlen(w[i + 1]), p->gw);
                        if (p->gw_len == 0)
                                return -1;
                } else {
                        if (strlen(w[i + 1]) >= sizeof(((struct dlink *)0)->name))
                                return -1;
                        p->ifname = w[i + 1];
                        dev = true;
                }
                i += 2;
        }
        return p->gw_len != 0 || dev ? i : -1;
}

/* After the prefix: paths (none with a type) and at most one table. */
static bool options(char **w, int i, int n, struct mpnetd_route *rq)
{
        bool table = false;

        while (i < n) {
                if (strcmp(w[i], "table") == 0 && !table && i + 1 < n) {
                        if (!dec(w[i + 1], w[i + 1] + strlen(w[i + 1]), MPNET_TABLE_MAX - 1,
                                 &rq->table))
                                return false;
                        table = true;
                        i += 2;
                        continue;
                }
                if (rq->nhtype != 0xff || rq->n_paths == MPNET_ROUTE_MAX_PATHS)
                        return false;
                if (strcmp(w[i], "nexthop") == 0)
                        i++;
                else if (strcmp(w[i], "via") != 0 && strcmp(w[i], "dev") != 0)
                        return false;
                i = path(w, i, n, &rq->paths[rq->n_paths++]);
                if (i < 0)
                        return false;
        }
        return rq->nhtype != 0xff || rq->n_paths > 0;
}

static bool route_line(char **w, int n, struct mpnetd_route *rq)
{
        static const char *const types[] = {"blackhole", "unreachable", "prohibit"};
        static const uint8_t nh[] = {MPNET_NH_BLACKHOLE, MPNET_NH_UNREACHABLE, MPNET_NH_PROHIBIT};
        int i = 4;

        if (n < 5 || strcmp(w[0], "-n") != 0 || strcmp(w[2], "route") != 0)
                return false;
        rq->replace = strcmp(w[3], "replace") == 0;
        if (!rq->replace && strcmp(w[3], "add") != 0)
                return false;
        rq->nhtype = 0xff;
        rq->table = 0;
        rq->n_paths = 0;
        for (unsigned k = 0; k < sizeof(types) / sizeof(types[0]); k++)
                if (strcmp(w[i], types[k]) == 0) {
                        rq->nhtype = nh[k];
                        i++;
                        break;
                }
        return i < n && prefix(w[i], rq) && options(w, i + 1, n, rq);
}

int mpnetd_config_route(struct mpnetd *d, const char *line, char *why, size_t why_len)
{
        char copy[MPNETD_LINE_MAX], *w[WORDS_MAX];
        struct mpnetd_route rq; /* only what route_line() sets is read */
        struct dstack *st;
        size_t len = strlen(line);
        int n;

        if (len >= sizeof(copy))
                return 1;
        memcpy(copy, line, len + 1);
        n = split(copy, w);
        if (n < 0 || !route_line(w, n, &rq))
                return 1;
        st = mpnetd_stack_find(d, w[1]);
        if (st == NULL)
                return 1;
        return mpnetd_route_new(d, st, &rq, why, why_len);
}
