/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The retransmission timer's value (RFC 6298): SRTT and RTTVAR from RTT
 * samples, RTO = SRTT + max(G, 4 RTTVAR) bounded by a floor and 60 s,
 * Karn's rule (no sample from a retransmitted segment, 3), exponential
 * backoff on expiry (5.5) kept until a valid sample arrives. Times in
 * microseconds. Pure: the caller owns the struct (20 bytes) and the clock.
 */
#ifndef MPNET_L4_TCP_RTO_H
#define MPNET_L4_TCP_RTO_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_RTO_INIT_US     1000000u  /* RFC 6298 2.1 */
#define TCP_RTO_MIN_US      1000000u  /* RFC 6298 2.4; Linux uses 200 ms */
#define TCP_RTO_MAX_US      60000000u /* RFC 6298 2.5 */
#define TCP_RTO_G_US        1000u     /* the clock granularity G assumed */
#define TCP_RTO_SYN_LOST_US 3000000u  /* RFC 6298 5.7 */

struct tcp_rto {
        uint32_t srtt_us; /* 0 until the first sample */
        uint32_t rttvar_us;
        uint32_t rto_us; /* without backoff */
        uint32_t min_us; /* the floor */
        uint8_t backoff; /* expiries since the last valid sample */
};

/** Start with RTO 1 s (RFC 6298 2.1) and floor min_us (TCP_RTO_MIN_US, or
 * 200000 as Linux). */
void tcp_rto_init(struct tcp_rto *r, uint32_t min_us);
/**
 * One RTT measurement (RFC 6298 2.2, 2.3). Karn's rule: a sample from a
 * segment that was retransmitted is ignored (@return false). A valid one
 * clears the backoff (@return true).
 */
bool tcp_rto_sample(struct tcp_rto *r, uint32_t rtt_us, bool retransmitted);
/** RFC 6298 5.5: the timer expired; the next value doubles (up to 60 s). */
void tcp_rto_backoff(struct tcp_rto *r);
/** RFC 6298 5.7: the SYN or SYN-ACK was lost and no sample came: with no
 * RTT measured, data starts with RTO 3 s. */
void tcp_rto_syn_lost(struct tcp_rto *r);
/** @return the timer's value now: the RTO doubled per expiry, at most 60 s. */
uint32_t tcp_rto_us(const struct tcp_rto *r);

#endif
