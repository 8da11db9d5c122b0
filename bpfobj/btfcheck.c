/* bpfobj BTF completeness: is an object built with -gmodules as good as one built with -g?
 *
 * Under -gmodules clang emits the PCH's types by reference, so in the object's DWARF, and
 * therefore in the BTF the BPF backend derives from it, every type defined in the header
 * becomes a forward declaration (measured: `struct trace_event_raw_sched_process_exec`
 * turns into FWD, a map's `__type(value, struct file_ra_state)` too). Instructions are
 * unchanged; what changes is what the kernel and tools read from BTF:
 *   - map definitions (.maps): libbpf sizes key and value from BTF and refuses a FWD
 *     ("can't determine value size");
 *   - global variables and externs (typed __ksym): sized and matched against kernel BTF;
 *   - global subprograms: the verifier checks their argument types from BTF;
 *   - extern functions (kfuncs): matched against the kernel's prototypes;
 *   - entry points: a FWD context argument loads (measured on 6.18, tracepoint and
 *     kprobe), but the object is no longer the same object: `vmslim objdiff` (and
 *     bpftool's view of the program) see `struct pt_regs{incomplete} *`.
 * So the rule is the strict one: the object passes only when no FWD is reachable from
 * any VAR or FUNC of its BTF. Then the BTF the kernel sees is the plain build's, and only
 * the debug sections shrink. */
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "bpfobj/bpfobj.h"

/* Follows type references (pointers included) looking for a FWD; returns its id or 0. */
static __u32 find_fwd(const struct btf *btf, __u32 id, unsigned char *seen)
{
	while (id) {
		if (seen[id])
			return 0;
		seen[id] = 1;
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			return 0;
		switch (btf_kind(t)) {
		case BTF_KIND_FWD:
			return id;
		case BTF_KIND_PTR:
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_VAR:
		case BTF_KIND_FUNC:
			id = t->type;
			continue;
		case BTF_KIND_ARRAY:
			id = btf_array(t)->type;
			continue;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION: {
			const struct btf_member *m = btf_members(t);
			for (__u16 i = 0; i < btf_vlen(t); i++) {
				__u32 f = find_fwd(btf, m[i].type, seen);
				if (f)
					return f;
			}
			return 0;
		}
		case BTF_KIND_FUNC_PROTO: {
			const struct btf_param *p = btf_params(t);
			for (__u16 i = 0; i < btf_vlen(t); i++) {
				__u32 f = find_fwd(btf, p[i].type, seen);
				if (f)
					return f;
			}
			id = t->type;
			continue;
		}
		default:
			return 0;
		}
	}
	return 0;
}

int vms_btf_gmodules_complete(const char *obj_path, struct vms_diags *d)
{
	struct btf *btf = btf__parse_elf(obj_path, NULL);
	if (!btf) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot read the BTF of %s", obj_path);
		return -1;
	}
	__u32 n = btf__type_cnt(btf);
	unsigned char *seen = vms_xcalloc(n, 1);
	int ok = 1;
	for (__u32 id = 1; id < n && ok; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name = btf__name_by_offset(btf, t->name_off);
		if (!btf_is_var(t) && !btf_is_func(t))
			continue;
		memset(seen, 0, n);
		__u32 f = find_fwd(btf, id, seen);
		if (f) {
			const struct btf_type *ft = btf__type_by_id(btf, f);
			vms_diag_add(d, VMS_NOTE, NULL, 0, 0,
				     "'%s' needs '%s' complete in BTF, -gmodules leaves it a "
				     "forward declaration", name,
				     btf__name_by_offset(btf, ft->name_off));
			ok = 0;
		}
	}
	free(seen);
	btf__free(btf);
	return ok;
}
