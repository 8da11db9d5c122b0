/* The exact checker: libclang with a precompiled preamble (see exact.h).
 *
 * How a check goes. The first one parses the text with CXTranslationUnit_PrecompiledPreamble
 * and CreatePreambleOnFirstParse: clang compiles the text's preamble (the leading
 * #include/#define lines) into a PCH held by the translation unit, then parses the rest
 * against it. Every later check is clang_reparseTranslationUnit with the new text as an
 * unsaved file: while the preamble's bytes are unchanged clang reuses the PCH and lexes only
 * the body (a few ms with the full vmlinux.h); an edit inside the preamble rebuilds it.
 *
 * Memory. The PCH's declarations are deserialized lazily, only those the body names, so
 * after the first parse the process holds the body's AST and the PCH (clang 14 writes it
 * to $TMPDIR and maps it: 15 MB with the full 6.18 vmlinux.h). Measured with that header
 * (`check --exact --stats`): VmRSS 97 MiB after the first check, of which 65 MiB are
 * libLLVM's and libclang's code pages, 12 MiB the mapped PCH, 9 MiB heap; VmHWM 157 MiB,
 * the header's whole AST while the PCH is written. Options that would keep less do not
 * here: no detailed preprocessing record and no completion cache are already the case
 * (clang_defaultEditingTranslationUnitOptions would add the cache), and skipping function
 * bodies in the preamble (LimitSkipFunctionBodiesToPreamble) changed neither figure while
 * it would hide errors in headers' inline functions. What the build freed is handed back
 * to the kernel right after it (malloc_trim): without it glibc keeps 138 MiB resident.
 *
 * --header. `#include "vmlinux.h"` looks beside the including file first, so an -I
 * directory alone cannot redirect it. The program is therefore parsed under a virtual name
 * in a private directory that holds only a vmlinux.h symlink to the header, with the real
 * directory as -iquote (the program's other quoted includes resolve as before) and the
 * private directory first in -I (for <vmlinux.h>). Diagnostics are mapped back to the
 * program's own name and the header's. */
#include "exact/exact.h"
#include "exact/internal.h"

#include "common/bpf_cmdline.h"
#include "common/libclang.h"
#include "common/ppscan.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

/* What libclang is asked to keep; see the theory at the top of this file. */
static unsigned parse_options(const struct vms_exact *x)
{
	/* completion's global results (every type, function and constant vmlinux.h declares,
	 * ~100k) are collected once per preamble rather than walked on every request */
	return CXTranslationUnit_PrecompiledPreamble | CXTranslationUnit_CreatePreambleOnFirstParse |
	       CXTranslationUnit_KeepGoing |
	       (x->features ? CXTranslationUnit_CacheCompletionResults : 0);
}

int vms_exact_new(const struct vms_exact_opts *o, const char *path, struct vms_exact **out,
		  struct vms_diags *d)
{
	*out = NULL;
	if (vms_libclang_load(d) < 0 || (o->features && vms_xclang_load(d) < 0))
		return -1;
#ifdef UNDER_ASAN
	/* libclang parses on a thread of its own with LLVM's alternate signal stack, which
	 * AddressSanitizer's thread teardown then fails to unmap: parse on ours instead */
	setenv("LIBCLANG_NOTHREADS", "1", 0);
#endif
	struct vms_exact *x = vms_xcalloc(1, sizeof(*x));
	x->path = vms_xstrdup(path);
	x->features = o->features;
	x->src_dir = o->src_dir ? vms_xstrdup(o->src_dir) : vms_dirname(path);
	for (size_t i = 0; i < o->n_inc; i++)
		vms_argv_push(&x->inc, o->include_dirs[i]);
	for (size_t i = 0; i < o->n_flags; i++)
		vms_argv_push(&x->flags, o->flags[i]);
	if (o->vmlinux_header && strcmp(vms_basename(path), "vmlinux.h")) {
		char *real = realpath(o->vmlinux_header, NULL);
		if (!real) {
			vms_diag_add(d, VMS_ERROR, o->vmlinux_header, 0, 0, "cannot open the header: %s",
				     strerror(errno));
			vms_exact_free(x);
			return -1;
		}
		x->stage_dir = vms_make_tempdir("vmslim-exact");
		char *link = x->stage_dir ? vms_xasprintf("%s/vmlinux.h", x->stage_dir) : NULL;
		if (!link || symlink(real, link) < 0) {
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
				     "cannot stage the header for libclang: %s", strerror(errno));
			free(link);
			free(real);
			vms_exact_free(x);
			return -1;
		}
		free(link);
		x->header = real;
		x->parse_path = vms_xasprintf("%s/%s", x->stage_dir, vms_basename(path));
	} else {
		x->parse_path = vms_xstrdup(path);
	}
	x->parse_abs = vms_realpath(x->parse_path);
	if (!x->parse_abs && x->parse_path[0] != '/') { /* a program not on disk (yet) */
		char *cwd = getcwd(NULL, 0);
		if (cwd)
			x->parse_abs = vms_xasprintf("%s/%s", cwd, x->parse_path);
		free(cwd);
	}
	x->index = clang_createIndex(0, 0);
	*out = x;
	return 0;
}

void vms_exact_free(struct vms_exact *x)
{
	if (!x)
		return;
	if (x->tu)
		clang_disposeTranslationUnit(x->tu);
	if (x->index)
		clang_disposeIndex(x->index);
	if (x->stage_dir) {
		vms_remove_tree(x->stage_dir);
		free(x->stage_dir);
	}
	vms_argv_free(&x->inc);
	vms_argv_free(&x->flags);
	vms_argv_free(&x->args);
	for (int i = 0; i < 2; i++)
		if (x->features)
			vms_exact_items_free(&x->global[i].items);
	free(x->header);
	free(x->path);
	free(x->parse_path);
	free(x->parse_abs);
	free(x->src_dir);
	free(x);
}

void vms_exact_get_stats(const struct vms_exact *x, struct vms_exact_stats *s)
{
	*s = x->st;
}

/* ---- the command line ------------------------------------------------------------ */

struct arch_scan {
	struct vms_argv defs;
};

/* A #define of __TARGET_ARCH_* in the text: the program chose its architecture. */
static int note_arch(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	(void)s;
	struct arch_scan *a = ctx;
	if (d->name_len == 6 && !memcmp(d->name, "define", 6) && d->text_len > 14 &&
	    !memcmp(d->text, "__TARGET_ARCH_", 14)) {
		size_t n = 0;
		while (n < d->text_len && d->text[n] != ' ' && d->text[n] != '(')
			n++;
		char *name = vms_xstrndup(d->text, n);
		vms_argv_push(&a->defs, name);
		free(name);
	}
	return 0;
}

/* The arguments for this text: the BPF command line (target, -O2, the architecture rule
 * with the text's own defines), the include path, the user's flags, and the one warning
 * made an error that the fast checker also reports as one: an implicit function
 * declaration, which clang 16+ and the BPF backend reject (clang 14 only warns). */
static void build_args(const struct vms_exact *x, const char *text, size_t len,
		       struct vms_argv *out)
{
	static const char *const extra[] = { "-Werror=implicit-function-declaration" };
	struct arch_scan a = { { 0 } };
	struct vms_pp_src s;
	struct vms_diags ignored = { 0 };
	if (vms_pp_open(&s, text, len, 0, x->path, &ignored) == 0)
		vms_pp_scan(&s, 0, &(struct vms_pp_ops){ .directive = note_arch, .ctx = &a });
	vms_pp_close(&s);
	vms_diags_free(&ignored);
	const char **dirs = vms_xcalloc(x->inc.n + 1, sizeof(*dirs));
	size_t n = 0;
	if (x->stage_dir)
		dirs[n++] = x->stage_dir;
	for (size_t i = 0; i < x->inc.n; i++)
		dirs[n++] = x->inc.v[i];
	struct vms_bpf_cmd cmd = {
		.opts = VMS_BPF_O2,
		.iquote = x->stage_dir ? x->src_dir : NULL,
		.inc_dirs = { dirs, n },
		.user = { { (const char *const *)x->flags.v, x->flags.n } },
		.source_defines = { (const char *const *)a.defs.v, a.defs.n },
		.extra = { extra, 1 },
	};
	vms_bpf_cmdline(&cmd, out);
	free(dirs);
	vms_argv_free(&a.defs);
}


/* ---- checks ---------------------------------------------------------------------- */

/* A diagnostic's file as the user knows it: the program's name for the virtual one, the
 * header's for the staged symlink. */
const char *exact_shown_name(const struct vms_exact *x, const char *f)
{
	if (!f || !*f)
		return NULL;
	if (!strcmp(f, x->parse_path) || (x->parse_abs && !strcmp(f, x->parse_abs)))
		return x->path;
	if (x->stage_dir) {
		size_t n = strlen(x->stage_dir);
		if (!strncmp(f, x->stage_dir, n) && !strcmp(f + n, "/vmlinux.h"))
			return x->header;
	}
	return f;
}

static void take_diags(const struct vms_exact *x, struct vms_diags *out)
{
	unsigned n = clang_getNumDiagnostics(x->tu);
	for (unsigned i = 0; i < n; i++) {
		CXDiagnostic g = clang_getDiagnostic(x->tu, i);
		enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(g);
		if (sev == CXDiagnostic_Ignored) {
			clang_disposeDiagnostic(g);
			continue;
		}
		CXFile file;
		unsigned line = 0, col = 0;
		clang_getSpellingLocation(clang_getDiagnosticLocation(g), &file, &line, &col, NULL);
		CXString fname = clang_getFileName(file);
		CXString msg = clang_getDiagnosticSpelling(g);
		vms_diag_add(out, sev >= CXDiagnostic_Error ? VMS_ERROR :
				  sev == CXDiagnostic_Warning ? VMS_WARNING : VMS_NOTE,
			     exact_shown_name(x, clang_getCString(fname)), (int)line, (int)col, "%s",
			     clang_getCString(msg));
		clang_disposeString(fname);
		clang_disposeString(msg);
		clang_disposeDiagnostic(g);
	}
}

/* Parses text (reparses: the preamble reused while unchanged) unless it is what the TU
 * was last parsed from with the same command line. 0, or -1 with the TU dropped. */
static int parse(struct vms_exact *x, const char *text, size_t len, int *first_out,
		 struct vms_diags *out)
{
	struct CXUnsavedFile uf = { .Filename = x->parse_path, .Contents = text,
				    .Length = (unsigned long)len };
	struct vms_argv args = { 0 };
	build_args(x, text, len, &args);
	if (x->tu && !vms_argv_equal(&args, &x->args)) {
		/* the text changed its own architecture define: a new command line */
		clang_disposeTranslationUnit(x->tu);
		x->tu = NULL;
	}
	if (x->tu && x->have_parsed && x->features) {
		/* an editor request already made the TU current for this very text */
		struct vms_hash128 h = vms_hash128(text, len);
		if (h.hi == x->parsed.hi && h.lo == x->parsed.lo) {
			vms_argv_free(&args);
			*first_out = 0;
			return 0;
		}
	}
	int err = 0, first = !x->tu;
	if (first) {
		vms_argv_free(&x->args);
		x->args = args;
		memset(&args, 0, sizeof(args));
		err = clang_parseTranslationUnit2(x->index, x->parse_path,
						  (const char *const *)x->args.v, (int)x->args.n, &uf,
						  1, parse_options(x), &x->tu) != CXError_Success;
		x->st.preamble_builds++;
		/* the PCH build's whole AST is freed by now: give its pages back */
		malloc_trim(0);
	} else {
		err = clang_reparseTranslationUnit(x->tu, 1, &uf,
						   clang_defaultReparseOptions(x->tu)) != 0;
	}
	vms_argv_free(&args);
	if (err) {
		/* a failed reparse leaves the TU unusable; the next check parses afresh */
		if (x->tu)
			clang_disposeTranslationUnit(x->tu);
		x->tu = NULL;
		x->have_parsed = 0;
		vms_diag_add(out, VMS_ERROR, x->path, 0, 0,
			     "libclang could not parse the program (clang crashed or the command "
			     "line is invalid)");
		return -1;
	}
	x->parsed = vms_hash128(text, len);
	x->have_parsed = 1;
	*first_out = first;
	return 0;
}

int exact_sync(struct vms_exact *x, const char *text, size_t len, struct vms_diags *d)
{
	int first;
	return parse(x, text, len, &first, d);
}

int vms_exact_check(struct vms_exact *x, const char *text, size_t len, struct vms_diags *out)
{
	double t0 = vms_now_ms();
	int first = 0;
	if (parse(x, text, len, &first, out) < 0)
		return -1;
	take_diags(x, out);
	x->st.last_ms = vms_now_ms() - t0;
	if (first && !x->st.first_ms)
		x->st.first_ms = x->st.last_ms;
	x->st.checks++;
	return 0;
}

void vms_exact_rss_kib(long *rss, long *hwm)
{
	*rss = *hwm = 0;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*rss = atol(line + 6);
		else if (!strncmp(line, "VmHWM:", 6))
			*hwm = atol(line + 6);
	}
	fclose(f);
}
