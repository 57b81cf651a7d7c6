/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: a conversation with a stack on two interfaces, so the
 * state machines that need several frames and time are reached: ARP and ND
 * resolution and NUD, DAD of the stack's own addresses (on, not skipped),
 * SLAAC and the default router list from advertisements, MLD, IPv4 and
 * IPv6 reassembly and their timeouts, forwarding between the interfaces
 * (onto a smaller MTU: fragmentation, too big), redirects sent and taken.
 *
 * Input: one mode byte (bit 0: a router, IPv4 and IPv6 forwarding on and
 * advertising on interface 2; else a host that follows advertisements;
 * bit 1: RFC 7217 stable interface identifiers; bit 2: settled, DAD of
 * the configured addresses over when the input starts, so it costs
 * nothing; without it DAD is under way; bit 3: small limits on learning,
 * resolution, hold queues and ICMP errors, stack_env.h), then records of
 *   1 byte   time step: its square in milliseconds (0 .. 65 s)
 *   1 byte   interface: bit 0 picks 1 or 2; bit 1: a command, not a frame
 *   2 bytes  big-endian length, then the frame (or the command: a ping the
 *            stack sends, stack_env.h fz_command)
 * Each record moves the virtual clock, polls the stack (timers run), sends
 * the frame in from the peer's end of that interface's wire (placed at the
 * very end of its buffer, for ASan), polls again and drops what the stack
 * sent (stack_env.h, fz_conv_run). A stack per mode serves every input of
 * that mode and is reset to its configured state after each; at the end of
 * each input every packet buffer must be back in the pool.
 */
#include "stack_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mpnet_pool *pool;
static struct fz_stack env[FZ_CONV_MODES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz_stack *f;

        if (size < 1)
                return 0;
        if (pool == NULL)
                FZ_CHECK((pool = mpnet_pool_create("fuzz", 1024)) != NULL);
        f = fz_conv_env(env, pool, data[0], true);
        fz_conv_run(f, data + 1, size - 1);
        fz_end(f);
        return 0;
}
