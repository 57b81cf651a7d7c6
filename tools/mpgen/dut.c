/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dut: the devices under test mpgen builds in its own process.
 *
 *   wire     one memory wire: the generator's end sends, the receiver's end
 *            receives. Nothing in between, so what it measures is mpgen's own
 *            ceiling (the calibration of the self-checks).
 *   builtin  an mpnet router stack (IPv4 forwarding) between two memory wires,
 *            polled by a thread of its own in real time, or by the trial
 *            runner between its steps in virtual time. With workers > 1 the
 *            wires have a queue per worker, software RSS spreads the frames
 *            over them, and the multi-core runtime (worker.h) forwards; the
 *            DUT thread is then the stack's control thread.
 *   kernel   the Linux kernel routing between two veth pairs in a network
 *            namespace of its own (netns.c), mpgen on AF_PACKET at the other
 *            ends: the peer the builtin router is measured against.
 *   afpacket the mpnet router on the same veths, over AF_PACKET.
 *   afxdp    the mpnet router on the same veths, over AF_XDP: native XDP on
 *            the veths where the kernel takes it, else generic.
 *   veth     one veth pair, mpgen at both ends: the ceiling of the two above,
 *            their calibration.
 *
 * Synchronisation: after create, only the DUT thread touches the stack; other
 * threads read its counters, which are per-thread rows summed on read.
 * Life cycle: create, start, (trials), stop, destroy; destroy stops too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpgen.h"
#include "mpnet/afpacket.h"
#include "mpnet/tap.h"
#ifdef MPNET_HAVE_AFXDP
#include "mpnet/afxdp.h"
#endif
#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "mpnet/rss.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"
#include "mpnet/worker.h"

#define DUT_IDLE_CHECK 64                    /* polls between looks at the receive counter */
#define DUT_IDLE_NS    (1 * MPNET_NS_PER_MS) /* idle this long: give the CPU away */

uint32_t mpg_mtu_for(unsigned frame)
{
        return frame > MPG_FRAME_MAX ? frame - 18 : 1500; /* Ethernet header and FCS */
}

/* Frames longer than one buffer travel as chains: memory wires, veths, the
 * kernel and the mpnet router carry them; the router on AF_PACKET does not
 * (its transmit ring slots hold one buffer), nor on AF_XDP (one UMEM frame
 * a packet). */
bool mpg_dut_jumbo(enum mpg_dut_kind k)
{
        return k != MPG_DUT_AFPACKET && k != MPG_DUT_AFXDP;
}

const char *mpg_dut_name(enum mpg_dut_kind k)
{
        switch (k) {
        case MPG_DUT_WIRE:
                return "wire";
        case MPG_DUT_BUILTIN:
                return "builtin";
        case MPG_DUT_KERNEL:
                return "kernel";
        case MPG_DUT_AFPACKET:
                return "afpacket";
        case MPG_DUT_VETH:
                return "veth";
        case MPG_DUT_AFXDP:
                return "afxdp";
        }
        return "?";
}

static int add_route(struct mpnet_stack *s, uint32_t dst, uint8_t plen, int ifindex, uint32_t gw)
{
        struct mpnet_route4 r = {.dst = dst, .plen = plen, .type = MPNET_NH_GATEWAY, .n_paths = 1};

        r.paths[0].ifindex = ifindex;
        r.paths[0].gw = gw;
        return mpnet_route4_add(s, 0, &r);
}

static void drain(struct mpnet_link *l)
{
        struct mpnet_pkt *v[64];
        uint16_t n;

        while ((n = mpnet_link_rx_burst(l, 0, v, 64)) > 0)
                mpnet_pkt_free_bulk(v, n);
}

/* RFC 5180 addressing: 2001:2::/64 on the generator's side, 2001:2:0:1::/64
 * on the receiver's; the router is ::1 on each, the testers ::2. */
static const uint8_t dut6_a[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                     dut6_b[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
                     tester6_a[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
                     tester6_b[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2};

/* The router's IPv6 side, for IPv6 trials only (its neighbour and MLD
 * announcements would be other frames in IPv4 ones): addresses without
 * duplicate detection (the testers have none to defend), the testers as
 * permanent neighbours. */
static int router_ip6(struct mpg_dut *d, const uint8_t *mac_a, const uint8_t *mac_b)
{
        if (mpnet_addr6_add(d->stack, 1, dut6_a, 64, MPNET_ADDR6_F_NODAD) != 0 ||
            mpnet_addr6_add(d->stack, 2, dut6_b, 64, MPNET_ADDR6_F_NODAD) != 0 ||
            mpnet_neigh6_add(d->stack, 1, tester6_a, mac_a) != 0 ||
            mpnet_neigh6_add(d->stack, 2, tester6_b, mac_b) != 0)
                return -EINVAL;
        return 0;
}

/* The router stack on links da (from the generator) and db (to the
 * receiver), the testers' MACs given. */
static int router_create(struct mpg_dut *d, const uint8_t *mac_a, const uint8_t *mac_b)
{
        struct mpnet_stack_cfg sc = {
            .name = "dut", .seed = 1, .ip4_forwarding = true, .ip6_forwarding = true};

        sc.clock = d->cfg.clock;
        sc.pool = d->cfg.pool;
        d->stack = mpnet_stack_create(&sc);
        if (d->stack == NULL)
                return -errno;
        if (mpnet_iface_attach(d->stack, d->da, "in") != 1 ||
            mpnet_iface_attach(d->stack, d->db, "out") != 2 ||
            mpnet_addr4_add(d->stack, 1, MPG_DUT_A_ADDR, 24) != 0 ||
            mpnet_addr4_add(d->stack, 2, MPG_DUT_B_ADDR, 24) != 0 ||
            mpnet_neigh4_add(d->stack, 1, MPG_TESTER_A_ADDR, mac_a) != 0 ||
            mpnet_neigh4_add(d->stack, 2, MPG_TESTER_B_ADDR, mac_b) != 0 ||
            add_route(d->stack, 0xc6120000u, 16, 1, MPG_TESTER_A_ADDR) != 0 ||
            add_route(d->stack, 0xc6130000u, 16, 2, MPG_TESTER_B_ADDR) != 0 ||
            (d->cfg.ip6 && router_ip6(d, mac_a, mac_b) != 0))
                return -EINVAL;
        memcpy(d->dst_mac, d->da->info.mac, 6);
        mpnet_stack_poll(d->stack, mpnet_clock_now(d->cfg.clock));
        return 0;
}

/* With workers: the runtime, worker w on queue w of both interfaces. */
static int workers_create(struct mpg_dut *d)
{
        unsigned nw = d->cfg.workers > 1 ? d->cfg.workers : 0;
        int cpus[MPNET_MAX_WORKERS];
        bool pin = mpg_layout_dut_cpu(d->cfg.layout, 0) >= 0;
        int err;

        if (nw == 0)
                return 0;
        for (unsigned w = 0; w < nw; w++)
                cpus[w] = mpg_layout_dut_cpu(d->cfg.layout, w);
        d->rt = mpnet_runtime_create(
            &(struct mpnet_runtime_cfg){.n_workers = nw, .cpus = pin ? cpus : NULL});
        if (d->rt == NULL)
                return -errno;
        for (unsigned w = 0; w < nw; w++) {
                if ((err = mpnet_runtime_assign(d->rt, w, d->stack, 1, (uint16_t)w)) != 0 ||
                    (err = mpnet_runtime_assign(d->rt, w, d->stack, 2, (uint16_t)w)) != 0)
                        return err;
        }
        return 0;
}

/* Builtin: two memory wires; with workers, one queue per worker (and the
 * control thread's transmit queue 0), frames spread by RSS over the
 * workers' queues and all gathered on the receiver's queue 0. */
static int builtin_create(struct mpg_dut *d, const struct mpnet_memwire_cfg *wc)
{
        struct mpnet_memwire_cfg in = *wc, out = *wc;
        unsigned nw = d->cfg.workers > 1 ? d->cfg.workers : 0;
        int err;

        in.name = "dut-in";
        out.name = "dut-out";
        if (nw > 0) {
                in.n_queues = out.n_queues = (uint16_t)(nw + 1);
                in.rss = out.rss = true;
        }
        err = mpnet_memwire_create(&in, &d->tx, &d->da);
        if (err == 0)
                err = mpnet_memwire_create(&out, &d->db, &d->rx);
        if (err != 0)
                return err;
        if (nw > 0) {
                struct mpnet_reta *ra = mpnet_memwire_reta(d->da), *rb = mpnet_memwire_reta(d->rx);

                for (uint32_t i = 0; i < mpnet_reta_size(ra); i++) {
                        mpnet_reta_set(ra, i, (uint16_t)(i % nw));
                        if (i < mpnet_reta_size(rb))
                                mpnet_reta_set(rb, i, 0);
                }
        }
        err = router_create(d, d->tx->info.mac, d->rx->info.mac);
        if (err != 0)
                return err;
        /* Drop the address announcements (gratuitous ARP), so the first
         * trial does not count them as other frames. */
        drain(d->tx);
        drain(d->rx);
        return workers_create(d);
}

static struct mpnet_link *afp_link(struct mpg_dut *d, const char *ns, const char *ifname, char *err,
                                   size_t errlen)
{
        struct mpnet_afpacket_cfg c = {.ifname = ifname,
                                       .netns = ns,
                                       .pool = d->cfg.pool,
                                       .errbuf = err,
                                       .errbuf_len = errlen};

        return mpnet_afpacket_create(&c);
}

#ifdef MPNET_HAVE_AFXDP
/* An AF_XDP link's rings (and UMEM, twice as many frames) as long as --ring,
 * at most the link's 16384: the receive side buffers what arrives while its
 * thread waits for a CPU, as a memory wire's ring does. */
static uint32_t xdp_ring(const struct mpg_dut *d)
{
        uint32_t r = d->cfg.ring_size;

        return r == 0 ? 0 : r < 64 ? 64 : r > 16384 ? 16384 : r;
}
#endif

/* mpgen's own link: AF_PACKET on a veth end of the tester namespace, AF_XDP
 * there (generic mode, copy: what veth offers), or a TAP device of that name
 * in the DUT namespace with mpgen's end at mac. */
static struct mpnet_link *tester_link(struct mpg_dut *d, const char *ifname, const uint8_t *mac,
                                      char *err, size_t errlen)
{
        if (d->cfg.link == MPG_LINK_TAP) {
                struct mpnet_tap_cfg c = {.ifname = ifname,
                                          .netns = d->ns.d,
                                          .pool = d->cfg.pool,
                                          .mtu = d->cfg.mtu,
                                          .errbuf = err,
                                          .errbuf_len = errlen};

                memcpy(c.mac, mac, 6);
                return mpnet_tap_create(&c);
        }
#ifdef MPNET_HAVE_AFXDP
        if (d->cfg.link == MPG_LINK_AFXDP) {
                struct mpnet_afxdp_cfg c = {.ifname = ifname,
                                            .netns = d->ns.t,
                                            .pool = d->cfg.pool,
                                            .mode = MPNET_AFXDP_MODE_GENERIC,
                                            .ring_size = xdp_ring(d),
                                            .errbuf = err,
                                            .errbuf_len = errlen};

                return mpnet_afxdp_create(&c);
        }
#else
        if (d->cfg.link == MPG_LINK_AFXDP) {
                snprintf(err, errlen, "built without the AF_XDP link (libxdp-dev, libbpf-dev)");
                return NULL;
        }
#endif
        return afp_link(d, d->ns.t, ifname, err, errlen);
}

/* The router's own links on da and db: AF_PACKET, or AF_XDP in the best
 * mode the veth offers (native XDP since Linux 4.19, else generic). */
static struct mpnet_link *router_link(struct mpg_dut *d, const char *ifname, char *err,
                                      size_t errlen)
{
#ifdef MPNET_HAVE_AFXDP
        if (d->cfg.kind == MPG_DUT_AFXDP) {
                struct mpnet_afxdp_cfg c = {.ifname = ifname,
                                            .netns = d->ns.d,
                                            .pool = d->cfg.pool,
                                            .mode = MPNET_AFXDP_MODE_AUTO,
                                            .ring_size = xdp_ring(d),
                                            .errbuf = err,
                                            .errbuf_len = errlen};

                return mpnet_afxdp_create(&c);
        }
#else
        if (d->cfg.kind == MPG_DUT_AFXDP) {
                snprintf(err, errlen, "built without the AF_XDP link (libxdp-dev, libbpf-dev)");
                return NULL;
        }
#endif
        return afp_link(d, d->ns.d, ifname, err, errlen);
}

/* External: the namespaces, mpgen's links on ta and tb, and for afpacket
 * and afxdp the router on da and db. */
static int external_create(struct mpg_dut *d, char *err, size_t errlen)
{
        int rc;

        if (d->cfg.link == MPG_LINK_TAP &&
            (d->cfg.kind == MPG_DUT_AFPACKET || d->cfg.kind == MPG_DUT_AFXDP)) {
                snprintf(err, errlen, "the %s DUT runs on veths: no TAP links with it",
                         mpg_dut_name(d->cfg.kind));
                return -EINVAL;
        }
        rc =
            mpg_netns_up(&d->ns, d->cfg.kind, d->cfg.mtu, d->cfg.link == MPG_LINK_TAP, err, errlen);

        if (rc != 0)
                return rc;
        d->tx = tester_link(d, "ta", mpg_ns_mac[0], err, errlen);
        d->rx = d->tx != NULL ? tester_link(d, "tb", mpg_ns_mac[1], err, errlen) : NULL;
        if (d->rx == NULL)
                return -EIO;
        if (d->cfg.link == MPG_LINK_TAP &&
            (rc = mpg_netns_tap_config(&d->ns, d->cfg.kind, err, errlen)) != 0)
                return rc;
        switch (d->cfg.kind) {
        case MPG_DUT_VETH:
                memcpy(d->dst_mac, mpg_ns_mac[1], 6);
                break;
        case MPG_DUT_KERNEL:
                memcpy(d->dst_mac, mpg_ns_mac[2], 6);
                break;
        default:
                d->da = router_link(d, "da", err, errlen);
                d->db = d->da != NULL ? router_link(d, "db", err, errlen) : NULL;
                if (d->db == NULL)
                        return -EIO;
                rc = router_create(d, mpg_ns_mac[0], mpg_ns_mac[1]);
                if (rc != 0) {
                        snprintf(err, errlen, "cannot set up the router: %s", strerror(-rc));
                        return rc;
                }
        }
        /* What the set-up sent (the router's announcements, a bridge's or a
         * device's first frames) crosses in its own time (and the kernel
         * hands a ring block over after up to 1 ms): drop what arrives in
         * the next 20 ms. */
        for (int i = 0; i < 20; i++) {
                nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
                if (d->stack != NULL)
                        mpnet_stack_poll(d->stack, mpnet_clock_now(d->cfg.clock));
                drain(d->tx);
                drain(d->rx);
        }
        return 0;
}

int mpg_dut_create(const struct mpg_dut_cfg *cfg, struct mpg_dut *d)
{
        struct mpnet_memwire_cfg wc = {
            .ring_size = cfg->ring_size, .speed_bps = cfg->speed_bps, .mtu = cfg->mtu};
        int err;

        memset(d, 0, sizeof(*d));
        d->cfg = *cfg;
        atomic_init(&d->stop, false);
        if (cfg->clock == NULL || cfg->pool == NULL)
                return -EINVAL;
        switch (cfg->kind) {
        case MPG_DUT_WIRE:
                wc.name = "wire";
                err = mpnet_memwire_create(&wc, &d->tx, &d->rx);
                if (err == 0)
                        memcpy(d->dst_mac, d->rx->info.mac, 6);
                return err;
        case MPG_DUT_BUILTIN:
                if (cfg->workers >= MPNET_MAX_WORKERS) {
                        snprintf(d->err, sizeof(d->err), "at most %d workers",
                                 MPNET_MAX_WORKERS - 1);
                        return -EINVAL;
                }
                err = builtin_create(d, &wc);
                if (err != 0 && d->err[0] == '\0')
                        snprintf(d->err, sizeof(d->err), "builtin router: %s", strerror(-err));
                break;
        case MPG_DUT_KERNEL:
        case MPG_DUT_AFPACKET:
        case MPG_DUT_AFXDP:
        case MPG_DUT_VETH:
                err = external_create(d, d->err, sizeof(d->err));
                break;
        default:
                snprintf(d->err, sizeof(d->err), "no such DUT kind");
                return -EINVAL;
        }
        if (err != 0) {
                char why[sizeof(d->err)];

                memcpy(why, d->err, sizeof(why));
                mpg_dut_destroy(d);
                memcpy(d->err, why, sizeof(why));
        }
        return err;
}

/* The router thread's maxima for the trial under way (mpg_dut_probe): a
 * new epoch restarts them. One writer, the router thread. */
struct gap_track {
        uint64_t epoch, gap_max, poll_max, last_end;
};

static void gap_poll_begin(struct mpg_dut *d, struct gap_track *g, uint64_t now)
{
        uint64_t ep = atomic_load_explicit(&d->probe_epoch, memory_order_acquire);

        if (ep != g->epoch) {
                g->epoch = ep;
                g->gap_max = g->poll_max = 0;
                atomic_store_explicit(&d->gap_max_ns, 0, memory_order_relaxed);
                atomic_store_explicit(&d->gap_at_ns, 0, memory_order_relaxed);
                atomic_store_explicit(&d->poll_max_ns, 0, memory_order_relaxed);
                atomic_store_explicit(&d->probe_ack, ep, memory_order_release);
        } else if (g->last_end != 0 && now - g->last_end > g->gap_max) {
                g->gap_max = now - g->last_end;
                atomic_store_explicit(&d->gap_max_ns, g->gap_max, memory_order_relaxed);
                atomic_store_explicit(&d->gap_at_ns, now, memory_order_relaxed);
        }
}

static void gap_poll_end(struct mpg_dut *d, struct gap_track *g, uint64_t start, uint64_t end)
{
        if (end - start > g->poll_max) {
                g->poll_max = end - start;
                atomic_store_explicit(&d->poll_max_ns, g->poll_max, memory_order_relaxed);
        }
        g->last_end = end;
}

static void *dut_main(void *arg)
{
        struct mpg_dut *d = arg;
        uint64_t idle_since = 0, last_rx = 0;
        unsigned polls = 0;
        /* Looked up once: every stack has the core's rx_frames. */
        int rx_id = mpnet_stack_counter_find(d->stack, "rx_frames");
        /* A thread restarted within a trial (a reset) keeps its epoch. */
        struct gap_track gt = {.epoch = atomic_load(&d->probe_epoch),
                               .gap_max = atomic_load(&d->gap_max_ns),
                               .poll_max = atomic_load(&d->poll_max_ns)};

        atomic_store(&d->tid, (int)gettid());
        pthread_setname_np(pthread_self(), "mpgen-router");
        (void)mpnet_thread_slot_acquire();
        if (mpg_layout_dut_cpu(d->cfg.layout, 0) >= 0)
                (void)mpg_pin_self((unsigned)mpg_layout_dut_cpu(d->cfg.layout, 0));
        /* With workers this is the control thread: timers and punts only. */
        while (d->rt != NULL && !atomic_load_explicit(&d->stop, memory_order_acquire)) {
                mpnet_stack_poll(d->stack, mpnet_clock_now(d->cfg.clock));
                d->polls++;
                nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        }
        while (d->rt == NULL && !atomic_load_explicit(&d->stop, memory_order_acquire)) {
                uint64_t now = mpnet_clock_now(d->cfg.clock), rx;

                gap_poll_begin(d, &gt, now);
                mpnet_stack_poll(d->stack, now);
                gap_poll_end(d, &gt, now, mpnet_clock_now(d->cfg.clock));
                d->polls++;
                /* The counter sums a row per thread slot: looked at every
                 * DUT_IDLE_CHECK polls, not every poll. */
                if (++polls < DUT_IDLE_CHECK)
                        continue;
                polls = 0;
                rx = mpnet_stack_counter(d->stack, (unsigned)rx_id);
                if (rx != last_rx) {
                        last_rx = rx;
                        idle_since = 0;
                        continue;
                }
                d->idle++;
                if (idle_since == 0)
                        idle_since = now;
                /* An AF_XDP transmit kick that met EAGAIN leaves frames in
                 * the TX ring until the next tx_burst; with no more traffic
                 * there is none, and they would arrive after the trial. An
                 * empty burst kicks again. */
                if (d->cfg.kind == MPG_DUT_AFXDP) {
                        (void)mpnet_link_tx_burst(d->da, 0, NULL, 0);
                        (void)mpnet_link_tx_burst(d->db, 0, NULL, 0);
                        /* Sleep on the sockets (at most 1 ms, for the
                         * stack's timers) rather than spin: on a CPU shared
                         * with other work a thread that sleeps when idle is
                         * woken at once, one that spins waits its turn while
                         * the receive ring fills. */
                        struct pollfd pf[2] = {
                            {.fd = mpnet_link_rx_wait_arm(d->da, 0), .events = POLLIN},
                            {.fd = mpnet_link_rx_wait_arm(d->db, 0), .events = POLLIN}};

                        if (pf[0].fd >= 0 && pf[1].fd >= 0)
                                (void)poll(pf, 2, 1);
                        continue;
                }
                /* A yield on a busy machine can cost a whole time slice
                 * (milliseconds: the receive ring overflows meanwhile), so
                 * the CPU is given away only after DUT_IDLE_NS without a
                 * frame: between trials, not between bursts. */
                if (now - idle_since >= DUT_IDLE_NS)
                        sched_yield();
                else
                        __builtin_ia32_pause();
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

int mpg_dut_start(struct mpg_dut *d)
{
        pthread_t *th;
        int err;

        if (d->stack == NULL || d->running)
                return 0;
        /* The router thread reads rx_frames every DUT_IDLE_CHECK polls: a
         * row per thread slot, mostly pages never written, each a page fault
         * on its first read (the zero page mapped in): 34 of them, 18 us
         * apart on this VM, were a 0.6 ms stall of the router in the first
         * trial, more than a 4096-frame ring holds at 15 Mfps. Read here, on
         * the caller's thread before any trial, they are mapped already. */
        (void)mpnet_stack_counter(d->stack,
                                  (unsigned)mpnet_stack_counter_find(d->stack, "rx_frames"));
        th = malloc(sizeof(*th));
        if (th == NULL)
                return -ENOMEM;
        atomic_store(&d->stop, false);
        if (d->rt != NULL && (err = mpnet_runtime_start(d->rt)) != 0) {
                free(th);
                return err;
        }
        err = pthread_create(th, NULL, dut_main, d);
        if (err != 0) {
                if (d->rt != NULL)
                        mpnet_runtime_stop(d->rt);
                free(th);
                return -err;
        }
        d->thread = th;
        d->running = true;
        return 0;
}

void mpg_dut_stop(struct mpg_dut *d)
{
        if (!d->running)
                return;
        atomic_store_explicit(&d->stop, true, memory_order_release);
        pthread_join(*(pthread_t *)d->thread, NULL);
        if (d->rt != NULL)
                mpnet_runtime_stop(d->rt);
        free(d->thread);
        d->thread = NULL;
        d->running = false;
}

void mpg_dut_destroy(struct mpg_dut *d)
{
        mpg_dut_stop(d);
        mpnet_runtime_destroy(d->rt);
        if (d->stack != NULL)
                mpnet_stack_destroy(d->stack);
        mpnet_link_destroy(d->tx);
        mpnet_link_destroy(d->rx);
        mpnet_link_destroy(d->da);
        mpnet_link_destroy(d->db);
        mpg_netns_down(&d->ns);
        memset(d, 0, sizeof(*d));
}

/* Drop what waits in the router's receive queues, as a reboot loses it. */
static void drain_all(struct mpnet_link *l)
{
        struct mpnet_pkt *v[64];

        for (uint16_t q = 0; q < l->info.n_rxq; q++) {
                uint16_t n;

                while ((n = mpnet_link_rx_burst(l, q, v, 64)) > 0)
                        mpnet_pkt_free_bulk(v, n);
        }
}

/* Called from the trial runner while generator and receiver run: the tester's
 * links are theirs, only the router's are touched. */
int mpg_dut_reset(void *arg)
{
        struct mpg_dut *d = arg;
        bool running = d->running;
        int err;

        switch (d->cfg.kind) {
        case MPG_DUT_KERNEL:
                return mpg_netns_kernel_reset(&d->ns, d->err, sizeof(d->err));
        case MPG_DUT_BUILTIN:
        case MPG_DUT_AFPACKET:
        case MPG_DUT_AFXDP:
                break;
        default:
                return -ENOTSUP;
        }
        /* A software reset: the router goes with all its state, a new one
         * is configured as at start. */
        mpg_dut_stop(d);
        mpnet_runtime_destroy(d->rt);
        d->rt = NULL;
        mpnet_stack_destroy(d->stack);
        d->stack = NULL;
        drain_all(d->da);
        drain_all(d->db);
        err = router_create(d, d->cfg.kind == MPG_DUT_BUILTIN ? d->tx->info.mac : mpg_ns_mac[0],
                            d->cfg.kind == MPG_DUT_BUILTIN ? d->rx->info.mac : mpg_ns_mac[1]);
        if (err == 0)
                err = workers_create(d);
        if (err == 0 && running)
                err = mpg_dut_start(d);
        return err;
}

uint64_t mpg_dut_poll(void *arg, uint64_t now)
{
        struct mpg_dut *d = arg;

        return d->stack != NULL && d->rt == NULL ? mpnet_stack_poll(d->stack, now)
                                                 : MPNET_TIME_NEVER;
}

/* A thread's counters from /proc: nonvoluntary and voluntary context
 * switches (status) and minor faults (stat, field 10). 0 where unreadable. */
static void thread_counts(int tid, uint64_t *ivcsw, uint64_t *vcsw, uint64_t *minflt)
{
        char path[64], line[512];
        FILE *f;

        *ivcsw = *vcsw = *minflt = 0;
        snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
        f = fopen(path, "r");
        if (f != NULL) {
                while (fgets(line, sizeof(line), f) != NULL) {
                        unsigned long long v;

                        if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
                                *vcsw = v;
                        else if (sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                                *ivcsw = v;
                }
                fclose(f);
        }
        snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
        f = fopen(path, "r");
        if (f != NULL) {
                if (fgets(line, sizeof(line), f) != NULL) {
                        const char *r = strrchr(line, ')');
                        unsigned long long flt;

                        /* After the name: state ppid pgrp session tty tpgid flags minflt. */
                        if (r != NULL &&
                            sscanf(r + 1, " %*c %*d %*d %*d %*d %*d %*u %llu", &flt) == 1)
                                *minflt = flt;
                }
                fclose(f);
        }
}

/* Steal time of all CPUs, ms (/proc/stat's eighth field of "cpu"). */
static uint64_t steal_ms(void)
{
        unsigned long long v[8] = {0};
        long hz = sysconf(_SC_CLK_TCK);
        FILE *f = fopen("/proc/stat", "r");
        int n = 0;

        if (f == NULL)
                return 0;
        n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
        fclose(f);
        return n == 8 && hz > 0 ? v[7] * 1000 / (uint64_t)hz : 0;
}

void mpg_dut_probe(void *arg, struct mpg_trial *t, bool end)
{
        struct mpg_dut *d = arg;
        int tid = atomic_load(&d->tid);
        uint64_t iv, v, flt;

        /* Only a DUT polled by mpgen's own thread, running. */
        if (!d->running || d->rt != NULL || tid == 0)
                return;
        thread_counts(tid, &iv, &v, &flt);
        if (!end) {
                d->base_ivcsw = iv;
                d->base_vcsw = v;
                d->base_minflt = flt;
                d->base_steal = steal_ms();
                d->probe_t0 = mpnet_clock_now(d->cfg.clock);
                atomic_fetch_add_explicit(&d->probe_epoch, 1, memory_order_release);
                return;
        }
        t->dut_probed = true;
        /* The thread's counters are its own: a thread started within the
         * trial (a reset) counts from 0. */
        t->dut_ivcsw = iv >= d->base_ivcsw ? iv - d->base_ivcsw : iv;
        t->dut_vcsw = v >= d->base_vcsw ? v - d->base_vcsw : v;
        t->dut_minflt = flt >= d->base_minflt ? flt - d->base_minflt : flt;
        t->steal_ms = steal_ms() - d->base_steal;
        if (atomic_load_explicit(&d->probe_ack, memory_order_acquire) !=
            atomic_load_explicit(&d->probe_epoch, memory_order_relaxed)) {
                /* The thread never polled in the whole trial. */
                t->dut_gap_max_ns = mpnet_clock_now(d->cfg.clock) - d->probe_t0;
                t->dut_gap_at_ns = t->dut_gap_max_ns;
                t->dut_poll_max_ns = 0;
                return;
        }
        t->dut_gap_max_ns = atomic_load_explicit(&d->gap_max_ns, memory_order_relaxed);
        t->dut_poll_max_ns = atomic_load_explicit(&d->poll_max_ns, memory_order_relaxed);
        {
                uint64_t at = atomic_load_explicit(&d->gap_at_ns, memory_order_relaxed);

                t->dut_gap_at_ns = at > d->probe_t0 ? at - d->probe_t0 : 0;
        }
}

void mpg_dut_path(struct mpg_dut *d, struct mpg_path *p)
{
        memset(p, 0, sizeof(*p));
        p->tx = d->tx;
        p->rx = d->rx;
        memcpy(p->src_mac, d->tx->info.mac, 6);
        memcpy(p->dst_mac, d->dst_mac, 6);
        p->speed_bps = d->cfg.speed_bps        ? d->cfg.speed_bps
                       : d->tx->info.speed_bps ? d->tx->info.speed_bps
                                               : 10000000000ull;
        /* Virtual time: only a builtin router on one thread. */
        if (d->cfg.kind == MPG_DUT_BUILTIN && d->rt == NULL) {
                p->poll = mpg_dut_poll;
                p->poll_arg = d;
        }
}
