/* SPDX-License-Identifier: BSD-2-Clause */
#include "l4/tcp_rto.h"

static uint32_t clamp(const struct tcp_rto *r, uint64_t v)
{
        if (v < r->min_us)
                v = r->min_us;
        return v > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : (uint32_t)v;
}

void tcp_rto_init(struct tcp_rto *r, uint32_t min_us)
{
        r->srtt_us = 0;
        r->rttvar_us = 0;
        r->min_us = min_us;
        r->rto_us = TCP_RTO_INIT_US < min_us ? min_us : TCP_RTO_INIT_US;
        r->backoff = 0;
}

bool tcp_rto_sample(struct tcp_rto *r, uint32_t rtt_us, bool retransmitted)
{
        uint64_t var4;

        if (retransmitted)
                return false; /* Karn: which transmission does it time? */
        if (rtt_us == 0)
                rtt_us = 1; /* keep 0 meaning "no sample yet" */
        if (r->srtt_us == 0) {
                /* 2.2: SRTT <- R, RTTVAR <- R/2 */
                r->srtt_us = rtt_us;
                r->rttvar_us = rtt_us / 2;
        } else {
                /* 2.3, beta 1/4 and alpha 1/8, RTTVAR first (it uses the
                 * old SRTT). */
                uint32_t d = r->srtt_us > rtt_us ? r->srtt_us - rtt_us : rtt_us - r->srtt_us;

                r->rttvar_us = (uint32_t)((3ull * r->rttvar_us + d) / 4);
                r->srtt_us = (uint32_t)((7ull * r->srtt_us + rtt_us) / 8);
        }
        var4 = 4ull * r->rttvar_us;
        r->rto_us = clamp(r, r->srtt_us + (var4 > TCP_RTO_G_US ? var4 : TCP_RTO_G_US));
        r->backoff = 0;
        return true;
}

void tcp_rto_backoff(struct tcp_rto *r)
{
        if (r->backoff < 31 && ((uint64_t)r->rto_us << r->backoff) < TCP_RTO_MAX_US)
                r->backoff++;
}

void tcp_rto_syn_lost(struct tcp_rto *r)
{
        if (r->srtt_us == 0) {
                r->rto_us = clamp(r, TCP_RTO_SYN_LOST_US);
                r->backoff = 0;
        }
}

uint32_t tcp_rto_us(const struct tcp_rto *r)
{
        uint64_t v = (uint64_t)r->rto_us << r->backoff;

        return v > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : (uint32_t)v;
}
