/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: classic BPF programs and frames into mpnet's validator
 * and interpreter (include/mpnet/bpf.h), what mpnetd runs on its workers
 * for a capture filter (a BPF attribute comes from any root client).
 *
 * Input: one byte c; n = c + 1 instructions of 8 bytes (struct
 * mpnet_bpf_insn, host byte order; fewer when the input is shorter); one
 * byte e; the rest the frame, buflen bytes of a frame of wirelen = buflen
 * + e bytes (e: what the capture did not copy).
 *
 * Properties (a trap when broken):
 * - validate never reads past the program, run never past buflen (both
 *   copied to buffers of exactly their size, for ASan);
 * - a program validate accepts runs to a RET (no hang: jumps go forward)
 *   with no undefined behaviour (UBSan: shifts and divisions by X);
 * - the result is a function of program and frame: two runs agree;
 * - where libpcap is linked (MPNET_FUZZ_PCAP), a program both validators
 *   accept gives what libpcap's own bpf_filter() gives: the same machine
 *   (unless libpcap's answer is undefined: pcap_differs()).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/bpf.h"

#ifdef MPNET_FUZZ_PCAP
#include <pcap/pcap.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef MPNET_FUZZ_PCAP
/* Whether libpcap's bpf_filter() may rightly differ: some path loads a
 * scratch word no earlier instruction of that path stored (mpnet's words
 * start at 0, libpcap's are whatever its stack held), or the program has
 * a RET X (mpnet runs it; libpcap's validator lets it through and its
 * interpreter aborts). Jumps
 * only go forward: one pass in program order, each instruction's words
 * stored on every path to it the meet of its predecessors'. */
static bool pcap_differs(const struct mpnet_bpf_insn *prog, size_t n)
{
        uint16_t must[256];
        bool reached[256] = {true};

        must[0] = 0;
        for (size_t i = 0; i < n; i++) {
                uint16_t c = prog[i].code, out = must[i];
                size_t next[2] = {i + 1, i + 1};

                if (!reached[i])
                        continue;
                if ((c & 0x07) <= 0x01 && (c & 0xe0) == 0x60 && !(must[i] >> prog[i].k & 1))
                        return true; /* LD or LDX from memory */
                if ((c & 0x07) == 0x02 || (c & 0x07) == 0x03)
                        out |= (uint16_t)(1u << prog[i].k); /* ST, STX */
                if ((c & 0x07) == 0x06 && (c & 0x18) == 0x08)
                        return true; /* RET X: mpnet's, libpcap's interpreter aborts */
                if ((c & 0x07) == 0x06)
                        continue; /* RET */
                if ((c & 0x07) == 0x05 && (c & 0xf0) == 0x00) {
                        next[0] = next[1] = i + 1 + prog[i].k; /* JA */
                } else if ((c & 0x07) == 0x05) {
                        next[0] = i + 1 + prog[i].jt;
                        next[1] = i + 1 + prog[i].jf;
                }
                for (int j = 0; j < 2; j++) {
                        must[next[j]] = reached[next[j]] ? must[next[j]] & out : out;
                        reached[next[j]] = true;
                }
        }
        return false;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_bpf_insn *prog;
        uint8_t *frame;
        size_t n, flen;
        uint32_t extra, r1, r2;
        char why[128];

        if (size < 2)
                return 0;
        n = (size_t)data[0] + 1;
        if (1 + n * sizeof(*prog) + 1 > size)
                n = (size - 2) / sizeof(*prog);
        if (n == 0)
                return 0;
        prog = malloc(n * sizeof(*prog));
        if (prog == NULL)
                return 0;
        memcpy(prog, data + 1, n * sizeof(*prog));
        extra = data[1 + n * sizeof(*prog)];
        flen = size - 2 - n * sizeof(*prog);
        frame = malloc(flen ? flen : 1);
        if (frame == NULL) {
                free(prog);
                return 0;
        }
        memcpy(frame, data + 2 + n * sizeof(*prog), flen);
        why[0] = '\0';

        if (mpnet_bpf_validate(prog, n, why, sizeof(why)) == 0) {
                r1 = mpnet_bpf_run(prog, frame, (uint32_t)flen + extra, (uint32_t)flen);
                r2 = mpnet_bpf_run(prog, frame, (uint32_t)flen + extra, (uint32_t)flen);
                if (r1 != r2)
                        __builtin_trap();
#ifdef MPNET_FUZZ_PCAP
                /* Same layout as struct bpf_insn (code, jt, jf, k). */
                if (!pcap_differs(prog, n) && bpf_validate((const struct bpf_insn *)prog, (int)n) &&
                    bpf_filter((const struct bpf_insn *)prog, frame, (u_int)flen + extra,
                               (u_int)flen) != r1)
                        __builtin_trap();
#endif
        } else if (why[0] == '\0') {
                __builtin_trap(); /* a refusal names its reason */
        }
        free(frame);
        free(prog);
        return 0;
}
