/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: IPv4 reassembly (l3/ip4_frag.c) on its own, with small
 * caps so eviction, the per-source cap and the fragment cap are reached.
 *
 * The input is a sequence of records: one byte of time step (its square in
 * milliseconds: up to 65 s, so the 30 s timeout is reached in a few steps),
 * a 2-byte big-endian length and that many bytes of IPv4 packet. A packet
 * that does not check as IPv4 is skipped; the header checksum is filled in,
 * so mutations reach the fragment logic instead of dying on the checksum.
 * Each packet is placed at the very end of its buffer (ASan sees a read past
 * it). A datagram handed back must be whole: its header's total length is
 * its pkt_len, its checksum verifies, and no fragment is left over. One
 * reassembly object serves every input, flushed after each (as new: no
 * datagram, counters at 0; making it anew per input, with the memory it
 * makes on its first fragment, cost more than the input); at the end of
 * each input every buffer is back in the pool.
 */
#include <stdlib.h>

#include "fuzz_wire.h"
#include "l3/ip4_frag.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ipv4.h"

static struct mpnet_pool *pool;
static struct ip4_reass *r;

static struct mpnet_pkt *to_pkt(const uint8_t *b, size_t n)
{
        struct mpnet_ip4_view v;
        struct mpnet_pkt *p;
        size_t hlen;

        if (n > MPNET_PKT_DATA_SIZE || mpnet_ip4_view_check(b, n, &v) != 0)
                return NULL;
        p = mpnet_pkt_alloc(pool);
        if (p == NULL)
                return NULL;
        n = v.n; /* link padding trimmed, as ip4-input does */
        hlen = mpnet_ip4_hlen(&v);
        p->data = mpnet_pkt_buf(p) + MPNET_PKT_BUF_SIZE - n;
        memcpy(p->data, b, n);
        p->len = p->pkt_len = (uint32_t)n;
        p->data[10] = p->data[11] = 0;
        mpnet_put_be16(p->data + 10, mpnet_csum(p->data, hlen));
        return p;
}

static void check_datagram(struct mpnet_pkt *d)
{
        struct mpnet_ip4_view v;

        FUZZ_ASSERT(d->len >= MPNET_IP4_HLEN);
        FUZZ_ASSERT(mpnet_get_be16(d->data + 2) == d->pkt_len);
        FUZZ_ASSERT((mpnet_get_be16(d->data + 6) & 0x3fff) == 0);
        FUZZ_ASSERT(mpnet_ip4_view_check(d->data, d->len, &v) == 0 || d->next != NULL);
        FUZZ_ASSERT(mpnet_csum(d->data, (size_t)(d->data[0] & 0x0f) * 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ip4_reass_cfg cfg = {.hash_seed = 1,
                                    .max_bytes = 48 * IP4_REASS_TRUESIZE,
                                    .max_per_src = 32 * IP4_REASS_TRUESIZE,
                                    .max_datagrams = 8,
                                    .max_frags = 16};
        uint64_t now = 1000000000ull;

        if (pool == NULL && (pool = mpnet_pool_create("fuzz", 256)) == NULL)
                __builtin_trap();
        if (r == NULL && (r = ip4_reass_create(&cfg)) == NULL)
                __builtin_trap();
        while (size >= 3) {
                size_t len = (size_t)data[1] << 8 | data[2];
                enum ip4_reass_result res;
                struct mpnet_pkt *p, *d;

                now += (uint64_t)data[0] * data[0] * 1000000ull;
                data += 3;
                size -= 3;
                if (len > size)
                        len = size;
                p = to_pkt(data, len);
                data += len;
                size -= len;
                if (p == NULL)
                        continue;
                d = ip4_reass_input(r, p, now, &res);
                if (d != NULL) {
                        FUZZ_ASSERT(res == IP4_REASS_DONE);
                        check_datagram(d);
                        mpnet_pkt_free(d);
                }
        }
        ip4_reass_flush(r);
        FUZZ_ASSERT(mpnet_pool_in_use(pool) == 0);
        return 0;
}
