/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file event.h
 * Change notifications, in the spirit of rtnetlink's multicast groups: a
 * stack records every change of its links, interfaces, addresses, routes and
 * neighbours in a bounded queue that the control thread reads.
 *
 * Threads: everything here is the control thread's (the one that calls
 * mpnet_stack_poll() and changes the configuration). Changes are recorded
 * where they happen on that thread; a link's carrier is looked at on every
 * poll.
 *
 * A full queue drops the oldest event and counts it (mpnet_stack_events_lost):
 * a reader that falls behind learns it missed some and can re-read the state,
 * as a netlink listener does on ENOBUFS.
 */
#ifndef MPNET_EVENT_H
#define MPNET_EVENT_H

#include <stdint.h>

#include "mpnet/export.h"

struct mpnet_stack;

enum mpnet_event_type {
        MPNET_EV_LINK_DOWN = 1, /* the link lost its device or carrier */
        MPNET_EV_LINK_UP,       /* ... and has it again */
        MPNET_EV_IFACE_DOWN,    /* set administratively down */
        MPNET_EV_IFACE_UP,
        MPNET_EV_IFACE_DEL, /* detached */
        MPNET_EV_ADDR_ADD,  /* address, plen */
        MPNET_EV_ADDR_DEL,
        MPNET_EV_ROUTE_ADD, /* table, address (the destination), plen */
        MPNET_EV_ROUTE_DEL,
        MPNET_EV_ROUTE_REPLACE,
        MPNET_EV_NEIGH_REACHABLE, /* address, mac: resolved (from incomplete or failed) */
        MPNET_EV_NEIGH_FAILED,    /* address: resolution failed */
        MPNET_EV_NEIGH_DEL,       /* address: removed */
        MPNET_EV_IFACE_ADD,       /* attached (numbered last: the others keep theirs) */
};

/* The address of an address, route or neighbour event is addr4 (host
 * order) where family is 4 (IPv4, ARP) and addr6 where it is 6 (IPv6, ND);
 * family is 0 for link and interface events. */
struct mpnet_event {
        enum mpnet_event_type type;
        int ifindex;    /* 0 for routes */
        uint32_t table; /* routes */
        uint8_t family; /* 0, 4 or 6 */
        uint8_t plen;
        uint8_t mac[6];
        uint32_t addr4;
        uint8_t addr6[16];
        uint64_t time; /* the stack's clock when it happened */
        uint64_t seq;  /* 1, 2, ... in the order of the changes */
};

/** Take up to n events, oldest first. @return how many. */
MPNET_API unsigned mpnet_stack_events(struct mpnet_stack *s, struct mpnet_event *ev, unsigned n);

/** @return events dropped because the queue was full. */
MPNET_API uint64_t mpnet_stack_events_lost(const struct mpnet_stack *s);

/** @return the name of an event type ("link-down", ...). */
MPNET_API const char *mpnet_event_name(enum mpnet_event_type t);

#endif
