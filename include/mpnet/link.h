/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file link.h
 * Packet I/O: one ops table behind every back end (memory wire, TAP, AF_PACKET,
 * ...) and behind the decorators that wrap any link (capture, fault).
 *
 * Ownership: rx_burst hands the caller packets it now owns. tx_burst takes
 * ownership of the first k packets it returns (sent, or dropped and counted by
 * the link); the caller keeps packets k..n-1.
 *
 * Threads: each queue is used by one thread at a time for rx and one for tx;
 * different queues may be used from different threads. Info is read-only after
 * create. Stats may be read from any thread (a snapshot).
 */
#ifndef MPNET_LINK_H
#define MPNET_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mpnet/export.h"
#include "mpnet/clock.h"
#include "mpnet/pkt.h"

#define MPNET_LINK_NAME_MAX 32

/* Offload capabilities in mpnet_link_info.offloads. */
#define MPNET_LINK_OFF_RX_CSUM (1u << 0)
#define MPNET_LINK_OFF_TX_CSUM (1u << 1)
#define MPNET_LINK_OFF_TSO     (1u << 2)
#define MPNET_LINK_OFF_VLAN    (1u << 3)

struct mpnet_link_info {
        char kind[16];     /* "mem", "capture", "fault", ... */
        uint8_t mac[6];    /* station address */
        uint32_t mtu;      /* largest L3 payload of one frame */
        uint16_t n_rxq;    /* receive queues */
        uint16_t n_txq;    /* transmit queues */
        uint32_t offloads; /* MPNET_LINK_OFF_* */
        uint64_t speed_bps;
};

struct mpnet_link_stats {
        uint64_t rx_pkts, rx_bytes;
        uint64_t tx_pkts, tx_bytes;
        uint64_t rx_drops; /* lost on receive (ring full, fault loss, ...) */
        uint64_t tx_drops; /* accepted by tx_burst but not sent (too big, fault, ...) */
};

struct mpnet_link;
struct mpnet_reta;

/**
 * How a link spreads what it receives over its queues (mpnet_link_rss()):
 * the Toeplitz key it hashes with (rss.h: addresses and, for TCP and UDP,
 * ports) and the indirection table that maps a hash to a receive queue.
 * Both stay valid as long as the link; the table's entries may change
 * while it runs (mpnet_reta_set()), so read them with mpnet_rss_queue().
 */
struct mpnet_link_rss {
        const uint8_t *key;
        size_t key_len;
        const struct mpnet_reta *reta;
};

struct mpnet_link_ops {
        uint16_t (*rx_burst)(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n);
        uint16_t (*tx_burst)(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n);
        /* Optional: the earliest time at which rx may yield a packet the link
         * holds back (a delay), or MPNET_TIME_NEVER. */
        uint64_t (*next_event)(struct mpnet_link *l, uint64_t now);
        void (*get_stats)(struct mpnet_link *l, struct mpnet_link_stats *st);
        void (*destroy)(struct mpnet_link *l);
        /* Optional: see mpnet_link_rx_wait_arm(). */
        int (*rx_wait_arm)(struct mpnet_link *l, uint16_t q);
        /* Optional: see mpnet_link_carrier(). */
        bool (*carrier)(struct mpnet_link *l);
        /* Optional: see mpnet_link_revive(). */
        int (*revive)(struct mpnet_link *l);
        /* Optional: see mpnet_link_rss(). */
        int (*rss)(struct mpnet_link *l, struct mpnet_link_rss *out);
};

/** A link. Back ends embed it as the first member of their own struct. */
struct mpnet_link {
        const struct mpnet_link_ops *ops;
        struct mpnet_link_info info;
        char name[MPNET_LINK_NAME_MAX];
};

static inline uint16_t mpnet_link_rx_burst(struct mpnet_link *l, uint16_t q,
                                           struct mpnet_pkt **pkts, uint16_t n)
{
        return l->ops->rx_burst(l, q, pkts, n);
}

static inline uint16_t mpnet_link_tx_burst(struct mpnet_link *l, uint16_t q,
                                           struct mpnet_pkt **pkts, uint16_t n)
{
        return l->ops->tx_burst(l, q, pkts, n);
}

/**
 * Get ready to sleep until receive queue q may hold a frame; called by the
 * queue's receiving thread, which then polls the descriptor (POLLIN) and, on
 * waking for any reason, simply receives again (a later arm drains it).
 * @return a file descriptor that becomes readable once a frame may be
 * waiting; -EAGAIN when one is waiting already (do not sleep); -ENOTSUP when
 * the link cannot wake a sleeper (sleep on a timer instead).
 */
MPNET_API int mpnet_link_rx_wait_arm(struct mpnet_link *l, uint16_t q);
/** @return whether the link has its device and carrier: false while a TAP,
 * AF_PACKET or AF_XDP link's device is down or gone. Any thread; a link
 * without the notion is always up. */
MPNET_API bool mpnet_link_carrier(struct mpnet_link *l);
/**
 * A link whose device has gone (deleted, its namespace gone): try to open it
 * again (TAP, AF_PACKET, AF_XDP: their reopen, quietly). No burst may run on
 * the link meanwhile.
 * @return 0 when the link is up again, -EAGAIN when the device is there
 * (down, perhaps, but not gone: nothing to reopen), -ENOTSUP for a link
 * without the notion, or why it is still down.
 */
MPNET_API int mpnet_link_revive(struct mpnet_link *l);
/**
 * Where the link steers a flow: its RSS key and indirection table. Memory
 * wires created with rss and null links know theirs; decorators answer
 * for the link they wrap; other links (TAP, AF_PACKET, and for now DPDK
 * and AF_XDP, whose NIC's table mpnet does not read back) do not.
 * @return 0 with out filled, or -ENOTSUP (out untouched).
 */
MPNET_API int mpnet_link_rss(struct mpnet_link *l, struct mpnet_link_rss *out);
/** @return the earliest time a held-back packet becomes receivable. */
MPNET_API uint64_t mpnet_link_next_event(struct mpnet_link *l, uint64_t now);
/** Fill st with the link's counters. */
MPNET_API void mpnet_link_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st);
/** Destroy a link (a decorator destroys the link it wraps too). NULL is ignored. */
MPNET_API void mpnet_link_destroy(struct mpnet_link *l);

/* ---- mem: the in-process wire ---------------------------------------- */

struct mpnet_memwire_cfg {
        uint16_t n_queues;  /* queues per direction (default 1) */
        uint32_t ring_size; /* slots per queue, power of two (default 1024) */
        uint32_t mtu;       /* default 1500 */
        uint64_t speed_bps; /* reported speed (default 10 Gbit/s) */
        uint8_t mac_a[6];   /* station addresses; zero picks 02:00:00:00:xx:0a/0b */
        uint8_t mac_b[6];
        const char *name; /* ends are named NAME-a and NAME-b (default "mem") */
        /* Software RSS, as a multi-queue NIC does it: a frame sent on any
         * queue is received on the queue the Toeplitz hash of its addresses
         * and ports picks through the receiving end's indirection table, with
         * the hash in flow_hash (MPNET_PKT_F_FLOW_HASH). rss_key NULL: the
         * symmetric key, so both directions of a flow meet on one queue. A
         * frame whose queue is full is dropped and counted (rx_drops). */
        bool rss;
        const uint8_t *rss_key;
        size_t rss_key_len;
        /* Checksum offload, as a veth or loopback device offers it: the
         * frames never leave memory, so each end marks what it receives
         * verified (MPNET_PKT_F_L3_CSUM_OK, MPNET_PKT_F_L4_CSUM_OK) and
         * reports MPNET_LINK_OFF_RX_CSUM; the stacks skip their checks. It
         * also reports MPNET_LINK_OFF_TX_CSUM: a frame with
         * MPNET_PKT_F_L4_CSUM_TX crosses with its checksum field holding the
         * pseudo-header sum and the flag kept (a stack that forwards it has
         * its next link, or the software, finish it); the stacks' TCP leaves
         * its short segments' checksums so. Off by default: every checksum
         * is then filled before the wire, and a frame put on the wire with a
         * bad one is caught by the stack. A fault decorator clears the
         * marks of what it corrupts. */
        bool csum_offload;
        /* Segmentation offload, as Linux's loopback and veth offer TSO and
         * GRO (needs csum_offload): an end reports MPNET_LINK_OFF_TSO and
         * takes a TCP super-segment (MPNET_PKT_F_TSO, a chain of up to
         * 64 KiB whose pieces are tso_segsz bytes of payload with one
         * header) over the MTU, and the other end receives it whole, the
         * flag and tso_segsz kept, as GRO would hand it coalesced: the
         * stack's TCP takes it as one segment. Off by default: a frame
         * over the MTU is dropped (tx_drops). */
        bool tso;
};

/**
 * Create a wire with two ends. Transmit queue q of one end feeds receive queue
 * q of the other, zero-copy. Frames longer than mtu + 18 (Ethernet header plus
 * one VLAN tag) are dropped and counted as tx_drops.
 * @param cfg NULL for defaults.
 * @return 0, -EINVAL or -ENOMEM. The ends are destroyed separately; the wire
 * goes when both are gone, freeing any packets still in flight.
 */
MPNET_API int mpnet_memwire_create(const struct mpnet_memwire_cfg *cfg, struct mpnet_link **a,
                                   struct mpnet_link **b);

struct mpnet_reta;
/** @return the indirection table that steers frames received by end l of
 * an RSS wire (change entries with mpnet_reta_set()), or NULL. */
MPNET_API struct mpnet_reta *mpnet_memwire_reta(struct mpnet_link *l);

/* ---- decorators ------------------------------------------------------ */

enum mpnet_capture_format { MPNET_CAPTURE_PCAP, MPNET_CAPTURE_PCAPNG };

/**
 * Wrap a link so every frame it receives or transmits is written to a capture
 * file (pcap, or pcapng with the direction of each frame), with timestamps from
 * clock. The capture link owns inner and the file.
 * @return the wrapping link, or NULL with errno set (inner is left alone).
 */
MPNET_API struct mpnet_link *mpnet_capture_create(struct mpnet_link *inner, const char *path,
                                                  enum mpnet_capture_format fmt,
                                                  struct mpnet_clock *clock);

/**
 * Wrap a link for captures started and stopped while it runs (mpnetd wraps
 * every link so): until mpnet_capture_start(), frames pass straight
 * through. Destroying it stops a capture and destroys inner.
 * @return the wrapping link, or NULL with errno set (inner is left alone).
 */
MPNET_API struct mpnet_link *mpnet_capture_wrap(struct mpnet_link *inner);

struct mpnet_bpf_insn; /* mpnet/bpf.h */

struct mpnet_capture_cfg {
        const char *path;
        enum mpnet_capture_format fmt;
        struct mpnet_clock *clock; /* timestamps; NULL: CLOCK_MONOTONIC */
        /* A classic BPF program (pcap_compile()'s output for DLT_EN10MB),
         * run on each frame where it is tapped, on the queue's thread; its
         * return value is the snap length, 0 leaves the frame out. NULL:
         * every frame. Validated (mpnet_bpf_validate()) and copied. */
        const struct mpnet_bpf_insn *filter;
        size_t filter_len;
        uint64_t count; /* stop writing after this many frames; 0: no limit */
};

struct mpnet_capture_stats {
        uint64_t seen;     /* frames that passed the tap */
        uint64_t captured; /* of which written to the file */
        bool done;         /* the count was reached */
};

/**
 * Start writing the frames of a capture link (mpnet_capture_wrap() or
 * mpnet_capture_create()) to a new file. One capture at a time per link;
 * start, stop and get_stats from one thread (the control thread), the
 * bursts from the queues' threads.
 * @return 0; -EBUSY (a capture runs), -EINVAL (not a capture link; the
 * filter refused), or the file's errno, with the reason in why (may be NULL).
 */
MPNET_API int mpnet_capture_start(struct mpnet_link *l, const struct mpnet_capture_cfg *cfg,
                                  char *why, size_t why_len);
/**
 * Stop the capture: waits until no queue's burst still writes (a burst at
 * most), then flushes and closes the file. st (may be NULL) gets its
 * final figures.
 * @return 0; -ENOENT (none runs); -EINVAL (not a capture link); -EIO when
 * frames are missing from the file.
 */
MPNET_API int mpnet_capture_stop(struct mpnet_link *l, struct mpnet_capture_stats *st);
/** The running capture's figures. @return 0, -ENOENT or -EINVAL. */
MPNET_API int mpnet_capture_get_stats(struct mpnet_link *l, struct mpnet_capture_stats *st);

struct mpnet_fault_cfg {
        uint64_t seed;
        uint32_t loss_ppm;    /* frames dropped, parts per million */
        uint32_t dup_ppm;     /* frames delivered twice */
        uint32_t reorder_ppm; /* frames held back behind the next one */
        uint32_t corrupt_ppm; /* frames with one bit flipped */
        uint64_t delay_ns;    /* added to every received frame */
        uint64_t jitter_ns;   /* uniform extra delay 0..jitter_ns */
};

/**
 * Wrap a link so frames it receives suffer seeded faults: loss, duplication,
 * reordering, corruption and delay measured on clock. The same seed and the
 * same input give the same faults. The fault link owns inner.
 * @param pool where duplicates are allocated.
 * @return the wrapping link, or NULL with errno set.
 */
MPNET_API struct mpnet_link *mpnet_fault_create(struct mpnet_link *inner,
                                                const struct mpnet_fault_cfg *cfg,
                                                struct mpnet_clock *clock, struct mpnet_pool *pool);

/** Counters of what a fault link did. */
struct mpnet_fault_stats {
        uint64_t lost, duplicated, reordered, corrupted, delayed;
};
/** @return 0, or -EINVAL when l is not a fault link. */
MPNET_API int mpnet_fault_get_stats(struct mpnet_link *l, struct mpnet_fault_stats *st);

#endif
