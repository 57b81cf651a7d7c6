/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack_reset() (src/stack/reset.c) is exact: an input run on a stack that
 * ran other inputs and was reset after each has the outcome it has on a
 * fresh stack, configured the same way. The inputs are the stack fuzz
 * targets' (tests/fuzz/stack_env.h): their seeds (ARP, ND with DAD,
 * SLAAC and the default router list from RAs, MLD, redirects, IPv4 and IPv6
 * fragments and their timeouts, pings, forwarding as a router) and
 * mutations of them. The outcome: every frame the stack sent (link, bytes,
 * order), every counter, what it holds (mpnet_stack_usage_get). A reset
 * stack holds no more than a fresh one.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fuzz/stack_env.h"
#include "l4/socket.h"
#include "l4/tcp.h"
#include "mpnet/socket.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/ipv4.h"
#include "mpnet/wire/tcp.h"
#include "test_rand.h"
#include "testutil.h"

#define MAX_CTR      512
#define MAX_SEEDS    64
#define MAX_IN_BYTES 65536

enum fmt { FMT_SEQ, FMT_CONV };

struct outcome {
        uint64_t frames, hash; /* FNV-1a over link, length, bytes of each */
        uint64_t state;        /* FNV-1a over the routes, addresses, neighbours */
        unsigned n_ctr;
        uint64_t ctr[MAX_CTR];
        struct mpnet_stack_usage usage;
};

struct input {
        char name[256];
        size_t n;
        uint8_t *b;
};

static struct mpnet_pool *pool;
/* [0] a fresh stack per input, [1] one stack reset after each. Index by
 * the conversation mode; the sequence target uses [..][FZ_CONV_MODES]. */
static struct fz_stack env[2][FZ_CONV_MODES + 1];

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
        const uint8_t *b = p;

        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 0x100000001b3ull;
        return h;
}

static void on_frame(void *arg, unsigned link, const uint8_t *b, size_t n)
{
        struct outcome *o = arg;

        o->frames++;
        o->hash = fnv(o->hash, &link, sizeof(link));
        o->hash = fnv(o->hash, &n, sizeof(n));
        o->hash = fnv(o->hash, b, n);
}

static struct fz_stack *env_of(bool reuse, enum fmt fmt, unsigned mode)
{
        struct fz_stack *f;

        if (fmt != FMT_SEQ) {
                f = fz_conv_env(env[reuse], pool, mode, reuse);
                assert_true(f->reuse == reuse);
                return f;
        }
        f = &env[reuse][FZ_CONV_MODES];
        if (f->pool == NULL) {
                fz_init(f, pool, 1, &fz_input_wire, &fz_input_cfg, fz_input_configure, reuse);
                f->settle_ns = FZ_INPUT_SETTLE_NS;
                assert_true(f->reuse == reuse);
        }
        return f;
}

static int route4_hash(void *arg, const struct mpnet_route4 *r)
{
        uint64_t *h = arg;

        *h = fnv(*h, &r->dst, 4);
        *h = fnv(*h, &r->plen, 1);
        *h = fnv(*h, &r->type, sizeof(r->type));
        for (unsigned i = 0; i < r->n_paths; i++) {
                *h = fnv(*h, &r->paths[i].ifindex, sizeof(int));
                *h = fnv(*h, &r->paths[i].gw, 4);
        }
        return 0;
}

static int route6_hash(void *arg, const struct mpnet_route6 *r)
{
        uint64_t *h = arg;

        *h = fnv(*h, r->dst, 16);
        *h = fnv(*h, &r->plen, 1);
        *h = fnv(*h, &r->type, sizeof(r->type));
        for (unsigned i = 0; i < r->n_paths; i++) {
                *h = fnv(*h, &r->paths[i].ifindex, sizeof(int));
                *h = fnv(*h, r->paths[i].gw, 16);
        }
        return 0;
}

static int neigh_hash(void *arg, const struct mpnet_neigh_entry *e)
{
        uint64_t *h = arg;

        *h = fnv(*h, &e->ifindex, sizeof(int));
        *h = fnv(*h, &e->addr4, 4);
        *h = fnv(*h, e->addr6, 16);
        *h = fnv(*h, &e->info.state, sizeof(e->info.state));
        *h = fnv(*h, e->info.mac, 6);
        *h = fnv(*h, &e->info.queued, 4);
        *h = fnv(*h, &e->info.probes, 4);
        return 0;
}

/* What the stack holds that an input changes and a count would not show:
 * routes, addresses with their flags and lifetimes, neighbours. */
static uint64_t state_hash(struct mpnet_stack *s)
{
        uint64_t h = 0xcbf29ce484222325ull;
        struct mpnet_addr6_info a[16];

        mpnet_route4_walk(s, 0, route4_hash, &h);
        mpnet_route6_walk(s, 0, route6_hash, &h);
        mpnet_neigh_walk(s, 0, neigh_hash, &h);
        for (int ifindex = 1; ifindex <= 2; ifindex++) {
                int n = mpnet_addr6_list(s, ifindex, a, 16);

                for (int i = 0; i < n && i < 16; i++) {
                        h = fnv(h, a[i].addr, 16);
                        h = fnv(h, &a[i].plen, 1);
                        h = fnv(h, &a[i].flags, 4);
                        h = fnv(h, &a[i].valid_ns, 8);
                        h = fnv(h, &a[i].preferred_ns, 8);
                }
        }
        return h;
}

static void outcome_take(struct mpnet_stack *s, struct outcome *o)
{
        o->state = state_hash(s);
        o->n_ctr = mpnet_stack_counter_count(s);
        assert_true(o->n_ctr <= MAX_CTR);
        for (unsigned i = 0; i < o->n_ctr; i++)
                o->ctr[i] = mpnet_stack_counter(s, i);
        assert_int_equal(mpnet_stack_usage_get(s, 0, &o->usage), 0);
}

/* Run one input on a fresh or a reused stack; o gets its outcome. */
static void run(bool reuse, enum fmt fmt, const uint8_t *b, size_t n, struct outcome *o)
{
        struct fz_stack *f;

        memset(o, 0, sizeof(*o));
        o->hash = 0xcbf29ce484222325ull;
        if (fmt == FMT_CONV && n == 0)
                return;
        f = env_of(reuse, fmt, fmt == FMT_CONV ? b[0] : 0);
        f->on_frame = on_frame;
        f->arg = o;
        if (fmt == FMT_SEQ)
                fz_seq_run(f, b, n);
        else
                fz_conv_run(f, b + 1, n - 1);
        outcome_take(f->s, o);
        fz_end(f);
}

static void outcome_eq(const struct outcome *a, const struct outcome *b, const char *what)
{
        if (a->frames != b->frames || a->hash != b->hash)
                print_error("%s: frames %llu/%llu differ\n", what, (unsigned long long)a->frames,
                            (unsigned long long)b->frames);
        assert_int_equal(a->frames, b->frames);
        assert_true(a->hash == b->hash);
        if (a->state != b->state)
                print_error("%s: routes, addresses or neighbours differ\n", what);
        assert_true(a->state == b->state);
        assert_int_equal(a->n_ctr, b->n_ctr);
        for (unsigned i = 0; i < a->n_ctr; i++) {
                if (a->ctr[i] != b->ctr[i])
                        print_error("%s: counter %s fresh %llu reset %llu\n", what,
                                    mpnet_stack_counter_name(env[0][0].s ? env[0][0].s : NULL, i),
                                    (unsigned long long)a->ctr[i], (unsigned long long)b->ctr[i]);
                assert_int_equal(a->ctr[i], b->ctr[i]);
        }
        assert_memory_equal(&a->usage, &b->usage, sizeof(a->usage));
}

/* The same input, fresh and after a reset: the same outcome. */
static void check_input(enum fmt fmt, const uint8_t *b, size_t n, const char *what,
                        struct outcome *fresh)
{
        struct outcome reset;

        run(false, fmt, b, n, fresh);
        run(true, fmt, b, n, &reset);
        outcome_eq(fresh, &reset, what);
}

static unsigned load_seeds(const char *target, struct input *in)
{
        char dir[512];
        struct dirent *de;
        unsigned n = 0;
        DIR *d;

        snprintf(dir, sizeof(dir), "%s/%s", MPNET_FUZZ_CORPUS, target);
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d)) != NULL && n < MAX_SEEDS) {
                char path[1024];
                FILE *fp;
                long len;

                if (strncmp(de->d_name, "seed-", 5) != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                fp = fopen(path, "rb");
                assert_non_null(fp);
                assert_int_equal(fseek(fp, 0, SEEK_END), 0);
                len = ftell(fp);
                assert_true(len > 0 && len <= MAX_IN_BYTES);
                rewind(fp);
                in[n].b = malloc((size_t)len);
                assert_non_null(in[n].b);
                assert_int_equal(fread(in[n].b, 1, (size_t)len, fp), (size_t)len);
                fclose(fp);
                in[n].n = (size_t)len;
                snprintf(in[n].name, sizeof(in[n].name), "%s", de->d_name);
                n++;
        }
        closedir(d);
        assert_true(n > 0);
        return n;
}

static void free_seeds(struct input *in, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                free(in[i].b);
}

static uint64_t ctr_of(const struct outcome *o, const char *name)
{
        struct mpnet_stack *s = NULL;
        int id;

        for (unsigned i = 0; i <= FZ_CONV_MODES && s == NULL; i++)
                s = env[1][i].s; /* every stack counts the same names */
        id = mpnet_stack_counter_find(s, name);

        assert_true(id >= 0);
        return o->ctr[id];
}

static const struct input *seed(const struct input *in, unsigned n, const char *name)
{
        for (unsigned i = 0; i < n; i++) {
                if (strcmp(in[i].name, name) == 0)
                        return &in[i];
        }
        fail_msg("no seed %s", name);
        return NULL;
}

/*
 * Every conversation seed, twice over in turn, so each runs on a stack
 * that ran the others first. The seeds reach what the reset must undo
 * (asserted, so the comparison is not between two idle stacks).
 */
static void test_conv_seeds(void **state)
{
        struct input in[MAX_SEEDS];
        unsigned n = load_seeds("fuzz_stack_conv", in);
        struct outcome o;
        const struct input *host = seed(in, n, "seed-host");
        const struct input *router = seed(in, n, "seed-router");
        const struct input *dad = seed(in, n, "seed-dad_conflict");

        (void)state;
        for (unsigned round = 0; round < 2; round++) {
                for (unsigned i = 0; i < n; i++)
                        check_input(FMT_CONV, in[i].b, in[i].n, in[i].name, &o);
        }
        check_input(FMT_CONV, host->b, host->n, "host", &o);
        assert_true(ctr_of(&o, "arp_reply_tx") > 0);
        assert_true(ctr_of(&o, "icmp4_echo_req") > 0 && ctr_of(&o, "icmp6_echo_req") > 0);
        assert_true(ctr_of(&o, "ip4_reassembled") > 0 && ctr_of(&o, "ip6_reassembled") > 0);
        assert_true(ctr_of(&o, "nd_rs_tx") > 0 && ctr_of(&o, "nd_ns_tx") > 0);
        assert_true(ctr_of(&o, "nd_ra_rx") > 0 && ctr_of(&o, "nd_redirect_rx") > 0);
        assert_true(ctr_of(&o, "mld_report_tx") > 0);
        /* SLAAC made an address (and joined its group) and the RA a
         * default router and an on-link prefix. */
        assert_true(o.usage.addr6 > 4 && o.usage.dr6 > 0 && o.usage.onlink6 > 0);
        assert_true(o.usage.neigh4 > 0 && o.usage.neigh6 > 0);
        check_input(FMT_CONV, router->b, router->n, "router", &o);
        assert_true(ctr_of(&o, "ip4_forwarded") > 0 && ctr_of(&o, "ip6_forwarded") > 0);
        assert_true(ctr_of(&o, "nd_ra_tx") > 0);
        check_input(FMT_CONV, dad->b, dad->n, "dad", &o);
        assert_true(ctr_of(&o, "nd_dad_dup") > 0);
        free_seeds(in, n);
}

/* Mode bit 2 (FZ_CONV_SETTLE): the input starts with DAD of the
 * configured addresses over, so a quiet 1.6 s sends none of its probes
 * (nor the reports of the groups DAD joins), where the same input without
 * the bit sends them; fresh and reset alike either way. */
static void test_conv_settled(void **state)
{
        uint8_t in[5] = {0, 40, 0, 0, 0}; /* a host; 1.6 s, an empty frame */
        uint64_t frames[2];
        struct outcome o;

        (void)state;
        for (unsigned settled = 0; settled < 2; settled++) {
                in[0] = settled ? FZ_CONV_SETTLE : 0;
                check_input(FMT_CONV, in, sizeof(in), settled ? "settled" : "dad", &o);
                frames[settled] = o.frames;
        }
        assert_true(frames[0] > frames[1]);
}

static void test_input_seeds(void **state)
{
        struct input in[MAX_SEEDS];
        unsigned n = load_seeds("fuzz_stack_input", in);
        struct outcome o;

        (void)state;
        for (unsigned round = 0; round < 2; round++) {
                for (unsigned i = 0; i < n; i++)
                        check_input(FMT_SEQ, in[i].b, in[i].n, in[i].name, &o);
        }
        free_seeds(in, n);
}

/* A seed with a few bytes changed, a record's time step changed, or cut
 * short: the inputs a fuzzer makes. */
static uint32_t below(uint32_t n)
{
        return rnd32() % n;
}

static size_t mutate(const struct input *s, uint8_t *out)
{
        size_t n = s->n;

        memcpy(out, s->b, n);
        switch (below(3)) {
        case 0:
                for (unsigned k = 0, m = 1 + below(8); k < m; k++)
                        out[below((uint32_t)n)] ^= (uint8_t)(1u << below(8));
                break;
        case 1:
                out[1 + below((uint32_t)(n - 1))] = (uint8_t)below(256);
                break;
        default:
                n = 1 + below((uint32_t)n);
                break;
        }
        return n;
}

static void test_mutations(void **state)
{
        struct input in[MAX_SEEDS];
        unsigned n = load_seeds("fuzz_stack_conv", in);
        uint8_t *buf = malloc(MAX_IN_BYTES);
        struct outcome o;

        (void)state;
        assert_non_null(buf);
        rng_state = seed_from_env(18);
        for (unsigned i = 0; i < (quick() ? 150u : 400u); i++) {
                const struct input *s = &in[below(n)];
                size_t len = mutate(s, buf);
                char what[320];

                snprintf(what, sizeof(what), "mutation %u of %s", i, s->name);
                check_input(FMT_CONV, buf, len, what, &o);
        }
        free(buf);
        free_seeds(in, n);
}

/* After the heaviest conversation and its reset the stack holds what a
 * fresh one holds (neighbours, addresses, routers, prefixes, groups,
 * fragments). */
static void test_usage_after_reset(void **state)
{
        struct input in[MAX_SEEDS];
        unsigned n = load_seeds("fuzz_stack_conv", in);
        const struct input *host = seed(in, n, "seed-host");
        struct mpnet_stack_usage fresh, after;
        struct outcome o;
        struct fz_stack *f;
        uint64_t h;

        (void)state;
        f = env_of(true, FMT_CONV, host->b[0]);
        fz_end(f);
        fz_begin(f);
        assert_int_equal(mpnet_stack_usage_get(f->s, 0, &fresh), 0);
        h = state_hash(f->s);
        run(true, FMT_CONV, host->b, host->n, &o);
        assert_true(o.usage.neigh4 > fresh.neigh4 && o.usage.addr6 > fresh.addr6);
        assert_int_equal(mpnet_stack_usage_get(f->s, 0, &after), 0);
        assert_memory_equal(&fresh, &after, sizeof(fresh));
        assert_true(state_hash(f->s) == h);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
        free_seeds(in, n);
}

/* An ARP request from 192.0.2.9 for the stack's 192.0.2.1: the stack
 * learns its sender. */
static void learn_arp(struct fz_stack *f)
{
        uint8_t fr[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,    0, 0,   9, 0x08, 0x06,
                          0,    1,    0x08, 0,    6,    4,    0,    1, 0x02, 0, 0,   0, 0,    9,
                          192,  0,    2,    9,    0,    0,    0,    0, 0,    0, 192, 0, 2,    1};

        fz_send(f, 0, fr, sizeof(fr));
        fz_poll(f);
        fz_drain_all(f);
}

/* A mark takes only a stack that learnt no neighbour (mark_check), and a
 * reset flushes only what was learnt: the neighbour tables count their
 * static entries apart (l3/neigh.c), through an entry learnt, one made
 * static over a learnt one, static ones deleted, and one learnt again. */
static void test_mark_static_neigh(void **state)
{
        static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 9};
        struct fz_stack f;
        struct stack_mark *m;

        (void)state;
        fz_init(&f, pool, 1, &fz_input_wire, &fz_input_cfg, fz_input_configure, false);
        f.settle_ns = FZ_INPUT_SETTLE_NS;
        fz_begin(&f); /* two static neighbours */
        assert_non_null(m = stack_reset(f.s, NULL));
        free(m);
        learn_arp(&f);
        errno = 0;
        assert_null(stack_reset(f.s, NULL));
        assert_int_equal(errno, EBUSY);
        assert_int_equal(mpnet_neigh4_add(f.s, 1, 0xc0000209, mac), 0);
        assert_non_null(m = stack_reset(f.s, NULL));
        assert_int_equal(mpnet_neigh4_del(f.s, 1, 0xc0000209), 0);
        assert_int_equal(mpnet_neigh4_del(f.s, 1, 0xc0000202), 0);
        learn_arp(&f);
        errno = 0;
        assert_null(stack_reset(f.s, NULL));
        assert_int_equal(errno, EBUSY);
        /* Back to the mark: the learnt entry goes (a mark takes the stack
         * again), the static ones stay deleted (configuration). */
        assert_ptr_equal(stack_reset(f.s, m), m);
        free(m);
        assert_non_null(m = stack_reset(f.s, NULL));
        free(m);
        fz_fini(&f);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
}

/* The reset empties the TCP module's object cache (l4/tcp_cache.c) as a
 * new stack has it: connections closed during an input leave their objects
 * there, and the next input took them where a new stack calloc's, so the
 * inputs' allocations depended on the one before (libFuzzer then runs an
 * input with more mallocs than frees again, looking for a leak). */
static void test_reset_tcp_cache(void **state)
{
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(80)};
        struct fz_stack f;
        struct tcp_state *st;
        unsigned before;

        (void)state;
        to.sin_addr.s_addr = htonl(0xc0000202); /* the static peer */
        fz_init(&f, pool, 1, &fz_input_wire, &fz_input_cfg, fz_input_configure, true);
        f.settle_ns = FZ_INPUT_SETTLE_NS;
        fz_begin(&f);
        st = tcp_state_of(f.s);
        for (unsigned k = 0; k < TCP_CACHE_KINDS; k++)
                assert_int_equal(st->cache.n[k], 0);
        for (int round = 0; round < 2; round++) {
                before = st->cache.n[TCP_CACHE_CONN];
                for (int i = 0; i < 3; i++) {
                        int fd = mpnet_socket(f.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

                        assert_true(fd >= 0);
                        assert_int_equal(mpnet_connect(f.s, fd, (struct sockaddr *)&to, sizeof(to)),
                                         -EINPROGRESS);
                        fz_poll(&f);
                        assert_int_equal(mpnet_close(f.s, fd), 0);
                        fz_poll(&f);
                }
                fz_drain_all(&f);
                /* Closed in SYN-SENT: each connection went to the cache. */
                assert_true(st->cache.n[TCP_CACHE_CONN] > before);
                fz_end(&f);
                for (unsigned k = 0; k < TCP_CACHE_KINDS; k++)
                        assert_int_equal(st->cache.n[k], 0);
                fz_begin(&f);
        }
        fz_fini(&f);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
}

/* ---- fuzz_tcp_conn's world: a listener, connections the peer opens ---- */

static int tcp_lfd;
static struct fz_stack tcp_env[2]; /* [0] a fresh stack per input, [1] reset */

static void tcp_listen_configure(struct fz_stack *f)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};

        fz_input_configure(f);
        tcp_lfd = mpnet_socket(f->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(tcp_lfd >= 0);
        assert_int_equal(mpnet_bind(f->s, tcp_lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(mpnet_listen(f->s, tcp_lfd, 2), 0);
}

struct tcp_seen {
        struct outcome *o;
        uint32_t synack[2]; /* the last SYN-ACK's seq to 40000 + i */
};

static void tcp_on_frame(void *arg, unsigned link, const uint8_t *b, size_t n)
{
        struct tcp_seen *t = arg;
        const size_t off = MPNET_ETH_HLEN + MPNET_IP4_HLEN;
        uint16_t dport;

        on_frame(t->o, link, b, n);
        if (n < off + MPNET_TCP_HLEN || mpnet_get_be16(b + 12) != MPNET_ETHERTYPE_IPV4 ||
            b[MPNET_ETH_HLEN + 9] != MPNET_IPPROTO_TCP || !(b[off + 13] & MPNET_TCP_SYN))
                return;
        dport = mpnet_get_be16(b + off + 2);
        if (dport >= 40000 && dport < 40002)
                t->synack[dport - 40000] = mpnet_get_be32(b + off + 4);
}

/* A segment from the peer 192.0.2.2 to 192.0.2.1:80, an MSS option on a
 * SYN, dlen bytes of data; then a poll. */
static void tcp_seg(struct fz_stack *f, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
                    size_t dlen)
{
        uint8_t fr[MPNET_ETH_HLEN + MPNET_IP4_HLEN + MPNET_TCP_HLEN + 4 + 256] = {0};
        uint8_t *t = fr + MPNET_ETH_HLEN + MPNET_IP4_HLEN;
        size_t hl = MPNET_TCP_HLEN + ((flags & MPNET_TCP_SYN) ? 4 : 0), n = hl + dlen;
        struct mpnet_ip4_repr ip = {.src = 0xc0000202,
                                    .dst = 0xc0000201,
                                    .payload_len = (uint16_t)n,
                                    .proto = MPNET_IPPROTO_TCP,
                                    .ttl = 64,
                                    .df = true};

        assert_true(dlen <= 256);
        memcpy(fr, fz_input_wire.mac_a, 6);
        memcpy(fr + 6, fz_input_wire.mac_b, 6);
        mpnet_put_be16(fr + 12, MPNET_ETHERTYPE_IPV4);
        mpnet_ip4_repr_emit(&ip, fr + MPNET_ETH_HLEN);
        mpnet_put_be16(t, sport);
        mpnet_put_be16(t + 2, 80);
        mpnet_put_be32(t + 4, seq);
        mpnet_put_be32(t + 8, ack);
        t[12] = (uint8_t)(hl / 4 << 4);
        t[13] = flags;
        mpnet_put_be16(t + 14, 65535);
        if (flags & MPNET_TCP_SYN)
                memcpy(t + MPNET_TCP_HLEN, (const uint8_t[]){2, 4, 0x05, 0xb4}, 4);
        memset(t + hl, 0x5a, dlen);
        mpnet_tcp4_csum_set(t, n, 0xc0000202, 0xc0000201);
        fz_send(f, 0, fr, MPNET_ETH_HLEN + MPNET_IP4_HLEN + n);
        fz_poll(f);
        fz_drain(f);
}

/* One input as fuzz_tcp_conn runs them: 192.0.2.2:40000 connects, the
 * peer's ACK completes it, data comes, the accepted socket reads it and
 * is closed (our FIN unanswered: FIN-WAIT-1 at the end), time passes (the
 * retransmission timer fires); with half_open, 40001 also leaves a SYN
 * in the listener's queue. o gets the outcome. */
static void tcp_conn_run(bool reuse, bool half_open, struct outcome *o)
{
        struct fz_stack *f = &tcp_env[reuse];
        struct tcp_seen t = {.o = o};
        uint8_t buf[256];
        int fd;

        memset(o, 0, sizeof(*o));
        o->hash = 0xcbf29ce484222325ull;
        if (f->pool == NULL) {
                fz_init(f, pool, 1, &fz_input_wire, &fz_input_cfg, tcp_listen_configure, reuse);
                f->settle_ns = FZ_INPUT_SETTLE_NS;
        }
        f->on_frame = tcp_on_frame;
        f->arg = &t;
        fz_begin(f);
        tcp_seg(f, 40000, 1000, 0, MPNET_TCP_SYN, 0);
        tcp_seg(f, 40000, 1001, t.synack[0] + 1, MPNET_TCP_ACK, 0);
        tcp_seg(f, 40000, 1001, t.synack[0] + 1, MPNET_TCP_ACK | MPNET_TCP_PSH, 100);
        if (half_open)
                tcp_seg(f, 40001, 7000, 0, MPNET_TCP_SYN, 0);
        fd = mpnet_accept(f->s, tcp_lfd, NULL, NULL, 0);
        assert_true(fd >= 0);
        assert_int_equal(mpnet_recvfrom(f->s, fd, buf, sizeof(buf), 0, NULL, NULL), 100);
        assert_int_equal(mpnet_close(f->s, fd), 0);
        fz_poll(f);
        mpnet_clock_advance(&f->clk, 1500 * 1000000ull);
        fz_poll(f);
        fz_drain(f);
        outcome_take(f->s, o);
        fz_end(f);
}

/* Input A, then B on the same 4-tuple, on a stack reset between them: B
 * sends and counts what B alone does on a fresh stack (A's connection in
 * FIN-WAIT-1 and its half-open SYN went with the reset; nothing of A's
 * sequence numbers, timers or ports shows in B). */
static void test_tcp_a_then_b(void **state)
{
        struct outcome fresh, a, b;

        (void)state;
        tcp_conn_run(false, false, &fresh);
        tcp_conn_run(true, true, &a);
        tcp_conn_run(true, false, &b);
        assert_true(a.frames > fresh.frames); /* A did more: the half-open SYN-ACK */
        outcome_eq(&fresh, &b, "tcp A then B");
        tcp_conn_run(true, false, &b); /* and again */
        outcome_eq(&fresh, &b, "tcp B then B");
        fz_fini(&tcp_env[0]);
        fz_fini(&tcp_env[1]);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
}

/* ---- fuzz_tcp_conn's established stack: the mark holds a connection ---- */

static struct fz_stack est_env[2]; /* [0] a fresh stack per input, [1] reset */
static int est_fd;
static uint32_t est_iss;

/* Before the mark: 192.0.2.2:40000 connects, the peer ACKs, accepted. */
static void est_ready(struct fz_stack *f)
{
        struct outcome scratch = {0};
        struct tcp_seen t = {.o = &scratch};
        void *arg = f->arg;

        f->arg = &t;
        tcp_seg(f, 40000, 1000, 0, MPNET_TCP_SYN, 0);
        tcp_seg(f, 40000, 1001, t.synack[0] + 1, MPNET_TCP_ACK, 0);
        est_fd = mpnet_accept(f->s, tcp_lfd, NULL, NULL, 0);
        assert_true(est_fd >= 0);
        est_iss = t.synack[0];
        f->arg = arg;
}

/* Inputs on the established connection (a ... c), each on a stack made
 * ready (fresh) or reset to the mark:
 *   'a' data and a FIN in (CLOSE_WAIT, 100 bytes unread: the socket
 *       readable), keepalive (idle 7 s) and TCP_CORK set on the socket, a
 *       half-open SYN from 40001, 1.5 s;
 *   'r' a reset in (the connection freed, the socket's error set);
 *   'b' the socket's readiness and keepalive options read (into the
 *       outcome), data in, read, 50 bytes sent back and retransmitted
 *       (1.5 s). */
static void est_run(bool reuse, char what, struct outcome *o)
{
        static const int one = 1, idle = 7;
        struct fz_stack *f = &est_env[reuse];
        struct tcp_seen t = {.o = o};
        uint8_t buf[256] = {0};

        memset(o, 0, sizeof(*o));
        o->hash = 0xcbf29ce484222325ull;
        if (f->pool == NULL) {
                fz_init(f, pool, 1, &fz_input_wire, &fz_input_cfg, tcp_listen_configure, reuse);
                f->settle_ns = FZ_INPUT_SETTLE_NS;
                f->ready = est_ready;
        }
        f->on_frame = tcp_on_frame;
        f->arg = &t;
        fz_begin(f);
        switch (what) {
        case 'a':
                tcp_seg(f, 40000, 1001, est_iss + 1, MPNET_TCP_ACK | MPNET_TCP_PSH, 100);
                tcp_seg(f, 40000, 1101, est_iss + 1, MPNET_TCP_ACK | MPNET_TCP_FIN, 0);
                assert_int_equal(
                    mpnet_setsockopt(f->s, est_fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
                assert_int_equal(mpnet_setsockopt(f->s, est_fd, IPPROTO_TCP, 4 /* TCP_KEEPIDLE */,
                                                  &idle, sizeof(idle)),
                                 0);
                assert_int_equal(mpnet_setsockopt(f->s, est_fd, IPPROTO_TCP, 3 /* TCP_CORK */, &one,
                                                  sizeof(one)),
                                 0);
                tcp_seg(f, 40001, 7000, 0, MPNET_TCP_SYN, 0);
                break;
        case 'r':
                tcp_seg(f, 40000, 1001, est_iss + 1, MPNET_TCP_RST, 0);
                break;
        default: {
                int v[2] = {0, 0};
                socklen_t l = sizeof(v[0]);
                uint32_t ev = sock_events(sock_get(f->s, est_fd));

                assert_int_equal(
                    mpnet_getsockopt(f->s, est_fd, SOL_SOCKET, SO_KEEPALIVE, &v[0], &l), 0);
                assert_int_equal(
                    mpnet_getsockopt(f->s, est_fd, IPPROTO_TCP, 4 /* TCP_KEEPIDLE */, &v[1], &l),
                    0);
                o->hash = fnv(o->hash, v, sizeof(v));
                o->hash = fnv(o->hash, &ev, sizeof(ev));
                tcp_seg(f, 40000, 1001, est_iss + 1, MPNET_TCP_ACK | MPNET_TCP_PSH, 100);
                assert_int_equal(mpnet_recvfrom(f->s, est_fd, buf, sizeof(buf), 0, NULL, NULL),
                                 100);
                assert_int_equal(mpnet_sendto(f->s, est_fd, buf, 50, 0, NULL, 0), 50);
                break;
        }
        }
        fz_poll(f);
        fz_drain(f);
        mpnet_clock_advance(&f->clk, 1500 * 1000000ull);
        fz_poll(f);
        fz_drain(f);
        outcome_take(f->s, o);
        fz_end(f);
}

/* A stack marked with an established connection (fuzz_tcp_conn's
 * established stack): after inputs that left the connection in
 * CLOSE_WAIT with data unread and options set, or freed it with a reset,
 * input B sends the same frames, counts the same and holds the same as B
 * alone on a stack made ready afresh, and once more after itself. Fails
 * when the reset leaves the connection as input left it (B's data lands
 * in CLOSE_WAIT, its sequence numbers are off), loses it (B's segment is
 * answered with a reset) or leaves the socket's options or error. */
static void test_tcp_est_a_then_b(void **state)
{
        struct outcome fresh, a, b;

        (void)state;
        est_run(false, 'b', &fresh);
        assert_true(fresh.frames >= 2); /* the ACK of B's data, its 50 bytes, again */
        est_run(true, 'a', &a);
        assert_true(a.hash != fresh.hash);
        est_run(true, 'b', &b);
        outcome_eq(&fresh, &b, "tcp est A then B");
        est_run(true, 'r', &a);
        est_run(true, 'b', &b);
        outcome_eq(&fresh, &b, "tcp est reset then B");
        est_run(true, 'b', &b);
        outcome_eq(&fresh, &b, "tcp est B then B");
        fz_fini(&est_env[0]);
        fz_fini(&est_env[1]);
        assert_int_equal(mpnet_pool_in_use(pool), 0);
}

/* Every file of the folders MPNET_RESET_CONV and MPNET_RESET_SEQ name (a
 * fuzzing run's corpus, build-fuzz/corpus-fuzz_stack_conv): the same
 * comparison on what a fuzzer made. Skipped unless one is set. */
static unsigned check_dir(const char *dir, enum fmt fmt)
{
        uint8_t *buf = malloc(MAX_IN_BYTES);
        struct dirent *de;
        struct outcome o;
        unsigned n = 0;
        DIR *d = opendir(dir);

        assert_non_null(d);
        assert_non_null(buf);
        while ((de = readdir(d)) != NULL) {
                char path[1024];
                size_t len;
                FILE *fp;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                fp = fopen(path, "rb");
                assert_non_null(fp);
                len = fread(buf, 1, MAX_IN_BYTES, fp);
                fclose(fp);
                check_input(fmt, buf, len, path, &o);
                n++;
        }
        closedir(d);
        free(buf);
        return n;
}

static void test_corpus_env(void **state)
{
        const char *conv = getenv("MPNET_RESET_CONV"), *seq = getenv("MPNET_RESET_SEQ");
        unsigned n = 0;

        (void)state;
        if (conv == NULL && seq == NULL)
                skip();
        if (conv != NULL)
                n += check_dir(conv, FMT_CONV);
        if (seq != NULL)
                n += check_dir(seq, FMT_SEQ);
        print_message("%u inputs the same fresh and after a reset\n", n);
}

static int setup(void **state)
{
        (void)state;
        unsetenv("MPNET_FUZZ_FRESH");
        pool = mpnet_pool_create("reset", 1024);
        return pool == NULL ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        for (unsigned r = 0; r < 2; r++) {
                for (unsigned i = 0; i <= FZ_CONV_MODES; i++) {
                        if (env[r][i].pool != NULL)
                                fz_fini(&env[r][i]);
                }
        }
        mpnet_pool_destroy(pool);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_conv_seeds),        cmocka_unit_test(test_conv_settled),
            cmocka_unit_test(test_input_seeds),       cmocka_unit_test(test_mutations),
            cmocka_unit_test(test_usage_after_reset), cmocka_unit_test(test_corpus_env),
            cmocka_unit_test(test_mark_static_neigh), cmocka_unit_test(test_reset_tcp_cache),
            cmocka_unit_test(test_tcp_a_then_b),      cmocka_unit_test(test_tcp_est_a_then_b),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
