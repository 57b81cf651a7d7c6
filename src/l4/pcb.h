/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Protocol control blocks: which socket a datagram on a local port belongs
 * to, and which binds may share a port. Protocol-neutral: one table per
 * protocol per stack (UDP over both families, the ICMP echo ids of each
 * family, TCP listeners later), so dual-stack conflicts are decided in one
 * place, as Linux does.
 *
 * A table is 65536 slots indexed by local port, each NULL or an immutable
 * port set: every entry bound to that port, most specific first. Addresses
 * are 16 bytes: IPv4 as v4-mapped (::ffff:a.b.c.d, RFC 4291 2.5.5.2), and
 * all zeros is the wildcard of either family.
 *
 * Synchronisation: writers (pcb_bind, pcb_update, pcb_unbind) take the
 * table's lock, copy the port set, change the copy, publish it with a
 * release store and hand the old set to the retire callback, which frees
 * it with pcb_set_free() once no reader can hold it (the stack passes its
 * RCU deferral; a test with no concurrent reader frees at once). Readers
 * (pcb_lookup, any context) take no lock: they must be in an RCU read-side
 * section (a worker between quiescent states), and what they return stays
 * valid only as long as the socket does.
 * Lock order: the table's lock is a leaf; no packet path takes it.
 * Life cycle: pcb_table_destroy() frees every set at once; the caller makes
 * sure no reader is left.
 */
#ifndef MPNET_L4_PCB_H
#define MPNET_L4_PCB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct mpnet_sock;

/* pcb_ent.fam: which packets the entry takes. */
enum {
        PCB_FAM4 = 4,   /* an AF_INET socket */
        PCB_FAM6 = 6,   /* an AF_INET6 socket with IPV6_V6ONLY */
        PCB_FAM46 = 46, /* an AF_INET6 socket taking v4-mapped traffic too */
};

/* pcb_ent.flags */
enum {
        PCB_F_REUSEADDR = 1 << 0,
        PCB_F_REUSEPORT = 1 << 1,
        PCB_F_CONNECTED = 1 << 2, /* faddr, fport set */
        PCB_F_MCAST_MEMBER = 1 << 3,
};

struct pcb_ent {
        uint8_t laddr[16]; /* all zeros: any */
        uint8_t faddr[16]; /* with PCB_F_CONNECTED */
        uint16_t fport;
        uint8_t fam;
        uint8_t flags;
        uint8_t home;     /* context id (0 control thread, w + 1 worker w) */
        uint8_t bound_if; /* ifindex (stack ifindexes are at most 64), 0 any */
        uint16_t group;   /* SO_REUSEPORT group within the port, 0 none; set by pcb_bind */
        struct mpnet_sock *so;
};

struct pcb_set {
        uint16_t n;
        uint16_t n_groups; /* the highest group id in use */
        uint32_t gen;      /* the table's publication count when made */
        struct pcb_ent e[];
};

typedef void (*pcb_retire_fn)(void *arg, struct pcb_set *old);

struct pcb_table {
        pthread_mutex_t lock;
        pcb_retire_fn retire;
        void *retire_arg;
        uint32_t gen;
        /* Bit i: slots 512 i .. 512 i + 511 (a 4 KiB page of them) were
         * ever written (under the lock), so destroy reads only those and
         * never faults in the pages no port used. */
        uint64_t pages_used[2];
        /* 65536 slots, made on the first bind (512 KiB of address space,
         * pages touched per port used) and published with a release
         * store: a table nothing was bound in costs a few lines. */
        struct pcb_set *_Atomic *_Atomic slot;
};

/* A received datagram, addresses as 16 bytes (v4-mapped for IPv4). */
struct pcb_key {
        uint8_t fam; /* 4 or 6: the packet's */
        uint8_t ifindex;
        uint16_t sport, dport;
        uint8_t saddr[16], daddr[16];
};

/** @return a table (its slots made on the first bind: 512 KiB of address
 * space, pages touched per port used), or NULL. */
struct pcb_table *pcb_table_create(pcb_retire_fn retire, void *arg);
void pcb_table_destroy(struct pcb_table *t);
void pcb_set_free(struct pcb_set *set);

/**
 * Add e (its so, laddr, fam, flags, home, bound_if; faddr and fport when
 * connected) on port. It overlaps an entry when their families meet (a v4
 * socket and a dual-stack one whose laddr is the wildcard or v4-mapped),
 * their addresses meet (equal, or either the wildcard) and their bound
 * interfaces meet (equal, or either 0). An overlap conflicts unless both
 * have SO_REUSEADDR or both SO_REUSEPORT (Linux udp_lib_lport_inuse). Two
 * SO_REUSEPORT entries of the same family, address and interface form one
 * group (Linux udp_reuseport_add_sock).
 * @return 0; -EINVAL (port 0, a family the address cannot have, e->so NULL
 * or already on the port); -EADDRINUSE; -ENOMEM.
 */
int pcb_bind(struct pcb_table *t, uint16_t port, const struct pcb_ent *e);
/**
 * Replace the entry of e->so on port with e (connect, disconnect, a new
 * home, SO_REUSE* changed after bind). The port stays taken, so no conflict
 * is checked (Linux rehashes a connected UDP socket the same way); the
 * group is kept while the entry stays SO_REUSEPORT with the same address,
 * and recomputed otherwise.
 * @return 0; -EINVAL (as pcb_bind); -ENOENT when e->so is not on port;
 * -ENOMEM.
 */
int pcb_update(struct pcb_table *t, uint16_t port, const struct pcb_ent *e);
/** @return 0; -ENOENT when so is not on port; -ENOMEM (the set is a copy
 * too: nothing changed, the caller tries again). */
int pcb_unbind(struct pcb_table *t, uint16_t port, const struct mpnet_sock *so);

/**
 * Whether pcb_bind() would take e on port now: no entry there overlaps it
 * without sharing (the rules of pcb_bind()). The caller is an RCU reader;
 * the answer may be stale by the time it binds (pcb_bind() decides).
 */
bool pcb_port_free(const struct pcb_table *t, uint16_t port, const struct pcb_ent *e);

/**
 * The socket a datagram goes to, on context w, or NULL. The best score
 * wins: 4 each for a bound address and a bound interface, 8 for a connected
 * peer (its address and port),
 * 2 for an IPv4 socket over a dual-stack one on IPv4, 1 for a home of w
 * (Linux compute_score, FreeBSD in_pcblookup_hash_locked's wildcard rule);
 * on a tie the most recent bind. A winner in an SO_REUSEPORT group gives way
 * to the group's unconnected member by hash (Linux reuseport_select_sock):
 * among the members homed on w when there are some, so one flow keeps one
 * member and a group of a socket per worker keeps traffic local.
 * An IPv6 datagram from a v4-mapped source matches nothing (RFC 4291
 * 2.5.5.2). The caller is an RCU reader.
 */
struct mpnet_sock *pcb_lookup(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                              uint32_t hash);

/* pcb_lookup() with the hash computed only where an SO_REUSEPORT group
 * needs it (hf(arg), then stored at *hash; *hash is left alone
 * otherwise): a SYN flood's SYNs to a lone listener skip it. */
struct mpnet_sock *pcb_lookup_lazy(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                                   uint32_t (*hf)(const void *arg), const void *arg,
                                   uint32_t *hash);

/* A context's memo of its recent lookups (pcb_lookup_cached()): an answer
 * holds while the port's set is the one it came from, since sets are
 * immutable and each publication has a new gen. Direct-mapped by ports
 * and hash; a few lines. Owned by one context; zeroed: empty. */
#define PCB_CACHE_N 8

struct pcb_cache {
        struct {
                const struct pcb_set *set; /* NULL: empty */
                uint32_t gen, hash;
                struct mpnet_sock *so;
                struct pcb_key k;
        } e[PCB_CACHE_N];
};

/**
 * pcb_lookup() through c: the cached answer when the key, hash and the
 * port's set (pointer and gen) are those it was computed for, else a
 * lookup whose answer replaces the entry. w must be the same context for
 * every call with c. The caller is an RCU reader.
 */
struct mpnet_sock *pcb_lookup_cached(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                                     uint32_t hash, struct pcb_cache *c);

/**
 * Every socket a multicast or broadcast datagram goes to (Linux
 * __udp4_lib_mcast_deliver: each socket that would take it as unicast, the
 * score aside; membership filters are the caller's). Linux gives each
 * SO_REUSEPORT member a copy; with group_once a group counts as one socket,
 * its member chosen as pcb_lookup() would. Up to max are written to out, in
 * set order. The caller is an RCU reader.
 * @return how many there are (more than max when out was too small).
 */
unsigned pcb_match_all(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                       uint32_t hash, bool group_once, struct mpnet_sock **out, unsigned max);

/** @return the port's set, or NULL (an RCU reader, or under the lock). */
static inline struct pcb_set *pcb_set_get(const struct pcb_table *t, uint16_t port)
{
        struct pcb_set *_Atomic *slot =
            atomic_load_explicit(&((struct pcb_table *)t)->slot, memory_order_acquire);

        return slot != NULL ? atomic_load_explicit(&slot[port], memory_order_acquire) : NULL;
}

#endif
