/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_stack_create: what an empty stack costs to make and to keep.
 *
 * Each run creates --stacks stacks on one pool and clock, all alive at once,
 * then destroys them: microseconds per create and per destroy, and the
 * resident memory the live stacks added (RSS from /proc/self/statm, divided
 * by their number). The first run starts from a fresh process heap; later
 * runs reuse what the allocator kept, so both are reported (runs[] in the
 * order they ran). A stack with no interface is the floor every user pays
 * (a fuzz input, a namespace, a test).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "mpnet/stack.h"

static long rss_kib(void)
{
        FILE *f = fopen("/proc/self/statm", "r");
        long pages = 0, res = 0;

        if (f == NULL || fscanf(f, "%ld %ld", &pages, &res) != 2)
                bench_die("cannot read /proc/self/statm");
        fclose(f);
        return res * 4;
}

int main(int argc, char **argv)
{
        uint64_t n = 1000, runs = 5;
        const struct bench_opt opts[] = {
            {"stacks", BENCH_OPT_U64, &n, 1, 100000, "stacks alive at once"},
            {"runs", BENCH_OPT_U64, &runs, 1, 1000, "repetitions"},
        };
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_stack **v;
        double *cr, *de, *rss;
        struct bench_json j;

        bench_parse_args(argc, argv, "creates and destroys empty stacks: time and RSS per stack",
                         opts, sizeof(opts) / sizeof(opts[0]));
        mpnet_clock_init_virtual(&clk, 1);
        pool = mpnet_pool_create("bench", 1024);
        v = calloc(n, sizeof(*v));
        cr = calloc(runs, sizeof(*cr));
        de = calloc(runs, sizeof(*de));
        rss = calloc(runs, sizeof(*rss));
        if (pool == NULL || v == NULL || cr == NULL || de == NULL || rss == NULL)
                bench_die("out of memory");
        for (uint64_t r = 0; r < runs; r++) {
                struct mpnet_stack_cfg cfg = {.name = "b", .clock = &clk, .pool = pool};
                long r0 = rss_kib();
                uint64_t t0 = bench_now_ns(), t1;

                for (uint64_t i = 0; i < n; i++)
                        if ((v[i] = mpnet_stack_create(&cfg)) == NULL)
                                bench_die("mpnet_stack_create failed at %llu",
                                          (unsigned long long)i);
                t1 = bench_now_ns();
                rss[r] = (double)(rss_kib() - r0) / (double)n;
                cr[r] = (double)(t1 - t0) / 1e3 / (double)n;
                for (uint64_t i = 0; i < n; i++)
                        mpnet_stack_destroy(v[i]);
                de[r] = (double)(bench_now_ns() - t1) / 1e3 / (double)n;
        }
        bench_json_init(&j, stdout);
        bench_json_obj_begin(&j, NULL);
        bench_json_str(&j, "bench", "stack_create");
        bench_json_machine(&j);
        bench_json_u64(&j, "stacks", n);
        bench_json_num(&j, "first_create_us", cr[0]);
        bench_json_num(&j, "first_rss_kib_per_stack", rss[0]);
        bench_json_stat(&j, "create_us", cr, runs);
        bench_json_stat(&j, "destroy_us", de, runs);
        bench_json_stat(&j, "rss_kib_per_stack", rss, runs);
        bench_json_obj_end(&j);
        free(v);
        free(cr);
        free(de);
        free(rss);
        mpnet_pool_destroy(pool);
        return 0;
}
