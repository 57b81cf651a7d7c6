/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timer wheel: level L has 64 slots of 64^L ticks. A timer due in d ticks sits
 * at the lowest level whose span covers d, in the slot of its expiry tick at
 * that level's granularity. When the tick crosses a level boundary the slot for
 * the new period is cascaded down (the classic BSD/Linux scheme): a timer at
 * level L is moved when the tick reaches its expiry rounded down to 64^L, so it
 * lands one level lower with less than 64^L ticks to go. Timers further away
 * than the top level's span wait in its farthest slot and are re-placed each
 * time that slot cascades.
 *
 * Timers already due when armed go on a separate list that the next run fires
 * before advancing, so a run at the current time makes progress.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mpnet/clock.h"
#include "mpnet/timer.h"

#define LEVELS        4
#define SLOT_BITS     6
#define SLOTS         (1u << SLOT_BITS)
#define SLOT_MASK     (SLOTS - 1)
#define LEVEL_SPAN(l) (1ull << (SLOT_BITS * ((l) + 1)))

struct mpnet_timer_wheel {
        uint64_t tick_ns;
        uint64_t cur; /* last tick processed */
        unsigned count;
        struct mpnet_timer *due;   /* armed in the past: fire on the next run */
        uint64_t occupied[LEVELS]; /* bit s set when slot s is non-empty */
        struct mpnet_timer *slot[LEVELS][SLOTS];
};

struct mpnet_timer_wheel *mpnet_timer_wheel_create(uint64_t tick_ns, uint64_t now_ns)
{
        struct mpnet_timer_wheel *w;

        if (tick_ns == 0) {
                errno = EINVAL;
                return NULL;
        }
        w = calloc(1, sizeof(*w));
        if (w == NULL)
                return NULL;
        w->tick_ns = tick_ns;
        w->cur = now_ns / tick_ns;
        return w;
}

void mpnet_timer_wheel_destroy(struct mpnet_timer_wheel *w)
{
        free(w);
}

void mpnet_timer_init(struct mpnet_timer *t, mpnet_timer_fn fn, void *arg)
{
        t->next = NULL;
        t->pprev = NULL;
        t->expire_tick = 0;
        t->fn = fn;
        t->arg = arg;
}

static void list_push(struct mpnet_timer **head, struct mpnet_timer *t)
{
        t->next = *head;
        if (t->next != NULL)
                t->next->pprev = &t->next;
        t->pprev = head;
        *head = t;
}

static void list_unlink(struct mpnet_timer *t)
{
        *t->pprev = t->next;
        if (t->next != NULL)
                t->next->pprev = t->pprev;
        t->next = NULL;
        t->pprev = NULL;
}

/* Keep a slot's occupancy bit true after a removal. */
static void slot_update(struct mpnet_timer_wheel *w, unsigned lvl, unsigned s)
{
        if (w->slot[lvl][s] == NULL)
                w->occupied[lvl] &= ~(1ull << s);
        else
                w->occupied[lvl] |= 1ull << s;
}

static void place(struct mpnet_timer_wheel *w, struct mpnet_timer *t)
{
        uint64_t e = t->expire_tick;
        uint64_t d;
        unsigned lvl, s;

        if (e <= w->cur) {
                list_push(&w->due, t);
                return;
        }
        d = e - w->cur;
        for (lvl = 0; lvl < LEVELS - 1; lvl++)
                if (d < LEVEL_SPAN(lvl))
                        break;
        if (d >= LEVEL_SPAN(LEVELS - 1))
                e = w->cur + LEVEL_SPAN(LEVELS - 1) - 1; /* park in the farthest slot */
        s = (e >> (SLOT_BITS * lvl)) & SLOT_MASK;
        list_push(&w->slot[lvl][s], t);
        w->occupied[lvl] |= 1ull << s;
}

/* Take a pending timer off whatever list holds it. */
static void unlink_timer(struct mpnet_timer_wheel *w, struct mpnet_timer *t)
{
        uintptr_t head = (uintptr_t)t->pprev;
        uintptr_t lo = (uintptr_t)&w->slot[0][0];

        list_unlink(t);
        w->count--;
        /* The list head is either inside w->slot or is the previous timer's next
         * field; only a head inside the array changes occupancy. */
        if (head >= lo && head < lo + sizeof(w->slot)) {
                size_t i = (head - lo) / sizeof(w->slot[0][0]);
                slot_update(w, (unsigned)(i / SLOTS), (unsigned)(i % SLOTS));
        }
}

void mpnet_timer_arm(struct mpnet_timer_wheel *w, struct mpnet_timer *t, uint64_t expire_ns)
{
        if (t->pprev != NULL)
                unlink_timer(w, t);
        /* Round up: a timer never fires early. */
        t->expire_tick = expire_ns / w->tick_ns + (expire_ns % w->tick_ns != 0);
        place(w, t);
        w->count++;
}

void mpnet_timer_cancel(struct mpnet_timer_wheel *w, struct mpnet_timer *t)
{
        if (t->pprev != NULL)
                unlink_timer(w, t);
}

/* Fire every timer on a detached list. Callbacks may arm or cancel timers on
 * it: each is unlinked before its callback runs, and the head is re-read. */
static unsigned fire_list(struct mpnet_timer_wheel *w, struct mpnet_timer **head, uint64_t now)
{
        unsigned n = 0;

        while (*head != NULL) {
                struct mpnet_timer *t = *head;

                list_unlink(t);
                w->count--;
                t->fn(t, t->arg, now);
                n++;
        }
        return n;
}

/* Move the timers of one slot to where they belong now. */
static void cascade(struct mpnet_timer_wheel *w, unsigned lvl, unsigned s)
{
        struct mpnet_timer *list = w->slot[lvl][s];

        w->slot[lvl][s] = NULL;
        w->occupied[lvl] &= ~(1ull << s);
        if (list != NULL)
                list->pprev = &list;
        while (list != NULL) {
                struct mpnet_timer *t = list;

                list_unlink(t);
                place(w, t);
        }
}

/* The first tick after w->cur at which an occupied slot of some level is
 * reached (level 0: its timers fire; above: it cascades), or UINT64_MAX.
 * Early (a cascade point before the earliest timer), never late. No list is
 * walked, so this costs the same with a million timers pending. */
static uint64_t next_tick(const struct mpnet_timer_wheel *w)
{
        uint64_t best = UINT64_MAX;

        for (unsigned lvl = 0; lvl < LEVELS; lvl++) {
                uint64_t occ = w->occupied[lvl];
                unsigned shift = SLOT_BITS * lvl;
                unsigned cur, rot, k;
                uint64_t when;

                if (occ == 0)
                        continue;
                cur = (unsigned)((w->cur >> shift) & SLOT_MASK);
                /* Rotate so that bit 0 is the slot after the current one. */
                rot = (cur + 1) & SLOT_MASK;
                occ = (occ >> rot) | (rot ? occ << (SLOTS - rot) : 0);
                k = 1 + (unsigned)__builtin_ctzll(occ); /* 1..64 periods ahead */
                when = ((w->cur >> shift) + k) << shift;
                if (when < best)
                        best = when;
        }
        return best;
}

unsigned mpnet_timer_wheel_run(struct mpnet_timer_wheel *w, uint64_t now_ns)
{
        uint64_t target = now_ns / w->tick_ns;
        unsigned fired = 0;

        fired += fire_list(w, &w->due, now_ns);
        while (w->cur < target) {
                struct mpnet_timer *list;
                uint64_t next = next_tick(w);
                unsigned lvl, s;

                /* Skip the ticks with nothing to do, where no slot of any
                 * level is reached: a run over a minute of virtual time
                 * with one timer an hour away visits only its cascades. */
                if (next > target) {
                        w->cur = target;
                        break;
                }
                w->cur = next;
                for (lvl = 1; lvl < LEVELS; lvl++) {
                        if ((w->cur & (LEVEL_SPAN(lvl - 1) - 1)) != 0)
                                break;
                }
                /* Cascade from the highest level that turned over, downwards. */
                while (--lvl >= 1)
                        cascade(w, lvl, (unsigned)((w->cur >> (SLOT_BITS * lvl)) & SLOT_MASK));
                s = (unsigned)(w->cur & SLOT_MASK);
                list = w->slot[0][s];
                w->slot[0][s] = NULL;
                w->occupied[0] &= ~(1ull << s);
                if (list != NULL) {
                        list->pprev = &list;
                        fired += fire_list(w, &list, now_ns);
                }
                /* Timers armed in the past by the callbacks fire in this run too. */
                fired += fire_list(w, &w->due, now_ns);
        }
        return fired;
}

uint64_t mpnet_timer_wheel_next(const struct mpnet_timer_wheel *w)
{
        uint64_t t;

        if (w->due != NULL)
                return w->cur * w->tick_ns;
        t = next_tick(w);
        return t == UINT64_MAX ? MPNET_TIME_NEVER : t * w->tick_ns;
}

/* Every timer of a list not pending. */
static void list_forget(struct mpnet_timer *t)
{
        while (t != NULL) {
                struct mpnet_timer *next = t->next;

                t->next = NULL;
                t->pprev = NULL;
                t = next;
        }
}

void mpnet_timer_wheel_clear(struct mpnet_timer_wheel *w, uint64_t now_ns)
{
        list_forget(w->due);
        w->due = NULL;
        for (unsigned lvl = 0; lvl < LEVELS; lvl++) {
                for (uint64_t occ = w->occupied[lvl]; occ != 0; occ &= occ - 1) {
                        unsigned s = (unsigned)__builtin_ctzll(occ);

                        list_forget(w->slot[lvl][s]);
                        w->slot[lvl][s] = NULL;
                }
                w->occupied[lvl] = 0;
        }
        w->count = 0;
        w->cur = now_ns / w->tick_ns;
}

unsigned mpnet_timer_wheel_count(const struct mpnet_timer_wheel *w)
{
        return w->count;
}
