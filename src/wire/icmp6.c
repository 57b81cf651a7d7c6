/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "mpnet/wire/icmp6.h"

int mpnet_icmp6_view_check(const uint8_t *b, size_t n, struct mpnet_icmp6_view *v)
{
        if (n < MPNET_ICMP6_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        v->b = b;
        v->n = n;
        return 0;
}

uint16_t mpnet_icmp6_csum(const uint8_t *msg, size_t n, const uint8_t *src, const uint8_t *dst)
{
        uint64_t sum = mpnet_ip6_pseudo_sum(src, dst, (uint32_t)n, MPNET_IPPROTO_ICMPV6);

        return mpnet_csum_fold(mpnet_csum_add(sum, msg, n));
}

static void put_csum(uint8_t *b, size_t n, const uint8_t *src, const uint8_t *dst)
{
        b[2] = b[3] = 0;
        mpnet_put_be16(b + 2, mpnet_icmp6_csum(b, n, src, dst));
}

static bool is_echo(uint8_t type)
{
        return type == MPNET_ICMP6_ECHO_REQUEST || type == MPNET_ICMP6_ECHO_REPLY;
}

void mpnet_icmp6_repr_parse(const struct mpnet_icmp6_view *v, struct mpnet_icmp6_repr *r)
{
        r->type = mpnet_icmp6_type(v);
        r->code = mpnet_icmp6_code(v);
        r->rest = mpnet_icmp6_rest(v);
        r->id = is_echo(r->type) ? mpnet_get_be16(v->b + 4) : 0;
        r->seq = is_echo(r->type) ? mpnet_get_be16(v->b + 6) : 0;
        r->data = mpnet_icmp6_data(v);
        r->data_len = mpnet_icmp6_data_len(v);
}

void mpnet_icmp6_repr_emit(const struct mpnet_icmp6_repr *r, const uint8_t *src, const uint8_t *dst,
                           uint8_t *b)
{
        if (r->data_len > 0 && r->data != b + MPNET_ICMP6_HLEN)
                memmove(b + MPNET_ICMP6_HLEN, r->data, r->data_len);
        b[0] = r->type;
        b[1] = r->code;
        if (is_echo(r->type)) {
                mpnet_put_be16(b + 4, r->id);
                mpnet_put_be16(b + 6, r->seq);
        } else {
                mpnet_put_be32(b + 4, r->rest);
        }
        put_csum(b, mpnet_icmp6_repr_len(r), src, dst);
}

/* ---- Neighbour Discovery ---- */

/** The fixed part of each ND message before its options (RFC 4861 4.1-4.5), 0 if not ND. */
static size_t nd_fixed_len(uint8_t type)
{
        switch (type) {
        case MPNET_ICMP6_ND_RS:
                return 8;
        case MPNET_ICMP6_ND_RA:
                return 16;
        case MPNET_ICMP6_ND_NS:
        case MPNET_ICMP6_ND_NA:
                return 24;
        case MPNET_ICMP6_ND_REDIRECT:
                return 40;
        default:
                return 0;
        }
}

int mpnet_nd_opt_next(struct mpnet_nd_opt_iter *it, struct mpnet_nd_opt *o)
{
        const uint8_t *p = it->b + it->pos;

        if (it->pos == it->n)
                return 0;
        if (it->n - it->pos < 2)
                return -MPNET_WIRE_TRUNCATED;
        if (p[1] == 0)
                return -MPNET_WIRE_BAD_OPTION;
        if ((size_t)p[1] * 8 > it->n - it->pos)
                return -MPNET_WIRE_TRUNCATED;
        o->type = p[0];
        o->len8 = p[1];
        o->b = p;
        o->n = (size_t)p[1] * 8;
        it->pos += o->n;
        return 1;
}

static int nd_opts_check(const uint8_t *b, size_t n)
{
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt o;
        int rc;

        mpnet_nd_opt_iter_init(&it, b, n);
        while ((rc = mpnet_nd_opt_next(&it, &o)) > 0)
                ;
        return rc;
}

static void nd_parse_fixed(const uint8_t *b, struct mpnet_nd_repr *r)
{
        switch (r->type) {
        case MPNET_ICMP6_ND_RA:
                r->cur_hop_limit = b[4];
                r->managed = (b[5] & 0x80) != 0;
                r->other = (b[5] & 0x40) != 0;
                r->router_lifetime = mpnet_get_be16(b + 6);
                r->reachable = mpnet_get_be32(b + 8);
                r->retrans = mpnet_get_be32(b + 12);
                break;
        case MPNET_ICMP6_ND_NA:
                r->router = (b[4] & 0x80) != 0;
                r->solicited = (b[4] & 0x40) != 0;
                r->override = (b[4] & 0x20) != 0;
                memcpy(r->target, b + 8, MPNET_IP6_ALEN);
                break;
        case MPNET_ICMP6_ND_NS:
                memcpy(r->target, b + 8, MPNET_IP6_ALEN);
                break;
        case MPNET_ICMP6_ND_REDIRECT:
                memcpy(r->target, b + 8, MPNET_IP6_ALEN);
                memcpy(r->dst, b + 24, MPNET_IP6_ALEN);
                break;
        default:
                break;
        }
}

int mpnet_nd_repr_parse(const struct mpnet_icmp6_view *v, struct mpnet_nd_repr *r)
{
        size_t fixed = nd_fixed_len(mpnet_icmp6_type(v));
        int rc;

        if (fixed == 0)
                return -MPNET_WIRE_UNSUPPORTED;
        if (mpnet_icmp6_code(v) != 0)
                return -MPNET_WIRE_BAD_FIELD;
        if (v->n < fixed)
                return -MPNET_WIRE_TRUNCATED;
        rc = nd_opts_check(v->b + fixed, v->n - fixed);
        if (rc < 0)
                return rc;
        memset(r, 0, sizeof(*r));
        r->type = mpnet_icmp6_type(v);
        nd_parse_fixed(v->b, r);
        r->opts = v->b + fixed;
        r->opts_len = v->n - fixed;
        return 0;
}

int mpnet_nd_opt_prefix(const struct mpnet_nd_opt *o, struct mpnet_nd_prefix *p)
{
        if (o->len8 != 4)
                return -MPNET_WIRE_BAD_OPTION;
        p->prefix_len = o->b[2];
        p->onlink = (o->b[3] & 0x80) != 0;
        p->autonomous = (o->b[3] & 0x40) != 0;
        p->valid = mpnet_get_be32(o->b + 4);
        p->preferred = mpnet_get_be32(o->b + 8);
        memcpy(p->prefix, o->b + 16, MPNET_IP6_ALEN);
        return 0;
}

int mpnet_nd_opt_mtu(const struct mpnet_nd_opt *o, uint32_t *mtu)
{
        if (o->len8 != 1)
                return -MPNET_WIRE_BAD_OPTION;
        *mtu = mpnet_get_be32(o->b + 4);
        return 0;
}

int mpnet_nd_opt_rdnss(const struct mpnet_nd_opt *o, struct mpnet_nd_rdnss *r)
{
        /* RFC 8106 5.1: 8 bytes, then two units per address, at least one. */
        if (o->len8 < 3 || o->len8 % 2 == 0)
                return -MPNET_WIRE_BAD_OPTION;
        r->lifetime = mpnet_get_be32(o->b + 4);
        r->addrs = o->b + 8;
        r->count = (o->len8 - 1u) / 2;
        return 0;
}

static size_t redirected_len8(const struct mpnet_nd_opts *o)
{
        return (8 + o->redirected_len + 7) / 8;
}

static size_t nd_opts_len(const struct mpnet_nd_opts *o)
{
        size_t n = 0;

        if (o == NULL)
                return 0;
        n += o->slla != NULL ? 8 : 0;
        n += o->tlla != NULL ? 8 : 0;
        n += o->nonce != NULL ? 8 : 0;
        n += o->mtu != 0 ? 8 : 0;
        n += o->n_prefix * 32;
        n += o->rdnss.count != 0 ? 8 + o->rdnss.count * 16 : 0;
        n += o->redirected != NULL ? redirected_len8(o) * 8 : 0;
        return n;
}

size_t mpnet_nd_repr_len(const struct mpnet_nd_repr *r, const struct mpnet_nd_opts *o)
{
        return nd_fixed_len(r->type) + nd_opts_len(o);
}

static uint8_t *put_opt_hdr(uint8_t *b, uint8_t type, size_t len8)
{
        memset(b, 0, len8 * 8);
        b[0] = type;
        b[1] = (uint8_t)len8;
        return b;
}

/* Link-layer address and nonce: one unit, 6 bytes of data. */
static uint8_t *put_opt6(uint8_t *b, uint8_t type, const uint8_t *data)
{
        memcpy(put_opt_hdr(b, type, 1) + 2, data, 6);
        return b + 8;
}

static uint8_t *put_prefix(uint8_t *b, const struct mpnet_nd_prefix *p)
{
        put_opt_hdr(b, MPNET_ND_OPT_PREFIX, 4);
        b[2] = p->prefix_len;
        b[3] = (uint8_t)((p->onlink ? 0x80 : 0) | (p->autonomous ? 0x40 : 0));
        mpnet_put_be32(b + 4, p->valid);
        mpnet_put_be32(b + 8, p->preferred);
        memcpy(b + 16, p->prefix, MPNET_IP6_ALEN);
        return b + 32;
}

static uint8_t *put_rdnss(uint8_t *b, const struct mpnet_nd_rdnss *r)
{
        put_opt_hdr(b, MPNET_ND_OPT_RDNSS, 1 + 2 * r->count);
        mpnet_put_be32(b + 4, r->lifetime);
        memcpy(b + 8, r->addrs, r->count * MPNET_IP6_ALEN);
        return b + 8 + r->count * MPNET_IP6_ALEN;
}

static uint8_t *put_mtu(uint8_t *b, uint32_t mtu)
{
        mpnet_put_be32(put_opt_hdr(b, MPNET_ND_OPT_MTU, 1) + 4, mtu);
        return b + 8;
}

static uint8_t *put_redirected(uint8_t *b, const struct mpnet_nd_opts *o)
{
        size_t len8 = redirected_len8(o);

        memcpy(put_opt_hdr(b, MPNET_ND_OPT_REDIRECTED, len8) + 8, o->redirected, o->redirected_len);
        return b + len8 * 8;
}

static void nd_opts_emit(const struct mpnet_nd_opts *o, uint8_t *b)
{
        if (o == NULL)
                return;
        if (o->slla != NULL)
                b = put_opt6(b, MPNET_ND_OPT_SLLA, o->slla);
        if (o->tlla != NULL)
                b = put_opt6(b, MPNET_ND_OPT_TLLA, o->tlla);
        if (o->nonce != NULL)
                b = put_opt6(b, MPNET_ND_OPT_NONCE, o->nonce);
        if (o->mtu != 0)
                b = put_mtu(b, o->mtu);
        for (size_t i = 0; i < o->n_prefix; i++)
                b = put_prefix(b, &o->prefix[i]);
        if (o->rdnss.count != 0)
                b = put_rdnss(b, &o->rdnss);
        if (o->redirected != NULL)
                put_redirected(b, o);
}

static void nd_emit_fixed(const struct mpnet_nd_repr *r, uint8_t *b)
{
        memset(b, 0, nd_fixed_len(r->type));
        b[0] = r->type;
        switch (r->type) {
        case MPNET_ICMP6_ND_RA:
                b[4] = r->cur_hop_limit;
                b[5] = (uint8_t)((r->managed ? 0x80 : 0) | (r->other ? 0x40 : 0));
                mpnet_put_be16(b + 6, r->router_lifetime);
                mpnet_put_be32(b + 8, r->reachable);
                mpnet_put_be32(b + 12, r->retrans);
                break;
        case MPNET_ICMP6_ND_NA:
                b[4] = (uint8_t)((r->router ? 0x80 : 0) | (r->solicited ? 0x40 : 0) |
                                 (r->override ? 0x20 : 0));
                memcpy(b + 8, r->target, MPNET_IP6_ALEN);
                break;
        case MPNET_ICMP6_ND_NS:
                memcpy(b + 8, r->target, MPNET_IP6_ALEN);
                break;
        case MPNET_ICMP6_ND_REDIRECT:
                memcpy(b + 8, r->target, MPNET_IP6_ALEN);
                memcpy(b + 24, r->dst, MPNET_IP6_ALEN);
                break;
        default:
                break;
        }
}

void mpnet_nd_repr_emit(const struct mpnet_nd_repr *r, const struct mpnet_nd_opts *o,
                        const uint8_t *src, const uint8_t *dst, uint8_t *b)
{
        nd_emit_fixed(r, b);
        nd_opts_emit(o, b + nd_fixed_len(r->type));
        put_csum(b, mpnet_nd_repr_len(r, o), src, dst);
}

/* ---- MLDv2 ---- */

#define MLD1_QUERY_LEN  24
#define MLD2_QUERY_LEN  28
#define MLD2_RECORD_LEN 20

/* RFC 3810 5.1.3: codes from 32768 are a floating-point value. */
static uint32_t mld_max_resp(uint16_t code)
{
        if (code < 32768)
                return code;
        return (uint32_t)((code & 0x0fff) | 0x1000) << (((code >> 12) & 7) + 3);
}

/* RFC 3810 5.1.9: codes from 128 are a floating-point value. */
static uint32_t mld_qqi(uint8_t code)
{
        if (code < 128)
                return code;
        return (uint32_t)((code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
}

int mpnet_mld_query_parse(const struct mpnet_icmp6_view *v, struct mpnet_mld_query *q)
{
        const uint8_t *b = v->b;

        if (mpnet_icmp6_type(v) != MPNET_ICMP6_MLD_QUERY)
                return -MPNET_WIRE_UNSUPPORTED;
        if (v->n != MLD1_QUERY_LEN && v->n < MLD2_QUERY_LEN)
                return -MPNET_WIRE_BAD_LEN;
        memset(q, 0, sizeof(*q));
        q->max_resp = mld_max_resp(mpnet_get_be16(b + 4));
        memcpy(q->group, b + 8, MPNET_IP6_ALEN);
        q->v1 = v->n == MLD1_QUERY_LEN;
        if (q->v1)
                return 0;
        q->suppress = (b[24] & 0x08) != 0;
        q->qrv = b[24] & 0x07;
        q->qqi = mld_qqi(b[25]);
        q->n_src = mpnet_get_be16(b + 26);
        q->src = b + MLD2_QUERY_LEN;
        if ((size_t)q->n_src * MPNET_IP6_ALEN > v->n - MLD2_QUERY_LEN)
                return -MPNET_WIRE_TRUNCATED;
        return 0;
}

int mpnet_mld_report_iter_init(struct mpnet_mld_rec_iter *it, const struct mpnet_icmp6_view *v)
{
        if (mpnet_icmp6_type(v) != MPNET_ICMP6_MLD2_REPORT)
                return -MPNET_WIRE_UNSUPPORTED;
        it->b = v->b;
        it->pos = MPNET_ICMP6_HLEN;
        it->n = v->n;
        it->left = mpnet_get_be16(v->b + 6);
        return 0;
}

int mpnet_mld_record_next(struct mpnet_mld_rec_iter *it, struct mpnet_mld_record *rec)
{
        const uint8_t *p = it->b + it->pos;
        size_t len;

        if (it->left == 0)
                return 0;
        if (it->n - it->pos < MLD2_RECORD_LEN)
                return -MPNET_WIRE_TRUNCATED;
        rec->type = p[0];
        rec->n_src = mpnet_get_be16(p + 2);
        rec->group = p + 4;
        rec->src = p + MLD2_RECORD_LEN;
        len = MLD2_RECORD_LEN + (size_t)rec->n_src * MPNET_IP6_ALEN + (size_t)p[1] * 4;
        if (len > it->n - it->pos)
                return -MPNET_WIRE_TRUNCATED;
        it->pos += len;
        it->left--;
        return 1;
}

size_t mpnet_mld_report_len(const struct mpnet_mld_record *recs, size_t n)
{
        size_t len = MPNET_ICMP6_HLEN;

        for (size_t i = 0; i < n; i++)
                len += MLD2_RECORD_LEN + (size_t)recs[i].n_src * MPNET_IP6_ALEN;
        return len;
}

void mpnet_mld_report_emit(const struct mpnet_mld_record *recs, size_t n, const uint8_t *src,
                           const uint8_t *dst, uint8_t *b)
{
        uint8_t *p = b + MPNET_ICMP6_HLEN;

        memset(b, 0, MPNET_ICMP6_HLEN);
        b[0] = MPNET_ICMP6_MLD2_REPORT;
        mpnet_put_be16(b + 6, (uint16_t)n);
        for (size_t i = 0; i < n; i++) {
                size_t srcs = (size_t)recs[i].n_src * MPNET_IP6_ALEN;

                p[0] = recs[i].type;
                p[1] = 0;
                mpnet_put_be16(p + 2, recs[i].n_src);
                memcpy(p + 4, recs[i].group, MPNET_IP6_ALEN);
                if (srcs != 0)
                        memcpy(p + MLD2_RECORD_LEN, recs[i].src, srcs);
                p += MLD2_RECORD_LEN + srcs;
        }
        put_csum(b, mpnet_mld_report_len(recs, n), src, dst);
}
