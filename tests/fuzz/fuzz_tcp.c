/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the TCP view, its options and checksums. The input is a
 * family byte (bit 0: IPv6), the pseudo-header's source and destination
 * (4 + 4 or 16 + 16 bytes), then a segment. A view that checks has its
 * header inside the segment; the option walk succeeds or says the options
 * are malformed; a parsed segment emitted again (when its options fit the
 * emitter's layout) verifies and parses to the same fields, and one that
 * verified, whose options were already in that layout, comes back byte for
 * byte.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz_wire.h"
#include "mpnet/wire/tcp.h"

struct addrs {
        bool v6;
        uint32_t s4, d4;
        const uint8_t *s6, *d6;
};

static int csum_check(const struct addrs *a, const struct mpnet_tcp_view *v)
{
        return a->v6 ? mpnet_tcp6_csum_check(v, a->s6, a->d6)
                     : mpnet_tcp4_csum_check(v, a->s4, a->d4);
}

static bool opts_equal(const struct mpnet_tcp_opts *a, const struct mpnet_tcp_opts *b)
{
        unsigned k;

        if (a->present != b->present)
                return false;
        if ((a->present & MPNET_TCPO_MSS) && a->mss != b->mss)
                return false;
        if ((a->present & MPNET_TCPO_WSCALE) && a->wscale != b->wscale)
                return false;
        if ((a->present & MPNET_TCPO_TS) && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
                return false;
        if (a->present & MPNET_TCPO_SACK) {
                if (a->sack_n != b->sack_n)
                        return false;
                for (k = 0; k < a->sack_n; k++)
                        if (a->sack[k].left != b->sack[k].left ||
                            a->sack[k].right != b->sack[k].right)
                                return false;
        }
        return true;
}

static void round_trip(const struct addrs *a, const struct mpnet_tcp_view *v, bool csum_ok)
{
        struct mpnet_tcp_repr r, r2;
        struct mpnet_tcp_view v2;
        uint8_t *out;
        size_t n;
        int hlen;

        if (mpnet_tcp_repr_parse(v, &r) != 0)
                return;
        hlen = mpnet_tcp_repr_hlen(&r);
        if (hlen < 0) {
                /* Options that fit packed do not fit the aligned layout. */
                FUZZ_ASSERT(hlen == -MPNET_WIRE_TOO_LONG);
                return;
        }
        FUZZ_ASSERT(hlen % 4 == 0 && hlen <= MPNET_TCP_HLEN_MAX);
        n = (size_t)hlen + r.payload_len;
        out = malloc(n);
        if (out == NULL)
                return;
        memcpy(out + hlen, mpnet_tcp_payload(v), r.payload_len);
        FUZZ_ASSERT(mpnet_tcp_repr_emit(&r, out) == hlen);
        if (a->v6)
                mpnet_tcp6_csum_set(out, n, a->s6, a->d6);
        else
                mpnet_tcp4_csum_set(out, n, a->s4, a->d4);
        FUZZ_ASSERT(mpnet_tcp_view_check(out, n, &v2) == 0 && csum_check(a, &v2) == 0);
        FUZZ_ASSERT(mpnet_tcp_repr_parse(&v2, &r2) == 0);
        FUZZ_ASSERT(r.sport == r2.sport && r.dport == r2.dport && r.seq == r2.seq &&
                    r.ack == r2.ack && r.flags == r2.flags && r.window == r2.window &&
                    r.urg == r2.urg && r.payload_len == r2.payload_len && r2.opts.unknown == 0);
        FUZZ_ASSERT(opts_equal(&r.opts, &r2.opts));
        if (csum_ok && n == v->n && (v->b[12] & 0x0e) == 0 &&
            memcmp(out + MPNET_TCP_HLEN, mpnet_tcp_opts(v), mpnet_tcp_opts_len(v)) == 0)
                FUZZ_ASSERT(memcmp(out, v->b, n) == 0);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_tcp_view v;
        struct mpnet_tcp_opts o;
        struct addrs a = {0};
        size_t alen;
        int rc;

        if (size < 1)
                return 0;
        a.v6 = data[0] & 1;
        alen = a.v6 ? 32 : 8;
        if (size < 1 + alen)
                return 0;
        if (a.v6) {
                a.s6 = data + 1;
                a.d6 = data + 17;
        } else {
                a.s4 = mpnet_get_be32(data + 1);
                a.d4 = mpnet_get_be32(data + 5);
        }
        data += 1 + alen;
        size -= 1 + alen;
        if (!a.v6 && size > 65535)
                return 0;
        rc = mpnet_tcp_view_check(data, size, &v);
        if (rc != 0) {
                FUZZ_ASSERT(rc == -MPNET_WIRE_TRUNCATED || rc == -MPNET_WIRE_BAD_HLEN ||
                            rc == -MPNET_WIRE_BAD_LEN);
                return 0;
        }
        FUZZ_ASSERT(v.b == data && v.n == size && mpnet_tcp_hlen(&v) >= MPNET_TCP_HLEN &&
                    mpnet_tcp_hlen(&v) <= size);
        rc = mpnet_tcp_opts_parse(mpnet_tcp_opts(&v), mpnet_tcp_opts_len(&v), &o);
        FUZZ_ASSERT(rc == 0 || rc == -MPNET_WIRE_BAD_OPTION);
        FUZZ_ASSERT(o.sack_n <= MPNET_TCP_SACK_MAX &&
                    ((o.present & MPNET_TCPO_SACK) != 0) == (o.sack_n != 0));
        rc = csum_check(&a, &v);
        FUZZ_ASSERT(rc == 0 || rc == -MPNET_WIRE_BAD_CSUM);
        round_trip(&a, &v, rc == 0);
        return 0;
}
