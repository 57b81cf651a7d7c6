/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which context receives a flow (stack/steer.h): the link's RSS and the
 * runtime's queue assignments, as the stack holds them per interface.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/link.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/ipv4.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"
#include "stack/steer.h"

#define STEER_QMAX 256 /* queues stack_rx_steer() can steer to */

int iface_rx_make(struct mpnet_iface *ifp)
{
        uint16_t n = ifp->link->info.n_rxq ? ifp->link->info.n_rxq : 1;
        struct iface_rx *rx = calloc(1, sizeof(*rx) + n * sizeof(rx->q_ctx[0]));
        struct mpnet_link_rss lr;

        if (rx == NULL)
                return -ENOMEM;
        rx->n_rxq = n;
        for (unsigned q = 0; q < n; q++)
                atomic_init(&rx->q_ctx[q], RXQ_CTX_NONE);
        if (mpnet_link_rss(ifp->link, &lr) == 0 && lr.reta != NULL) {
                rx->rss = aligned_alloc(64, sizeof(*rx->rss));
                if (rx->rss == NULL) {
                        free(rx);
                        return -ENOMEM;
                }
                if (mpnet_rss_init(rx->rss, lr.key, lr.key_len) == 0) {
                        rx->reta = lr.reta;
                } else { /* a key we cannot hash with: as a link that does not tell */
                        free(rx->rss);
                        rx->rss = NULL;
                }
        }
        ifp->rx = rx;
        return 0;
}

void iface_rx_free(struct mpnet_iface *ifp)
{
        if (ifp->rx != NULL)
                free(ifp->rx->rss);
        free(ifp->rx);
        ifp->rx = NULL;
}

void stack_rxq_ctx(struct mpnet_stack *s, int ifindex, uint16_t rxq, int ctx)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL || ifp->rx == NULL || rxq >= ifp->rx->n_rxq)
                return;
        atomic_store_explicit(&ifp->rx->q_ctx[rxq],
                              ctx < 0 || ctx >= RXQ_CTX_NONE ? RXQ_CTX_NONE : (uint8_t)ctx,
                              memory_order_release);
}

uint32_t rx_tuple_hash(const struct mpnet_rss *rss, const struct rx_tuple *t)
{
        bool ports = t->proto == MPNET_IPPROTO_TCP || t->proto == MPNET_IPPROTO_UDP;

        if (t->fam == 4) {
                uint32_t sa = mpnet_get_be32(t->saddr + 12), da = mpnet_get_be32(t->daddr + 12);

                return ports ? mpnet_rss_ip4_l4(rss, sa, da, t->sport, t->dport)
                             : mpnet_rss_ip4(rss, sa, da);
        }
        return ports ? mpnet_rss_ip6_l4(rss, t->saddr, t->daddr, t->sport, t->dport)
                     : mpnet_rss_ip6(rss, t->saddr, t->daddr);
}

/* The interface as a reader may see it (published with release). */
static const struct mpnet_iface *rx_iface(const struct mpnet_stack *s, int ifindex)
{
        if (ifindex < 1 || ifindex > STACK_MAX_IFACES)
                return NULL;
        return __atomic_load_n(&s->ifs[ifindex], __ATOMIC_ACQUIRE);
}

static bool no_workers(const struct mpnet_stack *s)
{
        return atomic_load_explicit(&((struct mpnet_stack *)s)->n_workers, memory_order_acquire) ==
               0;
}

int stack_rx_ctx(const struct mpnet_stack *s, int ifindex, const struct rx_tuple *t)
{
        const struct mpnet_iface *ifp = rx_iface(s, ifindex);
        const struct iface_rx *rx;
        uint16_t q;
        uint8_t c;

        if (ifp == NULL)
                return -ENODEV;
        if (no_workers(s))
                return 0;
        rx = ifp->rx;
        if (rx->n_rxq == 1) /* one queue: no RSS to know */
                q = 0;
        else if (rx->reta == NULL)
                return -ENOENT;
        else
                q = mpnet_rss_queue(rx->reta, rx_tuple_hash(rx->rss, t));
        if (q >= rx->n_rxq)
                return -ENOENT;
        c = atomic_load_explicit(&((struct iface_rx *)rx)->q_ctx[q], memory_order_acquire);
        return c == RXQ_CTX_NONE ? -ENOENT : c;
}

int stack_rx_steer(const struct mpnet_stack *s, int ifindex, unsigned ctx, struct rx_steer *st)
{
        const struct mpnet_iface *ifp = rx_iface(s, ifindex);
        const struct iface_rx *rx;
        uint64_t qm[STEER_QMAX / 64] = {0};
        unsigned n_q;
        bool any = false;

        memset(st, 0, sizeof(*st));
        if (ifp == NULL)
                return -ENODEV;
        if (no_workers(s))
                return ctx == 0 ? 0 : -ESRCH;
        rx = ifp->rx;
        if (rx->reta == NULL)
                return -ENOENT;
        st->rss = rx->rss;
        st->reta_mask = rx->reta->mask;
        /* The queues ctx polls, then the entries that lead there. */
        n_q = rx->n_rxq < STEER_QMAX ? rx->n_rxq : STEER_QMAX;
        for (unsigned q = 0; q < n_q; q++)
                if (atomic_load_explicit(&((struct iface_rx *)rx)->q_ctx[q],
                                         memory_order_acquire) == ctx)
                        qm[q >> 6] |= 1ull << (q & 63);
        for (uint32_t i = 0; i <= st->reta_mask; i++) {
                uint16_t q = mpnet_rss_queue(rx->reta, i);

                if (q < n_q && ((qm[q >> 6] >> (q & 63)) & 1) != 0) {
                        st->hit[i >> 6] |= 1ull << (i & 63);
                        any = true;
                }
        }
        return any ? 0 : -ESRCH;
}
