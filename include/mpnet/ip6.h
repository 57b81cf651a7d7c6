/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ip6.h
 * IPv6 on a stack (RFC 8200): addresses (RFC 4291, RFC 4862 autoconfiguration
 * with duplicate address detection), neighbours (RFC 4861), router
 * advertisements sent as a router, path MTU (RFC 8201) and the ping6 API
 * (RFC 4443 echo), redirects (RFC 4861 8). Routes are in mpnet/route.h.
 *
 * Addresses are 16 bytes in network order. A link-local destination
 * (fe80::/10) needs an interface: the calls that send take an ifindex for it.
 *
 * Threads: as stack.h: the control thread (the one that calls
 * mpnet_stack_poll()) calls these.
 */
#ifndef MPNET_IP6_H
#define MPNET_IP6_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/stack.h"

/* Address flags: the state reported by mpnet_addr6_list(); on add, NODAD and
 * DEPRECATED are requests. */
#define MPNET_ADDR6_F_TENTATIVE  (1u << 0) /* duplicate address detection running */
#define MPNET_ADDR6_F_DEPRECATED (1u << 1) /* preferred lifetime over: not chosen as source */
#define MPNET_ADDR6_F_DUPLICATED (1u << 2) /* another node has it: never used */
#define MPNET_ADDR6_F_AUTOCONF   (1u << 3) /* made by SLAAC from a router advertisement */
#define MPNET_ADDR6_F_NODAD      (1u << 4) /* usable at once, no detection */

/**
 * Turn IPv6 on for an interface: join the all-nodes group, make the
 * link-local address from the MAC (modified EUI-64, RFC 4291 2.5.1) with
 * duplicate address detection, then solicit routers (RFC 4861 6.3.7) unless
 * the interface advertises. Stacks made with cfg.ip6_auto do it on attach.
 * @return 0, -ENODEV, -EALREADY.
 */
MPNET_API int mpnet_iface_ip6_enable(struct mpnet_stack *s, int ifindex);

/**
 * Add an address with its prefix length. It is tentative until duplicate
 * address detection (RFC 4862 5.4) passes; then the stack answers for it,
 * routes to it (a local /128 and the connected prefix) and announces it
 * with an unsolicited neighbour advertisement (RFC 4861 7.2.6).
 * @param flags MPNET_ADDR6_F_NODAD, MPNET_ADDR6_F_DEPRECATED.
 * @return 0, -ENODEV, -EINVAL (multicast, unspecified, loopback, plen > 128),
 * -EEXIST, -ENOSPC.
 */
MPNET_API int mpnet_addr6_add(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                              uint8_t plen, uint32_t flags);
/** Remove an address and its routes. @return 0, -ENODEV, -ENOENT. */
MPNET_API int mpnet_addr6_del(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                              uint8_t plen);

struct mpnet_addr6_info {
        uint8_t addr[16];
        uint8_t plen;
        uint32_t flags;        /* MPNET_ADDR6_F_* */
        uint64_t valid_ns;     /* lifetime left, MPNET_TIME_NEVER for ever */
        uint64_t preferred_ns; /* the same for the preferred lifetime */
};

/** The addresses of an interface. @return how many it has (may exceed max,
 * of which max are written), or -ENODEV. */
MPNET_API int mpnet_addr6_list(struct mpnet_stack *s, int ifindex, struct mpnet_addr6_info *out,
                               unsigned max);

/**
 * The source address the stack uses toward dst (RFC 6724 section 5, rules 1,
 * 2, 3 and 8, among the addresses of the interface the route leaves by).
 * @param ifindex the interface for a link-local dst, 0 otherwise.
 * @return 0, -ENETUNREACH (no route), -EADDRNOTAVAIL.
 */
MPNET_API int mpnet_ip6_src_select(struct mpnet_stack *s, const uint8_t dst[16], int ifindex,
                                   uint8_t out[16]);

/** @return 0 and fills info (router is the neighbour's isRouter flag), or
 * -ENOENT / -ENODEV. */
MPNET_API int mpnet_neigh6_get(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                               struct mpnet_neigh_info *info);
/** Add a permanent neighbour. @return 0, -ENODEV, -EINVAL, -ENOSPC. */
MPNET_API int mpnet_neigh6_add(struct mpnet_stack *s, int ifindex, const uint8_t addr[16],
                               const uint8_t mac[6]);

/** Remove an ND entry in any state. @return 0, -ENODEV, -ENOENT. */
MPNET_API int mpnet_neigh6_del(struct mpnet_stack *s, int ifindex, const uint8_t addr[16]);

/** Turn IPv6 forwarding on or off (router or host, RFC 8200 / RFC 4861 6.2.8). */
MPNET_API void mpnet_stack_set_forwarding6(struct mpnet_stack *s, bool on);

/**
 * Redirects on an interface (RFC 4861 section 8), as Linux's accept_redirects
 * and send_redirects; both on by default. accept: a host (forwarding off)
 * follows the redirects it receives, each a host route to the destination
 * for 10 minutes; a router ignores them whatever this says. send: a router
 * (forwarding on) tells a neighbour of a better first hop on the link when
 * it forwards the neighbour's packet back out the interface it came in on.
 * @return 0, -ENODEV.
 */
MPNET_API int mpnet_iface_ip6_redirects(struct mpnet_stack *s, int ifindex, bool accept, bool send);

/* ---- router advertisements (RFC 4861 section 6.2) ---- */

#define MPNET_RA_MAX_PREFIX 4
#define MPNET_RA_MAX_RDNSS  3

struct mpnet_ra_prefix {
        uint8_t prefix[16];
        uint8_t plen;
        bool onlink, autonomous;       /* L and A flags */
        uint32_t valid_s, preferred_s; /* 0 takes 2592000 and 604800 (6.2.1) */
};

/** What an interface advertises; 0 takes the RFC 4861 6.2.1 default. */
struct mpnet_ra_cfg {
        uint32_t max_interval_ms;   /* MaxRtrAdvInterval, 4 s .. 1800 s; 600 s */
        uint32_t min_interval_ms;   /* MinRtrAdvInterval, 3 s .. 0.75 max; max / 3 */
        uint16_t router_lifetime_s; /* 3 * max; at most 9000 */
        uint8_t cur_hop_limit;      /* 64 */
        uint32_t mtu;               /* MTU option; 0: none */
        unsigned n_prefix;
        struct mpnet_ra_prefix prefix[MPNET_RA_MAX_PREFIX];
        unsigned n_rdnss; /* RFC 8106 recursive DNS servers */
        uint8_t rdnss[MPNET_RA_MAX_RDNSS][16];
        uint32_t rdnss_lifetime_s; /* 0: 2 * max */
};

/**
 * Advertise on an interface (a router's interface; turns IPv6 on for it):
 * periodic advertisements at random intervals between min and max, the
 * first three at most 16 s apart (6.2.4), and answers to solicitations
 * (6.2.6). cfg NULL stops, with a final advertisement of lifetime 0 (6.2.5).
 * @return 0, -ENODEV, -EINVAL.
 */
MPNET_API int mpnet_iface_ra_set(struct mpnet_stack *s, int ifindex,
                                 const struct mpnet_ra_cfg *cfg);

/** The DNS servers an interface learnt from advertisements (RFC 8106).
 * @return how many (up to max written), or -ENODEV. */
MPNET_API int mpnet_ip6_rdnss_get(struct mpnet_stack *s, int ifindex, uint8_t (*out)[16],
                                  unsigned max);

/** @return the path MTU the stack holds toward dst (RFC 8201), or 0 when it
 * holds none (the link MTU applies). */
MPNET_API uint32_t mpnet_pmtu6_get(struct mpnet_stack *s, const uint8_t dst[16]);

/* ---- ping6 (RFC 4443 4.1, 4.2) ---- */

struct mpnet_ping6_req {
        uint8_t dst[16];
        int ifindex; /* the interface for a link-local dst; 0 otherwise */
        uint16_t id, seq;
        uint32_t payload_len; /* 8 .. 65487; past the path MTU it is fragmented */
        uint8_t hop_limit;    /* 0: 64 */
};

/** An echo reply (type 129) or an ICMPv6 error quoting our request. */
struct mpnet_ping6_reply {
        uint8_t from[16];
        uint16_t id, seq;
        uint32_t payload_len; /* echo data bytes (replies only) */
        uint8_t hop_limit;
        uint8_t type, code;
        uint32_t info; /* MTU of packet too big, pointer of parameter problem */
        uint64_t rtt_ns;
};

/** Send an echo request. @return 0, -EINVAL, -ENETUNREACH, -EHOSTUNREACH,
 * -EADDRNOTAVAIL, -ENOBUFS. */
MPNET_API int mpnet_ping6_send(struct mpnet_stack *s, const struct mpnet_ping6_req *req,
                               uint64_t now);
/** Take up to n replies and errors. @return how many. */
MPNET_API unsigned mpnet_ping6_recv(struct mpnet_stack *s, struct mpnet_ping6_reply *out,
                                    unsigned n);
/** Take up to n replies and errors that carry identifier id, as
 * mpnet_ping4_recv_id() (ping6_overflow). @return how many. */
MPNET_API unsigned mpnet_ping6_recv_id(struct mpnet_stack *s, uint16_t id,
                                       struct mpnet_ping6_reply *out, unsigned n);

#endif
