/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP and TCP with no socket layer: every port is closed. A module of its
 * own so the socket layer replaces it, not the IP input code.
 *
 * UDP to a closed port gets a port unreachable (RFC 1122 3.2.2.1 and
 * 4.1.3.1; RFC 4443 3.1 code 4). TCP would answer with a reset (RFC 9293
 * 3.10.7.1), which needs TCP: the segment is dropped and counted.
 *
 * Synchronisation: local delivery, on the context that owns the flow.
 */
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

/* Back to the IP header, which the errors quote. */
static void to_l3(struct mpnet_pkt *p)
{
        mpnet_pkt_prepend(p, (uint32_t)(p->l4_off - p->l3_off));
}

static void udp4_closed(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                        const void *repr)
{
        struct mpnet_stack *s = w->s;

        (void)ifp;
        (void)repr;
        STK_INC(s, ip4_unknown_proto);
        to_l3(p);
        icmp4_error(w, p, MPNET_ICMP4_DEST_UNREACH, 3, 0);
        mpnet_pkt_free(p);
}

static void udp6_closed(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                        const void *repr)
{
        struct mpnet_stack *s = w->s;

        (void)ifp;
        (void)repr;
        STK_INC(s, ip6_unknown_proto);
        to_l3(p);
        icmp6_error(w, p, MPNET_ICMP6_DEST_UNREACH, 4, 0);
        mpnet_pkt_free(p);
}

static void tcp4_closed(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                        const void *repr)
{
        struct mpnet_stack *s = w->s;

        (void)ifp;
        (void)repr;
        STK_INC(s, ip4_unknown_proto);
        mpnet_pkt_free(p);
}

static void tcp6_closed(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p,
                        const void *repr)
{
        struct mpnet_stack *s = w->s;

        (void)ifp;
        (void)repr;
        STK_INC(s, ip6_unknown_proto);
        mpnet_pkt_free(p);
}

static const struct l4_reg closed_l4[] = {
    {.family = 4, .proto = MPNET_IPPROTO_UDP, .fn = udp4_closed},
    {.family = 6, .proto = MPNET_IPPROTO_UDP, .fn = udp6_closed},
    {.family = 4, .proto = MPNET_IPPROTO_TCP, .fn = tcp4_closed},
    {.family = 6, .proto = MPNET_IPPROTO_TCP, .fn = tcp6_closed},
};

const struct mpnet_module mod_l4_closed = {
    .name = "l4-closed",
    .l4 = closed_l4,
    .n_l4 = 4,
};
