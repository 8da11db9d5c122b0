/* Where the program's vmlinux.h is, as clang finds it, and flags the slim path cannot
 * serve.
 *
 * clang looks for a quoted include in the includer's directory, then the -iquote
 * directories, then the -I, -isystem and system directories, then -idirafter; an angled
 * include skips the first two. The flags are read normalized (pch/flags.c), so -I is
 * joined and every directory absolute. The program's own directory is kept as the source
 * path gives it: clang names a header found there that way in a dependency file, and so
 * must the slim build's (depfile.c lists a header once, by its name). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slim/internal.h"

/* the directories of one option, in command-line order */
static void push_dirs(const struct vms_argv *nf, const char *opt, struct vms_argv *dirs)
{
	size_t n = strlen(opt);
	for (size_t i = 0; i < nf->n; i++) {
		if (!strcmp(opt, "-I")) {
			if (!strncmp(nf->v[i], "-I", 2) && nf->v[i][2])
				vms_argv_push(dirs, nf->v[i] + 2);
		} else if (!strncmp(nf->v[i], opt, n) && !nf->v[i][n] && i + 1 < nf->n) {
			vms_argv_push(dirs, nf->v[++i]);
		}
	}
}

char *slim_find_header(const char *source, int angled, const char *const *flags)
{
	struct vms_argv nf, dirs = { 0 };
	vms_flags_normalize(flags, &nf);
	if (!angled) {
		char *dir = vms_dirname(source);
		vms_argv_push(&dirs, dir);
		free(dir);
		push_dirs(&nf, "-iquote", &dirs);
	}
	push_dirs(&nf, "-I", &dirs);
	push_dirs(&nf, "-isystem", &dirs);
	vms_argv_push(&dirs, "/usr/local/include");
	vms_argv_push(&dirs, "/usr/include");
	push_dirs(&nf, "-idirafter", &dirs);
	char *found = NULL;
	for (size_t i = 0; i < dirs.n && !found; i++) {
		char *cand = strcmp(dirs.v[i], ".") ? vms_xasprintf("%s/vmlinux.h", dirs.v[i])
						   : vms_xstrdup("vmlinux.h");
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			found = cand;
		else
			free(cand);
	}
	vms_argv_free(&dirs);
	vms_argv_free(&nf);
	return found;
}

int slim_flags_preinclude(const char *const *flags)
{
	for (size_t i = 0; flags && flags[i]; i++)
		if ((!strncmp(flags[i], "-include", 8) && strncmp(flags[i], "-include-pch", 12)) ||
		    !strncmp(flags[i], "-imacros", 8) || !strncmp(flags[i], "--include", 9))
			return 1;
	return 0;
}

char *slim_abspath(const char *path)
{
	/* absolute exactly as vms_build makes a --header path (its normalized -include) */
	const char *const flags[] = { "-include", path, NULL };
	struct vms_argv nf;
	vms_flags_normalize(flags, &nf);
	char *r = vms_xstrdup(nf.n == 2 ? nf.v[1] : path);
	vms_argv_free(&nf);
	return r;
}
