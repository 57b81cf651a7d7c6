/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the randomised unit tests share: a seeded generator (splitmix64), the
 * seed from MPNET_TEST_SEED, whether to run small (under a sanitizer, or
 * MPNET_TEST_QUICK set), and a monotonic clock in seconds.
 */
#ifndef MPNET_TEST_RAND_H
#define MPNET_TEST_RAND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sanitizers make the randomised runs smaller; ThreadSanitizer, whose
 * atomics are slowest, smaller still. */
#if defined(__SANITIZE_THREAD__)
#define SANITIZED 2
#elif defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SANITIZED 2
#elif __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static inline bool quick(void)
{
        const char *q = getenv("MPNET_TEST_QUICK");

        return SANITIZED != 0 || (q != NULL && *q != '\0' && strcmp(q, "0") != 0);
}

/* The generator's state: set it to seed a run. */
static uint64_t rng_state;

/* splitmix64 */
static inline uint64_t rnd(void)
{
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static inline uint32_t rnd32(void)
{
        return (uint32_t)(rnd() >> 32);
}

/* MPNET_TEST_SEED, or dflt. */
static inline uint64_t seed_from_env(uint64_t dflt)
{
        const char *s = getenv("MPNET_TEST_SEED");

        return s != NULL && *s != '\0' ? strtoull(s, NULL, 0) : dflt;
}

static inline double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
