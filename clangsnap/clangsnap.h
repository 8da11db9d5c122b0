/* clangsnap: BPF builds forked from a clang that has already started and read the header.
 *
 * A build through clang spends most of its time before it reads the program: dynamic
 * linking of LLVM, option parsing, target set-up, then the header (or its PCH). A snapshot
 * runs clang's compiler process (cc1, exec'd directly: one process) once, on a template
 * whose main file is blank padding and whose -include list ends with the header and a
 * marker; an LD_PRELOAD shim (libvmslim_clangsnap_shim.so) sees the marker opened and from
 * then on serves as a fork server. For each request the child maps the program's text
 * (after a `#line 1 "<source>"`) over the blank main file that clang has mapped but not yet
 * lexed, puts a fresh output file under clang's already-open output temporary, and lets
 * clang carry on: the program is lexed as the main file, so every main-file rule (unused
 * static functions, include guards, __FILE__, diagnostics' file:line:col) is clang's own.
 *
 * The snapshot serves only what a plain clang of the same flags would do the same: the
 * program's first directive is #include "vmlinux.h" (or <vmlinux.h>) and it resolves to
 * the snapshot's header, nothing precedes it, no file it includes by a quoted name from its
 * own directory exists there (clang would look there first). Anything else is "does not
 * apply" (2), and the caller runs plain clang. Nothing here prints or exits. */
#ifndef VMSLIM_CLANGSNAP_H
#define VMSLIM_CLANGSNAP_H

#include <stddef.h>

#include "common/common.h"
#include "pch/pch.h"

struct vms_clangsnap_opts {
	const char *clang;		/* driver: "clang", "clang-19", a path; NULL: vms_clang_default */
	const char *const *flags;	/* the compile's flags (NULL-terminated, may be NULL),
					 * without -c, -o, the input and dependency flags; they
					 * must make "vmlinux.h" resolve to header */
	const char *header;		/* the vmlinux.h (full or slim) the programs include */
	const char *pch;		/* a PCH of header for these flags (pch/), or NULL */
	const char *work_dir;		/* an empty private directory for the template; NULL:
					 * a temporary directory, removed by stop */
	const char *cwd;		/* the directory builds run in (DWARF's compilation dir,
					 * relative paths); NULL: the current one */
	const char *shim;		/* the shim .so; NULL: $VMSLIM_CLANGSNAP_SHIM, else the one
					 * built beside this library */
	int max_jobs;			/* concurrent builds (more wait); 0: 4 */
	int timeout_ms;			/* per build (the child is killed); 0: 120000 */
};

struct vms_clangsnap;

/* Starts a snapshot. 0; -ENOTSUP with the reason in d when the trick cannot hold for this
 * clang, these flags or this header (the caller builds with plain clang); other -errno
 * with a diagnostic when it could not run at all. */
int vms_clangsnap_start(const struct vms_clangsnap_opts *o, struct vms_clangsnap **out,
			struct vms_diags *d);

/* Compiles source to output through the snapshot. 0 ok; 1 compile errors (r->clang_exit,
 * r->clang_stderr verbatim, as plain clang prints them); 2 does not apply here (r->mode
 * says why: the program's preamble, a dependency file asked for, the header or clang
 * changed on disk, the snapshot died, clang crashed or timed out on this program) — the
 * caller runs plain clang; -errno when it could not run (diagnostic in d). Never leaves
 * a partial output: the object is written beside output and renamed over it. dep_file:
 * not served yet (2). Safe to call from several threads at once. r must be freed. */
int vms_clangsnap_build(struct vms_clangsnap *s, const char *source, const char *output,
			const char *dep_file, struct vms_build_result *r, struct vms_diags *d);

/* Whether a snapshot serves builds with this clang, flags, header, PCH and cwd (NULL
 * as in vms_clangsnap_opts): the same clang binary (path and file identity), the same
 * flags, the header unchanged on disk, and the snapshot alive. 1 or 0; *why (may be NULL)
 * gets a static reason for 0. */
int vms_clangsnap_matches(const struct vms_clangsnap *s, const char *clang,
			  const char *const *flags, const char *header, const char *pch,
			  const char *cwd, const char **why);

/* The pid of the snapshot's process (tests kill it), or -1 once it is gone. */
int vms_clangsnap_pid(const struct vms_clangsnap *s);

/* Stops the snapshot and every build it is running (no process is left behind), removes
 * the template; s is freed. NULL is a no-op. Not while builds are in flight. */
void vms_clangsnap_stop(struct vms_clangsnap *s);

/* The size of the blank main file: a longer program does not apply (2). */
#define VMS_CLANGSNAP_MAX_SOURCE (256u * 1024u - 1u)

#endif
