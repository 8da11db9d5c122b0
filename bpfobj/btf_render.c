/* bpfobj BTF rendering: types, CO-RE access strings and the globals libbpf reads, as
 * strings that two objects can compare although their type ids differ. */
#include <stdlib.h>
#include <string.h>

#include "bpfobj/internal.h"

static void render_type(const struct btf *btf, uint32_t id, struct vms_buf *b, int depth);

const char *btf_render_str(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);
	return s ? s : "(bad string)";
}

static void render_named(const struct btf *btf, const struct btf_type *t, const char *kw,
			 struct vms_buf *b)
{
	const char *name = btf_render_str(btf, t->name_off);

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
		const char *pname = btf_render_str(btf, p[i].name_off);

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
		vms_buf_puts(b, btf_render_str(btf, t->name_off));
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
			       btf_render_str(btf, t->name_off));
		break;
	case BTF_KIND_TYPEDEF:
		vms_buf_printf(b, "%s=", btf_render_str(btf, t->name_off));
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
		vms_buf_printf(b, "__tag(%s) ", btf_render_str(btf, t->name_off));
		render_type(btf, t->type, b, depth + 1);
		break;
	case BTF_KIND_FUNC_PROTO:
		render_proto(btf, t, b, depth);
		break;
	case BTF_KIND_FUNC:
		vms_buf_printf(b, "%s: ", btf_render_str(btf, t->name_off));
		render_type(btf, t->type, b, depth + 1);
		break;
	default:
		vms_buf_printf(b, "(kind %u %s)", btf_kind(t), btf_render_str(btf, t->name_off));
		break;
	}
}

char *btf_render_type(const struct btf *btf, uint32_t id)
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
char *btf_render_spec(const struct btf *btf, uint32_t root, uint32_t kind, const char *access)
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
			vms_buf_puts(&b, btf_render_str(btf, btf_enum(e)[idx].name_off));
		else if (e && btf_is_enum64(e) && idx < btf_vlen(e))
			vms_buf_puts(&b, btf_render_str(btf, btf_enum64(e)[idx].name_off));
		else
			vms_buf_printf(&b, "(enumerator #%s)", access);
		return vms_buf_steal(&b);
	}
	if (kind >= CORE_TYPE_ID_LOCAL) {
		vms_buf_puts(&b, btf_render_str(btf, t->name_off));
		return vms_buf_steal(&b);
	}

	vms_buf_puts(&b, *btf_render_str(btf, t->name_off) ? btf_render_str(btf, t->name_off) : "(anon)");
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
			const char *mname = btf_render_str(btf, m->name_off);

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

/* What libbpf and the verifier read from .BTF, as "kind name: rendering" lines. Map
 * definitions (and any struct-typed global) are shown with their members one level deep:
 * `__type(key, struct in6_addr)` is a member `struct in6_addr *key`, and the key size
 * libbpf uses is that struct's size. */
static int btf_item_cmp(const void *x, const void *y)
{
	return strcmp(((const struct btf_item *)x)->key, ((const struct btf_item *)y)->key);
}

static void add_part(struct btf_item *it, char *name, char *type, int64_t bit_off)
{
	it->parts = vms_xrealloc(it->parts, (it->nparts + 1) * sizeof(*it->parts));
	it->parts[it->nparts++] = (struct btf_part){ name, type, bit_off };
}

/* A variable: its head ("global, offset 0, size 8: struct cfg{8 bytes}") and, for a
 * struct or union, each member with its bit offset. */
static void render_var(const struct btf *btf, const char *head, uint32_t type_id,
		       struct btf_item *it)
{
	uint32_t id = skip_mods_typedefs(btf, type_id);
	const struct btf_type *t = btf__type_by_id(btf, id);
	struct vms_buf b = { 0 };

	vms_buf_puts(&b, head);
	render_type(btf, type_id, &b, 0);
	add_part(it, vms_xstrdup(""), vms_xstrdup(b.data), -1);
	if (t && btf_is_composite(t)) {
		vms_buf_puts(&b, " {");
		for (uint16_t i = 0; i < btf_vlen(t); i++) {
			const struct btf_member *m = btf_members(t) + i;
			const char *mname = btf_render_str(btf, m->name_off);
			uint32_t off = btf_member_bit_offset(t, i);

			vms_buf_printf(&b, "%s%s: ", i ? "; " : "", mname);
			render_type(btf, m->type, &b, 1);
			vms_buf_printf(&b, " @%u", off);
			add_part(it, *mname ? vms_xasprintf("member '%s'", mname)
					    : vms_xasprintf("member #%u", i),
				 btf_render_type(btf, m->type), off);
		}
		vms_buf_puts(&b, "}");
	}
	it->val = vms_buf_steal(&b);
}

/* A global or extern function: linkage, return type, then each parameter. */
static void render_func(const struct btf *btf, const struct btf_type *t, struct btf_item *it)
{
	const struct btf_type *proto = btf__type_by_id(btf, t->type);
	const char *linkage = btf_vlen(t) == BTF_FUNC_GLOBAL ? "global" : "extern";
	struct vms_buf b = { 0 };

	vms_buf_printf(&b, "%s ", linkage);
	render_type(btf, t->type, &b, 0);
	it->val = vms_buf_steal(&b);
	add_part(it, vms_xstrdup(""), vms_xstrdup(linkage), -1);
	if (!proto || !btf_is_func_proto(proto)) {
		add_part(it, vms_xstrdup("type"), btf_render_type(btf, t->type), -1);
		return;
	}
	add_part(it, vms_xstrdup("return type"), btf_render_type(btf, proto->type), -1);
	for (uint16_t i = 0; i < btf_vlen(proto); i++) {
		const struct btf_param *p = btf_params(proto) + i;
		const char *pname = btf_render_str(btf, p->name_off);

		vms_buf_puts(&b, p->type ? "" : "...");
		if (p->type)
			render_type(btf, p->type, &b, 1);
		if (*pname)
			vms_buf_printf(&b, " %s", pname);
		add_part(it, vms_xasprintf("parameter %u", i + 1), vms_buf_steal(&b), -1);
	}
}

static struct btf_item *new_item(struct btf_item **v, size_t *cnt, char *key)
{
	*v = vms_xrealloc(*v, (*cnt + 1) * sizeof(**v));
	(*v)[*cnt] = (struct btf_item){ .key = key };
	return &(*v)[(*cnt)++];
}

struct btf_item *btf_render_items(const struct btf *btf, size_t *n)
{
	struct btf_item *v = NULL;
	size_t cnt = 0;
	uint32_t ntypes = btf ? btf__type_cnt(btf) : 0;

	for (uint32_t id = 1; id < ntypes; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_func(t)) {
			/* Static functions are verified with their caller; only global and
			 * extern ones are checked against their BTF prototype. */
			if (btf_vlen(t) == BTF_FUNC_STATIC)
				continue;
			render_func(btf, t, new_item(&v, &cnt, vms_xasprintf("function '%s'",
						btf_render_str(btf, t->name_off))));
		} else if (btf_is_datasec(t)) {
			const struct btf_var_secinfo *vi = btf_var_secinfos(t);
			const char *sec = btf_render_str(btf, t->name_off);

			for (uint16_t i = 0; i < btf_vlen(t); i++) {
				const struct btf_type *var = btf__type_by_id(btf, vi[i].type);
				struct btf_item *it;
				char *head;

				if (!var)
					continue;
				it = new_item(&v, &cnt, vms_xasprintf("variable '%s' in %s",
						btf_render_str(btf, var->name_off), sec));
				if (btf_is_var(var)) {
					head = vms_xasprintf("%s, offset %u, size %u: ",
							     btf_var(var)->linkage ? "global" : "static",
							     vi[i].offset, vi[i].size);
					render_var(btf, head, var->type, it);
					free(head);
				} else {
					it->val = btf_render_type(btf, vi[i].type);
					add_part(it, vms_xstrdup(""), vms_xstrdup(it->val), -1);
				}
			}
		}
	}
	if (v)
		qsort(v, cnt, sizeof(*v), btf_item_cmp);
	*n = cnt;
	return v;
}

void btf_render_items_free(struct btf_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].nparts; k++) {
			free(v[i].parts[k].name);
			free(v[i].parts[k].type);
		}
		free(v[i].parts);
		free(v[i].key);
		free(v[i].val);
	}
	free(v);
}

