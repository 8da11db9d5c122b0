/* vmslim verify: the proof that a slim header changed nothing. The program is compiled
 * twice from the same staged path (stage.c), first with every route to vmlinux.h leading to
 * the full header and then to the slim one, so file names in debug info match and only the
 * header differs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bpf_cmdline.h"
#include "extract/internal.h"
#include "bpfobj/bpfobj.h"

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

/* Drops clang's -H lines (". path", ".. path", ...) from its messages, handing each path
 * to stage_redirect; 1 when one of them escaped the stage and is now redirected. */
static int take_include_trace(struct stage *st, char *err, struct vms_diags *d)
{
	int rc = 0;
	char *w = err;
	for (char *line = err; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl + 1 - line) : strlen(line);
		const char *q = line;
		while (*q == '.')
			q++;
		if (q > line && *q == ' ') {
			char *path = vms_xstrndup(q + 1, len - (size_t)(q + 1 - line) - (nl != NULL));
			int r = stage_redirect(st, path, d);
			rc = rc < 0 ? rc : r ? r : rc;
			free(path);
		} else {
			memmove(w, line, len);
			w += len;
		}
		line += len;
	}
	*w = 0;
	return rc;
}

/* 0 compiled, 1 a vmlinux.h escaped the stage (redirected now: compile again), -1 error */
static int compile(const struct vms_verify_opts *o, struct stage *st, const char *obj,
		   const char *which, struct vms_diags *d)
{
	static const char *const trace[] = { "-H", NULL };
	struct vms_argv a = { 0 };
	struct vms_bpf_cmd cmd = { .clang = o->clang ? o->clang : "clang",
				   .opts = VMS_BPF_DEBUG | VMS_BPF_O2,
				   .extra = VMS_ARGS(trace),
				   .input = st->program, .output = obj };
	stage_cmd(st, &cmd);
	vms_bpf_cmdline(&cmd, &a);
	struct vms_proc_result r;
	int rc = vms_run(a.v, NULL, 0, 600000, &r);
	if (rc) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot run %s: %s", a.v[0], strerror(-rc));
		vms_argv_free(&a);
		return -1;
	}
	rc = take_include_trace(st, r.err, d);
	if (rc == 0 && r.exit_code != 0) {
		char *msg = unstage_paths(r.err, st->program, o->program);
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

/* A vmlinux.h that escaped the stage shows in clang's include trace (-H), of either
 * compile: redirect it and compile both again, a few rounds at most. */
#define MAX_REDIRECT_ROUNDS 8

int vms_verify(const struct vms_verify_opts *o, struct vms_diags *d)
{
	int e = header_readable(o->slim_header);
	if (e) {
		vms_diag_add(d, VMS_ERROR, o->slim_header, 0, 0, "cannot read header: %s",
			     strerror(-e));
		return -1;
	}
	struct stage st;
	if (stage_create(&st, o->program, o->full_header, o->clang_args, d))
		return -1;
	int rc = -1;
	char *full_o = vms_xasprintf("%s/full.o", st.dir), *slim_o = vms_xasprintf("%s/slim.o", st.dir);
	for (int round = 0;; round++) {
		if (round > MAX_REDIRECT_ROUNDS) {
			vms_diag_add(d, VMS_ERROR, o->program, 0, 0,
				     "a vmlinux.h other than --header is still included after %d redirects",
				     MAX_REDIRECT_ROUNDS);
			goto out;
		}
		int c = stage_point(&st, o->full_header, d) ? -1 : compile(o, &st, full_o, "full", d);
		if (c > 0)
			continue;
		if (c < 0 || stage_point(&st, o->slim_header, d))
			goto out;
		c = compile(o, &st, slim_o, "slim", d);
		if (c > 0)
			continue;
		if (c < 0)
			goto out;
		break;
	}
	rc = vms_obj_compare(full_o, slim_o, d);
	if (o->keep_dir && rc >= 0) {
		vms_mkdir_p(o->keep_dir, 0755);
		if (keep_copy(full_o, o->keep_dir, "full.o", d) ||
		    keep_copy(slim_o, o->keep_dir, "slim.o", d))
			rc = -1;
	}
out:
	stage_free(&st);
	free(full_o);
	free(slim_o);
	return rc;
}
