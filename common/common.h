/* common: the small pieces every vmslim library shares — diagnostics that travel as
 * values, growable buffers, whole-or-nothing file writes, xxh3 hashing, a subprocess
 * runner and temporary directories. Nothing here prints or exits. */
#ifndef VMSLIM_COMMON_H
#define VMSLIM_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- diagnostics ---------------------------------------------------------------- */

enum vms_severity { VMS_NOTE, VMS_WARNING, VMS_ERROR };

struct vms_diag {
	char *file;		/* may be NULL */
	int line, col;		/* 0 when unknown */
	enum vms_severity sev;
	char *msg;
};

struct vms_diags {
	struct vms_diag *v;
	size_t n, cap;
};

void vms_diag_add(struct vms_diags *d, enum vms_severity sev, const char *file, int line,
		  int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void vms_diag_vadd(struct vms_diags *d, enum vms_severity sev, const char *file, int line,
		   int col, const char *fmt, va_list ap);
size_t vms_diags_count(const struct vms_diags *d, enum vms_severity sev);
/* gcc style: "file:line:col: error: msg" (parts that are unknown are left out). */
void vms_diags_print(FILE *out, const struct vms_diags *d);
/* What vms_diags_print writes, as a string (owned, never NULL). */
void vms_diags_to_text(const struct vms_diags *d, char **text, size_t *len);
void vms_diags_free(struct vms_diags *d);

/* ---- buffers -------------------------------------------------------------------- */

struct vms_buf {
	char *data;	/* always NUL-terminated when non-NULL */
	size_t len, cap;
};

void vms_buf_append(struct vms_buf *b, const void *data, size_t len);
void vms_buf_puts(struct vms_buf *b, const char *s);
void vms_buf_printf(struct vms_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *vms_buf_steal(struct vms_buf *b); /* returns data ("" if empty), resets b */
void vms_buf_free(struct vms_buf *b);

/* NULL-terminated argument vector of owned strings, for exec. */
struct vms_argv {
	char **v;
	size_t n, cap;
};

void vms_argv_push(struct vms_argv *a, const char *s);
void vms_argv_pushf(struct vms_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vms_argv_free(struct vms_argv *a);
/* 1 when both hold the same strings in the same order. */
int vms_argv_equal(const struct vms_argv *a, const struct vms_argv *b);

/* Allocation that cannot fail silently: aborts with a message on out-of-memory, the only
 * place where the library gives up, since nothing sensible can continue. */
void *vms_xmalloc(size_t n);
void *vms_xcalloc(size_t n, size_t size);
void *vms_xrealloc(void *p, size_t n);
char *vms_xstrdup(const char *s);
char *vms_xstrndup(const char *s, size_t n);
char *vms_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- files ---------------------------------------------------------------------- */

/* write() until all of data is out (retrying short writes and EINTR). 0 or -errno. */
int vms_write_all(int fd, const void *data, size_t len);
/* Reads a whole file; *data is NUL-terminated. Returns 0 or -errno. */
int vms_read_file(const char *path, char **data, size_t *len);
struct stat;
/* Opens path read-only (O_CLOEXEC) and fstats it into *st; a directory is refused with
 * -EISDIR, since read() and mmap() would fail on it with less telling errors. The fd, or
 * -errno. */
int vms_open_file(const char *path, struct stat *st);
/* Reads a whole file that another process may have planted something else in place of
 * (a shared cache): only a regular file is read, and never through a symlink or by
 * blocking on a FIFO or device (opened O_NONBLOCK | O_NOFOLLOW, checked before and after
 * the open). -ELOOP for a symlink, -EISDIR for a directory, -EINVAL for any other
 * non-regular file, -EFBIG if it is over max bytes; else as vms_read_file. */
int vms_read_regular_file(const char *path, size_t max, char **data, size_t *len);
/* The last step of a whole-or-nothing write into the temporary tmp: closes fd, renames tmp
 * over path unless err (the write's outcome so far) is set, removes tmp if anything failed.
 * Returns err, else the first -errno of these steps, else 0. */
int vms_tmp_commit(int fd, const char *tmp, const char *path, int err);
/* Writes to a temporary file in the same directory, fsyncs, renames over path.
 * On failure the previous file is untouched and no temporary is left. 0 or -errno. */
int vms_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
int vms_mkdir_p(const char *path, mode_t mode);
/* mkdtemp under $TMPDIR (or /tmp); returns an owned path or NULL (errno set). The
 * directory is on the cleanup list (below) until vms_remove_tree(path). */
char *vms_make_tempdir(const char *prefix);
int vms_remove_tree(const char *path);
/* The cache directory (owned): $XDG_CACHE_HOME/vmslim, else ~/.cache/vmslim ($HOME, else
 * the password database). Without a home, /tmp/vmslim-cache-UID, provided it is this
 * user's private directory: one another user made could hand us their PCHs. */
char *vms_cache_dir_default(void);
const char *vms_basename(const char *path);
char *vms_dirname(const char *path); /* owned */
char *vms_realpath(const char *path); /* owned, NULL on error */

/* ---- hashing (xxh3) ------------------------------------------------------------- */

struct vms_hash128 {
	uint64_t hi, lo;
};

uint64_t vms_hash64(const void *data, size_t len);
struct vms_hash128 vms_hash128(const void *data, size_t len);
/* 32 lowercase hex digits + NUL */
void vms_hash128_hex(struct vms_hash128 h, char out[33]);

/* Incremental 128-bit hashing (wraps XXH3_state_t without exposing xxhash.h). */
struct vms_hasher;
struct vms_hasher *vms_hasher_new(void);
void vms_hasher_update(struct vms_hasher *h, const void *data, size_t len);
void vms_hasher_update_str(struct vms_hasher *h, const char *s); /* includes the NUL */
struct vms_hash128 vms_hasher_digest(const struct vms_hasher *h);
void vms_hasher_free(struct vms_hasher *h);

/* ---- processes ------------------------------------------------------------------ */

struct vms_proc_result {
	int exit_code;		/* exit status, or 128+signal when killed by a signal */
	int signaled;		/* the signal number, 0 if it exited */
	int timed_out;		/* killed because timeout_ms passed */
	char *out, *err;	/* captured stdout/stderr, NUL-terminated, never NULL */
	size_t out_len, err_len;
};

/* Runs argv (argv[0] looked up in PATH), feeding stdin_data (may be NULL: /dev/null),
 * capturing stdout and stderr. timeout_ms <= 0 means none. Returns 0 when the process ran
 * (whatever its exit code), -errno when it could not be started. */
int vms_run(char *const argv[], const void *stdin_data, size_t stdin_len, int timeout_ms,
	    struct vms_proc_result *r);
void vms_proc_result_free(struct vms_proc_result *r);
/* The program as execvp would find it: a name with a '/' as it is (if executable), else
 * the first executable in $PATH. Owned, or NULL. */
char *vms_which(const char *program);
/* A file of vmslim's own (a helper, a shim) beside the running binary or in its prefix's
 * libexec/vmslim/, accessible with mode (access(2)). Owned, or NULL. */
char *vms_find_beside_exe(const char *name, int mode);

/* ---- cleanup at a fatal signal ---------------------------------------------------- */

/* What a process must not leave behind when Ctrl-C or SIGTERM stops it: temporary files
 * and directories (vms_make_tempdir adds its own) and children (vms_run's compilers, a
 * daemon bench started). vms_cleanup_on_signal() is async-signal-safe, for the program's
 * handler: it sends SIGTERM to the children, waits up to 3 s for them (a compiler removes
 * its own temporaries), then removes the paths. */
void vms_cleanup_add_path(const char *path);
void vms_cleanup_remove_path(const char *path);
void vms_cleanup_add_child(pid_t pid);
void vms_cleanup_remove_child(pid_t pid);
void vms_cleanup_on_signal(void);
/* Blocks the signals around creating something and listing it, so that no signal can
 * land between the two (per thread; not nested). */
void vms_cleanup_hold(void);
void vms_cleanup_release(void);

/* ---- BPF targets ---------------------------------------------------------------- */

/* "-D__TARGET_ARCH_<host>", which libbpf's PT_REGS_* macros need and every libbpf
 * Makefile passes; NULL on a host libbpf has no name for. */
const char *vms_bpf_host_arch_define(void);

/* ---- time ----------------------------------------------------------------------- */

double vms_now_ms(void); /* CLOCK_MONOTONIC in milliseconds */

#endif
