/* vmlinux.h reached only through the project's own common.h */
#include "common.h"

struct event last SEC(".bss");

SEC("tp_btf/sched_wakeup")
int via_header(unsigned long long *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx[0];
	last.pid = __builtin_preserve_access_index(p->tgid);
	last.start = __builtin_preserve_access_index(p->start_time);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
