// An unnamed bit-field of a typedef'd type in the program's own struct: clang pads, TCC
// reads `__u32 :` as a label. "unsupported" on that line, never an error.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct rec {
	__u32 kind;
	__u32 :16;
	__u16 tag;
};
struct rec last;
SEC("xdp") int prog(struct xdp_md *ctx) {
	last.kind = 1;
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
