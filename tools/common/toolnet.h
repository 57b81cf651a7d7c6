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
 * Sets interface IFX's MTU (when not 0), adds the addresses (enabling IPv6
 * for an IPv6 one) and a default route through each gateway.
 * @return 0 or the first negative errno.
 */
int toolnet_stack_setup(struct mpnet_stack *s, int ifx, unsigned mtu,
                        const struct toolnet_addr *addr, unsigned n_addr,
                        const struct toolnet_addr *gw, unsigned n_gw);

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
