/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnet-nc: netcat for mpnet. One stack on one link (TAP, AF_PACKET,
 * AF_XDP), one TCP connection or one UDP socket through mpnet/socket.h:
 * what is read on standard input goes out, what arrives is written to
 * standard output. Everything runs on this thread, the stack's control
 * thread; the sockets are non-blocking and the loop polls the stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/toolnet.h"
#include "mpnet/link.h"
#include "mpnet/socket.h"
#include "mpnet/stack.h"
#include "mpnet/tcp.h"

static const char usage[] =
    "NAME\n"
    "    mpnet-nc - netcat over an mpnet stack (TCP, UDP)\n"
    "\n"
    "SYNOPSIS\n"
    "    mpnet-nc --link SPEC --addr ADDR/PLEN [--addr ...] [--gw ADDR] [-4|-6]\n"
    "             [-s SOURCE] [-p PORT] [-w SECS] [-q SECS] [--loss PCT] [-v] HOST PORT\n"
    "    mpnet-nc -l [-k] --link SPEC --addr ADDR/PLEN [...] [-4|-6] [-s SOURCE]\n"
    "             [-q SECS] [-p PORT | PORT]\n"
    "    mpnet-nc -u --link SPEC --addr ADDR/PLEN [--addr ...] [--gw ADDR] [-4|-6]\n"
    "             [-s SOURCE] [-p PORT] [-w SECS] [-q SECS] [-W COUNT] [-v] HOST PORT\n"
    "    mpnet-nc -u -l [-k] --link SPEC --addr ADDR/PLEN [...] [-4|-6] [-s SOURCE]\n"
    "             [-p PORT | PORT]\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs one mpnet stack on one link and one TCP connection (or, with -u,\n"
    "    one UDP socket) on it, as nc(1) does with a kernel socket.\n"
    "\n"
    "    TCP: standard input goes into the connection, what arrives is written\n"
    "    to standard output. At the end of standard input the sending side is\n"
    "    shut down (a FIN, as nc -N and socat do); the program ends once the\n"
    "    peer's FIN has arrived and everything before it was written out, and\n"
    "    the stack runs on until the connection has been quiet for a second\n"
    "    (up to 15 s) so the last segments and ACKs get through. Client\n"
    "    (HOST PORT): connects (-w SECS: give up after SECS). Listener (-l):\n"
    "    accepts one connection on PORT; with -k one after another, for ever\n"
    "    (standard input goes to the first; later ones get a FIN at once once\n"
    "    it has ended).\n"
    "\n"
    "    UDP (-u): each read of standard input is sent as one datagram, each\n"
    "    datagram received is written to standard output.\n"
    "    The stack answers ARP, neighbour discovery and ping on the addresses\n"
    "    given; IPv6 addresses are used once duplicate address detection passed.\n"
    "\n"
    "    Client (HOST PORT): the socket is connected to HOST PORT (from -s and\n"
    "    -p when given, else an ephemeral port and the route's source).\n"
    "    Listener (-l): the socket is bound to PORT; the first datagram's\n"
    "    sender becomes the peer (the socket connects to it) and standard input\n"
    "    goes there. With -k the socket stays unconnected: datagrams from\n"
    "    anyone are written out and standard input goes to the latest sender.\n"
    "\n"
    "OPTIONS\n"
    "    -u                 UDP (default TCP)\n"
    "    -l                 listen\n"
    "    -k                 with -l: TCP, accept connections one after another;\n"
    "                       UDP, keep taking datagrams from any sender\n"
    "    -4, -6             the socket's family (default: HOST's; a listener is\n"
    "                       AF_INET6 dual-stack when an IPv6 address is given)\n"
    "    -p PORT            local port\n"
    "    -s SOURCE          local address to bind\n"
    "    -w SECS            TCP: give up connecting after SECS; UDP: exit when\n"
    "                       nothing was sent or received for SECS\n"
    "    -q SECS            after end of input, exit after SECS (default: TCP,\n"
    "                       at the peer's FIN; UDP, never); TCP first waits\n"
    "                       (up to 30 s) until all it sent, FIN included,\n"
    "                       was acknowledged\n"
    "    -W COUNT           UDP: exit after receiving COUNT datagrams\n"
    "    -v                 say what happens on standard error\n"
    "    --link SPEC        tap:NAME[@NETNS]   a TAP device made (in NETNS)\n"
    "                       afpacket:DEV[@NETNS]  AF_PACKET on an existing device\n"
    "                       afxdp:DEV[@NETNS]     AF_XDP on an existing device\n"
    "    --addr ADDR/PLEN   an IPv4 or IPv6 address of the stack (repeatable)\n"
    "    --gw ADDR          a default route through ADDR (IPv4 or IPv6; repeatable)\n"
    "    --mtu N            the interface MTU (default the link's)\n"
    "    --loss PCT         drop PCT per cent (0 to 100, decimals allowed) of\n"
    "                       the frames the link receives, at random: the link\n"
    "                       is wrapped in mpnet's fault link (seeded, see\n"
    "                       --seed); -v tells how many were dropped at the end\n"
    "    --seed N           the fault link's seed (default the process id)\n"
    "    -h, --help         this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0 on end of input (-q), COUNT datagrams (-W), idle timeout (-w), a TCP\n"
    "    connection closed both ways, or a signal; 1 when the stack or the\n"
    "    socket failed (TCP: refused, reset, connect timed out); 2 on bad usage.\n";

#define BUF_LEN 65536

struct opts {
        int udp, listen, keep, family, verbose;
        long wait_s, quit_s, count;
        unsigned port;
        uint32_t loss_ppm; /* --loss: a fault link around the link */
        uint64_t seed;
        bool have_seed;
        const char *source, *host, *rport;
        struct toolnet_cfg net; /* --link, --addr, --gw, --mtu */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
        (void)sig;
        g_stop = 1;
}

/* "1", "0.5", "100": per cent into parts per million. */
static int parse_pct_ppm(const char *s, uint32_t *ppm)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || *s == '\0' || *end != '\0' || !(v >= 0.0 && v <= 100.0))
                return -1;
        *ppm = (uint32_t)(v * 10000.0 + 0.5);
        return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
        static const struct option lo[] = {
            {"link", required_argument, NULL, 'L'}, {"addr", required_argument, NULL, 'A'},
            {"gw", required_argument, NULL, 'G'},   {"mtu", required_argument, NULL, 'M'},
            {"loss", required_argument, NULL, 'D'}, {"seed", required_argument, NULL, 'S'},
            {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
        };
        long v;
        int c;

        *o = (struct opts){.quit_s = -1, .wait_s = -1, .count = -1};
        while ((c = getopt_long(argc, argv, "ulk46p:s:w:q:W:vh", lo, NULL)) != -1) {
                switch (c) {
                case 'u':
                        o->udp = 1;
                        break;
                case 'l':
                        o->listen = 1;
                        break;
                case 'k':
                        o->keep = 1;
                        break;
                case '4':
                        o->family = AF_INET;
                        break;
                case '6':
                        o->family = AF_INET6;
                        break;
                case 'p':
                        if (toolnet_parse_long(optarg, 1, 65535, &v) != 0)
                                goto bad;
                        o->port = (unsigned)v;
                        break;
                case 's':
                        o->source = optarg;
                        break;
                case 'w':
                        if (toolnet_parse_long(optarg, 1, 86400, &o->wait_s) != 0)
                                goto bad;
                        break;
                case 'q':
                        if (toolnet_parse_long(optarg, -1, 86400, &o->quit_s) != 0)
                                goto bad;
                        break;
                case 'W':
                        if (toolnet_parse_long(optarg, 1, 1L << 30, &o->count) != 0)
                                goto bad;
                        break;
                case 'v':
                        o->verbose = 1;
                        break;
                case 'D':
                        if (parse_pct_ppm(optarg, &o->loss_ppm) != 0)
                                goto bad;
                        break;
                case 'S':
                        if (toolnet_parse_long(optarg, 0, LONG_MAX, &v) != 0)
                                goto bad;
                        o->seed = (uint64_t)v;
                        o->have_seed = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        exit(0);
                default:
                        if (toolnet_opt(&o->net, c, optarg) != 1)
                                goto bad;
                        break;
                }
        }
        argc -= optind;
        argv += optind;
        if (o->listen) {
                if (argc > 1 || (argc == 1 && o->port != 0) || (argc == 0 && o->port == 0))
                        goto bad;
                if (argc == 1) {
                        if (toolnet_parse_long(argv[0], 1, 65535, &v) != 0)
                                goto bad;
                        o->port = (unsigned)v;
                }
        } else {
                if (argc != 2 || o->keep)
                        goto bad;
                o->host = argv[0];
                o->rport = argv[1];
        }
        if (!o->udp && o->count > 0)
                goto bad; /* -W counts datagrams */
        if (o->net.link == NULL || o->net.n_addr == 0) {
                fprintf(stderr, "mpnet-nc: --link and --addr are required\n");
                return -1;
        }
        return 0;
bad:
        fprintf(stderr, "mpnet-nc: bad usage (see --help)\n");
        return -1;
}

struct nc {
        struct mpnet_stack *s;
        struct mpnet_link *l;
        const struct opts *o;
        int fd;
        bool have_peer; /* -k: the latest sender to answer */
        struct sockaddr_storage peer;
        socklen_t peer_len;
        long received;
        uint64_t last_io;
};

static int socket_open(struct nc *nc, int family)
{
        const struct opts *o = nc->o;
        struct sockaddr_storage ss;
        socklen_t len;
        struct toolnet_addr src;
        int fd, err, one = 1;

        fd = mpnet_socket(nc->s, family, o->udp ? SOCK_DGRAM : SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return fd;
        nc->fd = fd;
        if (o->listen &&
            (err = mpnet_setsockopt(nc->s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) != 0)
                return err;
        if (o->source != NULL || o->port != 0) {
                if (o->source != NULL && toolnet_parse_ip(o->source, &src) != 0) {
                        fprintf(stderr, "mpnet-nc: -s %s: not an address\n", o->source);
                        return -EINVAL;
                }
                if (toolnet_sockaddr_of(family, o->source != NULL ? &src : NULL, o->port, &ss,
                                        &len) != 0)
                        return -EAFNOSUPPORT;
                if ((err = mpnet_bind(nc->s, fd, (struct sockaddr *)&ss, len)) != 0)
                        return err;
        }
        if (o->listen && !o->udp && (err = mpnet_listen(nc->s, fd, 1)) != 0)
                return err;
        if (!o->listen) {
                struct toolnet_addr h;
                long port;

                if (toolnet_parse_ip(o->host, &h) != 0 ||
                    toolnet_parse_long(o->rport, 1, 65535, &port) != 0) {
                        fprintf(stderr, "mpnet-nc: %s %s: an address and a port expected\n",
                                o->host, o->rport);
                        return -EINVAL;
                }
                if (toolnet_sockaddr_of(family, &h, (unsigned)port, &ss, &len) != 0)
                        return -EAFNOSUPPORT;
                err = mpnet_connect(nc->s, fd, (struct sockaddr *)&ss, len);
                if (err != 0 && !(err == -EINPROGRESS && !o->udp))
                        return err;
        }
        return 0;
}

static void on_datagram(struct nc *nc, const uint8_t *buf, size_t n,
                        const struct sockaddr_storage *from, socklen_t flen)
{
        const struct opts *o = nc->o;
        char who[80];

        if (fwrite(buf, 1, n, stdout) != n)
                g_stop = 1;
        fflush(stdout);
        nc->received++;
        if (o->listen && !nc->have_peer) {
                toolnet_addr_str(from, who, sizeof(who));
                if (o->verbose)
                        fprintf(stderr, "mpnet-nc: datagram from %s\n", who);
                if (!o->keep) {
                        int err = mpnet_connect(nc->s, nc->fd, (const struct sockaddr *)from, flen);

                        if (err != 0)
                                fprintf(stderr, "mpnet-nc: connect to %s: %s\n", who,
                                        strerror(-err));
                }
        }
        if (o->listen) {
                nc->peer = *from;
                nc->peer_len = flen;
                nc->have_peer = true;
        }
}

/* One read of standard input as one datagram. @return false at its end. */
static bool stdin_one(struct nc *nc, uint8_t *buf)
{
        const struct opts *o = nc->o;
        ssize_t n = read(STDIN_FILENO, buf, BUF_LEN - 1);
        ssize_t sent;

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        if (o->listen && !nc->have_peer) {
                if (o->verbose)
                        fprintf(stderr, "mpnet-nc: no peer yet: %zd bytes dropped\n", n);
                return true;
        }
        if (o->listen && o->keep)
                sent = mpnet_sendto(nc->s, nc->fd, buf, (size_t)n, 0,
                                    (const struct sockaddr *)&nc->peer, nc->peer_len);
        else
                sent = mpnet_sendto(nc->s, nc->fd, buf, (size_t)n, 0, NULL, 0);
        if (sent < 0)
                fprintf(stderr, "mpnet-nc: send: %s\n", strerror((int)-sent));
        return true;
}

static int run(struct nc *nc)
{
        const struct opts *o = nc->o;
        uint8_t *buf = malloc(BUF_LEN);
        bool in_open = true;
        uint64_t eof_at = 0;

        if (buf == NULL)
                return 1;
        nc->last_io = mpnet_monotonic_ns();
        while (!g_stop) {
                uint64_t now = mpnet_monotonic_ns(), next = mpnet_stack_poll(nc->s, now);
                struct pollfd pf[2];
                unsigned npf = 0;
                int64_t wait_ms = 20;
                int lfd;

                for (;;) {
                        struct sockaddr_storage from;
                        socklen_t flen = sizeof(from);
                        ssize_t n = mpnet_recvfrom(nc->s, nc->fd, buf, BUF_LEN, 0,
                                                   (struct sockaddr *)&from, &flen);

                        if (n < 0)
                                break;
                        on_datagram(nc, buf, (size_t)n, &from, flen);
                        nc->last_io = now;
                        if (o->count > 0 && nc->received >= o->count)
                                goto out;
                }
                if (!in_open && o->quit_s >= 0 && now - eof_at >= (uint64_t)o->quit_s * 1000000000u)
                        break;
                if (o->wait_s > 0 && now - nc->last_io >= (uint64_t)o->wait_s * 1000000000u)
                        break;
                if (in_open) {
                        pf[npf++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
                }
                lfd = mpnet_link_rx_wait_arm(nc->l, 0);
                if (lfd == -EAGAIN)
                        wait_ms = 0;
                else if (lfd >= 0)
                        pf[npf++] = (struct pollfd){.fd = lfd, .events = POLLIN};
                else
                        wait_ms = 1; /* a link that cannot wake us: nap */
                if (next != MPNET_TIME_NEVER && next > now &&
                    (int64_t)((next - now) / 1000000u) < wait_ms)
                        wait_ms = (int64_t)((next - now) / 1000000u);
                if (poll(pf, npf, (int)wait_ms) < 0 && errno != EINTR)
                        break;
                if (in_open && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                        in_open = stdin_one(nc, buf);
                        nc->last_io = mpnet_monotonic_ns();
                        if (!in_open) {
                                eof_at = nc->last_io;
                                if (o->verbose)
                                        fprintf(stderr, "mpnet-nc: end of input\n");
                        }
                }
        }
out:
        /* What was sent last may still wait for its neighbour: a short drain. */
        for (uint64_t end = mpnet_monotonic_ns() + 200000000u; mpnet_monotonic_ns() < end;) {
                mpnet_stack_poll(nc->s, mpnet_monotonic_ns());
                usleep(1000);
        }
        free(buf);
        return 0;
}

/* ---- TCP ---- */

struct tcp_run {
        int cfd;                      /* the connection, -1 while none */
        bool connected;               /* established (the client waits for it) */
        bool shut_wr, peer_eof;       /* our FIN queued, the peer's arrived */
        size_t pend_off, pend_len;    /* standard input not yet taken by the socket */
        uint64_t t_conn, n_in, n_out; /* -v: when established, bytes each way */
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                p += k;
                n -= (size_t)k;
        }
        return true;
}

static uint64_t tcp_activity(struct mpnet_stack *s)
{
        int in = mpnet_stack_counter_find(s, "tcp_in"),
            out = mpnet_stack_counter_find(s, "tcp_out");

        return (in >= 0 ? mpnet_stack_counter(s, (unsigned)in) : 0) +
               (out >= 0 ? mpnet_stack_counter(s, (unsigned)out) : 0);
}

/* Whether the peer has acknowledged all we sent on fd, our FIN included
 * (FIN_WAIT_2, TIME_WAIT, or the connection over), or nothing more can
 * come of it (not connected). */
static bool tcp_all_acked(struct nc *nc, int fd)
{
        struct mpnet_tcp_info ti = {0};
        socklen_t len = sizeof(ti);

        if (mpnet_getsockopt(nc->s, fd, IPPROTO_TCP, MPNET_TCP_INFO, &ti, &len) != 0)
                return true;
        switch (ti.state) {
        case MPNET_TCP_ST_ESTABLISHED:
        case MPNET_TCP_ST_CLOSE_WAIT:
                return ti.unacked == 0 && ti.snd_buf == 0;
        case MPNET_TCP_ST_FIN_WAIT_1:
        case MPNET_TCP_ST_CLOSING:
        case MPNET_TCP_ST_LAST_ACK:
                return false;
        default:
                return true;
        }
}

/* Before the close: run the stack until the peer has acknowledged all we
 * sent, our FIN included (up to TCP_LINGER_S), then until no TCP segment
 * went either way for a second (the ACK of the peer's FIN, again if its
 * FIN comes again), so the process (and its stack) does not end while
 * something still needs retransmitting. Quiet on the wire alone is no
 * sign of that: after a lost retransmission the next waits an RTO, a
 * second or more with its backoff (RFC 6298 5.5). */
#define TCP_LINGER_S 30
static void tcp_linger(struct nc *nc, int fd)
{
        uint64_t now = mpnet_monotonic_ns(), end = now + TCP_LINGER_S * 1000000000ull,
                 quiet_from = now;
        uint64_t seen = tcp_activity(nc->s);
        bool acked = false;

        while (!g_stop && now < end && (!acked || now - quiet_from < 1000000000ull)) {
                uint64_t a;

                mpnet_stack_poll(nc->s, now);
                a = tcp_activity(nc->s);
                if (a != seen) {
                        seen = a;
                        quiet_from = now;
                }
                if (!acked && tcp_all_acked(nc, fd)) {
                        acked = true;
                        quiet_from = now;
                        /* The ACK of the peer's FIN went; a second for a
                         * repeat of it, no more than TCP_LINGER_S in all. */
                }
                usleep(1000);
                now = mpnet_monotonic_ns();
        }
        if (!acked && !g_stop && nc->o->verbose)
                fprintf(stderr, "mpnet-nc: not all acknowledged after %d s\n", TCP_LINGER_S);
}

/* -v: where the connection stands (a transfer that did not end says why). */
static void tcp_show(struct nc *nc, const struct tcp_run *t, const char *why)
{
        static const char *const st[] = {"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECEIVED",
                                         "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
                                         "CLOSING",     "LAST_ACK",   "TIME_WAIT"};
        struct mpnet_tcp_info ti = {0};
        socklen_t len = sizeof(ti);
        int err = mpnet_getsockopt(nc->s, t->cfd, IPPROTO_TCP, MPNET_TCP_INFO, &ti, &len);

        if (err != 0) {
                fprintf(stderr, "mpnet-nc: %s; no connection snapshot: %s\n", why, strerror(-err));
                return;
        }
        fprintf(stderr,
                "mpnet-nc: %s: %llu bytes in, %llu out, peer's FIN %s, ours %s; state %s, "
                "received %llu, acked %llu, unacked %u, to send %u, to read %u, snd_wnd %u, "
                "rcv_wnd %u, cwnd %u, rto %u us, backoff %u, retransmitted %u\n",
                why, (unsigned long long)t->n_in, (unsigned long long)t->n_out,
                t->peer_eof ? "seen" : "not seen", t->shut_wr ? "sent" : "not sent",
                ti.state < sizeof(st) / sizeof(st[0]) ? st[ti.state] : "?",
                (unsigned long long)ti.bytes_received, (unsigned long long)ti.bytes_acked,
                ti.unacked, ti.snd_buf, ti.rcv_buf, ti.snd_wnd, ti.rcv_wnd, ti.snd_cwnd, ti.rto_us,
                ti.backoff, ti.total_retrans);
}

/* One step of the connection: receive, send, shut down. @return 1 when
 * it is over both ways, 0 to go on, -1 on an error (said). */
static int tcp_step(struct nc *nc, struct tcp_run *t, uint8_t *rbuf, const uint8_t *ibuf,
                    bool in_open)
{
        for (;;) {
                ssize_t n = mpnet_recvfrom(nc->s, t->cfd, rbuf, BUF_LEN, 0, NULL, NULL);

                if (n == -EAGAIN || (n == 0 && t->peer_eof))
                        break;
                if (n < 0) {
                        fprintf(stderr, "mpnet-nc: receive: %s\n", strerror((int)-n));
                        return -1;
                }
                if (n == 0) {
                        t->peer_eof = true;
                        if (nc->o->verbose)
                                fprintf(stderr, "mpnet-nc: the peer's FIN\n");
                        break;
                }
                if (!write_all(STDOUT_FILENO, rbuf, (size_t)n)) {
                        fprintf(stderr, "mpnet-nc: standard output: %s\n", strerror(errno));
                        return -1;
                }
                nc->last_io = mpnet_monotonic_ns();
                t->n_in += (uint64_t)n;
        }
        while (t->pend_len > 0) {
                ssize_t n =
                    mpnet_sendto(nc->s, t->cfd, ibuf + t->pend_off, t->pend_len, 0, NULL, 0);

                if (n == -EAGAIN)
                        break;
                if (n < 0) {
                        fprintf(stderr, "mpnet-nc: send: %s\n", strerror((int)-n));
                        return -1;
                }
                t->pend_off += (size_t)n;
                t->pend_len -= (size_t)n;
                t->n_out += (uint64_t)n;
        }
        if (!in_open && t->pend_len == 0 && !t->shut_wr) {
                int err = mpnet_shutdown(nc->s, t->cfd, SHUT_WR);

                if (err != 0) {
                        fprintf(stderr, "mpnet-nc: shutdown: %s\n", strerror(-err));
                        return -1;
                }
                t->shut_wr = true;
        }
        return t->shut_wr && t->peer_eof ? 1 : 0;
}

/* Whether the client's connect finished: 1 yes, 0 not yet, -1 failed. */
static int tcp_connected(struct nc *nc, struct tcp_run *t)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int soerr = 0, err;

        if (mpnet_getpeername(nc->s, t->cfd, (struct sockaddr *)&ss, &len) == 0)
                return 1;
        len = sizeof(soerr);
        err = mpnet_getsockopt(nc->s, t->cfd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (err != 0 || soerr != 0) {
                fprintf(stderr, "mpnet-nc: connect to %s port %s: %s\n", nc->o->host, nc->o->rport,
                        strerror(err != 0 ? -err : soerr));
                return -1;
        }
        return 0;
}

static int run_tcp(struct nc *nc)
{
        const struct opts *o = nc->o;
        uint8_t *ibuf = malloc(BUF_LEN), *rbuf = malloc(BUF_LEN);
        struct tcp_run t = {.cfd = o->listen ? -1 : nc->fd};
        bool in_open = true;
        uint64_t start = mpnet_monotonic_ns(), eof_at = 0;
        int rc = 1;

        if (ibuf == NULL || rbuf == NULL)
                goto out;
        while (!g_stop) {
                uint64_t now = mpnet_monotonic_ns(), next = mpnet_stack_poll(nc->s, now);
                struct pollfd pf[2];
                unsigned npf = 0;
                int64_t wait_ms = 20;
                int lfd, r;

                if (o->listen && t.cfd < 0) {
                        struct sockaddr_storage from;
                        socklen_t flen = sizeof(from);
                        int fd = mpnet_accept(nc->s, nc->fd, (struct sockaddr *)&from, &flen,
                                              SOCK_NONBLOCK);

                        if (fd >= 0) {
                                char who[80];

                                toolnet_addr_str(&from, who, sizeof(who));
                                if (o->verbose)
                                        fprintf(stderr, "mpnet-nc: connection from %s\n", who);
                                t = (struct tcp_run){
                                    .cfd = fd, .connected = true, .t_conn = mpnet_monotonic_ns()};
                                if (!o->keep) { /* one connection: no more SYNs taken */
                                        mpnet_close(nc->s, nc->fd);
                                        nc->fd = -1;
                                }
                        } else if (fd != -EAGAIN) {
                                fprintf(stderr, "mpnet-nc: accept: %s\n", strerror(-fd));
                                goto out;
                        }
                }
                if (t.cfd >= 0 && !t.connected) {
                        r = tcp_connected(nc, &t);
                        if (r < 0)
                                goto out;
                        t.connected = r == 1;
                        t.t_conn = now;
                        if (t.connected && o->verbose)
                                fprintf(stderr, "mpnet-nc: connected to %s port %s\n", o->host,
                                        o->rport);
                        if (!t.connected && o->wait_s > 0 &&
                            now - start >= (uint64_t)o->wait_s * 1000000000u) {
                                fprintf(stderr, "mpnet-nc: connect to %s port %s: %s\n", o->host,
                                        o->rport, strerror(ETIMEDOUT));
                                goto out;
                        }
                }
                if (t.connected) {
                        r = tcp_step(nc, &t, rbuf, ibuf, in_open);
                        if (r < 0)
                                goto out;
                        if (r == 1) {
                                if (o->verbose) {
                                        double sec =
                                            (double)(mpnet_monotonic_ns() - t.t_conn) / 1e9;

                                        fprintf(stderr,
                                                "mpnet-nc: closed both ways: %llu bytes in, %llu "
                                                "out in %.3f s (%.1f, %.1f Mbit/s)\n",
                                                (unsigned long long)t.n_in,
                                                (unsigned long long)t.n_out, sec,
                                                (double)t.n_in * 8 / 1e6 / sec,
                                                (double)t.n_out * 8 / 1e6 / sec);
                                }
                                if (!(o->listen && o->keep))
                                        tcp_linger(nc, t.cfd);
                                mpnet_close(nc->s, t.cfd);
                                if (t.cfd == nc->fd)
                                        nc->fd = -1;
                                t = (struct tcp_run){.cfd = -1};
                                if (!(o->listen && o->keep)) {
                                        rc = 0;
                                        goto out;
                                }
                                continue;
                        }
                }
                if (!in_open && o->quit_s >= 0 &&
                    now - eof_at >= (uint64_t)o->quit_s * 1000000000u) {
                        if (t.cfd >= 0) {
                                tcp_linger(nc, t.cfd);
                                mpnet_close(nc->s, t.cfd);
                                if (t.cfd == nc->fd)
                                        nc->fd = -1;
                                t.cfd = -1;
                        }
                        rc = 0;
                        break;
                }
                /* Standard input is read once the socket took what came before. */
                if (in_open && t.pend_len == 0 && t.connected)
                        pf[npf++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
                lfd = mpnet_link_rx_wait_arm(nc->l, 0);
                if (lfd == -EAGAIN)
                        wait_ms = 0;
                else if (lfd >= 0)
                        pf[npf++] = (struct pollfd){.fd = lfd, .events = POLLIN};
                else
                        wait_ms = 1;
                if (next != MPNET_TIME_NEVER && next > now &&
                    (int64_t)((next - now) / 1000000u) < wait_ms)
                        wait_ms = (int64_t)((next - now) / 1000000u);
                if (poll(pf, npf, (int)wait_ms) < 0 && errno != EINTR)
                        break;
                if (npf > 0 && pf[0].fd == STDIN_FILENO &&
                    (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                        ssize_t n = read(STDIN_FILENO, ibuf, BUF_LEN);

                        if (n > 0) {
                                t.pend_off = 0;
                                t.pend_len = (size_t)n;
                        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                                in_open = false;
                                eof_at = mpnet_monotonic_ns();
                                if (o->verbose)
                                        fprintf(stderr, "mpnet-nc: end of input\n");
                        }
                }
        }
        if (g_stop) {
                if (o->verbose && t.cfd >= 0)
                        tcp_show(nc, &t, "stopped by a signal");
                rc = 0;
        }
out:
        if (t.cfd >= 0 && t.cfd != nc->fd)
                mpnet_close(nc->s, t.cfd);
        free(ibuf);
        free(rbuf);
        return rc;
}

int main(int argc, char **argv)
{
        struct opts o;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_stack *s = NULL;
        struct mpnet_link *l = NULL;
        struct nc nc = {.o = &o, .fd = -1};
        int ifx, err, family, rc = 1;

        if (parse_opts(argc, argv, &o) != 0)
                return 2;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);
        mpnet_clock_init_monotonic(&clk);
        pool = mpnet_pool_create("mpnet-nc", 8192);
        if (pool == NULL) {
                fprintf(stderr, "mpnet-nc: no memory for the packet pool\n");
                return 1;
        }
        l = toolnet_link_open("mpnet-nc", o.net.link, pool);
        if (l == NULL)
                goto done;
        if (o.loss_ppm > 0) {
                struct mpnet_fault_cfg fc = {.seed = o.have_seed ? o.seed : (uint64_t)getpid(),
                                             .loss_ppm = o.loss_ppm};
                struct mpnet_link *f = mpnet_fault_create(l, &fc, &clk, pool);

                if (f == NULL) {
                        fprintf(stderr, "mpnet-nc: --loss: fault link: %s\n", strerror(errno));
                        goto done;
                }
                l = f;
        }
        s = mpnet_stack_create(&(struct mpnet_stack_cfg){
            .name = "mpnet-nc", .clock = &clk, .pool = pool, .seed = (uint64_t)getpid()});
        if (s == NULL) {
                fprintf(stderr, "mpnet-nc: stack: %s\n", strerror(errno));
                goto done;
        }
        ifx = mpnet_iface_attach(s, l, "nc0");
        err = ifx < 0 ? ifx : toolnet_stack_setup(s, ifx, &o.net);
        if (err != 0) {
                fprintf(stderr, "mpnet-nc: configuring the stack: %s\n", strerror(-err));
                goto done;
        }
        /* Duplicate address detection first (RFC 4862 5.4): up to 5 s. */
        for (uint64_t end = mpnet_monotonic_ns() + 5000000000u;
             !toolnet_addrs6_ready(s, ifx) && mpnet_monotonic_ns() < end && !g_stop;) {
                mpnet_stack_poll(s, mpnet_monotonic_ns());
                usleep(1000);
        }
        family = o.family;
        if (family == 0 && !o.listen) {
                struct toolnet_addr h;

                family = toolnet_parse_ip(o.host, &h) == 0 ? h.family : AF_INET;
        }
        if (family == 0) {
                family = AF_INET;
                for (unsigned i = 0; i < o.net.n_addr; i++)
                        if (o.net.addr[i].family == AF_INET6)
                                family = AF_INET6;
        }
        nc.s = s;
        nc.l = l;
        err = socket_open(&nc, family);
        if (err != 0) {
                fprintf(stderr, "mpnet-nc: socket: %s\n", strerror(-err));
                goto done;
        }
        if (o.verbose) {
                struct sockaddr_storage me;
                socklen_t len = sizeof(me);
                char who[80];

                mpnet_getsockname(s, nc.fd, (struct sockaddr *)&me, &len);
                toolnet_addr_str(&me, who, sizeof(who));
                fprintf(stderr, "mpnet-nc: %s %s\n", o.listen ? "listening on" : "bound to", who);
        }
        rc = o.udp ? run(&nc) : run_tcp(&nc);
        if (o.verbose && o.loss_ppm > 0) {
                struct mpnet_fault_stats fs = {0};

                mpnet_fault_get_stats(l, &fs);
                fprintf(stderr, "mpnet-nc: fault link: %llu received frames lost\n",
                        (unsigned long long)fs.lost);
        }
done:
        if (s != NULL)
                mpnet_stack_destroy(s);
        mpnet_link_destroy(l);
        mpnet_pool_destroy(pool);
        return rc;
}
