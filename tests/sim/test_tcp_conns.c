/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Many idle TCP connections in one stack (issue 16: at most 1 KiB per idle
 * connection without buffers): A opens CONNS connections to B's listener
 * over a memory wire on the virtual clock, B accepts them all, no byte
 * moves. B's own accounting (mpnet_tcp_mem) must hold the bound, with no
 * ring allocated; the connection table must have grown past its first
 * array (every handshake after that found its connection through the
 * resized chains); a byte each way on the first and the last connection
 * then allocates their rings and no other's, and the first one's close
 * leaves a TIME_WAIT that holds none. The table's miss filter (a count
 * of connections per slot, which lets a lookup with none in its slot skip
 * the SipHash and the walk) counts every connection, one less when one
 * goes: a handshake whose connection the filter lost would not complete.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "l4/tcp.h"
#include "testutil.h"

#define CONNS    20000u
#define BATCH    1000u
#define IDLE_MAX 1024u /* bytes per idle connection, buffers aside */
#define PORT0    1024u

static void poll2(struct net2 *n)
{
        for (int i = 0; i < 2; i++)
                mpnet_stack_poll(n->st[i], mpnet_clock_now(&n->clk));
}

/* All the miss filter's slots together, and how many are non-zero. */
static unsigned long filt_sum(struct mpnet_stack *s, unsigned *used)
{
        struct tcp_conn_table *ct = &tcp_state_of(s)->ct;
        unsigned long sum = 0;

        *used = 0;
        for (unsigned i = 0; i < TCP_CONN_FILT_N; i++) {
                unsigned v = atomic_load(&ct->filt[i]);

                sum += v;
                *used += v != 0;
        }
        return sum;
}

static void open_all(struct net2 *n, int lfd, int *fa, int *fb)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(80)};
        unsigned done = 0;

        to.sin_addr.s_addr = htonl(B_ADDR);
        while (done < CONNS) {
                unsigned got = 0;

                for (unsigned i = done; i < done + BATCH; i++) {
                        struct sockaddr_in me = {.sin_family = AF_INET,
                                                 .sin_port = htons((uint16_t)(PORT0 + i))};

                        me.sin_addr.s_addr = htonl(A_ADDR);
                        fa[i] = mpnet_socket(n->st[0], AF_INET, SOCK_STREAM, 0);
                        assert_true(fa[i] >= 0);
                        assert_int_equal(
                            mpnet_bind(n->st[0], fa[i], (struct sockaddr *)&me, sizeof(me)), 0);
                        assert_int_equal(
                            mpnet_connect(n->st[0], fa[i], (struct sockaddr *)&to, sizeof(to)),
                            -EINPROGRESS);
                }
                for (int spin = 0; spin < 100 && got < BATCH; spin++) {
                        int fd;

                        poll2(n);
                        while ((fd = mpnet_accept(n->st[1], lfd, NULL, NULL, 0)) >= 0)
                                fb[done + got++] = fd;
                }
                assert_int_equal(got, BATCH);
                done += BATCH;
        }
        poll2(n); /* the last handshake ACKs */
}

/* One byte from fa to fb and back. */
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
        assert_int_equal(c, 'q');
        assert_int_equal(mpnet_sendto(n->st[1], fb, "r", 1, 0, NULL, 0), 1);
        k = -1;
        for (int i = 0; i < 10 && k != 1; i++) {
                poll2(n);
                k = mpnet_recvfrom(n->st[0], fa, &c, 1, 0, NULL, NULL);
        }
        assert_int_equal(k, 1);
        assert_int_equal(c, 'r');
}

static void idle_conns(void **state)
{
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(80)};
        int *fa = calloc(CONNS, sizeof(int)), *fb = calloc(CONNS, sizeof(int)), lfd;
        struct mpnet_tcp_mem ma, mb, m2;
        struct tcp_conn_buckets *bk;
        struct net2 n;
        unsigned used;

        (void)state;
        assert_non_null(fa);
        assert_non_null(fb);
        net2_init(&n, NULL, NULL);
        assert_int_equal(mpnet_neigh4_add(n.st[0], 1, B_ADDR, n.lb->info.mac), 0);
        assert_int_equal(mpnet_neigh4_add(n.st[1], 1, A_ADDR, n.la->info.mac), 0);
        assert_int_equal(mpnet_tcp_mem(n.st[1], &mb), 0);
        assert_int_equal(mb.conns, 0);
        assert_int_equal(mb.conn_bytes, 0); /* no table before the first connection */
        lfd = mpnet_socket(n.st[1], AF_INET, SOCK_STREAM, 0);
        assert_int_equal(mpnet_bind(n.st[1], lfd, (struct sockaddr *)&me, sizeof(me)), 0);
        assert_int_equal(mpnet_listen(n.st[1], lfd, BATCH), 0);
        open_all(&n, lfd, fa, fb);

        assert_int_equal(mpnet_tcp_mem(n.st[0], &ma), 0);
        assert_int_equal(mpnet_tcp_mem(n.st[1], &mb), 0);
        assert_int_equal(mb.conns, CONNS);
        assert_int_equal(ma.conns, CONNS);
        assert_int_equal(mb.buf_bytes, 0);
        assert_int_equal(ma.buf_bytes, 0);
        print_message("idle connection: B %.0f bytes, A %.0f bytes (bound %u)\n",
                      (double)mb.conn_bytes / CONNS, (double)ma.conn_bytes / CONNS, IDLE_MAX);
        assert_true(mb.conn_bytes <= (uint64_t)CONNS * IDLE_MAX);
        assert_true(ma.conn_bytes <= (uint64_t)CONNS * IDLE_MAX);
        /* The table grew with them: at most one connection a chain on
         * average. */
        bk = tcp_conn_bk(&tcp_state_of(n.st[1])->ct);
        assert_non_null(bk);
        assert_true(bk->mask + 1 >= CONNS);
        /* The filter counts each connection once; its mix spreads them
         * (20,000 in 16,384 slots leave about e^-1.22, 30 %, empty). */
        assert_int_equal(filt_sum(n.st[1], &used), CONNS);
        assert_int_equal(filt_sum(n.st[0], &used), CONNS);
        assert_true(used > TCP_CONN_FILT_N / 2);
        assert_true(used < TCP_CONN_FILT_N);

        /* Data allocates the rings of the connections that carry it. */
        ping(&n, fa[0], fb[0]);
        ping(&n, fa[CONNS - 1], fb[CONNS - 1]);
        assert_int_equal(mpnet_tcp_mem(n.st[1], &m2), 0);
        assert_true(m2.buf_bytes > 0);
        assert_true(m2.buf_bytes <= 4u * (4u << 20));
        assert_int_equal(m2.conn_bytes, mb.conn_bytes);

        /* A closes first: its TIME_WAIT keeps the connection, not the
         * rings (the last connection's are all that is left). */
        assert_int_equal(mpnet_tcp_mem(n.st[0], &ma), 0);
        assert_true(ma.buf_bytes > 0);
        assert_int_equal(mpnet_close(n.st[0], fa[0]), 0);
        poll2(&n);
        poll2(&n);
        assert_int_equal(mpnet_close(n.st[1], fb[0]), 0);
        for (int i = 0; i < 4; i++)
                poll2(&n);
        assert_int_equal(mpnet_tcp_mem(n.st[0], &m2), 0);
        assert_int_equal(m2.conns, CONNS);
        assert_int_equal(m2.buf_bytes, ma.buf_bytes / 2);
        assert_int_equal(mpnet_tcp_mem(n.st[1], &m2), 0);
        assert_int_equal(m2.conns, CONNS - 1);
        assert_int_equal(filt_sum(n.st[1], &used), CONNS - 1);
        assert_int_equal(filt_sum(n.st[0], &used), CONNS); /* the TIME_WAIT */

        net2_fini(&n);
        free(fa);
        free(fb);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(idle_conns),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
