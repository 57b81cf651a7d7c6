/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rx: the receiver. It takes what a link delivers, keeps frames that carry
 * this trial's signature and counts the rest as `other` (frames of another
 * trial, the DUT's ARP, anything malformed). Frames are read through checked
 * bounds only: Ethernet (one optional 802.1Q tag), IPv4 with a verified header
 * checksum or IPv6, UDP or TCP, then the signature.
 *
 * Per flow it keeps the highest sequence number seen and a window of the last
 * MPG_RX_WINDOW sequence numbers, a bit each:
 *   - a sequence at or beyond `next` advances the window (a gap is frames that
 *     may still come, or are lost);
 *   - one inside the window is a duplicate when its bit is set, otherwise a
 *     reordered frame (RFC 4737 section 3: it arrived after a higher one);
 *   - one behind the window is counted late (reordered; a duplicate so old
 *     cannot be told apart).
 * Unique frames are rx - dup, and loss is what the generator offered minus
 * unique frames.
 *
 * Latency is receive time minus the signature's transmit time, modulo 2^32 ns
 * (the signature carries the low 32 bits), into a log-linear histogram.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mpgen.h"

#define RX_HEAD_MIN 256u /* Ethernet, VLAN, IPv6, TCP with options and the signature fit */
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"

int mpg_rx_init(struct mpg_rx *r, struct mpnet_link *link, struct mpnet_clock *clock,
                uint32_t n_flows)
{
        memset(r, 0, sizeof(*r));
        r->link = link;
        r->clock = clock;
        r->n_flows = n_flows;
        r->flow = calloc(n_flows, sizeof(*r->flow));
        return r->flow == NULL ? -ENOMEM : 0;
}

void mpg_rx_fini(struct mpg_rx *r)
{
        free(r->flow);
        r->flow = NULL;
}

void mpg_rx_start(struct mpg_rx *r, uint8_t tag)
{
        r->tag = tag;
        r->rx = r->dup = r->reorder = r->late = r->other = 0;
        r->t_first = r->t_last = 0;
        r->k_next = r->t_prev = r->k_lost = r->outage_ns = r->outage_lost = 0;
        r->lost_any = false;
        atomic_store_explicit(&r->unique, 0, memory_order_relaxed);
        memset(r->flow, 0, r->n_flows * sizeof(*r->flow));
        if (r->lat != NULL)
                mpg_hist_reset(r->lat);
}

static bool win_test_set(struct mpg_flow_rx *f, uint32_t seq)
{
        uint32_t bit = seq % MPG_RX_WINDOW;
        uint64_t m = 1ull << (bit % 64);
        bool was = (f->win[bit / 64] & m) != 0;

        f->win[bit / 64] |= m;
        return was;
}

static void win_clear(struct mpg_flow_rx *f, uint32_t seq)
{
        uint32_t bit = seq % MPG_RX_WINDOW;

        f->win[bit / 64] &= ~(1ull << (bit % 64));
}

/* Account one signature frame of flow f. @return true when it is a duplicate. */
static bool flow_seq(struct mpg_rx *r, struct mpg_flow_rx *f, uint32_t seq)
{
        f->rx++;
        if (seq >= f->next) {
                uint32_t gap = seq - f->next;

                if (gap >= MPG_RX_WINDOW)
                        memset(f->win, 0, sizeof(f->win));
                else
                        for (uint32_t s = f->next; s != seq; s++)
                                win_clear(f, s);
                win_clear(f, seq);
                win_test_set(f, seq);
                f->next = seq + 1;
                return false;
        }
        if (f->next - seq <= MPG_RX_WINDOW) {
                if (win_test_set(f, seq)) {
                        f->dup++;
                        r->dup++;
                        return true;
                }
                f->reorder++;
                r->reorder++;
                return false;
        }
        f->late++;
        f->reorder++;
        r->late++;
        r->reorder++;
        return false;
}

/* Frame k of the stream arrived at now: a jump over frames not received is
 * loss (or reordering, which a single path rarely does); remember the last
 * frame skipped (system recovery) and the longest gap in arrival across a
 * jump (reset). Frames behind the last in-order one change nothing. */
static void stream_pos(struct mpg_rx *r, uint64_t k, uint64_t now)
{
        if (k < r->k_next)
                return;
        if (k > r->k_next) {
                r->lost_any = true;
                r->k_lost = k - 1;
                if (r->t_prev != 0 && now - r->t_prev > r->outage_ns) {
                        r->outage_ns = now - r->t_prev;
                        r->outage_lost = k - r->k_next;
                }
        }
        r->k_next = k + 1;
        r->t_prev = now;
}

/* @return the offset of the UDP or TCP payload (where the signature is),
 * or 0 when the frame is not ours. */
static unsigned sig_offset(const uint8_t *b, uint32_t n)
{
        unsigned off = MPNET_ETH_HLEN, l4;
        uint16_t type;
        uint8_t proto;

        if (n < MPNET_ETH_HLEN)
                return 0;
        type = mpnet_get_be16(b + 12);
        if (type == MPNET_ETHERTYPE_VLAN) {
                if (n < MPNET_ETH_HLEN + 4)
                        return 0;
                type = mpnet_get_be16(b + 16);
                off += 4;
        }
        if (type == MPNET_ETHERTYPE_IPV4) {
                struct mpnet_ip4_view ip;

                if (mpnet_ip4_view_check(b + off, n - off, &ip) != 0 || mpnet_ip4_is_fragment(&ip))
                        return 0;
                /* Test frames have no options: the 20-byte sum is five adds. */
                if (mpnet_ip4_hlen(&ip) == MPNET_IP4_HLEN ? !mpnet_csum20_ok(ip.b)
                                                          : !mpnet_ip4_csum_ok(&ip))
                        return 0;
                proto = mpnet_ip4_proto(&ip);
                l4 = off + (unsigned)mpnet_ip4_hlen(&ip);
        } else if (type == MPNET_ETHERTYPE_IPV6) {
                if (n < off + 40u || b[off] >> 4 != 6 ||
                    mpnet_get_be16(b + off + 4) > n - off - 40u)
                        return 0;
                proto = b[off + 6];
                l4 = off + 40u;
        } else {
                return 0;
        }
        if (proto == MPNET_IPPROTO_UDP) {
                if (n < l4 + 8u || mpnet_get_be16(b + l4 + 4) < 8u + MPG_SIG_LEN)
                        return 0;
                return l4 + 8u;
        }
        if (proto == MPNET_IPPROTO_TCP && n >= l4 + 20u && b[l4 + 12] >> 4 >= 5)
                return l4 + (b[l4 + 12] >> 4) * 4u;
        return 0;
}

void mpg_rx_frame(struct mpg_rx *r, const uint8_t *b, uint32_t n, uint64_t now)
{
        unsigned off = sig_offset(b, n);
        const uint8_t *sig;
        struct mpg_flow_rx *f;
        uint16_t flow;

        if (off == 0 || n < off + MPG_SIG_LEN)
                goto other;
        sig = b + off;
        flow = mpnet_get_be16(sig + 2);
        if (sig[0] != MPG_MAGIC || sig[1] != r->tag || flow >= r->n_flows)
                goto other;
        f = &r->flow[flow];
        r->rx++;
        if (r->t_first == 0)
                r->t_first = now;
        r->t_last = now;
        if (flow_seq(r, f, mpnet_get_be32(sig + 4)))
                return;
        stream_pos(r, (uint64_t)mpnet_get_be32(sig + 4) * r->n_flows + flow, now);
        if (r->lat != NULL)
                mpg_hist_add(r->lat, (uint32_t)((uint32_t)now - mpnet_get_be32(sig + 8)));
        return;
other:
        r->other++;
}

unsigned mpg_rx_step(struct mpg_rx *r)
{
        struct mpnet_pkt *v[MPNET_VEC_MAX];
        uint16_t n = mpnet_link_rx_burst(r->link, r->q, v, MPNET_VEC_MAX);
        /* The receive time is read after rx_burst: read before, it could
         * precede the transmit time of a frame sent in between. */
        uint64_t now = n > 0 ? mpg_time(r->tsc, r->clock) : 0;

        for (uint16_t i = 0; i < n; i++) {
                struct mpnet_pkt *p = v[i];

                /* A jumbo frame is a chain: what is read (headers and
                 * signature, within the first RX_HEAD_MIN bytes) is in its first
                 * buffer, the lengths are checked against the whole. */
                if (p->next == NULL)
                        mpg_rx_frame(r, p->data, p->len, now);
                else if (p->len >= RX_HEAD_MIN)
                        mpg_rx_frame(r, p->data, p->pkt_len, now);
                else
                        r->other++;
        }
        if (n > 0) {
                mpnet_pkt_free_bulk(v, n);
                atomic_store_explicit(&r->unique, r->rx - r->dup, memory_order_release);
        }
        return n;
}
