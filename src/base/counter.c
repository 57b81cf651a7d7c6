/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>

#include <sys/mman.h>

#include "mpnet/counter.h"

#define LINE_WORDS 8 /* 64-byte cache line of 64-bit counters */

static size_t rows_bytes(const struct mpnet_counters *c)
{
        return (size_t)(MPNET_MAX_SLOTS + 1) * c->stride * sizeof(uint64_t);
}

struct mpnet_counters *mpnet_counters_create(unsigned n)
{
        struct mpnet_counters *c;
        size_t bytes;

        if (n == 0 || n > (1u << 20)) {
                errno = EINVAL;
                return NULL;
        }
        c = malloc(sizeof(*c));
        if (c == NULL)
                return NULL;
        c->n = n;
        c->stride = (n + LINE_WORDS - 1) / LINE_WORDS * LINE_WORDS;
        bytes = rows_bytes(c);
        /* A row per thread slot (65), mostly never written: anonymous pages
         * are zero until touched, where a memset made every row resident
         * (75 KiB for a stack's counters). Rows hold no pointers, so leak
         * checkers lose nothing by not seeing them. */
        c->rows = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c->rows == MAP_FAILED) {
                free(c);
                errno = ENOMEM;
                return NULL;
        }
        return c;
}

void mpnet_counters_destroy(struct mpnet_counters *c)
{
        if (c == NULL)
                return;
        munmap((void *)c->rows, rows_bytes(c));
        free(c);
}

uint64_t mpnet_counter_read(const struct mpnet_counters *c, unsigned i)
{
        uint64_t sum = 0;

        if (i >= c->n)
                return 0;
        for (unsigned r = 0; r <= MPNET_MAX_SLOTS; r++)
                sum +=
                    atomic_load_explicit(&c->rows[(size_t)r * c->stride + i], memory_order_relaxed);
        return sum;
}

void mpnet_counters_reset(struct mpnet_counters *c)
{
        for (size_t i = 0; i < (size_t)(MPNET_MAX_SLOTS + 1) * c->stride; i++)
                atomic_store_explicit(&c->rows[i], 0, memory_order_relaxed);
}
