/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's ephemeral port (l4/tcp_home.c, RFC 6056 Algorithm 4 through
 * l4/port.h): for a socket homed on a worker, the port picked for a peer
 * is one whose reply segments the link's RSS gives to a queue that worker
 * polls (the frame sent through the wire lands there), it is bound in
 * TCP's PCB table (the next pick for the same peer differs), and ports of
 * one peer are not consecutive. tcp_flow_home() names the context the
 * wire really delivers a flow to.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "l4/port.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "mpnet/socket.h"
#include "mpnet/wire/ipv4.h"
#include "steerutil.h"

#define N_Q   4
#define LOCAL 0xc6120001u /* 198.18.0.1/15 */

static void v4(uint8_t a[16], uint32_t x)
{
        memset(a, 0, 16);
        a[10] = a[11] = 0xff;
        a[12] = (uint8_t)(x >> 24);
        a[13] = (uint8_t)(x >> 16);
        a[14] = (uint8_t)(x >> 8);
        a[15] = (uint8_t)x;
}

/* The reply flow of (local, lport) -> (peer, fport) as received. */
static void reply(struct rx_tuple *t, uint32_t peer, uint16_t fport, uint16_t lport)
{
        memset(t, 0, sizeof(*t));
        t->fam = 4;
        t->proto = MPNET_IPPROTO_TCP;
        t->sport = fport;
        t->dport = lport;
        v4(t->saddr, peer);
        v4(t->daddr, LOCAL);
}

static struct mpnet_sock *homed_sock(struct steer_net *n, int home, int *fd)
{
        *fd = mpnet_socket(n->s, AF_INET, SOCK_STREAM, 0);
        assert_true(*fd >= 0);
        assert_int_equal(mpnet_setsockopt(n->s, *fd, SOL_MPNET, MPNET_SO_HOME, &home, sizeof(home)),
                         0);
        return sock_get(n->s, *fd);
}

static void test_port_steered_home(void **state)
{
        struct steer_net n;
        uint8_t l[16], f[16];
        unsigned consecutive = 0;

        (void)state;
        steer_net_init(&n, N_Q, true, true);
        assert_int_equal(mpnet_addr4_add(n.s, n.ifindex, LOCAL, 15), 0);
        v4(l, LOCAL);
        for (unsigned i = 0; i < 200; i++) {
                int home = 1 + (int)(i % N_Q), fd, p, p2;
                uint32_t peer = 0xc6130000u + 1 + i; /* 198.19.0.x, on the link */
                uint16_t fport = (uint16_t)(1000 + i * 7);
                struct mpnet_sock *so = homed_sock(&n, home, &fd);
                struct rx_tuple rt;

                v4(f, peer);
                p = tcp_port_pick_steered(n.s, so, l, f, fport);
                assert_true(p >= PORT_EPH_LO && p <= PORT_EPH_HI);
                reply(&rt, peer, fport, (uint16_t)p);
                assert_int_equal(steer_wire_queue(&n, &rt) + 1, home);
                assert_int_equal(tcp_flow_home(n.s, 0, l, (uint16_t)p, f, fport), (unsigned)home);
                /* Bound: a second socket of the same home gets another. */
                {
                        int fd2;
                        struct mpnet_sock *so2 = homed_sock(&n, home, &fd2);

                        p2 = tcp_port_pick_steered(n.s, so2, l, f, fport);
                        assert_true(p2 != p);
                        reply(&rt, peer, fport, (uint16_t)p2);
                        assert_int_equal(steer_wire_queue(&n, &rt) + 1, home);
                        consecutive += p2 == p + 1 || p2 == p - 1;
                        so2->lport = (uint16_t)p2;
                        so2->flags |= SOF_BOUND;
                        /* No worker runs: close on this thread. */
                        atomic_store(&so2->home, 0);
                        assert_int_equal(mpnet_close(n.s, fd2), 0);
                }
                so->lport = (uint16_t)p;
                so->flags |= SOF_BOUND;
                atomic_store(&so->home, 0);
                assert_int_equal(mpnet_close(n.s, fd), 0);
        }
        /* RFC 6056 3.3.4 with random increments: not a counter. */
        assert_true(consecutive < 20);
        steer_net_fini(&n);
}

/* Without a peer (listen, bind to port 0): any port of the range, bound. */
static void test_port_unsteered(void **state)
{
        struct steer_net n;
        static const uint8_t none[16];
        int fd[64];
        uint8_t used[65536 / 8] = {0};

        (void)state;
        steer_net_init(&n, N_Q, true, true);
        for (unsigned i = 0; i < 64; i++) {
                struct mpnet_sock *so = homed_sock(&n, 0, &fd[i]);
                int p = tcp_port_pick_steered(n.s, so, none, none, 0);

                assert_true(p >= PORT_EPH_LO && p <= PORT_EPH_HI);
                assert_false(used[p / 8] & (1 << (p % 8)));
                used[p / 8] |= (uint8_t)(1 << (p % 8));
                so->lport = (uint16_t)p;
                so->flags |= SOF_BOUND;
        }
        for (unsigned i = 0; i < 64; i++)
                assert_int_equal(mpnet_close(n.s, fd[i]), 0);
        steer_net_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_port_steered_home),
            cmocka_unit_test(test_port_unsteered),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
