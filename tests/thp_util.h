/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Transparent huge pages, as the LPM tests see them: whether the kernel
 * collapses a region for this process right now, and how much of a mapping
 * is on huge pages.
 */
#ifndef MPNET_THP_UTIL_H
#define MPNET_THP_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "mpnet/lpm_tbl24.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* Where tbl24 entry i lives, its page written (the directory points
 * there). */
static inline const void *tbl24_addr(const struct mpnet_tbl24 *v, uint32_t i)
{
        _Atomic mpnet_tbl24_page *pd = atomic_load(&v->dir[i >> 19]);

        return atomic_load(&pd[(i >> 10) & 511]) + (i & 1023);
}

/* The 64 MiB tbl24 array of a table, found through the page of entry i,
 * which must be written. */
static inline const uint8_t *tbl24_base(const struct mpnet_tbl24 *v, uint32_t i)
{
        return (const uint8_t *)tbl24_addr(v, i) - (size_t)i * 4;
}

/* How many 4 KiB pages of tbl24 are mapped (mincore: a page the kernel's
 * zero page stands for counts too); -1 if mincore fails. */
static inline long tbl24_mapped_pages(const uint8_t *base)
{
        static unsigned char vec[MPNET_TBL24_REGIONS * MPNET_TBL24_REGION_PAGES];
        long n = 0;

        if (mincore((void *)base, sizeof(vec) * 4096, vec) != 0)
                return -1;
        for (size_t i = 0; i < sizeof(vec); i++)
                n += vec[i] & 1;
        return n;
}

/* AnonHugePages (kB) of the mapping holding addr; 0 if /proc says nothing. */
static inline long anon_huge_kb(const void *addr)
{
        FILE *f = fopen("/proc/self/smaps", "r");
        char line[256];
        bool in = false;
        long kb = 0;

        if (f == NULL)
                return 0;
        while (fgets(line, sizeof(line), f) != NULL) {
                unsigned long lo, hi;

                if (line[strspn(line, "0123456789abcdef")] == '-' &&
                    sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
                        in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
                        continue;
                }
                if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
                        break;
        }
        fclose(f);
        return in ? kb : 0;
}

/* Whether the kernel collapses a written, advised 2 MiB region of this
 * process into a huge page now (Linux 6.1, THP not off, a huge page free):
 * what the tables do when a region is half written. */
static inline bool thp_collapses_now(void)
{
        const size_t len = 4u << 20;
        uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uint8_t *a = (uint8_t *)(((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));
        bool ok;

        if (p == MAP_FAILED)
                return false;
        (void)madvise(a, 2u << 20, MADV_NOHUGEPAGE);
        memset(a, 1, 1u << 20);
        ok = madvise(a, 2u << 20, MADV_HUGEPAGE) == 0 && madvise(a, 2u << 20, MADV_COLLAPSE) == 0 &&
             anon_huge_kb(a) >= 2048;
        munmap(p, len);
        return ok;
}

#endif
