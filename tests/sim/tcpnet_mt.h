/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fixture of the multi-threaded TCP tests (test_tcp_mt,
 * test_tcp_front_mt):
 *
 *   A (198.18.0.1, 2001:db8::1) --RSS memory wire, 2 queues each way--
 *   B (198.18.0.2, 2001:db8::2)
 *
 * on the monotonic clock, with static neighbours and a TIME_WAIT of 100 ms.
 * One runtime of 2 workers: worker q polls queue q of both stacks (context
 * q + 1 in each); the test's thread is the control thread.
 */
#ifndef MPNET_TEST_TCPNET_MT_H
#define MPNET_TEST_TCPNET_MT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "mpnet/ip6.h"
#include "l4/tcp.h"
#include "mtnet.h"
#include "stack/stack_priv.h"
#include "ip6util.h"

#define T_A_ADDR  IP4(198, 18, 0, 1)
#define T_B_ADDR  IP4(198, 18, 0, 2)
#define TNET_PORT 5000

/* The family the sockets of a case use (IPv6: 2001:db8::1 is A's, ::2 B's). */
static int g_fam = 4;
/* Whether the case's wire offers TSO (super-segments, the receive queue). */
static bool g_tso;

struct tnet {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *la, *lb;
        struct mpnet_stack *a, *b;
        struct mpnet_runtime *rt;
};

static inline void tnet_init(struct tnet *n, uint64_t seed)
{
        struct mpnet_memwire_cfg wc = {
            .n_queues = 2, .rss = true, .ring_size = 1024, .csum_offload = g_tso, .tso = g_tso};
        struct mpnet_runtime_cfg rc = {.n_workers = 2};
        struct mpnet_stack_cfg sc = {.seed = seed};

        memset(n, 0, sizeof(*n));
        mpnet_clock_init_monotonic(&n->clk);
        n->pool = mpnet_pool_create("tnet", 32768);
        assert_non_null(n->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &n->la, &n->lb), 0);
        sc.clock = &n->clk;
        sc.pool = n->pool;
        sc.name = "A";
        n->a = mpnet_stack_create(&sc);
        sc.name = "B";
        sc.seed = seed + 1;
        n->b = mpnet_stack_create(&sc);
        assert_non_null(n->a);
        assert_non_null(n->b);
        assert_int_equal(mpnet_iface_attach(n->a, n->la, "a"), 1);
        assert_int_equal(mpnet_iface_attach(n->b, n->lb, "b"), 1);
        assert_int_equal(mpnet_addr4_add(n->a, 1, T_A_ADDR, 24), 0);
        assert_int_equal(mpnet_addr4_add(n->b, 1, T_B_ADDR, 24), 0);
        assert_int_equal(mpnet_neigh4_add(n->a, 1, T_B_ADDR, n->lb->info.mac), 0);
        assert_int_equal(mpnet_neigh4_add(n->b, 1, T_A_ADDR, n->la->info.mac), 0);
        assert_int_equal(mpnet_addr6_add(n->a, 1, A6("2001:db8::1"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_addr6_add(n->b, 1, A6("2001:db8::2"), 64, MPNET_ADDR6_F_NODAD), 0);
        assert_int_equal(mpnet_neigh6_add(n->a, 1, A6("2001:db8::2"), n->lb->info.mac), 0);
        assert_int_equal(mpnet_neigh6_add(n->b, 1, A6("2001:db8::1"), n->la->info.mac), 0);
        tcp_state_of(n->a)->msl_ns = 50 * MPNET_NS_PER_MS; /* TIME_WAIT: 100 ms */
        tcp_state_of(n->b)->msl_ns = 50 * MPNET_NS_PER_MS;
        n->rt = mpnet_runtime_create(&rc);
        assert_non_null(n->rt);
        for (unsigned q = 0; q < 2; q++) {
                assert_int_equal(mpnet_runtime_assign(n->rt, q, n->a, 1, (uint16_t)q), 0);
                assert_int_equal(mpnet_runtime_assign(n->rt, q, n->b, 1, (uint16_t)q), 0);
        }
        assert_int_equal(mpnet_runtime_start(n->rt), 0);
}

static inline void tnet_fini(struct tnet *n)
{
        mpnet_runtime_stop(n->rt);
        mpnet_runtime_destroy(n->rt);
        mpnet_stack_destroy(n->a);
        mpnet_stack_destroy(n->b);
        mpnet_link_destroy(n->la);
        mpnet_link_destroy(n->lb);
        assert_int_equal(mpnet_pool_in_use(n->pool), 0);
        mpnet_pool_destroy(n->pool);
}

static inline void poll_both(struct tnet *n)
{
        mpnet_stack_poll(n->a, mpnet_clock_now(&n->clk));
        mpnet_stack_poll(n->b, mpnet_clock_now(&n->clk));
}

static inline unsigned conns_left(struct mpnet_stack *s)
{
        struct tcp_conn_table *ct = &tcp_state_of(s)->ct;
        unsigned k;

        pthread_mutex_lock(&ct->lock);
        k = ct->n;
        pthread_mutex_unlock(&ct->lock);
        return k;
}

/* A's or B's address (by its IPv4 one) in g_fam, port TNET_PORT. */
static inline socklen_t sa_of(uint32_t v4, struct sockaddr_storage *ss)
{
        memset(ss, 0, sizeof(*ss));
        if (g_fam == 6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

                a->sin6_family = AF_INET6;
                a->sin6_port = htons(TNET_PORT);
                memcpy(&a->sin6_addr, A6(v4 == T_A_ADDR ? "2001:db8::1" : "2001:db8::2"), 16);
                return sizeof(*a);
        }
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons(TNET_PORT);
        ((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(v4);
        return sizeof(struct sockaddr_in);
}

/* xorshift32: the bytes of a test stream. */
static inline uint8_t next_byte(uint32_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 17;
        *x ^= *x << 5;
        return (uint8_t)*x;
}

#endif
