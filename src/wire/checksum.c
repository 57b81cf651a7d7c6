/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RFC 1071 checksum: sum 32 bits at a time into a 64-bit accumulator (the
 * carries land in the high half and are folded once at the end, RFC 1071
 * section 2(C) "deferred carries"), byte-swapping the words of a little-endian load only at the end
 * (the sum is byte-order independent, RFC 1071 section 2(B)).
 *
 * mpnet_csum_copy() does the same while it copies, so a segment's payload
 * is read once on its way into the packet (the idea of Linux's
 * csum_partial_copy).
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

/* acc holds the sum of little-endian 32-bit loads: fold it to 16 bits,
 * swap the bytes to get the big-endian word sum, add the tail of fewer
 * than 4 bytes at b. */
static uint64_t csum_finish(uint64_t acc, const uint8_t *b, size_t n)
{
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
        return acc;
}

/* Two 64-bit lanes (GCC's and Clang's vector extension: SSE2 on x86-64,
 * NEON on arm64). The 32-byte step adds the 32-bit halves of four words
 * into two vector accumulators, reduced once at the end. A lane gains
 * under 2^34 a step, so it cannot overflow below 2^30 steps (32 GiB). */
typedef uint64_t v2u64 __attribute__((vector_size(16)));

static inline uint64_t lanes_fold(v2u64 a0, v2u64 a1)
{
        return fold32(a0[0]) + fold32(a0[1]) + fold32(a1[0]) + fold32(a1[1]);
}

uint64_t mpnet_csum_add(uint64_t sum, const void *buf, size_t n)
{
        const uint8_t *b = buf;
        const v2u64 lo = {0xffffffff, 0xffffffff};
        v2u64 a0 = {0, 0}, a1 = {0, 0};
        uint64_t acc;
        uint32_t w;

        while (n >= 32) {
                v2u64 x0, x1;

                memcpy(&x0, b, 16);
                memcpy(&x1, b + 16, 16);
                a0 += (x0 & lo) + (x0 >> 32);
                a1 += (x1 & lo) + (x1 >> 32);
                b += 32;
                n -= 32;
        }
        acc = lanes_fold(a0, a1);
        while (n >= 4) {
                memcpy(&w, b, 4);
                acc += w;
                b += 4;
                n -= 4;
        }
        return sum + csum_finish(acc, b, n);
}

uint64_t mpnet_csum_copy(uint64_t sum, void *dst, const void *src, size_t n)
{
        const uint8_t *b = src;
        uint8_t *d = dst;
        const v2u64 lo = {0xffffffff, 0xffffffff};
        v2u64 a0 = {0, 0}, a1 = {0, 0};
        uint64_t acc;
        uint32_t w;

        while (n >= 32) {
                v2u64 x0, x1;

                memcpy(&x0, b, 16);
                memcpy(&x1, b + 16, 16);
                memcpy(d, &x0, 16);
                memcpy(d + 16, &x1, 16);
                a0 += (x0 & lo) + (x0 >> 32);
                a1 += (x1 & lo) + (x1 >> 32);
                b += 32;
                d += 32;
                n -= 32;
        }
        acc = lanes_fold(a0, a1);
        while (n >= 4) {
                memcpy(&w, b, 4);
                memcpy(d, &w, 4);
                acc += w;
                b += 4;
                d += 4;
                n -= 4;
        }
        memcpy(d, b, n);
        return sum + csum_finish(acc, b, n);
}
