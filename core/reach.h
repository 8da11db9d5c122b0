/* core internals: which instructions of a BPF section can run on a given kernel. */
#ifndef VMSLIM_CORE_REACH_H
#define VMSLIM_CORE_REACH_H

#include <stddef.h>
#include <stdint.h>

/* One instruction as in the object (struct bpf_insn, spelled out: the layout is ABI). */
struct core_insn {
	uint8_t code;
	uint8_t regs;	/* dst in the low nibble, src in the high one (little-endian) */
	int16_t off;
	int32_t imm;
};

/* Marks in reachable[0..n) the instructions that some path from an entry (a program or
 * subprogram start) reaches, given the constants the instructions hold: the relocated
 * values already patched in by the caller. 0, or -1 when n is too large to analyse. */
int core_reach(const struct core_insn *insns, size_t n, const uint32_t *entries,
	       size_t nentries, uint8_t *reachable);

#endif
