// BPF_KPROBE reads registers: libbpf's PT_REGS_* need __TARGET_ARCH_<arch>. Like
// vmslim build, check and the language server take the host's unless one is chosen.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_enter, int dfd)
{
	return dfd;
}
