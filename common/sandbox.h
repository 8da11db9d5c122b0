/* sandbox: what the operating system enforces around an untrusted compile.
 *
 * A process that parses untrusted input (clang on a playground's source, TCC in the
 * snapshot helper) is confined, by the kernel, to a list of readable paths and a list of
 * writable directories. Two mechanisms, used together where both are available:
 *  - a private mount namespace (as root, or inside a user namespace otherwise) whose root
 *    is a fresh tmpfs holding only bind mounts of the listed paths (read-only, except the
 *    writable ones): nothing else exists there, so neither a read nor an existence probe
 *    (`__has_include`, stat) can tell anything about the rest of the file system;
 *  - Landlock: the same lists as access rights, and no TCP, no signals or abstract unix
 *    sockets outside the sandbox where the kernel's ABI has them.
 * vms_sandbox_enter() is called in a single-threaded process (a freshly forked child)
 * and is irreversible. */
#ifndef VMSLIM_SANDBOX_H
#define VMSLIM_SANDBOX_H

#include <stddef.h>

#include "common/common.h"

enum vms_sandbox_mech {
	VMS_SANDBOX_LANDLOCK = 1u << 0,
	VMS_SANDBOX_MOUNTNS = 1u << 1,
};

struct vms_sandbox {
	/* files or directories (whole trees) the process may read and execute; symlinks on
	 * the way to them are recreated, so a path reads as it did outside. Missing ones are
	 * skipped; relative ones are taken from the current directory. NULL-terminated. */
	const char *const *read;
	/* directories (whole trees) it may also create, write and remove files in.
	 * NULL-terminated, may be NULL. */
	const char *const *write;
	unsigned mech;		/* VMS_SANDBOX_* to apply; all of them must succeed */
	/* an empty directory the mount namespace builds its root on (VMS_SANDBOX_MOUNTNS);
	 * it stays empty outside the namespace, and any number of sandboxes may share it.
	 * It must not lie inside a read or write path (the bind would hold itself) */
	const char *root;
	const char *cwd;	/* the directory to be in afterwards; NULL: "/" */
	/* vms_run_sandboxed: the program's environment; NULL: the caller's */
	char *const *env;
};

/* What this process can apply (VMS_SANDBOX_* bits), found by trying it in a child: the
 * answer holds for children of this process. $VMSLIM_SANDBOX_UNAVAILABLE=1 makes the
 * answer 0 (to test the refusal path; it can only take protection away from requests
 * that are then refused). */
unsigned vms_sandbox_probe(void);

/* One line for logs: "landlock (ABI 7) + mount namespace", "mount namespace", "none". */
void vms_sandbox_describe(unsigned mech, char *buf, size_t n);

/* Confines the calling process. 0, or -errno with *why (static text) saying which step
 * failed; after a failure the process must not go on to run untrusted work. */
int vms_sandbox_enter(const struct vms_sandbox *s, const char **why);

/* The files a program needs to start: its resolved path, its ELF interpreter and the
 * shared libraries the dynamic loader maps for it (asked of the loader itself, with
 * LD_TRACE_LOADED_OBJECTS: this runs the program's loader, so trusted compilers only),
 * plus /etc/ld.so.cache. Appended to out; the first path appended is the absolute name
 * to exec (PATH searched when `program` has no '/'), then its realpath when that differs.
 * 0, -ENOENT (not found), -ENOEXEC (not dynamically linked), or -errno. */
int vms_sandbox_program_files(const char *program, struct vms_argv *out);

/* vms_run() inside a sandbox (no stdin): the child forks, enters sb (if non-NULL), and
 * execs argv[0] (an absolute path: PATH is not searched inside the sandbox) with sb->env.
 * Descriptors other than stdio are not inherited. A sandbox that cannot be entered makes
 * the child exit 126 with "vmslim: sandbox: <why>: <error>" on stderr; an exec that
 * fails, 127. Safe to call from a threaded process. */
int vms_run_sandboxed(char *const argv[], const struct vms_sandbox *sb, int timeout_ms,
		      struct vms_proc_result *r);

#endif
