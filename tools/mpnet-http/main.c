/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnet-http: a small HTTP/1.1 static file server and client over one
 * mpnet stack on one link (TAP, AF_PACKET, AF_XDP), through mpnet/socket.h.
 * Everything runs on this thread, the stack's control thread; the sockets
 * are non-blocking and the loop polls the stack, as mpnet-nc's does.
 * http.c reads the messages (RFC 9112); this file moves the bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/toolnet.h"
#include "mpnet/link.h"
#include "mpnet/socket.h"
#include "mpnet/stack.h"
#include "mpnet-http/http.h"

static const char usage[] =
    "NAME\n"
    "    mpnet-http - HTTP/1.1 static file server and client over an mpnet stack\n"
    "\n"
    "SYNOPSIS\n"
    "    mpnet-http serve --link SPEC --addr ADDR/PLEN [--addr ...] [--gw ADDR]\n"
    "               [-p PORT] [-n COUNT] [-t SECS] [-v] DIR\n"
    "    mpnet-http get --link SPEC --addr ADDR/PLEN [--addr ...] [--gw ADDR]\n"
    "               [-o FILE] [-w SECS] [-v] URL\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs one mpnet stack on one link, as mpnet-nc does, and HTTP/1.1\n"
    "    (RFC 9112) on its TCP sockets.\n"
    "\n"
    "    serve: answers GET and HEAD for the regular files under DIR (a\n"
    "    target ending in / means its index.html; no listings), with\n"
    "    Content-Length, on PORT (default 80), IPv4 and (with an IPv6\n"
    "    address) IPv6. Connections persist (HTTP/1.1 unless Connection:\n"
    "    close; HTTP/1.0 with Connection: keep-alive) and requests may be\n"
    "    pipelined; an idle connection is closed after -t SECS (default 10).\n"
    "    A malformed request is answered 400 (431 for a head over 8 KiB, 414\n"
    "    for a long target, 501 for another method or a Transfer-Encoding,\n"
    "    505 for another HTTP version) and its connection closed; a missing\n"
    "    file 404, an unreadable one 403. Targets with . or .. segments,\n"
    "    control bytes or bad %-escapes are refused (400): nothing outside\n"
    "    DIR is served. Up to 64 connections at once.\n"
    "\n"
    "    get: fetches URL (http://HOST[:PORT]/PATH, HOST an IPv4 address or\n"
    "    an IPv6 one in brackets) and writes the body to standard output or\n"
    "    FILE. The body ends at its Content-Length, at the end of a chunked\n"
    "    body, or when the server closes.\n"
    "\n"
    "OPTIONS\n"
    "    --link SPEC        tap:NAME[@NETNS]   a TAP device made (in NETNS)\n"
    "                       afpacket:DEV[@NETNS]  AF_PACKET on an existing device\n"
    "                       afxdp:DEV[@NETNS]     AF_XDP on an existing device\n"
    "    --addr ADDR/PLEN   an IPv4 or IPv6 address of the stack (repeatable)\n"
    "    --gw ADDR          a default route through ADDR (repeatable)\n"
    "    --mtu N            the interface MTU (default the link's)\n"
    "    -p PORT            serve: the port (default 80)\n"
    "    -n COUNT           serve: exit after COUNT responses\n"
    "    -t SECS            serve: close a connection idle for SECS (default 10)\n"
    "    -o FILE            get: write the body to FILE\n"
    "    -w SECS            get: give up when connecting or a read takes longer\n"
    "                       than SECS (default 30)\n"
    "    -v                 serve: a line per request and the counts at the end;\n"
    "                       get: the status line and the rate, on standard error\n"
    "    -h, --help         this text\n"
    "\n"
    "EXIT STATUS\n"
    "    serve: 0 after COUNT responses or a signal, 1 when the stack or the\n"
    "    socket failed. get: 0 when a 2xx response arrived whole, 1 for\n"
    "    another status, a short body or a failed connection. 2 on bad usage.\n";

#define MAX_CONNS 64
#define OUT_LEN   16384

struct opts {
        bool serve, verbose;
        long count, idle_s, wait_s;
        unsigned port;
        const char *root, *url, *out;
        struct toolnet_cfg net; /* --link, --addr, --gw, --mtu */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
        (void)sig;
        g_stop = 1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
        static const struct option lo[] = {
            {"link", required_argument, NULL, 'L'}, {"addr", required_argument, NULL, 'A'},
            {"gw", required_argument, NULL, 'G'},   {"mtu", required_argument, NULL, 'M'},
            {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
        };
        long v;
        int c;

        *o = (struct opts){.port = 80, .idle_s = 10, .wait_s = 30, .count = -1};
        if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
                fputs(usage, stdout);
                exit(0);
        }
        if (argc < 2 || (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "get") != 0))
                goto bad;
        o->serve = strcmp(argv[1], "serve") == 0;
        argc--;
        argv++;
        while ((c = getopt_long(argc, argv, "p:n:t:o:w:vh", lo, NULL)) != -1) {
                switch (c) {
                case 'p':
                        if (toolnet_parse_long(optarg, 1, 65535, &v) != 0)
                                goto bad;
                        o->port = (unsigned)v;
                        break;
                case 'n':
                        if (toolnet_parse_long(optarg, 1, 1L << 30, &o->count) != 0)
                                goto bad;
                        break;
                case 't':
                        if (toolnet_parse_long(optarg, 1, 86400, &o->idle_s) != 0)
                                goto bad;
                        break;
                case 'w':
                        if (toolnet_parse_long(optarg, 1, 86400, &o->wait_s) != 0)
                                goto bad;
                        break;
                case 'o':
                        o->out = optarg;
                        break;
                case 'v':
                        o->verbose = true;
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
        if (optind != argc - 1)
                goto bad;
        if (o->serve)
                o->root = argv[optind];
        else
                o->url = argv[optind];
        if (o->net.link == NULL || o->net.n_addr == 0) {
                fprintf(stderr, "mpnet-http: --link and --addr are required\n");
                return -1;
        }
        return 0;
bad:
        fprintf(stderr, "mpnet-http: bad usage (see --help)\n");
        return -1;
}

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

static uint64_t now_ns(void)
{
        return mpnet_monotonic_ns();
}

/* Poll the stack once and sleep on the link until the next timer, at most
 * max_ms. */
static void stack_wait(struct mpnet_stack *s, struct mpnet_link *l, int max_ms)
{
        uint64_t now = now_ns(), next = mpnet_stack_poll(s, now);
        struct pollfd pf = {.fd = mpnet_link_rx_wait_arm(l, 0), .events = POLLIN};
        int ms = max_ms;

        if (pf.fd == -EAGAIN)
                return;
        if (pf.fd < 0)
                ms = 1; /* a link that cannot wake us (the fault link): nap */
        if (next != MPNET_TIME_NEVER && next > now && (int64_t)((next - now) / 1000000u) < ms)
                ms = (int)((next - now) / 1000000u);
        if (next <= now)
                ms = 0;
        poll(pf.fd >= 0 ? &pf : NULL, pf.fd >= 0 ? 1 : 0, ms);
}

/* ---- serve ---------------------------------------------------------------- */

struct conn {
        int fd; /* -1: a free slot */
        char who[80];
        size_t in_len;
        uint64_t skip; /* request body bytes still to discard */
        size_t out_off, out_len;
        int file; /* the body being sent, -1 when none */
        uint64_t file_left;
        bool close_after;    /* close once this response is out */
        bool shut, peer_eof; /* our FIN queued; the peer's arrived */
        uint64_t last;       /* last progress, for the idle and close timeouts */
        /* The buffers last: a new connection clears what comes before. */
        char in[HTTP_HEAD_MAX + 1];
        uint8_t out[OUT_LEN];
};

struct server {
        struct mpnet_stack *s;
        const struct opts *o;
        struct conn *c;
        long responses;
        unsigned long by_class[6]; /* 1xx..5xx */
};

static const char *content_type(const char *path)
{
        const char *dot = strrchr(path, '.');

        if (dot != NULL && (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0))
                return "text/html";
        if (dot != NULL && strcmp(dot, ".txt") == 0)
                return "text/plain";
        return "application/octet-stream";
}

/* Queue a response head (and a short body for an error). */
static void respond(struct server *sv, struct conn *c, unsigned status, uint64_t len,
                    const char *type, bool head_only)
{
        char body[96] = "";
        int k;

        if (status != 200) {
                snprintf(body, sizeof(body), "%u %s\n", status, http_reason(status));
                len = strlen(body);
                type = "text/plain";
        }
        k = snprintf((char *)c->out, sizeof(c->out),
                     "HTTP/1.1 %u %s\r\nServer: mpnet-http\r\nContent-Type: %s\r\n"
                     "Content-Length: %llu\r\nConnection: %s\r\n%s\r\n%s",
                     status, http_reason(status), type, (unsigned long long)len,
                     c->close_after ? "close" : "keep-alive",
                     status == 501 ? "Allow: GET, HEAD\r\n" : "", head_only ? "" : body);
        c->out_off = 0;
        c->out_len = (size_t)k;
        sv->responses++;
        sv->by_class[status / 100 < 6 ? status / 100 : 0]++;
}

/* A parsed request: open the file and queue the head. */
static void serve_req(struct server *sv, struct conn *c, const struct http_req *r)
{
        char path[2048];
        struct stat st;
        unsigned status = 200;
        int err = http_target_path(sv->o->root, r->target, path, sizeof(path)), fd = -1;

        c->close_after = !r->keep_alive;
        if (err != 0)
                status = (unsigned)-err;
        else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                status = errno == EACCES ? 403 : 404;
        else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
                status = 404; /* directories have no listing */
        if (status != 200 && fd >= 0) {
                close(fd);
                fd = -1;
        }
        if (sv->o->verbose)
                fprintf(stderr, "mpnet-http: %s \"%s %s HTTP/1.%u\" %u %lld\n", c->who,
                        r->method == HTTP_HEAD ? "HEAD" : "GET", r->target, r->minor, status,
                        status == 200 ? (long long)st.st_size : 0LL);
        respond(sv, c, status, status == 200 ? (uint64_t)st.st_size : 0,
                status == 200 ? content_type(path) : NULL, r->method == HTTP_HEAD);
        if (status == 200 && r->method == HTTP_GET) {
                c->file = fd;
                c->file_left = (uint64_t)st.st_size;
        } else if (fd >= 0) {
                close(fd);
        }
}

static void conn_free(struct conn *c, struct mpnet_stack *s)
{
        if (c->file >= 0)
                close(c->file);
        mpnet_close(s, c->fd);
        c->fd = -1;
        c->file = -1;
}

/* Receive what the socket has: into the head buffer, or discarded (a body
 * we skip, or anything after our FIN). @return false on an error. */
static bool conn_recv(struct conn *c, struct mpnet_stack *s, uint64_t now)
{
        uint8_t junk[4096];

        for (;;) {
                bool discard = c->shut || c->skip > 0 || c->in_len >= HTTP_HEAD_MAX;
                size_t room = discard ? sizeof(junk) : HTTP_HEAD_MAX - c->in_len;
                ssize_t n;

                if (c->skip > 0 && c->skip < room)
                        room = (size_t)c->skip;
                if (c->in_len >= HTTP_HEAD_MAX && !c->shut && c->skip == 0)
                        return true; /* full: parsed (431) before more is read */
                n = mpnet_recvfrom(s, c->fd, discard ? (void *)junk : (void *)(c->in + c->in_len),
                                   room, 0, NULL, NULL);
                if (n == -EAGAIN)
                        return true;
                if (n < 0)
                        return false;
                if (n == 0) {
                        c->peer_eof = true;
                        return true;
                }
                c->last = now;
                if (c->skip > 0)
                        c->skip -= (uint64_t)n;
                else if (!discard)
                        c->in_len += (size_t)n;
        }
}

/* Send the queued head, then the file a buffer at a time. @return false on
 * an error (the connection is dropped: a promised length cannot be kept). */
static bool conn_send(struct conn *c, struct mpnet_stack *s, uint64_t now)
{
        for (;;) {
                if (c->out_off == c->out_len && c->file >= 0) {
                        size_t want =
                            c->file_left < sizeof(c->out) ? (size_t)c->file_left : sizeof(c->out);
                        ssize_t k = want > 0 ? read(c->file, c->out, want) : 0;

                        if (want > 0 && k <= 0)
                                return false; /* the file shrank or failed */
                        c->out_off = 0;
                        c->out_len = (size_t)k;
                        c->file_left -= (uint64_t)k;
                        if (c->file_left == 0) {
                                close(c->file);
                                c->file = -1;
                        }
                }
                if (c->out_off == c->out_len)
                        return true;
                ssize_t n = mpnet_sendto(s, c->fd, c->out + c->out_off, c->out_len - c->out_off, 0,
                                         NULL, 0);

                if (n == -EAGAIN)
                        return true;
                if (n < 0)
                        return false;
                c->out_off += (size_t)n;
                c->last = now;
        }
}

/* One step of a connection. @return false when it is over. */
static bool conn_step(struct server *sv, struct conn *c, uint64_t now)
{
        struct mpnet_stack *s = sv->s;
        bool idle;

        if (!conn_recv(c, s, now) || !conn_send(c, s, now))
                return false;
        idle = c->out_off == c->out_len && c->file < 0;
        while (idle && !c->shut && !c->close_after && c->skip == 0 && c->in_len > 0) {
                struct http_req r;
                int rc = http_req_parse(c->in, c->in_len, &r);

                if (rc == 0)
                        break;
                if (rc < 0) {
                        c->close_after = true;
                        if (sv->o->verbose)
                                fprintf(stderr, "mpnet-http: %s: a bad request: %d %s\n", c->who,
                                        -rc, http_reason((unsigned)-rc));
                        respond(sv, c, (unsigned)-rc, 0, NULL, false);
                        c->in_len = 0;
                } else {
                        serve_req(sv, c, &r);
                        memmove(c->in, c->in + r.head_len, c->in_len - r.head_len);
                        c->in_len -= r.head_len;
                        /* A body the request carried is read and dropped. */
                        size_t k = r.content_len < c->in_len ? (size_t)r.content_len : c->in_len;

                        memmove(c->in, c->in + k, c->in_len - k);
                        c->in_len -= k;
                        c->skip = r.content_len - k;
                }
                if (!conn_send(c, s, now))
                        return false;
                idle = c->out_off == c->out_len && c->file < 0;
        }
        if (idle && !c->shut &&
            (c->close_after || c->peer_eof ||
             now - c->last >= (uint64_t)sv->o->idle_s * 1000000000u)) {
                /* Our FIN after the last response, or after -t SECS without
                 * progress (a head that never ends included); the peer's is
                 * awaited so that what it still sends does not meet a
                 * reset. */
                mpnet_shutdown(s, c->fd, SHUT_WR);
                c->shut = true;
                c->last = now;
        }
        return !(c->shut && (c->peer_eof || now - c->last >= 5000000000ull));
}

static int sock_listen(struct mpnet_stack *s, const struct opts *o)
{
        int family = AF_INET, fd, err, one = 1;
        struct sockaddr_storage ss;
        socklen_t len;

        for (unsigned i = 0; i < o->net.n_addr; i++)
                if (o->net.addr[i].family == AF_INET6)
                        family = AF_INET6; /* dual-stack */
        fd = mpnet_socket(s, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return fd;
        toolnet_sockaddr_of(family, NULL, o->port, &ss, &len);
        if ((err = mpnet_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) != 0 ||
            (err = mpnet_bind(s, fd, (struct sockaddr *)&ss, len)) != 0 ||
            (err = mpnet_listen(s, fd, MAX_CONNS)) != 0) {
                mpnet_close(s, fd);
                return err;
        }
        return fd;
}

static int run_serve(struct mpnet_stack *s, struct mpnet_link *l, const struct opts *o)
{
        struct server sv = {.s = s, .o = o, .c = calloc(MAX_CONNS, sizeof(struct conn))};
        int lfd = sock_listen(s, o), rc = 1;

        if (sv.c == NULL || lfd < 0) {
                fprintf(stderr, "mpnet-http: listening on port %u: %s\n", o->port,
                        strerror(lfd < 0 ? -lfd : ENOMEM));
                goto out;
        }
        for (int i = 0; i < MAX_CONNS; i++)
                sv.c[i].fd = sv.c[i].file = -1;
        if (o->verbose)
                fprintf(stderr, "mpnet-http: serving %s on port %u\n", o->root, o->port);
        while (!g_stop && (o->count < 0 || sv.responses < o->count)) {
                uint64_t now = now_ns();

                mpnet_stack_poll(s, now);
                for (int i = 0; i < MAX_CONNS; i++) {
                        struct sockaddr_storage from;
                        socklen_t flen = sizeof(from);
                        struct conn *c = &sv.c[i];
                        int fd;

                        if (c->fd >= 0)
                                continue;
                        fd = mpnet_accept(s, lfd, (struct sockaddr *)&from, &flen, SOCK_NONBLOCK);
                        if (fd < 0)
                                break;
                        memset(c, 0, offsetof(struct conn, in));
                        c->fd = fd;
                        c->file = -1;
                        c->last = now;
                        toolnet_addr_str(&from, c->who, sizeof(c->who));
                }
                for (int i = 0; i < MAX_CONNS; i++)
                        if (sv.c[i].fd >= 0 && !conn_step(&sv, &sv.c[i], now))
                                conn_free(&sv.c[i], s);
                stack_wait(s, l, 20);
        }
        rc = 0;
        /* The last response still in flight: send it before the stack ends. */
        for (uint64_t end = now_ns() + 2000000000ull; now_ns() < end && !g_stop;) {
                bool busy = false;

                for (int i = 0; i < MAX_CONNS; i++) {
                        struct conn *c = &sv.c[i];

                        if (c->fd < 0)
                                continue;
                        if (!conn_send(c, s, now_ns()))
                                conn_free(c, s);
                        else
                                busy |= c->out_off < c->out_len || c->file >= 0;
                }
                stack_wait(s, l, 5);
                if (!busy)
                        break;
        }
        if (o->verbose)
                fprintf(stderr, "mpnet-http: %ld responses: %lu 2xx, %lu 4xx, %lu 5xx\n",
                        sv.responses, sv.by_class[2], sv.by_class[4], sv.by_class[5]);
out:
        if (sv.c != NULL)
                for (int i = 0; i < MAX_CONNS; i++)
                        if (sv.c[i].fd >= 0)
                                conn_free(&sv.c[i], s);
        free(sv.c);
        if (lfd >= 0)
                mpnet_close(s, lfd);
        for (uint64_t end = now_ns() + 300000000u; now_ns() < end;)
                stack_wait(s, l, 5); /* FINs and ACKs go out */
        return rc;
}

/* ---- get ------------------------------------------------------------------ */

struct url {
        struct toolnet_addr host;
        char host_str[64];
        unsigned port;
        const char *path;
};

/* http://HOST[:PORT][/PATH], HOST an IPv4 address or [IPv6]. */
static int url_parse(const char *u, struct url *out)
{
        const char *h, *end, *p;
        char host[64];
        long port = 80;

        if (strncmp(u, "http://", 7) != 0)
                return -1;
        h = u + 7;
        if (*h == '[') {
                end = strchr(h, ']');
                if (end == NULL)
                        return -1;
                h++;
                p = end + 1;
        } else {
                end = h + strcspn(h, ":/");
                p = end;
        }
        if ((size_t)(end - h) >= sizeof(host) || end == h)
                return -1;
        memcpy(host, h, (size_t)(end - h));
        host[end - h] = '\0';
        if (toolnet_parse_ip(host, &out->host) != 0)
                return -1;
        if (*p == ':') {
                char num[8];
                size_t n = strcspn(p + 1, "/");

                if (n == 0 || n >= sizeof(num))
                        return -1;
                memcpy(num, p + 1, n);
                num[n] = '\0';
                if (toolnet_parse_long(num, 1, 65535, &port) != 0)
                        return -1;
                p += 1 + n;
        }
        if (*p != '\0' && *p != '/')
                return -1;
        out->path = *p == '/' ? p : "/";
        out->port = (unsigned)port;
        snprintf(out->host_str, sizeof(out->host_str),
                 out->host.family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, out->port);
        return 0;
}

struct getter {
        char head[HTTP_HEAD_MAX];
        size_t head_len;
        bool have_head, eof;
        struct http_resp r;
        struct http_chunk ch;
        uint64_t body;
        int out;
};

/* Body bytes to the output, decoded. @return 0, -1 on a bad coding or a
 * failed write. */
static int get_body(struct getter *g, const uint8_t *b, size_t n)
{
        static uint8_t dec[65536];

        while (n > 0) {
                size_t k = n < sizeof(dec) ? n : sizeof(dec), w = k;
                const uint8_t *src = b;

                if (g->r.chunked) {
                        long used = http_chunk_feed(&g->ch, b, k, dec, &w);

                        if (used < 0)
                                return -1;
                        k = (size_t)used;
                        src = dec;
                        if (k == 0)
                                return 0; /* after the body's end */
                } else if (g->r.has_len && g->body + k > g->r.body_len) {
                        k = w = (size_t)(g->r.body_len - g->body);
                        if (k == 0)
                                return 0;
                }
                if (!write_all(g->out, src, w))
                        return -1;
                g->body += w;
                b += k;
                n -= k;
        }
        return 0;
}

static bool get_done(const struct getter *g)
{
        if (!g->have_head)
                return g->eof;
        if (g->r.chunked)
                return http_chunk_done(&g->ch) || g->eof;
        if (g->r.has_len)
                return g->body == g->r.body_len || g->eof;
        return g->eof;
}

static int run_get(struct mpnet_stack *s, struct mpnet_link *l, const struct opts *o)
{
        static uint8_t buf[65536];
        struct getter g = {.out = STDOUT_FILENO};
        struct url u;
        struct sockaddr_storage ss;
        socklen_t len;
        char req[1536];
        size_t req_len, req_off = 0;
        uint64_t t0 = now_ns(), last = t0;
        int fd, err, rc = 1, n;

        if (url_parse(o->url, &u) != 0 || strlen(u.path) > 1024) {
                fprintf(stderr, "mpnet-http: %s: http://HOST[:PORT]/PATH expected\n", o->url);
                return 2;
        }
        if (o->out != NULL &&
            (g.out = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
                fprintf(stderr, "mpnet-http: %s: %s\n", o->out, strerror(errno));
                return 1;
        }
        n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mpnet-http\r\nAccept: */*\r\n"
                     "Connection: close\r\n\r\n",
                     u.path, u.host_str);
        req_len = (size_t)n;
        fd = mpnet_socket(s, u.host.family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        toolnet_sockaddr_of(u.host.family, &u.host, u.port, &ss, &len);
        err = fd < 0 ? fd : mpnet_connect(s, fd, (struct sockaddr *)&ss, len);
        if (err != 0 && err != -EINPROGRESS) {
                fprintf(stderr, "mpnet-http: connect to %s: %s\n", u.host_str, strerror(-err));
                goto out;
        }
        while (!g_stop && !get_done(&g)) {
                uint64_t now = now_ns();
                ssize_t k;

                if (now - last > (uint64_t)o->wait_s * 1000000000u) {
                        fprintf(stderr, "mpnet-http: %s: %s\n", u.host_str, strerror(ETIMEDOUT));
                        goto out;
                }
                if (req_off < req_len) {
                        int soerr = 0;
                        socklen_t sl = sizeof(soerr);

                        k = mpnet_sendto(s, fd, req + req_off, req_len - req_off, 0, NULL, 0);
                        if (k > 0)
                                req_off += (size_t)k;
                        mpnet_getsockopt(s, fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                        if ((k < 0 && k != -EAGAIN && k != -ENOTCONN) || soerr != 0) {
                                fprintf(stderr, "mpnet-http: connect to %s: %s\n", u.host_str,
                                        strerror(soerr != 0 ? soerr : (int)-k));
                                goto out;
                        }
                }
                while (!get_done(&g) &&
                       (k = mpnet_recvfrom(s, fd, buf, sizeof(buf), 0, NULL, NULL)) != -EAGAIN) {
                        if (k < 0) {
                                fprintf(stderr, "mpnet-http: receive: %s\n", strerror((int)-k));
                                goto out;
                        }
                        last = now;
                        if (k == 0) {
                                g.eof = true;
                                break;
                        }
                        if (!g.have_head) {
                                size_t room = sizeof(g.head) - g.head_len,
                                       t = (size_t)k < room ? (size_t)k : room;
                                int pr;

                                memcpy(g.head + g.head_len, buf, t);
                                g.head_len += t;
                                pr = http_resp_parse(g.head, g.head_len, &g.r);
                                if (pr < 0) {
                                        fprintf(stderr, "mpnet-http: a malformed response\n");
                                        goto out;
                                }
                                if (pr == 0) {
                                        if (t < (size_t)k) {
                                                fprintf(stderr, "mpnet-http: a malformed "
                                                                "response\n");
                                                goto out;
                                        }
                                        continue;
                                }
                                g.have_head = true;
                                if (o->verbose)
                                        fprintf(stderr, "mpnet-http: HTTP/1.%u %u\n", g.r.minor,
                                                g.r.status);
                                /* What followed the head in this read. */
                                size_t before = g.head_len - t;
                                size_t body_off = g.r.head_len - before;

                                if (get_body(&g, buf + body_off, (size_t)k - body_off) != 0)
                                        goto bad_body;
                                continue;
                        }
                        if (get_body(&g, buf, (size_t)k) != 0)
                                goto bad_body;
                }
                stack_wait(s, l, 20);
        }
        if (!g.have_head) {
                fprintf(stderr, "mpnet-http: no response from %s\n", u.host_str);
        } else if ((g.r.chunked && !http_chunk_done(&g.ch)) ||
                   (g.r.has_len && g.body != g.r.body_len)) {
                fprintf(stderr, "mpnet-http: the body ended short: %llu bytes\n",
                        (unsigned long long)g.body);
        } else if (g.r.status < 200 || g.r.status > 299) {
                fprintf(stderr, "mpnet-http: %s%s: HTTP status %u\n", u.host_str, u.path,
                        g.r.status);
        } else {
                rc = 0;
                if (o->verbose) {
                        double sec = (double)(now_ns() - t0) / 1e9;

                        fprintf(stderr, "mpnet-http: %llu bytes in %.3f s (%.1f Mbit/s)\n",
                                (unsigned long long)g.body, sec, (double)g.body * 8 / 1e6 / sec);
                }
        }
        goto out;
bad_body:
        fprintf(stderr, "mpnet-http: a malformed body, or writing it failed\n");
out:
        if (fd >= 0)
                mpnet_close(s, fd);
        for (uint64_t end = now_ns() + 300000000u; now_ns() < end;)
                stack_wait(s, l, 5); /* our FIN and the last ACKs go out */
        if (o->out != NULL && g.out >= 0)
                close(g.out);
        return rc;
}

int main(int argc, char **argv)
{
        struct opts o;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_stack *s = NULL;
        struct mpnet_link *l = NULL;
        int ifx, err, rc = 1;

        if (parse_opts(argc, argv, &o) != 0)
                return 2;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);
        mpnet_clock_init_monotonic(&clk);
        pool = mpnet_pool_create("mpnet-http", 8192);
        if (pool == NULL) {
                fprintf(stderr, "mpnet-http: no memory for the packet pool\n");
                return 1;
        }
        l = toolnet_link_open("mpnet-http", o.net.link, pool);
        if (l == NULL)
                goto done;
        s = mpnet_stack_create(&(struct mpnet_stack_cfg){
            .name = "mpnet-http", .clock = &clk, .pool = pool, .seed = (uint64_t)getpid()});
        if (s == NULL) {
                fprintf(stderr, "mpnet-http: stack: %s\n", strerror(errno));
                goto done;
        }
        ifx = mpnet_iface_attach(s, l, "http0");
        err = ifx < 0 ? ifx : toolnet_stack_setup(s, ifx, &o.net);
        if (err != 0) {
                fprintf(stderr, "mpnet-http: configuring the stack: %s\n", strerror(-err));
                goto done;
        }
        /* Duplicate address detection first (RFC 4862 5.4): up to 5 s. */
        for (uint64_t end = now_ns() + 5000000000u;
             !toolnet_addrs6_ready(s, ifx) && now_ns() < end;)
                stack_wait(s, l, 5);
        rc = o.serve ? run_serve(s, l, &o) : run_get(s, l, &o);
done:
        if (s != NULL)
                mpnet_stack_destroy(s);
        mpnet_link_destroy(l);
        mpnet_pool_destroy(pool);
        return rc;
}
