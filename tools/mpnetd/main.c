/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd: runs stacks on real links, configured with mpnetctl
 * (man/mpnetd.8, docs/CONTROL.md). In the foreground; SIGTERM or SIGINT
 * remove what it made and end it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MPNET_HAVE_DPDK
#include "mpnet/dpdk.h"
#endif
#include "mpnetd/mpnetd.h"

static void usage(FILE *f)
{
        fprintf(f,
                "usage: mpnetd [-s SOCKET] [-c CONFIG] [-g GROUP] [-w WORKERS] [-P BUFFERS]\n"
                "              [--dpdk 'EAL ARGS'] [-h]\n"
                "  -s SOCKET   control socket (default %s)\n"
                "  -c CONFIG   configuration file: mpnetctl commands, replayed at start,\n"
                "              each change appended as it is made, rewritten by save\n"
                "  -g GROUP    the group that may read (socket mode 0660); changes need\n"
                "              root or CAP_NET_ADMIN. Without it the socket is 0666.\n"
                "  -w WORKERS  worker threads (default 1)\n"
                "  -P BUFFERS  packet buffers (default 32768)\n"
                "  --dpdk ARGS initialise DPDK's EAL with ARGS for dpdk links\n",
                MPNET_CTL_SOCK);
}

static int group_parse(const char *s, gid_t *g)
{
        struct group *gr = getgrnam(s);
        char *end;
        unsigned long v;

        if (gr != NULL) {
                *g = gr->gr_gid;
                return 0;
        }
        v = strtoul(s, &end, 10);
        if (*s == '\0' || *end != '\0')
                return -1;
        *g = (gid_t)v;
        return 0;
}

static int dpdk_start(const char *args)
{
#ifdef MPNET_HAVE_DPDK
        static char buf[1024];
        static const char *argv[64];
        int argc = 0;

        snprintf(buf, sizeof(buf), "%s", args);
        for (char *t = strtok(buf, " "); t != NULL && argc < 63; t = strtok(NULL, " "))
                argv[argc++] = t;
        struct mpnet_dpdk_eal_cfg c = {.argc = argc, .argv = argv};
        int err = mpnet_dpdk_init(&c);

        return err == -EALREADY ? 0 : err;
#else
        (void)args;
        fprintf(stderr, "mpnetd: built without DPDK\n");
        return -EOPNOTSUPP;
#endif
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {{"dpdk", required_argument, NULL, 'D'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
        struct mpnetd_cfg cfg = {.sock_path = MPNET_CTL_SOCK, .group = (gid_t)-1, .n_workers = 1};
        static struct mpnetd d;
        int o, err;

        while ((o = getopt_long(argc, argv, "s:c:g:w:P:vh", opts, NULL)) != -1) {
                switch (o) {
                case 's':
                        cfg.sock_path = optarg;
                        break;
                case 'c':
                        cfg.conf_path = optarg;
                        break;
                case 'g':
                        if (group_parse(optarg, &cfg.group) != 0) {
                                fprintf(stderr, "mpnetd: no group %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'w':
                        cfg.n_workers = (unsigned)strtoul(optarg, NULL, 10);
                        if (cfg.n_workers < 1 || cfg.n_workers > MPNET_MAX_WORKERS) {
                                fprintf(stderr, "mpnetd: -w 1 to %d\n", MPNET_MAX_WORKERS);
                                return 2;
                        }
                        break;
                case 'P':
                        cfg.pool_size = (uint32_t)strtoul(optarg, NULL, 10);
                        break;
                case 'D':
                        cfg.dpdk_eal = optarg;
                        break;
                case 'v':
                        cfg.verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc) {
                usage(stderr);
                return 2;
        }
        if (cfg.dpdk_eal != NULL && dpdk_start(cfg.dpdk_eal) != 0)
                return 1;
        err = mpnetd_init(&d, &cfg);
        if (err == 0) {
                fprintf(stderr, "mpnetd: listening on %s, %u worker%s\n", cfg.sock_path,
                        cfg.n_workers, cfg.n_workers == 1 ? "" : "s");
                err = mpnetd_run(&d);
        }
        mpnetd_fini(&d);
        if (err == 0)
                fprintf(stderr, "mpnetd: stopped\n");
        return err == 0 ? 0 : 1;
}
