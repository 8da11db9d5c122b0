/* clang's own headers (its resource directory), as a real compile finds them. stddef.h
 * is asked for NULL and size_t only: its wchar_t would clash with vmlinux.h's u16 one. */
#include "vmlinux.h"
#include <stdbool.h>
#define __need_NULL
#define __need_size_t
#include <stddef.h>

#define SEC(name) __attribute__((section(name), used))

SEC("tp_btf/sched_process_fork")
int compiler_headers(unsigned long long *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx[1];
	bool kernel = child == NULL || __builtin_preserve_access_index(child->mm) == NULL;
	size_t n = sizeof(struct mm_struct);
	return kernel ? (int)(n & 0x7fffffff) : 0;
}

char LICENSE[] SEC("license") = "GPL";
