/* Parsing with libclang. A program is parsed from a staged copy that sits next to a
 * symlink called vmlinux.h, because a quoted include looks in the including file's own
 * directory first: that is the only way to be sure the program sees the header we were
 * given and not a vmlinux.h that happens to lie beside it. Messages name the user's path. */
#include <errno.h>
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

char *stage_program(const char *program, const char *header, char **staged_program,
		    struct vms_diags *d)
{
	char *src = NULL;
	size_t len = 0;
	int rc = vms_read_file(program, &src, &len);
	if (rc) {
		vms_diag_add(d, VMS_ERROR, program, 0, 0, "cannot read program: %s", strerror(-rc));
		return NULL;
	}
	rc = header_readable(header);
	char *real_header = rc ? NULL : vms_realpath(header);
	if (!real_header) {
		vms_diag_add(d, VMS_ERROR, header, 0, 0, "cannot read header: %s",
			     strerror(rc ? -rc : errno));
		free(src);
		return NULL;
	}
	char *dir = vms_make_tempdir("vmslim-stage");
	if (!dir) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot create a temporary directory: %s",
			     strerror(errno));
		free(src), free(real_header);
		return NULL;
	}
	char *link1 = vms_xasprintf("%s/vmlinux.h", dir);
	char *link2 = vms_xasprintf("%s/%s", dir, vms_basename(header));
	char *copy = vms_xasprintf("%s/%s", dir, vms_basename(program));
	int ok = symlink(real_header, link1) == 0 &&
		 (!strcmp(link1, link2) || symlink(real_header, link2) == 0 || errno == EEXIST) &&
		 vms_write_file_atomic(copy, src, len, 0644) == 0;
	if (!ok) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot stage %s in %s: %s", program, dir,
			     strerror(errno));
		vms_remove_tree(dir);
		free(dir);
		dir = NULL;
		free(copy);
		copy = NULL;
	}
	free(link1), free(link2), free(src), free(real_header);
	*staged_program = copy;
	return dir;
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
			if (fn && p->temp_path && !strcmp(fn, p->temp_path))
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
		vms_diag_add(d, VMS_ERROR, p->shown_path, 0, 0,
			     "libclang could not parse the file (error %d)", (int)e);
		return -1;
	}
	size_t before = vms_diags_count(d, VMS_ERROR);
	collect_errors(p, d);
	return vms_diags_count(d, VMS_ERROR) > before ? -1 : 0;
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
	vms_bpf_cmdline(&(struct vms_bpf_cmd){ .opts = VMS_BPF_LANG_C }, &args);
	int rc = parse(idx, header, &args, CXTranslationUnit_SkipFunctionBodies, p, d);
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

int parse_program(CXIndex idx, const char *program, const char *header,
		  const char *const *clang_args, struct parsed *p, struct vms_diags *d)
{
	memset(p, 0, sizeof(*p));
	p->shown_path = vms_xstrdup(program);
	p->temp_dir = stage_program(program, header, &p->temp_path, d);
	if (!p->temp_dir)
		return -1;
	/* the program's other quoted includes still come from its own directory */
	char *progdir = vms_dirname(program);
	struct vms_argv args = { 0 };
	vms_bpf_cmdline(&(struct vms_bpf_cmd){ .opts = VMS_BPF_LANG_C, .iquote = progdir,
					       .user = { VMS_ARGS(clang_args) } },
			&args);
	free(progdir);
	int rc = parse(idx, p->temp_path, &args, CXTranslationUnit_None, p, d);
	vms_argv_free(&args);
	if (rc)
		return rc;
	char *link1 = vms_xasprintf("%s/vmlinux.h", p->temp_dir);
	char *link2 = vms_xasprintf("%s/%s", p->temp_dir, vms_basename(header));
	p->header = clang_getFile(p->tu, link1);
	if (!tu_includes(p->tu, p->header))
		p->header = clang_getFile(p->tu, link2);
	if (!tu_includes(p->tu, p->header))
		p->header = NULL;
	free(link1), free(link2);
	if (!p->header) {
		vms_diag_add(d, VMS_ERROR, program, 0, 0,
			     "the program does not include the header (expected #include \"vmlinux.h\" or \"%s\")",
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
	free(p->temp_path);
	if (p->temp_dir) {
		vms_remove_tree(p->temp_dir);
		free(p->temp_dir);
	}
	memset(p, 0, sizeof(*p));
}
