/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The path MTU cache (l3/pmtu.h): a direct-mapped table of PMTU_SIZE
 * entries in struct mpnet_stack, each a sequence lock of atomic words so
 * that workers read it without a lock while the control thread writes.
 */
#include <errno.h>

#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/ipv6.h"
#include "fib/fib_priv.h"
#include "l3/ip4.h"
#include "l3/ip6.h"
#include "l3/ip_iface.h"
#include "l3/pmtu.h"
#include "stack/iface.h"
#include "stack/stack_priv.h"

static struct pmtu_entry *pmtu_slot(const struct mpnet_stack *s, const uint8_t *dst)
{
        uint64_t a, b;

        memcpy(&a, dst, 8);
        memcpy(&b, dst + 8, 8);
        return (struct pmtu_entry *)&s->pmtu[((a ^ b * 0x9e3779b97f4a7c15ull) >> 40) % PMTU_SIZE];
}

bool pmtu_any(const struct mpnet_stack *s)
{
        return atomic_load_explicit(&((struct mpnet_stack *)s)->pmtu_used, memory_order_relaxed) !=
               0;
}

uint32_t pmtu_get(const struct mpnet_stack *s, const uint8_t dst[16], uint64_t now)
{
        struct pmtu_entry *e;
        uint64_t d[2], want[2], until;
        uint32_t q, mtu;

        if (!pmtu_any(s))
                return 0;
        e = pmtu_slot(s, dst);
        memcpy(want, dst, 16);
        do {
                q = atomic_load_explicit(&e->seq, memory_order_acquire);
                d[0] = atomic_load_explicit(&e->dst[0], memory_order_relaxed);
                d[1] = atomic_load_explicit(&e->dst[1], memory_order_relaxed);
                mtu = atomic_load_explicit(&e->mtu, memory_order_relaxed);
                until = atomic_load_explicit(&e->until, memory_order_relaxed);
                atomic_thread_fence(memory_order_acquire);
        } while ((q & 1) != 0 || q != atomic_load_explicit(&e->seq, memory_order_relaxed));
        if (mtu == 0 || d[0] != want[0] || d[1] != want[1] || until <= now)
                return 0;
        return mtu;
}

bool pmtu_lower(struct mpnet_stack *s, const uint8_t dst[16], uint32_t mtu)
{
        struct pmtu_entry *e = pmtu_slot(s, dst);
        uint32_t cur = pmtu_get(s, dst, s->now), q;
        uint64_t d[2];

        if (mtu == 0 || (cur != 0 && mtu >= cur))
                return false;
        memcpy(d, dst, 16);
        q = atomic_load_explicit(&e->seq, memory_order_relaxed);
        atomic_store_explicit(&e->seq, q + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&e->dst[0], d[0], memory_order_relaxed);
        atomic_store_explicit(&e->dst[1], d[1], memory_order_relaxed);
        atomic_store_explicit(&e->mtu, mtu, memory_order_relaxed);
        atomic_store_explicit(&e->until, s->now + PMTU_LIFETIME_NS, memory_order_relaxed);
        atomic_store_explicit(&e->seq, q + 2, memory_order_release);
        atomic_fetch_add_explicit(&s->pmtu_used, 1, memory_order_relaxed);
        return true;
}

/* RFC 1191 7: the plateaus of common MTUs, for a router that gives none. */
static const uint16_t plateau[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};

void pmtu4_frag_needed(struct mpnet_stack *s, uint32_t dst, uint32_t mtu, uint16_t quoted_len)
{
        uint8_t d[16];

        if (mtu < 68) { /* RFC 1191 5: zero from a router before RFC 1191 */
                mtu = 68;
                for (unsigned i = 0; i < sizeof(plateau) / sizeof(plateau[0]); i++) {
                        if (plateau[i] < quoted_len) {
                                mtu = plateau[i];
                                break;
                        }
                }
        }
        if (mtu < PMTU4_MIN)
                mtu = PMTU4_MIN;
        memset(d, 0, 10);
        d[10] = d[11] = 0xff;
        mpnet_put_be32(d + 12, dst);
        if (pmtu_lower(s, d, mtu))
                mpnet_counter_inc(s->ctr, graph_mod_ctr(&s->g, MOD_icmp4, ICMP4_CTR_PMTU));
}

uint32_t path_mtu(struct mpnet_stack *s, const uint8_t dst[16], int oif, uint64_t now)
{
        static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        struct mpnet_iface *ifp = NULL;
        uint32_t mtu, pmtu;

        if (oif >= 1 && oif <= STACK_MAX_IFACES)
                ifp = __atomic_load_n(&s->ifs[oif], __ATOMIC_ACQUIRE);
        if (memcmp(dst, pfx, 12) == 0) {
                uint32_t d = (uint32_t)dst[12] << 24 | (uint32_t)dst[13] << 16 |
                             (uint32_t)dst[14] << 8 | dst[15];

                if (ifp == NULL) {
                        const struct fib_nh *nh = fib4_lookup(&s->fib, fib4_table(s, 0), d);

                        if (nh == NULL || nh->type > MPNET_NH_LOCAL)
                                return 0;
                        ifp = nh->paths[0].ifp;
                }
                mtu = atomic_load_explicit(&ifp->mtu, memory_order_relaxed);
        } else {
                if (ifp == NULL && (ifp = ip6_route_iface(s, dst)) == NULL)
                        return 0;
                mtu = atomic_load_explicit(&ifp->in6->mtu6, memory_order_relaxed);
        }
        pmtu = pmtu_get(s, dst, now);
        return pmtu != 0 && pmtu < mtu ? pmtu : mtu;
}
