/* vmslim-tcc-prelude.h: makes TCC 0.9.27 read BPF C the way `clang -target bpf` does,
 * for type checking only (vmslim check). Included before anything else.
 *
 * TCC targets x86-64 and knows none of clang's BPF extensions. Everything below either
 * (a) presents TCC as the BPF target clang presents (macros), or (b) gives clang's
 * builtins a declaration with the same types so calls to them still type-check, or
 * (c) swaps a construct TCC cannot parse for one it can with the same meaning to a type
 * checker. Nothing here is ever compiled into a BPF object.
 */
#ifndef __VMSLIM_TCC_PRELUDE_H
#define __VMSLIM_TCC_PRELUDE_H

/* ---- the target: what clang -target bpf predefines, not what TCC does ---- */
#undef __x86_64__
#undef __linux__
#undef __linux
#undef __unix__
#undef __unix
#undef unix
#define __bpf__ 1
#define __BPF__ 1
#define __LITTLE_ENDIAN__ 1
#define _LP64 1
#define __BIGGEST_ALIGNMENT__ 8
#define __CHAR16_TYPE__ unsigned short
#define __CHAR32_TYPE__ unsigned int
#define __ORDER_PDP_ENDIAN__ 3412

/* libbpf's SEC() wraps the section attribute in _Pragma(), which TCC rejects, unless the
 * compiler says it is GCC; the GCC branch means the same to a type checker. We do not
 * claim to be clang (__clang__ and __clang_major__ unset) so that clang-only paths, whose
 * bodies are BPF inline asm, stay out of the way; the shims declare what they would have
 * declared (bpf_tail_call_static). */
#define __GNUC__ 4
#define __GNUC_MINOR__ 2
#define __GNUC_PATCHLEVEL__ 1
#define __GNUC_STDC_INLINE__ 1

/* ---- feature tests TCC lacks ---- */
#define __has_attribute(x) 0
#define __has_builtin(x) __vmslim_has_builtin_##x
#define __has_feature(x) 0
#define __has_extension(x) 0
#define __has_include(x) 0
#define __has_include_next(x) 0
#define __has_c_attribute(x) 0
#define __has_declspec_attribute(x) 0
/* the builtins declared (or emulated) below answer yes */
#define __vmslim_has_builtin___builtin_preserve_access_index 1
#define __vmslim_has_builtin___builtin_preserve_field_info 1
#define __vmslim_has_builtin___builtin_btf_type_id 1
#define __vmslim_has_builtin___builtin_preserve_type_info 1
#define __vmslim_has_builtin___builtin_preserve_enum_value 1
#define __vmslim_has_builtin___builtin_bswap16 1
#define __vmslim_has_builtin___builtin_bswap32 1
#define __vmslim_has_builtin___builtin_bswap64 1
#define __vmslim_has_builtin___builtin_memcpy 1
#define __vmslim_has_builtin___builtin_memset 1
#define __vmslim_has_builtin___builtin_memcmp 1
#define __vmslim_has_builtin___builtin_memmove 1
#define __vmslim_has_builtin___builtin_expect 1
#define __vmslim_has_builtin___builtin_expect_with_probability 1
#define __vmslim_has_builtin___builtin_constant_p 1

/* ---- types ---- */
/* TCC has no 128-bit integer. long long keeps arithmetic and bit operations type-correct
 * (what a checker needs); the size is wrong (8, not 16), so failed static assertions and
 * size-dependent array bounds are reported as "unsupported", never as errors. */
#define __int128 long long
#define __int128_t long long
#define __uint128_t unsigned long long

/* TCC compiles a static inline function only if something calls it, so errors in an
 * unused one would go unseen; clang reports them. Without `inline` every function body
 * is checked where it stands (code generation is discarded anyway). */
#define inline
#define __inline
#define __inline__

/* ---- CO-RE builtins: clang evaluates these to relocatable constants ---- */
/* The argument is an expression whose access is recorded; its value and type pass
 * through unchanged. */
#define __builtin_preserve_access_index(x) (x)
/* (field access expression, kind) -> u32 */
#define __builtin_preserve_field_info(field, kind) ((void)sizeof(field), (unsigned int)(kind))
/* (type expression, kind) -> u32 / u64; typeof keeps the type check of the expression */
#define __builtin_btf_type_id(x, kind) ((void)sizeof(x), (unsigned long long)(kind))
#define __builtin_preserve_type_info(x, kind) ((void)sizeof(x), (unsigned int)(kind))
/* clang 14 takes (enum value expression, kind); newer clang a third (flags) argument */
#define __builtin_preserve_enum_value(x, kind, ...) ((void)sizeof(x), (unsigned long long)(kind))

/* ---- plain builtins TCC lacks ----
 * Declared as functions under their own names, not macros over helpers: a macro's
 * arguments are read to the end of the invocation before any is checked, so TCC would
 * charge an error in the first line of a two-line __builtin_memcpy(...) to its last. A
 * prototype keeps each argument on its own line, as clang has it. (Nothing is linked.) */
unsigned short __builtin_bswap16(unsigned short);
unsigned int __builtin_bswap32(unsigned int);
unsigned long long __builtin_bswap64(unsigned long long);
void *__builtin_memcpy(void *, const void *, unsigned long);
void *__builtin_memmove(void *, const void *, unsigned long);
void *__builtin_memset(void *, int, unsigned long);
int __builtin_memcmp(const void *, const void *, unsigned long);
/* the probability must be a constant double in [0, 1]; only clang's code layout uses it */
long __builtin_expect_with_probability(long, long, double);
#define __builtin_trap() ((void)0)
#define __builtin_unreachable() ((void)0)
#define __builtin_assume(x) ((void)(x))

/* __sync_* and __atomic_*: generic in the pointee type, so macros (statement
 * expressions keep the argument types checked: ptr must be a pointer, val assignable). */
#define __ATOMIC_RELAXED 0
#define __ATOMIC_CONSUME 1
#define __ATOMIC_ACQUIRE 2
#define __ATOMIC_RELEASE 3
#define __ATOMIC_ACQ_REL 4
#define __ATOMIC_SEQ_CST 5
#define __vmslim_rmw(p, v) ({ __typeof__(*(p)) *__vp = (p); __typeof__(*(p)) __vo = *__vp; *__vp = (v); __vo; })
#define __sync_fetch_and_add(p, v) __vmslim_rmw(p, *(p) + (v))
#define __sync_fetch_and_sub(p, v) __vmslim_rmw(p, *(p) - (v))
#define __sync_fetch_and_or(p, v) __vmslim_rmw(p, *(p) | (v))
#define __sync_fetch_and_and(p, v) __vmslim_rmw(p, *(p) & (v))
#define __sync_fetch_and_xor(p, v) __vmslim_rmw(p, *(p) ^ (v))
#define __sync_add_and_fetch(p, v) (*(p) += (v))
#define __sync_sub_and_fetch(p, v) (*(p) -= (v))
#define __sync_or_and_fetch(p, v) (*(p) |= (v))
#define __sync_and_and_fetch(p, v) (*(p) &= (v))
#define __sync_xor_and_fetch(p, v) (*(p) ^= (v))
#define __sync_lock_test_and_set(p, v) __vmslim_rmw(p, v)
#define __sync_val_compare_and_swap(p, o, n) ({ __typeof__(*(p)) __vo = *(p); if (__vo == (o)) *(p) = (n); __vo; })
#define __sync_bool_compare_and_swap(p, o, n) ({ int __vb = *(p) == (o); if (__vb) *(p) = (n); __vb; })
#define __sync_synchronize() ((void)0)
#define __atomic_fetch_add(p, v, m) ((void)(m), __sync_fetch_and_add(p, v))
#define __atomic_fetch_sub(p, v, m) ((void)(m), __sync_fetch_and_sub(p, v))
#define __atomic_fetch_or(p, v, m) ((void)(m), __sync_fetch_and_or(p, v))
#define __atomic_fetch_and(p, v, m) ((void)(m), __sync_fetch_and_and(p, v))
#define __atomic_fetch_xor(p, v, m) ((void)(m), __sync_fetch_and_xor(p, v))
#define __atomic_add_fetch(p, v, m) ((void)(m), __sync_add_and_fetch(p, v))
#define __atomic_sub_fetch(p, v, m) ((void)(m), __sync_sub_and_fetch(p, v))
#define __atomic_or_fetch(p, v, m) ((void)(m), __sync_or_and_fetch(p, v))
#define __atomic_and_fetch(p, v, m) ((void)(m), __sync_and_and_fetch(p, v))
#define __atomic_xor_fetch(p, v, m) ((void)(m), __sync_xor_and_fetch(p, v))
#define __atomic_exchange_n(p, v, m) ((void)(m), __vmslim_rmw(p, v))
#define __atomic_load_n(p, m) ((void)(m), *(p))
#define __atomic_store_n(p, v, m) ((void)(m), (void)(*(p) = (v)))
#define __atomic_compare_exchange_n(p, e, d, w, s, f) \
	((void)(w), (void)(s), (void)(f), ({ int __vb = *(p) == *(e); if (__vb) *(p) = (d); else *(e) = *(p); __vb; }))
#define __atomic_thread_fence(m) ((void)(m))
#define __atomic_signal_fence(m) ((void)(m))

/* ---- variadic-macro helpers for the libbpf shims (vmslim-tcc-shims/bpf/...) ----
 * TCC 0.9.27 keeps the comma of `, ##__VA_ARGS__` when an empty argument list reaches a
 * macro through another macro, and rejects a zero-parameter macro called with one empty
 * argument, so libbpf's argument counters see one argument where there are none. These
 * count without relying on either: __vmslim_isempty is Jens Gustedt's ISEMPTY, which
 * uses only standard C99 rules (it detects a comma produced by a parenthesis trigger). */
#define __vmslim_cat(a, b) __vmslim_cat_(a, b)
#define __vmslim_cat_(a, b) a##b
#define __vmslim_arg16(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, ...) _15
#define __vmslim_has_comma(...) \
	__vmslim_arg16(__VA_ARGS__, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, ~)
#define __vmslim_trigger(...) ,
#define __vmslim_isempty(...) \
	__vmslim_isempty_(__vmslim_has_comma(__VA_ARGS__), \
			  __vmslim_has_comma(__vmslim_trigger __VA_ARGS__), \
			  __vmslim_has_comma(__VA_ARGS__ ()), \
			  __vmslim_has_comma(__vmslim_trigger __VA_ARGS__ ()))
#define __vmslim_paste5(_0, _1, _2, _3, _4) _0##_1##_2##_3##_4
#define __vmslim_isempty_(_0, _1, _2, _3) \
	__vmslim_has_comma(__vmslim_paste5(__vmslim_empty_case_, _0, _1, _2, _3))
#define __vmslim_empty_case_0001 ,
/* number of arguments, 0 for none (up to 24) */
#define __vmslim_nth24(_, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, \
		       _16, _17, _18, _19, _20, _21, _22, _23, _24, N, ...) N
#define __vmslim_narg(...) __vmslim_cat(__vmslim_narg_, __vmslim_isempty(__VA_ARGS__))(__VA_ARGS__)
#define __vmslim_narg_1(...) 0
#define __vmslim_narg_0(...) __vmslim_nth24(_, __VA_ARGS__, 24, 23, 22, 21, 20, 19, 18, 17, 16, \
	15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
/* number of (type, name) pairs */
#define __vmslim_narg2(...) __vmslim_cat(__vmslim_narg2_, __vmslim_isempty(__VA_ARGS__))(__VA_ARGS__)
#define __vmslim_narg2_1(...) 0
#define __vmslim_narg2_0(...) __vmslim_nth24(_, __VA_ARGS__, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8, \
	7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0)

/* TCC has no _Pragma operator; libbpf uses it only for diagnostic push/pop (and, with no
 * target arch, a "GCC error" we cannot raise: clang will). */
#define _Pragma(x)

#endif
