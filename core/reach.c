/* core reachability: is a poisoned instruction dead code on a given kernel?
 *
 * libbpf patches each CO-RE relocation with the target's value and poisons those it
 * cannot resolve; the verifier then walks the program with the constants known, and an
 * instruction that no path reaches is dropped, poisoned or not. The usual guard:
 *
 *	r1 = 1			// field_exists, patched to 0 on a kernel without the field
 *	if r1 == 0 goto +2	// with r1 known, only one way is taken
 *	r1 = 104		// field_byte_offset, poisoned: reached only if the field exists
 *
 * works whatever the check names (the same member, another one for an else branch, a
 * type for a whole struct flavour), so the question is asked of the code rather than
 * of the names: a forward data flow over the instructions where each register r0..r9
 * is a known 64-bit constant or unknown; a state at an instruction is the join of the
 * states flowing in (a constant survives only if every path agrees), a conditional jump
 * whose operands are known has one successor, and the work list runs until nothing
 * changes (each register can only go from constant to unknown once: it terminates).
 * Memory is not tracked: a check spilled to the stack and reloaded is unknown, so the
 * answer errs towards "reachable", i.e. towards reporting a failure. */
#include "core/reach.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define NREGS 10	/* r10, the frame pointer, is never a constant of interest */

struct state {
	uint16_t known;	/* bit i: r_i holds v[i] */
	uint8_t seen;
	uint64_t v[NREGS];
};

static int dst_of(const struct core_insn *in) { return in->regs & 0xf; }
static int src_of(const struct core_insn *in) { return in->regs >> 4; }

static int known(const struct state *s, int r, uint64_t *v)
{
	if (r >= NREGS || !(s->known & (1u << r)))
		return 0;
	*v = s->v[r];
	return 1;
}

static void set(struct state *s, int r, int is_known, uint64_t v)
{
	if (r >= NREGS)
		return;
	if (is_known) {
		s->known |= (uint16_t)(1u << r);
		s->v[r] = v;
	} else {
		s->known &= (uint16_t)~(1u << r);
	}
}

/* Joins in into *at; 1 when *at changed. */
static int join(struct state *at, const struct state *in)
{
	if (!at->seen) {
		*at = *in;
		at->seen = 1;
		return 1;
	}
	uint16_t k = at->known & in->known;
	for (int r = 0; r < NREGS; r++)
		if ((k & (1u << r)) && at->v[r] != in->v[r])
			k &= (uint16_t)~(1u << r);
	if (k == at->known)
		return 0;
	at->known = k;
	return 1;
}

static void alu(struct state *s, const struct core_insn *in, int is64)
{
	uint8_t op = in->code & 0xf0;
	int d = dst_of(in), x = in->code & 0x08;
	uint64_t a = 0, b = 0;
	int ka = known(s, d, &a), kb = x ? known(s, src_of(in), &b) : 1;

	if (!x)
		b = is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
	if (op == 0xb0 && in->off == 0) {	/* mov (off != 0: sign-extending movs) */
		set(s, d, kb, is64 ? b : (uint32_t)b);
		return;
	}
	if (!ka || !kb || in->off != 0) {
		set(s, d, 0, 0);
		return;
	}
	uint64_t r;
	switch (op) {
	case 0x00: r = a + b; break;
	case 0x10: r = a - b; break;
	case 0x40: r = a | b; break;
	case 0x50: r = a & b; break;
	case 0x60: r = a << (b & (is64 ? 63 : 31)); break;
	case 0x70: r = is64 ? a >> (b & 63) : (uint32_t)a >> (b & 31); break;
	case 0x80: r = -a; break;
	case 0xa0: r = a ^ b; break;
	case 0x20: r = a * b; break;
	default: set(s, d, 0, 0); return;
	}
	set(s, d, 1, is64 ? r : (uint32_t)r);
}

/* A conditional jump's outcome: 1 taken, 0 not, -1 unknown. */
static int decide(const struct state *s, const struct core_insn *in, int is32)
{
	uint64_t a, b;
	if (!known(s, dst_of(in), &a))
		return -1;
	if (in->code & 0x08) {
		if (!known(s, src_of(in), &b))
			return -1;
	} else {
		b = (uint64_t)(int64_t)in->imm;
	}
	if (is32) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	int64_t sa = is32 ? (int32_t)a : (int64_t)a, sb = is32 ? (int32_t)b : (int64_t)b;
	switch (in->code & 0xf0) {
	case 0x10: return a == b;
	case 0x20: return a > b;
	case 0x30: return a >= b;
	case 0x40: return (a & b) != 0;
	case 0x50: return a != b;
	case 0x60: return sa > sb;
	case 0x70: return sa >= sb;
	case 0xa0: return a < b;
	case 0xb0: return a <= b;
	case 0xc0: return sa < sb;
	case 0xd0: return sa <= sb;
	default: return -1;
	}
}

int core_reach(const struct core_insn *insns, size_t n, const uint32_t *entries,
	       size_t nentries, uint8_t *reachable)
{
	if (n > (1u << 24))
		return -1;
	struct state *st = vms_xcalloc(n ? n : 1, sizeof(*st));
	size_t *work = vms_xcalloc(n ? n : 1, sizeof(*work)), nwork = 0;
	uint8_t *queued = vms_xcalloc(n ? n : 1, 1);
	struct state empty = { 0 };

	memset(reachable, 0, n);
	for (size_t e = 0; e < nentries; e++)
		if (entries[e] < n && join(&st[entries[e]], &empty) && !queued[entries[e]]) {
			queued[entries[e]] = 1;
			work[nwork++] = entries[e];
		}
	while (nwork) {
		size_t i = work[--nwork];
		queued[i] = 0;
		reachable[i] = 1;
		struct state s = st[i];
		const struct core_insn *in = &insns[i];
		uint8_t cls = in->code & 7;
		long long next[2] = { (long long)i + 1, -1 };

		switch (cls) {
		case 0: /* ld: only the 16-byte immediate load is still in use */
			if (in->code == 0x18 && i + 1 < n) {
				uint64_t v = (uint32_t)in->imm | (uint64_t)(uint32_t)insns[i + 1].imm << 32;
				set(&s, dst_of(in), src_of(in) == 0, v);
				next[0] = (long long)i + 2;
			} else {
				set(&s, 0, 0, 0);
			}
			break;
		case 1: /* ldx */
			set(&s, dst_of(in), 0, 0);
			break;
		case 3: /* stx: an atomic with fetch writes its source register */
			if ((in->code & 0xe0) == 0xc0)
				set(&s, src_of(in), 0, 0), set(&s, 0, 0, 0);
			break;
		case 4: alu(&s, in, 0); break;
		case 7: alu(&s, in, 1); break;
		case 5: case 6: {
			uint8_t op = in->code & 0xf0;
			if (op == 0x00) {	/* ja (jmp32 ja: the 32-bit gotol) */
				next[0] = (long long)i + 1 + (cls == 6 ? in->imm : in->off);
			} else if (op == 0x80) {	/* call: r0-r5 clobbered */
				for (int r = 0; r <= 5; r++)
					set(&s, r, 0, 0);
			} else if (op == 0x90) {	/* exit */
				next[0] = -1;
			} else {
				int t = decide(&s, in, cls == 6);
				long long taken = (long long)i + 1 + in->off;
				if (t == 1)
					next[0] = taken;
				else if (t == -1)
					next[1] = taken;
			}
			break;
		}
		default: break;	/* st: no register written */
		}
		for (int k = 0; k < 2; k++) {
			long long j = next[k];
			if (j < 0 || (size_t)j >= n)
				continue;
			if (join(&st[j], &s) && !queued[j]) {
				queued[j] = 1;
				work[nwork++] = (size_t)j;
			}
		}
	}
	free(st);
	free(work);
	free(queued);
	return 0;
}
