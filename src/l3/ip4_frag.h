/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 fragmentation on output (RFC 791 3.2) and reassembly for local delivery
 * (RFC 791 3.2, RFC 815, RFC 1122 3.3.2). Internal to the stack.
 *
 * Synchronisation: ip4_fragment() keeps no state and is safe from any thread
 * that may use the pool. A reassembly object belongs to one thread (the one
 * that polls its stack); nothing is locked but the optional shared cap
 * (cfg.shared_used), a relaxed atomic word that objects of several threads
 * charge by compare-and-swap. ip4_reass_get_stats() may be called from any
 * thread: counters are single-writer relaxed atomics.
 *
 * Lock order: none.
 *
 * Life cycle: everything the object will ever use (descriptors, hash buckets,
 * fragment records), sized by its caps, is allocated at once with the first
 * fragment (if that fails, the fragment is refused as IP4_REASS_CAP); nothing
 * else is allocated on the packet path. Held fragments belong to the object
 * until they come back as a reassembled datagram or are freed by a drop, an
 * eviction, a timeout or ip4_reass_destroy().
 */
#ifndef MPNET_L3_IP4_FRAG_H
#define MPNET_L3_IP4_FRAG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mpnet/pkt.h"

/* RFC 791 3.1 ("Total Length"): every module must pass 68 octets unfragmented. */
#define IP4_MIN_MTU 68u

/* What one buffer costs the reassembly caps: metadata plus the whole buffer,
 * whatever the fragment uses of it (a 1-byte fragment pins a full buffer). */
#define IP4_REASS_TRUESIZE ((uint64_t)sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE)

/**
 * Fragment an IPv4 datagram for a link of the given MTU.
 *
 * @param pool where the fragments come from. Each is one linear buffer with
 *   its data at the default headroom (MPNET_PKT_HEADROOM), so the link layer
 *   can prepend its header.
 * @param p starts at a valid IPv4 header (options allowed); may be a chain.
 *   Bytes past the header's total length are ignored. Its L4 checksum must be
 *   final: MPNET_PKT_F_L4_CSUM_TX and MPNET_PKT_F_TSO are refused.
 * @param mtu the link MTU (IP header included), at least IP4_MIN_MTU. A
 *   fragment never exceeds it, nor MPNET_PKT_DATA_SIZE.
 * @param out receives the fragments in offset order.
 * @param max_out size of out.
 * @return the number of packets in out, p having been freed; 1 with out[0] ==
 *   p (untouched) when the datagram already fits in mtu; -EMSGSIZE when DF is
 *   set and it does not fit (the caller sends ICMP fragmentation needed);
 *   -EINVAL for mtu < 68 or a malformed header or options; -EOPNOTSUPP for
 *   pending L4 checksum or TSO offload; -ENOSPC when max_out is too small;
 *   -ENOBUFS when the pool ran out. On any error p still belongs to the
 *   caller and nothing else is held.
 */
int ip4_fragment(struct mpnet_pool *pool, struct mpnet_pkt *p, uint32_t mtu, struct mpnet_pkt **out,
                 unsigned max_out);

/**
 * Reassembly tunables. 0 selects the default; a value outside [min, max] makes
 * ip4_reass_create() fail with EINVAL.
 */
struct ip4_reass_cfg {
        /* Lifetime of a datagram from its first fragment; not extended by later
         * fragments. Default 30 s, range 1 ms .. 255 s. */
        uint64_t timeout_ns;
        /* Buffer bytes (IP4_REASS_TRUESIZE per buffer) held across all
         * datagrams. Default 4 MiB, range 1 buffer .. 1 GiB. */
        uint64_t max_bytes;
        /* The same per source address, so one source cannot take everything.
         * Default 256 KiB, range 1 buffer .. max_bytes. */
        uint64_t max_per_src;
        /* Datagrams being reassembled at once. Default 1024, range 1 .. 2^20. */
        uint64_t max_datagrams;
        /* Fragments per datagram. Default 64, range 2 .. 8192. */
        uint64_t max_frags;
        /* Key of the lookup hash; pass a random value so that an attacker
         * cannot aim fragments at one bucket. */
        uint64_t hash_seed;
        /* Called from ip4_reass_expire() (and so from ip4_reass_input()) for a
         * timed-out datagram whose offset-0 fragment had arrived, with that
         * fragment as received, IP header first: the caller may send ICMP time
         * exceeded, code 1 (RFC 792; RFC 1122 3.3.2). Not called for
         * datagrams dropped or evicted before their timeout. The callee
         * must neither keep nor free it, nor call back into the reassembly
         * object. */
        void (*expired)(void *arg, struct mpnet_pkt *first_frag);
        void *arg;
        /* NULL, or bytes held by every object sharing one cap with this one
         * (all of a stack's contexts, both families): a charge that would
         * take it past shared_max evicts this object's own oldest
         * datagrams, then is refused (IP4_REASS_CAP). Changed with relaxed
         * atomics; the check and the charge are one compare-and-swap. */
        _Atomic uint64_t *shared_used;
        uint64_t shared_max;
        /* NULL, or asked (with arg) whether a fragment from src that would
         * start a new datagram while a cap binds may evict the oldest one
         * for it; false refuses it at once (IP4_REASS_CAP, counted in
         * refused): no datagram is evicted and nothing is held. Not asked
         * while the new datagram fits. */
        bool (*admit)(void *arg, uint32_t src);
};

/** What became of a packet given to ip4_reass_input(). */
enum ip4_reass_result {
        IP4_REASS_DONE = 0, /* returned: the whole datagram, or p was no fragment */
        IP4_REASS_HELD,     /* kept; its datagram is not complete yet */
        IP4_REASS_DUP,      /* exact duplicate of a held fragment: dropped */
        IP4_REASS_BAD,      /* malformed fragment: dropped */
        IP4_REASS_CAP,      /* refused by a cap (the fragment or its datagram dropped) */
        IP4_REASS_OVERLAP,  /* overlaps a held fragment: its whole datagram dropped */
        IP4_REASS_CONFLICT, /* disagrees on the datagram's end: whole datagram dropped */
};

struct ip4_reass_stats {
        uint64_t frags_in;       /* fragments (or malformed packets) offered */
        uint64_t completed;      /* datagrams reassembled */
        uint64_t timeouts;       /* datagrams freed by ip4_reass_expire() */
        uint64_t overlap_drops;  /* datagrams dropped for an overlap */
        uint64_t conflict_drops; /* datagrams dropped for inconsistent ends */
        uint64_t dup_drops;      /* exact duplicate fragments dropped */
        uint64_t cap_drops;      /* fragments refused, or datagrams dropped, by a cap */
        uint64_t evictions;      /* datagrams evicted (oldest first) to admit newer ones */
        uint64_t evicted_frags;  /* the fragments they held */
        uint64_t refused;        /* new datagrams the admit hook refused at a cap */
        uint64_t bad_drops;      /* malformed fragments (or assembled datagrams) dropped */
        uint64_t bytes_held;     /* buffer bytes held now (IP4_REASS_TRUESIZE each) */
        uint64_t datagrams_held; /* datagrams being reassembled now */
        uint64_t max_bytes;      /* the caps bytes_held and datagrams_held stay within */
        uint64_t max_datagrams;
};

struct ip4_reass;

/**
 * @param cfg tunables; NULL for all defaults.
 * @return a reassembly object, or NULL with errno EINVAL or ENOMEM.
 */
struct ip4_reass *ip4_reass_create(const struct ip4_reass_cfg *cfg);

/** Free the object and every fragment it holds (no callbacks). NULL is ignored. */
void ip4_reass_destroy(struct ip4_reass *r);

/** Free every datagram held (no callbacks) and zero the counters. */
void ip4_reass_flush(struct ip4_reass *r);

/**
 * Offer one packet to reassembly. Runs ip4_reass_expire(r, now) first.
 *
 * Datagrams are keyed by (source, destination, identification, protocol)
 * (RFC 791 3.2). Policy (RFC 5722 does the same for IPv6): a fragment that
 * overlaps a held one drops the whole datagram, unless it is an exact
 * duplicate (same range, same bytes), which alone is dropped. Caps: a fragment
 * that would take its source over max_per_src is refused; one that would take
 * its datagram past max_frags drops the datagram; reaching max_bytes or
 * max_datagrams evicts the oldest other datagrams.
 *
 * @param p one packet starting at its IPv4 header, already validated
 *   (version, IHL, total length, checksum), link padding trimmed. A
 *   non-fragment is returned as is.
 * @param now the current time, ns; must not go backwards.
 * @param res where to store the outcome; may be NULL.
 * @return NULL while the datagram is incomplete (p kept, or freed when *res
 *   says dropped), or the complete datagram: a chain of the fragments' own
 *   buffers (no copy). The first segment starts at the offset-0 fragment's
 *   IP header, with total length, MF, offset and checksum rewritten; later
 *   fragments' headers are stripped. pkt_len and nb_segs are set, and
 *   MPNET_PKT_F_L4_CSUM_OK is cleared.
 */
struct mpnet_pkt *ip4_reass_input(struct ip4_reass *r, struct mpnet_pkt *p, uint64_t now,
                                  enum ip4_reass_result *res);

/**
 * The refusal at a full table, told before ip4_reass_input() (which would
 * decide the same): whether p, a fragment, would start a new datagram
 * while a cap binds, so that cfg.admit decides whether it may evict. True
 * only where every check of ip4_reass_input() on the way is known to pass
 * (one buffer, no options, valid fragment fields, no expiry due, no
 * datagram of its key held), with *src its source; false: offer p to
 * ip4_reass_input(). p is not kept.
 */
bool ip4_reass_refusable(const struct ip4_reass *r, const struct mpnet_pkt *p, uint64_t now,
                         uint32_t *src);

/** Count n fragments refused that way (frags_in, refused, cap_drops). */
void ip4_reass_count_refused(struct ip4_reass *r, uint64_t n);

/**
 * Free every datagram whose timeout is at or before now, calling cfg.expired
 * for those whose offset-0 fragment had arrived.
 * @return the number of datagrams freed.
 */
unsigned ip4_reass_expire(struct ip4_reass *r, uint64_t now);

/** @return the earliest timeout of a held datagram, or MPNET_TIME_NEVER. O(1). */
uint64_t ip4_reass_next_expiry(const struct ip4_reass *r);

/** Take a snapshot of the counters. */
void ip4_reass_get_stats(const struct ip4_reass *r, struct ip4_reass_stats *st);

/** @return the evicted_frags counter alone (cheap: one load). */
uint64_t ip4_reass_evicted_frags(const struct ip4_reass *r);

/** @return a short name for a result, for messages. */
const char *ip4_reass_result_str(enum ip4_reass_result res);

#endif
