/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Big zeroed objects laid out by cache line (a stack, a worker context, a
 * block of counters), paid for by the pages written, not by their size.
 *
 * aligned_alloc() + memset() writes every byte, so a 230 KiB stack whose
 * ping rings, 4096-entry table directories and per-node frames mostly stay
 * unused cost 230 KiB of resident memory and a memset each. calloc() knows
 * when its block is fresh from the kernel (large blocks come from mmap, and
 * so do ASan's) and then skips the clearing: pages nobody writes are never
 * faulted in. calloc() aligns to 16 bytes only, so the block is over-sized by
 * a line and the pointer calloc() returned is kept in the word before the
 * object, for zfree_lines().
 */
#ifndef MPNET_BASE_ZALLOC_H
#define MPNET_BASE_ZALLOC_H

#include <stdint.h>
#include <stdlib.h>

#include "mpnet/pkt.h" /* MPNET_CACHE_LINE */

static inline void *zalloc_lines(size_t size)
{
        uint8_t *raw = calloc(1, size + MPNET_CACHE_LINE + sizeof(void *));
        uintptr_t p;

        if (raw == NULL)
                return NULL;
        p = ((uintptr_t)raw + sizeof(void *) + MPNET_CACHE_LINE - 1) &
            ~(uintptr_t)(MPNET_CACHE_LINE - 1);
        ((void **)p)[-1] = raw;
        return (void *)p;
}

/* Only for what zalloc_lines() returned; NULL is ignored. */
static inline void zfree_lines(void *p)
{
        if (p != NULL)
                free(((void **)p)[-1]);
}

#endif
