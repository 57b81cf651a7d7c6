/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The memory behind an LPM's lookup arrays (lpm4.c, lpm6.c): reserved
 * address space (MAP_NORESERVE) that only becomes memory where the writer
 * stores, with the 4 KiB pages written tracked for the statistics, and a
 * page-size policy:
 *   TABLE_MEM_SMALL  4 KiB pages only (MADV_NOHUGEPAGE): a sparse table stays
 *                    small even with THP set to "always";
 *   TABLE_MEM_HUGE   the whole area advised for 2 MiB pages from the start;
 *   TABLE_MEM_AUTO   4 KiB pages until half of a 2 MiB region is written,
 *                    then the kernel collapses that region into a huge page
 *                    (table_mem.c, promote()). Random lookups over a full
 *                    table miss the TLB on 4 KiB pages; a region at least
 *                    half written costs at most twice its 4 KiB pages as
 *                    one huge page. Where the process gets no transparent
 *                    huge pages ("never", or PR_SET_THP_DISABLE), AUTO is
 *                    SMALL.
 * tbl24 (table_mem_map_tbl24) also keeps the directory its lookups read
 * while the table is sparse (mpnet/lpm_tbl24.h): a page the writer never
 * wrote is one shared page of zeros there, never the kernel's zero page
 * (which a read of an unwritten address would map, at a hypervisor fault each
 * on a shadow-paging VM, and at thousands of addresses at once). Once half of
 * tbl24 is resident (table_mem_bytes), every page of it is made resident
 * (collapsed into huge pages under AUTO) and readers index it directly: at
 * most twice what the written pages cost, as for a region.
 * A reader that touches a region while it is collapsed waits in a page fault
 * and then reads the same words (how long: bench_lpm4 --reader, in
 * docs/PERFORMANCE.md). The collapse takes the mmap lock for writing at its
 * end: before Linux 6.4 (no per-VMA locks) any page fault of the process
 * waits for that step, and every CPU running the process gets a TLB
 * shootdown.
 * Writer only, one thread; readers only read the area through m->base.
 */
#ifndef MPNET_FIB_TABLE_MEM_H
#define MPNET_FIB_TABLE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/lpm_tbl24.h"

enum table_mem_pages { TABLE_MEM_SMALL, TABLE_MEM_AUTO, TABLE_MEM_HUGE };

/* The policy an LPM's cfg.flags ask for, huge and small being its flags'
 * page bits (MPNET_LPM4_F_*, MPNET_LPM6_F_*). @return false for a flag
 * outside them or both of them. */
static inline bool table_mem_pages_of(uint32_t flags, uint32_t huge, uint32_t small,
                                      enum table_mem_pages *pages)
{
        if ((flags & ~(huge | small)) != 0 || (flags & (huge | small)) == (huge | small))
                return false;
        *pages = (flags & huge) != 0    ? TABLE_MEM_HUGE
                 : (flags & small) != 0 ? TABLE_MEM_SMALL
                                        : TABLE_MEM_AUTO;
        return true;
}

/* A 2 MiB region: which of its 512 pages were written, made at its first
 * write (where that allocation fails, the region counts as all written). */
struct table_region {
        uint64_t *written;
        uint16_t pages;
        _Atomic mpnet_tbl24_page *dir; /* tbl24 only: its pages for readers */
        bool huge;                     /* on (or advised for) a huge page */
        bool refused;                  /* its collapse was refused: counted at its 4 KiB pages */
};

struct table_mem {
        void *base; /* 2 MiB aligned unless TABLE_MEM_SMALL */
        size_t len; /* whole regions */
        enum table_mem_pages pages;
        struct table_region *region;
        uint32_t regions_huge;
        uint32_t promote_failed;  /* collapses refused (old kernel, THP off, no huge page) */
        struct mpnet_tbl24 *view; /* tbl24 only: what readers read */
};

/* Reserve len bytes, zero and unbacked. @return 0 or -ENOMEM. */
int table_mem_map(struct table_mem *m, size_t len, enum table_mem_pages pages);

/* Reserve tbl24 (2^24 entries) and point every page of view at the shared
 * zeros. @return 0 or -ENOMEM. */
int table_mem_map_tbl24(struct table_mem *m, struct mpnet_tbl24 *view, enum table_mem_pages pages);

/* Before the writer stores into bytes [off, off + n) of tbl24: what readers
 * will need to find those pages (a directory page per region). Nothing to do
 * for other areas. @return 0 or -ENOMEM, with nothing a reader sees changed. */
int table_mem_prepare(struct table_mem *m, size_t off, size_t n);

/* Give the area and its bookkeeping back; m may be zeroed or half mapped. */
void table_mem_unmap(struct table_mem *m);

/* The writer has stored into bytes [off, off + n) (of tbl24: after
 * table_mem_prepare() of them): readers of tbl24 see those pages from now on;
 * half of tbl24 resident makes all of it resident and dense. */
void table_mem_wrote(struct table_mem *m, size_t off, size_t n);

/* Bytes of memory the area costs: 4 KiB per page written, 2 MiB per region
 * advised for huge pages (an upper bound where the kernel has not collapsed
 * it yet). */
uint64_t table_mem_bytes(const struct table_mem *m);

/* Bytes of the bookkeeping above (heap). */
uint64_t table_mem_book_bytes(const struct table_mem *m);

#endif
