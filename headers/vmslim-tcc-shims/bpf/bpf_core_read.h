/* vmslim TCC shim over libbpf's bpf_core_read.h: BPF_CORE_READ and friends choose
 * between one field and a pointer chain with ___empty(__VA_ARGS__), which sees one
 * argument in an empty list under TCC 0.9.27 (the comma of `, ##__VA_ARGS__` survives
 * when the empty list arrives through another macro). ___core_read is redefined to
 * count its accessors instead: there is always at least one, so no emptiness test (and
 * none of its cost: this macro is expanded for every BPF_CORE_READ) is needed.
 * ___narg is left alone: libbpf never calls it with an empty list. */
#ifndef __VMSLIM_TCC_SHIM_BPF_CORE_READ_H
#define __VMSLIM_TCC_SHIM_BPF_CORE_READ_H
#include_next <bpf/bpf_core_read.h>

#undef ___core_read
#define ___core_read(fn, fn_ptr, dst, src, ...)					\
	__vmslim_cat(__vmslim_core_read_, __vmslim_one_or_more(__VA_ARGS__))(fn, fn_ptr, dst, \
									      src, __VA_ARGS__)
#define __vmslim_one_or_more(...) __vmslim_nth24(_, __VA_ARGS__, N, N, N, N, N, N, N, N, N, \
	N, N, N, N, N, N, N, N, N, N, N, N, N, N, 1, 0)
#define __vmslim_core_read_1 ___core_read0
#define __vmslim_core_read_N ___core_readN
/* ___empty keeps a working definition for programs that use it directly */
#undef ___empty
#define ___empty(...) __vmslim_cat(__vmslim_core_empty_, __vmslim_isempty(__VA_ARGS__))
#define __vmslim_core_empty_1 0
#define __vmslim_core_empty_0 N
#endif
