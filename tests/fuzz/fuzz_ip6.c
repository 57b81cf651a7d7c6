/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the IPv6 view, the extension-header walk and the options
 * of hop-by-hop and destination options headers. What the walk reports must
 * lie inside the packet: every header, the upper-layer offset, the error
 * offset, and every option's bytes.
 */
#include "fuzz_wire.h"
#include "mpnet/wire/ipv6.h"

static void walk_opts(const struct mpnet_ip6_view *v, const struct mpnet_ip6_ext *e)
{
        struct mpnet_ip6_opt_iter it;
        struct mpnet_ip6_opt o;
        int rc;

        mpnet_ip6_opt_iter_init(&it, v, e);
        while ((rc = mpnet_ip6_opt_next(&it, &o)) == 1) {
                FUZZ_ASSERT(o.off >= e->off &&
                            (size_t)o.off + 2 + o.len <= (size_t)e->off + e->len);
                FUZZ_ASSERT(o.data == v->b + o.off + 2);
        }
        FUZZ_ASSERT(rc == 0 || rc == -MPNET_WIRE_TRUNCATED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mpnet_ip6_view v;
        struct mpnet_ip6_repr r;
        struct mpnet_ip6_chain c;
        uint8_t out[MPNET_IP6_HLEN];
        int rc;

        if (mpnet_ip6_view_check(data, size, &v) != 0)
                return 0;
        FUZZ_ASSERT(v.n >= MPNET_IP6_HLEN && v.n <= size);
        mpnet_ip6_repr_parse(&v, &r);
        mpnet_ip6_repr_emit(&r, out);
        FUZZ_ASSERT(memcmp(out, data, MPNET_IP6_HLEN) == 0);
        rc = mpnet_ip6_walk(&v, &c);
        FUZZ_ASSERT(c.n_ext <= MPNET_IP6_EXT_MAX);
        for (unsigned i = 0; i < c.n_ext; i++) {
                const struct mpnet_ip6_ext *e = &c.ext[i];

                FUZZ_ASSERT(e->off >= MPNET_IP6_HLEN && (size_t)e->off + e->len <= v.n);
                if (e->proto == MPNET_IPPROTO_HOPOPTS || e->proto == MPNET_IPPROTO_DSTOPTS)
                        walk_opts(&v, e);
        }
        if (rc == 0)
                FUZZ_ASSERT(c.l4_off >= MPNET_IP6_HLEN && c.l4_off <= v.n);
        else
                FUZZ_ASSERT(c.err_off <= v.n);
        return 0;
}
