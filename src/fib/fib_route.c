/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Route add, replace and delete for both families (fib_route.h).
 *
 * Synchronisation: control thread only; what readers see changes by the
 * release stores of nh_table_publish() and of the LPM, in that order.
 */
#include <errno.h>
#include <string.h>

#include "fib/fib_route.h"
#include "fib/fib_priv.h"
#include "stack/stack_priv.h"

int fib_route_type_check(enum mpnet_nh_type type, unsigned n_paths)
{
        switch (type) {
        case MPNET_NH_CONNECTED:
        case MPNET_NH_LOCAL:
                return n_paths == 1 ? 0 : -EINVAL;
        case MPNET_NH_GATEWAY:
                return n_paths >= 1 && n_paths <= MPNET_ROUTE_MAX_PATHS ? 0 : -EINVAL;
        case MPNET_NH_BLACKHOLE:
        case MPNET_NH_UNREACHABLE:
        case MPNET_NH_PROHIBIT:
                return n_paths == 0 ? 0 : -EINVAL;
        default:
                return -EINVAL;
        }
}

static void route_event(struct mpnet_stack *s, const struct fib_family *f,
                        enum mpnet_event_type type, uint32_t table, const void *dst, uint8_t plen)
{
        struct mpnet_event ev = {.type = type, .table = table, .family = f->family, .plen = plen};

        if (f->family == 4)
                memcpy(&ev.addr4, dst, sizeof(ev.addr4));
        else
                memcpy(ev.addr6, dst, sizeof(ev.addr6));
        stack_event(s, &ev);
}

int fib_route_set(struct mpnet_stack *s, const struct fib_family *f, struct fib_tref t,
                  uint32_t table, const void *route, const void *dst, uint8_t plen, bool replace)
{
        struct nh_table *nt = f->nh(s);
        uint32_t idx, old_idx;
        void *nh, *old = NULL;
        int err;

        if (f->lpm_get(t.lpm, dst, plen, &old_idx) == 0) {
                if (!replace)
                        return -EEXIST;
                old = nh_table_get(nt, old_idx);
        }
        nh = f->build(s, route);
        if (nh == NULL)
                return -ENOMEM;
        err = nh_table_alloc(nt, f->nh_max, &idx);
        if (err != 0) {
                free(nh);
                return err;
        }
        /* Publish the object before the table entry that leads to it. */
        nh_table_publish(nt, idx, nh);
        err = f->lpm_add(t.lpm, dst, plen, idx);
        if (err != 0) {
                nh_table_publish(nt, idx, NULL);
                free(nh);
                nh_table_release(nt, idx);
                return err;
        }
        if (old != NULL)
                nh_table_retire(s, nt, old_idx, old);
        else
                (*t.n_routes)++;
        route_event(s, f, old != NULL ? MPNET_EV_ROUTE_REPLACE : MPNET_EV_ROUTE_ADD, table, dst,
                    plen);
        return 0;
}

int fib_route_del(struct mpnet_stack *s, const struct fib_family *f, struct fib_tref t,
                  uint32_t table, const void *dst, uint8_t plen)
{
        struct nh_table *nt = f->nh(s);
        uint32_t idx;
        int err;

        if (plen > f->max_plen)
                return -EINVAL;
        err = f->lpm_get(t.lpm, dst, plen, &idx);
        if (err != 0)
                return err;
        err = f->lpm_delete(t.lpm, dst, plen);
        if (err != 0)
                return err;
        (*t.n_routes)--;
        nh_table_retire(s, nt, idx, nh_table_get(nt, idx));
        route_event(s, f, MPNET_EV_ROUTE_DEL, table, dst, plen);
        return 0;
}
