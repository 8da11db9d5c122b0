// An error inside the first line of a two-line __builtin_memcpy: on that line, as clang
// says, not on the call's last (the prelude declares the builtin, it is no macro).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp/syscalls/sys_enter_write") int prog(void *ctx) {
	char buf[8];
	struct task_struct *t = (void *)0;
	__builtin_memcpy(buf, t->no_such_field,
			 8);
	return buf[0];
}
