/* no #include at all: the build passes -include vmlinux.h */
#define SEC(name) __attribute__((section(name), used))

SEC("tp_btf/sched_process_exec")
int include_flag(unsigned long long *ctx)
{
	struct linux_binprm *bprm = (struct linux_binprm *)ctx[2];
	return __builtin_preserve_access_index(bprm->argc);
}

char LICENSE[] SEC("license") = "GPL";
