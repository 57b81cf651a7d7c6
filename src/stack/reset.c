/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack_reset(): one stack for many runs. A fuzz target (tests/fuzz/) or a
 * simulation marks a stack once it is configured and quiet, runs an input,
 * and brings the stack back to the mark before the next, instead of making
 * a stack per input (the making costs hundreds of microseconds under
 * ASan). Exact: an input run after a reset sends the same frames and counts
 * the same as on a fresh stack made and configured the same way
 * (tests/sim/test_stack_reset.c holds it to that).
 *
 *   m = stack_reset(s, NULL)   mark s as it is; NULL and errno EBUSY when s
 *                              holds what a mark cannot record (below),
 *                              EINVAL for a clock that is not virtual
 *   stack_reset(s, m)          s back to m; NULL and errno on failure (s is
 *                              then for mpnet_stack_destroy() only)
 *   free(m)                    once done
 *
 * What an input can change, and how each goes back (one helper each):
 * learnt neighbour entries and their hold queues (flushed: static entries
 * are configuration), IPv6 redirects, reassembly v4 and v6, packets in the
 * punt rings, the loop queue and the transmit vectors (freed), the
 * interfaces' IPv4 and IPv6 state (addresses and their DAD, SLAAC, the
 * default routers, prefixes, MLD groups and reports, RS and RA timing:
 * copied back from the mark), the routes of every table (made equal to the
 * mark's), the timers (the wheel cleared, the interfaces' timers armed
 * again in the order they were queued), the control thread's scalars (time,
 * random state, IP id, ICMP token buckets, path MTUs, events),
 * the counters (back to what configuration counted, zero but for it) and
 * the virtual clock (set back).
 *
 * Modules with per-stack state say what input left in it (state_learnt,
 * graph.h) and drop it (state_reset): the socket layer's queued
 * datagrams, the ping API's unread replies (its echo sockets, l4/raw.c);
 * sockets themselves are configuration, which a reset keeps. A module may
 * also record what it holds at the mark (state_mark) and give it back
 * after the reset (state_restore): TCP's quiet established connections
 * (l4/tcp.c), so a fuzz target's inputs can start on one without its
 * handshake.
 * A mark records only a stack with no workers, nothing queued or
 * reassembling, and no learnt neighbour: what it would otherwise
 * have to copy (packets, entries) a configured stack, polled once, does not
 * hold. The thread that marks drives the stack and resets it (its counts
 * are all in that thread's row of the counters).
 *
 * Synchronisation: the control thread, no worker attached.
 */
#include <errno.h>
#include <stdlib.h>

#include "fib/fib_priv.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* An armed timer of an interface and its place: depth timers follow it on
 * its wheel list, which is filled at the head. */
struct mark_timer {
        struct mpnet_timer *t;
        uint64_t expire_ns;
        unsigned depth;
};

#define MARK_IFACE_TIMERS 4 /* the modules' timers of one interface */

struct mark_iface {
        struct mpnet_iface *ifp;
        uint32_t gen;
        struct mpnet_iface copy;
        unsigned n_timers;
        struct mpnet_timer *timers[MARK_IFACE_TIMERS];
        char *mod_mark; /* each module's iface_mark, lines(iface_mark_size) apart */
};

struct mark_route4 {
        uint32_t table;
        bool seen;
        struct mpnet_route4 r;
};

struct mark_route6 {
        uint32_t table;
        bool seen;
        struct mpnet_route6 r;
};

struct stack_mark {
        uint64_t now, rng;
        uint16_t ip_id; /* the control context's */
        struct punt_bucket punt_tb[2];
        uint64_t icmp6_tokens, icmp6_last;
        struct pmtu_entry pmtu[PMTU_SIZE];
        uint64_t pmtu_used;
        struct stack_events events;
        /* What configuration counted: the counters and the control
         * context's node calls and packets. */
        unsigned n_ctr;
        uint64_t *ctr;
        uint64_t node_calls[GRAPH_MAX_NODES], node_pkts[GRAPH_MAX_NODES];
        unsigned n_timers, n_ifs, n_r4, n_r6;
        struct mark_timer timers[MARK_IFACE_TIMERS * STACK_MAX_IFACES];
        struct mark_iface *ifs;
        struct mark_route4 *r4;
        struct mark_route6 *r6;
        void *mod[GRAPH_MAX_MODS]; /* each module's state_mark, or NULL */
};

/* ---- neighbours, redirects, reassembly, queues ---- */

/* The mark holds nothing learnt (mark_check): what input taught the
 * modules since goes, what was configured stays. */
static void reset_learnt(struct mpnet_iface *ifp)
{
        if (graph_iface_learnt(ifp->stack, ifp))
                graph_iface_flush(ifp->stack, ifp, true);
}

/* What each context holds (its reassembly tables): the modules' hooks. */
static void reset_ctx_state(struct mpnet_stack *s)
{
        for (unsigned i = 0; i < STACK_MAX_CTX; i++) {
                if (s->ctx[i] != NULL) {
                        graph_ctx_reset(s->ctx[i]);
                        s->ctx[i]->svc_next = 0; /* deadlines anew */
                }
        }
}

static void ring_drain(struct mpnet_ring *ring)
{
        struct mpnet_pkt *p[64];
        unsigned n;

        while ((n = mpnet_ring_dequeue_burst(ring, (void **)p, 64)) > 0)
                mpnet_pkt_free_bulk(p, n);
}

/* The punt rings, the loop queue and the control context's vectors. */
static void reset_queues(struct mpnet_stack *s)
{
        struct wctx *w = s->ctx[0];

        ring_drain(s->punt_nb);
        ring_drain(s->punt);
        mpnet_pkt_free_bulk(s->loopq.p, s->loopq.n);
        s->loopq.n = 0;
        for (uint64_t b = w->txv_made; b != 0; b &= b - 1) {
                struct mpnet_vec *v = w->txv[mask_ifindex(b)];

                mpnet_pkt_free_bulk(v->p, v->n);
                v->n = 0;
        }
        for (unsigned i = 0; i < s->g.n_nodes; i++) {
                mpnet_pkt_free_bulk(w->fr[i].p, w->fr[i].n);
                w->fr[i].n = 0;
        }
        mpnet_pkt_free_bulk(w->req.p, w->req.n);
        w->req.n = 0;
        w->pending = 0;
}

static bool queues_empty(struct mpnet_stack *s)
{
        struct wctx *w = s->ctx[0];
        struct mpnet_stack_usage u;

        for (uint64_t b = w->txv_made; b != 0; b &= b - 1) {
                if (w->txv[mask_ifindex(b)]->n != 0)
                        return false;
        }
        mpnet_stack_usage_get(s, 0, &u);
        return mpnet_ring_count(s->punt) == 0 && mpnet_ring_count(s->punt_nb) == 0 &&
               s->loopq.n == 0 && w->req.n == 0 && w->pending == 0 && u.reass4_datagrams == 0 &&
               u.reass6_datagrams == 0;
}

/* ---- the interfaces' state: the core's, then each module's ---- */

/* n bytes rounded up to whole cache lines: the parts of a mark, each on
 * lines of its own (an interface copy must be, as the interface is). */
static size_t lines(size_t n)
{
        return (n + MPNET_CACHE_LINE - 1) & ~(size_t)(MPNET_CACHE_LINE - 1);
}

/* What the modules' iface_mark take of one interface. */
static size_t mod_mark_size(const struct mpnet_stack *s)
{
        size_t n = 0;

        for (unsigned i = 0; i < s->g.n_mods; i++)
                n += lines(s->g.mods[i].m->iface_mark_size);
        return n;
}

static void mark_iface_mods(const struct mpnet_stack *s, struct mark_iface *mi)
{
        char *p = mi->mod_mark;

        mi->n_timers = 0;
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                const struct mpnet_module *m = s->g.mods[i].m;

                if (m->iface_mark == NULL)
                        continue;
                mi->n_timers += m->iface_mark(mi->ifp, p, mi->timers + mi->n_timers);
                p += lines(m->iface_mark_size);
        }
}

static int reset_iface(const struct mpnet_stack *s, const struct mark_iface *mi)
{
        const char *p = mi->mod_mark;

        mi->ifp->carrier = mi->copy.carrier;
        mi->ifp->revive_at = mi->copy.revive_at;
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                const struct mpnet_module *m = s->g.mods[i].m;
                int err;

                if (m->iface_reset == NULL)
                        continue;
                err = m->iface_reset(mi->ifp, p);
                if (err != 0)
                        return err;
                p += lines(m->iface_mark_size);
        }
        return 0;
}

/* ---- routes: every table's made equal to the mark's ---- */

static bool route4_eq(const struct mpnet_route4 *a, const struct mpnet_route4 *b)
{
        if (a->dst != b->dst || a->plen != b->plen || a->type != b->type ||
            a->n_paths != b->n_paths)
                return false;
        for (unsigned i = 0; i < a->n_paths; i++) {
                if (a->paths[i].ifindex != b->paths[i].ifindex || a->paths[i].gw != b->paths[i].gw)
                        return false;
        }
        return true;
}

static bool route6_eq(const struct mpnet_route6 *a, const struct mpnet_route6 *b)
{
        if (memcmp(a->dst, b->dst, 16) != 0 || a->plen != b->plen || a->type != b->type ||
            a->n_paths != b->n_paths)
                return false;
        for (unsigned i = 0; i < a->n_paths; i++) {
                if (a->paths[i].ifindex != b->paths[i].ifindex ||
                    memcmp(a->paths[i].gw, b->paths[i].gw, 16) != 0)
                        return false;
        }
        return true;
}

/* A walk over one table: counts (marking) or compares with the mark. */
struct route_walk {
        struct stack_mark *m;
        uint32_t table;
        unsigned n; /* routes seen (marking), routes not in the mark (reset) */
        bool marking;
        struct mpnet_route4 *del4; /* not in the mark: to delete after the walk */
        struct mpnet_route6 *del6;
};

#define ROUTE_DEL_BATCH 32

static int route4_visit(void *arg, const struct mpnet_route4 *r)
{
        struct route_walk *w = arg;
        struct stack_mark *m = w->m;

        if (w->marking) {
                if (m->r4 != NULL)
                        m->r4[m->n_r4] = (struct mark_route4){.table = w->table, .r = *r};
                m->n_r4++;
                return 0;
        }
        for (unsigned i = 0; i < m->n_r4; i++) {
                if (m->r4[i].table == w->table && route4_eq(&m->r4[i].r, r)) {
                        m->r4[i].seen = true;
                        return 0;
                }
        }
        w->del4[w->n++] = *r;
        return w->n == ROUTE_DEL_BATCH;
}

static int route6_visit(void *arg, const struct mpnet_route6 *r)
{
        struct route_walk *w = arg;
        struct stack_mark *m = w->m;

        if (w->marking) {
                if (m->r6 != NULL)
                        m->r6[m->n_r6] = (struct mark_route6){.table = w->table, .r = *r};
                m->n_r6++;
                return 0;
        }
        for (unsigned i = 0; i < m->n_r6; i++) {
                if (m->r6[i].table == w->table && route6_eq(&m->r6[i].r, r)) {
                        m->r6[i].seen = true;
                        return 0;
                }
        }
        w->del6[w->n++] = *r;
        return w->n == ROUTE_DEL_BATCH;
}

/* Every route of every table into m (counted only while m's arrays are
 * NULL). */
static void mark_routes(struct mpnet_stack *s, struct stack_mark *m)
{
        struct route_walk w = {.m = m, .marking = true};

        m->n_r4 = m->n_r6 = 0;
        for (w.table = 0; w.table < s->fib.tables_end; w.table++)
                (void)mpnet_route4_walk(s, w.table, route4_visit, &w);
        for (w.table = 0; w.table < s->fib6.tables_end; w.table++)
                (void)mpnet_route6_walk(s, w.table, route6_visit, &w);
}

static int reset_routes4(struct mpnet_stack *s, struct stack_mark *m)
{
        struct mpnet_route4 del[ROUTE_DEL_BATCH];
        struct route_walk w = {.m = m, .del4 = del};
        int err = 0;

        for (unsigned i = 0; i < m->n_r4; i++)
                m->r4[i].seen = false;
        for (w.table = 0; w.table < s->fib.tables_end; w.table++) {
                do {
                        w.n = 0;
                        (void)mpnet_route4_walk(s, w.table, route4_visit, &w);
                        for (unsigned i = 0; i < w.n; i++)
                                mpnet_route4_del(s, w.table, del[i].dst, del[i].plen);
                } while (w.n == ROUTE_DEL_BATCH);
        }
        for (unsigned i = 0; i < m->n_r4 && err == 0; i++) {
                if (!m->r4[i].seen)
                        err = mpnet_route4_replace(s, m->r4[i].table, &m->r4[i].r);
        }
        return err;
}

static int reset_routes6(struct mpnet_stack *s, struct stack_mark *m)
{
        struct mpnet_route6 del[ROUTE_DEL_BATCH];
        struct route_walk w = {.m = m, .del6 = del};
        int err = 0;

        for (unsigned i = 0; i < m->n_r6; i++)
                m->r6[i].seen = false;
        for (w.table = 0; w.table < s->fib6.tables_end; w.table++) {
                do {
                        w.n = 0;
                        (void)mpnet_route6_walk(s, w.table, route6_visit, &w);
                        for (unsigned i = 0; i < w.n; i++)
                                mpnet_route6_del(s, w.table, del[i].dst, del[i].plen);
                } while (w.n == ROUTE_DEL_BATCH);
        }
        for (unsigned i = 0; i < m->n_r6 && err == 0; i++) {
                if (!m->r6[i].seen)
                        err = mpnet_route6_replace(s, m->r6[i].table, &m->r6[i].r);
        }
        return err;
}

/* Which families' routes changed since the mark (bit 4, bit 6): fib4.c and
 * fib6.c record an event for every add, replace and delete, so the events
 * since the mark say, while the ring still holds them all; else both. */
static unsigned routes_changed(const struct mpnet_stack *s, const struct stack_mark *m)
{
        const struct stack_events *q = &s->events;
        unsigned fams = 0;

        if (q->head - m->events.head > EV_RING_SIZE || q->head < m->events.head)
                return 1u << 4 | 1u << 6;
        for (uint64_t i = m->events.head; i != q->head; i++) {
                const struct mpnet_event *e = &q->ev[i % EV_RING_SIZE];

                if (e->type == MPNET_EV_ROUTE_ADD || e->type == MPNET_EV_ROUTE_DEL ||
                    e->type == MPNET_EV_ROUTE_REPLACE)
                        fams |= e->family == 6 ? 1u << 6 : 1u << 4;
        }
        return fams;
}

/* Only the families whose routes changed: a walk and a compare of every
 * route otherwise, for nothing, on most inputs. */
static int reset_routes(struct mpnet_stack *s, struct stack_mark *m)
{
        unsigned fams = routes_changed(s, m);
        int err = 0;

        if (fams & 1u << 4)
                err = reset_routes4(s, m);
        if (err == 0 && (fams & 1u << 6))
                err = reset_routes6(s, m);
        return err;
}

/* ---- timers ---- */

static void mark_timer(struct stack_mark *m, struct mpnet_timer *t, unsigned max)
{
        struct mark_timer *mt;

        if (!mpnet_timer_pending(t))
                return;
        mt = &m->timers[m->n_timers++];
        mt->t = t;
        mt->expire_ns = t->expire_tick * TIMER_TICK_NS;
        mt->depth = 0;
        for (const struct mpnet_timer *n = t->next; n != NULL && mt->depth <= max; n = n->next)
                mt->depth++;
}

static int timer_depth_cmp(const void *a, const void *b)
{
        const struct mark_timer *x = a, *y = b;

        return (x->depth > y->depth) - (x->depth < y->depth);
}

/* @return false when a timer is armed that is not an interface's (a
 * neighbour entry's): the mark could not arm it again. */
static bool mark_timers(struct mpnet_stack *s, struct stack_mark *m)
{
        unsigned pending = mpnet_timer_wheel_count(s->timers);

        m->n_timers = 0;
        for (unsigned i = 0; i < m->n_ifs; i++) {
                for (unsigned t = 0; t < m->ifs[i].n_timers; t++)
                        mark_timer(m, m->ifs[i].timers[t], pending);
        }
        /* Armed deepest last: each goes to the head of its list, so the
         * lists come out in the order they had. */
        qsort(m->timers, m->n_timers, sizeof(m->timers[0]), timer_depth_cmp);
        return m->n_timers == pending;
}

/* The wheel cleared back to the mark's time (no new wheel: a fresh
 * allocation per input is a page fault under ASan's quarantine), the
 * interfaces' timers armed on it. The neighbour entries' timers went with
 * the entries. */
static void reset_timers(struct mpnet_stack *s, const struct stack_mark *m)
{
        mpnet_timer_wheel_clear(s->timers, m->now);
        for (unsigned i = 0; i < m->n_timers; i++)
                mpnet_timer_arm(s->timers, m->timers[i].t, m->timers[i].expire_ns);
}

/* ---- the control thread's scalars, counters, the clock ---- */

static void mark_control(const struct mpnet_stack *s, struct stack_mark *m)
{
        m->now = s->now;
        m->rng = s->rng;
        m->ip_id = s->ctx[0]->ip_id;
        memcpy(m->punt_tb, s->ctx[0]->punt_tb, sizeof(m->punt_tb));
        m->icmp6_tokens = s->icmp6_tokens;
        m->icmp6_last = s->icmp6_last;
        memcpy(m->pmtu, s->pmtu, sizeof(m->pmtu));
        m->pmtu_used = atomic_load_explicit(&s->pmtu_used, memory_order_relaxed);
        m->events = s->events;
}

static void reset_control(struct mpnet_stack *s, const struct stack_mark *m)
{
        s->now = m->now;
        s->rng = m->rng;
        s->ctx[0]->ip_id = m->ip_id;
        memcpy(s->ctx[0]->punt_tb, m->punt_tb, sizeof(s->ctx[0]->punt_tb));
        s->icmp6_tokens = m->icmp6_tokens;
        s->icmp6_last = m->icmp6_last;
        memcpy(s->pmtu, m->pmtu, sizeof(s->pmtu));
        atomic_store_explicit(&s->pmtu_used, m->pmtu_used, memory_order_relaxed);
        if (s->events.seq != m->events.seq || s->events.head != m->events.head)
                s->events = m->events;
        mpnet_clock_init_virtual(s->clock, m->now);
}

/* The counters' row of the calling thread, the one that drives the stack:
 * without workers every count is there. */
static _Atomic uint64_t *ctr_row(const struct mpnet_stack *s)
{
        return &s->ctr->rows[(size_t)mpnet_thread_slot() * s->ctr->stride];
}

/* @return false when a count is in another thread's row. */
static bool mark_counters(const struct mpnet_stack *s, struct stack_mark *m)
{
        const struct wctx *w = s->ctx[0];
        const _Atomic uint64_t *row = ctr_row(s);
        bool one_row = true;

        for (unsigned i = 0; i < m->n_ctr; i++) {
                m->ctr[i] = mpnet_counter_read(s->ctr, i);
                one_row &= m->ctr[i] == atomic_load_explicit(&row[i], memory_order_relaxed);
        }
        for (unsigned n = 0; n < s->g.n_nodes; n++) {
                m->node_calls[n] = mpnet_stat_read(&w->node_calls[n]);
                m->node_pkts[n] = mpnet_stat_read(&w->node_pkts[n]);
        }
        return one_row;
}

/* Back to what configuration counted; node cycles (a timing) to 0. The
 * calling thread's row only (it drives the stack, no worker counts): a copy
 * of one row, where mpnet_counters_reset() went over the 65 rows of every
 * thread slot, a third of a reset's time under ASan. */
static void reset_counters(struct mpnet_stack *s, const struct stack_mark *m)
{
        struct wctx *w = s->ctx[0];

        memcpy((void *)ctr_row(s), m->ctr, m->n_ctr * sizeof(m->ctr[0]));
        mpnet_node_stats_reset(s);
        for (unsigned n = 0; n < s->g.n_nodes; n++) {
                mpnet_stat_add(&w->node_calls[n], m->node_calls[n]);
                mpnet_stat_add(&w->node_pkts[n], m->node_pkts[n]);
        }
}

/* ---- marking ---- */

/* What the mark can record and stack_reset() give back. */
static int mark_check(struct mpnet_stack *s)
{
        if (s->clock->kind != MPNET_CLOCK_VIRTUAL)
                return -EINVAL;
        if (atomic_load(&s->n_workers) != 0 || s->defer != NULL || !queues_empty(s))
                return -EBUSY;
        if (!graph_resettable(&s->g) || graph_state_learnt(s))
                return -EBUSY;
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                if (s->ifs[i] != NULL && graph_iface_learnt(s, s->ifs[i]))
                        return -EBUSY;
        }
        return 0;
}

/* One block (free(m) frees it): the mark, the interfaces' copies, the
 * routes, the counters. */
static struct stack_mark *mark_make(struct mpnet_stack *s)
{
        struct stack_mark probe = {0}, *m;
        unsigned n_ifs = 0, k = 0, n_ctr = mpnet_stack_counter_count(s);
        size_t sz[7], per_if = mod_mark_size(s), mod_sz[GRAPH_MAX_MODS] = {0};
        char *p;

        for (int i = 1; i <= STACK_MAX_IFACES; i++)
                n_ifs += s->ifs[i] != NULL;
        mark_routes(s, &probe);
        sz[0] = lines(sizeof(*m));
        sz[1] = lines(n_ifs * sizeof(m->ifs[0]));
        sz[2] = lines(probe.n_r4 * sizeof(m->r4[0]));
        sz[3] = lines(probe.n_r6 * sizeof(m->r6[0]));
        sz[4] = lines(n_ctr * sizeof(m->ctr[0]));
        sz[5] = n_ifs * per_if;
        sz[6] = 0;
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                const struct mpnet_module *mod = s->g.mods[i].m;

                if (mod->state_mark_size != NULL)
                        mod_sz[i] = lines(mod->state_mark_size(s, s->g.mods[i].state));
                sz[6] += mod_sz[i];
        }
        m = aligned_alloc(MPNET_CACHE_LINE, sz[0] + sz[1] + sz[2] + sz[3] + sz[4] + sz[5] + sz[6]);
        if (m == NULL)
                return NULL;
        memset(m, 0, sizeof(*m));
        p = (char *)m + sz[0];
        m->ifs = (struct mark_iface *)p;
        p += sz[1];
        m->r4 = (struct mark_route4 *)p;
        p += sz[2];
        m->r6 = (struct mark_route6 *)p;
        p += sz[3];
        m->ctr = (uint64_t *)p;
        p += sz[4];
        m->n_ctr = n_ctr;
        mark_routes(s, m);
        for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                struct mpnet_iface *ifp = s->ifs[i];

                if (ifp == NULL)
                        continue;
                m->ifs[k].ifp = ifp;
                m->ifs[k].gen = ifp->gen;
                memcpy(&m->ifs[k].copy, ifp, sizeof(*ifp));
                m->ifs[k].mod_mark = p + k * per_if;
                mark_iface_mods(s, &m->ifs[k]);
                k++;
        }
        m->n_ifs = n_ifs;
        p += n_ifs * per_if;
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                int err;

                if (mod_sz[i] == 0)
                        continue;
                m->mod[i] = p;
                p += mod_sz[i];
                err = s->g.mods[i].m->state_mark(s, s->g.mods[i].state, m->mod[i]);
                if (err != 0) {
                        free(m);
                        errno = -err;
                        return NULL;
                }
        }
        mark_control(s, m);
        if (!mark_timers(s, m) || !mark_counters(s, m)) {
                free(m);
                errno = EBUSY;
                return NULL;
        }
        return m;
}

/* What the modules recorded at the mark, given back (after every
 * module's state_reset). */
static int reset_mods(struct mpnet_stack *s, const struct stack_mark *m)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                int err;

                if (m->mod[i] == NULL)
                        continue;
                err = s->g.mods[i].m->state_restore(s, s->g.mods[i].state, m->mod[i]);
                if (err != 0)
                        return err;
        }
        return 0;
}

/* ---- the reset ---- */

static int reset_to(struct mpnet_stack *s, struct stack_mark *m)
{
        int err;

        for (unsigned i = 0; i < m->n_ifs; i++) {
                const struct mark_iface *mi = &m->ifs[i];

                if (stack_iface(s, mi->copy.ifindex) != mi->ifp || mi->ifp->gen != mi->gen)
                        return -ESTALE; /* an interface came or went since the mark */
        }
        reset_queues(s);
        reset_ctx_state(s);
        graph_state_reset(s);
        for (unsigned i = 0; i < m->n_ifs; i++) {
                const struct mark_iface *mi = &m->ifs[i];

                reset_learnt(mi->ifp);
                err = reset_iface(s, mi);
                if (err != 0)
                        return err;
        }
        err = reset_routes(s, m);
        if (err != 0)
                return err;
        reset_timers(s, m);
        err = reset_mods(s, m);
        if (err != 0)
                return err;
        /* Last: what the steps above counted, sent or recorded goes too. */
        reset_queues(s);
        reset_control(s, m);
        reset_counters(s, m);
        return 0;
}

struct stack_mark *stack_reset(struct mpnet_stack *s, struct stack_mark *m)
{
        int err;

        if (m == NULL) {
                err = mark_check(s);
                if (err != 0) {
                        errno = -err;
                        return NULL;
                }
                return mark_make(s);
        }
        err = reset_to(s, m);
        if (err != 0) {
                errno = -err;
                return NULL;
        }
        return m;
}
