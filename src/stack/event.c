/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stack's change notifications (event.h): a ring of EV_RING_SIZE events
 * written and read by the control thread, the oldest dropped when full; and
 * the carrier watch that turns a link's device state into link events.
 */
#include <string.h>

#include "mpnet/event.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

void stack_event(struct mpnet_stack *s, const struct mpnet_event *e)
{
        struct stack_events *q = &s->events;

        if (q->head - q->tail == EV_RING_SIZE) {
                q->tail++;
                q->lost++;
        }
        q->ev[q->head % EV_RING_SIZE] = *e;
        q->ev[q->head % EV_RING_SIZE].time = s->now;
        q->ev[q->head % EV_RING_SIZE].seq = ++q->seq;
        q->head++;
}

void stack_event_iface(struct mpnet_stack *s, enum mpnet_event_type t, int ifindex)
{
        stack_event(s, &(struct mpnet_event){.type = t, .ifindex = ifindex});
}

unsigned mpnet_stack_events(struct mpnet_stack *s, struct mpnet_event *ev, unsigned n)
{
        struct stack_events *q = &s->events;
        unsigned k = 0;

        while (k < n && q->tail != q->head)
                ev[k++] = q->ev[q->tail++ % EV_RING_SIZE];
        return k;
}

uint64_t mpnet_stack_events_lost(const struct mpnet_stack *s)
{
        return s->events.lost;
}

const char *mpnet_event_name(enum mpnet_event_type t)
{
        static const char *const names[] = {
            [MPNET_EV_LINK_DOWN] = "link-down",
            [MPNET_EV_LINK_UP] = "link-up",
            [MPNET_EV_IFACE_DOWN] = "iface-down",
            [MPNET_EV_IFACE_UP] = "iface-up",
            [MPNET_EV_IFACE_DEL] = "iface-del",
            [MPNET_EV_ADDR_ADD] = "addr-add",
            [MPNET_EV_ADDR_DEL] = "addr-del",
            [MPNET_EV_ROUTE_ADD] = "route-add",
            [MPNET_EV_ROUTE_DEL] = "route-del",
            [MPNET_EV_ROUTE_REPLACE] = "route-replace",
            [MPNET_EV_NEIGH_REACHABLE] = "neigh-reachable",
            [MPNET_EV_NEIGH_FAILED] = "neigh-failed",
            [MPNET_EV_NEIGH_DEL] = "neigh-del",
            [MPNET_EV_IFACE_ADD] = "iface-add",
        };

        return (unsigned)t < sizeof(names) / sizeof(*names) && names[t] != NULL ? names[t] : "?";
}

#define REVIVE_EVERY_NS MPNET_NS_PER_S

/* A link without its device: try to open it again, once a second. Only a
 * stack without workers does it, since a reopen must not meet a burst and
 * workers transmit on every link; with workers the application takes the
 * link's queues back and reopens it (docs/LINKS.md). */
static void revive(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        if (atomic_load_explicit(&s->n_workers, memory_order_acquire) != 0 ||
            s->now < ifp->revive_at)
                return;
        ifp->revive_at = s->now + REVIVE_EVERY_NS;
        if (mpnet_link_revive(ifp->link) == 0)
                STK_INC(s, link_revived);
}

/* Once a poll: a link whose carrier changed since the last look makes an
 * event and is counted. The data path does not look: a link without its
 * device drops and counts what it is given. */
void stack_carrier_watch(struct mpnet_stack *s)
{
        for (uint64_t m = s->ifs_attached; m != 0; m &= m - 1) {
                int i = mask_ifindex(m);
                struct mpnet_iface *ifp = s->ifs[i];
                bool up;

                if (!ifp->carrier)
                        revive(s, ifp);
                up = mpnet_link_carrier(ifp->link);
                if (up == ifp->carrier)
                        continue;
                ifp->carrier = up;
                if (up) {
                        STK_INC(s, link_up);
                } else {
                        STK_INC(s, link_down);
                        graph_iface_flush(s, ifp, true);
                }
                stack_event_iface(s, up ? MPNET_EV_LINK_UP : MPNET_EV_LINK_DOWN, i);
        }
}
