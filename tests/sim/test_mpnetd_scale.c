/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Virtual stacks at scale in one mpnetd (issue 17): 1000 stacks created
 * through the control protocol (the C client, many STACK_NEW to a
 * datagram), listed (one dump, every name once), and destroyed, while the
 * workers forward for another stack: h1 pings h2 through r all along, and
 * every echo sent is answered.
 */
#define _GNU_SOURCE
#include <stdalign.h>
#include <stdatomic.h>

#include "mpnetdutil.h"

#define N_STACKS 1000

static struct mpd d;

static alignas(8) uint8_t mem[MPNET_CTL_DGRAM_MAX];

/* STACK_NEW or STACK_DEL for s0000 .. s(n-1), as many to a datagram as
 * fit. */
static void stacks_change(struct mpnet_ctl *c, uint16_t type, unsigned n)
{
        struct mpnet_ctl_buf b;
        char why[256];

        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        for (unsigned i = 0; i < n; i++) {
                char name[16];

                snprintf(name, sizeof(name), "s%04u", i);
                mpnet_ctl_msg_begin(&b, type, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                                    mpnet_ctl_port(c));
                mpnet_ctl_put_str(&b, MPNET_CTLA_STACK, name);
                assert_int_equal(mpnet_ctl_msg_end(&b), 0);
                if (b.cap - b.len < 64 || i + 1 == n) {
                        if (mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 60000) != 0)
                                fail_msg("stack %u: %s", i, why);
                        b.len = 0;
                }
        }
}

struct listing {
        unsigned n, scale;
        bool seen[N_STACKS];
};

static int count_stack(void *arg, const struct mpnet_ctl_view *m)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];
        struct listing *l = arg;
        unsigned i;

        mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
        assert_int_equal(m->h->type, MPNET_CTL_STACK_NEW);
        assert_non_null(tb[MPNET_CTLA_STACK]);
        l->n++;
        if (sscanf(mpnet_ctl_attr_str(tb[MPNET_CTLA_STACK]), "s%u", &i) == 1) {
                assert_true(i < N_STACKS);
                assert_false(l->seen[i]);
                l->seen[i] = true;
                l->scale++;
        }
        return 0;
}

static void stacks_list(struct mpnet_ctl *c, struct listing *l)
{
        struct mpnet_ctl_buf b;

        memset(l, 0, sizeof(*l));
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_STACK_GET, MPNET_CTL_F_REQUEST | MPNET_CTL_F_DUMP,
                            mpnet_ctl_seq(c), mpnet_ctl_port(c));
        assert_int_equal(mpnet_ctl_msg_end(&b), 0);
        assert_int_equal(mpnet_ctl_exchange(c, &b, count_stack, l, NULL, 0, 60000), 0);
}

struct ping_result {
        uint32_t sent, received;
};

static int ping_reply(void *arg, const struct mpnet_ctl_view *m)
{
        const struct mpnet_ctl_attr *tb[MPNET_CTLA__MAX];
        struct ping_result *r = arg;

        mpnet_ctl_attrs_index(m->attrs, m->attrs_len, tb);
        if (m->h->type == MPNET_CTL_PING) {
                r->sent += mpnet_ctl_attr_u32(tb[MPNET_CTLA_SENT]);
                r->received += mpnet_ctl_attr_u32(tb[MPNET_CTLA_RECEIVED]);
        }
        return 0;
}

/* The pinger: h1 to h2 through r, one echo at a time, until SIGTERM;
 * then it writes its totals to fd. */
static volatile sig_atomic_t pinger_stop;

static void on_term(int sig)
{
        (void)sig;
        pinger_stop = 1;
}

static void pinger(int fd)
{
        alignas(8) uint8_t pm[256];
        struct ping_result r = {0};
        struct mpnet_ctl *c = mpnet_ctl_open(d.sock);
        const uint8_t dst[4] = {198, 51, 100, 2};

        signal(SIGTERM, on_term);
        if (c == NULL)
                _exit(3);
        while (!pinger_stop) {
                struct mpnet_ctl_buf b;

                mpnet_ctl_buf_init(&b, pm, sizeof(pm));
                mpnet_ctl_msg_begin(&b, MPNET_CTL_PING, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                                    mpnet_ctl_port(c));
                mpnet_ctl_put_str(&b, MPNET_CTLA_STACK, "h1");
                mpnet_ctl_put(&b, MPNET_CTLA_ADDR, dst, 4);
                mpnet_ctl_put_u32(&b, MPNET_CTLA_COUNT, 1);
                mpnet_ctl_put_u32(&b, MPNET_CTLA_TIMEOUT_MS, 20000);
                mpnet_ctl_msg_end(&b);
                if (mpnet_ctl_exchange(c, &b, ping_reply, &r, NULL, 0, 60000) != 0)
                        _exit(4);
                if (write(fd, &r, sizeof(r)) != sizeof(r))
                        _exit(5);
        }
        mpnet_ctl_close(c);
        _exit(0);
}

/* The pinger's latest totals (it writes them after each echo). */
static struct ping_result pings_seen(int fd, struct ping_result last)
{
        struct ping_result r;

        while (read(fd, &r, sizeof(r)) == sizeof(r))
                last = r;
        return last;
}

static struct ping_result pings_wait(int fd, struct ping_result last, uint32_t more)
{
        struct ping_result r = last;

        for (int i = 0; i < 6000 && r.sent < last.sent + more; i++) {
                usleep(10000);
                r = pings_seen(fd, r);
        }
        assert_true(r.sent >= last.sent + more);
        return r;
}

static void test_thousand_stacks(void **state)
{
        struct mpnet_ctl *c = mpnet_ctl_open(d.sock);
        struct ping_result r = {0};
        struct listing *l = calloc(1, sizeof(*l));
        int fds[2], st;
        pid_t p;

        (void)state;
        assert_non_null(c);
        assert_non_null(l);
        assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
        p = fork();
        assert_true(p >= 0);
        if (p == 0) {
                close(fds[0]);
                pinger(fds[1]);
        }
        close(fds[1]);
        r = pings_wait(fds[0], r, 2); /* traffic flows before */
        stacks_change(c, MPNET_CTL_STACK_NEW, N_STACKS);
        stacks_list(c, l);
        assert_int_equal(l->scale, N_STACKS);
        assert_int_equal(l->n, N_STACKS + 3);
        r = pings_wait(fds[0], r, 2); /* and with 1003 stacks */
        stacks_change(c, MPNET_CTL_STACK_DEL, N_STACKS);
        stacks_list(c, l);
        assert_int_equal(l->scale, 0);
        assert_int_equal(l->n, 3);
        r = pings_wait(fds[0], r, 2); /* and after */
        kill(p, SIGTERM);
        assert_int_equal(waitpid(p, &st, 0), p);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        r = pings_seen(fds[0], r);
        close(fds[0]);
        print_message("%u echoes through r while 1000 stacks came and went, %u answered\n", r.sent,
                      r.received);
        assert_true(r.sent >= 6);
        assert_int_equal(r.received, r.sent);
        mpnet_ctl_close(c);
        free(l);
}

static int setup(void **state)
{
        (void)state;
        if (mpd_init(&d, "mpnetd-scale") != 0)
                return -1;
        mpd_start(&d, 2);
        MPD_CTL(&d, "stack add h1");
        MPD_CTL(&d, "stack add r");
        MPD_CTL(&d, "stack add h2");
        MPD_CTL(&d, "-n h1 link add h1r type mem peer rh1 peer-stack r");
        MPD_CTL(&d, "-n h2 link add h2r type mem peer rh2 peer-stack r");
        MPD_CTL(&d, "-n h1 addr add 192.0.2.2/24 dev h1r");
        MPD_CTL(&d, "-n r addr add 192.0.2.1/24 dev rh1");
        MPD_CTL(&d, "-n r addr add 198.51.100.1/24 dev rh2");
        MPD_CTL(&d, "-n h2 addr add 198.51.100.2/24 dev h2r");
        MPD_CTL(&d, "-n h1 route add default via 192.0.2.1");
        MPD_CTL(&d, "-n h2 route add default via 198.51.100.1");
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        mpd_fini(&d);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_thousand_stacks),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
