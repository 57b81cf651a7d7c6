/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file rss.h
 * Receive-side scaling in software: the Toeplitz hash of the Microsoft RSS
 * specification ("RSS Hashing Functions"), the indirection table that maps a
 * hash to a queue, and the hash of an Ethernet frame for links whose hardware
 * gives none.
 *
 * The hash input is the byte string the specification defines, in network
 * byte order: source address, destination address, then (4-tuple) source
 * port, destination port. IPv4 2-tuple 8 bytes, 4-tuple 12; IPv6 2-tuple 32,
 * 4-tuple 36. So a hash computed here equals the one a NIC programmed with the
 * same key reports.
 *
 * Two ways to compute it:
 *  - mpnet_toeplitz(): the specification's bit-by-bit loop, for tests and for
 *    a one-off hash; about 8 key shifts per input byte.
 *  - struct mpnet_rss: for each input byte position and each byte value, the
 *    32-bit contribution of that byte, precomputed from the key (36 x 256
 *    words, 36 KiB). A hash is then one table load and one XOR per input byte.
 *    Only the rows an input length touches are read: an IPv4 4-tuple reads 12.
 *
 * Keys: up to MPNET_RSS_KEY_MAX (52) bytes; the specification's length is 40.
 * A hash over n bytes uses key bits 0 .. 8n+30, so n + 4 key bytes; key bits
 * past the end of a shorter key count as zero. Two keys are provided:
 * mpnet_rss_key_ms, the one of the specification's verification suite and
 * of most NIC drivers, and mpnet_rss_key_sym, 0x6d5a repeated (Woo and Park,
 * "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling",
 * 2012). The latter repeats every 16 bits, and every field of the input
 * starts on a 16-bit boundary, so swapping source and destination (addresses
 * and ports together) leaves the hash unchanged: both directions of a flow
 * meet on one queue. The price: the hash then depends only on the XOR of the
 * input's 16-bit words, so at most 2^16 distinct values; plenty for an
 * indirection table, not a hash for a flow table.
 *
 * Threads: mpnet_toeplitz() and mpnet_rss_init() keep no state. A struct
 * mpnet_rss is read-only once initialised: any number of threads may hash
 * with it. A struct mpnet_reta: mpnet_rss_queue() may run in any number of
 * threads while one thread at a time calls mpnet_reta_set(); each entry is
 * one atomic 16-bit word, so a reader sees an entry's old queue or its new
 * one (packets of a flow moved that way may be reordered, as with a NIC's
 * table). mpnet_reta_init() changes the size: only while no reader can reach
 * the table (build a new one and publish it by pointer swap).
 */
#ifndef MPNET_RSS_H
#define MPNET_RSS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"

/** The key length of the specification, and the longest key accepted. */
#define MPNET_RSS_KEY_LEN 40u
#define MPNET_RSS_KEY_MAX 52u

/** The longest input struct mpnet_rss hashes: the IPv6 4-tuple. */
#define MPNET_RSS_INPUT_MAX 36u

/** Input lengths of the four tuples. */
#define MPNET_RSS_IP4_LEN    8u
#define MPNET_RSS_IP4_L4_LEN 12u
#define MPNET_RSS_IP6_LEN    32u
#define MPNET_RSS_IP6_L4_LEN 36u

/** The key of the Microsoft verification suite (0x6d, 0x5a, 0x56, 0xda, ...). */
MPNET_API extern const uint8_t mpnet_rss_key_ms[MPNET_RSS_KEY_LEN];
/** The symmetric key: 0x6d, 0x5a repeated 20 times. */
MPNET_API extern const uint8_t mpnet_rss_key_sym[MPNET_RSS_KEY_LEN];

/**
 * The Toeplitz hash of n bytes, bit by bit as the specification writes it.
 * @param key the secret key; bits past key_len bytes count as zero
 * @param key_len its length in bytes (any; n + 4 bytes are used)
 * @param data the input, in network byte order
 * @param n input bytes
 * @return the 32-bit hash (0 for n == 0)
 */
MPNET_API uint32_t mpnet_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *data,
                                  size_t n);

/** The per-byte tables of one key. 36 KiB; read-only after mpnet_rss_init(). */
struct mpnet_rss {
        /** tbl[i][v]: what byte value v at input position i adds to the hash. */
        uint32_t tbl[MPNET_RSS_INPUT_MAX][256];
} __attribute__((aligned(64)));

/**
 * Fill rss from a key.
 * @param key the secret key (mpnet_rss_key_ms, mpnet_rss_key_sym or the
 *        caller's); bits past key_len bytes count as zero
 * @param key_len 1 .. MPNET_RSS_KEY_MAX
 * @return 0, or -EINVAL (rss or key NULL, key_len out of range)
 */
MPNET_API int mpnet_rss_init(struct mpnet_rss *rss, const uint8_t *key, size_t key_len);

/**
 * The Toeplitz hash of n bytes with rss's key.
 * @param n at most MPNET_RSS_INPUT_MAX; only the first MPNET_RSS_INPUT_MAX
 *        bytes of a longer input are hashed
 * @return what mpnet_toeplitz() returns for the same key and input
 */
MPNET_API uint32_t mpnet_rss_hash(const struct mpnet_rss *rss, const uint8_t *data, size_t n);

/* Four consecutive input bytes i .. i+3 holding the big-endian value v. */
static inline uint32_t mpnet_rss_be32_(const struct mpnet_rss *rss, unsigned i, uint32_t v)
{
        return rss->tbl[i][v >> 24] ^ rss->tbl[i + 1][(v >> 16) & 0xff] ^
               rss->tbl[i + 2][(v >> 8) & 0xff] ^ rss->tbl[i + 3][v & 0xff];
}

static inline uint32_t mpnet_rss_be16_(const struct mpnet_rss *rss, unsigned i, uint16_t v)
{
        return rss->tbl[i][v >> 8] ^ rss->tbl[i + 1][v & 0xff];
}

static inline uint32_t mpnet_rss_bytes_(const struct mpnet_rss *rss, unsigned i, const uint8_t *b,
                                        unsigned n)
{
        uint32_t h = 0;

        for (unsigned k = 0; k < n; k++)
                h ^= rss->tbl[i + k][b[k]];
        return h;
}

/**
 * IPv4 2-tuple (NDIS_HASH_IPV4): src, dst.
 * Addresses in host order, as in struct mpnet_ip4_repr (192.0.2.1 is
 * 0xc0000201); they are hashed in network order as the specification says.
 */
static inline uint32_t mpnet_rss_ip4(const struct mpnet_rss *rss, uint32_t src, uint32_t dst)
{
        return mpnet_rss_be32_(rss, 0, src) ^ mpnet_rss_be32_(rss, 4, dst);
}

/**
 * IPv4 4-tuple (NDIS_HASH_TCP_IPV4, NDIS_HASH_UDP_IPV4): src, dst, sport,
 * dport. Addresses and ports in host order.
 */
static inline uint32_t mpnet_rss_ip4_l4(const struct mpnet_rss *rss, uint32_t src, uint32_t dst,
                                        uint16_t sport, uint16_t dport)
{
        return mpnet_rss_ip4(rss, src, dst) ^ mpnet_rss_be16_(rss, 8, sport) ^
               mpnet_rss_be16_(rss, 10, dport);
}

/** IPv6 2-tuple (NDIS_HASH_IPV6): src, dst as 16 bytes each, network order. */
static inline uint32_t mpnet_rss_ip6(const struct mpnet_rss *rss, const uint8_t src[16],
                                     const uint8_t dst[16])
{
        return mpnet_rss_bytes_(rss, 0, src, 16) ^ mpnet_rss_bytes_(rss, 16, dst, 16);
}

/** IPv6 4-tuple (NDIS_HASH_TCP_IPV6, NDIS_HASH_UDP_IPV6); ports in host order. */
static inline uint32_t mpnet_rss_ip6_l4(const struct mpnet_rss *rss, const uint8_t src[16],
                                        const uint8_t dst[16], uint16_t sport, uint16_t dport)
{
        return mpnet_rss_ip6(rss, src, dst) ^ mpnet_rss_be16_(rss, 32, sport) ^
               mpnet_rss_be16_(rss, 34, dport);
}

/** What mpnet_rss_hash_eth() hashed. */
enum mpnet_rss_type {
        MPNET_RSS_NONE = 0, /* not IPv4 or IPv6, or a header cut short: hash 0 */
        MPNET_RSS_IP4,      /* IPv4 2-tuple: a fragment, not TCP/UDP, or no room for ports */
        MPNET_RSS_IP4_L4,   /* IPv4 4-tuple, TCP or UDP */
        MPNET_RSS_IP6,      /* IPv6 2-tuple */
        MPNET_RSS_IP6_L4,   /* IPv6 4-tuple, TCP or UDP */
};

/**
 * The RSS hash of an Ethernet frame, as a NIC hashing TCP and UDP over IPv4
 * and IPv6 would give it. Up to two VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8)
 * are skipped. IPv4 options are skipped by IHL; IPv6 hop-by-hop, routing and
 * destination options headers are walked to the transport header. Ports are
 * hashed only for TCP and UDP, never for a fragment (IPv4 MF or offset, an
 * IPv6 fragment header), so that every fragment of a datagram hashes alike;
 * and only when they lie inside both the frame and the IP length. Anything
 * else that is IP hashes as the 2-tuple. Reads nothing past frame[len - 1].
 * @param frame the frame from its destination MAC, without FCS
 * @param len its length
 * @param type where to store what was hashed (enum mpnet_rss_type); may be NULL
 * @return the hash, or 0 with MPNET_RSS_NONE for anything that is not IPv4
 *         or IPv6 or whose IP header is cut short or malformed (version, IHL)
 */
MPNET_API uint32_t mpnet_rss_hash_eth(const struct mpnet_rss *rss, const uint8_t *frame, size_t len,
                                      unsigned *type);

/** Indirection table sizes: the default (as most NICs), and the largest. */
#define MPNET_RETA_DEFAULT 128u
#define MPNET_RETA_MAX     512u

/**
 * The indirection table: entry (hash & (size - 1)) is the queue, as the
 * specification masks the hash to its low bits.
 */
struct mpnet_reta {
        uint32_t mask;     /* size - 1; fixed by mpnet_reta_init() */
        uint16_t n_queues; /* entries are below it */
        _Atomic(uint16_t) q[MPNET_RETA_MAX];
};

/**
 * Size the table and fill it round-robin: entry i is queue i % n_queues.
 * @param size a power of two, 1 .. MPNET_RETA_MAX (MPNET_RETA_DEFAULT if 0)
 * @param n_queues 1 .. 65535
 * @return 0, or -EINVAL
 */
MPNET_API int mpnet_reta_init(struct mpnet_reta *reta, uint32_t size, uint16_t n_queues);

/** @return the number of entries. */
static inline uint32_t mpnet_reta_size(const struct mpnet_reta *reta)
{
        return reta->mask + 1;
}

/**
 * Point one entry at a queue; safe while readers run mpnet_rss_queue().
 * @return 0, or -EINVAL (idx beyond the size, queue not below n_queues)
 */
MPNET_API int mpnet_reta_set(struct mpnet_reta *reta, uint32_t idx, uint16_t queue);

/** @return the queue of a hash. */
static inline uint16_t mpnet_rss_queue(const struct mpnet_reta *reta, uint32_t hash)
{
        return atomic_load_explicit(&reta->q[hash & reta->mask], memory_order_relaxed);
}

#endif
