/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afpacket: packet sockets with memory-mapped rings
 * (Documentation/networking/packet_mmap.rst).
 *
 * Per queue, one socket with a receive ring and a transmit ring in one
 * mapping, both of the socket's PACKET_VERSION: TPACKET_V2 by default,
 * TPACKET_V3 with MPNET_AFP_F_TPACKET_V3.
 *
 * The V2 receive ring is a circle of fixed frames; the kernel hands each one
 * over (TP_STATUS_USER) as soon as it has written it and wakes a poller per
 * frame, so a lone frame is ours within microseconds. The V3 receive ring is
 * a circle of blocks the kernel fills with variable-size frames and hands
 * over only when full or block_tov_ms after the block opened (it sets status
 * and wakes readers per block, so an open block cannot be read safely): a
 * lone frame waits up to block_tov_ms (1 ms), which light traffic such as a
 * ping pays in full. Either way we copy each frame into a pool buffer and
 * hand its frame or block back. bench_afpacket compares the two under load.
 *
 * The transmit ring is a circle of fixed slots (tpacket2_hdr or
 * tpacket3_hdr, the frame at TPACKET_ALIGN of the header's size, where the
 * kernel's tpacket_parse_header looks without PACKET_TX_HAS_OFF): we copy
 * each frame into a free slot (TP_STATUS_AVAILABLE), mark it
 * TP_STATUS_SEND_REQUEST and kick the kernel with one sendto() per burst; the
 * kernel marks the slot available again when the driver has freed the skb.
 *
 * Synchronisation: per queue one rx thread and one tx thread (link.h); the
 * rings are shared with the kernel through the status words, read with
 * acquire and written with release order. Each counter has one writer, except
 * the kernel's drop count, which any get_stats caller folds in atomically.
 * Life cycle: create opens every queue (in the target namespace, from a
 * helper thread); reopen closes and opens them again; destroy unmaps and
 * closes.
 */
#define _GNU_SOURCE /* setns */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/stat.h"
#include "link/netns.h"
#include "mpnet/afpacket.h"
#include "mpnet/wire/bytes.h"
#include "link/frame.h"
#include "link/vnet.h"

#define AFP_STASH        32u
#define AFP_CHECK_NS     (10 * 1000000ull) /* socket error check while idle */
#define ETH_VLAN_EXTRA   18u
#define AFP_DEF_BLOCK    (64u * 1024)
#define AFP_DEF_NBLOCKS  64u
#define AFP_DEF_TOV_MS   1u
#define AFP_DEF_TX_SLOTS 1024u
/* With a vnet header: a GSO super-frame (a 64 KiB IP packet, Ethernet and
 * a VLAN tag) read whole from the socket queue, and the V3 block that
 * holds one. */
#define AFP_GSO_MAX    65554u
#define AFP_GSO_BLOCK  (128u * 1024)
#define AFP_GSO_RCVBUF (4 * 1024 * 1024)
#define AFP_VH         ((uint32_t)sizeof(struct virtio_net_hdr))
#define AFP_PEND       128u /* segments of one super-frame: MSS 536 and up */

enum { AQ_OK = 0, AQ_FAILING, AQ_GONE };

struct afp_q {
        int fd;
        _Atomic int state;
        _Atomic int err;
        uint8_t *map;
        size_t map_len;
        /* rx side (one thread) */
        uint8_t *rx;
        uint32_t rx_cur;             /* V2: frame to read next; V3: block being read */
        uint32_t rx_left;            /* V3: frames left in the block */
        bool rx_in_block;            /* V3: rx_cur is ours (TP_STATUS_USER) */
        bool skip_outgoing;          /* the kernel lacks PACKET_IGNORE_OUTGOING */
        struct tpacket3_hdr *rx_hdr; /* V3: next frame in the block */
        uint64_t next_check;         /* coarse monotonic time of the next error check */
        unsigned n_stash;
        struct mpnet_pkt *stash[AFP_STASH];
        uint8_t *big;            /* vnet: AFP_VH + AFP_GSO_MAX bytes for a frame read whole */
        uint16_t n_pend, pend_i; /* segments of a super-frame not handed out yet */
        struct mpnet_pkt *pend[AFP_PEND];
        mpnet_stat_t rx_pkts, rx_bytes, rx_truncated, rx_nobufs, rx_vlan;
        mpnet_stat_t rx_gso, rx_copied, rx_bad_vnet;
        _Atomic uint64_t rx_kdrops;
        /* tx side (one thread) */
        uint8_t *tx;
        uint32_t tx_cur;
        mpnet_stat_t tx_pkts, tx_bytes, tx_ring_full, tx_oversize, tx_bad_ol, tx_down;
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct afp {
        struct mpnet_link link;
        struct mpnet_afpacket_cfg cfg; /* copy; strings below */
        char ifname[IFNAMSIZ];
        char *netns;
        int ifindex;
        bool v3;         /* TPACKET_V3 rings (MPNET_AFP_F_TPACKET_V3), else TPACKET_V2 */
        uint32_t vh_len; /* AFP_VH with PACKET_VNET_HDR, else 0 */
        uint32_t block_size, n_blocks, tov_ms;
        uint32_t rx_frame, rx_nframes, rx_block; /* V2 receive ring geometry */
        uint32_t slot_size, n_slots, tx_block;
        uint32_t tx_data;   /* where the frame starts in a tx slot */
        uint32_t max_frame; /* mtu + 18 */
        uint32_t mtu_floor; /* a reopen keeps slots for the MTU the stack has */
        bool mac_set;       /* the link's MAC is fixed (cfg or a previous open) */
        uint32_t fanout_id;
        _Atomic int down;
        mpnet_stat_t down_events;
        uint16_t nq;
        struct afp_q q[];
};

static const struct mpnet_link_ops afp_ops;

/* ---- errors and namespaces ---------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
afp_msg(const struct mpnet_afpacket_cfg *cfg, const char *fmt, ...)
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
static int in_netns(const char *netns, const struct mpnet_afpacket_cfg *cfg, int (*fn)(void *),
                    void *arg)
{
        struct link_err e = {.buf = cfg->errbuf, .len = cfg->errbuf_len, .who = "afpacket"};

        return link_in_netns(netns, fn, arg, &e);
}

/* ---- opening -------------------------------------------------------------- */

static int sockopt(struct afp *a, int fd, int opt, const void *v, socklen_t n, const char *what)
{
        if (setsockopt(fd, SOL_PACKET, opt, v, n) == 0)
                return 0;
        afp_msg(&a->cfg, "afpacket: %s on %s: %s", what, a->ifname, strerror(errno));
        return -errno;
}

static int int_opt(struct afp *a, int fd, int opt, int v, const char *what)
{
        return sockopt(a, fd, opt, &v, sizeof(v), what);
}

/* Both rings, then one mapping: rx blocks first, tx slots after. The two
 * versions share the request layout up to tp_frame_nr; V3 adds the block
 * retire timeout, which V2 does not need (each frame is handed over as soon
 * as it is written). */
static int rings_setup(struct afp *a, struct afp_q *aq)
{
        struct tpacket_req3 rx = {
            .tp_block_size = a->block_size,
            .tp_block_nr = a->n_blocks,
            .tp_frame_size = TPACKET_ALIGNMENT << 7,
            .tp_frame_nr = a->block_size / (TPACKET_ALIGNMENT << 7) * a->n_blocks,
            .tp_retire_blk_tov = a->tov_ms,
        };
        struct tpacket_req3 tx = {
            .tp_block_size = a->tx_block,
            .tp_block_nr = a->n_slots / (a->tx_block / a->slot_size),
            .tp_frame_size = a->slot_size,
            .tp_frame_nr = a->n_slots,
        };
        size_t rx_len = (size_t)a->block_size * a->n_blocks;
        socklen_t req_len = a->v3 ? sizeof(struct tpacket_req3) : sizeof(struct tpacket_req);
        bool tx_ring = !(a->cfg.flags & MPNET_AFP_F_TX_SENDMMSG);
        int rc;

        if (!a->v3) {
                rx.tp_block_size = a->rx_block;
                rx.tp_block_nr = a->rx_nframes / (a->rx_block / a->rx_frame);
                rx.tp_frame_size = a->rx_frame;
                rx.tp_frame_nr = a->rx_nframes;
                rx.tp_retire_blk_tov = 0;
                rx_len = (size_t)a->rx_frame * a->rx_nframes;
        }
        rc = sockopt(a, aq->fd, PACKET_RX_RING, &rx, req_len, "PACKET_RX_RING");
        if (rc == 0 && tx_ring)
                rc = sockopt(a, aq->fd, PACKET_TX_RING, &tx, req_len, "PACKET_TX_RING");
        if (rc != 0)
                return rc;
        aq->map_len = rx_len + (tx_ring ? (size_t)a->slot_size * a->n_slots : 0);
        aq->map =
            mmap(NULL, aq->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, aq->fd, 0);
        if (aq->map == MAP_FAILED) {
                aq->map = NULL;
                afp_msg(&a->cfg, "afpacket: mmap of the rings: %s", strerror(errno));
                return -errno;
        }
        aq->rx = aq->map;
        aq->tx = tx_ring ? aq->map + rx_len : NULL;
        aq->rx_cur = aq->tx_cur = 0;
        aq->rx_left = 0;
        aq->rx_in_block = false;
        return 0;
}

/* Spread received frames over the queues by flow hash. The first socket
 * asks the kernel for an unused group id (so no stranger's group is joined),
 * the others join it. */
static int fanout_join(struct afp *a, struct afp_q *aq, bool first)
{
        int v;
        socklen_t n = sizeof(v);

        if (first) {
                v = (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
                if (int_opt(a, aq->fd, PACKET_FANOUT, v, "PACKET_FANOUT") != 0)
                        return -errno;
                if (getsockopt(aq->fd, SOL_PACKET, PACKET_FANOUT, &v, &n) != 0)
                        return -errno;
                a->fanout_id = (uint32_t)v & 0xffff;
                return 0;
        }
        v = (int)(a->fanout_id | PACKET_FANOUT_HASH << 16);
        return int_opt(a, aq->fd, PACKET_FANOUT, v, "PACKET_FANOUT");
}

/*
 * The virtio-net header before each frame, both ways (set before the rings:
 * the kernel refuses it after). A V2 ring frame is MTU-sized, so a GSO
 * super-frame would be cut to it: PACKET_COPY_THRESH makes the kernel queue
 * such a frame whole to the socket as well (TP_STATUS_COPY on the ring
 * frame), while the socket's receive buffer has room, which is made large
 * enough for a few dozen of them.
 */
static int vnet_setup(struct afp *a, struct afp_q *aq)
{
        int rc = int_opt(a, aq->fd, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR");
        int rcvbuf = AFP_GSO_RCVBUF;

        if (rc != 0 || a->v3)
                return rc;
        rc = int_opt(a, aq->fd, PACKET_COPY_THRESH, 1, "PACKET_COPY_THRESH");
        if (rc == 0 && setsockopt(aq->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
                (void)setsockopt(aq->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (rc == 0 && aq->big == NULL && (aq->big = malloc(AFP_VH + AFP_GSO_MAX)) == NULL)
                rc = -ENOMEM;
        return rc;
}

static int queue_open(struct afp *a, uint16_t q)
{
        struct afp_q *aq = &a->q[q];
        struct sockaddr_ll sll = {0};
        int rc;

        /* Protocol 0: nothing arrives before the ring is in place. */
        aq->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (aq->fd < 0) {
                rc = -errno;
                afp_msg(&a->cfg, "afpacket: packet socket: %s%s", strerror(errno),
                        errno == EPERM ? " (needs CAP_NET_RAW)" : "");
                return rc;
        }
        rc = int_opt(a, aq->fd, PACKET_VERSION, a->v3 ? TPACKET_V3 : TPACKET_V2, "PACKET_VERSION");
        if (rc == 0 && !(a->cfg.flags & MPNET_AFP_F_NO_QDISC_BYPASS))
                rc = int_opt(a, aq->fd, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS");
        /* A malformed slot is skipped instead of stopping the ring. */
        if (rc == 0)
                rc = int_opt(a, aq->fd, PACKET_LOSS, 1, "PACKET_LOSS");
        /* Not our own frames back (Linux 4.20); without it, the receive
         * path skips them by sll_pkttype. */
        if (rc == 0) {
                int one = 1;

                aq->skip_outgoing =
                    setsockopt(aq->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0;
        }
        if (rc == 0 && a->vh_len != 0)
                rc = vnet_setup(a, aq);
        if (rc == 0)
                rc = rings_setup(a, aq);
        if (rc != 0)
                return rc;
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = a->ifindex;
        if (bind(aq->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
                rc = -errno;
                afp_msg(&a->cfg, "afpacket: bind to %s: %s", a->ifname, strerror(errno));
                return rc;
        }
        if (q == 0 && !(a->cfg.flags & MPNET_AFP_F_NO_PROMISC)) {
                struct packet_mreq mr = {.mr_ifindex = a->ifindex, .mr_type = PACKET_MR_PROMISC};

                rc = sockopt(a, aq->fd, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr),
                             "PACKET_ADD_MEMBERSHIP");
                if (rc != 0)
                        return rc;
        }
        if (a->nq > 1)
                return fanout_join(a, aq, q == 0);
        return 0;
}

static void queues_close(struct afp *a)
{
        for (uint16_t q = 0; q < a->nq; q++) {
                struct afp_q *aq = &a->q[q];

                if (aq->map != NULL)
                        munmap(aq->map, aq->map_len);
                if (aq->fd >= 0)
                        close(aq->fd);
                aq->map = aq->rx = aq->tx = NULL;
                aq->fd = -1;
        }
}

/* Index, MTU and address of the interface (the address only when the
 * configuration gave none). */
static int dev_query(struct afp *a)
{
        struct link_err e = {.buf = a->cfg.errbuf, .len = a->cfg.errbuf_len, .who = "afpacket"};
        struct link_dev d;
        int rc = link_dev_query(a->ifname, &d, &e);

        if (rc != 0)
                return rc;
        a->ifindex = d.ifindex;
        a->link.info.mtu = d.mtu;
        if (!a->mac_set)
                memcpy(a->link.info.mac, d.mac, 6);
        return 0;
}

/*
 * The V2 receive ring: fixed frames, each the smallest power of two that
 * holds the kernel's header and the largest frame. The kernel puts the MAC
 * header at TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - 14 (tpacket_rcv), so a
 * frame of max_frame bytes fits when the slot has AFP_RX2_ROOM + max_frame.
 * The ring keeps the bytes the configuration gives (block_size x n_blocks),
 * in blocks no smaller than a frame (a frame never spans blocks), and at
 * least AFP_RX2_MIN_FRAMES frames: with a jumbo MTU a frame takes 16 KiB,
 * and the default 4 MiB would hold 256 of them, 13 ms at 20,000 frames a
 * second, which a busy machine's scheduler outlasts (frames were lost in
 * test_kernel_mpgen with two test suites running).
 */
#define AFP_RX2_ROOM       TPACKET_ALIGN(TPACKET2_HDRLEN + 16)
#define AFP_RX2_MIN_FRAMES 1024u

static void rx2_geometry(struct afp *a)
{
        size_t bytes = (size_t)a->block_size * a->n_blocks;

        for (a->rx_frame = 2048; a->rx_frame < AFP_RX2_ROOM + a->vh_len + a->max_frame;)
                a->rx_frame *= 2;
        a->rx_block = a->block_size > a->rx_frame ? a->block_size : a->rx_frame;
        if (bytes < a->rx_block)
                bytes = a->rx_block;
        if (bytes < (size_t)AFP_RX2_MIN_FRAMES * a->rx_frame)
                bytes = (size_t)AFP_RX2_MIN_FRAMES * a->rx_frame;
        a->rx_nframes = (uint32_t)(bytes / a->rx_block * (a->rx_block / a->rx_frame));
}

/* Runs in the interface's namespace. */
static int afp_open_all(void *arg)
{
        struct afp *a = arg;
        int rc = dev_query(a);

        if (rc != 0)
                return rc;
        if (a->link.info.mtu < a->mtu_floor)
                a->link.info.mtu = a->mtu_floor;
        if (a->link.info.mtu < 68 || a->link.info.mtu > 65535) {
                afp_msg(&a->cfg, "afpacket: MTU %u of %s out of range", a->link.info.mtu,
                        a->ifname);
                return -EINVAL;
        }
        a->max_frame = a->link.info.mtu + ETH_VLAN_EXTRA;
        /* The smallest power-of-two slot (2 KiB at least) that holds the slot
         * header and the largest frame; 16 slots to a block. */
        for (a->slot_size = 2048; a->slot_size < a->tx_data + a->vh_len + a->max_frame;)
                a->slot_size *= 2;
        a->tx_block = 16 * a->slot_size;
        rx2_geometry(a);
        for (uint16_t q = 0; q < a->nq; q++) {
                rc = queue_open(a, q);
                if (rc != 0) {
                        queues_close(a);
                        return rc;
                }
        }
        return 0;
}

/* ---- state --------------------------------------------------------------- */

static void queue_fail(struct afp *a, struct afp_q *aq, int e, bool gone)
{
        atomic_store_explicit(&aq->err, e, memory_order_relaxed);
        atomic_store_explicit(&aq->state, gone ? AQ_GONE : AQ_FAILING, memory_order_relaxed);
        if (atomic_exchange_explicit(&a->down, 1, memory_order_relaxed) == 0)
                atomic_fetch_add_explicit(&a->down_events, 1, memory_order_relaxed);
}

static void queue_ok(struct afp *a, struct afp_q *aq)
{
        atomic_store_explicit(&aq->state, AQ_OK, memory_order_relaxed);
        for (uint16_t q = 0; q < a->nq; q++)
                if (atomic_load_explicit(&a->q[q].state, memory_order_relaxed) != AQ_OK)
                        return;
        atomic_store_explicit(&a->down, 0, memory_order_relaxed);
}

/*
 * Did the interface go down or away? Going down sets the socket error
 * ENETDOWN; being unregistered (deleted, or taken along with a veth peer's
 * namespace) unbinds the socket (ifindex -1) after that, with no new error,
 * so the binding is looked at on every check.
 */
static void queue_check(struct afp *a, struct afp_q *aq)
{
        struct sockaddr_ll sll;
        socklen_t n = sizeof(sll);
        int e = 0;

        if (getsockname(aq->fd, (struct sockaddr *)&sll, &n) == 0 &&
            sll.sll_ifindex != a->ifindex) {
                queue_fail(a, aq, ENXIO, true);
                return;
        }
        n = sizeof(e);
        if (getsockopt(aq->fd, SOL_SOCKET, SO_ERROR, &e, &n) == 0 && e != 0)
                queue_fail(a, aq, e, false);
}

static uint64_t coarse_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- receive -------------------------------------------------------------- */

/* What the receive path needs of a ring frame, from either header version. */
struct afp_frame {
        const uint8_t *data;
        uint32_t snaplen, len, status;
        uint16_t vlan_tci, vlan_tpid;
        uint8_t pkttype;
        struct virtio_net_hdr vh; /* with PACKET_VNET_HDR: just before data */
};

static void frame_vnet(const struct afp *a, struct afp_frame *f)
{
        if (a->vh_len != 0)
                memcpy(&f->vh, f->data - AFP_VH, AFP_VH);
}

static void frame_v3(const struct tpacket3_hdr *h, struct afp_frame *f)
{
        const struct sockaddr_ll *sll =
            (const struct sockaddr_ll *)((const uint8_t *)h +
                                         TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));

        f->data = (const uint8_t *)h + h->tp_mac;
        f->snaplen = h->tp_snaplen;
        f->len = h->tp_len;
        f->status = h->tp_status;
        f->vlan_tci = (uint16_t)h->hv1.tp_vlan_tci;
        f->vlan_tpid = (uint16_t)h->hv1.tp_vlan_tpid;
        f->pkttype = sll->sll_pkttype;
}

static void frame_v2(const struct tpacket2_hdr *h, uint32_t status, struct afp_frame *f)
{
        const struct sockaddr_ll *sll =
            (const struct sockaddr_ll *)((const uint8_t *)h +
                                         TPACKET_ALIGN(sizeof(struct tpacket2_hdr)));

        f->data = (const uint8_t *)h + h->tp_mac;
        f->snaplen = h->tp_snaplen;
        f->len = h->tp_len;
        f->status = status;
        f->vlan_tci = h->tp_vlan_tci;
        f->vlan_tpid = h->tp_vlan_tpid;
        f->pkttype = sll->sll_pkttype;
}

/* Copy one ring frame into a packet (a chain when it is long). */
static struct mpnet_pkt *rx_copy(struct afp *a, struct afp_q *aq, const uint8_t *f, uint32_t len)
{
        struct mpnet_pkt *p;

        if (len <= MPNET_PKT_DATA_SIZE) {
                if (aq->n_stash == 0)
                        aq->n_stash = mpnet_pkt_alloc_bulk(a->cfg.pool, aq->stash, AFP_STASH);
                if (aq->n_stash == 0)
                        return NULL;
                p = aq->stash[--aq->n_stash];
                memcpy(p->data, f, len);
                p->len = p->pkt_len = len;
        } else {
                p = mpnet_pkt_from_bytes(a->cfg.pool, f, len);
        }
        return p;
}

/* The frame's checksum state and VLAN tag into p. @return 0, or -1 when
 * its vnet header cannot be honoured. */
static int rx_meta(struct afp *a, struct afp_q *aq, const struct afp_frame *h, struct mpnet_pkt *p)
{
        if (a->vh_len != 0) {
                if (link_vnet_any(&h->vh) && link_vnet_rx(&h->vh, p, false) != 0)
                        return -1;
        } else if (h->status & TP_STATUS_CSUMNOTREADY) {
                uint32_t l4;
                uint8_t proto;

                /* Sent by a local socket over veth: the TCP/UDP checksum
                 * field holds only the pseudo-header sum. */
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_OK;
                if (link_frame_l4(p->data, p->len, &l4, &proto)) {
                        p->ol_flags |= MPNET_PKT_F_L4_CSUM_TX;
                        p->l4_off = (uint16_t)(mpnet_pkt_headroom(p) + l4);
                }
        } else if (h->status & TP_STATUS_CSUM_VALID) {
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_OK;
        }
        if (h->status & TP_STATUS_VLAN_VALID) {
                uint16_t tpid = (h->status & TP_STATUS_VLAN_TPID_VALID) ? h->vlan_tpid : 0x8100;
                uint8_t *e;

                mpnet_stat_add(&aq->rx_vlan, 1);
                if (a->cfg.flags & MPNET_AFP_F_VLAN_META) {
                        p->ol_flags |= MPNET_PKT_F_VLAN;
                        p->vlan_tci = h->vlan_tci;
                } else if (p->len >= 12 && (e = mpnet_pkt_prepend(p, 4)) != NULL) {
                        /* Back where it was on the wire (IEEE 802.1Q 9.3). */
                        memmove(e, e + 4, 12);
                        mpnet_put_be16(e + 12, tpid);
                        mpnet_put_be16(e + 14, h->vlan_tci);
                }
        }
        return 0;
}

/*
 * A ring frame marked TP_STATUS_COPY was too long for its slot; the kernel
 * queued the whole frame to the socket too, in ring order (the ring is the
 * only reader of that queue). Read it, with its own vnet header, whatever
 * becomes of it, lest the queue fall out of step with the ring.
 * @return its length with f->vh filled, or 0 when it could not be read.
 */
static uint32_t rx_dequeue(struct afp *a, struct afp_q *aq, struct afp_frame *f)
{
        ssize_t r;

        do
                r = recv(aq->fd, aq->big, AFP_VH + AFP_GSO_MAX, MSG_DONTWAIT | MSG_TRUNC);
        while (r < 0 && errno == EINTR);
        if (r < (ssize_t)(AFP_VH + 14) || r > (ssize_t)(AFP_VH + AFP_GSO_MAX))
                return 0;
        (void)a;
        memcpy(&f->vh, aq->big, AFP_VH);
        f->data = aq->big + AFP_VH;
        return (uint32_t)r - AFP_VH;
}

/*
 * A TCP GSO super-frame: cut in software into the segments the kernel would
 * have put on a wire, each one buffer (the stack's TCP reads a segment's
 * data from one buffer), onto the queue's pending list, which the burst
 * hands out before it reads the ring again. Each keeps the partial checksum
 * (the pseudo-header sum for its length) and the frame's VLAN tag.
 */
static void rx_gso(struct afp *a, struct afp_q *aq, const struct afp_frame *f, uint32_t len)
{
        struct afp_frame seg = *f;
        struct link_gso g;

        seg.vh = (struct virtio_net_hdr){0};
        if (link_vnet_gso_init(&g, &f->vh, f->data, len, MPNET_PKT_DATA_SIZE - 4, AFP_PEND) != 0) {
                mpnet_stat_add(&aq->rx_bad_vnet, 1);
                return;
        }
        aq->n_pend = aq->pend_i = 0;
        for (uint32_t i = 0; i < g.n; i++) {
                struct mpnet_pkt *p;

                if (aq->n_stash == 0)
                        aq->n_stash = mpnet_pkt_alloc_bulk(a->cfg.pool, aq->stash, AFP_STASH);
                if (aq->n_stash == 0) {
                        mpnet_stat_add(&aq->rx_nobufs, g.n - i);
                        break;
                }
                p = aq->stash[--aq->n_stash];
                p->len = p->pkt_len = link_vnet_gso_seg(&g, f->data, i, p->data);
                p->ol_flags |= MPNET_PKT_F_L4_CSUM_OK | MPNET_PKT_F_L4_CSUM_TX;
                p->l4_off = (uint16_t)(mpnet_pkt_headroom(p) + g.l4);
                (void)rx_meta(a, aq, &seg, p); /* the VLAN tag */
                aq->pend[aq->n_pend++] = p;
        }
        mpnet_stat_add(&aq->rx_gso, 1);
}

/* Hand out pending segments. @return false while some are left. */
static bool rx_pend(struct afp_q *aq, struct mpnet_pkt **pkts, uint16_t n, uint16_t *got)
{
        while (aq->pend_i < aq->n_pend && *got < n)
                pkts[(*got)++] = aq->pend[aq->pend_i++];
        return aq->pend_i == aq->n_pend;
}

static bool rx_deliver(struct afp *a, struct afp_q *aq, const struct afp_frame *f, uint32_t len,
                       struct mpnet_pkt **out)
{
        struct mpnet_pkt *p;

        if (aq->skip_outgoing && f->pkttype == PACKET_OUTGOING)
                return false; /* ours, looped back by an old kernel */
        if (a->vh_len != 0 && f->vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
                uint8_t t = f->vh.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

                if (t == VIRTIO_NET_HDR_GSO_TCPV4 || t == VIRTIO_NET_HDR_GSO_TCPV6)
                        rx_gso(a, aq, f, len);
                else
                        mpnet_stat_add(&aq->rx_bad_vnet, 1);
                return false;
        }
        if ((p = rx_copy(a, aq, f->data, len)) == NULL) {
                /* The frame is lost: its slot must go back anyway. */
                mpnet_stat_add(&aq->rx_nobufs, 1);
                return false;
        }
        if (rx_meta(a, aq, f, p) != 0) {
                mpnet_stat_add(&aq->rx_bad_vnet, 1);
                mpnet_pkt_free(p);
                return false;
        }
        *out = p;
        return true;
}

/* One ring frame: into pkts (@return true) or dropped and counted. */
static bool rx_frame(struct afp *a, struct afp_q *aq, const struct afp_frame *f,
                     struct mpnet_pkt **out)
{
        uint32_t len = f->snaplen;

        if (f->status & TP_STATUS_COPY) {
                struct afp_frame whole = *f;

                len = rx_dequeue(a, aq, &whole);
                if (len != f->len) {
                        mpnet_stat_add(&aq->rx_truncated, 1);
                        return false;
                }
                mpnet_stat_add(&aq->rx_copied, 1);
                f = &whole;
                return rx_deliver(a, aq, f, len, out);
        }
        if (f->snaplen < f->len) {
                mpnet_stat_add(&aq->rx_truncated, 1);
                return false;
        }
        return rx_deliver(a, aq, f, len, out);
}

static struct tpacket2_hdr *rx2_slot(struct afp *a, struct afp_q *aq, uint32_t i)
{
        /* rx_frame divides rx_block: the frames lie back to back. */
        return (struct tpacket2_hdr *)(aq->rx + (size_t)i * a->rx_frame);
}

/* V2: a frame is ours once its status says TP_STATUS_USER, and goes back
 * with TP_STATUS_KERNEL; the kernel fills the ring in order. */
static uint16_t rx2_burst(struct afp *a, struct afp_q *aq, struct mpnet_pkt **pkts, uint16_t n)
{
        uint16_t got = 0;

        while (rx_pend(aq, pkts, n, &got) && got < n) {
                struct tpacket2_hdr *h = rx2_slot(a, aq, aq->rx_cur);
                uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
                struct afp_frame f;

                if (!(st & TP_STATUS_USER))
                        break;
                frame_v2(h, st, &f);
                frame_vnet(a, &f);
                if (rx_frame(a, aq, &f, &pkts[got]))
                        got++;
                __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
                aq->rx_cur = aq->rx_cur + 1 == a->rx_nframes ? 0 : aq->rx_cur + 1;
        }
        return got;
}

/* V3: a block is ours once its status says TP_STATUS_USER (full, or
 * block_tov_ms after its first frame); its frames are read in order and the
 * whole block goes back with TP_STATUS_KERNEL. */
static uint16_t rx3_burst(struct afp *a, struct afp_q *aq, struct mpnet_pkt **pkts, uint16_t n)
{
        uint16_t got = 0;

        while (rx_pend(aq, pkts, n, &got) && got < n) {
                struct tpacket_block_desc *bd =
                    (struct tpacket_block_desc *)(aq->rx + (size_t)aq->rx_cur * a->block_size);
                const struct tpacket3_hdr *h;
                struct afp_frame f;

                if (!aq->rx_in_block) {
                        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
                              TP_STATUS_USER))
                                break;
                        aq->rx_in_block = true;
                        aq->rx_left = bd->hdr.bh1.num_pkts;
                        aq->rx_hdr = (struct tpacket3_hdr *)((uint8_t *)bd +
                                                             bd->hdr.bh1.offset_to_first_pkt);
                }
                if (aq->rx_left == 0) {
                        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                                         __ATOMIC_RELEASE);
                        aq->rx_in_block = false;
                        aq->rx_cur = (aq->rx_cur + 1) % a->n_blocks;
                        continue;
                }
                h = aq->rx_hdr;
                frame_v3(h, &f);
                frame_vnet(a, &f);
                if (rx_frame(a, aq, &f, &pkts[got]))
                        got++;
                aq->rx_left--;
                aq->rx_hdr = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
        }
        return got;
}

static uint16_t afp_rx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct afp *a = (struct afp *)l;
        struct afp_q *aq;
        uint64_t bytes = 0;
        uint16_t got;

        if (q >= a->nq || a->q[q].rx == NULL)
                return 0;
        aq = &a->q[q];
        got = a->v3 ? rx3_burst(a, aq, pkts, n) : rx2_burst(a, aq, pkts, n);
        if (got > 0) {
                for (uint16_t i = 0; i < got; i++)
                        bytes += pkts[i]->pkt_len;
                mpnet_stat_add(&aq->rx_pkts, got);
                mpnet_stat_add(&aq->rx_bytes, bytes);
                if (atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_FAILING)
                        queue_ok(a, aq);
        } else if (atomic_load_explicit(&aq->state, memory_order_relaxed) != AQ_GONE) {
                /* Idle: look for a device that went away, at most every 10 ms. */
                uint64_t now = coarse_ns();

                if (now >= aq->next_check) {
                        aq->next_check = now + AFP_CHECK_NS;
                        queue_check(a, aq);
                }
        }
        return got;
}

/* ---- transmit ------------------------------------------------------------- */

static uint8_t *tx_slot(struct afp *a, struct afp_q *aq, uint32_t i)
{
        return aq->tx + (size_t)(i & (a->n_slots - 1)) * a->slot_size;
}

/* The slot's status word: where it lies depends on the header version. */
static uint32_t *tx_status(const struct afp *a, uint8_t *slot)
{
        return a->v3 ? &((struct tpacket3_hdr *)slot)->tp_status
                     : &((struct tpacket2_hdr *)slot)->tp_status;
}

/* Hand a filled slot to the kernel. V3 refuses a slot whose tp_next_offset
 * is not 0 (tpacket_parse_header); V2 has no such field. */
static void tx_post(const struct afp *a, uint8_t *slot, uint32_t len)
{
        if (a->v3) {
                struct tpacket3_hdr *h = (struct tpacket3_hdr *)slot;

                h->tp_len = len;
                h->tp_snaplen = len;
                h->tp_next_offset = 0;
        } else {
                struct tpacket2_hdr *h = (struct tpacket2_hdr *)slot;

                h->tp_len = len;
                h->tp_snaplen = len;
        }
        __atomic_store_n(tx_status(a, slot), TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
}

/*
 * The kick failed (the device is down or gone): give back the slots the
 * kernel did not take, lest they go out stale later. The kernel walks the
 * ring from its own head and stops at the first slot not marked
 * SEND_REQUEST, so our cursor must come back to the first slot it left
 * marked, or later frames would wait behind an empty slot forever.
 * @return how many slots were given back.
 */
static uint32_t tx_reclaim(struct afp *a, struct afp_q *aq, uint32_t first, uint32_t count)
{
        uint32_t i = 0, back;

        while (i < count && __atomic_load_n(tx_status(a, tx_slot(a, aq, first + i)),
                                            __ATOMIC_ACQUIRE) != TP_STATUS_SEND_REQUEST)
                i++;
        back = count - i;
        for (uint32_t k = i; k < count; k++)
                __atomic_store_n(tx_status(a, tx_slot(a, aq, first + k)), TP_STATUS_AVAILABLE,
                                 __ATOMIC_RELEASE);
        aq->tx_cur = (first + i) & (a->n_slots - 1);
        return back;
}

static void tx_kick(struct afp *a, struct afp_q *aq, uint32_t first, uint32_t queued,
                    uint64_t bytes)
{
        uint32_t back;
        ssize_t r;
        int e;

        do
                r = sendto(aq->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
        while (r < 0 && errno == EINTR);
        /* EAGAIN, ENOBUFS: the slots stay queued and go with the next kick. */
        if (r >= 0 || errno == EAGAIN || errno == ENOBUFS) {
                mpnet_stat_add(&aq->tx_pkts, queued);
                mpnet_stat_add(&aq->tx_bytes, bytes);
                if (atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_FAILING)
                        queue_ok(a, aq);
                return;
        }
        e = errno;
        back = tx_reclaim(a, aq, first, queued);
        mpnet_stat_add(&aq->tx_pkts, queued - back);
        mpnet_stat_add(&aq->tx_down, back);
        queue_fail(a, aq, e, e == ENXIO || e == ENODEV);
}

/* ---- transmit without a ring: sendmmsg() ----------------------------------- */

#define AFP_MMSG_MAX 64u
#define AFP_MMSG_IOV 8u

/*
 * Make a packet ready to go as it is: its VLAN tag into the frame, the
 * checksums it asks for done in place (flags cleared, so a packet given back
 * and offered again is not summed twice). @return 0, or -1 to drop it.
 */
static int tx_inplace(struct afp *a, struct mpnet_pkt *p)
{
        if ((p->ol_flags & MPNET_PKT_F_TSO) || p->nb_segs > AFP_MMSG_IOV ||
            p->pkt_len + ((p->ol_flags & MPNET_PKT_F_VLAN) ? 4u : 0u) > a->max_frame)
                return -1;
        if (p->ol_flags & MPNET_PKT_F_VLAN) {
                uint8_t *h = mpnet_pkt_prepend(p, 4);

                if (h == NULL || p->len < 16)
                        return -1;
                memmove(h, h + 4, 12);
                mpnet_put_be16(h + 12, 0x8100);
                mpnet_put_be16(h + 14, p->vlan_tci);
                p->ol_flags &= ~MPNET_PKT_F_VLAN;
        }
        if (p->ol_flags & (MPNET_PKT_F_L3_CSUM_TX | MPNET_PKT_F_L4_CSUM_TX)) {
                if (p->next != NULL || link_frame_csum(p->data, p->len, p->ol_flags) != 0)
                        return -1;
                p->ol_flags &= ~(MPNET_PKT_F_L3_CSUM_TX | MPNET_PKT_F_L4_CSUM_TX);
        }
        return 0;
}

/* Send runs of good packets with one sendmmsg() each; a packet that cannot
 * go is dropped where it stands, so what the caller keeps is a suffix. */
static uint16_t tx_mmsg(struct afp *a, struct afp_q *aq, struct mpnet_pkt **pkts, uint16_t n)
{
        struct mmsghdr mh[AFP_MMSG_MAX];
        static const struct virtio_net_hdr vh0; /* asks for nothing: all done here */
        struct iovec iov[AFP_MMSG_MAX][1 + AFP_MMSG_IOV];
        uint16_t i = 0;

        while (i < n) {
                unsigned m = 0;
                uint64_t bytes = 0;
                int r;

                if (tx_inplace(a, pkts[i]) != 0) {
                        mpnet_stat_add(&aq->tx_bad_ol, 1);
                        mpnet_pkt_free(pkts[i++]);
                        continue;
                }
                while (m < AFP_MMSG_MAX && i + m < n &&
                       (m == 0 || tx_inplace(a, pkts[i + m]) == 0)) {
                        unsigned k = 0;

                        if (a->vh_len != 0)
                                iov[m][k++] = (struct iovec){(void *)&vh0, AFP_VH};
                        for (struct mpnet_pkt *s = pkts[i + m]; s != NULL; s = s->next)
                                iov[m][k++] = (struct iovec){s->data, s->len};
                        memset(&mh[m], 0, sizeof(mh[m]));
                        mh[m].msg_hdr.msg_iov = iov[m];
                        mh[m].msg_hdr.msg_iovlen = k;
                        m++;
                }
                do
                        r = sendmmsg(aq->fd, mh, m, MSG_DONTWAIT);
                while (r < 0 && errno == EINTR);
                if (r < 0) {
                        if (errno == EAGAIN || errno == ENOBUFS)
                                break;
                        queue_fail(a, aq, errno, errno == ENXIO || errno == ENODEV);
                        mpnet_stat_add(&aq->tx_down, m);
                        mpnet_pkt_free_bulk(&pkts[i], m);
                        i = (uint16_t)(i + m);
                        continue;
                }
                for (int k = 0; k < r; k++)
                        bytes += pkts[i + k]->pkt_len;
                mpnet_stat_add(&aq->tx_pkts, (uint64_t)r);
                mpnet_stat_add(&aq->tx_bytes, bytes);
                mpnet_pkt_free_bulk(&pkts[i], (unsigned)r);
                i = (uint16_t)(i + r);
                if (r > 0 && atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_FAILING)
                        queue_ok(a, aq);
                if ((unsigned)r < m)
                        break;
        }
        return i;
}

static uint16_t afp_tx_burst(struct mpnet_link *l, uint16_t q, struct mpnet_pkt **pkts, uint16_t n)
{
        struct afp *a = (struct afp *)l;
        struct afp_q *aq;
        uint32_t first, queued = 0;
        uint64_t bytes = 0;
        uint16_t i;

        if (q >= a->nq)
                return 0;
        aq = &a->q[q];
        if (aq->fd < 0 || atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_GONE) {
                mpnet_stat_add(&aq->tx_down, n);
                mpnet_pkt_free_bulk(pkts, n);
                return n;
        }
        if (aq->tx == NULL)
                return tx_mmsg(a, aq, pkts, n);
        first = aq->tx_cur;
        for (i = 0; i < n; i++) {
                struct mpnet_pkt *p = pkts[i];
                uint8_t *h = tx_slot(a, aq, aq->tx_cur);
                uint32_t len = p->pkt_len + ((p->ol_flags & MPNET_PKT_F_VLAN) ? 4u : 0u);
                uint8_t *d = h + a->tx_data + a->vh_len;
                uint32_t st = __atomic_load_n(tx_status(a, h), __ATOMIC_ACQUIRE);

                if (st != TP_STATUS_AVAILABLE) {
                        mpnet_stat_add(&aq->tx_ring_full, 1);
                        /* Full of slots the kernel handed back unsent (a
                         * kick that met ENOBUFS while the device had no
                         * carrier): only another kick sends them, and with
                         * the ring full nothing else would make one. */
                        if (queued == 0 && st == TP_STATUS_SEND_REQUEST)
                                tx_kick(a, aq, first, 0, 0);
                        break;
                }
                if (len > a->max_frame) {
                        mpnet_stat_add(&aq->tx_oversize, 1);
                } else if ((p->ol_flags & MPNET_PKT_F_TSO) ||
                           link_frame_csum(d, link_frame_copy(d, p), p->ol_flags) != 0) {
                        mpnet_stat_add(&aq->tx_bad_ol, 1);
                } else {
                        /* A vnet header that asks for nothing: the
                         * checksums are done, TSO was refused above. */
                        if (a->vh_len != 0)
                                memset(h + a->tx_data, 0, AFP_VH);
                        tx_post(a, h, len + a->vh_len);
                        aq->tx_cur = (aq->tx_cur + 1) & (a->n_slots - 1);
                        queued++;
                        bytes += len;
                }
                mpnet_pkt_free(p);
        }
        if (queued > 0)
                tx_kick(a, aq, first, queued, bytes);
        return i;
}

/* ---- stats, life cycle ------------------------------------------------------ */

/* Fold the kernel's ring drops (reading them resets them) into our count. */
static uint64_t kernel_drops(struct afp_q *aq)
{
        /* V2 fills the struct tpacket_stats prefix, which has tp_drops too. */
        struct tpacket_stats_v3 ks = {0};
        socklen_t n = sizeof(ks);

        if (aq->fd >= 0 && getsockopt(aq->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &n) == 0)
                atomic_fetch_add_explicit(&aq->rx_kdrops, ks.tp_drops, memory_order_relaxed);
        return atomic_load_explicit(&aq->rx_kdrops, memory_order_relaxed);
}

static void afp_get_stats(struct mpnet_link *l, struct mpnet_link_stats *st)
{
        struct afp *a = (struct afp *)l;

        for (uint16_t q = 0; q < a->nq; q++) {
                struct afp_q *aq = &a->q[q];

                st->rx_pkts += mpnet_stat_read(&aq->rx_pkts);
                st->rx_bytes += mpnet_stat_read(&aq->rx_bytes);
                st->rx_drops += kernel_drops(aq) + mpnet_stat_read(&aq->rx_truncated) +
                                mpnet_stat_read(&aq->rx_nobufs) + mpnet_stat_read(&aq->rx_bad_vnet);
                st->tx_pkts += mpnet_stat_read(&aq->tx_pkts);
                st->tx_bytes += mpnet_stat_read(&aq->tx_bytes);
                st->tx_drops += mpnet_stat_read(&aq->tx_oversize) +
                                mpnet_stat_read(&aq->tx_bad_ol) + mpnet_stat_read(&aq->tx_down);
        }
}

int mpnet_afpacket_get_stats(struct mpnet_link *l, struct mpnet_afpacket_stats *st)
{
        struct afp *a = (struct afp *)l;

        if (l == NULL || l->ops != &afp_ops)
                return -EINVAL;
        memset(st, 0, sizeof(*st));
        st->up = true;
        for (uint16_t q = 0; q < a->nq; q++) {
                struct afp_q *aq = &a->q[q];
                int s = atomic_load_explicit(&aq->state, memory_order_relaxed);

                st->rx_kernel_drops += kernel_drops(aq);
                st->rx_truncated += mpnet_stat_read(&aq->rx_truncated);
                st->rx_nobufs += mpnet_stat_read(&aq->rx_nobufs);
                st->rx_vlan += mpnet_stat_read(&aq->rx_vlan);
                st->rx_gso += mpnet_stat_read(&aq->rx_gso);
                st->rx_copied += mpnet_stat_read(&aq->rx_copied);
                st->rx_bad_vnet += mpnet_stat_read(&aq->rx_bad_vnet);
                st->tx_ring_full += mpnet_stat_read(&aq->tx_ring_full);
                st->tx_oversize += mpnet_stat_read(&aq->tx_oversize);
                st->tx_bad_ol += mpnet_stat_read(&aq->tx_bad_ol);
                st->tx_down += mpnet_stat_read(&aq->tx_down);
                if (s != AQ_OK) {
                        st->up = false;
                        st->last_errno = atomic_load_explicit(&aq->err, memory_order_relaxed);
                }
                st->gone |= s == AQ_GONE;
        }
        st->down_events = mpnet_stat_read(&a->down_events);
        st->ifindex = (uint32_t)a->ifindex;
        st->vnet_hdr = a->vh_len != 0;
        return 0;
}

int mpnet_afpacket_fd(struct mpnet_link *l, uint16_t q)
{
        struct afp *a = (struct afp *)l;

        if (l == NULL || l->ops != &afp_ops || q >= a->nq)
                return -EINVAL;
        return a->q[q].fd;
}

static void afp_free(struct afp *a)
{
        queues_close(a);
        for (uint16_t q = 0; q < a->nq; q++) {
                mpnet_pkt_free_bulk(a->q[q].stash, a->q[q].n_stash);
                mpnet_pkt_free_bulk(&a->q[q].pend[a->q[q].pend_i],
                                    (unsigned)(a->q[q].n_pend - a->q[q].pend_i));
                free(a->q[q].big);
        }
        free(a->netns);
        free(a);
}

static void afp_destroy(struct mpnet_link *l)
{
        afp_free((struct afp *)l);
}

/* Up while every queue is. */
static bool afp_carrier(struct mpnet_link *l)
{
        struct afp *a = (struct afp *)l;

        for (uint16_t q = 0; q < a->nq; q++)
                if (atomic_load_explicit(&a->q[q].state, memory_order_relaxed) != AQ_OK)
                        return false;
        return true;
}

/* The socket polls readable once the kernel hands a frame (V2) or a block
 * (V3) to user space. */
static int afp_rx_wait_arm(struct mpnet_link *l, uint16_t q)
{
        struct afp *a = (struct afp *)l;
        struct afp_q *aq;
        const struct tpacket_block_desc *bd;

        if (q >= a->nq || a->q[q].rx == NULL)
                return -EINVAL;
        aq = &a->q[q];
        if (atomic_load_explicit(&aq->state, memory_order_relaxed) == AQ_GONE || aq->fd < 0)
                return -ENOTSUP; /* the timed nap keeps looking for it */
        if (aq->pend_i < aq->n_pend)
                return -EAGAIN; /* segments of a super-frame wait */
        if (!a->v3)
                return (__atomic_load_n(&rx2_slot(a, aq, aq->rx_cur)->tp_status, __ATOMIC_ACQUIRE) &
                        TP_STATUS_USER)
                           ? -EAGAIN
                           : aq->fd;
        bd = (const struct tpacket_block_desc *)(aq->rx + (size_t)aq->rx_cur * a->block_size);
        if (aq->rx_in_block ||
            (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
                return -EAGAIN;
        return aq->fd;
}

/* The stack's revive: once the device has gone (not merely down), reopen
 * it, the reason kept off stderr (the stack retries). */
static int afp_revive(struct mpnet_link *l)
{
        struct afp *a = (struct afp *)l;
        bool gone = false;
        char err[256];

        for (uint16_t q = 0; q < a->nq; q++)
                gone |= atomic_load_explicit(&a->q[q].state, memory_order_relaxed) == AQ_GONE;
        return gone ? mpnet_afpacket_reopen(l, err, sizeof(err)) : -EAGAIN;
}

static const struct mpnet_link_ops afp_ops = {
    .rx_burst = afp_rx_burst,
    .tx_burst = afp_tx_burst,
    .get_stats = afp_get_stats,
    .destroy = afp_destroy,
    .rx_wait_arm = afp_rx_wait_arm,
    .carrier = afp_carrier,
    .revive = afp_revive,
};

int mpnet_afpacket_reopen(struct mpnet_link *l, char *errbuf, size_t errbuf_len)
{
        struct afp *a = (struct afp *)l;
        uint32_t mtu;
        int rc;

        if (l == NULL || l->ops != &afp_ops)
                return -EINVAL;
        queues_close(a);
        mtu = a->link.info.mtu;
        a->mtu_floor = mtu;
        a->cfg.errbuf = errbuf;
        a->cfg.errbuf_len = errbuf_len;
        rc = in_netns(a->netns, &a->cfg, afp_open_all, a);
        a->cfg.errbuf = NULL;
        /* The stack copied the MTU when it attached the link. */
        a->link.info.mtu = mtu;
        a->max_frame = mtu + ETH_VLAN_EXTRA;
        if (rc != 0)
                return rc;
        for (uint16_t q = 0; q < a->nq; q++) {
                atomic_store(&a->q[q].err, 0);
                atomic_store(&a->q[q].state, AQ_OK);
                a->q[q].next_check = 0;
        }
        atomic_store(&a->down, 0);
        return 0;
}

static bool pow2(uint32_t v)
{
        return v != 0 && (v & (v - 1)) == 0;
}

static int cfg_check(const struct mpnet_afpacket_cfg *c)
{
        long page = sysconf(_SC_PAGESIZE);

        if (c->ifname == NULL || *c->ifname == '\0' || strlen(c->ifname) >= IFNAMSIZ ||
            c->pool == NULL || c->n_queues > MPNET_AFP_MAX_QUEUES || (c->mac[0] & 1))
                return -EINVAL;
        if (c->block_size != 0 && (!pow2(c->block_size) || c->block_size < (uint32_t)page))
                return -EINVAL;
        if (c->tx_slots != 0 && (!pow2(c->tx_slots) || c->tx_slots < 16))
                return -EINVAL;
        return 0;
}

static int mac_is_zero(const uint8_t *m)
{
        return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

struct mpnet_link *mpnet_afpacket_create(const struct mpnet_afpacket_cfg *cfg)
{
        struct afp *a;
        uint16_t nq;
        int rc;

        if (cfg == NULL || cfg_check(cfg) != 0) {
                if (cfg != NULL)
                        afp_msg(cfg, "afpacket: invalid configuration");
                errno = EINVAL;
                return NULL;
        }
        nq = cfg->n_queues ? cfg->n_queues : 1;
        if (posix_memalign((void **)&a, MPNET_CACHE_LINE, sizeof(*a) + nq * sizeof(struct afp_q)) !=
            0) {
                errno = ENOMEM;
                return NULL;
        }
        memset(a, 0, sizeof(*a) + nq * sizeof(struct afp_q));
        a->nq = nq;
        a->cfg = *cfg;
        a->cfg.ifname = a->cfg.netns = NULL;
        for (uint16_t q = 0; q < nq; q++)
                a->q[q].fd = -1;
        snprintf(a->ifname, sizeof(a->ifname), "%s", cfg->ifname);
        if (cfg->netns != NULL && (a->netns = strdup(cfg->netns)) == NULL) {
                free(a);
                errno = ENOMEM;
                return NULL;
        }
        a->block_size = cfg->block_size ? cfg->block_size : AFP_DEF_BLOCK;
        a->n_blocks = cfg->n_blocks ? cfg->n_blocks : AFP_DEF_NBLOCKS;
        a->tov_ms = cfg->block_tov_ms ? cfg->block_tov_ms : AFP_DEF_TOV_MS;
        a->v3 = (cfg->flags & MPNET_AFP_F_TPACKET_V3) != 0;
        a->vh_len = (cfg->flags & MPNET_AFP_F_NO_VNET_HDR) ? 0 : AFP_VH;
        /* A V3 block holds a whole GSO super-frame; the ring keeps its
         * bytes where it can. */
        if (a->v3 && a->vh_len != 0 && a->block_size < AFP_GSO_BLOCK) {
                uint64_t bytes = (uint64_t)a->block_size * a->n_blocks;

                a->block_size = AFP_GSO_BLOCK;
                a->n_blocks = bytes / AFP_GSO_BLOCK > 8 ? (uint32_t)(bytes / AFP_GSO_BLOCK) : 8;
        }
        a->tx_data = a->v3 ? TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
                           : TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
        a->n_slots = cfg->tx_slots ? cfg->tx_slots : AFP_DEF_TX_SLOTS;
        if (!mac_is_zero(cfg->mac)) {
                memcpy(a->link.info.mac, cfg->mac, 6);
                a->mac_set = true;
        }
        a->link.ops = &afp_ops;
        a->link.info.n_rxq = a->link.info.n_txq = nq;
        /* With the vnet header every frame says whether its checksum is
         * verified or partial (the stack trusts the flags). */
        a->link.info.offloads = MPNET_LINK_OFF_VLAN | (a->vh_len != 0 ? MPNET_LINK_OFF_RX_CSUM : 0);
        snprintf(a->link.info.kind, sizeof(a->link.info.kind), "afpacket");
        snprintf(a->link.name, sizeof(a->link.name), "%s", a->ifname);

        rc = in_netns(a->netns, &a->cfg, afp_open_all, a);
        a->cfg.errbuf = NULL; /* the caller's buffer need not outlive the call */
        if (rc != 0) {
                afp_free(a);
                errno = -rc;
                return NULL;
        }
        a->mac_set = true; /* a reopen keeps the address the stack has */
        return &a->link;
}
