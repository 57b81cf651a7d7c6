/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file afxdp.h
 * The AF_XDP back end: mpnet takes over receive queues of a kernel Ethernet
 * interface (a veth end, a NIC) through XDP sockets
 * (Documentation/networking/af_xdp.rst), with libxdp and libbpf.
 *
 * Built only where libxdp and libbpf were found (MPNET_HAVE_AFXDP is then
 * defined for the library and its users).
 *
 * - One XSK socket per queue: queue q of the link is the device's queue q.
 *   Each socket has its own UMEM (page-aligned, frames of 2 KiB, 4 KiB for
 *   an MTU above 1500): half the frames feed the fill ring, half are for
 *   transmit. libxdp's default XDP program redirects each device queue that
 *   has a socket to it (the others go to the kernel stack as before); it is
 *   attached with the first socket and detached with the last, in destroy.
 * - XDP mode: native (the driver runs the program, XDP_FLAGS_DRV_MODE) or
 *   generic (the kernel runs it on the skb, XDP_FLAGS_SKB_MODE), or native
 *   with a fallback to generic. Bind: zero-copy (XDP_ZEROCOPY, the driver
 *   DMAs into the UMEM) or copy, or zero-copy with a fallback to copy.
 *   need_wakeup (XDP_USE_NEED_WAKEUP) is asked for.
 * - Frames are copied between the UMEM and pool buffers: a received frame's
 *   UMEM frame goes straight back to the fill ring, and a packet handed to
 *   tx_burst is freed at once. (Pool buffers cannot be UMEM frames: the pool
 *   is shared by every link and each UMEM is registered for one socket, and
 *   packets the stack holds would starve the fill ring.)
 * - Transmit: frames are copied into free UMEM frames, with the checksums
 *   (MPNET_PKT_F_L3_CSUM_TX, MPNET_PKT_F_L4_CSUM_TX) and the 802.1Q tag
 *   (MPNET_PKT_F_VLAN) done in software on the copy; MPNET_PKT_F_TSO is
 *   refused (dropped and counted). The completion ring is reaped at each
 *   tx_burst. In copy mode every burst is kicked with sendto(); in
 *   zero-copy mode only when the TX ring says it needs a wakeup.
 * - No promiscuous mode and no checksum or VLAN metadata on receive (XDP
 *   sees the frame as it came, tag included).
 * - A device that vanishes (deleted, or its veth peer's namespace deleted)
 *   marks the link down and counts it; bursts then return 0 and never fail.
 *   mpnet_afxdp_reopen() opens it again by name.
 *
 * Privileges: CAP_NET_RAW (the XDP socket), CAP_NET_ADMIN and CAP_BPF (or
 * CAP_SYS_ADMIN) to load and attach the XDP program, CAP_SYS_ADMIN to enter
 * a namespace; the UMEM is charged to RLIMIT_MEMLOCK without CAP_IPC_LOCK.
 *
 * Threads: the link contract (link.h): one thread per queue for rx and one
 * for tx. Create, reopen and destroy run in a short-lived helper thread in
 * the interface's namespace when one is named, so the caller's namespace
 * never changes; reopen must not run while another thread is inside a burst
 * on the link. Stats are readable from any thread.
 */
#ifndef MPNET_AFXDP_H
#define MPNET_AFXDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"

#define MPNET_AFXDP_MAX_QUEUES 16

/** Where the XDP program runs. */
enum mpnet_afxdp_mode {
        MPNET_AFXDP_MODE_AUTO = 0, /**< native, else generic */
        MPNET_AFXDP_MODE_NATIVE,   /**< in the driver (XDP_FLAGS_DRV_MODE) */
        MPNET_AFXDP_MODE_GENERIC,  /**< on the skb (XDP_FLAGS_SKB_MODE) */
};

/** How the socket binds. */
enum mpnet_afxdp_bind {
        MPNET_AFXDP_BIND_AUTO = 0, /**< zero-copy, else copy */
        MPNET_AFXDP_BIND_ZEROCOPY, /**< XDP_ZEROCOPY or fail */
        MPNET_AFXDP_BIND_COPY,     /**< XDP_COPY */
};

struct mpnet_afxdp_cfg {
        const char *ifname; /**< required: the interface */
        /** Network namespace of the interface: a name under /var/run/netns,
         * or a path (containing '/'). NULL: the caller's. */
        const char *netns;
        struct mpnet_pool *pool; /**< required: receive buffers */
        uint16_t n_queues;       /**< 0 or 1: device queue 0; up to MPNET_AFXDP_MAX_QUEUES */
        enum mpnet_afxdp_mode mode;
        enum mpnet_afxdp_bind bind;
        /** Entries of each of the four rings per queue, a power of two from
         * 64 to 16384 (default 1024); the UMEM has twice as many frames. */
        uint32_t ring_size;
        /** mpnet's station address; all zero: the interface's own. */
        uint8_t mac[6];
        /** Where a one-line reason for a failure of create goes
         * (NUL-terminated; used during the call only); NULL: stderr. */
        char *errbuf;
        size_t errbuf_len;
};

/**
 * Create an AF_XDP link on an existing interface. MTU and MAC are the
 * interface's (the MAC may be overridden). The interface is not brought up.
 * @return the link (kind "afxdp", name = the interface name), or NULL with
 * errno: EINVAL (bad cfg, or an MTU a UMEM frame cannot hold), ENOENT (no
 * such namespace), ENODEV (no such interface), EPERM (a missing capability:
 * the message names it), ENOBUFS (RLIMIT_MEMLOCK too small for the UMEM),
 * EOPNOTSUPP (the driver cannot do the mode or zero-copy asked for), ENOMEM,
 * or what the kernel refused.
 */
MPNET_API struct mpnet_link *mpnet_afxdp_create(const struct mpnet_afxdp_cfg *cfg);

/** What an AF_XDP link counts beyond struct mpnet_link_stats. */
struct mpnet_afxdp_stats {
        /* XDP_STATISTICS, summed over the queues (and over the sockets a
         * reopen closed). */
        uint64_t rx_dropped;       /**< the kernel dropped: no fill frame, too long, ... */
        uint64_t rx_invalid_descs; /**< bad fill ring addresses */
        uint64_t rx_ring_full;     /**< the RX ring was full */
        uint64_t fill_ring_empty;  /**< times the kernel found the fill ring empty */
        uint64_t tx_invalid_descs; /**< bad TX descriptors */
        uint64_t tx_ring_empty;    /**< times the kernel found the TX ring empty */
        /* The link's own. */
        uint64_t rx_nobufs;    /**< dropped: the pool was empty */
        uint64_t tx_ring_full; /**< bursts cut short: no free UMEM frame or TX slot */
        uint64_t tx_oversize;  /**< longer than mtu + 18 or a UMEM frame, dropped */
        uint64_t tx_bad_ol;    /**< offload the link cannot do (TSO, non-IP), dropped */
        uint64_t tx_down;      /**< dropped because the device was gone */
        uint64_t tx_dev_drops; /**< dropped by the device inside sendto() (EBUSY) */
        uint64_t tx_kicks;     /**< sendto() wakeups */
        uint64_t rx_kicks;     /**< recvfrom() wakeups (the fill ring asked) */
        uint64_t down_events;  /**< times the link went down */
        int last_errno;        /**< what took it down last (ENETDOWN, ENXIO) */
        bool up;
        bool gone;          /**< the interface vanished: only reopen helps */
        bool native;        /**< the program runs in the driver (else generic) */
        bool zerocopy;      /**< the sockets are bound zero-copy (else copy) */
        uint32_t ifindex;   /**< the kernel's index of the bound interface */
        uint32_t prog_id;   /**< the XDP program attached to it (0: none) */
        uint32_t tx_budget; /**< frames the kernel sends per copy-mode sendto() (32, or the
                               ring size where XDP_MAX_TX_SKB_BUDGET is taken: Linux 6.17) */
};

/** Fill st. @return 0, or -EINVAL when l is not an AF_XDP link. */
MPNET_API int mpnet_afxdp_get_stats(struct mpnet_link *l, struct mpnet_afxdp_stats *st);

/** @return the XDP socket of queue q (to poll() for POLLIN), or -EINVAL. */
MPNET_API int mpnet_afxdp_fd(struct mpnet_link *l, uint16_t q);

/**
 * Close the sockets (the XDP program goes with the last) and open them
 * again on the interface of the same name, with the mode and bind asked for
 * at create. The MAC and MTU stay.
 * @param errbuf where a one-line reason goes (NULL: stderr).
 * @return 0 (the link is up), -EINVAL (not an AF_XDP link), or the errors
 * of mpnet_afxdp_create() negated; the link stays down then.
 */
MPNET_API int mpnet_afxdp_reopen(struct mpnet_link *l, char *errbuf, size_t errbuf_len);

#endif
