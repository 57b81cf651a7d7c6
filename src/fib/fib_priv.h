/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FIB of a stack: per family, the route tables (an LPM each, made on a
 * table's first route) whose entries are indices into a next-hop table of
 * immutable next-hop objects (fib/nh_table.c). fib/fib4.c and fib/fib6.c
 * hold the families, fib/fib_route.c the route updates they share.
 *
 * Synchronisation: changed by the control thread only; every context reads
 * tables and next-hop objects without locks: both are published with
 * release stores and freed after a grace period (stack_defer()), so what a
 * reader loaded stays valid until its next quiescent state.
 */
#ifndef MPNET_FIB_PRIV_H
#define MPNET_FIB_PRIV_H

#include <stdatomic.h>
#include <stdint.h>

#include "mpnet/lpm4.h"
#include "mpnet/lpm6.h"
#include "mpnet/route.h"

struct mpnet_iface;
struct mpnet_stack;

#define FIB_NH_CHUNK 4096u
#define FIB_NH_DIR   ((MPNET_LPM4_NH_MAX + 1) / FIB_NH_CHUNK)

struct fib_path {
        struct mpnet_iface *ifp;
        uint32_t gw;
};

/* A route's next hop; immutable once published. */
struct fib_nh {
        uint8_t type; /* enum mpnet_nh_type */
        uint8_t plen;
        uint8_t n_paths;
        uint32_t dst;
        struct fib_path paths[];
};

struct fib4_table {
        struct mpnet_lpm4 *lpm;
        uint32_t id;
        unsigned n_ifaces; /* interfaces bound to it */
        uint64_t n_routes;
};

/* The next-hop objects of one family (fib/nh_table.c): a directory of
 * chunks of atomic pointers, indexed from the LPM entries. */
struct nh_table {
        void *_Atomic *dir[FIB_NH_DIR];
        uint32_t next; /* indices at or above it were never handed out */
        uint32_t *free, free_n, free_cap;
};

/* A free index (up to max), its chunk made if need be. @return 0, -ENOSPC,
 * -ENOMEM. */
int nh_table_alloc(struct nh_table *t, uint32_t max, uint32_t *idx);
/* Recycle an index no reader can have reached. */
void nh_table_release(struct nh_table *t, uint32_t idx);
/* Make nh the object of idx (release store: readers see it whole). */
void nh_table_publish(struct nh_table *t, uint32_t idx, void *nh);
/* After a grace period: unpublish old if still there, free it, recycle idx. */
void nh_table_retire(struct mpnet_stack *s, struct nh_table *t, uint32_t idx, void *old);
/* Free every live object and the directory. */
void nh_table_fini(struct nh_table *t);

/* The object of idx (acquire: a reader sees it whole). */
static inline void *nh_table_get(struct nh_table *t, uint32_t idx)
{
        return atomic_load_explicit(&t->dir[idx / FIB_NH_CHUNK][idx % FIB_NH_CHUNK],
                                    memory_order_acquire);
}

/* IPv6 next hops and tables (fib/fib6.c): as the IPv4 ones. */
struct fib6_path {
        struct mpnet_iface *ifp;
        uint8_t gw[16];
};

struct fib6_nh {
        uint8_t type;
        uint8_t plen;
        uint8_t n_paths;
        uint8_t dst[16];
        struct fib6_path paths[];
};

struct fib6_table {
        struct mpnet_lpm6 *lpm;
        uint64_t n_routes;
};

struct fib6 {
        /* Made on the first route of a table; workers read them. */
        struct fib6_table *_Atomic tables[MPNET_TABLE_MAX];
        uint32_t tables_end; /* above every id ever made: teardown looks no further */
        struct nh_table nh;  /* of struct fib6_nh */
};

struct fib {
        /* Published with release, retired through stack_defer(): a worker
         * may hold a table an interface was just moved off. */
        struct fib4_table *_Atomic tables[MPNET_TABLE_MAX];
        uint32_t tables_end; /* above every id ever made: teardown looks no further */
        struct nh_table nh;  /* of struct fib_nh */
};

static inline uint32_t ip4_mask(uint8_t plen)
{
        return plen == 0 ? 0 : ~0u << (32 - plen);
}

/* fib/fib4.c: the control thread's, but for the lookups (any context). */
int fib4_init(struct mpnet_stack *s);
void fib4_fini(struct mpnet_stack *s);
/* Take the interface out of every route (the route goes with its last path). */
int fib4_iface_flush(struct mpnet_stack *s, int ifindex);
struct fib4_table *fib4_table(struct mpnet_stack *s, uint32_t id);

static inline struct fib_nh *fib_nh_get(struct fib *f, uint32_t idx)
{
        return nh_table_get(&f->nh, idx);
}

static inline const struct fib_nh *fib4_lookup(struct fib *f, const struct fib4_table *t,
                                               uint32_t addr)
{
        uint32_t idx;

        if (mpnet_lpm4_lookup(t->lpm, addr, &idx) != 0)
                return NULL;
        return fib_nh_get(f, idx);
}

/* fib/fib6.c: as fib4.c. */
void fib6_fini(struct mpnet_stack *s);
/* Take the interface out of every route (the route goes with its last path). */
int fib6_iface_flush(struct mpnet_stack *s, const struct mpnet_iface *ifp);
int fib6_table_del(struct mpnet_stack *s, uint32_t id); /* -EBUSY with routes */

static inline struct fib6_nh *fib6_nh_get(struct fib6 *f, uint32_t idx)
{
        return nh_table_get(&f->nh, idx);
}

static inline struct fib6_table *fib6_table(struct fib6 *f, uint32_t id)
{
        return id < MPNET_TABLE_MAX ? atomic_load_explicit(&f->tables[id], memory_order_acquire)
                                    : NULL;
}

static inline const struct fib6_nh *fib6_lookup(struct fib6 *f, uint32_t table, const uint8_t *addr)
{
        struct fib6_table *t = fib6_table(f, table);
        uint32_t idx;

        if (t == NULL || mpnet_lpm6_lookup(t->lpm, addr, &idx) != 0)
                return NULL;
        return fib6_nh_get(f, idx);
}

#endif
