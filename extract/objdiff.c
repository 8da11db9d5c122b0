/* objdiff: decides whether two BPF ELF objects are the same program as far as libbpf and
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
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "extract/extract.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

#define BTF_EXT_MAGIC 0xeB9F
#define MAX_REPORTS_PER_GROUP 8		/* differences shown per section before summarizing */
#define MAX_TYPE_DEPTH 16

enum {	/* enum bpf_core_relo_kind, spelled out: the values are ABI, the header may lag */
	CORE_FIELD_BYTE_OFFSET, CORE_FIELD_BYTE_SIZE, CORE_FIELD_EXISTS, CORE_FIELD_SIGNED,
	CORE_FIELD_LSHIFT_U64, CORE_FIELD_RSHIFT_U64, CORE_TYPE_ID_LOCAL, CORE_TYPE_ID_TARGET,
	CORE_TYPE_EXISTS, CORE_TYPE_SIZE, CORE_ENUMVAL_EXISTS, CORE_ENUMVAL_VALUE,
	CORE_TYPE_MATCHES,
};

static const char *const core_kind_names[] = {
	"field_byte_offset", "field_byte_size", "field_exists", "field_signed",
	"field_lshift_u64", "field_rshift_u64", "type_id_local", "type_id_target",
	"type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
};

struct sec {
	const char *name;
	size_t idx;
	GElf_Shdr sh;
	Elf_Data *data;		/* NULL for SHT_NOBITS or empty sections */
};

struct func_rec {
	const char *sec;
	uint32_t insn_off;
	char *name;
};

struct core_rec {
	const char *sec;
	uint32_t insn_off;
	uint32_t kind;
	const char *access;
	char *root;		/* rendered root type */
	char *spec;		/* access string rendered as a member path */
};

struct obj {
	const char *path;
	const char *label;	/* how messages name this object */
	int fd;
	Elf *elf;
	struct sec *secs;
	size_t nsecs;
	struct sec *symtab, *strtab;
	struct btf *btf;
	const uint8_t *ext;
	size_t ext_len;
	struct func_rec *funcs;
	size_t nfuncs;
	struct core_rec *cores;
	size_t ncores;
};

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

/* ---- reading the ELF ---------------------------------------------------------------- */

static struct sec *find_sec(struct obj *o, const char *name)
{
	for (size_t i = 0; i < o->nsecs; i++)
		if (!strcmp(o->secs[i].name, name))
			return &o->secs[i];
	return NULL;
}

static struct sec *sec_by_idx(struct obj *o, size_t idx)
{
	for (size_t i = 0; i < o->nsecs; i++)
		if (o->secs[i].idx == idx)
			return &o->secs[i];
	return NULL;
}

static const uint8_t *sec_bytes(const struct sec *s)
{
	return s->data && s->data->d_buf ? s->data->d_buf : NULL;
}

static size_t sec_len(const struct sec *s)
{
	return s->data && s->data->d_buf ? s->data->d_size : 0;
}

static int open_obj(struct obj *o, const char *path, struct vms_diags *d)
{
	GElf_Ehdr eh;
	size_t shstrndx, n;
	Elf_Scn *scn = NULL;

	o->path = path;
	o->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	o->elf = elf_begin(o->fd, ELF_C_READ, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "not an ELF object file");
		return -1;
	}
	if (!gelf_getehdr(o->elf, &eh) || gelf_getclass(o->elf) != ELFCLASS64) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "not a 64-bit ELF object");
		return -1;
	}
	if (eh.e_machine != EM_BPF) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0,
			     "not a BPF object: ELF machine %u, expected EM_BPF (%u)",
			     (unsigned)eh.e_machine, (unsigned)EM_BPF);
		return -1;
	}
	if (elf_getshdrstrndx(o->elf, &shstrndx) || elf_getshdrnum(o->elf, &n)) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "broken section headers: %s",
			     elf_errmsg(-1));
		return -1;
	}
	o->secs = vms_xcalloc(n ? n : 1, sizeof(*o->secs));
	while ((scn = elf_nextscn(o->elf, scn))) {
		struct sec *s = &o->secs[o->nsecs];
		const char *name;

		if (!gelf_getshdr(scn, &s->sh)) {
			vms_diag_add(d, VMS_ERROR, path, 0, 0, "broken section header: %s",
				     elf_errmsg(-1));
			return -1;
		}
		name = elf_strptr(o->elf, shstrndx, s->sh.sh_name);
		s->name = name ? name : "";
		s->idx = elf_ndxscn(scn);
		if (s->sh.sh_type != SHT_NOBITS && s->sh.sh_size) {
			s->data = elf_getdata(scn, NULL);
			if (!s->data) {
				vms_diag_add(d, VMS_ERROR, path, 0, 0,
					     "cannot read section '%s': %s", s->name, elf_errmsg(-1));
				return -1;
			}
		}
		o->nsecs++;
	}
	/* a truncated file has an ELF header announcing sections libelf cannot read; without
	 * this it would compare as an object with no sections at all */
	size_t announced = n ? n : eh.e_shnum; /* libelf says 0 when it cannot read them */
	if (announced && o->nsecs != announced - 1) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0,
			     "broken section headers: %zu announced, %zu readable (truncated?)",
			     announced - 1, o->nsecs);
		return -1;
	}
	for (size_t i = 0; i < o->nsecs; i++)
		if (o->secs[i].sh.sh_type == SHT_SYMTAB) {
			o->symtab = &o->secs[i];
			o->strtab = sec_by_idx(o, o->symtab->sh.sh_link);
			break;
		}
	return 0;
}

static void close_obj(struct obj *o)
{
	for (size_t i = 0; i < o->nfuncs; i++)
		free(o->funcs[i].name);
	for (size_t i = 0; i < o->ncores; i++) {
		free(o->cores[i].root);
		free(o->cores[i].spec);
	}
	free(o->funcs);
	free(o->cores);
	btf__free(o->btf);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	free(o->secs);
}

static size_t nsyms(struct obj *o)
{
	if (!o->symtab || !o->symtab->data || !o->symtab->sh.sh_entsize)
		return 0;
	return o->symtab->data->d_size / o->symtab->sh.sh_entsize;
}

/* The name a relocation or a symbol listing should show: section symbols are unnamed in
 * the string table and stand for their section. */
static const char *sym_name(struct obj *o, const GElf_Sym *sym)
{
	const char *name = "";

	if (o->strtab && sym->st_name)
		name = elf_strptr(o->elf, o->strtab->idx, sym->st_name);
	if ((!name || !*name) && GELF_ST_TYPE(sym->st_info) == STT_SECTION) {
		struct sec *s = sec_by_idx(o, sym->st_shndx);
		return s ? s->name : "(section ?)";
	}
	return name ? name : "(bad name)";
}

/* ---- rendering BTF types -------------------------------------------------------------- */

static void render_type(const struct btf *btf, uint32_t id, struct vms_buf *b, int depth);

static const char *btf_str(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);
	return s ? s : "(bad string)";
}

static void render_named(const struct btf *btf, const struct btf_type *t, const char *kw,
			 struct vms_buf *b)
{
	const char *name = btf_str(btf, t->name_off);

	vms_buf_printf(b, "%s %s{%u bytes}", kw, *name ? name : "(anon)", t->size);
}

static void render_proto(const struct btf *btf, const struct btf_type *t, struct vms_buf *b,
			 int depth)
{
	const struct btf_param *p = btf_params(t);
	uint16_t n = btf_vlen(t);

	render_type(btf, t->type, b, depth + 1);
	vms_buf_puts(b, " (");
	for (uint16_t i = 0; i < n; i++) {
		const char *pname = btf_str(btf, p[i].name_off);

		if (i)
			vms_buf_puts(b, ", ");
		if (!p[i].type && i == n - 1) {
			vms_buf_puts(b, "...");
			break;
		}
		render_type(btf, p[i].type, b, depth + 1);
		if (*pname)
			vms_buf_printf(b, " %s", pname);
	}
	vms_buf_puts(b, ")");
}

/* Shallow rendering: a struct is its kind, name and size (or {incomplete}), never its
 * members, so the string is small and independent of type ids and of the types that
 * surround it. */
static void render_type(const struct btf *btf, uint32_t id, struct vms_buf *b, int depth)
{
	const struct btf_type *t;

	if (id == 0) {
		vms_buf_puts(b, "void");
		return;
	}
	t = btf__type_by_id(btf, id);
	if (!t || depth > MAX_TYPE_DEPTH) {
		vms_buf_printf(b, "(bad type %u)", id);
		return;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_FLOAT:
		vms_buf_puts(b, btf_str(btf, t->name_off));
		break;
	case BTF_KIND_PTR:
		render_type(btf, t->type, b, depth + 1);
		vms_buf_puts(b, " *");
		break;
	case BTF_KIND_ARRAY:
		render_type(btf, btf_array(t)->type, b, depth + 1);
		vms_buf_printf(b, "[%u]", btf_array(t)->nelems);
		break;
	case BTF_KIND_STRUCT:
		render_named(btf, t, "struct", b);
		break;
	case BTF_KIND_UNION:
		render_named(btf, t, "union", b);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		render_named(btf, t, "enum", b);
		break;
	case BTF_KIND_FWD:
		vms_buf_printf(b, "%s %s{incomplete}", btf_kflag(t) ? "union" : "struct",
			       btf_str(btf, t->name_off));
		break;
	case BTF_KIND_TYPEDEF:
		vms_buf_printf(b, "%s=", btf_str(btf, t->name_off));
		render_type(btf, t->type, b, depth + 1);
		break;
	case BTF_KIND_CONST:
		vms_buf_puts(b, "const ");
		render_type(btf, t->type, b, depth + 1);
		break;
	case BTF_KIND_VOLATILE:
		vms_buf_puts(b, "volatile ");
		render_type(btf, t->type, b, depth + 1);
		break;
	case BTF_KIND_RESTRICT:
		vms_buf_puts(b, "restrict ");
		render_type(btf, t->type, b, depth + 1);
		break;
	case BTF_KIND_TYPE_TAG:
		vms_buf_printf(b, "__tag(%s) ", btf_str(btf, t->name_off));
		render_type(btf, t->type, b, depth + 1);
		break;
	case BTF_KIND_FUNC_PROTO:
		render_proto(btf, t, b, depth);
		break;
	case BTF_KIND_FUNC:
		vms_buf_printf(b, "%s: ", btf_str(btf, t->name_off));
		render_type(btf, t->type, b, depth + 1);
		break;
	default:
		vms_buf_printf(b, "(kind %u %s)", btf_kind(t), btf_str(btf, t->name_off));
		break;
	}
}

static char *type_string(const struct btf *btf, uint32_t id)
{
	struct vms_buf b = { 0 };

	render_type(btf, id, &b, 0);
	return vms_buf_steal(&b);
}

static uint32_t skip_mods_typedefs(const struct btf *btf, uint32_t id)
{
	for (int i = 0; i < MAX_TYPE_DEPTH; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t || !(btf_is_mod(t) || btf_is_typedef(t)))
			break;
		id = t->type;
	}
	return id;
}

/* "0:1:3" from root struct task_struct becomes "task_struct.real_parent.tgid"-style
 * paths: the first number indexes the root pointer (shown when non-zero), each next one
 * a member of a struct/union or an element of an array. Enum relocations name the
 * enumerator; type relocations have nothing to add to the root. */
static char *render_spec(const struct btf *btf, uint32_t root, uint32_t kind, const char *access)
{
	struct vms_buf b = { 0 };
	const struct btf_type *t = btf__type_by_id(btf, root);
	const char *p = access;
	char *end;
	unsigned long idx;
	uint32_t cur;

	if (!t) {
		vms_buf_printf(&b, "(bad root type %u)", root);
		return vms_buf_steal(&b);
	}
	if (kind == CORE_ENUMVAL_EXISTS || kind == CORE_ENUMVAL_VALUE) {
		const struct btf_type *e = btf__type_by_id(btf, skip_mods_typedefs(btf, root));

		idx = strtoul(access, &end, 10);
		if (e && btf_is_enum(e) && idx < btf_vlen(e))
			vms_buf_puts(&b, btf_str(btf, btf_enum(e)[idx].name_off));
		else if (e && btf_is_enum64(e) && idx < btf_vlen(e))
			vms_buf_puts(&b, btf_str(btf, btf_enum64(e)[idx].name_off));
		else
			vms_buf_printf(&b, "(enumerator #%s)", access);
		return vms_buf_steal(&b);
	}
	if (kind >= CORE_TYPE_ID_LOCAL) {
		vms_buf_puts(&b, btf_str(btf, t->name_off));
		return vms_buf_steal(&b);
	}

	vms_buf_puts(&b, *btf_str(btf, t->name_off) ? btf_str(btf, t->name_off) : "(anon)");
	idx = strtoul(p, &end, 10);
	if (end == p) {
		vms_buf_printf(&b, " (bad access string '%s')", access);
		return vms_buf_steal(&b);
	}
	if (idx)
		vms_buf_printf(&b, "[%lu]", idx);
	cur = root;
	for (p = end; *p == ':'; p = end) {
		const struct btf_type *ct;

		idx = strtoul(p + 1, &end, 10);
		if (end == p + 1)
			break;
		cur = skip_mods_typedefs(btf, cur);
		ct = btf__type_by_id(btf, cur);
		if (ct && btf_is_composite(ct) && idx < btf_vlen(ct)) {
			const struct btf_member *m = btf_members(ct) + idx;
			const char *mname = btf_str(btf, m->name_off);

			if (*mname)
				vms_buf_printf(&b, ".%s", mname);
			else
				vms_buf_printf(&b, ".(anon#%lu)", idx);
			cur = m->type;
		} else if (ct && btf_is_array(ct)) {
			vms_buf_printf(&b, "[%lu]", idx);
			cur = btf_array(ct)->type;
		} else {
			vms_buf_printf(&b, ":%lu(?)", idx);
			break;
		}
	}
	if (*p)
		vms_buf_printf(&b, " (bad access string '%s')", access);
	return vms_buf_steal(&b);
}

/* ---- .BTF and .BTF.ext ---------------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Walks one info block of .BTF.ext (func_info or core_relo): a record size, then per
 * section {name offset, count, records}. Calls fn for each record; -1 on a malformed
 * block. */
typedef int (*ext_rec_fn)(struct obj *o, const char *sec, const uint8_t *rec, uint32_t rec_size,
			  struct vms_diags *d);

static int walk_ext_block(struct obj *o, uint32_t off, uint32_t len, uint32_t min_rec,
			  const char *what, ext_rec_fn fn, struct vms_diags *d)
{
	uint32_t hdr_len = rd32(o->ext + 4);
	const uint8_t *p, *end;
	uint32_t rec_size;

	if (!len)
		return 0;
	if ((uint64_t)hdr_len + off + len > o->ext_len || len < 4) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0,
			     ".BTF.ext: %s block (offset %u, %u bytes) lies outside the section",
			     what, off, len);
		return -1;
	}
	p = o->ext + hdr_len + off;
	end = p + len;
	rec_size = rd32(p);
	p += 4;
	if (rec_size < min_rec) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0,
			     ".BTF.ext: %s record size %u, expected at least %u", what, rec_size,
			     min_rec);
		return -1;
	}
	while (p < end) {
		uint32_t name_off, num;
		const char *sec;

		if (end - p < 8) {
			vms_diag_add(d, VMS_ERROR, o->path, 0, 0, ".BTF.ext: truncated %s block",
				     what);
			return -1;
		}
		name_off = rd32(p);
		num = rd32(p + 4);
		p += 8;
		if ((uint64_t)num * rec_size > (uint64_t)(end - p)) {
			vms_diag_add(d, VMS_ERROR, o->path, 0, 0,
				     ".BTF.ext: %s block claims %u records past its end", what, num);
			return -1;
		}
		sec = btf__str_by_offset(o->btf, name_off);
		if (!sec) {
			vms_diag_add(d, VMS_ERROR, o->path, 0, 0,
				     ".BTF.ext: %s section name offset %u is not in .BTF strings",
				     what, name_off);
			return -1;
		}
		for (uint32_t i = 0; i < num; i++, p += rec_size)
			if (fn(o, sec, p, rec_size, d))
				return -1;
	}
	return 0;
}

static int add_func_rec(struct obj *o, const char *sec, const uint8_t *rec, uint32_t rec_size,
			struct vms_diags *d)
{
	uint32_t type_id = rd32(rec + 4);
	const struct btf_type *t = btf__type_by_id(o->btf, type_id);
	struct func_rec *f;

	if (!t) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0,
			     ".BTF.ext: function record in '%s' names type %u, not in .BTF", sec,
			     type_id);
		return -1;
	}
	o->funcs = vms_xrealloc(o->funcs, (o->nfuncs + 1) * sizeof(*o->funcs));
	f = &o->funcs[o->nfuncs++];
	f->sec = sec;
	f->insn_off = rd32(rec);
	f->name = vms_xstrdup(btf_str(o->btf, t->name_off));
	return 0;
}

static int add_core_rec(struct obj *o, const char *sec, const uint8_t *rec, uint32_t rec_size,
			struct vms_diags *d)
{
	uint32_t type_id = rd32(rec + 4), access_off = rd32(rec + 8);
	const char *access = btf__str_by_offset(o->btf, access_off);
	struct core_rec *c;

	if (!btf__type_by_id(o->btf, type_id) || !access) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0,
			     ".BTF.ext: CO-RE record in '%s' at offset %u names type %u / string "
			     "%u, not in .BTF", sec, rd32(rec), type_id, access_off);
		return -1;
	}
	o->cores = vms_xrealloc(o->cores, (o->ncores + 1) * sizeof(*o->cores));
	c = &o->cores[o->ncores++];
	c->sec = sec;
	c->insn_off = rd32(rec);
	c->kind = rd32(rec + 12);
	c->access = access;
	c->root = type_string(o->btf, type_id);
	c->spec = render_spec(o->btf, type_id, c->kind, access);
	return 0;
}

static int load_btf(struct obj *o, struct vms_diags *d)
{
	struct sec *s = find_sec(o, ".BTF"), *e = find_sec(o, ".BTF.ext");
	uint32_t hdr_len;

	if (s && sec_len(s)) {
		o->btf = btf__new(sec_bytes(s), sec_len(s));
		if (!o->btf) {
			vms_diag_add(d, VMS_ERROR, o->path, 0, 0, ".BTF cannot be parsed: %s",
				     strerror(errno));
			return -1;
		}
	}
	if (!e || !sec_len(e))
		return 0;
	if (!o->btf) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0, "has .BTF.ext but no .BTF");
		return -1;
	}
	o->ext = sec_bytes(e);
	o->ext_len = sec_len(e);
	if (o->ext_len < 24) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0, ".BTF.ext is truncated (%zu bytes)",
			     o->ext_len);
		return -1;
	}
	if ((o->ext[0] | o->ext[1] << 8) != BTF_EXT_MAGIC) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0,
			     ".BTF.ext: bad magic 0x%02x%02x (a big-endian object is not supported)",
			     o->ext[1], o->ext[0]);
		return -1;
	}
	if (o->ext[2] != 1) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0, ".BTF.ext: unknown version %u",
			     o->ext[2]);
		return -1;
	}
	hdr_len = rd32(o->ext + 4);
	if (hdr_len < 24 || hdr_len > o->ext_len) {
		vms_diag_add(d, VMS_ERROR, o->path, 0, 0, ".BTF.ext: bad header length %u",
			     hdr_len);
		return -1;
	}
	if (walk_ext_block(o, rd32(o->ext + 8), rd32(o->ext + 12), 8, "func_info",
			   add_func_rec, d))
		return -1;
	/* The CO-RE part of the header is optional (older compilers stop at line_info). */
	if (hdr_len >= 32 && walk_ext_block(o, rd32(o->ext + 24), rd32(o->ext + 28), 16,
					    "core_relo", add_core_rec, d))
		return -1;
	return 0;
}

/* ---- comparisons ---------------------------------------------------------------------- */

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
			sy = find_sec(y, sx->name);
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

struct rel {
	uint64_t offset;
	uint32_t type;
	int64_t addend;
	const char *sym;
};

static const char *rel_type_name(uint32_t type)
{
	switch (type) {
	case 0: return "R_BPF_NONE";
	case 1: return "R_BPF_64_64";
	case 2: return "R_BPF_64_ABS64";
	case 3: return "R_BPF_64_ABS32";
	case 4: return "R_BPF_64_NODYLD32";
	case 10: return "R_BPF_64_32";
	default: return "R_BPF_?";
	}
}

/* Relocations applying to the allocated section named target, in file order. */
static struct rel *collect_rels(struct obj *o, const char *target, size_t *n)
{
	struct rel *v = NULL;
	size_t cnt = 0, nsym = nsyms(o);

	*n = 0;
	for (size_t i = 0; i < o->nsecs; i++) {
		struct sec *rs = &o->secs[i], *ts;
		bool rela = rs->sh.sh_type == SHT_RELA;
		size_t num;

		if (rs->sh.sh_type != SHT_REL && !rela)
			continue;
		ts = sec_by_idx(o, rs->sh.sh_info);
		if (!ts || strcmp(ts->name, target) || !rs->data || !rs->sh.sh_entsize)
			continue;
		num = rs->data->d_size / rs->sh.sh_entsize;
		v = vms_xrealloc(v, (cnt + num + 1) * sizeof(*v));
		for (size_t k = 0; k < num; k++) {
			GElf_Rel r;
			GElf_Rela ra;
			GElf_Sym sym;
			struct rel *e = &v[cnt];
			size_t symi;

			if (rela) {
				if (!gelf_getrela(rs->data, (int)k, &ra))
					continue;
				e->offset = ra.r_offset;
				e->type = GELF_R_TYPE(ra.r_info);
				e->addend = ra.r_addend;
				symi = GELF_R_SYM(ra.r_info);
			} else {
				if (!gelf_getrel(rs->data, (int)k, &r))
					continue;
				e->offset = r.r_offset;
				e->type = GELF_R_TYPE(r.r_info);
				e->addend = 0;
				symi = GELF_R_SYM(r.r_info);
			}
			e->sym = "(no symbol)";
			if (symi && symi < nsym && gelf_getsym(o->symtab->data, (int)symi, &sym))
				e->sym = sym_name(o, &sym);
			cnt++;
		}
	}
	*n = cnt;
	return v;
}

static void compare_relocations(struct cmp *c)
{
	for (size_t i = 0; i < c->a->nsecs; i++) {
		struct sec *sa = &c->a->secs[i];
		struct rel *ra, *rb;
		size_t na, nb, shown = 0, more = 0;

		if (!(sa->sh.sh_flags & SHF_ALLOC) || !find_sec(c->b, sa->name))
			continue;
		ra = collect_rels(c->a, sa->name, &na);
		rb = collect_rels(c->b, sa->name, &nb);
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

struct symrec {
	const char *name, *sec;
	uint64_t value, size;
	unsigned type, bind, vis;
};

static int symrec_cmp(const void *x, const void *y)
{
	const struct symrec *a = x, *b = y;
	int r = strcmp(a->name, b->name);

	return r ? r : strcmp(a->sec, b->sec);
}

/* Symbols a loader can see: everything except file and section symbols and symbols of
 * non-allocated (debug) sections. */
static struct symrec *collect_syms(struct obj *o, size_t *n)
{
	size_t num = nsyms(o), cnt = 0;
	struct symrec *v = vms_xcalloc(num + 1, sizeof(*v));

	for (size_t i = 1; i < num; i++) {
		GElf_Sym s;
		struct sec *sec = NULL;
		unsigned type;

		if (!gelf_getsym(o->symtab->data, (int)i, &s))
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (type == STT_FILE || type == STT_SECTION)
			continue;
		if (s.st_shndx != SHN_UNDEF && s.st_shndx < SHN_LORESERVE) {
			sec = sec_by_idx(o, s.st_shndx);
			if (!sec || !(sec->sh.sh_flags & SHF_ALLOC))
				continue;
		}
		v[cnt].name = sym_name(o, &s);
		v[cnt].sec = sec ? sec->name : s.st_shndx == SHN_UNDEF ? "(undefined)" : "(special)";
		v[cnt].value = s.st_value;
		v[cnt].size = s.st_size;
		v[cnt].type = type;
		v[cnt].bind = GELF_ST_BIND(s.st_info);
		v[cnt].vis = GELF_ST_VISIBILITY(s.st_other);
		cnt++;
	}
	qsort(v, cnt, sizeof(*v), symrec_cmp);
	*n = cnt;
	return v;
}

static const char *bind_name(unsigned b)
{
	return b == STB_LOCAL ? "local" : b == STB_GLOBAL ? "global" : b == STB_WEAK ? "weak" : "?";
}

static void compare_symbols(struct cmp *c)
{
	size_t na, nb, i = 0, j = 0, shown = 0, more = 0;
	struct symrec *sa = collect_syms(c->a, &na), *sb = collect_syms(c->b, &nb);

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

static const char *core_kind(uint32_t k)
{
	return k < sizeof(core_kind_names) / sizeof(core_kind_names[0]) ? core_kind_names[k]
									 : "unknown_kind";
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
			       core_kind(z->kind), z->spec, z->access, z->root,
			       (x ? a : b)->label);
			continue;
		}
		differ(c, "CO-RE relocation #%zu: %s has section '%s' instruction %u: %s '%s' "
		       "access '%s' on %s; %s has section '%s' instruction %u: %s '%s' access "
		       "'%s' on %s", i, a->label, x->sec, x->insn_off / 8, core_kind(x->kind),
		       x->spec, x->access, x->root, b->label, y->sec, y->insn_off / 8,
		       core_kind(y->kind), y->spec, y->access, y->root);
	}
	if (more)
		differ(c, "%zu more differing CO-RE relocations not shown", more);
}

/* What libbpf and the verifier read from .BTF, as "kind name: rendering" lines. Map
 * definitions (and any struct-typed global) are shown with their members one level deep:
 * `__type(key, struct in6_addr)` is a member `struct in6_addr *key`, and the key size
 * libbpf uses is that struct's size. */
struct btf_item {
	char *key;	/* "map events" / "func handle_exec" */
	char *val;
};

static int btf_item_cmp(const void *x, const void *y)
{
	return strcmp(((const struct btf_item *)x)->key, ((const struct btf_item *)y)->key);
}

static void render_var(const struct btf *btf, uint32_t type_id, struct vms_buf *b)
{
	uint32_t id = skip_mods_typedefs(btf, type_id);
	const struct btf_type *t = btf__type_by_id(btf, id);

	render_type(btf, type_id, b, 0);
	if (!t || !btf_is_composite(t))
		return;
	vms_buf_puts(b, " {");
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = btf_members(t) + i;

		vms_buf_printf(b, "%s%s: ", i ? "; " : "", btf_str(btf, m->name_off));
		render_type(btf, m->type, b, 1);
		vms_buf_printf(b, " @%u", btf_member_bit_offset(t, i));
	}
	vms_buf_puts(b, "}");
}

static struct btf_item *collect_btf_items(struct obj *o, size_t *n)
{
	struct btf_item *v = NULL;
	size_t cnt = 0;
	uint32_t ntypes = o->btf ? btf__type_cnt(o->btf) : 0;

	for (uint32_t id = 1; id < ntypes; id++) {
		const struct btf_type *t = btf__type_by_id(o->btf, id);
		struct vms_buf b = { 0 };

		if (btf_is_func(t)) {
			/* Static functions are verified with their caller; only global and
			 * extern ones are checked against their BTF prototype. */
			if (btf_vlen(t) == BTF_FUNC_STATIC)
				continue;
			vms_buf_printf(&b, "%s ", btf_vlen(t) == BTF_FUNC_GLOBAL ? "global" : "extern");
			render_type(o->btf, t->type, &b, 0);
			v = vms_xrealloc(v, (cnt + 1) * sizeof(*v));
			v[cnt].key = vms_xasprintf("function '%s'", btf_str(o->btf, t->name_off));
			v[cnt++].val = vms_buf_steal(&b);
		} else if (btf_is_datasec(t)) {
			const struct btf_var_secinfo *vi = btf_var_secinfos(t);
			const char *sec = btf_str(o->btf, t->name_off);

			for (uint16_t i = 0; i < btf_vlen(t); i++) {
				const struct btf_type *var = btf__type_by_id(o->btf, vi[i].type);
				struct vms_buf vb = { 0 };

				if (!var)
					continue;
				if (btf_is_var(var)) {
					vms_buf_printf(&vb, "%s, offset %u, size %u: ",
						       btf_var(var)->linkage ? "global" : "static",
						       vi[i].offset, vi[i].size);
					render_var(o->btf, var->type, &vb);
				} else {
					render_type(o->btf, vi[i].type, &vb, 0);
				}
				v = vms_xrealloc(v, (cnt + 1) * sizeof(*v));
				v[cnt].key = vms_xasprintf("variable '%s' in %s",
							  btf_str(o->btf, var->name_off), sec);
				v[cnt++].val = vms_buf_steal(&vb);
			}
		}
		vms_buf_free(&b);
	}
	if (v)
		qsort(v, cnt, sizeof(*v), btf_item_cmp);
	*n = cnt;
	return v;
}

static void free_btf_items(struct btf_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].val);
	}
	free(v);
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
	struct btf_item *va = collect_btf_items(c->a, &na), *vb = collect_btf_items(c->b, &nb);

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
	free_btf_items(va, na);
	free_btf_items(vb, nb);
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
	int ea = open_obj(&a, a_path, d);
	int eb = open_obj(&b, b_path, d);
	if (ea || eb)
		goto out;
	if (load_btf(&a, d) | load_btf(&b, d))
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
	close_obj(&a);
	close_obj(&b);
	free(la);
	free(lb);
	return ret;
}
