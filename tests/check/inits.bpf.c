// designated initializers of nested anonymous unions, _Static_assert, __builtin_memcpy,
// BPF_MAP_TYPE_ARRAY_OF_MAPS with __array, ring buffer, per-CPU arrays
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct event {
	u32 kind;
	union {
		struct {
			u32 saddr, daddr;
		};
		struct {
			u8 saddr6[16];
		} v6;
	};
	struct {
		u16 sport, dport;
	} ports;
	char comm[16];
};

_Static_assert(sizeof(u32) == 4, "u32 is four bytes");
_Static_assert(1, "always");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} inner1 SEC(".maps"), inner2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { &inner1, &inner2 },
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct event);
} heap SEC(".maps");

#define ETH_P_IP 0x0800
static const char hello[] = "hello";

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	u32 zero = 0;
	struct event ev = {
		.kind = 1,
		.saddr = 2,
		.daddr = 3,
		.ports = { .sport = bpf_htons(80), .dport = bpf_ntohs(443) },
		.comm = "xdp",
	};
	struct event e2 = { .v6 = { .saddr6 = { 1, 2, 3 } } };
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	void *m = bpf_map_lookup_elem(&outer, &zero);
	if (m)
		bpf_map_lookup_elem(m, &zero);
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	__builtin_memcpy(e, &ev, sizeof(ev));
	__builtin_memcpy(e->comm, hello, sizeof(hello));
	__builtin_memset(&e2, 0, sizeof(e2));
	bpf_ringbuf_submit(e, 0);
	struct event *h = bpf_map_lookup_elem(&heap, &zero);
	if (h)
		*h = e2;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
