/* The clang-exact tier of the language server: libclang with a precompiled preamble.
 *
 * clang itself parses the program's preamble (vmlinux.h and the libbpf headers) once into
 * an in-memory precompiled preamble; every later reparse of the unsaved text reuses it and
 * costs a couple of milliseconds, with clang's exact diagnostics. The first parse costs
 * what a clang run costs (about half a second with the full vmlinux.h), and the process
 * keeps the AST and the preamble (a few hundred MiB): that is why it is a tier to opt
 * into, for texts the TCC checker cannot judge or for users who want clang's messages on
 * every keystroke. libclang recovers from crashes in the parser by itself (its crash
 * recovery is on unless LIBCLANG_DISABLE_CRASH_RECOVERY is set). */
#include "serve/internal.h"

#include "common/bpf_cmdline.h"
#include "common/libclang.h"
#include <stdlib.h>
#include <string.h>

struct ctier {
	CXIndex index;
	CXTranslationUnit tu;
	char *path;
	struct vms_argv args;
};

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

struct ctier *ctier_new(const char *path, const char *src_dir, const char *const *inc,
			size_t ninc, const char *const *flags, size_t nflags,
			const char *header_dir)
{
	struct vms_diags ld = { 0 };
	int loaded = vms_libclang_load(&ld);
	vms_diags_free(&ld);
	if (loaded)
		return NULL; /* the caller falls back to the other tiers */
	struct ctier *c = vms_xcalloc(1, sizeof(*c));
#ifdef UNDER_ASAN
	/* libclang parses on a thread of its own with LLVM's alternate signal stack, which
	 * AddressSanitizer's thread teardown then fails to unmap: parse on ours instead */
	setenv("LIBCLANG_NOTHREADS", "1", 0);
#endif
	c->path = vms_xstrdup(path);
	c->index = clang_createIndex(0, 0);
	/* header_dir: its vmlinux.h is the --header one, ahead of the -I directories */
	const char **dirs = vms_xcalloc(ninc + 1, sizeof(*dirs));
	size_t n = 0;
	if (header_dir)
		dirs[n++] = header_dir;
	for (size_t i = 0; i < ninc; i++)
		dirs[n++] = inc[i];
	struct vms_bpf_cmd cmd = {
		.opts = VMS_BPF_O2,
		.iquote = src_dir,
		.inc_dirs = { dirs, n },
		.user = { { flags, nflags } },
	};
	vms_bpf_cmdline(&cmd, &c->args);
	free(dirs);
	return c;
}

void ctier_free(struct ctier *c)
{
	if (!c)
		return;
	if (c->tu)
		clang_disposeTranslationUnit(c->tu);
	clang_disposeIndex(c->index);
	vms_argv_free(&c->args);
	free(c->path);
	free(c);
}

/* Parses (first time) or reparses the text; 0 with diagnostics in d, -1 if clang failed
 * (the TU is dropped and the next call parses afresh). */
int ctier_check(struct ctier *c, const char *text, size_t len, struct vms_diags *d)
{
	struct CXUnsavedFile uf = { .Filename = c->path, .Contents = text,
				    .Length = (unsigned long)len };
	int err;
	if (!c->tu) {
		unsigned opts = CXTranslationUnit_PrecompiledPreamble |
				CXTranslationUnit_CreatePreambleOnFirstParse |
				CXTranslationUnit_KeepGoing;
		err = clang_parseTranslationUnit2(c->index, c->path,
						  (const char *const *)c->args.v, (int)c->args.n,
						  &uf, 1, opts, &c->tu) != CXError_Success;
		/* the preamble is built by the first reparse, which makes the second fast */
		if (!err)
			err = clang_reparseTranslationUnit(c->tu, 1, &uf,
							   clang_defaultReparseOptions(c->tu)) != 0;
	} else {
		err = clang_reparseTranslationUnit(c->tu, 1, &uf,
						   clang_defaultReparseOptions(c->tu)) != 0;
	}
	if (err) {
		if (c->tu)
			clang_disposeTranslationUnit(c->tu);
		c->tu = NULL;
		return -1;
	}
	unsigned n = clang_getNumDiagnostics(c->tu);
	for (unsigned i = 0; i < n; i++) {
		CXDiagnostic g = clang_getDiagnostic(c->tu, i);
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
		const char *f = clang_getCString(fname);
		vms_diag_add(d, sev >= CXDiagnostic_Error ? VMS_ERROR :
				sev == CXDiagnostic_Warning ? VMS_WARNING : VMS_NOTE,
			     f && *f ? f : NULL, (int)line, (int)col, "%s", clang_getCString(msg));
		clang_disposeString(fname);
		clang_disposeString(msg);
		clang_disposeDiagnostic(g);
	}
	return 0;
}
