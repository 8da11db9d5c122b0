// SPDX-License-Identifier: GPL-2.0
/* needs: struct bpf_dummy_ops
 *
 * The kernel's test ops, in a .struct_ops.link section: every member takes a
 * struct bpf_dummy_ops_state *, which the program declares as void * and never
 * dereferences; clang emits the state complete through the members' prototypes. (The
 * initializer of test_1 names that prototype in the program too, so this case also
 * passed before the closure followed prototypes; tcp_ca and qdisc_ops did not.) */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/count_calls")
int BPF_PROG(count_calls, void *state)
{
	return 1;
}

SEC(".struct_ops.link")
struct bpf_dummy_ops counting = {
	.test_1 = (void *)count_calls,
};
