/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: frames into a stack with UDP sockets, to the socket
 * layer. The stack is fuzz_stack_input's (192.0.2.1/24, 198.18.0.1/15,
 * 2001:db8::1/64; stack_env.h) with sockets: IPv4 on 0.0.0.0:7 (in
 * 233.252.0.1 on the interface: IGMP's host side), dual stack
 * on [::]:53 (every receive option on), IPv4 connected from
 * 192.0.2.1:1000 to 192.0.2.2:9, two IPv6-only sockets on [::]:5353 that
 * share it (SO_REUSEADDR), one of them in ff02::fb on the interface, and
 * IPv4 on 0.0.0.0:67 with SO_BROADCAST; blackhole, unreachable and
 * prohibit routes (10.0.{0,1,2}.0/24, 2001:db8:{a,b,c}::/48); the
 * connected and the dual-stack sockets set IP_RECVERR (and IPV6_RECVERR),
 * so ICMP errors quoting their datagrams reach the error queue, drained
 * with MSG_ERRQUEUE after each frame. The input is a sequence of frames as
 * for fuzz_stack_input (2-byte big-endian length, then the frame).
 * After each frame every socket is drained with recvmsg (a peek first,
 * then a short buffer and room for every control message) and each
 * datagram is answered to its source, so output is reached too (a
 * datagram that starts with ANSWER_MAGIC picks how: options, control
 * messages, another destination, a size; answer() below). The first
 * socket is drained with mpnet_recvmmsg first, the batch's vlen taken
 * from the frame (any 32-bit value: cut to MPNET_MMSG_MAX, never read
 * past the vector), and answered with mpnet_sendmmsg. Sockets
 * are configuration: the reset after each input keeps them and frees what
 * is queued (stack_env.h); every buffer must be back at the end.
 */
#define _GNU_SOURCE /* struct in6_pktinfo */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "l4/socket.h"
#include "mpnet/socket.h"
#include "stack_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz_stack env;
static int fds[6];

static void sock_configure(struct fz_stack *f)
{
        struct mpnet_stack *s = f->s;
        struct sockaddr_in a4 = {.sin_family = AF_INET};
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
        struct ipv6_mreq mr = {.ipv6mr_interface = 1};
        struct ip_mreqn m4 = {.imr_ifindex = 1};
        int on = 1;

        fz_input_configure(f);
        /* 10.0.{0,1,2}.0/24 and 2001:db8:{a,b,c}::/48 blackhole,
         * unreachable, prohibit: where answers can be sent (ANSWER_MAGIC). */
        FZ_CHECK(fz_special_routes(s) == 0);
        fds[0] = mpnet_socket(s, AF_INET, SOCK_DGRAM, 0);
        a4.sin_port = htons(7);
        FZ_CHECK(mpnet_bind(s, fds[0], (struct sockaddr *)&a4, sizeof(a4)) == 0);
        m4.imr_multiaddr.s_addr = htonl(0xe9fc0001);
        FZ_CHECK(mpnet_setsockopt(s, fds[0], IPPROTO_IP, IP_ADD_MEMBERSHIP, &m4, sizeof(m4)) == 0);
        fds[1] = mpnet_socket(s, AF_INET6, SOCK_DGRAM, 0);
        a6.sin6_port = htons(53);
        FZ_CHECK(mpnet_bind(s, fds[1], (struct sockaddr *)&a6, sizeof(a6)) == 0);
        mpnet_setsockopt(s, fds[1], IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
        mpnet_setsockopt(s, fds[1], IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
        mpnet_setsockopt(s, fds[1], IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on));
        mpnet_setsockopt(s, fds[1], IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
        mpnet_setsockopt(s, fds[1], IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
        mpnet_setsockopt(s, fds[1], IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
        mpnet_setsockopt(s, fds[1], IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
        mpnet_setsockopt(s, fds[1], IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
        fds[2] = mpnet_socket(s, AF_INET, SOCK_DGRAM, 0);
        a4.sin_port = htons(1000);
        FZ_CHECK(mpnet_bind(s, fds[2], (struct sockaddr *)&a4, sizeof(a4)) == 0);
        a4.sin_port = htons(9);
        a4.sin_addr.s_addr = htonl(0xc0000202);
        FZ_CHECK(mpnet_connect(s, fds[2], (struct sockaddr *)&a4, sizeof(a4)) == 0);
        mpnet_setsockopt(s, fds[2], IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
        a6.sin6_port = htons(5353);
        for (int i = 3; i <= 4; i++) {
                fds[i] = mpnet_socket(s, AF_INET6, SOCK_DGRAM, 0);
                mpnet_setsockopt(s, fds[i], IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
                mpnet_setsockopt(s, fds[i], SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
                FZ_CHECK(mpnet_bind(s, fds[i], (struct sockaddr *)&a6, sizeof(a6)) == 0);
        }
        mr.ipv6mr_multiaddr.s6_addr[0] = 0xff;
        mr.ipv6mr_multiaddr.s6_addr[1] = 0x02;
        mr.ipv6mr_multiaddr.s6_addr[15] = 0xfb;
        FZ_CHECK(mpnet_setsockopt(s, fds[3], IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) == 0);
        fds[5] = mpnet_socket(s, AF_INET, SOCK_DGRAM, 0);
        mpnet_setsockopt(s, fds[5], SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
        a4.sin_port = htons(67);
        a4.sin_addr.s_addr = 0;
        FZ_CHECK(mpnet_bind(s, fds[5], (struct sockaddr *)&a4, sizeof(a4)) == 0);
}

/*
 * The answer to a datagram: its own bytes back to its source, or, when
 * they start with ANSWER_MAGIC, as the next byte says (the output paths of
 * the socket API: ip4_output_opt, ip6_output's, UDP's):
 *   bits 0-2  IP_MTU_DISCOVER / IPV6_MTU_DISCOVER for this send (0 .. 5:
 *             DONT, WANT, DO, PROBE, INTERFACE, OMIT; 6, 7 leave it)
 *   bit 3     a control message: IP_PKTINFO / IPV6_PKTINFO naming
 *             interface 1, IP_TTL / IPV6_HOPLIMIT from byte 2 (when not 0),
 *             IP_TOS / IPV6_TCLASS from byte 3
 *   bit 4     to another address: bytes 4-7 (IPv4 socket) or 4-19 (IPv6),
 *             the source's port (own addresses, broadcasts, multicast, the
 *             special routes, no route)
 *   bit 5     3,000 bytes, not the datagram (fragments, or EMSGSIZE)
 *   bit 6     IPV6_DONTFRAG for this send
 *   bit 7     no address (the connected socket's peer, else an error)
 * Every option is put back after the send: sockets outlive the reset.
 */
#define ANSWER_MAGIC 0xfa

static void answer(struct mpnet_stack *s, int fd, const char *buf, size_t n,
                   const struct sockaddr_in6 *from, socklen_t alen)
{
        static char big[3000];
        struct sockaddr_in6 to = *from;
        union {
                char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 2 * CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } cb;
        struct iovec iov = {(void *)buf, n};
        struct msghdr m = {.msg_name = &to, .msg_namelen = alen, .msg_iov = &iov, .msg_iovlen = 1};
        const uint8_t *u = (const uint8_t *)buf;
        bool v6 = from->sin6_family == AF_INET6;
        int mode, pm4 = -1, pm6 = -1, df6 = -1, on = 1;
        socklen_t ol = sizeof(int);

        if (n < 2 || u[0] != ANSWER_MAGIC) {
                mpnet_sendto(s, fd, buf, n, 0, (const struct sockaddr *)from, alen);
                return;
        }
        mode = u[1];
        if ((mode & 7) <= 5) {
                ol = sizeof(int);
                if (mpnet_getsockopt(s, fd, IPPROTO_IP, IP_MTU_DISCOVER, &pm4, &ol) == 0)
                        mpnet_setsockopt(s, fd, IPPROTO_IP, IP_MTU_DISCOVER, &(int){mode & 7},
                                         sizeof(int));
                ol = sizeof(int);
                if (mpnet_getsockopt(s, fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pm6, &ol) == 0)
                        mpnet_setsockopt(s, fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &(int){mode & 7},
                                         sizeof(int));
                else
                        pm6 = -1;
        }
        ol = sizeof(int);
        if ((mode & 64) && mpnet_getsockopt(s, fd, IPPROTO_IPV6, IPV6_DONTFRAG, &df6, &ol) == 0)
                mpnet_setsockopt(s, fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof(on));
        else
                df6 = -1;
        if (mode & 8) {
                struct cmsghdr *c;
                size_t len = 0;
                int ttl = n >= 3 ? u[2] : 0, tos = n >= 4 ? u[3] : 0;

                memset(&cb, 0, sizeof(cb));
                m.msg_control = cb.b;
                m.msg_controllen = sizeof(cb.b);
                c = CMSG_FIRSTHDR(&m);
                if (v6) {
                        struct in6_pktinfo pi = {.ipi6_ifindex = 1};

                        c->cmsg_level = IPPROTO_IPV6;
                        c->cmsg_type = IPV6_PKTINFO;
                        c->cmsg_len = CMSG_LEN(sizeof(pi));
                        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
                        len += CMSG_SPACE(sizeof(pi));
                } else {
                        struct in_pktinfo pi = {.ipi_ifindex = 1};

                        c->cmsg_level = IPPROTO_IP;
                        c->cmsg_type = IP_PKTINFO;
                        c->cmsg_len = CMSG_LEN(sizeof(pi));
                        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
                        len += CMSG_SPACE(sizeof(pi));
                }
                if (ttl != 0) {
                        c = CMSG_NXTHDR(&m, c);
                        c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
                        c->cmsg_type = v6 ? IPV6_HOPLIMIT : IP_TTL;
                        c->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(c), &ttl, sizeof(int));
                        len += CMSG_SPACE(sizeof(int));
                }
                c = CMSG_NXTHDR(&m, c);
                c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
                c->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &tos, sizeof(int));
                len += CMSG_SPACE(sizeof(int));
                m.msg_controllen = len;
        }
        if ((mode & 16) && !v6 && n >= 8)
                memcpy(&((struct sockaddr_in *)&to)->sin_addr, u + 4, 4);
        else if ((mode & 16) && v6 && n >= 20)
                memcpy(&to.sin6_addr, u + 4, 16);
        if (mode & 32) {
                /* big[k] = buf[k % n]: the datagram, then what is filled
                 * doubled (a byte loop with a division a byte was half
                 * of this harness's own time under ASan). */
                size_t k = n < sizeof(big) ? n : sizeof(big);

                memcpy(big, buf, k);
                for (; k < sizeof(big); k *= 2)
                        memcpy(big + k, big, k < sizeof(big) - k ? k : sizeof(big) - k);
                iov = (struct iovec){big, sizeof(big)};
        }
        if (mode & 128) {
                m.msg_name = NULL;
                m.msg_namelen = 0;
        }
        mpnet_sendmsg(s, fd, &m, 0);
        if (pm4 >= 0)
                mpnet_setsockopt(s, fd, IPPROTO_IP, IP_MTU_DISCOVER, &pm4, sizeof(pm4));
        if (pm6 >= 0)
                mpnet_setsockopt(s, fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pm6, sizeof(pm6));
        if (df6 >= 0)
                mpnet_setsockopt(s, fd, IPPROTO_IPV6, IPV6_DONTFRAG, &df6, sizeof(df6));
}

/* The batch's vector for recvmmsg: every entry pointing at its own
 * buffer and address. */
static struct mpnet_mmsghdr bv[MPNET_MMSG_MAX];
static struct iovec biov[MPNET_MMSG_MAX];
static struct sockaddr_in bfrom[MPNET_MMSG_MAX];
static char bbuf[MPNET_MMSG_MAX][32];

static void batch_init(unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                biov[i] = (struct iovec){bbuf[i], sizeof(bbuf[i])};
                bv[i].msg_hdr = (struct msghdr){.msg_name = &bfrom[i],
                                                .msg_namelen = sizeof(bfrom[i]),
                                                .msg_iov = &biov[i],
                                                .msg_iovlen = 1};
        }
}

/* Socket 0 by batches of up to vlen (the input's), each answered. Every
 * recvmmsg sees the whole vector as batch_init() left it, as if it were
 * filled anew each time, but only the entries a call could have written
 * are: recvmmsg the r it returns and the one after (a receive that failed),
 * sendmmsg and the answers the r before. Filling all 1,024 entries for
 * every frame was most of this target's time under ASan (docs/TESTING.md). */
static void drain_batched(struct mpnet_stack *s, uint32_t vlen)
{
        static bool ready;
        int r;

        if (!ready) {
                batch_init(MPNET_MMSG_MAX);
                ready = true;
        }
        FZ_CHECK(mpnet_recvmmsg(s, fds[0], NULL, vlen | 1, 0, NULL) == -EFAULT);
        for (unsigned round = 0; round < 4; round++) {
                unsigned used;

                r = mpnet_recvmmsg(s, fds[0], bv, vlen, MSG_DONTWAIT, NULL);
                used = r > 0 ? (unsigned)r + 1 : 1;
                if (r > 0) {
                        FZ_CHECK(r <= MPNET_MMSG_MAX && (uint32_t)r <= vlen);
                        for (int i = 0; i < r; i++)
                                biov[i].iov_len = bv[i].msg_len < 32 ? bv[i].msg_len : 32;
                        FZ_CHECK(mpnet_sendmmsg(s, fds[0], bv, (unsigned)r, 0) <= r);
                }
                batch_init(used < MPNET_MMSG_MAX ? used : MPNET_MMSG_MAX);
                if (r <= 0)
                        break;
        }
}

/* Every socket emptied, each datagram answered; the error queues read. A
 * socket with nothing queued and no pending error is passed over: its
 * receives would only fail with EAGAIN (reached anyway, the last receive
 * of every socket drained), and twelve of them for every frame were a
 * tenth of this target's time under ASan. */
static void drain_sockets(struct mpnet_stack *s)
{
        for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
                const struct mpnet_sock *so = sock_get(s, fds[i]);

                if (so != NULL && so->rq_head == NULL && so->eq_head == NULL && so->err == 0)
                        continue;
                for (;;) {
                        struct sockaddr_in6 to;
                        char buf[32];
                        struct iovec iov = {buf, sizeof(buf)};
                        union {
                                char b[128];
                                struct cmsghdr align;
                        } cb;
                        struct msghdr m = {.msg_name = &to,
                                           .msg_namelen = sizeof(to),
                                           .msg_iov = &iov,
                                           .msg_iovlen = 1,
                                           .msg_control = cb.b,
                                           .msg_controllen = sizeof(cb.b)};

                        if (mpnet_recvmsg(s, fds[i], &m, MSG_ERRQUEUE) < 0)
                                break;
                        FZ_CHECK(m.msg_flags & MSG_ERRQUEUE);
                }
                for (;;) {
                        struct sockaddr_in6 from;
                        char buf[64];
                        struct iovec iov[2] = {{buf, 16}, {buf + 16, sizeof(buf) - 16}};
                        union {
                                char b[256];
                                struct cmsghdr align;
                        } cb;
                        struct msghdr m = {.msg_name = &from,
                                           .msg_namelen = sizeof(from),
                                           .msg_iov = iov,
                                           .msg_iovlen = 2,
                                           .msg_control = cb.b,
                                           .msg_controllen = sizeof(cb.b)};
                        ssize_t n = mpnet_recvmsg(s, fds[i], &m, MSG_PEEK | MSG_TRUNC);

                        if (n < 0 && n != -EAGAIN) {
                                /* A pending ICMP error, taken: try again. */
                                FZ_CHECK(n != -EFAULT && n != -EINVAL);
                                continue;
                        }
                        if (n < 0)
                                break;
                        m.msg_controllen = sizeof(cb.b);
                        m.msg_namelen = sizeof(from);
                        n = mpnet_recvmsg(s, fds[i], &m, 0);
                        FZ_CHECK(n >= 0 && n <= (ssize_t)sizeof(buf));
                        answer(s, fds[i], buf, (size_t)n, &from, m.msg_namelen);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz_stack *f = &env;
        uint32_t vlen;

        if (env.pool == NULL) {
                struct mpnet_pool *pool = mpnet_pool_create("fuzz", 1024);

                FZ_CHECK(pool != NULL);
                fz_init(&env, pool, 1, &fz_input_wire, &fz_input_cfg, sock_configure,
                        getenv("MPNET_FUZZ_FRESH") == NULL);
                env.settle_ns = FZ_INPUT_SETTLE_NS;
        }
        fz_begin(f);
        while (size >= 2) {
                size_t len = (size_t)data[0] << 8 | data[1];

                data += 2;
                size -= 2;
                if (len > size)
                        len = size;
                fz_send(f, 0, data, len);
                vlen = len >= 4 ? (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                                      (uint32_t)data[2] << 8 | data[3]
                                : (uint32_t)len;
                data += len;
                size -= len;
                fz_poll(f);
                drain_batched(f->s, vlen);
                drain_sockets(f->s);
                fz_poll(f);
                mpnet_clock_advance(&f->clk, 700 * 1000000ull);
                fz_drain(f);
        }
        fz_poll(f);
        drain_sockets(f->s);
        fz_drain(f);
        fz_end(&env);
        return 0;
}
