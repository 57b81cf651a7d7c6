/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 longest-prefix match (mpnet/lpm4.h): edge cases, tbl8 exhaustion and
 * deferred frees, RIB walks, readers racing a writer, and a randomised run
 * against a naive reference (one hash table per prefix length, scanned from
 * /32 down).
 *
 * The randomised run takes 1M prefixes and 10M lookups (issue 3); with
 * MPNET_TEST_QUICK set, or under ASan, 50k and 500k; under TSan 10k and 100k. MPNET_TEST_SEED
 * picks the seed (printed either way).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <cmocka.h>

#include "mpnet/lpm4.h"
#include "test_rand.h"
#include "thp_util.h"

#define IP4(a, b, c, d)                                                                            \
        (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static uint32_t lk(const struct mpnet_lpm4 *t, uint32_t a)
{
        uint32_t nh = 0;

        return mpnet_lpm4_lookup(t, a, &nh) == 0 ? nh : UINT32_MAX;
}

/* ---- edge cases --------------------------------------------------------- */

static void test_empty_and_default(void **state)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        struct mpnet_lpm4_stats st;
        uint32_t nh;

        assert_non_null(t);
        assert_int_equal(mpnet_lpm4_lookup(t, IP4(192, 0, 2, 1), &nh), -ENOENT);
        assert_int_equal(mpnet_lpm4_delete(t, 0, 0), -ENOENT);
        assert_int_equal(mpnet_lpm4_add(t, IP4(1, 2, 3, 4), 0, 7), 0); /* host bits ignored */
        assert_int_equal(lk(t, 0), 7);
        assert_int_equal(lk(t, UINT32_MAX), 7);
        assert_int_equal(mpnet_lpm4_get(t, 0, 0, &nh), 0);
        assert_int_equal(nh, 7);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.routes, 1);
        assert_int_equal(st.tbl24_bytes, 0); /* a default route costs no table */
        assert_true(st.mem_bytes < 16 * 1024);
        assert_int_equal(mpnet_lpm4_add(t, 0, 0, 8), 0); /* replace */
        assert_int_equal(lk(t, IP4(10, 0, 0, 1)), 8);
        assert_int_equal(mpnet_lpm4_delete(t, 0, 0), 0);
        assert_int_equal(lk(t, IP4(10, 0, 0, 1)), UINT32_MAX);
        assert_int_equal(mpnet_lpm4_delete(t, 0, 0), -ENOENT);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.routes, 0);
        mpnet_lpm4_destroy(t);
}

static void test_bad_args(void **state)
{
        struct mpnet_lpm4_cfg c = {.max_tbl8 = MPNET_LPM4_TBL8_MAX + 1};
        struct mpnet_lpm4 *t;
        uint32_t nh;

        assert_null(mpnet_lpm4_create(&c));
        assert_int_equal(errno, EINVAL);
        c = (struct mpnet_lpm4_cfg){.flags = 1u << 7};
        assert_null(mpnet_lpm4_create(&c));
        t = mpnet_lpm4_create(NULL);
        assert_non_null(t);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 33, 1), -EINVAL);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 8, MPNET_LPM4_NH_MAX + 1), -EINVAL);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 8, MPNET_LPM4_NH_MAX), 0);
        assert_int_equal(lk(t, IP4(10, 9, 9, 9)), MPNET_LPM4_NH_MAX);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 0, 0, 0), 33), -EINVAL);
        assert_int_equal(mpnet_lpm4_get(t, IP4(10, 0, 0, 0), 40, &nh), -EINVAL);
        assert_int_equal(mpnet_lpm4_walk(t, 0, 33, NULL, NULL), -EINVAL);
        mpnet_lpm4_destroy(t);
        mpnet_lpm4_destroy(NULL);
}

static void test_host_routes(void **state)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        struct mpnet_lpm4_stats st;

        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 2, 1), 32, 1), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(255, 255, 255, 255), 32, 2), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(0, 0, 0, 0), 32, 3), 0);
        assert_int_equal(lk(t, IP4(192, 0, 2, 1)), 1);
        assert_int_equal(lk(t, IP4(192, 0, 2, 0)), UINT32_MAX);
        assert_int_equal(lk(t, IP4(192, 0, 2, 2)), UINT32_MAX);
        assert_int_equal(lk(t, IP4(255, 255, 255, 255)), 2);
        assert_int_equal(lk(t, IP4(255, 255, 255, 254)), UINT32_MAX);
        assert_int_equal(lk(t, 0), 3);
        assert_int_equal(lk(t, 1), UINT32_MAX);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl8_used, 3);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(192, 0, 2, 1), 32), 0);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(192, 0, 2, 1), 32), -ENOENT);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(192, 0, 2, 2), 32), -ENOENT);
        assert_int_equal(lk(t, IP4(192, 0, 2, 1)), UINT32_MAX);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl8_used, 2);
        mpnet_lpm4_destroy(t);
}

static void test_boundary_24(void **state)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);

        assert_int_equal(mpnet_lpm4_add(t, IP4(198, 51, 100, 0), 24, 24), 0);
        assert_int_equal(lk(t, IP4(198, 51, 99, 255)), UINT32_MAX);
        assert_int_equal(lk(t, IP4(198, 51, 100, 0)), 24);
        assert_int_equal(lk(t, IP4(198, 51, 100, 255)), 24);
        assert_int_equal(lk(t, IP4(198, 51, 101, 0)), UINT32_MAX);
        /* /23 and /25 on either side of the tbl24 boundary */
        assert_int_equal(mpnet_lpm4_add(t, IP4(198, 51, 100, 0), 23, 23), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(198, 51, 100, 128), 25, 25), 0);
        assert_int_equal(lk(t, IP4(198, 51, 101, 7)), 23);
        assert_int_equal(lk(t, IP4(198, 51, 100, 127)), 24);
        assert_int_equal(lk(t, IP4(198, 51, 100, 128)), 25);
        assert_int_equal(lk(t, IP4(198, 51, 100, 255)), 25);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(198, 51, 100, 0), 24), 0);
        assert_int_equal(lk(t, IP4(198, 51, 100, 127)), 23);
        assert_int_equal(lk(t, IP4(198, 51, 100, 200)), 25);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(198, 51, 100, 128), 25), 0);
        assert_int_equal(lk(t, IP4(198, 51, 100, 200)), 23);
        mpnet_lpm4_destroy(t);
}

static void test_nested_replace_delete(void **state)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        struct mpnet_lpm4_stats st;
        uint32_t a = IP4(10, 1, 2, 3), nh;

        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 8, 8), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 1, 0, 0), 16, 16), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 1, 2, 0), 24, 24), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 1, 2, 0), 28, 28), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 1, 2, 3), 32, 32), 0);
        assert_int_equal(lk(t, a), 32);
        assert_int_equal(lk(t, IP4(10, 1, 2, 4)), 28);
        assert_int_equal(lk(t, IP4(10, 1, 2, 16)), 24);
        assert_int_equal(lk(t, IP4(10, 1, 3, 0)), 16);
        assert_int_equal(lk(t, IP4(10, 2, 0, 0)), 8);
        assert_int_equal(lk(t, IP4(11, 0, 0, 0)), UINT32_MAX);
        /* A shorter route added later does not hide the longer ones. */
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 12, 12), 0);
        assert_int_equal(lk(t, a), 32);
        assert_int_equal(lk(t, IP4(10, 1, 3, 0)), 16);
        assert_int_equal(lk(t, IP4(10, 2, 0, 0)), 12);
        assert_int_equal(lk(t, IP4(10, 16, 0, 0)), 8);
        /* Replace keeps the more specific ones too. */
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 1, 2, 0), 24, 124), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 1, 2, 0), 28, 128), 0);
        assert_int_equal(lk(t, IP4(10, 1, 2, 16)), 124);
        assert_int_equal(lk(t, IP4(10, 1, 2, 4)), 128);
        assert_int_equal(lk(t, a), 32);
        assert_int_equal(mpnet_lpm4_get(t, IP4(10, 1, 2, 0), 24, &nh), 0);
        assert_int_equal(nh, 124);
        assert_int_equal(mpnet_lpm4_get(t, IP4(10, 1, 2, 0), 25, &nh), -ENOENT);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.routes, 6);
        /* Deletes fall back to the covering route, level by level. */
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 1, 2, 0), 26), -ENOENT);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 1, 2, 0), 24), 0);
        assert_int_equal(lk(t, IP4(10, 1, 2, 16)), 16);
        assert_int_equal(lk(t, IP4(10, 1, 2, 4)), 128);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 1, 2, 3), 32), 0);
        assert_int_equal(lk(t, a), 128);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 1, 2, 0), 28), 0);
        assert_int_equal(lk(t, a), 16);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl8_used, 0); /* the /24's group collapsed */
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 1, 0, 0), 16), 0);
        assert_int_equal(lk(t, a), 12);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 0, 0, 0), 12), 0);
        assert_int_equal(lk(t, a), 8);
        assert_int_equal(mpnet_lpm4_add(t, 0, 0, 99), 0);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(10, 0, 0, 0), 8), 0);
        assert_int_equal(lk(t, a), 99); /* only the /0 left */
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.routes, 1);
        mpnet_lpm4_destroy(t);
}

/* A /25 in a /24 that has no route, under a /0: the group holds the "no
 * route but the default" entries, and collapses to them. */
static void test_long_under_default(void **state)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        struct mpnet_lpm4_stats st;

        assert_int_equal(mpnet_lpm4_add(t, 0, 0, 1), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(203, 0, 113, 0), 25, 2), 0);
        assert_int_equal(lk(t, IP4(203, 0, 113, 1)), 2);
        assert_int_equal(lk(t, IP4(203, 0, 113, 129)), 1);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(203, 0, 113, 0), 25), 0);
        assert_int_equal(lk(t, IP4(203, 0, 113, 1)), 1);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl8_used, 0);
        assert_int_equal(mpnet_lpm4_delete(t, 0, 0), 0);
        assert_int_equal(lk(t, IP4(203, 0, 113, 1)), UINT32_MAX);
        mpnet_lpm4_destroy(t);
}

/* ---- tbl8 exhaustion and deferred frees ---------------------------------- */

static void test_tbl8_exhaustion(void **state)
{
        struct mpnet_lpm4_cfg c = {.max_tbl8 = 4};
        struct mpnet_lpm4 *t = mpnet_lpm4_create(&c);
        struct mpnet_lpm4_stats st;
        uint32_t nh;

        assert_non_null(t);
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 0, 0), 16, 16), 0);
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, i, 128), 25, 100 + i), 0);
        /* A fifth /24 needs a fifth group: refused, nothing changed. */
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 4, 128), 25, 104), -ENOSPC);
        assert_int_equal(mpnet_lpm4_get(t, IP4(192, 0, 4, 128), 25, &nh), -ENOENT);
        assert_int_equal(lk(t, IP4(192, 0, 4, 200)), 16);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.routes, 5);
        assert_int_equal(st.tbl8_used, 4);
        /* Inside a /24 that has its group: fine. */
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 3, 7), 32, 7), 0);
        assert_int_equal(lk(t, IP4(192, 0, 3, 7)), 7);
        assert_int_equal(lk(t, IP4(192, 0, 3, 8)), 16);
        for (unsigned i = 0; i < 4; i++) {
                assert_int_equal(lk(t, IP4(192, 0, i, 1)), 16);
                assert_int_equal(lk(t, IP4(192, 0, i, 129)), 100 + i);
        }
        /* Free one, then the fifth fits. */
        assert_int_equal(mpnet_lpm4_delete(t, IP4(192, 0, 0, 128), 25), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 4, 128), 25, 104), 0);
        assert_int_equal(lk(t, IP4(192, 0, 4, 200)), 104);
        assert_int_equal(lk(t, IP4(192, 0, 0, 200)), 16);
        mpnet_lpm4_destroy(t);
}

struct deferred {
        void (*fn[64])(void *);
        void *arg[64];
        unsigned n;
};

static void defer_record(void *ctx, void (*fn)(void *), void *arg)
{
        struct deferred *d = ctx;

        assert_true(d->n < 64);
        d->fn[d->n] = fn;
        d->arg[d->n++] = arg;
}

static void defer_run(struct deferred *d)
{
        for (unsigned i = 0; i < d->n; i++)
                d->fn[i](d->arg[i]);
        d->n = 0;
}

static void test_defer_free(void **state)
{
        struct deferred d = {0};
        struct mpnet_lpm4_cfg c = {.max_tbl8 = 1, .defer_free = defer_record, .defer_ctx = &d};
        struct mpnet_lpm4 *t = mpnet_lpm4_create(&c);
        struct mpnet_lpm4_stats st;

        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 2, 0), 26, 1), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 2, 64), 26, 2), 0);
        assert_int_equal(mpnet_lpm4_delete(t, IP4(192, 0, 2, 0), 26), 0);
        assert_int_equal(d.n, 0); /* still one route in the group */
        assert_int_equal(mpnet_lpm4_delete(t, IP4(192, 0, 2, 64), 26), 0);
        assert_int_equal(d.n, 1);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl8_used, 0);
        assert_int_equal(st.tbl8_deferred, 1);
        /* Not reused before its grace period ends. */
        assert_int_equal(mpnet_lpm4_add(t, IP4(198, 51, 100, 1), 32, 3), -ENOSPC);
        assert_int_equal(lk(t, IP4(198, 51, 100, 1)), UINT32_MAX);
        defer_run(&d);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl8_deferred, 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(198, 51, 100, 1), 32, 3), 0);
        assert_int_equal(lk(t, IP4(198, 51, 100, 1)), 3);
        assert_int_equal(lk(t, IP4(192, 0, 2, 1)), UINT32_MAX);
        mpnet_lpm4_destroy(t);
}

/* ---- walks --------------------------------------------------------------- */

struct walk_log {
        uint32_t prefix[32], nh[32];
        unsigned plen[32], n, stop_at;
};

static int walk_rec(void *arg, uint32_t prefix, unsigned plen, uint32_t nh)
{
        struct walk_log *w = arg;

        if (w->n == w->stop_at)
                return 42;
        w->prefix[w->n] = prefix;
        w->plen[w->n] = plen;
        w->nh[w->n++] = nh;
        return 0;
}

static void test_walk(void **state)
{
        static const struct {
                uint32_t p;
                unsigned l;
        } want[] = {
            {IP4(0, 0, 0, 0), 0},          {IP4(10, 0, 0, 0), 8},    {IP4(10, 0, 0, 0), 16},
            {IP4(10, 0, 0, 0), 24},        {IP4(10, 0, 0, 128), 25}, {IP4(10, 0, 0, 255), 32},
            {IP4(10, 1, 0, 0), 16},        {IP4(10, 128, 0, 0), 9},  {IP4(192, 0, 2, 0), 24},
            {IP4(255, 255, 255, 255), 32},
        };
        const unsigned n = sizeof(want) / sizeof(want[0]);
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        struct walk_log w = {.stop_at = UINT32_MAX};

        /* Added in a scrambled order. */
        for (unsigned k = 0; k < n; k++) {
                unsigned i = (k * 7) % n;

                assert_int_equal(mpnet_lpm4_add(t, want[i].p, want[i].l, i), 0);
        }
        assert_int_equal(mpnet_lpm4_walk(t, 0, 0, walk_rec, &w), 0);
        assert_int_equal(w.n, n);
        for (unsigned i = 0; i < n; i++) {
                assert_int_equal(w.prefix[i], want[i].p);
                assert_int_equal(w.plen[i], want[i].l);
                assert_int_equal(w.nh[i], i);
        }
        /* Inside 10.0.0.0/16: the /16 itself and what it holds. */
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm4_walk(t, IP4(10, 0, 9, 9), 16, walk_rec, &w), 0);
        assert_int_equal(w.n, 4);
        assert_int_equal(w.prefix[0], IP4(10, 0, 0, 0));
        assert_int_equal(w.plen[0], 16);
        assert_int_equal(w.plen[3], 32);
        /* Inside 10.0.0.0/12: no node at /12 itself. */
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm4_walk(t, IP4(10, 0, 0, 0), 12, walk_rec, &w), 0);
        assert_int_equal(w.n, 5);
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm4_walk(t, IP4(172, 16, 0, 0), 12, walk_rec, &w), 0);
        assert_int_equal(w.n, 0);
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm4_walk(t, IP4(10, 0, 0, 255), 32, walk_rec, &w), 0);
        assert_int_equal(w.n, 1);
        /* Stopping early returns the callback's value. */
        w = (struct walk_log){.stop_at = 3};
        assert_int_equal(mpnet_lpm4_walk(t, 0, 0, walk_rec, &w), 42);
        assert_int_equal(w.n, 3);
        /* After deletes, the branch points go too. */
        for (unsigned i = 0; i < n; i += 2)
                assert_int_equal(mpnet_lpm4_delete(t, want[i].p, want[i].l), 0);
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm4_walk(t, 0, 0, walk_rec, &w), 0);
        assert_int_equal(w.n, n / 2);
        for (unsigned i = 0; i < w.n; i++)
                assert_int_equal(w.prefix[i], want[2 * i + 1].p);
        mpnet_lpm4_destroy(t);
}

/* ---- bulk ------------------------------------------------------------------ */

static void check_bulk(const struct mpnet_lpm4 *t, const uint32_t *a, unsigned n)
{
        uint32_t nh[64];
        unsigned misses = 0, got;

        got = mpnet_lpm4_lookup_bulk(t, a, nh, n, 0xdead);
        for (unsigned i = 0; i < n; i++) {
                uint32_t v = lk(t, a[i]);

                misses += v == UINT32_MAX;
                assert_int_equal(nh[i], v == UINT32_MAX ? 0xdead : v);
        }
        assert_int_equal(got, misses);
}

static void test_bulk_sizes(void **state)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        uint32_t a[64];

        rng_state = 1;
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 8, 1), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 25, 2), 0);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 5), 32, 3), 0);
        for (unsigned i = 0; i < 64; i++)
                a[i] = i % 3 == 0 ? rnd32() : IP4(10, 0, 0, rnd32() & 0xff);
        for (unsigned n = 0; n <= 64; n++)
                check_bulk(t, a, n);
        assert_int_equal(mpnet_lpm4_add(t, 0, 0, 4), 0);
        for (unsigned n = 0; n <= 64; n++)
                check_bulk(t, a, n);
        mpnet_lpm4_destroy(t);
}

/* ---- the reference: one open-addressing hash table per prefix length ----- */

struct ref_len {
        uint32_t *key, *val; /* val: 0 empty, REF_TOMB deleted, else nh + 1 */
        uint32_t cap, n, used;
};

struct ref {
        struct ref_len len[33];
        uint64_t nonempty; /* bit l: some prefix of length l */
        uint64_t routes;
};

#define REF_TOMB UINT32_MAX

static inline uint32_t ref_hash(uint32_t key, uint32_t cap)
{
        return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static uint32_t *ref_slot(const struct ref_len *r, uint32_t key, bool for_insert)
{
        uint32_t i = ref_hash(key, r->cap), *tomb = NULL;

        for (;; i = (i + 1) & (r->cap - 1)) {
                if (r->val[i] == 0)
                        return for_insert && tomb != NULL ? tomb : &r->val[i];
                if (r->val[i] == REF_TOMB) {
                        if (tomb == NULL)
                                tomb = &r->val[i];
                } else if (r->key[i] == key) {
                        return &r->val[i];
                }
        }
}

static void ref_grow(struct ref_len *r)
{
        struct ref_len o = *r;

        r->cap = o.cap ? o.cap * 2 : 64;
        while (r->n * 2 >= r->cap)
                r->cap *= 2;
        r->key = calloc(r->cap, sizeof(uint32_t));
        r->val = calloc(r->cap, sizeof(uint32_t));
        assert_non_null(r->key);
        assert_non_null(r->val);
        r->used = 0;
        for (uint32_t i = 0; i < o.cap; i++) {
                if (o.val[i] != 0 && o.val[i] != REF_TOMB) {
                        uint32_t *s = ref_slot(r, o.key[i], true);

                        r->key[s - r->val] = o.key[i];
                        *s = o.val[i];
                        r->used++;
                }
        }
        free(o.key);
        free(o.val);
}

static uint32_t mask_of(unsigned l)
{
        return l == 0 ? 0 : ~0u << (32 - l);
}

static void ref_add(struct ref *f, uint32_t p, unsigned l, uint32_t nh)
{
        struct ref_len *r = &f->len[l];
        uint32_t *s;

        p &= mask_of(l);
        if ((r->used + 1) * 2 > r->cap)
                ref_grow(r);
        s = ref_slot(r, p, false);
        if (*s != 0) {
                *s = nh + 1;
                return;
        }
        s = ref_slot(r, p, true);
        r->used += *s == 0;
        r->key[s - r->val] = p;
        *s = nh + 1;
        r->n++;
        f->routes++;
        f->nonempty |= 1ull << l;
}

static int ref_del(struct ref *f, uint32_t p, unsigned l)
{
        struct ref_len *r = &f->len[l];
        uint32_t *s;

        if (r->cap == 0)
                return -ENOENT;
        s = ref_slot(r, p & mask_of(l), false);
        if (*s == 0)
                return -ENOENT;
        *s = REF_TOMB;
        r->n--;
        f->routes--;
        if (r->n == 0)
                f->nonempty &= ~(1ull << l);
        return 0;
}

static uint32_t ref_get(const struct ref *f, uint32_t p, unsigned l)
{
        const struct ref_len *r = &f->len[l];
        uint32_t v;

        if (r->n == 0)
                return UINT32_MAX;
        v = *ref_slot(r, p & mask_of(l), false);
        return v == 0 ? UINT32_MAX : v - 1;
}

/* The same answer by scanning the lengths from /32 down: slow, used where
 * few lookups are checked. */
static uint32_t ref_lookup_scan(const struct ref *f, uint32_t a)
{
        for (uint64_t m = f->nonempty; m != 0;) {
                unsigned l = 63 - (unsigned)__builtin_clzll(m);
                uint32_t v = ref_get(f, a, l);

                if (v != UINT32_MAX)
                        return v;
                m &= ~(1ull << l);
        }
        return UINT32_MAX;
}

/*
 * For many lookups, the reference flattens its routes into a sorted list of
 * (first address, answer) breakpoints: prefixes nest or are disjoint, so a
 * sweep in (address, length) order with a stack of the open prefixes gives
 * the answer between any two breakpoints. A lookup is a binary search.
 */
struct flat {
        uint32_t *start, *nh;
        size_t n;
};

/* LSD radix sort of v[0..n) by bits lo..63, a byte at a time (lo a multiple
 * of 8); tmp holds n words. */
static void radix_sort(uint64_t *v, uint64_t *tmp, size_t n, unsigned lo)
{
        for (unsigned shift = lo; shift < 64; shift += 8) {
                size_t count[257] = {0};

                for (size_t i = 0; i < n; i++)
                        count[((v[i] >> shift) & 0xff) + 1]++;
                for (unsigned b = 0; b < 256; b++)
                        count[b + 1] += count[b];
                for (size_t i = 0; i < n; i++)
                        tmp[count[(v[i] >> shift) & 0xff]++] = v[i];
                memcpy(v, tmp, n * sizeof(*v));
        }
}

static void flat_emit(struct flat *fl, uint64_t start, uint32_t nh)
{
        if (start > UINT32_MAX)
                return;
        if (fl->n > 0 && fl->start[fl->n - 1] == start)
                fl->n--; /* a later answer for the same address wins */
        fl->start[fl->n] = (uint32_t)start;
        fl->nh[fl->n++] = nh;
}

static void flat_build(const struct ref *f, struct flat *fl)
{
        /* prefix << 32 | length << 24 | nh: sorts by address, outer first */
        uint64_t *r = malloc((f->routes + 1) * sizeof(*r)), *tmp = malloc((f->routes + 1) * 8);
        uint64_t end[34];
        uint32_t nh[34];
        size_t n = 0;
        unsigned sp = 0;

        assert_non_null(r);
        assert_non_null(tmp);
        for (unsigned l = 0; l <= 32; l++)
                for (uint32_t i = 0; i < f->len[l].cap; i++) {
                        uint32_t v = f->len[l].val[i];

                        if (v != 0 && v != REF_TOMB)
                                r[n++] =
                                    (uint64_t)f->len[l].key[i] << 32 | (uint64_t)l << 24 | (v - 1);
                }
        radix_sort(r, tmp, n, 24);
        free(tmp);
        free(fl->start);
        free(fl->nh);
        fl->start = malloc((2 * n + 1) * sizeof(uint32_t));
        fl->nh = malloc((2 * n + 1) * sizeof(uint32_t));
        assert_non_null(fl->start);
        assert_non_null(fl->nh);
        fl->n = 0;
        flat_emit(fl, 0, UINT32_MAX);
        for (size_t i = 0; i <= n; i++) {
                uint64_t p = i < n ? r[i] >> 32 : (uint64_t)1 << 32;
                unsigned l = i < n ? (unsigned)(r[i] >> 24) & 63 : 0;

                /* Close the prefixes that end before this one starts. */
                while (sp > 0 && end[sp - 1] < p) {
                        sp--;
                        flat_emit(fl, end[sp] + 1, sp > 0 ? nh[sp - 1] : UINT32_MAX);
                }
                if (i == n)
                        break;
                end[sp] = p + ((uint64_t)1 << (32 - l)) - 1;
                nh[sp++] = (uint32_t)r[i] & 0xffffff;
                flat_emit(fl, p, nh[sp - 1]);
        }
        free(r);
}

static void ref_free(struct ref *f, struct flat *fl)
{
        free(fl->start);
        free(fl->nh);
        for (unsigned l = 0; l <= 32; l++) {
                free(f->len[l].key);
                free(f->len[l].val);
        }
}

/* ---- the randomised run ---------------------------------------------------- */

struct pfx {
        uint32_t p;
        uint8_t l;
};

#define HOT_24 32768u
#ifndef FULL_PREFIXES
#define FULL_PREFIXES 1000000
#endif
#ifndef FULL_LOOKUPS
#define FULL_LOOKUPS 10000000
#endif

static uint32_t hot24[HOT_24];

/* Mostly /16-/24, 30 % longer ones packed into a pool of hot /24s so that
 * they nest, 0.2 % /8-/15 and a rare /0 or /5-/7 (each of those rewrites up to
 * 2^19 entries, as in any DIR-24-8). */
static struct pfx gen_prefix(void)
{
        uint32_t r = rnd32() % 100000, l;
        uint32_t p = rnd32();

        if (r < 2)
                l = rnd32() % 4 == 0 ? 0 : 5 + rnd32() % 3;
        else if (r < 205)
                l = 8 + rnd32() % 8;
        else if (r < 70000)
                l = 16 + rnd32() % 9;
        else
                l = 25 + rnd32() % 8;
        if (l > 24)
                p = (hot24[rnd32() % HOT_24] << 8) | (p & 0xff);
        return (struct pfx){p & mask_of(l), (uint8_t)l};
}

/* An address: anywhere, in a hot /24, or in one of the prefixes. */
static uint32_t gen_addr(const struct pfx *v, size_t n)
{
        uint32_t r = rnd32() % 3, a = rnd32();
        const struct pfx *x;

        if (r == 0 || n == 0)
                return a;
        if (r == 1)
                return (hot24[rnd32() % HOT_24] << 8) | (a & 0xff);
        x = &v[rnd() % n];
        return x->p | (a & ~mask_of(x->l));
}

#define LOOKUP_CHUNK 65536u

/*
 * n lookups, single and bulk (in calls of 1 to 256 addresses), against the
 * reference. The reference answers a chunk of addresses in one sweep over
 * its breakpoints, in address order.
 */
static void check_lookups(const struct mpnet_lpm4 *t, const struct ref *f, struct flat *fl,
                          const struct pfx *v, size_t nv, uint64_t n)
{
        static uint32_t a[LOOKUP_CHUNK], nh[LOOKUP_CHUNK];
        static uint64_t order[LOOKUP_CHUNK], tmp[LOOKUP_CHUNK];

        flat_build(f, fl);
        for (uint64_t done = 0; done < n; done += LOOKUP_CHUNK) {
                unsigned c = n - done < LOOKUP_CHUNK ? (unsigned)(n - done) : LOOKUP_CHUNK;
                unsigned misses = 0, got = 0;
                size_t j = 0;

                for (unsigned i = 0; i < c; i++) {
                        a[i] = gen_addr(v, nv);
                        order[i] = (uint64_t)a[i] << 32 | i;
                }
                for (unsigned i = 0, k = 0; i < c; k++) {
                        unsigned m = 1 + (k * 37) % 256;

                        m = m < c - i ? m : c - i;
                        got += mpnet_lpm4_lookup_bulk(t, &a[i], &nh[i], m, UINT32_MAX);
                        i += m;
                }
                radix_sort(order, tmp, c, 32);
                for (unsigned s = 0; s < c; s++) {
                        unsigned i = (uint32_t)order[s];
                        uint32_t want, one = lk(t, a[i]);

                        while (j + 1 < fl->n && fl->start[j + 1] <= a[i])
                                j++;
                        want = fl->nh[j];
                        /* And the flattening against the plain scan, now and then. */
                        if (s % 64 == 0)
                                assert_int_equal(want, ref_lookup_scan(f, a[i]));
                        if (one != want || nh[i] != want)
                                fail_msg("address %08x: lookup %u, bulk %u, reference %u", a[i],
                                         one, nh[i], want);
                        misses += want == UINT32_MAX;
                }
                assert_int_equal(got, misses);
        }
}

struct walk_check {
        const struct ref *f;
        uint64_t n;
        uint32_t last_p;
        unsigned last_l;
};

static int walk_check_fn(void *arg, uint32_t p, unsigned l, uint32_t nh)
{
        struct walk_check *w = arg;

        if (w->n > 0 && (p < w->last_p || (p == w->last_p && l <= w->last_l)))
                return -1; /* out of order */
        if ((p & ~mask_of(l)) != 0 || ref_get(w->f, p, l) != nh)
                return -2;
        w->n++;
        w->last_p = p;
        w->last_l = l;
        return 0;
}

static void check_walk(const struct mpnet_lpm4 *t, const struct ref *f)
{
        struct walk_check w = {.f = f};
        struct mpnet_lpm4_stats st;

        assert_int_equal(mpnet_lpm4_walk(t, 0, 0, walk_check_fn, &w), 0);
        assert_int_equal(w.n, f->routes);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.routes, f->routes);
}

static void test_random_vs_reference(void **state)
{
        const bool q = quick();
        const size_t n_pfx = SANITIZED == 2 ? 10000 : q ? 50000 : FULL_PREFIXES;
        const uint64_t n_lookups = SANITIZED == 2 ? 100000 : q ? 500000 : FULL_LOOKUPS;
        const uint64_t seed = seed_from_env(0x6c706d34ull);
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        struct ref *f = calloc(1, sizeof(*f));
        struct pfx *v = malloc(n_pfx * sizeof(*v));
        struct flat fl = {0};
        struct mpnet_lpm4_stats st;
        double ts[6];
        size_t live;

        print_message("lpm4 random: seed %#llx, %zu prefixes, %llu lookups%s\n",
                      (unsigned long long)seed, n_pfx, (unsigned long long)n_lookups,
                      q ? " (quick)" : "");
        assert_non_null(t);
        assert_non_null(f);
        assert_non_null(v);
        rng_state = seed;
        for (unsigned i = 0; i < HOT_24; i++)
                hot24[i] = rnd32() >> 8;
        ts[0] = now_s();

        /* Insert (duplicates are replaces), with a /0 part of the time. */
        for (size_t i = 0; i < n_pfx; i++) {
                uint32_t nh = rnd32() & MPNET_LPM4_NH_MAX;

                v[i] = gen_prefix();
                assert_int_equal(mpnet_lpm4_add(t, v[i].p, v[i].l, nh), 0);
                ref_add(f, v[i].p, v[i].l, nh);
        }
        ts[1] = now_s();
        check_walk(t, f);
        check_lookups(t, f, &fl, v, n_pfx, n_lookups / 2);
        ts[2] = now_s();

        /* Delete a random half of the list; the second delete of a prefix
         * and prefixes never added give -ENOENT on both sides. */
        for (size_t i = 0; i < n_pfx / 2; i++) {
                struct pfx x = rnd32() % 16 == 0 ? gen_prefix() : v[rnd() % n_pfx];
                int want = ref_del(f, x.p, x.l);

                assert_int_equal(mpnet_lpm4_delete(t, x.p, x.l), want);
        }
        ts[3] = now_s();
        check_walk(t, f);
        check_lookups(t, f, &fl, v, n_pfx, n_lookups / 2);
        ts[4] = now_s();

        /* Re-add some: groups freed by the deletes come back. */
        for (size_t i = 0; i < n_pfx / 10; i++) {
                struct pfx x = v[rnd() % n_pfx];
                uint32_t nh = rnd32() & MPNET_LPM4_NH_MAX;

                assert_int_equal(mpnet_lpm4_add(t, x.p, x.l, nh), 0);
                ref_add(f, x.p, x.l, nh);
        }
        check_lookups(t, f, &fl, v, n_pfx, n_lookups / 20);

        /* Delete everything: no group may be left behind. */
        live = 0;
        for (size_t i = 0; i < n_pfx; i++)
                if (ref_del(f, v[i].p, v[i].l) == 0) {
                        assert_int_equal(mpnet_lpm4_delete(t, v[i].p, v[i].l), 0);
                        live++;
                }
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.routes, 0);
        assert_int_equal(st.tbl8_used, 0);
        assert_true(live > 0);
        check_lookups(t, f, &fl, v, n_pfx, 100000);
        ts[5] = now_s();
        print_message("lpm4 random: insert %.2f s, lookups %.2f s, deletes %.2f s, lookups "
                      "%.2f s, the rest %.2f s\n",
                      ts[1] - ts[0], ts[2] - ts[1], ts[3] - ts[2], ts[4] - ts[3], ts[5] - ts[4]);

        ref_free(f, &fl);
        free(f);
        free(v);
        mpnet_lpm4_destroy(t);
}

/* ---- readers racing the writer -------------------------------------------- */

/*
 * A reader looks up fixed addresses while the writer adds and deletes nested
 * routes over them, including /25s that make and collapse tbl8 groups in two
 * /24s (so a freed group is reused for the other one). defer_free is a small
 * QSBR: callbacks wait until the reader passed a quiescent state after they
 * were queued. Every answer must be one the address could have.
 */
struct race {
        struct mpnet_lpm4 *t;
        _Atomic uint64_t qs; /* the reader's quiescent states */
        _Atomic bool stop;
        _Atomic uint64_t bad, lookups;
        void (*fn[256])(void *);
        void *arg[256];
        unsigned n;
};

static void race_defer(void *ctx, void (*fn)(void *), void *arg)
{
        struct race *r = ctx;

        assert_true(r->n < 256);
        r->fn[r->n] = fn;
        r->arg[r->n++] = arg;
}

/* Wait for a grace period, then run what was deferred before it began. */
static void race_synchronize(struct race *r)
{
        uint64_t s = atomic_load(&r->qs);

        while (atomic_load(&r->qs) == s)
                sched_yield();
        for (unsigned i = 0; i < r->n; i++)
                r->fn[i](r->arg[i]);
        r->n = 0;
}

static const uint32_t race_addr[4] = {IP4(10, 1, 1, 129), IP4(10, 1, 2, 1), IP4(10, 1, 3, 1),
                                      IP4(10, 2, 0, 0)};

/* Bit set of the next hops each address may have: 1 (the /8) always. */
static const uint32_t race_ok[4] = {
    (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5),
    (1u << 1) | (1u << 2) | (1u << 6),
    (1u << 1) | (1u << 2),
    (1u << 1),
};

static void *race_reader(void *arg)
{
        struct race *r = arg;
        uint64_t bad = 0, n = 0;

        while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
                uint32_t nh[4];

                for (unsigned i = 0; i < 4; i++) {
                        uint32_t v;

                        if (mpnet_lpm4_lookup(r->t, race_addr[i], &v) != 0 || v >= 32 ||
                            (race_ok[i] & (1u << v)) == 0)
                                bad++;
                }
                mpnet_lpm4_lookup_bulk(r->t, race_addr, nh, 4, 0);
                for (unsigned i = 0; i < 4; i++)
                        if (nh[i] >= 32 || (race_ok[i] & (1u << nh[i])) == 0)
                                bad++;
                n++;
                atomic_fetch_add_explicit(&r->qs, 1, memory_order_seq_cst);
        }
        atomic_store(&r->bad, bad);
        atomic_store(&r->lookups, n * 8);
        return NULL;
}

static void test_concurrent_readers(void **state)
{
        static struct race r;
        struct mpnet_lpm4_cfg c = {.max_tbl8 = 2, .defer_free = race_defer, .defer_ctx = &r};
        const unsigned max_rounds = quick() ? 2000 : 20000;
        unsigned rounds = 0;
        struct timespec t0, t1;
        pthread_t th;

        memset(&r, 0, sizeof(r));
        r.t = mpnet_lpm4_create(&c);
        assert_non_null(r.t);
        assert_int_equal(mpnet_lpm4_add(r.t, IP4(10, 0, 0, 0), 8, 1), 0);
        assert_int_equal(pthread_create(&th, NULL, race_reader, &r), 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* At most about a second: on a loaded machine each grace period waits
         * for the reader to be scheduled. */
        for (unsigned i = 0; i < max_rounds; i++) {
                /* Alternate which /24 gets a group first, so groups move. */
                uint32_t first = i % 2 ? IP4(10, 1, 1, 128) : IP4(10, 1, 2, 0);
                uint32_t second = i % 2 ? IP4(10, 1, 2, 0) : IP4(10, 1, 1, 128);
                uint32_t nh1 = i % 2 ? 4 : 6, nh2 = i % 2 ? 6 : 4;

                assert_int_equal(mpnet_lpm4_add(r.t, IP4(10, 1, 0, 0), 16, 2), 0);
                assert_int_equal(mpnet_lpm4_add(r.t, IP4(10, 1, 1, 0), 24, 3), 0);
                assert_int_equal(mpnet_lpm4_add(r.t, first, 25, nh1), 0);
                assert_int_equal(mpnet_lpm4_add(r.t, second, 25, nh2), 0);
                assert_int_equal(mpnet_lpm4_add(r.t, IP4(10, 1, 1, 129), 32, 5), 0);
                assert_int_equal(mpnet_lpm4_delete(r.t, IP4(10, 1, 1, 0), 24), 0);
                assert_int_equal(mpnet_lpm4_delete(r.t, IP4(10, 1, 1, 129), 32), 0);
                assert_int_equal(mpnet_lpm4_delete(r.t, first, 25), 0);
                assert_int_equal(mpnet_lpm4_delete(r.t, second, 25), 0);
                assert_int_equal(mpnet_lpm4_delete(r.t, IP4(10, 1, 0, 0), 16), 0);
                race_synchronize(&r);
                rounds = i + 1;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                if (rounds >= 100 &&
                    (t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec) >=
                        1000000000ll)
                        break;
        }
        atomic_store(&r.stop, true);
        pthread_join(th, NULL);
        print_message("lpm4 race: %u rounds, %llu reader lookups\n", rounds,
                      (unsigned long long)atomic_load(&r.lookups));
        assert_int_equal(atomic_load(&r.bad), 0);
        assert_true(atomic_load(&r.lookups) > 0);
        mpnet_lpm4_destroy(r.t);
}

/* ---- memory ------------------------------------------------------------------ */

static void test_memory_cost(void **state)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);
        struct mpnet_lpm4_stats st;

        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl24_bytes, 0);
        assert_int_equal(st.tbl8_bytes, 0);
        assert_true(st.mem_bytes < 16 * 1024);
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 2, 0), 24, 1), 0);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl24_bytes, 4096);
        assert_int_equal(mpnet_lpm4_add(t, IP4(10, 0, 0, 0), 8, 1), 0);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl24_bytes, 4096 + 256 * 1024);
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 2, 1), 32, 1), 0);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl8_bytes, 4096);
        assert_int_equal(st.tbl8_used, 1);
        mpnet_lpm4_destroy(t);
}

/* ---- page size ---------------------------------------------------------------- */

/* A /24 in each of the first k 4 KiB pages of tbl24's region 8.0.0.0/5. */
static void fill_pages(struct mpnet_lpm4 *t, unsigned from, unsigned to)
{
        for (unsigned k = from; k < to; k++)
                assert_int_equal(mpnet_lpm4_add(t, IP4(8, 0, 0, 0) + (k << 18), 24, 100 + k), 0);
}

/* A table made with c after fill_pages(0, pages): its huge regions and tbl24
 * bytes as expected. */
static struct mpnet_lpm4 *filled(const struct mpnet_lpm4_cfg *c, unsigned pages, uint32_t huge,
                                 uint64_t bytes)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(c);
        struct mpnet_lpm4_stats st;

        assert_non_null(t);
        fill_pages(t, 0, pages);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.huge_regions, huge);
        assert_int_equal(st.tbl24_bytes, bytes);
        return t;
}

static void test_page_promotion(void **state)
{
        struct mpnet_lpm4_cfg both = {.flags = MPNET_LPM4_F_HUGEPAGE | MPNET_LPM4_F_SMALLPAGES};
        struct mpnet_lpm4_cfg small = {.flags = MPNET_LPM4_F_SMALLPAGES};
        struct mpnet_lpm4_cfg huge = {.flags = MPNET_LPM4_F_HUGEPAGE};
        const bool collapses = thp_collapses_now();
        struct mpnet_lpm4 *t;
        struct mpnet_lpm4_stats st;

        errno = 0;
        assert_null(mpnet_lpm4_create(&both));
        assert_int_equal(errno, EINVAL);

        /* Default: 4 KiB pages while sparse; the 256th page written of a 2
         * MiB region (half of it) has the kernel collapse the region into a
         * huge page. */
        t = filled(NULL, 255, 0, 255 * 4096);
        fill_pages(t, 255, 256);
        mpnet_lpm4_get_stats(t, &st);
        if (collapses) {
                assert_int_equal(st.huge_regions, 1);
                assert_int_equal(st.tbl24_bytes, 2u << 20);
                assert_true(anon_huge_kb(tbl24_addr(&t->tbl24, 8u << 16)) >= 2048);
        } else {
                print_message("no collapse to be had here (Linux < 6.1, THP off or no huge "
                              "page free): the region stays on 4 KiB pages\n");
                assert_int_equal(st.huge_regions, 0);
                assert_int_equal(st.tbl24_bytes, 256 * 4096);
        }
        fill_pages(t, 256, 300); /* more in the same region: no second try */
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.huge_regions, collapses ? 1 : 0);
        for (unsigned k = 0; k < 300; k++) {
                assert_int_equal(lk(t, IP4(8, 0, 0, 77) + (k << 18)), 100 + k);
                assert_int_equal(lk(t, IP4(8, 0, 1, 0) + (k << 18)), UINT32_MAX);
        }
        /* A region of another part of the table is untouched by that. */
        assert_int_equal(mpnet_lpm4_add(t, IP4(192, 0, 2, 0), 24, 7), 0);
        mpnet_lpm4_get_stats(t, &st);
        assert_int_equal(st.tbl24_bytes, (collapses ? 2u << 20 : 300 * 4096) + 4096);
        mpnet_lpm4_destroy(t);

        /* The kernel refuses (THP off for the process after the table was
         * made): the region stays as it was, on 4 KiB pages, and says so. */
        if (collapses) {
                t = filled(NULL, 255, 0, 255 * 4096);
                assert_int_equal(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0), 0);
                fill_pages(t, 255, 300);
                assert_int_equal(prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0), 0);
                mpnet_lpm4_get_stats(t, &st);
                assert_int_equal(st.huge_regions, 0);
                assert_int_equal(st.huge_refused, 1);
                assert_int_equal(st.tbl24_bytes, 300 * 4096);
                assert_int_equal(anon_huge_kb(tbl24_addr(&t->tbl24, 8u << 16)), 0);
                for (unsigned k = 0; k < 300; k++)
                        assert_int_equal(lk(t, IP4(8, 0, 0, 77) + (k << 18)), 100 + k);
                mpnet_lpm4_destroy(t);
        }

        /* F_SMALLPAGES: never. */
        t = filled(&small, 512, 0, 512 * 4096);
        assert_int_equal(anon_huge_kb(tbl24_addr(&t->tbl24, 8u << 16)), 0);
        mpnet_lpm4_destroy(t);

        /* F_HUGEPAGE: from the first write (the accounting; the kernel
         * backs it with a huge page where it has one). */
        t = filled(&huge, 1, 1, 2u << 20);
        mpnet_lpm4_destroy(t);
}

/* Readers of a region while the writer's 256th page has it collapsed into a
 * huge page: every answer stays right. The writer waits for the reader to be
 * looking up before and after the collapse. */
struct promote_race {
        struct mpnet_lpm4 *t;
        atomic_bool stop;
        atomic_ulong calls, bad;
};

static void *promote_reader(void *arg)
{
        struct promote_race *r = arg;
        unsigned long n = 0, bad = 0;

        while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
                uint32_t a[32], nh[32];

                for (unsigned k = 0; k < 32; k++)
                        a[k] = IP4(8, 0, 0, 9) + (((n + k * 7) % 200) << 18);
                mpnet_lpm4_lookup_bulk(r->t, a, nh, 32, UINT32_MAX);
                for (unsigned k = 0; k < 32; k++)
                        bad += nh[k] != 100 + (a[k] - IP4(8, 0, 0, 9)) / (1u << 18);
                n++;
                atomic_store_explicit(&r->calls, n, memory_order_relaxed);
        }
        atomic_store(&r->bad, bad);
        return NULL;
}

/* Until the reader made 100 more calls (or 2 s passed). */
static void reader_runs(struct promote_race *r)
{
        unsigned long c0 = atomic_load(&r->calls);
        double t0 = now_s();

        while (atomic_load(&r->calls) < c0 + 100 && now_s() - t0 < 2.0)
                sched_yield();
}

static void test_promotion_under_readers(void **state)
{
        static struct promote_race r;
        const bool collapses = thp_collapses_now();
        unsigned long calls = 0;
        pthread_t th;

        for (unsigned round = 0; round < 3; round++) {
                struct mpnet_lpm4_stats st;

                memset(&r, 0, sizeof(r));
                r.t = mpnet_lpm4_create(NULL);
                assert_non_null(r.t);
                fill_pages(r.t, 0, 255);
                assert_int_equal(pthread_create(&th, NULL, promote_reader, &r), 0);
                reader_runs(&r);
                fill_pages(r.t, 255, 512); /* the 256th page: the collapse */
                reader_runs(&r);
                atomic_store(&r.stop, true);
                pthread_join(th, NULL);
                assert_int_equal(atomic_load(&r.bad), 0);
                mpnet_lpm4_get_stats(r.t, &st);
                assert_int_equal(st.huge_regions, collapses ? 1 : 0);
                calls += atomic_load(&r.calls);
                mpnet_lpm4_destroy(r.t);
        }
        print_message("promotion race: %lu reader calls in 3 rounds%s\n", calls,
                      collapses ? "" : " (no collapse here: the region stayed on 4 KiB pages)");
}

/* ---- unwritten tbl24 ------------------------------------------------------ */

/* A table of n routes: /24s and /16s at random, a /26 every 64th. */
static struct mpnet_lpm4 *sparse_table(unsigned n)
{
        struct mpnet_lpm4 *t = mpnet_lpm4_create(NULL);

        assert_non_null(t);
        assert_int_equal(mpnet_lpm4_add(t, IP4(1, 0, 0, 0), 24, 1), 0); /* page 64 */
        for (unsigned k = 1; k < n; k++) {
                uint32_t a = (uint32_t)(rnd() >> 32);
                unsigned plen = k % 64 == 0 ? 26 : k % 8 == 0 ? 16 : 24;

                assert_int_equal(mpnet_lpm4_add(t, a, plen, k), 0);
        }
        return t;
}

/* Lookups of unrouted space, one address in every 4 KiB page of tbl24,
 * single and bulk, map no page of it: each page never written stays
 * unmapped (a read there would map the kernel's zero page, which a
 * shadow-paging VM makes cost thousands of cycles a lookup). */
static void test_unrouted_lookups_map_nothing(void **state)
{
        struct mpnet_lpm4 *t = sparse_table(1000);
        const uint8_t *base = tbl24_base(&t->tbl24, IP4(1, 0, 0, 0) >> 8);
        long before = tbl24_mapped_pages(base), after;
        uint32_t a[256], nh[256], sum = 0;

        assert_true(before > 0 && before < 1200);
        for (uint32_t pg = 0; pg < 16384; pg++)
                sum += lk(t, pg << 18 | 0x2a5a5);
        for (uint32_t pg = 0; pg < 16384; pg += 256) {
                for (unsigned k = 0; k < 256; k++)
                        a[k] = (pg + k) << 18 | 0x15a5a;
                (void)mpnet_lpm4_lookup_bulk(t, a, nh, 256, 0);
                sum += nh[0];
        }
        after = tbl24_mapped_pages(base);
        print_message("tbl24 pages mapped: %ld before 32768 lookups, %ld after (sum %u)\n", before,
                      after, sum);
        assert_int_equal(after, before);
        assert_null(atomic_load(&t->tbl24.dense));
        mpnet_lpm4_destroy(t);
}

/* Half of tbl24 resident: all of it is made resident and indexed directly,
 * and readers looking up all the while get every answer right. */
struct dense_race {
        struct mpnet_lpm4 *t;
        atomic_uint pages; /* /24s added: page k holds one at (k << 18) */
        atomic_bool stop;
        atomic_ulong calls, bad;
};

static void *dense_reader(void *arg)
{
        struct dense_race *r = arg;
        unsigned long n = 0, bad = 0;
        uint64_t x = 0x9e3779b97f4a7c15ull;

        while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
                unsigned done = atomic_load_explicit(&r->pages, memory_order_acquire);
                uint32_t a[32], nh[32];

                for (unsigned k = 0; k < 32; k++) {
                        x = x * 6364136223846793005ull + 1442695040888963407ull;
                        a[k] = (uint32_t)(x >> 50) % 16384 << 18 | (k & 1 ? 0x77 : 0x100);
                }
                mpnet_lpm4_lookup_bulk(r->t, a, nh, 32, UINT32_MAX);
                for (unsigned k = 0; k < 32; k++) {
                        uint32_t pg = a[k] >> 18, want = k & 1 ? 1000 + pg : UINT32_MAX;

                        /* Added before the load of pages: must be there;
                         * after it: either answer. */
                        if (pg < done ? nh[k] != want : nh[k] != want && nh[k] != UINT32_MAX)
                                bad++;
                }
                n++;
                atomic_store_explicit(&r->calls, n, memory_order_relaxed);
        }
        atomic_store(&r->bad, bad);
        return NULL;
}

static void test_dense_under_readers(void **state)
{
        static struct dense_race r;
        struct mpnet_lpm4_stats st;
        unsigned k = 0;
        pthread_t th;

        memset(&r, 0, sizeof(r));
        r.t = mpnet_lpm4_create(NULL);
        assert_non_null(r.t);
        assert_int_equal(pthread_create(&th, NULL, dense_reader, &r), 0);
        for (; k < 16384 && atomic_load(&r.t->tbl24.dense) == NULL; k++) {
                assert_int_equal(mpnet_lpm4_add(r.t, k << 18, 24, 1000 + k), 0);
                atomic_store_explicit(&r.pages, k + 1, memory_order_release);
                if (k % 1024 == 0)
                        sched_yield();
        }
        for (unsigned long c0 = atomic_load(&r.calls); atomic_load(&r.calls) < c0 + 100;)
                sched_yield();
        atomic_store(&r.stop, true);
        pthread_join(th, NULL);
        mpnet_lpm4_get_stats(r.t, &st);
        print_message("dense after %u pages written: %lu reader calls, %u huge regions, tbl24 %llu "
                      "MiB\n",
                      k, atomic_load(&r.calls), st.huge_regions,
                      (unsigned long long)(st.tbl24_bytes >> 20));
        assert_int_equal(atomic_load(&r.bad), 0);
        assert_non_null(atomic_load(&r.t->tbl24.dense));
        assert_true(k <= 8192);
        assert_int_equal(st.tbl24_bytes, 64u << 20);
        assert_int_equal(tbl24_mapped_pages(tbl24_base(&r.t->tbl24, 0)), 16384);
        for (uint32_t pg = 0; pg < 16384; pg++) {
                assert_int_equal(lk(r.t, pg << 18 | 0x42), pg < k ? 1000 + pg : UINT32_MAX);
                assert_int_equal(lk(r.t, pg << 18 | 0x142), UINT32_MAX);
        }
        /* Dense from now on: a route goes straight into the array. */
        assert_int_equal(mpnet_lpm4_add(r.t, IP4(255, 255, 255, 0), 24, 5), 0);
        assert_int_equal(lk(r.t, IP4(255, 255, 255, 9)), 5);
        mpnet_lpm4_destroy(r.t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_empty_and_default),
            cmocka_unit_test(test_bad_args),
            cmocka_unit_test(test_host_routes),
            cmocka_unit_test(test_boundary_24),
            cmocka_unit_test(test_nested_replace_delete),
            cmocka_unit_test(test_long_under_default),
            cmocka_unit_test(test_tbl8_exhaustion),
            cmocka_unit_test(test_defer_free),
            cmocka_unit_test(test_walk),
            cmocka_unit_test(test_bulk_sizes),
            cmocka_unit_test(test_memory_cost),
            cmocka_unit_test(test_page_promotion),
            cmocka_unit_test(test_promotion_under_readers),
            cmocka_unit_test(test_unrouted_lookups_map_nothing),
            cmocka_unit_test(test_dense_under_readers),
            cmocka_unit_test(test_concurrent_readers),
            cmocka_unit_test(test_random_vs_reference),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
