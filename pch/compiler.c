/* Compiler identity for cache keys.
 *
 * Two builds may share a PCH only if the same clang made it: a PCH from another version
 * is rejected by clang at best ("malformed or corrupted AST file") and, across patch
 * releases that keep the format, silently accepted at worst. The identity is the resolved
 * path plus the `--version` text. Running `clang --version` costs ~10 ms, a quarter of a
 * warm build, so its output is cached on disk under a key made of everything that changes
 * when the binary does: resolved path, device, inode, size, mtime and ctime. An upgrade
 * replaces the file (new inode and times); switching alternatives changes the resolved
 * path; either way the key moves and the version is asked again. */
#include "pch/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *vms_clang_default(const char *name)
{
	if (name && *name)
		return name;
	const char *env = getenv("VMSLIM_CLANG");
	return env && *env ? env : "clang";
}

int vms_compiler_identify(const char *name, const char *cache_dir, struct vms_compiler *c,
			  struct vms_diags *d)
{
	memset(c, 0, sizeof(*c));
	name = vms_clang_default(name);
	char *found = vms_which(name);
	if (!found) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "compiler '%s' not found in PATH", name);
		return -ENOENT;
	}
	char *real = realpath(found, NULL);
	free(found);
	struct stat st;
	if (!real || stat(real, &st) < 0) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "compiler '%s': %s", name, strerror(e));
		free(real);
		return -e;
	}

	char *stamp = vms_xasprintf("%s\n%llu %llu %lld %lld.%09ld %lld.%09ld", real,
				    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
				    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				    st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
				    st.st_ctim.tv_nsec);
	char stamp_hex[33];
	vms_hash128_hex(vms_hash128(stamp, strlen(stamp)), stamp_hex);
	char *cache_file = cache_dir ? vms_xasprintf("%s/compilers/%s", cache_dir, stamp_hex) : NULL;

	/* The cached file holds the stamp, a blank line, then the version: a reader checks the
	 * stamp so that a hash collision or a torn file can never pass for a match. */
	char *version = NULL;
	if (cache_file) {
		char *data;
		size_t len;
		if (vms_read_file(cache_file, &data, &len) == 0) {
			size_t sl = strlen(stamp);
			if (len > sl + 2 && !memcmp(data, stamp, sl) && data[sl] == '\n' &&
			    data[sl + 1] == '\n' && data[len - 1] == '\n')
				version = vms_xstrdup(data + sl + 2);
			free(data);
		}
	}
	if (!version) {
		char *argv[] = { real, "--version", NULL };
		struct vms_proc_result r;
		int rc = vms_run(argv, NULL, 0, 60000, &r);
		if (rc < 0 || r.exit_code != 0 || !r.out_len) {
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "'%s --version' failed: %s", real,
				     rc < 0 ? strerror(-rc) : r.err_len ? r.err : "no output");
			if (rc == 0)
				vms_proc_result_free(&r);
			free(real), free(stamp), free(cache_file);
			return rc < 0 ? rc : -EINVAL;
		}
		version = r.out;
		r.out = NULL;
		vms_proc_result_free(&r);
		if (cache_file) {
			/* best effort: a failed write only costs the next caller an exec */
			char *dir = vms_xasprintf("%s/compilers", cache_dir);
			if (vms_mkdir_p(dir, 0755) == 0) {
				char *content = vms_xasprintf("%s\n\n%s", stamp, version);
				vms_write_file_atomic(cache_file, content, strlen(content), 0644);
				free(content);
			}
			free(dir);
		}
	}
	free(stamp);
	free(cache_file);

	c->name = vms_xstrdup(name);
	c->path = real;
	c->version = version;
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, real);
	vms_hasher_update_str(h, version);
	c->id = vms_hasher_digest(h);
	vms_hasher_free(h);
	vms_hash128_hex(c->id, c->id_hex);
	return 0;
}

void vms_compiler_free(struct vms_compiler *c)
{
	free(c->name);
	free(c->path);
	free(c->version);
	memset(c, 0, sizeof(*c));
}
