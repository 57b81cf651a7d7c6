/* SPDX-License-Identifier: BSD-2-Clause */
/* Network-namespace helpers of the kernel-interface back ends (netns.h). */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "link/netns.h"

void link_msg(const struct link_err *e, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (e->buf != NULL && e->len > 0)
                snprintf(e->buf, e->len, "%s: %s", e->who, msg);
        else
                fprintf(stderr, "mpnet: %s: %s\n", e->who, msg);
}

int link_netns_open(const char *netns, const struct link_err *e)
{
        char path[PATH_MAX];
        int fd;

        if (strchr(netns, '/') != NULL)
                snprintf(path, sizeof(path), "%s", netns);
        else
                snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fd = -errno;
                link_msg(e, "network namespace %s: %s", path, strerror(errno));
        }
        return fd;
}

struct ns_job {
        int nsfd;
        int (*fn)(void *);
        void *arg;
        const struct link_err *e;
        int rc;
};

static void *ns_thread(void *p)
{
        struct ns_job *j = p;

        /* This thread alone moves; it ends right after the work. */
        if (setns(j->nsfd, CLONE_NEWNET) != 0) {
                j->rc = -errno;
                link_msg(j->e, "cannot enter the network namespace: %s%s", strerror(errno),
                         errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
                return NULL;
        }
        j->rc = j->fn(j->arg);
        return NULL;
}

int link_in_netns_fd(int nsfd, int (*fn)(void *), void *arg, const struct link_err *e)
{
        struct ns_job j = {.nsfd = nsfd, .fn = fn, .arg = arg, .e = e};
        pthread_t t;
        int rc;

        if (nsfd < 0)
                return fn(arg);
        rc = pthread_create(&t, NULL, ns_thread, &j);
        if (rc != 0) {
                link_msg(e, "cannot start a thread: %s", strerror(rc));
                return -rc;
        }
        pthread_join(t, NULL);
        return j.rc;
}

int link_in_netns(const char *netns, int (*fn)(void *), void *arg, const struct link_err *e)
{
        int fd, rc;

        if (netns == NULL)
                return fn(arg);
        fd = link_netns_open(netns, e);
        if (fd < 0)
                return fd;
        rc = link_in_netns_fd(fd, fn, arg, e);
        close(fd);
        return rc;
}
