/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bounded caches of the objects each TCP connection allocates: the
 * connection, its data state and its SACK scoreboard (struct tcp_cache,
 * l4/tcp.h). A netperf TCP_CRR transaction made and
 * freed six of them with malloc, about 1,700 instructions of its 58,000.
 *
 * Synchronisation: the control context's (context 0: the control thread,
 * which also runs stack_defer()'s callbacks), so no lock; a worker's
 * context goes to malloc and free, as before.
 * Life cycle: tcp_cache_init with the stack's TCP state; tcp_cache_fini
 * in its fini, after every deferred free ran.
 */
#include <stdlib.h>
#include <string.h>

#include "l4/tcp.h"
#include "l4/tcp_sack.h"
#include "stack/stack_priv.h"

static void obj_free(unsigned kind, void *o)
{
        if (kind == TCP_CACHE_SACK && o != NULL)
                free(((struct tcp_sack *)o)->seg);
        free(o);
}

void *tcp_cache_get(struct wctx *w, unsigned kind, size_t size)
{
        struct tcp_cache *k = &tcp_state_of(w->s)->cache;
        void *o;

        if (w->id != 0)
                return calloc(1, size); /* the cache is not this context's */
        if (k->n[kind] == 0) {
                k->misses++;
                return calloc(1, size);
        }
        k->hits++;
        o = k->obj[kind][--k->n[kind]];
        memset(o, 0, size);
        return o;
}

void tcp_cache_put_ctl(struct tcp_cache *k, unsigned kind, void *o)
{
        if (o == NULL)
                return;
        if (kind == TCP_CACHE_SACK) {
                /* Its records go (the map is freed whenever nothing is in
                 * flight anyway): a cached scoreboard pins no more. */
                free(((struct tcp_sack *)o)->seg);
                ((struct tcp_sack *)o)->seg = NULL;
        }
        if (k->n[kind] < TCP_CACHE_MAX)
                k->obj[kind][k->n[kind]++] = o;
        else
                obj_free(kind, o);
}

void tcp_cache_put(struct wctx *w, unsigned kind, void *o)
{
        if (w->id == 0)
                tcp_cache_put_ctl(&tcp_state_of(w->s)->cache, kind, o);
        else
                obj_free(kind, o);
}

void tcp_cache_init(struct tcp_cache *k)
{
        memset(k, 0, sizeof(*k));
}

void tcp_cache_fini(struct tcp_cache *k)
{
        for (unsigned i = 0; i < TCP_CACHE_KINDS; i++)
                while (k->n[i] != 0)
                        obj_free(i, k->obj[i][--k->n[i]]);
}

struct tcp_conn *tcp_conn_alloc(struct wctx *w)
{
        return tcp_cache_get(w, TCP_CACHE_CONN, sizeof(struct tcp_conn));
}
