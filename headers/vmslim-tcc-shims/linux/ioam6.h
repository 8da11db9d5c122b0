/* vmslim TCC shim over the uapi <linux/ioam6.h>: its `__u8 :8;` padding read as a type
 * by TCC (see the shim of <linux/bpf.h> for why). */
#ifndef __VMSLIM_TCC_SHIM_LINUX_IOAM6_H
#define __VMSLIM_TCC_SHIM_LINUX_IOAM6_H
#include <linux/types.h>
#include "../vmslim-bitfield-types-on.h"
#include_next <linux/ioam6.h>
#include "../vmslim-bitfield-types-off.h"
#endif
