/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnet_evset_ctl(): sockets into event sets. The socket layer provides
 * sock_ev_src(), the event source embedded in a socket; its close must call
 * ev_src_fini() on that source before the socket is freed, and must not hold
 * while doing so any lock sock_ev_src() takes (the control mutex is taken
 * before it here). Holding the control mutex from the look-up to the end of
 * the change keeps the socket alive throughout: a close waits in
 * ev_src_fini() and then removes what was added.
 */
#include <errno.h>

#include "l4/evset.h"

int mpnet_evset_ctl(struct mpnet_evset *es, int op, struct mpnet_stack *s, int sockfd,
                    uint32_t events, uint64_t data)
{
        struct ev_src *src;
        int rc;

        if (es == NULL || s == NULL)
                return -EINVAL;
        ev_ctl_lock();
        src = sock_ev_src(s, sockfd);
        rc = src != NULL ? ev_set_ctl_locked(es, op, src, events, data) : -EBADF;
        ev_ctl_unlock();
        return rc;
}
