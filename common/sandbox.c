/* sandbox: entering the confinement (mount namespace, then Landlock), probing it, naming it.
 *
 * The mount namespace comes first: mount(2) and pivot_root(2) are refused once a Landlock
 * domain is in force, and Landlock's rules are then laid on the paths as they exist inside
 * the new root (the same names, by construction).
 *
 * The new root is a tmpfs holding, for every listed path, the path itself: each directory on
 * the way is made (empty), each symlink on the way is recreated with its own target and then
 * followed, and the path's final object is bind-mounted from the real file system. So
 * /lib64/ld-linux-x86-64.so.2 opens as it did outside even though /lib64 is a symlink to
 * usr/lib64 and the file a symlink to /lib/x86_64-linux-gnu/..., and /lib itself a symlink to
 * usr/lib: the walk makes /lib64 -> usr/lib64, /usr/lib64/, the file's symlink, /lib ->
 * usr/lib, /usr/lib/x86_64-linux-gnu/ and binds the file found there. Everything else is
 * absent: an untrusted program can neither read it nor learn that it exists.
 */
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Landlock, with the kernel's stable values (Debian 12's header stops at ABI 2-3) ---- */

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_FS_EXECUTE (1ull << 0)
#define LL_FS_WRITE_FILE (1ull << 1)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_FS_READ_DIR (1ull << 3)
#define LL_FS_ABI1 ((1ull << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ull << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV (1ull << 15)	/* ABI 5 */
/* the rights that apply to a file (the others only to directories) */
#define LL_FS_FILE (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | \
		    LL_FS_IOCTL_DEV)
#define LL_NET_BIND_TCP (1ull << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)

/* The kernel takes a shorter struct from an older ABI, and a longer one whose extra
 * fields are zero: this full one works everywhere. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static int landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* Allows `access` (masked to what the ruleset handles, and to the file rights for a
 * file) beneath path. A path that cannot be opened is skipped: it only takes access away. */
static int ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return 0;
	}
	struct ll_path_beneath_attr pb = { .allowed_access = access & handled, .parent_fd = fd };
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= LL_FS_FILE;
	long rc = pb.allowed_access ?
		syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) : 0;
	int e = errno;
	close(fd);
	return rc < 0 ? -e : 0;
}

static int landlock_enter(const struct vms_sandbox *s, const char **why)
{
	int abi = landlock_abi();
	if (abi < 1) {
		*why = "landlock is not available";
		return -ENOSYS;
	}
	uint64_t fs = LL_FS_ABI1;
	if (abi >= 2)
		fs |= LL_FS_REFER;
	if (abi >= 3)
		fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LL_FS_IOCTL_DEV;
	/* TCP handled with no port rule: no TCP at all; and no signals or abstract unix
	 * sockets to processes outside the domain */
	struct ll_ruleset_attr attr = {
		.handled_access_fs = fs,
		.handled_access_net = abi >= 4 ? LL_NET_BIND_TCP | LL_NET_CONNECT_TCP : 0,
		.scoped = abi >= 6 ? LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL : 0,
	};
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0) {
		*why = "landlock_create_ruleset";
		return -errno;
	}
	int rc = 0;
	const uint64_t rd = LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_EXECUTE;
	for (const char *const *p = s->read; !rc && p && *p; p++)
		rc = ll_allow(rs, *p, rd, fs);
	for (const char *const *p = s->write; !rc && p && *p; p++)
		rc = ll_allow(rs, *p, fs, fs);
	if (!rc)
		rc = ll_allow(rs, "/dev/null", LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE |
			      LL_FS_IOCTL_DEV, fs);
	if (rc) {
		*why = "landlock_add_rule";
	} else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rc = -errno;
		*why = "prctl(PR_SET_NO_NEW_PRIVS)";
	} else if (syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		rc = -errno;
		*why = "landlock_restrict_self";
	}
	close(rs);
	return rc;
}

/* ---- the mount namespace ---- */

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pivot_root
#define SYS_pivot_root 155
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define MNT_ATTR_RDONLY 0x1ull
#define MNT_ATTR_NOSUID 0x2ull
#define MNT_ATTR_NODEV 0x4ull

struct mnt_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* Adds flags to a mount and every mount beneath it (mount_setattr with AT_RECURSIVE: a
 * remount would change only the top one, leaving a submount of a read-only tree writable).
 * Flags are only ever added, so flags locked by a user namespace stay as they are. */
static int mnt_set(const char *path, uint64_t attrs, int recursive)
{
	struct mnt_attr a = { .attr_set = attrs };
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a,
		    sizeof(a)) < 0)
		return -errno;
	return 0;
}

enum place_mode {
	PLACE_READ,	/* bound read-only, nosuid, nodev */
	PLACE_WRITE,	/* bound read-write, nosuid, nodev */
	PLACE_DEV,	/* a device node: bound as it is (nosuid) */
	PLACE_DIR,	/* the directories only, nothing bound (the working directory) */
};

struct mnt_ctx {
	const char *root;
	/* what is bound already (resolved outside paths): a path under a bound directory
	 * exists inside already, and nothing may be made there (it is the real tree) */
	char **bound;
	unsigned char *bound_dir, *bound_mode;
	size_t n;
};

static int under_bound_dir(const struct mnt_ctx *m, const char *res)
{
	for (size_t i = 0; i < m->n; i++) {
		if (!m->bound_dir[i])
			continue;
		size_t l = strlen(m->bound[i]);
		if (!strncmp(res, m->bound[i], l) && (res[l] == '/' || res[l] == 0 || l <= 1))
			return 1;
	}
	return 0;
}

/* res is bound already in a mode that serves `mode` (a write path bound read-only
 * before, also listed as a read path, is bound again on top, writable) */
static int bound_exactly(const struct mnt_ctx *m, const char *res, enum place_mode mode)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->bound[i], res) && (mode != PLACE_WRITE || m->bound_mode[i] == mode))
			return 1;
	return 0;
}

/* root + path, the inside name of an outside path */
static void inside(char *buf, size_t n, const char *root, const char *res)
{
	snprintf(buf, n, "%s%s", root, *res ? res : "/");
}

/* Makes `path` (absolute, or relative to the working directory) exist inside the new root
 * as described at the top of this file, and binds its object in the given mode. Returns 0
 * (also when the path does not exist: it is skipped), or -errno. The walk is realpath's:
 * `res` is the resolved prefix (no symlinks, no dots), `todo` what is left; a symlink's
 * target is put in front of what is left, and an absolute one restarts from "/". */
static int place(struct mnt_ctx *m, const char *path, enum place_mode mode)
{
	char res[PATH_MAX] = "", todo[PATH_MAX], tmp[PATH_MAX], in[PATH_MAX + 256];
	if (path[0] == '/') {
		snprintf(todo, sizeof(todo), "%s", path);
	} else {
		if (!getcwd(tmp, sizeof(tmp)))
			return -errno;
		if ((size_t)snprintf(todo, sizeof(todo), "%s/%s", tmp, path) >= sizeof(todo))
			return -ENAMETOOLONG;
	}
	struct stat st;
	int links = 0;
	char *p = todo;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			if (len == 2) {
				char *slash = strrchr(res, '/');
				if (slash)
					*slash = 0;
			}
			p += len;
			continue;
		}
		size_t rl = strlen(res);
		if (rl + 1 + len >= sizeof(res))
			return -ENAMETOOLONG;
		int covered = under_bound_dir(m, *res ? res : "/");
		char cand[PATH_MAX];
		memcpy(cand, res, rl);
		cand[rl] = '/';
		memcpy(cand + rl + 1, p, len);
		cand[rl + 1 + len] = 0;
		p += len;
		if (lstat(cand, &st) < 0)
			return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -errno;
		if (S_ISLNK(st.st_mode)) {
			if (++links > 40)
				return -ELOOP;
			ssize_t tl = readlink(cand, tmp, sizeof(tmp) - 1);
			if (tl < 0)
				return -errno;
			tmp[tl] = 0;
			inside(in, sizeof(in), m->root, cand);
			if (!covered && symlink(tmp, in) < 0 && errno != EEXIST)
				return -errno;
			/* what is left becomes target + rest */
			char rest[PATH_MAX];
			if ((size_t)snprintf(rest, sizeof(rest), "%s/%s", tmp, p) >= sizeof(rest))
				return -ENAMETOOLONG;
			if (tmp[0] == '/')
				res[0] = 0;
			memcpy(todo, rest, strlen(rest) + 1);
			p = todo;
			continue;
		}
		memcpy(res, cand, strlen(cand) + 1);
		while (*p == '/')
			p++;
		if (*p && !S_ISDIR(st.st_mode))
			return 0; /* a file in the middle: the path does not exist */
		if (!covered && S_ISDIR(st.st_mode)) {
			inside(in, sizeof(in), m->root, res);
			if (mkdir(in, 0755) < 0 && errno != EEXIST)
				return -errno;
		}
	}
	if (!*res && stat("/", &st) < 0)
		return -errno;
	if (mode == PLACE_DIR || bound_exactly(m, *res ? res : "/", mode))
		return 0;
	int covered = under_bound_dir(m, *res ? res : "/");
	if (covered && mode == PLACE_READ)
		return 0;
	inside(in, sizeof(in), m->root, res);
	if (!covered && !S_ISDIR(st.st_mode)) {
		int fd = open(in, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 && errno != EEXIST)
			return -errno;
		if (fd >= 0)
			close(fd);
	}
	if (mount(*res ? res : "/", in, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	uint64_t attrs = mode == PLACE_READ ? MNT_ATTR_RDONLY | MNT_ATTR_NOSUID | MNT_ATTR_NODEV
			 : mode == PLACE_WRITE ? MNT_ATTR_NOSUID | MNT_ATTR_NODEV : MNT_ATTR_NOSUID;
	int rc = mnt_set(in, attrs, 1);
	if (rc < 0)
		return rc;
	m->bound = vms_xrealloc(m->bound, (m->n + 1) * sizeof(*m->bound));
	m->bound_dir = vms_xrealloc(m->bound_dir, m->n + 1);
	m->bound_mode = vms_xrealloc(m->bound_mode, m->n + 1);
	m->bound_mode[m->n] = (unsigned char)mode;
	m->bound[m->n] = vms_xstrdup(*res ? res : "/");
	m->bound_dir[m->n++] = S_ISDIR(st.st_mode);
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : n < 0 ? -e : -EIO;
}

/* A private mount namespace; outside root (or without CAP_SYS_ADMIN) inside a user
 * namespace that maps only our own ids, with setgroups denied as the kernel requires. */
static int new_namespace(const char **why)
{
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0)
		return 0;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		*why = "unshare(CLONE_NEWUSER | CLONE_NEWNS)";
		return -errno;
	}
	char map[64];
	int rc = write_text("/proc/self/setgroups", "deny");
	if (rc < 0 && rc != -ENOENT) {
		*why = "/proc/self/setgroups";
		return rc;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((rc = write_text("/proc/self/uid_map", map)) < 0) {
		*why = "/proc/self/uid_map";
		return rc;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if ((rc = write_text("/proc/self/gid_map", map)) < 0) {
		*why = "/proc/self/gid_map";
		return rc;
	}
	return 0;
}

static int mountns_enter(const struct vms_sandbox *s, const char **why)
{
	if (!s->root) {
		*why = "no root directory for the mount namespace";
		return -EINVAL;
	}
	int rc = new_namespace(why);
	if (rc < 0)
		return rc;
	/* nothing we mount may propagate back to the real namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		*why = "making / private";
		return -errno;
	}
	if (mount("tmpfs", s->root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0) {
		*why = "mounting a tmpfs on the sandbox root";
		return -errno;
	}
	struct mnt_ctx m = { .root = s->root };
	*why = "building the sandbox's file system";
	/* the working directory first (empty, if nothing listed holds it), so that the
	 * listed paths can be bound into it */
	if (s->cwd)
		rc = place(&m, s->cwd, PLACE_DIR);
	for (const char *const *p = s->read; !rc && p && *p; p++)
		rc = place(&m, *p, PLACE_READ);
	for (const char *const *p = s->write; !rc && p && *p; p++)
		rc = place(&m, *p, PLACE_WRITE);
	if (!rc)
		rc = place(&m, "/dev/null", PLACE_DEV);
	for (size_t i = 0; i < m.n; i++)
		free(m.bound[i]);
	free(m.bound);
	free(m.bound_dir);
	free(m.bound_mode);
	if (rc < 0)
		return rc;
	/* the skeleton itself is read-only: nothing can be written outside the write dirs */
	if ((rc = mnt_set(s->root, MNT_ATTR_RDONLY | MNT_ATTR_NOSUID | MNT_ATTR_NODEV, 0)) < 0) {
		*why = "making the sandbox root read-only";
		return rc;
	}
	/* pivot_root(".", "."): the old root ends up on top of the new one, and is then
	 * detached, with every mount beneath it */
	if (chdir(s->root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) {
		*why = "pivot_root";
		return -errno;
	}
	if (umount2(".", MNT_DETACH) < 0) {
		*why = "detaching the old root";
		return -errno;
	}
	if (chdir("/") < 0) {
		*why = "chdir(\"/\")";
		return -errno;
	}
	return 0;
}

int vms_sandbox_enter(const struct vms_sandbox *s, const char **why)
{
	static const char *none;
	if (!why)
		why = &none;
	*why = NULL;
	if (s->mech & ~(unsigned)(VMS_SANDBOX_LANDLOCK | VMS_SANDBOX_MOUNTNS)) {
		*why = "an unknown mechanism";
		return -EINVAL;
	}
	int rc = 0;
	if (s->mech & VMS_SANDBOX_MOUNTNS)
		rc = mountns_enter(s, why);
	if (!rc && chdir(s->cwd ? s->cwd : "/") < 0) {
		rc = -errno;
		*why = "entering the working directory";
	}
	if (!rc && (s->mech & VMS_SANDBOX_LANDLOCK))
		rc = landlock_enter(s, why);
	return rc;
}

/* ---- what this process can apply ---- */

/* Enters mech with nothing listed in a child, and checks it took: with Landlock "/"
 * cannot be read, in the mount namespace /usr does not exist. */
static int works_in_child(unsigned mech, const char *root)
{
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		const char *empty[] = { NULL };
		struct vms_sandbox s = { .read = empty, .mech = mech, .root = root };
		const char *why;
		if (vms_sandbox_enter(&s, &why) < 0)
			_exit(1);
		if ((mech & VMS_SANDBOX_LANDLOCK) && open("/", O_RDONLY | O_DIRECTORY) >= 0)
			_exit(2);
		if ((mech & VMS_SANDBOX_MOUNTNS) && access("/usr", F_OK) == 0)
			_exit(3);
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

unsigned vms_sandbox_probe(void)
{
	const char *off = getenv("VMSLIM_SANDBOX_UNAVAILABLE");
	if (off && !strcmp(off, "1"))
		return 0;
	unsigned have = 0;
	if (landlock_abi() >= 1 && works_in_child(VMS_SANDBOX_LANDLOCK, NULL))
		have |= VMS_SANDBOX_LANDLOCK;
	const char *tmp = getenv("TMPDIR");
	char root[PATH_MAX];
	snprintf(root, sizeof(root), "%s/vmslim-sandbox-probe.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(root)) {
		if (works_in_child(VMS_SANDBOX_MOUNTNS, root))
			have |= VMS_SANDBOX_MOUNTNS;
		rmdir(root);
	}
	return have;
}

void vms_sandbox_describe(unsigned mech, char *buf, size_t n)
{
	if (!n)
		return;
	buf[0] = 0;
	size_t at = 0;
	if (mech & VMS_SANDBOX_LANDLOCK)
		at += (size_t)snprintf(buf, n, "landlock (ABI %d)", landlock_abi());
	if ((mech & VMS_SANDBOX_MOUNTNS) && at < n)
		at += (size_t)snprintf(buf + at, n - at, "%smount namespace%s", at ? " + " : "",
				       geteuid() ? " (in a user namespace)" : "");
	if (!at)
		snprintf(buf, n, "none");
}
