/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ratelimit.h
 * A link decorator that limits what a link transmits with token buckets: a
 * frame rate, a bit rate, or both. A frame that finds a bucket short is
 * dropped (a policer, like tc's police action) or left with the caller (a
 * shaper's back-pressure: tx_burst takes fewer frames). Receive passes through.
 *
 * Buckets start full. One bucket of each kind per transmit queue, so queues
 * used by different threads never share state. Time comes from the clock
 * given at create (CLOCK_MONOTONIC when NULL); on a virtual clock the same
 * input gives the same drops.
 *
 * Threads: as any link (link.h): one thread per transmit queue; stats from
 * any thread.
 */
#ifndef MPNET_RATELIMIT_H
#define MPNET_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "mpnet/export.h"
#include "mpnet/clock.h"
#include "mpnet/link.h"

struct mpnet_ratelimit_cfg {
        uint64_t pps;         /* frames per second; 0: no frame limit */
        uint64_t bps;         /* bits per second of frame bytes (pkt_len); 0: no bit limit */
        uint32_t burst_pkts;  /* frame bucket depth (0: 1 frame) */
        uint32_t burst_bytes; /* bit bucket depth in bytes (0: 1518) */
        bool shape;           /* true: refuse instead of drop */
};

/**
 * Wrap inner so that its transmit side is rate limited. The ratelimit link
 * owns inner.
 * @return the wrapping link, or NULL with errno EINVAL (no limit set, or a
 * burst too deep to count in 64 bits) or ENOMEM; inner is left alone.
 */
MPNET_API struct mpnet_link *mpnet_ratelimit_create(struct mpnet_link *inner,
                                                    const struct mpnet_ratelimit_cfg *cfg,
                                                    struct mpnet_clock *clock);

/** What a ratelimit link did. */
struct mpnet_ratelimit_stats {
        uint64_t passed;  /* frames handed to the inner link */
        uint64_t dropped; /* frames over the limit, freed (also link tx_drops) */
        uint64_t refused; /* frames over the limit left with the caller (shape) */
};

/** @return 0, or -EINVAL when l is not a ratelimit link. */
MPNET_API int mpnet_ratelimit_get_stats(struct mpnet_link *l, struct mpnet_ratelimit_stats *st);

#endif
