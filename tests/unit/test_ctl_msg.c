/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control protocol's codec (include/mpnet/ctl.h): messages built and
 * read back, and every malformed shape refused with its reason: a
 * truncated header, a message or attribute length past the end, an
 * attribute shorter than its own header, nesting beyond the limit,
 * unknown types, wrong sizes, unterminated strings, oversized messages,
 * a builder running out of room. Then the fuzz target's corpus.
 */
#include <dirent.h>
#include <stdalign.h>

#include "mpnet/ctl.h"
#include "testutil.h"

static alignas(8) uint8_t mem[MPNET_CTL_DGRAM_MAX];

static void build_route(struct mpnet_ctl_buf *b, uint32_t seq)
{
        static const uint8_t dst[4] = {198, 51, 100, 0}, gw[4] = {192, 0, 2, 2};

        mpnet_ctl_msg_begin(b, MPNET_CTL_ROUTE_NEW, MPNET_CTL_F_REQUEST, seq, 42);
        mpnet_ctl_put_str(b, MPNET_CTLA_STACK, "r");
        mpnet_ctl_put(b, MPNET_CTLA_ADDR, dst, 4);
        mpnet_ctl_put_u8(b, MPNET_CTLA_PLEN, 24);
        mpnet_ctl_put_u32(b, MPNET_CTLA_TABLE, 7);
        mpnet_ctl_nest_begin(b, MPNET_CTLA_PATH);
        mpnet_ctl_put_str(b, MPNET_CTLA_IFNAME, "eth0");
        mpnet_ctl_put(b, MPNET_CTLA_GW, gw, 4);
        mpnet_ctl_nest_end(b);
        mpnet_ctl_put_u64(b, MPNET_CTLA_VALUE, 0x1122334455667788ull);
        assert_int_equal(mpnet_ctl_msg_end(b), 0);
}

static void test_roundtrip(void **state)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX], *nb[MPNET_CTLA__MAX];
        struct mpnet_ctl_buf b;
        struct mpnet_ctl_view m;
        char why[128];
        size_t off = 0;

        (void)state;
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        build_route(&b, 5);
        build_route(&b, 6);
        assert_int_equal(mpnet_ctl_msg_next(mem, b.len, &off, &m, why, sizeof(why)), 1);
        assert_int_equal(m.err, 0);
        assert_int_equal(m.h->type, MPNET_CTL_ROUTE_NEW);
        assert_int_equal(m.h->seq, 5);
        assert_int_equal(m.h->port, 42);
        assert_int_equal(m.h->len % 4, 0);
        mpnet_ctl_attrs_index(m.attrs, m.attrs_len, tb);
        assert_string_equal(mpnet_ctl_attr_str(tb[MPNET_CTLA_STACK]), "r");
        assert_int_equal(mpnet_ctl_attr_len(tb[MPNET_CTLA_ADDR]), 4);
        assert_int_equal(mpnet_ctl_attr_u8(tb[MPNET_CTLA_PLEN]), 24);
        assert_int_equal(mpnet_ctl_attr_u32(tb[MPNET_CTLA_TABLE]), 7);
        assert_true(mpnet_ctl_attr_u64(tb[MPNET_CTLA_VALUE]) == 0x1122334455667788ull);
        assert_non_null(tb[MPNET_CTLA_PATH]);
        assert_true(tb[MPNET_CTLA_PATH]->type & MPNET_CTLA_F_NESTED);
        mpnet_ctl_attrs_index(mpnet_ctl_attr_data(tb[MPNET_CTLA_PATH]),
                              mpnet_ctl_attr_len(tb[MPNET_CTLA_PATH]), nb);
        assert_string_equal(mpnet_ctl_attr_str(nb[MPNET_CTLA_IFNAME]), "eth0");
        assert_memory_equal(mpnet_ctl_attr_data(nb[MPNET_CTLA_GW]), "\xc0\x00\x02\x02", 4);
        assert_int_equal(mpnet_ctl_msg_next(mem, b.len, &off, &m, why, sizeof(why)), 1);
        assert_int_equal(m.h->seq, 6);
        assert_int_equal(mpnet_ctl_msg_next(mem, b.len, &off, &m, why, sizeof(why)), 0);
        assert_string_equal(mpnet_ctl_type_name(MPNET_CTL_ROUTE_NEW), "ROUTE_NEW");
        assert_string_equal(mpnet_ctl_attr_name(MPNET_CTLA_IFNAME), "IFNAME");
        assert_null(mpnet_ctl_type_name(1000));
}

static void test_error_message(void **state)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];
        struct mpnet_ctl_buf b;
        struct mpnet_ctl_view m;
        size_t off = 0;

        (void)state;
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_ERROR, 0, 9, 0);
        mpnet_ctl_put_s32(&b, -EEXIST);
        mpnet_ctl_put_str(&b, MPNET_CTLA_EXT_MSG, "route exists");
        assert_int_equal(mpnet_ctl_msg_end(&b), 0);
        assert_int_equal(mpnet_ctl_msg_next(mem, b.len, &off, &m, NULL, 0), 1);
        assert_int_equal(m.err, 0);
        assert_int_equal(m.error, -EEXIST);
        mpnet_ctl_attrs_index(m.attrs, m.attrs_len, tb);
        assert_string_equal(mpnet_ctl_attr_str(tb[MPNET_CTLA_EXT_MSG]), "route exists");
        /* An ERROR too short for its error. */
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_ERROR, 0, 9, 0);
        assert_int_equal(mpnet_ctl_msg_end(&b), 0);
        off = 0;
        assert_int_equal(mpnet_ctl_msg_next(mem, b.len, &off, &m, NULL, 0), 1);
        assert_int_equal(m.err, -EBADMSG);
}

/* A datagram of one message whose attributes are the bytes given. */
static size_t raw_msg(const void *attrs, size_t n)
{
        struct mpnet_ctl_hdr h = {.len = (uint32_t)(MPNET_CTL_HDRLEN + n),
                                  .type = MPNET_CTL_LINK_GET,
                                  .flags = MPNET_CTL_F_REQUEST,
                                  .seq = 3};

        memcpy(mem, &h, sizeof(h));
        memcpy(mem + MPNET_CTL_HDRLEN, attrs, n);
        return MPNET_CTL_HDRLEN + n;
}

static int attrs_err(const void *attrs, size_t n, char *why, size_t why_len)
{
        struct mpnet_ctl_view m;
        size_t len = raw_msg(attrs, n), off = 0;

        assert_int_equal(mpnet_ctl_msg_next(mem, len, &off, &m, why, why_len), 1);
        assert_int_equal(off, len); /* the last message: no padding needed */
        if (m.err != 0)
                snprintf(why, why_len, "%s", m.why);
        return m.err;
}

static void test_bad_header(void **state)
{
        struct mpnet_ctl_hdr h = {.len = 32, .type = MPNET_CTL_LINK_GET};
        struct mpnet_ctl_view m;
        char why[128];
        size_t off;

        (void)state;
        for (size_t n = 1; n < MPNET_CTL_HDRLEN; n++) { /* truncated header */
                memcpy(mem, &h, sizeof(h));
                off = 0;
                assert_int_equal(mpnet_ctl_msg_next(mem, n, &off, &m, why, sizeof(why)), -EBADMSG);
                assert_non_null(strstr(why, "shorter than a header"));
        }
        off = 0; /* length past the datagram */
        memcpy(mem, &h, sizeof(h));
        assert_int_equal(mpnet_ctl_msg_next(mem, 20, &off, &m, why, sizeof(why)), -EBADMSG);
        h.len = 8; /* length below a header's */
        memcpy(mem, &h, sizeof(h));
        off = 0;
        assert_int_equal(mpnet_ctl_msg_next(mem, 16, &off, &m, why, sizeof(why)), -EBADMSG);
        h.len = MPNET_CTL_DGRAM_MAX + 4; /* oversized */
        memcpy(mem, &h, sizeof(h));
        off = 0;
        assert_int_equal(mpnet_ctl_msg_next(mem, 16, &off, &m, why, sizeof(why)), -EMSGSIZE);
        off = 0; /* unaligned datagram */
        assert_int_equal(mpnet_ctl_msg_next(mem + 1, 16, &off, &m, why, sizeof(why)), -EINVAL);
        /* A second message that is cut short: the first still decodes. */
        h.len = 16;
        memcpy(mem, &h, sizeof(h));
        memcpy(mem + 16, &h, sizeof(h));
        off = 0;
        assert_int_equal(mpnet_ctl_msg_next(mem, 24, &off, &m, why, sizeof(why)), 1);
        assert_int_equal(mpnet_ctl_msg_next(mem, 24, &off, &m, why, sizeof(why)), -EBADMSG);
}

static void test_bad_attrs(void **state)
{
        char why[128];
        uint8_t a[64];

        (void)state;
        /* Attribute length past the end of the message. */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 12, .type = MPNET_CTLA_IFINDEX}, 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EBADMSG);
        assert_non_null(strstr(why, "past its end"));
        /* Shorter than its own header. */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 2, .type = MPNET_CTLA_IFINDEX}, 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EBADMSG);
        /* Trailing bytes too short for an attribute header. */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = MPNET_CTLA_IFINDEX}, 4);
        assert_int_equal(attrs_err(a, 10, why, sizeof(why)), -EBADMSG);
        /* Unknown types: zero, past the last, and a hole. */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = 0}, 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "unknown attribute type 0"));
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = MPNET_CTLA__MAX}, 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EINVAL);
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = 0x7fff}, 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EINVAL);
        /* Wrong sizes. */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 6, .type = MPNET_CTLA_IFINDEX}, 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EINVAL);
        memcpy(a, &(struct mpnet_ctl_attr){.len = 9, .type = MPNET_CTLA_ADDR}, 4);
        assert_int_equal(attrs_err(a, 12, why, sizeof(why)), -EINVAL);
        memcpy(a, &(struct mpnet_ctl_attr){.len = 9, .type = MPNET_CTLA_MAC}, 4);
        assert_int_equal(attrs_err(a, 12, why, sizeof(why)), -EINVAL);
        /* Strings: unterminated, empty, a NUL inside, too long. */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = MPNET_CTLA_IFNAME}, 4);
        memcpy(a + 4, "eth0", 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EINVAL);
        memcpy(a, &(struct mpnet_ctl_attr){.len = 4, .type = MPNET_CTLA_IFNAME}, 4);
        assert_int_equal(attrs_err(a, 4, why, sizeof(why)), -EINVAL);
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = MPNET_CTLA_IFNAME}, 4);
        memcpy(a + 4, "e\0h\0", 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EINVAL);
        memcpy(a, &(struct mpnet_ctl_attr){.len = 40, .type = MPNET_CTLA_IFNAME}, 4);
        memset(a + 4, 'x', 35);
        a[39] = 0;
        assert_int_equal(attrs_err(a, 40, why, sizeof(why)), -EINVAL);
        /* The nested flag on a plain attribute, and missing on a nest. */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = MPNET_CTLA_IFINDEX | 0x8000}, 4);
        assert_int_equal(attrs_err(a, 8, why, sizeof(why)), -EINVAL);
        memcpy(a, &(struct mpnet_ctl_attr){.len = 4, .type = MPNET_CTLA_PATH}, 4);
        assert_int_equal(attrs_err(a, 4, why, sizeof(why)), -EINVAL);
        /* A nest whose inner attribute runs past the nest (but not past the
         * message). */
        memcpy(a, &(struct mpnet_ctl_attr){.len = 8, .type = MPNET_CTLA_PATH | 0x8000}, 4);
        memcpy(a + 4, &(struct mpnet_ctl_attr){.len = 8, .type = MPNET_CTLA_IFINDEX}, 4);
        memset(a + 8, 0, 4);
        assert_int_equal(attrs_err(a, 12, why, sizeof(why)), -EBADMSG);
}

static void test_nesting(void **state)
{
        struct mpnet_ctl_buf b;
        struct mpnet_ctl_view m;
        uint8_t a[64];
        char why[128];
        size_t off = 0;

        (void)state;
        /* As deep as allowed, built by the encoder. */
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_NODE_GET, 0, 1, 0);
        for (int i = 0; i < MPNET_CTL_DEPTH_MAX; i++)
                mpnet_ctl_nest_begin(&b, MPNET_CTLA_NODE);
        mpnet_ctl_put_u64(&b, MPNET_CTLA_CALLS, 1);
        for (int i = 0; i < MPNET_CTL_DEPTH_MAX; i++)
                mpnet_ctl_nest_end(&b);
        assert_int_equal(mpnet_ctl_msg_end(&b), 0);
        assert_int_equal(mpnet_ctl_msg_next(mem, b.len, &off, &m, why, sizeof(why)), 1);
        assert_int_equal(m.err, 0);
        /* One deeper: the encoder refuses to build it... */
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_NODE_GET, 0, 1, 0);
        for (int i = 0; i <= MPNET_CTL_DEPTH_MAX; i++)
                mpnet_ctl_nest_begin(&b, MPNET_CTLA_NODE);
        assert_int_equal(mpnet_ctl_msg_end(&b), -ELOOP);
        assert_int_equal(b.len, 0);
        /* ... and the decoder refuses it made by hand. */
        for (int i = 0; i <= MPNET_CTL_DEPTH_MAX; i++)
                memcpy(
                    a + 4 * i,
                    &(struct mpnet_ctl_attr){.len = (uint16_t)(4 * (MPNET_CTL_DEPTH_MAX + 1 - i)),
                                             .type = MPNET_CTLA_NODE | 0x8000},
                    4);
        assert_int_equal(attrs_err(a, 4 * (MPNET_CTL_DEPTH_MAX + 1), why, sizeof(why)), -ELOOP);
        assert_non_null(strstr(why, "nested deeper"));
}

static void test_builder_full(void **state)
{
        alignas(8) uint8_t small[64];
        struct mpnet_ctl_buf b;

        (void)state;
        mpnet_ctl_buf_init(&b, small, sizeof(small));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_LINK_GET, 0, 1, 0);
        mpnet_ctl_put_str(&b, MPNET_CTLA_IFNAME, "a");
        assert_int_equal(mpnet_ctl_msg_end(&b), 0);
        assert_int_equal(b.len, 24);
        /* This one does not fit: taken out, the first stays whole. */
        mpnet_ctl_msg_begin(&b, MPNET_CTL_LINK_GET, 0, 2, 0);
        mpnet_ctl_put_str(&b, MPNET_CTLA_NETNS, "a-name-long-enough-not-to-fit-in-the-rest");
        assert_int_equal(mpnet_ctl_msg_end(&b), -EMSGSIZE);
        assert_int_equal(b.len, 24);
        assert_int_equal(b.err, 0);
        /* An unbalanced nest is refused too. */
        mpnet_ctl_msg_begin(&b, MPNET_CTL_LINK_GET, 0, 3, 0);
        mpnet_ctl_nest_begin(&b, MPNET_CTLA_PATH);
        assert_int_equal(mpnet_ctl_msg_end(&b), -EINVAL);
        assert_int_equal(b.len, 24);
}

/* The fuzz target's corpus decodes without harm (the decoder's contract:
 * either a clean refusal or a message whose attributes all index). */
static void test_corpus(void **state)
{
        char dir[1024];
        const char *src = __FILE__, *slash = strrchr(src, '/');
        struct dirent *de;
        unsigned files = 0;
        DIR *d;

        (void)state;
        snprintf(dir, sizeof(dir), "%.*s/../fuzz/corpus/fuzz_ctl_msg", (int)(slash - src), src);
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                char path[1400], why[128];
                struct mpnet_ctl_view m;
                size_t n, off = 0;
                FILE *f;
                int r;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                f = fopen(path, "rb");
                assert_non_null(f);
                n = fread(mem, 1, sizeof(mem), f);
                fclose(f);
                while ((r = mpnet_ctl_msg_next(mem, n, &off, &m, why, sizeof(why))) == 1)
                        assert_true(off <= n);
                assert_true(r <= 0);
                files++;
        }
        closedir(d);
        assert_true(files > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_roundtrip),  cmocka_unit_test(test_error_message),
            cmocka_unit_test(test_bad_header), cmocka_unit_test(test_bad_attrs),
            cmocka_unit_test(test_nesting),    cmocka_unit_test(test_builder_full),
            cmocka_unit_test(test_corpus),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
