/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP against the Linux kernel (issue 16) as seen on the wire and through
 * loss, over AF_PACKET on a veth pair (tests/sim/kt_tcp_veth.h), socat on
 * the kernel side and mpnet-nc on ours (tests/sim/kt_tcp.h):
 *
 * - the options: a tcpdump capture on the kernel's end while each side
 *   opens a connection to the other (IPv4 and IPv6), read by tshark: every
 *   SYN and SYN-ACK carries MSS, SACK-permitted, window scale and a
 *   timestamp (the SYN-ACK echoing the SYN's), and every later segment but
 *   a reset a timestamp, both ways (RFC 7323 3.2, RFC 2018 2, RFC 9293
 *   3.7.1);
 * - 1 % loss both ways: mpnet-nc's --loss (mpnet's fault link around its
 *   AF_PACKET link) drops what the kernel sends, an nftables rule in the
 *   kernel's namespace (numgen random) what mpnet sends, or, without nft,
 *   netem on the kernel's end; the transfer (8 MB each way,
 *   MPNET_KT_TCP_MB) completes with matching SHA-256 and frames were
 *   dropped. MPNET_KT_LOSS_SEED sets the fault link's seed (16), and
 *   MPNET_KT_CAPTURE=1 keeps a tcpdump of a failed transfer (=keep: of
 *   every transfer).
 *
 * Skipped (with the reason) as test_kernel_tcp_afpacket.c is; the option
 * check without tcpdump or tshark.
 */
#define _GNU_SOURCE /* setns, in netns_util.h */
#include <arpa/inet.h>

#include "kt_tcp_veth.h"

/* ---- options on the wire ---------------------------------------------- */

/* A tshark "1"/"True" flag field. */
static bool flag_set(const char *v)
{
        return v[0] == '1' || v[0] == 'T';
}

struct syn_seen {
        unsigned syn_k, syn_m, synack_k, synack_m; /* from the kernel, from mpnet */
        unsigned bad;                              /* a SYN or SYN-ACK lacking an option */
        unsigned data_k, data_m, no_ts;            /* segments with data; ones without TSopt */
};

/*
 * Read the capture with tshark, one line per TCP segment: source, SYN, ACK,
 * RST, payload length, MSS, SACK-permitted, window shift, TSval, TSecr.
 */
static struct syn_seen syn_check(const char *file, const char *k4, const char *k6)
{
        struct syn_seen s = {0};
        char cmd[1024], line[512];
        FILE *f;

        snprintf(cmd, sizeof(cmd),
                 "tshark -n -r '%s' -Y tcp -T fields -E separator=, -e ip.src -e ipv6.src "
                 "-e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.reset -e tcp.len -e "
                 "tcp.options.mss_val "
                 "-e tcp.options.sack_perm -e tcp.options.wscale.shift "
                 "-e tcp.options.timestamp.tsval -e tcp.options.timestamp.tsecr 2>/dev/null",
                 file);
        f = popen(cmd, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                char *fld[11], *p = line;
                bool from_k, syn, ack, ok;

                for (int i = 0; i < 11; i++) {
                        fld[i] = p;
                        p += strcspn(p, ",\n");
                        if (*p != '\0')
                                *p++ = '\0';
                }
                from_k = strcmp(fld[0], k4) == 0 || strcmp(fld[1], k6) == 0;
                syn = flag_set(fld[2]);
                ack = flag_set(fld[3]);
                if (flag_set(fld[4]))
                        continue; /* a reset need not carry TSopt (RFC 7323 3.2) */
                if (!syn) {
                        if (strtol(fld[5], NULL, 10) > 0) {
                                s.data_k += from_k;
                                s.data_m += !from_k;
                        }
                        s.no_ts += fld[9][0] == '\0';
                        continue;
                }
                ok = strtol(fld[6], NULL, 10) > 0 && fld[7][0] != '\0' && fld[8][0] != '\0' &&
                     strtoul(fld[9], NULL, 10) != 0;
                /* A SYN-ACK echoes the SYN's TSval (RFC 7323 4.3). */
                ok &= !ack || strtoul(fld[10], NULL, 10) != 0;
                if (!ok)
                        print_message("a %s from %s lacks an option: mss %s sack_perm %s "
                                      "wscale %s tsval %s tsecr %s\n",
                                      ack ? "SYN-ACK" : "SYN", from_k ? "the kernel" : "mpnet",
                                      fld[6], fld[7], fld[8], fld[9], fld[10]);
                s.bad += !ok;
                if (ack) {
                        s.synack_k += from_k;
                        s.synack_m += !from_k;
                } else {
                        s.syn_k += from_k;
                        s.syn_m += !from_k;
                }
        }
        assert_int_equal(pclose(f), 0);
        return s;
}

static void test_options_on_the_wire(void **state)
{
        char spec[128], file[512];
        struct kt_capture cap;
        struct syn_seen s;
        struct kt_xfer x[4] = {
            {.tag = "opt_srv4", .me = "192.0.2.1", .peer = "192.0.2.2", .port = 7230},
            {.tag = "opt_cli4", .me = "192.0.2.1", .peer = "192.0.2.2", .port = 7231},
            {.tag = "opt_srv6",
             .me = "2001:db8:1::1",
             .peer = "2001:db8:1::2",
             .v6 = true,
             .port = 7232},
            {.tag = "opt_cli6",
             .me = "2001:db8:1::1",
             .peer = "2001:db8:1::2",
             .v6 = true,
             .port = 7233},
        };

        (void)state;
        SKIP_WITHOUT_KERNEL();
        SKIP_IF(!kt_tool("tshark"), "tshark missing (scripts/install-deps.sh installs it)\n");
        veth_make("tk3", "tm3", "192.0.2.2", "2001:db8:1::2", false);
        snprintf(file, sizeof(file), "%s/tcp_veth_options.pcap", test_out_dir());
        if (kt_capture_start(&cap, g_nsk, "tk3", file) != 0) {
                veth_del("tk3");
                SKIP_IF(true, "tcpdump missing or not started\n");
        }
        for (int i = 0; i < 4; i++) {
                x[i].link = link_spec(spec, sizeof(spec), "afpacket", "tm3");
                x[i].kns = g_nsk;
                x[i].kb = 64;
                if (i % 2 == 0)
                        kt_xfer_linux_client(&x[i]);
                else
                        kt_xfer_linux_server(&x[i]);
        }
        kt_capture_stop(&cap);
        s = syn_check(file, "192.0.2.2", "2001:db8:1::2");
        print_message("SYN kernel %u mpnet %u, SYN-ACK kernel %u mpnet %u, lacking %u; data "
                      "segments kernel %u mpnet %u, without a timestamp %u\n",
                      s.syn_k, s.syn_m, s.synack_k, s.synack_m, s.bad, s.data_k, s.data_m, s.no_ts);
        /* One SYN each way per family; a retransmitted SYN would count too. */
        assert_true(s.syn_k >= 2 && s.syn_m >= 2 && s.synack_k >= 2 && s.synack_m >= 2);
        assert_int_equal(s.bad, 0);
        assert_true(s.data_k > 0 && s.data_m > 0);
        assert_int_equal(s.no_ts, 0);
        veth_del("tk3");
}

/* ---- loss ----------------------------------------------------------------- */

/* Frames the kernel's loss rule dropped (nft counter), or -1. */
static long nft_dropped(void)
{
        char out[128];

        if (kt_sh_out(out, sizeof(out),
                      "ip netns exec %s nft list chain inet mpnet_loss in | "
                      "grep -o 'packets [0-9]*' | cut -d' ' -f2",
                      g_nsk) != 0 ||
            out[0] == '\0')
                return -1;
        return strtol(out, NULL, 10);
}

/* 1 % of what mpnet sends is lost on the kernel's side: an nftables rule on
 * its input (numgen), else netem on the kernel's end (which drops what the
 * kernel sends: the fault link's direction, but still loss). @return
 * "nft", "netem", or NULL when neither is there. */
static const char *kernel_loss(const char *kif)
{
        if (kt_tool("nft") &&
            kt_sh("ip netns exec %s nft 'add table inet mpnet_loss; add chain inet mpnet_loss in "
                  "{ type filter hook input priority 0; }; add rule inet mpnet_loss in meta "
                  "l4proto tcp numgen random mod 100 < 1 counter drop'",
                  g_nsk) == 0)
                return "nft";
        if (kt_sh("ip netns exec %s tc qdisc add dev %s root netem loss 1%%", g_nsk, kif) == 0)
                return "netem";
        return NULL;
}

/* The fault link's seed: MPNET_KT_LOSS_SEED, else 16. */
static unsigned long loss_seed(void)
{
        const char *v = getenv("MPNET_KT_LOSS_SEED");

        return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : 16;
}

static void test_loss_both_ways(void **state)
{
        char spec[128], line[256], opts[64], file[512];
        const char *how;
        struct kt_capture cap = {.pid = -1};
        struct kt_xfer x = {.tag = "loss4",
                            .kns = g_nsk,
                            .me = "203.0.113.1",
                            .peer = "203.0.113.2",
                            .port = 7240,
                            .nc_opts = opts};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        snprintf(opts, sizeof(opts), "--loss 1 --seed %lu", loss_seed());
        veth_make("tk4", "tm4", "203.0.113.2", NULL, false);
        how = kernel_loss("tk4");
        if (how == NULL)
                print_message("no nft and no sch_netem: only what the kernel sends is lost "
                              "(mpnet's fault link)\n");
        x.link = link_spec(spec, sizeof(spec), "afpacket", "tm4");
        /* MPNET_KT_CAPTURE=1: a tcpdump on the kernel's end, kept when the
         * transfer fails (the failure ends the test before the removal);
         * =keep: kept always. */
        snprintf(file, sizeof(file), "%s/tcp_veth_loss.pcap", test_out_dir());
        if (getenv("MPNET_KT_CAPTURE") != NULL && kt_capture_start(&cap, g_nsk, "tk4", file) != 0)
                print_message("no capture: tcpdump missing or not started\n");
        kt_xfer_linux_client(&x);
        if (cap.pid > 0) {
                kt_capture_stop(&cap);
                if (strcmp(getenv("MPNET_KT_CAPTURE"), "keep") != 0)
                        unlink(file);
        }
        assert_int_equal(kt_sh_out(line, sizeof(line), "grep 'fault link' %s", x.log), 0);
        print_message("%s; the kernel's side (%s): %ld dropped\n", line, how ? how : "none",
                      how != NULL && strcmp(how, "nft") == 0 ? nft_dropped() : -1L);
        /* At 1 % of thousands of frames each way, some were lost. */
        assert_true(strtol(strstr(line, "fault link: ") + 12, NULL, 10) > 0);
        if (how != NULL && strcmp(how, "nft") == 0)
                assert_true(nft_dropped() > 0);
        kt_sh("ip netns exec %s nft delete table inet mpnet_loss", g_nsk);
        veth_del("tk4");
}

/* ---- a FIN that needs several tries ------------------------------------- */

/*
 * mpnet-nc, the client, stays until the kernel has acknowledged its data
 * and FIN, not only until the wire went quiet for a second: an nftables
 * rule in the kernel's namespace drops every segment with FIN that reaches
 * the kernel for the first 4 s, so mpnet's last data and FIN (64 KB: more
 * than the first window, so the FIN rides on data) need
 * retransmission timeouts with backoff, gaps of over a second. The kernel's
 * FIN came before (socat's input is short), so mpnet-nc has "closed both
 * ways" at once; had it ended after a quiet second, socat would never see
 * the end of mpnet's data (the one-off failure of the loss case above: 7 KB
 * short, socat timed out).
 */
static void test_fin_needs_retries(void **state)
{
        char spec[128];
        struct kt_xfer x = {.tag = "finrtx",
                            .kns = g_nsk,
                            .me = "198.51.100.1",
                            .peer = "198.51.100.2",
                            .port = 7250,
                            .kb = 64};

        (void)state;
        SKIP_WITHOUT_KERNEL();
        SKIP_IF(!kt_tool("nft"), "nft missing (scripts/install-deps.sh installs it)\n");
        veth_make("tk5", "tm5", "198.51.100.2", NULL, false);
        if (kt_sh("ip netns exec %s nft 'add table inet mpnet_fin; add chain inet mpnet_fin in "
                  "{ type filter hook input priority 0; }; add rule inet mpnet_fin in "
                  "tcp flags & fin == fin tcp dport 7250 counter drop'",
                  g_nsk) != 0) {
                veth_del("tk5");
                SKIP_IF(true, "nft refused the rule\n");
        }
        /* The rule goes 4 s from now, whatever the test is doing then. */
        assert_int_equal(kt_sh("(sleep 4; ip netns exec %s nft delete table inet mpnet_fin) "
                               "</dev/null >/dev/null 2>&1 &",
                               g_nsk),
                         0);
        x.link = link_spec(spec, sizeof(spec), "afpacket", "tm5");
        /* socat listens on 7250: the rule drops mpnet's segments with FIN. */
        kt_xfer_linux_server(&x);
        kt_sh("ip netns exec %s nft delete table inet mpnet_fin", g_nsk);
        veth_del("tk5");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_options_on_the_wire),
            cmocka_unit_test(test_loss_both_ways),
            cmocka_unit_test(test_fin_needs_retries),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
