/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IGMP, the host part of version 3 (RFC 3376) with the compatibility modes
 * of versions 1 and 2 (RFC 3376 7, RFC 2236, RFC 1112), and the IPv4
 * groups an interface has joined: any-source joins (exclude mode with no
 * source, what IP_ADD_MEMBERSHIP asks for; source filters are not kept),
 * counted, so that two sockets on one group are one membership.
 *
 * A join or the last leave sends a state-change report (5.1: TO_EX({}) or
 * TO_IN({})) and [Robustness Variable] - 1 more at random intervals up to
 * the Unsolicited Report Interval (8.11: 1 s). A query is answered after a
 * random delay up to its Max Resp Time (5.2) with the current state
 * (IS_EX({})): one pending answer to general queries per interface and one
 * to group queries per group, the state the RFC keeps, so a query flood
 * holds no more. 224.0.0.1 is joined on every interface and never reported
 * (5). What is sent carries TTL 1, precedence Internetwork Control and a
 * Router Alert option (4, RFC 2113); v3 reports go to 224.0.0.22.
 *
 * Older queriers (7.2): a v1 or v2 query sets its Older Version Querier
 * Present timer (8.12: Robustness Variable times Query Interval plus its
 * Max Resp Time), and while one runs the host speaks that version: v1 or
 * v2 reports to the group itself, per-group answer delays, report
 * suppression on hearing another host's report (RFC 2236 3), v2 leaves to
 * 224.0.0.2, none in v1; a change of mode cancels what was pending
 * (7.2.1).
 *
 * Synchronisation: the control thread (joins, leaves, input, the
 * interface's igmp_timer). A worker that receives an IGMP message punts it
 * here. Every context reads the groups through the interface's published
 * copy (in4->mc4, RCU): ether-input's MAC filter and ip4-lookup.
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/igmp.h"
#include "mpnet/wire/ipv4.h"
#include "l2/ether.h"
#include "l3/ip4.h"
#include "l3/ip_iface.h"
#include "stack/graph.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define IGMP_RV_DEFAULT   2              /* 8.1 */
#define IGMP_QI_DEFAULT_S 125            /* 8.2 */
#define IGMP_UNSOL_NS     MPNET_NS_PER_S /* 8.11 */
#define IGMP_DS_NS        (MPNET_NS_PER_S / 10)
/* The publication a want of memory left undone, tried again this late. */
#define IGMP_RETRY_NS (10 * MPNET_NS_PER_MS)

enum igmp_ctr {
        IGMP_CTR_RX,
        IGMP_CTR_BAD,
        IGMP_CTR_QUERY,
        IGMP_CTR_TX,
        IGMP_CTR_OLDER,
        IGMP_CTR_SUPPRESSED,
};

static const struct counter_reg igmp_counters[] = {
    [IGMP_CTR_RX] = {"igmp_rx", "IGMP messages received"},
    [IGMP_CTR_BAD] = {"igmp_bad",
                      "drop: IGMP message failing its checks (length, checksum, TTL not 1)"},
    [IGMP_CTR_QUERY] = {"igmp_query_rx", "IGMP membership queries received (any version)"},
    [IGMP_CTR_TX] = {"igmp_report_tx", "IGMP reports and leaves sent"},
    [IGMP_CTR_OLDER] = {"igmp_older_querier",
                        "IGMPv1 or v2 queries heard (compatibility mode, RFC 3376 7.2.1)"},
    [IGMP_CTR_SUPPRESSED] = {"igmp_suppressed",
                             "v1/v2 answers suppressed by another host's report (RFC 2236 3)"},
};

static void ictr(struct mpnet_stack *s, enum igmp_ctr c)
{
        mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_igmp, c));
}

static struct igmp_ifstate *igs(const struct mpnet_iface *ifp)
{
        return &ifp->in4->igmp;
}

/* ---- the published groups (any context) ---- */

static const struct mc4_snap *mc4_read(const struct mpnet_iface *ifp)
{
        static const struct mc4_snap none = {.n = 0};
        const struct mc4_snap *sn =
            atomic_load_explicit(&((struct mpnet_iface *)ifp)->in4->mc4, memory_order_acquire);

        return sn != NULL ? sn : &none;
}

bool iface_mc4_has(const struct mpnet_iface *ifp, uint32_t g)
{
        const struct mc4_snap *sn = mc4_read(ifp);

        for (unsigned i = 0; i < sn->n; i++) {
                if (sn->g[i] == g)
                        return true;
        }
        return false;
}

bool iface_mc4_mac_ok(const struct mpnet_iface *ifp, const uint8_t *mac)
{
        const struct mc4_snap *sn;
        uint32_t low;

        /* RFC 1112 6.4: 01:00:5e, then the group's low 23 bits. */
        if (mac[0] != 0x01 || mac[1] != 0x00 || mac[2] != 0x5e || (mac[3] & 0x80) != 0)
                return false;
        low = (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
        sn = mc4_read(ifp);
        for (unsigned i = 0; i < sn->n; i++) {
                if ((sn->g[i] & 0x7fffff) == low)
                        return true;
        }
        return false;
}

/* Publish the joined groups (not those being left) in sn, made before the
 * change; the old copy goes after a grace period. */
static void mc4_commit(struct mpnet_iface *ifp, struct mc4_snap *sn)
{
        struct igmp_ifstate *st = igs(ifp);
        struct mc4_snap *old;

        sn->n = 0;
        for (unsigned i = 0; i < st->n_mc4; i++) {
                if (st->mc4[i].refs > 0)
                        sn->g[sn->n++] = st->mc4[i].addr;
        }
        old = atomic_exchange_explicit(&ifp->in4->mc4, sn, memory_order_acq_rel);
        if (old != NULL)
                stack_defer(ifp->stack, free, old);
        st->publish_retry = false;
}

static int mc4_publish(struct mpnet_iface *ifp)
{
        struct mc4_snap *sn = malloc(sizeof(*sn));

        if (sn == NULL) {
                igs(ifp)->publish_retry = true;
                return -ENOMEM;
        }
        mc4_commit(ifp, sn);
        return 0;
}

/* Whether the published copy holds what the groups say. */
static bool mc4_published(const struct mpnet_iface *ifp)
{
        const struct igmp_ifstate *st = igs(ifp);
        const struct mc4_snap *sn = mc4_read(ifp);
        unsigned n = 0;

        for (unsigned i = 0; i < st->n_mc4; i++) {
                if (st->mc4[i].refs == 0)
                        continue;
                if (n >= sn->n || sn->g[n] != st->mc4[i].addr)
                        return false;
                n++;
        }
        return n == sn->n;
}

/* ---- the control thread's groups ---- */

static struct mc4_group *mc4_find(const struct mpnet_iface *ifp, uint32_t g)
{
        struct igmp_ifstate *st = igs(ifp);

        for (unsigned i = 0; i < st->n_mc4; i++) {
                if (st->mc4[i].addr == g)
                        return &st->mc4[i];
        }
        return NULL;
}

bool mc4_joined(const struct mpnet_iface *ifp, uint32_t group)
{
        const struct mc4_group *g = mc4_find(ifp, group);

        return g != NULL && g->refs > 0;
}

static void mc4_remove(struct mpnet_iface *ifp, struct mc4_group *g)
{
        struct igmp_ifstate *st = igs(ifp);

        *g = st->mc4[--st->n_mc4];
}

/* The earliest of what the interface waits for; the timer armed there. */
static void igmp_arm(struct mpnet_iface *ifp)
{
        struct mpnet_stack *s = ifp->stack;
        struct igmp_ifstate *st = igs(ifp);
        uint64_t next = st->report_next < st->general_at ? st->report_next : st->general_at;

        for (unsigned i = 0; i < st->n_mc4; i++) {
                if (st->mc4[i].query_at < next)
                        next = st->mc4[i].query_at;
        }
        /* The end of an older querier's presence changes the mode back. */
        if (st->mode != 3) {
                uint64_t until = st->mode == 1 ? st->v1_until : st->v2_until;

                if (until < next)
                        next = until;
        }
        if (st->publish_retry && s->now + IGMP_RETRY_NS < next)
                next = s->now + IGMP_RETRY_NS;
        if (next == MPNET_TIME_NEVER)
                mpnet_timer_cancel(s->timers, &ifp->in4->igmp_timer);
        else
                mpnet_timer_arm(s->timers, &ifp->in4->igmp_timer, next);
}

/* 7.2.1: the mode follows the older queriers' timers; a change cancels
 * every pending answer and retransmission. */
static void igmp_mode_update(struct mpnet_iface *ifp, uint64_t now)
{
        struct igmp_ifstate *st = igs(ifp);
        uint8_t mode = st->v1_until > now ? 1 : st->v2_until > now ? 2 : 3;

        if (mode == st->mode)
                return;
        st->mode = mode;
        st->report_next = st->general_at = MPNET_TIME_NEVER;
        for (unsigned i = 0; i < st->n_mc4;) {
                struct mc4_group *g = &st->mc4[i];

                g->query_at = MPNET_TIME_NEVER;
                g->report_left = 0;
                if (g->refs == 0)
                        mc4_remove(ifp, g);
                else
                        i++;
        }
}

/* ---- output ---- */

/* Send an IGMP message of len bytes (msg) to dst: IPv4 with a Router
 * Alert option (RFC 2113), TTL 1, precedence Internetwork Control
 * (RFC 3376 4), from the interface's first address or 0.0.0.0 (4.2.13). */
static void igmp_send(struct mpnet_iface *ifp, uint32_t dst, const uint8_t *msg, size_t len)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_pkt *p = mpnet_pkt_alloc(s->pool);
        uint8_t mac[6], *h;

        if (p == NULL) {
                STK_INC(s, nobufs);
                return;
        }
        h = mpnet_pkt_append(p, (uint32_t)(24 + len));
        h[0] = 0x46; /* version 4, 6 words */
        h[1] = 0xc0;
        mpnet_put_be16(h + 2, (uint16_t)(24 + len));
        mpnet_put_be16(h + 4, s->ctx[0]->ip_id++);
        mpnet_put_be16(h + 6, 0x4000); /* DF, as Linux sends them */
        h[8] = 1;
        h[9] = MPNET_IPPROTO_IGMP;
        mpnet_put_be16(h + 10, 0);
        mpnet_put_be32(h + 12, iface_addr4_first(ifp));
        mpnet_put_be32(h + 16, dst);
        h[20] = 0x94; /* Router Alert: copied, class 0, number 20 */
        h[21] = 4;
        h[22] = h[23] = 0; /* "every router examines the packet" */
        mpnet_put_be16(h + 10, mpnet_csum(h, 24));
        memcpy(h + 24, msg, len);
        p->l3_off = (uint16_t)mpnet_pkt_headroom(p);
        mpnet_ip4_mc_mac(dst, mac);
        ictr(s, IGMP_CTR_TX);
        STK_INC(s, ip4_tx);
        ether_output(ifp, p, mac, MPNET_ETHERTYPE_IPV4);
}

/* A v1 or v2 report of g, or a v2 leave (RFC 2236 2, 3). */
static void igmp_send_old(struct mpnet_iface *ifp, uint8_t type, uint32_t g)
{
        uint8_t m[MPNET_IGMP_HLEN];

        mpnet_igmp_emit(type, 0, g, m);
        igmp_send(ifp, type == MPNET_IGMP_V2_LEAVE ? MPNET_IGMP_ALL_ROUTERS : g, m, sizeof(m));
}

static void igmp_send_v3(struct mpnet_iface *ifp, const struct mpnet_igmp_record *rec, size_t n)
{
        uint8_t m[MPNET_IGMP_HLEN + IFACE_MAX_MC * MPNET_IGMP3_RECORD_LEN];

        if (n == 0)
                return;
        mpnet_igmp3_report_emit(rec, n, m);
        igmp_send(ifp, MPNET_IGMP_V3_ROUTERS, m, mpnet_igmp3_report_len(rec, n));
}

/* 5.1: the state-change reports still due, one message in v3; in v1 and
 * v2 a report per joined group and (v2) a leave per group left. */
static void igmp_state_change(struct mpnet_iface *ifp)
{
        struct igmp_ifstate *st = igs(ifp);
        struct mpnet_igmp_record rec[IFACE_MAX_MC];
        size_t n = 0;

        for (unsigned i = 0; i < st->n_mc4; i++) {
                struct mc4_group *g = &st->mc4[i];

                if (g->report_left == 0)
                        continue;
                g->report_left--;
                if (st->mode == 3)
                        rec[n++] = (struct mpnet_igmp_record){
                            .type = g->refs > 0 ? MPNET_IGMP3_TO_EXCLUDE : MPNET_IGMP3_TO_INCLUDE,
                            .group = g->addr};
                else if (g->refs > 0)
                        igmp_send_old(ifp,
                                      st->mode == 1 ? MPNET_IGMP_V1_REPORT : MPNET_IGMP_V2_REPORT,
                                      g->addr);
                else if (st->mode == 2)
                        igmp_send_old(ifp, MPNET_IGMP_V2_LEAVE, g->addr);
        }
        igmp_send_v3(ifp, rec, n);
        /* A group left whose reports are all out is gone. */
        for (unsigned i = 0; i < st->n_mc4;) {
                if (st->mc4[i].refs == 0 && st->mc4[i].report_left == 0)
                        mc4_remove(ifp, &st->mc4[i]);
                else
                        i++;
        }
}

/* 5.2: the answers due now: in v3 one report, of every group for a
 * general query, else of the groups asked for; in v1 and v2 a report per
 * group. All-systems never (5). */
static void igmp_answer(struct mpnet_iface *ifp, uint64_t now)
{
        struct igmp_ifstate *st = igs(ifp);
        struct mpnet_igmp_record rec[IFACE_MAX_MC];
        bool general = st->general_at <= now;
        size_t n = 0;

        if (general)
                st->general_at = MPNET_TIME_NEVER;
        for (unsigned i = 0; i < st->n_mc4; i++) {
                struct mc4_group *g = &st->mc4[i];
                bool due = g->query_at <= now;

                if (due)
                        g->query_at = MPNET_TIME_NEVER;
                if (g->refs == 0 || g->addr == MPNET_IGMP_ALL_HOSTS || !(due || general))
                        continue;
                if (st->mode == 3)
                        rec[n++] = (struct mpnet_igmp_record){.type = MPNET_IGMP3_MODE_IS_EXCLUDE,
                                                              .group = g->addr};
                else
                        igmp_send_old(ifp,
                                      st->mode == 1 ? MPNET_IGMP_V1_REPORT : MPNET_IGMP_V2_REPORT,
                                      g->addr);
        }
        igmp_send_v3(ifp, rec, n);
}

static void igmp_timer(struct mpnet_timer *t, void *arg, uint64_t now)
{
        struct mpnet_iface *ifp = arg;
        struct mpnet_stack *s = ifp->stack;
        struct igmp_ifstate *st = igs(ifp);

        (void)t;
        igmp_mode_update(ifp, now);
        if (st->publish_retry)
                (void)mc4_publish(ifp);
        if (st->report_next <= now) {
                bool more = false;

                igmp_state_change(ifp);
                for (unsigned i = 0; i < st->n_mc4; i++)
                        more |= st->mc4[i].report_left > 0;
                /* 5.1: the next at random in (0, Unsolicited Report Interval]. */
                st->report_next =
                    more ? now + 1 + stack_random(s) % IGMP_UNSOL_NS : MPNET_TIME_NEVER;
        }
        igmp_answer(ifp, now);
        igmp_arm(ifp);
}

/* ---- joins and leaves ---- */

int mc4_join(struct mpnet_iface *ifp, uint32_t group)
{
        struct igmp_ifstate *st = igs(ifp);
        struct mc4_group *g = mc4_find(ifp, group);
        struct mc4_snap *sn;

        if (!mpnet_ip4_is_multicast(group))
                return -EINVAL;
        if (g != NULL && g->refs > 0) {
                g->refs++;
                return 0;
        }
        if (g == NULL && st->n_mc4 == IFACE_MAX_MC)
                return -ENOSPC;
        sn = malloc(sizeof(*sn));
        if (sn == NULL)
                return -ENOMEM;
        if (g == NULL) {
                g = &st->mc4[st->n_mc4++];
                *g = (struct mc4_group){.addr = group, .query_at = MPNET_TIME_NEVER};
        }
        /* A group still being left comes back with a report of its own. */
        g->refs = 1;
        g->report_left = group == MPNET_IGMP_ALL_HOSTS ? 0 : st->mode == 3 ? st->qrv : 1;
        mc4_commit(ifp, sn);
        if (g->report_left > 0) {
                st->report_next = ifp->stack->now;
                igmp_arm(ifp);
        }
        return 0;
}

void mc4_leave(struct mpnet_iface *ifp, uint32_t group)
{
        struct igmp_ifstate *st = igs(ifp);
        struct mc4_group *g = mc4_find(ifp, group);
        bool report;

        if (g == NULL || g->refs == 0 || --g->refs > 0)
                return;
        g->query_at = MPNET_TIME_NEVER;
        /* 5.1: TO_IN({}), retransmitted as a join's; v2: one leave (RFC
         * 2236 3); v1 has none. */
        g->report_left = st->mode == 3 ? st->qrv : st->mode == 2 ? 1 : 0;
        if (group == MPNET_IGMP_ALL_HOSTS)
                g->report_left = 0;
        report = g->report_left > 0;
        if (!report)
                mc4_remove(ifp, g);
        (void)mc4_publish(ifp); /* out of memory: again from the timer */
        if (report)
                st->report_next = ifp->stack->now;
        igmp_arm(ifp);
}

int mpnet_mc4_join(struct mpnet_stack *s, int ifindex, uint32_t group)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        return mc4_join(ifp, group);
}

int mpnet_mc4_leave(struct mpnet_stack *s, int ifindex, uint32_t group)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        const struct mc4_group *g;

        if (ifp == NULL)
                return -ENODEV;
        g = mc4_find(ifp, group);
        /* The interface's own join of all-systems is not the caller's. */
        if (g == NULL || g->refs == 0 || (group == MPNET_IGMP_ALL_HOSTS && g->refs == 1))
                return -ENOENT;
        mc4_leave(ifp, group);
        return 0;
}

/* ---- input ---- */

static uint64_t min64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

static void igmp_query(struct mpnet_iface *ifp, const struct mpnet_igmp_query *q)
{
        struct mpnet_stack *s = ifp->stack;
        struct igmp_ifstate *st = igs(ifp);
        uint64_t now = s->now, max_ns = (uint64_t)q->max_resp_ds * IGMP_DS_NS;
        struct mc4_group *g = NULL;

        ictr(s, IGMP_CTR_QUERY);
        if (q->version == 3) {
                /* 8.1, 8.2: the querier's values (0 in QRV: keep ours). */
                if (q->qrv != 0)
                        st->qrv = q->qrv;
                if (q->qqi != 0)
                        st->qi_s = q->qqi;
        } else {
                /* 8.12: Older Version Querier Present Timeout. */
                uint64_t until = now + (uint64_t)st->qrv * st->qi_s * MPNET_NS_PER_S + max_ns;

                ictr(s, IGMP_CTR_OLDER);
                if (q->version == 1)
                        st->v1_until = until;
                else
                        st->v2_until = until;
        }
        igmp_mode_update(ifp, now);
        if (q->group != 0) {
                g = mc4_find(ifp, q->group);
                if (g == NULL || g->refs == 0 || q->group == MPNET_IGMP_ALL_HOSTS)
                        goto out;
        }
        if (st->mode == 3) {
                uint64_t at = now + stack_random(s) % (max_ns + 1);

                /* 5.2 rule 1: a general answer due sooner covers this one. */
                if (st->general_at <= at)
                        goto out;
                if (g == NULL)
                        st->general_at = at; /* rule 2 */
                else
                        g->query_at = min64(g->query_at, at); /* rules 3, 4 */
                goto out;
        }
        /* RFC 2236 3: a delay per group; a running one is kept if sooner. */
        for (unsigned i = 0; i < st->n_mc4; i++) {
                struct mc4_group *e = &st->mc4[i];

                if (e->refs == 0 || e->addr == MPNET_IGMP_ALL_HOSTS || (g != NULL && e != g))
                        continue;
                e->query_at = min64(e->query_at, now + stack_random(s) % (max_ns + 1));
        }
out:
        igmp_arm(ifp);
}

static void igmp_input_ctl(struct mpnet_iface *ifp, struct mpnet_pkt *p,
                           const struct mpnet_ip4_repr *ip)
{
        struct mpnet_stack *s = ifp->stack;
        struct igmp_ifstate *st = igs(ifp);
        struct mpnet_igmp_view v;
        struct mpnet_igmp_query q;

        ictr(s, IGMP_CTR_RX);
        /* RFC 3376 4: TTL 1 on every IGMP message; a reassembled one is a
         * chain (a query that large is no query of ours to answer). */
        if (ip->ttl != 1 || p->next != NULL || mpnet_igmp_view_check(p->data, p->len, &v) != 0) {
                ictr(s, IGMP_CTR_BAD);
                return;
        }
        switch (mpnet_igmp_type(&v)) {
        case MPNET_IGMP_QUERY:
                (void)mpnet_igmp_query_parse(&v, &q);
                igmp_query(ifp, &q);
                return;
        case MPNET_IGMP_V1_REPORT:
        case MPNET_IGMP_V2_REPORT: {
                /* RFC 2236 3: another member answered; ours is not needed. */
                struct mc4_group *g = mc4_find(ifp, mpnet_igmp_group(&v));

                if (st->mode != 3 && g != NULL && g->query_at != MPNET_TIME_NEVER) {
                        g->query_at = MPNET_TIME_NEVER;
                        ictr(s, IGMP_CTR_SUPPRESSED);
                        igmp_arm(ifp);
                }
                return;
        }
        default:
                return; /* v3 reports, leaves, other types: nothing for a host */
        }
}

/* Local delivery of protocol 2, on any context: the state is the control
 * thread's, so a worker hands the message over. */
static void igmp_l4(struct wctx *w, struct mpnet_iface *ifp, struct mpnet_pkt *p, const void *repr)
{
        if (ctx_is_worker(w)) {
                ip4_local_punt_back(w, ifp, p);
                return;
        }
        igmp_input_ctl(ifp, p, repr);
        mpnet_pkt_free(p);
}

/* ---- the interface hooks (graph.h) ---- */

static int igmp_iface_attach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        struct igmp_ifstate *st = igs(ifp);

        (void)s;
        *st = (struct igmp_ifstate){.report_next = MPNET_TIME_NEVER,
                                    .general_at = MPNET_TIME_NEVER,
                                    .mode = 3,
                                    .qrv = IGMP_RV_DEFAULT,
                                    .qi_s = IGMP_QI_DEFAULT_S};
        mpnet_timer_init(&ifp->in4->igmp_timer, igmp_timer, ifp);
        /* RFC 3376 5: all-systems, joined on every interface. */
        return mc4_join(ifp, MPNET_IGMP_ALL_HOSTS);
}

static void igmp_iface_detach(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        mpnet_timer_cancel(s->timers, &ifp->in4->igmp_timer);
}

static void igmp_iface_free(struct mpnet_stack *s, struct mpnet_iface *ifp)
{
        (void)s;
        if (ifp->in4 == NULL)
                return;
        free(atomic_load_explicit(&ifp->in4->mc4, memory_order_relaxed));
        ifp->in4->mc4 = NULL;
}

static unsigned igmp_iface_mark(const struct mpnet_iface *ifp, void *mark, struct mpnet_timer **t)
{
        memcpy(mark, igs(ifp), sizeof(struct igmp_ifstate));
        t[0] = &ifp->in4->igmp_timer;
        return 1;
}

static int igmp_iface_reset(struct mpnet_iface *ifp, const void *mark)
{
        memcpy(igs(ifp), mark, sizeof(struct igmp_ifstate));
        if (!mc4_published(ifp) && mc4_publish(ifp) != 0)
                return -ENOMEM;
        return 0;
}

static void igmp_iface_usage(const struct mpnet_iface *ifp, struct mpnet_stack_usage *u)
{
        u->mc4 += igs(ifp)->n_mc4;
}

static void igmp_usage(struct mpnet_stack *s, struct mpnet_stack_usage *u)
{
        (void)s;
        u->mc4_max = IFACE_MAX_MC;
}

static const struct l4_reg igmp_l4s[] = {
    {.family = 4, .proto = MPNET_IPPROTO_IGMP, .fn = igmp_l4},
};

const struct mpnet_module mod_igmp = {
    .name = "igmp",
    .l4 = igmp_l4s,
    .n_l4 = 1,
    .counters = igmp_counters,
    .n_counters = sizeof(igmp_counters) / sizeof(igmp_counters[0]),
    .iface_attach = igmp_iface_attach,
    .iface_detach = igmp_iface_detach,
    .iface_free = igmp_iface_free,
    .iface_usage = igmp_iface_usage,
    .usage = igmp_usage,
    .iface_mark_size = sizeof(struct igmp_ifstate),
    .iface_mark = igmp_iface_mark,
    .iface_reset = igmp_iface_reset,
};
