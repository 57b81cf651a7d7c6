/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file pkt.h
 * Packet buffers, packet pools and packet vectors.
 *
 * A buffer is one cache line of metadata (struct mpnet_pkt), then
 * MPNET_PKT_HEADROOM bytes for encapsulation, then MPNET_PKT_DATA_SIZE bytes
 * of data, all in one object. Frames longer than one buffer are chains of
 * segments linked by `next`; the head carries the chain's total length.
 *
 * Threads: a packet is owned by one thread at a time and moves between threads
 * only through a ring (which publishes it). A pool is MP-safe: each thread
 * with a slot (thread.h) allocates from its own cache, and a buffer freed on
 * another slot goes back to the cache of the slot it came from, in batches,
 * without a lock. Threads without a slot allocate from the pool's shared
 * store, under its lock.
 */
#ifndef MPNET_PKT_H
#define MPNET_PKT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpnet/export.h"

#define MPNET_PKT_HEADROOM  128u
#define MPNET_PKT_DATA_SIZE 2048u
#define MPNET_PKT_BUF_SIZE  (MPNET_PKT_HEADROOM + MPNET_PKT_DATA_SIZE)
#define MPNET_CACHE_LINE    64u

/* Offload flags carried in mpnet_pkt.ol_flags. */
#define MPNET_PKT_F_L3_CSUM_OK (1u << 0) /* IPv4 header checksum verified by the link */
#define MPNET_PKT_F_L4_CSUM_OK (1u << 1) /* L4 checksum verified by the link */
#define MPNET_PKT_F_L3_CSUM_TX (1u << 2) /* link must fill the IPv4 header checksum */
#define MPNET_PKT_F_L4_CSUM_TX (1u << 3) /* link must fill the L4 checksum */
#define MPNET_PKT_F_TSO        (1u << 4) /* link must segment at tso_segsz */
#define MPNET_PKT_F_VLAN       (1u << 5) /* vlan_tci holds a stripped 802.1Q tag */
#define MPNET_PKT_F_FLOW_HASH  (1u << 6) /* flow_hash is valid */
#define MPNET_PKT_F_L2_BCAST   (1u << 7) /* received to a broadcast or multicast MAC */
/* This segment's data is not in its buffer but in a shared, read-only block
 * the segment holds a reference to (a TCP send buffer's bytes); freeing the
 * segment drops the reference. Never write through data. */
#define MPNET_PKT_F_EXT (1u << 8)

struct mpnet_pool;

struct mpnet_pkt {
        uint8_t *data;           /* first valid byte of this segment */
        struct mpnet_pkt *next;  /* next segment of the chain, or NULL */
        struct mpnet_pool *pool; /* where the buffer goes back to */
        uint64_t ts;             /* receive or transmit time, ns */
        uint32_t len;            /* bytes in this segment */
        uint32_t pkt_len;        /* bytes in the whole chain (head only) */
        uint32_t flow_hash;      /* RSS hash when MPNET_PKT_F_FLOW_HASH */
        uint32_t ifindex;        /* input interface, then output interface */
        uint32_t ol_flags;       /* MPNET_PKT_F_* */
        uint16_t nb_segs;        /* segments in the chain (head only) */
        uint16_t tso_segsz;      /* segment payload size with MPNET_PKT_F_TSO */
        uint16_t l3_off;         /* network header, from the buffer start */
        uint16_t l4_off;         /* transport header, from the buffer start */
        uint16_t vlan_tci;       /* with MPNET_PKT_F_VLAN */
        uint8_t state;           /* pool-private: free or in use */
        uint8_t owner;           /* pool-private: slot whose cache it came from */
};
static_assert(sizeof(struct mpnet_pkt) == MPNET_CACHE_LINE, "packet metadata is one cache line");

/** @return the first byte of the buffer (start of the headroom). */
static inline uint8_t *mpnet_pkt_buf(struct mpnet_pkt *p)
{
        return (uint8_t *)(p + 1);
}

static inline uint32_t mpnet_pkt_headroom(struct mpnet_pkt *p)
{
        return (uint32_t)(p->data - mpnet_pkt_buf(p));
}

static inline uint32_t mpnet_pkt_tailroom(struct mpnet_pkt *p)
{
        return (uint32_t)(mpnet_pkt_buf(p) + MPNET_PKT_BUF_SIZE - (p->data + p->len));
}

/** Reset a single-segment buffer to empty with the default headroom. */
static inline void mpnet_pkt_reset(struct mpnet_pkt *p)
{
        p->data = mpnet_pkt_buf(p) + MPNET_PKT_HEADROOM;
        p->next = NULL;
        p->len = p->pkt_len = 0;
        p->nb_segs = 1;
        p->ts = 0;
        p->flow_hash = p->ifindex = p->ol_flags = 0;
        p->tso_segsz = p->l3_off = p->l4_off = p->vlan_tci = 0;
}

/**
 * Grow the head segment at the front by n bytes.
 * @return the new first byte, or NULL when the headroom is too small.
 */
static inline uint8_t *mpnet_pkt_prepend(struct mpnet_pkt *p, uint32_t n)
{
        if (n > mpnet_pkt_headroom(p))
                return NULL;
        p->data -= n;
        p->len += n;
        p->pkt_len += n;
        return p->data;
}

/**
 * Strip n bytes from the front of the head segment.
 * @return the new first byte, or NULL when the segment is shorter than n.
 */
static inline uint8_t *mpnet_pkt_adj(struct mpnet_pkt *p, uint32_t n)
{
        if (n > p->len)
                return NULL;
        p->data += n;
        p->len -= n;
        p->pkt_len -= n;
        return p->data;
}

/**
 * Grow a single-segment packet at the end by n bytes.
 * @return the first new byte, or NULL when the tailroom is too small.
 */
static inline uint8_t *mpnet_pkt_append(struct mpnet_pkt *p, uint32_t n)
{
        uint8_t *tail;

        if (p->next != NULL || n > mpnet_pkt_tailroom(p))
                return NULL;
        tail = p->data + p->len;
        p->len += n;
        p->pkt_len += n;
        return tail;
}

/** Packet pool. */
struct mpnet_pool;

/**
 * Create a pool of n buffers. Thread-safe.
 * @param name for messages.
 * @param n number of buffers (at least 1).
 * @return the pool, or NULL with errno set.
 */
MPNET_API struct mpnet_pool *mpnet_pool_create(const char *name, uint32_t n);

/**
 * Destroy a pool. Every buffer must have come back; buffers still out are
 * reported on stderr (a leak) and the memory is freed anyway.
 */
MPNET_API void mpnet_pool_destroy(struct mpnet_pool *pool);

/** @return a buffer reset to empty, or NULL when the pool is exhausted. */
MPNET_API struct mpnet_pkt *mpnet_pkt_alloc(struct mpnet_pool *pool);

/** Allocate up to n buffers. @return how many were allocated. */
MPNET_API unsigned mpnet_pkt_alloc_bulk(struct mpnet_pool *pool, struct mpnet_pkt **pkts,
                                        unsigned n);

/** Free a packet and every segment chained to it. NULL is ignored. */
MPNET_API void mpnet_pkt_free(struct mpnet_pkt *p);

/** Free n packets (each with its chain). */
MPNET_API void mpnet_pkt_free_bulk(struct mpnet_pkt **pkts, unsigned n);

/**
 * Send the calling thread's partly filled batches of other slots' buffers to
 * their owners, and return every buffer its slot's cache holds or was sent
 * back to the shared store. A thread calls it before it gives up its slot.
 */
MPNET_API void mpnet_pool_flush_cache(struct mpnet_pool *pool);

/** How a pool's buffers travelled (counts since create). */
struct mpnet_pool_stats {
        uint64_t store_locks;      /**< times the shared store's lock was taken */
        uint64_t batches_returned; /**< batches a slot sent back to their owner slot, lock-free */
        uint64_t reclaims;         /**< return lists moved to the store by a thread gone dry */
};

/** Read a pool's counters. Thread-safe; a snapshot while others run. */
MPNET_API void mpnet_pool_get_stats(const struct mpnet_pool *pool, struct mpnet_pool_stats *st);

/**
 * @return buffers handed out and not yet freed. Exact only while no thread
 * allocates or frees; tests use it to find leaks.
 */
MPNET_API uint32_t mpnet_pool_in_use(struct mpnet_pool *pool);

/** @return the number of buffers the pool was created with. */
MPNET_API uint32_t mpnet_pool_size(const struct mpnet_pool *pool);

/**
 * Copy a packet (all segments) into new buffers from pool.
 * @return the copy, or NULL when the pool is exhausted.
 */
MPNET_API struct mpnet_pkt *mpnet_pkt_copy(struct mpnet_pool *pool, const struct mpnet_pkt *p);

/**
 * Copy len bytes starting at off of a (possibly chained) packet into dst.
 * @return 0, or -EINVAL when the packet is shorter than off + len.
 */
MPNET_API int mpnet_pkt_read(const struct mpnet_pkt *p, uint32_t off, void *dst, uint32_t len);

/** Shorten a packet, chain included, to n bytes (link padding past an IP
 * total length, say); the segments past the cut go back to their pool.
 * Nothing happens when n is not below pkt_len. */
MPNET_API void mpnet_pkt_trim(struct mpnet_pkt *p, uint32_t n);

/**
 * Build a packet from bytes, chaining segments when len exceeds one buffer.
 * @return the packet, or NULL when the pool is exhausted.
 */
MPNET_API struct mpnet_pkt *mpnet_pkt_from_bytes(struct mpnet_pool *pool, const void *src,
                                                 uint32_t len);

/** A vector of up to MPNET_VEC_MAX packets: the unit of work on the packet path. */
#define MPNET_VEC_MAX 256u

struct mpnet_vec {
        uint32_t n;
        struct mpnet_pkt *p[MPNET_VEC_MAX];
};

static inline void mpnet_vec_push(struct mpnet_vec *v, struct mpnet_pkt *p)
{
        v->p[v->n++] = p;
}

static inline int mpnet_vec_full(const struct mpnet_vec *v)
{
        return v->n == MPNET_VEC_MAX;
}

#endif
