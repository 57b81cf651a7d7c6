/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the ICMPv6 view, Neighbour Discovery messages (RFC 4861
 * 4) and their options with the decoders of each. Input: 32 bytes of source
 * and destination address for the checksum, then the message. An echo or
 * error message emitted again verifies; every option lies inside the options.
 */
#include <stdlib.h>

#include "fuzz_wire.h"
#include "mpnet/wire/icmp6.h"

static void walk_opts(const struct mpnet_nd_repr *nd)
{
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt o;
        int rc;

        mpnet_nd_opt_iter_init(&it, nd->opts, nd->opts_len);
        while ((rc = mpnet_nd_opt_next(&it, &o)) == 1) {
                struct mpnet_nd_prefix pfx;
                struct mpnet_nd_rdnss rd;
                uint32_t mtu;

                FUZZ_ASSERT(o.n == (size_t)o.len8 * 8 && o.n > 0);
                FUZZ_ASSERT(o.b >= nd->opts && o.b + o.n <= nd->opts + nd->opts_len);
                /* The decoders check the length for the type the caller
                 * dispatched on (as nd6.c does). */
                switch (o.type) {
                case MPNET_ND_OPT_SLLA:
                case MPNET_ND_OPT_TLLA:
                        FUZZ_ASSERT((mpnet_nd_opt_lladdr(&o) != NULL) == (o.len8 == 1));
                        break;
                case MPNET_ND_OPT_PREFIX:
                        FUZZ_ASSERT((mpnet_nd_opt_prefix(&o, &pfx) == 0) == (o.len8 == 4));
                        break;
                case MPNET_ND_OPT_MTU:
                        FUZZ_ASSERT((mpnet_nd_opt_mtu(&o, &mtu) == 0) == (o.len8 == 1));
                        break;
                case MPNET_ND_OPT_RDNSS:
                        if (mpnet_nd_opt_rdnss(&o, &rd) == 0)
                                FUZZ_ASSERT(rd.count > 0 && rd.addrs + rd.count * 16 <= o.b + o.n);
                        break;
                }
        }
        FUZZ_ASSERT(rc == 0 || rc == -MPNET_WIRE_BAD_OPTION || rc == -MPNET_WIRE_TRUNCATED);
}

static void echo_roundtrip(const struct mpnet_icmp6_view *v, const uint8_t *src, const uint8_t *dst)
{
        struct mpnet_icmp6_repr r;
        struct mpnet_icmp6_view v2;
        uint8_t *out = malloc(v->n);

        if (out == NULL)
                return;
        mpnet_icmp6_repr_parse(v, &r);
        FUZZ_ASSERT(mpnet_icmp6_repr_len(&r) == v->n);
        mpnet_icmp6_repr_emit(&r, src, dst, out);
        FUZZ_ASSERT(mpnet_icmp6_view_check(out, v->n, &v2) == 0 &&
                    mpnet_icmp6_csum_ok(&v2, src, dst));
        FUZZ_ASSERT(out[0] == v->b[0] && out[1] == v->b[1] &&
                    memcmp(out + 4, v->b + 4, v->n - 4) == 0);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_icmp6_view v;
        struct mpnet_nd_repr nd;

        if (size < 32 || mpnet_icmp6_view_check(data + 32, size - 32, &v) != 0)
                return 0;
        (void)mpnet_icmp6_csum_ok(&v, data, data + 16);
        if (mpnet_nd_repr_parse(&v, &nd) == 0) {
                FUZZ_ASSERT(nd.opts >= v.b && nd.opts + nd.opts_len == v.b + v.n);
                walk_opts(&nd);
        } else if (v.b[0] < 130) {
                echo_roundtrip(&v, data, data + 16);
        }
        return 0;
}
