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
#include "l3/neigh.h"
#include "mpnet/wire/icmp4.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/*
 * Admission at a full table. RFC 791 3.2, RFC 1122 3.3.2 and RFC 8200 4.5
 * leave open what a table at its caps does with a fragment of a new
 * datagram. Evicting the oldest datagram for it lets a flood of fragments
 * that never complete (random sources, one datagram each) cost an eviction
 * and a held buffer per frame. So, only while a cap binds, a new datagram
 * may evict when its source is a neighbour the receiving interface has
 * resolved (a peer on the link; an entry with a link-layer address), or
 * when a token bucket per context and family allows it (REASS_ADMIT_RATE
 * a second for the stack, REASS_ADMIT_BURST, each context at its share:
 * sources off the link, behind a router, still get in at that rate);
 * otherwise the fragment is dropped at once and counted
 * (ip4_reass_refused, ip6_reass_refused), nothing evicted, nothing held.
 * Fragments of datagrams already held never meet the check.
 */
#define REASS_ADMIT_RATE  1000u
#define REASS_ADMIT_BURST 100u

enum { REASS_CTR_REFUSED };

struct reass4_ctx {
        struct ip4_reass *r;
        struct mpnet_iface *in; /* the interface of the fragment being added */
        struct punt_bucket admit;
        /* Before this time the bucket holds no token (set by a refusal):
         * reass4_refuse() refuses without asking it. */
        uint64_t shut_until;
};

struct reass6_ctx {
        struct ip6_reass *r;
        struct mpnet_iface *in;
        struct punt_bucket admit;
        uint64_t shut_until;
};

struct ip4_reass *reass4_of(struct wctx *w)
{
        return ((struct reass4_ctx *)w->mctx[MOD_ip4_reass])->r;
}

struct ip6_reass *reass6_of(struct wctx *w)
{
        return ((struct reass6_ctx *)w->mctx[MOD_ip6_reass])->r;
}

struct ip4_reass *reass4_in(struct wctx *w, struct mpnet_iface *ifp)
{
        struct reass4_ctx *c = w->mctx[MOD_ip4_reass];

        c->in = ifp;
        return c->r;
}

struct ip6_reass *reass6_in(struct wctx *w, struct mpnet_iface *ifp)
{
        struct reass6_ctx *c = w->mctx[MOD_ip6_reass];

        c->in = ifp;
        return c->r;
}

/* Whether e, if any, is a resolved neighbour (it has a link-layer address). */
static bool reass_peer(const struct neigh_entry *e)
{
        uint64_t f;

        if (e == NULL)
                return false;
        f = atomic_load_explicit(&((struct neigh_entry *)e)->fast, memory_order_relaxed);
        return (NEIGH_USABLE >> ((f >> 48) & 0xff)) & 1;
}

/* A refusal: until the bucket's next token, at the earliest (at the
 * stack's whole rate, which a context's share never exceeds), the same
 * answer is known without asking it (*shut_until). */
static bool reass_admit(struct wctx *w, struct punt_bucket *tb, uint64_t *shut_until, unsigned mod,
                        bool peer)
{
        struct mpnet_stack *s = w->s;

        if (peer || ctx_bucket_take(w, tb, REASS_ADMIT_RATE, REASS_ADMIT_BURST))
                return true;
        if (tb->tokens < MPNET_NS_PER_S)
                *shut_until = tb->last + (MPNET_NS_PER_S - tb->tokens) / REASS_ADMIT_RATE;
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, mod, REASS_CTR_REFUSED));
        return false;
}

static bool reass4_peer(struct mpnet_iface *ifp, uint32_t src)
{
        return ifp != NULL && ifp->neigh[NEIGH_ARP] != NULL && reass_peer(neigh_lookup4(ifp, src));
}

static bool reass6_peer(struct mpnet_iface *ifp, const uint8_t *src)
{
        return ifp != NULL && ifp->neigh[NEIGH_ND] != NULL && reass_peer(neigh_lookup6(ifp, src));
}

static bool reass4_admit(void *arg, uint32_t src)
{
        struct wctx *w = arg;
        struct reass4_ctx *c = w->mctx[MOD_ip4_reass];

        return reass_admit(w, &c->admit, &c->shut_until, MOD_ip4_reass, reass4_peer(c->in, src));
}

bool reass6_admit(struct wctx *w, const uint8_t *src)
{
        struct reass6_ctx *c = w->mctx[MOD_ip6_reass];

        return reass_admit(w, &c->admit, &c->shut_until, MOD_ip6_reass, reass6_peer(c->in, src));
}

/*
 * The same refusal, told before the table's work (ip4-local and ip6-local,
 * per vector) and only where the table would refuse too: the bucket known
 * empty (shut_until), the table at a cap for a new datagram of this
 * fragment, none of its key held (the chain filter), every check on the
 * way passed (ip4_reass_refusable, ip6_reass_refusable), its source no
 * resolved neighbour of ifp (the rarest: last). A refusal here takes no
 * token, as one there would not.
 */
bool reass4_refuse(struct wctx *w, struct mpnet_iface *ifp, const struct mpnet_pkt *p, uint64_t now)
{
        struct reass4_ctx *c = w->mctx[MOD_ip4_reass];
        uint32_t src;

        return now < c->shut_until && ip4_reass_refusable(c->r, p, now, &src) &&
               !reass4_peer(ifp, src);
}

bool reass6_refuse(struct wctx *w, struct mpnet_iface *ifp, const struct mpnet_pkt *p, uint64_t now)
{
        struct reass6_ctx *c = w->mctx[MOD_ip6_reass];

        return now < c->shut_until && ip6_reass_refusable(c->r, p) &&
               !reass6_peer(ifp, p->data + 8);
}

/* n refused by reass4_refuse or reass6_refuse: counted at once. */
void reass4_refused(struct wctx *w, unsigned n)
{
        struct reass4_ctx *c = w->mctx[MOD_ip4_reass];
        struct mpnet_stack *s = w->s;

        ip4_reass_count_refused(c->r, n);
        mpnet_counter_add(s->ctr, graph_mod_ctr(&s->g, MOD_ip4_reass, REASS_CTR_REFUSED), n);
        STK_ADD(s, ip4_frag_rx, n);
        STK_ADD(s, ip4_reass_cap, n);
}

void reass6_refused(struct wctx *w, unsigned n)
{
        struct mpnet_stack *s = w->s;

        mpnet_counter_add(s->ctr, graph_mod_ctr(&s->g, MOD_ip6_reass, REASS_CTR_REFUSED), n);
        STK_ADD(s, ip6_frag_rx, n);
        STK_ADD(s, ip6_reass_cap, n);
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
            .admit = reass4_admit,
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

static const struct counter_reg reass4_counters[] = {
    [REASS_CTR_REFUSED] = {"ip4_reass_refused",
                           "IPv4 fragments of a new datagram refused at a full table"},
};

const struct mpnet_module mod_ip4_reass = {
    .name = "ip4-reass",
    .counters = reass4_counters,
    .n_counters = 1,
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

static const struct counter_reg reass6_counters[] = {
    [REASS_CTR_REFUSED] = {"ip6_reass_refused",
                           "IPv6 fragments of a new datagram refused at a full table"},
};

const struct mpnet_module mod_ip6_reass = {
    .name = "ip6-reass",
    .counters = reass6_counters,
    .n_counters = 1,
    .ctx_state_size = sizeof(struct reass6_ctx),
    .ctx_init = reass6_ctx_init,
    .ctx_fini = reass6_ctx_fini,
    .ctx_service = reass6_ctx_service,
    .ctx_reset = reass6_ctx_reset,
    .ctx_usage = reass6_ctx_usage,
};
