/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Two stacks, A (192.0.2.1, 2001:db8::1) and B (192.0.2.2, 2001:db8::2),
 * on a memory wire under the virtual clock, for the socket tests.
 */
#ifndef MPNET_TEST_SOCKNET_H
#define MPNET_TEST_SOCKNET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "ip6util.h"
#include "testutil.h"

struct net {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *st[2];
        struct mpnet_stack *a, *b;
};

static inline void net_run(struct net *n, uint64_t ns)
{
        sim_run_until(&n->clk, n->st, 2, mpnet_clock_now(&n->clk) + ns);
}

static int setup(void **state)
{
        struct net *n = calloc(1, sizeof(*n));
        struct mpnet_memwire_cfg wc = {.name = "sk"};

        mpnet_clock_init_virtual(&n->clk, MPNET_NS_PER_S);
        n->pool = mpnet_pool_create("sk", 4096);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->la, &n->lb), 0);
        n->a = n->st[0] = stack6_new(&n->clk, n->pool, "A", 1, false);
        n->b = n->st[1] = stack6_new(&n->clk, n->pool, "B", 2, false);
        assert_int_equal(mpnet_iface_attach(n->a, n->la, "a0"), 1);
        assert_int_equal(mpnet_iface_attach(n->b, n->lb, "b0"), 1);
        assert_int_equal(mpnet_addr4_add(n->a, 1, A_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->b, 1, B_ADDR, 24), 0);
        assert_int_equal(mpnet_addr6_add(n->a, 1, A6("2001:db8::1"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_addr6_add(n->b, 1, A6("2001:db8::2"), 64, MPNET_ADDR6_F_NODAD), 0);
        net_run(n, 15 * MPNET_NS_PER_S); /* past DAD and the solicitations */
        *state = n;
        return 0;
}

static int teardown(void **state)
{
        struct net *n = *state;

        mpnet_stack_destroy(n->a);
        mpnet_stack_destroy(n->b);
        link_drain(n->la);
        link_drain(n->lb);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
        free(n);
        return 0;
}

static inline struct sockaddr_in sin4(uint32_t a, uint16_t port)
{
        struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

        s.sin_addr.s_addr = htonl(a);
        return s;
}

static inline struct sockaddr_in6 sin6(const uint8_t *a, uint16_t port)
{
        struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

        memcpy(&s.sin6_addr, a, 16);
        return s;
}

#define SA(x) ((struct sockaddr *)&(x))

static inline uint16_t be16(const uint8_t *b)
{
        return (uint16_t)(b[0] << 8 | b[1]);
}

#endif
