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

/* How differences are reported: each is one short VMS_ERROR line naming what differs,
 * where, and both values, "X (full) vs Y (slim)", with the objects' labels; the long
 * renderings (a whole map definition, an instruction's bytes) follow it as VMS_NOTE
 * lines, which vms_obj_diffs_trim() keeps only when asked to be verbose. */
#define SHORT_VALUES 100	/* longer values, or fields past this, are cut short */

struct cmp {
	struct obj *a, *b;
	struct vms_diags *d;
	size_t ndiff;
};

static void differ(struct cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void detail(struct cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vms_diag_vadd(c->d, VMS_ERROR, NULL, 0, 0, fmt, ap);
	va_end(ap);
	c->ndiff++;
}

static void detail(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vms_diag_vadd(c->d, VMS_NOTE, NULL, 0, 0, fmt, ap);
	va_end(ap);
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

/* Appends "NAME X (a) vs Y (b)" to b when x and y differ, after a "; " if b holds an
 * earlier field, or only "; ..." once b is long enough. Long values (a function-pointer member's prototype) are cut to the
 * list item where they first differ, "...struct sock{incomplete} * sk...". */
static void field(struct cmp *c, struct vms_buf *b, const char *name, const char *x,
		  const char *y)
{
	size_t i = 0, sx = 0, ex = strlen(x), sy = 0, ey = strlen(y);

	if (!strcmp(x, y))
		return;
	if (b->len >= SHORT_VALUES) {	/* the line is long enough: the details have the rest */
		if (b->len < 5 || strcmp(b->data + b->len - 5, "; ..."))
			vms_buf_puts(b, "; ...");
		return;
	}
	if (ex + ey > SHORT_VALUES) {
		while (x[i] && x[i] == y[i])
			i++;
		segment(x, i, &sx, &ex);
		segment(y, i, &sy, &ey);
	}
	vms_buf_printf(b, "%s%s%s%s%.*s%s (%s) vs %s%.*s%s (%s)", b->len ? "; " : "", name,
		       *name ? " " : "", sx ? "..." : "", (int)(ex - sx), x + sx, x[ex] ? "..." : "",
		       c->a->label, sy ? "..." : "", (int)(ey - sy), y + sy, y[ey] ? "..." : "",
		       c->b->label);
}

static void fieldu(struct cmp *c, struct vms_buf *b, const char *name, const char *fmt,
		   unsigned long long x, unsigned long long y)
{
	char sx[32], sy[32];

	snprintf(sx, sizeof(sx), fmt, x);
	snprintf(sy, sizeof(sy), fmt, y);
	field(c, b, name, sx, sy);
}

/* Reports one difference "PREFIX: fields" when the fields collected in b are not empty. */
static bool differ_fields(struct cmp *c, struct vms_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool differ_fields(struct cmp *c, struct vms_buf *b, const char *fmt, ...)
{
	char *prefix;
	va_list ap;
	int rc;

	if (!b->len)
		return false;
	va_start(ap, fmt);
	rc = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	differ(c, "%s: %s", rc < 0 ? "?" : prefix, b->data);
	if (rc >= 0)
		free(prefix);
	vms_buf_free(b);
	return true;
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

#define LD_IMM64 0x18	/* BPF_LD | BPF_IMM | BPF_DW: a 16-byte instruction */

static void compare_insns(struct cmp *c, const struct sec *sa, const struct sec *sb)
{
	const uint8_t *pa = sec_bytes(sa), *pb = sec_bytes(sb);
	size_t n = sec_len(sa) < sec_len(sb) ? sec_len(sa) : sec_len(sb), len;
	char ra[128], rb[128], ha[96], hb[96];

	for (size_t off = 0; off + 8 <= n; off += len) {
		len = (pa[off] == LD_IMM64 || pb[off] == LD_IMM64) && off + 16 <= n ? 16 : 8;
		if (!memcmp(pa + off, pb + off, len))
			continue;
		/* A type-id immediate differs by construction; its CO-RE record is compared. */
		if (len == 8 && !memcmp(pa + off, pb + off, 4) &&
		    is_masked_imm(c->a, sa->name, off) && is_masked_imm(c->b, sb->name, off))
			continue;
		bpf_insn_render(pa + off, len == 16 ? pa + off + 8 : NULL, ra, sizeof(ra));
		bpf_insn_render(pb + off, len == 16 ? pb + off + 8 : NULL, rb, sizeof(rb));
		bpf_insn_hex(pa + off, ha, sizeof(ha));
		bpf_insn_hex(pb + off, hb, sizeof(hb));
		if (!strcmp(ra, rb))	/* bits the rendering does not show */
			differ(c, "section %s: instruction %zu differs in its bytes: %.23s (%s) vs "
			       "%.23s (%s)", sa->name, off / 8, ha, c->a->label, hb, c->b->label);
		else
			differ(c, "section %s: instruction %zu differs: %s (%s) vs %s (%s)", sa->name,
			       off / 8, ra, c->a->label, rb, c->b->label);
		detail(c, "%s: offset 0x%zx: %s", c->a->label, off, ha);
		detail(c, "%s: offset 0x%zx: %s", c->b->label, off, hb);
	}
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
	size_t n = sec_len(sa) < sec_len(sb) ? sec_len(sa) : sec_len(sb);
	char ha[64], hb[64];

	for (size_t off = 0; off < n;) {
		size_t end;

		if (pa[off] == pb[off]) {
			off++;
			continue;
		}
		for (end = off; end < n && pa[end] != pb[end]; end++)
			;
		hex_run(pa + off, end - off, ha, sizeof(ha));
		hex_run(pb + off, end - off, hb, sizeof(hb));
		differ(c, "section %s: %zu byte%s at offset 0x%zx differ: %s (%s) vs %s (%s)",
		       sa->name, end - off, end - off == 1 ? "" : "s", off, ha, c->a->label, hb,
		       c->b->label);
		off = end;
	}
}

static void compare_sections(struct cmp *c)
{
	for (int pass = 0; pass < 2; pass++) {
		struct obj *x = pass ? c->b : c->a, *y = pass ? c->a : c->b;

		for (size_t i = 0; i < x->nsecs; i++) {
			struct sec *sx = &x->secs[i], *sy;
			struct vms_buf f = { 0 };

			if (!(sx->sh.sh_flags & SHF_ALLOC))
				continue;
			sy = obj_find_sec(y, sx->name);
			if (!sy || !(sy->sh.sh_flags & SHF_ALLOC)) {
				differ(c, "section %s (%llu bytes) is in %s only", sx->name,
				       (unsigned long long)sx->sh.sh_size, x->label);
				continue;
			}
			if (pass)
				continue;
			fieldu(c, &f, "type", "%llu", sx->sh.sh_type, sy->sh.sh_type);
			fieldu(c, &f, "flags", "0x%llx", sx->sh.sh_flags, sy->sh.sh_flags);
			fieldu(c, &f, "size", "%llu", sx->sh.sh_size, sy->sh.sh_size);
			differ_fields(c, &f, "section %s", sx->name);
			if (sx->sh.sh_type == SHT_NOBITS || sy->sh.sh_type == SHT_NOBITS)
				continue;
			if (sx->sh.sh_flags & SHF_EXECINSTR)
				compare_insns(c, sx, sy);
			else
				compare_bytes(c, sx, sy);
		}
	}
}

static char *render_rel(const struct rel *r)
{
	return vms_xasprintf("%s '%s'%+lld at 0x%llx", rel_type_name(r->type), r->sym,
			     (long long)r->addend, (unsigned long long)r->offset);
}

static void compare_relocations(struct cmp *c)
{
	for (size_t i = 0; i < c->a->nsecs; i++) {
		struct sec *sa = &c->a->secs[i];
		struct rel *ra, *rb;
		size_t na, nb;
		struct vms_buf f = { 0 };

		if (!(sa->sh.sh_flags & SHF_ALLOC) || !obj_find_sec(c->b, sa->name))
			continue;
		ra = obj_collect_rels(c->a, sa->name, &na);
		rb = obj_collect_rels(c->b, sa->name, &nb);
		fieldu(c, &f, "relocations:", "%llu", na, nb);
		differ_fields(c, &f, "section %s", sa->name);
		for (size_t k = 0; k < na || k < nb; k++) {
			char *x = k < na ? render_rel(&ra[k]) : NULL;
			char *y = k < nb ? render_rel(&rb[k]) : NULL;

			if (x && y) {
				char *what = vms_xasprintf("relocation %zu:", k);

				field(c, &f, what, x, y);
				differ_fields(c, &f, "section %s", sa->name);
				free(what);
			} else {
				differ(c, "section %s: relocation %zu (%s) is in %s only", sa->name, k,
				       x ? x : y, (x ? c->a : c->b)->label);
			}
			free(x);
			free(y);
		}
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
	size_t na, nb, i = 0, j = 0;
	struct symrec *sa = obj_collect_syms(c->a, &na), *sb = obj_collect_syms(c->b, &nb);

	while (i < na || j < nb) {
		int r = i == na ? 1 : j == nb ? -1 : symrec_cmp(&sa[i], &sb[j]);
		struct vms_buf f = { 0 };

		if (r < 0) {
			differ(c, "symbol '%s' (section %s) is in %s only", sa[i].name, sa[i].sec,
			       c->a->label);
			i++;
		} else if (r > 0) {
			differ(c, "symbol '%s' (section %s) is in %s only", sb[j].name, sb[j].sec,
			       c->b->label);
			j++;
		} else {
			struct symrec *x = &sa[i++], *y = &sb[j++];

			fieldu(c, &f, "value", "0x%llx", x->value, y->value);
			fieldu(c, &f, "size", "%llu", x->size, y->size);
			field(c, &f, "binding", bind_name(x->bind), bind_name(y->bind));
			fieldu(c, &f, "type", "%llu", x->type, y->type);
			fieldu(c, &f, "visibility", "%llu", x->vis, y->vis);
			differ_fields(c, &f, "symbol '%s' (section %s)", x->name, x->sec);
		}
	}
	free(sa);
	free(sb);
}

static char *render_func_rec(const struct func_rec *f)
{
	return vms_xasprintf("'%s' at %s insn %u", f->name, f->sec, f->insn_off / 8);
}

static void compare_funcs(struct cmp *c)
{
	struct obj *a = c->a, *b = c->b;
	struct vms_buf f = { 0 };

	fieldu(c, &f, "function records:", "%llu", a->nfuncs, b->nfuncs);
	differ_fields(c, &f, ".BTF.ext");
	for (size_t i = 0; i < a->nfuncs && i < b->nfuncs; i++) {
		char *x = render_func_rec(&a->funcs[i]), *y = render_func_rec(&b->funcs[i]);

		field(c, &f, "", x, y);
		differ_fields(c, &f, ".BTF.ext: function record %zu", i);
		free(x);
		free(y);
	}
}

/* The function (program or subprogram) an instruction of section sec belongs to: the
 * function record with the greatest start at or before it. */
static const char *func_at(const struct obj *o, const char *sec, uint32_t insn_off)
{
	const struct func_rec *best = NULL;

	for (size_t i = 0; i < o->nfuncs; i++)
		if (!strcmp(o->funcs[i].sec, sec) && o->funcs[i].insn_off <= insn_off &&
		    (!best || o->funcs[i].insn_off > best->insn_off))
			best = &o->funcs[i];
	return best ? best->name : "?";
}

static char *render_core(const struct obj *o, const struct core_rec *r)
{
	return vms_xasprintf("%s insn %u (prog '%s'): %s '%s' access \"%s\" on %s", r->sec,
			     r->insn_off / 8, func_at(o, r->sec, r->insn_off),
			     core_kind_name(r->kind), r->spec, r->access, r->root);
}

static void compare_cores(struct cmp *c)
{
	struct obj *a = c->a, *b = c->b;
	struct vms_buf f = { 0 };

	fieldu(c, &f, "CO-RE relocations:", "%llu", a->ncores, b->ncores);
	differ_fields(c, &f, ".BTF.ext");
	for (size_t i = 0; i < a->ncores || i < b->ncores; i++) {
		struct core_rec *x = i < a->ncores ? &a->cores[i] : NULL;
		struct core_rec *y = i < b->ncores ? &b->cores[i] : NULL;
		char *rx = x ? render_core(a, x) : NULL, *ry = y ? render_core(b, y) : NULL;

		if (!x || !y) {
			struct core_rec *z = x ? x : y;
			struct obj *o = x ? a : b;

			differ(c, ".BTF.ext: CO-RE relocation %zu of prog '%s' (%s %s) is in %s only",
			       i, func_at(o, z->sec, z->insn_off), core_kind_name(z->kind), z->spec,
			       o->label);
			detail(c, "%s: %s", o->label, x ? rx : ry);
		} else if (strcmp(rx, ry)) {
			char ix[16], iy[16], ax[256], ay[256];

			snprintf(ix, sizeof(ix), "%u", x->insn_off / 8);
			snprintf(iy, sizeof(iy), "%u", y->insn_off / 8);
			snprintf(ax, sizeof(ax), "\"%s\" %s", x->access, x->spec);
			snprintf(ay, sizeof(ay), "\"%s\" %s", y->access, y->spec);
			field(c, &f, "section", x->sec, y->sec);
			field(c, &f, "insn", ix, iy);
			field(c, &f, "kind", core_kind_name(x->kind), core_kind_name(y->kind));
			field(c, &f, "access", ax, ay);
			field(c, &f, "root", x->root, y->root);
			if (!differ_fields(c, &f, ".BTF.ext: CO-RE relocation %zu of prog '%s'", i,
					   func_at(a, x->sec, x->insn_off)))
				differ(c, ".BTF.ext: CO-RE relocation %zu of prog '%s' differs", i,
				       func_at(a, x->sec, x->insn_off));
			detail(c, "%s: %s", a->label, rx);
			detail(c, "%s: %s", b->label, ry);
		}
		free(rx);
		free(ry);
	}
}

static const struct btf_part *find_part(const struct btf_item *it, const char *name)
{
	for (size_t k = 0; k < it->nparts; k++)
		if (!strcmp(it->parts[k].name, name))
			return &it->parts[k];
	return NULL;
}

static void render_off(int64_t x, int64_t y, char *sx, char *sy, size_t n)
{
	bool bytes = x % 8 == 0 && y % 8 == 0;

	snprintf(sx, n, "%lld", (long long)(bytes ? x / 8 : x));
	snprintf(sy, n, "%lld", (long long)(bytes ? y / 8 : y));
}

/* One BTF item (a variable, a function) whose renderings differ: one line per member or
 * parameter that differs, found by name (parameters by position), then the two whole
 * renderings as details. */
static void compare_btf_item(struct cmp *c, const struct btf_item *x, const struct btf_item *y)
{
	size_t before = c->ndiff;
	struct vms_buf f = { 0 };
	char ox[24], oy[24];

	for (size_t k = 0; k < x->nparts; k++) {
		const struct btf_part *px = &x->parts[k], *py = find_part(y, px->name);
		const char *sep = *px->name ? ": " : "";

		if (!py) {
			differ(c, ".BTF: %s: %s (%s) is in %s only", x->key, px->name, px->type,
			       c->a->label);
			continue;
		}
		field(c, &f, "", px->type, py->type);
		differ_fields(c, &f, ".BTF: %s%s%s", x->key, sep, px->name);
		if (px->bit_off != py->bit_off) {
			bool bytes = px->bit_off % 8 == 0 && py->bit_off % 8 == 0;

			render_off(px->bit_off, py->bit_off, ox, oy, sizeof(ox));
			field(c, &f, bytes ? "offset" : "bit offset", ox, oy);
			differ_fields(c, &f, ".BTF: %s: %s", x->key, px->name);
		}
	}
	for (size_t k = 0; k < y->nparts; k++)
		if (!find_part(x, y->parts[k].name))
			differ(c, ".BTF: %s: %s (%s) is in %s only", y->key, y->parts[k].name,
			       y->parts[k].type, c->b->label);
	if (c->ndiff == before)	/* the same pieces in another order */
		differ(c, ".BTF: %s: members in another order", x->key);
	detail(c, "%s: %s: %s", c->a->label, x->key, x->val);
	detail(c, "%s: %s: %s", c->b->label, y->key, y->val);
}

static void compare_btf(struct cmp *c)
{
	size_t na, nb, i = 0, j = 0;
	struct btf_item *va = btf_render_items(c->a->btf, &na),
			 *vb = btf_render_items(c->b->btf, &nb);

	while (i < na || j < nb) {
		int r = i == na ? 1 : j == nb ? -1 : strcmp(va[i].key, vb[j].key);

		if (r < 0) {
			differ(c, ".BTF: %s is in %s only", va[i].key, c->a->label);
			detail(c, "%s: %s: %s", c->a->label, va[i].key, va[i].val);
		} else if (r > 0) {
			differ(c, ".BTF: %s is in %s only", vb[j].key, c->b->label);
			detail(c, "%s: %s: %s", c->b->label, vb[j].key, vb[j].val);
		} else if (strcmp(va[i].val, vb[j].val)) {
			compare_btf_item(c, &va[i], &vb[j]);
		}
		i += r <= 0;
		j += r >= 0;
	}
	btf_render_items_free(va, na);
	btf_render_items_free(vb, nb);
}

/* Named structs and unions, complete or forward-declared. The items above see a type only
 * one level deep (what a map or a global function shows); but clang emits complete every
 * struct it reaches in a prototype or a global's type, however deep, and a slim header
 * that left one opaque changes the .BTF the kernel is given. So every named record is
 * compared by presence and completeness (its layout, when complete on both sides, matters
 * through the items and CO-RE records already compared). */
struct named {
	char *key;	/* "struct sk_buff" */
	int complete;
	uint32_t size;
};

static int named_cmp(const void *x, const void *y)
{
	return strcmp(((const struct named *)x)->key, ((const struct named *)y)->key);
}

static struct named *named_records(const struct btf *btf, size_t *n)
{
	*n = 0;
	uint32_t count = btf__type_cnt(btf);
	struct named *v = vms_xcalloc(count ? count : 1, sizeof(*v));
	for (uint32_t id = 1; id < count; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		int is_fwd = btf_is_fwd(t), is_union = is_fwd ? btf_kflag(t) : btf_is_union(t);
		if (!t || !t->name_off || !(is_fwd || btf_is_struct(t) || btf_is_union(t)))
			continue;
		v[*n].key = vms_xasprintf("%s %s", is_union ? "union" : "struct",
					  btf_render_str(btf, t->name_off));
		v[*n].complete = !is_fwd;
		v[*n].size = is_fwd ? 0 : t->size;
		(*n)++;
	}
	qsort(v, *n, sizeof(*v), named_cmp);
	/* a name may come twice (a forward declaration and the definition): keep the
	 * definition, as BTF's readers resolve it */
	size_t w = 0;
	for (size_t i = 0; i < *n; i++) {
		if (w && !strcmp(v[w - 1].key, v[i].key)) {
			if (v[i].complete && !v[w - 1].complete)
				v[w - 1].complete = 1, v[w - 1].size = v[i].size;
			free(v[i].key);
			continue;
		}
		v[w++] = v[i];
	}
	*n = w;
	return v;
}

static void compare_named_records(struct cmp *c)
{
	size_t na, nb, i = 0, j = 0;
	struct named *va = named_records(c->a->btf, &na), *vb = named_records(c->b->btf, &nb);
	while (i < na || j < nb) {
		int r = i == na ? 1 : j == nb ? -1 : strcmp(va[i].key, vb[j].key);
		if (r < 0)
			differ(c, ".BTF: %s is in %s only", va[i].key, c->a->label);
		else if (r > 0)
			differ(c, ".BTF: %s is in %s only", vb[j].key, c->b->label);
		else if (va[i].complete != vb[j].complete)
			differ(c, ".BTF: %s: %s (%s) vs %s (%s)", va[i].key,
			       va[i].complete ? "complete" : "forward declaration", c->a->label,
			       vb[j].complete ? "complete" : "forward declaration", c->b->label);
		i += r <= 0;
		j += r >= 0;
	}
	for (size_t k = 0; k < na; k++)
		free(va[k].key);
	for (size_t k = 0; k < nb; k++)
		free(vb[k].key);
	free(va), free(vb);
}

/* How an object is named in messages: its file name without ".o" ("full" and "slim"
 * for verify's full.o and slim.o); when both have the same name, the shortest ends of
 * the paths that tell them apart ("k618/prog.o" and "k61/prog.o"). */
static char *label_of(const char *path, const char *other)
{
	const char *base = vms_basename(path);
	size_t n = strlen(base), i = strlen(path), j = strlen(other);

	if (strcmp(base, vms_basename(other))) {
		if (n > 2 && !strcmp(base + n - 2, ".o"))
			n -= 2;
		return vms_xasprintf("%.*s", (int)n, base);
	}
	/* walk back over the common end, then to the start of the component that differs */
	while (i && j && path[i - 1] == other[j - 1])
		i--, j--;
	if (!i || !j)	/* one path ends the other ("x.o", "a/x.o"): both whole */
		return vms_xstrdup(path);
	while (i && path[i - 1] != '/')
		i--;
	return vms_xstrdup(path + i);
}

int vms_obj_compare(const char *a_path, const char *b_path, struct vms_diags *d)
{
	struct obj a = { .fd = -1 }, b = { .fd = -1 };
	struct cmp c = { &a, &b, d, 0 };
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
	a.label = label_of(a_path, b_path);
	b.label = label_of(b_path, a_path);

	compare_sections(&c);
	compare_relocations(&c);
	compare_symbols(&c);
	if (!a.btf != !b.btf)
		differ(&c, ".BTF is in %s only", (a.btf ? &a : &b)->label);
	if (!a.ext != !b.ext)
		differ(&c, ".BTF.ext is in %s only", (a.ext ? &a : &b)->label);
	compare_funcs(&c);
	compare_cores(&c);
	if (a.btf && b.btf) {
		compare_btf(&c);
		compare_named_records(&c);
	}
	ret = c.ndiff ? 1 : 0;
out:
	free((char *)a.label);
	free((char *)b.label);
	obj_close(&a);
	obj_close(&b);
	return ret;
}

/* A note belongs to the error before it (as gcc's "note:" lines do); notes before the
 * first error stand on their own and are kept. */
size_t vms_obj_diffs_trim(struct vms_diags *d, size_t max, int verbose)
{
	size_t w = 0, errors = 0;
	int owner = -1;	/* -1 no error yet, 0 the last error was dropped, 1 kept */

	for (size_t r = 0; r < d->n; r++) {
		struct vms_diag *g = &d->v[r];
		bool keep;

		if (g->sev == VMS_ERROR) {
			keep = ++errors <= max;
			owner = keep;
		} else {
			keep = owner < 0 || (owner == 1 && (verbose || g->sev != VMS_NOTE));
		}
		if (keep) {
			d->v[w++] = *g;
		} else {
			free(g->file);
			free(g->msg);
		}
	}
	d->n = w;
	if (errors > max)
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "... and %zu more difference%s",
			     errors - max, errors - max == 1 ? "" : "s");
	return errors;
}
