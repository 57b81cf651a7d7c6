/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What an interface holds for IPv4 and IPv6 (as BSD's in_var.h and
 * in6_var.h): its addresses, their published copies, the stack's sets of
 * local addresses, IPv6 groups and advertising state, each family's in a
 * block of its own (struct ip4_ifdata, struct ip6_ifdata) that struct
 * mpnet_iface (stack/iface.h) points to, as BSD's if_afdata does.
 *
 * Synchronisation: the blocks are made and freed by the control thread
 * when the interface is attached and detached; their arrays (ifaddr4,
 * ifaddr6, mc6_group) are the control thread's. Every context reads the
 * published copies (addr4_snap, addr6_snap, local4_set, local6_set):
 * immutable once published with RCU, remade and republished after each
 * change, the old one freed after a grace period.
 */
#ifndef MPNET_L3_IP_IFACE_H
#define MPNET_L3_IP_IFACE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <stdatomic.h>

#include "l3/neigh_table.h"
#include "mpnet/clock.h"
#include "mpnet/ip6.h"
#include "mpnet/timer.h"

struct mpnet_iface;
struct mpnet_stack;

#define IFACE_MAX_ADDRS   16 /* of each family */
#define ANNOUNCE_NUM      2  /* RFC 5227 section 1.1 */
#define ANNOUNCE_INTERVAL (2 * MPNET_NS_PER_S)
#define IFACE_MAX_MC      32
#define IFACE_MAX_ONLINK  8
#define IFACE_MAX_DR      4
#define IFACE_MAX_REDIR   32 /* redirect entries (RFC 4861 8.3) per interface */

/* ---- IPv4 ---- */

struct ifaddr4 {
        uint32_t addr;
        uint32_t mask;
        uint8_t plen;
        uint8_t announce_left; /* gratuitous ARPs still to send */
};

/* An interface's IPv4 addresses as every context reads them: an immutable
 * copy published with RCU after each change (stack.c), so workers choose
 * sources and recognise their own addresses without the control thread's
 * array. */
struct addr4_snap {
        unsigned n;
        struct ifaddr4 a[];
};

/* Every IPv4 address of a stack, sorted: what stack_is_local4() searches
 * (RCU, rebuilt with each interface's snapshot). */
struct local4_set {
        unsigned n;
        uint32_t a[];
};

/* Any context (the published addresses): the address of ifp on dst's
 * prefix, or NULL; the first address of ifp, or 0; whether a is ifp's, or
 * any interface's of s. */
const struct ifaddr4 *iface_addr_match(const struct mpnet_iface *ifp, uint32_t dst);
uint32_t iface_addr4_first(const struct mpnet_iface *ifp);
bool iface_has_addr(const struct mpnet_iface *ifp, uint32_t a);
bool stack_is_local4(const struct mpnet_stack *s, uint32_t a);
/* Control thread: publish ifp's addresses after a change. @return 0 or
 * -ENOMEM (the old copy stays). */
int iface_addr4_publish(struct mpnet_iface *ifp);

/* Any context (the published groups, l3/igmp.c): whether ifp has joined
 * IPv4 group g. */
bool iface_mc4_has(const struct mpnet_iface *ifp, uint32_t g);

/* ---- IPv6 ---- */

struct ifaddr6 {
        uint8_t addr[16];
        uint8_t plen;
        uint32_t flags;       /* MPNET_ADDR6_F_* */
        uint64_t valid_until; /* MPNET_TIME_NEVER: for ever */
        uint64_t pref_until;
        uint64_t dad_at;     /* next DAD step; MPNET_TIME_NEVER: none */
        uint8_t dad_left;    /* probes still to send */
        uint8_t nonce[6];    /* of the last probe (RFC 7527) */
        bool stable;         /* an RFC 7217 identifier ... */
        uint8_t dad_counter; /* ... made with this DAD_Counter */
};

/* A joined IPv6 multicast group (MLD, RFC 3810). */
struct mc6_group {
        uint8_t addr[16];
        uint32_t refs;
        uint8_t report_left; /* unsolicited reports still to send */
};

/* A router interface's advertising state (RFC 4861 6.2). */
struct ra_state {
        struct mpnet_ra_cfg cfg;
        unsigned initial_left; /* MAX_INITIAL_RTR_ADVERTISEMENTS */
        uint64_t next;         /* next advertisement */
        uint64_t last;         /* last multicast advertisement (6.2.6 rate) */
};

/* Every usable IPv6 address of a stack (not tentative or duplicated),
 * sorted: what stack_is_local6() searches (RCU, rebuilt with each
 * interface's published copy). */
struct local6_set {
        unsigned n;
        struct a128 {
                uint64_t hi, lo; /* the address as a big-endian number */
        } a[];
};

/* An IPv6 address as workers see it: its DAD and preference state in
 * flags (a tentative or duplicated one is not ours, RFC 4862 5.4). */
struct addr6_pub {
        uint8_t addr[16];
        uint8_t plen;
        uint32_t flags; /* MPNET_ADDR6_F_* */
};

/* An interface's IPv6 addresses and joined groups (solicited-node groups
 * included) as every context reads them: an immutable copy published with
 * RCU after each change (iface_addr6_publish), as addr4 is. */
struct addr6_snap {
        unsigned n, n_mc;
        uint8_t hop_limit; /* cur_hop_limit (an RA may set it); 0: not yet */
        struct addr6_pub a[IFACE_MAX_ADDRS];
        uint8_t mc[IFACE_MAX_MC][16];
};

/* A joined IPv4 group (IGMP, RFC 3376), or one just left whose
 * state-change reports are still being sent (refs 0: not published). */
struct mc4_group {
        uint32_t addr;
        uint32_t refs;       /* joins; 0 while leaving */
        uint8_t report_left; /* state-change reports still to send (5.1) */
        uint64_t query_at;   /* a group-specific answer due (5.2); NEVER: none */
};

/* An interface's joined IPv4 groups as every context reads them (RCU, as
 * addr4): 224.0.0.1 included, groups being left not. */
struct mc4_snap {
        unsigned n;
        uint32_t g[IFACE_MAX_MC];
};

/* IGMP's state of an interface (l3/igmp.c), the control thread's; what
 * input may change of it is what stack_reset marks (igmp_iface_mark). */
struct igmp_ifstate {
        unsigned n_mc4;
        struct mc4_group mc4[IFACE_MAX_MC];
        uint64_t report_next; /* next state-change report; NEVER: none */
        uint64_t general_at;  /* answer to a general query due (5.2); NEVER: none */
        uint64_t v1_until;    /* older version querier present (7.2.1) */
        uint64_t v2_until;
        uint8_t mode;       /* host compatibility mode: 1, 2 or 3 */
        uint8_t qrv;        /* the querier's robustness variable (8.1) */
        uint32_t qi_s;      /* its query interval, seconds (8.2) */
        bool publish_retry; /* a want of memory left mc4 unpublished */
};

/* An interface's IPv4 part (ifp->in4): the ARP table first, on lines of
 * its own. */
struct ip4_ifdata {
        struct neigh_table neigh;
        struct addr4_snap *_Atomic addr4; /* what every context reads */
        /* The joined groups every context reads (mc4_joined4 below). */
        struct mc4_snap *_Atomic mc4;
        /* RFC 1812 5.2.7.2: send host redirects (workers read it). */
        _Atomic bool redirect4_send;
        unsigned n_addrs; /* the control thread's; others read addr4 */
        struct ifaddr4 addrs[IFACE_MAX_ADDRS];
        struct mpnet_timer announce_timer;
        struct igmp_ifstate igmp;
        struct mpnet_timer igmp_timer;
};

/* An on-link prefix learnt from advertisements (RFC 4861 6.3.4). */
struct onlink6 {
        uint8_t prefix[16];
        uint8_t plen;
        uint64_t until;
};

/* A destination this host was redirected for (RFC 4861 8), a /128 route
 * until it expires. */
struct redirect6 {
        uint8_t dst[16];
        uint64_t until;
};

/* An interface's IPv6 part (ifp->in6): the ND table first, on lines of its
 * own; then what workers read (atomic or published); then the control
 * thread's. */
struct ip6_ifdata {
        struct neigh_table neigh;
        _Atomic uint32_t mtu6; /* link MTU for IPv6 (an RA may lower it) */
        _Atomic bool redirect_send;
        struct addr6_snap *_Atomic addr6;
        /* The groups' MACs (33:33:...) in bits 0-47 of each, 0 when free:
         * what ether-input reads on workers. */
        _Atomic uint64_t mc_mac[IFACE_MAX_MC];
        bool ip6_on;
        unsigned n_addrs6; /* addrs6 and mc6: the control thread's; others read addr6 */
        struct ifaddr6 addrs6[IFACE_MAX_ADDRS];
        unsigned n_mc6;
        struct mc6_group mc6[IFACE_MAX_MC];
        struct mpnet_timer nd_timer; /* DAD, lifetimes, RS, RA, MLD */
        uint64_t nd_reachable_base, nd_reachable_ns, nd_retrans_ns;
        uint8_t cur_hop_limit;
        unsigned rs_left;
        uint64_t rs_next, mld_next, mld_query_at;
        uint8_t mld_query_group[16]; /* :: for a general query */
        /* The default router list (RFC 4861 6.3.4): one ::/0 route with a
         * path per router, chosen by flow hash. */
        unsigned n_dr;
        struct {
                uint8_t addr[16];
                uint64_t until;
        } dr[IFACE_MAX_DR];
        unsigned n_rdnss;
        uint8_t rdnss[MPNET_RA_MAX_RDNSS][16];
        uint64_t rdnss_until;
        struct ra_state *ra; /* advertising (router mode), else NULL */
        unsigned n_onlink;
        struct onlink6 onlink[IFACE_MAX_ONLINK];
        bool redirect_accept;
        unsigned n_redir;
        struct redirect6 redir[IFACE_MAX_REDIR];
};

/* Control thread: publish ifp's IPv6 addresses and groups when they differ
 * from the published copy; called after every change. @return 0 or
 * -ENOMEM (the old copy stays). */
int iface_addr6_publish(struct mpnet_iface *ifp);
/* Any context (the published copy): ifp's address a in whatever state, or
 * NULL; whether ifp has joined group g; the published copy itself. */
const struct addr6_pub *iface_addr6_find(const struct mpnet_iface *ifp, const uint8_t *a);
bool iface_mc6_has(const struct mpnet_iface *ifp, const uint8_t *g);
const struct addr6_snap *iface_addr6_read(const struct mpnet_iface *ifp);
/* Any context (the published copies): a is a usable address of ours. */
bool stack_is_local6(const struct mpnet_stack *s, const uint8_t *a);

/* l3/nd6_addr.c, the control thread's: ifp's address a in its own array,
 * or NULL; a usable link-local address of ifp, or NULL; add or remove the
 * routes of ifp's usable addresses (table moves). */
struct ifaddr6 *ifaddr6_find(struct mpnet_iface *ifp, const uint8_t *a);
const struct ifaddr6 *iface_ll6(const struct mpnet_iface *ifp);
void iface_addr6_routes(struct mpnet_iface *ifp, bool add);

/* What stack_reset keeps of an interface's IPv6 part (ip6_iface_mark). */
struct ip6_ifmark {
        struct ip6_ifdata c;
        struct ra_state ra;
};

/* The interface hooks of mod_ip4 (l3/ip4_addr.c) and mod_ip6
 * (l3/ip6_addr.c): graph.h says when each runs. */
int ip4_iface_attach(struct mpnet_stack *s, struct mpnet_iface *ifp);
void ip4_iface_detach(struct mpnet_stack *s, struct mpnet_iface *ifp);
void ip4_iface_free(struct mpnet_stack *s, struct mpnet_iface *ifp);
void ip4_iface_table(struct mpnet_iface *ifp, bool add);
int ip6_iface_attach(struct mpnet_stack *s, struct mpnet_iface *ifp);
void ip6_iface_detach(struct mpnet_stack *s, struct mpnet_iface *ifp);
void ip6_iface_free(struct mpnet_stack *s, struct mpnet_iface *ifp);
void ip6_iface_mtu(struct mpnet_iface *ifp, uint32_t mtu);
void ip6_iface_table(struct mpnet_iface *ifp, bool add);
unsigned ip4_iface_mark(const struct mpnet_iface *ifp, void *mark, struct mpnet_timer **t);
int ip4_iface_reset(struct mpnet_iface *ifp, const void *mark);
unsigned ip6_iface_mark(const struct mpnet_iface *ifp, void *mark, struct mpnet_timer **t);
int ip6_iface_reset(struct mpnet_iface *ifp, const void *mark);
struct mpnet_stack_usage;
void ip6_usage(struct mpnet_stack *s, struct mpnet_stack_usage *u);
/* mod_ip6's ctx_service: IPv6 address copies to publish again. */
uint64_t ip6_ctx_service(struct wctx *w, void *cs, uint64_t now);
void ip6_iface_usage(const struct mpnet_iface *ifp, struct mpnet_stack_usage *u);

static inline bool ip6_eq(const uint8_t *a, const uint8_t *b)
{
        uint64_t a0, a1, b0, b1;

        memcpy(&a0, a, 8);
        memcpy(&a1, a + 8, 8);
        memcpy(&b0, b, 8);
        memcpy(&b1, b + 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* The first plen bits of a and b agree. */
static inline bool ip6_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
        unsigned bytes = plen / 8, bits = plen % 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        return bits == 0 || ((a[bytes] ^ b[bytes]) & (0xff00 >> bits)) == 0;
}

#endif
