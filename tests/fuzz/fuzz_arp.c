/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: the ARP view; a parsed packet emitted back byte for byte
 * (the 28 bytes of Ethernet/IPv4 ARP, RFC 826). */
#include "fuzz_wire.h"
#include "mpnet/wire/arp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_arp_view v;
        struct mpnet_arp_repr r;
        uint8_t out[28];

        if (mpnet_arp_view_check(data, size, &v) != 0)
                return 0;
        FUZZ_ASSERT(size >= sizeof(out));
        mpnet_arp_repr_parse(&v, &r);
        FUZZ_ASSERT(r.op == mpnet_arp_op(&v) && r.spa == mpnet_arp_spa(&v) &&
                    r.tpa == mpnet_arp_tpa(&v));
        mpnet_arp_repr_emit(&r, out);
        FUZZ_ASSERT(memcmp(out, data, sizeof(out)) == 0);
        return 0;
}
