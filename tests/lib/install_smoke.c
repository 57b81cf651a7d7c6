/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A program outside the tree, built by tests/lib/check-install.sh against an
 * installed mpnet with pkg-config only: two stacks on a memory wire, A pings
 * B on a virtual clock. It uses nothing but the public headers, so a name
 * missing from the exports or a header missing from the install fails to
 * build or link here.
 */
#include <stdio.h>

#include <mpnet/clock.h>
#include <mpnet/link.h>
#include <mpnet/pkt.h>
#include <mpnet/stack.h>

#define A_ADDR 0xc0000201u /* 192.0.2.1 */
#define B_ADDR 0xc0000202u /* 192.0.2.2 */

/* Poll both stacks for up to 10 s of virtual time. @return replies taken. */
static unsigned exchange(struct mpnet_stack *a, struct mpnet_stack *b, struct mpnet_clock *clk)
{
        struct mpnet_ping_reply r;

        for (int step = 0; step < 10000; step++) {
                uint64_t now = mpnet_clock_now(clk);

                mpnet_stack_poll(a, now);
                mpnet_stack_poll(b, now);
                if (mpnet_ping4_recv(a, &r, 1) == 1)
                        return r.type == 0 && r.from == B_ADDR && r.seq == 1 ? 1 : 0;
                mpnet_clock_advance(clk, MPNET_NS_PER_MS);
        }
        return 0;
}

int main(void)
{
        struct mpnet_stack_cfg cfg = {.seed = 1};
        struct mpnet_stack *a = NULL, *b = NULL;
        struct mpnet_link *la = NULL, *lb = NULL;
        struct mpnet_clock clk;
        struct mpnet_pool *pool;
        int ok = 0;

        mpnet_clock_init_virtual(&clk, MPNET_NS_PER_S);
        pool = mpnet_pool_create("smoke", 1024);
        if (pool == NULL || mpnet_memwire_create(NULL, &la, &lb) != 0)
                goto out;
        cfg.clock = &clk;
        cfg.pool = pool;
        cfg.name = "A";
        a = mpnet_stack_create(&cfg);
        cfg.name = "B";
        b = mpnet_stack_create(&cfg);
        if (a == NULL || b == NULL || mpnet_iface_attach(a, la, "a0") != 1 ||
            mpnet_iface_attach(b, lb, "b0") != 1 || mpnet_addr4_add(a, 1, A_ADDR, 24) != 0 ||
            mpnet_addr4_add(b, 1, B_ADDR, 24) != 0)
                goto out;
        if (mpnet_ping4_send(a, B_ADDR, 7, 1, 56, mpnet_clock_now(&clk)) != 0)
                goto out;
        ok = exchange(a, b, &clk) == 1;
out:
        if (a != NULL)
                mpnet_stack_destroy(a);
        if (b != NULL)
                mpnet_stack_destroy(b);
        if (la != NULL)
                mpnet_link_destroy(la);
        if (lb != NULL)
                mpnet_link_destroy(lb);
        if (pool != NULL)
                mpnet_pool_destroy(pool);
        printf("install_smoke: %s\n", ok ? "echo reply from 192.0.2.2" : "no echo reply");
        return ok ? 0 : 1;
}
