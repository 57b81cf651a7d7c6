/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * toolnet: the command-line and stack set-up code of the one-stack tools;
 * see toolnet.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/toolnet.h"
#include "mpnet/afpacket.h"
#ifdef MPNET_HAVE_AFXDP
#include "mpnet/afxdp.h"
#endif
#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/tap.h"

int toolnet_parse_long(const char *s, long min, long max, long *out)
{
        char *end;

        errno = 0;
        *out = strtol(s, &end, 10);
        return errno != 0 || *s == '\0' || *end != '\0' || *out < min || *out > max ? -1 : 0;
}

int toolnet_parse_ip(const char *s, struct toolnet_addr *a)
{
        memset(a, 0, sizeof(*a));
        if (inet_pton(AF_INET, s, a->a) == 1) {
                a->family = AF_INET;
                return 0;
        }
        if (inet_pton(AF_INET6, s, a->a) == 1) {
                a->family = AF_INET6;
                return 0;
        }
        return -1;
}

int toolnet_parse_prefix(const char *s, struct toolnet_addr *a)
{
        char buf[64], *slash;
        long plen;

        if (strlen(s) >= sizeof(buf))
                return -1;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (slash == NULL)
                return -1;
        *slash = '\0';
        if (toolnet_parse_ip(buf, a) != 0 ||
            toolnet_parse_long(slash + 1, 0, a->family == AF_INET ? 32 : 128, &plen) != 0)
                return -1;
        a->plen = (uint8_t)plen;
        return 0;
}

struct mpnet_link *toolnet_link_open(const char *prog, const char *spec, struct mpnet_pool *pool)
{
        char kind[16], dev[64], err[256] = "", *at;
        const char *colon = strchr(spec, ':'), *ns = NULL;
        struct mpnet_link *l = NULL;

        if (colon == NULL || (size_t)(colon - spec) >= sizeof(kind) ||
            strlen(colon + 1) >= sizeof(dev) || colon[1] == '\0') {
                fprintf(stderr, "%s: --link %s: KIND:DEV[@NETNS] expected\n", prog, spec);
                return NULL;
        }
        memcpy(kind, spec, (size_t)(colon - spec));
        kind[colon - spec] = '\0';
        strcpy(dev, colon + 1);
        at = strchr(dev, '@');
        if (at != NULL) {
                *at = '\0';
                ns = at + 1;
        }
        if (strcmp(kind, "tap") == 0) {
                struct mpnet_tap_cfg c = {.ifname = dev,
                                          .netns = ns,
                                          .pool = pool,
                                          .errbuf = err,
                                          .errbuf_len = sizeof(err)};

                l = mpnet_tap_create(&c);
        } else if (strcmp(kind, "afpacket") == 0) {
                struct mpnet_afpacket_cfg c = {.ifname = dev,
                                               .netns = ns,
                                               .pool = pool,
                                               .errbuf = err,
                                               .errbuf_len = sizeof(err)};

                l = mpnet_afpacket_create(&c);
        } else if (strcmp(kind, "afxdp") == 0) {
#ifdef MPNET_HAVE_AFXDP
                struct mpnet_afxdp_cfg c = {.ifname = dev,
                                            .netns = ns,
                                            .pool = pool,
                                            .errbuf = err,
                                            .errbuf_len = sizeof(err)};

                l = mpnet_afxdp_create(&c);
#else
                snprintf(err, sizeof(err), "built without AF_XDP (libxdp, libbpf)");
#endif
        } else {
                snprintf(err, sizeof(err), "unknown link kind %s (tap, afpacket, afxdp)", kind);
        }
        if (l == NULL)
                fprintf(stderr, "%s: --link %s: %s\n", prog, spec,
                        err[0] != '\0' ? err : strerror(errno));
        return l;
}

int toolnet_opt(struct toolnet_cfg *c, int opt, const char *arg)
{
        long v;

        switch (opt) {
        case 'L':
                c->link = arg;
                return 1;
        case 'A':
                if (c->n_addr == TOOLNET_MAX_ADDRS ||
                    toolnet_parse_prefix(arg, &c->addr[c->n_addr]))
                        return -1;
                c->n_addr++;
                return 1;
        case 'G':
                if (c->n_gw == TOOLNET_MAX_ADDRS || toolnet_parse_ip(arg, &c->gw[c->n_gw]) != 0)
                        return -1;
                c->n_gw++;
                return 1;
        case 'M':
                if (toolnet_parse_long(arg, 68, 65535, &v) != 0)
                        return -1;
                c->mtu = (unsigned)v;
                return 1;
        default:
                return 0;
        }
}

int toolnet_stack_setup(struct mpnet_stack *s, int ifx, const struct toolnet_cfg *c)
{
        int err = 0;

        if (c->mtu != 0 && (err = mpnet_iface_set_mtu(s, ifx, c->mtu)) != 0)
                return err;
        for (unsigned i = 0; i < c->n_addr && err == 0; i++) {
                const struct toolnet_addr *a = &c->addr[i];

                if (a->family == AF_INET) {
                        uint32_t v4;

                        memcpy(&v4, a->a, 4);
                        err = mpnet_addr4_add(s, ifx, ntohl(v4), a->plen);
                } else {
                        err = mpnet_iface_ip6_enable(s, ifx);
                        if (err == -EALREADY)
                                err = 0;
                        if (err == 0)
                                err = mpnet_addr6_add(s, ifx, a->a, a->plen, 0);
                }
        }
        for (unsigned i = 0; i < c->n_gw && err == 0; i++) {
                const struct toolnet_addr *g = &c->gw[i];

                if (g->family == AF_INET) {
                        struct mpnet_route4 r = {.type = MPNET_NH_GATEWAY, .n_paths = 1};
                        uint32_t v4;

                        memcpy(&v4, g->a, 4);
                        r.paths[0].ifindex = ifx;
                        r.paths[0].gw = ntohl(v4);
                        err = mpnet_route4_add(s, 0, &r);
                } else {
                        struct mpnet_route6 r = {.type = MPNET_NH_GATEWAY, .n_paths = 1};

                        r.paths[0].ifindex = ifx;
                        memcpy(r.paths[0].gw, g->a, 16);
                        err = mpnet_route6_add(s, 0, &r);
                }
        }
        return err;
}

bool toolnet_addrs6_ready(struct mpnet_stack *s, int ifx)
{
        struct mpnet_addr6_info a[16];
        int n = mpnet_addr6_list(s, ifx, a, 16);

        for (int i = 0; i < n && i < 16; i++)
                if (a[i].flags & MPNET_ADDR6_F_TENTATIVE)
                        return false;
        return true;
}

int toolnet_sockaddr_of(int family, const struct toolnet_addr *a, unsigned port,
                        struct sockaddr_storage *ss, socklen_t *len)
{
        memset(ss, 0, sizeof(*ss));
        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)ss;

                if (a != NULL && a->family != AF_INET)
                        return -1;
                sin->sin_family = AF_INET;
                sin->sin_port = htons((uint16_t)port);
                if (a != NULL)
                        memcpy(&sin->sin_addr, a->a, 4);
                *len = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons((uint16_t)port);
                if (a != NULL && a->family == AF_INET) { /* v4-mapped */
                        sin6->sin6_addr.s6_addr[10] = 0xff;
                        sin6->sin6_addr.s6_addr[11] = 0xff;
                        memcpy(&sin6->sin6_addr.s6_addr[12], a->a, 4);
                } else if (a != NULL) {
                        memcpy(&sin6->sin6_addr, a->a, 16);
                }
                *len = sizeof(*sin6);
        }
        return 0;
}

void toolnet_addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
        char a[INET6_ADDRSTRLEN] = "?";
        unsigned port = 0;

        if (ss->ss_family == AF_INET) {
                const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

                inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
                port = ntohs(sin->sin_port);
        } else if (ss->ss_family == AF_INET6) {
                const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

                inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
                port = ntohs(sin6->sin6_port);
        }
        snprintf(out, n, "%s port %u", a, port);
}
