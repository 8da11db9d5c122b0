/* serve/ internals shared between its files; not part of the library's API. */
#ifndef VMSLIM_SERVE_INTERNAL_H
#define VMSLIM_SERVE_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "serve/serve.h"

struct json_object;

/* ---- confine.c: include confinement and request flags --------------------------- */

struct confine;
/* dirs: the -I directories; sys: compiler built-in header directories (stddef.h...). */
struct confine *confine_new(const char *const *dirs, size_t n, const char *const *sys,
			    size_t nsys, const char *vmlinux);
void confine_free(struct confine *c);
/* 0: allowed; *norm is the source as backends get it (CRLF made LF, splices kept), owned;
 * the contents of every header it can reach are fed to deps (may be NULL).
 * -EPERM: refused, with the reasons in d (file = file, the lines of the directives). */
int confine_source(struct confine *c, const char *src, size_t len, const char *file,
		   struct vms_hasher *deps, char **norm, size_t *norm_len, struct vms_diags *d);
/* 1 when a request may pass this flag to the compilers. */
int confine_flag_ok(const char *flag);

/* ---- result.c: results as bytes (cache entries, worker pipes) and as JSON ------- */

void result_encode(const struct vms_result *r, struct vms_buf *out);
int result_decode(const void *data, size_t len, struct vms_result *r); /* 0 or -EINVAL */
/* {"status":..., "diagnostics":[...], "backend":..., "ms":...} members added to obj. */
void result_to_json(const struct vms_result *r, struct json_object *obj);
/* Replaces every byte sequence that is not valid UTF-8 by U+FFFD (JSON must be UTF-8). */
char *utf8_clean(const char *s, size_t len);
char *base64_encode(const void *data, size_t len);
const char *json_text(struct json_object *o); /* compact, no slash escaping */
struct json_object *json_num3(double v); /* a number printed with 3 decimals */

/* ---- backend.c: the checker and the compilers ----------------------------------- */

struct backend;
/* Identifies the compilers and prepares the checker (no snapshot yet). 0 or -errno. */
int backend_new(const struct vms_backend_opts *o, struct backend **out, struct vms_diags *d);
void backend_free(struct backend *b);
/* After a worker was killed outright: remove the PCH temporaries it may have left. */
void backend_sweep(struct backend *b);
/* Directories of compiler built-in headers requests may reach (stddef.h...). */
const char *const *backend_sys_dirs(const struct backend *b, size_t *n);
/* Everything outside the source that decides an answer: compiler identity, checker
 * version, vmslim's binary, the always-on flags. Fed into cache keys. */
void backend_identity(const struct backend *b, struct vms_hasher *h);
/* The header `#include "vmlinux.h"` resolves to under the -I directories, or NULL. */
const char *backend_vmlinux(const struct backend *b);
/* With --header: a private directory whose "vmlinux.h" is that header; else NULL. */
const char *backend_vmlinux_dir(const struct backend *b);
/* The private scratch directory compiles run in (a worker may write only there). */
const char *backend_scratch(const struct backend *b);

struct backend_req {
	const char *source;
	size_t len;
	const char *file;		/* diagnostics carry this name */
	const char *src_dir;		/* the source's directory for quoted includes; NULL:
					 * none (the daemon: requests have no directory) */
	const char *const *flags;	/* the request's own, already vetted */
	size_t nflags;
	int time_limit_ms;
	size_t mem_limit;
};

/* The fast checker (TCC snapshot); not thread-safe: one caller at a time. Returns the
 * status; UNSUPPORTED/CRASHED mean "ask clang" to a caller that wants an answer. */
void backend_check_fast(struct backend *b, const struct backend_req *q, struct vms_result *r);
/* clang -fsyntax-only. Safe in a forked worker. */
void backend_check_clang(struct backend *b, const struct backend_req *q, struct vms_result *r);
/* A BPF object through the PCH path. Safe in a forked worker. */
void backend_build(struct backend *b, const struct backend_req *q, struct vms_result *r);
/* The checker's counters as JSON members of obj (thread-safe snapshot of the last ones). */
void backend_stats_json(struct backend *b, struct json_object *obj);

/* ---- clangtier.c: libclang with a precompiled preamble ------------------------------ */

struct ctier;
/* header_dir: a directory holding the "vmlinux.h" to use (NULL: the usual search). */
struct ctier *ctier_new(const char *path, const char *src_dir, const char *const *inc,
			size_t ninc, const char *const *flags, size_t nflags,
			const char *header_dir);
void ctier_free(struct ctier *c);
int ctier_check(struct ctier *c, const char *text, size_t len, struct vms_diags *d);

/* ---- worker.c: one forked process per job, with limits -------------------------- */

struct limits {
	int cpu_s;			/* RLIMIT_CPU; 0: none */
	uint64_t mem_bytes;		/* RLIMIT_AS; 0: none (and none under ASan) */
	int wall_ms;			/* enforced by the parent (worker_kill) */
	const char *const *ro_paths;	/* sandbox: readable trees; NULL: no sandbox */
	const char *const *rw_paths;	/* sandbox: writable trees */
};

/* Forks a worker that runs fn(arg, &result) and writes the encoded result to a pipe.
 * *fd (non-blocking, close-on-exec) is the read end. 0 or -errno. */
int worker_spawn(void (*fn)(void *arg, struct vms_result *r), void *arg,
		 const struct limits *l, pid_t *pid, int *fd);
/* Kills the worker's whole process group (clang included). */
void worker_kill(pid_t pid);
/* Reaps the worker and turns what it wrote into a result. timed_out: we killed it. */
void worker_collect(pid_t pid, const void *data, size_t len, int timed_out,
		    struct vms_result *r);
/* 1 when Landlock is available to the workers. */
int sandbox_available(void);
int sandbox_apply(const char *const *ro, const char *const *rw); /* 0 or -errno */

/* ---- small helpers ---------------------------------------------------------------- */

/* Makes a name safe for a file in a private directory: basename, [A-Za-z0-9._-]. */
char *safe_file_name(const char *display);
/* Replaces every occurrence of `from` as a diagnostic's file by `to`. */
void diags_rename(struct vms_diags *d, const char *from, const char *to);
void diags_append(struct vms_diags *dst, const struct vms_diags *src);

#endif
