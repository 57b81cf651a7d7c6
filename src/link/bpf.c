/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classic BPF: the validator and the interpreter (include/mpnet/bpf.h).
 * The opcode encoding is bpf(4)'s: class in bits 0-2, then for loads the
 * size (bits 3-4) and mode (bits 5-7), for the ALU and jumps the source
 * (bit 3) and operation (bits 4-7), for RET the value's source.
 *
 * The interpreter trusts what the validator checked (jump targets, memory
 * indices, constant divisors and shifts) and checks at run time only what
 * depends on the packet or X: every load against buflen, X as a divisor
 * or a shift count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "mpnet/bpf.h"

#define BPF_CLASS(c) ((c)&0x07)
#define BPF_LD       0x00
#define BPF_LDX      0x01
#define BPF_ST       0x02
#define BPF_STX      0x03
#define BPF_ALU      0x04
#define BPF_JMP      0x05
#define BPF_RET      0x06
#define BPF_MISC     0x07

#define BPF_SIZE(c) ((c)&0x18)
#define BPF_W       0x00
#define BPF_H       0x08
#define BPF_B       0x10
#define BPF_MODE(c) ((c)&0xe0)
#define BPF_IMM     0x00
#define BPF_ABS     0x20
#define BPF_IND     0x40
#define BPF_MEM     0x60
#define BPF_LEN     0x80
#define BPF_MSH     0xa0

#define BPF_OP(c) ((c)&0xf0)
#define BPF_ADD   0x00
#define BPF_SUB   0x10
#define BPF_MUL   0x20
#define BPF_DIV   0x30
#define BPF_OR    0x40
#define BPF_AND   0x50
#define BPF_LSH   0x60
#define BPF_RSH   0x70
#define BPF_NEG   0x80
#define BPF_MOD   0x90
#define BPF_XOR   0xa0
#define BPF_JA    0x00
#define BPF_JEQ   0x10
#define BPF_JGT   0x20
#define BPF_JGE   0x30
#define BPF_JSET  0x40

#define BPF_SRC(c) ((c)&0x08)
#define BPF_K      0x00
#define BPF_X      0x08

#define BPF_RVAL(c) ((c)&0x18)
#define BPF_A       0x10

#define BPF_MISCOP(c) ((c)&0xf8)
#define BPF_TAX       0x00
#define BPF_TXA       0x80

static int __attribute__((format(printf, 4, 5)))
bad(char *why, size_t n, size_t pc, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (why != NULL && n > 0) {
                k = snprintf(why, n, "instruction %zu: ", pc);
                if (k > 0 && (size_t)k < n) {
                        va_start(ap, fmt);
                        vsnprintf(why + k, n - (size_t)k, fmt, ap);
                        va_end(ap);
                }
        }
        return -EINVAL;
}

static bool load_ok(uint16_t code, bool ldx)
{
        unsigned mode = BPF_MODE(code), size = BPF_SIZE(code);

        if (ldx) /* LDX: W with IMM, MEM, LEN; B with MSH */
                return (size == BPF_W && (mode == BPF_IMM || mode == BPF_MEM || mode == BPF_LEN)) ||
                       (size == BPF_B && mode == BPF_MSH);
        if (mode == BPF_ABS || mode == BPF_IND)
                return size == BPF_W || size == BPF_H || size == BPF_B;
        return size == BPF_W && (mode == BPF_IMM || mode == BPF_MEM || mode == BPF_LEN);
}

static int alu_check(const struct mpnet_bpf_insn *i, size_t pc, char *why, size_t n)
{
        unsigned op = BPF_OP(i->code);

        /* NEG takes no operand: bpf(4) has no NEG with X (0x8c). */
        if (op > BPF_XOR || (i->code & ~0xf8u) != BPF_ALU || (op == BPF_NEG && BPF_SRC(i->code)))
                return bad(why, n, pc, "unknown ALU opcode 0x%x", i->code);
        if (BPF_SRC(i->code) == BPF_K && (op == BPF_DIV || op == BPF_MOD) && i->k == 0)
                return bad(why, n, pc, "division by a constant zero");
        if (BPF_SRC(i->code) == BPF_K && (op == BPF_LSH || op == BPF_RSH) && i->k >= 32)
                return bad(why, n, pc, "shift by %u", i->k);
        return 0;
}

static int jmp_check(const struct mpnet_bpf_insn *i, size_t pc, size_t len, char *why, size_t n)
{
        unsigned op = BPF_OP(i->code);
        size_t left = len - pc - 1; /* instructions after this one */

        if (op > BPF_JSET || (i->code & ~0xf8u) != BPF_JMP || (op == BPF_JA && BPF_SRC(i->code)))
                return bad(why, n, pc, "unknown jump opcode 0x%x", i->code);
        /* Offsets are unsigned, so every jump goes forward: the program
         * cannot loop. They must land inside it. */
        if (op == BPF_JA)
                return i->k < left ? 0 : bad(why, n, pc, "jump by %u past the end", i->k);
        if (i->jt >= left || i->jf >= left)
                return bad(why, n, pc, "jump by %u/%u past the end", i->jt, i->jf);
        return 0;
}

int mpnet_bpf_validate(const struct mpnet_bpf_insn *prog, size_t n, char *why, size_t why_len)
{
        if (n == 0 || n > MPNET_BPF_MAXINSNS)
                return bad(why, why_len, n, "a program has 1 to %u instructions",
                           MPNET_BPF_MAXINSNS);
        for (size_t pc = 0; pc < n; pc++) {
                const struct mpnet_bpf_insn *i = &prog[pc];
                int err = 0;

                if (i->code > 0xff)
                        return bad(why, why_len, pc, "unknown opcode 0x%x", i->code);

                switch (BPF_CLASS(i->code)) {
                case BPF_LD:
                case BPF_LDX:
                        if (!load_ok(i->code, BPF_CLASS(i->code) == BPF_LDX))
                                return bad(why, why_len, pc, "unknown load opcode 0x%x", i->code);
                        if (BPF_MODE(i->code) == BPF_MEM && i->k >= MPNET_BPF_MEMWORDS)
                                return bad(why, why_len, pc, "memory word %u", i->k);
                        break;
                case BPF_ST:
                case BPF_STX:
                        if ((i->code & ~0x07u) != 0)
                                return bad(why, why_len, pc, "unknown store opcode 0x%x", i->code);
                        if (i->k >= MPNET_BPF_MEMWORDS)
                                return bad(why, why_len, pc, "memory word %u", i->k);
                        break;
                case BPF_ALU:
                        err = alu_check(i, pc, why, why_len);
                        break;
                case BPF_JMP:
                        err = jmp_check(i, pc, n, why, why_len);
                        break;
                case BPF_RET:
                        if ((i->code & ~0x18u) != BPF_RET || BPF_RVAL(i->code) == 0x18)
                                return bad(why, why_len, pc, "unknown return opcode 0x%x", i->code);
                        break;
                default: /* BPF_MISC */
                        if ((i->code & 0x07u) != BPF_MISC ||
                            (BPF_MISCOP(i->code) != BPF_TAX && BPF_MISCOP(i->code) != BPF_TXA) ||
                            (i->code & 0x78u) != 0)
                                return bad(why, why_len, pc, "unknown opcode 0x%x", i->code);
                        break;
                }
                if (err != 0)
                        return err;
        }
        if (BPF_CLASS(prog[n - 1].code) != BPF_RET)
                return bad(why, why_len, n - 1, "the last instruction is not a return");
        return 0;
}

/* A load of size bytes at off, big-endian as the wire is. @return false
 * past the buffer. */
static inline bool load(const uint8_t *p, uint32_t buflen, uint32_t off, unsigned size, uint32_t *v)
{
        unsigned n = size == BPF_W ? 4 : size == BPF_H ? 2 : 1;

        if (off > buflen || buflen - off < n)
                return false;
        p += off;
        *v = n == 4   ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
             : n == 2 ? (uint32_t)p[0] << 8 | p[1]
                      : p[0];
        return true;
}

static bool alu(uint16_t code, uint32_t *a, uint32_t v)
{
        switch (BPF_OP(code)) {
        case BPF_ADD:
                *a += v;
                break;
        case BPF_SUB:
                *a -= v;
                break;
        case BPF_MUL:
                *a *= v;
                break;
        case BPF_DIV:
                if (v == 0)
                        return false;
                *a /= v;
                break;
        case BPF_MOD:
                if (v == 0)
                        return false;
                *a %= v;
                break;
        case BPF_OR:
                *a |= v;
                break;
        case BPF_AND:
                *a &= v;
                break;
        case BPF_XOR:
                *a ^= v;
                break;
        case BPF_LSH:
                *a = v < 32 ? *a << v : 0;
                break;
        case BPF_RSH:
                *a = v < 32 ? *a >> v : 0;
                break;
        default: /* BPF_NEG */
                *a = 0u - *a;
                break;
        }
        return true;
}

static bool jump(uint16_t code, uint32_t a, uint32_t v)
{
        switch (BPF_OP(code)) {
        case BPF_JEQ:
                return a == v;
        case BPF_JGT:
                return a > v;
        case BPF_JGE:
                return a >= v;
        default: /* BPF_JSET */
                return (a & v) != 0;
        }
}

uint32_t mpnet_bpf_run(const struct mpnet_bpf_insn *prog, const uint8_t *p, uint32_t wirelen,
                       uint32_t buflen)
{
        uint32_t a = 0, x = 0, v, mem[MPNET_BPF_MEMWORDS] = {0};

        for (const struct mpnet_bpf_insn *i = prog;; i++) {
                /* What pcap_compile() emits most, dispatched on the whole
                 * opcode: one indirect jump per instruction, not two. */
                switch (i->code) {
                case BPF_LD | BPF_H | BPF_ABS:
                case BPF_LD | BPF_B | BPF_ABS:
                case BPF_LD | BPF_W | BPF_ABS:
                        if (!load(p, buflen, i->k, BPF_SIZE(i->code), &a))
                                return 0;
                        continue;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        i += a == i->k ? i->jt : i->jf;
                        continue;
                case BPF_JMP | BPF_JSET | BPF_K:
                        i += (a & i->k) != 0 ? i->jt : i->jf;
                        continue;
                case BPF_JMP | BPF_JGT | BPF_K:
                        i += a > i->k ? i->jt : i->jf;
                        continue;
                case BPF_RET | BPF_K:
                        return i->k;
                default:
                        break;
                }
                switch (BPF_CLASS(i->code)) {
                case BPF_LD:
                case BPF_LDX:
                        switch (BPF_MODE(i->code)) {
                        case BPF_IMM:
                                v = i->k;
                                break;
                        case BPF_MEM:
                                v = mem[i->k];
                                break;
                        case BPF_LEN:
                                v = wirelen;
                                break;
                        case BPF_ABS:
                                if (!load(p, buflen, i->k, BPF_SIZE(i->code), &v))
                                        return 0;
                                break;
                        case BPF_IND:
                                if (x > UINT32_MAX - i->k ||
                                    !load(p, buflen, x + i->k, BPF_SIZE(i->code), &v))
                                        return 0;
                                break;
                        default: /* BPF_MSH: the IPv4 header length */
                                if (!load(p, buflen, i->k, BPF_B, &v))
                                        return 0;
                                v = (v & 0xf) << 2;
                                break;
                        }
                        if (BPF_CLASS(i->code) == BPF_LD)
                                a = v;
                        else
                                x = v;
                        break;
                case BPF_ST:
                        mem[i->k] = a;
                        break;
                case BPF_STX:
                        mem[i->k] = x;
                        break;
                case BPF_ALU:
                        if (!alu(i->code, &a, BPF_SRC(i->code) == BPF_X ? x : i->k))
                                return 0;
                        break;
                case BPF_JMP:
                        if (BPF_OP(i->code) == BPF_JA)
                                i += i->k;
                        else
                                i += jump(i->code, a, BPF_SRC(i->code) == BPF_X ? x : i->k) ? i->jt
                                                                                            : i->jf;
                        break;
                case BPF_RET:
                        return BPF_RVAL(i->code) == BPF_A   ? a
                               : BPF_RVAL(i->code) == BPF_X ? x
                                                            : i->k;
                default: /* BPF_MISC */
                        if (BPF_MISCOP(i->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                }
        }
}
