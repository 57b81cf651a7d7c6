/* SPDX-License-Identifier: BSD-2-Clause */
/* SipHash-c-d, written from the paper's description (section 2): 2-4, and
 * 1-3 for hash tables. */
#include <string.h>

#include "base/siphash.h"

static inline uint64_t rotl(uint64_t x, unsigned b)
{
        return (x << b) | (x >> (64 - b));
}

/* One load (the paper's words are little-endian): a byte loop here cost
 * about twice the rounds themselves. */
static inline uint64_t le64(const uint8_t *p)
{
        uint64_t v;

        memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        return v;
}

struct sip {
        uint64_t v0, v1, v2, v3;
};

static inline void round_(struct sip *s)
{
        s->v0 += s->v1;
        s->v1 = rotl(s->v1, 13) ^ s->v0;
        s->v0 = rotl(s->v0, 32);
        s->v2 += s->v3;
        s->v3 = rotl(s->v3, 16) ^ s->v2;
        s->v0 += s->v3;
        s->v3 = rotl(s->v3, 21) ^ s->v0;
        s->v2 += s->v1;
        s->v1 = rotl(s->v1, 17) ^ s->v2;
        s->v2 = rotl(s->v2, 32);
}

/* c SipRounds a block: 2, or 1 for SipHash-1-3; c is a constant at
 * every call, so the rounds are written out (a loop here cost SipHash-2-4
 * about 10 % more instructions). */
static inline __attribute__((always_inline)) void absorb(struct sip *s, uint64_t m, unsigned c)
{
        s->v3 ^= m;
        round_(s);
        if (c == 2)
                round_(s);
        s->v0 ^= m;
}

static inline struct sip sip_init(const uint8_t key[16])
{
        uint64_t k0 = le64(key), k1 = le64(key + 8);

        return (struct sip){k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                            k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
}

/* d finalization rounds: 4, or 3 for SipHash-1-3. */
static inline __attribute__((always_inline)) uint64_t sip_final(struct sip *s, uint64_t last,
                                                                unsigned c, unsigned d)
{
        absorb(s, last, c);
        s->v2 ^= 0xff;
        round_(s);
        round_(s);
        round_(s);
        if (d == 4)
                round_(s);
        return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t siphash24_u64_tail(const uint8_t key[16], const uint64_t *w, unsigned n, uint64_t tail,
                            unsigned tail_len)
{
        struct sip s = sip_init(key);

        for (unsigned i = 0; i < n; i++)
                absorb(&s, w[i], 2);
        return sip_final(&s, tail | (uint64_t)(8 * n + tail_len) << 56, 2, 4);
}

uint64_t siphash24_u64(const uint8_t key[16], const uint64_t *w, unsigned n)
{
        return siphash24_u64_tail(key, w, n, 0, 0);
}

uint64_t siphash13_u64(const uint8_t key[16], const uint64_t *w, unsigned n)
{
        struct sip s = sip_init(key);

        for (unsigned i = 0; i < n; i++)
                absorb(&s, w[i], 1);
        return sip_final(&s, (uint64_t)(8 * n) << 56, 1, 3);
}

uint64_t siphash24(const uint8_t key[16], const void *m, size_t n)
{
        const uint8_t *b = m;
        uint64_t last = (uint64_t)n << 56;
        struct sip s = sip_init(key);
        size_t i = 0;

        for (; i + 8 <= n; i += 8)
                absorb(&s, le64(b + i), 2);
        if (i < n) {
                uint8_t tail[8] = {0};

                memcpy(tail, b + i, n - i);
                last |= le64(tail);
        }
        return sip_final(&s, last, 2, 4);
}
