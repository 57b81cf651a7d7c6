/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpnetd's configuration file: a list of mpnetctl commands (man/mpnetd.8).
 *
 * At start the file is replayed, then, if every line worked, rewritten
 * from the running state (compacted). From then on every change that
 * succeeds is appended to it as the command that makes it, with one
 * write(2) before the change is acknowledged: a daemon killed at any
 * moment (kill -9) restarts with every change it acknowledged. Nothing is
 * fsync'ed per change (the page cache survives the process, not the
 * machine); SAVE rewrites the file from the running state and fsyncs it
 * and its directory, the rename making the new file appear whole or not
 * at all.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpnet/ip6.h"
#include "mpnet/route.h"
#include "mpnetd/mpnetd.h"

static int journal_open(struct mpnetd *d)
{
        if (d->journal >= 0)
                close(d->journal);
        d->journal = open(d->cfg.conf_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (d->journal < 0) {
                mpnetd_log(d, "%s: %s", d->cfg.conf_path, strerror(errno));
                return -errno;
        }
        return 0;
}

void mpnetd_config_journal(struct mpnetd *d, const struct mpnet_ctl_view *m)
{
        char line[1024];
        int n;

        if (d->journal < 0 || d->replaying)
                return;
        n = mpnet_ctl_cli_render(m, line, sizeof(line) - 1);
        if (n < 0)
                return; /* not a configuration change (SAVE, NEIGH_FLUSH) */
        line[n++] = '\n';
        if (write(d->journal, line, (size_t)n) != n)
                mpnetd_log(d, "%s: %s", d->cfg.conf_path, strerror(errno));
}

/* One line made into its message and handled as a root client's request
 * would be. @return 1: an empty line or a comment, else 0 or -errno. */
static int config_message(struct mpnetd *d, char *line, unsigned lineno, char *why, size_t why_len)
{
        _Alignas(8) uint8_t mem[4096];
        struct mpnet_ctl_buf b;
        struct mpnet_ctl_view m;
        size_t off = 0;
        int r;

        mpnet_ctl_buf_init(&b, mem, sizeof(mem));
        r = mpnet_ctl_cli_line(&b, NULL, line, lineno, 0, why, why_len);
        if (r != 0 || mpnet_ctl_msg_next(mem, b.len, &off, &m, why, why_len) != 1)
                return r;
        if (!mpnetd_is_change(m.h->type) || m.h->type == MPNET_CTL_SAVE) {
                snprintf(why, why_len, "not a configuration command");
                return -EINVAL;
        }
        r = mpnetd_handle(d, NULL, &m, why, why_len);
        d->out.len = 0; /* nobody to answer */
        return r;
}

/* One line of the file. A route in the form a save writes is applied
 * without its message (config_route.c): most of a saved file is routes. */
static int config_apply(struct mpnetd *d, char *line, unsigned lineno)
{
        char why[256] = "";
        int r = mpnetd_config_route(d, line, why, sizeof(why));

        if (r == 1)
                r = config_message(d, line, lineno, why, sizeof(why));
        if (r == 1)
                return 0;
        if (r != 0)
                mpnetd_log(d, "%s:%u: %s", d->cfg.conf_path, lineno, why[0] ? why : strerror(-r));
        return r;
}

#define SAVE_HEAD "# mpnetd configuration: mpnetctl commands (mpnetd.8)\n"
#define SAVE_TAIL "# end of the saved state; the changes made since follow\n"

int mpnetd_config_load(struct mpnetd *d)
{
        char line[MPNETD_LINE_MAX];
        unsigned lineno = 0, bad = 0;
        bool head = false, tail = false;
        FILE *f;

        if (d->cfg.conf_path == NULL)
                return 0;
        f = fopen(d->cfg.conf_path, "r");
        if (f == NULL && errno != ENOENT) {
                mpnetd_log(d, "%s: %s", d->cfg.conf_path, strerror(errno));
                return -errno;
        }
        d->replaying = true;
        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
                if (++lineno == 1)
                        head = strcmp(line, SAVE_HEAD) == 0;
                tail = strcmp(line, SAVE_TAIL) == 0;
                bad += config_apply(d, line, lineno) != 0;
        }
        d->replaying = false;
        if (f != NULL)
                fclose(f);
        /* A line that failed (a device not there yet) stays in the file for
         * the next start: the file is not rewritten from a state that lacks
         * it. A file that is a save with no change after it (its last line
         * the save's own) is already what a rewrite would make: a restart
         * does not write (and fsync) it again. */
        if (bad == 0 && lineno > 0 && !(head && tail))
                return mpnetd_config_save(d);
        if (bad != 0)
                mpnetd_log(d, "%u of %u lines failed; %s kept as it is", bad, lineno,
                           d->cfg.conf_path);
        return journal_open(d);
}

/* ---- writing the running state ------------------------------------------ */

static void save_link(FILE *f, const struct dstack *st, const struct dlink *l)
{
        fprintf(f, "-n %s link add %s type %s", st->name, l->name, l->kind);
        if (l->peer != NULL)
                fprintf(f, " peer %s peer-stack %s", l->peer->name, l->peer->st->name);
        if (l->dev[0])
                fprintf(f, " dev %s", l->dev);
        if (l->netns[0])
                fprintf(f, " netns %s", l->netns);
        if (l->queues)
                fprintf(f, " queues %u", l->queues);
        if (l->mtu_opt)
                fprintf(f, " mtu %u", l->mtu_opt);
        if (l->mode[0])
                fprintf(f, " mode %s", l->mode);
        if (l->ports[0])
                fprintf(f, " ports %s", l->ports);
        fputc('\n', f);
}

static void save_link_state(FILE *f, const struct dstack *st, const struct dlink *l)
{
        uint32_t mtu = mpnet_iface_mtu(st->s, l->ifindex);

        if (!l->up)
                fprintf(f, "-n %s link set %s down\n", st->name, l->name);
        if (mtu != l->link->info.mtu)
                fprintf(f, "-n %s link set %s mtu %u\n", st->name, l->name, mtu);
        if (l->table != 0)
                fprintf(f, "-n %s link set %s table %u\n", st->name, l->name, l->table);
}

static bool ll6(const uint8_t *a)
{
        return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static void save_addrs(FILE *f, const struct dstack *st, const struct dlink *l)
{
        struct mpnet_addr4_info a4[16];
        struct mpnet_addr6_info a6[16];
        char s[INET6_ADDRSTRLEN];
        int n = mpnet_addr4_list(st->s, l->ifindex, a4, 16);

        for (int i = 0; i < n && i < 16; i++) {
                uint32_t v = htonl(a4[i].addr);

                inet_ntop(AF_INET, &v, s, sizeof(s));
                fprintf(f, "-n %s addr add %s/%u dev %s\n", st->name, s, a4[i].plen, l->name);
        }
        n = mpnet_addr6_list(st->s, l->ifindex, a6, 16);
        for (int i = 0; i < n && i < 16; i++) {
                if (ll6(a6[i].addr) || (a6[i].flags & MPNET_ADDR6_F_AUTOCONF))
                        continue;
                inet_ntop(AF_INET6, a6[i].addr, s, sizeof(s));
                fprintf(f, "-n %s addr add %s/%u dev %s\n", st->name, s, a6[i].plen, l->name);
        }
}

struct save_routes {
        FILE *f;
        const struct dstack *st;
        uint32_t table;
};

static void save_route(struct save_routes *x, int fam, const void *dst, uint8_t plen,
                       enum mpnet_nh_type t, unsigned n_paths, const int *ifx,
                       const uint8_t (*gw)[16])
{
        static const char *const types[MPNET_NH__COUNT] = {[MPNET_NH_BLACKHOLE] = " blackhole",
                                                           [MPNET_NH_UNREACHABLE] = " unreachable",
                                                           [MPNET_NH_PROHIBIT] = " prohibit"};
        char s[INET6_ADDRSTRLEN];

        inet_ntop(fam, dst, s, sizeof(s));
        fprintf(x->f, "-n %s route add%s %s/%u", x->st->name, types[t] ? types[t] : "", s, plen);
        for (unsigned i = 0; i < n_paths; i++) {
                const struct dlink *l = x->st->links[ifx[i]];

                if (n_paths > 1)
                        fprintf(x->f, " nexthop");
                if (t == MPNET_NH_GATEWAY) {
                        inet_ntop(fam, gw[i], s, sizeof(s));
                        fprintf(x->f, " via %s", s);
                }
                if (l != NULL)
                        fprintf(x->f, " dev %s", l->name);
        }
        if (x->table != 0)
                fprintf(x->f, " table %u", x->table);
        fputc('\n', x->f);
}

/* Routes an address made (its connected prefix, its local /32 or /128,
 * fe80::/64) come back with the address: not written. */
static bool route_from_addr4(const struct dstack *st, const struct mpnet_route4 *r)
{
        struct mpnet_addr4_info a[16];
        int n;

        if (r->type == MPNET_NH_LOCAL)
                return true;
        if (r->type != MPNET_NH_CONNECTED || r->n_paths != 1)
                return false;
        n = mpnet_addr4_list(st->s, r->paths[0].ifindex, a, 16);
        for (int i = 0; i < n && i < 16; i++) {
                uint32_t mask = a[i].plen ? ~0u << (32 - a[i].plen) : 0;

                if (a[i].plen == r->plen && (a[i].addr & mask) == r->dst)
                        return true;
        }
        return false;
}

static bool route_from_addr6(const struct dstack *st, const struct mpnet_route6 *r)
{
        struct mpnet_addr6_info a[16];
        int n;

        if (r->type == MPNET_NH_LOCAL || (r->type == MPNET_NH_CONNECTED && ll6(r->dst)))
                return true;
        if (r->type != MPNET_NH_CONNECTED || r->n_paths != 1)
                return false;
        n = mpnet_addr6_list(st->s, r->paths[0].ifindex, a, 16);
        for (int i = 0; i < n && i < 16; i++) {
                uint8_t p[16] = {0};

                for (unsigned b = 0; b < a[i].plen; b++)
                        p[b / 8] |= a[i].addr[b / 8] & (0x80 >> (b % 8));
                if (a[i].plen == r->plen && memcmp(p, r->dst, 16) == 0)
                        return true;
        }
        return false;
}

static int save_route4(void *arg, const struct mpnet_route4 *r)
{
        struct save_routes *x = arg;
        uint8_t gw[MPNET_ROUTE_MAX_PATHS][16];
        int ifx[MPNET_ROUTE_MAX_PATHS];
        uint32_t dst = htonl(r->dst);

        if (route_from_addr4(x->st, r))
                return 0;
        for (unsigned i = 0; i < r->n_paths; i++) {
                uint32_t g = htonl(r->paths[i].gw);

                memcpy(gw[i], &g, 4);
                ifx[i] = r->paths[i].ifindex;
        }
        save_route(x, AF_INET, &dst, r->plen, r->type, r->n_paths, ifx, (const uint8_t(*)[16])gw);
        return 0;
}

static int save_route6(void *arg, const struct mpnet_route6 *r)
{
        struct save_routes *x = arg;
        uint8_t gw[MPNET_ROUTE_MAX_PATHS][16];
        int ifx[MPNET_ROUTE_MAX_PATHS];

        if (route_from_addr6(x->st, r) || r->dst[0] == 0xff)
                return 0;
        for (unsigned i = 0; i < r->n_paths; i++) {
                memcpy(gw[i], r->paths[i].gw, 16);
                ifx[i] = r->paths[i].ifindex;
        }
        save_route(x, AF_INET6, r->dst, r->plen, r->type, r->n_paths, ifx,
                   (const uint8_t(*)[16])gw);
        return 0;
}

static int save_neigh(void *arg, const struct mpnet_neigh_entry *e)
{
        struct save_routes *x = arg;
        const uint8_t *m = e->info.mac;
        char s[INET6_ADDRSTRLEN];
        uint32_t a4 = htonl(e->addr4);

        if (e->info.state != MPNET_NEIGH_PERMANENT)
                return 0;
        inet_ntop(e->family == 4 ? AF_INET : AF_INET6,
                  e->family == 4 ? (void *)&a4 : (void *)e->addr6, s, sizeof(s));
        fprintf(x->f, "-n %s neigh add %s lladdr %02x:%02x:%02x:%02x:%02x:%02x dev %s\n",
                x->st->name, s, m[0], m[1], m[2], m[3], m[4], m[5],
                x->st->links[e->ifindex] ? x->st->links[e->ifindex]->name : "?");
        return 0;
}

static void save_stack(struct mpnetd *d, FILE *f, const struct dstack *st)
{
        struct save_routes x = {.f = f, .st = st};
        unsigned nw = d->cfg.n_workers ? d->cfg.n_workers : 1;

        for (int i = 1; i <= DSTACK_MAX_IFACES; i++)
                if (st->links[i] != NULL) {
                        save_link_state(f, st, st->links[i]);
                        save_addrs(f, st, st->links[i]);
                }
        for (uint32_t t = 0; t < MPNET_TABLE_MAX; t++) {
                x.table = t;
                if (mpnet_route4_walk(st->s, t, save_route4, &x) == -ENOENT)
                        continue;
                mpnet_route6_walk(st->s, t, save_route6, &x);
        }
        mpnet_neigh_walk(st->s, 0, save_neigh, &x);
        for (int i = 1; i <= DSTACK_MAX_IFACES; i++) {
                const struct dlink *l = st->links[i];

                for (uint16_t q = 0; l != NULL && q < l->n_rxq; q++)
                        if (l->worker[q] >= 0 && (unsigned)l->worker[q] != q % nw)
                                fprintf(f, "-n %s worker set dev %s queue %u worker %d\n", st->name,
                                        l->name, q, l->worker[q]);
        }
}

static int save_to(struct mpnetd *d, FILE *f)
{
        fputs(SAVE_HEAD, f);
        for (const struct dstack *st = d->stacks; st != NULL; st = st->next)
                fprintf(f, "stack add %s\n", st->name);
        for (const struct dstack *st = d->stacks; st != NULL; st = st->next)
                for (int i = 1; i <= DSTACK_MAX_IFACES; i++) {
                        const struct dlink *l = st->links[i];

                        if (l != NULL && (l->peer == NULL || l->owner))
                                save_link(f, st, l);
                }
        for (const struct dstack *st = d->stacks; st != NULL; st = st->next)
                save_stack(d, f, st);
        fputs(SAVE_TAIL, f);
        return ferror(f) ? -EIO : 0;
}

int mpnetd_config_save(struct mpnetd *d)
{
        char tmp[4096], dir[4096];
        FILE *f;
        int err, dfd;

        if (d->cfg.conf_path == NULL)
                return -ENOENT;
        snprintf(tmp, sizeof(tmp), "%s.tmp", d->cfg.conf_path);
        f = fopen(tmp, "w");
        if (f == NULL) {
                mpnetd_log(d, "%s: %s", tmp, strerror(errno));
                return -errno;
        }
        err = save_to(d, f);
        if (fflush(f) != 0 || fsync(fileno(f)) != 0)
                err = -errno;
        fclose(f);
        if (err == 0 && rename(tmp, d->cfg.conf_path) != 0)
                err = -errno;
        if (err != 0) {
                mpnetd_log(d, "%s: %s", d->cfg.conf_path, strerror(-err));
                unlink(tmp);
                return err;
        }
        snprintf(dir, sizeof(dir), "%s", d->cfg.conf_path);
        dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        return journal_open(d);
}
