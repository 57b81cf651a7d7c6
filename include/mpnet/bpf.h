/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file bpf.h
 * Classic BPF (McCanne and Jacobson, "The BSD Packet Filter", 1993; the
 * bpf(4) machine that libpcap's pcap_compile() targets): a validator and
 * an interpreter, so that a filter compiled once on the control thread runs
 * on the workers with no libpcap in the data path.
 *
 * The instruction layout is struct bpf_insn's (and Linux's struct
 * sock_filter): code, jt, jf, k. Supported: every opcode of the classic
 * machine (loads of words, halves and bytes, absolute and indexed; the
 * IP header length (MSH); immediates, scratch memory, the packet length;
 * the ALU with both operand sources; JA, JEQ, JGT, JGE, JSET; RET; TAX,
 * TXA). Not supported: Linux's ancillary loads (negative offsets), which
 * pcap_compile() emits only for live Linux captures.
 *
 * Threads: a validated program is read-only; any number of threads may run
 * it at once.
 */
#ifndef MPNET_BPF_H
#define MPNET_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"

#define MPNET_BPF_MAXINSNS 4096 /* as bpf(4)'s BPF_MAXINSNS */
#define MPNET_BPF_MEMWORDS 16   /* scratch memory words */

struct mpnet_bpf_insn {
        uint16_t code;
        uint8_t jt, jf;
        uint32_t k;
};

/**
 * Check a program before it is run: 1 to MPNET_BPF_MAXINSNS instructions,
 * each opcode known, every jump forward and inside the program, scratch
 * memory indices below MPNET_BPF_MEMWORDS, no division or remainder by a
 * constant zero, no shift by a constant of 32 or more, and the last
 * instruction a RET, so that every path ends in one.
 * @return 0, or -EINVAL with the instruction and the reason in why (may
 * be NULL).
 */
MPNET_API int mpnet_bpf_validate(const struct mpnet_bpf_insn *prog, size_t n, char *why,
                                 size_t why_len);

/**
 * Run a validated program over a frame: buflen bytes at p of a frame of
 * wirelen bytes (the packet length BPF_LEN loads). A load past buflen, and
 * a division by a zero X, end the run with 0 (the frame is refused), as
 * bpf(4) does.
 * @return how many bytes of the frame to keep (0: refuse it).
 */
MPNET_API uint32_t mpnet_bpf_run(const struct mpnet_bpf_insn *prog, const uint8_t *p,
                                 uint32_t wirelen, uint32_t buflen);

#endif
