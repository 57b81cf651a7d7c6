/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rings across threads. Each item is a pointer to a payload word the producer
 * wrote just before enqueuing it, so the consumer checks three things: order,
 * that nothing is lost or repeated, and that enqueue published the payload
 * (under ThreadSanitizer a missing release/acquire pair is reported as a race
 * on the payload).
 *
 * Threads report failures through their context; only the main thread calls
 * cmocka's asserts. Sizes shrink under a sanitizer or with MPNET_TEST_QUICK
 * set, to stay within a few seconds on two cores.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mpnet/ring.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif

#define BURST_MAX 32u
#define NPROD     3u

static int quick(void)
{
#ifdef TEST_SANITIZED
        return 1;
#else
        const char *q = getenv("MPNET_TEST_QUICK");

        return q != NULL && *q != '\0' && *q != '0';
#endif
}

/* Payload written by the producer before the pointer to it is enqueued. */
static uint64_t payload_of(unsigned producer, uint64_t seq)
{
        return (seq * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)producer << 56) ^ 0x5bd1e995u;
}

static unsigned next_burst(uint64_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return 1 + (unsigned)(*x % BURST_MAX);
}

struct producer {
        struct mpnet_ring *ring;
        unsigned id;
        uint64_t n;
        uint64_t *payload; /* n words */
        uint64_t seed;
};

struct consumer {
        struct mpnet_ring *ring;
        unsigned nprod;
        struct producer *prod;
        uint64_t seed;
        /* results */
        uint64_t got[NPROD];
        uint64_t total;
        char err[256];
};

/* Set by the consumer when it gives up, so producers do not wait on a full
 * ring forever; set by the main thread once every producer has returned. */
static atomic_bool run_failed, producers_done, stop_observer;

static void *producer_main(void *arg)
{
        struct producer *p = arg;
        void *burst[BURST_MAX];
        uint64_t seq = 0;

        while (seq < p->n) {
                unsigned k = next_burst(&p->seed), done = 0;

                if (k > p->n - seq)
                        k = (unsigned)(p->n - seq);
                for (unsigned i = 0; i < k; i++) {
                        p->payload[seq + i] = payload_of(p->id, seq + i);
                        burst[i] = &p->payload[seq + i];
                }
                while (done < k) {
                        unsigned m = mpnet_ring_enqueue_burst(p->ring, &burst[done], k - done);

                        if (m == 0) {
                                if (atomic_load(&run_failed))
                                        return NULL;
                                sched_yield();
                        }
                        done += m;
                }
                seq += k;
        }
        return NULL;
}

/* Which producer's payload array p points into, or -1. */
static int owner(const struct consumer *c, const uint64_t *p)
{
        for (unsigned i = 0; i < c->nprod; i++)
                if (p >= c->prod[i].payload && p < c->prod[i].payload + c->prod[i].n)
                        return (int)i;
        return -1;
}

/* @return 0 when every item arrived in order, -1 (c->err says why) if not. */
static int consume(struct consumer *c)
{
        uint64_t want = 0;
        void *burst[BURST_MAX];

        for (unsigned i = 0; i < c->nprod; i++)
                want += c->prod[i].n;
        while (c->total < want) {
                unsigned k = next_burst(&c->seed);
                unsigned m = mpnet_ring_dequeue_burst(c->ring, burst, k);

                if (m > k) {
                        snprintf(c->err, sizeof(c->err), "dequeued %u of %u asked", m, k);
                        return -1;
                }
                if (m == 0) {
                        if (!atomic_load(&producers_done)) {
                                sched_yield();
                                continue;
                        }
                        /* Every producer has returned: what is not there now is lost. */
                        m = mpnet_ring_dequeue_burst(c->ring, burst, k);
                        if (m == 0) {
                                snprintf(c->err, sizeof(c->err), "%llu of %llu items lost",
                                         (unsigned long long)(want - c->total),
                                         (unsigned long long)want);
                                return -1;
                        }
                }
                for (unsigned i = 0; i < m; i++) {
                        const uint64_t *p = burst[i];
                        int who = owner(c, p);
                        uint64_t seq;

                        if (who < 0) {
                                snprintf(c->err, sizeof(c->err), "item %llu: stray pointer %p",
                                         (unsigned long long)c->total, burst[i]);
                                return -1;
                        }
                        seq = (uint64_t)(p - c->prod[who].payload);
                        if (seq != c->got[who]) {
                                snprintf(c->err, sizeof(c->err),
                                         "producer %d: got seq %llu, expected %llu", who,
                                         (unsigned long long)seq, (unsigned long long)c->got[who]);
                                return -1;
                        }
                        if (*p != payload_of((unsigned)who, seq)) {
                                snprintf(c->err, sizeof(c->err),
                                         "producer %d seq %llu: payload %llx not published", who,
                                         (unsigned long long)seq, (unsigned long long)*p);
                                return -1;
                        }
                        c->got[who]++;
                        c->total++;
                }
        }
        return 0;
}

static void *consumer_main(void *arg)
{
        if (consume(arg) != 0)
                atomic_store(&run_failed, true);
        return NULL;
}

/* Reads the count from a thread that is neither producer nor consumer; the
 * snapshot must still be a possible fill level. */
struct observer {
        struct mpnet_ring *ring;
        uint64_t reads;
        unsigned bad;
};

static void *observer_main(void *arg)
{
        struct observer *o = arg;
        unsigned cap = mpnet_ring_capacity(o->ring);

        while (!atomic_load_explicit(&stop_observer, memory_order_relaxed)) {
                unsigned n = mpnet_ring_count(o->ring);

                if (n > cap && o->bad == 0)
                        o->bad = n;
                /* Leave the CPU to the others now and then: there may be only two. */
                if ((++o->reads & 63) == 0)
                        sched_yield();
        }
        return NULL;
}

/* nprod producers of n items each into a ring of size, one consumer, and an
 * optional observer of the count. */
static void run(unsigned kind, uint32_t size, unsigned nprod, uint64_t n, int observe)
{
        struct mpnet_ring *r = mpnet_ring_create(size, kind);
        struct producer prod[NPROD];
        struct consumer cons = {.ring = r, .nprod = nprod, .prod = prod, .seed = 0x1234567u};
        struct observer obs = {.ring = r};
        pthread_t pt[NPROD], ct, ot;
        void *left;

        assert_non_null(r);
        assert_true(nprod <= NPROD);
        atomic_store(&run_failed, false);
        atomic_store(&producers_done, false);
        atomic_store(&stop_observer, false);
        for (unsigned i = 0; i < nprod; i++) {
                prod[i] = (struct producer){
                    .ring = r,
                    .id = i,
                    .n = n,
                    .payload = calloc(n, sizeof(uint64_t)),
                    .seed = 0x9e3779b9u * (i + 1),
                };
                assert_non_null(prod[i].payload);
        }
        if (observe)
                assert_int_equal(pthread_create(&ot, NULL, observer_main, &obs), 0);
        assert_int_equal(pthread_create(&ct, NULL, consumer_main, &cons), 0);
        for (unsigned i = 0; i < nprod; i++)
                assert_int_equal(pthread_create(&pt[i], NULL, producer_main, &prod[i]), 0);
        for (unsigned i = 0; i < nprod; i++)
                assert_int_equal(pthread_join(pt[i], NULL), 0);
        atomic_store(&producers_done, true);
        assert_int_equal(pthread_join(ct, NULL), 0);
        atomic_store(&stop_observer, true);
        if (observe)
                assert_int_equal(pthread_join(ot, NULL), 0);

        if (cons.err[0] != '\0')
                fail_msg("%s", cons.err);
        assert_int_equal(cons.total, (uint64_t)nprod * n);
        for (unsigned i = 0; i < nprod; i++)
                assert_int_equal(cons.got[i], n);
        assert_int_equal(mpnet_ring_count(r), 0);
        assert_int_equal(mpnet_ring_dequeue_burst(r, &left, 1), 0);
        if (observe) {
                assert_true(obs.reads > 0);
                if (obs.bad != 0)
                        fail_msg("count read %u from a third thread, capacity %u", obs.bad, size);
        }
        for (unsigned i = 0; i < nprod; i++)
                free(prod[i].payload);
        mpnet_ring_destroy(r);
}

static void test_spsc_stream(void **state)
{
        (void)state;
        run(MPNET_RING_SPSC, 1024, 1, quick() ? 200000 : 5000000, 0);
}

/* The smallest ring: producer and consumer meet at full and empty all the time. */
static void test_spsc_tiny_ring(void **state)
{
        (void)state;
        run(MPNET_RING_SPSC, 2, 1, quick() ? 20000 : 50000, 0);
}

static void test_mpsc_three_producers(void **state)
{
        (void)state;
        run(MPNET_RING_MPSC, 1024, NPROD, quick() ? 30000 : 1000000, 0);
}

static void test_mpsc_small_ring(void **state)
{
        (void)state;
        run(MPNET_RING_MPSC, 8, NPROD, quick() ? 10000 : 100000, 0);
}

/* A single producer through the MPSC path. */
static void test_mpsc_one_producer(void **state)
{
        (void)state;
        run(MPNET_RING_MPSC, 64, 1, quick() ? 50000 : 500000, 0);
}

static void test_spsc_count_from_third_thread(void **state)
{
        (void)state;
        run(MPNET_RING_SPSC, 64, 1, quick() ? 50000 : 500000, 1);
}

static void test_mpsc_count_from_third_thread(void **state)
{
        (void)state;
        run(MPNET_RING_MPSC, 64, 2, quick() ? 20000 : 200000, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spsc_stream),
            cmocka_unit_test(test_spsc_tiny_ring),
            cmocka_unit_test(test_mpsc_three_producers),
            cmocka_unit_test(test_mpsc_small_ring),
            cmocka_unit_test(test_mpsc_one_producer),
            cmocka_unit_test(test_spsc_count_from_third_thread),
            cmocka_unit_test(test_mpsc_count_from_third_thread),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
