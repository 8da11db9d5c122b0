/* bpfobj comparison (what `vmslim objdiff` runs): decides whether two BPF ELF objects are the same program as far as libbpf and
 * the kernel can tell, and says precisely where they are not.
 *
 * What a loader consumes from a BPF object is a small part of the file:
 *
 *  - the bytes of the allocated sections (program text, .rodata/.data, .maps, license)
 *    and the size of .bss;
 *  - the relocations against those sections (map references, global data, subprogram
 *    calls), which libbpf resolves by symbol name;
 *  - the symbols that name programs, maps, subprograms and externs;
 *  - from .BTF.ext, the function records (where each function starts) and the CO-RE
 *    relocation records: for each instruction whose immediate depends on the kernel's
 *    layout, the kind of fact (field offset, size, existence, enum value...), the root
 *    type and an access string "0:3:1" of member indexes from that root;
 *  - from .BTF, what libbpf and the verifier read as types: map definitions in .maps
 *    (key and value types, whose sizes libbpf takes from BTF), other global variables,
 *    and the prototypes of global functions, which the verifier checks on their own, so a
 *    `struct X *` argument needs X complete.
 *
 * Everything else — DWARF, line records, the numbering of BTF types, the order of types
 * in .BTF, the name of the source file — may differ freely. Type identity is therefore
 * compared by rendering: a BTF type id becomes a string such as
 * "struct task_struct{9856 bytes} *" (structs shown with their size, or {incomplete} for a
 * forward declaration, never expanded further), and a CO-RE access string is rendered as
 * the member path it names ("task_struct.real_parent"), since libbpf matches members by
 * name. Two objects compiled from the same source with a full and a trimmed vmlinux.h are
 * equal exactly when all of these agree.
 *
 * The one place where instruction bytes legitimately hold a BTF type id is a
 * bpf_core_type_id_local()/_kernel() immediate; those immediates are masked, and the CO-RE
 * record that names the type is compared instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfobj/internal.h"

#define MAX_REPORTS_PER_GROUP 8		/* differences shown per section before summarizing */

struct cmp {
	struct obj *a, *b;
	struct vms_diags *d;
	size_t ndiff;
};

static void differ(struct cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vms_diag_vadd(c->d, VMS_ERROR, NULL, 0, 0, fmt, ap);
	va_end(ap);
	c->ndiff++;
}

static bool is_masked_imm(struct obj *o, const char *sec, uint32_t off)
{
	for (size_t i = 0; i < o->ncores; i++)
		if (o->cores[i].insn_off == off && !strcmp(o->cores[i].sec, sec) &&
		    (o->cores[i].kind == CORE_TYPE_ID_LOCAL ||
		     o->cores[i].kind == CORE_TYPE_ID_TARGET))
			return true;
	return false;
}

static void render_insn(const uint8_t *p, char *out, size_t n)
{
	int16_t off;
	int32_t imm;

	memcpy(&off, p + 2, 2);
	memcpy(&imm, p + 4, 4);
	snprintf(out, n, "%02x %02x %02x %02x %02x %02x %02x %02x (code 0x%02x dst r%u src r%u "
		 "off %d imm %d)", p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[0],
		 p[1] & 0xf, p[1] >> 4, off, imm);
}

static void compare_insns(struct cmp *c, const struct sec *sa, const struct sec *sb)
{
	const uint8_t *pa = sec_bytes(sa), *pb = sec_bytes(sb);
	size_t n = sec_len(sa) < sec_len(sb) ? sec_len(sa) : sec_len(sb), shown = 0, more = 0;
	char ra[96], rb[96];

	for (size_t off = 0; off + 8 <= n; off += 8) {
		if (!memcmp(pa + off, pb + off, 8))
			continue;
		/* A type-id immediate differs by construction; its CO-RE record is compared. */
		if (!memcmp(pa + off, pb + off, 4) &&
		    is_masked_imm(c->a, sa->name, off) && is_masked_imm(c->b, sb->name, off))
			continue;
		if (shown == MAX_REPORTS_PER_GROUP) {
			more++;
			continue;
		}
		render_insn(pa + off, ra, sizeof(ra));
		render_insn(pb + off, rb, sizeof(rb));
		differ(c, "section '%s' instruction %zu (offset 0x%zx): %s has %s, %s has %s",
		       sa->name, off / 8, off, c->a->label, ra, c->b->label, rb);
		shown++;
	}
	if (more)
		differ(c, "section '%s': %zu more differing instructions not shown", sa->name, more);
}

static void hex_run(const uint8_t *p, size_t len, char *out, size_t n)
{
	size_t k = 0;

	out[0] = 0;
	for (size_t i = 0; i < len && i < 16 && k + 4 < n; i++)
		k += snprintf(out + k, n - k, "%s%02x", i ? " " : "", p[i]);
	if (len > 16 && k + 5 < n)
		snprintf(out + k, n - k, " ...");
}

static void compare_bytes(struct cmp *c, const struct sec *sa, const struct sec *sb)
{
	const uint8_t *pa = sec_bytes(sa), *pb = sec_bytes(sb);
	size_t n = sec_len(sa) < sec_len(sb) ? sec_len(sa) : sec_len(sb), shown = 0, more = 0;
	char ha[64], hb[64];

	for (size_t off = 0; off < n;) {
		size_t end;

		if (pa[off] == pb[off]) {
			off++;
			continue;
		}
		for (end = off; end < n && pa[end] != pb[end]; end++)
			;
		if (shown < MAX_REPORTS_PER_GROUP) {
			hex_run(pa + off, end - off, ha, sizeof(ha));
			hex_run(pb + off, end - off, hb, sizeof(hb));
			differ(c, "section '%s' offset 0x%zx (%zu bytes differ): %s has %s, %s has %s",
			       sa->name, off, end - off, c->a->label, ha, c->b->label, hb);
			shown++;
		} else {
			more++;
		}
		off = end;
	}
	if (more)
		differ(c, "section '%s': %zu more differing byte ranges not shown", sa->name, more);
}

static void compare_sections(struct cmp *c)
{
	for (int pass = 0; pass < 2; pass++) {
		struct obj *x = pass ? c->b : c->a, *y = pass ? c->a : c->b;

		for (size_t i = 0; i < x->nsecs; i++) {
			struct sec *sx = &x->secs[i], *sy;

			if (!(sx->sh.sh_flags & SHF_ALLOC))
				continue;
			sy = obj_find_sec(y, sx->name);
			if (!sy || !(sy->sh.sh_flags & SHF_ALLOC)) {
				differ(c, "section '%s' (%llu bytes) is in %s only", sx->name,
				       (unsigned long long)sx->sh.sh_size, x->label);
				continue;
			}
			if (pass)
				continue;
			if (sx->sh.sh_type != sy->sh.sh_type || sx->sh.sh_flags != sy->sh.sh_flags)
				differ(c, "section '%s': type %u flags 0x%llx in %s, type %u flags "
				       "0x%llx in %s", sx->name, sx->sh.sh_type,
				       (unsigned long long)sx->sh.sh_flags, x->label, sy->sh.sh_type,
				       (unsigned long long)sy->sh.sh_flags, y->label);
			if (sx->sh.sh_size != sy->sh.sh_size)
				differ(c, "section '%s': %llu bytes in %s, %llu bytes in %s",
				       sx->name, (unsigned long long)sx->sh.sh_size, x->label,
				       (unsigned long long)sy->sh.sh_size, y->label);
			if (sx->sh.sh_type == SHT_NOBITS || sy->sh.sh_type == SHT_NOBITS)
				continue;
			if (sx->sh.sh_flags & SHF_EXECINSTR)
				compare_insns(c, sx, sy);
			else
				compare_bytes(c, sx, sy);
		}
	}
}

static void compare_relocations(struct cmp *c)
{
	for (size_t i = 0; i < c->a->nsecs; i++) {
		struct sec *sa = &c->a->secs[i];
		struct rel *ra, *rb;
		size_t na, nb, shown = 0, more = 0;

		if (!(sa->sh.sh_flags & SHF_ALLOC) || !obj_find_sec(c->b, sa->name))
			continue;
		ra = obj_collect_rels(c->a, sa->name, &na);
		rb = obj_collect_rels(c->b, sa->name, &nb);
		if (na != nb)
			differ(c, "section '%s': %zu relocations in %s, %zu in %s", sa->name, na,
			       c->a->label, nb, c->b->label);
		for (size_t k = 0; k < na && k < nb; k++) {
			if (ra[k].offset == rb[k].offset && ra[k].type == rb[k].type &&
			    ra[k].addend == rb[k].addend && !strcmp(ra[k].sym, rb[k].sym))
				continue;
			if (shown++ >= MAX_REPORTS_PER_GROUP) {
				more++;
				continue;
			}
			differ(c, "section '%s' relocation #%zu: %s has offset 0x%llx %s '%s'%+lld, "
			       "%s has offset 0x%llx %s '%s'%+lld", sa->name, k, c->a->label,
			       (unsigned long long)ra[k].offset, rel_type_name(ra[k].type), ra[k].sym,
			       (long long)ra[k].addend, c->b->label,
			       (unsigned long long)rb[k].offset, rel_type_name(rb[k].type), rb[k].sym,
			       (long long)rb[k].addend);
		}
		for (size_t k = nb; k < na && shown < MAX_REPORTS_PER_GROUP; k++, shown++)
			differ(c, "section '%s' relocation #%zu (offset 0x%llx %s '%s') is in %s only",
			       sa->name, k, (unsigned long long)ra[k].offset,
			       rel_type_name(ra[k].type), ra[k].sym, c->a->label);
		for (size_t k = na; k < nb && shown < MAX_REPORTS_PER_GROUP; k++, shown++)
			differ(c, "section '%s' relocation #%zu (offset 0x%llx %s '%s') is in %s only",
			       sa->name, k, (unsigned long long)rb[k].offset,
			       rel_type_name(rb[k].type), rb[k].sym, c->b->label);
		if (more)
			differ(c, "section '%s': %zu more differing relocations not shown", sa->name,
			       more);
		free(ra);
		free(rb);
	}
}

static const char *bind_name(unsigned b)
{
	return b == STB_LOCAL ? "local" : b == STB_GLOBAL ? "global" : b == STB_WEAK ? "weak" : "?";
}

static void compare_symbols(struct cmp *c)
{
	size_t na, nb, i = 0, j = 0, shown = 0, more = 0;
	struct symrec *sa = obj_collect_syms(c->a, &na), *sb = obj_collect_syms(c->b, &nb);

	while (i < na || j < nb) {
		int r = i == na ? 1 : j == nb ? -1 : symrec_cmp(&sa[i], &sb[j]);
		bool report = shown < MAX_REPORTS_PER_GROUP;

		if (r < 0) {
			if (report)
				differ(c, "symbol '%s' (section '%s') is in %s only", sa[i].name,
				       sa[i].sec, c->a->label);
			i++;
		} else if (r > 0) {
			if (report)
				differ(c, "symbol '%s' (section '%s') is in %s only", sb[j].name,
				       sb[j].sec, c->b->label);
			j++;
		} else {
			struct symrec *x = &sa[i++], *y = &sb[j++];

			if (x->value == y->value && x->size == y->size && x->type == y->type &&
			    x->bind == y->bind && x->vis == y->vis)
				continue;
			if (report)
				differ(c, "symbol '%s' (section '%s'): %s has value 0x%llx size %llu "
				       "%s type %u, %s has value 0x%llx size %llu %s type %u", x->name,
				       x->sec, c->a->label, (unsigned long long)x->value,
				       (unsigned long long)x->size, bind_name(x->bind), x->type,
				       c->b->label, (unsigned long long)y->value,
				       (unsigned long long)y->size, bind_name(y->bind), y->type);
		}
		if (report)
			shown++;
		else
			more++;
	}
	if (more)
		differ(c, "%zu more differing symbols not shown", more);
	free(sa);
	free(sb);
}


static void compare_funcs(struct cmp *c)
{
	struct obj *a = c->a, *b = c->b;
	size_t shown = 0;

	if (a->nfuncs != b->nfuncs)
		differ(c, ".BTF.ext: %zu function records in %s, %zu in %s", a->nfuncs, a->label,
		       b->nfuncs, b->label);
	for (size_t i = 0; i < a->nfuncs && i < b->nfuncs; i++) {
		struct func_rec *x = &a->funcs[i], *y = &b->funcs[i];

		if (!strcmp(x->sec, y->sec) && x->insn_off == y->insn_off && !strcmp(x->name, y->name))
			continue;
		if (shown++ == MAX_REPORTS_PER_GROUP)
			break;
		differ(c, ".BTF.ext function record #%zu: %s has '%s' at section '%s' instruction "
		       "%u, %s has '%s' at section '%s' instruction %u", i, a->label, x->name,
		       x->sec, x->insn_off / 8, b->label, y->name, y->sec, y->insn_off / 8);
	}
}

static void compare_cores(struct cmp *c)
{
	struct obj *a = c->a, *b = c->b;
	size_t shown = 0, more = 0;

	if (a->ncores != b->ncores)
		differ(c, ".BTF.ext: %zu CO-RE relocations in %s, %zu in %s", a->ncores, a->label,
		       b->ncores, b->label);
	for (size_t i = 0; i < a->ncores || i < b->ncores; i++) {
		struct core_rec *x = i < a->ncores ? &a->cores[i] : NULL;
		struct core_rec *y = i < b->ncores ? &b->cores[i] : NULL;

		if (x && y && !strcmp(x->sec, y->sec) && x->insn_off == y->insn_off &&
		    x->kind == y->kind && !strcmp(x->access, y->access) &&
		    !strcmp(x->root, y->root) && !strcmp(x->spec, y->spec))
			continue;
		if (shown == MAX_REPORTS_PER_GROUP) {
			more++;
			continue;
		}
		shown++;
		if (!x || !y) {
			struct core_rec *z = x ? x : y;

			differ(c, "CO-RE relocation #%zu (section '%s' instruction %u: %s '%s' access "
			       "'%s' on %s) is in %s only", i, z->sec, z->insn_off / 8,
			       core_kind_name(z->kind), z->spec, z->access, z->root,
			       (x ? a : b)->label);
			continue;
		}
		differ(c, "CO-RE relocation #%zu: %s has section '%s' instruction %u: %s '%s' "
		       "access '%s' on %s; %s has section '%s' instruction %u: %s '%s' access "
		       "'%s' on %s", i, a->label, x->sec, x->insn_off / 8, core_kind_name(x->kind),
		       x->spec, x->access, x->root, b->label, y->sec, y->insn_off / 8,
		       core_kind_name(y->kind), y->spec, y->access, y->root);
	}
	if (more)
		differ(c, "%zu more differing CO-RE relocations not shown", more);
}

/* The part of a rendering around position i that forms one list item: a member of a
 * map definition ("key: struct flow{12 bytes} * @128") or a parameter. Lists open with
 * " {" or " (" and separate items with ";" or ","; a brace glued to a name
 * ("flow{12 bytes}") is part of the item. */
static void segment(const char *x, size_t i, size_t *start, size_t *end)
{
	int depth = 0, inside = 0;
	size_t p, q;

	for (p = i; p > 0; p--) {
		char ch = x[p - 1];

		if (ch == '}' || ch == ')') {
			depth++;
		} else if (ch == '{' || ch == '(') {
			if (depth)
				depth--;
			else if (p >= 2 && x[p - 2] == ' ')
				break;
			else
				inside++;
		} else if (!depth && (ch == ';' || ch == ',')) {
			break;
		}
	}
	while (x[p] == ' ')
		p++;
	depth = 0;
	for (q = i; x[q]; q++) {
		char ch = x[q];

		if (ch == '{' || ch == '(') {
			depth++;
		} else if (ch == '}' || ch == ')') {
			if (depth)
				depth--;
			else if (inside)
				inside--;
			else
				break;
		} else if (!depth && !inside && (ch == ';' || ch == ',')) {
			break;
		}
	}
	*start = p;
	*end = q;
}

/* Renderings of map definitions are long: name the item that changed first, then give
 * both renderings whole. */
static void report_btf_change(struct cmp *c, const char *key, const char *x, const char *y)
{
	size_t i = 0, sx, ex, sy, ey;

	while (x[i] && x[i] == y[i])
		i++;
	segment(x, i, &sx, &ex);
	segment(y, i, &sy, &ey);
	differ(c, "BTF: %s differs at '%.*s' vs '%.*s': %s has %s; %s has %s", key,
	       (int)(ex - sx), x + sx, (int)(ey - sy), y + sy, c->a->label, x, c->b->label, y);
}

static void compare_btf(struct cmp *c)
{
	size_t na, nb, i = 0, j = 0, shown = 0, more = 0;
	struct btf_item *va = btf_render_items(c->a->btf, &na),
			 *vb = btf_render_items(c->b->btf, &nb);

	while (i < na || j < nb) {
		int r = i == na ? 1 : j == nb ? -1 : strcmp(va[i].key, vb[j].key);
		bool report = shown < MAX_REPORTS_PER_GROUP;

		if (r == 0 && !strcmp(va[i].val, vb[j].val)) {
			i++;
			j++;
			continue;
		}
		if (!report)
			more++;
		else if (r < 0)
			differ(c, "BTF: %s is in %s only (%s)", va[i].key, c->a->label, va[i].val);
		else if (r > 0)
			differ(c, "BTF: %s is in %s only (%s)", vb[j].key, c->b->label, vb[j].val);
		else
			report_btf_change(c, va[i].key, va[i].val, vb[j].val);
		shown += report;
		i += r <= 0;
		j += r >= 0;
	}
	if (more)
		differ(c, "BTF: %zu more differences not shown", more);
	btf_render_items_free(va, na);
	btf_render_items_free(vb, nb);
}

int vms_obj_compare(const char *a_path, const char *b_path, struct vms_diags *d)
{
	struct obj a = { .fd = -1 }, b = { .fd = -1 };
	struct cmp c = { &a, &b, d, 0 };
	char *la = NULL, *lb = NULL;
	int ret = -1;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "libelf is too old: %s", elf_errmsg(-1));
		return -1;
	}
	/* Both are opened before either is judged, so one call reports both bad files. */
	int ea = obj_open(&a, a_path, d);
	int eb = obj_open(&b, b_path, d);
	if (ea || eb)
		goto out;
	if (obj_load_btf(&a, d) | obj_load_btf(&b, d))
		goto out;

	if (!strcmp(vms_basename(a_path), vms_basename(b_path))) {
		la = vms_xstrdup(a_path);
		lb = vms_xstrdup(b_path);
	} else {
		la = vms_xstrdup(vms_basename(a_path));
		lb = vms_xstrdup(vms_basename(b_path));
	}
	a.label = la;
	b.label = lb;

	compare_sections(&c);
	compare_relocations(&c);
	compare_symbols(&c);
	if (!a.btf != !b.btf)
		differ(&c, "%s has BTF (.BTF section), %s has none", (a.btf ? &a : &b)->label,
		       (a.btf ? &b : &a)->label);
	if (!a.ext != !b.ext)
		differ(&c, "%s has .BTF.ext, %s has none", (a.ext ? &a : &b)->label,
		       (a.ext ? &b : &a)->label);
	compare_funcs(&c);
	compare_cores(&c);
	if (a.btf && b.btf)
		compare_btf(&c);
	ret = c.ndiff ? 1 : 0;
out:
	obj_close(&a);
	obj_close(&b);
	free(la);
	free(lb);
	return ret;
}
