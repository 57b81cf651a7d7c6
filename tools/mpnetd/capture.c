/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd's captures (`mpnetctl capture`, docs/CONTROL.md CAPTURE): a
 * tcpdump filter expression compiled by libpcap here, on the control
 * thread, into classic BPF, which the link's capture tap runs on the
 * workers (src/link/capture.c, src/link/bpf.c): libpcap is not in the data
 * path. A client may send the compiled program (BPF) instead; it is
 * validated either way.
 *
 * The request is answered at once with a CAPTURE message (STACK, IFNAME,
 * FILE: it runs), and when the capture ends (its count reached, the
 * client gone or half-closed, as mpnetctl does on ^C, the link deleted)
 * with another (COUNT frames written, RECEIVED frames the filter saw) and
 * the final ERROR.
 *
 * Synchronisation: the control thread's, as the rest of mpnetd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef MPNETD_HAVE_PCAP
#include <pcap/pcap.h>
#endif

#include "mpnet/bpf.h"
#include "mpnetd/mpnetd.h"

#define CAP_SNAPLEN 262144 /* the capture file's, as tcpdump's default */

/* A filter expression into a program. @return 0 with *prog (free() it)
 * and *n, or -EINVAL with libpcap's reason. */
static int filter_compile(const char *expr, struct mpnet_bpf_insn **prog, size_t *n, char *why,
                          size_t why_len)
{
#ifdef MPNETD_HAVE_PCAP
        pcap_t *p = pcap_open_dead(DLT_EN10MB, CAP_SNAPLEN);
        struct bpf_program bp;
        int err = 0;

        if (p == NULL) {
                snprintf(why, why_len, "filter: libpcap failed");
                return -ENOMEM;
        }
        if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
                snprintf(why, why_len, "filter \"%s\": %s", expr, pcap_geterr(p));
                pcap_close(p);
                return -EINVAL;
        }
        *n = bp.bf_len;
        *prog = calloc(bp.bf_len ? bp.bf_len : 1, sizeof(**prog));
        if (*prog == NULL)
                err = -ENOMEM;
        for (size_t i = 0; err == 0 && i < *n; i++)
                (*prog)[i] = (struct mpnet_bpf_insn){.code = bp.bf_insns[i].code,
                                                     .jt = bp.bf_insns[i].jt,
                                                     .jf = bp.bf_insns[i].jf,
                                                     .k = bp.bf_insns[i].k};
        pcap_freecode(&bp);
        pcap_close(p);
        return err;
#else
        (void)expr;
        (void)prog;
        (void)n;
        snprintf(why, why_len,
                 "mpnetd was built without libpcap: no filter expressions "
                 "(a compiled BPF program is taken)");
        return -EOPNOTSUPP;
#endif
}

/* The program of the request: compiled from FILTER, or BPF as sent, or
 * none. */
static int filter_of(const struct mpnet_ctl_attr *const *tb, struct mpnet_bpf_insn **prog,
                     size_t *n, char *why, size_t why_len)
{
        const struct mpnet_ctl_attr *a = tb[MPNET_CTLA_BPF];

        *prog = NULL;
        *n = 0;
        if (tb[MPNET_CTLA_FILTER] != NULL && a != NULL) {
                snprintf(why, why_len, "FILTER or BPF, not both");
                return -EINVAL;
        }
        if (tb[MPNET_CTLA_FILTER] != NULL)
                return filter_compile(mpnet_ctl_attr_str(tb[MPNET_CTLA_FILTER]), prog, n, why,
                                      why_len);
        if (a == NULL)
                return 0;
        /* The decoder let through whole 8-byte records only; they may sit
         * at any 4-aligned place, so they are copied. */
        *n = mpnet_ctl_attr_len(a) / 8;
        *prog = malloc(*n * sizeof(**prog));
        if (*prog == NULL)
                return -ENOMEM;
        memcpy(*prog, mpnet_ctl_attr_data(a), *n * sizeof(**prog));
        return 0;
}

static bool pcap_name(const char *path)
{
        size_t n = strlen(path);

        return n > 5 && strcmp(path + n - 5, ".pcap") == 0;
}

int mpnetd_capture_start(struct mpnetd *d, struct dclient *c, struct dlink *l,
                         const struct mpnet_ctl_view *m, const struct mpnet_ctl_attr *const *tb,
                         char *why, size_t why_len)
{
        const char *path = mpnet_ctl_attr_str(tb[MPNET_CTLA_FILE]);
        struct mpnet_capture_cfg cfg = {
            .path = path,
            .fmt = pcap_name(path) ? MPNET_CAPTURE_PCAP : MPNET_CAPTURE_PCAPNG,
            .clock = NULL,
            .count = tb[MPNET_CTLA_COUNT] ? mpnet_ctl_attr_u32(tb[MPNET_CTLA_COUNT]) : 0};
        struct mpnet_bpf_insn *prog;
        struct dcapture *k;
        size_t n;
        int err;

        if (path[0] != '/') {
                snprintf(why, why_len, "file \"%s\": an absolute path expected", path);
                return -EINVAL;
        }
        err = filter_of(tb, &prog, &n, why, why_len);
        if (err != 0)
                return err;
        k = calloc(1, sizeof(*k));
        if (k == NULL) {
                free(prog);
                return -ENOMEM;
        }
        cfg.filter = prog;
        cfg.filter_len = n;
        err = mpnet_capture_start(l->link, &cfg, why, why_len);
        free(prog);
        if (err != 0) {
                free(k);
                return err;
        }
        k->l = l;
        k->seq = m->h->seq;
        k->next = c->caps;
        c->caps = k;
        /* Running: the client learns it now (tcpdump's "listening on"),
         * the counts at the end. */
        mpnetd_out_room(d, 512);
        mpnet_ctl_msg_begin(&d->out, MPNET_CTL_CAPTURE, 0, k->seq, 0);
        mpnet_ctl_put_str(&d->out, MPNET_CTLA_STACK, l->st->name);
        mpnet_ctl_put_str(&d->out, MPNET_CTLA_IFNAME, l->name);
        mpnet_ctl_put_str(&d->out, MPNET_CTLA_FILE, path);
        mpnet_ctl_msg_end(&d->out);
        return 1;
}

/* Stop one capture and answer its request. */
static void capture_end(struct mpnetd *d, struct dclient *c, struct dcapture *k, int err,
                        const char *why)
{
        struct mpnet_capture_stats st = {0};
        struct dclient *was = d->out_to;
        int r = mpnet_capture_stop(k->l->link, &st);

        if (err == 0 && r == -EIO) {
                err = -EIO;
                why = "frames are missing from the file (disk full?)";
        }
        /* Ended by another client's request (LINK_DEL, STACK_DEL): what is
         * being answered to it goes out first, and it is answered after. */
        mpnetd_out_flush(d);
        d->out_to = c;
        mpnet_ctl_msg_begin(&d->out, MPNET_CTL_CAPTURE, 0, k->seq, 0);
        mpnet_ctl_put_str(&d->out, MPNET_CTLA_STACK, k->l->st->name);
        mpnet_ctl_put_str(&d->out, MPNET_CTLA_IFNAME, k->l->name);
        mpnet_ctl_put_u32(&d->out, MPNET_CTLA_COUNT, (uint32_t)st.captured);
        mpnet_ctl_put_u32(&d->out, MPNET_CTLA_RECEIVED, (uint32_t)st.seen);
        mpnet_ctl_msg_end(&d->out);
        mpnet_ctl_msg_begin(&d->out, MPNET_CTL_ERROR, 0, k->seq, 0);
        mpnet_ctl_put_s32(&d->out, err);
        if (err != 0)
                mpnet_ctl_put_str(&d->out, MPNET_CTLA_EXT_MSG, why);
        mpnet_ctl_msg_end(&d->out);
        mpnetd_out_flush(d);
        d->out_to = was;
}

/* End the captures of client c that match: those on link l (NULL: all),
 * or with done only those whose count was reached. */
static void captures_end(struct mpnetd *d, struct dclient *c, const struct dlink *l, bool done,
                         int err, const char *why)
{
        for (struct dcapture **pk = &c->caps; *pk != NULL;) {
                struct dcapture *k = *pk;
                struct mpnet_capture_stats st;

                if ((l != NULL && k->l != l) ||
                    (done && (mpnet_capture_get_stats(k->l->link, &st) != 0 || !st.done))) {
                        pk = &k->next;
                        continue;
                }
                *pk = k->next;
                capture_end(d, c, k, err, why);
                free(k);
        }
}

void mpnetd_captures_run(struct mpnetd *d, struct dclient *c)
{
        captures_end(d, c, NULL, true, 0, NULL);
}

void mpnetd_captures_client_gone(struct mpnetd *d, struct dclient *c)
{
        captures_end(d, c, NULL, false, 0, NULL);
}

void mpnetd_captures_link_gone(struct mpnetd *d, const struct dlink *l)
{
        for (struct dclient *c = d->clients; c != NULL; c = c->next)
                captures_end(d, c, l, false, -ENODEV, "the link was deleted");
}
