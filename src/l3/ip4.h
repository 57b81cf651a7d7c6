/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 (l3/ip4_*.c, l3/icmp4.c) and ARP (l3/arp.c, the resolver of the
 * neighbour cache for IPv4): nodes and entry points. The interface's IPv4
 * addresses are in l3/ip_iface.h, reassembly in l3/ip4_frag.h.
 *
 * Synchronisation: the nodes, ip4_output_w, ip4_local_one and the ICMP
 * functions run on any context (a worker or the control thread); the rest
 * is the control thread's, as each says.
 */
#ifndef MPNET_L3_IP4_H
#define MPNET_L3_IP4_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/pkt.h"

struct mpnet_iface;
struct mpnet_ip4_repr;
struct mpnet_stack;
struct wctx;

/* mod_ip4's own counters (graph.h), by index. */
enum ip4_ctr {
        IP4_CTR_MC_RX, /* "ip4_mc_rx": multicast to a joined group, delivered */
};

/* l3/reass.c: the IPv4 reassembly table of context w, its module's state. */
struct ip4_reass *reass4_of(struct wctx *w);
/* The same, for a fragment that came in on ifp: the table's admission
 * policy at its caps asks ifp's neighbour cache about the source. */
struct ip4_reass *reass4_in(struct wctx *w, struct mpnet_iface *ifp);

/* Whether the table would refuse p, a fragment received on ifp that w
 * owns, now ctx_now(): a new datagram at a cap from a source that is no
 * resolved neighbour with the admission bucket empty (nothing taken, p
 * not kept), told before ip4_local_one() at a fraction of its cost;
 * reass4_refused() counts n of them as ip4_reass_input() would have. */
bool reass4_refuse(struct wctx *w, struct mpnet_iface *ifp, const struct mpnet_pkt *p,
                   uint64_t now);
void reass4_refused(struct wctx *w, unsigned n);

/* l3/arp.c */
void arp_input(struct mpnet_iface *ifp, struct mpnet_pkt *p);
void arp_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
int arp_resolve_output(struct mpnet_iface *ifp, uint32_t nexthop, struct mpnet_pkt *p);
void arp_announce(struct mpnet_iface *ifp, uint32_t addr);

/* l3/ip4_input.c: the ip4-input, ip4-lookup and ip4-local nodes */
void ip4_input_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip4_lookup_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
void ip4_local_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);
/* Any context. arc_done: the local-in arc has seen p (a worker's punt). */
void ip4_local_one(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, bool arc_done);
/* Give p (at its transport header, its IPv4 header at l3_off) to the
 * control thread: what a protocol does only there (the ping API's
 * replies). */
void ip4_local_punt_back(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p);

/* l3/igmp.c: the IPv4 groups of an interface and IGMP (RFC 3376). The
 * control thread: join group (counted: as many leaves undo it), @return 0,
 * -EINVAL (not multicast), -ENOSPC (IFACE_MAX_MC groups), -ENOMEM; leave
 * it; whether it is joined. */
int mc4_join(struct mpnet_iface *ifp, uint32_t group);
void mc4_leave(struct mpnet_iface *ifp, uint32_t group);
bool mc4_joined(const struct mpnet_iface *ifp, uint32_t group);
/* Any context: whether ifp listens to a group whose MAC is mac (01:00:5e
 * and the group's low 23 bits, RFC 1112 6.4): ether-input's filter. */
bool iface_mc4_mac_ok(const struct mpnet_iface *ifp, const uint8_t *mac);

/* l3/ip4_forward.c: the ip4-rewrite node */
void ip4_rewrite_node(struct wctx *w, struct mpnet_iface *ifp, unsigned self);

/* l3/ip4_output.c: any context; ip4_output, ip4_output_df and
 * ip4_send_on are the control thread's forms. A worker punts what only the
 * control thread does: fragmentation, resolution of a next hop with no
 * usable entry, delivery to ourselves. */
int ip4_output_w(struct wctx *w, struct mpnet_pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
                 uint8_t ttl, bool df);
int ip4_output(struct mpnet_stack *s, struct mpnet_pkt *p, uint32_t src, uint32_t dst,
               uint8_t proto, uint8_t ttl);
/* ip4_output_w with the rest a socket may ask: a TOS byte and an output
 * interface (oif: IP_PKTINFO, SO_BINDTOIFINDEX, IP_MULTICAST_IF; 0 none).
 * With oif, a destination its route does not put on that interface (a
 * group, the limited broadcast) is sent there as on-link; a group goes to
 * its MAC (RFC 1112 6.4). */
struct ip4_out {
        uint32_t src, dst; /* src 0: chosen */
        uint8_t proto, ttl, tos;
        bool df;
        /* A socket's IP_MTU_DISCOVER (IP_PMTUDISC_*; 0, DONT: df as given):
         * WANT sets DF when the datagram fits the path MTU (else it is
         * fragmented to it); DO and PROBE set it, and DO answers -EMSGSIZE
         * for a datagram over the path MTU (RFC 1191 3). */
        uint8_t pmtud;
        bool hdrincl; /* p starts with its header (IP_HDRINCL): dst from it,
                       * src, id when zero, length and checksum filled */
        int oif;
};
int ip4_output_opt(struct wctx *w, struct mpnet_pkt *p, const struct ip4_out *o);
/* The source ip4_output would choose for dst (through oif when not 0).
 * @return 0; -ENETUNREACH; -ENODEV; -EADDRNOTAVAIL. Any context. */
int ip4_src_select(struct mpnet_stack *s, uint32_t dst, int oif, uint32_t *src);
/* With don't-fragment; p may be a chain. */
int ip4_output_df(struct mpnet_stack *s, struct mpnet_pkt *p, uint32_t src, uint32_t dst,
                  uint8_t proto, uint8_t ttl, bool df);
/* Hand a packet whose IPv4 header is written to next hop nexthop on ifp,
 * fragmenting it when it exceeds the MTU. */
int ip4_send_on(struct mpnet_stack *s, struct mpnet_iface *ifp, uint32_t nexthop,
                struct mpnet_pkt *p, bool bcast);

/* l3/icmp4.c: any context */
void icmp4_input(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                 const struct mpnet_ip4_repr *ip);
/* Send an ICMP error about p (at its IPv4 header) unless RFC 1812 4.3.2.7
 * forbids it or w's rate limit is reached. p stays the caller's. */
void icmp4_error(struct wctx *w, const struct mpnet_pkt *p, uint8_t type, uint8_t code,
                 uint32_t rest);

/* The ICMP module's own counters (l3/icmp4.c). */
enum icmp4_ctr {
        ICMP4_CTR_ERR_SHORT,    /* "icmp4_err_short" */
        ICMP4_CTR_ERR_NOT_OURS, /* "icmp4_err_not_ours" */
        ICMP4_CTR_PMTU,         /* "icmp4_pmtu_update" */
        ICMP4_CTR__N
};

/* An ICMP error about p, then p freed: sent by the context itself. */
static inline void node_icmp_error(struct wctx *w, struct mpnet_pkt *p, uint8_t type, uint8_t code,
                                   uint32_t rest)
{
        icmp4_error(w, p, type, code, rest);
        mpnet_pkt_free(p);
}

#endif
