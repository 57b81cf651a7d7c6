/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Congestion control, pluggable (issue 16): a connection holds a struct
 * tcp_cc (cwnd and ssthresh in bytes, and 32 bytes of the algorithm's own
 * state: 56 bytes in all) and calls its ops; algorithms are found by name
 * in a registry. Two are built in: "newreno" (RFC 5681 with appropriate
 * byte counting, RFC 3465, and RFC 6582's recovery exit) and "cubic" (RFC
 * 9438, the default).
 *
 * Division of labour with the state machine: the algorithm owns cwnd and
 * ssthresh; the state machine owns loss detection and recovery (SACK-based
 * RFC 6675 or NewReno's partial ACKs, RACK-TLP, PRR (tcp_prr_ack below)):
 * it calls on_loss() once when it enters recovery or on an RTO,
 * on_recovery_exit() when recovery ends, and on_ack() for every ACK that
 * advances SND.UNA outside recovery and outside an ECN reduction (ACKs
 * inside either leave cwnd to PRR). Times are microseconds on any monotonic clock.
 * Pure per connection: no lock, no allocation, the owning worker only.
 */
#ifndef MPNET_L4_TCP_CC_H
#define MPNET_L4_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_cc;

enum tcp_cc_loss {
        TCP_CC_LOSS_FAST, /* fast retransmit: entering loss recovery */
        TCP_CC_LOSS_RTO,  /* the retransmission timer expired */
};

struct tcp_cc_ops {
        const char *name;
        /** Initial window (RFC 6928: min(10 MSS, max(2 MSS, 14600))) and
         * ssthresh "arbitrarily high" (RFC 5681 3.1). */
        void (*init)(struct tcp_cc *c, uint32_t mss, uint64_t now_us);
        /** acked bytes newly acknowledged; rtt_us the RTT sample this ACK
         * gave (0: none, Karn); outside recovery. */
        void (*on_ack)(struct tcp_cc *c, uint32_t acked, uint32_t rtt_us, uint64_t now_us);
        /** A congestion event; flight is FlightSize (bytes outstanding). */
        void (*on_loss)(struct tcp_cc *c, enum tcp_cc_loss kind, uint32_t flight, uint64_t now_us);
        /** Recovery ended (a full ACK, RFC 6582 3.2 step 3). */
        void (*on_recovery_exit)(struct tcp_cc *c, uint32_t flight, uint64_t now_us);
};

struct tcp_cc {
        const struct tcp_cc_ops *ops;
        uint32_t cwnd, ssthresh; /* bytes */
        uint32_t mss;
        uint32_t acked_ca; /* bytes acked toward the next MSS in avoidance (RFC 3465) */
        /* Slow start's cap on what one ACK grows cwnd by, in bytes: 0 is
         * RFC 3465's L = 2 SMSS; a sender of super-segments (TSO) sets
         * the largest it sent, which its receiver ACKs at once as one
         * segment (GRO), so an ACK for one grows cwnd as the ACKs of every
         * second of its pieces would. */
        uint32_t abc_max;
        uint64_t priv[4]; /* the algorithm's */
};

/** @return the algorithm registered under name, or NULL. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);
/** Add an algorithm (control thread, before connections use it).
 * @return 0, -EEXIST for a name taken, -ENOSPC with 8 registered. */
int tcp_cc_register(const struct tcp_cc_ops *ops);
/** The default: CUBIC (RFC 9438). */
const struct tcp_cc_ops *tcp_cc_default(void);

/** Bind c to ops and start it. */
static inline void tcp_cc_init(struct tcp_cc *c, const struct tcp_cc_ops *ops, uint32_t mss,
                               uint64_t now_us)
{
        c->ops = ops;
        c->abc_max = 0;
        ops->init(c, mss, now_us);
}
static inline uint32_t tcp_cc_cwnd(const struct tcp_cc *c)
{
        return c->cwnd;
}
static inline uint32_t tcp_cc_ssthresh(const struct tcp_cc *c)
{
        return c->ssthresh;
}
static inline bool tcp_cc_in_slow_start(const struct tcp_cc *c)
{
        return c->cwnd < c->ssthresh;
}

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/* Shared by the built-in algorithms. */
void tcp_cc_reno_init(struct tcp_cc *c, uint32_t mss);
/** RFC 5681 3.1 with RFC 3465's byte counting: slow start grows by the
 * bytes acked, at most L = 2 MSS per ACK; avoidance by one MSS per cwnd
 * of bytes acked. @return the bytes acked left over after slow start
 * reached ssthresh (0 in avoidance: it counts them itself). */
uint32_t tcp_cc_slow_start(struct tcp_cc *c, uint32_t acked);
void tcp_cc_reno_avoid(struct tcp_cc *c, uint32_t acked);

/* Proportional Rate Reduction (RFC 6937 3, with RFC 9937's SafeACK, as
 * Linux's tcp_cwnd_reduction): in fast recovery the state machine sets
 * cwnd to pipe + sndcnt on each ACK, so that what goes out falls in
 * proportion to what the peer got, from FlightSize down to ssthresh,
 * instead of a cut to ssthresh at entry (a burst, or silence, follows
 * that cut). Bytes throughout. */
struct tcp_prr {
        uint32_t recover_fs; /* RecoverFS: FlightSize at the start */
        uint32_t delivered;  /* prr_delivered */
        uint32_t out;        /* prr_out */
};

static inline void tcp_prr_init(struct tcp_prr *p, uint32_t flight)
{
        p->recover_fs = flight == 0 ? 1 : flight;
        p->delivered = p->out = 0;
}
/** One ACK in recovery: delivered the bytes it newly acknowledged or
 * SACKed (DeliveredData), pipe the bytes in the network now (RFC 6675
 * SetPipe), safe_ack whether it advanced SND.UNA and showed no new loss.
 * @return the cwnd to use (pipe + sndcnt). */
uint32_t tcp_prr_ack(struct tcp_prr *p, uint32_t ssthresh, uint32_t pipe, uint32_t delivered,
                     bool safe_ack, uint32_t mss);
/** prr_out: bytes sent (new or again) in recovery. */
static inline void tcp_prr_sent(struct tcp_prr *p, uint32_t n)
{
        p->out += n;
}

/* Undo of a reduction found spurious (RFC 3708 3.2's D-SACK detection,
 * RFC 4015's response, as Linux's undo_marker / undo_retrans): when an
 * episode starts (fast recovery or an RTO, not an ECN reduction) cwnd and
 * ssthresh before it are kept, and every byte retransmitted in it is
 * counted; a D-SACK of sequence space inside the episode says both copies
 * arrived and takes its bytes off. Once every retransmission came back
 * duplicated and recovery is over, no segment was lost: cwnd and ssthresh
 * go back (each the larger of now and before, RFC 4015 3.2). A real loss
 * leaves a retransmission that is never D-SACKed: no undo. */
struct tcp_undo {
        bool on;            /* an episode may still be undone */
        uint32_t una, high; /* SND.UNA, SND.NXT when it started */
        uint32_t cwnd, ssthresh;
        uint32_t rtx;     /* bytes retransmitted, not D-SACKed */
        uint32_t rtx_all; /* bytes retransmitted in the episode */
};

/** An episode starts (before on_loss cuts c): a new one unless one is
 * under way whose sequence space SND.UNA has not passed yet (an RTO in
 * recovery keeps the first one's window to go back to). */
void tcp_undo_start(struct tcp_undo *u, const struct tcp_cc *c, uint32_t una, uint32_t nxt);
/** n bytes retransmitted. */
static inline void tcp_undo_rtx(struct tcp_undo *u, uint32_t n)
{
        if (u->on) {
                u->rtx += n;
                u->rtx_all += n;
        }
}
/** A D-SACK block [l, r) came. */
void tcp_undo_dsack(struct tcp_undo *u, uint32_t l, uint32_t r);
/** Outside recovery: when every retransmission was D-SACKed, put cwnd
 * and ssthresh back. @return whether it did. */
bool tcp_undo_try(struct tcp_undo *u, struct tcp_cc *c);

/* CUBIC's window in segments t seconds into an epoch (RFC 9438 4.2,
 * Figure 1) and K (Figure 2), for tests. */
#define TCP_CUBIC_C    0.4
#define TCP_CUBIC_BETA 0.7
double tcp_cubic_w(double w_max, double k, double t);
double tcp_cubic_k(double w_max, double cwnd_epoch);

#endif
