/* Included (no guard) around a uapi header with unnamed bit-fields of the __u8..__s64
 * types: spells each type with __typeof__, which TCC reads as a type even before ':'.
 * vmslim-bitfield-types-off.h undoes it. See linux/bpf.h here. */
#define __u8 __typeof__(__u8)
#define __s8 __typeof__(__s8)
#define __u16 __typeof__(__u16)
#define __s16 __typeof__(__s16)
#define __u32 __typeof__(__u32)
#define __s32 __typeof__(__s32)
#define __u64 __typeof__(__u64)
#define __s64 __typeof__(__s64)
