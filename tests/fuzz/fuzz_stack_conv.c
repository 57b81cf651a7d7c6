/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: a conversation with a stack on two interfaces, so the
 * state machines that need several frames and time are reached: ARP and ND
 * resolution and NUD, DAD of the stack's own addresses (on, not skipped),
 * SLAAC and the default router list from advertisements, MLD, IPv4 and
 * IPv6 reassembly and their timeouts, forwarding between the interfaces.
 *
 * Input: one mode byte (bit 0: a router, IPv4 and IPv6 forwarding on and
 * advertising on interface 2; else a host that follows advertisements;
 * bit 1: RFC 7217 stable interface identifiers), then records of
 *   1 byte   time step: its square in milliseconds (0 .. 65 s)
 *   1 byte   interface: bit 0 picks 1 or 2
 *   2 bytes  big-endian frame length, then the frame
 * Each record moves the virtual clock, polls the stack (timers run), sends
 * the frame in from the peer's end of that interface's wire (placed at the
 * very end of its buffer, for ASan), polls again and drops what the stack
 * sent. A new stack per input, so a crash reproduces from its input alone;
 * at the end every packet buffer must be back in the pool.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Pool and wires outlive the inputs: every input returns every buffer. */
static struct mpnet_pool *pool;
static struct mpnet_link *ours[2], *peer[2];

static void setup_once(void)
{
        struct mpnet_memwire_cfg wc[2] = {
            {.name = "c0", .mac_a = {0x02, 0, 0, 0, 1, 1}, .mac_b = {0x02, 0, 0, 0, 1, 2}},
            {.name = "c1", .mac_a = {0x02, 0, 0, 0, 2, 1}, .mac_b = {0x02, 0, 0, 0, 2, 2}},
        };

        pool = mpnet_pool_create("fuzz", 1024);
        if (pool == NULL || mpnet_memwire_create(&wc[0], &ours[0], &peer[0]) != 0 ||
            mpnet_memwire_create(&wc[1], &ours[1], &peer[1]) != 0)
                __builtin_trap();
}

static void drain(struct mpnet_link *l)
{
        struct mpnet_pkt *p[64];
        uint16_t n;

        while ((n = mpnet_link_rx_burst(l, 0, p, 64)) > 0)
                mpnet_pkt_free_bulk(p, n);
}

/* 192.0.2.1/24 and 2001:db8::1/64 on 1, 198.51.100.1/24 and
 * 2001:db8:1::1/64 on 2; 203.0.113.0/24 and 2001:db8:5::/48 through the
 * peer on 2 (resolved by ARP and ND, not configured). */
static void configure(struct mpnet_stack *s, bool router)
{
        static const uint8_t a6[2][16] = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1},
                                          {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1}};
        struct mpnet_route4 r4 = {.dst = 0xcb007100,
                                  .plen = 24,
                                  .type = MPNET_NH_GATEWAY,
                                  .n_paths = 1,
                                  .paths = {{.ifindex = 2, .gw = 0xc6336402}}};
        struct mpnet_route6 r6 = {
            .dst = {0x20, 0x01, 0x0d, 0xb8, 0, 5},
            .plen = 48,
            .type = MPNET_NH_GATEWAY,
            .n_paths = 1,
            .paths = {{.ifindex = 2, .gw = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2}}}};
        struct mpnet_ra_cfg ra = {.n_prefix = 1,
                                  .prefix = {{.prefix = {0x20, 0x01, 0x0d, 0xb8, 0, 1},
                                              .plen = 64,
                                              .onlink = true,
                                              .autonomous = true}}};

        mpnet_iface_attach(s, ours[0], "c0");
        mpnet_iface_attach(s, ours[1], "c1");
        mpnet_addr4_add(s, 1, 0xc0000201, 24);
        mpnet_addr4_add(s, 2, 0xc6336401, 24);
        mpnet_addr6_add(s, 1, a6[0], 64, 0);
        mpnet_addr6_add(s, 2, a6[1], 64, 0);
        mpnet_route4_add(s, 0, &r4);
        mpnet_route6_add(s, 0, &r6);
        if (router)
                mpnet_iface_ra_set(s, 2, &ra);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_clock clk;
        struct mpnet_stack_cfg sc = {.name = "conv", .seed = 1, .ip6_auto = true};
        struct mpnet_stack *s;

        if (size < 1)
                return 0;
        if (pool == NULL)
                setup_once();
        mpnet_clock_init_virtual(&clk, 1000000000ull);
        sc.clock = &clk;
        sc.pool = pool;
        sc.ip4_forwarding = sc.ip6_forwarding = (data[0] & 1) != 0;
        sc.ip6_stable_iid = (data[0] & 2) != 0;
        s = mpnet_stack_create(&sc);
        if (s == NULL)
                __builtin_trap();
        configure(s, sc.ip4_forwarding);
        data++;
        size--;
        while (size >= 4) {
                struct mpnet_link *l = peer[data[1] & 1];
                size_t len = (size_t)data[2] << 8 | data[3];
                struct mpnet_pkt *p;

                mpnet_clock_advance(&clk, (uint64_t)data[0] * data[0] * 1000000ull);
                mpnet_stack_poll(s, mpnet_clock_now(&clk));
                data += 4;
                size -= 4;
                if (len > size)
                        len = size;
                if (len <= MPNET_PKT_DATA_SIZE && (p = mpnet_pkt_alloc(pool)) != NULL) {
                        p->data = mpnet_pkt_buf(p) + MPNET_PKT_BUF_SIZE - len;
                        memcpy(p->data, data, len);
                        p->len = p->pkt_len = (uint32_t)len;
                        if (mpnet_link_tx_burst(l, 0, &p, 1) != 1)
                                mpnet_pkt_free(p);
                }
                data += len;
                size -= len;
                mpnet_stack_poll(s, mpnet_clock_now(&clk));
                drain(peer[0]);
                drain(peer[1]);
        }
        mpnet_stack_destroy(s);
        for (unsigned i = 0; i < 2; i++) {
                drain(ours[i]);
                drain(peer[i]);
        }
        if (mpnet_pool_in_use(pool) != 0)
                __builtin_trap(); /* a leak of packet buffers */
        return 0;
}
