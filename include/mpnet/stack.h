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
 * Threads: in this version a stack is driven by one thread at a time: the one
 * that calls mpnet_stack_poll() also configures it and sends pings. (The
 * multi-core runtime splits this into a control thread and workers.)
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

/** Take up to n replies and errors received since the last call. @return how many. */
MPNET_API unsigned mpnet_ping4_recv(struct mpnet_stack *s, struct mpnet_ping_reply *out,
                                    unsigned n);

/* ---- graph nodes ------------------------------------------------------ */

/*
 * The packet path is a graph of nodes, each run on a vector of packets. Per
 * node the stack counts calls (vectors), packets and TSC cycles: the
 * equivalent of VPP's "show runtime".
 */
#define MPNET_NODES(X)                                                                             \
        X(ether_input, "ether-input")                                                              \
        X(arp_input, "arp-input")                                                                  \
        X(ip4_input, "ip4-input")                                                                  \
        X(ip4_lookup, "ip4-lookup")                                                                \
        X(ip4_rewrite, "ip4-rewrite")                                                              \
        X(ip4_local, "ip4-local")                                                                  \
        X(ip6_input, "ip6-input")                                                                  \
        X(ip6_lookup, "ip6-lookup")                                                                \
        X(ip6_rewrite, "ip6-rewrite")                                                              \
        X(ip6_local, "ip6-local")                                                                  \
        X(iface_tx, "interface-tx")

enum mpnet_node {
#define MPNET_X_ENUM(id, name) MPNET_NODE_##id,
        MPNET_NODES(MPNET_X_ENUM)
#undef MPNET_X_ENUM
            MPNET_NODE__COUNT
};

struct mpnet_node_stats {
        uint64_t calls;  /* vectors processed */
        uint64_t pkts;   /* packets processed */
        uint64_t cycles; /* TSC cycles spent */
};

/** @return 0 and fills st, or -EINVAL for an unknown node. */
MPNET_API int mpnet_node_stats_get(const struct mpnet_stack *s, enum mpnet_node n,
                                   struct mpnet_node_stats *st);
/** Zero every node's statistics. */
MPNET_API void mpnet_node_stats_reset(struct mpnet_stack *s);
/** @return the node's name ("ip4-lookup"), or NULL. */
MPNET_API const char *mpnet_node_name(enum mpnet_node n);

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

/* ---- counters ------------------------------------------------------------ */

/*
 * Stack counters: what came in, what went out, and every reason a packet was
 * dropped. X(name, description).
 */
#define MPNET_STACK_COUNTERS(X)                                                                    \
        X(rx_frames, "frames received")                                                            \
        X(link_down, "links that lost their device or carrier")                                    \
        X(link_up, "links that got it back")                                                       \
        X(link_revived, "links opened again by the stack after their device came back")            \
        X(tx_no_iface, "drop: queued for an interface that was detached")                          \
        X(tx_frames, "frames transmitted")                                                         \
        X(eth_truncated, "drop: frame shorter than an Ethernet header")                            \
        X(eth_not_for_us, "drop: destination MAC is not ours")                                     \
        X(eth_unknown_type, "drop: unknown ethertype")                                             \
        X(eth_own_src, "drop: our own source MAC looped back")                                     \
        X(arp_rx, "ARP packets received")                                                          \
        X(arp_truncated, "drop: ARP packet too short")                                             \
        X(arp_unsupported, "drop: ARP for other hardware or protocol types")                       \
        X(arp_bad_op, "drop: ARP operation neither request nor reply")                             \
        X(arp_bad_sender, "drop: ARP sender is broadcast, multicast or ours")                      \
        X(arp_not_for_us, "ARP request for an address that is not ours")                           \
        X(arp_conflict, "ARP from another host claiming our address")                              \
        X(arp_req_tx, "ARP requests sent")                                                         \
        X(arp_reply_tx, "ARP replies sent")                                                        \
        X(arp_queue_drop, "drop: resolution queue full (oldest dropped)")                          \
        X(arp_resolve_failed, "drop: neighbour did not answer")                                    \
        X(arp_table_full, "drop: neighbour table full")                                            \
        X(arp_flushed, "drop: held for resolution when the entry went (carrier lost, detach)")     \
        X(ip4_rx, "IPv4 packets received")                                                         \
        X(ip4_truncated, "drop: IPv4 packet shorter than its header")                              \
        X(ip4_bad_version, "drop: IP version is not 4")                                            \
        X(ip4_bad_hlen, "drop: IPv4 header length below 20 or past the packet")                    \
        X(ip4_bad_len, "drop: IPv4 total length inconsistent with the frame")                      \
        X(ip4_bad_csum, "drop: IPv4 header checksum")                                              \
        X(ip4_bad_src, "drop: martian source address")                                             \
        X(ip4_not_for_us, "drop: destination not ours (forwarding is off)")                        \
        X(ip4_frag_rx, "IPv4 fragments received for us")                                           \
        X(ip4_reassembled, "IPv4 datagrams reassembled")                                           \
        X(ip4_reass_bad, "drop: malformed fragment")                                               \
        X(ip4_reass_overlap, "drop: overlapping or conflicting fragments (whole datagram)")        \
        X(ip4_reass_cap, "drop: reassembly memory or fragment caps")                               \
        X(ip4_reass_dup, "drop: duplicate fragment")                                               \
        X(ip4_reass_timeout, "drop: reassembly timed out")                                         \
        X(ip4_fragmented, "IPv4 fragments sent")                                                   \
        X(ip4_unknown_proto, "drop: no handler for the IP protocol")                               \
        X(ip4_no_route, "drop: no route to the destination")                                       \
        X(ip4_multicast, "drop: multicast destination (no groups joined)")                         \
        X(ip4_directed_bcast, "drop: directed broadcast to another network")                       \
        X(ip4_l2_bcast, "drop: unicast packet in a link-layer broadcast, not forwarded")           \
        X(ip4_redirect_tx,                                                                         \
          "ICMP redirects asked for (RFC 1812 5.2.7.2; sent within the rate limit)")               \
        X(ip4_blackhole, "drop: blackhole route")                                                  \
        X(ip4_unreachable, "drop: unreachable or prohibit route")                                  \
        X(ip4_ttl_exceeded, "drop: TTL expired in transit")                                        \
        X(ip4_frag_needed, "drop: too big for the next hop and DF set")                            \
        X(ip4_iface_down, "drop: output interface down")                                           \
        X(ip4_forwarded, "IPv4 packets forwarded")                                                 \
        X(ip4_tx, "IPv4 packets sent")                                                             \
        X(icmp4_rx, "ICMP messages received")                                                      \
        X(icmp4_truncated, "drop: ICMP message too short")                                         \
        X(icmp4_bad_csum, "drop: ICMP checksum")                                                   \
        X(icmp4_echo_req, "ICMP echo requests answered")                                           \
        X(icmp4_echo_reply, "ICMP echo replies received")                                          \
        X(icmp4_other, "ICMP messages of other types ignored")                                     \
        X(icmp4_bcast_echo, "drop: ICMP echo to a broadcast address")                              \
        X(icmp4_err_tx, "ICMP errors sent")                                                        \
        X(icmp4_err_rx, "ICMP errors received")                                                    \
        X(icmp4_err_suppressed, "ICMP errors not sent (RFC 1812 4.3.2.7 rules)")                   \
        X(icmp4_err_ratelimited, "ICMP errors not sent (rate limit)")                              \
        X(ping_overflow, "echo replies lost: the caller did not collect them")                     \
        X(ip6_rx, "IPv6 packets received")                                                         \
        X(ip6_truncated, "drop: IPv6 packet shorter than its header")                              \
        X(ip6_bad_version, "drop: IP version is not 6")                                            \
        X(ip6_bad_len, "drop: IPv6 payload length past the frame")                                 \
        X(ip6_bad_src, "drop: IPv6 source multicast, loopback, or :: not to a group")              \
        X(ip6_bad_dst, "drop: IPv6 destination unspecified or loopback")                           \
        X(ip6_hbh_bad, "drop: hop-by-hop options header malformed")                                \
        X(ip6_opt_unknown, "drop: unrecognised option whose action is discard")                    \
        X(ip6_ext_bad, "drop: extension header error (parameter problem)")                         \
        X(ip6_not_for_us, "drop: IPv6 destination not ours (forwarding is off)")                   \
        X(ip6_mc_not_joined, "drop: multicast group not joined")                                   \
        X(ip6_scope, "drop: link-local address beyond its link")                                   \
        X(ip6_no_route, "drop: no IPv6 route to the destination")                                  \
        X(ip6_blackhole, "drop: IPv6 blackhole route")                                             \
        X(ip6_unreachable, "drop: IPv6 unreachable or prohibit route")                             \
        X(ip6_hlim_exceeded, "drop: hop limit expired in transit")                                 \
        X(ip6_too_big, "drop: larger than the next hop's MTU (packet too big sent)")               \
        X(ip6_iface_down, "drop: IPv6 output interface down")                                      \
        X(ip6_forwarded, "IPv6 packets forwarded")                                                 \
        X(ip6_tx, "IPv6 packets sent")                                                             \
        X(ip6_unknown_proto, "drop: no handler for the IPv6 next header")                          \
        X(ip6_frag_rx, "IPv6 fragments received for us")                                           \
        X(ip6_atomic_frag, "IPv6 atomic fragments (RFC 6946) taken in isolation")                  \
        X(ip6_reassembled, "IPv6 datagrams reassembled")                                           \
        X(ip6_reass_overlap, "drop: overlapping IPv6 fragments (whole datagram, RFC 5722)")        \
        X(ip6_reass_cap, "drop: IPv6 reassembly memory caps")                                      \
        X(ip6_reass_bad, "drop: inconsistent IPv6 fragment")                                       \
        X(ip6_reass_timeout, "drop: IPv6 reassembly timed out")                                    \
        X(ip6_fragmented, "IPv6 fragments sent")                                                   \
        X(icmp6_rx, "ICMPv6 messages received")                                                    \
        X(icmp6_truncated, "drop: ICMPv6 message too short")                                       \
        X(icmp6_bad_csum, "drop: ICMPv6 checksum")                                                 \
        X(icmp6_echo_req, "ICMPv6 echo requests answered")                                         \
        X(icmp6_echo_reply, "ICMPv6 echo replies received")                                        \
        X(icmp6_other, "ICMPv6 messages of other types ignored")                                   \
        X(icmp6_err_tx, "ICMPv6 errors sent")                                                      \
        X(icmp6_err_rx, "ICMPv6 errors received")                                                  \
        X(icmp6_err_suppressed, "ICMPv6 errors not sent (RFC 4443 2.4(e) rules)")                  \
        X(icmp6_err_ratelimited, "ICMPv6 errors not sent (rate limit)")                            \
        X(icmp6_pmtu_update, "path MTU lowered by a packet too big")                               \
        X(nd_ns_rx, "neighbour solicitations received")                                            \
        X(nd_ns_tx, "neighbour solicitations sent")                                                \
        X(nd_na_rx, "neighbour advertisements received")                                           \
        X(nd_na_tx, "neighbour advertisements sent")                                               \
        X(nd_rs_rx, "router solicitations received")                                               \
        X(nd_rs_tx, "router solicitations sent")                                                   \
        X(nd_ra_rx, "router advertisements received")                                              \
        X(nd_ra_tx, "router advertisements sent")                                                  \
        X(nd_bad_hlim, "drop: ND message with hop limit other than 255")                           \
        X(nd_bad_opt, "drop: ND message with a zero-length or truncated option")                   \
        X(nd_invalid, "drop: ND message failing RFC 4861 validation")                              \
        X(nd_not_for_us, "ND solicitation for a target that is not ours")                          \
        X(nd_dad_dup, "duplicate address detected (address not used)")                             \
        X(nd_dad_loopback, "own DAD probe looped back (RFC 7527 nonce)")                           \
        X(nd_queue_drop, "drop: ND resolution queue full (oldest dropped)")                        \
        X(nd_resolve_failed, "drop: IPv6 neighbour did not answer")                                \
        X(nd_table_full, "drop: IPv6 neighbour table full")                                        \
        X(nd_flushed, "drop: held for ND resolution when the entry went (carrier lost, detach)")   \
        X(nd_redirect_rx, "redirects received")                                                    \
        X(nd_redirect_tx, "redirects sent (RFC 4861 8.2)")                                         \
        X(nd_redirect_ignored, "redirects ignored (forwarding on, or accept off)")                 \
        X(nd_redirect_bad_src, "drop: redirect from a source that is not link-local")              \
        X(nd_redirect_bad_dst, "drop: redirect for a multicast destination")                       \
        X(nd_redirect_bad_target, "drop: redirect target neither link-local nor the destination")  \
        X(nd_redirect_not_first_hop, "drop: redirect not from the destination's first-hop router") \
        X(nd_redirect_ratelimited, "redirects not sent (ICMPv6 rate limit)")                       \
        X(mld_rx, "MLD messages received")                                                         \
        X(mld_report_tx, "MLDv2 reports sent")                                                     \
        X(mld_bad, "drop: MLD message failing RFC 3810 validation")                                \
        X(ping6_overflow, "echo6 replies lost: the caller did not collect them")                   \
        X(tx_link_full, "drop: the link did not take the frame")                                   \
        X(punt, "packets handed by workers to the control thread")                                 \
        X(punt_drop, "drop: punt ring to the control thread full")                                 \
        X(nobufs, "drop: packet pool exhausted")

enum mpnet_stack_counter {
#define MPNET_X_ENUM(name, desc) MPNET_STK_##name,
        MPNET_STACK_COUNTERS(MPNET_X_ENUM)
#undef MPNET_X_ENUM
            MPNET_STK__COUNT
};

/** @return a counter's value. */
MPNET_API uint64_t mpnet_stack_counter(const struct mpnet_stack *s, enum mpnet_stack_counter c);
/** @return a counter's name ("ip4_bad_csum"), or NULL out of range. */
MPNET_API const char *mpnet_stack_counter_name(enum mpnet_stack_counter c);
/** @return a counter's description, or NULL out of range. */
MPNET_API const char *mpnet_stack_counter_desc(enum mpnet_stack_counter c);

#endif
