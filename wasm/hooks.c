/* The WebAssembly build's side of what tccarena/hooks.c is natively: the functions TCC's
 * calls land in, and the vms_hooks_* calls tccarena/inprocess.c makes around a check.
 *
 * The differences come from where this runs: the files are the bundle's, in emscripten's
 * in-memory file system, so there is no disk to confine TCC from (whatever the bundle
 * holds is all TCC can open), no snapshot marker (the snapshot is a copy of linear memory,
 * see vmslim-check.js), and no staleness tracking.
 *
 * The heap: TCC's libtcc.c #undef's malloc/free/realloc before calling them (its tcc.h
 * poisons them for the other files), so a preprocessor rename cannot reach those calls.
 * Instead this file defines malloc & co. for the whole wasm module; emscripten's own
 * allocator is weak and stays reachable as emscripten_builtin_*. In arena mode (during a
 * check) blocks come from the arena (tccarena/arena.c, compiled as is), otherwise from
 * emscripten's allocator; a block is freed by whichever owns it.
 */
#include "tccarena/internal.h"

#include <emscripten.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasm/wasm.h"

void *emscripten_builtin_malloc(size_t n);
void emscripten_builtin_free(void *p);
void *emscripten_builtin_memalign(size_t align, size_t n);

/* ---- heap ---- */

static enum vms_heap_mode heap_mode;
static int in_arena_call; /* the arena's own mmap must not come back here */

void vms_hooks_set_heap(enum vms_heap_mode m)
{
	heap_mode = m;
}

void _tcc_error(const char *fmt, ...) __attribute__((noreturn));

/* The wall-clock limit: wasm cannot be interrupted from outside on the same thread, so
 * the allocator (which every phase of TCC calls often) looks at the clock now and then
 * and makes TCC give up with an error, which the check reports as a time-out. */
static double deadline_ms;
static int timed_out;
static unsigned tick;

void vms_wasm_set_deadline(double ms)
{
	deadline_ms = ms > 0 ? emscripten_get_now() + ms : 0;
	timed_out = 0;
	tick = 0;
}

int vms_wasm_timed_out(void)
{
	return timed_out;
}

static void check_clock(void)
{
	if (!deadline_ms || ++tick % 1024)
		return;
	if (emscripten_get_now() > deadline_ms) {
		timed_out = 1;
		deadline_ms = 0;
		_tcc_error("time limit of the fast checker reached");
	}
}

static void *refused(void *p)
{
	if (!p && vms_arena_cap_hit())
		_tcc_error("memory full (the fast checker's limit)");
	return p;
}

static int arena_mode(void)
{
	return heap_mode == VMS_HEAP_ARENA && !in_arena_call;
}

void *malloc(size_t n)
{
	if (!arena_mode())
		return emscripten_builtin_malloc(n);
	check_clock();
	in_arena_call = 1;
	void *p = vms_arena_alloc(n);
	in_arena_call = 0;
	return refused(p);
}

void free(void *p)
{
	if (!p)
		return;
	if (vms_arena_owns(p))
		vms_arena_free(p);
	else
		emscripten_builtin_free(p);
}

void *calloc(size_t n, size_t size)
{
	if (!arena_mode()) {
		if (size && n > (size_t)-1 / size)
			return NULL;
		void *p = emscripten_builtin_malloc(n * size);
		if (p)
			memset(p, 0, n * size);
		return p;
	}
	check_clock();
	in_arena_call = 1;
	void *p = vms_arena_calloc(n, size);
	in_arena_call = 0;
	return refused(p);
}

/* dlmalloc keeps no size we can read here, so a libc block is grown by copying the
 * bytes the new size covers; libc blocks are TCC's long-lived few (its setup). */
static size_t usable(void *p);

void *realloc(void *p, size_t n)
{
	if (p && vms_arena_owns(p)) {
		check_clock();
		in_arena_call = 1;
		void *q = vms_arena_realloc(p, n);
		in_arena_call = 0;
		return refused(q);
	}
	if (!p)
		return malloc(n);
	void *q = malloc(n);
	if (!q)
		return NULL;
	size_t old = usable(p);
	memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

size_t dlmalloc_usable_size(void *p);
size_t malloc_usable_size(void *p);
static size_t usable(void *p)
{
	return malloc_usable_size(p);
}

void *memalign(size_t align, size_t n)
{
	return emscripten_builtin_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p = emscripten_builtin_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
	return emscripten_builtin_memalign(align, n);
}

/* ---- files ---- */

static char *vmlinux_path;

/* The program's text: written into the in-memory file system under its name (its
 * directories made first: "tests/progs/x.bpf.c" is relative to the module's /). */
void vms_hooks_add_vfile(const char *path, const char *data, size_t len)
{
	char dir[4096];
	for (const char *s = strchr(path + 1, '/'); s && (size_t)(s - path) < sizeof(dir);
	     s = strchr(s + 1, '/')) {
		memcpy(dir, path, (size_t)(s - path));
		dir[s - path] = 0;
		mkdir(dir, 0755);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return; /* TCC then reports the file missing */
	fwrite(data, 1, len, f);
	fclose(f);
}

void vms_hooks_clear_vfiles(void)
{
}

void vms_hooks_set_vmlinux(const char *path)
{
	emscripten_builtin_free(vmlinux_path);
	vmlinux_path = NULL;
	if (path) {
		size_t n = strlen(path) + 1;
		vmlinux_path = emscripten_builtin_malloc(n);
		if (vmlinux_path)
			memcpy(vmlinux_path, path, n);
	}
}

/* the bundle's file system is the confinement */
void vms_hooks_set_confine(char **dirs, char **files)
{
	(void)dirs;
	(void)files;
}

void vms_hooks_cap_on_first_read(size_t cap)
{
	vms_arena_set_cap(cap);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Memory files (the snapshot's template and body): descriptors from MEMFD_BASE up,
 * read from linear memory. Their state must live in linear memory too, not in
 * emscripten's JS-side file table, so that restoring a snapshot's memory restores where
 * TCC was reading them. */
#define MEMFD_BASE 1000
#define MAX_MEMFDS 8
struct memfd {
	const char *data;
	size_t len, pos;
};
static struct memfd memfds[MAX_MEMFDS];
static char *marker_path;
static int (*marker_fn)(void *);
static void *marker_arg;

int vms_hooks_open_memory(const char *data, size_t len)
{
	for (int i = 0; i < MAX_MEMFDS; i++) {
		if (memfds[i].data)
			continue;
		memfds[i] = (struct memfd){ .data = data ? data : "", .len = len };
		return MEMFD_BASE + i;
	}
	errno = EMFILE;
	return -1;
}

static struct memfd *memfd_of(int fd)
{
	if (fd < MEMFD_BASE || fd >= MEMFD_BASE + MAX_MEMFDS || !memfds[fd - MEMFD_BASE].data)
		return NULL;
	return &memfds[fd - MEMFD_BASE];
}

static char *mem_path;
static const char *mem_data;
static size_t mem_len;

/* One memory file by path (the snapshot's template); NULL: none. */
void vms_wasm_set_memory_file(const char *path, const char *data, size_t len)
{
	emscripten_builtin_free(mem_path);
	mem_path = NULL;
	if (path) {
		size_t n = strlen(path) + 1;
		mem_path = emscripten_builtin_malloc(n);
		memcpy(mem_path, path, n);
	}
	mem_data = data;
	mem_len = len;
}

void vms_hooks_set_marker(const char *path, int (*fn)(void *), void *arg)
{
	marker_path = path ? (char *)path : NULL; /* the caller keeps it alive */
	marker_fn = fn;
	marker_arg = arg;
}

int vms_tcc_open(const char *path, int flags, ...)
{
	if ((flags & O_ACCMODE) != O_RDONLY) {
		errno = EACCES; /* a checker writes nothing */
		return -1;
	}
	if (marker_path && marker_fn && strcmp(path, marker_path) == 0)
		return marker_fn(marker_arg);
	if (mem_path && strcmp(path, mem_path) == 0)
		return vms_hooks_open_memory(mem_data, mem_len);
	if (vmlinux_path && strcmp(base_name(path), "vmlinux.h") == 0)
		path = vmlinux_path;
	return open(path, flags);
}

ssize_t vms_tcc_read(int fd, void *buf, size_t n)
{
	struct memfd *m = memfd_of(fd);
	if (!m)
		return read(fd, buf, n);
	size_t k = m->len - m->pos < n ? m->len - m->pos : n;
	memcpy(buf, m->data + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

int vms_tcc_close(int fd)
{
	struct memfd *m = memfd_of(fd);
	if (!m)
		return close(fd);
	*m = (struct memfd){ 0 };
	return 0;
}

/* ---- the end of a translation unit (libtcc.c's call, renamed by tcc-redirect.h) ---- */

void tccgen_finish(struct TCCState *s1);
void vms_tcc_gen_finish(struct TCCState *s1);
void (*vms_hooks_on_finish)(void);

void vms_tcc_gen_finish(struct TCCState *s1)
{
	if (vms_hooks_on_finish)
		vms_hooks_on_finish();
	tccgen_finish(s1);
}

/* inline assembly: asm_hooks.c (shared with the WebAssembly build) */

/* ---- exit ---- */

jmp_buf *vms_hooks_exit_jmp;

void vms_tcc_exit(int code)
{
	if (vms_hooks_exit_jmp)
		longjmp(*vms_hooks_exit_jmp, 1);
	_exit(code ? code : 1);
}

/* ---- common/proc.c's clock (the rest of proc.c runs processes, which wasm has not) ---- */

double vms_now_ms(void)
{
	return emscripten_get_now();
}
