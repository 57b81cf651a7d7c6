/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ephemeral port selection (l4/port.h): RFC 6056 Algorithm 4 with a keyed
 * hash, random table increments, and RSS steering by the hash's linearity.
 */
#include <errno.h>
#include <string.h>

#include "base/siphash.h"
#include "l4/port.h"
#include "mpnet/wire/ipv4.h"
#include "stack/stack_priv.h"

#define PORT_JITTER 16 /* table[index] moves on by up to this much more */

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void port_picker_init(struct port_picker *pp, const uint8_t secret[16])
{
        memcpy(pp->key, secret, 16);
        atomic_init(&pp->range, (uint32_t)PORT_EPH_LO << 16 | PORT_EPH_HI);
        atomic_init(&pp->n_picks, 0);
        /* RFC 6056 3.3.4 starts the table at zero: the keyed offset F
         * already makes the ports unpredictable, and a keyed fill would
         * cost 4096 hashes for every stack made. */
        for (uint32_t i = 0; i < PORT_TABLE_LEN; i++)
                atomic_init(&pp->table[i], 0);
}

int port_range_set(struct port_picker *pp, uint16_t lo, uint16_t hi)
{
        if (lo == 0 || lo > hi)
                return -EINVAL;
        atomic_store_explicit(&pp->range, (uint32_t)lo << 16 | hi, memory_order_relaxed);
        return 0;
}

void port_range_get(const struct port_picker *pp, uint16_t *lo, uint16_t *hi)
{
        uint32_t r = atomic_load_explicit(&((struct port_picker *)pp)->range, memory_order_relaxed);

        *lo = (uint16_t)(r >> 16);
        *hi = (uint16_t)r;
}

static bool is_v4mapped(const uint8_t a[16])
{
        return memcmp(a, v4mapped_prefix, 12) == 0;
}

static bool is_any(const uint8_t a[16])
{
        static const uint8_t zero[16];

        return memcmp(a, zero, 16) == 0;
}

/* The steering of one pick: the reply flow's hash with local port 0, and
 * the input position of the local port in it (the destination port). */
struct steer_ctx {
        const struct rx_steer *st;
        const uint32_t *hi_tbl, *lo_tbl; /* the port's bytes' contributions */
        uint32_t h0;
};

static bool steer_setup(struct steer_ctx *sc, const struct port_flow *f, const struct rx_steer *st)
{
        struct rx_tuple t;
        unsigned pos;

        sc->st = NULL;
        if (st == NULL || st->rss == NULL || is_any(f->faddr) ||
            (f->proto != MPNET_IPPROTO_TCP && f->proto != MPNET_IPPROTO_UDP))
                return false;
        /* The reply: from the peer to us, our port the destination. */
        t.fam = is_v4mapped(f->laddr) && is_v4mapped(f->faddr) ? 4 : 6;
        t.proto = f->proto;
        t.sport = f->fport;
        t.dport = 0;
        memcpy(t.saddr, f->faddr, 16);
        memcpy(t.daddr, f->laddr, 16);
        pos = t.fam == 4 ? MPNET_RSS_IP4_L4_LEN - 2 : MPNET_RSS_IP6_L4_LEN - 2;
        sc->st = st;
        sc->h0 = rx_tuple_hash(st->rss, &t); /* port 0 adds nothing */
        sc->hi_tbl = st->rss->tbl[pos];
        sc->lo_tbl = st->rss->tbl[pos + 1];
        return true;
}

static inline bool steer_ok(const struct steer_ctx *sc, uint16_t p)
{
        return sc->st == NULL ||
               rx_steer_hit(sc->st, sc->h0 ^ sc->hi_tbl[p >> 8] ^ sc->lo_tbl[p & 0xff]);
}

static int pick(struct port_picker *pp, const struct port_flow *f, const struct rx_steer *st,
                struct pcb_table *t, const struct pcb_ent *e, bool bind)
{
        uint8_t m[35];
        uint64_t hv, jit, n_try;
        uint32_t offset, idx, n;
        uint16_t lo, hi, start;
        struct steer_ctx sc;

        port_range_get(pp, &lo, &hi);
        n = (uint32_t)hi - lo + 1;
        memcpy(m, f->laddr, 16);
        memcpy(m + 16, f->faddr, 16);
        m[32] = (uint8_t)(f->fport >> 8);
        m[33] = (uint8_t)f->fport;
        m[34] = f->proto;
        hv = siphash24(pp->key, m, sizeof(m));
        offset = (uint32_t)hv;                       /* F(), RFC 6056 3.3.4 */
        idx = (uint32_t)(hv >> 32) % PORT_TABLE_LEN; /* G() */
        steer_setup(&sc, f, st);
        start = atomic_load_explicit(&pp->table[idx], memory_order_relaxed);
        for (uint32_t i = 0; i < n; i++) {
                uint16_t port = (uint16_t)(lo + ((uint64_t)offset + start + i) % n);
                int rc;

                if (!steer_ok(&sc, port) || !pcb_port_free(t, port, e))
                        continue;
                if (bind) {
                        rc = pcb_bind(t, port, e);
                        if (rc == -EADDRINUSE) /* taken meanwhile */
                                continue;
                        if (rc < 0)
                                return rc;
                }
                n_try = atomic_fetch_add_explicit(&pp->n_picks, 1, memory_order_relaxed);
                jit = siphash24(pp->key, &n_try, sizeof(n_try)) % PORT_JITTER;
                atomic_fetch_add_explicit(&pp->table[idx], (uint16_t)(i + 1 + jit),
                                          memory_order_relaxed);
                return port;
        }
        return -EADDRNOTAVAIL;
}

int port_pick(struct port_picker *pp, const struct port_flow *f, const struct rx_steer *st,
              struct pcb_table *t, const struct pcb_ent *e)
{
        return pick(pp, f, st, t, e, true);
}

int port_pick_peek(struct port_picker *pp, const struct port_flow *f, const struct rx_steer *st,
                   const struct pcb_table *t, const struct pcb_ent *e)
{
        return pick(pp, f, st, (struct pcb_table *)t, e, false);
}

unsigned port_flow_home(const struct mpnet_stack *s, int ifindex, const struct rx_tuple *t,
                        uint32_t hash)
{
        int c = stack_rx_ctx(s, ifindex, t);

        return c >= 0 ? (unsigned)c : stack_flow_owner(s, hash);
}

struct mpnet_sock *port_flow_sock(const struct mpnet_stack *s, const struct pcb_table *t,
                                  const struct pcb_key *k, uint8_t proto, uint32_t hash)
{
        struct rx_tuple rt = {.fam = k->fam, .proto = proto, .sport = k->sport, .dport = k->dport};

        memcpy(rt.saddr, k->saddr, 16);
        memcpy(rt.daddr, k->daddr, 16);
        return pcb_lookup(t, k, port_flow_home(s, k->ifindex, &rt, hash), hash);
}
