/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IPv4 and IPv6 reassembly modules: a reassembly table per context and
 * family (struct mpnet_module's per-context state), which the context that
 * owns a datagram's flow fills (ip4_input.c, ip6_input.c), times out on its
 * loop, and which stack_reset() and mpnet_stack_usage_get() reach through
 * the module hooks. Both families charge the stack's one reassembly budget
 * (stack_priv.h, struct reass_budget), so the cap holds for the stack
 * whatever the number of contexts.
 *
 * Synchronisation: a table is its context's alone (graph.h), serviced by
 * the control thread once no worker runs the context (ctx_orphans); the
 * budget is changed with relaxed atomics from every context; the usage
 * hooks read relaxed counters from the control thread.
 * Life cycle: made with the context (stack_ctx_get), freed with it.
 */
#include <errno.h>

#include "l3/ip4.h"
#include "l3/ip4_frag.h"
#include "l3/ip6.h"
#include "mpnet/wire/icmp4.h"
#include "stack/stack_priv.h"

struct reass4_ctx {
        struct ip4_reass *r;
};

struct reass6_ctx {
        struct ip6_reass *r;
};

struct ip4_reass *reass4_of(struct wctx *w)
{
        return ((struct reass4_ctx *)w->mctx[MOD_ip4_reass])->r;
}

struct ip6_reass *reass6_of(struct wctx *w)
{
        return ((struct reass6_ctx *)w->mctx[MOD_ip6_reass])->r;
}

/* A datagram whose first fragment came timed out: RFC 792 / RFC 1122
 * 3.3.2.1, time exceeded, code 1 (fragment reassembly time exceeded). */
static void reass4_expired(void *arg, struct mpnet_pkt *first)
{
        struct wctx *w = arg;

        STK_INC(w->s, ip4_reass_timeout);
        icmp4_error(w, first, MPNET_ICMP4_TIME_EXCEEDED, 1, 0);
}

static int reass4_ctx_init(struct wctx *w, void *cs)
{
        struct reass4_ctx *c = cs;
        struct mpnet_stack *s = w->s;
        struct ip4_reass_cfg rc = {
            .hash_seed = stack_random(s),
            .expired = reass4_expired,
            .arg = w,
            .max_bytes = s->reass.max,
            .max_per_src = s->reass.max / 16,
            .shared_used = &s->reass.used,
            .shared_max = s->reass.max,
        };

        if (rc.max_per_src < 64 * IP4_REASS_TRUESIZE)
                rc.max_per_src = rc.max_bytes;
        c->r = ip4_reass_create(&rc);
        return c->r != NULL ? 0 : -ENOMEM;
}

static void reass4_ctx_fini(struct wctx *w, void *cs)
{
        struct reass4_ctx *c = cs;

        (void)w;
        ip4_reass_destroy(c->r);
}

static uint64_t reass4_ctx_service(struct wctx *w, void *cs, uint64_t now)
{
        struct reass4_ctx *c = cs;
        uint64_t next = ip4_reass_next_expiry(c->r);

        (void)w;
        if (next != MPNET_TIME_NEVER && next <= now) {
                ip4_reass_expire(c->r, now);
                next = ip4_reass_next_expiry(c->r);
        }
        return next;
}

static void reass4_ctx_reset(struct wctx *w, void *cs)
{
        struct reass4_ctx *c = cs;

        (void)w;
        ip4_reass_flush(c->r);
}

static void reass4_ctx_usage(const struct wctx *w, const void *cs, struct mpnet_stack_usage *u)
{
        const struct reass4_ctx *c = cs;
        struct ip4_reass_stats st;

        ip4_reass_get_stats(c->r, &st);
        u->reass4_bytes += st.bytes_held;
        /* One cap for the stack, both families (struct reass_budget). */
        u->reass4_max_bytes = w->s->reass.max;
        u->reass4_datagrams += (uint32_t)st.datagrams_held;
        u->reass4_max_datagrams += (uint32_t)st.max_datagrams;
}

const struct mpnet_module mod_ip4_reass = {
    .name = "ip4-reass",
    .ctx_state_size = sizeof(struct reass4_ctx),
    .ctx_init = reass4_ctx_init,
    .ctx_fini = reass4_ctx_fini,
    .ctx_service = reass4_ctx_service,
    .ctx_reset = reass4_ctx_reset,
    .ctx_usage = reass4_ctx_usage,
};

static int reass6_ctx_init(struct wctx *w, void *cs)
{
        struct reass6_ctx *c = cs;

        c->r = ip6_reass_create(w, &w->s->reass);
        return c->r != NULL ? 0 : -ENOMEM;
}

static void reass6_ctx_fini(struct wctx *w, void *cs)
{
        struct reass6_ctx *c = cs;

        (void)w;
        ip6_reass_destroy(c->r);
}

/* RFC 8200 4.5: the owner of a datagram times it out. */
static uint64_t reass6_ctx_service(struct wctx *w, void *cs, uint64_t now)
{
        struct reass6_ctx *c = cs;
        uint64_t next = ip6_reass_next_expiry(c->r);

        (void)w;
        if (next != MPNET_TIME_NEVER && next <= now) {
                ip6_reass_expire(c->r, now);
                next = ip6_reass_next_expiry(c->r);
        }
        return next;
}

static void reass6_ctx_reset(struct wctx *w, void *cs)
{
        struct reass6_ctx *c = cs;

        (void)w;
        ip6_reass_flush(c->r);
}

static void reass6_ctx_usage(const struct wctx *w, const void *cs, struct mpnet_stack_usage *u)
{
        const struct reass6_ctx *c = cs;
        uint64_t b, mb;
        uint32_t d, md;

        ip6_reass_usage(c->r, &b, &mb, &d, &md);
        u->reass6_bytes += b;
        u->reass6_max_bytes = w->s->reass.max;
        u->reass6_datagrams += d;
        u->reass6_max_datagrams += md;
}

const struct mpnet_module mod_ip6_reass = {
    .name = "ip6-reass",
    .ctx_state_size = sizeof(struct reass6_ctx),
    .ctx_init = reass6_ctx_init,
    .ctx_fini = reass6_ctx_fini,
    .ctx_service = reass6_ctx_service,
    .ctx_reset = reass6_ctx_reset,
    .ctx_usage = reass6_ctx_usage,
};
