/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file afpacket.h
 * The AF_PACKET back end: mpnet takes over a kernel Ethernet interface (a
 * veth end, a NIC) through packet sockets with memory-mapped rings
 * (Documentation/networking/packet_mmap.rst).
 *
 * - One socket per queue, bound to the interface by index, each with a
 *   receive ring and a transmit ring (fixed slots, sent with one sendto() per
 *   burst), or sendmmsg() with MPNET_AFP_F_TX_SENDMMSG. The rings are
 *   TPACKET_V2 (fixed frames, each handed over as soon as the kernel has
 *   written it: a ping round trip in tens of microseconds) unless
 *   MPNET_AFP_F_TPACKET_V3 asks for V3 (blocks of variable-size frames,
 *   handed over full or block_tov_ms after they open). With more
 *   than one queue the sockets form a PACKET_FANOUT_HASH group: the kernel
 *   spreads received frames by flow hash, both directions of a flow to the
 *   same queue.
 * - PACKET_QDISC_BYPASS (transmit straight to the driver, no qdisc) and
 *   promiscuous mode (PACKET_MR_PROMISC, dropped when the socket closes) are
 *   on unless the flags turn them off. Outgoing frames are not looped back
 *   (PACKET_IGNORE_OUTGOING).
 * - Frames are copied between the rings and pool buffers. A received frame
 *   longer than one buffer becomes a chain; one truncated by the ring
 *   (longer than a ring frame or block) is dropped and counted, except a
 *   frame the kernel also queued whole to the socket (the vnet header's
 *   PACKET_COPY_THRESH, V2), which is read from there.
 * - vnet header (PACKET_VNET_HDR, unless MPNET_AFP_F_NO_VNET_HDR): received
 *   frames carry their checksum state (VIRTIO_NET_HDR_F_NEEDS_CSUM: flagged
 *   MPNET_PKT_F_L4_CSUM_OK | MPNET_PKT_F_L4_CSUM_TX with l4_off;
 *   DATA_VALID: MPNET_PKT_F_L4_CSUM_OK) and TCP GSO super-frames arrive
 *   whole, to be cut into gso_size segments by the link. Transmitted
 *   frames get a header that asks for nothing.
 * - VLAN: the kernel strips the 802.1Q tag of most received frames into
 *   tp_vlan_tci. By default the link puts the tag back into the frame, so mpnet
 *   sees the bytes that were on the wire; with MPNET_AFP_F_VLAN_META it sets
 *   MPNET_PKT_F_VLAN and vlan_tci instead. On transmit, a packet with
 *   MPNET_PKT_F_VLAN gets the tag inserted.
 * - Checksums: a frame the kernel marks TP_STATUS_CSUM_VALID gets
 *   MPNET_PKT_F_L4_CSUM_OK; a frame with TP_STATUS_CSUMNOTREADY (sent by a
 *   local kernel socket over veth with its TCP/UDP checksum still partial)
 *   gets MPNET_PKT_F_L4_CSUM_OK | MPNET_PKT_F_L4_CSUM_TX and l4_off, as from a
 *   tap with partial checksums. On transmit, MPNET_PKT_F_L3_CSUM_TX and
 *   MPNET_PKT_F_L4_CSUM_TX are done in software while the frame is copied
 *   into the ring; MPNET_PKT_F_TSO is refused (dropped and counted).
 * - A device that vanishes (deleted, or its veth peer's namespace deleted)
 *   marks the link down and counts it; bursts then return 0 and never fail.
 *   mpnet_afpacket_reopen() binds again by name.
 *
 * Threads: the link contract (link.h): one thread per queue for rx and one
 * for tx. Create and reopen run in a short-lived helper thread when a
 * namespace is named, so the caller's namespace never changes; reopen must
 * not run while another thread is inside a burst on the link. Stats are
 * readable from any thread.
 */
#ifndef MPNET_AFPACKET_H
#define MPNET_AFPACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"

#define MPNET_AFP_MAX_QUEUES 16

/* Flags in mpnet_afpacket_cfg.flags. */
#define MPNET_AFP_F_NO_PROMISC      (1u << 0) /**< leave promiscuous mode off */
#define MPNET_AFP_F_NO_QDISC_BYPASS (1u << 1) /**< transmit through the qdisc */
#define MPNET_AFP_F_VLAN_META       (1u << 2) /**< stripped tag to vlan_tci, not the frame */
/** No TX ring: send bursts with sendmmsg() straight from the pool buffers
 * (the kernel copies each frame once into an skb). Frames from a TX ring go
 * out zero-copy, which a NIC driver turns into DMA, but which veth has to
 * undo with a page allocation and a copy per frame as it crosses into the
 * peer's receive path; bench_afpacket compares the two. */
#define MPNET_AFP_F_TX_SENDMMSG (1u << 3)
/** TPACKET_V3 rings instead of TPACKET_V2: the receive ring hands frames
 * over a block at a time, when the block is full or block_tov_ms after its
 * first frame, so under light traffic every frame waits up to block_tov_ms
 * (a ping round trip of about a millisecond). V2 hands each frame over as
 * soon as the kernel has written it; bench_afpacket compares the two. */
#define MPNET_AFP_F_TPACKET_V3 (1u << 4)
/** No virtio-net header (PACKET_VNET_HDR). With it (the default) the kernel
 * says per frame what it knows of its checksum (partial or verified) and
 * hands TCP GSO super-frames (up to 64 KiB, what a local TCP sender puts on
 * a veth) over whole: a V2 ring frame too small for one points to a copy
 * in the socket's queue (PACKET_COPY_THRESH), read with recv() into a
 * chain; V3 blocks are made 128 KiB at least. The link cuts each into
 * gso_size segments in software (one buffer each, partial checksums), as
 * the kernel would before a wire, since the stack's TCP takes a segment's
 * data from one buffer. Without it such a frame arrives truncated and is
 * dropped (rx_truncated). */
#define MPNET_AFP_F_NO_VNET_HDR (1u << 5)

struct mpnet_afpacket_cfg {
        const char *ifname; /**< required: the interface to bind to */
        /** Network namespace of the interface: a name under /var/run/netns,
         * or a path (containing '/'). NULL: the caller's. */
        const char *netns;
        struct mpnet_pool *pool; /**< required: receive buffers */
        uint16_t n_queues;       /**< 0 or 1: one socket; up to MPNET_AFP_MAX_QUEUES */
        /** rx ring block, bytes: a power of two, at least a page (64 KiB).
         * The rx ring has block_size x n_blocks bytes per queue. V2 cuts it
         * into fixed frames (the smallest power of two, 2 KiB at least, that
         * holds the kernel's header and mtu + 18 bytes; a block is made as
         * large as one frame if need be). V3: the kernel hands a block over
         * when it is full or block_tov_ms after it opened, so under sparse
         * traffic a block holds few frames and n_blocks is also how many
         * bursts the ring absorbs while nobody reads. */
        uint32_t block_size;
        uint32_t n_blocks; /**< rx ring blocks per queue (64) */
        /** V3 only: a partly filled block is handed over after this many ms
         * (1 ms; 0: the default), the wait a frame under light traffic pays.
         * V2 ignores it. */
        uint32_t block_tov_ms;
        uint32_t tx_slots; /**< tx ring slots per queue, power of two (1024) */
        /** mpnet's station address; all zero: the interface's own. */
        uint8_t mac[6];
        uint32_t flags; /**< MPNET_AFP_F_* */
        /** Where a one-line reason for a failure of create goes
         * (NUL-terminated; used during the call only); NULL: stderr. */
        char *errbuf;
        size_t errbuf_len;
};

/**
 * Create an AF_PACKET link on an existing interface. MTU and MAC are the
 * interface's (the MAC may be overridden). The interface is not brought up:
 * frames flow once it is.
 * @return the link (kind "afpacket", name = the interface name), or NULL with
 * errno: EINVAL (bad cfg), ENOENT (no such namespace), ENODEV (no such
 * interface), EPERM (the process lacks CAP_NET_RAW, or CAP_SYS_ADMIN to enter
 * the namespace: the message names it), ENOMEM, or what the kernel refused
 * (EINVAL for a ring geometry it does not take).
 */
MPNET_API struct mpnet_link *mpnet_afpacket_create(const struct mpnet_afpacket_cfg *cfg);

/** What an AF_PACKET link counts beyond struct mpnet_link_stats. */
struct mpnet_afpacket_stats {
        uint64_t rx_kernel_drops; /**< ring full: dropped by the kernel (PACKET_STATISTICS) */
        uint64_t rx_truncated;    /**< longer than a ring frame (V2) or block (V3), dropped */
        uint64_t rx_nobufs;       /**< dropped: the pool was empty */
        uint64_t rx_vlan;         /**< frames whose stripped tag was restored or flagged */
        uint64_t rx_gso;          /**< TCP GSO super-frames received and cut (vnet header) */
        uint64_t rx_copied;       /**< frames read from the socket queue, too long for the ring */
        uint64_t rx_bad_vnet;     /**< vnet header we cannot honour (say UDP GSO), dropped */
        uint64_t tx_ring_full;    /**< bursts cut short by a full tx ring */
        uint64_t tx_oversize;     /**< longer than mtu + 18 or a ring slot, dropped */
        uint64_t tx_bad_ol;       /**< offload the link cannot do (TSO, non-IP), dropped */
        uint64_t tx_down;         /**< dropped because the device was down or gone */
        uint64_t down_events;     /**< times the link went down */
        int last_errno;           /**< what took it down last (ENETDOWN, ENXIO, ...) */
        bool up;
        bool gone;        /**< the interface vanished: only reopen helps */
        uint32_t ifindex; /**< the kernel's index of the bound interface */
        bool vnet_hdr;    /**< frames carry a virtio-net header (PACKET_VNET_HDR) */
};

/** Fill st. @return 0, or -EINVAL when l is not an AF_PACKET link. */
MPNET_API int mpnet_afpacket_get_stats(struct mpnet_link *l, struct mpnet_afpacket_stats *st);

/** @return the socket of queue q (to poll() for POLLIN), or -EINVAL. */
MPNET_API int mpnet_afpacket_fd(struct mpnet_link *l, uint16_t q);

/**
 * Close the sockets and open them again on the interface of the same name
 * (say after a veth pair was recreated). The MAC, MTU and ring sizes stay.
 * @param errbuf where a one-line reason goes (NULL: stderr).
 * @return 0 (the link is up), -EINVAL (not an AF_PACKET link), or the errors
 * of mpnet_afpacket_create() negated; the link stays down then.
 */
MPNET_API int mpnet_afpacket_reopen(struct mpnet_link *l, char *errbuf, size_t errbuf_len);

#endif
