/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet buffers and pools: exhaustion, reset on allocation, accounting across
 * per-slot caches, head and tail room, chained frames byte for byte, and the
 * double-free abort.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mpnet/pkt.h"
#include "mpnet/thread.h"
#include "base/pkt_ext.h"

/* Every test starts and ends on a thread without a slot. */
static int slot_none(void **state)
{
        (void)state;
        return mpnet_thread_set_slot(MPNET_SLOT_NONE);
}

static void fill_pattern(uint8_t *b, size_t n, uint32_t seed)
{
        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 8)) ^ (seed >> 3));
}

static int cmp_ptr(const void *a, const void *b)
{
        uintptr_t x = (uintptr_t)(*(void *const *)a), y = (uintptr_t)(*(void *const *)b);

        return x < y ? -1 : x > y;
}

static void assert_fresh(struct mpnet_pool *pool, struct mpnet_pkt *p)
{
        assert_non_null(p);
        assert_ptr_equal(p->pool, pool);
        assert_int_equal((uintptr_t)p % MPNET_CACHE_LINE, 0);
        assert_ptr_equal(p->data, mpnet_pkt_buf(p) + MPNET_PKT_HEADROOM);
        assert_null(p->next);
        assert_int_equal(p->len, 0);
        assert_int_equal(p->pkt_len, 0);
        assert_int_equal(p->nb_segs, 1);
        assert_int_equal(p->ts, 0);
        assert_int_equal(p->flow_hash, 0);
        assert_int_equal(p->ifindex, 0);
        assert_int_equal(p->ol_flags, 0);
        assert_int_equal(p->tso_segsz, 0);
        assert_int_equal(p->l3_off, 0);
        assert_int_equal(p->l4_off, 0);
        assert_int_equal(p->vlan_tci, 0);
        assert_int_equal(mpnet_pkt_headroom(p), MPNET_PKT_HEADROOM);
        assert_int_equal(mpnet_pkt_tailroom(p), MPNET_PKT_DATA_SIZE);
}

static void dirty(struct mpnet_pkt *p, uint32_t i)
{
        p->data = mpnet_pkt_buf(p) + (i % 64);
        p->len = 17;
        p->pkt_len = 99;
        p->nb_segs = 7;
        p->ts = 0x1234567890ull + i;
        p->flow_hash = 0xdeadbeef;
        p->ifindex = 3;
        p->ol_flags = MPNET_PKT_F_TSO | MPNET_PKT_F_VLAN;
        p->tso_segsz = 1400;
        p->l3_off = 14;
        p->l4_off = 34;
        p->vlan_tci = 42;
}

static void test_pkt_layout(void **state)
{
        (void)state;
        assert_int_equal(sizeof(struct mpnet_pkt), 64);
        assert_int_equal(sizeof(struct mpnet_pkt), MPNET_CACHE_LINE);
        assert_true(alignof(struct mpnet_pkt) >= alignof(void *));
        assert_int_equal(MPNET_CACHE_LINE % alignof(struct mpnet_pkt), 0);
        assert_int_equal(offsetof(struct mpnet_pkt, data), 0);
        assert_int_equal(MPNET_PKT_BUF_SIZE, MPNET_PKT_HEADROOM + MPNET_PKT_DATA_SIZE);
        /* Data after the default headroom starts on a cache line. */
        assert_int_equal((sizeof(struct mpnet_pkt) + MPNET_PKT_HEADROOM) % MPNET_CACHE_LINE, 0);
}

static void test_thread_slot(void **state)
{
        (void)state;
        assert_int_equal(mpnet_thread_slot(), MPNET_SLOT_NONE);
        assert_int_equal(mpnet_thread_set_slot(0), 0);
        assert_int_equal(mpnet_thread_slot(), 0);
        assert_int_equal(mpnet_thread_set_slot(MPNET_MAX_SLOTS - 1), 0);
        assert_int_equal(mpnet_thread_slot(), MPNET_MAX_SLOTS - 1);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE + 1), -EINVAL);
        assert_int_equal(mpnet_thread_set_slot(~0u), -EINVAL);
        assert_int_equal(mpnet_thread_slot(), MPNET_MAX_SLOTS - 1);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        assert_int_equal(mpnet_thread_slot(), MPNET_SLOT_NONE);
}

static void test_pool_create_destroy(void **state)
{
        struct mpnet_pool *pool;

        (void)state;
        errno = 0;
        assert_null(mpnet_pool_create("zero", 0));
        assert_int_equal(errno, EINVAL);

        pool = mpnet_pool_create(NULL, 1);
        assert_non_null(pool);
        assert_int_equal(mpnet_pool_size(pool), 1);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);

        pool = mpnet_pool_create("a-name-longer-than-the-thirty-two-bytes-kept", 4096);
        assert_non_null(pool);
        assert_int_equal(mpnet_pool_size(pool), 4096);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);

        mpnet_pool_destroy(NULL);
}

/* Allocate every buffer of an n-buffer pool from the given slot, then check
 * that they are fresh, distinct and do not overlap, that the pool is then
 * empty, and that freeing returns all of them. */
static void exhaust(uint32_t n, unsigned slot)
{
        struct mpnet_pool *pool = mpnet_pool_create("exhaust", n);
        struct mpnet_pkt **v = calloc(n + 1, sizeof(*v));
        void **sorted = calloc(n, sizeof(*sorted));
        uint32_t got = 0;

        assert_non_null(pool);
        assert_non_null(v);
        assert_non_null(sorted);
        assert_int_equal(mpnet_thread_set_slot(slot), 0);
        for (;;) {
                struct mpnet_pkt *p = mpnet_pkt_alloc(pool);

                if (p == NULL)
                        break;
                assert_true(got < n);
                assert_fresh(pool, p);
                v[got++] = p;
                assert_int_equal(mpnet_pool_in_use(pool), got);
        }
        assert_int_equal(got, n);
        assert_null(mpnet_pkt_alloc(pool));
        assert_null(mpnet_pkt_alloc(pool));
        assert_int_equal(mpnet_pool_in_use(pool), n);

        /* Distinct, and at least one whole object apart. */
        memcpy(sorted, v, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), cmp_ptr);
        for (uint32_t i = 1; i < n; i++)
                assert_true((uintptr_t)sorted[i] - (uintptr_t)sorted[i - 1] >=
                            sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE);

        /* Each whole buffer is writable and is nobody else's. */
        for (uint32_t i = 0; i < n; i++)
                fill_pattern(mpnet_pkt_buf(v[i]), MPNET_PKT_BUF_SIZE, i);
        for (uint32_t i = 0; i < n; i++) {
                uint8_t want[MPNET_PKT_BUF_SIZE];

                fill_pattern(want, sizeof(want), i);
                assert_memory_equal(mpnet_pkt_buf(v[i]), want, sizeof(want));
                assert_ptr_equal(v[i]->pool, pool);
        }

        for (uint32_t i = 0; i < n; i++)
                dirty(v[i], i);
        for (uint32_t i = 0; i < n; i++)
                mpnet_pkt_free(v[i]);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* Everything comes back, reset. */
        for (got = 0; got < n; got++) {
                v[got] = mpnet_pkt_alloc(pool);
                assert_fresh(pool, v[got]);
        }
        assert_null(mpnet_pkt_alloc(pool));
        mpnet_pkt_free_bulk(v, n);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pool_destroy(pool);
        free(sorted);
        free(v);
}

static void test_pool_exhaust_no_slot(void **state)
{
        (void)state;
        exhaust(1, MPNET_SLOT_NONE);
        exhaust(2, MPNET_SLOT_NONE);
        exhaust(1000, MPNET_SLOT_NONE);
}

static void test_pool_exhaust_slot(void **state)
{
        (void)state;
        exhaust(1, 0);
        exhaust(127, 1);
        exhaust(128, 2);
        exhaust(129, 3);
        exhaust(1000, MPNET_MAX_SLOTS - 1);
}

static void bulk(unsigned slot)
{
        struct mpnet_pool *pool = mpnet_pool_create("bulk", 300);
        struct mpnet_pkt *v[400], *p;
        void *sorted[300];

        assert_non_null(pool);
        assert_int_equal(mpnet_thread_set_slot(slot), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, 0), 0);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, 100), 100);
        assert_int_equal(mpnet_pool_in_use(pool), 100);
        /* Partial: only 200 are left. */
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, &v[100], 250), 200);
        assert_int_equal(mpnet_pool_in_use(pool), 300);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, &v[300], 1), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, &v[300], 100), 0);
        for (unsigned i = 0; i < 300; i++) {
                assert_fresh(pool, v[i]);
                sorted[i] = v[i];
        }
        qsort(sorted, 300, sizeof(sorted[0]), cmp_ptr);
        for (unsigned i = 1; i < 300; i++)
                assert_true(sorted[i] != sorted[i - 1]);

        mpnet_pkt_free_bulk(v, 0);
        assert_int_equal(mpnet_pool_in_use(pool), 300);
        mpnet_pkt_free_bulk(v, 100);
        assert_int_equal(mpnet_pool_in_use(pool), 200);
        mpnet_pkt_free_bulk(&v[100], 200);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* free_bulk frees whole chains. */
        v[0] = mpnet_pkt_alloc(pool);
        p = mpnet_pkt_alloc(pool);
        assert_non_null(v[0]);
        assert_non_null(p);
        v[0]->next = p;
        v[0]->nb_segs = 2;
        v[1] = mpnet_pkt_alloc(pool);
        assert_non_null(v[1]);
        assert_int_equal(mpnet_pool_in_use(pool), 3);
        mpnet_pkt_free_bulk(v, 2);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, 400), 300);
        mpnet_pkt_free_bulk(v, 300);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_pool_bulk_no_slot(void **state)
{
        (void)state;
        bulk(MPNET_SLOT_NONE);
}

static void test_pool_bulk_slot(void **state)
{
        (void)state;
        bulk(7);
}

/* Allocate from one slot's cache, free into another's: in_use stays exact,
 * and after the caches are flushed every buffer can be had from anywhere. */
static void test_pool_cross_slot(void **state)
{
        enum { N = 1000 };
        struct mpnet_pool *pool = mpnet_pool_create("xslot", N);
        struct mpnet_pkt *v[N];
        unsigned got, more;

        (void)state;
        assert_non_null(pool);
        assert_int_equal(mpnet_thread_set_slot(0), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, N), N);
        assert_int_equal(mpnet_pool_in_use(pool), N);

        /* Slot 1 frees more than any cache can hold, so some spill to the store. */
        assert_int_equal(mpnet_thread_set_slot(1), 0);
        for (unsigned i = 0; i < N; i++) {
                mpnet_pkt_free(v[i]);
                assert_int_equal(mpnet_pool_in_use(pool), N - 1 - i);
        }

        /* Slot 2 gets what is not held in slot 1's cache ... */
        assert_int_equal(mpnet_thread_set_slot(2), 0);
        got = mpnet_pkt_alloc_bulk(pool, v, N);
        assert_true(got > 0);
        assert_int_equal(mpnet_pool_in_use(pool), got);
        /* ... and, once slot 1 flushes, the rest. */
        assert_int_equal(mpnet_thread_set_slot(1), 0);
        mpnet_pool_flush_cache(pool);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), got);
        assert_int_equal(mpnet_thread_set_slot(2), 0);
        more = mpnet_pkt_alloc_bulk(pool, &v[got], N - got);
        assert_int_equal(got + more, N);
        assert_null(mpnet_pkt_alloc(pool));
        assert_int_equal(mpnet_pool_in_use(pool), N);
        for (unsigned i = 0; i < N; i++)
                assert_fresh(pool, v[i]);

        /* Freed without a slot: straight to the store. */
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pool_flush_cache(pool); /* no slot: nothing to do */
        mpnet_pkt_free_bulk(v, N);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        for (unsigned s = 0; s < 3; s++) {
                assert_int_equal(mpnet_thread_set_slot(s), 0);
                mpnet_pool_flush_cache(pool);
        }
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, N), N);
        assert_int_equal(mpnet_pool_in_use(pool), N);
        mpnet_pkt_free_bulk(v, N);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* Each buffer goes back to its own pool, whichever slot frees it. */
static void test_pool_two_pools_one_slot(void **state)
{
        struct mpnet_pool *a = mpnet_pool_create("a", 10), *b = mpnet_pool_create("b", 20);
        struct mpnet_pkt *v[30];

        (void)state;
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(mpnet_thread_set_slot(4), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(a, v, 30), 10);
        assert_int_equal(mpnet_pkt_alloc_bulk(b, &v[10], 30), 20);
        for (unsigned i = 0; i < 30; i++)
                assert_ptr_equal(v[i]->pool, i < 10 ? a : b);
        assert_int_equal(mpnet_pool_in_use(a), 10);
        assert_int_equal(mpnet_pool_in_use(b), 20);
        mpnet_pkt_free_bulk(&v[5], 10); /* 5 of a, 5 of b */
        assert_int_equal(mpnet_pool_in_use(a), 5);
        assert_int_equal(mpnet_pool_in_use(b), 15);
        mpnet_pkt_free_bulk(v, 5);
        mpnet_pkt_free_bulk(&v[15], 15);
        assert_int_equal(mpnet_pool_in_use(a), 0);
        assert_int_equal(mpnet_pool_in_use(b), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(a, v, 30), 10);
        mpnet_pkt_free_bulk(v, 10);
        mpnet_pool_flush_cache(a);
        mpnet_pool_flush_cache(b);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pool_destroy(a);
        mpnet_pool_destroy(b);
}

struct xthread {
        struct mpnet_pool *pool;
        unsigned slot, n, got;
        struct mpnet_pkt **v;
        int flush;
};

static void *xthread_main(void *arg)
{
        struct xthread *x = arg;

        if (mpnet_thread_set_slot(x->slot) != 0)
                return NULL;
        if (x->n > 0)
                x->got = mpnet_pkt_alloc_bulk(x->pool, x->v, x->n);
        for (unsigned i = 0; i < x->got; i++)
                fill_pattern(x->v[i]->data, 64, i);
        if (x->flush)
                mpnet_pool_flush_cache(x->pool);
        return x;
}

static void run_xthread(struct xthread *x)
{
        pthread_t t;
        void *ret;

        assert_int_equal(pthread_create(&t, NULL, xthread_main, x), 0);
        assert_int_equal(pthread_join(t, &ret), 0);
        assert_ptr_equal(ret, x);
}

/* A real thread allocates on its slot and hands the buffers to this thread,
 * which frees them on another slot. */
static void test_pool_cross_thread(void **state)
{
        enum { N = 600, TAKE = 500 };
        struct mpnet_pool *pool = mpnet_pool_create("xthread", N);
        struct mpnet_pkt *v[N];
        struct xthread x = {.pool = pool, .slot = 5, .n = TAKE, .v = v};

        (void)state;
        assert_non_null(pool);
        run_xthread(&x);
        assert_int_equal(x.got, TAKE);
        assert_int_equal(mpnet_pool_in_use(pool), TAKE);
        for (unsigned i = 0; i < TAKE; i++) {
                uint8_t want[64];

                fill_pattern(want, sizeof(want), i);
                assert_memory_equal(v[i]->data, want, sizeof(want));
        }

        assert_int_equal(mpnet_thread_set_slot(6), 0);
        mpnet_pkt_free_bulk(v, TAKE);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* Slot 5's cache outlives its thread; a later holder of slot 5 flushes it. */
        x.n = 0;
        x.got = 0;
        x.flush = 1;
        run_xthread(&x);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, N), N);
        assert_int_equal(mpnet_pool_in_use(pool), N);
        mpnet_pkt_free_bulk(v, N);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static uint64_t store_locks(const struct mpnet_pool *pool)
{
        struct mpnet_pool_stats st;

        mpnet_pool_get_stats(pool, &st);
        return st.store_locks;
}

/* The store's lock is counted each time it is taken: a thread without a slot
 * takes it per call; a slot's cache per refill; in_use and stats never. */
static void test_pool_stats(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("stats", 1000);
        struct mpnet_pool_stats st;
        struct mpnet_pkt *v[300];

        (void)state;
        assert_non_null(pool);
        mpnet_pool_get_stats(pool, &st);
        assert_int_equal(st.store_locks, 0);
        assert_int_equal(st.batches_returned, 0);
        assert_int_equal(st.reclaims, 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, 10), 10);
        assert_int_equal(store_locks(pool), 1);
        mpnet_pkt_free_bulk(v, 10); /* one lock per buffer */
        assert_int_equal(store_locks(pool), 11);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        assert_int_equal(store_locks(pool), 11);

        /* 300 on a slot: three refills of 128, then nothing from the store. */
        assert_int_equal(mpnet_thread_set_slot(0), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, 300), 300);
        assert_int_equal(store_locks(pool), 14);
        mpnet_pkt_free_bulk(v, 300); /* 256 fit with the 84 left: one drain */
        assert_int_equal(store_locks(pool), 15);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, 200), 200);
        mpnet_pkt_free_bulk(v, 200);
        assert_int_equal(store_locks(pool), 15);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(store_locks(pool), 16);
        mpnet_pool_flush_cache(pool); /* nothing left: no lock */
        assert_int_equal(store_locks(pool), 16);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pool_destroy(pool);
}

static int in_set(struct mpnet_pkt *const *set, unsigned n, const struct mpnet_pkt *p)
{
        for (unsigned i = 0; i < n; i++)
                if (set[i] == p)
                        return 1;
        return 0;
}

/* Buffers slot 0 allocated and slot 1 freed go back to slot 0, by batches of
 * 64 and the rest at slot 1's flush, and slot 0 gets them again without the
 * lock; a thread without a slot returns them to slot 0 too. in_use stays exact
 * at every step. */
static void test_pool_return_to_owner(void **state)
{
        enum { N = 200, POOL = 256 };
        struct mpnet_pool *pool = mpnet_pool_create("owner", POOL);
        struct mpnet_pkt *v[POOL], *w[POOL];
        struct mpnet_pool_stats st;
        uint64_t locks;

        (void)state;
        assert_non_null(pool);
        assert_int_equal(mpnet_thread_set_slot(0), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, N), N);
        /* The other 56 stay in slot 0's cache: no refill below needs the store. */
        assert_int_equal(mpnet_thread_set_slot(1), 0);
        for (unsigned i = 0; i < N; i++) {
                mpnet_pkt_free(v[i]);
                assert_int_equal(mpnet_pool_in_use(pool), N - 1 - i);
        }
        mpnet_pool_get_stats(pool, &st);
        assert_int_equal(st.batches_returned, N / 64);
        locks = st.store_locks;
        mpnet_pool_flush_cache(pool); /* sends the last 8; slot 1 holds nothing */
        mpnet_pool_get_stats(pool, &st);
        assert_int_equal(st.batches_returned, N / 64 + 1);
        assert_int_equal(st.store_locks, locks);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* Slot 1 has nothing of its own, so it finds the store empty, takes
         * slot 0's return list over (a reclaim) and gets what it took. */
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, w, 1), 1);
        mpnet_pool_get_stats(pool, &st);
        assert_int_equal(st.reclaims, 1);
        assert_true(in_set(v, N, w[0]));
        assert_int_equal(mpnet_pool_in_use(pool), 1);
        mpnet_pkt_free(w[0]); /* owned by slot 1 now: its own cache */
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* Again, this time slot 0 takes its buffers back, lock-free. */
        assert_int_equal(mpnet_thread_set_slot(0), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, POOL), POOL);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_thread_set_slot(1), 0);
        mpnet_pkt_free_bulk(v, N);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pkt_free_bulk(&v[N], POOL - N); /* no slot: to slot 0's list */
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        locks = store_locks(pool);
        assert_int_equal(mpnet_thread_set_slot(0), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, w, POOL), POOL);
        assert_int_equal(store_locks(pool), locks);
        assert_int_equal(mpnet_pool_in_use(pool), POOL);
        for (unsigned i = 0; i < POOL; i++) {
                assert_fresh(pool, w[i]);
                assert_true(in_set(v, POOL, w[i]));
        }
        mpnet_pkt_free_bulk(w, POOL);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pool_destroy(pool);
}

static void test_pkt_prepend_adj(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("room", 4);
        struct mpnet_pkt *p = mpnet_pkt_alloc(pool);
        uint8_t *buf, *d;

        (void)state;
        assert_fresh(pool, p);
        buf = mpnet_pkt_buf(p);

        /* Beyond the headroom: refused, nothing changes. */
        assert_null(mpnet_pkt_prepend(p, MPNET_PKT_HEADROOM + 1));
        assert_null(mpnet_pkt_prepend(p, UINT32_MAX));
        assert_fresh(pool, p);

        assert_ptr_equal(mpnet_pkt_prepend(p, 0), buf + MPNET_PKT_HEADROOM);
        assert_int_equal(p->len, 0);
        d = mpnet_pkt_prepend(p, 14);
        assert_ptr_equal(d, buf + MPNET_PKT_HEADROOM - 14);
        memset(d, 0xee, 14);
        assert_int_equal(p->len, 14);
        assert_int_equal(p->pkt_len, 14);
        assert_int_equal(mpnet_pkt_headroom(p), MPNET_PKT_HEADROOM - 14);
        assert_int_equal(mpnet_pkt_tailroom(p), MPNET_PKT_DATA_SIZE);
        /* Exactly the rest of the headroom. */
        d = mpnet_pkt_prepend(p, MPNET_PKT_HEADROOM - 14);
        assert_ptr_equal(d, buf);
        assert_int_equal(p->len, MPNET_PKT_HEADROOM);
        assert_int_equal(p->pkt_len, MPNET_PKT_HEADROOM);
        assert_int_equal(mpnet_pkt_headroom(p), 0);
        assert_null(mpnet_pkt_prepend(p, 1));
        assert_ptr_equal(p->data, buf);
        assert_int_equal(p->len, MPNET_PKT_HEADROOM);

        /* adj: more than the segment holds is refused. */
        assert_null(mpnet_pkt_adj(p, MPNET_PKT_HEADROOM + 1));
        assert_null(mpnet_pkt_adj(p, UINT32_MAX));
        assert_ptr_equal(p->data, buf);
        assert_int_equal(p->len, MPNET_PKT_HEADROOM);
        assert_ptr_equal(mpnet_pkt_adj(p, 0), buf);
        d = mpnet_pkt_adj(p, MPNET_PKT_HEADROOM - 14);
        assert_ptr_equal(d, buf + MPNET_PKT_HEADROOM - 14);
        assert_int_equal(p->len, 14);
        for (unsigned i = 0; i < 14; i++)
                assert_int_equal(d[i], 0xee);
        assert_ptr_equal(mpnet_pkt_adj(p, 14), buf + MPNET_PKT_HEADROOM);
        assert_int_equal(p->len, 0);
        assert_int_equal(p->pkt_len, 0);
        assert_null(mpnet_pkt_adj(p, 1));
        assert_int_equal(mpnet_pkt_headroom(p), MPNET_PKT_HEADROOM);

        mpnet_pkt_free(p);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static void test_pkt_append(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("room", 4);
        struct mpnet_pkt *p = mpnet_pkt_alloc(pool), *q;
        uint8_t *buf, *d;

        (void)state;
        assert_fresh(pool, p);
        buf = mpnet_pkt_buf(p);

        assert_null(mpnet_pkt_append(p, MPNET_PKT_DATA_SIZE + 1));
        assert_null(mpnet_pkt_append(p, UINT32_MAX));
        assert_fresh(pool, p);
        assert_ptr_equal(mpnet_pkt_append(p, 0), buf + MPNET_PKT_HEADROOM);
        d = mpnet_pkt_append(p, 100);
        assert_ptr_equal(d, buf + MPNET_PKT_HEADROOM);
        assert_int_equal(p->len, 100);
        assert_int_equal(p->pkt_len, 100);
        assert_int_equal(mpnet_pkt_tailroom(p), MPNET_PKT_DATA_SIZE - 100);
        d = mpnet_pkt_append(p, MPNET_PKT_DATA_SIZE - 100);
        assert_ptr_equal(d, buf + MPNET_PKT_HEADROOM + 100);
        assert_int_equal(mpnet_pkt_tailroom(p), 0);
        assert_null(mpnet_pkt_append(p, 1));
        assert_int_equal(p->len, MPNET_PKT_DATA_SIZE);

        /* Head and tail room both used up: the frame is the whole buffer. */
        assert_non_null(mpnet_pkt_prepend(p, MPNET_PKT_HEADROOM));
        assert_int_equal(p->len, MPNET_PKT_BUF_SIZE);
        assert_int_equal(p->pkt_len, MPNET_PKT_BUF_SIZE);
        memset(p->data, 0xab, p->len);
        assert_int_equal(mpnet_pkt_headroom(p), 0);
        assert_int_equal(mpnet_pkt_tailroom(p), 0);

        /* Stripping from the front does not give tail room back. */
        assert_non_null(mpnet_pkt_adj(p, 64));
        assert_int_equal(mpnet_pkt_tailroom(p), 0);
        assert_null(mpnet_pkt_append(p, 1));

        mpnet_pkt_reset(p);
        assert_fresh(pool, p);

        /* A chained packet cannot be appended to, whatever room its head has. */
        q = mpnet_pkt_alloc(pool);
        assert_non_null(q);
        assert_non_null(mpnet_pkt_append(p, 10));
        assert_non_null(mpnet_pkt_append(q, 10));
        p->next = q;
        p->nb_segs = 2;
        p->pkt_len = 20;
        assert_null(mpnet_pkt_append(p, 1));
        assert_int_equal(p->len, 10);
        assert_int_equal(p->pkt_len, 20);
        /* prepend and adj work on the head of a chain and keep pkt_len in step. */
        assert_non_null(mpnet_pkt_prepend(p, 4));
        assert_int_equal(p->pkt_len, 24);
        assert_non_null(mpnet_pkt_adj(p, 14));
        assert_int_equal(p->len, 0);
        assert_int_equal(p->pkt_len, 10);
        assert_null(mpnet_pkt_adj(p, 1)); /* the head segment is empty */

        mpnet_pkt_free(p);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

static uint32_t chain_len(const struct mpnet_pkt *p, uint32_t *bytes)
{
        uint32_t n = 0, b = 0;

        for (; p != NULL; p = p->next) {
                n++;
                b += p->len;
        }
        *bytes = b;
        return n;
}

static uint32_t div_up(uint32_t a, uint32_t b)
{
        return (a + b - 1) / b;
}

/* Read ranges of p (holding src) that start and end on and around every
 * segment boundary, and some pseudo-random ones. */
static void check_reads(const struct mpnet_pkt *p, const uint8_t *src, uint32_t len, uint8_t *tmp)
{
        uint64_t x = 0x9e3779b97f4a7c15ull ^ len;
        uint32_t edge = 0;

        assert_int_equal(mpnet_pkt_read(p, 0, tmp, len), 0);
        if (len > 0)
                assert_memory_equal(tmp, src, len);
        assert_int_equal(mpnet_pkt_read(p, len, tmp, 0), 0);
        assert_int_equal(mpnet_pkt_read(p, 0, tmp, 0), 0);
        assert_int_equal(mpnet_pkt_read(p, 0, tmp, len + 1), -EINVAL);
        assert_int_equal(mpnet_pkt_read(p, len, tmp, 1), -EINVAL);
        assert_int_equal(mpnet_pkt_read(p, len + 1, tmp, 0), -EINVAL);
        assert_int_equal(mpnet_pkt_read(p, UINT32_MAX, tmp, 2), -EINVAL);
        assert_int_equal(mpnet_pkt_read(p, 1, tmp, UINT32_MAX), -EINVAL);

        for (const struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                edge += s->len;
                for (uint32_t d = 0; d < 4; d++) {
                        uint32_t off = edge >= d ? edge - d : 0;

                        for (uint32_t k = 0; k <= 6 && off + k <= len; k++) {
                                assert_int_equal(mpnet_pkt_read(p, off, tmp, k), 0);
                                if (k > 0)
                                        assert_memory_equal(tmp, src + off, k);
                        }
                }
        }
        for (unsigned i = 0; i < 200 && len > 0; i++) {
                uint32_t off, k;

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                off = (uint32_t)(x % len);
                k = (uint32_t)((x >> 32) % (len - off + 1));
                memset(tmp, 0, k);
                assert_int_equal(mpnet_pkt_read(p, off, tmp, k), 0);
                if (k > 0)
                        assert_memory_equal(tmp, src + off, k);
        }
}

static void check_copy(struct mpnet_pool *pool, struct mpnet_pkt *p, const uint8_t *src,
                       uint32_t len, uint8_t *tmp)
{
        uint32_t before = mpnet_pool_in_use(pool), bytes;
        struct mpnet_pkt *c;
        const struct mpnet_pkt *s, *t;

        p->ts = 777;
        p->flow_hash = 0xabcdef;
        p->ifindex = 9;
        p->ol_flags = MPNET_PKT_F_FLOW_HASH | MPNET_PKT_F_L4_CSUM_OK;
        p->tso_segsz = 1448;
        p->l3_off = 14;
        p->l4_off = 34;
        p->vlan_tci = 100;
        c = mpnet_pkt_copy(pool, p);
        assert_non_null(c);
        assert_int_equal(mpnet_pool_in_use(pool), before + p->nb_segs);
        assert_int_equal(c->pkt_len, len);
        assert_int_equal(c->nb_segs, p->nb_segs);
        assert_int_equal(chain_len(c, &bytes), p->nb_segs);
        assert_int_equal(bytes, len);
        assert_int_equal(c->ts, 777);
        assert_int_equal(c->flow_hash, 0xabcdef);
        assert_int_equal(c->ifindex, 9);
        assert_int_equal(c->ol_flags, MPNET_PKT_F_FLOW_HASH | MPNET_PKT_F_L4_CSUM_OK);
        assert_int_equal(c->tso_segsz, 1448);
        assert_int_equal(c->l3_off, 14);
        assert_int_equal(c->l4_off, 34);
        assert_int_equal(c->vlan_tci, 100);
        /* Same layout, own buffers. */
        for (s = p, t = c; s != NULL; s = s->next, t = t->next) {
                assert_non_null(t);
                assert_true(t != s);
                assert_ptr_equal(t->pool, pool);
                assert_int_equal(t->len, s->len);
                assert_int_equal(mpnet_pkt_headroom((struct mpnet_pkt *)t),
                                 mpnet_pkt_headroom((struct mpnet_pkt *)s));
                if (s->len > 0)
                        assert_memory_equal(t->data, s->data, s->len);
        }
        assert_null(t);
        check_reads(c, src, len, tmp);
        /* Writing the copy leaves the original alone. */
        for (struct mpnet_pkt *u = c; u != NULL; u = u->next)
                memset(u->data, 0x5a, u->len);
        check_reads(p, src, len, tmp);
        mpnet_pkt_free(c);
        assert_int_equal(mpnet_pool_in_use(pool), before);
}

static void chained_round_trip(unsigned slot)
{
        static const uint32_t lens[] = {
            0,
            1,
            60,
            MPNET_PKT_DATA_SIZE - 1,
            MPNET_PKT_DATA_SIZE,
            MPNET_PKT_DATA_SIZE + 1,
            MPNET_PKT_BUF_SIZE,
            MPNET_PKT_BUF_SIZE + 1,
            MPNET_PKT_DATA_SIZE + MPNET_PKT_BUF_SIZE,
            MPNET_PKT_DATA_SIZE + MPNET_PKT_BUF_SIZE + 1,
            2 * MPNET_PKT_BUF_SIZE + 1,
            9000,
            65535,
            65536 + 17,
        };
        struct mpnet_pool *pool = mpnet_pool_create("chain", 256);
        uint8_t *src = malloc(65536 + 64), *tmp = malloc(65536 + 64);

        assert_non_null(pool);
        assert_non_null(src);
        assert_non_null(tmp);
        assert_int_equal(mpnet_thread_set_slot(slot), 0);
        for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
                uint32_t len = lens[i], bytes, segs;
                struct mpnet_pkt *p;

                fill_pattern(src, len, len);
                p = mpnet_pkt_from_bytes(pool, src, len);
                assert_non_null(p);
                assert_int_equal(p->pkt_len, len);
                segs = chain_len(p, &bytes);
                assert_int_equal(bytes, len);
                assert_int_equal(p->nb_segs, segs);
                assert_int_equal(mpnet_pool_in_use(pool), segs);
                /* The head keeps the default headroom for encapsulation. */
                assert_int_equal(mpnet_pkt_headroom(p), MPNET_PKT_HEADROOM);
                if (len <= MPNET_PKT_DATA_SIZE)
                        assert_int_equal(segs, 1);
                else
                        assert_true(segs >= div_up(len, MPNET_PKT_BUF_SIZE) &&
                                    segs <= div_up(len, MPNET_PKT_DATA_SIZE));
                for (const struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                        assert_ptr_equal(s->pool, pool);
                        if (s->next != NULL)
                                assert_true(s->len > 0);
                }
                check_reads(p, src, len, tmp);
                check_copy(pool, p, src, len, tmp);
                mpnet_pkt_free(p);
                assert_int_equal(mpnet_pool_in_use(pool), 0);
        }
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pool_destroy(pool);
        free(src);
        free(tmp);
}

static void test_pkt_chain_round_trip_no_slot(void **state)
{
        (void)state;
        chained_round_trip(MPNET_SLOT_NONE);
}

static void test_pkt_chain_round_trip_slot(void **state)
{
        (void)state;
        chained_round_trip(9);
}

/* A hand-built chain with odd segment layouts (data not at the default
 * offset, empty middle segment) reads and copies the same. */
static void test_pkt_chain_hand_built(void **state)
{
        static const uint32_t seg_len[] = {10, 0, MPNET_PKT_BUF_SIZE, 1, 700};
        static const uint32_t seg_off[] = {MPNET_PKT_BUF_SIZE - 10, 5, 0, 2000, 64};
        struct mpnet_pool *pool = mpnet_pool_create("hand", 16);
        struct mpnet_pkt *head = NULL, *tail = NULL;
        uint8_t src[MPNET_PKT_BUF_SIZE + 711], tmp[sizeof(src)];
        uint32_t off = 0;

        (void)state;
        assert_non_null(pool);
        fill_pattern(src, sizeof(src), 3);
        for (unsigned i = 0; i < 5; i++) {
                struct mpnet_pkt *s = mpnet_pkt_alloc(pool);

                assert_non_null(s);
                s->data = mpnet_pkt_buf(s) + seg_off[i];
                s->len = seg_len[i];
                memcpy(s->data, src + off, seg_len[i]);
                off += seg_len[i];
                if (head == NULL)
                        head = s;
                else
                        tail->next = s;
                tail = s;
        }
        assert_int_equal(off, sizeof(src));
        head->nb_segs = 5;
        head->pkt_len = off;
        check_reads(head, src, off, tmp);
        check_copy(pool, head, src, off, tmp);
        mpnet_pkt_free(head);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* Running out of buffers part way leaves nothing allocated. */
static void exhaustion_mid_chain(unsigned slot)
{
        struct mpnet_pool *pool = mpnet_pool_create("short", 3), *small;
        uint8_t src[MPNET_PKT_DATA_SIZE + 2 * MPNET_PKT_BUF_SIZE + 1];
        struct mpnet_pkt *p, *extra;

        assert_non_null(pool);
        assert_int_equal(mpnet_thread_set_slot(slot), 0);
        fill_pattern(src, sizeof(src), 1);

        /* Needs four buffers at the very least. */
        assert_null(mpnet_pkt_from_bytes(pool, src, 3 * MPNET_PKT_BUF_SIZE + 1));
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        assert_null(mpnet_pkt_from_bytes(pool, src, sizeof(src)));
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* With one buffer out, a two-buffer frame fits, a three-buffer one not. */
        extra = mpnet_pkt_alloc(pool);
        assert_non_null(extra);
        assert_null(mpnet_pkt_from_bytes(pool, src, 2 * MPNET_PKT_BUF_SIZE + 1));
        assert_int_equal(mpnet_pool_in_use(pool), 1);
        p = mpnet_pkt_from_bytes(pool, src, MPNET_PKT_DATA_SIZE + 1);
        assert_non_null(p);
        assert_int_equal(p->nb_segs, 2);
        assert_int_equal(mpnet_pool_in_use(pool), 3);
        assert_null(mpnet_pkt_from_bytes(pool, src, 1));
        /* No room for a copy either. */
        assert_null(mpnet_pkt_copy(pool, p));
        assert_int_equal(mpnet_pool_in_use(pool), 3);
        mpnet_pkt_free(extra);

        /* A copy into a pool too small for the whole chain fails cleanly. */
        small = mpnet_pool_create("small", 1);
        assert_non_null(small);
        assert_null(mpnet_pkt_copy(small, p));
        assert_int_equal(mpnet_pool_in_use(small), 0);
        assert_int_equal(mpnet_pool_in_use(pool), 2);
        mpnet_pkt_free(p);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* Exactly three buffers' worth, after the failures. */
        p = mpnet_pkt_from_bytes(pool, src, sizeof(src) - 1);
        assert_non_null(p);
        assert_int_equal(p->nb_segs, 3);
        assert_int_equal(mpnet_pool_in_use(pool), 3);
        check_reads(p, src, sizeof(src) - 1, (uint8_t[sizeof(src)]){0});
        mpnet_pkt_free(p);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        mpnet_pool_flush_cache(pool);
        mpnet_pool_flush_cache(small);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pool_destroy(small);
        mpnet_pool_destroy(pool);
}

static void test_pkt_exhaustion_mid_chain_no_slot(void **state)
{
        (void)state;
        exhaustion_mid_chain(MPNET_SLOT_NONE);
}

static void test_pkt_exhaustion_mid_chain_slot(void **state)
{
        (void)state;
        exhaustion_mid_chain(11);
}

static void test_pkt_free_null_and_chain(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("free", 8);
        uint8_t src[3 * MPNET_PKT_BUF_SIZE];
        struct mpnet_pkt *p;

        (void)state;
        assert_non_null(pool);
        mpnet_pkt_free(NULL);
        fill_pattern(src, sizeof(src), 2);
        p = mpnet_pkt_from_bytes(pool, src, sizeof(src));
        assert_non_null(p);
        assert_int_equal(mpnet_pool_in_use(pool), p->nb_segs);
        mpnet_pkt_free(p);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* In a child: what the double free does. Exit 0 means it returned. */
enum df_kind {
        DF_SIMPLE,
        DF_SLOT,
        DF_CHAIN_SEGMENT,
        DF_INTERLEAVED,
        DF_BULK,
        DF_IN_BATCH,
        DF_RETURNED,
        DF_RETURNED_NO_SLOT
};

static void double_free_child(enum df_kind kind)
{
        struct mpnet_pool *pool = mpnet_pool_create("df", 8);
        uint8_t src[MPNET_PKT_DATA_SIZE + 10] = {0};
        struct mpnet_pkt *p, *q, *v[2];
        int devnull = open("/dev/null", O_WRONLY);

        if (devnull >= 0)
                dup2(devnull, STDERR_FILENO);
        if (pool == NULL)
                _exit(2);
        switch (kind) {
        case DF_SIMPLE:
                p = mpnet_pkt_alloc(pool);
                mpnet_pkt_free(p);
                mpnet_pkt_free(p);
                break;
        case DF_SLOT:
                mpnet_thread_set_slot(3);
                p = mpnet_pkt_alloc(pool);
                mpnet_pkt_free(p);
                mpnet_thread_set_slot(4);
                mpnet_pkt_free(p);
                break;
        case DF_CHAIN_SEGMENT:
                p = mpnet_pkt_from_bytes(pool, src, sizeof(src));
                if (p == NULL || p->next == NULL)
                        _exit(3);
                q = p->next;
                mpnet_pkt_free(p);
                mpnet_pkt_free(q);
                break;
        case DF_INTERLEAVED:
                p = mpnet_pkt_alloc(pool);
                q = mpnet_pkt_alloc(pool);
                mpnet_pkt_free(q);
                mpnet_pkt_free(p);
                /* q has sat in the store since its first free. */
                mpnet_pkt_free(q);
                break;
        case DF_BULK:
                v[0] = v[1] = mpnet_pkt_alloc(pool);
                mpnet_pkt_free_bulk(v, 2);
                break;
        case DF_IN_BATCH:
                /* Freed on another slot: p waits in that slot's batch for slot 3. */
                mpnet_thread_set_slot(3);
                v[0] = mpnet_pkt_alloc(pool);
                v[1] = mpnet_pkt_alloc(pool);
                mpnet_thread_set_slot(4);
                mpnet_pkt_free_bulk(v, 2);
                mpnet_pkt_free(v[1]);
                break;
        case DF_RETURNED:
                /* On slot 3's return list, sent there by slot 4's flush. */
                mpnet_thread_set_slot(3);
                p = mpnet_pkt_alloc(pool);
                mpnet_thread_set_slot(4);
                mpnet_pkt_free(p);
                mpnet_pool_flush_cache(pool);
                mpnet_pkt_free(p);
                break;
        case DF_RETURNED_NO_SLOT:
                mpnet_thread_set_slot(3);
                p = mpnet_pkt_alloc(pool);
                mpnet_thread_set_slot(MPNET_SLOT_NONE);
                mpnet_pkt_free(p);
                mpnet_pkt_free(p);
                break;
        }
        _exit(0);
}

static void expect_abort(enum df_kind kind)
{
        int status = 0;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                double_free_child(kind);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status))
                fail_msg("double free kind %d: child exited with %d, no abort", (int)kind,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_pkt_double_free_aborts(void **state)
{
        (void)state;
        expect_abort(DF_SIMPLE);
        expect_abort(DF_SLOT);
        expect_abort(DF_CHAIN_SEGMENT);
        expect_abort(DF_INTERLEAVED);
        expect_abort(DF_BULK);
        expect_abort(DF_IN_BATCH);
        expect_abort(DF_RETURNED);
        expect_abort(DF_RETURNED_NO_SLOT);
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#ifdef TEST_ASAN
enum poison_kind {
        PZ_AFTER_FREE,
        PZ_AFTER_FREE_SLOT,
        PZ_AFTER_FREE_CARRIER,
        PZ_AFTER_FREE_IN_BATCH,
        PZ_PAST_END,
        PZ_LIVE_WHOLE_BUFFER
};

/* In a child: touch memory the pool poisons (or, for PZ_LIVE_WHOLE_BUFFER,
 * memory it must not). Exit 0 means no report. */
static void poison_child(enum poison_kind kind)
{
        struct mpnet_pool *pool = mpnet_pool_create("pz", 4);
        volatile uint8_t *b;
        struct mpnet_pkt *p, *q;
        int devnull = open("/dev/null", O_WRONLY);
        unsigned sum = 0;

        if (devnull >= 0)
                dup2(devnull, STDERR_FILENO);
        if (pool == NULL)
                _exit(0);
        if (kind != PZ_AFTER_FREE && kind != PZ_PAST_END && kind != PZ_LIVE_WHOLE_BUFFER)
                mpnet_thread_set_slot(1);
        p = mpnet_pkt_alloc(pool);
        q = mpnet_pkt_alloc(pool);
        if (p == NULL || q == NULL)
                _exit(0);
        switch (kind) {
        case PZ_AFTER_FREE:
        case PZ_AFTER_FREE_SLOT:
                b = p->data;
                mpnet_pkt_free(p);
                sum += b[0];
                break;
        case PZ_AFTER_FREE_CARRIER:
        case PZ_AFTER_FREE_IN_BATCH:
                /* Freed on another slot: p carries the batch back to slot 1,
                 * q is the first buffer it points to. */
                mpnet_thread_set_slot(2);
                b = kind == PZ_AFTER_FREE_CARRIER ? p->data : q->data;
                mpnet_pkt_free(p);
                mpnet_pkt_free(q);
                sum += b[0];
                break;
        case PZ_PAST_END:
                b = mpnet_pkt_buf(p);
                sum += b[MPNET_PKT_BUF_SIZE];
                break;
        case PZ_LIVE_WHOLE_BUFFER:
                b = mpnet_pkt_buf(p);
                for (unsigned i = 0; i < MPNET_PKT_BUF_SIZE; i++)
                        sum += b[i];
                break;
        }
        (void)sum;
        _exit(0);
}

static int poison_status(enum poison_kind kind)
{
        int status = 0;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                poison_child(kind);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}
#endif

/* Under AddressSanitizer a free buffer is poisoned and so is the gap after
 * each buffer: a use after free or an overread is reported. */
static void test_pool_asan_poisoning(void **state)
{
        (void)state;
#ifdef TEST_ASAN
        int st;

        st = poison_status(PZ_LIVE_WHOLE_BUFFER);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = poison_status(PZ_AFTER_FREE);
        assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = poison_status(PZ_AFTER_FREE_SLOT);
        assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = poison_status(PZ_AFTER_FREE_CARRIER);
        assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = poison_status(PZ_AFTER_FREE_IN_BATCH);
        assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = poison_status(PZ_PAST_END);
        assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#else
        skip();
#endif
}

/* External blocks: the last reference to a send-buffer-sized block keeps it
 * as one of the thread's spares, and the next block of that size is the
 * last spare (hot lines, no malloc); a block still referenced, a block of
 * another size and a block past the thread's cap go nowhere near the list. */
static void test_pkt_ext_spares(void **state)
{
        static struct pkt_ext *many[PKT_EXT_SPARE_MAX + 8];
        struct pkt_ext *e, *f, *o;

        (void)state;
        /* No test before this one takes a block. */
        assert_int_equal(pkt_ext_spares(), 0);
        e = pkt_ext_new(PKT_EXT_SPARE_SIZE);
        assert_non_null(e);
        assert_int_equal(e->size, PKT_EXT_SPARE_SIZE);
        memset(e->b, 0xa5, PKT_EXT_SPARE_SIZE);
        pkt_ext_get_n(e, 1); /* a frame's reference */
        pkt_ext_put(e);      /* the owner's: the frame still reads it */
        assert_int_equal(pkt_ext_spares(), 0);
        assert_true(pkt_ext_alone(e));
        pkt_ext_put(e); /* the frame's: now spare */
        assert_int_equal(pkt_ext_spares(), 1);
        f = pkt_ext_new(PKT_EXT_SPARE_SIZE);
        assert_ptr_equal(f, e);
        assert_int_equal(pkt_ext_spares(), 0);
        assert_true(pkt_ext_alone(f));
        assert_int_equal(f->size, PKT_EXT_SPARE_SIZE);
        f->b[PKT_EXT_SPARE_SIZE - 1] = 1; /* writable to its end (ASan: unpoisoned) */
        /* Another size is freed, and never handed out for this one. */
        o = pkt_ext_new(4096);
        assert_non_null(o);
        pkt_ext_put(o);
        assert_int_equal(pkt_ext_spares(), 0);
        pkt_ext_put(f);
        assert_int_equal(pkt_ext_spares(), 1);
        o = pkt_ext_new(4096);
        assert_non_null(o);
        assert_ptr_not_equal(o, f);
        assert_int_equal(o->size, 4096);
        pkt_ext_put(o);
        /* The cap: the rest go to free(). */
        for (unsigned i = 0; i < PKT_EXT_SPARE_MAX + 8; i++) {
                many[i] = pkt_ext_new(PKT_EXT_SPARE_SIZE);
                assert_non_null(many[i]);
        }
        assert_int_equal(pkt_ext_spares(), 0);
        for (unsigned i = 0; i < PKT_EXT_SPARE_MAX + 8; i++)
                pkt_ext_put(many[i]);
        assert_int_equal(pkt_ext_spares(), PKT_EXT_SPARE_MAX);
}

/* Destroying a pool with buffers still out reports the leak and survives. */
static void test_pool_destroy_reports_leak(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("leaky", 4);
        char msg[256] = {0};
        FILE *f = tmpfile();
        int saved;

        (void)state;
        assert_non_null(pool);
        assert_non_null(f);
        assert_non_null(mpnet_pkt_alloc(pool));
        assert_non_null(mpnet_pkt_alloc(pool));
        assert_int_equal(mpnet_pool_in_use(pool), 2);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
        mpnet_pool_destroy(pool);
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        rewind(f);
        assert_true(fread(msg, 1, sizeof(msg) - 1, f) > 0);
        fclose(f);
        assert_non_null(strstr(msg, "leaky"));
        assert_non_null(strstr(msg, "2 buffers in use"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_pkt_layout, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_thread_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_create_destroy, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_exhaust_no_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_exhaust_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_bulk_no_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_bulk_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_cross_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_two_pools_one_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_cross_thread, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_stats, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_return_to_owner, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_prepend_adj, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_append, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_chain_round_trip_no_slot, slot_none,
                                            slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_chain_round_trip_slot, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_chain_hand_built, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_exhaustion_mid_chain_no_slot, slot_none,
                                            slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_exhaustion_mid_chain_slot, slot_none,
                                            slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_free_null_and_chain, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_double_free_aborts, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_asan_poisoning, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_destroy_reports_leak, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_ext_spares, slot_none, slot_none),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
