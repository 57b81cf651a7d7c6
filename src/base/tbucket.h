/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A token bucket's state: credit in ns x rate, and when it was last filled.
 * ctx_bucket_take() (stack/stack.c) spends it; each bucket is written by one
 * context only.
 */
#ifndef MPNET_BASE_TBUCKET_H
#define MPNET_BASE_TBUCKET_H

#include <stdint.h>

struct punt_bucket {
        uint64_t tokens, last;
};

#endif
