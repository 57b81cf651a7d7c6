/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The path MTU cache of a stack, IPv4 (RFC 1191) and IPv6 (RFC 8201)
 * together: destinations as 16 bytes, v4-mapped for IPv4.
 *
 * Synchronisation: the control thread writes (ICMP errors are its own:
 * workers punt them); every context reads lock-free. An entry is a
 * sequence lock of atomic words: the writer makes the count odd, writes,
 * makes it even; a reader retries when the count moved or was odd. An
 * entry ages out (RFC 1191 6.3, RFC 8201 4: try the larger MTU again)
 * when its time passes; readers compare with their own time and never
 * write.
 */
#ifndef MPNET_L3_PMTU_H
#define MPNET_L3_PMTU_H

#include <stdbool.h>
#include <stdint.h>

struct mpnet_stack;
struct wctx;

#define PMTU_LIFETIME_NS (600 * MPNET_NS_PER_S) /* RFC 1191 6.3, RFC 8201 5.3: 10 min */
#define PMTU4_MIN        552u /* Linux's ip_rt_min_pmtu: no lower (RFC 5927 7.2) */

/* The cached path MTU to dst at time now, or 0. Any context. */
uint32_t pmtu_get(const struct mpnet_stack *s, const uint8_t dst[16], uint64_t now);
/* Whether any entry was made since the stack began or was reset: a
 * packet path asks the cache (and the time) only then. Any context. */
bool pmtu_any(const struct mpnet_stack *s);
/* Lower the path MTU to dst to mtu (never raise a live entry: RFC 1191
 * 6.1, RFC 8201 4). @return whether it changed. Control thread. */
bool pmtu_lower(struct mpnet_stack *s, const uint8_t dst[16], uint32_t mtu);
/* IPv4: fragmentation needed (RFC 1191 4) for dst, next-hop MTU mtu (0 from
 * an old router: the plateau below the quoted total length, RFC 1191 5),
 * clamped to PMTU4_MIN. Counted. Control thread. */
void pmtu4_frag_needed(struct mpnet_stack *s, uint32_t dst, uint32_t mtu, uint16_t quoted_len);
/* The MTU of the path to dst (v4-mapped for IPv4): its route's interface
 * MTU (through oif when not 0), lowered by the cache. @return 0 with no
 * route. Any context (now: its time). */
uint32_t path_mtu(struct mpnet_stack *s, const uint8_t dst[16], int oif, uint64_t now);

#endif
