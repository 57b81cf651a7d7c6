/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * search: the RFC 2544 procedures that pick rates and burst lengths. They see
 * the world only through a trial function, so tests drive them with fake
 * DUTs as well as real trials.
 *
 * Throughput (RFC 2544 section 26.1; RFC 1242 section 3.17: the fastest rate
 * at which no frame is lost). One engine serves two modes.
 *
 *   binary  RFC 2544's search: a trial at the maximum rate; on loss, halve
 *           towards the last rate that passed (0 is assumed to pass) until the
 *           interval between the best pass and the worst fail is within the
 *           resolution. With phases > 1 the early phases use short trials and
 *           the last re-verifies with full-length ones (section 24 allows a
 *           shorter trial during the search, "but the final determination
 *           SHOULD be made with full length trials").
 *
 *   mlr     in the spirit of MLRsearch (draft-ietf-bmwg-mlrsearch): several
 *           targets in one pass (NDR: no loss; PDR: loss ratio at most
 *           pdr_loss), every trial updating the bounds of each; phases whose
 *           trial duration grows geometrically while the width goal halves;
 *           after a failed trial the next rate comes from the forwarding rate
 *           that trial measured, and an external search widens its step until
 *           a bound holds.
 *
 * Bounds per target: `lo` the highest rate that met the target, `hi` the
 * lowest that did not. A new result that contradicts a bound (a pass above
 * `hi`, a fail below `lo`) invalidates it: the latest measurement wins. A
 * new phase keeps `hi` (a loss in a short trial stays a loss in a longer one)
 * and re-verifies `lo` first. An invalid trial (the generator fell short) is
 * retried (cfg retries times); if it stays invalid its rate becomes an upper bound and the
 * result is flagged generator-limited: it is never a lower bound. After
 * max_invalid such rates in a row the search gives up: the tester is
 * overloaded, and lower rates would only cost time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <math.h>
#include <string.h>

#include "mpgen.h"

struct target {
        double loss;
        struct mpg_bound lo, hi;
        double hi_rx_rate; /* forwarding rate measured at hi */
        bool hi_invalid;   /* hi comes from an invalid trial */
        double hint;       /* lo of the previous phase, to re-verify; 0 none */
        double ext;        /* external search step, relative */
        bool estimated;    /* the forwarding-rate estimate was tried */
};

static void set_lo(struct target *t, double x)
{
        if (!t->lo.valid || x > t->lo.rate)
                t->lo = (struct mpg_bound){.rate = x, .valid = true};
        if (t->hi.valid && t->hi.rate <= x)
                t->hi.valid = false;
        t->ext = 0;
}

static void set_hi(struct target *t, double x, double rx_rate, bool invalid)
{
        if (!t->hi.valid || x <= t->hi.rate) {
                t->hi = (struct mpg_bound){.rate = x, .valid = true};
                t->hi_rx_rate = rx_rate;
                t->hi_invalid = invalid;
        }
        if (t->lo.valid && t->lo.rate >= x)
                t->lo.valid = false;
        if (t->lo.valid)
                t->ext = 0;
}

static bool same_rate(double a, double b)
{
        return fabs(a - b) <= 1e-9 * (a > b ? a : b);
}

/* MLR: the rate at which the trial at hi would have met the target, were
 * the DUT's forwarding rate its capacity: rx_rate / (1 - loss). Used once
 * per target and phase, when it falls strictly inside the bounds. */
static double estimate(const struct mpg_search_cfg *c, struct target *t, double width)
{
        double x;

        if (!c->mlr || t->estimated || !t->hi.valid || t->hi_rx_rate <= 0)
                return 0;
        t->estimated = true;
        x = t->hi_rx_rate / (1 - t->loss);
        if (x >= t->hi.rate * (1 - width) || (t->lo.valid && x <= t->lo.rate * (1 + width)))
                return 0;
        return x > c->min_rate ? x : c->min_rate;
}

/* The next rate for target t in this phase, or 0 when t is done. */
static double next_rate(const struct mpg_search_cfg *c, struct target *t, double width,
                        unsigned phase)
{
        double x;

        if (t->lo.valid && (t->lo.rate >= c->max_rate || same_rate(t->lo.rate, c->max_rate)))
                return 0;
        if (t->hi.valid && t->hi.rate <= c->min_rate * (1 + width))
                return 0;
        if (t->lo.valid && t->hi.valid && t->hi.rate - t->lo.rate <= width * t->hi.rate)
                return 0;
        if (t->hint > 0 && (!t->hi.valid || t->hint < t->hi.rate)) {
                x = t->hint;
                t->hint = 0;
                return x;
        }
        x = estimate(c, t, width);
        if (x > 0)
                return x;
        if (t->lo.valid && t->hi.valid) {
                double mid = (t->lo.rate + t->hi.rate) / 2;

                /* MLR: bounds far apart (the estimate landed near one): widen
                 * a step from lo before bisecting. */
                if (!c->mlr || t->hi.rate <= t->lo.rate * (1 + 8 * width))
                        return mid;
                t->ext = t->ext > 0 ? t->ext * 2 : 2 * width;
                x = t->lo.rate * (1 + t->ext);
                return x < mid ? x : mid;
        }
        if (!t->hi.valid) {
                /* Going up from lo. */
                if (!t->lo.valid || !c->mlr)
                        return c->max_rate;
                t->ext = t->ext > 0 ? t->ext * 2 : 4 * width;
                x = t->lo.rate * (1 + t->ext);
                return x < c->max_rate ? x : c->max_rate;
        }
        /* Going down from hi. */
        if (!c->mlr && phase == 0)
                return (c->min_rate + t->hi.rate) / 2;
        t->ext = t->ext > 0 ? t->ext * 2 : 2 * width;
        x = t->hi.rate * (1 - t->ext);
        return x > c->min_rate ? x : c->min_rate;
}

static uint64_t phase_duration(const struct mpg_search_cfg *c, unsigned p, unsigned phases)
{
        double lo = (double)c->min_duration_ns, hi = (double)c->duration_ns;

        if (phases <= 1 || lo <= 0 || lo >= hi)
                return c->duration_ns;
        return (uint64_t)(lo * pow(hi / lo, (double)p / (phases - 1)));
}

static uint64_t frames_for(double rate, uint64_t ns)
{
        double n = rate * (double)ns / 1e9;

        return n < 1 ? 1 : (uint64_t)(n + 0.5);
}

/* Run a trial, again while invalid, at most 1 + retries times.
 * @return 0, 1 when still invalid, or -errno. */
static int trial_retry(mpg_trial_fn fn, void *arg, struct mpg_trial *t, unsigned retries,
                       unsigned *trials, unsigned *invalid)
{
        struct mpg_trial req = *t;
        int err;

        for (unsigned attempt = 0; attempt <= retries; attempt++) {
                *t = req;
                err = fn(arg, t);
                (*trials)++;
                if (err != 0)
                        return err;
                if (t->valid)
                        return 0;
                (*invalid)++;
        }
        return 1;
}

int mpg_search(const struct mpg_search_cfg *c, mpg_trial_fn fn, void *arg,
               struct mpg_search_res *out)
{
        struct target tg[MPG_SEARCH_TARGETS];
        unsigned nt = c->n_targets ? c->n_targets : 1;
        unsigned phases = c->phases ? c->phases : 1;
        unsigned max_trials = c->max_trials ? c->max_trials : 200;
        unsigned max_bad = c->max_invalid ? c->max_invalid : 3, bad_run = 0;
        int err = 0;

        memset(out, 0, sizeof(*out));
        memset(tg, 0, sizeof(tg));
        if (nt > MPG_SEARCH_TARGETS || phases > MPG_SEARCH_PHASES || c->max_rate <= 0 ||
            c->min_rate <= 0 || c->min_rate >= c->max_rate || c->resolution <= 0)
                return -EINVAL;
        tg[1].loss = c->pdr_loss;
        for (unsigned p = 0; p < phases && err == 0; p++) {
                uint64_t dur = phase_duration(c, p, phases);
                double width =
                    c->mlr ? c->resolution * (double)(1u << (phases - 1 - p)) : c->resolution;

                for (unsigned i = 0; p > 0 && i < nt; i++) {
                        tg[i].hint = tg[i].lo.valid ? tg[i].lo.rate : 0;
                        tg[i].lo.valid = false;
                        tg[i].ext = 0;
                        tg[i].estimated = false;
                }
                for (;;) {
                        struct mpg_trial t = {.kind = MPG_T_THROUGHPUT, .phase = (int)p};
                        double x = 0;
                        int r;

                        for (unsigned i = 0; i < nt && x == 0; i++)
                                x = next_rate(c, &tg[i], width, p);
                        if (x == 0)
                                break;
                        if (out->trials >= max_trials) {
                                err = -ETIMEDOUT;
                                break;
                        }
                        t.rate = x;
                        t.count = frames_for(x, dur);
                        r = trial_retry(fn, arg, &t, c->retries, &out->trials, &out->invalid);
                        if (r < 0) {
                                err = r;
                                break;
                        }
                        /* Rate after rate the tester cannot offer: it is
                         * overloaded, and going lower only costs time. */
                        bad_run = r == 1 ? bad_run + 1 : 0;
                        if (bad_run >= max_bad) {
                                out->gave_up = true;
                                err = -ETIMEDOUT;
                        }
                        for (unsigned i = 0; i < nt; i++) {
                                if (r == 1)
                                        set_hi(&tg[i], x, 0, true);
                                else if (t.lost <= 0 || t.loss_ratio <= tg[i].loss)
                                        set_lo(&tg[i], x);
                                else
                                        set_hi(&tg[i], x, t.rx_rate, false);
                        }
                        if (err != 0)
                                break;
                }
        }
        for (unsigned i = 0; i < nt; i++) {
                out->lo[i] = tg[i].lo;
                out->hi[i] = tg[i].hi;
                out->rate[i] = tg[i].lo.valid ? tg[i].lo.rate : 0;
                out->at_max[i] = tg[i].lo.valid && same_rate(tg[i].lo.rate, c->max_rate);
                if (tg[i].hi.valid && tg[i].hi_invalid)
                        out->gen_limited = true;
        }
        return err == -ETIMEDOUT ? 0 : err;
}

/* ---- back-to-back ---------------------------------------------------------- */

/* One independent search (RFC 9004 section 6.3). @return the longest burst
 * with no loss, or -1 when a trial stayed invalid. */
static int64_t b2b_once(const struct mpg_b2b_cfg *c, mpg_trial_fn fn, void *arg,
                        struct mpg_b2b_res *out, int *err)
{
        uint64_t lo = 0, hi = 0, x = c->max_burst;

        for (;;) {
                struct mpg_trial t = {.kind = MPG_T_BACK_TO_BACK, .phase = -1};
                unsigned inv = 0;
                int r;

                t.rate = c->line_rate;
                t.count = x;
                r = trial_retry(fn, arg, &t, c->retries, &out->trials, &inv);
                if (r != 0) {
                        *err = r < 0 ? r : 0;
                        return -1;
                }
                if (t.lost <= 0) {
                        lo = x;
                        if (x == c->max_burst) {
                                out->at_max = true;
                                return (int64_t)lo;
                        }
                } else {
                        hi = x;
                }
                if (hi - lo <= 1 || (double)(hi - lo) <= c->resolution * (double)lo)
                        return (int64_t)lo;
                x = lo + (hi - lo) / 2;
        }
}

int mpg_b2b(const struct mpg_b2b_cfg *c, mpg_trial_fn fn, void *arg, struct mpg_b2b_res *out)
{
        double sum = 0;
        int err = 0;

        memset(out, 0, sizeof(*out));
        if (c->max_burst == 0 || c->line_rate <= 0 || c->repeats == 0)
                return -EINVAL;
        out->min = INFINITY;
        for (unsigned i = 0; i < c->repeats; i++) {
                int64_t b = b2b_once(c, fn, arg, out, &err);

                if (err != 0)
                        return err;
                if (b < 0) {
                        out->invalid = true;
                        continue;
                }
                out->repeats_done++;
                sum += (double)b;
                if (b < out->min)
                        out->min = (double)b;
                if (b > out->max)
                        out->max = (double)b;
        }
        if (out->repeats_done == 0) {
                out->mean = out->min = out->max = NAN;
                out->implied_buffer_s = out->corrected_buffer_s = NAN;
                return 0;
        }
        /* RFC 9004 section 6.4: the benchmark is the mean burst; the implied
         * buffer time is that burst at the maximum theoretical frame rate. While
         * the burst arrives the DUT also forwards, at its throughput rate, so it
         * held only mean * (1 - throughput / line rate) frames: the corrected
         * buffer time is that at line rate. */
        out->mean = sum / out->repeats_done;
        out->implied_buffer_s = out->mean / c->line_rate;
        out->corrected_buffer_s = c->throughput > 0 && c->throughput < c->line_rate
                                      ? out->implied_buffer_s * (1 - c->throughput / c->line_rate)
                                      : out->implied_buffer_s;
        return 0;
}

/* ---- frame loss rate ------------------------------------------------------- */

int mpg_flr(const struct mpg_flr_cfg *c, mpg_trial_fn fn, void *arg, struct mpg_flr_res *out)
{
        unsigned steps, zero_run = 0, trials = 0, inv = 0;

        memset(out, 0, sizeof(*out));
        if (c->step <= 0 || c->step > 1 || c->line_rate <= 0)
                return -EINVAL;
        steps = (unsigned)floor(1 / c->step + 1e-9);
        for (unsigned i = 0; i < steps && i < MPG_FLR_MAX_STEPS && zero_run < 2; i++) {
                struct mpg_trial t = {.kind = MPG_T_FRAME_LOSS, .phase = -1};
                double frac = 1 - c->step * i;
                unsigned k = out->n++;
                int r;

                out->pct[k] = frac * 100;
                out->loss[k] = -1;
                t.rate = c->line_rate * frac;
                if (t.rate > c->max_rate * (1 + 1e-9)) {
                        out->skipped[k] = true;
                        continue;
                }
                t.count = frames_for(t.rate, c->duration_ns);
                r = trial_retry(fn, arg, &t, c->retries, &trials, &inv);
                if (r < 0)
                        return r;
                if (r == 1) {
                        zero_run = 0;
                        continue;
                }
                out->valid[k] = true;
                out->loss[k] = t.loss_ratio > 0 ? t.loss_ratio : 0;
                zero_run = t.lost <= 0 ? zero_run + 1 : 0;
        }
        return 0;
}
