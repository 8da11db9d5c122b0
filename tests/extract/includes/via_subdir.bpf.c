/* vmlinux.h reached through sub/common.h, which has its own vmlinux.h beside it */
#include "sub/common.h"

SEC("kprobe/do_unlinkat")
int via_subdir(struct pt_regs *regs)
{
	return __builtin_preserve_access_index(regs->di) == 0;
}

char LICENSE[] SEC("license") = "GPL";
