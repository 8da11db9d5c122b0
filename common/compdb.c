/* compile_commands.json and compile_flags.txt (compdb.h).
 *
 * The search follows clangd's: from the file's directory up to the root, the first
 * directory holding compile_commands.json, build/compile_commands.json or
 * compile_flags.txt decides. Within a database, the entry for the file is the one whose
 * "file" (made absolute against its "directory") names the same file; failing that, as
 * clangd interpolates for files the build never compiled, an entry of a file in the same
 * directory, else the first one: a project's BPF programs share their flags. */
#include "common/compdb.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A database is text a user's build wrote: bounded, so a planted huge file cannot eat
 * the server's memory. */
#define MAX_DB_BYTES (64u << 20)

void vms_compdb_split(const char *s, struct vms_argv *out)
{
	struct vms_buf w = { 0 };
	int in_word = 0;
	for (; *s; s++) {
		char c = *s;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word)
				vms_argv_push(out, w.data ? w.data : "");
			w.len = 0;
			if (w.data)
				w.data[0] = 0;
			in_word = 0;
			continue;
		}
		in_word = 1;
		if (c == '\\' && s[1]) {
			vms_buf_append(&w, ++s, 1);
		} else if (c == '\'') {
			const char *e = strchr(s + 1, '\'');
			size_t n = e ? (size_t)(e - s - 1) : strlen(s + 1);
			vms_buf_append(&w, s + 1, n);
			s += n + (e != NULL);
		} else if (c == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '$' || s[1] == '`'))
					s++;
				vms_buf_append(&w, s, 1);
			}
			if (!*s)
				break;
		} else {
			vms_buf_append(&w, &c, 1);
		}
	}
	if (in_word)
		vms_argv_push(out, w.data ? w.data : "");
	vms_buf_free(&w);
}

static char *absolute_in(const char *dir, const char *path)
{
	if (path[0] == '/' || !dir || !*dir)
		return vms_xstrdup(path);
	return vms_xasprintf("%s/%s", dir, path);
}

/* Options whose value is a path, joined (-Ifoo) or apart (-I foo). */
static const char *const path_opts[] = { "-I", "-isystem", "-iquote", "-idirafter", "-include" };
/* Options kept as they are, joined or apart. */
static const char *const plain_opts[] = { "-D", "-U", "-target" };

static int keep_with_value(const char *a, const char *const *opts, size_t nopts, size_t *which)
{
	for (size_t i = 0; i < nopts; i++) {
		size_t n = strlen(opts[i]);
		if (!strncmp(a, opts[i], n)) {
			*which = i;
			return 1;
		}
	}
	return 0;
}

void vms_compdb_keep(const char *const *args, size_t n, const char *directory,
		     struct vms_argv *out)
{
	for (size_t i = 1; i < n; i++) {
		const char *a = args[i];
		size_t k, len;
		if (keep_with_value(a, path_opts, sizeof(path_opts) / sizeof(path_opts[0]), &k)) {
			len = strlen(path_opts[k]);
			const char *v = a[len] ? a + len : i + 1 < n ? args[++i] : NULL;
			if (!v)
				break;
			char *p = absolute_in(directory, v);
			vms_argv_push(out, path_opts[k]);
			vms_argv_push(out, p);
			free(p);
		} else if (keep_with_value(a, plain_opts, sizeof(plain_opts) / sizeof(plain_opts[0]), &k)) {
			len = strlen(plain_opts[k]);
			const char *v = a[len] ? a + len : i + 1 < n ? args[++i] : NULL;
			if (!v)
				break;
			if (!strcmp(plain_opts[k], "-target"))
				vms_argv_pushf(out, "--target=%s", v);
			else
				vms_argv_pushf(out, "%s%s", plain_opts[k], v);
		} else if (!strncmp(a, "--target=", 9) || !strncmp(a, "-std=", 5) ||
			   !strncmp(a, "--sysroot=", 10)) {
			vms_argv_push(out, a);
		}
	}
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static const char *member(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

/* The entry's command line as words. */
static void entry_args(struct json_object *e, struct vms_argv *out)
{
	struct json_object *v;
	if (json_object_object_get_ex(e, "arguments", &v) && json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			vms_argv_push(out, json_object_get_string(json_object_array_get_idx(v, i)));
	} else if (member(e, "command")) {
		vms_compdb_split(member(e, "command"), out);
	}
}

static int from_database(const char *db, const char *file, struct vms_argv *out,
			 struct vms_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	int e = vms_read_regular_file(db, MAX_DB_BYTES, &text, &len);
	if (e) {
		vms_diag_add(d, VMS_ERROR, db, 0, 0, "cannot read: %s", strerror(-e));
		return -1;
	}
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	if (!root || je != json_tokener_success || !json_object_is_type(root, json_type_array)) {
		vms_diag_add(d, VMS_ERROR, db, 0, 0, "not a compilation database: %s",
			     root && je == json_tokener_success ? "not a JSON array"
			     : je == json_tokener_continue	 ? "the JSON ends early"
							 : json_tokener_error_desc(je));
		json_object_put(root);
		json_tokener_free(tok);
		free(text);
		return -1;
	}
	json_tokener_free(tok);
	free(text);
	char *file_dir = vms_dirname(file);
	struct json_object *exact = NULL, *same_dir = NULL, *first = NULL;
	for (size_t i = 0; i < json_object_array_length(root) && !exact; i++) {
		struct json_object *ent = json_object_array_get_idx(root, i);
		const char *f = member(ent, "file"), *dir = member(ent, "directory");
		if (!f || !json_object_is_type(ent, json_type_object))
			continue;
		char *path = absolute_in(dir, f);
		char *pdir = vms_dirname(path);
		if (same_file(path, file))
			exact = ent;
		else if (!same_dir && same_file(pdir, file_dir))
			same_dir = ent;
		if (!first)
			first = ent;
		free(path), free(pdir);
	}
	free(file_dir);
	struct json_object *ent = exact ? exact : same_dir ? same_dir : first;
	if (ent) {
		struct vms_argv args = { 0 };
		entry_args(ent, &args);
		vms_compdb_keep((const char *const *)args.v, args.n, member(ent, "directory"), out);
		vms_argv_free(&args);
	}
	json_object_put(root);
	return ent ? 1 : 0;
}

/* compile_flags.txt: one flag a line, relative paths against its own directory. */
static int from_flags_file(const char *path, struct vms_argv *out, struct vms_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	int e = vms_read_regular_file(path, MAX_DB_BYTES, &text, &len);
	if (e) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "cannot read: %s", strerror(-e));
		return -1;
	}
	struct vms_argv args = { 0 };
	vms_argv_push(&args, "clang"); /* keep() skips the compiler's own word */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = 0;
		if (n)
			vms_argv_push(&args, line);
	}
	char *dir = vms_dirname(path);
	vms_compdb_keep((const char *const *)args.v, args.n, dir, out);
	free(dir);
	vms_argv_free(&args);
	free(text);
	return 1;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* What dir holds: 1 found (flags appended), 0 nothing there, -1 unreadable. *from is set
 * when dir holds a database at all: that one decides, even with no entry for the file. */
static int look_in(const char *dir, const char *file, struct vms_argv *out, char **from,
		   struct vms_diags *d)
{
	static const char *const dbs[] = { "compile_commands.json", "build/compile_commands.json" };
	for (size_t i = 0; i < 2; i++) {
		char *db = vms_xasprintf("%s/%s", dir, dbs[i]);
		if (exists(db)) {
			int r = from_database(db, file, out, d);
			*from = db;
			return r;
		}
		free(db);
	}
	char *ff = vms_xasprintf("%s/compile_flags.txt", dir);
	if (exists(ff)) {
		*from = ff;
		return from_flags_file(ff, out, d);
	}
	free(ff);
	return 0;
}

int vms_compdb_flags(const char *file, const char *dir, struct vms_argv *out, char **from,
		     struct vms_diags *d)
{
	*from = NULL;
	char *abs_file = vms_realpath(file);
	if (!abs_file) {
		char *cwd = getcwd(NULL, 0);
		abs_file = file[0] == '/' || !cwd ? vms_xstrdup(file) : vms_xasprintf("%s/%s", cwd, file);
		free(cwd);
	}
	int r = 0;
	if (dir) {
		r = look_in(dir, abs_file, out, from, d);
		if (r == 0)
			vms_diag_add(d, VMS_WARNING, dir, 0, 0,
				     "no compile_commands.json or compile_flags.txt here");
	} else {
		char *cur = vms_dirname(abs_file);
		for (;;) {
			r = look_in(cur, abs_file, out, from, d);
			if (r || *from || !strcmp(cur, "/") || !strcmp(cur, "."))
				break;
			char *up = vms_dirname(cur);
			free(cur);
			cur = up;
		}
		free(cur);
	}
	free(abs_file);
	return r;
}
