/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file bench_util.h
 * What every bench/bench_*.c program shares: the TSC and its calibrated
 * frequency, summaries of repeated runs, a small JSON writer, thread pinning
 * and an option parser.
 *
 * Conventions (docs/PERFORMANCE.md): a bench prints exactly one JSON object
 * on stdout and everything else on stderr; it runs --repeat N times (default
 * 5) and reports every repeat, the median, the minimum and the maximum; it
 * reads the TSC around whole bursts or loops, never around one packet.
 *
 * Threads: bench_tsc_hz() calibrates once under a lock and may be called from
 * any thread; a JSON writer and the option parser belong to one thread.
 */
#ifndef MPNET_BENCH_UTIL_H
#define MPNET_BENCH_UTIL_H

#include "mpnet/stack.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <x86intrin.h>

/* ---- time --------------------------------------------------------------- */

/** @return the time stamp counter. Serialising neither side: read it around
 * work lasting many thousands of cycles, where that does not matter. */
static inline uint64_t bench_tsc(void)
{
        return __rdtsc();
}

/**
 * @return TSC ticks per second, measured once against CLOCK_MONOTONIC over
 * about 150 ms (the first call pays for it; later calls return the same value).
 */
double bench_tsc_hz(void);

/** @return CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void);

/* ---- summaries ---------------------------------------------------------- */

struct bench_stat {
        double median, min, max;
};

/** Summarise n values (n >= 1; the median of an even count is the mean of
 * the middle two). v is left as it was. */
struct bench_stat bench_summarize(const double *v, size_t n);

double bench_median(const double *v, size_t n);
double bench_min(const double *v, size_t n);
double bench_max(const double *v, size_t n);

/* ---- JSON --------------------------------------------------------------- */

#define BENCH_JSON_DEPTH 16

/**
 * A streaming JSON writer. Members take a key inside an object and NULL inside
 * an array (or at the top). Non-finite numbers are written as null.
 */
struct bench_json {
        FILE *f;
        unsigned depth;
        bool first[BENCH_JSON_DEPTH]; /* no member written yet at this depth */
};

void bench_json_init(struct bench_json *j, FILE *f);
void bench_json_obj_begin(struct bench_json *j, const char *key);
void bench_json_obj_end(struct bench_json *j);
void bench_json_arr_begin(struct bench_json *j, const char *key);
void bench_json_arr_end(struct bench_json *j);
void bench_json_num(struct bench_json *j, const char *key, double v);
void bench_json_u64(struct bench_json *j, const char *key, uint64_t v);
void bench_json_str(struct bench_json *j, const char *key, const char *s);
void bench_json_bool(struct bench_json *j, const char *key, bool v);

/**
 * Write NAME_median, NAME_min and NAME_max of n values (the per-repeat values
 * themselves go in the caller's "repeats" array).
 */
void bench_json_stat(struct bench_json *j, const char *name, const double *v, size_t n);

/** Write "machine": {"cpu", "nproc", "kernel", "tsc_hz"}: where the figures
 * were taken. */
void bench_json_machine(struct bench_json *j);

/* ---- threads ------------------------------------------------------------ */

/**
 * Pin the calling thread to one CPU (taken modulo the CPUs online).
 * @return the CPU, or a negative errno (the thread runs unpinned).
 */
int bench_pin_self(int cpu);

/* ---- options ------------------------------------------------------------ */

enum bench_opt_kind {
        BENCH_OPT_FLAG, /* bool, no value */
        BENCH_OPT_U64,  /* uint64_t in [min, max] */
};

struct bench_opt {
        const char *name; /* without the leading "--" */
        enum bench_opt_kind kind;
        void *dst; /* bool * or uint64_t *; holds the default on entry */
        uint64_t min, max;
        const char *help;
};

/**
 * Parse --NAME VALUE, --NAME=VALUE and --FLAG; --help prints the usage (with
 * the defaults found in dst) on stdout and exits 0. An unknown option or a bad
 * value prints the usage on stderr and exits 2.
 * @param what one line saying what the bench measures.
 */
void bench_parse_args(int argc, char **argv, const char *what, const struct bench_opt *opts,
                      size_t n_opts);

/** Print to stderr and exit 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The page-size options of the LPM benches, by name for the JSON. */
static inline const char *bench_pages_name(bool small, bool huge)
{
        return small ? "small" : huge ? "huge" : "auto";
}

/* A stack counter by name, or the bench dies. */
static inline uint64_t bench_ctr(const struct mpnet_stack *s, const char *name)
{
        int id = mpnet_stack_counter_find(s, name);

        if (id < 0)
                bench_die("no stack counter %s\n", name);
        return mpnet_stack_counter(s, (unsigned)id);
}

/* ---- no-op features ----------------------------------------------------- */

/* The most no-op features --feature enables on one arc. */
#define BENCH_NOOP_MAX 8

/* A module (for mpnet_stack_cfg.modules, NULL-terminated) with
 * BENCH_NOOP_MAX features on the ip4-input arc and as many on ip6-input,
 * each of which keeps every packet: what an enabled feature costs the
 * packet path and nothing more. */
extern const struct mpnet_module *const bench_noop_modules[];

/* Enable n of them on the input arc of family (4 or 6) of ifindex, or the
 * bench dies. */
void bench_noop_enable(struct mpnet_stack *s, int ifindex, int family, unsigned n);

/* Node statistics arrays are this long (a stack's graph has fewer). */
#define BENCH_NODES 64

/* A node's id in s, or the bench dies. */
static inline unsigned node_id(const struct mpnet_stack *s, const char *name)
{
        int id = mpnet_node_find(s, name);

        if (id < 0)
                bench_die("no node %s\n", name);
        return (unsigned)id;
}

#endif
