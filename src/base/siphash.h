/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SipHash-2-4 and SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
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

/* The same of n words and then tail_len (0 to 7) more bytes, the low ones
 * of tail (the rest of tail zero): siphash24() of those 8n + tail_len
 * bytes. The tail rides in the final block, which carries the length
 * anyway: up to 7 bytes more for no SipRound more. */
uint64_t siphash24_u64_tail(const uint8_t key[16], const uint64_t *w, unsigned n, uint64_t tail,
                            unsigned tail_len);

/* SipHash-1-3 of n 64-bit words (one SipRound a word, three to finish:
 * the variant the paper's authors, Rust's HashMap and Linux's hsiphash()
 * on 64-bit use for hash tables). A table's hash, whose values are never
 * seen outside; not a MAC (SYN cookies, ISNs keep SipHash-2-4). */
uint64_t siphash13_u64(const uint8_t key[16], const uint64_t *w, unsigned n);

#endif
