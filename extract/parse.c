/* Parsing with libclang. A program is parsed from a staged copy (stage.c) whose every
 * route to vmlinux.h leads to the header we were given, never to a vmlinux.h that happens
 * to lie beside it. Messages name the user's path. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bpf_cmdline.h"
#include "extract/internal.h"

CXFile cursor_file(CXCursor c, unsigned *line, unsigned *offset)
{
	CXFile f = NULL;
	unsigned l = 0, col = 0, off = 0;
	clang_getExpansionLocation(clang_getCursorLocation(c), &f, &l, &col, &off);
	if (line)
		*line = l;
	if (offset)
		*offset = off;
	return f;
}

int header_readable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || access(path, R_OK) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? -EISDIR : 0;
}

static void collect_errors(const struct parsed *p, struct vms_diags *d)
{
	unsigned n = clang_getNumDiagnostics(p->tu);
	for (unsigned i = 0; i < n; i++) {
		CXDiagnostic g = clang_getDiagnostic(p->tu, i);
		enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(g);
		if (sev >= CXDiagnostic_Error) {
			CXFile f;
			unsigned line, col;
			clang_getExpansionLocation(clang_getDiagnosticLocation(g), &f, &line, &col, NULL);
			CXString fname = clang_getFileName(f);
			const char *fn = clang_getCString(fname);
			if (fn && p->stage.program && !strcmp(fn, p->stage.program))
				fn = p->shown_path;
			CXString msg = clang_getDiagnosticSpelling(g);
			vms_diag_add(d, VMS_ERROR, fn && *fn ? fn : p->shown_path, (int)line, (int)col,
				     "%s", clang_getCString(msg));
			clang_disposeString(msg);
			clang_disposeString(fname);
		}
		clang_disposeDiagnostic(g);
	}
}

static int parse(CXIndex idx, const char *path, struct vms_argv *args, unsigned flags,
		 struct parsed *p, struct vms_diags *d)
{
	enum CXErrorCode e = clang_parseTranslationUnit2(idx, path, (const char *const *)args->v,
							 (int)args->n, NULL, 0, flags, &p->tu);
	if (e != CXError_Success || !p->tu) {
		p->tu = NULL;
		vms_diag_add(d, VMS_ERROR, p->shown_path, 0, 0,
			     "libclang could not parse the file (error %d)", (int)e);
		return -1;
	}
	return 0;
}

static int parse_errors(const struct parsed *p, struct vms_diags *d)
{
	size_t before = vms_diags_count(d, VMS_ERROR);
	collect_errors(p, d);
	return vms_diags_count(d, VMS_ERROR) > before ? -1 : 0;
}

/* libclang 14 puts its own guess over any -resource-dir it is given (a path next to the
 * shared library, which distributions move: Debian's libclang-14.so lies in
 * /usr/lib/x86_64-linux-gnu, so it looks in /usr/lib/lib/clang/14.0.6). The directory's
 * include/ is therefore also added as -isystem, after every -I as in a real compile. */
static char *resource_dir;
static const char *resource_flags[3] = { "-isystem", NULL, NULL };

/* the clang that verify compiles with, so both see the same compiler headers */
static void ask_resource_dir(void)
{
	const char *clang = getenv("VMSLIM_CLANG");
	char *argv[] = { (char *)(clang && *clang ? clang : "clang"), "-print-resource-dir",
			 NULL };
	struct vms_proc_result r;
	if (vms_run(argv, NULL, 0, 30000, &r))
		return;
	size_t n = r.out_len;
	while (n && (r.out[n - 1] == '\n' || r.out[n - 1] == '\r'))
		n--;
	if (r.exit_code == 0 && n) {
		resource_dir = vms_xstrndup(r.out, n);
		resource_flags[1] = vms_xasprintf("%s/include", resource_dir);
	}
	vms_proc_result_free(&r);
}

/* asked once per process; NULL when clang cannot say */
static const char *clang_resource_dir(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, ask_resource_dir);
	return resource_dir;
}

/* A libclang command line: -x c, BPF, the resource directory; the caller adds the rest. */
static struct vms_bpf_cmd libclang_cmd(void)
{
	const char *rd = clang_resource_dir();
	return (struct vms_bpf_cmd){ .opts = VMS_BPF_LANG_C, .resource_dir = rd,
				     .extra = rd ? VMS_ARGS(resource_flags) : (struct vms_args){ 0 } };
}

struct vms_bpf_cmd parse_libclang_cmd(void)
{
	return libclang_cmd();
}

int parse_header_alone(CXIndex idx, const char *header, struct parsed *p, struct vms_diags *d)
{
	memset(p, 0, sizeof(*p));
	p->shown_path = vms_xstrdup(header);
	if (access(header, R_OK) != 0) {
		vms_diag_add(d, VMS_ERROR, header, 0, 0, "cannot read header: %s", strerror(errno));
		return -1;
	}
	struct vms_argv args = { 0 };
	struct vms_bpf_cmd cmd = libclang_cmd();
	vms_bpf_cmdline(&cmd, &args);
	int rc = parse(idx, header, &args, CXTranslationUnit_SkipFunctionBodies, p, d);
	if (!rc)
		rc = parse_errors(p, d);
	vms_argv_free(&args);
	if (rc == 0) {
		p->header = clang_getFile(p->tu, header);
		if (!p->header) {
			vms_diag_add(d, VMS_ERROR, header, 0, 0, "libclang lost track of the header");
			return -1;
		}
	}
	return rc;
}

struct find_inclusion {
	CXFile want;
	int found;
};

static void inclusion_visitor(CXFile included, CXSourceLocation *stack, unsigned depth,
			      CXClientData data)
{
	(void)stack, (void)depth;
	struct find_inclusion *f = data;
	if (clang_File_isEqual(included, f->want))
		f->found = 1;
}

/* clang_getFile() finds any file on disk, so ask which files the unit really included */
static int tu_includes(CXTranslationUnit tu, CXFile f)
{
	struct find_inclusion fi = { .want = f };
	if (f)
		clang_getInclusions(tu, inclusion_visitor, &fi);
	return fi.found;
}

static void name_visitor(CXFile included, CXSourceLocation *stack, unsigned depth,
			 CXClientData data)
{
	(void)stack, (void)depth;
	CXString name = clang_getFileName(included);
	const char *s = clang_getCString(name);
	if (s && *s)
		vms_argv_push(data, s);
	clang_disposeString(name);
}

/* 1 when the unit included a vmlinux.h that escaped the stage (now redirected: parse
 * again), 0 when none did, -1 on error */
static int redirect_escapes(struct parsed *p, struct vms_diags *d)
{
	struct vms_argv names = { 0 };
	clang_getInclusions(p->tu, name_visitor, &names);
	int rc = 0;
	for (size_t i = 0; i < names.n && rc >= 0; i++) {
		int r = stage_redirect(&p->stage, names.v[i], d);
		rc = r ? r : rc;
	}
	vms_argv_free(&names);
	return rc;
}

/* A vmlinux.h beside a header only shows once the header is included, and the header
 * redirected may include others; a few rounds settle any real project. */
#define MAX_REDIRECT_ROUNDS 8

int parse_program(CXIndex idx, const char *program, const char *header,
		  const char *const *clang_args, struct parsed *p, struct vms_diags *d)
{
	memset(p, 0, sizeof(*p));
	p->shown_path = vms_xstrdup(program);
	if (stage_create(&p->stage, program, header, clang_args, d))
		return -1;
	for (int round = 0;; round++) {
		struct vms_argv args = { 0 };
		struct vms_bpf_cmd cmd = libclang_cmd();
		stage_cmd(&p->stage, &cmd);
		vms_bpf_cmdline(&cmd, &args);
		int rc = parse(idx, p->stage.program, &args, CXTranslationUnit_None, p, d);
		vms_argv_free(&args);
		if (rc)
			return rc;
		int again = round < MAX_REDIRECT_ROUNDS ? redirect_escapes(p, d) : 0;
		if (again < 0)
			return -1;
		if (!again)
			break;
		clang_disposeTranslationUnit(p->tu);
		p->tu = NULL;
	}
	if (parse_errors(p, d))
		return -1;
	char *link1 = vms_xasprintf("%s/vmlinux.h", p->stage.dir);
	char *link2 = vms_xasprintf("%s/%s", p->stage.dir, p->stage.header_name);
	p->header = clang_getFile(p->tu, link1);
	if (!tu_includes(p->tu, p->header))
		p->header = clang_getFile(p->tu, link2);
	if (!tu_includes(p->tu, p->header))
		p->header = NULL;
	free(link1), free(link2);
	if (!p->header) {
		vms_diag_add(d, VMS_ERROR, program, 0, 0,
			     "the program does not include the header (expected #include \"vmlinux.h\", <vmlinux.h> or \"%s\")",
			     vms_basename(header));
		return -1;
	}
	return 0;
}

void parsed_dispose(struct parsed *p)
{
	if (p->tu)
		clang_disposeTranslationUnit(p->tu);
	free(p->shown_path);
	stage_free(&p->stage);
	memset(p, 0, sizeof(*p));
}
