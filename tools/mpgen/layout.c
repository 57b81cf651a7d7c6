/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * layout: which CPU each of mpgen's threads runs on. The tester is one
 * thread (it sends and receives), so on N CPUs the DUT gets N - 1 of them
 * to itself; a thread that is pinned never waits for another of the run's
 * threads to give its CPU away.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET; first, as tests include these files */
#endif
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpgen.h"

#define CPU_NO_MAX 1023u

static int parse_cpu(const char *s, int *out)
{
        char *end;
        unsigned long v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > CPU_NO_MAX)
                return -EINVAL;
        *out = (int)v;
        return 0;
}

int mpg_layout_parse(const char *s, struct mpg_layout *l)
{
        char buf[512], *tok, *save;
        unsigned n = 0;

        memset(l, 0, sizeof(*l));
        l->given = true;
        l->tester = -1;
        if (strcmp(s, "none") == 0)
                return 0;
        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                int cpu;

                if (parse_cpu(tok, &cpu) != 0 || n > MPG_CPUS_MAX)
                        return -EINVAL;
                if (n == 0)
                        l->tester = cpu;
                else if (cpu == l->tester)
                        return -EINVAL; /* the tester's CPU is its own */
                else
                        l->dut[n - 1] = cpu;
                n++;
        }
        if (n < 2)
                return -EINVAL;
        l->n_dut = n - 1;
        l->pin = true;
        return 0;
}

void mpg_layout_default(struct mpg_layout *l)
{
        cpu_set_t set;
        int first = -1;

        memset(l, 0, sizeof(*l));
        l->tester = -1;
        if (sched_getaffinity(0, sizeof(set), &set) != 0)
                return;
        for (int c = 0; c < CPU_SETSIZE && l->n_dut < MPG_CPUS_MAX; c++) {
                if (!CPU_ISSET(c, &set))
                        continue;
                if (first < 0)
                        first = c;
                else
                        l->dut[l->n_dut++] = c;
        }
        /* One CPU: nothing to separate; the scheduler shares it. */
        if (l->n_dut == 0)
                return;
        l->tester = first;
        l->pin = true;
}

int mpg_layout_dut_cpu(const struct mpg_layout *l, unsigned i)
{
        if (l == NULL || !l->pin || l->n_dut == 0)
                return -1;
        return l->dut[i % l->n_dut];
}

void mpg_layout_describe(const struct mpg_layout *l, int dut_kind, unsigned workers, char *buf,
                         size_t n)
{
        unsigned threads = dut_kind == MPG_DUT_BUILTIN && workers > 1 ? workers : 1;
        const char *who = threads > 1 ? "router workers" : "router thread";
        size_t k;

        if (!l->pin) {
                snprintf(buf, n, "threads: tester (sends and receives) and DUT unpinned");
                return;
        }
        k = (size_t)snprintf(buf, n, "threads: tester (sends and receives) on CPU %d; ", l->tester);
        if (dut_kind == MPG_DUT_WIRE || dut_kind == MPG_DUT_VETH) {
                snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "no DUT thread");
                return;
        }
        if (dut_kind == MPG_DUT_KERNEL) {
                snprintf(buf + (k < n ? k : n), k < n ? n - k : 0,
                         "the kernel routes in softirq context, wherever it runs");
                return;
        }
        k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "%s on CPU%s", who,
                              threads > 1 ? "s" : "");
        for (unsigned i = 0; i < threads && k < n; i++)
                k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? "," : " ",
                                      mpg_layout_dut_cpu(l, i));
}
