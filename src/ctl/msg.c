/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control protocol's codec (include/mpnet/ctl.h, docs/CONTROL.md):
 * netlink-shaped messages (RFC 3549 2.3.2) checked once on the way in, so
 * the getters after it need no checks of their own.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mpnet/ctl.h"

struct attr_policy {
        const char *name;
        uint8_t kind; /* enum mpnet_ctl_kind; 0: no such type */
        uint16_t max;
};

static const struct attr_policy policy[MPNET_CTLA__MAX] = {
#define MPNET_X(n, v, k, m) [v] = {#n, MPNET_CTLK_##k, m},
    MPNET_CTL_ATTRS(MPNET_X)
#undef MPNET_X
};

static const char *const type_names[MPNET_CTL_TYPE__MAX] = {
#define MPNET_X(n, v) [v] = #n,
    MPNET_CTL_TYPES(MPNET_X)
#undef MPNET_X
};

const char *mpnet_ctl_type_name(unsigned type)
{
        return type < MPNET_CTL_TYPE__MAX ? type_names[type] : NULL;
}

unsigned mpnet_ctl_attr_kind(unsigned type)
{
        return type < MPNET_CTLA__MAX ? policy[type].kind : 0;
}

const char *mpnet_ctl_attr_name(unsigned type)
{
        return type < MPNET_CTLA__MAX ? policy[type].name : NULL;
}

static int __attribute__((format(printf, 4, 5)))
refuse(int err, char *why, size_t n, const char *fmt, ...)
{
        va_list ap;

        if (why != NULL && n > 0) {
                va_start(ap, fmt);
                vsnprintf(why, n, fmt, ap);
                va_end(ap);
        }
        return err;
}

/* One attribute's value against its type's policy. */
static int attr_value_check(const struct mpnet_ctl_attr *a, unsigned depth, char *why, size_t n)
{
        unsigned t = mpnet_ctl_attr_type(a);
        const struct attr_policy *p = &policy[t];
        size_t len = mpnet_ctl_attr_len(a);
        const char *s;
        bool nested = (a->type & MPNET_CTLA_F_NESTED) != 0;

        if (nested != (p->kind == MPNET_CTLK_NESTED))
                return refuse(-EINVAL, why, n, "attribute %u: nested flag is %u", t,
                              (unsigned)nested);
        switch (p->kind) {
        case MPNET_CTLK_U8:
        case MPNET_CTLK_U32:
        case MPNET_CTLK_U64:
                if (len != p->max)
                        return refuse(-EINVAL, why, n, "attribute %u: length %u", t, (unsigned)len);
                return 0;
        case MPNET_CTLK_STR:
                s = mpnet_ctl_attr_data(a);
                if (len == 0 || len > p->max || memchr(s, '\0', len) != s + len - 1)
                        return refuse(-EINVAL, why, n, "attribute %u: not a string of at most %u",
                                      t, p->max);
                return 0;
        case MPNET_CTLK_BIN:
                if (len != p->max)
                        return refuse(-EINVAL, why, n, "attribute %u: length %u", t, (unsigned)len);
                return 0;
        case MPNET_CTLK_INSNS:
                if (len == 0 || len > p->max || len % 8 != 0)
                        return refuse(-EINVAL, why, n,
                                      "attribute %u: %u bytes, not 1 to %u records of 8", t,
                                      (unsigned)len, p->max / 8u);
                return 0;
        case MPNET_CTLK_ADDR:
                if (len != 4 && len != 16)
                        return refuse(-EINVAL, why, n, "attribute %u: address of %u bytes", t,
                                      (unsigned)len);
                return 0;
        case MPNET_CTLK_NESTED:
                if (depth + 1 > MPNET_CTL_DEPTH_MAX)
                        return refuse(-ELOOP, why, n, "attribute %u: nested deeper than %u", t,
                                      MPNET_CTL_DEPTH_MAX);
                return mpnet_ctl_attrs_check(mpnet_ctl_attr_data(a), len, depth + 1, why, n);
        default:
                return refuse(-EINVAL, why, n, "unknown attribute type %u", t);
        }
}

int mpnet_ctl_attrs_check(const uint8_t *p, size_t n, unsigned depth, char *why, size_t why_len)
{
        size_t off = 0;

        while (off < n) {
                struct mpnet_ctl_attr a;
                int err;

                if (n - off < sizeof(a))
                        return refuse(-EBADMSG, why, why_len, "%u bytes after the last attribute",
                                      (unsigned)(n - off));
                memcpy(&a, p + off, sizeof(a));
                if (a.len < sizeof(a) || a.len > n - off)
                        return refuse(-EBADMSG, why, why_len,
                                      "attribute %u: length %u past its end or below 4",
                                      a.type & ~MPNET_CTLA_F_NESTED, a.len);
                if ((a.type & ~MPNET_CTLA_F_NESTED) >= MPNET_CTLA__MAX)
                        return refuse(-EINVAL, why, why_len, "unknown attribute type %u",
                                      a.type & ~MPNET_CTLA_F_NESTED);
                /* Attributes start 4-aligned in the datagram (the header is 16
                 * bytes and every length is padded), so the cast is aligned. */
                err = attr_value_check((const struct mpnet_ctl_attr *)(const void *)(p + off),
                                       depth, why, why_len);
                if (err != 0)
                        return err;
                off += MPNET_CTL_ALIGN(a.len);
        }
        return 0;
}

int mpnet_ctl_msg_next(const uint8_t *buf, size_t len, size_t *off, struct mpnet_ctl_view *m,
                       char *why, size_t why_len)
{
        const struct mpnet_ctl_hdr *h;
        size_t left, body;

        if (((uintptr_t)buf & 3) != 0)
                return refuse(-EINVAL, why, why_len, "datagram not 4-aligned");
        if (*off >= len)
                return 0;
        left = len - *off;
        if (left < MPNET_CTL_HDRLEN || (*off & 3) != 0)
                return refuse(-EBADMSG, why, why_len, "%u bytes: shorter than a header",
                              (unsigned)left);
        h = (const struct mpnet_ctl_hdr *)(const void *)(buf + *off);
        if (h->len > MPNET_CTL_DGRAM_MAX)
                return refuse(-EMSGSIZE, why, why_len, "message of %u bytes, more than %u", h->len,
                              MPNET_CTL_DGRAM_MAX);
        if (h->len < MPNET_CTL_HDRLEN || h->len > left)
                return refuse(-EBADMSG, why, why_len, "message length %u: %u bytes are there",
                              h->len, (unsigned)left);
        memset(m, 0, sizeof(*m));
        m->h = h;
        m->attrs = buf + *off + MPNET_CTL_HDRLEN;
        body = h->len - MPNET_CTL_HDRLEN;
        *off += MPNET_CTL_ALIGN(h->len) < left ? MPNET_CTL_ALIGN(h->len) : left;
        if (h->type == MPNET_CTL_ERROR) {
                if (body < sizeof(int32_t)) {
                        m->err = refuse(-EBADMSG, m->why, sizeof(m->why),
                                        "error message of %u bytes", h->len);
                        return 1;
                }
                memcpy(&m->error, m->attrs, sizeof(int32_t));
                m->attrs += sizeof(int32_t);
                body -= sizeof(int32_t);
        }
        m->attrs_len = body;
        m->err = mpnet_ctl_attrs_check(m->attrs, body, 0, m->why, sizeof(m->why));
        return 1;
}

const struct mpnet_ctl_attr *mpnet_ctl_attr_next(const uint8_t *p, size_t n, size_t *off)
{
        const struct mpnet_ctl_attr *a;

        if (*off + sizeof(*a) > n)
                return NULL;
        a = (const struct mpnet_ctl_attr *)(const void *)(p + *off);
        *off += MPNET_CTL_ALIGN(a->len);
        return a;
}

void mpnet_ctl_attrs_index(const uint8_t *p, size_t n,
                           const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX])
{
        const struct mpnet_ctl_attr *a;
        size_t off = 0;

        memset(tb, 0, sizeof(*tb) * MPNET_CTLA__MAX);
        while ((a = mpnet_ctl_attr_next(p, n, &off)) != NULL)
                if (tb[mpnet_ctl_attr_type(a)] == NULL)
                        tb[mpnet_ctl_attr_type(a)] = a;
}

uint8_t mpnet_ctl_attr_u8(const struct mpnet_ctl_attr *a)
{
        return *(const uint8_t *)mpnet_ctl_attr_data(a);
}

uint32_t mpnet_ctl_attr_u32(const struct mpnet_ctl_attr *a)
{
        uint32_t v;

        memcpy(&v, mpnet_ctl_attr_data(a), sizeof(v));
        return v;
}

uint64_t mpnet_ctl_attr_u64(const struct mpnet_ctl_attr *a)
{
        uint64_t v;

        memcpy(&v, mpnet_ctl_attr_data(a), sizeof(v));
        return v;
}

/* ---- encoding ----------------------------------------------------------- */

void mpnet_ctl_buf_init(struct mpnet_ctl_buf *b, void *mem, size_t cap)
{
        memset(b, 0, sizeof(*b));
        b->b = mem;
        b->cap = cap < MPNET_CTL_DGRAM_MAX ? cap : MPNET_CTL_DGRAM_MAX;
}

/* Room for n more bytes (padded), zeroed; NULL and err set when there is none. */
static uint8_t *reserve(struct mpnet_ctl_buf *b, size_t n)
{
        uint8_t *p;

        if (b->err != 0 || b->cap - b->len < MPNET_CTL_ALIGN(n)) {
                b->err = -EMSGSIZE;
                return NULL;
        }
        p = b->b + b->len;
        memset(p, 0, MPNET_CTL_ALIGN(n));
        b->len += MPNET_CTL_ALIGN(n);
        return p;
}

void mpnet_ctl_msg_begin(struct mpnet_ctl_buf *b, uint16_t type, uint16_t flags, uint32_t seq,
                         uint32_t port)
{
        struct mpnet_ctl_hdr h = {.type = type, .flags = flags, .seq = seq, .port = port};
        uint8_t *p;

        b->msg = b->len;
        b->depth = 0;
        p = reserve(b, sizeof(h));
        if (p != NULL)
                memcpy(p, &h, sizeof(h));
}

int mpnet_ctl_msg_end(struct mpnet_ctl_buf *b)
{
        uint32_t len = (uint32_t)(b->len - b->msg);

        if (b->err != 0 || b->depth != 0) {
                int err = b->err != 0 ? b->err : -EINVAL;

                b->len = b->msg;
                b->err = 0;
                b->depth = 0;
                return err;
        }
        memcpy(b->b + b->msg, &len, sizeof(len));
        return 0;
}

void mpnet_ctl_put(struct mpnet_ctl_buf *b, uint16_t type, const void *v, size_t n)
{
        struct mpnet_ctl_attr a = {.len = (uint16_t)(sizeof(a) + n), .type = type};
        uint8_t *p;

        if (n > UINT16_MAX - sizeof(a)) {
                b->err = -EMSGSIZE;
                return;
        }
        p = reserve(b, sizeof(a) + n);
        if (p == NULL)
                return;
        memcpy(p, &a, sizeof(a));
        if (n > 0)
                memcpy(p + sizeof(a), v, n);
}

void mpnet_ctl_put_u8(struct mpnet_ctl_buf *b, uint16_t type, uint8_t v)
{
        mpnet_ctl_put(b, type, &v, sizeof(v));
}

void mpnet_ctl_put_u32(struct mpnet_ctl_buf *b, uint16_t type, uint32_t v)
{
        mpnet_ctl_put(b, type, &v, sizeof(v));
}

void mpnet_ctl_put_u64(struct mpnet_ctl_buf *b, uint16_t type, uint64_t v)
{
        mpnet_ctl_put(b, type, &v, sizeof(v));
}

void mpnet_ctl_put_str(struct mpnet_ctl_buf *b, uint16_t type, const char *s)
{
        mpnet_ctl_put(b, type, s, strlen(s) + 1);
}

void mpnet_ctl_put_s32(struct mpnet_ctl_buf *b, int32_t v)
{
        uint8_t *p = reserve(b, sizeof(v));

        if (p != NULL)
                memcpy(p, &v, sizeof(v));
}

void mpnet_ctl_nest_begin(struct mpnet_ctl_buf *b, uint16_t type)
{
        if (b->depth >= MPNET_CTL_DEPTH_MAX) {
                b->err = -ELOOP;
                return;
        }
        b->nest[b->depth++] = b->len;
        mpnet_ctl_put(b, type | MPNET_CTLA_F_NESTED, NULL, 0);
}

void mpnet_ctl_nest_end(struct mpnet_ctl_buf *b)
{
        size_t at;
        uint16_t len;

        if (b->depth == 0) {
                b->err = -EINVAL;
                return;
        }
        at = b->nest[--b->depth];
        if (b->err != 0)
                return;
        if (b->len - at > UINT16_MAX) {
                b->err = -EMSGSIZE;
                return;
        }
        len = (uint16_t)(b->len - at);
        memcpy(b->b + at, &len, sizeof(len));
}
