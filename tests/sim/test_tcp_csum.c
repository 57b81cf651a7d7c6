/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's checksums and a memory wire's offload (csum_offload), on the
 * virtual clock, a stack on one end of a wire and the test on the other:
 *
 * - out: without the offload every segment leaves with its checksum
 *   filled; with it, a SYN (a segment without payload) leaves flagged
 *   MPNET_PKT_F_L4_CSUM_TX with the pseudo-header sum in its field, which
 *   the link layer's software (pkt_l4_csum_fill) turns into the right sum;
 * - in: a SYN with a bad checksum is dropped and counted (tcp_bad_csum)
 *   on a wire without the offload, and taken (answered with a SYN-ACK) on
 *   one with it, whose mark says the link verified it.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/link.h"
#include "mpnet/socket.h"
#include "mpnet/wire/checksum.h"
#include "mpnet/wire/tcp.h"
#include "l2/ether.h"
#include "testutil.h"

#define PORT 80
#define L4   (14 + 20) /* Ethernet and IPv4 headers, no options */

struct side {
        struct mpnet_link *st_end, *raw; /* the stack's end, the test's */
        struct mpnet_stack *st;
};

static struct mpnet_clock clk;
static struct mpnet_pool *pool;

/* A stack with addr on one end of a wire (offload or not), peer's
 * neighbour entry naming the test's end. */
static void side_up(struct side *x, const char *name, bool offload, uint32_t addr, uint32_t peer)
{
        struct mpnet_memwire_cfg wc = {.name = name, .csum_offload = offload};
        struct mpnet_stack_cfg sc = {.name = name, .clock = &clk, .pool = pool, .seed = 1};

        assert_int_equal(mpnet_memwire_create(&wc, &x->st_end, &x->raw), 0);
        x->st = mpnet_stack_create(&sc);
        assert_non_null(x->st);
        assert_int_equal(mpnet_iface_attach(x->st, x->st_end, name), 1);
        assert_int_equal(mpnet_addr4_add(x->st, 1, addr, 24), 0);
        assert_int_equal(mpnet_neigh4_add(x->st, 1, peer, x->raw->info.mac), 0);
}

static void side_down(struct side *x)
{
        mpnet_stack_destroy(x->st);
        mpnet_link_destroy(x->st_end);
        mpnet_link_destroy(x->raw);
}

static void setup_all(void)
{
        mpnet_clock_init_virtual(&clk, MPNET_NS_PER_S);
        pool = mpnet_pool_create("csum", 1024);
        assert_non_null(pool);
}

static void teardown_all(void)
{
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        mpnet_pool_destroy(pool);
}

/* The first IPv4 TCP frame the stack sent, after a poll, or NULL (what
 * else it sent, neighbour discovery, goes). */
static struct mpnet_pkt *take(struct side *x)
{
        struct mpnet_pkt *p = NULL;

        mpnet_stack_poll(x->st, mpnet_clock_now(&clk));
        while (mpnet_link_rx_burst(x->raw, 0, &p, 1) == 1) {
                if (p->len > L4 + 20 && mpnet_get_be16(p->data + 12) == 0x0800 &&
                    p->data[14 + 9] == 6)
                        return p;
                mpnet_pkt_free(p);
        }
        return NULL;
}

/* The TCP checksum of an IPv4 frame (single buffer) checks. */
static bool tcp_sum_ok(const struct mpnet_pkt *p)
{
        const uint8_t *ip = p->data + 14;
        uint16_t n = (uint16_t)(p->len - L4);
        uint64_t sum = mpnet_tcp4_pseudo(mpnet_get_be32(ip + 12), mpnet_get_be32(ip + 16), n);

        return mpnet_csum_fold(mpnet_csum_add(sum, p->data + L4, n)) == 0;
}

/* A's SYN to B_ADDR:PORT, taken from the test's end. */
static struct mpnet_pkt *syn_from(struct side *a)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        int fd = mpnet_socket(a->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct mpnet_pkt *p;

        to.sin_addr.s_addr = htonl(B_ADDR);
        assert_true(fd >= 0);
        assert_int_equal(mpnet_connect(a->st, fd, (struct sockaddr *)&to, sizeof(to)),
                         -EINPROGRESS);
        p = take(a);
        assert_non_null(p);
        assert_int_equal(p->data[L4 + 13], 0x02); /* SYN */
        return p;
}

static void out_filled(void **state)
{
        struct side a;
        struct mpnet_pkt *p;

        (void)state;
        side_up(&a, "a", false, A_ADDR, B_ADDR);
        p = syn_from(&a);
        assert_false(p->ol_flags & MPNET_PKT_F_L4_CSUM_TX);
        assert_true(tcp_sum_ok(p));
        mpnet_pkt_free(p);
        side_down(&a);
}

static void out_offloaded(void **state)
{
        struct side a;
        struct mpnet_pkt *p;
        uint16_t field;

        (void)state;
        side_up(&a, "a", true, A_ADDR, B_ADDR);
        p = syn_from(&a);
        /* Left to the link: the field holds the pseudo-header sum. */
        assert_true(p->ol_flags & MPNET_PKT_F_L4_CSUM_TX);
        assert_true(p->ol_flags & MPNET_PKT_F_L4_CSUM_OK); /* the wire's mark */
        field = mpnet_get_be16(p->data + L4 + 16);
        assert_int_equal(field, (uint16_t)~mpnet_csum_fold(
                                    mpnet_tcp4_pseudo(A_ADDR, B_ADDR, (uint16_t)(p->len - L4))));
        assert_false(tcp_sum_ok(p));
        /* What a link without the offer gets from the link layer. */
        pkt_l4_csum_fill(p);
        assert_false(p->ol_flags & MPNET_PKT_F_L4_CSUM_TX);
        assert_true(tcp_sum_ok(p));
        mpnet_pkt_free(p);
        side_down(&a);
}

/* A SYN with its window changed after its checksum, into B's listener on
 * a wire with or without the offload: @return what came back (NULL:
 * nothing). */
static struct mpnet_pkt *bad_syn_to(bool offload, uint64_t *bad)
{
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        struct side a, b;
        struct mpnet_pkt *p, *back;
        int lfd;

        side_up(&a, "a", false, A_ADDR, B_ADDR);
        side_up(&b, "b", offload, B_ADDR, A_ADDR);
        lfd = mpnet_socket(b.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_int_equal(mpnet_bind(b.st, lfd, (struct sockaddr *)&me, sizeof(me)), 0);
        assert_int_equal(mpnet_listen(b.st, lfd, 8), 0);
        p = syn_from(&a);
        assert_true(tcp_sum_ok(p));
        memcpy(p->data, b.st_end->info.mac, 6);
        p->data[L4 + 14] ^= 0x5a; /* the window */
        assert_false(tcp_sum_ok(p));
        assert_int_equal(mpnet_link_tx_burst(b.raw, 0, &p, 1), 1);
        back = take(&b);
        *bad = stk_ctr(b.st, "tcp_bad_csum");
        side_down(&a);
        side_down(&b);
        return back;
}

static void in_bad_dropped(void **state)
{
        uint64_t bad;

        (void)state;
        assert_null(bad_syn_to(false, &bad));
        assert_int_equal(bad, 1);
}

static void in_offload_trusted(void **state)
{
        struct mpnet_pkt *back;
        uint64_t bad;

        (void)state;
        back = bad_syn_to(true, &bad);
        assert_non_null(back);
        assert_int_equal(back->data[L4 + 13], 0x12); /* SYN-ACK */
        assert_int_equal(bad, 0);
        mpnet_pkt_free(back);
}

static int group_setup(void **state)
{
        (void)state;
        setup_all();
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        teardown_all();
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(out_filled),
            cmocka_unit_test(out_offloaded),
            cmocka_unit_test(in_bad_dropped),
            cmocka_unit_test(in_offload_trusted),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
