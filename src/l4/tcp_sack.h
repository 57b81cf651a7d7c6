/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sender's use of the peer's SACK blocks (l4/tcp_sack.c: the send map
 * as scoreboard, RFC 6675 loss recovery) and RACK-TLP (l4/tcp_rack.c: RFC
 * 8985's time-based loss detection and the tail loss probe), private to
 * the TCP module. l4/tcp_data.c sends; these files decide what.
 *
 * The send map is one record per segment in flight (SND.UNA to SND.NXT):
 * where it ends, when it was last sent, and its scoreboard bits (SACKed,
 * lost, retransmitted). It is the scoreboard of RFC 6675 (a segment is
 * SACKed when a block covers it whole: a partly covered one is not,
 * which errs on the side of retransmitting) and holds the per-segment
 * transmit times RACK needs. 12 bytes a segment, allocated on the first
 * send and freed when the flight is empty; bounded by the send buffer (at
 * most one record per TCP_SACK_MIN_SEG bytes of it: beyond that a new
 * segment is merged into the last record).
 *
 * Synchronisation: the connection's home context only, as struct
 * tcp_data.
 */
#ifndef MPNET_L4_TCP_SACK_H
#define MPNET_L4_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

struct mpnet_tcp_opts;

/* tcp_state.recov: what the sender uses (tests compare them). */
enum {
        TCP_RECOV_NEWRENO = 0, /* duplicate ACKs only (RFC 6582), SACK blocks ignored */
        TCP_RECOV_SACK = 1,    /* RFC 6675 when SACK is agreed */
        TCP_RECOV_RACK = 2,    /* RFC 6675 and RFC 8985 (the default) */
};

#define TCP_DUPTHRESH    3   /* RFC 6675 2 */
#define TCP_SACK_MIN_SEG 256 /* the bound on records: one per this many buffer bytes */

/* tcp_seg.f */
enum {
        TCP_SEG_SACKED = 1 << 0,
        TCP_SEG_LOST = 1 << 1, /* judged lost (IsLost, RACK or RTO) */
        TCP_SEG_RTXQ = 1 << 2, /* a retransmission of it is in flight */
        TCP_SEG_RTX = 1 << 3,  /* retransmitted at least once (Karn, RACK) */
        TCP_SEG_FIN = 1 << 4,  /* its last sequence number is the FIN */
};

struct tcp_seg {
        uint32_t end;     /* SEG.SEQ + SEG.LEN; it starts where the one before ends */
        uint32_t t_us;    /* when last sent (microseconds, wrapping) */
        uint32_t xo : 24; /* the order it was last sent in (wrapping) */
        uint32_t f : 8;
};

/* A windowed minimum (Kathleen Nichols' algorithm, as Linux's
 * win_minmax): the least, second-least and third-least samples of
 * successive parts of the window, so the minimum over the last win_us
 * is known without keeping every sample, and rises when the path gets
 * slower. */
struct tcp_minmax {
        struct {
                uint32_t t_us, v;
        } s[3];
};
#define TCP_MIN_RTT_WIN_US (300u * 1000000u) /* Linux's tcp_min_rtt_wlen */

/* rtx_at's meaning when the connection has a struct tcp_sack. */
enum { TCP_TMR_RTO, TCP_TMR_PTO, TCP_TMR_REO };

struct tcp_sack {
        /* The send map: a ring of n records from head, the first starting
         * at una. */
        struct tcp_seg *seg;
        uint32_t head, n, cap, max;
        uint32_t una;
        uint32_t sacked;   /* bytes SACKed above una */
        uint32_t n_sacked; /* segments SACKed */
        uint8_t mode;      /* TCP_RECOV_* */
        uint8_t timer;     /* TCP_TMR_* */
        /* RFC 6675 4-5. */
        bool recovery;
        bool rescue_on; /* rescue_rxt holds a value */
        uint32_t recovery_point, high_rxt, rescue_rxt;
        /* RFC 8985 6.1. */
        uint32_t rack_xmit_us, rack_xo, rack_rtt_us;
        uint32_t min_rtt_us; /* over the last min_rtt_win_us (6.2 step 1) */
        uint32_t min_rtt_win_us;
        struct tcp_minmax min_rtt;
        uint32_t xo;      /* transmissions so far (tcp_seg.xo) */
        uint32_t rtx_end; /* the highest end retransmitted */
        uint32_t fack;    /* the highest end acknowledged or SACKed */
        uint32_t dsack_round;
        bool rack_on, reo_seen, dsack_round_on;
        uint8_t reo_wnd_mult, reo_wnd_persist;
        /* RFC 8985 7. */
        bool tlp_on, tlp_rtx;
        uint32_t tlp_end;
};

/* What one ACK told (tcp_sack_ack). */
struct tcp_sack_ev {
        uint32_t newly_sacked;     /* bytes */
        bool dsack;                /* its first block was a D-SACK (RFC 2883) */
        uint32_t dsack_l, dsack_r; /* that block */
        bool tlp_loss;             /* a probe repaired a loss: reduce cwnd (RFC 8985 7.4.2) */
        unsigned lost;             /* segments newly judged lost (IsLost) */
        unsigned rack_lost;        /* segments newly judged lost by RACK */
        uint32_t reo_us;           /* RACK's reordering timer to arm (0: none) */
};

/* l4/tcp_sack.c */
struct tcp_sack *tcp_sack_new(uint8_t mode, uint32_t sndbuf);
/* tcp_sack_new's on a zeroed k (one from a cache). */
void tcp_sack_init(struct tcp_sack *k, uint8_t mode, uint32_t sndbuf);
void tcp_sack_free(struct tcp_sack *k);
/* [seq, end) was sent at now_us (new data, or a retransmission of
 * recorded segments; fin: end - 1 is the FIN). */
void tcp_sack_sent(struct tcp_sack *k, uint32_t seq, uint32_t end, bool fin, uint32_t now_us);
/* An ACK (cumulative ack, its options; SND.NXT before it; the sender's
 * SMSS and SRTT): drop what it acknowledges, take its SACK blocks, judge
 * losses (RFC 6675 IsLost; with RACK, RFC 8985 6.2). */
void tcp_sack_ack(struct tcp_sack *k, uint32_t ack, const struct mpnet_tcp_opts *o,
                  uint32_t snd_nxt, uint32_t smss, uint32_t srtt_us, uint32_t now_us,
                  struct tcp_sack_ev *ev);
/* RFC 6675 4 SetPipe(): bytes presumed in the network. */
uint32_t tcp_sack_pipe(const struct tcp_sack *k);
/* Whether the first unacknowledged segment is judged lost (IsLost(HighACK
 * + 1)) or RACK judged any. */
bool tcp_sack_lost(const struct tcp_sack *k);
/* RFC 6675 4 NextSeg() rule 1 (rule 3, rule 4 with rule): a
 * retransmission [*seq, *end) (*fin: it ends with the FIN). @return
 * whether there is one. */
bool tcp_sack_next(struct tcp_sack *k, int rule, uint32_t snd_nxt, uint32_t smss, uint32_t *seq,
                   uint32_t *end, bool *fin);
/* Enter loss recovery (RFC 6675 5 step 4). @return the first segment to
 * retransmit at once (step 4.3), or false when all is SACKed. */
bool tcp_sack_enter(struct tcp_sack *k, uint32_t snd_una, uint32_t snd_nxt, uint32_t smss,
                    uint32_t *seq, uint32_t *end, bool *fin);
/* An RTO: every segment not SACKed is lost (RFC 6675 5.1); the SACKed
 * bits are cleared as well on the second timeout in a row, in case the
 * peer reneged (RFC 2018 8). */
void tcp_sack_rto(struct tcp_sack *k, uint8_t tries);
/* Where a go-back-N send from seq may start (past SACKed segments) and how
 * long it may be (to the end of its segment). */
uint32_t tcp_sack_skip(const struct tcp_sack *k, uint32_t seq, uint32_t *len);

/* l4/tcp_rack.c (RFC 8985) */
/* Take the sample v at t_us into m. @return the minimum over the last
 * win_us. */
uint32_t tcp_minmax_min(struct tcp_minmax *m, uint32_t win_us, uint32_t t_us, uint32_t v);
/* For each segment an ACK newly acknowledged or SACKed (RFC 8985 6.2
 * steps 1-2). */
void tcp_rack_update(struct tcp_sack *k, const struct tcp_seg *s, uint32_t now_us);
/* Steps 4-5: mark lost what was sent a reordering window before the
 * latest delivered segment. @return the reordering timer to arm (us, 0:
 * none). */
uint32_t tcp_rack_detect(struct tcp_sack *k, uint32_t srtt_us, uint32_t now_us, unsigned *lost);
/* A D-SACK came (step 4's window adaptation). */
void tcp_rack_dsack(struct tcp_sack *k, uint32_t snd_una, uint32_t snd_nxt);
/* Recovery ended. */
void tcp_rack_recovery_exit(struct tcp_sack *k);
/* RFC 8985 7.2: the PTO (us) to arm now, 0: none (probing, in recovery,
 * or no RTT yet). rto_left_us caps it. */
uint32_t tcp_rack_pto(const struct tcp_sack *k, uint32_t srtt_us, uint32_t flight, uint32_t smss,
                      uint32_t rto_left_us);

#endif
