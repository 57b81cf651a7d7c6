/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet pools.
 *
 * Synchronisation: a buffer records the slot whose cache it was allocated
 * from, its owner. Each thread slot has a private cache of up to
 * POOL_CACHE_MAX buffers, and a free on the owner's slot puts the buffer back
 * there with no atomic operation. A free on another slot adds the buffer to
 * that slot's private batch for the owner; a full batch (POOL_RET_BATCH
 * buffers) goes onto the owner's return list with one CAS. A batch travels
 * in one of its own buffers, the carrier, whose buffer holds the pointers to
 * the others. Freers only push onto a return list and every taker empties it
 * whole with one atomic exchange, so no element is ever popped and there is
 * no ABA. A slot whose cache runs empty unloads the carriers it took before
 * (its spill), then takes its return list, and only then goes to the shared
 * store: a stack of free buffers under a mutex, for the cold paths (the
 * first fill of a cache, a cache overflowing with its own frees, threads
 * without a slot, flushes, and a dry pool). In a steady flow from one slot to
 * another the allocating slot goes to the store only while its returns are
 * empty, for POOL_CACHE_BATCH buffers that the flow never puts back: the
 * lock count is bounded by the pool's size, not by the traffic.
 *
 * Threads without a slot allocate from the store and free to the owner's
 * return list (a batch of one), or to the store for a buffer they allocated.
 * A thread that finds its cache, its lists and the store empty moves the
 * other slots' return lists into the store (a reclaim) before giving up.
 *
 * Lock order: the store's mutex is the only lock and nothing is taken or
 * waited for while it is held.
 *
 * Life cycle: all buffers live in one mapping made at create time; nothing is
 * allocated on the packet path. Caches, spills, return lists and batches
 * belong to slots, not threads. Buffers freed after their owner's thread gave
 * up its slot wait on that slot's return list, counted free, until the next
 * holder of the slot allocates or a reclaim moves them to the store; none is
 * lost. A partly filled batch stays with the freeing slot until it fills or
 * that slot calls mpnet_pool_flush_cache(). Under AddressSanitizer a free
 * buffer's data is poisoned, the pointer array at the end of a travelling
 * carrier excepted, so a use after free is reported as it would be with
 * malloc.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mpnet/pkt.h"
#include "mpnet/thread.h"
#include "base/pkt_ext.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif

#define POOL_CACHE_MAX   256u
#define POOL_CACHE_BATCH 128u
/* Buffers in a full returned batch: the carrier and the pointers it holds. */
#define POOL_RET_BATCH 64u
#define RET_ARRAY_LEN  (POOL_RET_BATCH - 1u)
#define RET_ARRAY_SIZE (RET_ARRAY_LEN * sizeof(struct mpnet_pkt *))

#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p)       ASAN_POISON_MEMORY_REGION(mpnet_pkt_buf(p), MPNET_PKT_BUF_SIZE)
#define UNPOISON(p)     ASAN_UNPOISON_MEMORY_REGION(mpnet_pkt_buf(p), MPNET_PKT_BUF_SIZE)
#define UNPOISON_ARR(p) ASAN_UNPOISON_MEMORY_REGION(carrier_objs(p), RET_ARRAY_SIZE)
/* A poisoned gap after each buffer, so reading past the end of a frame placed
 * at the end of its buffer is caught (the next object would be valid memory). */
#define REDZONE MPNET_CACHE_LINE
#else
#define POISON(p)       ((void)(p))
#define UNPOISON(p)     ((void)(p))
#define UNPOISON_ARR(p) ((void)(p))
#define REDZONE         0u
#endif
#define OBJ_SIZE (sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE + REDZONE)

enum { PKT_FREE = 0xf5, PKT_USED = 0x05 };
/* The owner of a buffer allocated by a thread without a slot. */
#define OWNER_NONE 0xffu
static_assert(MPNET_MAX_SLOTS < OWNER_NONE, "a slot fits in mpnet_pkt.owner");
static_assert(RET_ARRAY_SIZE <= MPNET_PKT_DATA_SIZE, "a carrier's array fits in its buffer");

/* A batch one slot fills for one owner: its carrier and its buffers, the
 * carrier included. Only the filling slot writes it. */
struct pool_batch {
        struct mpnet_pkt *carrier;
        uint32_t n;
};

struct pool_cache {
        uint32_t n;
        uint32_t out_n;          /* buffers in out[], so counting needs no walk of it */
        struct mpnet_pkt *spill; /* carriers taken from the return list, not yet unloaded */
        uint64_t batches_sent;   /* to other slots' return lists */
        struct mpnet_pkt *objs[POOL_CACHE_MAX];
        struct pool_batch out[MPNET_MAX_SLOTS]; /* by owner */
} __attribute__((aligned(MPNET_CACHE_LINE)));

/* Written by every slot that frees the owner's buffers: a line of its own. */
struct pool_ret {
        struct mpnet_pkt *head; /* carriers linked by next: CAS push, exchange take */
        uint32_t n;             /* buffers on the list and in the owner's spill */
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct mpnet_pool {
        struct pool_cache cache[MPNET_MAX_SLOTS];
        struct pool_ret ret[MPNET_MAX_SLOTS];
        pthread_mutex_t lock;
        uint32_t n_free;      /* in the shared store: written under lock, read anywhere */
        uint64_t store_locks; /* written under lock, read anywhere */
        uint64_t reclaims;
        uint32_t size;
        uint32_t slots_end; /* above every slot that ever held a buffer */
        struct mpnet_pkt **store;
        uint8_t *mem;
        size_t mem_len;
        char name[32];
};

/* The pointers a carrier holds sit at the end of its buffer, where a stale
 * pointer to a freed frame is least likely to read. */
static inline struct mpnet_pkt **carrier_objs(struct mpnet_pkt *k)
{
        return (struct mpnet_pkt **)(mpnet_pkt_buf(k) + MPNET_PKT_BUF_SIZE - RET_ARRAY_SIZE);
}

struct mpnet_pool *mpnet_pool_create(const char *name, uint32_t n)
{
        struct mpnet_pool *pool;

        if (n == 0) {
                errno = EINVAL;
                return NULL;
        }
        if (posix_memalign((void **)&pool, MPNET_CACHE_LINE, sizeof(*pool)) != 0) {
                errno = ENOMEM;
                return NULL;
        }
        memset(pool, 0, sizeof(*pool));
        snprintf(pool->name, sizeof(pool->name), "%s", name ? name : "pool");
        pool->size = n;
        pool->mem_len = (size_t)n * OBJ_SIZE;
        pool->mem =
            mmap(NULL, pool->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        pool->store = calloc(n, sizeof(*pool->store));
        if (pool->mem == MAP_FAILED || pool->store == NULL) {
                if (pool->mem != MAP_FAILED)
                        munmap(pool->mem, pool->mem_len);
                free(pool->store);
                free(pool);
                errno = ENOMEM;
                return NULL;
        }
        madvise(pool->mem, pool->mem_len, MADV_HUGEPAGE);
        pthread_mutex_init(&pool->lock, NULL);
        for (uint32_t i = 0; i < n; i++) {
                struct mpnet_pkt *p = (struct mpnet_pkt *)(pool->mem + (size_t)i * OBJ_SIZE);

                p->pool = pool;
                p->state = PKT_FREE;
                p->owner = OWNER_NONE;
                POISON(p);
#ifdef POOL_ASAN
                ASAN_POISON_MEMORY_REGION(mpnet_pkt_buf(p) + MPNET_PKT_BUF_SIZE, REDZONE);
#endif
                pool->store[n - 1 - i] = p;
        }
        pool->n_free = n;
        return pool;
}

void mpnet_pool_destroy(struct mpnet_pool *pool)
{
        uint32_t out;

        if (pool == NULL)
                return;
        out = mpnet_pool_in_use(pool);
        if (out != 0)
                fprintf(stderr, "mpnet: pool %s destroyed with %u buffers in use\n", pool->name,
                        out);
#ifdef POOL_ASAN
        ASAN_UNPOISON_MEMORY_REGION(pool->mem, pool->mem_len);
#endif
        munmap(pool->mem, pool->mem_len);
        pthread_mutex_destroy(&pool->lock);
        free(pool->store);
        free(pool);
}

/* Counts read by mpnet_pool_in_use() and mpnet_pool_get_stats() from any
 * thread have one writer at a time (the owner, or the holder of the lock):
 * relaxed atomic stores keep those reads race-free. */
static inline void set_u32(uint32_t *v, uint32_t n)
{
        __atomic_store_n(v, n, __ATOMIC_RELAXED);
}

static inline uint32_t get_u32(const uint32_t *v)
{
        return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void store_lock(struct mpnet_pool *pool)
{
        pthread_mutex_lock(&pool->lock);
        __atomic_store_n(&pool->store_locks, pool->store_locks + 1, __ATOMIC_RELAXED);
}

/* Under the lock: n buffers onto the store. */
static void store_push(struct mpnet_pool *pool, struct mpnet_pkt *const *objs, unsigned n)
{
        memcpy(&pool->store[pool->n_free], objs, n * sizeof(*objs));
        set_u32(&pool->n_free, pool->n_free + n);
}

/* Under the lock: every buffer of a list of carriers onto the store.
 * @return how many. */
static uint32_t store_push_carriers(struct mpnet_pool *pool, struct mpnet_pkt *k)
{
        uint32_t n = 0;

        for (; k != NULL; k = k->next) {
                store_push(pool, carrier_objs(k), k->len - 1);
                store_push(pool, &k, 1);
                POISON(k);
                n += k->len;
        }
        return n;
}

static unsigned store_get(struct mpnet_pool *pool, struct mpnet_pkt **objs, unsigned n)
{
        /* A dry store is seen without the lock: a pool out of buffers must not
         * turn every failed allocation into a lock round trip. */
        if (get_u32(&pool->n_free) == 0)
                return 0;
        store_lock(pool);
        if (n > pool->n_free)
                n = pool->n_free;
        set_u32(&pool->n_free, pool->n_free - n);
        memcpy(objs, &pool->store[pool->n_free], n * sizeof(*objs));
        pthread_mutex_unlock(&pool->lock);
        return n;
}

static void store_put(struct mpnet_pool *pool, struct mpnet_pkt *const *objs, unsigned n)
{
        store_lock(pool);
        store_push(pool, objs, n);
        pthread_mutex_unlock(&pool->lock);
}

/* The pool ran dry for the caller: move every other slot's return list into
 * the store. @return the buffers moved. */
static uint32_t reclaim(struct mpnet_pool *pool, unsigned except)
{
        uint32_t moved = 0;

        for (unsigned s = 0; s < MPNET_MAX_SLOTS; s++) {
                struct pool_ret *r = &pool->ret[s];
                struct mpnet_pkt *k;
                uint32_t n;

                if (s == except || __atomic_load_n(&r->head, __ATOMIC_RELAXED) == NULL)
                        continue;
                k = __atomic_exchange_n(&r->head, NULL, __ATOMIC_ACQUIRE);
                if (k == NULL)
                        continue;
                store_lock(pool);
                n = store_push_carriers(pool, k);
                __atomic_store_n(&pool->reclaims, pool->reclaims + 1, __ATOMIC_RELAXED);
                pthread_mutex_unlock(&pool->lock);
                __atomic_sub_fetch(&r->n, n, __ATOMIC_RELAXED);
                moved += n;
        }
        return moved;
}

/* Hand n buffers (carrier k first) back to their owner. */
static void ret_push(struct mpnet_pool *pool, unsigned owner, struct mpnet_pkt *k, uint32_t n)
{
        struct pool_ret *r = &pool->ret[owner];
        struct mpnet_pkt *head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);

        k->len = n;
        /* Counted before the push: whoever takes the batch subtracts after its
         * exchange, so the count never goes below zero. */
        __atomic_add_fetch(&r->n, n, __ATOMIC_RELAXED);
        do
                k->next = head;
        while (!__atomic_compare_exchange_n(&r->head, &head, k, true, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED));
}

static void batch_send(struct mpnet_pool *pool, struct pool_cache *c, unsigned owner)
{
        struct pool_batch *b = &c->out[owner];

        ret_push(pool, owner, b->carrier, b->n);
        set_u32(&c->out_n, c->out_n - b->n);
        set_u32(&b->n, 0);
        __atomic_store_n(&c->batches_sent, c->batches_sent + 1, __ATOMIC_RELAXED);
}

/* A free on slot c of a buffer another slot owns. */
static void batch_add(struct mpnet_pool *pool, struct pool_cache *c, struct mpnet_pkt *p)
{
        struct pool_batch *b = &c->out[p->owner];

        if (b->n == 0) {
                b->carrier = p;
                UNPOISON_ARR(p);
        } else {
                carrier_objs(b->carrier)[b->n - 1] = p;
        }
        set_u32(&b->n, b->n + 1);
        set_u32(&c->out_n, c->out_n + 1);
        if (b->n == POOL_RET_BATCH)
                batch_send(pool, c, p->owner);
}

/* Refill an empty cache from what other slots returned. @return buffers got. */
static uint32_t cache_unload_returns(struct pool_cache *c, struct pool_ret *r)
{
        uint32_t got = 0;

        if (c->spill == NULL && __atomic_load_n(&r->head, __ATOMIC_RELAXED) != NULL)
                c->spill = __atomic_exchange_n(&r->head, NULL, __ATOMIC_ACQUIRE);
        while (c->spill != NULL && got < POOL_CACHE_BATCH) {
                struct mpnet_pkt *k = c->spill;
                uint32_t n = k->len;

                c->spill = k->next;
                memcpy(&c->objs[got], carrier_objs(k), (n - 1) * sizeof(k));
                c->objs[got + n - 1] = k;
                POISON(k);
                got += n;
        }
        if (got != 0) {
                __atomic_sub_fetch(&r->n, got, __ATOMIC_RELAXED);
                set_u32(&c->n, got);
        }
        return got;
}

/* Slot holds buffers from now on (its cache, its batches, returns to it):
 * mpnet_pool_in_use() counts the slots below slots_end only. A slot's first
 * allocation comes through cache_refill(), its first free through
 * seg_free(); both call this only while the slot is not yet below the mark. */
static __attribute__((noinline)) void slot_used(struct mpnet_pool *pool, unsigned slot)
{
        uint32_t end = get_u32(&pool->slots_end);

        while (end <= slot && !__atomic_compare_exchange_n(&pool->slots_end, &end, slot + 1, true,
                                                           __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                ;
}

/* The cache of slot is empty: returns first, then the store, then a reclaim.
 * Out of line, so the allocation fast path keeps its registers. */
static __attribute__((noinline)) void cache_refill(struct mpnet_pool *pool, struct pool_cache *c,
                                                   unsigned slot)
{
        if (slot >= get_u32(&pool->slots_end))
                slot_used(pool, slot);
        if (cache_unload_returns(c, &pool->ret[slot]) != 0)
                return;
        set_u32(&c->n, store_get(pool, c->objs, POOL_CACHE_BATCH));
        if (c->n == 0 && reclaim(pool, slot) != 0)
                set_u32(&c->n, store_get(pool, c->objs, POOL_CACHE_BATCH));
}

static inline void take(struct mpnet_pkt *p, unsigned owner)
{
        UNPOISON(p);
        p->state = PKT_USED;
        p->owner = (uint8_t)owner;
        mpnet_pkt_reset(p);
}

unsigned mpnet_pkt_alloc_bulk(struct mpnet_pool *pool, struct mpnet_pkt **pkts, unsigned n)
{
        unsigned slot = mpnet_thread_slot(), got = 0;
        struct pool_cache *c;

        if (slot >= MPNET_MAX_SLOTS) {
                got = store_get(pool, pkts, n);
                if (got < n && reclaim(pool, MPNET_SLOT_NONE) != 0)
                        got += store_get(pool, &pkts[got], n - got);
                slot = OWNER_NONE;
        } else {
                c = &pool->cache[slot];
                while (got < n) {
                        unsigned k;

                        if (c->n == 0) {
                                cache_refill(pool, c, slot);
                                if (c->n == 0)
                                        break;
                        }
                        k = n - got < c->n ? n - got : c->n;
                        set_u32(&c->n, c->n - k);
                        memcpy(&pkts[got], &c->objs[c->n], k * sizeof(*pkts));
                        got += k;
                }
        }
        for (unsigned i = 0; i < got; i++)
                take(pkts[i], slot);
        return got;
}

struct mpnet_pkt *mpnet_pkt_alloc(struct mpnet_pool *pool)
{
        struct mpnet_pkt *p;

        return mpnet_pkt_alloc_bulk(pool, &p, 1) == 1 ? p : NULL;
}

/* Return one segment to its pool. */
static void seg_free(struct mpnet_pkt *p)
{
        struct mpnet_pool *pool = p->pool;
        unsigned slot = mpnet_thread_slot();
        struct pool_cache *c;

        if (p->state != PKT_USED) {
                fprintf(stderr, "mpnet: pool %s: double free of buffer %p\n", pool->name,
                        (void *)p);
                abort();
        }
        if (p->ol_flags & MPNET_PKT_F_EXT) {
                struct pkt_ext *e;

                memcpy(&e, mpnet_pkt_buf(p), sizeof(e));
                p->ol_flags &= ~MPNET_PKT_F_EXT;
                pkt_ext_put(e);
        }
        p->state = PKT_FREE;
        POISON(p);
        if (slot >= MPNET_MAX_SLOTS) {
                if (p->owner != OWNER_NONE)
                        ret_push(pool, p->owner, p, 1);
                else
                        store_put(pool, &p, 1);
                return;
        }
        if (__builtin_expect(slot >= get_u32(&pool->slots_end), 0))
                slot_used(pool, slot);
        c = &pool->cache[slot];
        if (__builtin_expect(p->owner != slot && p->owner != OWNER_NONE, 0)) {
                batch_add(pool, c, p);
                return;
        }
        if (c->n == POOL_CACHE_MAX) {
                set_u32(&c->n, c->n - POOL_CACHE_BATCH);
                store_put(pool, &c->objs[c->n], POOL_CACHE_BATCH);
        }
        c->objs[c->n] = p;
        set_u32(&c->n, c->n + 1);
}

/* A thread's spare blocks of PKT_EXT_SPARE_SIZE bytes, last freed first:
 * a bulk sender's chunks go when acknowledged and read and come back at
 * its next write, so the send buffer reuses lines the receiver read a
 * moment before instead of fresh heap that malloc took back (a trimmed
 * heap top is faulted in and zeroed by the kernel again, each time). At
 * most PKT_EXT_SPARE_MAX a thread; the rest, and any other size, go to
 * free(). Linked through their pad; a thread's spares are freed when it
 * exits. Under AddressSanitizer a spare's bytes are poisoned. */
struct ext_spare {
        struct pkt_ext *top;
        uint32_t n;
        bool keyed; /* ext_spare_key holds it: freed at the thread's exit */
};

static _Thread_local struct ext_spare ext_spare;
static pthread_key_t ext_spare_key;
static pthread_once_t ext_spare_once = PTHREAD_ONCE_INIT;

static struct pkt_ext *ext_next(const struct pkt_ext *e)
{
        struct pkt_ext *n;

        memcpy(&n, e->pad, sizeof(n));
        return n;
}

/* At thread exit (the key's value is the thread's list, never NULL). */
static void ext_spare_exit(void *v)
{
        struct ext_spare *sp = v;

        while (sp->top != NULL) {
                struct pkt_ext *e = sp->top;

                sp->top = ext_next(e);
                free(e);
        }
        sp->n = 0;
        sp->keyed = false;
}

static void ext_spare_key_make(void)
{
        (void)pthread_key_create(&ext_spare_key, ext_spare_exit);
}

struct pkt_ext *pkt_ext_new(uint32_t size)
{
        struct ext_spare *sp = &ext_spare;
        struct pkt_ext *e = sp->top;

        if (size == PKT_EXT_SPARE_SIZE && e != NULL) {
                sp->top = ext_next(e);
                sp->n--;
#ifdef POOL_ASAN
                ASAN_UNPOISON_MEMORY_REGION(e->b, size);
#endif
        } else {
                e = aligned_alloc(MPNET_CACHE_LINE, sizeof(*e) + size);
                if (e == NULL)
                        return NULL;
                e->size = size;
        }
        e->ref = 1;
        return e;
}

unsigned pkt_ext_spares(void)
{
        return ext_spare.n;
}

void pkt_ext_put(struct pkt_ext *e)
{
        struct ext_spare *sp = &ext_spare;

        if (__atomic_sub_fetch(&e->ref, 1, __ATOMIC_ACQ_REL) != 0)
                return;
        if (e->size != PKT_EXT_SPARE_SIZE || sp->n == PKT_EXT_SPARE_MAX) {
                free(e);
                return;
        }
        if (!sp->keyed) {
                /* The thread's first spare: free them all at its exit. */
                pthread_once(&ext_spare_once, ext_spare_key_make);
                if (pthread_setspecific(ext_spare_key, sp) != 0) {
                        free(e);
                        return;
                }
                sp->keyed = true;
        }
#ifdef POOL_ASAN
        ASAN_POISON_MEMORY_REGION(e->b, e->size);
#endif
        memcpy(e->pad, &sp->top, sizeof(sp->top));
        sp->top = e;
        sp->n++;
}

void mpnet_pkt_free(struct mpnet_pkt *p)
{
        while (p != NULL) {
                struct mpnet_pkt *next = p->next;

                seg_free(p);
                p = next;
        }
}

void mpnet_pkt_free_bulk(struct mpnet_pkt **pkts, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                mpnet_pkt_free(pkts[i]);
}

void mpnet_pool_flush_cache(struct mpnet_pool *pool)
{
        unsigned slot = mpnet_thread_slot();
        struct pool_cache *c;
        struct pool_ret *r;
        struct mpnet_pkt *taken;
        uint32_t n;

        if (slot >= MPNET_MAX_SLOTS)
                return;
        c = &pool->cache[slot];
        r = &pool->ret[slot];
        for (unsigned o = 0; o < MPNET_MAX_SLOTS; o++)
                if (c->out[o].n != 0)
                        batch_send(pool, c, o);
        taken = __atomic_exchange_n(&r->head, NULL, __ATOMIC_ACQUIRE);
        if (c->n == 0 && c->spill == NULL && taken == NULL)
                return;
        store_lock(pool);
        store_push(pool, c->objs, c->n);
        set_u32(&c->n, 0);
        n = store_push_carriers(pool, c->spill) + store_push_carriers(pool, taken);
        c->spill = NULL;
        pthread_mutex_unlock(&pool->lock);
        __atomic_sub_fetch(&r->n, n, __ATOMIC_RELAXED);
}

uint32_t mpnet_pool_in_use(struct mpnet_pool *pool)
{
        uint64_t free_n = get_u32(&pool->n_free);
        unsigned end = get_u32(&pool->slots_end);

        /* Slots at or above end never held a buffer, nor was one returned
         * to them (a return goes to the slot that allocated it). */
        for (unsigned s = 0; s < end; s++)
                free_n += get_u32(&pool->cache[s].n) + get_u32(&pool->cache[s].out_n) +
                          get_u32(&pool->ret[s].n);
        /* Racing a move between two places, a buffer can be counted twice. */
        return free_n >= pool->size ? 0 : pool->size - (uint32_t)free_n;
}

void mpnet_pool_get_stats(const struct mpnet_pool *pool, struct mpnet_pool_stats *st)
{
        memset(st, 0, sizeof(*st));
        st->store_locks = __atomic_load_n(&pool->store_locks, __ATOMIC_RELAXED);
        st->reclaims = __atomic_load_n(&pool->reclaims, __ATOMIC_RELAXED);
        for (unsigned s = 0; s < MPNET_MAX_SLOTS; s++)
                st->batches_returned +=
                    __atomic_load_n(&pool->cache[s].batches_sent, __ATOMIC_RELAXED);
}

uint32_t mpnet_pool_size(const struct mpnet_pool *pool)
{
        return pool->size;
}

struct mpnet_pkt *mpnet_pkt_from_bytes(struct mpnet_pool *pool, const void *src, uint32_t len)
{
        const uint8_t *s = src;
        struct mpnet_pkt *head = NULL, *tail = NULL;
        uint32_t off = 0;

        do {
                struct mpnet_pkt *seg = mpnet_pkt_alloc(pool);
                uint32_t k = len - off;

                if (seg == NULL) {
                        mpnet_pkt_free(head);
                        return NULL;
                }
                if (head != NULL)
                        seg->data = mpnet_pkt_buf(seg); /* later segments need no headroom */
                if (k > mpnet_pkt_tailroom(seg))
                        k = mpnet_pkt_tailroom(seg);
                memcpy(seg->data, s + off, k);
                seg->len = k;
                off += k;
                if (head == NULL) {
                        head = seg;
                } else {
                        tail->next = seg;
                        head->nb_segs++;
                }
                tail = seg;
        } while (off < len);
        head->pkt_len = len;
        return head;
}

struct mpnet_pkt *mpnet_pkt_copy(struct mpnet_pool *pool, const struct mpnet_pkt *p)
{
        struct mpnet_pkt *c = NULL, *tail = NULL;

        /* Segment by segment, so the copy keeps the layout and headroom. */
        for (const struct mpnet_pkt *s = p; s != NULL; s = s->next) {
                struct mpnet_pkt *seg = mpnet_pkt_alloc(pool);
                const uint8_t *sbuf = (const uint8_t *)(s + 1);

                if (seg == NULL) {
                        mpnet_pkt_free(c);
                        return NULL;
                }
                /* An external segment's bytes come in at the usual
                 * headroom (such segments are at most MPNET_PKT_DATA_SIZE). */
                seg->data = (s->ol_flags & MPNET_PKT_F_EXT)
                                ? mpnet_pkt_buf(seg) + MPNET_PKT_HEADROOM
                                : mpnet_pkt_buf(seg) + (s->data - sbuf);
                memcpy(seg->data, s->data, s->len);
                seg->len = seg->pkt_len = s->len;
                if (c == NULL)
                        c = seg;
                else
                        tail->next = seg;
                tail = seg;
        }
        c->pkt_len = p->pkt_len;
        c->nb_segs = p->nb_segs;
        c->ts = p->ts;
        c->flow_hash = p->flow_hash;
        c->ifindex = p->ifindex;
        c->ol_flags = p->ol_flags & ~MPNET_PKT_F_EXT;
        c->tso_segsz = p->tso_segsz;
        c->l3_off = p->l3_off;
        c->l4_off = p->l4_off;
        c->vlan_tci = p->vlan_tci;
        return c;
}

void mpnet_pkt_trim(struct mpnet_pkt *p, uint32_t n)
{
        struct mpnet_pkt *s = p;
        uint32_t left = n;
        uint16_t segs = 1;

        if (n >= p->pkt_len)
                return;
        while (left > s->len && s->next != NULL) {
                left -= s->len;
                s = s->next;
                segs++;
        }
        if (left > s->len)
                return; /* pkt_len overstated the chain: nothing to cut */
        s->len = left;
        mpnet_pkt_free(s->next);
        s->next = NULL;
        p->pkt_len = n;
        p->nb_segs = segs;
}

int mpnet_pkt_read(const struct mpnet_pkt *p, uint32_t off, void *dst, uint32_t len)
{
        uint8_t *d = dst;

        if ((uint64_t)off + len > p->pkt_len)
                return -EINVAL;
        for (const struct mpnet_pkt *s = p; s != NULL && len > 0; s = s->next) {
                uint32_t k;

                if (off >= s->len) {
                        off -= s->len;
                        continue;
                }
                k = s->len - off < len ? s->len - off : len;
                memcpy(d, s->data + off, k);
                d += k;
                len -= k;
                off = 0;
        }
        return len == 0 ? 0 : -EINVAL;
}
