// An error inside a static inline function nobody calls: clang reports it, so must we.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static __always_inline int unused_helper(struct task_struct *t)
{
	int x = 1;
	return t->no_such_field + x;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	return 0;
}
