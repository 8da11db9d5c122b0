// __builtin_preserve_enum_value with the (value, kind, flags) arguments some clang and
// libbpf versions use; clang 14 and 19 take only two. Both forms type-check.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	return __builtin_preserve_enum_value(*(typeof(enum bpf_map_type) *)BPF_MAP_TYPE_HASH, 1, 0) +
	       __builtin_preserve_enum_value(*(typeof(enum bpf_map_type) *)BPF_MAP_TYPE_HASH, 1);
}
