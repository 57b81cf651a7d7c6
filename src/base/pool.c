/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet pools.
 *
 * Synchronisation: the shared store is a stack of free buffers under a mutex.
 * Each thread slot has a private cache of up to POOL_CACHE_MAX buffers, filled
 * from and drained to the shared store POOL_CACHE_BATCH at a time, so the lock
 * is taken once per batch, not per packet. Threads without a slot use the
 * shared store directly.
 *
 * Life cycle: all buffers live in one mapping made at create time; nothing is
 * allocated on the packet path. Under AddressSanitizer a free buffer's data is
 * poisoned, so a use after free is reported as it would be with malloc.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mpnet/pkt.h"
#include "mpnet/thread.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p)   ASAN_POISON_MEMORY_REGION(mpnet_pkt_buf(p), MPNET_PKT_BUF_SIZE)
#define UNPOISON(p) ASAN_UNPOISON_MEMORY_REGION(mpnet_pkt_buf(p), MPNET_PKT_BUF_SIZE)
#else
#define POISON(p)   ((void)(p))
#define UNPOISON(p) ((void)(p))
#endif

#define POOL_CACHE_MAX   256u
#define POOL_CACHE_BATCH 128u
#ifdef POOL_ASAN
/* A poisoned gap after each buffer, so reading past the end of a frame placed
 * at the end of its buffer is caught (the next object would be valid memory). */
#define REDZONE MPNET_CACHE_LINE
#else
#define REDZONE 0u
#endif
#define OBJ_SIZE (sizeof(struct mpnet_pkt) + MPNET_PKT_BUF_SIZE + REDZONE)

enum { PKT_FREE = 0xf5, PKT_USED = 0x05 };

struct pool_cache {
        uint32_t n;
        struct mpnet_pkt *objs[POOL_CACHE_MAX];
} __attribute__((aligned(MPNET_CACHE_LINE)));

struct mpnet_pool {
        struct pool_cache cache[MPNET_MAX_SLOTS];
        pthread_mutex_t lock;
        uint32_t n_free; /* in the shared store, under lock */
        uint32_t size;
        struct mpnet_pkt **store;
        uint8_t *mem;
        size_t mem_len;
        char name[32];
};

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

static unsigned store_get(struct mpnet_pool *pool, struct mpnet_pkt **objs, unsigned n)
{
        pthread_mutex_lock(&pool->lock);
        if (n > pool->n_free)
                n = pool->n_free;
        pool->n_free -= n;
        memcpy(objs, &pool->store[pool->n_free], n * sizeof(*objs));
        pthread_mutex_unlock(&pool->lock);
        return n;
}

static void store_put(struct mpnet_pool *pool, struct mpnet_pkt *const *objs, unsigned n)
{
        pthread_mutex_lock(&pool->lock);
        memcpy(&pool->store[pool->n_free], objs, n * sizeof(*objs));
        pool->n_free += n;
        pthread_mutex_unlock(&pool->lock);
}

static inline void take(struct mpnet_pkt *p)
{
        UNPOISON(p);
        p->state = PKT_USED;
        mpnet_pkt_reset(p);
}

/* The owner thread writes its cache's count; mpnet_pool_in_use() reads it
 * from anywhere: a relaxed atomic store keeps that read race-free. */
static inline void cache_set_n(struct pool_cache *c, unsigned n)
{
        __atomic_store_n(&c->n, n, __ATOMIC_RELAXED);
}

unsigned mpnet_pkt_alloc_bulk(struct mpnet_pool *pool, struct mpnet_pkt **pkts, unsigned n)
{
        unsigned slot = mpnet_thread_slot(), got = 0;
        struct pool_cache *c;

        if (slot >= MPNET_MAX_SLOTS) {
                got = store_get(pool, pkts, n);
        } else {
                c = &pool->cache[slot];
                while (got < n) {
                        unsigned k;

                        if (c->n == 0) {
                                cache_set_n(c, store_get(pool, c->objs, POOL_CACHE_BATCH));
                                if (c->n == 0)
                                        break;
                        }
                        k = n - got < c->n ? n - got : c->n;
                        cache_set_n(c, c->n - k);
                        memcpy(&pkts[got], &c->objs[c->n], k * sizeof(*pkts));
                        got += k;
                }
        }
        for (unsigned i = 0; i < got; i++)
                take(pkts[i]);
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
        p->state = PKT_FREE;
        POISON(p);
        if (slot >= MPNET_MAX_SLOTS) {
                store_put(pool, &p, 1);
                return;
        }
        c = &pool->cache[slot];
        if (c->n == POOL_CACHE_MAX) {
                cache_set_n(c, c->n - POOL_CACHE_BATCH);
                store_put(pool, &c->objs[c->n], POOL_CACHE_BATCH);
        }
        c->objs[c->n] = p;
        cache_set_n(c, c->n + 1);
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

        if (slot >= MPNET_MAX_SLOTS || pool->cache[slot].n == 0)
                return;
        store_put(pool, pool->cache[slot].objs, pool->cache[slot].n);
        cache_set_n(&pool->cache[slot], 0);
}

uint32_t mpnet_pool_in_use(struct mpnet_pool *pool)
{
        uint32_t free_n;

        pthread_mutex_lock(&pool->lock);
        free_n = pool->n_free;
        pthread_mutex_unlock(&pool->lock);
        for (unsigned s = 0; s < MPNET_MAX_SLOTS; s++)
                free_n += __atomic_load_n(&pool->cache[s].n, __ATOMIC_RELAXED);
        /* Racing a refill, a buffer can be counted in the store and a cache. */
        return free_n >= pool->size ? 0 : pool->size - free_n;
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
                seg->data = mpnet_pkt_buf(seg) + (s->data - sbuf);
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
        c->ol_flags = p->ol_flags;
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
