/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: MLD queries and MLDv2 reports (RFC 3810 5). Every source
 * list and record a parse hands out lies inside the message, and a report
 * whose records all parsed, emitted again, has the same length and records.
 */
#include <stdlib.h>

#include "fuzz_wire.h"
#include "mpnet/wire/icmp6.h"

#define MAX_RECS 64

static void report(const struct mpnet_icmp6_view *v)
{
        static const uint8_t src[16] = {0xfe, 0x80, [15] = 1};
        static const uint8_t dst[16] = {0xff, 0x02, [15] = 0x16};
        struct mpnet_mld_record recs[MAX_RECS];
        struct mpnet_mld_rec_iter it;
        size_t n = 0;
        uint8_t *out;
        int rc;

        if (mpnet_mld_report_iter_init(&it, v) != 0)
                return;
        while (n < MAX_RECS && (rc = mpnet_mld_record_next(&it, &recs[n])) == 1) {
                FUZZ_ASSERT(recs[n].group >= v->b && recs[n].group + 16 <= v->b + v->n);
                FUZZ_ASSERT(recs[n].src + (size_t)recs[n].n_src * 16 <= v->b + v->n);
                n++;
        }
        if (n == 0 || n == MAX_RECS || rc != 0)
                return;
        out = malloc(mpnet_mld_report_len(recs, n));
        if (out == NULL)
                return;
        mpnet_mld_report_emit(recs, n, src, dst, out);
        {
                struct mpnet_icmp6_view v2;
                struct mpnet_mld_record r2;

                FUZZ_ASSERT(mpnet_icmp6_view_check(out, mpnet_mld_report_len(recs, n), &v2) == 0);
                FUZZ_ASSERT(mpnet_icmp6_csum_ok(&v2, src, dst));
                FUZZ_ASSERT(mpnet_mld_report_iter_init(&it, &v2) == 0);
                for (size_t i = 0; i < n; i++) {
                        FUZZ_ASSERT(mpnet_mld_record_next(&it, &r2) == 1);
                        FUZZ_ASSERT(r2.type == recs[i].type && r2.n_src == recs[i].n_src &&
                                    memcmp(r2.group, recs[i].group, 16) == 0 &&
                                    memcmp(r2.src, recs[i].src, (size_t)r2.n_src * 16) == 0);
                }
                FUZZ_ASSERT(mpnet_mld_record_next(&it, &r2) == 0);
        }
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_icmp6_view v;
        struct mpnet_mld_query q;

        if (mpnet_icmp6_view_check(data, size, &v) != 0)
                return 0;
        if (mpnet_mld_query_parse(&v, &q) == 0 && !q.v1)
                FUZZ_ASSERT(q.src + (size_t)q.n_src * 16 <= v.b + v.n);
        report(&v);
        return 0;
}
