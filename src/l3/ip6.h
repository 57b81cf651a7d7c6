/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 (l3/ip6_*.c, l3/icmp6.c), Neighbor Discovery (l3/nd6*.c: the
 * resolver of the neighbour cache for IPv6, addresses, router and prefix
 * discovery, redirects) and MLD (l3/mld6.c): nodes and entry points. The
 * interface's IPv6 addresses and groups are in l3/ip_iface.h.
 *
 * Synchronisation: the nodes, ip6_output_w, ip6_local_one, ip6_src_pick,
 * reassembly (each context its own table) and the ICMPv6 input and error
 * functions run on any context; ND, MLD, the path MTU cache and the rest
 * are the control thread's (workers punt to it).
 */
#ifndef MPNET_L3_IP6_H
#define MPNET_L3_IP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/clock.h"
#include "mpnet/pkt.h"

struct addr6_pub;
struct ifaddr6;
struct mpnet_iface;
struct mpnet_ip6_repr;
struct mpnet_nd_repr;
struct mpnet_stack;
struct reass_budget;
struct wctx;

#define IP6_HLIM_DEFAULT 64
#define ND6_MAX_SOLICIT  3                     /* MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT */
#define ND6_REACHABLE_NS (30 * MPNET_NS_PER_S) /* REACHABLE_TIME */
#define ND6_RETRANS_NS   MPNET_NS_PER_S        /* RETRANS_TIMER */

static const uint8_t ip6_all_nodes[16] = {0xff, 2, [15] = 1};
static const uint8_t ip6_all_routers[16] = {0xff, 2, [15] = 2};

/* l3/ip6_input.c: the ip6-input, ip6-lookup and ip6-local nodes */
void ip6_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip6_lookup_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip6_local_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* Any context. arc_done: the local-in arc has seen p (a worker's punt). */
void ip6_local_one(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, bool arc_done);
/* Give p (at its transport header, its IPv6 header at l3_off) to the
 * control thread: what only it does (ND, MLD, the ping API). */
void ip6_local_punt_back(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);

/* l3/ip6_forward.c: the ip6-rewrite node */
void ip6_rewrite_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);

/* l3/ip6_output.c */
/* Send an upper-layer message p (a chain allowed) from src (:: to choose)
 * to dst; oif names the interface for a link-local or multicast dst (0:
 * route in table 0). Fragments to the path MTU (RFC 8200 4.5). The
 * control thread's. */
int ip6_output(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
               uint8_t proto, uint8_t hlim, int oif);
/* ip6_output with a traffic class (IPV6_TCLASS). */
int ip6_output_tc(struct mpnet_stack *s, struct mpnet_pkt *p, const uint8_t *src,
                  const uint8_t *dst, uint8_t proto, uint8_t hlim, uint8_t tclass, int oif);
/* ip6_output on any context: a worker sends on its own vectors what fits
 * the IPv6 minimum MTU to a usable neighbour, and punts to the control
 * thread what needs it (a larger message, which the path MTU may make a
 * fragmented one; delivery to ourselves; resolution, l3/neigh.c). */
int ip6_output_w(struct wctx *w, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
                 uint8_t proto, uint8_t hlim, int oif);
/* ip6_output_w with a traffic class (a worker-homed socket's IPV6_TCLASS). */
int ip6_output_w_tc(struct wctx *w, struct mpnet_pkt *p, const uint8_t *src, const uint8_t *dst,
                    uint8_t proto, uint8_t hlim, uint8_t tclass, int oif);
/* The control thread's side of a worker's PUNT_OUT6 (a punt_fn). */
void ip6_out_punt(struct mpnet_stack *s, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                  uint64_t meta);
/* Hand a packet whose IPv6 header is written to nexthop on ifp. */
int ip6_send_on(struct mpnet_iface *ifp, const uint8_t *nexthop, struct mpnet_pkt *p);
/* Prepend an IPv6 header to p and send it on ifp: to dmac when given, to
 * the group's MAC for multicast, else through neighbour resolution. For ND
 * and MLD, which name their interface and hop limit. */
int ip6_send_raw(struct mpnet_iface *ifp, struct mpnet_pkt *p, const uint8_t *src,
                 const uint8_t *dst, uint8_t proto, uint8_t hlim, const uint8_t *dmac);
/* RFC 6724 among ifp's addresses (all interfaces' when ifp is NULL), on
 * any context (the published copies). */
const struct addr6_pub *ip6_src_pick(struct mpnet_stack *s, struct mpnet_iface *ifp,
                                     const uint8_t *dst);
/* The path MTU cache (l3/pmtu.h) for IPv6, at the control thread's time:
 * the cached MTU or 0; lower it (RFC 8201 4, never below 1280), counted. */
uint32_t pmtu6_lookup(struct mpnet_stack *s, const uint8_t *dst);
void pmtu6_update(struct mpnet_stack *s, const uint8_t *dst, uint32_t mtu);
/* The interface the route to dst leaves by (unicast, global), or NULL. */
struct mpnet_iface *ip6_route_iface(struct mpnet_stack *s, const uint8_t *dst);

/* The IPv6 module's own counters (mod_ip6, found by name). */
enum ip6_ctr {
        IP6_CTR_NO_SRC,     /* "ip6_no_src": an own packet with no source address */
        IP6_CTR_PUNT_SHORT, /* "ip6_out_punt_short": PUNT_OUT6 cut below 40 bytes */
};

/* The ICMPv6 module's own counters (l3/icmp6.c). */
enum icmp6_ctr {
        ICMP6_CTR_ERR_SHORT,    /* "icmp6_err_short" */
        ICMP6_CTR_ERR_NOT_OURS, /* "icmp6_err_not_ours" */
        ICMP6_CTR__N
};

/* l3/reass.c: the IPv6 reassembly table of context w, its module's state. */
struct ip6_reass *reass6_of(struct wctx *w);
/* The same, for a fragment that came in on ifp (see reass6_admit). */
struct ip6_reass *reass6_in(struct wctx *w, struct mpnet_iface *ifp);
/* Whether a fragment from src that starts a new datagram at a full table
 * may evict the oldest (src a neighbour of the interface given to
 * reass6_in, or a token left); false is counted (ip6_reass_refused). */
bool reass6_admit(struct wctx *w, const uint8_t *src);

/* The same refusal, told before ip6_local_one() for p received on ifp,
 * a fragment to one of our unicast addresses that w owns, now ctx_now():
 * true where the table would refuse it (nothing taken, p not kept);
 * reass6_refused() counts n of them. */
bool reass6_refuse(struct wctx *w, struct mpnet_iface *ifp, const struct mpnet_pkt *p,
                   uint64_t now);
void reass6_refused(struct wctx *w, unsigned n);

/* l3/ip6_frag.c: reassembly (RFC 8200 4.5, RFC 5722), a table per context
 * used only by it, charging the stack's budget b; ip6_reass_usage from any
 * thread. */
struct ip6_reass *ip6_reass_create(struct wctx *w, struct reass_budget *b);
void ip6_reass_destroy(struct ip6_reass *r);
void ip6_reass_expire(struct ip6_reass *r, uint64_t now);
void ip6_reass_flush(struct ip6_reass *r); /* every datagram freed, no error sent */
uint64_t ip6_reass_next_expiry(const struct ip6_reass *r);
/* What it holds now and its caps (buffer bytes, datagrams). */
void ip6_reass_usage(const struct ip6_reass *r, uint64_t *bytes, uint64_t *max_bytes,
                     uint32_t *datagrams, uint32_t *max_datagrams);
/* Whether p, a fragment whose header follows the fixed one, would start a
 * new datagram at a cap, none of its key held, with every check on the way
 * known to pass, so that reass6_admit() decides (false: let
 * ip6_reass_input() see it). p is not kept. */
bool ip6_reass_refusable(const struct ip6_reass *r, const struct mpnet_pkt *p);
/* p: a fragment (IPv6 header first) with its fragment header at frag_off.
 * @return the whole datagram (a chain, fragment header gone), or NULL. */
struct mpnet_pkt *ip6_reass_input(struct ip6_reass *r, struct mpnet_pkt *p, uint16_t frag_hdr_off,
                                  uint16_t prev_nh_off);

/* l3/nd6.c: ND resolution and NS/NA (RFC 4861 7) */
int nd6_resolve_output(struct mpnet_iface *ifp, const uint8_t *nexthop, struct mpnet_pkt *p);
void nd6_ns_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
void nd6_na_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
/* src NULL: a DAD probe from :: with a fresh nonce (RFC 7527). dmac NULL:
 * the group's MAC of a multicast dst. */
void nd6_ns_send(struct mpnet_iface *ifp, const uint8_t *src, const uint8_t *dst,
                 const uint8_t *target, const uint8_t *dmac);
void nd6_na_send(struct mpnet_iface *ifp, const uint8_t *dst, const uint8_t *target,
                 bool solicited);
/* Learn a link-layer address from a source link-layer option (RS, RA, NS). */
void nd6_learn(struct mpnet_iface *ifp, const uint8_t *addr, const uint8_t *mac, bool router);
/* The link-layer address option of type want, or NULL; *nonce gets a nonce
 * option when asked. */
const uint8_t *nd6_opt_lladdr(const struct mpnet_nd_repr *r, uint8_t want, const uint8_t **nonce);
uint64_t nd6_reachable_time(struct mpnet_iface *ifp);

/* l3/nd6_addr.c: addresses, DAD, SLAAC, RS/RA, the interface's ND timer
 * (the address functions: l3/ip_iface.h) */
void nd6_kick(struct mpnet_iface *ifp);
/* At attach: the timer and defaults (the stack turns IPv6 on after). */
void nd6_iface_init(struct mpnet_iface *ifp);
void nd6_dad_duplicate(struct mpnet_iface *ifp, struct ifaddr6 *a);
void nd6_rs_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
void nd6_ra_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n);
/* Put a router on the default router list for lifetime_s seconds; 0 takes
 * it off (RFC 4861 6.3.4, 7.2.5). */
void nd6_dr_update(struct mpnet_iface *ifp, const uint8_t *router, uint32_t lifetime_s);
/* Parse an ND message, counting why it is dropped (RFC 4861 4.6: an option
 * of length 0 or past the end drops it). */
bool nd6_parse(struct mpnet_stack *s, const uint8_t *msg, size_t n, struct mpnet_nd_repr *r);

/* l3/nd6_redirect.c: redirects (RFC 4861 8) */
void nd6_redirect_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip,
                        const uint8_t *msg, size_t n);
/* Send a redirect for p (at its IPv6 header, the stack's to keep) to its
 * source, naming target as the better first hop. */
void nd6_redirect_send(struct mpnet_iface *ifp, const struct mpnet_pkt *p, const uint8_t *target);
/* Drop every redirect entry of ifp and its routes. */
void nd6_redirect_flush(struct mpnet_iface *ifp);
/* Expire redirect entries; @return the next expiry. */
uint64_t nd6_redirect_tick(struct mpnet_iface *ifp, uint64_t now);

/* l3/mld6.c */
int mc6_join(struct mpnet_iface *ifp, const uint8_t *group);
void mc6_leave(struct mpnet_iface *ifp, const uint8_t *group);
bool mc6_joined(const struct mpnet_iface *ifp, const uint8_t *group);
bool iface_mc_mac_ok(const struct mpnet_iface *ifp, const uint8_t *mac);
void mld_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
               size_t n);
/* Reports due by now; @return the next time one is due. */
uint64_t mld_tick(struct mpnet_iface *ifp, uint64_t now);

/* l3/icmp6.c: any context */
bool icmp6_early_drop(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);
void icmp6_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                 const struct mpnet_ip6_repr *ip);
/* An ICMPv6 error about p (at its IPv6 header) unless RFC 4443 2.4(e)
 * forbids it or w's rate limit says no. p stays the caller's. */
void icmp6_error(struct wctx *w, const struct mpnet_pkt *p, uint8_t type, uint8_t code,
                 uint32_t info);
/* Build an ICMPv6 message of n bytes (header zeroed) in one buffer. */
uint8_t *icmp6_alloc(struct mpnet_stack *s, size_t n, struct mpnet_pkt **pp);
/* A token from the stack's ICMPv6 redirect limiter (RFC 4861 8.2). */
bool icmp6_rate_ok(struct mpnet_stack *s);
/* The one's-complement sum of a chain's bytes (RFC 1071). */
uint16_t pkt_csum_chain(const struct mpnet_pkt *p, uint64_t sum);

static inline void node_icmp6_error(struct wctx *w, struct mpnet_pkt *p, uint8_t type, uint8_t code,
                                    uint32_t info)
{
        icmp6_error(w, p, type, code, info);
        mpnet_pkt_free(p);
}

#endif
