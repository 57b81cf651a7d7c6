/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ctl.h
 * The control protocol of mpnetd and its C client (docs/CONTROL.md is the
 * message catalogue). Messages are shaped as rtnetlink's (RFC 3549): a
 * 16-byte header (length, type, flags, sequence, port) and typed
 * attributes (length, type, value padded to 4 bytes), which may nest. They
 * travel over a Unix SOCK_SEQPACKET socket, one or more messages to a
 * datagram of at most MPNET_CTL_DGRAM_MAX bytes. All integers are in host
 * byte order (the socket never leaves the machine); addresses are in
 * network order, 4 or 16 bytes.
 *
 * Every request is answered by exactly one final message for its sequence
 * number: MPNET_CTL_ERROR with error 0 (an acknowledgement) or a negative
 * errno and an extended-ack text (MPNET_CTLA_EXT_MSG); a dump request
 * (MPNET_CTL_F_DUMP) is answered by data messages flagged MPNET_CTL_F_MULTI
 * and then MPNET_CTL_DONE, or MPNET_CTL_ERROR.
 *
 * The decoder (mpnet_ctl_msg_next) checks every length before reading: the
 * header, each attribute against what is left of its parent, the type and
 * the size each attribute type allows, strings NUL-terminated, nesting
 * depth. After it accepted a message, the attribute getters cannot read out
 * of bounds.
 *
 * Threads: a struct mpnet_ctl_buf and a struct mpnet_ctl are each one
 * thread's; the functions keep no other state.
 */
#ifndef MPNET_CTL_H
#define MPNET_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpnet/export.h"

#define MPNET_CTL_VERSION   1     /* of the catalogue in docs/CONTROL.md */
#define MPNET_CTL_DGRAM_MAX 65536 /* a datagram; a message is at most that */
#define MPNET_CTL_DEPTH_MAX 4     /* nesting levels below the message */
#define MPNET_CTL_HDRLEN    16
#define MPNET_CTL_ALIGN(n)  (((n) + 3u) & ~3u)
#define MPNET_CTL_SOCK      "/run/mpnetd.sock" /* the default socket */

struct mpnet_ctl_hdr {
        uint32_t len; /* of the message, header included, before padding */
        uint16_t type;
        uint16_t flags;
        uint32_t seq;  /* chosen by the requester, echoed in the answers */
        uint32_t port; /* the requester's id (its pid), 0 from the daemon */
};

/* Message types; X(name, value). */
#define MPNET_CTL_TYPES(X)                                                                         \
        X(NOOP, 1)                                                                                 \
        X(ERROR, 2)                                                                                \
        X(DONE, 3)                                                                                 \
        X(STACK_NEW, 16)                                                                           \
        X(STACK_DEL, 17)                                                                           \
        X(STACK_GET, 18)                                                                           \
        X(LINK_NEW, 20)                                                                            \
        X(LINK_DEL, 21)                                                                            \
        X(LINK_GET, 22)                                                                            \
        X(LINK_SET, 23)                                                                            \
        X(ADDR_NEW, 24)                                                                            \
        X(ADDR_DEL, 25)                                                                            \
        X(ADDR_GET, 26)                                                                            \
        X(ROUTE_NEW, 28)                                                                           \
        X(ROUTE_DEL, 29)                                                                           \
        X(ROUTE_GET, 30)                                                                           \
        X(NEIGH_NEW, 32)                                                                           \
        X(NEIGH_DEL, 33)                                                                           \
        X(NEIGH_GET, 34)                                                                           \
        X(NEIGH_FLUSH, 35)                                                                         \
        X(WORKER_GET, 36)                                                                          \
        X(WORKER_SET, 37)                                                                          \
        X(STATS_GET, 40)                                                                           \
        X(NODE_GET, 41)                                                                            \
        X(SUBSCRIBE, 44)                                                                           \
        X(EVENT, 45)                                                                               \
        X(SAVE, 48)                                                                                \
        X(PING, 49)                                                                                \
        X(CAPTURE, 50)

enum mpnet_ctl_type {
#define MPNET_X(n, v) MPNET_CTL_##n = v,
        MPNET_CTL_TYPES(MPNET_X)
#undef MPNET_X
            MPNET_CTL_TYPE__MAX = 64
};

/* Header flags. */
#define MPNET_CTL_F_REQUEST 0x0001 /* a request (set on everything a client sends) */
#define MPNET_CTL_F_MULTI   0x0002 /* part of a dump: more follows, DONE ends it */
/* A batch (mpnetctl -b, ip -batch): when this request fails, the daemon
 * runs none of the requests after it in the datagram, answering each
 * -ECANCELED. */
#define MPNET_CTL_F_STOP    0x0004
#define MPNET_CTL_F_DUMP    0x0100 /* GET: every object, not one */
#define MPNET_CTL_F_REPLACE 0x0200 /* ROUTE_NEW: replace an existing route */

/* Event groups (MPNET_CTLA_GROUPS of SUBSCRIBE). */
#define MPNET_CTL_G_LINK  (1u << 0)
#define MPNET_CTL_G_ADDR  (1u << 1)
#define MPNET_CTL_G_ROUTE (1u << 2)
#define MPNET_CTL_G_NEIGH (1u << 3)
#define MPNET_CTL_G_STACK (1u << 4)
#define MPNET_CTL_G_ALL   0x1fu

/* How an attribute's value is checked. */
enum mpnet_ctl_kind {
        MPNET_CTLK_U8 = 1,
        MPNET_CTLK_U32,
        MPNET_CTLK_U64,
        MPNET_CTLK_STR,    /* NUL-terminated, at most max bytes with the NUL */
        MPNET_CTLK_BIN,    /* min..max bytes */
        MPNET_CTLK_ADDR,   /* 4 or 16 bytes */
        MPNET_CTLK_NESTED, /* attributes, in the same type space */
        MPNET_CTLK_INSNS,  /* 8-byte records (BPF instructions), 8..max bytes */
};

/* Attribute types: X(name, value, kind, max bytes). */
#define MPNET_CTL_ATTRS(X)                                                                         \
        X(STACK, 1, STR, 32)                                                                       \
        X(IFNAME, 2, STR, 32)                                                                      \
        X(IFINDEX, 3, U32, 4)                                                                      \
        X(KIND, 4, STR, 16)                                                                        \
        X(UP, 5, U8, 1)                                                                            \
        X(MTU, 6, U32, 4)                                                                          \
        X(MAC, 7, BIN, 6)                                                                          \
        X(FAMILY, 8, U8, 1)                                                                        \
        X(ADDR, 9, ADDR, 16)                                                                       \
        X(PLEN, 10, U8, 1)                                                                         \
        X(TABLE, 11, U32, 4)                                                                       \
        X(NHTYPE, 12, U8, 1)                                                                       \
        X(PATH, 13, NESTED, 0)                                                                     \
        X(GW, 14, ADDR, 16)                                                                        \
        X(STATE, 15, U8, 1)                                                                        \
        X(WORKER, 16, U32, 4)                                                                      \
        X(QUEUE, 17, U32, 4)                                                                       \
        X(COUNTER, 18, NESTED, 0)                                                                  \
        X(NAME, 19, STR, 64)                                                                       \
        X(VALUE, 20, U64, 8)                                                                       \
        X(NODE, 21, NESTED, 0)                                                                     \
        X(CALLS, 22, U64, 8)                                                                       \
        X(PKTS, 23, U64, 8)                                                                        \
        X(CLOCKS, 24, U64, 8)                                                                      \
        X(EXT_MSG, 25, STR, 256)                                                                   \
        X(GROUPS, 26, U32, 4)                                                                      \
        X(EVTYPE, 27, U32, 4)                                                                      \
        X(PEER, 28, STR, 32)                                                                       \
        X(PEER_STACK, 29, STR, 32)                                                                 \
        X(DEV, 30, STR, 16)                                                                        \
        X(NETNS, 31, STR, 128)                                                                     \
        X(QUEUES, 32, U32, 4)                                                                      \
        X(MODE, 33, STR, 16)                                                                       \
        X(COUNT, 34, U32, 4)                                                                       \
        X(TIMEOUT_MS, 35, U32, 4)                                                                  \
        X(SENT, 36, U32, 4)                                                                        \
        X(RECEIVED, 37, U32, 4)                                                                    \
        X(RTT_NS, 38, U64, 8)                                                                      \
        X(CARRIER, 39, U8, 1)                                                                      \
        X(FLAGS, 40, U32, 4)                                                                       \
        X(EVSEQ, 41, U64, 8)                                                                       \
        X(LINKSTATS, 42, NESTED, 0)                                                                \
        X(ROUTER, 43, U8, 1)                                                                       \
        X(PORTS, 44, STR, 128)                                                                     \
        X(THREAD, 45, U32, 4)                                                                      \
        X(FILE, 46, STR, 256)                                                                      \
        X(FILTER, 47, STR, 1024)                                                                   \
        X(BPF, 48, INSNS, 32768)

enum mpnet_ctl_attr_type {
#define MPNET_X(n, v, k, m) MPNET_CTLA_##n = v,
        MPNET_CTL_ATTRS(MPNET_X)
#undef MPNET_X
            MPNET_CTLA__MAX = 49 /* types are 1 .. MPNET_CTLA__MAX - 1 */
};

#define MPNET_CTLA_F_NESTED 0x8000 /* in the type of a nested attribute */

struct mpnet_ctl_attr {
        uint16_t len; /* header and value, before padding */
        uint16_t type;
};

/* ---- decoding ----------------------------------------------------------- */

/** A message the decoder accepted (its header), with its attributes. */
struct mpnet_ctl_view {
        const struct mpnet_ctl_hdr *h;
        int32_t error;        /* ERROR messages: 0 or a negative errno */
        const uint8_t *attrs; /* the attributes (after error for ERROR) */
        size_t attrs_len;
        /* 0, or why the attributes were refused (the header was fine, so the
         * message can be answered and the next one read): -EINVAL (unknown
         * type, wrong size, unterminated string), -EBADMSG (a length past
         * its end), -ELOOP (nested too deep). */
        int err;
        char why[96];
};

/**
 * Decode the message at *off of a datagram (4-aligned: -EINVAL otherwise)
 * and move *off to the next one.
 * @return 1 with m filled (see m->err); 0 at the end of the datagram; or a
 * negative errno when the header itself is bad (-EBADMSG: shorter than a
 * header, or its length past the datagram or below the header's; -EMSGSIZE:
 * longer than MPNET_CTL_DGRAM_MAX), with why filled: nothing more of that
 * datagram can be read.
 */
MPNET_API int mpnet_ctl_msg_next(const uint8_t *buf, size_t len, size_t *off,
                                 struct mpnet_ctl_view *m, char *why, size_t why_len);

/** Check a block of attributes (depth levels below the message). @return 0,
 * -EINVAL, -EBADMSG, -ELOOP, with why filled. */
MPNET_API int mpnet_ctl_attrs_check(const uint8_t *p, size_t n, unsigned depth, char *why,
                                    size_t why_len);

/**
 * The next attribute of a block the decoder accepted.
 * @return it, or NULL at the end; *off moves past it.
 */
MPNET_API const struct mpnet_ctl_attr *mpnet_ctl_attr_next(const uint8_t *p, size_t n, size_t *off);

/** Index a checked block: tb[type] is the first attribute of each type, or
 * NULL (tb has MPNET_CTLA__MAX entries). */
MPNET_API void mpnet_ctl_attrs_index(const uint8_t *p, size_t n,
                                     const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX]);

/** @return an attribute's type without the nested flag. */
static inline unsigned mpnet_ctl_attr_type(const struct mpnet_ctl_attr *a)
{
        return a->type & ~MPNET_CTLA_F_NESTED;
}
static inline const void *mpnet_ctl_attr_data(const struct mpnet_ctl_attr *a)
{
        return (const uint8_t *)a + sizeof(*a);
}
static inline size_t mpnet_ctl_attr_len(const struct mpnet_ctl_attr *a)
{
        return a->len - sizeof(*a);
}
MPNET_API uint8_t mpnet_ctl_attr_u8(const struct mpnet_ctl_attr *a);
MPNET_API uint32_t mpnet_ctl_attr_u32(const struct mpnet_ctl_attr *a);
MPNET_API uint64_t mpnet_ctl_attr_u64(const struct mpnet_ctl_attr *a);
static inline const char *mpnet_ctl_attr_str(const struct mpnet_ctl_attr *a)
{
        return (const char *)mpnet_ctl_attr_data(a);
}

/** @return a message type's name ("ROUTE_NEW"), or NULL. */
MPNET_API const char *mpnet_ctl_type_name(unsigned type);
/** @return how an attribute type's value is checked (enum mpnet_ctl_kind),
 * or 0 for an unknown type. */
MPNET_API unsigned mpnet_ctl_attr_kind(unsigned type);
/** @return an attribute type's name ("IFNAME"), or NULL. */
MPNET_API const char *mpnet_ctl_attr_name(unsigned type);

/* ---- encoding ----------------------------------------------------------- */

/**
 * A datagram being built in caller memory. A message that does not fit sets
 * err to -EMSGSIZE; mpnet_ctl_msg_end() then takes it back out, so the
 * caller can send what is there and build the message again.
 */
struct mpnet_ctl_buf {
        uint8_t *b;
        size_t len, cap;
        size_t msg;                       /* where the open message starts */
        size_t nest[MPNET_CTL_DEPTH_MAX]; /* open nests */
        unsigned depth;
        int err;
};

MPNET_API void mpnet_ctl_buf_init(struct mpnet_ctl_buf *b, void *mem, size_t cap);
/** Open a message. */
MPNET_API void mpnet_ctl_msg_begin(struct mpnet_ctl_buf *b, uint16_t type, uint16_t flags,
                                   uint32_t seq, uint32_t port);
/** Close it. @return 0, or -EMSGSIZE (it was taken out; err is reset). */
MPNET_API int mpnet_ctl_msg_end(struct mpnet_ctl_buf *b);
MPNET_API void mpnet_ctl_put(struct mpnet_ctl_buf *b, uint16_t type, const void *v, size_t n);
MPNET_API void mpnet_ctl_put_u8(struct mpnet_ctl_buf *b, uint16_t type, uint8_t v);
MPNET_API void mpnet_ctl_put_u32(struct mpnet_ctl_buf *b, uint16_t type, uint32_t v);
MPNET_API void mpnet_ctl_put_u64(struct mpnet_ctl_buf *b, uint16_t type, uint64_t v);
MPNET_API void mpnet_ctl_put_str(struct mpnet_ctl_buf *b, uint16_t type, const char *s);
MPNET_API void mpnet_ctl_put_s32(struct mpnet_ctl_buf *b, int32_t v); /* ERROR's error */
MPNET_API void mpnet_ctl_nest_begin(struct mpnet_ctl_buf *b, uint16_t type);
MPNET_API void mpnet_ctl_nest_end(struct mpnet_ctl_buf *b);

/* ---- mpnetctl's grammar (man/mpnetctl.8) -------------------------------- */

/**
 * Append the request an mpnetctl command makes ("route add 10.0.0.0/8 via
 * 192.0.2.2", without the program and its options) to b. stack is -n's
 * (NULL: none), family -4's or -6's (0: either). Keywords may be
 * abbreviated as ip(8) takes them.
 * @return 0, or -EINVAL with the reason in why and b as it was.
 */
MPNET_API int mpnet_ctl_cli_build(struct mpnet_ctl_buf *b, const char *stack, uint8_t family,
                                  int argc, char **argv, uint32_t seq, uint32_t port, char *why,
                                  size_t why_len);

/**
 * The same for a line of a batch or configuration file, which may start
 * with -n STACK, -4 or -6; '#' starts a comment. line is cut into words in
 * place. @return 0; 1 for a line with no command; -EINVAL with why.
 */
MPNET_API int mpnet_ctl_cli_line(struct mpnet_ctl_buf *b, const char *stack, char *line,
                                 uint32_t seq, uint32_t port, char *why, size_t why_len);

/**
 * The command line ("-n r route add 10.0.0.0/8 via 192.0.2.2") that makes
 * a change request (STACK_NEW/DEL, LINK_NEW/DEL/SET, ADDR_NEW/DEL,
 * ROUTE_NEW/DEL, NEIGH_NEW/DEL, WORKER_SET) the decoder accepted.
 * @return its length; -EINVAL (another type, or an attribute it needs is
 * missing); -ENOSPC.
 */
MPNET_API int mpnet_ctl_cli_render(const struct mpnet_ctl_view *m, char *out, size_t n);

/* ---- client ------------------------------------------------------------- */

struct mpnet_ctl;

/** Connect to mpnetd. path NULL: $MPNETD_SOCKET, else MPNET_CTL_SOCK.
 * @return the connection, or NULL with errno set. */
MPNET_API struct mpnet_ctl *mpnet_ctl_open(const char *path);
/** NULL is ignored. */
MPNET_API void mpnet_ctl_close(struct mpnet_ctl *c);
/** @return the socket (to poll for events after SUBSCRIBE). */
MPNET_API int mpnet_ctl_fd(const struct mpnet_ctl *c);
/** @return the next sequence number to put in a request. */
MPNET_API uint32_t mpnet_ctl_seq(struct mpnet_ctl *c);
/** @return the port to put in requests (the process id). */
MPNET_API uint32_t mpnet_ctl_port(const struct mpnet_ctl *c);

/** Called for each data message answering a request (a dump's parts, a
 * GET's object, PING's result) and for each ERROR that carries an error
 * (m->error, its seq telling which request). Nonzero stops the calls; it
 * is returned by mpnet_ctl_exchange() once every answer was read, unless a
 * request failed. */
typedef int (*mpnet_ctl_reply_fn)(void *arg, const struct mpnet_ctl_view *m);

/**
 * Send one datagram of requests and read the answers until every request
 * has its final message.
 * @return 0 when all were acknowledged; else the first error (a negative
 * errno) with its extended-ack text in why (may be NULL); timeout_ms < 0
 * waits for ever, else -ETIMEDOUT.
 */
MPNET_API int mpnet_ctl_exchange(struct mpnet_ctl *c, const struct mpnet_ctl_buf *req,
                                 mpnet_ctl_reply_fn fn, void *arg, char *why, size_t why_len,
                                 int timeout_ms);

/** Receive one datagram (events after SUBSCRIBE) into the connection's
 * buffer. @return its length, 0 when the daemon went away, -ETIMEDOUT, or
 * a negative errno; *data points at it until the next call. */
MPNET_API long mpnet_ctl_recv(struct mpnet_ctl *c, const uint8_t **data, int timeout_ms);

#endif
