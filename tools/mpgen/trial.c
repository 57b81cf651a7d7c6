/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trial: one trial of RFC 2544 section 23. Pause (step E of the previous
 * trial: let the DUT restabilise), send the stream (step C), wait for the
 * residual frames (step D: up to settle_ns after the last frame, or less when
 * every frame the link accepted has arrived), then count.
 *
 * Real time: one tester thread sends and receives (the DUT, if any, runs on
 * threads of its own, see dut.c); this thread starts it and runs the trial's
 * action. Virtual time: one thread runs generator, DUT and receiver
 * in turn until nothing moves, then sets the clock to the next event (a frame
 * due, a delayed frame released, a DUT timer): deterministic, and as fast as
 * the CPU allows whatever the simulated rate.
 *
 * A trial is valid only when the generator offered every frame and its
 * achieved rate (frames over the time from the first due time to the last
 * offer plus one interval) is at least valid_min of the intended rate: a
 * trial the generator could not keep up with says nothing about the DUT.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "mpgen.h"
#include "mpnet/thread.h"

#define TX_SLEEP_MIN_NS   (200 * MPNET_NS_PER_US)
#define TX_SLEEP_EARLY_NS (100 * MPNET_NS_PER_US)
#define TESTER_IDLE_NAP   4096 /* empty turns after the stream before a nap */
#define TESTER_NAP_NS     (50 * MPNET_NS_PER_US)
#define WAIT_POLL_NS      (100 * MPNET_NS_PER_US)

static const char *const kind_names[MPG_T__COUNT] = {
    "calibration", "throughput", "latency", "frame_loss", "back_to_back",
    "recovery",    "reset",      "run",     "ceiling",
};

const char *mpg_kind_name(enum mpg_kind k)
{
        return (unsigned)k < MPG_T__COUNT ? kind_names[k] : "?";
}

int mpg_runner_init(struct mpg_runner *rn, struct mpg_env *env, unsigned frame)
{
        int err;

        memset(rn, 0, sizeof(*rn));
        rn->env = env;
        rn->frame = frame;
        err = mpg_gen_init(&rn->gen, env->path.tx, env->pool, env->clock, &env->flows,
                           env->path.src_mac, env->path.dst_mac, frame);
        if (err != 0)
                return err;
        err = mpg_rx_init(&rn->rx, env->path.rx, env->clock, rn->gen.n_flows);
        if (err != 0) {
                mpg_gen_fini(&rn->gen);
                return err;
        }
        rn->rx.lat = &rn->hist;
        rn->gen.tsc = rn->rx.tsc = env->tsc;
        mpg_hist_reset(&rn->hist);
        rn->ready = true;
        return 0;
}

void mpg_runner_fini(struct mpg_runner *rn)
{
        if (!rn->ready)
                return;
        mpg_gen_fini(&rn->gen);
        mpg_rx_fini(&rn->rx);
        rn->ready = false;
}

int mpg_pin_self(unsigned cpu)
{
        cpu_set_t set;

        if (cpu >= CPU_SETSIZE)
                return -EINVAL;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static bool interrupted(const struct mpg_env *env)
{
        return env->interrupted != NULL &&
               atomic_load_explicit(env->interrupted, memory_order_relaxed);
}

static void sleep_ns(uint64_t ns)
{
        struct timespec ts = {.tv_sec = (time_t)(ns / MPNET_NS_PER_S),
                              .tv_nsec = (long)(ns % MPNET_NS_PER_S)};

        nanosleep(&ts, NULL);
}

/* A real-time pause, cut short by an interrupt. */
static void rest(const struct mpg_env *env)
{
        uint64_t end = mpnet_monotonic_ns() + env->rest_ns;

        while (!interrupted(env)) {
                uint64_t now = mpnet_monotonic_ns();

                if (now >= end)
                        return;
                sleep_ns(end - now < 50 * MPNET_NS_PER_MS ? end - now : 50 * MPNET_NS_PER_MS);
        }
}

/* ---- virtual time ---------------------------------------------------------- */

/* Run generator, DUT and receiver at now until nothing moves.
 * @return the DUT's next event. */
static uint64_t virt_pump(struct mpg_runner *rn, uint64_t now, bool gen)
{
        const struct mpg_path *p = &rn->env->path;
        uint64_t dut_next = MPNET_TIME_NEVER;
        unsigned moved;

        do {
                moved = 0;
                while (gen && mpg_gen_step(&rn->gen, now, MPG_BURST_MAX) > 0)
                        moved++;
                if (p->poll != NULL)
                        dut_next = p->poll(p->poll_arg, now);
                while (mpg_rx_step(&rn->rx) > 0)
                        moved++;
        } while (moved > 0);
        return dut_next;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

/* Let virtual time pass to `until`, the DUT and the receiver running. */
static void virt_idle(struct mpg_runner *rn, uint64_t until)
{
        struct mpnet_clock *clk = rn->env->clock;

        for (;;) {
                uint64_t now = mpnet_clock_now(clk), next;

                next = virt_pump(rn, now, false);
                next = min64(next, mpnet_link_next_event(rn->env->path.rx, now));
                if (now >= until)
                        return;
                if (next <= now)
                        next = now + 1;
                mpnet_clock_set(clk, min64(next, until));
        }
}

/* How long the stream is meant to take (both rates of a step). */
static double stream_ns(const struct mpg_gen *g)
{
        if (g->rate2 > 0 && g->total > g->k2)
                return (double)g->k2 * 1e9 / g->rate + (double)(g->total - g->k2) * 1e9 / g->rate2;
        return (double)g->total * 1e9 / g->rate;
}

/* A generator this far behind gives up: the trial is invalid anyway. */
static uint64_t abort_time(const struct mpg_gen *g)
{
        return g->t0 + 3 * (uint64_t)stream_ns(g) + 100 * MPNET_NS_PER_MS;
}

/* The trial's action, once its time has come. */
static void maybe_act(struct mpg_runner *rn, struct mpg_trial *t, bool *done, uint64_t now)
{
        if (*done || t->action_ns == 0 || rn->env->action == NULL ||
            now < rn->gen.t0 + t->action_ns)
                return;
        *done = true;
        t->action_err = rn->env->action(rn->env->action_arg);
}

static int run_virtual(struct mpg_runner *rn, struct mpg_trial *t, bool *aborted)
{
        struct mpg_env *env = rn->env;
        struct mpnet_clock *clk = env->clock;
        uint64_t abort_at;
        bool acted = false;

        rn->gen.t0 = mpnet_clock_now(clk);
        abort_at = abort_time(&rn->gen);
        for (;;) {
                uint64_t now = mpnet_clock_now(clk), next, end;

                maybe_act(rn, t, &acted, now);
                next = virt_pump(rn, now, true);
                if (t->action_ns != 0 && !acted)
                        next = min64(next, rn->gen.t0 + t->action_ns);
                if (!mpg_gen_done(&rn->gen) && now >= abort_at) {
                        /* The pool stayed empty: frames are stuck somewhere. */
                        *aborted = true;
                        return 0;
                }
                if (mpg_gen_done(&rn->gen)) {
                        end = rn->gen.t_last + env->settle_ns;
                        if (rn->rx.rx - rn->rx.dup >= rn->gen.tx || now >= end)
                                return 0;
                        next = min64(next, end);
                } else {
                        next = min64(next, mpg_gen_due(&rn->gen, rn->gen.offered));
                }
                next = min64(next, mpnet_link_next_event(env->path.rx, now));
                next = min64(next, mpnet_link_next_event(env->path.tx, now));
                if (interrupted(env))
                        return -EINTR;
                if (next <= now)
                        next = now + 1;
                mpnet_clock_set(clk, next);
        }
}

/* ---- real time ------------------------------------------------------------- */

/*
 * One tester thread sends and receives in one loop, as pktgen-DPDK's
 * per-core loop does: each turn offers the frames due (one clock read, one
 * bulk allocation, one tx_burst) and takes what came back (one rx_burst, one
 * clock read). On a memory wire neither makes a system call. The runner's own
 * thread only waits, and runs the trial's action (a DUT reset) at its time,
 * so a slow action never stalls the stream.
 *
 * The loop sleeps only when nothing is in flight and the next frame is due
 * far ahead (a slow stream): a frame on its way back is waited for by
 * spinning, so its latency is the DUT's, not a sleep's.
 */

struct run_ctx {
        struct mpg_runner *rn;
        _Atomic bool done;
        bool aborted;
        bool kick; /* AF_XDP: an idle turn kicks the TX ring (see tester_loop) */
};

static bool in_flight(const struct mpg_runner *rn)
{
        return rn->rx.rx - rn->rx.dup < rn->gen.tx;
}

/* Nothing moved this turn: spin, or sleep through a long gap when no frame
 * is on its way. After the stream, a frame that never comes (lost) is
 * waited for in naps, not by spinning through the whole settle time. */
static void tester_idle(struct mpg_runner *rn, uint64_t now, unsigned *idle)
{
        const struct mpg_gen *g = &rn->gen;

        if (!mpg_gen_done(g) && !in_flight(rn)) {
                uint64_t due = mpg_gen_due(g, g->offered);

                if (due > now + TX_SLEEP_MIN_NS) {
                        sleep_ns(due - now - TX_SLEEP_EARLY_NS);
                        return;
                }
        }
        if (mpg_gen_done(g) && ++*idle >= TESTER_IDLE_NAP) {
                *idle = 0;
                sleep_ns(TESTER_NAP_NS);
                return;
        }
        __builtin_ia32_pause();
}

static void tester_loop(struct run_ctx *c)
{
        struct mpg_runner *rn = c->rn;
        struct mpg_env *env = rn->env;
        struct mpg_gen *g = &rn->gen;
        struct mpg_rx *r = &rn->rx;
        uint64_t abort_at, end = 0;
        unsigned idle = 0;
        bool sending = true;

        g->t0 = mpg_time(env->tsc, env->clock);
        abort_at = abort_time(g);
        for (;;) {
                uint64_t now = mpg_time(env->tsc, env->clock);
                unsigned moved = 0;

                if (sending) {
                        moved = mpg_gen_step(g, now, MPG_BURST_MAX);
                        if (mpg_gen_done(g)) {
                                sending = false;
                        } else if (moved == 0 && now >= abort_at) {
                                /* The pool stayed empty: frames are stuck. */
                                c->aborted = true;
                                sending = false;
                        }
                }
                moved += mpg_rx_step(r);
                if (!sending) {
                        if (end == 0)
                                end = (g->t_last > g->t0 ? g->t_last : g->t0) + env->settle_ns;
                        if (!in_flight(rn) || now >= end)
                                break;
                }
                if (interrupted(env)) {
                        c->aborted = true;
                        break;
                }
                if (moved > 0) {
                        idle = 0;
                        continue;
                }
                /* An AF_XDP kick that met EAGAIN leaves frames in the TX
                 * ring until the next tx_burst: after the stream there is
                 * none, so an empty one kicks again. */
                if (c->kick && !sending)
                        (void)mpnet_link_tx_burst(g->link, g->q, NULL, 0);
                tester_idle(rn, now, &idle);
        }
        atomic_store_explicit(&r->unique, r->rx - r->dup, memory_order_release);
}

static void *tester_main(void *arg)
{
        struct run_ctx *c = arg;
        const struct mpg_layout *l = c->rn->env->layout;

        /* Named, so top and perf tell the tester from the DUT. */
        pthread_setname_np(pthread_self(), "mpgen-tester");
        /* None left: the pool's shared paths, slower but correct. */
        (void)mpnet_thread_slot_acquire();
        if (l != NULL && l->pin)
                (void)mpg_pin_self((unsigned)l->tester);
        tester_loop(c);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        atomic_store_explicit(&c->done, true, memory_order_release);
        return NULL;
}

static int run_threads(struct mpg_runner *rn, struct mpg_trial *t, bool *aborted)
{
        struct mpg_env *env = rn->env;
        struct run_ctx c = {.rn = rn};
        pthread_t th;
        int err;

        atomic_init(&c.done, false);
        c.kick = strcmp(rn->gen.link->info.kind, "afxdp") == 0;
        err = pthread_create(&th, NULL, tester_main, &c);
        if (err != 0)
                return -err;
        if (t->action_ns != 0 && env->action != NULL) {
                /* The tester sets t0 as it starts: this is close enough, and
                 * the reset is measured by the receiver, not from here. */
                uint64_t at = mpnet_clock_now(env->clock) + t->action_ns;

                while (mpnet_clock_now(env->clock) < at && !interrupted(env) &&
                       !atomic_load_explicit(&c.done, memory_order_acquire))
                        sleep_ns(WAIT_POLL_NS);
                if (!atomic_load_explicit(&c.done, memory_order_acquire))
                        t->action_err = env->action(env->action_arg);
        }
        pthread_join(th, NULL);
        *aborted = c.aborted;
        return interrupted(env) ? -EINTR : 0;
}

/* ---- results --------------------------------------------------------------- */

static void flow_losses(const struct mpg_runner *rn, struct mpg_trial *t)
{
        t->flows_with_loss = 0;
        t->flow_loss_min = 1;
        t->flow_loss_max = 0;
        for (uint32_t i = 0; i < rn->gen.n_flows; i++) {
                const struct mpg_flow_rx *f = &rn->rx.flow[i];
                double off = rn->gen.seq[i], uniq = (double)(f->rx - f->dup), l;

                l = off > 0 ? (off - uniq) / off : 0;
                if (l > 0)
                        t->flows_with_loss++;
                if (l < t->flow_loss_min)
                        t->flow_loss_min = l;
                if (l > t->flow_loss_max)
                        t->flow_loss_max = l;
        }
}

static void fill_results(struct mpg_runner *rn, struct mpg_trial *t, bool aborted)
{
        const struct mpg_gen *g = &rn->gen;
        const struct mpg_rx *r = &rn->rx;
        double ival = 1e9 / (g->rate2 > 0 ? g->rate2 : t->rate);

        t->duration_ns = (uint64_t)stream_ns(g);
        t->offered = g->offered;
        t->tx = g->tx;
        t->refused = g->refused;
        t->lag_max_ns = g->lag_max;
        t->rx = r->rx;
        t->dup = r->dup;
        t->unique = r->rx - r->dup;
        t->reorder = r->reorder;
        t->late = r->late;
        t->other = r->other;
        t->lost = (int64_t)t->offered - (int64_t)t->unique;
        t->loss_ratio = t->offered > 0 ? (double)t->lost / (double)t->offered : 0;
        t->elapsed_ns = g->offered > 0 ? g->t_last - g->t0 + (uint64_t)ival : 0;
        t->offered_rate = t->elapsed_ns > 0 ? (double)t->offered * 1e9 / (double)t->elapsed_ns : 0;
        t->rx_rate = t->elapsed_ns > 0 ? (double)t->unique * 1e9 / (double)t->elapsed_ns : 0;
        flow_losses(rn, t);
        mpg_hist_summary(&rn->hist, &t->lat);
        t->recovered = r->k_next == g->total;
        t->recovery_ns = 0;
        if (g->rate2 > 0 && r->lost_any && r->k_lost > g->k2)
                t->recovery_ns = mpg_gen_due(g, r->k_lost) - mpg_gen_due(g, g->k2);
        t->outage_ns = r->outage_ns;
        t->outage_lost = r->outage_lost;
        t->valid = true;
        t->invalid_reason = NULL;
        if (aborted || t->offered < t->count) {
                t->valid = false;
                t->invalid_reason = "the generator did not offer every frame in time";
        } else if (t->kind == MPG_T_CEILING) {
                /* Unpaced: the rate achieved is the result, not a shortfall. */
        } else if ((double)t->elapsed_ns * rn->env->valid_min > (double)t->duration_ns) {
                t->valid = false;
                t->invalid_reason = "offered rate fell short of the intended rate";
        }
}

int mpg_trial_run(struct mpg_runner *rn, struct mpg_trial *t)
{
        struct mpg_env *env = rn->env;
        bool aborted = false;
        int err;

        if (t->rate <= 0 || t->count == 0)
                return -EINVAL;
        t->no = ++env->trial_no;
        t->frame = rn->frame;
        /* Step E follows a trial: none before the first. */
        if (env->rest_ns > 0 && t->no > 1) {
                if (env->virtual_time)
                        virt_idle(rn, mpnet_clock_now(env->clock) + env->rest_ns);
                else
                        rest(env);
        }
        if (interrupted(env))
                return -EINTR;
        mpg_rx_start(&rn->rx, (uint8_t)t->no);
        mpg_gen_start(&rn->gen, (uint8_t)t->no, t->rate, t->count, 0);
        if (t->step_rate > 0)
                mpg_gen_step_rate(&rn->gen, t->step_at, t->step_rate);
        t->action_err = 0;
        t->dut_probed = false;
        if (env->probe != NULL)
                env->probe(env->probe_arg, t, false);
        err = env->virtual_time ? run_virtual(rn, t, &aborted) : run_threads(rn, t, &aborted);
        if (env->probe != NULL)
                env->probe(env->probe_arg, t, true);
        fill_results(rn, t, aborted);
        if (env->on_trial != NULL)
                env->on_trial(env->on_trial_arg, t);
        return err;
}
