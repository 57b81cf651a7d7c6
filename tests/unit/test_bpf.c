/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classic BPF (src/link/bpf.c): programs as libpcap compiles them (the
 * fixtures are `tcpdump -dd -y EN10MB EXPR` output, Debian 12, libpcap
 * 1.10.3) run over hand-built frames, each kept or refused as tcpdump
 * would; every ALU, jump and load form by hand; and the validator refusing
 * each malformed shape.
 */
#include "mpnet/bpf.h"
#include "testutil.h"

#define RET_K(k)                                                                                   \
        {                                                                                          \
                0x06, 0, 0, (k)                                                                    \
        }
#define I(c, jt, jf, k)                                                                            \
        {                                                                                          \
                (c), (jt), (jf), (k)                                                               \
        }
#define N(p)            (sizeof(p) / sizeof((p)[0]))
#define RUN(prog, f, n) mpnet_bpf_run((prog), (f), (n), (n))
#define VALID(prog)     mpnet_bpf_validate((prog), N(prog), NULL, 0)

/* icmp and host 192.0.2.2 */
static const struct mpnet_bpf_insn icmp_host[] = {
    I(0x28, 0, 0, 0x0c), I(0x15, 0, 7, 0x800),
    I(0x30, 0, 0, 0x17), I(0x15, 0, 5, 1),
    I(0x20, 0, 0, 0x1a), I(0x15, 2, 0, 0xc0000202),
    I(0x20, 0, 0, 0x1e), I(0x15, 0, 1, 0xc0000202),
    RET_K(0x40000),      RET_K(0),
};

/* udp dst port 53 (IPv6 and IPv4; the IPv4 half skips fragments and finds
 * the UDP header past the options with BPF_MSH). */
static const struct mpnet_bpf_insn udp53[] = {
    I(0x28, 0, 0, 0x0c), I(0x15, 0, 4, 0x86dd), I(0x30, 0, 0, 0x14),   I(0x15, 0, 11, 0x11),
    I(0x28, 0, 0, 0x38), I(0x15, 8, 9, 0x35),   I(0x15, 0, 8, 0x800),  I(0x30, 0, 0, 0x17),
    I(0x15, 0, 6, 0x11), I(0x28, 0, 0, 0x14),   I(0x45, 4, 0, 0x1fff), I(0xb1, 0, 0, 0x0e),
    I(0x48, 0, 0, 0x10), I(0x15, 0, 1, 0x35),   RET_K(0x40000),        RET_K(0),
};

/* greater 200 */
static const struct mpnet_bpf_insn greater200[] = {
    I(0x80, 0, 0, 0),
    I(0x35, 0, 1, 200),
    RET_K(0x40000),
    RET_K(0),
};

/* ip[2:2] / 4 > 20 */
static const struct mpnet_bpf_insn div4[] = {
    I(0x28, 0, 0, 0x0c),
    I(0x15, 0, 4, 0x800),
    I(0x28, 0, 0, 0x10),
    I(0x34, 0, 0, 4),
    I(0x25, 0, 1, 20),
    RET_K(0x40000),
    RET_K(0),
};

/* Ethernet + IPv4 (ihl words of header) + 8 bytes of ICMP or UDP. */
static size_t frame4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, unsigned ihl,
                     uint16_t frag, uint16_t dport)
{
        size_t l3 = 14, l4 = l3 + ihl * 4u, n = l4 + 8;

        memset(f, 0, n);
        f[12] = 0x08;
        f[l3] = (uint8_t)(0x40 | ihl);
        f[l3 + 2] = (uint8_t)((n - l3) >> 8);
        f[l3 + 3] = (uint8_t)(n - l3);
        f[l3 + 6] = (uint8_t)(frag >> 8);
        f[l3 + 7] = (uint8_t)frag;
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        for (int i = 0; i < 4; i++) {
                f[l3 + 12 + i] = (uint8_t)(src >> (24 - 8 * i));
                f[l3 + 16 + i] = (uint8_t)(dst >> (24 - 8 * i));
        }
        f[l4] = proto == 1 ? 8 : 0;
        f[l4 + 2] = (uint8_t)(dport >> 8);
        f[l4 + 3] = (uint8_t)dport;
        return n;
}

static void test_libpcap_programs(void **state)
{
        uint8_t f[256];
        size_t n;

        (void)state;
        assert_int_equal(VALID(icmp_host), 0);
        assert_int_equal(VALID(udp53), 0);
        assert_int_equal(VALID(greater200), 0);
        assert_int_equal(VALID(div4), 0);
        n = frame4(f, 1, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 5, 0, 0);
        assert_int_equal(RUN(icmp_host, f, (uint32_t)n), 0x40000);
        n = frame4(f, 1, IP4(192, 0, 2, 2), IP4(198, 51, 100, 1), 5, 0, 0);
        assert_int_equal(RUN(icmp_host, f, (uint32_t)n), 0x40000);
        n = frame4(f, 1, IP4(192, 0, 2, 1), IP4(192, 0, 2, 3), 5, 0, 0);
        assert_int_equal(RUN(icmp_host, f, (uint32_t)n), 0);
        n = frame4(f, 17, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 5, 0, 53);
        assert_int_equal(RUN(icmp_host, f, (uint32_t)n), 0);
        /* UDP to 53 with and without IPv4 options; a later fragment (its
         * first bytes are no UDP header) and another port are refused. */
        assert_int_equal(RUN(udp53, f, (uint32_t)n), 0x40000);
        n = frame4(f, 17, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 7, 0, 53);
        assert_int_equal(RUN(udp53, f, (uint32_t)n), 0x40000);
        n = frame4(f, 17, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 5, 0x0010, 53);
        assert_int_equal(RUN(udp53, f, (uint32_t)n), 0);
        n = frame4(f, 17, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 5, 0, 54);
        assert_int_equal(RUN(udp53, f, (uint32_t)n), 0);
        /* Cut short: the load past the buffer refuses the frame, though
         * the wire length says it is whole. */
        n = frame4(f, 17, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 5, 0, 53);
        assert_int_equal(mpnet_bpf_run(udp53, f, (uint32_t)n, 36), 0);
        /* BPF_LEN is the wire length, not the buffer's. */
        assert_int_equal(mpnet_bpf_run(greater200, f, 200, 40), 0x40000);
        assert_int_equal(mpnet_bpf_run(greater200, f, 199, 40), 0);
        /* ip[2:2] / 4 > 20: total length 84 passes, 80 does not. */
        n = frame4(f, 1, 1, 2, 5, 0, 0);
        f[16] = 0;
        f[17] = 84;
        assert_int_equal(RUN(div4, f, (uint32_t)n), 0x40000);
        f[17] = 80;
        assert_int_equal(RUN(div4, f, (uint32_t)n), 0);
}

/* Every ALU operation with K and X, TAX/TXA, scratch memory, JSET and the
 * three return sources. */
static void test_machine(void **state)
{
        static const uint8_t f[] = {0x12, 0x34, 0x56, 0x78, 0x9a};
        const struct mpnet_bpf_insn alu[] = {
            I(0x00, 0, 0, 100),  /* ld #100 */
            I(0x04, 0, 0, 5),    /* add #5 -> 105 */
            I(0x14, 0, 0, 3),    /* sub #3 -> 102 */
            I(0x24, 0, 0, 2),    /* mul #2 -> 204 */
            I(0x94, 0, 0, 50),   /* mod #50 -> 4 */
            I(0x64, 0, 0, 4),    /* lsh #4 -> 64 */
            I(0x74, 0, 0, 1),    /* rsh #1 -> 32 */
            I(0x44, 0, 0, 3),    /* or #3 -> 35 */
            I(0x54, 0, 0, 0x21), /* and #0x21 -> 33 */
            I(0xa4, 0, 0, 1),    /* xor #1 -> 32 */
            I(0x02, 0, 0, 3),    /* st M[3] */
            I(0x01, 0, 0, 40),   /* ldx #40 */
            I(0x0c, 0, 0, 0),    /* add x -> 72 */
            I(0x84, 0, 0, 0),    /* neg -> -72 */
            I(0x84, 0, 0, 0),    /* neg -> 72 */
            I(0x3c, 0, 0, 0),    /* div x -> 1 */
            I(0x07, 0, 0, 0),    /* tax: x = 1 */
            I(0x60, 0, 0, 3),    /* ld M[3] -> 32 */
            I(0x6c, 0, 0, 0),    /* lsh x -> 64 */
            I(0x45, 1, 0, 0x40), /* jset #0x40 */
            RET_K(1),
            I(0x16, 0, 0, 0), /* ret a */
        };
        const struct mpnet_bpf_insn loads[] = {
            I(0x01, 0, 0, 1), /* ldx #1 */
            I(0x48, 0, 0, 2), /* ldh [x + 2] = 0x789a */
            I(0x15, 0, 4, 0x789a),
            I(0x20, 0, 0, 0), /* ld [0] */
            I(0x15, 0, 2, 0x12345678),
            I(0xb1, 0, 0, 4), /* ldxb 4*([4]&0xf) = 40 */
            I(0x87, 0, 0, 0), /* txa */
            I(0x16, 0, 0, 0), /* ret a */
            RET_K(0),
        };
        const struct mpnet_bpf_insn divx0[] = {I(0x00, 0, 0, 9), I(0x3c, 0, 0, 0), RET_K(1)};
        const struct mpnet_bpf_insn shx[] = {I(0x00, 0, 0, 9), I(0x01, 0, 0, 40), I(0x6c, 0, 0, 0),
                                             I(0x16, 0, 0, 0)};
        const struct mpnet_bpf_insn retx[] = {I(0x81, 0, 0, 0), I(0x0e, 0, 0, 0)};
        const struct mpnet_bpf_insn ja[] = {I(0x05, 0, 0, 1), RET_K(0), RET_K(7)};

        (void)state;
        assert_int_equal(VALID(alu), 0);
        assert_int_equal(RUN(alu, f, 5), 64);
        assert_int_equal(VALID(loads), 0);
        assert_int_equal(RUN(loads, f, 5), 40);
        assert_int_equal(mpnet_bpf_run(loads, f, 5, 4), 0); /* ldh [x + 2] past 4 */
        assert_int_equal(VALID(divx0), 0);                  /* X is zero only at run time */
        assert_int_equal(RUN(divx0, f, 5), 0);
        assert_int_equal(RUN(shx, f, 5), 0);  /* a shift of 32 or more by X leaves 0 */
        assert_int_equal(RUN(retx, f, 5), 5); /* ldx len; ret x */
        assert_int_equal(RUN(ja, f, 5), 7);
}

static void test_validate_refuses(void **state)
{
        struct mpnet_bpf_insn big[MPNET_BPF_MAXINSNS + 1];
        const struct mpnet_bpf_insn past[] = {I(0x15, 0, 1, 0), RET_K(0)};
        const struct mpnet_bpf_insn past_ja[] = {I(0x05, 0, 0, 1), RET_K(0)};
        const struct mpnet_bpf_insn no_ret[] = {RET_K(0), I(0x00, 0, 0, 1)};
        const struct mpnet_bpf_insn div0[] = {I(0x34, 0, 0, 0), RET_K(0)};
        const struct mpnet_bpf_insn mod0[] = {I(0x94, 0, 0, 0), RET_K(0)};
        const struct mpnet_bpf_insn shift32[] = {I(0x64, 0, 0, 32), RET_K(0)};
        const struct mpnet_bpf_insn mem16[] = {I(0x02, 0, 0, 16), RET_K(0)};
        const struct mpnet_bpf_insn ldmem16[] = {I(0x60, 0, 0, 16), RET_K(0)};
        const struct mpnet_bpf_insn bad_size[] = {I(0x20 | 0x18, 0, 0, 0), RET_K(0)};
        const struct mpnet_bpf_insn alu_op[] = {I(0xb4, 0, 0, 0), RET_K(0)};
        const struct mpnet_bpf_insn neg_x[] = {I(0x8c, 0, 0, 0), RET_K(0)}; /* found by fuzz_bpf */
        const struct mpnet_bpf_insn jmp_op[] = {I(0x55, 0, 0, 0), RET_K(0)};
        const struct mpnet_bpf_insn high[] = {I(0x106, 0, 0, 0)};
        const struct mpnet_bpf_insn ret_op[] = {I(0x1e, 0, 0, 0)};
        const struct mpnet_bpf_insn misc_op[] = {I(0x17, 0, 0, 0), RET_K(0)};
        char why[128];

        (void)state;
        assert_int_equal(mpnet_bpf_validate(past, 0, why, sizeof(why)), -EINVAL);
        for (size_t i = 0; i < N(big); i++)
                big[i] = (struct mpnet_bpf_insn)RET_K(0);
        assert_int_equal(mpnet_bpf_validate(big, N(big), why, sizeof(why)), -EINVAL);
        assert_int_equal(mpnet_bpf_validate(big, MPNET_BPF_MAXINSNS, why, sizeof(why)), 0);
        assert_int_equal(mpnet_bpf_validate(past, N(past), why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "instruction 0: jump by 0/1 past the end");
        assert_int_equal(VALID(past_ja), -EINVAL);
        assert_int_equal(mpnet_bpf_validate(no_ret, N(no_ret), why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "instruction 1: the last instruction is not a return");
        assert_int_equal(mpnet_bpf_validate(div0, N(div0), why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "instruction 0: division by a constant zero");
        assert_int_equal(VALID(mod0), -EINVAL);
        assert_int_equal(VALID(shift32), -EINVAL);
        assert_int_equal(VALID(mem16), -EINVAL);
        assert_int_equal(VALID(ldmem16), -EINVAL);
        assert_int_equal(VALID(bad_size), -EINVAL);
        assert_int_equal(VALID(alu_op), -EINVAL);
        assert_int_equal(VALID(neg_x), -EINVAL);
        assert_int_equal(VALID(jmp_op), -EINVAL);
        assert_int_equal(VALID(high), -EINVAL);
        assert_int_equal(VALID(ret_op), -EINVAL);
        assert_int_equal(VALID(misc_op), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_libpcap_programs),
            cmocka_unit_test(test_machine),
            cmocka_unit_test(test_validate_refuses),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
