/* remote/adapter.h: hiredis's asynchronous context on a vms_remote_loop (internal). */
#ifndef VMSLIM_REMOTE_ADAPTER_H
#define VMSLIM_REMOTE_ADAPTER_H

#include <hiredis/async.h>

#include "remote/remote.h"

/* Hooks ac's read and write interest to lp (which must outlive ac). 0 or -errno. */
int remote_adapter_attach(redisAsyncContext *ac, const struct vms_remote_loop *lp);
/* The descriptor of ac is ready (VMS_REMOTE_* bits, HUP as 4): hands it to hiredis.
 * ac may be freed by this call (a callback or the connection ending). */
void remote_adapter_ready(redisAsyncContext *ac, int events);

#endif
