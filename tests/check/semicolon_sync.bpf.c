// A missing ';' before a __sync builtin (a macro in the prelude): TCC reads `2 (...)`,
// "function pointer expected" on the next line; clang: "expected ';'" after the 2.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

int counter;
SEC("tp/syscalls/sys_enter_write") int prog(void *ctx) {
	int x = 1;
	x += 2
	__sync_fetch_and_add(&counter, 1);
	return x;
}
