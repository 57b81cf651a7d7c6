/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a context keeps for short connections (l4/tcp_data.c), on the
 * virtual clock over a memory wire:
 *
 * - ring blocks: a connection's first receive ring block comes back to
 *   its home context when it enters TIME_WAIT or ends (the send buffer's
 *   chunks are malloc'd: a receiver may hold them past the end), at most TCP_RING_CACHE of
 *   them; the next connections take them (the cache shrinks), and the
 *   context frees what is left when the stack goes (ASan's leak check);
 * - the TIME_WAIT queue: every TIME_WAIT connection is on its context's
 *   queue, in the order of its end, and leaves the table at that end, also
 *   when the MSL was shortened between two closes (a later close that ends
 *   first);
 * - freed objects (l4/tcp_cache.c, sockets in l4/socket.c): a connection
 *   that ends gives back its connection, data state and SACK scoreboard, an
 *   orphan in TIME_WAIT its data state and scoreboard (it keeps the
 *   connection alone), a closed socket itself; the next
 *   connections take them (the caches' hits grow, their sizes do not), at
 *   most TCP_CACHE_MAX of each are kept, and the stack frees them (ASan).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "stack/stack_priv.h"
#include "testutil.h"

#define PORT  80
#define MANY  40u /* more than TCP_RING_CACHE: a receive ring of each */
#define PORT0 1024u
#define LOTS  (TCP_CACHE_MAX + 6u) /* more connections than a cache keeps */

static void poll2(struct net2 *n)
{
        for (int i = 0; i < 2; i++)
                mpnet_stack_poll(n->st[i], mpnet_clock_now(&n->clk));
}

static struct tcp_ctx *tctx(struct net2 *n, int i)
{
        return n->st[i]->ctx[0]->mctx[MOD_tcp];
}

static unsigned tw_len(struct net2 *n, int i)
{
        const struct tcp_twq *h = &tctx(n, i)->tw;
        unsigned k = 0;

        for (const struct tcp_twq *q = h->next; q != NULL && q != h; q = q->next)
                k++;
        return k;
}

static uint64_t conns(struct net2 *n, int i)
{
        struct mpnet_tcp_mem m;

        assert_int_equal(mpnet_tcp_mem(n->st[i], &m), 0);
        return m.conns;
}

static int listener(struct net2 *n)
{
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        int lfd = mpnet_socket(n->st[1], AF_INET, SOCK_STREAM, 0);

        assert_int_equal(mpnet_bind(n->st[1], lfd, (struct sockaddr *)&me, sizeof(me)), 0);
        assert_int_equal(mpnet_listen(n->st[1], lfd, 128), 0);
        return lfd;
}

static void net_up(struct net2 *n)
{
        net2_init(n, NULL, NULL);
        assert_int_equal(mpnet_neigh4_add(n->st[0], 1, B_ADDR, n->lb->info.mac), 0);
        assert_int_equal(mpnet_neigh4_add(n->st[1], 1, A_ADDR, n->la->info.mac), 0);
        tcp_state_of(n->st[0])->msl_ns = MPNET_NS_PER_S;
        tcp_state_of(n->st[1])->msl_ns = MPNET_NS_PER_S;
}

/* A connects from port to B's listener: @return B's socket, *fa A's. */
static int open1(struct net2 *n, int lfd, unsigned port, int *fa)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int fb = -1;

        to.sin_addr.s_addr = htonl(B_ADDR);
        me.sin_addr.s_addr = htonl(A_ADDR);
        *fa = mpnet_socket(n->st[0], AF_INET, SOCK_STREAM, 0);
        assert_true(*fa >= 0);
        assert_int_equal(mpnet_bind(n->st[0], *fa, (struct sockaddr *)&me, sizeof(me)), 0);
        assert_int_equal(mpnet_connect(n->st[0], *fa, (struct sockaddr *)&to, sizeof(to)),
                         -EINPROGRESS);
        for (int i = 0; i < 20 && fb < 0; i++) {
                poll2(n);
                fb = mpnet_accept(n->st[1], lfd, NULL, NULL, 0);
        }
        assert_true(fb >= 0);
        return fb;
}

/* One byte each way: both ends get both rings. */
static void ping(struct net2 *n, int fa, int fb)
{
        uint8_t c = 0;
        ssize_t k = -1;

        assert_int_equal(mpnet_sendto(n->st[0], fa, "q", 1, 0, NULL, 0), 1);
        for (int i = 0; i < 10 && k != 1; i++) {
                poll2(n);
                k = mpnet_recvfrom(n->st[1], fb, &c, 1, 0, NULL, NULL);
        }
        assert_int_equal(k, 1);
        assert_int_equal(mpnet_sendto(n->st[1], fb, "r", 1, 0, NULL, 0), 1);
        k = -1;
        for (int i = 0; i < 10 && k != 1; i++) {
                poll2(n);
                k = mpnet_recvfrom(n->st[0], fa, &c, 1, 0, NULL, NULL);
        }
        assert_int_equal(k, 1);
}

/* A closes first (TIME_WAIT), B after A's FIN (LAST_ACK, then gone). */
static void close2(struct net2 *n, int fa, int fb)
{
        assert_int_equal(mpnet_close(n->st[0], fa), 0);
        poll2(n);
        poll2(n);
        assert_int_equal(mpnet_close(n->st[1], fb), 0);
        for (int i = 0; i < 4; i++)
                poll2(n);
}

static void ring_cache(void **state)
{
        int fa[MANY], fb[MANY], lfd;
        struct net2 n;

        (void)state;
        net_up(&n);
        lfd = listener(&n);
        /* One at a time: each connection takes the block the one before
         * gave back (TIME_WAIT on A, the end on B), so the caches never
         * grow past it. */
        for (unsigned i = 0; i < 8; i++) {
                fb[0] = open1(&n, lfd, PORT0 + i, &fa[0]);
                ping(&n, fa[0], fb[0]);
                close2(&n, fa[0], fb[0]);
                assert_int_equal(tctx(&n, 0)->n_ring_cache, 1);
                assert_int_equal(tctx(&n, 1)->n_ring_cache, 1);
        }
        assert_int_equal(conns(&n, 0), 8); /* in TIME_WAIT */
        assert_int_equal(conns(&n, 1), 0);
        /* Many at once: what they give back stops at the bound ... */
        for (unsigned i = 0; i < MANY; i++) {
                fb[i] = open1(&n, lfd, PORT0 + 100 + i, &fa[i]);
                ping(&n, fa[i], fb[i]);
        }
        assert_int_equal(tctx(&n, 0)->n_ring_cache, 0);
        for (unsigned i = 0; i < MANY; i++)
                close2(&n, fa[i], fb[i]);
        assert_int_equal(tctx(&n, 0)->n_ring_cache, TCP_RING_CACHE);
        assert_int_equal(tctx(&n, 1)->n_ring_cache, TCP_RING_CACHE);
        /* ... and the next connections take from it. */
        for (unsigned i = 0; i < 4; i++) {
                fb[i] = open1(&n, lfd, PORT0 + 200 + i, &fa[i]);
                ping(&n, fa[i], fb[i]);
        }
        assert_int_equal(tctx(&n, 0)->n_ring_cache, TCP_RING_CACHE - 4);
        assert_int_equal(tctx(&n, 1)->n_ring_cache, TCP_RING_CACHE - 4);
        mpnet_close(n.st[1], lfd);
        /* Open connections and full caches: the stacks free both (ASan). */
        net2_fini(&n);
}

static void tw_queue(void **state)
{
        int fa, fb, lfd;
        struct net2 n;

        (void)state;
        net_up(&n);
        lfd = listener(&n);
        for (unsigned i = 0; i < 5; i++) {
                fb = open1(&n, lfd, PORT0 + i, &fa);
                ping(&n, fa, fb);
                close2(&n, fa, fb);
        }
        assert_int_equal(tw_len(&n, 0), 5);
        assert_int_equal(conns(&n, 0), 5);
        assert_int_equal(tw_len(&n, 1), 0);
        net2_run(&n, 3 * MPNET_NS_PER_S); /* past 2 MSL */
        assert_int_equal(tw_len(&n, 0), 0);
        assert_int_equal(conns(&n, 0), 0);

        /* A long TIME_WAIT, then a short one: the short one ends first. */
        tcp_state_of(n.st[0])->msl_ns = 10 * MPNET_NS_PER_S;
        fb = open1(&n, lfd, PORT0 + 10, &fa);
        close2(&n, fa, fb);
        tcp_state_of(n.st[0])->msl_ns = MPNET_NS_PER_S;
        fb = open1(&n, lfd, PORT0 + 11, &fa);
        close2(&n, fa, fb);
        assert_int_equal(tw_len(&n, 0), 2);
        net2_run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(tw_len(&n, 0), 1);
        assert_int_equal(conns(&n, 0), 1);
        net2_run(&n, 20 * MPNET_NS_PER_S);
        assert_int_equal(tw_len(&n, 0), 0);
        assert_int_equal(conns(&n, 0), 0);
        mpnet_close(n.st[1], lfd);
        net2_fini(&n);
}

static const struct tcp_cache *tcache(struct net2 *n, int i)
{
        return &tcp_state_of(n->st[i])->cache;
}

static void obj_cache(void **state)
{
        static int fa[LOTS], fb[LOTS];
        uint64_t hits, hits0;
        struct net2 n;
        int lfd;

        (void)state;
        net_up(&n);
        lfd = listener(&n);
        fb[0] = open1(&n, lfd, PORT0, &fa[0]);
        ping(&n, fa[0], fb[0]);
        close2(&n, fa[0], fb[0]);
        /* B's connection ended: its three objects; A's is in TIME_WAIT,
         * its socket closed: its data state and scoreboard. Both closed
         * sockets. */
        assert_int_equal(tcache(&n, 1)->n[TCP_CACHE_CONN], 1);
        assert_int_equal(tcache(&n, 1)->n[TCP_CACHE_DATA], 1);
        assert_int_equal(tcache(&n, 1)->n[TCP_CACHE_SACK], 1);
        assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_CONN], 0);
        assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_DATA], 1);
        assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_SACK], 1);
        assert_int_equal(sock_cache_len(n.st[0]), 1);
        assert_int_equal(sock_cache_len(n.st[1]), 1);
        /* The next connections reuse them: the caches do not grow. */
        hits = tcache(&n, 1)->hits;
        hits0 = tcache(&n, 0)->hits;
        for (unsigned i = 1; i < 6; i++) {
                fb[0] = open1(&n, lfd, PORT0 + i, &fa[0]);
                ping(&n, fa[0], fb[0]);
                close2(&n, fa[0], fb[0]);
                assert_int_equal(tcache(&n, 1)->n[TCP_CACHE_CONN], 1);
                assert_int_equal(tcache(&n, 1)->n[TCP_CACHE_DATA], 1);
                assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_DATA], 1);
                assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_SACK], 1);
                assert_int_equal(sock_cache_len(n.st[0]), 1);
                assert_int_equal(sock_cache_len(n.st[1]), 1);
        }
        assert_int_equal(tcache(&n, 1)->hits - hits, 5 * 3);
        assert_int_equal(tcache(&n, 0)->hits - hits0, 5 * 2); /* data state, scoreboard */
        assert_int_equal(conns(&n, 0), 6);                    /* in TIME_WAIT */
        /* More at once than a cache keeps: the rest is freed. */
        for (unsigned i = 0; i < LOTS; i++) {
                fb[i] = open1(&n, lfd, PORT0 + 100 + i, &fa[i]);
                ping(&n, fa[i], fb[i]);
        }
        for (unsigned i = 0; i < LOTS; i++)
                close2(&n, fa[i], fb[i]);
        for (unsigned k = 0; k < TCP_CACHE_KINDS; k++)
                assert_int_equal(tcache(&n, 1)->n[k], TCP_CACHE_MAX);
        assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_DATA], TCP_CACHE_MAX);
        assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_SACK], TCP_CACHE_MAX);
        assert_int_equal(sock_cache_len(n.st[0]), TCP_CACHE_MAX);
        assert_int_equal(sock_cache_len(n.st[1]), TCP_CACHE_MAX);
        /* The TIME_WAIT connections end: A's cache fills too. */
        net2_run(&n, 3 * MPNET_NS_PER_S);
        assert_int_equal(conns(&n, 0), 0);
        assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_CONN], TCP_CACHE_MAX);
        assert_int_equal(tcache(&n, 0)->n[TCP_CACHE_DATA], TCP_CACHE_MAX);
        mpnet_close(n.st[1], lfd);
        /* Full caches: the stacks free them (ASan's leak check). */
        net2_fini(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(ring_cache),
            cmocka_unit_test(tw_queue),
            cmocka_unit_test(obj_cache),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
