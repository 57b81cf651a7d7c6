/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tsc: the tester's clock. At tens of millions of frames a second a clock
 * read per burst still matters: the TSC is one instruction, the vDSO's
 * clock_gettime a few dozen (more under a paravirtual clock). The TSC is used
 * only where it runs at a constant rate whatever the core's state
 * (constant_tsc and nonstop_tsc in /proc/cpuinfo), calibrated once against
 * CLOCK_MONOTONIC; over one trial the two drift apart by parts per million.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "mpgen.h"

#define CALIB_NS (20 * MPNET_NS_PER_MS)

#if defined(__x86_64__)
static bool tsc_invariant(void)
{
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[4096];
        bool ok = false;

        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
                if (strncmp(line, "flags", 5) != 0)
                        continue;
                ok = strstr(line, " constant_tsc") != NULL && strstr(line, " nonstop_tsc") != NULL;
                break;
        }
        if (f != NULL)
                fclose(f);
        return ok;
}

/* A TSC reading and the monotonic time it was taken at: the reading
 * bracketed by two clock reads, the tightest of a few tries. A thread
 * preempted between the two reads (a loaded machine) would otherwise skew
 * the calibration by the whole preemption, and every trial's timing with it. */
static void tsc_pair(uint64_t *ns, uint64_t *c)
{
        uint64_t best = UINT64_MAX;

        for (unsigned i = 0; i < 8; i++) {
                uint64_t a = mpnet_monotonic_ns(), t = __rdtsc(), b = mpnet_monotonic_ns();

                if (b - a < best) {
                        best = b - a;
                        *ns = a + (b - a) / 2;
                        *c = t;
                }
                if (best < 2 * MPNET_NS_PER_US)
                        break;
        }
}
#endif

void mpg_tsc_init(struct mpg_tsc *t)
{
        memset(t, 0, sizeof(*t));
#if defined(__x86_64__)
        uint64_t ns0 = 0, ns1 = 0, c0 = 0, c1 = 0;

        if (!tsc_invariant())
                return;
        tsc_pair(&ns0, &c0);
        nanosleep(&(struct timespec){.tv_nsec = (long)CALIB_NS}, NULL);
        tsc_pair(&ns1, &c1);
        if (c1 <= c0 || ns1 <= ns0)
                return;
        t->ns_per_tick = (double)(ns1 - ns0) / (double)(c1 - c0);
        /* Anything outside 100 MHz .. 10 GHz is not a TSC to trust. */
        if (t->ns_per_tick < 0.1 || t->ns_per_tick > 10)
                return;
        t->tsc0 = c1;
        t->ns0 = ns1;
        t->ok = true;
#endif
}

uint64_t mpg_time(const struct mpg_tsc *tsc, struct mpnet_clock *clock)
{
#if defined(__x86_64__)
        if (tsc != NULL && tsc->ok && clock->kind == MPNET_CLOCK_MONOTONIC) {
                int64_t d = (int64_t)(__rdtsc() - tsc->tsc0);

                /* CPUs' TSCs agree to a few cycles: never before calibration. */
                return tsc->ns0 + (d > 0 ? (uint64_t)((double)d * tsc->ns_per_tick) : 0);
        }
#else
        (void)tsc;
#endif
        return mpnet_clock_now(clock);
}
