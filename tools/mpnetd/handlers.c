/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd's requests (docs/CONTROL.md, "Messages"): each checks what it
 * needs, calls the stack API and answers; the caller sends the final ACK,
 * DONE or ERROR.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/afpacket.h"
#include "mpnet/event.h"
#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "mpnet/tap.h"
#ifdef MPNET_HAVE_AFXDP
#include "mpnet/afxdp.h"
#endif
#ifdef MPNET_HAVE_DPDK
#include "mpnet/dpdk.h"
#endif
#include "mpnetd/mpnetd.h"

#define EV_STACK_ADD 100 /* EVTYPE of the daemon's own stack events */
#define EV_STACK_DEL 101

bool mpnetd_is_change(unsigned type)
{
        switch (type) {
        case MPNET_CTL_STACK_NEW:
        case MPNET_CTL_STACK_DEL:
        case MPNET_CTL_LINK_NEW:
        case MPNET_CTL_LINK_DEL:
        case MPNET_CTL_LINK_SET:
        case MPNET_CTL_ADDR_NEW:
        case MPNET_CTL_ADDR_DEL:
        case MPNET_CTL_ROUTE_NEW:
        case MPNET_CTL_ROUTE_DEL:
        case MPNET_CTL_NEIGH_NEW:
        case MPNET_CTL_NEIGH_DEL:
        case MPNET_CTL_NEIGH_FLUSH:
        case MPNET_CTL_WORKER_SET:
        case MPNET_CTL_SAVE:
        case MPNET_CTL_CAPTURE: /* others' traffic, and a file the daemon writes */
                return true;
        default:
                return false;
        }
}

struct req {
        struct mpnetd *d;
        struct dclient *c;
        const struct mpnet_ctl_view *m;
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];
        char *why;
        size_t why_len;
        struct dstack *st;
};

static int __attribute__((format(printf, 3, 4))) fail(struct req *r, int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->why, r->why_len, fmt, ap);
        va_end(ap);
        return err;
}

static const char *str(const struct req *r, unsigned t)
{
        return r->tb[t] != NULL ? mpnet_ctl_attr_str(r->tb[t]) : NULL;
}

static uint32_t u32_or(const struct req *r, unsigned t, uint32_t dflt)
{
        return r->tb[t] != NULL ? mpnet_ctl_attr_u32(r->tb[t]) : dflt;
}

static int need(struct req *r, unsigned t)
{
        return r->tb[t] != NULL ? 0
                                : fail(r, -EINVAL, "attribute %s missing", mpnet_ctl_attr_name(t));
}

static int need_stack(struct req *r)
{
        if (need(r, MPNET_CTLA_STACK) != 0)
                return -EINVAL;
        r->st = mpnetd_stack_find(r->d, str(r, MPNET_CTLA_STACK));
        return r->st != NULL ? 0 : fail(r, -ENOENT, "no stack %s", str(r, MPNET_CTLA_STACK));
}

static struct dlink *link_find(struct dstack *st, const char *name)
{
        for (int i = 1; i <= DSTACK_MAX_IFACES; i++)
                if (st->links[i] != NULL && strcmp(st->links[i]->name, name) == 0)
                        return st->links[i];
        return NULL;
}

static int need_link(struct req *r, struct dlink **l)
{
        if (need(r, MPNET_CTLA_IFNAME) != 0)
                return -EINVAL;
        *l = link_find(r->st, str(r, MPNET_CTLA_IFNAME));
        return *l != NULL ? 0
                          : fail(r, -ENODEV, "no link %s in stack %s", str(r, MPNET_CTLA_IFNAME),
                                 r->st->name);
}

/* Begin a dump part or a single answer to the request. */
static void answer_begin(struct req *r, uint16_t type)
{
        mpnetd_out_room(r->d, 8192);
        mpnet_ctl_msg_begin(&r->d->out, type,
                            (r->m->h->flags & MPNET_CTL_F_DUMP) ? MPNET_CTL_F_MULTI : 0,
                            r->m->h->seq, 0);
}

static void answer_end(struct req *r)
{
        mpnet_ctl_msg_end(&r->d->out);
}

/* ---- stacks ------------------------------------------------------------- */

static void stack_event(struct mpnetd *d, struct dstack *st, uint32_t type)
{
        struct mpnet_event e = {.type = (enum mpnet_event_type)type, .seq = ++d->stack_evseq};

        mpnetd_event_send(d, st, &e, MPNET_CTL_G_STACK);
}

static uint64_t name_seed(const char *s)
{
        uint64_t h = 14695981039346656037ull;

        while (*s)
                h = (h ^ (uint8_t)*s++) * 1099511628211ull;
        return h;
}

static int stack_new(struct req *r)
{
        struct mpnet_stack_cfg sc = {.clock = &r->d->clk,
                                     .pool = r->d->pool,
                                     .ip4_forwarding = true,
                                     .ip6_forwarding = true};
        const char *name;
        struct dstack *st;

        if (need(r, MPNET_CTLA_STACK) != 0)
                return -EINVAL;
        name = str(r, MPNET_CTLA_STACK);
        if (mpnetd_stack_find(r->d, name) != NULL)
                return fail(r, -EEXIST, "stack %s exists", name);
        st = calloc(1, sizeof(*st));
        if (st == NULL)
                return -ENOMEM;
        snprintf(st->name, sizeof(st->name), "%s", name);
        sc.name = st->name;
        sc.seed = name_seed(name);
        st->s = mpnet_stack_create(&sc);
        if (st->s == NULL) {
                free(st);
                return fail(r, -ENOMEM, "cannot create stack %s", name);
        }
        /* In creation order, so that a saved configuration makes them so. */
        struct dstack **pp = &r->d->stacks;

        while (*pp != NULL)
                pp = &(*pp)->next;
        *pp = st;
        r->d->n_stacks++;
        stack_event(r->d, st, EV_STACK_ADD);
        return 0;
}

static void dlink_free(struct mpnetd *d, struct dlink *l);

void mpnetd_stack_free(struct mpnetd *d, struct dstack *st)
{
        for (struct dclient *c = d->clients; c != NULL; c = c->next) {
                for (struct dping **pp = &c->pings; *pp != NULL;) {
                        struct dping *p = *pp;

                        if (p->st == st) {
                                *pp = p->next;
                                free(p);
                        } else {
                                pp = &p->next;
                        }
                }
        }
        for (int i = 1; i <= DSTACK_MAX_IFACES; i++)
                if (st->links[i] != NULL)
                        dlink_free(d, st->links[i]);
        for (struct dstack **pp = &d->stacks; *pp != NULL; pp = &(*pp)->next) {
                if (*pp == st) {
                        *pp = st->next;
                        break;
                }
        }
        d->n_stacks--;
        if (d->stack_last == st)
                d->stack_last = NULL;
        stack_event(d, st, EV_STACK_DEL);
        mpnet_stack_destroy(st->s);
        free(st);
}

static int stack_del(struct req *r)
{
        if (need_stack(r) != 0)
                return -ENOENT;
        mpnetd_stack_free(r->d, r->st);
        return 0;
}

static int stack_get(struct req *r)
{
        const char *only = str(r, MPNET_CTLA_STACK);
        bool found = false;

        for (struct dstack *st = r->d->stacks; st != NULL; st = st->next) {
                unsigned n = 0;

                if (only != NULL && strcmp(only, st->name) != 0)
                        continue;
                for (int i = 1; i <= DSTACK_MAX_IFACES; i++)
                        n += st->links[i] != NULL;
                answer_begin(r, MPNET_CTL_STACK_NEW);
                mpnet_ctl_put_str(&r->d->out, MPNET_CTLA_STACK, st->name);
                mpnet_ctl_put_u32(&r->d->out, MPNET_CTLA_COUNT, n);
                answer_end(r);
                found = true;
        }
        return only == NULL || found ? 0 : fail(r, -ENOENT, "no stack %s", only);
}

/* ---- links -------------------------------------------------------------- */

/* Give each receive queue to a worker, queue q to worker q mod n. */
static int dlink_assign(struct mpnetd *d, struct dlink *l)
{
        unsigned nw = d->cfg.n_workers ? d->cfg.n_workers : 1;

        l->n_rxq = l->link->info.n_rxq < DLINK_MAX_Q ? l->link->info.n_rxq : DLINK_MAX_Q;
        for (uint16_t q = 0; q < l->n_rxq; q++) {
                int err = mpnet_runtime_assign(d->rt, q % nw, l->st->s, l->ifindex, q);

                if (err != 0)
                        return err;
                l->worker[q] = (int)(q % nw);
        }
        return 0;
}

/* Take one end out: its queues from the workers, the interface from the
 * stack (after a grace period), then the link itself. */
static void dlink_free_one(struct mpnetd *d, struct dlink *l)
{
        mpnetd_captures_link_gone(d, l);
        for (uint16_t q = 0; q < l->n_rxq; q++)
                if (l->worker[q] >= 0)
                        mpnet_runtime_unassign(d->rt, l->st->s, l->ifindex, q);
        if (l->ifindex > 0) {
                mpnet_iface_detach(l->st->s, l->ifindex);
                l->st->links[l->ifindex] = NULL;
        }
        mpnet_link_destroy(l->link);
        free(l);
}

static void dlink_free(struct mpnetd *d, struct dlink *l)
{
        struct dlink *peer = l->peer;

        dlink_free_one(d, l);
        if (peer != NULL)
                dlink_free_one(d, peer);
}

static struct dlink *dlink_new(struct dstack *st, const char *name, const char *kind)
{
        struct dlink *l = calloc(1, sizeof(*l));

        if (l == NULL)
                return NULL;
        l->st = st;
        l->up = true;
        snprintf(l->name, sizeof(l->name), "%s", name);
        snprintf(l->kind, sizeof(l->kind), "%s", kind);
        for (int q = 0; q < DLINK_MAX_Q; q++)
                l->worker[q] = -1;
        return l;
}

static int dlink_attach(struct req *r, struct dstack *st, struct dlink *l)
{
        int idx = mpnet_iface_attach(st->s, l->link, l->name);

        if (idx < 0)
                return fail(r, idx, "attach %s to %s: %s", l->name, st->name, strerror(-idx));
        l->ifindex = idx;
        st->links[idx] = l;
        return 0;
}

static int link_make_mem(struct req *r, struct dlink *l, struct dlink **peer_out)
{
        const char *peer = str(r, MPNET_CTLA_PEER);
        const char *pst_name = str(r, MPNET_CTLA_PEER_STACK);
        struct dstack *pst = pst_name ? mpnetd_stack_find(r->d, pst_name) : r->st;
        struct mpnet_memwire_cfg wc = {.name = l->name,
                                       .n_queues = (uint16_t)u32_or(r, MPNET_CTLA_QUEUES, 1),
                                       .mtu = u32_or(r, MPNET_CTLA_MTU, 0)};
        struct mpnet_link *b;
        struct dlink *p;
        int err;

        if (peer == NULL)
                return fail(r, -EINVAL, "a mem link needs a peer name");
        if (pst == NULL)
                return fail(r, -ENOENT, "no stack %s", pst_name);
        if (link_find(pst, peer) != NULL || (pst == r->st && strcmp(peer, l->name) == 0))
                return fail(r, -EEXIST, "link %s exists in stack %s", peer, pst->name);
        if (wc.n_queues == 0 || wc.n_queues > DLINK_MAX_Q)
                return fail(r, -EINVAL, "queues: 1 to %d", DLINK_MAX_Q);
        err = mpnet_memwire_create(&wc, &l->link, &b);
        if (err != 0)
                return fail(r, err, "mem link: %s", strerror(-err));
        p = dlink_new(pst, peer, "mem");
        if (p == NULL) {
                mpnet_link_destroy(b);
                return -ENOMEM;
        }
        p->link = b;
        l->peer = p;
        p->peer = l;
        l->owner = true;
        snprintf(l->dev, sizeof(l->dev), "%s", "");
        *peer_out = p;
        return 0;
}

static int link_make(struct req *r, struct dlink *l, struct dlink **peer)
{
        char err[256] = "";
        const char *dev = str(r, MPNET_CTLA_DEV), *ns = str(r, MPNET_CTLA_NETNS);
        uint16_t nq = (uint16_t)u32_or(r, MPNET_CTLA_QUEUES, 1);
        uint32_t mtu = u32_or(r, MPNET_CTLA_MTU, 0);

        if (nq == 0 || nq > DLINK_MAX_Q)
                return fail(r, -EINVAL, "queues: 1 to %d", DLINK_MAX_Q);
        if (strcmp(l->kind, "mem") == 0)
                return link_make_mem(r, l, peer);
        if (strcmp(l->kind, "tap") == 0) {
                struct mpnet_tap_cfg c = {.ifname = dev ? dev : l->name,
                                          .netns = ns,
                                          .pool = r->d->pool,
                                          .n_queues = nq,
                                          .mtu = mtu,
                                          .errbuf = err,
                                          .errbuf_len = sizeof(err)};

                l->link = mpnet_tap_create(&c);
        } else if (strcmp(l->kind, "afpacket") == 0) {
                struct mpnet_afpacket_cfg c = {.ifname = dev,
                                               .netns = ns,
                                               .pool = r->d->pool,
                                               .n_queues = nq,
                                               .errbuf = err,
                                               .errbuf_len = sizeof(err)};

                if (dev == NULL)
                        return fail(r, -EINVAL, "afpacket: dev IFNAME expected");
                l->link = mpnet_afpacket_create(&c);
        } else if (strcmp(l->kind, "afxdp") == 0) {
#ifdef MPNET_HAVE_AFXDP
                const char *mode = str(r, MPNET_CTLA_MODE);
                struct mpnet_afxdp_cfg c = {.ifname = dev,
                                            .netns = ns,
                                            .pool = r->d->pool,
                                            .n_queues = nq,
                                            .errbuf = err,
                                            .errbuf_len = sizeof(err)};

                if (dev == NULL)
                        return fail(r, -EINVAL, "afxdp: dev IFNAME expected");
                if (mode != NULL && strcmp(mode, "native") == 0)
                        c.mode = MPNET_AFXDP_MODE_NATIVE;
                else if (mode != NULL && strcmp(mode, "generic") == 0)
                        c.mode = MPNET_AFXDP_MODE_GENERIC;
                else if (mode != NULL)
                        return fail(r, -EINVAL, "afxdp mode: native or generic");
                l->link = mpnet_afxdp_create(&c);
#else
                return fail(r, -EOPNOTSUPP, "built without AF_XDP (libxdp, libbpf)");
#endif
        } else if (strcmp(l->kind, "dpdk") == 0) {
#ifdef MPNET_HAVE_DPDK
                struct mpnet_dpdk_cfg c = {.port = str(r, MPNET_CTLA_PORTS),
                                           .n_queues = nq,
                                           .mtu = (uint16_t)mtu,
                                           .pool = r->d->pool,
                                           .errbuf = err,
                                           .errbuf_len = sizeof(err)};

                if (r->d->cfg.dpdk_eal == NULL)
                        return fail(r, -EOPNOTSUPP, "mpnetd was started without --dpdk");
                if (c.port == NULL)
                        return fail(r, -EINVAL, "dpdk: ports ARGS expected");
                l->link = mpnet_dpdk_create(&c);
#else
                return fail(r, -EOPNOTSUPP, "built without DPDK");
#endif
        } else {
                return fail(r, -EINVAL, "unknown link type %s", l->kind);
        }
        if (l->link == NULL)
                return fail(r, errno ? -errno : -EIO, "%s", err[0] ? err : strerror(errno));
        return 0;
}

static void link_keep_opts(struct req *r, struct dlink *l)
{
        if (str(r, MPNET_CTLA_DEV) != NULL)
                snprintf(l->dev, sizeof(l->dev), "%s", str(r, MPNET_CTLA_DEV));
        if (str(r, MPNET_CTLA_NETNS) != NULL)
                snprintf(l->netns, sizeof(l->netns), "%s", str(r, MPNET_CTLA_NETNS));
        if (str(r, MPNET_CTLA_MODE) != NULL)
                snprintf(l->mode, sizeof(l->mode), "%s", str(r, MPNET_CTLA_MODE));
        if (str(r, MPNET_CTLA_PORTS) != NULL)
                snprintf(l->ports, sizeof(l->ports), "%s", str(r, MPNET_CTLA_PORTS));
        l->queues = u32_or(r, MPNET_CTLA_QUEUES, 0);
        l->mtu_opt = u32_or(r, MPNET_CTLA_MTU, 0);
}

static int dlink_wrap(struct dlink *l)
{
        struct mpnet_link *w = mpnet_capture_wrap(l->link);

        if (w == NULL)
                return -ENOMEM;
        l->link = w;
        return 0;
}

static int link_new(struct req *r)
{
        struct dlink *l, *peer = NULL;
        int err;

        if (need_stack(r) != 0 || need(r, MPNET_CTLA_IFNAME) != 0 || need(r, MPNET_CTLA_KIND) != 0)
                return -EINVAL;
        if (link_find(r->st, str(r, MPNET_CTLA_IFNAME)) != NULL)
                return fail(r, -EEXIST, "link %s exists", str(r, MPNET_CTLA_IFNAME));
        l = dlink_new(r->st, str(r, MPNET_CTLA_IFNAME), str(r, MPNET_CTLA_KIND));
        if (l == NULL)
                return -ENOMEM;
        err = link_make(r, l, &peer);
        if (err != 0) {
                free(l);
                return err;
        }
        /* Every link is tapped, so that a capture can start on it while it
         * runs (mpnet_capture_wrap(): one relaxed load per burst when idle). */
        if (dlink_wrap(l) != 0 || (peer != NULL && dlink_wrap(peer) != 0)) {
                if (peer != NULL) {
                        mpnet_link_destroy(peer->link);
                        free(peer);
                }
                mpnet_link_destroy(l->link);
                free(l);
                return fail(r, -ENOMEM, "out of memory");
        }
        link_keep_opts(r, l);
        l->peer = NULL; /* attached one by one below; joined again after */
        if ((err = dlink_attach(r, r->st, l)) != 0 || (err = dlink_assign(r->d, l)) != 0) {
                if (peer != NULL) {
                        mpnet_link_destroy(peer->link);
                        free(peer);
                }
                dlink_free_one(r->d, l);
                return r->why[0] ? err : fail(r, err, "%s", strerror(-err));
        }
        if (peer != NULL) {
                if ((err = dlink_attach(r, peer->st, peer)) != 0 ||
                    (err = dlink_assign(r->d, peer)) != 0) {
                        dlink_free_one(r->d, l);
                        if (peer->ifindex > 0)
                                dlink_free_one(r->d, peer);
                        else {
                                mpnet_link_destroy(peer->link);
                                free(peer);
                        }
                        return r->why[0] ? err : fail(r, err, "%s", strerror(-err));
                }
                l->peer = peer;
                peer->peer = l;
        }
        return 0;
}

static int link_del(struct req *r)
{
        struct dlink *l;

        if (need_stack(r) != 0 || need_link(r, &l) != 0)
                return r->why[0] ? -ENODEV : -EINVAL;
        dlink_free(r->d, l);
        return 0;
}

static int link_set(struct req *r)
{
        struct dlink *l;
        int err;

        if (need_stack(r) != 0 || need_link(r, &l) != 0)
                return -ENODEV;
        if (r->tb[MPNET_CTLA_MTU] != NULL) {
                err = mpnet_iface_set_mtu(r->st->s, l->ifindex,
                                          mpnet_ctl_attr_u32(r->tb[MPNET_CTLA_MTU]));
                if (err != 0)
                        return fail(r, err, "mtu %u: 68 to the link's %u",
                                    mpnet_ctl_attr_u32(r->tb[MPNET_CTLA_MTU]), l->link->info.mtu);
        }
        if (r->tb[MPNET_CTLA_TABLE] != NULL) {
                uint32_t t = mpnet_ctl_attr_u32(r->tb[MPNET_CTLA_TABLE]);

                err = t == 0 ? 0 : mpnet_table_add(r->st->s, t);
                if (err != 0 && err != -EEXIST)
                        return fail(r, err, "table %u: %s", t, strerror(-err));
                err = mpnet_iface_set_table(r->st->s, l->ifindex, t);
                if (err != 0)
                        return fail(r, err, "table %u: %s", t, strerror(-err));
                l->table = t;
        }
        if (r->tb[MPNET_CTLA_UP] != NULL) {
                l->up = mpnet_ctl_attr_u8(r->tb[MPNET_CTLA_UP]) != 0;
                mpnet_iface_set_up(r->st->s, l->ifindex, l->up);
        }
        return 0;
}

static void put_counter(struct mpnet_ctl_buf *b, const char *name, uint64_t v)
{
        mpnet_ctl_nest_begin(b, MPNET_CTLA_COUNTER);
        mpnet_ctl_put_str(b, MPNET_CTLA_NAME, name);
        mpnet_ctl_put_u64(b, MPNET_CTLA_VALUE, v);
        mpnet_ctl_nest_end(b);
}

static void link_put(struct req *r, const struct dlink *l)
{
        struct mpnet_ctl_buf *b = &r->d->out;
        struct mpnet_link_stats ls;

        answer_begin(r, MPNET_CTL_LINK_NEW);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, l->st->name);
        mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, l->name);
        mpnet_ctl_put_u32(b, MPNET_CTLA_IFINDEX, (uint32_t)l->ifindex);
        mpnet_ctl_put_str(b, MPNET_CTLA_KIND, l->kind);
        mpnet_ctl_put_u8(b, MPNET_CTLA_UP, l->up);
        mpnet_ctl_put_u8(b, MPNET_CTLA_CARRIER, mpnet_link_carrier(l->link));
        mpnet_ctl_put_u32(b, MPNET_CTLA_MTU, mpnet_iface_mtu(l->st->s, l->ifindex));
        mpnet_ctl_put(b, MPNET_CTLA_MAC, l->link->info.mac, 6);
        mpnet_ctl_put_u32(b, MPNET_CTLA_QUEUES, l->link->info.n_rxq);
        mpnet_ctl_put_u32(b, MPNET_CTLA_TABLE, l->table);
        if (l->peer != NULL) {
                mpnet_ctl_put_str(b, MPNET_CTLA_PEER, l->peer->name);
                mpnet_ctl_put_str(b, MPNET_CTLA_PEER_STACK, l->peer->st->name);
        }
        if (l->dev[0] != '\0')
                mpnet_ctl_put_str(b, MPNET_CTLA_DEV, l->dev);
        mpnet_link_get_stats(l->link, &ls);
        mpnet_ctl_nest_begin(b, MPNET_CTLA_LINKSTATS);
        put_counter(b, "rx_packets", ls.rx_pkts);
        put_counter(b, "rx_bytes", ls.rx_bytes);
        put_counter(b, "tx_packets", ls.tx_pkts);
        put_counter(b, "tx_bytes", ls.tx_bytes);
        put_counter(b, "rx_drops", ls.rx_drops);
        put_counter(b, "tx_drops", ls.tx_drops);
        mpnet_ctl_nest_end(b);
        answer_end(r);
}

static int link_get(struct req *r)
{
        const char *only = str(r, MPNET_CTLA_IFNAME);
        bool found = false;

        if (need_stack(r) != 0)
                return -ENOENT;
        for (int i = 1; i <= DSTACK_MAX_IFACES; i++) {
                const struct dlink *l = r->st->links[i];

                if (l == NULL || (only != NULL && strcmp(only, l->name) != 0))
                        continue;
                link_put(r, l);
                found = true;
        }
        return only == NULL || found ? 0 : fail(r, -ENODEV, "no link %s", only);
}

/* ---- addresses ---------------------------------------------------------- */

static int addr_change(struct req *r, bool add)
{
        const struct mpnet_ctl_attr *a = r->tb[MPNET_CTLA_ADDR];
        struct dlink *l;
        uint8_t plen;
        int err;

        if (need_stack(r) != 0 || need_link(r, &l) != 0)
                return r->st == NULL ? -ENOENT : -ENODEV;
        if (need(r, MPNET_CTLA_ADDR) != 0 || need(r, MPNET_CTLA_PLEN) != 0)
                return -EINVAL;
        plen = mpnet_ctl_attr_u8(r->tb[MPNET_CTLA_PLEN]);
        if (mpnet_ctl_attr_len(a) == 4) {
                uint32_t v;

                memcpy(&v, mpnet_ctl_attr_data(a), 4);
                err = add ? mpnet_addr4_add(r->st->s, l->ifindex, ntohl(v), plen)
                          : mpnet_addr4_del(r->st->s, l->ifindex, ntohl(v), plen);
        } else {
                err = add ? mpnet_addr6_add(r->st->s, l->ifindex, mpnet_ctl_attr_data(a), plen,
                                            MPNET_ADDR6_F_NODAD)
                          : mpnet_addr6_del(r->st->s, l->ifindex, mpnet_ctl_attr_data(a), plen);
        }
        if (err == -EEXIST)
                return fail(r, err, "the address is there already");
        if (err == -ENOENT)
                return fail(r, err, "no such address on %s", l->name);
        return err != 0 ? fail(r, err, "%s", strerror(-err)) : 0;
}

static void addr_put(struct req *r, const struct dlink *l, uint8_t family, const void *a,
                     uint8_t plen, uint32_t flags)
{
        struct mpnet_ctl_buf *b = &r->d->out;

        answer_begin(r, MPNET_CTL_ADDR_NEW);
        mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, l->name);
        mpnet_ctl_put_u8(b, MPNET_CTLA_FAMILY, family);
        mpnet_ctl_put(b, MPNET_CTLA_ADDR, a, family == 4 ? 4 : 16);
        mpnet_ctl_put_u8(b, MPNET_CTLA_PLEN, plen);
        if (family == 6)
                mpnet_ctl_put_u32(b, MPNET_CTLA_FLAGS, flags);
        answer_end(r);
}

static int addr_get(struct req *r)
{
        const char *only = str(r, MPNET_CTLA_IFNAME);
        unsigned fam = r->tb[MPNET_CTLA_FAMILY] ? mpnet_ctl_attr_u8(r->tb[MPNET_CTLA_FAMILY]) : 0;

        if (need_stack(r) != 0)
                return -ENOENT;
        for (int i = 1; i <= DSTACK_MAX_IFACES; i++) {
                const struct dlink *l = r->st->links[i];
                struct mpnet_addr4_info a4[16];
                struct mpnet_addr6_info a6[16];
                int n;

                if (l == NULL || (only != NULL && strcmp(only, l->name) != 0))
                        continue;
                n = fam == 6 ? 0 : mpnet_addr4_list(r->st->s, i, a4, 16);
                for (int k = 0; k < n && k < 16; k++) {
                        uint32_t v = htonl(a4[k].addr);

                        addr_put(r, l, 4, &v, a4[k].plen, 0);
                }
                n = fam == 4 ? 0 : mpnet_addr6_list(r->st->s, i, a6, 16);
                for (int k = 0; k < n && k < 16; k++)
                        addr_put(r, l, 6, a6[k].addr, a6[k].plen, a6[k].flags);
        }
        return 0;
}

/* ---- routes ------------------------------------------------------------- */

/* The paths of ROUTE_NEW into a route of either family. */
/* ROUTE_NEW's PATH attributes, as they come: checked by mpnetd_route_new(). */
static void route_paths_decode(const struct req *r, struct mpnetd_route *rq)
{
        const struct mpnet_ctl_attr *a;
        size_t off = 0;

        while ((a = mpnet_ctl_attr_next(r->m->attrs, r->m->attrs_len, &off)) != NULL) {
                const struct mpnet_ctl_attr *pb[MPNET_CTLA__MAX];
                struct mpnetd_route_path *p = &rq->paths[rq->n_paths];

                if (mpnet_ctl_attr_type(a) != MPNET_CTLA_PATH)
                        continue;
                if (rq->n_paths++ == MPNET_ROUTE_MAX_PATHS)
                        return; /* one too many is enough to refuse it */
                mpnet_ctl_attrs_index(mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a), pb);
                p->ifname =
                    pb[MPNET_CTLA_IFNAME] ? mpnet_ctl_attr_str(pb[MPNET_CTLA_IFNAME]) : NULL;
                p->gw_len = 0;
                if (pb[MPNET_CTLA_GW] != NULL) {
                        p->gw_len = (uint8_t)mpnet_ctl_attr_len(pb[MPNET_CTLA_GW]);
                        memcpy(p->gw, mpnet_ctl_attr_data(pb[MPNET_CTLA_GW]), p->gw_len);
                }
        }
}

static int route_new(struct req *r)
{
        const struct mpnet_ctl_attr *a = r->tb[MPNET_CTLA_ADDR];
        struct mpnetd_route rq; /* not zeroed: mpnetd_route_new() reads what is set */

        if (need_stack(r) != 0)
                return -ENOENT;
        if (need(r, MPNET_CTLA_ADDR) != 0 || need(r, MPNET_CTLA_PLEN) != 0)
                return -EINVAL;
        rq.replace = (r->m->h->flags & MPNET_CTL_F_REPLACE) != 0;
        rq.nhtype = r->tb[MPNET_CTLA_NHTYPE] ? mpnet_ctl_attr_u8(r->tb[MPNET_CTLA_NHTYPE]) : 0xff;
        rq.table = u32_or(r, MPNET_CTLA_TABLE, 0);
        rq.n_paths = 0;
        rq.addr_len = (uint8_t)mpnet_ctl_attr_len(a);
        memcpy(rq.dst, mpnet_ctl_attr_data(a), rq.addr_len);
        rq.plen = mpnet_ctl_attr_u8(r->tb[MPNET_CTLA_PLEN]);
        route_paths_decode(r, &rq);
        return mpnetd_route_new(r->d, r->st, &rq, r->why, r->why_len);
}

/* ---- a route, from a message or a configuration line -------------------- */

static int route_paths(struct req *r, const struct mpnetd_route *rq, struct mpnet_route6 *rt6,
                       struct mpnet_route4 *rt4)
{
        bool v6 = rq->addr_len == 16;
        unsigned n;

        for (n = 0; n < rq->n_paths && n < MPNET_ROUTE_MAX_PATHS; n++) {
                const struct mpnetd_route_path *p = &rq->paths[n];
                struct dlink *l = NULL;

                if (p->ifname != NULL) {
                        l = link_find(r->st, p->ifname);
                        if (l == NULL)
                                return fail(r, -ENODEV, "no link %s", p->ifname);
                }
                if (p->gw_len != 0 && p->gw_len != (v6 ? 16u : 4u))
                        return fail(r, -EINVAL, "gateway of the other family");
                if (p->gw_len == 0 && l == NULL)
                        return fail(r, -EINVAL, "a path needs via or dev");
                if (v6) {
                        if (p->gw_len != 0)
                                memcpy(rt6->paths[n].gw, p->gw, 16);
                        rt6->paths[n].ifindex = l ? l->ifindex : 0;
                } else {
                        uint32_t gw = 0;

                        if (p->gw_len != 0)
                                memcpy(&gw, p->gw, 4);
                        rt4->paths[n].gw = ntohl(gw);
                        rt4->paths[n].ifindex = l ? l->ifindex : 0;
                }
        }
        if (rq->n_paths > MPNET_ROUTE_MAX_PATHS)
                return fail(r, -EINVAL, "more than %d paths", MPNET_ROUTE_MAX_PATHS);
        return (int)n;
}

/* A gateway path without a device: the interface whose connected route
 * covers the gateway, as ip(8) finds it. */
static int route_resolve_dev4(struct req *r, uint32_t table, struct mpnet_route4 *rt)
{
        for (unsigned i = 0; i < rt->n_paths; i++) {
                struct mpnet_route4 c;

                if (rt->paths[i].ifindex != 0)
                        continue;
                if (mpnet_route4_lookup(r->st->s, table, rt->paths[i].gw, &c) != 0 ||
                    c.type != MPNET_NH_CONNECTED)
                        return fail(r, -ENETUNREACH, "gateway not on a connected network");
                rt->paths[i].ifindex = c.paths[0].ifindex;
        }
        return 0;
}

static int route_resolve_dev6(struct req *r, uint32_t table, struct mpnet_route6 *rt)
{
        for (unsigned i = 0; i < rt->n_paths; i++) {
                struct mpnet_route6 c;

                if (rt->paths[i].ifindex != 0)
                        continue;
                if (mpnet_route6_lookup(r->st->s, table, rt->paths[i].gw, &c) != 0 ||
                    c.type != MPNET_NH_CONNECTED)
                        return fail(r, -ENETUNREACH, "gateway not on a connected network");
                rt->paths[i].ifindex = c.paths[0].ifindex;
        }
        return 0;
}

static int table_use(struct req *r, uint32_t table, bool create)
{
        int err;

        if (table >= MPNET_TABLE_MAX)
                return fail(r, -EINVAL, "table %u: 0 to %d", table, MPNET_TABLE_MAX - 1);
        if (table == 0 || !create)
                return 0;
        err = mpnet_table_add(r->st->s, table);
        return err == 0 || err == -EEXIST ? 0 : fail(r, err, "table %u: %s", table, strerror(-err));
}

static int route_table(struct req *r, uint32_t *table, bool create)
{
        *table = u32_or(r, MPNET_CTLA_TABLE, 0);
        return table_use(r, *table, create);
}

static int route_add6(struct req *r, const struct mpnetd_route *rq)
{
        struct mpnet_route6 rt = {.plen = rq->plen};
        int n, err;

        memcpy(rt.dst, rq->dst, 16);
        if ((n = route_paths(r, rq, &rt, NULL)) < 0)
                return n;
        rt.n_paths = (uint8_t)n;
        rt.type = rq->nhtype != 0xff ? (enum mpnet_nh_type)rq->nhtype : MPNET_NH_GATEWAY;
        if (rq->nhtype == 0xff && n > 0) {
                static const uint8_t zero[16];

                if (memcmp(rt.paths[0].gw, zero, 16) == 0)
                        rt.type = MPNET_NH_CONNECTED;
        }
        if ((err = route_resolve_dev6(r, rq->table, &rt)) != 0)
                return err;
        return rq->replace ? mpnet_route6_replace(r->st->s, rq->table, &rt)
                           : mpnet_route6_add(r->st->s, rq->table, &rt);
}

static int route_add4(struct req *r, const struct mpnetd_route *rq)
{
        struct mpnet_route4 rt = {.plen = rq->plen};
        uint32_t v;
        int n, err;

        memcpy(&v, rq->dst, 4);
        rt.dst = ntohl(v);
        if ((n = route_paths(r, rq, NULL, &rt)) < 0)
                return n;
        rt.n_paths = (uint8_t)n;
        rt.type = rq->nhtype != 0xff             ? (enum mpnet_nh_type)rq->nhtype
                  : n > 0 && rt.paths[0].gw == 0 ? MPNET_NH_CONNECTED
                                                 : MPNET_NH_GATEWAY;
        if ((err = route_resolve_dev4(r, rq->table, &rt)) != 0)
                return err;
        return rq->replace ? mpnet_route4_replace(r->st->s, rq->table, &rt)
                           : mpnet_route4_add(r->st->s, rq->table, &rt);
}

int mpnetd_route_new(struct mpnetd *d, struct dstack *st, const struct mpnetd_route *rq, char *why,
                     size_t why_len)
{
        struct req r; /* its attribute index (tb) not zeroed: nothing here reads it */
        int err;

        r.d = d;
        r.c = NULL;
        r.m = NULL;
        r.st = st;
        r.why = why;
        r.why_len = why_len;
        why[0] = '\0';
        if (table_use(&r, rq->table, true) != 0)
                return -EINVAL;
        err = rq->addr_len == 16 ? route_add6(&r, rq) : route_add4(&r, rq);
        if (err == -EEXIST)
                return fail(&r, err, "the route exists (use replace)");
        if (err != 0 && why[0] == '\0')
                return fail(&r, err, "%s", strerror(-err));
        return err;
}

static int route_del(struct req *r)
{
        const struct mpnet_ctl_attr *a = r->tb[MPNET_CTLA_ADDR];
        uint32_t table;
        uint8_t plen;
        int err;

        if (need_stack(r) != 0)
                return -ENOENT;
        if (need(r, MPNET_CTLA_ADDR) != 0 || need(r, MPNET_CTLA_PLEN) != 0 ||
            route_table(r, &table, false) != 0)
                return -EINVAL;
        plen = mpnet_ctl_attr_u8(r->tb[MPNET_CTLA_PLEN]);
        if (mpnet_ctl_attr_len(a) == 16) {
                err = mpnet_route6_del(r->st->s, table, mpnet_ctl_attr_data(a), plen);
        } else {
                uint32_t v;

                memcpy(&v, mpnet_ctl_attr_data(a), 4);
                err = mpnet_route4_del(r->st->s, table, ntohl(v), plen);
        }
        if (err == -ENOENT)
                return fail(r, err, "no such route in table %u", table);
        return err != 0 ? fail(r, err, "%s", strerror(-err)) : 0;
}

static const char *ifname_of(const struct dstack *st, int ifindex)
{
        return ifindex > 0 && ifindex <= DSTACK_MAX_IFACES && st->links[ifindex] != NULL
                   ? st->links[ifindex]->name
                   : "?";
}

struct route_dump {
        struct req *r;
        uint32_t table;
};

static void route_put_head(struct req *r, uint32_t table, const void *dst, size_t len, uint8_t plen,
                           enum mpnet_nh_type t)
{
        struct mpnet_ctl_buf *b = &r->d->out;

        answer_begin(r, MPNET_CTL_ROUTE_NEW);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, r->st->name);
        mpnet_ctl_put(b, MPNET_CTLA_ADDR, dst, len);
        mpnet_ctl_put_u8(b, MPNET_CTLA_PLEN, plen);
        mpnet_ctl_put_u32(b, MPNET_CTLA_TABLE, table);
        mpnet_ctl_put_u8(b, MPNET_CTLA_NHTYPE, (uint8_t)t);
}

static void path_put(struct req *r, int ifindex, const void *gw, size_t len)
{
        struct mpnet_ctl_buf *b = &r->d->out;

        mpnet_ctl_nest_begin(b, MPNET_CTLA_PATH);
        mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, ifname_of(r->st, ifindex));
        if (gw != NULL)
                mpnet_ctl_put(b, MPNET_CTLA_GW, gw, len);
        mpnet_ctl_nest_end(b);
}

static int route4_put(void *arg, const struct mpnet_route4 *rt)
{
        struct route_dump *x = arg;
        uint32_t dst = htonl(rt->dst);

        route_put_head(x->r, x->table, &dst, 4, rt->plen, rt->type);
        for (unsigned i = 0; i < rt->n_paths; i++) {
                uint32_t gw = htonl(rt->paths[i].gw);

                path_put(x->r, rt->paths[i].ifindex, rt->type == MPNET_NH_GATEWAY ? &gw : NULL, 4);
        }
        answer_end(x->r);
        return 0;
}

static int route6_put(void *arg, const struct mpnet_route6 *rt)
{
        struct route_dump *x = arg;

        route_put_head(x->r, x->table, rt->dst, 16, rt->plen, rt->type);
        for (unsigned i = 0; i < rt->n_paths; i++)
                path_put(x->r, rt->paths[i].ifindex,
                         rt->type == MPNET_NH_GATEWAY ? rt->paths[i].gw : NULL, 16);
        answer_end(x->r);
        return 0;
}

static int route_get(struct req *r)
{
        unsigned fam = r->tb[MPNET_CTLA_FAMILY] ? mpnet_ctl_attr_u8(r->tb[MPNET_CTLA_FAMILY]) : 0;
        struct route_dump x = {.r = r};
        int err;

        if (need_stack(r) != 0)
                return -ENOENT;
        if (route_table(r, &x.table, false) != 0)
                return -EINVAL;
        if (!(r->m->h->flags & MPNET_CTL_F_DUMP)) {
                const struct mpnet_ctl_attr *a = r->tb[MPNET_CTLA_ADDR];

                if (need(r, MPNET_CTLA_ADDR) != 0)
                        return -EINVAL;
                if (mpnet_ctl_attr_len(a) == 4) {
                        struct mpnet_route4 rt;
                        uint32_t v;

                        memcpy(&v, mpnet_ctl_attr_data(a), 4);
                        err = mpnet_route4_lookup(r->st->s, x.table, ntohl(v), &rt);
                        if (err == 0)
                                route4_put(&x, &rt);
                } else {
                        struct mpnet_route6 rt;

                        err = mpnet_route6_lookup(r->st->s, x.table, mpnet_ctl_attr_data(a), &rt);
                        if (err == 0)
                                route6_put(&x, &rt);
                }
                return err != 0 ? fail(r, -ENETUNREACH, "no route in table %u", x.table) : 0;
        }
        err = fam == 6 ? 0 : mpnet_route4_walk(r->st->s, x.table, route4_put, &x);
        if (err == 0 && fam != 4)
                err = mpnet_route6_walk(r->st->s, x.table, route6_put, &x);
        return err != 0 ? fail(r, err, "table %u: %s", x.table, strerror(-err)) : 0;
}

/* ---- neighbours --------------------------------------------------------- */

static int neigh_change(struct req *r, bool add)
{
        const struct mpnet_ctl_attr *a = r->tb[MPNET_CTLA_ADDR];
        struct dlink *l;
        int err;

        if (need_stack(r) != 0 || need_link(r, &l) != 0)
                return r->st == NULL ? -ENOENT : -ENODEV;
        if (need(r, MPNET_CTLA_ADDR) != 0 || (add && need(r, MPNET_CTLA_MAC) != 0))
                return -EINVAL;
        if (mpnet_ctl_attr_len(a) == 4) {
                uint32_t v;

                memcpy(&v, mpnet_ctl_attr_data(a), 4);
                err = add ? mpnet_neigh4_add(r->st->s, l->ifindex, ntohl(v),
                                             mpnet_ctl_attr_data(r->tb[MPNET_CTLA_MAC]))
                          : mpnet_neigh4_del(r->st->s, l->ifindex, ntohl(v));
        } else {
                err = add ? mpnet_neigh6_add(r->st->s, l->ifindex, mpnet_ctl_attr_data(a),
                                             mpnet_ctl_attr_data(r->tb[MPNET_CTLA_MAC]))
                          : mpnet_neigh6_del(r->st->s, l->ifindex, mpnet_ctl_attr_data(a));
        }
        if (err == -ENOENT)
                return fail(r, err, "no such neighbour on %s", l->name);
        return err != 0 ? fail(r, err, "%s", strerror(-err)) : 0;
}

struct neigh_dump {
        struct req *r;
        bool flush;
        unsigned n;
        struct mpnet_neigh_entry e[256];
};

static int neigh_put(void *arg, const struct mpnet_neigh_entry *e)
{
        struct neigh_dump *x = arg;
        struct mpnet_ctl_buf *b = &x->r->d->out;
        uint32_t a4 = htonl(e->addr4);

        if (x->flush) {
                if (e->info.state == MPNET_NEIGH_PERMANENT)
                        return 0;
                x->e[x->n++] = *e;
                return x->n == 256 ? 1 : 0;
        }
        answer_begin(x->r, MPNET_CTL_NEIGH_NEW);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, x->r->st->name);
        mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, ifname_of(x->r->st, e->ifindex));
        mpnet_ctl_put_u8(b, MPNET_CTLA_FAMILY, e->family);
        mpnet_ctl_put(b, MPNET_CTLA_ADDR, e->family == 4 ? (const void *)&a4 : e->addr6,
                      e->family == 4 ? 4 : 16);
        mpnet_ctl_put(b, MPNET_CTLA_MAC, e->info.mac, 6);
        mpnet_ctl_put_u8(b, MPNET_CTLA_STATE, (uint8_t)e->info.state);
        mpnet_ctl_put_u8(b, MPNET_CTLA_ROUTER, e->info.router);
        answer_end(x->r);
        return 0;
}

static int neigh_get(struct req *r, bool flush)
{
        struct neigh_dump *x;
        struct dlink *l = NULL;
        int err;

        if (need_stack(r) != 0)
                return -ENOENT;
        if (r->tb[MPNET_CTLA_IFNAME] != NULL && need_link(r, &l) != 0)
                return -ENODEV;
        x = calloc(1, sizeof(*x));
        if (x == NULL)
                return -ENOMEM;
        x->r = r;
        x->flush = flush;
        do {
                /* The walk may not delete: collect, delete, walk again. */
                x->n = 0;
                err = mpnet_neigh_walk(r->st->s, l ? l->ifindex : 0, neigh_put, x);
                for (unsigned i = 0; i < x->n; i++) {
                        if (x->e[i].family == 4)
                                mpnet_neigh4_del(r->st->s, x->e[i].ifindex, x->e[i].addr4);
                        else
                                mpnet_neigh6_del(r->st->s, x->e[i].ifindex, x->e[i].addr6);
                }
        } while (flush && err == 1);
        free(x);
        return err < 0 ? fail(r, err, "%s", strerror(-err)) : 0;
}

/* ---- workers, statistics ------------------------------------------------ */

static int worker_set(struct req *r)
{
        uint32_t w = u32_or(r, MPNET_CTLA_WORKER, 0), q = u32_or(r, MPNET_CTLA_QUEUE, 0);
        unsigned nw = r->d->cfg.n_workers ? r->d->cfg.n_workers : 1;
        struct dlink *l;
        int err;

        if (need_stack(r) != 0 || need_link(r, &l) != 0 || need(r, MPNET_CTLA_WORKER) != 0)
                return -EINVAL;
        if (w >= nw)
                return fail(r, -EINVAL, "worker %u: there are %u", w, nw);
        if (q >= l->n_rxq)
                return fail(r, -EINVAL, "queue %u: %s has %u", q, l->name, l->n_rxq);
        if (l->worker[q] == (int)w)
                return 0;
        if (l->worker[q] >= 0)
                mpnet_runtime_unassign(r->d->rt, r->st->s, l->ifindex, (uint16_t)q);
        l->worker[q] = -1;
        err = mpnet_runtime_assign(r->d->rt, w, r->st->s, l->ifindex, (uint16_t)q);
        if (err != 0)
                return fail(r, err, "assign: %s", strerror(-err));
        l->worker[q] = (int)w;
        return 0;
}

static int worker_get(struct req *r)
{
        unsigned nw = r->d->cfg.n_workers ? r->d->cfg.n_workers : 1;
        struct mpnet_ctl_buf *b = &r->d->out;

        for (unsigned w = 0; w < nw; w++) {
                struct mpnet_worker_stats ws;

                mpnet_runtime_worker_stats(r->d->rt, w, &ws);
                answer_begin(r, MPNET_CTL_WORKER_SET);
                mpnet_ctl_put_u32(b, MPNET_CTLA_WORKER, w);
                put_counter(b, "loops", ws.loops);
                put_counter(b, "busy", ws.busy);
                put_counter(b, "pkts", ws.pkts);
                put_counter(b, "sleeps", ws.sleeps);
                put_counter(b, "cpu_ns", ws.cpu_ns);
                for (struct dstack *st = r->d->stacks; st != NULL; st = st->next) {
                        for (int i = 1; i <= DSTACK_MAX_IFACES; i++) {
                                const struct dlink *l = st->links[i];

                                for (uint16_t q = 0; l != NULL && q < l->n_rxq; q++) {
                                        if (l->worker[q] != (int)w)
                                                continue;
                                        if (b->cap - b->len < 256) {
                                                answer_end(r);
                                                answer_begin(r, MPNET_CTL_WORKER_SET);
                                                mpnet_ctl_put_u32(b, MPNET_CTLA_WORKER, w);
                                        }
                                        mpnet_ctl_nest_begin(b, MPNET_CTLA_PATH);
                                        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, st->name);
                                        mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, l->name);
                                        mpnet_ctl_put_u32(b, MPNET_CTLA_QUEUE, q);
                                        mpnet_ctl_nest_end(b);
                                }
                        }
                }
                answer_end(r);
        }
        return 0;
}

static int stats_get(struct req *r)
{
        struct mpnet_ctl_buf *b = &r->d->out;

        if (need_stack(r) != 0)
                return -ENOENT;
        answer_begin(r, MPNET_CTL_STATS_GET);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, r->st->name);
        for (unsigned i = 0; i < mpnet_stack_counter_count(r->st->s); i++) {
                uint64_t v = mpnet_stack_counter(r->st->s, i);

                if (v != 0)
                        put_counter(b, mpnet_stack_counter_name(r->st->s, i), v);
        }
        answer_end(r);
        return 0;
}

static void node_put(struct mpnet_ctl_buf *b, const char *name, const struct mpnet_node_stats *ns)
{
        mpnet_ctl_nest_begin(b, MPNET_CTLA_NODE);
        mpnet_ctl_put_str(b, MPNET_CTLA_NAME, name);
        mpnet_ctl_put_u64(b, MPNET_CTLA_CALLS, ns->calls);
        mpnet_ctl_put_u64(b, MPNET_CTLA_PKTS, ns->pkts);
        mpnet_ctl_put_u64(b, MPNET_CTLA_CLOCKS, ns->cycles);
        mpnet_ctl_nest_end(b);
}

/* One context's nodes that ran, in a message of their own: THREAD is VPP's
 * numbering (0 the control thread, w + 1 worker w). @return whether the
 * stack has that context. */
static bool node_thread_put(struct req *r, unsigned worker)
{
        struct mpnet_ctl_buf *b = &r->d->out;
        struct mpnet_node_stats ns;
        const struct mpnet_stack *s = r->st->s;
        unsigned n = mpnet_node_count(s);

        if (n == 0 || mpnet_node_stats_worker(s, worker, 0, &ns) == -ENOENT)
                return false;
        answer_begin(r, MPNET_CTL_NODE_GET);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, r->st->name);
        mpnet_ctl_put_u32(b, MPNET_CTLA_THREAD, worker == MPNET_NODE_CONTROL ? 0 : worker + 1);
        if (worker != MPNET_NODE_CONTROL)
                mpnet_ctl_put_u32(b, MPNET_CTLA_WORKER, worker);
        for (unsigned i = 0; i < n; i++)
                if (mpnet_node_stats_worker(s, worker, i, &ns) == 0 && ns.calls != 0)
                        node_put(b, mpnet_node_name(s, i), &ns);
        answer_end(r);
        return true;
}

/* The totals per node, then each context's (as VPP's show runtime). */
static int node_get(struct req *r)
{
        struct mpnet_ctl_buf *b = &r->d->out;
        unsigned nw = r->d->cfg.n_workers ? r->d->cfg.n_workers : 1;

        if (need_stack(r) != 0)
                return -ENOENT;
        answer_begin(r, MPNET_CTL_NODE_GET);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, r->st->name);
        for (unsigned i = 0; i < mpnet_node_count(r->st->s); i++) {
                struct mpnet_node_stats ns;

                if (mpnet_node_stats_get(r->st->s, i, &ns) == 0)
                        node_put(b, mpnet_node_name(r->st->s, i), &ns);
        }
        answer_end(r);
        node_thread_put(r, MPNET_NODE_CONTROL);
        for (unsigned w = 0; w < nw; w++)
                node_thread_put(r, w);
        return 0;
}

/* ---- ping --------------------------------------------------------------- */

static int ping_start(struct req *r)
{
        const struct mpnet_ctl_attr *a = r->tb[MPNET_CTLA_ADDR];
        uint64_t now = mpnet_clock_now(&r->d->clk);
        struct dping *p;

        if (need_stack(r) != 0)
                return -ENOENT;
        if (need(r, MPNET_CTLA_ADDR) != 0)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (p == NULL)
                return -ENOMEM;
        p->st = r->st;
        p->seq = r->m->h->seq;
        p->id = ++r->d->ping_id;
        p->v6 = mpnet_ctl_attr_len(a) == 16;
        memcpy(p->dst, mpnet_ctl_attr_data(a), mpnet_ctl_attr_len(a));
        p->count = u32_or(r, MPNET_CTLA_COUNT, 3);
        if (p->count == 0)
                p->count = 1;
        p->next_send = now;
        p->deadline = now + (uint64_t)(p->count - 1) * 200000000ull +
                      (uint64_t)u32_or(r, MPNET_CTLA_TIMEOUT_MS, 1000) * 1000000ull;
        p->next = r->c->pings;
        r->c->pings = p;
        return 1;
}

/* Only this ping's identifier: another ping on the stack, of this client
 * or another, takes its own replies. */
static void ping_recv(struct dping *p)
{
        if (p->v6) {
                struct mpnet_ping6_reply rep[16];
                unsigned n;

                while ((n = mpnet_ping6_recv_id(p->st->s, p->id, rep, 16)) > 0)
                        for (unsigned i = 0; i < n; i++)
                                if (rep[i].type == 129) {
                                        p->received++;
                                        p->rtt_ns = rep[i].rtt_ns;
                                }
        } else {
                struct mpnet_ping_reply rep[16];
                unsigned n;

                while ((n = mpnet_ping4_recv_id(p->st->s, p->id, rep, 16)) > 0)
                        for (unsigned i = 0; i < n; i++)
                                if (rep[i].type == 0) {
                                        p->received++;
                                        p->rtt_ns = rep[i].rtt_ns;
                                }
        }
}

static void ping_send(struct mpnetd *d, struct dping *p, uint64_t now)
{
        uint16_t seq = (uint16_t)(p->sent + 1);

        if (p->v6) {
                struct mpnet_ping6_req q = {.id = p->id, .seq = seq, .payload_len = 56};

                memcpy(q.dst, p->dst, 16);
                mpnet_ping6_send(p->st->s, &q, now);
        } else {
                uint32_t v;

                memcpy(&v, p->dst, 4);
                mpnet_ping4_send(p->st->s, ntohl(v), p->id, seq, 56, now);
        }
        (void)d;
        p->sent++;
        p->next_send = now + 200000000ull;
}

static bool stack_pinging(struct mpnetd *d, const struct dstack *st)
{
        for (struct dclient *c = d->clients; c != NULL; c = c->next)
                for (struct dping *p = c->pings; p != NULL; p = p->next)
                        if (p->st == st)
                                return true;
        return false;
}

/* Replies that came after their ping ended stay on the stack (each ping
 * takes its own identifier's only): once no ping runs there, they go. */
static void ping_orphans_drop(struct mpnetd *d, struct dstack *st)
{
        struct mpnet_ping6_reply r6[16];
        struct mpnet_ping_reply r4[16];

        if (stack_pinging(d, st))
                return;
        while (mpnet_ping4_recv(st->s, r4, 16) > 0)
                ;
        while (mpnet_ping6_recv(st->s, r6, 16) > 0)
                ;
}

void mpnetd_pings_run(struct mpnetd *d, struct dclient *c)
{
        uint64_t now = mpnet_clock_now(&d->clk);

        for (struct dping **pp = &c->pings; *pp != NULL;) {
                struct dping *p = *pp;

                ping_recv(p);
                if (p->sent < p->count && now >= p->next_send)
                        ping_send(d, p, now);
                if ((p->received >= p->count && p->sent == p->count) || now >= p->deadline) {
                        d->out_to = c;
                        mpnetd_out_room(d, 256);
                        mpnet_ctl_msg_begin(&d->out, MPNET_CTL_PING, 0, p->seq, 0);
                        mpnet_ctl_put_u32(&d->out, MPNET_CTLA_SENT, p->sent);
                        mpnet_ctl_put_u32(&d->out, MPNET_CTLA_RECEIVED, p->received);
                        mpnet_ctl_put_u64(&d->out, MPNET_CTLA_RTT_NS, p->rtt_ns);
                        mpnet_ctl_msg_end(&d->out);
                        mpnet_ctl_msg_begin(&d->out, MPNET_CTL_ERROR, 0, p->seq, 0);
                        mpnet_ctl_put_s32(&d->out, 0);
                        mpnet_ctl_msg_end(&d->out);
                        mpnetd_out_flush(d);
                        d->out_to = NULL;
                        *pp = p->next;
                        ping_orphans_drop(d, p->st);
                        free(p);
                } else {
                        pp = &p->next;
                }
        }
}

void mpnetd_pings_free(struct dclient *c)
{
        while (c->pings != NULL) {
                struct dping *p = c->pings;

                c->pings = p->next;
                free(p);
        }
}

/* ---- capture ------------------------------------------------------------ */

static int capture(struct req *r)
{
        struct dlink *l;

        if (r->c == NULL)
                return fail(r, -EINVAL, "capture in a configuration file");
        if (need_stack(r) != 0 || need_link(r, &l) != 0)
                return r->st == NULL ? -ENOENT : -ENODEV;
        if (need(r, MPNET_CTLA_FILE) != 0)
                return -EINVAL;
        return mpnetd_capture_start(r->d, r->c, l, r->m, r->tb, r->why, r->why_len);
}

/* ---- dispatch ----------------------------------------------------------- */

int mpnetd_handle(struct mpnetd *d, struct dclient *c, const struct mpnet_ctl_view *m, char *why,
                  size_t why_len)
{
        struct req r = {.d = d, .c = c, .m = m, .why = why, .why_len = why_len};

        why[0] = '\0';
        mpnet_ctl_attrs_index(m->attrs, m->attrs_len, r.tb);
        switch (m->h->type) {
        case MPNET_CTL_NOOP:
                return 0;
        case MPNET_CTL_STACK_NEW:
                return stack_new(&r);
        case MPNET_CTL_STACK_DEL:
                return stack_del(&r);
        case MPNET_CTL_STACK_GET:
                return stack_get(&r);
        case MPNET_CTL_LINK_NEW:
                return link_new(&r);
        case MPNET_CTL_LINK_DEL:
                return link_del(&r);
        case MPNET_CTL_LINK_SET:
                return link_set(&r);
        case MPNET_CTL_LINK_GET:
                return link_get(&r);
        case MPNET_CTL_ADDR_NEW:
        case MPNET_CTL_ADDR_DEL:
                return addr_change(&r, m->h->type == MPNET_CTL_ADDR_NEW);
        case MPNET_CTL_ADDR_GET:
                return addr_get(&r);
        case MPNET_CTL_ROUTE_NEW:
                return route_new(&r);
        case MPNET_CTL_ROUTE_DEL:
                return route_del(&r);
        case MPNET_CTL_ROUTE_GET:
                return route_get(&r);
        case MPNET_CTL_NEIGH_NEW:
        case MPNET_CTL_NEIGH_DEL:
                return neigh_change(&r, m->h->type == MPNET_CTL_NEIGH_NEW);
        case MPNET_CTL_NEIGH_GET:
        case MPNET_CTL_NEIGH_FLUSH:
                return neigh_get(&r, m->h->type == MPNET_CTL_NEIGH_FLUSH);
        case MPNET_CTL_WORKER_GET:
                return worker_get(&r);
        case MPNET_CTL_WORKER_SET:
                return worker_set(&r);
        case MPNET_CTL_STATS_GET:
                return stats_get(&r);
        case MPNET_CTL_NODE_GET:
                return node_get(&r);
        case MPNET_CTL_SUBSCRIBE:
                if (c != NULL)
                        c->groups = u32_or(&r, MPNET_CTLA_GROUPS, 0);
                return 0;
        case MPNET_CTL_SAVE:
                return mpnetd_config_save(d) == 0 ? 0 : fail(&r, -EIO, "cannot write the file");
        case MPNET_CTL_PING:
                if (c == NULL)
                        return fail(&r, -EINVAL, "ping in a configuration file");
                return ping_start(&r);
        case MPNET_CTL_CAPTURE:
                return capture(&r);
        default:
                return fail(&r, -EOPNOTSUPP, "unknown message type %u", m->h->type);
        }
}
