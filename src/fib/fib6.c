/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 FIB of a stack: the same tables as IPv4 (fib4.c), each with an LPM
 * (fib/lpm6.c) made on its first IPv6 route, mapping a prefix to an
 * immutable next-hop object. A change publishes a new object, swaps the LPM
 * entry and retires the old object through stack_defer(): the sequence
 * fib4.c uses too (fib_route.c).
 *
 * Synchronisation: changes from the control thread; lookups from the packet
 * path, without locks (the table pointer and every entry are atomic).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fib/fib_route.h"
#include "mpnet/wire/ipv6.h"
#include "fib/fib_priv.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* Groups per table: 2^14 (16 MiB of address space) is room for some
 * thousands of /48s and longer. */
#define FIB6_TBL8 (1u << 14)

static void lpm_defer(void *ctx, void (*fn)(void *), void *arg)
{
        stack_defer(ctx, fn, arg);
}

static struct fib6_table *table6_get(struct mpnet_stack *s, uint32_t id, bool create)
{
        struct mpnet_lpm6_cfg cfg = {
            .max_tbl8 = FIB6_TBL8, .defer_free = lpm_defer, .defer_ctx = s};
        struct fib6_table *t = fib6_table(&s->fib6, id);

        if (t != NULL || !create || fib4_table(s, id) == NULL)
                return t;
        t = calloc(1, sizeof(*t));
        if (t == NULL)
                return NULL;
        t->lpm = mpnet_lpm6_create(&cfg);
        if (t->lpm == NULL) {
                free(t);
                return NULL;
        }
        atomic_store_explicit(&s->fib6.tables[id], t, memory_order_release);
        if (id >= s->fib6.tables_end)
                s->fib6.tables_end = id + 1;
        return t;
}

static void table6_free(void *arg)
{
        struct fib6_table *t = arg;

        mpnet_lpm6_destroy(t->lpm);
        free(t);
}

int fib6_table_del(struct mpnet_stack *s, uint32_t id)
{
        struct fib6_table *t = fib6_table(&s->fib6, id);

        if (t == NULL)
                return 0;
        if (t->n_routes != 0)
                return -EBUSY;
        atomic_store_explicit(&s->fib6.tables[id], NULL, memory_order_release);
        stack_defer(s, table6_free, t);
        return 0;
}

void fib6_fini(struct mpnet_stack *s)
{
        for (unsigned i = 0; i < s->fib6.tables_end; i++) {
                struct fib6_table *t = fib6_table(&s->fib6, i);

                if (t != NULL)
                        table6_free(t);
        }
        nh_table_fini(&s->fib6.nh);
}

/* ---- routes ----------------------------------------------------------- */

static bool host_bits_zero(const uint8_t *a, unsigned plen)
{
        for (unsigned i = plen; i < 128; i++) {
                if (a[i / 8] & (0x80 >> (i % 8)))
                        return false;
        }
        return true;
}

static int route_check(struct mpnet_stack *s, const struct mpnet_route6 *r)
{
        if (r->plen > 128 || !host_bits_zero(r->dst, r->plen) ||
            fib_route_type_check(r->type, r->n_paths) != 0)
                return -EINVAL;
        for (unsigned i = 0; i < r->n_paths; i++) {
                const struct mpnet_route6_path *p = &r->paths[i];

                if (stack_iface(s, p->ifindex) == NULL)
                        return -ENODEV;
                if (r->type == MPNET_NH_GATEWAY &&
                    (mpnet_ip6_is_unspecified(p->gw) || mpnet_ip6_is_multicast(p->gw) ||
                     mpnet_ip6_is_loopback(p->gw)))
                        return -EINVAL;
        }
        return 0;
}

static void *nh_build(struct mpnet_stack *s, const void *route)
{
        const struct mpnet_route6 *r = route;
        struct fib6_nh *nh = calloc(1, sizeof(*nh) + r->n_paths * sizeof(nh->paths[0]));

        if (nh == NULL)
                return NULL;
        nh->type = (uint8_t)r->type;
        nh->plen = r->plen;
        nh->n_paths = r->n_paths;
        memcpy(nh->dst, r->dst, 16);
        for (unsigned i = 0; i < r->n_paths; i++) {
                nh->paths[i].ifp = stack_iface(s, r->paths[i].ifindex);
                if (r->type == MPNET_NH_GATEWAY)
                        memcpy(nh->paths[i].gw, r->paths[i].gw, 16);
        }
        return nh;
}

static void nh_to_route(const struct fib6_nh *nh, const uint8_t *dst, uint8_t plen,
                        struct mpnet_route6 *r)
{
        memset(r, 0, sizeof(*r));
        memcpy(r->dst, dst, 16);
        r->plen = plen;
        r->type = (enum mpnet_nh_type)nh->type;
        r->n_paths = nh->n_paths;
        for (unsigned i = 0; i < nh->n_paths; i++) {
                r->paths[i].ifindex = nh->paths[i].ifp->ifindex;
                memcpy(r->paths[i].gw, nh->paths[i].gw, 16);
        }
}

static struct nh_table *nh_of(struct mpnet_stack *s)
{
        return &s->fib6.nh;
}

static int lpm_get(const void *lpm, const void *dst, unsigned plen, uint32_t *nh)
{
        return mpnet_lpm6_get(lpm, dst, plen, nh);
}

static int lpm_add(void *lpm, const void *dst, unsigned plen, uint32_t nh)
{
        return mpnet_lpm6_add(lpm, dst, plen, nh);
}

static int lpm_delete(void *lpm, const void *dst, unsigned plen)
{
        return mpnet_lpm6_delete(lpm, dst, plen);
}

static const struct fib_family fam6 = {
    .family = 6,
    .max_plen = 128,
    .nh_max = MPNET_LPM6_NH_MAX,
    .nh = nh_of,
    .build = nh_build,
    .lpm_get = lpm_get,
    .lpm_add = lpm_add,
    .lpm_delete = lpm_delete,
};

static int route_set(struct mpnet_stack *s, uint32_t table, const struct mpnet_route6 *r,
                     bool replace)
{
        struct fib6_table *t;
        int err;

        if (fib4_table(s, table) == NULL)
                return -ENOENT;
        err = route_check(s, r);
        if (err != 0)
                return err;
        t = table6_get(s, table, true);
        if (t == NULL)
                return -ENOMEM;
        return fib_route_set(s, &fam6, (struct fib_tref){t->lpm, &t->n_routes}, table, r, r->dst,
                             r->plen, replace);
}

int mpnet_route6_add(struct mpnet_stack *s, uint32_t table, const struct mpnet_route6 *r)
{
        return route_set(s, table, r, false);
}

int mpnet_route6_replace(struct mpnet_stack *s, uint32_t table, const struct mpnet_route6 *r)
{
        return route_set(s, table, r, true);
}

int mpnet_route6_del(struct mpnet_stack *s, uint32_t table, const uint8_t dst[16], uint8_t plen)
{
        struct fib6_table *t = table6_get(s, table, false);

        if (fib4_table(s, table) == NULL)
                return -ENOENT;
        if (plen > 128)
                return -EINVAL;
        if (t == NULL)
                return -ENOENT;
        return fib_route_del(s, &fam6, (struct fib_tref){t->lpm, &t->n_routes}, table, dst, plen);
}

int mpnet_route6_get(struct mpnet_stack *s, uint32_t table, const uint8_t dst[16], uint8_t plen,
                     struct mpnet_route6 *r)
{
        struct fib6_table *t = table6_get(s, table, false);
        uint8_t pfx[16] = {0};
        uint32_t idx;
        int err;

        if (fib4_table(s, table) == NULL || t == NULL)
                return -ENOENT;
        if (plen > 128)
                return -EINVAL;
        err = mpnet_lpm6_get(t->lpm, dst, plen, &idx);
        if (err != 0)
                return err;
        for (unsigned i = 0; i < plen; i++)
                pfx[i / 8] |= dst[i / 8] & (0x80 >> (i % 8));
        nh_to_route(fib6_nh_get(&s->fib6, idx), pfx, plen, r);
        return 0;
}

int mpnet_route6_lookup(struct mpnet_stack *s, uint32_t table, const uint8_t addr[16],
                        struct mpnet_route6 *r)
{
        const struct fib6_nh *nh;

        if (fib4_table(s, table) == NULL)
                return -ENOENT;
        nh = fib6_lookup(&s->fib6, table, addr);
        if (nh == NULL)
                return -ENOENT;
        nh_to_route(nh, nh->dst, nh->plen, r);
        return 0;
}

struct walk6_ctx {
        struct mpnet_stack *s;
        mpnet_route6_walk_fn fn;
        void *arg;
};

static int walk6_one(void *arg, const uint8_t prefix[16], unsigned plen, uint32_t idx)
{
        struct walk6_ctx *w = arg;
        struct mpnet_route6 r;

        nh_to_route(fib6_nh_get(&w->s->fib6, idx), prefix, (uint8_t)plen, &r);
        return w->fn(w->arg, &r);
}

int mpnet_route6_walk(struct mpnet_stack *s, uint32_t table, mpnet_route6_walk_fn fn, void *arg)
{
        static const uint8_t any[16];
        struct walk6_ctx w = {.s = s, .fn = fn, .arg = arg};
        struct fib6_table *t;

        if (fib4_table(s, table) == NULL)
                return -ENOENT;
        t = table6_get(s, table, false);
        return t != NULL ? mpnet_lpm6_walk(t->lpm, any, 0, walk6_one, &w) : 0;
}

long mpnet_route6_count(struct mpnet_stack *s, uint32_t table)
{
        struct fib6_table *t = table6_get(s, table, false);

        if (fib4_table(s, table) == NULL)
                return -ENOENT;
        return t != NULL ? (long)t->n_routes : 0;
}

/* ---- an interface going away -------------------------------------------- */

struct flush6 {
        struct mpnet_stack *s;
        const struct mpnet_iface *ifp;
        unsigned n, cap;
        struct mpnet_route6 *r;
};

static int flush6_collect(void *arg, const uint8_t prefix[16], unsigned plen, uint32_t idx)
{
        struct flush6 *f = arg;
        const struct fib6_nh *nh = fib6_nh_get(&f->s->fib6, idx);

        for (unsigned i = 0; i < nh->n_paths; i++) {
                if (nh->paths[i].ifp != f->ifp)
                        continue;
                if (f->n == f->cap) {
                        unsigned cap = f->cap ? f->cap * 2 : 16;
                        struct mpnet_route6 *v = realloc(f->r, cap * sizeof(*v));

                        if (v == NULL)
                                return -ENOMEM;
                        f->r = v;
                        f->cap = cap;
                }
                nh_to_route(nh, prefix, (uint8_t)plen, &f->r[f->n++]);
                return 0;
        }
        return 0;
}

int fib6_iface_flush(struct mpnet_stack *s, const struct mpnet_iface *ifp)
{
        static const uint8_t any[16];
        int err = 0;

        for (uint32_t id = 0; id < MPNET_TABLE_MAX; id++) {
                struct fib6_table *t = fib6_table(&s->fib6, id);
                struct flush6 f = {.s = s, .ifp = ifp};

                if (t == NULL)
                        continue;
                if (mpnet_lpm6_walk(t->lpm, any, 0, flush6_collect, &f) != 0)
                        err = -ENOMEM;
                for (unsigned k = 0; k < f.n; k++) {
                        struct mpnet_route6 *r = &f.r[k];
                        uint8_t n = 0;

                        for (unsigned i = 0; i < r->n_paths; i++)
                                if (r->paths[i].ifindex != ifp->ifindex)
                                        r->paths[n++] = r->paths[i];
                        r->n_paths = n;
                        if (n == 0)
                                mpnet_route6_del(s, id, r->dst, r->plen);
                        else
                                mpnet_route6_replace(s, id, r);
                }
                free(f.r);
        }
        return err;
}
