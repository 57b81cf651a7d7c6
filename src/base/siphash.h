/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed hash for short inputs, unpredictable without the key.
 * Stateless; any thread.
 */
#ifndef MPNET_BASE_SIPHASH_H
#define MPNET_BASE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of n bytes of m under a 16-byte key. */
uint64_t siphash24(const uint8_t key[16], const void *m, size_t n);

/* The same of n 64-bit words: siphash24() of their little-endian bytes
 * (8n of them), without the byte loads and the tail. */
uint64_t siphash24_u64(const uint8_t key[16], const uint64_t *w, unsigned n);

#endif
