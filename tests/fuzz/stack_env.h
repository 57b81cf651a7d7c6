/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stack fuzz targets' world (fuzz_stack_input.c, fuzz_stack_conv.c),
 * shared with tests/sim/test_stack_reset.c: a stack on memory wires, made
 * and configured once, polled once, then marked (stack_reset(), in
 * stack/reset.c); after every input it goes back to the mark instead of
 * being made again, which costs hundreds of microseconds under ASan. The
 * reset is exact (test_stack_reset holds it to that), so an input still
 * reproduces alone: each starts from the state a fresh stack would have.
 * With MPNET_FUZZ_FRESH set in the environment every input gets a new stack
 * instead (for a comparison, or to rule the reset out of a finding).
 *
 * Input formats:
 *   fz_seq_run    records of a 2-byte big-endian length and that many bytes
 *                 of frame, on link 0, 700 ms apart (fuzz_stack_input);
 *   fz_conv_run   records of 1 byte time step (its square in ms, 0 .. 65 s),
 *                 1 byte link (bit 0) and kind (bit 1), 2 bytes big-endian
 *                 length, then a frame from the peer on that link (kind 0),
 *                 or a command to the stack (kind 1, fz_command(): a ping
 *                 sent, so what the stack originates and the replies and
 *                 errors it takes for it are reached too) (fuzz_stack_conv).
 * Each frame is placed at the very end of its buffer, so under ASan a read
 * past it is reported.
 */
#ifndef MPNET_FUZZ_STACK_ENV_H
#define MPNET_FUZZ_STACK_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/ip6.h"
#include "mpnet/link.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/wire/bytes.h"
#include "stack/stack_priv.h"

#define FZ_MAX_LINKS 2
#define FZ_START_NS  1000000000ull

struct fz_stack;
typedef void (*fz_configure_fn)(struct fz_stack *f);
/* A frame the stack sent on link (the peer's end of it read it). */
typedef void (*fz_frame_fn)(void *arg, unsigned link, const uint8_t *b, size_t n);

struct fz_stack {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        unsigned n_links;
        struct mpnet_link *ours[FZ_MAX_LINKS], *peer[FZ_MAX_LINKS];
        struct mpnet_stack_cfg cfg;
        fz_configure_fn configure;
        /* Then, after settle_ns, before the mark (NULL: nothing): what the
         * input starts with beyond configuration (fuzz_tcp_conn: an
         * established connection). */
        fz_configure_fn ready;
        bool reuse;
        uint64_t settle_ns; /* run this long after configuring, before the mark */
        struct mpnet_stack *s;
        struct stack_mark *mark;
        fz_frame_fn on_frame;
        void *arg;
};

/* A failed setup or a broken promise (a leak, a reset that did not take):
 * abort, so the fuzzer keeps the input. */
#define FZ_CHECK(c)                                                                                \
        do {                                                                                       \
                if (!(c))                                                                          \
                        __builtin_trap();                                                          \
        } while (0)

static inline void fz_drain_link(struct fz_stack *f, unsigned i, bool report)
{
        struct mpnet_pkt *p[64];
        uint16_t n;

        while ((n = mpnet_link_rx_burst(f->peer[i], 0, p, 64)) > 0) {
                for (uint16_t k = 0; report && f->on_frame != NULL && k < n; k++)
                        f->on_frame(f->arg, i, p[k]->data, p[k]->len);
                mpnet_pkt_free_bulk(p, n);
        }
}

/* What the stack sent, to on_frame. */
static inline void fz_drain(struct fz_stack *f)
{
        for (unsigned i = 0; i < f->n_links; i++)
                fz_drain_link(f, i, true);
}

/* Both ends of every wire, reported or not. */
static inline void fz_drain_all(struct fz_stack *f)
{
        struct mpnet_pkt *p[64];
        uint16_t n;

        for (unsigned i = 0; i < f->n_links; i++) {
                while ((n = mpnet_link_rx_burst(f->ours[i], 0, p, 64)) > 0)
                        mpnet_pkt_free_bulk(p, n);
                fz_drain_link(f, i, false);
        }
}

/* The wires (made once: links outlive stacks) and what every stack of f is
 * made with. reuse: one stack reset after each input; else one per input. */
static inline void fz_init(struct fz_stack *f, struct mpnet_pool *pool, unsigned n_links,
                           const struct mpnet_memwire_cfg *wc, const struct mpnet_stack_cfg *cfg,
                           fz_configure_fn configure, bool reuse)
{
        memset(f, 0, sizeof(*f));
        f->pool = pool;
        f->n_links = n_links;
        f->cfg = *cfg;
        f->cfg.pool = pool;
        f->cfg.clock = &f->clk;
        f->configure = configure;
        f->reuse = reuse && getenv("MPNET_FUZZ_FRESH") == NULL;
        for (unsigned i = 0; i < n_links; i++)
                FZ_CHECK(mpnet_memwire_create(&wc[i], &f->ours[i], &f->peer[i]) == 0);
}

/* A stack at the start of an input: configured, polled at the start time
 * and through settle_ns, made ready, what it sent then dropped. */
static inline struct mpnet_stack *fz_begin(struct fz_stack *f)
{
        if (f->s != NULL)
                return f->s; /* reset at the end of the last input */
        mpnet_clock_init_virtual(&f->clk, FZ_START_NS);
        f->s = mpnet_stack_create(&f->cfg);
        FZ_CHECK(f->s != NULL);
        f->configure(f);
        mpnet_stack_poll(f->s, mpnet_clock_now(&f->clk));
        for (uint64_t t = 0; t < f->settle_ns; t += 10 * 1000000ull) {
                mpnet_clock_advance(&f->clk, 10 * 1000000ull);
                mpnet_stack_poll(f->s, mpnet_clock_now(&f->clk));
        }
        if (f->ready != NULL)
                f->ready(f);
        fz_drain_all(f);
        if (f->reuse) {
                f->mark = stack_reset(f->s, NULL);
                FZ_CHECK(f->mark != NULL);
        }
        return f->s;
}

/* The input is over: the stack back to its mark (or gone), every buffer
 * back in the pool. */
static inline void fz_end(struct fz_stack *f)
{
        if (f->reuse) {
                FZ_CHECK(stack_reset(f->s, f->mark) == f->mark);
        } else {
                mpnet_stack_destroy(f->s);
                f->s = NULL;
        }
        fz_drain_all(f);
        FZ_CHECK(mpnet_pool_in_use(f->pool) == 0); /* a leak of packet buffers */
}

static inline void fz_fini(struct fz_stack *f)
{
        mpnet_stack_destroy(f->s);
        free(f->mark);
        fz_drain_all(f);
        for (unsigned i = 0; i < f->n_links; i++) {
                mpnet_link_destroy(f->ours[i]);
                mpnet_link_destroy(f->peer[i]);
        }
        memset(f, 0, sizeof(*f));
}

/* A frame from the peer's end of link i. */
static inline void fz_send(struct fz_stack *f, unsigned i, const uint8_t *b, size_t len)
{
        struct mpnet_pkt *p;

        if (len > MPNET_PKT_DATA_SIZE || (p = mpnet_pkt_alloc(f->pool)) == NULL)
                return;
        p->data = mpnet_pkt_buf(p) + MPNET_PKT_BUF_SIZE - len;
        memcpy(p->data, b, len);
        p->len = p->pkt_len = (uint32_t)len;
        if (mpnet_link_tx_burst(f->peer[i], 0, &p, 1) != 1)
                mpnet_pkt_free(p);
}

static inline void fz_poll(struct fz_stack *f)
{
        mpnet_stack_poll(f->s, mpnet_clock_now(&f->clk));
}

static inline void fz_seq_run(struct fz_stack *f, const uint8_t *data, size_t size)
{
        fz_begin(f);
        while (size >= 2) {
                size_t len = (size_t)data[0] << 8 | data[1];

                data += 2;
                size -= 2;
                if (len > size)
                        len = size;
                fz_send(f, 0, data, len);
                data += len;
                size -= len;
                fz_poll(f);
                mpnet_clock_advance(&f->clk, 700 * 1000000ull);
                fz_drain(f);
        }
        fz_poll(f);
        fz_drain(f);
}

/*
 * A command record, by byte 0:
 *   bit 2 set  a burst: byte 1 (its low 6 bits, plus one) copies of the
 *              frame that follows, all in before the next poll, so the
 *              nodes' vector paths (several packets a call) are reached;
 *   else       a ping: bit 0 ping6 (else ping4), bit 1 don't fragment
 *              (ping4); bytes 1-2 big-endian echo data length (8 .. 4000:
 *              past the MTU it goes in fragments); then the destination (4
 *              or 16 bytes; else the peer on link 1) and a TTL or hop limit
 *              (else 64). An IPv6 link-local destination is on the record's
 *              link. What came back so far is read.
 */
static inline void fz_command(struct fz_stack *f, unsigned link, const uint8_t *b, size_t n,
                              uint16_t seq)
{
        static const uint8_t peer6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
        uint32_t len = n >= 3 ? (uint32_t)b[1] << 8 | b[2] : 64;
        uint64_t now = mpnet_clock_now(&f->clk);

        if (n >= 2 && (b[0] & 4)) {
                for (unsigned k = 0; k <= (b[1] & 63u); k++)
                        fz_send(f, link, b + 2, n - 2);
                return;
        }
        if (len < 8)
                len = 8;
        if (len > 4000)
                len = 4000;
        if (n >= 1 && (b[0] & 1)) {
                struct mpnet_ping6_reply r[8];
                struct mpnet_ping6_req q = {.id = 0x4d50, .seq = seq, .payload_len = len};

                memcpy(q.dst, n >= 19 ? b + 3 : peer6, 16);
                q.hop_limit = n >= 20 ? b[19] : 0;
                q.ifindex = (int)link + 1;
                (void)mpnet_ping6_send(f->s, &q, now);
                while (mpnet_ping6_recv(f->s, r, 8) == 8)
                        ;
        } else {
                struct mpnet_ping_reply r[8];
                struct mpnet_ping4_req q = {.id = 0x4d50, .seq = seq, .payload_len = len};

                q.dst = n >= 7 ? mpnet_get_be32(b + 3) : 0xc0000202;
                q.ttl = n >= 8 ? b[7] : 0;
                q.df = n >= 1 && (b[0] & 2);
                (void)mpnet_ping4_send_req(f->s, &q, now);
                while (mpnet_ping4_recv(f->s, r, 8) == 8)
                        ;
        }
}

static inline void fz_conv_run(struct fz_stack *f, const uint8_t *data, size_t size)
{
        uint16_t seq = 0;

        fz_begin(f);
        while (size >= 4) {
                unsigned link = (data[1] & 1u) % f->n_links;
                bool command = (data[1] & 2) != 0;
                size_t len = (size_t)data[2] << 8 | data[3];

                mpnet_clock_advance(&f->clk, (uint64_t)data[0] * data[0] * 1000000ull);
                fz_poll(f);
                data += 4;
                size -= 4;
                if (len > size)
                        len = size;
                if (command)
                        fz_command(f, link, data, len, seq++);
                else
                        fz_send(f, link, data, len);
                data += len;
                size -= len;
                fz_poll(f);
                fz_drain(f);
        }
}

/* ---- fuzz_stack_input: a host on IPv4 and IPv6 (and an IPv6 router) on
 * one link, its configuration done (DAD of its link-local address,
 * gratuitous ARPs: 3 s) when an input starts. fuzz_stack_conv starts
 * inputs with DAD under way. ---- */

#define FZ_INPUT_SETTLE_NS (3 * MPNET_NS_PER_S)

static const struct mpnet_memwire_cfg fz_input_wire = {
    .name = "fz", .mac_a = {0x02, 0, 0, 0, 0, 1}, .mac_b = {0x02, 0, 0, 0, 0, 2}};

static const struct mpnet_stack_cfg fz_input_cfg = {
    .name = "fuzz", .seed = 1, .ip6_auto = true, .ip6_forwarding = true};

/* 192.0.2.1/24, 198.18.0.1/15 and 2001:db8::1/64 ours, 192.0.2.2 and
 * 2001:db8::2 the peer (static), 2001:db8:5::/48 through it. */
/* Blackhole, unreachable and prohibit routes: 10.0.{0,1,2}.0/24 and
 * 2001:db8:{a,b,c}::/48 in that order. Returns 0 when all six were added. */
static inline int fz_special_routes(struct mpnet_stack *s)
{
        int bad = 0;

        for (unsigned k = 0; k < 3; k++) {
                struct mpnet_route4 d4 = {
                    .dst = 0x0a000000 | k << 8, .plen = 24, .type = MPNET_NH_BLACKHOLE + k};
                struct mpnet_route6 d6 = {.dst = {0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(0xa + k)},
                                          .plen = 48,
                                          .type = MPNET_NH_BLACKHOLE + k};

                bad |= mpnet_route4_add(s, 0, &d4) != 0;
                bad |= mpnet_route6_add(s, 0, &d6) != 0;
        }
        return bad ? -1 : 0;
}

static inline void fz_input_configure(struct fz_stack *f)
{
        static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
        static const uint8_t peer[6] = {0x02, 0, 0, 0, 0, 2};
        struct mpnet_route6 r6 = {
            .dst = {0x20, 0x01, 0x0d, 0xb8, 0, 5},
            .plen = 48,
            .type = MPNET_NH_GATEWAY,
            .n_paths = 1,
            .paths = {{.ifindex = 1, .gw = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}}}};
        struct mpnet_stack *s = f->s;

        mpnet_iface_attach(s, f->ours[0], "f0");
        mpnet_addr4_add(s, 1, 0xc0000201, 24);
        mpnet_addr4_add(s, 1, 0xc6120001, 15);
        mpnet_neigh4_add(s, 1, 0xc0000202, peer);
        mpnet_addr6_add(s, 1, a6, 64, MPNET_ADDR6_F_NODAD);
        mpnet_neigh6_add(s, 1, r6.paths[0].gw, peer);
        mpnet_route6_add(s, 0, &r6);
}

/* ---- fuzz_stack_conv: two links, a host or a router ---- */

static const struct mpnet_memwire_cfg fz_conv_wires[2] = {
    {.name = "c0", .mac_a = {0x02, 0, 0, 0, 1, 1}, .mac_b = {0x02, 0, 0, 0, 1, 2}},
    {.name = "c1", .mac_a = {0x02, 0, 0, 0, 2, 1}, .mac_b = {0x02, 0, 0, 0, 2, 2}},
};

/* The mode byte's bits: 0, a router (IPv4 and IPv6 forwarding, advertising
 * on link 2), else a host that follows advertisements; 1, RFC 7217 stable
 * interface identifiers; 2, settled: the mark taken once DAD of the
 * configured addresses is over (FZ_INPUT_SETTLE_NS after configuring), so
 * an input spends nothing on it (the probes, the routes each address adds
 * when it is done and the reset removes: about a quarter of an input's
 * time in the stack, perf), where inputs without it start with DAD under
 * way and reach DAD itself; 3, small limits (FZ_CONV_LIMITS): bursts of 2
 * for neighbours learnt and resolutions started, 2 packets held per
 * unresolved neighbour, bursts of 4 ICMP errors, so that a few records at
 * one instant reach what the defaults (100, 16, 50) keep for floods. A
 * stack per mode. */
#define FZ_CONV_MODES  16
#define FZ_CONV_SETTLE 4u
#define FZ_CONV_LIMITS 8u

static inline struct mpnet_stack_cfg fz_conv_cfg(unsigned mode)
{
        struct mpnet_stack_cfg sc = {.name = "conv", .seed = 1, .ip6_auto = true};

        sc.ip4_forwarding = sc.ip6_forwarding = (mode & 1) != 0;
        sc.ip6_stable_iid = (mode & 2) != 0;
        if (mode & FZ_CONV_LIMITS) {
                sc.neigh_learn_burst = sc.neigh_resolve_burst = 2;
                sc.arp_queue_max = 2;
                sc.icmp4_burst = sc.icmp6_burst = 4;
        }
        return sc;
}

/* 192.0.2.1/24 and 2001:db8::1/64 on 1, 198.51.100.1/24 and
 * 2001:db8:1::1/64 on 2, DAD on; 203.0.113.0/24 and 2001:db8:5::/48
 * through the peer on 2 (resolved by ARP and ND, not configured);
 * 198.18.0.0/24 and 2001:db8:6::/48 through two gateways on 2 (ECMP);
 * 10.0.{0,1,2}.0/24 and 2001:db8:{a,b,c}::/48 blackhole, unreachable,
 * prohibit. Link 2's MTU is 1280: what a router forwards onto it from link
 * 1 may need fragmenting (IPv4) or be too big (IPv6, IPv4 with DF). */
static inline void fz_conv_configure(struct fz_stack *f)
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
        struct mpnet_stack *s = f->s;

        mpnet_iface_attach(s, f->ours[0], "c0");
        mpnet_iface_attach(s, f->ours[1], "c1");
        mpnet_iface_set_mtu(s, 2, 1280);
        mpnet_addr4_add(s, 1, 0xc0000201, 24);
        mpnet_addr4_add(s, 2, 0xc6336401, 24);
        mpnet_addr6_add(s, 1, a6[0], 64, 0);
        mpnet_addr6_add(s, 2, a6[1], 64, 0);
        mpnet_route4_add(s, 0, &r4);
        mpnet_route6_add(s, 0, &r6);
        r4 = (struct mpnet_route4){
            .dst = 0xc6120000,
            .plen = 24,
            .type = MPNET_NH_GATEWAY,
            .n_paths = 2,
            .paths = {{.ifindex = 2, .gw = 0xc6336402}, {.ifindex = 2, .gw = 0xc6336403}}};
        mpnet_route4_add(s, 0, &r4);
        r6.dst[5] = 6;
        r6.n_paths = 2;
        r6.paths[1] = r6.paths[0];
        r6.paths[1].gw[15] = 3;
        mpnet_route6_add(s, 0, &r6);
        fz_special_routes(s);
        if (f->cfg.ip4_forwarding)
                mpnet_iface_ra_set(s, 2, &ra);
}

/* The stack of a mode (the mode byte, its low 3 bits) in env[mode], made
 * on first use. */
static inline struct fz_stack *fz_conv_env(struct fz_stack env[FZ_CONV_MODES],
                                           struct mpnet_pool *pool, unsigned mode, bool reuse)
{
        struct fz_stack *f = &env[mode % FZ_CONV_MODES];

        if (f->pool == NULL) {
                struct mpnet_stack_cfg sc = fz_conv_cfg(mode);

                fz_init(f, pool, 2, fz_conv_wires, &sc, fz_conv_configure, reuse);
                if (mode & FZ_CONV_SETTLE)
                        f->settle_ns = FZ_INPUT_SETTLE_NS;
        }
        return f;
}

#endif
