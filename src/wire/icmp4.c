/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "mpnet/wire/icmp4.h"

static bool is_echo(uint8_t type)
{
        return type == MPNET_ICMP4_ECHO_REQUEST || type == MPNET_ICMP4_ECHO_REPLY;
}

int mpnet_icmp4_view_check(const uint8_t *b, size_t n, struct mpnet_icmp4_view *v)
{
        if (n < MPNET_ICMP4_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        v->b = b;
        v->n = n;
        return 0;
}

void mpnet_icmp4_repr_parse(const struct mpnet_icmp4_view *v, struct mpnet_icmp4_repr *r)
{
        r->type = mpnet_icmp4_type(v);
        r->code = mpnet_icmp4_code(v);
        r->rest = mpnet_icmp4_rest(v);
        r->id = is_echo(r->type) ? mpnet_icmp4_echo_id(v) : 0;
        r->seq = is_echo(r->type) ? mpnet_icmp4_echo_seq(v) : 0;
        r->data = mpnet_icmp4_data(v);
        r->data_len = mpnet_icmp4_data_len(v);
}

void mpnet_icmp4_repr_emit(const struct mpnet_icmp4_repr *r, uint8_t *b)
{
        if (r->data_len > 0 && r->data != b + MPNET_ICMP4_HLEN)
                memmove(b + MPNET_ICMP4_HLEN, r->data, r->data_len);
        b[0] = r->type;
        b[1] = r->code;
        b[2] = b[3] = 0;
        if (is_echo(r->type)) {
                mpnet_put_be16(b + 4, r->id);
                mpnet_put_be16(b + 6, r->seq);
        } else {
                mpnet_put_be32(b + 4, r->rest);
        }
        mpnet_put_be16(b + 2, mpnet_csum(b, MPNET_ICMP4_HLEN + r->data_len));
}
