/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * toolnet: what the one-stack tools (mpnet-nc, mpnet-http) share: reading
 * the --addr, --gw and --link arguments, opening the link and giving the
 * stack its addresses and routes, and socket address helpers.
 *
 * Synchronisation: none; each call runs on the caller's thread, the
 * stack's control thread where a stack is passed.
 */
#ifndef MPNET_TOOLNET_H
#define MPNET_TOOLNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct mpnet_link;
struct mpnet_pool;
struct mpnet_stack;

/* An address as given on the command line. */
struct toolnet_addr {
        int family;    /* AF_INET or AF_INET6 */
        uint8_t a[16]; /* IPv4 in the first 4 bytes, network order */
        uint8_t plen;  /* --addr only */
};

#define TOOLNET_MAX_ADDRS 8

/* What --link, --addr, --gw and --mtu said. */
struct toolnet_cfg {
        const char *link;
        struct toolnet_addr addr[TOOLNET_MAX_ADDRS], gw[TOOLNET_MAX_ADDRS];
        unsigned n_addr, n_gw;
        unsigned mtu; /* 0: the link's */
};

/*
 * Takes getopt_long's OPT for --link ('L'), --addr ('A'), --gw ('G') or
 * --mtu ('M') with its ARG into C. @return 1 when taken, 0 when OPT is none
 * of them, -1 for a bad value or one address too many.
 */
int toolnet_opt(struct toolnet_cfg *c, int opt, const char *arg);

/* A decimal in [min, max] into *out. @return 0, or -1 when it is not. */
int toolnet_parse_long(const char *s, long min, long max, long *out);

/* An IPv4 or IPv6 address. @return 0, or -1 when it is neither. */
int toolnet_parse_ip(const char *s, struct toolnet_addr *a);

/* ADDR/PLEN. @return 0, or -1 when malformed. */
int toolnet_parse_prefix(const char *s, struct toolnet_addr *a);

/*
 * Opens the link named by SPEC (tap:NAME[@NETNS], afpacket:DEV[@NETNS],
 * afxdp:DEV[@NETNS]) on POOL. @return the link, or NULL after a line on
 * standard error that begins with PROG.
 */
struct mpnet_link *toolnet_link_open(const char *prog, const char *spec, struct mpnet_pool *pool);

/*
 * Sets interface IFX's MTU (when C's is not 0), adds C's addresses (enabling IPv6
 * for an IPv6 one) and a default route through each of its gateways.
 * @return 0 or the first negative errno.
 */
int toolnet_stack_setup(struct mpnet_stack *s, int ifx, const struct toolnet_cfg *c);

/* Whether every IPv6 address of IFX passed duplicate address detection. */
bool toolnet_addrs6_ready(struct mpnet_stack *s, int ifx);

/*
 * A FAMILY socket address for A (NULL: the wildcard) and PORT; an IPv4 A
 * in AF_INET6 becomes v4-mapped. @return 0, or -1 for an IPv6 A in AF_INET.
 */
int toolnet_sockaddr_of(int family, const struct toolnet_addr *a, unsigned port,
                        struct sockaddr_storage *ss, socklen_t *len);

/* "ADDR port PORT" into OUT. */
void toolnet_addr_str(const struct sockaddr_storage *ss, char *out, size_t n);

#endif
