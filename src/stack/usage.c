/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnet_stack_usage_get(): what input has made a stack hold, against the
 * caps that bound it, read from each module's own accounting (the
 * reassembly objects, the per-interface tables, the modules' usage
 * hooks). Tests and benchmarks of
 * floods assert the caps with it.
 *
 * Synchronisation: the control thread, like every count it reads.
 */
#include <errno.h>

#include "l3/ip4_frag.h"
#include "l3/neigh.h"
#include "l3/ip6.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

static void usage_add_iface(const struct mpnet_iface *ifp, struct mpnet_stack_usage *u)
{
        u->neigh4 += ifp->neigh[NEIGH_ARP]->count;
        u->neigh6 += ifp->neigh[NEIGH_ND]->count;
}

int mpnet_stack_usage_get(struct mpnet_stack *s, int ifindex, struct mpnet_stack_usage *u)
{
        struct ip4_reass_stats st;

        *u = (struct mpnet_stack_usage){
            .neigh_max = NEIGH_MAX_ENTRIES,
            .neigh_held = s->neigh_held,
            .neigh_held_max = NEIGH_HELD_MAX,
        };
        if (ifindex != 0) {
                const struct mpnet_iface *ifp = stack_iface(s, ifindex);

                if (ifp == NULL)
                        return -ENODEV;
                usage_add_iface(ifp, u);
                graph_usage(s, ifp, u);
        } else {
                graph_usage(s, NULL, u);
                for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                        if (s->ifs[i] != NULL)
                                usage_add_iface(s->ifs[i], u);
                }
        }
        /* Reassembly: every context's tables (each has its cap), read
         * through their relaxed counters. */
        for (unsigned c = 0; c < STACK_MAX_CTX; c++) {
                const struct wctx *w = __atomic_load_n(&s->ctx[c], __ATOMIC_ACQUIRE);
                uint64_t b6, mb6;
                uint32_t d6, md6;

                if (w == NULL)
                        continue;
                ip4_reass_get_stats(w->reass, &st);
                u->reass4_bytes += st.bytes_held;
                u->reass4_max_bytes += st.max_bytes;
                u->reass4_datagrams += (uint32_t)st.datagrams_held;
                u->reass4_max_datagrams += (uint32_t)st.max_datagrams;
                ip6_reass_usage(w->reass6, &b6, &mb6, &d6, &md6);
                u->reass6_bytes += b6;
                u->reass6_max_bytes += mb6;
                u->reass6_datagrams += d6;
                u->reass6_max_datagrams += md6;
        }
        return 0;
}
