/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "mpnet/wire/ipv6.h"

int mpnet_ip6_view_check(const uint8_t *b, size_t n, struct mpnet_ip6_view *v)
{
        size_t total;

        if (n < MPNET_IP6_HLEN)
                return -MPNET_WIRE_TRUNCATED;
        if ((b[0] >> 4) != 6)
                return -MPNET_WIRE_BAD_VERSION;
        total = MPNET_IP6_HLEN + (size_t)mpnet_get_be16(b + 4);
        /* Bytes past the payload length are link padding. */
        if (total > n)
                return -MPNET_WIRE_BAD_LEN;
        v->b = b;
        v->n = total;
        return 0;
}

void mpnet_ip6_repr_parse(const struct mpnet_ip6_view *v, struct mpnet_ip6_repr *r)
{
        memcpy(r->src, mpnet_ip6_src(v), MPNET_IP6_ALEN);
        memcpy(r->dst, mpnet_ip6_dst(v), MPNET_IP6_ALEN);
        r->flow_label = mpnet_ip6_flow_label(v);
        r->payload_len = mpnet_ip6_payload_len(v);
        r->next_header = mpnet_ip6_next_header(v);
        r->hop_limit = mpnet_ip6_hop_limit(v);
        r->traffic_class = mpnet_ip6_traffic_class(v);
}

void mpnet_ip6_repr_emit(const struct mpnet_ip6_repr *r, uint8_t *b)
{
        mpnet_put_be32(b, 6u << 28 | (uint32_t)r->traffic_class << 20 | (r->flow_label & 0xfffff));
        mpnet_put_be16(b + 4, r->payload_len);
        b[6] = r->next_header;
        b[7] = r->hop_limit;
        memcpy(b + 8, r->src, MPNET_IP6_ALEN);
        memcpy(b + 24, r->dst, MPNET_IP6_ALEN);
}

uint64_t mpnet_ip6_pseudo_sum(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t proto)
{
        uint8_t tail[8];

        mpnet_put_be32(tail, len);
        mpnet_put_be32(tail + 4, proto);
        return mpnet_csum_add(mpnet_csum_add(mpnet_csum_add(0, src, 16), dst, 16), tail, 8);
}

bool mpnet_ip6_is_unspecified(const uint8_t *a)
{
        static const uint8_t zero[MPNET_IP6_ALEN];

        return memcmp(a, zero, MPNET_IP6_ALEN) == 0;
}

bool mpnet_ip6_is_loopback(const uint8_t *a)
{
        static const uint8_t one[MPNET_IP6_ALEN] = {[15] = 1};

        return memcmp(a, one, MPNET_IP6_ALEN) == 0;
}

static const uint8_t sol_node_prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};

bool mpnet_ip6_is_solicited_node(const uint8_t *a)
{
        return memcmp(a, sol_node_prefix, sizeof(sol_node_prefix)) == 0;
}

void mpnet_ip6_solicited_node(const uint8_t *a, uint8_t *out)
{
        memcpy(out, sol_node_prefix, sizeof(sol_node_prefix));
        memcpy(out + 13, a + 13, 3);
}

void mpnet_ip6_mc_mac(const uint8_t *a, uint8_t *mac)
{
        mac[0] = 0x33;
        mac[1] = 0x33;
        memcpy(mac + 2, a + 12, 4);
}

static bool is_ext(uint8_t proto)
{
        return proto == MPNET_IPPROTO_HOPOPTS || proto == MPNET_IPPROTO_ROUTING ||
               proto == MPNET_IPPROTO_FRAGMENT || proto == MPNET_IPPROTO_DSTOPTS ||
               proto == MPNET_IPPROTO_AH;
}

static int fail(struct mpnet_ip6_chain *c, int err, size_t off)
{
        c->err_off = (uint16_t)off;
        return err;
}

/*
 * The length of the header at off, or 0 when its length field is past the
 * packet. Every header but AH counts 8-byte units beyond the first 8 (RFC 8200
 * 4.3-4.6); the fragment header has a fixed 8; AH counts 4-byte units
 * beyond the first 8 (RFC 4302 2.2).
 */
static size_t ext_len(const struct mpnet_ip6_view *v, uint8_t proto, size_t off)
{
        if (off + 2 > v->n)
                return 0;
        if (proto == MPNET_IPPROTO_FRAGMENT)
                return 8;
        if (proto == MPNET_IPPROTO_AH)
                return ((size_t)v->b[off + 1] + 2) * 4;
        return ((size_t)v->b[off + 1] + 1) * 8;
}

static int on_routing(const struct mpnet_ip6_view *v, size_t off, struct mpnet_ip6_chain *c)
{
        c->has_rh = true;
        c->rh_type = v->b[off + 2];
        c->rh_segs_left = v->b[off + 3];
        if (c->rh_type == 0 && c->rh_segs_left != 0)
                return fail(c, -MPNET_WIRE_DEPRECATED, off + 2);
        return 0;
}

static int on_fragment(const struct mpnet_ip6_view *v, size_t off, struct mpnet_ip6_chain *c)
{
        uint16_t w = mpnet_get_be16(v->b + off + 2);
        size_t len = v->n - (off + 8);
        size_t unfrag = off - MPNET_IP6_HLEN;

        c->has_frag = true;
        c->frag_off = w & 0xfff8;
        c->frag_more = (w & 1) != 0;
        c->frag_id = mpnet_get_be32(v->b + off + 4);
        c->frag_atomic = c->frag_off == 0 && !c->frag_more;
        if (c->frag_more && len % 8 != 0)
                return fail(c, -MPNET_WIRE_BAD_LEN, 4);
        if (unfrag + c->frag_off + len > 65535)
                return fail(c, -MPNET_WIRE_BAD_LEN, off + 2);
        return 0;
}

static int on_ext(const struct mpnet_ip6_view *v, uint8_t proto, size_t off,
                  struct mpnet_ip6_chain *c)
{
        if (proto == MPNET_IPPROTO_ROUTING)
                return on_routing(v, off, c);
        if (proto == MPNET_IPPROTO_FRAGMENT)
                return on_fragment(v, off, c);
        return 0;
}

int mpnet_ip6_walk(const struct mpnet_ip6_view *v, struct mpnet_ip6_chain *c)
{
        uint8_t proto = mpnet_ip6_next_header(v);
        size_t off = MPNET_IP6_HLEN, nh_field = 6, len;
        int err;

        memset(c, 0, sizeof(*c));
        for (; is_ext(proto); proto = v->b[nh_field]) {
                if (proto == MPNET_IPPROTO_HOPOPTS && c->n_ext != 0)
                        return fail(c, -MPNET_WIRE_BAD_ORDER, nh_field);
                if (c->n_ext == MPNET_IP6_EXT_MAX)
                        return fail(c, -MPNET_WIRE_TOO_LONG, off);
                len = ext_len(v, proto, off);
                if (len == 0 || off + len > v->n)
                        return fail(c, -MPNET_WIRE_TRUNCATED, off);
                if (off + len > MPNET_IP6_CHAIN_MAX)
                        return fail(c, -MPNET_WIRE_TOO_LONG, off);
                c->ext[c->n_ext++] = (struct mpnet_ip6_ext){proto, (uint16_t)off, (uint16_t)len};
                err = on_ext(v, proto, off, c);
                if (err != 0)
                        return err;
                nh_field = off;
                off += len;
                if (proto == MPNET_IPPROTO_FRAGMENT && c->frag_off != 0)
                        break;
        }
        c->l4_proto = v->b[nh_field];
        c->l4_off = (uint16_t)off;
        return 0;
}

void mpnet_ip6_opt_iter_init(struct mpnet_ip6_opt_iter *it, const struct mpnet_ip6_view *v,
                             const struct mpnet_ip6_ext *ext)
{
        it->pkt = v->b;
        it->pos = (size_t)ext->off + 2;
        it->end = (size_t)ext->off + ext->len;
}

int mpnet_ip6_opt_next(struct mpnet_ip6_opt_iter *it, struct mpnet_ip6_opt *o)
{
        while (it->pos < it->end) {
                const uint8_t *p = it->pkt + it->pos;

                o->off = (uint16_t)it->pos;
                if (p[0] == MPNET_IP6_OPT_PAD1) {
                        it->pos++;
                        continue;
                }
                if (it->pos + 2 > it->end || it->pos + 2 + p[1] > it->end)
                        return -MPNET_WIRE_TRUNCATED;
                it->pos += 2 + (size_t)p[1];
                if (p[0] == MPNET_IP6_OPT_PADN)
                        continue;
                o->type = p[0];
                o->len = p[1];
                o->data = p + 2;
                return 1;
        }
        return 0;
}
