/* bpfobj .BTF.ext parsing: the function records and CO-RE relocation records of an
 * object, with their types rendered so that two objects can compare them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfobj/internal.h"

#define BTF_EXT_MAGIC 0xeB9F

static const char *const core_kind_names[] = {
	"field_byte_offset", "field_byte_size", "field_exists", "field_signed",
	"field_lshift_u64", "field_rshift_u64", "type_id_local", "type_id_target",
	"type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
};

const char *core_kind_name(uint32_t k)
{
	return k < sizeof(core_kind_names) / sizeof(core_kind_names[0]) ? core_kind_names[k]
									 : "unknown_kind";
}

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
	f->name = vms_xstrdup(btf_render_str(o->btf, t->name_off));
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
	c->root = btf_render_type(o->btf, type_id);
	c->spec = btf_render_spec(o->btf, type_id, c->kind, access);
	return 0;
}

int obj_load_btf(struct obj *o, struct vms_diags *d)
{
	struct sec *s = obj_find_sec(o, ".BTF"), *e = obj_find_sec(o, ".BTF.ext");
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
