/* SPDX-License-Identifier: BSD-2-Clause */
/* Network-namespace and interface helpers of the kernel-interface back
 * ends (netns.h). */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

int link_dev_query(const char *ifname, struct link_dev *d, const struct link_err *e)
{
        struct ifreq ifr;
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

        if (s < 0)
                return -errno;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
        if (ioctl(s, SIOCGIFINDEX, &ifr) != 0) {
                rc = -errno;
                link_msg(e, "no interface %s: %s", ifname, strerror(errno));
                goto out;
        }
        d->ifindex = ifr.ifr_ifindex;
        if (ioctl(s, SIOCGIFMTU, &ifr) != 0) {
                rc = -errno;
                link_msg(e, "MTU of %s: %s", ifname, strerror(errno));
                goto out;
        }
        d->mtu = (uint32_t)ifr.ifr_mtu;
        if (ioctl(s, SIOCGIFHWADDR, &ifr) != 0) {
                rc = -errno;
                link_msg(e, "address of %s: %s", ifname, strerror(errno));
                goto out;
        }
        if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
                link_msg(e, "%s is not an Ethernet interface", ifname);
                rc = -EINVAL;
                goto out;
        }
        memcpy(d->mac, ifr.ifr_hwaddr.sa_data, 6);
out:
        close(s);
        return rc;
}
