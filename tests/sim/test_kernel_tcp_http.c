/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.1 between mpnet and Linux (issue 16), over AF_PACKET on a veth
 * pair (tests/sim/kt_tcp_veth.h):
 *
 * - `mpnet-http serve` fetched by curl(1) in the kernel's namespace: a
 *   file twice over one kept-alive connection, over IPv4 and IPv6, SHA-256
 *   compared; HEAD's Content-Length; 404; then malformed requests sent raw
 *   (garbage, a bad version, an unknown method, a body with
 *   Transfer-Encoding, a path out of the folder, a NUL, a head over 8 KiB,
 *   no Host) each answered with its status, after which the server still
 *   serves, and ends with status 0 on SIGTERM (a crash would not);
 * - `mpnet-http get` fetching from `python3 -m http.server` in the
 *   kernel's namespace, IPv4 and IPv6, SHA-256 compared; a missing file
 *   ends it with status 1; a chunked response (socat playing a canned one)
 *   decoded.
 *
 * The file is 8 MB (MPNET_KT_TCP_MB). Skipped (with the reason) as
 * test_kernel_tcp_afpacket.c is, and without curl or python3.
 */
#define _GNU_SOURCE /* setns, in netns_util.h */
#include <arpa/inet.h>

#include "kt_tcp_veth.h"

static char g_dir[512], g_file[600];

static void www_make(void)
{
        snprintf(g_dir, sizeof(g_dir), "%s/http_www", test_out_dir());
        snprintf(g_file, sizeof(g_file), "%s/data.bin", g_dir);
        assert_int_equal(kt_sh("(rm -rf %s && mkdir -p %s && head -c %uM /dev/urandom > %s && "
                               "echo hello > %s/index.html)",
                               g_dir, g_dir, kt_xfer_mb(), g_file, g_dir),
                         0);
}

/* What a raw request (printf(1) escapes) gets: the status line's code. */
static int raw_status(const char *req)
{
        char out[256];
        long code;

        if (kt_sh_out(out, sizeof(out),
                      "printf '%s' | timeout 20 ip netns exec %s socat -t 5 - TCP4:192.0.2.1:8080 "
                      "| head -1",
                      req, g_nsk) != 0)
                return -1;
        if (strncmp(out, "HTTP/1.1 ", 9) != 0)
                return -1;
        code = strtol(out + 9, NULL, 10);
        return (int)code;
}

static void curl_sha(const char *url, char *sha, size_t n)
{
        char got[600];

        snprintf(got, sizeof(got), "%s/http_curl.bin", test_out_dir());
        assert_int_equal(kt_sh("timeout 60 ip netns exec %s curl -sSf --max-time 50 -o %s '%s'",
                               g_nsk, got, url),
                         0);
        kt_sha_of(got, sha, n);
        unlink(got);
}

static void test_curl_from_mpnet_http(void **state)
{
        char log[512], rc[512], pid[512], want[80], got[80], out[256];
        struct {
                const char *req;
                int status;
        } bad[] = {
            {"GARBAGE\\r\\n\\r\\n", 400},
            {"GET / HTTP/2.0\\r\\nHost: a\\r\\n\\r\\n", 505},
            {"GET / HTTQ/1.1\\r\\nHost: a\\r\\n\\r\\n", 400},
            {"PUT / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n", 501},
            {"GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n", 501},
            {"GET /../../etc/passwd HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n", 400},
            {"GET /%%2e%%2e/etc/passwd HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n", 400},
            {"GET /a\\000b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n", 400},
            {"GET / HTTP/1.1\\r\\n\\r\\n", 400},
            {"GET / HTTP/1.1\\r\\nHost: a\\r\\nBad Name: x\\r\\n\\r\\n", 400},
            {"GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1x\\r\\n\\r\\n", 400},
            {"GET /data.bin\\r\\n\\r\\n", 400},
        };

        (void)state;
        SKIP_WITHOUT_KERNEL();
        SKIP_IF(!kt_tool("curl"), "curl missing (scripts/install-deps.sh installs it)\n");
        www_make();
        veth_make("tk5", "tm5", "192.0.2.2", "2001:db8:1::2", false);
        snprintf(log, sizeof(log), "%s/http_serve.log", test_out_dir());
        snprintf(rc, sizeof(rc), "%s/http_serve.rc", test_out_dir());
        snprintf(pid, sizeof(pid), "%s/http_serve.pid", test_out_dir());
        kt_sh("rm -f %s %s", rc, pid);
        assert_int_equal(kt_sh("(timeout 120 sh -c 'echo $$ > %s; exec %s serve -v -p 8080 "
                               "--link afpacket:tm5@%s --addr 192.0.2.1/24 --addr 2001:db8:1::1/64 "
                               "%s' 2> %s; echo $? > %s) </dev/null >/dev/null 2>&1 &",
                               pid, kt_tool_bin("mpnet-http"), g_nsm, g_dir, log, rc),
                         0);
        kt_sha_of(g_file, want, sizeof(want));

        /* Served once the stack is up (IPv6 duplicate detection first). */
        assert_int_equal(kt_sh_out(out, sizeof(out),
                                   "timeout 60 ip netns exec %s curl -sSf --retry 20 "
                                   "--retry-connrefused --retry-delay 1 --max-time 5 "
                                   "http://192.0.2.1:8080/",
                                   g_nsk),
                         0);
        assert_string_equal(out, "hello");
        /* Twice over one connection: the second reuses it (no connect). */
        assert_int_equal(kt_sh_out(out, sizeof(out),
                                   "timeout 60 ip netns exec %s curl -sSf --max-time 50 -o "
                                   "/dev/null -w '%%{num_connects} ' "
                                   "http://192.0.2.1:8080/data.bin -o /dev/null "
                                   "http://192.0.2.1:8080/data.bin",
                                   g_nsk),
                         0);
        print_message("curl's connects for two fetches: %s\n", out);
        assert_string_equal(out, "1 0 ");
        curl_sha("http://192.0.2.1:8080/data.bin", got, sizeof(got));
        assert_string_equal(want, got);
        curl_sha("http://[2001:db8:1::1]:8080/data.bin", got, sizeof(got));
        assert_string_equal(want, got);

        /* HEAD: the length, no body. */
        assert_int_equal(kt_sh_out(out, sizeof(out),
                                   "timeout 20 ip netns exec %s curl -sSfI "
                                   "http://192.0.2.1:8080/data.bin | tr -d '\\r' | "
                                   "awk 'tolower($1)==\"content-length:\" {print $2}'",
                                   g_nsk),
                         0);
        assert_int_equal(strtoul(out, NULL, 10), kt_xfer_mb() * 1024u * 1024u);
        assert_int_equal(kt_sh_out(out, sizeof(out),
                                   "timeout 20 ip netns exec %s curl -s -o /dev/null "
                                   "-w '%%{http_code}' http://192.0.2.1:8080/missing",
                                   g_nsk),
                         0);
        assert_string_equal(out, "404");

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int st = raw_status(bad[i].req);

                if (st != bad[i].status)
                        fail_msg("request %zu (%s): status %d, %d expected", i, bad[i].req, st,
                                 bad[i].status);
        }
        /* A head over 8 KiB without its end: 431. */
        assert_int_equal(kt_sh_out(out, sizeof(out),
                                   "(printf 'GET / HTTP/1.1\\r\\nX: '; head -c 9000 /dev/zero | "
                                   "tr '\\0' a) | timeout 20 ip netns exec %s socat -t 5 - "
                                   "TCP4:192.0.2.1:8080 | head -1",
                                   g_nsk),
                         0);
        assert_string_equal(out, "HTTP/1.1 431 Request Header Fields Too Large\r");

        /* Still serving; then SIGTERM ends it with status 0. */
        curl_sha("http://192.0.2.1:8080/data.bin", got, sizeof(got));
        assert_string_equal(want, got);
        assert_int_equal(kt_sh("kill -TERM $(cat %s)", pid), 0);
        assert_int_equal(kt_rc_wait(rc, 30), 0);
        kt_sh("rm -rf %s", g_dir);
        veth_del("tk5");
}

static void test_mpnet_http_get_from_python(void **state)
{
        char log[512], got[600], want[80], sha[80];
        const struct {
                const char *url, *me;
        } cases[] = {
            {"http://192.0.2.2:8000/data.bin", "192.0.2.1/24"},
            {"http://[2001:db8:1::2]:8000/data.bin", "2001:db8:1::1/64"},
        };

        (void)state;
        SKIP_WITHOUT_KERNEL();
        SKIP_IF(!kt_tool("python3"), "python3 missing\n");
        www_make();
        veth_make("tk6", "tm6", "192.0.2.2", "2001:db8:1::2", false);
        snprintf(log, sizeof(log), "%s/http_get.log", test_out_dir());
        snprintf(got, sizeof(got), "%s/http_get.bin", test_out_dir());
        /* "::" takes IPv4 too (v4-mapped; the namespace's bindv6only is 0). */
        assert_int_equal(kt_sh("(timeout 120 ip netns exec %s python3 -m http.server --bind :: "
                               "--directory %s 8000) </dev/null >/dev/null 2>&1 &",
                               g_nsk, g_dir),
                         0);
        kt_listen_wait(g_nsk, 8000);
        kt_sha_of(g_file, want, sizeof(want));
        for (size_t i = 0; i < 2; i++) {
                char line[256] = "";

                unlink(got);
                assert_int_equal(kt_sh("(timeout 90 %s get -v -w 30 --link afpacket:tm6@%s "
                                       "--addr %s -o %s %s 2> %s)",
                                       kt_tool_bin("mpnet-http"), g_nsm, cases[i].me, got,
                                       cases[i].url, log),
                                 0);
                kt_sha_of(got, sha, sizeof(sha));
                assert_string_equal(want, sha);
                kt_sh_out(line, sizeof(line), "grep 'bytes in' %s", log);
                print_message("%s: %s\n", cases[i].url, line);
        }
        /* A missing file: status 1 and the code said. */
        assert_int_equal(
            kt_sh("(timeout 90 %s get -w 30 --link afpacket:tm6@%s --addr 192.0.2.1/24 "
                  "-o %s http://192.0.2.2:8000/missing 2> %s)",
                  kt_tool_bin("mpnet-http"), g_nsm, got, log),
            1);
        assert_int_equal(kt_sh("grep -q 'HTTP status 404' %s", log), 0);
        kt_sh("ip netns pids %s | xargs -r kill", g_nsk);
        kt_sh("rm -rf %s %s", g_dir, got);
        veth_del("tk6");
}

/* A chunked response (socat playing a canned one): the body decoded, the
 * extension and the trailer skipped (RFC 9112 7.1). */
static void test_mpnet_http_get_chunked(void **state)
{
        char resp[512], got[512], log[512], out[128];

        (void)state;
        SKIP_WITHOUT_KERNEL();
        veth_make("tk7", "tm7", "192.0.2.2", NULL, false);
        snprintf(resp, sizeof(resp), "%s/http_chunked.txt", test_out_dir());
        snprintf(got, sizeof(got), "%s/http_chunked.out", test_out_dir());
        /* In parentheses: kt_sh sends the command's output to /dev/null. */
        assert_int_equal(
            kt_sh("(printf 'HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
                  "5\\r\\nhello\\r\\n7;x=y\\r\\n, world\\r\\n0\\r\\nT: 1\\r\\n\\r\\n' > %s)",
                  resp),
            0);
        /* socat reads the request while the reply is out and closes later:
         * closed with the request unread, its kernel would send a reset. */
        assert_int_equal(kt_sh("(timeout 60 ip netns exec %s socat TCP4-LISTEN:8001,reuseaddr "
                               "SYSTEM:'cat %s; sleep 3') </dev/null >/dev/null 2>&1 &",
                               g_nsk, resp),
                         0);
        kt_listen_wait(g_nsk, 8001);
        snprintf(log, sizeof(log), "%s/http_chunked.log", test_out_dir());
        assert_int_equal(kt_sh("(timeout 60 %s get -v -w 30 --link afpacket:tm7@%s "
                               "--addr 192.0.2.1/24 -o %s http://192.0.2.2:8001/x 2> %s)",
                               kt_tool_bin("mpnet-http"), g_nsm, got, log),
                         0);
        assert_int_equal(kt_sh_out(out, sizeof(out), "cat %s", got), 0);
        assert_string_equal(out, "hello, world");
        kt_sh("rm -f %s %s", resp, got);
        veth_del("tk7");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_curl_from_mpnet_http),
            cmocka_unit_test(test_mpnet_http_get_from_python),
            cmocka_unit_test(test_mpnet_http_get_chunked),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
