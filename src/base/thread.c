/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>

#include "mpnet/thread.h"

_Thread_local unsigned mpnet_thread_slot_ = MPNET_SLOT_NONE;

int mpnet_thread_set_slot(unsigned slot)
{
        if (slot > MPNET_SLOT_NONE)
                return -EINVAL;
        mpnet_thread_slot_ = slot;
        return 0;
}
