/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP with no socket layer: every port is closed. A module of its own so
 * the TCP module replaces it, not the IP input code (UDP went to l4/udp.c).
 *
 * TCP would answer with a reset (RFC 9293 3.10.7.1), which needs TCP: the
 * segment is dropped and counted.
 *
 * Synchronisation: local delivery, on the context that owns the flow.
 */
#include "mpnet/wire/ipv4.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "stack/graph.h"
#include "stack/stack_priv.h"

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
    {.family = 4, .proto = MPNET_IPPROTO_TCP, .fn = tcp4_closed},
    {.family = 6, .proto = MPNET_IPPROTO_TCP, .fn = tcp6_closed},
};

const struct mpnet_module mod_l4_closed = {
    .name = "l4-closed",
    .l4 = closed_l4,
    .n_l4 = 2,
};
