/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Multicast listener discovery, the host part of MLDv2 (RFC 3810), and the
 * groups an interface has joined: all-nodes, the solicited-node group of
 * each address, all-routers on an advertising interface.
 *
 * A join sends unsolicited reports (5.2.13: robustness 2, the second after
 * a random delay up to 1 s); a query is answered after a random delay up to
 * its maximum response time with the current state (6.2). All-nodes is
 * never reported (6). Reports go to ff02::16 with hop limit 1 and a router
 * alert option (5).
 *
 * Synchronisation: the control thread. Workers read mc_mac[], one atomic
 * word per group, and the groups in the interface's published copy
 * (iface_addr6_publish after each join and leave).
 */
#include <errno.h>
#include <string.h>

#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define MLD_ROBUSTNESS    2
#define MLD_UNSOL_IVAL_NS MPNET_NS_PER_S
#define MLD_MAX_RECORDS   IFACE_MAX_MC

static const uint8_t mld_routers[16] = {0xff, 2, [15] = 0x16};

/* A MAC as one word (0 only for 00:00:00:00:00:00): two loads combined
 * in registers, where a byte loop cost every group frame of a flood some
 * 40 instructions (and a copy into a zeroed word on the stack, read back
 * whole, stalls on store forwarding). The stored words and the looked-up
 * ones are made alike, so the byte order does not matter. */
static uint64_t mac_word(const uint8_t *mac)
{
        uint32_t lo;
        uint16_t hi;

        memcpy(&lo, mac, 4);
        memcpy(&hi, mac + 4, 2);
        return (uint64_t)lo | (uint64_t)hi << 32;
}

bool iface_mc_mac_ok(const struct mpnet_iface *ifp, const uint8_t *mac)
{
        uint64_t w = mac_word(mac);

        if (w == 0)
                return false; /* 0 marks a free slot */
        /* The slots in use are the first n_mc6 (mc6_join takes the next,
         * mc6_leave moves the last into the hole before clearing it): the
         * first free slot ends the search, which a group frame of a flood
         * would otherwise take through all of them. */
        for (unsigned i = 0; i < IFACE_MAX_MC; i++) {
                uint64_t v = atomic_load_explicit(&ifp->in6->mc_mac[i], memory_order_relaxed);

                if (v == w)
                        return true;
                if (v == 0)
                        return false;
        }
        return false;
}

static struct mc6_group *mc6_find(const struct mpnet_iface *ifp, const uint8_t *g)
{
        for (unsigned i = 0; i < ifp->in6->n_mc6; i++) {
                if (ip6_eq(ifp->in6->mc6[i].addr, g))
                        return (struct mc6_group *)&ifp->in6->mc6[i];
        }
        return NULL;
}

bool mc6_joined(const struct mpnet_iface *ifp, const uint8_t *group)
{
        return mc6_find(ifp, group) != NULL;
}

static void mac_publish(struct mpnet_iface *ifp, unsigned slot)
{
        uint8_t mac[6];

        if (slot >= ifp->in6->n_mc6) {
                atomic_store_explicit(&ifp->in6->mc_mac[slot], 0, memory_order_relaxed);
                return;
        }
        mpnet_ip6_mc_mac(ifp->in6->mc6[slot].addr, mac);
        atomic_store_explicit(&ifp->in6->mc_mac[slot], mac_word(mac), memory_order_relaxed);
}

/* 5.2.14 and 6: report what this node listens to, except all-nodes. */
static void mld_report(struct mpnet_iface *ifp, uint8_t type, const uint8_t *only, bool unsol)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_mld_record rec[MLD_MAX_RECORDS];
        static const uint8_t any[16];
        const struct ifaddr6 *ll = iface_ll6(ifp);
        const uint8_t *src = ll != NULL ? ll->addr : any;
        struct mpnet_pkt *p;
        size_t n = 0, len;
        uint8_t *b;

        for (unsigned i = 0; i < ifp->in6->n_mc6; i++) {
                struct mc6_group *g = &ifp->in6->mc6[i];

                if (ip6_eq(g->addr, ip6_all_nodes) || (only != NULL && !ip6_eq(g->addr, only)))
                        continue;
                if (unsol) {
                        if (g->report_left == 0)
                                continue;
                        g->report_left--;
                }
                rec[n++] = (struct mpnet_mld_record){.type = type, .group = g->addr};
        }
        if (only != NULL && n == 0 && type == MPNET_MLD2_TO_INCLUDE)
                rec[n++] = (struct mpnet_mld_record){.type = type, .group = only};
        if (n == 0)
                return;
        len = mpnet_mld_report_len(rec, n);
        /* Room for the hop-by-hop header in front. */
        b = icmp6_alloc(s, 8 + len, &p);
        if (b == NULL)
                return;
        mpnet_mld_report_emit(rec, n, src, mld_routers, b + 8);
        /* RFC 2711 router alert (value 0: MLD) and a PadN of 2. */
        b[0] = MPNET_IPPROTO_ICMPV6;
        b[1] = 0;
        b[2] = MPNET_IP6_OPT_ROUTER_ALERT;
        b[3] = 2;
        b[4] = b[5] = 0;
        b[6] = MPNET_IP6_OPT_PADN;
        b[7] = 0;
        STK_INC(s, mld_report_tx);
        ip6_send_raw(ifp, p, src, mld_routers, MPNET_IPPROTO_HOPOPTS, 1, NULL);
}

int mc6_join(struct mpnet_iface *ifp, const uint8_t *group)
{
        struct mc6_group *g = mc6_find(ifp, group);

        if (g != NULL) {
                g->refs++;
                return 0;
        }
        if (ifp->in6->n_mc6 == IFACE_MAX_MC)
                return -ENOSPC;
        g = &ifp->in6->mc6[ifp->in6->n_mc6++];
        memcpy(g->addr, group, 16);
        g->refs = 1;
        g->report_left = ip6_eq(group, ip6_all_nodes) ? 0 : MLD_ROBUSTNESS;
        mac_publish(ifp, ifp->in6->n_mc6 - 1);
        (void)iface_addr6_publish(ifp); /* ip6-local on workers reads the groups */
        if (g->report_left > 0) {
                ifp->in6->mld_next = ifp->stack->now;
                nd6_kick(ifp);
        }
        return 0;
}

void mc6_leave(struct mpnet_iface *ifp, const uint8_t *group)
{
        struct mc6_group *g = mc6_find(ifp, group);
        uint8_t gone[16];
        unsigned i;

        if (g == NULL || --g->refs > 0)
                return;
        memcpy(gone, g->addr, 16);
        i = (unsigned)(g - ifp->in6->mc6);
        *g = ifp->in6->mc6[--ifp->in6->n_mc6];
        mac_publish(ifp, i);
        mac_publish(ifp, ifp->in6->n_mc6);
        (void)iface_addr6_publish(ifp);
        /* 5.2.12: a state change to INCLUDE {} tells the router we left. */
        if (!ip6_eq(gone, ip6_all_nodes))
                mld_report(ifp, MPNET_MLD2_TO_INCLUDE, gone, false);
}

uint64_t mld_tick(struct mpnet_iface *ifp, uint64_t now)
{
        struct mpnet_stack *s = ifp->stack;
        bool more = false;

        if (ifp->in6->mld_next <= now) {
                mld_report(ifp, MPNET_MLD2_TO_EXCLUDE, NULL, true);
                for (unsigned i = 0; i < ifp->in6->n_mc6; i++)
                        more |= ifp->in6->mc6[i].report_left > 0;
                ifp->in6->mld_next =
                    more ? now + stack_random(s) % (MLD_UNSOL_IVAL_NS + 1) : MPNET_TIME_NEVER;
        }
        if (ifp->in6->mld_query_at <= now) {
                bool general = mpnet_ip6_is_unspecified(ifp->in6->mld_query_group);

                mld_report(ifp, MPNET_MLD2_MODE_IS_EXCLUDE,
                           general ? NULL : ifp->in6->mld_query_group, false);
                ifp->in6->mld_query_at = MPNET_TIME_NEVER;
        }
        return ifp->in6->mld_next < ifp->in6->mld_query_at ? ifp->in6->mld_next
                                                           : ifp->in6->mld_query_at;
}

void mld_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
               size_t n)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_icmp6_view v;
        struct mpnet_mld_query q;
        uint64_t at;

        STK_INC(s, mld_rx);
        /* 5.1.14, 5.2.13: link-local source, hop limit 1. */
        if (!mpnet_ip6_is_link_local(ip->src) || ip->hop_limit != 1 ||
            mpnet_icmp6_view_check(msg, n, &v) != 0) {
                STK_INC(s, mld_bad);
                return;
        }
        if (msg[0] != MPNET_ICMP6_MLD_QUERY)
                return; /* other listeners' reports: a host does nothing */
        if (mpnet_mld_query_parse(&v, &q) != 0) {
                STK_INC(s, mld_bad);
                return;
        }
        if (!mpnet_ip6_is_unspecified(q.group) && !mc6_joined(ifp, q.group))
                return;
        /* 6.2: answer within the maximum response delay, at random. */
        at = s->now + stack_random(s) % ((uint64_t)q.max_resp * MPNET_NS_PER_MS + 1);
        if (ifp->in6->mld_query_at == MPNET_TIME_NEVER || at < ifp->in6->mld_query_at) {
                /* A pending general answer covers a group query. */
                if (ifp->in6->mld_query_at == MPNET_TIME_NEVER ||
                    !mpnet_ip6_is_unspecified(ifp->in6->mld_query_group))
                        memcpy(ifp->in6->mld_query_group, q.group, 16);
                ifp->in6->mld_query_at = at;
                nd6_kick(ifp);
        }
}
