/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file null.h
 * The null link (the role of DPDK's net_null): receive synthesises frames,
 * transmit frees them. It measures what sits above a link - the router, the
 * workers - with no generator thread and no wire: a worker that receives
 * from a null link and transmits to one spends its CPU on the stack alone.
 *
 * The frames are templates: the caller's, or IPv4/UDP frames of n_flows
 * flows from the benchmarking range 198.18.0.0/15 (RFC 2544, RFC 6815) that
 * the link builds at create. Each receive queue gets the templates a
 * multi-queue NIC with RSS would deliver to it: those whose Toeplitz hash
 * (rss.h; the symmetric key unless another is given) the indirection table
 * maps to the queue. A queue repeats its own templates round-robin; each
 * received frame carries its hash (MPNET_PKT_F_FLOW_HASH). A queue that RSS
 * maps no template to receives nothing.
 *
 * Receive allocates from the pool given at create, in bulk, as many frames
 * as asked (at most `burst` when set), fewer only when the pool runs short.
 * Transmit frees every frame and counts it as sent. A receive queue always
 * has frames: rx_wait_arm() returns -EAGAIN (-ENOTSUP on a queue with no
 * templates), so a worker never sleeps on it.
 *
 * Threads: as any link (link.h): per queue one receiving and one
 * transmitting thread; the queues' states and counters live on their own
 * cache lines, so workers on different queues share nothing but the
 * read-only templates.
 */
#ifndef MPNET_NULL_H
#define MPNET_NULL_H

#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/link.h"
#include "mpnet/rss.h"

/** The most queues a null link has. */
#define MPNET_NULL_MAX_QUEUES 64u

/* Which fields of the built-in frames flow f adds f to (mpnet_null_cfg.vary). */
#define MPNET_NULL_VARY_SRC_IP   (1u << 0)
#define MPNET_NULL_VARY_DST_IP   (1u << 1)
#define MPNET_NULL_VARY_SRC_PORT (1u << 2)
#define MPNET_NULL_VARY_DST_PORT (1u << 3)

/** A frame to synthesise: Ethernet header onwards, without FCS. */
struct mpnet_null_frame {
        const uint8_t *data;
        uint32_t len; /* 14 .. min(mtu + 18, MPNET_PKT_DATA_SIZE) */
};

struct mpnet_null_cfg {
        uint16_t n_queues;       /* receive and transmit queues (default 1) */
        struct mpnet_pool *pool; /* receive allocates here; NULL: a sink, receives nothing */
        uint8_t mac[6];          /* station address; zero picks 02:xx:xx:xx:xx:0e from the name */
        uint32_t mtu;            /* default 1500 */
        uint64_t speed_bps;      /* reported speed (default 100 Gbit/s) */
        const char *name;        /* default "null" */
        uint16_t burst;          /* most frames per rx_burst (0: as many as asked) */
        /* The caller's frames; copied at create. n_templates 0: the
         * built-in generator below. */
        const struct mpnet_null_frame *templates;
        uint32_t n_templates;
        /* Built-in IPv4/UDP frames. Flow f (0 .. n_flows - 1) has the
         * first addresses and ports, plus f in each field vary names.
         * Addresses must stay inside 198.18.0.0/15, ports below 65536.
         * With the symmetric key the hash depends only on the XOR of the
         * input's 16-bit words (rss.h), so fields that grow together
         * with f partly cancel: two such fields left 4 of 8 queues with
         * no flow. One varied field spreads 1024 flows evenly. */
        uint32_t n_flows;            /* default 1024 */
        uint32_t frame_len;          /* without FCS, 60 (default) .. mtu + 14 */
        uint8_t dst_mac[6];          /* zero: the link's own address */
        uint8_t src_mac[6];          /* zero: 02:00:00:00:00:01 */
        uint32_t src_ip, dst_ip;     /* host order; defaults 198.18.0.1, 198.19.0.1 */
        uint16_t src_port, dst_port; /* defaults 1024, 9 */
        uint32_t vary;               /* MPNET_NULL_VARY_*; 0: the destination address */
        /* Steering. rss_key NULL: mpnet_rss_key_sym. reta NULL: the
         * default table (MPNET_RETA_DEFAULT entries, round-robin over
         * n_queues); else its entries as they are at create. */
        const uint8_t *rss_key;
        size_t rss_key_len;
        const struct mpnet_reta *reta;
};

/**
 * Create a null link.
 * @param cfg NULL for defaults (a sink: no pool).
 * @return 0; -EINVAL (queues, lengths, addresses or ports out of range, a
 * template too short or too long, a reta with more queues than the link);
 * -ENOMEM.
 */
MPNET_API int mpnet_null_create(const struct mpnet_null_cfg *cfg, struct mpnet_link **out);

/**
 * @return how many templates receive queue q of null link l repeats (the
 * flows RSS gives it), or -EINVAL when l is not a null link or q is out of
 * range.
 */
MPNET_API int mpnet_null_queue_flows(struct mpnet_link *l, uint16_t q);

#endif
