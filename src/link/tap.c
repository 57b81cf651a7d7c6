/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap: the Linux TUN/TAP back end (Documentation/networking/tuntap.rst).
 *
 * Each queue is one descriptor on /dev/net/tun attached to the device with
 * TUNSETIFF (IFF_TAP | IFF_NO_PI, plus IFF_MULTI_QUEUE for more than one
 * queue and IFF_VNET_HDR for offloads). A received frame is read with one
 * readv() into [virtio header][head buffer data][spare segments...]; a frame
 * is sent with one writev() of [virtio header][segment, ...].
 *
 * Synchronisation: per queue one rx thread and one tx thread (link.h). Each
 * counter has one writer. A queue's state (working, failing with EIO, or
 * gone) is an atomic both its threads may write; the link is down while any
 * queue is not working.
 * Life cycle: create opens every queue (in the target namespace, from a
 * helper thread); reopen closes and opens them again; destroy closes them
 * and returns the buffers each queue keeps for its next reads.
 */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/stat.h"
#include "link/netns.h"
#include "link/vnet.h"
#include "mpnet/tap.h"
#include "mpnet/wire/bytes.h"
#include "mpnet/wire/checksum.h"

#define TAP_STASH      32u    /* head buffers a queue keeps for its next reads */
#define TAP_GSO_MAX    65550u /* 64 KiB IP packet plus Ethernet and VLAN headers */
#define TAP_MAX_SPARE  31u    /* segments after the head for TAP_GSO_MAX */
#define TAP_TX_IOV     (1 + 64)
#define TAP_PEND       128u /* segments of one super-frame: MSS 536 and up */
#define ETH_VLAN_EXTRA 18u  /* Ethernet header plus one 802.1Q tag */

/* Queue states. */
enum { TQ_OK = 0, TQ_FAILING, TQ_GONE };

struct tap_q {
        int fd;
        _Atomic int state;
        _Atomic int err;
        /* rx side: buffers for the next reads (one thread). */
        unsigned n_stash, n_spare;
        struct mpnet_pkt *stash[TAP_STASH];
        struct mpnet_pkt *spare[TAP_MAX_SPARE];
        /* A GSO super-frame laid flat (RX_GSO), and the segments cut from it
         * not handed out yet. */
        uint8_t *flat;
        uint16_t n_pend, pend_i;
        struct mpnet_pkt *pend[TAP_PEND];
        mpnet_stat_t rx_pkts, rx_bytes, rx_oversize, rx_nobufs, rx_bad_vnet, rx_gso;
        /* tx side. */
        mpnet_stat_t tx_pkts, tx_bytes, tx_oversize, tx_bad_ol, tx_errors, tx_down;
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct tap {
        struct mpnet_link link;
        struct mpnet_tap_cfg cfg; /* copy; strings below */
        char ifname[IFNAMSIZ];
        char *netns;
        uint32_t hdr_len;   /* sizeof(struct virtio_net_hdr) or 0 */
        uint32_t max_frame; /* longest frame accepted for tx without TSO */
        uint32_t rx_max;    /* longest frame read in whole */
        unsigned n_spare;   /* spare segments per read (chains) */
        _Atomic int down;
        mpnet_stat_t down_events;
        uint16_t nq;
        struct tap_q q[];
};

static const struct mpnet_link_ops tap_ops;

/* ---- errors and namespaces ---------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
tap_msg(const struct mpnet_tap_cfg *cfg, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (cfg->errbuf != NULL && cfg->errbuf_len > 0) {
                vsnprintf(cfg->errbuf, cfg->errbuf_len, fmt, ap);
        } else {
                fputs("mpnet: ", stderr);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        va_end(ap);
}

/* Run fn in the named network namespace, or here when netns is NULL. */
static int in_netns(const char *netns, const struct mpnet_tap_cfg *cfg, int (*fn)(void *),
                    void *arg)
{
        struct link_err e = {.buf = cfg->errbuf, .len = cfg->errbuf_len, .who = "tap"};

        return link_in_netns(netns, fn, arg, &e);
}

/* ---- opening the device ------------------------------------------------- */

static int dev_ioctl(struct tap *t, unsigned long req, struct ifreq *ifr, const char *what)
{
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

        if (s < 0)
                return -errno;
        if (ioctl(s, req, ifr) != 0) {
                rc = -errno;
                tap_msg(&t->cfg, "tap: %s on %s: %s%s", what, t->ifname, strerror(errno),
                        errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
        }
        close(s);
        return rc;
}

/* Set the kernel device's MTU and bring it up. */
static int dev_setup(struct tap *t)
{
        struct ifreq ifr;
        int rc;

        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->ifname);
        ifr.ifr_mtu = (int)t->link.info.mtu;
        rc = dev_ioctl(t, SIOCSIFMTU, &ifr, "SIOCSIFMTU");
        if (rc != 0)
                return rc;
        rc = dev_ioctl(t, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS");
        if (rc != 0 || (ifr.ifr_flags & IFF_UP))
                return rc;
        ifr.ifr_flags |= IFF_UP;
        return dev_ioctl(t, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS");
}

static int queue_open(struct tap *t, uint16_t q)
{
        const struct mpnet_tap_cfg *cfg = &t->cfg;
        struct ifreq ifr;
        int fd, e;

        fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                e = errno;
                tap_msg(cfg, "tap: /dev/net/tun: %s", strerror(e));
                return -e;
        }
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->ifname);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        if (t->nq > 1)
                ifr.ifr_flags |= IFF_MULTI_QUEUE;
        if (t->hdr_len != 0)
                ifr.ifr_flags |= IFF_VNET_HDR;
        if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
                e = errno;
                tap_msg(cfg, "tap: cannot %s %s: %s%s",
                        q == 0 ? "create or attach" : "add a queue to", t->ifname, strerror(e),
                        e == EPERM ? " (needs CAP_NET_ADMIN in the device's network namespace)"
                                   : "");
                close(fd);
                return -e;
        }
        if (q == 0)
                snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
        if (t->hdr_len != 0) {
                unsigned off = 0;

                if (cfg->flags & MPNET_TAP_F_RX_CSUM)
                        off |= TUN_F_CSUM;
                if (cfg->flags & MPNET_TAP_F_RX_GSO)
                        off |= TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
                if (ioctl(fd, TUNSETOFFLOAD, off) != 0) {
                        e = errno;
                        tap_msg(cfg, "tap: TUNSETOFFLOAD on %s: %s", t->ifname, strerror(e));
                        close(fd);
                        return -e;
                }
        }
        t->q[q].fd = fd;
        return 0;
}

static void queues_close(struct tap *t)
{
        for (uint16_t q = 0; q < t->nq; q++) {
                if (t->q[q].fd >= 0)
                        close(t->q[q].fd);
                t->q[q].fd = -1;
        }
}

/* Runs in the device's namespace. */
static int tap_open_all(void *arg)
{
        struct tap *t = arg;
        int rc;

        if ((t->cfg.flags & MPNET_TAP_F_ATTACH) && if_nametoindex(t->ifname) == 0) {
                tap_msg(&t->cfg, "tap: no device %s to attach to", t->ifname);
                return -ENODEV;
        }
        for (uint16_t q = 0; q < t->nq; q++) {
                rc = queue_open(t, q);
                if (rc != 0) {
                        queues_close(t);
                        return rc;
                }
        }
        if (!(t->cfg.flags & MPNET_TAP_F_NO_SETUP)) {
                rc = dev_setup(t);
                if (rc != 0) {
                        queues_close(t);
                        return rc;
                }
        }
        return 0;
}

/* ---- offloads ------------------------------------------------------------ */

struct l4_loc {
        uint32_t l3, l4; /* offsets from the frame start */
        uint8_t proto;   /* IPPROTO_TCP or IPPROTO_UDP */
        bool v6;
};

/*
 * Find the IP header, and the TCP or UDP header of an unfragmented IPv4 or
 * IPv6 packet (no IPv6 extension headers), in the head segment behind up to
 * two VLAN tags.
 * @return 0 (both found), 1 (IP only: o->l4 and o->proto unset), -1 (not IP).
 */
static int frame_l4(const struct mpnet_pkt *p, struct l4_loc *o)
{
        const uint8_t *b = p->data;
        uint32_t n = p->len, off = 12;
        uint16_t et;

        if (n < 14)
                return -1;
        et = mpnet_get_be16(b + off);
        for (int k = 0; k < 2 && (et == 0x8100 || et == 0x88a8); k++) {
                off += 4;
                if (n < off + 2)
                        return -1;
                et = mpnet_get_be16(b + off);
        }
        o->l3 = off + 2;
        if (et == 0x0800 && n >= o->l3 + 20 && (b[o->l3] >> 4) == 4 &&
            n >= o->l3 + (b[o->l3] & 15u) * 4) {
                const uint8_t *ip = b + o->l3;

                o->v6 = false;
                o->l4 = o->l3 + (ip[0] & 15u) * 4;
                if ((mpnet_get_be16(ip + 6) & 0x3fff) != 0)
                        return 1;
                o->proto = ip[9];
        } else if (et == 0x86dd && n >= o->l3 + 40) {
                o->v6 = true;
                o->l4 = o->l3 + 40;
                o->proto = b[o->l3 + 6];
        } else {
                return -1;
        }
        if (o->proto == 6)
                return n >= o->l4 + 20 ? 0 : 1;
        if (o->proto == 17)
                return n >= o->l4 + 8 ? 0 : 1;
        return 1;
}

/* The one's-complement sum of a chain from byte off to its end, folded and
 * complemented: the checksum to store when the field held the pseudo-header
 * sum. A region that starts at an odd position adds byte-swapped. */
static uint16_t chain_csum_from(const struct mpnet_pkt *p, uint32_t off)
{
        uint64_t sum = 0;
        bool odd = false;

        for (const struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                uint64_t part;
                uint32_t n;

                if (off >= s->len) {
                        off -= s->len;
                        continue;
                }
                n = s->len - off;
                part = mpnet_csum_add(0, s->data + off, n);
                if (odd) {
                        uint16_t f = (uint16_t)~mpnet_csum_fold(part);

                        part = (uint16_t)(f << 8 | f >> 8);
                }
                sum += part;
                odd ^= n & 1;
                off = 0;
        }
        return mpnet_csum_fold(sum);
}

static void ip4_hdr_csum(struct mpnet_pkt *p, const struct l4_loc *o)
{
        uint8_t *ip = p->data + o->l3;

        ip[10] = ip[11] = 0;
        mpnet_put_be16(ip + 10, mpnet_csum(ip, o->l4 - o->l3));
}

/* 802.1Q tag from the metadata into the frame (IEEE 802.1Q 9.3). */
static int vlan_insert(struct mpnet_pkt *p)
{
        uint8_t *h = mpnet_pkt_prepend(p, 4);

        if (h == NULL || p->len < 16)
                return -1;
        memmove(h, h + 4, 12);
        mpnet_put_be16(h + 12, 0x8100);
        mpnet_put_be16(h + 14, p->vlan_tci);
        p->ol_flags &= ~MPNET_PKT_F_VLAN;
        return 0;
}

/*
 * Prepare a frame for the kernel: insert its VLAN tag, fill the IPv4 header
 * checksum, and describe (vnet) or finish (no vnet) the L4 checksum and TSO.
 * @return 0, or -1 when an offload cannot be honoured (the frame is dropped).
 */
static int tx_offload(struct tap *t, struct mpnet_pkt *p, struct virtio_net_hdr *vh)
{
        const uint32_t need = MPNET_PKT_F_L3_CSUM_TX | MPNET_PKT_F_L4_CSUM_TX | MPNET_PKT_F_TSO;
        struct l4_loc o;
        int rc;

        memset(vh, 0, sizeof(*vh));
        if ((p->ol_flags & MPNET_PKT_F_VLAN) && vlan_insert(p) != 0)
                return -1;
        if (!(p->ol_flags & need))
                return 0;
        rc = frame_l4(p, &o);
        if (rc < 0)
                return -1;
        if ((p->ol_flags & MPNET_PKT_F_L3_CSUM_TX) && !o.v6)
                ip4_hdr_csum(p, &o);
        if (!(p->ol_flags & (MPNET_PKT_F_L4_CSUM_TX | MPNET_PKT_F_TSO)))
                return 0;
        if (rc != 0)
                return -1;
        if (t->hdr_len == 0) {
                uint32_t at = o.l4 + (o.proto == 6 ? 16u : 6u);
                uint16_t c;

                if (p->ol_flags & MPNET_PKT_F_TSO)
                        return -1;
                c = chain_csum_from(p, o.l4);
                if (o.proto == 17 && c == 0)
                        c = 0xffff; /* RFC 768: zero means "no checksum" */
                mpnet_put_be16(p->data + at, c);
                /* Done: a packet given back (EAGAIN) must not be summed
                 * again over its finished checksum. */
                p->ol_flags &= ~MPNET_PKT_F_L4_CSUM_TX;
                return 0;
        }
        vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh->csum_start = (uint16_t)o.l4;
        vh->csum_offset = o.proto == 6 ? 16 : 6;
        if (p->ol_flags & MPNET_PKT_F_TSO) {
                if (o.proto != 6 || p->tso_segsz == 0)
                        return -1;
                vh->gso_type = o.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
                vh->gso_size = p->tso_segsz;
                vh->hdr_len = (uint16_t)(o.l4 + (p->data[o.l4 + 12] >> 4) * 4u);
        }
        return 0;
}

/* ---- state --------------------------------------------------------------- */

static bool errno_gone(int e)
{
        return e == EBADFD || e == ENODEV || e == ENXIO || e == EBADF;
}

static void queue_fail(struct tap *t, struct tap_q *tq, int e)
{
        atomic_store_explicit(&tq->err, e, memory_order_relaxed);
        atomic_store_explicit(&tq->state, errno_gone(e) ? TQ_GONE : TQ_FAILING,
                              memory_order_relaxed);
        if (atomic_exchange_explicit(&t->down, 1, memory_order_relaxed) == 0)
                atomic_fetch_add_explicit(&t->down_events, 1, memory_order_relaxed);
}

static void queue_ok(struct tap *t, struct tap_q *tq)
{
        atomic_store_explicit(&tq->state, TQ_OK, memory_order_relaxed);
        for (uint16_t q = 0; q < t->nq; q++)
                if (atomic_load_explicit(&t->q[q].state, memory_order_relaxed) != TQ_OK)
                        return;
        atomic_store_explicit(&t->down, 0, memory_order_relaxed);
}

/* ---- receive -------------------------------------------------------------- */

/* Top up the head stash and the spare segments. @return false when the pool
 * could not give a head buffer. */
static bool rx_refill(struct tap *t, struct tap_q *tq)
{
        struct mpnet_pool *pool = t->cfg.pool;

        if (tq->n_stash == 0)
                tq->n_stash = mpnet_pkt_alloc_bulk(pool, tq->stash, TAP_STASH);
        if (tq->n_spare < t->n_spare)
                tq->n_spare +=
                    mpnet_pkt_alloc_bulk(pool, &tq->spare[tq->n_spare], t->n_spare - tq->n_spare);
        return tq->n_stash > 0 && tq->n_spare == t->n_spare;
}

/* Take the first k spares as the segments after head, covering rest bytes. */
static void rx_chain(struct tap_q *tq, struct mpnet_pkt *head, uint32_t rest)
{
        struct mpnet_pkt *tail = head;
        unsigned k = 0;

        while (rest > 0) {
                struct mpnet_pkt *s = tq->spare[k++];
                uint32_t n = rest < MPNET_PKT_BUF_SIZE ? rest : MPNET_PKT_BUF_SIZE;

                s->data = mpnet_pkt_buf(s);
                s->len = n;
                tail->next = s;
                tail = s;
                rest -= n;
        }
        head->nb_segs = (uint16_t)(1 + k);
        memmove(tq->spare, &tq->spare[k], (tq->n_spare - k) * sizeof(tq->spare[0]));
        tq->n_spare -= k;
}

/*
 * A TCP GSO super-frame of dlen bytes, read into head's buffer and the
 * spares: laid flat, then cut in software into the segments the kernel
 * would have put on a wire, each one buffer (the stack's TCP reads a
 * segment's data from one buffer), onto the queue's pending list, which the
 * burst hands out before it reads the device again. Each keeps the partial
 * checksum (the pseudo-header sum for its length). head and the spares stay
 * for the next read.
 */
static void rx_gso(struct tap_q *tq, struct mpnet_pool *pool, const struct virtio_net_hdr *vh,
                   struct mpnet_pkt *head, uint32_t dlen)
{
        uint32_t n = dlen < mpnet_pkt_tailroom(head) ? dlen : mpnet_pkt_tailroom(head);
        uint8_t t = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
        struct link_gso g;
        unsigned got;

        memcpy(tq->flat, head->data, n);
        for (unsigned k = 0; n < dlen; k++) {
                uint32_t m = dlen - n < MPNET_PKT_BUF_SIZE ? dlen - n : MPNET_PKT_BUF_SIZE;

                memcpy(tq->flat + n, mpnet_pkt_buf(tq->spare[k]), m);
                n += m;
        }
        if ((t != VIRTIO_NET_HDR_GSO_TCPV4 && t != VIRTIO_NET_HDR_GSO_TCPV6) ||
            link_vnet_gso_init(&g, vh, tq->flat, dlen, MPNET_PKT_DATA_SIZE, TAP_PEND) != 0) {
                mpnet_stat_add(&tq->rx_bad_vnet, 1);
                return;
        }
        got = mpnet_pkt_alloc_bulk(pool, tq->pend, g.n);
        if (got < g.n) {
                mpnet_pkt_free_bulk(tq->pend, got);
                mpnet_stat_add(&tq->rx_nobufs, 1);
                return;
        }
        for (uint32_t i = 0; i < g.n; i++) {
                struct mpnet_pkt *p = tq->pend[i];

                p->len = p->pkt_len = link_vnet_gso_seg(&g, tq->flat, i, p->data);
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_OK | MPNET_PKT_F_L4_CSUM_TX;
                p->l4_off = (uint16_t)(mpnet_pkt_headroom(p) + g.l4);
        }
        tq->n_pend = (uint16_t)g.n;
        tq->pend_i = 0;
        mpnet_stat_add(&tq->rx_gso, 1);
}

static uint16_t tap_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct tap *t = (struct tap *)l;
        struct tap_q *tq;
        struct virtio_net_hdr vh;
        uint8_t over;
        uint64_t bytes = 0;
        uint16_t got = 0;

        if (q >= t->nq)
                return 0;
        tq = &t->q[q];
        if (atomic_load_explicit(&tq->state, memory_order_relaxed) == TQ_GONE)
                return 0;
        while (got < n) {
                struct iovec iov[2 + TAP_MAX_SPARE];
                struct mpnet_pkt *p;
                unsigned k = 0;
                ssize_t r;
                uint32_t dlen;

                if (tq->pend_i < tq->n_pend) {
                        p = tq->pend[tq->pend_i++];
                        bytes += p->pkt_len;
                        pkts[got++] = p;
                        continue;
                }
                if (!rx_refill(t, tq)) {
                        mpnet_stat_add(&tq->rx_nobufs, 1);
                        break;
                }
                p = tq->stash[tq->n_stash - 1];
                if (t->hdr_len != 0)
                        iov[k++] = (struct iovec){&vh, t->hdr_len};
                iov[k++] = (struct iovec){p->data, mpnet_pkt_tailroom(p)};
                for (unsigned i = 0; i < t->n_spare; i++)
                        iov[k++] = (struct iovec){mpnet_pkt_buf(tq->spare[i]), MPNET_PKT_BUF_SIZE};
                /* Without chains, one more byte tells an oversized frame: tun
                 * truncates silently and returns what it copied. */
                if (t->n_spare == 0)
                        iov[k++] = (struct iovec){&over, 1};
                r = readv(tq->fd, iov, (int)k);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                queue_fail(t, tq, errno);
                        break;
                }
                if ((uint32_t)r < t->hdr_len + 14) {
                        mpnet_stat_add(&tq->rx_bad_vnet, 1);
                        continue;
                }
                dlen = (uint32_t)r - t->hdr_len;
                if (dlen > t->rx_max || (t->n_spare == 0 && dlen > mpnet_pkt_tailroom(p))) {
                        mpnet_stat_add(&tq->rx_oversize, 1);
                        continue;
                }
                if (tq->flat != NULL && vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
                        rx_gso(tq, t->cfg.pool, &vh, p, dlen);
                        continue;
                }
                p->len = dlen < mpnet_pkt_tailroom(p) ? dlen : mpnet_pkt_tailroom(p);
                p->pkt_len = dlen;
                if (dlen > p->len)
                        rx_chain(tq, p, dlen - p->len);
                if (t->hdr_len != 0 && link_vnet_any(&vh) && link_vnet_rx(&vh, p, false) != 0) {
                        /* Back to the pool: the segments are linked to it now. */
                        tq->n_stash--;
                        mpnet_pkt_free(p);
                        mpnet_stat_add(&tq->rx_bad_vnet, 1);
                        continue;
                }
                tq->n_stash--;
                bytes += dlen;
                pkts[got++] = p;
        }
        if (got > 0) {
                mpnet_stat_add(&tq->rx_pkts, got);
                mpnet_stat_add(&tq->rx_bytes, bytes);
                if (atomic_load_explicit(&tq->state, memory_order_relaxed) != TQ_OK)
                        queue_ok(t, tq);
        }
        return got;
}

/* ---- transmit ------------------------------------------------------------- */

/* @return 1 sent, 0 dropped (counted), -1 the kernel cannot take it now. */
static int tx_one(struct tap *t, struct tap_q *tq, struct mpnet_pkt *p)
{
        struct iovec iov[TAP_TX_IOV];
        struct virtio_net_hdr vh;
        unsigned k = 0;
        ssize_t r;
        uint32_t len = p->pkt_len + ((p->ol_flags & MPNET_PKT_F_VLAN) ? 4u : 0u);

        if (p->nb_segs > TAP_TX_IOV - 1 || len > TAP_GSO_MAX ||
            (len > t->max_frame && !(p->ol_flags & MPNET_PKT_F_TSO))) {
                mpnet_stat_add(&tq->tx_oversize, 1);
                return 0;
        }
        if (tx_offload(t, p, &vh) != 0) {
                mpnet_stat_add(&tq->tx_bad_ol, 1);
                return 0;
        }
        if (t->hdr_len != 0)
                iov[k++] = (struct iovec){&vh, t->hdr_len};
        for (struct mpnet_pkt *s = p; s != NULL; s = s->next)
                iov[k++] = (struct iovec){s->data, s->len};
        do
                r = writev(tq->fd, iov, (int)k);
        while (r < 0 && errno == EINTR);
        if (r >= 0)
                return 1;
        if (errno == EAGAIN || errno == ENOBUFS)
                return -1;
        if (errno == EIO || errno_gone(errno)) {
                /* EIO: the kernel device is down (tun_get_user). */
                queue_fail(t, tq, errno);
                mpnet_stat_add(&tq->tx_down, 1);
                return 0;
        }
        mpnet_stat_add(&tq->tx_errors, 1);
        return 0;
}

static uint16_t tap_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct tap *t = (struct tap *)l;
        struct tap_q *tq;
        uint64_t bytes = 0, sent = 0;
        uint16_t i;

        if (q >= t->nq)
                return 0;
        tq = &t->q[q];
        if (atomic_load_explicit(&tq->state, memory_order_relaxed) == TQ_GONE) {
                mpnet_stat_add(&tq->tx_down, n);
                mpnet_pkt_free_bulk(pkts, n);
                return n;
        }
        for (i = 0; i < n; i++) {
                struct mpnet_pkt *p = pkts[i];
                uint32_t len = p->pkt_len;
                int rc = tx_one(t, tq, p);

                if (rc < 0)
                        break;
                if (rc > 0) {
                        sent++;
                        bytes += len;
                }
                mpnet_pkt_free(p);
        }
        if (sent > 0) {
                mpnet_stat_add(&tq->tx_pkts, sent);
                mpnet_stat_add(&tq->tx_bytes, bytes);
                if (atomic_load_explicit(&tq->state, memory_order_relaxed) == TQ_FAILING)
                        queue_ok(t, tq);
        }
        return i;
}

/* ---- stats, life cycle ----------------------------------------------------- */

static void tap_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct tap *t = (struct tap *)l;

        for (uint16_t q = 0; q < t->nq; q++) {
                struct tap_q *tq = &t->q[q];

                st->rx_pkts += mpnet_stat_read(&tq->rx_pkts);
                st->rx_bytes += mpnet_stat_read(&tq->rx_bytes);
                st->rx_drops +=
                    mpnet_stat_read(&tq->rx_oversize) + mpnet_stat_read(&tq->rx_bad_vnet);
                st->tx_pkts += mpnet_stat_read(&tq->tx_pkts);
                st->tx_bytes += mpnet_stat_read(&tq->tx_bytes);
                st->tx_drops += mpnet_stat_read(&tq->tx_oversize) +
                                mpnet_stat_read(&tq->tx_bad_ol) + mpnet_stat_read(&tq->tx_errors) +
                                mpnet_stat_read(&tq->tx_down);
        }
}

int mpnet_tap_get_stats(struct mpnet_link *l, struct mpnet_tap_stats *st)
{
        struct tap *t = (struct tap *)l;

        if (l == NULL || l->ops != &tap_ops)
                return -EINVAL;
        memset(st, 0, sizeof(*st));
        st->up = true;
        for (uint16_t q = 0; q < t->nq; q++) {
                struct tap_q *tq = &t->q[q];
                int s = atomic_load_explicit(&tq->state, memory_order_relaxed);

                st->rx_oversize += mpnet_stat_read(&tq->rx_oversize);
                st->rx_nobufs += mpnet_stat_read(&tq->rx_nobufs);
                st->rx_bad_vnet += mpnet_stat_read(&tq->rx_bad_vnet);
                st->rx_gso += mpnet_stat_read(&tq->rx_gso);
                st->tx_oversize += mpnet_stat_read(&tq->tx_oversize);
                st->tx_bad_ol += mpnet_stat_read(&tq->tx_bad_ol);
                st->tx_errors += mpnet_stat_read(&tq->tx_errors);
                st->tx_down += mpnet_stat_read(&tq->tx_down);
                if (s != TQ_OK) {
                        st->up = false;
                        st->last_errno = atomic_load_explicit(&tq->err, memory_order_relaxed);
                }
                st->gone |= s == TQ_GONE;
        }
        st->down_events = mpnet_stat_read(&t->down_events);
        return 0;
}

int mpnet_tap_fd(struct mpnet_link *l, uint16_t q)
{
        struct tap *t = (struct tap *)l;

        if (l == NULL || l->ops != &tap_ops || q >= t->nq)
                return -EINVAL;
        return t->q[q].fd;
}

static void tap_free(struct tap *t)
{
        queues_close(t);
        for (uint16_t q = 0; q < t->nq; q++) {
                mpnet_pkt_free_bulk(t->q[q].stash, t->q[q].n_stash);
                mpnet_pkt_free_bulk(t->q[q].spare, t->q[q].n_spare);
                mpnet_pkt_free_bulk(&t->q[q].pend[t->q[q].pend_i],
                                    (unsigned)(t->q[q].n_pend - t->q[q].pend_i));
                free(t->q[q].flat);
        }
        free(t->netns);
        free(t);
}

static void tap_destroy(struct mpnet_link *l)
{
        tap_free((struct tap *)l);
}

/* Up while every queue is. */
static bool tap_carrier(struct mpnet_link *l)
{
        struct tap *t = (struct tap *)l;

        for (uint16_t q = 0; q < t->nq; q++)
                if (atomic_load_explicit(&t->q[q].state, memory_order_relaxed) != TQ_OK)
                        return false;
        return true;
}

/* The queue's descriptor polls readable when the kernel has a frame. */
static int tap_rx_wait_arm(struct mpnet_link *l, uint16_t q)
{
        struct tap *t = (struct tap *)l;

        if (q >= t->nq)
                return -EINVAL;
        if (atomic_load_explicit(&t->q[q].state, memory_order_relaxed) == TQ_GONE || t->q[q].fd < 0)
                return -ENOTSUP; /* the timed nap keeps looking for it */
        if (t->q[q].pend_i < t->q[q].n_pend)
                return -EAGAIN; /* segments of a super-frame wait */
        return t->q[q].fd;
}

/* The stack's revive: once the device has gone (not merely down), reopen
 * it, the reason kept off stderr (the stack retries). */
static int tap_revive(struct mpnet_link *l)
{
        struct tap *t = (struct tap *)l;
        bool gone = false;
        char err[256];

        for (uint16_t q = 0; q < t->nq; q++)
                gone |= atomic_load_explicit(&t->q[q].state, memory_order_relaxed) == TQ_GONE;
        return gone ? mpnet_tap_reopen(l, err, sizeof(err)) : -EAGAIN;
}

static const struct mpnet_link_ops tap_ops = {
    .rx_burst = tap_rx_burst,
    .tx_burst = tap_tx_burst,
    .get_stats = tap_get_stats,
    .destroy = tap_destroy,
    .rx_wait_arm = tap_rx_wait_arm,
    .carrier = tap_carrier,
    .revive = tap_revive,
};

int mpnet_tap_reopen(struct mpnet_link *l, char *errbuf, size_t errbuf_len)
{
        struct tap *t = (struct tap *)l;
        int rc;

        if (l == NULL || l->ops != &tap_ops)
                return -EINVAL;
        queues_close(t);
        t->cfg.errbuf = errbuf;
        t->cfg.errbuf_len = errbuf_len;
        rc = in_netns(t->netns, &t->cfg, tap_open_all, t);
        t->cfg.errbuf = NULL;
        if (rc != 0)
                return rc;
        for (uint16_t q = 0; q < t->nq; q++) {
                atomic_store(&t->q[q].err, 0);
                atomic_store(&t->q[q].state, TQ_OK);
        }
        atomic_store(&t->down, 0);
        return 0;
}

static int mac_is_zero(const uint8_t *m)
{
        return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* Locally administered unicast (IEEE 802 U/L bit) from the name and pid, so
 * two processes with the same device name in two namespaces differ. */
static void mac_make(uint8_t mac[6], const char *name)
{
        uint32_t h = 2166136261u;
        uint32_t pid = (uint32_t)getpid();

        for (const char *c = name; *c; c++)
                h = (h ^ (uint8_t)*c) * 16777619u;
        for (int i = 0; i < 4; i++)
                h = (h ^ ((pid >> (8 * i)) & 0xff)) * 16777619u;
        mac[0] = 0x02;
        mac[1] = 0x6d; /* 'm' */
        mac[2] = (uint8_t)(h >> 24);
        mac[3] = (uint8_t)(h >> 16);
        mac[4] = (uint8_t)(h >> 8);
        mac[5] = (uint8_t)h;
}

static int cfg_check(const struct mpnet_tap_cfg *cfg)
{
        uint32_t mtu = cfg->mtu ? cfg->mtu : 1500;
        const uint32_t vnet = MPNET_TAP_F_VNET_HDR;

        if (cfg->pool == NULL || cfg->n_queues > MPNET_TAP_MAX_QUEUES || mtu < 68 || mtu > 65521 ||
            (cfg->ifname != NULL && strlen(cfg->ifname) >= IFNAMSIZ))
                return -EINVAL;
        if ((cfg->flags & MPNET_TAP_F_RX_CSUM) && !(cfg->flags & vnet))
                return -EINVAL;
        if ((cfg->flags & MPNET_TAP_F_RX_GSO) && !(cfg->flags & MPNET_TAP_F_RX_CSUM))
                return -EINVAL;
        if ((cfg->flags & MPNET_TAP_F_ATTACH) && cfg->ifname != NULL &&
            strchr(cfg->ifname, '%') != NULL)
                return -EINVAL;
        if (cfg->mac[0] & 1) /* a station address is unicast */
                return -EINVAL;
        return 0;
}

struct mpnet_link *mpnet_tap_create(const struct mpnet_tap_cfg *cfg)
{
        struct tap *t;
        uint16_t nq;
        int rc;

        if (cfg == NULL || cfg_check(cfg) != 0) {
                if (cfg != NULL)
                        tap_msg(cfg, "tap: invalid configuration");
                errno = EINVAL;
                return NULL;
        }
        nq = cfg->n_queues ? cfg->n_queues : 1;
        if (posix_memalign((void **)&t, MPNET_CACHE_LINE, sizeof(*t) + nq * sizeof(struct tap_q)) !=
            0) {
                errno = ENOMEM;
                return NULL;
        }
        memset(t, 0, sizeof(*t) + nq * sizeof(struct tap_q));
        t->nq = nq;
        t->cfg = *cfg;
        t->cfg.ifname = NULL;
        t->cfg.netns = NULL;
        for (uint16_t q = 0; q < nq; q++)
                t->q[q].fd = -1;
        snprintf(t->ifname, sizeof(t->ifname), "%s",
                 cfg->ifname != NULL && *cfg->ifname ? cfg->ifname : "mptap%d");
        if (cfg->netns != NULL && (t->netns = strdup(cfg->netns)) == NULL) {
                free(t);
                errno = ENOMEM;
                return NULL;
        }
        t->hdr_len = (cfg->flags & MPNET_TAP_F_VNET_HDR) ? sizeof(struct virtio_net_hdr) : 0;
        t->link.ops = &tap_ops;
        t->link.info.mtu = cfg->mtu ? cfg->mtu : 1500;
        t->link.info.n_rxq = t->link.info.n_txq = nq;
        t->link.info.speed_bps = 10000000000ull; /* what the kernel reports for tun */
        snprintf(t->link.info.kind, sizeof(t->link.info.kind), "tap");
        if (t->hdr_len != 0)
                t->link.info.offloads = MPNET_LINK_OFF_TX_CSUM | MPNET_LINK_OFF_TSO;
        if (cfg->flags & MPNET_TAP_F_RX_CSUM)
                t->link.info.offloads |= MPNET_LINK_OFF_RX_CSUM;
        t->max_frame = t->link.info.mtu + ETH_VLAN_EXTRA;
        /* The kernel side's MTU may be raised behind our back: with chains,
         * take whatever it sends up to 64 KiB; without, what fits a buffer. */
        t->rx_max = MPNET_PKT_DATA_SIZE;
        if ((cfg->flags & (MPNET_TAP_F_RX_CHAINS | MPNET_TAP_F_RX_GSO)) ||
            t->max_frame > MPNET_PKT_DATA_SIZE) {
                t->rx_max = TAP_GSO_MAX;
                t->n_spare = TAP_MAX_SPARE;
        }
        if (cfg->flags & MPNET_TAP_F_RX_GSO) {
                for (uint16_t q = 0; q < nq; q++) {
                        if ((t->q[q].flat = malloc(TAP_GSO_MAX)) == NULL) {
                                tap_free(t);
                                errno = ENOMEM;
                                return NULL;
                        }
                }
        }

        rc = in_netns(t->netns, &t->cfg, tap_open_all, t);
        t->cfg.errbuf = NULL; /* the caller's buffer need not outlive the call */
        if (rc != 0) {
                tap_free(t);
                errno = -rc;
                return NULL;
        }
        snprintf(t->link.name, sizeof(t->link.name), "%s", t->ifname);
        if (mac_is_zero(cfg->mac))
                mac_make(t->link.info.mac, t->ifname);
        else
                memcpy(t->link.info.mac, cfg->mac, 6);
        return &t->link;
}
