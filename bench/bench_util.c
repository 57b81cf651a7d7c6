/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared bench helpers: TSC calibration, summaries, JSON, pinning, options.
 *
 * Synchronisation: the TSC frequency is computed once under pthread_once;
 * everything else belongs to the calling thread.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "stack/graph.h"

/* ---- time --------------------------------------------------------------- */

uint64_t bench_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * One (ns, tsc) pair: the TSC is read on both sides of the clock read and the
 * narrowest of a few tries is kept, so a preemption between the two reads does
 * not skew the pair.
 */
static void tsc_pair(uint64_t *ns, uint64_t *tsc)
{
        uint64_t best = UINT64_MAX;

        for (int i = 0; i < 16; i++) {
                uint64_t t0 = bench_tsc(), n = bench_now_ns(), t1 = bench_tsc();

                if (t1 - t0 < best) {
                        best = t1 - t0;
                        *ns = n;
                        *tsc = t0 + (t1 - t0) / 2;
                }
        }
}

static double tsc_hz;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static void tsc_calibrate(void)
{
        struct timespec nap = {.tv_sec = 0, .tv_nsec = 150 * 1000 * 1000};
        uint64_t ns0, ns1, c0, c1;

        /* constant_tsc and nonstop_tsc: the rate does not follow the core
         * clock, so sleeping through the interval is fine. */
        tsc_pair(&ns0, &c0);
        while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
                ;
        tsc_pair(&ns1, &c1);
        tsc_hz = (double)(c1 - c0) * 1e9 / (double)(ns1 - ns0);
}

double bench_tsc_hz(void)
{
        pthread_once(&tsc_once, tsc_calibrate);
        return tsc_hz;
}

/* ---- summaries ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

double bench_median(const double *v, size_t n)
{
        double *s, m;

        if (n == 0)
                return NAN;
        s = malloc(n * sizeof(*s));
        if (s == NULL)
                bench_die("bench: out of memory\n");
        memcpy(s, v, n * sizeof(*s));
        qsort(s, n, sizeof(*s), cmp_double);
        m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        free(s);
        return m;
}

double bench_min(const double *v, size_t n)
{
        double m = n ? v[0] : NAN;

        for (size_t i = 1; i < n; i++)
                if (v[i] < m)
                        m = v[i];
        return m;
}

double bench_max(const double *v, size_t n)
{
        double m = n ? v[0] : NAN;

        for (size_t i = 1; i < n; i++)
                if (v[i] > m)
                        m = v[i];
        return m;
}

struct bench_stat bench_summarize(const double *v, size_t n)
{
        return (struct bench_stat){
            .median = bench_median(v, n), .min = bench_min(v, n), .max = bench_max(v, n)};
}

/* ---- JSON --------------------------------------------------------------- */

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

/* The separator and key before a member. */
static void json_member(struct bench_json *j, const char *key)
{
        if (!j->first[j->depth])
                fputc(',', j->f);
        j->first[j->depth] = false;
        if (key != NULL) {
                json_str_raw(j->f, key);
                fputc(':', j->f);
        }
}

void bench_json_init(struct bench_json *j, FILE *f)
{
        j->f = f;
        j->depth = 0;
        j->first[0] = true;
}

static void json_open(struct bench_json *j, const char *key, char c)
{
        json_member(j, key);
        fputc(c, j->f);
        if (j->depth + 1 >= BENCH_JSON_DEPTH)
                bench_die("bench: JSON nested too deep\n");
        j->first[++j->depth] = true;
}

static void json_close(struct bench_json *j, char c)
{
        fputc(c, j->f);
        j->depth--;
        if (j->depth == 0) {
                fputc('\n', j->f);
                fflush(j->f);
        }
}

void bench_json_obj_begin(struct bench_json *j, const char *key)
{
        json_open(j, key, '{');
}

void bench_json_obj_end(struct bench_json *j)
{
        json_close(j, '}');
}

void bench_json_arr_begin(struct bench_json *j, const char *key)
{
        json_open(j, key, '[');
}

void bench_json_arr_end(struct bench_json *j)
{
        json_close(j, ']');
}

void bench_json_num(struct bench_json *j, const char *key, double v)
{
        json_member(j, key);
        if (isfinite(v))
                fprintf(j->f, "%.10g", v);
        else
                fputs("null", j->f);
}

void bench_json_u64(struct bench_json *j, const char *key, uint64_t v)
{
        json_member(j, key);
        fprintf(j->f, "%llu", (unsigned long long)v);
}

void bench_json_str(struct bench_json *j, const char *key, const char *s)
{
        json_member(j, key);
        json_str_raw(j->f, s);
}

void bench_json_bool(struct bench_json *j, const char *key, bool v)
{
        json_member(j, key);
        fputs(v ? "true" : "false", j->f);
}

void bench_json_stat(struct bench_json *j, const char *name, const double *v, size_t n)
{
        struct bench_stat st = bench_summarize(v, n);
        char key[128];

        snprintf(key, sizeof(key), "%s_median", name);
        bench_json_num(j, key, st.median);
        snprintf(key, sizeof(key), "%s_min", name);
        bench_json_num(j, key, st.min);
        snprintf(key, sizeof(key), "%s_max", name);
        bench_json_num(j, key, st.max);
}

/* The "model name" line of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t len)
{
        char line[256];
        FILE *f = fopen("/proc/cpuinfo", "r");

        snprintf(buf, len, "unknown");
        if (f == NULL)
                return;
        while (fgets(line, sizeof(line), f) != NULL) {
                char *colon = strchr(line, ':');

                if (strncmp(line, "model name", 10) != 0 || colon == NULL)
                        continue;
                colon += strspn(colon + 1, " \t") + 1;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(buf, len, "%s", colon);
                break;
        }
        fclose(f);
}

void bench_json_machine(struct bench_json *j)
{
        struct utsname u;
        char model[128];

        cpu_model(model, sizeof(model));
        bench_json_obj_begin(j, "machine");
        bench_json_str(j, "cpu", model);
        bench_json_u64(j, "nproc", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
        bench_json_str(j, "kernel", uname(&u) == 0 ? u.release : "unknown");
        bench_json_num(j, "tsc_hz", bench_tsc_hz());
        bench_json_obj_end(j);
}

/* ---- threads ------------------------------------------------------------ */

int bench_pin_self(int cpu)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cpu_set_t set;
        int rc;

        if (n < 1)
                n = 1;
        cpu = (int)(cpu % n);
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
        if (rc != 0) {
                fprintf(stderr, "bench: cannot pin to cpu %d: %s\n", cpu, strerror(rc));
                return -rc;
        }
        return cpu;
}

/* ---- options ------------------------------------------------------------ */

void bench_die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        exit(1);
}

/* ---- no-op features ----------------------------------------------------- */

static unsigned noop_keep(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt **p,
                          uint32_t *aux, unsigned n, void *state)
{
        (void)w;
        (void)ifp;
        (void)p;
        (void)aux;
        (void)state;
        return n;
}

static const struct feature_reg noop_features[2 * BENCH_NOOP_MAX] = {
    {.name = "bench-noop4-0", .arc = ARC_IP4_IN, .order = 0, .fn = noop_keep},
    {.name = "bench-noop4-1", .arc = ARC_IP4_IN, .order = 1, .fn = noop_keep},
    {.name = "bench-noop4-2", .arc = ARC_IP4_IN, .order = 2, .fn = noop_keep},
    {.name = "bench-noop4-3", .arc = ARC_IP4_IN, .order = 3, .fn = noop_keep},
    {.name = "bench-noop4-4", .arc = ARC_IP4_IN, .order = 4, .fn = noop_keep},
    {.name = "bench-noop4-5", .arc = ARC_IP4_IN, .order = 5, .fn = noop_keep},
    {.name = "bench-noop4-6", .arc = ARC_IP4_IN, .order = 6, .fn = noop_keep},
    {.name = "bench-noop4-7", .arc = ARC_IP4_IN, .order = 7, .fn = noop_keep},
    {.name = "bench-noop6-0", .arc = ARC_IP6_IN, .order = 0, .fn = noop_keep},
    {.name = "bench-noop6-1", .arc = ARC_IP6_IN, .order = 1, .fn = noop_keep},
    {.name = "bench-noop6-2", .arc = ARC_IP6_IN, .order = 2, .fn = noop_keep},
    {.name = "bench-noop6-3", .arc = ARC_IP6_IN, .order = 3, .fn = noop_keep},
    {.name = "bench-noop6-4", .arc = ARC_IP6_IN, .order = 4, .fn = noop_keep},
    {.name = "bench-noop6-5", .arc = ARC_IP6_IN, .order = 5, .fn = noop_keep},
    {.name = "bench-noop6-6", .arc = ARC_IP6_IN, .order = 6, .fn = noop_keep},
    {.name = "bench-noop6-7", .arc = ARC_IP6_IN, .order = 7, .fn = noop_keep},
};

static const struct mpnet_module noop_module = {
    .name = "bench-noop",
    .features = noop_features,
    .n_features = 2 * BENCH_NOOP_MAX,
};

const struct mpnet_module *const bench_noop_modules[] = {&noop_module, NULL};

void bench_noop_enable(struct mpnet_stack *s, int ifindex, int family, unsigned n)
{
        const struct feature_reg *f = &noop_features[family == 6 ? BENCH_NOOP_MAX : 0];

        if (n > BENCH_NOOP_MAX)
                bench_die("bench: at most %u no-op features\n", BENCH_NOOP_MAX);
        for (unsigned i = 0; i < n; i++) {
                if (mpnet_feature_set(s, ifindex, f[i].name, true) != 0)
                        bench_die("bench: cannot enable %s\n", f[i].name);
        }
}

static void usage(FILE *f, const char *prog, const char *what, const struct bench_opt *opts,
                  size_t n_opts)
{
        fprintf(f, "usage: %s [options]\n%s\n\nPrints one JSON object on stdout.\n\n", prog, what);
        for (size_t i = 0; i < n_opts; i++) {
                const struct bench_opt *o = &opts[i];

                if (o->kind == BENCH_OPT_FLAG)
                        fprintf(f, "  --%-16s %s\n", o->name, o->help);
                else
                        fprintf(f, "  --%-8s N       %s (default %llu, %llu..%llu)\n", o->name,
                                o->help, (unsigned long long)*(uint64_t *)o->dst,
                                (unsigned long long)o->min, (unsigned long long)o->max);
        }
        fprintf(f, "  --%-16s %s\n", "help", "print this and exit");
}

static int parse_u64(const struct bench_opt *o, const char *s)
{
        unsigned long long v;
        char *end;

        if (s == NULL || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || *end != '\0' || v < o->min || v > o->max)
                return -EINVAL;
        *(uint64_t *)o->dst = v;
        return 0;
}

static const struct bench_opt *find_opt(const struct bench_opt *opts, size_t n_opts,
                                        const char *name, size_t len)
{
        for (size_t i = 0; i < n_opts; i++)
                if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
                        return &opts[i];
        return NULL;
}

void bench_parse_args(int argc, char **argv, const char *what, const struct bench_opt *opts,
                      size_t n_opts)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *val;
                const struct bench_opt *o;
                size_t len;

                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        usage(stdout, argv[0], what, opts, n_opts);
                        exit(0);
                }
                len = strncmp(a, "--", 2) == 0 ? strcspn(a + 2, "=") : 0;
                o = len ? find_opt(opts, n_opts, a + 2, len) : NULL;
                val = len && a[2 + len] == '=' ? a + 2 + len + 1 : NULL;
                if (o == NULL || (o->kind == BENCH_OPT_FLAG && val != NULL)) {
                        fprintf(stderr, "%s: unknown option %s\n", argv[0], a);
                        goto bad;
                }
                if (o->kind == BENCH_OPT_FLAG) {
                        *(bool *)o->dst = true;
                        continue;
                }
                if (val == NULL && i + 1 < argc)
                        val = argv[++i];
                if (parse_u64(o, val) != 0) {
                        fprintf(stderr, "%s: bad value for --%s\n", argv[0], o->name);
                        goto bad;
                }
        }
        return;
bad:
        usage(stderr, argv[0], what, opts, n_opts);
        exit(2);
}
