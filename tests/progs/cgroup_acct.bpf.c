// SPDX-License-Identifier: GPL-2.0
/* cgroup_acct: cgroup skb programs that account a cgroup's IPv4 traffic per protocol and
 * drop egress to a configured blocked network, with the header parsing done by one
 * global (non-inlined) function shared by both directions.
 *
 * A global function is verified once, on its own, against its BTF signature: the verifier
 * learns that `iph` points to sizeof(struct iphdr) readable bytes (or NULL) from the
 * object's BTF, so struct iphdr must be complete there. The ctx argument keeps its type.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

struct proto_bytes {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);	/* direction << 8 | protocol */
	__type(value, struct proto_bytes);
} acct SEC(".maps");

const volatile __be32 blocked_net = 0;		/* network order; 0 = none */
const volatile __be32 blocked_mask = 0;

/* Returns the bytes accounted, or -1 when the packet must be dropped. */
__noinline int account_ipv4(struct __sk_buff *skb, struct iphdr *iph, __u32 egress)
{
	struct proto_bytes *pb, init = {};
	__u32 key;

	if (!iph || iph->version != 4)
		return 0;
	if (egress && blocked_mask && (iph->daddr & blocked_mask) == blocked_net)
		return -1;

	key = egress << 8 | iph->protocol;
	pb = bpf_map_lookup_elem(&acct, &key);
	if (!pb) {
		bpf_map_update_elem(&acct, &key, &init, BPF_NOEXIST);
		pb = bpf_map_lookup_elem(&acct, &key);
		if (!pb)
			return 0;
	}
	pb->packets++;
	pb->bytes += skb->len;
	return skb->len;
}

static __always_inline int handle(struct __sk_buff *skb, __u32 egress)
{
	struct iphdr iph;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 1;
	/* cgroup skb data starts at the network header. */
	if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)))
		return 1;
	/* A global function's result is an unknown int to the verifier; the hook must
	 * visibly return 0 or 1. */
	return account_ipv4(skb, &iph, egress) < 0 ? 0 : 1;
}

SEC("cgroup_skb/ingress")
int cgroup_ingress(struct __sk_buff *skb)
{
	return handle(skb, 0);
}

SEC("cgroup_skb/egress")
int cgroup_egress(struct __sk_buff *skb)
{
	return handle(skb, 1);
}

char LICENSE[] SEC("license") = "GPL";
