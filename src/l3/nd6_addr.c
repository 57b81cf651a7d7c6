/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 addresses of an interface and what runs on its ND timer:
 *   - addresses (RFC 4291), their routes once usable, lifetimes;
 *   - duplicate address detection (RFC 4862 5.4) with the RFC 7527 nonce;
 *   - the link-local address from the MAC (modified EUI-64, RFC 4291 2.5.1);
 *   - router solicitation and SLAAC from advertisements (RFC 4861 6.3,
 *     RFC 4862 5.5), RDNSS (RFC 8106);
 *   - router advertisements on an advertising interface (RFC 4861 6.2).
 *
 * One timer per interface runs whatever is due and re-arms itself for the
 * earliest next deadline.
 *
 * Synchronisation: the control thread. Workers never read the address list:
 * they see the routes an address adds and a copy of the addresses with
 * their DAD state, published after each change (iface_addr6_publish).
 */
#include <errno.h>
#include <stdlib.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "base/sha256.h"
#include "mpnet/wire/icmp6.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

#define MAX_RTR_SOLICITATION_DELAY_NS   MPNET_NS_PER_S /* RFC 4861 10 */
#define RTR_SOLICITATION_INTERVAL_NS    (4 * MPNET_NS_PER_S)
#define MAX_RTR_SOLICITATIONS           3
#define MAX_INITIAL_RTR_ADVERT_INTERVAL (16 * MPNET_NS_PER_S)
#define MAX_INITIAL_RTR_ADVERTISEMENTS  3
#define MIN_DELAY_BETWEEN_RAS_NS        (3 * MPNET_NS_PER_S)
#define MAX_RA_DELAY_TIME_NS            (500 * MPNET_NS_PER_MS)
#define DAD_TRANSMITS                   1 /* RFC 4862 5.1 DupAddrDetectTransmits */
#define TWO_HOURS_NS                    (7200 * MPNET_NS_PER_S)
#define IDGEN_RETRIES                   3 /* RFC 7217 7 */

static const uint8_t in6_any[16];

static uint64_t rnd_upto(struct mpnet_stack *s, uint64_t max)
{
        return stack_random(s) % (max + 1);
}

static uint64_t lifetime_until(uint64_t now, uint32_t secs)
{
        return secs == UINT32_MAX ? MPNET_TIME_NEVER : now + (uint64_t)secs * MPNET_NS_PER_S;
}

struct ifaddr6 *ifaddr6_find(struct mpnet_iface *ifp, const uint8_t *a)
{
        for (unsigned i = 0; i < ifp->in6->n_addrs6; i++) {
                if (ip6_eq(ifp->in6->addrs6[i].addr, a))
                        return &ifp->in6->addrs6[i];
        }
        return NULL;
}

static bool usable(const struct ifaddr6 *a)
{
        return (a->flags & (MPNET_ADDR6_F_TENTATIVE | MPNET_ADDR6_F_DUPLICATED)) == 0;
}

const struct ifaddr6 *iface_ll6(const struct mpnet_iface *ifp)
{
        for (unsigned i = 0; i < ifp->in6->n_addrs6; i++) {
                if (mpnet_ip6_is_link_local(ifp->in6->addrs6[i].addr) &&
                    usable(&ifp->in6->addrs6[i]))
                        return &ifp->in6->addrs6[i];
        }
        return NULL;
}

void nd6_kick(struct mpnet_iface *ifp)
{
        mpnet_timer_arm(ifp->stack->timers, &ifp->in6->nd_timer, ifp->stack->now);
}

/* ---- routes of an address ---- */

static bool prefix_shared6(const struct mpnet_iface *ifp, const struct ifaddr6 *skip)
{
        for (unsigned i = 0; i < ifp->in6->n_addrs6; i++) {
                const struct ifaddr6 *a = &ifp->in6->addrs6[i];

                if (a != skip && usable(a) && a->plen == skip->plen &&
                    ip6_prefix_eq(a->addr, skip->addr, a->plen))
                        return true;
        }
        return false;
}

/* The local /128 and, but for link-local addresses (which are routed by
 * their interface, RFC 4007), the connected prefix. */
static void addr6_routes(struct mpnet_iface *ifp, const struct ifaddr6 *a, bool add)
{
        struct mpnet_stack *s = ifp->stack;
        uint32_t table = atomic_load(&ifp->table);
        struct mpnet_route6 r = {.plen = 128, .type = MPNET_NH_LOCAL, .n_paths = 1};
        bool connected =
            a->plen < 128 && !mpnet_ip6_is_link_local(a->addr) && !prefix_shared6(ifp, a);

        memcpy(r.dst, a->addr, 16);
        r.paths[0].ifindex = ifp->ifindex;
        if (add)
                mpnet_route6_replace(s, table, &r);
        else
                mpnet_route6_del(s, table, r.dst, 128);
        if (!connected)
                return;
        memset(r.dst, 0, 16);
        for (unsigned i = 0; i < a->plen; i++)
                r.dst[i / 8] |= a->addr[i / 8] & (0x80 >> (i % 8));
        r.plen = a->plen;
        r.type = MPNET_NH_CONNECTED;
        if (add)
                mpnet_route6_replace(s, table, &r);
        else
                mpnet_route6_del(s, table, r.dst, r.plen);
}

void iface_addr6_routes(struct mpnet_iface *ifp, bool add)
{
        for (unsigned i = 0; i < ifp->in6->n_addrs6; i++) {
                if (usable(&ifp->in6->addrs6[i]))
                        addr6_routes(ifp, &ifp->in6->addrs6[i], add);
        }
}

/* DAD passed (or was not asked for): the address is ours. */
static void addr6_ready(struct mpnet_iface *ifp, struct ifaddr6 *a)
{
        struct mpnet_stack *s = ifp->stack;

        a->flags &= ~MPNET_ADDR6_F_TENTATIVE;
        a->dad_at = MPNET_TIME_NEVER;
        /* Workers deliver to it from now on (and choose it as a source). */
        (void)iface_addr6_publish(ifp);
        addr6_routes(ifp, a, true);
        /* RFC 4861 7.2.6: tell the link (an unsolicited advertisement). */
        nd6_na_send(ifp, ip6_all_nodes, a->addr, false);
        /* Advertisements wait for the link-local source (6.2.2). */
        if (ifp->in6->ra != NULL && mpnet_ip6_is_link_local(a->addr))
                ifp->in6->ra->next = s->now;
        /* A host solicits routers once it has a link-local source (6.3.7). */
        if (mpnet_ip6_is_link_local(a->addr) && ifp->in6->ra == NULL && !atomic_load(&s->ip6_fwd) &&
            ifp->in6->n_dr == 0) {
                ifp->in6->rs_left = MAX_RTR_SOLICITATIONS;
                ifp->in6->rs_next = s->now + rnd_upto(s, MAX_RTR_SOLICITATION_DELAY_NS);
        }
}

static void addr6_event(struct mpnet_iface *ifp, enum mpnet_event_type t, const uint8_t *addr,
                        uint8_t plen)
{
        struct mpnet_event ev = {.type = t, .ifindex = ifp->ifindex, .family = 6, .plen = plen};

        memcpy(ev.addr6, addr, 16);
        stack_event(ifp->stack, &ev);
}

static int addr6_insert(struct mpnet_iface *ifp, const uint8_t *addr, uint8_t plen, uint32_t flags,
                        uint64_t valid_until, uint64_t pref_until)
{
        struct mpnet_stack *s = ifp->stack;
        struct ifaddr6 *a;
        uint8_t snm[16];
        int err;

        if (plen > 128 || mpnet_ip6_is_multicast(addr) || mpnet_ip6_is_unspecified(addr) ||
            mpnet_ip6_is_loopback(addr))
                return -EINVAL;
        if (ifaddr6_find(ifp, addr) != NULL)
                return -EEXIST;
        if (ifp->in6->n_addrs6 == IFACE_MAX_ADDRS)
                return -ENOSPC;
        if (!ifp->in6->ip6_on) {
                ifp->in6->ip6_on = true;
                mc6_join(ifp, ip6_all_nodes);
        }
        /* RFC 4862 5.4.2: join the solicited-node group before probing. */
        mpnet_ip6_solicited_node(addr, snm);
        err = mc6_join(ifp, snm);
        if (err != 0)
                return err;
        a = &ifp->in6->addrs6[ifp->in6->n_addrs6++];
        memset(a, 0, sizeof(*a));
        memcpy(a->addr, addr, 16);
        a->plen = plen;
        a->flags = flags & (MPNET_ADDR6_F_AUTOCONF | MPNET_ADDR6_F_DEPRECATED);
        a->valid_until = valid_until;
        a->pref_until = (flags & MPNET_ADDR6_F_DEPRECATED) ? s->now : pref_until;
        a->dad_at = MPNET_TIME_NEVER;
        if (flags & MPNET_ADDR6_F_NODAD) {
                addr6_ready(ifp, a);
        } else {
                a->flags |= MPNET_ADDR6_F_TENTATIVE;
                a->dad_left = DAD_TRANSMITS;
                /* 5.4.2: a random delay before the first probe. */
                a->dad_at = s->now + rnd_upto(s, MAX_RTR_SOLICITATION_DELAY_NS);
                (void)iface_addr6_publish(ifp);
        }
        nd6_kick(ifp);
        addr6_event(ifp, MPNET_EV_ADDR_ADD, addr, plen);
        return 0;
}

static void addr6_remove(struct mpnet_iface *ifp, unsigned i)
{
        struct ifaddr6 *a = &ifp->in6->addrs6[i];
        struct ifaddr6 gone = *a;
        uint8_t snm[16];

        *a = ifp->in6->addrs6[--ifp->in6->n_addrs6];
        (void)iface_addr6_publish(ifp);
        if (usable(&gone)) {
                addr6_routes(ifp, &gone, false);
                /* Another address of the prefix keeps its connected route. */
                for (unsigned j = 0; j < ifp->in6->n_addrs6; j++) {
                        if (usable(&ifp->in6->addrs6[j]) && ifp->in6->addrs6[j].plen == gone.plen &&
                            ip6_prefix_eq(ifp->in6->addrs6[j].addr, gone.addr, gone.plen)) {
                                addr6_routes(ifp, &ifp->in6->addrs6[j], true);
                                break;
                        }
                }
        }
        mpnet_ip6_solicited_node(gone.addr, snm);
        mc6_leave(ifp, snm);
        addr6_event(ifp, MPNET_EV_ADDR_DEL, gone.addr, gone.plen);
}

int mpnet_addr6_add(struct mpnet_stack *s, int ifindex, const uint8_t addr[16], uint8_t plen,
                    uint32_t flags)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        return addr6_insert(ifp, addr, plen, flags & ~MPNET_ADDR6_F_AUTOCONF, MPNET_TIME_NEVER,
                            MPNET_TIME_NEVER);
}

int mpnet_addr6_del(struct mpnet_stack *s, int ifindex, const uint8_t addr[16], uint8_t plen)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        for (unsigned i = 0; i < ifp->in6->n_addrs6; i++) {
                if (ip6_eq(ifp->in6->addrs6[i].addr, addr) && ifp->in6->addrs6[i].plen == plen) {
                        addr6_remove(ifp, i);
                        return 0;
                }
        }
        return -ENOENT;
}

static uint64_t left(uint64_t until, uint64_t now)
{
        if (until == MPNET_TIME_NEVER)
                return MPNET_TIME_NEVER;
        return until > now ? until - now : 0;
}

int mpnet_addr6_list(struct mpnet_stack *s, int ifindex, struct mpnet_addr6_info *out, unsigned max)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        for (unsigned i = 0; i < ifp->in6->n_addrs6 && i < max; i++) {
                const struct ifaddr6 *a = &ifp->in6->addrs6[i];

                memcpy(out[i].addr, a->addr, 16);
                out[i].plen = a->plen;
                out[i].flags = a->flags;
                out[i].valid_ns = left(a->valid_until, s->now);
                out[i].preferred_ns = left(a->pref_until, s->now);
        }
        return (int)ifp->in6->n_addrs6;
}

/* RFC 4291 2.5.1 and appendix A: the interface identifier from the MAC. */
static void eui64_iid(const uint8_t *mac, uint8_t *a)
{
        a[8] = mac[0] ^ 0x02;
        a[9] = mac[1];
        a[10] = mac[2];
        a[11] = 0xff;
        a[12] = 0xfe;
        a[13] = mac[3];
        a[14] = mac[4];
        a[15] = mac[5];
}

/*
 * RFC 7217 5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter,
 * secret_key) with F = SHA-256, the interface's name as Net_Iface, an empty
 * Network_ID and the counter as one byte; the identifier is the RID's 64
 * least significant bits.
 */
static void stable_iid(const struct mpnet_iface *ifp, const uint8_t *prefix, uint8_t counter,
                       uint8_t *a)
{
        struct sha256 h;
        uint8_t rid[SHA256_LEN];

        sha256_init(&h);
        sha256_update(&h, prefix, 8);
        sha256_update(&h, ifp->name, strlen(ifp->name));
        sha256_update(&h, &counter, 1);
        sha256_update(&h, ifp->stack->ip6_secret, sizeof(ifp->stack->ip6_secret));
        sha256_final(&h, rid);
        memcpy(a, prefix, 8);
        memcpy(a + 8, rid + SHA256_LEN - 8, 8);
}

/* RFC 5453: the subnet-router anycast identifier and the reserved range
 * fdff:ffff:ffff:ff80 to fdff:ffff:ffff:ffff. */
static bool iid_reserved(const uint8_t *a)
{
        static const uint8_t zero[8], anycast[7] = {0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

        return memcmp(a + 8, zero, 8) == 0 || (memcmp(a + 8, anycast, 7) == 0 && a[15] >= 0x80);
}

/*
 * An address in the /64 prefix: the modified EUI-64 identifier, or with
 * RFC 7217 the first DAD_Counter from counter on whose identifier is
 * neither reserved nor taken on ifp (7217 5, step 3), at most
 * IDGEN_RETRIES past 0.
 */
static int addr6_gen(struct mpnet_iface *ifp, const uint8_t *prefix, uint8_t counter,
                     uint32_t flags, uint64_t valid_until, uint64_t pref_until)
{
        uint8_t a[16];
        int err;

        if (!ifp->stack->ip6_stable_iid) {
                memcpy(a, prefix, 8);
                eui64_iid(ifp->mac, a);
                return addr6_insert(ifp, a, 64, flags, valid_until, pref_until);
        }
        for (;; counter++) {
                if (counter > IDGEN_RETRIES)
                        return -EEXIST;
                stable_iid(ifp, prefix, counter, a);
                if (!iid_reserved(a) && ifaddr6_find(ifp, a) == NULL)
                        break;
        }
        err = addr6_insert(ifp, a, 64, flags, valid_until, pref_until);
        if (err == 0) {
                ifp->in6->addrs6[ifp->in6->n_addrs6 - 1].stable = true;
                ifp->in6->addrs6[ifp->in6->n_addrs6 - 1].dad_counter = counter;
        }
        return err;
}

int mpnet_iface_ip6_enable(struct mpnet_stack *s, int ifindex)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        static const uint8_t ll[8] = {0xfe, 0x80};

        if (ifp == NULL)
                return -ENODEV;
        for (unsigned i = 0; i < ifp->in6->n_addrs6; i++) {
                if (mpnet_ip6_is_link_local(ifp->in6->addrs6[i].addr))
                        return -EALREADY;
        }
        return addr6_gen(ifp, ll, 0, 0, MPNET_TIME_NEVER, MPNET_TIME_NEVER);
}

void nd6_dad_duplicate(struct mpnet_iface *ifp, struct ifaddr6 *a)
{
        struct ifaddr6 dup = *a;

        STK_INC(ifp->stack, nd_dad_dup);
        /* RFC 7217 6: a stable identifier gives way to the one of the next
         * DAD_Counter, IDGEN_RETRIES times; the last duplicate stays. */
        if (dup.stable && dup.dad_counter < IDGEN_RETRIES) {
                addr6_remove(ifp, (unsigned)(a - ifp->in6->addrs6));
                addr6_gen(ifp, dup.addr, (uint8_t)(dup.dad_counter + 1),
                          dup.flags & MPNET_ADDR6_F_AUTOCONF, dup.valid_until, dup.pref_until);
                return;
        }
        /* RFC 4862 5.4.5: never used; kept, marked, for the operator. */
        a->flags = (a->flags & ~MPNET_ADDR6_F_TENTATIVE) | MPNET_ADDR6_F_DUPLICATED;
        a->dad_at = MPNET_TIME_NEVER;
        (void)iface_addr6_publish(ifp);
}

int mpnet_ip6_rdnss_get(struct mpnet_stack *s, int ifindex, uint8_t (*out)[16], unsigned max)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);

        if (ifp == NULL)
                return -ENODEV;
        if (ifp->in6->rdnss_until <= s->now)
                return 0;
        for (unsigned i = 0; i < ifp->in6->n_rdnss && i < max; i++)
                memcpy(out[i], ifp->in6->rdnss[i], 16);
        return (int)ifp->in6->n_rdnss;
}

/* ---- router solicitation and advertisement ---- */

static void rs_send(struct mpnet_iface *ifp)
{
        struct mpnet_stack *s = ifp->stack;
        const struct ifaddr6 *ll = iface_ll6(ifp);
        struct mpnet_nd_repr r = {.type = MPNET_ICMP6_ND_RS};
        struct mpnet_nd_opts o = {.slla = ll != NULL ? ifp->mac : NULL};
        const uint8_t *src = ll != NULL ? ll->addr : in6_any;
        struct mpnet_pkt *p;
        size_t n = mpnet_nd_repr_len(&r, &o);
        uint8_t *b = icmp6_alloc(s, n, &p);

        if (b == NULL)
                return;
        mpnet_nd_repr_emit(&r, &o, src, ip6_all_routers, b);
        STK_INC(s, nd_rs_tx);
        ip6_send_raw(ifp, p, src, ip6_all_routers, MPNET_IPPROTO_ICMPV6, 255, NULL);
}

static void ra_send(struct mpnet_iface *ifp, uint16_t lifetime)
{
        struct mpnet_stack *s = ifp->stack;
        const struct mpnet_ra_cfg *c = &ifp->in6->ra->cfg;
        const struct ifaddr6 *ll = iface_ll6(ifp);
        struct mpnet_nd_repr r = {
            .type = MPNET_ICMP6_ND_RA,
            .cur_hop_limit = c->cur_hop_limit,
            .router_lifetime = lifetime,
        };
        struct mpnet_nd_prefix pfx[MPNET_RA_MAX_PREFIX];
        struct mpnet_nd_opts o = {
            .slla = ifp->mac, .mtu = c->mtu, .prefix = pfx, .n_prefix = c->n_prefix};
        struct mpnet_pkt *p;
        uint8_t *b;
        size_t n;

        /* 6.2.2: advertisements come from the link-local address. */
        if (ll == NULL)
                return;
        for (unsigned i = 0; i < c->n_prefix; i++) {
                pfx[i] = (struct mpnet_nd_prefix){
                    .prefix_len = c->prefix[i].plen,
                    .onlink = c->prefix[i].onlink,
                    .autonomous = c->prefix[i].autonomous,
                    .valid = c->prefix[i].valid_s,
                    .preferred = c->prefix[i].preferred_s,
                };
                memcpy(pfx[i].prefix, c->prefix[i].prefix, 16);
        }
        if (c->n_rdnss > 0) {
                o.rdnss.lifetime = c->rdnss_lifetime_s;
                o.rdnss.addrs = c->rdnss[0];
                o.rdnss.count = c->n_rdnss;
        }
        n = mpnet_nd_repr_len(&r, &o);
        b = icmp6_alloc(s, n, &p);
        if (b == NULL)
                return;
        mpnet_nd_repr_emit(&r, &o, ll->addr, ip6_all_nodes, b);
        STK_INC(s, nd_ra_tx);
        ifp->in6->ra->last = s->now;
        ip6_send_raw(ifp, p, ll->addr, ip6_all_nodes, MPNET_IPPROTO_ICMPV6, 255, NULL);
}

/* 6.2.4: a random time between the intervals; the first few at most 16 s. */
static void ra_schedule(struct mpnet_iface *ifp, uint64_t now)
{
        struct ra_state *ra = ifp->in6->ra;
        uint64_t min = (uint64_t)ra->cfg.min_interval_ms * MPNET_NS_PER_MS;
        uint64_t max = (uint64_t)ra->cfg.max_interval_ms * MPNET_NS_PER_MS;
        uint64_t d = min + rnd_upto(ifp->stack, max - min);

        if (ra->initial_left > 0) {
                ra->initial_left--;
                if (d > MAX_INITIAL_RTR_ADVERT_INTERVAL)
                        d = MAX_INITIAL_RTR_ADVERT_INTERVAL;
        }
        ra->next = now + d;
}

int mpnet_iface_ra_set(struct mpnet_stack *s, int ifindex, const struct mpnet_ra_cfg *cfg)
{
        struct mpnet_iface *ifp = stack_iface(s, ifindex);
        struct mpnet_ra_cfg c;

        if (ifp == NULL)
                return -ENODEV;
        if (cfg == NULL) {
                if (ifp->in6->ra == NULL)
                        return 0;
                /* 6.2.5: a last advertisement with lifetime 0. */
                ra_send(ifp, 0);
                free(ifp->in6->ra);
                ifp->in6->ra = NULL;
                mc6_leave(ifp, ip6_all_routers);
                return 0;
        }
        c = *cfg;
        if (c.max_interval_ms == 0)
                c.max_interval_ms = 600000;
        if (c.min_interval_ms == 0)
                c.min_interval_ms =
                    c.max_interval_ms >= 9000 ? c.max_interval_ms / 3 : c.max_interval_ms;
        if (c.router_lifetime_s == 0)
                c.router_lifetime_s = (uint16_t)(c.max_interval_ms * 3 / 1000);
        if (c.cur_hop_limit == 0)
                c.cur_hop_limit = IP6_HLIM_DEFAULT;
        if (c.rdnss_lifetime_s == 0)
                c.rdnss_lifetime_s = c.max_interval_ms * 2 / 1000;
        /* 6.2.1 ranges. */
        if (c.max_interval_ms < 4000 || c.max_interval_ms > 1800000 || c.min_interval_ms < 3000 ||
            c.min_interval_ms > c.max_interval_ms * 3 / 4 + 1000 || c.router_lifetime_s > 9000 ||
            c.n_prefix > MPNET_RA_MAX_PREFIX || c.n_rdnss > MPNET_RA_MAX_RDNSS ||
            (c.mtu != 0 && c.mtu < MPNET_IP6_MIN_MTU))
                return -EINVAL;
        for (unsigned i = 0; i < c.n_prefix; i++) {
                struct mpnet_ra_prefix *p = &c.prefix[i];

                if (p->plen > 128)
                        return -EINVAL;
                if (p->valid_s == 0)
                        p->valid_s = 2592000;
                if (p->preferred_s == 0)
                        p->preferred_s = 604800;
                if (p->preferred_s > p->valid_s)
                        return -EINVAL;
        }
        if (ifp->in6->ra == NULL) {
                ifp->in6->ra = calloc(1, sizeof(*ifp->in6->ra));
                if (ifp->in6->ra == NULL)
                        return -ENOMEM;
                mc6_join(ifp, ip6_all_routers);
                /* -EALREADY when it has its link-local address. */
                (void)mpnet_iface_ip6_enable(s, ifindex);
        }
        ifp->in6->ra->cfg = c;
        ifp->in6->ra->initial_left = MAX_INITIAL_RTR_ADVERTISEMENTS;
        ifp->in6->ra->next = s->now;
        nd6_kick(ifp);
        return 0;
}

void nd6_rs_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_repr r = {.type = msg[0]};
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt o;
        const uint8_t *slla = NULL;
        uint64_t at;

        STK_INC(s, nd_rs_rx);
        if (!nd6_parse(s, msg, n, &r))
                return;
        mpnet_nd_opt_iter_init(&it, r.opts, r.opts_len);
        while (mpnet_nd_opt_next(&it, &o) == 1) {
                if (o.type == MPNET_ND_OPT_SLLA)
                        slla = mpnet_nd_opt_lladdr(&o);
        }
        /* 6.1.1: from :: there is no source link-layer option. */
        if (mpnet_ip6_is_unspecified(ip->src) && slla != NULL) {
                STK_INC(s, nd_invalid);
                return;
        }
        /* 6.2.6: hosts ignore solicitations; a router answers after a
         * random delay, at most one multicast advertisement per 3 s. */
        if (ifp->in6->ra == NULL)
                return;
        if (slla != NULL && !mpnet_ip6_is_unspecified(ip->src))
                nd6_learn(ifp, ip->src, slla, false);
        at = s->now + rnd_upto(s, MAX_RA_DELAY_TIME_NS);
        if (ifp->in6->ra->last != 0 && at < ifp->in6->ra->last + MIN_DELAY_BETWEEN_RAS_NS)
                at = ifp->in6->ra->last + MIN_DELAY_BETWEEN_RAS_NS;
        if (at < ifp->in6->ra->next) {
                ifp->in6->ra->next = at;
                nd6_kick(ifp);
        }
}

static void onlink_route(struct mpnet_iface *ifp, const struct onlink6 *o, bool add)
{
        struct mpnet_route6 r = {.plen = o->plen, .type = MPNET_NH_CONNECTED, .n_paths = 1};

        memcpy(r.dst, o->prefix, 16);
        r.paths[0].ifindex = ifp->ifindex;
        if (add)
                mpnet_route6_replace(ifp->stack, atomic_load(&ifp->table), &r);
        else
                mpnet_route6_del(ifp->stack, atomic_load(&ifp->table), r.dst, r.plen);
}

static void onlink_remove(struct mpnet_iface *ifp, unsigned i)
{
        onlink_route(ifp, &ifp->in6->onlink[i], false);
        ifp->in6->onlink[i] = ifp->in6->onlink[--ifp->in6->n_onlink];
}

/* RFC 4861 6.3.4: the prefix list entry of an on-link prefix, its route and
 * its invalidation time (the valid lifetime; 0 removes it at once). */
static void onlink_update(struct mpnet_iface *ifp, const struct mpnet_nd_prefix *pi)
{
        struct onlink6 o = {.plen = pi->prefix_len};
        unsigned i;

        for (unsigned k = 0; k < pi->prefix_len; k++)
                o.prefix[k / 8] |= pi->prefix[k / 8] & (0x80 >> (k % 8));
        for (i = 0; i < ifp->in6->n_onlink; i++) {
                if (ifp->in6->onlink[i].plen == o.plen &&
                    ip6_eq(ifp->in6->onlink[i].prefix, o.prefix))
                        break;
        }
        if (pi->valid == 0) {
                if (i < ifp->in6->n_onlink)
                        onlink_remove(ifp, i);
                return;
        }
        if (i == ifp->in6->n_onlink) {
                if (ifp->in6->n_onlink == IFACE_MAX_ONLINK)
                        return;
                ifp->in6->onlink[ifp->in6->n_onlink++] = o;
        }
        ifp->in6->onlink[i].until = lifetime_until(ifp->stack->now, pi->valid);
        onlink_route(ifp, &ifp->in6->onlink[i], true);
}

/* RFC 4862 5.5.3: a prefix information option with the A flag. */
static void slaac_prefix(struct mpnet_iface *ifp, const struct mpnet_nd_prefix *pi)
{
        struct mpnet_stack *s = ifp->stack;
        uint8_t a[16];
        struct ifaddr6 *x = NULL;
        uint64_t valid = lifetime_until(s->now, pi->valid);

        /* (d): the prefix and the 64-bit identifier must make 128 bits. */
        if (pi->prefix_len != 64)
                return;
        memcpy(a, pi->prefix, 8);
        if (s->ip6_stable_iid) {
                /* RFC 7217: whichever DAD_Counter made the prefix's address. */
                for (unsigned i = 0; i < ifp->in6->n_addrs6 && x == NULL; i++) {
                        if (ifp->in6->addrs6[i].stable &&
                            ip6_prefix_eq(ifp->in6->addrs6[i].addr, a, 64))
                                x = &ifp->in6->addrs6[i];
                }
        } else {
                eui64_iid(ifp->mac, a);
                x = ifaddr6_find(ifp, a);
        }
        if (x == NULL) {
                if (pi->valid != 0)
                        addr6_gen(ifp, a, 0, MPNET_ADDR6_F_AUTOCONF, valid,
                                  lifetime_until(s->now, pi->preferred));
                return;
        }
        if (!(x->flags & MPNET_ADDR6_F_AUTOCONF))
                return;
        x->pref_until = lifetime_until(s->now, pi->preferred);
        if (x->pref_until > s->now) {
                x->flags &= ~MPNET_ADDR6_F_DEPRECATED;
                (void)iface_addr6_publish(ifp);
        }
        /* (e): the two-hour rule against a forged short lifetime. */
        if (valid > TWO_HOURS_NS + s->now || valid > x->valid_until)
                x->valid_until = valid;
        else if (left(x->valid_until, s->now) > TWO_HOURS_NS)
                x->valid_until = s->now + TWO_HOURS_NS;
        nd6_kick(ifp);
}

static void ra_prefix(struct mpnet_iface *ifp, const struct mpnet_nd_prefix *pi)
{
        /* 6.3.4 and RFC 4862 5.5.3 (a), (b), (c). */
        if (pi->prefix_len > 128 || mpnet_ip6_is_link_local(pi->prefix) ||
            pi->preferred > pi->valid)
                return;
        if (pi->onlink)
                onlink_update(ifp, pi);
        if (pi->autonomous)
                slaac_prefix(ifp, pi);
}

static void ra_option(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip,
                      const struct mpnet_nd_opt *o)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_prefix pi;
        struct mpnet_nd_rdnss rd;
        uint32_t mtu;

        switch (o->type) {
        case MPNET_ND_OPT_SLLA:
                if (mpnet_nd_opt_lladdr(o) != NULL)
                        nd6_learn(ifp, ip->src, mpnet_nd_opt_lladdr(o), true);
                break;
        case MPNET_ND_OPT_MTU:
                /* 6.3.4: within the link's own and the IPv6 minimum. */
                if (mpnet_nd_opt_mtu(o, &mtu) == 0 && mtu >= MPNET_IP6_MIN_MTU && mtu <= ifp->mtu)
                        atomic_store(&ifp->in6->mtu6, mtu);
                break;
        case MPNET_ND_OPT_PREFIX:
                if (mpnet_nd_opt_prefix(o, &pi) == 0)
                        ra_prefix(ifp, &pi);
                break;
        case MPNET_ND_OPT_RDNSS:
                if (mpnet_nd_opt_rdnss(o, &rd) == 0) {
                        ifp->in6->n_rdnss =
                            rd.count < MPNET_RA_MAX_RDNSS ? (unsigned)rd.count : MPNET_RA_MAX_RDNSS;
                        memcpy(ifp->in6->rdnss, rd.addrs, ifp->in6->n_rdnss * 16u);
                        ifp->in6->rdnss_until = lifetime_until(s->now, rd.lifetime);
                }
                break;
        default:
                break;
        }
}

void nd6_ra_input(struct mpnet_iface *ifp, const struct mpnet_ip6_repr *ip, const uint8_t *msg,
                  size_t n)
{
        struct mpnet_stack *s = ifp->stack;
        struct mpnet_nd_repr r = {.type = msg[0]};
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt o;

        STK_INC(s, nd_ra_rx);
        if (!nd6_parse(s, msg, n, &r))
                return;
        /* 6.1.2: from a link-local address. */
        if (!mpnet_ip6_is_link_local(ip->src)) {
                STK_INC(s, nd_invalid);
                return;
        }
        /* A router does not configure itself from others (6.2.7). */
        if (ifp->in6->ra != NULL || atomic_load(&s->ip6_fwd))
                return;
        ifp->in6->rs_left = 0;
        if (r.cur_hop_limit != 0) {
                ifp->in6->cur_hop_limit = r.cur_hop_limit;
                (void)iface_addr6_publish(ifp); /* workers' echo replies use it */
        }
        if (r.reachable != 0 &&
            (uint64_t)r.reachable * MPNET_NS_PER_MS != ifp->in6->nd_reachable_base) {
                ifp->in6->nd_reachable_base = (uint64_t)r.reachable * MPNET_NS_PER_MS;
                ifp->in6->nd_reachable_ns = nd6_reachable_time(ifp);
        }
        if (r.retrans != 0)
                ifp->in6->nd_retrans_ns = (uint64_t)r.retrans * MPNET_NS_PER_MS;
        nd6_dr_update(ifp, ip->src, r.router_lifetime);
        mpnet_nd_opt_iter_init(&it, r.opts, r.opts_len);
        while (mpnet_nd_opt_next(&it, &o) == 1)
                ra_option(ifp, ip, &o);
        nd6_kick(ifp);
}

/* ---- the default router list ---- */

/* The ::/0 route of the interface's table: a path per router. */
static void dr_sync(struct mpnet_iface *ifp)
{
        struct mpnet_route6 d = {.type = MPNET_NH_GATEWAY, .n_paths = (uint8_t)ifp->in6->n_dr};
        uint32_t table = atomic_load(&ifp->table);

        if (ifp->in6->n_dr == 0) {
                mpnet_route6_del(ifp->stack, table, in6_any, 0);
                return;
        }
        for (unsigned i = 0; i < ifp->in6->n_dr; i++) {
                d.paths[i].ifindex = ifp->ifindex;
                memcpy(d.paths[i].gw, ifp->in6->dr[i].addr, 16);
        }
        mpnet_route6_replace(ifp->stack, table, &d);
}

void nd6_dr_update(struct mpnet_iface *ifp, const uint8_t *router, uint32_t lifetime_s)
{
        unsigned i;

        for (i = 0; i < ifp->in6->n_dr && !ip6_eq(ifp->in6->dr[i].addr, router); i++)
                ;
        if (lifetime_s == 0) {
                if (i == ifp->in6->n_dr)
                        return;
                ifp->in6->dr[i] = ifp->in6->dr[--ifp->in6->n_dr];
                dr_sync(ifp);
                return;
        }
        if (i == ifp->in6->n_dr) {
                if (ifp->in6->n_dr == IFACE_MAX_DR)
                        return; /* 6.3.4: a bounded list may ignore more */
                memcpy(ifp->in6->dr[ifp->in6->n_dr++].addr, router, 16);
                dr_sync(ifp);
        }
        ifp->in6->dr[i].until = ifp->stack->now + (uint64_t)lifetime_s * MPNET_NS_PER_S;
        nd6_kick(ifp);
}

/* ---- the interface's ND timer ---- */

static uint64_t min64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

/* DAD and lifetimes of one address. @return false when it went away. */
static bool addr6_tick(struct mpnet_iface *ifp, unsigned i, uint64_t now, uint64_t *next)
{
        struct ifaddr6 *a = &ifp->in6->addrs6[i];
        uint8_t snm[16];

        if (a->valid_until <= now) {
                addr6_remove(ifp, i);
                return false;
        }
        if ((a->flags & MPNET_ADDR6_F_TENTATIVE) && a->dad_at <= now) {
                if (a->dad_left > 0) {
                        a->dad_left--;
                        mpnet_ip6_solicited_node(a->addr, snm);
                        nd6_ns_send(ifp, NULL, snm, a->addr, NULL);
                        a->dad_at = now + ifp->in6->nd_retrans_ns;
                } else {
                        addr6_ready(ifp, a);
                }
        }
        if (a->pref_until <= now)
                a->flags |= MPNET_ADDR6_F_DEPRECATED;
        else
                *next = min64(*next, a->pref_until);
        *next = min64(*next, min64(a->dad_at, a->valid_until));
        return true;
}

static void nd6_timer_fn(struct mpnet_timer *t, void *arg, uint64_t now)
{
        struct mpnet_iface *ifp = arg;
        struct mpnet_stack *s = ifp->stack;
        uint64_t next = MPNET_TIME_NEVER;

        for (unsigned i = 0; i < ifp->in6->n_addrs6;) {
                if (addr6_tick(ifp, i, now, &next))
                        i++;
        }
        /* Deprecations (RFC 4862 5.5.4) change what source workers pick. */
        (void)iface_addr6_publish(ifp);
        if (ifp->in6->rs_left > 0 && ifp->in6->rs_next <= now) {
                rs_send(ifp);
                ifp->in6->rs_left--;
                ifp->in6->rs_next = now + RTR_SOLICITATION_INTERVAL_NS;
        }
        if (ifp->in6->rs_left > 0)
                next = min64(next, ifp->in6->rs_next);
        for (unsigned i = 0; i < ifp->in6->n_dr; i++) {
                if (ifp->in6->dr[i].until <= now) {
                        nd6_dr_update(ifp, ifp->in6->dr[i].addr, 0);
                        break; /* the list changed: the next run sees the rest */
                }
                next = min64(next, ifp->in6->dr[i].until);
        }
        for (unsigned i = 0; i < ifp->in6->n_onlink;) {
                if (ifp->in6->onlink[i].until <= now) {
                        onlink_remove(ifp, i);
                        continue;
                }
                next = min64(next, ifp->in6->onlink[i].until);
                i++;
        }
        if (ifp->in6->ra != NULL) {
                if (ifp->in6->ra->next <= now && iface_ll6(ifp) == NULL) {
                        ifp->in6->ra->next = MPNET_TIME_NEVER; /* until it is ready */
                } else if (ifp->in6->ra->next <= now) {
                        ra_send(ifp, ifp->in6->ra->cfg.router_lifetime_s);
                        ra_schedule(ifp, now);
                }
                next = min64(next, ifp->in6->ra->next);
        }
        next = min64(next, mld_tick(ifp, now));
        next = min64(next, nd6_redirect_tick(ifp, now));
        if (next != MPNET_TIME_NEVER)
                mpnet_timer_arm(s->timers, t, next);
}

void nd6_iface_init(struct mpnet_iface *ifp)
{
        mpnet_timer_init(&ifp->in6->nd_timer, nd6_timer_fn, ifp);
        atomic_store(&ifp->in6->mtu6, ifp->mtu);
        ifp->in6->nd_reachable_base = ND6_REACHABLE_NS;
        ifp->in6->nd_reachable_ns = nd6_reachable_time(ifp);
        ifp->in6->nd_retrans_ns = ND6_RETRANS_NS;
        ifp->in6->cur_hop_limit = IP6_HLIM_DEFAULT;
        ifp->in6->redirect_accept = true;
        atomic_store(&ifp->in6->redirect_send, true);
        ifp->in6->mld_next = ifp->in6->mld_query_at = MPNET_TIME_NEVER;
}
