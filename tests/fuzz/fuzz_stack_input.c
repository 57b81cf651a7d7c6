/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: arbitrary frames into a stack's input.
 *
 * The input is a sequence of frames, each a 2-byte big-endian length and that
 * many bytes (stack_env.h, fz_seq_run). Between frames the virtual clock
 * moves 700 ms, so ARP and ND timers run too. The stack speaks IPv4 and IPv6
 * (a host on both, an IPv6 router), its configuration done (DAD, gratuitous
 * ARP) when an input starts. One stack serves every input and is
 * reset to its configured state after each (stack_env.h); at the end of
 * each input every packet buffer must be back in the pool.
 */
#include "stack_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz_stack env;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (env.pool == NULL) {
                struct mpnet_pool *pool = mpnet_pool_create("fuzz", 1024);

                FZ_CHECK(pool != NULL);
                fz_init(&env, pool, 1, &fz_input_wire, &fz_input_cfg, fz_input_configure, true);
                env.settle_ns = FZ_INPUT_SETTLE_NS;
        }
        fz_seq_run(&env, data, size);
        fz_end(&env);
        return 0;
}
