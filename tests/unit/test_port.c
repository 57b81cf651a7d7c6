/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where flows land and ephemeral ports steered there (stack/steer.h,
 * l4/port.h): stack_rx_ctx() against the queue a frame of the flow really
 * reaches through an RSS memory wire; port_pick() ports whose reply frame
 * the wire gives to the target context's queue; RFC 6056 spread and
 * exhaustion; SO_REUSEPORT members chosen on the receiving context.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/siphash.h"
#include "l4/port.h"
#include "mpnet/null.h"
#include "mpnet/rss.h"
#include "mpnet/wire/ipv4.h"
#include "steerutil.h"

struct mpnet_sock {
        int id;
};

static void retire_now(void *arg, struct pcb_set *old)
{
        (void)arg;
        pcb_set_free(old);
}

static const uint8_t secret_a[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t secret_b[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

/* The paper's vectors (appendix A): key 00..0f, messages 00..n-1. */
static void test_siphash_vectors(void **state)
{
        uint8_t key[16], m[15];

        (void)state;
        for (unsigned i = 0; i < 16; i++)
                key[i] = (uint8_t)i;
        for (unsigned i = 0; i < 15; i++)
                m[i] = (uint8_t)i;
        assert_true(siphash24(key, m, 0) == 0x726fdb47dd0e0e31ull);
        assert_true(siphash24(key, m, 15) == 0xa129ca6149be45e5ull);
}

/* Words (the SYN cookie's MAC, l4/tcp_isn.c) hash as their little-endian
 * bytes: the paper's vector of 8 bytes, and 1 to 6 words against the
 * byte form. */
static void test_siphash_words(void **state)
{
        uint8_t key[16], m[48];
        uint64_t w[6];

        (void)state;
        for (unsigned i = 0; i < 16; i++)
                key[i] = (uint8_t)i;
        w[0] = 0x0706050403020100ull;
        assert_true(siphash24_u64(key, w, 1) == 0x93f5f5799a932462ull);
        for (unsigned i = 0; i < 48; i++)
                m[i] = (uint8_t)(i * 37 + 11);
        for (unsigned k = 0; k < 6; k++) {
                w[k] = 0;
                for (unsigned j = 0; j < 8; j++)
                        w[k] |= (uint64_t)m[8 * k + j] << (8 * j);
        }
        for (unsigned n = 1; n <= 6; n++)
                assert_true(siphash24_u64(key, w, n) == siphash24(key, m, 8 * n));
        /* Words and a tail of 0 to 7 bytes (the IPv4 cookie's 2 and 5):
         * the byte form of the same bytes. */
        for (unsigned n = 0; n <= 5; n++)
                for (unsigned k = 0; k <= 7; k++) {
                        uint64_t tail = 0;

                        for (unsigned j = 0; j < k; j++)
                                tail |= (uint64_t)m[8 * n + j] << (8 * j);
                        assert_true(siphash24_u64_tail(key, w, n, tail, k) ==
                                    siphash24(key, m, 8 * n + k));
                }
}

/* SipHash-1-3 (the connection table's hash, l4/tcp.c): the reference's
 * vectors for 0, 8 and 16 bytes 00 01 02 ... under the key 00 .. 0f, as
 * Linux's hsiphash() self-test has them on 64-bit (the low 32 bits; all 64
 * for the empty message, as Rust's SipHasher13 test has its bytes), and the
 * empty message under the zero key. */
static void test_siphash13_words(void **state)
{
        uint8_t key[16] = {0};
        uint64_t w[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

        (void)state;
        assert_true(siphash13_u64(key, w, 0) == 0xd1fba762150c532cull);
        for (unsigned i = 0; i < 16; i++)
                key[i] = (uint8_t)i;
        assert_true(siphash13_u64(key, w, 0) == 0xabac0158050fc4dcull);
        assert_true((uint32_t)siphash13_u64(key, w, 1) == 0x8d299a8eu);
        assert_true((uint32_t)siphash13_u64(key, w, 2) == 0x7d908b66u);
        assert_true(siphash13_u64(key, w, 2) != siphash24_u64(key, w, 2));
}

/* The links tell their steering; decorators the inner link's. */
static void test_link_rss(void **state)
{
        struct mpnet_memwire_cfg wc = {.n_queues = 4, .rss = true};
        struct mpnet_link *a, *b, *f, *nl;
        struct mpnet_link_rss r;
        struct mpnet_fault_cfg fc = {.seed = 1};
        struct mpnet_clock clk;
        struct mpnet_null_cfg ncfg = {.n_queues = 2};

        (void)state;
        mpnet_clock_init_monotonic(&clk);
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        assert_int_equal(mpnet_link_rss(a, &r), 0);
        assert_ptr_equal(r.reta, mpnet_memwire_reta(a));
        assert_int_equal(r.key_len, MPNET_RSS_KEY_LEN);
        assert_memory_equal(r.key, mpnet_rss_key_sym, MPNET_RSS_KEY_LEN);
        f = mpnet_fault_create(a, &fc, &clk, NULL);
        assert_non_null(f);
        memset(&r, 0, sizeof(r));
        assert_int_equal(mpnet_link_rss(f, &r), 0);
        assert_ptr_equal(r.reta, mpnet_memwire_reta(a));
        mpnet_link_destroy(f);
        mpnet_link_destroy(b);
        wc.rss = false;
        assert_int_equal(mpnet_memwire_create(&wc, &a, &b), 0);
        assert_int_equal(mpnet_link_rss(a, &r), -ENOTSUP);
        mpnet_link_destroy(a);
        mpnet_link_destroy(b);
        assert_int_equal(mpnet_null_create(&ncfg, &nl), 0);
        assert_int_equal(mpnet_link_rss(nl, &r), 0);
        assert_int_equal(mpnet_reta_size(r.reta), MPNET_RETA_DEFAULT);
        assert_int_equal(r.reta->n_queues, 2);
        mpnet_link_destroy(nl);
}

/* stack_rx_ctx() names the context that polls the queue each flow's frame
 * reaches through the wire: IPv4 and IPv6, UDP, TCP and ICMP (2-tuple). */
static void check_rx_ctx(struct steer_net *n, unsigned rounds, uint64_t seed)
{
        static const uint8_t protos[3] = {MPNET_IPPROTO_UDP, MPNET_IPPROTO_TCP, 1};
        uint64_t rng = seed;

        for (unsigned i = 0; i < rounds; i++) {
                struct rx_tuple t;
                int q, want, got;

                steer_rand_tuple(&t, &rng, i % 2 ? 6 : 4, protos[i % 3]);
                q = steer_wire_queue(n, &t);
                want = q + 1;
                got = stack_rx_ctx(n->s, n->ifindex, &t);
                assert_int_equal(got, want);
        }
}

static void test_rx_ctx(void **state)
{
        struct steer_net n;
        struct rx_tuple t;
        uint64_t rng = 3;
        unsigned moved = 0;

        (void)state;
        steer_net_init(&n, 4, true, false);
        steer_rand_tuple(&t, &rng, 4, MPNET_IPPROTO_UDP);
        /* No worker: the control thread reads every queue. */
        assert_int_equal(stack_rx_ctx(n.s, n.ifindex, &t), 0);
        assert_int_equal(stack_rx_ctx(n.s, 9, &t), -ENODEV);
        for (unsigned q = 0; q < 4; q++)
                assert_int_equal(mpnet_runtime_assign(n.rt, q, n.s, n.ifindex, (uint16_t)q), 0);
        check_rx_ctx(&n, 600, 11);
        /* The table changes: answers follow it. */
        for (uint32_t i = 0; i < MPNET_RETA_DEFAULT; i++)
                assert_int_equal(mpnet_reta_set(mpnet_memwire_reta(n.a), i, (uint16_t)(3 - i % 4)),
                                 0);
        check_rx_ctx(&n, 300, 12);
        /* A queue no worker polls: unknown. */
        assert_int_equal(mpnet_runtime_unassign(n.rt, n.s, n.ifindex, 2), 0);
        rng = 5;
        for (unsigned i = 0; i < 400; i++) {
                int q;

                steer_rand_tuple(&t, &rng, 4, MPNET_IPPROTO_UDP);
                q = steer_wire_queue(&n, &t);
                assert_int_equal(stack_rx_ctx(n.s, n.ifindex, &t), q == 2 ? -ENOENT : q + 1);
                moved += q == 2;
        }
        assert_true(moved > 0);
        steer_net_fini(&n);
}

/* Links that cannot tell: unknown, but one queue is one queue. */
static void test_rx_ctx_no_rss(void **state)
{
        struct steer_net n;
        struct rx_tuple t;
        struct rx_steer st;
        uint64_t rng = 9;

        (void)state;
        steer_rand_tuple(&t, &rng, 6, MPNET_IPPROTO_UDP);
        steer_net_init(&n, 2, false, true);
        assert_int_equal(stack_rx_ctx(n.s, n.ifindex, &t), -ENOENT);
        assert_int_equal(stack_rx_steer(n.s, n.ifindex, 1, &st), -ENOENT);
        steer_net_fini(&n);
        steer_net_init(&n, 1, false, true);
        assert_int_equal(stack_rx_ctx(n.s, n.ifindex, &t), 1);
        steer_net_fini(&n);
}

static void ent_init(struct pcb_ent *e, struct mpnet_sock *so, uint8_t fam, const uint8_t *laddr)
{
        memset(e, 0, sizeof(*e));
        e->so = so;
        e->fam = fam;
        if (laddr != NULL)
                memcpy(e->laddr, laddr, 16);
}

/* The reply flow of f with local port p, as the stack receives it. */
static void reply_tuple(struct rx_tuple *t, const struct port_flow *f, uint16_t p)
{
        static const uint8_t m[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        t->fam = memcmp(f->laddr, m, 12) == 0 ? 4 : 6;
        t->proto = f->proto;
        t->sport = f->fport;
        t->dport = p;
        memcpy(t->saddr, f->faddr, 16);
        memcpy(t->daddr, f->laddr, 16);
}

/* Over many random flows, each steered port's reply frame reaches a queue
 * of the target context through the wire: 1, 2 and 4 queues, both
 * families, UDP and TCP. */
static void test_port_steered(void **state)
{
        static const unsigned nq[3] = {1, 2, 4};
        static struct port_picker pp;
        struct mpnet_sock so[1];

        (void)state;
        port_picker_init(&pp, secret_a);
        for (unsigned k = 0; k < 3; k++) {
                struct steer_net n;
                struct pcb_table *t = pcb_table_create(retire_now, NULL);
                uint64_t rng = 100 + k;
                unsigned steered_off = 0;

                assert_non_null(t);
                steer_net_init(&n, nq[k], true, true);
                for (unsigned i = 0; i < 400; i++) {
                        struct rx_tuple rt;
                        struct port_flow f;
                        struct pcb_ent e;
                        struct rx_steer st;
                        unsigned target = 1 + i % nq[k];
                        int p, q;

                        steer_rand_tuple(&rt, &rng, i % 2 ? 6 : 4,
                                         i % 3 ? MPNET_IPPROTO_UDP : MPNET_IPPROTO_TCP);
                        /* rt as sent by us: laddr = its daddr, faddr = saddr. */
                        memcpy(f.laddr, rt.daddr, 16);
                        memcpy(f.faddr, rt.saddr, 16);
                        f.fport = rt.sport;
                        f.proto = rt.proto;
                        assert_int_equal(stack_rx_steer(n.s, n.ifindex, target, &st), 0);
                        ent_init(&e, &so[0], rt.fam == 4 ? PCB_FAM4 : PCB_FAM6, f.laddr);
                        p = port_pick_peek(&pp, &f, &st, t, &e);
                        assert_true(p >= PORT_EPH_LO && p <= PORT_EPH_HI);
                        reply_tuple(&rt, &f, (uint16_t)p);
                        q = steer_wire_queue(&n, &rt);
                        assert_int_equal(q + 1, target);
                        assert_int_equal(stack_rx_ctx(n.s, n.ifindex, &rt), (int)target);
                        /* Unsteered, a port lands anywhere. */
                        p = port_pick_peek(&pp, &f, NULL, t, &e);
                        reply_tuple(&rt, &f, (uint16_t)p);
                        steered_off += steer_wire_queue(&n, &rt) + 1 != (int)target;
                }
                /* Without steering about (n - 1) / n miss the target. */
                if (nq[k] > 1)
                        assert_true(steered_off > 400 / nq[k] / 2);
                else
                        assert_int_equal(steered_off, 0);
                steer_net_fini(&n);
                pcb_table_destroy(t);
        }
}

static void flow4(struct port_flow *f, uint8_t a, uint16_t fport)
{
        static const uint8_t m[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        memset(f, 0, sizeof(*f));
        memcpy(f->laddr, m, 12);
        memcpy(f->faddr, m, 12);
        f->laddr[12] = 192, f->laddr[13] = 0, f->laddr[14] = 2, f->laddr[15] = 1;
        f->faddr[12] = 203, f->faddr[13] = 0, f->faddr[14] = 113, f->faddr[15] = a;
        f->fport = fport;
        f->proto = MPNET_IPPROTO_UDP;
}

/* RFC 6056 goals: ports of one peer not sequential and never repeated
 * while bound; ports of many peers spread over the range; another secret,
 * other ports. */
static void test_port_spread(void **state)
{
        static struct port_picker pa, pb;
        static struct mpnet_sock so[600];
        struct pcb_table *t = pcb_table_create(retire_now, NULL);
        unsigned step1 = 0, same = 0, bucket[16] = {0};
        struct port_flow f;
        struct pcb_ent e;
        int prev = -1;

        (void)state;
        assert_non_null(t);
        port_picker_init(&pa, secret_a);
        port_picker_init(&pb, secret_b);
        flow4(&f, 7, 53);
        for (unsigned i = 0; i < 600; i++) {
                int p;

                ent_init(&e, &so[i], PCB_FAM4, f.laddr);
                p = port_pick(&pa, &f, NULL, t, &e);
                assert_true(p >= PORT_EPH_LO && p <= PORT_EPH_HI);
                assert_int_equal(pcb_set_get(t, (uint16_t)p)->e[0].so, &so[i]);
                if (prev >= 0 && p == prev + 1)
                        step1++;
                prev = p;
        }
        /* Consecutive only when the random increment is 0 (1 in 16). */
        assert_true(step1 < 600 / 8);
        pcb_table_destroy(t);
        t = pcb_table_create(retire_now, NULL);
        assert_non_null(t);
        for (unsigned i = 0; i < 4096; i++) {
                int p, q;

                flow4(&f, (uint8_t)(1 + i % 200), (uint16_t)(1000 + i));
                ent_init(&e, &so[0], PCB_FAM4, f.laddr);
                p = port_pick_peek(&pa, &f, NULL, t, &e);
                q = port_pick_peek(&pb, &f, NULL, t, &e);
                same += p == q;
                bucket[(p - PORT_EPH_LO) / 1024]++;
        }
        for (unsigned b = 0; b < 16; b++)
                assert_true(bucket[b] > 256 / 2 && bucket[b] < 256 * 3 / 2);
        assert_true(same < 4096 / 100);
        pcb_table_destroy(t);
}

/* A configured range is kept; a full one ends in -EADDRNOTAVAIL, steered
 * or not. */
static void test_port_exhausted(void **state)
{
        static struct port_picker pp;
        static struct mpnet_sock so[64];
        struct pcb_table *t = pcb_table_create(retire_now, NULL);
        struct steer_net n;
        struct rx_steer st;
        struct port_flow f;
        struct pcb_ent e;
        unsigned got = 0;
        int p;

        (void)state;
        assert_non_null(t);
        port_picker_init(&pp, secret_a);
        assert_int_equal(port_range_set(&pp, 0, 10), -EINVAL);
        assert_int_equal(port_range_set(&pp, 20, 10), -EINVAL);
        assert_int_equal(port_range_set(&pp, 40000, 40009), 0);
        flow4(&f, 9, 443);
        for (unsigned i = 0; i < 10; i++) {
                ent_init(&e, &so[i], PCB_FAM4, f.laddr);
                p = port_pick(&pp, &f, NULL, t, &e);
                assert_true(p >= 40000 && p <= 40009);
        }
        ent_init(&e, &so[10], PCB_FAM4, f.laddr);
        assert_int_equal(port_pick(&pp, &f, NULL, t, &e), -EADDRNOTAVAIL);
        pcb_table_destroy(t);
        /* Steered to one of 4 queues: about a quarter of 64 ports fit. */
        t = pcb_table_create(retire_now, NULL);
        assert_non_null(t);
        steer_net_init(&n, 4, true, true);
        assert_int_equal(port_range_set(&pp, 40000, 40063), 0);
        assert_int_equal(stack_rx_steer(n.s, n.ifindex, 3, &st), 0);
        for (;;) {
                struct rx_tuple rt;

                ent_init(&e, &so[got], PCB_FAM4, f.laddr);
                p = port_pick(&pp, &f, &st, t, &e);
                if (p < 0)
                        break;
                reply_tuple(&rt, &f, (uint16_t)p);
                assert_int_equal(steer_wire_queue(&n, &rt), 2);
                got++;
        }
        assert_int_equal(p, -EADDRNOTAVAIL);
        assert_true(got > 0 && got < 64);
        /* A context that polls nothing cannot be steered to. */
        assert_int_equal(mpnet_runtime_unassign(n.rt, n.s, n.ifindex, 2), 0);
        assert_int_equal(stack_rx_steer(n.s, n.ifindex, 3, &st), -ESRCH);
        steer_net_fini(&n);
        pcb_table_destroy(t);
}

/* An SO_REUSEPORT group of one socket per worker: each flow goes to the
 * member homed on the worker whose queue its frame reaches. */
static void test_reuseport_group(void **state)
{
        static struct mpnet_sock so[4];
        struct pcb_table *t = pcb_table_create(retire_now, NULL);
        struct steer_net n;
        uint64_t rng = 77;

        (void)state;
        assert_non_null(t);
        steer_net_init(&n, 4, true, true);
        for (unsigned i = 0; i < 4; i++) {
                struct pcb_ent e;

                ent_init(&e, &so[i], PCB_FAM4, NULL);
                e.flags = PCB_F_REUSEPORT;
                e.home = (uint8_t)(i + 1);
                so[i].id = (int)i + 1;
                assert_int_equal(pcb_bind(t, 5353, &e), 0);
        }
        for (unsigned i = 0; i < 500; i++) {
                struct rx_tuple rt;
                struct pcb_key k = {.fam = 4, .ifindex = (uint8_t)n.ifindex};
                struct mpnet_sock *got;
                int q;

                steer_rand_tuple(&rt, &rng, 4, MPNET_IPPROTO_UDP);
                rt.dport = 5353;
                q = steer_wire_queue(&n, &rt);
                k.sport = rt.sport;
                k.dport = rt.dport;
                memcpy(k.saddr, rt.saddr, 16);
                memcpy(k.daddr, rt.daddr, 16);
                got = port_flow_sock(n.s, t, &k, MPNET_IPPROTO_UDP, (uint32_t)rng);
                assert_non_null(got);
                assert_int_equal(got->id, q + 1);
                /* What the receiving context's lookup gives. */
                assert_ptr_equal(pcb_lookup(t, &k, (unsigned)q + 1, (uint32_t)(rng >> 7)), got);
        }
        steer_net_fini(&n);
        pcb_table_destroy(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_siphash_vectors), cmocka_unit_test(test_siphash_words),
            cmocka_unit_test(test_siphash13_words), cmocka_unit_test(test_link_rss),
            cmocka_unit_test(test_rx_ctx),          cmocka_unit_test(test_rx_ctx_no_rss),
            cmocka_unit_test(test_port_steered),    cmocka_unit_test(test_port_spread),
            cmocka_unit_test(test_port_exhausted),  cmocka_unit_test(test_reuseport_group),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
