/* extract: trims a C header (vmlinux.h first of all) to the transitive closure of what
 * named types or BPF programs need, and proves the trim changed nothing in the compiled
 * object. */
#ifndef VMSLIM_EXTRACT_H
#define VMSLIM_EXTRACT_H

#include <stddef.h>

#include "common/common.h"

struct vms_extract_opts {
	const char *header_path;	/* a C header, or NULL with btf_path */
	const char *btf_path;		/* raw BTF or an ELF with .BTF, turned into C by libbpf */
	const char *const *type_roots;	/* names or globs; NULL-terminated, may be NULL */
	const char *const *programs;	/* BPF C files; NULL-terminated, may be NULL */
	const char *const *clang_args;	/* extra args for parsing programs (-I, -D); may be NULL */
	const char *const *blacklist;	/* globs; NULL-terminated, may be NULL */
	int full_pointers;		/* follow pointer edges too (the older behaviour) */
};

struct vms_extract_stats {
	size_t types_total, types_kept;	/* top-level declarations of the header */
	size_t types_opaque;		/* kept only as forward declarations */
	size_t bytes_total, bytes_kept;
	double parse_ms, total_ms;
};

/* Computes the slim header into *out (owned, NUL-terminated). Returns 0, or -1 with
 * errors in d (file and line where known). Never writes files. */
int vms_extract(const struct vms_extract_opts *o, char **out, size_t *out_len,
		struct vms_extract_stats *stats, struct vms_diags *d);

/* Turns BTF (raw or ELF .BTF) into C exactly as `bpftool btf dump file F format c` does.
 * 0 or -1 with a diagnostic. */
int vms_btf_to_c(const char *btf_path, char **out, size_t *out_len, struct vms_diags *d);

/* ---- verification ---------------------------------------------------------------- */

struct vms_verify_opts {
	const char *program;
	const char *full_header, *slim_header;
	const char *clang;		/* NULL: "clang" */
	const char *const *clang_args;	/* NULL-terminated, may be NULL */
	const char *keep_dir;		/* if set, the two objects are kept there (full.o, slim.o) */
};

/* Compiles the program with each header (clang -g -O2 -target bpf, every inclusion of
 * vmlinux.h, quoted, angled, from its headers or by -include, resolving to the header)
 * and compares the objects.
 * Returns 0 same, 1 different, -1 could not compile or read (diagnostics in d). */
int vms_verify(const struct vms_verify_opts *o, struct vms_diags *d);

#endif
