/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file icmp4.h
 * ICMP for IPv4 (RFC 792): the 8-byte header and whatever follows it (echo
 * data, or the offending packet's header in an error).
 */
#ifndef MPNET_WIRE_ICMP4_H
#define MPNET_WIRE_ICMP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define MPNET_ICMP4_HLEN 8

#define MPNET_ICMP4_ECHO_REPLY    0
#define MPNET_ICMP4_DEST_UNREACH  3
#define MPNET_ICMP4_REDIRECT      5
#define MPNET_ICMP4_ECHO_REQUEST  8
#define MPNET_ICMP4_TIME_EXCEEDED 11
#define MPNET_ICMP4_PARAM_PROBLEM 12

struct mpnet_icmp4_view {
        const uint8_t *b;
        size_t n; /* the whole message */
};

/** @return 0, or -MPNET_WIRE_TRUNCATED below 8 bytes. */
MPNET_API int mpnet_icmp4_view_check(const uint8_t *b, size_t n, struct mpnet_icmp4_view *v);

static inline uint8_t mpnet_icmp4_type(const struct mpnet_icmp4_view *v)
{
        return v->b[0];
}
static inline uint8_t mpnet_icmp4_code(const struct mpnet_icmp4_view *v)
{
        return v->b[1];
}
static inline uint16_t mpnet_icmp4_echo_id(const struct mpnet_icmp4_view *v)
{
        return mpnet_get_be16(v->b + 4);
}
static inline uint16_t mpnet_icmp4_echo_seq(const struct mpnet_icmp4_view *v)
{
        return mpnet_get_be16(v->b + 6);
}
/** The second header word (echo id and sequence, next-hop MTU, pointer). */
static inline uint32_t mpnet_icmp4_rest(const struct mpnet_icmp4_view *v)
{
        return mpnet_get_be32(v->b + 4);
}
static inline const uint8_t *mpnet_icmp4_data(const struct mpnet_icmp4_view *v)
{
        return v->b + MPNET_ICMP4_HLEN;
}
static inline size_t mpnet_icmp4_data_len(const struct mpnet_icmp4_view *v)
{
        return v->n - MPNET_ICMP4_HLEN;
}
/** @return true when the checksum over the whole message verifies. */
static inline bool mpnet_icmp4_csum_ok(const struct mpnet_icmp4_view *v)
{
        return mpnet_csum(v->b, v->n) == 0;
}

/**
 * An ICMP message as fields. For echo, id and seq are used and rest is
 * ignored; for other types rest is the second word. data points at the body
 * (it may point into the buffer being emitted into).
 */
struct mpnet_icmp4_repr {
        uint8_t type;
        uint8_t code;
        uint16_t id, seq;
        uint32_t rest;
        const uint8_t *data;
        size_t data_len;
};

MPNET_API void mpnet_icmp4_repr_parse(const struct mpnet_icmp4_view *v, struct mpnet_icmp4_repr *r);
static inline size_t mpnet_icmp4_repr_len(const struct mpnet_icmp4_repr *r)
{
        return MPNET_ICMP4_HLEN + r->data_len;
}
/** Write header and data (moved if they overlap) with the checksum into b. */
MPNET_API void mpnet_icmp4_repr_emit(const struct mpnet_icmp4_repr *r, uint8_t *b);

#endif
