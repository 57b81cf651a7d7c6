/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Lazily backed LPM arrays with a page-size policy (table_mem.h).
 */
#include "fib/table_mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 uapi; older headers lack it */
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 uapi */
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

/*
 * The page of zeros that every tbl24 directory points to for a page never
 * written, and the directory of a region never written: one of each per
 * process, written here so that they are real pages, each mapped once (the
 * point: lookups must not read the kernel's zero page, see lpm_tbl24.h).
 * Never freed.
 */
static _Atomic uint32_t *zero_page;
static _Atomic mpnet_tbl24_page *zero_dir;
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void zero_init(void)
{
        uint8_t *p =
            mmap(NULL, 2 * PAGE_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        _Atomic mpnet_tbl24_page *d;

        if (p == MAP_FAILED)
                return;
        memset(p, 0, PAGE_4K); /* a store, so the page is allocated, not the zero page */
        d = (_Atomic mpnet_tbl24_page *)(p + PAGE_4K);
        for (unsigned i = 0; i < MPNET_TBL24_REGION_PAGES; i++)
                atomic_init(&d[i], (mpnet_tbl24_page)p);
        zero_page = (_Atomic uint32_t *)p;
        zero_dir = d;
}

int table_mem_map_tbl24(struct table_mem *m, struct mpnet_tbl24 *view, enum table_mem_pages pages)
{
        const size_t len = (size_t)MPNET_TBL24_REGIONS * PAGE_2M;

        if (pthread_once(&zero_once, zero_init) != 0 || zero_dir == NULL)
                return -ENOMEM;
        if (table_mem_map(m, len, pages) != 0)
                return -ENOMEM;
        m->view = view;
        atomic_init(&view->dense, NULL);
        for (unsigned r = 0; r < MPNET_TBL24_REGIONS; r++)
                atomic_init(&view->dir[r], zero_dir);
        return 0;
}

/* Region r's directory, made and published (all zeros) if it had none. */
static _Atomic mpnet_tbl24_page *region_dir(struct table_mem *m, size_t r)
{
        struct table_region *rg = &m->region[r];

        if (rg->dir != NULL)
                return rg->dir;
        rg->dir = malloc(MPNET_TBL24_REGION_PAGES * sizeof(*rg->dir));
        if (rg->dir == NULL)
                return NULL;
        for (unsigned i = 0; i < MPNET_TBL24_REGION_PAGES; i++)
                atomic_init(&rg->dir[i], (mpnet_tbl24_page)zero_page);
        atomic_store_explicit(&m->view->dir[r], rg->dir, memory_order_release);
        return rg->dir;
}

int table_mem_prepare(struct table_mem *m, size_t off, size_t n)
{
        if (m->view == NULL || n == 0)
                return 0;
        for (size_t r = off / PAGE_2M; r <= (off + n - 1) / PAGE_2M; r++) {
                struct table_region *rg = &m->region[r];

                /* table_mem_wrote() must know which pages to publish. */
                if (rg->written == NULL && rg->pages < PAGES_PER_2M) {
                        rg->written = calloc(PAGES_PER_2M / 64, sizeof(uint64_t));
                        if (rg->written == NULL)
                                return -ENOMEM;
                }
                if (region_dir(m, r) == NULL)
                        return -ENOMEM;
        }
        return 0;
}

void table_mem_unmap(struct table_mem *m)
{
        if (m->base != NULL)
                munmap(m->base, m->len);
        if (m->region != NULL)
                for (size_t r = 0; r < m->len / PAGE_2M; r++) {
                        free(m->region[r].written);
                        free(m->region[r].dir);
                }
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

/* Readers of tbl24 find page pg (written, or made resident) from now on. */
static void publish_page(struct table_mem *m, size_t pg)
{
        _Atomic mpnet_tbl24_page *dir = m->region[pg / PAGES_PER_2M].dir;

        atomic_store_explicit(&dir[pg % PAGES_PER_2M],
                              (mpnet_tbl24_page)((uint8_t *)m->base + pg * PAGE_4K),
                              memory_order_release);
}

/* Every page of region r resident; the huge page policy applies as if the
 * writer had written it all. @return false where the kernel had no memory. */
static bool populate_region(struct table_mem *m, size_t r)
{
        struct table_region *rg = &m->region[r];
        uint8_t *a = (uint8_t *)m->base + r * PAGE_2M;

        if (m->pages == TABLE_MEM_AUTO && !rg->huge && !rg->refused)
                (void)madvise(a, PAGE_2M, MADV_HUGEPAGE); /* a fault on no page: a huge page */
        if (madvise(a, PAGE_2M, MADV_POPULATE_WRITE) != 0) {
                if (errno != EINVAL)
                        return false;
                /* Before Linux 5.14: store into each page never written (its
                 * zeros; no reader reads it, they read the shared zeros). */
                for (size_t i = 0; i < PAGES_PER_2M; i++)
                        if (rg->written == NULL || (rg->written[i / 64] & 1ull << (i % 64)) == 0)
                                atomic_store_explicit((_Atomic uint32_t *)(a + i * PAGE_4K), 0,
                                                      memory_order_relaxed);
        }
        if (m->pages == TABLE_MEM_AUTO && !rg->huge && !rg->refused) {
                if (promote(m, r)) {
                        rg->huge = true;
                        m->regions_huge++;
                } else {
                        rg->refused = true;
                }
        }
        return true;
}

/*
 * Half of tbl24 is resident: make all of it resident (at most twice the cost)
 * and let readers index it directly. The directory first points at every page
 * (now all real), then `dense` is published, so a reader that still goes
 * through the directory reads the same words. Where memory runs out the table
 * stays sparse, correct either way; a later write tries again.
 */
static void densify(struct table_mem *m)
{
        const size_t nr = m->len / PAGE_2M;

        for (size_t r = 0; r < nr; r++)
                if (region_dir(m, r) == NULL)
                        return;
        for (size_t r = 0; r < nr; r++)
                if (m->region[r].pages < PAGES_PER_2M && !populate_region(m, r))
                        return;
        for (size_t r = 0; r < nr; r++) {
                m->region[r].pages = PAGES_PER_2M;
                for (size_t i = 0; i < PAGES_PER_2M; i++)
                        publish_page(m, r * PAGES_PER_2M + i);
        }
        atomic_store_explicit(&m->view->dense, (_Atomic uint32_t *)m->base, memory_order_release);
}

void table_mem_wrote(struct table_mem *m, size_t off, size_t n)
{
        bool grew = false;

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
                grew = true;
                if (m->view != NULL)
                        publish_page(m, pg);
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
        if (grew && m->view != NULL &&
            atomic_load_explicit(&m->view->dense, memory_order_relaxed) == NULL &&
            table_mem_bytes(m) >= m->len / 2)
                densify(m);
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

        for (size_t r = 0; r < m->len / PAGE_2M; r++) {
                if (m->region[r].written != NULL)
                        bytes += PAGES_PER_2M / 8;
                if (m->region[r].dir != NULL)
                        bytes += PAGES_PER_2M * sizeof(*m->region[r].dir);
        }
        return bytes;
}
