/* serve/ internals of the per-user (trusted) daemon, `serve --user`: its ops (trusted.c)
 * and the answer cache of `cc` (cc_cache.c). Not part of the library's API. */
#ifndef VMSLIM_SERVE_TRUSTED_H
#define VMSLIM_SERVE_TRUSTED_H

#include <stdint.h>

#include "serve/cc.h"
#include "serve/internal.h"

/* ---- cc_cache.c: ccache's direct mode --------------------------------------------- *
 * key1 = hash(compiler identity, vmslim's, the arguments, the cwd, the environment that
 * reaches clang, the source's bytes) names a manifest: every file the compile read (from
 * the dependency file clang wrote), each with its content hash and the stat fields seen
 * when it was hashed, and the key of the answer. The answer holds the exit status,
 * clang's output, the object and the dependency file. */

struct cc_file {
	char *path;			/* as the dependency file names it (cwd-relative) */
	uint64_t dev, ino;
	int64_t size, mtime_ns, ctime_ns;
	int64_t hashed_ns;		/* wall clock when it was hashed */
	struct vms_hash128 hash;
};

struct cc_manifest {
	size_t n;
	struct cc_file *v;
};
void cc_manifest_free(struct cc_manifest *m);
void cc_manifest_encode(const struct cc_manifest *m, struct vms_buf *b);
int cc_manifest_decode(const void *data, size_t len, struct cc_manifest *m); /* 0/-EINVAL */
/* Hashes every file now (cwd-relative paths against cwd). -1 when one cannot be read or
 * changed at or after t_start_ns (it may not be what the compile read: not cached). */
int cc_manifest_make(const struct vms_argv *paths, const char *cwd, int64_t t_start_ns,
		     struct cc_manifest *m);
/* 1 when every file still holds the bytes recorded: the stat fields match and the hash
 * was taken 2 s or more after the file last changed (ccache's "too new" rule), else its
 * bytes are hashed again and compared. */
int cc_manifest_holds(const struct cc_manifest *m, const char *cwd);
/* cc_manifest_holds, and a file hashed again that has settled since gets its new hash
 * and stat recorded in m: -1 a file changed, 0 holds, 1 holds and m should be stored
 * again (its answer key is the same). */
int cc_manifest_recheck(struct cc_manifest *m, const char *cwd);
/* The answer's key: key1 and every file's hash. */
struct vms_hash128 cc_answer_key(struct vms_hash128 key1, const struct cc_manifest *m);

struct cc_answer {
	int exit_code;
	char *out, *err, *mode;
	size_t out_len, err_len;
	void *obj;			/* NULL: none (a failed compile) */
	size_t obj_len;
	void *dep;			/* the program's own dependency file, NULL: none */
	size_t dep_len;
};
void cc_answer_free(struct cc_answer *a);
void cc_answer_encode(const struct cc_answer *a, struct vms_buf *b);
int cc_answer_decode(const void *data, size_t len, struct cc_answer *a); /* 0/-EINVAL */

/* Writes data to path (against cwd when relative) through a temporary file and a rename,
 * mode 0666 & ~umask. 0 or -errno. */
int cc_write_output(const char *cwd, const char *path, const void *data, size_t len,
		    unsigned umask_bits);
/* path against cwd when relative; owned. */
char *cc_path_at(const char *cwd, const char *path);
int64_t cc_wall_ns(void);

/* The daemon's memory between requests (one thread: the loop's). The compiler identity of
 * clang (vms_compiler_identify's id), remembered while the binary's stat holds: 0 or -1. */
int cc_compiler_id(const char *clang, const char *cache_dir, struct vms_hash128 *id);
/* A recent answer by its answer key (owned by the memo: valid until the next put), or
 * NULL; cc_memo_put takes *a over (zeroed, or freed when it is not kept). */
const struct cc_answer *cc_memo_get(struct vms_hash128 key);
void cc_memo_put(struct vms_hash128 key, struct cc_answer *a);
void cc_memo_clear(void);

/* ---- trusted.c: the daemon's side ------------------------------------------------ */

struct trusted;
/* With o->user_mode: the state of the trusted ops and the idle timer. 0 or -errno. */
int trusted_open(struct server *s);
void trusted_close(struct server *s);
/* 1 when op was one of the trusted ops and has been answered or started. In a playground
 * daemon they are refused (answered too, 1). */
int trusted_request(struct server *s, struct conn *c, struct json_object *req,
		    struct json_object *id, const char *op);
/* Compiles and remote lookups in flight (a clean shutdown waits for them). */
size_t trusted_running(const struct server *s);
/* A request came: the idle clock starts again. */
void trusted_touch(struct server *s);
void trusted_stats_json(struct server *s, struct json_object *o);

/* The warm slim context (slim/) for a header read with these flags from cwd, made on
 * first use and kept; NULL when it cannot be made. */
struct vms_slim_ctx *trusted_slim_ctx(struct server *s, const char *cwd, const char *header,
				      const char *const *flags);
/* A request on c has been answered: c may read its next one. */
void trusted_conn_done(struct server *s, struct conn *c);
/* The clang snapshots' hook for a worker's vms_build (serve/snap.c), or NULL. */
const struct vms_build_via *trusted_snap_via(struct server *s);

/* ---- trusted_files.c: `vmslim extract --from PROG` and `vmslim build` through the
 * daemon ------------------------------------------------------------------------------ */

struct tfiles_pool;
/* Answers an "extract_file" or "build_file" request (op), in a worker forked from the
 * daemon's warm state, so the loop never waits on libclang or clang. */
void tfiles_request(struct server *s, struct conn *c, struct json_object *req,
		    struct json_object *id, const char *op, struct tfiles_pool **pool);
size_t tfiles_running(const struct tfiles_pool *p); /* requests in flight */
/* "extract": {"requests", "warm"} and "build": {"requests", "slim_warm"} into o. */
void tfiles_stats_json(const struct tfiles_pool *p, struct json_object *o);
void tfiles_pool_free(struct tfiles_pool *p);

/* Members of a request (trusted_check.c): a string (NULL when absent or not one), an
 * int (0 when absent), an array of strings without NUL bytes appended to out (0; -1 when
 * it is something else or over 4096 long; absent: 0, nothing appended). */
const char *treq_str(struct json_object *req, const char *k);
int treq_int(struct json_object *req, const char *k);
int treq_strings(struct json_object *req, const char *k, struct vms_argv *out);

/* ---- trusted_check.c: `vmslim check FILE` through the daemon ---------------------- */

struct tcheck_pool;
/* Answers a "check_file" request (the pool of warm checkers made on first use). */
void tcheck_request(struct server *s, struct conn *c, struct json_object *req,
		    struct json_object *id, struct tcheck_pool **pool);
void tcheck_pool_free(struct tcheck_pool *p);

#endif
