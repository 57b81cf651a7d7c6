/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <string.h>

#include "mpnet/link.h"

uint64_t mpnet_link_next_event(struct mpnet_link *l, uint64_t now)
{
        return l->ops->next_event ? l->ops->next_event(l, now) : MPNET_TIME_NEVER;
}

void mpnet_link_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        memset(st, 0, sizeof(*st));
        if (l->ops->get_stats)
                l->ops->get_stats(l, st);
}

void mpnet_link_destroy(struct mpnet_link *l)
{
        if (l != NULL)
                l->ops->destroy(l);
}

int mpnet_link_rx_wait_arm(struct mpnet_link *l, uint16_t q)
{
        return l->ops->rx_wait_arm ? l->ops->rx_wait_arm(l, q) : -ENOTSUP;
}

bool mpnet_link_carrier(struct mpnet_link *l)
{
        return l->ops->carrier ? l->ops->carrier(l) : true;
}

int mpnet_link_rss(struct mpnet_link *l, struct mpnet_link_rss *out)
{
        return l->ops->rss ? l->ops->rss(l, out) : -ENOTSUP;
}

int mpnet_link_revive(struct mpnet_link *l)
{
        return l->ops->revive ? l->ops->revive(l) : -ENOTSUP;
}
