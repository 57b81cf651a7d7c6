/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/counter.h"

#define LINE_WORDS 8 /* 64-byte cache line of 64-bit counters */

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
        bytes = (size_t)(MPNET_MAX_SLOTS + 1) * c->stride * sizeof(uint64_t);
        c->rows = aligned_alloc(64, bytes);
        if (c->rows == NULL) {
                free(c);
                errno = ENOMEM;
                return NULL;
        }
        memset(c->rows, 0, bytes);
        return c;
}

void mpnet_counters_destroy(struct mpnet_counters *c)
{
        if (c == NULL)
                return;
        free(c->rows);
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
