/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Toeplitz hash, its per-byte tables, the indirection table, and the hash
 * of an Ethernet frame.
 *
 * The hash is linear over GF(2): input bit p (counting from the most
 * significant bit of byte 0) adds the 32 key bits starting at bit p. So the
 * contribution of byte value v at position i is the XOR of the windows of
 * its set bits, and a table of 256 values per position replaces the bit loop.
 *
 * Synchronisation: none here; see rss.h for who may call what.
 */
#include <errno.h>
#include <string.h>

#include "mpnet/rss.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"

/* "Verifying the RSS Hash Calculation" (Microsoft), and NIC datasheets. */
const uint8_t mpnet_rss_key_ms[MPNET_RSS_KEY_LEN] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Woo and Park 2012: a key with a 16-bit period makes the hash symmetric. */
const uint8_t mpnet_rss_key_sym[MPNET_RSS_KEY_LEN] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

#define ETHERTYPE_QINQ   0x88a8 /* IEEE 802.1ad service tag */
#define VLAN_TAGS_MAX    2
#define IP6_HLEN         40
#define IP6_EXT_MAX      8 /* extension headers walked before giving up on ports */
#define IPPROTO_HOPOPTS  0
#define IPPROTO_ROUTING  43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_DSTOPTS  60

static uint8_t key_byte(const uint8_t *key, size_t key_len, size_t i)
{
        return i < key_len ? key[i] : 0;
}

uint32_t mpnet_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *data, size_t n)
{
        uint32_t result = 0, win = 0;
        size_t next = 0;

        /* win holds the 32 key bits starting at the current input bit. */
        for (; next < 4; next++)
                win = win << 8 | key_byte(key, key_len, next);
        for (size_t i = 0; i < n; i++, next++) {
                uint8_t in = key_byte(key, key_len, next);

                for (int b = 7; b >= 0; b--) {
                        if ((data[i] >> b) & 1)
                                result ^= win;
                        win = win << 1 | ((in >> b) & 1u);
                }
        }
        return result;
}

int mpnet_rss_init(struct mpnet_rss *rss, const uint8_t *key, size_t key_len)
{
        if (rss == NULL || key == NULL || key_len == 0 || key_len > MPNET_RSS_KEY_MAX)
                return -EINVAL;
        for (unsigned i = 0; i < MPNET_RSS_INPUT_MAX; i++) {
                uint64_t k = 0;
                uint32_t win[8]; /* win[j]: the window of bit j of the byte, 0 = MSB */
                uint32_t *t = rss->tbl[i];

                for (unsigned b = 0; b < 5; b++)
                        k = k << 8 | key_byte(key, key_len, i + b);
                for (unsigned j = 0; j < 8; j++)
                        win[j] = (uint32_t)(k >> (8 - j));
                t[0] = 0;
                for (unsigned v = 1; v < 256; v++)
                        t[v] = t[v & (v - 1)] ^ win[7 - __builtin_ctz(v)];
        }
        return 0;
}

uint32_t mpnet_rss_hash(const struct mpnet_rss *rss, const uint8_t *data, size_t n)
{
        return mpnet_rss_bytes_(rss, 0, data,
                                n < MPNET_RSS_INPUT_MAX ? (unsigned)n : MPNET_RSS_INPUT_MAX);
}

/* ---- the hash of a frame ------------------------------------------------ */

/*
 * b[0 .. n) is an IPv4 packet as far as the frame holds it. Ports only when
 * MF and the fragment offset are both clear: later fragments carry none, so
 * every fragment of a datagram hashes as the 2-tuple and lands on one queue.
 */
static uint32_t hash_ip4(const struct mpnet_rss *rss, const uint8_t *b, size_t n, unsigned *type)
{
        size_t hlen, end;
        uint32_t h;

        if (n < MPNET_IP4_HLEN || (b[0] >> 4) != 4)
                return 0;
        hlen = (size_t)(b[0] & 0x0f) * 4;
        if (hlen < MPNET_IP4_HLEN || hlen > n)
                return 0;
        h = mpnet_rss_be32_(rss, 0, mpnet_get_be32(b + 12)) ^
            mpnet_rss_be32_(rss, 4, mpnet_get_be32(b + 16));
        *type = MPNET_RSS_IP4;
        end = mpnet_get_be16(b + 2);
        if (end > n)
                end = n;
        if ((mpnet_get_be16(b + 6) & 0x3fff) != 0 ||
            (b[9] != MPNET_IPPROTO_TCP && b[9] != MPNET_IPPROTO_UDP) || end < hlen + 4)
                return h;
        *type = MPNET_RSS_IP4_L4;
        return h ^ mpnet_rss_be16_(rss, 8, mpnet_get_be16(b + hlen)) ^
               mpnet_rss_be16_(rss, 10, mpnet_get_be16(b + hlen + 2));
}

/*
 * The transport header of an IPv6 packet: walk hop-by-hop, routing and
 * destination options (RFC 8200 4.1); each is 8 + 8 * b[1] bytes. A fragment
 * header, or any other, ends the walk.
 * @return the offset of the ports, or 0 when there are none to hash.
 */
static size_t ip6_l4_off(const uint8_t *b, size_t end)
{
        uint8_t nh = b[6];
        size_t off = IP6_HLEN;

        for (unsigned i = 0; i < IP6_EXT_MAX; i++) {
                switch (nh) {
                case MPNET_IPPROTO_TCP:
                case MPNET_IPPROTO_UDP:
                        return end >= off + 4 ? off : 0;
                case IPPROTO_HOPOPTS:
                case IPPROTO_ROUTING:
                case IPPROTO_DSTOPTS:
                        if (end < off + 2)
                                return 0;
                        nh = b[off];
                        off += 8 + (size_t)b[off + 1] * 8;
                        break;
                case IPPROTO_FRAGMENT: /* as for IPv4: every fragment as the 2-tuple */
                        return 0;
                default: /* ESP, AH, no next header, ...: no ports to be had */
                        return 0;
                }
        }
        return 0;
}

static uint32_t hash_ip6(const struct mpnet_rss *rss, const uint8_t *b, size_t n, unsigned *type)
{
        size_t end = n, plen, l4;
        uint32_t h;

        if (n < IP6_HLEN || (b[0] >> 4) != 6)
                return 0;
        h = mpnet_rss_ip6(rss, b + 8, b + 24);
        *type = MPNET_RSS_IP6;
        /* A zero payload length is a jumbogram's (RFC 2675): the frame bounds it. */
        plen = mpnet_get_be16(b + 4);
        if (plen != 0 && IP6_HLEN + plen < end)
                end = IP6_HLEN + plen;
        l4 = ip6_l4_off(b, end);
        if (l4 == 0)
                return h;
        *type = MPNET_RSS_IP6_L4;
        return h ^ mpnet_rss_be16_(rss, 32, mpnet_get_be16(b + l4)) ^
               mpnet_rss_be16_(rss, 34, mpnet_get_be16(b + l4 + 2));
}

/* Skip up to two VLAN tags; @return the offset of the network header, 0 if cut short. */
static size_t eth_l3_off(const uint8_t *frame, size_t len, uint16_t *et)
{
        size_t off = MPNET_ETH_HLEN;

        if (len < MPNET_ETH_HLEN)
                return 0;
        *et = mpnet_get_be16(frame + 12);
        for (unsigned i = 0; i < VLAN_TAGS_MAX; i++) {
                if (*et != MPNET_ETHERTYPE_VLAN && *et != ETHERTYPE_QINQ)
                        break;
                if (len < off + 4)
                        return 0;
                *et = mpnet_get_be16(frame + off + 2);
                off += 4;
        }
        return off;
}

uint32_t mpnet_rss_hash_eth(const struct mpnet_rss *rss, const uint8_t *frame, size_t len,
                            unsigned *type)
{
        unsigned t = MPNET_RSS_NONE;
        uint16_t et = 0;
        size_t off = eth_l3_off(frame, len, &et);
        uint32_t h = 0;

        if (off != 0 && et == MPNET_ETHERTYPE_IPV4)
                h = hash_ip4(rss, frame + off, len - off, &t);
        else if (off != 0 && et == MPNET_ETHERTYPE_IPV6)
                h = hash_ip6(rss, frame + off, len - off, &t);
        if (type != NULL)
                *type = t;
        return h;
}

/* ---- the indirection table ---------------------------------------------- */

int mpnet_reta_init(struct mpnet_reta *reta, uint32_t size, uint16_t n_queues)
{
        if (size == 0)
                size = MPNET_RETA_DEFAULT;
        if (reta == NULL || size > MPNET_RETA_MAX || (size & (size - 1)) != 0 || n_queues == 0)
                return -EINVAL;
        reta->mask = size - 1;
        reta->n_queues = n_queues;
        for (uint32_t i = 0; i < MPNET_RETA_MAX; i++)
                atomic_init(&reta->q[i], (uint16_t)(i % n_queues));
        return 0;
}

int mpnet_reta_set(struct mpnet_reta *reta, uint32_t idx, uint16_t queue)
{
        if (reta == NULL || idx > reta->mask || queue >= reta->n_queues)
                return -EINVAL;
        atomic_store_explicit(&reta->q[idx], queue, memory_order_relaxed);
        return 0;
}
