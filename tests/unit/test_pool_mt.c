/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pools across threads: buffers allocated on one slot and freed on another go
 * back to their owner without the store's lock, several freers at once,
 * owners that leave their slot with buffers still out, and a pool that runs
 * dry while its return lists are taken over. Every case ends with the whole
 * pool accounted for (in_use 0, every buffer allocatable again, distinct).
 *
 * External blocks (send buffer chunks) referenced on one thread and
 * dropped on another: whichever drops the last reference keeps the block
 * as its spare, and a writer reusing its spare must see the reader's
 * reads done (the reference count's release/acquire).
 *
 * Frames carry a sequence number the producer wrote before the ring
 * published them; under ThreadSanitizer a missing release/acquire pair on the
 * way back to the owner (a carrier and the pointers it holds) is reported as
 * a race on the buffer.
 *
 * Threads report failures through their context; only the main thread calls
 * cmocka's asserts. Deadlines are generous (a busy two-core machine): they
 * only stop a test that would hang.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mpnet/pkt.h"
#include "mpnet/ring.h"
#include "mpnet/thread.h"
#include "base/pkt_ext.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif

#define BURST       32u
#define POOL        4096u
#define DEADLINE_NS (120ull * 1000000000ull)
/* Buffers a slot takes from the store at a time (pool.c): a steady flow may
 * take the lock until the store has given out everything once, and no more. */
#define STORE_BATCH 128u
#define RET_BATCH   64u

static int quick(void)
{
#ifdef TEST_SANITIZED
        return 1;
#else
        const char *q = getenv("MPNET_TEST_QUICK");

        return q != NULL && *q != '\0' && *q != '0';
#endif
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct fail {
        atomic_bool stop; /* set by whoever fails, read by everyone */
        char err[256];
};

static void fail_set(struct fail *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_set(struct fail *f, const char *fmt, ...)
{
        va_list ap;

        if (atomic_exchange(&f->stop, true))
                return;
        va_start(ap, fmt);
        vsnprintf(f->err, sizeof(f->err), fmt, ap);
        va_end(ap);
}

/* Every buffer of the pool can be had again, once each, and nothing is out. */
static void assert_all_back(struct mpnet_pool *pool)
{
        uint32_t n = mpnet_pool_size(pool);
        struct mpnet_pkt **v = calloc(n + 1, sizeof(*v));

        assert_non_null(v);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        assert_int_equal(mpnet_pkt_alloc_bulk(pool, v, n + 1), n);
        assert_int_equal(mpnet_pool_in_use(pool), n);
        for (uint32_t i = 0; i < n; i++) {
                assert_ptr_equal(v[i]->pool, pool);
                assert_int_equal(v[i]->len, 0);
        }
        mpnet_pkt_free_bulk(v, n);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        free(v);
}

/* Flush what the given slots hold (their threads have ended). */
static void flush_slots(struct mpnet_pool *pool, const unsigned *slots, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                assert_int_equal(mpnet_thread_set_slot(slots[i]), 0);
                mpnet_pool_flush_cache(pool);
        }
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
}

/* ---- one allocator, several freers -------------------------------------- */

#define FREERS_MAX 3u

struct freer {
        struct mpnet_ring *ring;
        unsigned slot; /* MPNET_SLOT_NONE: frees without a slot */
        uint64_t n;    /* frames to receive */
        struct flow *flow;
        uint64_t got;
};

struct flow {
        struct mpnet_pool *pool;
        unsigned owner_slot, nfreers;
        bool may_run_dry; /* else an empty pool is a failure */
        uint64_t n;       /* frames in all */
        struct freer freer[FREERS_MAX];
        struct fail fail;
};

/* The owner: allocate bursts, stamp each frame with its sequence in its
 * freer's stream, hand them to the freers in turn. */
static void *owner_main(void *arg)
{
        struct flow *f = arg;
        uint64_t seq[FREERS_MAX] = {0}, deadline = now_ns() + DEADLINE_NS;
        struct mpnet_pkt *v[BURST];
        unsigned turn = 0, spins = 0;

        mpnet_thread_set_slot(f->owner_slot);
        for (uint64_t left = f->n; left > 0 && !atomic_load(&f->fail.stop);) {
                struct freer *fr = &f->freer[turn];
                uint64_t fleft = fr->n - seq[turn];
                unsigned want = fleft < BURST ? (unsigned)fleft : BURST, got, sent;

                if (want == 0) {
                        turn = (turn + 1) % f->nfreers;
                        continue;
                }
                got = mpnet_pkt_alloc_bulk(f->pool, v, want);
                for (unsigned i = 0; i < got; i++)
                        memcpy(mpnet_pkt_append(v[i], 8), &(uint64_t){seq[turn] + i}, 8);
                sent = 0;
                while (sent < got && !atomic_load(&f->fail.stop)) {
                        sent += mpnet_ring_enqueue_burst(fr->ring, (void **)&v[sent], got - sent);
                        if (sent < got) {
                                sched_yield();
                                if (++spins % 1024 == 0 && now_ns() > deadline)
                                        fail_set(&f->fail, "owner: freer %u stuck", turn);
                        }
                }
                if (sent < got)
                        mpnet_pkt_free_bulk(&v[sent], got - sent);
                if (got == 0 && !f->may_run_dry) {
                        fail_set(&f->fail, "owner: pool empty after %llu frames",
                                 (unsigned long long)(f->n - left));
                        break;
                }
                if (got == 0) {
                        sched_yield();
                        if (++spins % 1024 == 0 && now_ns() > deadline)
                                fail_set(&f->fail, "owner: pool dry for good");
                        continue;
                }
                seq[turn] += got;
                left -= got;
                turn = (turn + 1) % f->nfreers;
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static void *freer_main(void *arg)
{
        struct freer *fr = arg;
        struct flow *f = fr->flow;
        uint64_t deadline = now_ns() + DEADLINE_NS;
        void *v[BURST];
        unsigned spins = 0;

        mpnet_thread_set_slot(fr->slot);
        while (fr->got < fr->n && !atomic_load(&f->fail.stop)) {
                unsigned n = mpnet_ring_dequeue_burst(fr->ring, v, BURST);

                if (n == 0) {
                        sched_yield();
                        if (++spins % 1024 == 0 && now_ns() > deadline)
                                fail_set(&f->fail, "freer slot %u: %llu of %llu frames", fr->slot,
                                         (unsigned long long)fr->got, (unsigned long long)fr->n);
                        continue;
                }
                for (unsigned i = 0; i < n; i++) {
                        struct mpnet_pkt *p = v[i];
                        uint64_t s;

                        memcpy(&s, p->data, 8);
                        if (p->pool != f->pool || p->len != 8 || s != fr->got + i)
                                fail_set(&f->fail, "freer slot %u: frame %llu has seq %llu",
                                         fr->slot, (unsigned long long)(fr->got + i),
                                         (unsigned long long)s);
                }
                mpnet_pkt_free_bulk((struct mpnet_pkt **)v, n);
                fr->got += n;
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

/* Run one flow; leave the pool and rings for the caller to check. */
static void run_flow(struct flow *f)
{
        pthread_t owner, freer[FREERS_MAX];

        for (unsigned i = 0; i < f->nfreers; i++) {
                f->freer[i].flow = f;
                assert_int_equal(pthread_create(&freer[i], NULL, freer_main, &f->freer[i]), 0);
        }
        assert_int_equal(pthread_create(&owner, NULL, owner_main, f), 0);
        assert_int_equal(pthread_join(owner, NULL), 0);
        for (unsigned i = 0; i < f->nfreers; i++)
                assert_int_equal(pthread_join(freer[i], NULL), 0);
        if (atomic_load(&f->fail.stop))
                fail_msg("%s", f->fail.err);
        for (unsigned i = 0; i < f->nfreers; i++)
                assert_int_equal(f->freer[i].got, f->freer[i].n);
}

/* Thread A allocates, an SPSC ring carries every frame to thread B, B frees:
 * millions of buffers. After the first store refills every buffer comes back
 * to A through its return list: the lock count stays bounded by the pool,
 * whatever the number of frames (the previous pool took it every 128
 * buffers on each side). */
static void test_pool_ping_pong(void **state)
{
        struct flow f = {.owner_slot = 1, .nfreers = 1};
        struct mpnet_pool_stats st;

        (void)state;
        f.n = quick() ? 300000 : 3000000;
        f.pool = mpnet_pool_create("pingpong", POOL);
        f.freer[0] =
            (struct freer){.ring = mpnet_ring_create(1024, MPNET_RING_SPSC), .slot = 2, .n = f.n};
        assert_non_null(f.pool);
        assert_non_null(f.freer[0].ring);
        run_flow(&f);

        mpnet_pool_get_stats(f.pool, &st);
        print_message("ping-pong: %llu frames, %llu store locks, %llu batches returned\n",
                      (unsigned long long)f.n, (unsigned long long)st.store_locks,
                      (unsigned long long)st.batches_returned);
        assert_true(st.store_locks <= POOL / STORE_BATCH + 2);
        assert_int_equal(st.batches_returned, f.n / RET_BATCH);
        assert_int_equal(st.reclaims, 0);
        /* Free, though not all back with A yet: B's last partial batch. */
        assert_int_equal(mpnet_pool_in_use(f.pool), 0);
        flush_slots(f.pool, (unsigned[]){2, 1}, 2);
        assert_all_back(f.pool);
        mpnet_ring_destroy(f.freer[0].ring);
        mpnet_pool_destroy(f.pool);
}

/* One owner, three freers at once (two on slots, one without a slot, which
 * returns each buffer alone): the owner takes its return list while they push. */
static void test_pool_many_freers(void **state)
{
        struct flow f = {.owner_slot = 0, .nfreers = FREERS_MAX};
        const unsigned slots[FREERS_MAX] = {5, 63, MPNET_SLOT_NONE};
        struct mpnet_pool_stats st;
        uint64_t batches = 0;

        (void)state;
        f.n = quick() ? 300000 : 3000000;
        f.pool = mpnet_pool_create("freers", POOL);
        assert_non_null(f.pool);
        for (unsigned i = 0; i < FREERS_MAX; i++) {
                f.freer[i] = (struct freer){.ring = mpnet_ring_create(512, MPNET_RING_SPSC),
                                            .slot = slots[i],
                                            .n = f.n / FREERS_MAX};
                assert_non_null(f.freer[i].ring);
                if (slots[i] != MPNET_SLOT_NONE)
                        batches += f.freer[i].n / RET_BATCH;
        }
        f.n = f.freer[0].n * FREERS_MAX;
        run_flow(&f);

        mpnet_pool_get_stats(f.pool, &st);
        print_message("many freers: %llu frames, %llu store locks, %llu batches returned\n",
                      (unsigned long long)f.n, (unsigned long long)st.store_locks,
                      (unsigned long long)st.batches_returned);
        assert_true(st.store_locks <= POOL / STORE_BATCH + 2);
        assert_int_equal(st.batches_returned, batches);
        assert_int_equal(mpnet_pool_in_use(f.pool), 0);
        flush_slots(f.pool, (unsigned[]){5, 63, 0}, 3);
        assert_all_back(f.pool);
        for (unsigned i = 0; i < FREERS_MAX; i++)
                mpnet_ring_destroy(f.freer[i].ring);
        mpnet_pool_destroy(f.pool);
}

/* ---- owners that leave -------------------------------------------------- */

struct taker {
        struct mpnet_pool *pool;
        unsigned slot, n, got;
        struct mpnet_pkt **v;
};

/* Take n buffers on a slot, stamp them, give the slot up and end. */
static void *taker_main(void *arg)
{
        struct taker *t = arg;

        mpnet_thread_set_slot(t->slot);
        t->got = mpnet_pkt_alloc_bulk(t->pool, t->v, t->n);
        for (unsigned i = 0; i < t->got; i++)
                memcpy(mpnet_pkt_append(t->v[i], 4), &i, 4);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

static unsigned take_on_thread(struct mpnet_pool *pool, unsigned slot, struct mpnet_pkt **v,
                               unsigned n)
{
        struct taker t = {.pool = pool, .slot = slot, .n = n, .v = v};
        pthread_t th;

        assert_int_equal(pthread_create(&th, NULL, taker_main, &t), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        return t.got;
}

static int cmp_ptr(const void *a, const void *b)
{
        uintptr_t x = (uintptr_t)(*(void *const *)a), y = (uintptr_t)(*(void *const *)b);

        return x < y ? -1 : x > y;
}

/*
 * What happens to buffers whose owner gave up its slot (the contract in
 * pool.c's Life cycle): they are free as soon as they are freed (in_use
 * says so); they wait on the slot's return list; a thread on another slot
 * that runs dry takes them over through the store, and the next holder of the
 * slot gets them back without the lock. A freer's partial batch reaches the
 * list at its flush. Nothing is lost.
 */
static void test_pool_owner_leaves(void **state)
{
        enum { N = 1000, HALF = 500, SECOND = 600 };
        struct mpnet_pool *pool = mpnet_pool_create("leaves", N);
        struct mpnet_pkt **v = calloc(N, sizeof(*v)), **w = calloc(N, sizeof(*w));
        struct mpnet_pool_stats st;
        unsigned got;
        uint64_t locks;

        (void)state;
        assert_non_null(pool);
        assert_non_null(v);
        assert_non_null(w);
        /* The owner (slot 1) takes every buffer and leaves. */
        assert_int_equal(take_on_thread(pool, 1, v, N), N);
        for (unsigned i = 0; i < N; i++) {
                uint32_t x;

                memcpy(&x, v[i]->data, 4);
                assert_int_equal(x, i);
        }
        /* Half freed on slot 2 (a partial batch stays there), half without a slot. */
        assert_int_equal(mpnet_thread_set_slot(2), 0);
        mpnet_pkt_free_bulk(v, HALF);
        assert_int_equal(mpnet_thread_set_slot(MPNET_SLOT_NONE), 0);
        mpnet_pkt_free_bulk(&v[HALF], N - HALF);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* Slot 3 runs dry and takes slot 1's list over: all but the partial batch. */
        got = take_on_thread(pool, 3, w, N);
        assert_int_equal(got, N - HALF % RET_BATCH);
        mpnet_pool_get_stats(pool, &st);
        assert_true(st.reclaims >= 1);
        assert_int_equal(mpnet_pool_in_use(pool), got);
        /* Slot 2's flush sends the rest, and slot 3 gets it too. */
        assert_int_equal(mpnet_thread_set_slot(2), 0);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(take_on_thread(pool, 3, &w[got], N - got), N - got);
        assert_int_equal(mpnet_pool_in_use(pool), N);
        qsort(w, N, sizeof(*w), cmp_ptr);
        for (unsigned i = 1; i < N; i++)
                assert_true(w[i] != w[i - 1]);
        assert_int_equal(mpnet_thread_set_slot(3), 0);
        mpnet_pkt_free_bulk(w, N);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* Again; this time a new thread takes slot 1 and gets them lock-free. */
        assert_int_equal(take_on_thread(pool, 1, v, SECOND), SECOND);
        assert_int_equal(mpnet_thread_set_slot(2), 0);
        mpnet_pkt_free_bulk(v, SECOND);
        mpnet_pool_flush_cache(pool);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_get_stats(pool, &st);
        locks = st.store_locks;
        assert_int_equal(take_on_thread(pool, 1, w, SECOND), SECOND);
        mpnet_pool_get_stats(pool, &st);
        assert_int_equal(st.store_locks, locks);
        assert_int_equal(mpnet_pool_in_use(pool), SECOND);
        assert_int_equal(mpnet_thread_set_slot(2), 0);
        mpnet_pkt_free_bulk(w, SECOND);
        flush_slots(pool, (unsigned[]){2, 1, 3}, 3);
        assert_all_back(pool);
        mpnet_pool_destroy(pool);
        free(v);
        free(w);
}

/* ---- a dry pool ---------------------------------------------------------- */

struct hog {
        struct flow *f;
        uint64_t rounds, got;
};

/* On slot 3: take everything it can get, until the pool is dry (so it takes
 * the owner's return list over), give it all back and flush, over and over;
 * the owner takes its list at the same time. */
static void *hog_main(void *arg)
{
        struct hog *h = arg;
        struct mpnet_pkt *v[512];

        mpnet_thread_set_slot(3);
        for (uint64_t r = 0; r < h->rounds && !atomic_load(&h->f->fail.stop); r++) {
                unsigned n = 0, k;

                do {
                        k = mpnet_pkt_alloc_bulk(h->f->pool, &v[n], 512 - n < 64 ? 512 - n : 64);
                        n += k;
                } while (k != 0 && n < 512);
                h->got += n;
                mpnet_pkt_free_bulk(v, n);
                mpnet_pool_flush_cache(h->f->pool);
                sched_yield();
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

/* A pool barely larger than what is in flight, one flow through it and a
 * third slot grabbing everything it can: reclaims race the owner's own
 * exchange and refills; no buffer is lost or handed out twice (the freer
 * checks every frame) and the pool is whole at the end. */
static void test_pool_dry_race(void **state)
{
        struct flow f = {.owner_slot = 1, .nfreers = 1, .may_run_dry = true};
        struct hog h = {.f = &f};
        struct mpnet_pool_stats st;
        pthread_t th;

        (void)state;
        f.n = quick() ? 100000 : 1000000;
        h.rounds = quick() ? 5000 : 50000;
        /* The ring (64), a burst, a partial batch and a little more. */
        f.pool = mpnet_pool_create("dry", 64 + BURST + RET_BATCH + 200);
        f.freer[0] =
            (struct freer){.ring = mpnet_ring_create(64, MPNET_RING_SPSC), .slot = 2, .n = f.n};
        assert_non_null(f.pool);
        assert_non_null(f.freer[0].ring);
        assert_int_equal(pthread_create(&th, NULL, hog_main, &h), 0);
        run_flow(&f);
        assert_int_equal(pthread_join(th, NULL), 0);
        if (atomic_load(&f.fail.stop))
                fail_msg("%s", f.fail.err);
        mpnet_pool_get_stats(f.pool, &st);
        print_message("dry race: %llu frames, hog got %llu, %llu reclaims, %llu store locks\n",
                      (unsigned long long)f.n, (unsigned long long)h.got,
                      (unsigned long long)st.reclaims, (unsigned long long)st.store_locks);
        assert_int_equal(mpnet_pool_in_use(f.pool), 0);
        flush_slots(f.pool, (unsigned[]){2, 1, 3}, 3);
        assert_all_back(f.pool);
        mpnet_ring_destroy(f.freer[0].ring);
        mpnet_pool_destroy(f.pool);
}

/* A writer fills send-buffer-sized blocks and passes each, with a second
 * reference, to a reader thread that checks and drops it; the writer drops
 * its own at once or a little later, so either may drop the last and keep
 * the block as a spare. The writer's next blocks are its spares, rewritten
 * while the reader may have read them just before: ThreadSanitizer reports
 * a missing order on the drop. The reader's spares are freed when it
 * exits (LeakSanitizer: none left behind). */
struct ext_flow {
        struct mpnet_ring *ring;
        uint64_t n;
        _Atomic uint64_t bad, got;
        unsigned reader_spares;
};

static void *ext_reader_main(void *arg)
{
        struct ext_flow *x = arg;
        uint64_t deadline = now_ns() + DEADLINE_NS, spins = 0;

        while (atomic_load(&x->got) < x->n) {
                void *objs[BURST];
                unsigned k = mpnet_ring_dequeue_burst(x->ring, objs, BURST);

                if (k == 0) {
                        if (++spins % 1024 == 0 && now_ns() > deadline)
                                break;
                        sched_yield();
                        continue;
                }
                for (unsigned i = 0; i < k; i++) {
                        struct pkt_ext *e = objs[i];
                        uint64_t seq, tail;

                        memcpy(&seq, e->b, sizeof(seq));
                        memcpy(&tail, e->b + e->size - sizeof(tail), sizeof(tail));
                        if (e->size != PKT_EXT_SPARE_SIZE || seq != ~tail)
                                atomic_fetch_add(&x->bad, 1);
                        pkt_ext_put(e);
                }
                atomic_fetch_add(&x->got, k);
        }
        x->reader_spares = pkt_ext_spares();
        return NULL;
}

static void test_pkt_ext_cross_thread(void **state)
{
        struct ext_flow x = {.ring = mpnet_ring_create(64, MPNET_RING_SPSC)};
        struct pkt_ext *held[8] = {0};
        uint64_t deadline = now_ns() + DEADLINE_NS;
        pthread_t th;

        (void)state;
        x.n = quick() ? 20000 : 200000;
        assert_non_null(x.ring);
        assert_int_equal(pthread_create(&th, NULL, ext_reader_main, &x), 0);
        for (uint64_t i = 0; i < x.n; i++) {
                struct pkt_ext *e = pkt_ext_new(PKT_EXT_SPARE_SIZE);
                uint64_t tail = ~i;
                void *obj = e;

                assert_non_null(e);
                memcpy(e->b, &i, sizeof(i));
                memcpy(e->b + e->size - sizeof(tail), &tail, sizeof(tail));
                pkt_ext_get_n(e, 1); /* the reader's */
                while (mpnet_ring_enqueue_burst(x.ring, &obj, 1) != 1) {
                        assert_true(now_ns() < deadline);
                        sched_yield();
                }
                /* The writer's own: now, or after a few more blocks. */
                if (held[i % 8] != NULL)
                        pkt_ext_put(held[i % 8]);
                held[i % 8] = NULL;
                if (i % 3 == 0)
                        pkt_ext_put(e);
                else
                        held[i % 8] = e;
        }
        for (unsigned j = 0; j < 8; j++)
                if (held[j] != NULL)
                        pkt_ext_put(held[j]);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(atomic_load(&x.got), x.n);
        assert_int_equal(atomic_load(&x.bad), 0);
        assert_true(x.reader_spares <= PKT_EXT_SPARE_MAX);
        assert_true(pkt_ext_spares() <= PKT_EXT_SPARE_MAX);
        print_message("ext blocks: %llu passed, reader kept %u spares, writer %u\n",
                      (unsigned long long)x.n, x.reader_spares, pkt_ext_spares());
        mpnet_ring_destroy(x.ring);
}

static int slot_none(void **state)
{
        (void)state;
        return mpnet_thread_set_slot(MPNET_SLOT_NONE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_pool_ping_pong, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_many_freers, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_owner_leaves, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pool_dry_race, slot_none, slot_none),
            cmocka_unit_test_setup_teardown(test_pkt_ext_cross_thread, slot_none, slot_none),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
