/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Network-namespace helpers shared by the back ends on kernel interfaces
 * (tap, afpacket, afxdp): work that must happen inside another namespace
 * runs on a short-lived thread that enters it, so the caller's namespace
 * never changes. And the one-line error reports of their create calls, and
 * the query of a kernel interface they all start with.
 * Internal to the link layer.
 */
#ifndef MPNET_LINK_NETNS_H
#define MPNET_LINK_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* Where a back end's create call reports a failure: a caller's buffer, or
 * stderr when buf is NULL; who prefixes the message ("tap", ...). */
struct link_err {
        char *buf;
        size_t len;
        const char *who;
};

/** Report a failure: "WHO: message". */
void link_msg(const struct link_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Open a namespace: a name under /var/run/netns, or a path with a '/'.
 * @return the descriptor, or -errno (reported). */
int link_netns_open(const char *netns, const struct link_err *e);

/** Run fn(arg) inside the namespace nsfd refers to, or here when nsfd < 0.
 * @return what fn returned, or -errno (reported) when the namespace could
 * not be entered. */
int link_in_netns_fd(int nsfd, int (*fn)(void *), void *arg, const struct link_err *e);

/** The same with the namespace named (NULL: here). */
int link_in_netns(const char *netns, int (*fn)(void *), void *arg, const struct link_err *e);

/* What the kernel says of an Ethernet interface. */
struct link_dev {
        int ifindex;
        uint32_t mtu;
        uint8_t mac[6];
};

/** Query ifname's index, MTU and address in the calling thread's namespace.
 * @return 0, or -errno (reported): no such interface, a failed query, or
 * -EINVAL when it is not Ethernet. */
int link_dev_query(const char *ifname, struct link_dev *d, const struct link_err *e);

#endif
