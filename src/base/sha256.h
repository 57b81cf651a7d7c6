/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SHA-256 (FIPS 180-4), small and self-contained: for RFC 7217 interface
 * identifiers, not for bulk data.
 *
 * Synchronisation: none; a context belongs to its caller.
 */
#ifndef MPNET_BASE_SHA256_H
#define MPNET_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
        uint32_t h[8];
        uint64_t len; /* bytes hashed */
        uint8_t buf[64];
        size_t n; /* bytes in buf */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
void sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN]);

#endif
