/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file stack.h
 * A virtual network stack: its interfaces, IPv4 addresses, connected routes,
 * ARP neighbours and counters. Many stacks live in one process; nothing is
 * shared between them but what the caller shares (a clock, a pool, a wire).
 *
 * Addresses are IPv4 in host byte order (192.0.2.1 is 0xc0000201); IPv6
 * (addresses, neighbours, router advertisements, ping6) is in mpnet/ip6.h.
 *
 * Threads (docs/MP-SAFETY.md): the control thread, the one that calls
 * mpnet_stack_poll(), also configures the stack and sends pings; every
 * function here is its unless its comment says otherwise. Workers of the
 * multi-core runtime (mpnet/worker.h) run the packet path of the queues
 * given to them; without workers the control thread runs it too.
 */
#ifndef MPNET_STACK_H
#define MPNET_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/route.h"

struct mpnet_stack;

struct mpnet_stack_cfg {
        const char *name;          /* for messages */
        struct mpnet_clock *clock; /* required: the stack's time */
        struct mpnet_pool *pool;   /* required: buffers for packets it makes */
        uint64_t seed;             /* for timer jitter and IP ids */
        /* ARP tunables; 0 takes the default, out of range is -EINVAL. */
        uint32_t arp_queue_max;    /* packets held per unresolved neighbour */
        uint32_t arp_max_probes;   /* requests before a neighbour fails */
        uint64_t arp_reachable_ns; /* how long a confirmed entry stays reachable */
        uint64_t arp_retrans_ns;   /* between requests */
        bool ip4_forwarding;       /* route packets not for us (a router) */
        /* ICMP errors sent (token bucket): per second (0: 1000) and burst (0: 50). */
        uint32_t icmp4_rate;
        uint32_t icmp4_burst;
        /* IPv6 (mpnet/ip6.h). ip6_auto: IPv6 on every attached interface
         * (link-local address, DAD, router solicitation), as a host does. */
        bool ip6_auto;
        bool ip6_forwarding;
        /* RFC 7217 stable privacy addresses: the interface identifier of
         * the link-local and SLAAC addresses is SHA-256 over the prefix,
         * the interface name, a DAD counter and ip6_secret (all zero: a
         * random key from seed), not the MAC. The same key, name and
         * prefix give the same address on every run. */
        bool ip6_stable_iid;
        uint8_t ip6_secret[16];
        /* ICMPv6 errors sent (token bucket, RFC 4443 2.4(f)): as for ICMP. */
        uint32_t icmp6_rate;
        uint32_t icmp6_burst;
        /* Neighbours learnt from their own messages (token bucket per
         * interface and family, as control-plane policing does, RFC 6192):
         * ARP requests and replies and neighbour solicitations for one of
         * the interface's addresses from a sender the cache does not hold,
         * each of which makes an entry and an answer. Per second (0: 1000)
         * and burst (0: 100); what is over is dropped before any work
         * (arp_learn_limited, nd_learn_limited). Answers to the stack's own
         * resolution and messages of known neighbours are never limited. */
        uint32_t neigh_learn_rate;
        uint32_t neigh_learn_burst;
        /* Resolutions started (token bucket per interface and family, as
         * routers police their glean punts): a packet to a next hop the
         * cache does not hold makes an entry, a hold queue and a
         * solicitation (RFC 1122 2.3.2.1, RFC 4861 7.2.2). Per second (0:
         * 1000) and burst (0: 100); what is over is dropped after one
         * lookup, with no entry made (arp_resolve_limited,
         * nd_resolve_limited). Next hops the cache holds (resolved, or
         * resolving) are never limited. */
        uint32_t neigh_resolve_rate;
        uint32_t neigh_resolve_burst;
        /* Protocol modules beyond the compiled-in ones, NULL-terminated (or
         * NULL). The module interface is internal for now (src/stack/graph.h):
         * the tests use it. */
        const struct mpnet_module *const *modules;
};

/**
 * Create a stack.
 * @return the stack, or NULL with errno EINVAL (bad cfg) or ENOMEM.
 */
MPNET_API struct mpnet_stack *mpnet_stack_create(const struct mpnet_stack_cfg *cfg);

/** Destroy a stack, freeing every packet it holds. Its links stay the caller's. */
MPNET_API void mpnet_stack_destroy(struct mpnet_stack *s);

/**
 * Attach a link as an interface (up, queue 0). The caller keeps ownership of
 * the link and destroys it after the stack.
 * @return the interface index (1 and up), or -EINVAL, -ENOSPC, -EEXIST.
 */
MPNET_API int mpnet_iface_attach(struct mpnet_stack *s, struct mpnet_link *l, const char *name);

/**
 * Take an interface out of the stack: its addresses, the routes and route
 * paths through it, its neighbours and its timers go, and with workers the
 * call waits for a grace period, so the link is the caller's to destroy
 * when it returns. Its queues must first be taken back from the workers
 * (mpnet_runtime_unassign()). The index may be reused by a later attach.
 * @return 0, -ENODEV, -EBUSY (a worker still polls one of its queues).
 */
MPNET_API int mpnet_iface_detach(struct mpnet_stack *s, int ifindex);

/** Bring an interface up or down. @return 0 or -ENODEV. */
MPNET_API int mpnet_iface_set_up(struct mpnet_stack *s, int ifindex, bool up);

/**
 * Set the interface's IPv4 and IPv6 MTU (what it sends and forwards without
 * fragmenting, or with Packet Too Big), 68 up to the link's own MTU.
 * A router advertisement may lower the IPv6 MTU further afterwards.
 * @return 0, -ENODEV, -EINVAL (out of range).
 */
MPNET_API int mpnet_iface_set_mtu(struct mpnet_stack *s, int ifindex, uint32_t mtu);

/** @return the interface's MTU, or 0 where there is no such interface. */
MPNET_API uint32_t mpnet_iface_mtu(struct mpnet_stack *s, int ifindex);

/**
 * Whether a router sends ICMP host redirects (RFC 1812 5.2.7.2) for packets
 * it forwards back out this interface, from a host on a network connected
 * there, to a next hop on that network (on by default). The packet is
 * forwarded either way; redirects share the ICMP error rate limit.
 * @return 0 or -ENODEV.
 */
MPNET_API int mpnet_iface_ip4_redirects(struct mpnet_stack *s, int ifindex, bool send);

/**
 * Add an IPv4 address with a prefix length; adds its connected route and
 * announces it with a gratuitous ARP (RFC 5227 section 2.3).
 * @return 0, -ENODEV, -EINVAL (bad address or length), -EEXIST, -ENOSPC.
 */
MPNET_API int mpnet_addr4_add(struct mpnet_stack *s, int ifindex, uint32_t addr, uint8_t plen);

/** Remove an address and its connected route. @return 0, -ENODEV or -ENOENT. */
MPNET_API int mpnet_addr4_del(struct mpnet_stack *s, int ifindex, uint32_t addr, uint8_t plen);

struct mpnet_addr4_info {
        uint32_t addr;
        uint8_t plen;
};

/** The IPv4 addresses of an interface, in no particular order.
 * @return how many it has (may exceed max: only max are written), -ENODEV. */
MPNET_API int mpnet_addr4_list(struct mpnet_stack *s, int ifindex, struct mpnet_addr4_info *out,
                               unsigned max);

/**
 * Join an IPv4 multicast group on an interface, any source (exclude mode,
 * RFC 3376 3): IGMP reports it, the interface receives the group's frames
 * and local input takes its datagrams. Joins are counted: as many leaves
 * undo them (224.0.0.1, which every interface has joined, is never left
 * by them). The control thread.
 * @return 0, -ENODEV, -EINVAL (not a multicast address), -ENOSPC (the
 * interface's cap, usage mc4_max), -ENOMEM.
 */
MPNET_API int mpnet_mc4_join(struct mpnet_stack *s, int ifindex, uint32_t group);

/** Undo one mpnet_mc4_join(); the last one leaves the group (a state-change
 * report, RFC 3376 5.1). @return 0, -ENODEV, -ENOENT (not joined). */
MPNET_API int mpnet_mc4_leave(struct mpnet_stack *s, int ifindex, uint32_t group);

/** Turn IPv4 forwarding on or off (RFC 1812 router or RFC 1122 host). */
MPNET_API void mpnet_stack_set_forwarding(struct mpnet_stack *s, bool on);

/**
 * Receive and process what the links hold, run due timers, transmit.
 * @param now the current time, ns (the stack's clock).
 * @return the time of the next timer, MPNET_TIME_NEVER when none: a caller
 * with no traffic may sleep until then.
 */
MPNET_API uint64_t mpnet_stack_poll(struct mpnet_stack *s, uint64_t now);

/**
 * Send an ICMP echo request (RFC 792) to dst, routed by the connected routes.
 * The payload carries the send time, so replies report a round-trip time.
 * @param payload_len bytes of echo data (at least 8, at most 1472 here).
 * @return 0, -ENETUNREACH (no route), -ENOBUFS (pool or ARP queue full),
 * -EINVAL (bad length).
 */
MPNET_API int mpnet_ping4_send(struct mpnet_stack *s, uint32_t dst, uint16_t id, uint16_t seq,
                               uint16_t payload_len, uint64_t now);

/** An echo request with every option. */
struct mpnet_ping4_req {
        uint32_t dst;
        uint16_t id, seq;
        uint32_t payload_len; /* 8..65507; beyond the MTU it is fragmented */
        uint8_t ttl;          /* 0: 64 */
        bool df;              /* set don't-fragment */
};

/** Send an echo request. @return as mpnet_ping4_send(), and -EMSGSIZE when
 * df is set and the packet exceeds the MTU. */
MPNET_API int mpnet_ping4_send_req(struct mpnet_stack *s, const struct mpnet_ping4_req *req,
                                   uint64_t now);

/**
 * What came back for an echo request: the echo reply (type 0), or an ICMP
 * error quoting the request (type 3, 11, 12; from is the reporting router).
 */
struct mpnet_ping_reply {
        uint32_t from;
        uint16_t id, seq;
        uint32_t payload_len; /* echo data bytes (replies only) */
        uint8_t ttl;
        uint8_t type, code;
        uint32_t info; /* next-hop MTU of a fragmentation-needed error */
        uint64_t rtt_ns;
};

/** Take up to n replies and errors received since the last call, whatever
 * their identifier. @return how many. */
MPNET_API unsigned mpnet_ping4_recv(struct mpnet_stack *s, struct mpnet_ping_reply *out,
                                    unsigned n);

/**
 * Take up to n replies and errors that carry identifier id, oldest first;
 * those of other identifiers stay for their own callers, so pingers with
 * different identifiers may share a stack. The stack keeps 1024 entries
 * for all identifiers together, on its ping API's internal echo socket
 * (mpnet/socket.h; one packet buffer each): past that new ones are lost
 * (counted as ping_overflow). @return how many.
 */
MPNET_API unsigned mpnet_ping4_recv_id(struct mpnet_stack *s, uint16_t id,
                                       struct mpnet_ping_reply *out, unsigned n);

/* ---- graph nodes and features ------------------------------------------ */

/*
 * The packet path is a graph of nodes, each run on a vector of packets,
 * assembled per stack from its protocol modules (docs/ARCHITECTURE.md).
 * Nodes are found by name ("ip4-lookup"); ids run from 0 to
 * mpnet_node_count() - 1 and are the stack's own. Per node the stack counts
 * calls (vectors), packets and TSC cycles: the equivalent of VPP's "show
 * runtime".
 */
struct mpnet_node_stats {
        uint64_t calls;  /* vectors processed */
        uint64_t pkts;   /* packets processed */
        uint64_t cycles; /* TSC cycles spent */
};

/** @return how many nodes the stack's graph has. */
MPNET_API unsigned mpnet_node_count(const struct mpnet_stack *s);
/** @return the name of node id, or NULL out of range. */
MPNET_API const char *mpnet_node_name(const struct mpnet_stack *s, unsigned id);
/** @return the id of the node called name, or -ENOENT. */
MPNET_API int mpnet_node_find(const struct mpnet_stack *s, const char *name);
/** @return 0 and fills st (all contexts summed), or -EINVAL for an unknown id. */
MPNET_API int mpnet_node_stats_get(const struct mpnet_stack *s, unsigned id,
                                   struct mpnet_node_stats *st);
/* The worker argument of mpnet_node_stats_worker() naming the control
 * thread's context (VPP's thread 0) rather than a worker's. */
#define MPNET_NODE_CONTROL UINT32_MAX
/**
 * One context's statistics of node id: worker w's (the runtime's worker w,
 * include/mpnet/worker.h), or the control thread's for MPNET_NODE_CONTROL.
 * Any thread; the counters are each context's relaxed single-writer atomics.
 * @return 0 and fills st; -EINVAL for an unknown id; -ENOENT when that
 * worker has no context in this stack (it was never given a queue of it).
 */
MPNET_API int mpnet_node_stats_worker(const struct mpnet_stack *s, unsigned worker, unsigned id,
                                      struct mpnet_node_stats *st);
/** Zero every node's statistics. */
MPNET_API void mpnet_node_stats_reset(struct mpnet_stack *s);

/**
 * Enable or disable a feature (a module's function on one feature arc:
 * a packet filter, NAT, a tunnel classifier) on an interface. The change is
 * published with RCU: workers keep forwarding. Enabling what is enabled,
 * or disabling what is not, changes nothing.
 * @return 0, -ENODEV, -ENOENT (no feature of that name), -ENOMEM.
 */
MPNET_API int mpnet_feature_set(struct mpnet_stack *s, int ifindex, const char *feature, bool on);
/** @return whether the feature is enabled on the interface. */
MPNET_API bool mpnet_feature_enabled(const struct mpnet_stack *s, int ifindex, const char *feature);

/* ---- neighbours ------------------------------------------------------- */

enum mpnet_neigh_state {
        MPNET_NEIGH_INCOMPLETE,
        MPNET_NEIGH_REACHABLE,
        MPNET_NEIGH_STALE,
        MPNET_NEIGH_DELAY,
        MPNET_NEIGH_PROBE,
        MPNET_NEIGH_FAILED,
        MPNET_NEIGH_PERMANENT,
};

struct mpnet_neigh_info {
        enum mpnet_neigh_state state;
        uint8_t mac[6];
        uint32_t queued; /* packets waiting for resolution */
        uint32_t probes; /* requests sent in this resolution */
        bool router;     /* IPv6: the neighbour is a router (RFC 4861 isRouter) */
};

/** @return 0 and fills info, or -ENOENT / -ENODEV. */
MPNET_API int mpnet_neigh4_get(struct mpnet_stack *s, int ifindex, uint32_t addr,
                               struct mpnet_neigh_info *info);

/** Add a permanent neighbour entry. @return 0, -ENODEV, -ENOSPC. */
MPNET_API int mpnet_neigh4_add(struct mpnet_stack *s, int ifindex, uint32_t addr,
                               const uint8_t mac[6]);

/** Remove a neighbour entry in any state, dropping what it held for
 * resolution. @return 0, -ENODEV, -ENOENT. */
MPNET_API int mpnet_neigh4_del(struct mpnet_stack *s, int ifindex, uint32_t addr);

/** A neighbour as mpnet_neigh_walk() reports it: ARP (family 4, addr4 in
 * host order) or Neighbour Discovery (family 6, addr6). */
struct mpnet_neigh_entry {
        int ifindex;
        uint8_t family;
        uint32_t addr4;
        uint8_t addr6[16];
        struct mpnet_neigh_info info;
};

/** Walk callback: nonzero stops the walk and is returned by it. It must not
 * add or remove neighbours. */
typedef int (*mpnet_neigh_walk_fn)(void *arg, const struct mpnet_neigh_entry *e);

/** Every ARP, then every ND entry of an interface, or of every interface
 * where ifindex is 0. @return 0, fn's stop value, -ENODEV. */
MPNET_API int mpnet_neigh_walk(struct mpnet_stack *s, int ifindex, mpnet_neigh_walk_fn fn,
                               void *arg);

/** @return the text name of a neighbour state. */
MPNET_API const char *mpnet_neigh_state_name(enum mpnet_neigh_state st);

/* ---- what a stack holds ------------------------------------------------- */

/*
 * The state input can make a stack hold, against the caps that bound it: a
 * flood may fill these up to the cap, never past it. Memory in bytes is the
 * stack's own accounting (a buffer counts whole, metadata included).
 */
struct mpnet_stack_usage {
        uint64_t reass4_bytes, reass4_max_bytes; /* IPv4 fragments held */
        uint32_t reass4_datagrams, reass4_max_datagrams;
        uint64_t reass6_bytes, reass6_max_bytes; /* IPv6 fragments held */
        uint32_t reass6_datagrams, reass6_max_datagrams;
        /* The rest per interface, or summed over all with ifindex 0; the
         * caps are per interface. */
        uint32_t neigh4, neigh6, neigh_max; /* ARP and ND entries, any state */
        uint32_t addr6, addr6_max;          /* IPv6 addresses, SLAAC's included */
        uint32_t onlink6, onlink6_max;      /* prefixes learnt on-link (RFC 4861 6.3.4) */
        uint32_t dr6, dr6_max;              /* default routers */
        uint32_t mc6, mc6_max;              /* multicast groups joined */
        uint32_t mc4, mc4_max;              /* IPv4 groups joined, 224.0.0.1 included */
        /* Packets held for neighbour resolution: the whole stack's, any
         * ifindex, against a stack-wide cap. */
        uint32_t neigh_held, neigh_held_max;
};

/**
 * What the stack holds now (the control thread).
 * @param ifindex an interface, or 0 for the sum over all.
 * @return 0, -ENODEV.
 */
MPNET_API int mpnet_stack_usage_get(struct mpnet_stack *s, int ifindex,
                                    struct mpnet_stack_usage *u);

/* ---- counters ------------------------------------------------------------ */

/*
 * Stack counters: what came in, what went out, and every reason a packet was
 * dropped (a description that starts "drop:"). The stack's core and each of
 * its modules has its own; they are found by name ("ip4_bad_csum") and
 * numbered from 0 to mpnet_stack_counter_count() - 1 per stack.
 */
/** @return how many counters the stack has. */
MPNET_API unsigned mpnet_stack_counter_count(const struct mpnet_stack *s);
/** @return the id of the counter called name, or -ENOENT. */
MPNET_API int mpnet_stack_counter_find(const struct mpnet_stack *s, const char *name);
/** @return counter id's value (0 out of range). */
MPNET_API uint64_t mpnet_stack_counter(const struct mpnet_stack *s, unsigned id);
/** @return counter id's name, or NULL out of range. */
MPNET_API const char *mpnet_stack_counter_name(const struct mpnet_stack *s, unsigned id);
/** @return counter id's description, or NULL out of range. */
MPNET_API const char *mpnet_stack_counter_desc(const struct mpnet_stack *s, unsigned id);

#endif
