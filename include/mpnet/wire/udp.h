/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file udp.h
 * The UDP header (RFC 768) and its checksum over the IPv4 (RFC 768) or IPv6
 * (RFC 8200 8.1) pseudo-header.
 *
 * The view is checked against the IP payload it came in, so its three length
 * faults are told apart: fewer than 8 bytes, a length field below 8, and a
 * length field beyond the payload. A length field short of the payload is
 * not a fault of the view: RFC 768 does not say what the surplus is, Linux
 * (__udp4_lib_rcv) and FreeBSD (udp_input) trim it, so the view ends at the
 * length field and mpnet_udp_surplus() tells the caller what was cut.
 * Jumbograms (RFC 2675, length field 0) are not supported.
 */
#ifndef MPNET_WIRE_UDP_H
#define MPNET_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define MPNET_UDP_HLEN 8
/** The largest payload over IPv4: 65535 - 20 - 8. */
#define MPNET_UDP4_PAYLOAD_MAX 65507

/** A checked datagram: n is its length field, surplus the IP payload past it. */
struct mpnet_udp_view {
        const uint8_t *b;
        size_t n;
        size_t surplus;
};

/**
 * Check that b (the n bytes of IP payload) starts with a whole datagram.
 * @return 0; -MPNET_WIRE_TRUNCATED when n < 8; -MPNET_WIRE_BAD_HLEN when the
 * length field is below 8 (it cannot cover its own header); -MPNET_WIRE_BAD_LEN
 * when the length field is beyond n. The checksum is not checked.
 */
MPNET_API int mpnet_udp_view_check(const uint8_t *b, size_t n, struct mpnet_udp_view *v);

static inline uint16_t mpnet_udp_sport(const struct mpnet_udp_view *v)
{
        return mpnet_get_be16(v->b);
}
static inline uint16_t mpnet_udp_dport(const struct mpnet_udp_view *v)
{
        return mpnet_get_be16(v->b + 2);
}
static inline uint16_t mpnet_udp_len(const struct mpnet_udp_view *v)
{
        return (uint16_t)v->n;
}
static inline uint16_t mpnet_udp_csum(const struct mpnet_udp_view *v)
{
        return mpnet_get_be16(v->b + 6);
}
static inline const uint8_t *mpnet_udp_payload(const struct mpnet_udp_view *v)
{
        return v->b + MPNET_UDP_HLEN;
}
static inline size_t mpnet_udp_payload_len(const struct mpnet_udp_view *v)
{
        return v->n - MPNET_UDP_HLEN;
}
/** @return the IP payload bytes past the length field (0 when it fits). */
static inline size_t mpnet_udp_surplus(const struct mpnet_udp_view *v)
{
        return v->surplus;
}

/**
 * The pseudo-headers as running sums for mpnet_csum_add(), so a checksum over
 * a buffer chain adds each segment in turn. len is the UDP length (header and
 * payload). Addresses: IPv4 in host order, IPv6 as 16 bytes.
 */
MPNET_API uint64_t mpnet_udp4_pseudo(uint32_t src, uint32_t dst, uint16_t len);
MPNET_API uint64_t mpnet_udp6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len);

/** The checksum field for a running sum that covers the pseudo-header, the
 * header with a zero field, and the payload. RFC 768: a computed 0 is sent as
 * 0xffff, since 0 means "no checksum". */
static inline uint16_t mpnet_udp_csum_final(uint64_t sum)
{
        uint16_t c = mpnet_csum_fold(sum);

        return c == 0 ? 0xffff : c;
}

/** mpnet_udp4_csum_check(): the field is 0, the sender computed none (RFC 768). */
#define MPNET_UDP_CSUM_NONE 1

/**
 * Verify the checksum of a datagram carried over IPv4.
 * @return 0 when it verifies; MPNET_UDP_CSUM_NONE when the field is 0 (no
 * checksum, allowed over IPv4); -MPNET_WIRE_BAD_CSUM otherwise.
 */
MPNET_API int mpnet_udp4_csum_check(const struct mpnet_udp_view *v, uint32_t src, uint32_t dst);
/**
 * Verify the checksum of a datagram carried over IPv6.
 * @return 0 when it verifies; -MPNET_WIRE_BAD_FIELD when the field is 0 (RFC
 * 8200 8.1: mandatory over IPv6, a zero one is discarded); -MPNET_WIRE_BAD_CSUM
 * otherwise.
 */
MPNET_API int mpnet_udp6_csum_check(const struct mpnet_udp_view *v, const uint8_t src[16],
                                    const uint8_t dst[16]);

/** A UDP header as fields. */
struct mpnet_udp_repr {
        uint16_t sport, dport;
        uint16_t payload_len;
};

MPNET_API void mpnet_udp_repr_parse(const struct mpnet_udp_view *v, struct mpnet_udp_repr *r);
static inline size_t mpnet_udp_repr_len(const struct mpnet_udp_repr *r)
{
        return MPNET_UDP_HLEN + r->payload_len;
}
/** Write the 8-byte header into b with a zero checksum field (the payload
 * follows it in place; fill the checksum with the calls below). */
MPNET_API void mpnet_udp_repr_emit(const struct mpnet_udp_repr *r, uint8_t *b);
/** Fill the checksum of the datagram at b (header as emitted, payload after
 * it, as long as its length field says). */
MPNET_API void mpnet_udp4_csum_set(uint8_t *b, uint32_t src, uint32_t dst);
MPNET_API void mpnet_udp6_csum_set(uint8_t *b, const uint8_t src[16], const uint8_t dst[16]);

#endif
