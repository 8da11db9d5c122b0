// __ksym externs, kfuncs, bpf_core_read_str, BPF_CORE_READ_BITFIELD_PROBED
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

extern const struct rq runqueues __ksym;
extern int bpf_some_kfunc_maybe(void) __ksym __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_PREEMPT __kconfig __weak;

char comm[16];
char fname[256];
int bits;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *t = bpf_task_acquire(child);
	if (!t)
		return 0;
	bpf_core_read_str(comm, sizeof(comm), &t->comm);
	bits = BPF_CORE_READ_BITFIELD_PROBED(t, in_execve);
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	bpf_task_release(t);
	if (LINUX_KERNEL_VERSION > KERNEL_VERSION(5, 10, 0) && CONFIG_PREEMPT)
		bits++;
	if (bpf_some_kfunc_maybe)
		bits++;
	return 0;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)
{
	const char *p = BPF_CORE_READ(name, name);
	bpf_core_read_user_str(fname, sizeof(fname), p);
	bpf_probe_read_kernel_str(fname, sizeof(fname), p);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
