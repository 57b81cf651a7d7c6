/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file igmp.h
 * IGMP (RFC 3376, with RFC 2236 and RFC 1112 for compatibility): the
 * membership query of every version (told apart by length, RFC 3376 7.1),
 * the version 3 membership report with its group records, the version 1
 * and 2 reports and the version 2 leave. Addresses in host order; source
 * lists stay in the message (network order, 4 bytes each).
 */
#ifndef MPNET_WIRE_IGMP_H
#define MPNET_WIRE_IGMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define MPNET_IPPROTO_IGMP 2

#define MPNET_IGMP_HLEN        8  /* v1/v2 messages, the v3 report's header */
#define MPNET_IGMP3_QUERY_LEN  12 /* a v3 query without sources */
#define MPNET_IGMP3_RECORD_LEN 8  /* a group record without sources */

#define MPNET_IGMP_QUERY     0x11
#define MPNET_IGMP_V1_REPORT 0x12
#define MPNET_IGMP_V2_REPORT 0x16
#define MPNET_IGMP_V2_LEAVE  0x17
#define MPNET_IGMP_V3_REPORT 0x22

/* Group record types (RFC 3376 4.2.12). */
#define MPNET_IGMP3_MODE_IS_INCLUDE 1
#define MPNET_IGMP3_MODE_IS_EXCLUDE 2
#define MPNET_IGMP3_TO_INCLUDE      3
#define MPNET_IGMP3_TO_EXCLUDE      4
#define MPNET_IGMP3_ALLOW_NEW       5
#define MPNET_IGMP3_BLOCK_OLD       6

#define MPNET_IGMP_ALL_HOSTS   0xe0000001u /* 224.0.0.1 */
#define MPNET_IGMP_ALL_ROUTERS 0xe0000002u /* 224.0.0.2, v2 leaves */
#define MPNET_IGMP_V3_ROUTERS  0xe0000016u /* 224.0.0.22, v3 reports */

struct mpnet_igmp_view {
        const uint8_t *b;
        size_t n; /* the whole message */
};

/**
 * Check a message of n bytes (the IP payload).
 * @return 0;
 * -MPNET_WIRE_TRUNCATED below 8 bytes;
 * -MPNET_WIRE_BAD_LEN for a query of 9 to 11 bytes (RFC 3376 7.1: neither
 *  a v1/v2 query nor a v3 one; ignored);
 * -MPNET_WIRE_BAD_HLEN for a v3 query whose Number of Sources runs past
 *  the end;
 * -MPNET_WIRE_TOO_LONG for a v3 report whose group records (their sources
 *  and auxiliary data included) run past the end;
 * -MPNET_WIRE_BAD_CSUM when the checksum over the message does not verify.
 * Other types pass (RFC 3376 4: unknown types are ignored, not errors).
 */
MPNET_API int mpnet_igmp_view_check(const uint8_t *b, size_t n, struct mpnet_igmp_view *v);

static inline uint8_t mpnet_igmp_type(const struct mpnet_igmp_view *v)
{
        return v->b[0];
}
/** The group address field of any message (0 in a general query and a v3
 * report). */
static inline uint32_t mpnet_igmp_group(const struct mpnet_igmp_view *v)
{
        return mpnet_get_be32(v->b + 4);
}

/** RFC 3376 4.1.1 and 4.1.7: a code below 128 is the value; from 128 a
 * floating-point value (mantissa 4 bits, exponent 3). */
MPNET_API uint32_t mpnet_igmp_code_decode(uint8_t code);
/** The code that stands for value (rounded down to what it can say;
 * 31744 and more: the largest). */
MPNET_API uint8_t mpnet_igmp_code_encode(uint32_t value);

/** A membership query of any version (RFC 3376 4.1, 7.1). */
struct mpnet_igmp_query {
        uint8_t version;      /* 1: 8 bytes, code 0; 2: 8 bytes; 3: 12 or more */
        uint32_t max_resp_ds; /* tenths of a second, decoded; v1: 100 (10 s) */
        uint32_t group;       /* 0 for a general query */
        bool suppress;        /* S flag (v3) */
        uint8_t qrv;          /* v3 */
        uint32_t qqi;         /* seconds, decoded (v3) */
        uint16_t n_src;
        const uint8_t *src; /* n_src addresses of 4 bytes, network order */
};

/** Parse a checked view. @return 0, or -MPNET_WIRE_UNSUPPORTED unless a
 * query. */
MPNET_API int mpnet_igmp_query_parse(const struct mpnet_igmp_view *v, struct mpnet_igmp_query *q);
/** @return the length of a v3 query (12 + 4 per source). */
static inline size_t mpnet_igmp3_query_len(const struct mpnet_igmp_query *q)
{
        return MPNET_IGMP3_QUERY_LEN + (size_t)q->n_src * 4;
}
/** Write q with its checksum: 8 bytes for version 1 and 2 (v1: code 0),
 * mpnet_igmp3_query_len() for version 3 (codes encoded). @return the
 * length written. */
MPNET_API size_t mpnet_igmp_query_emit(const struct mpnet_igmp_query *q, uint8_t *b);

/** A group record of a v3 report (RFC 3376 4.2.4). */
struct mpnet_igmp_record {
        uint8_t type;
        uint16_t n_src;
        uint32_t group;
        const uint8_t *src; /* n_src addresses of 4 bytes, network order */
};

struct mpnet_igmp_rec_iter {
        const uint8_t *b;
        size_t pos, n;
        uint16_t left;
};

/** @return 0, or -MPNET_WIRE_UNSUPPORTED unless v is a v3 report. */
MPNET_API int mpnet_igmp_report_iter_init(struct mpnet_igmp_rec_iter *it,
                                          const struct mpnet_igmp_view *v);
/** Next record; auxiliary data is skipped (RFC 3376 4.2.6). @return 1 with
 * rec filled in; 0 after the last; -MPNET_WIRE_TRUNCATED when a record runs
 * past the message (never for a checked view). */
MPNET_API int mpnet_igmp_record_next(struct mpnet_igmp_rec_iter *it, struct mpnet_igmp_record *rec);

/** @return the length of a v3 report of n records. */
MPNET_API size_t mpnet_igmp3_report_len(const struct mpnet_igmp_record *recs, size_t n);
/** Write a v3 report with its checksum into b; no auxiliary data. */
MPNET_API void mpnet_igmp3_report_emit(const struct mpnet_igmp_record *recs, size_t n, uint8_t *b);
/** Write an 8-byte message (a v1 or v2 report, a v2 leave) with its
 * checksum into b. */
MPNET_API void mpnet_igmp_emit(uint8_t type, uint8_t code, uint32_t group, uint8_t *b);

#endif
