/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 fragmentation and reassembly: fragment fields and checksums at several
 * MTUs, option copying, DF and the error returns, reassembly in any order with
 * duplicates, the overlap and consistency drops, the caps (per source, per
 * datagram, datagram count, bytes), timeouts and their ICMP callback, a
 * randomised round trip of 1000 datagrams, and a stream of random, mostly
 * inconsistent fragments checked against the accounting, two objects sharing
 * one cap. Every test ends with the pool's in-use count back to zero.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "l3/ip4_frag.h"
#include "mpnet/clock.h"
#include "mpnet/pkt.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ipv4.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define SRC_A           IP4(198, 51, 100, 1)
#define SRC_B           IP4(198, 51, 100, 2)
#define SRC_C           IP4(198, 51, 100, 3)
#define DST             IP4(192, 0, 2, 1)
#define MAX_OUT         512u
#define T0              (1000 * MPNET_NS_PER_S)
#define F_MF            0x2000u
#define F_DF            0x4000u
#define PROTO_UD        17

/* xorshift64*: the tests are deterministic. */
static uint64_t rnd_next(uint64_t *s)
{
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        return *s * 0x2545f4914f6cdd1dull;
}

static void shuffle(struct mpnet_pkt **v, unsigned n, uint64_t *seed)
{
        for (unsigned i = n; i > 1; i--) {
                unsigned j = (unsigned)(rnd_next(seed) % i);
                struct mpnet_pkt *t = v[i - 1];

                v[i - 1] = v[j];
                v[j] = t;
        }
}

/* Data byte i of a datagram. */
static uint8_t pat(uint32_t i, uint32_t seed)
{
        return (uint8_t)((i * 131u + seed * 7u + (i >> 8)) ^ (seed >> 3));
}

static void write_hdr(uint8_t *b, uint32_t hlen, uint32_t tot, uint16_t id, uint16_t frag,
                      uint8_t proto, uint32_t src, uint32_t dst)
{
        b[0] = (uint8_t)(0x40 | hlen / 4);
        b[1] = 0x10;
        mpnet_put_be16(b + 2, (uint16_t)tot);
        mpnet_put_be16(b + 4, id);
        mpnet_put_be16(b + 6, frag);
        b[8] = 64;
        b[9] = proto;
        mpnet_put_be16(b + 10, 0);
        mpnet_put_be32(b + 12, src);
        mpnet_put_be32(b + 16, dst);
        mpnet_put_be16(b + 10, mpnet_csum(b, hlen));
}

/* A datagram as sent. */
struct dgram {
        uint8_t *b;
        uint32_t len, hlen;
};

/* Build a datagram with dlen data bytes after a header carrying opts (a
 * multiple of 4). An ICMP datagram carries an echo request with a valid
 * checksum. */
static void dgram_build(struct dgram *d, uint32_t src, uint16_t id, uint8_t proto, uint32_t dlen,
                        const uint8_t *opts, uint32_t optlen, uint32_t seed)
{
        uint8_t *data;

        d->hlen = MPNET_IP4_HLEN + optlen;
        d->len = d->hlen + dlen;
        d->b = malloc(d->len);
        assert_non_null(d->b);
        data = d->b + d->hlen;
        for (uint32_t i = 0; i < dlen; i++)
                data[i] = pat(i, seed);
        if (proto == MPNET_IPPROTO_ICMP && dlen >= 8) {
                data[0] = 8;
                data[1] = 0;
                mpnet_put_be16(data + 2, 0);
                mpnet_put_be16(data + 4, 0x4d50);
                mpnet_put_be16(data + 6, id);
                mpnet_put_be16(data + 2, mpnet_csum(data, dlen));
        }
        if (optlen > 0)
                memcpy(d->b + MPNET_IP4_HLEN, opts, optlen);
        write_hdr(d->b, d->hlen, d->len, id, 0, proto, src, DST);
}

static struct mpnet_pkt *dgram_pkt(struct mpnet_pool *pool, const struct dgram *d)
{
        struct mpnet_pkt *p = mpnet_pkt_from_bytes(pool, d->b, d->len);

        assert_non_null(p);
        return p;
}

/*
 * Check the fragments of d made at mtu: each is a fresh linear buffer at the
 * default headroom, within the MTU, with a good checksum, the original's
 * fields, MF on all but the last, offsets that follow each other, as much data
 * as fits (a multiple of 8 but for the last), the whole header in the first
 * and rest_opts in the others, and the original's data.
 */
static void check_frags(const struct dgram *d, struct mpnet_pkt **f, int n, uint32_t mtu,
                        const uint8_t *rest_opts, uint32_t rest_optlen)
{
        uint32_t pos = 0, eff = mtu < MPNET_PKT_DATA_SIZE ? mtu : MPNET_PKT_DATA_SIZE;
        struct mpnet_ip4_view ov;

        assert_int_equal(mpnet_ip4_view_check(d->b, d->len, &ov), 0);
        assert_true(n >= 2);
        for (int i = 0; i < n; i++) {
                struct mpnet_pkt *p = f[i];
                uint32_t hl = i == 0 ? d->hlen : MPNET_IP4_HLEN + rest_optlen;
                struct mpnet_ip4_view v;
                uint32_t dl;

                assert_null(p->next);
                assert_int_equal(p->nb_segs, 1);
                assert_int_equal(mpnet_pkt_headroom(p), MPNET_PKT_HEADROOM);
                assert_int_equal(p->len, p->pkt_len);
                assert_true(p->len <= eff);
                assert_int_equal(mpnet_ip4_view_check(p->data, p->len, &v), 0);
                assert_true(mpnet_ip4_csum_ok(&v));
                assert_int_equal(mpnet_ip4_total_len(&v), p->len);
                assert_int_equal(mpnet_ip4_hlen(&v), hl);
                assert_int_equal(mpnet_ip4_id(&v), mpnet_ip4_id(&ov));
                assert_int_equal(mpnet_ip4_src(&v), mpnet_ip4_src(&ov));
                assert_int_equal(mpnet_ip4_dst(&v), mpnet_ip4_dst(&ov));
                assert_int_equal(mpnet_ip4_proto(&v), mpnet_ip4_proto(&ov));
                assert_int_equal(mpnet_ip4_ttl(&v), mpnet_ip4_ttl(&ov));
                assert_int_equal(mpnet_ip4_tos(&v), mpnet_ip4_tos(&ov));
                assert_false(mpnet_ip4_df(&v));
                assert_int_equal(mpnet_ip4_mf(&v), i < n - 1);
                assert_int_equal(mpnet_ip4_frag_off(&v), pos);
                dl = (uint32_t)mpnet_ip4_payload_len(&v);
                if (i < n - 1)
                        assert_int_equal(dl, (eff - hl) & ~7u);
                if (i == 0)
                        assert_memory_equal(p->data + MPNET_IP4_HLEN, d->b + MPNET_IP4_HLEN,
                                            d->hlen - MPNET_IP4_HLEN);
                else if (rest_optlen > 0)
                        assert_memory_equal(p->data + MPNET_IP4_HLEN, rest_opts, rest_optlen);
                assert_memory_equal(p->data + hl, d->b + d->hlen + pos, dl);
                pos += dl;
        }
        assert_int_equal(pos, d->len - d->hlen);
}

/* Check that a reassembled datagram is d byte for byte, as a sound chain. */
static void check_dgram(const struct mpnet_pkt *p, const struct dgram *d)
{
        uint8_t *buf = malloc(d->len + 1);
        uint32_t segs = 0, len = 0;

        assert_non_null(buf);
        for (const struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                segs++;
                len += s->len;
        }
        assert_int_equal(p->nb_segs, segs);
        assert_int_equal(p->pkt_len, len);
        assert_int_equal(p->pkt_len, d->len);
        assert_int_equal(mpnet_pkt_read(p, 0, buf, d->len), 0);
        assert_int_equal(mpnet_csum(buf, d->hlen), 0);
        assert_memory_equal(buf, d->b, d->len);
        free(buf);
}

/* A raw fragment from src with data [off, off + dlen) of datagram id; data
 * byte i is pat(i, id) ^ flip, so overlapping pieces agree unless flipped. */
static struct mpnet_pkt *mkfrag(struct mpnet_pool *pool, uint32_t src, uint16_t id, uint32_t off,
                                uint32_t dlen, bool mf, uint8_t flip)
{
        uint8_t b[MPNET_IP4_HLEN + MPNET_PKT_DATA_SIZE];
        struct mpnet_pkt *p;

        assert_true(dlen <= MPNET_PKT_DATA_SIZE);
        write_hdr(b, MPNET_IP4_HLEN, MPNET_IP4_HLEN + dlen, id,
                  (uint16_t)((mf ? F_MF : 0) | (off / 8)), PROTO_UD, src, DST);
        for (uint32_t i = 0; i < dlen; i++)
                b[MPNET_IP4_HLEN + i] = pat(off + i, id) ^ flip;
        p = mpnet_pkt_from_bytes(pool, b, MPNET_IP4_HLEN + dlen);
        assert_non_null(p);
        return p;
}

static enum ip4_reass_result input(struct ip4_reass *r, struct mpnet_pkt *p, uint64_t now,
                                   struct mpnet_pkt **done)
{
        enum ip4_reass_result res = IP4_REASS_HELD;
        struct mpnet_pkt *out = ip4_reass_input(r, p, now, &res);

        if (done != NULL)
                *done = out;
        else
                assert_null(out);
        assert_int_equal(out != NULL, res == IP4_REASS_DONE);
        return res;
}

static struct ip4_reass_stats stats(const struct ip4_reass *r)
{
        struct ip4_reass_stats st;

        ip4_reass_get_stats(r, &st);
        return st;
}

static void pool_done(struct mpnet_pool *pool)
{
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* ---- fragmentation ---- */

enum order { IN_ORDER, REVERSED, RANDOM, DUPLICATES, N_ORDERS };

/* Put n fragments in the given order into seq (room for 2n); with
 * DUPLICATES, copies of earlier fragments are mixed in, never after the
 * last one. @return the length of seq. */
static unsigned arrange(struct mpnet_pool *pool, struct mpnet_pkt **f, unsigned n, enum order o,
                        struct mpnet_pkt **seq, unsigned *ndups, uint64_t *seed)
{
        unsigned k = 0;

        *ndups = 0;
        if (o == REVERSED) {
                for (unsigned i = 0; i < n; i++)
                        seq[i] = f[n - 1 - i];
                return n;
        }
        if (o != IN_ORDER)
                shuffle(f, n, seed);
        for (unsigned i = 0; i < n; i++) {
                seq[k++] = f[i];
                if (o != DUPLICATES || i == n - 1)
                        continue;
                if (i % 3 == 0 || i % 5 == 4) {
                        seq[k] = mpnet_pkt_copy(pool, f[i % 3 == 0 ? i : i - 4]);
                        assert_non_null(seq[k]);
                        k++;
                        ++*ndups;
                }
        }
        return k;
}

static void test_fragment_and_reassemble(void **state)
{
        static const uint32_t mtus[] = {1500, 576, 68};
        /* 7980 data bytes in (mtu - 20) & ~7 pieces. */
        static const int expect[] = {6, 15, 167};
        struct mpnet_pool *pool = mpnet_pool_create("frag", 1024);
        /* At MTU 68 one datagram is 167 fragments: beyond the default caps of
         * 64 fragments and 256 KiB per source. */
        struct ip4_reass_cfg cfg = {.max_frags = 256, .max_per_src = 1u << 20, .hash_seed = 7};
        struct ip4_reass *r = ip4_reass_create(&cfg);
        struct mpnet_pkt *f[MAX_OUT], *seq[2 * MAX_OUT];
        uint64_t seed = 0x1234567;
        unsigned total_dups = 0, done_count = 0;

        (void)state;
        assert_non_null(pool);
        assert_non_null(r);
        for (unsigned m = 0; m < 3; m++) {
                for (int o = 0; o < N_ORDERS; o++) {
                        uint16_t id = (uint16_t)(m * 16 + (unsigned)o);
                        struct mpnet_pkt *p, *done = NULL;
                        struct dgram d;
                        unsigned k, ndups;
                        int n;

                        dgram_build(&d, SRC_A, id, MPNET_IPPROTO_ICMP, 8000 - 20, NULL, 0, id);
                        p = dgram_pkt(pool, &d);
                        assert_true(p->nb_segs > 1);
                        n = ip4_fragment(pool, p, mtus[m], f, MAX_OUT);
                        assert_int_equal(n, expect[m]);
                        /* p went back to the pool: only the fragments are out. */
                        assert_int_equal(mpnet_pool_in_use(pool), (uint32_t)n);
                        check_frags(&d, f, n, mtus[m], NULL, 0);
                        k = arrange(pool, f, (unsigned)n, (enum order)o, seq, &ndups, &seed);
                        total_dups += ndups;
                        for (unsigned i = 0; i < k; i++) {
                                enum ip4_reass_result res = input(r, seq[i], T0, &done);

                                if (i < k - 1) {
                                        assert_true(res == IP4_REASS_HELD || res == IP4_REASS_DUP);
                                        assert_int_equal(stats(r).datagrams_held, 1);
                                }
                        }
                        assert_non_null(done);
                        check_dgram(done, &d);
                        /* Zero copy: one buffer per fragment, chained. */
                        assert_int_equal(done->nb_segs, n);
                        mpnet_pkt_free(done);
                        done_count++;
                        free(d.b);
                        assert_int_equal(mpnet_pool_in_use(pool), 0);
                        assert_int_equal(stats(r).bytes_held, 0);
                }
        }
        assert_int_equal(stats(r).completed, done_count);
        assert_int_equal(stats(r).dup_drops, total_dups);
        assert_true(total_dups > 0);
        assert_int_equal(stats(r).datagrams_held, 0);
        assert_int_equal(stats(r).overlap_drops, 0);
        ip4_reass_destroy(r);
        pool_done(pool);
}

/* LSRR (copied), RR (not copied), NOP, EOL. */
static const uint8_t opts_mixed[16] = {0x83, 7, 4, 10, 0, 0, 1, 0x07, 7, 4, 0, 0, 0, 0, 0x01, 0};
static const uint8_t opts_mixed_rest[8] = {0x83, 7, 4, 10, 0, 0, 1, 0};
/* RR then timestamp: nothing is copied. */
static const uint8_t opts_none_copied[12] = {0x07, 7, 4, 0, 0, 0, 0, 0x44, 4, 5, 0, 0};
/* Router alert (copied, RFC 2113) after a NOP. */
static const uint8_t opts_ra[8] = {0x01, 0x94, 4, 0, 0, 0, 0, 0};
static const uint8_t opts_ra_rest[4] = {0x94, 4, 0, 0};

static void test_fragment_options(void **state)
{
        static const struct {
                const uint8_t *opts, *rest;
                uint32_t len, rest_len;
        } cases[] = {
            {opts_mixed, opts_mixed_rest, sizeof(opts_mixed), sizeof(opts_mixed_rest)},
            {opts_none_copied, NULL, sizeof(opts_none_copied), 0},
            {opts_ra, opts_ra_rest, sizeof(opts_ra), sizeof(opts_ra_rest)},
        };
        struct mpnet_pool *pool = mpnet_pool_create("frag", 256);
        struct ip4_reass *r = ip4_reass_create(NULL);
        struct mpnet_pkt *f[MAX_OUT], *done = NULL;

        (void)state;
        assert_non_null(r);
        for (unsigned c = 0; c < 3; c++) {
                struct dgram d;
                int n;

                dgram_build(&d, SRC_A, (uint16_t)(100 + c), PROTO_UD, 3000, cases[c].opts,
                            cases[c].len, c);
                n = ip4_fragment(pool, dgram_pkt(pool, &d), 576, f, MAX_OUT);
                if (c == 0) /* 536 bytes after a 36-byte header, then 544 after 28 */
                        assert_int_equal(n, 6);
                check_frags(&d, f, n, 576, cases[c].rest, cases[c].rest_len);
                /* Reassembly keeps the first fragment's header, options and all. */
                for (int i = n - 1; i >= 0; i--)
                        input(r, f[i], T0, i == 0 ? &done : NULL);
                assert_non_null(done);
                check_dgram(done, &d);
                mpnet_pkt_free(done);
                free(d.b);
        }
        ip4_reass_destroy(r);
        pool_done(pool);
}

static void test_fragment_df(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 64);
        struct mpnet_pkt *f[MAX_OUT], *p;
        struct dgram d;

        (void)state;
        dgram_build(&d, SRC_A, 1, MPNET_IPPROTO_ICMP, 2980, NULL, 0, 1);
        write_hdr(d.b, d.hlen, d.len, 1, F_DF, MPNET_IPPROTO_ICMP, SRC_A, DST);
        p = dgram_pkt(pool, &d);
        assert_int_equal(ip4_fragment(pool, p, 1500, f, MAX_OUT), -EMSGSIZE);
        /* p is still the caller's and nothing else was taken. */
        assert_int_equal(mpnet_pool_in_use(pool), p->nb_segs);
        /* DF does not matter when the datagram fits: it passes through. */
        assert_int_equal(ip4_fragment(pool, p, 3000, f, MAX_OUT), 1);
        assert_ptr_equal(f[0], p);
        assert_int_equal(ip4_fragment(pool, p, 3000, f, 0), -ENOSPC);
        mpnet_pkt_free(p);
        free(d.b);
        pool_done(pool);
}

static void test_fragment_errors(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 5);
        struct mpnet_pkt *f[MAX_OUT], *p;
        uint32_t used;
        struct dgram d;

        (void)state;
        dgram_build(&d, SRC_A, 2, PROTO_UD, 7980, NULL, 0, 2);
        p = dgram_pkt(pool, &d);
        used = mpnet_pool_in_use(pool);
        assert_int_equal(used, 4);
        assert_int_equal(ip4_fragment(pool, p, IP4_MIN_MTU - 1, f, MAX_OUT), -EINVAL);
        assert_int_equal(ip4_fragment(pool, p, 1500, f, 5), -ENOSPC);
        /* Six fragments, one buffer left: what was taken goes back. */
        assert_int_equal(ip4_fragment(pool, p, 1500, f, MAX_OUT), -ENOBUFS);
        assert_int_equal(mpnet_pool_in_use(pool), used);
        p->ol_flags |= MPNET_PKT_F_L4_CSUM_TX;
        assert_int_equal(ip4_fragment(pool, p, 1500, f, MAX_OUT), -EOPNOTSUPP);
        p->ol_flags = 0;

        /* Malformed headers. */
        p->data[0] = 0x65;
        assert_int_equal(ip4_fragment(pool, p, 1500, f, MAX_OUT), -EINVAL);
        p->data[0] = 0x44;
        assert_int_equal(ip4_fragment(pool, p, 1500, f, MAX_OUT), -EINVAL);
        p->data[0] = 0x45;
        mpnet_put_be16(p->data + 2, 8001);
        assert_int_equal(ip4_fragment(pool, p, 1500, f, MAX_OUT), -EINVAL);
        mpnet_put_be16(p->data + 2, 16);
        assert_int_equal(ip4_fragment(pool, p, 1500, f, MAX_OUT), -EINVAL);
        mpnet_pkt_free(p);
        free(d.b);

        /* An option whose length runs past the header. */
        {
                static const uint8_t bad_opts[4] = {0x83, 9, 4, 0};

                dgram_build(&d, SRC_A, 3, PROTO_UD, 1000, bad_opts, sizeof(bad_opts), 3);
                p = dgram_pkt(pool, &d);
                assert_int_equal(ip4_fragment(pool, p, 576, f, MAX_OUT), -EINVAL);
                p->data[21] = 1; /* length below 2 */
                assert_int_equal(ip4_fragment(pool, p, 576, f, MAX_OUT), -EINVAL);
                mpnet_pkt_free(p);
                free(d.b);
        }
        pool_done(pool);
}

/* Fragmenting a fragment: offsets add up, MF stays on the last piece of a
 * non-last fragment, and the pieces of pieces reassemble. */
static void test_refragment(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 256);
        struct ip4_reass *r = ip4_reass_create(NULL);
        struct mpnet_pkt *f[MAX_OUT], *g[MAX_OUT], *done = NULL;
        struct dgram d;
        int n, m, total = 0;

        (void)state;
        dgram_build(&d, SRC_B, 9, PROTO_UD, 4000, NULL, 0, 9);
        n = ip4_fragment(pool, dgram_pkt(pool, &d), 1500, f, MAX_OUT);
        assert_int_equal(n, 3);
        /* The middle one (offset 1480, MF) over a 576-byte link. */
        m = ip4_fragment(pool, f[1], 576, g, MAX_OUT);
        assert_int_equal(m, 3);
        for (int i = 0; i < m; i++) {
                struct mpnet_ip4_view v;

                assert_int_equal(mpnet_ip4_view_check(g[i]->data, g[i]->len, &v), 0);
                assert_true(mpnet_ip4_csum_ok(&v));
                assert_true(mpnet_ip4_mf(&v));
                assert_int_equal(mpnet_ip4_frag_off(&v), 1480 + 552 * i);
        }
        /* The last one (offset 2960, no MF): only its last piece lacks MF. */
        n = ip4_fragment(pool, f[2], 576, f + 1, MAX_OUT - 1);
        assert_int_equal(n, 2);
        for (int i = 0; i < n; i++) {
                struct mpnet_ip4_view v;

                assert_int_equal(mpnet_ip4_view_check(f[1 + i]->data, f[1 + i]->len, &v), 0);
                assert_int_equal(mpnet_ip4_mf(&v), i == 0);
                assert_int_equal(mpnet_ip4_frag_off(&v), 2960 + 552 * i);
        }
        total = 1 + n;
        for (int i = 0; i < m; i++)
                f[total++] = g[i];
        for (int i = total - 1; i >= 0; i--)
                input(r, f[i], T0, i == 0 ? &done : NULL);
        assert_non_null(done);
        check_dgram(done, &d);
        mpnet_pkt_free(done);
        free(d.b);
        ip4_reass_destroy(r);
        pool_done(pool);
}

/* ---- reassembly ---- */

static void test_not_a_fragment(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 16);
        struct ip4_reass *r = ip4_reass_create(NULL);
        struct mpnet_pkt *p, *out;
        enum ip4_reass_result res;
        struct dgram d;

        (void)state;
        dgram_build(&d, SRC_A, 1, PROTO_UD, 100, NULL, 0, 1);
        p = dgram_pkt(pool, &d);
        out = ip4_reass_input(r, p, T0, &res);
        assert_ptr_equal(out, p);
        assert_int_equal(res, IP4_REASS_DONE);
        assert_int_equal(stats(r).frags_in, 0);
        mpnet_pkt_free(p);
        free(d.b);
        assert_non_null(ip4_reass_result_str(IP4_REASS_OVERLAP));
        ip4_reass_destroy(r);
        pool_done(pool);
}

static void test_overlap(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 64);
        struct ip4_reass *r = ip4_reass_create(NULL);
        struct mpnet_pkt *done = NULL;
        uint8_t buf[48];

        (void)state;
        /* Same bytes, partial overlap: still the whole datagram goes. */
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 1, 0, 16, true, 0), T0, NULL),
                         IP4_REASS_HELD);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 1, 8, 16, true, 0), T0, NULL),
                         IP4_REASS_OVERLAP);
        assert_int_equal(stats(r).overlap_drops, 1);
        assert_int_equal(stats(r).datagrams_held, 0);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* The last fragment reaching back into a held one. */
        input(r, mkfrag(pool, SRC_A, 2, 0, 16, true, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 2, 8, 30, false, 0), T0, NULL),
                         IP4_REASS_OVERLAP);
        /* A fragment inside a held one. */
        input(r, mkfrag(pool, SRC_A, 3, 0, 24, true, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 3, 8, 8, true, 0), T0, NULL),
                         IP4_REASS_OVERLAP);
        /* A fragment covering two held ones. */
        input(r, mkfrag(pool, SRC_A, 4, 8, 8, true, 0), T0, NULL);
        input(r, mkfrag(pool, SRC_A, 4, 24, 8, true, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 4, 0, 40, true, 0), T0, NULL),
                         IP4_REASS_OVERLAP);
        /* Same range, different bytes (the Teardrop-style rewrite). */
        input(r, mkfrag(pool, SRC_A, 5, 0, 16, true, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 5, 0, 16, true, 0x5a), T0, NULL),
                         IP4_REASS_OVERLAP);
        assert_int_equal(stats(r).overlap_drops, 5);
        assert_int_equal(stats(r).datagrams_held, 0);
        assert_int_equal(stats(r).bytes_held, 0);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* An exact duplicate goes alone; the datagram still completes. */
        input(r, mkfrag(pool, SRC_A, 6, 0, 16, true, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 6, 0, 16, true, 0), T0, NULL), IP4_REASS_DUP);
        input(r, mkfrag(pool, SRC_A, 6, 32, 12, false, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 6, 32, 12, false, 0), T0, NULL),
                         IP4_REASS_DUP);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 6, 16, 16, true, 0), T0, &done),
                         IP4_REASS_DONE);
        assert_int_equal(done->pkt_len, 20 + 44);
        assert_int_equal(mpnet_pkt_read(done, 20, buf, 44), 0);
        for (uint32_t i = 0; i < 44; i++)
                assert_int_equal(buf[i], pat(i, 6));
        mpnet_pkt_free(done);
        assert_int_equal(stats(r).dup_drops, 2);
        assert_int_equal(stats(r).overlap_drops, 5);
        assert_int_equal(stats(r).completed, 1);
        ip4_reass_destroy(r);
        pool_done(pool);
}

static void test_bad_and_conflict(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 64);
        struct ip4_reass *r = ip4_reass_create(NULL);
        struct mpnet_pkt *p, *done = NULL;
        uint8_t b[64];

        (void)state;
        /* Not a multiple of 8 before the end (RFC 791 3.2). */
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 1, 0, 12, true, 0), T0, NULL), IP4_REASS_BAD);
        /* Past 65535 bytes ("ping of death"), and just within. */
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 2, 65528, 16, false, 0), T0, NULL),
                         IP4_REASS_BAD);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 2, 65512, 8, false, 0), T0, NULL),
                         IP4_REASS_BAD);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 2, 65504, 8, false, 0), T0, NULL),
                         IP4_REASS_HELD);
        /* No data. */
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 3, 8, 0, true, 0), T0, NULL), IP4_REASS_BAD);
        /* Total length beyond the packet, and a wrong version. */
        p = mkfrag(pool, SRC_A, 3, 8, 8, true, 0);
        mpnet_put_be16(p->data + 2, 29);
        assert_int_equal(input(r, p, T0, NULL), IP4_REASS_BAD);
        p = mkfrag(pool, SRC_A, 3, 8, 8, true, 0);
        p->data[0] = 0x55;
        assert_int_equal(input(r, p, T0, NULL), IP4_REASS_BAD);
        assert_int_equal(stats(r).bad_drops, 6);
        assert_int_equal(stats(r).frags_in, 7);
        assert_int_equal(stats(r).datagrams_held, 1);

        /* Two different ends. */
        input(r, mkfrag(pool, SRC_A, 10, 16, 8, false, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 10, 24, 8, false, 0), T0, NULL),
                         IP4_REASS_CONFLICT);
        /* A fragment with MF past the end. */
        input(r, mkfrag(pool, SRC_A, 11, 16, 8, false, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 11, 24, 8, true, 0), T0, NULL),
                         IP4_REASS_CONFLICT);
        /* An end before data already held. */
        input(r, mkfrag(pool, SRC_A, 12, 24, 16, true, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 12, 8, 8, false, 0), T0, NULL),
                         IP4_REASS_CONFLICT);
        /* The same range without MF as a held fragment with MF. */
        input(r, mkfrag(pool, SRC_A, 13, 16, 16, true, 0), T0, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 13, 16, 16, false, 0), T0, NULL),
                         IP4_REASS_CONFLICT);
        assert_int_equal(stats(r).conflict_drops, 4);
        assert_int_equal(stats(r).datagrams_held, 1);
        assert_int_equal(mpnet_pool_in_use(pool), 1);

        /* Link padding past the total length is trimmed. */
        p = mkfrag(pool, SRC_B, 20, 8, 8, false, 0);
        memset(mpnet_pkt_append(p, 10), 0xee, 10);
        assert_int_equal(input(r, p, T0, NULL), IP4_REASS_HELD);
        input(r, mkfrag(pool, SRC_B, 20, 0, 8, true, 0), T0, &done);
        assert_non_null(done);
        assert_int_equal(done->pkt_len, 36);
        assert_int_equal(mpnet_pkt_read(done, 0, b, 36), 0);
        assert_int_equal(mpnet_csum(b, 20), 0);
        assert_int_equal(mpnet_get_be16(b + 2), 36);
        assert_int_equal(mpnet_get_be16(b + 6), 0);
        for (uint32_t i = 0; i < 16; i++)
                assert_int_equal(b[20 + i], pat(i, 20));
        mpnet_pkt_free(done);
        ip4_reass_destroy(r);
        pool_done(pool);
}

/* Fragments that are chains themselves, one with its header alone in the
 * first segment. */
static void test_chained_fragments(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 64);
        struct ip4_reass *r = ip4_reass_create(NULL);
        struct mpnet_pkt *a, *b, *c, *done = NULL;
        uint8_t *buf = malloc(8020);
        struct dgram d;

        (void)state;
        assert_non_null(buf);
        dgram_build(&d, SRC_C, 77, PROTO_UD, 8000, NULL, 0, 77);
        /* a: data [0, 4000) as a two-segment chain. */
        memcpy(buf, d.b, 20);
        memcpy(buf + 20, d.b + 20, 4000);
        write_hdr(buf, 20, 4020, 77, F_MF, PROTO_UD, SRC_C, DST);
        a = mpnet_pkt_from_bytes(pool, buf, 4020);
        assert_int_equal(a->nb_segs, 2);
        /* b: data [4000, 6000) in one buffer. */
        memcpy(buf + 20, d.b + 20 + 4000, 2000);
        write_hdr(buf, 20, 2020, 77, F_MF | 500, PROTO_UD, SRC_C, DST);
        b = mpnet_pkt_from_bytes(pool, buf, 2020);
        /* c: data [6000, 8000), the header alone in the first segment. */
        write_hdr(buf, 20, 2020, 77, 750, PROTO_UD, SRC_C, DST);
        c = mpnet_pkt_from_bytes(pool, buf, 20);
        c->next = mpnet_pkt_from_bytes(pool, d.b + 20 + 6000, 2000);
        c->nb_segs = 2;
        c->pkt_len = 2020;
        assert_int_equal(input(r, c, T0, NULL), IP4_REASS_HELD);
        assert_int_equal(stats(r).bytes_held, 2 * IP4_REASS_TRUESIZE);
        assert_int_equal(input(r, a, T0, NULL), IP4_REASS_HELD);
        assert_int_equal(input(r, b, T0, &done), IP4_REASS_DONE);
        check_dgram(done, &d);
        /* a's two, b's one, c's data segment (its empty header segment freed). */
        assert_int_equal(done->nb_segs, 4);
        mpnet_pkt_free(done);
        free(d.b);
        free(buf);
        ip4_reass_destroy(r);
        pool_done(pool);
}

static void test_src_cap(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 1024);
        struct ip4_reass *r = ip4_reass_create(NULL);
        const uint64_t per_src = (256u << 10) / IP4_REASS_TRUESIZE;
        struct mpnet_pkt *f[MAX_OUT], *done = NULL;
        unsigned held = 0, capped = 0;
        struct dgram d;
        int n;

        (void)state;
        assert_non_null(r);
        /* A floods with one tiny first fragment per datagram. */
        for (unsigned i = 0; i < 200; i++) {
                enum ip4_reass_result res =
                    input(r, mkfrag(pool, SRC_A, (uint16_t)i, 0, 8, true, 0), T0, NULL);

                assert_true(res == IP4_REASS_HELD || res == IP4_REASS_CAP);
                held += res == IP4_REASS_HELD;
                capped += res == IP4_REASS_CAP;
        }
        assert_int_equal(held, per_src);
        assert_int_equal(capped, 200 - per_src);
        assert_int_equal(stats(r).bytes_held, per_src * IP4_REASS_TRUESIZE);

        /* C floods one datagram with tiny fragments: the 65th drops it. */
        for (unsigned i = 0; i < 64; i++)
                assert_int_equal(input(r, mkfrag(pool, SRC_C, 1, 8 * i, 8, true, 0), T0, NULL),
                                 IP4_REASS_HELD);
        assert_int_equal(input(r, mkfrag(pool, SRC_C, 1, 8 * 64, 8, true, 0), T0, NULL),
                         IP4_REASS_CAP);
        assert_int_equal(stats(r).datagrams_held, per_src);

        /* B's datagram completes while A keeps flooding. */
        dgram_build(&d, SRC_B, 0, MPNET_IPPROTO_ICMP, 7980, NULL, 0, 5);
        n = ip4_fragment(pool, dgram_pkt(pool, &d), 1500, f, MAX_OUT);
        assert_int_equal(n, 6);
        for (int i = 0; i < n; i++) {
                assert_int_equal(
                    input(r, mkfrag(pool, SRC_A, (uint16_t)(1000 + i), 0, 8, true, 0), T0, NULL),
                    IP4_REASS_CAP);
                input(r, f[i], T0, i == n - 1 ? &done : NULL);
        }
        assert_non_null(done);
        check_dgram(done, &d);
        mpnet_pkt_free(done);
        free(d.b);
        assert_int_equal(stats(r).cap_drops, 200 - per_src + 1 + 6);
        assert_int_equal(stats(r).completed, 1);
        assert_int_equal(stats(r).evictions, 0);
        ip4_reass_destroy(r);
        pool_done(pool);
}

static void test_max_datagrams(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 256);
        struct ip4_reass_cfg cfg = {.max_datagrams = 4};
        struct ip4_reass *r = ip4_reass_create(&cfg);
        struct mpnet_pkt *f[5][3], *done = NULL;
        struct dgram d[5];

        (void)state;
        assert_non_null(r);
        for (unsigned k = 0; k < 5; k++) {
                dgram_build(&d[k], SRC_A + k, (uint16_t)k, PROTO_UD, 2500, NULL, 0, k);
                assert_int_equal(ip4_fragment(pool, dgram_pkt(pool, &d[k]), 1000, f[k], 3), 3);
                input(r, f[k][0], T0 + k, NULL);
                input(r, f[k][1], T0 + k, NULL);
                assert_int_equal(stats(r).datagrams_held, k < 4 ? k + 1 : 4);
        }
        /* The fifth evicted the oldest. */
        assert_int_equal(stats(r).evictions, 1);
        assert_int_equal(stats(r).bytes_held, 8 * IP4_REASS_TRUESIZE);
        /* 0's last piece starts a new datagram, evicting 1. */
        assert_int_equal(input(r, f[0][2], T0 + 10, NULL), IP4_REASS_HELD);
        assert_int_equal(stats(r).evictions, 2);
        for (unsigned k = 2; k < 5; k++) {
                assert_int_equal(input(r, f[k][2], T0 + 10, &done), IP4_REASS_DONE);
                check_dgram(done, &d[k]);
                mpnet_pkt_free(done);
        }
        assert_int_equal(input(r, f[1][2], T0 + 10, NULL), IP4_REASS_HELD);
        assert_int_equal(stats(r).datagrams_held, 2);
        assert_int_equal(stats(r).completed, 3);
        ip4_reass_destroy(r);
        for (unsigned k = 0; k < 5; k++)
                free(d[k].b);
        pool_done(pool);
}

/* The admit hook: asked only for a new datagram at a cap, with its
 * source; a refusal evicts nothing, holds nothing and is counted. */
struct admit_log {
        unsigned calls;
        uint32_t last_src, peer;
};

static bool admit_peer(void *arg, uint32_t src)
{
        struct admit_log *a = arg;

        a->calls++;
        a->last_src = src;
        return src == a->peer;
}

static void test_admit(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 256);
        struct admit_log log = {.peer = SRC_A + 3};
        struct ip4_reass_cfg cfg = {.max_datagrams = 2, .admit = admit_peer, .arg = &log};
        struct ip4_reass *r = ip4_reass_create(&cfg);
        struct mpnet_pkt *f[4][3], *done = NULL;
        struct dgram d[4];

        (void)state;
        assert_non_null(r);
        for (unsigned k = 0; k < 4; k++) {
                dgram_build(&d[k], SRC_A + k, (uint16_t)k, PROTO_UD, 2500, NULL, 0, k);
                assert_int_equal(ip4_fragment(pool, dgram_pkt(pool, &d[k]), 1000, f[k], 3), 3);
        }
        /* Room for two: the hook is not asked. */
        assert_int_equal(input(r, f[0][0], T0, NULL), IP4_REASS_HELD);
        assert_int_equal(input(r, f[1][0], T0, NULL), IP4_REASS_HELD);
        assert_int_equal(log.calls, 0);
        /* Full: a stranger's new datagram is refused, nothing evicted. */
        assert_int_equal(input(r, f[2][0], T0 + 1, NULL), IP4_REASS_CAP);
        assert_int_equal(log.calls, 1);
        assert_int_equal(log.last_src, SRC_A + 2);
        assert_int_equal(stats(r).refused, 1);
        assert_int_equal(stats(r).evictions, 0);
        assert_int_equal(stats(r).datagrams_held, 2);
        assert_int_equal(stats(r).bytes_held, 2 * IP4_REASS_TRUESIZE);
        /* A held datagram's fragments never meet the hook. */
        assert_int_equal(input(r, f[1][1], T0 + 1, NULL), IP4_REASS_HELD);
        assert_int_equal(log.calls, 1);
        /* The peer's new datagram evicts the oldest and completes. */
        assert_int_equal(input(r, f[3][0], T0 + 2, NULL), IP4_REASS_HELD);
        assert_int_equal(log.calls, 2);
        assert_int_equal(stats(r).evictions, 1);
        assert_int_equal(input(r, f[3][1], T0 + 2, NULL), IP4_REASS_HELD);
        assert_int_equal(input(r, f[3][2], T0 + 2, &done), IP4_REASS_DONE);
        check_dgram(done, &d[3]);
        mpnet_pkt_free(done);
        assert_int_equal(input(r, f[1][2], T0 + 2, &done), IP4_REASS_DONE);
        check_dgram(done, &d[1]);
        mpnet_pkt_free(done);
        assert_int_equal(stats(r).refused, 1);
        assert_int_equal(stats(r).datagrams_held, 0);
        ip4_reass_destroy(r);
        /* What was never given to r (the refused datagram's other pieces,
         * the evicted one's) goes back here. */
        for (unsigned k = 0; k < 3; k++)
                for (unsigned i = 1; i < 3; i++)
                        if (k != 1)
                                mpnet_pkt_free(f[k][i]);
        for (unsigned k = 0; k < 4; k++)
                free(d[k].b);
        pool_done(pool);
}

static void test_max_bytes(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 256);
        struct ip4_reass_cfg cfg = {.max_bytes = 5 * IP4_REASS_TRUESIZE,
                                    .max_per_src = 3 * IP4_REASS_TRUESIZE};
        struct ip4_reass *r = ip4_reass_create(&cfg);
        struct mpnet_pkt *done = NULL;

        (void)state;
        assert_non_null(r);
        /* A holds 2 buffers, B 2; C's second fragment evicts A, the oldest. */
        input(r, mkfrag(pool, SRC_A, 1, 0, 8, true, 0), T0, NULL);
        input(r, mkfrag(pool, SRC_A, 1, 16, 8, true, 0), T0, NULL);
        input(r, mkfrag(pool, SRC_B, 1, 0, 8, true, 0), T0 + 1, NULL);
        input(r, mkfrag(pool, SRC_B, 1, 16, 8, false, 0), T0 + 1, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_C, 1, 0, 8, true, 0), T0 + 2, NULL),
                         IP4_REASS_HELD);
        assert_int_equal(input(r, mkfrag(pool, SRC_C, 1, 8, 8, true, 0), T0 + 2, NULL),
                         IP4_REASS_HELD);
        assert_int_equal(stats(r).evictions, 1);
        assert_int_equal(stats(r).bytes_held, 4 * IP4_REASS_TRUESIZE);
        /* C's third buffer fits the global cap after evicting nothing more... */
        assert_int_equal(input(r, mkfrag(pool, SRC_C, 1, 24, 8, false, 0), T0 + 3, NULL),
                         IP4_REASS_HELD);
        assert_int_equal(stats(r).evictions, 1);
        /* ...but a fourth would pass C's own cap: refused. */
        assert_int_equal(input(r, mkfrag(pool, SRC_C, 1, 16, 8, true, 0), T0 + 3, NULL),
                         IP4_REASS_CAP);
        /* B's last piece needs room: C, the oldest other datagram, goes. */
        assert_int_equal(input(r, mkfrag(pool, SRC_B, 1, 8, 8, true, 0), T0 + 3, &done),
                         IP4_REASS_DONE);
        assert_int_equal(done->pkt_len, 20 + 24);
        mpnet_pkt_free(done);
        assert_int_equal(stats(r).evictions, 2);
        assert_int_equal(stats(r).datagrams_held, 0);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        ip4_reass_destroy(r);
        pool_done(pool);
}

struct expiry_log {
        unsigned calls;
        uint16_t last_id;
        uint16_t last_frag_field;
};

static void on_expired(void *arg, struct mpnet_pkt *first)
{
        struct expiry_log *log = arg;

        log->calls++;
        log->last_id = mpnet_get_be16(first->data + 4);
        log->last_frag_field = mpnet_get_be16(first->data + 6);
}

static void test_timeout(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 64);
        struct expiry_log log = {0};
        struct ip4_reass_cfg cfg = {.expired = on_expired, .arg = &log};
        struct ip4_reass *r = ip4_reass_create(&cfg);
        const uint64_t to = 30 * MPNET_NS_PER_S;

        (void)state;
        assert_non_null(r);
        assert_int_equal(ip4_reass_next_expiry(r), MPNET_TIME_NEVER);
        input(r, mkfrag(pool, SRC_A, 1, 0, 16, true, 0), T0, NULL);
        input(r, mkfrag(pool, SRC_A, 2, 16, 16, true, 0), T0 + MPNET_NS_PER_S, NULL);
        /* A later fragment does not extend the lifetime. */
        input(r, mkfrag(pool, SRC_A, 1, 32, 8, true, 0), T0 + 2 * MPNET_NS_PER_S, NULL);
        assert_int_equal(ip4_reass_next_expiry(r), T0 + to);
        assert_int_equal(ip4_reass_expire(r, T0 + to - 1), 0);
        assert_int_equal(log.calls, 0);
        /* Datagram 1 had its offset-0 fragment: the callback sees it. */
        assert_int_equal(ip4_reass_expire(r, T0 + to), 1);
        assert_int_equal(log.calls, 1);
        assert_int_equal(log.last_id, 1);
        assert_int_equal(log.last_frag_field, F_MF);
        assert_int_equal(ip4_reass_next_expiry(r), T0 + MPNET_NS_PER_S + to);
        /* Datagram 2 had not: no callback. */
        assert_int_equal(ip4_reass_expire(r, T0 + MPNET_NS_PER_S + to), 1);
        assert_int_equal(log.calls, 1);
        assert_int_equal(ip4_reass_next_expiry(r), MPNET_TIME_NEVER);
        assert_int_equal(stats(r).timeouts, 2);
        assert_int_equal(stats(r).datagrams_held, 0);
        assert_int_equal(mpnet_pool_in_use(pool), 0);

        /* A fragment arriving after the timeout (without an expire call in
         * between) starts afresh instead of completing a stale datagram. */
        input(r, mkfrag(pool, SRC_A, 3, 0, 16, true, 0), T0 + 2 * to, NULL);
        assert_int_equal(input(r, mkfrag(pool, SRC_A, 3, 16, 8, false, 0), T0 + 3 * to, NULL),
                         IP4_REASS_HELD);
        assert_int_equal(log.calls, 2);
        assert_int_equal(log.last_id, 3);
        assert_int_equal(stats(r).timeouts, 3);
        /* Destroy frees without calling back. */
        ip4_reass_destroy(r);
        assert_int_equal(log.calls, 2);
        pool_done(pool);
}

static void test_create_cfg(void **state)
{
        struct ip4_reass_cfg cfg = {.timeout_ns = 1};
        struct ip4_reass *r;

        (void)state;
        assert_null(ip4_reass_create(&cfg));
        assert_int_equal(errno, EINVAL);
        cfg = (struct ip4_reass_cfg){.max_frags = 1};
        assert_null(ip4_reass_create(&cfg));
        cfg = (struct ip4_reass_cfg){.max_bytes = 1u << 20, .max_per_src = 2u << 20};
        assert_null(ip4_reass_create(&cfg));
        cfg = (struct ip4_reass_cfg){.max_bytes = 1};
        assert_null(ip4_reass_create(&cfg));
        r = ip4_reass_create(NULL);
        assert_non_null(r);
        ip4_reass_destroy(r);
        ip4_reass_destroy(NULL);
}

/* Router alert, LSRR + RR, RR + timestamp: with what non-first fragments keep. */
static const struct {
        const uint8_t *opts, *rest;
        uint32_t len, rest_len;
} rnd_opts[] = {
    {NULL, NULL, 0, 0},
    {opts_mixed, opts_mixed_rest, sizeof(opts_mixed), sizeof(opts_mixed_rest)},
    {opts_none_copied, NULL, sizeof(opts_none_copied), 0},
    {opts_ra, opts_ra_rest, sizeof(opts_ra), sizeof(opts_ra_rest)},
};

static void test_random(void **state)
{
        enum { N = 1000, MAX_ALL = 14000 };
        struct mpnet_pool *pool = mpnet_pool_create("frag", 16384);
        struct ip4_reass_cfg cfg = {.max_bytes = 64u << 20,
                                    .max_per_src = 64u << 20,
                                    .max_frags = 8192,
                                    .max_datagrams = 2048,
                                    .hash_seed = 0xfeedface};
        struct ip4_reass *r = ip4_reass_create(&cfg);
        struct mpnet_pkt **all = calloc(MAX_ALL, sizeof(*all));
        struct dgram *d = calloc(N, sizeof(*d));
        bool *done = calloc(N, sizeof(*done));
        unsigned nall = 0, nfrag_dg = 0, ndups = 0, ndone = 0;
        uint64_t seed = 0x9e3779b97f4a7c15ull, now = T0;
        struct ip4_reass_stats st;

        (void)state;
        assert_non_null(pool);
        assert_non_null(r);
        assert_non_null(all);
        for (unsigned i = 0; i < N; i++) {
                static const uint8_t protos[] = {MPNET_IPPROTO_ICMP, MPNET_IPPROTO_TCP, PROTO_UD};
                uint32_t dlen = 1 + (uint32_t)(rnd_next(&seed) % 6000);
                uint32_t mtu = rnd_next(&seed) % 4 != 0 ? 68 + (uint32_t)(rnd_next(&seed) % 1433)
                                                        : 1500 + (uint32_t)(rnd_next(&seed) % 7501);
                unsigned o = rnd_next(&seed) % 3 == 0 ? 1 + (unsigned)(rnd_next(&seed) % 3) : 0;
                uint32_t src = IP4(10, 0, (unsigned)(rnd_next(&seed) % 4),
                                   1 + (unsigned)(rnd_next(&seed) % 8));
                int n;

                dgram_build(&d[i], src, (uint16_t)i, protos[rnd_next(&seed) % 3], dlen,
                            rnd_opts[o].opts, rnd_opts[o].len, i);
                n = ip4_fragment(pool, dgram_pkt(pool, &d[i]), mtu, all + nall, MAX_ALL - nall - 1);
                assert_true(n >= 1);
                if (n == 1) {
                        assert_true(d[i].len <= mtu);
                } else {
                        check_frags(&d[i], all + nall, n, mtu, rnd_opts[o].rest,
                                    rnd_opts[o].rest_len);
                        nfrag_dg++;
                        if (rnd_next(&seed) % 16 == 0) {
                                all[nall + (unsigned)n] = mpnet_pkt_copy(
                                    pool, all[nall + (unsigned)(rnd_next(&seed) % (unsigned)n)]);
                                assert_non_null(all[nall + (unsigned)n]);
                                n++;
                                ndups++;
                        }
                }
                nall += (unsigned)n;
        }
        shuffle(all, nall, &seed);
        for (unsigned k = 0; k < nall; k++) {
                struct mpnet_pkt *out;
                enum ip4_reass_result res = input(r, all[k], now, &out);
                uint16_t id;

                now += 1000;
                if (out == NULL) {
                        assert_true(res == IP4_REASS_HELD || res == IP4_REASS_DUP);
                        continue;
                }
                id = mpnet_get_be16(out->data + 4);
                assert_true(id < N);
                assert_false(done[id]);
                check_dgram(out, &d[id]);
                done[id] = true;
                ndone++;
                mpnet_pkt_free(out);
        }
        assert_int_equal(ndone, N);
        st = stats(r);
        assert_int_equal(st.completed, nfrag_dg);
        /* A duplicate that came after its datagram completed waits alone. */
        assert_int_equal(st.dup_drops + st.datagrams_held, ndups);
        assert_int_equal(
            st.overlap_drops + st.conflict_drops + st.bad_drops + st.cap_drops + st.evictions, 0);
        assert_int_equal(ip4_reass_expire(r, now + 30 * MPNET_NS_PER_S), st.datagrams_held);
        assert_int_equal(stats(r).bytes_held, 0);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        print_message("random: %u datagrams (%u fragmented) in %u packets, %u duplicates\n", N,
                      nfrag_dg, nall, ndups);
        for (unsigned i = 0; i < N; i++)
                free(d[i].b);
        free(d);
        free(done);
        free(all);
        ip4_reass_destroy(r);
        pool_done(pool);
}

/* Random, mostly inconsistent fragments under small caps: whatever happens,
 * the accounting matches the buffers really held, the caps hold, and what
 * completes is a well-formed datagram. */
static void test_random_garbage(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 512);
        struct ip4_reass_cfg cfg = {.timeout_ns = MPNET_NS_PER_MS,
                                    .max_bytes = 100 * IP4_REASS_TRUESIZE,
                                    .max_per_src = 10 * IP4_REASS_TRUESIZE,
                                    .max_datagrams = 12,
                                    .max_frags = 16};
        struct ip4_reass *r = ip4_reass_create(&cfg);
        uint64_t seed = 42, now = T0;
        unsigned completed = 0;

        (void)state;
        assert_non_null(r);
        for (unsigned i = 0; i < 20000; i++) {
                uint32_t k = (uint32_t)(rnd_next(&seed) % 24), src = SRC_A + k % 3;
                uint16_t id = (uint16_t)(k / 3);
                /* Mostly pieces of a 32-byte grid over a fixed length per key. */
                uint32_t total = 32 * (1 + k % 6) + k % 5 + 1;
                uint32_t off = 32 * (uint32_t)(rnd_next(&seed) % ((total + 31) / 32));
                uint32_t len = total - off < 32 ? total - off : 32;
                bool mf = off + len < total;
                uint8_t flip = rnd_next(&seed) % 50 == 0;

                if (rnd_next(&seed) % 10 == 0) {
                        off = 8 * (uint32_t)(rnd_next(&seed) % 32);
                        mf = rnd_next(&seed) % 4 != 0;
                        len = mf ? 8 * (1 + (uint32_t)(rnd_next(&seed) % 8))
                                 : 1 + (uint32_t)(rnd_next(&seed) % 64);
                }
                if (off == 0 && !mf) { /* that would be no fragment */
                        mf = true;
                        len = 8;
                }
                struct mpnet_pkt *out;
                struct ip4_reass_stats st;

                input(r, mkfrag(pool, src, id, off, len, mf, flip), now, &out);
                if (out != NULL) {
                        uint8_t h[20];
                        uint64_t segs = 0;

                        for (struct mpnet_pkt *q = out; q != NULL; q = q->next)
                                segs++;
                        assert_int_equal(out->nb_segs, segs);
                        assert_int_equal(mpnet_pkt_read(out, 0, h, 20), 0);
                        assert_int_equal(mpnet_csum(h, 20), 0);
                        assert_int_equal(mpnet_get_be16(h + 2), out->pkt_len);
                        assert_int_equal(mpnet_get_be16(h + 6), 0);
                        mpnet_pkt_free(out);
                        completed++;
                }
                st = stats(r);
                assert_int_equal(st.bytes_held, mpnet_pool_in_use(pool) * IP4_REASS_TRUESIZE);
                assert_true(st.bytes_held <= cfg.max_bytes);
                assert_true(st.datagrams_held <= cfg.max_datagrams);
                now += 20 * MPNET_NS_PER_US;
        }
        assert_int_equal(stats(r).completed, completed);
        print_message(
            "garbage: %u completed, %llu overlaps, %llu conflicts, %llu evictions, "
            "%llu cap drops, %llu timeouts\n",
            completed, (unsigned long long)stats(r).overlap_drops,
            (unsigned long long)stats(r).conflict_drops, (unsigned long long)stats(r).evictions,
            (unsigned long long)stats(r).cap_drops, (unsigned long long)stats(r).timeouts);
        ip4_reass_destroy(r);
        pool_done(pool);
}

/* Two objects charging one shared cap (as a stack's contexts do): an
 * eviction pays for the fragment that caused it without touching the
 * shared word (make_room nets the two), and whatever the mix of new
 * datagrams, evictions and completions, the word is always what the two
 * hold together, never past its cap. */
static void test_shared_cap(void **state)
{
        struct mpnet_pool *pool = mpnet_pool_create("frag", 512);
        _Atomic uint64_t used = 0;
        struct ip4_reass_cfg cfg = {.max_bytes = 40 * IP4_REASS_TRUESIZE,
                                    .max_per_src = 40 * IP4_REASS_TRUESIZE,
                                    .max_datagrams = 16,
                                    .shared_used = &used,
                                    .shared_max = 24 * IP4_REASS_TRUESIZE};
        struct ip4_reass *r[2] = {ip4_reass_create(&cfg), ip4_reass_create(&cfg)};
        uint64_t seed = 7, now = T0;

        (void)state;
        assert_non_null(r[0]);
        assert_non_null(r[1]);
        /* A flood of one-fragment datagrams into r[0]: past 16 each new one
         * evicts the oldest, and the shared word stays at 16 buffers. */
        for (uint16_t id = 0; id < 100; id++) {
                assert_int_equal(
                    input(r[0], mkfrag(pool, SRC_A + id % 7, id, 8, 8, true, 0), now, NULL),
                    IP4_REASS_HELD);
                assert_int_equal(used, stats(r[0]).bytes_held);
        }
        assert_int_equal(stats(r[0]).datagrams_held, 16);
        assert_int_equal(stats(r[0]).evictions, 100 - 16);
        /* r[1] gets the 8 buffers left; then its own oldest make room. */
        for (uint16_t id = 0; id < 12; id++)
                assert_int_equal(input(r[1], mkfrag(pool, SRC_B, id, 8, 8, true, 0), now, NULL),
                                 IP4_REASS_HELD);
        assert_int_equal(stats(r[1]).datagrams_held, 8);
        assert_int_equal(used, 24 * IP4_REASS_TRUESIZE);
        /* Random pieces into both, some completing. */
        for (unsigned i = 0; i < 20000; i++) {
                unsigned k = (unsigned)(rnd_next(&seed) % 2);
                uint16_t id = (uint16_t)(rnd_next(&seed) % 40);
                uint32_t off = 8 * (uint32_t)(rnd_next(&seed) % 3);
                bool mf = off < 16;
                struct mpnet_pkt *out;

                input(r[k], mkfrag(pool, SRC_C + id % 5, id, off, 8, mf, 0), now, &out);
                mpnet_pkt_free(out);
                assert_int_equal(used, stats(r[0]).bytes_held + stats(r[1]).bytes_held);
                assert_true(used <= cfg.shared_max);
                assert_int_equal(used, mpnet_pool_in_use(pool) * IP4_REASS_TRUESIZE);
                now += MPNET_NS_PER_MS;
        }
        ip4_reass_destroy(r[0]);
        ip4_reass_destroy(r[1]);
        pool_done(pool);
}

/* Datagrams that share a hash chain: one leaving (completed) keeps the
 * others findable (the chain's filter is recomputed, not cleared), so
 * each later fragment joins its datagram and every one completes. 600
 * datagrams on 2,048 chains put dozens of them on shared chains. */
static void test_shared_chains(void **state)
{
        enum { N = 600 };
        struct mpnet_pool *pool = mpnet_pool_create("frag", 2048);
        struct ip4_reass *r = ip4_reass_create(NULL);
        struct mpnet_pkt *done;

        (void)state;
        assert_non_null(r);
        for (unsigned k = 0; k < N; k++)
                assert_int_equal(
                    input(r, mkfrag(pool, SRC_A + k, (uint16_t)k, 0, 8, true, 0), T0, NULL),
                    IP4_REASS_HELD);
        assert_int_equal(stats(r).datagrams_held, N);
        /* Even ones complete first, then the odd ones. */
        for (unsigned pass = 0; pass < 2; pass++) {
                for (unsigned k = pass; k < N; k += 2) {
                        assert_int_equal(input(r,
                                               mkfrag(pool, SRC_A + k, (uint16_t)k, 8, 8, false, 0),
                                               T0 + 1, &done),
                                         IP4_REASS_DONE);
                        assert_int_equal(done->pkt_len, MPNET_IP4_HLEN + 16);
                        mpnet_pkt_free(done);
                }
        }
        assert_int_equal(stats(r).completed, N);
        assert_int_equal(stats(r).datagrams_held, 0);
        ip4_reass_destroy(r);
        pool_done(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fragment_and_reassemble),
            cmocka_unit_test(test_fragment_options),
            cmocka_unit_test(test_fragment_df),
            cmocka_unit_test(test_fragment_errors),
            cmocka_unit_test(test_refragment),
            cmocka_unit_test(test_not_a_fragment),
            cmocka_unit_test(test_overlap),
            cmocka_unit_test(test_bad_and_conflict),
            cmocka_unit_test(test_chained_fragments),
            cmocka_unit_test(test_src_cap),
            cmocka_unit_test(test_max_datagrams),
            cmocka_unit_test(test_admit),
            cmocka_unit_test(test_max_bytes),
            cmocka_unit_test(test_timeout),
            cmocka_unit_test(test_create_cfg),
            cmocka_unit_test(test_random),
            cmocka_unit_test(test_random_garbage),
            cmocka_unit_test(test_shared_cap),
            cmocka_unit_test(test_shared_chains),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
