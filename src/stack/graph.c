/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Graph assembly from modules, the dispatcher, re-entry and feature arcs
 * (graph.h says what each is).
 *
 * Synchronisation: graph_init/graph_fini and mpnet_feature_set() are the
 * control thread's; graph_run, graph_enqueue, graph_reenter and the arcs
 * run on the context that owns the frames (a worker or the control thread).
 */
#include <errno.h>
#include <stdio.h>

#include "l2/ether.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

/* ---- assembly ---- */

/* ---- per-context state and the per-interface hooks ---- */

int graph_ctx_init(struct wctx *w)
{
        const struct graph *g = &w->s->g;

        for (unsigned i = 0; i < g->n_mods; i++) {
                const struct mpnet_module *m = g->mods[i].m;
                int err = 0;

                if (m->ctx_state_size != 0) {
                        w->mctx[i] = zalloc_lines(m->ctx_state_size);
                        if (w->mctx[i] == NULL)
                                err = -ENOMEM;
                }
                if (err == 0 && m->ctx_init != NULL)
                        err = m->ctx_init(w, w->mctx[i]);
                if (err != 0) {
                        zfree_lines(w->mctx[i]);
                        w->mctx[i] = NULL;
                        while (i-- > 0) {
                                if (g->mods[i].m->ctx_fini != NULL)
                                        g->mods[i].m->ctx_fini(w, w->mctx[i]);
                                zfree_lines(w->mctx[i]);
                                w->mctx[i] = NULL;
                        }
                        return err;
                }
        }
        return 0;
}

void graph_ctx_fini(struct wctx *w)
{
        const struct graph *g = &w->s->g;

        for (unsigned i = g->n_mods; i-- > 0;) {
                if (g->mods[i].m->ctx_fini != NULL)
                        g->mods[i].m->ctx_fini(w, w->mctx[i]);
                zfree_lines(w->mctx[i]);
                w->mctx[i] = NULL;
        }
}

uint64_t graph_ctx_service(struct wctx *w, uint64_t now)
{
        const struct graph *g = &w->s->g;
        uint64_t next = MPNET_TIME_NEVER;

        for (unsigned k = 0; k < g->n_svc; k++) {
                unsigned i = g->svc[k];
                uint64_t t = g->mods[i].m->ctx_service(w, w->mctx[i], now);

                if (t < next)
                        next = t;
        }
        return next;
}

void graph_ctx_reset(struct wctx *w)
{
        const struct graph *g = &w->s->g;

        for (unsigned i = 0; i < g->n_mods; i++) {
                if (g->mods[i].m->ctx_reset != NULL)
                        g->mods[i].m->ctx_reset(w, w->mctx[i]);
        }
}

void graph_ctx_usage(const struct wctx *w, struct mpnet_stack_usage *u)
{
        const struct graph *g = &w->s->g;

        for (unsigned i = 0; i < g->n_mods; i++) {
                if (g->mods[i].m->ctx_usage != NULL)
                        g->mods[i].m->ctx_usage(w, w->mctx[i], u);
        }
}

void graph_iface_usage(struct mpnet_stack *s, const struct mpnet_iface *ifp,
                       struct mpnet_stack_usage *u)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                if (s->g.mods[i].m->iface_usage != NULL)
                        s->g.mods[i].m->iface_usage(ifp, u);
        }
}

void graph_iface_flush(struct mpnet_stack *s, struct mpnet_iface *ifp, bool learnt_only)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                if (s->g.mods[i].m->iface_flush != NULL)
                        s->g.mods[i].m->iface_flush(ifp, learnt_only);
        }
}

bool graph_iface_learnt(struct mpnet_stack *s, const struct mpnet_iface *ifp)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                if (s->g.mods[i].m->iface_learnt != NULL && s->g.mods[i].m->iface_learnt(ifp))
                        return true;
        }
        return false;
}

void graph_usage(struct mpnet_stack *s, struct mpnet_stack_usage *u)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                if (s->g.mods[i].m->usage != NULL)
                        s->g.mods[i].m->usage(s, u);
        }
}

bool graph_resettable(const struct graph *g)
{
        for (unsigned i = 0; i < g->n_mods; i++) {
                const struct mpnet_module *m = g->mods[i].m;

                if ((m->state_size != 0 && m->state_reset == NULL) ||
                    (m->ctx_state_size != 0 && m->ctx_reset == NULL))
                        return false;
        }
        return true;
}

bool graph_state_learnt(struct mpnet_stack *s)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                const struct mpnet_module *m = s->g.mods[i].m;

                if (m->state_learnt != NULL && m->state_learnt(s, s->g.mods[i].state))
                        return true;
        }
        return false;
}

void graph_state_reset(struct mpnet_stack *s)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                const struct mpnet_module *m = s->g.mods[i].m;

                if (m->state_reset != NULL)
                        m->state_reset(s, s->g.mods[i].state);
        }
}

int graph_node_find(const struct graph *g, const char *name)
{
        for (unsigned i = 0; i < g->n_nodes; i++) {
                if (strcmp(g->node[i]->name, name) == 0)
                        return (int)i;
        }
        return -1;
}

static int add_nodes(struct graph *g, const struct mpnet_module *m, unsigned mi)
{
        for (unsigned i = 0; i < m->n_nodes; i++) {
                const struct node_reg *r = &m->nodes[i];

                if (g->n_nodes == GRAPH_MAX_NODES || r->name == NULL ||
                    graph_node_find(g, r->name) >= 0 || r->n_next > GRAPH_MAX_NEXT)
                        return -EINVAL;
                /* The core nodes' ids are constants the core code uses. */
                if (r->core_id >= 0 ? (unsigned)r->core_id != g->n_nodes : g->n_nodes < NODE__CORE)
                        return -EINVAL;
                g->node_mod[g->n_nodes] = (uint8_t)mi;
                g->node[g->n_nodes++] = r;
        }
        return 0;
}

static int link_next(struct graph *g)
{
        for (unsigned id = 0; id < g->n_nodes; id++) {
                const struct node_reg *r = g->node[id];

                for (unsigned k = 0; k < r->n_next; k++) {
                        int to = graph_node_find(g, r->next[k]);

                        if (to < 0)
                                return -EINVAL;
                        g->next[id][k] = (uint8_t)to;
                }
                g->n_next[id] = (uint8_t)r->n_next;
        }
        return 0;
}

static int add_demux(struct graph *g, const struct mpnet_module *m, unsigned mi)
{
        for (unsigned i = 0; i < m->n_ethertypes; i++) {
                int to = graph_node_find(g, m->ethertypes[i].node);

                if (to < 0 || g->n_eth == GRAPH_MAX_ETHERTYPES)
                        return -EINVAL;
                for (unsigned k = 0; k < g->n_eth; k++) {
                        if (g->eth_type[k] == m->ethertypes[i].type)
                                return -EINVAL;
                }
                g->eth_type[g->n_eth] = m->ethertypes[i].type;
                g->eth_node[g->n_eth++] = (uint8_t)to;
        }
        for (unsigned i = 0; i < m->n_l4; i++) {
                const struct l4_reg *r = &m->l4[i];
                uint8_t *slot;

                if ((r->family != 4 && r->family != 6) || g->n_l4 == GRAPH_MAX_L4)
                        return -EINVAL;
                slot = &g->l4_of[r->family == 6][r->proto];
                if (*slot != 0)
                        return -EINVAL;
                if (r->shed != NULL) {
                        l4_shed_fn *shed = r->family == 6 ? &g->l4_shed6 : &g->l4_shed4;

                        if (*shed != NULL)
                                return -EINVAL;
                        *shed = r->shed;
                }
                g->l4_err[g->n_l4] = r->err;
                g->l4[g->n_l4++] = r->fn;
                *slot = (uint8_t)g->n_l4;
        }
        if (m->l4_tap != NULL) {
                if (g->l4_tap != NULL)
                        return -EINVAL;
                g->l4_tap = m->l4_tap;
        }
        if (m->l4_tap_err != NULL) {
                if (g->l4_tap_err != NULL)
                        return -EINVAL;
                g->l4_tap_err = m->l4_tap_err;
        }
        if (m->echo_in != NULL || m->echo_err != NULL) {
                if (g->echo_in != NULL || g->echo_err != NULL)
                        return -EINVAL;
                g->echo_in = m->echo_in;
                g->echo_err = m->echo_err;
        }
        for (unsigned i = 0; i < m->n_punts; i++) {
                const struct punt_reg *r = &m->punts[i];

                if (r->kind == 0 || r->kind >= GRAPH_MAX_PUNTS || g->punt[r->kind] != NULL)
                        return -EINVAL;
                g->punt[r->kind] = r->fn;
                g->punt_urgent[r->kind] = r->urgent;
        }
        for (unsigned i = 0; i < m->n_features; i++) {
                const struct feature_reg *f = &m->features[i];

                if (g->n_feats == GRAPH_MAX_FEATS || f->arc >= ARC__COUNT || f->fn == NULL)
                        return -EINVAL;
                for (unsigned k = 0; k < g->n_feats; k++) {
                        if (strcmp(g->feat[k].f->name, f->name) == 0)
                                return -EINVAL;
                }
                g->feat[g->n_feats].f = f;
                g->feat[g->n_feats++].mod = (uint8_t)mi;
        }
        return 0;
}

/* ether-input's next nodes are what the ethertypes name: the dispatcher
 * looks there for work after it ran. */
static void ether_next(struct graph *g)
{
        for (unsigned k = 0; k < g->n_eth && k < GRAPH_MAX_NEXT; k++)
                g->next[NODE_ether_input][k] = g->eth_node[k];
        g->n_next[NODE_ether_input] = (uint8_t)g->n_eth;
}

static int add_module(struct graph *g, const struct mpnet_module *m)
{
        unsigned mi = g->n_mods;

        if (mi == GRAPH_MAX_MODS || m == NULL || m->name == NULL)
                return -EINVAL;
        for (unsigned i = 0; i < mi; i++) {
                if (strcmp(g->mods[i].m->name, m->name) == 0)
                        return -EINVAL;
        }
        /* The core modules' per-context state is found by constant. */
        if (mi < MOD__CORE && m != core_modules[mi])
                return -EINVAL;
        g->mods[mi].m = m;
        if (m->ctx_service != NULL)
                g->svc[g->n_svc++] = (uint8_t)mi;
        g->mods[mi].ctr_base = STK__COUNT + g->n_ctrs;
        g->n_ctrs += m->n_counters;
        g->n_mods++;
        return add_nodes(g, m, mi);
}

static int graph_build(struct graph *g, const struct mpnet_module *const *extra)
{
        int err = 0;

        for (unsigned i = 0; err == 0 && i < n_core_modules; i++)
                err = add_module(g, core_modules[i]);
        for (unsigned i = 0; err == 0 && extra != NULL && extra[i] != NULL; i++)
                err = add_module(g, extra[i]);
        if (err == 0 && (g->n_nodes < NODE__CORE || n_core_modules != MOD__CORE))
                err = -EINVAL;
        if (err == 0)
                err = link_next(g);
        for (unsigned i = 0; err == 0 && i < g->n_mods; i++)
                err = add_demux(g, g->mods[i].m, i);
        if (err == 0 && g->n_eth > GRAPH_MAX_NEXT)
                err = -EINVAL;
        if (err == 0)
                ether_next(g);
        return err;
}

int graph_init(struct mpnet_stack *s, const struct mpnet_module *const *extra)
{
        int err = graph_build(&s->g, extra);

        if (err != 0)
                s->g.n_mods = 0; /* nothing to fini */
        return err;
}

int graph_modules_init(struct mpnet_stack *s)
{
        struct graph *g = &s->g;

        for (unsigned i = 0; i < g->n_mods; i++) {
                const struct mpnet_module *m = g->mods[i].m;
                int err = 0;

                if (m->state_size != 0) {
                        g->mods[i].state = calloc(1, m->state_size);
                        if (g->mods[i].state == NULL)
                                err = -ENOMEM;
                }
                if (err == 0 && m->init != NULL)
                        err = m->init(s, g->mods[i].state);
                if (err != 0) {
                        free(g->mods[i].state);
                        g->mods[i].state = NULL;
                        g->n_mods = i; /* fini for those before */
                        return err;
                }
        }
        return 0;
}

void graph_fini(struct mpnet_stack *s)
{
        struct graph *g = &s->g;

        for (unsigned i = g->n_mods; i-- > 0;) {
                if (g->mods[i].m->fini != NULL)
                        g->mods[i].m->fini(s, g->mods[i].state);
                free(g->mods[i].state);
                g->mods[i].state = NULL;
        }
}

int graph_iface_attach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        const struct graph *g = &s->g;

        for (unsigned i = 0; i < g->n_mods; i++) {
                int err =
                    g->mods[i].m->iface_attach != NULL ? g->mods[i].m->iface_attach(s, ifp) : 0;

                if (err == 0)
                        continue;
                while (i-- > 0) {
                        if (g->mods[i].m->iface_free != NULL)
                                g->mods[i].m->iface_free(s, ifp);
                }
                return err;
        }
        return 0;
}

void graph_iface_detach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        for (unsigned i = s->g.n_mods; i-- > 0;) {
                if (s->g.mods[i].m->iface_detach != NULL)
                        s->g.mods[i].m->iface_detach(s, ifp);
        }
}

void graph_iface_free(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        for (unsigned i = s->g.n_mods; i-- > 0;) {
                if (s->g.mods[i].m->iface_free != NULL)
                        s->g.mods[i].m->iface_free(s, ifp);
        }
}

void graph_iface_mtu(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t mtu)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                if (s->g.mods[i].m->iface_mtu != NULL)
                        s->g.mods[i].m->iface_mtu(ifp, mtu);
        }
}

void graph_iface_table(struct mpnet_stack *s, struct mpnet_iface *ifp, bool add)
{
        const struct graph *g = &s->g;

        for (unsigned k = 0; k < g->n_mods; k++) {
                unsigned i = add ? g->n_mods - 1 - k : k;

                if (g->mods[i].m->iface_table != NULL)
                        g->mods[i].m->iface_table(ifp, add);
        }
}

void *graph_node_state(struct mpnet_stack *s, unsigned self)
{
        return s->g.mods[s->g.node_mod[self]].state;
}

unsigned graph_node_ctr_base(struct mpnet_stack *s, unsigned self)
{
        return s->g.mods[s->g.node_mod[self]].ctr_base;
}

void *graph_module_state(struct mpnet_stack *s, const char *name)
{
        for (unsigned i = 0; i < s->g.n_mods; i++) {
                if (strcmp(s->g.mods[i].m->name, name) == 0)
                        return s->g.mods[i].state;
        }
        return NULL;
}

/* ---- the dispatcher ---- */

/* Mark the next nodes of id that got work. */
static inline void next_pending(struct wctx *w, unsigned id)
{
        const struct graph *g = &w->s->g;

        for (unsigned k = 0; k < g->n_next[id]; k++) {
                unsigned to = g->next[id][k];

                if (w->fr[to].n != 0)
                        w->pending |= 1ull << to;
        }
}

/* Run node id on its frame, then mark its next nodes that got work. */
static inline void node_run(struct wctx *w, struct mpnet_iface *ifp, unsigned id)
{
        unsigned n = w->fr[id].n;
        uint64_t t0 = node_clock();

        w->cur_node = id;
        w->s->g.node[id]->fn(w, ifp, id);
        node_account(w, id, n, node_clock() - t0);
        next_pending(w, id);
}

/* Lowest id first: when a node runs, every node before it is empty, so
 * whatever it sends back has a whole frame to land in. */
static void graph_drain(struct wctx *w, struct mpnet_iface *ifp)
{
        while (w->pending != 0) {
                unsigned id = (unsigned)__builtin_ctzll(w->pending);

                w->pending &= w->pending - 1;
                if (w->fr[id].n != 0)
                        node_run(w, ifp, id);
        }
        w->cur_node = GRAPH_MAX_NODES;
}

/* What re-entered the graph, by interface: each group through the graph as
 * if received there. */
static void reenter_drain(struct wctx *w)
{
        struct mpnet_stack *s = w->s;

        while (w->req.n != 0) {
                unsigned n = w->req.n, done = 0;
                struct mpnet_pkt *p[MPNET_VEC_MAX];
                uint32_t aux[MPNET_VEC_MAX];
                uint8_t node[MPNET_VEC_MAX];

                memcpy(p, w->req.p, n * sizeof(p[0]));
                memcpy(aux, w->req.aux, n * sizeof(aux[0]));
                memcpy(node, w->req.node, n);
                w->req.n = 0;
                while (done < n) {
                        uint32_t ifindex = UINT32_MAX;
                        struct mpnet_iface *ifp;

                        for (unsigned i = 0; i < n; i++) {
                                if (p[i] != NULL) {
                                        ifindex = p[i]->ifindex;
                                        break;
                                }
                        }
                        ifp = ifindex >= 1 && ifindex <= STACK_MAX_IFACES
                                  ? __atomic_load_n(&s->ifs[ifindex], __ATOMIC_ACQUIRE)
                                  : NULL;
                        for (unsigned i = 0; i < n; i++) {
                                if (p[i] == NULL || p[i]->ifindex != ifindex)
                                        continue;
                                if (ifp == NULL) {
                                        STK_INC(s, tx_no_iface);
                                        mpnet_pkt_free(p[i]);
                                } else {
                                        struct frame *f = &w->fr[node[i]];

                                        f->aux[f->n] = aux[i];
                                        f->p[f->n++] = p[i];
                                        w->pending |= 1ull << node[i];
                                }
                                p[i] = NULL;
                                done++;
                        }
                        if (ifp != NULL)
                                graph_drain(w, ifp);
                }
        }
}

/* The vec_end hooks that were asked for, in module order. A hook may ask
 * again (for the next dispatch): its bit is cleared before it runs. */
static void vec_end_run(struct wctx *w)
{
        const struct graph *g = &w->s->g;
        uint32_t m = w->vec_end;

        w->vec_end = 0;
        for (; m != 0; m &= m - 1) {
                unsigned i = (unsigned)__builtin_ctz(m);

                if (i < g->n_mods && g->mods[i].m->vec_end != NULL)
                        g->mods[i].m->vec_end(w, w->mctx[i]);
        }
}

void graph_run(struct wctx *w, struct mpnet_iface *ifp)
{
        /* What a hook sends (an ACK to a local address goes round the
         * graph) may ask for hooks again: a few rounds, then the next
         * dispatch takes what is left. */
        for (unsigned round = 0;; round++) {
                graph_drain(w, ifp);
                if (__builtin_expect(w->req.n != 0, 0))
                        reenter_drain(w);
                if (__builtin_expect(w->vec_end == 0, 1) || round == GRAPH_VEC_END_ROUNDS)
                        return;
                vec_end_run(w);
        }
}

void ether_node(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **pkts, unsigned n)
{
        uint64_t t0 = node_clock();

        w->cur_node = NODE_ether_input;
        ether_input(w, ifp, pkts, n, true);
        node_account(w, NODE_ether_input, n, node_clock() - t0);
        next_pending(w, NODE_ether_input);
        graph_run(w, ifp);
}

static void req_push(struct wctx *w, unsigned node, struct mpnet_pkt *p, uint32_t aux)
{
        if (w->req.n == MPNET_VEC_MAX) {
                STK_INC(w->s, graph_reentry_full);
                mpnet_pkt_free(p);
                return;
        }
        w->req.p[w->req.n] = p;
        w->req.aux[w->req.n] = aux;
        w->req.node[w->req.n++] = (uint8_t)node;
}

/* One more re-entry for p. @return false (p dropped) past the bound. */
static bool reentry_count(struct wctx *w, struct mpnet_pkt *p)
{
        if ((p->ol_flags & PKT_REENTRY_MASK) >= (uint32_t)GRAPH_REENTRY_MAX << PKT_REENTRY_SHIFT) {
                STK_INC(w->s, graph_reentry_drop);
                mpnet_pkt_free(p);
                return false;
        }
        p->ol_flags += 1u << PKT_REENTRY_SHIFT;
        return true;
}

void graph_enqueue(struct wctx *w, unsigned node, struct mpnet_pkt *p, uint32_t aux)
{
        struct frame *f = &w->fr[node];

        /* Back to a node that ran already (or to itself): a loop, bounded,
         * and taken up once every frame is empty. Within one drain packets
         * only move forward, so no frame gets more than a vector. */
        if (node <= w->cur_node && w->cur_node < GRAPH_MAX_NODES) {
                if (reentry_count(w, p))
                        req_push(w, node, p, aux);
                return;
        }
        if (f->n == MPNET_VEC_MAX) {
                req_push(w, node, p, aux);
                return;
        }
        f->aux[f->n] = aux;
        f->p[f->n++] = p;
        w->pending |= 1ull << node;
}

void graph_reenter(struct wctx *w, unsigned node, struct mpnet_pkt *p, uint32_t aux)
{
        if (node >= w->s->g.n_nodes || w->s->g.node[node]->fn == NULL) {
                mpnet_pkt_free(p);
                return;
        }
        if (reentry_count(w, p))
                req_push(w, node, p, aux);
}

/* ---- feature arcs ---- */

unsigned arc_run_list(struct wctx *w, struct mpnet_iface *ifp, const struct feat_list *fl,
                      struct mpnet_pkt **p, uint32_t *aux, unsigned n)
{
        for (unsigned i = 0; i < fl->n && n != 0; i++)
                n = fl->e[i].f->fn(w, ifp, p, aux, n, fl->e[i].state);
        return n;
}

static void feat_list_free(void *arg)
{
        free(arg);
}

void arc_iface_free(struct mpnet_iface *ifp)
{
        for (unsigned a = 0; a < ARC__COUNT; a++) {
                free(atomic_load_explicit(&ifp->arcs[a], memory_order_relaxed));
                atomic_store_explicit(&ifp->arcs[a], NULL, memory_order_relaxed);
        }
}

/* The list of arc a on ifp with f added or removed, ordered by f->order
 * (then by name, so the order never depends on the calls'). NULL and
 * *empty for none left. */
static struct feat_list *list_with(const struct feat_list *old, const struct feature_reg *f,
                                   void *state, bool on, bool *empty)
{
        unsigned n_old = old != NULL ? old->n : 0, n = 0;
        struct feat_list *fl = malloc(sizeof(*fl) + (n_old + 1) * sizeof(fl->e[0]));

        *empty = false;
        if (fl == NULL)
                return NULL;
        for (unsigned i = 0; i < n_old; i++) {
                const struct feature_reg *o = old->e[i].f;

                if (o == f)
                        continue;
                if (on && f != NULL &&
                    (f->order < o->order ||
                     (f->order == o->order && strcmp(f->name, o->name) < 0))) {
                        fl->e[n++] = (struct feat_ent){f, state};
                        f = NULL;
                }
                fl->e[n++] = old->e[i];
        }
        if (on && f != NULL)
                fl->e[n++] = (struct feat_ent){f, state};
        fl->n = n;
        if (n == 0) {
                free(fl);
                *empty = true;
                return NULL;
        }
        return fl;
}

int mpnet_feature_set(struct mpnet_stack *s, int ifindex, const char *name, bool on)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        const struct feat_list *old;
        struct feat_list *fl;
        const struct feature_reg *f = NULL;
        void *state = NULL;
        bool empty;

        if (ifp == NULL)
                return -ENODEV;
        for (unsigned i = 0; name != NULL && i < s->g.n_feats; i++) {
                if (strcmp(s->g.feat[i].f->name, name) == 0) {
                        f = s->g.feat[i].f;
                        state = s->g.mods[s->g.feat[i].mod].state;
                }
        }
        if (f == NULL)
                return -ENOENT;
        old = atomic_load_explicit(&ifp->arcs[f->arc], memory_order_relaxed);
        fl = list_with(old, f, state, on, &empty);
        if (fl == NULL && !empty)
                return -ENOMEM;
        /* Readers that loaded old may run it until their next quiescent
         * state: it goes after a grace period. */
        atomic_store_explicit(&ifp->arcs[f->arc], fl, memory_order_release);
        if (old != NULL)
                stack_defer(s, feat_list_free, (void *)old);
        return 0;
}

bool mpnet_feature_enabled(const struct mpnet_stack *s, int ifindex, const char *name)
{
        const struct mpnet_iface *ifp =
            ifindex >= 1 && ifindex <= STACK_MAX_IFACES ? s->ifs[ifindex] : NULL;

        for (unsigned a = 0; ifp != NULL && a < ARC__COUNT; a++) {
                const struct feat_list *fl = atomic_load(&ifp->arcs[a]);

                for (unsigned i = 0; fl != NULL && i < fl->n; i++) {
                        if (strcmp(fl->e[i].f->name, name) == 0)
                                return true;
                }
        }
        return false;
}

int graph_l4_tap(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, unsigned fam,
                 uint8_t proto)
{
        struct mpnet_stack *s = w->s;
        uint64_t m =
            atomic_load_explicit(&s->l4_tap_on[fam == 6][proto >> 6], memory_order_relaxed);

        if (!((m >> (proto & 63)) & 1) || s->g.l4_tap == NULL)
                return L4_TAP_NONE;
        return s->g.l4_tap(w, ifp, p, fam, proto);
}

bool graph_l4_tap_err(struct wctx *w, const struct l4_err *e, uint8_t proto)
{
        struct mpnet_stack *s = w->s;
        uint64_t m =
            atomic_load_explicit(&s->l4_tap_on[e->family == 6][proto >> 6], memory_order_relaxed);

        if (!((m >> (proto & 63)) & 1) || s->g.l4_tap_err == NULL)
                return false;
        return s->g.l4_tap_err(w, e);
}

bool graph_echo_in(struct wctx *w, struct mpnet_pkt *p, unsigned fam)
{
        return w->s->g.echo_in != NULL && w->s->g.echo_in(w, p, fam);
}

void graph_echo_err(struct wctx *w, const struct l4_err *e)
{
        if (w->s->g.echo_err != NULL)
                w->s->g.echo_err(w, e);
}
