/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IGMP messages (RFC 3376 4; RFC 2236 2 and RFC 1112 appendix I for the
 * 8-byte forms): checked views, queries and v3 reports as fields, emit.
 */
#include <string.h>

#include "mpnet/wire/igmp.h"

/* The records of a v3 report fit the message: each 8 bytes, its sources
 * and its auxiliary data (RFC 3376 4.2.6, in 32-bit words). */
static bool records_fit(const uint8_t *b, size_t n)
{
        size_t pos = MPNET_IGMP_HLEN;

        for (unsigned left = mpnet_get_be16(b + 6); left > 0; left--) {
                size_t len;

                if (n - pos < MPNET_IGMP3_RECORD_LEN)
                        return false;
                len = MPNET_IGMP3_RECORD_LEN + (size_t)mpnet_get_be16(b + pos + 2) * 4 +
                      (size_t)b[pos + 1] * 4;
                if (len > n - pos)
                        return false;
                pos += len;
        }
        return true;
}

int mpnet_igmp_view_check(const uint8_t *b, size_t n, struct mpnet_igmp_view *v)
{
        if (n < MPNET_IGMP_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        if (b[0] == MPNET_IGMP_QUERY && n > MPNET_IGMP_HLEN) {
                if (n < MPNET_IGMP3_QUERY_LEN)
                        return -MPNET_WIRE_BAD_LEN;
                if ((size_t)mpnet_get_be16(b + 10) * 4 > n - MPNET_IGMP3_QUERY_LEN)
                        return -MPNET_WIRE_BAD_HLEN;
        }
        if (b[0] == MPNET_IGMP_V3_REPORT && !records_fit(b, n))
                return -MPNET_WIRE_TOO_LONG;
        if (mpnet_csum(b, n) != 0)
                return -MPNET_WIRE_BAD_CSUM;
        v->b = b;
        v->n = n;
        return 0;
}

uint32_t mpnet_igmp_code_decode(uint8_t code)
{
        if (code < 128)
                return code;
        return (uint32_t)((code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
}

uint8_t mpnet_igmp_code_encode(uint32_t value)
{
        if (value < 128)
                return (uint8_t)value;
        for (unsigned exp = 7;; exp--) {
                uint32_t mant = value >> (exp + 3);

                if (mant >= 0x10) {
                        if (mant > 0x1f)
                                mant = 0x1f;
                        return (uint8_t)(0x80 | exp << 4 | (mant & 0x0f));
                }
        }
}

int mpnet_igmp_query_parse(const struct mpnet_igmp_view *v, struct mpnet_igmp_query *q)
{
        const uint8_t *b = v->b;

        if (b[0] != MPNET_IGMP_QUERY)
                return -MPNET_WIRE_UNSUPPORTED;
        memset(q, 0, sizeof(*q));
        q->group = mpnet_get_be32(b + 4);
        if (v->n == MPNET_IGMP_HLEN) {
                /* RFC 3376 7.1; a v1 query's code is 0, its time 10 s
                 * (RFC 2236 4). */
                q->version = b[1] == 0 ? 1 : 2;
                q->max_resp_ds = b[1] == 0 ? 100 : b[1];
                return 0;
        }
        q->version = 3;
        q->max_resp_ds = mpnet_igmp_code_decode(b[1]);
        q->suppress = (b[8] & 0x08) != 0;
        q->qrv = b[8] & 0x07;
        q->qqi = mpnet_igmp_code_decode(b[9]);
        q->n_src = mpnet_get_be16(b + 10);
        q->src = b + MPNET_IGMP3_QUERY_LEN;
        return 0;
}

size_t mpnet_igmp_query_emit(const struct mpnet_igmp_query *q, uint8_t *b)
{
        size_t len = q->version == 3 ? mpnet_igmp3_query_len(q) : MPNET_IGMP_HLEN;

        memset(b, 0, len);
        b[0] = MPNET_IGMP_QUERY;
        if (q->version == 2)
                b[1] = q->max_resp_ds > 255 ? 255 : (uint8_t)q->max_resp_ds;
        else if (q->version == 3)
                b[1] = mpnet_igmp_code_encode(q->max_resp_ds);
        mpnet_put_be32(b + 4, q->group);
        if (q->version == 3) {
                b[8] = (uint8_t)((q->suppress ? 0x08 : 0) | (q->qrv & 0x07));
                b[9] = mpnet_igmp_code_encode(q->qqi);
                mpnet_put_be16(b + 10, q->n_src);
                if (q->n_src != 0)
                        memcpy(b + MPNET_IGMP3_QUERY_LEN, q->src, (size_t)q->n_src * 4);
        }
        mpnet_put_be16(b + 2, mpnet_csum(b, len));
        return len;
}

int mpnet_igmp_report_iter_init(struct mpnet_igmp_rec_iter *it, const struct mpnet_igmp_view *v)
{
        if (v->b[0] != MPNET_IGMP_V3_REPORT)
                return -MPNET_WIRE_UNSUPPORTED;
        it->b = v->b;
        it->pos = MPNET_IGMP_HLEN;
        it->n = v->n;
        it->left = mpnet_get_be16(v->b + 6);
        return 0;
}

int mpnet_igmp_record_next(struct mpnet_igmp_rec_iter *it, struct mpnet_igmp_record *rec)
{
        const uint8_t *p = it->b + it->pos;
        size_t len;

        if (it->left == 0)
                return 0;
        if (it->n - it->pos < MPNET_IGMP3_RECORD_LEN)
                return -MPNET_WIRE_TRUNCATED;
        rec->type = p[0];
        rec->n_src = mpnet_get_be16(p + 2);
        rec->group = mpnet_get_be32(p + 4);
        rec->src = p + MPNET_IGMP3_RECORD_LEN;
        len = MPNET_IGMP3_RECORD_LEN + (size_t)rec->n_src * 4 + (size_t)p[1] * 4;
        if (len > it->n - it->pos)
                return -MPNET_WIRE_TRUNCATED;
        it->pos += len;
        it->left--;
        return 1;
}

size_t mpnet_igmp3_report_len(const struct mpnet_igmp_record *recs, size_t n)
{
        size_t len = MPNET_IGMP_HLEN;

        for (size_t i = 0; i < n; i++)
                len += MPNET_IGMP3_RECORD_LEN + (size_t)recs[i].n_src * 4;
        return len;
}

void mpnet_igmp3_report_emit(const struct mpnet_igmp_record *recs, size_t n, uint8_t *b)
{
        uint8_t *p = b + MPNET_IGMP_HLEN;

        memset(b, 0, MPNET_IGMP_HLEN);
        b[0] = MPNET_IGMP_V3_REPORT;
        mpnet_put_be16(b + 6, (uint16_t)n);
        for (size_t i = 0; i < n; i++) {
                size_t srcs = (size_t)recs[i].n_src * 4;

                p[0] = recs[i].type;
                p[1] = 0;
                mpnet_put_be16(p + 2, recs[i].n_src);
                mpnet_put_be32(p + 4, recs[i].group);
                if (srcs != 0)
                        memcpy(p + MPNET_IGMP3_RECORD_LEN, recs[i].src, srcs);
                p += MPNET_IGMP3_RECORD_LEN + srcs;
        }
        mpnet_put_be16(b + 2, mpnet_csum(b, mpnet_igmp3_report_len(recs, n)));
}

void mpnet_igmp_emit(uint8_t type, uint8_t code, uint32_t group, uint8_t *b)
{
        b[0] = type;
        b[1] = code;
        b[2] = b[3] = 0;
        mpnet_put_be32(b + 4, group);
        mpnet_put_be16(b + 2, mpnet_csum(b, MPNET_IGMP_HLEN));
}
