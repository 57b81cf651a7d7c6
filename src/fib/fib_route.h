/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Route add, replace and delete, once for both families (fib_route.c):
 * fib4.c and fib6.c describe their family (struct fib_family) and their
 * table (struct fib_tref); the sequence that keeps readers safe is here.
 *
 * A change builds a new next-hop object, publishes it before the LPM entry
 * that leads to it, and retires the object it replaced after a grace period
 * (nh_table.c), so a packet that looked up the old route still reads a
 * whole object.
 *
 * Synchronisation: the control thread's (the caller serialises changes);
 * workers read the LPM and the next-hop objects without locks.
 */
#ifndef MPNET_FIB_ROUTE_H
#define MPNET_FIB_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/route.h"

struct mpnet_stack;
struct nh_table;

/* What differs between IPv4 and IPv6 in a route change. dst is a uint32_t
 * (host order) for IPv4, 16 bytes for IPv6; route a struct mpnet_route4 or
 * mpnet_route6. */
struct fib_family {
        uint8_t family; /* 4 or 6, for the events */
        uint8_t max_plen;
        uint32_t nh_max; /* the largest next-hop index the LPM stores */
        struct nh_table *(*nh)(struct mpnet_stack *s);
        /* The next-hop object of a checked route, or NULL (no memory). */
        void *(*build)(struct mpnet_stack *s, const void *route);
        int (*lpm_get)(const void *lpm, const void *dst, unsigned plen, uint32_t *nh);
        int (*lpm_add)(void *lpm, const void *dst, unsigned plen, uint32_t nh);
        int (*lpm_delete)(void *lpm, const void *dst, unsigned plen);
};

/* One table of a family: its LPM and its route count. */
struct fib_tref {
        void *lpm;
        uint64_t *n_routes;
};

/* Add (or with replace, add or replace) route, checked by the caller,
 * whose prefix is dst/plen, in table t (number table, for the event).
 * @return 0, -EEXIST, -ENOMEM, -ENOSPC, or what the LPM returned. */
int fib_route_set(struct mpnet_stack *s, const struct fib_family *f, struct fib_tref t,
                  uint32_t table, const void *route, const void *dst, uint8_t plen, bool replace);
/* Delete dst/plen from t. @return 0, -EINVAL, -ENOENT. */
int fib_route_del(struct mpnet_stack *s, const struct fib_family *f, struct fib_tref t,
                  uint32_t table, const void *dst, uint8_t plen);
/* A route's type against its number of paths: one for CONNECTED and
 * LOCAL, 1..MPNET_ROUTE_MAX_PATHS for GATEWAY, none for the others.
 * @return 0 or -EINVAL. */
int fib_route_type_check(enum mpnet_nh_type type, unsigned n_paths);

#endif
