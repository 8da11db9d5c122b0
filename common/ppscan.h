/* The one preprocessor-line scanner: finds every directive of a C source the way clang's
 * lexer does (C/gnu modes), with a map from the spliced text back to physical lines. */
#ifndef VMSLIM_COMMON_PPSCAN_H
#define VMSLIM_COMMON_PPSCAN_H

#include <stddef.h>

#include "common/common.h"

enum {
	/* vms_pp_open: refuse, with a diagnostic, the spellings compilers read differently:
	 * a NUL byte, a lone CR, a backslash separated from its newline by blanks (clang
	 * splices there, TCC does not). Without it they are read as clang reads them. */
	VMS_PP_STRICT = 1 << 0,
	/* vms_pp_scan: also report directive-looking lines inside block comments (with
	 * in_comment set), for a reader that must not miss one whatever a compiler makes of
	 * the comment (confinement). */
	VMS_PP_COMMENT_LINES = 1 << 1,
	/* vms_pp_scan: R"delim(...)delim" is a raw string (with prefixes L, u, U, u8), as
	 * clang 19 reads C in its default gnu17 mode (and gnu99/gnu11); clang 14, and any
	 * clang with -std=cXX or gnu89, has none. A reader that must see every directive
	 * under either reading scans twice. */
	VMS_PP_RAW_STRINGS = 1 << 2,
	/* vms_pp_scan: a block comment holding a newline ends the line for a '#' that comes
	 * next, so `x; /<star>\n<star>/ #include` reports a directive. clang does not read it
	 * so; confinement does, in case some compiler does. */
	VMS_PP_COMMENT_BOL = 1 << 3,
	/* vms_pp_scan: also read as blanks what no clang does but an editor shows as nothing:
	 * a BOM after the start of the text, U+200B-U+200D, U+2060 (confinement's caution;
	 * clang's own Unicode blanks are blanks always). */
	VMS_PP_WIDE_BLANKS = 1 << 4,
};

/* A source after translation phases 1-2: a UTF-8 BOM at the start dropped, CRLF and lone
 * CR read as LF, backslash-newline splices removed. t is that logical text. */
struct vms_pp_src {
	const char *phys;	/* the source as given (not owned) */
	size_t phys_len;
	char *t;		/* logical text, NUL-terminated */
	size_t n;
	size_t *seg_log, *seg_phys; /* t[seg_log[k]...] comes from phys[seg_phys[k]...] */
	size_t nseg;
	size_t *line_start;	/* physical offset of each physical line */
	size_t nlines;
};

/* One directive. name/raw point into the logical text; text and text_off belong to the
 * scanner and live until the callback returns. */
struct vms_pp_dir {
	const char *name;	/* "include", "define", ...; "" for the null directive */
	size_t name_len;
	const char *raw;	/* the rest of the logical line, comments and all (no newline) */
	size_t raw_len;
	/* The rest as tokens see it: comments and blank runs become one space, ends trimmed;
	 * string/char literals and an #include's <header-name> are kept byte for byte. */
	const char *text;
	const size_t *text_off;	/* logical offset of each byte of text */
	size_t text_len;
	size_t start;		/* logical offset where the directive's line begins */
	size_t hash;		/* logical offset of '#' (or of "%:") */
	size_t end;		/* logical offset past its newline (or the end of text) */
	int line, col;		/* physical position of the '#', 1-based (col in bytes) */
	int in_comment;		/* found inside a block comment (VMS_PP_COMMENT_LINES) */
};

/* A line of code (anything that is not a directive and has a token on it): same fields. */
struct vms_pp_code {
	const char *text;
	const size_t *text_off;
	size_t text_len;
	size_t start, end;	/* logical offsets: the line's start, past its newline */
	int line;		/* physical line of its first token */
};

/* Callbacks, either may be NULL; a nonzero return stops the scan and is returned by it. */
struct vms_pp_ops {
	int (*directive)(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d);
	int (*code)(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c);
	void *ctx;
};

/* 0, or -1 with a diagnostic naming file (VMS_PP_STRICT refusals only). s is to be
 * closed either way. */
int vms_pp_open(struct vms_pp_src *s, const char *src, size_t len, unsigned flags,
		const char *file, struct vms_diags *d);
void vms_pp_close(struct vms_pp_src *s);
/* The directives and code lines in order; 0 or what a callback returned. */
int vms_pp_scan(const struct vms_pp_src *s, unsigned flags, const struct vms_pp_ops *ops);
/* Whether the text ends inside a block comment, read as vms_pp_scan reads it with flags
 * (a cut at the end would leave that comment open). */
int vms_pp_ends_in_comment(const struct vms_pp_src *s, unsigned flags);
/* The length of the UTF-8 sequence at p (left bytes) when it is one of the code points
 * clang reads as whitespace (its isUnicodeWhitespace), or 0. */
size_t vms_pp_unicode_blank(const char *p, size_t left);
/* Where logical offset off (<= n) came from: physical byte offset, line and column. */
size_t vms_pp_phys(const struct vms_pp_src *s, size_t off);
void vms_pp_locate(const struct vms_pp_src *s, size_t off, int *line, int *col);

#endif
