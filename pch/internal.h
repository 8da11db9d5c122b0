/* Internals shared by the files of pch/; not part of the API. */
#ifndef VMSLIM_PCH_INTERNAL_H
#define VMSLIM_PCH_INTERNAL_H

#include "pch/pch.h"

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

/* ---- btfcheck.c ---- */

/* Is an object built with -gmodules the same object, BTF included, as with -g? Header
 * types become forward declarations under -gmodules; the object passes only when no FWD
 * is reachable from a VAR or FUNC. 1 safe, 0 not (reason in *why, owned), -1 unreadable. */
int pch_gmodules_object_ok(const char *obj, char **why);

#endif
