/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: arbitrary datagrams into the control protocol's decoder
 * (include/mpnet/ctl.h), as mpnetd receives them. Every message it accepts
 * is walked the way the daemon reads it: indexed, each attribute read with
 * the getter of its type, nests descended; under ASan a read past the
 * datagram is caught, since the input is copied to a buffer of exactly its
 * length.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "mpnet/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sink;

static void walk(const uint8_t *p, size_t n, unsigned depth)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX], *a;
        size_t off = 0;

        mpnet_ctl_attrs_index(p, n, tb);
        while ((a = mpnet_ctl_attr_next(p, n, &off)) != NULL) {
                size_t len = mpnet_ctl_attr_len(a);

                if (a->type & MPNET_CTLA_F_NESTED) {
                        if (depth >= MPNET_CTL_DEPTH_MAX)
                                abort(); /* the decoder let it through */
                        walk(mpnet_ctl_attr_data(a), len, depth + 1);
                } else if (len == 1) {
                        sink += mpnet_ctl_attr_u8(a);
                } else if (len == 4) {
                        sink += mpnet_ctl_attr_u32(a);
                } else if (len == 8) {
                        sink += mpnet_ctl_attr_u64(a);
                } else if (len > 0 &&
                           mpnet_ctl_attr_kind(mpnet_ctl_attr_type(a)) == MPNET_CTLK_STR) {
                        /* The decoder checked the NUL of string types only:
                         * the daemon reads no other attribute as a string. */
                        sink += strlen(mpnet_ctl_attr_str(a));
                } else if (len > 0) {
                        sink += ((const uint8_t *)mpnet_ctl_attr_data(a))[len - 1];
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_ctl_view m;
        char why[128];
        size_t off = 0;
        uint8_t *buf;
        int r;

        if (size > MPNET_CTL_DGRAM_MAX)
                return 0;
        /* malloc'd: 4-aligned, as the daemon's receive buffer is. */
        buf = malloc(size ? size : 1);
        if (buf == NULL)
                return 0;
        memcpy(buf, data, size);
        while ((r = mpnet_ctl_msg_next(buf, size, &off, &m, why, sizeof(why))) == 1)
                if (m.err == 0)
                        walk(m.attrs, m.attrs_len, 0);
        free(buf);
        return 0;
}
