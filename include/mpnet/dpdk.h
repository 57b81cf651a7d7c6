/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file dpdk.h
 * The DPDK back end (optional: built only when pkg-config finds libdpdk;
 * MPNET_HAVE_DPDK is then defined for the library and its users). mpnet
 * drives one DPDK ethdev port (a NIC bound to vfio-pci, or a virtual device:
 * net_ring, net_tap, net_memif, ...) as a link.
 *
 * - The EAL belongs to the process and is initialised once, by
 *   mpnet_dpdk_init(), with the EAL's own arguments. So is one mbuf pool,
 *   made there: mbufs cross ports (a net_ring peer frees what this side
 *   sent), so no link may free the pool its mbufs come from. Everything else
 *   is per link.
 * - Queues: one rx and one tx queue per link queue (one per worker). With
 *   more than one queue, RSS is on when the port can hash IPv4/IPv6 with
 *   TCP and UDP ports, with the symmetric Toeplitz key of rss.h
 *   (mpnet_rss_key_sym, repeated to the port's key length) when the port
 *   takes a key: both directions of a flow reach the same queue. The hash
 *   arrives in flow_hash (MPNET_PKT_F_FLOW_HASH). A port without RSS
 *   (net_ring) still gets its queues: what reaches rx queue q is the port's
 *   business (net_ring: what the peer sent on its tx queue q).
 * - Frames are copied between rte_mbufs and mpnet_pkt buffers in both
 *   directions (no zero-copy: mbufs and pool buffers have different
 *   layouts). A multi-segment mbuf (scattered rx) becomes a chain when it is
 *   longer than one buffer; a chain longer than one mbuf goes out as a
 *   multi-segment mbuf when the port takes those, else it is dropped.
 * - Checksums: the port's rx checksum results become MPNET_PKT_F_L3_CSUM_OK
 *   (IPv4 header good) and MPNET_PKT_F_L4_CSUM_OK (TCP/UDP good); a bad or
 *   unknown result sets neither, and the stack checks in software. On
 *   transmit, MPNET_PKT_F_L3_CSUM_TX and MPNET_PKT_F_L4_CSUM_TX go to the port
 *   (RTE_MBUF_F_TX_IP_CKSUM, _TCP_CKSUM, _UDP_CKSUM) when it offers them and
 *   are done in software on the copy otherwise. Convention (DPDK's): the L4
 *   checksum field holds the pseudo-header sum. MPNET_PKT_F_TSO is refused
 *   (dropped and counted). mpnet_link_info.offloads says what the port does:
 *   MPNET_LINK_OFF_RX_CSUM when it verifies IPv4, TCP and UDP checksums,
 *   MPNET_LINK_OFF_TX_CSUM when it fills them. A packet with MPNET_PKT_F_VLAN
 *   gets its tag inserted (in software) in the copy: MPNET_LINK_OFF_VLAN.
 * - MTU and MAC are the port's (either may be set instead); the port is put
 *   in promiscuous mode unless MPNET_DPDK_F_NO_PROMISC.
 *
 * Threads: the link contract (link.h): per queue one rx and one tx thread.
 * They need not be EAL threads: an EAL thread, or one registered with
 * rte_thread_register(), uses its lcore's mbuf cache for both directions
 * (the mbufs it frees on receive are the ones it sends next, still in the
 * CPU cache); any other thread uses a cache of the queue's own, one per
 * direction. mpnet_dpdk_init(), create and destroy run on a control thread,
 * destroy while no burst runs on the link. Stats are readable from any
 * thread.
 */
#ifndef MPNET_DPDK_H
#define MPNET_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"

#define MPNET_DPDK_MAX_QUEUES 64

/* Flags in mpnet_dpdk_cfg.flags. */
#define MPNET_DPDK_F_NO_PROMISC (1u << 0) /**< leave promiscuous mode off */
#define MPNET_DPDK_F_NO_OFFLOAD (1u << 1) /**< no checksum offload: all in software */

struct mpnet_dpdk_eal_cfg {
        /** The EAL's arguments, without a program name, for example
         * {"--no-huge", "-m", "512", "--no-pci", "--no-shconf",
         * "--vdev=net_ring0"} (see docs/LINKS.md). */
        int argc;
        const char *const *argv;
        /** mbufs in the process's pool; enough for every port's rx and tx
         * rings plus what is in flight (0: 16383). */
        uint32_t n_mbufs;
        /** Where a one-line reason for a failure goes; NULL: stderr. */
        char *errbuf;
        size_t errbuf_len;
};

/**
 * Initialise the EAL (rte_eal_init()) and make the process's mbuf pool. Once
 * per process: the EAL cannot be initialised twice nor torn down and started
 * again. A call that failed on its arguments may be repeated with others;
 * other failures are final. The calling thread's CPU affinity, which the EAL
 * sets to its main lcore, is restored (threads it starts would inherit it).
 * @return 0; -EINVAL (bad arguments: the EAL prints its usage on stdout);
 * -EALREADY (done before, successfully); -ENOMEM (no memory for the pool: give
 * the EAL more with -m); or the EAL's error, negated, with a message.
 */
MPNET_API int mpnet_dpdk_init(const struct mpnet_dpdk_eal_cfg *cfg);

struct mpnet_dpdk_cfg {
        /** The port: its name ("net_ring0", "0000:03:00.0"), or the
         * arguments of a virtual device ("net_tap0,iface=dtap0"), which is
         * created (hot-plugged) when no port has that name yet and removed
         * again by destroy. NULL: port_id. */
        const char *port;
        uint16_t port_id;
        uint16_t n_queues;         /**< 0 or 1: one; up to MPNET_DPDK_MAX_QUEUES */
        uint16_t rx_desc, tx_desc; /**< descriptors per queue (0: 1024; fitted to the port) */
        uint16_t mtu;              /**< set on the port; 0: keep the port's */
        struct mpnet_pool *pool;   /**< required: receive buffers */
        uint8_t mac[6];            /**< mpnet's station address; all zero: the port's */
        uint32_t flags;            /**< MPNET_DPDK_F_* */
        /** Where a one-line reason for a failure goes; NULL: stderr. */
        char *errbuf;
        size_t errbuf_len;
};

/**
 * Configure and start a port as a link (kind "dpdk", named after the port).
 * @return the link, or NULL with errno: EINVAL (bad cfg, or a port that
 * refuses the configuration), ENODEV (no such port, or a virtual device
 * that cannot be created), EBUSY (another link has the port), EPERM (the EAL
 * is not initialised: call mpnet_dpdk_init() first), ENOMEM, or what the
 * port's driver returned. A message says which.
 */
MPNET_API struct mpnet_link *mpnet_dpdk_create(const struct mpnet_dpdk_cfg *cfg);

/** What a DPDK link counts and knows beyond struct mpnet_link_stats. */
struct mpnet_dpdk_stats {
        uint16_t port_id;
        bool rss;              /**< RSS on (more than one queue and the port hashes) */
        bool rss_key;          /**< the symmetric key was programmed */
        uint64_t rss_hf;       /**< RTE_ETH_RSS_* the port hashes on */
        uint64_t rx_offloads;  /**< RTE_ETH_RX_OFFLOAD_* enabled */
        uint64_t tx_offloads;  /**< RTE_ETH_TX_OFFLOAD_* enabled */
        uint64_t rx_nobufs;    /**< frames dropped: the mpnet pool was empty */
        uint64_t tx_nombufs;   /**< packets kept by the caller: no mbuf */
        uint64_t tx_oversize;  /**< longer than mtu + 18 or the port's segments, dropped */
        uint64_t tx_bad_ol;    /**< an offload the link cannot do (TSO, not IP), dropped */
        uint64_t tx_full;      /**< bursts cut short by a full tx queue */
        uint64_t tx_hw_csum;   /**< packets whose checksums the port filled */
        uint64_t port_imissed; /**< the port's rte_eth_stats: rx ring full */
        uint64_t port_ierrors; /**< erroneous frames received */
        uint64_t port_oerrors; /**< failed transmits */
};

/** Fill st. @return 0, or -EINVAL when l is not a DPDK link. */
MPNET_API int mpnet_dpdk_get_stats(struct mpnet_link *l, struct mpnet_dpdk_stats *st);

#endif
