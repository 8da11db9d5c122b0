// SPDX-License-Identifier: GPL-2.0
/* xdp_filter: an XDP firewall that drops TCP and UDP packets to blocked destination
 * ports and counts packets per IP protocol.
 *
 * Every header pointer is checked against data_end before it is read: the verifier
 * rejects any packet access it cannot prove in bounds.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/if_ether.h> and <linux/in.h> macros; vmlinux.h carries types, not macros. */
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17

struct vlan_hdr_ {
	__be16 tci;
	__be16 encapsulated_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);	/* destination port, network order */
	__type(value, __u8);
} blocked_ports SEC(".maps");

static __always_inline int port_blocked(__be16 port)
{
	return bpf_map_lookup_elem(&blocked_ports, &port) != NULL;
}

SEC("xdp")
int xdp_filter_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 h_proto;
	__u32 proto;
	void *l4;
	__u64 *cnt;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	h_proto = eth->h_proto;
	l4 = eth + 1;

	if (h_proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr_ *vh = l4;

		if ((void *)(vh + 1) > data_end)
			return XDP_PASS;
		h_proto = vh->encapsulated_proto;
		l4 = vh + 1;
	}

	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l4;

		if ((void *)(iph + 1) > data_end)
			return XDP_PASS;
		if (iph->ihl < 5)
			return XDP_DROP;
		proto = iph->protocol;
		l4 = (void *)iph + iph->ihl * 4;
	} else if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = l4;

		if ((void *)(ip6h + 1) > data_end)
			return XDP_PASS;
		proto = ip6h->nexthdr;
		l4 = ip6h + 1;
	} else {
		return XDP_PASS;
	}

	cnt = bpf_map_lookup_elem(&proto_count, &proto);
	if (cnt)
		*cnt += 1;

	if (proto == IPPROTO_TCP_) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return XDP_PASS;
		if (th->syn && !th->ack && port_blocked(th->dest))
			return XDP_DROP;
	} else if (proto == IPPROTO_UDP_) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return XDP_PASS;
		if (port_blocked(uh->dest))
			return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
