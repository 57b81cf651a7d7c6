/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the IPv4 view, its options walk and its repr. A parsed
 * header emitted again (20 bytes, options dropped, checksum recomputed) in
 * front of the same payload must check, verify and parse to the same repr.
 */
#include <stdlib.h>

#include "fuzz_wire.h"
#include "mpnet/wire/ipv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_ip4_view v, v2;
        struct mpnet_ip4_repr r, r2;
        uint8_t *out;

        if (mpnet_ip4_view_check(data, size, &v) != 0)
                return 0;
        FUZZ_ASSERT(v.n <= size && mpnet_ip4_hlen(&v) >= MPNET_IP4_HLEN &&
                    mpnet_ip4_hlen(&v) <= v.n);
        (void)mpnet_ip4_csum_ok(&v);
        (void)mpnet_ip4_has_source_route(&v);
        mpnet_ip4_repr_parse(&v, &r);
        FUZZ_ASSERT(r.payload_len == v.n - mpnet_ip4_hlen(&v));
        out = malloc(MPNET_IP4_HLEN + r.payload_len);
        if (out == NULL)
                return 0;
        mpnet_ip4_repr_emit(&r, out);
        memcpy(out + MPNET_IP4_HLEN, data + mpnet_ip4_hlen(&v), r.payload_len);
        FUZZ_ASSERT(mpnet_ip4_view_check(out, MPNET_IP4_HLEN + r.payload_len, &v2) == 0);
        FUZZ_ASSERT(mpnet_ip4_csum_ok(&v2));
        mpnet_ip4_repr_parse(&v2, &r2);
        FUZZ_ASSERT(r.src == r2.src && r.dst == r2.dst && r.id == r2.id &&
                    r.payload_len == r2.payload_len && r.frag_off == r2.frag_off &&
                    r.proto == r2.proto && r.ttl == r2.ttl && r.tos == r2.tos && r.df == r2.df &&
                    r.mf == r2.mf);
        free(out);
        return 0;
}
