/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987 3.6).
 * Pure functions of a 16-byte secret, the connection's 4-tuple and the
 * time the caller passes in: no state, any thread.
 *
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey) (RFC
 * 6528 3), M a 4-microsecond clock, F the low 32 bits of SipHash-2-4 over
 * the tuple under the key.
 *
 * A SYN cookie is the ISS of a SYN-ACK sent without keeping state; the
 * peer's ACK (SEG.ACK - 1) brings it back. Layout, most significant first:
 *   3 bits   the 64-second counter, mod 8
 *   2 bits   the MSS, an index into a table of four per family
 *   27 bits  SipHash(key, tuple, peer's ISN, full counter, MSS index)
 * A cookie is good for the counter it was made in and the next one (64 to
 * 128 s). A forged ACK passes when its counter bits name one of the two
 * valid counters (2/8) and its 27 hash bits match (2^-27): 2^-29 per try.
 * The peer's window scale, SACK-permitted and ECN-setup ride in the low 6
 * bits of the SYN-ACK's TSval when the SYN had timestamps (as Linux and
 * FreeBSD do); without timestamps a cookie connection has neither window
 * scaling nor SACK. Those bits are not covered by the hash: a peer can
 * only claim options it could have asked for in its SYN.
 */
#ifndef MPNET_L4_TCP_ISN_H
#define MPNET_L4_TCP_ISN_H

#include <stdbool.h>
#include <stdint.h>

/* A connection seen from our side. Addresses are 16 bytes, IPv4 as
 * v4-mapped (::ffff:a.b.c.d) as in l4/pcb.h; ports in host order. */
struct tcp_tuple {
        uint8_t laddr[16], raddr[16];
        uint16_t lport, rport;
};

void tcp_tuple4(struct tcp_tuple *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                uint16_t rport);
void tcp_tuple6(struct tcp_tuple *t, const uint8_t laddr[16], uint16_t lport,
                const uint8_t raddr[16], uint16_t rport);
/** @return true when t's addresses are IPv4 (v4-mapped). */
bool tcp_tuple_is4(const struct tcp_tuple *t);

/** RFC 6528: the ISN for t at now_ns (any monotonic nanosecond clock). */
uint32_t tcp_isn(const uint8_t key[16], const struct tcp_tuple *t, uint64_t now_ns);

#define TCP_COOKIE_PERIOD_S 64

/** The MSS a cookie can carry: IPv4 {536, 1300, 1440, 1460}, IPv6 {1220,
 * 1420, 1440, 8940} (each the largest not above the peer's). */
uint16_t tcp_cookie_mss(const struct tcp_tuple *t, uint16_t peer_mss);

/**
 * The ISS of a SYN-ACK to a SYN with sequence number peer_isn and MSS
 * option peer_mss (536 if none, RFC 9293 3.7.1) at now_s seconds. The MSS
 * it carries is tcp_cookie_mss(t, peer_mss).
 */
uint32_t tcp_cookie_make(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                         uint16_t peer_mss, uint64_t now_s);

/**
 * Check the cookie an ACK brings back: cookie = SEG.ACK - 1, peer_isn =
 * SEG.SEQ - 1.
 * @return the MSS it carried, or 0 when it is not one of ours, for this
 * tuple, made in the current or the previous 64-second period.
 */
uint16_t tcp_cookie_check(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                          uint32_t cookie, uint64_t now_s);

/* The same with h_bits (1 to 27) hash bits compared: for measuring the
 * forgery rate at a width a test can count. */
uint16_t tcp_cookie_check_bits(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                               uint32_t cookie, uint64_t now_s, unsigned h_bits);

/** The SYN options a cookie connection keeps, in its timestamp. */
struct tcp_cookie_opts {
        bool wscale_ok; /* the SYN had a window scale option */
        uint8_t wscale; /* its shift (0 to 14) */
        bool sack_ok;
        bool ecn_ok;
};

#define TCP_COOKIE_TS_BITS 6

/**
 * The TSval of the SYN-ACK: ts_now with its low 6 bits replaced by o (4
 * bits of shift, 15 for none; SACK-permitted; ECN), stepped back one
 * period of 64 ticks when that would put it past ts_now, so the clock the
 * peer sees never runs backwards.
 */
uint32_t tcp_cookie_ts(uint32_t ts_now, const struct tcp_cookie_opts *o);
/** Read the options back from the ACK's TSecr (every 6-bit value decodes;
 * a shift field of 15 means none). */
void tcp_cookie_ts_decode(uint32_t ts_ecr, struct tcp_cookie_opts *o);

#endif
