/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd: the worker runtime and any number of stacks, configured over the
 * control socket (docs/CONTROL.md). One control thread owns everything
 * here: it accepts and answers clients, polls every stack (timers, ARP and
 * ND, what the workers punt) and forwards the stacks' events; the
 * runtime's workers forward packets.
 *
 * Synchronisation: none here; the workers see stacks only through
 * mpnet_runtime_assign(), and a link is detached (which waits for a grace
 * period) before it is destroyed.
 *
 * Life cycle: mpnetd_init (the configuration file replayed, then
 * rewritten), mpnetd_run until SIGTERM/SIGINT, mpnetd_fini removes every
 * link (TAP devices, XDP programs), stack, and the socket.
 */
#ifndef MPNETD_H
#define MPNETD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mpnet/ctl.h"
#include "mpnet/route.h"
#include "mpnet/stack.h"
#include "mpnet/worker.h"

#define DLINK_MAX_Q       16
#define DSTACK_MAX_IFACES 64 /* the stack's own bound (mpnet_iface_attach: -ENOSPC) */

struct dstack;

struct dlink {
        struct dstack *st;
        char name[32];
        char kind[16];
        struct mpnet_link *link;
        int ifindex;
        struct dlink *peer; /* mem: the other end */
        bool owner;         /* mem: this end was named in LINK_NEW */
        bool up;
        uint32_t table;
        uint16_t n_rxq;
        int worker[DLINK_MAX_Q]; /* which worker polls each receive queue */
        /* LINK_NEW's options, kept for the configuration file. */
        char dev[16], netns[128], mode[16], ports[128];
        uint32_t queues, mtu_opt;
};

struct dstack {
        char name[32];
        struct mpnet_stack *s;
        struct dlink *links[DSTACK_MAX_IFACES + 1]; /* by ifindex */
        struct dstack *next;
};

struct dping {
        struct dstack *st;
        uint32_t seq;
        uint16_t id;
        uint8_t dst[16];
        bool v6;
        uint32_t count, sent, received;
        uint64_t next_send, deadline, rtt_ns;
        struct dping *next;
};

struct dcapture {
        struct dlink *l;
        uint32_t seq; /* of the CAPTURE request, answered when it ends */
        struct dcapture *next;
};

struct dclient {
        int fd;
        pid_t pid;
        uid_t uid;
        bool can_read, can_write;
        uint32_t groups;
        uint64_t events_dropped;
        struct dping *pings;
        struct dcapture *caps;
        struct dclient *next;
};

struct mpnetd_cfg {
        const char *sock_path;
        const char *conf_path; /* NULL: no configuration file */
        gid_t group;           /* readers' group; (gid_t)-1: anyone who can connect */
        unsigned n_workers;
        uint32_t pool_size;
        const char *dpdk_eal; /* EAL arguments, or NULL: no dpdk links */
        bool verbose;
};

struct mpnetd {
        struct mpnetd_cfg cfg;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        struct mpnet_runtime *rt;
        struct dstack *stacks;
        struct dstack *stack_last; /* the last one found: a batch names one again and again */
        unsigned n_stacks;
        struct dclient *clients;
        int lfd, sigfd;
        int journal; /* the configuration file, open for appending, or -1 */
        bool replaying;
        uint16_t ping_id;
        uint64_t stack_evseq;
        struct mpnet_ctl_buf out;
        struct dclient *out_to;
        _Alignas(8) uint8_t out_mem[MPNET_CTL_DGRAM_MAX];
        _Alignas(8) uint8_t in_mem[MPNET_CTL_DGRAM_MAX];
};

/* daemon.c */
int mpnetd_init(struct mpnetd *d, const struct mpnetd_cfg *cfg);
int mpnetd_run(struct mpnetd *d);
void mpnetd_fini(struct mpnetd *d);
struct dstack *mpnetd_stack_find(struct mpnetd *d, const char *name);
struct mpnet_event;
void mpnetd_event_send(struct mpnetd *d, const struct dstack *st, const struct mpnet_event *e,
                       uint32_t group);
void mpnetd_log(struct mpnetd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A ROUTE_NEW request as its attributes say it (docs/CONTROL.md), before
 * any check: decoded from a message, or parsed from a configuration line
 * by config.c without making the message. */
struct mpnetd_route_path {
        const char *ifname; /* or NULL */
        uint8_t gw_len;     /* 0: no gateway; else 4 or 16 */
        uint8_t gw[16];
};

struct mpnetd_route {
        uint32_t table;
        bool replace;
        uint8_t nhtype; /* 0xff: none given (a gateway or connected route) */
        uint8_t addr_len;
        uint8_t dst[16];
        uint8_t plen;
        unsigned n_paths; /* as many as were given; more than fit is refused */
        struct mpnetd_route_path paths[MPNET_ROUTE_MAX_PATHS];
};

/* handlers.c: one request. why gets the extended-ack text.
 * @return 0 or a negative errno. */
int mpnetd_handle(struct mpnetd *d, struct dclient *c, const struct mpnet_ctl_view *m, char *why,
                  size_t why_len);
bool mpnetd_is_change(unsigned type);
/* ROUTE_NEW in stack st: the checks, the errors and their texts are the
 * message's. @return 0 or a negative errno. */
int mpnetd_route_new(struct mpnetd *d, struct dstack *st, const struct mpnetd_route *rq, char *why,
                     size_t why_len);
void mpnetd_stack_free(struct mpnetd *d, struct dstack *st);
void mpnetd_pings_run(struct mpnetd *d, struct dclient *c);
void mpnetd_pings_free(struct dclient *c);

/* Output to the client being answered: room for one more message (flushing
 * what is there when less than need is left), and the flush. */
void mpnetd_out_room(struct mpnetd *d, size_t need);
int mpnetd_out_flush(struct mpnetd *d);

/* capture.c: CAPTURE (@return 1: answered when it ends), and the ends:
 * counts reached (each poll), the client gone, the link gone. */
int mpnetd_capture_start(struct mpnetd *d, struct dclient *c, struct dlink *l,
                         const struct mpnet_ctl_view *m, const struct mpnet_ctl_attr *const *tb,
                         char *why, size_t why_len);
void mpnetd_captures_run(struct mpnetd *d, struct dclient *c);
void mpnetd_captures_client_gone(struct mpnetd *d, struct dclient *c);
void mpnetd_captures_link_gone(struct mpnetd *d, const struct dlink *l);

/* config.c */
#define MPNETD_LINE_MAX 4096 /* a configuration line, its newline included */
int mpnetd_config_load(struct mpnetd *d);
int mpnetd_config_save(struct mpnetd *d);
void mpnetd_config_journal(struct mpnetd *d, const struct mpnet_ctl_view *m);
/* config_route.c: a line in a route form that a save writes, applied
 * directly. @return 1: not such a line (make the message), else as
 * mpnetd_route_new(). */
int mpnetd_config_route(struct mpnetd *d, const char *line, char *why, size_t why_len);

#endif
