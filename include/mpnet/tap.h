/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file tap.h
 * The Linux TUN/TAP back end: mpnet is the far end of a kernel tap device.
 * The kernel sees an Ethernet interface (give it addresses with `ip`); what it
 * transmits there, mpnet receives, and the reverse.
 *
 * - One file descriptor per queue; more than one queue is IFF_MULTI_QUEUE, and
 *   the kernel spreads its transmissions over the queues by flow hash.
 * - Descriptors are non-blocking. A burst is a loop of readv()/writev(), one
 *   frame per system call (a tap descriptor takes no batched call).
 * - With MPNET_TAP_F_VNET_HDR every frame crosses with a struct
 *   virtio_net_hdr: L4 checksum offload and TSO towards the kernel, and the
 *   kernel's "checksum verified" towards mpnet (see the flags below).
 * - Frames longer than one buffer (2048 bytes) arrive as chains of up to
 *   64 KiB when chains are on (MPNET_TAP_F_RX_CHAINS, implied by an MTU above
 *   2030 or by MPNET_TAP_F_RX_GSO); otherwise they are dropped and counted
 *   (mpnet_tap_stats.rx_oversize and the link's rx_drops). Each queue keeps
 *   up to 32 head buffers, and with chains 31 spare segments, of the pool
 *   for its next reads.
 * - A device that vanishes under the link (deleted, its namespace gone) marks
 *   the link down and counts it; bursts then return 0 and never fail.
 *   mpnet_tap_reopen() brings it back.
 *
 * Threads: the link contract (link.h): one thread per queue for rx and one
 * for tx. mpnet_tap_create() and mpnet_tap_reopen() run the namespace switch
 * in a short-lived helper thread, so the caller's namespace never changes.
 * mpnet_tap_reopen() must not run while another thread is inside a burst on
 * the link. Stats are readable from any thread.
 */
#ifndef MPNET_TAP_H
#define MPNET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"

#define MPNET_TAP_MAX_QUEUES 16

/* Flags in mpnet_tap_cfg.flags. */
/** Frames carry a struct virtio_net_hdr (IFF_VNET_HDR). On transmit, a packet
 * with MPNET_PKT_F_L4_CSUM_TX (TCP or UDP, its checksum field holding the
 * pseudo-header sum as with DPDK) or MPNET_PKT_F_TSO is finished by the
 * kernel; on receive, the kernel's VIRTIO_NET_HDR_F_DATA_VALID becomes
 * MPNET_PKT_F_L4_CSUM_OK. */
#define MPNET_TAP_F_VNET_HDR (1u << 0)
/** With VNET_HDR: let the kernel hand over TCP/UDP with a partial checksum
 * (TUNSETOFFLOAD TUN_F_CSUM), which saves it computing one. Such a frame is
 * flagged MPNET_PKT_F_L4_CSUM_OK | MPNET_PKT_F_L4_CSUM_TX with l4_off set: it
 * is good, and whoever sends it on must finish the checksum. */
#define MPNET_TAP_F_RX_CSUM (1u << 1)
/** With VNET_HDR and RX_CSUM: accept TCP segments up to 64 KiB (TUN_F_TSO4,
 * TUN_F_TSO6), which saves the kernel cutting them. The link cuts each such
 * super-frame into the gso_size segments a wire would have carried, each in
 * one buffer with a partial checksum (as with RX_CSUM), and counts it in
 * mpnet_tap_stats.rx_gso. */
#define MPNET_TAP_F_RX_GSO (1u << 2)
/** Receive frames longer than one buffer as chains instead of dropping them. */
#define MPNET_TAP_F_RX_CHAINS (1u << 3)
/** Attach to an existing tap device only: -ENODEV when there is none. */
#define MPNET_TAP_F_ATTACH (1u << 4)
/** Leave the kernel device's MTU and up/down state alone (by default the link
 * sets the MTU to cfg.mtu and brings the device up). */
#define MPNET_TAP_F_NO_SETUP (1u << 5)

struct mpnet_tap_cfg {
        /** Kernel device name (at most 15 characters); may hold one "%d"
         * (the kernel picks the number). NULL or "": "mptap%d". */
        const char *ifname;
        /** Network namespace to create or find the device in: a name under
         * /var/run/netns, or a path (containing '/') such as
         * /proc/PID/ns/net. NULL: the caller's. */
        const char *netns;
        struct mpnet_pool *pool; /**< required: receive buffers */
        uint16_t n_queues;       /**< 0 or 1: one queue; up to MPNET_TAP_MAX_QUEUES */
        uint32_t mtu;            /**< 0: 1500; 68..65521 */
        /** mpnet's station address; all zero: a locally administered unicast
         * address made from the device name and the process id. */
        uint8_t mac[6];
        uint32_t flags; /**< MPNET_TAP_F_* */
        /** Where a one-line reason for a failure of create goes
         * (NUL-terminated; used during the call only); NULL: stderr. */
        char *errbuf;
        size_t errbuf_len;
};

/**
 * Create a tap link: open /dev/net/tun once per queue and create (or attach
 * to) the device, in cfg->netns when given.
 * @return the link (kind "tap", name = the kernel device name), or NULL with
 * errno: EINVAL (bad cfg), ENOENT (no such namespace, or no /dev/net/tun),
 * ENODEV (MPNET_TAP_F_ATTACH and no device), EPERM (the process lacks
 * CAP_NET_ADMIN, or CAP_SYS_ADMIN to enter the namespace: the message names
 * it), EBUSY or EINVAL (the device exists with other flags, or is a single
 * queue device already in use), ENOMEM.
 */
MPNET_API struct mpnet_link *mpnet_tap_create(const struct mpnet_tap_cfg *cfg);

/** What a tap link counts beyond struct mpnet_link_stats. */
struct mpnet_tap_stats {
        uint64_t rx_oversize; /**< frames longer than a buffer, dropped (no chains) */
        uint64_t rx_nobufs;   /**< receive stopped: the pool was empty */
        uint64_t rx_bad_vnet; /**< frames with a virtio header we cannot honour */
        uint64_t rx_gso;      /**< TCP GSO super-frames received and cut (RX_GSO) */
        uint64_t tx_oversize; /**< frames beyond mtu + 18 without TSO, dropped */
        uint64_t tx_bad_ol;   /**< offload asked on a frame that is not TCP/UDP */
        uint64_t tx_errors;   /**< write() failed for another reason, dropped */
        uint64_t tx_down;     /**< dropped because the device was down or gone */
        uint64_t down_events; /**< times the link went down */
        int last_errno;       /**< what took it down last (EIO, EBADFD, ...) */
        bool up;              /**< every queue works */
        bool gone;            /**< the device vanished: only reopen helps */
};

/** Fill st. @return 0, or -EINVAL when l is not a tap link. */
MPNET_API int mpnet_tap_get_stats(struct mpnet_link *l, struct mpnet_tap_stats *st);

/** @return the descriptor of queue q (to poll() for POLLIN), or -EINVAL. */
MPNET_API int mpnet_tap_fd(struct mpnet_link *l, uint16_t q);

/**
 * Open the device again with the configuration the link was created with,
 * after it vanished (MPNET_TAP_F_ATTACH is honoured: then the device must
 * have been recreated by someone else). The MAC, MTU and queue count stay.
 * @param errbuf where a one-line reason goes (NULL: stderr).
 * @return 0 (the link is up), -EINVAL (not a tap link), or the errors of
 * mpnet_tap_create() negated; the link stays down then and may be retried.
 */
MPNET_API int mpnet_tap_reopen(struct mpnet_link *l, char *errbuf, size_t errbuf_len);

#endif
