/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 longest-prefix match (mpnet/lpm6.h) under concurrency: one writer
 * adds, replaces and deletes routes around stable ones while two reader
 * threads look up addresses of the stable routes, which must always resolve
 * to their next hop, and addresses of the churned ones, which must resolve
 * to one of the answers they could have. Readers are liburcu QSBR threads;
 * groups leave the table through defer_free, which the writer runs after
 * synchronize_rcu(). Runs under ThreadSanitizer too.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>
#include <cmocka.h>

#include "mpnet/lpm6.h"
#include "test_rand.h"

typedef unsigned __int128 u128;

#define READERS 2
#define NSTABLE 16u
#define NH_C1   100u /* + s: the sibling half of the stable route */
#define NH_C2   200u /* + s: the /128 next to the stable address */
#define NH_C3   300u /* + s, + 16 every other round: a shorter cover */

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define MAX_ROUNDS 2000u
#else
#define MAX_ROUNDS 20000u
#endif

static u128 mask_of(unsigned l)
{
        return l == 0 ? 0 : ~(u128)0 << (128 - l);
}

static void bytes_of(u128 k, uint8_t b[16])
{
        for (unsigned i = 0; i < 16; i++)
                b[i] = (uint8_t)(k >> (120 - 8 * i));
}

/* The stable route s: a prefix of length stable_len(s) in a /24 of its own,
 * holding the stable address (s << 4 | 5 in the last byte). */
static unsigned stable_len(unsigned s)
{
        static const unsigned len[8] = {24, 32, 40, 48, 56, 64, 96, 128};

        return len[s % 8];
}

static u128 stable_addr(unsigned s)
{
        return (u128)(0x2000u + 0x10u * s) << 112 | (u128)0x0db8 << 96 | (u128)s << 80 |
               (u128)(s << 4 | 5);
}

struct mt {
        struct mpnet_lpm6 *t;
        uint8_t addr[2 * NSTABLE][16]; /* stable addresses, then their neighbours */
        _Atomic uint64_t qs[READERS];  /* bumped (release) before each quiescent state */
        _Atomic bool stop;
        _Atomic uint64_t bad, lookups;
        /* What the writer deferred, run after the next grace period. */
        void (*fn[4096])(void *);
        void *arg[4096];
        unsigned n;
        bool overflow;
};

struct reader_arg {
        struct mt *m;
        unsigned id;
};

/* Could the neighbour of stable address s answer nh? */
static bool neighbour_ok(unsigned s, uint32_t nh, bool found)
{
        if (!found)
                return stable_len(s) == 128; /* only the churned routes cover it */
        return (nh == s && stable_len(s) < 128) || nh == NH_C2 + s || nh == NH_C3 + s ||
               nh == NH_C3 + 16 + s || (nh == NH_C1 + s && stable_len(s) == 127);
}

static void *reader(void *p)
{
        struct reader_arg *ra = p;
        struct mt *m = ra->m;
        uint64_t bad = 0, n = 0;

        rcu_register_thread();
        while (!atomic_load_explicit(&m->stop, memory_order_relaxed)) {
                uint32_t nh[2 * NSTABLE];
                unsigned misses;

                for (unsigned s = 0; s < NSTABLE; s++) {
                        uint32_t v = UINT32_MAX;

                        if (mpnet_lpm6_lookup(m->t, m->addr[s], &v) != 0 || v != s)
                                bad++;
                        v = UINT32_MAX;
                        if (!neighbour_ok(s, v,
                                          mpnet_lpm6_lookup(m->t, m->addr[NSTABLE + s], &v) == 0))
                                bad++;
                }
                misses = mpnet_lpm6_lookup_bulk(m->t, (const uint8_t(*)[16])m->addr, nh,
                                                2 * NSTABLE, UINT32_MAX);
                for (unsigned s = 0; s < NSTABLE; s++) {
                        bad += nh[s] != s;
                        bad += !neighbour_ok(s, nh[NSTABLE + s], nh[NSTABLE + s] != UINT32_MAX);
                }
                bad += misses > 2; /* at most the neighbours of the two /128s */
                n++;
                atomic_fetch_add_explicit(&m->qs[ra->id], 1, memory_order_release);
                rcu_quiescent_state();
        }
        rcu_unregister_thread();
        atomic_fetch_add(&m->bad, bad);
        atomic_fetch_add(&m->lookups, n * 4 * NSTABLE);
        return NULL;
}

static void mt_defer(void *ctx, void (*fn)(void *), void *arg)
{
        struct mt *m = ctx;

        if (m->n == sizeof(m->fn) / sizeof(m->fn[0])) {
                m->overflow = true; /* checked by the main thread */
                return;
        }
        m->fn[m->n] = fn;
        m->arg[m->n++] = arg;
}

/* A grace period, then the deferred frees. The acquire loads of the readers'
 * counters give ThreadSanitizer the happens-before that liburcu provides
 * but it cannot see (as stack.c does). */
static void mt_flush(struct mt *m)
{
        synchronize_rcu();
        for (unsigned r = 0; r < READERS; r++)
                (void)atomic_load_explicit(&m->qs[r], memory_order_acquire);
        for (unsigned i = 0; i < m->n; i++)
                m->fn[i](m->arg[i]);
        m->n = 0;
}

static int add_k(struct mpnet_lpm6 *t, u128 k, unsigned l, uint32_t nh)
{
        uint8_t b[16];

        bytes_of(k, b);
        return mpnet_lpm6_add(t, b, l, nh);
}

static int del_k(struct mpnet_lpm6 *t, u128 k, unsigned l)
{
        uint8_t b[16];

        bytes_of(k, b);
        return mpnet_lpm6_delete(t, b, l);
}

/* One round of churn around stable route s: a shorter cover (replaced on
 * odd rounds), the sibling half, the neighbouring /128, which links a chain
 * of groups above the stable address's entry and then folds it back. */
static void churn(struct mt *m, unsigned s, unsigned round)
{
        const unsigned l = stable_len(s);
        const u128 a = stable_addr(s);
        const u128 c1 = (a ^ ((u128)1 << (127 - (l < 128 ? l : 127)))) & mask_of(l + (l < 128));

        assert_int_equal(add_k(m->t, a, l - 8, NH_C3 + s), 0);
        if (round % 2 != 0)
                assert_int_equal(add_k(m->t, a, l - 8, NH_C3 + 16 + s), 0);
        if (l < 128)
                assert_int_equal(add_k(m->t, c1, l + 1, NH_C1 + s), 0);
        assert_int_equal(add_k(m->t, a ^ 1, 128, NH_C2 + s), 0);
        assert_int_equal(del_k(m->t, a ^ 1, 128), 0);
        if (l < 128)
                assert_int_equal(del_k(m->t, c1, l + 1), 0);
        if (round % 4 != 3)
                assert_int_equal(del_k(m->t, a, l - 8), 0);
        else
                assert_int_equal(add_k(m->t, a ^ 1, 128, NH_C2 + s), 0); /* kept a round */
}

static void test_readers_vs_writer(void **state)
{
        static struct mt m;
        struct mpnet_lpm6_cfg c = {.max_tbl8 = 1024, .defer_free = mt_defer, .defer_ctx = &m};
        struct reader_arg ra[READERS];
        pthread_t th[READERS];
        struct mpnet_lpm6_stats st;
        unsigned rounds = 0;
        double t0;

        (void)state;
        memset(&m, 0, sizeof(m));
        m.t = mpnet_lpm6_create(&c);
        assert_non_null(m.t);
        for (unsigned s = 0; s < NSTABLE; s++) {
                u128 a = stable_addr(s);

                assert_int_equal(add_k(m.t, a, stable_len(s), s), 0);
                bytes_of(a, m.addr[s]);
                bytes_of(a ^ 1, m.addr[NSTABLE + s]);
        }
        rcu_register_thread();
        rcu_thread_offline(); /* the writer reads no table under RCU */
        for (unsigned r = 0; r < READERS; r++) {
                ra[r] = (struct reader_arg){&m, r};
                assert_int_equal(pthread_create(&th[r], NULL, reader, &ra[r]), 0);
        }
        t0 = now_s();
        /* About a second: each grace period waits for both readers. */
        while (rounds < MAX_ROUNDS && (rounds < 50 || now_s() - t0 < 1.0)) {
                for (unsigned s = 0; s < NSTABLE; s++)
                        churn(&m, s, rounds);
                mt_flush(&m);
                assert_false(m.overflow);
                rounds++;
        }
        atomic_store(&m.stop, true);
        for (unsigned r = 0; r < READERS; r++)
                pthread_join(th[r], NULL);
        print_message("lpm6 mt: %u rounds, %llu reader lookups\n", rounds,
                      (unsigned long long)atomic_load(&m.lookups));
        assert_int_equal(atomic_load(&m.bad), 0);
        assert_true(atomic_load(&m.lookups) > 0);
        /* Only the stable routes and what the last round kept are left. */
        for (unsigned s = 0; s < NSTABLE; s++) {
                u128 a = stable_addr(s);

                (void)del_k(m.t, a ^ 1, 128);
                (void)del_k(m.t, a, stable_len(s) - 8);
                assert_int_equal(del_k(m.t, a, stable_len(s)), 0);
        }
        mt_flush(&m);
        mpnet_lpm6_get_stats(m.t, &st);
        assert_int_equal(st.routes, 0);
        assert_int_equal(st.tbl8_used, 0);
        assert_int_equal(st.tbl8_deferred, 0);
        mpnet_lpm6_destroy(m.t);
        rcu_thread_online();
        rcu_unregister_thread();
}

/*
 * tbl24 going from sparse (readers go through its directory, lpm_tbl24.h) to
 * dense (all resident, indexed directly) while readers look up: the writer
 * adds a /24 in one tbl24 page after another until the table is dense; an
 * address in a page added before the reader's acquire load of `pages` must
 * resolve, one beside it never.
 */
struct dense_race {
        struct mpnet_lpm6 *t;
        atomic_uint pages;
        atomic_bool stop;
        atomic_ulong calls, bad;
};

/* The /24 of tbl24 page pg (its first entry). */
static u128 page_prefix(uint32_t pg)
{
        return (u128)(pg << 10) << 104;
}

static void *dense_reader(void *arg)
{
        struct dense_race *r = arg;
        uint64_t x = 0x9e3779b97f4a7c15ull;
        unsigned long n = 0, bad = 0;

        while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
                unsigned done = atomic_load_explicit(&r->pages, memory_order_acquire);
                uint8_t a[16][16];
                uint32_t nh[16], pg[16];

                for (unsigned k = 0; k < 16; k++) {
                        x = x * 6364136223846793005ull + 1442695040888963407ull;
                        pg[k] = (uint32_t)(x >> 50) % 16384;
                        /* odd k: inside the /24; even k: the next /24 */
                        bytes_of(page_prefix(pg[k]) + ((u128)(k & 1 ? 0 : 1) << 104) + 77, a[k]);
                }
                mpnet_lpm6_lookup_bulk(r->t, (const uint8_t(*)[16])a, nh, 16, UINT32_MAX);
                for (unsigned k = 0; k < 16; k++) {
                        uint32_t want = k & 1 ? 1000 + pg[k] : UINT32_MAX, one;
                        bool found = mpnet_lpm6_lookup(r->t, a[k], &one) == 0;

                        if (pg[k] < done ? nh[k] != want : nh[k] != want && nh[k] != UINT32_MAX)
                                bad++;
                        if (pg[k] < done && (found ? one : UINT32_MAX) != want)
                                bad++;
                }
                n++;
                atomic_store_explicit(&r->calls, n, memory_order_relaxed);
        }
        atomic_store(&r->bad, bad);
        return NULL;
}

static void test_sparse_to_dense(void **state)
{
        static struct dense_race r;
        pthread_t th[READERS];
        struct mpnet_lpm6_stats st;
        uint32_t k = 0;

        (void)state;
        memset(&r, 0, sizeof(r));
        r.t = mpnet_lpm6_create(NULL);
        assert_non_null(r.t);
        for (unsigned i = 0; i < READERS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, dense_reader, &r), 0);
        for (; k < 16384 && atomic_load(&r.t->tbl24.dense) == NULL; k++) {
                assert_int_equal(add_k(r.t, page_prefix(k), 24, 1000 + k), 0);
                atomic_store_explicit(&r.pages, k + 1, memory_order_release);
        }
        for (unsigned long c0 = atomic_load(&r.calls); atomic_load(&r.calls) < c0 + 50;)
                sched_yield();
        atomic_store(&r.stop, true);
        for (unsigned i = 0; i < READERS; i++)
                pthread_join(th[i], NULL);
        mpnet_lpm6_get_stats(r.t, &st);
        print_message(
            "lpm6 dense after %u pages: %lu reader calls (last reader), %u huge regions\n", k,
            atomic_load(&r.calls), st.huge_regions);
        assert_int_equal(atomic_load(&r.bad), 0);
        assert_non_null(atomic_load(&r.t->tbl24.dense));
        assert_int_equal(st.tbl24_bytes, 64u << 20);
        mpnet_lpm6_destroy(r.t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_readers_vs_writer),
            cmocka_unit_test(test_sparse_to_dense),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
