/* The end of vmslim-bitfield-types-on.h's spelling: __u8..__s64 are typedef names again. */
#undef __u8
#undef __s8
#undef __u16
#undef __s16
#undef __u32
#undef __s32
#undef __u64
#undef __s64
