/* Where the CLI finds and reads its files: programs (or standard input), the default
 * object name, the shipped headers; and the environment's on/off switches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/common.h"

int cli_read_input(const char *path, char **data, size_t *len)
{
	if (strcmp(path, "-"))
		return vms_read_file(path, data, len);
	struct vms_buf b = { 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		vms_buf_append(&b, chunk, n);
	if (ferror(stdin)) {
		vms_buf_free(&b);
		return -EIO;
	}
	*len = b.len;
	*data = vms_buf_steal(&b);
	return 0;
}

const char *cli_input_name(const char *path)
{
	return strcmp(path, "-") ? path : "<stdin>";
}

char *cli_default_object(const char *src)
{
	const char *base = vms_basename(src);
	size_t n = strlen(base);
	if (n > 2 && !strcmp(base + n - 2, ".c"))
		n -= 2;
	return vms_xasprintf("%.*s.o", (int)n, base);
}

const char *cli_headers_dir(void)
{
	const char *env = getenv("VMSLIM_HEADERS");
	if (env && *env)
		return env;
	/* an installed binary (PREFIX/bin/vmslim) uses its own prefix's, wherever a package
	 * put it; then the source tree's (the build tree's binary), then the configured one */
	static char *beside;
	if (!beside) {
		char *exe = vms_realpath("/proc/self/exe");
		char *dir = exe ? vms_dirname(exe) : NULL;
		beside = dir ? vms_xasprintf("%s/../share/vmslim/headers", dir) : vms_xstrdup("");
		free(exe), free(dir);
	}
	if (*beside && access(beside, R_OK) == 0)
		return beside;
	if (access(VMSLIM_SOURCE_HEADERS "/vmslim-tcc-prelude.h", R_OK) == 0 ||
	    access(VMSLIM_SOURCE_HEADERS, R_OK) == 0)
		return VMSLIM_SOURCE_HEADERS;
	return VMSLIM_INSTALL_HEADERS;
}

int cli_env_on(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0");
}
