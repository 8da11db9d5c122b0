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
	int features;				/* the editor features below will be asked for:
						 * completion's global results are cached with the
						 * preamble (libclang's CacheCompletionResults) */
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

/* ---- editor features, on the same translation unit (complete.c, hover.c, signature.c).
 * Each takes the document's current text: the TU is reparsed first when it was last
 * parsed from another one (the preamble reused). Positions are 1-based lines and 1-based
 * byte columns in that text. Need features set in the options; not thread-safe per
 * checker, as checks are not. */

enum vms_exact_item_kind {
	VMS_ITEM_TEXT, VMS_ITEM_FIELD, VMS_ITEM_STRUCT, VMS_ITEM_UNION, VMS_ITEM_ENUM,
	VMS_ITEM_ENUM_CONST, VMS_ITEM_FUNCTION, VMS_ITEM_VARIABLE, VMS_ITEM_TYPEDEF,
	VMS_ITEM_MACRO, VMS_ITEM_KEYWORD,
};

struct vms_exact_item {
	char *label;		/* what is inserted */
	char *detail;		/* its type, or the result type of a function */
	enum vms_exact_item_kind kind;
	unsigned priority;	/* clang's: smaller is likelier */
};

struct vms_exact_items {
	struct vms_exact_item *v;
	size_t n;
	int incomplete;		/* more matched than max: typing more narrows them */
	unsigned start_col;	/* where the typed prefix starts (the text an item replaces) */
};

/* Completion at (line, col): clang's code completion (members after -> and ., inside the
 * field arguments of BPF_CORE_READ() and its kin as well; types after struct/enum;
 * identifiers, helpers, enum constants, macros elsewhere), filtered by the identifier
 * prefix typed before col and sorted by clang's priority then name, at most max of them.
 * 0, or -1 with a diagnostic in d. */
int vms_exact_complete(struct vms_exact *x, const char *text, size_t len, unsigned line,
		       unsigned col, size_t max, struct vms_exact_items *out, struct vms_diags *d);
void vms_exact_items_free(struct vms_exact_items *it);

struct vms_exact_hover {
	char *markdown;		/* what to show: declaration, type, and for a member its
				 * record, offset and size */
	unsigned line, col, end_col;	/* the identifier hovered (end exclusive) */
	char *record;		/* a member: its record as BTF names it ("task_struct"),
				 * NULL otherwise */
	char *member;		/* and the member's name */
	int record_is_union;
};

/* What is at (line, col): 1 with out filled, 0 nothing there, -1 with a diagnostic. */
int vms_exact_hover(struct vms_exact *x, const char *text, size_t len, unsigned line,
		    unsigned col, struct vms_exact_hover *out, struct vms_diags *d);
void vms_exact_hover_free(struct vms_exact_hover *h);

struct vms_exact_loc {
	char *file;		/* absolute, as on disk (the --header for a staged vmlinux.h) */
	unsigned line, col;	/* 1-based, col in bytes */
};

/* Where what is at (line, col) is defined (declared, when no definition is in sight):
 * 1 with out filled, 0 nothing there, -1 with a diagnostic. */
int vms_exact_definition(struct vms_exact *x, const char *text, size_t len, unsigned line,
			 unsigned col, struct vms_exact_loc *out, struct vms_diags *d);

struct vms_exact_signature {
	char *label;		/* the declaration, one line: "long bpf_probe_read_kernel(...)" */
	size_t (*params)[2];	/* each parameter's [start, end) in label */
	size_t n_params;
	int active;		/* the parameter the cursor is in (commas before it) */
};

/* The signature of the call whose argument list holds (line, col): a function or a
 * function pointer (BPF helpers are `static long (*name)(...) = (void *)N;`). 1 with out
 * filled, 0 not in a call of one, -1 with a diagnostic. */
int vms_exact_signature(struct vms_exact *x, const char *text, size_t len, unsigned line,
			unsigned col, struct vms_exact_signature *out, struct vms_diags *d);
void vms_exact_signature_free(struct vms_exact_signature *s);

/* The process's resident memory now and at its peak (VmRSS, VmHWM of /proc/self/status),
 * in KiB; 0 where unknown. For --stats and the bench. */
void vms_exact_rss_kib(long *rss, long *hwm);

#endif
