/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file bytes.h
 * Network byte order access to unaligned fields, and the error codes every
 * wire view check returns (negated).
 *
 * The wire layer follows one pattern per protocol: a *view* is a checked
 * window on bytes (the check proves every getter stays in bounds), a *repr* is
 * the parsed header as plain fields, and *emit* writes a repr back as bytes,
 * checksums included. Nothing here allocates or keeps state.
 */
#ifndef MPNET_WIRE_BYTES_H
#define MPNET_WIRE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"

enum mpnet_wire_err {
        MPNET_WIRE_OK = 0,
        MPNET_WIRE_TRUNCATED,   /* fewer bytes than the header (or its length field) needs */
        MPNET_WIRE_BAD_VERSION, /* version field is not this protocol's */
        MPNET_WIRE_BAD_HLEN,    /* header length field out of range */
        MPNET_WIRE_BAD_LEN,     /* total length field inconsistent */
        MPNET_WIRE_BAD_CSUM,    /* checksum does not verify */
        MPNET_WIRE_UNSUPPORTED, /* valid but a variant we do not handle */
        MPNET_WIRE_BAD_FIELD,   /* some other field has a forbidden value */
        MPNET_WIRE_BAD_ORDER,   /* a header where it may not appear (IPv6 hop-by-hop not first) */
        MPNET_WIRE_DEPRECATED,  /* a variant that must be dropped (IPv6 routing type 0) */
        MPNET_WIRE_TOO_LONG,    /* a header chain beyond the parser's bounds */
        MPNET_WIRE_BAD_OPTION,  /* an option with a forbidden length */
};

/** @return a short description of a (positive or negated) wire error. */
MPNET_API const char *mpnet_wire_err_str(int err);

/* One unaligned load or store and a byte swap (a single instruction each). */
static inline uint16_t mpnet_get_be16(const uint8_t *b)
{
        uint16_t v;

        __builtin_memcpy(&v, b, 2);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap16(v);
#endif
        return v;
}

static inline uint32_t mpnet_get_be32(const uint8_t *b)
{
        uint32_t v;

        __builtin_memcpy(&v, b, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap32(v);
#endif
        return v;
}

static inline void mpnet_put_be16(uint8_t *b, uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap16(v);
#endif
        __builtin_memcpy(b, &v, 2);
}

static inline void mpnet_put_be32(uint8_t *b, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap32(v);
#endif
        __builtin_memcpy(b, &v, 4);
}

#endif
