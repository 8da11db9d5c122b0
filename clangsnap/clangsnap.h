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
 * own directory exists there (clang would look there first), clang's messages do not show
 * the template's -include (a warning about the header given at the end of the unit).
 * Anything else is "does not apply" (2), and the caller runs plain clang. Nothing here
 * prints or exits.
 *
 * A snapshot for one program (opts.source) runs cc1 on the program's own path instead
 * (the shim gives it the blank template when it opens it) and maps the text without a
 * #line: the names clang fixes at its start (the compile unit's DWARF name, the main
 * file's directory, which quoted includes are searched in, so a program's own headers
 * are served) are the plain build's, and with the main file's DWARF 5 MD5 put right
 * (shim.c) the object is the plain one byte for byte. The daemon uses these.
 *
 * Dependency files: a snapshot started with deps (-MD or -MMD) has clang write one per
 * build (the template's -dependency-file, opened by the child, is the request's); the
 * template's own entries (its main file, the marker, the header where a plain build lists
 * it under another spelling) are replaced by what a plain build lists, and the rule gets
 * the request's targets, laid out as clang lays it out.
 *
 * Processes forked from the one that started a snapshot (the daemon's workers) may build
 * through it too, even when they closed every inherited descriptor: they connect to the
 * snapshot's socket in its template directory. */
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
	int deps;			/* VMS_CLANGSNAP_DEPS_* */
	const char *source;		/* serve this one program only (its path as the command
					 * line names it, against cwd): then the object is the
					 * plain build's byte for byte, DWARF included, and the
					 * program may include files from its own directory.
					 * NULL: any program, named by a #line, the objects equal
					 * but for DWARF's compile unit name and checksums */
};

enum {
	VMS_CLANGSNAP_DEPS_NONE = 0,	/* builds asking for a dependency file do not apply */
	VMS_CLANGSNAP_DEPS_MD,		/* dependency files as -MD writes them */
	VMS_CLANGSNAP_DEPS_MMD,		/* as -MMD writes them (no system headers) */
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
 * changed on disk, the snapshot died, clang crashed or timed out on this program, a
 * dependency file of another kind than the snapshot's) — the caller runs plain clang;
 * -errno when it could not run (diagnostic in d). Never leaves a partial output: the
 * object (and deps->file) is written beside its path and renamed over it, with the mode
 * clang gives (0666 less the current umask). deps: NULL, none. Safe to call from several
 * threads of the process that started s at once; in a process forked from it, from one
 * thread at a time. r must be freed. */
int vms_clangsnap_build(struct vms_clangsnap *s, const char *source, const char *output,
			const struct vms_dep_req *deps, struct vms_build_result *r,
			struct vms_diags *d);

/* Whether a snapshot serves builds with this clang, flags, header, PCH and cwd (NULL
 * as in vms_clangsnap_opts): the same clang binary (path and file identity), the same
 * flags, the header unchanged on disk, and the snapshot alive. 1 or 0; *why (may be NULL)
 * gets a static reason for 0. */
int vms_clangsnap_matches(const struct vms_clangsnap *s, const char *clang,
			  const char *const *flags, const char *header, const char *pch,
			  const char *cwd, const char **why);

/* The pid of the snapshot's process (tests kill it), or -1 once it is gone. */
int vms_clangsnap_pid(const struct vms_clangsnap *s);
/* 1 while the snapshot's process runs; 0 once it has ended (it is reaped then). Only in
 * the process that started s. */
int vms_clangsnap_alive(struct vms_clangsnap *s);

/* Stops the snapshot and every build it is running (no process is left behind), removes
 * the template; s is freed. NULL is a no-op. Not while builds are in flight; only in the
 * process that started s (a forked process's copy just goes away with it). */
void vms_clangsnap_stop(struct vms_clangsnap *s);

/* The size of the blank main file: a longer program does not apply (2). */
#define VMS_CLANGSNAP_MAX_SOURCE (256u * 1024u - 1u)

#endif
