/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Big zeroed objects laid out by cache line (a stack, a worker context, a
 * ring, a block of counters), paid for by the pages written, not by their
 * size.
 *
 * aligned_alloc() + memset() writes every byte, so a 230 KiB stack whose
 * 4096-entry table directories and per-node frames mostly stay
 * unused cost 230 KiB of resident memory and a memset each. calloc() skips
 * the clearing only while its block is fresh from the kernel, and glibc
 * raises its mmap threshold to the size of the largest mmapped block freed
 * (the "dynamic threshold"): after the first stack is destroyed, every later
 * stack came from the heap and was cleared byte by byte (a sixth of the time
 * to create one). So a block of at least ZALLOC_MMAP_MIN bytes is a mapping
 * of its own: zero pages from the kernel, faulted in only where written, and
 * returned at once by zfree_lines(). Smaller ones come from calloc(). Under
 * AddressSanitizer every block comes from calloc(), so ASan sees them all.
 *
 * Every mapping starts on a page, so objects at the same offset of their
 * mappings would share cache sets: a daemon polling 1000 stacks read the
 * same fields of each through the same few sets and its poll round slowed
 * fivefold. A mapped object therefore starts 1 to 63 lines into its mapping,
 * the number taken from the mapping's address (its colour).
 *
 * The line before the object holds the block's start and, for a mapping, its
 * length (0 for calloc()), for zfree_lines().
 */
#ifndef MPNET_BASE_ZALLOC_H
#define MPNET_BASE_ZALLOC_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mpnet/pkt.h" /* MPNET_CACHE_LINE */

#define ZALLOC_MMAP_MIN ((size_t)32 << 10)
#define ZALLOC_PAGE     ((size_t)4096)

#if defined(__SANITIZE_ADDRESS__)
#define ZALLOC_USE_MMAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZALLOC_USE_MMAP 0
#endif
#endif
#ifndef ZALLOC_USE_MMAP
#define ZALLOC_USE_MMAP 1
#endif

static inline void *zalloc_lines(size_t size)
{
        size_t len = size + ZALLOC_PAGE;
        uint8_t *raw;
        uintptr_t p;

        if (size > SIZE_MAX / 2)
                return NULL;
        raw = MAP_FAILED;
        /* A process may hold only so many mappings (vm.max_map_count, 65,530
         * by default: some 20,000 stacks): past it, the heap. */
        if (ZALLOC_USE_MMAP && size >= ZALLOC_MMAP_MIN)
                raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw != MAP_FAILED) {
                uintptr_t colour = ((uintptr_t)raw >> 12) * 0x9e3779b1u >> 7 & 0x3f;

                p = (uintptr_t)raw + (colour == 0 ? 1 : colour) * MPNET_CACHE_LINE;
        } else {
                len = 0;
                raw = calloc(1, size + MPNET_CACHE_LINE + 2 * sizeof(void *));
                if (raw == NULL)
                        return NULL;
                p = ((uintptr_t)raw + 2 * sizeof(void *) + MPNET_CACHE_LINE - 1) &
                    ~(uintptr_t)(MPNET_CACHE_LINE - 1);
        }
        ((void **)p)[-1] = raw;
        ((size_t *)p)[-2] = len;
        return (void *)p;
}

/* Only for what zalloc_lines() returned; NULL is ignored. */
static inline void zfree_lines(void *p)
{
        size_t len;

        if (p == NULL)
                return;
        len = ((size_t *)p)[-2];
        if (len != 0)
                munmap(((void **)p)[-1], len);
        else
                free(((void **)p)[-1]);
}

#endif
