/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file evset.h
 * Event sets: readiness of mpnet sockets, the shape of epoll(7).
 *
 * An event set holds sockets, each with the events it wants (MPNET_EV_IN,
 * MPNET_EV_OUT, ...) and a 64-bit datum of the application's;
 * mpnet_evset_wait() returns the ready ones. Level-triggered by default (a
 * socket is reported on every wait while it is ready), edge-triggered with
 * MPNET_EV_ET (once each time its readiness rises), and MPNET_EV_ONESHOT
 * disables a socket after one report until it is modified. MPNET_EV_ERR and
 * MPNET_EV_HUP are reported whether asked for or not. A socket may be in
 * several sets; closing it removes it from every one.
 *
 * One file descriptor per set (mpnet_evset_fd()) is readable while the set
 * has a ready entry, so an application puts it in its own epoll or poll loop
 * and calls mpnet_evset_wait() with timeout 0 when it fires. It may stay
 * readable after the entry stops being ready (a socket drained by a read)
 * until the next mpnet_evset_wait() looks. Poll it; never read it.
 *
 * Threads: a set may be used from any application thread, and from several
 * at once: ctl, wait and fd are safe against each other; two threads waiting
 * on one set each get different entries (a rise wakes at least one of them).
 * Readiness comes from the sockets' owning workers without a lock. Destroy a
 * set only when no other thread uses it. docs/MP-SAFETY.md has the design.
 */
#ifndef MPNET_EVSET_H
#define MPNET_EVSET_H

#include <stdint.h>

#include "mpnet/export.h"

struct mpnet_stack;
struct mpnet_evset;

/* Events: the values of <sys/epoll.h>'s EPOLLIN etc. */
#define MPNET_EV_IN      0x001u     /* EPOLLIN: readable */
#define MPNET_EV_PRI     0x002u     /* EPOLLPRI */
#define MPNET_EV_OUT     0x004u     /* EPOLLOUT: writable */
#define MPNET_EV_ERR     0x008u     /* EPOLLERR: an error is pending (always reported) */
#define MPNET_EV_HUP     0x010u     /* EPOLLHUP: hung up (always reported) */
#define MPNET_EV_RDHUP   0x2000u    /* EPOLLRDHUP: the peer shut down its sending side */
#define MPNET_EV_ONESHOT (1u << 30) /* EPOLLONESHOT: disabled after one report */
#define MPNET_EV_ET      (1u << 31) /* EPOLLET: edge-triggered */

/* mpnet_evset_ctl() operations: EPOLL_CTL_ADD, _DEL and _MOD. */
#define MPNET_EV_CTL_ADD 1
#define MPNET_EV_CTL_DEL 2
#define MPNET_EV_CTL_MOD 3

/** One ready entry: the events that hold and the datum given to ctl. */
struct mpnet_event_ready {
        uint32_t events;
        uint64_t data;
};

/** @return a new, empty set, or NULL with errno set (ENOMEM, or eventfd()'s
 * EMFILE/ENFILE). */
MPNET_API struct mpnet_evset *mpnet_evset_create(void);

/** Remove every socket and free the set, closing its descriptor. NULL is
 * ignored. No other thread may be using the set. */
MPNET_API void mpnet_evset_destroy(struct mpnet_evset *es);

/** @return the set's file descriptor (the same one each time): readable
 * while something is ready. The set owns it: do not read or close it. */
MPNET_API int mpnet_evset_fd(struct mpnet_evset *es);

/**
 * Add (MPNET_EV_CTL_ADD), change (_MOD) or remove (_DEL) socket sockfd of
 * stack s in the set, with the events wanted (MPNET_EV_* events, optionally
 * with MPNET_EV_ET and MPNET_EV_ONESHOT) and the datum a report carries.
 * Events and data are ignored by _DEL. _ADD and _MOD report at once a socket
 * that is already ready (as epoll does). The stack's control thread, as
 * every socket call (mpnet/socket.h); closing a socket takes it out of
 * every set.
 * @return 0, -EINVAL (NULL set or stack, unknown op, unknown event bits),
 * -EBADF (no such socket), -EEXIST (_ADD of a socket already in the set),
 * -ENOENT (_MOD or _DEL of one that is not), -ENOMEM.
 */
MPNET_API int mpnet_evset_ctl(struct mpnet_evset *es, int op, struct mpnet_stack *s, int sockfd,
                              uint32_t events, uint64_t data);

/**
 * Wait until something is ready and return up to max ready entries.
 * @param timeout_ms -1 waits as long as it takes, 0 does not wait, n > 0
 *        waits at most n ms.
 * @return how many entries were filled in (0 after the timeout), or -EINVAL
 *         (NULL set or out, max < 1).
 */
MPNET_API int mpnet_evset_wait(struct mpnet_evset *es, struct mpnet_event_ready *out, int max,
                               int timeout_ms);

#endif
