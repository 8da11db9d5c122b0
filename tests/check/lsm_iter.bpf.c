// struct_ops-free LSM and task iterator, bpf_spin_lock in a map value, bpf_timer,
// global functions (non-static, verified separately), __noinline, BTF tag attributes
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define CLOCK_MONOTONIC 1

struct val {
	struct bpf_spin_lock lock;
	struct bpf_timer timer;
	u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct val);
} vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} task_store SEC(".maps");

static int timer_cb(void *map, int *key, struct val *v)
{
	v->count++;
	return 0;
}

__noinline int global_helper(u64 x)
{
	return x > 5;
}

SEC("lsm/file_open")
int BPF_PROG(guard_open, struct file *file, int ret)
{
	int key = 0;
	struct val *v = bpf_map_lookup_elem(&vals, &key);
	u64 *cnt;
	if (ret)
		return ret;
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->count++;
	bpf_spin_unlock(&v->lock);
	bpf_timer_init(&v->timer, &vals, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&v->timer, timer_cb);
	bpf_timer_start(&v->timer, 1000000, 0);
	cnt = bpf_task_storage_get(&task_store, bpf_get_current_task_btf(), 0,
				   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (cnt && global_helper(++*cnt))
		return -EPERM;
	return 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	static const char fmt[] = "%d %s\n";
	u64 args[2];
	if (!task)
		return 0;
	args[0] = task->pid;
	args[1] = (u64)task->comm;
	bpf_seq_printf(seq, fmt, sizeof(fmt), args, sizeof(args));
	BPF_SEQ_PRINTF(seq, "%d\n", task->tgid);
	return 0;
}

SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	return sk ? 1 : 0;
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	return ip->protocol == IPPROTO_TCP ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
