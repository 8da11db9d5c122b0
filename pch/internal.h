/* Internals shared by the files of pch/; not part of the API. */
#ifndef VMSLIM_PCH_INTERNAL_H
#define VMSLIM_PCH_INTERNAL_H

#include "pch/pch.h"
#include "common/bpf_cmdline.h"

/* Timeouts: a PCH of the full vmlinux.h takes about half a second; ten minutes means a
 * wedged clang, not a slow one. */
#define VMS_PCH_CLANG_TIMEOUT_MS (10 * 60 * 1000)

/* Bumped whenever the manifest format or the way PCHs are built changes, so that old
 * cache entries are never mistaken for current ones. */
#define VMS_PCH_FORMAT 1

/* ---- pch.c ---- */

/* vms_pch_ensure() for a compiler already identified, returning the PCH's lock file
 * descriptor held shared (close it to release), or -errno / -1 with diagnostics. While
 * the caller holds it, no other process replaces the PCH. */
int pch_ensure_locked(const struct vms_pch_opts *o, const struct vms_compiler *cc,
		      struct vms_pch_info *info, struct vms_diags *d);

/* ---- flags.c ---- */

/* Does option `a` (e.g. "-o") take the next argument as its value? */
int pch_opt_takes_arg(const char *a);
/* Splits normalized flags (vms_flags_normalize) into the include search directories
 * (-I, -iquote, -isystem, -idirafter with their values) and everything else; either
 * output may be NULL. */
void pch_split_search_flags(const struct vms_argv *flags, struct vms_argv *search,
			    struct vms_argv *rest);
/* Absolute version of a path relative to cwd (owned). */
char *pch_abspath(const char *p);
/* Percent-encodes bytes <= ' ', '%' and >= 0x7f so that any string fits a manifest line. */
void pch_escape(struct vms_buf *b, const char *s);
char *pch_unescape(const char *s);

/* ---- source.c: what precedes the program's #include "vmlinux.h" ---- */

struct pch_preamble {
	int found;		/* an #include of "vmlinux.h" / <vmlinux.h> was found... */
	int simple;		/* ...and only comments and #defines precede it */
	int angled;		/* <vmlinux.h> */
	char *why;		/* when !found || !simple: reason (owned) */
	struct vms_argv defines;/* the preceding #defines as -D arguments */
	int defines_no_pai;	/* one of them is BPF_NO_PRESERVE_ACCESS_INDEX */
	int uses_core;		/* the text names a CO-RE builtin or macro */
	int other_includes;	/* includes something other than the header and <bpf/...> */
};

void pch_scan_preamble(const char *text, size_t len, struct pch_preamble *p);
void pch_preamble_free(struct pch_preamble *p);
/* Has the header an include guard (#ifndef X / #define X) or #pragma once up front? */
int pch_header_guarded(const char *text, size_t len);

/* ---- depfile.c ---- */

/* What the dependency options say, from dep_flags and from the flags themselves
 * (`vmslim build -- -MD -MF x.d` passes them as ordinary flags). */
struct pch_depinfo {
	char *path;		/* the file clang writes, or NULL (owned) */
	int has_md, has_target, has_mf;
};
void pch_dep_info(const struct vms_build_opts *o, struct pch_depinfo *di);

/* Make syntax: raw tokens with escapes kept and continuation lines joined; a token's
 * path and back. */
void pch_dep_tokenize(const char *s, size_t len, struct vms_argv *out);
char *pch_dep_unescape(const char *tok);
char *pch_dep_escape(const char *path);
/* "targets: deps" wrapped as clang wraps it; with phony (-MP), "DEP:" rules for every
 * dependency but source. Owned. */
char *pch_dep_format(const struct vms_argv *targets, const struct vms_argv *deps, int phony,
		     const char *source);
/* The dependency file of a PCH build (text) as a plain build writes it: the shim's
 * vmlinux.h (shim_path, may be NULL) becomes the header, and the PCH's input, listed
 * first, moves after the source or goes when listed again (same_file, NULL: equal
 * strings). Owned, or NULL when nothing needs to change. */
char *pch_dep_rewrite(const char *text, size_t len, const char *shim_path, const char *header,
		      const char *source, int (*same_file)(const char *a, const char *b));
/* Rewrites the file dep in place (atomically) as above; dep or header NULL: nothing. */
void pch_fix_depfile(const char *dep, const char *shim_path, const char *header,
		     const char *source);

/* ---- asmaudit.c: inline assembly that reads files ---- */

struct pch_asm_finding {
	const char *directive;	/* ".incbin", ... (static) */
	const char *why;	/* "reads files", ... (static) */
	int line;		/* in the program's source, 0 when unknown */
};
/* Finds a refused directive in assembly text; 1 with its offset, name and why. */
int pch_asm_scan(const char *text, size_t n, size_t *at, const char **name, const char **why);
/* Scans textual LLVM IR (src: the main file's text, for lines). 1 refused (f filled). */
int pch_ir_audit(const char *ir, size_t len, const char *src, size_t src_len,
		 struct pch_asm_finding *f);

/* ---- build.c and compile.c: one vms_build() call ---- */

/* What the plan (build.c) decided, and what the compile steps (compile.c) share with
 * the verdict (build.c). */
struct pch_build {
	const struct vms_build_opts *o;
	struct vms_build_result *r;
	struct vms_diags *d;
	char *cache;
	struct vms_compiler cc;
	struct pch_preamble pre;
	char *src;			/* the program's text */
	size_t src_len;
	struct vms_argv flags;		/* in the order clang sees them */
	char *header;			/* absolute, or NULL */
	char *shim_path;		/* the shim's vmlinux.h when the header is named otherwise */
	struct vms_hash128 header_hash;
	size_t small;			/* the header's size when too small to be worth a PCH */
	int plain;			/* no PCH: a plain clang build */
	int via_only;			/* require_pch with a small header: only o->via may
					 * compile it, else 2 */
	int try_gm;			/* try -gmodules first */
	const char *gm_why;		/* why -gmodules is not tried (NULL: tried, or a verdict) */
	char *verdict;			/* where a -gmodules rejection is remembered, or NULL */
	char *tmp_out;			/* clang's output, renamed into place on success, or NULL */
	int installed;			/* the output is in place already */
	struct pch_depinfo deps;
	struct vms_pch_opts po;		/* the PCH the build includes */
	struct vms_pch_info info, info_gm;
	int lock, lock_gm;		/* the PCHs' locks, held while clang reads them (-1) */
};

/* compile.c. Each returns what vms_run() returned (0 when clang ran, whatever it said:
 * see pr), or -errno with a diagnostic; PCH_NO_PCH when the PCH could not be built
 * (info->clang_stderr says why). Times go into r->pch_ms and r->compile_ms. */
#define PCH_NO_PCH 1
/* ...or PCH_REFUSED when the asm audit refused the program (diagnostic in b->d). */
#define PCH_REFUSED 3
int pch_compile_plain(struct pch_build *b, struct vms_proc_result *pr);
/* -gmodules trial into tmp (output and dependency file named after the real output). */
int pch_compile_gmodules(struct pch_build *b, const char *tmp, struct vms_proc_result *pr);
/* Through the -g PCH, once more when the header changed under clang's feet. */
int pch_compile_pch(struct pch_build *b, struct vms_proc_result *pr);
int pch_looks_like_crash(const struct vms_proc_result *r);
/* The compile through o->via: 1 when it answered (*rc: 0, 1, or -errno; the output and
 * the dependency file are in place), 0 when clang must run (r->mode says why). */
int pch_compile_via(struct pch_build *b, int *rc);

#endif
