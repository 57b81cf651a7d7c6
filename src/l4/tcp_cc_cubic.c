/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CUBIC (RFC 9438): after a congestion event the window follows
 * W_cubic(t) = C (t - K)^3 + W_max, concave up to the window where the
 * loss happened and convex past it, never below the window Reno would
 * have (the Reno-friendly estimate W_est). Windows are computed in
 * segments as floats; cwnd itself stays in bytes. Slow start is Reno's
 * (HyStart++ is not done); spurious-loss undo (4.9) is not done.
 */
#include <math.h>

#include "l4/tcp_cc.h"

struct cubic {
        uint64_t epoch_us; /* start of the avoidance epoch, 0: none yet */
        float w_max;       /* segments: the window at the last event (4.2) */
        float k;           /* seconds */
        float w_est;       /* segments: the Reno-friendly window (4.3) */
        float cwnd_prior;  /* segments: cwnd when ssthresh was last set */
        uint32_t rtt_us;   /* smoothed from the samples on_ack gets */
        uint8_t after_rto; /* the next epoch starts with K = 0 (4.8) */
};

_Static_assert(sizeof(struct cubic) <= sizeof(((struct tcp_cc *)0)->priv),
               "CUBIC's state fits tcp_cc.priv");

/* 4.3: alpha = 3 (1 - beta) / (1 + beta) gives Reno's average rate. */
#define ALPHA (3.0 * (1.0 - TCP_CUBIC_BETA) / (1.0 + TCP_CUBIC_BETA))

double tcp_cubic_w(double w_max, double k, double t)
{
        double d = t - k;

        return TCP_CUBIC_C * d * d * d + w_max;
}

double tcp_cubic_k(double w_max, double cwnd_epoch)
{
        /* Figure 2: K = cbrt((W_max - cwnd_epoch) / C). */
        return cbrt((w_max - cwnd_epoch) / TCP_CUBIC_C);
}

static struct cubic *cu(struct tcp_cc *c)
{
        return (struct cubic *)c->priv;
}

static void cubic_init(struct tcp_cc *c, uint32_t mss, uint64_t now_us)
{
        struct cubic *s = cu(c);

        tcp_cc_reno_init(c, mss);
        *s = (struct cubic){0};
}

static void epoch_start(struct tcp_cc *c, struct cubic *s, uint64_t now_us)
{
        double w = (double)c->cwnd / c->mss;

        s->epoch_us = now_us ? now_us : 1;
        /* 4.8: after a timeout, and when avoidance starts above the last
         * W_max (out of slow start with no event yet), the curve starts
         * at the plateau: W_max = cwnd, K = 0. */
        if (s->after_rto || s->w_max < w) {
                s->w_max = (float)w;
                s->k = 0;
        } else {
                s->k = (float)tcp_cubic_k(s->w_max, w);
        }
        s->after_rto = 0;
        s->w_est = (float)w;
}

static void cubic_on_ack(struct tcp_cc *c, uint32_t acked, uint32_t rtt_us, uint64_t now_us)
{
        struct cubic *s = cu(c);
        double w, t, segs, target;

        if (rtt_us != 0)
                s->rtt_us = s->rtt_us == 0 ? rtt_us : (uint32_t)((7ull * s->rtt_us + rtt_us) / 8);
        if (tcp_cc_in_slow_start(c)) {
                acked = tcp_cc_slow_start(c, acked);
                if (acked == 0)
                        return;
        }
        if (s->epoch_us == 0)
                epoch_start(c, s, now_us);
        w = (double)c->cwnd / c->mss;
        segs = (double)acked / c->mss;
        t = (double)(now_us - s->epoch_us) * 1e-6;
        /* 4.3: W_est grows by alpha per window acked; alpha becomes 1 once
         * W_est reaches the window before the reduction. */
        s->w_est += (float)((s->w_est >= s->cwnd_prior ? 1.0 : ALPHA) * segs / w);
        if (tcp_cubic_w(s->w_max, s->k, t) < s->w_est) {
                /* The Reno-friendly region. */
                if (s->w_est > w)
                        c->cwnd = (uint32_t)(s->w_est * c->mss);
                return;
        }
        /* 4.4, 4.5: aim at W_cubic one RTT ahead, between cwnd and
         * 1.5 cwnd, growing by (target - cwnd) / cwnd per segment acked. */
        target = tcp_cubic_w(s->w_max, s->k, t + (double)s->rtt_us * 1e-6);
        if (target < w)
                target = w;
        if (target > 1.5 * w)
                target = 1.5 * w;
        c->cwnd += (uint32_t)((target - w) / w * acked);
        if (c->cwnd > (1u << 30))
                c->cwnd = 1u << 30;
}

static void cubic_on_loss(struct tcp_cc *c, enum tcp_cc_loss kind, uint32_t flight, uint64_t now_us)
{
        struct cubic *s = cu(c);
        double w = (double)c->cwnd / c->mss;
        uint32_t ss = (uint32_t)(flight * TCP_CUBIC_BETA);

        /* 4.7, fast convergence: a window below the last W_max means a new
         * flow is taking its share: give up more. */
        s->w_max = (float)(w < s->w_max ? w * (1.0 + TCP_CUBIC_BETA) / 2.0 : w);
        s->cwnd_prior = (float)w;
        /* 4.6: ssthresh = FlightSize * beta, at least 2 segments. */
        c->ssthresh = ss > 2 * c->mss ? ss : 2 * c->mss;
        /* 4.8: a timeout falls back to Reno's 1 SMSS. */
        c->cwnd = kind == TCP_CC_LOSS_RTO ? c->mss : c->ssthresh;
        c->acked_ca = 0;
        s->epoch_us = 0;
        s->after_rto = kind == TCP_CC_LOSS_RTO;
}

static void cubic_on_recovery_exit(struct tcp_cc *c, uint32_t flight, uint64_t now_us)
{
        /* The reduced window, as after PRR (RFC 6937): the epoch starts
         * with the next ACK. */
        c->cwnd = c->ssthresh;
        cu(c)->epoch_us = 0;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_recovery_exit = cubic_on_recovery_exit,
};
