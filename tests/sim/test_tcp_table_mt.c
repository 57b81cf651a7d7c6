/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TCP connection table grows under a reader (src/l4/tcp.h: lookups
 * take no lock; a resize relinks every entry, and a lookup that misses
 * while one runs retries). A worker receives a steady stream of segments
 * for KEEP connections that exist throughout, each found by its lookup
 * (every connection is the control thread's: the worker hands the
 * segment there, tcp_handoff, or counts it tcp_not_home when the hand-off
 * ring is full) or,
 * were a lookup to miss, answered as a closed port (tcp_no_conn); the
 * control thread meanwhile makes CHURN more connections (the chain array
 * doubles several times) and closes them all. No segment may miss its
 * connection; nothing may race (ThreadSanitizer) or touch a freed array
 * (AddressSanitizer).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "mpnet/thread.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/tcp.h"
#include "mpnet/worker.h"
#include "l4/tcp.h"
#include "testutil.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CHURN 12000u
#else
#define CHURN 40000u
#endif
#define KEEP      64u
#define KEEP_PORT 60000u
#define S_ADDR    IP4(192, 0, 2, 1)
#define X_ADDR    IP4(192, 0, 2, 9)
#define FRAME     (14 + 20 + 20)

struct mt {
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_link *g, *r; /* the generator's end, the stack's */
        struct mpnet_stack *s;
        struct mpnet_runtime *rt;
        uint8_t frames[KEEP][FRAME];
        atomic_bool stop;
        atomic_uint_fast64_t sent;
        pthread_t gen;
};

/* ACKs from X:80 to each kept connection's port. */
static void make_frames(struct mt *m)
{
        for (unsigned i = 0; i < KEEP; i++) {
                uint8_t *b = m->frames[i];
                struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
                struct mpnet_ip4_repr ip = {.src = X_ADDR,
                                            .dst = S_ADDR,
                                            .payload_len = 20,
                                            .proto = MPNET_IPPROTO_TCP,
                                            .ttl = 64};
                struct mpnet_tcp_repr t = {.sport = 80,
                                           .dport = (uint16_t)(KEEP_PORT + i),
                                           .seq = 1000,
                                           .ack = 2000,
                                           .flags = MPNET_TCP_ACK,
                                           .window = 1000};

                memcpy(eth.dst, m->r->info.mac, 6);
                memcpy(eth.src, m->g->info.mac, 6);
                mpnet_eth_repr_emit(&eth, b);
                mpnet_ip4_repr_emit(&ip, b + 14);
                assert_int_equal(mpnet_tcp_repr_emit(&t, b + 34), 20);
                mpnet_tcp4_csum_set(b + 34, 20, X_ADDR, S_ADDR);
        }
}

/* Segments to the worker's queue 0 as fast as it takes them; what the
 * stack sends (SYNs) taken off every queue and dropped. */
static void *generator(void *arg)
{
        struct mt *m = arg;
        uint64_t i = 0;

        mpnet_thread_set_slot(10);
        while (!atomic_load(&m->stop)) {
                struct mpnet_pkt *v[32];
                unsigned n = 0, k;

                while (n < 32) {
                        v[n] = mpnet_pkt_from_bytes(m->pool, m->frames[(i + n) % KEEP], FRAME);
                        if (v[n] == NULL)
                                break;
                        n++;
                }
                k = mpnet_link_tx_burst(m->g, 0, v, (uint16_t)n);
                if (k < n)
                        mpnet_pkt_free_bulk(v + k, n - k);
                i += k;
                atomic_fetch_add(&m->sent, k);
                for (uint16_t q = 0; q < 2; q++)
                        while ((n = mpnet_link_rx_burst(m->g, q, v, 32)) > 0)
                                mpnet_pkt_free_bulk(v, n);
                if (k == 0)
                        sched_yield();
        }
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
        return NULL;
}

/* Segments whose connection the lookup found: handed to its home, or
 * dropped for a full hand-off ring. */
static uint64_t found(struct mpnet_stack *s)
{
        return stk_ctr(s, "tcp_handoff") + stk_ctr(s, "tcp_not_home");
}

static int sock_to_x(struct mt *m, uint16_t lport)
{
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(lport)};
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(80)};
        int fd = mpnet_socket(m->s, AF_INET, SOCK_STREAM, 0);

        me.sin_addr.s_addr = htonl(S_ADDR);
        to.sin_addr.s_addr = htonl(X_ADDR);
        assert_true(fd >= 0);
        assert_int_equal(mpnet_bind(m->s, fd, (struct sockaddr *)&me, sizeof(me)), 0);
        assert_int_equal(mpnet_connect(m->s, fd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
        return fd;
}

static void test_grow_under_lookups(void **state)
{
        struct mpnet_memwire_cfg wc = {.name = "tbl", .n_queues = 2, .ring_size = 4096};
        struct mpnet_stack_cfg sc = {.name = "S", .seed = 3};
        struct mpnet_runtime_cfg rc = {.n_workers = 1};
        struct mt *m = calloc(1, sizeof(*m));
        int keep[KEEP], *churn = calloc(CHURN, sizeof(int));
        struct tcp_conn_buckets *bk;
        uint64_t last = 0, seen;

        (void)state;
        assert_non_null(m);
        assert_non_null(churn);
        mpnet_thread_set_slot(0);
        /* A clock that stands still: the kept connections sit in
         * SYN_SENT, which gives up after ~127 s of real time, and a run
         * under ThreadSanitizer on a loaded machine can take that long. */
        mpnet_clock_init_virtual(&m->clk, 1000000000ull);
        m->pool = mpnet_pool_create("tbl", 32768);
        assert_non_null(m->pool);
        assert_int_equal(mpnet_memwire_create(&wc, &m->g, &m->r), 0);
        sc.clock = &m->clk;
        sc.pool = m->pool;
        m->s = mpnet_stack_create(&sc);
        assert_non_null(m->s);
        assert_int_equal(mpnet_iface_attach(m->s, m->r, "r0"), 1);
        assert_int_equal(mpnet_addr4_add(m->s, 1, S_ADDR, 24), 0);
        assert_int_equal(mpnet_neigh4_add(m->s, 1, X_ADDR, m->g->info.mac), 0);
        mpnet_tcp_set_rst_limit(m->s, 0, 0);
        for (unsigned i = 0; i < KEEP; i++)
                keep[i] = sock_to_x(m, (uint16_t)(KEEP_PORT + i));
        mpnet_stack_poll(m->s, mpnet_clock_now(&m->clk));
        make_frames(m);
        m->rt = mpnet_runtime_create(&rc);
        assert_non_null(m->rt);
        assert_int_equal(mpnet_runtime_assign(m->rt, 0, m->s, 1, 0), 0);
        assert_int_equal(mpnet_runtime_start(m->rt), 0);
        assert_int_equal(pthread_create(&m->gen, NULL, generator, m), 0);

        /* The table grows while the worker looks up; then it empties. */
        for (unsigned i = 0; i < CHURN; i++) {
                churn[i] = sock_to_x(m, (uint16_t)(1024 + i));
                if (i % 256 == 0)
                        mpnet_stack_poll(m->s, mpnet_clock_now(&m->clk));
        }
        bk = tcp_conn_bk(&tcp_state_of(m->s)->ct);
        assert_true(bk->mask + 1 >= CHURN);
        for (unsigned i = 0; i < CHURN; i++) {
                assert_int_equal(mpnet_close(m->s, churn[i]), 0);
                if (i % 256 == 0)
                        mpnet_stack_poll(m->s, mpnet_clock_now(&m->clk));
        }
        atomic_store(&m->stop, true);
        pthread_join(m->gen, NULL);
        /* The worker takes what is still on its queue. */
        for (int i = 0; i < 2000; i++) {
                mpnet_stack_poll(m->s, mpnet_clock_now(&m->clk));
                seen = found(m->s) + stk_ctr(m->s, "tcp_no_conn");
                if (seen == atomic_load(&m->sent) && seen == last)
                        break;
                last = seen;
                usleep(1000);
        }
        mpnet_runtime_stop(m->rt);
        print_message("segments %llu, found %llu, missed %llu, chains %u\n",
                      (unsigned long long)atomic_load(&m->sent), (unsigned long long)found(m->s),
                      (unsigned long long)stk_ctr(m->s, "tcp_no_conn"), bk->mask + 1);
        assert_true(atomic_load(&m->sent) > 0);
        assert_int_equal(stk_ctr(m->s, "tcp_no_conn"), 0);
        assert_int_equal(found(m->s), atomic_load(&m->sent));
        assert_int_equal(tcp_state_of(m->s)->ct.n, KEEP);

        for (unsigned i = 0; i < KEEP; i++)
                assert_int_equal(mpnet_close(m->s, keep[i]), 0);
        mpnet_runtime_destroy(m->rt);
        mpnet_stack_destroy(m->s);
        for (uint16_t q = 0; q < 2; q++) {
                struct mpnet_pkt *v[32];
                unsigned n;

                while ((n = mpnet_link_rx_burst(m->g, q, v, 32)) > 0)
                        mpnet_pkt_free_bulk(v, n);
        }
        mpnet_link_destroy(m->g);
        mpnet_link_destroy(m->r);
        assert_int_equal(mpnet_pool_in_use(m->pool), 0);
        mpnet_pool_destroy(m->pool);
        free(churn);
        free(m);
        mpnet_thread_set_slot(MPNET_SLOT_NONE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_grow_under_lookups),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
