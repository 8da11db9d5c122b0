// The text ends inside a declaration: the error comes after the last byte is read.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	return 0;
}
char LICENSE[] SEC("license") = "GPL"
