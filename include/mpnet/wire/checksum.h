/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file checksum.h
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Values are host-order numbers of the big-endian 16-bit words: store a result
 * with mpnet_put_be16(). A region whose checksum field is correct sums to 0
 * through mpnet_csum().
 */
#ifndef MPNET_WIRE_CHECKSUM_H
#define MPNET_WIRE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"

/**
 * Add n bytes to a running one's-complement sum (not folded). Only the last
 * region added may have an odd length.
 */
MPNET_API uint64_t mpnet_csum_add(uint64_t sum, const void *b, size_t n);

/**
 * Copy n bytes from src to dst (not overlapping) and add them to a running
 * sum, as mpnet_csum_add(sum, src, n) would, in one pass over the bytes.
 */
MPNET_API uint64_t mpnet_csum_copy(uint64_t sum, void *dst, const void *src, size_t n);

/** Fold a running sum to 16 bits and complement it: the checksum field value. */
static inline uint16_t mpnet_csum_fold(uint64_t sum)
{
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)~sum;
}

/** @return the checksum of n bytes (0 when they include a correct checksum). */
static inline uint16_t mpnet_csum(const void *b, size_t n)
{
        return mpnet_csum_fold(mpnet_csum_add(0, b, n));
}

/* The one's complement sum of the 20 bytes at b in host order, folded to
 * 16 bits: five 32-bit adds (RFC 1071 2(B): the sum does not depend on the
 * order its words are added in, nor on byte order until it is stored). */
static inline uint32_t mpnet_csum20_fold(const uint8_t *b)
{
        uint32_t w[5];
        uint64_t s;

        __builtin_memcpy(w, b, 20);
        s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
        s = (s & 0xffffffff) + (s >> 32);
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        return (uint32_t)s;
}

/**
 * @return true when the 20 bytes at b (an IPv4 header without options) carry
 * a correct checksum: the folded sum is all ones, whatever the byte order.
 */
static inline bool mpnet_csum20_ok(const uint8_t *b)
{
        return mpnet_csum20_fold(b) == 0xffff;
}

/**
 * @return mpnet_csum(b, 20): the checksum of 20 bytes (an IPv4 header
 * without options, its checksum field zero when it is being set), inline:
 * the folded sum, the bytes of the 16-bit result swapped back on a
 * little-endian host. Every IPv4 header sent pays it.
 */
static inline uint16_t mpnet_csum20(const uint8_t *b)
{
        uint32_t s = mpnet_csum20_fold(b);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        s = (uint16_t)(s >> 8 | s << 8);
#endif
        return (uint16_t)~s;
}

/**
 * mpnet_csum_add(sum, b, n) inline for a header: n a multiple of 4, at most
 * 60 (a TCP header with its options, a bare segment). 64-bit words are
 * added with their carries counted apart and folded once (RFC 1071 2(B),
 * 2(C)); a SYN's or a
 * SYN-ACK's 40 bytes take about a third of the general sum's
 * instructions, without its call and vector set-up.
 */
static inline uint64_t mpnet_csum_hdr(uint64_t sum, const void *b, size_t n)
{
        const uint8_t *p = b;
        uint64_t s = 0, c = 0;
        size_t i = 0;

        /* 64-bit words, their carries counted apart (one adc's worth). */
        for (; i + 8 <= n; i += 8) {
                uint64_t w;

                __builtin_memcpy(&w, p + i, 8);
                s += w;
                c += s < w;
        }
        if (i < n) {
                uint32_t w;

                __builtin_memcpy(&w, p + i, 4);
                s += w;
                c += s < w;
        }
        s = (s & 0xffffffff) + (s >> 32) + c;
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        s = (uint16_t)(s >> 8 | s << 8);
#endif
        return sum + s;
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data
 * changed from old_word to new_word: HC' = ~(~HC + ~m + m').
 */
static inline uint16_t mpnet_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
        uint32_t s = (uint16_t)~csum + (uint32_t)(uint16_t)~old_word + new_word;

        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        return (uint16_t)~s;
}

#endif
