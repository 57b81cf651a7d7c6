/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Lazily backed LPM arrays with a page-size policy (table_mem.h).
 */
#include "fib/table_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 uapi; older headers lack it */
#endif

#define PAGE_4K      4096u
#define PAGE_2M      (2u << 20)
#define PAGES_PER_2M (PAGE_2M / PAGE_4K)
#define AUTO_PAGES   (PAGES_PER_2M / 2) /* half a region written: promote */

/* Whether the kernel gives this process transparent huge pages where it is
 * advised to. */
static bool thp_available(void)
{
        FILE *f;
        char line[128] = "";
        bool ok;

        if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1)
                return false;
        f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
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

/*
 * Region r is half written: from now on one huge page. The kernel collapses
 * it in place (MADV_COLLAPSE, Linux 6.1): it copies the region into a huge
 * page with the page table entry cleared and the mmap lock held, so a reader
 * that touches the region meanwhile waits in a page fault and then reads the
 * same words, and a collapse that fails leaves the region as it was. A
 * user-space swap (copy to a staged huge page, mremap() it over the region)
 * stalled readers a tenth as long but is not safe: mremap() unmaps the
 * destination before steps that can still fail with ENOMEM, leaving a hole
 * that readers fault on. Where the kernel refuses (older than 6.1, THP off
 * for the process, no huge page free), the advice stays and khugepaged may
 * collapse the region later.
 */
static bool promote(struct table_mem *m, size_t r)
{
        uint8_t *a = (uint8_t *)m->base + r * PAGE_2M;

        (void)madvise(a, PAGE_2M, MADV_HUGEPAGE);
        if (madvise(a, PAGE_2M, MADV_COLLAPSE) == 0)
                return true;
        m->promote_failed++;
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
