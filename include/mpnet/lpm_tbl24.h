/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file lpm_tbl24.h
 * The first-level table (tbl24: 2^24 32-bit entries, 64 MiB) of mpnet_lpm4
 * and mpnet_lpm6 as their inline lookups read it. Public only for those
 * lookups; treat the fields as private.
 *
 * A lookup never reads a page of tbl24 that the writer never wrote. Such a
 * page would be the kernel's one shared zero page, mapped at every unwritten
 * address of every table in the process; on a VM whose hypervisor shadows
 * the guest's page tables (KVM without nested paging, as under nested
 * virtualisation) the first read of each such address costs a hypervisor
 * fault (about 50,000 cycles each, measured), and once one physical page is
 * mapped at more than about 1,000 addresses KVM drops and rebuilds them all
 * on every new one (its reverse-map limit), about 10,000 cycles a TLB miss.
 * So while a table is sparse its lookups go through a directory: region
 * (2 MiB) to page (4 KiB) to entry, where every page never written is one
 * page of zeros shared by all tables and really allocated; once the table is
 * dense (half of tbl24 written) every page of tbl24 is made resident and
 * lookups index it directly (docs/PERFORMANCE.md, "IPv4 LPM lookup").
 *
 * Synchronisation: the writer publishes a written page in the directory with
 * a release store after its entries, and `dense` with a release store after
 * every page of tbl24 is resident and the directory points at all of them,
 * so both ways of reading agree from then on.
 */
#ifndef MPNET_LPM_TBL24_H
#define MPNET_LPM_TBL24_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MPNET_TBL24_REGIONS      32u   /* 2 MiB regions of tbl24 */
#define MPNET_TBL24_REGION_PAGES 512u  /* 4 KiB pages per region */
#define MPNET_TBL24_PAGE_ENTRIES 1024u /* entries per 4 KiB page */

/** A page of entries as the directory points to it. */
typedef _Atomic uint32_t *mpnet_tbl24_page;

struct mpnet_tbl24 {
        /** Every page of tbl24 resident: index it directly; NULL while sparse. */
        _Atomic uint32_t *_Atomic dense;
        /** Sparse: per region, its 512 pages (written, or the shared zeros). */
        _Atomic mpnet_tbl24_page *_Atomic dir[MPNET_TBL24_REGIONS];
};

/** Entry i (0 .. 2^24 - 1) through the directory. */
static inline uint32_t mpnet_tbl24_sparse_load(const struct mpnet_tbl24 *t, uint32_t i)
{
        _Atomic mpnet_tbl24_page *pd = atomic_load_explicit(&t->dir[i >> 19], memory_order_acquire);
        mpnet_tbl24_page pg = atomic_load_explicit(&pd[(i >> 10) & 511u], memory_order_acquire);

        return atomic_load_explicit(&pg[i & 1023u], memory_order_acquire);
}

/** Entry i (0 .. 2^24 - 1), the way the table is now. */
static inline uint32_t mpnet_tbl24_load(const struct mpnet_tbl24 *t, uint32_t i)
{
        _Atomic uint32_t *d = atomic_load_explicit(&t->dense, memory_order_acquire);

        if (d != NULL)
                return atomic_load_explicit(&d[i], memory_order_acquire);
        return mpnet_tbl24_sparse_load(t, i);
}

#endif
