// SPDX-License-Identifier: GPL-2.0
/* procinfo: on every fork, snapshots the parent's identity by chasing pointers from
 * task_struct with BPF_CORE_READ: its own parent, its memory map and executable, its
 * namespaces (pid, uts, mount, net), its credentials and its cgroup.
 *
 * Each BPF_CORE_READ(a, b, c) expands to a chain of bpf_probe_read_kernel() calls whose
 * offsets are CO-RE relocations, so the same object runs on kernels whose task_struct
 * layout differs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EXE_LEN 64

struct proc_info {
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 child_pid;
	__u32 uid;
	__u32 euid;
	__u32 pidns;
	__u32 mntns;
	__u32 netns;
	__u64 cgroup_id;
	__u64 start_time;
	__u64 arg_len;
	__u64 total_vm;
	char comm[TASK_COMM_LEN];
	char nodename[65];
	char exe[EXE_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct proc_info);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct proc_info);
} heap SEC(".maps");

SEC("tp/sched/sched_process_fork")
int on_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct proc_info *info;
	const unsigned char *exe_name;
	__u32 zero = 0, child;
	__u64 arg_start, arg_end;

	info = bpf_map_lookup_elem(&heap, &zero);
	if (!info)
		return 0;

	child = ctx->child_pid;
	info->child_pid = child;
	info->pid = BPF_CORE_READ(task, pid);
	info->tgid = BPF_CORE_READ(task, tgid);
	info->ppid = BPF_CORE_READ(task, real_parent, tgid);
	info->uid = BPF_CORE_READ(task, real_cred, uid.val);
	info->euid = BPF_CORE_READ(task, cred, euid.val);
	info->start_time = BPF_CORE_READ(task, start_time);
	BPF_CORE_READ_STR_INTO(&info->comm, task, comm);

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	info->arg_len = arg_end - arg_start;
	info->total_vm = BPF_CORE_READ(task, mm, total_vm);

	exe_name = BPF_CORE_READ(task, mm, exe_file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(info->exe, sizeof(info->exe), exe_name);

	info->pidns = BPF_CORE_READ(task, nsproxy, pid_ns_for_children, ns.inum);
	info->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	info->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	BPF_CORE_READ_STR_INTO(&info->nodename, task, nsproxy, uts_ns, name.nodename);

	info->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);

	bpf_map_update_elem(&procs, &child, info, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
