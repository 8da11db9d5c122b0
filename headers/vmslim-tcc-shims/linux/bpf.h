/* vmslim TCC shim over the uapi <linux/bpf.h>: the same header, with its unnamed
 * bit-fields of a typedef'd type readable by TCC.
 *
 * The header pads with `__u32 :32;` and (in __bpf_md_ptr) `__u64 :64;`. TCC 0.9.27 reads
 * a typedef name followed by ':' as a label, never as a type, so the member is a syntax
 * error to it (`';' expected (got "__u32")`) where clang sees padding. Spelled
 * `__typeof__(__u32)` the type is a keyword's operand and the member parses, with the
 * same layout. The spelling is a macro only while the header is read: outside it __u32
 * stays a plain typedef name, so a later `typedef unsigned int __u32;` (vmlinux.h after
 * <asm/types.h>, which clang accepts) still means what it says. The typedefs must exist
 * before the macros do, hence <linux/types.h> first.
 */
#ifndef __VMSLIM_TCC_SHIM_LINUX_BPF_H
#define __VMSLIM_TCC_SHIM_LINUX_BPF_H
#include <linux/types.h>
#include "../vmslim-bitfield-types-on.h"
#include_next <linux/bpf.h>
#include "../vmslim-bitfield-types-off.h"
#endif
