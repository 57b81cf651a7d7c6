/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 longest-prefix match (mpnet/lpm6.h): edge cases, group exhaustion and
 * deferred frees, RIB walks, bulk lookups, memory figures, and a randomised
 * run against a naive reference (one hash table per prefix length; many
 * lookups are answered by a sweep over its flattened routes).
 *
 * The randomised run takes 1M prefixes and 10M lookups; with
 * MPNET_TEST_QUICK set, or under ASan, 50k and 500k; under TSan 10k and 100k.
 * MPNET_TEST_SEED picks the seed (printed either way). Readers racing the
 * writer are in test_lpm6_mt.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "mpnet/lpm6.h"
#include "test_rand.h"
#include "thp_util.h"

typedef unsigned __int128 u128;

static u128 rnd128(void)
{
        return (u128)rnd() << 64 | rnd();
}

static u128 mask_of(unsigned l)
{
        return l == 0 ? 0 : ~(u128)0 << (128 - l);
}

struct a6 {
        uint8_t b[16];
};

static struct a6 a6_of(u128 k)
{
        struct a6 a;

        for (unsigned i = 0; i < 16; i++)
                a.b[i] = (uint8_t)(k >> (120 - 8 * i));
        return a;
}

static u128 key_of(const uint8_t *b)
{
        u128 k = 0;

        for (unsigned i = 0; i < 16; i++)
                k = k << 8 | b[i];
        return k;
}

/* An address from its text form. */
static struct a6 A(const char *s) {
        struct a6 a;

        assert_int_equal(inet_pton(AF_INET6, s, a.b), 1);
        return a;
}

static uint32_t
lk(const struct mpnet_lpm6 *t, const char *s)
{
        uint32_t nh = 0;

        return mpnet_lpm6_lookup(t, A(s).b, &nh) == 0 ? nh : UINT32_MAX;
}

static uint32_t lkk(const struct mpnet_lpm6 *t, u128 k)
{
        uint32_t nh = 0;

        return mpnet_lpm6_lookup(t, a6_of(k).b, &nh) == 0 ? nh : UINT32_MAX;
}

static int add(struct mpnet_lpm6 *t, const char *s, unsigned plen, uint32_t nh)
{
        return mpnet_lpm6_add(t, A(s).b, plen, nh);
}

static int del(struct mpnet_lpm6 *t, const char *s, unsigned plen)
{
        return mpnet_lpm6_delete(t, A(s).b, plen);
}

static struct mpnet_lpm6_stats stats(const struct mpnet_lpm6 *t)
{
        struct mpnet_lpm6_stats st;

        mpnet_lpm6_get_stats(t, &st);
        return st;
}

/* ---- edge cases --------------------------------------------------------- */

static void test_empty_and_default(void **state)
{
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);
        uint32_t nh;

        assert_non_null(t);
        assert_int_equal(mpnet_lpm6_lookup(t, A("2001:db8::1").b, &nh), -ENOENT);
        assert_int_equal(del(t, "::", 0), -ENOENT);
        assert_int_equal(add(t, "2001:db8::1", 0, 7), 0); /* host bits ignored */
        assert_int_equal(lk(t, "::"), 7);
        assert_int_equal(lk(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 7);
        assert_int_equal(mpnet_lpm6_get(t, A("::").b, 0, &nh), 0);
        assert_int_equal(nh, 7);
        assert_int_equal(stats(t).routes, 1);
        assert_int_equal(stats(t).tbl24_bytes, 0); /* a default route costs no table */
        assert_true(stats(t).mem_bytes < 16 * 1024);
        assert_int_equal(add(t, "::", 0, 8), 0); /* replace */
        assert_int_equal(lk(t, "2001:db8::1"), 8);
        assert_int_equal(del(t, "::", 0), 0);
        assert_int_equal(lk(t, "2001:db8::1"), UINT32_MAX);
        assert_int_equal(del(t, "::", 0), -ENOENT);
        assert_int_equal(stats(t).routes, 0);
        mpnet_lpm6_destroy(t);
}

static void test_bad_args(void **state)
{
        struct mpnet_lpm6_cfg c = {.max_tbl8 = MPNET_LPM6_TBL8_MAX + 1};
        struct mpnet_lpm6 *t;
        uint32_t nh;

        assert_null(mpnet_lpm6_create(&c));
        assert_int_equal(errno, EINVAL);
        c = (struct mpnet_lpm6_cfg){.flags = 1u << 7};
        assert_null(mpnet_lpm6_create(&c));
        assert_int_equal(errno, EINVAL);
        t = mpnet_lpm6_create(NULL);
        assert_non_null(t);
        assert_int_equal(add(t, "2001:db8::", 129, 1), -EINVAL);
        assert_int_equal(add(t, "2001:db8::", 32, MPNET_LPM6_NH_MAX + 1), -EINVAL);
        assert_int_equal(add(t, "2001:db8::", 32, MPNET_LPM6_NH_MAX), 0);
        assert_int_equal(lk(t, "2001:db8:ffff::1"), MPNET_LPM6_NH_MAX);
        assert_int_equal(del(t, "2001:db8::", 129), -EINVAL);
        assert_int_equal(mpnet_lpm6_get(t, A("2001:db8::").b, 200, &nh), -EINVAL);
        assert_int_equal(mpnet_lpm6_walk(t, A("::").b, 129, NULL, NULL), -EINVAL);
        assert_int_equal(stats(t).routes, 1);
        mpnet_lpm6_destroy(t);
        mpnet_lpm6_destroy(NULL);
}

static void test_host_routes(void **state)
{
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);

        assert_int_equal(add(t, "2001:db8::1", 128, 1), 0);
        assert_int_equal(add(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128, 2), 0);
        assert_int_equal(add(t, "::", 128, 3), 0);
        assert_int_equal(lk(t, "2001:db8::1"), 1);
        assert_int_equal(lk(t, "2001:db8::"), UINT32_MAX);
        assert_int_equal(lk(t, "2001:db8::2"), UINT32_MAX);
        assert_int_equal(lk(t, "2001:db8:0:0:1::1"), UINT32_MAX);
        assert_int_equal(lk(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 2);
        assert_int_equal(lk(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), UINT32_MAX);
        assert_int_equal(lk(t, "::"), 3);
        assert_int_equal(lk(t, "::1"), UINT32_MAX);
        /* A /128 alone under its /24 takes a group at each of the 13 levels. */
        assert_int_equal(stats(t).tbl8_used, 3 * 13);
        assert_int_equal(del(t, "2001:db8::1", 128), 0);
        assert_int_equal(del(t, "2001:db8::1", 128), -ENOENT);
        assert_int_equal(del(t, "2001:db8::2", 128), -ENOENT);
        assert_int_equal(lk(t, "2001:db8::1"), UINT32_MAX);
        assert_int_equal(stats(t).tbl8_used, 2 * 13);
        /* Two /128s sharing 15 bytes share 13 groups. */
        assert_int_equal(add(t, "::2", 128, 4), 0);
        assert_int_equal(stats(t).tbl8_used, 2 * 13);
        assert_int_equal(lk(t, "::2"), 4);
        assert_int_equal(lk(t, "::"), 3);
        assert_int_equal(del(t, "::", 128), 0);
        assert_int_equal(del(t, "::2", 128), 0);
        assert_int_equal(del(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128), 0);
        assert_int_equal(stats(t).tbl8_used, 0);
        assert_int_equal(stats(t).routes, 0);
        mpnet_lpm6_destroy(t);
}

/* Lengths on both sides of every level boundary: /24, /25, /32, /33, /64,
 * /65, /120, /121. */
static void test_level_boundaries(void **state)
{
        static const unsigned len[] = {23, 24, 25, 31, 32, 33, 63, 64, 65, 119, 120, 121, 127};
        const unsigned n = sizeof(len) / sizeof(len[0]);
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);
        u128 base = key_of(A("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff").b);

        for (unsigned i = 0; i < n; i++)
                assert_int_equal(mpnet_lpm6_add(t, a6_of(base).b, len[i], len[i]), 0);
        for (unsigned i = 0; i < n; i++) {
                /* Flip the first bit after the prefix: in len[i], in none of
                 * the longer ones. */
                u128 out = base ^ ((u128)1 << (127 - len[i]));

                assert_int_equal(lkk(t, out), len[i]);
        }
        assert_int_equal(lkk(t, base), 127);
        assert_int_equal(lkk(t, base ^ ((u128)1 << (127 - 22))), UINT32_MAX); /* outside /23 */
        /* Delete from the inside out: each falls back to the next shorter. */
        for (unsigned i = n; i-- > 1;) {
                assert_int_equal(mpnet_lpm6_delete(t, a6_of(base).b, len[i]), 0);
                assert_int_equal(lkk(t, base), len[i - 1]);
        }
        assert_int_equal(stats(t).tbl8_used, 0);
        assert_int_equal(mpnet_lpm6_delete(t, a6_of(base).b, len[0]), 0);
        assert_int_equal(lkk(t, base), UINT32_MAX);
        mpnet_lpm6_destroy(t);
}

static void test_nested_replace_delete(void **state)
{
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);
        const char *a = "2001:db8:1:2::3";
        uint32_t nh;

        assert_int_equal(add(t, "2001:db8::", 32, 32), 0);
        assert_int_equal(add(t, "2001:db8:1::", 48, 48), 0);
        assert_int_equal(add(t, "2001:db8:1:2::", 64, 64), 0);
        assert_int_equal(add(t, "2001:db8:1:2::", 96, 96), 0);
        assert_int_equal(add(t, a, 128, 128), 0);
        assert_int_equal(lk(t, a), 128);
        assert_int_equal(lk(t, "2001:db8:1:2::4"), 96);
        assert_int_equal(lk(t, "2001:db8:1:2:0:1::"), 64);
        assert_int_equal(lk(t, "2001:db8:1:3::"), 48);
        assert_int_equal(lk(t, "2001:db8:2::"), 32);
        assert_int_equal(lk(t, "2001:db9::"), UINT32_MAX);
        /* A shorter route added later does not hide the longer ones. */
        assert_int_equal(add(t, "2001:db8::", 40, 40), 0);
        assert_int_equal(add(t, "2001::", 16, 16), 0);
        assert_int_equal(lk(t, a), 128);
        assert_int_equal(lk(t, "2001:db8:1:3::"), 48);
        assert_int_equal(lk(t, "2001:db8:2::"), 40);
        assert_int_equal(lk(t, "2001:db8:100::"), 32);
        assert_int_equal(lk(t, "2001:db9::"), 16);
        /* Replace keeps the more specific ones too. */
        assert_int_equal(add(t, "2001:db8:1::", 48, 148), 0);
        assert_int_equal(add(t, "2001:db8:1:2::", 96, 196), 0);
        assert_int_equal(add(t, "2001::", 16, 116), 0);
        assert_int_equal(lk(t, "2001:db8:1:3::"), 148);
        assert_int_equal(lk(t, "2001:db8:1:2::4"), 196);
        assert_int_equal(lk(t, a), 128);
        assert_int_equal(lk(t, "2001:db9::"), 116);
        assert_int_equal(lk(t, "2001:db8:2::"), 40);
        assert_int_equal(mpnet_lpm6_get(t, A("2001:db8:1::").b, 48, &nh), 0);
        assert_int_equal(nh, 148);
        assert_int_equal(mpnet_lpm6_get(t, A("2001:db8:1::").b, 47, &nh), -ENOENT);
        assert_int_equal(stats(t).routes, 7);
        /* Deletes fall back to the covering route, level by level. */
        assert_int_equal(del(t, "2001:db8:1::", 56), -ENOENT);
        assert_int_equal(del(t, "2001:db8:1::", 48), 0);
        assert_int_equal(lk(t, "2001:db8:1:3::"), 40);
        assert_int_equal(lk(t, "2001:db8:1:2::4"), 196);
        assert_int_equal(del(t, a, 128), 0);
        assert_int_equal(lk(t, a), 196);
        assert_int_equal(del(t, "2001:db8:1:2::", 96), 0);
        assert_int_equal(lk(t, a), 64);
        assert_int_equal(del(t, "2001:db8:1:2::", 64), 0);
        assert_int_equal(lk(t, a), 40);
        assert_int_equal(stats(t).tbl8_used, 2); /* the /32 and /40 levels remain */
        assert_int_equal(del(t, "2001:db8::", 40), 0);
        assert_int_equal(lk(t, a), 32);
        assert_int_equal(stats(t).tbl8_used, 1);
        assert_int_equal(del(t, "2001:db8::", 32), 0);
        assert_int_equal(lk(t, a), 116);
        assert_int_equal(stats(t).tbl8_used, 0); /* every group collapsed */
        assert_int_equal(add(t, "::", 0, 99), 0);
        assert_int_equal(del(t, "2001::", 16), 0);
        assert_int_equal(lk(t, a), 99); /* only the /0 left */
        assert_int_equal(stats(t).routes, 1);
        mpnet_lpm6_destroy(t);
}

/* Long routes in a /24 that has no route, under a /0: the groups hold "no
 * route but the default" and collapse back to it. */
static void test_long_under_default(void **state)
{
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);

        assert_int_equal(add(t, "::", 0, 1), 0);
        assert_int_equal(add(t, "2001:db8:0:1::", 64, 2), 0);
        assert_int_equal(lk(t, "2001:db8:0:1::1"), 2);
        assert_int_equal(lk(t, "2001:db8:0:2::1"), 1);
        assert_int_equal(stats(t).tbl8_used, 5);
        assert_int_equal(del(t, "2001:db8:0:1::", 64), 0);
        assert_int_equal(lk(t, "2001:db8:0:1::1"), 1);
        assert_int_equal(stats(t).tbl8_used, 0);
        assert_int_equal(del(t, "::", 0), 0);
        assert_int_equal(lk(t, "2001:db8:0:1::1"), UINT32_MAX);
        mpnet_lpm6_destroy(t);
}

/* ---- group exhaustion and deferred frees --------------------------------- */

static void test_tbl8_exhaustion(void **state)
{
        struct mpnet_lpm6_cfg c = {.max_tbl8 = 7};
        struct mpnet_lpm6 *t = mpnet_lpm6_create(&c);
        uint32_t nh;

        assert_non_null(t);
        assert_int_equal(stats(t).tbl8_max, 7);
        assert_int_equal(add(t, "2001:db8::", 32, 32), 0);   /* level 1 */
        assert_int_equal(add(t, "2001:db8:1::", 48, 48), 0); /* levels 2, 3 */
        assert_int_equal(add(t, "2001:db8:1::", 80, 80), 0); /* levels 4 to 7 */
        assert_int_equal(stats(t).tbl8_used, 7);
        /* Needs the groups of levels 5 and 6: refused, nothing changed. */
        assert_int_equal(add(t, "2001:db8:1:100::", 72, 72), -ENOSPC);
        assert_int_equal(mpnet_lpm6_get(t, A("2001:db8:1:100::").b, 72, &nh), -ENOENT);
        assert_int_equal(add(t, "2002::", 25, 25), -ENOSPC); /* a new /24: level 1 */
        assert_int_equal(add(t, "2001:db8:1::", 128, 128), -ENOSPC);
        assert_int_equal(lk(t, "2001:db8:1:100::1"), 48);
        assert_int_equal(lk(t, "2002::1"), UINT32_MAX);
        assert_int_equal(lk(t, "2001:db8:1::"), 80);
        assert_int_equal(stats(t).routes, 3);
        assert_int_equal(stats(t).tbl8_used, 7);
        /* Inside the groups there are: fine, also over EXT entries. */
        assert_int_equal(add(t, "2001:db8::", 40, 40), 0);
        assert_int_equal(add(t, "2001:db8:1::", 64, 64), 0);
        assert_int_equal(add(t, "2001:db8:1::", 120, 120), -ENOSPC);
        assert_int_equal(lk(t, "2001:db8:2::1"), 40);
        assert_int_equal(lk(t, "2001:db8:1::1"), 80);
        assert_int_equal(lk(t, "2001:db8:1::1:0:0:1"), 64);
        assert_int_equal(lk(t, "2001:db8:1:1::"), 48);
        assert_int_equal(lk(t, "2001:db8:100::"), 32);
        assert_int_equal(stats(t).routes, 5);
        /* Free the /80's groups (the /64 keeps levels 4 and 5), then the
         * /72 fits. */
        assert_int_equal(del(t, "2001:db8:1::", 80), 0);
        assert_int_equal(stats(t).tbl8_used, 5);
        assert_int_equal(add(t, "2001:db8:1:100::", 72, 72), 0);
        assert_int_equal(stats(t).tbl8_used, 7);
        assert_int_equal(lk(t, "2001:db8:1:100::1"), 72);
        assert_int_equal(lk(t, "2001:db8:1::1"), 64);
        mpnet_lpm6_destroy(t);
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
        struct mpnet_lpm6_cfg c = {.max_tbl8 = 3, .defer_free = defer_record, .defer_ctx = &d};
        struct mpnet_lpm6 *t = mpnet_lpm6_create(&c);

        assert_int_equal(add(t, "2001:db8:1::", 48, 1), 0);
        assert_int_equal(add(t, "2001:db8:2::", 48, 2), 0);
        assert_int_equal(stats(t).tbl8_used, 3);
        assert_int_equal(del(t, "2001:db8:1::", 48), 0);
        assert_int_equal(d.n, 0); /* still one route in the groups */
        assert_int_equal(del(t, "2001:db8:2::", 48), 0);
        assert_int_equal(d.n, 3); /* the whole chain */
        assert_int_equal(stats(t).tbl8_used, 0);
        assert_int_equal(stats(t).tbl8_deferred, 3);
        /* Not reused before its grace period ends. */
        assert_int_equal(add(t, "2001:db8:1::", 28, 3), -ENOSPC);
        assert_int_equal(lk(t, "2001:db8:1::"), UINT32_MAX);
        defer_run(&d);
        assert_int_equal(stats(t).tbl8_deferred, 0);
        assert_int_equal(add(t, "2001:db8:1::", 128, 3), -ENOSPC); /* 13 > 3 */
        assert_int_equal(add(t, "2001:db8:1::", 48, 3), 0);
        assert_int_equal(lk(t, "2001:db8:1::"), 3);
        assert_int_equal(lk(t, "2001:db8:2::"), UINT32_MAX);
        mpnet_lpm6_destroy(t);
}

/* ---- walks --------------------------------------------------------------- */

struct walk_log {
        struct a6 prefix[32];
        uint32_t nh[32];
        unsigned plen[32], n, stop_at;
};

static int walk_rec(void *arg, const uint8_t prefix[16], unsigned plen, uint32_t nh)
{
        struct walk_log *w = arg;

        if (w->n == w->stop_at)
                return 42;
        memcpy(w->prefix[w->n].b, prefix, 16);
        w->plen[w->n] = plen;
        w->nh[w->n++] = nh;
        return 0;
}

static void test_walk(void **state)
{
        static const struct {
                const char *p;
                unsigned l;
        } want[] = {
            {"::", 0},
            {"2001:db8::", 32},
            {"2001:db8::", 48},
            {"2001:db8::", 64},
            {"2001:db8::ffff", 128},
            {"2001:db8::8000:0:0:0", 65},
            {"2001:db8:1::", 48},
            {"2001:db8:8000::", 33},
            {"fe80::", 10},
            {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128},
        };
        const unsigned n = sizeof(want) / sizeof(want[0]);
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);
        struct walk_log w = {.stop_at = UINT32_MAX};

        /* Added in a scrambled order. */
        for (unsigned k = 0; k < n; k++) {
                unsigned i = (k * 7) % n;

                assert_int_equal(add(t, want[i].p, want[i].l, i), 0);
        }
        assert_int_equal(mpnet_lpm6_walk(t, A("::").b, 0, walk_rec, &w), 0);
        assert_int_equal(w.n, n);
        for (unsigned i = 0; i < n; i++) {
                assert_memory_equal(w.prefix[i].b, A(want[i].p).b, 16);
                assert_int_equal(w.plen[i], want[i].l);
                assert_int_equal(w.nh[i], i);
        }
        /* Inside 2001:db8::/48: the /48 itself and what it holds. */
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm6_walk(t, A("2001:db8::9").b, 48, walk_rec, &w), 0);
        assert_int_equal(w.n, 4);
        assert_int_equal(w.plen[0], 48);
        assert_int_equal(w.plen[2], 128);
        assert_int_equal(w.plen[3], 65);
        /* Inside 2001:db8::/40: no route at /40 itself. */
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm6_walk(t, A("2001:db8::").b, 40, walk_rec, &w), 0);
        assert_int_equal(w.n, 5);
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm6_walk(t, A("2001:db9::").b, 32, walk_rec, &w), 0);
        assert_int_equal(w.n, 0);
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm6_walk(t, A("2001:db8::ffff").b, 128, walk_rec, &w), 0);
        assert_int_equal(w.n, 1);
        /* Stopping early returns the callback's value. */
        w = (struct walk_log){.stop_at = 3};
        assert_int_equal(mpnet_lpm6_walk(t, A("::").b, 0, walk_rec, &w), 42);
        assert_int_equal(w.n, 3);
        for (unsigned i = 0; i < n; i += 2)
                assert_int_equal(del(t, want[i].p, want[i].l), 0);
        w = (struct walk_log){.stop_at = UINT32_MAX};
        assert_int_equal(mpnet_lpm6_walk(t, A("::").b, 0, walk_rec, &w), 0);
        assert_int_equal(w.n, n / 2);
        for (unsigned i = 0; i < w.n; i++)
                assert_memory_equal(w.prefix[i].b, A(want[2 * i + 1].p).b, 16);
        mpnet_lpm6_destroy(t);
}

/* ---- bulk ------------------------------------------------------------------ */

static void check_bulk(const struct mpnet_lpm6 *t, const uint8_t (*a)[16], unsigned n)
{
        uint32_t nh[80];
        unsigned misses = 0, got;

        got = mpnet_lpm6_lookup_bulk(t, a, nh, n, 0xdead);
        for (unsigned i = 0; i < n; i++) {
                uint32_t v = lkk(t, key_of(a[i]));

                misses += v == UINT32_MAX;
                assert_int_equal(nh[i], v == UINT32_MAX ? 0xdead : v);
        }
        assert_int_equal(got, misses);
}

static void test_bulk_sizes(void **state)
{
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);
        u128 base = key_of(A("2001:db8::").b);
        uint8_t a[80][16];

        rng_state = 1;
        assert_int_equal(add(t, "2001:db8::", 32, 1), 0);
        assert_int_equal(add(t, "2001:db8::", 48, 2), 0);
        assert_int_equal(add(t, "2001:db8::5", 128, 3), 0);
        assert_int_equal(add(t, "2001:db8::", 120, 4), 0);
        for (unsigned i = 0; i < 80; i++) {
                u128 k = i % 3 == 0   ? rnd128()
                         : i % 3 == 1 ? base | (rnd128() >> 80)
                                      : base | (rnd32() & 0xff);

                memcpy(a[i], a6_of(k).b, 16);
        }
        for (unsigned n = 0; n <= 80; n++)
                check_bulk(t, (const uint8_t(*)[16])a, n);
        assert_int_equal(add(t, "::", 0, 5), 0);
        for (unsigned n = 0; n <= 80; n++)
                check_bulk(t, (const uint8_t(*)[16])a, n);
        mpnet_lpm6_destroy(t);
}

/* ---- memory ------------------------------------------------------------------ */

static void test_memory_cost(void **state)
{
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);

        assert_int_equal(stats(t).tbl24_bytes, 0);
        assert_int_equal(stats(t).tbl8_bytes, 0);
        assert_true(stats(t).mem_bytes < 16 * 1024);
        assert_int_equal(add(t, "2001:db8::", 24, 1), 0);
        assert_int_equal(stats(t).tbl24_bytes, 4096);
        assert_int_equal(add(t, "4000::", 8, 1), 0);
        assert_int_equal(stats(t).tbl24_bytes, 4096 + 256 * 1024);
        assert_int_equal(add(t, "2001:db8::", 32, 1), 0);
        assert_int_equal(stats(t).tbl8_bytes, 4096); /* group 1, in the first page */
        assert_int_equal(stats(t).tbl8_used, 1);
        mpnet_lpm6_destroy(t);
}

/* Page size: half of a 2 MiB region of tbl24 written has it collapsed into
 * a huge page (the mechanism is lpm4's, tested in full in test_lpm4); the
 * flags fix one size. */
static void test_page_promotion(void **state)
{
        struct mpnet_lpm6_cfg both = {.flags = MPNET_LPM6_F_HUGEPAGE | MPNET_LPM6_F_SMALLPAGES};
        struct mpnet_lpm6_cfg small = {.flags = MPNET_LPM6_F_SMALLPAGES};
        const bool collapses = thp_collapses_now();
        struct mpnet_lpm6 *t, *s;
        /* /24 k is in tbl24 page k: 2000::/3 from its start, 1024 apart. */
        const u128 base = (u128)0x2000 << 112;

        errno = 0;
        assert_null(mpnet_lpm6_create(&both));
        assert_int_equal(errno, EINVAL);
        t = mpnet_lpm6_create(NULL);
        s = mpnet_lpm6_create(&small);
        assert_non_null(t);
        assert_non_null(s);
        for (unsigned k = 0; k < 256; k++) {
                u128 p = base + ((u128)k << (104 + 10));

                assert_int_equal(stats(t).huge_regions, 0);
                assert_int_equal(mpnet_lpm6_add(t, a6_of(p).b, 24, k), 0);
                assert_int_equal(mpnet_lpm6_add(s, a6_of(p).b, 24, k), 0);
        }
        /* Where the kernel collapses nothing (test_lpm4 says why), 4 KiB. */
        assert_int_equal(stats(t).huge_regions, collapses ? 1 : 0);
        assert_int_equal(stats(t).tbl24_bytes, collapses ? 2u << 20 : 256 * 4096);
        if (collapses)
                assert_true(anon_huge_kb(tbl24_addr(&t->tbl24, 0x200000)) >= 2048); /* 2000::/24 */
        assert_int_equal(stats(s).huge_regions, 0);
        assert_int_equal(stats(s).tbl24_bytes, 256 * 4096);
        for (unsigned k = 0; k < 256; k++)
                assert_int_equal(lkk(t, base + ((u128)k << 114) + 5), k);
        mpnet_lpm6_destroy(t);
        mpnet_lpm6_destroy(s);
}

/* ---- the reference: one open-addressing hash table per prefix length ----- */

struct ref_len {
        u128 *key;
        uint32_t *val; /* 0 empty, REF_TOMB deleted, else nh + 1 */
        uint32_t cap, n, used;
};

struct ref {
        struct ref_len len[129];
        uint64_t routes;
};

#define REF_TOMB UINT32_MAX

static inline uint32_t ref_hash(u128 key, uint32_t cap)
{
        uint64_t h = (uint64_t)(key >> 64) * 0x9e3779b97f4a7c15ull ^ (uint64_t)key;

        h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ull;
        return (uint32_t)(h >> 32) & (cap - 1);
}

static uint32_t *ref_slot(const struct ref_len *r, u128 key, bool for_insert)
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
        r->key = calloc(r->cap, sizeof(u128));
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

static void ref_add(struct ref *f, u128 p, unsigned l, uint32_t nh)
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
}

static int ref_del(struct ref *f, u128 p, unsigned l)
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
        return 0;
}

static uint32_t ref_get(const struct ref *f, u128 p, unsigned l)
{
        const struct ref_len *r = &f->len[l];
        uint32_t v;

        if (r->n == 0)
                return UINT32_MAX;
        v = *ref_slot(r, p & mask_of(l), false);
        return v == 0 ? UINT32_MAX : v - 1;
}

/* The answer by probing every length from /128 down: slow, used for a
 * sample of the lookups. */
static uint32_t ref_lookup_scan(const struct ref *f, u128 a)
{
        for (unsigned l = 129; l-- > 0;) {
                uint32_t v = ref_get(f, a, l);

                if (v != UINT32_MAX)
                        return v;
        }
        return UINT32_MAX;
}

/*
 * For many lookups, the reference flattens its routes into a sorted list of
 * (first address, answer) breakpoints: prefixes nest or are disjoint, so a
 * sweep in (address, length) order with a stack of the open prefixes gives
 * the answer between any two breakpoints.
 */
struct flat {
        u128 *start;
        uint32_t *nh;
        size_t n;
};

struct rt {
        u128 p;
        uint32_t l, nh;
};

static int rt_cmp(const void *a, const void *b)
{
        const struct rt *x = a, *y = b;

        if (x->p != y->p)
                return x->p < y->p ? -1 : 1;
        return x->l < y->l ? -1 : x->l > y->l;
}

static void flat_emit(struct flat *fl, u128 start, uint32_t nh)
{
        if (fl->n > 0 && fl->start[fl->n - 1] == start)
                fl->n--; /* a later answer for the same address wins */
        fl->start[fl->n] = start;
        fl->nh[fl->n++] = nh;
}

static void flat_build(const struct ref *f, struct flat *fl)
{
        struct rt *r = malloc((f->routes + 1) * sizeof(*r));
        u128 end[130];
        uint32_t nh[130];
        size_t n = 0;
        unsigned sp = 0;

        assert_non_null(r);
        for (unsigned l = 0; l <= 128; l++)
                for (uint32_t i = 0; i < f->len[l].cap; i++) {
                        uint32_t v = f->len[l].val[i];

                        if (v != 0 && v != REF_TOMB)
                                r[n++] = (struct rt){f->len[l].key[i], l, v - 1};
                }
        qsort(r, n, sizeof(*r), rt_cmp);
        free(fl->start);
        free(fl->nh);
        fl->start = malloc((2 * n + 1) * sizeof(u128));
        fl->nh = malloc((2 * n + 1) * sizeof(uint32_t));
        assert_non_null(fl->start);
        assert_non_null(fl->nh);
        fl->n = 0;
        flat_emit(fl, 0, UINT32_MAX);
        for (size_t i = 0; i <= n; i++) {
                /* Close the prefixes that end before this one starts (all of
                 * them at the end); one ending at the last address opens
                 * nothing after it. */
                while (sp > 0 && (i == n || end[sp - 1] < r[i].p)) {
                        sp--;
                        if (end[sp] != ~(u128)0)
                                flat_emit(fl, end[sp] + 1, sp > 0 ? nh[sp - 1] : UINT32_MAX);
                }
                if (i == n)
                        break;
                end[sp] = r[i].p | ~mask_of(r[i].l);
                nh[sp++] = r[i].nh;
                flat_emit(fl, r[i].p, r[i].nh);
        }
        free(r);
}

static void ref_free(struct ref *f, struct flat *fl)
{
        free(fl->start);
        free(fl->nh);
        for (unsigned l = 0; l <= 128; l++) {
                free(f->len[l].key);
                free(f->len[l].val);
        }
}

/* ---- the randomised run ---------------------------------------------------- */

struct pfx {
        u128 p;
        uint8_t l;
};

/*
 * Pools of hot prefixes, nested: pool k holds /(32 + 8k) prefixes, each
 * inside one of pool k - 1 (pool 0: /32s in 2000::/3). A route longer than
 * /32 extends a prefix of the pool one step shorter, so routes nest and share
 * groups as in a real table instead of each making its own chain.
 */
#define POOLS     12u
#define POOL_SIZE 8192u
static u128 pool[POOLS][POOL_SIZE];

#ifndef FULL_PREFIXES
#define FULL_PREFIXES 1000000
#endif
#ifndef FULL_LOOKUPS
#define FULL_LOOKUPS 10000000
#endif

static void pools_init(void)
{
        for (unsigned i = 0; i < POOL_SIZE; i++)
                pool[0][i] = ((u128)1 << 125 | rnd128() >> 3) & mask_of(32);
        for (unsigned k = 1; k < POOLS; k++)
                for (unsigned i = 0; i < POOL_SIZE; i++)
                        pool[k][i] =
                            (pool[k - 1][rnd32() % POOL_SIZE] | (rnd128() >> (24 + 8 * k))) &
                            mask_of(32 + 8 * k);
}

/*
 * Lengths, per 100000: 2 of /0-/7, 200 of /8-/15, 10 % /16-/28, 15 % /29-/32,
 * 50 % /33-/48 (half of them /48), 17 % /49-/64 (half /64), 6 % /65-/127,
 * 1 % /128: mostly what a full table holds, with more long routes. Short
 * ones are anywhere in 2000::/3 or over a hot /32; 1 in 200 long ones lies
 * anywhere in 2000::/3 (a lone chain of groups).
 */
static struct pfx gen_prefix(void)
{
        uint32_t r = rnd32() % 100000, l;
        u128 p = (u128)1 << 125 | rnd128() >> 3;

        if (r < 2)
                l = rnd32() % 4 == 0 ? 0 : 1 + rnd32() % 7;
        else if (r < 200)
                l = 8 + rnd32() % 8;
        else if (r < 10000)
                l = 16 + rnd32() % 13;
        else if (r < 25000)
                l = 29 + rnd32() % 4;
        else if (r < 75000)
                l = rnd32() % 2 ? 48 : 33 + rnd32() % 16;
        else if (r < 92000)
                l = rnd32() % 2 ? 64 : 49 + rnd32() % 16;
        else if (r < 99000)
                l = 65 + rnd32() % 63;
        else
                l = 128;
        if (l < 8)
                p = rnd128();
        else if (l <= 32 && rnd32() % 2 == 0)
                p = pool[0][rnd32() % POOL_SIZE];
        else if (l > 32 && rnd32() % 200 != 0)
                p = pool[(l - 33) / 8][rnd32() % POOL_SIZE] |
                    (p & ~mask_of(32 + 8 * ((l - 33) / 8)));
        return (struct pfx){p & mask_of(l), (uint8_t)l};
}

/* An address: anywhere in 2000::/3, under a hot prefix, or in one of the
 * prefixes. */
static u128 gen_addr(const struct pfx *v, size_t n)
{
        uint32_t r = rnd32() % 3;
        u128 a = rnd128();
        const struct pfx *x;

        if (r == 0 || n == 0)
                return (u128)1 << 125 | a >> 3;
        if (r == 1) {
                unsigned k = rnd32() % POOLS;

                return pool[k][rnd32() % POOL_SIZE] | (a & ~mask_of(32 + 8 * k));
        }
        x = &v[rnd() % n];
        return x->p | (a & ~mask_of(x->l));
}

#define LOOKUP_CHUNK 65536u

struct la {
        u128 a;
        uint32_t i;
};

static int la_cmp(const void *x, const void *y)
{
        u128 a = ((const struct la *)x)->a, b = ((const struct la *)y)->a;

        return a < b ? -1 : a > b;
}

/*
 * n lookups, single and bulk (in calls of 1 to 256 addresses), against the
 * reference, which answers a chunk of addresses in one sweep over its
 * breakpoints in address order.
 */
static void check_lookups(const struct mpnet_lpm6 *t, const struct ref *f, struct flat *fl,
                          const struct pfx *v, size_t nv, uint64_t n)
{
        static uint8_t a[LOOKUP_CHUNK][16];
        static uint32_t nh[LOOKUP_CHUNK];
        static struct la order[LOOKUP_CHUNK];

        flat_build(f, fl);
        for (uint64_t done = 0; done < n; done += LOOKUP_CHUNK) {
                unsigned c = n - done < LOOKUP_CHUNK ? (unsigned)(n - done) : LOOKUP_CHUNK;
                unsigned misses = 0, got = 0;
                size_t j = 0;

                for (unsigned i = 0; i < c; i++) {
                        order[i] = (struct la){gen_addr(v, nv), i};
                        memcpy(a[i], a6_of(order[i].a).b, 16);
                }
                for (unsigned i = 0, k = 0; i < c; k++) {
                        unsigned m = 1 + (k * 37) % 256;

                        m = m < c - i ? m : c - i;
                        got += mpnet_lpm6_lookup_bulk(t, &a[i], &nh[i], m, UINT32_MAX);
                        i += m;
                }
                qsort(order, c, sizeof(order[0]), la_cmp);
                for (unsigned s = 0; s < c; s++) {
                        unsigned i = order[s].i;
                        uint32_t want, one = lkk(t, order[s].a);

                        while (j + 1 < fl->n && fl->start[j + 1] <= order[s].a)
                                j++;
                        want = fl->nh[j];
                        /* And the flattening against the plain scan, now and then. */
                        if (s % 256 == 0)
                                assert_int_equal(want, ref_lookup_scan(f, order[s].a));
                        if (one != want || nh[i] != want)
                                fail_msg("address %016llx%016llx: lookup %u, bulk %u, "
                                         "reference %u",
                                         (unsigned long long)(order[s].a >> 64),
                                         (unsigned long long)order[s].a, one, nh[i], want);
                        misses += want == UINT32_MAX;
                }
                assert_int_equal(got, misses);
        }
}

struct walk_check {
        const struct ref *f;
        uint64_t n;
        u128 last_p;
        unsigned last_l;
};

static int walk_check_fn(void *arg, const uint8_t prefix[16], unsigned l, uint32_t nh)
{
        struct walk_check *w = arg;
        u128 p = key_of(prefix);

        if (w->n > 0 && (p < w->last_p || (p == w->last_p && l <= w->last_l)))
                return -1; /* out of order */
        if ((p & ~mask_of(l)) != 0 || ref_get(w->f, p, l) != nh)
                return -2;
        w->n++;
        w->last_p = p;
        w->last_l = l;
        return 0;
}

static void check_walk(const struct mpnet_lpm6 *t, const struct ref *f)
{
        struct walk_check w = {.f = f};

        assert_int_equal(mpnet_lpm6_walk(t, a6_of(0).b, 0, walk_check_fn, &w), 0);
        assert_int_equal(w.n, f->routes);
        assert_int_equal(stats(t).routes, f->routes);
}

static void test_random_vs_reference(void **state)
{
        const bool q = quick();
        const size_t n_pfx = SANITIZED == 2 ? 10000 : q ? 50000 : FULL_PREFIXES;
        const uint64_t n_lookups = SANITIZED == 2 ? 100000 : q ? 500000 : FULL_LOOKUPS;
        const uint64_t seed = seed_from_env(0x6c706d36ull);
        struct mpnet_lpm6_cfg cfg = {.max_tbl8 = 1u << 20};
        struct mpnet_lpm6 *t = mpnet_lpm6_create(&cfg);
        struct ref *f = calloc(1, sizeof(*f));
        struct pfx *v = malloc(n_pfx * sizeof(*v));
        struct flat fl = {0};
        struct mpnet_lpm6_stats st;
        double ts[6];
        size_t live;

        print_message("lpm6 random: seed %#llx, %zu prefixes, %llu lookups%s\n",
                      (unsigned long long)seed, n_pfx, (unsigned long long)n_lookups,
                      q ? " (quick)" : "");
        assert_non_null(t);
        assert_non_null(f);
        assert_non_null(v);
        rng_state = seed;
        pools_init();
        ts[0] = now_s();

        /* Insert (duplicates are replaces), with a /0 part of the time. */
        for (size_t i = 0; i < n_pfx; i++) {
                uint32_t nh = rnd32() & MPNET_LPM6_NH_MAX;

                v[i] = gen_prefix();
                assert_int_equal(mpnet_lpm6_add(t, a6_of(v[i].p).b, v[i].l, nh), 0);
                ref_add(f, v[i].p, v[i].l, nh);
        }
        ts[1] = now_s();
        st = stats(t);
        print_message("lpm6 random: %llu routes, %u groups, %.1f MiB (tbl24 %.1f, groups %.1f, "
                      "rib %.1f)\n",
                      (unsigned long long)st.routes, st.tbl8_used, st.mem_bytes / 1048576.0,
                      st.tbl24_bytes / 1048576.0, st.tbl8_bytes / 1048576.0,
                      st.rib_bytes / 1048576.0);
        check_walk(t, f);
        check_lookups(t, f, &fl, v, n_pfx, n_lookups / 2);
        ts[2] = now_s();

        /* Delete a random half of the list; the second delete of a prefix
         * and prefixes never added give -ENOENT on both sides. */
        for (size_t i = 0; i < n_pfx / 2; i++) {
                struct pfx x = rnd32() % 16 == 0 ? gen_prefix() : v[rnd() % n_pfx];
                int want = ref_del(f, x.p, x.l);

                assert_int_equal(mpnet_lpm6_delete(t, a6_of(x.p).b, x.l), want);
        }
        ts[3] = now_s();
        check_walk(t, f);
        check_lookups(t, f, &fl, v, n_pfx, n_lookups / 2);
        ts[4] = now_s();

        /* Re-add some: groups freed by the deletes come back. */
        for (size_t i = 0; i < n_pfx / 10; i++) {
                struct pfx x = v[rnd() % n_pfx];
                uint32_t nh = rnd32() & MPNET_LPM6_NH_MAX;

                assert_int_equal(mpnet_lpm6_add(t, a6_of(x.p).b, x.l, nh), 0);
                ref_add(f, x.p, x.l, nh);
        }
        check_lookups(t, f, &fl, v, n_pfx, n_lookups / 20);

        /* Delete everything: no group may be left behind. */
        live = 0;
        for (size_t i = 0; i < n_pfx; i++)
                if (ref_del(f, v[i].p, v[i].l) == 0) {
                        assert_int_equal(mpnet_lpm6_delete(t, a6_of(v[i].p).b, v[i].l), 0);
                        live++;
                }
        st = stats(t);
        assert_int_equal(st.routes, 0);
        assert_int_equal(st.tbl8_used, 0);
        assert_true(live > 0);
        check_lookups(t, f, &fl, v, n_pfx, 100000);
        ts[5] = now_s();
        print_message("lpm6 random: insert %.2f s, lookups %.2f s, deletes %.2f s, lookups "
                      "%.2f s, the rest %.2f s\n",
                      ts[1] - ts[0], ts[2] - ts[1], ts[3] - ts[2], ts[4] - ts[3], ts[5] - ts[4]);

        ref_free(f, &fl);
        free(f);
        free(v);
        mpnet_lpm6_destroy(t);
}

/* ---- unwritten tbl24 ------------------------------------------------------ */

/* Lookups of unrouted space, one address in every 4 KiB page of tbl24,
 * single and bulk, map no page of it (as test_lpm4's): a table of 1,000
 * routes, /48s with a /32 every 8th and a /24 every 64th, in 2000::/3. */
static void test_unrouted_lookups_map_nothing(void **state)
{
        struct mpnet_lpm6 *t = mpnet_lpm6_create(NULL);
        const uint8_t *base;
        long before, after;
        uint32_t nh[256], sum = 0;
        static struct a6 a[256];

        (void)state;
        assert_non_null(t);
        assert_int_equal(add(t, "2001:db8::", 32, 1), 0);
        for (unsigned k = 1; k < 1000; k++) {
                u128 p = (u128)1 << 125 | rnd128() >> 3;
                unsigned plen = k % 64 == 0 ? 24 : k % 8 == 0 ? 32 : 48;

                assert_int_equal(mpnet_lpm6_add(t, a6_of(p).b, plen, k), 0);
        }
        base = tbl24_base(&t->tbl24, 0x200db8);
        before = tbl24_mapped_pages(base);
        assert_true(before > 0 && before < 1200);
        for (uint32_t pg = 0; pg < 16384; pg++)
                sum += lkk(t, (u128)(pg << 10 | 0x2a5) << 104);
        for (uint32_t pg = 0; pg < 16384; pg += 256) {
                for (unsigned k = 0; k < 256; k++)
                        a[k] = a6_of((u128)((pg + k) << 10 | 0x15a) << 104);
                (void)mpnet_lpm6_lookup_bulk(t, (const uint8_t(*)[16])a, nh, 256, 0);
                sum += nh[0];
        }
        after = tbl24_mapped_pages(base);
        print_message("tbl24 pages mapped: %ld before 32768 lookups, %ld after (sum %u)\n", before,
                      after, sum);
        assert_int_equal(after, before);
        assert_null(atomic_load(&t->tbl24.dense));
        mpnet_lpm6_destroy(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_empty_and_default),
            cmocka_unit_test(test_bad_args),
            cmocka_unit_test(test_host_routes),
            cmocka_unit_test(test_unrouted_lookups_map_nothing),
            cmocka_unit_test(test_level_boundaries),
            cmocka_unit_test(test_nested_replace_delete),
            cmocka_unit_test(test_long_under_default),
            cmocka_unit_test(test_tbl8_exhaustion),
            cmocka_unit_test(test_defer_free),
            cmocka_unit_test(test_walk),
            cmocka_unit_test(test_bulk_sizes),
            cmocka_unit_test(test_memory_cost),
            cmocka_unit_test(test_page_promotion),
            cmocka_unit_test(test_random_vs_reference),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
