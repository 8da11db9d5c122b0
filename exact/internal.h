/* exact/'s own: the checker's state, shared by the diagnostics (exact.c) and the editor
 * features (complete.c, hover.c, signature.c), which all work on the one translation
 * unit with its precompiled preamble. */
#ifndef VMSLIM_EXACT_INTERNAL_H
#define VMSLIM_EXACT_INTERNAL_H

#include "common/libclang.h"
#include "exact/exact.h"
#include "exact/libclang_more.h"

/* Completion's names from the preamble for one kind of place (identifiers, tags): the
 * full list of one completion there, kept while the preamble is the same (complete.c). */
struct exact_global {
	struct vms_hash128 key;
	int valid;
	struct vms_exact_items items;
};

struct vms_exact {
	CXIndex index;
	CXTranslationUnit tu;
	char *path;		/* the program's name, as diagnostics show it */
	char *parse_path;	/* the name clang parses it under (virtual with --header) */
	char *parse_abs;	/* the same made absolute: libclang names the main file so */
	char *src_dir;
	char *stage_dir;	/* --header: the private directory, removed by free */
	char *header;		/* --header, as given */
	struct vms_argv inc, flags;
	struct vms_argv args;	/* the current TU's command line */
	struct vms_exact_stats st;
	int features;		/* editor features wanted: completion results cached */
	struct vms_hash128 parsed;	/* the text the TU was last parsed from */
	int have_parsed;
	struct exact_global global[2];
};

/* The TU made current for text (reparsed only when it differs from the last parse):
 * 0, or -1 when clang cannot parse it (diagnostic in d). */
int exact_sync(struct vms_exact *x, const char *text, size_t len, struct vms_diags *d);

/* A file name as the user knows it: the program's for the virtual one, the header's for
 * the staged symlink (exact.c). */
const char *exact_shown_name(const struct vms_exact *x, const char *f);

/* The byte offset of (line, col), both 1-based, in text (clamped). */
size_t exact_offset(const char *text, size_t len, unsigned line, unsigned col);

/* The cursor at (line, col) of the program, and what it refers to (itself when it is a
 * declaration): 0, or -1 when there is none. */
int exact_cursor_at(struct vms_exact *x, unsigned line, unsigned col, CXCursor *at,
		    CXCursor *ref);

/* When at (an identifier's start) is a field argument of BPF_CORE_READ() or its kin:
 * the text with the call up to at rewritten as the access it expands to, "(src)->a->",
 * owned, with *new_at where the identifier now starts; NULL otherwise (complete.c). */
char *exact_core_read_rewrite(const char *t, size_t len, size_t at, size_t *new_at);
/* The 1-based line and column of offset off in t. */
void exact_line_col(const char *t, size_t off, unsigned *line, unsigned *col);

/* s's text, owned (disposes s). */
char *exact_str(CXString s);

#endif
