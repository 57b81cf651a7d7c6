/* SPDX-License-Identifier: BSD-2-Clause */
#include "mpnet/wire/bytes.h"

const char *mpnet_wire_err_str(int err)
{
        switch (err < 0 ? -err : err) {
        case MPNET_WIRE_OK:
                return "ok";
        case MPNET_WIRE_TRUNCATED:
                return "truncated";
        case MPNET_WIRE_BAD_VERSION:
                return "bad version";
        case MPNET_WIRE_BAD_HLEN:
                return "bad header length";
        case MPNET_WIRE_BAD_LEN:
                return "bad total length";
        case MPNET_WIRE_BAD_CSUM:
                return "bad checksum";
        case MPNET_WIRE_UNSUPPORTED:
                return "unsupported";
        case MPNET_WIRE_BAD_FIELD:
                return "bad field";
        case MPNET_WIRE_BAD_ORDER:
                return "header out of order";
        case MPNET_WIRE_DEPRECATED:
                return "deprecated";
        case MPNET_WIRE_TOO_LONG:
                return "header chain too long";
        case MPNET_WIRE_BAD_OPTION:
                return "bad option";
        default:
                return "unknown error";
        }
}
