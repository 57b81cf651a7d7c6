/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The port table's readers beside a writer (ThreadSanitizer): two threads
 * look datagrams up, without a lock, while a third binds, connects and
 * unbinds sockets on the same port. Retired sets are kept until the readers
 * have stopped, as the stack's grace period would keep them. Every answer
 * must be one the table could give at some instant: a datagram to an
 * address nobody binds always reaches the wildcard socket that stays bound
 * throughout, and one to a churned address reaches that address's socket
 * or the wildcard one, never another.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "l4/pcb.h"

#define N_ADDR  32
#define ROUNDS  20000
#define READERS 2

struct mpnet_sock {
        int id; /* 0 the wildcard socket, i the one on 10.0.1.i */
};

struct retired {
        pthread_mutex_t lock;
        struct pcb_set **v;
        size_t n, cap;
        bool failed;
};

static struct mpnet_sock socks[N_ADDR + 1];
static atomic_bool stop;
static atomic_uint bad, lookups;

/* Kept, not freed: no reader may still hold a set before the join. */
static void retire_later(void *arg, struct pcb_set *old)
{
        struct retired *r = arg;

        pthread_mutex_lock(&r->lock);
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 1024;
                struct pcb_set **v = realloc(r->v, cap * sizeof(*v));

                if (v == NULL) { /* reported below; leaking beats a use after free */
                        r->failed = true;
                        pthread_mutex_unlock(&r->lock);
                        return;
                }
                r->v = v;
                r->cap = cap;
        }
        r->v[r->n++] = old;
        pthread_mutex_unlock(&r->lock);
}

static void v4(uint8_t a[16], unsigned net, unsigned host)
{
        memset(a, 0, 16);
        a[10] = a[11] = 0xff;
        a[12] = 10;
        a[14] = (uint8_t)net;
        a[15] = (uint8_t)host;
}

static void *reader(void *arg)
{
        const struct pcb_table *t = arg;
        struct pcb_key k;
        unsigned i = 0;

        memset(&k, 0, sizeof(k));
        k.fam = 4;
        k.dport = 53;
        k.sport = 1000;
        k.ifindex = 1;
        v4(k.saddr, 9, 9);
        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                unsigned host = 1 + i % N_ADDR;
                struct mpnet_sock *s;

                v4(k.daddr, 0, 1);
                s = pcb_lookup(t, &k, 1, i);
                if (s != &socks[0])
                        atomic_fetch_add(&bad, 1);
                v4(k.daddr, 1, host);
                s = pcb_lookup(t, &k, 1, i);
                if (s != &socks[0] && s != &socks[host])
                        atomic_fetch_add(&bad, 1);
                atomic_fetch_add_explicit(&lookups, 2, memory_order_relaxed);
                i++;
        }
        return NULL;
}

static void churn(struct pcb_table *t)
{
        for (unsigned r = 0; r < ROUNDS; r++) {
                unsigned host = 1 + r % N_ADDR;
                struct pcb_ent e;

                memset(&e, 0, sizeof(e));
                e.so = &socks[host];
                e.fam = PCB_FAM4;
                e.flags = PCB_F_REUSEADDR;
                v4(e.laddr, 1, host);
                if (r % 3 == 0) {
                        assert_int_equal(pcb_bind(t, 53, &e), 0);
                        continue;
                }
                if (r % 3 == 1) {
                        /* Connected to the readers' peer but another port:
                         * still no datagram of theirs may reach it. */
                        e.flags |= PCB_F_CONNECTED;
                        v4(e.faddr, 9, 9);
                        e.fport = 999;
                        (void)pcb_update(t, 53, &e);
                        continue;
                }
                (void)pcb_unbind(t, 53, &socks[host]);
        }
}

static void test_readers_beside_writer(void **state)
{
        struct retired r = {.lock = PTHREAD_MUTEX_INITIALIZER};
        struct pcb_table *t = pcb_table_create(retire_later, &r);
        pthread_t th[READERS];
        struct pcb_ent w;

        (void)state;
        assert_non_null(t);
        for (int i = 0; i <= N_ADDR; i++)
                socks[i].id = i;
        memset(&w, 0, sizeof(w));
        w.so = &socks[0];
        w.fam = PCB_FAM4;
        w.flags = PCB_F_REUSEADDR;
        assert_int_equal(pcb_bind(t, 53, &w), 0);
        for (int i = 0; i < READERS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, reader, t), 0);
        churn(t);
        /* Let the readers see the last sets (bounded: a busy machine may
         * not have run them yet). */
        for (int spin = 0; spin < 1000000 && atomic_load(&lookups) < 1000; spin++)
                sched_yield();
        atomic_store(&stop, true);
        for (int i = 0; i < READERS; i++)
                pthread_join(th[i], NULL);
        assert_int_equal(atomic_load(&bad), 0);
        assert_true(atomic_load(&lookups) > 0);
        assert_false(r.failed);
        for (size_t i = 0; i < r.n; i++)
                pcb_set_free(r.v[i]);
        free(r.v);
        pcb_table_destroy(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_readers_beside_writer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
