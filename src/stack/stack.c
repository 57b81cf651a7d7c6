/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stack object: creation, interfaces, addresses, the poll loop, counters.
 *
 * Synchronisation (docs/MP-SAFETY.md): the control thread configures the
 * stack; the packet path, contexts and punts here run on every context.
 * Nothing here is global: every piece of state hangs off struct mpnet_stack.
 * Life cycle: the stack owns its interfaces, addresses, neighbour entries and
 * every packet it holds; it never owns the links, which the caller destroys
 * after the stack.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mpnet/wire/ethernet.h"
#include <urcu-qsbr.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/icmp4.h"
#include "fib/fib_priv.h"
#include "l2/ether.h" /* ctx_tx_flush */
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"
#include "stack/steer.h"

static const char *const counter_names[] = {
#define X(name, desc) #name,
    STACK_COUNTERS(X)
#undef X
};

static const char *const counter_descs[] = {
#define X(name, desc) desc,
    STACK_COUNTERS(X)
#undef X
};

unsigned mpnet_stack_counter_count(const struct mpnet_stack *s)
{
        return STK__COUNT + s->g.n_ctrs;
}

/* The module counter id names, or NULL. */
static const struct counter_reg *module_counter(const struct mpnet_stack *s, unsigned id)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                const struct graph_mod *gm = &s->g.mods[i];

                if (id >= gm->ctr_base && id - gm->ctr_base < gm->m->n_counters)
                        return &gm->m->counters[id - gm->ctr_base];
        }
        return NULL;
}

const char *mpnet_stack_counter_name(const struct mpnet_stack *s, unsigned id)
{
        const struct counter_reg *r;

        if (id < STK__COUNT)
                return counter_names[id];
        r = module_counter(s, id);
        return r != NULL ? r->name : NULL;
}

const char *mpnet_stack_counter_desc(const struct mpnet_stack *s, unsigned id)
{
        const struct counter_reg *r;

        if (id < STK__COUNT)
                return counter_descs[id];
        r = module_counter(s, id);
        return r != NULL ? r->desc : NULL;
}

int mpnet_stack_counter_find(const struct mpnet_stack *s, const char *name)
{
        unsigned n = mpnet_stack_counter_count(s);

        for (unsigned id = 0; name != NULL && id < n; id++) {
                if (strcmp(mpnet_stack_counter_name(s, id), name) == 0)
                        return (int)id;
        }
        return -ENOENT;
}

uint64_t mpnet_stack_counter(const struct mpnet_stack *s, unsigned id)
{
        return id < mpnet_stack_counter_count(s) ? mpnet_counter_read(s->ctr, id) : 0;
}

/* splitmix64: small, seedable, good enough for jitter and IP ids. */
uint64_t stack_random(struct mpnet_stack *s)
{
        uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* Tunables: {default, min, max}; 0 in the config takes the default. */
static int tunable(uint64_t v, uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
        if (v == 0)
                v = def;
        if (v < min || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

struct mpnet_stack *mpnet_stack_create(const struct mpnet_stack_cfg *cfg)
{
        struct mpnet_stack *s;
        uint64_t qmax, probes;
        int err;

        if (cfg == NULL || cfg->clock == NULL || cfg->pool == NULL) {
                errno = EINVAL;
                return NULL;
        }
        /* Lazily zeroed: a stack's big arrays cost nothing until used. */
        s = zalloc_lines(sizeof(*s));
        if (s == NULL)
                return NULL;
        if (tunable(cfg->arp_queue_max, 16, 1, 1024, &qmax) ||
            tunable(cfg->arp_max_probes, 3, 1, 100, &probes) ||
            tunable(cfg->arp_reachable_ns, 30 * MPNET_NS_PER_S, MPNET_NS_PER_MS,
                    3600 * MPNET_NS_PER_S, &s->arp_reachable_ns) ||
            tunable(cfg->arp_retrans_ns, MPNET_NS_PER_S, MPNET_NS_PER_MS, 60 * MPNET_NS_PER_S,
                    &s->arp_retrans_ns)) {
                zfree_lines(s);
                errno = EINVAL;
                return NULL;
        }
        s->ip4_forwarding = cfg->ip4_forwarding;
        atomic_store(&s->ip4_fwd, cfg->ip4_forwarding);
        s->icmp4_rate = cfg->icmp4_rate ? cfg->icmp4_rate : 1000;
        s->icmp4_burst = cfg->icmp4_burst ? cfg->icmp4_burst : 50;
        s->ip6_auto = cfg->ip6_auto;
        s->ip6_stable_iid = cfg->ip6_stable_iid;
        memcpy(s->ip6_secret, cfg->ip6_secret, sizeof(s->ip6_secret));
        atomic_store(&s->ip6_fwd, cfg->ip6_forwarding);
        s->icmp6_rate = cfg->icmp6_rate ? cfg->icmp6_rate : 1000;
        s->icmp6_burst = cfg->icmp6_burst ? cfg->icmp6_burst : 50;
        s->icmp6_tokens = (uint64_t)s->icmp6_burst * MPNET_NS_PER_S;
        s->neigh_learn_rate = cfg->neigh_learn_rate ? cfg->neigh_learn_rate : 1000;
        s->neigh_learn_burst = cfg->neigh_learn_burst ? cfg->neigh_learn_burst : 100;
        s->neigh_resolve_rate = cfg->neigh_resolve_rate ? cfg->neigh_resolve_rate : 1000;
        s->neigh_resolve_burst = cfg->neigh_resolve_burst ? cfg->neigh_resolve_burst : 100;
        s->arp_queue_max = (uint32_t)qmax;
        s->arp_max_probes = (uint32_t)probes;
        snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "stack");
        s->clock = cfg->clock;
        s->pool = cfg->pool;
        s->rng = cfg->seed;
        s->now = mpnet_clock_now(cfg->clock);
        s->icmp6_last = s->now;
        if (s->ip6_stable_iid && memcmp(s->ip6_secret, (uint8_t[16]){0}, 16) == 0) {
                /* RFC 7217 5: no key given, one from the seed. */
                for (size_t i = 0; i < sizeof(s->ip6_secret); i += 8) {
                        uint64_t r = stack_random(s);

                        memcpy(s->ip6_secret + i, &r, 8);
                }
        }
        err = graph_init(s, cfg->modules);
        if (err != 0) {
                mpnet_stack_destroy(s);
                errno = -err;
                return NULL;
        }
        s->timers = mpnet_timer_wheel_create(TIMER_TICK_NS, s->now);
        s->ctr = mpnet_counters_create(STK__COUNT + s->g.n_ctrs);
        s->punt = mpnet_ring_create(PUNT_RING_SIZE, MPNET_RING_MPSC);
        s->punt_nb = mpnet_ring_create(PUNT_NB_RING_SIZE, MPNET_RING_MPSC);
        /* Reassembly may hold at most a quarter of the pool: the stack as
         * a whole, IPv4 and IPv6 over every context (struct reass_budget). */
        s->reass.max = (uint64_t)mpnet_pool_size(cfg->pool) / 4 * REASS_TRUESIZE;
        if (s->reass.max < 64 * REASS_TRUESIZE)
                s->reass.max = 64 * REASS_TRUESIZE;
        if (s->reass.max > (4u << 20))
                s->reass.max = 4u << 20;
        if (s->timers != NULL && s->ctr != NULL)
                s->ctx[0] = stack_ctx_get(s, 0);
        if (s->timers == NULL || s->ctr == NULL || s->punt == NULL || s->punt_nb == NULL ||
            s->ctx[0] == NULL || fib4_init(s) != 0) {
                mpnet_stack_destroy(s);
                errno = ENOMEM;
                return NULL;
        }
        err = graph_modules_init(s);
        if (err != 0) {
                mpnet_stack_destroy(s);
                errno = -err;
                return NULL;
        }
        return s;
}

/* Free a ring of packets with what it holds. NULL is ignored. */
static void ring_free_all(struct mpnet_ring *ring)
{
        struct mpnet_pkt *p[64];
        unsigned n;

        if (ring == NULL)
                return;
        while ((n = mpnet_ring_dequeue_burst(ring, (void **)p, 64)) > 0)
                mpnet_pkt_free_bulk(p, n);
        mpnet_ring_destroy(ring);
}

void mpnet_stack_destroy(struct mpnet_stack *s)
{
        if (s == NULL)
                return;
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *ifp = s->ifs[i];

                if (ifp == NULL)
                        continue;
                graph_iface_flush(s, ifp, false);
        }
        for (unsigned c = 0; c < STACK_MAX_CTX; c++) {
                struct wctx *w = s->ctx[c];

                if (w == NULL)
                        continue;
                for (unsigned i = 0; i <= STACK_MAX_IFACES; i++) {
                        if (w->txv[i] != NULL)
                                mpnet_pkt_free_bulk(w->txv[i]->p, w->txv[i]->n);
                        free(w->txv[i]);
                }
                for (unsigned i = 0; i < STACK_MAX_CTX; i++)
                        ring_free_all(w->ho_in[i]);
                graph_ctx_fini(w);
                zfree_lines(w);
        }
        ring_free_all(s->punt);
        ring_free_all(s->punt_nb);
        mpnet_pkt_free_bulk(s->loopq.p, s->loopq.n);
        /* No worker runs any more: what waited for a grace period goes now. */
        while (s->defer != NULL) {
                struct defer_item *d = s->defer;

                s->defer = d->next;
                d->fn(d->arg);
                free(d);
        }
        s->defer_last = NULL;
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *ifp = s->ifs[i];

                if (ifp == NULL)
                        continue;
                s->ifs[i] = NULL; /* what iface_free rebuilds leaves it out */
                graph_iface_free(s, ifp);
                iface_rx_free(ifp);
                free(ifp->txlock);
                arc_iface_free(ifp);
                free(ifp);
        }
        free(atomic_load_explicit(&s->local4, memory_order_relaxed));
        free(atomic_load_explicit(&s->local6, memory_order_relaxed));
        graph_fini(s);
        fib6_fini(s);
        fib4_fini(s);
        mpnet_timer_wheel_destroy(s->timers);
        mpnet_counters_destroy(s->ctr);
        zfree_lines(s);
}

/*
 * Without workers one thread drives the stack and reads its tables between
 * polls, so nothing can hold what a change retires: the callback runs at
 * once. With workers it waits on a list that the next poll hands over after
 * an RCU grace period (QSBR: every worker has passed a quiescent state).
 */
void stack_defer(struct mpnet_stack *s, void (*fn)(void *), void *arg)
{
        struct defer_item *d;

        if (atomic_load_explicit(&s->n_workers, memory_order_acquire) == 0) {
                fn(arg);
                return;
        }
        d = malloc(sizeof(*d));
        if (d == NULL) {
                /* Waiting here is correct too, only slower. */
                synchronize_rcu();
                fn(arg);
                return;
        }
        d->fn = fn;
        d->arg = arg;
        /* In the order of the calls: a table retired after its routes is
         * freed after what they retired (tbl8 groups the table's LPM owns). */
        d->next = NULL;
        if (s->defer_last != NULL)
                s->defer_last->next = d;
        else
                s->defer = d;
        s->defer_last = d;
}

static void grace_wait(struct mpnet_stack *s)
{
        synchronize_rcu();
        for (unsigned c = 1; c < STACK_MAX_CTX; c++) {
                if (s->ctx[c] != NULL)
                        (void)atomic_load_explicit(&s->ctx[c]->qs, memory_order_acquire);
        }
}

void stack_grace(struct mpnet_stack *s)
{
        if (atomic_load_explicit(&s->n_workers, memory_order_acquire) != 0)
                grace_wait(s);
}

/* Share the transmit queues of every link with fewer of them than there
 * are contexts up to id (a link's queues are the contexts' own otherwise).
 * A context that sent without the lock must be done with it before one
 * that maps onto its queue starts: a grace period when a running link
 * becomes shared. @return 0 or -ENOMEM. */
static int iface_tx_share(struct mpnet_stack *s, struct mpnet_iface *ifp, unsigned id)
{
        if (id < ifp->link->info.n_txq || atomic_load(&ifp->tx_shared))
                return 0;
        if (ifp->link->info.n_txq == 0)
                return -EINVAL;
        ifp->txlock = aligned_alloc(MPNET_CACHE_LINE, ifp->link->info.n_txq * sizeof(*ifp->txlock));
        if (ifp->txlock == NULL)
                return -ENOMEM;
        for (unsigned q = 0; q < ifp->link->info.n_txq; q++)
                atomic_flag_clear(&ifp->txlock[q].busy);
        atomic_store_explicit(&ifp->tx_shared, true, memory_order_release);
        return 1;
}

static int stack_tx_share(struct mpnet_stack *s, unsigned id)
{
        bool grace = false;

        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                int err = s->ifs[i] != NULL ? iface_tx_share(s, s->ifs[i], id) : 0;

                if (err < 0)
                        return err;
                grace |= err > 0;
        }
        if (grace)
                stack_grace(s);
        return 0;
}

static void defer_flush(struct mpnet_stack *s)
{
        struct defer_item *list = s->defer;

        if (list == NULL)
                return;
        s->defer = s->defer_last = NULL;
        grace_wait(s);
        while (list != NULL) {
                struct defer_item *d = list;

                list = d->next;
                d->fn(d->arg);
                free(d);
        }
}

struct wctx *stack_ctx_get(struct mpnet_stack *s, unsigned id)
{
        struct wctx *w;

        if (id >= STACK_MAX_CTX)
                return NULL;
        if (s->ctx[id] != NULL)
                return s->ctx[id];
        if (stack_tx_share(s, id) != 0)
                return NULL;
        w = zalloc_lines(sizeof(*w) + s->g.n_nodes * sizeof(w->fr[0]));
        if (w == NULL)
                return NULL;
        w->s = s;
        w->id = id;
        w->cur_node = GRAPH_MAX_NODES;
        w->txq = (uint16_t)id;
        w->wake_fd = -1;
        w->ip_id = (uint16_t)stack_random(s);
        w->punt_tb[0] = (struct punt_bucket){(uint64_t)s->icmp4_burst * MPNET_NS_PER_S, s->now};
        w->punt_tb[1] = (struct punt_bucket){(uint64_t)s->icmp6_burst * MPNET_NS_PER_S, s->now};
        w->svc_next = 0; /* the modules' first deadlines on the first loop */
        if (graph_ctx_init(w) != 0) {
                zfree_lines(w);
                return NULL;
        }
        /* Workers look contexts up to hand packets over. */
        __atomic_store_n(&s->ctx[id], w, __ATOMIC_RELEASE);
        return w;
}

/* Punt metadata rides in the first bytes of the buffer's headroom, which
 * nothing on the way in uses (received frames start 128 bytes in): the punt
 * word, 16 bytes that PUNT_NEIGH and PUNT_REDIRECT6 fill, and the gen of
 * the interface the punt names. */
#define PUNT_GEN_OFF 24
#define PUNT_HDR_LEN 28

static inline uint64_t *punt_meta(struct mpnet_pkt *p)
{
        return (uint64_t *)(void *)mpnet_pkt_buf(p);
}

/* The gen of the interface at ifindex, 0 when there is none. A worker punts
 * for an interface it reached within its read-side section (a next hop, its
 * assignment), so the slot holds that interface, or NULL once a detach has
 * begun: never a successor, which is attached only after the detach's grace
 * period. */
static uint32_t punt_iface_gen(struct mpnet_stack *s, unsigned ifindex)
{
        struct mpnet_iface *ifp = NULL;

        if (ifindex >= 1 && ifindex <= STACK_MAX_IFACES)
                ifp = __atomic_load_n(&s->ifs[ifindex], __ATOMIC_ACQUIRE);
        return ifp != NULL ? ifp->gen : 0;
}

/* The number of contexts that own flows: they share the error rates. */
static unsigned owners(const struct mpnet_stack *s)
{
        uint64_t m = atomic_load_explicit(&s->owner_mask, memory_order_relaxed);

        return m != 0 ? (unsigned)__builtin_popcountll(m) : 1;
}

/* Refill at rate per second up to burst (each at least 1), credit in ns x
 * rate. @return whether a token is there. Refilling twice at the same time
 * gives what refilling once does. */
static bool token_refill(uint64_t *tokens, uint64_t *last, uint64_t now, uint64_t rate,
                         uint64_t burst)
{
        uint64_t cap = (burst > 0 ? burst : 1) * MPNET_NS_PER_S;
        uint64_t dt = now > *last ? now - *last : 0;

        if (rate == 0)
                rate = 1;
        *last = now;
        /* Most calls come in the poll of the one before (dt 0): no division
         * then (floods meet these buckets per packet). A long pause fills
         * the bucket: dt x rate may not fit 64 bits. */
        if (dt > 0 && dt >= cap / rate)
                *tokens = cap;
        else
                *tokens += dt * rate;
        if (*tokens > cap)
                *tokens = cap;
        return *tokens >= MPNET_NS_PER_S;
}

uint64_t token_count(uint64_t *tokens, uint64_t *last, uint64_t now, uint64_t rate, uint64_t burst)
{
        token_refill(tokens, last, now, rate, burst);
        return *tokens / MPNET_NS_PER_S;
}

bool token_take(uint64_t *tokens, uint64_t *last, uint64_t now, uint64_t rate, uint64_t burst)
{
        if (!token_refill(tokens, last, now, rate, burst))
                return false;
        *tokens -= MPNET_NS_PER_S;
        return true;
}

/* w's share of a limit the n contexts owning flows split (no division
 * for one). */
static uint64_t ctx_share(uint64_t v, unsigned n)
{
        return n == 1 ? v : v / n;
}

bool ctx_bucket_take_at(struct wctx *w, struct punt_bucket *tb, uint64_t rate, uint64_t burst,
                        uint64_t now)
{
        unsigned n = owners(w->s);
        uint64_t r = ctx_share(rate, n);

        return token_take(&tb->tokens, &tb->last, now, r > 0 ? r : 1, ctx_share(burst, n));
}

bool ctx_bucket_peek_at(struct wctx *w, struct punt_bucket *tb, uint64_t rate, uint64_t burst,
                        uint64_t now)
{
        unsigned n = owners(w->s);
        uint64_t r = ctx_share(rate, n);

        return token_refill(&tb->tokens, &tb->last, now, r > 0 ? r : 1, ctx_share(burst, n));
}

/*
 * ICMP errors: a token bucket per context and family, each at its share of
 * the stack's rate and burst (RFC 1812 4.3.2.8, RFC 4443 2.4(f)), so the
 * contexts together send at most the configured rate. Errors are sent by
 * the context; a worker's IPv6 redirects pass this bucket before the punt
 * ring, so a flood of them stops on the worker, and the control thread's
 * redirect bucket applies the stack's limit to them again.
 */
bool ctx_icmp_rate_ok(struct wctx *w, bool v6)
{
        struct mpnet_stack *s = w->s;

        if (ctx_bucket_take(w, &w->punt_tb[v6], v6 ? s->icmp6_rate : s->icmp4_rate,
                            v6 ? s->icmp6_burst : s->icmp4_burst))
                return true;
        if (v6)
                STK_INC(s, icmp6_err_ratelimited);
        else
                STK_INC(s, icmp4_err_ratelimited);
        return false;
}

/* ---- flows and hand-off between contexts ---- */

void stack_ctx_queues(struct mpnet_stack *s, unsigned id, int delta, int wake_fd)
{
        uint64_t bit = 1ull << (id % 64);

        if (id == 0 || id >= 64 || s->ctx[id] == NULL)
                return;
        s->ctx_queues[id] = (unsigned)((int)s->ctx_queues[id] + delta);
        if (s->ctx_queues[id] > 0) {
                s->ctx_orphans &= ~bit;
                atomic_store_explicit(&s->ctx[id]->wake_fd, wake_fd, memory_order_relaxed);
                atomic_fetch_or_explicit(&s->owner_mask, bit, memory_order_release);
        } else {
                atomic_fetch_and_explicit(&s->owner_mask, ~bit, memory_order_release);
                /* Adopted by the control thread (stack_poll_slow): the
                 * caller unassigns the last queue, so its worker stops
                 * running the context before the grace period the
                 * unassignment waits for ends, before the next poll. */
                s->ctx_orphans |= bit;
        }
}

unsigned stack_flow_owner(const struct mpnet_stack *s, uint32_t h)
{
        uint64_t m = atomic_load_explicit(&s->owner_mask, memory_order_acquire);
        unsigned k;

        if (m == 0)
                return 0;
        /* The k-th of the owners, k uniform in [0, owners). */
        k = (unsigned)(((uint64_t)h * (unsigned)__builtin_popcountll(m)) >> 32);
        while (k-- > 0)
                m &= m - 1;
        return (unsigned)__builtin_ctzll(m);
}

/* The hand-off header in the headroom: the node, the interface's gen. */
static void handoff_hdr(struct mpnet_pkt *p, uint32_t *node, uint32_t *gen, bool put)
{
        uint8_t *b = mpnet_pkt_buf(p);

        if (put) {
                memcpy(b, node, 4);
                memcpy(b + 4, gen, 4);
        } else {
                memcpy(node, b, 4);
                memcpy(gen, b + 4, 4);
        }
}

bool ctx_handoff(struct wctx *w, unsigned to, unsigned node, struct mpnet_pkt *p)
{
        struct mpnet_stack *s = w->s;
        struct wctx *d = to < 64 ? __atomic_load_n(&s->ctx[to], __ATOMIC_ACQUIRE) : NULL;
        uint32_t gen = punt_iface_gen(s, p->ifindex), nd = node;
        struct mpnet_ring *r;
        uint64_t bit = 1ull << (w->id % 64);
        int fd;

        if (d == NULL || w->id >= 64 || mpnet_pkt_headroom(p) < HANDOFF_HDR)
                goto drop;
        /* The sender makes the ring of its pair on first use: it is the
         * only one that could. */
        r = atomic_load_explicit(&d->ho_in[w->id], memory_order_acquire);
        if (r == NULL) {
                r = mpnet_ring_create(HANDOFF_RING, MPNET_RING_SPSC);
                if (r == NULL)
                        goto drop;
                atomic_store_explicit(&d->ho_in[w->id], r, memory_order_release);
        }
        handoff_hdr(p, &nd, &gen, true);
        if (mpnet_ring_enqueue_burst(r, (void *const *)&p, 1) != 1)
                goto drop;
        STK_INC(s, handoff);
        /* The first packet since its last drain wakes a sleeping owner. */
        if (!(atomic_fetch_or_explicit(&d->ho_pending, bit, memory_order_acq_rel) & bit) &&
            (fd = atomic_load_explicit(&d->wake_fd, memory_order_relaxed)) >= 0) {
                uint64_t one = 1;

                (void)!write(fd, &one, sizeof(one));
        }
        return true;
drop:
        STK_INC(s, handoff_drop);
        mpnet_pkt_free(p);
        return false;
}

/* What other contexts handed to w: into the graph at the node each names,
 * as received on its interface (unless that went meanwhile). At most a
 * ring's worth from each source a call: a source that refills its ring
 * as fast as w drains it must not keep w from its own queues, timers and
 * commands; what is left keeps its pending bit for the next service. */
static void handoff_drain(struct wctx *w, uint64_t mask)
{
        struct mpnet_stack *s = w->s;

        for (; mask != 0; mask &= mask - 1) {
                struct mpnet_ring *r =
                    atomic_load_explicit(&w->ho_in[__builtin_ctzll(mask)], memory_order_acquire);
                struct mpnet_pkt *v[32];
                unsigned n, budget = HANDOFF_RING;

                while (r != NULL && (n = mpnet_ring_dequeue_burst(r, (void **)v, 32)) > 0) {
                        for (unsigned i = 0; i < n; i++) {
                                struct mpnet_pkt *p = v[i];
                                struct mpnet_iface *ifp = NULL;
                                uint32_t node, gen;

                                handoff_hdr(p, &node, &gen, false);
                                if (p->ifindex >= 1 && p->ifindex <= STACK_MAX_IFACES)
                                        ifp =
                                            __atomic_load_n(&s->ifs[p->ifindex], __ATOMIC_ACQUIRE);
                                if (ifp == NULL || ifp->gen != gen || node >= s->g.n_nodes) {
                                        STK_INC(s, handoff_drop);
                                        mpnet_pkt_free(p);
                                        continue;
                                }
                                w->fr[node].p[0] = p;
                                w->fr[node].aux[0] = 0;
                                w->fr[node].n = 1;
                                w->pending |= 1ull << node;
                                graph_run(w, ifp);
                        }
                        if (budget <= n) {
                                atomic_fetch_or_explicit(&w->ho_pending, mask & -mask,
                                                         memory_order_relaxed);
                                break;
                        }
                        budget -= n;
                }
        }
}

void ctx_kick(struct mpnet_stack *s, unsigned to)
{
        struct wctx *d = to < STACK_MAX_CTX ? __atomic_load_n(&s->ctx[to], __ATOMIC_ACQUIRE) : NULL;
        int fd;

        /* The exchange orders what the caller queued before the hooks'
         * exchange that takes the kick; only the first kick since then
         * writes the wake-up, and only when the worker may sleep (awake
         * 0: the worker clears it, then reads svc_kick; both seq_cst, so
         * one of the two sees the other). */
        if (d == NULL || atomic_exchange(&d->svc_kick, 1) != 0 || atomic_load(&d->awake) != 0)
                return;
        fd = atomic_load_explicit(&d->wake_fd, memory_order_relaxed);
        if (fd >= 0) {
                uint64_t one = 1;

                (void)!write(fd, &one, sizeof(one));
        }
}

uint64_t ctx_service(struct wctx *w)
{
        if (atomic_load_explicit(&w->ho_pending, memory_order_relaxed) != 0)
                handoff_drain(w, atomic_exchange_explicit(&w->ho_pending, 0, memory_order_acq_rel));
        if (atomic_load_explicit(&w->svc_kick, memory_order_relaxed) != 0 &&
            atomic_exchange_explicit(&w->svc_kick, 0, memory_order_acq_rel) != 0)
                w->svc_next = 0;
        if (w->svc_next != MPNET_TIME_NEVER && w->svc_next <= ctx_now(w)) {
                uint64_t t;

                /* A hook may arm another's deadline meanwhile (a socket
                 * command that sends arms TCP's timers): it stays. */
                w->svc_next = MPNET_TIME_NEVER;
                t = graph_ctx_service(w, ctx_now(w));
                if (t < w->svc_next)
                        w->svc_next = t;
        }
        return w->svc_next;
}

bool stack_punt(struct wctx *w, struct mpnet_pkt *p, enum punt_kind k, unsigned ifindex, uint8_t a,
                uint8_t b, uint32_t c)
{
        struct mpnet_stack *s = w->s;
        uint32_t gen = punt_iface_gen(s, ifindex);
        bool urgent = s->g.punt_urgent[k % GRAPH_MAX_PUNTS] != NULL &&
                      s->g.punt_urgent[k % GRAPH_MAX_PUNTS](b, p);

        if (k == PUNT_REDIRECT6 && ctx_is_worker(w) && !ctx_icmp_rate_ok(w, true)) {
                mpnet_pkt_free(p);
                return false;
        }
        if (mpnet_pkt_headroom(p) < PUNT_HDR_LEN) {
                STK_INC(s, punt_drop);
                mpnet_pkt_free(p);
                return false;
        }
        *punt_meta(p) = (uint64_t)k << 56 | (uint64_t)(ifindex & 0xff) << 48 | (uint64_t)a << 40 |
                        (uint64_t)b << 32 | c;
        memcpy(mpnet_pkt_buf(p) + PUNT_GEN_OFF, &gen, sizeof(gen));
        if (mpnet_ring_enqueue_burst(urgent ? s->punt_nb : s->punt, (void *const *)&p, 1) != 1) {
                if (urgent)
                        STK_INC(s, punt_nb_drop);
                else
                        STK_INC(s, punt_drop);
                mpnet_pkt_free(p);
                return false;
        }
        STK_INC(s, punt);
        return true;
}

/* The control thread does what a worker punted: the handler the module
 * that took the punt kind registered (graph.h). */
static void punt_one(struct mpnet_stack *s, struct mpnet_pkt *p)
{
        uint64_t m = *punt_meta(p);
        struct mpnet_iface *ifp = stack_iface(s, (int)(m >> 48 & 0xff));
        punt_fn handler;
        uint32_t gen;

        memcpy(&gen, mpnet_pkt_buf(p) + PUNT_GEN_OFF, sizeof(gen));
        /* Its interface was detached, perhaps its index reused since: the
         * punt is not the successor's. */
        if (ifp == NULL || ifp->gen != gen) {
                STK_INC(s, tx_no_iface);
                mpnet_pkt_free(p);
                return;
        }
        handler = s->g.punt[(m >> 56) % GRAPH_MAX_PUNTS];
        if (handler != NULL)
                handler(s, ifp, p, m);
        else
                mpnet_pkt_free(p);
}

/* At most max punts of ring; @return how many. */
static unsigned punt_drain(struct mpnet_stack *s, struct mpnet_ring *ring, unsigned max)
{
        struct mpnet_pkt *v[64];
        unsigned n, done = 0;

        while (done < max && (n = mpnet_ring_dequeue_burst(ring, (void **)v, 64)) > 0) {
                for (unsigned i = 0; i < n; i++)
                        punt_one(s, v[i]);
                done += n;
        }
        return done;
}

/* Neighbour work first, and again after every burst of the rest, so no
 * flood of other punts delays ARP and ND by more than one burst. */
static void punt_run(struct mpnet_stack *s)
{
        do
                punt_drain(s, s->punt_nb, UINT_MAX);
        while (punt_drain(s, s->punt, 64) > 0);
}

struct mpnet_iface *stack_iface(struct mpnet_stack *s, int ifindex)
{
        if (ifindex < 1 || ifindex > STACK_MAX_IFACES)
                return NULL;
        return s->ifs[ifindex];
}

int mpnet_iface_attach(struct mpnet_stack *s, struct mpnet_link *l, const char *name)
{
        struct mpnet_iface *ifp;
        int idx, err;

        if (l == NULL)
                return -EINVAL;
        for (idx = 1; idx <= STACK_MAX_IFACES; idx++) {
                if (s->ifs[idx] != NULL && s->ifs[idx]->link == l)
                        return -EEXIST;
        }
        for (idx = 1; idx <= STACK_MAX_IFACES && s->ifs[idx] != NULL; idx++)
                ;
        if (idx > STACK_MAX_IFACES)
                return -ENOSPC;
        ifp = aligned_calloc(sizeof(*ifp));
        if (ifp == NULL)
                return -ENOMEM;
        ifp->stack = s;
        ifp->link = l;
        ifp->ifindex = idx;
        ifp->gen = ++s->iface_gen != 0 ? s->iface_gen : ++s->iface_gen;
        atomic_store(&ifp->up, true);
        ifp->carrier = mpnet_link_carrier(l);
        snprintf(ifp->name, sizeof(ifp->name), "%s", name ? name : l->name);
        memcpy(ifp->mac, l->info.mac, 6);
        ifp->mtu = l->info.mtu;
        for (unsigned c = STACK_MAX_CTX; c-- > 0;) {
                if (s->ctx[c] != NULL) {
                        if (iface_tx_share(s, ifp, c) < 0) {
                                free(ifp);
                                return -ENOMEM;
                        }
                        break;
                }
        }
        err = iface_rx_make(ifp);
        if (err == 0) {
                err = graph_iface_attach(s, ifp);
                if (err != 0)
                        iface_rx_free(ifp);
        }
        if (err != 0) {
                free(ifp->txlock);
                free(ifp);
                return err;
        }
        ifp->table = 0;
        ifp->fib4 = fib4_table(s, 0);
        fib4_table(s, 0)->n_ifaces++;
        __atomic_store_n(&s->ifs[idx], ifp, __ATOMIC_RELEASE);
        s->ifs_attached |= 1ull << (idx - 1);
        if (!(l->info.offloads & MPNET_LINK_OFF_TX_CSUM))
                atomic_fetch_add_explicit(&s->n_ifs_sw_csum, 1, memory_order_relaxed);
        atomic_fetch_add_explicit((l->info.offloads & MPNET_LINK_OFF_TSO) ? &s->n_ifs_tso
                                                                          : &s->n_ifs_no_tso,
                                  1, memory_order_relaxed);
        if (s->ip6_auto)
                mpnet_iface_ip6_enable(s, idx);
        stack_event_iface(s, MPNET_EV_IFACE_ADD, idx);
        return idx;
}

int mpnet_iface_detach(struct mpnet_stack *s, int ifindex)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct mpnet_vec *txv;

        if (ifp == NULL)
                return -ENODEV;
        if (atomic_load(&ifp->n_assigned) != 0)
                return -EBUSY;
        atomic_store(&ifp->up, false);
        graph_iface_detach(s, ifp);
        fib4_iface_flush(s, ifindex);
        fib6_iface_flush(s, ifp);
        graph_iface_flush(s, ifp, false);
        fib4_table(s, ifp->table)->n_ifaces--;
        __atomic_store_n(&s->ifs[ifindex], NULL, __ATOMIC_RELEASE);
        s->ifs_attached &= ~(1ull << (ifindex - 1));
        if (!(ifp->link->info.offloads & MPNET_LINK_OFF_TX_CSUM))
                atomic_fetch_sub_explicit(&s->n_ifs_sw_csum, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(
            (ifp->link->info.offloads & MPNET_LINK_OFF_TSO) ? &s->n_ifs_tso : &s->n_ifs_no_tso, 1,
            memory_order_relaxed);
        stack_event_iface(s, MPNET_EV_IFACE_DEL, ifindex);
        /* A worker may still hold the interface (a next hop it read before
         * the routes went) and send on its link: both stay until every
         * worker has passed a quiescent state. What it queued for the
         * interface meanwhile its own flush drops (ctx_tx_flush_all). */
        stack_grace(s);
        txv = s->ctx[0]->txv[ifindex];
        if (txv != NULL && txv->n > 0) {
                STK_ADD(s, tx_no_iface, txv->n);
                mpnet_pkt_free_bulk(txv->p, txv->n);
                txv->n = 0;
        }
        graph_iface_free(s, ifp);
        free(ifp->txlock);
        arc_iface_free(ifp);
        iface_rx_free(ifp);
        free(ifp);
        return 0;
}

int mpnet_iface_set_up(struct mpnet_stack *s, int ifindex, bool up)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        if (atomic_exchange(&ifp->up, up) != up)
                stack_event_iface(s, up ? MPNET_EV_IFACE_UP : MPNET_EV_IFACE_DOWN, ifindex);
        return 0;
}

int mpnet_iface_set_mtu(struct mpnet_stack *s, int ifindex, uint32_t mtu)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        /* RFC 791: every IPv4 module takes 68 octets unfragmented. */
        if (mtu < 68 || mtu > ifp->link->info.mtu)
                return -EINVAL;
        atomic_store(&ifp->mtu, mtu);
        graph_iface_mtu(s, ifp, mtu);
        return 0;
}

uint32_t mpnet_iface_mtu(struct mpnet_stack *s, int ifindex)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        return ifp != NULL ? atomic_load(&ifp->mtu) : 0;
}

int mpnet_iface_set_table(struct mpnet_stack *s, int ifindex, uint32_t id)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct fib4_table *t = fib4_table(s, id);

        if (ifp == NULL)
                return -ENODEV;
        if (t == NULL)
                return -ENOENT;
        if (atomic_load(&ifp->table) == id)
                return 0;
        /* Move the addresses' routes: drop them from the old table, rebind,
         * add them to the new one. */
        graph_iface_table(s, ifp, false);
        fib4_table(s, ifp->table)->n_ifaces--;
        t->n_ifaces++;
        atomic_store(&ifp->table, id);
        atomic_store_explicit(&ifp->fib4, t, memory_order_release);
        graph_iface_table(s, ifp, true);
        return 0;
}

unsigned mpnet_node_count(const struct mpnet_stack *s)
{
        return s->g.n_nodes;
}

const char *mpnet_node_name(const struct mpnet_stack *s, unsigned id)
{
        return id < s->g.n_nodes ? s->g.node[id]->name : NULL;
}

int mpnet_node_find(const struct mpnet_stack *s, const char *name)
{
        int id = name != NULL ? graph_node_find(&s->g, name) : -1;

        return id >= 0 ? id : -ENOENT;
}

int mpnet_node_stats_get(const struct mpnet_stack *s, unsigned id, struct mpnet_node_stats *st)
{
        if (id >= s->g.n_nodes)
                return -EINVAL;
        memset(st, 0, sizeof(*st));
        for (unsigned c = 0; c < STACK_MAX_CTX; c++) {
                const struct wctx *w = s->ctx[c];

                if (w == NULL)
                        continue;
                st->calls += mpnet_stat_read(&w->node_calls[id]);
                st->pkts += mpnet_stat_read(&w->node_pkts[id]);
                st->cycles += mpnet_stat_read(&w->node_cycles[id]);
        }
        return 0;
}

int mpnet_node_stats_worker(const struct mpnet_stack *s, unsigned worker, unsigned id,
                            struct mpnet_node_stats *st)
{
        /* Context 0 is the control thread's, worker w's is w + 1. */
        unsigned c = worker == MPNET_NODE_CONTROL ? 0 : worker + 1;
        const struct wctx *w = c < STACK_MAX_CTX ? s->ctx[c] : NULL;

        if (id >= s->g.n_nodes)
                return -EINVAL;
        if (w == NULL)
                return -ENOENT;
        st->calls = mpnet_stat_read(&w->node_calls[id]);
        st->pkts = mpnet_stat_read(&w->node_pkts[id]);
        st->cycles = mpnet_stat_read(&w->node_cycles[id]);
        return 0;
}

void mpnet_node_stats_reset(struct mpnet_stack *s)
{
        for (unsigned c = 0; c < STACK_MAX_CTX; c++) {
                struct wctx *w = s->ctx[c];

                if (w == NULL)
                        continue;
                for (unsigned n = 0; n < s->g.n_nodes; n++) {
                        atomic_store_explicit(&w->node_calls[n], 0, memory_order_relaxed);
                        atomic_store_explicit(&w->node_pkts[n], 0, memory_order_relaxed);
                        atomic_store_explicit(&w->node_cycles[n], 0, memory_order_relaxed);
                }
        }
}

void mpnet_stack_set_forwarding(struct mpnet_stack *s, bool on)
{
        s->ip4_forwarding = on;
        atomic_store(&s->ip4_fwd, on);
}

/* What we sent to ourselves comes in as if received on the address's
 * interface, past Ethernet. */
static void loop_input(struct mpnet_stack *s)
{
        struct mpnet_vec *q = &s->loopq;
        struct wctx *w = s->ctx[0];
        unsigned n = q->n;

        q->n = 0;
        for (unsigned i = 0; i < n; i++) {
                struct mpnet_pkt *p = q->p[i];
                struct mpnet_iface *ifp = stack_iface(s, (int)p->ifindex);

                if (ifp == NULL) {
                        mpnet_pkt_free(p);
                        continue;
                }
                unsigned to =
                    p->len > 0 && (p->data[0] >> 4) == 6 ? NODE_ip6_input : NODE_ip4_input;

                w->fr[to].p[w->fr[to].n++] = p;
                w->pending |= 1ull << to;
                graph_run(w, ifp);
        }
}

/* The interface-tx node: hand every transmit vector of w to its link. */
void ctx_tx_flush_all(struct wctx *w)
{
        struct mpnet_stack *s = w->s;
        uint64_t t0 = node_clock();
        unsigned pkts = 0, calls = 0;

        /* The vectors made, not every ifindex: a poll of an idle stack
         * is a walk of what it has. */
        for (uint64_t m = w->txv_made; m != 0; m &= m - 1) {
                int i = mask_ifindex(m);
                struct mpnet_iface *ifp = __atomic_load_n(&s->ifs[i], __ATOMIC_ACQUIRE);

                if (w->txv[i]->n == 0)
                        continue;
                if (ifp == NULL) {
                        /* Queued through a next hop read before the
                         * interface was detached. */
                        STK_ADD(s, tx_no_iface, w->txv[i]->n);
                        mpnet_pkt_free_bulk(w->txv[i]->p, w->txv[i]->n);
                        w->txv[i]->n = 0;
                        continue;
                }
                pkts += w->txv[i]->n;
                calls++;
                ctx_tx_flush(w, ifp);
        }
        if (calls != 0)
                node_account(w, NODE_iface_tx, pkts, node_clock() - t0);
}

/* What a poll seldom has to do: the contexts no worker runs any more (ctx_orphans), whose
 * held datagrams would otherwise never time out and whose hand-off rings
 * nobody would drain. *next takes their deadlines. */
static void stack_poll_slow(struct mpnet_stack *s, uint64_t *next)
{
        for (uint64_t m = s->ctx_orphans; m != 0; m &= m - 1) {
                struct wctx *w = s->ctx[__builtin_ctzll(m)];
                uint64_t t = ctx_service(w);

                ctx_tx_flush_all(w);
                if (t < *next)
                        *next = t;
        }
}

uint64_t mpnet_stack_poll(struct mpnet_stack *s, uint64_t now)
{
        struct wctx *w = s->ctx[0];
        bool workers = atomic_load_explicit(&s->n_workers, memory_order_acquire) != 0;
        uint64_t next, reass_next;
        bool busy = false;

        if (now > s->now)
                s->now = now;
        mpnet_timer_wheel_run(s->timers, s->now);
        stack_carrier_watch(s);
        punt_run(s);
        reass_next = ctx_service(w);
        if (s->ctx_orphans != 0)
                stack_poll_slow(s, &reass_next);
        if (s->loopq.n > 0)
                loop_input(s);
        /* With workers attached they read the links; we only do what they
         * punt. */
        for (uint64_t m = workers ? 0 : s->ifs_attached; m != 0; m &= m - 1) {
                struct mpnet_iface *ifp = s->ifs[mask_ifindex(m)];
                uint16_t n;

                if (!atomic_load_explicit(&ifp->up, memory_order_relaxed))
                        continue;
                n = mpnet_link_rx_burst(ifp->link, 0, s->rxv.p, MPNET_VEC_MAX);
                if (n == 0)
                        continue;
                busy |= n == MPNET_VEC_MAX;
                STK_ADD(s, rx_frames, n);
                ether_node(w, ifp, s->rxv.p, n);
        }
        ctx_tx_flush_all(w);
        defer_flush(s);
        next = mpnet_timer_wheel_next(s->timers);
        if (reass_next < next)
                next = reass_next;
        for (uint64_t m = workers ? 0 : s->ifs_attached; m != 0; m &= m - 1) {
                uint64_t t = mpnet_link_next_event(s->ifs[mask_ifindex(m)]->link, s->now);

                if (t < next)
                        next = t;
        }
        /* A full burst means the link may hold more, looped-back packets
         * wait for the next poll, and so do hand-offs a drain left (a
         * ring's worth at a time): come back at once. With workers, punts may
         * arrive any time: the caller polls on its own schedule. */
        busy |= atomic_load_explicit(&w->ho_pending, memory_order_relaxed) != 0;
        return busy || s->loopq.n > 0 ? s->now : next;
}

const char *mpnet_neigh_state_name(enum mpnet_neigh_state st)
{
        static const char *const names[] = {
            [MPNET_NEIGH_INCOMPLETE] = "INCOMPLETE", [MPNET_NEIGH_REACHABLE] = "REACHABLE",
            [MPNET_NEIGH_STALE] = "STALE",           [MPNET_NEIGH_DELAY] = "DELAY",
            [MPNET_NEIGH_PROBE] = "PROBE",           [MPNET_NEIGH_FAILED] = "FAILED",
            [MPNET_NEIGH_PERMANENT] = "PERMANENT",
        };

        return (unsigned)st <= MPNET_NEIGH_PERMANENT ? names[st] : "?";
}
