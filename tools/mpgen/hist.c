/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hist: a log-linear latency histogram (the layout of HdrHistogram with a
 * fixed precision). Values below 2^S (S = MPG_HIST_SUB_BITS) have a bucket
 * each; a value v >= 2^S with its top bit at position e falls in one of 2^(S-1)
 * equal buckets covering [2^e, 2^(e+1)), indexed by the S bits below and
 * including the top one. Adding is a count-leading-zeros and a shift.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <math.h>
#include <string.h>

#include "mpgen.h"

void mpg_hist_reset(struct mpg_hist *h)
{
        memset(h, 0, sizeof(*h));
        h->min = UINT64_MAX;
}

unsigned mpg_hist_index(uint64_t v)
{
        unsigned e, shift;

        if (v < (1u << MPG_HIST_SUB_BITS))
                return (unsigned)v;
        e = 63u - (unsigned)__builtin_clzll(v);
        shift = e - MPG_HIST_SUB_BITS + 1;
        return (1u << MPG_HIST_SUB_BITS) + (e - MPG_HIST_SUB_BITS) * MPG_HIST_HALF +
               (unsigned)((v >> shift) - MPG_HIST_HALF);
}

uint64_t mpg_hist_bucket_low(unsigned idx)
{
        unsigned k, e;

        if (idx < (1u << MPG_HIST_SUB_BITS))
                return idx;
        k = idx - (1u << MPG_HIST_SUB_BITS);
        e = k / MPG_HIST_HALF + MPG_HIST_SUB_BITS;
        return (uint64_t)(k % MPG_HIST_HALF + MPG_HIST_HALF) << (e - MPG_HIST_SUB_BITS + 1);
}

uint64_t mpg_hist_bucket_width(unsigned idx)
{
        unsigned e;

        if (idx < (1u << MPG_HIST_SUB_BITS))
                return 1;
        e = (idx - (1u << MPG_HIST_SUB_BITS)) / MPG_HIST_HALF + MPG_HIST_SUB_BITS;
        return 1ull << (e - MPG_HIST_SUB_BITS + 1);
}

void mpg_hist_add(struct mpg_hist *h, uint64_t v)
{
        h->b[mpg_hist_index(v)]++;
        h->count++;
        h->sum += (double)v;
        if (v < h->min)
                h->min = v;
        if (v > h->max)
                h->max = v;
}

void mpg_hist_merge(struct mpg_hist *dst, const struct mpg_hist *src)
{
        if (src->count == 0)
                return;
        for (unsigned i = 0; i < MPG_HIST_BUCKETS; i++)
                dst->b[i] += src->b[i];
        dst->count += src->count;
        dst->sum += src->sum;
        if (src->min < dst->min)
                dst->min = src->min;
        if (src->max > dst->max)
                dst->max = src->max;
}

uint64_t mpg_hist_quantile(const struct mpg_hist *h, double q)
{
        uint64_t rank, seen = 0, v;

        if (h->count == 0)
                return 0;
        if (q <= 0)
                return h->min;
        if (q >= 1)
                return h->max;
        /* The smallest value with at least q * count values at or below it. */
        rank = (uint64_t)ceil(q * (double)h->count);
        if (rank == 0)
                rank = 1;
        for (unsigned i = 0; i < MPG_HIST_BUCKETS; i++) {
                seen += h->b[i];
                if (seen < rank)
                        continue;
                v = mpg_hist_bucket_low(i) + mpg_hist_bucket_width(i) / 2;
                return v < h->min ? h->min : v > h->max ? h->max : v;
        }
        return h->max;
}

void mpg_hist_summary(const struct mpg_hist *h, struct mpg_lat *out)
{
        memset(out, 0, sizeof(*out));
        out->count = h->count;
        if (h->count == 0)
                return;
        out->min = (double)h->min;
        out->max = (double)h->max;
        out->mean = h->sum / (double)h->count;
        out->p50 = (double)mpg_hist_quantile(h, 0.50);
        out->p90 = (double)mpg_hist_quantile(h, 0.90);
        out->p99 = (double)mpg_hist_quantile(h, 0.99);
        out->p999 = (double)mpg_hist_quantile(h, 0.999);
        out->pdv = out->p999 - out->min;
}
