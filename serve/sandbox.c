/* The workers' sandbox: Landlock rules, and the trees a daemon's worker may touch.
 *
 * Where the kernel has Landlock, a worker (and so the clang it runs) can read only the
 * header directories and the system's own trees, and write only its scratch and the PCH
 * cache: a second wall behind the include scan (confine.c), against what the scan
 * cannot see (computed includes inside trusted headers, a compiler bug). */
#include "serve/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int landlock_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
#else
	return 0;
#endif
}

int sandbox_available(void)
{
	return landlock_abi() > 0;
}

#define FILE_RIGHTS_RO (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE)
#define DIR_RIGHTS_RO (FILE_RIGHTS_RO | LANDLOCK_ACCESS_FS_READ_DIR)

static int add_rule(int rfd, const char *path, uint64_t rights, uint64_t file_mask)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* a tree this system lacks */
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		rights &= file_mask;
	struct landlock_path_beneath_attr pb = { .allowed_access = rights, .parent_fd = fd };
	int r = (int)syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	int e = errno;
	close(fd);
	return r < 0 ? -e : 0;
}

int sandbox_apply(const char *const *ro, const char *const *rw)
{
	int abi = landlock_abi();
	if (abi <= 0)
		return -ENOSYS;
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
	uint64_t file_mask = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
			     LANDLOCK_ACCESS_FS_READ_FILE;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3) {
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
		file_mask |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
#endif
	struct landlock_ruleset_attr attr = { .handled_access_fs = all };
	int rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd < 0)
		return -errno;
	int err = 0;
	for (size_t i = 0; ro && ro[i] && !err; i++)
		err = add_rule(rfd, ro[i], DIR_RIGHTS_RO, file_mask);
	for (size_t i = 0; rw && rw[i] && !err; i++)
		err = add_rule(rfd, rw[i], all, file_mask);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = -errno;
	if (!err && syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		err = -errno;
	close(rfd);
	return err;
}

void sandbox_paths(const struct vms_backend_opts *b, const struct backend *be,
		   struct vms_argv *ro, struct vms_argv *rw)
{
	static const char *const sys_ro[] = { "/usr", "/lib", "/lib64", "/lib32", "/bin",
					       "/sbin", "/etc/ld.so.cache", "/etc/alternatives",
					       "/dev/urandom", "/dev/random", NULL };
	for (int i = 0; sys_ro[i]; i++)
		vms_argv_push(ro, sys_ro[i]);
	for (size_t i = 0; i < b->n_inc; i++)
		vms_argv_push(ro, b->inc_dirs[i]);
	if (b->headers_dir)
		vms_argv_push(ro, b->headers_dir);
	if (backend_vmlinux(be))
		vms_argv_push(ro, backend_vmlinux(be));
	vms_argv_push(rw, "/dev/null");
	vms_argv_push(rw, backend_scratch(be)); /* the staged source, the object */
	if (b->cache_dir)
		vms_argv_push(rw, b->cache_dir); /* PCHs and their locks */
}
