/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rfc2544: the suite. For each frame size, in order:
 *
 *   1. calibration: a trial at line rate through a plain memory wire with
 *      the DUT thread stopped. The lower of the rate the generator offered
 *      and the rate the receiver took, times a margin, is the ceiling: no
 *      trial asks the DUT for more, since the tester could not tell the
 *      DUT's loss from its own (issue self-check 6). Then one unpaced
 *      trial through the same wire: the tester's own rate, reported beside
 *      the DUT's so a DUT result at that rate reads as the tester's;
 *   2. throughput (RFC 2544 section 26.1) by mpg_search(), between
 *      ceiling / 1000 and the ceiling;
 *   3. latency (section 26.2) at the throughput rate: repeated trials, every
 *      frame timestamped (RFC 8219 section 7.3 measures many frames, not one
 *      tagged frame); the RFC 2544 figure is the mean over the repeats;
 *   4. frame loss rate (section 26.3) from 100 % of line rate in steps;
 *   5. back-to-back frames (section 26.4 as updated by RFC 9004) when the
 *      ceiling is line rate; without it no burst has the minimum gap;
 *   6. system recovery (section 26.5): 110 % of the throughput rate (at most
 *      the ceiling) for rec_ns, then 50 % of that in the same stream; the
 *      recovery time is from the step to the last frame lost, the mean of
 *      the repeats;
 *   7. reset (section 26.6), for the smallest frame size only: a stream at
 *      the throughput rate, the DUT reset reset_at_ns into it (an mpnet
 *      router: a new stack; the kernel: links down and up); the reset time
 *      is from the last frame received before the lost ones to the first
 *      after.
 *
 * Trial lengths: section 24 (60 s for throughput and frame loss; the search
 * may use shorter trials), section 26.2 (120 s, 20 repeats), RFC 9004 section
 * 6.3 (50 repeats); section 23 steps D and E between trials (2 s for residual
 * frames, 5 s to restabilise). The quick profile shortens all of them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpgen.h"
#ifdef MPNET_HAVE_AFXDP
#include "mpnet/afxdp.h"
#endif
#include "mpnet/stack.h"

void mpg_suite_defaults(struct mpg_suite_cfg *c, bool quick)
{
        static const unsigned sizes[] = {64, 128, 256, 512, 1024, 1280, 1518};

        memset(c, 0, sizeof(*c));
        c->dut = MPG_DUT_BUILTIN;
        c->workers = 1;
        c->speed_bps = 10000000000ull;
        c->ring_size = 4096;
        c->pool_size = 16384;
        mpg_flows_default(&c->flows, false);
        memcpy(c->sizes, sizes, sizeof(sizes));
        c->n_sizes = 7;
        c->t_tput = c->t_lat = c->t_flr = c->t_b2b = c->t_rec = c->t_reset = true;
        c->pdr_loss = 0.005;
        c->flr_step = 0.1;
        c->valid_min = 0.99;
        c->ceiling_margin = 0.95;
        c->retries = 2;
        c->out_dir = "mpgen-report";
        mpg_layout_default(&c->layout);
        if (quick) {
                c->profile = "quick";
                c->resolution = 0.02;
                c->phases = 1;
                c->tput_ns = c->search_ns = 100 * MPNET_NS_PER_MS;
                c->lat_ns = 200 * MPNET_NS_PER_MS;
                c->lat_repeats = 1;
                c->flr_ns = 100 * MPNET_NS_PER_MS;
                c->b2b_max = 16384;
                c->b2b_repeats = 2;
                c->b2b_res = 0.05;
                c->calib_ns = 200 * MPNET_NS_PER_MS;
                c->rec_ns = 300 * MPNET_NS_PER_MS;
                c->rec_after_ns = 300 * MPNET_NS_PER_MS;
                c->rec_repeats = 2;
                c->reset_ns = 600 * MPNET_NS_PER_MS;
                c->reset_at_ns = 200 * MPNET_NS_PER_MS;
                c->settle_ns = 20 * MPNET_NS_PER_MS;
                c->rest_ns = 5 * MPNET_NS_PER_MS;
                c->retries = 1;
                return;
        }
        c->profile = "rfc2544";
        c->resolution = 0.005;
        c->phases = 2;
        c->search_ns = 10 * MPNET_NS_PER_S;
        c->tput_ns = 60 * MPNET_NS_PER_S;
        c->lat_ns = 120 * MPNET_NS_PER_S;
        c->lat_repeats = 20;
        c->flr_ns = 60 * MPNET_NS_PER_S;
        c->b2b_max = 0; /* 2 s at line rate */
        c->b2b_repeats = 50;
        c->b2b_res = 0;
        c->calib_ns = 5 * MPNET_NS_PER_S;
        c->rec_ns = 60 * MPNET_NS_PER_S; /* section 26.5: at least 60 s */
        c->rec_after_ns = 30 * MPNET_NS_PER_S;
        c->rec_repeats = 5;
        c->reset_ns = 60 * MPNET_NS_PER_S;
        c->reset_at_ns = 10 * MPNET_NS_PER_S;
        c->settle_ns = 2 * MPNET_NS_PER_S;
        c->rest_ns = 5 * MPNET_NS_PER_S;
}

/* The 1-minute load average: on a shared machine the figures depend on it. */
static double loadavg(void)
{
        FILE *f = fopen("/proc/loadavg", "r");
        double l = -1;

        if (f != NULL) {
                if (fscanf(f, "%lf", &l) != 1)
                        l = -1;
                fclose(f);
        }
        return l;
}

static unsigned largest_size(const struct mpg_suite_cfg *c)
{
        unsigned m = c->sizes[0];

        for (unsigned i = 1; i < c->n_sizes; i++)
                if (c->sizes[i] > m)
                        m = c->sizes[i];
        return m;
}

static unsigned smallest_size(const struct mpg_suite_cfg *c)
{
        unsigned m = c->sizes[0];

        for (unsigned i = 1; i < c->n_sizes; i++)
                if (c->sizes[i] < m)
                        m = c->sizes[i];
        return m;
}

/* ---- progress and the trial log ------------------------------------------- */

static void progress(struct mpg_suite *s, const struct mpg_trial *t, bool done)
{
        const struct mpg_size_res *r = &s->res[s->cur_size];
        char buf[256];
        int n;

        if (s->cfg.quiet)
                return;
        n = snprintf(buf, sizeof(buf), "[%u/%u %uB] %s #%u: %.4g Mfps x %llu", s->cur_size + 1,
                     s->cfg.n_sizes, r->frame, s->cur_test, t->no, t->rate / 1e6,
                     (unsigned long long)t->count);
        if (done && n > 0 && (size_t)n < sizeof(buf))
                snprintf(buf + n, sizeof(buf) - (size_t)n, " -> loss %.4f%%, fwd %.4g Mfps%s",
                         t->loss_ratio * 100, t->rx_rate / 1e6, t->valid ? "" : " INVALID");
        if (s->tty)
                fprintf(stderr, "\r\033[K%s", buf);
        else if (done)
                fprintf(stderr, "%s\n", buf);
}

static void log_trial(void *arg, const struct mpg_trial *t)
{
        struct mpg_suite *s = arg;

        if (s->n_log == s->cap_log) {
                size_t cap = s->cap_log ? s->cap_log * 2 : 256;
                struct mpg_trial *n = realloc(s->log, cap * sizeof(*n));

                if (n == NULL)
                        return; /* the report misses a trial; the run goes on */
                s->log = n;
                s->cap_log = cap;
        }
        s->log[s->n_log++] = *t;
}

struct suite_trial {
        struct mpg_suite *s;
        struct mpg_runner *rn;
};

static int suite_trial(void *arg, struct mpg_trial *t)
{
        struct suite_trial *st = arg;
        int err;

        t->no = st->rn->env->trial_no + 1;
        progress(st->s, t, false);
        err = mpg_trial_run(st->rn, t);
        if (err == 0 || t->offered > 0)
                progress(st->s, t, true);
        return err;
}

/* ---- the tests of one frame size ------------------------------------------- */

/* The tester's ceiling through what joins its links when no DUT is there:
 * a memory wire for the in-process DUTs, a veth pair for the external ones. */
static enum mpg_dut_kind calib_kind(enum mpg_dut_kind dut)
{
        return dut == MPG_DUT_KERNEL || dut == MPG_DUT_AFPACKET || dut == MPG_DUT_AFXDP
                   ? MPG_DUT_VETH
                   : MPG_DUT_WIRE;
}

/* The tester's own rate: as fast as it goes (every frame due at once),
 * through the calibration's wire, for about the calibration's time: at 30
 * Mfps or line rate, whichever is more, when the calibration reached line
 * rate, else at the rate it got through. The best of 1 + retries attempts. */
static int measure_tester(struct mpg_suite *s, struct suite_trial *st, struct mpg_size_res *r)
{
        double guess = r->line_rate > 30e6 ? r->line_rate : 30e6;
        int err = 0;

        if (r->ceiling < r->line_rate)
                guess = r->calib.rx_rate > r->calib.offered_rate ? r->calib.rx_rate
                                                                 : r->calib.offered_rate;
        if (guess < 1000)
                guess = 1000;

        s->cur_test = "tester ceiling";
        for (unsigned a = 0; a <= s->cfg.retries && err == 0; a++) {
                struct mpg_trial t = {.kind = MPG_T_CEILING, .phase = -1, .rate = 1e12};

                t.count = (uint64_t)(guess * (double)s->cfg.calib_ns / 1e9) + 1;
                err = suite_trial(st, &t);
                if (err == 0 && t.rx_rate > r->tester_fps) {
                        r->tester_fps = t.rx_rate;
                        r->tester_done = true;
                }
        }
        return err;
}

static int calibrate(struct mpg_suite *s, struct mpg_env *base, struct mpg_size_res *r)
{
        struct mpg_dut_cfg dc = {.kind = calib_kind(s->cfg.dut),
                                 .clock = base->clock,
                                 .pool = base->pool,
                                 .speed_bps = s->cfg.speed_bps,
                                 .ring_size = s->cfg.ring_size,
                                 .mtu = mpg_mtu_for(largest_size(&s->cfg)),
                                 .ip6 = s->cfg.flows.ip6,
                                 .link = s->cfg.link,
                                 .layout = &s->cfg.layout};
        struct mpg_env env = *base;
        struct mpg_runner rn;
        struct mpg_dut wire;
        struct suite_trial st = {.s = s, .rn = &rn};
        struct mpg_trial t;
        int err = 0;

        err = mpg_dut_create(&dc, &wire);
        if (err != 0) {
                fprintf(stderr, "mpgen: cannot set up the %s for calibration: %s\n",
                        mpg_dut_name(dc.kind), wire.err);
                return err;
        }
        mpg_dut_path(&wire, &env.path);
        err = mpg_runner_init(&rn, &env, r->frame);
        if (err != 0) {
                mpg_dut_destroy(&wire);
                return err;
        }
        s->cur_test = "calibration";
        /* The best of 1 + retries attempts: on a shared machine one attempt
         * can lose the CPU at the wrong moment. */
        for (unsigned a = 0; a <= s->cfg.retries && err == 0; a++) {
                double cap;

                t = (struct mpg_trial){
                    .kind = MPG_T_CALIBRATION, .phase = -1, .rate = r->line_rate};
                t.count = (uint64_t)(r->line_rate * (double)s->cfg.calib_ns / 1e9) + 1;
                err = suite_trial(&st, &t);
                if (err != 0)
                        break;
                if (t.lost <= 0 && t.offered_rate >= s->cfg.valid_min * r->line_rate)
                        cap = r->line_rate;
                else
                        cap = (t.offered_rate < t.rx_rate ? t.offered_rate : t.rx_rate) *
                              s->cfg.ceiling_margin;
                if (!r->calibrated || cap > r->ceiling) {
                        r->calibrated = true;
                        r->ceiling = cap;
                        r->calib = t;
                }
                if (cap >= r->line_rate)
                        break;
        }
        if (err == 0)
                err = measure_tester(s, &st, r);
        base->trial_no = env.trial_no;
        mpg_runner_fini(&rn);
        mpg_dut_destroy(&wire);
        return err;
}

static int test_throughput(struct mpg_suite *s, struct suite_trial *st, struct mpg_size_res *r)
{
        struct mpg_search_cfg c = {
            .frame = r->frame,
            .max_rate = r->ceiling,
            .min_rate = r->ceiling / 1000,
            .resolution = s->cfg.resolution,
            .n_targets = s->cfg.mlr ? 2 : 1,
            .pdr_loss = s->cfg.pdr_loss,
            .phases = s->cfg.phases,
            .min_duration_ns = s->cfg.search_ns,
            .duration_ns = s->cfg.tput_ns,
            .mlr = s->cfg.mlr,
            .retries = s->cfg.retries,
        };
        int err;

        s->cur_test = "throughput";
        err = mpg_search(&c, suite_trial, st, &r->tput);
        r->tput_done = err == 0;
        return err;
}

static int test_latency(struct mpg_suite *s, struct suite_trial *st, struct mpg_size_res *r)
{
        struct mpg_hist *all = malloc(sizeof(*all));
        double sum = 0;
        int err = 0;

        if (all == NULL)
                return -ENOMEM;
        mpg_hist_reset(all);
        s->cur_test = "latency";
        r->lat_rate = r->tput.rate[0];
        for (unsigned i = 0; i < s->cfg.lat_repeats && r->lat_rate > 0 && err == 0; i++) {
                struct mpg_trial t = {.kind = MPG_T_LATENCY, .phase = -1, .rate = r->lat_rate};

                t.count = (uint64_t)(r->lat_rate * (double)s->cfg.lat_ns / 1e9) + 1;
                for (unsigned a = 0; a <= s->cfg.retries; a++) {
                        t.kind = MPG_T_LATENCY;
                        err = suite_trial(st, &t);
                        if (err != 0 || t.valid)
                                break;
                }
                r->lat_repeats++;
                if (err != 0 || !t.valid || t.lat.count == 0)
                        continue;
                r->lat_valid++;
                mpg_hist_merge(all, &st->rn->hist);
                sum += t.lat.mean;
        }
        mpg_hist_summary(all, &r->lat);
        r->lat_mean_avg = r->lat_valid > 0 ? sum / r->lat_valid : 0;
        r->lat_done = err == 0 && r->lat_rate > 0;
        free(all);
        return err;
}

static int test_flr(struct mpg_suite *s, struct suite_trial *st, struct mpg_size_res *r)
{
        struct mpg_flr_cfg c = {.frame = r->frame,
                                .line_rate = r->line_rate,
                                .max_rate = r->ceiling,
                                .step = s->cfg.flr_step,
                                .duration_ns = s->cfg.flr_ns,
                                .retries = s->cfg.retries};
        int err;

        s->cur_test = "frame loss";
        err = mpg_flr(&c, suite_trial, st, &r->flr);
        r->flr_done = err == 0;
        return err;
}

static int test_b2b(struct mpg_suite *s, struct suite_trial *st, struct mpg_size_res *r)
{
        struct mpg_b2b_cfg c = {.frame = r->frame,
                                .line_rate = r->line_rate,
                                .max_burst = s->cfg.b2b_max,
                                .repeats = s->cfg.b2b_repeats,
                                .resolution = s->cfg.b2b_res,
                                .throughput = r->tput.rate[0],
                                .retries = s->cfg.retries};
        int err;

        if (r->ceiling < r->line_rate)
                return 0; /* reported as not run: no burst at line rate possible */
        if (c.max_burst == 0)
                c.max_burst = (uint64_t)(2 * r->line_rate); /* RFC 9004 section 6.2: 2 s */
        s->cur_test = "back-to-back";
        err = mpg_b2b(&c, suite_trial, st, &r->b2b);
        r->b2b_done = err == 0;
        return err;
}

static int test_recovery(struct mpg_suite *s, struct suite_trial *st, struct mpg_size_res *r)
{
        double sum = 0;
        int err = 0;

        if (!r->tput_done || r->tput.rate[0] <= 0)
                return 0; /* reported as not run: no throughput to start from */
        s->cur_test = "recovery";
        r->rec_rate = 1.1 * r->tput.rate[0] < r->ceiling ? 1.1 * r->tput.rate[0] : r->ceiling;
        for (unsigned i = 0; i < s->cfg.rec_repeats && err == 0; i++) {
                struct mpg_trial t;

                for (unsigned a = 0; a <= s->cfg.retries; a++) {
                        t = (struct mpg_trial){.kind = MPG_T_RECOVERY,
                                               .phase = -1,
                                               .rate = r->rec_rate,
                                               .step_rate = r->rec_rate / 2};
                        t.step_at = (uint64_t)(r->rec_rate * (double)s->cfg.rec_ns / 1e9);
                        t.count = t.step_at +
                                  (uint64_t)(t.step_rate * (double)s->cfg.rec_after_ns / 1e9) + 1;
                        err = suite_trial(st, &t);
                        if (err != 0 || t.valid)
                                break;
                }
                r->rec_repeats++;
                if (err != 0 || !t.valid || !t.recovered)
                        continue;
                r->rec_recovered++;
                sum += (double)t.recovery_ns;
                if (t.recovery_ns > r->rec_max_ns)
                        r->rec_max_ns = t.recovery_ns;
        }
        r->rec_mean_ns = r->rec_recovered > 0 ? sum / r->rec_recovered : 0;
        r->rec_done = err == 0;
        return err;
}

static int test_reset(struct mpg_suite *s, struct suite_trial *st, struct mpg_size_res *r)
{
        struct mpg_trial t = {.kind = MPG_T_RESET, .phase = -1};
        int err;

        if (!r->tput_done || r->tput.rate[0] <= 0 || st->rn->env->action == NULL)
                return 0; /* reported as not run */
        s->cur_test = "reset";
        r->reset_rate = t.rate = r->tput.rate[0];
        t.count = (uint64_t)(t.rate * (double)s->cfg.reset_ns / 1e9) + 1;
        t.action_ns = s->cfg.reset_at_ns;
        err = suite_trial(st, &t);
        if (err != 0)
                return err;
        r->reset_err = t.action_err;
        r->reset_gap_ns = t.outage_ns;
        r->reset_lost = t.outage_lost;
        r->reset_done = t.action_err == 0;
        return 0;
}

static int run_size(struct mpg_suite *s, struct mpg_env *env, struct mpg_dut *dut,
                    struct mpg_size_res *r)
{
        struct mpg_runner rn;
        struct suite_trial st = {.s = s, .rn = &rn};
        int err;

        r->line_rate = mpg_line_rate(s->cfg.speed_bps, r->frame);
        mpg_dut_stop(dut);
        err = calibrate(s, env, r);
        if (err == 0)
                err = mpg_dut_start(dut);
        if (err != 0)
                return err;
        err = mpg_runner_init(&rn, env, r->frame);
        if (err != 0)
                return err;
        if (s->cfg.t_tput || s->cfg.t_lat || s->cfg.t_b2b || s->cfg.t_rec || s->cfg.t_reset)
                err = test_throughput(s, &st, r);
        if (err == 0 && s->cfg.t_lat)
                err = test_latency(s, &st, r);
        if (err == 0 && s->cfg.t_flr)
                err = test_flr(s, &st, r);
        if (err == 0 && s->cfg.t_b2b)
                err = test_b2b(s, &st, r);
        if (err == 0 && s->cfg.t_rec)
                err = test_recovery(s, &st, r);
        if (err == 0 && s->cfg.t_reset && r->frame == smallest_size(&s->cfg))
                err = test_reset(s, &st, r);
        mpg_runner_fini(&rn);
        return err;
}

static void counter_put(struct mpg_suite *s, const char *name, uint64_t v)
{
        if (s->n_dut_counters < MPG_DUT_COUNTERS_MAX) {
                s->dut_counters[s->n_dut_counters].name = name;
                s->dut_counters[s->n_dut_counters].v = v;
                s->n_dut_counters++;
        }
}

/* The drops of the links on the path (tester ends ta and tb, router ends
 * da and db), so a frame the trials lost shows where it went. On AF_XDP
 * (XDP_STATISTICS and the link's own): rx_dropped, what the kernel could
 * not deliver, mostly fill_ring_empty (every receive frame of the UMEM
 * waiting in the RX ring: its reader a ring behind); tx_ring_empty, the
 * kernel's tx_ring_empty_descs (times it looked in the TX ring and found
 * nothing); rx_nobufs, frames the pool had no buffer for. */
#define LINK_CTRS(p)                                                                               \
        {                                                                                          \
                p "_rx_drops", p "_tx_drops", p "_xdp_rx_dropped", p "_xdp_rx_ring_full",          \
                    p "_xdp_fill_ring_empty", p "_xdp_tx_ring_full", p "_xdp_tx_dev_drops",        \
                    p "_xdp_tx_kicks", p "_xdp_rx_kicks", p "_xdp_tx_ring_empty",                  \
                    p "_xdp_rx_nobufs"                                                             \
        }
static void snapshot_links(struct mpg_suite *s, const struct mpg_dut *dut)
{
        static const char *const names[4][11] = {LINK_CTRS("link_ta"), LINK_CTRS("link_tb"),
                                                 LINK_CTRS("link_da"), LINK_CTRS("link_db")};
        struct mpnet_link *l[4] = {dut->tx, dut->rx, dut->da, dut->db};

        for (unsigned i = 0; i < 4; i++) {
                struct mpnet_link_stats st = {0};

                if (l[i] == NULL)
                        continue;
                mpnet_link_get_stats(l[i], &st);
                counter_put(s, names[i][0], st.rx_drops);
                counter_put(s, names[i][1], st.tx_drops);
#ifdef MPNET_HAVE_AFXDP
                struct mpnet_afxdp_stats xs;

                if (mpnet_afxdp_get_stats(l[i], &xs) == 0) {
                        counter_put(s, names[i][2], xs.rx_dropped);
                        counter_put(s, names[i][3], xs.rx_ring_full);
                        counter_put(s, names[i][4], xs.fill_ring_empty);
                        counter_put(s, names[i][5], xs.tx_ring_full);
                        counter_put(s, names[i][6], xs.tx_dev_drops);
                        counter_put(s, names[i][7], xs.tx_kicks);
                        counter_put(s, names[i][8], xs.rx_kicks);
                        counter_put(s, names[i][9], xs.tx_ring_empty);
                        counter_put(s, names[i][10], xs.rx_nobufs);
                }
#endif
        }
}

static void snapshot_counters(struct mpg_suite *s, const struct mpg_dut *dut)
{
        s->n_dut_counters = 0;
        snapshot_links(s, dut);
        if (dut->stack == NULL)
                return;
        for (unsigned c = 0; c < mpnet_stack_counter_count(dut->stack); c++)
                counter_put(s, mpnet_stack_counter_name(dut->stack, c),
                            mpnet_stack_counter(dut->stack, c));
}

int mpg_suite_run(struct mpg_suite *s)
{
        struct mpg_dut_cfg dc = {.kind = s->cfg.dut,
                                 .speed_bps = s->cfg.speed_bps,
                                 .ring_size = s->cfg.ring_size,
                                 .mtu = mpg_mtu_for(largest_size(&s->cfg)),
                                 .ip6 = s->cfg.flows.ip6,
                                 .link = s->cfg.link,
                                 .workers = s->cfg.workers,
                                 .layout = &s->cfg.layout};
        struct mpnet_clock clk;
        struct mpg_tsc tsc;
        struct mpg_env env;
        struct mpg_dut dut;
        int err = 0;

        mpnet_clock_init_monotonic(&clk);
        dc.clock = &clk;
        dc.pool = mpnet_pool_create("mpgen", s->cfg.pool_size);
        if (dc.pool == NULL)
                return -ENOMEM;
        err = mpg_dut_create(&dc, &dut);
        if (err != 0) {
                fprintf(stderr, "mpgen: cannot set up the %s DUT: %s\n", mpg_dut_name(dc.kind),
                        dut.err);
                mpnet_pool_destroy(dc.pool);
                return err;
        }
        memset(&env, 0, sizeof(env));
        env.clock = &clk;
        env.pool = dc.pool;
        env.flows = s->cfg.flows;
        env.settle_ns = s->cfg.settle_ns;
        env.rest_ns = s->cfg.rest_ns;
        env.valid_min = s->cfg.valid_min;
        env.on_trial = log_trial;
        env.on_trial_arg = s;
        env.interrupted = s->interrupted;
        env.layout = &s->cfg.layout;
        mpg_tsc_init(&tsc);
        env.tsc = &tsc;
        mpg_dut_path(&dut, &env.path);
        env.path.poll = NULL; /* real time: the DUT has its own thread */
        if (s->cfg.dut != MPG_DUT_WIRE && s->cfg.dut != MPG_DUT_VETH) {
                env.action = mpg_dut_reset;
                env.action_arg = &dut;
        }
        env.probe = mpg_dut_probe;
        env.probe_arg = &dut;
        mpg_layout_describe(&s->cfg.layout, (int)s->cfg.dut, s->cfg.workers, s->layout_line,
                            sizeof(s->layout_line));
        s->tty = isatty(2) == 1;
        s->wall_start = (long long)time(NULL);
        s->t_start = mpnet_monotonic_ns();
        s->load_start = loadavg();
        for (unsigned i = 0; i < s->cfg.n_sizes; i++) {
                struct mpg_size_res *r = &s->res[i];

                s->cur_size = i;
                s->n_res = i + 1;
                r->frame = s->cfg.sizes[i];
                err = run_size(s, &env, &dut, r);
                r->err = err;
                if (err != 0)
                        break;
        }
        if (s->tty && !s->cfg.quiet)
                fprintf(stderr, "\r\033[K");
        s->t_end = mpnet_monotonic_ns();
        s->load_end = loadavg();
        mpg_dut_stop(&dut);
        snapshot_counters(s, &dut);
        mpg_dut_destroy(&dut);
        mpnet_pool_destroy(dc.pool);
        return err;
}

void mpg_suite_fini(struct mpg_suite *s)
{
        free(s->log);
        s->log = NULL;
        s->n_log = s->cap_log = 0;
}
