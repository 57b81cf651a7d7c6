/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Lazily backed LPM arrays with a page-size policy (table_mem.h).
 */
#define _GNU_SOURCE /* mremap() */
#include "fib/table_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 uapi; older headers lack it */
#endif

#define PAGE_4K      4096u
#define PAGE_2M      (2u << 20)
#define PAGES_PER_2M (PAGE_2M / PAGE_4K)
#define AUTO_PAGES   (PAGES_PER_2M / 2) /* half a region written: promote */

/* Whether the kernel gives transparent huge pages to advised memory. */
static bool thp_available(void)
{
        FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
        char line[128] = "";
        bool ok;

        if (f == NULL)
                return false;
        ok = fgets(line, sizeof(line), f) != NULL && strstr(line, "[never]") == NULL;
        fclose(f);
        return ok;
}

int table_mem_map(struct table_mem *m, size_t len, enum table_mem_pages pages)
{
        size_t rlen = (len + PAGE_2M - 1) / PAGE_2M * PAGE_2M;
        size_t span = pages == TABLE_MEM_SMALL ? rlen : rlen + PAGE_2M;
        uint8_t *p, *a;

        memset(m, 0, sizeof(*m));
        if (pages == TABLE_MEM_AUTO && !thp_available())
                pages = TABLE_MEM_SMALL;
        m->pages = pages;
        m->region = calloc(rlen / PAGE_2M, sizeof(*m->region));
        p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
        if (m->region == NULL || p == MAP_FAILED) {
                if (p != MAP_FAILED)
                        munmap(p, span);
                table_mem_unmap(m);
                return -ENOMEM;
        }
        a = p;
        if (pages != TABLE_MEM_SMALL) {
                /* Align to 2 MiB, so that each region can be one huge page. */
                a = (uint8_t *)(((uintptr_t)p + PAGE_2M - 1) & ~(uintptr_t)(PAGE_2M - 1));
                if (a > p)
                        munmap(p, (size_t)(a - p));
                if (a + rlen < p + span)
                        munmap(a + rlen, (size_t)(p + span - (a + rlen)));
        }
        m->base = a;
        m->len = rlen;
        /* Advice is best effort: a kernel without THP still works. */
        (void)madvise(a, rlen, pages == TABLE_MEM_HUGE ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        return 0;
}

void table_mem_unmap(struct table_mem *m)
{
        if (m->base != NULL)
                munmap(m->base, m->len);
        if (m->region != NULL)
                for (size_t r = 0; r < m->len / PAGE_2M; r++)
                        free(m->region[r].written);
        free(m->region);
        memset(m, 0, sizeof(*m));
}

/* A 2 MiB aligned, unbacked, huge-page-advised staging region, or NULL. */
static uint8_t *stage_map(void)
{
        uint8_t *p = mmap(NULL, 2 * PAGE_2M, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        uint8_t *a;

        if (p == MAP_FAILED)
                return NULL;
        a = (uint8_t *)(((uintptr_t)p + PAGE_2M - 1) & ~(uintptr_t)(PAGE_2M - 1));
        if (a > p)
                munmap(p, (size_t)(a - p));
        munmap(a + PAGE_2M, (size_t)(p + 2 * PAGE_2M - (a + PAGE_2M)));
        (void)madvise(a, PAGE_2M, MADV_HUGEPAGE);
        return a;
}

/*
 * Region r is half written: from now on one huge page. The region is copied
 * into a staging huge page no reader can see, which mremap() then moves over
 * the region in one step: the kernel holds the mmap lock throughout, so a
 * reader that faults meanwhile waits and then finds the new page with the
 * same words. The writer is the only one storing, so nothing changes
 * between the copy and the move. MADV_COLLAPSE on the live region does the
 * copy under that lock instead: in a standalone trial here a reader stalled
 * 5 ms per region that way, 0.5 ms this way, and the writer spent 5 ms
 * against 1 ms.
 */
static bool promote(struct table_mem *m, size_t r)
{
        uint8_t *dst = (uint8_t *)m->base + r * PAGE_2M, *st = stage_map();

        if (st == NULL) {
                m->promote_failed++;
                return false;
        }
        memcpy(st, dst, PAGE_2M);
        (void)madvise(st, PAGE_2M, MADV_COLLAPSE); /* a no-op where the fault was huge */
        if (mremap(st, PAGE_2M, PAGE_2M, MREMAP_MAYMOVE | MREMAP_FIXED, dst) != MAP_FAILED)
                return true;
        /* Refused (the kernel checks the mapping count before it unmaps
         * anything): the region is as it was. */
        m->promote_failed++;
        if (msync(dst, PAGE_2M, MS_ASYNC) != 0 && errno == ENOMEM &&
            mmap(dst, PAGE_2M, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == dst)
                memcpy(dst, st, PAGE_2M); /* failed after the unmap: put it back */
        munmap(st, PAGE_2M);
        return false;
}

void table_mem_wrote(struct table_mem *m, size_t off, size_t n)
{
        if (n == 0)
                return;
        for (size_t pg = off / PAGE_4K; pg <= (off + n - 1) / PAGE_4K; pg++) {
                struct table_region *rg = &m->region[pg / PAGES_PER_2M];
                size_t i = pg % PAGES_PER_2M;

                if (rg->pages == PAGES_PER_2M)
                        continue;
                if (rg->written == NULL) {
                        rg->written = calloc(PAGES_PER_2M / 64, sizeof(uint64_t));
                        if (rg->written == NULL) {
                                rg->pages = PAGES_PER_2M; /* unknown: count it all */
                                continue;
                        }
                }
                if ((rg->written[i / 64] & 1ull << (i % 64)) != 0)
                        continue;
                rg->written[i / 64] |= 1ull << (i % 64);
                rg->pages++;
                if (rg->huge || rg->refused || m->pages == TABLE_MEM_SMALL ||
                    (m->pages == TABLE_MEM_AUTO && rg->pages < AUTO_PAGES))
                        continue;
                if (m->pages == TABLE_MEM_AUTO && !promote(m, pg / PAGES_PER_2M)) {
                        rg->refused = true; /* stays on 4 KiB pages; not retried */
                        continue;
                }
                rg->huge = true;
                m->regions_huge++;
        }
}

uint64_t table_mem_bytes(const struct table_mem *m)
{
        uint64_t bytes = 0;

        for (size_t r = 0; r < m->len / PAGE_2M; r++)
                bytes += m->region[r].huge ? PAGE_2M : (uint64_t)m->region[r].pages * PAGE_4K;
        return bytes;
}

uint64_t table_mem_book_bytes(const struct table_mem *m)
{
        uint64_t bytes = m->len / PAGE_2M * sizeof(*m->region);

        for (size_t r = 0; r < m->len / PAGE_2M; r++)
                if (m->region[r].written != NULL)
                        bytes += PAGES_PER_2M / 8;
        return bytes;
}
