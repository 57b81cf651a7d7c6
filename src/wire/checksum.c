/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RFC 1071 checksum: sum 32 bits at a time into a 64-bit accumulator (the
 * carries land in the high half and are folded once at the end, RFC 1071
 * section 2(C) "deferred carries"), byte-swapping the words of a
 * little-endian load only at the end (the sum is byte-order independent,
 * RFC 1071 section 2(B)).
 */
#include <string.h>

#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

static uint64_t fold32(uint64_t s)
{
        s = (s & 0xffffffff) + (s >> 32);
        s = (s & 0xffffffff) + (s >> 32);
        return s;
}

uint64_t mpnet_csum_add(uint64_t sum, const void *buf, size_t n)
{
        const uint8_t *b = buf;
        uint64_t acc = 0;
        uint32_t w;

        while (n >= 32) {
                uint64_t x[4];

                memcpy(x, b, 32);
                for (int i = 0; i < 4; i++) {
                        acc += x[i] & 0xffffffff;
                        acc += x[i] >> 32;
                }
                b += 32;
                n -= 32;
        }
        while (n >= 4) {
                memcpy(&w, b, 4);
                acc += w;
                b += 4;
                n -= 4;
        }
        /* acc holds little-endian loads: fold to 16 bits and swap the bytes to
         * get the big-endian word sum. */
        acc = fold32(acc);
        acc = (acc & 0xffff) + (acc >> 16);
        acc = (acc & 0xffff) + (acc >> 16);
        acc = (uint16_t)((acc >> 8) | (acc << 8));
        if (n >= 2) {
                acc += mpnet_get_be16(b);
                b += 2;
                n -= 2;
        }
        if (n == 1)
                acc += (uint64_t)b[0] << 8;
        return sum + acc;
}
