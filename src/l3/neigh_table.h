/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The neighbour table of one interface and family, the part of the
 * neighbour cache (l3/neigh.h) that struct mpnet_iface holds: apart so
 * that the interface does not see the cache's entries and functions.
 *
 * Synchronisation: see l3/neigh.h (chains read by workers without locks,
 * everything else the control thread's).
 */
#ifndef MPNET_L3_NEIGH_TABLE_H
#define MPNET_L3_NEIGH_TABLE_H

#include "base/tbucket.h"
#include "mpnet/pkt.h"
#include "mpnet/thread.h" /* MPNET_MAX_SLOTS */

/* 1,024 chains: at the table's cap (NEIGH_MAX_ENTRIES, 4,096) about four
 * entries a chain, so a flood of new next hops (each a lookup that misses,
 * an append at the tail and, at the cap, an eviction that unlinks) walks
 * four cold entries each time, not sixteen; 8 KiB per interface and
 * family. */
#define NEIGH_HASH_BITS 10
#define NEIGH_HASH_SIZE (1u << NEIGH_HASH_BITS)
/* A chain's filter: one of 16 bits per entry, picked by the four hash
 * bits under the chain's (l3/neigh.h neigh_filt_bit()). */
#define NEIGH_FILT_BITS 4

enum { NEIGH_ARP, NEIGH_ND, NEIGH_N };

struct neigh_entry;

/* A context's bucket of new resolutions, and the next hop it last let
 * through: on a worker the entry appears only once the control thread has
 * handled the punt, so the packets that follow to the same next hop meanwhile
 * find none either; they are not a new resolution and take no token. */
struct neigh_resolve_tb {
        struct punt_bucket tb;
        bool has_last;
        uint8_t last[16];
};

struct neigh_table {
        /* Read by workers: lines of their own. */
        _Alignas(MPNET_CACHE_LINE) struct neigh_entry *_Atomic hash[NEIGH_HASH_SIZE];
        /* Per chain, the OR of its entries' filter bits: a lookup whose
         * bit is clear has no entry and walks nothing (a flood of random
         * next hops or senders: a cold chain per frame, 2 KiB here against
         * 8 KiB of heads and the entries). Set before an entry is linked,
         * recomputed after one is unlinked: a reader may find a bit set for
         * an entry gone (it walks the chain), never one clear for an entry
         * present (docs/MP-SAFETY.md). */
        _Atomic uint16_t filt[NEIGH_HASH_SIZE];
        unsigned count;  /* the control thread's */
        unsigned n_perm; /* of them PERMANENT (configured): count - n_perm learnt */
        /* Entries never confirmed (l3/neigh.c), oldest first: what a full
         * table evicts. The control thread's. */
        struct neigh_entry *unconf_old, *unconf_new;
        /* Neighbour learning (neigh_learn_ok), a bucket per context by its
         * id, each written only by its context. */
        _Alignas(MPNET_CACHE_LINE) struct punt_bucket learn[MPNET_MAX_SLOTS + 1];
        /* Resolutions started (neigh_slow_output), likewise. */
        _Alignas(MPNET_CACHE_LINE) struct neigh_resolve_tb resolve[MPNET_MAX_SLOTS + 1];
};

#endif
