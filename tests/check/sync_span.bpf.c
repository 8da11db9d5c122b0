// An error in the first line of a two-line __sync macro call: TCC can only name the
// call's last line, clang names the first. "unsupported", never a wrong line.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp/syscalls/sys_enter_write") int prog(void *ctx) {
	struct task_struct *t = ctx;
	__sync_fetch_and_add(&t->no_such_field,
			     1);
	return 0;
}
