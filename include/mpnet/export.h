/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file export.h
 * MPNET_API marks the functions and objects libmpnet.so exports. The library
 * is compiled with -fvisibility=hidden, so whatever a header in include/mpnet/
 * does not declare with MPNET_API stays internal to the library: an
 * application cannot come to depend on it, and calls inside the library need
 * no PLT. tests/lib/check-exports.sh holds the two sets equal.
 */
#ifndef MPNET_EXPORT_H
#define MPNET_EXPORT_H

#define MPNET_API __attribute__((visibility("default")))

#endif
