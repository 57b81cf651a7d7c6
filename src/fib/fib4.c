/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 FIB of a stack: tables (VRFs) of routes, each an LPM (fib/lpm4.c)
 * mapping a prefix to a next-hop object. A next-hop object belongs to one
 * route and never changes once published: a route change builds a new one,
 * swaps the LPM entry (one atomic store per table word) and retires the old
 * one through stack_defer(), so a packet that looked up the old route still
 * reads a whole object.
 *
 * Next-hop objects live in a two-level directory indexed by the 24-bit index
 * the LPM stores; chunks are allocated on demand and never move, so readers
 * index them without locks.
 *
 * The add, replace and delete sequence is shared with IPv6 (fib_route.c).
 *
 * Synchronisation: changes from the control thread; lookups from the packet
 * path (workers and the control thread), without locks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fib/fib_route.h"
#include "mpnet/wire/ipv4.h"
#include "fib/fib_priv.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

static const char *const nh_names[MPNET_NH__COUNT] = {
    [MPNET_NH_CONNECTED] = "connected",
    [MPNET_NH_GATEWAY] = "gateway",
    [MPNET_NH_LOCAL] = "local",
    [MPNET_NH_BLACKHOLE] = "blackhole",
    [MPNET_NH_UNREACHABLE] = "unreachable",
    [MPNET_NH_PROHIBIT] = "prohibit",
};

const char *mpnet_nh_type_name(enum mpnet_nh_type t)
{
        return (unsigned)t < MPNET_NH__COUNT ? nh_names[t] : "?";
}

static void lpm_defer(void *ctx, void (*fn)(void *), void *arg)
{
        stack_defer(ctx, fn, arg);
}

static struct fib4_table *table_new(struct mpnet_stack *s, uint32_t id)
{
        struct mpnet_lpm4_cfg cfg = {.defer_free = lpm_defer, .defer_ctx = s};
        struct fib4_table *t = calloc(1, sizeof(*t));

        if (t == NULL)
                return NULL;
        t->id = id;
        t->lpm = mpnet_lpm4_create(&cfg);
        if (t->lpm == NULL) {
                free(t);
                return NULL;
        }
        return t;
}

int fib4_init(struct mpnet_stack *s)
{
        struct fib4_table *t = table_new(s, 0);

        atomic_store_explicit(&s->fib.tables[0], t, memory_order_release);
        s->fib.tables_end = 1;
        return t != NULL ? 0 : -ENOMEM;
}

static void table_free(void *arg);

void fib4_fini(struct mpnet_stack *s)
{
        for (unsigned i = 0; i < s->fib.tables_end; i++) {
                struct fib4_table *t = fib4_table(s, i);

                if (t != NULL)
                        table_free(t);
        }
        nh_table_fini(&s->fib.nh);
}

struct fib4_table *fib4_table(struct mpnet_stack *s, uint32_t id)
{
        return id < MPNET_TABLE_MAX ? atomic_load_explicit(&s->fib.tables[id], memory_order_acquire)
                                    : NULL;
}

/* ---- routes ----------------------------------------------------------- */

static int route_check(struct mpnet_stack *s, const struct mpnet_route4 *r)
{
        if (r->plen > 32 || (r->plen < 32 && (r->dst & ~ip4_mask(r->plen)) != 0) ||
            fib_route_type_check(r->type, r->n_paths) != 0)
                return -EINVAL;
        for (unsigned i = 0; i < r->n_paths; i++) {
                const struct mpnet_route_path *p = &r->paths[i];

                if (stack_iface(s, p->ifindex) == NULL)
                        return -ENODEV;
                if (r->type == MPNET_NH_GATEWAY && (p->gw == 0 || mpnet_ip4_is_multicast(p->gw) ||
                                                    mpnet_ip4_is_limited_bcast(p->gw)))
                        return -EINVAL;
        }
        return 0;
}

static void *nh_build(struct mpnet_stack *s, const void *route)
{
        const struct mpnet_route4 *r = route;
        struct fib_nh *nh = calloc(1, sizeof(*nh) + r->n_paths * sizeof(nh->paths[0]));

        if (nh == NULL)
                return NULL;
        nh->type = (uint8_t)r->type;
        nh->plen = r->plen;
        nh->n_paths = r->n_paths;
        nh->dst = r->dst;
        for (unsigned i = 0; i < r->n_paths; i++) {
                nh->paths[i].ifp = stack_iface(s, r->paths[i].ifindex);
                nh->paths[i].gw = r->type == MPNET_NH_GATEWAY ? r->paths[i].gw : 0;
        }
        return nh;
}

static void nh_to_route(const struct fib_nh *nh, uint32_t dst, uint8_t plen, struct mpnet_route4 *r)
{
        memset(r, 0, sizeof(*r));
        r->dst = dst;
        r->plen = plen;
        r->type = (enum mpnet_nh_type)nh->type;
        r->n_paths = nh->n_paths;
        for (unsigned i = 0; i < nh->n_paths; i++) {
                r->paths[i].ifindex = nh->paths[i].ifp->ifindex;
                r->paths[i].gw = nh->paths[i].gw;
        }
}

static struct nh_table *nh_of(struct mpnet_stack *s)
{
        return &s->fib.nh;
}

static int lpm_get(const void *lpm, const void *dst, unsigned plen, uint32_t *nh)
{
        return mpnet_lpm4_get(lpm, *(const uint32_t *)dst, plen, nh);
}

static int lpm_add(void *lpm, const void *dst, unsigned plen, uint32_t nh)
{
        return mpnet_lpm4_add(lpm, *(const uint32_t *)dst, plen, nh);
}

static int lpm_delete(void *lpm, const void *dst, unsigned plen)
{
        return mpnet_lpm4_delete(lpm, *(const uint32_t *)dst, plen);
}

static const struct fib_family fam4 = {
    .family = 4,
    .max_plen = 32,
    .nh_max = MPNET_LPM4_NH_MAX,
    .nh = nh_of,
    .build = nh_build,
    .lpm_get = lpm_get,
    .lpm_add = lpm_add,
    .lpm_delete = lpm_delete,
};

static int route_set(struct mpnet_stack *s, uint32_t table, const struct mpnet_route4 *r,
                     bool replace)
{
        struct fib4_table *t = fib4_table(s, table);
        int err;

        if (t == NULL)
                return -ENOENT;
        err = route_check(s, r);
        if (err != 0)
                return err;
        return fib_route_set(s, &fam4, (struct fib_tref){t->lpm, &t->n_routes}, table, r, &r->dst,
                             r->plen, replace);
}

int mpnet_route4_add(struct mpnet_stack *s, uint32_t table, const struct mpnet_route4 *r)
{
        return route_set(s, table, r, false);
}

int mpnet_route4_replace(struct mpnet_stack *s, uint32_t table, const struct mpnet_route4 *r)
{
        return route_set(s, table, r, true);
}

int mpnet_route4_del(struct mpnet_stack *s, uint32_t table, uint32_t dst, uint8_t plen)
{
        struct fib4_table *t = fib4_table(s, table);

        if (t == NULL)
                return -ENOENT;
        return fib_route_del(s, &fam4, (struct fib_tref){t->lpm, &t->n_routes}, table, &dst, plen);
}

int mpnet_route4_get(struct mpnet_stack *s, uint32_t table, uint32_t dst, uint8_t plen,
                     struct mpnet_route4 *r)
{
        struct fib4_table *t = fib4_table(s, table);
        uint32_t idx;
        int err;

        if (t == NULL)
                return -ENOENT;
        if (plen > 32)
                return -EINVAL;
        err = mpnet_lpm4_get(t->lpm, dst, plen, &idx);
        if (err != 0)
                return err;
        nh_to_route(fib_nh_get(&s->fib, idx), dst & ip4_mask(plen), plen, r);
        return 0;
}

int mpnet_route4_lookup(struct mpnet_stack *s, uint32_t table, uint32_t addr,
                        struct mpnet_route4 *r)
{
        struct fib4_table *t = fib4_table(s, table);
        const struct fib_nh *nh;

        if (t == NULL)
                return -ENOENT;
        nh = fib4_lookup(&s->fib, t, addr);
        if (nh == NULL)
                return -ENOENT;
        nh_to_route(nh, nh->dst, nh->plen, r);
        return 0;
}

struct walk_ctx {
        struct mpnet_stack *s;
        mpnet_route4_walk_fn fn;
        void *arg;
};

static int walk_one(void *arg, uint32_t prefix, unsigned plen, uint32_t idx)
{
        struct walk_ctx *w = arg;
        struct mpnet_route4 r;

        nh_to_route(fib_nh_get(&w->s->fib, idx), prefix, (uint8_t)plen, &r);
        return w->fn(w->arg, &r);
}

int mpnet_route4_walk(struct mpnet_stack *s, uint32_t table, mpnet_route4_walk_fn fn, void *arg)
{
        struct fib4_table *t = fib4_table(s, table);
        struct walk_ctx w = {.s = s, .fn = fn, .arg = arg};

        if (t == NULL)
                return -ENOENT;
        return mpnet_lpm4_walk(t->lpm, 0, 0, walk_one, &w);
}

long mpnet_route4_count(struct mpnet_stack *s, uint32_t table)
{
        struct fib4_table *t = fib4_table(s, table);

        return t != NULL ? (long)t->n_routes : -ENOENT;
}

/* ---- tables ----------------------------------------------------------- */

int mpnet_table_add(struct mpnet_stack *s, uint32_t id)
{
        struct fib4_table *t;

        if (id == 0 || id >= MPNET_TABLE_MAX)
                return -EINVAL;
        if (fib4_table(s, id) != NULL)
                return -EEXIST;
        t = table_new(s, id);
        if (t == NULL)
                return -ENOMEM;
        atomic_store_explicit(&s->fib.tables[id], t, memory_order_release);
        if (id >= s->fib.tables_end)
                s->fib.tables_end = id + 1;
        return 0;
}

static void table_free(void *arg)
{
        struct fib4_table *t = arg;

        mpnet_lpm4_destroy(t->lpm);
        free(t);
}

int mpnet_table_del(struct mpnet_stack *s, uint32_t id)
{
        struct fib4_table *t;

        if (id == 0 || id >= MPNET_TABLE_MAX)
                return -EINVAL;
        t = fib4_table(s, id);
        if (t == NULL)
                return -ENOENT;
        if (t->n_routes != 0 || t->n_ifaces != 0)
                return -EBUSY;
        if (fib6_table_del(s, id) != 0)
                return -EBUSY;
        atomic_store_explicit(&s->fib.tables[id], NULL, memory_order_release);
        /* No interface is bound now, but a worker may still be looking it up
         * through one that mpnet_iface_set_table() just moved off it. */
        stack_defer(s, table_free, t);
        return 0;
}

/* ---- an interface going away -------------------------------------------- */

struct flush4 {
        int ifindex;
        unsigned n, cap;
        struct mpnet_route4 *r;
};

static int flush4_collect(void *arg, const struct mpnet_route4 *r)
{
        struct flush4 *f = arg;

        for (unsigned i = 0; i < r->n_paths; i++) {
                if (r->paths[i].ifindex != f->ifindex)
                        continue;
                if (f->n == f->cap) {
                        unsigned cap = f->cap ? f->cap * 2 : 16;
                        struct mpnet_route4 *v = realloc(f->r, cap * sizeof(*v));

                        if (v == NULL)
                                return -ENOMEM;
                        f->r = v;
                        f->cap = cap;
                }
                f->r[f->n++] = *r;
                return 0;
        }
        return 0;
}

int fib4_iface_flush(struct mpnet_stack *s, int ifindex)
{
        int err = 0;

        for (uint32_t id = 0; id < MPNET_TABLE_MAX; id++) {
                struct flush4 f = {.ifindex = ifindex};

                if (fib4_table(s, id) == NULL)
                        continue;
                if (mpnet_route4_walk(s, id, flush4_collect, &f) != 0)
                        err = -ENOMEM;
                /* A route through the interface loses that path; with none
                 * left it goes (as Linux drops a multipath route's nexthop). */
                for (unsigned k = 0; k < f.n; k++) {
                        struct mpnet_route4 *r = &f.r[k];
                        uint8_t n = 0;

                        for (unsigned i = 0; i < r->n_paths; i++)
                                if (r->paths[i].ifindex != ifindex)
                                        r->paths[n++] = r->paths[i];
                        r->n_paths = n;
                        if (n == 0)
                                mpnet_route4_del(s, id, r->dst, r->plen);
                        else
                                mpnet_route4_replace(s, id, r);
                }
                free(f.r);
        }
        return err;
}
