/* vmlinux.h included with angle brackets, the way libbpf-tools does */
#include <vmlinux.h>

#define SEC(name) __attribute__((section(name), used))

SEC("tp_btf/sched_switch")
int angled(unsigned long long *ctx)
{
	struct task_struct *next = (struct task_struct *)ctx[2];
	return __builtin_preserve_access_index(next->pid) & 1;
}

char LICENSE[] SEC("license") = "GPL";
