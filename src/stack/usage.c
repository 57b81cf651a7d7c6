/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnet_stack_usage_get(): what input has made a stack hold, against the
 * caps that bound it, read from each module's own accounting (the
 * modules' per-context and per-interface hooks, graph.h). Tests and benchmarks of
 * floods assert the caps with it.
 *
 * Synchronisation: the control thread, like every count it reads.
 */
#include <errno.h>

#include "stack/iface.h"
#include "stack/stack_priv.h"

int mpnet_stack_usage_get(struct mpnet_stack *s, int ifindex, struct mpnet_stack_usage *u)
{
        *u = (struct mpnet_stack_usage){0};
        graph_usage(s, u);
        if (ifindex != 0) {
                const struct mpnet_iface *ifp = stack_iface(s, ifindex);

                if (ifp == NULL)
                        return -ENODEV;
                graph_iface_usage(s, ifp, u);
        } else {
                for (int i = 1; i <= STACK_MAX_IFACES; i++) {
                        if (s->ifs[i] != NULL)
                                graph_iface_usage(s, s->ifs[i], u);
                }
        }
        /* What every context holds (reassembly), read through the
         * modules' relaxed counters. */
        for (unsigned c = 0; c < STACK_MAX_CTX; c++) {
                const struct wctx *w = __atomic_load_n(&s->ctx[c], __ATOMIC_ACQUIRE);

                if (w != NULL)
                        graph_ctx_usage(w, u);
        }
        return 0;
}
