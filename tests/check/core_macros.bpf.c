// Every CO-RE builtin and libbpf macro the prelude and shims must make TCC accept.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

const volatile int verbose = 0;

static __always_inline __u64 reads(struct task_struct *t)
{
	__u64 sum = 0;
	char comm[16];
	struct file *exe;

	sum += BPF_CORE_READ(t, pid);
	sum += BPF_CORE_READ(t, real_parent, tgid);
	sum += BPF_CORE_READ(t, real_parent, real_parent, pid);
	sum += BPF_CORE_READ(t, mm, exe_file, f_path.dentry, d_name.len);
	BPF_CORE_READ_INTO(&exe, t, mm, exe_file);
	BPF_CORE_READ_STR_INTO(&comm, t, comm);
	bpf_core_read(&sum, sizeof(sum), &t->start_time);
	bpf_core_read_str(comm, sizeof(comm), &t->comm);
	sum += BPF_PROBE_READ(t, tgid);
	sum += bpf_core_field_exists(t->pid);
	sum += bpf_core_field_exists(struct task_struct, pid);
	sum += bpf_core_field_size(t->comm);
	sum += bpf_core_field_offset(struct task_struct, tgid);
	sum += bpf_core_type_exists(struct task_struct);
	sum += bpf_core_type_size(struct task_struct);
	sum += bpf_core_type_id_local(struct task_struct);
	sum += bpf_core_type_id_kernel(struct task_struct);
	sum += bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_HASH);
	sum += bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_HASH);
	sum += __builtin_preserve_access_index(t->flags);
	sum += __builtin_preserve_enum_value(*(typeof(enum bpf_map_type) *)BPF_MAP_TYPE_HASH, 1);
	sum += bpf_ntohs(0x1234) + bpf_htonl(1) + bpf_be64_to_cpu(2) + __builtin_bswap16(3) +
	       __builtin_bswap32(4) + __builtin_bswap64(5);
#if __has_builtin(__builtin_preserve_type_info)
	sum += 1;
#endif
	return sum;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 key = prev->pid;
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &key);

	if (v)
		__sync_fetch_and_add(v, reads(next));
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	if (verbose) {
		bpf_printk("switch");
		bpf_printk("switch %d", key);
		bpf_printk("switch %d %d %d", key, key, key);
		bpf_printk("switch %d %d %d %d %d", key, key, key, key, key);
	}
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup)
{
	return 0;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_enter, int dfd, struct filename *name)
{
	return dfd;
}

SEC("kprobe/do_sys_open")
int BPF_KPROBE(open_enter)
{
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(unlink_exit, long ret)
{
	return ret;
}

SEC("kretprobe/do_sys_open")
int BPF_KRETPROBE(open_exit)
{
	return 0;
}

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig)
{
	return pid + sig;
}

SEC("ksyscall/sync")
int BPF_KSYSCALL(sync_entry)
{
	return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG2(unlink_fentry, int, dfd, struct filename *, name)
{
	return dfd;
}

SEC("fentry/do_sync")
int BPF_PROG2(sync_fentry)
{
	return 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;

	BPF_SEQ_PRINTF(seq, "header\n");
	BPF_SEQ_PRINTF(seq, "%d %d\n", 1, 2);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
