/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The RIB beside an LPM's lookup tables, once for both families (lpm4.c,
 * lpm6.c): for each prefix length, an open-addressing hash table (linear
 * probing, backward-shift delete) of the routes of that length, as VPP
 * keeps its FIB beside its mtrie. An insert or an exact query is one probe;
 * the route covering a prefix is the first hit probing the shorter lengths
 * that hold routes, longest first (each LPM's rib_cover).
 *
 * A template, included once by each LPM, which defines before it:
 *   RIB_KEY        the key type (a prefix with its host bits clear);
 *   RIB_SLOT_ATTR  attributes of the slot (packing), or nothing;
 *   rib_hash(key, cap), a slot index below cap (a power of two).
 * It defines struct rib_slot, struct rib_len and static functions, so each
 * family's code is what it was when written out twice.
 *
 * Synchronisation: the LPM's writer only (readers use the lookup tables).
 */
#ifndef RIB_KEY
#error "define RIB_KEY and rib_hash() before including rib_tmpl.h"
#endif

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct rib_slot {
        RIB_KEY key;  /* prefix, host bits clear */
        uint32_t val; /* RIB_USED | nh, or 0 for a free slot */
} RIB_SLOT_ATTR;

struct rib_len {
        struct rib_slot *slot;
        uint32_t cap; /* 0, or a power of two >= RIB_MIN_CAP */
        uint32_t n;
};

#define RIB_USED    (1u << 31)
#define RIB_MIN_CAP 8u

/* Bit plen of nonempty: some route of length plen. */
static inline bool rib_has_len(const uint64_t *nonempty, unsigned plen)
{
        return (nonempty[plen / 64] >> (plen % 64) & 1) != 0;
}

static struct rib_slot *rib_lookup(const struct rib_len *t, RIB_KEY key)
{
        if (t->n == 0)
                return NULL;
        for (uint32_t i = rib_hash(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
                struct rib_slot *s = &t->slot[i];

                if ((s->val & RIB_USED) == 0)
                        return NULL;
                if (s->key == key)
                        return s;
        }
}

/* The free slot where key goes (key is not there). */
static struct rib_slot *rib_free_slot(const struct rib_len *t, RIB_KEY key)
{
        uint32_t i = rib_hash(key, t->cap);

        while ((t->slot[i].val & RIB_USED) != 0)
                i = (i + 1) & (t->cap - 1);
        return &t->slot[i];
}

static int rib_resize(struct rib_len *t, uint32_t cap)
{
        struct rib_len nt = {.cap = cap, .n = t->n};

        nt.slot = calloc(cap, sizeof(*nt.slot));
        if (nt.slot == NULL)
                return -ENOMEM;
        for (uint32_t i = 0; i < t->cap; i++)
                if ((t->slot[i].val & RIB_USED) != 0)
                        *rib_free_slot(&nt, t->slot[i].key) = t->slot[i];
        free(t->slot);
        *t = nt;
        return 0;
}

/* Insert or replace key/plen -> nh in rib (indexed by length).
 * @return 1 when replaced, 0 when new, -ENOMEM. */
static int rib_insert(struct rib_len *rib, uint64_t *nonempty, RIB_KEY key, unsigned plen,
                      uint32_t nh)
{
        struct rib_len *t = &rib[plen];
        struct rib_slot *s = rib_lookup(t, key);
        int rc;

        if (s != NULL) {
                s->val = RIB_USED | nh;
                return 1;
        }
        if ((t->n + 1) * 4 > t->cap * 3) { /* load factor at most 3/4 */
                rc = rib_resize(t, t->cap != 0 ? t->cap * 2 : RIB_MIN_CAP);
                if (rc < 0)
                        return rc;
        }
        s = rib_free_slot(t, key);
        s->key = key;
        s->val = RIB_USED | nh;
        t->n++;
        nonempty[plen / 64] |= 1ull << (plen % 64);
        return 0;
}

/* Remove key/plen. @return 0 or -ENOENT. */
static int rib_remove(struct rib_len *rib, uint64_t *nonempty, RIB_KEY key, unsigned plen)
{
        struct rib_len *t = &rib[plen];
        struct rib_slot *s = rib_lookup(t, key);
        uint32_t mask = t->cap - 1, i, j;

        if (s == NULL)
                return -ENOENT;
        /* Backward shift: pull later slots of the probe run into the hole
         * unless their home lies cyclically in (hole, slot]. */
        i = (uint32_t)(s - t->slot);
        for (j = (i + 1) & mask; (t->slot[j].val & RIB_USED) != 0; j = (j + 1) & mask) {
                uint32_t k = rib_hash(t->slot[j].key, t->cap);

                if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                        continue;
                t->slot[i] = t->slot[j];
                i = j;
        }
        t->slot[i].val = 0;
        if (--t->n == 0) {
                nonempty[plen / 64] &= ~(1ull << (plen % 64));
                free(t->slot);
                *t = (struct rib_len){0};
        } else if (t->cap > RIB_MIN_CAP && t->n * 8 < t->cap) {
                (void)rib_resize(t, t->cap / 2); /* best effort: stays larger if it fails */
        }
        return 0;
}
