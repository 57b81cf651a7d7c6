/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the wire-view fuzz targets (fuzz_eth.c ... fuzz_mld.c): each
 * calls one family's src/wire parsers on the input as it is (libFuzzer hands
 * it over in a heap block of exactly its size, so ASan reports any read past
 * it) and checks a property of what came out, so a wrong answer fails the
 * target and not only a crash: a repr emitted again must read back the same.
 */
#ifndef MPNET_FUZZ_WIRE_H
#define MPNET_FUZZ_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the parsers promise did not hold: abort, so libFuzzer keeps
 * the input and the corpus replay fails. */
#define FUZZ_ASSERT(c)                                                                             \
        do {                                                                                       \
                if (!(c))                                                                          \
                        __builtin_trap();                                                          \
        } while (0)

#endif
