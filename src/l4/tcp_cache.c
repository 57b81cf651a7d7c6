/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bounded caches of the objects each TCP connection allocates: the
 * connection, its data state and its SACK scoreboard (struct tcp_cache,
 * l4/tcp.h). A netperf TCP_CRR transaction made and freed six of them
 * with malloc, about 1,700 instructions of its 58,000.
 *
 * Synchronisation: the stack's cache is shared by its contexts (a
 * connection is made on the listener's or the caller's context and freed
 * by the control thread after its grace period), so each get and put
 * takes the cache's mutex; nothing else is done under it.
 * Life cycle: tcp_cache_init with the stack's TCP state, tcp_cache_fini
 * after every connection is freed.
 */
#include <stdlib.h>
#include <string.h>

#include "l4/tcp.h"

void *tcp_cache_get(struct tcp_cache *k, unsigned kind, size_t size)
{
        void *o = NULL;

        pthread_mutex_lock(&k->lock);
        if (k->n[kind] != 0) {
                o = k->obj[kind][--k->n[kind]];
                k->hits++;
        } else {
                k->misses++;
        }
        pthread_mutex_unlock(&k->lock);
        if (o == NULL)
                return calloc(1, size);
        memset(o, 0, size);
        return o;
}

void tcp_cache_put(struct tcp_cache *k, unsigned kind, void *o)
{
        if (o == NULL)
                return;
        pthread_mutex_lock(&k->lock);
        if (k->n[kind] < TCP_CACHE_MAX) {
                k->obj[kind][k->n[kind]++] = o;
                o = NULL;
        }
        pthread_mutex_unlock(&k->lock);
        free(o);
}

int tcp_cache_init(struct tcp_cache *k)
{
        memset(k->n, 0, sizeof(k->n));
        k->hits = k->misses = 0;
        return pthread_mutex_init(&k->lock, NULL) == 0 ? 0 : -1;
}

void tcp_cache_fini(struct tcp_cache *k)
{
        for (unsigned i = 0; i < TCP_CACHE_KINDS; i++)
                while (k->n[i] != 0)
                        free(k->obj[i][--k->n[i]]);
        pthread_mutex_destroy(&k->lock);
}

struct tcp_conn *tcp_conn_alloc(struct tcp_state *st)
{
        return tcp_cache_get(&st->cache, TCP_CACHE_CONN, sizeof(struct tcp_conn));
}
