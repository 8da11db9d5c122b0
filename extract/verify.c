/* vmslim verify: the proof that a slim header changed nothing. The program is compiled
 * twice from the same staged path, first with vmlinux.h pointing at the full header and
 * then at the slim one, so file names in debug info match and only the header differs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bpf_cmdline.h"
#include "extract/internal.h"
#include "bpfobj/bpfobj.h"

static int relink(const char *dir, const char *name, const char *target, struct vms_diags *d)
{
	char *real = vms_realpath(target);
	if (!real) {
		vms_diag_add(d, VMS_ERROR, target, 0, 0, "cannot read header: %s", strerror(errno));
		return -1;
	}
	char *link = vms_xasprintf("%s/%s", dir, name);
	unlink(link);
	int rc = symlink(real, link);
	if (rc)
		vms_diag_add(d, VMS_ERROR, link, 0, 0, "cannot create symlink: %s", strerror(errno));
	free(link);
	free(real);
	return rc ? -1 : 0;
}

/* clang's messages name the staged copy; users should see their own path */
static char *unstage_paths(const char *text, const char *staged, const char *shown)
{
	struct vms_buf b = { 0 };
	size_t sl = strlen(staged);
	for (const char *p = text; *p;) {
		const char *hit = strstr(p, staged);
		if (!hit) {
			vms_buf_puts(&b, p);
			break;
		}
		vms_buf_append(&b, p, (size_t)(hit - p));
		vms_buf_puts(&b, shown);
		p = hit + sl;
	}
	return vms_buf_steal(&b);
}

static int compile(const struct vms_verify_opts *o, const char *staged, const char *obj,
		   const char *which, struct vms_diags *d)
{
	char *progdir = vms_dirname(o->program);
	struct vms_argv a = { 0 };
	vms_bpf_cmdline(&(struct vms_bpf_cmd){ .clang = o->clang ? o->clang : "clang",
					       .opts = VMS_BPF_DEBUG | VMS_BPF_O2,
					       .iquote = progdir,
					       .user = { VMS_ARGS(o->clang_args) },
					       .input = staged, .output = obj },
			&a);
	free(progdir);
	struct vms_proc_result r;
	int rc = vms_run(a.v, NULL, 0, 600000, &r);
	if (rc) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot run %s: %s", a.v[0], strerror(-rc));
		vms_argv_free(&a);
		return -1;
	}
	if (r.exit_code != 0) {
		char *msg = unstage_paths(r.err, staged, o->program);
		vms_diag_add(d, VMS_ERROR, o->program, 0, 0,
			     "does not compile with the %s header (%s exit %d):\n%s", which, a.v[0],
			     r.exit_code, msg);
		free(msg);
		rc = -1;
	}
	vms_proc_result_free(&r);
	vms_argv_free(&a);
	return rc;
}

static int keep_copy(const char *from, const char *dir, const char *name, struct vms_diags *d)
{
	char *data;
	size_t len;
	int rc = vms_read_file(from, &data, &len);
	if (rc)
		return -1;
	char *to = vms_xasprintf("%s/%s", dir, name);
	rc = vms_write_file_atomic(to, data, len, 0644);
	if (rc)
		vms_diag_add(d, VMS_ERROR, to, 0, 0, "cannot write: %s", strerror(-rc));
	free(to);
	free(data);
	return rc ? -1 : 0;
}

int vms_verify(const struct vms_verify_opts *o, struct vms_diags *d)
{
	int e = header_readable(o->slim_header);
	if (e) {
		vms_diag_add(d, VMS_ERROR, o->slim_header, 0, 0, "cannot read header: %s",
			     strerror(-e));
		return -1;
	}
	char *staged = NULL;
	char *dir = stage_program(o->program, o->full_header, &staged, d);
	if (!dir)
		return -1;
	int rc = -1;
	char *full_o = vms_xasprintf("%s/full.o", dir), *slim_o = vms_xasprintf("%s/slim.o", dir);
	if (compile(o, staged, full_o, "full", d))
		goto out;
	if (relink(dir, "vmlinux.h", o->slim_header, d) ||
	    (strcmp(vms_basename(o->full_header), "vmlinux.h") &&
	     relink(dir, vms_basename(o->full_header), o->slim_header, d)))
		goto out;
	if (compile(o, staged, slim_o, "slim", d))
		goto out;
	rc = vms_obj_compare(full_o, slim_o, d);
	if (o->keep_dir && rc >= 0) {
		vms_mkdir_p(o->keep_dir, 0755);
		if (keep_copy(full_o, o->keep_dir, "full.o", d) ||
		    keep_copy(slim_o, o->keep_dir, "slim.o", d))
			rc = -1;
	}
out:
	vms_remove_tree(dir);
	free(dir);
	free(staged);
	free(full_o);
	free(slim_o);
	return rc;
}
