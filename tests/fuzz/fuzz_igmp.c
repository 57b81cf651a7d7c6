/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the IGMP view (RFC 3376 4), its queries and v3 report
 * records. The input is an IP payload. A view that checks verifies its
 * checksum; a query parses, is emitted again and parses to the same fields
 * (v1/v2 queries come back byte for byte, the checksum aside); a report's records all lie
 * within the message, and emitted again they read back the same.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz_wire.h"
#include "mpnet/wire/igmp.h"

static void query(const struct mpnet_igmp_view *v)
{
        struct mpnet_igmp_query q, q2;
        struct mpnet_igmp_view v2;
        uint8_t *out;
        size_t len;

        FUZZ_ASSERT(mpnet_igmp_query_parse(v, &q) == 0);
        FUZZ_ASSERT(q.version >= 1 && q.version <= 3);
        FUZZ_ASSERT(q.version == 3 ? v->n >= mpnet_igmp3_query_len(&q) : v->n == MPNET_IGMP_HLEN);
        out = malloc(q.version == 3 ? mpnet_igmp3_query_len(&q) : MPNET_IGMP_HLEN);
        if (out == NULL)
                return;
        len = mpnet_igmp_query_emit(&q, out);
        FUZZ_ASSERT(mpnet_igmp_view_check(out, len, &v2) == 0);
        FUZZ_ASSERT(mpnet_igmp_query_parse(&v2, &q2) == 0);
        FUZZ_ASSERT(q2.version == q.version && q2.group == q.group &&
                    q2.max_resp_ds == q.max_resp_ds && q2.n_src == q.n_src);
        if (q.version == 3)
                FUZZ_ASSERT(q2.qrv == q.qrv && q2.qqi == q.qqi && q2.suppress == q.suppress &&
                            memcmp(q2.src, q.src, (size_t)q.n_src * 4) == 0);
        else
                /* The checksum aside: 0 and 0xffff both verify. */
                FUZZ_ASSERT(memcmp(out, v->b, 2) == 0 && memcmp(out + 4, v->b + 4, 4) == 0);
        free(out);
}

static void report(const struct mpnet_igmp_view *v)
{
        struct mpnet_igmp_record *rec;
        struct mpnet_igmp_rec_iter it;
        struct mpnet_igmp_view v2;
        size_t n = 0, len;
        uint8_t *out;
        int rc;

        FUZZ_ASSERT(mpnet_igmp_report_iter_init(&it, v) == 0);
        rec = malloc(sizeof(*rec) * (mpnet_get_be16(v->b + 6) + 1u));
        if (rec == NULL)
                return;
        while ((rc = mpnet_igmp_record_next(&it, &rec[n])) == 1) {
                FUZZ_ASSERT(rec[n].src + (size_t)rec[n].n_src * 4 <= v->b + v->n);
                n++;
        }
        FUZZ_ASSERT(rc == 0 && n == mpnet_get_be16(v->b + 6));
        len = mpnet_igmp3_report_len(rec, n);
        FUZZ_ASSERT(len <= v->n);
        out = malloc(len);
        if (out != NULL) {
                struct mpnet_igmp_record r2;

                mpnet_igmp3_report_emit(rec, n, out);
                FUZZ_ASSERT(mpnet_igmp_view_check(out, len, &v2) == 0);
                FUZZ_ASSERT(mpnet_igmp_report_iter_init(&it, &v2) == 0);
                for (size_t i = 0; i < n; i++) {
                        FUZZ_ASSERT(mpnet_igmp_record_next(&it, &r2) == 1);
                        FUZZ_ASSERT(r2.type == rec[i].type && r2.group == rec[i].group &&
                                    r2.n_src == rec[i].n_src &&
                                    memcmp(r2.src, rec[i].src, (size_t)r2.n_src * 4) == 0);
                }
                FUZZ_ASSERT(mpnet_igmp_record_next(&it, &r2) == 0);
                free(out);
        }
        free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_igmp_view v;
        int rc = mpnet_igmp_view_check(data, size, &v);

        if (rc != 0) {
                FUZZ_ASSERT(rc == -MPNET_WIRE_TRUNCATED || rc == -MPNET_WIRE_BAD_LEN ||
                            rc == -MPNET_WIRE_BAD_HLEN || rc == -MPNET_WIRE_TOO_LONG ||
                            rc == -MPNET_WIRE_BAD_CSUM);
                return 0;
        }
        FUZZ_ASSERT(v.n == size && mpnet_csum(data, size) == 0);
        if (mpnet_igmp_type(&v) == MPNET_IGMP_QUERY)
                query(&v);
        else if (mpnet_igmp_type(&v) == MPNET_IGMP_V3_REPORT)
                report(&v);
        return 0;
}
