/* remote/adapter.c: hiredis's asynchronous API on the caller's event loop.
 *
 * Modelled on hiredis's adapters/ae.h: hiredis says when it wants to read or write
 * (addRead/delRead/addWrite/delWrite, which must be idempotent) and when the context
 * goes (cleanup); the adapter keeps the union as one mask and tells the loop only when
 * that mask changes. Unlike ae's, one registration carries both directions, because
 * serve/loop.c holds one callback per descriptor: readiness comes back as a set, and the
 * read is handled first (a reply may complete a write's purpose, or end the context).
 *
 * hiredis 0.14 (Debian 12) has no timers of its own; deadlines are client.c's. */
#include "remote/adapter.h"

#include <errno.h>
#include <stdlib.h>

#include "common/common.h"

struct adapter {
	redisAsyncContext *ac;
	const struct vms_remote_loop *lp;
	int fd;
	int mask;	/* what hiredis wants */
	int shown;	/* what the loop was last told */
};

static void apply(struct adapter *a)
{
	if (a->mask == a->shown)
		return;
	/* a refusal of the loop leaves shown as it was: the next change tries again, and
	 * the operation's deadline ends a connection that can never be served */
	if (a->lp->watch(a->lp->ctx, a->fd, a->mask) == 0)
		a->shown = a->mask;
}

static void add_read(void *p)
{
	struct adapter *a = p;
	a->mask |= VMS_REMOTE_READ;
	apply(a);
}

static void del_read(void *p)
{
	struct adapter *a = p;
	a->mask &= ~VMS_REMOTE_READ;
	apply(a);
}

static void add_write(void *p)
{
	struct adapter *a = p;
	a->mask |= VMS_REMOTE_WRITE;
	apply(a);
}

static void del_write(void *p)
{
	struct adapter *a = p;
	a->mask &= ~VMS_REMOTE_WRITE;
	apply(a);
}

static void cleanup(void *p)
{
	struct adapter *a = p;
	a->mask = 0;
	apply(a);
	a->ac->ev.data = NULL;
	free(a);
}

int remote_adapter_attach(redisAsyncContext *ac, const struct vms_remote_loop *lp)
{
	if (ac->ev.data)
		return -EBUSY;
	struct adapter *a = vms_xcalloc(1, sizeof(*a));
	a->ac = ac;
	a->lp = lp;
	a->fd = ac->c.fd;
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	ac->ev.data = a;
	return 0;
}

void remote_adapter_ready(redisAsyncContext *ac, int events)
{
	struct adapter *a = ac->ev.data;
	if (!a)
		return;
	int mask = a->mask, hup = events & 4;
	/* A hang-up is reported whatever the mask; a read finds the end of the stream (or
	 * the error) and ends the context, where nothing else would notice it. */
	if ((events & VMS_REMOTE_READ) || (hup && !(mask & VMS_REMOTE_WRITE))) {
		redisAsyncHandleRead(ac);
		return; /* ac may be gone; a pending write gets the next pass */
	}
	if ((events & VMS_REMOTE_WRITE) || hup)
		redisAsyncHandleWrite(ac);
}
