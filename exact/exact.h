/* exact: clang's own diagnostics for BPF C, from libclang with a precompiled preamble.
 *
 * clang parses the program's preamble (its leading #include/#define lines: vmlinux.h and
 * libbpf's headers) once into a precompiled preamble; every later check of a new text of
 * the same file reuses it and parses only the program's body, with every diagnostic clang
 * would print (errors, warnings, notes; line and column). The first check costs what a
 * clang run costs (about half a second with the full vmlinux.h); an edit that changes the
 * preamble itself rebuilds it. One checker per file: the CLI, the daemon's language server
 * and the bench all check through this API. Nothing here prints or exits. libclang is
 * loaded on first use (common/libclang.h); without it vms_exact_new fails with a
 * diagnostic and callers fall back to the fast checker or clang processes. */
#ifndef VMSLIM_EXACT_H
#define VMSLIM_EXACT_H

#include <stddef.h>

#include "common/common.h"

struct vms_exact_opts {
	const char *const *include_dirs;	/* -I each; n_inc of them */
	size_t n_inc;
	const char *const *flags;		/* the user's clang flags as given (-DX, -UY, -I...) */
	size_t n_flags;
	const char *vmlinux_header;		/* if set, what every #include of vmlinux.h opens
						 * (quoted or not), as `check --header` does */
	const char *src_dir;			/* quoted includes; NULL: the file's directory */
	/* the target-architecture rule of common/bpf_cmdline.h applies to flags; a program
	 * that defines __TARGET_ARCH_* itself in its preamble is seen as doing so */
};

struct vms_exact_stats {
	double first_ms;	/* the first check (preamble built), 0 before it */
	double last_ms;		/* the last check */
	unsigned checks;	/* checks so far, the first included */
	unsigned preamble_builds; /* first parses (the first, or after clang failed) */
};

struct vms_exact;

/* A checker for the program at path (which need not exist: the text is given to each
 * check). 0, or -1 with a diagnostic in d (libclang missing, no temporary directory). */
int vms_exact_new(const struct vms_exact_opts *o, const char *path, struct vms_exact **out,
		  struct vms_diags *d);

/* Checks text as the content of the checker's file. 0 with clang's diagnostics appended to
 * out, in clang's order, file names as the program and its headers are named on disk;
 * -1 when clang could not parse at all (diagnostic in out; the next check starts afresh).
 * Not thread-safe per checker. */
int vms_exact_check(struct vms_exact *x, const char *text, size_t len, struct vms_diags *out);

void vms_exact_get_stats(const struct vms_exact *x, struct vms_exact_stats *s);
void vms_exact_free(struct vms_exact *x);

/* The process's resident memory now and at its peak (VmRSS, VmHWM of /proc/self/status),
 * in KiB; 0 where unknown. For --stats and the bench. */
void vms_exact_rss_kib(long *rss, long *hwm);

#endif
