/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: arbitrary frames into a stack's input.
 *
 * The input is a sequence of frames, each a 2-byte big-endian length and that
 * many bytes. Each frame is placed at the very end of its buffer, so under
 * ASan (whose build poisons a gap after every buffer) a read past the frame is
 * reported. Between frames the virtual clock moves, so ARP and ND timers run
 * too. The stack speaks IPv4 and IPv6 (a host on both, an IPv6 router).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_env {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *a, *b;
        struct mpnet_stack *s;
};

/* The pool and the wire outlive the inputs (they are costly to make, and
 * every input must return every buffer anyway); each input gets a new stack
 * and clock, so a crash reproduces from its input alone. */
static struct mpnet_pool *fz_pool;
static struct mpnet_link *link_a, *link_b;

static void drain(struct mpnet_link *l)
{
        struct mpnet_pkt *p[64];
        uint16_t n;

        while ((n = mpnet_link_rx_burst(l, 0, p, 64)) > 0)
                mpnet_pkt_free_bulk(p, n);
}

static void env_init(struct fuzz_env *e)
{
        struct mpnet_stack_cfg sc = {
            .name = "fuzz", .seed = 1, .ip6_auto = true, .ip6_forwarding = true};
        /* 2001:db8::1/64 ours, 2001:db8::2 the peer, 2001:db8:5::/48 via it. */
        static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
        struct mpnet_route6 r6 = {
            .dst = {0x20, 0x01, 0x0d, 0xb8, 0, 5},
            .plen = 48,
            .type = MPNET_NH_GATEWAY,
            .n_paths = 1,
            .paths = {{.ifindex = 1, .gw = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}}}};
        struct mpnet_memwire_cfg wc = {
            .name = "fz", .mac_a = {0x02, 0, 0, 0, 0, 1}, .mac_b = {0x02, 0, 0, 0, 0, 2}};
        static const uint8_t peer[6] = {0x02, 0, 0, 0, 0, 2};

        if (fz_pool == NULL) {
                fz_pool = mpnet_pool_create("fuzz", 1024);
                if (fz_pool == NULL || mpnet_memwire_create(&wc, &link_a, &link_b) != 0)
                        __builtin_trap();
        }
        e->pool = fz_pool;
        e->a = link_a;
        e->b = link_b;
        mpnet_clock_init_virtual(&e->clk, 1000000000ull);
        sc.clock = &e->clk;
        sc.pool = e->pool;
        e->s = mpnet_stack_create(&sc);
        mpnet_iface_attach(e->s, e->a, "f0");
        mpnet_addr4_add(e->s, 1, 0xc0000201, 24); /* 192.0.2.1/24 */
        mpnet_addr4_add(e->s, 1, 0xc6120001, 15); /* 198.18.0.1/15 */
        mpnet_neigh4_add(e->s, 1, 0xc0000202, peer);
        mpnet_addr6_add(e->s, 1, a6, 64, MPNET_ADDR6_F_NODAD);
        mpnet_neigh6_add(e->s, 1, r6.paths[0].gw, peer);
        mpnet_route6_add(e->s, 0, &r6);
}

static void env_fini(struct fuzz_env *e)
{
        mpnet_stack_destroy(e->s);
        drain(e->a);
        drain(e->b);
        if (mpnet_pool_in_use(e->pool) != 0)
                __builtin_trap(); /* a leak of packet buffers */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_env e;

        env_init(&e);
        while (size >= 2) {
                size_t len = (size_t)data[0] << 8 | data[1];
                struct mpnet_pkt *p;

                data += 2;
                size -= 2;
                if (len > size)
                        len = size;
                if (len > MPNET_PKT_DATA_SIZE)
                        len = MPNET_PKT_DATA_SIZE;
                p = mpnet_pkt_alloc(e.pool);
                if (p == NULL)
                        break;
                p->data = mpnet_pkt_buf(p) + MPNET_PKT_BUF_SIZE - len;
                memcpy(p->data, data, len);
                p->len = p->pkt_len = (uint32_t)len;
                if (mpnet_link_tx_burst(e.b, 0, &p, 1) != 1)
                        mpnet_pkt_free(p);
                data += len;
                size -= len;
                mpnet_stack_poll(e.s, mpnet_clock_now(&e.clk));
                mpnet_clock_advance(&e.clk, 700 * 1000000ull);
                drain(e.b);
        }
        mpnet_stack_poll(e.s, mpnet_clock_now(&e.clk));
        env_fini(&e);
        return 0;
}
