/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client side of the control socket (include/mpnet/ctl.h): connect,
 * send a datagram of requests, read answers until each request has its
 * final message.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mpnet/ctl.h"

struct mpnet_ctl {
        int fd;
        uint32_t seq, port;
        _Alignas(8) uint8_t rx[MPNET_CTL_DGRAM_MAX];
};

struct mpnet_ctl *mpnet_ctl_open(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct mpnet_ctl *c;

        if (path == NULL)
                path = getenv("MPNETD_SOCKET");
        if (path == NULL || *path == '\0')
                path = MPNET_CTL_SOCK;
        if (strlen(path) >= sizeof(sa.sun_path)) {
                errno = ENAMETOOLONG;
                return NULL;
        }
        strcpy(sa.sun_path, path);
        c = calloc(1, sizeof(*c));
        if (c == NULL)
                return NULL;
        c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                int e = errno;

                if (c->fd >= 0)
                        close(c->fd);
                free(c);
                errno = e;
                return NULL;
        }
        c->port = (uint32_t)getpid();
        c->seq = 1;
        return c;
}

void mpnet_ctl_close(struct mpnet_ctl *c)
{
        if (c == NULL)
                return;
        close(c->fd);
        free(c);
}

int mpnet_ctl_fd(const struct mpnet_ctl *c)
{
        return c->fd;
}

uint32_t mpnet_ctl_seq(struct mpnet_ctl *c)
{
        return c->seq++;
}

uint32_t mpnet_ctl_port(const struct mpnet_ctl *c)
{
        return c->port;
}

long mpnet_ctl_recv(struct mpnet_ctl *c, const uint8_t **data, int timeout_ms)
{
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        ssize_t n;
        int r;

        do
                r = poll(&pf, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return -ETIMEDOUT;
        do
                n = recv(c->fd, c->rx, sizeof(c->rx), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        *data = c->rx;
        return (long)n;
}

/* The sequence numbers of a datagram's requests, to tick off as their final
 * answers come. */
struct pending {
        uint32_t *seq;
        unsigned n;
};

static int pending_init(struct pending *p, const struct mpnet_ctl_buf *req)
{
        struct mpnet_ctl_view m;
        size_t off = 0;
        unsigned cap = 0;
        int r;

        p->n = 0;
        p->seq = NULL;
        while ((r = mpnet_ctl_msg_next(req->b, req->len, &off, &m, NULL, 0)) == 1) {
                if (p->n == cap) {
                        uint32_t *v = realloc(p->seq, (cap ? cap * 2 : 64) * sizeof(*v));

                        if (v == NULL) {
                                free(p->seq);
                                return -ENOMEM;
                        }
                        p->seq = v;
                        cap = cap ? cap * 2 : 64;
                }
                p->seq[p->n++] = m.h->seq;
        }
        if (r < 0)
                free(p->seq);
        return r;
}

/* Tick off seq. @return whether it was outstanding. */
static bool pending_done(struct pending *p, uint32_t seq)
{
        for (unsigned i = 0; i < p->n; i++) {
                if (p->seq[i] == seq) {
                        p->seq[i] = p->seq[--p->n];
                        return true;
                }
        }
        return false;
}

struct exchange {
        mpnet_ctl_reply_fn fn;
        void *arg;
        int err, stop;
        char *why;
        size_t why_len;
};

static void answer(struct exchange *x, struct pending *p, const struct mpnet_ctl_view *m)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];

        if (m->h->type == MPNET_CTL_ERROR) {
                if (!pending_done(p, m->h->seq) && m->h->seq != 0)
                        return;
                if (m->error != 0 && x->fn != NULL && x->stop == 0)
                        x->stop = x->fn(x->arg, m);
                if (m->error != 0 && x->err == 0) {
                        x->err = m->error;
                        if (x->why != NULL && x->why_len > 0) {
                                mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
                                snprintf(x->why, x->why_len, "%s",
                                         tb[MPNET_CTLA_EXT_MSG] != NULL
                                             ? mpnet_ctl_attr_str(tb[MPNET_CTLA_EXT_MSG])
                                             : strerror(-m->error));
                        }
                }
                /* An error for no request (seq 0): the datagram as a whole
                 * was refused, nothing else will come. */
                if (m->h->seq == 0)
                        p->n = 0;
        } else if (m->h->type == MPNET_CTL_DONE) {
                pending_done(p, m->h->seq);
        } else if (m->h->type != MPNET_CTL_EVENT && x->fn != NULL && x->stop == 0) {
                x->stop = x->fn(x->arg, m);
        }
}

int mpnet_ctl_exchange(struct mpnet_ctl *c, const struct mpnet_ctl_buf *req, mpnet_ctl_reply_fn fn,
                       void *arg, char *why, size_t why_len, int timeout_ms)
{
        struct exchange x = {.fn = fn, .arg = arg, .why = why, .why_len = why_len};
        struct pending p;
        int r;

        if (why != NULL && why_len > 0)
                why[0] = '\0';
        r = pending_init(&p, req);
        if (r < 0)
                return r;
        if (send(c->fd, req->b, req->len, MSG_NOSIGNAL) != (ssize_t)req->len) {
                r = -errno;
                free(p.seq);
                return r;
        }
        while (p.n > 0) {
                const uint8_t *d;
                long n = mpnet_ctl_recv(c, &d, timeout_ms);
                struct mpnet_ctl_view m;
                size_t off = 0;

                if (n <= 0) {
                        x.err = n == 0 ? -ECONNRESET : (int)n;
                        break;
                }
                while ((r = mpnet_ctl_msg_next(d, (size_t)n, &off, &m, NULL, 0)) == 1)
                        if (m.err == 0)
                                answer(&x, &p, &m);
                if (r < 0) {
                        x.err = -EBADMSG;
                        break;
                }
        }
        free(p.seq);
        return x.err != 0 ? x.err : x.stop;
}
