/* tccarena internals shared by its files; not part of the API (tccarena.h is). */
#ifndef VMSLIM_TCCARENA_INTERNAL_H
#define VMSLIM_TCCARENA_INTERNAL_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>

#include "tccarena/tccarena.h"

/* ---- arena.c ---- */
void *vms_arena_alloc(size_t n);
void *vms_arena_calloc(size_t n, size_t size);
void *vms_arena_realloc(void *p, size_t n);
void vms_arena_free(void *p);
/* Forgets every allocation (O(1)); chunks stay mapped for the next check. */
void vms_arena_reset(void);
/* Refuse allocations once more than cap bytes were handed out after this call (0: no
 * cap). Clears the cap-hit flag. */
void vms_arena_set_cap(size_t cap);
int vms_arena_cap_hit(void);
/* Most bytes in use at once since the last vms_arena_set_cap / reset. */
size_t vms_arena_used_since_cap(void);
/* p lies in one of the arena's chunks */
int vms_arena_owns(const void *p);
/* Before the snapshot helper starts forking (see arena.c). */
void vms_arena_prepare_fork(void);

/* ---- hooks.c: what the renamed libtcc symbols call ---- */
enum vms_heap_mode { VMS_HEAP_LIBC = 0, VMS_HEAP_ARENA = 1 };
void vms_hooks_set_heap(enum vms_heap_mode m);

/* A file TCC reads from memory instead of disk, by exact path. */
void vms_hooks_add_vfile(const char *path, const char *data, size_t len);
void vms_hooks_clear_vfiles(void);
/* When TCC opens `path`, call fn instead; fn returns an fd (or -1 with errno) and may
 * also never return (the snapshot helper serving requests). */
void vms_hooks_set_marker(const char *path, int (*fn)(void *arg), void *arg);
/* Registers in-memory content as an already-open file: returns an fd TCC can read
 * (a reserved descriptor whose reads come from data). -1 with errno on failure. */
int vms_hooks_open_memory(const char *data, size_t len);

/* Arms the arena cap when TCC first reads a memory file: TCC's setup (tcc_new, the
 * preprocessor's tables) does not survive an allocation failure, its parsing does. */
void vms_hooks_cap_on_first_read(size_t cap);
/* #include of a file named vmlinux.h opens this path instead (NULL: off). */
void vms_hooks_set_vmlinux(const char *path);
/* Confinement: when set, TCC may open only files under these directories (each given
 * without a trailing slash) or these exact files. NULL-terminated; NULL turns it off. */
void vms_hooks_set_confine(char **dirs, char **files);

/* Record every real file TCC opens (for snapshot staleness checks). */
struct vms_tracked_file {
	char *path;
	struct stat st;
};
void vms_hooks_track(int on);
/* Moves the tracked list out (caller owns the entries and the array). */
void vms_hooks_take_tracked(struct vms_tracked_file **v, size_t *n);

/* preamble.c: the lines of s[0..len), a last line without its newline included. */
int vms_tcc_count_lines(const char *s, size_t len);

/* Inline assembly (asm_hooks.c): TCC assembles it as x86, so any error inside is
 * "unsupported". */
int vms_hooks_in_asm(void);
void vms_hooks_reset_asm(void);

/* Called when TCC has finished a translation unit, before its teardown. */
extern void (*vms_hooks_on_finish)(void);

/* TCC calls exit() only outside a compilation; library code must never exit, so the
 * hook jumps here when armed (and _exit()s otherwise). */
extern jmp_buf *vms_hooks_exit_jmp;

/* ---- a TCC state configured for checks (inprocess.c) ---- */
struct TCCState;
/* One captured message: TCC's text plus what we knew when it was reported. */
struct vms_raw_msg {
	char *text;
	int in_asm;
	int cap_hit;
};
struct vms_raw_msgs {
	struct vms_raw_msg *v;
	size_t n, cap;
	/* called after an error is captured (snapshot children: the first error ends
	 * the check); NULL: go on */
	void (*on_error)(struct vms_raw_msgs *m);
};
/* Appends a message; text is taken over (diag.c, with _free). */
void vms_raw_msgs_add(struct vms_raw_msgs *m, char *text, int in_asm, int cap_hit);
void vms_raw_msgs_free(struct vms_raw_msgs *m);
/* tcc_new + options, include dirs, defines, prelude; NULL on failure (diagnostic in d). */
struct TCCState *vms_tcc_new_state(const struct vms_tcc_opts *o, struct vms_raw_msgs *msgs,
				   struct vms_diags *d);
/* the prelude, shims and TCC lib dir paths derived from the options (owned) */
char *vms_tcc_prelude_path(const struct vms_tcc_opts *o);

/* ---- wire.c: the frames between the snapshot checker and its helper ---- */
enum vms_wire_type {
	VMS_WIRE_SETUP = 0,		/* caller: options, template and marker names, preamble */
	VMS_WIRE_READY = 1,		/* helper: preamble parsed; arena bytes, msgs, files */
	VMS_WIRE_PREAMBLE_FAIL,		/* helper: the marker was never reached; msgs */
	VMS_WIRE_CHECK,			/* caller: time limit, memory limit, the body */
	VMS_WIRE_RESULT,		/* child (or helper): outcome, signal, arena bytes, msgs */
	VMS_WIRE_SETUP_FAIL,		/* helper: could not confine itself; errno, reason */
};
/* How a request ended, as the RESULT frame says. */
enum vms_wire_outcome {
	VMS_WIRE_DONE = 0,		/* the child answered: its messages are the verdict */
	VMS_WIRE_SIGNAL,		/* the child died of a signal (sig) */
	VMS_WIRE_TIMEOUT,		/* the child's time limit (SIGALRM) */
	VMS_WIRE_NO_RESULT,		/* the child exited without answering (sig: its status) */
};
/* One received frame; data is NUL-terminated past len. */
struct vms_wire_frame {
	uint32_t type;
	char *data;
	size_t len;
};
/* Reads one frame; deadline (vms_now_ms() clock) < 0 waits forever. 0, -ETIMEDOUT,
 * -EPIPE at EOF, or -errno. */
int vms_wire_recv(int fd, double deadline, struct vms_wire_frame *f);
void vms_wire_frame_free(struct vms_wire_frame *f);
/* Every vms_wire_send_* returns 0 or -errno (-EMSGSIZE: too large for a frame), and
 * every vms_wire_get_* 0 or -EPROTO (wrong type, short or inconsistent payload). */
struct vms_wire_setup {
	struct vms_tcc_opts o;		/* the strings, include_dirs, defines and confine */
	char **cdirs, **cfiles;		/* the confinement lists */
	const char *tmpl_path, *body_path;
	const char *preamble;		/* decoded: points into the frame */
	size_t plen;
};
int vms_wire_send_setup(int fd, const struct vms_wire_setup *s);
/* The strings and vectors are allocated (the helper keeps them for its life). */
int vms_wire_get_setup(const struct vms_wire_frame *f, struct vms_wire_setup *s);
struct vms_wire_ready {
	uint64_t arena_bytes;		/* the preamble's parse */
	struct vms_raw_msgs msgs;	/* its messages (warnings...) */
	struct vms_tracked_file *files;	/* the files it read (owned) */
	size_t n_files;
};
int vms_wire_send_ready(int fd, uint64_t arena_bytes, const struct vms_raw_msgs *msgs,
			const struct vms_tracked_file *files, size_t n_files);
int vms_wire_get_ready(const struct vms_wire_frame *f, struct vms_wire_ready *out);
int vms_wire_send_preamble_fail(int fd, const struct vms_raw_msgs *msgs);
/* The helper refuses to go on (its sandbox could not be entered): err a positive errno. */
int vms_wire_send_setup_fail(int fd, int err, const char *why);
/* *why is owned. */
int vms_wire_get_setup_fail(const struct vms_wire_frame *f, int *err, char **why);
/* Appends the messages to msgs. */
int vms_wire_get_preamble_fail(const struct vms_wire_frame *f, struct vms_raw_msgs *msgs);
struct vms_wire_check {
	uint32_t time_ms;
	uint64_t mem_limit;
	const char *body;		/* points into the frame */
	size_t len;
};
int vms_wire_send_check(int fd, uint32_t time_ms, uint64_t mem_limit, const char *body,
			size_t len);
int vms_wire_get_check(const struct vms_wire_frame *f, struct vms_wire_check *out);
struct vms_wire_result {
	uint32_t outcome;		/* enum vms_wire_outcome */
	int32_t sig;
	uint64_t arena_bytes;		/* the request's own */
	double tcc_ms;			/* the child's time from wake-up to answer */
};
/* msgs may be NULL (none). */
int vms_wire_send_result(int fd, const struct vms_wire_result *res,
			 const struct vms_raw_msgs *msgs);
/* Appends the messages to msgs. */
int vms_wire_get_result(const struct vms_wire_frame *f, struct vms_wire_result *out,
			struct vms_raw_msgs *msgs);

/* ---- helper.c: the snapshot process ---- */
/* The helper program's whole life: serves the caller on `sock` (parent: the caller's
 * pid, checked against getppid). Returns only on a setup failure. */
int vms_tcc_helper_run(int sock, pid_t parent);

/* ---- diag.c ---- */
/* TCC's message is an error (or a warning clang treats as one). */
int vms_tcc_msg_is_error(const char *text);
/* File names TCC saw that stand for the request's file. */
struct vms_name_map {
	const char *from[3];
	const char *to;
	/* the snapshot's template: its lines past the preamble are the end of the program */
	const char *tmpl;
	int preamble_lines;
};
/* Turns raw messages into diagnostics and a status. src is the request's source (for
 * looking at the line an error points to); vmlinux is the substituted header or NULL. */
enum vms_tcc_status vms_tcc_classify(const struct vms_raw_msgs *m, const struct vms_name_map *map,
				     const char *src, size_t src_len, const char *vmlinux,
				     int warnings, struct vms_diags *out);
/* what the open hooks need to confine TCC (NULL-terminated arrays, owned) */
void vms_tcc_confine_lists(const struct vms_tcc_opts *o, char ***dirs, char ***files);
void vms_strv_free(char **v);

#endif
