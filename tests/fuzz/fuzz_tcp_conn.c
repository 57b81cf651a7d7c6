/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: sequences of TCP segments at a listener, an
 * established connection and an active open, so the fuzzer reaches the
 * states (SYN cookies, SYN_RECEIVED, simultaneous open, RFC 5961's checks)
 * without guessing the stack's initial sequence numbers.
 *
 * The stack is fuzz_stack_input's (stack_env.h) with a listener on
 * 0.0.0.0:80 (backlog 2) and a connection from 192.0.2.2:40000 to it, the
 * established connection, accepted. Two stacks, by the mode byte: one
 * marked with the connection already established and accepted (the
 * handshake made once, under the default settings; stack_reset() gives
 * the connection back as it was then, l4/tcp.c), so an input pays no
 * handshake and the harness leaves the connection open; the other
 * ("fresh") marked with the listener alone, each input starting with
 * the handshake that the harness completes and accepts under the input's
 * settings, and closing the connection at its end (our FIN, SO_LINGER).
 * An input reads:
 *   byte 0      SYN cookie mode (the byte mod 3); bit 2: no reset limit;
 *               bits 3-4: 3 the fresh stack (ECN mode 0), else the ECN
 *               mode (mod 3) on the established stack; bit 5: keepalive
 *               on the established connection (1 s, 1 s, 2 probes); bit
 *               6: TCP_CORK on it; bit 7: SO_LINGER 0 on it
 *   records     target (1: bits 0-1 what, bits 2-7 a port offset), TCP
 *               flags (1), seq (4), ack (4), window (2), option length
 *               (1, at most 40) and the options, data length (1) and
 *               the data, a time step (1: its square in ms)
 * Targets: 0 the established connection (seq from its RCV.NXT, ack from
 * its SND.NXT, both as offsets); 1 the listener from port 41000 + offset
 * (seq as is, ack from the last SYN-ACK the stack sent that port: a cookie
 * to echo); 2 the active open (from 192.0.2.2:80 + offset; ack from its
 * ISS); 3 a command: connect() to 192.0.2.2:80 + offset (closing the last).
 * The harness closes what it opened (but the established stack's
 * connection); every buffer must come back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "mpnet/tcp.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/tcp.h"
#include "stack_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define US   0xc0000201u
#define PEER 0xc0000202u

#define FRESH       0 /* env[]: the listener alone at the mark */
#define ESTABLISHED 1 /* the connection from 40000 too, accepted */

static struct fz_stack envs[2];
static struct fz_stack *cur; /* the input's */
static int lfd[2];
static int est_fd;       /* ESTABLISHED's connection, from the mark */
static uint32_t est_iss; /* and its ISS */

struct seen {
        uint32_t synack[64]; /* the last SYN-ACK's seq to 41000 + i */
        uint32_t est_iss, act_iss;
        uint16_t act_port; /* the active open's local port, 0: none */
};
static struct seen seen;

static void listen_configure(struct fz_stack *f)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
        int *l = &lfd[f == &envs[ESTABLISHED]];

        fz_input_configure(f);
        *l = mpnet_socket(f->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        FZ_CHECK(mpnet_bind(f->s, *l, (struct sockaddr *)&a, sizeof(a)) == 0);
        FZ_CHECK(mpnet_listen(f->s, *l, 2) == 0);
}

/* What the stack sent: the SYNs' sequence numbers, to answer them. */
static void on_frame(void *arg, unsigned link, const uint8_t *b, size_t n)
{
        const size_t off = MPNET_ETH_HLEN + MPNET_IP4_HLEN;
        uint16_t sport, dport;
        uint32_t seq;

        (void)arg;
        (void)link;
        if (n < off + MPNET_TCP_HLEN || mpnet_get_be16(b + 12) != MPNET_ETHERTYPE_IPV4 ||
            b[MPNET_ETH_HLEN + 9] != MPNET_IPPROTO_TCP || !(b[off + 13] & MPNET_TCP_SYN))
                return;
        sport = mpnet_get_be16(b + off);
        dport = mpnet_get_be16(b + off + 2);
        seq = mpnet_get_be32(b + off + 4);
        if (dport >= 41000 && dport < 41064)
                seen.synack[dport - 41000] = seq;
        else if (dport == 40000)
                seen.est_iss = seq;
        else if (sport == seen.act_port)
                seen.act_iss = seq;
}

/* A segment from 192.0.2.2 to us; options raw (padded with EOL). */
static void send_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                     uint16_t win, const uint8_t *opt, size_t olen, const uint8_t *d, size_t dlen)
{
        uint8_t f[MPNET_ETH_HLEN + MPNET_IP4_HLEN + MPNET_TCP_HLEN_MAX + 256] = {0};
        uint8_t *t = f + MPNET_ETH_HLEN + MPNET_IP4_HLEN;
        size_t hl = MPNET_TCP_HLEN + (olen + 3) / 4 * 4, n = hl + dlen;
        struct mpnet_ip4_repr ip = {.src = PEER,
                                    .dst = US,
                                    .payload_len = (uint16_t)n,
                                    .proto = MPNET_IPPROTO_TCP,
                                    .ttl = 64,
                                    .df = true};

        memcpy(f, fz_input_wire.mac_a, 6);
        memcpy(f + 6, fz_input_wire.mac_b, 6);
        mpnet_put_be16(f + 12, MPNET_ETHERTYPE_IPV4);
        mpnet_ip4_repr_emit(&ip, f + MPNET_ETH_HLEN);
        mpnet_put_be16(t, sport);
        mpnet_put_be16(t + 2, dport);
        mpnet_put_be32(t + 4, seq);
        mpnet_put_be32(t + 8, ack);
        t[12] = (uint8_t)(hl / 4 << 4);
        t[13] = flags;
        mpnet_put_be16(t + 14, win);
        if (olen != 0)
                memcpy(t + MPNET_TCP_HLEN, opt, olen);
        if (dlen != 0)
                memcpy(t + hl, d, dlen);
        mpnet_tcp4_csum_set(t, n, PEER, US);
        fz_send(cur, 0, f, MPNET_ETH_HLEN + MPNET_IP4_HLEN + n);
        fz_poll(cur);
        fz_drain(cur);
}

/* 192.0.2.2:40000 connects, the harness ACKs; @return the accepted fd. */
static int establish(void)
{
        static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};

        seen.est_iss = 0;
        send_seg(40000, 80, 1000, 0, MPNET_TCP_SYN, 65535, mss, 4, NULL, 0);
        send_seg(40000, 80, 1001, seen.est_iss + 1, MPNET_TCP_ACK, 65535, NULL, 0, NULL, 0);
        return mpnet_accept(cur->s, lfd[cur == &envs[ESTABLISHED]], NULL, NULL, 0);
}

/* ESTABLISHED's stack before its mark: the connection made and accepted,
 * under the default settings. */
static void est_ready(struct fz_stack *f)
{
        cur = f;
        est_fd = establish();
        FZ_CHECK(est_fd >= 0);
        est_iss = seen.est_iss;
}

static int active_open(int old, uint16_t port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct sockaddr_in me;
        socklen_t l = sizeof(me);
        int fd;

        if (old >= 0)
                mpnet_close(cur->s, old);
        seen.act_port = 0;
        a.sin_addr.s_addr = htonl(PEER);
        fd = mpnet_socket(cur->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -1;
        if (mpnet_connect(cur->s, fd, (struct sockaddr *)&a, sizeof(a)) != -EINPROGRESS ||
            mpnet_getsockname(cur->s, fd, (struct sockaddr *)&me, &l) != 0) {
                mpnet_close(cur->s, fd);
                return -1;
        }
        seen.act_port = ntohs(me.sin_port);
        fz_poll(cur);
        fz_drain(cur);
        return fd;
}

/* The established socket's options from the mode byte (l4/tcp_opt.c). */
static void est_options(struct fz_stack *f, int fd, uint8_t mode)
{
        static const int one = 1, two = 2;
        static const struct linger abort0 = {.l_onoff = 1, .l_linger = 0};

        if (mode & 0x20) {
                FZ_CHECK(mpnet_setsockopt(f->s, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ==
                         0);
                FZ_CHECK(mpnet_setsockopt(f->s, fd, IPPROTO_TCP, 4 /* TCP_KEEPIDLE */, &one,
                                          sizeof(one)) == 0);
                FZ_CHECK(mpnet_setsockopt(f->s, fd, IPPROTO_TCP, 5 /* TCP_KEEPINTVL */, &one,
                                          sizeof(one)) == 0);
                FZ_CHECK(mpnet_setsockopt(f->s, fd, IPPROTO_TCP, 6 /* TCP_KEEPCNT */, &two,
                                          sizeof(two)) == 0);
        }
        if (mode & 0x40)
                FZ_CHECK(mpnet_setsockopt(f->s, fd, IPPROTO_TCP, 3 /* TCP_CORK */, &one,
                                          sizeof(one)) == 0);
        if (mode & 0x80)
                FZ_CHECK(mpnet_setsockopt(f->s, fd, SOL_SOCKET, SO_LINGER, &abort0,
                                          sizeof(abort0)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz_stack *f;
        int est, act = -1, acc[4], l;
        unsigned n_acc = 0, mode;

        if (envs[FRESH].pool == NULL) {
                struct mpnet_pool *pool = mpnet_pool_create("fuzz", 1024);

                FZ_CHECK(pool != NULL);
                for (unsigned i = 0; i < 2; i++) {
                        fz_init(&envs[i], pool, 1, &fz_input_wire, &fz_input_cfg, listen_configure,
                                getenv("MPNET_FUZZ_FRESH") == NULL);
                        envs[i].settle_ns = FZ_INPUT_SETTLE_NS;
                        envs[i].on_frame = on_frame;
                }
                envs[ESTABLISHED].ready = est_ready;
        }
        if (size < 1)
                return 0;
        mode = (data[0] >> 3 & 3) == 3 ? FRESH : ESTABLISHED;
        f = cur = &envs[mode];
        l = lfd[mode];
        fz_begin(f);
        memset(&seen, 0, sizeof(seen));
        if (mode == ESTABLISHED)
                seen.est_iss = est_iss; /* the mark's connection */
        mpnet_tcp_set_syncookies(f->s, data[0] % 3 == 0 ? 1 : data[0] % 3 == 1 ? 0 : 2);
        mpnet_tcp_set_rst_limit(f->s, (data[0] & 4) ? 0 : 200, 200);
        data++;
        size--;
        mpnet_tcp_set_ecn(f->s, (data[-1] >> 3 & 3) % 3);
        est = mode == ESTABLISHED ? est_fd : establish();
        FZ_CHECK(est >= 0);
        est_options(f, est, data[-1]);
        while (size >= 15) {
                const uint8_t *h = data;
                uint8_t what = h[0] & 3, off = h[0] >> 2, flags = h[1];
                uint32_t seq = mpnet_get_be32(h + 2), ack = mpnet_get_be32(h + 6);
                uint16_t win = mpnet_get_be16(h + 10);
                size_t olen = h[12] > 40 ? 40 : h[12], dlen;
                const uint8_t *opt = h + 13, *d;

                if (size < 13 + olen + 2)
                        break;
                dlen = h[13 + olen];
                d = h + 14 + olen;
                if (size < 14 + olen + dlen + 1)
                        break;
                switch (what) {
                case 0:
                        send_seg(40000, 80, 1001 + seq, seen.est_iss + 1 + ack, flags, win, opt,
                                 olen, d, dlen);
                        break;
                case 1:
                        send_seg((uint16_t)(41000 + off), 80, seq, seen.synack[off] + 1 + ack,
                                 flags, win, opt, olen, d, dlen);
                        break;
                case 2:
                        if (seen.act_port != 0)
                                send_seg((uint16_t)(80 + off), seen.act_port, seq,
                                         seen.act_iss + 1 + ack, flags, win, opt, olen, d, dlen);
                        break;
                default:
                        act = active_open(act, (uint16_t)(80 + off));
                        break;
                }
                mpnet_clock_advance(&f->clk, (uint64_t)d[dlen] * d[dlen] * 1000000ull);
                fz_poll(f);
                fz_drain(f);
                while (n_acc < 4 && (acc[n_acc] = mpnet_accept(f->s, l, NULL, NULL, 0)) >= 0)
                        n_acc++;
                data += 14 + olen + dlen + 1;
                size -= 14 + olen + dlen + 1;
        }
        if (mode == FRESH)
                mpnet_close(f->s, est); /* ESTABLISHED's stays: the reset gives it back */
        if (act >= 0)
                mpnet_close(f->s, act);
        for (unsigned i = 0; i < n_acc; i++)
                mpnet_close(f->s, acc[i]);
        fz_poll(f);
        fz_drain(f);
        fz_end(f);
        return 0;
}
