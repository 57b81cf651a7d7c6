/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ping API (mpnet/stack.h: mpnet_ping4_send, mpnet_ping4_recv and
 * their kin; mpnet/ip6.h: mpnet_ping6_*) on the stack's internal echo
 * sockets, one per family (l4/ping_sock.c says how they receive). A send
 * builds the echo request (RFC 792, RFC 4443 4.1) with the caller's
 * identifier and sequence, the send time as the first 8 bytes of data
 * and the pattern ping(8) uses after it, and hands it to the family's
 * socket; a receive takes the socket's queued replies and errors, all or
 * one identifier's, and reads each into the API's record.
 *
 * Synchronisation: the control thread's, as the sockets it uses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "mpnet/ip6.h"
#include "mpnet/stack.h"
#include "mpnet/wire/icmp4.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "l3/ip6.h"
#include "l4/raw.h"
#include "l4/socket.h"

#define ECHO_HLEN     8 /* type, code, checksum, identifier, sequence */
#define PING_MIN_DATA 8 /* the send timestamp */
#define PING4_MAX     (65535 - MPNET_IP4_HLEN - ECHO_HLEN)
#define PING6_MAX     (65535 - ECHO_HLEN)
#define PING4_TTL     64
#define TAKE_BATCH    64

/* ---- send ---- */

/* The request in as many buffers as it takes; NULL: no buffer (counted). */
static struct mpnet_pkt *echo_build(struct mpnet_stack *s, uint8_t type, uint16_t id, uint16_t seq,
                                    uint32_t payload_len)
{
        struct mpnet_pkt *head = NULL, **tail = &head;
        uint32_t total = ECHO_HLEN + payload_len, left, off = 0;
        uint16_t nseg = 0;

        for (left = total; left > 0;) {
                uint32_t n = left < MPNET_PKT_DATA_SIZE ? left : MPNET_PKT_DATA_SIZE;
                struct mpnet_pkt *p = mpnet_pkt_alloc(s->pool);
                uint8_t *b;

                if (p == NULL) {
                        mpnet_pkt_free(head);
                        STK_INC(s, nobufs);
                        return NULL;
                }
                b = mpnet_pkt_append(p, n);
                for (uint32_t i = 0; i < n; i++)
                        b[i] = (uint8_t)(off + i - ECHO_HLEN);
                if (off == 0) {
                        b[0] = type;
                        b[1] = b[2] = b[3] = 0;
                        mpnet_put_be16(b + 4, id);
                        mpnet_put_be16(b + 6, seq);
                        memcpy(b + ECHO_HLEN, &s->now, sizeof(s->now));
                }
                *tail = p;
                tail = &p->next;
                nseg++;
                off += n;
                left -= n;
        }
        head->pkt_len = total;
        head->nb_segs = nseg;
        return head;
}

int mpnet_ping4_send_req(struct mpnet_stack *s, const struct mpnet_ping4_req *req, uint64_t now)
{
        uint8_t dst[16] = {[10] = 0xff, [11] = 0xff};
        struct mpnet_pkt *p;

        if (req->payload_len < PING_MIN_DATA || req->payload_len > PING4_MAX)
                return -EINVAL;
        if (now > s->now)
                s->now = now;
        p = echo_build(s, MPNET_ICMP4_ECHO_REQUEST, req->id, req->seq, req->payload_len);
        if (p == NULL)
                return -ENOBUFS;
        mpnet_put_be32(dst + 12, req->dst);
        return ping_api_output(s, 0, p, dst, req->ttl ? req->ttl : PING4_TTL, req->df, 0);
}

int mpnet_ping4_send(struct mpnet_stack *s, uint32_t dst, uint16_t id, uint16_t seq,
                     uint16_t payload_len, uint64_t now)
{
        struct mpnet_ping4_req req = {.dst = dst, .id = id, .seq = seq, .payload_len = payload_len};

        if (payload_len > 1472)
                return -EINVAL;
        return mpnet_ping4_send_req(s, &req, now);
}

int mpnet_ping6_send(struct mpnet_stack *s, const struct mpnet_ping6_req *req, uint64_t now)
{
        struct mpnet_pkt *p;

        if (req->payload_len < PING_MIN_DATA || req->payload_len > PING6_MAX ||
            mpnet_ip6_is_unspecified(req->dst))
                return -EINVAL;
        if (now > s->now)
                s->now = now;
        p = echo_build(s, MPNET_ICMP6_ECHO_REQUEST, req->id, req->seq, req->payload_len);
        if (p == NULL)
                return -ENOBUFS;
        return ping_api_output(s, 1, p, req->dst,
                               req->hop_limit ? req->hop_limit : IP6_HLIM_DEFAULT, false,
                               req->ifindex);
}

/* ---- receive ---- */

/* What a queued entry says, for either family. */
struct ping_ent {
        uint8_t from[16];
        uint16_t id, seq;
        uint32_t payload_len;
        uint8_t ttl, type, code;
        uint32_t info;
        uint64_t rtt_ns;
};

/* A reply (data at its ICMP header, its IP header at l3_off, ts its
 * arrival) or an error record (the quoted request as data: type 8 or
 * 128). */
static void ent_read(const struct mpnet_pkt *p, unsigned f, struct ping_ent *e)
{
        const uint8_t *ip = mpnet_pkt_buf((struct mpnet_pkt *)p) + p->l3_off;
        uint64_t sent = 0;

        memset(e, 0, sizeof(*e));
        e->id = mpnet_get_be16(p->data + 4);
        e->seq = mpnet_get_be16(p->data + 6);
        if (p->data[0] == (f ? MPNET_ICMP6_ECHO_REQUEST : MPNET_ICMP4_ECHO_REQUEST)) {
                const struct sock_errq_rec *r = sock_errq_rec((struct mpnet_pkt *)p);

                memcpy(e->from, r->offender, 16);
                e->ttl = r->ttl;
                e->type = r->type;
                e->code = r->code;
                e->info = r->info;
                return;
        }
        e->type = p->data[0];
        e->payload_len = p->pkt_len - ECHO_HLEN;
        if (f) {
                memcpy(e->from, ip + 8, 16);
                e->ttl = ip[7];
        } else {
                memcpy(e->from + 12, ip + 12, 4);
                e->ttl = ip[8];
        }
        if (e->payload_len >= PING_MIN_DATA)
                mpnet_pkt_read(p, ECHO_HLEN, &sent, sizeof(sent));
        e->rtt_ns = sent != 0 && sent <= p->ts ? p->ts - sent : 0;
}

static bool match_any(const struct mpnet_pkt *p, void *arg)
{
        (void)p;
        (void)arg;
        return true;
}

static bool match_id(const struct mpnet_pkt *p, void *arg)
{
        return mpnet_get_be16(p->data + 4) == *(const uint16_t *)arg;
}

/* Up to n entries of family f (of identifier *id; all when NULL), read
 * into e[] by the caller's put. */
static unsigned api_take(struct mpnet_stack *s, unsigned f, uint16_t *id, void *out, unsigned n,
                         void (*put)(void *out, unsigned i, const struct ping_ent *e))
{
        struct mpnet_sock *so = raw_st(s)->api[f];
        unsigned k = 0;

        while (so != NULL && so->rq_head != NULL && k < n) {
                struct mpnet_pkt *pk[TAKE_BATCH];
                unsigned want = n - k < TAKE_BATCH ? n - k : TAKE_BATCH;
                unsigned got = sock_rq_take(so, id != NULL ? match_id : match_any, id, pk, want);

                for (unsigned i = 0; i < got; i++) {
                        struct ping_ent e;

                        ent_read(pk[i], f, &e);
                        put(out, k++, &e);
                        mpnet_pkt_free(pk[i]);
                }
                if (got < want)
                        break;
        }
        return k;
}

static void put4(void *out, unsigned i, const struct ping_ent *e)
{
        struct mpnet_ping_reply *r = (struct mpnet_ping_reply *)out + i;

        *r = (struct mpnet_ping_reply){
            .from = mpnet_get_be32(e->from + 12),
            .id = e->id,
            .seq = e->seq,
            .payload_len = e->payload_len,
            .ttl = e->ttl,
            .type = e->type,
            .code = e->code,
            .info = e->info,
            .rtt_ns = e->rtt_ns,
        };
}

static void put6(void *out, unsigned i, const struct ping_ent *e)
{
        struct mpnet_ping6_reply *r = (struct mpnet_ping6_reply *)out + i;

        *r = (struct mpnet_ping6_reply){
            .id = e->id,
            .seq = e->seq,
            .payload_len = e->payload_len,
            .hop_limit = e->ttl,
            .type = e->type,
            .code = e->code,
            .info = e->info,
            .rtt_ns = e->rtt_ns,
        };
        memcpy(r->from, e->from, 16);
}

unsigned mpnet_ping4_recv(struct mpnet_stack *s, struct mpnet_ping_reply *out, unsigned n)
{
        return api_take(s, 0, NULL, out, n, put4);
}

/* Several pingers share the socket: each takes its own identifier's
 * entries and leaves the others', in their order, for their owners. */
unsigned mpnet_ping4_recv_id(struct mpnet_stack *s, uint16_t id, struct mpnet_ping_reply *out,
                             unsigned n)
{
        return api_take(s, 0, &id, out, n, put4);
}

unsigned mpnet_ping6_recv(struct mpnet_stack *s, struct mpnet_ping6_reply *out, unsigned n)
{
        return api_take(s, 1, NULL, out, n, put6);
}

unsigned mpnet_ping6_recv_id(struct mpnet_stack *s, uint16_t id, struct mpnet_ping6_reply *out,
                             unsigned n)
{
        return api_take(s, 1, &id, out, n, put6);
}
