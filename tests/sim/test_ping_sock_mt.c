/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP echo sockets and the ping API under the multi-core runtime (the
 * router of tests/mtnet.h, two workers):
 *  - an ICMP error quoting an echo request of a socket homed on a worker
 *    (MPNET_SO_HOME) reaches it: the workers punt the error to the control
 *    thread, which hands it to the home's ping-err node, as UDP's udp-err
 *    (l4/ping_sock.c). With IP_RECVERR on the error queue, else as the
 *    connected socket's pending error;
 *  - echo replies the workers receive reach the ping API's echo socket,
 *    each caller's by identifier.
 * Under ThreadSanitizer (make check-tsan) this also checks that the error
 * reaches the socket only on its home.
 */
#include <time.h> /* struct timespec, for linux/errqueue.h */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/ipv4.h"
#include "mtnet.h"
#include "stack/stack_priv.h"

#define ID_Q    0x5151 /* the socket with IP_RECVERR */
#define ID_C    0x5252 /* the connected socket */
#define FAR     IP4(198, 51, 100, 77)
#define N_ERR   16 /* errors for each socket */
#define N_REPLY 64

/* A destination unreachable, host administratively prohibited (type 3,
 * code 10: EHOSTUNREACH, a hard error as Linux's icmp_err_convert), from the generator's side (a
 * router there) quoting R's echo request to FAR (from 198.51.100.1, the source R's route to FAR
 * gives it): identifier ID_Q for even i, ID_C for odd, sequence i. */
static size_t err_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {.src = MT_GEN_ADDR,
                                    .dst = IP4(192, 0, 2, 1),
                                    .id = (uint16_t)i,
                                    .payload_len = 8 + 28,
                                    .proto = MPNET_IPPROTO_ICMP,
                                    .ttl = 64};
        struct mpnet_ip4_repr q = {.src = IP4(198, 51, 100, 1), /* R's way to FAR */
                                   .dst = FAR,
                                   .id = 1,
                                   .payload_len = 8,
                                   .proto = MPNET_IPPROTO_ICMP,
                                   .ttl = 64};
        struct mpnet_icmp4_repr r = {.type = MPNET_ICMP4_DEST_UNREACH, .code = 10};
        uint8_t *b = f + 34 + 8;

        memcpy(eth.dst, m->r1->info.mac, 6);
        memcpy(eth.src, m->g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        mpnet_ip4_repr_emit(&q, b);
        memset(b + 20, 0, 8);
        b[20] = MPNET_ICMP4_ECHO_REQUEST;
        mpnet_put_be16(b + 24, i % 2 ? ID_C : ID_Q);
        mpnet_put_be16(b + 26, (uint16_t)i);
        r.data = b;
        r.data_len = 28;
        mpnet_icmp4_repr_emit(&r, f + 34);
        return 34 + 8 + 28;
}

/* An echo reply from the generator to R: identifier 0x7000 + i % 2,
 * sequence i, 8 bytes of data. */
static size_t reply_fn(struct mtnet *m, uint8_t *f, unsigned i)
{
        struct mpnet_eth_repr eth = {.ethertype = MPNET_ETHERTYPE_IPV4};
        struct mpnet_ip4_repr ip = {.src = MT_GEN_ADDR,
                                    .dst = IP4(192, 0, 2, 1),
                                    .id = (uint16_t)i,
                                    .payload_len = 16,
                                    .proto = MPNET_IPPROTO_ICMP,
                                    .ttl = 64};
        uint8_t data[8] = {0};
        struct mpnet_icmp4_repr r = {.type = MPNET_ICMP4_ECHO_REPLY,
                                     .id = (uint16_t)(0x7000 + i % 2),
                                     .seq = (uint16_t)i,
                                     .data = data,
                                     .data_len = sizeof(data)};

        memcpy(eth.dst, m->r1->info.mac, 6);
        memcpy(eth.src, m->g->info.mac, 6);
        mpnet_eth_repr_emit(&eth, f);
        mpnet_ip4_repr_emit(&ip, f + 14);
        mpnet_icmp4_repr_emit(&r, f + 34);
        return 34 + 16;
}

struct errq_read {
        unsigned got, bad;
        uint16_t want_id;
};

/* On the home: every record of the error queue. */
static void read_errq(struct mpnet_stack *s, int fd, void *arg)
{
        struct errq_read *q = arg;
        uint8_t buf[64], cbuf[256];
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr msg;
        ssize_t r;

        for (;;) {
                struct cmsghdr *c;
                const struct sock_extended_err *ee = NULL;

                memset(&msg, 0, sizeof(msg));
                msg.msg_iov = &iov;
                msg.msg_iovlen = 1;
                msg.msg_control = cbuf;
                msg.msg_controllen = sizeof(cbuf);
                r = mpnet_recvmsg(s, fd, &msg, MSG_ERRQUEUE);
                if (r < 0)
                        break;
                for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
                        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR)
                                ee = (const struct sock_extended_err *)(void *)CMSG_DATA(c);
                /* The quoted echo request as data (Linux ping_err). */
                if (r != 8 || buf[0] != MPNET_ICMP4_ECHO_REQUEST ||
                    mpnet_get_be16(buf + 4) != q->want_id || ee == NULL ||
                    ee->ee_errno != EHOSTUNREACH || ee->ee_origin != SO_EE_ORIGIN_ICMP ||
                    ee->ee_type != MPNET_ICMP4_DEST_UNREACH || ee->ee_code != 10)
                        q->bad++;
                q->got++;
        }
        if (r != -EAGAIN)
                q->bad++;
}

/* An echo socket of R with identifier id, homed on context home, with
 * IP_RECVERR when recverr (set before homing, as any option with a PCB
 * entry behind it). */
static int open_echo(struct mtnet *m, uint16_t id, int home, bool recverr)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(id)};
        int fd = mpnet_socket(m->r, AF_INET, SOCK_DGRAM, IPPROTO_ICMP), v = home, on = 1;
        socklen_t vl = sizeof(v);

        assert_true(fd >= 0);
        if (recverr)
                assert_int_equal(
                    mpnet_setsockopt(m->r, fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)), 0);
        assert_int_equal(mpnet_setsockopt(m->r, fd, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)), 0);
        assert_int_equal(mpnet_bind(m->r, fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_getsockopt(m->r, fd, SOL_MPNET, MPNET_SO_HOME, &v, &vl), 0);
        assert_int_equal(v, home);
        return fd;
}

static void test_errors_to_worker_home(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 44};
        struct mtnet *m = mt_init(&sc, false, 16384);
        struct sockaddr_in far = {.sin_family = AF_INET};
        struct errq_read q = {.want_id = ID_Q};
        int fq, fc, v = 0;
        socklen_t vl = sizeof(v);

        (void)state;
        far.sin_addr.s_addr = htonl(FAR);
        mt_start(m, NULL);
        /* No identifier is steered to a flow's worker; raw sockets stay
         * on the control thread. */
        v = MPNET_HOME_FLOW;
        fq = mpnet_socket(m->r, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
        assert_int_equal(mpnet_setsockopt(m->r, fq, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)),
                         -EOPNOTSUPP);
        assert_int_equal(mpnet_close(m->r, fq), 0);
        v = 1;
        fq = mpnet_socket(m->r, AF_INET, SOCK_RAW, IPPROTO_ICMP);
        assert_int_equal(mpnet_setsockopt(m->r, fq, SOL_MPNET, MPNET_SO_HOME, &v, sizeof(v)),
                         -EOPNOTSUPP);
        assert_int_equal(mpnet_close(m->r, fq), 0);
        v = 0;
        fq = open_echo(m, ID_Q, 1, true);
        fc = open_echo(m, ID_C, 2, false);
        assert_int_equal(mpnet_connect(m->r, fc, (struct sockaddr *)&far, sizeof(far)), 0);
        mt_send_frames(m, 2 * N_ERR, err_fn);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             stk_ctr(m->r, "ping_sock_err_in") < 2 * N_ERR && mpnet_monotonic_ns() < end;) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                usleep(200);
        }
        /* Every error reached its socket's home (none dropped, none stale). */
        assert_int_equal(stk_ctr(m->r, "ping_sock_err_in"), 2 * N_ERR);
        assert_int_equal(stk_ctr(m->r, "raw_stale"), 0);
        assert_int_equal(stk_ctr(m->r, "raw_nobufs"), 0);
        assert_int_equal(stk_ctr(m->r, "ping_sock_errq_full"), 0);
        assert_int_equal(stk_ctr(m->r, "handoff_drop"), 0);
        /* The queued ones, read on their home. */
        assert_int_equal(mpnet_sock_run(m->r, fq, read_errq, &q), 0);
        assert_int_equal(q.got, N_ERR);
        assert_int_equal(q.bad, 0);
        /* The connected socket: the hard error pending (RFC 1122 4.1.3.3,
         * as Linux). */
        assert_int_equal(mpnet_getsockopt(m->r, fc, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
        assert_int_equal(v, EHOSTUNREACH);
        assert_int_equal(mpnet_close(m->r, fq), 0);
        assert_int_equal(mpnet_close(m->r, fc), 0);
        mt_fini(m);
}

/* Echo replies received by both workers reach the ping API (punted to the
 * control thread, queued on its echo socket): each identifier's caller
 * gets its own, in order, none lost. */
static void test_api_replies_from_workers(void **state)
{
        struct mpnet_stack_cfg sc = {.seed = 45};
        struct mtnet *m = mt_init(&sc, false, 16384);
        struct mpnet_ping_reply r[N_REPLY];
        unsigned got[2] = {0, 0};

        (void)state;
        mt_start(m, NULL);
        mt_send_frames(m, N_REPLY, reply_fn);
        for (uint64_t end = mpnet_monotonic_ns() + 30 * MPNET_NS_PER_S;
             stk_ctr(m->r, "icmp4_echo_reply") < N_REPLY && mpnet_monotonic_ns() < end;) {
                mpnet_stack_poll(m->r, mpnet_clock_now(&m->clk));
                usleep(200);
        }
        assert_int_equal(stk_ctr(m->r, "icmp4_echo_reply"), N_REPLY);
        for (unsigned k = 0; k < 2; k++) {
                unsigned n = mpnet_ping4_recv_id(m->r, (uint16_t)(0x7000 + k), r, N_REPLY);

                for (unsigned i = 0; i < n; i++) {
                        assert_int_equal(r[i].id, 0x7000 + k);
                        assert_int_equal(r[i].seq % 2, k);
                        assert_int_equal(r[i].from, MT_GEN_ADDR);
                        assert_int_equal(r[i].type, MPNET_ICMP4_ECHO_REPLY);
                        assert_int_equal(r[i].payload_len, 8);
                }
                got[k] = n;
        }
        assert_int_equal(got[0], N_REPLY / 2);
        assert_int_equal(got[1], N_REPLY / 2);
        assert_int_equal(mpnet_ping4_recv(m->r, r, N_REPLY), 0);
        assert_int_equal(stk_ctr(m->r, "ping_overflow"), 0);
        mt_fini(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_errors_to_worker_home),
            cmocka_unit_test(test_api_replies_from_workers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
