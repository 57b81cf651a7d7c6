/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netns: the kernel topology of mpgen's external DUTs. Two network
 * namespaces, both made here and removed again:
 *
 *   tester "mpg-t-PID-N"                  DUT "mpg-d-PID-N"
 *     ta (02:6d:70:00:00:01) ---veth--- da (02:6d:70:00:00:03) 198.18.0.1/24
 *     tb (02:6d:70:00:00:02) ---veth--- db (02:6d:70:00:00:04) 198.19.0.1/24
 *
 * mpgen sends on ta and receives on tb through AF_PACKET. In the DUT
 * namespace either the Linux kernel routes (addresses above, forwarding on,
 * routes 198.18.0.0/16 via 198.18.0.2 and 198.19.0.0/16 via 198.19.0.2,
 * both testers permanent neighbours: the builtin DUT's set-up, RFC 2544
 * Appendix C.2.2), or the kernel has no address there and an mpnet router
 * takes da and db over through AF_PACKET. The veth kind joins ta and tb
 * directly (no DUT namespace): the calibration of these DUTs. IPv6 is off
 * in both namespaces, so no router or neighbour solicitation, MLD report or
 * DAD probe crosses a trial.
 *
 * The names carry mpgen's pid and a count (the calibration's veth pair is
 * made while the DUT's exists); namespaces of a pid that no longer runs are
 * leftovers of a killed run and are removed first.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpgen.h"

const uint8_t mpg_ns_mac[4][6] = {
    {0x02, 0x6d, 0x70, 0, 0, 1}, /* ta */
    {0x02, 0x6d, 0x70, 0, 0, 2}, /* tb */
    {0x02, 0x6d, 0x70, 0, 0, 3}, /* da */
    {0x02, 0x6d, 0x70, 0, 0, 4}, /* db */
};

static bool ns_verbose(void)
{
        const char *v = getenv("MPGEN_VERBOSE");

        return v != NULL && *v != '\0' && *v != '0';
}

/* Run one command; on failure keep its first output line in err. */
static int __attribute__((format(printf, 3, 4))) sh(char *err, size_t errlen, const char *fmt, ...)
{
        char cmd[512], line[256] = "", buf[256];
        va_list ap;
        FILE *f;
        int rc;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (ns_verbose())
                fprintf(stderr, "+ %s\n", cmd);
        strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
        f = popen(cmd, "r");
        if (f == NULL) {
                snprintf(err, errlen, "cannot run ip: %s", strerror(errno));
                return -1;
        }
        while (fgets(buf, sizeof(buf), f) != NULL)
                if (line[0] == '\0')
                        snprintf(line, sizeof(line), "%s", buf);
        rc = pclose(f);
        if (rc != 0) {
                line[strcspn(line, "\n")] = '\0';
                cmd[strlen(cmd) - 5] = '\0';
                snprintf(err, errlen, "'%s' failed: %s", cmd, line[0] ? line : "no output");
                return -1;
        }
        return 0;
}

static void del_stale(void)
{
        DIR *d = opendir("/var/run/netns");
        struct dirent *e;

        if (d == NULL)
                return;
        while ((e = readdir(d)) != NULL) {
                char kind, junk[2], err[8];
                unsigned no;
                int pid;

                if (sscanf(e->d_name, "mpg-%c-%d-%u%1s", &kind, &pid, &no, junk) != 3 ||
                    (kind != 't' && kind != 'd') || pid <= 0 || pid == getpid())
                        continue;
                if (kill(pid, 0) == 0 || errno != ESRCH)
                        continue;
                sh(err, sizeof(err), "ip netns del %s", e->d_name);
        }
        closedir(d);
}

static char *mac_str(const uint8_t *m, char *s)
{
        sprintf(s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        return s;
}

/* A namespace with IPv6 off and lo up. */
static int ns_add(const char *ns, char *err, size_t errlen)
{
        if (sh(err, errlen, "ip netns add %s", ns) != 0)
                return -1;
        return sh(err, errlen,
                  "ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                  "net.ipv6.conf.default.disable_ipv6=1 && ip -n %s link set lo up",
                  ns, ns);
}

/* A veth pair a (in ns_a, MAC ma) - b (in ns_b, MAC mb), both up. */
static int veth(const struct mpg_netns *n, const char *ns_a, const char *a, const uint8_t *ma,
                const char *ns_b, const char *b, const uint8_t *mb, char *err, size_t errlen)
{
        char sa[18], sb[18];

        return sh(err, errlen,
                  "ip -n %s link add %s mtu %u address %s type veth peer name %s mtu %u address %s "
                  "netns %s && ip -n %s link set %s up && ip -n %s link set %s up",
                  ns_a, a, n->mtu, mac_str(ma, sa), b, n->mtu, mac_str(mb, sb), ns_b, ns_a, a, ns_b,
                  b);
}

/* The testers as permanent neighbours and the routes through them. */
/* The kernel router's interfaces: the veth ends da, db, or mpgen's TAP
 * devices ta, tb in the DUT namespace. */
static const char *if_a(const struct mpg_netns *n)
{
        return n->tap ? "ta" : "da";
}

static const char *if_b(const struct mpg_netns *n)
{
        return n->tap ? "tb" : "db";
}

static int kernel_routes(const struct mpg_netns *n, char *err, size_t errlen)
{
        const char *d = n->d;
        char ta[18], tb[18];

        mac_str(mpg_ns_mac[0], ta);
        mac_str(mpg_ns_mac[1], tb);
        return sh(err, errlen,
                  "ip -n %s neigh replace 198.18.0.2 lladdr %s dev %s nud permanent "
                  "&& ip -n %s neigh replace 198.19.0.2 lladdr %s dev %s nud permanent "
                  "&& ip -n %s route replace 198.18.0.0/16 via 198.18.0.2 "
                  "&& ip -n %s route replace 198.19.0.0/16 via 198.19.0.2",
                  d, ta, if_a(n), d, tb, if_b(n), d, d);
}

static int kernel_router(const struct mpg_netns *n, char *err, size_t errlen)
{
        const char *d = n->d;

        /* No redirects (both testers sit on their own link anyway) and no
         * reverse-path filter: the kernel as a plain router. */
        if (sh(err, errlen,
               "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 "
               "net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 "
               "net.ipv4.conf.default.send_redirects=0",
               d) != 0 ||
            sh(err, errlen,
               "ip -n %s addr add 198.18.0.1/24 dev %s && ip -n %s addr add 198.19.0.1/24 dev %s",
               d, if_a(n), d, if_b(n)) != 0)
                return -1;
        return kernel_routes(n, err, errlen);
}

int mpg_netns_tap_config(struct mpg_netns *n, enum mpg_dut_kind kind, char *err, size_t errlen)
{
        char ma[18], mb[18];

        if (kind == MPG_DUT_VETH) {
                /* The TAP ceiling: the kernel bridges ta and tb, no routing. */
                if (sh(err, errlen,
                       "ip -n %s link add br0 type bridge && ip -n %s link set ta master br0 && "
                       "ip -n %s link set tb master br0 && ip -n %s link set br0 up && "
                       "ip -n %s link set ta up && ip -n %s link set tb up",
                       n->d, n->d, n->d, n->d, n->d, n->d) != 0)
                        return -EIO;
                return 0;
        }
        /* The kernel's ends get the MACs da and db have in the veth set-up. */
        if (sh(err, errlen,
               "ip -n %s link set ta address %s mtu %u up && ip -n %s link set tb address %s mtu "
               "%u "
               "up",
               n->d, mac_str(mpg_ns_mac[2], ma), n->mtu, n->d, mac_str(mpg_ns_mac[3], mb),
               n->mtu) != 0 ||
            kernel_router(n, err, errlen) != 0)
                return -EIO;
        return 0;
}

int mpg_netns_kernel_reset(struct mpg_netns *n, char *err, size_t errlen)
{
        if (!n->have_d)
                return -ENOTSUP;
        if (sh(err, errlen,
               "ip -n %s link set %s down && ip -n %s link set %s down && "
               "ip -n %s link set %s up && ip -n %s link set %s up",
               n->d, if_a(n), n->d, if_b(n), n->d, if_a(n), n->d, if_b(n)) != 0 ||
            kernel_routes(n, err, errlen) != 0)
                return -EIO;
        return 0;
}

int mpg_netns_up(struct mpg_netns *n, enum mpg_dut_kind kind, uint32_t mtu, bool tap, char *err,
                 size_t errlen)
{
        static atomic_uint count;
        unsigned no = atomic_fetch_add(&count, 1);

        memset(n, 0, sizeof(*n));
        snprintf(n->t, sizeof(n->t), "mpg-t-%d-%u", (int)getpid(), no);
        snprintf(n->d, sizeof(n->d), "mpg-d-%d-%u", (int)getpid(), no);
        n->mtu = mtu ? mtu : 1500;
        n->tap = tap;
        if (geteuid() != 0) {
                snprintf(err, errlen,
                         "the %s DUT makes network namespaces and veth pairs: it needs "
                         "CAP_SYS_ADMIN and CAP_NET_ADMIN (run as root)",
                         mpg_dut_name(kind));
                return -EPERM;
        }
        del_stale();
        if (tap) {
                /* One namespace; mpgen's TAP devices come next, then
                 * mpg_netns_tap_config(). */
                if (ns_add(n->d, err, errlen) != 0)
                        goto fail;
                n->have_d = true;
                return 0;
        }
        if (ns_add(n->t, err, errlen) != 0)
                goto fail;
        n->have_t = true;
        if (kind == MPG_DUT_VETH) {
                if (veth(n, n->t, "ta", mpg_ns_mac[0], n->t, "tb", mpg_ns_mac[1], err, errlen) != 0)
                        goto fail;
                return 0;
        }
        if (ns_add(n->d, err, errlen) != 0)
                goto fail;
        n->have_d = true;
        if (veth(n, n->t, "ta", mpg_ns_mac[0], n->d, "da", mpg_ns_mac[2], err, errlen) != 0 ||
            veth(n, n->t, "tb", mpg_ns_mac[1], n->d, "db", mpg_ns_mac[3], err, errlen) != 0)
                goto fail;
        if (kind == MPG_DUT_KERNEL && kernel_router(n, err, errlen) != 0)
                goto fail;
        return 0;
fail:
        mpg_netns_down(n);
        return -EIO;
}

void mpg_netns_down(struct mpg_netns *n)
{
        char err[8];

        /* Deleting a namespace deletes its veth ends, and with them their
         * peers in the other one. */
        if (n->have_d)
                sh(err, sizeof(err), "ip netns del %s", n->d);
        if (n->have_t)
                sh(err, sizeof(err), "ip netns del %s", n->t);
        n->have_d = n->have_t = false;
}
