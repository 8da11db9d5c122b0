/* tccarena: type-checks BPF C in about a millisecond with Debian's libtcc.
 *
 * Three layers, each usable on its own:
 *   - an arena that TCC's malloc/free/realloc/calloc are redirected to at build time
 *     (objcopy --redefine-sym on a copy of libtcc.a; no TCC source is vendored);
 *   - an in-process check: a fresh TCC state per check (for benchmarks: glibc malloc
 *     against the arena);
 *   - the snapshot checker ("zygote"): a helper process (the vmslim-tcc-helper program)
 *     parses the program's preamble (vmlinux.h, libbpf headers...) once, stops inside
 *     TCC where the program's own text begins, and forks once per request; the child
 *     checks only the program's body. A crash, hang or runaway allocation in a request
 *     kills only that child.
 *
 * What a check reports: TCC stops at the first error, so a result holds one error (the
 * snapshot path; in-process may add TCC's non-fatal errors before it), on the line
 * clang would name (a missing ';' is charged to the line that lacks it, the end of the
 * text to its last line), with clang's column where the token can be found. TCC's
 * warnings are dropped unless asked for, except an implicit function declaration, which
 * makes the verdict "unsupported" (clang 14 warns, clang 16+ rejects). The headers in headers/ (prelude, libbpf shims) make TCC read BPF C as
 * clang -target bpf does; see headers/vmslim-tcc-prelude.h.
 *
 * Nothing here prints or exits; results travel in struct vms_tcc_result. The functions
 * are not thread-safe (TCC itself keeps global state): use one thread, or a lock. The
 * snapshot checker starts processes and reaps them by pid; it never waits for others.
 * A snapshot process dies with the thread that started it (PR_SET_PDEATHSIG): check
 * from one long-lived thread, or expect a rebuild after the first thread exits.
 */
#ifndef VMSLIM_TCCARENA_H
#define VMSLIM_TCCARENA_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Name of the prelude in the headers directory (headers/ in the source tree). */
#define VMS_TCC_PRELUDE "vmslim-tcc-prelude.h"
/* Directory (under the headers directory) of the libbpf shims TCC needs. */
#define VMS_TCC_SHIMS "vmslim-tcc-shims"
/* The snapshot helper program (built and installed with vmslim). */
#define VMS_TCC_HELPER_NAME "vmslim-tcc-helper"
/* Debian's TCC runtime directory (its own include/ with stddef.h, stdarg.h...): the one
 * the build found (VMSLIM_TCC_LIB_DIR, under the multiarch library directory). */
#ifdef VMSLIM_TCC_LIB_DIR
#define VMS_TCC_DEFAULT_LIB_DIR VMSLIM_TCC_LIB_DIR
#else
#define VMS_TCC_DEFAULT_LIB_DIR "/usr/lib/x86_64-linux-gnu/tcc"
#endif

enum vms_tcc_status {
	VMS_TCC_OK = 0,		 /* no errors (diags may hold warnings) */
	VMS_TCC_ERRORS,		 /* errors in the program (or a header it includes): diags */
	VMS_TCC_UNSUPPORTED,	 /* uses something TCC cannot check (BPF inline asm, C23
				  * enum base type, size-dependent static assertion...):
				  * not an error in the program; ask clang. diags say what */
	VMS_TCC_CRASHED,	 /* TCC died on this input (signal); the snapshot survives */
	VMS_TCC_TIMEOUT,	 /* the per-request time limit passed */
	VMS_TCC_MEMORY,		 /* the per-request memory limit (arena cap) was reached */
	VMS_TCC_FAILED,		 /* could not run the check at all (fork, pipe...): diags */
};

/* "ok", "errors", "unsupported", "crashed", "timeout", "memory", "failed" */
const char *vms_tcc_status_name(enum vms_tcc_status s);

struct vms_tcc_opts {
	const char *headers_dir;	  /* vmslim's headers/ (prelude + shims); required */
	const char *tcc_lib_dir;	  /* NULL: VMS_TCC_DEFAULT_LIB_DIR */
	const char *const *include_dirs;  /* -I, NULL-terminated; may be NULL */
	const char *const *defines;	  /* "NAME", "NAME=VALUE" or "-NAME" (undefine it), applied
					   * in order; NULL-terminated; may be NULL */
	const char *vmlinux_header;	  /* if set, every #include of a file named vmlinux.h
					   * opens this file instead (full or slim header) */
	int warnings;			  /* report TCC's warnings in the program's own file too
					   * (default: only errors; TCC's warnings differ from
					   * clang's and libbpf silences some with _Pragma) */
	int confine;			  /* untrusted sources: TCC may open only files under
					   * include_dirs, the headers dir, the TCC lib dir, the
					   * system include directories (/usr/include,
					   * /usr/local/include and their multiarch directories) and
					   * the vmlinux_header */
	/* the OS layer under `confine` (snapshot checker only): the helper process enters
	 * a sandbox (common/sandbox.h) with these VMS_SANDBOX_* mechanisms right after its
	 * setup and before TCC reads anything, readable = the confinement lists, nothing
	 * writable; 0: none (only the open hooks confine). A helper that cannot enter it
	 * fails the check (VMS_TCC_FAILED), it never runs unconfined */
	unsigned sandbox_mech;
	const char *sandbox_root;	  /* an empty directory (VMS_SANDBOX_MOUNTNS needs it) */
	int time_limit_ms;		  /* per request; 0: 10000 */
	size_t mem_limit;		  /* arena bytes per request; 0: 1 GiB */
	int max_snapshots;		  /* snapshots kept (LRU); 0: 4 */
	const char *helper;		  /* the vmslim-tcc-helper program; NULL: $VMSLIM_TCC_HELPER,
					   * else beside the running program, else the build
					   * tree's, else the installed one */
};

/* One check. file_name is what diagnostics carry; its directory is where the program's
 * quoted includes ("vmlinux.h") are looked up (none: the current directory). */
struct vms_tcc_request {
	const char *source;
	size_t len;
	const char *file_name;		/* NULL: "<stdin>" */
	int time_limit_ms;		/* 0: the checker's */
	size_t mem_limit;		/* 0: the checker's */
	/* the request's own macros, as in vms_tcc_opts.defines, applied after the checker's
	 * (snapshot checker only): they become part of the snapshot's key, never of the
	 * source, so file names and lines stay the program's own */
	const char *const *defines;
};

struct vms_tcc_result {
	enum vms_tcc_status status;
	struct vms_diags diags;		/* file names are the request's file_name or headers */
	double ms;			/* wall time of this check as the caller saw it */
	double tcc_ms;			/* of which TCC worked on the program (snapshot child
					 * from wake-up to result; in-process: the whole check) */
	size_t arena_bytes;		/* arena bytes the check itself allocated */
	int snapshot_hit;		/* 1: an existing snapshot served the check */
};

void vms_tcc_result_free(struct vms_tcc_result *r);

/* ---- in-process checks ----------------------------------------------------------- */

enum vms_tcc_alloc {
	VMS_TCC_ALLOC_ARENA,	/* TCC's heap is the arena, reset after the check */
	VMS_TCC_ALLOC_LIBC,	/* TCC's heap is glibc malloc (what a plain libtcc does) */
};

/* Checks one program with a fresh TCC state in this process, the whole header included
 * (no snapshot): what a libtcc-based tool costs. Returns 0 with r filled (r->status says
 * what TCC found), or -errno when the check could not run (r->status VMS_TCC_FAILED,
 * diagnostic in r->diags). No time limit; the memory limit applies in arena mode.
 * A crash in TCC crashes the caller: use the snapshot checker for untrusted input. */
int vms_tcc_check_inprocess(const struct vms_tcc_opts *o, enum vms_tcc_alloc alloc,
			    const struct vms_tcc_request *req, struct vms_tcc_result *r);

/* ---- the snapshot checker -------------------------------------------------------- */

struct vms_tcc_checker;

/* Validates the options and returns a checker; no snapshot is built until the first
 * check (or vms_tcc_checker_prepare). 0 or -errno with a diagnostic in d. */
int vms_tcc_checker_new(const struct vms_tcc_opts *o, struct vms_tcc_checker **out,
			struct vms_diags *d);

/* Builds (or finds) the snapshot that would serve req — its preamble parsed — without
 * checking it; lets a caller pay the parse before the first keystroke. Returns 0, or
 * -errno when the helper process could not run (diagnostic in d). Errors *in* the
 * preamble (a missing header) are not failures: the next check reports them. */
int vms_tcc_checker_prepare(struct vms_tcc_checker *c, const struct vms_tcc_request *req,
			    struct vms_diags *d);

/* Checks one program. Snapshots are keyed by a hash of the program's preamble (its
 * leading #include/#define/#if lines and comments, as in clangd) and the directory of
 * file_name; a miss builds one, evicting the least recently used. A snapshot whose
 * headers changed on disk (size, mtime, inode) is rebuilt. Returns 0 with r filled,
 * or -errno when the check could not run (r->status VMS_TCC_FAILED). */
int vms_tcc_check(struct vms_tcc_checker *c, const struct vms_tcc_request *req,
		  struct vms_tcc_result *r);

struct vms_tcc_stats {
	uint64_t checks;		/* requests answered */
	uint64_t hits, misses;		/* snapshot found / built for a request */
	uint64_t rebuilds;		/* snapshots rebuilt because a header changed or died */
	uint64_t evictions;
	uint64_t crashed, timeouts, memory, unsupported;
	size_t snapshots;		/* live snapshot processes */
	double last_build_ms;		/* time to build the latest snapshot */
	size_t last_build_arena_bytes;	/* arena bytes the latest snapshot's parse used */
};

void vms_tcc_checker_stats(const struct vms_tcc_checker *c, struct vms_tcc_stats *s);

/* Stops the snapshot processes and frees the checker. NULL is fine. */
void vms_tcc_checker_free(struct vms_tcc_checker *c);

/* ---- the arena ------------------------------------------------------------------- */

struct vms_arena_stats {
	size_t in_use;		/* bytes handed out since the last reset (incl. alignment) */
	size_t peak;		/* largest in_use seen */
	size_t mapped;		/* bytes of chunks currently mapped */
	uint64_t allocs, frees, reallocs, reallocs_in_place;
	uint64_t resets;
	uint64_t cap_hits;	/* allocations refused by the cap */
};

/* The calling process's arena (the one in-process arena checks use). */
void vms_tcc_arena_stats(struct vms_arena_stats *s);

/* Where a program's preamble ends: the byte offset just past its leading run of
 * preprocessor directives, comments and blank lines, cut back to a point where every
 * #if is closed. Exposed for the daemon's cache keys and for tests. */
size_t vms_tcc_preamble_len(const char *source, size_t len);

#endif
