/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd's control thread: the socket and its clients (SO_PEERCRED access
 * control), the poll loop over every stack, events to subscribers, and
 * the clean-up on SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mpnet/event.h"
#include "mpnetd/mpnetd.h"

#define CAP_NET_ADMIN_BIT 12
#define POLL_MAX_MS       5 /* the longest the control thread leaves punted packets */

void mpnetd_log(struct mpnetd *d, const char *fmt, ...)
{
        va_list ap;

        (void)d;
        va_start(ap, fmt);
        fputs("mpnetd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

struct dstack *mpnetd_stack_find(struct mpnetd *d, const char *name)
{
        if (d->stack_last != NULL && strcmp(d->stack_last->name, name) == 0)
                return d->stack_last;
        for (struct dstack *st = d->stacks; st != NULL; st = st->next)
                if (strcmp(st->name, name) == 0)
                        return d->stack_last = st;
        return NULL;
}

/* ---- access control ----------------------------------------------------- */

/* From /proc/PID/status: the effective capabilities and the supplementary
 * groups. The peer may have changed them since it connected; what counts
 * is what it had when the daemon looked (at accept), as SO_PEERCRED's
 * credentials are those of connect(). */
static void peer_status(pid_t pid, uint64_t *cap_eff, gid_t want, bool *in_group)
{
        char path[64], line[1024];
        FILE *f;

        *cap_eff = 0;
        *in_group = false;
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        if (f == NULL)
                return;
        while (fgets(line, sizeof(line), f) != NULL) {
                unsigned long long v;

                if (sscanf(line, "CapEff: %llx", &v) == 1)
                        *cap_eff = v;
                if (strncmp(line, "Groups:", 7) == 0) {
                        char *p = line + 7, *end;

                        for (;;) {
                                unsigned long g = strtoul(p, &end, 10);

                                if (end == p)
                                        break;
                                if ((gid_t)g == want)
                                        *in_group = true;
                                p = end;
                        }
                }
        }
        fclose(f);
}

static void client_creds(struct mpnetd *d, struct dclient *c)
{
        struct ucred cr;
        socklen_t len = sizeof(cr);
        uint64_t cap = 0;
        bool in_group = false;

        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
                return; /* no credentials: neither read nor write */
        c->pid = cr.pid;
        c->uid = cr.uid;
        peer_status(cr.pid, &cap, d->cfg.group, &in_group);
        c->can_write = cr.uid == 0 || ((cap >> CAP_NET_ADMIN_BIT) & 1);
        c->can_read = c->can_write || cr.uid == geteuid() || d->cfg.group == (gid_t)-1 ||
                      cr.gid == d->cfg.group || in_group;
}

/* ---- output ------------------------------------------------------------- */

int mpnetd_out_flush(struct mpnetd *d)
{
        ssize_t n;

        if (d->out.len == 0 || d->out_to == NULL) {
                d->out.len = 0;
                return 0;
        }
        do
                n = send(d->out_to->fd, d->out.b, d->out.len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        d->out.len = 0;
        return n < 0 ? -errno : 0;
}

void mpnetd_out_room(struct mpnetd *d, size_t need)
{
        if (d->out.cap - d->out.len < need)
                mpnetd_out_flush(d);
}

static void reply_error(struct mpnetd *d, uint32_t seq, int err, const char *why)
{
        mpnetd_out_room(d, 512);
        mpnet_ctl_msg_begin(&d->out, MPNET_CTL_ERROR, 0, seq, 0);
        mpnet_ctl_put_s32(&d->out, err);
        if (err != 0 && why != NULL && why[0] != '\0')
                mpnet_ctl_put_str(&d->out, MPNET_CTLA_EXT_MSG, why);
        mpnet_ctl_msg_end(&d->out);
}

/* ---- clients ------------------------------------------------------------ */

static void client_accept(struct mpnetd *d)
{
        struct timeval tv = {.tv_sec = 2};
        struct dclient *c;
        int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
                close(fd);
                return;
        }
        c->fd = fd;
        /* Answers are sent blocking, but a client that stops reading is
         * not waited for past this. */
        fcntl(fd, F_SETFL, 0);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        client_creds(d, c);
        c->next = d->clients;
        d->clients = c;
}

/* Its captures end (and are answered: a client that half-closed its
 * socket, as mpnetctl does on ^C, still reads the answer). */
static void client_free(struct mpnetd *d, struct dclient *c)
{
        mpnetd_captures_client_gone(d, c);
        mpnetd_pings_free(c);
        close(c->fd);
        free(c);
}

/* @return the request's error (0: done, or answered later). */
static int request(struct mpnetd *d, struct dclient *c, const struct mpnet_ctl_view *m)
{
        const char *tn = mpnet_ctl_type_name(m->h->type);
        char why[256] = "";
        int err;

        if (m->err != 0) {
                reply_error(d, m->h->seq, m->err, m->why);
                return m->err;
        }
        if (!(mpnetd_is_change(m->h->type) ? c->can_write : c->can_read)) {
                snprintf(why, sizeof(why), "%s needs %s", tn ? tn : "this request",
                         mpnetd_is_change(m->h->type) ? "root or CAP_NET_ADMIN"
                                                      : "the socket's group");
                mpnetd_log(d, "uid %u pid %d: %s refused (EPERM)", (unsigned)c->uid, (int)c->pid,
                           tn ? tn : "?");
                reply_error(d, m->h->seq, -EPERM, why);
                return -EPERM;
        }
        err = mpnetd_handle(d, c, m, why, sizeof(why));
        if (err == 1)
                return 0; /* answered later (PING, CAPTURE) */
        if (err == 0 && mpnetd_is_change(m->h->type))
                mpnetd_config_journal(d, m);
        if (err == 0 && (m->h->flags & MPNET_CTL_F_DUMP)) {
                mpnetd_out_room(d, 64);
                mpnet_ctl_msg_begin(&d->out, MPNET_CTL_DONE, MPNET_CTL_F_MULTI, m->h->seq, 0);
                mpnet_ctl_msg_end(&d->out);
        } else {
                reply_error(d, m->h->seq, err, why);
        }
        return err;
}

/* @return false when the client went away. */
static bool client_read(struct mpnetd *d, struct dclient *c)
{
        struct mpnet_ctl_view m;
        char why[128];
        size_t off = 0;
        ssize_t n;
        int r;

        n = recv(c->fd, d->in_mem, sizeof(d->in_mem), MSG_DONTWAIT | MSG_TRUNC);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return false;
        if (n < 0)
                return true;
        d->out_to = c;
        if ((size_t)n > sizeof(d->in_mem)) {
                snprintf(why, sizeof(why), "datagram of %zd bytes, more than %u", n,
                         MPNET_CTL_DGRAM_MAX);
                reply_error(d, 0, -EMSGSIZE, why);
        } else {
                bool stop = false;

                while ((r = mpnet_ctl_msg_next(d->in_mem, (size_t)n, &off, &m, why, sizeof(why))) ==
                       1) {
                        if (stop)
                                reply_error(d, m.h->seq, -ECANCELED,
                                            "not run: a request before it failed");
                        else if (request(d, c, &m) != 0 && (m.h->flags & MPNET_CTL_F_STOP))
                                stop = true;
                }
                if (r < 0)
                        reply_error(d, 0, r, why);
        }
        mpnetd_out_flush(d);
        d->out_to = NULL;
        return true;
}

/* ---- events ------------------------------------------------------------- */

static uint32_t event_group(enum mpnet_event_type t)
{
        switch (t) {
        case MPNET_EV_ADDR_ADD:
        case MPNET_EV_ADDR_DEL:
                return MPNET_CTL_G_ADDR;
        case MPNET_EV_ROUTE_ADD:
        case MPNET_EV_ROUTE_DEL:
        case MPNET_EV_ROUTE_REPLACE:
                return MPNET_CTL_G_ROUTE;
        case MPNET_EV_NEIGH_REACHABLE:
        case MPNET_EV_NEIGH_FAILED:
        case MPNET_EV_NEIGH_DEL:
                return MPNET_CTL_G_NEIGH;
        default:
                return MPNET_CTL_G_LINK;
        }
}

static void event_put(struct mpnet_ctl_buf *b, const struct dstack *st, const struct mpnet_event *e)
{
        mpnet_ctl_msg_begin(b, MPNET_CTL_EVENT, 0, 0, 0);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, st->name);
        mpnet_ctl_put_u32(b, MPNET_CTLA_EVTYPE, e->type);
        mpnet_ctl_put_u64(b, MPNET_CTLA_EVSEQ, e->seq);
        if (e->ifindex > 0 && e->ifindex <= DSTACK_MAX_IFACES && st->links[e->ifindex] != NULL)
                mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, st->links[e->ifindex]->name);
        if (e->family != 0) {
                uint32_t a4 = htonl(e->addr4);

                mpnet_ctl_put_u8(b, MPNET_CTLA_FAMILY, e->family);
                if (e->family == 4)
                        mpnet_ctl_put(b, MPNET_CTLA_ADDR, &a4, 4);
                else
                        mpnet_ctl_put(b, MPNET_CTLA_ADDR, e->addr6, 16);
                /* A neighbour is one address, not a prefix. */
                if (e->type >= MPNET_EV_ADDR_ADD && e->type <= MPNET_EV_ROUTE_REPLACE)
                        mpnet_ctl_put_u8(b, MPNET_CTLA_PLEN, e->plen);
        }
        if (e->type >= MPNET_EV_ROUTE_ADD && e->type <= MPNET_EV_ROUTE_REPLACE)
                mpnet_ctl_put_u32(b, MPNET_CTLA_TABLE, e->table);
        if (e->type == MPNET_EV_NEIGH_REACHABLE)
                mpnet_ctl_put(b, MPNET_CTLA_MAC, e->mac, 6);
        mpnet_ctl_msg_end(b);
}

/* Send one event to every client subscribed to its group; a client whose
 * socket is full loses it (counted), the daemon does not wait. */
void mpnetd_event_send(struct mpnetd *d, const struct dstack *st, const struct mpnet_event *e,
                       uint32_t group)
{
        _Alignas(8) uint8_t mem[1024];
        struct mpnet_ctl_buf b;

        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        event_put(&b, st, e);
        for (struct dclient *c = d->clients; c != NULL; c = c->next)
                if ((c->groups & group) != 0 &&
                    send(c->fd, b.b, b.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        c->events_dropped++;
}

static void events_drain(struct mpnetd *d, struct dstack *st)
{
        struct mpnet_event ev[64];
        unsigned n;
        bool any = false;

        for (struct dclient *c = d->clients; c != NULL && !any; c = c->next)
                any = c->groups != 0;
        while ((n = mpnet_stack_events(st->s, ev, 64)) > 0)
                for (unsigned i = 0; i < n && any; i++)
                        mpnetd_event_send(d, st, &ev[i], event_group(ev[i].type));
}

/* ---- the loop ----------------------------------------------------------- */

static int socket_open(struct mpnetd *d)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *p = d->cfg.sock_path;

        if (strlen(p) >= sizeof(sa.sun_path)) {
                mpnetd_log(d, "socket path too long: %s", p);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, p);
        d->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (d->lfd < 0)
                return -errno;
        /* A socket file left by a daemon that was killed: nobody listens. */
        unlink(p);
        if (bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(d->lfd, 64) != 0) {
                int e = errno;

                mpnetd_log(d, "%s: %s", p, strerror(e));
                return -e;
        }
        /* The socket's mode and group are the first gate (docs/CONTROL.md). */
        if (d->cfg.group != (gid_t)-1) {
                if (chown(p, (uid_t)-1, d->cfg.group) != 0)
                        mpnetd_log(d, "chown %s: %s", p, strerror(errno));
                chmod(p, 0660);
        } else {
                chmod(p, 0666);
        }
        return 0;
}

int mpnetd_init(struct mpnetd *d, const struct mpnetd_cfg *cfg)
{
        struct mpnet_runtime_cfg rc = {.n_workers = cfg->n_workers ? cfg->n_workers : 1};
        sigset_t ss;
        int err;

        memset(d, 0, sizeof(*d));
        d->cfg = *cfg;
        d->lfd = d->sigfd = d->journal = -1;
        /* Blocked before the workers start, so that they inherit the mask
         * and the signals reach the signalfd, not a worker. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        d->sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
        signal(SIGPIPE, SIG_IGN);

        mpnet_clock_init_monotonic(&d->clk);
        mpnet_ctl_buf_init(&d->out, d->out_mem, sizeof(d->out_mem));
        d->pool = mpnet_pool_create("mpnetd", cfg->pool_size ? cfg->pool_size : 32768);
        d->rt = mpnet_runtime_create(&rc);
        if (d->pool == NULL || d->rt == NULL || mpnet_runtime_start(d->rt) != 0) {
                mpnetd_log(d, "cannot make the packet pool or %u workers", rc.n_workers);
                return -ENOMEM;
        }
        err = mpnetd_config_load(d);
        if (err != 0)
                return err;
        return socket_open(d);
}

static uint64_t stacks_poll(struct mpnetd *d)
{
        uint64_t now = mpnet_clock_now(&d->clk), next = MPNET_TIME_NEVER;

        for (struct dstack *st = d->stacks; st != NULL; st = st->next) {
                uint64_t t = mpnet_stack_poll(st->s, now);

                if (t < next)
                        next = t;
                events_drain(d, st);
        }
        for (struct dclient *c = d->clients; c != NULL; c = c->next) {
                if (c->pings != NULL)
                        mpnetd_pings_run(d, c);
                if (c->caps != NULL)
                        mpnetd_captures_run(d, c);
        }
        return next == MPNET_TIME_NEVER ? next : (next > now ? next - now : 0);
}

static int loop_once(struct mpnetd *d, struct pollfd *pf, unsigned cap)
{
        uint64_t wait = stacks_poll(d);
        unsigned n = 0;
        int ms = POLL_MAX_MS;

        if (wait / 1000000 < (uint64_t)ms)
                ms = (int)(wait / 1000000);
        if (d->stacks == NULL)
                ms = 100;
        pf[n++] = (struct pollfd){.fd = d->lfd, .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
        for (struct dclient *c = d->clients; c != NULL && n < cap; c = c->next)
                pf[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        if (poll(pf, n, ms) < 0 && errno != EINTR)
                return -errno;
        if (pf[1].revents & POLLIN)
                return 1;
        if (pf[0].revents & POLLIN)
                client_accept(d);
        for (struct dclient **pc = &d->clients; *pc != NULL;) {
                struct dclient *c = *pc;
                bool keep = true;

                for (unsigned i = 2; i < n; i++)
                        if (pf[i].fd == c->fd && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                keep = client_read(d, c);
                if (!keep) {
                        *pc = c->next;
                        client_free(d, c);
                } else {
                        pc = &c->next;
                }
        }
        return 0;
}

int mpnetd_run(struct mpnetd *d)
{
        struct pollfd pf[1026];
        int r;

        while ((r = loop_once(d, pf, 1026)) == 0)
                ;
        return r < 0 ? r : 0;
}

void mpnetd_fini(struct mpnetd *d)
{
        while (d->clients != NULL) {
                struct dclient *c = d->clients;

                d->clients = c->next;
                client_free(d, c);
        }
        while (d->stacks != NULL)
                mpnetd_stack_free(d, d->stacks);
        mpnet_runtime_destroy(d->rt);
        if (d->pool != NULL)
                mpnet_pool_destroy(d->pool);
        if (d->lfd >= 0) {
                close(d->lfd);
                unlink(d->cfg.sock_path);
        }
        if (d->sigfd >= 0)
                close(d->sigfd);
        if (d->journal >= 0)
                close(d->journal);
}
