/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A change request written back as the mpnetctl command that makes it
 * (src/ctl/cli.c reads it again): what mpnetd keeps in its configuration
 * file, so the file stays something a person can read and edit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mpnet/ctl.h"
#include "mpnet/route.h"

struct out {
        char *p;
        size_t n, len;
        bool full;
};

static void __attribute__((format(printf, 2, 3))) emit(struct out *o, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (o->full)
                return;
        va_start(ap, fmt);
        k = vsnprintf(o->p + o->len, o->n - o->len, fmt, ap);
        va_end(ap);
        if (k < 0 || (size_t)k >= o->n - o->len)
                o->full = true;
        else
                o->len += (size_t)k;
}

static void emit_addr(struct out *o, const char *pre, const struct mpnet_ctl_attr *a)
{
        char s[INET6_ADDRSTRLEN];

        inet_ntop(mpnet_ctl_attr_len(a) == 4 ? AF_INET : AF_INET6, mpnet_ctl_attr_data(a), s,
                  sizeof(s));
        emit(o, "%s%s", pre, s);
}

static void emit_str(struct out *o, const char *pre, const struct mpnet_ctl_attr *a)
{
        if (a != NULL)
                emit(o, "%s%s", pre, mpnet_ctl_attr_str(a));
}

static void emit_u32(struct out *o, const char *pre, const struct mpnet_ctl_attr *a)
{
        if (a != NULL)
                emit(o, "%s%u", pre, mpnet_ctl_attr_u32(a));
}

static void emit_prefix(struct out *o, const struct mpnet_ctl_attr *const *tb)
{
        emit_addr(o, " ", tb[MPNET_CTLA_ADDR]);
        emit(o, "/%u", mpnet_ctl_attr_u8(tb[MPNET_CTLA_PLEN]));
}

static void render_link_new(struct out *o, const struct mpnet_ctl_attr *const *tb)
{
        emit(o, "link add %s type %s", mpnet_ctl_attr_str(tb[MPNET_CTLA_IFNAME]),
             mpnet_ctl_attr_str(tb[MPNET_CTLA_KIND]));
        emit_str(o, " peer ", tb[MPNET_CTLA_PEER]);
        emit_str(o, " peer-stack ", tb[MPNET_CTLA_PEER_STACK]);
        emit_str(o, " dev ", tb[MPNET_CTLA_DEV]);
        emit_str(o, " netns ", tb[MPNET_CTLA_NETNS]);
        emit_u32(o, " queues ", tb[MPNET_CTLA_QUEUES]);
        emit_u32(o, " mtu ", tb[MPNET_CTLA_MTU]);
        emit_str(o, " mode ", tb[MPNET_CTLA_MODE]);
        emit_str(o, " ports ", tb[MPNET_CTLA_PORTS]);
}

static void render_route(struct out *o, const struct mpnet_ctl_view *m,
                         const struct mpnet_ctl_attr *const *tb)
{
        static const char *const types[MPNET_NH__COUNT] = {[MPNET_NH_BLACKHOLE] = " blackhole",
                                                           [MPNET_NH_UNREACHABLE] = " unreachable",
                                                           [MPNET_NH_PROHIBIT] = " prohibit"};
        const struct mpnet_ctl_attr *a;
        unsigned nh = tb[MPNET_CTLA_NHTYPE] ? mpnet_ctl_attr_u8(tb[MPNET_CTLA_NHTYPE]) : 0;
        unsigned n_paths = 0;
        size_t off = 0;

        while ((a = mpnet_ctl_attr_next(m->attrs, m->attrs_len, &off)) != NULL)
                n_paths += mpnet_ctl_attr_type(a) == MPNET_CTLA_PATH;
        emit(o, "route %s%s", (m->h->flags & MPNET_CTL_F_REPLACE) ? "replace" : "add",
             nh < MPNET_NH__COUNT && types[nh] ? types[nh] : "");
        emit_prefix(o, tb);
        off = 0;
        while ((a = mpnet_ctl_attr_next(m->attrs, m->attrs_len, &off)) != NULL) {
                const struct mpnet_ctl_attr *pb[MPNET_CTLA__MAX];

                if (mpnet_ctl_attr_type(a) != MPNET_CTLA_PATH)
                        continue;
                mpnet_ctl_attrs_index(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), pb);
                if (n_paths > 1)
                        emit(o, " nexthop");
                if (pb[MPNET_CTLA_GW] != NULL)
                        emit_addr(o, " via ", pb[MPNET_CTLA_GW]);
                emit_str(o, " dev ", pb[MPNET_CTLA_IFNAME]);
        }
        emit_u32(o, " table ", tb[MPNET_CTLA_TABLE]);
}

static int render(struct out *o, const struct mpnet_ctl_view *m,
                  const struct mpnet_ctl_attr *const *tb)
{
        const struct mpnet_ctl_attr *st = tb[MPNET_CTLA_STACK];
        const char *ifn = tb[MPNET_CTLA_IFNAME] ? mpnet_ctl_attr_str(tb[MPNET_CTLA_IFNAME]) : NULL;

        if (st == NULL)
                return -EINVAL;
        if (m->h->type == MPNET_CTL_STACK_NEW || m->h->type == MPNET_CTL_STACK_DEL) {
                emit(o, "stack %s %s", m->h->type == MPNET_CTL_STACK_NEW ? "add" : "del",
                     mpnet_ctl_attr_str(st));
                return 0;
        }
        emit(o, "-n %s ", mpnet_ctl_attr_str(st));
        switch (m->h->type) {
        case MPNET_CTL_LINK_NEW:
                if (ifn == NULL || tb[MPNET_CTLA_KIND] == NULL)
                        return -EINVAL;
                render_link_new(o, tb);
                return 0;
        case MPNET_CTL_LINK_DEL:
        case MPNET_CTL_LINK_SET:
                if (ifn == NULL)
                        return -EINVAL;
                emit(o, "link %s %s", m->h->type == MPNET_CTL_LINK_DEL ? "del" : "set", ifn);
                if (tb[MPNET_CTLA_UP] != NULL)
                        emit(o, " %s", mpnet_ctl_attr_u8(tb[MPNET_CTLA_UP]) ? "up" : "down");
                emit_u32(o, " mtu ", tb[MPNET_CTLA_MTU]);
                emit_u32(o, " table ", tb[MPNET_CTLA_TABLE]);
                return 0;
        case MPNET_CTL_ADDR_NEW:
        case MPNET_CTL_ADDR_DEL:
                if (ifn == NULL || tb[MPNET_CTLA_ADDR] == NULL || tb[MPNET_CTLA_PLEN] == NULL)
                        return -EINVAL;
                emit(o, "addr %s", m->h->type == MPNET_CTL_ADDR_NEW ? "add" : "del");
                emit_prefix(o, tb);
                emit(o, " dev %s", ifn);
                return 0;
        case MPNET_CTL_ROUTE_NEW:
        case MPNET_CTL_ROUTE_DEL:
                if (tb[MPNET_CTLA_ADDR] == NULL || tb[MPNET_CTLA_PLEN] == NULL)
                        return -EINVAL;
                if (m->h->type == MPNET_CTL_ROUTE_NEW) {
                        render_route(o, m, tb);
                } else {
                        emit(o, "route del");
                        emit_prefix(o, tb);
                        emit_u32(o, " table ", tb[MPNET_CTLA_TABLE]);
                }
                return 0;
        case MPNET_CTL_NEIGH_NEW:
        case MPNET_CTL_NEIGH_DEL:
                if (ifn == NULL || tb[MPNET_CTLA_ADDR] == NULL)
                        return -EINVAL;
                emit(o, "neigh %s", m->h->type == MPNET_CTL_NEIGH_NEW ? "add" : "del");
                emit_addr(o, " ", tb[MPNET_CTLA_ADDR]);
                if (tb[MPNET_CTLA_MAC] != NULL) {
                        const uint8_t *a = mpnet_ctl_attr_data(tb[MPNET_CTLA_MAC]);

                        emit(o, " lladdr %02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3],
                             a[4], a[5]);
                }
                emit(o, " dev %s", ifn);
                return 0;
        case MPNET_CTL_WORKER_SET:
                if (ifn == NULL || tb[MPNET_CTLA_WORKER] == NULL)
                        return -EINVAL;
                emit(o, "worker set dev %s", ifn);
                emit_u32(o, " queue ", tb[MPNET_CTLA_QUEUE]);
                emit_u32(o, " worker ", tb[MPNET_CTLA_WORKER]);
                return 0;
        default:
                return -EINVAL;
        }
}

int mpnet_ctl_cli_render(const struct mpnet_ctl_view *m, char *out, size_t n)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];
        struct out o = {.p = out, .n = n};
        int r;

        if (n == 0)
                return -ENOSPC;
        out[0] = '\0';
        mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
        r = render(&o, m, tb);
        if (r != 0)
                return r;
        return o.full ? -ENOSPC : (int)o.len;
}
