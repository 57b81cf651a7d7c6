/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "base/siphash.h"
#include "l4/tcp_isn.h"

void tcp_tuple4(struct tcp_tuple *t, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        unsigned i;

        memcpy(t->laddr, mapped, 12);
        memcpy(t->raddr, mapped, 12);
        for (i = 0; i < 4; i++) {
                t->laddr[12 + i] = (uint8_t)(laddr >> (24 - 8 * i));
                t->raddr[12 + i] = (uint8_t)(raddr >> (24 - 8 * i));
        }
        t->lport = lport;
        t->rport = rport;
}

void tcp_tuple6(struct tcp_tuple *t, const uint8_t laddr[16], uint16_t lport,
                const uint8_t raddr[16], uint16_t rport)
{
        memcpy(t->laddr, laddr, 16);
        memcpy(t->raddr, raddr, 16);
        t->lport = lport;
        t->rport = rport;
}

bool tcp_tuple_is4(const struct tcp_tuple *t)
{
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        return memcmp(t->laddr, mapped, 12) == 0;
}

/* The tuple as SipHash's message: no padding. */
struct hash_in {
        uint8_t b[36];
        size_t n;
};

static void hash_tuple(struct hash_in *h, const struct tcp_tuple *t)
{
        memcpy(h->b, t->laddr, 16);
        memcpy(h->b + 16, t->raddr, 16);
        h->b[32] = (uint8_t)(t->lport >> 8);
        h->b[33] = (uint8_t)t->lport;
        h->b[34] = (uint8_t)(t->rport >> 8);
        h->b[35] = (uint8_t)t->rport;
        h->n = 36;
}

uint32_t tcp_isn(const uint8_t key[16], const struct tcp_tuple *t, uint64_t now_ns)
{
        struct hash_in h;

        hash_tuple(&h, t);
        /* RFC 6528 3: M, a timer ticking every 4 microseconds. */
        return (uint32_t)(now_ns / 4000) + (uint32_t)siphash24(key, h.b, h.n);
}

/* RFC 4987 3.6 leaves the encoding open; these are the sizes most peers
 * send (Linux's tables, net/ipv4/syncookies.c and net/ipv6/syncookies.c). */
static const uint16_t mss4[4] = {536, 1300, 1440, 1460};
static const uint16_t mss6[4] = {1220, 1420, 1440, 8940};

#define COUNT_BITS 3
#define MSS_BITS   2
#define HASH_BITS  (32 - COUNT_BITS - MSS_BITS)
#define HASH_MASK  ((1u << HASH_BITS) - 1)

static unsigned mss_index(const struct tcp_tuple *t, uint16_t peer_mss)
{
        const uint16_t *tab = tcp_tuple_is4(t) ? mss4 : mss6;
        unsigned i;

        for (i = 3; i > 0; i--)
                if (tab[i] <= peer_mss)
                        break;
        return i;
}

uint16_t tcp_cookie_mss(const struct tcp_tuple *t, uint16_t peer_mss)
{
        return (tcp_tuple_is4(t) ? mss4 : mss6)[mss_index(t, peer_mss)];
}

static uint64_t addr_word(const uint8_t *a)
{
        uint64_t v;

        memcpy(&v, a, 8);
        return v;
}

/* The MAC of RFC 4987 3.6: a keyed hash of the addresses, the ports, the
 * peer's ISN, the counter and the MSS index, as words (Linux's
 * cookie_hash: SipHash-2-4 of saddr, daddr, the ports and the count). An
 * IPv4 tuple is 2 words and the counter and MSS index 5 bytes in the
 * final block (10 SipRounds where its 48 mapped bytes took 18): the cost
 * of every SYN a full queue answers. Still SipHash-2-4, a MAC's margin.
 * The lengths differ, so an IPv4 and an IPv6 input never hash alike. */
static uint32_t cookie_hash(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                            uint32_t count, unsigned mssi)
{
        uint64_t w[5], tail = (uint64_t)count | (uint64_t)mssi << 32;
        uint64_t ports = (uint64_t)t->lport | (uint64_t)t->rport << 16 | (uint64_t)peer_isn << 32;

        if (tcp_tuple_is4(t)) {
                uint32_t l, r;

                memcpy(&l, t->laddr + 12, 4);
                memcpy(&r, t->raddr + 12, 4);
                w[0] = (uint64_t)l | (uint64_t)r << 32;
                w[1] = ports;
                return (uint32_t)siphash24_u64_tail(key, w, 2, tail, 5) & HASH_MASK;
        }
        w[0] = addr_word(t->laddr);
        w[1] = addr_word(t->laddr + 8);
        w[2] = addr_word(t->raddr);
        w[3] = addr_word(t->raddr + 8);
        w[4] = ports;
        return (uint32_t)siphash24_u64_tail(key, w, 5, tail, 5) & HASH_MASK;
}

uint32_t tcp_cookie_make(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                         uint16_t peer_mss, uint64_t now_s)
{
        uint32_t count = (uint32_t)(now_s / TCP_COOKIE_PERIOD_S);
        unsigned mssi = mss_index(t, peer_mss);

        return (count & ((1u << COUNT_BITS) - 1)) << (32 - COUNT_BITS) | mssi << HASH_BITS |
               cookie_hash(key, t, peer_isn, count, mssi);
}

uint16_t tcp_cookie_check_bits(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                               uint32_t cookie, uint64_t now_s, unsigned h_bits)
{
        uint32_t now = (uint32_t)(now_s / TCP_COOKIE_PERIOD_S), c = cookie >> (32 - COUNT_BITS);
        uint32_t mask = h_bits >= HASH_BITS ? HASH_MASK : (1u << h_bits) - 1;
        unsigned mssi = (cookie >> HASH_BITS) & ((1u << MSS_BITS) - 1), age;

        /* The period it names: now or the one before (the counter's low
         * bits, so a cookie 8 periods old is not taken for a new one: the
         * hash covers the full counter). */
        for (age = 0; age < 2; age++) {
                uint32_t count = now - age;

                if ((count & ((1u << COUNT_BITS) - 1)) != c)
                        continue;
                if (((cookie_hash(key, t, peer_isn, count, mssi) ^ cookie) & mask) != 0)
                        return 0;
                return (tcp_tuple_is4(t) ? mss4 : mss6)[mssi];
        }
        return 0;
}

uint16_t tcp_cookie_check(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                          uint32_t cookie, uint64_t now_s)
{
        return tcp_cookie_check_bits(key, t, peer_isn, cookie, now_s, HASH_BITS);
}

#define TS_MASK ((1u << TCP_COOKIE_TS_BITS) - 1)

uint32_t tcp_cookie_ts(uint32_t ts_now, const struct tcp_cookie_opts *o)
{
        uint32_t bits = (o->wscale_ok ? (o->wscale > 14 ? 14u : o->wscale) : 0xfu) |
                        (o->sack_ok ? 0x10u : 0) | (o->ecn_ok ? 0x20u : 0);
        uint32_t ts = (ts_now & ~TS_MASK) | bits;

        /* Never ahead of the clock: the next TSval must not look older. */
        if ((int32_t)(ts - ts_now) > 0)
                ts -= TS_MASK + 1;
        return ts;
}

void tcp_cookie_ts_decode(uint32_t ts_ecr, struct tcp_cookie_opts *o)
{
        uint32_t ws = ts_ecr & 0xf;

        o->wscale_ok = ws != 0xf;
        o->wscale = o->wscale_ok ? (uint8_t)(ws > 14 ? 14 : ws) : 0;
        o->sack_ok = (ts_ecr & 0x10) != 0;
        o->ecn_ok = (ts_ecr & 0x20) != 0;
}
