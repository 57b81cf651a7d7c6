/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: the Ethernet view; header emitted back byte for byte. */
#include "fuzz_wire.h"
#include "mpnet/wire/ethernet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_eth_view v;
        struct mpnet_eth_repr r;
        uint8_t out[MPNET_ETH_HLEN];

        if (mpnet_eth_view_check(data, size, &v) != 0) {
                FUZZ_ASSERT(size < MPNET_ETH_HLEN);
                return 0;
        }
        mpnet_eth_repr_parse(&v, &r);
        FUZZ_ASSERT(r.ethertype == mpnet_eth_type(&v));
        FUZZ_ASSERT(mpnet_eth_payload_len(&v) == size - MPNET_ETH_HLEN);
        mpnet_eth_repr_emit(&r, out);
        FUZZ_ASSERT(memcmp(out, data, MPNET_ETH_HLEN) == 0);
        return 0;
}
