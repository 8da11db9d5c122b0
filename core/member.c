/* Where a struct member lives in each target kernel: the member looked up by name in
 * the record of the same name in that kernel's BTF, through the shared libbpf's public
 * btf__ API (not the private relocation engine: hover works in builds without it).
 * Members of anonymous structs and unions inside the record are found as C finds them,
 * their offsets added up. */
#include "core/core.h"

#include <bpf/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct vms_core_btfs {
	size_t n;
	char **paths;
	struct btf **btf;	/* parsed on first use; NULL before */
	int *failed;
};

struct vms_core_btfs *vms_core_btfs_new(const char *const *paths, size_t n)
{
	struct vms_core_btfs *b = vms_xcalloc(1, sizeof(*b));
	b->n = n;
	b->paths = vms_xcalloc(n ? n : 1, sizeof(*b->paths));
	b->btf = vms_xcalloc(n ? n : 1, sizeof(*b->btf));
	b->failed = vms_xcalloc(n ? n : 1, sizeof(*b->failed));
	for (size_t i = 0; i < n; i++)
		b->paths[i] = vms_xstrdup(paths[i]);
	return b;
}

void vms_core_btfs_free(struct vms_core_btfs *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		btf__free(b->btf[i]);
		free(b->paths[i]);
	}
	free(b->paths), free(b->btf), free(b->failed);
	free(b);
}

size_t vms_core_btfs_count(const struct vms_core_btfs *b)
{
	return b->n;
}

const char *vms_core_btfs_path(const struct vms_core_btfs *b, size_t i)
{
	return b->paths[i];
}

/* name in the members of type id (and of its anonymous members), at base bits. */
static int find_member(const struct btf *btf, __u32 id, const char *name, __u64 base,
		       __u64 *bit_off, __u32 *bit_size, __u32 *type_id, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t || depth > 8 || (!btf_is_struct(t) && !btf_is_union(t)))
		return 0;
	const struct btf_member *m = btf_members(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		__u64 off = base + btf_member_bit_offset(t, i);
		const char *mn = btf__name_by_offset(btf, m->name_off);
		if (mn && *mn) {
			if (!strcmp(mn, name)) {
				*bit_off = off;
				*bit_size = btf_member_bitfield_size(t, i);
				*type_id = m->type;
				return 1;
			}
			continue;
		}
		/* an anonymous struct or union: its members are the record's */
		__s32 r = btf__resolve_type(btf, m->type);
		if (r > 0 && find_member(btf, (__u32)r, name, off, bit_off, bit_size, type_id,
					 depth + 1))
			return 1;
	}
	return 0;
}

int vms_core_member(struct vms_core_btfs *b, size_t i, const char *record, int is_union,
		    const char *member, struct vms_core_member *out, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	if (i >= b->n)
		return -1;
	if (!b->btf[i] && !b->failed[i]) {
		b->btf[i] = btf__parse(b->paths[i], NULL);
		if (!b->btf[i]) {
			b->failed[i] = errno ? errno : EINVAL;
			b->btf[i] = NULL;
		}
	}
	if (!b->btf[i]) {
		vms_diag_add(d, VMS_ERROR, b->paths[i], 0, 0, "cannot read the BTF: %s",
			     strerror(b->failed[i]));
		return -1;
	}
	const struct btf *btf = b->btf[i];
	__s32 id = btf__find_by_name_kind(btf, record, is_union ? BTF_KIND_UNION : BTF_KIND_STRUCT);
	if (id <= 0)
		return 0;
	out->record_found = 1;
	__u64 bit_off;
	__u32 bit_size, type_id;
	if (!find_member(btf, (__u32)id, member, 0, &bit_off, &bit_size, &type_id, 0))
		return 0;
	out->bit_offset = bit_off;
	out->bitfield_size = bit_size;
	__s64 sz = btf__resolve_size(btf, type_id);
	out->size = sz > 0 ? (uint64_t)sz : 0;
	return 1;
}
