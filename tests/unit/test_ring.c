/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rings, on one thread: sizes, partial bursts at full and empty, FIFO order
 * across many wrap-arounds, checked against a model. Both kinds, SPSC and
 * MPSC, must behave the same way when used from one thread.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mpnet/ring.h"

static const unsigned kinds[] = {MPNET_RING_SPSC, MPNET_RING_MPSC};

static void *tok(uintptr_t i)
{
        return (void *)(i * 8 + 0x1000);
}

static void test_ring_bad_size(void **state)
{
        static const uint32_t bad[] = {
            0, 1, 3, 5, 6, 7, 12, 100, 1000, 1023, 1025, (1u << 20) + 1, (1u << 31) + 1, UINT32_MAX,
        };

        (void)state;
        for (unsigned k = 0; k < 2; k++) {
                for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        errno = 0;
                        assert_null(mpnet_ring_create(bad[i], kinds[k]));
                        assert_int_equal(errno, EINVAL);
                }
        }
}

static void test_ring_bad_flags(void **state)
{
        (void)state;
        errno = 0;
        assert_null(mpnet_ring_create(64, 2));
        assert_int_equal(errno, EINVAL);
        errno = 0;
        assert_null(mpnet_ring_create(64, ~0u));
        assert_int_equal(errno, EINVAL);
}

static void test_ring_good_sizes(void **state)
{
        (void)state;
        for (unsigned k = 0; k < 2; k++) {
                for (uint32_t size = 2; size <= (1u << 16); size <<= 1) {
                        struct mpnet_ring *r = mpnet_ring_create(size, kinds[k]);
                        void *o;

                        assert_non_null(r);
                        assert_int_equal(mpnet_ring_capacity(r), size);
                        assert_int_equal(mpnet_ring_count(r), 0);
                        assert_int_equal(mpnet_ring_dequeue_burst(r, &o, 1), 0);
                        mpnet_ring_destroy(r);
                }
        }
}

/* Size 8: a burst larger than the room is cut to the room, a dequeue larger
 * than the content is cut to the content, and order is kept. */
static void partial(unsigned kind)
{
        struct mpnet_ring *r = mpnet_ring_create(8, kind);
        void *in[32], *out[32];

        assert_non_null(r);
        for (unsigned i = 0; i < 32; i++)
                in[i] = tok(i);

        assert_int_equal(mpnet_ring_enqueue_burst(r, in, 0), 0);
        assert_int_equal(mpnet_ring_count(r), 0);
        assert_int_equal(mpnet_ring_dequeue_burst(r, out, 0), 0);
        assert_int_equal(mpnet_ring_dequeue_burst(r, out, 8), 0);

        assert_int_equal(mpnet_ring_enqueue_burst(r, in, 5), 5);
        assert_int_equal(mpnet_ring_count(r), 5);
        assert_int_equal(mpnet_ring_enqueue_burst(r, &in[5], 5), 3);
        assert_int_equal(mpnet_ring_count(r), 8);
        assert_int_equal(mpnet_ring_enqueue_burst(r, &in[8], 1), 0);
        assert_int_equal(mpnet_ring_enqueue_burst(r, &in[8], 32 - 8), 0);
        assert_int_equal(mpnet_ring_count(r), 8);

        assert_int_equal(mpnet_ring_dequeue_burst(r, out, 3), 3);
        for (unsigned i = 0; i < 3; i++)
                assert_ptr_equal(out[i], in[i]);
        assert_int_equal(mpnet_ring_count(r), 5);

        /* Room for 3 again: these go in across the end of the slot array. */
        assert_int_equal(mpnet_ring_enqueue_burst(r, &in[8], 10), 3);
        assert_int_equal(mpnet_ring_count(r), 8);

        assert_int_equal(mpnet_ring_dequeue_burst(r, out, 32), 8);
        for (unsigned i = 0; i < 8; i++)
                assert_ptr_equal(out[i], in[3 + i]);
        assert_int_equal(mpnet_ring_count(r), 0);
        assert_int_equal(mpnet_ring_dequeue_burst(r, out, 32), 0);

        /* Larger than the ring in one burst. */
        assert_int_equal(mpnet_ring_enqueue_burst(r, in, 32), 8);
        assert_int_equal(mpnet_ring_dequeue_burst(r, out, 32), 8);
        for (unsigned i = 0; i < 8; i++)
                assert_ptr_equal(out[i], in[i]);
        mpnet_ring_destroy(r);
}

static void test_ring_partial_spsc(void **state)
{
        (void)state;
        partial(MPNET_RING_SPSC);
}

static void test_ring_partial_mpsc(void **state)
{
        (void)state;
        partial(MPNET_RING_MPSC);
}

/* Size 2, the smallest: one at a time and two at a time. */
static void smallest(unsigned kind)
{
        struct mpnet_ring *r = mpnet_ring_create(2, kind);
        void *in[3] = {tok(1), tok(2), tok(3)}, *out[3];

        assert_non_null(r);
        for (unsigned round = 0; round < 1000; round++) {
                assert_int_equal(mpnet_ring_enqueue_burst(r, in, 3), 2);
                assert_int_equal(mpnet_ring_enqueue_burst(r, &in[2], 1), 0);
                assert_int_equal(mpnet_ring_dequeue_burst(r, out, 1), 1);
                assert_ptr_equal(out[0], in[0]);
                assert_int_equal(mpnet_ring_enqueue_burst(r, &in[2], 1), 1);
                assert_int_equal(mpnet_ring_dequeue_burst(r, out, 3), 2);
                assert_ptr_equal(out[0], in[1]);
                assert_ptr_equal(out[1], in[2]);
                assert_int_equal(mpnet_ring_count(r), 0);
        }
        mpnet_ring_destroy(r);
}

static void test_ring_smallest_spsc(void **state)
{
        (void)state;
        smallest(MPNET_RING_SPSC);
}

static void test_ring_smallest_mpsc(void **state)
{
        (void)state;
        smallest(MPNET_RING_MPSC);
}

/* Any pointer value goes through unchanged, NULL included. */
static void values(unsigned kind)
{
        struct mpnet_ring *r = mpnet_ring_create(4, kind);
        void *in[4] = {NULL, (void *)UINTPTR_MAX, (void *)1, (void *)(UINTPTR_MAX / 2)};
        void *out[4] = {tok(9), tok(9), tok(9), tok(9)};

        assert_non_null(r);
        assert_int_equal(mpnet_ring_enqueue_burst(r, in, 4), 4);
        assert_int_equal(mpnet_ring_dequeue_burst(r, out, 4), 4);
        for (unsigned i = 0; i < 4; i++)
                assert_ptr_equal(out[i], in[i]);
        mpnet_ring_destroy(r);
}

static void test_ring_values_spsc(void **state)
{
        (void)state;
        values(MPNET_RING_SPSC);
}

static void test_ring_values_mpsc(void **state)
{
        (void)state;
        values(MPNET_RING_MPSC);
}

static uint64_t xorshift(uint64_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

/* Random burst sizes against a model: every call moves exactly
 * min(n, room) or min(n, count) entries, in FIFO order, for many laps. */
static void model(unsigned kind, uint32_t size, unsigned rounds)
{
        struct mpnet_ring *r = mpnet_ring_create(size, kind);
        uintptr_t next_in = 0, next_out = 0;
        uint64_t x = 0x2545f4914f6cdd1dull + size;
        unsigned maxb = size * 2 + 3;
        void **buf = calloc(maxb, sizeof(*buf));

        assert_non_null(r);
        assert_non_null(buf);
        for (unsigned i = 0; i < rounds; i++) {
                unsigned n = (unsigned)(xorshift(&x) % maxb), in_ring, want, got;

                in_ring = (unsigned)(next_in - next_out);
                assert_int_equal(mpnet_ring_count(r), in_ring);
                /* Bias towards enqueue or dequeue in phases, to visit full and empty. */
                if ((xorshift(&x) & 3) < ((i >> 6) & 1 ? 1u : 3u)) {
                        for (unsigned j = 0; j < n; j++)
                                buf[j] = tok(next_in + j);
                        want = n < size - in_ring ? n : size - in_ring;
                        got = mpnet_ring_enqueue_burst(r, buf, n);
                        assert_int_equal(got, want);
                        next_in += got;
                } else {
                        want = n < in_ring ? n : in_ring;
                        got = mpnet_ring_dequeue_burst(r, buf, n);
                        assert_int_equal(got, want);
                        for (unsigned j = 0; j < got; j++)
                                assert_ptr_equal(buf[j], tok(next_out + j));
                        next_out += got;
                }
        }
        /* Drain. */
        while (next_out != next_in) {
                unsigned got = mpnet_ring_dequeue_burst(r, buf, maxb);

                assert_true(got > 0);
                for (unsigned j = 0; j < got; j++)
                        assert_ptr_equal(buf[j], tok(next_out + j));
                next_out += got;
        }
        assert_int_equal(mpnet_ring_count(r), 0);
        /* Many laps of the slot array. */
        assert_true(next_in / size >= 100);
        mpnet_ring_destroy(r);
        free(buf);
}

static void test_ring_model_spsc(void **state)
{
        (void)state;
        model(MPNET_RING_SPSC, 2, 20000);
        model(MPNET_RING_SPSC, 16, 100000);
        model(MPNET_RING_SPSC, 1024, 100000);
}

static void test_ring_model_mpsc(void **state)
{
        (void)state;
        model(MPNET_RING_MPSC, 2, 20000);
        model(MPNET_RING_MPSC, 16, 100000);
        model(MPNET_RING_MPSC, 1024, 100000);
}

/* Lock-step one in, one out, for well over 2^16 laps of a small ring. */
static void lockstep(unsigned kind)
{
        struct mpnet_ring *r = mpnet_ring_create(4, kind);
        void *o;

        assert_non_null(r);
        for (uintptr_t i = 0; i < (1u << 18); i++) {
                void *in = tok(i);

                assert_int_equal(mpnet_ring_enqueue_burst(r, &in, 1), 1);
                assert_int_equal(mpnet_ring_count(r), 1);
                assert_int_equal(mpnet_ring_dequeue_burst(r, &o, 1), 1);
                assert_ptr_equal(o, in);
        }
        assert_int_equal(mpnet_ring_count(r), 0);
        mpnet_ring_destroy(r);
}

static void test_ring_lockstep_spsc(void **state)
{
        (void)state;
        lockstep(MPNET_RING_SPSC);
}

static void test_ring_lockstep_mpsc(void **state)
{
        (void)state;
        lockstep(MPNET_RING_MPSC);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ring_bad_size),      cmocka_unit_test(test_ring_bad_flags),
            cmocka_unit_test(test_ring_good_sizes),    cmocka_unit_test(test_ring_partial_spsc),
            cmocka_unit_test(test_ring_partial_mpsc),  cmocka_unit_test(test_ring_smallest_spsc),
            cmocka_unit_test(test_ring_smallest_mpsc), cmocka_unit_test(test_ring_values_spsc),
            cmocka_unit_test(test_ring_values_mpsc),   cmocka_unit_test(test_ring_model_spsc),
            cmocka_unit_test(test_ring_model_mpsc),    cmocka_unit_test(test_ring_lockstep_spsc),
            cmocka_unit_test(test_ring_lockstep_mpsc),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
