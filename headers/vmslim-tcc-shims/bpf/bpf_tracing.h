/* vmslim TCC shim over libbpf's bpf_tracing.h: BPF_PROG, BPF_PROG2, BPF_KPROBE,
 * BPF_KRETPROBE and BPF_KSYSCALL count their arguments with ___bpf_narg/___bpf_narg2 and
 * end in zero-parameter macros; TCC 0.9.27 miscounts an empty list passed through a macro
 * and rejects "f()" when f's empty argument came from another macro. */
#ifndef __VMSLIM_TCC_SHIM_BPF_TRACING_H
#define __VMSLIM_TCC_SHIM_BPF_TRACING_H
#include <bpf/bpf_helpers.h>
#include_next <bpf/bpf_tracing.h>

#undef ___bpf_narg
#define ___bpf_narg(...) __vmslim_narg(__VA_ARGS__)
#undef ___bpf_narg2
#define ___bpf_narg2(...) __vmslim_narg2(__VA_ARGS__)
#undef ___bpf_ctx_cast0
#define ___bpf_ctx_cast0(...) ctx
#undef ___bpf_reg_cnt0
#define ___bpf_reg_cnt0(...) (0)
#undef ___bpf_ctx_decl0
#define ___bpf_ctx_decl0(...)
#undef ___bpf_kprobe_args0
#define ___bpf_kprobe_args0(...) ctx
#undef ___bpf_kretprobe_args0
#define ___bpf_kretprobe_args0(...) ctx
#undef ___bpf_syscall_args0
#define ___bpf_syscall_args0(...) ctx
#undef ___bpf_syswrap_args0
#define ___bpf_syswrap_args0(...) ctx

/* Without a target architecture, libbpf turns every use of the register macros into
 * _Pragma("GCC error \"Must specify a BPF target arch via __TARGET_ARCH_xxx\""), an
 * error TCC cannot raise (the prelude makes _Pragma empty). An undeclared identifier
 * that says the same thing gives the error, on the same line as clang's. */
#ifndef bpf_target_defined
#define __VMSLIM_NO_TARGET_ARCH (must_specify_a_BPF_target_arch_via___TARGET_ARCH_xxx, 0l)
#undef PT_REGS_PARM1
#define PT_REGS_PARM1(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM2
#define PT_REGS_PARM2(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM3
#define PT_REGS_PARM3(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM4
#define PT_REGS_PARM4(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM5
#define PT_REGS_PARM5(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_RET
#define PT_REGS_RET(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_FP
#define PT_REGS_FP(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_RC
#define PT_REGS_RC(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_SP
#define PT_REGS_SP(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_IP
#define PT_REGS_IP(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM1_CORE
#define PT_REGS_PARM1_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM2_CORE
#define PT_REGS_PARM2_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM3_CORE
#define PT_REGS_PARM3_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM4_CORE
#define PT_REGS_PARM4_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM5_CORE
#define PT_REGS_PARM5_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_RET_CORE
#define PT_REGS_RET_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_FP_CORE
#define PT_REGS_FP_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_RC_CORE
#define PT_REGS_RC_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_SP_CORE
#define PT_REGS_SP_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_IP_CORE
#define PT_REGS_IP_CORE(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM1_SYSCALL
#define PT_REGS_PARM1_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM2_SYSCALL
#define PT_REGS_PARM2_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM3_SYSCALL
#define PT_REGS_PARM3_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM4_SYSCALL
#define PT_REGS_PARM4_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM5_SYSCALL
#define PT_REGS_PARM5_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM1_CORE_SYSCALL
#define PT_REGS_PARM1_CORE_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM2_CORE_SYSCALL
#define PT_REGS_PARM2_CORE_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM3_CORE_SYSCALL
#define PT_REGS_PARM3_CORE_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM4_CORE_SYSCALL
#define PT_REGS_PARM4_CORE_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef PT_REGS_PARM5_CORE_SYSCALL
#define PT_REGS_PARM5_CORE_SYSCALL(x) __VMSLIM_NO_TARGET_ARCH
#undef BPF_KPROBE_READ_RET_IP
#define BPF_KPROBE_READ_RET_IP(ip, ctx) __VMSLIM_NO_TARGET_ARCH
#undef BPF_KRETPROBE_READ_RET_IP
#define BPF_KRETPROBE_READ_RET_IP(ip, ctx) __VMSLIM_NO_TARGET_ARCH
#endif
#endif
