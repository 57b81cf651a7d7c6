/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report: what a run leaves behind. A table on the terminal; JSON with every
 * figure as a number and every trial (valid or not) with its counters; a
 * gnuplot script and its data, and the SVG gnuplot makes of them: throughput
 * against frame size beside the theoretical maximum.
 *
 * Marks in the table: ">=" the DUT passed at the ceiling, so its throughput
 * is at least that (the tester is the limit); "*" the search's upper bound is
 * a trial the generator could not offer in full. Beside the throughput, the
 * tester's own unpaced rate through the calibration's wire, and what bounded
 * the result: the DUT, line rate, or the tester (a result within 10 % of the
 * tester's rate, or at a ceiling below line rate, says nothing about the DUT).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mpgen.h"
#include "mpnet/stack.h"

/* ---- JSON -------------------------------------------------------------------- */

void mpg_json_init(struct mpg_json *j, FILE *f)
{
        memset(j, 0, sizeof(*j));
        j->f = f;
        j->first[0] = true;
}

static void json_str_raw(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void json_key(struct mpg_json *j, const char *key)
{
        if (!j->first[j->depth])
                fputc(',', j->f);
        j->first[j->depth] = false;
        fputc('\n', j->f);
        for (unsigned i = 0; i < j->depth; i++)
                fputs("  ", j->f);
        if (key != NULL) {
                json_str_raw(j->f, key);
                fputs(": ", j->f);
        }
}

static void json_open(struct mpg_json *j, const char *key, char c)
{
        json_key(j, key);
        fputc(c, j->f);
        if (j->depth + 1 < sizeof(j->first))
                j->depth++;
        j->first[j->depth] = true;
}

static void json_close(struct mpg_json *j, char c)
{
        bool empty = j->first[j->depth];

        if (j->depth > 0)
                j->depth--;
        if (!empty) {
                fputc('\n', j->f);
                for (unsigned i = 0; i < j->depth; i++)
                        fputs("  ", j->f);
        }
        fputc(c, j->f);
}

void mpg_json_obj(struct mpg_json *j, const char *key)
{
        json_open(j, key, '{');
}

void mpg_json_obj_end(struct mpg_json *j)
{
        json_close(j, '}');
}

void mpg_json_arr(struct mpg_json *j, const char *key)
{
        json_open(j, key, '[');
}

void mpg_json_arr_end(struct mpg_json *j)
{
        json_close(j, ']');
}

void mpg_json_num(struct mpg_json *j, const char *key, double v)
{
        json_key(j, key);
        if (isfinite(v))
                fprintf(j->f, "%.17g", v);
        else
                fputs("null", j->f);
}

void mpg_json_u64(struct mpg_json *j, const char *key, uint64_t v)
{
        json_key(j, key);
        fprintf(j->f, "%llu", (unsigned long long)v);
}

void mpg_json_i64(struct mpg_json *j, const char *key, int64_t v)
{
        json_key(j, key);
        fprintf(j->f, "%lld", (long long)v);
}

void mpg_json_str(struct mpg_json *j, const char *key, const char *v)
{
        json_key(j, key);
        json_str_raw(j->f, v);
}

void mpg_json_bool(struct mpg_json *j, const char *key, bool v)
{
        json_key(j, key);
        fputs(v ? "true" : "false", j->f);
}

void mpg_json_null(struct mpg_json *j, const char *key)
{
        json_key(j, key);
        fputs("null", j->f);
}

static void json_lat(struct mpg_json *j, const char *key, const struct mpg_lat *l)
{
        mpg_json_obj(j, key);
        mpg_json_u64(j, "count", l->count);
        mpg_json_num(j, "min_ns", l->min);
        mpg_json_num(j, "mean_ns", l->mean);
        mpg_json_num(j, "p50_ns", l->p50);
        mpg_json_num(j, "p90_ns", l->p90);
        mpg_json_num(j, "p99_ns", l->p99);
        mpg_json_num(j, "p99_9_ns", l->p999);
        mpg_json_num(j, "max_ns", l->max);
        mpg_json_num(j, "pdv_ns", l->pdv);
        mpg_json_obj_end(j);
}

void mpg_json_trial(struct mpg_json *j, const char *key, const struct mpg_trial *t)
{
        mpg_json_obj(j, key);
        mpg_json_u64(j, "no", t->no);
        mpg_json_str(j, "kind", mpg_kind_name(t->kind));
        mpg_json_u64(j, "frame", t->frame);
        if (t->phase >= 0)
                mpg_json_i64(j, "phase", t->phase);
        mpg_json_num(j, "intended_fps", t->rate);
        mpg_json_num(j, "offered_fps", t->offered_rate);
        mpg_json_num(j, "forwarded_fps", t->rx_rate);
        mpg_json_u64(j, "frames", t->count);
        mpg_json_u64(j, "duration_ns", t->duration_ns);
        mpg_json_u64(j, "elapsed_ns", t->elapsed_ns);
        mpg_json_u64(j, "offered", t->offered);
        mpg_json_u64(j, "tx", t->tx);
        mpg_json_u64(j, "refused", t->refused);
        mpg_json_u64(j, "rx", t->rx);
        mpg_json_u64(j, "unique", t->unique);
        mpg_json_i64(j, "lost", t->lost);
        mpg_json_num(j, "loss_ratio", t->loss_ratio);
        mpg_json_u64(j, "duplicates", t->dup);
        mpg_json_u64(j, "reordered", t->reorder);
        mpg_json_u64(j, "late", t->late);
        mpg_json_u64(j, "other_frames", t->other);
        mpg_json_u64(j, "flows_with_loss", t->flows_with_loss);
        mpg_json_num(j, "flow_loss_min", t->flow_loss_min);
        mpg_json_num(j, "flow_loss_max", t->flow_loss_max);
        mpg_json_u64(j, "pacing_lag_max_ns", t->lag_max_ns);
        if (t->dut_probed) {
                mpg_json_u64(j, "dut_gap_max_ns", t->dut_gap_max_ns);
                mpg_json_u64(j, "dut_gap_at_ns", t->dut_gap_at_ns);
                mpg_json_u64(j, "dut_poll_max_ns", t->dut_poll_max_ns);
                mpg_json_u64(j, "dut_ivcsw", t->dut_ivcsw);
                mpg_json_u64(j, "dut_vcsw", t->dut_vcsw);
                mpg_json_u64(j, "dut_minflt", t->dut_minflt);
                mpg_json_u64(j, "steal_ms", t->steal_ms);
        }
        mpg_json_bool(j, "valid", t->valid);
        if (!t->valid)
                mpg_json_str(j, "invalid_reason", t->invalid_reason ? t->invalid_reason : "?");
        json_lat(j, "latency", &t->lat);
        if (t->step_rate > 0) {
                mpg_json_u64(j, "step_at_frame", t->step_at);
                mpg_json_num(j, "step_fps", t->step_rate);
                mpg_json_bool(j, "recovered", t->recovered);
                mpg_json_u64(j, "recovery_ns", t->recovery_ns);
        }
        if (t->action_ns > 0) {
                mpg_json_u64(j, "reset_at_ns", t->action_ns);
                mpg_json_i64(j, "reset_error", t->action_err);
        }
        mpg_json_u64(j, "outage_ns", t->outage_ns);
        mpg_json_u64(j, "outage_lost", t->outage_lost);
        mpg_json_obj_end(j);
}

static void json_bound(struct mpg_json *j, const char *key, const struct mpg_bound *b)
{
        if (b->valid)
                mpg_json_num(j, key, b->rate);
        else
                mpg_json_null(j, key);
}

static void json_size(struct mpg_json *j, const struct mpg_suite *s, const struct mpg_size_res *r)
{
        double line_bits = (double)(r->frame + MPG_L1_OVERHEAD) * 8;

        mpg_json_obj(j, NULL);
        mpg_json_u64(j, "frame", r->frame);
        mpg_json_num(j, "line_rate_fps", r->line_rate);
        if (r->calibrated) {
                mpg_json_obj(j, "calibration");
                mpg_json_num(j, "offered_fps", r->calib.offered_rate);
                mpg_json_num(j, "received_fps", r->calib.rx_rate);
                mpg_json_num(j, "ceiling_fps", r->ceiling);
                mpg_json_bool(j, "line_rate_reached", r->ceiling >= r->line_rate);
                if (r->tester_done)
                        mpg_json_num(j, "tester_fps", r->tester_fps);
                mpg_json_obj_end(j);
        }
        if (r->tput_done) {
                const struct mpg_search_res *t = &r->tput;

                mpg_json_obj(j, "throughput");
                mpg_json_num(j, "fps", t->rate[0]);
                mpg_json_num(j, "percent_of_line", 100 * t->rate[0] / r->line_rate);
                mpg_json_num(j, "l1_bps", t->rate[0] * line_bits);
                mpg_json_num(j, "l2_bps", t->rate[0] * r->frame * 8);
                json_bound(j, "lower_bound_fps", &t->lo[0]);
                json_bound(j, "upper_bound_fps", &t->hi[0]);
                mpg_json_num(j, "resolution", s->cfg.resolution);
                mpg_json_bool(j, "at_ceiling", t->at_max[0]);
                mpg_json_bool(j, "generator_limited", t->gen_limited);
                mpg_json_str(j, "bound_by", mpg_size_limit(r));
                mpg_json_bool(j, "gave_up", t->gave_up);
                mpg_json_u64(j, "trials", t->trials);
                mpg_json_u64(j, "invalid_trials", t->invalid);
                if (s->cfg.mlr) {
                        mpg_json_num(j, "ndr_fps", t->rate[0]);
                        mpg_json_num(j, "pdr_fps", t->rate[1]);
                        mpg_json_num(j, "pdr_loss_ratio", s->cfg.pdr_loss);
                        json_bound(j, "pdr_lower_bound_fps", &t->lo[1]);
                        json_bound(j, "pdr_upper_bound_fps", &t->hi[1]);
                }
                mpg_json_obj_end(j);
        }
        if (r->lat_done) {
                mpg_json_obj(j, "latency");
                mpg_json_num(j, "rate_fps", r->lat_rate);
                mpg_json_u64(j, "repeats", r->lat_repeats);
                mpg_json_u64(j, "valid_repeats", r->lat_valid);
                mpg_json_num(j, "rfc2544_mean_ns", r->lat_mean_avg);
                json_lat(j, "all_frames", &r->lat);
                mpg_json_obj_end(j);
        }
        if (r->flr_done) {
                mpg_json_arr(j, "frame_loss");
                for (unsigned i = 0; i < r->flr.n; i++) {
                        mpg_json_obj(j, NULL);
                        mpg_json_num(j, "percent_of_line", r->flr.pct[i]);
                        mpg_json_num(j, "rate_fps", r->line_rate * r->flr.pct[i] / 100);
                        if (r->flr.skipped[i])
                                mpg_json_str(j, "skipped", "above the generator's ceiling");
                        else if (!r->flr.valid[i])
                                mpg_json_str(j, "skipped", "invalid trial");
                        else
                                mpg_json_num(j, "loss_percent", r->flr.loss[i] * 100);
                        mpg_json_obj_end(j);
                }
                mpg_json_arr_end(j);
        }
        if (r->b2b_done) {
                mpg_json_obj(j, "back_to_back");
                mpg_json_num(j, "mean_frames", r->b2b.mean);
                mpg_json_num(j, "min_frames", r->b2b.min);
                mpg_json_num(j, "max_frames", r->b2b.max);
                mpg_json_u64(j, "repeats", r->b2b.repeats_done);
                mpg_json_bool(j, "at_max_burst", r->b2b.at_max);
                mpg_json_bool(j, "some_repeat_invalid", r->b2b.invalid);
                mpg_json_num(j, "implied_buffer_s", r->b2b.implied_buffer_s);
                mpg_json_num(j, "corrected_buffer_s", r->b2b.corrected_buffer_s);
                mpg_json_u64(j, "trials", r->b2b.trials);
                mpg_json_obj_end(j);
        } else if (s->cfg.t_b2b && r->calibrated && r->ceiling < r->line_rate) {
                mpg_json_obj(j, "back_to_back");
                mpg_json_str(j, "skipped", "the generator cannot send at line rate");
                mpg_json_obj_end(j);
        }
        if (r->rec_done) {
                mpg_json_obj(j, "system_recovery");
                mpg_json_num(j, "overload_fps", r->rec_rate);
                mpg_json_num(j, "after_fps", r->rec_rate / 2);
                mpg_json_u64(j, "repeats", r->rec_repeats);
                mpg_json_u64(j, "recovered", r->rec_recovered);
                mpg_json_num(j, "mean_ns", r->rec_mean_ns);
                mpg_json_u64(j, "max_ns", r->rec_max_ns);
                mpg_json_obj_end(j);
        }
        if (r->reset_done || r->reset_err != 0) {
                mpg_json_obj(j, "reset");
                mpg_json_num(j, "rate_fps", r->reset_rate);
                if (r->reset_err != 0)
                        mpg_json_str(j, "error", strerror(-r->reset_err));
                mpg_json_u64(j, "reset_ns", r->reset_gap_ns);
                mpg_json_u64(j, "frames_lost", r->reset_lost);
                mpg_json_obj_end(j);
        }
        if (r->err != 0)
                mpg_json_str(j, "error", strerror(-r->err));
        mpg_json_obj_end(j);
}

/* What the DUT is, for the table's title. */
static const char *dut_what(const struct mpg_suite_cfg *c)
{
        static char buf[64];

        switch (c->dut) {
        case MPG_DUT_BUILTIN:
                snprintf(buf, sizeof(buf), " (mpnet router, %u worker%s)", c->workers,
                         c->workers == 1 ? "" : "s");
                return buf;
        case MPG_DUT_KERNEL:
                return " (Linux kernel router over veth)";
        case MPG_DUT_AFPACKET:
                return " (mpnet router over AF_PACKET on veth)";
        case MPG_DUT_AFXDP:
                return " (mpnet router over AF_XDP on veth)";
        default:
                return "";
        }
}

static void cpu_model(char *model, size_t n)
{
        char line[256];
        FILE *f = fopen("/proc/cpuinfo", "r");

        snprintf(model, n, "unknown CPU");
        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
                char *c = strchr(line, ':');

                if (strncmp(line, "model name", 10) == 0 && c != NULL) {
                        snprintf(model, n, "%s", c + 2);
                        model[strcspn(model, "\n")] = '\0';
                        break;
                }
        }
        if (f != NULL)
                fclose(f);
}

static void json_machine(struct mpg_json *j, const struct mpg_suite *s)
{
        struct utsname u;
        char model[256];

        cpu_model(model, sizeof(model));
        mpg_json_obj(j, "machine");
        mpg_json_str(j, "cpu", model);
        mpg_json_i64(j, "cpus_online", sysconf(_SC_NPROCESSORS_ONLN));
        if (uname(&u) == 0) {
                mpg_json_str(j, "kernel", u.release);
                mpg_json_str(j, "host", u.nodename);
        }
        mpg_json_num(j, "loadavg_start", s->load_start);
        mpg_json_num(j, "loadavg_end", s->load_end);
        mpg_json_obj_end(j);
}

static void json_config(struct mpg_json *j, const struct mpg_suite_cfg *c)
{
        mpg_json_obj(j, "config");
        mpg_json_str(j, "profile", c->profile);
        mpg_json_str(j, "dut", mpg_dut_name(c->dut));
        mpg_json_u64(j, "workers", c->workers);
        mpg_json_u64(j, "link_speed_bps", c->speed_bps);
        mpg_json_u64(j, "ring_size", c->ring_size);
        mpg_json_u64(j, "flows", mpg_flows_count(&c->flows));
        mpg_json_u64(j, "ip_version", c->flows.ip6 ? 6 : 4);
        mpg_json_str(j, "search", c->mlr ? "mlr" : "binary");
        mpg_json_num(j, "resolution", c->resolution);
        mpg_json_u64(j, "phases", c->phases);
        mpg_json_num(j, "trial_s", (double)c->tput_ns / 1e9);
        mpg_json_num(j, "search_trial_s", (double)c->search_ns / 1e9);
        mpg_json_num(j, "latency_trial_s", (double)c->lat_ns / 1e9);
        mpg_json_u64(j, "latency_repeats", c->lat_repeats);
        mpg_json_num(j, "frame_loss_trial_s", (double)c->flr_ns / 1e9);
        mpg_json_num(j, "frame_loss_step", c->flr_step);
        mpg_json_u64(j, "b2b_max_burst", c->b2b_max);
        mpg_json_u64(j, "b2b_repeats", c->b2b_repeats);
        mpg_json_num(j, "calibration_s", (double)c->calib_ns / 1e9);
        mpg_json_num(j, "settle_s", (double)c->settle_ns / 1e9);
        mpg_json_num(j, "rest_s", (double)c->rest_ns / 1e9);
        mpg_json_num(j, "valid_min_offered_ratio", c->valid_min);
        mpg_json_num(j, "ceiling_margin", c->ceiling_margin);
        mpg_json_u64(j, "retries", c->retries);
        mpg_json_obj(j, "layout");
        mpg_json_bool(j, "pinned", c->layout.pin);
        if (c->layout.pin) {
                mpg_json_i64(j, "tester_cpu", c->layout.tester);
                mpg_json_arr(j, "dut_cpus");
                for (unsigned i = 0; i < c->layout.n_dut; i++)
                        mpg_json_i64(j, NULL, c->layout.dut[i]);
                mpg_json_arr_end(j);
        }
        mpg_json_obj_end(j);
        mpg_json_obj_end(j);
}

int mpg_report_json(const struct mpg_suite *s, const char *path)
{
        FILE *f = fopen(path, "w");
        struct mpg_json j;

        if (f == NULL)
                return -errno;
        mpg_json_init(&j, f);
        mpg_json_obj(&j, NULL);
        mpg_json_str(&j, "tool", "mpgen rfc2544");
        if (s->cfg.cmdline != NULL)
                mpg_json_str(&j, "command", s->cfg.cmdline);
        mpg_json_i64(&j, "started_unix", s->wall_start);
        mpg_json_num(&j, "elapsed_s", (double)(s->t_end - s->t_start) / 1e9);
        json_machine(&j, s);
        json_config(&j, &s->cfg);
        mpg_json_arr(&j, "results");
        for (unsigned i = 0; i < s->n_res; i++)
                json_size(&j, s, &s->res[i]);
        mpg_json_arr_end(&j);
        if (s->n_dut_counters > 0) {
                mpg_json_obj(&j, "dut_counters");
                for (unsigned c = 0; c < s->n_dut_counters; c++)
                        if (s->dut_counters[c].v != 0)
                                mpg_json_u64(&j, s->dut_counters[c].name, s->dut_counters[c].v);
                mpg_json_obj_end(&j);
        }
        mpg_json_arr(&j, "trials");
        for (size_t i = 0; i < s->n_log; i++)
                mpg_json_trial(&j, NULL, &s->log[i]);
        mpg_json_arr_end(&j);
        mpg_json_obj_end(&j);
        fputc('\n', f);
        return fclose(f) == 0 ? 0 : -errno;
}

/* ---- the table ------------------------------------------------------------- */

static void fmt_us(char *b, size_t n, double ns)
{
        snprintf(b, n, "%.1f", ns / 1e3);
}

const char *mpg_size_limit(const struct mpg_size_res *r)
{
        double fps = r->tput.rate[0];

        if (!r->tput_done || (!r->tput.lo[0].valid && r->tput.gave_up))
                return "-";
        if (r->tester_done && fps >= MPG_TESTER_BOUND * r->tester_fps)
                return "tester";
        if (r->tput.at_max[0])
                return r->ceiling >= r->line_rate ? "line" : "tester";
        if (r->tput.gen_limited)
                return "tester";
        return "DUT";
}

static void table_throughput(FILE *f, const struct mpg_suite *s)
{
        fprintf(f, "%6s %14s %14s %8s %9s %12s %7s | %8s %8s %8s %8s %8s %8s\n", "frame", "max fps",
                "throughput", "% max", "Mbit/s", "tester fps", "bound", "lat min", "p50", "p90",
                "p99", "p99.9", "max us");
        for (unsigned i = 0; i < s->n_res; i++) {
                const struct mpg_size_res *r = &s->res[i];
                char mark[3] = "  ", l[6][16], tester[16] = "-";
                double fps = r->tput.rate[0];

                if (!r->tput_done) {
                        fprintf(f, "%6u %14.0f %14s\n", r->frame, r->line_rate, "not run");
                        continue;
                }
                if (!r->tput.lo[0].valid && r->tput.gave_up) {
                        fprintf(f,
                                "%6u %14.0f   no valid trial: the tester could not offer the "
                                "load (see the JSON)\n",
                                r->frame, r->line_rate);
                        continue;
                }
                if (r->tput.at_max[0])
                        memcpy(mark, ">=", 2);
                else if (r->tput.gen_limited)
                        mark[1] = '*';
                if (r->tester_done)
                        snprintf(tester, sizeof(tester), "%.0f", r->tester_fps);
                fmt_us(l[0], 16, r->lat.min);
                fmt_us(l[1], 16, r->lat.p50);
                fmt_us(l[2], 16, r->lat.p90);
                fmt_us(l[3], 16, r->lat.p99);
                fmt_us(l[4], 16, r->lat.p999);
                fmt_us(l[5], 16, r->lat.max);
                fprintf(f, "%6u %14.0f %s%12.0f %7.2f%% %9.1f %12s %7s", r->frame, r->line_rate,
                        mark, fps, 100 * fps / r->line_rate, fps * r->frame * 8 / 1e6, tester,
                        mpg_size_limit(r));
                if (r->lat_done && r->lat.count > 0)
                        fprintf(f, " | %8s %8s %8s %8s %8s %8s\n", l[0], l[1], l[2], l[3], l[4],
                                l[5]);
                else
                        fprintf(f, " | %8s\n", "-");
        }
}

/* Recovery (26.5) and reset (26.6). */
static void table_recovery(FILE *f, const struct mpg_suite *s)
{
        bool any = false;

        for (unsigned i = 0; i < s->n_res; i++)
                any |= s->res[i].rec_done || s->res[i].reset_done || s->res[i].reset_err != 0;
        if (!any)
                return;
        fprintf(f, "\n%6s %14s %12s %12s %10s | %12s %10s\n", "frame", "overload fps",
                "recovery us", "max us", "recovered", "reset us", "lost");
        for (unsigned i = 0; i < s->n_res; i++) {
                const struct mpg_size_res *r = &s->res[i];

                fprintf(f, "%6u", r->frame);
                if (r->rec_done)
                        fprintf(f, " %14.0f %12.1f %12.1f %6u/%-3u", r->rec_rate,
                                r->rec_mean_ns / 1e3, (double)r->rec_max_ns / 1e3, r->rec_recovered,
                                r->rec_repeats);
                else
                        fprintf(f, " %14s %12s %12s %10s", "not run", "", "", "");
                if (r->reset_done)
                        fprintf(f, " | %12.1f %10llu\n", (double)r->reset_gap_ns / 1e3,
                                (unsigned long long)r->reset_lost);
                else if (r->reset_err != 0)
                        fprintf(f, " | reset failed: %s\n", strerror(-r->reset_err));
                else
                        fprintf(f, " | %12s\n", "-");
        }
}

static void table_more(FILE *f, const struct mpg_suite *s)
{
        bool any_b2b = false, any_flr = false, mlr = s->cfg.mlr;

        for (unsigned i = 0; i < s->n_res; i++) {
                any_b2b |= s->cfg.t_b2b && s->res[i].calibrated;
                any_flr |= s->res[i].flr_done;
        }
        if (mlr) {
                fprintf(f, "\n%6s %14s %14s  (PDR: loss <= %.3g %%)\n", "frame", "NDR fps",
                        "PDR fps", s->cfg.pdr_loss * 100);
                for (unsigned i = 0; i < s->n_res; i++)
                        if (s->res[i].tput_done)
                                fprintf(f, "%6u %14.0f %14.0f\n", s->res[i].frame,
                                        s->res[i].tput.rate[0], s->res[i].tput.rate[1]);
        }
        if (any_b2b) {
                fprintf(f, "\n%6s %12s %10s %10s %14s %14s\n", "frame", "b2b frames", "min", "max",
                        "implied us", "corrected us");
                for (unsigned i = 0; i < s->n_res; i++) {
                        const struct mpg_size_res *r = &s->res[i];

                        if (r->b2b_done && r->b2b.repeats_done == 0) {
                                fprintf(f, "%6u %12s\n", r->frame,
                                        "no valid repeat: every search had an invalid trial");
                                continue;
                        }
                        if (!r->b2b_done) {
                                fprintf(f, "%6u %12s\n", r->frame,
                                        r->calibrated && r->ceiling < r->line_rate
                                            ? "not run: the generator cannot reach line rate"
                                            : "not run");
                                continue;
                        }
                        fprintf(f, "%6u %s%10.0f %10.0f %10.0f %14.1f %14.1f%s\n", r->frame,
                                r->b2b.at_max ? ">=" : "  ", r->b2b.mean, r->b2b.min, r->b2b.max,
                                r->b2b.implied_buffer_s * 1e6, r->b2b.corrected_buffer_s * 1e6,
                                r->b2b.invalid ? "  (some repeats invalid)" : "");
                }
        }
        if (any_flr) {
                fprintf(
                    f, "\nframe loss (%% of offered) at %% of line rate; '-' beyond the ceiling\n");
                fprintf(f, "%6s", "frame");
                for (unsigned k = 0; k < 10; k++)
                        fprintf(f, " %6.0f%%", 100 - k * s->cfg.flr_step * 100);
                fputc('\n', f);
                for (unsigned i = 0; i < s->n_res; i++) {
                        const struct mpg_flr_res *l = &s->res[i].flr;

                        if (!s->res[i].flr_done)
                                continue;
                        fprintf(f, "%6u", s->res[i].frame);
                        for (unsigned k = 0; k < l->n && k < 10; k++) {
                                if (l->valid[k])
                                        fprintf(f, " %7.3f", l->loss[k] * 100);
                                else
                                        fprintf(f, " %7s", l->skipped[k] ? "-" : "inval");
                        }
                        fputc('\n', f);
                }
        }
}

static const char *calib_what(enum mpg_dut_kind k)
{
        return k == MPG_DUT_KERNEL || k == MPG_DUT_AFPACKET || k == MPG_DUT_AFXDP ? "veth pair"
                                                                                  : "wire";
}

void mpg_report_table(FILE *f, const struct mpg_suite *s)
{
        const struct mpg_suite_cfg *c = &s->cfg;
        char model[256];

        fprintf(f,
                "\nmpgen rfc2544: DUT %s%s, %.4g Gbit/s links, %u flow%s, IPv%c, %s profile, "
                "%s search to %.3g %%\n",
                mpg_dut_name(c->dut), dut_what(c), (double)c->speed_bps / 1e9,
                mpg_flows_count(&c->flows), mpg_flows_count(&c->flows) == 1 ? "" : "s",
                c->flows.ip6 ? '6' : '4', c->profile, c->mlr ? "MLR" : "binary",
                c->resolution * 100);
        table_throughput(f, s);
        table_more(f, s);
        table_recovery(f, s);
        fprintf(f,
                "\n>= passed at the ceiling (calibrated through a plain %s); * upper bound is a "
                "trial the generator could not offer\n"
                "tester fps: the tester's own unpaced rate through that %s; bound: what limited "
                "the throughput (DUT, line rate, or the tester: within %.0f %% of its rate)\n",
                calib_what(c->dut), calib_what(c->dut), 100 * (1 - MPG_TESTER_BOUND));
        fprintf(f, "%s\n", s->layout_line);
        cpu_model(model, sizeof(model));
        fprintf(f,
                "%zu trials in %.1f s on %s, %ld CPUs, load average %.2f at start, %.2f at end\n",
                s->n_log, (double)(s->t_end - s->t_start) / 1e9, model,
                sysconf(_SC_NPROCESSORS_ONLN), s->load_start, s->load_end);
        if (s->load_start > sysconf(_SC_NPROCESSORS_ONLN) - 1)
                fprintf(f, "note: other processes were using these CPUs; the figures measure the "
                           "scheduler as much as the DUT\n");
}

void mpg_report_compare(FILE *f, struct mpg_suite *const *s, unsigned n)
{
        fprintf(f, "\nDUTs side by side (throughput fps, zero loss; tester fps: the tester "
                   "looped to itself on the same links; bound: what limited it)\n");
        fprintf(f, "%6s %-9s %14s %14s %8s %10s\n", "frame", "DUT", "throughput", "tester fps",
                "bound", "p50 us");
        for (unsigned i = 0; n > 0 && i < s[0]->n_res; i++) {
                for (unsigned k = 0; k < n && i < s[k]->n_res; k++) {
                        const struct mpg_size_res *r = &s[k]->res[i];
                        char lat[16] = "-";

                        if (r->lat_done && r->lat.count > 0)
                                snprintf(lat, sizeof(lat), "%.1f", r->lat.p50 / 1e3);
                        fprintf(f, "%6u %-9s %s%12.0f %14.0f %8s %10s\n", r->frame,
                                mpg_dut_name(s[k]->cfg.dut), r->tput.at_max[0] ? ">=" : "  ",
                                r->tput_done ? r->tput.rate[0] : 0,
                                r->tester_done ? r->tester_fps : 0, mpg_size_limit(r), lat);
                }
        }
}

/* ---- the plot -------------------------------------------------------------- */

static const char plot_script[] =
    "# mpgen: throughput against frame size (RFC 2544 section 26.1)\n"
    "set terminal svg size 900,560 dynamic enhanced font 'sans,12' background '#ffffff'\n"
    "set output '%s/throughput.svg'\n"
    "set title \"%s\"\n"
    "set xlabel 'frame size (bytes, FCS included)'\n"
    "set ylabel 'frames per second'\n"
    "set logscale y\n"
    "set format y '%%.0s%%c'\n"
    "set grid\n"
    "set key top right\n"
    "set xrange [0:1600]\n"
    "set xtics (64, 128, 256, 512, 1024, 1280, 1518) rotate by -45\n"
    "plot '%s/throughput.dat' using 1:2 with linespoints lw 2 dt 2 pt 6 "
    "title 'theoretical maximum (line rate)', \\\n"
    "     '' using 1:5 with lines lw 1 dt 3 lc rgb '#808080' title 'tester ceiling (calibration)', "
    "\\\n"
    "     '' using 1:3 with linespoints lw 2 pt 7 title 'measured throughput (no loss)'%s\n";

int mpg_report_plot(const struct mpg_suite *s, const char *dir)
{
        char path[4096], title[256], cmd[4200];
        const struct mpg_suite_cfg *c = &s->cfg;
        unsigned points = 0;
        FILE *f;

        for (unsigned i = 0; i < s->n_res; i++)
                points += s->res[i].tput_done;
        if (points == 0)
                return -ENODATA;
        snprintf(path, sizeof(path), "%s/throughput.dat", dir);
        f = fopen(path, "w");
        if (f == NULL)
                return -errno;
        /* NaN is gnuplot's missing point: a size with no valid result. */
        fprintf(f, "# frame line_rate_fps throughput_fps pdr_fps ceiling_fps\n");
        for (unsigned i = 0; i < s->n_res; i++) {
                const struct mpg_size_res *r = &s->res[i];

                if (!r->tput_done)
                        continue;
                fprintf(f, "%u %.1f %.1f %.1f %.1f\n", r->frame, r->line_rate,
                        r->tput.lo[0].valid ? r->tput.rate[0] : NAN,
                        r->tput.lo[1].valid ? r->tput.rate[1] : NAN, r->ceiling);
        }
        if (fclose(f) != 0)
                return -errno;
        snprintf(title, sizeof(title), "mpgen RFC 2544 throughput: DUT %s, %.4g Gbit/s, %u flow(s)",
                 mpg_dut_name(c->dut), (double)c->speed_bps / 1e9, mpg_flows_count(&c->flows));
        snprintf(path, sizeof(path), "%s/throughput.gp", dir);
        f = fopen(path, "w");
        if (f == NULL)
                return -errno;
        fprintf(f, plot_script, dir, title, dir,
                c->mlr ? ", \\\n     '' using 1:4 with linespoints lw 2 pt 5 title 'PDR'" : "");
        if (fclose(f) != 0)
                return -errno;
        if (system("command -v gnuplot >/dev/null 2>&1") != 0)
                return 0;
        snprintf(cmd, sizeof(cmd), "gnuplot '%s'", path);
        return system(cmd) == 0 ? 1 : -EIO;
}
