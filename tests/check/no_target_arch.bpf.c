// BPF_KPROBE reads registers: without -D__TARGET_ARCH_x86 (or another arch) clang
// stops with "Must specify a BPF target arch"; so must the fast checker, on line 8.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_enter, int dfd)
{
	return dfd;
}
