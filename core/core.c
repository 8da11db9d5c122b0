/* core: each CO-RE relocation of an object resolved against each target BTF the way
 * libbpf's loader does it (bpf_object__relocate_core → bpf_core_resolve_relo):
 * candidates are the target's types of the same kind whose names agree up to a
 * "___flavour" suffix (bpf_core_add_cands), then bpf_core_calc_relo_insn matches the
 * access against each candidate and computes what the instruction gets, or poisons it.
 * Only the bookkeeping around those calls lives here: which function and source line a
 * relocation belongs to, and whether it is dead code there (reach.c). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/libbpf_private.h"
#include "core/reach.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

int vms_core_available(const char **why)
{
	if (why)
		*why = NULL;
	return 1;
}

/* ---- libbpf's messages: the last warning explains a failed call ---- */

static char last_msg[512];

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	size_t n = strlen(last_msg);
	while (n && (last_msg[n - 1] == '\n' || last_msg[n - 1] == '.'))
		last_msg[--n] = 0;
	return 0;
}

static const char *take_msg(void)
{
	return last_msg[0] ? last_msg : "no details";
}

/* ---- the object ---- */

struct object {
	int fd;
	Elf *elf;
	struct btf *btf;
	struct btf_ext *ext;
};

static void object_close(struct object *o)
{
	btf_ext__free(o->ext);
	btf__free(o->btf);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
}

static Elf_Data *find_section(Elf *elf, const char *want)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, want)) {
			Elf_Data *data = elf_getdata(scn, NULL);
			return data && data->d_buf && data->d_size ? data : NULL;
		}
	}
	return NULL;
}

static int object_open(struct object *o, const char *path, struct vms_diags *d)
{
	GElf_Ehdr eh;
	Elf_Data *btf, *ext;

	o->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	o->elf = elf_begin(o->fd, ELF_C_READ, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF || !gelf_getehdr(o->elf, &eh) ||
	    gelf_getclass(o->elf) != ELFCLASS64) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "not a BPF object (not a 64-bit ELF file)");
		return -1;
	}
	if (eh.e_machine != EM_BPF) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0,
			     "not a BPF object (ELF machine %u, expected %u)", eh.e_machine,
			     EM_BPF);
		return -1;
	}
	btf = find_section(o->elf, ".BTF");
	if (!btf) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0,
			     "has no .BTF section: CO-RE needs an object compiled with -g");
		return -1;
	}
	last_msg[0] = 0;
	o->btf = btf__new(btf->d_buf, btf->d_size);
	if (!o->btf) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, ".BTF cannot be read: %s", take_msg());
		return -1;
	}
	ext = find_section(o->elf, ".BTF.ext");
	if (!ext)
		return 0;	/* no .BTF.ext: no CO-RE relocation */
	if (ext->d_size > UINT32_MAX) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, ".BTF.ext is too large");
		return -1;
	}
	/* libbpf's own parser checks the header, every block and record size */
	last_msg[0] = 0;
	o->ext = btf_ext__new(ext->d_buf, (__u32)ext->d_size);
	if (!o->ext) {
		o->ext = NULL;
		vms_diag_add(d, VMS_ERROR, path, 0, 0, ".BTF.ext cannot be read: %s", take_msg());
		return -1;
	}
	return 0;
}

static const char *str_at(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);
	return s ? s : "";
}

/* The records of an info block (func_info, line_info) in section sec around
 * instruction byte offset off: the last one at or before it (*before) and the first one
 * after it (*after), either NULL. Records are read within the block bounds
 * btf_ext__new() checked. */
static void around_rec(const struct btf *btf, const struct btf_ext_info *seg, const char *sec,
		       uint32_t off, int lines, const void **before, const void **after)
{
	const struct btf_ext_info_sec *s;
	uint32_t boff = 0, aoff = 0;

	*before = *after = NULL;
	/* btf_ext__new() refuses records shorter than these; checked again, since they
	 * are read as such */
	if (!seg->info || seg->rec_size < (lines ? sizeof(struct bpf_line_info_min)
						 : sizeof(struct bpf_func_info_min)))
		return;
	for_each_btf_ext_sec(seg, s) {
		const uint8_t *rec;
		uint32_t i;

		if (strcmp(str_at(btf, s->sec_name_off), sec))
			continue;
		for_each_btf_ext_rec(seg, s, i, rec) {
			uint32_t roff;
			memcpy(&roff, rec, 4);
			/* line 0: code clang attributes to no line (spills, prologues) */
			if (lines && ((const struct bpf_line_info_min *)rec)->line_col >> 10 == 0)
				continue;
			if (roff <= off && (!*before || roff >= boff)) {
				*before = rec;
				boff = roff;
			} else if (roff > off && (!*after || roff < aoff)) {
				*after = rec;
				aoff = roff;
			}
		}
	}
}

static int is_exists_kind(uint32_t k);

/* Line n (1-based) of a source file read whole, or NULL; *len its length. */
static const char *source_line(const char *text, int n, size_t *len)
{
	const char *p = text;
	for (int i = 1; p && i < n; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	const char *e = strchr(p, '\n');
	*len = e ? (size_t)(e - p) : strlen(p);
	return p;
}

static int is_ident(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Column (1-based) of name as a whole identifier in line, or 0. */
static int find_word(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (!n)
		return 0;
	for (size_t i = 0; i + n <= len; i++) {
		if (memcmp(line + i, name, n))
			continue;
		int lb = i > 0 && is_ident(line[i - 1]);
		int rb = i + n < len && is_ident(line[i + n]);
		if (!lb && !rb)
			return (int)i + 1;
	}
	return 0;
}

/* Where a relocation is in the source. clang gives the instruction that receives a
 * relocated constant no line record of its own: it is materialized next to its use,
 * so the records around it can be off by a line or two:
 *
 *	; line 31: else if (bpf_core_field_exists(struct inode___old, i_ctime))
 *	21: if r1 == 0 goto +7
 *	22: r1 = 0			<- relocation for i_ctime.tv_sec (line 32)
 *	; line 33: (the next record)
 *
 * So the line is the one between the record before and the record after that names
 * what the relocation is about (its last member, enumerator or type name), the record
 * after's line first (the use usually follows); without the source or a match, the
 * record before's position. The constant may also be hoisted into the statement
 * before its own, so the next few lines are tried last. */
static void place(const char *src, const struct btf *btf, const struct bpf_line_info_min *b,
		  const struct bpf_line_info_min *a, const char *name, int exists, int *line,
		  int *col)
{
	*line = b ? (int)(b->line_col >> 10) : a ? (int)(a->line_col >> 10) : 0;
	*col = b ? (int)(b->line_col & 0x3ff) : a ? (int)(a->line_col & 0x3ff) : 0;
	if (!src || !name || !*name)
		return;
	int lo = b ? (int)(b->line_col >> 10) : 0, hi = a ? (int)(a->line_col >> 10) : 0;
	int order[28], n = 0, last;
	if (hi)
		order[n++] = hi;
	if (lo && hi >= lo && hi - lo < 20)
		for (int l = lo; l <= hi; l++)
			order[n++] = l;
	else if (lo)
		order[n++] = lo;
	/* constants are also hoisted above the statement before their use */
	last = hi > lo ? hi : lo;
	for (int l = last + 1; l <= last + 3; l++)
		order[n++] = l;
	/* an access and the existence check guarding it name the same member: an exists
	 * relocation prefers the line with the check, any other the line without one */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			size_t len;
			const char *text = source_line(src, order[i], &len);
			int c = text ? find_word(text, len, name) : 0;
			if (c && !pass && (memmem(text, len, "exists", 6) != NULL) != exists)
				c = 0;
			if (c) {
				*line = order[i];
				*col = c;
				return;
			}
		}
}

/* What the source says a relocation is about: the last member named by the access, the
 * enumerator, or the type's name. */
static const char *subject_name(const struct btf *btf, const struct bpf_core_relo *r,
				const struct bpf_core_spec *spec)
{
	for (int i = spec->len - 1; i >= 0; i--)
		if (spec->spec[i].name && *spec->spec[i].name)
			return spec->spec[i].name;
	const struct btf_type *t = btf__type_by_id(btf, r->type_id);
	return t ? str_at(btf, t->name_off) : NULL;
}

/* ---- one relocation ---- */

struct relo {
	const char *sec;
	struct bpf_core_relo r;
};

static int is_field_kind(uint32_t k)
{
	return k <= BPF_CORE_FIELD_RSHIFT_U64;
}

static int is_exists_kind(uint32_t k)
{
	return k == BPF_CORE_FIELD_EXISTS || k == BPF_CORE_TYPE_EXISTS ||
	       k == BPF_CORE_ENUMVAL_EXISTS || k == BPF_CORE_TYPE_MATCHES;
}

static const char *const kind_names[] = {
	"field_byte_offset", "field_byte_size", "field_exists", "field_signed",
	"field_lshift_u64", "field_rshift_u64", "type_id_local", "type_id_target",
	"type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
};

static const char *kind_name(uint32_t k)
{
	return k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "unknown";
}

static const char *target_label(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* The first member on the access path that the target lacks, and the target's members
 * that look like it renamed (one name a prefix of the other: i_ctime / i_ctime_sec),
 * "a, b" (owned; NULL when nothing on the path is missing or nothing looks alike).
 * Containers are the target's structs and unions with the local one's name up to a
 * "___flavour" suffix; anonymous ones are skipped (their members are the parent's). */
static char *near_names(const struct btf *local, const struct bpf_core_spec *spec,
			const struct btf *targ, const char **missing)
{
	uint32_t n = btf__type_cnt(targ);

	*missing = NULL;
	for (int k = 0; k < spec->len; k++) {
		const struct bpf_core_accessor *acc = &spec->spec[k];
		const struct btf_type *lt = acc->name ? btf__type_by_id(local, acc->type_id) : NULL;
		const char *lname = lt ? str_at(local, lt->name_off) : "";
		if (!*lname)
			continue;
		size_t ess = bpf_core_essential_name_len(lname), want = strlen(acc->name);
		char *out = NULL;
		int found = 0;
		for (uint32_t id = 1; id < n && !found; id++) {
			const struct btf_type *t = btf__type_by_id(targ, id);
			if (!t || btf_kind(t) != btf_kind(lt) || !btf_is_composite(t))
				continue;
			const char *tname = str_at(targ, t->name_off);
			if (strlen(tname) != ess || strncmp(tname, lname, ess))
				continue;
			const struct btf_member *m = btf_members(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
				const char *mn = str_at(targ, m->name_off);
				size_t ml = strlen(mn);
				if (!strcmp(mn, acc->name)) {
					found = 1;
					break;
				}
				if (!ml || strncmp(mn, acc->name, ml < want ? ml : want))
					continue;
				char *next = vms_xasprintf("%s%s%s", out ? out : "", out ? ", " : "", mn);
				free(out);
				out = next;
			}
		}
		if (!found) {
			*missing = acc->name;
			return out;
		}
		free(out);
	}
	return NULL;
}

/* The candidates of one local root type in one target, found once (libbpf's loader
 * keeps the same cache, per object): finding them is a scan of every target type. */
struct cand_entry {
	uint32_t type_id;
	const struct btf *targ;
	struct bpf_core_cand_list *cands;
	int err;
};

struct cand_cache {
	struct cand_entry *v;
	size_t n;
};

static const struct cand_entry *find_cands(struct cand_cache *cache, const struct btf *local,
					   uint32_t type_id, const struct btf *targ)
{
	for (size_t i = 0; i < cache->n; i++)
		if (cache->v[i].type_id == type_id && cache->v[i].targ == targ)
			return &cache->v[i];
	cache->v = vms_xrealloc(cache->v, (cache->n + 1) * sizeof(*cache->v));
	struct cand_entry *e = &cache->v[cache->n++];
	const struct btf_type *lt = btf__type_by_id(local, type_id);
	const char *name = lt ? str_at(local, lt->name_off) : "";
	struct bpf_core_cand lc = { .btf = local, .id = type_id };

	e->type_id = type_id;
	e->targ = targ;
	e->cands = vms_xcalloc(1, sizeof(*e->cands));
	if (!*name)
		e->err = -EINVAL;	/* libbpf refuses anonymous root types the same way */
	else
		e->err = bpf_core_add_cands(&lc, bpf_core_essential_name_len(name), targ,
					    "vmlinux", 1, e->cands);
	return e;
}

static void cand_cache_free(struct cand_cache *cache)
{
	for (size_t i = 0; i < cache->n; i++)
		bpf_core_free_cands(cache->v[i].cands);
	free(cache->v);
}

static void resolve_one(struct cand_cache *cache, const struct object *o, const struct relo *rl,
			unsigned idx,
			const char *func, const struct btf *targ, const char *targ_path,
			struct vms_core_result *res)
{
	const struct bpf_core_relo *r = &rl->r;
	const char *label = target_label(targ_path);
	struct bpf_core_spec specs[3], local_spec;
	struct bpf_core_relo_res out;
	struct bpf_core_cand_list *cands = NULL;
	char buf[512] = "";
	int err = 0;

	memset(specs, 0, sizeof(specs));
	memset(&out, 0, sizeof(out));
	memset(&local_spec, 0, sizeof(local_spec));
	last_msg[0] = 0;
	/* libbpf's loader checks this before its engine, which trusts the id */
	if (!btf__type_by_id(o->btf, r->type_id) || !btf__name_by_offset(o->btf, r->access_str_off)) {
		res->spec = vms_xasprintf("[%u] ?", r->type_id);
		res->status = VMS_CORE_FAILED;
		res->message = vms_xasprintf("%s: the relocation names type %u or string %u, not "
					     "in the object's .BTF (a damaged object)", label,
					     r->type_id, r->access_str_off);
		return;
	}
	if (bpf_core_parse_spec(func, o->btf, r, &local_spec) == 0)
		bpf_core_format_spec(buf, sizeof(buf), &local_spec);
	else
		snprintf(buf, sizeof(buf), "[%u] %s", r->type_id, str_at(o->btf, r->access_str_off));
	res->spec = vms_xstrdup(buf);

	if (r->kind != BPF_CORE_TYPE_ID_LOCAL) {
		const struct cand_entry *c = find_cands(cache, o->btf, r->type_id, targ);
		err = c->err;
		if (!err) {	/* the engine narrows the list in place: it gets a copy */
			cands = vms_xcalloc(1, sizeof(*cands));
			cands->len = c->cands->len;
			cands->cands = vms_xmalloc((size_t)(cands->len ? cands->len : 1) *
						   sizeof(*cands->cands));
			if (cands->len)	/* an empty list has no array at all */
				memcpy(cands->cands, c->cands->cands,
				       (size_t)cands->len * sizeof(*cands->cands));
		}
	}
	if (!err)
		err = bpf_core_calc_relo_insn(func, r, (int)idx, o->btf, cands, specs, &out);
	bpf_core_free_cands(cands);

	if (err) {
		res->status = VMS_CORE_FAILED;
		res->message = vms_xasprintf("%s: %s cannot be relocated: libbpf fails the load (%s)",
					     label, res->spec, take_msg());
		return;
	}
	res->local_val = out.orig_val;
	if (!out.poison) {
		res->status = VMS_CORE_RESOLVED;
		res->value = out.new_val;
		return;
	}
	res->status = VMS_CORE_FAILED;
	res->message = vms_xasprintf("%s: %s has no match in this kernel's BTF", label, res->spec);
	if (is_field_kind(r->kind)) {
		const char *field = NULL;
		char *near = near_names(o->btf, &local_spec, targ, &field);
		if (near)
			res->hint = vms_xasprintf(
				"%s has %s instead of %s: read it through a 'struct NAME___flavour' "
				"naming it so, chosen with bpf_core_field_exists()", label, near,
				field);
		else if (field)
			res->hint = vms_xasprintf("%s has no member %s there: guard the access with "
						  "bpf_core_field_exists(), or read this kernel's "
						  "layout through a 'struct NAME___flavour'", label,
						  field);
		else
			res->hint = vms_xstrdup("guard the access with bpf_core_field_exists() on the "
						"same field, or read this kernel's layout through a "
						"'struct NAME___flavour'");
		free(near);
	} else if (r->kind == BPF_CORE_ENUMVAL_VALUE) {
		res->hint = vms_xstrdup("guard it with bpf_core_enum_value_exists()");
	} else {
		res->hint = vms_xstrdup("guard it with bpf_core_type_exists()");
	}
}

/* Which check to name for a guarded access (whether it is guarded is reach.c's
 * answer): an existence check in the same function, on the same access, that says
 * "absent" on this target, as in
 *
 *	if (bpf_core_field_exists(t->f))	// field_exists, same type and access
 *		x = BPF_CORE_READ(t, f);	// field_byte_offset: poisoned but unreachable
 *
 * A field access is guarded by field_exists, a type's by type_exists or type_matches,
 * an enum value's by enumval_exists, each on the same root type and access string. */
static int guard_kind_for(uint32_t k, uint32_t g)
{
	if (is_field_kind(k))
		return g == BPF_CORE_FIELD_EXISTS;
	if (k == BPF_CORE_ENUMVAL_VALUE)
		return g == BPF_CORE_ENUMVAL_EXISTS;
	return g == BPF_CORE_TYPE_EXISTS || g == BPF_CORE_TYPE_MATCHES;
}

/* Is access ("0:3:0") the guard's access ("0:3") or inside it? A member that is absent
 * takes its own members with it. */
static int access_within(const char *access, const char *guard)
{
	size_t n = strlen(guard);
	return !strncmp(access, guard, n) && (access[n] == 0 || access[n] == ':');
}

static const struct vms_core_result *find_guard(const struct btf *btf,
						const struct relo *relos,
						const struct vms_core_result *all, size_t nrelos,
						size_t ntargets, size_t ri, size_t ti)
{
	const struct relo *r = &relos[ri];
	const struct vms_core_result *me = &all[ri * ntargets + ti];

	for (size_t j = 0; j < nrelos; j++) {
		const struct relo *g = &relos[j];
		const struct vms_core_result *gr = &all[j * ntargets + ti];
		if (j == ri || !guard_kind_for(r->r.kind, g->r.kind) || strcmp(g->sec, r->sec) ||
		    strcmp(gr->func, me->func) || g->r.type_id != r->r.type_id)
			continue;
		if (g->r.kind != BPF_CORE_TYPE_EXISTS && g->r.kind != BPF_CORE_TYPE_MATCHES &&
		    !access_within(str_at(btf, r->r.access_str_off),
				   str_at(btf, g->r.access_str_off)))
			continue;
		if (gr->status == VMS_CORE_RESOLVED && gr->value == 0)
			return gr;
	}
	return NULL;
}

/* Which instructions of section sec run on target t (reachable[], owned, NULL when the
 * section's code cannot be read): its code with every relocation that resolves there
 * patched in as libbpf patches it (an ALU immediate, a 64-bit load's constant) and the
 * poisoned ones turned into calls, entered at each function record of the section. */
static uint8_t *reachable_on(const struct object *o, const char *sec, const struct relo *relos,
			     const struct vms_core_result *all, size_t nrelos, size_t ntargets,
			     size_t t, size_t *n_out)
{
	Elf_Data *code = find_section(o->elf, sec);
	if (!code || code->d_size % sizeof(struct core_insn))
		return NULL;
	size_t n = code->d_size / sizeof(struct core_insn);
	struct core_insn *insns = vms_xmalloc(n ? code->d_size : 1);
	memcpy(insns, code->d_buf, code->d_size);
	for (size_t i = 0; i < nrelos; i++) {
		const struct vms_core_result *r = &all[i * ntargets + t];
		struct core_insn *in;
		if (strcmp(relos[i].sec, sec) || r->insn >= n)
			continue;
		in = &insns[r->insn];
		if (r->status != VMS_CORE_RESOLVED) {
			*in = (struct core_insn){ .code = 0x85, .imm = 0xbad2310 };
		} else if (in->code == 0x18 && r->insn + 1 < n) {
			in->imm = (int32_t)(uint32_t)r->value;
			in[1].imm = (int32_t)(uint32_t)(r->value >> 32);
		} else if (((in->code & 7) == 4 || (in->code & 7) == 7) && !(in->code & 0x08)) {
			in->imm = (int32_t)(uint32_t)r->value;
		}
	}
	uint32_t *entries = NULL;
	size_t nentries = 0;
	const struct btf_ext_info *seg = &o->ext->func_info;
	const struct btf_ext_info_sec *s;
	if (seg->info && seg->rec_size >= sizeof(struct bpf_func_info_min))
		for_each_btf_ext_sec(seg, s) {
			const struct bpf_func_info_min *rec;
			uint32_t i;
			if (strcmp(str_at(o->btf, s->sec_name_off), sec))
				continue;
			for_each_btf_ext_rec(seg, s, i, rec) {
				entries = vms_xrealloc(entries, (nentries + 1) * sizeof(*entries));
				entries[nentries++] = rec->insn_off / 8;
			}
		}
	if (!nentries) {
		entries = vms_xrealloc(entries, sizeof(*entries));
		entries[nentries++] = 0;
	}
	uint8_t *reach = vms_xmalloc(n ? n : 1);
	if (core_reach(insns, n, entries, nentries, reach)) {
		free(reach);
		reach = NULL;
	}
	free(entries);
	free(insns);
	*n_out = n;
	return reach;
}

int vms_core_resolve(const char *obj_path, const char *const *targets, size_t ntargets,
		     struct vms_core_report *out, struct vms_diags *d)
{
	struct object o = { .fd = -1 };
	struct btf **tb = vms_xcalloc(ntargets ? ntargets : 1, sizeof(*tb));
	struct relo *relos = NULL;
	size_t nrelos = 0;
	struct cand_cache cache = { 0 };
	const char *src_path = NULL;	/* the source file read last, and its text */
	char *src = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	libbpf_set_print(capture_print);
	if (object_open(&o, obj_path, d))
		goto done;
	for (size_t t = 0; t < ntargets; t++) {
		last_msg[0] = 0;
		tb[t] = btf__parse(targets[t], NULL);
		if (!tb[t]) {
			tb[t] = NULL;
			vms_diag_add(d, VMS_ERROR, targets[t], 0, 0,
				     "cannot read as BTF (raw or ELF .BTF): %s", take_msg());
			goto done;
		}
	}

	if (o.ext && o.ext->core_relo_info.info) {
		const struct btf_ext_info *seg = &o.ext->core_relo_info;
		const struct btf_ext_info_sec *s;
		for_each_btf_ext_sec(seg, s) {
			const char *sec = str_at(o.btf, s->sec_name_off);
			const struct bpf_core_relo *rec;
			uint32_t i;
			for_each_btf_ext_rec(seg, s, i, rec) {
				relos = vms_xrealloc(relos, (nrelos + 1) * sizeof(*relos));
				relos[nrelos].sec = sec;
				memcpy(&relos[nrelos].r, rec, sizeof(*rec));
				nrelos++;
			}
		}
	}

	out->nrelos = nrelos;
	out->n = nrelos * ntargets;
	out->v = vms_xcalloc(out->n ? out->n : 1, sizeof(*out->v));
	for (size_t i = 0; i < nrelos; i++) {
		const struct relo *rl = &relos[i];
		const void *fb, *fa, *lb, *la;
		around_rec(o.btf, &o.ext->func_info, rl->sec, rl->r.insn_off, 0, &fb, &fa);
		around_rec(o.btf, &o.ext->line_info, rl->sec, rl->r.insn_off, 1, &lb, &la);
		const struct bpf_func_info_min *fi = fb;
		const struct bpf_line_info_min *li = lb ? lb : la;
		const struct btf_type *ft = fi ? btf__type_by_id(o.btf, fi->type_id) : NULL;
		const char *func = ft ? str_at(o.btf, ft->name_off) : "";
		const char *file = li && li->file_name_off ? str_at(o.btf, li->file_name_off) : "";
		int line = 0, col = 0;
		struct bpf_core_spec spec;

		memset(&spec, 0, sizeof(spec));
		/* libbpf's engine trusts the root type id: damaged records stop here */
		if (!btf__type_by_id(o.btf, rl->r.type_id) ||
		    bpf_core_parse_spec(func, o.btf, &rl->r, &spec))
			spec.len = 0;
		if (*file) {
			if (!src_path || strcmp(src_path, file)) {
				free(src);
				src = NULL;
				size_t len;
				if (vms_read_regular_file(file, 16 << 20, &src, &len))
					src = NULL;
				src_path = file;
			}
			/* a line record in another file (an inline header function) is no guide */
			const struct bpf_line_info_min *other = la;
			if (other && other->file_name_off != li->file_name_off)
				other = NULL;
			place(src, o.btf, lb, lb ? other : la, subject_name(o.btf, &rl->r, &spec),
			      is_exists_kind(rl->r.kind), &line, &col);
		}

		for (size_t t = 0; t < ntargets; t++) {
			struct vms_core_result *res = &out->v[i * ntargets + t];
			res->target = targets[t];
			res->idx = (unsigned)i;
			res->section = vms_xstrdup(rl->sec);
			res->func = vms_xstrdup(func);
			res->insn = rl->r.insn_off / 8;
			res->kind = rl->r.kind;
			res->kind_name = kind_name(rl->r.kind);
			if (*file) {
				res->file = vms_xstrdup(file);
				res->line = line;
				res->col = col;
			}
			resolve_one(&cache, &o, rl, (unsigned)i, *func ? func : rl->sec, tb[t], targets[t],
				    res);
		}
	}

	/* A failure is guarded when the code around it never reaches it on that kernel
	 * (reach.c); the existence check on the same access, if any, names the line. */
	for (size_t t = 0; t < ntargets; t++)
		for (size_t i = 0; i < nrelos; i++) {
			struct vms_core_result *res = &out->v[i * ntargets + t];
			if (res->status != VMS_CORE_FAILED || is_exists_kind(res->kind))
				continue;
			size_t n = 0;
			uint8_t *reach = reachable_on(&o, relos[i].sec, relos, out->v, nrelos,
						      ntargets, t, &n);
			for (size_t j = i; j < nrelos; j++) {
				struct vms_core_result *rj = &out->v[j * ntargets + t];
				if (rj->status != VMS_CORE_FAILED || is_exists_kind(rj->kind) ||
				    strcmp(relos[j].sec, relos[i].sec) || !reach || rj->insn >= n ||
				    reach[rj->insn])
					continue;
				const struct vms_core_result *g =
					find_guard(o.btf, relos, out->v, nrelos, ntargets, j, t);
				char *m = g && g->line
					? vms_xasprintf("%s; guarded by the %s check on line %d, "
							"false here", rj->message, g->kind_name,
							g->line)
					: vms_xasprintf("%s; guarded: unreachable once this kernel's "
							"answers to the existence checks are patched "
							"in (dead code the verifier drops)",
							rj->message);
				rj->status = VMS_CORE_GUARDED;
				free(rj->hint);
				rj->hint = NULL;
				free(rj->message);
				rj->message = m;
			}
			free(reach);
		}
	rc = 0;
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].status == VMS_CORE_FAILED)
			rc = 1;
done:
	cand_cache_free(&cache);
	free(src);
	for (size_t t = 0; t < ntargets; t++)
		btf__free(tb[t]);
	free(tb);
	free(relos);
	object_close(&o);
	libbpf_set_print(NULL);
	return rc;
}

void vms_core_report_free(struct vms_core_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct vms_core_result *v = &r->v[i];
		free(v->section);
		free(v->func);
		free(v->spec);
		free(v->file);
		free(v->message);
		free(v->hint);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}
