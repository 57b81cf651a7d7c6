/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * External blocks: a packet segment whose bytes live outside its own
 * buffer (MPNET_PKT_F_EXT), in a malloc'd block with a reference count,
 * as DPDK's indirect mbufs and Linux's page frags. TCP's send buffer is
 * made of such blocks and a super-segment's payload references them
 * (l4/tcp_out.c), so the bytes the application wrote go to the link and
 * stay for retransmission without a copy.
 *
 * A block is written by its owner before any segment references it and
 * never after (the bytes a segment references are immutable while it
 * lives); whoever drops the last reference frees it, on any thread.
 * The segment keeps the block's address in its own buffer's first bytes
 * (otherwise unused: its data is elsewhere); seg_free (base/pool.c)
 * drops the reference when the segment goes back to the pool.
 */
#ifndef MPNET_BASE_PKT_EXT_H
#define MPNET_BASE_PKT_EXT_H

#include <stdint.h>
#include <string.h>

#include "mpnet/pkt.h"

/* The size of block a thread keeps spares of (pkt_ext_put): TCP's send
 * buffer chunk. */
#define PKT_EXT_SPARE_SIZE 16384u
/* The most spares a thread keeps: one 4 MiB send buffer's chunks. */
#define PKT_EXT_SPARE_MAX 256u

struct pkt_ext {
        uint32_t ref; /* atomic */
        uint32_t size;
        uint8_t pad[MPNET_CACHE_LINE - 8];
        uint8_t b[]; /* size bytes, from a cache line */
};

/** A block of size bytes, one reference (the caller's). @return NULL: no memory. */
struct pkt_ext *pkt_ext_new(uint32_t size);

/** Drop one reference; the last frees the block (or keeps it as one of
 * the thread's spares, for its next pkt_ext_new of that size). */
void pkt_ext_put(struct pkt_ext *e);

/** @return the calling thread's spare blocks (tests). */
unsigned pkt_ext_spares(void);

static inline void pkt_ext_get_n(struct pkt_ext *e, uint32_t n)
{
        __atomic_fetch_add(&e->ref, n, __ATOMIC_RELAXED);
}

/** @return whether the caller's reference is the only one: nothing else
 * reads the block and nothing can start to (only the owner attaches). */
static inline int pkt_ext_alone(struct pkt_ext *e)
{
        return __atomic_load_n(&e->ref, __ATOMIC_ACQUIRE) == 1;
}

/** Make segment q (fresh from the pool, not chained) n bytes at data,
 * inside e, taking no reference: the caller took it (pkt_ext_get_n). */
static inline void pkt_ext_attach(struct mpnet_pkt *q, struct pkt_ext *e, const uint8_t *data,
                                  uint32_t n)
{
        memcpy(mpnet_pkt_buf(q), &e, sizeof(e));
        q->data = (uint8_t *)(uintptr_t)data;
        q->len = n;
        q->ol_flags |= MPNET_PKT_F_EXT;
}

#endif
