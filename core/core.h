/* core: CO-RE relocations of a BPF object resolved offline against target kernels'
 * BTF, by libbpf's own relocation engine (Debian's libbpf.a, see CMakeLists.txt). */
#ifndef VMSLIM_CORE_H
#define VMSLIM_CORE_H

#include <stdint.h>

#include "common/common.h"

enum vms_core_status {
	VMS_CORE_RESOLVED = 0,	/* libbpf patches the instruction with value */
	VMS_CORE_GUARDED,	/* not resolvable, but unreachable on this kernel once the
				 * existence checks are patched in (reach.c): dead code */
	VMS_CORE_FAILED,	/* libbpf poisons the instruction (or fails the load) */
};

/* One (relocation, target kernel) pair. */
struct vms_core_result {
	const char *target;	/* the BTF's path as given */
	unsigned idx;		/* relocation's index in the object, file order */
	char *section, *func;	/* program section and function (func may be "") */
	uint32_t insn;		/* instruction index in its section */
	uint32_t kind;		/* enum bpf_core_relo_kind */
	const char *kind_name;	/* "field_byte_offset"... */
	char *spec;		/* libbpf's rendering of the local access:
				 * "<byte_off> [5] struct inode.i_ctime (0:3 @ offset 96)" */
	char *file;		/* source position from .BTF.ext line info (NULL if none) */
	int line, col;
	enum vms_core_status status;
	uint64_t local_val;	/* what the object was compiled with */
	uint64_t value;		/* what libbpf patches in (RESOLVED) */
	char *message;		/* why not (FAILED/GUARDED), NULL otherwise */
	char *hint;		/* what to write instead (FAILED), may be NULL */
};

struct vms_core_report {
	struct vms_core_result *v;
	size_t n;
	size_t nrelos;		/* relocations in the object */
};

/* 1 when this build carries libbpf's relocation engine, 0 when not (then *why says
 * what was missing at configure time). */
int vms_core_available(const char **why);

/* Resolves every CO-RE relocation of the object at obj_path against each BTF in
 * targets[0..ntargets). Returns 0 when every unguarded relocation resolves on every
 * target, 1 when some do not, -1 when the object or a BTF cannot be read (an error in
 * d). Results are in relocation order, then target order. */
int vms_core_resolve(const char *obj_path, const char *const *targets, size_t ntargets,
		     struct vms_core_report *out, struct vms_diags *d);
void vms_core_report_free(struct vms_core_report *r);

/* ---- member.c: one member's place in target kernels, for the editor's hover ---------- */

struct vms_core_btfs;	/* target BTFs, each parsed once on first use */

struct vms_core_btfs *vms_core_btfs_new(const char *const *paths, size_t n);
void vms_core_btfs_free(struct vms_core_btfs *b);
size_t vms_core_btfs_count(const struct vms_core_btfs *b);
const char *vms_core_btfs_path(const struct vms_core_btfs *b, size_t i);

struct vms_core_member {
	int record_found;	/* the kernel has a record of that name */
	uint64_t bit_offset;	/* from the record's start */
	uint32_t bitfield_size;	/* 0: not a bitfield */
	uint64_t size;		/* bytes of the member's type */
};

/* member of the struct (or union) named record in the i-th BTF: 1 found, 0 absent
 * (out->record_found says whether the record is), -1 the BTF cannot be read (d). */
int vms_core_member(struct vms_core_btfs *b, size_t i, const char *record, int is_union,
		    const char *member, struct vms_core_member *out, struct vms_diags *d);

#endif
