/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afxdp: XDP sockets (Documentation/networking/af_xdp.rst) through libxdp.
 *
 * Per queue, one XSK socket bound to the device queue of the same number,
 * with its own UMEM of 2 * ring_size frames: frames 0..ring_size-1 belong to
 * the receive side (in the fill ring, in the kernel, or in the RX ring),
 * frames ring_size..2*ring_size-1 to the transmit side (on our free stack, in
 * the TX ring, in the kernel, or in the completion ring). Each ring holds
 * ring_size entries, yet a reservation can fail while we hold frames: the
 * kernel reads a ring ahead and publishes its consumer index only once it
 * has used up what it read (xskq_cons_peek_*, __xskq_cons_release), so a
 * frame can come back before its slot is seen free. Received frames wait on
 * a stack of their own until the fill ring has room; a transmit burst stops
 * where the TX ring has none. libxdp's xsk_socket__create() loads its default
 * program (redirect to the socket of the frame's rx queue, else XDP_PASS),
 * or joins the one already attached, and xsk_socket__delete() detaches it
 * with the last socket (where bpffs lets it count the sockets; without,
 * destroy detaches it, see queues_close_last()).
 *
 * Synchronisation: per queue one rx thread (RX and fill rings) and one tx
 * thread (TX and completion rings), as the rings have one producer and one
 * consumer each; libxdp's ring helpers order them with acquire/release. Each
 * counter has one writer. The queue state is a relaxed atomic either thread
 * may change.
 * Life cycle: create opens every queue (in the target namespace, from a
 * helper thread); reopen closes and opens them again; destroy closes them
 * in the namespace too, since libxdp detaches the program by ifindex.
 */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "base/stat.h"
#include "link/frame.h"
#include "link/netns.h"
#include "mpnet/afxdp.h"

#define AXQ_STASH       32u
#define AXQ_RX_CHUNK    64u
#define AXQ_CHECK_NS    (10 * 1000000ull) /* device check while idle */
#define ETH_VLAN_EXTRA  18u
#define AXQ_DEF_RING    1024u
#define AXQ_KICK_BATCH  32u  /* frames the kernel sends per copy-mode sendto() */
#define AXQ_BUSY_TRIES  250u /* binds to a queue still held: 5 s in all */
#define AXQ_BUSY_NAP_US 20000u
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* include/uapi/linux/if_xdp.h, Linux 6.17 */
#endif

enum { AQ_OK = 0, AQ_FAILING, AQ_GONE };

struct axq {
        struct xsk_socket *xsk;
        struct xsk_umem *umem;
        uint8_t *area;
        size_t area_len;
        int fd;
        _Atomic int state;
        _Atomic int err;
        /* rx side (one thread) */
        struct xsk_ring_cons rx;
        struct xsk_ring_prod fill;
        uint64_t next_check; /* coarse monotonic time of the next device check */
        unsigned n_stash;
        struct mpnet_pkt *stash[AXQ_STASH];
        uint64_t *fill_pend; /* received frames the fill ring had no room for yet */
        uint32_t n_pend;
        mpnet_stat_t rx_pkts, rx_bytes, rx_nobufs, rx_kicks;
        /* tx side (one thread) */
        struct xsk_ring_prod tx;
        struct xsk_ring_cons comp;
        uint64_t *tx_free; /* stack of free transmit frames (their addresses) */
        uint32_t n_free;
        bool kick_pending;  /* the last kick left frames in the TX ring */
        uint32_t tx_budget; /* frames the kernel sends per copy-mode sendto() */
        mpnet_stat_t tx_pkts, tx_bytes, tx_ring_full, tx_oversize, tx_bad_ol, tx_down, tx_kicks;
        mpnet_stat_t tx_dev_drops; /* frames the device dropped inside sendto() */
        /* XDP_STATISTICS of the sockets closed by reopen */
        mpnet_stat_t old[6];
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct axl {
        struct mpnet_link link;
        struct mpnet_afxdp_cfg cfg; /* copy; strings below */
        char ifname[IFNAMSIZ];
        int nsfd; /* the interface's namespace, or -1: the caller's */
        int ifindex;
        uint32_t ring, frame_size;
        uint32_t max_frame; /* mtu + 18 */
        uint32_t mtu_floor; /* a reopen keeps the MTU the stack has */
        bool mac_set;       /* the link's MAC is fixed (cfg or a previous open) */
        bool native, zerocopy;
        uint32_t prog_id;
        _Atomic int down;
        mpnet_stat_t down_events;
        uint16_t nq;
        struct axq q[];
};

static const struct mpnet_link_ops axl_ops;

/* ---- errors and namespaces ---------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
axl_msg(const struct mpnet_afxdp_cfg *cfg, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (cfg->errbuf != NULL && cfg->errbuf_len > 0) {
                vsnprintf(cfg->errbuf, cfg->errbuf_len, fmt, ap);
        } else {
                fputs("mpnet: ", stderr);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        va_end(ap);
}

/* fn(a), called through the namespace helper's void * interface. */
struct axl_job {
        int (*fn)(struct axl *);
        struct axl *a;
};

static int axl_job_run(void *p)
{
        struct axl_job *j = p;

        return j->fn(j->a);
}

/* Run fn in the link's network namespace (kept open: destroy detaches the
 * program there even after the caller's view of the name has gone). */
static int in_netns(struct axl *a, int (*fn)(struct axl *))
{
        struct link_err e = {.buf = a->cfg.errbuf, .len = a->cfg.errbuf_len, .who = "afxdp"};
        struct axl_job j = {.fn = fn, .a = a};

        return link_in_netns_fd(a->nsfd, axl_job_run, &j, &e);
}

static int ns_open(const char *netns, const struct mpnet_afxdp_cfg *cfg)
{
        struct link_err e = {.buf = cfg->errbuf, .len = cfg->errbuf_len, .who = "afxdp"};

        return link_netns_open(netns, &e);
}

/* ---- opening -------------------------------------------------------------- */

/* Index, MTU and address of the interface (the address only when the
 * configuration gave none). */
static int dev_query(struct axl *a)
{
        struct link_err e = {.buf = a->cfg.errbuf, .len = a->cfg.errbuf_len, .who = "afxdp"};
        struct link_dev d;
        int rc = link_dev_query(a->ifname, &d, &e);

        if (rc != 0)
                return rc;
        a->ifindex = d.ifindex;
        a->link.info.mtu = d.mtu;
        if (!a->mac_set)
                memcpy(a->link.info.mac, d.mac, 6);
        return 0;
}

/* Fold a socket's XDP_STATISTICS into old[] before it closes. */
static void stats_keep(struct axq *aq)
{
        struct xdp_statistics xs;
        socklen_t n = sizeof(xs);

        if (aq->fd < 0 || getsockopt(aq->fd, SOL_XDP, XDP_STATISTICS, &xs, &n) != 0)
                return;
        mpnet_stat_add(&aq->old[0], xs.rx_dropped);
        mpnet_stat_add(&aq->old[1], xs.rx_invalid_descs);
        mpnet_stat_add(&aq->old[2], xs.rx_ring_full);
        mpnet_stat_add(&aq->old[3], xs.rx_fill_ring_empty_descs);
        mpnet_stat_add(&aq->old[4], xs.tx_invalid_descs);
        mpnet_stat_add(&aq->old[5], xs.tx_ring_empty_descs);
}

static void queue_close(struct axq *aq)
{
        stats_keep(aq);
        if (aq->xsk != NULL)
                xsk_socket__delete(aq->xsk);
        if (aq->umem != NULL)
                xsk_umem__delete(aq->umem);
        if (aq->area != NULL)
                munmap(aq->area, aq->area_len);
        free(aq->tx_free);
        free(aq->fill_pend);
        aq->fill_pend = NULL;
        aq->n_pend = 0;
        aq->xsk = NULL;
        aq->umem = NULL;
        aq->area = NULL;
        aq->tx_free = NULL;
        aq->fd = -1;
}

static int queues_close(struct axl *a)
{
        for (uint16_t q = 0; q < a->nq; q++)
                queue_close(&a->q[q]);
        return 0;
}

static const char *err_hint(int e, bool prog, uint16_t bind_flags)
{
        if (e == EOPNOTSUPP && (bind_flags & XDP_ZEROCOPY))
                return " (the driver has no zero-copy AF_XDP)";
        if (e == EPERM)
                return prog ? " (loading and attaching the XDP program needs CAP_NET_ADMIN and "
                              "CAP_BPF, or CAP_SYS_ADMIN)"
                            : " (an AF_XDP socket needs CAP_NET_RAW)";
        if (e == ENOBUFS || e == ENOMEM)
                return " (the UMEM counts against RLIMIT_MEMLOCK: raise it, ulimit -l, or grant "
                       "CAP_IPC_LOCK)";
        return "";
}

static int queue_open(struct axl *a, uint16_t q, uint32_t xdp_flags, uint16_t bind_flags)
{
        struct axq *aq = &a->q[q];
        struct xsk_umem_config uc = {.fill_size = a->ring,
                                     .comp_size = a->ring,
                                     .frame_size = a->frame_size,
                                     .frame_headroom = 0};
        struct xsk_socket_config sc = {.rx_size = a->ring,
                                       .tx_size = a->ring,
                                       .xdp_flags = xdp_flags,
                                       .bind_flags = bind_flags | XDP_USE_NEED_WAKEUP};
        uint32_t idx;
        int rc;

        /* libxdp sets up the rings' pointers but leaves the cached cursors
         * alone: they must start at zero, also on a reopen. */
        memset(&aq->rx, 0, sizeof(aq->rx));
        memset(&aq->fill, 0, sizeof(aq->fill));
        memset(&aq->tx, 0, sizeof(aq->tx));
        memset(&aq->comp, 0, sizeof(aq->comp));
        aq->area_len = (size_t)2 * a->ring * a->frame_size;
        aq->area = mmap(NULL, aq->area_len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        aq->tx_free = malloc(a->ring * sizeof(uint64_t));
        aq->fill_pend = malloc(a->ring * sizeof(uint64_t));
        aq->n_pend = 0;
        if (aq->area == MAP_FAILED || aq->tx_free == NULL || aq->fill_pend == NULL) {
                if (aq->area == MAP_FAILED)
                        aq->area = NULL;
                axl_msg(&a->cfg, "afxdp: UMEM of %zu bytes: out of memory", aq->area_len);
                return -ENOMEM;
        }
        rc = xsk_umem__create(&aq->umem, aq->area, aq->area_len, &aq->fill, &aq->comp, &uc);
        if (rc != 0) {
                aq->umem = NULL;
                axl_msg(&a->cfg, "afxdp: UMEM for %s queue %u: %s%s", a->ifname, q, strerror(-rc),
                        err_hint(-rc, false, 0));
                return rc;
        }
        rc = xsk_socket__create(&aq->xsk, a->ifname, q, aq->umem, &aq->rx, &aq->tx, &sc);
        if (rc != 0) {
                aq->xsk = NULL;
                axl_msg(&a->cfg, "afxdp: XDP socket on %s queue %u (%s, %s): %s%s", a->ifname, q,
                        (xdp_flags & XDP_FLAGS_DRV_MODE) ? "native" : "generic",
                        (bind_flags & XDP_ZEROCOPY) ? "zero-copy" : "copy", strerror(-rc),
                        err_hint(-rc, true, bind_flags));
                return rc;
        }
        aq->fd = xsk_socket__fd(aq->xsk);
        /* Copy mode sends at most 32 frames a sendto() unless told more
         * (XDP_MAX_TX_SKB_BUDGET, af_xdp.rst; [32, TX ring size]): a whole
         * ring a call, so a burst costs one kick, not one per 32 frames.
         * Older kernels refuse the option (ENOPROTOOPT) and keep 32. */
        aq->tx_budget = AXQ_KICK_BATCH;
        if (setsockopt(aq->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &a->ring, sizeof(a->ring)) == 0)
                aq->tx_budget = a->ring;
        /* The receive half of the UMEM goes to the kernel at once. */
        if (xsk_ring_prod__reserve(&aq->fill, a->ring, &idx) != a->ring) {
                axl_msg(&a->cfg, "afxdp: fill ring of %s queue %u smaller than asked", a->ifname,
                        q);
                return -EINVAL;
        }
        for (uint32_t i = 0; i < a->ring; i++)
                *xsk_ring_prod__fill_addr(&aq->fill, idx + i) = (uint64_t)i * a->frame_size;
        xsk_ring_prod__submit(&aq->fill, a->ring);
        for (uint32_t i = 0; i < a->ring; i++)
                aq->tx_free[i] = (uint64_t)(a->ring + i) * a->frame_size;
        aq->n_free = a->ring;
        aq->kick_pending = false;
        aq->next_check = 0;
        return 0;
}

/* Errors after which another mode or bind may still work. */
static bool try_next(int rc)
{
        return rc != -EPERM && rc != -ENOMEM && rc != -ENOBUFS && rc != -ENODEV && rc != -ENXIO;
}

static int open_queues(struct axl *a, uint32_t xdp_flags, uint16_t bind_flags)
{
        for (uint16_t q = 0; q < a->nq; q++) {
                int rc = queue_open(a, q, xdp_flags, bind_flags);

                if (rc != 0) {
                        queues_close(a);
                        return rc;
                }
        }
        a->native = (xdp_flags & XDP_FLAGS_DRV_MODE) != 0;
        a->zerocopy = (bind_flags & XDP_ZEROCOPY) != 0;
        if (bpf_xdp_query_id(a->ifindex, (int)xdp_flags, &a->prog_id) != 0)
                a->prog_id = 0;
        return 0;
}

/*
 * open_queues(), again while a queue is busy. A closed XDP socket lets go of
 * its device queue only once the kernel's deferred release has run
 * (xp_put_pool() schedules xp_release_deferred()); until then a bind to the
 * queue fails with EBUSY. A daemon restarted at once, or a link reopened,
 * meets its own predecessor there: wait for it, on a busy machine too,
 * rather than fall back to another mode beside the program it left.
 */
static int open_busy(struct axl *a, uint32_t xdp_flags, uint16_t bind_flags)
{
        int rc;

        for (unsigned i = 0;; i++) {
                rc = open_queues(a, xdp_flags, bind_flags);
                if (rc != -EBUSY || i >= AXQ_BUSY_TRIES)
                        return rc;
                usleep(AXQ_BUSY_NAP_US);
        }
}

/* Runs in the interface's namespace: native before generic, zero-copy
 * before copy, as the configuration allows. Zero-copy needs the driver to
 * run the program (af_xdp.rst, "XDP_COPY and XDP_ZEROCOPY bind flags"), so
 * generic mode binds in copy mode unless zero-copy is insisted on. */
static int axl_open_all(struct axl *a)
{
        static const uint32_t modes[] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
        static const uint16_t binds[] = {XDP_ZEROCOPY, XDP_COPY};
        int rc = dev_query(a);

        if (rc != 0)
                return rc;
        if (a->link.info.mtu < a->mtu_floor)
                a->link.info.mtu = a->mtu_floor;
        a->max_frame = a->link.info.mtu + ETH_VLAN_EXTRA;
        /* In aligned mode the kernel puts a received frame XDP_PACKET_HEADROOM
         * into its chunk (af_xdp.rst, "UMEM"); chunks are 2 or 4 KiB. */
        a->frame_size = a->max_frame + XDP_PACKET_HEADROOM <= 2048 ? 2048 : 4096;
        if (a->link.info.mtu < 68 || a->max_frame + XDP_PACKET_HEADROOM > 4096) {
                axl_msg(&a->cfg, "afxdp: MTU %u of %s out of range (at most %u)", a->link.info.mtu,
                        a->ifname, 4096 - XDP_PACKET_HEADROOM - ETH_VLAN_EXTRA);
                return -EINVAL;
        }
        rc = -EOPNOTSUPP;
        for (unsigned m = 0; m < 2; m++) {
                if ((a->cfg.mode == MPNET_AFXDP_MODE_NATIVE && m != 0) ||
                    (a->cfg.mode == MPNET_AFXDP_MODE_GENERIC && m != 1))
                        continue;
                for (unsigned b = 0; b < 2; b++) {
                        if ((a->cfg.bind == MPNET_AFXDP_BIND_ZEROCOPY && b != 0) ||
                            (a->cfg.bind == MPNET_AFXDP_BIND_COPY && b != 1) ||
                            (a->cfg.bind == MPNET_AFXDP_BIND_AUTO && m == 1 && b == 0))
                                continue;
                        rc = open_busy(a, modes[m], binds[b]);
                        if (rc == 0 || !try_next(rc))
                                return rc;
                }
        }
        return rc;
}

/* ---- state --------------------------------------------------------------- */

static void queue_fail(struct axl *a, struct axq *aq, int e, bool gone)
{
        atomic_store_explicit(&aq->err, e, memory_order_relaxed);
        atomic_store_explicit(&aq->state, gone ? AQ_GONE : AQ_FAILING, memory_order_relaxed);
        if (atomic_exchange_explicit(&a->down, 1, memory_order_relaxed) == 0)
                atomic_fetch_add_explicit(&a->down_events, 1, memory_order_relaxed);
}

static void queue_ok(struct axl *a, struct axq *aq)
{
        atomic_store_explicit(&aq->state, AQ_OK, memory_order_relaxed);
        for (uint16_t q = 0; q < a->nq; q++)
                if (atomic_load_explicit(&a->q[q].state, memory_order_relaxed) != AQ_OK)
                        return;
        atomic_store_explicit(&a->down, 0, memory_order_relaxed);
}

/*
 * Sort the result of a wakeup. The kernel checks the socket first: ENXIO
 * once the device was unregistered (the socket is unbound then), ENETDOWN
 * while it is down. @return true when the device is there and up.
 */
static bool wake_result(struct axl *a, struct axq *aq, ssize_t r)
{
        if (r >= 0 || errno == EAGAIN || errno == EBUSY || errno == ENOBUFS) {
                if (atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_FAILING)
                        queue_ok(a, aq);
                return true;
        }
        queue_fail(a, aq, errno, errno == ENXIO || errno == ENODEV);
        return false;
}

/* An empty recvfrom() is the receive wakeup (af_xdp.rst,
 * "XDP_USE_NEED_WAKEUP bind flag"), and it reports the device's state. */
static void rx_kick(struct axl *a, struct axq *aq)
{
        ssize_t r;

        do
                r = recvfrom(aq->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
        while (r < 0 && errno == EINTR);
        wake_result(a, aq, r);
}

static uint64_t coarse_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- receive -------------------------------------------------------------- */

static struct mpnet_pkt *rx_copy(struct axl *a, struct axq *aq, const uint8_t *f, uint32_t len)
{
        struct mpnet_pkt *p;

        if (len > MPNET_PKT_DATA_SIZE)
                return mpnet_pkt_from_bytes(a->cfg.pool, f, len);
        if (aq->n_stash == 0)
                aq->n_stash = mpnet_pkt_alloc_bulk(a->cfg.pool, aq->stash, AXQ_STASH);
        if (aq->n_stash == 0)
                return NULL;
        p = aq->stash[--aq->n_stash];
        memcpy(p->data, f, len);
        p->len = p->pkt_len = len;
        return p;
}

/* Hand the received frames back to the kernel, as many as the fill ring
 * has room for (see the top of the file); the rest wait for the next burst. */
static void fill_flush(struct axq *aq)
{
        uint32_t m = aq->n_pend, fidx = 0, room;

        if (m == 0)
                return;
        room = xsk_prod_nb_free(&aq->fill, m);
        if (room < m)
                m = room;
        if (m == 0 || xsk_ring_prod__reserve(&aq->fill, m, &fidx) != m)
                return;
        aq->n_pend -= m;
        for (uint32_t i = 0; i < m; i++)
                *xsk_ring_prod__fill_addr(&aq->fill, fidx + i) = aq->fill_pend[aq->n_pend + i];
        xsk_ring_prod__submit(&aq->fill, m);
}

static uint16_t axl_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct axl *a = (struct axl *)l;
        uint64_t bytes = 0, chunk_mask = ~(uint64_t)(a->frame_size - 1);
        struct axq *aq;
        uint16_t got = 0;

        if (q >= a->nq || a->q[q].xsk == NULL)
                return 0;
        aq = &a->q[q];
        if (atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_GONE)
                return 0;
        while (got < n) {
                uint32_t want = (uint32_t)(n - got), idx, k;

                if (want > AXQ_RX_CHUNK)
                        want = AXQ_RX_CHUNK;

                k = xsk_ring_cons__peek(&aq->rx, want, &idx);
                if (k == 0)
                        break;
                for (uint32_t i = 0; i < k; i++) {
                        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&aq->rx, idx + i);
                        struct mpnet_pkt *p =
                            rx_copy(a, aq, xsk_umem__get_data(aq->area, d->addr), d->len);

                        if (p == NULL) {
                                mpnet_stat_add(&aq->rx_nobufs, 1);
                        } else {
                                bytes += d->len;
                                pkts[got++] = p;
                        }
                        aq->fill_pend[aq->n_pend++] = d->addr & chunk_mask;
                }
                xsk_ring_cons__release(&aq->rx, k);
                fill_flush(aq);
        }
        fill_flush(aq);
        if (xsk_ring_prod__needs_wakeup(&aq->fill)) {
                mpnet_stat_add(&aq->rx_kicks, 1);
                rx_kick(a, aq);
        }
        if (got > 0) {
                mpnet_stat_add(&aq->rx_pkts, got);
                mpnet_stat_add(&aq->rx_bytes, bytes);
                if (atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_FAILING)
                        queue_ok(a, aq);
        } else {
                /* Idle: look for a device that went down or away, at most
                 * every 10 ms. */
                uint64_t now = coarse_ns();

                if (now >= aq->next_check) {
                        aq->next_check = now + AXQ_CHECK_NS;
                        rx_kick(a, aq);
                }
        }
        return got;
}

/* ---- transmit ------------------------------------------------------------- */

static void tx_reap(struct axq *aq)
{
        uint32_t idx, k = xsk_ring_cons__peek(&aq->comp, UINT32_MAX, &idx);

        for (uint32_t i = 0; i < k; i++)
                aq->tx_free[aq->n_free++] = *xsk_ring_cons__comp_addr(&aq->comp, idx + i);
        xsk_ring_cons__release(&aq->comp, k);
}

/*
 * In copy mode the kernel sends from the TX ring only inside sendto(), at
 * most tx_budget frames a call, and says EAGAIN while more are left
 * (xsk_generic_xmit); in zero-copy mode the driver sends on its own unless
 * the TX ring asks for a wakeup (af_xdp.rst, "XDP_USE_NEED_WAKEUP bind
 * flag"). EBUSY: the device dropped the frame it was given (NET_XMIT_DROP:
 * a veth whose peer's backlog or XDP ring is full), the kernel completed it
 * unsent and stopped; the frames after it are still in the ring, so the kick
 * goes on. Frames the kernel did not take yet stay in the ring for the next
 * kick; while the device is down they wait there.
 */
static void tx_kick(struct axl *a, struct axq *aq)
{
        /* Enough calls for every frame not completed yet (queued now or left
         * by an earlier kick): a backlog drains at once, not a budget's
         * worth a burst. Each EAGAIN means the kernel sent tx_budget frames. */
        uint32_t tries = (a->ring - aq->n_free) / aq->tx_budget + 1;
        ssize_t r;

        if (a->zerocopy && !xsk_ring_prod__needs_wakeup(&aq->tx)) {
                aq->kick_pending = false;
                return;
        }
        for (;;) {
                do
                        r = sendto(aq->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
                while (r < 0 && errno == EINTR);
                mpnet_stat_add(&aq->tx_kicks, 1);
                if (r < 0 && errno == EBUSY)
                        mpnet_stat_add(&aq->tx_dev_drops, 1);
                else if (!(r < 0 && errno == EAGAIN))
                        break;
                if (--tries == 0)
                        break;
        }
        aq->kick_pending = r < 0;
        wake_result(a, aq, r);
}

static uint16_t axl_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct axl *a = (struct axl *)l;
        struct axq *aq;
        uint32_t queued = 0;
        uint64_t bytes = 0;
        uint16_t i;

        if (q >= a->nq)
                return 0;
        aq = &a->q[q];
        if (aq->xsk == NULL || atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_GONE) {
                mpnet_stat_add(&aq->tx_down, n);
                mpnet_pkt_free_bulk(pkts, n);
                return n;
        }
        tx_reap(aq);
        for (i = 0; i < n; i++) {
                struct mpnet_pkt *p = pkts[i];
                uint32_t len = p->pkt_len + ((p->ol_flags & MPNET_PKT_F_VLAN) ? 4u : 0u), idx = 0;
                uint64_t addr;
                uint8_t *d;

                if (aq->n_free == 0) {
                        mpnet_stat_add(&aq->tx_ring_full, 1);
                        break;
                }
                addr = aq->tx_free[aq->n_free - 1];
                d = xsk_umem__get_data(aq->area, addr);
                if (len > a->max_frame || len > a->frame_size) {
                        mpnet_stat_add(&aq->tx_oversize, 1);
                } else if ((p->ol_flags & MPNET_PKT_F_TSO) ||
                           link_frame_csum(d, link_frame_copy(d, p), p->ol_flags) != 0) {
                        mpnet_stat_add(&aq->tx_bad_ol, 1);
                } else if (xsk_ring_prod__reserve(&aq->tx, 1, &idx) != 1) {
                        /* The kernel has not published the slots of the
                         * frames it took yet: the burst ends here. */
                        mpnet_stat_add(&aq->tx_ring_full, 1);
                        break;
                } else {
                        *xsk_ring_prod__tx_desc(&aq->tx, idx) =
                            (struct xdp_desc){.addr = addr, .len = len};
                        aq->n_free--;
                        queued++;
                        bytes += len;
                }
                mpnet_pkt_free(p);
        }
        if (queued > 0) {
                xsk_ring_prod__submit(&aq->tx, queued);
                mpnet_stat_add(&aq->tx_pkts, queued);
                mpnet_stat_add(&aq->tx_bytes, bytes);
        }
        if (queued > 0 || aq->kick_pending)
                tx_kick(a, aq);
        return i;
}

/* ---- stats, life cycle ------------------------------------------------------ */

static void xdp_stats(struct axq *aq, uint64_t v[6])
{
        struct xdp_statistics xs;
        socklen_t n = sizeof(xs);

        for (int k = 0; k < 6; k++)
                v[k] = mpnet_stat_read(&aq->old[k]);
        if (aq->fd < 0 || getsockopt(aq->fd, SOL_XDP, XDP_STATISTICS, &xs, &n) != 0)
                return;
        v[0] += xs.rx_dropped;
        v[1] += xs.rx_invalid_descs;
        v[2] += xs.rx_ring_full;
        v[3] += xs.rx_fill_ring_empty_descs;
        v[4] += xs.tx_invalid_descs;
        v[5] += xs.tx_ring_empty_descs;
}

static void axl_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct axl *a = (struct axl *)l;

        for (uint16_t q = 0; q < a->nq; q++) {
                struct axq *aq = &a->q[q];
                uint64_t v[6];

                xdp_stats(aq, v);
                st->rx_pkts += mpnet_stat_read(&aq->rx_pkts);
                st->rx_bytes += mpnet_stat_read(&aq->rx_bytes);
                st->rx_drops += v[0] + v[1] + v[2] + mpnet_stat_read(&aq->rx_nobufs);
                st->tx_pkts += mpnet_stat_read(&aq->tx_pkts);
                st->tx_bytes += mpnet_stat_read(&aq->tx_bytes);
                st->tx_drops += v[4] + mpnet_stat_read(&aq->tx_oversize) +
                                mpnet_stat_read(&aq->tx_bad_ol) + mpnet_stat_read(&aq->tx_down) +
                                mpnet_stat_read(&aq->tx_dev_drops);
        }
}

int mpnet_afxdp_get_stats(struct mpnet_link *l, struct mpnet_afxdp_stats *st)
{
        struct axl *a = (struct axl *)l;

        if (l == NULL || l->ops != &axl_ops)
                return -EINVAL;
        memset(st, 0, sizeof(*st));
        st->up = true;
        for (uint16_t q = 0; q < a->nq; q++) {
                struct axq *aq = &a->q[q];
                int s = atomic_load_explicit(&aq->state, memory_order_relaxed);
                uint64_t v[6];

                xdp_stats(aq, v);
                st->rx_dropped += v[0];
                st->rx_invalid_descs += v[1];
                st->rx_ring_full += v[2];
                st->fill_ring_empty += v[3];
                st->tx_invalid_descs += v[4];
                st->tx_ring_empty += v[5];
                st->rx_nobufs += mpnet_stat_read(&aq->rx_nobufs);
                st->rx_kicks += mpnet_stat_read(&aq->rx_kicks);
                st->tx_ring_full += mpnet_stat_read(&aq->tx_ring_full);
                st->tx_oversize += mpnet_stat_read(&aq->tx_oversize);
                st->tx_bad_ol += mpnet_stat_read(&aq->tx_bad_ol);
                st->tx_down += mpnet_stat_read(&aq->tx_down);
                st->tx_kicks += mpnet_stat_read(&aq->tx_kicks);
                st->tx_dev_drops += mpnet_stat_read(&aq->tx_dev_drops);
                if (s != AQ_OK || aq->xsk == NULL) {
                        st->up = false;
                        st->last_errno = atomic_load_explicit(&aq->err, memory_order_relaxed);
                }
                st->gone |= s == AQ_GONE;
        }
        st->down_events = mpnet_stat_read(&a->down_events);
        st->native = a->native;
        st->zerocopy = a->zerocopy;
        st->ifindex = (uint32_t)a->ifindex;
        st->prog_id = a->prog_id;
        st->tx_budget = a->q[0].tx_budget;
        return 0;
}

int mpnet_afxdp_fd(struct mpnet_link *l, uint16_t q)
{
        struct axl *a = (struct axl *)l;

        if (l == NULL || l->ops != &axl_ops || q >= a->nq)
                return -EINVAL;
        return a->q[q].fd;
}

/* libxdp's own program when there is no bpffs to keep its users' count
 * in (no dispatcher): then nothing detaches it once its sockets are gone,
 * also when the process that loaded it was killed and a new one joined it. */
static bool prog_is_xsk_default(uint32_t id)
{
        struct bpf_prog_info info;
        uint32_t len = sizeof(info);
        int fd = bpf_prog_get_fd_by_id(id);
        bool yes;

        if (fd < 0)
                return false;
        memset(&info, 0, sizeof(info));
        yes =
            bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, "xsk_def_prog") == 0;
        close(fd);
        return yes;
}

/* Last close: the sockets go, and the program we ran on if it is still
 * there as libxdp's undispatched default (above). One AF_XDP user per
 * device is assumed: mpnetd's SIGTERM removes the XDP programs it used. */
static int queues_close_last(struct axl *a)
{
        uint32_t flags = a->native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE, id = 0;

        queues_close(a);
        if (a->prog_id != 0 && bpf_xdp_query_id(a->ifindex, (int)flags, &id) == 0 &&
            id == a->prog_id && prog_is_xsk_default(id))
                (void)bpf_xdp_detach(a->ifindex, flags, NULL);
        return 0;
}

static void axl_free(struct axl *a)
{
        in_netns(a, queues_close_last);
        for (uint16_t q = 0; q < a->nq; q++)
                mpnet_pkt_free_bulk(a->q[q].stash, a->q[q].n_stash);
        if (a->nsfd >= 0)
                close(a->nsfd);
        free(a);
}

static void axl_destroy(struct mpnet_link *l)
{
        axl_free((struct axl *)l);
}

/* The socket polls readable once the RX ring holds a frame; poll() also
 * does the wakeups the rings ask for (xsk_poll). */
static int axl_rx_wait_arm(struct mpnet_link *l, uint16_t q)
{
        struct axl *a = (struct axl *)l;
        struct axq *aq;

        if (q >= a->nq)
                return -EINVAL;
        aq = &a->q[q];
        if (aq->xsk == NULL || atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_GONE)
                return -ENOTSUP; /* the timed nap keeps looking for it */
        if (xsk_cons_nb_avail(&aq->rx, 1) > 0)
                return -EAGAIN;
        return aq->fd;
}

/* Up while every queue is. */
static bool axl_carrier(struct mpnet_link *l)
{
        struct axl *a = (struct axl *)l;

        for (uint16_t q = 0; q < a->nq; q++)
                if (atomic_load_explicit(&a->q[q].state, memory_order_relaxed) != AQ_OK)
                        return false;
        return true;
}

/* The stack's revive: once the device has gone (not merely down), reopen
 * it, the reason kept off stderr (the stack retries). */
static int axl_revive(struct mpnet_link *l)
{
        struct axl *a = (struct axl *)l;
        bool gone = false;
        char err[256];

        for (uint16_t q = 0; q < a->nq; q++)
                gone |= atomic_load_explicit(&a->q[q].state, memory_order_relaxed) == AQ_GONE;
        return gone ? mpnet_afxdp_reopen(l, err, sizeof(err)) : -EAGAIN;
}

static const struct mpnet_link_ops axl_ops = {
    .rx_burst = axl_rx_burst,
    .tx_burst = axl_tx_burst,
    .get_stats = axl_get_stats,
    .destroy = axl_destroy,
    .rx_wait_arm = axl_rx_wait_arm,
    .carrier = axl_carrier,
    .revive = axl_revive,
};

int mpnet_afxdp_reopen(struct mpnet_link *l, char *errbuf, size_t errbuf_len)
{
        struct axl *a = (struct axl *)l;
        uint32_t mtu;
        int rc;

        if (l == NULL || l->ops != &axl_ops)
                return -EINVAL;
        in_netns(a, queues_close);
        mtu = a->link.info.mtu;
        a->mtu_floor = mtu;
        a->cfg.errbuf = errbuf;
        a->cfg.errbuf_len = errbuf_len;
        rc = in_netns(a, axl_open_all);
        a->cfg.errbuf = NULL;
        /* The stack copied the MTU when it attached the link. */
        a->link.info.mtu = mtu;
        a->max_frame = mtu + ETH_VLAN_EXTRA;
        if (rc != 0)
                return rc;
        for (uint16_t q = 0; q < a->nq; q++) {
                atomic_store(&a->q[q].err, 0);
                atomic_store(&a->q[q].state, AQ_OK);
        }
        atomic_store(&a->down, 0);
        return 0;
}

static bool pow2(uint32_t v)
{
        return v != 0 && (v & (v - 1)) == 0;
}

static int cfg_check(const struct mpnet_afxdp_cfg *c)
{
        if (c->ifname == NULL || *c->ifname == '\0' || strlen(c->ifname) >= IFNAMSIZ ||
            c->pool == NULL || c->n_queues > MPNET_AFXDP_MAX_QUEUES || (c->mac[0] & 1))
                return -EINVAL;
        if ((unsigned)c->mode > MPNET_AFXDP_MODE_GENERIC ||
            (unsigned)c->bind > MPNET_AFXDP_BIND_COPY)
                return -EINVAL;
        if (c->ring_size != 0 && (!pow2(c->ring_size) || c->ring_size < 64 || c->ring_size > 16384))
                return -EINVAL;
        return 0;
}

static int mac_is_zero(const uint8_t *m)
{
        return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

struct mpnet_link *mpnet_afxdp_create(const struct mpnet_afxdp_cfg *cfg)
{
        size_t size;
        struct axl *a;
        uint16_t nq;
        int rc;

        if (cfg == NULL || cfg_check(cfg) != 0) {
                if (cfg != NULL)
                        axl_msg(cfg, "afxdp: invalid configuration");
                errno = EINVAL;
                return NULL;
        }
        nq = cfg->n_queues ? cfg->n_queues : 1;
        size = sizeof(*a) + nq * sizeof(struct axq);
        if (posix_memalign((void **)&a, MPNET_CACHE_LINE, size) != 0) {
                errno = ENOMEM;
                return NULL;
        }
        memset(a, 0, size);
        a->nq = nq;
        a->cfg = *cfg;
        a->cfg.ifname = a->cfg.netns = NULL;
        a->nsfd = -1;
        for (uint16_t q = 0; q < nq; q++)
                a->q[q].fd = -1;
        snprintf(a->ifname, sizeof(a->ifname), "%s", cfg->ifname);
        a->ring = cfg->ring_size ? cfg->ring_size : AXQ_DEF_RING;
        if (!mac_is_zero(cfg->mac)) {
                memcpy(a->link.info.mac, cfg->mac, 6);
                a->mac_set = true;
        }
        a->link.ops = &axl_ops;
        a->link.info.n_rxq = a->link.info.n_txq = nq;
        a->link.info.offloads = MPNET_LINK_OFF_VLAN;
        snprintf(a->link.info.kind, sizeof(a->link.info.kind), "afxdp");
        snprintf(a->link.name, sizeof(a->link.name), "%s", a->ifname);

        rc = 0;
        if (cfg->netns != NULL && (a->nsfd = ns_open(cfg->netns, cfg)) < 0)
                rc = a->nsfd;
        if (rc == 0)
                rc = in_netns(a, axl_open_all);
        a->cfg.errbuf = NULL; /* the caller's buffer need not outlive the call */
        if (rc != 0) {
                axl_free(a);
                errno = -rc;
                return NULL;
        }
        a->mac_set = true; /* a reopen keeps the address the stack has */
        return &a->link;
}
