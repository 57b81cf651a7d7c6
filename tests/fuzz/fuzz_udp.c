/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the UDP view and its checksums. The input is a family
 * byte (bit 0: IPv6), the pseudo-header's source and destination (4 + 4 or
 * 16 + 16 bytes), then an IP payload. A view that checks lies within the
 * payload; a parsed datagram emitted again with its checksum filled verifies
 * and parses to the same fields, and one that verified comes back byte for
 * byte.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz_wire.h"
#include "mpnet/wire/udp.h"

struct addrs {
        bool v6;
        uint32_t s4, d4;
        const uint8_t *s6, *d6;
};

static int csum_check(const struct addrs *a, const struct mpnet_udp_view *v)
{
        return a->v6 ? mpnet_udp6_csum_check(v, a->s6, a->d6)
                     : mpnet_udp4_csum_check(v, a->s4, a->d4);
}

static void round_trip(const struct addrs *a, const struct mpnet_udp_view *v, int rc)
{
        struct mpnet_udp_repr r, r2;
        struct mpnet_udp_view v2;
        uint8_t *out;

        mpnet_udp_repr_parse(v, &r);
        FUZZ_ASSERT(mpnet_udp_repr_len(&r) == v->n);
        out = malloc(v->n);
        if (out == NULL)
                return;
        memcpy(out + MPNET_UDP_HLEN, mpnet_udp_payload(v), r.payload_len);
        mpnet_udp_repr_emit(&r, out);
        if (a->v6)
                mpnet_udp6_csum_set(out, a->s6, a->d6);
        else
                mpnet_udp4_csum_set(out, a->s4, a->d4);
        FUZZ_ASSERT(mpnet_udp_view_check(out, v->n, &v2) == 0 && mpnet_udp_surplus(&v2) == 0);
        FUZZ_ASSERT(csum_check(a, &v2) == 0 && mpnet_udp_csum(&v2) != 0);
        mpnet_udp_repr_parse(&v2, &r2);
        FUZZ_ASSERT(r.sport == r2.sport && r.dport == r2.dport && r.payload_len == r2.payload_len);
        if (rc == 0)
                FUZZ_ASSERT(memcmp(out, v->b, v->n) == 0);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_udp_view v;
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
        rc = mpnet_udp_view_check(data, size, &v);
        if (rc != 0) {
                FUZZ_ASSERT(rc == -MPNET_WIRE_TRUNCATED || rc == -MPNET_WIRE_BAD_HLEN ||
                            rc == -MPNET_WIRE_BAD_LEN);
                return 0;
        }
        FUZZ_ASSERT(v.b == data && v.n >= MPNET_UDP_HLEN && v.n + mpnet_udp_surplus(&v) == size);
        rc = csum_check(&a, &v);
        if (a.v6)
                FUZZ_ASSERT(rc == 0 || rc == -MPNET_WIRE_BAD_FIELD || rc == -MPNET_WIRE_BAD_CSUM);
        else
                FUZZ_ASSERT(rc == 0 || rc == MPNET_UDP_CSUM_NONE || rc == -MPNET_WIRE_BAD_CSUM);
        FUZZ_ASSERT((rc == MPNET_UDP_CSUM_NONE || rc == -MPNET_WIRE_BAD_FIELD) ==
                    (mpnet_udp_csum(&v) == 0));
        round_trip(&a, &v, rc);
        return 0;
}
