/* pch: precompiled headers that are never stale, and BPF builds through them.
 *
 * A PCH is only valid for the exact header bytes (and everything the header includes),
 * the exact flags and the exact compiler it was built with. Each PCH therefore has a
 * manifest beside it recording all of that plus the hash of the PCH itself; every use
 * re-checks the manifest against the world and rebuilds (atomically, under a lock) when
 * anything moved. Nothing here prints or exits: errors travel in struct vms_diags;
 * clang's own output is handed back verbatim (never duplicated into the diags), for the
 * caller to show as is or to parse with vms_clang_parse_diags(). */
#ifndef VMSLIM_PCH_H
#define VMSLIM_PCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

struct vms_sandbox; /* common/sandbox.h */

/* ---- compiler identity ------------------------------------------------------------ */

/* A clang binary, identified for cache keys by its resolved path and its `--version`
 * output. The version text is itself cached on disk (keyed by the binary's inode, size,
 * mtime and ctime) so that identifying clang costs a few stat calls, not an exec. */
struct vms_compiler {
	char *name;		/* as given: "clang", "clang-19", a path */
	char *path;		/* absolute, symlinks resolved */
	char *version;		/* `clang --version` output */
	struct vms_hash128 id;	/* hash of path and version */
	char id_hex[33];
};

/* "clang" unless $VMSLIM_CLANG is set; `name` wins over both when non-NULL. */
const char *vms_clang_default(const char *name);
/* Resolves and identifies a clang. cache_dir may be NULL (then `--version` is run every
 * time). 0 or -errno with a diagnostic. */
int vms_compiler_identify(const char *name, const char *cache_dir, struct vms_compiler *c,
			  struct vms_diags *d);
void vms_compiler_free(struct vms_compiler *c);


/* ---- PCH + manifest ----------------------------------------------------------------- */

/* What a caller may remember of a PCH it has seen hashed, to skip hashing it (14.7 MB,
 * ~4.4 ms) on its next build: the file's identity and times as fstat saw them while
 * its bytes were hashed, and that hash. A seal vouches for the bytes only when all of
 * dev, ino, size, mtime and ctime still match, its hash is the one the manifest records,
 * and it was taken at least VMS_PCH_SEAL_SETTLE_NS after the file's ctime: a write in
 * the same timestamp tick as the hash would keep every field (ccache's "too new" rule).
 * ctime cannot be set from user space, so bytes changed in place or a file swapped in
 * never match an old seal. valid: the seal may be handed back (it met the rule). */
struct vms_pch_seal {
	uint64_t dev, ino;
	int64_t size;
	int64_t mtime_ns, ctime_ns;
	struct vms_hash128 hash;
	int valid;
};
#define VMS_PCH_SEAL_SETTLE_NS (2LL * 1000000000LL)

struct vms_pch_opts {
	const char *header;		/* the header to precompile */
	const char *const *flags;	/* clang flags, NULL-terminated (may be NULL); output,
					 * dependency and input arguments are ignored */
	const char *clang;		/* NULL: vms_clang_default(NULL) */
	const char *out;		/* explicit PCH path (manifest: out + ".manifest");
					 * NULL: an entry in cache_dir keyed by header path,
					 * flags and compiler */
	const char *cache_dir;		/* NULL: vms_cache_dir_default() */
	int gmodules;			/* build with -gmodules (see vms_build for when that is safe) */
	int force;			/* rebuild even when fresh */
	const struct vms_pch_seal *seal_in; /* a seal from an earlier call (info->seal), or
					 * NULL: the PCH bytes are hashed unless it still holds */
	int no_crash_diagnostics;	/* -fno-crash-diagnostics on the PCH build too */
};

struct vms_pch_info {
	char *pch_path;			/* owned */
	char *manifest_path;		/* owned */
	char *header_path;		/* absolute path of the header the PCH was built from */
	char *reason;			/* why it was (re)built, or NULL when reused; owned */
	int rebuilt;			/* this call ran clang to build it */
	double check_ms, build_ms;	/* manifest check, PCH build (0 when reused) */
	char *clang_stderr;		/* clang's output when it built the PCH (also when that
					 * failed); owned, never NULL */
	struct vms_pch_seal seal;	/* of the PCH this call vouched for (hashed or reused);
					 * valid 0 when none, or taken too soon after its ctime */
	int hashed;			/* the PCH's bytes were hashed (the seal did not hold) */
	struct vms_argv inputs;		/* the header and every file it includes, as the
					 * manifest records them (a sandbox must let clang read
					 * them to use the PCH) */
};

/* Makes sure a fresh PCH for (header, flags, compiler) exists and returns where it is.
 * A missing, stale, mismatched, corrupted or truncated PCH or manifest is rebuilt;
 * concurrent callers serialize on a lock file beside the PCH, so N simultaneous calls on
 * an empty cache build it once. When this returns 0 the caller holds nothing: use
 * vms_build() to also pin the PCH against concurrent rebuilds while compiling.
 * 0, or -errno / -1 with diagnostics (clang's own messages in info->clang_stderr).
 * info is filled (and must be freed) whatever the result. */
int vms_pch_ensure(const struct vms_pch_opts *o, struct vms_pch_info *info, struct vms_diags *d);
void vms_pch_info_free(struct vms_pch_info *info);

/* Removes the temporaries that builders killed outright (SIGKILL) left in cache_dir, for
 * every PCH nobody is building right now. Returns how many PCH directories were swept. */
int vms_pch_sweep(const char *cache_dir);

/* Normalizes clang flags the way manifests and cache keys see them: output, dependency
 * and input arguments dropped, "-D X" joined to "-DX", "--target=bpf"/"-target bpf"
 * unified, relative -I/-include paths made absolute against cwd. Owned argv. */
void vms_flags_normalize(const char *const *flags, struct vms_argv *out);

/* ---- builds ------------------------------------------------------------------------ */

struct vms_build_result;

/* A dependency file to write the way clang writes it under -MD/-MMD. */
struct vms_dep_req {
	const char *file;		/* where */
	int system;			/* -MD: system headers listed too (-MMD: 0) */
	int phony;			/* -MP */
	const char *const *targets;	/* the rule's targets as clang writes them (-MT verbatim,
					 * -MQ and the default, the output, quoted for make);
					 * NULL-terminated */
};

/* One compile as vms_build() would hand clang: what a compile server (the daemon's clang
 * snapshots, serve/snap.c) needs to give the same object, messages and dependency file. */
struct vms_build_via_req {
	const char *clang;		/* resolved path */
	const char *const *flags;	/* every flag but -c, -o, the input and the dependency
					 * flags, NULL-terminated */
	const char *header;		/* the absolute path "vmlinux.h" resolves to */
	const char *source, *output;
	const struct vms_dep_req *deps;	/* NULL: none */
};

/* Asked before vms_build() runs clang for a plain or -g PCH compile (not with a sandbox,
 * the asm audit or -gmodules): compile returns what vms_build() would (0, 1 with clang's
 * answer in r), or 2 when it does not serve this one (r->mode may say why) and clang
 * runs as without it. */
struct vms_build_via {
	int (*compile)(void *ctx, const struct vms_build_via_req *q, struct vms_build_result *r,
		       struct vms_diags *d);
	void *ctx;
};

enum vms_gmodules_mode {
	VMS_GMODULES_AUTO = 0,	/* only where it is proven safe (see pch/build.c) */
	VMS_GMODULES_NEVER,
	VMS_GMODULES_ALWAYS,	/* for experiments: may crash clang with CO-RE */
};

struct vms_build_opts {
	const char *source;		/* BPF C file */
	const char *output;		/* object file to write */
	const char *header;		/* header the program's #include "vmlinux.h" resolves to;
					 * NULL: found the way clang would find "vmlinux.h" */
	const char *const *flags;	/* extra clang flags, NULL-terminated, may be NULL */
	const char *clang;		/* NULL: vms_clang_default(NULL) */
	const char *cache_dir;		/* NULL: vms_cache_dir_default() */
	enum vms_gmodules_mode gmodules;
	int no_pch;			/* plain clang build (reference) */
	int raw_flags;			/* don't add the defaults (-target bpf -g -O2
					 * -D__TARGET_ARCH_<host>): `vmslim cc` passes the
					 * user's exact command line */
	const char *dep_file;		/* -MF: write a dependency file listing the real header */
	const char *const *dep_flags;	/* other dependency flags (-MD, -MMD, -MP, -MT X, -MQ X)
					 * kept for clang; NULL-terminated, may be NULL */
	const struct vms_pch_seal *pch_seal_in; /* see vms_pch_opts.seal_in (the daemon
					 * carries r->pch_seal to the next build) */
	size_t pch_min_bytes;		/* headers smaller than this compile without a PCH:
					 * parsing them costs less than loading one (measured:
					 * 20-130 KB slim headers build 10-30% faster plain);
					 * 0: VMS_PCH_MIN_HEADER_BYTES, 1: always use a PCH */
	int require_pch;		/* `vmslim cc`: when the PCH path does not apply (no
					 * "vmlinux.h" include up front, header not found, PCH
					 * build failed), return 2 without compiling so the
					 * caller can exec clang unchanged */
	/* Untrusted sources (the daemon). Every clang run that reads the program (the
	 * compile, a -gmodules trial, the asm audit) runs inside sandbox
	 * (common/sandbox.h), whose read list is extended with the PCH, the header it was
	 * built from and the files that header includes, and the include shim; the PCH
	 * build, which reads only the trusted header, runs outside. Every clang run gets
	 * -fno-crash-diagnostics (no reproducer files). NULL: no sandbox. */
	const struct vms_sandbox *sandbox;
	/* Compile in two steps, the frontend to LLVM IR and the backend on that IR, and
	 * refuse (return 3, diagnostic in d) when the IR's inline assembly holds a
	 * directive that reads files or makes directives (.incbin, .include, .macro,
	 * .irp, .irpc, .altmacro). The object is byte-identical to a one-step build. */
	int audit_asm;
	/* A faster way to run the compile (struct vms_build_via), or NULL. The object, the
	 * messages and the dependency file are the ones clang gives either way. */
	const struct vms_build_via *via;
};

/* Below this size a header is parsed faster than its PCH is loaded: 20-130 KB slim
 * headers built 10-30% faster without one, a 483 KB header 15% faster with one. */
#define VMS_PCH_MIN_HEADER_BYTES (256u * 1024u)

struct vms_build_result {
	int used_pch;			/* compiled with -include-pch */
	int used_gmodules;
	int pch_rebuilt;
	char *mode;			/* one line: which path and why ("PCH (-g): CO-RE in play") */
	char *pch_path;			/* NULL without PCH */
	char *header_path;		/* the header that was used, NULL if none */
	char *clang_stderr;		/* clang's warnings/errors, verbatim; never NULL */
	int clang_exit;			/* clang's exit code (0 ok) */
	double pch_ms, compile_ms, total_ms;
	struct vms_pch_seal pch_seal;	/* of the PCH the object was compiled through (valid
					 * 0 without PCH): the caller's next pch_seal_in */
	int pch_hashed;			/* the PCH bytes were hashed in this build */
};

/* The flags vms_build() hands clang (before a program's preamble #defines): unless raw,
 * `--target=bpf -g -O2 -D__TARGET_ARCH_<host>` (the last unless the user defines one);
 * with a header, the -I that makes `#include "vmlinux.h"` resolve to it (its directory,
 * or for a header named otherwise a cache directory with a vmlinux.h symlink); then the
 * user's flags. `vmslim pch` uses this so that its PCH is the one `vmslim build
 * --header` will look for. 0 or -errno with a diagnostic. */
int vms_build_flags(const char *header, const char *const *user_flags, int raw,
		    const char *cache_dir, struct vms_argv *out, struct vms_diags *d);

/* Compiles source to output. 0 when clang succeeded; 1 when clang reported errors
 * (clang_exit, clang_stderr); 2 with require_pch when the
 * PCH path does not apply (r->mode says why, nothing was compiled); 3 with audit_asm
 * when the inline assembly was refused (a "refused: ..." error with file and line in d,
 * nothing written); -errno / -1 when it
 * could not run at all, or the PCH could not be built (diagnostic in d, clang's output
 * in clang_stderr). Never leaves a partial output behind. r must be freed in all cases. */
int vms_build(const struct vms_build_opts *o, struct vms_build_result *r, struct vms_diags *d);
void vms_build_result_free(struct vms_build_result *r);

/* ---- dependency files (make syntax, laid out as clang lays it out: pch/depfile.c) ---- */

/* The first rule's targets and dependencies as raw tokens (escapes kept). */
void vms_dep_rule(const char *text, size_t len, struct vms_argv *targets, struct vms_argv *deps);
/* A token's path ("a\ b" -> "a b", "$$" -> "$") and a path's token. Owned. */
char *vms_dep_unescape(const char *tok);
char *vms_dep_escape(const char *path);
/* "targets: deps" wrapped as clang wraps it; phony (-MP): "DEP:" rules for every
 * dependency but source, laid out as clang up to 18 (BLANK: a blank line before each) or
 * clang 19 (TIGHT) does; 0: none. Owned. */
enum { VMS_DEP_PHONY_BLANK = 1, VMS_DEP_PHONY_TIGHT = 2 };
char *vms_dep_format(const struct vms_argv *targets, const struct vms_argv *deps, int phony,
		     const char *source);

/* ---- the `cc` wrapper --------------------------------------------------------------- */

/* What vms_cc_plan() made of a clang command line. */
struct vms_cc_plan {
	int is_bpf_compile;		/* -target bpf, -c, one C source, -o: eligible */
	char *why_not;			/* when not eligible, the reason (owned) */
	char *source, *output;		/* owned */
	struct vms_argv flags;		/* everything but -c, -o, the source and -M* flags */
	struct vms_argv dep_flags;	/* -MD, -MMD, -MP, -MT X, -MQ X */
	char *dep_file;			/* -MF argument */
};

/* Splits a clang command line (argv without "clang" itself). Never fails: an argument
 * it does not understand makes the plan ineligible, and the caller execs clang as is. */
void vms_cc_plan(int argc, char *const *argv, struct vms_cc_plan *p);
void vms_cc_plan_free(struct vms_cc_plan *p);

/* ---- diagnostics from clang --------------------------------------------------------- */

/* Parses clang's "file:line:col: error: msg" lines into d (notes included). */
void vms_clang_parse_diags(const char *clang_stderr, struct vms_diags *d);

#endif
