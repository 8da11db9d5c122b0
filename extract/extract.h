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

/* ---- one header, many programs (extract/warm.c) ------------------------------------ */

/* What a program does ahead of its #include "vmlinux.h" (extract/preinclude.c). */
enum {
	VMS_PREINCLUDE_OK = 0,		/* only comments and #defines the header never names */
	VMS_PREINCLUDE_COLD = 1,	/* something else first (an #include, an #if, code) */
	VMS_PREINCLUDE_CHANGES = 2,	/* a #define/#undef of a name the header uses */
	VMS_PREINCLUDE_NONE = 3,	/* no #include of vmlinux.h in the program's own text */
};
/* One of the above; *why (owned, may be NULL) says what was found, with its line. */
int vms_extract_preinclude(const char *text, size_t len, const char *header_text,
			   size_t header_len, const char *header_name, char **why);
/* The same, and *angled (may be NULL) is 1 when the include is <vmlinux.h>: where clang
 * looks for it (a quoted include tries the program's own directory first). header_text
 * may be "" (len 0) to learn the form before the header is known. */
int vms_extract_preinclude_form(const char *text, size_t len, const char *header_text,
				size_t header_len, const char *header_name, char **why,
				int *angled);

/* A header's text and declaration graph; when warm, also a libclang unit whose
 * precompiled preamble is the header, so that a program is parsed by a reparse that
 * reads the program alone. */
struct vms_extract_ctx;

/* What one program uses of the header: a need per declaration of the graph. */
struct vms_extract_uses {
	unsigned char *need;
	size_t n;
	struct vms_hash128 hash;	/* of need[]: the set of declarations used */
	int warm;			/* found by a reparse against the preamble */
	double ms;			/* finding them */
};

/* The warm context: parses the header (its graph) and builds the preamble unit. header
 * must have an include guard; clang_args may not -include anything. 0, or -1 with a
 * diagnostic. */
int vms_extract_ctx_new(const char *header, const char *const *clang_args,
			struct vms_extract_ctx **out, struct vms_diags *d);
void vms_extract_ctx_free(struct vms_extract_ctx *c);
/* The xxh3-128 of the header's bytes as the context read them. */
struct vms_hash128 vms_extract_ctx_header_hash(const struct vms_extract_ctx *c);
const char *vms_extract_ctx_header(const struct vms_extract_ctx *c);
/* Its clang arguments (the ones given to vms_extract_ctx_new). */
const struct vms_argv *vms_extract_ctx_args(const struct vms_extract_ctx *c);
/* The program's uses through the warm unit. 0 found; VMS_PREINCLUDE_COLD or _NONE when
 * the warm path does not apply to this program (other arguments, something ahead of
 * the include, another vmlinux.h reached, errors: the caller parses cold, e.g.
 * vms_extract_oneshot_uses, which gives the same answer); VMS_PREINCLUDE_CHANGES; *why
 * (owned) says why. -1 on a hard error (diagnostic in d). */
int vms_extract_warm_uses(struct vms_extract_ctx *c, const char *program,
			  const char *const *clang_args, struct vms_extract_uses *u, char **why,
			  struct vms_diags *d);
/* One-shot: parses the program against the header as vms_extract does and makes a
 * context without a warm unit (graph only) for vms_extract_emit_uses. 0 or -1 with the
 * parse's diagnostics. */
int vms_extract_oneshot_uses(const char *header, const char *program,
			     const char *const *clang_args, struct vms_extract_ctx **ctx,
			     struct vms_extract_uses *u, struct vms_diags *d);
/* The slim header for these uses: what vms_extract gives for the program when program
 * names it (its banner), a banner naming no program when NULL. */
int vms_extract_emit_uses(const struct vms_extract_ctx *c, const struct vms_extract_uses *u,
			  const char *program, char **out, size_t *out_len,
			  struct vms_extract_stats *st, struct vms_diags *d);
void vms_extract_uses_free(struct vms_extract_uses *u);

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
