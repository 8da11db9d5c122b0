/* bpfobj instruction rendering: one BPF instruction as the verifier's log spells it, so
 * that a difference reads "r1 = 2 (full) vs r1 = 3 (slim)" instead of eight hex bytes. */
#include <stdio.h>
#include <string.h>

#include "bpfobj/internal.h"

/* The opcode byte is class (3 bits) | source (1) | operation (4) for ALU and jumps, and
 * class | size (2) | mode (3) for loads and stores; the values are the kernel's ABI
 * (include/uapi/linux/bpf_common.h, bpf.h), spelled out here like the CO-RE kinds. */
enum {
	CLS_LD, CLS_LDX, CLS_ST, CLS_STX, CLS_ALU, CLS_JMP, CLS_JMP32, CLS_ALU64,
};
enum { MODE_IMM = 0x00, MODE_ABS = 0x20, MODE_IND = 0x40, MODE_MEM = 0x60,
       MODE_MEMSX = 0x80, MODE_ATOMIC = 0xc0 };
enum { OP_MOV = 0xb0, OP_NEG = 0x80, OP_END = 0xd0, OP_DIV = 0x30, OP_MOD = 0x90,
       OP_JA = 0x00, OP_CALL = 0x80, OP_EXIT = 0x90 };
enum { ATOMIC_FETCH = 0x01, ATOMIC_XCHG = 0xe0 | ATOMIC_FETCH,
       ATOMIC_CMPXCHG = 0xf0 | ATOMIC_FETCH };

static const char *const alu_ops[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=",
	"endian", "(op 0xe0)", "(op 0xf0)",
};
static const char *const jmp_ops[16] = {
	"goto", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<",
	"s<=", "(op 0xe0)", "(op 0xf0)",
};
static const char *const sizes[4] = { "u32", "u16", "u8", "u64" };
static const char *const ssizes[4] = { "s32", "s16", "s8", "s64" };

struct insn {
	uint8_t code, dst, src;
	int16_t off;
	int32_t imm;
};

static struct insn decode(const uint8_t *p)
{
	struct insn i = { .code = p[0], .dst = p[1] & 0xf, .src = p[1] >> 4 };

	memcpy(&i.off, p + 2, 2);
	memcpy(&i.imm, p + 4, 4);
	return i;
}

static void render_alu(const struct insn *i, int wide, char *out, size_t n)
{
	char r = wide ? 'r' : 'w';
	unsigned op = i->code & 0xf0;
	const char *sym = alu_ops[op >> 4];
	char rhs[24];

	if (i->code & 0x08)
		snprintf(rhs, sizeof(rhs), "%c%u", r, i->src);
	else
		snprintf(rhs, sizeof(rhs), "%d", i->imm);
	if (op == OP_NEG) {
		snprintf(out, n, "%c%u = -%c%u", r, i->dst, r, i->dst);
	} else if (op == OP_END) {
		/* BPF_TO_BE is the source bit; in ALU64 the swap is unconditional */
		snprintf(out, n, "%c%u = %s%d %c%u", r, i->dst,
			 !wide && !(i->code & 0x08) ? "le" : wide ? "bswap" : "be", i->imm, r, i->dst);
	} else if (op == OP_MOV && i->off && (i->code & 0x08)) {
		snprintf(out, n, "%c%u = (s%d)%c%u", r, i->dst, i->off, r, i->src);
	} else if ((op == OP_DIV || op == OP_MOD) && i->off == 1) {
		snprintf(out, n, "%c%u s%s %s", r, i->dst, sym, rhs);
	} else {
		snprintf(out, n, "%c%u %s %s", r, i->dst, sym, rhs);
	}
}

static void render_jmp(const struct insn *i, int wide, char *out, size_t n)
{
	char r = wide ? 'r' : 'w';
	unsigned op = i->code & 0xf0;

	if (op == OP_EXIT) {
		snprintf(out, n, "exit");
	} else if (op == OP_CALL) {
		if (i->src == 1)	/* BPF_PSEUDO_CALL: a subprogram, pc-relative */
			snprintf(out, n, "call pc%+d", i->imm);
		else if (i->src == 2)	/* BPF_PSEUDO_KFUNC_CALL */
			snprintf(out, n, "call kernel-function %d", i->imm);
		else
			snprintf(out, n, "call %d", i->imm);
	} else if (op == OP_JA) {
		snprintf(out, n, "goto pc%+d", wide ? i->off : i->imm);	/* JMP32 JA: gotol */
	} else if (i->code & 0x08) {
		snprintf(out, n, "if %c%u %s %c%u goto pc%+d", r, i->dst, jmp_ops[op >> 4], r,
			 i->src, i->off);
	} else {
		snprintf(out, n, "if %c%u %s 0x%x goto pc%+d", r, i->dst, jmp_ops[op >> 4],
			 (unsigned)i->imm, i->off);
	}
}

static void render_atomic(const struct insn *i, const char *sz, char *out, size_t n)
{
	int fetch = i->imm & ATOMIC_FETCH;
	unsigned op = (unsigned)i->imm & ~ATOMIC_FETCH;

	if (i->imm == ATOMIC_CMPXCHG)
		snprintf(out, n, "r0 = cmpxchg((%s *)(r%u %+d), r0, r%u)", sz, i->dst, i->off,
			 i->src);
	else if (i->imm == ATOMIC_XCHG)
		snprintf(out, n, "r%u = xchg((%s *)(r%u %+d), r%u)", i->src, sz, i->dst, i->off,
			 i->src);
	else if (op < 0xe0 && fetch)
		snprintf(out, n, "r%u = atomic_fetch(*(%s *)(r%u %+d) %s r%u)", i->src, sz, i->dst,
			 i->off, alu_ops[op >> 4], i->src);
	else if (op < 0xe0)
		snprintf(out, n, "lock *(%s *)(r%u %+d) %s r%u", sz, i->dst, i->off,
			 alu_ops[op >> 4], i->src);
	else
		snprintf(out, n, "atomic 0x%x *(%s *)(r%u %+d), r%u", (unsigned)i->imm, sz, i->dst,
			 i->off, i->src);
}

void bpf_insn_render(const uint8_t *p, const uint8_t *next, char *out, size_t n)
{
	struct insn i = decode(p);
	unsigned cls = i.code & 7, size = (i.code >> 3) & 3, mode = i.code & 0xe0;

	switch (cls) {
	case CLS_ALU:
	case CLS_ALU64:
		render_alu(&i, cls == CLS_ALU64, out, n);
		return;
	case CLS_JMP:
	case CLS_JMP32:
		render_jmp(&i, cls == CLS_JMP, out, n);
		return;
	case CLS_LDX:
		snprintf(out, n, "r%u = *(%s *)(r%u %+d)", i.dst,
			 (mode == MODE_MEMSX ? ssizes : sizes)[size], i.src, i.off);
		return;
	case CLS_ST:
		snprintf(out, n, "*(%s *)(r%u %+d) = %d", sizes[size], i.dst, i.off, i.imm);
		return;
	case CLS_STX:
		if (mode == MODE_ATOMIC)
			render_atomic(&i, sizes[size], out, n);
		else
			snprintf(out, n, "*(%s *)(r%u %+d) = r%u", sizes[size], i.dst, i.off, i.src);
		return;
	case CLS_LD:
		if (mode == MODE_IMM && size == 3) {	/* 16-byte ld_imm64: upper half next */
			uint32_t hi = 0;

			if (next)
				memcpy(&hi, next + 4, 4);
			snprintf(out, n, "r%u = 0x%llx ll%s", i.dst,
				 (unsigned long long)hi << 32 | (uint32_t)i.imm,
				 i.src ? " (pseudo)" : "");
			return;
		}
		if (mode == MODE_ABS || mode == MODE_IND) {
			if (mode == MODE_ABS)
				snprintf(out, n, "r0 = *(%s *)skb[%d]", sizes[size], i.imm);
			else
				snprintf(out, n, "r0 = *(%s *)skb[r%u + %d]", sizes[size], i.src, i.imm);
			return;
		}
		break;
	}
	snprintf(out, n, "(code 0x%02x dst r%u src r%u off %d imm %d)", i.code, i.dst, i.src,
		 i.off, i.imm);
}

void bpf_insn_hex(const uint8_t *p, char *out, size_t n)
{
	struct insn i = decode(p);

	snprintf(out, n, "%02x %02x %02x %02x %02x %02x %02x %02x (code 0x%02x dst r%u src r%u "
		 "off %d imm %d)", p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], i.code, i.dst,
		 i.src, i.off, i.imm);
}
