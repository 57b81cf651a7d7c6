/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dut: the devices under test mpgen builds in its own process.
 *
 *   wire     one memory wire: the generator's end sends, the receiver's end
 *            receives. Nothing in between, so what it measures is mpgen's own
 *            ceiling (the calibration of the self-checks).
 *   builtin  an mpnet router stack (IPv4 forwarding) between two memory wires,
 *            polled by a thread of its own in real time, or by the trial
 *            runner between its steps in virtual time.
 *
 * The router has one worker: the stack is driven by one thread (stack.h).
 * Several workers wait for the multi-core runtime.
 *
 * Synchronisation: after create, only the DUT thread touches the stack; other
 * threads read its counters, which are per-thread rows summed on read.
 * Life cycle: create, start, (trials), stop, destroy; destroy stops too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "mpgen.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"

#define DUT_IDLE_YIELD 16 /* empty polls before giving the CPU away */

const char *mpg_dut_name(enum mpg_dut_kind k)
{
        return k == MPG_DUT_WIRE ? "wire" : k == MPG_DUT_BUILTIN ? "builtin" : "?";
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

static int router_create(struct mpg_dut *d, const struct mpnet_memwire_cfg *wc)
{
        struct mpnet_memwire_cfg in = *wc, out = *wc;
        struct mpnet_stack_cfg sc = {.name = "dut", .seed = 1, .ip4_forwarding = true};
        int err;

        in.name = "dut-in";
        out.name = "dut-out";
        err = mpnet_memwire_create(&in, &d->tx, &d->da);
        if (err == 0)
                err = mpnet_memwire_create(&out, &d->db, &d->rx);
        if (err != 0)
                return err;
        sc.clock = d->cfg.clock;
        sc.pool = d->cfg.pool;
        d->stack = mpnet_stack_create(&sc);
        if (d->stack == NULL)
                return -errno;
        if (mpnet_iface_attach(d->stack, d->da, "in") != 1 ||
            mpnet_iface_attach(d->stack, d->db, "out") != 2 ||
            mpnet_addr4_add(d->stack, 1, MPG_DUT_A_ADDR, 24) != 0 ||
            mpnet_addr4_add(d->stack, 2, MPG_DUT_B_ADDR, 24) != 0 ||
            mpnet_neigh4_add(d->stack, 1, MPG_TESTER_A_ADDR, d->tx->info.mac) != 0 ||
            mpnet_neigh4_add(d->stack, 2, MPG_TESTER_B_ADDR, d->rx->info.mac) != 0 ||
            add_route(d->stack, 0xc6120000u, 16, 1, MPG_TESTER_A_ADDR) != 0 ||
            add_route(d->stack, 0xc6130000u, 16, 2, MPG_TESTER_B_ADDR) != 0)
                return -EINVAL;
        memcpy(d->dst_mac, d->da->info.mac, 6);
        /* Let the address announcements (gratuitous ARP) go out and drop
         * them, so the first trial does not count them as other frames. */
        mpnet_stack_poll(d->stack, mpnet_clock_now(d->cfg.clock));
        drain(d->tx);
        drain(d->rx);
        return 0;
}

int mpg_dut_create(const struct mpg_dut_cfg *cfg, struct mpg_dut *d)
{
        struct mpnet_memwire_cfg wc = {.ring_size = cfg->ring_size, .speed_bps = cfg->speed_bps};
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
                if (cfg->workers > 1)
                        return -EINVAL;
                err = router_create(d, &wc);
                if (err != 0)
                        mpg_dut_destroy(d);
                return err;
        }
        return -EINVAL;
}

static void *dut_main(void *arg)
{
        struct mpg_dut *d = arg;
        unsigned idle = 0;

        mpnet_thread_set_slot(MPG_SLOT_DUT);
        if (d->cfg.pin)
                mpg_pin_self(d->cfg.cpu);
        while (!atomic_load_explicit(&d->stop, memory_order_acquire)) {
                uint64_t before = mpnet_stack_counter(d->stack, MPNET_STK_rx_frames);

                mpnet_stack_poll(d->stack, mpnet_clock_now(d->cfg.clock));
                d->polls++;
                if (mpnet_stack_counter(d->stack, MPNET_STK_rx_frames) != before) {
                        idle = 0;
                        continue;
                }
                d->idle++;
                if (++idle >= DUT_IDLE_YIELD) {
                        idle = 0;
                        sched_yield();
                } else {
                        __builtin_ia32_pause();
                }
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
        th = malloc(sizeof(*th));
        if (th == NULL)
                return -ENOMEM;
        atomic_store(&d->stop, false);
        err = pthread_create(th, NULL, dut_main, d);
        if (err != 0) {
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
        free(d->thread);
        d->thread = NULL;
        d->running = false;
}

void mpg_dut_destroy(struct mpg_dut *d)
{
        mpg_dut_stop(d);
        if (d->stack != NULL)
                mpnet_stack_destroy(d->stack);
        mpnet_link_destroy(d->tx);
        mpnet_link_destroy(d->rx);
        mpnet_link_destroy(d->da);
        mpnet_link_destroy(d->db);
        memset(d, 0, sizeof(*d));
}

uint64_t mpg_dut_poll(void *arg, uint64_t now)
{
        struct mpg_dut *d = arg;

        return d->stack != NULL ? mpnet_stack_poll(d->stack, now) : MPNET_TIME_NEVER;
}

void mpg_dut_path(struct mpg_dut *d, struct mpg_path *p)
{
        memset(p, 0, sizeof(*p));
        p->tx = d->tx;
        p->rx = d->rx;
        memcpy(p->src_mac, d->tx->info.mac, 6);
        memcpy(p->dst_mac, d->dst_mac, 6);
        p->speed_bps = d->tx->info.speed_bps;
        if (d->stack != NULL) {
                p->poll = mpg_dut_poll;
                p->poll_arg = d;
        }
}
