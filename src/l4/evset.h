/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The event-set engine behind include/mpnet/evset.h: sources (sockets, or
 * anything with a readiness mask) registered in sets (struct mpnet_evset),
 * epoll-shaped. A source is a poll callback returning its current readiness
 * (MPNET_EV_* bits) and an object; its home context calls ev_src_notify()
 * whenever readiness rises.
 *
 * Objects:
 *  - struct ev_src: embedded in the socket. Holds the list of its
 *    registrations (one per set it is in), which notify walks without a lock.
 *  - struct ev_reg: one (set, source) pair: events wanted, user datum, and
 *    the links of the lists it is on.
 *  - struct mpnet_evset: every registration of the set; an "incoming" stack
 *    that notifiers push onto lock-free (Treiber stack, push-only, taken
 *    whole by one exchange, so no ABA); a private ready list (FIFO) the
 *    waiters work on under the set's mutex; an eventfd.
 *
 * Notify (the hot path, any thread, no lock, no syscall unless a waiter must
 * be woken): for each registration of the source whose wanted events meet
 * the rising ones, set its `queued` flag; the notifier that turns it from 0
 * to 1 pushes the registration onto the set's incoming stack (one CAS) and
 * kicks the set. A registration already queued costs one load.
 *
 * Wait (under the set's mutex): take the incoming stack whole, append it to
 * the ready list, then for each entry clear `queued`, ask the source's poll
 * callback and report what it says (after the seq_cst fence: a rise that
 * happens after the clear finds queued 0 and queues the entry again, one
 * that happens before is seen by the poll: no rise is lost). A
 * level-triggered entry that was reported goes back on the tail of the
 * ready list; edge-triggered ones wait for the next rise; oneshot ones are
 * disabled.
 *
 * The eventfd and lost wake-ups. The set's `wake` word holds SIGNALLED (the
 * eventfd has been written since it was last drained), EXPORTED (the
 * application asked for the fd and may be polling it) and the number of
 * threads asleep in ev_set_wait(). A kick (notify's push, or a wait that
 * leaves entries ready) writes the eventfd only when the set is not yet
 * signalled and someone may be looking (exported, or a sleeper): one syscall
 * per not-ready-to-ready transition of the set, none when nobody waits. A
 * wait that ends with nothing ready drains the eventfd, then clears
 * SIGNALLED, then looks at the incoming stack again and kicks if it is no
 * longer empty. A sleeper registers in `wake`, then looks at the set, then
 * sleeps in poll(2) on the eventfd. Each pair (push then load `wake`; store
 * `wake` then load the stack) is seq_cst, so of a notifier and a waiter at
 * least one sees the other: either the waiter finds the entry or the
 * notifier finds the sleeper (or the cleared SIGNALLED) and writes. The
 * eventfd is level, so a write before the poll(2) still wakes it.
 *
 * Source readiness contract: a source must make its new readiness visible
 * with a seq_cst atomic operation (e.g. atomic_fetch_or on its mask) before
 * it calls ev_src_notify(), and its poll callback must read it atomically.
 *
 * Life cycle, deletion against a concurrent notify. Registrations are
 * added to and removed from sources under one process-wide mutex (the
 * control path: ctl, set destroy, source fini), taken before a set's mutex.
 * Notify takes neither: it bumps the source's `busy` counter (seq_cst),
 * walks the list, and drops the counter. A deletion unlinks the registration
 * from the source's list (seq_cst), then waits until `busy` reads 0: a
 * notifier that may still hold the registration has by then left, and later
 * ones cannot reach it. Only then is it freed, or, when it sits on the
 * incoming stack (which cannot lose an element in the middle), marked dead
 * and freed by the next wait or the set's destruction. A source notified by
 * several threads at once could keep `busy` above 0 and delay a deletion; a
 * socket is notified by its home context only.
 *
 * Threads: ev_src_notify(): any thread (in mpnet, the source's home
 * context). ev_set_ctl(), ev_set_wait(), ev_set_fd(): any thread, several at
 * once. ev_set_destroy(): no other thread may use the set. ev_src_fini():
 * once, after the last notify of the source returned.
 */
#ifndef MPNET_L4_EVSET_H
#define MPNET_L4_EVSET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/evset.h"

/* The events a registration may ask for, and its flags. */
#define EV_EVENTS                                                                                  \
        (MPNET_EV_IN | MPNET_EV_PRI | MPNET_EV_OUT | MPNET_EV_ERR | MPNET_EV_HUP | MPNET_EV_RDHUP)
#define EV_FLAGS (MPNET_EV_ET | MPNET_EV_ONESHOT)

struct ev_reg;

struct ev_src {
        uint32_t (*poll)(void *obj); /* the current readiness, MPNET_EV_* bits */
        void *obj;
        struct ev_reg *_Atomic regs; /* changed under the control mutex */
        _Atomic unsigned busy;       /* notifiers inside ev_src_notify() */
};

/** Set up src (no registration yet). */
void ev_src_init(struct ev_src *src, uint32_t (*poll)(void *obj), void *obj);

/** Remove src from every set it is in (as close() does with epoll). Call it
 * once its notifiers are done, before freeing src. */
void ev_src_fini(struct ev_src *src);

/** Readiness of src rose by events (after it was published, see above).
 * Lock-free; a syscall only to wake a waiter or make an exported fd readable. */
void ev_src_notify(struct ev_src *src, uint32_t events);

/** @return whether src is in any set (a notify would do something). */
static inline bool ev_src_watched(const struct ev_src *src)
{
        return atomic_load_explicit(&src->regs, memory_order_relaxed) != NULL;
}

struct mpnet_evset *ev_set_create(void);
void ev_set_destroy(struct mpnet_evset *es);
int ev_set_fd(struct mpnet_evset *es);

/** MPNET_EV_CTL_ADD/_MOD/_DEL of src. @return 0 or a negative errno as
 * mpnet_evset_ctl() documents (-EINVAL for a NULL src). */
int ev_set_ctl(struct mpnet_evset *es, int op, struct ev_src *src, uint32_t events, uint64_t data);

/* The control mutex, for a caller that must keep a source alive while it
 * finds it (evset_sock.c: a socket closing calls ev_src_fini(), which takes
 * it, before it is freed), and ev_set_ctl() with it held. */
void ev_ctl_lock(void);
void ev_ctl_unlock(void);
int ev_set_ctl_locked(struct mpnet_evset *es, int op, struct ev_src *src, uint32_t events,
                      uint64_t data);

/** As mpnet_evset_wait(). */
int ev_set_wait(struct mpnet_evset *es, struct mpnet_event_ready *out, int max, int timeout_ms);

/* The socket layer's: the event source of socket fd of s, or NULL when
 * there is no such socket (src/l4/evset_sock.c). */
struct mpnet_stack;
struct ev_src *sock_ev_src(struct mpnet_stack *s, int fd);

#endif
