/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP sequence arithmetic and the segment acceptability rules as pure
 * predicates: no state, no clock, any thread.
 *
 * - Sequence numbers compare modulo 2^32 (RFC 9293 3.4): a is before b when
 *   b - a, as a signed 32-bit number, is positive, so the comparisons hold
 *   across the wrap as long as the two are within 2^31 of each other. The
 *   same arithmetic serves timestamps (RFC 7323 5.2).
 * - tcp_seg_acceptable(): the first check of RFC 9293 3.10.7.4 (the four
 *   cases of segment length and receive window).
 * - tcp_paws_ok(), tcp_ts_recent_take(): RFC 7323 5.3 R1 and 4.3.
 * - tcp_rst_check(), tcp_syn_check(), tcp_ack_check(): RFC 5961 3.2, 4.2
 *   and 5.2, each saying accept, challenge ACK or drop. Challenge ACKs are
 *   rate-limited by the caller (RFC 5961 7).
 */
#ifndef MPNET_L4_TCP_SEQ_H
#define MPNET_L4_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b)
{
        return (int32_t)(a - b) < 0;
}
static inline bool seq_leq(uint32_t a, uint32_t b)
{
        return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
        return (int32_t)(a - b) > 0;
}
static inline bool seq_geq(uint32_t a, uint32_t b)
{
        return (int32_t)(a - b) >= 0;
}
/** @return true when lo <= a < hi in sequence space (hi - lo the width:
 * an empty range holds nothing). */
static inline bool seq_in(uint32_t a, uint32_t lo, uint32_t hi)
{
        return a - lo < hi - lo;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
        return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
        return seq_lt(a, b) ? a : b;
}

/**
 * RFC 9293 3.10.7.4, first check: whether a segment of seg_len octets of
 * sequence space (data plus SYN and FIN) starting at seq falls in the
 * receive window [rcv_nxt, rcv_nxt + rcv_wnd):
 *   length 0, window 0:   SEG.SEQ = RCV.NXT
 *   length 0, window > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   length > 0, window 0: not acceptable
 *   length > 0, window > 0: its first or its last octet in the window.
 * The last case is taken as "some octet in the window", which also admits a
 * segment that starts before the window and ends past it (both its ends
 * outside): it carries octets the window wants, and Linux (tcp_sequence())
 * and FreeBSD (tcp_input's trimming) accept it too; the caller trims it to
 * the window. An unacceptable segment is answered with an ACK (unless it is a RST) and
 * dropped.
 */
static inline bool tcp_seg_acceptable(uint32_t rcv_nxt, uint32_t rcv_wnd, uint32_t seq,
                                      uint32_t seg_len)
{
        if (seg_len == 0)
                return rcv_wnd == 0 ? seq == rcv_nxt : seq_in(seq, rcv_nxt, rcv_nxt + rcv_wnd);
        if (rcv_wnd == 0)
                return false;
        return seq_lt(seq, rcv_nxt + rcv_wnd) && seq_geq(seq + seg_len - 1, rcv_nxt);
}

/** RFC 7323 5.5: TS.Recent is no longer valid after 24 days idle. */
#define TCP_PAWS_IDLE_S (24u * 24 * 3600)

/**
 * RFC 7323 5.3 R1, PAWS: a segment whose TSval is older than TS.Recent is
 * not acceptable (ACK and drop) unless TS.Recent is stale (the connection
 * idle for 24 days or more, 5.5) or the segment is a RST (5.3: RSTs are
 * acceptable whatever their timestamp). Only for segments that carry a
 * timestamp on a connection that negotiated them.
 * @param idle_s seconds since TS.Recent was taken
 */
static inline bool tcp_paws_ok(uint32_t ts_val, uint32_t ts_recent, uint32_t idle_s, bool rst)
{
        return rst || idle_s >= TCP_PAWS_IDLE_S || seq_geq(ts_val, ts_recent);
}

/**
 * RFC 7323 4.3 (2): whether a segment's TSval becomes TS.Recent: it is not
 * older than TS.Recent and the segment starts at or before Last.ACK.sent
 * (the RCV.NXT last acknowledged), so a delayed ACK echoes the earliest
 * unacknowledged segment's time. Call it for acceptable segments only.
 */
static inline bool tcp_ts_recent_take(uint32_t ts_val, uint32_t ts_recent, uint32_t seq,
                                      uint32_t last_ack_sent)
{
        return seq_geq(ts_val, ts_recent) && seq_leq(seq, last_ack_sent);
}

/** What to do with a segment (RFC 5961). */
enum tcp_verdict {
        TCP_ACCEPT,        /* process it */
        TCP_CHALLENGE_ACK, /* drop it and send an ACK (rate-limited, RFC 5961 7) */
        TCP_DROP,          /* drop it silently */
};

/**
 * RFC 5961 3.2, a RST in a synchronized state: it resets the connection
 * only when SEG.SEQ = RCV.NXT exactly; anywhere else in the receive window
 * it gets a challenge ACK; outside, it is dropped.
 */
static inline enum tcp_verdict tcp_rst_check(uint32_t rcv_nxt, uint32_t rcv_wnd, uint32_t seq)
{
        if (seq == rcv_nxt)
                return TCP_ACCEPT;
        return seq_in(seq, rcv_nxt, rcv_nxt + rcv_wnd) ? TCP_CHALLENGE_ACK : TCP_DROP;
}

/**
 * RFC 5961 4.2, a SYN in a synchronized state: whatever its sequence
 * number, a challenge ACK (never a reset, the blind-reset attack 4.1).
 * TIME_WAIT's reuse by a new SYN (RFC 6191) is decided before this.
 */
static inline enum tcp_verdict tcp_syn_check(void)
{
        return TCP_CHALLENGE_ACK;
}

/**
 * RFC 5961 5.2 (and RFC 9293 3.10.7.4, fifth check): SEG.ACK is acceptable
 * when SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (an old duplicate within
 * the largest window the peer offered is accepted and ignored by the
 * caller); otherwise the segment is dropped with a challenge ACK.
 * @param max_snd_wnd the largest window the peer has advertised (scaled)
 */
static inline enum tcp_verdict tcp_ack_check(uint32_t snd_una, uint32_t snd_nxt,
                                             uint32_t max_snd_wnd, uint32_t ack)
{
        return seq_geq(ack, snd_una - max_snd_wnd) && seq_leq(ack, snd_nxt) ? TCP_ACCEPT
                                                                            : TCP_CHALLENGE_ACK;
}

#endif
