// A tc and an XDP program on the uapi headers alone (no vmlinux.h), the way networking
// programs are written: <linux/bpf.h> pads with `__u32 :32;` and `__u64 :64;`, which TCC
// reads only through the shim in headers/vmslim-tcc-shims/linux/bpf.h.
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline int is_tcp(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	return ip->protocol == IPPROTO_TCP;
}

SEC("tc") int tc_count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &key);
	struct bpf_sock *sk = skb->sk;
	if (n && is_tcp(data, end))
		__sync_fetch_and_add(n, 1);
	return sk && sk->family == 2 ? TC_ACT_OK : TC_ACT_UNSPEC;
}

SEC("xdp") int xdp_syn(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > end || !is_tcp(data, end))
		return XDP_PASS;
	__u32 size = sizeof(struct __sk_buff) + sizeof(struct bpf_sock_ops) +
		     sizeof(struct bpf_sk_lookup);
	return tcp->syn && size ? XDP_DROP : XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
