/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetctl capture (issue 17: the bpf(4) role): a tcpdump filter compiled
 * by libpcap in mpnetd and run as classic BPF where the link taps frames,
 * on the workers. h1 (192.0.2.2) pings r's two addresses, 192.0.2.1 and
 * 192.0.2.3, over one memory wire; a capture on r's end with "icmp and
 * host 192.0.2.3" keeps exactly those frames (read back from the pcapng,
 * and by tshark with the filter applied where it is installed), -c ends
 * it, ^C ends one without a count and still reports; a filter that does
 * not parse and a malformed compiled program are refused with the reason;
 * deleting the link ends its capture.
 */
#define _GNU_SOURCE
#include <stdalign.h>
#include <time.h>

#include "mpnetdutil.h"

static struct mpd d;

/* mpnetctl ARGS in the background, its output in DIR/name; returns once
 * the capture runs (it says so). */
static pid_t capture_spawn(const char *name, const char *args)
{
        char out[400], cmd[2048], line[512] = "";
        pid_t p;

        snprintf(out, sizeof(out), "%s/%s", d.dir, name);
        snprintf(cmd, sizeof(cmd), "exec ./mpnetctl -s %s %s > %s 2>&1", d.sock, args, out);
        p = fork();
        assert_true(p >= 0);
        if (p == 0) {
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 3000 && strstr(line, "capturing on") == NULL; i++) {
                FILE *f = fopen(out, "r");

                usleep(10000);
                if (f == NULL)
                        continue;
                if (fgets(line, sizeof(line), f) == NULL)
                        line[0] = '\0';
                fclose(f);
        }
        if (strstr(line, "capturing on") == NULL)
                fail_msg("capture did not start: %s", line);
        return p;
}

/* @return mpnetctl's exit code, its output in out. */
static int capture_wait(pid_t p, const char *name, char *out, size_t n)
{
        char path[400];
        int st;
        FILE *f;
        size_t k;

        assert_int_equal(waitpid(p, &st, 0), p);
        snprintf(path, sizeof(path), "%s/%s", d.dir, name);
        f = fopen(path, "r");
        assert_non_null(f);
        k = fread(out, 1, n - 1, f);
        out[k] = '\0';
        fclose(f);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void ping_ok(const char *dst)
{
        char out[256];

        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n h1 ping %s count 2 timeout 5000", dst),
                         0);
        if (strstr(out, "2 packets transmitted, 2 received") == NULL)
                fail_msg("ping %s: %s", dst, out);
}

/* The frames of a pcapng file: @return how many, and how many of them are
 * ICMP to or from 192.0.2.3 in *icmp3. */
static unsigned pcapng_frames(const char *path, unsigned *icmp3)
{
        static uint8_t b[1 << 20];
        FILE *f = fopen(path, "rb");
        size_t n, off = 0;
        unsigned k = 0;

        assert_non_null(f);
        n = fread(b, 1, sizeof(b), f);
        fclose(f);
        *icmp3 = 0;
        while (off + 12 <= n) {
                uint32_t type, len, caplen;
                const uint8_t *fr = b + off + 28;

                memcpy(&type, b + off, 4);
                memcpy(&len, b + off + 4, 4);
                assert_true(len >= 12 && off + len <= n);
                if (type == 6) {
                        memcpy(&caplen, b + off + 20, 4);
                        k++;
                        *icmp3 += caplen >= 34 && fr[12] == 8 && fr[13] == 0 && fr[23] == 1 &&
                                  (memcmp(fr + 26, "\xc0\x00\x02\x03", 4) == 0 ||
                                   memcmp(fr + 30, "\xc0\x00\x02\x03", 4) == 0);
                }
                off += len;
        }
        assert_int_equal(off, n);
        return k;
}

static void test_filter_and_count(void **state)
{
        char out[1024], args[600], file[400], cmd[1200];
        unsigned icmp3;
        pid_t p;

        (void)state;
        snprintf(file, sizeof(file), "%s/c.pcapng", d.dir);
        snprintf(args, sizeof(args), "-n r capture rb icmp and host 192.0.2.3 -w %s -c 4", file);
        p = capture_spawn("cap1.out", args);
        ping_ok("192.0.2.1"); /* 4 ICMP frames the filter refuses */
        ping_ok("192.0.2.3"); /* the 4 it keeps; then the count ends it */
        assert_int_equal(capture_wait(p, "cap1.out", out, sizeof(out)), 0);
        if (strstr(out, "4 packets captured") == NULL)
                fail_msg("%s", out);
        assert_int_equal(pcapng_frames(file, &icmp3), 4);
        assert_int_equal(icmp3, 4);
        /* tshark reads the file and finds the same with the filter. */
        if (system("command -v tshark >/dev/null 2>&1") == 0) {
                snprintf(cmd, sizeof(cmd),
                         "test $(tshark -r %s 2>/dev/null | wc -l) = 4 && "
                         "test $(tshark -r %s -Y 'icmp && ip.addr == 192.0.2.3' 2>/dev/null | "
                         "wc -l) = 4",
                         file, file);
                assert_int_equal(system(cmd), 0);
        }
}

static void test_interrupt(void **state)
{
        char out[1024], args[600], file[400];
        unsigned icmp3;
        pid_t p;

        (void)state;
        snprintf(file, sizeof(file), "%s/all.pcapng", d.dir);
        snprintf(args, sizeof(args), "-n r cap rb -w %s", file);
        p = capture_spawn("cap2.out", args);
        ping_ok("192.0.2.3");
        kill(p, SIGINT);
        assert_int_equal(capture_wait(p, "cap2.out", out, sizeof(out)), 0);
        if (strstr(out, "packets captured") == NULL)
                fail_msg("%s", out);
        /* No filter: the 4 ICMP frames are there, among whatever else. */
        assert_true(pcapng_frames(file, &icmp3) >= 4);
        assert_int_equal(icmp3, 4);
}

static void test_refused(void **state)
{
        static alignas(8) uint8_t mem[4096];
        char out[1024], why[256];
        struct mpnet_ctl_buf b;
        struct mpnet_ctl *c;
        /* A jump past the end: what the decoder lets through (whole 8-byte
         * records), the validator refuses. */
        const uint8_t bad[16] = {0x15, 0, 0, 5, 0, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0, 0};

        (void)state;
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n r capture rb 'icmp and hst 1' -w x"), 1);
        assert_non_null(strstr(out, "syntax error"));
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n r capture rb icmp"), 2);
        assert_non_null(strstr(out, "-w FILE"));
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n r capture nosuch -w x"), 1);
        assert_non_null(strstr(out, "no link nosuch"));
        c = mpnet_ctl_open(d.sock);
        assert_non_null(c);
        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        mpnet_ctl_msg_begin(&b, MPNET_CTL_CAPTURE, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                            mpnet_ctl_port(c));
        mpnet_ctl_put_str(&b, MPNET_CTLA_STACK, "r");
        mpnet_ctl_put_str(&b, MPNET_CTLA_IFNAME, "rb");
        mpnet_ctl_put_str(&b, MPNET_CTLA_FILE, "/nonexistent/never.pcapng");
        mpnet_ctl_put(&b, MPNET_CTLA_BPF, bad, sizeof(bad));
        assert_int_equal(mpnet_ctl_msg_end(&b), 0);
        assert_int_equal(mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 10000), -EINVAL);
        assert_string_equal(why, "instruction 0: jump by 0/5 past the end");
        /* 12 bytes: not whole instructions; the decoder refuses it. */
        b.len = 0;
        mpnet_ctl_msg_begin(&b, MPNET_CTL_CAPTURE, MPNET_CTL_F_REQUEST, mpnet_ctl_seq(c),
                            mpnet_ctl_port(c));
        mpnet_ctl_put_str(&b, MPNET_CTLA_STACK, "r");
        mpnet_ctl_put(&b, MPNET_CTLA_BPF, bad, 12);
        assert_int_equal(mpnet_ctl_msg_end(&b), 0);
        assert_int_equal(mpnet_ctl_exchange(c, &b, NULL, NULL, why, sizeof(why), 10000), -EINVAL);
        assert_non_null(strstr(why, "records of 8"));
        mpnet_ctl_close(c);
        /* Unharmed. */
        ping_ok("192.0.2.3");
}

/* The link goes while it is captured: the request that deleted it is
 * answered (not the capture's client instead), the capture ends ENODEV. */
static void test_link_deleted(void **state)
{
        char out[1024], args[600];
        pid_t p;

        (void)state;
        MPD_CTL(&d, "stack add x");
        MPD_CTL(&d, "-n x link add x0 type mem peer x1");
        snprintf(args, sizeof(args), "-n x capture x1 -w %s/x.pcapng", d.dir);
        p = capture_spawn("cap3.out", args);
        assert_int_equal(mpd_ctl(&d, out, sizeof(out), "-n x link del x0"), 0);
        assert_int_equal(capture_wait(p, "cap3.out", out, sizeof(out)), 1);
        assert_non_null(strstr(out, "the link was deleted"));
        assert_non_null(strstr(out, "0 packets captured"));
        MPD_CTL(&d, "stack del x");
}

static int setup(void **state)
{
        (void)state;
        if (mpd_init(&d, "mpnetd-capture") != 0)
                return -1;
        mpd_start(&d, 2);
        MPD_CTL(&d, "stack add h1");
        MPD_CTL(&d, "stack add r");
        MPD_CTL(&d, "-n h1 link add h1r type mem peer rb peer-stack r");
        MPD_CTL(&d, "-n h1 addr add 192.0.2.2/24 dev h1r");
        MPD_CTL(&d, "-n r addr add 192.0.2.1/24 dev rb");
        MPD_CTL(&d, "-n r addr add 192.0.2.3/24 dev rb");
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
            cmocka_unit_test(test_filter_and_count),
            cmocka_unit_test(test_interrupt),
            cmocka_unit_test(test_refused),
            cmocka_unit_test(test_link_deleted),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
