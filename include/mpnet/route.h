/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file route.h
 * IPv4 routing tables of a stack: up to MPNET_TABLE_MAX tables (VRFs), each a
 * longest-prefix-match FIB beside a RIB for listing. Every interface is bound
 * to one table; what it receives is routed there. Table 0 exists from the
 * start and routes what the stack itself sends.
 *
 * Adding an address adds two routes to its interface's table: a connected
 * route for the prefix and a local route for the address (/32), as the BSDs
 * and Linux do; removing the address removes them.
 *
 * Threads: the control thread (see stack.h). Lookups on the packet path
 * (workers and the control thread) read the tables without locks; a change is published with one
 * atomic store per table entry, so a packet sees the old route or the new one.
 */
#ifndef MPNET_ROUTE_H
#define MPNET_ROUTE_H

#include <stdint.h>

#include "mpnet/export.h"

struct mpnet_stack;

#define MPNET_TABLE_MAX       4096 /* table ids 0..4095 */
#define MPNET_ROUTE_MAX_PATHS 16   /* ECMP width */

enum mpnet_nh_type {
        MPNET_NH_CONNECTED,   /* on-link: the destination is its own next hop */
        MPNET_NH_GATEWAY,     /* via one or more gateways (ECMP by flow hash) */
        MPNET_NH_LOCAL,       /* one of our addresses: deliver */
        MPNET_NH_BLACKHOLE,   /* drop silently */
        MPNET_NH_UNREACHABLE, /* drop, ICMP host unreachable */
        MPNET_NH_PROHIBIT,    /* drop, ICMP communication administratively prohibited */
        MPNET_NH__COUNT
};

struct mpnet_route_path {
        int ifindex;
        uint32_t gw; /* gateway address (MPNET_NH_GATEWAY), 0 otherwise */
};

struct mpnet_route4 {
        uint32_t dst; /* host bits beyond plen must be zero */
        uint8_t plen;
        enum mpnet_nh_type type;
        uint8_t n_paths; /* 1..MPNET_ROUTE_MAX_PATHS for CONNECTED, GATEWAY, LOCAL; else 0 */
        struct mpnet_route_path paths[MPNET_ROUTE_MAX_PATHS];
};

/** Create table id (1..MPNET_TABLE_MAX-1). @return 0, -EINVAL, -EEXIST, -ENOMEM. */
MPNET_API int mpnet_table_add(struct mpnet_stack *s, uint32_t id);
/** Delete an empty table no interface is bound to. @return 0, -EINVAL, -ENOENT, -EBUSY. */
MPNET_API int mpnet_table_del(struct mpnet_stack *s, uint32_t id);
/** Bind an interface to a table. @return 0, -ENODEV, -ENOENT. */
MPNET_API int mpnet_iface_set_table(struct mpnet_stack *s, int ifindex, uint32_t id);

/**
 * Add a route.
 * @return 0; -EEXIST (the prefix is there: use replace); -EINVAL (bad prefix,
 * type or paths; a gateway must be on a connected prefix of its interface is
 * not required, but its interface must exist); -ENOENT (no such table);
 * -ENODEV (bad ifindex); -ENOSPC; -ENOMEM.
 */
MPNET_API int mpnet_route4_add(struct mpnet_stack *s, uint32_t table, const struct mpnet_route4 *r);
/** Add or atomically replace a route. Errors as for add, but never -EEXIST. */
MPNET_API int mpnet_route4_replace(struct mpnet_stack *s, uint32_t table,
                                   const struct mpnet_route4 *r);
/** Delete a route. @return 0, -EINVAL, -ENOENT. */
MPNET_API int mpnet_route4_del(struct mpnet_stack *s, uint32_t table, uint32_t dst, uint8_t plen);
/** Exact match. @return 0 with *r filled, -EINVAL, -ENOENT. */
MPNET_API int mpnet_route4_get(struct mpnet_stack *s, uint32_t table, uint32_t dst, uint8_t plen,
                               struct mpnet_route4 *r);
/** Longest-prefix match, as the packet path sees it. @return 0, -ENOENT. */
MPNET_API int mpnet_route4_lookup(struct mpnet_stack *s, uint32_t table, uint32_t addr,
                                  struct mpnet_route4 *r);

/** Walk callback: nonzero stops the walk and is returned by it. */
typedef int (*mpnet_route4_walk_fn)(void *arg, const struct mpnet_route4 *r);
/** Every route of a table in prefix order. @return 0, fn's stop value, -ENOENT. */
MPNET_API int mpnet_route4_walk(struct mpnet_stack *s, uint32_t table, mpnet_route4_walk_fn fn,
                                void *arg);
/** @return the number of routes in a table, or -ENOENT. */
MPNET_API long mpnet_route4_count(struct mpnet_stack *s, uint32_t table);

/* ---- IPv6 (RFC 8200) ---------------------------------------------------- */

/*
 * The same tables hold IPv6 routes beside the IPv4 ones: a table id names
 * both, mpnet_table_add() makes both and mpnet_iface_set_table() binds an
 * interface's IPv6 traffic too. Addresses are 16 bytes in network order.
 * A link-local gateway (fe80::/10) is resolved on its path's interface.
 */
struct mpnet_route6_path {
        int ifindex;
        uint8_t gw[16]; /* gateway (MPNET_NH_GATEWAY), :: otherwise */
};

struct mpnet_route6 {
        uint8_t dst[16]; /* bits beyond plen must be zero */
        uint8_t plen;    /* 0..128 */
        enum mpnet_nh_type type;
        uint8_t n_paths; /* as for mpnet_route4 */
        struct mpnet_route6_path paths[MPNET_ROUTE_MAX_PATHS];
};

/** Add an IPv6 route. @return as mpnet_route4_add(). */
MPNET_API int mpnet_route6_add(struct mpnet_stack *s, uint32_t table, const struct mpnet_route6 *r);
/** Add or atomically replace an IPv6 route. @return as mpnet_route4_replace(). */
MPNET_API int mpnet_route6_replace(struct mpnet_stack *s, uint32_t table,
                                   const struct mpnet_route6 *r);
/** Delete an IPv6 route. @return 0, -EINVAL, -ENOENT. */
MPNET_API int mpnet_route6_del(struct mpnet_stack *s, uint32_t table, const uint8_t dst[16],
                               uint8_t plen);
/** Exact match. @return 0 with *r filled, -EINVAL, -ENOENT. */
MPNET_API int mpnet_route6_get(struct mpnet_stack *s, uint32_t table, const uint8_t dst[16],
                               uint8_t plen, struct mpnet_route6 *r);
/** Longest-prefix match, as the packet path sees it. @return 0, -ENOENT. */
MPNET_API int mpnet_route6_lookup(struct mpnet_stack *s, uint32_t table, const uint8_t addr[16],
                                  struct mpnet_route6 *r);
/** Walk callback: nonzero stops the walk and is returned by it. */
typedef int (*mpnet_route6_walk_fn)(void *arg, const struct mpnet_route6 *r);
/** Every IPv6 route of a table in prefix order. @return 0, fn's stop value, -ENOENT. */
MPNET_API int mpnet_route6_walk(struct mpnet_stack *s, uint32_t table, mpnet_route6_walk_fn fn,
                                void *arg);
/** @return the number of IPv6 routes in a table, or -ENOENT. */
MPNET_API long mpnet_route6_count(struct mpnet_stack *s, uint32_t table);

/** @return "connected", "gateway", ... */
MPNET_API const char *mpnet_nh_type_name(enum mpnet_nh_type t);

#endif
