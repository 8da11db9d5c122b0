/* sandbox: the files a trusted program (a compiler) needs to start, asked of the dynamic loader.
 *
 * The loader itself says what it maps: run with LD_TRACE_LOADED_OBJECTS=1 (what ldd does),
 * a dynamically linked program's loader prints its libraries and exits before the program
 * runs. A statically linked program would run instead: this is for trusted binaries only.
 * The lines look like
 *
 *	linux-vdso.so.1 (0x00007ffc...)			the vDSO: no file
 *	libLLVM-14.so.1 => /lib/x86_64-linux-gnu/libLLVM-14.so.1 (0x00007f...)
 *	libfoo.so.1 => not found
 *	/lib64/ld-linux-x86-64.so.2 (0x00007f...)		the interpreter
 *
 * and the paths are kept as the loader opens them (through /lib, /lib64...), since the
 * mount namespace recreates the symlinks on the way rather than only the files.
 */
#include "common/sandbox.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The path of one line of the loader's list, or NULL (the vDSO, "not found"). */
static char *trace_line_path(const char *line, size_t len)
{
	const char *arrow = memmem(line, len, "=> ", 3);
	const char *p = arrow ? arrow + 3 : line;
	while (p < line + len && (*p == ' ' || *p == '\t'))
		p++;
	if (p == line + len || *p != '/')
		return NULL;
	const char *end = p;
	while (end < line + len && *end != ' ' && *end != '\t')
		end++;
	return vms_xstrndup(p, (size_t)(end - p));
}

int vms_sandbox_program_files(const char *program, struct vms_argv *out)
{
	char *found = vms_which(program);
	if (!found)
		return -ENOENT;
	char *real = vms_realpath(found);
	if (!real) {
		int e = errno;
		free(found);
		return -e;
	}
	/* an absolute name: the path is what the caller will exec */
	if (found[0] != '/') {
		free(found);
		found = vms_xstrdup(real);
	}
	char *env[] = { (char *)"LD_TRACE_LOADED_OBJECTS=1", NULL };
	struct vms_sandbox sb = { .env = env };
	char *argv[] = { found, NULL };
	struct vms_proc_result r;
	int rc = vms_run_sandboxed(argv, &sb, 30000, &r);
	if (rc == 0 && r.exit_code != 0)
		rc = -ENOEXEC; /* not a program the loader can list (statically linked...) */
	if (rc == 0) {
		vms_argv_push(out, found);
		if (strcmp(found, real))
			vms_argv_push(out, real);
		for (size_t at = 0; at < r.out_len;) {
			const char *nl = memchr(r.out + at, '\n', r.out_len - at);
			size_t len = nl ? (size_t)(nl - (r.out + at)) : r.out_len - at;
			char *path = trace_line_path(r.out + at, len);
			if (path)
				vms_argv_push(out, path);
			free(path);
			at += len + 1;
		}
		vms_argv_push(out, "/etc/ld.so.cache");
	}
	vms_proc_result_free(&r);
	free(found);
	free(real);
	return rc;
}
