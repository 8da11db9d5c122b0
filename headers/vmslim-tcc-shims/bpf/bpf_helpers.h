/* vmslim TCC shim over libbpf's bpf_helpers.h: same header, with the argument counters
 * that TCC 0.9.27's preprocessor miscounts redefined on the prelude's __vmslim_narg. */
#ifndef __VMSLIM_TCC_SHIM_BPF_HELPERS_H
#define __VMSLIM_TCC_SHIM_BPF_HELPERS_H
#include_next <bpf/bpf_helpers.h>

#undef ___bpf_narg
#define ___bpf_narg(...) __vmslim_narg(__VA_ARGS__)
#undef ___bpf_fill0
#define ___bpf_fill0(...) do {} while (0)
#undef ___bpf_pick_printk
#define ___bpf_pick_printk(...) __vmslim_cat(__vmslim_pick_printk_, __vmslim_narg(__VA_ARGS__))
#define __vmslim_pick_printk_0 __bpf_printk
#define __vmslim_pick_printk_1 __bpf_printk
#define __vmslim_pick_printk_2 __bpf_printk
#define __vmslim_pick_printk_3 __bpf_printk
#define __vmslim_pick_printk_4 __bpf_vprintk
#define __vmslim_pick_printk_5 __bpf_vprintk
#define __vmslim_pick_printk_6 __bpf_vprintk
#define __vmslim_pick_printk_7 __bpf_vprintk
#define __vmslim_pick_printk_8 __bpf_vprintk
#define __vmslim_pick_printk_9 __bpf_vprintk
#define __vmslim_pick_printk_10 __bpf_vprintk
#define __vmslim_pick_printk_11 __bpf_vprintk
#define __vmslim_pick_printk_12 __bpf_vprintk
/* __bpf_printk forwards `, ##__VA_ARGS__` straight from bpf_printk's own arguments, which
 * TCC handles; only the picker needed help. */

/* libbpf declares bpf_tail_call_static only under clang >= 8 (its body is BPF asm, which
 * TCC would assemble as x86); without it every call would be an implicit declaration.
 * The same signature, over the plain helper, keeps calls type-checked. */
#if !(__clang_major__ >= 8 && defined(__bpf__))
static __always_inline void bpf_tail_call_static(void *ctx, const void *map, const __u32 slot)
{
	bpf_tail_call(ctx, (void *)map, slot);
}
#endif
#endif
