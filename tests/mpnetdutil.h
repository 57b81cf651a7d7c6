/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests that run the built mpnetd and mpnetctl (CTest runs them in the
 * build directory): a daemon on a socket in a temporary directory under
 * $MPNET_TEST_OUT, mpnetctl run through the shell, the C client for raw
 * messages. No root needed: the stacks run on memory wires.
 */
#ifndef MPNET_MPNETDUTIL_H
#define MPNET_MPNETDUTIL_H

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpnet/ctl.h"
#include "testutil.h"

struct mpd {
        char dir[256], sock[300], conf[300];
        pid_t pid;
};

/* A fresh directory; @return 0, or -1 when the programs are not here. */
static inline int mpd_init(struct mpd *d, const char *name)
{
        if (access("./mpnetd", X_OK) != 0 || access("./mpnetctl", X_OK) != 0) {
                print_message("mpnetd/mpnetctl not in the working directory\n");
                return -1;
        }
        snprintf(d->dir, sizeof(d->dir), "%s/%s-XXXXXX", test_out_dir(), name);
        if (mkdtemp(d->dir) == NULL)
                return -1;
        snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
        snprintf(d->conf, sizeof(d->conf), "%s/mpnetd.conf", d->dir);
        d->pid = 0;
        return 0;
}

/* Start mpnetd (its stderr in DIR/mpnetd.log) and wait until it answers. */
static inline void mpd_start(struct mpd *d, unsigned workers)
{
        char ws[16];

        snprintf(ws, sizeof(ws), "%u", workers);
        d->pid = fork();
        assert_true(d->pid >= 0);
        if (d->pid == 0) {
                char log[320];
                int fd;

                snprintf(log, sizeof(log), "%s/mpnetd.log", d->dir);
                fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                dup2(fd, 2);
                execl("./mpnetd", "mpnetd", "-s", d->sock, "-c", d->conf, "-w", ws, (char *)NULL);
                _exit(127);
        }
        /* Generous: a busy machine. */
        for (int i = 0; i < 3000; i++) {
                struct mpnet_ctl *c = mpnet_ctl_open(d->sock);

                if (c != NULL) {
                        mpnet_ctl_close(c);
                        return;
                }
                usleep(10000);
        }
        fail_msg("mpnetd did not come up");
}

/* @return its wait status. */
static inline int mpd_stop(struct mpd *d, int sig)
{
        int st = 0;

        if (d->pid <= 0)
                return 0;
        kill(d->pid, sig);
        assert_int_equal(waitpid(d->pid, &st, 0), d->pid);
        d->pid = 0;
        return st;
}

static inline void mpd_fini(struct mpd *d)
{
        char cmd[400];

        mpd_stop(d, SIGTERM);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
        assert_int_equal(system(cmd), 0);
}

/* Run "./mpnetctl -s SOCK ARGS 2>&1" through the shell; its output in out
 * (may be NULL). @return its exit code. */
static inline int __attribute__((format(printf, 4, 5)))
mpd_ctl(const struct mpd *d, char *out, size_t n, const char *fmt, ...)
{
        char cmd[4096], args[3072];
        va_list ap;
        FILE *f;
        size_t k = 0;
        int ch, rc;

        va_start(ap, fmt);
        vsnprintf(args, sizeof(args), fmt, ap);
        va_end(ap);
        snprintf(cmd, sizeof(cmd), "./mpnetctl -s %s %s 2>&1", d->sock, args);
        f = popen(cmd, "r");
        assert_non_null(f);
        while ((ch = fgetc(f)) != EOF)
                if (out != NULL && k + 1 < n)
                        out[k++] = (char)ch;
        if (out != NULL)
                out[k] = '\0';
        rc = pclose(f);
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

#define MPD_CTL(d, ...) assert_int_equal(mpd_ctl((d), NULL, 0, __VA_ARGS__), 0)

#endif
