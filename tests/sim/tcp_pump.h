/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One side of a TCP transfer both ways between two stacks, for the
 * simulation tests (test_tcp_xfer, test_tcp_loss_sweep): len bytes of a
 * xorshift stream sent, SHUT_WR after them, everything received read,
 * SHA-256 of what went and what came.
 */
#ifndef MPNET_TEST_TCP_PUMP_H
#define MPNET_TEST_TCP_PUMP_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mpnet/socket.h"
#include "base/sha256.h"
#include "testutil.h"

struct side {
        struct mpnet_stack *s;
        int fd;
        uint64_t len; /* bytes to send */
        uint64_t sent, got;
        uint32_t rng_tx; /* the data: a xorshift stream each way */
        struct sha256 h_tx, h_rx;
        bool eof, shut, closed;
};

static inline uint8_t next_byte(uint32_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 17;
        *x ^= *x << 5;
        return (uint8_t)*x;
}

/* Send what fits, shut down once all went, read what came; nothing once
 * the test closed the descriptor (closed). */
static inline void pump(struct side *me)
{
        uint8_t buf[16384];
        ssize_t n;

        if (me->closed)
                return;
        while (me->sent < me->len) {
                uint32_t k = me->len - me->sent < sizeof(buf) ? (uint32_t)(me->len - me->sent)
                                                              : (uint32_t)sizeof(buf);
                uint32_t save = me->rng_tx;

                for (uint32_t i = 0; i < k; i++)
                        buf[i] = next_byte(&me->rng_tx);
                n = mpnet_sendto(me->s, me->fd, buf, k, 0, NULL, 0);
                /* What did not fit is made again next time. */
                me->rng_tx = save;
                if (n == -EAGAIN)
                        break;
                assert_true(n > 0);
                for (ssize_t i = 0; i < n; i++)
                        next_byte(&me->rng_tx);
                sha256_update(&me->h_tx, buf, (size_t)n);
                me->sent += (uint64_t)n;
        }
        if (me->sent == me->len && !me->shut) {
                assert_int_equal(mpnet_shutdown(me->s, me->fd, SHUT_WR), 0);
                me->shut = true;
        }
        while (!me->eof) {
                n = mpnet_recvfrom(me->s, me->fd, buf, sizeof(buf), 0, NULL, NULL);
                if (n == -EAGAIN)
                        break;
                assert_true(n >= 0);
                if (n == 0) {
                        me->eof = true;
                        break;
                }
                sha256_update(&me->h_rx, buf, (size_t)n);
                me->got += (uint64_t)n;
        }
}

#endif
