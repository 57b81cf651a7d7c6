/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file socket.h
 * BSD-shaped sockets on a stack, IPv4 and IPv6: UDP (SOCK_DGRAM, protocol
 * 0 or IPPROTO_UDP), ICMP echo sockets and raw IP sockets (below).
 *
 * TCP (SOCK_STREAM, protocol 0 or IPPROTO_TCP), on the control thread:
 * bind, listen, accept (a connection the peer opened, with MSS, window
 * scale, SACK-permitted and timestamps as it offered them), connect
 * (-EINPROGRESS, then EPOLLOUT and SO_ERROR 0 once established, or
 * SO_ERROR ECONNREFUSED on a reset, ETIMEDOUT after 7 SYNs; again while in
 * progress -EALREADY, once connected -EISCONN), simultaneous open (RFC 9293
 * 3.5), getsockname, getpeername; send (what fits the SO_SNDBUF ring,
 * -EAGAIN when it is full, EPOLLOUT when acknowledgements free room),
 * receive (MSG_PEEK; 0 once the peer's FIN arrived), shutdown (SHUT_WR
 * sends our FIN), TCP_NODELAY, and close (an orderly FIN; a reset when
 * unread data is left, RFC 9293 3.10.4). A segment to a port nobody listens
 * on is answered with a reset (RFC 9293 3.10.7.1), at most as often as
 * mpnet_tcp_set_rst_limit() lets (mpnet/tcp.h).
 * TCP options (an accepted socket inherits its listener's): SO_KEEPALIVE
 * with IPPROTO_TCP TCP_KEEPIDLE, TCP_KEEPINTVL (seconds, 1-32767; Linux's
 * defaults 7200 and 75) and TCP_KEEPCNT (1-127, default 9): probes after
 * the idle time, and a reset and SO_ERROR ETIMEDOUT once TCP_KEEPCNT went
 * unanswered. SO_LINGER (struct linger): l_onoff with l_linger 0 makes
 * close send a reset and drop the connection at once; with a time, the
 * orderly close, and a reset when the time passes with data or our FIN
 * unacknowledged (as the BSDs; counted tcp_linger_abort). mpnet_close
 * returns at once (no call blocks on the control thread: the close
 * lingers in the background); a blocking front-end socket's
 * mpnet_ts_close waits until the data and FIN are acknowledged or the
 * time ran out. TCP_CORK: short segments wait for a full one, the
 * cork's removal or 200 ms (as Linux). MPNET_TCP_INFO (getsockopt only):
 * struct mpnet_tcp_info (mpnet/tcp.h). ECN per stack (mpnet_tcp_set_ecn).
 * ICMP fragmentation needed and packet too big that quote a sequence
 * number in flight lower a connection's MSS (RFC 1191, RFC 8201, RFC
 * 5927); repeated timeouts of full segments halve it (RFC 4821's idea). A
 * newer SYN reopens a TIME_WAIT connection (RFC 6191).
 *
 * ICMP echo sockets, as Linux's "ping sockets": socket(AF_INET, SOCK_DGRAM,
 * IPPROTO_ICMP) and socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6). A send
 * is an echo request's header and data (type 8 or 128, code 0, at least 8
 * bytes: -EINVAL otherwise; the destination's port is ignored); the stack
 * writes the socket's identifier (bind's port, or one chosen at random on
 * the first send; getsockname tells) and the checksum. A receive is a
 * whole echo reply that carries the identifier, the source in from with
 * port 0. Identifiers are bound per family (-EADDRINUSE when taken).
 * The ping API (mpnet_ping4_send, mpnet_ping4_recv, ...) sits on echo
 * sockets of its own, with no descriptor, which take the replies and the
 * errors no socket takes; a socket bound to an identifier the ping API
 * uses takes its replies. ICMP errors quoting a socket's echo request
 * (time exceeded, destination unreachable, packet too big, ...) go to it
 * as Linux's ping_err gives them: with IP_RECVERR / IPV6_RECVERR on the
 * error queue (the quoted ICMP message as data, port 0 in the name), else
 * a hard one to a connected socket as the pending error (SO_ERROR), on
 * its home (a worker's too: MPNET_SO_HOME names one; MPNET_HOME_FLOW is
 * -EOPNOTSUPP for an echo socket).
 *
 * Raw IP sockets: socket(AF_INET or AF_INET6, SOCK_RAW, protocol 1-255;
 * 0 and others are -EPROTONOSUPPORT). No privilege is asked: the
 * application owns the stack. A raw socket receives a copy of every
 * datagram of its protocol delivered to the stack, which still handles it
 * (an echo request is answered; no protocol unreachable is sent for a
 * protocol only raw sockets take): IPv4 from the IP header on, IPv6 from
 * the upper-layer header on (RFC 3542 3). bind names the destination it
 * takes (the port is ignored), connect the source, SO_BINDTOIFINDEX the
 * interface. A send is the payload behind a header the stack builds, or,
 * with IP_HDRINCL (IPv4; always on for IPPROTO_RAW), the whole datagram:
 * its header must be version 4 with a header length of 20 bytes or more
 * within the datagram and a total length of 0 or the datagram's (-EINVAL
 * otherwise); the stack writes the total length and the checksum, and the
 * source and identification when they are zero, as Linux. IPV6_CHECKSUM
 * (IPPROTO_IPV6 or SOL_RAW; an even offset, -1 off) makes the stack compute
 * the checksum on output and check it on input (a bad one is dropped and
 * counted, raw_bad_csum); ICMPv6 raw sockets always have it at offset 2
 * (setting it is -EINVAL, RFC 3542 3.1). ICMP6_FILTER is not there yet.
 *
 * The calls take the system's types and constants (<sys/socket.h>,
 * <netinet/in.h>: struct sockaddr_in and sockaddr_in6, msghdr, cmsghdr,
 * iovec, SOL_SOCKET, SO_*, IPPROTO_IP and IPPROTO_IPV6 options), so code
 * written for POSIX reads the same. A socket is a small integer descriptor
 * of its stack (lowest free first, as POSIX), not a kernel one. Every call
 * returns >= 0 or a negative errno: a descriptor that is not open, or was
 * closed, is -EBADF.
 *
 * Dual stack: an AF_INET6 socket takes IPv4 traffic as v4-mapped addresses
 * (::ffff:a.b.c.d, RFC 4291 2.5.5.2) unless IPV6_V6ONLY is set, off by
 * default as on Linux.
 *
 * Threads (docs/MP-SAFETY.md has the whole contract): each socket has a
 * home context, where its datagrams are queued and its callback runs: the
 * control thread (the thread that calls mpnet_stack_poll(), the default)
 * or a worker (MPNET_SO_HOME, run-to-completion). The control calls
 * (mpnet_socket, bind, connect, and options that change the socket's PCB
 * entry or groups) are the control thread's. The data calls (send,
 * receive) and the data path's options are the home's: the control
 * thread's own calls for a socket homed there, a callback's (set_cb,
 * mpnet_sock_run) on a worker home; another thread's data call is -EBUSY.
 * The control thread may still close, shut down, set the callback and the
 * data-path options of a worker-homed socket: the call is handed to the
 * home and waits for it (the home's worker must be running). No call
 * blocks on the control thread: a receive with nothing queued is -EAGAIN.
 * Application threads that are neither use the front end (mpnet_ts_*,
 * below).
 *
 * Options (mpnet_setsockopt, mpnet_getsockopt):
 *  - SOL_SOCKET: SO_REUSEADDR, SO_REUSEPORT (set before bind), SO_RCVBUF
 *    (doubled as Linux does, at least 4480; default 212992; the queue
 *    charges each datagram its whole buffers, 2240 bytes each),
 *    SO_SNDBUF (stored: sends are not queued), SO_BROADCAST (needed to
 *    send to a broadcast address, -EACCES without), SO_ERROR (read and
 *    cleared; see ICMP errors below), SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_BINDTOIFINDEX (an int
 *    ifindex, 0 unbinds).
 *  - IPPROTO_IP: IP_TTL, IP_TOS, IP_PKTINFO, IP_RECVTTL, IP_RECVTOS,
 *    IP_MULTICAST_IF (struct in_addr, or struct ip_mreqn for its
 *    interface), IP_MULTICAST_TTL, IP_MULTICAST_LOOP (stored; mpnet does
 *    not loop multicast back yet), IP_ADD_MEMBERSHIP and
 *    IP_DROP_MEMBERSHIP (struct ip_mreqn, or struct ip_mreq naming the
 *    interface by address; with neither, IP_MULTICAST_IF's interface or
 *    the stack's only one: the group is joined there through IGMPv3,
 *    RFC 3376, and its datagrams reach only the sockets that joined it;
 *    at most 20 groups a socket). IP_ADD_SOURCE_MEMBERSHIP is
 *    -ENOPROTOOPT (source filters are not kept).
 *    IP_RECVERR (queue ICMP errors), IP_MTU_DISCOVER (IP_PMTUDISC_WANT by
 *    default: DF when the datagram fits the path MTU, else fragmented to
 *    it; DO: DF, a send over the path MTU is -EMSGSIZE; DONT: no DF;
 *    PROBE sets DF; INTERFACE, OMIT fragment), IP_MTU (getsockopt on a
 *    connected socket: the path MTU to the peer; -ENOTCONN otherwise).
 *  - IPPROTO_IPV6: IPV6_V6ONLY (before bind), IPV6_UNICAST_HOPS,
 *    IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_TCLASS,
 *    IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP (stored),
 *    IPV6_JOIN_GROUP and IPV6_LEAVE_GROUP (struct ipv6_mreq; MLDv2 reports
 *    the group; datagrams to a group reach only the sockets that joined it
 *    on the receiving interface), IPV6_RECVERR, IPV6_MTU_DISCOVER (as
 *    IP_MTU_DISCOVER: DO or PROBE refuse a send over the path MTU),
 *    IPV6_DONTFRAG (a send over the path MTU is -EMSGSIZE), IPV6_MTU
 *    (getsockopt, as IP_MTU; setting it is -ENOPROTOOPT).
 *  - SOL_MPNET: MPNET_SO_HOME (an int, before bind and connect): where
 *    the socket lives. MPNET_HOME_CONTROL (0, the default): the control
 *    thread. MPNET_HOME_FLOW: connect() homes it on the context that
 *    receives its reply flow (the worker polling the queue the link's RSS
 *    steers it to; an ephemeral port is picked among those whose replies
 *    reach that worker, RFC 6056 Algorithm 4 keyed per stack), so its
 *    datagrams are queued without a hand-off; unconnected it stays on the
 *    control thread. n >= 1: context n (worker n - 1's, which must exist:
 *    assigned a queue of the stack). getsockopt gives the home context
 *    now. Once on a worker, SO_REUSEADDR, SO_REUSEPORT, SO_BINDTOIFINDEX,
 *    the multicast interface and group options, IP_RECVERR and the path
 *    MTU options, and a second connect are -EBUSY / -EISCONN (set them
 *    first). UDP, TCP and ICMP echo sockets (an echo socket: the control
 *    thread or a context named; MPNET_HOME_FLOW is -EOPNOTSUPP); raw
 *    sockets stay on the control thread (-EOPNOTSUPP). A TCP listener
 *    homed on a worker takes the connections whose SYN it handles there
 *    (several listeners, one per worker, in an SO_REUSEPORT group: each
 *    SYN is handled on the worker that receives it); an accepted socket
 *    has its listener's home; a TCP socket's send and recv from a thread
 *    other than its home (the control thread, an application thread; not
 *    another worker) run on the home as synchronous commands instead of
 *    -EBUSY (the front end, mpnet_ts_*, passes bytes through rings
 *    instead); mpnet_accept runs on the control thread or in a callback
 *    on the listener's home worker (-EBUSY on another worker). SO_LINGER,
 *    SO_KEEPALIVE and the IPPROTO_TCP options are set on the home.
 * Unknown options are -ENOPROTOOPT, a short or wrong-sized value -EINVAL.
 *
 * Ancillary data: mpnet_sendmsg takes IP_PKTINFO (struct in_pktinfo:
 * ipi_spec_dst the source, ipi_ifindex the interface) or IPV6_PKTINFO,
 * IP_TOS or IPV6_TCLASS, IP_TTL or IPV6_HOPLIMIT (an int each, as Linux).
 * mpnet_recvmsg gives, when the socket asked, IP_PKTINFO, IP_TTL, IP_TOS,
 * IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS; MSG_CTRUNC when they did not
 * fit, MSG_TRUNC when the datagram did not.
 *
 * ICMP errors (Linux's semantics): an ICMP or ICMPv6 error quoting a
 * datagram of the socket (its addresses and ports, and the peer of a
 * connected socket) sets the pending error of a connected socket when it
 * is hard (port unreachable: ECONNREFUSED; protocol unreachable,
 * administratively prohibited, parameter problem; fragmentation needed /
 * packet too big: EMSGSIZE unless IP_PMTUDISC_DONT); host and net
 * unreachable and time exceeded (EHOSTUNREACH, ENETUNREACH) are soft and
 * reach only IP_RECVERR sockets. The pending error is returned, once, by
 * the next send or receive (or SO_ERROR) and raises EPOLLERR. With
 * IP_RECVERR (IPv4 errors) or IPV6_RECVERR (IPv6), every socket takes
 * every error: pending as above, and queued (32 at most) for
 * mpnet_recvmsg(MSG_ERRQUEUE): the quoted payload as data, msg_name the
 * original destination, one control message (SOL_IP / IP_RECVERR or
 * SOL_IPV6 / IPV6_RECVERR) with struct sock_extended_err
 * (<linux/errqueue.h>: ee_origin SO_EE_ORIGIN_ICMP or _ICMP6, ee_type,
 * ee_code, ee_info the MTU of a fragmentation needed / packet too big)
 * followed by the offender's address (SO_EE_OFFENDER). Fragmentation
 * needed and packet too big lower the stack's path MTU to the destination
 * (RFC 1191, RFC 8201).
 */
#ifndef MPNET_SOCKET_H
#define MPNET_SOCKET_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "mpnet/export.h"

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62 /* Linux's number, for older headers */
#endif

/* mpnet's own socket options (a level no system uses). */
#define SOL_MPNET          0x4d504e
#define MPNET_SO_HOME      1
#define MPNET_HOME_CONTROL 0
#define MPNET_HOME_FLOW    (-1)

struct mpnet_stack;
struct mpnet_pkt;

/**
 * A socket: domain AF_INET or AF_INET6; type SOCK_DGRAM (with
 * SOCK_NONBLOCK and SOCK_CLOEXEC accepted, calls never block anyway),
 * SOCK_RAW, or SOCK_STREAM (protocol 0 or IPPROTO_TCP: see above for what
 * works); protocol 0 or IPPROTO_UDP for SOCK_DGRAM.
 * @return the descriptor; -EAFNOSUPPORT; -ESOCKTNOSUPPORT
 * (SOCK_SEQPACKET); -EPROTONOSUPPORT; -EINVAL (unknown flags);
 * -EMFILE (more than 2097152 open); -ENOMEM.
 */
MPNET_API int mpnet_socket(struct mpnet_stack *s, int domain, int type, int protocol);

/** Bind to a local address and port (0: an ephemeral one, RFC 6056).
 * @return 0; -EINVAL (already bound, a wrong length); -EAFNOSUPPORT;
 * -EADDRNOTAVAIL (not an address of the stack); -EADDRINUSE. */
MPNET_API int mpnet_bind(struct mpnet_stack *s, int fd, const struct sockaddr *addr, socklen_t len);

/** Set the peer: only its datagrams are received, sends without an address
 * go to it. AF_UNSPEC takes the peer off. An unbound socket is bound to an
 * ephemeral port and the source the route gives.
 * @return 0 or a negative errno. */
MPNET_API int mpnet_connect(struct mpnet_stack *s, int fd, const struct sockaddr *addr,
                            socklen_t len);

/** @return 0; -ENOTCONN (getpeername of an unconnected socket). *len
 * becomes the address's length; what does not fit is cut. */
MPNET_API int mpnet_getsockname(struct mpnet_stack *s, int fd, struct sockaddr *addr,
                                socklen_t *len);
MPNET_API int mpnet_getpeername(struct mpnet_stack *s, int fd, struct sockaddr *addr,
                                socklen_t *len);

/** Send one datagram (to the peer when addr is NULL).
 * @return the bytes sent; -EDESTADDRREQ; -EISCONN (an address other than
 * the peer's on a connected socket is allowed, as Linux); -EMSGSIZE (over
 * 65507 bytes on IPv4, 65527 on IPv6); -EACCES (broadcast without
 * SO_BROADCAST); -ENETUNREACH; -EADDRNOTAVAIL; -ENOBUFS; -EPIPE (shut
 * down for writing). */
MPNET_API ssize_t mpnet_sendto(struct mpnet_stack *s, int fd, const void *buf, size_t len,
                               int flags, const struct sockaddr *addr, socklen_t alen);
MPNET_API ssize_t mpnet_sendmsg(struct mpnet_stack *s, int fd, const struct msghdr *msg, int flags);

/** Take the first queued datagram (MSG_PEEK: leave it).
 * @return its bytes copied (MSG_TRUNC: its whole length); -EAGAIN when
 * none is queued (0 once shut down for reading). */
MPNET_API ssize_t mpnet_recvfrom(struct mpnet_stack *s, int fd, void *buf, size_t len, int flags,
                                 struct sockaddr *addr, socklen_t *alen);
MPNET_API ssize_t mpnet_recvmsg(struct mpnet_stack *s, int fd, struct msghdr *msg, int flags);

/**
 * One message of a batch (Linux's struct mmsghdr, under mpnet's name so
 * that no header's feature macros are needed): msg_hdr as mpnet_sendmsg
 * and mpnet_recvmsg take it; msg_len the bytes the call sent or received.
 */
struct mpnet_mmsghdr {
        struct msghdr msg_hdr;
        unsigned int msg_len;
};

/** The most messages one batched call takes; a larger vlen is cut to it
 * (Linux's UIO_MAXIOV). */
#define MPNET_MMSG_MAX 1024

/**
 * Send vec[0..vlen) as mpnet_sendmsg would, one after the other (flags:
 * MSG_DONTWAIT and the others mpnet_sendmsg takes; the control thread
 * never blocks). Each message's msg_len becomes the bytes it sent.
 * As Linux: the first error stops the batch; when messages went before
 * it the call returns their count (the error is not reported: the caller
 * retries from the message that failed, which fails again), else the
 * error. @return the messages sent (0 when vlen is 0); -EFAULT (vec
 * NULL); mpnet_sendmsg's errors.
 */
MPNET_API int mpnet_sendmmsg(struct mpnet_stack *s, int fd, struct mpnet_mmsghdr *vec,
                             unsigned int vlen, int flags);

/**
 * Receive up to vlen queued datagrams as mpnet_recvmsg would (flags:
 * MSG_DONTWAIT, MSG_WAITFORONE, MSG_TRUNC, MSG_PEEK: every message
 * peeks the first datagram, as Linux; MSG_ERRQUEUE), stopping when the
 * queue is empty. Each message's msg_len is its bytes (MSG_TRUNC: the
 * datagram's whole length), msg_hdr.msg_flags MSG_TRUNC when it was cut.
 * timeout is accepted for the system call's shape and ignored: no call
 * blocks on the control thread. An error after some datagrams came (a
 * bad buffer: -EFAULT, that datagram stays queued) is kept as the
 * socket's pending error and returned by the next call (Linux
 * sk_err), the count by this one.
 * @return the datagrams received; -EAGAIN when none is queued; 0 once
 * shut down for reading; -EFAULT (vec NULL); mpnet_recvmsg's errors.
 */
MPNET_API int mpnet_recvmmsg(struct mpnet_stack *s, int fd, struct mpnet_mmsghdr *vec,
                             unsigned int vlen, int flags, struct timespec *timeout);

/** SHUT_RD (queued datagrams are freed, receives return 0), SHUT_WR,
 * SHUT_RDWR. @return 0; -ENOTCONN (unconnected, as Linux); -EINVAL. */
MPNET_API int mpnet_shutdown(struct mpnet_stack *s, int fd, int how);
/** SOCK_STREAM: listen for connections, at most backlog (1 to 4096)
 * waiting in each of the SYN queue and the accept queue. A SYN past the
 * SYN queue is answered with a SYN cookie (mpnet/tcp.h; dropped and
 * counted, tcp_synq_full, with cookies off), one that finds the accept
 * queue full is dropped and counted. An unbound socket is bound to an
 * ephemeral port. Again on a listener: a new backlog.
 * @return 0; -EBADF; -EOPNOTSUPP (not SOCK_STREAM); -EINVAL (connected);
 * -EADDRINUSE; -ENOMEM. */
MPNET_API int mpnet_listen(struct mpnet_stack *s, int fd, int backlog);

/** SOCK_STREAM: take an established connection from a listener's accept
 * queue as a new descriptor (flags: SOCK_NONBLOCK, SOCK_CLOEXEC, as
 * accept4); addr and alen as mpnet_recvfrom (the peer). Never blocks.
 * EPOLLIN on the listener says one is waiting; the listener's callback
 * runs when one is. The control thread's, or a callback's on the
 * listener's home worker (the new socket is homed there too: set its
 * callback, send, receive and close from there).
 * @return the descriptor; -EAGAIN (none waiting); -EBADF; -EINVAL (not
 * listening, unknown flags); -EOPNOTSUPP (not SOCK_STREAM); -EBUSY (from
 * another worker); -EPERM (from another stack's callback); -EMFILE;
 * -ENOMEM. */
MPNET_API int mpnet_accept(struct mpnet_stack *s, int fd, struct sockaddr *addr, socklen_t *alen,
                           int flags);

/** Close the descriptor; queued datagrams are freed. */
MPNET_API int mpnet_close(struct mpnet_stack *s, int fd);

MPNET_API int mpnet_setsockopt(struct mpnet_stack *s, int fd, int level, int name, const void *val,
                               socklen_t len);
MPNET_API int mpnet_getsockopt(struct mpnet_stack *s, int fd, int level, int name, void *val,
                               socklen_t *len);

/**
 * Zero copy: send p, the payload the caller wrote at p->data (a chain
 * allowed; at least 62 bytes of headroom before it, which
 * mpnet_pkt_alloc() gives), to addr (NULL: the peer). The stack takes p in
 * every case. @return as mpnet_sendto.
 */
MPNET_API ssize_t mpnet_send_pkt(struct mpnet_stack *s, int fd, struct mpnet_pkt *p,
                                 const struct sockaddr *addr, socklen_t alen);

/**
 * Zero copy: take the first queued datagram itself. *pp is the packet, its
 * data at the payload (pkt_len its length, a chain past one buffer); the
 * caller frees it with mpnet_pkt_free(). addr and alen as mpnet_recvfrom.
 * @return the payload length; -EAGAIN; 0 with *pp NULL once shut down.
 */
MPNET_API ssize_t mpnet_recv_pkt(struct mpnet_stack *s, int fd, struct mpnet_pkt **pp,
                                 struct sockaddr *addr, socklen_t *alen);

/**
 * Run-to-completion: fn(s, fd, arg) runs on the socket's home context
 * (inside mpnet_stack_poll() on the control thread, or on the home worker's
 * loop) each time its queue goes from empty to holding a datagram; on a
 * worker once the loop's received vector is in, so one call finds every
 * datagram of the vector. fn may
 * receive (it should drain the queue: it is not called again until the
 * queue was empty), send and close the socket; on a worker home it may
 * make data calls on other sockets homed there and accept on a listener
 * homed there, not control calls (-EPERM). A close from a callback on a worker is completed by the
 * control thread's next poll (the descriptor is -EBADF at once). fn NULL
 * takes the callback off. Called by the control thread (handed to a worker
 * home, and waits) or from the home.
 * @return 0 or -EBADF.
 */
typedef void (*mpnet_sock_cb)(struct mpnet_stack *s, int fd, void *arg);
MPNET_API int mpnet_sock_set_cb(struct mpnet_stack *s, int fd, mpnet_sock_cb fn, void *arg);

/**
 * Run fn(s, fd, arg) once on the socket's home context and wait for it to
 * return (on the control thread: at once for a socket homed there): how
 * an application starts sending from a worker home. Control thread.
 * @return 0; -EBADF; -EINVAL (fn NULL); -EBUSY (called from a worker).
 */
MPNET_API int mpnet_sock_run(struct mpnet_stack *s, int fd, mpnet_sock_cb fn, void *arg);

/*
 * The thread-safe front end: sockets for application threads (neither the
 * control thread nor a worker), several at once, each socket used by one
 * application thread at a time for its sends and one for its receives.
 * Sends and receives take no lock: a datagram goes through a
 * single-producer single-consumer ring between the application thread and
 * the socket's home context (the control thread, or with MPNET_SO_HOME a
 * worker, which drains the transmit ring on its loop and is woken through
 * its wake-up descriptor when it sleeps). The control calls (socket, bind,
 * connect, setsockopt, getsockopt, close) are handed to the control thread
 * and wait for it: that thread must be polling the stack, and must not
 * call them itself. The socket's descriptor (mpnet_ts_fd) puts it in an
 * event set (mpnet_evset_ctl, EPOLLIN) from any thread.
 *
 * SOCK_STREAM (TCP, a client: connect; no listen or accept here): the
 * rings carry the byte stream. mpnet_ts_connect on a blocking socket
 * waits until the connection is established or failed (-ECONNREFUSED,
 * -ETIMEDOUT); mpnet_ts_sendto (addr ignored) queues the bytes for the
 * home, which moves them to the send buffer as it has room (a blocking
 * send waits while 256 buffers are queued; non-blocking: the bytes that
 * went, or -EAGAIN); mpnet_ts_recvfrom returns the bytes received so far
 * (up to len; 0 at the peer's FIN; the connection's error, -ECONNRESET
 * and the like, once nothing is left; MSG_TRUNC is -EOPNOTSUPP; no
 * source address: *alen 0, as Linux's TCP);
 * mpnet_ts_close first hands what is queued to the send buffer (what
 * fits), and with SO_LINGER's time on a blocking socket waits for it and
 * our FIN to be acknowledged (a reset when the time passes first).
 *
 * The thread that sends or receives should hold a thread slot
 * (mpnet_thread_slot_acquire()): buffers then come from its own pool
 * cache, without the pool's lock. A send returns once the datagram is
 * queued for the home; what the home's output refuses then (no route) is
 * dropped and counted, as an asynchronous error. A handle is not used
 * after mpnet_ts_close() (whose queued datagrams are dropped); closing
 * while another thread still sends or receives on the handle is the
 * application's race, as with close(2).
 */
struct mpnet_tsock;

/** A front-end socket (arguments as mpnet_socket; SOCK_NONBLOCK makes
 * its sends and receives non-blocking). *ts is its handle.
 * @return its descriptor, or a negative errno (*ts NULL). */
MPNET_API int mpnet_ts_socket(struct mpnet_stack *s, int domain, int type, int protocol,
                              struct mpnet_tsock **ts);
/** @return the socket's descriptor (for the control thread's calls that
 * read it, and for event sets). */
MPNET_API int mpnet_ts_fd(const struct mpnet_tsock *ts);
/** As mpnet_bind, mpnet_connect, mpnet_setsockopt, mpnet_getsockopt,
 * mpnet_close, through the control thread. SO_RCVTIMEO (struct timeval;
 * 0: wait without end) bounds a blocking receive, kept by the handle. */
MPNET_API int mpnet_ts_bind(struct mpnet_tsock *ts, const struct sockaddr *addr, socklen_t len);
MPNET_API int mpnet_ts_connect(struct mpnet_tsock *ts, const struct sockaddr *addr, socklen_t len);
MPNET_API int mpnet_ts_setsockopt(struct mpnet_tsock *ts, int level, int name, const void *val,
                                  socklen_t len);
MPNET_API int mpnet_ts_getsockopt(struct mpnet_tsock *ts, int level, int name, void *val,
                                  socklen_t *len);
MPNET_API int mpnet_ts_close(struct mpnet_tsock *ts);

/** Queue one datagram (to the peer when addr is NULL) for the home to
 * send. Waits while 256 are queued, unless non-blocking or MSG_DONTWAIT
 * (-EAGAIN). @return len; -EMSGSIZE; -ENOBUFS; -EINVAL (a bad address
 * length); the home's checks (-EDESTADDRREQ and the like) count a drop. */
MPNET_API ssize_t mpnet_ts_sendto(struct mpnet_tsock *ts, const void *buf, size_t len, int flags,
                                  const struct sockaddr *addr, socklen_t alen);
/** Take the first datagram, waiting for one (at most SO_RCVTIMEO) unless
 * non-blocking or MSG_DONTWAIT. MSG_TRUNC as recvfrom.
 * @return its bytes copied; -EAGAIN (none, or the time ran out);
 * -EOPNOTSUPP (MSG_PEEK, MSG_OOB, MSG_ERRQUEUE). */
MPNET_API ssize_t mpnet_ts_recvfrom(struct mpnet_tsock *ts, void *buf, size_t len, int flags,
                                    struct sockaddr *addr, socklen_t *alen);

/**
 * The batch as mpnet_sendmmsg, through the front end: each message is
 * checked and copied into buffers of the pool (taken in bulk), the batch
 * pushed on the transmit ring at once, the home kicked at most once.
 * msg_control is not carried (-EOPNOTSUPP when msg_controllen is not 0).
 * A full ring waits unless non-blocking or MSG_DONTWAIT: then the
 * messages that went, or -EAGAIN. @return the messages queued, or the
 * first message's error (-EMSGSIZE, -EINVAL, -EFAULT, -ENOBUFS).
 */
MPNET_API int mpnet_ts_sendmmsg(struct mpnet_tsock *ts, struct mpnet_mmsghdr *vec,
                                unsigned int vlen, int flags);

/**
 * Up to vlen datagrams through the front end: waits (unless non-blocking
 * or MSG_DONTWAIT) for the first, at most timeout (NULL: SO_RCVTIMEO),
 * then takes what the receive ring holds without waiting more (Linux's
 * MSG_WAITFORONE, which is always on here). msg_name, msg_len and
 * MSG_TRUNC as mpnet_recvmmsg; no control data (msg_controllen 0). The
 * messages' buffers are checked first: a bad one after some datagrams
 * gives their count, and -EFAULT on the next call while a datagram waits
 * (the datagram stays queued: Linux would drop it).
 * @return the datagrams received; -EAGAIN; -EOPNOTSUPP (MSG_PEEK,
 * MSG_OOB, MSG_ERRQUEUE, SOCK_STREAM); -EFAULT; -EINVAL (a bad timeout).
 */
MPNET_API int mpnet_ts_recvmmsg(struct mpnet_tsock *ts, struct mpnet_mmsghdr *vec,
                                unsigned int vlen, int flags, struct timespec *timeout);

#endif
