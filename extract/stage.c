/* Staging a program so that every inclusion of vmlinux.h reaches the header we were given.
 *
 * A program can reach vmlinux.h four ways, and each needs its own redirect:
 *
 *   #include "vmlinux.h" in the program      the includer's own directory is searched
 *                                            first: the program is copied into the stage
 *                                            directory, beside a vmlinux.h symlink
 *   #include <vmlinux.h>, or "vmlinux.h"     the search path: the stage's inc/ directory
 *   from a header with none beside it        (only vmlinux.h in it) goes first, as -iquote
 *                                            and as -I, ahead of the user's directories
 *   "vmlinux.h" from a header that has one   no search path can win over the includer's
 *   beside it (common.h next to the          directory, so that very path is remapped with
 *   project's own vmlinux.h)                 a VFS overlay (-ivfsoverlay, which libclang 14
 *                                            and the clang driver both honour)
 *   -include vmlinux.h                       rewritten to the stage's vmlinux.h
 *
 * The overlay needs the paths in advance. The program's own directory and the user's -I
 * directories are known before parsing; a vmlinux.h beside some other header only shows
 * after a parse, so callers look at what was included (stage_redirect) and parse again.
 * inc/vmlinux.h is a relative link to ../vmlinux.h, so repointing the one symlink
 * (stage_point) moves every route at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bpf_cmdline.h"
#include "extract/internal.h"

#define SHIM "vmlinux.h"

static char *absolute(const char *path)
{
	if (path[0] == '/')
		return vms_xstrdup(path);
	char *cwd = getcwd(NULL, 0);
	char *r = vms_xasprintf("%s/%s", cwd ? cwd : ".", path);
	free(cwd);
	return r;
}

static int in_stage(const struct stage *s, const char *path)
{
	size_t n = strlen(s->dir);
	return !strncmp(path, s->dir, n) && path[n] == '/';
}

/* JSON is YAML: the overlay is written as JSON, with paths quoted */
static void put_json_string(struct vms_buf *b, const char *s)
{
	vms_buf_puts(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			vms_buf_puts(b, "\\");
		vms_buf_append(b, s, 1);
	}
	vms_buf_puts(b, "\"");
}

static int write_overlay(const struct stage *s, struct vms_diags *d)
{
	struct vms_buf b = { 0 };
	char *target = vms_xasprintf("%s/" SHIM, s->dir);
	vms_buf_puts(&b, "{ \"version\": 0, \"roots\": [\n");
	for (size_t i = 0; i < s->mapped.n; i++) {
		vms_buf_puts(&b, i ? ",\n  { \"type\": \"file\", \"name\": " : "  { \"type\": \"file\", \"name\": ");
		put_json_string(&b, s->mapped.v[i]);
		vms_buf_puts(&b, ", \"external-contents\": ");
		put_json_string(&b, target);
		vms_buf_puts(&b, " }");
	}
	vms_buf_puts(&b, "\n] }\n");
	char *text = vms_buf_steal(&b);
	char *path = vms_xasprintf("%s/overlay.yaml", s->dir);
	int rc = vms_write_file_atomic(path, text, strlen(text), 0644);
	if (rc)
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "cannot write: %s", strerror(-rc));
	free(path), free(text), free(target);
	return rc ? -1 : 0;
}

/* The flags that go ahead of the user's: the overlay, then the stage before the
 * program's directory for quoted includes, then the stage before everything for angled. */
static void build_flags(struct stage *s)
{
	vms_argv_free(&s->flags);
	if (s->mapped.n) {
		vms_argv_push(&s->flags, "-ivfsoverlay");
		vms_argv_pushf(&s->flags, "%s/overlay.yaml", s->dir);
	}
	vms_argv_pushf(&s->flags, "-iquote%s/inc", s->dir);
	vms_argv_pushf(&s->flags, "-iquote%s", s->progdir);
	vms_argv_pushf(&s->flags, "-I%s/inc", s->dir);
}

static int mapped_already(const struct stage *s, const char *path)
{
	for (size_t i = 0; i < s->mapped.n; i++)
		if (!strcmp(s->mapped.v[i], path))
			return 1;
	return 0;
}

/* Maps dir/vmlinux.h, as given and with symlinks resolved, when it exists; 1 if the
 * overlay grew. */
static int map_beside(struct stage *s, const char *dir)
{
	int grew = 0;
	char *given = absolute(dir);
	char *real = vms_realpath(given);
	const char *forms[] = { given, real };
	for (int i = 0; i < 2; i++) {
		if (!forms[i])
			continue;
		char *p = vms_xasprintf("%s/" SHIM, forms[i]);
		if (access(p, F_OK) == 0 && !mapped_already(s, p)) {
			vms_argv_push(&s->mapped, p);
			grew = 1;
		}
		free(p);
	}
	free(given), free(real);
	return grew;
}

/* The directory an include-path option names, or NULL; *skip is set when it is the
 * next argument. */
static const char *include_dir_operand(const char *a, const char *next, int *skip)
{
	static const char *const opts[] = { "-I", "-iquote", "-isystem", "-idirafter" };
	*skip = 0;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t n = strlen(opts[i]);
		if (strncmp(a, opts[i], n))
			continue;
		if (a[n])
			return a + n;
		*skip = 1;
		return next;
	}
	return NULL;
}

/* Copies the user's flags, pointing -include of any vmlinux.h at the stage, and maps a
 * vmlinux.h lying in any directory they add to the search path. */
static void take_user_flags(struct stage *s, const char *const *args)
{
	for (size_t i = 0; args && args[i]; i++) {
		const char *a = args[i];
		int skip;
		const char *dir = include_dir_operand(a, args[i + 1], &skip);
		if (dir)
			map_beside(s, dir);
		const char *inc = NULL;
		if (!strcmp(a, "-include") && args[i + 1])
			inc = args[i + 1];
		else if (!strncmp(a, "-include", 8) && a[8] && strcmp(a, "-include-pch"))
			inc = a + 8;
		if (inc && !strcmp(vms_basename(inc), SHIM)) {
			vms_argv_push(&s->user, "-include");
			vms_argv_pushf(&s->user, "%s/" SHIM, s->dir);
			i += !strcmp(a, "-include");
			continue;
		}
		vms_argv_push(&s->user, a);
		if (skip && args[i + 1])
			vms_argv_push(&s->user, args[++i]);
	}
}

int stage_point(const struct stage *s, const char *header, struct vms_diags *d)
{
	char *real = vms_realpath(header);
	if (!real) {
		vms_diag_add(d, VMS_ERROR, header, 0, 0, "cannot read header: %s", strerror(errno));
		return -1;
	}
	int rc = 0;
	/* the header's own name too: a program may include it as "full.h" */
	const char *names[] = { SHIM, s->header_name };
	for (int i = 0; i < 2 && !rc; i++) {
		if (i && !strcmp(names[1], SHIM))
			break;
		char *link = vms_xasprintf("%s/%s", s->dir, names[i]);
		unlink(link);
		if (symlink(real, link)) {
			vms_diag_add(d, VMS_ERROR, link, 0, 0, "cannot create symlink: %s",
				     strerror(errno));
			rc = -1;
		}
		free(link);
	}
	free(real);
	return rc;
}

int stage_create(struct stage *s, const char *program, const char *header,
		 const char *const *user_args, struct vms_diags *d)
{
	memset(s, 0, sizeof(*s));
	char *src = NULL;
	size_t len = 0;
	int rc = vms_read_file(program, &src, &len);
	if (rc) {
		vms_diag_add(d, VMS_ERROR, program, 0, 0, "cannot read program: %s", strerror(-rc));
		return -1;
	}
	rc = header_readable(header);
	if (rc) {
		vms_diag_add(d, VMS_ERROR, header, 0, 0, "cannot read header: %s", strerror(-rc));
		free(src);
		return -1;
	}
	s->dir = vms_make_tempdir("vmslim-stage");
	if (!s->dir) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot create a temporary directory: %s",
			     strerror(errno));
		free(src);
		return -1;
	}
	s->header_name = vms_xstrdup(vms_basename(header));
	s->program = vms_xasprintf("%s/%s", s->dir, vms_basename(program));
	char *dir = vms_dirname(program);
	s->progdir = absolute(dir);
	free(dir);
	char *inc = vms_xasprintf("%s/inc", s->dir);
	char *link = vms_xasprintf("%s/inc/" SHIM, s->dir);
	int ok = mkdir(inc, 0755) == 0 && symlink("../" SHIM, link) == 0;
	if (!ok)
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot stage %s in %s: %s", program, s->dir,
			     strerror(errno));
	free(inc), free(link);
	if (ok && (stage_point(s, header, d) ||
		   (rc = vms_write_file_atomic(s->program, src, len, 0644)))) {
		if (rc)
			vms_diag_add(d, VMS_ERROR, s->program, 0, 0, "cannot write: %s",
				     strerror(-rc));
		ok = 0;
	}
	free(src);
	if (ok) {
		map_beside(s, s->progdir);
		take_user_flags(s, user_args);
		ok = !s->mapped.n || write_overlay(s, d) == 0;
	}
	if (!ok) {
		stage_free(s);
		return -1;
	}
	build_flags(s);
	return 0;
}

int stage_redirect(struct stage *s, const char *included, struct vms_diags *d)
{
	if (strcmp(vms_basename(included), SHIM) || in_stage(s, included))
		return 0;
	char *dir = vms_dirname(included);
	int grew = map_beside(s, dir);
	free(dir);
	if (!grew)
		return 0;
	if (write_overlay(s, d))
		return -1;
	build_flags(s);
	return 1;
}

void stage_cmd(const struct stage *s, struct vms_bpf_cmd *c)
{
	c->user[0] = (struct vms_args){ (const char *const *)s->flags.v, s->flags.n };
	c->user[1] = (struct vms_args){ (const char *const *)s->user.v, s->user.n };
}

void stage_free(struct stage *s)
{
	if (s->dir)
		vms_remove_tree(s->dir);
	free(s->dir);
	free(s->program);
	free(s->progdir);
	free(s->header_name);
	vms_argv_free(&s->flags);
	vms_argv_free(&s->user);
	vms_argv_free(&s->mapped);
	memset(s, 0, sizeof(*s));
}
