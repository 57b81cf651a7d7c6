/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Port sets are kept most specific first (the entry's score without the
 * per-packet bonuses, below), most recent first among equals, so a lookup
 * stops at the first level below a match: the bonuses (2 + 1) never make up
 * a level (4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/zalloc.h"
#include "l4/pcb.h"

#define SCORE_LADDR 4
/* Linux compute_score gives 4 for the peer's address and 4 for its port: a
 * connected socket beats one bound to an address, as FreeBSD's exact
 * 4-tuple match comes before any wildcard. */
#define SCORE_CONN 8
#define SCORE_BIF  4
#define SCORE_FAM4 2
#define SCORE_HOME 1

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_any(const uint8_t a[16])
{
        static const uint8_t zero[16];

        return memcmp(a, zero, 16) == 0;
}

static bool is_v4mapped(const uint8_t a[16])
{
        return memcmp(a, v4mapped_prefix, 12) == 0;
}

/* What an entry receives, per family: Linux ipv6_rcv_saddr_equal's cases. A
 * dual-stack entry on :: takes both; on a v4-mapped address only IPv4; on
 * another IPv6 address only IPv6. */
static bool takes_v4(const struct pcb_ent *e)
{
        return e->fam == PCB_FAM4 ||
               (e->fam == PCB_FAM46 && (is_any(e->laddr) || is_v4mapped(e->laddr)));
}

static bool takes_v6(const struct pcb_ent *e)
{
        return e->fam == PCB_FAM6 || (e->fam == PCB_FAM46 && !is_v4mapped(e->laddr));
}

static bool addr_meets(const uint8_t a[16], const uint8_t b[16])
{
        return is_any(a) || is_any(b) || memcmp(a, b, 16) == 0;
}

static bool overlaps(const struct pcb_ent *a, const struct pcb_ent *b)
{
        if (a->bound_if != 0 && b->bound_if != 0 && a->bound_if != b->bound_if)
                return false;
        if (!addr_meets(a->laddr, b->laddr))
                return false;
        return (takes_v4(a) && takes_v4(b)) || (takes_v6(a) && takes_v6(b));
}

static bool may_share(const struct pcb_ent *a, const struct pcb_ent *b)
{
        return ((a->flags & b->flags) & (PCB_F_REUSEADDR | PCB_F_REUSEPORT)) != 0;
}

static bool same_group_key(const struct pcb_ent *a, const struct pcb_ent *b)
{
        return (a->flags & b->flags & PCB_F_REUSEPORT) && a->fam == b->fam &&
               a->bound_if == b->bound_if && memcmp(a->laddr, b->laddr, 16) == 0;
}

static unsigned spec(const struct pcb_ent *e)
{
        return (is_any(e->laddr) ? 0 : SCORE_LADDR) +
               (e->flags & PCB_F_CONNECTED ? SCORE_CONN : 0) + (e->bound_if != 0 ? SCORE_BIF : 0);
}

static bool valid(const struct pcb_ent *e)
{
        if (e->so == NULL)
                return false;
        switch (e->fam) {
        case PCB_FAM4:
                return is_any(e->laddr) || is_v4mapped(e->laddr);
        case PCB_FAM6: /* RFC 3493 5.3: a V6ONLY socket has no IPv4 address */
                return !is_v4mapped(e->laddr);
        case PCB_FAM46:
                return true;
        default:
                return false;
        }
}

struct pcb_table *pcb_table_create(pcb_retire_fn retire, void *arg)
{
        struct pcb_table *t = zalloc_lines(sizeof(*t));

        if (t == NULL)
                return NULL;
        if (pthread_mutex_init(&t->lock, NULL) != 0) {
                zfree_lines(t);
                return NULL;
        }
        t->retire = retire;
        t->retire_arg = arg;
        return t;
}

void pcb_set_free(struct pcb_set *set)
{
        free(set);
}

void pcb_table_destroy(struct pcb_table *t)
{
        if (t == NULL)
                return;
        struct pcb_set *_Atomic *slot = atomic_load_explicit(&t->slot, memory_order_relaxed);

        for (unsigned w = 0; slot != NULL && w < 2; w++) {
                for (uint64_t m = t->pages_used[w]; m != 0; m &= m - 1) {
                        size_t first = ((size_t)w * 64 + (size_t)__builtin_ctzll(m)) * 512;

                        for (size_t p = first; p < first + 512; p++)
                                pcb_set_free(atomic_load_explicit(&slot[p], memory_order_relaxed));
                }
        }
        zfree_lines(slot);
        pthread_mutex_destroy(&t->lock);
        zfree_lines(t);
}

static struct pcb_set *set_alloc(unsigned n)
{
        struct pcb_set *s = malloc(sizeof(*s) + (size_t)n * sizeof(struct pcb_ent));

        if (s != NULL)
                s->n = (uint16_t)n;
        return s;
}

/* Under the lock: the slots, made on the first bind. @return 0, -ENOMEM. */
static int slots_make(struct pcb_table *t)
{
        struct pcb_set *_Atomic *slot;

        if (atomic_load_explicit(&t->slot, memory_order_relaxed) != NULL)
                return 0;
        slot = zalloc_lines(65536 * sizeof(*slot));
        if (slot == NULL)
                return -ENOMEM;
        atomic_store_explicit(&t->slot, slot, memory_order_release);
        return 0;
}

/* Under the lock: publish next (NULL empties the port), retire the old. */
static void publish(struct pcb_table *t, uint16_t port, struct pcb_set *next)
{
        struct pcb_set *old = pcb_set_get(t, port);

        t->pages_used[port >> 15] |= 1ull << ((port >> 9) & 63);
        if (next != NULL) {
                next->gen = ++t->gen;
                next->n_groups = 0;
                for (unsigned i = 0; i < next->n; i++)
                        if (next->e[i].group > next->n_groups)
                                next->n_groups = next->e[i].group;
        }
        atomic_store_explicit(&atomic_load_explicit(&t->slot, memory_order_relaxed)[port], next,
                              memory_order_release);
        if (old != NULL)
                t->retire(t->retire_arg, old);
}

static int find(const struct pcb_set *s, const struct mpnet_sock *so)
{
        for (unsigned i = 0; s != NULL && i < s->n; i++)
                if (s->e[i].so == so)
                        return (int)i;
        return -1;
}

static bool group_used(const struct pcb_set *s, uint16_t g, int skip)
{
        for (unsigned i = 0; s != NULL && i < s->n; i++)
                if ((int)i != skip && s->e[i].group == g)
                        return true;
        return false;
}

/* The group e joins among the set's entries (skip: an index to ignore): an
 * existing one with its key, else the lowest free id, so ids stay below the
 * entry count however groups come and go. */
static uint16_t group_of(const struct pcb_set *s, const struct pcb_ent *e, int skip)
{
        uint16_t g = 1;

        if (!(e->flags & PCB_F_REUSEPORT))
                return 0;
        for (unsigned i = 0; s != NULL && i < s->n; i++)
                if ((int)i != skip && same_group_key(&s->e[i], e))
                        return s->e[i].group;
        while (group_used(s, g, skip))
                g++;
        return g;
}

/* A copy of old (less the entry at drop, when >= 0) with e inserted ahead
 * of the entries no more specific than it. */
static struct pcb_set *with_entry(const struct pcb_set *old, int drop, const struct pcb_ent *e)
{
        unsigned n_old = old != NULL ? old->n : 0, j = 0;
        struct pcb_set *s = set_alloc(n_old + 1 - (drop >= 0));
        bool placed = false;

        if (s == NULL)
                return NULL;
        for (unsigned i = 0; i < n_old; i++) {
                if ((int)i == drop)
                        continue;
                if (!placed && spec(&old->e[i]) <= spec(e)) {
                        s->e[j++] = *e;
                        placed = true;
                }
                s->e[j++] = old->e[i];
        }
        if (!placed)
                s->e[j++] = *e;
        return s;
}

static int bind_locked(struct pcb_table *t, uint16_t port, const struct pcb_ent *e)
{
        struct pcb_set *old = pcb_set_get(t, port), *s;
        struct pcb_ent ne = *e;

        if (find(old, e->so) >= 0)
                return -EINVAL;
        if (old != NULL && old->n == UINT16_MAX)
                return -EADDRINUSE;
        for (unsigned i = 0; old != NULL && i < old->n; i++)
                if (overlaps(&old->e[i], e) && !may_share(&old->e[i], e))
                        return -EADDRINUSE;
        ne.group = group_of(old, e, -1);
        s = with_entry(old, -1, &ne);
        if (s == NULL)
                return -ENOMEM;
        publish(t, port, s);
        return 0;
}

bool pcb_port_free(const struct pcb_table *t, uint16_t port, const struct pcb_ent *e)
{
        const struct pcb_set *s = pcb_set_get(t, port);

        if (s != NULL && s->n == UINT16_MAX)
                return false;
        for (unsigned i = 0; s != NULL && i < s->n; i++)
                if (overlaps(&s->e[i], e) && !may_share(&s->e[i], e))
                        return false;
        return true;
}

int pcb_bind(struct pcb_table *t, uint16_t port, const struct pcb_ent *e)
{
        int rc;

        if (port == 0 || !valid(e))
                return -EINVAL;
        pthread_mutex_lock(&t->lock);
        rc = slots_make(t);
        if (rc == 0)
                rc = bind_locked(t, port, e);
        pthread_mutex_unlock(&t->lock);
        return rc;
}

static int update_locked(struct pcb_table *t, uint16_t port, const struct pcb_ent *e)
{
        struct pcb_set *old = pcb_set_get(t, port), *s;
        int i = find(old, e->so);
        struct pcb_ent ne = *e;

        if (i < 0)
                return -ENOENT;
        ne.group = same_group_key(&old->e[i], e) ? old->e[i].group : group_of(old, e, i);
        s = with_entry(old, i, &ne);
        if (s == NULL)
                return -ENOMEM;
        publish(t, port, s);
        return 0;
}

int pcb_update(struct pcb_table *t, uint16_t port, const struct pcb_ent *e)
{
        int rc;

        if (!valid(e))
                return -EINVAL;
        pthread_mutex_lock(&t->lock);
        rc = update_locked(t, port, e);
        pthread_mutex_unlock(&t->lock);
        return rc;
}

static int unbind_locked(struct pcb_table *t, uint16_t port, const struct mpnet_sock *so)
{
        struct pcb_set *old = pcb_set_get(t, port), *s = NULL;
        int i = find(old, so);

        if (i < 0)
                return -ENOENT;
        if (old->n > 1) {
                s = set_alloc(old->n - 1u);
                if (s == NULL)
                        return -ENOMEM;
                memcpy(s->e, old->e, (size_t)i * sizeof(old->e[0]));
                memcpy(s->e + i, old->e + i + 1, (size_t)(old->n - i - 1) * sizeof(old->e[0]));
        }
        publish(t, port, s);
        return 0;
}

int pcb_unbind(struct pcb_table *t, uint16_t port, const struct mpnet_sock *so)
{
        int rc;

        pthread_mutex_lock(&t->lock);
        rc = unbind_locked(t, port, so);
        pthread_mutex_unlock(&t->lock);
        return rc;
}

/* -1 when e does not take the datagram, else its score. */
static int score(const struct pcb_ent *e, const struct pcb_key *k, unsigned w)
{
        int sc;

        if (k->fam == 4 ? !takes_v4(e) : !takes_v6(e))
                return -1;
        if (!is_any(e->laddr) && memcmp(e->laddr, k->daddr, 16) != 0)
                return -1;
        if ((e->flags & PCB_F_CONNECTED) &&
            (e->fport != k->sport || memcmp(e->faddr, k->saddr, 16) != 0))
                return -1;
        if (e->bound_if != 0 && e->bound_if != k->ifindex)
                return -1;
        sc = (int)spec(e);
        if (k->fam == 4 && e->fam == PCB_FAM4)
                sc += SCORE_FAM4;
        if (e->home == w)
                sc += SCORE_HOME;
        return sc;
}

static uint32_t reciprocal_scale(uint32_t hash, uint32_t n)
{
        return (uint32_t)(((uint64_t)hash * n) >> 32);
}

static bool is_member(const struct pcb_ent *e, uint16_t group, bool on_w, unsigned w)
{
        return e->group == group && !(e->flags & PCB_F_CONNECTED) && (!on_w || e->home == w);
}

/* Linux reuseport_select_sock: the unconnected members (all of one family,
 * address and interface, so all take the datagram) in set order. */
static const struct pcb_ent *select_member(const struct pcb_set *s, const struct pcb_ent *win,
                                           unsigned w, uint32_t hash)
{
        unsigned n_all = 0, n_w = 0, pick;
        bool on_w;

        for (unsigned i = 0; i < s->n; i++) {
                if (is_member(&s->e[i], win->group, false, w)) {
                        n_all++;
                        n_w += s->e[i].home == w;
                }
        }
        if (n_all == 0)
                return win;
        on_w = n_w > 0;
        pick = reciprocal_scale(hash, on_w ? n_w : n_all);
        for (unsigned i = 0; i < s->n; i++)
                if (is_member(&s->e[i], win->group, on_w, w) && pick-- == 0)
                        return &s->e[i];
        return win;
}

/* The winner in set s of the port, before its group's choice. */
static const struct pcb_ent *set_best(const struct pcb_set *s, const struct pcb_key *k, unsigned w)
{
        const struct pcb_ent *best = NULL;
        int best_sc = -1;

        if (s == NULL || (k->fam == 6 && is_v4mapped(k->saddr)))
                return NULL;
        for (unsigned i = 0; i < s->n; i++) {
                const struct pcb_ent *e = &s->e[i];
                int sc;

                if (best != NULL && spec(e) < spec(best))
                        break;
                sc = score(e, k, w);
                if (sc > best_sc) {
                        best = e;
                        best_sc = sc;
                }
        }
        return best;
}

static bool in_group(const struct pcb_ent *e)
{
        return e != NULL && e->group != 0 && !(e->flags & PCB_F_CONNECTED);
}

/* pcb_lookup() in set s of the port. */
static struct mpnet_sock *set_lookup(const struct pcb_set *s, const struct pcb_key *k, unsigned w,
                                     uint32_t hash)
{
        const struct pcb_ent *best = set_best(s, k, w);

        if (in_group(best))
                best = select_member(s, best, w, hash);
        return best != NULL ? best->so : NULL;
}

struct mpnet_sock *pcb_lookup_lazy(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                                   uint32_t (*hf)(const void *arg), const void *arg, uint32_t *hash)
{
        const struct pcb_set *s = pcb_set_get(t, k->dport);
        const struct pcb_ent *best = set_best(s, k, w);

        if (in_group(best)) {
                *hash = hf(arg);
                best = select_member(s, best, w, *hash);
        }
        return best != NULL ? best->so : NULL;
}

struct mpnet_sock *pcb_lookup(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                              uint32_t hash)
{
        return set_lookup(pcb_set_get(t, k->dport), k, w, hash);
}

struct mpnet_sock *pcb_lookup_cached(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                                     uint32_t hash, struct pcb_cache *c)
{
        const struct pcb_set *s = pcb_set_get(t, k->dport);
        unsigned i = (k->dport ^ k->sport ^ hash) & (PCB_CACHE_N - 1);

        if (s == NULL)
                return NULL;
        /* The set's gen as well as its address: a freed set's memory may
         * hold a later one. */
        if (c->e[i].set == s && c->e[i].gen == s->gen && c->e[i].hash == hash &&
            memcmp(&c->e[i].k, k, sizeof(*k)) == 0)
                return c->e[i].so;
        c->e[i].set = s;
        c->e[i].gen = s->gen;
        c->e[i].hash = hash;
        c->e[i].k = *k;
        c->e[i].so = set_lookup(s, k, w, hash);
        return c->e[i].so;
}

/* An earlier entry of the same group also takes the datagram. */
static bool group_seen(const struct pcb_set *s, unsigned i, const struct pcb_key *k, unsigned w)
{
        for (unsigned j = 0; j < i; j++)
                if (s->e[j].group == s->e[i].group && !(s->e[j].flags & PCB_F_CONNECTED) &&
                    score(&s->e[j], k, w) >= 0)
                        return true;
        return false;
}

unsigned pcb_match_all(const struct pcb_table *t, const struct pcb_key *k, unsigned w,
                       uint32_t hash, bool group_once, struct mpnet_sock **out, unsigned max)
{
        const struct pcb_set *s = pcb_set_get(t, k->dport);
        unsigned n = 0;

        if (s == NULL || (k->fam == 6 && is_v4mapped(k->saddr)))
                return 0;
        for (unsigned i = 0; i < s->n; i++) {
                const struct pcb_ent *e = &s->e[i];

                if (score(e, k, w) < 0)
                        continue;
                if (group_once && e->group != 0 && !(e->flags & PCB_F_CONNECTED)) {
                        if (group_seen(s, i, k, w))
                                continue;
                        e = select_member(s, e, w, hash);
                }
                if (n < max)
                        out[n] = e->so;
                n++;
        }
        return n;
}
