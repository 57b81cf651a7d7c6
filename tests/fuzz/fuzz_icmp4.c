/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: the ICMPv4 view; a parsed message emitted again carries a
 * checksum that verifies and parses to the same fields. */
#include <stdlib.h>

#include "fuzz_wire.h"
#include "mpnet/wire/icmp4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_icmp4_view v, v2;
        struct mpnet_icmp4_repr r, r2;
        uint8_t *out;

        if (mpnet_icmp4_view_check(data, size, &v) != 0)
                return 0;
        (void)mpnet_icmp4_csum_ok(&v);
        mpnet_icmp4_repr_parse(&v, &r);
        FUZZ_ASSERT(mpnet_icmp4_repr_len(&r) == size);
        out = malloc(size);
        if (out == NULL)
                return 0;
        mpnet_icmp4_repr_emit(&r, out);
        FUZZ_ASSERT(mpnet_icmp4_view_check(out, size, &v2) == 0 && mpnet_icmp4_csum_ok(&v2));
        mpnet_icmp4_repr_parse(&v2, &r2);
        FUZZ_ASSERT(r.type == r2.type && r.code == r2.code && r.data_len == r2.data_len &&
                    memcmp(r2.data, data + MPNET_ICMP4_HLEN, r.data_len) == 0);
        if (r.type == MPNET_ICMP4_ECHO_REQUEST || r.type == MPNET_ICMP4_ECHO_REPLY)
                FUZZ_ASSERT(r.id == r2.id && r.seq == r2.seq);
        else
                FUZZ_ASSERT(r.rest == r2.rest);
        free(out);
        return 0;
}
